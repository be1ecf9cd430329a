"""Replay benchmark: a 30-request agent run under provider prompt caching, with and without headroom.

``uv run python benchmarks/replay.py`` writes ``benchmarks/results/replay.md``.

The transcript: an agent gets three tasks from a user, one after another; for each it calls
nine tools whose outputs are real corpus files (round-robin over the workloads, each output
cut at ``CAP_TOKENS`` on a line or JSON-item boundary, as agent tools cap what they return),
then answers. The model is called after every user message and every tool result: 30
requests, each resending the whole history. It is replayed in OpenAI Chat Completions and in
Anthropic Messages form through three clients:

* ``baseline``: sends the history as is.
* ``headroom``: a stateless middleware: before every request it runs ``compress_messages``
  on the original history (the client keeps originals) and adds ``headroom_retrieve`` to the
  tools; prompt-cache breakpoints are added after compression.
* ``naive``: compresses every tool result again before each request with the *latest*
  user message as its query, the way a per-request rewrite does: shown to make cache
  busting visible, not a headroom mode.

Provider caching is simulated on cl100k tokens of what each request renders to, as
described in ``benchmarks/replay_sim.py`` (OpenAI automatic prefix matching in 128-token steps
above 1,024 tokens; Anthropic explicit breakpoints).

Cached-prefix share of a request = cached tokens / input tokens of that request.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.replay_sim import (
    ANTHROPIC_PRICE,
    OPENAI_PRICE,
    Request,
    Tokens,
    Usage,
    cost,
    simulate_anthropic,
    simulate_openai,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results" / "replay.md"

CAP_TOKENS = 8000
TASKS = 3
CALLS_PER_TASK = 9

SYSTEM_PROMPT = """You are a senior software engineer working as an autonomous agent.
You investigate incidents, triage issues and explore codebases using the tools provided.
Work step by step: decide which tool gives the evidence you need, call it, read the result
carefully, and only then draw conclusions. Quote exact identifiers, paths with line numbers,
timestamps and error messages from tool results; never guess them. When a tool result is
incomplete, say so and fetch what is missing. Prefer precise tools (grep, targeted reads)
over broad ones. Keep answers short: findings first, then the evidence, then next steps.
Security: never print secrets, tokens or credentials found in tool output.
"""


@dataclass(frozen=True)
class Case:
    id: str
    workload: str
    tool: str
    kind: str
    query: str
    answers: tuple[tuple[str, str], ...]  # (question, answer)
    text: str


# --------------------------------------------------------------------------- transcript


def corpus_dir() -> Path:
    env = os.environ.get("HEADROOM_CORPUS")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "corpus"


def load_cases(corpus: Path) -> list[Case]:
    out = []
    for line in (corpus / "cases.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        c = json.loads(line)
        out.append(
            Case(
                c["id"],
                c["workload"],
                c["tool"],
                c["kind"],
                c["query"],
                tuple((n["question"], n["answer"]) for n in c["needles"]),
                (corpus / c["file"]).read_text("utf-8"),
            )
        )
    return out


def select_cases(cases: Sequence[Case], n: int) -> list[Case]:
    """``n`` cases, round-robin over workloads (sorted), each workload in corpus order."""
    by_workload: dict[str, list[Case]] = {}
    for c in cases:
        by_workload.setdefault(c.workload, []).append(c)
    queues = [by_workload[w] for w in sorted(by_workload)]
    picked: list[Case] = []
    while len(picked) < n and any(queues):
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop(0))
    return picked


def cap(text: str, kind: str, count: Callable[[str], int]) -> str:
    """``text`` cut to about ``CAP_TOKENS`` on whole lines (JSON: whole array items)."""
    if count(text) <= CAP_TOKENS:
        return text
    value: Any = None
    if kind == "json":
        try:
            value = json.loads(text)
        except ValueError:
            value = None
    if value is not None:
        items_key = None
        if isinstance(value, dict):
            items_key = next((k for k, v in value.items() if isinstance(v, list)), None)
        items = value[items_key] if items_key else value
        if isinstance(items, list):
            keep = len(items)
            while keep > 1:
                keep = max(1, int(keep * 0.85))
                sliced = items[:keep]
                trial = {**value, items_key: sliced} if items_key else sliced
                out = json.dumps(trial, indent=2, ensure_ascii=False)
                if count(out) <= CAP_TOKENS:
                    return out
    lines = text.splitlines(keepends=True)
    used, kept = 0, []
    for ln in lines:
        used += count(ln)
        if used > CAP_TOKENS:
            break
        kept.append(ln)
    return "".join(kept)


@dataclass(frozen=True)
class Step:
    """One transcript entry: a user message, a tool call and its result, or an answer."""

    kind: str  # "user" | "call" | "answer"
    text: str = ""
    case: Case | None = None
    output: str = ""
    call_id: str = ""


def build_steps(cases: Sequence[Case], count: Callable[[str], int]) -> list[Step]:
    steps: list[Step] = []
    for t in range(TASKS):
        chunk = cases[t * CALLS_PER_TASK : (t + 1) * CALLS_PER_TASK]
        asks = "\n".join(f"{i + 1}. {c.query}" for i, c in enumerate(chunk))
        steps.append(Step("user", f"New task {t + 1}. Please look into the following:\n{asks}"))
        for i, c in enumerate(chunk):
            steps.append(
                Step("call", case=c, output=cap(c.text, c.kind, count), call_id=f"call_{t}_{i}")
            )
        steps.append(Step("answer", f"Task {t + 1}: findings and evidence are summarised above."))
    return steps


def tool_args(case: Case) -> dict[str, str]:
    name = case.id.split("/", 1)[1]
    if case.tool == "read_file":
        return {"path": name}
    if case.tool in ("grep", "search_code"):
        return {"query": case.query[:80]}
    return {"target": name}


TOOL_NAMES = (
    "get_logs",
    "git_diff",
    "github_list_commits",
    "github_list_issues",
    "github_list_security_advisories",
    "github_list_users",
    "github_list_webhook_deliveries",
    "github_search_issues",
    "github_search_repositories",
    "grep",
    "read_file",
    "search_code",
)


def tools_json(with_retrieve: bool) -> str:
    from headroom_core import RETRIEVE_TOOL

    tools: list[Any] = [
        {
            "name": n,
            "description": f"{n.replace('_', ' ')}: returns the raw result as text.",
            "parameters": {"type": "object", "properties": {"target": {"type": "string"}}},
        }
        for n in TOOL_NAMES
    ]
    if with_retrieve:
        tools.append(RETRIEVE_TOOL.openai_tool())
    return json.dumps(tools, ensure_ascii=False)


def openai_history(steps: Sequence[Step]) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for s in steps:
        if s.kind == "user":
            msgs.append({"role": "user", "content": s.text})
        elif s.kind == "answer":
            msgs.append({"role": "assistant", "content": s.text})
        else:
            assert s.case is not None
            fn = {"name": s.case.tool, "arguments": json.dumps(tool_args(s.case))}
            msgs.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": s.call_id, "type": "function", "function": fn}],
                }
            )
            msgs.append({"role": "tool", "tool_call_id": s.call_id, "content": s.output})
    return msgs


def anthropic_history(steps: Sequence[Step]) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    for s in steps:
        if s.kind == "user":
            msgs.append({"role": "user", "content": s.text})
        elif s.kind == "answer":
            msgs.append({"role": "assistant", "content": [{"type": "text", "text": s.text}]})
        else:
            assert s.case is not None
            use = {
                "type": "tool_use",
                "id": s.call_id,
                "name": s.case.tool,
                "input": tool_args(s.case),
            }
            msgs.append({"role": "assistant", "content": [use]})
            result = {"type": "tool_result", "tool_use_id": s.call_id, "content": s.output}
            msgs.append({"role": "user", "content": [result]})
    return msgs


def request_points(steps: Sequence[Step]) -> list[int]:
    """After which step the model is called: every user message and every tool result."""
    return [i + 1 for i, s in enumerate(steps) if s.kind in ("user", "call")]


# --------------------------------------------------------------------------- rendering


def render(value: Any) -> str:
    """The text a message contributes to the prompt (role, texts, tool names and arguments)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(render(v) for v in value)
    if isinstance(value, dict):
        parts = []
        for key, v in value.items():
            if key in (
                "role",
                "name",
                "text",
                "content",
                "output",
                "arguments",
                "function",
                "tool_calls",
            ):
                parts.append(render(v))
            elif key == "input":
                parts.append(json.dumps(v, ensure_ascii=False))
        return "\n".join(p for p in parts if p)
    return ""


