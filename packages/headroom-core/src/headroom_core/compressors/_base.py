"""The compressor protocol and the context every compressor receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from .._config import HeadroomConfig
from .._markers import format_marker


@dataclass(frozen=True)
class CompressContext:
    """Everything a compressor may use besides the text itself.

    ``ref`` is where the original is (or will be) stored: every marker must carry it.
    ``budget`` is the lossy stage's token target; lossless steps ignore it.
    ``parsed`` is the text's JSON value when kind detection already parsed it (a dict or
    list), else None; compressors of JSON input may use it instead of parsing again. It
    belongs to this call alone, so a compressor may change it in place.
    """

    ref: str
    config: HeadroomConfig
    count_tokens: Callable[[str], int]
    original_tokens: int
    budget: int
    query: str | None = None
    tool: str | None = None
    path: str | None = None
    language: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    parsed: Any = field(default=None, repr=False, compare=False)

    def marker(self, count: int, unit: str, detail: str | None = None) -> str:
        """A marker for ``count`` dropped ``unit`` carrying this input's ref."""
        return format_marker(count, unit, self.ref, detail)


@dataclass(frozen=True)
class CompressorResult:
    """A compressor's output: the text and what it did (for ``Compression.notes``).

    ``tokens`` is the exact count of ``text`` with ``ctx.count_tokens`` when the compressor
    already has it (so it is not counted twice), else None.
    """

    text: str
    notes: tuple[str, ...] = ()
    language: str | None = None
    tokens: int | None = None


class Compressor(Protocol):
    """One content kind. Implementations are stateless and thread-safe.

    ``compress`` may raise; ``headroom_core.compress`` catches everything and passes the
    original through, so a compressor should fail loudly rather than guess.
    """

    kind: ClassVar[str]

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult: ...


class Prepared(Protocol):
    """A compressor's work that needed no budget, waiting for it (see ``Preparing``)."""

    def finish(self, ctx: CompressContext) -> CompressorResult: ...


@runtime_checkable
class Preparing(Protocol):
    """A compressor with a first stage that needs no budget (JSON's lossless stage).

    ``headroom_core.compress`` runs ``prepare`` while a waiting thread counts the input's
    tokens, then ``finish`` with the budget that count gives. ``prepare`` reads neither
    ``ctx.budget`` nor ``ctx.original_tokens`` (both are 0 there); it may count its own
    output's tokens. ``compress(text, ctx)`` is ``prepare(text, ctx).finish(ctx)``.
    """

    def prepare(self, text: str, ctx: CompressContext) -> Prepared: ...
