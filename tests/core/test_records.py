"""query_from_arguments, CompressionRecord and summarize: what every adapter reports."""

from __future__ import annotations

import json

import pytest

from headroom_core import (
    Compression,
    CompressionRecord,
    SavingsSummary,
    query_from_arguments,
    summarize,
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


def test_record_of_a_compression() -> None:
    c = Compression("short", "log", 400, 100, "hr_" + "a" * 20)
    record = CompressionRecord.of(c, tool="get_logs", call_id="call_1", seconds=0.25)
    assert record == CompressionRecord("get_logs", "call_1", "log", 400, 100, c.ref, 0.25)
    assert (record.saved_tokens, record.savings) == (300, 0.75)


def test_summarize() -> None:
    records = [
        CompressionRecord("a", "1", "log", 400, 100, "hr_" + "a" * 20, 0.5),
        CompressionRecord("b", None, None, 30, 30, None),
        CompressionRecord("a", "2", "json", 0, 0, None, 0.25),
    ]
    summary = summarize(records)
    assert summary == SavingsSummary(3, 1, 430, 130, 0.75, ("hr_" + "a" * 20,))
    assert summary.saved_tokens == 300 and round(summary.savings, 4) == 0.6977
    assert summary.to_dict()["savings"] == 0.6977
    assert summarize([]) == SavingsSummary() and SavingsSummary().savings == 0.0
