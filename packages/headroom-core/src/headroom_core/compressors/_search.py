"""Search compressor: every match once, compactly; past the budget, the best whole matches.

Lossless stage: each match is one ``path:line:text`` line (JSON match arrays re-rendered
that way, fields every match shares stated once), its location verbatim, the text without
its leading indentation (a ``-C`` block keeps its relative indentation), and matches with
identical text folded into one line plus ``same text at: path:line, ...``. When that fits
the budget it is the output.

Lossy stage: whole match lines are kept by value per token (definitions and matches naming
the query's words are worth more, each further match of one file a little less) and shown
in input order; a text is never cut. A first line tallies shown/total matches per file
(largest first) and one marker with the ref says what was left out.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from .._relevance import bm25_scores, terms
from ._base import CompressContext, CompressorResult
from ._search_parse import Hit, Line, ParsedSearch, parse_search

_DEFINITION = re.compile(
    r"^\s*(?:export\s+|pub(?:\([\w:]+\))?\s+|public\s+|private\s+|protected\s+|static\s+|"
    r"async\s+|unsafe\s+|abstract\s+|final\s+|inline\s+|virtual\s+|override\s+|const\s+|"
    r"extern\s+|default\s+|declare\s+)*"
    r"(?:def|class|func|fn|function|struct|enum|trait|impl|interface|type|module|macro_rules!|"
    r"union|namespace|object|record|typedef|#\s*define)\b"
)
_COMMENT = re.compile(r"^\s*(?://|#(?!\s*define)|/\*|\*|--|;)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDENT = re.compile(r"^[ \t]*")

#: The per-file tally may take at most this share of the budget; files past it are summed.
_TALLY_SHARE = 0.06
#: ... and at most this many tokens: past the top few dozen files a tally stops helping.
_TALLY_MAX = 200
#: The tally always names this many of the largest files (the file with most matches).
_TALLY_TOP = 3
#: Each further kept match of one file is worth this much less (value / (1 + decay * n)),
#: so the matches of one large file do not crowd out every other file.
_SAME_FILE_DECAY = 0.15
#: A match scoring above this relates to the query: its context lines are kept if they fit.
_CONTEXT_SCORE = 0.5
_SAME_TEXT = "  same text at: "
#: Selection rounds: after each, the room grows by what the exact count left unused ...
_FILL_ROUNDS = 3
#: ... unless that is less than this many tokens.
_FILL_SLACK = 8


def _query_identifiers(query: str) -> set[str]:
    """Identifiers the query names literally: code-like words (``snake_case``, ``camelCase``)."""
    out: set[str] = set()
    for word in _IDENTIFIER.findall(query):
        if len(word) >= 3 and ("_" in word or re.search(r"[a-z][A-Z]|[A-Z]{2}", word)):
            out.add(word)
    for quoted in re.findall(r"`([^`]+)`", query):
        out.update(w for w in _IDENTIFIER.findall(quoted) if len(w) >= 3)
    return out


def _with_singulars(query: str) -> str:
    """The query plus the singular of its plural words ("channels" also finds ``channel``)."""
    extra = [w[:-1] for w in re.findall(r"[A-Za-z]{4,}s\b", query) if not w.endswith("ss")]
    return f"{query} {' '.join(extra)}" if extra else query


def score_hits(hits: list[Hit], query: str | None) -> list[float]:
    """Relevance of each hit: BM25 on path and text, literal identifiers, definitions first."""
    q = _with_singulars(query or "")
    docs = [Counter(terms(f"{h.path} {h.text}")) for h in hits]
    base = bm25_scores(docs, q) if q.strip() else [0.0] * len(hits)
    idents = _query_identifiers(q)
    scores: list[float] = []
    for hit, score in zip(hits, base, strict=True):
        words = set(_IDENTIFIER.findall(hit.text))
        score += 4.0 * len(idents & words)
        if _DEFINITION.match(hit.text):
            score += 1.0
        elif _COMMENT.match(hit.text):
            score -= 0.5
        scores.append(score)
    return scores


class SearchCompressor:
    """grep / ripgrep text and JSON match arrays: compact lines, then the best whole matches."""

    kind: ClassVar[str] = "search"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        parsed = parse_search(text)
        if not parsed.hits:
            return CompressorResult(text, ("search: no path:line matches found; unchanged",))
        costs = _Costs(parsed.hits, ctx)
        if parsed.json_fields_dropped:
            if ctx.original_tokens <= ctx.budget:
                return CompressorResult(text, ("search: under budget; unchanged",))
        else:
            everything = _Selection(
                picked=list(range(len(parsed.hits))),
                with_context={i for i, h in enumerate(parsed.hits) if h.context},
            )
            lossless = "\n".join(_render(parsed, everything, costs, lossless=True))
            tokens = ctx.count_tokens(lossless)
            if tokens <= ctx.budget:
                notes = [f"search: all {len(parsed.hits)} matches, one compact line each"]
                if parsed.duplicates:
                    notes.append(f"{parsed.duplicates} duplicate lines removed")
                return CompressorResult(lossless, tuple(notes), tokens=tokens)
        return _select(text, parsed, ctx, costs)


@dataclass
class _Selection:
    """Matches to show (input indices) and which of them bring their context lines."""

    picked: list[int] = field(default_factory=list)
    with_context: set[int] = field(default_factory=set)


class _Costs:
    """Token counts of each match's compact line, location and context lines, counted once."""

    def __init__(self, hits: list[Hit], ctx: CompressContext) -> None:
        self._hits = hits
        self._count = ctx.count_tokens
        self._line: dict[int, int] = {}
        self._location: dict[int, int] = {}
        self._context: dict[int, int] = {}
        self.same_text = ctx.count_tokens(_SAME_TEXT)

    def line(self, i: int) -> int:
        """``path:line:text`` and its newline."""
        if i not in self._line:
            self._line[i] = self._count(_match_line(self._hits[i])) + 1
        return self._line[i]

    def location(self, i: int) -> int:
        """``path:line`` and its comma in a ``same text at`` list."""
        if i not in self._location:
            self._location[i] = self._count(_location(self._hits[i])) + 1
        return self._location[i]

    def context(self, i: int) -> int:
        if i not in self._context:
            self._context[i] = sum(self._count(c.raw) + 1 for c in self._hits[i].context)
        return self._context[i]


