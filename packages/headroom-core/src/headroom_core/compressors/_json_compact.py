"""Compact rendering of factored JSON: lookups, references to repeated objects, tables.

These run on the copy that becomes the output, after any selection, so a reference never
points at something that was dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from ._json_factor import (
    ID_KEYS,
    MAX_DEPTH,
    Content,
    Dicts,
    content_keys,
    dumps,
    is_map,
    is_scalar,
    same_value,
    text_length,
    walk_dicts,
)

_dumps = dumps

#: Keys the compact form uses; a document that already has one keeps its plain shape.
RESERVED_KEYS = frozenset({"@cols", "@rows", "@same", "@legend", "@data"})
#: A table cell for a key the object lacks.
ABSENT = "@"


#: Objects with their items as they were, for putting back what ``factor_lookups`` took.
Undo = list[tuple[dict[str, Any], list[tuple[str, Any]]]]


def factor_lookups(
    root: Any, dicts: Dicts | None = None, undo: Undo | None = None
) -> dict[str, dict[str, Any]]:
    """Move fields that follow from an object's id into one table per path (in place).

    For objects that repeat (the same user or label on many rows), fields whose value is a
    function of the id key (``login``, ``name``...) are stated once per id in the legend.
    ``dicts`` is ``walk_dicts(root)`` if the caller has it. Given ``undo``, each object that
    loses fields is added to it first, as ``restore`` takes it.
    """
    groups: dict[str, list[dict[str, Any]] | None] = {}  # None: the first object is too big
    group_at = groups.get
    for path, obj, _ in walk_dicts(root) if dicts is None else dicts:
        group = group_at(path)
        if group is not None:
            group.append(obj)
        elif path and path not in groups:
            groups[path] = [obj] if len(obj) <= 8 else None
    out: dict[str, dict[str, Any]] = {}
    for path, objs in groups.items():
        if objs is None or len(objs) < 4:
            continue
        entry = _lookup(objs, undo)
        if entry is not None:
            out[path] = entry
    return out


def _lookup(objs: list[dict[str, Any]], undo: Undo | None) -> dict[str, Any] | None:
    first = objs[0]
    if _ID_KEY_SET.isdisjoint(first):  # no id key the objects all have
        return None
    by = next((k for k in ID_KEYS if k in first and _all_have(objs, k)), None)
    if by is None:
        return None
    keys = list(map(itemgetter(by), objs))
    if not _STR_ONLY.issuperset(map(type, keys)) and not all(isinstance(i, str) for i in keys):
        return None
    order = dict.fromkeys(keys)  # the ids in the order they first come
    if len(order) * 2 > len(objs):
        return None  # objects rarely repeat: nothing to gain
    first_of = dict(zip(reversed(keys), reversed(objs), strict=True))  # each id's first object
    # each object beside the first object of its id: the fields whose values, all scalars,
    # are the same for both
    firsts = list(map(first_of.__getitem__, keys))
    shared = set(first).intersection(*objs)
    fields = [k for k in first if k in shared and k != by and _follows(k, objs, firsts)]
    if not fields:
        return None
    values = {i: [first_of[i][k] for k in fields] for i in order}
    # the objects' values as one list of lists: each list's text, n - 1 commas and brackets
    cells = itemgetter(*fields)
    rows = [list(cells(o)) for o in objs] if len(fields) > 1 else [[cells(o)] for o in objs]
    shown = len(_dumps(rows)) - len(objs) - 1
    saved = shown - len(_dumps(values))
    if saved < 40:
        return None
    if undo is not None:
        undo.extend([(o, list(o.items())) for o in objs])
    for k in fields:
        for o in objs:
            del o[k]
    return {"by": by, "fields": fields, "values": values}


#: ``ID_KEYS`` as a set, and the one type an id must have.
_ID_KEY_SET = frozenset(ID_KEYS)
_STR_ONLY = frozenset({str})


def _all_have(objs: list[dict[str, Any]], key: str) -> bool:
    """True if every object has ``key``."""
    return all(map(dict.__contains__, objs, repeat(key)))


def _follows(key: str, objs: list[dict[str, Any]], firsts: list[dict[str, Any]]) -> bool:
    """True if every object's ``key`` holds a scalar ``same_value`` as its id's first's."""
    values = [o[key] for o in objs]
    types = set(map(type, values))
    theirs = [o[key] for o in firsts]
    if not _PLAIN_SCALARS.issuperset(types) or float in types:  # subclasses; NaN is not NaN
        return all(map(is_scalar, values)) and all(map(same_value, values, theirs))
    # equal lists: each pair is the same object or equal (no float here: a NaN is itself
    # but not equal), which is same_value for these types if the types agree too (True == 1)
    return values == theirs and (
        len(types) == 1 or list(map(type, values)) == list(map(type, theirs))
    )


