"""JSON compressor invariants: always valid JSON, exact omission counts, byte-exact originals."""

from __future__ import annotations

import copy
import json
import re
import statistics
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from headroom_core import HeadroomConfig, compress, retrieve
from headroom_core._markers import MARKER_RE, find_markers, format_marker
from headroom_core._tokens import get_tokenizer
from headroom_core.compressors import CompressContext
from headroom_core.compressors._json import JSONCompressor, expand_embedded
from headroom_core.compressors._json_compact import ABSENT, _table_growth
from headroom_core.compressors._json_factor import _sub_bounded, dumps
from headroom_core.compressors._json_select import (
    _ERROR_WORDS,
    _FOLDS_TO_ASCII,
    SelectionMemo,
    _beyond_three_sd,
    _field_kind,
    cut_strings,
    has_error_words,
    long_strings,
    select_rows,
    still_long,
)
from headroom_core.compressors._json_series import (
    _NONE,
    USUAL_SHARE,
    _usual_value,
    collapse_usual_runs,
    inner_arrays,
    inner_arrays_among,
)
from tests.conftest import case_text

REF = "hr_" + "b" * 20
TOKENIZER = get_tokenizer()
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def marker(count: int, unit: str, detail: str | None = None) -> str:
    return format_marker(count, unit, REF, detail)


# plain words: no braces, so no string is mistaken for embedded JSON
words = st.text(alphabet="abcdefghij klmnop-_/:.0123456789", max_size=400)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), words, st.sampled_from(["ok", "fail"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=12),
        st.dictionaries(st.sampled_from(["id", "name", "url", "state", "body", "n"]), inner),
    ),
    max_leaves=60,
)
rows_of_objects = st.lists(
    st.fixed_dictionaries(
        {"id": st.integers(0, 50), "state": st.sampled_from(["open", "closed"]), "body": words}
    ),
    min_size=1,
    max_size=40,
)


def _strings(value: Any) -> set[int]:
    """Lengths of every string in ``value``."""
    out: set[int] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.add(len(v))
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def run(text: str, budget: int, query: str | None = None) -> str:
    ctx = CompressContext(
        ref=REF,
        config=HeadroomConfig(),
        count_tokens=TOKENIZER.count,
        original_tokens=TOKENIZER.count(text),
        budget=budget,
        query=query,
    )
    return JSONCompressor().compress(text, ctx).text


@SETTINGS
@given(value=st.one_of(json_values, rows_of_objects), budget=st.integers(1, 3000))
def test_output_always_parses_and_markers_are_exact(value: Any, budget: int) -> None:
    text = json.dumps(value, indent=2)
    out = run(text, budget)
    json.loads(out)
    assert out == run(text, budget)  # deterministic
    lengths = _strings(value)
    for m in find_markers(out):
        assert m.ref == REF
        if m.unit == "chars":  # a cut string says how long it was, and the count adds up
            assert m.detail is not None
            full = int(m.detail.removeprefix("of "))
            assert full in lengths
            assert 0 < m.count <= full


@SETTINGS
@given(rows=st.lists(st.one_of(scalars, rows_of_objects), max_size=80), excess=st.integers(0, 5000))
def test_row_markers_count_exactly_what_was_dropped(rows: list[Any], excess: int) -> None:
    original = list(rows)
    select_rows(rows, excess, "find fail", marker)
    select_rows(rows, excess // 2, None, marker)  # a second pass merges into the markers
    position = 0
    for item in rows:
        m = MARKER_RE.fullmatch(item) if isinstance(item, str) else None
        if m is not None and m["unit"] == "items":
            count = int(m["count"])
            start = position
            assert m["detail"].split(" ")[1].split("-")[0] == str(start)
            position += count
        else:
            assert item is original[position] or item == original[position]
            position += 1
    assert position == len(original)


small_records = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"w": st.integers(0, 10**6), "n": st.sampled_from([0, 0, 0, 1, 5])},
            optional={"s": st.sampled_from(["ok", "fail", "x y"])},
        ),
        st.sampled_from([0, 0, 1]),
    ),
    max_size=60,
)
# weekly counts: mostly the usual record, so runs of them are long enough to collapse
weekly = st.lists(
    st.fixed_dictionaries(
        {
            "w": st.integers(0, 10**6),
            "n": st.sampled_from([0, 0, 0, 0, 0, 0, 0, 1, 5]),
            "s": st.sampled_from(["ok"] * 7 + ["fail"]),
        }
    ),
    min_size=8,
    max_size=60,
)
series = small_records | weekly


