"""Benchmark CLI: ``uv run headroom bench [options]`` (or ``uv run python benchmarks/run.py``).

Runs every selected system on the same corpus cases, scores tokens, needle retention and
latency, and writes ``benchmarks/RESULTS.md``, ``RESULTS-cases.md`` and the chart.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download during a benchmark
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import hashlib
import json
import math
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (runpy from the CLI, or python benchmarks/run.py)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from benchmarks.harness import (
    REPO_ROOT,
    Case,
    CaseResult,
    aggregate_all,
    aggregate_to_dict,
    default_corpus,
    latency_ratios_by_group,
    load_corpus,
    result_to_dict,
    score_case,
)
from benchmarks.operating_points import OperatingPoint, find_operating_points
from benchmarks.peers import PEERS
from benchmarks.report import (
    HostSpeed,
    RunInfo,
    cases_markdown,
    console_table,
    results_markdown,
    savings_chart,
    update_readme,
)
from benchmarks.systems import Headroom, RunContext, System, Truncate, timed
from headroom_core import count_tokens

ALL_SYSTEMS: tuple[str, ...] = ("headroom", *PEERS, "truncate")
CHART_NAME = "savings_vs_retention.png"


def _split(values: Sequence[str] | None) -> list[str]:
    return [v.strip() for item in values or () for v in item.split(",") if v.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="headroom bench",
        description="Compare headroom with its peers on the shared corpus (tokens, retention, latency).",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="corpus folder (default: $HEADROOM_CORPUS or ../shared/corpus)",
    )
    p.add_argument(
        "--systems",
        action="append",
        metavar="LIST",
        help=f"comma-separated systems to run (default: all): {', '.join(ALL_SYSTEMS)}",
    )
    p.add_argument(
        "--peers",
        action="append",
        metavar="LIST",
        help="comma-separated systems to run next to headroom (headroom is added)",
    )
    p.add_argument("--workloads", action="append", metavar="LIST", help="comma-separated workloads")
    p.add_argument(
        "--cases", action="append", metavar="LIST", help="comma-separated case id substrings"
    )
    p.add_argument(
        "--repeat", type=int, default=3, help="timed runs per case after a warm-up (default 3)"
    )
    p.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks" / "RESULTS.md", help="results file"
    )
    p.add_argument("--json", action="store_true", help="print machine-readable results to stdout")
    p.add_argument("--no-write", action="store_true", help="do not write RESULTS*.md or the chart")
    p.add_argument(
        "--readme",
        action="store_true",
        help="also rewrite the headline table in README.md (use with a full run)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="ignore cached peer outputs; re-measure all"
    )
    p.add_argument(
        "--no-matched",
        action="store_true",
        help="skip re-running headroom at larger budgets where a peer keeps more needles @0",
    )
    args = p.parse_args(argv)
    chosen = _split(args.systems)
    peers = _split(args.peers)
    if peers:
        chosen += ["headroom", *peers]
    args.systems = chosen or list(ALL_SYSTEMS)
    unknown = [s for s in args.systems if s not in ALL_SYSTEMS]
    if unknown:
        p.error(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(ALL_SYSTEMS)}")
    # headroom runs first so truncate can use its token counts; peers keep the listed order.
    args.systems = sorted(dict.fromkeys(args.systems), key=ALL_SYSTEMS.index)
    args.workloads = _split(args.workloads)
    args.cases = _split(args.cases)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    return args


def _finite(value: Any) -> Any:
    """``value`` with NaN / infinity replaced by None, so it serialises as strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _cached(results: Sequence[CaseResult], system: str) -> int:
    return sum(1 for r in results if r.system == system and r.note.startswith("cached"))


def fixed_ref_key(home: Path) -> None:
    """Give the store at ``home`` a fixed ref key (unless ``HEADROOM_SECRET`` is set).

    Refs sit inside markers, so a random key per run changes marker token counts and with
    them what fits a budget: a fixed key makes runs repeatable.
    """
    home.mkdir(parents=True, exist_ok=True)
    (home / "secret.key").write_bytes(hashlib.sha256(b"headroom-bench").digest())


def build_system(name: str, home: Path) -> System:
    if name == "headroom":
        return Headroom(home / "headroom")
    if name == "truncate":
        return Truncate(home / "headroom")
    return PEERS[name](home / name)


