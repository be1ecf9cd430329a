"""compress_call_result: the text of an MCP tool result, compressed for the call."""

from __future__ import annotations

import json

import pytest

from headroom_core import MARKER_RE, retrieve
from headroom_core.mcp import CompressionStats, compress_call_result

types = pytest.importorskip("mcp_types")

ROWS = [{"id": i, "state": "open", "title": f"issue {i}", "labels": ["bug"]} for i in range(120)]
TEXT = json.dumps(ROWS, indent=2)


def _result(**kw: object) -> object:
    return types.CallToolResult(
        content=[types.TextContent(text=TEXT), types.ImageContent(data="aGk=", mime_type="x/y")],
        structured_content={"rows": ROWS},
        **kw,
    )


@pytest.mark.parametrize("keep_structured", [False, True])
def test_text_is_compressed_images_and_structure_as_asked(keep_structured: bool) -> None:
    stats = CompressionStats()
    out = compress_call_result(
        _result(),
        tool="list_issues",
        arguments={"state": "open", "limit": 120},
        stats=stats,
        keep_structured=keep_structured,
    )
    text, image = out.content  # type: ignore[attr-defined]
    marker = MARKER_RE.search(text.text)
    assert marker and len(text.text) < len(TEXT) / 2
    assert retrieve(marker["ref"]) == TEXT
    assert isinstance(image, types.ImageContent)
    assert (out.structured_content is not None) is keep_structured  # type: ignore[attr-defined]
    assert stats.to_dict()["compressed_calls"] == 1


def test_errors_and_other_values_pass_through() -> None:
    error = _result(is_error=True)
    assert compress_call_result(error, tool="t") is error
    assert compress_call_result("text", tool="t") == "text"