@SETTINGS
@given(items=series, query=st.sampled_from([None, "fail", "5"]))
def test_usual_runs_count_exactly_and_hold_the_values_they_name(
    items: list[Any], query: str | None
) -> None:
    original = list(items)
    saved = collapse_usual_runs(items, query, marker)
    assert saved == len(dumps(original)) - len(dumps(items))
    position = 0
    for item in items:
        m = MARKER_RE.fullmatch(item) if isinstance(item, str) else None
        if m is None:
            assert item is original[position]
            position += 1
            continue
        span, _, values = m["detail"].partition(", each ")
        first, last = (int(x) for x in span.removeprefix("items ").split("-"))
        assert (first, last - first + 1) == (position, int(m["count"]))
        for gone in original[first : last + 1]:
            shown = gone if isinstance(gone, dict) else {"": gone}
            for pair in values.split(" ") if values else []:
                key, _, value = pair.rpartition("=")
                assert str(shown[key]).lower() == value
        position = last + 1
    assert position == len(original)


@SETTINGS
@given(items=series, query=st.sampled_from([None, "fail", "5"]))
def test_an_array_collapsed_again_from_the_memo_is_collapsed_alike(
    items: list[Any], query: str | None
) -> None:
    # a selection afresh meets equal arrays (new objects): the memo's runs stand for them
    memo = SelectionMemo()
    fresh, first, again = copy.deepcopy(items), copy.deepcopy(items), copy.deepcopy(items)
    saved = collapse_usual_runs(fresh, query, marker)
    assert collapse_usual_runs(first, query, marker, memo) == saved
    assert len(memo.runs) == 1
    own = {id(item) for item in again if isinstance(item, dict)}
    assert collapse_usual_runs(again, query, marker, memo) == saved
    assert again == first == fresh
    # the objects kept are the array's own, not those of the array the memo learnt from
    assert all(id(item) in own for item in again if isinstance(item, dict))


NAN = float("nan")
# values a column of small records may hold: classes that compare equal across (0, 0.0,
# False), one NaN object repeated and fresh ones, and _NONE for an item lacking the field
column_values = st.sampled_from([0, 0, 0.0, False, True, 1, NAN, None, "0", "ok", _NONE]) | (
    st.builds(float, st.just("nan"))
)


@SETTINGS
@given(column=st.lists(column_values, min_size=1, max_size=40))
@example(column=[0, False, False, 1, 1])  # equal across classes: 0 is not usual
@example(column=[NAN, float("nan"), NAN, 0, 0])  # NaN: the same object only
@example(column=[_NONE, 1, _NONE, 1])  # a tie: the first met
def test_usual_value_is_the_most_frequent_value_with_its_class(column: list[Any]) -> None:
    # the definition: count each value with its class (True is not 1; a NaN is only the
    # same object), take the most frequent, the first met on a tie
    counts: dict[tuple[type, Any], int] = {}
    for v in column:
        counts[(type(v), v)] = counts.get((type(v), v), 0) + 1
    value, top = max(counts.items(), key=lambda kv: kv[1])
    expected = value if top >= USUAL_SHARE * len(column) else None
    assert _usual_value(column) == expected


