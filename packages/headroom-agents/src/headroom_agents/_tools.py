"""Function-tool wrapper and the ``headroom_retrieve`` tool for the OpenAI Agents SDK."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from agents import FunctionTool, RunContextWrapper
from agents.tool import Tool, ToolOutputText
from agents.tool_context import ToolContext

from headroom_core import (
    RETRIEVE_TOOL_NAME,
    CCRStore,
    HeadroomConfig,
    query_for_tool_result,
    retrieve_from_arguments,
    retrieve_tool,
)

from ._records import compress_recorded

log = logging.getLogger("headroom.agents")

T = TypeVar("T", bound=Tool)


def query_for_call(context: RunContextWrapper[Any] | None, arguments: str | None) -> str | None:
    """The relevance query for a tool call: the user's task plus the call's arguments.

    It is the query ``compress_messages`` (and so the input filter) gives the same result,
    so both ways of adding headroom compress it to the same bytes.
    """
    return query_for_tool_result(context.turn_input if context is not None else (), arguments)


def _text_of(output: Any) -> str | None:
    """The text a tool output shows the model, when it is text; None for anything else."""
    if isinstance(output, str):
        return output
    if isinstance(output, ToolOutputText):
        return output.text
    if isinstance(output, Mapping) and output.get("type") == "text":
        text = output.get("text")
        return text if isinstance(text, str) else None
    return None


def _with_text(output: Any, text: str) -> Any:
    if isinstance(output, str):
        return text
    if isinstance(output, ToolOutputText):
        return output.model_copy(update={"text": text})
    return {**output, "text": text}


def compress_output(
    output: Any,
    *,
    tool: str,
    call_id: str | None,
    query: str | None,
    config: HeadroomConfig | None,
    store: CCRStore | None,
) -> Any:
    """``output`` with its text compressed; anything that is not text passes through."""
    text = _text_of(output)
    if text is None:
        return output
    result = compress_recorded(
        text, tool=tool, call_id=call_id, query=query, config=config, store=store
    )
    if result.ref is None:
        return output
    return _with_text(output, result.text)


def compress_tool(
    tool: T,
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> T:
    """A copy of ``tool`` whose text output is compressed before the model sees it.

    Only ``FunctionTool`` (which MCP tools also become) can be wrapped; other tools (hosted
    tools, computer use) are returned unchanged: use ``headroom_input_filter`` for those.
    Name, schema, strict mode, guardrails, approval and timeouts are kept, since only
    ``on_invoke_tool`` is replaced. Short outputs and error strings pass through
    (``compress`` leaves inputs under ``min_tokens`` alone); exceptions propagate as before.
    """
    if not isinstance(tool, FunctionTool) or tool.name == RETRIEVE_TOOL_NAME:
        return tool
    if getattr(tool.on_invoke_tool, "__headroom_wrapped__", False):
        return tool
    inner = tool.on_invoke_tool
    name = tool.name

    async def on_invoke_tool(ctx: ToolContext[Any], arguments: str) -> Any:
        output = await inner(ctx, arguments)
        if tool.output_json_schema is not None:
            return output  # a programmatic caller parses this output: keep it exact
        return compress_output(
            output,
            tool=name,
            call_id=getattr(ctx, "tool_call_id", None),
            query=query_for_call(ctx, arguments),
            config=config,
            store=store,
        )

    on_invoke_tool.__headroom_wrapped__ = True  # type: ignore[attr-defined]
    return dataclasses.replace(tool, on_invoke_tool=on_invoke_tool)


def compress_tools(
    tools: Iterable[T],
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> list[T]:
    """``compress_tool`` on each tool, plus ``headroom_retrieve`` if it is not there yet."""
    wrapped: list[Any] = [compress_tool(t, config=config, store=store) for t in tools]
    if not any(getattr(t, "name", None) == RETRIEVE_TOOL_NAME for t in wrapped):
        wrapped.append(headroom_retrieve_tool(config=config, store=store))
    return wrapped


def _store_from_context(ctx: RunContextWrapper[Any]) -> CCRStore | None:
    """A store the run's context object carries (attribute or key ``headroom_store``)."""
    value = ctx.context
    found = (
        value.get("headroom_store")
        if isinstance(value, Mapping)
        else getattr(value, "headroom_store", None)
    )
    return found if isinstance(found, CCRStore) else None


def headroom_retrieve_tool(
    *, config: HeadroomConfig | None = None, store: CCRStore | None = None
) -> FunctionTool:
    """``headroom_retrieve`` as a ``FunctionTool``.

    The store is, in order: the run context's ``headroom_store`` (attribute or mapping
    key), then ``store``, then the default store of ``config``.
    """
    spec = retrieve_tool(config=config, store=store)

    async def on_invoke_tool(ctx: ToolContext[Any], arguments: str) -> str:
        found = _store_from_context(ctx) or store
        return retrieve_from_arguments(arguments, config=config, store=found)

    return FunctionTool(
        name=spec.name,
        description=spec.description,
        params_json_schema=spec.parameters,
        on_invoke_tool=on_invoke_tool,
        # optional arguments (query, max_tokens) are not expressible in strict mode
        strict_json_schema=False,
    )
