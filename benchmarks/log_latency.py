"""Log compression latency on a 2,000-line log: the compressor alone and compress() end to end.

Run: ``uv run python benchmarks/log_latency.py`` (writes ``benchmarks/results/log_latency.md``).
The input is 400 lines from each of five corpus logs (real loghub lines, mixed formats).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HEADROOM_HOME", tempfile.mkdtemp(prefix="headroom-bench-"))

from headroom_core import HeadroomConfig, compress, count_tokens
from headroom_core.compressors import CompressContext, get_compressor

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("HEADROOM_CORPUS", ROOT.parent / "shared" / "corpus"))
RUNS = 21


def _input() -> str:
    lines: list[str] = []
    for path in sorted((CORPUS / "files" / "sre_incident").glob("*.log")):
        lines += path.read_text("utf-8").splitlines()[:400]
        if len(lines) >= 2000:
            break
    return "\n".join(lines[:2000]) + "\n"


def _p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    text = _input()
    tokens = count_tokens(text)
    config = HeadroomConfig()
    ctx = CompressContext(
        ref="hr_" + "a" * 20,
        config=config,
        count_tokens=count_tokens,
        original_tokens=tokens,
        budget=config.budget_for("log", tokens),
        query="find errors and the hosts involved",
        options={},
    )
    compressor = get_compressor("log")
    alone: list[float] = []
    alone_cpu: list[float] = []
    end_to_end: list[float] = []
    end_to_end_cpu: list[float] = []
    for _ in range(RUNS):
        t, c = time.perf_counter(), time.process_time()
        compressor.compress(text, ctx)
        alone.append(time.perf_counter() - t)
        alone_cpu.append(time.process_time() - c)
    for _ in range(RUNS):
        t, c = time.perf_counter(), time.process_time()
        result = compress(text, kind="log", query=ctx.query)
        end_to_end.append(time.perf_counter() - t)
        end_to_end_cpu.append(time.process_time() - c)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = [
        f"# Log compression latency ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Input: {text.count(chr(10))} lines, {tokens} tokens (cl100k): the first 400 lines of",
        "each of the first five corpus sre_incident logs (by name). "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}.",
        f"Savings: {result.savings:.1%} ({result.original_tokens} -> {result.compressed_tokens}).",
        "",
        "| measurement | p50 ms | min ms | max ms | CPU p50 ms |",
        "|---|---:|---:|---:|---:|",
        f"| LogCompressor.compress | {_p50(alone):.1f} | {min(alone) * 1000:.1f} | "
        f"{max(alone) * 1000:.1f} | {_p50(alone_cpu):.1f} |",
        f"| headroom_core.compress (count, store, compress) | {_p50(end_to_end):.1f} | "
        f"{min(end_to_end) * 1000:.1f} | {max(end_to_end) * 1000:.1f} | "
        f"{_p50(end_to_end_cpu):.1f} |",
        "",
        f"{RUNS} runs each. 1-minute load average at the end: {load:.1f} on "
        f"{os.cpu_count()} CPUs; wall times above the CPU times are waiting for a core.",
    ]
    out = ROOT / "benchmarks" / "results" / "log_latency.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rows) + "\n", "utf-8")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
