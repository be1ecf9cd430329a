"""The public surface of each package is exactly its ``__all__``."""

from __future__ import annotations

import importlib

import pytest

import headroom_core

EXPECTED_CORE = {
    "DEFAULT_TARGET_RATIOS",
    "MARKER_RE",
    "REF_RE",
    "RETRIEVE_TOOL",
    "RETRIEVE_TOOL_DESCRIPTION",
    "RETRIEVE_TOOL_NAME",
    "RETRIEVE_TOOL_PARAMETERS",
    "AlignedPrefix",
    "CCRStore",
    "CacheAligner",
    "Compression",
    "CompressionRecord",
    "CompressionError",
    "ConfigError",
    "DependencyError",
    "Detection",
    "HeadroomConfig",
    "HeadroomError",
    "Marker",
    "MessageStats",
    "MessagesCompression",
    "PrefixReport",
    "RefNotFoundError",
    "SavingsSummary",
    "SQLiteStore",
    "StoreError",
    "StoredOriginal",
    "Tokenizer",
    "ToolSpec",
    "VolatilePart",
    "__version__",
    "compress",
    "compress_messages",
    "count_tokens",
    "detect_kind",
    "fetch_original",
    "find_markers",
    "format_marker",
    "get_default_store",
    "get_tokenizer",
    "guess_language",
    "open_store",
    "query_for_tool_result",
    "query_from_arguments",
    "retrieve",
    "retrieve_from_arguments",
    "retrieve_tool",
    "search",
    "summarize",
}


def test_core_all_is_pinned() -> None:
    assert set(headroom_core.__all__) == EXPECTED_CORE


@pytest.mark.parametrize(
    "package", ["headroom_core", "headroom_langchain", "headroom_llamaindex", "headroom_agents"]
)
def test_all_names_exist_and_public_modules_are_private(package: str) -> None:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", [])
    for name in names:
        assert hasattr(module, name), f"{package}.{name} is in __all__ but missing"
    public = {n for n in dir(module) if not n.startswith("_")}
    extra = {n for n in public - set(names) if not isinstance(getattr(module, n), type(module))}
    assert not extra, f"{package} exposes names outside __all__: {sorted(extra)}"