def _location(hit: Hit) -> str:
    return f"{hit.path}:{hit.line}" if hit.path else str(hit.line)


def _fold_key(hit: Hit) -> str:
    return hit.text.strip()


def _match_line(hit: Hit) -> str:
    """A match on its own: its location as printed, then its text without indentation."""
    return hit.prefix + hit.text.strip()


def _dedent(rows: list[Line]) -> list[str]:
    """Context blocks, dedented together by their common indentation."""
    indents = [_INDENT.match(r.text).group() for r in rows if r.text.strip()]  # type: ignore[union-attr]
    cut = len(_common_prefix(indents)) if indents else 0
    return [r.prefix + r.text[cut:].rstrip() for r in rows]


def _common_prefix(items: list[str]) -> str:
    first, last = min(items), max(items)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


def _folds(hits: list[Hit], sel: _Selection, costs: _Costs) -> dict[int, list[int]]:
    """Per shown match, the kept matches with the same text listed under it as locations.

    Matches shown with context stay blocks; a group folds only when that saves tokens
    (a ripgrep ``--heading`` line ``12:text`` can be shorter than ``path:12``).
    """
    groups: dict[str, list[int]] = {}
    for i in sorted(sel.picked):
        key = _fold_key(hits[i])
        if key:
            groups.setdefault(key, []).append(i)
    folds: dict[int, list[int]] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        first, rest = group[0], [j for j in group[1:] if j not in sel.with_context]
        saved = sum(costs.line(j) - costs.location(j) - 1 for j in rest)
        if rest and saved > costs.same_text:
            folds[first] = rest
    return folds


