"""Lossless JSON factoring: default values and derivable link fields, per schema path.

Objects are grouped by their schema path (``.items[].owner``: keys, with ``[]`` for any
array index). Within a group, a field with one value everywhere is stated once
(``const``), and a URL field that a template over the object's own fields (or its
parent's, as ``{../key}``) reproduces exactly is stated once as that template
(``derived``). Every removal is restated in the legend, so the model can rebuild any value.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any

# orjson writes compact JSON about ten times, and reads it about twice, as fast as json
from orjson import dumps as _fast_dumps
from orjson import loads as _fast_loads

#: Subtrees deeper than this are left as they are (bounded work on pathological nesting).
MAX_DEPTH = 64
#: Links shown to people stay literal: agents quote them to users and open them as is.
KEEP_LITERAL_KEYS = frozenset({"html_url", "web_url", "permalink", "permalink_url"})
#: Keys an object is best known by, tried first when a repeated object is referenced.
ID_KEYS = ("login", "full_name", "name", "slug", "key", "id", "sha", "number", "title")

_PLACEHOLDER_BASE = 0xF0000  # supplementary private use area: never in a template literal
_PUA = re.compile("[\U000f0000-\U000ffffd]")


@dataclass
class Factoring:
    """What the lossless stage restated, keyed by schema path (for the legend)."""

    const: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: objects each derived field was removed from, by (path, key)
    derived_hits: dict[tuple[str, str], int] = field(default_factory=dict)
    derived: dict[str, dict[str, str]] = field(default_factory=dict)
    #: at most the characters the removals took out of the compact JSON (``"k":v`` each)
    removed_chars: int = 0


def is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


#: An object with at least this many keys, all holding objects, is a map (``.*`` in paths).
MAP_MIN_KEYS = 8


def is_map(obj: dict[str, Any]) -> bool:
    """True for objects keyed by data (ids, versions, names) rather than by field names."""
    if len(obj) < MAP_MIN_KEYS:
        return False
    values = obj.values()
    # most objects fail at their first value: no generator for those
    return isinstance(next(iter(values)), dict) and all(isinstance(v, dict) for v in values)


#: Objects with their schema path and nearest enclosing object, as ``walk_dicts`` gives them.
Dicts = list[tuple[str, dict[str, Any], dict[str, Any] | None]]


def walk_dicts(root: Any) -> Dicts:
    """Every object in document order with its schema path and nearest enclosing object."""
    out: Dicts = []
    if isinstance(root, (dict, list)):
        _walk(root, "", None, 0, out)
    return out


def _walk(value: Any, path: str, parent: dict[str, Any] | None, depth: int, out: Dicts) -> None:
    # the hottest loop of the compressor: exact class checks (json gives plain dicts and lists)
    if depth > MAX_DEPTH:
        return
    depth += 1
    if value.__class__ is list:
        sub = path + "[]"
        for v in value:
            c = v.__class__
            if c is dict or c is list:
                _walk(v, sub, parent, depth, out)
        return
    out.append((path, value, parent))
    if len(value) >= MAP_MIN_KEYS and is_map(value):  # entries keyed by id share one path
        sub = path + ".*"
        for v in value.values():
            _walk(v, sub, value, depth, out)
        return
    for k, v in value.items():
        c = v.__class__
        if c is dict or c is list:
            _walk(v, f"{path}.{k}", value, depth, out)


def _looks_like_url(key: str, value: str) -> bool:
    return "://" in value or key.endswith(("url", "href"))


def same_value(a: Any, b: Any) -> bool:
    """Equal and of the same type (True is not 1), items of lists too."""
    if isinstance(a, list) and isinstance(b, list):
        return a == b and _dumps(a) == _dumps(b)
    return type(a) is type(b) and a == b


def _source_text(v: Any) -> str | None:
    if isinstance(v, str):
        return v if v and (v.isascii() or not _PUA.search(v)) else None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


def _sub_bounded(text: str, value: str, repl: str) -> str:
    """``text`` with ``value`` replaced where it is not part of a longer word (ids must not
    match inside hex): no ASCII letter or digit right before or after it.

    As ``re.sub`` with lookarounds would, without compiling a pattern per value (values are
    ids, names and numbers: most are seen once).
    """
    out: list[str] = []
    pos = start = 0
    n, end = len(value), len(text)
    while (i := text.find(value, start)) >= 0:
        j = i + n
        if (i == 0 or not _word_char(text[i - 1])) and (j == end or not _word_char(text[j])):
            out.append(text[pos:i])
            out.append(repl)
            pos = start = j
        else:
            start = i + 1
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


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
            t2 = _sub_bounded(t, src, chr(_PLACEHOLDER_BASE + len(names)))
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
    parts = _template_parts(template)
    if len(parts) == 2:  # one placeholder, as most links have: the loop below, unrolled
        literal, key, up, placeholder = parts[0]
        src = parent if up else obj
        if src is None or key not in src:
            return template
        v = src[key]
        if v.__class__ is str and v and v.isascii():
            return literal + v + parts[1][0]
        text = _source_text(v)
        return None if text is None else literal + text + parts[1][0]
    out: list[str] = []
    for literal, key, up, placeholder in parts:
        out.append(literal)
        if not placeholder:
            continue
        src = parent if up else obj
        if src is None or key not in src:
            out.append(placeholder)  # a literal brace pair such as {/other_user}
            continue
        v = src[key]
        if v.__class__ is str and v and v.isascii():  # the common case, as _source_text
            out.append(v)
            continue
        s = _source_text(v)
        if s is None:
            return None
        out.append(s)
    return "".join(out)


def factor_groups(root: Any, dicts: Dicts | None = None) -> Factoring:
    """Remove default and derivable field values in place; return what to restate.

    Only keys every object at a path has are factored, so a key missing from an object
    can only mean its default (or derived) value applies. Objects whose value differs keep
    it; a default must cover at least ``DEFAULT_SHARE`` of the objects. ``dicts`` is
    ``walk_dicts(root)`` if the caller has it.
    """
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for path, obj, parent in walk_dicts(root) if dicts is None else dicts:
        group = groups.get(path)
        if group is None:
            groups[path] = [(obj, parent)]
        else:
            group.append((obj, parent))
    fact = Factoring()
    for path, members in groups.items():
        if len(members) < 2:
            continue
        first = members[0][0]
        shared = set(first).intersection(*[m[0].keys() for m in members])
        common = [k for k in first if k in shared]
        defaults = _defaults(members, common, path.endswith("[]")) if len(members) >= 3 else {}
        derived: dict[str, str] = {}
        hits: dict[str, list[bool]] = {}
        sources: list[list[tuple[str, str]]] | None = None
        for k in common:
            if k in defaults or k in KEEP_LITERAL_KEYS:
                continue
            # templates come from the first objects' strings: none, no template to check
            if all(m[0][k].__class__ is not str for m in members[:3]):
                continue
            if not _links_at_least_twice(k, members):
                continue
            if sources is None:  # once per group: the same for every key tried
                sources = [_sources(o, p, set(defaults)) for o, p in members[:3]]
            found = _derive(k, members, sources)
            if found is not None:
                derived[k], hits[k] = found
        if not defaults and not derived:
            continue
        # a template naming a key removed here must be tried again on what is left
        removed = set(defaults).union(derived)
        recheck = {k for k, t in derived.items() if removed.intersection(_own_keys(t))}
        cut = 0
        # key by key: an object loses its defaults, then its derived keys in order, as it
        # would object by object (a template rechecked sees the keys removed before it)
        for k, v in defaults.items():
            c, size = v.__class__, len(k) + 4
            # same_value(obj[k], v), inlined: this loop visits every factored value
            for obj, _ in members:
                w = obj[k]
                if w.__class__ is c and w == v and (c is not list or _dumps(w) == _dumps(v)):
                    del obj[k]
                    cut += size
        firsts: list[tuple[int, int, tuple[str, str], int]] = []
        for j, (k, t) in enumerate(derived.items()):
            hit_at = hits[k]
            if k in recheck:
                hit_at = [render_template(t, o, p) == o[k] for o, p in members]
            for (obj, _), h in zip(members, hit_at, strict=True):
                if h:
                    del obj[k]
            n_hits = hit_at.count(True)
            if n_hits:
                cut += (len(k) + 4) * n_hits
                firsts.append((hit_at.index(True), j, (path or ".", k), n_hits))
        for _, _, hit, n_hits in sorted(firsts):  # in the order objects first lost them
            fact.derived_hits[hit] = fact.derived_hits.get(hit, 0) + n_hits
        fact.removed_chars += cut
        if defaults:
            fact.const[path or "."] = defaults
        if derived:
            fact.derived[path or "."] = derived
    return fact


def _links_at_least_twice(key: str, members: list[tuple[dict[str, Any], Any]]) -> bool:
    """True if at least two of the objects hold a link (a URL-like string) under ``key``."""
    found = 0
    link_key = key.endswith(("url", "href"))
    for obj, _ in members:
        v = obj[key]
        if isinstance(v, str) and (link_key or "://" in v):
            found += 1
            if found == 2:
                return True
    return False


#: A value counts as a path's default when at least this share of its objects have it.
DEFAULT_SHARE = 0.75
#: Lists of scalars up to this long can be a default value.
MAX_DEFAULT_ITEMS = 16


def _defaults(
    members: list[tuple[dict[str, Any], dict[str, Any] | None]], common: list[str], rows: bool
) -> dict[str, Any]:
    n = len(members)
    out: dict[str, Any] = {}
    least = DEFAULT_SHARE * n
    if not common:
        return out
    # the values of each key across the objects, as columns (one pass in C, not one per key)
    if len(common) == 1:
        columns: Any = [[obj[common[0]] for obj, _ in members]]
    else:
        get = itemgetter(*common)
        columns = zip(*[get(obj) for obj, _ in members], strict=True)
    for k, column in zip(common, columns, strict=True):
        values = list(column)
        try:
            # a value held by ``least`` objects leaves at most n - least others: more distinct
            # values than that (ids, titles, dates) rule the key out, as cheaply as a set
            distinct = len(set(values))
            if distinct > n - least + 1:
                continue
            if distinct == 1 and len(set(map(type, values))) == 1:  # one value: no counting
                out[k] = values[0]
                continue
            keys = [(v.__class__, v) for v in values]
            counts = Counter(keys)
        except TypeError:  # a list or an object: see _container_counts
            found = _container_counts(values)
            if found is None:
                continue
            keys, counts = found
        key, c = max(counts.items(), key=itemgetter(1))
        v = values[keys.index(key)]
        # in table rows a sparse default leaves "@" cells: worth it for longer values only
        if c == n or (c >= DEFAULT_SHARE * n and (not rows or len(_dumps(v)) >= 6)):
            out[k] = v
    return out


def _container_counts(values: list[Any]) -> tuple[list[Any], Counter[Any]] | None:
    """``_defaults``' keys and counts for values that may be lists or objects.

    Empty objects and short lists of scalars (tags, scopes) can be defaults; any other
    container rules the key out.
    """
    keys: list[Any] = []
    for v in values:
        if is_scalar(v):
            keys.append((v.__class__, v))
        elif v == {}:
            keys.append((dict, None))
        elif isinstance(v, list) and len(v) <= MAX_DEFAULT_ITEMS and all(map(is_scalar, v)):
            keys.append((list, _dumps(v)))
        else:
            return None
    return keys, Counter(keys)


def _derive(
    key: str,
    members: list[tuple[dict[str, Any], dict[str, Any] | None]],
    sources: list[list[tuple[str, str]]],
) -> tuple[str, list[bool]] | None:
    """The template that reproduces ``key`` in the most objects (at least ``DEFAULT_SHARE``).

    Templates are tried from the first objects, with ``sources`` their fields' texts.
    Returns the template and, per member, whether it reproduces the member's value.
    """
    best: tuple[str, list[bool]] | None = None
    best_hits = 0
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
        matched: list[bool] = []
        misses = 0
        single = _single_placeholder(t, members)
        if single is not None:
            # one placeholder of the object's own (most links): render_template's common
            # cases inline, as this runs over every object of the path for every template
            literal, own, tail = single
            matched = [
                literal + v + tail == o[key]
                if (v := o.get(own)).__class__ is str and v and v.isascii()
                else literal + str(v) + tail == o[key]
                if v.__class__ is int
                else render_template(t, o, p) == o[key]
                for o, p in members
            ]
            misses = matched.count(False)
        else:
            for o, p in members:
                ok = render_template(t, o, p) == o[key]
                matched.append(ok)
                if not ok:
                    misses += 1
                    if misses > allowed_misses:
                        break
        hits = len(matched) - misses
        if misses <= allowed_misses and hits > best_hits:
            best, best_hits = (t, matched), hits
            if hits == len(members):  # no later template can do better
                break
    if best_hits >= 2 and best_hits >= DEFAULT_SHARE * len(members):
        return best
    return None


def _single_placeholder(
    template: str, members: list[tuple[dict[str, Any], dict[str, Any] | None]]
) -> tuple[str, str, str] | None:
    """``(text before, key, text after)`` if ``template`` names one key of the objects' own.

    Placeholders naming no key of any object (``{/other_user}`` in API links) render as
    their own text: they are part of the literal text around the one that does.
    """
    parts = _template_parts(template)
    if any(up for _, _, up, _ in parts):
        return None
    held = [
        i for i, (_, key, _, ph) in enumerate(parts) if ph and any(key in o for o, _ in members)
    ]
    if len(held) != 1:
        return None
    i = held[0]
    before = "".join(lit + ph for lit, _, _, ph in parts[:i]) + parts[i][0]
    after = "".join(lit + ph for lit, _, _, ph in parts[i + 1 :])
    return before, parts[i][1], after


def _own_keys(template: str) -> set[str]:
    """Keys of the object itself (not of its parent) that ``template`` names."""
    return {key for _, key, up, placeholder in _template_parts(template) if placeholder and not up}


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# the C encoder ``_ENCODER.encode`` builds on every call, built once; without the circular
# check, which trees parsed from text never need
_C_ENCODE: Any = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True
    )
)


_ENCODE_STR: Any = encode_basestring  # what _ENCODER.encode does for a str (C, if built)

#: True while a tree holding NaN or an infinity is written: orjson would write ``null``.
_STDLIB_ONLY: ContextVar[bool] = ContextVar("headroom_json_stdlib_only", default=False)


def stdlib_only() -> ContextVar[bool]:
    """The switch that keeps ``dumps`` on the standard library (set it, then reset it)."""
    return _STDLIB_ONLY


def dumps(v: Any) -> str:
    """Compact JSON, as the model sees it.

    orjson writes it when it can: it raises (and the standard library writes instead) on
    integers beyond 64 bits and lone surrogates, and the caller sets ``stdlib_only`` for trees
    holding NaN or infinities. Both give the same text except for float exponents (``1e-08``
    here, ``1e-8`` there), which read back as the same number. A lone surrogate in a string
    is written as its ``\\u`` escape, as it came.
    """
    if v.__class__ is str:
        out: str = _ENCODE_STR(v)
    else:
        if not _STDLIB_ONLY.get():
            try:
                return _fast_dumps(v).decode()
            except TypeError:
                pass
        out = _ENCODER.encode(v) if _C_ENCODE is None else "".join(_C_ENCODE(v, 0))
    if out.isascii() or _SURROGATE.search(out) is None:
        return out
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", out)


#: A lone surrogate (JSON can escape one; UTF-8 cannot hold it, nor can a tokenizer).
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads_own(text: str) -> Any:
    """Parse JSON that ``dumps`` wrote, with orjson unless ``stdlib_only`` is set.

    orjson reads it exactly, about twice as fast as the standard library, when the tree had
    no integer beyond 64 bits (orjson reads one as a float): callers set ``stdlib_only`` for
    trees that might.
    """
    if not _STDLIB_ONLY.get():
        try:
            return _fast_loads(text)
        except ValueError:
            pass
    return json.loads(text)


def loads_fast(text: str) -> tuple[Any, bool]:
    """Parse ``text``; True with the value if orjson read it (an integer beyond 64 bits, if
    any, is then a float: check for ``odd_float`` values), False if the standard library did.

    Raises ``ValueError`` (``json.JSONDecodeError``) or ``RecursionError`` if neither can.
    """
    try:
        return _fast_loads(text), True
    except ValueError:
        pass  # NaN, Infinity, lone surrogates, deep nesting: the standard library decides
    return json.loads(text), False


#: Floats at least this large that are whole numbers may be integers orjson read as floats.
BIG_INT_FLOAT = 9.2e18


def odd_float(v: float) -> bool:
    """NaN, an infinity (orjson writes ``null``), or a whole float of 2**63 or more."""
    return v - v != 0 or (abs(v) >= BIG_INT_FLOAT and v.is_integer())


_dumps = dumps
