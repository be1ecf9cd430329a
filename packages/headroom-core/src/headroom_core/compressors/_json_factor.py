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
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, islice, repeat
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from operator import contains, eq, itemgetter, methodcaller
from typing import Any

# orjson writes compact JSON about ten times, and reads it about twice, as fast as json
from orjson import dumps as _fast_dumps
from orjson import loads as _fast_loads

from .._tokens import LONE_SURROGATE

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
    #: a derived null was removed (its template names a field that is null)
    null_derived: bool = False


def is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


#: An object with at least this many keys, all holding objects, is a map (``.*`` in paths).
MAP_MIN_KEYS = 8


#: Keys of the markers that stand for entries left out of a map (``"@omitted 12"``).
OMITTED_KEY = "@omitted"


def is_marker(value: Any) -> bool:
    """True for an omission marker standing as a value (a row, an item, an entry)."""
    return isinstance(value, str) and value.startswith("[headroom: ")


def is_map(obj: dict[str, Any]) -> bool:
    """True for objects keyed by data (ids, versions, names) rather than by field names.

    Markers for entries left out (under ``OMITTED_KEY`` keys) do not count against it.
    """
    if len(obj) < MAP_MIN_KEYS:
        return False
    values = obj.values()
    # most objects fail at their first value: no generator for those
    first = next(iter(values))
    if isinstance(first, dict):
        if all(isinstance(v, dict) for v in values):
            return True
    elif not is_marker(first):
        return False
    return _map_with_markers(obj)


def _map_with_markers(obj: dict[str, Any]) -> bool:
    objects = 0
    for k, v in obj.items():
        if isinstance(v, dict):
            objects += 1
        elif not (k.startswith(OMITTED_KEY) and is_marker(v)):
            return False
    return objects > 0


#: Objects with their schema path and nearest enclosing object, as ``walk_dicts`` gives them.
Dicts = list[tuple[str, dict[str, Any], dict[str, Any] | None]]


def walk_dicts(root: Any) -> Dicts:
    """Every object in document order with its schema path and nearest enclosing object."""
    out: Dicts = []
    if isinstance(root, (dict, list)):
        _walk(root, "", None, 0, out)
    return out


def _walk(value: Any, path: str, parent: dict[str, Any] | None, depth: int, out: Dicts) -> None:
    # the hottest loop of the compressor: exact class checks (json gives plain dicts and lists),
    # by type(), which the interpreter calls faster than it reads __class__
    if depth > MAX_DEPTH:
        return
    depth += 1
    if type(value) is list:
        sub = path + "[]"
        for v in value:
            c = type(v)
            if c is dict or c is list:
                _walk(v, sub, parent, depth, out)
        return
    out.append((path, value, parent))
    if len(value) >= MAP_MIN_KEYS and is_map(value):  # entries keyed by id share one path
        sub = path + ".*"
        for v in value.values():
            if type(v) is dict:  # not a marker for entries left out
                _walk(v, sub, value, depth, out)
        return
    for k, v in value.items():
        c = type(v)
        if c is dict or c is list:
            _walk(v, f"{path}.{k}", value, depth, out)


def same_value(a: Any, b: Any) -> bool:
    """Equal and of the same type (True is not 1), items of lists too."""
    if isinstance(a, list) and isinstance(b, list):
        return a == b and _dumps(a) == _dumps(b)
    return type(a) is type(b) and a == b


def _has_pua(text: str) -> bool:
    """True if ``text`` holds a character of the private use area placeholders are written in.

    Those are beyond U+FFFF: a text whose UTF-16 form has a unit per character (most
    non-ASCII text) holds none, which encoding tells several times faster than a search.
    """
    if text.isascii() or len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return False
    return _PUA.search(text) is not None


def _source_text(v: Any) -> str | None:
    if isinstance(v, str):
        return v if v and not _has_pua(v) else None
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
        if (i == 0 or text[i - 1] not in _WORD_CHARS) and (j == end or text[j] not in _WORD_CHARS):
            out.append(text[pos:i])
            out.append(repl)
            pos = start = j
        else:
            start = i + 1
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


#: The characters a value bounded by ``_sub_bounded`` may not touch: ASCII letters and digits.
_WORD_CHARS = frozenset(string.ascii_letters + string.digits)


_LINK_SUFFIXES = ("url", "href")
_BY_LENGTH = itemgetter(0, 1)  # longest text first, then by name (stable on ties)
#: The classes JSON values have (subclasses of str and int, if any, are checked as such).
JSON_CLASSES = frozenset({str, int, float, bool, type(None), dict, list})


