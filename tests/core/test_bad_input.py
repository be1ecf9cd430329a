"""Bad input never raises into the caller, finishes in bounded time, and loses nothing."""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom_core import HeadroomConfig, compress, fetch_original, retrieve
from headroom_core._markers import Marker, find_markers


def _assert_nothing_lost(original: str | bytes, result_text: str, ref: str | None) -> None:
    if ref is None:
        assert result_text == original, "no ref, so the text must be the original itself"
    else:
        assert fetch_original(ref).value() == original


def test_invalid_json_that_looks_like_json() -> None:
    text = (
        '{"items": [' + ",".join(f'{{"id": {i}, "name": "n{i}"' for i in range(300)) + "]"
    )  # unclosed
    c = compress(text)
    _assert_nothing_lost(text, c.text, c.ref)


def test_binary_bytes_are_stood_in_and_stored() -> None:
    data = bytes(range(256)) * 64
    c = compress(data)
    assert c.kind == "binary"
    assert c.ref is not None and c.ref in c.text
    assert len(c.text) < 200
    assert fetch_original(c.ref).value() == data


@pytest.mark.parametrize("empty", ["", b"", "   \n"])
def test_empty_input(empty: str | bytes) -> None:
    c = compress(empty)
    assert c.ref is None
    assert c.original_tokens <= 2


def test_fifty_megabytes_in_bounded_time_and_memory() -> None:
    line = "2024-05-01T12:00:{s:02d}Z INFO api request id={i} path=/v1/items/{i} took {ms}ms\n"
    text = "".join(line.format(s=i % 60, i=i, ms=i % 97) for i in range(640_000))
    assert len(text) > 50_000_000
    tracemalloc.start()
    t0 = time.perf_counter()
    c = compress(text)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 30, f"50 MB took {elapsed:.1f}s"
    assert peak < 12 * len(text), f"peak memory {peak / 1e6:.0f} MB"
    assert c.compressed_tokens <= 4100
    assert not c.tokens_exact  # the original's count is estimated from a sample, and says so
    assert c.ref is not None and retrieve(c.ref) == text


def _head_marker_tail(original: str, text: str) -> tuple[str, Marker, str]:
    """The head and tail of ``original`` that ``text`` keeps around its one marker."""
    (marker,) = find_markers(text)
    at = text.index("[headroom: ")
    before, after = text[:at], text[text.index("]", at) + 2 :]
    head = before if original.startswith(before) else before.removesuffix("\n")
    assert original.startswith(head) and original.endswith(after)
    return head, marker, after


@pytest.mark.parametrize(
    ("items", "max_input_bytes"),
    [(20_000, 200_000), (1_000_000, None)],  # the second at the default limit (16 MiB)
)
def test_an_oversized_one_line_json_keeps_a_head_and_a_tail_of_characters(
    items: int, max_input_bytes: int | None
) -> None:
    # minified API output is one line: whole lines would keep all of it, or nothing
    text = json.dumps([{"id": i, "state": "open", "v": i % 7} for i in range(items)])
    config = (
        HeadroomConfig()
        if max_input_bytes is None
        else HeadroomConfig(max_input_bytes=max_input_bytes)
    )
    assert len(text.encode()) > config.max_input_bytes
    t0 = time.perf_counter()
    c = compress(text, config=config)
    assert time.perf_counter() - t0 < 30
    assert c.compressed_tokens <= 4000 < c.original_tokens
    head, marker, tail = _head_marker_tail(text, c.text)
    assert marker.unit == "chars" and marker.ref == c.ref
    assert marker.count == len(text) - len(head) - len(tail)
    assert len(head) > 2000 and len(tail) > 1000  # the budget is used, two thirds up front
    assert c.ref is not None and retrieve(c.ref, config=config) == text


def test_an_oversized_text_with_one_long_line_is_cut_within_budget() -> None:
    lines = [f"2024-05-01 INFO request {i} ok" for i in range(30_000)]
    lines[5] = "2024-05-01 DEBUG payload " + "ab" * 5000
    text = "\n".join(lines)
    config = HeadroomConfig(max_input_bytes=100_000)
    c = compress(text, config=config)
    assert c.compressed_tokens <= 4000
    head, marker, tail = _head_marker_tail(text, c.text)
    assert marker.count == len(text) - len(head) - len(tail)
    assert tail.startswith("2024-05-01 INFO request ")  # the tail starts at a line


def test_json_nested_ten_thousand_levels() -> None:
    deep: list[object] = []
    cur = deep
    for _ in range(10_000):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    c = compress(deep)  # a Python value: serialised without recursion
    assert c.text.startswith("[[[")
    _assert_nothing_lost(c.text if c.ref is None else fetch_original(c.ref).value(), c.text, c.ref)
    text = "[" * 10_000 + "]" * 10_000
    c2 = compress(text)
    _assert_nothing_lost(text, c2.text, c2.ref)


def test_lone_surrogates_and_nul_bytes() -> None:
    text = "report " + "\ud800" + " body\x00tail " * 200
    c = compress(text)
    assert "\x00" not in c.text
    c.text.encode("utf-8")  # what the model gets is valid UTF-8
    assert c.ref is not None
    assert retrieve(c.ref) == text
    json.dumps(c.to_dict())


def test_utf8_bytes_with_a_nul_are_stored_byte_exact() -> None:
    data = ("GET /items ok\n" * 300 + "a\x00b\n").encode()
    c = compress(data)
    assert "\x00" not in c.text
    assert c.ref is not None
    assert fetch_original(c.ref).value() == data


def test_object_that_is_not_json() -> None:
    class Weird:
        def __str__(self) -> str:
            return "weird object " * 100

    c = compress({"a": Weird()})
    assert "weird object" in (fetch_original(c.ref).value() if c.ref else c.text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_compress_never_raises_and_round_trips(value: str | bytes) -> None:
    c = compress(value, config=None)
    if c.ref is not None:
        assert fetch_original(c.ref).value() == value
    elif isinstance(value, str):
        assert c.text == value
