"""The ``headroom`` command line: compress, retrieve, demo, bench."""

from __future__ import annotations

import json
import runpy
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ._api import compress as _compress
from ._api import fetch_original
from ._api import retrieve as _retrieve
from ._cli_servers import mcp_app, proxy_cmd
from ._config import HeadroomConfig
from ._exceptions import HeadroomError
from ._types import KINDS

app = typer.Typer(
    name="headroom",
    help="Compress AI agents' tool outputs; every omitted byte stays retrievable by ref.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _read_input(path: str) -> tuple[bytes, str | None]:
    if path == "-":
        return sys.stdin.buffer.read(), None
    p = Path(path)
    if not p.is_file():
        err.print(f"[red]error:[/] no such file: {path}")
        raise typer.Exit(2)
    return p.read_bytes(), str(p)


@app.command("compress")
def compress_cmd(
    path: Annotated[str, typer.Argument(help="File to compress, or - for standard input.")] = "-",
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="The agent's current task.")
    ] = None,
    tool: Annotated[
        str | None, typer.Option("--tool", "-t", help="Name of the tool that produced it.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help=f"Force a kind: {', '.join(KINDS)}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compress a tool output and print what the model would see."""
    if kind is not None and kind not in KINDS:
        err.print(f"[red]error:[/] unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        raise typer.Exit(2)
    data, file_path = _read_input(path)
    try:
        content: str | bytes = data.decode("utf-8")
    except UnicodeDecodeError:
        content = data
    result = _compress(content, query=query, tool=tool, kind=kind, path=file_path)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return
    sys.stdout.write(result.text)
    if not result.text.endswith("\n"):
        sys.stdout.write("\n")
    err.print(
        f"[dim]{result.kind}: {result.original_tokens:,} -> {result.compressed_tokens:,} tokens "
        f"({result.savings:.0%} saved){'; ref=' + result.ref if result.ref else ''}[/]"
    )


@app.command("retrieve")
def retrieve_cmd(
    ref: Annotated[str, typer.Argument(help="A ref from a headroom marker (hr_...).")],
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Only the chunks matching this.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", "-n", min=1, help="Size bound of the answer.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print the original behind REF byte-exact, or with --query its matching chunks."""
    config = HeadroomConfig()
    if query is None and max_tokens is None:
        try:
            original = fetch_original(ref, config=config)
        except HeadroomError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from None
        if as_json:
            sys.stdout.write(
                json.dumps(
                    {"ref": ref, "kind": original.kind, "text": original.as_text()},
                    ensure_ascii=False,
                )
                + "\n"
            )
        else:
            # the stored bytes as given (a str with lone surrogates is written surrogatepass)
            sys.stdout.buffer.write(original.data)
            sys.stdout.flush()
        return
    text = _retrieve(ref, query=query, max_tokens=max_tokens, config=config)
    if as_json:
        sys.stdout.write(
            json.dumps({"ref": ref, "query": query, "text": text}, ensure_ascii=False) + "\n"
        )
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command("demo")
def demo_cmd(
    show: Annotated[
        str | None,
        typer.Option("--show", help="Also print the compressed text of this demo file."),
    ] = None,
) -> None:
    """Compress the real tool outputs shipped with headroom and print a before/after table."""
    root = resources.files("headroom_core") / "demo_data"
    manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    table = Table(title="headroom demo: real tool outputs, cl100k tokens")
    for col, justify in (
        ("file", "left"),
        ("kind", "left"),
        ("before", "right"),
        ("after", "right"),
        ("saved", "right"),
        ("ms", "right"),
        ("ref", "left"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    total_before = total_after = 0
    shown: str | None = None
    for case in manifest:
        text = (root / case["file"]).read_text("utf-8")
        t0 = time.perf_counter()
        result = _compress(text, query=case["query"], tool=case["tool"], path=case["file"])
        ms = (time.perf_counter() - t0) * 1000
        total_before += result.original_tokens
        total_after += result.compressed_tokens
        table.add_row(
            case["file"],
            result.kind + (f"/{result.language}" if result.language else ""),
            f"{result.original_tokens:,}",
            f"{result.compressed_tokens:,}",
            f"{result.savings:.0%}",
            f"{ms:.0f}",
            result.ref or "-",
        )
        if show and case["file"] == show:
            shown = result.text
    saved = 1 - total_after / total_before if total_before else 0.0
    table.add_row(
        "total",
        "",
        f"{total_before:,}",
        f"{total_after:,}",
        f"{saved:.0%}",
        "",
        "",
        end_section=True,
    )
    # the table is ~110 columns; a narrower terminal (or a pipe) would truncate refs
    Console(width=max(console.width, 112)).print(table)
    console.print(
        "Originals are stored; run [bold]headroom retrieve REF --query '...'[/] to get parts back."
    )
    if shown is not None:
        console.print(shown, markup=False, highlight=False)


@app.command(
    "bench",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,  # --help goes to the harness, which lists its own options
)
def bench_cmd(ctx: typer.Context) -> None:
    """Run the benchmark harness (benchmarks/run.py of a source checkout); options pass through."""
    here = Path.cwd().resolve()
    # the working directory's checkout first, then the one this module is installed from
    source_root = Path(__file__).resolve().parents[4]
    for folder in (here, *here.parents, source_root):
        script = folder / "benchmarks" / "run.py"
        if script.is_file():
            sys.argv = [str(script), *ctx.args]
            runpy.run_path(str(script), run_name="__main__")
            return
    err.print(
        "[red]error:[/] benchmarks/run.py not found; run this from a headroom source checkout"
    )
    raise typer.Exit(2)


app.add_typer(mcp_app, name="mcp")
app.command("proxy")(proxy_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
