"""The benchmark command end to end on the tiny corpus: systems, files, JSON, README."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from benchmarks.harness import SystemOutput, load_corpus
from benchmarks.peers.headroom_ai import HeadroomAI
from benchmarks.report import README_END, README_START, appendix_sections
from benchmarks.systems import RunContext

from benchmarks import run
from headroom_core import count_tokens

from .conftest import BOTTOM, TOP

LOCAL_SYSTEMS = "headroom,langchain-context-editing,agents-tool-output-trimmer,truncate"


def _run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert run.main([*args, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _case(data: dict[str, Any], system: str, case: str) -> dict[str, Any]:
    return next(c for c in data["cases"] if c["system"] == system and c["case"] == case)


def test_local_systems_on_the_tiny_corpus(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench" / "RESULTS.md"
    (out.parent / "results").mkdir(parents=True)
    (out.parent / "results" / "replay.md").write_text("# Replay\n\n## Speed\n\n1.0 ms\n", "utf-8")
    data = _run_json(
        capsys,
        *("--corpus", str(tiny_corpus), "--systems", LOCAL_SYSTEMS),
        *("--repeat", "2", "--out", str(out)),
    )
    log_tokens = count_tokens((tiny_corpus / "files/logs/run.log").read_text("utf-8"))

    cleared = _case(data, "langchain-context-editing", "logs/run")
    assert cleared["compressed_tokens"] == count_tokens("[cleared]")
    assert cleared["original_tokens"] == log_tokens
    assert (cleared["retention0"], cleared["retention1"]) == (0.0, 0.0)

    # a 200-character preview keeps the first line's fact and loses the last one
    trimmed = _case(data, "agents-tool-output-trimmer", "logs/run")
    assert [n["at0"] for n in trimmed["needles"]] == [True, False]
    # the small JSON is under the trimmer's 500 characters: passed through whole
    assert _case(data, "agents-tool-output-trimmer", "api/users")["savings"] == 0.0

    headroom = _case(data, "headroom", "logs/run")
    truncated = _case(data, "truncate", "logs/run")
    assert truncated["compressed_tokens"] <= headroom["compressed_tokens"]
    assert truncated["needles"][0]["at0"] is True  # the head survives truncation
    assert headroom["retention1"] == 1.0  # whatever headroom drops, retrieval returns
    assert all(c["latency_ms"] >= 0 for c in data["cases"])

    overall = {a["system"]: a for a in data["aggregates"] if a["group"] == "overall"}
    assert set(overall) == set(LOCAL_SYSTEMS.split(","))
    assert overall["langchain-context-editing"]["retention0"] == 0.0
    assert overall["agents-tool-output-trimmer"]["retention0"] == pytest.approx(2 / 3)
    assert set(data["latency_ratios"]) == set(LOCAL_SYSTEMS.split(",")) - {"headroom"}

    results = out.read_text("utf-8")
    assert "## Overall" in results and "### logs" in results and "### api" in results
    assert "--corpus" in results  # the exact command
    assert "## Replay" in results and "### Speed" in results  # appended standalone report
    # headroom's speed by content kind: one row per kind of the corpus, summed over workloads
    by_kind = results.split("### headroom by content kind", 1)[1].split("\n\n#", 1)[0]
    rows = [line for line in by_kind.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows[1:]] == ["| json", "| log"]
    json_case = _case(data, "headroom", "api/users")
    assert json_case["kind"] == "json"
    cells = rows[1].strip("| ").split(" | ")
    assert cells[1] == "1"  # one JSON case
    # its one case's bytes over its latency (the JSON view rounds the latency to a microsecond)
    assert float(cells[-1].replace(",", "")) == pytest.approx(json_case["throughput_mbs"], rel=0.02)
    # the host speed check before and after the systems ran, in the file and the JSON
    assert "host speed check: `count_tokens` of `" in results
    before, after = data["host_speed_mbs"]
    assert before > 0 and after > 0
    assert (out.parent / "savings_vs_retention.png").read_bytes().startswith(b"\x89PNG")
    assert "| run | truncate |" in (out.parent / "RESULTS-cases.md").read_text("utf-8")


def test_no_write_leaves_no_files(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "RESULTS.md"
    code = run.main(
        ["--corpus", str(tiny_corpus), "--systems", "headroom", "--no-write", "--out", str(out)]
    )
    assert code == 0
    assert not out.exists()
    assert "overall" in capsys.readouterr().out


def test_bad_arguments_are_refused(tiny_corpus: Path) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--systems", "nope"])
    with pytest.raises(SystemExit):
        run.parse_args(["--repeat", "0"])
    assert run.main(["--corpus", str(tiny_corpus), "--cases", "no-such-case", "--no-write"]) == 2


def test_systems_run_in_a_fixed_order() -> None:
    args = run.parse_args(["--systems", "truncate,headroom-ai", "--systems", "headroom"])
    assert args.systems == ["headroom", "headroom-ai", "truncate"]
    # --peers always adds headroom, the system the others are compared with
    assert run.parse_args(["--peers", "truncate"]).systems == ["headroom", "truncate"]


def test_headroom_ai_outputs_come_from_the_cache(tiny_corpus: Path, tmp_path: Path) -> None:
    """A cached case is not re-measured (no subprocess); its figures are read back whole."""
    case = load_corpus(tiny_corpus, cases=["run"])[0]
    peer = HeadroomAI(tmp_path)
    ctx = RunContext(repeat=1, cache_dir=tmp_path / "cache", corpus_dir=tiny_corpus)
    row = {
        "id": case.id,
        "text": f"{TOP} [600 lines compressed. Retrieve more: hash=abc123abc123]",
        "seconds": [0.5, 0.25],
        "retrievals": {"1": "abc123abc123"},
        "originals": {"abc123abc123": case.text},
        "transforms": ["router:log:0.01"],
    }
    from benchmarks.peers import headroom_ai

    output = headroom_ai._to_output(case, row)
    assert output.retrievals[1].found is True
    assert output.retrievals[1].tokens == count_tokens(case.text)
    folder = tmp_path / "cache" / f"headroom-ai-{peer.version()}"
    folder.mkdir(parents=True)
    headroom_ai._save(folder / f"{peer._key(case)}.json", output)

    seen: list[str] = []
    got = peer.run([case], ctx, seen.append)
    assert seen == [case.id]
    cached = got[case.id]
    assert isinstance(cached, SystemOutput)
    assert (cached.text, cached.seconds, cached.retrievals) == (
        output.text,
        output.seconds,
        output.retrievals,
    )
    assert cached.note.startswith("cached")
    assert BOTTOM not in cached.text

    # another version (or another driver) is another key: nothing cached for it
    assert HeadroomAI(tmp_path, version="0.0.1")._key(case) != peer._key(case)


def test_appendix_demotes_headings_outside_code(tmp_path: Path) -> None:
    report = tmp_path / "ccr_load.md"
    report.write_text("Intro\n\n## Figures\n\n```\n# shell comment\n```\n", "utf-8")
    lines = appendix_sections([report])
    assert lines[0] == "## ccr load"
    assert "### Figures" in lines
    assert "# shell comment" in lines


def test_readme_table_is_rewritten_between_its_markers(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{README_START}\nold table\n{README_END}\nafter\n", "utf-8")
    monkeypatch.setattr(run, "REPO_ROOT", tmp_path)
    args = ["--corpus", str(tiny_corpus), "--systems", "headroom,truncate", "--repeat", "1"]
    assert run.main([*args, "--out", str(tmp_path / "b" / "RESULTS.md"), "--readme"]) == 0
    text = readme.read_text("utf-8")
    assert "old table" not in text
    assert text.startswith("# x\n\nbefore\n") and text.endswith(f"{README_END}\nafter\n")
    assert "| **headroom** |" in text and "| truncate |" in text


def test_headroom_bench_command_runs_the_harness(
    tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from headroom_core.cli import app

    monkeypatch.setattr("sys.argv", list(sys.argv))  # the command replaces sys.argv
    args = ["bench", "--corpus", str(tiny_corpus), "--systems", "headroom", "--no-write"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {c["case"] for c in data["cases"]} == {"logs/run", "api/users"}
    assert "--corpus" in data["command"]
    help_text = CliRunner().invoke(app, ["bench", "--help"]).stdout
    assert "--peers" in help_text and "--fresh" in help_text


FAKE_DRIVER = """
import json, sys
from pathlib import Path
request = json.load(sys.stdin)
print(json.dumps({"version": "fake"}), flush=True)
for case in request["cases"]:
    text = (Path(request["corpus"]) / case["file"]).read_text("utf-8")
    row = {"id": case["id"], "text": text[:40] + " hash=0123456789abcdef",
           "seconds": [0.002] * request["repeat"],
           "retrievals": {str(i): "0123456789abcdef" for i, a in enumerate(case["answers"])
                          if a not in text[:40]},
           "originals": {"0123456789abcdef": text}, "transforms": ["fake"]}
    print(json.dumps(row), flush=True)
