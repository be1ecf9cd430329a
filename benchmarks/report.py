"""RESULTS.md, RESULTS-cases.md and the savings-vs-retention chart."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from headroom_core._compiled import describe

from .harness import NEEDLE_TYPES, Aggregate, CaseResult, aggregate
from .operating_points import OperatingPoint, operating_points_markdown


@dataclass(frozen=True)
class RunInfo:
    """Where and how a run happened (printed at the top of RESULTS.md)."""

    date: str
    command: str
    corpus: str
    repeat: int
    wall_seconds: float
    versions: dict[str, str]
    descriptions: dict[str, str]
    system_seconds: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds each system took in this run (scoring excluded)."""
    cached: dict[str, int] = field(default_factory=dict)
    """Per system, how many cases were read from the cache of an earlier run."""
    failed: dict[str, str] = field(default_factory=dict)
    """Systems that could not run, with the error; they have no rows."""
    appendix: tuple[Path, ...] = ()
    """Standalone benchmark reports (``benchmarks/results/*.md``) appended as sections."""
    host_speed: tuple[HostSpeed, HostSpeed] | None = None
    """The host speed check before and after the systems ran (``run.host_speed``)."""


@dataclass(frozen=True)
class HostSpeed:
    """The exact token count of one fixed corpus text: a measure of the host, not of any
    system (the same code on the same bytes runs slower only when the host is slowed)."""

    case_id: str
    nbytes: int
    seconds: float  # the fastest of the timed counts

    @property
    def mbs(self) -> float:
        return self.nbytes / self.seconds / 1e6 if self.seconds > 0 else math.inf


