"""JSON compressor: lossless factoring first, marked field, string and row selection second.

Lossless (always): minify; parse JSON held in strings; state default values and link
fields derivable from other fields once per schema path; move fields of repeated small
entities (users, labels) to a lookup by their id; reference other repeated objects by
their id; render arrays of objects as ``@cols``/``@rows`` tables; a short ``@legend``
explains whichever of these were used. Lossy (only while over ``ctx.budget``), in this
order: link templates, API links and opaque ids (stated defaults too), runs of usual
values (zero counts) in long arrays nested in rows, long strings, long text fields, deeply
nested detail, page links, then, once an output was counted and found still over the
budget, items of those nested arrays and the least important rows; every drop is counted
and marked with the ref. The output is always valid JSON, and the same input gives the
same bytes. The lossless factoring needs no budget (``prepare``); ``finish`` takes it, and
renders and measures the lossless output only if an estimate leaves it a chance to fit.

Where the ref shows: a legend's ``original`` is a marker counting 0 values omitted, so
every output that names the ref does so in the one marker grammar. The compact form
restates every value, yet the model may still want the original's exact text or layout,
hence the ref even when nothing was dropped. Plain minified JSON carries no legend and
no ref: each value and key is there as it was, so there is nothing to fetch.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._base import CompressContext, CompressorResult
from ._json_compact import (
    ABSENT,
    RESERVED_KEYS,
    Undo,
    factor_lookups,
    repeated_objects,
    restore,
    still_walked_alike,
    tabulate,
)
from ._json_factor import (
    MAP_MIN_KEYS,
    MAX_DEPTH,
    Dicts,
    Factoring,
    dumps,
    factor_groups,
    is_map,
    loads_fast,
    loads_own,
    odd_float,
    stdlib_only,
    walk_dicts,
)
from ._json_select import (
    DEEP_KIND,
    FIELD_KINDS,
    LINK_KIND,
    PROTECTED_CHARS,
    Fields,
    LongStrings,
    SelectionMemo,
    candidate_arrays,
    choose_string_cap,
    cut_strings,
    drop_defaults,
    drop_fields,
    field_groups,
    long_strings,
    sample_long,
    select_entries,
    select_rows,
    still_long,
)
from ._json_series import (
    MIN_INNER_ITEMS,
    LongArray,
    collapse_usual_runs,
    inner_arrays,
    inner_arrays_among,
)

#: Arrays longer than this are sampled before analysis (head, tail, evenly spaced items).
MAX_ITEMS = 5000
#: Strings shorter than this are not tried as embedded JSON.
MIN_EMBEDDED_CHARS = 20
#: Lossless outputs up to this many characters are counted whole.
EXACT_CHARS = 16000
#: A longer one is sampled in this many evenly spaced slices of ``SLICE_CHARS`` characters
#: to learn its tokens per character: they see the whole document (the legend, every part of
#: the data). On the 16 such outputs of both corpora, 8 slices missed whole counts by 3.4%
#: (median) and 10.5% at most, as 16 slices did.
SAMPLE_SLICES = 8
SLICE_CHARS = 256
#: A sampled estimate within this factor of the budget (either way) is too close to call:
#: the output is counted whole.
BORDERLINE = 1.25
#: The lossy stage re-measures the real output at most this many times, or at most
#: ``MAX_ROUNDS_OVER`` times while no output so far was within the budget and either full
#: (``FULL``) or without dropped rows.
MAX_ROUNDS = 3
MAX_ROUNDS_OVER = 5
#: After a first selection over the budget, the next aims at this share of it (or closer,
#: when little has to go): estimates miss by a few percent of what they drop.
AIM = 0.95
#: A selection that goes on is asked for this much more than its output shows is too
#: much: its steps often save less than they estimate, and another round costs more than
#: the few tokens of budget this can leave unused.
GO_ON = 1.25
#: What a selection keeps holds this many times the tokens per character of the whole
#: lossless output (links, long text and their keys go first): the first selection is asked
#: for characters at that rate. Measured on the lossy outputs of the corpus JSON: median
#: 1.12, from 0.87 to 1.31. Rows go only after an output was counted, so an ask too large
#: costs string cuts and fields, never rows.
DENSER = 1.1
#: An output this close to the budget that dropped rows is final; a shorter one is tried
#: again with fewer rows dropped.
FULL = 0.9
#: The lossless output is rendered and measured only if it may fit: not when the factored
#: tree, at the input's tokens per character, holds this many times the budget. On the
#: corpus JSON (both corpora) the compact form held 0.62 to 2.1 times the factored tree's
#: tokens (more where its legend states long link templates), and the input's tokens per
#: character were 0.72 to 1.1 times the factored tree's.
FAR_OVER = 2.5
#: A selection that started from that estimate and kept less than this share of the
#: budget was misled (repeated objects the compact form refers to, say): the factored
#: tree is compressed again, the lossless output measured first.
FAR_UNDER = 0.7


@dataclass
class _Shape:
    """What the lossless stage did, for the legend and the notes."""

    jsonl: bool = False
    embedded: list[str] = field(default_factory=list)
    factoring: Factoring = field(default_factory=Factoring)
    compact: bool = True  # @cols/@rows and @same may be used
    sampled: int = 0
    dropped: dict[tuple[str, str], int] = field(default_factory=dict)
    entries_omitted: bool = False

    def copy(self) -> _Shape:
        """A copy the lossy stage may change (its factoring too)."""
        f = self.factoring
        fact = Factoring(
            loads_own(_dumps(f.const)),
            dict(f.derived_hits),
            dict(f.derived),
            f.removed_chars,
            f.null_derived,
        )
        return _Shape(
            self.jsonl, self.embedded, fact, self.compact, self.sampled, {}, self.entries_omitted
        )


@dataclass
class _Work:
    """One selection: its tree, what it dropped so far, and the notes saying so."""

    value: Any
    shape: _Shape
    notes: list[str]
    defaults_done: bool = False
    #: items of an array were selected (rows, nested items, runs of usual values)
    selected: bool = False
    #: an output of this work was counted: rows may go (before that, estimates alone
    #: would decide which rows go, and they miss by a share of all that goes)
    measured: bool = False
    #: items in the longest array of the tree selections start from: none shorter than
    #: ``MIN_INNER_ITEMS`` has nested items to select
    longest: int = MIN_INNER_ITEMS
    #: fields dropped (or thinned to the texts the query matches) by a step: left alone after
    fields_done: set[tuple[str, str]] = field(default_factory=set)
    #: ``walk_dicts(value)`` and ``field_groups`` of it while no step changed the objects
    #: beyond taking scalars out or cutting strings (the fields dropped left the groups)
    walk: Dicts | None = None
    groups: Fields | None = None
    long: LongStrings | None = None  # ``long_strings(value)``, as the last step found them
    #: the tree's long arrays as the lossless walk found them, while no step reshaped it
    lists: list[LongArray] | None = None

    def reshaped(self) -> None:
        """A step removed an object or array, or made an object a map: walk again."""
        self.walk = self.groups = self.long = self.lists = None

    def inner_arrays(self) -> list[list[Any]]:
        """``inner_arrays(self.value, anywhere=True)``, from ``lists`` while they hold."""
        if self.lists is None:
            return inner_arrays(self.value, anywhere=True)
        return inner_arrays_among(self.lists)

    def long_strings(self) -> LongStrings:
        """``long_strings(self.value)``, refreshed from the last result while it holds."""
        found = self.long
        self.long = found = long_strings(self.value) if found is None else still_long(found)
        return found


def parse(text: str) -> tuple[Any, bool]:
    """The JSON value of ``text``, or of its lines as an array (JSON Lines); raises if neither.

    Read by the standard library: integers keep every digit.
    """
    value, jsonl, _ = _parse(text, fast=False)
    return value, jsonl


def _parse(text: str, *, fast: bool) -> tuple[Any, bool, bool]:
    """``parse``, with orjson first if ``fast``; the last item is True if orjson read it all
    (the value may then hold ``odd_float`` values that were integers beyond 64 bits)."""
    read: Callable[[str], tuple[Any, bool]] = loads_fast if fast else _loads_stdlib
    try:
        value, by_orjson = read(text)
        return value, False, by_orjson
    except json.JSONDecodeError:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) < 2:
            raise
        items = [read(ln) for ln in lines]
        return [v for v, _ in items], True, all(ok for _, ok in items)


def _loads_stdlib(text: str) -> tuple[Any, bool]:
    return json.loads(text), False


@dataclass
class Expanded:
    """What ``expand_embedded`` found, with the walk of the expanded tree it made on the way."""

    paths: list[str]  # of the strings replaced, map keys spelled out
    reserved: bool  # a key in ``RESERVED_KEYS`` or the value ``ABSENT`` is in use
    dicts: Dicts  # ``walk_dicts`` of the expanded tree
    maps: set[int]  # ids of the objects that walk treats as maps
    odd_floats: bool = False  # NaN, an infinity, or a whole float of 2**63 or more (``odd_float``)
    longest: int = 0  # items in the longest array
    #: the walk stops at an array of more items than this (``Overlong``)
    limit: int = sys.maxsize
    #: ``long_strings`` of the expanded tree, found on the same walk (in another order)
    long: LongStrings = field(default_factory=list)
    #: arrays of ``MIN_INNER_ITEMS`` or more items, as the walk finished them
    lists: list[LongArray] = field(default_factory=list)


class Overlong(Exception):
    """``expand_embedded`` met an array of more items, or an object of more entries, than
    its ``max_items``."""


def expand_embedded(root: Any, max_items: int | None = None) -> Expanded:
    """Replace strings holding a JSON object or array by the parsed value (in place).

    Returns the paths of those strings, and whether the document (with them) already uses
    a key in ``RESERVED_KEYS`` or the value ``ABSENT``, which the compact form gives a
    meaning; the same pass walks the expanded tree as ``walk_dicts`` does. Given
    ``max_items``, it raises ``Overlong`` on meeting an array of more items (an object of
    more entries), before walking them: strings walked by then may have been replaced
    already.
    """
    found = Expanded([], False, [], set())
    if max_items is not None:
        found.limit = max_items
    paths: dict[str, None] = {}
    if isinstance(root, (dict, list)):
        found.reserved = _expand(root, "", "", None, 0, paths, found)
        if isinstance(root, list) and len(root) >= MIN_INNER_ITEMS:
            found.lists.append((None, None, root))
    found.paths = sorted(paths)
    return found


def _expand(
    value: Any,
    path: str,
    spelled: str,
    parent: dict[str, Any] | None,
    depth: int,
    paths: dict[str, None],
    found: Expanded,
) -> bool:
    """``expand_embedded`` below ``value``, in document order; True if a reserved key shows.

    ``path`` is the schema path (``.*`` for any key of a map), ``spelled`` the same path with
    map keys as they are.
    """
    if depth > MAX_DEPTH:
        return False
    depth += 1
    reserved = False
    if type(value) is list:
        if len(value) > found.longest:
            found.longest = len(value)
            if found.longest > found.limit:
                raise Overlong
        sub, spelled_sub = path + "[]", spelled + "[]"
        for i, v in enumerate(value):
            c = type(v)
            if c is str:
                # most strings are short or start with a letter: no call for those
                if len(v) < MIN_EMBEDDED_CHARS:
                    continue
                parsed = _embedded(v) if v[0] in "[{" or v[0].isspace() else None
                if parsed is None:
                    if len(v) > PROTECTED_CHARS and not v.startswith("[headroom: "):
                        found.long.append((value, i, v))
                    continue
                value[i] = v = parsed
                paths[spelled_sub] = None
            elif c is not dict and c is not list:
                if c is float and odd_float(v):
                    found.odd_floats = True
                continue
            reserved = _expand(v, sub, spelled_sub, parent, depth, paths, found) or reserved
            if type(v) is list and len(v) >= MIN_INNER_ITEMS and depth <= MAX_DEPTH:
                found.lists.append((value, i, v))
        return reserved
    if len(value) > found.limit:
        raise Overlong
    reserved = not RESERVED_KEYS.isdisjoint(value)
    children: list[tuple[str, Any]] = []
    for k, v in value.items():
        c = type(v)
        if c is str:
            if v == ABSENT:  # checked before parsing, as the value was
                reserved = True
            if len(v) < MIN_EMBEDDED_CHARS:
                continue
            parsed = _embedded(v) if v[0] in "[{" or v[0].isspace() else None
            if parsed is None:
                if len(v) > PROTECTED_CHARS and not v.startswith("[headroom: "):
                    found.long.append((value, k, v))
                continue
            value[k] = v = parsed
            paths[f"{spelled}.{k}"] = None
        elif c is not dict and c is not list:
            if c is float and odd_float(v):
                found.odd_floats = True
            continue
        children.append((k, v))
    found.dicts.append((path, value, parent))
    mapped = len(value) >= MAP_MIN_KEYS and is_map(value)  # entries keyed by id: one path
    if mapped:
        found.maps.add(id(value))
    for k, v in children:
        sub = f"{spelled}.{k}"
        own = path + ".*" if mapped else sub if path is spelled else f"{path}.{k}"
        reserved = _expand(v, own, sub, value, depth, paths, found) or reserved
        if type(v) is list and len(v) >= MIN_INNER_ITEMS and depth <= MAX_DEPTH:
            found.lists.append((value, k, v))
    return reserved


def _embedded(text: str) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array ``text`` holds, or None (the caller checks its first char)."""
    if _JSON_START.match(text) is None:
        return None
    return _parse_embedded(text)


