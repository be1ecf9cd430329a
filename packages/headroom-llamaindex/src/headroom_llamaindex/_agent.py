"""Agent hook: compress every tool result before the agent writes it into the model's input.

Workflow agents hand their tool results to ``handle_tool_call_results`` (standalone and
inside ``AgentWorkflow``), whatever the tool type, so overriding it covers every tool.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.agent.workflow import FunctionAgent, ReActAgent
from llama_index.core.agent.workflow.base_agent import BaseWorkflowAgent
from llama_index.core.agent.workflow.workflow_events import ToolCallResult
from llama_index.core.bridge.pydantic import Field, model_validator
from llama_index.core.memory import BaseMemory
from llama_index.core.workflow import Context

from headroom_core import CCRStore, HeadroomConfig, query_from_arguments

from ._output import compress_tool_output
from ._tools import has_retrieve_tool, headroom_retrieve_tool


class HeadroomAgentMixin(BaseWorkflowAgent):
    """Put first in the bases of any workflow agent: ``class A(HeadroomAgentMixin, MyAgent)``.

    The model reads compressed tool results (the relevance query is the user's message and
    the call's string and number arguments); the ``ToolCallResult`` events, and the tool
    calls a run reports, keep the originals. The ``headroom_retrieve`` tool is added to ``tools`` unless
    it is there already.
    """

    headroom_config: HeadroomConfig | None = Field(default=None, exclude=True)
    headroom_store: CCRStore | None = Field(default=None, exclude=True)
    headroom_add_retrieve_tool: bool = Field(
        default=True, description="Add the headroom_retrieve tool to the agent's tools."
    )
    headroom_exclude: list[str] = Field(
        default_factory=list, description="Names of tools whose results pass through."
    )

    @model_validator(mode="after")
    def _add_retrieve_tool(self) -> Any:
        if self.headroom_add_retrieve_tool and not has_retrieve_tool(self.tools or []):
            tool = headroom_retrieve_tool(config=self.headroom_config, store=self.headroom_store)
            self.tools = [*(self.tools or []), tool]
        return self

    async def handle_tool_call_results(
        self, ctx: Context, results: list[ToolCallResult], memory: BaseMemory
    ) -> None:
        task = await ctx.store.get("user_msg_str", default=None)
        compressed = [self._compress_result(r, task) for r in results]
        # the concrete agent after this mixin in the MRO implements it
        await super().handle_tool_call_results(ctx, compressed, memory)  # type: ignore[safe-super]

    def _compress_result(self, result: ToolCallResult, task: str | None) -> ToolCallResult:
        if result.tool_name in self.headroom_exclude:
            return result
        query = " ".join(q for q in (task, query_from_arguments(result.tool_kwargs)) if q) or None
        output = compress_tool_output(
            result.tool_output,
            source="agent",
            query=query,
            config=self.headroom_config,
            store=self.headroom_store,
        )
        if output is None:
            return result
        return result.model_copy(update={"tool_output": output})


class HeadroomFunctionAgent(HeadroomAgentMixin, FunctionAgent):
    """``FunctionAgent`` that compresses every tool result the model reads."""


class HeadroomReActAgent(HeadroomAgentMixin, ReActAgent):
    """``ReActAgent`` that compresses every observation the model reads."""
