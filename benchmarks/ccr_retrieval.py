"""CCR retrieval benchmark: retention@1 on the corpus, tokens per retrieval, 1 MB latency.

    uv run python benchmarks/ccr_retrieval.py              # lexical; writes results/ccr.md
    uv run python benchmarks/ccr_retrieval.py --dense minilm --no-write

Retention@1 follows the corpus definition: the needle's answer is in the compressed text,
or in ``retrieve(ref, query=needle question, max_tokens=1000)``. "Retrieval only" asks
every needle of every case through ``retrieve`` (as if the compressor had dropped it all),
which measures the search itself whatever the compressors keep.
"""

from __future__ import annotations

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ccr_results import machine, write_section
from headroom_core import HeadroomConfig, compress, count_tokens, get_default_store, retrieve
from headroom_core.store import StoredOriginal, load_secret, make_ref

CORPUS = Path(
    os.environ.get("HEADROOM_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)
MAX_TOKENS = 1000
MEGABYTE = 1024 * 1024


def store_text(text: str, kind: str, config: HeadroomConfig) -> str:
    """Keep ``text`` as an original, as compress() would, and return its ref."""
    data = text.encode("utf-8")
    ref = make_ref(data, config.namespace, load_secret(config.resolved_home))
    t = time.time()
    get_default_store(config).put(
        StoredOriginal(ref, config.namespace, data, "utf-8", kind, t, t + config.ttl_seconds)
    )
    return ref


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def corpus_run(config: HeadroomConfig) -> dict[str, Any]:
    cases = [json.loads(x) for x in (CORPUS / "cases.jsonl").read_text("utf-8").splitlines() if x]
    needles = at0 = at1 = only_hits = 0
    tokens_at1: list[int] = []
    tokens_only: list[int] = []
    latency: list[float] = []
    misses_at1: list[str] = []
    misses_only: list[str] = []
    for case in cases:
        text = (CORPUS / case["file"]).read_text("utf-8")
        c = compress(text, query=case["query"], tool=case["tool"], config=config)
        ref = store_text(text, case["kind"], config)
        for needle in case["needles"]:
            needles += 1
            question, answer = needle["question"], needle["answer"]
            t = time.perf_counter()
            got = retrieve(ref, query=question, max_tokens=MAX_TOKENS, config=config)
            latency.append(time.perf_counter() - t)
            tokens_only.append(count_tokens(got))
            if answer in got:
                only_hits += 1
            else:
                misses_only.append(f"{case['id']}: {question}")
            if answer in c.text:
                at0 += 1
                at1 += 1
                continue
            if c.ref is None:
                misses_at1.append(f"{case['id']}: {question} (no ref)")
                continue
            got = retrieve(c.ref, query=question, max_tokens=MAX_TOKENS, config=config)
            tokens_at1.append(count_tokens(got))
            if answer in got:
                at1 += 1
            else:
                misses_at1.append(f"{case['id']}: {question}")
    return {
        "cases": len(cases),
        "needles": needles,
        "retention0": at0 / needles,
        "retention1": at1 / needles,
        "retrievals_at1": len(tokens_at1),
        "median_tokens_at1": statistics.median(tokens_at1) if tokens_at1 else 0,
        "retrieval_only": only_hits / needles,
        "median_tokens_only": statistics.median(tokens_only),
        "max_tokens_only": max(tokens_only),
        "p50_ms": 1000 * statistics.median(latency),
        "p95_ms": 1000 * pct(latency, 0.95),
        "misses_at1": misses_at1,
        "misses_only": misses_only,
    }


def one_megabyte(kind: str) -> tuple[str, list[str]]:
    """A real 1 MB original of ``kind`` (corpus files joined) and questions to ask it."""
    cases = [json.loads(x) for x in (CORPUS / "cases.jsonl").read_text("utf-8").splitlines() if x]
    picked = [c for c in cases if c["kind"] == kind]
    questions = [n["question"] for c in picked for n in c["needles"]]
    if kind == "json":
        items: list[Any] = []
        size = 0
        while size < MEGABYTE:
            for c in picked:
                value = json.loads((CORPUS / c["file"]).read_text("utf-8"))
                for item in value if isinstance(value, list) else [value]:
                    if size >= MEGABYTE:
                        break
                    items.append(item)
                    size += len(json.dumps(item, indent=2).encode("utf-8")) + 2
        return json.dumps(items, indent=2), questions
    text = ""
    while len(text.encode("utf-8")) < MEGABYTE:
        text += "".join((CORPUS / c["file"]).read_text("utf-8") for c in picked)
    cut = text.encode("utf-8")[:MEGABYTE].decode("utf-8", "ignore")
    return cut[: cut.rfind("\n") + 1], questions


def latency_run(config: HeadroomConfig, kind: str, repeat: int) -> dict[str, Any]:
    text, questions = one_megabyte(kind)
    ref = store_text(text, kind, config)
    t = time.perf_counter()
    retrieve(ref, query=questions[0], config=config)
    first = time.perf_counter() - t
    times: list[float] = []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            retrieve(ref, query=q, max_tokens=MAX_TOKENS, config=config)
            times.append(time.perf_counter() - t)
    return {
        "kind": kind,
        "bytes": len(text.encode("utf-8")),
        "first_query_ms": 1000 * first,
        "queries": len(times),
        "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * pct(times, 0.95),
    }


def report(corpus: dict[str, Any], latency: list[dict[str, Any]], command: str) -> str:
    method = "lexical" if "--dense" not in command else "hybrid"
    lines = [
        f"## Retrieval ({method})",
        "",
        f"Command: `{command}`. "
        f"Corpus: {corpus['cases']} cases, {corpus['needles']} needles, `max_tokens={MAX_TOKENS}`, "
        "compressors as they are at this commit.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| retention@0 (answer in compressed text) | {corpus['retention0']:.1%} |",
        f"| retention@1 (or in one `retrieve(ref, query=question, max_tokens=1000)`) | {corpus['retention1']:.1%} |",
        f"| retrievals needed at @1 | {corpus['retrievals_at1']} |",
        f"| median tokens returned per retrieval at @1 | {corpus['median_tokens_at1']:.0f} |",
        f"| retrieval only: every needle asked through `retrieve` | {corpus['retrieval_only']:.1%} |",
        f"| retrieval only: median / max tokens returned | {corpus['median_tokens_only']:.0f} / {corpus['max_tokens_only']} |",
        f"| retrieval only: p50 / p95 latency per query (corpus-sized originals) | {corpus['p50_ms']:.1f} / {corpus['p95_ms']:.1f} ms |",
    ]
    if latency:
        lines += [
            "",
            "Queries on a 1 MB original (corpus files of one kind joined), after the first "
            "query built the index; every needle question of that kind asked in turn:",
            "",
            "| original | size | first query (chunking + index) | queries | p50 | p95 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
    for r in latency:
        lines.append(
            f"| {r['kind']} | {r['bytes'] / 1e6:.2f} MB | {r['first_query_ms']:.0f} ms | {r['queries']} "
            f"| {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms |"
        )
    if corpus["misses_only"]:
        lines += ["", "Needles the retrieval-only run missed:", ""]
        lines += [f"- {m}" for m in corpus["misses_only"]]
    lines += ["", f"Machine: {machine()}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense", default=None, help="embedding: 'minilm' (default: lexical only)")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the 1 MB questions")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--skip-latency", action="store_true", help="corpus figures only")
    parser.add_argument("--home", help="store folder to reuse (default: a temporary one)")
    args = parser.parse_args()
    if args.dense:
        from headroom_core import _search

        _search.SYNC_EMBED_CHUNKS = 10**9  # measure the hybrid ranking, not a half-built index
    with tempfile.TemporaryDirectory(prefix="headroom-ccr-bench-") as tmp:
        # --home keeps chunk vectors between runs (an embedded Chroma under that folder)
        home = Path(args.home) if args.home else Path(tmp)
        config = HeadroomConfig(home=home, embedding=args.dense, chroma_url=None)
        corpus = corpus_run(config)
        kinds = () if args.skip_latency else ("log", "json")
        latency = [latency_run(config, kind, args.repeat) for kind in kinds]
    method = args.dense or "lexical"
    flags = [f"--dense {args.dense}"] if args.dense else []
    flags += ["--skip-latency"] if args.skip_latency else []
    command = " ".join(["uv run python benchmarks/ccr_retrieval.py", *flags])
    text = report(corpus, latency, command)
    if args.dense:
        text = text.replace(
            "compressors as they are at this commit.",
            "compressors as they are at this commit. Hybrid: BM25 fused with all-MiniLM-L6-v2 "
            "vectors in an embedded Chroma (chunks embedded before the questions).",
        )
    print(text)
    if corpus["misses_at1"]:
        print("\nmissed at @1:", *corpus["misses_at1"], sep="\n- ")
    if not args.no_write:
        write_section(f"ccr_retrieval_{method}", text)


if __name__ == "__main__":
    main()
