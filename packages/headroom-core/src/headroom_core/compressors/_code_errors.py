"""Parse errors of compressed code: keep the input's own, add none.

An input that does not parse (C/C++ macros the grammar cannot expand, a truncated slice of
a file) has error regions; an error of the output is the input's when it lies in one of
them (mapped back through the edits). Edits next to a new error are put back, which
always converges: with every edit put back the output is the input.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from ._code_langs import LangSpec
from ._code_skeleton import Edit

#: Node types whose children are whole statements or declarations: an erroneous child of
#: one of these can be turned into comments without touching its neighbours.
_SEQUENCES = frozenset(
    [
        "translation_unit",
        "declaration_list",
        "field_declaration_list",
        "compound_statement",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "program",
        "statement_block",
        "class_body",
        "source_file",
        "module",
        "block",
        "interface_body",
        "enum_body",
    ]
)
_REPAIR_ROUNDS = 4
#: Past this share of commented lines, the whole output becomes a commented outline.
_REPAIR_MAX_SHARE = 0.5


def _error_nodes(root: Any) -> list[Any]:
    """The outermost ERROR and MISSING nodes under ``root``."""
    found: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(node)
        elif node.has_error:
            stack.extend(node.children)
    return found


@dataclass(frozen=True)
class _Region:
    """The whole lines holding one parse error of the original, and what the error is."""

    start: int
    end: int
    missing: str | None  # the node type of a MISSING node; None for an ERROR node


def error_regions(root: Any, src: bytes) -> list[_Region]:
    """One region per parse error of ``root``, in order."""
    regions = []
    for node in _error_nodes(root):
        start = src.rfind(b"\n", 0, node.start_byte) + 1
        end = src.find(b"\n", node.end_byte)
        missing = node.type if node.is_missing else None
        regions.append(_Region(start, end if end >= 0 else len(src), missing))
    return sorted(regions, key=lambda r: (r.start, r.end))


def _new_errors(
    root: Any,
    src: bytes,
    edits: list[Edit],
    spans: list[tuple[int, int]],
    regions: list[_Region],
) -> list[Any]:
    """Errors of the edited text (``root``) that the original did not have.

    An error is the original's if it lies where one of the original's errors was: an
    ERROR node starting in such a region, a MISSING node in an ERROR region or in the
    region of a MISSING node of the same type (one each). ``spans`` are where ``edits``
    landed in the edited text; a position inside one maps to the range it replaced.
    """
    if not root.has_error:
        return []
    ends = [b for _, b in spans]

    def original(pos: int, *, end: bool) -> int:
        k = bisect_right(ends, pos)  # edits before k ended at or before pos
        if k < len(spans) and spans[k][0] <= pos < spans[k][1]:
            return edits[k].end if end else edits[k].start
        if k == 0:
            return pos
        return pos - spans[k - 1][1] + edits[k - 1].end

    starts = [r.start for r in regions]
    reach = list(accumulate((r.end for r in regions), max))  # furthest end so far
    used: set[int] = set()
    new = []
    for node in sorted(_error_nodes(root), key=lambda n: n.start_byte):
        lo = original(node.start_byte, end=False)
        hi = original(node.end_byte, end=True)
        j = bisect_right(starts, hi)  # regions[:j] start before the error ends
        if j == 0 or reach[j - 1] < lo:
            new.append(node)
            continue
        if not node.is_missing:
            # it must also start where an error was (or on the line before one): an
            # error that grew backwards over code that parsed is new
            line_end = src.find(b"\n", src.find(b"\n", lo) + 1)
            k = bisect_right(starts, line_end if line_end >= 0 else len(src))
            if k == 0 or reach[k - 1] < lo:
                new.append(node)
            continue
        near = [i for i in range(j) if regions[i].end >= lo]
        if any(regions[i].missing is None for i in near):
            continue
        same = next((i for i in near if regions[i].missing == node.type and i not in used), None)
        if same is None:
            new.append(node)
        else:
            used.add(same)
    return new


#: Rounds of putting back the edits next to new parse errors before commenting out.
_RESTORE_ROUNDS = 8


def without_new_errors(
    src: bytes, edits: list[Edit], parser: Any, regions: list[_Region]
) -> tuple[list[Edit], bool]:
    """``edits`` minus those next to a parse error the original did not have; and whether
    the result is free of such errors.

    The edits overlapping a new error and the nearest ones around it are put back, more
    each round (1, 4, 16 ... before it; 1, 2, 4 ... after it): the cause of an error can
    sit well before it (an unexpanded C/C++ macro makes the grammar recover differently
    once a body is gone). Then the put-back edits are tried again in small groups.
    """
    wanted = edits
    for round_ in range(_RESTORE_ROUNDS + 1):
        new = _errors_after(src, edits, parser, regions)
        if not new:
            return _readd(src, edits, wanted, parser, regions), True
        if round_ == _RESTORE_ROUNDS:
            return edits, False
        _, spans = _apply_with_spans(src, edits)
        drop: set[int] = set()
        for lo, hi in _windows(new):
            drop.update(k for k, (a, b) in enumerate(spans) if a < hi and b > lo)
            before = [k for k, (_, b) in enumerate(spans) if b <= lo]
            after = [k for k, (a, _) in enumerate(spans) if a >= hi]
            drop.update(before[-(4**round_) :], after[: 2**round_])
        if not drop:
            break
        edits = [e for k, e in enumerate(edits) if k not in drop]
    return edits, False


def _errors_after(src: bytes, edits: list[Edit], parser: Any, regions: list[_Region]) -> list[Any]:
    out, spans = _apply_with_spans(src, edits)
    return _new_errors(parser.parse(out).root_node, src, edits, spans, regions)


#: Edits put back by ``without_new_errors`` are tried again by halves down to groups of
#: this many, within ``_READD_PARSES`` parses of the whole file.
_READD_GROUP = 6
_READD_PARSES = 10


def _readd(
    src: bytes, edits: list[Edit], wanted: list[Edit], parser: Any, regions: list[_Region]
) -> list[Edit]:
    """``edits`` plus the groups of put-back ones that add no new error."""
    kept = {id(e) for e in edits}
    pending = [[e for e in wanted if id(e) not in kept]]
    parses = 0
    while pending and parses < _READD_PARSES:
        group = pending.pop(0)
        trial = sorted([*edits, *group], key=lambda e: e.start)
        parses += 1
        if not _errors_after(src, trial, parser, regions):
            edits = trial
        elif len(group) > _READD_GROUP:
            half = len(group) // 2
            pending.extend([group[:half], group[half:]])
    return edits


#: New errors this many lines apart or closer are one disturbance (a misread class body
#: shows as a missing ``;`` at its first method and a stray ``}`` at its end).
_ERROR_WINDOW_LINES = 80


def _windows(nodes: list[Any]) -> list[tuple[int, int]]:
    """Byte ranges covering ``nodes``, merged where they are close together."""
    windows: list[tuple[int, int, int]] = []  # start byte, end byte, end row
    for node in sorted(nodes, key=lambda n: n.start_byte):
        if windows and node.start_point.row - windows[-1][2] <= _ERROR_WINDOW_LINES:
            lo, hi, _ = windows[-1]
            windows[-1] = (lo, max(hi, node.end_byte), node.end_point.row)
        else:
            windows.append((node.start_byte, node.end_byte, node.end_point.row))
    return [(lo, hi) for lo, hi, _ in windows]


def _apply_with_spans(src: bytes, edits: list[Edit]) -> tuple[bytes, list[tuple[int, int]]]:
    """``src`` with non-overlapping, sorted ``edits`` applied, and where each edit landed."""
    out: list[bytes] = []
    spans: list[tuple[int, int]] = []
    pos = size = 0
    for edit in edits:
        out.append(src[pos : edit.start])
        size += edit.start - pos
        out.append(edit.text)
        spans.append((size, size + len(edit.text)))
        size += len(edit.text)
        pos = edit.end
    out.append(src[pos:])
    return b"".join(out), spans


def _statement_rows(nodes: list[Any]) -> set[int]:
    """Rows of the smallest whole statements holding ``nodes``."""
    rows: set[int] = set()
    for node in nodes:
        unit = node
        while unit.parent is not None and unit.parent.type not in _SEQUENCES:
            unit = unit.parent
        rows.update(range(unit.start_point.row, unit.end_point.row + 1))
    return rows


def comment_out_errors(text: str, parser: Any, spec: LangSpec) -> str | None:
    """``text`` with statements that do not parse turned into comments; None if too many."""
    lines = text.split("\n")
    commented: set[int] = set()
    for _ in range(_REPAIR_ROUNDS):
        tree = parser.parse("\n".join(lines).encode("utf-8"))
        if not tree.root_node.has_error:
            return "\n".join(lines)
        rows = _statement_rows(_error_nodes(tree.root_node)) - commented
        if not rows or len(commented | rows) > len(lines) * _REPAIR_MAX_SHARE:
            return None
        for r in rows:
            if r < len(lines) and lines[r].strip():
                lines[r] = f"{spec.line_comment} {lines[r]}"
        commented |= rows
    return None


def commented_outline(text: str, spec: LangSpec) -> str:
    """Every line as a line comment: parses in any grammar, keeps every byte readable.

    Lines that already are line comments stay as they are: with every other line
    commented, nothing can be open around them.
    """
    prefix = spec.line_comment
    lines = text.split("\n")
    start = 1 if spec.grammar == "php" and lines and lines[0].startswith("<?php") else 0
    return "\n".join(
        ln if i < start or not ln.strip() or ln.lstrip().startswith(prefix) else f"{prefix} {ln}"
        for i, ln in enumerate(lines)
    )
