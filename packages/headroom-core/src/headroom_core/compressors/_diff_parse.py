"""Unified diff structure: files, their header lines, and hunks with line counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