def _walked_alike(factoring: Factoring, expanded: Expanded) -> bool:
    """True if ``expanded.dicts`` still walks the tree after ``factoring`` took values out.

    Factoring removes scalars, short lists of scalars and empty objects: unless it stated
    an empty object as a default, the objects stay where they were, and only whether an
    object is a map can change.
    """
    if any(v == {} for defaults in factoring.const.values() for v in defaults.values()):
        return False
    # only objects at the paths it factored lost keys
    touched = factoring.const.keys() | factoring.derived.keys()
    if not touched:
        return True
    maps = expanded.maps
    return all(
        is_map(obj) == (id(obj) in maps)
        for path, obj, _ in expanded.dicts
        if (path or ".") in touched
    )


_JSON_START = re.compile(r"\s*[\[{]")


def _measure(out: str, count: Callable[[str], int]) -> tuple[float, int | None]:
    """Tokens per character of ``out``, and its exact count when it was counted whole.

    Counting all of a big lossless output would cost more than the rest of the compressor:
    it is counted whole only when short; a longer one is sampled. Needs no budget.
    """
    if len(out) > EXACT_CHARS:
        step = (len(out) - SLICE_CHARS) / (SAMPLE_SLICES - 1)
        starts = [int(i * step) for i in range(SAMPLE_SLICES)]
        sample = "".join(out[i : i + SLICE_CHARS] for i in starts)
        return count(sample) / len(sample), None
    exact = count(out)
    return exact / max(1, len(out)), exact


