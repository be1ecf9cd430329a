"""A tool output guardrail that substitutes the compressed text for a tool's output."""

from __future__ import annotations

from typing import Any

from agents import (
    ToolGuardrailFunctionOutput,
    ToolOutputGuardrail,
    ToolOutputGuardrailData,
)

from headroom_core import CCRStore, HeadroomConfig

from ._records import compress_recorded
from ._tools import _text_of, query_for_call


def make_tool_output_guardrail(
    *, config: HeadroomConfig | None = None, store: CCRStore | None = None
) -> ToolOutputGuardrail[Any]:
    """A ``ToolOutputGuardrail`` that replaces a long text output by its compression.

    It uses ``reject_content`` with the compressed text as the message, which is how a
    guardrail changes what the model sees. It fits where you do not build the tools
    yourself: ``MCPServer(..., tool_output_guardrails=[guardrail])`` covers every tool of a
    server. The trade-off against ``compress_tool``: the SDK records each compressed call
    as a guardrail *rejection* in run results and traces, and skips the tool's output
    schema for that call. Prefer ``compress_tool`` for tools you own.
    """

    def headroom_compress_output(data: ToolOutputGuardrailData) -> ToolGuardrailFunctionOutput:
        text = _text_of(data.output)
        if text is None:
            return ToolGuardrailFunctionOutput.allow()
        ctx = data.context
        result = compress_recorded(
            text,
            tool=ctx.tool_name,
            call_id=ctx.tool_call_id,
            query=query_for_call(ctx, ctx.tool_arguments),
            config=config,
            store=store,
        )
        if result.ref is None:
            return ToolGuardrailFunctionOutput.allow(output_info={"compressed": False})
        return ToolGuardrailFunctionOutput.reject_content(
            result.text,
            output_info={
                "compressed": True,
                "ref": result.ref,
                "original_tokens": result.original_tokens,
                "compressed_tokens": result.compressed_tokens,
            },
        )

    return ToolOutputGuardrail(guardrail_function=headroom_compress_output, name="headroom")


#: The guardrail with the default config and store.
headroom_tool_output_guardrail: ToolOutputGuardrail[Any] = make_tool_output_guardrail()
