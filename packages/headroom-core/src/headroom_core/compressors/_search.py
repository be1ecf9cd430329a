"""Search compressor: code search hits grouped by file, ranked by the query, counted.

The output starts with a one-line tally of matches per file (so "which file has the most
matches" survives any cut), then the kept matches grouped by file, each line exactly as the
tool printed it (its ``path:line`` prefix verbatim) or, for low-ranked matches once half the
room is used, that prefix and the start of the text up to its first name, ending in ``…``;
then one marker for what was left out.
Definitions rank above references, and identifiers named in the query rank first.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from .._relevance import bm25_scores, terms
from ._base import CompressContext, CompressorResult
from ._search_parse import Hit, ParsedSearch, parse_search

_DEFINITION = re.compile(
    r"^\s*(?:export\s+|pub(?:\([\w:]+\))?\s+|public\s+|private\s+|protected\s+|static\s+|"
    r"async\s+|unsafe\s+|abstract\s+|final\s+|inline\s+|virtual\s+|override\s+|const\s+|"
    r"extern\s+|default\s+|declare\s+)*"
    r"(?:def|class|func|fn|function|struct|enum|trait|impl|interface|type|module|macro_rules!|"
    r"union|namespace|object|record|typedef|#\s*define)\b"
)
_COMMENT = re.compile(r"^\s*(?://|#(?!\s*define)|/\*|\*|--|;)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: The per-file tally may take at most this share of the budget; files past it are summed.
_TALLY_SHARE = 0.2
#: ... and at most this many tokens: past the top few dozen files a tally stops helping.
_TALLY_MAX = 400
#: Share of the budget to fill: token counts of joined lines differ slightly from the sum
#: of their parts, and the output must not overshoot.
_BUDGET_USE = 0.92
#: Each further kept match of one file counts this much less, so top files do not crowd
#: out every other file.
_SAME_FILE_DECAY = 0.35
#: Share of the room for whole match lines; past it, matches the query does not name are
#: shown trimmed (``path:line:`` verbatim, then the start of the text up to its first
#: name, then ``…``): about half the tokens, so about twice as many locations survive.
_FULL_SHARE = 0.5
#: A match scoring this much names an identifier of the query: always shown whole.
_NAMED_SCORE = 4.0
_TRIM_MARK = "…"
_TRIM_TO_NAME = re.compile(r"\s*(.{0,48}?[A-Za-z_][A-Za-z0-9_]*)\s*[(<\[{:]")
_TRIM_MAX = 32


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
    """grep / ripgrep text and JSON match arrays: tally, best matches per file, one marker."""

    kind: ClassVar[str] = "search"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        parsed = parse_search(text)
        if not parsed.hits:
            return CompressorResult(text, ("search: no path:line matches found; unchanged",))
        lossless = _render_all(parsed)
        if ctx.count_tokens(lossless) <= ctx.budget:
            if parsed.json_fields_dropped or not (parsed.duplicates or parsed.from_json):
                return CompressorResult(text, ("search: under budget; unchanged",))
            notes = ["search: under budget"]
            if parsed.duplicates:
                notes.append(f"{parsed.duplicates} duplicate lines removed")
            return CompressorResult(lossless, tuple(notes))
        return _select(parsed, ctx)


def _render_all(parsed: ParsedSearch) -> str:
    lines: list[str] = []
    for hit in parsed.hits:
        lines.extend(_hit_lines(hit, with_context=True))
    return "\n".join([*parsed.other, *lines])


def _hit_lines(hit: Hit, *, with_context: bool) -> list[str]:
    if not with_context or not hit.context:
        return [hit.raw]
    before = [c for c in hit.context if _context_line(c) < hit.line]
    after = [c for c in hit.context if _context_line(c) >= hit.line]
    return [*before, hit.raw, *after]


def _context_line(raw: str) -> int:
    m = re.search(r"(?:^|-)(\d+)-", raw)
    return int(m.group(1)) if m else 0


def _tally(counts: Counter[str], shown: Counter[str], ctx: CompressContext, cap: int) -> str:
    """``N matches in F files (shown/total): a.py 2/30, b.py 0/20, ...`` within ``cap`` tokens."""
    order = sorted(counts, key=lambda p: (-counts[p], p))
    total = sum(counts.values())
    head = f"{total} matches in {len(order)} files (shown/total):"
    parts: list[str] = []
    used = ctx.count_tokens(head)
    for path in order:
        part = f" {path or '(no path)'} {shown[path]}/{counts[path]}"
        cost = ctx.count_tokens(part) + 1
        if parts and used + cost > cap:
            rest = len(order) - len(parts)
            parts.append(f" +{rest} more files with {sum(counts[p] for p in order[len(parts) :])}")
            break
        parts.append(part)
        used += cost
    return head + ",".join(parts)


def _select(parsed: ParsedSearch, ctx: CompressContext) -> CompressorResult:
    hits = parsed.hits
    scores = score_hits(hits, ctx.query)
    counts: Counter[str] = Counter(h.path for h in hits)
    tally_cap = max(40, min(_TALLY_MAX, int(ctx.budget * _TALLY_SHARE)))
    marker_cost = ctx.count_tokens(ctx.marker(len(hits), "matches", "per-file counts above")) + 8
    tally_cost = ctx.count_tokens(_tally(counts, counts, ctx, tally_cap))
    room = int(ctx.budget * _BUDGET_USE) - tally_cost - marker_cost
    sel = _pick(hits, scores, room, ctx)
    picked = sel.picked
    shown: Counter[str] = Counter(hits[i].path for i in picked)
    body, context_kept = _render_picked(hits, sel, scores)
    omitted = len(hits) - len(picked)
    context_total = sum(len(h.context) for h in hits)
    detail = ["per-file counts above"]
    if sel.trimmed:
        detail.append(f"{len(sel.trimmed)} shown lines cut after their first name ({_TRIM_MARK})")
    if context_total - context_kept:
        detail.append(f"and {context_total - context_kept} context lines")
    if parsed.other:
        detail.append(f"and {len(parsed.other)} other lines")
    if parsed.duplicates:
        detail.append(f"{parsed.duplicates} duplicates removed")
    if parsed.json_fields_dropped:
        detail.append("fields " + " ".join(parsed.json_fields_dropped[:6]) + " not shown")
    out = [_tally(counts, shown, ctx, tally_cap), *body]
    out.append(ctx.marker(omitted, "matches", "; ".join(detail)))
    notes = (f"search: kept {len(picked)} of {len(hits)} matches in {len(shown)} files",)
    return CompressorResult("\n".join(out), notes)


@dataclass
class _Selection:
    """Matches to show; ``same`` lists, per shown line, the matches with identical text."""

    picked: list[int] = field(default_factory=list)
    same: dict[int, list[int]] = field(default_factory=dict)
    with_context: set[int] = field(default_factory=set)
    trimmed: dict[int, str] = field(default_factory=dict)


def _location(hit: Hit) -> str:
    return f"{hit.path}:{hit.line}"


def trimmed(hit: Hit) -> str | None:
    """``hit``'s line cut after its first name (``path:line:def find_caller…``), or None
    when that would not make it shorter."""
    if not hit.raw.endswith(hit.text):
        return None
    prefix = hit.raw[: len(hit.raw) - len(hit.text)]
    m = _TRIM_TO_NAME.match(hit.text)
    if m:
        head = m.group(1)
    else:
        head = hit.text.strip()[:_TRIM_MAX]
        if " " in head:
            head = head.rsplit(" ", 1)[0]
    head = head.strip()
    if len(head) + 8 >= len(hit.text.strip()):
        return None
    return f"{prefix}{head}{_TRIM_MARK}"


def _pick(hits: list[Hit], scores: list[float], room: int, ctx: CompressContext) -> _Selection:
    """The matches to keep: best first, fewer per file as a file gets more.

    A match that relates to the query brings its context lines when they fit; matches that
    do not relate to it go round-robin over files. A match whose text equals a kept one
    costs only its location.
    """
    per_file: Counter[str] = Counter()
    full_room = int(room * _FULL_SHARE)

    def key(i: int) -> tuple[int, float]:
        n = per_file[hits[i].path]
        if scores[i] > 0:
            return (0, -scores[i] / (1 + _SAME_FILE_DECAY * n))
        return (1, n - scores[i])

    heap = [(key(i), i, 0) for i in range(len(hits))]
    heapq.heapify(heap)
    sel = _Selection()
    first_with_text: dict[str, int] = {}
    used = 0
    while heap:
        _, i, seen = heapq.heappop(heap)
        if seen != per_file[hits[i].path]:  # its file gained a match since: re-rank it
            heapq.heappush(heap, (key(i), i, per_file[hits[i].path]))
            continue
        text = hits[i].text.strip()
        rep = first_with_text.get(text)
        short = None
        if rep is not None and not hits[i].context:
            cost = ctx.count_tokens(_location(hits[i])) + 1
        else:
            rep = None
            if used >= full_room and scores[i] < _NAMED_SCORE:
                short = trimmed(hits[i])
            cost = ctx.count_tokens(short or hits[i].raw) + 1
        if used + cost > room and sel.picked:
            if cost > room // 4:
                continue  # one huge line: smaller ones may still fit
            break
        sel.picked.append(i)
        per_file[hits[i].path] += 1
        used += cost
        if rep is not None:
            sel.same.setdefault(rep, []).append(i)
            continue
        if short is not None:
            sel.trimmed[i] = short
            continue
        first_with_text.setdefault(text, i)
        if scores[i] > 0 and hits[i].context:
            extra = sum(ctx.count_tokens(c) + 1 for c in hits[i].context)
            if used + extra <= room:
                sel.with_context.add(i)
                used += extra
    return sel


def _render_picked(hits: list[Hit], sel: _Selection, scores: list[float]) -> tuple[list[str], int]:
    """Kept matches grouped by file (best file first), in line order within a file.

    Matches with the same text as a shown one follow it as a list of locations.
    """
    folded = {j for dups in sel.same.values() for j in dups}
    with_context = sel.with_context
    by_file: dict[str, list[int]] = {}
    for i in sel.picked:
        if i not in folded:
            by_file.setdefault(hits[i].path, []).append(i)
    file_rank = sorted(
        by_file, key=lambda p: (-max(scores[i] for i in by_file[p]), min(by_file[p]))
    )
    lines: list[str] = []
    for path in file_rank:
        group = sorted(by_file[path], key=lambda i: (hits[i].line, i))
        if hits[group[0]].heading:
            lines.append(path)
        for i in group:
            if i in sel.trimmed:
                lines.append(sel.trimmed[i])
                continue
            lines.extend(_hit_lines(hits[i], with_context=i in with_context))
            if i in sel.same:
                where = ", ".join(_location(hits[j]) for j in sorted(sel.same[i]))
                lines.append(f"  same text at: {where}")
    kept_context = sum(len(hits[i].context) for i in with_context)
    return lines, kept_context
