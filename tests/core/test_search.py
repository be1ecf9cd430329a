"""Search compressor: grep/ripgrep text and JSON matches, grouped, ranked, tallied, marked."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from headroom_core import HeadroomConfig, compress, count_tokens, retrieve
from headroom_core._markers import find_markers
from headroom_core.compressors import CompressContext
from headroom_core.compressors._search import SearchCompressor
from headroom_core.compressors._search_parse import parse_search

from ..conftest import case_text, load_cases

REF = "hr_" + "b" * 20


def _grep(n_files: int = 6, per_file: int = 20) -> str:
    lines = []
    for f in range(n_files):
        for i in range(per_file):
            text = f"    result = call_helper_{f}_{i}(ctx, value)  # uses context"
            lines.append(f"pkg/module_{f}.py:{10 + i * 7}:{text}")
    lines.insert(3, "pkg/module_0.py:500:def open_connection(host, port, *, ssl=None):")
    return "\n".join(lines)


def _run(text: str, query: str | None, share: float = 0.1) -> str:
    n = count_tokens(text)
    ctx = CompressContext(
        ref=REF,
        config=HeadroomConfig(),
        count_tokens=count_tokens,
        original_tokens=n,
        budget=max(60, int(n * share)),
        query=query,
    )
    return SearchCompressor().compress(text, ctx).text


def test_parse_grep_with_context_and_separators() -> None:
    text = (
        "a/b.py-10-before\n"
        "a/b.py:11:match one\n"
        "a/b.py-12-after\n"
        "--\n"
        "c-1-d.py:3:x = 1\n"
        "a/b.py:11:match one\n"
    )
    parsed = parse_search(text)
    assert [(h.path, h.line) for h in parsed.hits] == [("a/b.py", 11), ("c-1-d.py", 3)]
    assert parsed.hits[0].context == ["a/b.py-10-before", "a/b.py-12-after"]
    assert parsed.duplicates == 1


def test_parse_ripgrep_heading_and_json() -> None:
    heading = "src/lib.rs\n5:fn main() {\n6-    let x = 1;\n\nsrc/other.rs\n9:fn other() {}\n"
    parsed = parse_search(heading)
    assert [(h.path, h.line, h.raw) for h in parsed.hits] == [
        ("src/lib.rs", 5, "5:fn main() {"),
        ("src/other.rs", 9, "9:fn other() {}"),
    ]
    items = [{"path": "x.go", "line_number": 3, "text": "func X() {}", "score": 1.0}]
    parsed = parse_search(json.dumps(items))
    assert parsed.hits[0].raw == "x.go:3:func X() {}"
    assert parsed.json_fields_dropped == ("score",)


def _is_trimmed_from(line: str, text: str) -> bool:
    """``line`` is ``path:line:`` of an input line, then the start of its text, then ``…``."""
    m = re.match(r"([^:]+:\d+:)(.*)…$", line)
    if m is None:
        return False
    return any(
        raw.startswith(m[1]) and raw[len(m[1]) :].lstrip().startswith(m[2])
        for raw in text.splitlines()
    )


def test_tally_ranking_and_prefixes() -> None:
    text = _grep()
    out = _run(text, "where is open_connection defined")
    first = out.splitlines()[0]
    assert first.startswith("121 matches in 6 files (shown/total): pkg/module_0.py ")
    assert "/21" in first
    assert "pkg/module_0.py:500:def open_connection(host, port, *, ssl=None):" in out
    for line in out.splitlines()[1:-1]:  # every kept match is an input line, or its start
        assert line in text.splitlines() or _is_trimmed_from(line, text), line
    markers = find_markers(out)
    assert len(markers) == 1 and markers[0].unit == "matches"
    kept = len(out.splitlines()) - 2
    assert markers[0].count == 121 - kept
    assert count_tokens(out) <= max(60, int(count_tokens(text) * 0.1))


def test_definitions_rank_above_references() -> None:
    text = "\n".join(
        [f"app/use_{i}.py:{i + 1}:    value = parse_config(raw)" for i in range(40)]
        + ["app/config.py:12:def parse_config(raw: str) -> Config:"]
    )
    out = _run(text, "parse config", share=0.3)
    assert "app/config.py:12:def parse_config(raw: str) -> Config:" in out.splitlines()[1:3]


def test_context_lines_kept_when_room() -> None:
    text = "a.py-1-import os\na.py:2:def main():\na.py-3-    return 0\n" + "\n".join(
        f"b{i % 3}.py:{i}:x = {i}" for i in range(30)
    )
    out = _run(text, "main", share=0.6)
    assert "a.py-1-import os\na.py:2:def main():\na.py-3-    return 0" in out


def test_under_budget_is_unchanged() -> None:
    text = "a.py:1:x = 1\nb.py:2:y = 2\n"
    assert _run(text, None, share=1.0) == text


def test_json_matches_become_grep_lines() -> None:
    items = [
        {"path": f"pkg/f{i % 5}.go", "line": i + 1, "text": f"func F{i}() {{}}"} for i in range(80)
    ]
    text = json.dumps(items, indent=2)
    out = _run(text, "F42")
    assert "pkg/f2.go:43:func F42() {}" in out
    assert out.splitlines()[0].startswith("80 matches in 5 files")


def test_compress_end_to_end_and_retrieve() -> None:
    text = _grep(8, 30)
    result = compress(text, query="open_connection", tool="grep")
    assert result.kind == "search" and result.ref is not None
    assert result.savings > 0.8
    assert retrieve(result.ref) == text
    assert "pkg/module_0.py:500:def open_connection" in result.text


def test_identical_lines_fold_into_locations() -> None:
    text = (
        "\n".join(f"src/mod{i}.py:1:import os" for i in range(60))
        + "\n"
        + "\n".join(f"src/other{i}.py:{i}:value_{i} = compute_{i}()" for i in range(60))
    )
    out = _run(text, "import os", share=0.3)
    assert "src/mod0.py:1:import os" in out
    folded = next(ln for ln in out.splitlines() if ln.startswith("  same text at: "))
    assert "src/mod1.py:1, src/mod2.py:1" in folded
    shown = int(re.search(r"src/mod0.py (\d+)/1", out.splitlines()[0]).group(1))  # type: ignore[union-attr]
    assert shown == 1


def test_deterministic() -> None:
    text = _grep()
    assert _run(text, "helper") == _run(text, "helper")


SEARCH_CASES = [c for c in load_cases() if c["kind"] == "search"]


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[c["id"] for c in SEARCH_CASES])
def test_corpus_search_case(case: dict[str, Any]) -> None:
    text = case_text(case)
    result = compress(text, query=case["query"], tool=case["tool"])
    assert result.kind == "search" and result.ref is not None
    assert result.savings >= 0.9
    for line in result.text.splitlines()[1:-1]:
        assert re.match(r"^[^\s:]+:\d+:|  same text at: ", line), line
    structural = [n for n in case["needles"] if n["type"] == "structural"]
    for needle in structural:  # "which file has the most matches" is in the tally
        assert needle["answer"] in result.text.splitlines()[0]


def test_low_ranked_matches_trimmed_to_keep_more_locations() -> None:
    text = "\n".join(
        f"src/handlers/h{i % 9}.py:{40 + i}:    def handle_event_{i}(self, event: Event, *, retries: int = 3) -> Result:"
        for i in range(90)
    )
    whole = _run(text, "handle_event_5 retries", share=0.12)
    lines = whole.splitlines()
    trimmed = [ln for ln in lines if ln.endswith("…")]
    assert (
        "src/handlers/h5.py:45:    def handle_event_5(self, event: Event, *, retries: int = 3) -> Result:"
        in lines
    )
    assert trimmed and all(_is_trimmed_from(ln, text) for ln in trimmed)
    assert "src/handlers/h1.py:" in whole and "def handle_event_" in trimmed[0]
    marker = find_markers(whole)[0]
    assert "cut after their first name" in (marker.detail or "")
    shown = sum(1 for ln in lines[1:-1] if re.match(r"src/handlers/h\d\.py:\d+:", ln))
    assert marker.count == 90 - shown
    assert count_tokens(whole) <= int(count_tokens(text) * 0.12)
