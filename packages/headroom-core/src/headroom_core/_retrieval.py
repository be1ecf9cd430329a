"""Query search inside originals: structure-following chunks, hybrid ranking, a token budget.

Lexical ranking is BM25 (``bm25s``, over ``_relevance.terms`` of each chunk's text and
context) plus bonuses for verbatim evidence. When an
embedding function is configured, the chunks also get dense vectors in Chroma, and the two
rankings are fused by reciprocal rank. Chunk indexes are built lazily, on the first query of
a ref, never when compressing; they are kept in a bounded in-process cache.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._chunking import chunk_original
from ._chunking_types import Chunk
from ._relevance import terms

__all__ = [
    "ChunkIndex",
    "Hit",
    "bm25_index",
    "bm25_scores_of",
    "evidence_bonus",
    "gate_overviews",
    "get_index",
    "header_line",
    "lexical_scores",
    "rank",
    "render_hits",
    "select",
]

#: Reciprocal-rank-fusion constant: the usual 60 keeps one list's top hit from dominating.
RRF_K = 60
#: Weight of the dense ranking in the fusion (lexical: 1.0), and how many lexical hits
#: stay first whatever the dense side says (see ``rank``).
DENSE_WEIGHT = 0.5
LEXICAL_FIRST = 3
#: Dense candidates fetched per query before fusion.
DENSE_CANDIDATES = 50
#: Below this many free tokens no further chunk or excerpt is worth adding.
_MIN_ROOM = 24
#: Room needed to excerpt a chunk that does not fit whole after others were picked.
_MIN_EXCERPT = 80
#: Ranked chunks looked at for an answer: beyond these the scores are noise, and
#: measuring each one costs a tokenizer call.
_MAX_CANDIDATES = 200
_QUOTED = re.compile(r"[`'\"]([^`'\"]{3,})[`'\"]")
_IDENT = re.compile(r"\b[0-9A-Za-z_]{6,}\b")
_SUPERLATIVE = re.compile(
    r"\b(most|least|largest|smallest|highest|lowest|biggest|fewest|how many|count)\b", re.I
)


@dataclass
class ChunkIndex:
    """The chunks of one original, their terms, and a BM25 index over them."""

    text: str
    chunks: list[Chunk]
    tokens: list[list[str]]
    bm25: Any
    starts: list[int]  # start offsets of the verbatim chunks, ascending
    verbatim: list[int]  # their chunk numbers
    #: per embedding model: "building", "ready" or "failed" (its chunk vectors in Chroma)
    dense: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def size(self) -> int:
        return len(self.text)

    @functools.cached_property
    def lower(self) -> str:
        """The original lowercased (same offsets for the ASCII identifiers matched in it)."""
        return self.text.lower()

    @classmethod
    def build(cls, text: str, kind: str) -> ChunkIndex:
        chunks = chunk_original(text, kind)
        tokens = [terms(f"{c.context}\n{c.text}") for c in chunks]
        located = sorted((c.start, i) for i, c in enumerate(chunks) if not c.derived)
        return cls(
            text,
            chunks,
            tokens,
            bm25_index(tokens),
            [s for s, _ in located],
            [i for _, i in located],
        )

    def chunk_at(self, offset: int) -> int | None:
        """The verbatim chunk holding character ``offset`` of the original, if any."""
        k = bisect.bisect_right(self.starts, offset) - 1
        if k < 0:
            return None
        i = self.verbatim[k]
        return i if offset < self.starts[k] + len(self.chunks[i].text) else None


def bm25_index(tokens: list[list[str]]) -> Any:
    """A ``bm25s`` index (k1=1.2, b=0.75, Lucene idf: the same BM25 as ``_relevance``)."""
    import bm25s

    index = bm25s.BM25(k1=1.2, b=0.75)
    if tokens:
        index.index(tokens, show_progress=False)
    return index


def bm25_scores_of(index: Any, count: int, query: str) -> list[float]:
    """BM25 of each of the ``count`` indexed chunks against ``query``."""
    qterms = terms(query)
    if not qterms or not count:
        return [0.0] * count
    return [float(x) for x in index.get_scores(qterms)]


class _IndexCache:
    """Recently used chunk indexes, bounded by the size of their originals.

    The one process-wide cache of retrieval: re-chunking a 1 MB original costs ~100x more
    than searching it, and agents ask several questions of the same ref in a row.
    """

    def __init__(self, max_chars: int = 32 * 1024 * 1024) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[tuple[str, str], ChunkIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._total = 0

    def get(self, key: tuple[str, str], build: Callable[[], ChunkIndex]) -> ChunkIndex:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        index = build()  # outside the lock: other refs stay searchable meanwhile
        with self._lock:
            if key not in self._items:
                self._items[key] = index
                self._total += index.size
            while self._total > self.max_chars and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._total -= old.size
            return self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0


_cache = _IndexCache()


def get_index(namespace: str, ref: str, text: str, kind: str) -> ChunkIndex:
    """The chunk index of an original, built on first use."""
    return _cache.get((namespace, ref), lambda: ChunkIndex.build(text, kind))


def lexical_scores(index: ChunkIndex, query: str) -> list[float]:
    """BM25 of every chunk of ``index``, plus ``evidence_bonus``, overviews gated."""
    scores = bm25_scores_of(index.bm25, len(index.chunks), query)
    bonus = evidence_bonus(index, query)
    return gate_overviews(index.chunks, [a + b for a, b in zip(scores, bonus, strict=True)], query)


def evidence_bonus(index: ChunkIndex, query: str) -> list[float]:
    """Score for exact evidence that BM25's terms cannot see, per chunk.

    - a quoted or backticked part of the query found verbatim (more if it is in the
      chunk's first line: the signature, heading or key that the chunk is about);
    - an identifier-like query word (6+ characters with a digit: a short SHA, an id) that
      is a prefix of a longer word in the chunk.

    Matches are found with one scan of the original, not one per chunk.
    """
    bonus = [0.0] * len(index.chunks)
    phrases = [p.strip() for p in _QUOTED.findall(query) if p.strip()]
    prefixes = {w.lower() for w in _IDENT.findall(query) if any(ch.isdigit() for ch in w)}
    for phrase in phrases:
        seen: set[int] = set()
        for at in _occurrences(index.text, phrase, whole=True):
            i = index.chunk_at(at)
            if i is None or i in seen:
                continue
            seen.add(i)
            chunk = index.chunks[i]
            newline = chunk.text.find("\n")
            first_line = newline < 0 or at < chunk.start + newline
            bonus[i] += 8.0 if first_line else 4.0
        in_context: dict[str, bool] = {}
        for i, chunk in enumerate(index.chunks):
            if chunk.context and i not in seen:
                hit = in_context.get(chunk.context)
                if hit is None:
                    hit = in_context[chunk.context] = any(
                        True for _ in _occurrences(chunk.context, phrase, whole=True)
                    )
                if hit:
                    bonus[i] += 4.0
    for word in prefixes:
        seen = set()
        for at in _occurrences(index.lower, word, whole=False):
            i = index.chunk_at(at)
            if i is not None and i not in seen:
                seen.add(i)
                bonus[i] += 6.0
    return bonus


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _occurrences(text: str, needle: str, *, whole: bool) -> Iterator[int]:
    """Offsets of ``needle`` in ``text`` that start a word; with ``whole`` also end one.

    Without ``whole`` the match must continue into a longer word (a prefix match). Plain
    ``str.find`` keeps a scan of a megabyte original to a millisecond or so.
    """
    n = len(needle)
    at = text.find(needle)
    while at != -1:
        before = at == 0 or not _is_word(text[at - 1]) or not _is_word(needle[0])
        after_ch = text[at + n] if at + n < len(text) else ""
        if whole:
            after = not after_ch or not _is_word(after_ch) or not _is_word(needle[-1])
        else:
            after = after_ch.isdigit() or ("a" <= after_ch <= "z")
        if before and after:
            yield at
        at = text.find(needle, at + 1)


def gate_overviews(chunks: Sequence[Chunk], scores: list[float], query: str) -> list[float]:
    """Derived overviews compete only for aggregate questions ("which has the most ...")."""
    wants_aggregate = bool(_SUPERLATIVE.search(query))
    for i, chunk in enumerate(chunks):
        if chunk.derived:
            scores[i] = scores[i] + 3.0 if wants_aggregate and scores[i] > 0 else 0.0
    return scores


def rank(lexical: Sequence[float], dense: Sequence[int] | None) -> list[int]:
    """Chunk numbers best first: BM25 order, fused with a dense order by reciprocal rank.

    The fusion is weighted towards the lexical side and keeps its first ``LEXICAL_FIRST``
    chunks in front: questions about exact facts (an id, a path:line, a quoted name) are
    answered by the lexical match, which similar-sounding dense neighbours must not push
    out of the budget; dense vectors add what the words miss (paraphrases, synonyms).
    """
    lex_order = sorted((i for i, s in enumerate(lexical) if s > 0), key=lambda i: -lexical[i])
    if not dense:
        return lex_order
    fused: dict[int, float] = {}
    for r, i in enumerate(lex_order):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
    for r, i in enumerate(dense):
        fused[i] = fused.get(i, 0.0) + DENSE_WEIGHT / (RRF_K + r + 1)
    first = lex_order[:LEXICAL_FIRST]
    rest = sorted((i for i in fused if i not in first), key=lambda i: (-fused[i], i))
    return [*first, *rest]


@dataclass(frozen=True)
class Hit:
    """A chunk picked for an answer (``text`` may be an excerpt of an oversized chunk)."""

    ref: str
    chunk: Chunk
    text: str
    tokens: int
    excerpt: bool = False

    def render(self, *, with_ref: bool = False) -> str:
        where = f"{self.ref} " if with_ref else ""
        pos = self.chunk.position + (" (excerpt)" if self.excerpt else "")
        ctx = f" | {self.chunk.context}" if self.chunk.context else ""
        return f"--- {where}{pos}{ctx} ---\n{self.text}"


def select(
    ranked: Sequence[tuple[str, Chunk]],
    query: str,
    *,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    multi_ref: bool = False,
) -> list[Hit]:
    """Best-first chunks whose rendering fits in ``max_tokens``; an oversized one is excerpted.

    ``max_tokens`` bounds the rendered chunks (headers included), so the answer with
    ``render_hits``'s header stays within the caller's budget.
    """
    picked: list[Hit] = []
    used = 0
    qterms = set(terms(query))
    for ref, chunk in ranked[:_MAX_CANDIDATES]:
        if max_tokens - used < _MIN_ROOM:
            break
        whole = Hit(ref, chunk, chunk.text, 0)
        cost = count_tokens(whole.render(with_ref=multi_ref)) + 1
        if used + cost <= max_tokens:
            picked.append(Hit(ref, chunk, chunk.text, cost))
            used += cost
            continue
        if picked and max_tokens - used < _MIN_EXCERPT:
            continue  # too little room to cut this one down; a smaller chunk may still fit
        head = count_tokens(Hit(ref, chunk, "", 0, True).render(with_ref=multi_ref)) + 2
        room = max_tokens - used - head
        if room >= _MIN_ROOM:
            text = excerpt(chunk.text, qterms, room, count_tokens)
            if text:
                hit = Hit(ref, chunk, text, 0, excerpt=True)
                tokens = count_tokens(hit.render(with_ref=multi_ref)) + 1
                if used + tokens <= max_tokens:
                    picked.append(Hit(ref, chunk, text, tokens, excerpt=True))
                    used += tokens
    return picked


def excerpt(text: str, qterms: set[str], budget: int, count_tokens: Callable[[str], int]) -> str:
    """The whole lines of ``text`` densest in query terms, within ``budget`` tokens.

    A single line too long for the budget is cut at whitespace around its first match.
    """
    lines = text.split("\n")
    hits = [sum(1 for t in terms(ln) if t in qterms) for ln in lines]
    best = max(range(len(lines)), key=lambda i: (hits[i], -i))
    lo = hi = best
    used = count_tokens(lines[best])
    if used > budget:
        return _cut_line(lines[best], qterms, budget, count_tokens)
    while True:
        grew = False
        for j in (hi + 1, lo - 1):
            if 0 <= j < len(lines) and (j > hi or j < lo):
                cost = count_tokens(lines[j]) + 1
                if used + cost <= budget:
                    used += cost
                    lo, hi = min(lo, j), max(hi, j)
                    grew = True
        if not grew:
            break
    return "\n".join(lines[lo : hi + 1])


def _cut_line(line: str, qterms: set[str], budget: int, count_tokens: Callable[[str], int]) -> str:
    low = line.lower()
    at = min((p for p in (low.find(t) for t in qterms) if p >= 0), default=0)
    width = budget * 3  # about three characters per token; trimmed below until it fits
    while width > 20:
        start = max(0, at - width // 3)
        end = min(len(line), start + width)
        if start > 0:
            start = line.find(" ", start, at + 1) + 1 or start
        if end < len(line):
            end = line.rfind(" ", at, end) if line.rfind(" ", at, end) > at else end
        piece = line[start:end]
        if count_tokens(piece) <= budget:
            return piece
        width = width * 3 // 4
    return ""


def header_line(picked: int, total: int, *, query: str, method: str, subject: str) -> str:
    """The first line of an answer: what came back, how it was ranked, what was left out."""
    return (
        f"[headroom: {picked} of {total} chunks of {subject} best matching {query!r}, "
        f"in original order ({method}); {total - picked} chunks left out: ask with another "
        f"query, or without one for the whole original]"
    )


def render_hits(
    hits: list[Hit],
    *,
    total: int,
    query: str,
    method: str,
    subject: str,
    matched: int = 0,
    max_tokens: int = 0,
    multi_ref: bool = False,
) -> str:
    """The answer: a header saying what came back and what was left out, then the chunks.

    ``matched`` counts the chunks that matched at all, to tell "nothing matches" apart
    from "nothing fits in ``max_tokens``".
    """
    if not hits and matched:
        return (
            f"[headroom: {matched} chunks of {subject} match {query!r} but none fits in "
            f"max_tokens={max_tokens}; ask again with a larger max_tokens]"
        )
    if not hits:
        return (
            f"[headroom: no chunk of {subject} matches {query!r} ({method}); call "
            f"headroom_retrieve with the ref only to get the whole original]"
        )
    ordered = sorted(hits, key=lambda h: (h.ref, h.chunk.start) if multi_ref else h.chunk.start)
    header = header_line(len(hits), total, query=query, method=method, subject=subject)
    return "\n".join([header, *(h.render(with_ref=multi_ref) for h in ordered)])
