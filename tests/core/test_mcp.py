"""headroom over MCP, with the real ``mcp`` client: the server and the compressing proxy."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from headroom_core import MARKER_RE, REF_RE, RETRIEVE_TOOL_NAME
from headroom_core.mcp import build_server
from tests.core.mcp_orders_server import orders

SERVER = Path(__file__).with_name("mcp_orders_server.py")
ROOT = Path(__file__).resolve().parents[2]


def text_of(result: object) -> str:
    assert isinstance(result, types.CallToolResult), result
    return "".join(b.text for b in result.content if isinstance(b, types.TextContent))


async def test_server_compresses_retrieves_and_counts() -> None:
    original = json.dumps(orders(), indent=2)
    async with Client(build_server()) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"headroom_compress", RETRIEVE_TOOL_NAME, "headroom_stats"}
        compressed = text_of(
            await client.call_tool(
                "headroom_compress", {"content": original, "query": "refund_failed"}
            )
        )
        assert len(compressed) < len(original) / 2
        ref = REF_RE.search(compressed)
        assert ref is not None
        back = text_of(await client.call_tool(RETRIEVE_TOOL_NAME, {"ref": ref.group(0)}))
        assert back == original
        part = text_of(
            await client.call_tool(
                RETRIEVE_TOOL_NAME, {"ref": ref.group(0), "query": "refund_failed"}
            )
        )
        assert "ord-000321" in part and len(part) < len(original) / 10
        stats = json.loads(text_of(await client.call_tool("headroom_stats", {})))
    assert stats["calls"] == 1 and stats["compressed_calls"] == 1 and stats["retrievals"] == 2
    assert stats["saved_tokens"] > 0 and stats["kinds"] == {"json": 1}


async def test_wrap_proxy_compresses_the_wrapped_servers_results(headroom_home: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "headroom_core.cli", "mcp", "wrap", "--", sys.executable, str(SERVER)],
        env={
            "HEADROOM_HOME": str(headroom_home),
            "PYTHONPATH": str(ROOT),
            "PATH": os.environ.get("PATH", ""),
        },
        cwd=ROOT,
    )
    original = json.dumps(orders(), indent=2)
    async with Client(params, read_timeout_seconds=60) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"list_orders", "ping", RETRIEVE_TOOL_NAME}
        assert tools["list_orders"].input_schema["required"] == ["month"]  # forwarded as is
        assert text_of(await client.call_tool("ping", {})) == "pong"
        result = await client.call_tool("list_orders", {"month": "2026-09"})
        seen = text_of(result)
        assert isinstance(result, types.CallToolResult) and result.structured_content is None
        assert len(seen) < len(original) / 2 and MARKER_RE.search(seen)
        ref = REF_RE.search(seen)
        assert ref is not None
        back = text_of(await client.call_tool(RETRIEVE_TOOL_NAME, {"ref": ref.group(0)}))
        assert back == original
        missing = await client.call_tool(RETRIEVE_TOOL_NAME, {})
        assert isinstance(missing, types.CallToolResult) and missing.is_error
