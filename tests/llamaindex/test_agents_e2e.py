"""Workflow agents with the real llama-index OpenAI LLM against the local stub server.

The scripted model calls a tool whose output is a real GitHub API page, then asks
``headroom_retrieve`` for one account, then answers. Assertions are on the request bodies
that reached the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import AsyncBaseTool, ToolMetadata, ToolOutput
from llama_index.llms.openai import OpenAI

from headroom_core import REF_RE, RETRIEVE_TOOL_NAME, count_tokens, retrieve
from headroom_llamaindex import (
    HeadroomFunctionAgent,
    HeadroomReActAgent,
    HeadroomSavingsHandler,
    compress_tools,
)
from tests.stub_llm import StubLLM, StubRequest, Text, ToolCall

USERS_PAGE = (files("headroom_core") / "demo_data" / "github_list_users.json").read_text("utf-8")
QUESTION = "What is the numeric GitHub id of the account lawrencepit?"
NEEDLE_LOGIN = "lawrencepit"
NEEDLE_ID = "115"

# llama-index's own deprecated calls: building a workflow agent walks its members (pydantic
# ``__fields__`` and friends) and ReActAgent asks ``ctx.is_running`` inside a step
pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning"),
    pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning"),
]


def list_users(since: int = 0) -> str:
    """List GitHub users in the order they signed up, starting after user id `since`."""
    return USERS_PAGE


def _llm(stub: StubLLM) -> OpenAI:
    return OpenAI(model="gpt-4o-mini", api_key="test-key", api_base=stub.base_url, max_retries=0)


@pytest.fixture
def savings() -> Any:
    handler = HeadroomSavingsHandler()
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


def _request_text(req: StubRequest) -> str:
    """Everything the model reads in a chat request (ReAct puts observations in messages)."""
    texts: list[str] = []
    for message in req.body.get("messages", []):
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        texts += [p if isinstance(p, str) else str((p or {}).get("text", "")) for p in parts]
    return "\n".join(texts)


def _ref_seen(text: str) -> str:
    """The ref the model reads in a headroom marker."""
    found = REF_RE.search(text)
    assert found, f"no headroom ref in what the model read: {text[:300]!r}"
    return found.group(0)


def _check_wire(
    stub: StubLLM, tool_text: Callable[[StubRequest], str], retrieved: Callable[[StubRequest], str]
) -> None:
    assert not stub.errors, stub.errors
    assert len(stub.requests) == 3
    first, second, third = stub.requests
    # compressed tool output on the wire: smaller than the original, original bytes not sent
    sent = tool_text(second)
    assert USERS_PAGE not in _request_text(second)
    assert 0 < count_tokens(sent) < count_tokens(USERS_PAGE)
    # the retrieve answer carries the needle, and reached the model
    answer = retrieved(third)
    assert NEEDLE_LOGIN in answer and NEEDLE_ID in answer
    assert count_tokens(answer) < count_tokens(USERS_PAGE) // 4
    assert QUESTION in json.dumps(first.body)


async def test_function_agent_compresses_then_retrieves_by_query(
    savings: HeadroomSavingsHandler,
) -> None:
    def script(req: StubRequest) -> Text | ToolCall:
        outs = req.tool_outputs()
        if not outs:
            return ToolCall("list_users", {"since": 0}, id="call_list")
        if len(outs) == 1:
            ref = _ref_seen(outs[0])
            return ToolCall(RETRIEVE_TOOL_NAME, {"ref": ref, "query": NEEDLE_LOGIN}, id="call_r")
        return Text(f"The id of {NEEDLE_LOGIN} is {NEEDLE_ID}.")

    with StubLLM(script) as stub:
        agent = HeadroomFunctionAgent(tools=[list_users], llm=_llm(stub))
        handler = agent.run(QUESTION)
        events = [ev async for ev in handler.stream_events()]
        result = await handler

    assert str(result) == f"The id of {NEEDLE_LOGIN} is {NEEDLE_ID}."
    _check_wire(stub, lambda r: r.tool_outputs()[0], lambda r: r.tool_outputs()[1])
    # the retrieve answer reaches the model as the core returned it, not compressed again
    ref = _ref_seen(stub.requests[1].tool_outputs()[0])
    assert stub.requests[2].tool_outputs()[1] == retrieve(ref, query=NEEDLE_LOGIN)
    assert all(RETRIEVE_TOOL_NAME in r.tool_names for r in stub.requests)
    assert "list_users" in stub.requests[0].tool_names
    # the user-facing events and the run's record keep the original output
    tool_results = [ev for ev in events if type(ev).__name__ == "ToolCallResult"]
    assert tool_results[0].tool_output.raw_output == USERS_PAGE
    assert tool_results[0].tool_output.content == USERS_PAGE
    [record] = [r for r in savings.records if r.name == "list_users"]
    assert record.source == "agent" and record.saved_tokens > 0


async def test_react_agent_compresses_observations(savings: HeadroomSavingsHandler) -> None:
    def script(req: StubRequest) -> Text:
        text = _request_text(req)
        if req.turn == 0:
            return Text(
                'Thought: I need the user list.\nAction: list_users\nAction Input: {"since": 0}'
            )
        if req.turn == 1:
            ref = _ref_seen(text.split("Observation:")[-1])
            args = json.dumps({"ref": ref, "query": NEEDLE_LOGIN})
            return Text(
                "Thought: The account is in the omitted part.\n"
                f"Action: {RETRIEVE_TOOL_NAME}\nAction Input: {args}"
            )
        return Text(f"Thought: I can answer without using any more tools.\nAnswer: {NEEDLE_ID}")

    with StubLLM(script) as stub:
        agent = HeadroomReActAgent(tools=[list_users], llm=_llm(stub))
        result = await agent.run(QUESTION)

    assert str(result).strip() == NEEDLE_ID

    def last_observation(req: StubRequest) -> str:
        return _request_text(req).split("Observation:")[-1]

    _check_wire(stub, last_observation, last_observation)
    # ReAct lists its tools in the system prompt
    assert RETRIEVE_TOOL_NAME in _request_text(stub.requests[0])


async def test_wrapped_function_tools_inside_agent_workflow(
    savings: HeadroomSavingsHandler,
) -> None:
    """Plain agents with ``compress_tools`` work too; the retrieve tool is added by hand."""
    from headroom_llamaindex import headroom_retrieve_tool

    def script(req: StubRequest) -> Text | ToolCall:
        outs = req.tool_outputs()
        if not outs:
            return ToolCall("list_users", {"since": 0})
        if len(outs) == 1:
            ref = _ref_seen(outs[0])
            return ToolCall(RETRIEVE_TOOL_NAME, {"ref": ref, "query": NEEDLE_LOGIN})
        return Text("done")

    with StubLLM(script) as stub:
        tools = [*compress_tools([list_users], query=QUESTION), headroom_retrieve_tool()]
        agent = FunctionAgent(name="users", description="GitHub users", tools=tools, llm=_llm(stub))
        workflow = AgentWorkflow(agents=[agent])
        result = await workflow.run(user_msg=QUESTION)

    assert str(result) == "done"
    _check_wire(stub, lambda r: r.tool_outputs()[0], lambda r: r.tool_outputs()[1])
    [record] = [r for r in savings.records if r.name == "list_users"]
    assert record.source == "tool"


async def test_headroom_agent_inside_agent_workflow(savings: HeadroomSavingsHandler) -> None:
    def script(req: StubRequest) -> Text | ToolCall:
        outs = req.tool_outputs()
        if not outs:
            return ToolCall("list_users", {"since": 0})
        if len(outs) == 1:
            ref = _ref_seen(outs[0])
            return ToolCall(RETRIEVE_TOOL_NAME, {"ref": ref, "query": NEEDLE_LOGIN})
        return Text("done")

    with StubLLM(script) as stub:
        agent = HeadroomFunctionAgent(
            name="users", description="GitHub users", tools=[list_users], llm=_llm(stub)
        )
        result = await AgentWorkflow(agents=[agent]).run(user_msg=QUESTION)

    assert str(result) == "done"
    _check_wire(stub, lambda r: r.tool_outputs()[0], lambda r: r.tool_outputs()[1])
    assert [r.source for r in savings.records if r.name == "list_users"] == ["agent"]


class UsersAPI(AsyncBaseTool):
    """A tool that is not a FunctionTool: the agent hook compresses it all the same."""

    @property
    def metadata(self) -> ToolMetadata:
        return ToolMetadata(name="users_api", description="List GitHub users.")

    def call(self, input: Any = None, **kwargs: Any) -> ToolOutput:
        return ToolOutput(
            content=USERS_PAGE, tool_name="users_api", raw_input=kwargs, raw_output=USERS_PAGE
        )

    async def acall(self, input: Any = None, **kwargs: Any) -> ToolOutput:
        return self.call(input, **kwargs)


@pytest.mark.parametrize("exclude", [False, True])
async def test_any_tool_type_is_compressed_unless_excluded(exclude: bool) -> None:
    def script(req: StubRequest) -> Text | ToolCall:
        if not req.tool_outputs():
            return ToolCall("users_api", {"input": "all"})
        return Text("done")

    with StubLLM(script) as stub:
        agent = HeadroomFunctionAgent(
            tools=[UsersAPI()],
            llm=_llm(stub),
            headroom_exclude=["users_api"] if exclude else [],
        )
        assert str(await agent.run(QUESTION)) == "done"

    [sent] = stub.requests[1].tool_outputs()
    if exclude:
        assert sent == USERS_PAGE
    else:
        assert REF_RE.search(sent) and count_tokens(sent) < count_tokens(USERS_PAGE) // 2


async def test_next_turn_resends_the_same_compressed_bytes() -> None:
    """Memory holds what the model read, so the prompt prefix stays cacheable."""

    def script(req: StubRequest) -> Text | ToolCall:
        if req.turn == 0:
            return ToolCall("list_users", {"since": 0})
        return Text("ok")

    with StubLLM(script) as stub:
        agent = HeadroomFunctionAgent(tools=[list_users], llm=_llm(stub))
        memory = ChatMemoryBuffer.from_defaults(token_limit=100_000)
        await agent.run(QUESTION, memory=memory)
        await agent.run("And the account after it?", memory=memory)

    _, with_tool_result, next_turn = stub.requests
    [sent] = with_tool_result.tool_outputs()
    assert REF_RE.search(sent)
    assert next_turn.tool_outputs() == [sent]
    prefix = with_tool_result.body["messages"]
    assert next_turn.body["messages"][: len(prefix)] == prefix
