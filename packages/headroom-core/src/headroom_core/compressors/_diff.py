"""Diff compressor: file headers and changed lines stay, context and data lines go first.

The output is still a unified diff wherever hunks are kept: a trimmed hunk is re-cut into
exact sub-hunks (``recut``: every shown line sits at the line number its header claims),
and each file's marker sits after its last hunk (a diff parser reads it as the next file's
preamble, never inside a hunk). A file's marker counts the original lines it lost, gives
the file's added and removed totals, and names its first hunk header when that header is
not kept verbatim, so "where does the change to X start" survives any trimming.

Lockfiles, minified files and files of long data lines (recorded responses) are always
summarised to their first lines. Over budget, lines go by tier, cheapest loss first, each
tier file by file (the smallest cut that covers the excess, else the largest file's):

1. data: the rest of fixture files (test data, recordings, snapshots), lines over
   ``_MINIFIED_LINE`` characters, and hunks that repeat an earlier file's exactly;
2. context more than ``CONTEXT`` lines from a change, then the rest of the context (and
   with it the section names of re-cut headers);
3. removed lines that nearly repeat an added line of the same change, then other removed
   lines;
4. changed lines last, under one per-file token cap lowered until the budget holds, so a
   large file cannot starve the small ones. A file keeps the first changed line of every
   hunk first (every hunk stays visible), then whole hunks, those matching the query first.

A file that is cut also sheds the header lines a reader rarely needs (``_marked_header``).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from .._relevance import bm25_scores, terms
from ._base import CompressContext, CompressorResult
from ._diff_parse import DiffFile, ParsedDiff, parse_diff, recut, similar_removed

#: Context lines kept on each side of a change before all context goes.
CONTEXT = 1
#: Lines of a summarised data or generated file that are kept (its first lines).
HEAD_LINES = 8
_GENERATED = re.compile(
    r"(?:^|/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|"
    r"poetry\.lock|uv\.lock|Pipfile\.lock|Cargo\.lock|Gemfile\.lock|composer\.lock|go\.sum|"
    r"flake\.lock|[^/]+\.min\.(?:js|css)|[^/]+\.(?:js|css)\.map|[^/]+_pb2(?:_grpc)?\.pyi?|"
    r"[^/]+\.pb\.go|[^/]+\.snap)$"
)
#: Folders that hold test data rather than code: fixtures, recorded HTTP exchanges, snapshots.
_DATA_DIR = re.compile(
    r"(?:^|/)(?:[^/]*fixtures?|test_?data|testdata|[^/]*snapshots?|__snapshots__|cassettes?|"
    r"[^/]*recordings?|[^/]*replay[^/]*|golden)/",
    re.IGNORECASE,
)
_GIT_SAME_PATH = re.compile(r"diff --git a/(.+) b/\1$")
_MINIFIED_LINE = 400  # characters: longer lines are data (minified code, inlined blobs)
_SUBHUNK_HEADER = 11  # tokens a sub-hunk header costs, about

# Tiers, dropped lowest first.
_DATA, _FAR_CONTEXT, _NEAR_CONTEXT, _SIMILAR_REMOVED, _REMOVED, _CHANGED = range(6)


_Sub = tuple[int, str, list[int]]  # a shown sub-hunk: hunk index, header line, body indexes


@dataclass
class _Plan:
    """One file's lines with their tiers and costs, and its state: the tiers left out and
    how many of its changed lines (best first) are kept, ``None`` for all."""

    file: DiffFile
    tiers: list[list[int]]
    costs: list[list[int]]
    changed: list[tuple[int, int]]  # changed-tier lines, best first
    summary: str | None  # "generated file" / "data file"
    floor: frozenset[int]  # tiers always left out
    after_header: bool = False  # follows a file shown as header lines only
    dropped: frozenset[int] = frozenset()
    cut: int | None = None
    keep: list[list[bool]] = field(default_factory=list)
    sizes: dict[tuple[frozenset[int], int | None], int] = field(default_factory=dict)
    views: dict[tuple[frozenset[int], int | None], list[_Sub]] = field(default_factory=dict)

    def set(self, dropped: frozenset[int], cut: int | None = None) -> None:
        self.dropped, self.cut = dropped | self.floor, cut
        self.keep = [[t not in self.dropped for t in ts] for ts in self.tiers]
        for n, k in self.changed[cut:] if cut is not None else ():
            self.keep[n][k] = False

    def tier_cost(self, tier: int) -> int:
        if tier in self.dropped:
            return 0
        return sum(
            c
            for ts, cs in zip(self.tiers, self.costs, strict=True)
            for t, c in zip(ts, cs, strict=True)
            if t == tier
        )

    def complete(self) -> bool:
        return all(all(ks) for ks in self.keep)

    def shown(self, count: Callable[[str], int]) -> list[_Sub]:
        """The sub-hunks shown in the current state (see ``_shown``)."""
        key = (self.dropped, self.cut)
        if key not in self.views:
            self.views[key] = _shown(self, count)
        return self.views[key]

    def size(self, count: Callable[[str], int], marker: int) -> int:
        """Estimated tokens of the file as rendered in its current state."""
        key = (self.dropped, self.cut)
        if key not in self.sizes:
            complete = self.complete()
            header = self.file.header if complete else _marked_header(self)
            total = sum(count(ln) for ln in [*header, *self.file.trailer])
            for n, header_line, run in self.shown(count):
                body = self.file.hunks[n].body
                total += count(header_line) + sum(count(body[k]) for k in run)
            self.sizes[key] = total + (0 if complete else marker)
        return self.sizes[key]


class DiffCompressor:
    kind: ClassVar[str] = "diff"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        trailing = text.endswith("\n")
        lines = (text[:-1] if trailing else text).split("\n")
        parsed = parse_diff(lines)
        if not parsed.files:
            return CompressorResult(text, ("diff: no file headers found",))
        cache: dict[str, int] = {}

        def count(line: str) -> int:
            n = cache.get(line)
            if n is None:
                n = cache[line] = ctx.count_tokens(line) + 1
            return n

        repeats = _repeated_files(parsed.files)
        seen: set[tuple[str, ...]] = set()
        plans = [_plan(f, count, ctx, seen) for f in parsed.files if id(f) not in repeats]
        by_id = {id(p.file): p for p in plans}
        for before, after in itertools.pairwise(parsed.files):
            if id(before) in by_id and id(after) in by_id:
                by_id[id(after)].after_header = not before.hunks and not before.trailer
        fixed = sum(count(ln) for ln in parsed.preamble)
        marker = count(ctx.marker(99, "lines", "+99 -99, first hunk @@ -999,9 +999,9 @@"))

        def attempt(target: int) -> tuple[str, int, tuple[str, ...]]:
            _fit(plans, target - fixed, count, marker)
            text = _render(parsed, repeats, plans, ctx, count, trailing)
            summarised = sum(p.summary is not None and not p.complete() for p in plans)
            dropped = sum(1 for p in plans for ks in p.keep if ks and not any(ks))
            notes = (
                f"diff: {len(parsed.files)} files, {summarised} summarised as generated or "
                f"data; {dropped} hunks dropped",
            )
            return text, ctx.count_tokens(text), notes

        # estimates add up lines one by one: search the target whose real size fits best
        target, low, high = ctx.budget, 0, 0
        best = fallback = attempt(target)
        for _ in range(4):
            tokens = fallback[1]
            if tokens <= ctx.budget:
                low = max(low, target)
                if best[1] > ctx.budget or tokens > best[1]:
                    best = fallback
                if tokens >= 0.97 * ctx.budget:
                    break
            else:
                high = min(high, target) if high else target
            guess = int(target * ctx.budget / max(tokens, 1))
            target = (low + high) // 2 if low and high else guess
            if target in (low, high) or all(p.complete() or p.dropped == p.floor for p in plans):
                break
            fallback = attempt(target)
            if fallback[1] < best[1] and best[1] > ctx.budget:
                best = fallback
        rendered, tokens, notes = best
        return CompressorResult(rendered, notes, tokens=tokens)


def _plan(
    f: DiffFile, count: Callable[[str], int], ctx: CompressContext, seen: set[tuple[str, ...]]
) -> _Plan:
    """Tier and cost every body line of ``f``. ``seen`` holds the hunks of earlier files:
    a hunk that repeats one exactly (the same edit made in many files) is data."""
    fixture = bool(_DATA_DIR.search(f.path))
    generated = _is_generated(f)  # summarised whatever the budget
    data = fixture or generated
    tiers: list[list[int]] = []
    head = HEAD_LINES
    for n, h in enumerate(f.hunks):
        key = tuple(h.lines)
        repeated = key in seen
        seen.add(key)
        similar = similar_removed(h)
        changed = [k for k, ln in enumerate(h.body) if ln[:1] in ("+", "-")]
        near = {k + d for k in changed for d in range(-CONTEXT, CONTEXT + 1)}
        row: list[int] = []
        short = [k for k in changed if len(h.body[k]) <= _MINIFIED_LINE]
        # the line that shows the hunk: its first added line, else its first removed one
        anchor = next((k for k in short if h.body[k][:1] == "+"), short[0] if short else None)
        for k, ln in enumerate(h.body):
            tag = ln[:1]
            if tag == "\\":
                tier = row[-1] if row else _CHANGED  # goes with the line before it
            elif (
                repeated
                or len(ln) > _MINIFIED_LINE
                or (data and k != anchor and not (n == 0 and k < head))
            ):
                tier = _DATA
            elif tag == "+" or k == anchor:
                tier = _CHANGED
            elif tag == "-":
                tier = _SIMILAR_REMOVED if k in similar else _REMOVED
            else:
                tier = _NEAR_CONTEXT if k in near else _FAR_CONTEXT
            row.append(tier)
        tiers.append(row)
    return _Plan(
        f,
        tiers,
        [[count(ln) for ln in h.body] for h in f.hunks],
        _changed_order(f, tiers, ctx.query),
        "data file" if fixture else "generated file" if generated else None,
        frozenset({_DATA}) if generated else frozenset(),
    )


def _changed_order(f: DiffFile, tiers: list[list[int]], query: str | None) -> list[tuple[int, int]]:
    """Tier-4 lines best first: each hunk's first, then whole hunks, query matches first."""
    scores = [0.0] * len(f.hunks)
    if query and len(f.hunks) > 1:
        docs = [
            Counter(terms("\n".join(ln for ln in h.body if ln[:1] in ("+", "-")))) for h in f.hunks
        ]
        scores = bm25_scores(docs, query)
    top = max(scores, default=0.0)
    firsts: list[tuple[int, int]] = []
    rest: list[tuple[int, int]] = []
    for n in sorted(range(len(f.hunks)), key=lambda n: (not top or scores[n] < 0.5 * top, n)):
        body = f.hunks[n].body
        ks = [k for k, t in enumerate(tiers[n]) if t == _CHANGED and body[k][:1] != "\\"]
        firsts += [(n, k) for k in ks[:1]]
        rest += [(n, k) for k in ks[1:]]
    firsts.sort()
    return firsts + rest


