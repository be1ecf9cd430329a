"""compress_tool / compress_tools, headroom_retrieve_tool and the savings events.

No ``from __future__ import annotations`` here: FunctionTool finds a ``Context`` parameter
by comparing evaluated annotations.
"""

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import pytest
from llama_index.core.base.llms.types import ImageBlock, TextBlock
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.tools import FunctionTool, QueryEngineTool, ToolOutput
from llama_index.core.workflow import Context, StartEvent, StopEvent, Workflow, step

import headroom_llamaindex
from headroom_core import (
    MARKER_RE,
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    RETRIEVE_TOOL_PARAMETERS,
    compress,
    retrieve,
)
from headroom_llamaindex import (
    HeadroomCompressionEvent,
    HeadroomSavingsHandler,
    compress_tool,
    compress_tools,
    headroom_retrieve_tool,
)

USERS_PAGE = (files("headroom_core") / "demo_data" / "github_list_users.json").read_text("utf-8")


def test_public_names_are_pinned() -> None:
    assert sorted(headroom_llamaindex.__all__) == [
        "HeadroomAgentMixin",
        "HeadroomCompressionEvent",
        "HeadroomFunctionAgent",
        "HeadroomNodePostprocessor",
        "HeadroomReActAgent",
        "HeadroomSavingsHandler",
        "SavingsRecord",
        "compress_tool",
        "compress_tools",
        "headroom_retrieve_tool",
    ]
    for name in headroom_llamaindex.__all__:
        assert getattr(headroom_llamaindex, name) is not None


@pytest.fixture
def savings() -> Iterator[HeadroomSavingsHandler]:
    handler = HeadroomSavingsHandler()
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


def list_users(since: int = 0) -> str:
    """List GitHub users."""
    return USERS_PAGE


def _assert_compressed(output: ToolOutput) -> str:
    """The ref of a compressed output whose raw_output kept the original."""
    assert output.raw_output == USERS_PAGE
    assert len(output.content) < len(USERS_PAGE)
    marker = MARKER_RE.search(output.content)
    assert marker is not None
    assert retrieve(marker["ref"]) == USERS_PAGE
    return marker["ref"]


def test_model_reads_compressed_text_and_raw_output_keeps_the_original(
    savings: HeadroomSavingsHandler,
) -> None:
    original = FunctionTool.from_defaults(list_users)
    tool = compress_tool(original)

    output = tool.call(since=0)

    ref = _assert_compressed(output)
    assert output.tool_name == "list_users"
    assert output.raw_input == {"args": (), "kwargs": {"since": 0}}
    assert tool.metadata is original.metadata  # same name, description and schema
    assert compress_tool(tool) is tool  # never compressed twice
    [record] = savings.records
    assert (record.source, record.name, record.ref) == ("tool", "list_users", ref)
    assert record.compressed_tokens < record.original_tokens
    assert savings.saved_tokens == record.saved_tokens


def test_compressed_output_is_left_alone_and_counted_once(
    savings: HeadroomSavingsHandler,
) -> None:
    """A wrapped tool's output reaching the agent hook passes through, with no new record."""
    from headroom_llamaindex._output import compress_tool_output

    output = compress_tool(FunctionTool.from_defaults(list_users)).call(since=0)
    _assert_compressed(output)
    again = compress_tool_output(output, source="agent", query=None, config=None, store=None)
    assert again is None
    assert [r.source for r in savings.records] == ["tool"]


async def test_async_call_and_native_async_function() -> None:
    async def fetch_users(since: int = 0) -> str:
        """List GitHub users."""
        return USERS_PAGE

    sync_based = compress_tool(FunctionTool.from_defaults(list_users))
    async_based = compress_tool(FunctionTool.from_defaults(async_fn=fetch_users))

    _assert_compressed(await sync_based.acall(since=0))
    _assert_compressed(await async_based.acall(since=0))


def test_same_output_compresses_to_the_same_bytes() -> None:
    tool = compress_tool(FunctionTool.from_defaults(list_users), query="lawrencepit")
    assert tool.call().content == tool.call().content
    assert tool.call().content == compress(USERS_PAGE, query="lawrencepit", tool="list_users").text


async def test_query_defaults_to_the_call_arguments() -> None:
    source = (files("headroom_core") / "demo_data" / "shutil.py").read_text("utf-8")

    def read_source(module: str, symbol: str, context_lines: int = 0) -> str:
        """Read a module's source, to look at one symbol."""
        return source

    def expected(query: str | None) -> str:
        return compress(source, query=query, tool="read_source").text

    # code keeps the bodies that match the query, so the query shows in the output
    assert expected("shutil rmtree") != expected(None)
    by_args = compress_tool(FunctionTool.from_defaults(read_source))
    by_callable = compress_tool(
        FunctionTool.from_defaults(read_source), query=lambda kwargs: kwargs["symbol"]
    )

    # string and number values, as compress_messages takes them from a call
    assert by_args.call(module="shutil", symbol="rmtree", context_lines=3).content == expected(
        "shutil rmtree 3"
    )
    assert (await by_args.acall(module="shutil", symbol="rmtree")).content == expected(
        "shutil rmtree"
    )
    assert by_callable.call(module="shutil", symbol="rmtree").content == expected("rmtree")


