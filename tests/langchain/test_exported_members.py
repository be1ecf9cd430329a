"""The public surface of headroom_langchain is exactly its ``__all__``."""

from __future__ import annotations

import headroom_langchain

EXPECTED = {
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
}


def test_langchain_all_is_pinned() -> None:
    assert set(headroom_langchain.__all__) == EXPECTED