def _own_texts(obj: dict[str, Any], skip: set[str]) -> list[tuple[int, str, str]]:
    """The texts a template may name in ``obj``: its fields but ``skip`` and its links
    (unless kept literal), as ``(-length, key, text)``."""
    # _source_text inlined: this visits every field of the objects; a link is a text with
    # "://" or under a key ending in url or href
    found: list[tuple[int, str, str]] = []
    for k, v in obj.items():
        c = type(v)
        if c is str or (c not in JSON_CLASSES and isinstance(v, str)):
            if not v or k in skip or (not v.isascii() and _has_pua(v)):
                continue
            if k in KEEP_LITERAL_KEYS or not ("://" in v or k.endswith(_LINK_SUFFIXES)):
                found.append((-len(v), k, v))
        elif (c is int or (c not in JSON_CLASSES and isinstance(v, int))) and k not in skip:
            s = str(v)
            found.append((-len(s), k, s))
    return found


def _parent_texts(parent: dict[str, Any]) -> list[tuple[int, str, str]]:
    """The texts a template may name in ``parent`` (as ``../key``): its fields but links."""
    found: list[tuple[int, str, str]] = []
    for k, v in parent.items():
        c = type(v)
        if c is str or (c not in JSON_CLASSES and isinstance(v, str)):
            if not v or "://" in v or k.endswith(_LINK_SUFFIXES):
                continue
            if v.isascii() or not _has_pua(v):
                found.append((-len(v), "../" + k, v))
        elif c is int or (c not in JSON_CLASSES and isinstance(v, int)):
            s = str(v)
            found.append((-len(s), "../" + k, s))
    return found


def _template(value: str, sources: list[tuple[str, str]], exclude: str | None = None) -> str | None:
    """``value`` with other fields' values replaced by ``{key}``; None if nothing matched.

    ``sources`` as ``_Group.sources`` gives them; the one named ``exclude`` (the field
    itself) is left out.
    """
    if _has_pua(value):
        return None
    names: list[str] = []
    t = value
    for name, src in sources:
        if src in t and name != exclude:
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
    if not all(map(str.isascii, names)):  # a name may hold a private-use character
        return _PUA.sub(lambda m: "{" + names[ord(m.group()) - _PLACEHOLDER_BASE] + "}", t)
    # the value held no private-use character: the only ones now are the placeholders
    for i, name in enumerate(names):
        t = t.replace(chr(_PLACEHOLDER_BASE + i), "{" + name + "}")
    return t


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


def _renders(template: str, obj: dict[str, Any], parent: dict[str, Any] | None, key: str) -> bool:
    """True if ``template`` gives ``obj[key]``: its text, or null when a field it names is
    null (the legend says so); a field with no text otherwise (false, "") gives no value."""
    out = render_template(template, obj, parent)
    if out is not None:
        return bool(out == obj[key])
    return obj[key] is None and _names_a_null(template, obj, parent)


def _names_a_null(template: str, obj: dict[str, Any], parent: dict[str, Any] | None) -> bool:
    """True if a field ``template`` names holds null, and every other one it names has text."""
    nulls = 0
    for _, key, up, placeholder in _template_parts(template):
        src = parent if up else obj
        if not placeholder or src is None or key not in src:
            continue
        v = src[key]
        if v is None:
            nulls += 1
        elif _source_text(v) is None:
            return False
    return nulls > 0


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
        if type(v) is str and v and v.isascii():
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
        if type(v) is str and v and v.isascii():  # the common case, as _source_text
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
    groups: dict[str, Dicts] = {}
    for entry in walk_dicts(root) if dicts is None else dicts:
        bucket = groups.get(entry[0])
        if bucket is None:
            groups[entry[0]] = [entry]
        else:
            bucket.append(entry)
    fact = Factoring()
    parent_texts: dict[int, list[tuple[int, str, str]]] = {}
    for path, entries in groups.items():
        if len(entries) < 2:
            continue
        group = _Group(entries, parent_texts)
        objs, columns = group.objs, group.columns
        defaults, everywhere = (
            _defaults(columns, len(objs), path.endswith("[]")) if len(objs) >= 3 else ({}, set())
        )
        group.skip = set(defaults)
        derived: dict[str, str] = {}
        hits: dict[str, list[bool]] = {}
        for k, values in columns.items():
            if k in defaults or k in KEEP_LITERAL_KEYS:
                continue
            # templates come from the first objects' strings: none, no template to check
            if str not in map(type, values[:_TEMPLATE_OBJECTS]):
                continue
            if not _links_at_least_twice(k, values):
                continue
            found = _derive(k, group)
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
            c, size = type(v), len(k) + 4
            if k in everywhere:
                _delete(objs, k)
                cut += size * len(objs)
                continue
            # same_value(obj[k], v), inlined: this visits every factored value
            if c is list:
                for obj in objs:
                    w = obj[k]
                    if type(w) is list and w == v and _dumps(w) == _dumps(v):
                        del obj[k]
                        cut += size
            else:
                same = [type(w) is c and w == v for w in columns[k]]
                _delete(compress(objs, same), k)
                cut += size * same.count(True)
        firsts: list[tuple[int, int, tuple[str, str], int]] = []
        for j, (k, t) in enumerate(derived.items()):
            hit_at = hits[k]
            if k in recheck:
                hit_at = [_renders(t, o, p, k) for o, p in zip(objs, group.parents, strict=True)]
            gone = list(compress(objs, hit_at))
            if not fact.null_derived and any(o[k] is None for o in gone):
                fact.null_derived = True  # a null link from a null field: the legend says so
            _delete(gone, k)
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


