"""A callback handler that records what headroom did on each tool call."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ._compress import COMPRESS_RUN_NAME


@dataclass(frozen=True)
class CompressionRecord:
    """One tool output that went through headroom.

    ``tags`` and ``metadata`` are those of the agent run it belongs to (LangSmith's run
    tags and metadata, e.g. ``thread_id``), so records can be grouped like traces.
    ``ref`` is ``None`` when the output passed through unchanged.
    """

    tool: str | None
    tool_call_id: str | None
    kind: str | None
    original_tokens: int
    compressed_tokens: int
    ref: str | None
    latency_ms: float
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def saved_tokens(self) -> int:
        return max(0, self.original_tokens - self.compressed_tokens)

    @property
    def savings(self) -> float:
        """Share of tokens saved, 0..1."""
        return self.saved_tokens / self.original_tokens if self.original_tokens else 0.0


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
                    tool_call_id=outputs.get("tool_call_id"),
                    kind=outputs.get("kind"),
                    original_tokens=int(outputs.get("original_tokens") or 0),
                    compressed_tokens=int(outputs.get("compressed_tokens") or 0),
                    ref=outputs.get("ref"),
                    latency_ms=float(outputs.get("latency_ms") or 0.0),
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
        return {**_totals(records), "by_tool": _by_tool(records)}


def _totals(records: Sequence[CompressionRecord]) -> dict[str, Any]:
    before = sum(r.original_tokens for r in records)
    after = sum(r.compressed_tokens for r in records)
    latency = sum(r.latency_ms for r in records)
    return {
        "calls": len(records),
        "compressed_calls": sum(1 for r in records if r.ref is not None),
        "original_tokens": before,
        "compressed_tokens": after,
        "saved_tokens": max(0, before - after),
        "savings": round(1 - after / before, 4) if before else 0.0,
        "latency_ms": round(latency, 3),
        "refs": [r.ref for r in records if r.ref is not None],
    }


def _by_tool(records: Sequence[CompressionRecord]) -> dict[str, dict[str, Any]]:
    tools: dict[str, list[CompressionRecord]] = {}
    for r in records:
        tools.setdefault(r.tool or "", []).append(r)
    return {
        name: {k: v for k, v in _totals(rs).items() if k != "refs"} for name, rs in tools.items()
    }
