"""Matched-retention operating points: headroom re-run with larger budgets.

headroom's default budgets favour savings. Where a peer keeps more needles at @0 than
headroom's default on a workload (or overall), the fair question is what headroom saves
when it keeps at least as many: headroom is re-run on that group's cases with
``HeadroomConfig(target_ratio=r)`` for ``r`` in ``GRID`` (smallest first), and the first
``r`` whose retention@0 is at least the peer's is that peer's operating point. One call
per case and ratio, no timing (latency is measured at the default only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import Aggregate, Case
from headroom_core import HeadroomConfig, compress, count_tokens

#: target_ratio values tried, smallest (most savings) first.
GRID: tuple[float, ...] = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Systems never used as a reference: truncate is headroom's own token count, cut blindly.
SKIP: frozenset[str] = frozenset({"headroom", "truncate"})


@dataclass(frozen=True)
class Point:
    """headroom's figures on one group of cases at one ``target_ratio``."""

    target_ratio: float
    original_tokens: int
    compressed_tokens: int
    retention0: float

    @property
    def savings(self) -> float:
        return 1.0 - self.compressed_tokens / self.original_tokens if self.original_tokens else 0.0


@dataclass(frozen=True)
class OperatingPoint:
    """headroom against one peer on one group at matched retention@0."""

    group: str
    peer: str
    peer_savings: float
    peer_retention0: float
    default_savings: float
    default_retention0: float
    point: Point | None  # None: no ratio of GRID reached the peer's retention@0

    @property
    def beats(self) -> bool:
        """headroom saves more than the peer while keeping at least its retention@0."""
        return (
            self.point is not None
            and self.point.retention0 >= self.peer_retention0
            and self.point.savings > self.peer_savings
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "peer": self.peer,
            "peer_savings": self.peer_savings,
            "peer_retention0": self.peer_retention0,
            "default_savings": self.default_savings,
            "default_retention0": self.default_retention0,
            "target_ratio": None if self.point is None else self.point.target_ratio,
            "savings": None if self.point is None else self.point.savings,
            "retention0": None if self.point is None else self.point.retention0,
            "beats": self.beats,
        }


class _Runner:
    """Compresses cases at a ratio once, whatever groups ask for them."""

    def __init__(self, home: Path, original_tokens: dict[str, int]) -> None:
        self.home = home
        self.original_tokens = original_tokens
        self._done: dict[tuple[float, str], tuple[int, int, int]] = {}

    def case(self, ratio: float, case: Case) -> tuple[int, int, int]:
        """(compressed tokens, needles found at @0, needles) for ``case`` at ``ratio``."""
        key = (ratio, case.id)
        if key not in self._done:
            config = HeadroomConfig(home=self.home, target_ratio=ratio)
            out = compress(case.text, query=case.query, tool=case.tool, config=config).text
            found = sum(n.answer in out for n in case.needles)
            self._done[key] = (count_tokens(out), found, len(case.needles))
        return self._done[key]

    def point(self, ratio: float, cases: Sequence[Case]) -> Point:
        figures = [self.case(ratio, c) for c in cases]
        needles = sum(f[2] for f in figures)
        return Point(
            ratio,
            sum(self.original_tokens[c.id] for c in cases),
            sum(f[0] for f in figures),
            sum(f[1] for f in figures) / needles if needles else 1.0,
        )


def find_operating_points(
    cases: Sequence[Case],
    rows: Sequence[Aggregate],
    home: Path,
    original_tokens: dict[str, int],
    *,
    grid: Sequence[float] = GRID,
    advance: Callable[[str], None] | None = None,
) -> list[OperatingPoint]:
    """One ``OperatingPoint`` per (group, peer) where the peer's retention@0 beats headroom's."""
    runner = _Runner(home, original_tokens)
    by_key = {(a.system, a.group): a for a in rows}
    groups = [*dict.fromkeys(c.workload for c in cases), "overall"]
    points: list[OperatingPoint] = []
    for group in groups:
        mine = by_key.get(("headroom", group))
        if mine is None:
            continue
        group_cases = [c for c in cases if group == "overall" or c.workload == group]
        peers = [
            a
            for a in rows
            if a.group == group and a.system not in SKIP and a.retention0 > mine.retention0
        ]
        for peer in peers:
            found: Point | None = None
            for ratio in sorted(grid):
                p = runner.point(ratio, group_cases)
                if advance is not None:
                    advance(f"{group} r={ratio}")
                if p.retention0 >= peer.retention0:
                    found = p
                    break
            points.append(
                OperatingPoint(
                    group,
                    peer.system,
                    peer.savings,
                    peer.retention0,
                    mine.savings,
                    mine.retention0,
                    found,
                )
            )
    return points


def operating_points_markdown(points: Sequence[OperatingPoint]) -> str:
    """The RESULTS.md section for ``points``."""
    grid = ", ".join(f"{r:g}" for r in GRID)
    lines = [
        "## Matched retention\n",
        "headroom's default budgets favour savings. Where a peer keeps more needles at @0 "
        "than headroom's default, headroom was re-run in the same process on that group's "
        f"cases with `HeadroomConfig(target_ratio=r)`, r in ({grid}), smallest first; the "
        "row shows the first r whose retention@0 is at least the peer's (one call per case, "
        "no retrieval, no timing).\n",
        "| group | peer savings / @0 | headroom default savings / @0 | headroom at target_ratio "
        "| savings / @0 | saves more at ≥ @0 |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for p in points:
        at = "-" if p.point is None else f"{p.point.target_ratio:g}"
        figures = (
            "not reached"
            if p.point is None
            else f"{p.point.savings:.1%} / {p.point.retention0:.1%}"
        )
        lines.append(
            f"| {p.group} vs {p.peer} | {p.peer_savings:.1%} / {p.peer_retention0:.1%} | "
            f"{p.default_savings:.1%} / {p.default_retention0:.1%} | {at} | {figures} | "
            f"{'yes' if p.beats else 'no'} |"
        )
    return "\n".join(lines) + "\n"
