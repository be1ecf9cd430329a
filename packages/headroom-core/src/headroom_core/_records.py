"""Per-call savings records and their totals: the figures every adapter reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from ._types import Compression

R = TypeVar("R", bound="CompressionRecord")


class TokenSavings:
    """Saved tokens and their share, from the two counts."""

    original_tokens: int
    compressed_tokens: int

    @property
    def saved_tokens(self) -> int:
        return max(0, self.original_tokens - self.compressed_tokens)

    @property
    def savings(self) -> float:
        """Share of tokens saved, 0..1."""
        return self.saved_tokens / self.original_tokens if self.original_tokens > 0 else 0.0


@dataclass(frozen=True)
class CompressionRecord(TokenSavings):
    """What headroom did to one tool output (or retrieved document).

    ``call_id`` is the tool call's (or document's) id, None where the framework gives
    none. ``kind`` and ``seconds`` are None where they were not measured, e.g. for a whole
    model input compressed at once. ``ref`` is None when the output passed through.
    """

    tool: str | None
    call_id: str | None
    kind: str | None
    original_tokens: int
    compressed_tokens: int
    ref: str | None
    seconds: float | None = None

    @classmethod
    def of(
        cls: type[R],
        compression: Compression,
        *,
        tool: str | None = None,
        call_id: str | None = None,
        seconds: float | None = None,
    ) -> R:
        """The record of one ``compress()`` result."""
        return cls(
            tool,
            call_id,
            compression.kind,
            compression.original_tokens,
            compression.compressed_tokens,
            compression.ref,
            seconds,
        )


@dataclass(frozen=True)
class SavingsSummary(TokenSavings):
    """Totals over records: ``seconds`` sums the measured ones, ``refs`` keeps their order."""

    calls: int = 0
    compressed_calls: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0
    seconds: float = 0.0
    refs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "compressed_calls": self.compressed_calls,
            "original_tokens": self.original_tokens,
            "compressed_tokens": self.compressed_tokens,
            "saved_tokens": self.saved_tokens,
            "savings": round(self.savings, 4),
            "seconds": round(self.seconds, 6),
            "refs": list(self.refs),
        }


def summarize(records: Iterable[CompressionRecord]) -> SavingsSummary:
    """The totals of ``records``."""
    records = list(records)
    refs = tuple(r.ref for r in records if r.ref is not None)
    return SavingsSummary(
        calls=len(records),
        compressed_calls=len(refs),
        original_tokens=sum(r.original_tokens for r in records),
        compressed_tokens=sum(r.compressed_tokens for r in records),
        seconds=sum(r.seconds or 0.0 for r in records),
        refs=refs,
    )
