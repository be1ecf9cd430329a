"""The embedded SQLite store: namespaces, TTL, size cap, concurrent writers."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from headroom_core import RefNotFoundError
from headroom_core._markers import REF_PATTERN
from headroom_core.store import SQLiteStore, StoredOriginal, load_secret, make_ref


def _original(ref: str, data: bytes, *, ns: str = "ns", ttl: float = 60.0) -> StoredOriginal:
    now = time.time()
    return StoredOriginal(ref, ns, data, "utf-8", "text", now, now + ttl)


def test_namespaces_are_separate_and_expired_refs_are_gone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ccr.sqlite3")
    store.put(_original("hr_" + "a" * 20, b"tenant a"))
    assert store.get("hr_" + "a" * 20, "ns").data == b"tenant a"
    with pytest.raises(RefNotFoundError):
        store.get("hr_" + "a" * 20, "other")
    store.put(_original("hr_" + "b" * 20, b"short lived", ttl=-1))
    with pytest.raises(RefNotFoundError):
        store.get("hr_" + "b" * 20, "ns")
    assert [o.ref for o in store.recent("ns")] == ["hr_" + "a" * 20]
    store.close()


def test_least_recently_used_are_evicted_over_the_cap(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ccr.sqlite3", max_bytes=1024 * 1024)
    blob = b"x" * (300 * 1024)
    refs = [f"hr_{c * 20}" for c in "cdefg"]
    for ref in refs[:3]:
        store.put(_original(ref, blob))
        time.sleep(0.01)
    store.get(refs[0], "ns")  # used recently: survives the next evictions
    for ref in refs[3:]:
        time.sleep(0.01)
        store.put(_original(ref, blob))  # a large put checks the cap at once
    assert store.total_bytes() <= 1024 * 1024
    assert store.get(refs[0], "ns").data == blob
    assert store.get(refs[4], "ns").data == blob
    with pytest.raises(RefNotFoundError):
        store.get(refs[1], "ns")
    store.close()


def test_concurrent_threads_lose_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ccr.sqlite3")
    errors: list[BaseException] = []

    def write(t: int) -> None:
        try:
            for i in range(40):
                ref = f"hr_{t:02d}{i:02d}" + "z" * 16
                store.put(_original(ref, f"{t}-{i}".encode() * 100))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for t in range(8):
        for i in range(40):
            ref = f"hr_{t:02d}{i:02d}" + "z" * 16
            assert store.get(ref, "ns").data == f"{t}-{i}".encode() * 100
    store.close()


def test_refs_are_keyed_by_the_home_secret_namespace_and_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEADROOM_SECRET", raising=False)
    secret = load_secret(tmp_path / "a")
    assert load_secret(tmp_path / "a") == secret  # made once, then the same key
    other = load_secret(tmp_path / "b")
    assert other != secret and len(secret) == 32
    data = b'{"id": 1}' * 1000
    ref = make_ref(data, "default", secret)
    assert re.fullmatch(REF_PATTERN, ref)
    assert make_ref(data, "default", secret) == ref  # deterministic
    assert make_ref(data, "default", other) != ref  # unguessable without the key
    assert make_ref(data, "team", secret) != ref
    assert make_ref(data + b" ", "default", secret) != ref
    # namespace and content are length-delimited: moving a byte across gives another ref
    assert make_ref(b"b" + data, "a", secret) != make_ref(data, "ab", secret)
