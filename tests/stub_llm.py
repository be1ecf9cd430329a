"""A local, scripted stand-in for the OpenAI and Anthropic HTTP APIs, for end-to-end tests.

The framework under test uses its real client classes (ChatOpenAI, AsyncOpenAI, the
Anthropic client, ...) with ``base_url`` pointed here. A test script decides every reply
from the request the model would have received, and every request is recorded so tests can
assert on the exact bytes that crossed the wire.

Served routes (``/v1`` prefix optional):
- ``POST /chat/completions``  (``stream: true`` gives SSE chunks)
- ``POST /responses``         (``stream: true`` gives SSE events)
- ``POST /messages``          (Anthropic; ``stream: true`` gives SSE events)

Usage::

    def script(req: StubRequest) -> Reply:
        if req.turn == 0:
            return ToolCall("search", {"q": "x"})
        return Text("done")

    with StubLLM(script) as llm:
        client = OpenAI(base_url=llm.base_url, api_key="test")
        ...
    llm.requests[1].tool_outputs()   # what the model was sent
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Reply", "StubLLM", "StubRequest", "Text", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    """The model calls a tool."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Text:
    """The model answers with text and stops."""

    content: str


Reply = Text | ToolCall | list[ToolCall]


@dataclass
class StubRequest:
    """One recorded request."""

    api: str  # "chat" | "responses" | "messages"
    path: str
    headers: dict[str, str]  # lowercased names
    body: dict[str, Any]
    turn: int  # 0-based index among requests of the same stub
    raw: bytes = b""

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools offered to the model in this request."""
        names: list[str] = []
        for tool in self.body.get("tools") or []:
            if "function" in tool:  # chat completions
                names.append(tool["function"]["name"])
            elif "name" in tool:  # responses API and anthropic
                names.append(tool["name"])
        return names

    def tool_outputs(self) -> list[str]:
        """Every tool result in the request, as the text the model would read, in order."""
        outs: list[str] = []
        if self.api == "chat":
            for msg in self.body.get("messages", []):
                if msg.get("role") == "tool":
                    outs.append(_content_text(msg.get("content")))
        elif self.api == "responses":
            items = self.body.get("input")
            for item in items if isinstance(items, list) else []:
                if item.get("type") == "function_call_output":
                    outs.append(_content_text(item.get("output")))
        else:
            for msg in self.body.get("messages", []):
                content = msg.get("content")
                for block in content if isinstance(content, list) else []:
                    if block.get("type") == "tool_result":
                        outs.append(_content_text(block.get("content")))
        return outs

    def last_user_text(self) -> str:
        if self.api == "responses":
            items = self.body.get("input")
            if isinstance(items, str):
                return items
            users = [i for i in items or [] if i.get("role") == "user"]
            return _content_text(users[-1].get("content")) if users else ""
        users = [m for m in self.body.get("messages", []) if m.get("role") in ("user", "human")]
        return _content_text(users[-1].get("content")) if users else ""


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text", part.get("content", ""))))
            else:
                parts.append(str(part))
        return "".join(parts)
    return json.dumps(content)


Script = Callable[[StubRequest], Reply]


@dataclass
class StubLLM:
    """A threaded HTTP server on 127.0.0.1 (free port) answering from ``script``."""

    script: Script
    model: str = "stub-model"
    requests: list[StubRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> StubLLM:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send_json(
                        200, {"object": "list", "data": [{"id": stub.model, "object": "model"}]}
                    )
                else:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?")[0].rstrip("/")
                api = (
                    "chat"
                    if path.endswith("/chat/completions")
                    else "responses"
                    if path.endswith("/responses")
                    else "messages"
                    if path.endswith("/messages")
                    else None
                )
                if api is None:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send_json(400, {"error": {"message": "invalid JSON"}})
                    return
                with stub._lock:
                    req = StubRequest(
                        api,
                        path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        len(stub.requests),
                        raw,
                    )
                    stub.requests.append(req)
                try:
                    reply = stub.script(req)
                except Exception as exc:  # surface script bugs to the test, not as hangs
                    stub.errors.append(repr(exc))
                    self._send_json(500, {"error": {"message": f"stub script failed: {exc!r}"}})
                    return
                calls = (
                    [reply]
                    if isinstance(reply, ToolCall)
                    else reply
                    if isinstance(reply, list)
                    else []
                )
                text = reply.content if isinstance(reply, Text) else None
                if body.get("stream"):
                    events = {
                        "chat": stub._chat_stream,
                        "responses": stub._responses_stream,
                        "messages": stub._messages_stream,
                    }[api](calls, text)
                    self._send_sse(events)
                else:
                    payload = {
                        "chat": stub._chat,
                        "responses": stub._responses,
                        "messages": stub._messages,
                    }[api](calls, text)
                    self._send_json(200, payload)

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_sse(self, events: Iterator[tuple[str | None, Any]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for name, data in events:
                    chunk = "" if name is None else f"event: {name}\n"
                    chunk += f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
                    self.wfile.write(chunk.encode())
                    self.wfile.flush()
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "stub not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """OpenAI-style base URL (ends in /v1)."""
        return self.url + "/v1"

    # -- payloads --------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def _call_id(self, call: ToolCall) -> str:
        return call.id or self._id("call")

    def _chat(self, calls: list[ToolCall], text: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = [
                {
                    "id": self._call_id(c),
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                }
                for c in calls
            ]
        return {
            "id": self._id("chatcmpl"),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    def _chat_stream(
        self, calls: list[ToolCall], text: str | None
    ) -> Iterator[tuple[str | None, Any]]:
        cid = self._id("chatcmpl")
        base = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": self.model,
        }
        yield (
            None,
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            },
        )
        if text:
            for piece in _pieces(text):
                yield (
                    None,
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    },
                )
        for i, c in enumerate(calls):
            tc = {
                "index": i,
                "id": self._call_id(c),
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            yield (
                None,
                {
                    **base,
                    "choices": [{"index": 0, "delta": {"tool_calls": [tc]}, "finish_reason": None}],
                },
            )
        yield (
            None,
            {
                **base,
                "choices": [
                    {"index": 0, "delta": {}, "finish_reason": "tool_calls" if calls else "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )
        yield None, "[DONE]"

    def _response_items(self, calls: list[ToolCall], text: str | None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if text is not None:
            items.append(
                {
                    "type": "message",
                    "id": self._id("msg"),
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            )
        for c in calls:
            items.append(
                {
                    "type": "function_call",
                    "id": self._id("fc"),
                    "call_id": self._call_id(c),
                    "name": c.name,
                    "arguments": json.dumps(c.arguments),
                    "status": "completed",
                }
            )
        return items

    def _responses(
        self, calls: list[ToolCall], text: str | None, items: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        return {
            "id": self._id("resp"),
            "object": "response",
            "created_at": 1_700_000_000,
            "status": "completed",
            "model": self.model,
            "output": items if items is not None else self._response_items(calls, text),
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "total_tokens": 15,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def _responses_stream(
        self, calls: list[ToolCall], text: str | None
    ) -> Iterator[tuple[str | None, Any]]:
        items = self._response_items(calls, text)
        final = self._responses(calls, text, items)
        seq = itertools.count()
        created = {**final, "status": "in_progress", "output": []}
        yield (
            "response.created",
            {"type": "response.created", "response": created, "sequence_number": next(seq)},
        )
        for idx, item in enumerate(items):
            yield (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": idx,
                    "item": item,
                    "sequence_number": next(seq),
                },
            )
            if item["type"] == "message":
                yield (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "item_id": item["id"],
                        "output_index": idx,
                        "content_index": 0,
                        "delta": item["content"][0]["text"],
                        "logprobs": [],
                        "sequence_number": next(seq),
                    },
                )
            yield (
                "response.output_item.done",
                {
                    "type": "response.output_item.done",
                    "output_index": idx,
                    "item": item,
                    "sequence_number": next(seq),
                },
            )
        yield (
            "response.completed",
            {"type": "response.completed", "response": final, "sequence_number": next(seq)},
        )

    def _messages(self, calls: list[ToolCall], text: str | None) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if text is not None:
            content.append({"type": "text", "text": text})
        for c in calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": c.id or self._id("toolu"),
                    "name": c.name,
                    "input": c.arguments,
                }
            )
        return {
            "id": self._id("msg"),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": "tool_use" if calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }

    def _messages_stream(
        self, calls: list[ToolCall], text: str | None
    ) -> Iterator[tuple[str | None, Any]]:
        msg = self._messages(calls, text)
        start = {**msg, "content": [], "stop_reason": None}
        yield "message_start", {"type": "message_start", "message": start}
        for idx, block in enumerate(msg["content"]):
            if block["type"] == "text":
                yield (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": idx,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                for piece in _pieces(block["text"]):
                    yield (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": idx,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
            else:
                yield (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": idx,
                        "content_block": {**block, "input": {}},
                    },
                )
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": idx,
                        "delta": {
                            "type": "input_json_delta",
                            "partial_json": json.dumps(block["input"]),
                        },
                    },
                )
            yield "content_block_stop", {"type": "content_block_stop", "index": idx}
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        )
        yield "message_stop", {"type": "message_stop"}


def _pieces(text: str, size: int = 16) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]