def host_speed(case: Case, calls: int = 20) -> HostSpeed:
    """How fast this host runs one fixed piece of work now: the exact token count of
    ``case``'s text (a compiled tokenizer, no Python in the loop), fastest of ``calls``."""
    _, seconds, _ = timed(lambda: count_tokens(case.text), calls)
    return HostSpeed(case.id, case.nbytes, min(seconds))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    err = Console(stderr=True)
    corpus = (args.corpus or default_corpus()).resolve()
    cases = load_corpus(corpus, workloads=args.workloads, cases=args.cases)
    if not cases:
        err.print("[red]error:[/] no case matches the filters")
        return 2
    yardstick = max(cases, key=lambda c: c.nbytes)
    speed_before = host_speed(yardstick)
    started = time.perf_counter()
    results: list[CaseResult] = []
    versions: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    system_seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    ctx = RunContext(
        repeat=args.repeat,
        fresh=args.fresh,
        cache_dir=REPO_ROOT / "benchmarks" / ".cache",
        corpus_dir=corpus,
    )
    original_tokens: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="headroom-bench-") as tmp:
        for store_home in ("headroom", "matched"):
            fixed_ref_key(Path(tmp) / store_home)
        progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[case]}"),
            console=err,
            # redrawn between cases only: a refresh thread would take the interpreter lock
            # (and the CPU's caches) in the middle of timed calls
            auto_refresh=False,
        )
        with progress:
            for name in args.systems:
                task = progress.add_task(name, total=len(cases), case="")

                def advance(case_id: str, task: TaskID = task) -> None:
                    progress.update(task, advance=1, case=case_id, refresh=True)

                t0 = time.perf_counter()
                try:
                    system = build_system(name, Path(tmp))
                    versions[name] = system.version()
                    descriptions[name] = system.describe()
                    outputs = system.run(cases, ctx, advance)
                except Exception as exc:
                    if name == "headroom":
                        raise  # the system under test: a crash must show its traceback
                    # a peer that cannot run (offline without its package, an API change)
                    # is reported and left out; the others still compare
                    failed[name] = f"{type(exc).__name__}: {str(exc).strip()[-600:]}"
                    err.print(f"[red]{name} failed, left out:[/] {failed[name]}")
                    progress.update(task, case="failed", refresh=True)
                    continue
                system_seconds[name] = time.perf_counter() - t0
                ctx.outputs[name] = outputs
                for case in cases:
                    if case.id not in original_tokens:
                        original_tokens[case.id] = count_tokens(case.text)
                    results.append(
                        score_case(
                            name,
                            case,
                            outputs[case.id],
                            original_tokens=original_tokens[case.id],
                        )
                    )
                progress.update(task, case="done", refresh=True)
            rows = aggregate_all(results)
            points: list[OperatingPoint] = []
            if "headroom" in ctx.outputs and not args.no_matched:
                task = progress.add_task("headroom, matched @0", total=None, case="")
                points = find_operating_points(
                    cases,
                    rows,
                    Path(tmp) / "matched",
                    original_tokens,
                    advance=lambda label: progress.update(
                        task, advance=1, case=label, refresh=True
                    ),
                )
                progress.update(task, total=1, completed=1, case="done", refresh=True)
    wall = time.perf_counter() - started
    speed_after = host_speed(yardstick)
    ratios = latency_ratios_by_group(results)
    given = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["uv", "run", "headroom", "bench", *given])
    info = RunInfo(
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        command=command,
        corpus=str(args.corpus) if args.corpus else "../shared/corpus",
        repeat=args.repeat,
        wall_seconds=wall,
        versions=versions,
        descriptions=descriptions,
        system_seconds=system_seconds,
        failed=failed,
        cached={name: n for name in args.systems if (n := _cached(results, name))},
        appendix=tuple(sorted((args.out.parent / "results").glob("*.md"))),
        host_speed=(speed_before, speed_after),
    )
    if not args.no_write:
        out: Path = args.out
        chart = out.parent / CHART_NAME
        savings_chart(rows, chart)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(results_markdown(rows, ratios, info, CHART_NAME, points, results), "utf-8")
        out.with_name(out.stem + "-cases" + out.suffix).write_text(cases_markdown(results), "utf-8")
        err.print(f"wrote {out}, {out.stem}-cases{out.suffix} and {chart.name} in {wall:.0f} s")
    if args.readme:
        if update_readme(REPO_ROOT / "README.md", rows, ratios, info):
            err.print("updated the benchmark table in README.md")
        else:
            err.print("[yellow]README.md has no benchmark-table markers; left unchanged[/]")
    if args.json:
        sys.stdout.write(
            json.dumps(
                _finite(
                    {
                        "date": info.date,
                        "command": info.command,
                        "versions": versions,
                        "wall_seconds": wall,
                        "host_speed_mbs": [speed_before.mbs, speed_after.mbs],
                        "aggregates": [aggregate_to_dict(a) for a in rows],
                        "latency_ratios": ratios["overall"],
                        "latency_ratios_by_group": ratios,
                        "matched_retention": [p.to_dict() for p in points],
                        "cases": [result_to_dict(r) for r in results],
                    }
                ),
                allow_nan=False,
            )
            + "\n"
        )
    else:
        # a pipe or a log file gets the full table rather than 80 cut columns
        Console(width=None if sys.stdout.isatty() else 150).print(
            console_table(rows, ratios, title=f"{len(cases)} cases, {wall:.0f} s")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
