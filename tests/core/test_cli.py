"""The headroom CLI: compress --json, retrieve byte-exact, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from headroom_core.cli import app
from tests.conftest import CORPUS

runner = CliRunner()
DEMO = Path(__file__).resolve().parents[2] / "packages/headroom-core/src/headroom_core/demo_data"


def _compress_json(path: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["compress", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_compress_json_fields_and_retrieve_round_trip() -> None:
    path = DEMO / "github_list_users.json"
    out = _compress_json(path)
    assert {"kind", "original_tokens", "compressed_tokens", "ref", "text"} <= out.keys()
    assert out["kind"] == "json" and out["ref"]
    back = runner.invoke(app, ["retrieve", out["ref"]])
    assert back.exit_code == 0
    assert back.stdout_bytes == path.read_bytes()


def test_retrieve_with_query_and_unknown_ref() -> None:
    out = _compress_json(DEMO / "github_list_users.json")
    hit = runner.invoke(
        app, ["retrieve", out["ref"], "--query", "login mojombo", "--max-tokens", "300"]
    )
    assert hit.exit_code == 0 and "mojombo" in hit.stdout
    miss = runner.invoke(app, ["retrieve", "hr_" + "a" * 20])
    assert miss.exit_code == 1


def test_bad_arguments_give_clear_errors() -> None:
    assert runner.invoke(app, ["compress", "/no/such/file"]).exit_code == 2
    assert (
        runner.invoke(app, ["compress", str(DEMO / "shutil.py"), "--kind", "nope"]).exit_code == 2
    )


def test_demo_prints_table() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "total" in result.stdout and "github_list_users.json" in result.stdout


@pytest.mark.corpus
def test_round_trip_on_every_corpus_file(corpus_cases: list[dict[str, Any]]) -> None:
    for case in corpus_cases:
        path = CORPUS / case["file"]
        out = _compress_json(path)
        if out["ref"] is None:
            assert out["text"] == path.read_text("utf-8")
            continue
        back = runner.invoke(app, ["retrieve", out["ref"]])
        assert back.exit_code == 0
        assert back.stdout_bytes == path.read_bytes(), case["id"]


def test_installed_entry_point_runs(headroom_home: Path) -> None:
    """The console script itself, in a real subprocess (stdin input)."""
    exe = Path(sys.executable).with_name("headroom")
    text = (DEMO / "openssh_auth.log").read_text("utf-8")
    env = {**os.environ, "HEADROOM_HOME": str(headroom_home)}
    proc = subprocess.run(
        [str(exe), "compress", "-", "--json"],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert out["kind"] == "log"