def _tokens_per_char(
    out: str, ctx: CompressContext, measured: tuple[float, int | None]
) -> tuple[float, int | None]:
    """``measured`` (``_measure(out)``), counted whole when the sample puts ``out`` close to
    the budget; otherwise the sample decides: far under the budget or far over it."""
    ratio, exact = measured
    if exact is None and 1 / BORDERLINE <= len(out) * ratio / max(1, ctx.budget) <= BORDERLINE:
        exact = ctx.count_tokens(out)
        return exact / max(1, len(out)), exact
    return measured


def _parse_embedded(text: str) -> dict[str, Any] | list[Any] | None:
    s = text.strip()
    if s[-1:] not in ("}", "]"):
        return None
    try:
        parsed = loads_own(s)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, (dict, list)) else None


_dumps = dumps


def _legend(
    shape: _Shape, out_uses: set[str], marker: Callable[..., str], *, lossy: bool
) -> dict[str, Any]:
    how: list[str] = []
    if "@cols" in out_uses:
        how.append(
            "@cols+@rows: an array of objects, a row each; @ cell: key absent (default or "
            "derived value applies); a string row marks an omission"
        )
    if "@same" in out_uses:
        how.append("@same k: the object shown earlier with this k")
    f = shape.factoring
    if f.const:
        how.append("default: value of a key an object at the path lacks")
    if f.derived:
        null = " (null if that is null)" if f.null_derived else ""
        how.append(
            f"derived: template of a key an object lacks, {{k}}/{{../k}}: its/its parent's k{null}"
        )
    if shape.embedded:
        how.append("embedded: strings holding JSON, shown parsed")
    if shape.jsonl:
        how.append("JSON Lines input: one @data item per line")
    if shape.entries_omitted:
        how.append("@omitted keys: markers for entries left out of a map; .* in a path: any key")
    # the ref in the one marker grammar; it stands for nothing dropped itself, hence 0
    source = "the original, omissions marked in place" if lossy else "lossless compact form"
    legend: dict[str, Any] = {"how": "; ".join(how), "original": marker(0, "values", source)}
    if f.const:
        legend["default"] = _merge_paths(f.const)
    if f.derived:
        legend["derived"] = _merge_paths(f.derived)
    if shape.embedded:
        legend["embedded"] = shape.embedded
    if shape.dropped:
        keys: dict[str, int] = {}
        for (_, key), n in shape.dropped.items():
            keys[key] = keys.get(key, 0) + n
        legend["omitted"] = marker(sum(keys.values()), "fields", _names(list(keys)))
    return legend