rows_with_series = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 99), "series": small_records}),
    min_size=1,
    max_size=8,
    unique_by=lambda r: r["id"],  # no row is a repeat shown by reference
)


@SETTINGS
@given(rows=rows_with_series, budget=st.integers(20, 1500))
def test_nested_series_count_every_item_they_leave_out(
    rows: list[dict[str, Any]], budget: int
) -> None:
    out = json.loads(run(json.dumps(rows, indent=2), budget))
    data = out.get("@data", out) if isinstance(out, dict) else out
    shown = data["@rows"] if isinstance(data, dict) else data
    cols = data["@cols"] if isinstance(data, dict) else None
    position = 0
    for row in shown:
        if isinstance(row, str):  # whole rows left out
            position += sum(m.count for m in find_markers(row))
            continue
        if cols is not None:
            series = row[cols.index("series")] if "series" in cols else "@"
        else:
            series = row.get("series", "@")
        if series == "@":  # the default applies: stated once in the legend, not dropped
            position += 1
            continue
        items = series["@rows"] if isinstance(series, dict) else series
        omitted = sum(m.count for i in items if isinstance(i, str) for m in find_markers(i))
        kept = sum(not (isinstance(i, str) and MARKER_RE.fullmatch(i)) for i in items)
        assert omitted + kept == len(rows[position]["series"])
        position += 1
    assert position == len(rows)


@SETTINGS
@given(
    texts=st.lists(words, min_size=1, max_size=10), caps=st.lists(st.integers(0, 300), max_size=3)
)
def test_cut_strings_keep_a_prefix_and_count_the_rest(texts: list[str], caps: list[int]) -> None:
    data = {"items": list(texts)}
    for cap in caps:
        cut_strings(data, cap, marker)
    for original, now in zip(texts, data["items"], strict=True):
        m = MARKER_RE.search(now)
        if m is None:
            assert now == original
            continue
        head = now[: m.start()].rstrip(" ")
        assert original.startswith(head)
        assert int(m["count"]) == len(original) - len(head)
        assert m["detail"] == f"of {len(original)}"


