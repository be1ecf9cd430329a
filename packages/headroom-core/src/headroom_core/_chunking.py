"""Structure-following chunks of an original, for query search inside it.

Every chunk is an exact slice of whole lines of the original, so whatever a chunk shows
(``path:line:text`` of a search match, a log line, a JSON member) is verbatim: a boundary
never splits a line, and never splits a JSON value except a container too large to be one
chunk, which is split between its members. Each kind has its own unit:

- JSON: array items (or object members); an oversized item is split between its members,
  recursively, and every piece carries the labels (title, name, id...) of its ancestors;
- search results: one match, or a run of context lines of the same file;
- logs: one event (a line plus its continuation lines); consecutive events of one template
  are grouped;
- diffs: one hunk (the first with its file header), labelled with the file path;
- code: a definition or a blank-line block, labelled with the enclosing definition;
- prose: a paragraph with its indented continuation (reST directives and their bodies).

Structured kinds also get a derived *overview* chunk (counts per file, the items with the
largest values, the most common values): clearly marked, computed only from the original,
so aggregate questions ("which file has the most matches?") have an answer to find.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._chunking_json import json_chunks
from ._chunking_types import Chunk, Lines, block_chunk, label_value

__all__ = ["Chunk", "chunk_original"]

#: A chunk of plain lines stops growing past this many characters (about 150 tokens):
#: small enough that a 1000-token answer holds several, large enough to keep context.
MAX_CHUNK_CHARS = 600
_MAX_BLOCK_LINES = 16

_GREP = re.compile(r"^(?P<path>[^\s:][^:\n]*?)(?P<sep>[:-])(?P<line>\d+)(?P=sep)")
_DEF = re.compile(
    r"^\s*(?:export\s+|pub(?:\([\w:]+\))?\s+|public\s+|private\s+|protected\s+|static\s+|"
    r"async\s+|unsafe\s+|abstract\s+|final\s+|inline\s+|virtual\s+|template\s*<[^>]*>\s*)*"
    r"(?:def|class|func|fn|function|struct|enum|trait|impl|interface|type|module|macro)\b"
)
_HEADING = re.compile(r"^(?:#{1,6}\s|\.\. \w[\w:-]*::)")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_LOG_VARIABLE = re.compile(r"[0-9a-fA-F]*\d[\w.:/\-]*")
_CONTINUATION = re.compile(r"^(?:\s|at\s|Caused by|Traceback \(|\.\.\.|\})")


@dataclass(frozen=True)
class _Event:
    first: int
    last: int
    template: str


def chunk_original(text: str, kind: str) -> list[Chunk]:
    """Split an original into structure-following chunks, overview first when there is one."""
    lines = Lines(text)
    stripped = text.lstrip()[:1]
    if stripped in ("[", "{") and kind in ("json", "search", "text", "log"):
        chunks = json_chunks(text, lines, max_chars=MAX_CHUNK_CHARS)
        if chunks:
            return chunks
    if kind == "search":
        return _search_chunks(lines)
    if kind == "log":
        return _log_chunks(lines)
    if kind == "diff":
        return _diff_chunks(lines)
    if kind == "code":
        return _code_chunks(lines)
    return _prose_chunks(lines)


def _search_chunks(lines: Lines) -> list[Chunk]:
    """One chunk per match, or per run of consecutive lines of one file (grep -C)."""
    chunks: list[Chunk] = []
    per_file: dict[str, int] = {}
    run: list[int] = []
    run_key: tuple[str, int] | None = None
    size = 0

    def flush() -> None:
        if run:
            path = run_key[0] if run_key else ""
            chunks.append(block_chunk(lines, run[0], run[-1], context=path))
            run.clear()

    for i in range(lines.count):
        line = lines.line(i)
        m = _GREP.match(line)
        if m is None:
            flush()
            run_key = None
            if line.strip() and line.strip() != "--":
                chunks.append(block_chunk(lines, i, i))
            continue
        path, num = m["path"], int(m["line"])
        if m["sep"] == ":":
            per_file[path] = per_file.get(path, 0) + 1
        follows = run_key is not None and run_key == (path, num - 1)
        if not follows or len(run) >= 6 or size + len(line) > MAX_CHUNK_CHARS:
            flush()
            size = 0
        run.append(i)
        size += len(line)
        run_key = (path, num)
    flush()
    if len(per_file) > 1:
        ranked = sorted(per_file.items(), key=lambda kv: (-kv[1], kv[0]))
        rows = [f"{path}: {n} matches" for path, n in ranked[:25]]
        if len(ranked) > 25:
            rows.append(f"... {len(ranked) - 25} more files")
        total = sum(per_file.values())
        head = (
            f"{total} matches in {len(per_file)} files; the file with the most matches is "
            f"{ranked[0][0]} ({ranked[0][1]}). Matches per file, most first:"
        )
        chunks.insert(0, Chunk.overview("\n".join([head, *rows])))
    return chunks


def _template(line: str) -> str:
    return _LOG_VARIABLE.sub("*", line)[:120]


def _log_chunks(lines: Lines) -> list[Chunk]:
    """Events (a line and its continuation lines); runs of one template are grouped."""
    events: list[_Event] = []
    source = ""
    for i in range(lines.count):
        line = lines.line(i)
        if not line.strip():
            continue
        if events and _CONTINUATION.match(line) and events[-1].last == i - 1:
            prev = events[-1]
            events[-1] = _Event(prev.first, i, prev.template)
            continue
        events.append(_Event(i, i, _template(line)))
    chunks: list[Chunk] = []
    group: list[_Event] = []
    size = 0

    def flush() -> None:
        if group:
            chunks.append(block_chunk(lines, group[0].first, group[-1].last, context=source))
            group.clear()

    for ev in events:
        first_line = lines.line(ev.first)
        if first_line.startswith("==> ") and first_line.rstrip().endswith(" <=="):
            flush()
            source = first_line.strip()[4:-4]
            continue
        ev_size = lines.span_chars(ev.first, ev.last)
        same = bool(group) and group[-1].template == ev.template
        if not same or len(group) >= 8 or size + ev_size > MAX_CHUNK_CHARS:
            flush()
            size = 0
        group.append(ev)
        size += ev_size
    flush()
    return chunks


_DIFF_FILE = re.compile(r"^diff --git a/(?P<a>.+?) b/(?P<b>.+)$")


def _diff_chunks(lines: Lines) -> list[Chunk]:
    """Hunks labelled with their file; the first hunk of a file carries the file header."""
    chunks: list[Chunk] = []
    path = ""
    start = 0
    stats: dict[str, list[int]] = {}
    new_files: list[str] = []
    deleted: list[str] = []
    in_header = False

    def emit(first: int, last: int) -> None:
        # long hunks are cut into windows of whole lines, each labelled with its file
        i = first
        while i <= last:
            j, size = i, 0
            while j <= last and (j == i or size + len(lines.line(j)) <= MAX_CHUNK_CHARS * 2):
                size += len(lines.line(j)) + 1
                j += 1
            chunks.append(block_chunk(lines, i, j - 1, context=path))
            i = j

    for i in range(lines.count):
        line = lines.line(i)
        m = _DIFF_FILE.match(line)
        header_minus = line.startswith("--- ") and i + 1 < lines.count
        if m or (header_minus and lines.line(i + 1).startswith("+++ ") and not in_header):
            if i > start:
                emit(start, i - 1)
            start = i
            in_header = True
            path = m["b"] if m else lines.line(i + 1)[4:].strip().removeprefix("b/")
            stats.setdefault(path, [0, 0])
            continue
        if line.startswith("+++ ") and in_header:
            target = line[4:].strip()
            if target != "/dev/null":
                path = target.removeprefix("b/")
                stats.setdefault(path, [0, 0])
            continue
        if line.startswith("new file mode"):
            new_files.append(path)
        elif line.startswith("deleted file mode"):
            deleted.append(path)
        if line.startswith("@@"):
            if in_header:
                in_header = False  # header and first hunk stay together
            elif i > start:
                emit(start, i - 1)
                start = i
            continue
        if not in_header and path:
            if line.startswith("+"):
                stats[path][0] += 1
            elif line.startswith("-"):
                stats[path][1] += 1
    if start < lines.count:
        emit(start, lines.count - 1)
    if len(stats) > 1 or new_files or deleted:
        ranked = sorted(stats.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
        rows = [f"{p}: +{a} -{d} ({a + d} changed lines)" for p, (a, d) in ranked[:25]]
        if len(ranked) > 25:
            rows.append(f"... {len(ranked) - 25} more files")
        parts = [
            f"{len(stats)} files changed; the file with the most changed (added + removed) "
            f"lines is {ranked[0][0]}. Files by changed lines, most first:",
            *rows,
        ]
        if new_files:
            parts.append("new files added: " + ", ".join(new_files[:25]))
        if deleted:
            parts.append("files deleted: " + ", ".join(deleted[:25]))
        chunks.insert(0, Chunk.overview("\n".join(parts)))
    return chunks


def _code_chunks(lines: Lines) -> list[Chunk]:
    """Definitions and blank-line blocks, each labelled with its enclosing definition."""
    chunks: list[Chunk] = []
    stack: list[tuple[int, str]] = []  # (indent, definition line) of open definitions
    start: int | None = None
    size = 0

    def context_for(indent: int) -> str:
        return " > ".join(label_value(d, 80) for ind, d in stack if ind < indent)

    def flush(end: int) -> None:
        nonlocal start
        if start is not None and end >= start:
            first = lines.line(start)
            indent = len(first) - len(first.lstrip())
            chunks.append(block_chunk(lines, start, end, context=context_for(indent)))
        start = None

    for i in range(lines.count):
        line = lines.line(i)
        body = line.strip()
        if not body:
            if start is not None and (i - start >= 3 or size > MAX_CHUNK_CHARS // 2):
                flush(i - 1)
            continue
        indent = len(line) - len(line.lstrip())
        is_def = bool(_DEF.match(line))
        if is_def:
            while stack and stack[-1][0] >= indent:
                stack.pop()
        if start is None:
            start, size = i, 0
        elif (is_def and i > start) or i - start >= _MAX_BLOCK_LINES or size > MAX_CHUNK_CHARS:
            flush(i - 1)
            start, size = i, 0
        if is_def:
            stack.append((indent, body))
        size += len(line)
    flush(lines.count - 1)
    return chunks


def _prose_chunks(lines: Lines) -> list[Chunk]:
    """Paragraphs; indented lines (directive bodies, lists) stay with the line they follow."""
    chunks: list[Chunk] = []
    heading = ""
    start: int | None = None
    last = -1
    size = 0

    def flush() -> None:
        nonlocal start
        if start is not None:
            chunks.append(block_chunk(lines, start, last, context=heading))
        start = None

    for i in range(lines.count):
        line = lines.line(i)
        if not line.strip():
            continue
        indented = line[:1].isspace()
        if _UNDERLINE.match(line) and i > 0 and lines.line(i - 1).strip():
            heading = lines.line(i - 1).strip()
        elif _HEADING.match(line):
            heading = line.strip()
        gap = i > last + 1
        too_big = size > MAX_CHUNK_CHARS or (start is not None and i - start >= _MAX_BLOCK_LINES)
        if start is None or too_big or (gap and not indented):
            flush()
            start, size = i, 0
        last = i
        size += len(line)
    flush()
    return chunks