async def test_context_parameter_is_still_injected() -> None:
    seen: list[object] = []

    async def users_for_run(ctx: Context, since: int = 0) -> str:
        """List GitHub users, remembering the call in the run's state."""
        await ctx.store.set("listed_since", since)
        seen.append(ctx)
        return USERS_PAGE

    tool = compress_tool(FunctionTool.from_defaults(users_for_run))
    assert tool.requires_context
    assert tool.ctx_param_name == "ctx"
    assert "ctx" not in tool.metadata.get_parameters_dict()["properties"]

    class Run(Workflow):
        @step
        async def go(self, ctx: Context, ev: StartEvent) -> StopEvent:
            output = await tool.acall(ctx=ctx, since=7)
            return StopEvent(result=(output, await ctx.store.get("listed_since")))

    output, listed_since = await Run(timeout=30).run()
    assert listed_since == 7 and len(seen) == 1
    _assert_compressed(output)
    assert "ctx" not in output.raw_input["kwargs"]


def test_partial_params_survive() -> None:
    def users_page(org: str, since: int = 0) -> str:
        """List users of an organisation."""
        assert org == "github"
        return USERS_PAGE

    tool = compress_tool(FunctionTool.from_defaults(users_page, partial_params={"org": "github"}))
    _assert_compressed(tool(since=0))


def test_callback_already_on_the_tool_runs_first() -> None:
    first_page = json.dumps(json.loads(USERS_PAGE)[:40], indent=2)

    def first_40(raw: Any) -> str:
        return first_page

    def as_output(raw: Any) -> ToolOutput:
        return ToolOutput(content=raw, tool_name="list_users", raw_output=raw, raw_input={})

    with_str = compress_tool(FunctionTool.from_defaults(list_users, callback=first_40))
    with_output = compress_tool(FunctionTool.from_defaults(list_users, callback=as_output))

    output = with_str.call()
    assert output.raw_output == USERS_PAGE
    marker = MARKER_RE.search(output.content)
    assert marker is not None and len(output.content) < len(first_page)
    assert retrieve(marker["ref"]) == first_page  # what the callback made is what was stored
    _assert_compressed(with_output.call())


def test_small_outputs_errors_and_blocks_pass_through() -> None:
    def small() -> str:
        """Small."""
        return "ok"

    def image() -> list[Any]:
        """A picture and its caption."""
        return [ImageBlock(url="http://example.invalid/a.png"), TextBlock(text="caption")]

    def broken() -> str:
        """Fails."""
        raise RuntimeError("backend down")

    assert compress_tool(FunctionTool.from_defaults(small)).call().content == "ok"
    blocks = compress_tool(FunctionTool.from_defaults(image)).call().blocks
    assert isinstance(blocks[0], ImageBlock) and blocks[1] == TextBlock(text="caption")
    with pytest.raises(RuntimeError, match="backend down"):
        compress_tool(FunctionTool.from_defaults(broken)).call()


def test_compress_tools_wraps_functions_and_leaves_the_rest() -> None:
    retrieve_tool = headroom_retrieve_tool()

    class NotAFunctionTool(QueryEngineTool):
        pass

    other = NotAFunctionTool.from_defaults(query_engine=object(), name="docs", description="d")  # type: ignore[arg-type]
    wrapped = compress_tools(
        [list_users, FunctionTool.from_defaults(list_users), retrieve_tool, other]
    )

    assert [t.metadata.name for t in wrapped] == [
        "list_users",
        "list_users",
        RETRIEVE_TOOL_NAME,
        "docs",
    ]
    for tool in wrapped[:2]:
        assert isinstance(tool, FunctionTool)
        _assert_compressed(tool.call())
    assert wrapped[2] is retrieve_tool and wrapped[3] is other
    with pytest.raises(TypeError, match="HeadroomFunctionAgent"):
        compress_tool(other)  # type: ignore[arg-type]


def test_retrieve_tool_speaks_the_core_schema_and_answers_by_query() -> None:
    tool = headroom_retrieve_tool()
    spec = tool.metadata.to_openai_tool()["function"]
    assert spec["name"] == RETRIEVE_TOOL_NAME
    assert spec["description"] == RETRIEVE_TOOL_DESCRIPTION
    for key in ("type", "properties", "required"):
        assert spec["parameters"][key] == RETRIEVE_TOOL_PARAMETERS[key]

    ref = compress(USERS_PAGE, tool="list_users").ref
    assert ref is not None
    assert tool.call(ref=ref).content == USERS_PAGE
    answer = tool.call(ref=ref, query="lawrencepit", max_tokens=300).content
    assert "lawrencepit" in answer and len(answer) < len(USERS_PAGE) // 10
    missing = tool.call(ref="hr_" + "a" * 20).content
    assert "cannot be retrieved" in missing or "not" in missing


def test_handler_ignores_other_events_and_resets() -> None:
    from llama_index.core.instrumentation.events.llm import LLMCompletionStartEvent

    handler = HeadroomSavingsHandler()
    handler.handle(LLMCompletionStartEvent(prompt="p", additional_kwargs={}, model_dict={}))
    handler.handle(
        HeadroomCompressionEvent(
            source="node", name="n1", kind="text", original_tokens=100, compressed_tokens=40
        )
    )
    assert [(r.name, r.saved_tokens) for r in handler.records] == [("n1", 60)]
    assert (handler.original_tokens, handler.compressed_tokens) == (100, 40)
    handler.reset()
    assert handler.records == []


def test_internal_errors_fail_open(monkeypatch: pytest.MonkeyPatch) -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    from headroom_llamaindex import HeadroomNodePostprocessor, _output, _postprocessor

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("compressor bug")

    monkeypatch.setattr(_output, "compress", broken)
    monkeypatch.setattr(_postprocessor, "compress", broken)

    output = compress_tool(FunctionTool.from_defaults(list_users)).call()
    assert output.content == USERS_PAGE
    node = NodeWithScore(node=TextNode(id_="n", text=USERS_PAGE), score=1.0)
    assert HeadroomNodePostprocessor().postprocess_nodes([node], query_str="q") == [node]
