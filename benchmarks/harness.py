"""Benchmark metrics: corpus loading, per-case scoring and aggregation.

Everything here is system-agnostic. A *system* turns a case's text into what the model
would see (``SystemOutput``); ``score_case`` turns that into figures with one tokenizer
(cl100k via ``headroom_core.count_tokens``) for every system, and ``aggregate`` sums cases
into per-workload and overall rows.

Definitions (also printed in RESULTS.md):

* savings = 1 - compressed / original tokens; aggregated token-weighted
  (1 - sum compressed / sum original), so big outputs weigh what they cost.
* retention@0: the needle's answer is a substring of the compressed text.
* retention@1: retention@0, or the answer is in what one retrieval call returns for the
  needle's question (the system reports it; systems without retrieval score @1 = @0).
* retrieval tokens: tokens one retrieval call returned, median over the retrievals made
  (a retrieval is made only for needles missed at @0, as an agent would).
* latency: median of ``repeat`` timed compress calls after one warm-up call.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headroom_core import count_tokens

REPO_ROOT = Path(__file__).resolve().parents[1]
NEEDLE_TYPES: tuple[str, ...] = ("anchored", "anomaly", "structural")


def default_corpus() -> Path:
    """``HEADROOM_CORPUS`` if set, else ``../shared/corpus`` next to the repository."""
    env = os.environ.get("HEADROOM_CORPUS")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "corpus"


@dataclass(frozen=True)
class Needle:
    """A fact the case's task needs; ``answer`` is an exact substring of the original."""

    question: str
    answer: str
    type: str


@dataclass(frozen=True)
class Case:
    """One tool output of the corpus with its task and needles."""

    id: str
    workload: str
    tool: str
    kind: str
    file: str
    query: str
    needles: tuple[Needle, ...]
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8", "surrogatepass"))


def load_corpus(
    corpus: Path,
    *,
    workloads: Sequence[str] | None = None,
    cases: Sequence[str] | None = None,
) -> list[Case]:
    """Cases of ``corpus/cases.jsonl`` in file order, filtered by workload and id substring."""
    path = corpus / "cases.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no cases.jsonl in {corpus} (set --corpus or HEADROOM_CORPUS)")
    out: list[Case] = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        if workloads and raw["workload"] not in workloads:
            continue
        if cases and not any(sub in raw["id"] for sub in cases):
            continue
        out.append(
            Case(
                id=raw["id"],
                workload=raw["workload"],
                tool=raw.get("tool", ""),
                kind=raw.get("kind", ""),
                file=raw["file"],
                query=raw.get("query", ""),
                needles=tuple(
                    Needle(n["question"], n["answer"], n.get("type", "anchored"))
                    for n in raw.get("needles", ())
                ),
                text=(corpus / raw["file"]).read_text("utf-8"),
            )
        )
    return out


@dataclass(frozen=True)
class Retrieval:
    """What one retrieval call for a needle gave: whether it held the answer, its size."""

    found: bool
    tokens: int


@dataclass(frozen=True)
class SystemOutput:
    """What a system produced for one case.

    ``retrievals`` maps a needle index to the result of retrieving it (only needles missed
    at @0 are retrieved); a system without retrieval leaves it empty. ``seconds`` holds the
    timed runs (after a warm-up); ``note`` says anything unusual (an error, a cache hit).
    """

    text: str
    seconds: tuple[float, ...]
    retrievals: dict[int, Retrieval] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class NeedleScore:
    type: str
    at0: bool
    at1: bool
    retrieval_tokens: int | None


@dataclass(frozen=True)
class CaseResult:
    """Figures of one system on one case."""

    system: str
    case_id: str
    workload: str
    original_tokens: int
    compressed_tokens: int
    nbytes: int
    latency_s: float
    needles: tuple[NeedleScore, ...]
    note: str = ""
    kind: str = ""  # the corpus's content kind of the case (json, log, code...)

    @property
    def savings(self) -> float:
        if self.original_tokens <= 0:
            return 0.0
        return 1.0 - self.compressed_tokens / self.original_tokens

    @property
    def retention0(self) -> float:
        return _mean([n.at0 for n in self.needles])

    @property
    def retention1(self) -> float:
        return _mean([n.at1 for n in self.needles])

    @property
    def throughput_mbs(self) -> float:
        return self.nbytes / self.latency_s / 1e6 if self.latency_s > 0 else math.inf


def _mean(values: Sequence[bool | float]) -> float:
    return sum(float(v) for v in values) / len(values) if values else math.nan


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def score_case(
    system: str, case: Case, output: SystemOutput, *, original_tokens: int | None = None
) -> CaseResult:
    """Score ``output`` on ``case``: tokens (cl100k), needles at @0 and @1, median latency."""
    scores: list[NeedleScore] = []
    for i, needle in enumerate(case.needles):
        at0 = needle.answer in output.text
        got = None if at0 else output.retrievals.get(i)
        scores.append(
            NeedleScore(
                type=needle.type,
                at0=at0,
                at1=at0 or (got is not None and got.found),
                retrieval_tokens=None if got is None else got.tokens,
            )
        )
    return CaseResult(
        system=system,
        case_id=case.id,
        workload=case.workload,
        original_tokens=count_tokens(case.text) if original_tokens is None else original_tokens,
        compressed_tokens=count_tokens(output.text),
        nbytes=case.nbytes,
        latency_s=median(output.seconds),
        needles=tuple(scores),
        note=output.note,
        kind=case.kind,
    )


