"""Parse code search output into hits: grep / ripgrep text and JSON arrays of matches.

Text forms: ``path:line:text`` (a match), ``path-line-text`` (a ``-C`` context line), ``--``
between context groups, ``line:text`` (one file), and ripgrep's ``--heading`` form (a path
line, then ``line:text`` lines). JSON: an array of objects with a path and a line (the
names vary: ``path``/``file``/``filename``, ``line``/``line_number``/``lineno`` ...; a
column makes it ``path:line:column:text``, as ``rg --vimgrep`` prints), or an object wrapping
such an array (``{"items": [...]}``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_MATCH = re.compile(r"^(?P<path>[^\s:][^:\n]*?):(?P<line>\d+):")
_CONTEXT = re.compile(r"^(?P<path>[^\s:][^:\n]*?)-(?P<line>\d+)-")
_NUMBERED = re.compile(r"^(?P<line>\d+)(?P<sep>[:-])")
_SEPARATOR = re.compile(r"^--\s*$")
_HEADING = re.compile(r"^[^\s:#/][^:]*[/.\\][^:]*$")

_PATH_KEYS = ("path", "file", "filename", "file_path", "filepath", "name")
_LINE_KEYS = ("line", "line_number", "lineno", "line_num", "start_line", "lineNumber")
_COLUMN_KEYS = ("column", "col", "column_number", "start_column", "columnNumber")
_TEXT_KEYS = ("text", "line_text", "content", "match", "snippet", "fragment", "lines", "code")


@dataclass(frozen=True)
class Line:
    """One printed line split into its location prefix (``path:12:``, ``path-12-``, ``12:``)
    and the source text after it."""

    prefix: str
    text: str
    number: int

    @property
    def raw(self) -> str:
        return self.prefix + self.text


@dataclass
class Hit:
    """One match line of a search result, with the context lines grep printed around it.

    ``prefix`` is the match's location exactly as the tool printed it (for JSON input:
    ``path:line:``), so a kept match keeps it verbatim.
    """

    path: str
    line: int
    text: str
    prefix: str
    index: int
    before: list[Line] = field(default_factory=list)
    after: list[Line] = field(default_factory=list)
    heading: bool = False

    @property
    def raw(self) -> str:
        return self.prefix + self.text

    @property
    def context(self) -> list[Line]:
        return [*self.before, *self.after]


@dataclass
class ParsedSearch:
    """Hits in input order, plus lines that are neither matches nor context.

    ``json_constants`` are fields every JSON match has with the same value (shown once);
    ``json_fields_dropped`` are fields whose values vary and that a ``path:line:text``
    line cannot carry.
    """

    hits: list[Hit]
    other: list[str]
    json_fields_dropped: tuple[str, ...] = ()
    duplicates: int = 0
    from_json: bool = False
    json_constants: tuple[tuple[str, str], ...] = ()


def parse_search(text: str) -> ParsedSearch:
    """Hits of ``text``; JSON when it parses as a list of matches, grep text otherwise."""
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        parsed = _parse_json(text)
        if parsed is not None:
            return parsed
    return _parse_grep(text)


def _parse_grep(text: str) -> ParsedSearch:
    hits: list[Hit] = []
    other: list[str] = []
    seen: set[str] = set()
    duplicates = 0
    before: list[Line] = []  # context lines waiting for the match they precede
    heading: str | None = None
    after_match = False  # context lines now follow the last match (no separator since)
    for raw in text.splitlines():
        if not raw.strip() or _SEPARATOR.match(raw):
            if before and hits:
                hits[-1].after.extend(before)
            before = []
            after_match = False
            if not raw.strip():
                heading = None  # ripgrep separates --heading groups by a blank line
            continue
        located = _locate(raw, heading, hits[-1].path if hits else None)
        if located is None:
            if heading is None and _HEADING.match(raw):
                heading = raw.strip()
            else:
                other.append(raw)
            continue
        path, line, is_match, body = located
        printed = Line(raw[: len(raw) - len(body)], body, line)
        if not is_match:
            if after_match and path == hits[-1].path and not before and line > hits[-1].line:
                hits[-1].after.append(printed)
            else:
                before.append(printed)
            continue
        key = f"{path}\0{raw}"
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        hits.append(Hit(path, line, body, printed.prefix, len(hits), heading=heading is not None))
        hits[-1].before = before
        before = []
        after_match = True
    if before and hits:
        hits[-1].after.extend(before)
    for hit in hits:  # context printed after a separator may precede its match in line order
        early = [c for c in hit.after if c.number < hit.line]
        if early:
            hit.before = sorted([*hit.before, *early], key=lambda c: c.number)
            hit.after = [c for c in hit.after if c.number >= hit.line]
    return ParsedSearch(hits, other, duplicates=duplicates)


def _locate(
    raw: str, heading: str | None, last_path: str | None
) -> tuple[str, int, bool, str] | None:
    """(path, line, is a match, text after the prefix), or None for a line of neither kind."""
    if heading is not None:
        n = _NUMBERED.match(raw)
        if n:
            return heading, int(n["line"]), n["sep"] == ":", raw[n.end() :]
    if last_path and raw.startswith(last_path + "-"):
        n = _NUMBERED.match(raw, len(last_path) + 1)
        if n and n["sep"] == "-":
            return last_path, int(n["line"]), False, raw[n.end() :]
    m = _MATCH.match(raw)
    if m:
        return m["path"], int(m["line"]), True, raw[m.end() :]
    m = _CONTEXT.match(raw)
    if m:
        return m["path"], int(m["line"]), False, raw[m.end() :]
    n = _NUMBERED.match(raw)
    if n:
        return "", int(n["line"]), n["sep"] == ":", raw[n.end() :]
    return None


def _first_key(item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in item:
            return key
    return None


def _parse_json(text: str) -> ParsedSearch | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        arrays = [v for v in value.values() if isinstance(v, list) and v]
        if len(arrays) != 1:
            return None
        value = arrays[0]
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return None
    hits: list[Hit] = []
    extra: dict[str, set[str]] = {}
    seen: set[str] = set()
    duplicates = 0
    for item in value:
        path_key = _first_key(item, _PATH_KEYS)
        line_key = _first_key(item, _LINE_KEYS)
        if path_key is None:
            return None
        path = str(item[path_key])
        line_value = item.get(line_key) if line_key else None
        line = line_value if isinstance(line_value, int) else 0
        text_key = _first_key(item, _TEXT_KEYS)
        body = _text_of(item[text_key]) if text_key else ""
        column_key = _first_key(item, _COLUMN_KEYS) if line_key else None
        if column_key and not isinstance(item[column_key], int):
            column_key = None
        for key, field_value in item.items():
            if key not in (path_key, line_key, text_key, column_key):
                extra.setdefault(key, set()).add(json.dumps(field_value, sort_keys=True))
        prefix = f"{path}:{line}:" if line_key else f"{path}:"
        if column_key:  # ripgrep --vimgrep's path:line:column:text
            prefix += f"{item[column_key]}:"
        if prefix + body in seen:
            duplicates += 1
            continue
        seen.add(prefix + body)
        hits.append(Hit(path, line, body, prefix, len(hits)))
    constants: list[tuple[str, str]] = []
    dropped: list[str] = []
    for key, values in sorted(extra.items()):
        present_in_all = all(key in item for item in value)
        if present_in_all and len(values) == 1:
            only = json.loads(next(iter(values)))
            constants.append((key, only if isinstance(only, str) else next(iter(values))))
        else:
            dropped.append(key)
    return ParsedSearch(
        hits, [], tuple(dropped), duplicates, from_json=True, json_constants=tuple(constants)
    )


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value.rstrip("\n")
    if isinstance(value, dict):  # ripgrep-style {"text": ...}
        inner = value.get("text")
        if isinstance(inner, str):
            return inner.rstrip("\n")
    if isinstance(value, list):  # GitHub-style text_matches: fragments
        parts = [
            _text_of(v.get("fragment", v)) if isinstance(v, dict) else _text_of(v) for v in value
        ]
        return " | ".join(p for p in parts if p)
    return json.dumps(value, ensure_ascii=False)