#: The scalar types json gives; for these ``is_scalar`` holds.
_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


def restore(undo: Undo) -> None:
    """Put back the items ``factor_lookups`` took from the objects in ``undo`` (their order too)."""
    for obj, items in undo:
        obj.clear()
        obj.update(items)


def still_walked_alike(dicts: Dicts, lookups: dict[str, dict[str, Any]]) -> bool:
    """True if ``dicts`` still walks the tree after ``factor_lookups`` took ``lookups`` out.

    Only objects that lost fields can change, and only by becoming maps.
    """
    return not lookups or not any(is_map(obj) for path, obj, _ in dicts if path in lookups)


def dedupe_objects(root: Any, dicts: Dicts | None = None) -> bool:
    """Replace repeats of an object by ``{id_key: value, "@same": id_key}``; True if any."""
    replaced = repeated_objects(root, dicts)
    if replaced:
        _replace_by_identity(root, replaced)
    return bool(replaced)


def repeated_objects(root: Any, dicts: Dicts | None = None) -> dict[int, dict[str, Any]]:
    """The ``@same`` reference each repeated object is to be replaced by, by ``id``.

    The id key is one whose value names a single distinct object in the whole document, so
    the reference stands for exactly the one full object shown earlier with that value.
    The first occurrence of any content is never inside a replaced object (its container's
    own first occurrence came earlier), so every reference resolves to visible text.
    """
    # rows themselves (objects right in an array at the top) are rarely repeated and are the
    # biggest to serialise: only what they contain is considered. An object without an
    # id-like key is never replaced, and names no content by id: it plays no part at all
    walked = walk_dicts(root) if dicts is None else dicts
    row_paths: dict[str, bool] = {}
    objs: list[dict[str, Any]] = []
    # _has_id_name's common cases, inline: most objects have known keys, not id-like
    id_names, other_names = _ID_NAMES, _OTHER_NAMES
    for path, obj, _ in walked:
        row = row_paths.get(path)
        if row is None:  # the root is left out like rows
            row = row_paths[path] = not path or _is_row_path(path)
        if row or other_names.issuperset(obj):
            continue
        if id_names.isdisjoint(obj) and not _has_id_name(obj):
            continue
        objs.append(obj)
    # an object's content is its compact text, written in C for all of them at once
    contents = content_keys(objs)
    counts = Counter(contents)
    if len(counts) == len(contents):
        return {}
    # each object is the first of its content or a repeat of one shown before
    firsts: list[tuple[dict[str, Any], Content]] = []
    repeats: list[tuple[dict[str, Any], Content]] = []
    seen: set[Content] = set()
    for obj, content in zip(objs, contents, strict=True):
        if content in seen:
            repeats.append((obj, content))
        else:
            seen.add(content)
            firsts.append((obj, content))
    # which id-like (key, value) pairs of repeated objects name one content only: every
    # object holding such a pair must have that content. A repeat holds the same pairs as
    # the first of its content
    id_keys = {k for obj, content in firsts if counts[content] > 1 for k in obj if _is_id_name(k)}
    owners: dict[tuple[str, type, Any], Content | None] = {}
    owner = owners.setdefault
    for obj, member in firsts:
        for k in [k for k in obj if k in id_keys]:
            v = obj[k]
            if type(v) is str:  # _ident_key's common case, inline
                if not v or len(v) > 80:
                    continue
                ident: tuple[str, type, Any] = (k, str, v)
            else:
                other = _ident_key(k, v)
                if other is None:
                    continue
                ident = other
            prev = owner(ident, member)
            if prev is not None and prev != member:
                owners[ident] = None
    # every repeat of a content is replaced alike: by the first id-like key, in the order
    # tried, that names that content only, if the reference is short enough to pay
    replaced: dict[int, dict[str, Any]] = {}
    chosen: dict[Content, str | None] = {}  # content -> the key its repeats are referred by
    for obj, member in repeats:
        if member in chosen:
            key = chosen[member]
        else:
            order = [k for k in ID_KEYS if k in obj] + list(obj)
            ks = [k for k in dict.fromkeys(order) if _is_id_name(k)]
            key = next((k for k in ks if _owned_by(owners, k, obj[k]) == member), None)
            if key is not None and len(_dumps({key: obj[key], "@same": key})) + 12 >= text_length(
                member
            ):
                key = None
            chosen[member] = key
        if key is not None:
            replaced[id(obj)] = {key: obj[key], "@same": key}
    return replaced


