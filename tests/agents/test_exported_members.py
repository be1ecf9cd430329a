"""headroom_agents' public surface is pinned."""

from __future__ import annotations

import headroom_agents

EXPECTED = {
    "CallRecord",
    "HeadroomRunHooks",
    "SavingsSummary",
    "__version__",
    "compress_mcp_server",
    "compress_tool",
    "compress_tools",
    "headroom_input_filter",
    "headroom_retrieve_tool",
    "headroom_tool_output_guardrail",
    "make_input_filter",
    "make_tool_output_guardrail",
}


def test_agents_all_is_pinned() -> None:
    assert set(headroom_agents.__all__) == EXPECTED
