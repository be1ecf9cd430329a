"""Query search inside one original: structure-aware chunks ranked by BM25.

Chunks follow structure so no line or JSON value is ever split: JSON arrays by item (objects
by key), everything else by blocks of whole lines (blank-line separated, capped in size).
Results come back in original order, each with its position, within a token budget.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from ._relevance import bm25_scores

_MAX_BLOCK_LINES = 12


@dataclass(frozen=True)
class Chunk:
    """A piece of an original and where it sits (``lines 10-14``, ``[3]``, ``.key``)."""

    position: str
    text: str
    start: int  # sort key: offset in the original


def chunk_original(text: str, kind: str) -> list[Chunk]:
    """Split an original into structure-following chunks."""
    if kind in ("json", "search") and text.lstrip()[:1] in "[{":
        chunks = _json_chunks(text)
        if chunks:
            return chunks
    return _line_chunks(text, kind)


def _json_chunks(text: str) -> list[Chunk]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return []
    items: list[tuple[str, object]]
    if isinstance(value, list):
        items = [(f"[{i}]", v) for i, v in enumerate(value)]
    elif isinstance(value, dict):
        items = [(f".{k}", v) for k, v in value.items()]
        # a response wrapping one big array ({"items": [...]}) is chunked by that array's items
        big = [(k, v) for k, v in value.items() if isinstance(v, list) and len(v) > 1]
        if len(big) == 1:
            key, arr = big[0]
            assert isinstance(arr, list)
            items = [(f".{k}", v) for k, v in value.items() if k != key]
            items += [(f".{key}[{i}]", v) for i, v in enumerate(arr)]
    else:
        return []
    return [
        Chunk(pos, json.dumps(v, ensure_ascii=False, indent=1), n)
        for n, (pos, v) in enumerate(items)
    ]


def _line_chunks(text: str, kind: str) -> list[Chunk]:
    lines = text.splitlines()
    chunks: list[Chunk] = []
    if kind in ("log", "search"):  # one line is one event / one match
        return [Chunk(f"line {i + 1}", ln, i) for i, ln in enumerate(lines) if ln.strip()]
    block: list[str] = []
    start = 0

    def flush() -> None:
        if block:
            first, last = start + 1, start + len(block)
            pos = f"line {first}" if first == last else f"lines {first}-{last}"
            chunks.append(Chunk(pos, "\n".join(block), start))
            block.clear()

    for i, ln in enumerate(lines):
        if not ln.strip():
            flush()
            continue
        if not block:
            start = i
        block.append(ln)
        if len(block) >= _MAX_BLOCK_LINES:
            flush()
    flush()
    return chunks


def rank_chunks(chunks: list[Chunk], query: str) -> list[tuple[float, Chunk]]:
    """BM25 (k1=1.2, b=0.75) of each chunk against the query, best first."""
    if not chunks:
        return []
    base = bm25_scores([c.text for c in chunks], query)
    scored: list[tuple[float, Chunk]] = []
    for chunk, score in zip(chunks, base, strict=True):
        # exact phrase bonus: the whole query, or quoted/backticked parts of it, verbatim
        for phrase in re.findall(r"[`'\"]([^`'\"]{3,})[`'\"]", query):
            if phrase in chunk.text:
                score += 5.0
        if score > 0:
            scored.append((score, chunk))
    scored.sort(key=lambda sc: (-sc[0], sc[1].start))
    return scored


def search_text(
    text: str,
    kind: str,
    query: str,
    *,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    ref: str,
) -> str:
    """The chunks of ``text`` most relevant to ``query``, in original order, within budget."""
    chunks = chunk_original(text, kind)
    ranked = rank_chunks(chunks, query)
    picked: list[Chunk] = []
    used = 0
    for _score, chunk in ranked:
        cost = count_tokens(chunk.text) + 6
        if used + cost > max_tokens:
            if cost > max_tokens and not picked:
                # one oversized chunk: give its head rather than nothing
                lines = chunk.text.splitlines()
                while lines and count_tokens("\n".join(lines)) + 6 > max_tokens:
                    lines = lines[: max(1, len(lines) * 3 // 4)] if len(lines) > 1 else []
                if lines:
                    picked.append(Chunk(chunk.position + " (head)", "\n".join(lines), chunk.start))
            continue
        picked.append(chunk)
        used += cost
    if not picked:
        return (
            f"[headroom: no part of {ref} matches {query!r}; "
            f"call headroom_retrieve with ref only for the whole original]"
        )
    picked.sort(key=lambda c: c.start)
    header = (
        f"[headroom: {len(picked)} of {len(chunks)} chunks of {ref} matching the query, "
        f"in original order; the rest is left out]"
    )
    body = "\n".join(f"--- {c.position} ---\n{c.text}" for c in picked)
    return f"{header}\n{body}"
