"""Lossy JSON selection: cut long strings, then keep the rows that matter; mark every drop.

Row priority: the first and last rows, rows matching the query (BM25 over the row's text),
errors and failures, rare values of a field most rows agree on (doubly so for status-like
fields), numeric extremes and outliers, and rows where a status changes. Runs of dropped
rows become one marker string in place; a cut string keeps its head and ends in a marker.
A tuple's positions count as its fields, and a group of objects (a map entry listing a
release's files) has each key's values across the group as one field. Arrays of small
records nested in rows shrink before rows go (``_json_series``).
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import eq
from typing import Any

from .._markers import MARKER_RE, REF_PATTERN
from .._relevance import TermStats, bm25_scores, term_stats, terms
from ._json_factor import (
    JSON_CLASSES,
    KEEP_LITERAL_KEYS,
    MAP_MIN_KEYS,
    MAX_DEPTH,
    OMITTED_KEY,
    Dicts,
    dumps,
    is_map,
    walk_dicts,
)

Marker = Callable[[int, str, "str | None"], str]

#: Field kinds dropped whole (one legend marker per path), in this order, before rows.
FIELD_KINDS = ("url", "opaque")
#: Links people follow go only after long text, just before rows.
LINK_KIND = ("link",)
#: Objects and arrays nested two or more levels inside a row: detail, dropped before rows.
DEEP_KIND = ("deep",)
#: Strings up to this many characters are never cut: titles, names, ids, timestamps, URLs.
PROTECTED_CHARS = 160
#: Caps tried for longer strings, loosest first; 0 keeps only the marker.
STRING_CAPS = (2000, 1000, 500, 240, 120, 60)
#: Arrays shorter than this keep all their items.
MIN_ROWS_TO_SELECT = 6
#: A marker costs about this many characters of JSON.
MARKER_CHARS = 64

_CUT_TAIL = re.compile(
    r" ?\[headroom: \d+ chars omitted \(of (?P<of>\d+)\); ref=" + REF_PATTERN + r"\]$"
)
#: An opaque id: 16 or more base64 characters, with at least one digit and one letter.
_OPAQUE_ID = re.compile(r"(?=[A-Za-z+/=]*[0-9])(?=[0-9+/=]*[A-Za-z])[A-Za-z0-9+/=]{16,}")
_URLISH = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_STATUS_KEY = re.compile(r"status|state|conclusion|result|outcome|level|severity|error|fail", re.I)
_ERROR_WORDS = re.compile(
    r"\b(error|errors|fail|failed|failure|failing|exception|fatal|crash|crashed|panic|"
    r"timeout|timed out|denied|refused|critical|cancelled|canceled|rejected|invalid)\b",
    re.I,
)

#: ``_ERROR_WORDS`` for lowercased text (``has_error_words``).
_ERROR_WORD_AT = re.compile(_ERROR_WORDS.pattern)
#: The beginning of every match of ``_ERROR_WORDS``, lowercased.
_ERROR_STEMS = (
    "error",
    "fail",
    "exception",
    "fatal",
    "crash",
    "panic",
    "timeout",
    "timed out",
    "denied",
    "refused",
    "critical",
    "cancel",
    "rejected",
    "invalid",
)
#: The non-ASCII letters ``re.I`` lets match ASCII ones (İ, ı, ſ, Kelvin sign).
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def has_error_words(text: str) -> bool:
    """``_ERROR_WORDS.search(text) is not None``, tried only where a match can start.

    Every error word begins with its stem, so a match starts where a stem does: the
    pattern is tried there alone, on the lowercased text (the same length, and the same
    words, when no letter in it folds to ASCII; a text with one is searched as it is).
    """
    if any(c in text for c in _FOLDS_TO_ASCII):
        return _ERROR_WORDS.search(text) is not None
    low = text.lower()
    for stem in _ERROR_STEMS:
        at = low.find(stem)
        while at >= 0:
            if _ERROR_WORD_AT.match(low, at) is not None:
                return True
            at = low.find(stem, at + 1)
    return False


_dumps = dumps


def long_strings(root: Any) -> list[tuple[Any, Any, str]]:
    """(container, key or index, string) for every string longer than ``PROTECTED_CHARS``."""
    found: list[tuple[Any, Any, str]] = []
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        depth += 1
        for k, v in value.items() if type(value) is dict else enumerate(value):
            c = type(v)
            if c is str:
                if len(v) > PROTECTED_CHARS and not v.startswith("[headroom: "):
                    found.append((value, k, v))
            elif c is dict or c is list:
                stack.append((v, depth))
    return found


def still_long(found: list[tuple[Any, Any, str]]) -> list[tuple[Any, Any, str]]:
    """``long_strings`` again, from an earlier result for the same tree: right while no object
    or array left it since (strings were cut, scalar fields dropped)."""
    out: list[tuple[Any, Any, str]] = []
    for container, key, _ in found:
        v = container.get(key) if type(container) is dict else container[key]
        if type(v) is str and len(v) > PROTECTED_CHARS and not v.startswith("[headroom: "):
            out.append((container, key, v))
    return out


_SEGMENT = re.compile(r"\.\*|\.[^.\[]+|\[\]")


@lru_cache(maxsize=4096)
def _depth_below_rows(path: str) -> int:
    """Segments after the first array or map level: 0 for a row, 1 for its own sub-object.

    A path with no such level is in no row (wrappers such as ``.data.repository``): 0.
    """
    segments = _SEGMENT.findall(path)
    for n, seg in enumerate(segments):
        if seg in ("[]", ".*"):
            return len(segments) - n - 1
    return 0


#: ``SelectionMemo.kinds`` has no entry for a field yet.
_UNKNOWN: Any = object()


def _field_kind(path: str, key: str, values: list[Any]) -> str | None:
    if _depth_below_rows(path) >= 2 and all(isinstance(v, (dict, list)) for v in values):
        return "deep"
    classes = set(map(type, values))  # in C: most fields hold one class of value
    strs: list[Any]
    if classes == {str}:
        strs = values
    elif str not in classes and classes <= JSON_CLASSES:  # no text, not even a subclass's
        return None
    else:
        strs = [v for v in values if isinstance(v, str)]
    if not strs or len(strs) < len(values) * 0.9:
        return None
    filled = list(filter(None, strs))
    if all(map(_URLISH.match, filled)):
        return "link" if key in KEEP_LITERAL_KEYS else "url"
    # a row's own hashes (commit sha, head_sha) are what agents look things up by
    own_hash = "sha" in key.lower() and _depth_below_rows(path) <= 1
    if not own_hash and all(map(_OPAQUE_ID.fullmatch, filled)):
        return "opaque"
    if sum(map(len, strs)) > PROTECTED_CHARS * len(strs):
        return "text"
    return None


Fields = dict[tuple[str, str], list[dict[str, Any]]]


def field_groups(root: Any, dicts: Dicts | None = None) -> Fields:
    """The objects holding each field, a field being a key at a schema path.

    ``dicts`` is ``walk_dicts(root)`` if the caller has it.
    """
    by_path: dict[str, list[dict[str, Any]]] = {}
    for path, obj, _ in walk_dicts(root) if dicts is None else dicts:
        found = by_path.get(path or ".")
        if found is None:
            by_path[path or "."] = [obj]
        else:
            found.append(obj)
    groups: Fields = {}
    for p, objs in by_path.items():
        first = objs[0]
        keys = list(first)
        # objects of one shape (most): each key is held by all. Their keys in the same order
        # tell it in C; in another order, only as sets
        if all(map(eq, map(list, objs), repeat(keys))) or all(
            len(o) == len(first) and o.keys() == first.keys() for o in objs
        ):
            for k in keys:
                groups[(p, k)] = list(objs)
            continue
        for o in objs:
            for k in o:
                held = groups.get((p, k))
                if held is None:
                    groups[(p, k)] = [o]
                else:
                    held.append(o)
    return groups


@dataclass
class DroppedFields:
    """What ``drop_fields`` did: values lost per field, characters saved, and whether the
    tree's objects changed beyond losing scalars (``walk_dicts`` of it is then out of date)."""

    dropped: dict[tuple[str, str], int]
    saved: float
    reshaped: bool


