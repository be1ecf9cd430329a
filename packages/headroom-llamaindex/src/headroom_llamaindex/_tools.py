"""``FunctionTool`` wrappers: compressed outputs for the model, and ``headroom_retrieve``."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any

from llama_index.core.bridge.pydantic import BaseModel, Field
from llama_index.core.tools import BaseTool, FunctionTool, ToolOutput

from headroom_core import (
    REF_RE,
    RETRIEVE_TOOL_NAME,
    RETRIEVE_TOOL_PARAMETERS,
    CCRStore,
    HeadroomConfig,
    query_from_arguments,
    retrieve_tool,
)

from ._output import compress_text, compress_tool_output, compressible_value

CallbackReturn = ToolOutput | str | None
Query = str | Callable[[dict[str, Any]], str | None] | None

#: The keyword arguments of the call in progress, for the output callback's query.
_call_kwargs: ContextVar[dict[str, Any] | None] = ContextVar("headroom_call_kwargs", default=None)


class CompressedFunctionTool(FunctionTool):
    """A ``FunctionTool`` whose output callback can see the call's arguments."""

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        token = _call_kwargs.set(kwargs)
        try:
            return super().call(*args, **kwargs)
        finally:
            _call_kwargs.reset(token)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        token = _call_kwargs.set(kwargs)
        try:
            return await super().acall(*args, **kwargs)
        finally:
            _call_kwargs.reset(token)


def compress_tool(
    tool: FunctionTool,
    *,
    query: Query = None,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> FunctionTool:
    """A copy of ``tool`` whose output the model reads compressed.

    The copy is built from ``tool.real_fn``, so a ``Context`` parameter is still injected,
    and compresses in the tool's output callback: ``ToolOutput.raw_output`` keeps the
    original return value while ``ToolOutput.content`` is what the model reads. A callback
    already on ``tool`` runs first and its result is compressed. The relevance query is
    ``query`` if a string, ``query(kwargs)`` if a callable, else the call's string and
    number arguments (a tool never sees the user's question: the agent classes pass that).
    The ``headroom_retrieve`` tool and tools already wrapped are returned unchanged.
    """
    if not isinstance(tool, FunctionTool):
        raise TypeError(
            f"compress_tool wraps FunctionTool, got {type(tool).__name__}; for other tool "
            "types use HeadroomFunctionAgent / HeadroomReActAgent, which compress every "
            "tool result"
        )
    name = tool.metadata.get_name()
    if name == RETRIEVE_TOOL_NAME or isinstance(tool, CompressedFunctionTool):
        return tool
    user_callback: Callable[[Any], CallbackReturn] | None = tool._callback
    user_async_callback: Callable[[Any], Any] | None = tool._async_callback

    def finish(raw: Any, user_result: CallbackReturn) -> CallbackReturn:
        kwargs = _call_kwargs.get() or {}
        hint = query if isinstance(query, str) else (query or query_from_arguments)(kwargs)
        if isinstance(user_result, ToolOutput):
            compressed = compress_tool_output(
                user_result, source="tool", query=hint, config=config, store=store
            )
            return compressed or user_result
        value = user_result if isinstance(user_result, str) else compressible_value(raw)
        if value is None:
            return user_result
        text = compress_text(
            value, tool_name=name, source="tool", query=hint, config=config, store=store
        )
        return text if text is not None else user_result

    def callback(raw: Any) -> CallbackReturn:
        return finish(raw, user_callback(raw) if user_callback else None)

    async def async_callback(raw: Any) -> CallbackReturn:
        user_result = await user_async_callback(raw) if user_async_callback else None
        return finish(raw, user_result)

    real_fn = tool.real_fn
    fn: Callable[..., Any] | None
    async_fn: Callable[..., Awaitable[Any]] | None
    if inspect.iscoroutinefunction(real_fn):
        fn, async_fn = None, real_fn
    else:
        # keeps a native async implementation given next to the sync one
        fn, async_fn = real_fn, tool.async_fn
    return CompressedFunctionTool(
        fn=fn,
        async_fn=async_fn,
        metadata=tool.metadata,
        callback=callback,
        async_callback=async_callback,
        partial_params=dict(tool.partial_params),
    )


def compress_tools(
    tools: Iterable[BaseTool | Callable[..., Any]],
    *,
    query: Query = None,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> list[BaseTool]:
    """``compress_tool`` over a tool list; plain functions become ``FunctionTool`` first.

    Tools of other types are returned unchanged: the agent hook covers them.
    """
    out: list[BaseTool] = []
    for tool in tools:
        if not isinstance(tool, BaseTool):
            tool = FunctionTool.from_defaults(tool)
        if isinstance(tool, FunctionTool):
            tool = compress_tool(tool, query=query, config=config, store=store)
        out.append(tool)
    return out


class RetrieveArgs(BaseModel):
    """Arguments of ``headroom_retrieve``; its JSON schema is the core's, byte for byte."""

    ref: str = Field(pattern=f"^{REF_RE.pattern}$")
    query: str | None = None
    max_tokens: int | None = Field(default=None, ge=50)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return copy.deepcopy(RETRIEVE_TOOL_PARAMETERS)


def headroom_retrieve_tool(
    *, config: HeadroomConfig | None = None, store: CCRStore | None = None
) -> FunctionTool:
    """The ``headroom_retrieve`` tool as a ``FunctionTool`` for the model."""
    spec = retrieve_tool(config=config, store=store)
    return FunctionTool.from_defaults(
        fn=spec.func, name=spec.name, description=spec.description, fn_schema=RetrieveArgs
    )


def has_retrieve_tool(tools: Sequence[Any]) -> bool:
    return any(isinstance(t, BaseTool) and t.metadata.name == RETRIEVE_TOOL_NAME for t in tools)