def _delete(objs: Iterable[dict[str, Any]], key: str) -> None:
    """Remove ``key`` from each of ``objs``."""
    for obj in objs:
        del obj[key]


#: Templates are taken from this many first objects of a path.
_TEMPLATE_OBJECTS = 3
_ABSENT: Any = object()  # a field an object lacks, among other fields' values
#: Up to this many distinct values, counting each (in C) is quicker than a Counter.
_COUNT_DIRECTLY = 4


class _Group:
    """The objects at one schema path, with what the checks of its keys share.

    The objects are not changed while their keys are checked, so what is worked out for
    one key (the texts of a field, which keys some object holds) holds for the next.
    """

    __slots__ = (
        "_held",
        "_parent_texts",
        "_sources",
        "_texts",
        "columns",
        "objs",
        "parents",
        "skip",
    )

    def __init__(self, entries: Dicts, parent_texts: dict[int, list[tuple[int, str, str]]]) -> None:
        self.objs: list[dict[str, Any]] = list(map(itemgetter(1), entries))
        self.parents: list[dict[str, Any] | None] = list(map(itemgetter(2), entries))
        first = self.objs[0]
        #: the values of the keys every object has, per key in the first object's order
        self.columns: dict[str, Sequence[Any]]
        try:  # most often every object has the first one's keys
            self.columns = _columns(list(first), self.objs)
        except KeyError:
            shared = set(first).intersection(*self.objs)
            self.columns = _columns([k for k in first if k in shared], self.objs)
        #: keys a template may not name (the path's defaults: removed from the objects)
        self.skip: set[str] = set()
        self._sources: dict[int, list[tuple[str, str]]] = {}
        self._texts: dict[str, tuple[Sequence[Any], bool]] = {}
        self._held: dict[str, bool] = {}
        # shared by all paths: a parent's own path comes before any path below it, so its
        # removals are done before any of its children's paths reads it
        self._parent_texts = parent_texts

    def sources(self, i: int) -> list[tuple[str, str]]:
        """The texts a template may name for the ``i``-th object, as ``(key, text)``: its
        own (``_own_texts``) and its parent's (``_parent_texts``), longest first; worked out
        when first needed."""
        found = self._sources.get(i)
        if found is None:
            texts = _own_texts(self.objs[i], self.skip)
            parent = self.parents[i]
            if parent is not None:
                up = self._parent_texts.get(id(parent))
                if up is None:
                    up = self._parent_texts[id(parent)] = _parent_texts(parent)
                texts += up
            texts.sort(key=_BY_LENGTH)
            found = self._sources[i] = [(k, s) for _, k, s in texts]
        return found

    def holds(self, key: str) -> bool:
        """True if some object has ``key``."""
        held = self._held.get(key)
        if held is None:
            held = self._held[key] = any(map(contains, self.objs, repeat(key)))
        return held

    def texts(self, key: str) -> tuple[Sequence[Any], bool]:
        """Per object, ``key``'s value as a template renders it: its text (``_source_text``),
        None if it has none, ``_ABSENT`` if the object lacks the key; and True if every
        object has a text."""
        found = self._texts.get(key)
        if found is None:
            values = self.columns.get(key)
            if values is None:
                values = list(map(methodcaller("get", key, _ABSENT), self.objs))
            kinds = set(map(type, values))
            if kinds == {str} and "" not in values and all(map(str.isascii, values)):
                found = values, True  # the common case, as _source_text would have it
            elif kinds == {int}:
                found = list(map(str, values)), True
            else:
                texts = [v if v is _ABSENT else _source_text(v) for v in values]
                found = texts, None not in texts and _ABSENT not in texts
            self._texts[key] = found
        return found

    def matches(self, key: str, template: str, own: tuple[str, str, str]) -> list[bool]:
        """Per object, whether ``template`` gives its ``key``: ``own`` is the template as
        ``_single_placeholder`` splits it (its one placeholder names an object's own key)."""
        literal, name, tail = own
        texts, every = self.texts(name)
        values = self.columns[key]
        if every:
            # all at once, as one text each side: with no NUL but those joining them, the
            # two are equal only if every value is
            try:
                joined = "\0".join(values)
            except TypeError:  # not all text
                pass
            else:
                n = len(values)
                if joined.count("\0") == n - 1 and joined == (
                    literal + (tail + "\0" + literal).join(texts) + tail
                ):
                    return [True] * n
            if not tail:
                return list(map(eq, map(literal.__add__, texts), values))
            return [literal + s + tail == v for s, v in zip(texts, values, strict=True)]
        # a key absent renders as the placeholder itself; a null gives null (the legend says
        # so), any other value with no text gives nothing, which no value matches
        out = [
            s is not None and (template if s is _ABSENT else literal + s + tail) == v
            for s, v in zip(texts, values, strict=True)
        ]
        if None in texts:
            sources = self.columns.get(name)
            if sources is None:
                sources = [o.get(name) for o in self.objs]
            for i, s in enumerate(texts):
                if s is None and values[i] is None and sources[i] is None:
                    out[i] = True
        return out


