"""A tiny hand-made corpus whose figures are known in advance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TOP = "first-fact-7731"
BOTTOM = "last-fact-4409"


def make_corpus(root: Path) -> Path:
    """Two cases in the corpus format: a long text with a fact at each end, a small JSON."""
    files = root / "files"
    (files / "logs").mkdir(parents=True)
    (files / "api").mkdir(parents=True)
    lines = [f"{TOP} boot ok"] + [f"worker {i} heartbeat steady" for i in range(600)]
    lines.append(f"{BOTTOM} disk almost full")
    (files / "logs" / "run.log").write_text("\n".join(lines) + "\n", "utf-8")
    (files / "api" / "users.json").write_text(
        json.dumps([{"login": "octo", "id": 1}], indent=2), "utf-8"
    )
    cases = [
        {
            "id": "logs/run",
            "workload": "logs",
            "tool": "get_logs",
            "kind": "log",
            "file": "files/logs/run.log",
            "query": "What filled the disk?",
            "needles": [
                {"question": "Which id starts the log?", "answer": TOP, "type": "anchored"},
                {"question": "Which id warns about the disk?", "answer": BOTTOM, "type": "anomaly"},
            ],
        },
        {
            "id": "api/users",
            "workload": "api",
            "tool": "list_users",
            "kind": "json",
            "file": "files/api/users.json",
            "query": "Who is octo?",
            "needles": [{"question": "Login of user 1?", "answer": "octo", "type": "anchored"}],
        },
    ]
    (root / "cases.jsonl").write_text("\n".join(json.dumps(c) for c in cases) + "\n", "utf-8")
    return root


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "corpus")
