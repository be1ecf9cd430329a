"""Compressing what a LlamaIndex tool returns, shared by the tool wrapper and the agent hook."""

from __future__ import annotations

import logging
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CitableBlock,
    CitationBlock,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    VideoBlock,
)
from llama_index.core.schema import BaseNode
from llama_index.core.tools import ToolOutput

from headroom_core import RETRIEVE_TOOL_NAME, CCRStore, HeadroomConfig, compress

from ._events import emit

log = logging.getLogger("headroom")

#: Tools whose output must reach the model as is: retrieval answers the model asked for, and
#: the agent-workflow handoff message.
SKIPPED_TOOLS = frozenset({RETRIEVE_TOOL_NAME, "handoff"})

#: Return values ``FunctionTool`` turns into content blocks itself (see its output parser).
_BLOCK_TYPES = (
    TextBlock,
    ImageBlock,
    AudioBlock,
    VideoBlock,
    DocumentBlock,
    CitableBlock,
    CitationBlock,
    BaseNode,
)


def compressible_value(raw: Any) -> str | bytes | dict[str, Any] | list[Any] | None:
    """The raw tool return value as headroom input, or None for content blocks and nodes."""
    if isinstance(raw, (str, bytes, dict)):
        return raw
    if isinstance(raw, (list, tuple)):
        if any(isinstance(item, _BLOCK_TYPES) for item in raw):
            return None
        return list(raw)
    return None


def compress_text(
    content: str | bytes | dict[str, Any] | list[Any],
    *,
    tool_name: str | None,
    source: str,
    query: str | None,
    config: HeadroomConfig | None,
    store: CCRStore | None,
) -> str | None:
    """The compressed text, or None when headroom left the content as it was.

    Fails open: an error here is logged and the content passes through.
    """
    try:
        result = compress(content, query=query, tool=tool_name, config=config, store=store)
    except Exception:
        log.exception("headroom: compressing the output of %s failed; passed through", tool_name)
        return None
    emit(result, source=source, name=tool_name)
    return result.text if result.ref is not None else None


def compress_tool_output(
    output: ToolOutput,
    *,
    source: str,
    query: str | None,
    config: HeadroomConfig | None,
    store: CCRStore | None,
) -> ToolOutput | None:
    """A copy of ``output`` whose text blocks the model will read compressed, or None.

    ``raw_output`` and ``raw_input`` stay the original values. Errors, the retrieve tool
    and handoffs are left alone (and ``compress()`` leaves text with headroom markers).
    """
    if output.is_error or output.tool_name in SKIPPED_TOOLS:
        return None
    texts = [b for b in output.blocks if isinstance(b, TextBlock)]
    if not texts:
        return None
    kwargs: dict[str, Any] = {
        "tool_name": output.tool_name,
        "source": source,
        "query": query,
        "config": config,
        "store": store,
    }
    blocks: list[ContentBlock]
    if len(texts) == len(output.blocks):
        # all text: one input, so relevance and dedup see the whole output at once
        new = compress_text(output.content, **kwargs)
        if new is None:
            return None
        blocks = [TextBlock(text=new)]
    else:
        changed = False
        blocks = []
        for block in output.blocks:
            if isinstance(block, TextBlock) and (new := compress_text(block.text, **kwargs)):
                blocks.append(TextBlock(text=new))
                changed = True
            else:
                blocks.append(block)
        if not changed:
            return None
    return output.model_copy(update={"blocks": blocks})
