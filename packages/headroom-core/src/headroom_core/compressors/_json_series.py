"""Long arrays of small records (weekly counts, daily views): shrink them before rows go.

Runs of items holding the array's usual values (zero counts, a default state) become one
marker naming those values, so only fields that follow from their neighbours (a week, a
date) are left out. Arrays nested in rows are found apart, so they can give up items
before whole rows do.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain, repeat
from operator import and_, eq
from typing import Any

from ._json_factor import MAX_DEPTH, dumps, is_map, is_marker
from ._json_select import (
    MARKER_CHARS,
    Marker,
    SelectionMemo,
    json_size,
    key_terms,
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
    stay. Returns the characters saved. ``memo`` keeps the runs of each array met, by its
    compact JSON: an array of the same items again (a selection afresh) is collapsed alike.
    """
    if memo is None:
        saved, runs = _usual_runs(items, query, marker, None, None)
    else:
        array_json = _dumps(items)
        known = memo.runs.get(array_json)
        if known is None:
            known = memo.runs[array_json] = _usual_runs(items, query, marker, memo, array_json)
        saved, runs = known
    if runs:
        out: list[Any] = []
        i = 0
        for start, end, mark in runs:
            out.extend(items[i:start])
            out.append(mark)
            i = end
        out.extend(items[i:])
        items[:] = out
    return saved


def _usual_runs(
    items: list[Any],
    query: str | None,
    marker: Marker,
    memo: SelectionMemo | None,
    array_json: str | None,
) -> tuple[float, list[tuple[int, int, str]]]:
    """``collapse_usual_runs``' work: the characters it saves and the runs of ``items`` it
    collapses, as (first item, item after the last, marker); no runs if it saves nothing.
    ``array_json`` is ``_dumps(items)`` if the caller has it."""
    classes = set(map(type, items))
    text_items = any(issubclass(c, str) for c in classes)  # items that are text (or markers)
    if text_items and any(map(is_marker, items)):
        return 0.0, []  # collapsed or sampled before
    fields = items if classes == {dict} else list(map(_record_fields, items))
    n = len(items)
    # each field's values, a column per field, in C where it can be (arrays of weekly
    # counts hold thousands of items): ``_NONE`` where an item lacks the field
    values: dict[str, list[Any]] = {}
    usual: dict[str, ValueKey] = {}
    for key in dict.fromkeys(chain.from_iterable(fields)):
        values[key] = found = list(map(dict.get, fields, repeat(key), repeat(_NONE)))
        value = _usual_value(found)
        if value is not None:
            usual[key] = value
    if not usual or not all(_ordinal(v) for k, v in values.items() if k not in usual):
        return 0.0, []
    matched: set[int] = set()
    if (
        query
        and query.strip()
        and _may_match(_dumps(items) if array_json is None else array_json, query)
    ):
        scores = relevance_scores(list(map(row_text, items)), query, memo)
        matched = {i for i, s in enumerate(scores) if s > 0}
    # an item is plain when it holds every usual value (and is neither first, last nor
    # matched): each column compared with its usual value, in C
    holds = [True] * n
    for key, value in usual.items():
        found = values[key]
        classes = _classes(found)
        if len(classes) <= 1 and classes <= _REFLEXIVE:  # compared as they are
            same = map(eq, found, repeat(value[1]))
        else:
            same = map(eq, zip(map(type, found), found, strict=True), repeat(value))
        holds = list(map(and_, holds, same))
    plain = [0 < i < n - 1 and held and i not in matched for i, held in enumerate(holds)]
    detail = _usual_detail(usual)
    runs: list[tuple[int, int, str]] = []
    saved = 0.0
    i = 0
    while i < n:
        if not plain[i]:
            i += 1
            continue
        j = i
        while j < n and plain[j]:
            j += 1
        # each item's text and a comma: for items that are not text, their compact JSON
        run = (
            sum(map(len, map(row_text, items[i:j]))) + j - i
            if text_items
            else len(_dumps(items[i:j])) - 1
        )
        span = f"items {i}-{j - 1}" + (f", each {detail}" if detail else "")
        if j - i >= 2 and run > MARKER_CHARS + len(span):
            mark = marker(j - i, "items", span)
            runs.append((i, j, mark))
            saved += run - len(mark) - 3  # quotes and comma
        i = j
    if not saved:
        return 0.0, []
    return saved, runs


def _usual_value(found: list[Any]) -> ValueKey | None:
    """The most frequent of a column's values (``_NONE`` for an item lacking the field) as
    a ``ValueKey``, the first met on a tie, if at least ``USUAL_SHARE`` of items hold it.

    As ``Counter`` over the ``ValueKey``s would find it, without building one for every
    value when the column holds one class of values: a value held by at least half of the
    items, found first, is the most frequent; more distinct values than such a value leaves
    room for rule every value out.
    """
    n = len(found)
    least = USUAL_SHARE * n
    if USUAL_SHARE >= 0.5 and len(_classes(found)) <= 1:
        first = found[0]
        if found.count(first) >= least:
            return _ABSENT if first is _NONE else (type(first), first)
    if len(set(found)) > n - least + 1:  # 0, 0.0 and False are one value to a set
        return None
    value, top = Counter(zip(map(type, found), found, strict=True)).most_common(1)[0]
    return value if top >= least else None


def _classes(found: list[Any]) -> set[type]:
    """The classes of a column's values, but ``_NONE``'s."""
    classes = set(map(type, found))
    classes.discard(object)
    return classes


def _may_match(array_json: str, query: str) -> bool:
    """False if no item of the array (its compact JSON given) holds a term of ``query``, so
    that none would score: the items searched as one, where ``relevance_scores`` searches
    them one by one (no term holds the comma or bracket between two items)."""
    low = array_json.lower()
    return any(w in low for w in key_terms(query))


def _ordinal(values: list[Any]) -> bool:
    """True if a field's values are numbers or dates, where items hold it (``_NONE``).

    A week, a day or a count follows from its neighbours; names and titles are facts a
    marker could not restate.
    """
    if set(map(type, values)) <= _ORDINAL_CLASSES:
        return True
    for v in values:
        if v is _NONE:
            continue
        if isinstance(v, bool) or not (
            isinstance(v, (int, float)) or (isinstance(v, str) and _DATE.match(v))
        ):
            return False
    return True


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


#: A scalar with its type (True is not 1), or ``_ABSENT``.
ValueKey = tuple[type, Any]
_NONE: Any = object()  # what an item lacking a field holds in its column
#: ``_NONE`` with its class: no value of JSON is of class ``object`` itself
_ABSENT: ValueKey = (object, _NONE)
#: Classes of values that are surely numbers (or ``_NONE``): no date to check.
_ORDINAL_CLASSES = frozenset({int, float, object})
#: Classes whose values each equal themselves (a float may be NaN): a column holding one of
#: them (and ``_NONE``) is compared value by value, with no class to tell apart.
_REFLEXIVE = frozenset({int, str, bool, type(None)})


def _record_fields(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    return positional(item) if isinstance(item, list) else {"": item}


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
