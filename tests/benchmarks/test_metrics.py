"""Scoring and aggregation of the benchmark harness, on figures known in advance."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from benchmarks.harness import (
    Aggregate,
    Case,
    CaseResult,
    NeedleScore,
    Retrieval,
    SystemOutput,
    aggregate,
    aggregate_all,
    latency_ratios,
    load_corpus,
    percentile,
    score_case,
)

from headroom_core import count_tokens

from .conftest import BOTTOM, TOP


def _result(
    system: str, case: str, original: int, compressed: int, latency: float, hits: list[bool]
) -> CaseResult:
    needles = tuple(NeedleScore("anchored", h, h, None) for h in hits)
    return CaseResult(system, case, "w", original, compressed, 1_000_000, latency, needles)


def test_load_corpus_reads_cases_in_order_and_filters(tiny_corpus: Path) -> None:
    cases = load_corpus(tiny_corpus)
    assert [c.id for c in cases] == ["logs/run", "api/users"]
    assert cases[0].text.startswith(TOP)
    assert [n.type for n in cases[0].needles] == ["anchored", "anomaly"]
    assert [c.id for c in load_corpus(tiny_corpus, workloads=["api"])] == ["api/users"]
    assert [c.id for c in load_corpus(tiny_corpus, cases=["run"])] == ["logs/run"]
    with pytest.raises(FileNotFoundError):
        load_corpus(tiny_corpus / "files")


def test_score_case_counts_needles_at_0_and_at_1(tiny_corpus: Path) -> None:
    case = load_corpus(tiny_corpus, cases=["run"])[0]
    output = SystemOutput(
        text=f"{TOP} ... [omitted]",
        seconds=(0.3, 0.1, 0.2),
        # a retrieval for a needle already present at @0 is never used
        retrievals={0: Retrieval(False, 999), 1: Retrieval(True, 40)},
    )
    r = score_case("s", case, output)
    assert [(n.at0, n.at1, n.retrieval_tokens) for n in r.needles] == [
        (True, True, None),
        (False, True, 40),
    ]
    assert r.retention0 == 0.5
    assert r.retention1 == 1.0
    assert r.latency_s == 0.2  # median of the timed runs
    assert r.original_tokens == count_tokens(case.text)
    assert r.compressed_tokens == count_tokens(output.text)
    assert r.savings == pytest.approx(1 - r.compressed_tokens / r.original_tokens)
    assert r.throughput_mbs == pytest.approx(case.nbytes / 0.2 / 1e6)


def test_score_case_without_retrieval_keeps_at1_equal_to_at0(tiny_corpus: Path) -> None:
    case = load_corpus(tiny_corpus, cases=["run"])[0]
    r = score_case("s", case, SystemOutput(text=f"{BOTTOM}", seconds=(0.01,)))
    assert [(n.at0, n.at1) for n in r.needles] == [(False, False), (True, True)]


def test_aggregate_weights_savings_by_tokens_and_retention_by_needles() -> None:
    a = aggregate(
        "s",
        "w",
        [
            _result("s", "a", 100, 50, 0.1, [True]),
            _result("s", "b", 300, 30, 0.4, [True, False, False]),
        ],
    )
    assert isinstance(a, Aggregate)
    assert a.savings == pytest.approx(1 - 80 / 400)  # not the mean of 50% and 90%
    assert a.retention0 == pytest.approx(2 / 4)  # not the mean of 100% and 33%
    assert a.cases == 2
    assert a.needles == 4
    assert a.latency_p50_s == pytest.approx(0.25)
    assert a.throughput_mbs == pytest.approx(2.0 / 0.5)
    assert math.isnan(a.retrieval_tokens_median)


def test_percentile_interpolates_like_numpy() -> None:
    xs = [0.4, 0.1, 0.3, 0.2]
    assert percentile(xs, 50) == pytest.approx(0.25)
    assert percentile(xs, 95) == pytest.approx(0.385)
    assert percentile(xs, 0) == 0.1
    assert percentile(xs, 100) == 0.4
    assert math.isnan(percentile([], 50))


def test_aggregate_all_orders_workloads_then_overall_per_system() -> None:
    rows = aggregate_all(
        [
            _result("headroom", "a", 100, 10, 0.1, [True]),
            _result("peer", "a", 100, 50, 0.2, [False]),
        ]
    )
    assert [(r.system, r.group) for r in rows] == [
        ("headroom", "w"),
        ("headroom", "overall"),
        ("peer", "w"),
        ("peer", "overall"),
    ]


def test_latency_ratio_is_the_median_of_per_case_ratios() -> None:
    results = [
        _result("headroom", "a", 10, 1, 0.1, []),
        _result("headroom", "b", 10, 1, 0.4, []),
        _result("headroom", "c", 10, 1, 0.3, []),
        _result("peer", "a", 10, 1, 0.2, []),
        _result("peer", "b", 10, 1, 0.2, []),
        _result("peer", "c", 10, 1, 0.1, []),
    ]
    # per case 0.5, 2.0, 3.0: the median, not total/total (0.8 / 0.5)
    assert latency_ratios(results) == {"peer": pytest.approx(2.0)}


def test_case_hash_follows_content(tiny_corpus: Path) -> None:
    a, b = load_corpus(tiny_corpus)
    assert a.sha256 != b.sha256
    same = Case(**a.__dict__)
    assert same.sha256 == a.sha256
