"""JSON chunks: members of the document as verbatim slices, plus a derived overview.

Values are located with the standard decoder (``raw_decode`` at each member), so a chunk is
the exact text of whole members as the original wrote them, pretty-printed or minified.
Consecutive small members of one container share a chunk; a member too large for one chunk
is split between its own members, recursively, and each piece names its ancestors' labels.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._chunking_types import Chunk, Lines, label_value

__all__ = ["json_chunks"]

#: Fields that name an item, best first: they label every piece of the item.
LABEL_KEYS = (
    "title",
    "full_name",
    "name",
    "login",
    "number",
    "id",
    "ghsa_id",
    "summary",
    "message",
    "sha",
    "path",
    "key",
    "action",
)
_MAX_LABELS = 4
_MAX_DEPTH = 64  # deeper containers stay one chunk rather than recursing further
_WS = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


@dataclass(frozen=True)
class _Member:
    path: str  # JSON path of the member: .items[3].title
    start: int  # offset of its key (object member) or value (array item)
    value_start: int  # offset of its value
    end: int  # offset just past its value
    value: Any


def json_chunks(text: str, lines: Lines, *, max_chars: int) -> list[Chunk]:
    """Chunks of a JSON document, overview first; ``[]`` if ``text`` is not one JSON value."""
    try:
        first = _WS.match(text, 0).end()  # type: ignore[union-attr]
        value, end = _decoder.raw_decode(text, first)
    except (ValueError, RecursionError):
        return []
    if text[end:].strip() or not isinstance(value, (list, dict)):
        return []
    chunks: list[Chunk] = []
    try:
        _split(text, lines, first, value, "", "", max_chars, chunks, 0)
    except (ValueError, RecursionError):
        return []
    overview = _overview(value)
    if overview:
        chunks.insert(0, Chunk.overview(overview))
    return chunks


def _members(
    text: str, start: int, value: list[Any] | dict[str, Any], path: str
) -> Iterator[_Member]:
    """The members of the container whose opening bracket is at ``start``."""
    pos = _WS.match(text, start + 1).end()  # type: ignore[union-attr]
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for key, child in items:
        member_start = pos
        if isinstance(value, dict):
            _key, pos = _decoder.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ':'
            child_path = f"{path}.{key}" if _is_ident(str(key)) else f"{path}[{json.dumps(key)}]"
        else:
            child_path = f"{path}[{key}]"
        value_start = pos
        _child, pos = _decoder.raw_decode(text, value_start)
        yield _Member(child_path, member_start, value_start, pos, child)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


def _split(
    text: str,
    lines: Lines,
    start: int,
    value: list[Any] | dict[str, Any],
    path: str,
    context: str,
    max_chars: int,
    out: list[Chunk],
    depth: int,
) -> None:
    group: list[_Member] = []

    def flush() -> None:
        if group:
            out.append(_piece(text, lines, group, context))
            group.clear()

    for member in _members(text, start, value, path):
        child = member.value
        size = member.end - member.start
        if size > max_chars and isinstance(child, (list, dict)) and child and depth < _MAX_DEPTH:
            flush()
            label = _verbatim_labels(text, lines, member.value_start, child) or _labels(child)
            sub_context = " > ".join(p for p in (context, f"{member.path} {label}".strip()) if p)
            _split(
                text,
                lines,
                member.value_start,
                child,
                member.path,
                sub_context,
                max_chars,
                out,
                depth + 1,
            )
            continue
        if group and (member.end - group[0].start > max_chars or isinstance(value, list)):
            flush()
        group.append(member)
    flush()


def _piece(text: str, lines: Lines, group: list[_Member], context: str) -> Chunk:
    """Members ``group`` as one verbatim slice, widened to whole lines when they own them."""
    start, end = group[0].start, group[-1].end
    line_start = lines.starts[lines.index_of(start)]
    if not text[line_start:start].strip():
        start = line_start
    last = lines.index_of(end - 1) if end > 0 else 0
    line_end = lines.end(last)
    if text[end:line_end].strip() in ("", ","):
        end = line_end
    position = group[0].path if len(group) == 1 else f"{group[0].path} .. {group[-1].path}"
    if len(group) == 1 and isinstance(group[0].value, dict):
        label = _labels(group[0].value)
        if label:
            context = " > ".join(p for p in (context, label) if p)
    first_line, last_line = lines.index_of(start), lines.index_of(max(start, end - 1))
    if first_line != last_line:
        position += f" (lines {first_line + 1}-{last_line + 1})"
    else:
        position += f" (line {first_line + 1})"
    return Chunk(position.lstrip(".") or "$", text[start:end], start, context)


#: A label line longer than this is not a line of its own (minified JSON): use ``key=value``.
_MAX_LABEL_LINE = 200


def _verbatim_labels(text: str, lines: Lines, start: int, value: Any) -> str:
    """The naming members of a split container as their own original lines.

    A piece of an oversized item (its ``severity`` and ``identifiers``, say) is headed by
    the lines that name the item exactly as the original wrote them (``"number": 5,``), so
    a fact about the item reads the same in a retrieved piece as in the original.
    """
    if not isinstance(value, dict):
        return ""
    wanted = {k for k in LABEL_KEYS if isinstance(value.get(k), (str, int, float))}
    found: list[str] = []
    for member in _members(text, start, value, ""):
        key = member.path.lstrip(".").strip('[]"')
        if key not in wanted:
            continue
        line = lines.line(lines.index_of(member.start)).strip()
        if len(line) > _MAX_LABEL_LINE or not line.startswith('"'):
            return ""
        found.append(line)
        if len(found) >= _MAX_LABELS:
            break
    return " ".join(found)


def _is_ident(key: str) -> bool:
    return key.isidentifier()


def _labels(value: Any) -> str:
    """``title=... number=...``: the fields that name ``value``, looking one level down too."""
    if not isinstance(value, dict):
        return ""
    found: list[str] = []
    for scope, prefix in [(value, ""), *_children(value)]:
        for key in LABEL_KEYS:
            v = scope.get(key)
            if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip():
                found.append(f"{prefix}{key}={label_value(v)}")
                if len(found) >= _MAX_LABELS:
                    return " ".join(found)
    return " ".join(found)


def _children(value: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    return [(v, f"{k}.") for k, v in value.items() if isinstance(v, dict)][:4]


def _records(value: Any) -> list[tuple[str, dict[str, Any]]]:
    """The main list of objects: the document itself, or the one big array it wraps."""
    if isinstance(value, list):
        return [(f"[{i}]", v) for i, v in enumerate(value) if isinstance(v, dict)]
    if isinstance(value, dict):
        arrays = [(k, v) for k, v in value.items() if isinstance(v, list) and len(v) > 1]
        if len(arrays) == 1:
            key, arr = arrays[0]
            return [(f".{key}[{i}]", v) for i, v in enumerate(arr) if isinstance(v, dict)]
    return []


def _flat(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Scalar fields of a record and of its direct sub-objects (``user.login``)."""
    for key, v in record.items():
        if isinstance(v, dict):
            for sub, w in v.items():
                if not isinstance(w, (dict, list)):
                    yield f"{key}.{sub}", w
        elif isinstance(v, list):
            yield f"{key} (count)", len(v)
            for item in v:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    yield f"{key}.name", item["name"]
        else:
            yield key, v


