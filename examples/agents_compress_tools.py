"""OpenAI Agents SDK + headroom: a tool returning a large log, compressed for the model.

Run against any OpenAI-compatible endpoint:

    OPENAI_API_KEY=... uv run python examples/agents_compress_tools.py

Without a key it only shows what the model would receive from the tool.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from agents import Agent, Runner, function_tool

from headroom_agents import HeadroomRunHooks, compress_tools
from headroom_core import compress

LOG = Path(__file__).resolve().parents[1] / (
    "packages/headroom-core/src/headroom_core/demo_data/openssh_auth.log"
)


@function_tool
def fetch_auth_log(host: str) -> str:
    """Return the sshd authentication log of a host."""
    return LOG.read_text("utf-8")


async def main() -> None:
    task = "Which IP addresses tried to log in as root, and did any succeed?"
    if not os.environ.get("OPENAI_API_KEY"):
        result = compress(LOG.read_text("utf-8"), query=task, tool="fetch_auth_log")
        print(f"{result.original_tokens} -> {result.compressed_tokens} tokens ({result.kind})")
        print(result.text[:2000])
        return
    hooks = HeadroomRunHooks()
    agent = Agent(
        name="sre",
        instructions="Investigate with the tools; call headroom_retrieve for omitted lines.",
        tools=compress_tools([fetch_auth_log]),
    )
    run = await Runner.run(agent, task, hooks=hooks)
    print(run.final_output)
    print(f"headroom saved {hooks.summary().saved_tokens} tokens")


if __name__ == "__main__":
    asyncio.run(main())