def _owned_by(owners: dict[tuple[str, type, Any], Content | None], key: str, v: Any) -> Any:
    ident = _ident_key(key, v)
    return None if ident is None else owners.get(ident)


def _ident_key(key: str, v: Any) -> tuple[str, type, Any] | None:
    """``(key, type, value)`` for an id-like value (see ``_ident``); None for any other."""
    if type(v) is str:
        return (key, str, v) if v and len(v) <= 80 else None
    return None if _ident(v) is None else (key, type(v), v)


@lru_cache(maxsize=4096)
def _is_id_name(key: str) -> bool:
    return _ID_NAME.search(key) is not None


#: Keys known to be id-like, and known not to be (``_is_id_name``), for whole objects at once.
_ID_NAMES: set[str] = set()
_OTHER_NAMES: set[str] = set()
#: The known keys are forgotten past this many (keys of maps are data, without bound).
_NAMES_KEPT = 4096


def _has_id_name(obj: dict[str, Any]) -> bool:
    """True if any key of ``obj`` is id-like (``any(map(_is_id_name, obj))``)."""
    if not _ID_NAMES.isdisjoint(obj):
        return True
    if _OTHER_NAMES.issuperset(obj):
        return False
    if len(_OTHER_NAMES) + len(_ID_NAMES) > _NAMES_KEPT:
        _OTHER_NAMES.clear()
        _ID_NAMES.clear()
    found = False
    for k in obj:
        if _is_id_name(k):
            _ID_NAMES.add(k)
            found = True
        else:
            _OTHER_NAMES.add(k)
    return found


_ID_NAME = re.compile(r"(^|_)(id|name|key|slug|number|sha|login|title|uuid)$", re.I)


def _is_row_path(path: str) -> bool:
    return path.endswith("[]") and "[]" not in path[:-2]


def _ident(v: Any) -> str | None:
    if type(v) is str:  # the common case, as below
        return f"str:{v}" if v and len(v) <= 80 else None
    if isinstance(v, bool) or not isinstance(v, (str, int)) or len(str(v)) > 80 or v == "":
        return None
    return f"{type(v).__name__}:{v}"


def _replace_by_identity(root: Any, replaced: dict[int, dict[str, Any]]) -> None:
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict) and id(v) in replaced:
                    value[k] = replaced[id(v)]
                elif isinstance(v, (dict, list)):
                    stack.append((v, depth + 1))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, dict) and id(v) in replaced:
                    value[i] = replaced[id(v)]
                elif isinstance(v, (dict, list)):
                    stack.append((v, depth + 1))


def tabulate(
    value: Any, depth: int = 0, replaced: dict[int, dict[str, Any]] | None = None
) -> tuple[Any, int]:
    """Arrays of two or more objects with mostly the same keys become ``@cols``/``@rows``.

    Leaves ``value`` as it is: returns the new value (sharing every part that did not
    change) and how many tables it made. Strings in such an array (omission markers) stay
    in ``@rows`` as they are; a key an object lacks is the cell ``"@"``. Objects in
    ``replaced`` (from ``repeated_objects``) are swapped for their reference first, on the
    same walk.
    """
    if depth > MAX_DEPTH or not (type(value) is dict or type(value) is list):
        return value, 0
    made = [0]
    return _tabulated(value, depth, replaced or None, made), made[0]