#: A marker's detail holds at most 160 characters: longer lists of names end in a count.
_NAMES_CHARS = 140


def _names(names: list[str]) -> str:
    """``a, b, c`` or, when that is too long for a marker, ``a, b and 7 more``."""
    shown = ", ".join(names)
    n = len(names)
    while len(shown) > _NAMES_CHARS and n > 1:
        n -= 1
        shown = f"{', '.join(names[:n])} and {len(names) - n} more"
    return shown


def _merge_paths(by_path: dict[str, Any]) -> dict[str, Any]:
    """One entry for paths that share the same fields (``".a[].user, .a[].assignee"``)."""
    merged: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for path, v in by_path.items():
        key = _dumps(v)
        merged.setdefault(key, []).append(path)
        values[key] = v
    return {", ".join(paths): values[key] for key, paths in merged.items()}


def _render(
    data: Any,
    shape: _Shape,
    ctx: CompressContext,
    *,
    lossy: bool = False,
    dicts: Dicts | None = None,
) -> str:
    """The text the model sees for ``data``, which is left as it was.

    ``dicts`` is ``walk_dicts(data)`` if the caller has it.
    """
    undo: Undo = []
    try:
        return _render_compact(data, shape, ctx, lossy, dicts, undo)
    finally:
        restore(undo)


