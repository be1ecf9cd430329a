"""Search compressor: grep/ripgrep text and JSON matches, compact lines, whole matches, marked."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core import HeadroomConfig, compress, count_tokens, retrieve
from headroom_core._markers import find_markers
from headroom_core.compressors import CompressContext
from headroom_core.compressors._search import SearchCompressor
from headroom_core.compressors._search_parse import parse_search

from ..conftest import case_text, load_cases

REF = "hr_" + "b" * 20
LOCATION = re.compile(r"^([^\s:]+:\d+):")


def _grep(n_files: int = 6, per_file: int = 20) -> str:
    lines = []
    for f in range(n_files):
        for i in range(per_file):
            text = f"    result = call_helper_{f}_{i}(ctx, value)  # uses context"
            lines.append(f"pkg/module_{f}.py:{10 + i * 7}:{text}")
    lines.insert(3, "pkg/module_0.py:500:def open_connection(host, port, *, ssl=None):")
    return "\n".join(lines)


def _twins(n: int = 40) -> str:
    """Grep text where most texts occur in several files (re-exports, overrides)."""
    lines = []
    for i in range(n):
        for f in range(1 + i % 3):
            lines.append(f"lib/part{f}/mod_{i % 7}.py:{100 + i}:    async def method_{i}(self, x):")
    return "\n".join(lines)


def _ctx(text: str, query: str | None, share: float) -> CompressContext:
    n = count_tokens(text)
    return CompressContext(
        ref=REF,
        config=HeadroomConfig(),
        count_tokens=count_tokens,
        original_tokens=n,
        budget=max(60, int(n * share)),
        query=query,
    )


def _run(text: str, query: str | None, share: float = 0.1) -> str:
    return SearchCompressor().compress(text, _ctx(text, query, share)).text


def _whole_input_line(line: str, text: str) -> bool:
    """``line`` is an input line with only its indentation (and trailing blanks) removed."""
    m = LOCATION.match(line)
    assert m is not None, line
    prefix = m.group(0)
    return any(
        raw.startswith(prefix) and raw[len(prefix) :].strip() == line[len(prefix) :]
        for raw in text.splitlines()
    )


def _locations(out: str) -> list[str]:
    """Every ``path:line`` the output shows: match lines and ``same text at`` lists."""
    found = []
    for line in out.splitlines():
        if line.startswith("  same text at: "):
            found.extend(line.removeprefix("  same text at: ").split(", "))
        elif m := LOCATION.match(line):
            found.append(m.group(1))
    return found


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
    assert [(h.path, h.line, h.prefix) for h in parsed.hits] == [
        ("a/b.py", 11, "a/b.py:11:"),
        ("c-1-d.py", 3, "c-1-d.py:3:"),
    ]
    assert [c.raw for c in parsed.hits[0].before] == ["a/b.py-10-before"]
    assert [(c.prefix, c.text) for c in parsed.hits[0].after] == [("a/b.py-12-", "after")]
    assert parsed.duplicates == 1


def test_parse_ripgrep_heading_and_json() -> None:
    heading = "src/lib.rs\n5:fn main() {\n6-    let x = 1;\n\nsrc/other.rs\n9:fn other() {}\n"
    parsed = parse_search(heading)
    assert [(h.path, h.line, h.raw) for h in parsed.hits] == [
        ("src/lib.rs", 5, "5:fn main() {"),
        ("src/other.rs", 9, "9:fn other() {}"),
    ]
    items = [
        {"path": "x.go", "line_number": 3, "text": "func X() {}", "score": 1.0, "repo": "go"},
        {"path": "y.go", "line_number": 4, "text": "func Y() {}", "score": 0.5, "repo": "go"},
    ]
    parsed = parse_search(json.dumps(items))
    assert parsed.hits[0].raw == "x.go:3:func X() {}"
    assert parsed.json_fields_dropped == ("score",)  # varies: a line cannot carry it
    assert parsed.json_constants == (("repo", "go"),)  # the same everywhere: said once


def test_json_matches_rendered_losslessly_as_lines() -> None:
    items = [
        {"path": f"pkg/f{i % 5}.go", "line": i + 1, "text": f"\tfunc F{i}() {{}}", "lang": "go"}
        for i in range(80)
    ]
    text = json.dumps(items, indent=2)
    out = _run(text, "F42", share=0.6)
    assert out.splitlines() == ["lang: go"] + [
        f"pkg/f{i % 5}.go:{i + 1}:func F{i}() {{}}" for i in range(80)
    ]
    assert find_markers(out) == []
    assert count_tokens(out) < 0.5 * count_tokens(text)


def test_json_column_rendered_as_vimgrep_and_wrapper_object() -> None:
    items = [{"file": "a.rs", "line_number": 3, "column": 7, "match": "fn main() {}"}]
    parsed = parse_search(json.dumps({"results": items}))
    assert [h.raw for h in parsed.hits] == ["a.rs:3:7:fn main() {}"]
    assert parsed.json_fields_dropped == () and parsed.json_constants == ()


def test_json_with_varying_extra_fields_is_not_called_lossless() -> None:
    items = [{"path": f"a{i}.py", "line": i, "text": f"x = {i}", "score": i} for i in range(60)]
    text = json.dumps(items, indent=2)
    assert _run(text, None, share=1.0) == text  # fits as is: nothing to drop
    out = _run(text, None, share=0.5)
    marker = find_markers(out)[-1]
    assert "fields score not shown" in (marker.detail or "")
    assert "a7.py:7:x = 7" in out


def test_lossless_grep_strips_indentation_and_folds_twins() -> None:
    text = _twins()
    out = _run(text, None, share=1.0)
    assert find_markers(out) == []
    assert count_tokens(out) < 0.8 * count_tokens(text)
    shown = _locations(out)
    expected = [LOCATION.match(raw).group(1) for raw in text.splitlines()]  # type: ignore[union-attr]
    assert sorted(shown) == sorted(expected)  # every match once
    assert "lib/part0/mod_2.py:102:async def method_2(self, x):" in out.splitlines()
    assert out.count("async def method_2(self, x):") == 1
    assert "  same text at: lib/part1/mod_2.py:102, lib/part2/mod_2.py:102" in out


@pytest.mark.parametrize("share", [0.1, 0.2, 0.35, 0.5, 0.7])
@pytest.mark.parametrize("make", [_grep, _twins], ids=["grep", "twins"])
def test_lossy_keeps_whole_lines_each_location_once(make: Any, share: float) -> None:
    text = make()
    out = _run(text, "open_connection method", share=share)
    lines = out.splitlines()
    assert count_tokens(out) <= max(60, int(count_tokens(text) * share))
    shown = _locations(out)
    assert len(shown) == len(set(shown))
    assert not any(line.endswith("…") for line in lines)
    for line in lines[1:-1]:
        assert line.startswith("  same text at: ") or _whole_input_line(line, text), line
    marker = find_markers(out)[-1]
    assert marker.unit == "matches" and marker.ref == REF
    assert marker.count == len(text.splitlines()) - len(shown)


def test_tally_counts_shown_and_total_per_file() -> None:
    text = _grep()
    out = _run(text, "where is open_connection defined")
    first = out.splitlines()[0]
    shown = Counter(loc.rsplit(":", 1)[0] for loc in _locations(out))
    assert first.startswith(f"121 matches in 6 files, {sum(shown.values())} shown; ")
    assert f"pkg/module_0.py {shown['pkg/module_0.py']}/21" in first
    assert "pkg/module_0.py:500:def open_connection(host, port, *, ssl=None):" in out


def test_tally_names_largest_files_and_files_with_left_out_matches() -> None:
    big = [
        f"big/f{f}.py:{i}:    value_{f}_{i} = compute(value_{i}, other)"
        for f in range(4)
        for i in range(30)
    ]
    small = [f"small/s{f}.py:1:def parse_config_{f}():" for f in range(12)]
    text = "\n".join(big + small)
    out = _run(text, "parse_config", share=0.3)
    first = out.splitlines()[0]
    assert all(f"small/s{f}.py:1:def parse_config_{f}():" in out for f in range(12))
    assert "small/" not in first  # fully shown, and not among the largest: summed
    tail = re.search(r", \+(\d+) files (\d+)/(\d+)$", first)
    assert tail is not None and int(tail[1]) in (12, 13)  # big/f3.py too if the cap is hit
    assert re.search(r"big/f0\.py \d+/30, big/f1\.py \d+/30, big/f2\.py \d+/30", first)


def test_definitions_rank_above_references() -> None:
    text = "\n".join(
        [f"app/use_{i}.py:{i + 1}:    value = parse_config(raw)" for i in range(40)]
        + ["app/config.py:12:def parse_config(raw: str) -> Config:"]
    )
    out = _run(text, "parse config", share=0.15)
    assert "app/config.py:12:def parse_config(raw: str) -> Config:" in out.splitlines()


def test_context_lines_kept_for_relevant_matches_and_dedented_together() -> None:
    text = (
        "a.py-1-class A:\n"
        "a.py-2-    def main(self):\n"
        "a.py:3:        return 0\n"
        "--\n"
        "c.py-9-        if y:\n"
        "c.py:10:            main(y)\n"
        "c.py-11-        else:\n"
        "c.py:12:            main(z)\n"
        "c.py-13-        pass\n"
    )
    out = _run(text, None, share=1.0)
    assert out.splitlines() == [
        "a.py-1-class A:",
        "a.py-2-    def main(self):",
        "a.py:3:        return 0",
        "c.py-9-if y:",
        "c.py:10:    main(y)",
        "c.py-11-else:",
        "c.py:12:    main(z)",
        "c.py-13-pass",
    ]
    noise = "\n".join(f"b{i % 3}.py:{i}:x = {i}" for i in range(40))
    out = _run(text + noise, "main", share=0.6)
    assert "c.py-9-if y:\nc.py:10:    main(y)\nc.py-11-else:" in out


def test_ripgrep_heading_form_keeps_headings() -> None:
    text = "\n\n".join(
        f"src/m{f}.rs\n"
        + "\n".join(f"{10 * i + f + 1}:    pub fn item_{f}_{i}(&self) -> u32 {{" for i in range(15))
        for f in range(4)
    )
    lines = _run(text, None, share=1.0).splitlines()
    assert lines[:3] == [
        "src/m0.rs",
        "1:pub fn item_0_0(&self) -> u32 {",
        "11:pub fn item_0_1(&self) -> u32 {",
    ]
    assert [ln for ln in lines if ln.startswith("src/")] == [f"src/m{f}.rs" for f in range(4)]
    lines = _run(text, "item_2_7", share=0.3).splitlines()
    at = lines.index("73:pub fn item_2_7(&self) -> u32 {")
    assert [ln for ln in lines[:at] if ln.startswith("src/")][-1] == "src/m2.rs"


def test_everything_shown_means_no_tally() -> None:
    items = [{"path": f"a{i % 3}.py", "line": i, "text": f"x = {i}", "score": i} for i in range(60)]
    out = _run(json.dumps(items, indent=2), None, share=0.5)
    assert out.splitlines()[0] == "a0.py:0:x = 0"
    assert find_markers(out)[0].count == 0


def test_under_budget_plain_grep_is_compacted_not_cut() -> None:
    text = "a.py:1:    x = 1\nb.py:2:y = 2\n"
    assert _run(text, None, share=1.0) == "a.py:1:x = 1\nb.py:2:y = 2"


def test_compress_end_to_end_and_retrieve() -> None:
    text = _grep(8, 30)
    result = compress(text, query="open_connection", tool="grep")
    assert result.kind == "search" and result.ref is not None
    assert result.savings > 0.8
    assert retrieve(result.ref) == text
    assert "pkg/module_0.py:500:def open_connection" in result.text


def test_deterministic() -> None:
    text = _twins()
    assert _run(text, "method", share=0.3) == _run(text, "method", share=0.3)


_grep_line = st.builds(
    "{}:{}:{}{}".format,
    st.sampled_from(["a.py", "src/b.rs", "c/d.go"]),
    st.integers(1, 400),
    st.sampled_from(["", "    ", "\t"]),
    st.sampled_from(["def f(x):", "return x", "fn g() {}", "x = 1  # note", "}"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_grep_line, min_size=1, max_size=80), st.floats(0.05, 1.0))
def test_property_within_budget_and_locations_unique(lines: list[str], share: float) -> None:
    text = "\n".join(lines)
    ctx = _ctx(text, "f", share)
    out = SearchCompressor().compress(text, ctx).text
    assert count_tokens(out) <= max(ctx.budget, count_tokens(text))
    shown = Counter(_locations(out))
    given_ = Counter(LOCATION.match(line).group(1) for line in set(lines))  # type: ignore[union-attr]
    assert shown <= given_  # no location listed more often than it has distinct matches


SEARCH_CASES = [c for c in load_cases() if c["kind"] == "search"]


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[c["id"] for c in SEARCH_CASES])
def test_corpus_search_case(case: dict[str, Any]) -> None:
    text = case_text(case)
    result = compress(text, query=case["query"], tool=case["tool"])
    assert result.kind == "search" and result.ref is not None
    assert result.savings >= 0.9
    lines = result.text.splitlines()
    for line in lines[1:-1]:
        assert re.match(r"^[^\s:]+:\d+:|  same text at: ", line), line
    shown = _locations(result.text)
    assert len(shown) == len(set(shown))
    structural = [n for n in case["needles"] if n["type"] == "structural"]
    for needle in structural:  # "which file has the most matches" leads the tally
        assert needle["answer"] in lines[0]
