"""Savings as LlamaIndex instrumentation events, and a handler that records them.

Every compression this package performs dispatches one ``HeadroomCompressionEvent`` on the
``headroom_llamaindex`` dispatcher, which propagates to the root dispatcher, so any event
handler (Arize Phoenix, Langfuse, ... or ``HeadroomSavingsHandler``) sees it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent

from headroom_core import Compression, CompressionRecord, SavingsSummary, summarize

dispatcher = get_dispatcher("headroom_llamaindex")

#: The note of ``compress()`` for input that already carries markers: it was counted when
#: it was first compressed (a wrapped tool's output reaching the agent hook).
_ALREADY_COMPRESSED = "passthrough: already compressed"


@dataclass(frozen=True)
class SavingsRecord(CompressionRecord):
    """The core's record of one compression, with what was compressed.

    ``source`` is ``"tool"``, ``"agent"`` or ``"node"``; ``tool`` is the tool's name, and
    for a node ``call_id`` is its id.
    """

    source: str = "tool"

    @property
    def name(self) -> str | None:
        """The tool name, or the node id for a node."""
        return self.call_id if self.source == "node" else self.tool


class HeadroomCompressionEvent(BaseEvent):
    """One tool output or retrieved node went through headroom."""

    source: str = Field(description="What was compressed: 'tool', 'agent' or 'node'.")
    name: str | None = Field(default=None, description="Tool name or node id.")
    kind: str
    original_tokens: int
    compressed_tokens: int
    ref: str | None = Field(default=None, description="CCR ref of the original, if stored.")

    @property
    def saved_tokens(self) -> int:
        return self.record().saved_tokens

    @property
    def savings(self) -> float:
        """Share of tokens saved, 0..1."""
        return self.record().savings

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomCompressionEvent"

    def record(self) -> SavingsRecord:
        """The event as a core record."""
        node = self.source == "node"
        return SavingsRecord(
            tool=None if node else self.name,
            call_id=self.name if node else None,
            kind=self.kind,
            original_tokens=self.original_tokens,
            compressed_tokens=self.compressed_tokens,
            ref=self.ref,
            source=self.source,
        )


def emit(result: Compression, *, source: str, name: str | None) -> None:
    """Dispatch the event for one compression (the dispatcher swallows handler errors)."""
    if _ALREADY_COMPRESSED in result.notes:
        return
    event = HeadroomCompressionEvent(
        source=source,
        name=name,
        kind=result.kind,
        original_tokens=result.original_tokens,
        compressed_tokens=result.compressed_tokens,
        ref=result.ref,
    )
    dispatcher.event(event)


class HeadroomSavingsHandler(BaseEventHandler):
    """Records every ``HeadroomCompressionEvent``; ignores all other events.

    An observer only: it never changes what the model sees. Register it with
    ``get_dispatcher().add_event_handler(handler)`` (the root dispatcher sees every event).
    """

    _records: list[SavingsRecord] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomSavingsHandler"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if not isinstance(event, HeadroomCompressionEvent):
            return
        record = event.record()
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[SavingsRecord]:
        """Every recorded compression, oldest first (a copy)."""
        with self._lock:
            return list(self._records)

    def summary(self) -> SavingsSummary:
        """Totals over the records so far."""
        return summarize(self.records)

    @property
    def original_tokens(self) -> int:
        return self.summary().original_tokens

    @property
    def compressed_tokens(self) -> int:
        return self.summary().compressed_tokens

    @property
    def saved_tokens(self) -> int:
        return self.summary().saved_tokens

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