def drop_fields(
    groups: Fields,
    kinds: tuple[str, ...],
    excess_chars: float,
    query: str | None,
    memo: SelectionMemo | None = None,
) -> DroppedFields:
    """Drop whole fields of the given kinds, biggest first, until ``excess_chars`` are saved.

    Keys the query names are kept; dropped fields leave ``groups``. ``memo.kinds`` keeps
    each field's kind across calls (cutting strings never changes a kind). ``reshaped``
    is True if an object or array went with a field, or an object that lost one is now a
    map (``is_map``: only objects left).
    """
    wanted = key_terms(query or "")
    memo = SelectionMemo() if memo is None else memo
    known = memo.kinds
    candidates: list[tuple[int, int, tuple[str, str]]] = []
    for field_key, objs in groups.items():
        kind = known.get(field_key, _UNKNOWN)
        if kind is _UNKNOWN:
            path, key = field_key
            named = wanted & key_terms(key) and not key.endswith("url")
            kind = None if named else _field_kind(path, key, [o[key] for o in objs])
            known[field_key] = kind
        if kind in kinds:
            key = field_key[1]
            size = len(objs) * (len(key) + 4) + values_size([o[key] for o in objs])
            candidates.append((kinds.index(kind), -size, field_key))
    candidates.sort()
    dropped: dict[tuple[str, str], int] = {}
    saved = 0.0
    reshaped = False
    for _, neg_size, (path, key) in candidates:
        if saved >= excess_chars:
            break
        objs = groups.pop((path, key))
        keep = _relevant_texts(objs, key, query, memo) if known[(path, key)] == "text" else set()
        for n, o in enumerate(objs):
            if n in keep:
                saved -= json_size(o[key]) + len(key) + 4  # not saved after all
                continue
            c = type(o.pop(key))
            if c is dict or c is list or (len(o) >= MAP_MIN_KEYS and is_map(o)):
                reshaped = True
        if len(keep) < len(objs):
            dropped[(path, key)] = len(objs) - len(keep)
        saved -= neg_size
    return DroppedFields(dropped, saved, reshaped)


