"""JSON compressor (baseline: lossless minification)."""

from __future__ import annotations

import json
from typing import ClassVar

from ._base import CompressContext, CompressorResult


class JSONCompressor:
    kind: ClassVar[str] = "json"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        value = json.loads(text)
        return CompressorResult(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")), ("minified",)
        )
