"""HeadroomMiddleware / HeadroomRequestMiddleware hooks, called directly with real requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain.agents.middleware import ModelRequest, ModelResponse, ToolCallRequest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from langgraph.types import Command

from headroom_core import compress, retrieve
from headroom_langchain import (
    HeadroomMiddleware,
    HeadroomRequestMiddleware,
    compress_tool,
)
from tests.langchain.conftest import LOG, TASK, USERS, first_ref
from tests.langchain.test_tools import get_logs


def request(name: str = "get_logs", messages: list[AnyMessage] | None = None) -> ToolCallRequest:
    messages = messages if messages is not None else [HumanMessage(TASK)]
    call = {"name": name, "args": {"service": "sshd"}, "id": "call_1", "type": "tool_call"}
    return ToolCallRequest(tool_call=call, tool=None, state={"messages": messages}, runtime=None)  # type: ignore[arg-type]


def returning(result: Any) -> Any:
    return lambda _req: result


def tool_message(content: Any, name: str = "get_logs", **kw: Any) -> ToolMessage:
    return ToolMessage(content=content, tool_call_id="call_1", name=name, **kw)


def test_compresses_with_tool_name_and_task() -> None:
    out = HeadroomMiddleware().wrap_tool_call(request(), returning(tool_message(LOG)))
    assert isinstance(out, ToolMessage)
    assert out.content == compress(LOG, query=TASK, tool="get_logs").text
    assert out.artifact == out.response_metadata["headroom"]
    assert out.artifact["ref"] == first_ref(out.content) and retrieve(out.artifact["ref"]) == LOG
    assert (out.tool_call_id, out.name) == ("call_1", "get_logs")


def test_task_is_the_last_human_message() -> None:
    messages: list[AnyMessage] = [
        HumanMessage("first task"),
        AIMessage("hm"),
        HumanMessage("sshd matlab"),
    ]
    out = HeadroomMiddleware().wrap_tool_call(
        request(messages=messages), returning(tool_message(LOG))
    )
    assert out.content == compress(LOG, query="sshd matlab", tool="get_logs").text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "result",
    [
        Command(update={"messages": [tool_message(LOG)]}),
        tool_message(LOG, status="error"),
        tool_message(LOG, name="headroom_retrieve"),
    ],
    ids=["command", "error", "own-retrieval"],
)
def test_passes_through(result: Any) -> None:
    name = getattr(result, "name", None) or "get_logs"
    assert HeadroomMiddleware().wrap_tool_call(request(name), returning(result)) is result


def test_include_exclude_and_floor() -> None:
    msg = tool_message(LOG)
    assert HeadroomMiddleware(exclude=["get_logs"]).wrap_tool_call(request(), returning(msg)) is msg
    assert HeadroomMiddleware(include=["other"]).wrap_tool_call(request(), returning(msg)) is msg
    assert HeadroomMiddleware(min_tokens=10**6).wrap_tool_call(request(), returning(msg)) is msg
    done = HeadroomMiddleware(include=["get_logs"]).wrap_tool_call(request(), returning(msg))
    assert done is not msg and len(done.content) < len(LOG)  # type: ignore[union-attr]
    per_tool = HeadroomMiddleware(min_tokens={"get_logs": 10**6, "other": 1})
    assert per_tool.wrap_tool_call(request(), returning(msg)) is msg
    assert (
        per_tool.wrap_tool_call(request("other"), returning(tool_message(LOG, "other"))) is not msg
    )


def test_content_blocks() -> None:
    image = {"type": "image", "url": "https://example.com/a.png"}
    half = len(LOG) // 2
    cut = LOG.index("\n", half) + 1
    blocks = [{"type": "text", "text": LOG[:cut]}, image, {"type": "text", "text": LOG[cut:-1]}]
    out = HeadroomMiddleware().wrap_tool_call(request(), returning(tool_message(blocks)))
    assert isinstance(out, ToolMessage) and isinstance(out.content, list)
    text, kept = out.content
    assert kept == image
    assert isinstance(text, dict) and text["type"] == "text" and len(text["text"]) < len(LOG) / 2
    assert retrieve(out.artifact["ref"]) == LOG[:cut] + "\n" + LOG[cut:-1]


def test_output_of_a_compressed_tool_is_not_compressed_again() -> None:
    msg = compress_tool(get_logs).invoke(
        {"name": "get_logs", "args": {"service": "sshd"}, "id": "call_1", "type": "tool_call"}
    )
    assert HeadroomMiddleware().wrap_tool_call(request(), returning(msg)) is msg


def test_thread_safe() -> None:
    middleware = HeadroomMiddleware()
    outputs = [LOG, USERS] * 8
    expected = {o: compress(o, query=TASK, tool="get_logs").text for o in (LOG, USERS)}
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda o: middleware.wrap_tool_call(request(), returning(tool_message(o))), outputs
            )
        )
    assert [r.content for r in results] == [expected[o] for o in outputs]  # type: ignore[union-attr]


async def test_async_hook() -> None:
    async def handler(_req: ToolCallRequest) -> ToolMessage:
        return tool_message(USERS)

    out = await HeadroomMiddleware().awrap_tool_call(request(), handler)
    assert out.content == compress(USERS, query=TASK, tool="get_logs").text  # type: ignore[union-attr]


# -- request-time variant -------------------------------------------------------------


def model_request(messages: list[AnyMessage]) -> ModelRequest[Any]:
    model = ChatOpenAI(model="gpt-4o-mini", base_url="http://127.0.0.1:9/v1", api_key="test")
    return ModelRequest(model=model, messages=messages, state={"messages": messages})  # type: ignore[typeddict-item]


def conversation(*, tool_name: str | None = "get_logs") -> list[AnyMessage]:
    call = {"name": "get_logs", "args": {"service": "sshd"}, "id": "call_1", "type": "tool_call"}
    return [
        HumanMessage(TASK),
        AIMessage("", tool_calls=[call]),
        ToolMessage(content=LOG, tool_call_id="call_1", name=tool_name),
    ]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[list[AnyMessage]] = []

    def __call__(self, req: ModelRequest[Any]) -> ModelResponse[Any]:
        self.seen.append(list(req.messages))
        return ModelResponse(result=[AIMessage("ok")])


def test_request_time_compresses_only_what_is_sent() -> None:
    messages = conversation(tool_name=None)  # name comes from the AI message's tool call
    middleware, recorder = HeadroomRequestMiddleware(), Recorder()
    middleware.wrap_model_call(model_request(messages), recorder)
    assert messages[2].content == LOG  # the state's message is untouched
    sent = recorder.seen[0][2]
    assert sent.content == compress(LOG, query=TASK, tool="get_logs").text
    assert sent.id == messages[2].id and sent.tool_call_id == "call_1"

    # a later turn with a new task: the old tool result is sent byte-identical, from cache
    later = [*messages, AIMessage("found it"), HumanMessage("now something else entirely")]
    middleware.wrap_model_call(model_request(later), recorder)
    assert recorder.seen[1][2] is sent


async def test_request_time_async_and_passthrough() -> None:
    messages = conversation()
    recorder = Recorder()

    async def handler(req: ModelRequest[Any]) -> ModelResponse[Any]:
        return recorder(req)

    await HeadroomRequestMiddleware().awrap_model_call(model_request(messages), handler)
    assert recorder.seen[0][2].content == compress(LOG, query=TASK, tool="get_logs").text
    excluded = model_request(conversation())
    await HeadroomRequestMiddleware(exclude=["get_logs"]).awrap_model_call(excluded, handler)
    assert recorder.seen[1][2].content == LOG


def test_request_time_cache_is_bounded() -> None:
    middleware = HeadroomRequestMiddleware(cache_size=1)
    recorder = Recorder()
    for text in (LOG, USERS):
        msgs = [HumanMessage(TASK), ToolMessage(content=text, tool_call_id="c", name="t")]
        middleware.wrap_model_call(model_request(msgs), recorder)
    assert len(middleware._cache) == 1


def test_fails_open(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import headroom_langchain._compress as module

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(module, "compress", broken)
    msg = tool_message(LOG)
    assert HeadroomMiddleware().wrap_tool_call(request(), returning(msg)) is msg
    assert "injected fault" in caplog.text
