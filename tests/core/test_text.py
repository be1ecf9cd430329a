"""Text compressor: headings kept, query-relevant blocks verbatim, drops marked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core import MARKER_RE, HeadroomConfig, compress, find_markers, retrieve


def _doc() -> str:
    parts = ["Widget library", "==============", ""]
    for s in range(10):
        parts += [f"Section {s}", "-" * 10, ""]
        for p in range(6):
            parts.append(
                f"Paragraph {p} of section {s} talks about general widget behaviour and "
                f"how frames are painted in layer {s * 10 + p} of the renderer pipeline."
            )
            parts.append("")
    parts += [
        ".. function:: connect(host, port=8080, timeout=None, retries=3)",
        "",
        "   Open a connection to the spool server.",
        "",
    ]
    return "\n".join(parts)


def test_headings_and_relevant_blocks_stay_verbatim() -> None:
    text = _doc()
    config = HeadroomConfig(target_ratio=0.5)
    c = compress(text, kind="text", query="What is the default port of connect?", config=config)
    assert c.ref is not None and c.savings > 0.4
    for s in range(10):
        assert f"Section {s}\n----------" in c.text
    assert ".. function:: connect(host, port=8080, timeout=None, retries=3)" in c.text
    original = set(text.splitlines())
    assert all(ln in original for ln in c.text.splitlines() if not MARKER_RE.fullmatch(ln))
    assert retrieve(c.ref, config=config) == text


def test_markers_count_dropped_lines() -> None:
    text = _doc()
    c = compress(text, kind="text")
    kept = [ln for ln in c.text.splitlines() if ln.strip() and not MARKER_RE.fullmatch(ln)]
    dropped = sum(m.count for m in find_markers(c.text))
    assert dropped + len(kept) == sum(1 for ln in text.splitlines() if ln.strip())


def test_deterministic() -> None:
    assert compress(_doc(), kind="text").text == compress(_doc(), kind="text").text


def test_corpus_docs_meet_savings(corpus_cases: list[dict[str, Any]]) -> None:
    from tests.conftest import case_text

    cases = [c for c in corpus_cases if c["workload"] == "text_docs"]
    if not cases:
        pytest.skip("no text_docs cases in the corpus")
    original = compressed = 0
    for case in cases:
        c = compress(case_text(case), query=case["query"], tool=case["tool"])
        original += c.original_tokens
        compressed += c.compressed_tokens
    assert 1 - compressed / original >= 0.7


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just("Title\n====="),
            st.just("## Heading"),
            st.just(".. function:: f(a, b=1)"),
            st.just("   .. versionadded:: 3.9"),
            st.text(alphabet="abc de=1.`", min_size=1, max_size=200),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_never_raises_and_never_grows(blocks: list[str]) -> None:
    text = "\n\n".join(blocks)
    c = compress(text, kind="text", query="what is b?")
    assert c.compressed_tokens <= c.original_tokens
    if c.ref is not None:
        assert retrieve(c.ref) == text


def _letters(texts: list[str]) -> list[list[float]]:
    """A small real embedding: letter frequencies (enough to tell topics apart here)."""
    out = []
    for t in texts:
        low = t.lower()
        out.append([float(low.count(c)) for c in "abcdefghijklmnopqrstuvwxyz"])
    return out


def test_semantic_scorer_option_changes_what_is_kept() -> None:
    filler = [f"Generic paragraph {k} on rendering frames in layers of widgets." for k in range(30)]
    topical = "Zebra zoo zone: quiz puzzles and jazz buzz fizz with zigzag zeal."
    text = "\n\n".join([*filler[:15], topical, *filler[15:]])
    query = "zz zz zzz"  # no shared words: only the embedding can find the block
    config = HeadroomConfig(target_ratio=0.2, kinds={"text": {"semantic": _letters}})
    assert topical not in compress(text, kind="text", query=query).text
    assert topical in compress(text, kind="text", query=query, config=config).text


def test_fenced_code_blocks_stay_whole() -> None:
    parts = ["# Guide", ""]
    for k in range(12):
        parts += [f"## Step {k}", "", f"Step {k} explains the general procedure in prose.", ""]
        parts += ["```python", f"def step_{k}():", "", f"    return {k}", "```", ""]
    parts += ["Install with:", "```bash", "pip install widget-spool", "", "spool --init", "```"]
    text = "\n".join(parts)
    config = HeadroomConfig(target_ratio=0.3)
    c = compress(text, kind="text", query="how do I install widget-spool?", config=config)
    assert "```bash\npip install widget-spool\n\nspool --init\n```" in c.text
    assert c.text.count("```") % 2 == 0


def test_text_without_blank_lines_is_cut_into_windows_that_can_be_kept() -> None:
    lines = [f"Case {i}: option set {i % 9} checked against the reference, ok" for i in range(600)]
    lines[433] = "Case 433: option set 1 checked against the reference, MISMATCH in field zeta"
    text = "\n".join(lines) + "\n"
    c = compress(text, kind="text", query="which case had a MISMATCH in field zeta?")
    assert c.compressed_tokens < 0.4 * c.original_tokens
    assert lines[433] in c.text.splitlines()
    kept = [ln for ln in c.text.splitlines() if ln and not MARKER_RE.fullmatch(ln)]
    assert sum(m.count for m in find_markers(c.text)) + len(kept) == len(lines)


def test_tilde_underline_is_a_heading_not_a_fence() -> None:
    sections = []
    for k in range(8):
        title = f"Feature number {k}"
        body = " ".join(f"word{k}_{j}" for j in range(60))
        sections.append(f"{title}\n{'~' * len(title)}\n\n{body}\n")
    c = compress("\n".join(sections), kind="text", query="word5_3")
    assert sum(f"Feature number {k}\n~~~" in c.text for k in range(8)) >= 6  # the outline
    assert "word5_3" in c.text and "word2_3" not in c.text


_WORDS = st.sampled_from(
    ["the", "The", "a", "fooBar", "HTTPServer", "x_y", "__init__", "3.11", "PEP", "8", "v2", "Is"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.text(alphabet="aB_1. =`\n", max_size=12)), max_size=60))
def test_block_term_counts_are_the_shared_terms(words: list[str]) -> None:
    from collections import Counter

    from headroom_core._relevance import term_counts, terms

    texts = [" ".join(words), " ".join(reversed(words)), ""]
    assert [term_counts(t) for t in texts] == [Counter(terms(t)) for t in texts]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["PEP 8", "versionadded", "deprecated", "``x``", "x=1", "3.", "é", "٣"]
            ),
            st.text(alphabet="aP E_1.=`'\" \n", max_size=10),
        ),
        max_size=40,
    )
)
def test_salience_pattern_matches_as_the_plain_one(parts: list[str]) -> None:
    import re

    from headroom_core.compressors._text import _SALIENT

    plain = re.compile(
        r"\w+=[\w'\".-]+|versionadded|versionchanged|deprecated|``[^`]+``|`[^`]+`"
        r"|\b\d[\d.]*\b|\bPEP \d+"
    )
    text = "".join(parts)
    assert [m.span() for m in _SALIENT.finditer(text)] == [m.span() for m in plain.finditer(text)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.frozensets(st.integers(0, 12), max_size=12), max_size=12),
    st.frozensets(st.integers(0, 12), max_size=12),
)
def test_near_duplicate_check_agrees_with_every_pair(
    kept: list[frozenset[int]], candidate: frozenset[int]
) -> None:
    from headroom_core.compressors._text import _NEAR_DUPLICATE, _near_duplicate

    by_size: dict[int, list[set[str]]] = {}
    for k in kept:
        by_size.setdefault(len(k), []).append({str(x) for x in k})
    words = {str(x) for x in candidate}
    every_pair = any(
        len(words & {str(x) for x in k}) / len(words | {str(x) for x in k}) > _NEAR_DUPLICATE
        for k in kept
        if k
    )
    assert _near_duplicate(words, by_size) == (bool(words) and every_pair)
