"""``headroom mcp wrap -- CMD``: an MCP proxy that compresses another server's tool results.

The proxy starts the wrapped server as a subprocess (stdio), forwards every request to it,
and changes only two things: ``tools/list`` gains ``headroom_retrieve``, and the text
content of each successful ``tools/call`` result is compressed (the original goes to the
CCR store under the ref in the markers). When a result's text is compressed, its
``structured_content`` (the same data again, in MCP's structured form) is dropped, and so
is the ``output_schema`` of the tools, since a client must not validate a result against a
schema its structured part no longer has; everything else passes through unchanged.
"""

from __future__ import annotations

import os
from typing import Any

from .._config import HeadroomConfig
from .._tool import (
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    RETRIEVE_TOOL_PARAMETERS,
    retrieve_from_arguments,
)
from ..store import CCRStore
from ._deps import require_mcp
from ._results import compress_call_result
from ._stats import CompressionStats


def build_proxy(
    upstream: Any,
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    stats: CompressionStats | None = None,
) -> Any:
    """A low-level ``mcp`` ``Server`` that forwards to ``upstream`` (a connected ``mcp.Client``)."""
    require_mcp()
    import mcp_types as types
    from mcp.server.lowlevel import Server

    counters = stats if stats is not None else CompressionStats()
    caps = upstream.server_capabilities
    retrieve_tool = types.Tool(
        name=RETRIEVE_TOOL_NAME,
        description=RETRIEVE_TOOL_DESCRIPTION,
        input_schema=RETRIEVE_TOOL_PARAMETERS,
    )

    async def list_tools(ctx: Any, params: Any) -> Any:
        cursor = getattr(params, "cursor", None)
        page = await upstream.list_tools(cursor=cursor)
        tools = [t.model_copy(update={"output_schema": None}) for t in page.tools]
        if cursor is None:
            tools.append(retrieve_tool)
        return types.ListToolsResult(tools=tools, next_cursor=page.next_cursor)

    async def call_tool(ctx: Any, params: Any) -> Any:
        arguments = dict(params.arguments or {})
        if params.name == RETRIEVE_TOOL_NAME:
            counters.add_retrieval()
            text = retrieve_from_arguments(arguments, config=config, store=store)
            failed = not isinstance(arguments.get("ref"), str)
            return types.CallToolResult(content=[types.TextContent(text=text)], is_error=failed)
        result = await upstream.call_tool(params.name, arguments)
        return compress_call_result(
            result,
            tool=params.name,
            arguments=arguments,
            config=config,
            store=store,
            stats=counters,
        )

    handlers: dict[str, Any] = {"on_list_tools": list_tools, "on_call_tool": call_tool}
    if caps.prompts is not None:

        async def list_prompts(ctx: Any, params: Any) -> Any:
            return await upstream.list_prompts(cursor=getattr(params, "cursor", None))

        async def get_prompt(ctx: Any, params: Any) -> Any:
            return await upstream.get_prompt(params.name, params.arguments)

        handlers.update(on_list_prompts=list_prompts, on_get_prompt=get_prompt)
    if caps.resources is not None:

        async def list_resources(ctx: Any, params: Any) -> Any:
            return await upstream.list_resources(cursor=getattr(params, "cursor", None))

        async def list_templates(ctx: Any, params: Any) -> Any:
            return await upstream.list_resource_templates(cursor=getattr(params, "cursor", None))

        async def read_resource(ctx: Any, params: Any) -> Any:
            return await upstream.read_resource(params.uri)

        handlers.update(
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
        )
    info = upstream.server_info
    name = f"headroom+{info.name}" if info is not None else "headroom-proxy"
    return Server(name, instructions=upstream.instructions, **handlers)


async def run_wrap(
    command: list[str],
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> None:
    """Start ``command`` as the wrapped server and serve the proxy on this process's stdio."""
    require_mcp()
    if not command:
        raise ValueError("give the command that starts the MCP server to wrap, after --")
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.server.stdio import stdio_server

    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(params) as upstream:
        server = build_proxy(upstream, config=config, store=store)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
