"""CCR load test: P processes x T threads x N compress+retrieve, then verify every original.

Each operation compresses a distinct tool output and reads it back by ref at once; a query
retrieval runs every tenth operation. When all workers are done, a fresh process re-reads
every ref and compares SHA-256 digests, so an original lost or torn by a concurrent writer
anywhere shows up. Loopback only: the embedded backend shares one ``HEADROOM_HOME`` (one
SQLite file) between the processes; the server backend starts ``chroma run`` on 127.0.0.1
and gives each process its own ``HEADROOM_HOME``.

    uv run python benchmarks/ccr_load.py                 # 2 x 8 x 500, both backends
    uv run python benchmarks/ccr_load.py --ops 50 --no-write --json
"""

from __future__ import annotations

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ccr_results import chroma_server, machine, write_section

LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")


def tool_output(proc: int, thread: int, i: int) -> str:
    """A distinct, realistic-looking log of 2-12 KB (seeded, so runs are repeatable)."""
    rng = random.Random(f"{proc}-{thread}-{i}")
    lines = [
        f"2024-05-01T12:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z {rng.choice(LEVELS)} "
        f"svc-{rng.randrange(9)} request id={rng.getrandbits(48):x} took {rng.randrange(900)}ms "
        f"path=/api/v{rng.randrange(3)}/items/{rng.randrange(10**6)}"
        for _ in range(rng.randrange(20, 120))
    ]
    lines.insert(rng.randrange(len(lines)), f"CRITICAL op {proc}/{thread}/{i} unique marker")
    if rng.random() < 0.2:
        lines.append("tail with unicode: é ü 漢字 🚀 and a NUL \x00 byte")
    return "\n".join(lines) + "\n"


def worker(args: argparse.Namespace) -> None:
    """One process: ``--threads`` threads, ``--ops`` operations each; writes refs + digests."""
    from headroom_core import HeadroomConfig, compress, fetch_original, retrieve

    # inputs over 4 KiB take the head-and-tail path, so most operations store an original
    config = HeadroomConfig(max_input_bytes=4096)
    records: list[tuple[str, str]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        for i in range(args.ops):
            text = tool_output(args.proc, thread, i)
            c = compress(text, kind="log", config=config)
            if c.ref is None:
                continue
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            got = fetch_original(c.ref, config=config).value()
            ok = got == text
            if i % 10 == 0:
                found = retrieve(c.ref, query=f"op {args.proc}/{thread}/{i} marker", config=config)
                ok = ok and f"CRITICAL op {args.proc}/{thread}/{i} unique marker" in found
            with lock:
                records.append((c.ref, digest))
                if not ok:
                    failures.append(c.ref)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(args.out).write_text(json.dumps({"records": records, "failures": failures}), "utf-8")


def verify(refs: list[tuple[str, str]]) -> list[str]:
    """Refs whose original is missing or differs (read in this fresh process)."""
    from headroom_core import HeadroomConfig, fetch_original
    from headroom_core._exceptions import StoreError

    config = HeadroomConfig()
    bad: list[str] = []
    for ref, digest in refs:
        try:
            data = fetch_original(ref, config=config).data
        except StoreError:
            bad.append(ref)
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            bad.append(ref)
    return bad


def run_backend(backend: str, args: argparse.Namespace, url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="headroom-load-") as tmp:
        root = Path(tmp)
        procs = []
        t0 = time.perf_counter()
        for p in range(args.processes):
            home = root / ("home" if backend == "embedded" else f"home{p}")
            env = {**os.environ, "HEADROOM_HOME": str(home), "HEADROOM_SECRET": "load-test"}
            env.pop("HEADROOM_CHROMA_URL", None)
            if url:
                env["HEADROOM_CHROMA_URL"] = url
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                f"--proc={p}",
                f"--threads={args.threads}",
                f"--ops={args.ops}",
                f"--out={root / f'out{p}.json'}",
            ]
            procs.append(subprocess.Popen(cmd, env=env))
        codes = [proc.wait() for proc in procs]
        seconds = time.perf_counter() - t0
        records: list[tuple[str, str]] = []
        failures: list[str] = []
        for p in range(args.processes):
            out = root / f"out{p}.json"
            if out.exists():
                data = json.loads(out.read_text("utf-8"))
                records += [tuple(r) for r in data["records"]]
                failures += data["failures"]
        # a fresh reader (another HEADROOM_HOME in server mode) checks every original
        env_home = root / ("home" if backend == "embedded" else "reader")
        os.environ["HEADROOM_HOME"] = str(env_home)
        os.environ["HEADROOM_SECRET"] = "load-test"
        if url:
            os.environ["HEADROOM_CHROMA_URL"] = url
        else:
            os.environ.pop("HEADROOM_CHROMA_URL", None)
        from headroom_core.store import _reset_default_stores

        _reset_default_stores()
        bad = verify(records)
        _reset_default_stores()
    ops = args.processes * args.threads * args.ops
    return {
        "backend": backend,
        "processes": args.processes,
        "threads": args.threads,
        "ops_per_thread": args.ops,
        "operations": ops,
        "stored": len(records),
        "distinct_refs": len({r for r, _ in records}),
        "read_back_failures": len(failures),
        "lost_or_corrupted": len(bad),
        "worker_exit_codes": codes,
        "seconds": round(seconds, 2),
        "ops_per_second": round(ops / seconds, 1),
    }


def report(results: list[dict[str, Any]]) -> str:
    rows = [
        "| backend | processes x threads x ops | originals stored | read-back failures "
        "| lost or corrupted on re-read | wall time | compress+retrieve/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r['backend']} | {r['processes']} x {r['threads']} x {r['ops_per_thread']} "
            f"| {r['stored']} | {r['read_back_failures']} | {r['lost_or_corrupted']} "
            f"| {r['seconds']} s | {r['ops_per_second']} |"
        )
    return "\n".join(
        [
            f"## Load: concurrent compress + retrieve ({', '.join(r['backend'] for r in results)})",
            "",
            "Command: `uv run python benchmarks/ccr_load.py` (loopback only). Each operation "
            "compresses a distinct 2-12 KB log (inputs over 4 KiB take the stored head-and-tail "
            "path) and reads the original back by ref; every tenth also retrieves with a query. "
            "Afterwards a fresh process re-reads every ref and compares SHA-256. Embedded: both "
            "processes share one HEADROOM_HOME (SQLite WAL). Server: a local `chroma run`, one "
            "HEADROOM_HOME per process.",
            "",
            *rows,
            "",
            f"Machine: {machine()}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--backend", choices=("embedded", "server", "both"), default="both")
    parser.add_argument("--chroma-url", help="use this server instead of starting one")
    parser.add_argument("--no-write", action="store_true", help="do not update results/ccr.md")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--proc", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    results = []
    if args.backend in ("embedded", "both"):
        results.append(run_backend("embedded", args, None))
    if args.backend in ("server", "both"):
        if args.chroma_url:
            results.append(run_backend("server", args, args.chroma_url))
        else:
            with chroma_server() as url:
                results.append(run_backend("server", args, url))
    if args.json:
        print(json.dumps(results))
    else:
        print(report(results))
    if not args.no_write:
        for r in results:
            write_section(f"ccr_load_{r['backend']}", report([r]))
    if any(r["lost_or_corrupted"] or r["read_back_failures"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
