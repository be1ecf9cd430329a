"""What the proxy needs to know of each wire format: tools, tool calls, continuing a turn.

Three APIs: OpenAI Chat Completions (``chat``), OpenAI Responses (``responses``) and
Anthropic Messages (``messages``). Everything here works on plain JSON dicts and never
mutates its arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .._tool import RETRIEVE_TOOL_DESCRIPTION, RETRIEVE_TOOL_NAME, RETRIEVE_TOOL_PARAMETERS

Api = Literal["chat", "responses", "messages"]


@dataclass(frozen=True)
class RetrieveCall:
    """One ``headroom_retrieve`` call the model made."""

    id: str
    arguments: dict[str, Any]


def conversation_key(api: Api) -> str:
    """The request field holding the conversation."""
    return "input" if api == "responses" else "messages"


def retrieve_tool_entry(api: Api) -> dict[str, Any]:
    """The ``headroom_retrieve`` tool as this API's ``tools`` entry."""
    if api == "chat":
        return {
            "type": "function",
            "function": {
                "name": RETRIEVE_TOOL_NAME,
                "description": RETRIEVE_TOOL_DESCRIPTION,
                "parameters": RETRIEVE_TOOL_PARAMETERS,
            },
        }
    if api == "responses":
        return {
            "type": "function",
            "name": RETRIEVE_TOOL_NAME,
            "description": RETRIEVE_TOOL_DESCRIPTION,
            "parameters": RETRIEVE_TOOL_PARAMETERS,
            "strict": False,
        }
    return {
        "name": RETRIEVE_TOOL_NAME,
        "description": RETRIEVE_TOOL_DESCRIPTION,
        "input_schema": RETRIEVE_TOOL_PARAMETERS,
    }


def _tool_name(tool: Any) -> str | None:
    if not isinstance(tool, dict):
        return None
    fn = tool.get("function")
    name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
    return name if isinstance(name, str) else None


def with_retrieve_tool(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``headroom_retrieve`` in its tools (unless tools are switched off)."""
    if body.get("tool_choice") == "none" or (
        isinstance(body.get("tool_choice"), dict) and body["tool_choice"].get("type") == "none"
    ):
        return body
    tools = body.get("tools")
    tools = list(tools) if isinstance(tools, list) else []
    if any(_tool_name(t) == RETRIEVE_TOOL_NAME for t in tools):
        return body
    return {**body, "tools": [*tools, retrieve_tool_entry(api)]}


def _loads_args(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def retrieve_calls(api: Api, response: dict[str, Any]) -> tuple[list[RetrieveCall], bool]:
    """The ``headroom_retrieve`` calls in a (non-streamed) response, and whether it also
    calls other tools."""
    ours: list[RetrieveCall] = []
    others = False
    if api == "chat":
        choices = response.get("choices") or [{}]
        message = choices[0].get("message") or {}
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            if fn.get("name") == RETRIEVE_TOOL_NAME:
                ours.append(RetrieveCall(str(call.get("id")), _loads_args(fn.get("arguments"))))
            else:
                others = True
    elif api == "responses":
        for item in response.get("output") or []:
            if item.get("type") != "function_call":
                others = others or item.get("type", "").endswith("_call")
                continue
            if item.get("name") == RETRIEVE_TOOL_NAME:
                ours.append(
                    RetrieveCall(str(item.get("call_id")), _loads_args(item.get("arguments")))
                )
            else:
                others = True
    else:
        for block in response.get("content") or []:
            if block.get("type") != "tool_use":
                continue
            if block.get("name") == RETRIEVE_TOOL_NAME:
                ours.append(RetrieveCall(str(block.get("id")), _loads_args(block.get("input"))))
            else:
                others = True
    return ours, others


def continue_turn(
    api: Api, body: dict[str, Any], response: dict[str, Any], results: dict[str, str]
) -> dict[str, Any]:
    """The next request: ``body`` plus the model's turn and the retrieval results by call id."""
    if api == "chat":
        message = dict((response.get("choices") or [{}])[0].get("message") or {})
        message.setdefault("role", "assistant")
        added: list[Any] = [message]
        added += [
            {"role": "tool", "tool_call_id": cid, "content": text} for cid, text in results.items()
        ]
        return {**body, "messages": [*body.get("messages", []), *added]}
    if api == "responses":
        history = body.get("input")
        items = (
            [{"role": "user", "content": history}]
            if isinstance(history, str)
            else list(history or [])
        )
        items += [dict(i) for i in response.get("output") or [] if i.get("type") != "reasoning"]
        items += [
            {"type": "function_call_output", "call_id": cid, "output": text}
            for cid, text in results.items()
        ]
        return {**body, "input": items}
    blocks = [
        {"type": "tool_result", "tool_use_id": cid, "content": text}
        for cid, text in results.items()
    ]
    turn = [{"role": "assistant", "content": response.get("content") or []}]
    turn.append({"role": "user", "content": blocks})
    return {**body, "messages": [*body.get("messages", []), *turn]}


def without_retrieve_calls(api: Api, response: dict[str, Any]) -> dict[str, Any]:
    """``response`` with the ``headroom_retrieve`` calls taken out (the client never sees them)."""
    if api == "chat":
        choices = []
        for choice in response.get("choices") or []:
            message = dict(choice.get("message") or {})
            calls = [
                c
                for c in message.get("tool_calls") or []
                if (c.get("function") or {}).get("name") != RETRIEVE_TOOL_NAME
            ]
            message["tool_calls"] = calls or None
            choices.append({**choice, "message": message})
        return {**response, "choices": choices}
    if api == "responses":
        output = [
            i
            for i in response.get("output") or []
            if not (i.get("type") == "function_call" and i.get("name") == RETRIEVE_TOOL_NAME)
        ]
        return {**response, "output": output}
    content = [
        b
        for b in response.get("content") or []
        if not (b.get("type") == "tool_use" and b.get("name") == RETRIEVE_TOOL_NAME)
    ]
    return {**response, "content": content}


def mentions_retrieve(event: Any) -> bool:
    """Whether a streamed event starts a ``headroom_retrieve`` call (any of the formats)."""
    if isinstance(event, dict):
        if event.get("name") == RETRIEVE_TOOL_NAME:
            return True
        return any(mentions_retrieve(v) for v in event.values())
    if isinstance(event, list):
        return any(mentions_retrieve(v) for v in event)
    return False
