"""Server mode against a real ``chroma run`` on 127.0.0.1, and invariants of both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.ccr_results import chroma_server
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from headroom_core import HeadroomConfig, compress, fetch_original, retrieve, search
from headroom_core.store import StoredOriginal, open_store
from headroom_core.store._chroma import ChromaServerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def chroma_url() -> Iterator[str]:
    with chroma_server(timeout=60) as url:
        yield url


def _worker(home: Path, url: str, code: str, *args: str) -> Any:
    env = {
        **os.environ,
        "HEADROOM_HOME": str(home),
        "HEADROOM_CHROMA_URL": url,
        "ANONYMIZED_TELEMETRY": "False",
    }
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


_READER = """
import json, sys
from headroom_core import HeadroomConfig, retrieve
ref, query = sys.argv[1], sys.argv[2]
print(json.dumps({
    "whole": retrieve(ref),
    "query": retrieve(ref, query=query, max_tokens=300),
    "other_namespace": retrieve(ref, config=HeadroomConfig(namespace="tenant-b")),
}))
"""


def test_two_workers_with_separate_homes_share_refs(
    tmp_path: Path, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f"2024-05-01 10:00:{i % 60:02d} INFO request {i} served in {i % 97} ms" for i in range(900)
    ]
    lines[611] = "2024-05-01 10:10:11 ERROR payment-gateway timeout after 30000 ms (order 88121)"
    original = "\n".join(lines) + "\n"
    path = tmp_path / "tool-output.log"
    path.write_text(original, "utf-8")
    home_a, home_b = tmp_path / "worker-a", tmp_path / "worker-b"

    # worker A is this process, worker B a separate process; each has its own home
    monkeypatch.setenv("HEADROOM_HOME", str(home_a))
    monkeypatch.setenv("HEADROOM_CHROMA_URL", chroma_url)
    c = compress(path.read_text("utf-8"), kind="log", config=HeadroomConfig(max_input_bytes=4096))
    assert c.ref and c.ref in c.text
    read = _worker(home_b, chroma_url, _READER, c.ref, "payment gateway timeout")

    assert read["whole"] == original
    assert "ERROR payment-gateway timeout after 30000 ms (order 88121)" in read["query"]
    assert (
        read["other_namespace"].startswith("[headroom: ") and "INFO" not in read["other_namespace"]
    )
    # the originals live in the server, not in either worker's home
    assert not (home_a / "ccr.sqlite3").exists() and not (home_b / "ccr.sqlite3").exists()
    assert HeadroomConfig().chroma_url == chroma_url


def test_server_store_keeps_bytes_namespaces_and_ttl(chroma_url: str) -> None:
    store = open_store(HeadroomConfig(chroma_url=chroma_url))
    assert isinstance(store, ChromaServerStore)
    now = time.time()
    samples = [
        (b"\x00\xff\xfe raw bytes", "bytes"),
        ("lone \ud800 surrogate".encode("utf-8", "surrogatepass"), "utf-8-surrogatepass"),
        ("plain é 漢字\r\n".encode(), "utf-8"),
    ]
    for i, (data, encoding) in enumerate(samples):
        ref = f"hr_{'b' * 19}{i}"
        store.put(StoredOriginal(ref, "ns-a", data, encoding, "text", now, now + 60))
        got = store.get(ref, "ns-a")
        assert (got.data, got.encoding) == (data, encoding)
        with pytest.raises(KeyError):
            store.get(ref, "ns-b")
    store.put(StoredOriginal("hr_" + "c" * 20, "ns-a", b"old", "utf-8", "text", now, now - 1))
    with pytest.raises(KeyError):
        store.get("hr_" + "c" * 20, "ns-a")
    assert len(store.recent("ns-a", 2)) == 2
    store.close()


def test_server_store_evicts_expired_then_oldest_over_the_cap(chroma_url: str) -> None:
    store = ChromaServerStore(chroma_url, max_bytes=1024 * 1024, collection="headroom_evict_test")
    now = time.time()
    blob = b"x" * (300 * 1024)
    for i in range(5):
        store.put(
            StoredOriginal(f"hr_{'d' * 19}{i}", "ns", blob, "utf-8", "text", now + i, now + 60)
        )
    store.put(StoredOriginal("hr_" + "e" * 20, "ns", b"gone", "utf-8", "text", now, now - 5))
    store.evict()
    assert store.total_bytes() <= 1024 * 1024
    with pytest.raises(KeyError):
        store.get(f"hr_{'d' * 19}0", "ns")  # the oldest went first
    assert store.get(f"hr_{'d' * 19}4", "ns").data == blob
    store.close()


def test_search_and_query_work_in_server_mode(chroma_url: str) -> None:
    config = HeadroomConfig(chroma_url=chroma_url, namespace="search-test", max_input_bytes=2048)
    text = (
        "\n".join(f"line {i}: cache miss for key user:{i}" for i in range(400))
        + "\nFATAL out of file descriptors\n"
    )
    c = compress(text, kind="log", config=config)
    assert c.ref
    assert "FATAL out of file descriptors" in retrieve(
        c.ref, query="file descriptors", config=config
    )
    assert f"--- {c.ref} " in search("out of file descriptors", config=config)


_lines = st.lists(
    st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=60),
    min_size=1,
    max_size=40,
)


@pytest.mark.parametrize("backend", ["embedded", "server"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(lines=_lines, repeat=st.integers(30, 80), sep=st.sampled_from(["\n", "\r\n", ""]))
def test_retrieve_of_compress_is_the_original(
    backend: str, chroma_url: str, lines: list[str], repeat: int, sep: str
) -> None:
    """``retrieve(compress(x).ref) == x`` byte-exact whenever a ref is given."""
    url = chroma_url if backend == "server" else None
    config = HeadroomConfig(chroma_url=url, max_input_bytes=1024, min_tokens=20)
    x = sep.join(lines * repeat)
    c = compress(x, config=config)
    assume(c.ref is not None)
    assert c.ref is not None
    assert retrieve(c.ref, config=config) == x
    assert fetch_original(c.ref, config=config).value() == x


@pytest.mark.parametrize("backend", ["embedded", "server"])
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(data=st.binary(min_size=1, max_size=3000))
def test_bytes_come_back_byte_exact(backend: str, chroma_url: str, data: bytes) -> None:
    url = chroma_url if backend == "server" else None
    config = HeadroomConfig(chroma_url=url, max_input_bytes=1024, min_tokens=0)
    c = compress(data, config=config)
    assume(c.ref is not None)
    assert c.ref is not None
    assert fetch_original(c.ref, config=config).value() == data


def test_concurrent_processes_and_threads_lose_nothing(chroma_url: str) -> None:
    """A bounded run of ``benchmarks/ccr_load.py`` on both backends: every original intact."""
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "ccr_load.py"),
        "--processes=2",
        "--threads=2",
        "--ops=8",
        "--backend=both",
        f"--chroma-url={chroma_url}",
        "--no-write",
        "--json",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    results = json.loads(out.stdout)
    assert [r["backend"] for r in results] == ["embedded", "server"]
    for result in results:
        assert result["worker_exit_codes"] == [0, 0]
        assert result["stored"] == 2 * 2 * 8
        assert result["distinct_refs"] == result["stored"]
        assert result["read_back_failures"] == 0
        assert result["lost_or_corrupted"] == 0
