"""Embedded CCR store: one SQLite file (WAL) under HEADROOM_HOME.

Safe across threads (one connection per thread) and processes on one machine (SQLite
file locking, WAL, a generous busy timeout). Expired rows are unreadable at once and
deleted lazily; when the file holds more than ``max_bytes`` of originals the least
recently used are evicted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path

from .._exceptions import RefNotFoundError, StoreError
from ._base import StoredOriginal, now

_SCHEMA = """
CREATE TABLE IF NOT EXISTS originals (
    namespace   TEXT NOT NULL,
    ref         TEXT NOT NULL,
    data        BLOB NOT NULL,
    encoding    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created     REAL NOT NULL,
    expires     REAL NOT NULL,
    last_access REAL NOT NULL,
    meta        TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (namespace, ref)
);
CREATE INDEX IF NOT EXISTS originals_access ON originals (last_access);
CREATE INDEX IF NOT EXISTS originals_recent ON originals (namespace, created);
"""

_EVICT_EVERY = 64  # puts between size checks: a SUM over the table is cheap but not free


class SQLiteStore:
    """The default store: ``<home>/ccr.sqlite3``."""

    def __init__(self, path: str | Path, *, max_bytes: int = 2 * 1024**3) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._local = threading.local()
        self._puts = 0
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn().executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open CCR store at {self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def put(self, original: StoredOriginal) -> None:
        t = now()
        try:
            self._conn().execute(
                "INSERT INTO originals (namespace, ref, data, encoding, kind, size, created,"
                " expires, last_access, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (namespace, ref) DO UPDATE SET expires = excluded.expires,"
                " last_access = excluded.last_access",
                (
                    original.namespace,
                    original.ref,
                    original.data,
                    original.encoding,
                    original.kind,
                    original.size,
                    original.created or t,
                    original.expires,
                    t,
                    original.meta_json(),
                ),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to CCR store: {exc}") from exc
        with self._lock:
            self._puts += 1
            due = self._puts % _EVICT_EVERY == 0 or original.size > self.max_bytes // 64
        if due:
            self.evict()

    def get(self, ref: str, namespace: str) -> StoredOriginal:
        try:
            row = (
                self._conn()
                .execute(
                    "SELECT data, encoding, kind, created, expires, meta FROM originals"
                    " WHERE namespace = ? AND ref = ?",
                    (namespace, ref),
                )
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read CCR store: {exc}") from exc
        if row is None or row[4] < now():
            raise RefNotFoundError(f"ref {ref} is unknown or expired")
        # a busy writer elsewhere may refuse this; the access time is only an eviction hint
        with contextlib.suppress(sqlite3.OperationalError):
            self._conn().execute(
                "UPDATE originals SET last_access = ? WHERE namespace = ? AND ref = ?",
                (now(), namespace, ref),
            )
        data, encoding, kind, created, expires, meta = row
        return StoredOriginal(
            ref, namespace, bytes(data), encoding, kind, created, expires, json.loads(meta)
        )

    def recent(self, namespace: str, limit: int = 20) -> list[StoredOriginal]:
        rows = (
            self._conn()
            .execute(
                "SELECT ref, data, encoding, kind, created, expires, meta FROM originals"
                " WHERE namespace = ? AND expires >= ? ORDER BY created DESC, ref LIMIT ?",
                (namespace, now(), limit),
            )
            .fetchall()
        )
        return [
            StoredOriginal(r[0], namespace, bytes(r[1]), r[2], r[3], r[4], r[5], json.loads(r[6]))
            for r in rows
        ]

    def total_bytes(self) -> int:
        row = self._conn().execute("SELECT COALESCE(SUM(size), 0) FROM originals").fetchone()
        return int(row[0])

    def evict(self) -> int:
        """Delete expired originals, then least recently used ones over the size cap."""
        conn = self._conn()
        try:
            removed = conn.execute("DELETE FROM originals WHERE expires < ?", (now(),)).rowcount
            total = self.total_bytes()
            if total > self.max_bytes:
                target = int(self.max_bytes * 0.9)
                cur = conn.execute(
                    "SELECT namespace, ref, size FROM originals ORDER BY last_access"
                )
                doomed: list[tuple[str, str]] = []
                for ns, ref, size in cur:
                    if total <= target:
                        break
                    doomed.append((ns, ref))
                    total -= size
                conn.executemany("DELETE FROM originals WHERE namespace = ? AND ref = ?", doomed)
                removed += len(doomed)
        except sqlite3.OperationalError:
            return 0  # another process holds the lock; it will evict
        return removed

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