def _columns(keys: list[str], objs: list[dict[str, Any]]) -> dict[str, Sequence[Any]]:
    """The values of each key in the objects (one pass in C, not one per key)."""
    if len(keys) == 1:
        return {keys[0]: list(map(itemgetter(keys[0]), objs))}
    if not keys:
        return {}
    rows = map(itemgetter(*keys), objs)
    return dict(zip(keys, zip(*rows, strict=True), strict=True))


def _links_at_least_twice(key: str, values: Sequence[Any]) -> bool:
    """True if at least two of ``values`` (``key``'s) are links (URL-like strings)."""
    link_key = key.endswith(_LINK_SUFFIXES)
    if not link_key and set(map(type, values)) == {str}:
        # all of them are looked at only when fewer than two hold a link (in C)
        links = filter(None, map(contains, values, repeat("://")))
        return len(list(islice(links, 2))) == 2
    found = 0
    for v in values:
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
    columns: dict[str, Sequence[Any]], n: int, rows: bool
) -> tuple[dict[str, Any], set[str]]:
    """Each key's default value, from the values of each key in the ``n`` objects; and the
    keys whose default every object holds (as ``same_value``: every one loses the key)."""
    out: dict[str, Any] = {}
    everywhere: set[str] = set()
    least = DEFAULT_SHARE * n
    # a value held by ``least`` objects leaves at most n - least others: more distinct values
    # than that (ids, titles, dates) rule the key out, as cheaply as a set
    most = n - least + 1
    # so do the first ``head`` values when all are distinct: only those are hashed then
    head = int(most) + 1
    for k, values in columns.items():
        try:
            if head < n and len(set(values[:head])) == head:
                continue
            distinct = len(set(values))
        except TypeError:  # a list or an object: see _container_counts
            found = _container_counts(values)
            if found is None:
                continue
            keys, counts = found
            key, c = max(counts.items(), key=itemgetter(1))
            v = values[keys.index(key)]
        else:
            if distinct > most:
                continue
            if len(set(map(type, values))) == 1:
                v = values[0]
                if distinct == 1:  # one value: no counting
                    out[k] = v
                    if v == v:  # every object holds it (NaN equals nothing: it stays)
                        everywhere.add(k)
                    continue
                # keyed by the values themselves: the same classes of equal values, and the
                # first most frequent in order of first appearance, as a Counter has it
                if distinct <= _COUNT_DIRECTLY:
                    v = max(dict.fromkeys(values), key=values.count)
                    c = values.count(v)
                else:
                    v, c = max(Counter(values).items(), key=itemgetter(1))
            else:  # True == 1: told apart by class
                keys = [(type(v), v) for v in values]
                counts = Counter(keys)
                key, c = max(counts.items(), key=itemgetter(1))
                v = values[keys.index(key)]
        # in table rows a sparse default leaves "@" cells: worth it for longer values only
        if c == n or (c >= DEFAULT_SHARE * n and (not rows or len(_dumps(v)) >= 6)):
            out[k] = v
    return out, everywhere


