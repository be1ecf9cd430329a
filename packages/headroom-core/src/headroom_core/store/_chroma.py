"""Server mode: originals (and the chunk index) live in a Chroma server shared by all workers.

Selected with ``HEADROOM_CHROMA_URL`` or ``HeadroomConfig.chroma_url`` (``http://host:port``).
Each original is one record of the ``headroom_originals`` collection, id
``<namespace>/<ref>``: the text itself as the document (base64 for bytes and lone
surrogates), everything else as metadata. Records carry a 1-d placeholder vector so Chroma
never computes an embedding. An upsert of one record is atomic on the server, so concurrent
writers on any host cannot tear an original; the same ref always holds the same bytes.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any
from urllib.parse import urlsplit

from .._exceptions import ConfigError, RefNotFoundError, StoreError, missing_extra
from ._base import StoredOriginal, now

ORIGINALS = "headroom_originals"
_PLACEHOLDER = [0.0]
_EVICT_EVERY = 64
_TEXT_ENCODINGS = ("utf-8",)
#: Seconds before a request to the server is abandoned (the call then fails open).
REQUEST_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0


def connect(url: str) -> Any:
    """A Chroma ``HttpClient`` for ``http(s)://host:port`` (telemetry off)."""
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:
        raise missing_extra("chromadb", "chroma") from exc
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"chroma_url must look like http://host:port, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(
            host=parts.hostname,
            port=port,
            ssl=parts.scheme == "https",
            settings=Settings(anonymized_telemetry=False),
        )
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
        raise StoreError(f"cannot reach the Chroma server at {url}: {exc}") from exc
    # Chroma's HTTP session never times out; a stalled server must not hang an agent
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        import httpx

        session.timeout = httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT)
    return client


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def shared_client(url: str) -> Any:
    """The process's client for the server at ``url``: one connection pool per server.

    A documented cache: Chroma clients of one server share state that ``close()`` does not
    fully release, so each process opens one per URL and keeps it for its lifetime.
    """
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = connect(url)
        return client


def _record_id(namespace: str, ref: str) -> str:
    return f"{namespace}/{ref}"


class ChromaServerStore:
    """Originals in a Chroma server: one store for many workers on many hosts."""

    def __init__(
        self, url: str, *, max_bytes: int = 2 * 1024**3, collection: str = ORIGINALS
    ) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.client = shared_client(url)
        self._lock = threading.Lock()
        self._puts = 0
        try:
            self._col = self.client.get_or_create_collection(
                collection, embedding_function=None, metadata={"hnsw:space": "l2"}
            )
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {url}: {exc}") from exc

    def put(self, original: StoredOriginal) -> None:
        if original.encoding in _TEXT_ENCODINGS:
            document, packed = original.data.decode("utf-8"), False
        else:
            document, packed = base64.b64encode(original.data).decode("ascii"), True
        t = now()
        meta: dict[str, str | int | float | bool] = {
            "namespace": original.namespace,
            "ref": original.ref,
            "encoding": original.encoding,
            "kind": original.kind,
            "size": original.size,
            "created": original.created or t,
            "expires": original.expires,
            "base64": packed,
            "meta": original.meta_json(),
        }
        try:
            self._col.upsert(
                ids=[_record_id(original.namespace, original.ref)],
                documents=[document],
                embeddings=[_PLACEHOLDER],
                metadatas=[meta],
            )
        except Exception as exc:
            raise StoreError(f"cannot write to the Chroma store: {exc}") from exc
        with self._lock:
            self._puts += 1
            due = self._puts % _EVICT_EVERY == 0
        if due:
            self.evict()

    def get(self, ref: str, namespace: str) -> StoredOriginal:
        try:
            got = self._col.get(
                ids=[_record_id(namespace, ref)], include=["documents", "metadatas"]
            )
        except Exception as exc:
            raise StoreError(f"cannot read the Chroma store: {exc}") from exc
        if not got["ids"]:
            raise RefNotFoundError(f"ref {ref} is unknown or expired")
        original = self._decode(got["documents"][0], got["metadatas"][0])
        if original.expires < now():
            raise RefNotFoundError(f"ref {ref} is unknown or expired")
        return original

    @staticmethod
    def _decode(document: str, meta: Any) -> StoredOriginal:
        data = base64.b64decode(document) if meta["base64"] else document.encode("utf-8")
        return StoredOriginal(
            str(meta["ref"]),
            str(meta["namespace"]),
            data,
            str(meta["encoding"]),
            str(meta["kind"]),
            float(meta["created"]),
            float(meta["expires"]),
            json.loads(str(meta["meta"])),
        )

    def recent(self, namespace: str, limit: int = 20) -> list[StoredOriginal]:
        where: Any = {"$and": [{"namespace": namespace}, {"expires": {"$gte": now()}}]}
        try:
            got = self._col.get(where=where, include=["metadatas"])
        except Exception as exc:
            raise StoreError(f"cannot read the Chroma store: {exc}") from exc
        newest = sorted(
            zip(got["ids"], got["metadatas"], strict=True),
            key=lambda im: (-float(im[1]["created"]), im[0]),
        )[:limit]
        out: list[StoredOriginal] = []
        for _id, meta in newest:
            try:
                out.append(self.get(str(meta["ref"]), namespace))
            except RefNotFoundError:
                continue  # expired or evicted between the two reads
        return out

    def total_bytes(self) -> int:
        got = self._col.get(include=["metadatas"])
        return sum(int(m["size"]) for m in got["metadatas"])

    def evict(self) -> int:
        """Delete expired originals, then the oldest ones while over the size cap."""
        try:
            expired = self._col.get(where={"expires": {"$lt": now()}}, include=[])
            if expired["ids"]:
                self._col.delete(ids=expired["ids"])
            got = self._col.get(include=["metadatas"])
            total = sum(int(m["size"]) for m in got["metadatas"])
            doomed: list[str] = []
            if total > self.max_bytes:
                target = int(self.max_bytes * 0.9)
                by_age = sorted(
                    zip(got["ids"], got["metadatas"], strict=True),
                    key=lambda im: float(im[1]["created"]),
                )
                for rid, meta in by_age:
                    if total <= target:
                        break
                    doomed.append(rid)
                    total -= int(meta["size"])
                self._col.delete(ids=doomed)
        except Exception:  # eviction is housekeeping; a later put retries it
            return 0
        return len(expired["ids"]) + len(doomed)

    def close(self) -> None:
        """Nothing to release: the client is shared by the process (``shared_client``)."""
