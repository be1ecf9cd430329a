"""headroom for LangChain and LangGraph: compressed tool outputs, retrievable by ref.

One line for ``create_agent``::

    from headroom_langchain import HeadroomMiddleware

    agent = create_agent(model, tools, middleware=[HeadroomMiddleware()])

For a hand-built LangGraph graph, wrap the tools instead: ``ToolNode(compress_tools(tools))``
(this also appends the ``headroom_retrieve`` tool; bind the same list to the model).
"""

from ._callbacks import CompressionRecord, HeadroomCallbackHandler
from ._compress import COMPRESS_RUN_NAME, HEADROOM_KEY, HeadroomArtifact
from ._documents import HeadroomDocumentCompressor
from ._middleware import HeadroomMiddleware, HeadroomRequestMiddleware
from ._tools import (
    CompressedTool,
    HeadroomRetrieveInput,
    HeadroomRetrieveTool,
    compress_tool,
    compress_tools,
)

__version__ = "0.1.0"

__all__ = [
    "COMPRESS_RUN_NAME",
    "HEADROOM_KEY",
    "CompressedTool",
    "CompressionRecord",
    "HeadroomArtifact",
    "HeadroomCallbackHandler",
    "HeadroomDocumentCompressor",
    "HeadroomMiddleware",
    "HeadroomRequestMiddleware",
    "HeadroomRetrieveInput",
    "HeadroomRetrieveTool",
    "__version__",
    "compress_tool",
    "compress_tools",
]