def _render_compact(
    data: Any, shape: _Shape, ctx: CompressContext, lossy: bool, dicts: Dicts | None, undo: Undo
) -> str:
    uses: set[str] = set()
    lookups: dict[str, dict[str, Any]] = {}
    if shape.compact:
        if dicts is None:
            dicts = walk_dicts(data)
        lookups = factor_lookups(data, dicts, undo)
        if not still_walked_alike(dicts, lookups):
            dicts = walk_dicts(data)
        replaced = repeated_objects(data, dicts)
        if replaced:
            uses.add("@same")
        data, tables = tabulate(data, replaced=replaced)
        if tables:
            uses.add("@cols")
    f = shape.factoring
    legend_needed = (
        uses
        or lookups
        or f.const
        or f.derived
        or shape.embedded
        or shape.dropped
        or shape.entries_omitted
    )
    if not (legend_needed or shape.jsonl):  # plain minified JSON needs no legend
        return _dumps(data)
    legend = _legend(shape, uses, ctx.marker, lossy=lossy)
    if lookups:
        legend["how"] += "; lookup: keys an object lacks, values[its by key] in fields order"
        legend["lookup"] = lookups
    return _dumps({"@legend": legend, "@data": data})


@dataclass
class _Lossless:
    """The lossless stage's outcome, waiting for the budget (``JSONCompressor.prepare``)."""

    compressor: JSONCompressor
    stdlib: bool  # the value of ``stdlib_only`` the tree is written with
    done: CompressorResult | None = None  # a scalar: nothing depends on the budget
    value: Any = None
    shape: _Shape = field(default_factory=_Shape)
    notes: list[str] = field(default_factory=list)
    dicts: Dicts | None = None
    pristine: str = ""  # the factored tree, minified
    text: str = ""  # the input
    #: the lossless walk: its longest array, long strings and long arrays serve the first
    #: round (factoring took values out since: ``_Work`` checks each is still in place)
    expanded: Expanded | None = None
    # rendered by ``render`` when the budget asks for them
    compact: str = ""
    plain: str | None = None
    measured: tuple[float, int | None] = (0.0, None)  # ``_measure(self.out)``
    #: ``finish`` may skip rendering the lossless output when it is surely far over budget
    may_skip: bool = True
    #: what the selections learnt of the factored tree: kept when they start again from it
    memo: SelectionMemo = field(default_factory=SelectionMemo)

    @property
    def out(self) -> str:
        """The lossless output: the shorter of ``plain`` and ``compact``."""
        plain = self.plain
        return plain if plain is not None and len(plain) <= len(self.compact) else self.compact

    def render(self, ctx: CompressContext) -> None:
        """The lossless outputs (compact and, where it may be shorter, plain), measured."""
        shape, f = self.shape, self.shape.factoring
        self.compact = compact = _render(self.value, shape, ctx, dicts=self.dicts)
        # the plain minified form, for inputs too small or too varied for a legend to pay off
        if not (shape.sampled or shape.jsonl):
            if not (shape.embedded or f.const or f.derived):
                self.plain = self.pristine  # nothing was changed
            elif shape.embedded or len(compact) >= len(self.pristine) + f.removed_chars:
                # factoring only removes values: otherwise the plain form is the longer
                # read again as before: orjson reads it exactly unless the first reading
                # found odd floats (then the standard library reads everything)
                self.plain = _dumps(_parse(self.text, fast=not self.stdlib)[0])
        self.measured = _measure(self.out, ctx.count_tokens)

    def finish(self, ctx: CompressContext) -> CompressorResult:
        if self.done is not None:
            return self.done
        stdlib = stdlib_only()
        token = stdlib.set(self.stdlib)
        try:
            result = self.compressor._finish(self, ctx)
            again = self._again() if result is None else None
        finally:
            stdlib.reset(token)
        if again is not None:
            return again.finish(ctx)
        assert result is not None
        return result

    def _again(self) -> _Lossless:
        """This outcome once more, to be rendered first: the selection changed the tree in
        place, so the factored tree is read again from its minified text (and walked)."""
        value = loads_own(self.pristine)
        expanded = expand_embedded(value)  # nothing left to expand: the walk alone
        return _Lossless(
            self.compressor,
            self.stdlib,
            None,
            value,
            self.shape,
            self.notes,
            expanded.dicts,
            self.pristine,
            self.text,
            expanded,
            may_skip=False,
            memo=self.memo,
        )


