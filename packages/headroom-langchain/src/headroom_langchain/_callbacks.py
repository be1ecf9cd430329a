"""A callback handler that records what headroom did on each tool call."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

import headroom_core
from headroom_core import SavingsSummary, summarize

from ._compress import COMPRESS_RUN_NAME


@dataclass(frozen=True)
class CompressionRecord(headroom_core.CompressionRecord):
    """The core's record of one tool output, with the agent run's tags and metadata.

    ``tags`` and ``metadata`` are LangSmith's run tags and metadata (e.g. ``thread_id``),
    so records can be grouped like traces.
    """

    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def tool_call_id(self) -> str | None:
        return self.call_id

    @property
    def latency_ms(self) -> float:
        return round((self.seconds or 0.0) * 1000, 3)


class HeadroomCallbackHandler(BaseCallbackHandler):
    """Collect a ``CompressionRecord`` per compressed tool output; summarise them.

    Pass it like any handler (``config={"callbacks": [handler]}``) to an agent or graph
    that uses ``HeadroomMiddleware``, ``HeadroomRequestMiddleware`` or ``compress_tools``.
    Thread-safe.
    """

    run_inline = True  # cheap bookkeeping; keeps records in call order under asyncio

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[UUID, tuple[tuple[str, ...], dict[str, Any]]] = {}
        self._records: list[CompressionRecord] = []

    @property
    def records(self) -> list[CompressionRecord]:
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._pending.clear()

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any] | Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("name") != COMPRESS_RUN_NAME:
            return
        with self._lock:
            self._pending[run_id] = (tuple(tags or ()), dict(metadata or {}))

    def on_chain_end(self, outputs: dict[str, Any] | Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            context = self._pending.pop(run_id, None)
            if context is None or not isinstance(outputs, dict):
                return
            tags, metadata = context
            self._records.append(
                CompressionRecord(
                    tool=outputs.get("tool"),
                    call_id=outputs.get("tool_call_id"),
                    kind=outputs.get("kind"),
                    original_tokens=int(outputs.get("original_tokens") or 0),
                    compressed_tokens=int(outputs.get("compressed_tokens") or 0),
                    ref=outputs.get("ref"),
                    seconds=float(outputs.get("latency_ms") or 0.0) / 1000,
                    tags=tags,
                    metadata=metadata,
                )
            )

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._pending.pop(run_id, None)

    def summary(self) -> dict[str, Any]:
        """Totals over all records, and per tool: calls, tokens before/after, savings, latency."""
        records = self.records
        tools: dict[str, list[CompressionRecord]] = {}
        for r in records:
            tools.setdefault(r.tool or "", []).append(r)
        by_tool = {name: _as_dict(summarize(rs), refs=False) for name, rs in tools.items()}
        return {**_as_dict(summarize(records)), "by_tool": by_tool}


def _as_dict(summary: SavingsSummary, *, refs: bool = True) -> dict[str, Any]:
    """The core summary in this handler's terms: latency in milliseconds."""
    figures = {k: v for k, v in summary.to_dict().items() if k not in ("seconds", "refs")}
    figures["latency_ms"] = round(summary.seconds * 1000, 3)
    if refs:
        figures["refs"] = list(summary.refs)
    return figures
