"""LangChain tools: ``headroom_retrieve`` and a wrapper that compresses any tool's output."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from typing import Annotated, Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langchain_core.tools.base import ArgsSchema
from langchain_core.utils.pydantic import TypeBaseModel
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SkipValidation

from headroom_core import (
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    RETRIEVE_TOOL_PARAMETERS,
    CCRStore,
    HeadroomConfig,
    ToolSpec,
    query_from_arguments,
    retrieve_tool,
)

from ._compress import Job, MinTokens, Settings, atraced, message_job, traced

#: A relevance query for a wrapped tool: fixed, or computed from the tool input.
QueryHint = str | Callable[[dict[str, Any] | str], str | None]

_PARAMS: dict[str, Any] = RETRIEVE_TOOL_PARAMETERS["properties"]


class HeadroomRetrieveInput(BaseModel):
    """Arguments of ``headroom_retrieve``."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(description=_PARAMS["ref"]["description"])
    query: str | None = Field(default=None, description=_PARAMS["query"]["description"])
    max_tokens: int | None = Field(
        default=None,
        ge=_PARAMS["max_tokens"]["minimum"],
        description=_PARAMS["max_tokens"]["description"],
    )


class HeadroomRetrieveTool(BaseTool):
    """The ``headroom_retrieve`` tool: the original behind a marker's ref, or its matching chunks.

    The model is sent exactly the core's JSON schema (``RETRIEVE_TOOL_PARAMETERS``); the
    pydantic ``args_schema`` validates calls. A bad or expired ref gives a readable message,
    never an exception.
    """

    name: str = RETRIEVE_TOOL_NAME
    description: str = RETRIEVE_TOOL_DESCRIPTION
    args_schema: ArgsSchema | None = HeadroomRetrieveInput
    config: Annotated[HeadroomConfig | None, SkipValidation()] = None
    store: Annotated[CCRStore | None, SkipValidation()] = None

    _spec: ToolSpec = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._spec = retrieve_tool(config=self.config, store=self.store)

    @property
    def tool_call_schema(self) -> ArgsSchema:
        return {**self._spec.parameters, "description": self.description}

    def _run(self, ref: str, query: str | None = None, max_tokens: int | None = None) -> str:
        return self._spec(ref=ref, query=query, max_tokens=max_tokens)