def _container_counts(values: Sequence[Any]) -> tuple[list[Any], Counter[Any]] | None:
    """``_defaults``' keys and counts for values that may be lists or objects.

    Empty objects and short lists of scalars (tags, scopes) can be defaults; any other
    container rules the key out.
    """
    keys: list[Any] = []
    for v in values:
        if is_scalar(v):
            keys.append((type(v), v))
        elif v == {}:
            keys.append((dict, None))
        elif isinstance(v, list) and len(v) <= MAX_DEFAULT_ITEMS and all(map(is_scalar, v)):
            keys.append((list, _dumps(v)))
        else:
            return None
    return keys, Counter(keys)


def _derive(key: str, group: _Group) -> tuple[str, list[bool]] | None:
    """The template that reproduces ``key`` in the most objects (at least ``DEFAULT_SHARE``).

    Templates are tried from the first objects' values. Returns the template and, per
    object, whether it reproduces the object's value.
    """
    objs = group.objs
    n = len(objs)
    allowed_misses = n - max(2, DEFAULT_SHARE * n)
    best: tuple[str, list[bool]] | None = None
    best_hits = 0
    tried: set[str] = set()
    for i in range(min(n, _TEMPLATE_OBJECTS)):
        value = objs[i][key]
        if not isinstance(value, str):
            continue
        t = _template(value, group.sources(i), key)
        if t is None or t in tried:
            continue
        tried.add(t)
        matched: list[bool] = []
        misses = 0
        single = _single_placeholder(t, group)
        if single is not None:
            # one placeholder of the object's own (most links): checked for every object
            matched = group.matches(key, t, single)
            misses = matched.count(False)
        else:
            for o, p in zip(objs, group.parents, strict=True):
                ok = _renders(t, o, p, key)
                matched.append(ok)
                if not ok:
                    misses += 1
                    if misses > allowed_misses:
                        break
        hits = len(matched) - misses
        if misses <= allowed_misses and hits > best_hits:
            best, best_hits = (t, matched), hits
            if hits == n:  # no later template can do better
                break
    if best_hits >= 2 and best_hits >= DEFAULT_SHARE * n:
        return best
    return None


def _single_placeholder(template: str, group: _Group) -> tuple[str, str, str] | None:
    """``(text before, key, text after)`` if ``template`` names one key of the objects' own.

    Placeholders naming no key of any object (``{/other_user}`` in API links) render as
    their own text: they are part of the literal text around the one that does.
    """
    splits = _own_splits(template)
    if splits is None:
        return None
    if len(splits) == 1:
        return splits[0] if group.holds(splits[0][1]) else None
    held = [split for split in splits if group.holds(split[1])]
    return held[0] if len(held) == 1 else None


@lru_cache(maxsize=1024)
def _own_splits(template: str) -> tuple[tuple[str, str, str], ...] | None:
    """Per placeholder, ``(text before, key, text after)`` with the other placeholders as
    literal text; None if a placeholder names a key of the parent."""
    parts = _template_parts(template)
    if any(up for _, _, up, _ in parts):
        return None
    splits: list[tuple[str, str, str]] = []
    for i, (_, key, _, placeholder) in enumerate(parts):
        if placeholder:
            before = "".join(lit + ph for lit, _, _, ph in parts[:i]) + parts[i][0]
            after = "".join(lit + ph for lit, _, _, ph in parts[i + 1 :])
            splits.append((before, key, after))
    return tuple(splits)


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
    if type(v) is str:
        out: str = _ENCODE_STR(v)
    else:
        if not _STDLIB_ONLY.get():
            try:
                return _fast_dumps(v).decode()
            except TypeError:
                pass
        out = _ENCODER.encode(v) if _C_ENCODE is None else "".join(_C_ENCODE(v, 0))
    if out.isascii() or LONE_SURROGATE.search(out) is None:
        return out
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", out)


#: A value's compact JSON, as ``content_keys`` gives it: equal exactly when the texts are.
Content = bytes | str


def content_keys(values: list[Any]) -> list[Content]:
    """A key per value, equal for two values exactly when their ``dumps`` texts are: orjson's
    UTF-8 bytes, written in C for all of them, or the texts where orjson may not write one
    (``stdlib_only``, or an integer beyond 64 bits or a lone surrogate in some value)."""
    if not _STDLIB_ONLY.get():
        try:
            return list(map(_fast_dumps, values))
        except TypeError:
            pass
    return list(map(dumps, values))


def text_length(content: Content) -> int:
    """The characters of the ``dumps`` text ``content`` (from ``content_keys``) stands for."""
    return len(content.decode() if type(content) is bytes else content)


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


def loads_fast(text: str | bytes) -> tuple[Any, bool]:
    """Parse ``text`` (or its UTF-8); True with the value if orjson read it (an integer beyond 64 bits, if
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
