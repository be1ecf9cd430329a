"""headroom for the OpenAI Agents SDK.

One line to add it, whichever way fits::

    agent = Agent(..., tools=compress_tools([search, read_file]))        # wrap your tools
    Runner.run(agent, task, run_config=RunConfig(
        call_model_input_filter=headroom_input_filter))                  # or filter history
    compress_mcp_server(server)                                          # MCP tool results

``compress_tools`` adds ``headroom_retrieve`` so the model can redeem the markers; with the
input filter or MCP, add ``headroom_retrieve_tool()`` to the agent's tools yourself.
"""

from headroom_core import SavingsSummary

from ._filter import headroom_input_filter, make_input_filter
from ._guardrail import headroom_tool_output_guardrail, make_tool_output_guardrail
from ._hooks import HeadroomRunHooks
from ._mcp import compress_mcp_server
from ._records import CallRecord
from ._tools import compress_tool, compress_tools, headroom_retrieve_tool

__version__ = "0.1.0"

__all__ = [
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
]
