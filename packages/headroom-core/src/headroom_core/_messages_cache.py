"""The compression cache of ``compress_messages``: one bounded, process-wide LRU.

It memoises each tool result's compressed bytes, keyed by a hash of the content, the
compression context (query, tool name, path hint) and the config fingerprint, so a result
that appears in every later request costs one hash instead of a compression, and stays
byte-identical within the process even if the compressors change underneath (a reload, a
model-dependent path). Across processes the bytes are the same because ``compress`` is
deterministic; the cache is a speed-up there, never the source of truth.

It also remembers hashes of the texts it produced, so headroom output fed back as input is
recognised and never compressed a second time.

Bounds: ``MAX_ENTRIES`` entries and ``MAX_CHARS`` characters of cached text (whichever is
reached first evicts the least recently used entries).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

#: Most entries kept (results plus output hashes).
MAX_ENTRIES = 4096
#: Most characters of compressed text kept.
MAX_CHARS = 32 * 1024 * 1024


@dataclass(frozen=True)
class CachedResult:
    """One tool result as compressed earlier; ``text`` is ``None`` when it passed through.

    ``store`` is the store that holds the original behind ``ref``: a hit is only valid for
    that same store object.
    """

    text: str | None
    kind: str
    original_tokens: int
    compressed_tokens: int
    ref: str | None
    store: weakref.ReferenceType[Any] | None
    #: ``time.monotonic()`` after which the entry is recomputed (its original's TTL refreshed).
    expires: float = 0.0


def digest(*parts: str) -> str:
    """A collision-resistant key for ``parts`` (length-prefixed, so boundaries count)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class CompressionCache:
    """Thread-safe LRU of compressed results and of hashes of headroom's own outputs."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._items: OrderedDict[str, CachedResult | None] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, store: Any) -> CachedResult | None:
        """The result for ``key`` if it was made with ``store`` (whose copy holds the ref)."""
        with self._lock:
            hit = self._items.get("r" + key)
            if hit is None:
                return None
            if hit.ref is not None and (hit.store is None or hit.store() is not store):
                return None
            self._items.move_to_end("r" + key)
            return hit

    def put(self, key: str, result: CachedResult) -> None:
        with self._lock:
            self._set("r" + key, result)
            if result.text is not None:
                self._set("o" + digest(result.text), None)
            self._evict()

    def is_output(self, text_digest: str) -> bool:
        """Whether a text with this digest is one this cache handed out."""
        with self._lock:
            if ("o" + text_digest) in self._items:
                self._items.move_to_end("o" + text_digest)
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def _set(self, key: str, value: CachedResult | None) -> None:
        old = self._items.pop(key, None)
        if old is not None and old.text is not None:
            self._chars -= len(old.text)
        self._items[key] = value
        if value is not None and value.text is not None:
            self._chars += len(value.text)

    def _evict(self) -> None:
        while self._items and (len(self._items) > self.max_entries or self._chars > self.max_chars):
            _, old = self._items.popitem(last=False)
            if old is not None and old.text is not None:
                self._chars -= len(old.text)


#: The process-wide cache ``compress_messages`` uses unless given another one.
MESSAGE_CACHE = CompressionCache()
