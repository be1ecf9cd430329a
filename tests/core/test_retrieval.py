"""retrieve(ref, query=...) and search(): ranked chunks in original order, within budget."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from headroom_core import (
    HeadroomConfig,
    _retrieval,
    _search,
    compress,
    count_tokens,
    get_default_store,
    retrieve,
    search,
)
from headroom_core.store import StoredOriginal, load_secret, make_ref

from ..conftest import case_text

HEADER = re.compile(r"^\[headroom: (\d+) of (\d+) chunks of (\S+) best matching .*\((.+)\); ")


@pytest.fixture(autouse=True)
def _lexical_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEADROOM_EMBEDDING", raising=False)
    _retrieval._cache.clear()


def put(text: str, kind: str, config: HeadroomConfig | None = None) -> str:
    """Store ``text`` as an original the way compress() does, whatever the compressors do."""
    config = config or HeadroomConfig()
    data = text.encode("utf-8")
    ref = make_ref(data, config.namespace, load_secret(config.resolved_home))
    expires = time.time() + config.ttl_seconds
    get_default_store(config).put(
        StoredOriginal(ref, config.namespace, data, "utf-8", kind, time.time(), expires)
    )
    return ref


def _log(n: int = 3000) -> str:
    rows = [
        f"2024-05-01 12:{i // 60 % 60:02d}:{i % 60:02d} INFO worker-{i % 7} heartbeat ok seq={i}"
        for i in range(n)
    ]
    rows[n * 4 // 10] = (
        "2024-05-01 12:20:34 ERROR worker-2 OOMKilled: container exceeded memory limit 512Mi"
    )
    rows[n * 8 // 10] = "2024-05-01 12:41:40 WARN worker-5 disk pressure on /var/lib/kubelet"
    return "\n".join(rows) + "\n"


def test_query_returns_matching_chunks_with_positions_in_order() -> None:
    text = _log()
    ref = put(text, "log")
    got = retrieve(ref, query="OOMKilled memory limit or disk pressure", max_tokens=300)
    header = HEADER.match(got)
    assert header, got[:200]
    assert header[3] == ref
    assert header[4] == _search.LEXICAL
    assert "OOMKilled: container exceeded memory limit 512Mi" in got
    assert "disk pressure on /var/lib/kubelet" in got
    positions = [int(m) for m in re.findall(r"^--- lines? (\d+)", got, re.M)]
    assert positions == sorted(positions) and 1201 in positions
    assert count_tokens(got) <= 300


@pytest.mark.parametrize("budget", [60, 150, 1000])
def test_answer_never_exceeds_max_tokens(budget: int) -> None:
    ref = put(_log(), "log")
    got = retrieve(ref, query="worker heartbeat seq", max_tokens=budget)
    assert count_tokens(got) <= budget


def test_oversized_chunk_gives_an_excerpt_around_the_match() -> None:
    body = " ".join(f"word{i}" for i in range(3000)) + " needle-answer-42 " + "tail " * 500
    ref = put(json.dumps({"items": [{"title": "big", "body": body}, {"title": "small"}]}), "json")
    got = retrieve(ref, query="needle-answer-42", max_tokens=200)
    assert "needle-answer-42" in got
    assert "(excerpt)" in got
    assert count_tokens(got) <= 200


def test_search_results_keep_path_line_prefix() -> None:
    lines = [f"src/pkg/mod{i % 40}.py:{i}:    value = compute({i})" for i in range(1, 800)]
    lines[500] = "src/pkg/special.py:77:def resolve_symlink(path, strict=False):"
    ref = put("\n".join(lines), "search")
    got = retrieve(ref, query="where is resolve_symlink defined?", max_tokens=200)
    assert "src/pkg/special.py:77:def resolve_symlink(path, strict=False):" in got


def test_json_answer_comes_with_the_item_that_names_it() -> None:
    items = [
        {
            "number": 1000 + i,
            "title": f"Crash when loading plugin {i}",
            "user": {"login": f"dev{i}"},
            "comments": i % 13,
            "body": "details " * 80,
        }
        for i in range(60)
    ]
    ref = put(json.dumps(items, indent=2), "json")
    got = retrieve(
        ref, query="Who opened the issue titled 'Crash when loading plugin 37'?", max_tokens=400
    )
    assert '"login": "dev37"' in got
    most = retrieve(ref, query="Which issue has the most comments?", max_tokens=300)
    assert "overview" in most and "Crash when loading plugin 12" in most


def test_unknown_foreign_and_expired_refs_give_a_message(headroom_home: Path) -> None:
    ref = put(_log(50), "log")
    other = HeadroomConfig(namespace="tenant-b")
    for got in (
        retrieve(ref, query="error", config=other),
        retrieve(ref, config=other),
        retrieve("hr_" + "a" * 20, query="x"),
        retrieve("not-a-ref"),
    ):
        assert got.startswith("[headroom: ") and "heartbeat" not in got
    short = HeadroomConfig(ttl_seconds=1)
    ref2 = put("x\n" * 500, "text", short)
    time.sleep(1.1)
    assert "unknown or expired" in retrieve(ref2, query="x")


def test_no_match_says_so() -> None:
    ref = put(_log(100), "log")
    got = retrieve(ref, query="zebra quantum")
    assert got.startswith("[headroom: no chunk of ") and ref in got


def test_compress_does_not_index_and_first_query_does() -> None:
    text = _log(2000)
    c = compress(text, kind="log", config=HeadroomConfig(max_input_bytes=4096))
    assert c.ref is not None
    assert not _retrieval._cache._items
    retrieve(c.ref, query="OOMKilled")
    assert list(_retrieval._cache._items) == [("default", c.ref)]


def test_search_across_recent_refs_of_one_namespace() -> None:
    a = put(_log(500), "log")
    b = put(
        "\n".join(f"src/x{i}.py:{i}: import requests" for i in range(200))
        + "\nsrc/deploy.py:9: OOMKilled retry",
        "search",
    )
    put("OOMKilled in another tenant\n" * 300, "log", HeadroomConfig(namespace="other"))
    got = search("OOMKilled")
    assert f"--- {a} " in got or f"--- {b} " in got
    assert f"--- {b} " in got
    assert "another tenant" not in got
    assert count_tokens(got) <= 1000


class ConceptEmbedding:
    """A tiny embedding for tests: one axis per concept, so synonyms land together."""

    name = "test-concepts"
    concepts = (("car", "automobile", "vehicle"), ("cat", "kitten", "feline"), ("disk", "storage"))

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, input: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for text in input:
            low = text.lower()
            vec = [float(sum(low.count(w) for w in group)) for group in self.concepts]
            out.append([*vec, 0.01])
        return out


def test_hybrid_ranking_finds_a_synonym_the_lexical_path_misses() -> None:
    paragraphs = [f"Paragraph {i} talks about scheduling and queues." for i in range(30)]
    paragraphs[17] = "The automobile was parked outside the depot all night."
    text = "\n\n".join(paragraphs)
    lexical_ref = put(text, "text")
    assert "automobile" not in retrieve(lexical_ref, query="car", max_tokens=200)

    embed = ConceptEmbedding()
    config = HeadroomConfig(embedding=embed)
    got = retrieve(lexical_ref, query="car", max_tokens=200, config=config)
    assert "hybrid: BM25 + dense test-concepts vectors" in got
    assert "The automobile was parked outside the depot all night." in got
    calls = embed.calls
    retrieve(lexical_ref, query="car", max_tokens=200, config=config)
    assert embed.calls == calls + 1, "chunk vectors are computed once; only the query is embedded"


def test_large_originals_are_embedded_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_search, "SYNC_EMBED_CHUNKS", 2)
    text = "\n\n".join(
        f"Paragraph {i} about feline behaviour." if i == 9 else f"Paragraph {i}." for i in range(20)
    )
    ref = put(text, "text")
    config = HeadroomConfig(embedding=ConceptEmbedding())
    first = retrieve(ref, query="kitten", config=config)
    assert "index still building" in first or "hybrid" in first
    deadline = time.time() + 10
    while (
        _retrieval._cache._items[("default", ref)].dense.get("test-concepts") != "ready"
        and time.time() < deadline
    ):
        time.sleep(0.05)
    later = retrieve(ref, query="kitten", config=config)
    assert "hybrid" in later and "feline behaviour" in later


def test_lexical_query_on_a_1mb_original_is_fast() -> None:
    text = _log(19000)
    assert len(text) > 1_000_000
    ref = put(text, "log")
    retrieve(ref, query="OOMKilled")  # builds the index
    times = []
    for q in ("OOMKilled memory", "disk pressure kubelet", "worker-3 seq=9001", "ERROR"):
        t = time.perf_counter()
        retrieve(ref, query=q)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.25  # the benchmark holds the 50 ms target; CI is noisy


def test_corpus_retention_at_1(corpus_cases: list[dict[str, Any]]) -> None:
    """Every needle is in the compressed text or in one retrieval of 1000 tokens."""
    missed = []
    for case in corpus_cases:
        text = case_text(case)
        c = compress(text, query=case["query"], tool=case["tool"])
        for needle in case["needles"]:
            if needle["answer"] in c.text:
                continue
            assert c.ref is not None, case["id"]
            got = retrieve(c.ref, query=needle["question"], max_tokens=1000)
            assert count_tokens(got) <= 1000
            if needle["answer"] not in got:
                missed.append((case["id"], needle["question"]))
    assert not missed


def test_retrieve_tool_answers_with_chunks_and_says_what_was_left_out() -> None:
    from headroom_core import RETRIEVE_TOOL_PARAMETERS, retrieve_tool

    ref = put(_log(), "log")
    tool = retrieve_tool()
    got = tool(ref=ref, query="OOMKilled", max_tokens=200)
    assert "OOMKilled: container exceeded memory limit 512Mi" in got
    assert re.search(r"chunks left out", got.splitlines()[0])
    assert set(RETRIEVE_TOOL_PARAMETERS["properties"]) == {"ref", "query", "max_tokens"}
    assert tool(ref=ref) == _log()


def test_a_budget_too_small_for_any_chunk_says_so() -> None:
    ref = put(_log(), "log")
    got = retrieve(ref, query="OOMKilled", max_tokens=20)
    assert got.startswith("[headroom: ") and "none fits in max_tokens=20" in got


def test_a_failing_embedding_falls_back_to_lexical_and_says_so() -> None:
    def broken(input: Sequence[str]) -> list[list[float]]:
        raise RuntimeError("model crashed")

    ref = put(_log(200), "log")
    got = retrieve(ref, query="OOMKilled", config=HeadroomConfig(embedding=broken))
    assert "OOMKilled: container exceeded memory limit 512Mi" in got
    assert "dense broken index unavailable" in got
