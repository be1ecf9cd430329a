"""Shared relevance: a text's term stats for a query score as its full term counts do."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core._relevance import TermStats, bm25_scores, term_stats, terms

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
