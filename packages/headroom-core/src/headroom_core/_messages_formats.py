"""What ``compress_messages`` needs to know about each message format.

OpenAI Chat Completions: ``{"role": "tool", "tool_call_id", "content"}`` answers an entry of
an assistant message's ``tool_calls`` (legacy ``{"role": "function", "name"}`` too).
OpenAI Responses: ``{"type": "function_call_output", "call_id", "output"}`` answers a
``{"type": "function_call", "call_id", "name", "arguments"}`` item (``custom_tool_call`` too).
Anthropic Messages: ``{"type": "tool_result", "tool_use_id", "content"}`` blocks inside a
user message answer ``{"type": "tool_use", "id", "name", "input"}`` blocks of the assistant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Responses items the model produced (they end the previous request's output).
MODEL_ITEM_TYPES = frozenset(
    {
        "function_call",
        "custom_tool_call",
        "reasoning",
        "computer_call",
        "local_shell_call",
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "image_generation_call",
        "mcp_call",
    }
)
TOOL_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output"})
TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
#: Argument names that carry a file path (a hint for kind and language detection).
PATH_KEYS = ("path", "file_path", "filepath", "filename", "file")
#: Query length caps: enough words for relevance, bounded cost for huge pasted messages.
QUERY_USER_CHARS = 2000
QUERY_ARGS_CHARS = 1000


@dataclass(frozen=True)
class ToolCall:
    """The call a tool result answers: tool name, its argument values as text, a path hint."""

    name: str | None
    arguments: str = ""
    path: str | None = None


def as_mapping(msg: Any) -> Mapping[str, Any] | None:
    """``msg`` as a mapping to read from: a dict, or an SDK model's ``model_dump()``."""
    if isinstance(msg, Mapping):
        return msg
    dump = getattr(msg, "model_dump", None)
    if callable(dump):
        try:
            value = dump(exclude_none=True)
        except Exception:  # not a pydantic model after all
            return None
        return value if isinstance(value, Mapping) else None
    return None


def role_of(msg: Any) -> str:
    """``role`` of a message, else the ``type`` of a Responses item, else ``"?"``."""
    msg = as_mapping(msg)
    if msg is not None:
        role = msg.get("role")
        if isinstance(role, str):
            return role
        typ = msg.get("type")
        if isinstance(typ, str):
            return typ
    return "?"


def is_model_output(msg: Any) -> bool:
    """Whether the model produced this message (so every request before it was sent)."""
    msg = as_mapping(msg)
    if msg is None:
        return False
    return msg.get("role") == "assistant" or msg.get("type") in MODEL_ITEM_TYPES


def live_zone_start(messages: Sequence[Any]) -> int:
    """Index of the first message after the last one the model produced (0 if none)."""
    for i in range(len(messages) - 1, -1, -1):
        if is_model_output(messages[i]):
            return i + 1
    return 0


def call_from(name: Any, arguments: Any) -> ToolCall:
    """A ``ToolCall`` from a name and arguments given as a JSON string or a JSON value."""
    value = arguments
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments)
        except ValueError:
            value = arguments
    path = None
    if isinstance(value, Mapping):
        for key in PATH_KEYS:
            if isinstance(value.get(key), str):
                path = value[key]
                break
    words = " ".join(_scalars(value))[:QUERY_ARGS_CHARS]
    return ToolCall(name if isinstance(name, str) else None, words, path)


def _scalars(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _scalars(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _scalars(v, depth + 1)
    elif isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)


def tool_calls_of(msg: Mapping[str, Any]) -> Iterator[tuple[str, ToolCall]]:
    """(call id, call) for every tool call a model-produced message or item makes."""
    if msg.get("type") == "function_call":
        yield str(msg.get("call_id")), call_from(msg.get("name"), msg.get("arguments"))
    elif msg.get("type") == "custom_tool_call":
        yield str(msg.get("call_id")), call_from(msg.get("name"), msg.get("input"))
    calls = msg.get("tool_calls")
    if isinstance(calls, list):
        for tc in calls:
            if isinstance(tc, Mapping) and isinstance(tc.get("function"), Mapping):
                fn = tc["function"]
                yield str(tc.get("id")), call_from(fn.get("name"), fn.get("arguments"))
    content = msg.get("content")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                yield str(block.get("id")), call_from(block.get("name"), block.get("input"))


def text_of(content: Any, *, skip_tool_results: bool = True) -> str:
    """The plain text of a message's content (str, or text parts; tool results skipped)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Mapping):
            if part.get("type") == "tool_result" and skip_tool_results:
                continue
            if part.get("type") in TEXT_PART_TYPES and isinstance(part.get("text"), str):
                parts.append(part["text"])
    return "\n".join(p for p in parts if p.strip())


def user_text_of(msg: Any) -> str | None:
    """The text of a user message (``None`` for other messages and blank text)."""
    msg = as_mapping(msg)
    if msg is None or msg.get("role") != "user":
        return None
    text = text_of(msg.get("content"))
    return text if text.strip() else None


def build_query(user_text: str, call: ToolCall | None) -> str | None:
    """The relevance query for a tool result: latest user text plus the call's arguments."""
    parts = [user_text[-QUERY_USER_CHARS:].strip()]
    if call is not None:
        parts.append(call.arguments.strip())
    query = "\n".join(p for p in parts if p)
    return query or None
