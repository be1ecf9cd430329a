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

from headroom_core import Compression

dispatcher = get_dispatcher("headroom_llamaindex")


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
        return max(0, self.original_tokens - self.compressed_tokens)

    @property
    def savings(self) -> float:
        """Share of tokens saved, 0..1."""
        if self.original_tokens <= 0:
            return 0.0
        return self.saved_tokens / self.original_tokens

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomCompressionEvent"


def emit(result: Compression, *, source: str, name: str | None) -> None:
    """Dispatch the event for one compression (the dispatcher swallows handler errors)."""
    event = HeadroomCompressionEvent(
        source=source,
        name=name,
        kind=result.kind,
        original_tokens=result.original_tokens,
        compressed_tokens=result.compressed_tokens,
        ref=result.ref,
    )
    dispatcher.event(event)


@dataclass(frozen=True)
class SavingsRecord:
    """One compression as recorded by ``HeadroomSavingsHandler``."""

    source: str
    name: str | None
    kind: str
    original_tokens: int
    compressed_tokens: int
    ref: str | None

    @property
    def saved_tokens(self) -> int:
        return max(0, self.original_tokens - self.compressed_tokens)


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
        record = SavingsRecord(
            event.source,
            event.name,
            event.kind,
            event.original_tokens,
            event.compressed_tokens,
            event.ref,
        )
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[SavingsRecord]:
        """Every recorded compression, oldest first (a copy)."""
        with self._lock:
            return list(self._records)

    @property
    def original_tokens(self) -> int:
        return sum(r.original_tokens for r in self.records)

    @property
    def compressed_tokens(self) -> int:
        return sum(r.compressed_tokens for r in self.records)

    @property
    def saved_tokens(self) -> int:
        return sum(r.saved_tokens for r in self.records)

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
