"""compress / retrieve round trips, markers, pass-through rules."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core import (
    MARKER_RE,
    Compression,
    ConfigError,
    HeadroomConfig,
    compress,
    find_markers,
    format_marker,
    retrieve,
)

USERS = [
    {
        "login": f"user{i}",
        "id": i,
        "site_admin": i == 7,
        "url": f"https://api.github.com/users/user{i}",
    }
    for i in range(80)
]


def test_small_input_passes_through_without_ref() -> None:
    c = compress("hello world")
    assert c.text == "hello world"
    assert c.ref is None
    assert c.savings == 0.0


def test_json_value_is_compressed_and_retrievable() -> None:
    c = compress(USERS)
    assert c.kind == "json"
    assert c.ref is not None
    assert c.compressed_tokens < c.original_tokens
    assert json.loads(retrieve(c.ref)) == USERS


def test_compression_is_deterministic() -> None:
    text = json.dumps(USERS, indent=2)
    a, b = compress(text), compress(text)
    assert a == b


def test_ref_is_namespaced() -> None:
    text = json.dumps(USERS, indent=2)
    c = compress(text, config=HeadroomConfig(namespace="tenant-a"))
    assert c.ref is not None
    assert retrieve(c.ref, config=HeadroomConfig(namespace="tenant-a")) == text
    other = retrieve(c.ref, config=HeadroomConfig(namespace="tenant-b"))
    assert other.startswith("[headroom:") and "unknown or expired" in other
    assert "user7" not in other


@pytest.mark.parametrize("bad", ["", "hr_short", "not a ref", "hr_" + "A" * 20])
def test_retrieve_bad_ref_gives_message(bad: str) -> None:
    out = retrieve(bad)
    assert out.startswith("[headroom:")


def test_retrieve_with_query_returns_matching_chunk() -> None:
    c = compress(json.dumps(USERS, indent=2))
    assert c.ref is not None
    out = retrieve(c.ref, query="user42", max_tokens=200)
    assert '"login": "user42"' in out
    assert "user41" not in out


def test_retrieve_max_tokens_without_query_cuts_with_note() -> None:
    text = "\n".join(f"line {i} of a long tool output with words" for i in range(400))
    c = compress(text, kind="text")
    ref = c.ref
    if ref is None:  # text baseline may pass through; store it through a forced JSON path
        ref = compress(USERS).ref
    assert ref is not None
    out = retrieve(ref, max_tokens=100)
    assert "more lines not shown" in out


def test_marker_grammar_round_trip() -> None:
    m = format_marker(412, "lines", "hr_abcdefghijklmnopqrst", 'INFO "heartbeat" (x412) [a]')
    assert MARKER_RE.fullmatch(m)
    (parsed,) = find_markers(f"before {m} after")
    assert (
        parsed.count == 412 and parsed.unit == "lines" and parsed.ref == "hr_abcdefghijklmnopqrst"
    )
    assert parsed.detail is not None and '"' not in parsed.detail
    json.loads(json.dumps({"x": m}))  # safe inside JSON strings


MARKER_REF = "hr_abcdefghijklmnopqrst"


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab1 \u00e9", min_size=1, max_size=12),  # mostly nothing to clean
        st.text(alphabet='aZ09 \t\n()[]"\\-:.\u00a0\u00e9\u0661', min_size=1, max_size=40),
    )
)
def test_marker_details_are_cleaned_alike_on_every_path(detail: str) -> None:
    # forbidden characters become spaces, whitespace runs one space, ends stripped, at most
    # 160 characters: a detail with nothing to clean is taken as it is
    clean = re.sub(r"\s+", " ", re.sub(r"[()\[\]\"\\\n\r]", " ", detail).strip())[:160]
    expected = (
        f"[headroom: 3 chars omitted ({clean}); ref={MARKER_REF}]"
        if clean
        else f"[headroom: 3 chars omitted; ref={MARKER_REF}]"
    )
    assert format_marker(3, "chars", MARKER_REF, detail) == expected


def test_compression_savings_property() -> None:
    c = Compression("x", "text", 100, 25)
    assert c.savings == pytest.approx(0.75)
    assert Compression("x", "text", 0, 0).savings == 0.0


def test_compressed_output_passes_through_unchanged() -> None:
    first = compress(json.dumps(USERS, indent=2))
    assert first.ref is not None and MARKER_RE.search(first.text)
    again = compress(first.text, config=HeadroomConfig(min_tokens=1))
    assert (again.text, again.ref) == (first.text, None)
    assert again.notes == ("passthrough: already compressed",)
    assert again.original_tokens == again.compressed_tokens == first.compressed_tokens


def test_per_kind_target_ratio_wins_over_the_global_one() -> None:
    config = HeadroomConfig(target_ratio=0.2, kinds={"search": {"target_ratio": 0.7}})
    assert config.budget_for("search", 10_000) == 7_000
    assert config.budget_for("log", 10_000) == 2_000
    assert HeadroomConfig().budget_for("search", 10_000) == 1_000  # the kind's default
    lines = "".join(f"src/mod{i % 7}.py:{i}:    value_{i} = compute({i})\n" for i in range(400))
    small = compress(lines, kind="search", config=HeadroomConfig())
    large = compress(
        lines, kind="search", config=HeadroomConfig(kinds={"search": {"target_ratio": 0.7}})
    )
    assert small.compressed_tokens < large.compressed_tokens <= 0.7 * large.original_tokens + 50
    with pytest.raises(ConfigError):
        HeadroomConfig(kinds={"search": {"target_ratio": 1.5}})