def _fit(plans: list[_Plan], budget: int, count: Callable[[str], int], marker: int) -> None:
    """Leave out tiers file by file until the estimated size is within ``budget``."""
    for p in plans:
        p.set(frozenset())
    sizes = [p.size(count, marker) for p in plans]
    total = sum(sizes)
    cuts: list[tuple[int, int]] = []
    for tier in (_DATA, _FAR_CONTEXT, _NEAR_CONTEXT, _SIMILAR_REMOVED, _REMOVED):
        # (gain, file) ascending: the smallest cut that covers the excess, else the
        # largest file's (big files lose first)
        left = sorted((g, j) for j, g in enumerate(p.tier_cost(tier) for p in plans) if g)
        while total > budget and left:
            at = bisect.bisect_left(left, (total - budget, -1))
            _, j = left.pop(at if at < len(left) else -1)
            before = plans[j].dropped
            plans[j].set(before | {tier})
            size = plans[j].size(count, marker)
            if size >= sizes[j]:  # the marker costs more than the lines it replaces
                plans[j].set(before)
                continue
            total += size - sizes[j]
            sizes[j] = size
            cuts.append((j, tier))
    if total > budget:
        _cap_changed(plans, budget, count, marker)
        return
    # a large cut made last can overshoot by far: undo the cuts that still fit, last first
    for j, tier in reversed(cuts):
        now = plans[j].dropped
        plans[j].set(now - {tier})
        size = plans[j].size(count, marker)
        if total + size - sizes[j] <= budget:
            total += size - sizes[j]
            sizes[j] = size
        else:
            plans[j].set(now)


