"""Run hooks that record what headroom saved on each tool call (observer only)."""

from __future__ import annotations

import threading
from typing import Any

from agents import Agent, RunContextWrapper, RunHooks
from agents.tool import Tool

from headroom_core import SavingsSummary, summarize

from ._records import RECENT_CALLS, CallRecord


class HeadroomRunHooks(RunHooks[Any]):
    """Collects a ``CallRecord`` per tool call that headroom compressed or passed on.

    Pass it as ``Runner.run(..., hooks=HeadroomRunHooks())``; it changes nothing in the
    run. Records come from tools wrapped with ``compress_tool`` (matched by tool call id)
    and from ``make_input_filter(hooks=...)``.
    """

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._lock = threading.Lock()

    @property
    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def record(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    def summary(self) -> SavingsSummary:
        """Totals over the records so far."""
        return summarize(self.records)

    async def on_tool_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool, result: object
    ) -> None:
        call_id = getattr(context, "tool_call_id", None)
        if isinstance(call_id, str):
            found = RECENT_CALLS.pop(call_id)
            if found is not None:
                self.record(found)
