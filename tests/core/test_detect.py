"""Kind detection on small inputs and on the shared corpus."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from headroom_core import detect_kind, guess_language
from tests.conftest import case_text

SMALL = [
    ('{"a": 1, "b": [1, 2]}', "json", None),
    ('{"a": 1}\n{"a": 2}\n{"a": 3}\n', "json", None),
    ('{"level": "info", "msg": "up"}\n{"level": "error", "msg": "down"}\n', "log", None),
    (
        "src/app.py:12:def main():\nsrc/app.py:40:    main()\nsrc/util.py:3:import os\n",
        "search",
        None,
    ),
    (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n",
        "diff",
        None,
    ),
    (
        "2024-01-01 10:00:00 INFO start\n2024-01-01 10:00:01 WARN slow\n2024-01-01 10:00:02 ERROR boom\n",
        "log",
        None,
    ),
    (
        'package main\n\nimport "fmt"\n\nfunc main() {\n\tx := 1\n\tfmt.Println(x)\n}\n',
        "code",
        "go",
    ),
    (
        "The quick brown fox jumps over the lazy dog.\n\nA second paragraph of plain prose.\n",
        "text",
        None,
    ),
]


@pytest.mark.parametrize(("text", "kind", "language"), SMALL)
def test_small_inputs(text: str, kind: str, language: str | None) -> None:
    d = detect_kind(text)
    assert d.kind == kind, d.reason
    if language:
        assert d.language == language


def test_path_hint_decides_language() -> None:
    assert guess_language("int x;", "vector.hpp") == "cpp"
    assert guess_language("export interface A { x: string }", "a.d.ts") == "typescript"
    assert detect_kind("x = 1\n", path="tool.py").kind == "code"


@pytest.mark.corpus
def test_detection_accuracy_on_corpus(corpus_cases: list[dict[str, Any]]) -> None:
    """Content and tool name only (no file path): the harder, honest setting."""
    wrong = []
    for case in corpus_cases:
        got = detect_kind(case_text(case), tool=case["tool"]).kind
        if got != case["kind"]:
            wrong.append((case["id"], case["kind"], got))
    accuracy = 1 - len(wrong) / len(corpus_cases)
    print(
        f"\nkind detection accuracy on corpus: {accuracy:.1%} ({len(corpus_cases) - len(wrong)}/{len(corpus_cases)}); wrong: {wrong}"
    )
    assert accuracy >= 0.95, wrong


@pytest.mark.parametrize(
    "module",
    ["dataclasses", "logging/__init__", "zipfile", "threading", "difflib", "statistics", "_pyio"],
)
def test_docstring_heavy_python_modules_are_code(module: str) -> None:
    """Real stdlib modules whose prose outweighs their code-like lines are still Python."""
    path = Path(sysconfig.get_paths()["stdlib"]) / f"{module}.py"
    detection = detect_kind(path.read_text("utf-8"))
    assert (detection.kind, detection.language) == ("code", "python"), detection.reason


def test_python_documentation_is_text() -> None:
    """reST docs full of Python signatures and examples do not compile: they stay text."""
    import headroom_core

    docs = Path(headroom_core.__file__).with_name("demo_data") / "subprocess.rst.txt"
    assert detect_kind(docs.read_text("utf-8")).kind == "text"


@pytest.mark.parametrize(
    "lines",
    [
        [f"PASS: g++.dg/test{i}.C  -std=c++17  (test for excess errors)" for i in range(30)]
        + ["FAIL: g++.dg/rare.C  (test for excess errors)", "UNRESOLVED: g++.dg/x.C"],
        [f"ok {i} - parses input {i}" for i in range(1, 30)] + ["not ok 30 - handles EOF"],
        [f"=== RUN   TestParse{i}\n--- PASS: TestParse{i} (0.00s)" for i in range(15)],
    ],
    ids=["dejagnu", "tap", "go-test"],
)
def test_test_run_results_are_logs(lines: list[str]) -> None:
    assert detect_kind("\n".join(lines) + "\n").kind == "log"


def test_json_lines_longer_than_the_sample_are_json() -> None:
    # API objects one per line, each a few KB: the detection sample ends inside a line
    records = [
        {"number": i, "title": f"issue {i}", "body": "steps to reproduce " * 150, "state": "open"}
        for i in range(40)
    ]
    text = "\n".join(json.dumps(r) for r in records)
    assert len(text) > 64 * 1024
    assert detect_kind(text).kind == "json"


_RECORDS = json.dumps(
    [{"id": i, "name": f"item {i}", "ok": i % 3 > 0} for i in range(60)], indent=2
)


@pytest.mark.parametrize(
    ("text", "framed"),
    [
        ("Found 60 items:\n" + _RECORDS, True),
        (_RECORDS + "\n\n(60 results, page 1 of 3)\n", True),
        ("```json\n" + _RECORDS + "\n```", True),
        ("Two pages:\n" + _RECORDS + "\n" + _RECORDS, False),  # two documents
        ("int main()\n{\n  return 0;\n}\n", False),  # a brace on its own line: code
        (_RECORDS + " and more after it on its last line", False),
        ("[INFO] start\n" * 40 + "[INFO] done, see [1]", False),  # brackets of a log
    ],
)
def test_json_framed_by_a_few_lines_of_text_is_json(text: str, framed: bool) -> None:
    found = detect_kind(text)
    assert (found.kind == "json" and found.span is not None) == framed
    if framed:
        assert found.span is not None
        start, end = found.span
        assert json.loads(text[start:end]) == json.loads(_RECORDS)


def test_records_with_a_nested_location_are_json_not_search() -> None:
    alerts = [
        {"number": n, "rule": "r", "location": {"path": f"w{n}.yml", "start_line": n}}
        for n in range(10)
    ]
    matches = [{"path": f"src/m{n}.py", "line": n, "text": "import os"} for n in range(10)]
    assert detect_kind(json.dumps(alerts, indent=2)).kind == "json"
    assert detect_kind(json.dumps(matches, indent=2)).kind == "search"


# JSON read from the caller's UTF-8 bytes (``_detect_kind``'s ``data``) and from the text
_AROUND = ["", " ", "\n", " \t\r\n ", "\x0c", "\u00a0", "\n\u2003 ", "\x1f"]
_JSON_TEXTS = [
    '{"a": [1, 2.5, "x\\u00e9"], "b": null}',
    '[{"n": 18446744073709551616}, {"f": NaN}]',
    '{"diff": "@@ -1,2 +1,2 @@", "nul": "\\u0000"}',
    "[1, 2",  # not JSON at all
    "[2024-01-01 10:00:00] INFO start",
    "{}",
]


@pytest.mark.parametrize("before", _AROUND)
@pytest.mark.parametrize("after", _AROUND)
@pytest.mark.parametrize("body", _JSON_TEXTS)
def test_json_from_the_callers_bytes_is_read_as_from_the_text(
    before: str, after: str, body: str
) -> None:
    """Whitespace JSON allows around a value is read past in the bytes; any other (form feed,
    no-break space) is stripped as before: same kind and same value either way."""
    from headroom_core._detect import _detect_kind

    text = before + body + after
    plain = detect_kind(text)
    given = _detect_kind(text, None, None, text.encode("utf-8"))
    assert given.kind == plain.kind
    assert json.dumps(given.value) == json.dumps(plain.value)
    stripped = text.strip()
    try:
        expected: Any = json.loads(stripped)
    except ValueError:
        assert plain.kind != "json"
    else:
        assert plain.kind == "json"
        if plain.value is not None:  # handed on only as orjson read it
            assert json.dumps(plain.value) == json.dumps(expected)


def test_json_holding_diff_text_and_escaped_nul_is_json() -> None:
    """JSON is decided first: hunk headers and NUL escapes inside its strings change nothing."""
    text = json.dumps(
        {"patch": "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "z": "\x00"},
        indent=2,
    )
    assert "@@ -" in text and "\\u0000" in text
    assert detect_kind(text).kind == "json"
