"""Per-call savings records shared by the tool wrapper, the input filter and the run hooks."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from headroom_core import CCRStore, Compression, CompressionRecord, HeadroomConfig, compress

#: The record of one tool output (the core's ``CompressionRecord``).
CallRecord = CompressionRecord

#: How many recent compressions are remembered for hooks to pick up by tool call id. A
#: bounded cache: a hook that never asks does not make it grow.
_RECENT_LIMIT = 1024


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


def compress_recorded(
    text: str,
    *,
    tool: str,
    call_id: str | None,
    query: str | None,
    config: HeadroomConfig | None,
    store: CCRStore | None,
) -> Compression:
    """``compress`` one tool output, leaving its record for ``HeadroomRunHooks``."""
    started = time.perf_counter()
    result = compress(text, query=query, tool=tool, config=config, store=store)
    seconds = time.perf_counter() - started
    RECENT_CALLS.put(CallRecord.of(result, tool=tool, call_id=call_id, seconds=seconds))
    return result