def drop_defaults(
    const: dict[str, dict[str, Any]],
    groups: Fields,
    totals: Counter[str],
    kinds: tuple[str, ...],
    query: str | None,
) -> tuple[dict[tuple[str, str], int], int]:
    """Drop default values of the given kinds (API links) from ``const``, as ``drop_fields``.

    A default stands for the value of every object at its path that lacks the key, so each
    of those objects loses it: ``totals`` counts the objects at each path, ``groups`` those
    that hold the key. Returns the values lost per field and the characters saved.
    """
    wanted = key_terms(query or "")
    dropped: dict[tuple[str, str], int] = {}
    saved = 0
    for path, defaults in list(const.items()):
        for key in list(defaults):
            if wanted & key_terms(key) and not key.endswith("url"):
                continue
            if _field_kind(path, key, [defaults[key]]) not in kinds:
                continue
            saved += len(key) + json_size(defaults.pop(key)) + 4
            dropped[(path, key)] = totals[path] - len(groups.get((path, key), ()))
        if not defaults:
            del const[path]
            saved += len(path) + 4
    return dropped, saved


#: Long texts (issue bodies, descriptions) kept for the rows that match the query best.
KEEP_RELEVANT_TEXTS = 3


def _relevant_texts(
    objs: list[dict[str, Any]], key: str, query: str | None, memo: SelectionMemo
) -> set[int]:
    if not query or len(objs) <= KEEP_RELEVANT_TEXTS:
        return set()
    values = [o[key] if isinstance(o[key], str) else "" for o in objs]
    scores = relevance_scores(values, query, memo)
    ranked = sorted(range(len(objs)), key=lambda i: (-scores[i], i))
    return {i for i in ranked[:KEEP_RELEVANT_TEXTS] if scores[i] > 0}


LongStrings = list[tuple[Any, Any, str]]


def choose_string_cap(
    root: Any, excess_chars: float, *, floor: int = 0, found: LongStrings | None = None
) -> int | None:
    """The loosest cap whose cuts save ``excess_chars``; None if no cut is needed.

    ``found`` is ``long_strings(root)`` if the caller has it.
    """
    if excess_chars <= 0:
        return None
    if found is None:
        found = long_strings(root) if isinstance(root, (dict, list)) else []
    lengths = [len(s) for _, _, s in found]
    caps = [c for c in STRING_CAPS if c >= floor]
    for cap in caps:
        saved = sum(n - cap - MARKER_CHARS for n in lengths if n > cap)
        if saved >= excess_chars:
            return cap
    return caps[-1] if lengths and caps else None