def machine() -> str:
    """CPU model, core count and RAM of this machine (Linux /proc; a fallback elsewhere)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f", {int(line.split()[1]) / 1024**2:.0f} GiB RAM"
                break
    except OSError:
        pass
    return f"{cpu}, nproc={os.cpu_count()}{ram}, Python {platform.python_version()}"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.1%}"


def _ms(s: float) -> str:
    if math.isnan(s):
        return "n/a"
    ms = s * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:,.0f}"


def _num(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:,.0f}"


def _mbs(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:,.1f}"


def _ratio(x: float | None) -> str:
    """A latency ratio: two significant digits below 10, whole numbers above."""
    if x is None or math.isnan(x):
        return "-"
    return f"{x:.2g}" if x < 10 else f"{x:,.0f}"


def _type_cells(a: Aggregate) -> list[str]:
    cells = []
    for t in NEEDLE_TYPES:
        if t in a.by_type:
            _, r0, r1 = a.by_type[t]
            cells.append(f"{_pct(r0)} / {_pct(r1)}")
        else:
            cells.append("-")
    return cells


def summary_table(
    rows: Sequence[Aggregate], ratios: dict[str, dict[str, float]], *, group: str
) -> str:
    """Markdown table of every system's ``group`` row (``overall`` or a workload).

    ``ratios`` is keyed by group, then system (``latency_ratios_by_group``).
    """
    head = (
        "| system | tokens in | tokens out | savings | retention@0 | retention@1 | "
        + " | ".join(f"{t} @0 / @1" for t in NEEDLE_TYPES)
        + " | retrieval tok (median) | p50 ms | p95 ms | MB/s | headroom÷peer latency |\n"
        "|---|---:|---:|---:|---:|---:|"
        + "---:|" * len(NEEDLE_TYPES)
        + "---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for a in rows:
        if a.group != group:
            continue
        ratio = ratios.get(group, {}).get(a.system)
        lines.append(
            "| "
            + " | ".join(
                [
                    f"**{a.system}**" if a.system == "headroom" else a.system,
                    f"{a.original_tokens:,}",
                    f"{a.compressed_tokens:,}",
                    _pct(a.savings),
                    _pct(a.retention0),
                    _pct(a.retention1),
                    *_type_cells(a),
                    _num(a.retrieval_tokens_median),
                    _ms(a.latency_p50_s),
                    _ms(a.latency_p95_s),
                    _mbs(a.throughput_mbs),
                    _ratio(ratio),
                ]
            )
            + " |"
        )
    return head + "\n".join(lines) + "\n"


def host_speed_line(speeds: tuple[HostSpeed, HostSpeed]) -> str:
    before, after = speeds
    return (
        f"- host speed check: `count_tokens` of `{before.case_id}` ({before.nbytes / 1e3:,.0f} "
        f"KB), fastest of 20 calls: {before.mbs:,.1f} MB/s before the systems ran, "
        f"{after.mbs:,.1f} MB/s after. Only the host changes this figure: when it is low, "
        "every latency of the run is slowed with it; a slow spell between the two checks "
        "does not show in it"
    )


def kind_table(results: Sequence[CaseResult], system: str = "headroom") -> str:
    """Markdown: ``system``'s speed by the corpus's content kind (all workloads' cases)."""
    mine = [r for r in results if r.system == system and r.kind]
    kinds = sorted({r.kind for r in mine})
    if not kinds:
        return ""
    lines = [
        f"### {system} by content kind\n",
        "Every case of each kind, whatever its workload. MB/s: total input bytes / total of "
        "the cases' median latencies.\n",
        "| kind | cases | input KB | savings | p50 ms | MB/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in kinds:
        rs = [r for r in mine if r.kind == kind]
        a = aggregate(system, kind, rs)
        lines.append(
            f"| {kind} | {a.cases} | {sum(r.nbytes for r in rs) / 1e3:,.0f} | "
            f"{_pct(a.savings)} | {_ms(a.latency_p50_s)} | {_mbs(a.throughput_mbs)} |"
        )
    return "\n".join(lines) + "\n"


def results_markdown(
    rows: Sequence[Aggregate],
    ratios: dict[str, dict[str, float]],
    info: RunInfo,
    chart: str | None,
    operating_points: Sequence[OperatingPoint] = (),
    results: Sequence[CaseResult] = (),
) -> str:
    """The whole of RESULTS.md (``results``: the per-case figures, for the table by kind)."""
    groups = list(dict.fromkeys(a.group for a in rows if a.group != "overall"))
    overall = next((a for a in rows if a.group == "overall"), None)
    n_cases = overall.cases if overall else 0
    n_needles = overall.needles if overall else 0
    out = [
        "# Benchmark results\n",
        f"Generated by `benchmarks/run.py` on {info.date}. Command:\n",
        f"```bash\n{info.command}\n```\n",
        f"- machine: {machine()}",
        f"- headroom: {describe()}",
        f"- corpus: `{info.corpus}` ({n_cases} cases, {n_needles} needles)",
        f"- timing: per case one warm-up call, then the median of {info.repeat} timed calls, "
        "wall clock (`time.perf_counter`) on a machine shared with other work, so compare "
        "systems by the per-case ratio (last column). All systems run in this process "
        "except headroom-ai (its own environment, same machine, same method; its result "
        "cache is cleared before each call). headroom has no result cache.",
        f"- whole run: {info.wall_seconds:,.0f} s wall clock ("
        + ", ".join(f"{k} {v:,.0f} s" for k, v in info.system_seconds.items())
        + ")",
        *(
            f"- {name}: {n} of {n_cases} cases read from the cache of an earlier run of the "
            "same version on the same bytes (its figures, timings included, are from that run; "
            "`--fresh` re-measures)"
            for name, n in info.cached.items()
        ),
        *(
            f"- **{name} could not run** and has no rows: `{msg}`"
            for name, msg in info.failed.items()
        ),
        *([host_speed_line(info.host_speed)] if info.host_speed else []),
        "- tokens: cl100k (`headroom_core.count_tokens`) for every system, on the text the "
        "model would see for that tool output",
        "",
        "## Overall\n",
        summary_table(rows, ratios, group="overall"),
    ]
    if results:
        out.append(kind_table(results))
    if chart:
        out.append(f"![savings vs retention]({chart})\n")
    if operating_points:
        out.append(operating_points_markdown(operating_points))
    out.append("## Per workload\n")
    for g in groups:
        out += [f"### {g}\n", summary_table(rows, ratios, group=g)]
    out += [
        "## Systems\n",
        "| system | version | what is measured |",
        "|---|---|---|",
        *(
            f"| {name} | {info.versions.get(name, '-')} | {desc} |"
            for name, desc in info.descriptions.items()
        ),
        "",
        "## Definitions\n",
        "- **savings**: 1 − tokens out / tokens in, summed over cases (token-weighted).",
        "- **retention@0**: share of needles whose answer is a literal substring of the "
        "compressed text (mean over needles). **retention@1**: same, or found by one retrieval "
        "call for the needle's question; systems without retrieval have @1 = @0.",
        "- **retrieval tok**: median tokens one retrieval call returned (retrievals are made "
        "only for needles missed at @0).",
        "- **p50 / p95 ms**: percentiles over cases of each case's median compress latency. "
        "**MB/s**: total input bytes / total latency.",
        "- **headroom÷peer latency**: median over the group's cases of headroom's latency "
        "divided by the peer's (below 1: headroom is faster).",
        "- The corpus file path is never passed to a compressor: a real tool output often has "
        "none, so kind detection works from content and tool name only.",
        "",
        "Per-case figures: [RESULTS-cases.md](RESULTS-cases.md).",
        "",
    ]
    out += appendix_sections(info.appendix)
    return "\n".join(out)


def appendix_sections(paths: Sequence[Path]) -> list[str]:
    """Each standalone report as a section of its own, its headings one level down."""
    out: list[str] = []
    for path in sorted(paths):
        body = path.read_text("utf-8").strip()
        if not body.startswith("# "):
            body = f"# {path.stem.replace('_', ' ')}\n\n{body}"
        lines = [
            "#" + line if line.startswith("#") and not in_fence else line
            for line, in_fence in _fence_flags(body.splitlines())
        ]
        out += [*lines, "", f"<sub>from `benchmarks/results/{path.name}`</sub>", ""]
    return out


def _fence_flags(lines: Sequence[str]) -> list[tuple[str, bool]]:
    """Pair each line with whether it sits inside a fenced code block."""
    flags: list[tuple[str, bool]] = []
    inside = False
    for line in lines:
        if line.lstrip().startswith("```"):
            flags.append((line, True))
            inside = not inside
        else:
            flags.append((line, inside))
    return flags


README_START = "<!-- benchmark-table:start (written by benchmarks/run.py --readme) -->"
README_END = "<!-- benchmark-table:end -->"


def headline_table(rows: Sequence[Aggregate], ratios: dict[str, dict[str, float]]) -> str:
    """The README's table: overall savings, retention and latency per system."""
    lines = [
        "| system | savings | retention@0 | retention@1 | p50 ms | headroom÷peer latency |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for a in rows:
        if a.group != "overall":
            continue
        ratio = ratios.get("overall", {}).get(a.system)
        name = f"**{a.system}**" if a.system == "headroom" else a.system
        lines.append(
            f"| {name} | {_pct(a.savings)} | {_pct(a.retention0)} | {_pct(a.retention1)} | "
            f"{_ms(a.latency_p50_s)} | {_ratio(ratio)} |"
        )
    return "\n".join(lines)


def update_readme(
    readme: Path, rows: Sequence[Aggregate], ratios: dict[str, dict[str, float]], info: RunInfo
) -> bool:
    """Replace the table between the README's markers; False when the markers are missing."""
    text = readme.read_text("utf-8")
    start = text.find(README_START)
    end = text.find(README_END)
    if start < 0 or end < start:
        return False
    overall = next((a for a in rows if a.group == "overall"), None)
    scope = f"{overall.cases} cases, {overall.needles} needles" if overall else ""
    block = (
        f"{README_START}\n{headline_table(rows, ratios)}\n\n"
        f"<sub>{scope}; {info.date}; `{info.command}`</sub>\n"
    )
    readme.write_text(text[:start] + block + text[end:], "utf-8")
    return True


def cases_markdown(results: Sequence[CaseResult]) -> str:
    """RESULTS-cases.md: one table per workload, a row per case and system."""
    out = ["# Benchmark results per case\n", "See RESULTS.md for the run, machine and versions.\n"]
    base = {r.case_id: r.latency_s for r in results if r.system == "headroom"}
    for w in dict.fromkeys(r.workload for r in results):
        out += [
            f"## {w}\n",
            "| case | system | tokens in | tokens out | savings | @0 | @1 | ms | MB/s "
            "| headroom÷this ms | note |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        mine = sorted((r for r in results if r.workload == w), key=lambda r: (r.case_id, r.system))
        for r in mine:
            hr = base.get(r.case_id)
            ratio = _ratio(
                None
                if hr is None or r.system == "headroom" or r.latency_s <= 0
                else hr / r.latency_s
            )
            hits0 = sum(n.at0 for n in r.needles)
            hits1 = sum(n.at1 for n in r.needles)
            out.append(
                f"| {r.case_id.split('/', 1)[-1]} | {r.system} | {r.original_tokens:,} | "
                f"{r.compressed_tokens:,} | {r.savings:.1%} | {hits0}/{len(r.needles)} | "
                f"{hits1}/{len(r.needles)} | {_ms(r.latency_s)} | {_mbs(r.throughput_mbs)} | {ratio} | "
                f"{r.note.replace('|', '/')} |"
            )
        out.append("")
    return "\n".join(out)


def savings_chart(rows: Sequence[Aggregate], path: Path) -> None:
    """Scatter of overall savings (x) vs retention@0 (filled) and @1 (hollow) per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overall = [a for a in rows if a.group == "overall"]
    fig, ax = plt.subplots(figsize=(7, 4.6), dpi=120)
    for i, a in enumerate(overall):
        color = f"C{i}"
        ax.scatter([a.savings * 100], [a.retention0 * 100], s=70, color=color, label=a.system)
        if not math.isnan(a.retention1) and abs(a.retention1 - a.retention0) > 1e-9:
            ax.scatter(
                [a.savings * 100], [a.retention1 * 100], s=70, facecolors="none", edgecolors=color
            )
            ax.plot(
                [a.savings * 100] * 2,
                [a.retention0 * 100, a.retention1 * 100],
                color=color,
                linestyle=":",
                linewidth=1,
            )
    ax.set_xlabel("token savings, % (token-weighted, higher is better)")
    ax.set_ylabel("needle retention, % (filled @0, hollow @1)")
    ax.set_xlim(-2, 102)
    ax.set_ylim(-2, 102)
    ax.grid(True, alpha=0.3)
    # a legend rather than labels: points of different systems often sit close together
    ax.legend(loc="center left", fontsize=8, framealpha=0.9)
    ax.set_title("Savings vs retention on the shared corpus (upper right is better)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def console_table(
    rows: Sequence[Aggregate], ratios: dict[str, dict[str, float]], *, title: str
) -> Table:
    """A rich table for the terminal: every workload row of every system, then overall."""
    table = Table(title=title)
    for col in ("workload", "system", "tok in", "tok out", "savings", "ret@0", "ret@1"):
        table.add_column(col, justify="left" if col in ("workload", "system") else "right")
    for col in ("p50 ms", "p95 ms", "hr÷peer"):
        table.add_column(col, justify="right")
    groups = [*dict.fromkeys(a.group for a in rows if a.group != "overall"), "overall"]
    for g in groups:
        mine = [a for a in rows if a.group == g]
        for i, a in enumerate(mine):
            ratio = ratios.get(g, {}).get(a.system)
            table.add_row(
                g if i == 0 else "",
                a.system,
                f"{a.original_tokens:,}",
                f"{a.compressed_tokens:,}",
                _pct(a.savings),
                _pct(a.retention0),
                _pct(a.retention1),
                _ms(a.latency_p50_s),
                _ms(a.latency_p95_s),
                _ratio(ratio),
                end_section=i == len(mine) - 1,
            )
    return table
