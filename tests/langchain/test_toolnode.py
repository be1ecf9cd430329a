"""A hand-built LangGraph graph (no create_agent): ToolNode(compress_tools(tools))."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import InjectedState, ToolNode, tools_condition

from headroom_core import count_tokens
from headroom_langchain import HeadroomCallbackHandler, compress_tools
from tests.langchain.conftest import LOG, LOG_NEEDLE, LOG_QUERY, TASK, chat_model, retrieving_script
from tests.stub_llm import StubLLM


@tool
def get_logs(
    service: str,
    state: Annotated[dict[str, Any], InjectedState],
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> str:
    """Fetch the recent logs of a service."""
    assert state["messages"] and tool_call_id == "call_tool"  # injected by ToolNode
    return LOG


def build(stub: StubLLM) -> Any:
    """agent -> tools -> agent, with sync and async model nodes."""
    tools = compress_tools([get_logs])
    model = chat_model(stub).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    async def aagent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", RunnableLambda(agent, afunc=aagent))
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "agent")
    return graph.compile()


def test_toolnode_graph(stub_factory: Callable[[object], StubLLM]) -> None:
    stub = stub_factory(retrieving_script("get_logs", {"service": "sshd"}, LOG_QUERY))
    handler = HeadroomCallbackHandler()
    state = build(stub).invoke(
        {"messages": [{"role": "user", "content": TASK}]}, {"callbacks": [handler]}
    )
    assert not stub.errors and len(stub.requests) == 3
    first, second, third = stub.requests
    assert set(first.tool_names) == {"get_logs", "headroom_retrieve"}
    get_logs_def = next(t for t in first.body["tools"] if t["function"]["name"] == "get_logs")
    assert set(get_logs_def["function"]["parameters"]["properties"]) == {"service"}

    (wire,) = second.tool_outputs()
    assert count_tokens(wire) < count_tokens(LOG) / 2
    assert LOG_NEEDLE in third.tool_outputs()[1]

    logs = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    assert logs.content == wire and logs.artifact["ref"] in wire
    assert [r.tool for r in handler.records] == ["get_logs"]


async def test_toolnode_graph_async(stub_factory: Callable[[object], StubLLM]) -> None:
    stub = stub_factory(retrieving_script("get_logs", {"service": "sshd"}, LOG_QUERY))
    await build(stub).ainvoke({"messages": [{"role": "user", "content": TASK}]})
    assert not stub.errors and len(stub.requests) == 3
    assert count_tokens(stub.requests[1].tool_outputs()[0]) < count_tokens(LOG) / 2
    assert LOG_NEEDLE in stub.requests[2].tool_outputs()[1]
