"""Matched-retention operating points on the tiny corpus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from benchmarks.harness import Aggregate, Case, aggregate, load_corpus, score_case
from benchmarks.operating_points import find_operating_points, operating_points_markdown
from benchmarks.systems import Headroom, RunContext

from headroom_core import HeadroomConfig, compress, count_tokens


def _headroom_rows(corpus: Path, home: Path) -> tuple[list[Case], list[Aggregate], dict[str, int]]:
    cases = load_corpus(corpus)
    system = Headroom(home)
    outputs = system.run(cases, RunContext(repeat=1), lambda _: None)
    tokens = {c.id: count_tokens(c.text) for c in cases}
    results = [
        score_case("headroom", c, outputs[c.id], original_tokens=tokens[c.id]) for c in cases
    ]
    logs = [r for r in results if r.workload == "logs"]
    return cases, [aggregate("headroom", "logs", logs)], tokens


def test_a_peer_with_more_needles_gets_a_larger_budget_run(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    cases, rows, tokens = _headroom_rows(tiny_corpus, tmp_path / "a")
    mine = replace(rows[0], retention0=0.4)  # as if the default had lost needles
    # a peer that keeps every needle and saves nothing
    peer = replace(mine, system="peer", retention0=1.0, compressed_tokens=mine.original_tokens)
    worse = replace(mine, system="worse", retention0=0.2)
    points = find_operating_points(
        cases, [mine, peer, worse], tmp_path / "b", tokens, grid=(0.3, 0.95)
    )
    assert [(p.group, p.peer) for p in points] == [("logs", "peer")]  # not "worse", no overall row
    point = points[0].point
    assert point is not None and point.retention0 == 1.0
    # the figures are those of a plain compress() at that ratio
    log = next(c for c in cases if c.workload == "logs")
    # same store home: the ref is keyed per home and its tokens count
    config = HeadroomConfig(home=tmp_path / "b", target_ratio=point.target_ratio)
    assert point.compressed_tokens == count_tokens(
        compress(log.text, query=log.query, tool=log.tool, config=config).text
    )
    assert points[0].beats == (point.savings > 0.0)
    table = operating_points_markdown(points)
    assert "| logs vs peer |" in table and f"| {point.target_ratio:g} |" in table


def test_no_ratio_reaching_the_peer_is_reported_not_invented(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    cases, rows, tokens = _headroom_rows(tiny_corpus, tmp_path / "a")
    impossible = replace(rows[0], system="peer", retention0=1.5)  # above any real retention
    points = find_operating_points(cases, [*rows, impossible], tmp_path / "b", tokens, grid=(0.5,))
    assert points[0].point is None and not points[0].beats
    assert "not reached" in operating_points_markdown(points)
