import React, { useState } from "react";

export interface SearchBoxProps {
  onSearch: (query: string) => void;
  placeholder?: string;
}

export function SearchBox({ onSearch, placeholder }: SearchBoxProps) {
  const [query, setQuery] = useState("");
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (!query.trim()) {
      return;
    }
    onSearch(query.trim());
  };
  return (
    <form onSubmit={submit}>
      <input value={query} placeholder={placeholder} onChange={(e) => setQuery(e.target.value)} />
      <button type="submit">Search</button>
    </form>
  );
}

export function ResultList({ items }: { items: string[] }) {
  if (items.length === 0) {
    return <p>No results</p>;
  }
  return (
    <ul>
      {items.map((item) => (
        <li key={item}>{item}</li>
      ))}
    </ul>
  );
}