# --------------------------------------------------------------------------- clients


@dataclass
class Run:
    system: str
    provider: str
    requests: list[Request] = field(default_factory=list)
    breaks: list[int] = field(default_factory=list)
    final: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def to_request(
    provider: str,
    messages: Sequence[dict[str, Any]],
    tools: str,
    system: str = SYSTEM_PROMPT,
    note: str | None = None,
) -> tuple[Request, int]:
    """Segments of a request (Anthropic: one per content block) and its last breakpoint.

    The breakpoint goes after the last segment, or before a trailing CacheAligner note.
    """
    if provider == "openai":
        segs = [tools + "\n" + render(messages[0]), *(render(m) for m in messages[1:])]
        return segs, len(segs)
    segs = [tools + "\n" + system]
    for m in messages:
        content = m.get("content")
        if isinstance(content, list) and content:
            segs.append(m["role"] + "\n" + render(content[0]))
            segs.extend(render(block) for block in content[1:])
        else:
            segs.append(render(m))
    return segs, len(segs) - 1 if note is not None and segs[-1] == note else len(segs)


def naive_rewrite(
    messages: list[dict[str, Any]], memo: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    """Every tool result compressed with the latest user message as its query."""
    from headroom_core import compress
    from headroom_core._messages_formats import text_of

    query = ""
    for m in messages:
        if m.get("role") == "user" and text_of(m.get("content")).strip():
            query = text_of(m.get("content"))

    def squeeze(text: str) -> str:
        key = (text, query)
        if key not in memo:
            memo[key] = compress(text, query=query).text
        return memo[key]

    out = []
    for m in messages:
        m = dict(m)
        if m.get("role") == "tool":
            m["content"] = squeeze(m["content"])
        elif m.get("role") == "user" and isinstance(m.get("content"), list):
            m["content"] = [
                {**b, "content": squeeze(b["content"])} if b.get("type") == "tool_result" else b
                for b in m["content"]
            ]
        out.append(m)
    return out


def stamped_system(k: int) -> str:
    """The system prompt with what many agents add to it: the current time and a request id."""
    when = datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc) + timedelta(seconds=17 * k)
    rid = hashlib.sha1(str(k).encode()).hexdigest()[:16]
    return f"{SYSTEM_PROMPT}Current time: {when:%Y-%m-%dT%H:%M:%SZ}. Request id: req_{rid}.\n"


