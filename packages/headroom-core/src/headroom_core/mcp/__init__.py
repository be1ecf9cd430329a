"""headroom over MCP (extra ``headroom-core[mcp]``).

- ``build_server`` / ``serve``: an MCP server exposing ``headroom_compress``,
  ``headroom_retrieve`` and ``headroom_stats`` (``headroom mcp serve``).
- ``build_proxy`` / ``run_wrap``: a proxy in front of another MCP server that compresses its
  tool results and adds ``headroom_retrieve`` (``headroom mcp wrap -- CMD ...``).
- ``compress_call_result``: the text of one ``CallToolResult`` compressed (for clients).

The ``mcp`` SDK is imported only when one of these is called.
"""

from ._results import compress_call_result
from ._serve import build_server, serve
from ._stats import CompressionStats
from ._wrap import build_proxy, run_wrap

__all__ = [
    "CompressionStats",
    "build_proxy",
    "build_server",
    "compress_call_result",
    "run_wrap",
    "serve",
]
