"""CCR store: where every omitted byte is kept, addressed by ref."""

from __future__ import annotations

import threading
from pathlib import Path

from .._config import HeadroomConfig
from .._exceptions import ConfigError
from ._base import CCRStore, StoredOriginal, encode_original, load_secret, make_ref
from ._sqlite import SQLiteStore

__all__ = [
    "CCRStore",
    "SQLiteStore",
    "StoredOriginal",
    "encode_original",
    "get_default_store",
    "load_secret",
    "make_ref",
    "open_store",
]

_default_lock = threading.Lock()
_defaults: dict[tuple[str, str | None], CCRStore] = {}


def open_store(config: HeadroomConfig) -> CCRStore:
    """A new store for ``config``: the Chroma server when ``chroma_url`` is set, else SQLite."""
    if config.chroma_url:
        try:
            from ._chroma import ChromaServerStore
        except ImportError as exc:
            raise ConfigError(f"Chroma server mode is unavailable: {exc}") from exc

        store: CCRStore = ChromaServerStore(config.chroma_url, max_bytes=config.store_max_bytes)
        return store
    return SQLiteStore(Path(config.resolved_home) / "ccr.sqlite3", max_bytes=config.store_max_bytes)


def get_default_store(config: HeadroomConfig | None = None) -> CCRStore:
    """The process-wide store for ``config``'s home (one per home and server URL).

    This is the one documented cache of live objects: opening SQLite per call would cost
    more than compressing.
    """
    config = config or HeadroomConfig()
    key = (str(config.resolved_home), config.chroma_url)
    with _default_lock:
        store = _defaults.get(key)
        if store is None:
            store = open_store(config)
            _defaults[key] = store
        return store


def _reset_default_stores() -> None:
    """Close and forget the process-wide stores (tests switch HEADROOM_HOME)."""
    with _default_lock:
        for store in _defaults.values():
            store.close()
        _defaults.clear()