def _render(parsed: ParsedSearch, sel: _Selection, costs: _Costs, *, lossless: bool) -> list[str]:
    """Kept matches in input order: blocks, same-text locations, ripgrep headings."""
    hits = parsed.hits
    folds = _folds(hits, sel, costs)
    folded = {j for group in folds.values() for j in group}
    lines = [f"{key}: {value}" for key, value in parsed.json_constants]
    if lossless:
        lines.extend(parsed.other)
    heading: str | None = None
    run: list[Line] = []  # context blocks of one file printed back to back
    last = 0  # the match of the latest block in ``run``
    for i in sorted(sel.picked):
        if i in folded:
            continue
        hit = hits[i]
        rows = [*hit.before, Line(hit.prefix, hit.text, hit.line), *hit.after]
        joins = run and hit.path == hits[last].path and run[-1].number + 1 == rows[0].number
        if i not in sel.with_context or not joins:
            lines.extend(_dedent(run))
            run = []
        if hit.heading and hit.path != heading:
            lines.append(hit.path)
        heading = hit.path if hit.heading else None
        if i in sel.with_context:
            run.extend(rows)
            last = i
        else:
            lines.append(_match_line(hit))
        if i in folds:
            lines.extend(_dedent(run))
            run = []
            lines.append(_SAME_TEXT + ", ".join(_location(hits[j]) for j in folds[i]))
    lines.extend(_dedent(run))
    return lines


def _tally(counts: Counter[str], shown: Counter[str], ctx: CompressContext, cap: int) -> str:
    """``N matches in F files, S shown; shown/total by file: a.py 2/30, ...`` within ``cap``.

    Files come largest first; past the top three only files with matches left out are
    named (a fully shown file is already visible), and the rest are summed.
    """
    order = sorted(counts, key=lambda p: (-counts[p], p))
    total = sum(counts.values())
    head = (
        f"{total} matches in {len(order)} files, {sum(shown.values())} shown; shown/total by file:"
    )
    named = [p for n, p in enumerate(order) if n < _TALLY_TOP or shown[p] < counts[p]]
    parts: list[str] = []
    used = ctx.count_tokens(head)
    for path in named:
        part = f" {path or '(no path)'} {shown[path]}/{counts[path]}"
        cost = ctx.count_tokens(part) + 1
        if parts and used + cost > cap:
            break
        parts.append(part)
        used += cost
    listed = set(named[: len(parts)])
    rest = [p for p in order if p not in listed]
    if rest:
        parts.append(
            f" +{len(rest)} files {sum(shown[p] for p in rest)}/{sum(counts[p] for p in rest)}"
        )
    return head + ",".join(parts)


def _select(
    original: str, parsed: ParsedSearch, ctx: CompressContext, costs: _Costs
) -> CompressorResult:
    hits = parsed.hits
    counts: Counter[str] = Counter(h.path for h in hits)
    tally_cap = max(30, min(_TALLY_MAX, int(ctx.budget * _TALLY_SHARE)))
    with_tally = len(counts) > 1 and ctx.budget >= 4 * tally_cap
    fixed = ctx.count_tokens(ctx.marker(len(hits), "matches", "x" * 120)) + 2
    if with_tally:
        fixed += ctx.count_tokens(_tally(counts, Counter(), ctx, tally_cap)) + 1
    scores = score_hits(hits, ctx.query)
    picker = _Picker(hits, scores, costs)
    spare = ctx.budget - fixed
    for _ in range(_FILL_ROUNDS):  # estimates are close, not exact: grow the room to fill
        sel = picker.fill(spare)
        text = _output(parsed, sel, ctx, costs, tally_cap if with_tally else 0)
        tokens = ctx.count_tokens(text)
        spare = ctx.budget - tokens
        if spare < _FILL_SLACK or len(sel.picked) == len(hits):
            break
    while tokens > ctx.budget and len(sel.picked) > 1:
        _drop_last(sel, tokens - ctx.budget, costs)
        text = _output(parsed, sel, ctx, costs, tally_cap if with_tally else 0)
        tokens = ctx.count_tokens(text)
    if tokens >= ctx.original_tokens:  # a budget too small for even one match and the marker
        return CompressorResult(original, ("search: no smaller form fits; unchanged",))
    shown = len({hits[i].path for i in sel.picked})
    notes = (f"search: kept {len(sel.picked)} of {len(hits)} whole matches in {shown} files",)
    return CompressorResult(text, notes, tokens=tokens)


def _drop_last(sel: _Selection, over: int, costs: _Costs) -> None:
    """Unpick the latest picks (the least valuable) until about ``over`` tokens are freed."""
    freed = 0
    while freed < over and len(sel.picked) > 1:
        i = sel.picked.pop()
        freed += costs.line(i)
        if i in sel.with_context:
            sel.with_context.discard(i)
            freed += costs.context(i)


