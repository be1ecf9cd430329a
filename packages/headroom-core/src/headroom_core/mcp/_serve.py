"""``headroom mcp serve``: headroom's compress / retrieve / stats as an MCP server."""

from __future__ import annotations

import json
from typing import Any, Literal

from .._api import compress, retrieve
from .._config import HeadroomConfig
from .._tool import RETRIEVE_TOOL_DESCRIPTION, RETRIEVE_TOOL_NAME
from ..store import CCRStore
from ._deps import require_mcp
from ._stats import CompressionStats

COMPRESS_DESCRIPTION = (
    "Compress a large text (JSON, logs, code, search results, diffs, prose) before reading "
    "it. Returns the compressed text; whatever was left out is marked in place with a ref "
    "that headroom_retrieve turns back into the original or the chunks matching a query."
)
STATS_DESCRIPTION = "Token savings of this headroom server so far, as JSON."

Transport = Literal["stdio", "streamable-http"]


def build_server(
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    stats: CompressionStats | None = None,
) -> Any:
    """An ``mcp`` ``MCPServer`` with ``headroom_compress``, ``headroom_retrieve``, ``headroom_stats``."""
    require_mcp()
    from mcp.server.mcpserver import MCPServer

    counters = stats if stats is not None else CompressionStats()
    server = MCPServer(
        "headroom",
        instructions="Compress large tool outputs and get omitted parts back by ref.",
    )

    @server.tool(
        name="headroom_compress", description=COMPRESS_DESCRIPTION, structured_output=False
    )
    def headroom_compress(
        content: str, query: str | None = None, tool: str | None = None, kind: str | None = None
    ) -> str:
        result = compress(content, query=query, tool=tool, kind=kind, config=config, store=store)
        counters.add(result)
        return result.text

    @server.tool(
        name=RETRIEVE_TOOL_NAME, description=RETRIEVE_TOOL_DESCRIPTION, structured_output=False
    )
    def headroom_retrieve(ref: str, query: str | None = None, max_tokens: int | None = None) -> str:
        counters.add_retrieval()
        return retrieve(ref, query=query, max_tokens=max_tokens, config=config, store=store)

    @server.tool(name="headroom_stats", description=STATS_DESCRIPTION, structured_output=False)
    def headroom_stats() -> str:
        return json.dumps(counters.to_dict(), sort_keys=True)

    return server


def serve(
    transport: Transport = "stdio",
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    config: HeadroomConfig | None = None,
) -> None:
    """Run the server until it is stopped (stdio, or streamable HTTP on ``host:port/mcp``)."""
    server = build_server(config=config)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