def cut_strings(root: Any, cap: int, marker: Marker, found: LongStrings | None = None) -> int:
    """Cut every long string to ``cap`` characters plus a marker; returns characters saved.

    ``found`` is ``long_strings(root)`` if the caller has it.
    """
    cut = 0
    for container, key, s in long_strings(root) if found is None else found:
        full = len(s)
        # a cut string ends in its marker: searching a long text for one is costly
        done = _CUT_TAIL.search(s) if s.endswith(("]", "]\n")) else None
        if done:  # cut before: cut the kept head further, count from the original length
            s, full = s[: done.start()], int(done["of"])
        if len(s) <= cap:
            continue
        head = s[:cap].rstrip() if cap else ""
        dropped = full - len(head)
        mark = marker(dropped, "chars", f"of {full}")
        new = f"{head} {mark}" if head else mark
        cut += len(s) - len(new)
        container[key] = new
    return cut


@dataclass
class SelectionMemo:
    """What the selection rounds over one input share: field kinds, texts' term stats (for
    the one query of that input) and the runs each array's items were collapsed in (by the
    array's compact JSON: ``collapse_usual_runs``)."""

    kinds: dict[tuple[str, str], str | None] = field(default_factory=dict)
    stats: dict[str, TermStats] = field(default_factory=dict)
    runs: dict[str, tuple[float, list[tuple[int, int, str]]]] = field(default_factory=dict)

    def term_stats(self, text: str, query: str) -> TermStats:
        found = self.stats.get(text)
        if found is None:
            found = self.stats[text] = term_stats(text, key_terms(query))
        return found


def relevance_scores(texts: list[str], query: str, memo: SelectionMemo | None) -> list[float]:
    """BM25 scores of ``texts`` for ``query``, each text one document among them.

    A text that scores at all holds a query term, and then its lowercase holds that term
    as a substring: only such texts are split into terms. Every other text scores 0 whatever
    its length, which enters only BM25's average length: it is estimated from the text's
    characters, at the terms per character of the texts split.
    """
    wanted = key_terms(query)
    stats: list[TermStats | None] = [None] * len(texts)
    split_terms = split_chars = 0
    for i, text in enumerate(texts):
        low = text.lower()
        for w in wanted:
            if w in low:
                found = stats[i] = (
                    term_stats(text, wanted) if memo is None else memo.term_stats(text, query)
                )
                split_terms += found.length
                split_chars += len(text)
                break
    if not split_chars:
        return [0.0] * len(texts)
    rate = split_terms / split_chars
    return bm25_scores(
        [
            TermStats(round(len(t) * rate), {}) if found is None else found
            for t, found in zip(texts, stats, strict=True)
        ],
        query,
    )


@lru_cache(maxsize=4096)
def key_terms(key: str) -> frozenset[str]:
    """``set(terms(key))``: the terms of a field name or query, shared by every compression."""
    return frozenset(terms(key))


def values_size(values: list[Any]) -> int:
    """``sum(map(json_size, values))``, with strings (most values) summed in one pass."""
    strs = [v for v in values if isinstance(v, str)]
    total = sum(map(len, strs)) + 2 * len(strs)
    if len(strs) < len(values):
        total += sum(json_size(v) for v in values if not isinstance(v, str))
    return total


def json_size(v: Any) -> int:
    """About the characters ``v`` takes in compact JSON (escapes aside), cheaply."""
    if isinstance(v, str):
        return len(v) + 2
    if v is None or isinstance(v, (bool, int, float)):
        return len(str(v))
    return len(_dumps(v))


def row_text(row: Any) -> str:
    if isinstance(row, str):
        return row
    return _dumps(row)


def _scalar_fields(row: Any) -> dict[str, Any]:
    if isinstance(row, list):
        if row and all(isinstance(x, dict) for x in row):  # a group (a release's files)
            return _group_fields(row)
        row = positional(row)  # a tuple such as [week, additions, deletions]
    if not isinstance(row, dict):
        return {}
    return {k: v for k, v in row.items() if _short_scalar(v)}


def _short_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 64)