class JSONCompressor:
    kind: ClassVar[str] = "json"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        return self.prepare(text, ctx).finish(ctx)

    def prepare(self, text: str, ctx: CompressContext) -> _Lossless:
        """The lossless factoring, which needs no budget (``ctx.budget`` is not read)."""
        # kind detection's value (read by orjson) is this call's own: it may be changed in place
        parsed = ctx.parsed
        if isinstance(parsed, (dict, list)):
            value, jsonl, fast = parsed, False, True
        else:
            value, jsonl, fast = _parse(text, fast=True)
        # orjson writes and reads back the tree only if it read it, and no float in it is
        # odd: NaN or an infinity (written as null) or maybe an integer beyond 64 bits
        stdlib = stdlib_only()
        token = stdlib.set(not fast)
        try:
            return self._lossless(text, ctx, value, jsonl, stdlib)
        finally:
            stdlib.reset(token)

    def _lossless(
        self, text: str, ctx: CompressContext, value: Any, jsonl: bool, stdlib: ContextVar[bool]
    ) -> _Lossless:
        if not isinstance(value, (dict, list)):
            if isinstance(value, float) and odd_float(value):
                stdlib.set(True)
                value = parse(text)[0]
            done = CompressorResult(_dumps(value), ("minified",))
            return _Lossless(self, stdlib.get(), done)
        shape = _Shape(jsonl=jsonl)
        notes: list[str] = []
        max_items = int(ctx.options.get("max_items", MAX_ITEMS))
        try:
            expanded = expand_embedded(value, max_items)
        except Overlong:
            # read again, as before: the walk may have parsed embedded JSON in place. Arrays
            # in embedded JSON are not sampled (the walk stops at them too)
            value = _parse(text, fast=not stdlib.get())[0]
            sampled = sample_long(value, max_items, ctx.marker)
            shape.sampled, shape.entries_omitted = sampled.total, sampled.entries > 0
            expanded = expand_embedded(value)
            skipped = [f"{sampled.items} items of long arrays"] if sampled.items else []
            if sampled.entries:
                skipped.append(f"{sampled.entries} entries of large objects")
            if skipped:
                notes.append(f"sampled: {' and '.join(skipped)} skipped")
        if expanded.odd_floats and not stdlib.get():
            stdlib.set(True)  # read again, every integer exact, and written as it was read
            value = parse(text)[0]
            if shape.sampled:
                sample_long(value, max_items, ctx.marker)
            expanded = expand_embedded(value)
        shape.embedded = expanded.paths
        dicts: Dicts | None = None
        if expanded.reserved:
            shape.compact = False
        else:
            shape.factoring = factor_groups(value, expanded.dicts)
            if _walked_alike(shape.factoring, expanded):
                dicts = expanded.dicts  # the first round may use the walk
        notes.append("lossless: minified, factored")
        return _Lossless(
            self, stdlib.get(), None, value, shape, notes, dicts, _dumps(value), text, expanded
        )

    def _finish(self, done: _Lossless, ctx: CompressContext) -> CompressorResult | None:
        """The output within ``ctx.budget``: the lossless one if it fits, else selected.

        None if the lossless output was not rendered, on an estimate that it was far over
        the budget, and then either the first selection's output shows the lossless one may
        fit after all (within ``BORDERLINE``) or the selection kept far less than the budget
        (``FAR_UNDER``).
        """
        value, shape, notes, dicts = done.value, done.shape, done.notes, done.dicts
        expanded = done.expanded
        assert expanded is not None  # only a scalar has no walk, and it was done already
        pristine = done.pristine
        far = None
        if done.may_skip and shape.compact:
            per_char = ctx.original_tokens / max(1, len(done.text))
            if len(pristine) * per_char >= FAR_OVER * ctx.budget:
                # far over the budget: the first selection is asked for characters of the
                # factored tree, at its own tokens per character (a sample of it)
                far = _measure(pristine, ctx.count_tokens)
                if len(pristine) * far[0] < FAR_OVER * ctx.budget:
                    far = None  # the tree's own measure says it may fit after all
        if far is None:
            done.render(ctx)
            compact, plain = done.compact, done.plain
            out = done.out
            ratio, exact = _tokens_per_char(out, ctx, done.measured)
            if (len(out) * ratio if exact is None else exact) <= ctx.budget:
                return CompressorResult(
                    out, ("lossless: minified",) if out is plain else tuple(notes), tokens=exact
                )
            out = compact
        else:
            out, (ratio, exact) = pristine, far
        # every selection is asked for ``aim``, a little under the budget: estimates miss by a
        # share of what goes, so a budget just under the lossless size needs little margin.
        # Over the budget, a selection goes on from where it stopped, asked for what its own
        # output shows is still too much; well under it with rows dropped, it starts afresh
        # from the lossless tree with a target scaled by the miss
        scale = len(out) / max(1, len(pristine))
        lossless_tokens = len(out) * ratio if exact is None else exact
        aim = ctx.budget - (1 - AIM) * min(ctx.budget, max(0.0, lossless_tokens - ctx.budget))
        target = aim
        best: tuple[str, list[str]] | None = None
        last = (out, notes)
        closest: tuple[int, str, list[str]] | None = None  # the fewest tokens over the budget
        counted: dict[str, int] = {}  # a round may give the same text as an earlier one
        memo = done.memo  # every selection starts from the same tree
        work: _Work | None = None
        more = 0.0  # plain characters a continued selection is asked to save
        fresh_got = 1  # tokens of the last output selected afresh
        fresh_rows = False  # whether rows could go in that selection
        best_got = 0
        settled = False  # an output within the budget that either dropped no rows or is full
        rounds = 0
        while rounds < MAX_ROUNDS or (not settled and rounds < MAX_ROUNDS_OVER):
            fresh = work is None
            if work is None:
                # rendering left the tree as it was: the first round may use it, and its walk
                tree, walked = (value, dicts) if not rounds else (loads_own(pristine), None)
                # after a round that selected rows, rows go from the start
                work = _Work(
                    tree,
                    shape.copy(),
                    list(notes),
                    measured=rounds > 0,
                    longest=expanded.longest,
                    walk=walked,
                    long=None if rounds else expanded.long,
                    lists=None if rounds else expanded.lists,
                )
                excess = (len(out) - target / (ratio * DENSER)) / scale
                lossy = self._drop(work, excess, scale, ctx, memo)
            else:
                work.measured = True
                lossy = self._drop(work, more, scale, ctx, memo)
            rounds += 1
            if lossy not in counted:
                counted[lossy] = max(1, ctx.count_tokens(lossy))
            got = counted[lossy]
            # the lossless output's tokens, at the first output's tokens per character of
            # its own tree (minified): with every row still there, that shows how much the
            # compact form saves on the factored tree. Close to the budget, it may fit after
            # all: the caller starts again, rendering it first
            if (
                far is not None
                and rounds == 1
                and len(pristine) * got / max(1, len(_dumps(work.value))) <= BORDERLINE * ctx.budget
            ):
                return None
            last = (lossy, list(work.notes))
            if fresh:
                fresh_got, fresh_rows = got, rounds > 1  # rows may go in all but the first
            if got > ctx.budget:
                if closest is None or got < closest[0]:
                    closest = (got, *last)
                if work.selected:  # rows chosen among the kept ones lose what made them rare
                    target *= aim / got
                    work = None
                else:  # plain characters still to go, at this output's own tokens per char
                    # (asked for no more than that when rows may go next for the first time)
                    more = (
                        (GO_ON if work.measured else 1.0) * (got - aim) * len(lossy) / got / scale
                    )
                continue
            if best is None or got > best_got:  # of the outputs that fit, the fullest
                best, best_got = last, got
            settled = got >= FULL * ctx.budget or _ROWS_NOTE not in work.notes
            if settled:
                break
            # rows went that fit: afresh, with the target scaled by how the last fresh
            # selection's own output missed (when rows could go in it)
            target = target * aim / fresh_got if fresh_rows else aim
            work = None
        if best is None:  # no round fitted: the one that came closest (a later round may
            # have started afresh and given more). Every round either fitted or set it
            assert closest is not None
            best = closest[1:]
        text_out, final_notes = best
        tokens = counted.get(text_out)
        if far is not None and tokens is not None and tokens < FAR_UNDER * ctx.budget:
            return None  # misled by the estimate: the caller starts again, rendering first
        return CompressorResult(text_out, tuple(dict.fromkeys(final_notes)), tokens=tokens)

    def _drop(
        self,
        work: _Work,
        excess: float,
        scale: float,
        ctx: CompressContext,
        memo: SelectionMemo,
    ) -> str:
        """Drop links, ids, long text, deep detail and rows to save ``excess`` characters.

        Savings of each step are estimated on the plain tree (``scale``: compact characters
        per plain one), so the output is rendered once; the caller measures it and may ask
        for more. Called again on the same work, it goes on: fields it dropped or thinned
        stay as they are, and the next ones in order go. The work's walk, field groups and
        long strings are used while they hold (``_Work.reshaped``).
        """
        value, shape, notes = work.value, work.shape, work.notes
        f = shape.factoring
        if f.derived:  # templates only rebuild links: the first thing to go (once)
            # the legend states them with paths of equal templates merged
            excess -= len(_dumps(_merge_paths(f.derived))) / scale
            for hit, n in f.derived_hits.items():
                shape.dropped[hit] = shape.dropped.get(hit, 0) + n
            f.derived.clear()
            notes.append("lossy: derivable links dropped")
        if work.walk is None:
            work.walk, work.groups = walk_dicts(value), None
        dicts = work.walk
        groups = work.groups
        if groups is None:
            groups = work.groups = field_groups(value, dicts)
            for done in work.fields_done:
                groups.pop(done, None)
        if f.const and excess > 0 and not work.defaults_done:
            # API links stated once still cost their characters
            work.defaults_done = True
            totals = Counter(path or "." for path, _, _ in dicts)
            gone, chars = drop_defaults(f.const, groups, totals, FIELD_KINDS, ctx.query)
            excess -= chars / scale
            for hit, n in gone.items():
                shape.dropped[hit] = shape.dropped.get(hit, 0) + n
        for step in ("fields", "inner", "cap240", "text", "deep", "link", "cap", "inner_rows"):
            if excess <= 0 or (step == "inner_rows" and not work.measured):
                break
            if step in ("inner", "inner_rows"):
                if work.longest < MIN_INNER_ITEMS:
                    continue
                if step == "inner":
                    saved = self._shrink_inner(work.inner_arrays(), excess, ctx, notes, memo)
                else:
                    saved = self._thin_inner(value, excess, ctx, notes, memo)
                if saved:
                    work.selected = True
                    work.reshaped()
                excess -= saved
            elif step.startswith("cap"):
                found = work.long_strings()
                cap = choose_string_cap(value, excess, floor=int(step[3:] or 0), found=found)
                if cap is None:
                    continue
                excess -= cut_strings(value, cap, ctx.marker, found)
                cut_strings(f.const, cap, ctx.marker)
                notes.append(f"lossy: long strings cut to {cap} characters")
            else:
                took = drop_fields(groups, _STEP_KINDS[step], excess, ctx.query, memo)
                dropped = took.dropped
                work.fields_done.update(dropped)
                if took.reshaped:
                    work.reshaped()
                if not dropped:
                    continue
                excess -= took.saved
                for hit, n in dropped.items():
                    shape.dropped[hit] = shape.dropped.get(hit, 0) + n
                notes.append(f"lossy: {_STEP_NOTES[step]} dropped")
        for rows in candidate_arrays(value) if excess > 0 and work.measured else []:
            if excess <= 0:
                break
            if isinstance(rows, dict):
                saved_rows = select_entries(rows, excess, ctx.query, ctx.marker, memo)
                shape.entries_omitted = shape.entries_omitted or saved_rows > 0
            else:
                saved_rows = select_rows(rows, excess, ctx.query, ctx.marker, memo)
            if saved_rows:
                notes.append(_ROWS_NOTE)
                work.selected = True
                work.reshaped()
            excess -= saved_rows
        lossy = shape.sampled > 0 or any(n.startswith("lossy") for n in notes)
        return _render(value, shape, ctx, lossy=lossy, dicts=work.walk)

    @staticmethod
    def _shrink_inner(
        arrays: list[list[Any]],
        excess: float,
        ctx: CompressContext,
        notes: list[str],
        memo: SelectionMemo,
    ) -> float:
        """Collapse usual runs in ``arrays`` (long arrays of small records, largest first)."""
        saved = 0.0
        for items in arrays:
            if saved >= excess:
                break
            saved += collapse_usual_runs(items, ctx.query, ctx.marker, memo)
        if saved:
            notes.append("lossy: runs of usual values in nested arrays collapsed")
        return saved

    @staticmethod
    def _thin_inner(
        value: Any, excess: float, ctx: CompressContext, notes: list[str], memo: SelectionMemo
    ) -> float:
        """Select items of arrays nested in rows, each giving its share, before rows go."""
        arrays = [(items, len(dumps(items))) for items in inner_arrays(value)]
        total = sum(size for _, size in arrays)
        ask = min(excess * 1.05, INNER_SHARE * total)  # shares round down: a row would go
        saved = 0.0
        for items, size in arrays:
            saved += select_rows(items, ask * size / total, ctx.query, ctx.marker, memo)
        if saved:
            notes.append("lossy: items of nested arrays kept by query, anomalies, first and last")
        return saved


#: At most this share of nested arrays' characters goes before whole rows start to go.
INNER_SHARE = 0.9
_ROWS_NOTE = "lossy: rows kept by query, anomalies, first and last"
_STEP_KINDS = {"fields": FIELD_KINDS, "text": ("text",), "link": LINK_KIND, "deep": DEEP_KIND}
_STEP_NOTES = {
    "fields": "link and opaque id fields",
    "text": "long text fields",
    "link": "page links",
    "deep": "deeply nested fields",
}
