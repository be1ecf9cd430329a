"""Compressing the text of an MCP tool result: shared by the proxy and the adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._api import compress
from .._config import HeadroomConfig
from .._query import query_from_arguments
from ..store import CCRStore
from ._deps import require_mcp
from ._stats import CompressionStats

R = TypeVar("R")


def compress_call_result(
    result: R,
    *,
    tool: str,
    arguments: Mapping[str, Any] | None = None,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    stats: CompressionStats | None = None,
    keep_structured: bool = False,
) -> R:
    """``result`` (a ``CallToolResult``) with each text content block compressed.

    The relevance query is the call's ``arguments``. Errors, other values and results where
    nothing shrank come back as they are (the same object); images and resources always
    pass through. Once text is compressed, ``structured_content`` (the same data again) is
    dropped unless ``keep_structured``: a client would otherwise read the whole output
    there, or validate it against a schema the text no longer has.
    """
    require_mcp()
    import mcp_types as types

    if not isinstance(result, types.CallToolResult) or result.is_error:
        return result
    query = query_from_arguments(arguments)
    content: list[Any] = []
    changed = False
    for block in result.content:
        if isinstance(block, types.TextContent):
            c = compress(block.text, query=query, tool=tool, config=config, store=store)
            if stats is not None:
                stats.add(c)
            if c.ref is not None:
                block = block.model_copy(update={"text": c.text})
                changed = True
        content.append(block)
    if not changed:
        return result
    update: dict[str, Any] = {"content": content}
    if not keep_structured:
        update["structured_content"] = None
    return result.model_copy(update=update)
