"""HeadroomNodePostprocessor in a real query engine over a small real document set.

Documents: sections of CPython's ``shutil.py`` and of the ``subprocess`` reference (shipped
as headroom demo data). Retrieval is BM25 (bm25s, local, no embeddings); the answer is
synthesised by the real llama-index OpenAI LLM against the local stub server, so the test
reads the exact prompt that reached the wire.
"""

from __future__ import annotations

import re
from importlib.resources import files
from itertools import pairwise
from typing import Any

import bm25s
import httpx
import pytest
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.llms.openai import OpenAI

from headroom_core import MARKER_RE, count_tokens, retrieve
from headroom_llamaindex import HeadroomNodePostprocessor
from tests.stub_llm import StubLLM, StubRequest, Text

DEMO = files("headroom_core") / "demo_data"
SECTION_TOKENS = 900


def _sections(text: str, start: str) -> list[str]:
    """Split at lines matching ``start`` and pack neighbours up to ~SECTION_TOKENS."""
    cuts = [0, *(m.start() for m in re.finditer(start, text, re.M)), len(text)]
    parts = [text[a:b] for a, b in pairwise(cuts) if text[a:b].strip()]
    packed: list[str] = []
    for part in parts:
        if packed and count_tokens(packed[-1] + part) <= SECTION_TOKENS:
            packed[-1] += part
        else:
            packed.append(part)
    return packed


#: Two document sets: a module's source split at top-level definitions, and a library
#: reference split at its reST section titles.
SECTION_STARTS = {"shutil.py": r"^(?=def |class )", "subprocess.rst.txt": r"^(?=.+\n[=\-~^]{4,}\n)"}


def _nodes(name: str) -> list[TextNode]:
    text = (DEMO / name).read_text("utf-8")
    return [
        TextNode(id_=f"{name}#{i}", text=part, metadata={"file": name, "section": i})
        for i, part in enumerate(_sections(text, SECTION_STARTS[name]))
    ]


class BM25Retriever(BaseRetriever):
    """Keyword retrieval over in-memory nodes."""

    def __init__(self, nodes: list[TextNode], top_k: int = 3) -> None:
        super().__init__()
        self._nodes = nodes
        self._top_k = top_k
        self._bm25 = bm25s.BM25()
        self._bm25.index(
            bm25s.tokenize([n.text for n in nodes], show_progress=False), show_progress=False
        )

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        tokens = bm25s.tokenize([query_bundle.query_str], show_progress=False)
        ids, scores = self._bm25.retrieve(tokens, k=self._top_k, show_progress=False)
        return [
            NodeWithScore(node=self._nodes[int(i)], score=float(s))
            for i, s in zip(ids[0], scores[0], strict=True)
        ]


def _prompt(req: StubRequest) -> str:
    return "\n".join(str(m.get("content") or "") for m in req.body["messages"])


async def _run(
    docs: str, query: str, postprocessors: list[Any]
) -> tuple[str, str, list[NodeWithScore]]:
    """(answer, prompt on the wire, source nodes) for one query over one document set."""
    with StubLLM(lambda req: Text("stub answer")) as stub:
        async with httpx.AsyncClient() as http:  # closed here, not at interpreter exit
            llm = OpenAI(
                model="gpt-4o-mini",
                api_key="k",
                api_base=stub.base_url,
                max_retries=0,
                async_http_client=http,
            )
            engine = RetrieverQueryEngine.from_args(
                BM25Retriever(_nodes(docs)), llm=llm, node_postprocessors=postprocessors
            )
            response = await engine.aquery(query)
    assert not stub.errors, stub.errors
    [request] = stub.requests
    return str(response), _prompt(request), response.source_nodes


#: (document set, question, answer-bearing line, where the answer must be: 0 = in the prompt,
#: 1 = in the prompt or in ``retrieve(ref, query=question)`` for a marker's ref)
CASES = [
    pytest.param(
        "shutil.py",
        "What are the parameters of shutil.copytree and their default values?",
        "def copytree(src, dst, symlinks=False, ignore=None, copy_function=copy2,",
        0,
        id="source",
    ),
    pytest.param(
        "subprocess.rst.txt",
        "What happens in subprocess.run when the timeout expires?",
        "expires, the child process will be killed and waited for.",
        1,
        id="docs",
    ),
]


@pytest.mark.parametrize(("docs", "query", "answer", "retention"), CASES)
async def test_query_engine_shrinks_the_prompt_and_keeps_the_answer(
    docs: str, query: str, answer: str, retention: int
) -> None:
    _, plain_prompt, plain_nodes = await _run(docs, query, [])
    assert answer in plain_prompt, (
        "the retriever must find the answer for the test to mean anything"
    )

    reply, prompt, nodes = await _run(docs, query, [HeadroomNodePostprocessor()])
    before, after = count_tokens(plain_prompt), count_tokens(prompt)
    print(f"{docs}: prompt {before} -> {after} tokens")

    assert reply == "stub answer"
    assert after < 0.7 * before
    refs = list(dict.fromkeys(m["ref"] for m in MARKER_RE.finditer(prompt)))
    assert refs, "what was left out is marked"
    if retention == 0 or answer in prompt:
        assert answer in prompt
    else:
        assert any(answer in retrieve(ref, query=query) for ref in refs)
    # same nodes, same order, same ids, metadata and scores; only text may change
    assert [n.node.node_id for n in nodes] == [n.node.node_id for n in plain_nodes]
    assert [n.node.metadata for n in nodes] == [n.node.metadata for n in plain_nodes]
    assert [n.score for n in nodes] == [n.score for n in plain_nodes]
    # each marker's ref gives back its node's original text, byte for byte
    originals = {n.node_id: n.text for n in _nodes(docs)}
    for node in nodes:
        for marker in MARKER_RE.finditer(node.node.get_content()):
            assert retrieve(marker["ref"]) == originals[node.node.node_id]


async def test_async_postprocessing_matches_sync_and_leaves_the_index_alone() -> None:
    docs, query = (str(v) for v in CASES[0].values[:2])
    retrieved = BM25Retriever(_nodes(docs)).retrieve(query)
    before = [n.node.get_content() for n in retrieved]
    post = HeadroomNodePostprocessor()

    sync = post.postprocess_nodes(retrieved, query_str=query)
    asynchronous = await post.apostprocess_nodes(retrieved, query_str=query)

    assert [n.node.get_content() for n in sync] == [n.node.get_content() for n in asynchronous]
    assert [n.node.get_content() for n in retrieved] == before  # the inputs are untouched
    assert any(a.node.get_content() != b for a, b in zip(sync, before, strict=True))
