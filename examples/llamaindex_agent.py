"""LlamaIndex + headroom: an agent whose GitHub tool returns 33k tokens of JSON, compressed.

With an OpenAI-compatible endpoint (``OPENAI_BASE_URL`` optional, ``OPENAI_MODEL`` default
gpt-4o-mini)::

    OPENAI_API_KEY=... uv run python examples/llamaindex_agent.py

Without a key it runs the tool through headroom offline and shows what the model would
read, what ``raw_output`` keeps, and a ``headroom_retrieve`` call.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.tools import FunctionTool

from headroom_core import MARKER_RE
from headroom_llamaindex import (
    HeadroomFunctionAgent,
    HeadroomSavingsHandler,
    compress_tool,
    headroom_retrieve_tool,
)

USERS = Path(__file__).resolve().parents[1] / (
    "packages/headroom-core/src/headroom_core/demo_data/github_list_users.json"
)
TASK = "What is the numeric GitHub id of the account lawrencepit, and its profile URL?"


def list_users(since: int = 0) -> str:
    """List GitHub users in sign-up order, starting after user id `since`."""
    return USERS.read_text("utf-8")


def offline(savings: HeadroomSavingsHandler) -> None:
    output = compress_tool(FunctionTool.from_defaults(list_users), query=TASK).call(since=0)
    print(output.content[:1200], "\n...")
    print(f"raw_output keeps the original: {len(output.raw_output)} characters")
    [record] = savings.records
    print(f"{record.original_tokens} -> {record.compressed_tokens} tokens ({record.kind})")
    marker = MARKER_RE.search(output.content)
    if marker:
        answer = headroom_retrieve_tool().call(ref=marker["ref"], query="lawrencepit")
        print("headroom_retrieve(ref, query='lawrencepit'):\n", answer.content[:800])


async def online(savings: HeadroomSavingsHandler) -> None:
    from llama_index.llms.openai import OpenAI

    llm = OpenAI(
        model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
        api_base=os.environ.get("OPENAI_BASE_URL"),
    )
    agent = HeadroomFunctionAgent(tools=[list_users], llm=llm)  # adds headroom_retrieve
    print(await agent.run(TASK))
    print(f"headroom saved {savings.saved_tokens} of {savings.original_tokens} tokens")


def main() -> None:
    savings = HeadroomSavingsHandler()
    get_dispatcher().add_event_handler(savings)
    if os.environ.get("OPENAI_API_KEY"):
        asyncio.run(online(savings))
    else:
        offline(savings)


if __name__ == "__main__":
    main()
