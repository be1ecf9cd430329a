"""The HTTP proxy with the real openai and anthropic clients, a stub upstream, bad input."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import httpx
import openai
import pytest
import uvicorn

from headroom_core import MARKER_RE, REF_RE, RETRIEVE_TOOL_NAME
from headroom_core.proxy import ProxySettings, build_app
from tests.core.mcp_orders_server import orders
from tests.stub_llm import StubLLM, StubRequest, Text, ToolCall

NEEDLE = "ord-000321"
REPORT = json.dumps(orders(), indent=2)
TASK = "Which order had a failed refund?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_proxy(settings: ProxySettings) -> Iterator[str]:
    """The proxy served by uvicorn in a thread; yields its base URL."""
    config = uvicorn.Config(
        build_app(settings), host="127.0.0.1", port=free_port(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "proxy did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def retrieving(req: StubRequest) -> Text | ToolCall:
    """Upstream model: retrieve from the compressed report, then say whether it found it."""
    outputs = req.tool_outputs()
    if not outputs:
        return Text("hello")
    if len(outputs) == 1:
        ref = REF_RE.search(outputs[0])
        if ref is None:
            return Text("no ref")
        return ToolCall(
            RETRIEVE_TOOL_NAME, {"ref": ref.group(0), "query": "refund_failed"}, id="call_hr"
        )
    return Text(f"found: {NEEDLE in outputs[-1]}")


def chat_messages() -> list[dict[str, Any]]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "list_orders", "arguments": "{}"},
    }
    return [
        {"role": "user", "content": TASK},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": REPORT},
    ]


def assert_upstream_saw_compression(llm: StubLLM) -> None:
    first = llm.requests[0]
    assert RETRIEVE_TOOL_NAME in first.tool_names
    sent = first.tool_outputs()[0]
    assert len(sent) < len(REPORT) / 2 and MARKER_RE.search(sent)
    assert NEEDLE in llm.requests[-1].tool_outputs()[-1]


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    with StubLLM(retrieving) as llm:
        yield llm


@pytest.fixture
def proxy(stub: StubLLM) -> Iterator[str]:
    with running_proxy(ProxySettings(stub.base_url)) as url:
        yield url


def test_chat_completions_retrieval_resolved_inside_the_proxy(stub: StubLLM, proxy: str) -> None:
    client = openai.OpenAI(base_url=proxy + "/v1", api_key="sk-secret-1")
    reply = client.chat.completions.create(model="gpt-4o", messages=chat_messages())  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "found: True"
    assert not reply.choices[0].message.tool_calls
    assert len(stub.requests) == 2
    assert_upstream_saw_compression(stub)
    assert all(r.headers["authorization"] == "Bearer sk-secret-1" for r in stub.requests)


def test_chat_completions_streaming(stub: StubLLM, proxy: str) -> None:
    client = openai.OpenAI(base_url=proxy + "/v1", api_key="sk-secret-2")
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=chat_messages(),  # type: ignore[arg-type]
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "found: True"
    assert_upstream_saw_compression(stub)
    # a small conversation is relayed as a live stream, untouched
    small = [{"role": "user", "content": "hi"}]
    before = len(stub.requests)
    chunks = list(client.chat.completions.create(model="m", messages=small, stream=True))  # type: ignore[arg-type]
    assert chunks and len(stub.requests) == before + 1
    # the tool list is the same on every request, so the cached prefix never changes
    assert stub.requests[-1].tool_names == [RETRIEVE_TOOL_NAME]


def test_responses_api(stub: StubLLM, proxy: str) -> None:
    client = openai.OpenAI(base_url=proxy + "/v1", api_key="sk-secret-3")
    items = [
        {"role": "user", "content": TASK},
        {"type": "function_call", "call_id": "call_1", "name": "list_orders", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": REPORT},
    ]
    reply = client.responses.create(model="gpt-4o", input=items)  # type: ignore[arg-type]
    assert reply.output_text == "found: True"
    assert_upstream_saw_compression(stub)


def test_anthropic_messages_and_stream(stub: StubLLM, proxy: str) -> None:
    client = anthropic.Anthropic(base_url=proxy, api_key="sk-ant-secret")
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": TASK},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "tu_1", "name": "list_orders", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": REPORT}],
        },
    ]
    reply = client.messages.create(model="claude", max_tokens=100, messages=messages)  # type: ignore[arg-type]
    assert [b.text for b in reply.content if b.type == "text"] == ["found: True"]
    assert_upstream_saw_compression(stub)
    sent = client.default_headers  # the client's own auth and version headers reach upstream
    for request in stub.requests:
        assert request.headers["authorization"] == sent["Authorization"]
        assert request.headers["anthropic-version"] == sent["anthropic-version"]
    with client.messages.stream(model="claude", max_tokens=100, messages=messages) as stream:  # type: ignore[arg-type]
        assert stream.get_final_text() == "found: True"


def test_bad_input_gets_http_errors_and_the_proxy_keeps_serving(stub: StubLLM) -> None:
    with running_proxy(ProxySettings(stub.base_url, max_body_bytes=64 * 1024)) as url:
        with httpx.Client(base_url=url, timeout=30) as http:
            bad = http.post("/v1/chat/completions", content=b"{not json")
            assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]
            assert http.post("/v1/chat/completions", json=[1, 2]).status_code == 400
            huge = http.post("/v1/chat/completions", content=b"x" * (65 * 1024))
            assert huge.status_code == 413
            assert http.post("/v1/nowhere", json={}).status_code == 404
            assert http.get("/v1/chat/completions").status_code == 405
            assert http.get("/health").json()["status"] == "ok"
        assert stub.requests == []
    closed = f"http://127.0.0.1:{free_port()}/v1"
    with (
        running_proxy(ProxySettings(closed)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        down = http.post("/v1/chat/completions", json={"model": "m", "messages": []})
        assert down.status_code == 502
        assert http.get("/health").status_code == 200
