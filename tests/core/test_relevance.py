"""Shared relevance: a text's term stats for a query score as its full term counts do."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core._relevance import TermStats, bm25_scores, term_counts, term_stats, terms
from headroom_core.compressors._json_select import SelectionMemo, relevance_scores

from ..conftest import case_text

_WORDS = st.sampled_from(
    ["the", "Crash", "crash", "fooBar", "HTTPServer", "x_y", "__init__", "3.11", "bar", "İd", "8"]
)
_TEXTS = st.lists(st.one_of(_WORDS, st.text(alphabet="aBc_1. =\n", max_size=10)), max_size=40).map(
    " ".join
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=6), _TEXTS)
def test_term_stats_score_as_full_counts(texts: list[str], query: str) -> None:
    wanted = frozenset(terms(query))
    stats = [term_stats(t, wanted) for t in texts]
    full = [Counter(terms(t)) for t in texts]
    for s, c in zip(stats, full, strict=True):
        assert s.length == sum(c.values())
        assert s.counts == {t: n for t, n in c.items() if t in wanted}
    # the same floats, not merely the same order
    assert bm25_scores(stats, query) == bm25_scores(full, query) == bm25_scores(texts, query)


def test_term_stats_count_camel_case_parts_and_skip_stopwords() -> None:
    s = term_stats("The fooServer crashed; the server restarts", frozenset({"server"}))
    assert s == TermStats(length=6, counts={"server": 2})


#: Characters where the byte-level word scan could part from the pattern: dots between
#: digits and letters, underscores, digits beyond ASCII (the pattern's ``\d`` takes them),
#: letters beyond ASCII (it does not), a lone surrogate, an emoji.
_EDGES = st.text(alphabet="aZ_09.-/ \n\u0661\uff13\u00e9\u0130\ud800\U0001f600", max_size=24)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_WORDS, _EDGES), max_size=30).map("".join))
def test_term_counts_and_stats_are_the_terms_of_the_pattern(text: str) -> None:
    expected = Counter(terms(text))
    counted = term_counts(text)
    assert list(counted.items()) == list(expected.items())  # the same order, too
    wanted = frozenset(expected) | {"zz"}
    stats = term_stats(text, wanted)
    assert stats == TermStats(sum(expected.values()), dict(expected))


def test_term_counts_read_words_split_by_dots_and_digits_as_the_pattern_does() -> None:
    # "1.2.3" is one version term; "v2.x" is two words; "9lives" is a number and a word
    text = "fix 1.2.3. v2.x 9lives get_fooBar caf\u00e9"
    expected = ["fix", "1.2.3", "v2", "x", "9", "lives", "get_foobar", "get", "foo", "bar", "caf"]
    assert list(term_counts(text)) == expected
    # digits beyond ASCII are digits to the pattern: that text is read by the pattern
    assert list(term_counts(text + " \u0661\u0662")) == [*expected, "\u0661\u0662"]


def _textbook_bm25(docs: list[Counter[str]], query: str) -> list[float]:
    """BM25 as written in the literature (k1 = 1.2, b = 0.75), one term at a time."""
    k1, b = 1.2, 0.75
    q = Counter(terms(query))
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs) / n or 1.0
    scores = []
    for d in docs:
        length = sum(d.values())
        score = 0.0
        for t, qtf in q.items():
            tf = d.get(t, 0)
            if tf:
                df = sum(1 for other in docs if t in other)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += qtf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
        scores.append(score)
    return scores


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=8), _TEXTS)
def test_bm25_scores_are_the_textbook_formula_to_the_last_bit(texts: list[str], query: str) -> None:
    full = [Counter(terms(t)) for t in texts]
    stats = [term_stats(t, frozenset(terms(query))) for t in texts]
    expected = _textbook_bm25(full, query)
    assert bm25_scores(full, query) == expected
    assert bm25_scores(stats, query) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=8), _TEXTS)
def test_relevance_scores_split_only_texts_holding_a_query_term(
    texts: list[str], query: str
) -> None:
    exact = bm25_scores(texts, query)
    got = relevance_scores(texts, query, SelectionMemo())
    assert got == relevance_scores(texts, query, None)
    # the same texts score, and a text that scores has its exact terms; only the average
    # length (through the texts that do not score) is estimated
    assert [s > 0 for s in got] == [s > 0 for s in exact]


def test_relevance_scores_rank_the_corpus_texts_as_exact_bm25_does(
    corpus_cases: list[dict[str, Any]],
) -> None:
    # long strings of each JSON document (issue bodies, descriptions, messages), whole and
    # cut as the compressor cuts them, ranked against the case's query
    compared = 0
    for case in [c for c in corpus_cases if c["kind"] == "json"]:
        texts = [s for s in _strings(json.loads(case_text(case))) if len(s) > 160]
        for docs in (texts, [s[:240] for s in texts]):
            if len(docs) < 4:
                continue
            exact = bm25_scores(docs, case["query"])
            got = relevance_scores(docs, case["query"], None)
            top = sorted(range(len(docs)), key=lambda i: (-exact[i], i))[:3]
            assert sorted(range(len(docs)), key=lambda i: (-got[i], i))[:3] == top, case["id"]
            compared += 1
    assert compared >= 10


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