class CompressedTool(BaseTool):
    """A tool whose output reaches the model compressed, with the ref in ``artifact``.

    Name, description, argument schemas, injected arguments (``InjectedToolCallId``,
    ``InjectedState``, ``ToolRuntime``), error handling, callbacks and async all stay the
    wrapped tool's: every call runs the wrapped tool as it is, then compresses its
    ``ToolMessage``. Called without a tool call id it returns the compressed text.
    """

    tool: BaseTool
    settings: Annotated[Settings, SkipValidation()]
    query: Annotated[QueryHint | None, SkipValidation()] = None

    @classmethod
    def wrap(
        cls,
        tool: BaseTool,
        settings: Settings,
        query: QueryHint | None = None,
    ) -> CompressedTool:
        return cls(
            name=tool.name,
            description=tool.description,
            args_schema=tool.args_schema,
            return_direct=tool.return_direct,
            response_format="content_and_artifact",
            tags=tool.tags,
            metadata=tool.metadata,
            extras=tool.extras,
            tool=tool,
            settings=settings,
            query=query,
        )

    # -- the wrapped tool's view, for model binding and for ToolNode's argument injection
    @property
    def tool_call_schema(self) -> ArgsSchema:
        return self.tool.tool_call_schema

    def get_input_schema(self, config: RunnableConfig | None = None) -> TypeBaseModel:
        return self.tool.get_input_schema(config)

    @property
    def func(self) -> Callable[..., Any] | None:
        return getattr(self.tool, "func", None)

    @property
    def coroutine(self) -> Callable[..., Any] | None:
        return getattr(self.tool, "coroutine", None)

    # -- running
    def _query(self, tool_input: str | dict[str, Any]) -> str | None:
        if callable(self.query):
            return self.query(tool_input)
        if self.query is not None:
            return self.query
        if isinstance(tool_input, dict):  # the model's arguments only, not injected values
            asked = self.tool.args
            tool_input = {k: v for k, v in tool_input.items() if k in asked}
        return query_from_arguments(tool_input)

    def _job(self, output: Any, tool_input: str | dict[str, Any]) -> Job[ToolMessage] | None:
        """The compression of the wrapped tool's output, or None to return it as is.

        A call without a tool call id gives plain output; it is compressed as a message too.
        """
        message = output
        if isinstance(output, (str, list)):
            message = ToolMessage(content=output, tool_call_id="", name=self.name)
        elif isinstance(output, dict):
            message = ToolMessage(content=_json(output), tool_call_id="", name=self.name)
        if not isinstance(message, ToolMessage) or not self.settings.wants(message, self.name):
            return None
        query = self._query(tool_input)
        return message_job(message, tool=self.name, query=query, settings=self.settings)

    def run(
        self,
        tool_input: str | dict[str, Any],
        *args: Any,
        config: RunnableConfig | None = None,
        tool_call_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        output = self.tool.run(
            tool_input, *args, config=config, tool_call_id=tool_call_id, **kwargs
        )
        job = self._job(output, tool_input)
        return output if job is None else _result(output, job, traced(job, config))

    async def arun(
        self,
        tool_input: str | dict[str, Any],
        *args: Any,
        config: RunnableConfig | None = None,
        tool_call_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        output = await self.tool.arun(
            tool_input, *args, config=config, tool_call_id=tool_call_id, **kwargs
        )
        job = self._job(output, tool_input)
        return output if job is None else _result(output, job, await atraced(job, config))

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("CompressedTool runs through run()/arun()")  # pragma: no cover


def _result(output: Any, job: Job[ToolMessage], new: ToolMessage) -> Any:
    """What the wrapper returns: the new message, or for a plain call its text."""
    if isinstance(output, ToolMessage):
        return new
    return output if new is job.fallback else new.content


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def compress_tool(
    tool: BaseTool,
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    query: QueryHint | None = None,
    min_tokens: MinTokens | None = None,
) -> CompressedTool:
    """Wrap ``tool`` so its output reaches the model compressed.

    ``query`` is the relevance hint: a fixed string, or a function of the tool input;
    by default the string and number arguments of the call (what the agent asked the tool
    for; ``headroom_core.query_from_arguments``).
    ``min_tokens`` overrides ``config.min_tokens`` (outputs below it pass through); a
    mapping sets it per tool name.
    """
    if isinstance(tool, CompressedTool):
        return tool
    settings = Settings.build(
        config=config, store=store, include=None, exclude=(), min_tokens=min_tokens
    )
    return CompressedTool.wrap(tool, settings, query)


def compress_tools(
    tools: Iterable[BaseTool],
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    include: Collection[str] | None = None,
    exclude: Collection[str] = (),
    min_tokens: MinTokens | None = None,
    retrieve: bool = True,
) -> list[BaseTool]:
    """``compress_tool`` for each tool (those ``include``d, not ``exclude``d by name).

    With ``retrieve`` (default) a ``HeadroomRetrieveTool`` on the same config and store is
    appended, unless the list already has one.
    """
    settings = Settings.build(
        config=config, store=store, include=include, exclude=exclude, min_tokens=min_tokens
    )
    out: list[BaseTool] = [
        CompressedTool.wrap(t, settings)
        if settings.applies_to(t.name) and not isinstance(t, CompressedTool)
        else t
        for t in tools
    ]
    if retrieve and all(t.name != RETRIEVE_TOOL_NAME for t in out):
        out.append(HeadroomRetrieveTool(config=settings.config, store=store))
    return out
