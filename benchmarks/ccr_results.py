"""Shared helpers of the CCR benchmarks: a loopback Chroma server, and the results file."""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "ccr.md"
_TITLE = (
    "# CCR benchmarks\n\nWritten by `benchmarks/ccr_load.py` and `benchmarks/ccr_retrieval.py`.\n"
)


def machine() -> str:
    """One line naming the machine, the versions and the date of a run."""
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"headroom-core {version('headroom-core')}, chromadb {version('chromadb')}, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` of the results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text("utf-8") if path.exists() else _TITLE
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    path.write_text(text, "utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_cli() -> str:
    """The ``chroma`` command of the running interpreter's environment."""
    path = Path(sys.executable).parent / "chroma"
    if not path.exists():
        raise RuntimeError(f"chroma CLI not found next to {sys.executable}")
    return str(path)


@contextmanager
def chroma_server(timeout: float = 60.0) -> Iterator[str]:
    """A ``chroma run`` subprocess on 127.0.0.1 and a free port; yields its URL."""
    import httpx

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="headroom-chroma-") as data:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        proc = subprocess.Popen(
            [chroma_cli(), "run", "--path", data, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"chroma run exited with {proc.returncode}")
                try:
                    httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"chroma server not up after {timeout}s") from None
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
