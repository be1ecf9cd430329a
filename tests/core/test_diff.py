"""Diff compressor: valid unified diff out, headers kept, context trimmed, drops marked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidiff.patch import PatchSet

from headroom_core import MARKER_RE, compress, find_markers, retrieve
from headroom_core.compressors._diff_parse import parse_diff


def _file(path: str, n_hunks: int, seed: int, context: int = 12) -> list[str]:
    out = [f"diff --git a/{path} b/{path}", "index 1234567..89abcde 100644"]
    out += [f"--- a/{path}", f"+++ b/{path}"]
    for h in range(n_hunks):
        start = 10 + h * 100
        body = [f" ctx {seed} {h} {k} = compute(value_{k})" for k in range(context)]
        body += [f"-    old_call_{seed}_{h}(arg)", f"+    new_call_{seed}_{h}(arg, retry=True)"]
        body += [f" tail {seed} {h} {k} = finish(value_{k})" for k in range(context)]
        n = 2 * context + 1
        out.append(f"@@ -{start},{n} +{start},{n} @@ def function_{h}():")
        out += body
    return out


def _shown(out: str, original: str) -> int:
    """Original lines shown: all output lines but markers and re-cut hunk headers."""
    headers = {ln for ln in original.splitlines() if ln.startswith("@@")}
    return sum(
        1
        for ln in out.splitlines()
        if not MARKER_RE.fullmatch(ln) and (not ln.startswith("@@") or ln in headers)
    )


def _diff() -> str:
    lines: list[str] = []
    for i in range(12):
        lines += _file(f"src/pkg/module_{i}.py", 3, i)
    lines += ["diff --git a/package-lock.json b/package-lock.json", "--- a/package-lock.json"]
    lines += ["+++ b/package-lock.json", "@@ -1,3 +1,40 @@", " {", ' "name": "x",']
    lines += [f'+  "dep{k}": "1.{k}.0",' for k in range(38)] + [" }"]
    return "\n".join(lines) + "\n"


def test_output_parses_as_unified_diff_with_consistent_hunks() -> None:
    text = _diff()
    c = compress(text, kind="diff")
    assert c.ref is not None and c.savings > 0.4
    patch = PatchSet(c.text)
    paths = [f.path for f in patch]
    assert paths == [f"src/pkg/module_{i}.py" for i in range(12)] + ["package-lock.json"]
    for f in patch:
        for h in f:
            assert h.source_length == sum(1 for ln in h if not ln.is_added)
            assert h.target_length == sum(1 for ln in h if not ln.is_removed)
    assert retrieve(c.ref) == text


def test_changed_lines_stay_and_drops_are_counted() -> None:
    text = _diff()
    c = compress(text, kind="diff", query="where is new_call_3_1 introduced?")
    assert "+    new_call_3_1(arg, retry=True)" in c.text
    assert sum(m.count for m in find_markers(c.text)) + _shown(c.text, text) == len(
        text.splitlines()
    )


def test_lockfile_is_summarised_and_first_hunk_header_survives() -> None:
    c = compress(_diff(), kind="diff")
    lock = [m for m in find_markers(c.text) if m.detail and "generated file" in m.detail]
    assert len(lock) == 1 and lock[0].detail is not None
    assert "+38 -0" in lock[0].detail and "first hunk @@ -1,3 +1,40 @@" in lock[0].detail
    # every file's first hunk header is either kept verbatim or named in its marker
    assert c.text.count("@@ -10,25 +10,25 @@") == 12


def test_identical_hunks_in_many_files_are_counted_once() -> None:
    lines: list[str] = []
    for i in range(40):
        p = f"lib/m{i}.py"
        lines += [f"diff --git a/{p} b/{p}", f"--- a/{p}", f"+++ b/{p}", "@@ -1,4 +1,2 @@"]
        lines += ["-# Copyright 2012 Someone", "-# Licensed under LGPL", " import os", " import re"]
    c = compress("\n".join(lines), kind="diff")
    assert c.text.count("diff --git") == 1
    (marker,) = find_markers(c.text)
    assert (
        marker.count == 39 * 8 and marker.detail and "39 files with the same hunks" in marker.detail
    )


def test_one_line_data_hunk_keeps_its_short_lines_and_code_hunks_stay() -> None:
    blob = "[" + ", ".join(f'{{"id": {i}, "sha": "{i:040x}"}}' for i in range(80)) + "]"
    lines = ["diff --git a/lib/user.py b/lib/user.py", "--- a/lib/user.py", "+++ b/lib/user.py"]
    lines += ["@@ -10,3 +10,4 @@", " a", "+import projects", " b", " c"]
    lines += ["@@ -90,2 +91,15 @@ def get_orgs(self):", " def get_orgs(self):"]
    lines += ["+def get_projects(self, state=None):"]
    lines += [f"+    params_{k} = self._requester.get(self.url, state={k})" for k in range(12)]
    lines += [" x"]
    lines += ["diff --git a/tests/data.json b/tests/data.json", "new file mode 100644"]
    lines += ["--- /dev/null", "+++ b/tests/data.json", "@@ -0,0 +1,3 @@"]
    lines += ["+GET /users/ahhda/projects?state=all", "+" + blob, "+200"]
    text = "\n".join(lines) + "\n"
    c = compress(text, kind="diff")
    assert "+def get_projects(self, state=None):" in c.text and "+import projects" in c.text
    assert blob not in c.text  # the data line goes, the short lines around it stay
    assert "+GET /users/ahhda/projects?state=all" in c.text and "\n+200\n" in c.text
    patch = PatchSet(c.text)
    assert len(patch) == 2 and [len(h) for h in patch[1]] == [1, 1]


def test_parse_keeps_every_line() -> None:
    lines = _diff().splitlines()
    parsed = parse_diff(lines)
    rebuilt = list(parsed.preamble)
    for f in parsed.files:
        rebuilt += f.header + [ln for h in f.hunks for ln in h.lines] + f.trailer
    assert rebuilt == lines


def test_corpus_diffs_meet_savings_and_stay_parseable(corpus_cases: list[dict[str, Any]]) -> None:
    from tests.conftest import case_text

    cases = [c for c in corpus_cases if c["workload"] == "diff"]
    if not cases:
        pytest.skip("no diff cases in the corpus")
    original = compressed = 0
    for case in cases:
        c = compress(case_text(case), query=case["query"], tool=case["tool"])
        original += c.original_tokens
        compressed += c.compressed_tokens
        PatchSet(c.text)
    assert 1 - compressed / original >= 0.6


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(0, 8), st.booleans()), min_size=1, max_size=12
    ),
    st.integers(0, 1000),
)
def test_random_diffs_stay_parseable_and_never_grow(
    files: list[tuple[int, int, bool]], seed: int
) -> None:
    lines: list[str] = []
    for n, (hunks, context, lock) in enumerate(files):
        path = f"pkg/f{n}.lock" if lock and n % 3 == 0 else f"pkg/f{n}_{seed}.py"
        lines += _file(path, hunks, seed + n, context=context)
    text = "\n".join(lines) + "\n"
    c = compress(text, kind="diff")
    assert c.compressed_tokens <= c.original_tokens
    PatchSet(c.text)
    if c.ref is not None:
        assert retrieve(c.ref) == text
