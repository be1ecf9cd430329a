"""A small real MCP server (stdio) whose tool returns a large JSON result, for the MCP tests."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer

server = MCPServer("orders")


def orders() -> list[dict[str, Any]]:
    """500 order records, one of them a failed refund."""
    return [
        {
            "id": f"ord-{i:06d}",
            "status": "refund_failed" if i == 321 else "delivered",
            "customer": f"cus_{i % 37:04d}",
            "total_cents": 1000 + (i * 53) % 7000,
            "created_at": f"2026-09-{1 + i % 28:02d}T{i % 24:02d}:05:00Z",
        }
        for i in range(500)
    ]


@server.tool()
def list_orders(month: str) -> str:
    """All orders of a month, as JSON."""
    return json.dumps(orders(), indent=2)


@server.tool()
def ping() -> str:
    """A short answer that is never compressed."""
    return "pong"


if __name__ == "__main__":
    server.run("stdio")
