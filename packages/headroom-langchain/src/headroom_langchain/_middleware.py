"""Agent middleware for ``langchain.agents.create_agent``: compress tool results."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
)
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from headroom_core import CCRStore, HeadroomConfig

from ._compress import Job, MinTokens, Settings, atraced, message_job, task_of, traced
from ._tools import HeadroomRetrieveTool

ToolResult = ToolMessage | Command[Any]


def _state_messages(state: Any) -> Sequence[BaseMessage]:
    """The message list of a graph state (a dict, a list, or an object with ``messages``)."""
    if isinstance(state, dict):
        messages = state.get("messages", ())
    elif isinstance(state, list):
        messages = state
    else:
        messages = getattr(state, "messages", ())
    return [m for m in messages if isinstance(m, BaseMessage)]


def _run_config(request: ToolCallRequest) -> RunnableConfig | None:
    """The config of the agent run a tool call belongs to (for its callbacks and tags)."""
    return getattr(request.runtime, "config", None)


class _HeadroomMiddlewareBase(AgentMiddleware[AgentState[Any], Any, Any]):
    def __init__(
        self,
        *,
        config: HeadroomConfig | None = None,
        store: CCRStore | None = None,
        include: Collection[str] | None = None,
        exclude: Collection[str] = (),
        min_tokens: MinTokens | None = None,
    ) -> None:
        super().__init__()
        self.settings = Settings.build(
            config=config, store=store, include=include, exclude=exclude, min_tokens=min_tokens
        )
        self.tools = [HeadroomRetrieveTool(config=self.settings.config, store=store)]


class HeadroomMiddleware(_HeadroomMiddlewareBase):
    """Compress each tool result as it enters the agent state, and offer ``headroom_retrieve``.

    Every ``ToolMessage`` (string or content-block list) is compressed with the tool's name
    and the task (the last human message) as the relevance query; the ref and counts go to
    ``artifact`` (unless the tool set its own) and ``response_metadata["headroom"]``.
    Errors, ``Command`` results and ``headroom_retrieve``'s own results pass through.

    Args:
        config: compression and store settings (default ``HeadroomConfig()``).
        store: where originals go (default: the store of ``config``'s home).
        include: compress only these tools (default: all).
        exclude: never compress these tools.
        min_tokens: outputs below this many tokens pass through (default
            ``config.min_tokens``); a mapping sets it per tool name.

    Holds no per-call state, so sync tools running in parallel threads are safe.
    """

    def _job(self, request: ToolCallRequest, result: Any) -> Job[ToolMessage] | None:
        """The compression of ``result``, or None when it passes through."""
        tool = request.tool_call["name"]
        if not isinstance(result, ToolMessage) or not self.settings.wants(result, tool):
            return None
        query = task_of(_state_messages(request.state))
        return message_job(result, tool=tool, query=query, settings=self.settings)

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        result = handler(request)
        job = self._job(request, result)
        if job is None:
            return result
        return traced(job, _run_config(request))

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        result = await handler(request)
        job = self._job(request, result)
        if job is None:
            return result
        return await atraced(job, _run_config(request))


class HeadroomRequestMiddleware(_HeadroomMiddlewareBase):
    """Compress tool results only in what the model is sent; the graph state keeps them whole.

    For agents that checkpoint full tool outputs. Each tool result is compressed with the
    task that preceded it, so its bytes stay the same on every later model call (provider
    prompt caches keep hitting); results are cached per instance (``cache_size`` entries,
    least recently used evicted) so each is compressed once. Same arguments as
    ``HeadroomMiddleware``.
    """

    def __init__(
        self,
        *,
        config: HeadroomConfig | None = None,
        store: CCRStore | None = None,
        include: Collection[str] | None = None,
        exclude: Collection[str] = (),
        min_tokens: MinTokens | None = None,
        cache_size: int = 1024,
    ) -> None:
        super().__init__(
            config=config, store=store, include=include, exclude=exclude, min_tokens=min_tokens
        )
        self.cache_size = cache_size
        self._cache: OrderedDict[str, ToolMessage] = OrderedDict()
        self._lock = threading.Lock()

    def _plan(
        self, messages: Sequence[AnyMessage]
    ) -> list[tuple[int, ToolMessage, str | None, str | None, str]]:
        """(index, message, tool, query, cache key) of each tool result to compress."""
        names: dict[str, str] = {}
        plan = []
        for i, message in enumerate(messages):
            if isinstance(message, AIMessage):
                names.update({c["id"]: c["name"] for c in message.tool_calls if c["id"]})
            elif isinstance(message, ToolMessage):
                tool = message.name or names.get(message.tool_call_id)
                if self.settings.wants(message, tool):
                    query = task_of(messages, i)
                    plan.append((i, message, tool, query, _key(message, tool, query)))
        return plan

    def _cached(self, key: str) -> ToolMessage | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _remember(self, key: str, message: ToolMessage) -> None:
        with self._lock:
            self._cache[key] = message
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _rewrite(
        self, request: ModelRequest[Any], done: dict[int, ToolMessage]
    ) -> ModelRequest[Any]:
        if all(done[i] is request.messages[i] for i in done):
            return request
        messages = [done.get(i, m) for i, m in enumerate(request.messages)]
        return request.override(messages=messages)

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any] | AIMessage:
        done: dict[int, ToolMessage] = {}
        for i, message, tool, query, key in self._plan(request.messages):
            new = self._cached(key)
            if new is None:
                job = message_job(message, tool=tool, query=query, settings=self.settings)
                new = traced(job, None)
                self._remember(key, new)
            done[i] = new
        return handler(self._rewrite(request, done))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any] | AIMessage:
        done: dict[int, ToolMessage] = {}
        for i, message, tool, query, key in self._plan(request.messages):
            new = self._cached(key)
            if new is None:
                job = message_job(message, tool=tool, query=query, settings=self.settings)
                new = await atraced(job, None)
                self._remember(key, new)
            done[i] = new
        return await handler(self._rewrite(request, done))


def _key(message: ToolMessage, tool: str | None, query: str | None) -> str:
    content = json.dumps(message.content, sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256()
    for part in (message.tool_call_id, tool or "", query or "", content):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
