"""The systems the harness compares, all driven on the same cases in one process.

Each system maps cases to ``SystemOutput`` (what the model would see for that tool output,
timed runs, retrieval results). Peers that must not share our environment (headroom-ai)
live in ``benchmarks/peers/`` and are driven through a subprocess.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from headroom_core import HeadroomConfig, compress, count_tokens, get_tokenizer, retrieve

from .harness import Case, Retrieval, SystemOutput

Advance = Callable[[str], None]
"""Progress callback: called with a case id after each case."""

RETRIEVE_MAX_TOKENS = 1000


@dataclass
class RunContext:
    """Shared state of one benchmark run (systems may read earlier systems' outputs)."""

    repeat: int = 3
    fresh: bool = False
    cache_dir: Path | None = None
    corpus_dir: Path = Path()
    outputs: dict[str, dict[str, SystemOutput]] = field(default_factory=dict)


class System(Protocol):
    """A compressor under test: ``name`` for tables, ``describe()`` for RESULTS.md."""

    name: str

    def version(self) -> str: ...

    def describe(self) -> str: ...

    def run(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> dict[str, SystemOutput]: ...


def dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, tuple[float, ...], bool]:
    """One warm-up call, then ``repeat`` timed calls: (last result, seconds, all results equal)."""
    first = fn()
    seconds: list[float] = []
    same = True
    result = first
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
        same = same and result == first
    return result, tuple(seconds), same


class Headroom:
    """This repository's ``headroom_core.compress`` with its default configuration.

    Called as ``compress(text, query=case.query, tool=case.tool)``: no file path hint,
    because a real tool output often has none. The store lives in a scratch folder.
    """

    name = "headroom"

    def __init__(self, home: Path) -> None:
        self.config = HeadroomConfig(home=home)

    def version(self) -> str:
        return dist_version("headroom-core")

    def describe(self) -> str:
        return (
            "`headroom_core.compress(text, query=case.query, tool=case.tool)`, default "
            "`HeadroomConfig` (the corpus file path is not passed as a hint). @1 adds "
            f"`retrieve(ref, query=needle.question, max_tokens={RETRIEVE_MAX_TOKENS})` for "
            "each needle missed at @0."
        )

    def run(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> dict[str, SystemOutput]:
        out: dict[str, SystemOutput] = {}
        for case in cases:

            def call(case: Case = case) -> Any:
                return compress(case.text, query=case.query, tool=case.tool, config=self.config)

            result, seconds, same = timed(call, ctx.repeat)
            retrievals: dict[int, Retrieval] = {}
            if result.ref is not None:
                for i, needle in enumerate(case.needles):
                    if needle.answer in result.text:
                        continue
                    got = retrieve(
                        result.ref,
                        query=needle.question,
                        max_tokens=RETRIEVE_MAX_TOKENS,
                        config=self.config,
                    )
                    retrievals[i] = Retrieval(needle.answer in got, count_tokens(got))
            notes = [f"kind={result.kind}"]
            if not same:
                notes.append("NON-DETERMINISTIC output across runs")
            out[case.id] = SystemOutput(result.text, seconds, retrievals, "; ".join(notes))
            advance(case.id)
        return out


class Truncate:
    """Naive baseline: the head of the text, cut to headroom's output token count.

    The token budget per case is headroom's compressed size from the same run (or from an
    untimed headroom call when headroom is not among the systems). No retrieval.
    """

    name = "truncate"

    def __init__(self, home: Path) -> None:
        self.config = HeadroomConfig(home=home)

    def version(self) -> str:
        return "-"

    def describe(self) -> str:
        return (
            "first N cl100k tokens of the original, N = headroom's compressed token count "
            "for the same case; no marker, no retrieval (@1 = @0)."
        )

    def run(
        self, cases: Sequence[Case], ctx: RunContext, advance: Advance
    ) -> dict[str, SystemOutput]:
        tok = get_tokenizer(None)
        reference = ctx.outputs.get("headroom", {})
        out: dict[str, SystemOutput] = {}
        for case in cases:
            ref = reference.get(case.id)
            if ref is not None:
                budget = count_tokens(ref.text)
            else:
                budget = compress(
                    case.text, query=case.query, tool=case.tool, config=self.config
                ).compressed_tokens

            def call(case: Case = case, budget: int = budget) -> str:
                return tok.decode(tok.encode(case.text)[:budget])

            text, seconds, _ = timed(call, ctx.repeat)
            out[case.id] = SystemOutput(text, seconds, {}, f"budget={budget}")
            advance(case.id)
        return out
