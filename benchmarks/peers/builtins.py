"""What agent frameworks already ship: LangChain context editing, Agents SDK trimming.

Both act only on *older* tool results (a fresh tool output is passed through whole), so
each case is placed where the built-in does act on it: the output is an earlier turn and
the edit's trigger has been reached. With their defaults and a single fresh tool output
both return the input unchanged (savings 0). Neither keeps the original for retrieval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..harness import Case, SystemOutput
from ..systems import Advance, RunContext, dist_version, timed


def _each_case(
    cases: Sequence[Case], ctx: RunContext, advance: Advance, fn: Callable[[Case], str]
) -> dict[str, SystemOutput]:
    out: dict[str, SystemOutput] = {}
    for case in cases:

        def call(case: Case = case) -> str:
            return fn(case)

        text, seconds, _ = timed(call, ctx.repeat)
        out[case.id] = SystemOutput(text, seconds)
        advance(case.id)
    return out


class LangChainClearToolUses:
    """``ContextEditingMiddleware(edits=[ClearToolUsesEdit(trigger=0, keep=0)])``."""

    name = "langchain-context-editing"

    def __init__(self, home: Path) -> None:
        from langchain.agents.middleware import ClearToolUsesEdit, ContextEditingMiddleware
        from langchain_core.language_models.fake_chat_models import FakeListChatModel

        self.middleware: Any = ContextEditingMiddleware(
            edits=[ClearToolUsesEdit(trigger=0, keep=0)]
        )
        self.model = FakeListChatModel(responses=["ok"])

    def version(self) -> str:
        return f"langchain {dist_version('langchain')}"

    def describe(self) -> str:
        return (
            "LangChain `ContextEditingMiddleware(edits=[ClearToolUsesEdit(trigger=0, keep=0)])`"
            ".wrap_model_call on `[HumanMessage(query), AIMessage(tool_call), "
            "ToolMessage(output)]`: the state once the trigger (default 100,000 tokens) is "
            "reached and the result is older than `keep` (default 3) tool results. The output "
            "becomes `[cleared]`; nothing is retrievable."
        )

    def _apply(self, case: Case) -> str:
        from langchain.agents.middleware.types import ModelRequest, ModelResponse
        from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

        messages: list[Any] = [
            HumanMessage(case.query),
            AIMessage("", tool_calls=[{"name": case.tool, "args": {}, "id": "call_1"}]),
            ToolMessage(case.text, tool_call_id="call_1", name=case.tool),
        ]
        seen: list[Any] = []

        def handler(request: Any) -> Any:
            seen.extend(request.messages)
            return ModelResponse(result=[AIMessage("ok")])

        self.middleware.wrap_model_call(ModelRequest(model=self.model, messages=messages), handler)
        content = seen[-1].content
        return content if isinstance(content, str) else str(content)

    def run(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> dict[str, SystemOutput]:
        return _each_case(cases, ctx, advance, self._apply)


class AgentsToolOutputTrimmer:
    """OpenAI Agents SDK ``ToolOutputTrimmer(recent_turns=1)`` on an earlier turn's output."""

    name = "agents-tool-output-trimmer"

    def __init__(self, home: Path) -> None:
        from agents import Agent
        from agents.extensions import ToolOutputTrimmer

        self.trimmer = ToolOutputTrimmer(recent_turns=1)
        self.agent = Agent(name="bench")

    def version(self) -> str:
        return f"openai-agents {dist_version('openai-agents')}"

    def describe(self) -> str:
        return (
            "OpenAI Agents SDK `ToolOutputTrimmer(recent_turns=1)` (defaults "
            "`max_output_chars=500, preview_chars=200`) as `call_model_input_filter` on "
            "`[user(query), function_call, function_call_output(output), user(next)]`: the "
            "output is an earlier turn, so it becomes a 200-character preview; nothing is "
            "retrievable."
        )

    def _apply(self, case: Case) -> str:
        from agents.run_config import CallModelData, ModelInputData

        items: list[Any] = [
            {"role": "user", "content": case.query},
            {"type": "function_call", "call_id": "call_1", "name": case.tool, "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": case.text},
            {"role": "user", "content": "Continue."},
        ]
        data = CallModelData(
            model_data=ModelInputData(input=items, instructions=None),
            agent=self.agent,
            context=None,
        )
        result = self.trimmer(data)
        item: dict[str, Any] = dict(result.input[2])
        output = item["output"]
        return output if isinstance(output, str) else str(output)

    def run(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> dict[str, SystemOutput]:
        return _each_case(cases, ctx, advance, self._apply)
