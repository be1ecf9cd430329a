"""Compressing LangChain tool messages with ``headroom_core``: shared by every entry point.

Each compression runs inside a callback run named ``headroom_compress`` (tag ``headroom``)
whose outputs carry the counts, so tracers such as LangSmith and
``HeadroomCallbackHandler`` see every call with the tags and metadata of the agent run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypedDict, TypeVar

from langchain_core.callbacks import AsyncCallbackManager, CallbackManager
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, ensure_config
from langchain_core.runnables.config import run_in_executor

from headroom_core import RETRIEVE_TOOL_NAME, CCRStore, Compression, HeadroomConfig, compress

#: Key under which headroom's figures are kept in ``ToolMessage.response_metadata`` and in
#: ``Document.metadata``; its presence also marks a message as already processed.
HEADROOM_KEY = "headroom"

#: Name of the callback run each compression is recorded under.
COMPRESS_RUN_NAME = "headroom_compress"

_RUN_TAGS = ["headroom"]

log = logging.getLogger("headroom")


class HeadroomArtifact(TypedDict):
    """What headroom records about one compressed tool output (JSON-serialisable)."""

    ref: str | None
    kind: str
    original_tokens: int
    compressed_tokens: int


#: Size floor: one token count for every tool, or per tool name (others use the config's).
MinTokens = int | Mapping[str, int]


@dataclass(frozen=True)
class Settings:
    """Which tool outputs to compress, and how."""

    config: HeadroomConfig
    store: CCRStore | None = None
    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    per_tool: Mapping[str, HeadroomConfig] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        config: HeadroomConfig | None,
        store: CCRStore | None,
        include: Collection[str] | None,
        exclude: Collection[str],
        min_tokens: MinTokens | None,
    ) -> Settings:
        config = config or HeadroomConfig()
        per_tool: dict[str, HeadroomConfig] = {}
        if isinstance(min_tokens, int):
            config = config.with_(min_tokens=min_tokens)
        elif min_tokens is not None:
            per_tool = {name: config.with_(min_tokens=n) for name, n in min_tokens.items()}
        return cls(
            config,
            store,
            None if include is None else frozenset(include),
            frozenset(exclude),
            per_tool,
        )

    def config_for(self, tool: str | None) -> HeadroomConfig:
        return self.per_tool.get(tool or "", self.config)

    def applies_to(self, tool: str | None) -> bool:
        """Whether outputs of ``tool`` are compressed (never the retrieval tool's own)."""
        if tool == RETRIEVE_TOOL_NAME:
            return False
        if self.include is not None and tool not in self.include:
            return False
        return tool not in self.exclude

    def wants(self, message: ToolMessage, tool: str | None) -> bool:
        """Whether ``message`` should go through compression."""
        return (
            message.status != "error"
            and HEADROOM_KEY not in message.response_metadata
            and self.applies_to(tool or message.name)
        )


def task_of(messages: Sequence[BaseMessage], end: int | None = None) -> str | None:
    """Text of the last human message before index ``end``: the task a tool works for.

    Taking the one *before* a tool result (not the latest) keeps the query, and so the
    compressed bytes, stable as the conversation goes on.
    """
    for message in reversed(messages[:end]):
        if message.type == "human":
            text = str(message.text).strip()
            if text:
                return text
    return None


def _block_text(block: Any) -> str | None:
    if isinstance(block, str):
        return block
    if (
        isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    ):
        return str(block["text"])
    return None


def compress_content(
    content: Any, *, query: str | None, tool: str | None, settings: Settings
) -> tuple[Any, Compression | None]:
    """(new content, compression) for a string or content-block list.

    Text blocks of a list are joined and compressed as one document that takes the place
    of the first of them; other blocks (images, files) stay where they were. The
    compression is ``None`` when there was no text.
    """
    if isinstance(content, str):
        result = compress(
            content, query=query, tool=tool, config=settings.config_for(tool), store=settings.store
        )
        return (result.text if result.ref else content), result
    if not isinstance(content, list):
        return content, None
    texts = {i: t for i, block in enumerate(content) if (t := _block_text(block)) is not None}
    if not texts:
        return content, None
    result = compress(
        "\n".join(texts.values()),
        query=query,
        tool=tool,
        config=settings.config_for(tool),
        store=settings.store,
    )
    if result.ref is None:
        return content, result
    first = min(texts)
    blocks: list[Any] = []
    for i, block in enumerate(content):
        if i == first:
            blocks.append({"type": "text", "text": result.text})
        elif i not in texts:
            blocks.append(block)
    return blocks, result


def artifact_of(result: Compression) -> HeadroomArtifact:
    return HeadroomArtifact(
        ref=result.ref,
        kind=result.kind,
        original_tokens=result.original_tokens,
        compressed_tokens=result.compressed_tokens,
    )


def _with_result(message: ToolMessage, content: Any, result: Compression) -> ToolMessage:
    """``message`` carrying ``content`` and headroom's figures; the tool's own artifact wins."""
    info = artifact_of(result)
    update: dict[str, Any] = {
        "content": content,
        "response_metadata": {**message.response_metadata, HEADROOM_KEY: info},
    }
    if message.artifact is None:
        update["artifact"] = info
    return message.model_copy(update=update)


def _run_outputs(
    tool: str | None, call_id: str | None, result: Compression | None, seconds: float
) -> dict[str, Any]:
    return {
        "tool": tool,
        "tool_call_id": call_id,
        "kind": result.kind if result else None,
        "original_tokens": result.original_tokens if result else 0,
        "compressed_tokens": result.compressed_tokens if result else 0,
        "ref": result.ref if result else None,
        "latency_ms": round(seconds * 1000, 3),
    }


def _manager_args(config: RunnableConfig | None, tool: str | None) -> dict[str, Any]:
    """Arguments of ``CallbackManager.configure`` for a child run of ``config``'s run."""
    config = ensure_config(config)
    return {
        "inheritable_callbacks": config.get("callbacks"),
        "inheritable_tags": config.get("tags"),
        "local_tags": _RUN_TAGS,
        "inheritable_metadata": config.get("metadata"),
        "local_metadata": {"headroom_tool": tool},
    }


T = TypeVar("T")


@dataclass(frozen=True)
class Job(Generic[T]):
    """One compression to trace: ``work`` gives (new value, compression), or raises."""

    work: Callable[[], tuple[T, Compression | None]]
    fallback: T  # the uncompressed value
    tool: str | None
    call_id: str | None

    @property
    def inputs(self) -> dict[str, Any]:
        return {"tool": self.tool, "tool_call_id": self.call_id}

    def fail_open(self) -> T:
        """Log the error being handled; the fallback."""
        log.exception("headroom: compressing the output of %s failed; passed through", self.tool)
        return self.fallback


def traced(job: Job[T], config: RunnableConfig | None) -> T:
    """Run ``job`` inside a ``headroom_compress`` callback run.

    Fails open like ``compress()``: if the work raises, the error is logged and recorded on
    the run, and the job's fallback (the uncompressed value) is returned.
    """
    run = CallbackManager.configure(**_manager_args(config, job.tool)).on_chain_start(
        None, job.inputs, name=COMPRESS_RUN_NAME
    )
    start = time.perf_counter()
    try:
        value, result = job.work()
    except Exception as exc:
        run.on_chain_error(exc)
        return job.fail_open()
    run.on_chain_end(_run_outputs(job.tool, job.call_id, result, time.perf_counter() - start))
    return value


async def atraced(job: Job[T], config: RunnableConfig | None) -> T:
    """Async ``traced``: the work runs in a thread, off the event loop."""
    manager = AsyncCallbackManager.configure(**_manager_args(config, job.tool))
    run = await manager.on_chain_start(None, job.inputs, name=COMPRESS_RUN_NAME)
    start = time.perf_counter()
    try:
        value, result = await run_in_executor(config, job.work)
    except Exception as exc:
        await run.on_chain_error(exc)
        return job.fail_open()
    await run.on_chain_end(_run_outputs(job.tool, job.call_id, result, time.perf_counter() - start))
    return value


def _compress_message(
    message: ToolMessage, tool: str | None, query: str | None, settings: Settings
) -> tuple[ToolMessage, Compression | None]:
    content, result = compress_content(message.content, query=query, tool=tool, settings=settings)
    if result is None or result.ref is None:
        return message, result
    return _with_result(message, content, result), result


def message_job(
    message: ToolMessage, *, tool: str | None, query: str | None, settings: Settings
) -> Job[ToolMessage]:
    """The job that gives ``message`` compressed content and the ref in its artifact."""
    tool = tool or message.name
    work = partial(_compress_message, message, tool, query, settings)
    return Job(work, message, tool, message.tool_call_id)
