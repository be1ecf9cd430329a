"""Long arrays of small records (weekly counts, daily views): shrink them before rows go.

Runs of items holding the array's usual values (zero counts, a default state) become one
marker naming those values, so only fields that follow from their neighbours (a week, a
date) are left out. Arrays nested in rows are found apart, so they can give up items
before whole rows do.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ._json_factor import MAX_DEPTH, dumps, is_map
from ._json_select import (
    MARKER_CHARS,
    Marker,
    SelectionMemo,
    json_size,
    positional,
    relevance_scores,
    row_text,
)

_dumps = dumps


#: Arrays inside a row of another array (or map) with fewer items are left whole.
MIN_INNER_ITEMS = 12
#: An item of such an array is small when its compact JSON is at most this long.
SMALL_ITEM_CHARS = 200
#: A field is usual when at least this share of the items agree on one value.
USUAL_SHARE = 0.5


def inner_arrays(root: Any, *, anywhere: bool = False) -> list[list[Any]]:
    """Long arrays of small records inside a row of another array or map, largest first.

    Weekly counts, per-day stats or version lists repeated in every row: mostly the same
    values, and shrinking them keeps the rows themselves. With ``anywhere``, such arrays
    outside rows too (a document that is one series).
    """
    found: list[tuple[int, int, list[Any]]] = []
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        value, depth, in_row = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if type(value) is list:
            if (in_row or anywhere) and len(value) >= MIN_INNER_ITEMS and _small_records(value):
                found.append((len(_dumps(value)), len(found), value))
                continue
            children: Any = value
            row = True
        else:
            children = value.values()
            row = in_row or is_map(value)
        depth += 1
        for v in children:
            c = type(v)
            if c is dict or c is list:
                stack.append((v, depth, row))
    return _largest_first(found)


#: An array of ``MIN_INNER_ITEMS`` or more items, with its container and key (None for the
#: root), as ``Expanded.lists`` gives them.
LongArray = tuple[Any, Any, list[Any]]


def inner_arrays_among(arrays: list[LongArray]) -> list[list[Any]]:
    """``inner_arrays(root, anywhere=True)`` from the tree's long arrays as a walk of the
    tree finished them (children before their container), without walking it again.

    An array no longer under its key (taken out with a default value) is left out; the
    caller walks again once objects or arrays left the tree.
    """
    found: list[tuple[int, int, list[Any]]] = []
    for container, key, items in reversed(arrays):  # the order inner_arrays meets them
        if container is not None:
            if type(container) is dict:
                if container.get(key) is not items:
                    continue
            elif key >= len(container) or container[key] is not items:
                continue
        if _small_records(items):
            found.append((len(_dumps(items)), len(found), items))
    return _largest_first(found)


def _largest_first(found: list[tuple[int, int, list[Any]]]) -> list[list[Any]]:
    """The arrays of ``(size, order met, array)``, largest first, then in the order met."""
    found.sort(key=lambda t: (-t[0], t[1]))
    return [a for _, _, a in found]


def _small_records(items: list[Any]) -> bool:
    """True if every item is a scalar, a flat object or a tuple, short in compact JSON."""
    for item in items:
        if isinstance(item, (dict, list)):
            size = 2
            for k, v in item.items() if isinstance(item, dict) else enumerate(item):
                if isinstance(v, (dict, list)):
                    return False
                size += len(str(k)) + json_size(v) + 4
        else:
            size = json_size(item)
        if size > SMALL_ITEM_CHARS:
            return False
    return True


def collapse_usual_runs(
    items: list[Any], query: str | None, marker: Marker, memo: SelectionMemo | None = None
) -> float:
    """Replace runs of items holding the array's usual values by one marker each (in place).

    Usual values are those most items share (zero counts, a default state); the marker
    names them, so only fields that differ from item to item (a week, a date) are left
    out; an array whose items also differ in other ways (names, titles) is left whole.
    The first and last items, items with any unusual value and items matching the query
    stay. Returns the characters saved.
    """
    if any(_is_marker(item) for item in items):  # collapsed or sampled before
        return 0.0
    fields = [_record_fields(item) for item in items]
    usual: dict[str, ValueKey] = {}
    for key in dict.fromkeys(k for f in fields for k in f):
        counts = Counter(_value_key(f, key) for f in fields)
        value, top = counts.most_common(1)[0]
        if top >= USUAL_SHARE * len(items):
            usual[key] = value
    if not usual or not all(_ordinal(f, usual) for f in fields):
        return 0.0
    texts = [row_text(r) for r in items]
    matched: set[int] = set()
    if query and query.strip():
        scores = relevance_scores(texts, query, memo)
        matched = {i for i, s in enumerate(scores) if s > 0}
    n = len(items)
    plain = [
        0 < i < n - 1 and i not in matched and all(_value_key(f, k) == v for k, v in usual.items())
        for i, f in enumerate(fields)
    ]
    detail = _usual_detail(usual)
    out: list[Any] = []
    saved = 0.0
    i = 0
    while i < n:
        if not plain[i]:
            out.append(items[i])
            i += 1
            continue
        j = i
        while j < n and plain[j]:
            j += 1
        run = sum(len(t) + 1 for t in texts[i:j])
        span = f"items {i}-{j - 1}" + (f", each {detail}" if detail else "")
        if j - i >= 2 and run > MARKER_CHARS + len(span):
            out.append(marker(j - i, "items", span))
            saved += run - len(out[-1]) - 3  # quotes and comma
        else:
            out.extend(items[i:j])
        i = j
    if not saved:
        return 0.0
    items[:] = out
    return saved


def _ordinal(fields: dict[str, Any], usual: dict[str, ValueKey]) -> bool:
    """True if the item's fields that are not usual hold numbers or dates.

    A week, a day or a count follows from its neighbours; names and titles are facts a
    marker could not restate.
    """
    for key, v in fields.items():
        if key in usual:
            continue
        if isinstance(v, bool) or not (
            isinstance(v, (int, float)) or (isinstance(v, str) and _DATE.match(v))
        ):
            return False
    return True


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


#: A scalar with its type (True is not 1), or ``_ABSENT``.
ValueKey = tuple[type, Any]
_ABSENT: ValueKey = (object, None)  # no value's type is ``object`` itself


def _value_key(fields: dict[str, Any], key: str) -> ValueKey:
    if key not in fields:
        return _ABSENT
    v = fields[key]
    return (type(v), v)


def _record_fields(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    return positional(item) if isinstance(item, list) else {"": item}


def _is_marker(item: Any) -> bool:
    return isinstance(item, str) and item.startswith("[headroom: ")


def _usual_detail(usual: dict[str, ValueKey]) -> str:
    """``a=0 d=0 c=0``: the usual values a marker detail can hold unchanged."""
    parts: list[str] = []
    for key, value in usual.items():
        if value == _ABSENT:  # usually absent: the legend's default applies, if any
            continue
        dumped = _dumps(value[1])
        shown = dumped[1:-1] if dumped.startswith('"') else dumped
        part = f"{key}={shown}" if key else shown
        if _DETAIL_UNSAFE.search(part) or len(part) > 40:
            continue
        if sum(len(p) + 1 for p in parts) + len(part) > 100:
            break
        parts.append(part)
    return " ".join(parts)


_DETAIL_UNSAFE = re.compile(r"[()\[\]\"\\\n\r,]|^$")