def _output(
    parsed: ParsedSearch,
    sel: _Selection,
    ctx: CompressContext,
    costs: _Costs,
    tally_cap: int,
) -> str:
    hits = parsed.hits
    out: list[str] = []
    tallied = bool(tally_cap) and len(sel.picked) < len(hits)
    if tallied:
        counts = Counter(h.path for h in hits)
        out.append(_tally(counts, Counter(hits[i].path for i in sel.picked), ctx, tally_cap))
    out.extend(_render(parsed, sel, costs, lossless=False))
    context_total = sum(len(h.context) for h in hits)
    context_kept = sum(len(hits[i].context) for i in sel.with_context)
    detail = ["shown/total per file in the first line"] if tallied else []
    if context_total - context_kept:
        detail.append(f"and {context_total - context_kept} context lines")
    if parsed.other:
        detail.append(f"and {len(parsed.other)} other lines")
    if parsed.duplicates:
        detail.append(f"{parsed.duplicates} duplicates removed")
    if parsed.json_fields_dropped:
        detail.append("fields " + " ".join(parsed.json_fields_dropped[:6]) + " not shown")
    out.append(ctx.marker(len(hits) - len(sel.picked), "matches", "; ".join(detail)))
    return "\n".join(out)


class _Picker:
    """Whole matches by value per token, most valuable first, into a room that may grow.

    A match's value is 1 plus its relevance, divided by ``1 + decay * k`` for the ``k``
    matches of its file already kept. A match whose text equals a kept one costs only its
    location (it joins that line's ``same text at:`` list). ``sel.picked`` is in pick
    order, so its tail is the least valuable.
    """

    def __init__(self, hits: list[Hit], scores: list[float], costs: _Costs) -> None:
        self.hits, self.scores, self.costs = hits, scores, costs
        self.values = [1.0 + max(s, -0.5) for s in scores]
        self.keys = [_fold_key(h) for h in hits]
        self.members: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            if key:
                self.members.setdefault(key, []).append(i)
        self.per_file: Counter[str] = Counter()
        self.per_text: Counter[str] = Counter()
        self.sel = _Selection()
        self.picked: set[int] = set()
        self.used = 0
        self.room = 0
        self.heap = [self._entry(i) for i in range(len(hits))]
        heapq.heapify(self.heap)
        self.skipped: list[tuple[float, int, tuple[int, int]]] = []

    def _cost(self, i: int) -> int:
        kept = self.per_text[self.keys[i]]
        if self.keys[i] and kept:
            return self.costs.location(i) + (self.costs.same_text + 1 if kept == 1 else 0)
        return self.costs.line(i)

    def _entry(self, i: int) -> tuple[float, int, tuple[int, int]]:
        stamp = (self.per_file[self.hits[i].path], self.per_text[self.keys[i]])
        value = self.values[i] / (1.0 + _SAME_FILE_DECAY * stamp[0])
        return (-value / self._cost(i), i, stamp)

    def fill(self, extra: int) -> _Selection:
        """Grow the room by ``extra`` tokens and pick what now fits."""
        self.room += extra
        for item in self.skipped:
            heapq.heappush(self.heap, item)
        self.skipped = []
        hits, heap = self.hits, self.heap
        while heap:
            item = heapq.heappop(heap)
            i, key = item[1], self.keys[item[1]]
            if i in self.picked:
                continue
            if item[2] != (self.per_file[hits[i].path], self.per_text[key]):
                heapq.heappush(heap, self._entry(i))  # its file or text changed: re-rank
                continue
            cost = self._cost(i)
            if self.used + cost > self.room and self.sel.picked:
                self.skipped.append(item)  # a cheaper match may still fit
                continue
            self._take(i, cost)
        return self.sel

    def _take(self, i: int, cost: int) -> None:
        key = self.keys[i]
        self.sel.picked.append(i)
        self.picked.add(i)
        self.used += cost
        self.per_file[self.hits[i].path] += 1
        if key:
            self.per_text[key] += 1
            if self.per_text[key] <= 2:  # its twins just got cheaper: rank them again
                for j in self.members[key]:
                    if j not in self.picked:
                        heapq.heappush(self.heap, self._entry(j))
        if self.per_text[key] <= 1 and self.scores[i] > _CONTEXT_SCORE and self.hits[i].context:
            extra = self.costs.context(i)
            if self.used + extra <= self.room:
                self.sel.with_context.add(i)
                self.used += extra
