"""A realistic, large tool output shared by the agents tests and their MCP server."""

from __future__ import annotations

import json

NEEDLE_ID = "ord-004711"


def order_report() -> str:
    """400 orders as pretty-printed JSON, one failed refund among them."""
    orders = []
    for i in range(400):
        order_id = f"ord-{i * 11 + 10:06d}" if i != 137 else NEEDLE_ID
        orders.append(
            {
                "id": order_id,
                "customer": {"id": f"cus_{i % 23:04d}", "tier": "gold" if i % 5 else "silver"},
                "status": "refund_failed" if i == 137 else "delivered",
                "total_cents": 1000 + (i * 37) % 9000,
                "currency": "EUR",
                "created_at": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:15:00Z",
                "note": "gateway timeout from acquirer" if i == 137 else "",
            }
        )
    return json.dumps({"orders": orders, "total_count": len(orders)}, indent=2)
