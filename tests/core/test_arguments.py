"""query_from_arguments and retrieve_from_arguments: tool-call arguments as adapters get them."""

from __future__ import annotations

import json

import pytest

from headroom_core import (
    compress,
    query_for_tool_result,
    query_from_arguments,
    retrieve,
    retrieve_from_arguments,
)
from headroom_core._messages_formats import build_query, call_from


@pytest.mark.parametrize(
    ("arguments", "query"),
    [
        (None, None),
        ({}, None),
        ("", None),
        ({"q": " OOMKilled ", "limit": 50, "ratio": 0.5}, "OOMKilled 50 0.5"),
        ('{"q": "deploy", "verbose": true, "page": null}', "deploy"),
        ({"filters": {"author": "ada", "labels": ["bug", "p1"]}}, "ada bug p1"),
        ("free text, not JSON", "free text, not JSON"),
        ({"flag": False, "blank": "  "}, None),
    ],
)
def test_query_from_arguments(arguments: object, query: str | None) -> None:
    assert query_from_arguments(arguments) == query  # type: ignore[arg-type]


def test_query_from_arguments_matches_compress_messages() -> None:
    """A tool result gets the same query from an adapter as from ``compress_messages``."""
    arguments = {"path": "src/app.py", "pattern": "def main", "context": 3}
    call = call_from("grep", json.dumps(arguments))
    assert build_query("", call) == query_from_arguments(arguments) == "src/app.py def main 3"


LOG = "\n".join(f"2024-05-01T10:{i // 60:02d}:{i % 60:02d} INFO worker {i} ok" for i in range(400))


def test_retrieve_from_arguments() -> None:
    ref = compress(LOG + "\nERROR disk full on /var", tool="logs").ref
    assert ref is not None
    assert retrieve_from_arguments({"ref": ref}) == retrieve(ref)
    as_json = json.dumps({"ref": ref, "query": "disk full", "max_tokens": 200})
    assert retrieve_from_arguments(as_json) == retrieve(ref, query="disk full", max_tokens=200)
    # wrong types of the optional arguments are ignored
    assert retrieve_from_arguments({"ref": ref, "query": 3, "max_tokens": "x"}) == retrieve(ref)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("{not json", "arguments must be a JSON object with a `ref`"),
        (None, "a `ref` string (hr_...) is required"),
        ("[1]", "a `ref` string (hr_...) is required"),
        ({"ref": 7}, "a `ref` string (hr_...) is required"),
    ],
)
def test_retrieve_from_bad_arguments_explains(arguments: object, message: str) -> None:
    assert retrieve_from_arguments(arguments) == f"headroom_retrieve: {message}"  # type: ignore[arg-type]


def test_query_for_tool_result_is_the_one_compress_messages_uses() -> None:
    """Latest user text (string or text parts) plus the call's arguments, as the walker builds it."""
    messages = [
        {"role": "user", "content": "an older task"},
        {"role": "assistant", "content": "on it"},
        {"role": "user", "content": [{"type": "input_text", "text": "why did deploy 42 fail?"}]},
    ]
    assert query_for_tool_result(messages, '{"service": "api"}') == build_query(
        "why did deploy 42 fail?", call_from(None, {"service": "api"})
    )
    assert query_for_tool_result(messages) == "why did deploy 42 fail?"
    assert query_for_tool_result([], None) is None
