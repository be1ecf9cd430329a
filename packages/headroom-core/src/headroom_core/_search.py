"""Query answers from the CCR store: inside one original (``retrieve``) or across recent ones.

Lexical search always runs; dense vectors join when ``HeadroomConfig.embedding`` names an
embedding function. The first query of a ref indexes it: small originals get their vectors
at once, larger ones in a background thread while queries run lexical-only meanwhile (the
answer's header says which method produced it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ._chunking_types import Chunk
from ._config import HeadroomConfig
from ._exceptions import StoreError
from ._retrieval import (
    DENSE_CANDIDATES,
    ChunkIndex,
    bm25_index,
    bm25_scores_of,
    evidence_bonus,
    gate_overviews,
    get_index,
    header_line,
    lexical_scores,
    rank,
    render_hits,
    select,
)
from ._tokens import get_tokenizer
from .store import CCRStore, StoredOriginal, get_default_store
from .store._index import DenseIndex, chroma_client, embedding_name, resolve_embedding

log = logging.getLogger("headroom")

#: Originals with at most this many chunks get their vectors during the first query
#: (a second or so on CPU with MiniLM); larger ones are embedded in the background.
SYNC_EMBED_CHUNKS = 256
LEXICAL = "lexical BM25; no embedding function configured"

_dense_lock = threading.Lock()
_dense: dict[tuple[str, str, int], DenseIndex] = {}


def _dense_index(config: HeadroomConfig) -> DenseIndex | None:
    embed = resolve_embedding(config.embedding)
    if embed is None:
        return None
    key = (config.chroma_url or str(config.resolved_home), embedding_name(embed), id(embed))
    with _dense_lock:
        index = _dense.get(key)
        if index is None:
            index = DenseIndex(chroma_client(config.resolved_home, config.chroma_url), embed)
            _dense[key] = index
        return index


def _ensure_vectors(dense: DenseIndex, namespace: str, ref: str, index: ChunkIndex) -> bool:
    """Whether the chunk vectors of ``ref`` are ready; starts indexing them if not."""
    model = embedding_name(dense.embed)
    with index.lock:
        state = index.dense.get(model)
        if state is not None:
            return state == "ready"
        index.dense[model] = "building"
    texts = [f"{c.context}\n{c.text}" if c.context else c.text for c in index.chunks]

    def build() -> None:
        try:
            if not dense.has(namespace, ref, len(texts)):
                dense.add(namespace, ref, texts)
            index.dense[model] = "ready"
        except Exception:
            log.exception("headroom: dense indexing of %s failed; lexical search only", ref)
            index.dense[model] = "failed"

    if not texts:
        index.dense[model] = "ready"
    elif len(texts) <= SYNC_EMBED_CHUNKS:
        build()
    else:
        threading.Thread(target=build, name=f"headroom-embed-{ref}", daemon=True).start()
    return index.dense[model] == "ready"


def _method(dense: DenseIndex | None, ready: bool, *, building: bool = True) -> str:
    if dense is None:
        return LEXICAL
    name = embedding_name(dense.embed)
    if ready:
        return f"hybrid: BM25 + dense {name} vectors, reciprocal rank fusion"
    if building:
        return f"lexical BM25; dense {name} index still building"
    return f"lexical BM25; dense {name} index unavailable"


def _room(
    max_tokens: int,
    count: Callable[[str], int],
    *,
    total: int,
    query: str,
    method: str,
    subject: str,
) -> int:
    """Tokens left for chunks once the header line (at its longest) is paid for."""
    header = header_line(total, total, query=query, method=method, subject=subject)
    return max(0, max_tokens - count(header) - 1)


def _safe_dense(config: HeadroomConfig) -> DenseIndex | None:
    try:
        return _dense_index(config)
    except Exception:
        log.exception("headroom: dense index unavailable; lexical search only")
        return None


def query_original(
    original: StoredOriginal,
    query: str,
    *,
    max_tokens: int,
    config: HeadroomConfig,
) -> str:
    """The chunks of one original best matching ``query``, in original order, within budget."""
    count = get_tokenizer(config.model).count
    index = get_index(original.namespace, original.ref, original.as_text(), original.kind)
    lexical = lexical_scores(index, query)
    dense = _safe_dense(config)
    order: list[int] | None = None
    ready = False
    if dense is not None:
        try:
            ready = _ensure_vectors(dense, original.namespace, original.ref, index)
            if ready:
                n = min(DENSE_CANDIDATES, len(index.chunks))
                near = dense.query(original.namespace, original.ref, query, n) if n else []
                order = [i for _, i in near if i < len(index.chunks)]
        except Exception:
            log.exception("headroom: dense query failed; lexical search only")
            ready = False
    ranked = [(original.ref, index.chunks[i]) for i in rank(lexical, order)]
    building = dense is not None and index.dense.get(embedding_name(dense.embed)) == "building"
    method, total = _method(dense, ready, building=building), len(index.chunks)
    room = _room(max_tokens, count, total=total, query=query, method=method, subject=original.ref)
    hits = select(ranked, query, max_tokens=room, count_tokens=count)
    return render_hits(
        hits,
        total=total,
        query=query,
        method=method,
        subject=original.ref,
        matched=len(ranked),
        max_tokens=max_tokens,
    )


def search(
    query: str,
    *,
    max_tokens: int = 1000,
    limit: int = 20,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> str:
    """The chunks best matching ``query`` across the ``limit`` newest originals of a namespace.

    Each chunk is labelled with its ref, so ``retrieve(ref, ...)`` can follow up. Never
    raises: a store failure gives a readable message.
    """
    config = config or HeadroomConfig()
    try:
        originals = (store or get_default_store(config)).recent(config.namespace, limit)
    except (StoreError, OSError) as exc:
        log.exception("headroom: store read failed")
        return f"[headroom: the store could not be read ({type(exc).__name__}); try again]"
    if not query.strip():
        return "[headroom: search needs a query]"
    count = get_tokenizer(config.model).count
    chunks: list[tuple[str, Chunk]] = []
    tokens: list[list[str]] = []
    bonus: list[float] = []
    where: dict[tuple[str, int], int] = {}
    dense = _safe_dense(config)
    ready = dense is not None
    for original in originals:
        index = get_index(original.namespace, original.ref, original.as_text(), original.kind)
        for i, chunk in enumerate(index.chunks):
            where[(original.ref, i)] = len(chunks)
            chunks.append((original.ref, chunk))
        tokens.extend(index.tokens)
        bonus.extend(evidence_bonus(index, query))
        if dense is not None:
            try:
                ready = _ensure_vectors(dense, original.namespace, original.ref, index) and ready
            except Exception:
                log.exception("headroom: dense indexing failed; lexical search only")
                ready = False
    # one BM25 over the chunks of all the originals, so scores compare across them
    combined = bm25_scores_of(bm25_index(tokens), len(tokens), query)
    lexical = gate_overviews(
        [c for _, c in chunks], [a + b for a, b in zip(combined, bonus, strict=True)], query
    )
    order: list[int] | None = None
    if dense is not None and ready and chunks:
        try:
            near = dense.query(config.namespace, None, query, min(DENSE_CANDIDATES, len(chunks)))
            order = [where[k] for k in near if k in where]
        except Exception:
            log.exception("headroom: dense query failed; lexical search only")
            ready = False
    ranked = [chunks[i] for i in rank(lexical, order)]
    method, subject = _method(dense, ready), f"the {len(originals)} most recent originals"
    room = _room(max_tokens, count, total=len(chunks), query=query, method=method, subject=subject)
    hits = select(ranked, query, max_tokens=room, count_tokens=count, multi_ref=True)
    return render_hits(
        hits,
        total=len(chunks),
        query=query,
        method=method,
        subject=subject,
        matched=len(ranked),
        max_tokens=max_tokens,
        multi_ref=True,
    )
