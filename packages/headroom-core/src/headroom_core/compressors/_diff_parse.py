"""Unified diff structure: files, their header lines, and hunks with line counts."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_OLD_SIDE = frozenset({" ", "", "-"})
_NEW_SIDE = frozenset({" ", "", "+"})
_CHANGE = frozenset({"+", "-"})
HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_FILE = re.compile(r"^diff --git a/(.+?) b/(.+)$")


@dataclass
class Hunk:
    """One hunk: its header line and body lines (`` ``/``-``/``+``/``\\`` prefixed)."""

    header: str
    old_start: int
    new_start: int
    section: str
    body: list[str]

    @property
    def added(self) -> int:
        return sum(1 for ln in self.body if ln.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for ln in self.body if ln.startswith("-"))

    @property
    def lines(self) -> list[str]:
        return [self.header, *self.body]


@dataclass
class DiffFile:
    """A file's header lines (``diff --git``, mode, index, ``---``/``+++``) and hunks."""

    header: list[str]
    path: str
    hunks: list[Hunk] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)  # lines after the hunks that belong to none

    @property
    def new_file(self) -> bool:
        return any(ln.startswith("new file mode") or ln == "--- /dev/null" for ln in self.header)


@dataclass
class ParsedDiff:
    preamble: list[str]
    files: list[DiffFile]


def _is_file_start(lines: list[str], i: int) -> bool:
    line = lines[i]
    if line.startswith(("diff --git ", "diff -")):
        return True
    return line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")


def _path(header: list[str]) -> str:
    for ln in header:
        if ln.startswith("+++ ") and ln[4:].strip() != "/dev/null":
            return ln[4:].split("\t")[0].strip().removeprefix("b/")
    for ln in header:
        m = _GIT_FILE.match(ln)
        if m:
            return m.group(2)
        if ln.startswith("--- "):
            return ln[4:].split("\t")[0].strip().removeprefix("a/")
    return ""


def parse_diff(lines: list[str]) -> ParsedDiff:
    """Split ``lines`` into preamble and files; hunks are delimited by their line counts.

    Lines a hunk's counts do not account for stay in the file's ``trailer``, so nothing is
    lost and a malformed hunk cannot swallow the next file.
    """
    i, n = 0, len(lines)
    preamble: list[str] = []
    while i < n and not _is_file_start(lines, i):
        preamble.append(lines[i])
        i += 1
    files: list[DiffFile] = []
    while i < n:
        header = [lines[i]]
        i += 1
        while i < n and not lines[i].startswith("@@") and not header[-1].startswith("+++ "):
            if lines[i].startswith("diff ") or (
                _is_file_start(lines, i) and any(h.startswith("--- ") for h in header)
            ):
                break
            header.append(lines[i])
            i += 1
        f = DiffFile(header, _path(header))
        files.append(f)
        while i < n and not _is_file_start(lines, i):
            m = HUNK_RE.match(lines[i])
            if m is None:
                f.trailer.append(lines[i])
                i += 1
                continue
            old_left = int(m.group(2)) if m.group(2) is not None else 1
            new_left = int(m.group(4)) if m.group(4) is not None else 1
            hunk = Hunk(lines[i], int(m.group(1)), int(m.group(3)), m.group(5), [])
            i += 1
            while i < n and (old_left > 0 or new_left > 0):
                ln = lines[i]
                tag = ln[:1]
                if tag == "+":
                    new_left -= 1
                elif tag == "-":
                    old_left -= 1
                elif tag in (" ", ""):
                    old_left -= 1
                    new_left -= 1
                elif tag != "\\":
                    break
                hunk.body.append(ln)
                i += 1
            while i < n and lines[i].startswith("\\"):
                hunk.body.append(lines[i])
                i += 1
            f.hunks.append(hunk)
    return ParsedDiff(preamble, files)


