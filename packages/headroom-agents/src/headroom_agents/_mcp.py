"""Compress the tool results of an Agents SDK ``MCPServer``."""

from __future__ import annotations

from typing import Any, TypeVar

from agents.mcp import MCPServer
from mcp.types import CallToolResult

from headroom_core import CCRStore, HeadroomConfig
from headroom_core.mcp import compress_call_result

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
        return compress_call_result(
            result,
            tool=tool_name,
            arguments=arguments,
            config=config,
            store=store,
            keep_structured=True,
        )

    call_tool.__headroom_wrapped__ = True  # type: ignore[attr-defined]
    server.call_tool = call_tool  # type: ignore[method-assign]
    return server