@dataclass(frozen=True)
class Aggregate:
    """Figures of one system over a group of cases (a workload, or all)."""

    system: str
    group: str
    cases: int
    needles: int
    original_tokens: int
    compressed_tokens: int
    retention0: float
    retention1: float
    by_type: dict[str, tuple[int, float, float]]  # type -> (needles, @0, @1)
    retrievals: int
    retrieval_tokens_median: float
    latency_p50_s: float
    latency_p95_s: float
    throughput_mbs: float  # total bytes / total median latency

    @property
    def savings(self) -> float:
        """Token-weighted: 1 - sum(compressed) / sum(original)."""
        if self.original_tokens <= 0:
            return 0.0
        return 1.0 - self.compressed_tokens / self.original_tokens


def aggregate(system: str, group: str, results: Iterable[CaseResult]) -> Aggregate:
    """Sum ``results`` (one system's) into one row; retention is a mean over needles."""
    rs = list(results)
    needles = [n for r in rs for n in r.needles]
    by_type: dict[str, tuple[int, float, float]] = {}
    for t in sorted({n.type for n in needles}, key=_type_order):
        ns = [n for n in needles if n.type == t]
        by_type[t] = (len(ns), _mean([n.at0 for n in ns]), _mean([n.at1 for n in ns]))
    rtokens = [float(n.retrieval_tokens) for n in needles if n.retrieval_tokens is not None]
    latencies = [r.latency_s for r in rs]
    total_s = sum(latencies)
    return Aggregate(
        system=system,
        group=group,
        cases=len(rs),
        needles=len(needles),
        original_tokens=sum(r.original_tokens for r in rs),
        compressed_tokens=sum(r.compressed_tokens for r in rs),
        retention0=_mean([n.at0 for n in needles]),
        retention1=_mean([n.at1 for n in needles]),
        by_type=by_type,
        retrievals=len(rtokens),
        retrieval_tokens_median=median(rtokens),
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        throughput_mbs=sum(r.nbytes for r in rs) / total_s / 1e6 if total_s > 0 else math.inf,
    )


def _type_order(t: str) -> tuple[int, str]:
    return (NEEDLE_TYPES.index(t) if t in NEEDLE_TYPES else len(NEEDLE_TYPES), t)


def aggregate_all(results: Sequence[CaseResult]) -> list[Aggregate]:
    """Per system: one row per workload (corpus order), then ``overall``."""
    systems = list(dict.fromkeys(r.system for r in results))
    workloads = list(dict.fromkeys(r.workload for r in results))
    rows: list[Aggregate] = []
    for s in systems:
        mine = [r for r in results if r.system == s]
        for w in workloads:
            group = [r for r in mine if r.workload == w]
            if group:
                rows.append(aggregate(s, w, group))
        rows.append(aggregate(s, "overall", mine))
    return rows


def latency_ratios(
    results: Sequence[CaseResult], *, base: str = "headroom", group: str = "overall"
) -> dict[str, float]:
    """Per peer: median over cases of (``base`` latency / peer latency); < 1 means base is faster.

    ``group`` limits the cases to one workload (``"overall"``: every case).
    """
    by_case = {
        (r.system, r.case_id): r.latency_s
        for r in results
        if group == "overall" or r.workload == group
    }
    out: dict[str, float] = {}
    for peer in dict.fromkeys(r.system for r in results):
        if peer == base:
            continue
        ratios = [
            by_case[(base, cid)] / lat
            for (s, cid), lat in by_case.items()
            if s == peer and (base, cid) in by_case and lat > 0
        ]
        if ratios:
            out[peer] = median(ratios)
    return out


def latency_ratios_by_group(
    results: Sequence[CaseResult], *, base: str = "headroom"
) -> dict[str, dict[str, float]]:
    """``latency_ratios`` for ``overall`` and for each workload, keyed by group."""
    groups = ["overall", *dict.fromkeys(r.workload for r in results)]
    return {g: latency_ratios(results, base=base, group=g) for g in groups}


def result_to_dict(r: CaseResult) -> dict[str, Any]:
    """A JSON-ready view of a case result (for ``--json``)."""
    return {
        "system": r.system,
        "case": r.case_id,
        "workload": r.workload,
        "kind": r.kind,
        "original_tokens": r.original_tokens,
        "compressed_tokens": r.compressed_tokens,
        "savings": round(r.savings, 4),
        "retention0": r.retention0,
        "retention1": r.retention1,
        "latency_ms": round(r.latency_s * 1000, 3),
        "throughput_mbs": round(r.throughput_mbs, 3),
        "needles": [
            {"type": n.type, "at0": n.at0, "at1": n.at1, "retrieval_tokens": n.retrieval_tokens}
            for n in r.needles
        ],
        "note": r.note,
    }


def aggregate_to_dict(a: Aggregate) -> dict[str, Any]:
    return {
        "system": a.system,
        "group": a.group,
        "cases": a.cases,
        "needles": a.needles,
        "original_tokens": a.original_tokens,
        "compressed_tokens": a.compressed_tokens,
        "savings": round(a.savings, 4),
        "retention0": a.retention0,
        "retention1": a.retention1,
        "by_type": {
            t: {"needles": n, "at0": r0, "at1": r1} for t, (n, r0, r1) in a.by_type.items()
        },
        "retrievals": a.retrievals,
        "retrieval_tokens_median": a.retrieval_tokens_median,
        "latency_p50_ms": a.latency_p50_s * 1000,
        "latency_p95_ms": a.latency_p95_s * 1000,
        "throughput_mbs": a.throughput_mbs,
    }