def recut(hunk: Hunk, keep: Sequence[bool]) -> list[tuple[str, list[int]]]:
    """The kept body lines of ``hunk`` as exact sub-hunks: each a header line and the body
    indexes under it.

    Every sub-hunk's old-side lines (context and removed) are consecutive lines of the old
    file and its new-side lines (context and added) consecutive lines of the new one, and
    its header gives their real numbers, so the result is a valid diff of the same files
    with some changes left out. A run is cut where a left-out line breaks that, and at any
    left-out context line; a removed line left out between two added lines does not cut
    it (the added lines are consecutive in the new file). Runs without a changed line
    are left out. All lines kept gives the hunk verbatim. A ``\\`` line goes with the line
    before it.
    """
    body = hunk.body
    tags = [ln[:1] for ln in body]
    if all(kept or tag == "\\" for kept, tag in zip(keep, tags, strict=True)):
        return [(hunk.header, list(range(len(body))))]
    is_old = [tag in _OLD_SIDE for tag in tags]
    is_new = [tag in _NEW_SIDE for tag in tags]
    # the old and new line number at each body index (for a side with no lines, the
    # header names the line before the hunk)
    old_at = list(itertools.accumulate(is_old, initial=hunk.old_start + (not any(is_old))))
    new_at = list(itertools.accumulate(is_new, initial=hunk.new_start + (not any(is_new))))
    subs: list[tuple[str, list[int]]] = []

    def close(run: list[int]) -> None:
        if not any(tags[k] in _CHANGE for k in run):
            return
        olds = [k for k in run if is_old[k]]
        news = [k for k in run if is_new[k]]
        start_old = old_at[olds[0]] if olds else old_at[run[0]] - 1
        start_new = new_at[news[0]] if news else new_at[run[0]] - 1
        section = "" if subs else hunk.section
        ranges = f"-{_range(start_old, len(olds))} +{_range(start_new, len(news))}"
        subs.append((f"@@ {ranges} @@{section}", run))

    run: list[int] = []
    old_gap = new_gap = run_old = run_new = kept_prev = False
    for k, tag in enumerate(tags):
        if tag == "\\":
            if kept_prev:
                run.append(k)
            continue
        old, new = is_old[k], is_new[k]
        kept_prev = keep[k]
        if not kept_prev:
            # left-out context splits a run, a left-out removed (added) line only splits
            # old-side (new-side) lines
            old_gap = old_gap or (old and (run_old or new))
            new_gap = new_gap or (new and (run_new or old))
            continue
        if run and ((old and old_gap) or (new and new_gap)):
            close(run)
            run = []
        if not run:
            old_gap = new_gap = run_old = run_new = False
        run.append(k)
        run_old = run_old or old
        run_new = run_new or new
    if run:
        close(run)
    return subs


def _range(start: int, count: int) -> str:
    """A hunk header range; a count of one is left out, as diff and git write it."""
    return str(start) if count == 1 else f"{start},{count}"


def similar_removed(hunk: Hunk, *, share: float = 0.6, window: int = 2) -> set[int]:
    """Body indexes of removed lines that nearly repeat an added line of the same change.

    A change is a run of removed and added lines. A removed line pairs with the added
    lines at about its own position in the run (``window`` either side); it is similar when
    its common prefix and suffix with one of them cover ``share`` of the longer line, or
    the two differ only in whitespace (reformatting, an appended comment, a bumped value).
    """
    similar: set[int] = set()
    body = hunk.body
    k = 0
    while k < len(body):
        if body[k][:1] not in _CHANGE:
            k += 1
            continue
        end = k
        while end < len(body) and body[end][:1] in ("+", "-", "\\"):
            end += 1
        removed = [j for j in range(k, end) if body[j][:1] == "-"]
        added = [body[j][1:] for j in range(k, end) if body[j][:1] == "+"]
        for n, j in enumerate(removed):
            old = body[j][1:]
            lo = max(0, n - window)
            if any(_near(old, new, share) for new in added[lo : n + window + 1]):
                similar.add(j)
        k = end
    return similar


def _near(a: str, b: str, share: float) -> bool:
    if a.split() == b.split():
        return True
    longest = max(len(a), len(b))
    if not longest:
        return True
    shortest = min(len(a), len(b))
    prefix = 0
    while prefix < shortest and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    return prefix + suffix >= share * longest
