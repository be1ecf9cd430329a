"""HeadroomRetrieveTool (langchain-tests standard suite) and compress_tool / compress_tools."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import (
    BaseTool,
    InjectedToolArg,
    InjectedToolCallId,
    StructuredTool,
    ToolException,
    tool,
)
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_tests.unit_tests import ToolsUnitTests
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, ToolRuntime

from headroom_core import RETRIEVE_TOOL_PARAMETERS, compress, retrieve
from headroom_langchain import CompressedTool, HeadroomRetrieveTool, compress_tool, compress_tools
from tests.langchain.conftest import LOG, LOG_NEEDLE, USERS, first_ref


class TestHeadroomRetrieveToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[HeadroomRetrieveTool]:
        return HeadroomRetrieveTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"ref": "hr_4kq2m7x9c3v5b8n6z1aa", "query": "OOMKilled", "max_tokens": 400}


def call(name: str, args: dict[str, Any], id: str = "call_1") -> dict[str, Any]:
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


def test_retrieve_tool_sends_core_schema_and_answers() -> None:
    spec = convert_to_openai_tool(HeadroomRetrieveTool())["function"]
    assert spec["name"] == "headroom_retrieve"
    assert spec["parameters"] == RETRIEVE_TOOL_PARAMETERS
    ref = compress(LOG, query="sshd").ref
    assert ref is not None
    tool_ = HeadroomRetrieveTool()
    assert tool_.invoke({"ref": ref}) == LOG
    assert LOG_NEEDLE in tool_.invoke({"ref": ref, "query": "invalid user matlab"})
    unknown = tool_.invoke({"ref": "hr_aaaaaaaaaaaaaaaaaaaa"})
    assert unknown.startswith("[headroom:") and "cannot be retrieved" in unknown


async def test_retrieve_tool_async() -> None:
    ref = compress(USERS).ref
    assert ref is not None
    msg = await HeadroomRetrieveTool().ainvoke(call("headroom_retrieve", {"ref": ref}))
    assert isinstance(msg, ToolMessage) and msg.content == USERS


@tool
def get_logs(service: str, lines: int = 400) -> str:
    """Fetch the recent logs of a service."""
    return LOG


@tool(response_format="content_and_artifact")
def get_logs_with_artifact(service: str) -> tuple[str, dict[str, int]]:
    """Fetch logs and their line count."""
    return LOG, {"lines": LOG.count("\n")}


@tool
def tool_with_injected(service: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
    """Echo the call id, then the logs."""
    return f"call={tool_call_id}\n{LOG}"


@tool
def tool_with_runtime(service: str, runtime: ToolRuntime) -> str:
    """Logs, needing the graph runtime."""
    assert runtime.tool_call_id == "call_1"
    return LOG


@tool
async def async_logs(service: str) -> str:
    """Async log fetch."""
    return LOG


def _fail(service: str) -> str:
    raise ToolException("boom " + "x" * 5000)


failing = StructuredTool.from_function(
    _fail, name="failing", description="Always fails.", handle_tool_error=True
)


@tool
def tiny(service: str) -> str:
    """Short output."""
    return "ok: " + service


@pytest.mark.parametrize(
    "original", [get_logs, get_logs_with_artifact, tool_with_injected, tool_with_runtime]
)
def test_wrapper_keeps_the_model_facing_tool(original: BaseTool) -> None:
    wrapped = compress_tool(original)
    assert isinstance(wrapped, CompressedTool)
    assert convert_to_openai_tool(wrapped) == convert_to_openai_tool(original)
    assert wrapped.get_input_schema() is original.get_input_schema()
    assert compress_tool(wrapped) is wrapped


def test_output_becomes_content_and_artifact() -> None:
    msg = compress_tool(get_logs).invoke(call("get_logs", {"service": "sshd"}))
    assert isinstance(msg, ToolMessage) and msg.name == "get_logs"
    assert len(msg.content) < len(LOG) / 2
    assert msg.artifact["ref"] == first_ref(msg.content)
    assert msg.response_metadata["headroom"] == msg.artifact
    assert retrieve(msg.artifact["ref"]) == LOG


def test_plain_invoke_returns_compressed_text() -> None:
    out = compress_tool(get_logs).invoke({"service": "sshd"})
    assert isinstance(out, str) and len(out) < len(LOG) / 2
    assert retrieve(first_ref(out)) == LOG


def test_tool_artifact_is_kept() -> None:
    msg = compress_tool(get_logs_with_artifact).invoke(
        call("get_logs_with_artifact", {"service": "a"})
    )
    assert msg.artifact == {"lines": LOG.count("\n")}
    assert retrieve(msg.response_metadata["headroom"]["ref"]) == LOG


def test_injected_call_id_reaches_the_tool() -> None:
    msg = compress_tool(tool_with_injected).invoke(
        call("tool_with_injected", {"service": "a"}, "call_77")
    )
    assert msg.tool_call_id == "call_77"
    assert retrieve(msg.artifact["ref"]).startswith("call=call_77\n")


def test_tool_runtime_is_injected_by_toolnode() -> None:
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode([compress_tool(tool_with_runtime)]))
    graph.add_edge(START, "tools")
    out = graph.compile().invoke({"messages": [_ai_call("tool_with_runtime")]})
    msg = out["messages"][-1]
    assert msg.status == "success" and retrieve(msg.artifact["ref"]) == LOG


async def test_async_tool_stays_async() -> None:
    wrapped = compress_tool(async_logs)
    assert wrapped.coroutine is async_logs.coroutine
    msg = await wrapped.ainvoke(call("async_logs", {"service": "a"}))
    assert retrieve(msg.artifact["ref"]) == LOG
    out = await wrapped.ainvoke({"service": "a"})
    assert isinstance(out, str) and len(out) < len(LOG) / 2


def test_errors_and_small_outputs_pass_through() -> None:
    err = compress_tool(failing).invoke(call("failing", {"service": "a"}))
    assert err.status == "error" and err.content.startswith("boom") and err.artifact is None
    small = compress_tool(tiny).invoke(call("tiny", {"service": "a"}))
    assert small.content == "ok: a" and small.artifact is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, "invalid user matlab"),  # default: the call's string arguments
        ("OOM", "OOM"),
        (lambda args: f"{args['service']} failures", "invalid user matlab failures"),
    ],
)
def test_relevance_query(query: Any, expected: str) -> None:
    msg = compress_tool(get_logs, query=query).invoke(
        call("get_logs", {"service": "invalid user matlab", "lines": 5})
    )
    assert msg.content == compress(LOG, query=expected, tool="get_logs").text


@tool
def tool_with_injected_arg(service: str, note: Annotated[str, InjectedToolArg]) -> str:
    """Logs; ``note`` is supplied by the application, not the model."""
    return LOG


def test_injected_values_are_not_part_of_the_query() -> None:
    msg = compress_tool(tool_with_injected_arg).invoke(
        call("tool_with_injected_arg", {"service": "invalid user matlab", "note": "root"})
    )
    assert (
        msg.content
        == compress(LOG, query="invalid user matlab", tool="tool_with_injected_arg").text
    )


def test_compress_tools_filters_and_adds_retrieval() -> None:
    tools = compress_tools([get_logs, tiny], exclude=["tiny"])
    assert [t.name for t in tools] == ["get_logs", "tiny", "headroom_retrieve"]
    assert isinstance(tools[0], CompressedTool) and tools[1] is tiny
    only = compress_tools([get_logs, tiny, HeadroomRetrieveTool()], include=["tiny"])
    assert [type(t).__name__ for t in only] == [
        "StructuredTool",
        "CompressedTool",
        "HeadroomRetrieveTool",
    ]
    assert compress_tools([get_logs], retrieve=False)[-1].name == "get_logs"


def _ai_call(name: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[call(name, {"service": "a"})])
