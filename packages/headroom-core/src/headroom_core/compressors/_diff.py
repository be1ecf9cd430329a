"""Diff compressor (baseline: passes the text through unchanged)."""

from __future__ import annotations

from typing import ClassVar

from ._base import CompressContext, CompressorResult


class DiffCompressor:
    kind: ClassVar[str] = "diff"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        return CompressorResult(text, ("baseline: unchanged",))
