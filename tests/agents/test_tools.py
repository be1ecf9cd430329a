"""compress_tool keeps the tool's contract; headroom_retrieve_tool handles bad arguments."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from agents import FunctionTool, ToolOutputText, function_tool
from agents.tool_context import ToolContext

from headroom_agents import compress_tool, compress_tools, headroom_retrieve_tool
from headroom_core import (
    MARKER_RE,
    RETRIEVE_TOOL_NAME,
    HeadroomConfig,
    SQLiteStore,
    compress,
    open_store,
)
from tests.agents.orders import NEEDLE_ID, order_report


def tool_context(name: str, arguments: str, context: Any = None) -> ToolContext[Any]:
    return ToolContext(
        context=context,
        tool_name=name,
        tool_call_id="call_1",
        tool_arguments=arguments,
        turn_input=[{"role": "user", "content": "which refund failed?"}],
    )


@function_tool(strict_mode=True, timeout=12.5)
async def report(month: str) -> str:
    """The monthly order report."""
    return order_report()


@function_tool
def short(x: int) -> str:
    """A short answer."""
    return f"ok {x}"


async def test_wrapped_tool_keeps_its_contract_and_compresses() -> None:
    wrapped = compress_tool(report)
    assert isinstance(wrapped, FunctionTool)
    for field in ("name", "description", "params_json_schema", "strict_json_schema"):
        assert getattr(wrapped, field) == getattr(report, field)
    assert wrapped.timeout_seconds == 12.5
    out = await wrapped.on_invoke_tool(
        tool_context("report", '{"month": "2026-10"}'), '{"month": "2026-10"}'
    )
    assert isinstance(out, str) and len(out) < len(order_report()) / 2
    assert MARKER_RE.search(out)
    assert compress_tool(wrapped) is wrapped  # wrapping twice is a no-op


async def test_short_outputs_and_errors_pass_through() -> None:
    wrapped = compress_tool(short)
    assert await wrapped.on_invoke_tool(tool_context("short", '{"x": 3}'), '{"x": 3}') == "ok 3"

    async def boom(ctx: ToolContext[Any], args: str) -> str:
        raise RuntimeError("tool failed")

    failing = compress_tool(dataclasses.replace(short, on_invoke_tool=boom))
    with pytest.raises(RuntimeError, match="tool failed"):
        await failing.on_invoke_tool(tool_context("short", "{}"), "{}")


async def test_structured_text_output_is_compressed_in_place() -> None:
    async def text_output(ctx: ToolContext[Any], args: str) -> ToolOutputText:
        return ToolOutputText(text=order_report())

    wrapped = compress_tool(dataclasses.replace(short, on_invoke_tool=text_output))
    out = await wrapped.on_invoke_tool(tool_context("short", "{}"), "{}")
    assert isinstance(out, ToolOutputText) and MARKER_RE.search(out.text)


def test_compress_tools_adds_retrieval_once() -> None:
    tools = compress_tools([report, short])
    assert [t.name for t in tools] == ["report", "short", RETRIEVE_TOOL_NAME]
    again = compress_tools(tools)
    assert [t.name for t in again] == ["report", "short", RETRIEVE_TOOL_NAME]


async def test_retrieve_tool_arguments_and_context_store(tmp_path: Any) -> None:
    store = open_store(HeadroomConfig(home=tmp_path / "ctx-store"))
    assert isinstance(store, SQLiteStore)
    ref = compress(order_report(), store=store).ref
    assert ref is not None
    tool = headroom_retrieve_tool()
    assert tool.strict_json_schema is False
    assert "ref" in tool.params_json_schema["required"]
    ctx = tool_context(RETRIEVE_TOOL_NAME, "", context={"headroom_store": store})
    args = json.dumps({"ref": ref, "query": "refund_failed"})
    assert NEEDLE_ID in await tool.on_invoke_tool(ctx, args)
    assert await tool.on_invoke_tool(ctx, json.dumps({"ref": ref})) == order_report()
    assert "required" in await tool.on_invoke_tool(ctx, "{}")
    assert "JSON object" in await tool.on_invoke_tool(ctx, "not json")
    # without the context's store the ref is unknown to the default store: a message, no error
    plain = tool_context(RETRIEVE_TOOL_NAME, "", context=None)
    assert "headroom" in await tool.on_invoke_tool(plain, args)
