"""HeadroomCallbackHandler records and summary; HeadroomDocumentCompressor in a retriever."""

from __future__ import annotations

from typing import Any

from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from headroom_core import compress, count_tokens, retrieve
from headroom_langchain import (
    HeadroomCallbackHandler,
    HeadroomDocumentCompressor,
    compress_tools,
)
from tests.langchain.conftest import LOG, LOG_NEEDLE, USERS
from tests.langchain.test_tools import get_logs, tiny


def call(name: str, id: str) -> dict[str, Any]:
    return {"name": name, "args": {"service": "sshd"}, "id": id, "type": "tool_call"}


def test_handler_records_each_call_and_sums_up() -> None:
    handler = HeadroomCallbackHandler()
    logs, small, _ = compress_tools([get_logs, tiny])
    config: Any = {"callbacks": [handler], "tags": ["nightly"], "metadata": {"thread_id": "t1"}}
    logs.invoke(call("get_logs", "c1"), config)
    small.invoke(call("tiny", "c2"), config)

    first, second = handler.records
    assert (first.tool, first.tool_call_id, first.kind) == ("get_logs", "c1", "log")
    assert first.original_tokens == count_tokens(LOG)
    assert first.ref is not None and retrieve(first.ref) == LOG
    assert 0.5 < first.savings < 1 and first.latency_ms > 0
    assert {"nightly", "headroom"} <= set(first.tags)
    assert first.metadata["thread_id"] == "t1" and first.metadata["headroom_tool"] == "get_logs"
    assert second.ref is None and second.original_tokens == second.compressed_tokens

    summary = handler.summary()
    assert summary["calls"] == 2 and summary["compressed_calls"] == 1
    assert summary["original_tokens"] == first.original_tokens + second.original_tokens
    assert summary["saved_tokens"] == first.saved_tokens
    assert summary["refs"] == [first.ref]
    assert summary["by_tool"]["get_logs"]["calls"] == 1
    handler.reset()
    assert handler.records == [] and handler.summary()["calls"] == 0


class ListRetriever(BaseRetriever):
    docs: list[Document]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.docs


DOCS = [
    Document(LOG, metadata={"source": "sshd.log"}, id="d1"),
    Document(USERS, metadata={"source": "users.json"}, id="d2"),
    Document("a short note", id="d3"),
]


def test_document_compressor_in_retriever() -> None:
    handler = HeadroomCallbackHandler()
    retriever = ContextualCompressionRetriever(
        base_compressor=HeadroomDocumentCompressor(), base_retriever=ListRetriever(docs=DOCS)
    )
    logs, users, note = retriever.invoke("invalid user matlab", {"callbacks": [handler]})
    assert note == DOCS[2]
    assert logs.id == "d1" and logs.metadata["source"] == "sshd.log"
    assert (
        logs.page_content
        == compress(LOG, query="invalid user matlab", tool="retriever", path="sshd.log").text
    )
    info = logs.metadata["headroom"]
    assert info["kind"] == "log" and len(logs.page_content) < len(LOG) / 2
    assert LOG_NEEDLE in retrieve(info["ref"], query="invalid user matlab")
    assert retrieve(users.metadata["headroom"]["ref"]) == USERS
    assert [r.tool_call_id for r in handler.records] == ["d1", "d2", "d3"]


async def test_document_compressor_async() -> None:
    out = await HeadroomDocumentCompressor().acompress_documents(DOCS, "matlab")
    assert [d.id for d in out] == ["d1", "d2", "d3"]
    assert all(len(o.page_content) <= len(d.page_content) for o, d in zip(out, DOCS, strict=True))
    assert retrieve(out[0].metadata["headroom"]["ref"]) == LOG


def test_tracers_see_a_run_with_the_figures() -> None:
    # RunCollectorCallbackHandler is a BaseTracer, as LangSmith's LangChainTracer is
    from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

    tracer = RunCollectorCallbackHandler()
    (logs, *_) = compress_tools([get_logs])
    logs.invoke(call("get_logs", "c1"), {"callbacks": [tracer], "metadata": {"thread_id": "t9"}})
    # called outside a graph, the tool run and the compression run are both top level
    runs = {run.name: run for run in tracer.traced_runs}
    assert set(runs) == {"get_logs", "headroom_compress"}
    child = runs["headroom_compress"]
    assert child.name == "headroom_compress" and "headroom" in (child.tags or [])
    assert child.extra["metadata"]["thread_id"] == "t9"
    assert child.outputs is not None and child.outputs["kind"] == "log"
    assert child.outputs["compressed_tokens"] < child.outputs["original_tokens"]


async def test_stream_events_show_the_run() -> None:
    (logs, *_) = compress_tools([get_logs])
    events = [e async for e in logs.astream_events(call("get_logs", "c1"), version="v2")]
    ends = [e for e in events if e["name"] == "headroom_compress" and e["event"] == "on_chain_end"]
    assert len(ends) == 1 and ends[0]["data"]["output"]["tool_call_id"] == "c1"