@SETTINGS
@given(
    items=st.lists(
        st.one_of(
            st.dictionaries(st.text(max_size=6), json_values, max_size=6),
            st.just(format_marker(3, "items", REF, "items 1-3")),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_table_growth_is_the_exact_difference_in_characters(items: list[Any]) -> None:
    rows = [r for r in items if isinstance(r, dict)]
    names = list(dict.fromkeys(k for r in rows for k in r))
    table_rows = [[r.get(k, ABSENT) for k in names] if isinstance(r, dict) else r for r in items]
    table = {"@cols": names, "@rows": table_rows}
    assert _table_growth(names, rows) == len(dumps(table)) - len(dumps(items))


@given(value=st.one_of(json_values, rows_of_objects))
def test_retrieve_returns_the_original_byte_exact(value: Any) -> None:
    text = json.dumps(value, indent=2)
    config = HeadroomConfig(min_tokens=0)
    c = compress(text, kind="json", config=config)
    json.loads(c.text)
    if c.ref is not None:
        assert retrieve(c.ref, config=config) == text
    else:
        assert c.text == text


def _top_array(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return next((v for v in value.values() if isinstance(v, list)), None)
    return None


def _shown_array(data: Any) -> Any:
    """The compressed counterpart of ``_top_array``: a list or an ``@rows`` table."""
    if isinstance(data, list) or (isinstance(data, dict) and "@rows" in data):
        return data
    if isinstance(data, dict):
        return next((v for v in data.values() if _shown_array(v) is not None), None)
    return None


def _rows_of(out_data: Any) -> list[Any]:
    if isinstance(out_data, dict) and "@rows" in out_data:
        return list(out_data["@rows"])
    return list(out_data)


def test_corpus_json_cases(corpus_cases: list[dict[str, Any]]) -> None:
    """Every JSON case: valid JSON, exact row counts, original kept; needles mostly in place."""
    found = total = 0
    count: Callable[[str], int] = TOKENIZER.count
    for case in corpus_cases:
        if case["kind"] != "json":
            continue
        text = case_text(case)
        c = compress(text, query=case["query"], tool=case["tool"])
        out = json.loads(c.text)
        assert c.ref is not None and retrieve(c.ref) == text
        assert c.compressed_tokens <= 0.2 * c.original_tokens, case["id"]
        assert all(m.ref == c.ref for m in find_markers(c.text))
        original = _top_array(json.loads(text))
        shown = _shown_array(out.get("@data", out) if isinstance(out, dict) else out)
        assert (original is None) == (shown is None), case["id"]
        if original is not None and shown is not None:
            items = _rows_of(shown)
            omitted = sum(m.count for i in items if isinstance(i, str) for m in find_markers(i))
            assert omitted + sum(not isinstance(i, str) for i in items) == len(original)
        for needle in case["needles"]:
            total += 1
            found += needle["answer"] in c.text
        assert count(c.text) == c.compressed_tokens
    assert total and found / total >= 0.9


# letters with case folds (including the non-ASCII ones re.I maps to ASCII), digits, joints
folding = st.text(alphabet="aAeErRoOiIsSkKlL1/._- \u0130\u0131\u017f\u212a\u00e9", max_size=16)


@SETTINGS
@given(text=folding, value=folding.filter(bool))
def test_sub_bounded_is_the_lookaround_regex(text: str, value: str) -> None:
    """Replacing a value where no ASCII letter or digit touches it, as the regex does."""
    pattern = re.compile(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])")
    assert _sub_bounded(text, value, "\U000f0000") == pattern.sub("\U000f0000", text)


error_text = st.lists(
    st.sampled_from(
        [
            "Error",
            "errors",
            "FAILED",
            "failing",
            "timed out",
            "timed  out",
            "cancel",
            "canceled",
            "fa\u0131l",
            "\u0130nvalid",
            "cra\u017fh",
            "panicked",
            "x",
            " ",
            "_",
            "0",
            "\u00e9",
            "xerror",  # a stem inside a longer word, and stems one after another
            "errorerror",
            "Crashed",
            "TIMEOUT",
            "\u03a3",  # a final sigma lowercases by context; titlecase and Kelvin sign
            "\u01c5",
            "\u212a",
            "\u0661",
        ]
    ),
    max_size=8,
).map("".join)


@SETTINGS
@given(text=error_text)
@example(text="xerror error")  # the first place a stem shows is not a word of its own
@example(text="errorless, then crashed")
def test_error_words_shortcut_agrees_with_the_regex(text: str) -> None:
    assert has_error_words(text) == (_ERROR_WORDS.search(text) is not None)


def test_the_letters_that_fold_to_ascii_are_all_listed() -> None:
    # has_error_words matches the lowercased text case-sensitively unless the text holds one
    # of these: every other character neither matches an ASCII letter under re.I nor
    # lowercases to text with an ASCII letter in it
    folds = set(_FOLDS_TO_ASCII)
    ascii_letter = re.compile("[a-z]", re.I)
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF or chr(cp) in folds:
            continue
        c = chr(cp)
        assert ascii_letter.fullmatch(c) is None, hex(cp)
        assert not any("a" <= x <= "z" or "A" <= x <= "Z" for x in c.lower()), hex(cp)


_USERS = [{"login": f"user{i}", "id": 1000 + i, "type": "User", "admin": i == 0} for i in range(5)]
issue_rows = st.lists(
    st.fixed_dictionaries(
        {
            "number": st.integers(1, 500),
            "title": words,
            "user": st.sampled_from(_USERS),
            "assignee": st.one_of(st.none(), st.sampled_from(_USERS)),
            "labels": st.lists(
                st.sampled_from(
                    [{"name": "bug", "color": "f00"}, {"name": "docs", "color": "0f0"}]
                ),
                max_size=2,
            ),
            "meta": st.fixed_dictionaries(
                {"detail": st.fixed_dictionaries({"by": st.sampled_from(_USERS), "note": words})}
            ),
            "state": st.sampled_from(["open", "closed", "failed"]),
        }
    ),
    min_size=6,
    max_size=40,
)


def _objects(value: Any) -> list[dict[str, Any]]:
    """Every object of a compact output, table rows read back as objects."""
    out: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if "@cols" in v and "@rows" in v:
                for row in v["@rows"]:
                    if isinstance(row, list):
                        obj = {k: c for k, c in zip(v["@cols"], row, strict=True) if c != ABSENT}
                        stack.append(obj)
                continue
            out.append(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


@SETTINGS
@given(rows=issue_rows, share=st.floats(0.03, 0.6), query=st.sampled_from([None, "failed user2"]))
def test_every_same_reference_names_an_object_the_output_shows(
    rows: list[Any], share: float, query: str | None
) -> None:
    # repeated users and labels, deep detail and rows go in rounds: an "@same" reference must
    # still point at an object the output shows, never at one that a round took out
    text = json.dumps(rows, indent=2)
    out = run(text, max(1, int(TOKENIZER.count(text) * share)), query)
    objects = _objects(json.loads(out).get("@data", json.loads(out)))
    shown = [o for o in objects if "@same" not in o]
    for ref in (o for o in objects if "@same" in o):
        key = ref["@same"]
        assert any(o.get(key) == ref[key] for o in shown), (key, ref[key])


long_texts = st.text(alphabet="abcdefghij klmnop-_/:.0123456789", min_size=150, max_size=900)
values_with_long_texts = st.recursive(
    st.one_of(scalars, long_texts),
    lambda inner: st.one_of(
        st.lists(inner, max_size=8),
        st.dictionaries(st.sampled_from(["id", "name", "url", "state", "body", "n"]), inner),
    ),
    max_leaves=30,
)


@SETTINGS
@given(
    value=values_with_long_texts,
    cap=st.sampled_from([60, 120, 240, 500]),
    drop=st.sets(st.sampled_from(["id", "name", "url", "state", "body", "n"])),
)
def test_long_strings_refreshed_after_cuts_and_dropped_fields_are_found_again(
    value: Any, cap: int, drop: set[str]
) -> None:
    if not isinstance(value, (dict, list)):
        return
    found = long_strings(value)
    cut_strings(value, cap, marker, found)
    stack = [value]  # scalar fields go, as a field step drops them
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k in [k for k in v if k in drop and not isinstance(v[k], (dict, list))]:
                del v[k]
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    assert still_long(found) == long_strings(value)


#: Trees with long arrays of small records (series) and of objects, at any depth.
values_with_long_arrays = st.recursive(
    st.one_of(scalars, words),
    lambda inner: st.one_of(
        st.lists(inner, max_size=16),
        # one size: arrays of equal length tie, and the walk's order decides
        st.lists(
            st.fixed_dictionaries({"week": st.integers(0, 3), "n": st.integers(0, 2)}),
            min_size=12,
            max_size=12,
        ),
        st.dictionaries(st.sampled_from(["id", "weeks", "url", "state", "body", "n"]), inner),
    ),
    max_leaves=80,
)


@SETTINGS
@given(value=values_with_long_texts | values_with_long_arrays)
def test_the_lossless_walk_finds_the_long_strings_and_arrays_the_selection_walks_find(
    value: Any,
) -> None:
    if not isinstance(value, (dict, list)):
        return
    found = expand_embedded(value)
    # the same strings (in another order), and the same arrays in the same order
    key = lambda t: (id(t[0]), str(t[1]))  # noqa: E731
    assert sorted(found.long, key=key) == sorted(long_strings(value), key=key)
    assert [id(a) for a in inner_arrays_among(found.lists)] == [
        id(a) for a in inner_arrays(value, anywhere=True)
    ]


def test_long_arrays_of_one_size_come_in_the_order_the_selection_walk_meets_them() -> None:
    def series(v: int) -> list[dict[str, int]]:
        return [{"week": i % 10, "n": v} for i in range(12)]

    value = {
        "a": series(1),
        "rows": [{"x": series(2), "y": [series(3), series(4)]}, {"x": series(5)}],
        "b": {"c": series(6)},
    }
    expected = inner_arrays(value, anywhere=True)
    assert len(expected) == 6
    found = inner_arrays_among(expand_embedded(value).lists)
    assert [a[0]["n"] for a in found] == [a[0]["n"] for a in expected]


def _three_sd_by_the_library(xs: list[float]) -> list[bool]:
    mean, sd = statistics.fmean(xs), statistics.pstdev(xs)
    return [bool(sd) and abs(x - mean) > 3 * sd for x in xs]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-(10**6), 10**6).map(float),
            st.floats(-1e12, 1e12, allow_nan=False),
            st.sampled_from([0.0, 1.0, 10.0]),
        ),
        min_size=5,
        max_size=60,
    )
)
def test_outliers_are_the_standard_librarys(xs: list[float]) -> None:
    assert _beyond_three_sd(xs, statistics.fmean(xs)) == _three_sd_by_the_library(xs)


