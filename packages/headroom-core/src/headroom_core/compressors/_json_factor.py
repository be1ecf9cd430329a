"""Lossless JSON factoring: constant fields, derivable URL fields, repeated objects, tables.

Objects are grouped by their schema path (``.items[].owner``: keys, with ``[]`` for any
array index). Within a group, a field with one value everywhere is stated once
(``const``), and a URL field that a template over the object's own fields (or its
parent's, as ``{../key}``) reproduces exactly is stated once as that template
(``derived``). Every removal is restated in the legend, so the model can rebuild any value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

#: Subtrees deeper than this are left as they are (bounded work on pathological nesting).
MAX_DEPTH = 64
#: Links shown to people stay literal: agents quote them to users and open them as is.
KEEP_LITERAL_KEYS = frozenset({"html_url", "web_url", "permalink", "permalink_url"})
#: Keys an object is best known by, tried first when a repeated object is referenced.
ID_KEYS = ("login", "full_name", "name", "slug", "key", "id", "sha", "number", "title")
#: Keys the compact form uses; a document that already has one keeps its plain shape.
RESERVED_KEYS = frozenset({"@cols", "@rows", "@same", "@legend", "@data"})
ABSENT = "@"

_PLACEHOLDER_BASE = 0xF0000  # supplementary private use area: never in a template literal
_PUA = re.compile("[\U000f0000-\U000ffffd]")


@dataclass
class Factoring:
    """What the lossless stage restated, keyed by schema path (for the legend)."""

    const: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: objects each derived field was removed from, by (path, key)
    derived_hits: dict[tuple[str, str], int] = field(default_factory=dict)
    derived: dict[str, dict[str, str]] = field(default_factory=dict)


def is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def walk_dicts(root: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Every object in document order with its schema path and nearest enclosing object."""
    stack: list[tuple[Any, str, dict[str, Any] | None, int]] = [(root, "", None, 0)]
    while stack:
        value, path, parent, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            yield path, value, parent
            children = [
                (v, f"{path}.{k}", value, depth + 1)
                for k, v in value.items()
                if isinstance(v, (dict, list))
            ]
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(
                (v, f"{path}[]", parent, depth + 1)
                for v in reversed(value)
                if isinstance(v, (dict, list))
            )


def _looks_like_url(key: str, value: str) -> bool:
    return "://" in value or key.endswith(("url", "href"))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _source_text(v: Any) -> str | None:
    if isinstance(v, str):
        return v if v and not _PUA.search(v) else None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


@lru_cache(maxsize=4096)
def _bounded(value: str) -> re.Pattern[str]:
    """``value`` where it is not part of a longer word (ids must not match inside hex)."""
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])")


