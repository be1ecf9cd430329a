"""Fixtures for the LangChain adapter: real tool outputs, a scripted stub model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

import pytest
from langchain_openai import ChatOpenAI

from headroom_core import MARKER_RE
from tests.stub_llm import StubLLM, StubRequest, Text, ToolCall

DEMO = resources.files("headroom_core") / "demo_data"

#: loghub OpenSSH slice shipped with the core (400 real sshd lines)
LOG = (DEMO / "openssh_auth.log").read_text("utf-8")
LOG_NEEDLE = "Failed password for invalid user matlab from 52.80.34.196 port 46199 ssh2"
LOG_QUERY = "invalid user matlab"

#: GitHub GET /users recording shipped with the core (100 users, pretty-printed JSON)
USERS = (DEMO / "github_list_users.json").read_text("utf-8")
USERS_NEEDLE = "willcodeforfoo"
USERS_QUERY = "willcodeforfoo"

TASK = "Which accounts were targeted by invalid-user logins on the sshd box?"


def first_ref(text: str) -> str:
    match = MARKER_RE.search(text)
    assert match, f"no headroom marker in: {text[:300]!r}"
    return match["ref"]


def retrieving_script(
    tool: str, args: dict[str, object], query: str, answer: str = "done"
) -> object:
    """Model turns: call ``tool``; call headroom_retrieve on the ref it sees; answer."""

    def script(req: StubRequest) -> object:
        if req.turn == 0:
            return ToolCall(tool, args, id="call_tool")
        if req.turn == 1:
            ref = first_ref(req.tool_outputs()[-1])
            return ToolCall("headroom_retrieve", {"ref": ref, "query": query}, id="call_hr")
        return Text(answer)

    return script


@pytest.fixture
def stub_factory() -> Iterator[object]:
    stubs: list[StubLLM] = []

    def make(script: object) -> StubLLM:
        stub = StubLLM(script).start()  # type: ignore[arg-type]
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.stop()


def chat_model(stub: StubLLM) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o-mini", base_url=stub.base_url, api_key="test", max_retries=0)


def sent_tool(req: StubRequest, name: str) -> dict[str, object]:
    """The function definition of tool ``name`` as sent in a chat completions request."""
    for tool in req.body.get("tools") or []:
        if tool["function"]["name"] == name:
            return dict(tool["function"])
    raise AssertionError(f"{name} not sent; tools: {req.tool_names}")


def as_json(value: object) -> str:
    return json.dumps(value, sort_keys=True)