def _tabulated(
    value: Any, depth: int, replaced: dict[int, dict[str, Any]] | None, made: list[int]
) -> Any:
    """``tabulate`` of a dict or list at ``depth <= MAX_DEPTH``, counting tables in ``made``."""
    # exact class checks: the walk visits every container of the output
    deeper = depth + 1
    out: Any = None
    if type(value) is dict:
        for k, v in value.items():
            c = type(v)
            if c is dict or c is list:
                w = v if replaced is None else replaced.get(id(v), v)
                new = w if deeper > MAX_DEPTH else _tabulated(w, deeper, replaced, made)
                if new is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = new
        return value if out is None else out
    for i, v in enumerate(value):
        c = type(v)
        if c is dict or c is list:
            w = v if replaced is None else replaced.get(id(v), v)
            new = w if deeper > MAX_DEPTH else _tabulated(w, deeper, replaced, made)
            if new is not v:
                if out is None:
                    out = list(value)
                out[i] = new
    items = value if out is None else out
    table = _table(items)
    if table is None:
        return items
    made[0] += 1
    return table


def _table(items: list[Any]) -> dict[str, Any] | None:
    if len(items) < 2:
        return None
    types = list(map(type, items))
    if types.count(dict) == len(items):
        rows: list[dict[str, Any]] = items
    else:  # objects, and omission markers between them
        rows = []
        for v, t in zip(items, types, strict=True):
            if t is dict:
                rows.append(v)
            elif t is not str or not v.startswith("[headroom: "):
                return None
        if len(rows) < 2:
            return None
    cols = dict.fromkeys(chain.from_iterable(rows))
    if not cols:
        return None
    n = len(cols)
    cells = n * len(rows)
    missing = cells - sum(map(len, rows))
    if missing * 4 > cells:
        return None
    names = list(cols)
    if len(rows) < 8 and _table_growth(names, rows) >= 0:
        return None  # too few rows for the column names to pay for themselves
    # a row with as many keys as there are columns has every one of them
    cells_of = itemgetter(*names) if n > 1 else None
    if cells_of is not None and not missing and rows is items:  # the usual table, in C
        return {"@cols": names, "@rows": list(map(list, map(cells_of, items)))}
    table_rows: list[Any] = [
        r
        if type(r) is not dict
        else list(cells_of(r))
        if cells_of is not None and len(r) == n
        else [r.get(k, ABSENT) for k in names]
        for r in items
    ]
    return {"@cols": names, "@rows": table_rows}


def _table_growth(names: list[str], rows: list[dict[str, Any]]) -> int:
    """``len(dumps(table)) - len(dumps(items))``, from the key lengths alone.

    ``names`` are the table's columns: every key of the ``rows``, once. Values and marker
    strings are written the same in both forms, so only the column names, the keys each
    object repeats, the ``"@"`` cells and the commas differ.
    """
    known = _KEY_LENGTHS
    if len(known) > _NAMES_KEPT:
        known.clear()
    key_len = {k: known.get(k) or _key_length(k) for k in names}  # no text is empty
    length = key_len.__getitem__
    n = len(names)
    commas = max(n - 1, 0)
    every = sum(map(length, names))  # the keys of a row that has them all
    growth = len('{"@cols":,"@rows":}') + 2 + every + commas
    if sum(map(len, rows)) == n * len(rows):  # every row has every key: each drops its
        return growth - len(rows) * (every + n)  # '"key":'s and adds no cell
    for r in rows:
        # a row adds an "@" cell per key it lacks and its commas; it drops its '"key":'s
        m = len(r)
        keys = every if m == n else sum(map(length, r))
        growth += 3 * (n - m) + commas - keys - m - max(m - 1, 0)
    return growth


#: The length of each key's JSON text, as ``_table_growth`` has met them.
_KEY_LENGTHS: dict[str, int] = {}


def _key_length(key: str) -> int:
    n = _KEY_LENGTHS[key] = len(_dumps(key))
    return n
