"""Real Agents SDK runs against the local stub LLM: compressed output on the wire, retrieval."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    RunResult,
    function_tool,
)
from agents.mcp import MCPServerStdio
from openai import AsyncOpenAI

from headroom_agents import (
    HeadroomRunHooks,
    compress_mcp_server,
    compress_tools,
    headroom_input_filter,
    headroom_retrieve_tool,
    make_tool_output_guardrail,
)
from headroom_core import MARKER_RE, REF_RE, RETRIEVE_TOOL_NAME
from tests.agents.orders import NEEDLE_ID, order_report
from tests.stub_llm import StubLLM, StubRequest, Text, ToolCall


@function_tool
def list_orders(month: str) -> str:
    """List the shop's orders of a month."""
    return order_report()


def retrieving_script(req: StubRequest) -> Text | ToolCall:
    """Call list_orders, then headroom_retrieve on the marker's ref, then answer."""
    outputs = req.tool_outputs()
    if not outputs:
        return ToolCall("list_orders", {"month": "2026-10"}, id="call_orders")
    if len(outputs) == 1:
        ref = REF_RE.search(outputs[0])
        assert ref is not None, "the compressed output must carry a ref"
        return ToolCall(
            RETRIEVE_TOOL_NAME,
            {"ref": ref.group(0), "query": "refund_failed"},
            id="call_retrieve",
        )
    return Text(f"found: {NEEDLE_ID in outputs[-1]}")


ModelFactory = Callable[[AsyncOpenAI], Model]
MODELS: dict[str, ModelFactory] = {
    "chat": lambda client: OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client),
    "responses": lambda client: OpenAIResponsesModel(model="gpt-4o", openai_client=client),
}


async def run_agent(
    api: str, tools: list[Any], *, run_config: RunConfig | None = None, hooks: Any = None
) -> tuple[RunResult, StubLLM]:
    """One real ``Runner.run`` against a fresh stub server."""
    with StubLLM(retrieving_script) as llm:
        async with AsyncOpenAI(base_url=llm.base_url, api_key="test") as client:
            agent = Agent(name="shop", model=MODELS[api](client), tools=tools)
            result = await Runner.run(
                agent, "Which order had a failed refund?", run_config=run_config, hooks=hooks
            )
    return result, llm


def _assert_wire(llm: StubLLM) -> None:
    original = order_report()
    assert len(llm.requests) == 3
    assert RETRIEVE_TOOL_NAME in llm.requests[0].tool_names
    sent = llm.requests[1].tool_outputs()[0]
    assert len(sent) < len(original) / 2, "the tool output on the wire is compressed"
    assert MARKER_RE.search(sent), "drops are marked"
    retrieved = llm.requests[2].tool_outputs()[1]
    assert NEEDLE_ID in retrieved and "refund_failed" in retrieved


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_compress_tools_and_retrieve(api: str) -> None:
    hooks = HeadroomRunHooks()
    result, llm = await run_agent(api, compress_tools([list_orders]), hooks=hooks)
    assert result.final_output == "found: True"
    _assert_wire(llm)
    (record,) = hooks.records
    assert record.tool == "list_orders" and record.call_id == "call_orders"
    assert record.ref is not None and record.compressed_tokens < record.original_tokens
    assert hooks.summary().saved_tokens == record.saved_tokens


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_input_filter_compresses_only_what_the_model_sees(api: str) -> None:
    result, llm = await run_agent(
        api,
        [list_orders, headroom_retrieve_tool()],
        run_config=RunConfig(call_model_input_filter=headroom_input_filter),
    )
    assert result.final_output == "found: True"
    _assert_wire(llm)
    # the run's own history keeps the full output
    outputs = [
        item["output"]
        for item in result.to_input_list()
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]
    assert outputs[0] == order_report()


async def test_output_guardrail_substitutes_compressed_text() -> None:
    guarded = dataclasses.replace(
        list_orders, tool_output_guardrails=[make_tool_output_guardrail()]
    )
    result, llm = await run_agent("chat", [guarded, headroom_retrieve_tool()])
    assert result.final_output == "found: True"
    _assert_wire(llm)


async def test_mcp_server_results_are_compressed() -> None:
    server = compress_mcp_server(
        MCPServerStdio(
            params={
                "command": sys.executable,
                "args": [str(Path(__file__).with_name("mcp_orders_server.py"))],
            },
            client_session_timeout_seconds=30,
        )
    )
    async with server:
        with StubLLM(retrieving_script) as llm:
            async with AsyncOpenAI(base_url=llm.base_url, api_key="test") as client:
                agent = Agent(
                    name="shop",
                    model=MODELS["chat"](client),
                    tools=[headroom_retrieve_tool()],
                    mcp_servers=[server],
                )
                result = await Runner.run(agent, "Which order had a failed refund?")
    assert result.final_output == "found: True"
    _assert_wire(llm)