def test_a_value_exactly_three_deviations_out_is_no_outlier() -> None:
    # nine zeros and one x: x is exactly 3 standard deviations from the mean
    for x in (1.0, 7.0, 10.0, 1e6, 123456789.0):
        xs = [0.0] * 9 + [x]
        assert _beyond_three_sd(xs, statistics.fmean(xs)) == _three_sd_by_the_library(xs)


class _Text(str):
    """A subclass of str, as a caller's own tree might hold."""


_kind_values = st.lists(
    st.one_of(
        st.none(),
        st.integers(0, 99),
        st.just(""),
        st.sampled_from(["https://x.test/a", "abc123DEF456ghi789", "a title", "x" * 200]),
        st.builds(_Text, st.sampled_from(["https://x.test/b", "plain"])),
        st.just({"a": 1}),
        st.just([1]),
    ),
    min_size=1,
    max_size=30,
)


@given(
    values=_kind_values,
    path=st.sampled_from(["[]", "[].user", "[].a.b", "."]),
    key=st.sampled_from(["url", "html_url", "head_sha", "body", "node_id"]),
)
def test_field_kind_counts_text_of_any_str_class(values: list[Any], path: str, key: str) -> None:
    # the kind is found by classes first (in C): a subclass of str is text all the same
    plain = [str(v) if isinstance(v, str) else v for v in values]
    assert _field_kind(path, key, values) == _field_kind(path, key, plain)


# objects repeated across rows (owners, repositories): the compact form refers to the
# repeats, so it can be far shorter than the factored tree the first estimate reads
owners = st.lists(
    st.dictionaries(
        st.sampled_from([f"f{i}" for i in range(30)]),
        st.text(alphabet="abcdefghij klmnop-_/:.0123456789", min_size=8, max_size=60),
        min_size=12,
    ),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(
    pool=owners,
    picks=st.lists(st.integers(0, 3), min_size=8, max_size=40),
    extra=st.floats(0.0, 0.5),
)
def test_a_lossless_output_within_the_budget_is_the_output(
    pool: list[dict[str, Any]], picks: list[int], extra: float
) -> None:
    rows = [
        {"id": i, "owner": {"login": f"user{p % len(pool)}", **pool[p % len(pool)]}}
        for i, p in enumerate(picks)
    ]
    text = json.dumps(rows, indent=2)
    lossless = run(text, 10**9)
    assert run(text, int(TOKENIZER.count(lossless) * (1 + extra))) == lossless
