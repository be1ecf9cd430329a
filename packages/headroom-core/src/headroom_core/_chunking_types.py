"""The chunk record and the line index every chunker slices the original with."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

OVERVIEW = "overview"


@dataclass(frozen=True)
class Chunk:
    """A piece of an original and where it sits.

    ``text`` is an exact slice of the original (whole lines), except for the one derived
    overview chunk (``derived=True``). ``context`` names what encloses the chunk (file path,
    ancestor JSON labels, enclosing definition); it is ranked with the text and shown in the
    chunk's header, never mixed into the text.
    """

    position: str
    text: str
    start: int  # offset in the original: the sort key for original order (-1: overview)
    context: str = ""
    derived: bool = False

    @classmethod
    def overview(cls, text: str) -> Chunk:
        return cls(f"{OVERVIEW} (computed from the whole original)", text, -1, "", True)


class Lines:
    """Line offsets of a text, so chunks are cut as exact slices of whole lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        if starts[-1] == len(text) and len(starts) > 1:
            starts.pop()  # a trailing newline does not open another line
        self.starts = starts
        self.count = len(starts) if text else 0

    def end(self, i: int) -> int:
        """Offset just past line ``i``'s content (before its newline)."""
        if i + 1 < len(self.starts):
            end = self.starts[i + 1] - 1
        else:
            end = len(self.text) - 1 if self.text.endswith("\n") else len(self.text)
        if end > self.starts[i] and self.text[end - 1] == "\r":
            end -= 1
        return max(end, self.starts[i])

    def line(self, i: int) -> str:
        return self.text[self.starts[i] : self.end(i)]

    def span_chars(self, first: int, last: int) -> int:
        return self.end(last) - self.starts[first]

    def index_of(self, offset: int) -> int:
        """The line holding character ``offset``."""
        return max(0, bisect.bisect_right(self.starts, offset) - 1)


def line_position(first: int, last: int) -> str:
    return f"line {first + 1}" if first == last else f"lines {first + 1}-{last + 1}"


def block_chunk(lines: Lines, first: int, last: int, *, context: str = "") -> Chunk:
    """Lines ``first``..``last`` (0-based, inclusive) as one chunk."""
    start = lines.starts[first]
    return Chunk(line_position(first, last), lines.text[start : lines.end(last)], start, context)


def label_value(value: object, limit: int = 60) -> str:
    """A short one-line rendering of a label (cut at ``limit`` characters)."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
