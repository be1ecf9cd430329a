"""CompressionRecord and summarize: the savings figures every adapter reports."""

from __future__ import annotations

from headroom_core import (
    Compression,
    CompressionRecord,
    SavingsSummary,
    summarize,
)


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