def _cap_changed(plans: list[_Plan], budget: int, count: Callable[[str], int], marker: int) -> None:
    """Keep each file's best changed lines up to one shared token cap, the largest cap that
    fits: a file smaller than the cap keeps all of them."""
    base = [p.dropped for p in plans]
    sums = [list(itertools.accumulate(p.costs[n][k] for n, k in p.changed)) for p in plans]
    below = frozenset(range(_CHANGED))

    def state(j: int, cap: int) -> tuple[frozenset[int], int | None]:
        kept = bisect.bisect_right(sums[j], cap)
        if kept < len(sums[j]):
            # a file that loses changed lines is marked anyway: its context and removed
            # lines go before any more of them
            return below | plans[j].floor, kept
        return base[j], None

    def total(cap: int) -> int:
        out = 0
        for j, p in enumerate(plans):
            key = state(j, cap)
            if key not in p.sizes:
                p.set(*key)
                p.size(count, marker)
            out += p.sizes[key]
        return out

    lo, hi = 0, max((s[-1] for s in sums if s), default=0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if total(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    for j, p in enumerate(plans):
        p.set(*state(j, lo))


def _shown(p: _Plan, count: Callable[[str], int]) -> list[_Sub]:
    """The sub-hunks shown for the file: hunk index, header line, body indexes.

    The section of a re-cut header (the enclosing function git names after ``@@``) is
    context: it goes with the file's context, and sooner when the last shown header
    already named it.
    """
    out: list[_Sub] = []
    last = ""
    no_context = _NEAR_CONTEXT in p.dropped
    for n, (h, ks) in enumerate(zip(p.file.hunks, p.keep, strict=True)):
        for header, run in recut(h, _filled(h.body, ks, count)):
            if h.section and header != h.header and header.endswith(h.section):
                if no_context or h.section == last:
                    header = header[: -len(h.section)]
                last = h.section
            elif header == h.header and h.section:
                last = h.section
            out.append((n, header, run))
    return out


def _render(
    parsed: ParsedDiff,
    repeats: set[int],
    plans: list[_Plan],
    ctx: CompressContext,
    count: Callable[[str], int],
    trailing: bool,
) -> str:
    by_file = {id(p.file): p for p in plans}
    out = list(parsed.preamble)
    skipped: list[DiffFile] = []
    for f in parsed.files:
        if id(f) in repeats:
            skipped.append(f)
            continue
        if skipped:
            out.append(_repeat_marker(skipped, ctx))
            skipped = []
        out.extend(_render_file(by_file[id(f)], ctx, count))
    if skipped:
        out.append(_repeat_marker(skipped, ctx))
    return "\n".join(out) + ("\n" if trailing else "")


def _render_file(p: _Plan, ctx: CompressContext, count: Callable[[str], int]) -> list[str]:
    f = p.file
    out = list(f.header) if p.complete() else _marked_header(p)
    # every original line not shown counts, a re-cut hunk's own header line included
    omitted = len(f.header) - len(out) + sum(len(h.lines) for h in f.hunks)
    subs = p.shown(count)
    for n, header, run in subs:
        out.append(header)
        out.extend(f.hunks[n].body[k] for k in run)
        omitted -= len(run) + (header == f.hunks[n].header)
    out.extend(f.trailer)
    if not omitted:
        return out
    parts = [p.summary] if p.summary else []
    parts.append(f"+{sum(h.added for h in f.hunks)} -{sum(h.removed for h in f.hunks)}")
    if f.hunks and not (subs and subs[0][1] == f.hunks[0].header):
        parts.append(f"first hunk {f.hunks[0].header.split(' @@')[0]} @@")
    return [*out, ctx.marker(omitted, "lines", ", ".join(parts))]


def _filled(body: list[str], keep: list[bool], count: Callable[[str], int]) -> list[bool]:
    """``keep`` with short left-out context gaps between kept lines put back: a gap that
    costs less than the sub-hunk header it would need is cheaper shown."""
    kept = [k for k, flag in enumerate(keep) if flag]
    if len(kept) == len(keep):
        return keep
    out = list(keep)
    for a, b in itertools.pairwise(kept):
        gap = range(a + 1, b)
        if (
            gap
            and any(body[k][:1] in (" ", "") for k in gap)
            and sum(count(body[k]) for k in gap) <= _SUBHUNK_HEADER
        ):
            for k in gap:
                out[k] = True
    return out


def _marked_header(p: _Plan) -> list[str]:
    """The header of a file that is cut anyway, without what a reader rarely needs: the
    ``index`` line (blob ids), and for a plain change of one path the ``diff --git`` line,
    which only restates ``--- a/X`` and ``+++ b/X`` (those alone are a traditional file
    header that git, patch and unidiff all read, unless the file before is shown as
    header lines only). The marker counts the lines left out and the ref has them."""
    out = [ln for ln in p.file.header if not ln.startswith("index ")]
    same = _GIT_SAME_PATH.match(out[0]) if out and not p.after_header else None
    if same and out[1:] == [f"--- a/{same.group(1)}", f"+++ b/{same.group(1)}"]:
        return out[1:]
    return out


def _repeated_files(files: list[DiffFile]) -> set[int]:
    """Files whose hunks repeat an earlier file's exactly (a license header edited in 200
    files): after the first, each such file is only counted in a marker."""
    seen: set[tuple[str, ...]] = set()
    repeats: set[int] = set()
    for f in files:
        if not f.hunks or f.trailer:
            continue
        key = tuple(ln for h in f.hunks for ln in h.lines)
        if key in seen:
            repeats.add(id(f))
        seen.add(key)
    return repeats


def _repeat_marker(files: list[DiffFile], ctx: CompressContext) -> str:
    lines = sum(len(f.header) + sum(len(h.lines) for h in f.hunks) for f in files)
    names = " ".join(f.path for f in files[:4])
    more = f" and {len(files) - 4} more" if len(files) > 4 else ""
    detail = f"{len(files)} files with the same hunks as an earlier file: {names}{more}"
    return ctx.marker(lines, "lines", detail)


def _is_generated(f: DiffFile) -> bool:
    if _GENERATED.search(f.path):
        return True
    long_lines = sum(1 for h in f.hunks for ln in h.body if len(ln) > _MINIFIED_LINE)
    return long_lines >= 3