def _sources(
    obj: dict[str, Any], parent: dict[str, Any] | None, skip: set[str]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in obj.items():
        if k in skip:
            continue
        s = _source_text(v)
        if s is None:
            continue
        if k in KEEP_LITERAL_KEYS or not (isinstance(v, str) and _looks_like_url(k, v)):
            out.append((k, s))
    if parent is not None:
        for k, v in parent.items():
            s = _source_text(v)
            if s is not None and not (isinstance(v, str) and _looks_like_url(k, v)):
                out.append((f"../{k}", s))
    out.sort(key=lambda kv: (-len(kv[1]), kv[0]))
    return out


def _template(value: str, sources: list[tuple[str, str]]) -> str | None:
    """``value`` with other fields' values replaced by ``{key}``; None if nothing matched."""
    if _PUA.search(value):
        return None
    names: list[str] = []
    t = value
    for name, src in sources:
        if src in t:
            t2 = _bounded(src).sub(chr(_PLACEHOLDER_BASE + len(names)), t)
            if t2 != t:
                names.append(name)
                t = t2
    if not names:
        return None
    if "{" in t or "}" in t:
        # a literal brace next to a placeholder would be ambiguous; braces stay only if the
        # literal parts never look like a placeholder name
        for name in names:
            if "{" + name + "}" in t:
                return None
    return _PUA.sub(lambda m: "{" + names[ord(m.group()) - _PLACEHOLDER_BASE] + "}", t)


_PLACEHOLDER = re.compile(r"\{(\.\./)?([^{}]+)\}")


@lru_cache(maxsize=1024)
def _template_parts(template: str) -> tuple[tuple[str, str, bool, str], ...]:
    """(literal before, key, from parent, placeholder text) per placeholder, then the tail."""
    parts: list[tuple[str, str, bool, str]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        parts.append((template[pos : m.start()], m.group(2), bool(m.group(1)), m.group()))
        pos = m.end()
    parts.append((template[pos:], "", False, ""))
    return tuple(parts)


def render_template(
    template: str, obj: dict[str, Any], parent: dict[str, Any] | None
) -> str | None:
    """The value ``template`` stands for in ``obj``; None if a named field is not text."""
    out: list[str] = []
    for literal, key, up, placeholder in _template_parts(template):
        out.append(literal)
        if not placeholder:
            continue
        src = parent if up else obj
        if src is None or key not in src:
            out.append(placeholder)  # a literal brace pair such as {/other_user}
            continue
        s = _source_text(src[key])
        if s is None:
            return None
        out.append(s)
    return "".join(out)


def factor_groups(root: Any) -> Factoring:
    """Remove default and derivable field values in place; return what to restate.

    Only keys every object at a path has are factored, so a key missing from an object
    can only mean its default (or derived) value applies. Objects whose value differs keep
    it; a default must cover at least ``DEFAULT_SHARE`` of the objects.
    """
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for path, obj, parent in walk_dicts(root):
        groups.setdefault(path, []).append((obj, parent))
    fact = Factoring()
    for path, members in groups.items():
        if len(members) < 2:
            continue
        first = members[0][0]
        common = [k for k in first if all(k in m[0] for m in members)]
        defaults = _defaults(members, common, path.endswith("[]")) if len(members) >= 3 else {}
        derived: dict[str, str] = {}
        sources: list[list[tuple[str, str]]] | None = None
        for k in common:
            if k in defaults or k in KEEP_LITERAL_KEYS:
                continue
            if sum(isinstance(m[0][k], str) and _looks_like_url(k, m[0][k]) for m in members) < 2:
                continue
            if sources is None:  # once per group: the same for every key tried
                sources = [_sources(o, p, set(defaults)) for o, p in members[:3]]
            t = _derive(k, members, sources)
            if t is not None:
                derived[k] = t
        if not defaults and not derived:
            continue
        for obj, parent in members:
            for k, v in defaults.items():
                if _same(obj[k], v):
                    del obj[k]
            for k, t in derived.items():
                if render_template(t, obj, parent) == obj[k]:
                    del obj[k]
                    hit = (path or ".", k)
                    fact.derived_hits[hit] = fact.derived_hits.get(hit, 0) + 1
        if defaults:
            fact.const[path or "."] = defaults
        if derived:
            fact.derived[path or "."] = derived
    return fact


#: A value counts as a path's default when at least this share of its objects have it.
DEFAULT_SHARE = 0.75


def _defaults(
    members: list[tuple[dict[str, Any], dict[str, Any] | None]], common: list[str], rows: bool
) -> dict[str, Any]:
    n = len(members)
    out: dict[str, Any] = {}
    for k in common:
        counts: dict[tuple[type, Any], int] = {}
        first_value: dict[tuple[type, Any], Any] = {}
        for obj, _ in members:
            v = obj[k]
            if is_scalar(v):
                key = (v.__class__, v)
            elif v == [] or v == {}:
                key = (v.__class__, None)
            else:
                break
            counts[key] = counts.get(key, 0) + 1
            if key not in first_value:
                first_value[key] = v
        else:
            key, c = max(counts.items(), key=lambda kv: kv[1])
            v = first_value[key]
            # in table rows a sparse default leaves "@" cells: worth it for longer values only
            if c == n or (c >= DEFAULT_SHARE * n and (not rows or len(_dumps(v)) >= 6)):
                out[k] = v
    return out


def _derive(
    key: str,
    members: list[tuple[dict[str, Any], dict[str, Any] | None]],
    sources: list[list[tuple[str, str]]],
) -> str | None:
    """The template that reproduces ``key`` in the most objects (at least ``DEFAULT_SHARE``).

    Templates are tried from the first objects, with ``sources`` their fields' texts.
    """
    best, best_hits = None, 0
    tried: set[str] = set()
    for (obj, _), src in zip(members, sources, strict=False):
        value = obj[key]
        if not isinstance(value, str):
            continue
        t = _template(value, [kv for kv in src if kv[0] != key])
        if t is None or t in tried:
            continue
        tried.add(t)
        allowed_misses = len(members) - max(2, DEFAULT_SHARE * len(members))
        hits = misses = 0
        for o, p in members:
            if render_template(t, o, p) == o[key]:
                hits += 1
            else:
                misses += 1
                if misses > allowed_misses:
                    break
        if misses <= allowed_misses and hits > best_hits:
            best, best_hits = t, hits
    if best_hits >= 2 and best_hits >= DEFAULT_SHARE * len(members):
        return best
    return None


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(v: Any) -> str:
    """Compact JSON, as the model sees it (one shared encoder: no per-call setup)."""
    return _ENCODER.encode(v)


_dumps = dumps


def factor_lookups(root: Any) -> dict[str, dict[str, Any]]:
    """Move fields that follow from an object's id into one table per path (in place).

    For objects that repeat (the same user or label on many rows), fields whose value is a
    function of the id key (``login``, ``name``...) are stated once per id in the legend.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, obj, _ in walk_dicts(root):
        if path:
            groups.setdefault(path, []).append(obj)
    out: dict[str, dict[str, Any]] = {}
    for path, objs in groups.items():
        if len(objs) < 4 or len(objs[0]) > 8:
            continue
        entry = _lookup(objs)
        if entry is not None:
            out[path] = entry
    return out


def _lookup(objs: list[dict[str, Any]]) -> dict[str, Any] | None:
    first = objs[0]
    common = [k for k in first if all(k in o for o in objs)]
    by = next((k for k in ID_KEYS if k in common), None)
    if by is None or not all(isinstance(o[by], str) for o in objs):
        return None
    ids: dict[str, dict[str, Any]] = {}
    for o in objs:
        ids.setdefault(o[by], o)
    if len(ids) * 2 > len(objs):
        return None  # objects rarely repeat: nothing to gain
    fields = [
        k
        for k in common
        if k != by
        and all(is_scalar(o[k]) for o in objs)
        and all(_same(o[k], ids[o[by]][k]) for o in objs)
    ]
    if not fields:
        return None
    values = {i: [o[k] for k in fields] for i, o in ids.items()}
    saved = sum(len(_dumps([o[k] for k in fields])) for o in objs) - len(_dumps(values))
    if saved < 40:
        return None
    for o in objs:
        for k in fields:
            del o[k]
    return {"by": by, "fields": fields, "values": values}


def dedupe_objects(root: Any) -> bool:
    """Replace repeats of an object by ``{id_key: value, "@same": id_key}``; True if any.

    The id key is one whose value names a single distinct object in the whole document, so
    the reference stands for exactly the one full object shown earlier with that value.
    The first occurrence of any content is never inside a replaced object (its container's
    own first occurrence came earlier), so every reference resolves to visible text.
    """
    # rows themselves (objects right in an array at the top) are rarely repeated and are the
    # biggest to serialise: only what they contain is considered. Only objects whose scalar
    # fields repeat can repeat at all, so only those are serialised; any other object is a
    # content of its own (its identity stands for its text)
    objs = [obj for path, obj, _ in walk_dicts(root) if path and not _is_row_path(path)]
    prints = [_fingerprint(obj) for obj in objs]
    counts: dict[tuple[Any, ...], int] = {}
    for fp in prints:
        counts[fp] = counts.get(fp, 0) + 1
    members: list[tuple[dict[str, Any], str]] = [
        (obj, _dumps(obj) if counts[fp] > 1 else f"#{id(obj)}")
        for obj, fp in zip(objs, prints, strict=True)
    ]
    owners: dict[tuple[str, str], str | None] = {}
    for obj, text in members:
        for k, v in obj.items():
            ident = _ident(v)
            if ident is not None:
                prev = owners.setdefault((k, ident), text)
                if prev is not None and prev != text:
                    owners[(k, ident)] = None
    replaced: dict[int, dict[str, Any]] = {}
    seen: set[str] = set()
    for obj, text in members:
        if text in seen:
            key = next(
                (
                    k
                    for k in (*[k for k in ID_KEYS if k in obj], *obj)
                    if _ID_NAME.search(k) and owners.get((k, _ident(obj[k]) or "")) == text
                ),
                None,
            )
            if key is not None:
                ref = {key: obj[key], "@same": key}
                if len(_dumps(ref)) + 12 < len(text):
                    replaced[id(obj)] = ref
        seen.add(text)
    if not replaced:
        return False
    _replace_by_identity(root, replaced)
    return True


_ID_NAME = re.compile(r"(^|_)(id|name|key|slug|number|sha|login|title|uuid)$", re.I)


def _fingerprint(obj: dict[str, Any]) -> tuple[Any, ...]:
    """Equal for equal objects (scalars by value, containers by type and size)."""
    return tuple(
        (k, v.__class__, v) if is_scalar(v) else (k, v.__class__, len(v)) for k, v in obj.items()
    )


def _is_row_path(path: str) -> bool:
    return path.endswith("[]") and "[]" not in path[:-2]


def _ident(v: Any) -> str | None:
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


def tabulate(value: Any, depth: int = 0) -> tuple[Any, int]:
    """Arrays of two or more objects with mostly the same keys become ``@cols``/``@rows``.

    Works in place where it can; returns the new value and how many tables it made.
    Strings in such an array (omission markers) stay in ``@rows`` as they are; a key an
    object lacks is the cell ``"@"``.
    """
    if depth > MAX_DEPTH:
        return value, 0
    made = 0
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                value[k], n = tabulate(v, depth + 1)
                made += n
        return value, made
    if not isinstance(value, list):
        return value, 0
    for i, v in enumerate(value):
        if isinstance(v, (dict, list)):
            value[i], n = tabulate(v, depth + 1)
            made += n
    table = _table(value)
    return (value, made) if table is None else (table, made + 1)


def _table(items: list[Any]) -> dict[str, Any] | None:
    rows = [v for v in items if isinstance(v, dict)]
    if len(rows) < 2 or any(not (isinstance(v, (dict, str))) for v in items):
        return None
    if len(rows) < len(items) and any(
        isinstance(v, str) and not v.startswith("[headroom: ") for v in items
    ):
        return None
    cols: dict[str, None] = {}
    for r in rows:
        for k in r:
            cols.setdefault(k, None)
    if not cols:
        return None
    cells = len(cols) * len(rows)
    missing = sum(len(cols) - len(r) for r in rows)
    if missing * 4 > cells:
        return None
    names = list(cols)
    table_rows: list[Any] = [
        [r.get(k, ABSENT) for k in names] if isinstance(r, dict) else r for r in items
    ]
    table = {"@cols": names, "@rows": table_rows}
    if len(rows) < 8 and len(_dumps(table)) >= len(_dumps(items)):
        return None  # too few rows for the column names to pay for themselves
    return table


def has_reserved_keys(root: Any) -> bool:
    """True if the document already uses a key or value the compact form gives a meaning."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            if not RESERVED_KEYS.isdisjoint(value):
                return True
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
        if isinstance(value, dict) and ABSENT in value.values():
            return True
    return False
