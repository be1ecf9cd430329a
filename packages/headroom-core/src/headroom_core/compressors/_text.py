"""Text compressor (baseline: passes the text through unchanged)."""

from __future__ import annotations

from typing import ClassVar

from ._base import CompressContext, CompressorResult


class TextCompressor:
    kind: ClassVar[str] = "text"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        return CompressorResult(text, ("baseline: unchanged",))
