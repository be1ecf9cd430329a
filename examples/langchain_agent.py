"""LangChain + headroom: an agent whose log tool returns 15k tokens, compressed for the model.

With an OpenAI-compatible endpoint (``OPENAI_BASE_URL`` optional, ``OPENAI_MODEL`` default
gpt-4o-mini)::

    OPENAI_API_KEY=... uv run python examples/langchain_agent.py

Without a key it runs the same tool through headroom offline and shows what the model would
receive, the artifact, and a ``headroom_retrieve`` call.
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain_core.tools import tool

from headroom_langchain import (
    HeadroomCallbackHandler,
    HeadroomMiddleware,
    HeadroomRetrieveTool,
    compress_tool,
)

LOG = Path(__file__).resolve().parents[1] / (
    "packages/headroom-core/src/headroom_core/demo_data/openssh_auth.log"
)
TASK = "Which IP addresses tried to log in as root, and did any login succeed?"


@tool
def fetch_auth_log(host: str) -> str:
    """Return the sshd authentication log of a host."""
    return LOG.read_text("utf-8")


def offline() -> None:
    handler = HeadroomCallbackHandler()
    call = {
        "name": "fetch_auth_log",
        "args": {"host": "LabSZ"},
        "id": "call_1",
        "type": "tool_call",
    }
    message = compress_tool(fetch_auth_log, query=TASK).invoke(call, {"callbacks": [handler]})
    print(message.content[:1500], "\n...")
    print("artifact:", message.artifact)
    print("summary:", {k: v for k, v in handler.summary().items() if k != "by_tool"})
    answer = HeadroomRetrieveTool().invoke(
        {"ref": message.artifact["ref"], "query": "root 5.36.59.76"}
    )
    print("headroom_retrieve:", answer[:600])


def online() -> None:
    from langchain.agents import create_agent
    from langchain_openai import ChatOpenAI

    handler = HeadroomCallbackHandler()
    agent = create_agent(
        ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini")),
        [fetch_auth_log],
        system_prompt="Investigate with the tools; call headroom_retrieve for omitted lines.",
        middleware=[HeadroomMiddleware()],
    )
    state = agent.invoke(
        {"messages": [{"role": "user", "content": TASK}]}, {"callbacks": [handler]}
    )
    print(state["messages"][-1].content)
    summary = handler.summary()
    print(f"headroom: {summary['original_tokens']} -> {summary['compressed_tokens']} tokens")


if __name__ == "__main__":
    online() if os.environ.get("OPENAI_API_KEY") else offline()
