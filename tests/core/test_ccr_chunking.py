"""Chunks follow structure: verbatim slices, whole lines, whole JSON values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headroom_core._chunking import MAX_CHUNK_CHARS, chunk_original
from headroom_core._chunking_types import Chunk

from ..conftest import case_text


def _real(chunks: list[Chunk]) -> list[Chunk]:
    return [c for c in chunks if not c.derived]


def _assert_verbatim(text: str, chunks: list[Chunk]) -> None:
    for c in _real(chunks):
        assert text[c.start : c.start + len(c.text)] == c.text, c.position
    starts = [c.start for c in _real(chunks)]
    assert starts == sorted(starts), "chunks come in original order"


def _assert_whole_lines(text: str, chunks: list[Chunk]) -> None:
    for c in _real(chunks):
        end = c.start + len(c.text)
        assert c.start == 0 or text[c.start - 1] == "\n", c.position
        assert end == len(text) or text[end : end + 2] in ("\n", "\r\n") or text[end] == "\n"


def _assert_json_members(chunk: Chunk) -> None:
    """A JSON chunk is whole members: it parses once wrapped as an array or an object."""
    body = chunk.text.strip().rstrip(",")
    for wrapped in (f"[{body}]", f"{{{body}}}"):
        try:
            json.loads(wrapped)
            return
        except ValueError:
            continue
    raise AssertionError(f"{chunk.position} is not whole JSON members: {chunk.text[:120]!r}")


def test_search_matches_keep_their_prefix_and_files_are_counted() -> None:
    text = "\n".join(
        [
            "src/a.py:10:def alpha():",
            "src/a.py-11-    return 1",
            "--",
            "src/b.py:3:def beta():",
            "src/b.py:40:def gamma():",
            "src/b.py:77:def delta():",
        ]
    )
    chunks = chunk_original(text, "search")
    _assert_verbatim(text, chunks)
    _assert_whole_lines(text, chunks)
    real = _real(chunks)
    assert [c.text.split("\n")[0] for c in real] == [
        "src/a.py:10:def alpha():",
        "src/b.py:3:def beta():",
        "src/b.py:40:def gamma():",
        "src/b.py:77:def delta():",
    ]
    assert real[0].text == "src/a.py:10:def alpha():\nsrc/a.py-11-    return 1"
    overview = chunks[0]
    assert overview.derived
    assert "src/b.py: 3 matches" in overview.text


def test_log_events_keep_continuation_lines_and_group_one_template() -> None:
    text = (
        "2024-01-01 10:00:01 INFO request 1 ok\n"
        "2024-01-01 10:00:02 INFO request 2 ok\n"
        "2024-01-01 10:00:03 ERROR boom\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 3, in f\n'
        "2024-01-01 10:00:04 INFO request 3 ok\n"
    )
    chunks = chunk_original(text, "log")
    _assert_verbatim(text, chunks)
    _assert_whole_lines(text, chunks)
    assert [c.position for c in chunks] == ["lines 1-2", "lines 3-5", "line 6"]
    assert chunks[1].text.startswith("2024-01-01 10:00:03 ERROR boom\nTraceback")


def test_code_chunks_start_at_definitions_and_name_their_class() -> None:
    text = (
        "import os\n\n"
        "class Store:\n"
        "    def get(self, key):\n"
        "        return self.data[key]\n\n"
        "    def put(self, key, value):\n"
        "        self.data[key] = value\n"
    )
    chunks = chunk_original(text, "code")
    _assert_verbatim(text, chunks)
    _assert_whole_lines(text, chunks)
    put = next(c for c in chunks if c.text.lstrip().startswith("def put"))
    assert put.context == "class Store:"


def test_diff_hunks_carry_their_file() -> None:
    text = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a = 1\n+a = 2\n"
        "@@ -10,2 +10,2 @@\n-b = 1\n+b = 2\n"
        "diff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -1 +1 @@\n-c\n+d\n"
    )
    chunks = chunk_original(text, "diff")
    _assert_verbatim(text, chunks)
    _assert_whole_lines(text, chunks)
    real = _real(chunks)
    assert [c.context for c in real] == ["x.py", "x.py", "y.py"]
    assert real[1].text.startswith("@@ -10,2")


def test_prose_paragraphs_and_headings() -> None:
    text = "Title\n=====\n\nFirst paragraph\ncontinues here.\n\nSecond paragraph.\n"
    chunks = chunk_original(text, "text")
    _assert_verbatim(text, chunks)
    _assert_whole_lines(text, chunks)
    assert chunks[-1].text == "Second paragraph."
    assert chunks[-1].context == "Title"


def _issues(n: int) -> list[dict[str, Any]]:
    return [
        {
            "number": 100 + i,
            "title": f"Issue number {i}",
            "user": {"login": f"user{i % 3}", "id": i},
            "comments": i * 7 % 11,
            "body": "lorem ipsum " * (10 + i),
            "labels": [{"name": "bug" if i % 2 else "docs"}],
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("indent", [None, 2])
def test_json_chunks_are_whole_members_labelled_with_their_item(indent: int | None) -> None:
    text = json.dumps({"total_count": 12, "items": _issues(12)}, indent=indent)
    chunks = chunk_original(text, "json")
    _assert_verbatim(text, chunks)
    for c in _real(chunks):
        _assert_json_members(c)
        assert len(c.text) <= MAX_CHUNK_CHARS * 2 or "body" in c.text
    # pieces of a split item name the item they belong to
    body_piece = next(
        c
        for c in _real(chunks)
        if '"body"' in c.text and "Issue number 5" not in c.text and "lorem ipsum " * 15 in c.text
    )
    assert "title=Issue number" in body_piece.context
    overview = chunks[0]
    assert overview.derived
    assert "most comments: 10" in overview.text
    assert "most common user.login" in overview.text


def test_json_scalar_and_invalid_documents_fall_back_to_lines() -> None:
    assert all(not c.derived for c in chunk_original('{"a": 1', "json"))
    assert chunk_original("42", "json")[0].text == "42"


def test_corpus_chunks_are_verbatim(corpus_cases: list[dict[str, Any]]) -> None:
    for case in corpus_cases:
        text = case_text(case)
        chunks = chunk_original(text, case["kind"])
        assert chunks, case["id"]
        _assert_verbatim(text, chunks)
        if text.lstrip()[:1] in "[{":
            for c in _real(chunks):
                _assert_json_members(c)
        else:
            _assert_whole_lines(text, chunks)


def test_pieces_of_a_split_item_are_headed_by_its_naming_lines_verbatim() -> None:
    """A fact about an item reads the same in a retrieved piece as in the original."""
    alerts = [
        {
            "number": n,
            "advisory": {"summary": f"pkg-{n} flaw", "description": "long text. " * 300},
            "severity": "critical" if n == 5 else "medium",
        }
        for n in range(1, 8)
    ]
    text = json.dumps(alerts, indent=2)
    pieces = [c for c in chunk_original(text, "json") if c.position.startswith("[4].")]
    assert pieces and all('"number": 5,' in c.context for c in pieces)
    assert all(c.text in text for c in pieces)