def replay(
    steps: Sequence[Step], provider: str, system: str, *, stamp: bool = False, align: bool = False
) -> Run:
    from headroom_core import CacheAligner, compress_messages

    history = openai_history if provider == "openai" else anthropic_history
    tools = tools_json(with_retrieve=system != "baseline")
    run = Run(system, provider)
    memo: dict[tuple[str, str], str] = {}
    t0 = time.perf_counter()
    for k, point in enumerate(request_points(steps)):
        messages = history(steps[:point])
        sys_text = stamped_system(k) if stamp else SYSTEM_PROMPT
        if provider == "openai":
            messages[0] = {"role": "system", "content": sys_text}
        if system == "headroom":
            messages = compress_messages(messages).messages
        elif system == "naive":
            messages = naive_rewrite(messages, memo)
        note = None
        if align:
            fixed = CacheAligner(move_volatile=True).align(
                system=None if provider == "openai" else sys_text, messages=messages
            )
            assert fixed.messages is not None
            messages, note = fixed.messages, fixed.note
            sys_text = sys_text if provider == "openai" else fixed.system
        request, last_break = to_request(provider, messages, tools, sys_text, note)
        run.requests.append(request)
        run.breaks.append(last_break)
        run.final = messages
    run.seconds = time.perf_counter() - t0
    return run


