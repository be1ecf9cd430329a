"""The server commands of the ``headroom`` CLI: ``mcp serve``, ``mcp wrap`` and ``proxy``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from ._config import HeadroomConfig
from ._exceptions import DependencyError

err = Console(stderr=True)

mcp_app = typer.Typer(
    name="mcp",
    help="headroom over MCP: a server with its tools, or a compressing proxy for another server.",
    no_args_is_help=True,
)


@mcp_app.command("serve")
def mcp_serve_cmd(
    transport: Annotated[
        str, typer.Option(help="stdio, or http for streamable HTTP at /mcp")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="address for --transport http")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port for --transport http")] = 8765,
) -> None:
    """Serve headroom_compress, headroom_retrieve and headroom_stats."""
    if transport not in ("stdio", "http"):
        err.print(f"[red]error:[/] --transport must be stdio or http, not {transport!r}")
        raise typer.Exit(2)
    try:
        from .mcp import serve

        serve("stdio" if transport == "stdio" else "streamable-http", host=host, port=port)
    except DependencyError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


@mcp_app.command(
    "wrap",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def mcp_wrap_cmd(ctx: typer.Context) -> None:
    """Proxy another MCP server (stdio), compressing its tool results: wrap -- CMD [ARGS...]."""
    command = list(ctx.args)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        err.print("[red]error:[/] give the command of the server to wrap: headroom mcp wrap -- CMD")
        raise typer.Exit(2)
    try:
        from .mcp import run_wrap

        asyncio.run(run_wrap(command, config=HeadroomConfig()))
    except DependencyError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def proxy_cmd(
    upstream: Annotated[
        str, typer.Option(help="base URL of the real API, e.g. https://api.openai.com/v1")
    ],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8787,
    max_rounds: Annotated[
        int, typer.Option(help="headroom_retrieve calls answered inside one request")
    ] = 4,
) -> None:
    """OpenAI/Anthropic-compatible proxy: compresses tool results, answers headroom_retrieve."""
    if not upstream.startswith(("http://", "https://")):
        err.print(f"[red]error:[/] --upstream must be an http(s) URL, not {upstream!r}")
        raise typer.Exit(2)
    try:
        from .proxy import ProxySettings, serve

        serve(ProxySettings(upstream, max_rounds=max_rounds), host=host, port=port)
    except DependencyError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
