"""Diff compressor: file headers and changed lines stay, context and whole hunks go.

The output is still a unified diff wherever hunks are kept: a trimmed hunk is re-cut into
sub-hunks whose headers count exactly the lines kept, and each file's marker sits after its
last hunk (a diff parser reads it as the next file's preamble, never inside a hunk). A file's
marker names its first hunk header when that header is not kept verbatim, so "where does the
change to X start" survives any trimming.

Steps, cheapest loss first, until ``ctx.budget`` is met:

1. lockfiles, minified and other generated files are summarised (header + counts);
2. long runs of unchanged context are cut to one line each side of a change;
3. over budget, hunks lose all context (changed lines only, still exact sub-hunks);
4. data hunks (mostly one very long line: fixtures, recorded responses) keep only their
   short lines;
5. then whole hunks are dropped, least relevant to the query first, largest first;
   afterwards dropped hunks that fit the budget again are put back, best first.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from .._relevance import bm25_scores, terms
from ._base import CompressContext, CompressorResult
from ._diff_parse import DiffFile, Hunk, parse_diff

#: Context lines kept on each side of a change when a hunk is trimmed.
CONTEXT = 1
#: A hunk is only trimmed when that removes at least this many lines (a cut costs a
#: marker's share and changes the header a reader may look for).
_MIN_TRIM = 4
_GENERATED = re.compile(
    r"(?:^|/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|"
    r"poetry\.lock|uv\.lock|Pipfile\.lock|Cargo\.lock|Gemfile\.lock|composer\.lock|go\.sum|"
    r"flake\.lock|[^/]+\.min\.(?:js|css)|[^/]+\.(?:js|css)\.map|[^/]+_pb2(?:_grpc)?\.pyi?|"
    r"[^/]+\.pb\.go|[^/]+\.snap)$"
)
_MINIFIED_LINE = 400  # characters: lines this long in several places mean minified output


@dataclass
class _Choice:
    """How one hunk is rendered: verbatim, trimmed (sub-hunks) or dropped."""

    hunk: Hunk
    trimmed: list[list[str]]  # sub-hunks, each a header line and its body
    mode: str = "full"  # full | trim | bare (changed lines only) | data (short lines) | drop

    def rendered(self) -> list[str]:
        if self.mode == "full":
            return self.hunk.lines
        if self.mode == "trim":
            return [ln for sub in self.trimmed for ln in sub]
        if self.mode == "bare":
            return [ln for sub in _trim(self.hunk, 0) for ln in sub]
        if self.mode == "data":
            return [ln for sub in _short_lines(self.hunk) for ln in sub]
        return []


class DiffCompressor:
    kind: ClassVar[str] = "diff"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        trailing = text.endswith("\n")
        lines = (text[:-1] if trailing else text).split("\n")
        parsed = parse_diff(lines)
        if not parsed.files:
            return CompressorResult(text, ("diff: no file headers found",))
        generated = [f for f in parsed.files if _is_generated(f)]
        choices = {
            id(f): [_Choice(h, _trim(h)) for h in f.hunks]
            for f in parsed.files
            if not _is_generated(f)
        }
        marker = ctx.count_tokens(ctx.marker(99, "lines", "context trimmed, +99 -99"))
        for file_choices in choices.values():
            trims = [
                c
                for c in file_choices
                if sum(len(s) for s in c.trimmed) <= len(c.hunk.lines) - _MIN_TRIM
            ]
            saved = sum(
                ctx.count_tokens("\n".join(c.hunk.lines))
                - ctx.count_tokens("\n".join(ln for sub in c.trimmed for ln in sub))
                for c in trims
            )
            if saved > marker:  # trimming a file costs its marker
                for c in trims:
                    c.mode = "trim"
        repeats = _repeated_files(parsed.files)
        _drop_to_budget([f for f in parsed.files if id(f) not in repeats], choices, ctx)
        out = list(parsed.preamble)
        skipped: list[DiffFile] = []
        for f in parsed.files:
            if id(f) in repeats:
                skipped.append(f)
                continue
            if skipped:
                out.append(_repeat_marker(skipped, ctx))
                skipped = []
            out.extend(_render_file(f, choices.get(id(f)), ctx))
        if skipped:
            out.append(_repeat_marker(skipped, ctx))
        notes = (
            f"diff: {len(parsed.files)} files, {len(generated)} summarised as generated; "
            f"{sum(c.mode == 'drop' for fc in choices.values() for c in fc)} hunks dropped",
        )
        return CompressorResult("\n".join(out) + ("\n" if trailing else ""), notes)


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


def _is_data(hunk: Hunk) -> bool:
    """A hunk that is mostly one very long line (a fixture, an inlined blob): data, not code."""
    longest = max((len(ln) for ln in hunk.body), default=0)
    return longest > _MINIFIED_LINE and 2 * longest >= sum(len(ln) + 1 for ln in hunk.body)


def _short_lines(hunk: Hunk) -> list[list[str]]:
    """The hunk re-cut into exact sub-hunks around its very long lines, which are left out."""
    subs: list[list[str]] = []
    part: list[str] = []
    old_no, new_no = hunk.old_start, hunk.new_start
    part_old = part_new = 0

    def close() -> None:
        if any(ln[:1] in "+-" for ln in part):
            old_count = sum(1 for ln in part if ln[:1] in (" ", "", "-"))
            new_count = sum(1 for ln in part if ln[:1] in (" ", "", "+"))
            old_at = part_old if old_count else max(part_old - 1, 0)
            new_at = part_new if new_count else max(part_new - 1, 0)
            section = hunk.section if not subs else ""
            subs.append([f"@@ -{old_at},{old_count} +{new_at},{new_count} @@{section}", *part])

    after_long = False
    for ln in hunk.body:
        tag = ln[:1]
        if len(ln) > _MINIFIED_LINE or (tag == "\\" and after_long):
            close()
            part = []
            after_long = tag != "\\"
        else:
            after_long = False
            if not part:
                part_old, part_new = old_no, new_no
            part.append(ln)
        if tag in (" ", ""):
            old_no += 1
            new_no += 1
        elif tag == "-":
            old_no += 1
        elif tag == "+":
            new_no += 1
    close()
    return subs


def _trim(hunk: Hunk, context: int = CONTEXT) -> list[list[str]]:
    """The hunk re-cut around its changes with ``context`` lines of context each side."""
    body = hunk.body
    changed = [k for k, ln in enumerate(body) if ln[:1] in "+-"]
    if not changed:
        return []
    groups: list[list[int]] = [[changed[0], changed[0]]]
    for k in changed[1:]:
        if k - groups[-1][1] <= 2 * context + 1:
            groups[-1][1] = k
        else:
            groups.append([k, k])
    old_no, new_no = hunk.old_start, hunk.new_start
    # line numbers at each body index
    olds: list[int] = []
    news: list[int] = []
    for ln in body:
        olds.append(old_no)
        news.append(new_no)
        tag = ln[:1]
        if tag in (" ", ""):
            old_no += 1
            new_no += 1
        elif tag == "-":
            old_no += 1
        elif tag == "+":
            new_no += 1
    subs: list[list[str]] = []
    for n, (first, last) in enumerate(groups):
        start = first
        while start > 0 and first - start < context and body[start - 1][:1] in (" ", ""):
            start -= 1
        end = last
        while end + 1 < len(body) and (
            body[end + 1][:1] == "\\" or (end - last < context and body[end + 1][:1] in (" ", ""))
        ):
            end += 1
        part = body[start : end + 1]
        old_count = sum(1 for ln in part if ln[:1] in (" ", "", "-"))
        new_count = sum(1 for ln in part if ln[:1] in (" ", "", "+"))
        old_at = olds[start] if old_count else olds[start] - 1
        new_at = news[start] if new_count else news[start] - 1
        section = hunk.section if n == 0 else ""
        subs.append([f"@@ -{old_at},{old_count} +{new_at},{new_count} @@{section}", *part])
    return subs


def _drop_to_budget(
    files: list[DiffFile],
    choices: dict[int, list[_Choice]],
    ctx: CompressContext,
) -> None:
    """Drop whole hunks until the budget holds: query matches last, each file's first hunk
    late, and otherwise the largest first (many small hunks cover more files)."""
    flat = [(f, k, c) for f in files for k, c in enumerate(choices.get(id(f), []))]
    if not flat:
        return
    costs = [ctx.count_tokens("\n".join(c.rendered())) + 1 for _, _, c in flat]
    marker = ctx.count_tokens(
        ctx.marker(99, "lines", "3 of 9 hunks dropped, +99 -99, first hunk @@ -99,9 +99,9 @@")
    )
    used = float(
        sum(ctx.count_tokens("\n".join(f.header)) + 1 for f in files)
        + sum(costs)
        + marker * sum(1 for f in files if any(c.mode != "full" for c in choices.get(id(f), [])))
    )
    if used <= ctx.budget:
        return
    marked = {id(f) for f, _, c in flat if c.mode != "full"}
    # data first: a hunk that is mostly one very long line keeps only its short lines
    for j, (f, _, c) in enumerate(flat):
        if used <= ctx.budget:
            return
        if not _is_data(c.hunk):
            continue
        short = ctx.count_tokens("\n".join(_Choice(c.hunk, [], "data").rendered())) + 1
        used -= costs[j] - short - (0 if id(f) in marked else marker)
        marked.add(id(f))
        c.mode = "data"
        costs[j] = short
    # changed lines only (no context) before anything changed is dropped
    bare_savings = []
    for j, (_f, _, c) in enumerate(flat):
        bare = ctx.count_tokens("\n".join(_Choice(c.hunk, [], "bare").rendered())) + 1
        bare_savings.append((costs[j] - bare, j))
    for saving, j in sorted(bare_savings, key=lambda sj: (-sj[0], sj[1])):
        if used <= ctx.budget:
            break
        f, _, c = flat[j]
        net = saving - (0 if id(f) in marked else marker)
        if net <= 0:
            continue  # the file's marker would cost more than the context it replaces
        marked.add(id(f))
        c.mode = "bare"
        used -= net
        costs[j] -= saving
    if used <= ctx.budget:
        return
    docs = [Counter(terms(f.path + "\n" + "\n".join(c.hunk.body))) for f, _, c in flat]
    scores = bm25_scores(docs, ctx.query) if ctx.query else [0.0] * len(flat)
    top = max(scores, default=0.0) or 1.0
    order = sorted(
        range(len(flat)),
        key=lambda j: (scores[j] >= 0.5 * top, flat[j][1] == 0, -costs[j], j),
    )
    dropped: list[tuple[int, str]] = []
    for j in order:
        if used <= ctx.budget:
            break
        f, _, c = flat[j]
        saving = costs[j] - (0 if id(f) in marked else marker)
        if saving <= 0:
            continue  # the marker would cost as much as the hunk
        used -= saving
        marked.add(id(f))
        dropped.append((j, c.mode))
        c.mode = "drop"
    # a large hunk dropped last can overshoot by far: put back what fits, best first
    for j, mode in reversed(dropped):
        if used + costs[j] <= ctx.budget:
            flat[j][2].mode = mode
            used += costs[j]


def _render_file(f: DiffFile, choices: list[_Choice] | None, ctx: CompressContext) -> list[str]:
    out = list(f.header)
    added = sum(h.added for h in f.hunks)
    removed = sum(h.removed for h in f.hunks)
    first = f.hunks[0].header.split(" @@")[0] + " @@" if f.hunks else ""
    if choices is None:  # generated: header and counts only
        omitted = sum(len(h.lines) for h in f.hunks) + len(f.trailer)
        if not omitted:
            return out
        detail = f"generated file, {len(f.hunks)} hunks, +{added} -{removed}"
        if first:
            detail += f", first hunk {first}"
        return [*out, ctx.marker(omitted, "lines", detail)]
    omitted = 0
    dropped = 0
    for c in choices:
        out.extend(c.rendered())
        omitted += len(c.hunk.lines) - len(c.rendered())
        dropped += c.mode == "drop"
    out.extend(f.trailer)
    if omitted:
        parts = []
        if dropped:
            parts.append(f"{dropped} of {len(choices)} hunks dropped")
        if any(c.mode in ("trim", "bare") for c in choices):
            parts.append("context trimmed")
        if any(c.mode == "data" for c in choices):
            parts.append("long data lines left out")
        parts.append(f"+{added} -{removed}")
        if choices and choices[0].mode != "full":
            parts.append(f"first hunk {first}")
        out.append(ctx.marker(omitted, "lines", ", ".join(parts)))
    return out
