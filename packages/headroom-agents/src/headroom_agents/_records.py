"""Per-call savings records shared by the tool wrapper, the input filter and the run hooks."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from headroom_core import Compression

#: How many recent compressions are remembered for hooks to pick up by tool call id. A
#: bounded cache: a hook that never asks does not make it grow.
_RECENT_LIMIT = 1024


@dataclass(frozen=True)
class CallRecord:
    """What headroom did to one tool output.

    ``kind`` and ``seconds`` are None for records from the input filter, which compresses
    a whole model input at once; ``call_id`` is None where the SDK gives none (MCP).
    """

    tool: str
    call_id: str | None
    kind: str | None
    original_tokens: int
    compressed_tokens: int
    ref: str | None
    seconds: float | None

    @property
    def saved_tokens(self) -> int:
        return max(0, self.original_tokens - self.compressed_tokens)

    @classmethod
    def of(cls, tool: str, call_id: str | None, result: Compression, seconds: float) -> CallRecord:
        return cls(
            tool,
            call_id,
            result.kind,
            result.original_tokens,
            result.compressed_tokens,
            result.ref,
            seconds,
        )


class _RecentCalls:
    """Thread-safe, bounded map of tool call id to its record (documented cache)."""

    def __init__(self, limit: int = _RECENT_LIMIT) -> None:
        self._limit = limit
        self._items: OrderedDict[str, CallRecord] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, record: CallRecord) -> None:
        if record.call_id is None:
            return
        with self._lock:
            self._items[record.call_id] = record
            self._items.move_to_end(record.call_id)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def pop(self, call_id: str) -> CallRecord | None:
        with self._lock:
            return self._items.pop(call_id, None)


RECENT_CALLS = _RecentCalls()