def retention(steps: Sequence[Step], final: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """(needles in the capped outputs, found in headroom's text, found there or by retrieve)."""
    from headroom_core import MARKER_RE, retrieve

    texts = {}
    for m in final:
        if m.get("role") == "tool":
            texts[m["tool_call_id"]] = m["content"]
        elif m.get("role") == "user" and isinstance(m.get("content"), list):
            for b in m["content"]:
                if b.get("type") == "tool_result":
                    texts[b["tool_use_id"]] = b["content"]
    total = at0 = at1 = 0
    for s in steps:
        if s.kind != "call" or s.case is None:
            continue
        seen = texts.get(s.call_id, "")
        refs = sorted({m["ref"] for m in MARKER_RE.finditer(seen)})
        for question, answer in s.case.answers:
            if answer not in s.output:
                continue  # cut off by the tool's output cap
            total += 1
            if answer in seen:
                at0 += 1
                at1 += 1
            elif any(answer in retrieve(r, query=question, max_tokens=1000) for r in refs):
                at1 += 1
    return total, at0, at1


# --------------------------------------------------------------------------- report


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def report(
    runs: dict[tuple[str, str], Run],
    usage: dict[tuple[str, str], list[Usage]],
    ret: tuple[int, int, int],
    steps: Sequence[Step],
    elapsed: float,
) -> tuple[str, dict[str, Any]]:
    import headroom_core

    lines = [
        "# Replay benchmark: prompt caching with and without headroom",
        "",
        f"Generated by `uv run python benchmarks/replay.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"headroom-core {headroom_core.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs; run time {elapsed:.1f} s.",
        "",
        "An agent gets three tasks in turn and calls nine tools per task (27 real corpus outputs, "
        f"round-robin over workloads, each capped at {CAP_TOKENS:,} tokens); the model is called after "
        "every user message and every tool result: 30 requests, each resending the whole history. "
        "Tokens are cl100k counts of what each request renders to. See the module docstring of "
        "`benchmarks/replay.py` for the caching rules simulated.",
        "",
        "* **baseline**: the history as is.",
        "* **headroom**: `compress_messages` on the original history before every request "
        "(stateless middleware), plus the `headroom_retrieve` tool definition.",
        "* **naive**: every tool result recompressed before every request with the latest user "
        "message as query (a per-request rewrite); shown only to make cache busting visible.",
        "",
        "Prices (USD per million input tokens): OpenAI GPT-4.1 input "
        f"{OPENAI_PRICE['input']:.2f}, cached {OPENAI_PRICE['cached']:.2f}; Anthropic Claude Sonnet 4.5 "
        f"input {ANTHROPIC_PRICE['input']:.2f}, cache write {ANTHROPIC_PRICE['write']:.2f}, cache read "
        f"{ANTHROPIC_PRICE['read']:.2f}. Output tokens are the same for every client and left out.",
        "",
        "## Totals over 30 requests",
        "",
        "Uncached: input tokens billed at the full price or as a cache write. Re-billed: tokens "
        "the previous request had already sent that were not served from cache (cache busting; "
        "up to 127 per request is OpenAI's 128-token granularity). Lower share / more uncached: "
        "requests 2-30 where the cached share, or the count of uncached tokens, is worse than "
        "baseline's.",
        "",
        "| provider | client | input tokens | vs baseline | cached | uncached | re-billed | cost (USD) | vs baseline | lower share | more uncached |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary: dict[str, Any] = {}
    for provider in ("openai", "anthropic"):
        base = usage[(provider, "baseline")]
        base_in, base_cost = sum(u.input for u in base), cost(provider, base)
        for system in ("baseline", "headroom", "naive"):
            us = usage[(provider, system)]
            tot_in = sum(u.input for u in us)
            c = cost(provider, us)
            pairs = list(zip(us, base, strict=True))[1:]
            lower = sum(1 for u, b in pairs if u.share < b.share - 1e-12)
            more = sum(1 for u, b in pairs if u.uncached > b.uncached)
            summary[f"{provider}/{system}"] = {
                "input_tokens": tot_in,
                "cached_tokens": sum(u.cached for u in us),
                "rebilled_tokens": sum(u.rebilled for u in us),
                "cost_usd": round(c, 4),
                "input_cut": round(1 - tot_in / base_in, 4),
                "requests_with_lower_share": lower,
                "requests_with_more_uncached": more,
            }
            vs = system != "baseline"
            lines.append(
                f"| {provider} | {system} | {tot_in:,} | {'-' + pct(1 - tot_in / base_in) if vs else ''} | "
                f"{sum(u.cached for u in us):,} | {sum(u.uncached for u in us):,} | "
                f"{sum(u.rebilled for u in us):,} | {c:.2f} | "
                f"{'-' + pct(1 - c / base_cost) if vs else ''} | {lower if vs else ''} | "
                f"{more if vs else ''} |"
            )
    total, at0, at1 = ret
    lines += [
        "",
        f"Needles still answerable in headroom's final request (answers present in the capped outputs): "
        f"{at0}/{total} in the text the model sees, {at1}/{total} with one `headroom_retrieve` call.",
        "",
        "## Reading the cache figures",
        "",
    ]
    for provider in ("openai", "anthropic"):
        lines += [f"* {provider}: " + cache_notes(usage, provider)]
    lines += ["", *stamped_section(usage), ""]
    for provider in ("openai", "anthropic"):
        base, hr, nv = (usage[(provider, s)] for s in ("baseline", "headroom", "naive"))
        lines += [
            f"## Per request: {provider}",
            "",
            "| # | baseline input | cached | share | headroom input | cached | share | re-billed | naive share | naive re-billed |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for k, (b, h, n) in enumerate(zip(base, hr, nv, strict=True)):
            lines.append(
                f"| {k + 1} | {b.input:,} | {b.cached:,} | {pct(b.share)} | {h.input:,} | {h.cached:,} | "
                f"{pct(h.share)} | {h.rebilled:,} | {pct(n.share)} | {n.rebilled:,} |"
            )
        lines.append("")
    lines += [
        "## Tool outputs replayed",
        "",
        "| # | case | kind | tokens (capped) |",
        "|---:|---|---|---:|",
    ]
    calls = [s for s in steps if s.kind == "call" and s.case is not None]
    for i, s in enumerate(calls, 1):
        assert s.case is not None
        lines.append(f"| {i} | {s.case.id} | {s.case.kind} | {TOKENS.count(s.output):,} |")
    lines.append("")
    return "\n".join(lines), summary


def stamped_section(usage: dict[tuple[str, str], list[Usage]]) -> list[str]:
    """The same run with a system prompt that changes every request, with and without the fix."""
    from headroom_core import CacheAligner

    tools = json.loads(tools_json(with_retrieve=True))
    before = CacheAligner().analyze(system=stamped_system(0), tools=tools)
    after = CacheAligner(move_volatile=True).align(system=stamped_system(0), tools=tools).after
    lines = [
        "## A system prompt that changes every request",
        "",
        "Many agents put the current time and a request id at the end of the system prompt. "
        "The same 30 requests with that prompt (`Current time: <ISO time>. Request id: req_<hex>.`, "
        "new values every request): `CacheAligner().analyze` scores the prefix (tools + system "
        f"prompt) {before.score:.2f} (volatile: {', '.join(before.kinds)}; the score is high "
        "because the values sit at its end, but everything after them, the whole conversation, "
        "is a cache miss every request); "
        "`CacheAligner(move_volatile=True).align` puts placeholders in the prompt and the values "
        "in a note after the messages (the Anthropic breakpoint goes before the note), scoring "
        f"{after.score:.2f}.",
        "",
        "| provider | client | input tokens | cached | uncached | re-billed | cost (USD) | vs plain-prompt baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for provider in ("openai", "anthropic"):
        base_cost = cost(provider, usage[(provider, "baseline")])
        for name, _, _ in STAMPED:
            us = usage[(provider, name)]
            c = cost(provider, us)
            lines.append(
                f"| {provider} | {name} | {sum(u.input for u in us):,} | "
                f"{sum(u.cached for u in us):,} | {sum(u.uncached for u in us):,} | "
                f"{sum(u.rebilled for u in us):,} | {c:.2f} | {c / base_cost - 1:+.1%} |"
            )
    return lines


def cache_notes(usage: dict[tuple[str, str], list[Usage]], provider: str) -> str:
    """Why headroom's cached share differs from baseline's, from the measured figures."""
    base, hr, nv = (usage[(provider, s)] for s in ("baseline", "headroom", "naive"))
    lower = [k for k in range(1, len(base)) if hr[k].share < base[k].share - 1e-12]
    # compressed / original tokens of what the request adds, and of what it resends
    denser_new = sum(
        1
        for k in lower
        if (hr[k].input - hr[k].reusable) * base[k].reusable
        > hr[k].reusable * (base[k].input - base[k].reusable)
    )
    excess = [hr[k].uncached - base[k].uncached for k in range(1, len(base))]
    busted = [k + 1 for k in range(1, len(nv)) if nv[k].rebilled > 1000]
    return (
        f"headroom re-billed at most {max(u.rebilled for u in hr)} already-sent tokens in any "
        f"request (baseline: at most {max(u.rebilled for u in base)}); naive re-billed "
        f"{sum(nv[k - 1].rebilled for k in busted):,} tokens on requests {busted} (each after a new "
        f"user message changed its query). headroom's cached share is below baseline's on "
        f"{len(lower)} of {len(base) - 1} requests; on {denser_new} of them the tokens the request "
        f"adds kept a larger share of their original size than the history it resends (for "
        f"example an uncompressed or lightly compressed newest result after well-compressed "
        f"ones), so the new, necessarily uncached part is a larger share of a smaller request. "
        + (
            "No request has more uncached tokens with headroom than without."
            if max(excess) <= 0
            else f"Requests with more uncached tokens with headroom than without: "
            f"{sum(1 for e in excess if e > 0)}, by at most {max(excess):,} tokens."
        )
    )


TOKENS: Tokens

#: The stamped-prompt runs: (name, client, CacheAligner on).
STAMPED = (
    ("stamped baseline", "baseline", False),
    ("stamped headroom", "headroom", False),
    ("stamped headroom + aligner", "headroom", True),
)


def simulate(provider: str, run: Run) -> list[Usage]:
    if provider == "openai":
        return simulate_openai(run.requests, TOKENS)
    return simulate_anthropic(run.requests, TOKENS, run.breaks)


def main(argv: Sequence[str] | None = None) -> int:
    global TOKENS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--corpus", type=Path, default=corpus_dir())
    args = parser.parse_args(argv)
    if not (args.corpus / "cases.jsonl").is_file():
        print(f"corpus not found at {args.corpus} (set HEADROOM_CORPUS)", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="headroom-replay-") as home:
        os.environ["HEADROOM_HOME"] = home  # a fresh store; refs are made with its key
        TOKENS = Tokens()
        cases = select_cases(load_cases(args.corpus), TASKS * CALLS_PER_TASK)
        steps = build_steps(cases, TOKENS.count)
        runs: dict[tuple[str, str], Run] = {}
        usage: dict[tuple[str, str], list[Usage]] = {}
        for provider in ("openai", "anthropic"):
            for system in ("baseline", "headroom", "naive"):
                run = replay(steps, provider, system)
                runs[(provider, system)] = run
                usage[(provider, system)] = simulate(provider, run)
                print(f"{provider:9} {system:8} {run.seconds:6.1f} s", flush=True)
            for name, system, align in STAMPED:
                run = replay(steps, provider, system, stamp=True, align=align)
                usage[(provider, name)] = simulate(provider, run)
                print(f"{provider:9} {name:8} {run.seconds:6.1f} s", flush=True)
        ret = retention(steps, runs[("openai", "headroom")].final)
        text, summary = report(runs, usage, ret, steps, time.perf_counter() - t0)
        from headroom_core import get_default_store
        from headroom_core.store import _reset_default_stores

        get_default_store()  # close the store before its folder goes away
        _reset_default_stores()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, "utf-8")
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
