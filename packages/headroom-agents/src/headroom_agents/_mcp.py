"""Compress the tool results of an Agents SDK ``MCPServer``."""

from __future__ import annotations

from typing import Any, TypeVar

from agents.mcp import MCPServer
from mcp.types import CallToolResult, TextContent

from headroom_core import CCRStore, HeadroomConfig, query_from_arguments

from ._records import compress_recorded

S = TypeVar("S", bound=MCPServer)


def compress_mcp_server(
    server: S, *, config: HeadroomConfig | None = None, store: CCRStore | None = None
) -> S:
    """Make ``server`` compress the text content of every tool result it returns.

    The server object itself is returned (so its class, approval policy, guardrails and
    connection handling stay as they are), with ``call_tool`` wrapped on the instance.
    Text content is compressed; images, resources and ``structured_content`` pass through
    (a server with ``use_structured_content=True`` sends the latter to the model: use
    ``headroom_input_filter`` to compress that). Give the agent ``headroom_retrieve_tool()``
    so the model can redeem the markers.
    """
    if getattr(server.call_tool, "__headroom_wrapped__", False):
        return server
    inner = server.call_tool

    async def call_tool(
        tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        result = await inner(tool_name, arguments, meta)
        if result.is_error:
            return result
        query = query_from_arguments(arguments)
        content: list[Any] = []
        changed = False
        for block in result.content:
            if isinstance(block, TextContent):
                c = compress_recorded(
                    block.text,
                    tool=tool_name,
                    call_id=None,
                    query=query,
                    config=config,
                    store=store,
                )
                if c.ref is not None:
                    block = block.model_copy(update={"text": c.text})
                    changed = True
            content.append(block)
        return result.model_copy(update={"content": content}) if changed else result

    call_tool.__headroom_wrapped__ = True  # type: ignore[attr-defined]
    server.call_tool = call_tool  # type: ignore[method-assign]
    return server
