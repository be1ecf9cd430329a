"""create_agent + real ChatOpenAI against the local stub: what reaches the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from headroom_core import RETRIEVE_TOOL_PARAMETERS, count_tokens, retrieve
from headroom_langchain import (
    HeadroomCallbackHandler,
    HeadroomMiddleware,
    HeadroomRequestMiddleware,
)
from tests.langchain.conftest import (
    LOG,
    LOG_NEEDLE,
    LOG_QUERY,
    TASK,
    USERS,
    USERS_NEEDLE,
    USERS_QUERY,
    chat_model,
    first_ref,
    retrieving_script,
    sent_tool,
)
from tests.stub_llm import StubLLM, StubRequest, Text, ToolCall


@tool
def get_logs(service: str) -> str:
    """Fetch the recent logs of a service."""
    return LOG


@tool
async def list_users(since: int = 0) -> str:
    """List GitHub users, oldest first."""
    return USERS


def check_wire(stub: StubLLM, original: str, needle: str, tool_name: str) -> str:
    """The three requests: tools offered, compressed output, retrieved needle. Returns the ref."""
    assert not stub.errors
    assert len(stub.requests) == 3
    first, second, third = stub.requests
    assert set(first.tool_names) == {tool_name, "headroom_retrieve"}
    retrieve_def = sent_tool(first, "headroom_retrieve")
    assert retrieve_def["parameters"] == RETRIEVE_TOOL_PARAMETERS
    assert "ref=hr_" in str(retrieve_def["description"])

    (wire,) = second.tool_outputs()
    assert count_tokens(wire) < count_tokens(original) / 2, "tool output was not compressed"
    ref = first_ref(wire)
    assert retrieve(ref) == original  # nothing lost

    outputs = third.tool_outputs()
    assert outputs[0] == wire  # already-sent output is byte-identical on the next call
    assert needle in outputs[1]
    assert ref in outputs[1]
    return ref


def run_sync(stub: StubLLM, middleware: object, **invoke: object) -> dict[str, object]:
    agent = create_agent(chat_model(stub), [get_logs], middleware=[middleware])  # type: ignore[list-item]
    return agent.invoke({"messages": [{"role": "user", "content": TASK}]}, **invoke)  # type: ignore[arg-type]


def test_middleware_invoke(stub_factory: Callable[[object], StubLLM]) -> None:
    stub = stub_factory(retrieving_script("get_logs", {"service": "sshd"}, LOG_QUERY, "matlab"))
    handler = HeadroomCallbackHandler()
    state = run_sync(
        stub,
        HeadroomMiddleware(),
        config={"callbacks": [handler], "tags": ["e2e"], "metadata": {"user": "u1"}},
    )
    ref = check_wire(stub, LOG, LOG_NEEDLE, "get_logs")

    tool_messages = [m for m in state["messages"] if isinstance(m, ToolMessage)]  # type: ignore[attr-defined]
    logs, retrieved = tool_messages
    assert logs.artifact["ref"] == ref
    assert logs.artifact["kind"] == "log"
    assert logs.content == stub.requests[1].tool_outputs()[0]  # state holds what was sent
    assert LOG_NEEDLE in retrieved.content and "headroom" not in retrieved.response_metadata
    assert state["messages"][-1].content == "matlab"  # type: ignore[index]

    (record,) = handler.records  # the retrieval result is not compressed again
    assert (record.tool, record.ref, record.kind) == ("get_logs", ref, "log")
    assert record.original_tokens == count_tokens(LOG)
    assert record.compressed_tokens < record.original_tokens / 2
    assert record.latency_ms > 0
    assert "e2e" in record.tags and record.metadata["user"] == "u1"


async def test_middleware_ainvoke(stub_factory: Callable[[object], StubLLM]) -> None:
    stub = stub_factory(retrieving_script("list_users", {"since": 0}, USERS_QUERY))
    agent = create_agent(chat_model(stub), [list_users], middleware=[HeadroomMiddleware()])
    state = await agent.ainvoke(
        {"messages": [{"role": "user", "content": "Find the GitHub user willcodeforfoo"}]}
    )
    ref = check_wire(stub, USERS, USERS_NEEDLE, "list_users")
    users = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    assert users.artifact["ref"] == ref and users.artifact["kind"] == "json"


def test_request_middleware_keeps_state_whole(
    stub_factory: Callable[[object], StubLLM],
) -> None:
    stub = stub_factory(retrieving_script("get_logs", {"service": "sshd"}, LOG_QUERY))
    state = run_sync(stub, HeadroomRequestMiddleware())
    check_wire(stub, LOG, LOG_NEEDLE, "get_logs")
    logs = next(m for m in state["messages"] if isinstance(m, ToolMessage))  # type: ignore[attr-defined]
    assert logs.content == LOG and logs.artifact is None


async def test_request_middleware_ainvoke(stub_factory: Callable[[object], StubLLM]) -> None:
    stub = stub_factory(retrieving_script("list_users", {"since": 0}, USERS_QUERY))
    agent = create_agent(chat_model(stub), [list_users], middleware=[HeadroomRequestMiddleware()])
    handler = HeadroomCallbackHandler()
    state = await agent.ainvoke(
        {"messages": [{"role": "user", "content": "Find willcodeforfoo"}]},
        {"callbacks": [handler]},
    )
    ref = check_wire(stub, USERS, USERS_NEEDLE, "list_users")
    # compressed once for the first model call, then sent from the cache
    assert [(r.tool, r.ref) for r in handler.records] == [("list_users", ref)]
    users = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    assert users.content == USERS


@tool
def get_users_sync(since: int = 0) -> str:
    """List GitHub users, oldest first."""
    return USERS


def test_parallel_tool_calls_with_checkpointer(stub_factory: Callable[[object], StubLLM]) -> None:
    def script(req: StubRequest) -> object:
        if req.turn == 0:  # two sync tools in one turn: ToolNode runs them in threads
            return [
                ToolCall("get_logs", {"service": "sshd"}, id="c1"),
                ToolCall("get_users_sync", {"since": 0}, id="c2"),
            ]
        return Text("ok")

    stub = stub_factory(script)
    agent = create_agent(
        chat_model(stub),
        [get_logs, get_users_sync],
        middleware=[HeadroomMiddleware()],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "t1"}}
    agent.invoke({"messages": [{"role": "user", "content": TASK}]}, config)
    logs, users = stub.requests[1].tool_outputs()
    assert retrieve(first_ref(logs)) == LOG and retrieve(first_ref(users)) == USERS
    assert count_tokens(logs) + count_tokens(users) < (count_tokens(LOG) + count_tokens(USERS)) / 2
    saved = agent.get_state(config).values["messages"]
    refs = [m.artifact["ref"] for m in saved if isinstance(m, ToolMessage)]
    assert refs == [first_ref(logs), first_ref(users)]  # artifacts survive the checkpoint