"""


def test_headroom_ai_is_measured_through_its_driver_then_cached(
    tiny_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The driver protocol (JSON in, a JSON line per case out) and the cache it fills."""
    from benchmarks.peers import headroom_ai

    script = tmp_path / "fake_driver.py"
    script.write_text(FAKE_DRIVER, "utf-8")
    monkeypatch.setattr(headroom_ai, "_driver_command", lambda v: [sys.executable, str(script)])
    monkeypatch.setattr(run, "REPO_ROOT", tmp_path)  # the cache lives under REPO_ROOT
    args = ["--corpus", str(tiny_corpus), "--systems", "headroom-ai", "--no-write"]
    first = _run_json(capsys, *args, "--repeat", "2")
    logs = _case(first, "headroom-ai", "logs/run")
    # the head kept at @0, the tail found in the retrieved original at @1
    assert [(n["at0"], n["at1"]) for n in logs["needles"]] == [(True, True), (False, True)]
    assert logs["latency_ms"] == pytest.approx(2.0)
    assert "fake" in logs["note"]
    assert len(list((tmp_path / "benchmarks" / ".cache").glob("headroom-ai-*/*.json"))) == 2

    script.write_text("import sys; sys.exit(3)\n", "utf-8")  # a second run must not need it
    second = _run_json(capsys, *args)
    assert _case(second, "headroom-ai", "logs/run")["note"].startswith("cached")
    assert (
        _case(second, "headroom-ai", "logs/run")["compressed_tokens"] == logs["compressed_tokens"]
    )


def test_a_peer_that_cannot_run_is_reported_and_left_out(
    tiny_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks.peers import headroom_ai

    monkeypatch.setattr(
        headroom_ai, "_driver_command", lambda v: [sys.executable, "-c", "raise SystemExit(3)"]
    )
    monkeypatch.setattr(run, "REPO_ROOT", tmp_path)
    out = tmp_path / "b" / "RESULTS.md"
    args = ["--corpus", str(tiny_corpus), "--peers", "headroom-ai", "--fresh", "--out", str(out)]
    assert run.main([*args, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {c["system"] for c in data["cases"]} == {"headroom"}
    assert "headroom-ai could not run" in out.read_text("utf-8")
