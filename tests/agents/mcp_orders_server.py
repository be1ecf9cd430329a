"""A small real MCP server (stdio) with one tool returning a large JSON report."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.agents.orders import order_report

server = MCPServer("orders")


@server.tool()
def list_orders(month: str) -> str:
    """List the shop's orders of a month."""
    return order_report()


if __name__ == "__main__":
    server.run("stdio")