def _group_fields(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Each key's values across the group's objects, as one value (rare when they differ)."""
    keys = dict.fromkeys(k for x in items for k in x)
    values = {k: tuple(x.get(k) for x in items) for k in keys}
    return {k: v for k, v in values.items() if all(map(_short_scalar, v))}


def is_group_map(obj: dict[str, Any]) -> bool:
    """A map whose entries are lists of objects (a release's files, keyed by version)."""
    return len(obj) >= MAP_MIN_KEYS and all(
        isinstance(v, list) and all(isinstance(x, dict) for x in v) for v in obj.values()
    )


def row_priorities(
    rows: list[Any], texts: list[str], query: str | None, memo: SelectionMemo | None = None
) -> list[float]:
    """How much each row should be kept (higher first); ties go to the earlier row."""
    n = len(rows)
    prio = [0.0] * n
    # the first and last rows show where the array starts and ends; the second only adds
    # to the first, and goes before a row that matches the query best
    for i, weight in ((0, 4.0), (1, 2.0), (n - 1, 4.0)):
        if 0 <= i < n:
            prio[i] += weight
    if query and query.strip():
        scores = relevance_scores(texts, query, memo)
        top = max(scores, default=0.0)
        if top > 0:
            for i, s in enumerate(scores):
                prio[i] += 3.0 * s / top
    for i, t in enumerate(texts):
        if has_error_words(t):
            prio[i] += 1.5
    fields = [_scalar_fields(r) for r in rows]
    keys: dict[str, None] = {}
    for f in fields:
        keys.update(dict.fromkeys(f))
    for key in keys:
        values = [f.get(key) for f in fields]
        status = bool(_STATUS_KEY.search(key))
        _rare_values(values, prio, 2.5 if status else 1.0)
        if status:
            for i in range(1, n):
                if values[i] != values[i - 1]:
                    prio[i] += 1.0  # change point
        _numeric_extremes(values, prio)
    return prio


def _rare_values(values: list[Any], prio: list[float], weight: float) -> None:
    reprs = list(map(repr, values))
    counts = Counter(reprs)
    if len(counts) < 2:
        return
    common, top = counts.most_common(1)[0]
    if top * 5 < len(values) * 3:  # no value most rows agree on: nothing is rare
        return
    limit = max(1, len(values) // 10)
    for i, r in enumerate(reprs):
        if r != common and counts[r] <= limit:
            prio[i] += weight


def _numeric_extremes(values: list[Any], prio: list[float]) -> None:
    nums = [
        (i, float(v))
        for i, v in enumerate(values)
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if len(nums) < 5:
        return
    xs = [x for _, x in nums]
    hi, lo = max(xs), min(xs)
    if hi == lo:
        return
    mean = statistics.fmean(xs)
    outliers = _beyond_three_sd(xs, mean)
    rare = max(1, len(xs) // 20)  # an extreme shared by many rows marks none of them
    n_hi, n_lo = xs.count(hi), xs.count(lo)
    for (i, x), outlier in zip(nums, outliers, strict=True):
        if x == hi and n_hi <= rare:
            prio[i] += 2.0
        elif x == lo and n_lo <= rare:
            prio[i] += 0.5
        if outlier:
            prio[i] += 1.0
    # change points of a series: a step much larger than the usual step between rows
    steps = [abs(b - a) for (_, a), (_, b) in itertools.pairwise(nums)]
    typical = statistics.median(steps)
    if len(steps) >= 7 and typical > 0:
        for (i, _), step in zip(nums[1:], steps, strict=True):
            if step > 5 * typical:
                prio[i] += 2.0


def _beyond_three_sd(xs: list[float], mean: float) -> list[bool]:
    """Per value, ``abs(x - mean) > 3 * statistics.pstdev(xs)`` (the standard deviation
    correctly rounded, as the exact one the standard library works out in fractions).

    A float standard deviation is within a few units of the last place of it: only a value
    that close to three of them needs the exact one, which costs some 50 times more.
    """
    gaps = [abs(x - mean) for x in xs]
    sd = math.sqrt(math.fsum(d * d for d in gaps) / len(xs))
    if 0 < sd < math.inf and all(abs(d - 3 * sd) > 1e-9 * (d + 3 * sd) for d in gaps):
        return [d > 3 * sd for d in gaps]
    exact = statistics.pstdev(xs)
    return [bool(exact) and d > 3 * exact for d in gaps]


def candidate_arrays(root: Any) -> list[list[Any] | dict[str, Any]]:
    """Arrays and maps long enough to select from, largest (in characters) first."""
    found: list[tuple[int, int, list[Any] | dict[str, Any]]] = []
    stack: list[tuple[Any, int]] = [(root, 0)]
    order = 0
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, list):
            if len(value) >= MIN_ROWS_TO_SELECT:
                found.append((len(_dumps(value)), order, value))
                order += 1
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
        elif isinstance(value, dict):
            if len(value) >= MIN_ROWS_TO_SELECT and (
                is_map(value) or is_group_map(value) or _is_scalar_map(value)
            ):
                found.append((len(_dumps(value)), order, value))
                order += 1
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
    found.sort(key=lambda t: (-t[0], t[1]))
    return [a for _, _, a in found]


#: An object of at least this many entries, all scalars, is data keyed by name (counts per
#: language, sizes per file), not a record of fields: its entries are selected as rows.
SCALAR_MAP_MIN_ENTRIES = 200


def _is_scalar_map(obj: dict[str, Any]) -> bool:
    """True for an object of ``SCALAR_MAP_MIN_ENTRIES`` or more scalar entries (markers of
    entries left out included)."""
    return len(obj) >= SCALAR_MAP_MIN_ENTRIES and not any(
        isinstance(v, (dict, list)) for v in obj.values()
    )


def positional(row: list[Any]) -> dict[str, Any]:
    """A tuple's values keyed ``#0``, ``#1``, ...: its fields, as markers name them."""
    return {f"#{i}": v for i, v in enumerate(row)}


#: Key prefix of the marker that stands for map entries left out.


def select_entries(
    entries: dict[str, Any],
    excess_chars: float,
    query: str | None,
    marker: Marker,
    memo: SelectionMemo | None = None,
) -> float:
    """``select_rows`` for a map: dropped entries become ``"@omitted N": marker`` keys.

    An entry's key goes with it: ``select_rows`` sizes the values alone, so it is asked for
    (and its savings are scaled by) the share of the map's characters they hold.
    """
    names = list(entries)
    rows = list(entries.values())
    values_chars = max(1, len(_dumps(rows)))
    with_keys = (values_chars + sum(map(len, entries)) + 3 * len(entries)) / values_chars
    placed: list[int] = []
    saved = select_rows(rows, excess_chars / with_keys, query, marker, memo, placed)
    if not saved:
        return 0.0
    rebuilt: dict[str, Any] = {}
    for n, (item, source) in enumerate(zip(rows, placed, strict=True)):
        if source < 0:  # a marker
            rebuilt[f"{OMITTED_KEY} {n}"] = item
        else:
            rebuilt[names[source]] = item
    entries.clear()
    entries.update(rebuilt)
    return saved


def select_rows(
    rows: list[Any],
    excess_chars: float,
    query: str | None,
    marker: Marker,
    memo: SelectionMemo | None = None,
    placed: list[int] | None = None,
) -> float:
    """Drop the least important rows of ``rows`` (in place) to save ``excess_chars``.

    Returns the characters saved. Existing marker strings are kept and never counted as rows.
    ``placed``, if given, gets for each item left the position it had, or -1 for a marker.
    """
    texts = [row_text(r) for r in rows]
    is_marker = [isinstance(r, str) and r.startswith("[headroom: ") for r in rows]
    prio = row_priorities(rows, texts, query, memo)
    order = sorted((i for i in range(len(rows)) if not is_marker[i]), key=lambda i: (-prio[i], i))
    # each row's compact JSON and a comma: a string's text is its JSON without the quotes
    sizes = [len(t) + (3 if type(r) is str else 1) for t, r in zip(texts, rows, strict=True)]
    # everything not kept goes, earlier markers included (they merge into the new ones)
    total = float(sum(sizes))
    keep_min = min(3, len(order))
    kept = 0.0
    n_keep = keep_min
    taken = [False] * len(rows)
    runs = 1 if rows else 0  # runs of dropped positions, updated exactly as rows join
    for j, i in enumerate(order):
        left = i > 0 and not taken[i - 1]
        right = i + 1 < len(rows) and not taken[i + 1]
        runs += 1 if (left and right) else (-1 if not (left or right) else 0)
        taken[i] = True
        kept += sizes[i]
        if total - kept - runs * MARKER_CHARS < excess_chars:
            break
        n_keep = max(keep_min, j + 1)
    keep = set(order[:n_keep])
    if len(keep) == len(order):
        return 0.0
    before = sum(sizes)
    # rebuild with one marker per run of omitted items, earlier markers merged in, so
    # indices and counts always refer to the original array
    out: list[Any] = []
    at: list[int] = []  # where each item of ``out`` was in ``rows`` (-1: a marker)
    after = 0  # characters of what is left, as ``sizes`` counts them
    run, run_start, pos, sampled = 0, 0, 0, False
    for i, r in enumerate(rows):
        if is_marker[i]:
            m = MARKER_RE.match(r)
            n = int(m["count"]) if m else 0
            if not run:
                run_start = pos
            run += n
            pos += n
            sampled = sampled or "sampled" in r
        elif i in keep:
            if run:
                out.append(_rows_marker(run, run_start, ctx_marker=marker, sampled=sampled))
                after += len(out[-1]) + 3
                run, sampled = 0, False
                at.append(-1)
            out.append(r)
            at.append(i)
            after += sizes[i]
            pos += 1
        else:
            if not run:
                run_start = pos
            run += 1
            pos += 1
    if run:
        out.append(_rows_marker(run, run_start, ctx_marker=marker, sampled=sampled))
        after += len(out[-1]) + 3
        at.append(-1)
    rows[:] = out
    if placed is not None:
        placed[:] = at
    return before - after


def _rows_marker(count: int, start: int, *, ctx_marker: Marker, sampled: bool) -> str:
    end = start + count - 1
    detail = f"items {start}-{end}" if count > 1 else f"item {start}"
    if sampled:
        detail += ", sampled"
    return ctx_marker(count, "items", detail)


@dataclass
class Sampled:
    """What ``sample_long`` skipped: items of long arrays, entries of large objects."""

    items: int = 0
    entries: int = 0

    @property
    def total(self) -> int:
        return self.items + self.entries


def sample_long(root: Any, limit: int, marker: Marker) -> Sampled:
    """Cap every array at ``limit`` items and every object at ``limit`` entries before
    analysis (bounded cost on huge inputs).

    Keeps the head, the tail and evenly spaced items (entries) between; each skipped run
    becomes a marker saying it was sampled: in an array an item, in an object an entry
    under an ``OMITTED_KEY`` key.
    """
    skipped = Sampled()
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, list):
            if len(value) > limit:
                skipped.items += _sample(value, limit, marker)
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
        elif isinstance(value, dict):
            if len(value) > limit:
                skipped.entries += _sample_entries(value, limit, marker)
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
    return skipped


#: Sampled arrays keep their middle in this many contiguous blocks (one marker per gap).
SAMPLE_BLOCKS = 20


def _picks(n: int, limit: int) -> list[tuple[int, int]]:
    """The positions sampling keeps of ``n`` (a head, evenly spaced blocks, a tail), each
    with the first position skipped right before it (itself if none was)."""
    head, tail = limit // 2, limit // 10
    block = max(1, (limit - head - tail) // SAMPLE_BLOCKS)
    stride = (n - head - tail) / SAMPLE_BLOCKS
    picks = list(range(head))
    for b in range(SAMPLE_BLOCKS):
        start = head + int(b * stride + (stride - block) / 2)
        picks.extend(range(max(start, picks[-1] + 1 if picks else 0), start + block))
    picks.extend(range(max(n - tail, picks[-1] + 1), n))
    return list(zip(picks, [0, *(i + 1 for i in picks[:-1])], strict=True))


def _sample(items: list[Any], limit: int, marker: Marker) -> int:
    n = len(items)
    picks = _picks(n, limit)
    out: list[Any] = []
    for i, gap in picks:
        if i > gap:
            out.append(
                marker(i - gap, "items", f"items {gap}-{i - 1}, sampled: array of {n} items")
            )
        out.append(items[i])
    items[:] = out
    return n - len(picks)


def _sample_entries(entries: dict[str, Any], limit: int, marker: Marker) -> int:
    """``_sample`` for an object: each skipped run of entries becomes an ``OMITTED_KEY``
    entry holding its marker (the key names the run's first position)."""
    n = len(entries)
    keys = list(entries)
    picks = _picks(n, limit)
    out: dict[str, Any] = {}
    for i, gap in picks:
        if i > gap:
            detail = f"entries {gap}-{i - 1}, sampled: object of {n} entries"
            out[f"{OMITTED_KEY} {gap}"] = marker(i - gap, "entries", detail)
        out[keys[i]] = entries[keys[i]]
    entries.clear()
    entries.update(out)
    return n - len(picks)
