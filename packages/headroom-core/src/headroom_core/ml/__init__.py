"""Opt-in model-based compression (the ``headroom-core[ml]`` extra).

Nothing here is imported by the default code paths; importing it without torch and
transformers installed raises an ``ImportError`` that names the extra.
"""

from __future__ import annotations

from ._token_classifier import (
    DEFAULT_MUST_KEEP,
    TokenClassifierCompressor,
    WordKeepResult,
    clear_model_cache,
)

__all__ = [
    "DEFAULT_MUST_KEEP",
    "TokenClassifierCompressor",
    "WordKeepResult",
    "clear_model_cache",
]
