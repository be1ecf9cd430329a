"""headroom for LlamaIndex: compressed tool outputs and retrieved nodes, retrievable by ref.

::

    from headroom_llamaindex import HeadroomFunctionAgent

    agent = HeadroomFunctionAgent(tools=[search_issues, read_logs], llm=llm)

Every tool result the model reads is compressed for the user's question, and the agent gets
the ``headroom_retrieve`` tool to fetch what was left out.
"""

from ._agent import HeadroomAgentMixin, HeadroomFunctionAgent, HeadroomReActAgent
from ._events import HeadroomCompressionEvent, HeadroomSavingsHandler, SavingsRecord
from ._postprocessor import HeadroomNodePostprocessor
from ._tools import compress_tool, compress_tools, headroom_retrieve_tool

__all__ = [
    "HeadroomAgentMixin",
    "HeadroomCompressionEvent",
    "HeadroomFunctionAgent",
    "HeadroomNodePostprocessor",
    "HeadroomReActAgent",
    "HeadroomSavingsHandler",
    "SavingsRecord",
    "compress_tool",
    "compress_tools",
    "headroom_retrieve_tool",
]