def _overview(value: Any) -> str:
    """Aggregates a question about "the most ..." needs: largest values, commonest values."""
    records = _records(value)
    if len(records) < 3:
        return ""
    numbers: dict[str, list[tuple[float, str]]] = {}
    strings: dict[str, Counter[str]] = {}
    for path, record in records:
        label = _labels(record) or path
        for field, v in _flat(record):
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, (int, float)):
                numbers.setdefault(field, []).append((float(v), f"{path} {label}"))
            elif isinstance(v, str) and 0 < len(v) <= 80:
                strings.setdefault(field, Counter())[v] += 1
    rows = [f"{len(records)} items. Largest values per numeric field, and most common values:"]
    for field, values in sorted(numbers.items()):
        if len({v for v, _ in values}) < 2 or field in ("id", "number") or field.endswith(".id"):
            continue
        values.sort(key=lambda vl: -vl[0])
        top = "; ".join(f"{_num(v)}: {label}" for v, label in values[:2])
        rows.append(f"most {field}: {top}")
    for field, counts in sorted(strings.items()):
        common = counts.most_common(3)
        if common[0][1] < 2 or len(counts) > len(records) * 0.8:
            continue
        listed = ", ".join(f"{v} ({n})" for v, n in common)
        rows.append(f"most common {field}: {listed}")
    return "\n".join(rows) if len(rows) > 1 else ""


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)
