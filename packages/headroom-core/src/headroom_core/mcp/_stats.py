"""Running totals of what a headroom server compressed (for ``headroom_stats``)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .._records import TokenSavings
from .._types import Compression


@dataclass
class CompressionStats(TokenSavings):
    """Thread-safe counters over the compressions one server process made."""

    calls: int = 0
    compressed_calls: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0
    retrievals: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, result: Compression) -> None:
        with self._lock:
            self.calls += 1
            self.compressed_calls += result.ref is not None
            self.original_tokens += result.original_tokens
            self.compressed_tokens += result.compressed_tokens
            self.kinds[result.kind] += 1

    def add_retrieval(self) -> None:
        with self._lock:
            self.retrievals += 1

    def to_dict(self) -> dict[str, object]:
        with self._lock:
            return {
                "calls": self.calls,
                "compressed_calls": self.compressed_calls,
                "original_tokens": self.original_tokens,
                "compressed_tokens": self.compressed_tokens,
                "saved_tokens": self.saved_tokens,
                "savings": round(self.savings, 4),
                "retrievals": self.retrievals,
                "kinds": dict(sorted(self.kinds.items())),
            }
