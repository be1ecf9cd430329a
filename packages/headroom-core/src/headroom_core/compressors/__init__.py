"""Compressor registry: one class per content kind.

Adding a kind is adding a module with a ``Compressor`` class and one line in
``SUPPORTED_COMPRESSORS``.
"""

from __future__ import annotations

from .._exceptions import ConfigError
from ._base import CompressContext, Compressor, CompressorResult
from ._code import CodeCompressor
from ._diff import DiffCompressor
from ._json import JSONCompressor
from ._log import LogCompressor
from ._search import SearchCompressor
from ._text import TextCompressor

SUPPORTED_COMPRESSORS: dict[str, type[Compressor]] = {
    "json": JSONCompressor,
    "search": SearchCompressor,
    "log": LogCompressor,
    "code": CodeCompressor,
    "diff": DiffCompressor,
    "text": TextCompressor,
}

_instances: dict[str, Compressor] = {}


def get_compressor(kind: str) -> Compressor:
    """The compressor for ``kind`` (instances are stateless, so one per kind is shared)."""
    try:
        cls = SUPPORTED_COMPRESSORS[kind]
    except KeyError:
        raise ConfigError(
            f"unknown kind {kind!r}; expected one of {', '.join(SUPPORTED_COMPRESSORS)}"
        ) from None
    inst = _instances.get(kind)
    if inst is None:
        inst = _instances[kind] = cls()
    return inst


__all__ = [
    "SUPPORTED_COMPRESSORS",
    "CompressContext",
    "Compressor",
    "CompressorResult",
    "get_compressor",
]
