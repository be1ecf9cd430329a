"""Load test of ``headroom proxy`` on loopback: the latency it adds to each request.

Starts a minimal OpenAI-compatible upstream and the proxy in front of it (two
subprocesses), then sends N chat-completion requests at concurrency C straight to the
upstream and through the proxy, and reports p50/p99 of both and the difference.
Bounded: fixed request count, loopback only, every process stopped at the end.

    uv run python benchmarks/proxy_load.py [--requests 2000] [--concurrency 32]

Writes ``benchmarks/results/proxy.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "proxy.md"
REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "stub",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def upstream_app() -> Any:
    """An upstream that answers every chat completion at once."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def chat(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(REPLY)

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def payloads() -> dict[str, dict[str, Any]]:
    rows = [
        {"id": i, "service": f"svc-{i % 7}", "status": "ok" if i % 50 else "error", "ms": i % 97}
        for i in range(600)
    ]
    tool_output = json.dumps(rows, indent=2)
    call = {"id": "c1", "type": "function", "function": {"name": "q", "arguments": "{}"}}
    return {
        "small request": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        f"tool result {len(tool_output) // 1024} KB": {
            "model": "m",
            "messages": [
                {"role": "user", "content": "which services had errors?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": tool_output},
            ],
        },
    }


async def measure(
    url: str, body: dict[str, Any], n: int, concurrency: int
) -> tuple[list[float], float]:
    """Latency of each of ``n`` requests, and the wall time of all of them."""
    import httpx

    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one() -> None:
            async with gate:
                started = time.perf_counter()
                reply = await client.post(url, json=body, headers={"authorization": "Bearer x"})
                reply.raise_for_status()
                times.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
    return times, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    up_port, proxy_port = free_port(), free_port()
    env = {**os.environ, "HEADROOM_HOME": tempfile.mkdtemp(prefix="headroom-bench-")}
    upstream = subprocess.Popen(
        [sys.executable, __file__, "--serve-upstream", str(up_port)], env=env
    )
    proxy = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "headroom_core.cli",
            "proxy",
            "--upstream",
            f"http://127.0.0.1:{up_port}/v1",
            "--port",
            str(proxy_port),
        ],
        env=env,
    )
    rows: list[str] = []
    try:
        wait_for(up_port, upstream)
        wait_for(proxy_port, proxy)
        for name, body in payloads().items():
            direct_url = f"http://127.0.0.1:{up_port}/v1/chat/completions"
            proxied_url = f"http://127.0.0.1:{proxy_port}/v1/chat/completions"
            asyncio.run(measure(proxied_url, body, 50, 8))  # warm-up (imports, caches)
            direct, _ = asyncio.run(measure(direct_url, body, args.requests, args.concurrency))
            proxied, wall = asyncio.run(measure(proxied_url, body, args.requests, args.concurrency))
            rows.append(
                f"| {name} | {pct(direct, 0.5):.1f} | {pct(direct, 0.99):.1f} | "
                f"{pct(proxied, 0.5):.1f} | {pct(proxied, 0.99):.1f} | "
                f"{pct(proxied, 0.5) - pct(direct, 0.5):+.1f} | "
                f"{pct(proxied, 0.99) - pct(direct, 0.99):+.1f} | "
                f"{len(proxied) / wall:.0f} |"
            )
    finally:
        for proc in (proxy, upstream):
            proc.terminate()
            proc.wait(10)
    table = "\n".join(
        [
            "| request | direct p50 ms | direct p99 ms | proxied p50 ms | proxied p99 ms "
            "| added p50 ms | added p99 ms | proxied req/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    report = (
        "## HTTP proxy overhead (loopback load test)\n\n"
        f"{args.requests} chat-completion requests per row at concurrency "
        f"{args.concurrency}, straight to a local upstream and through `headroom proxy`. "
        "The tool-result row repeats one tool output, so after the first request the "
        "proxy serves its compression from the cache, as on later turns of a real "
        "conversation.\n\n"
        f"{table}\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}. Command: "
        f"`uv run python benchmarks/proxy_load.py --requests {args.requests} "
        f"--concurrency {args.concurrency}`\n"
    )
    print(report)
    if not args.no_write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(report, "utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-upstream":
        import uvicorn

        uvicorn.run(
            upstream_app(),
            host="127.0.0.1",
            port=int(sys.argv[2]),
            log_level="warning",
            access_log=False,
        )
    else:
        main()
