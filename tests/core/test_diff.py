"""Diff compressor: valid unified diff out, headers kept, context trimmed, drops marked."""

from __future__ import annotations

import difflib
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidiff.patch import PatchSet

from headroom_core import MARKER_RE, HeadroomConfig, compress, find_markers, retrieve
from headroom_core.compressors._diff_parse import Hunk, parse_diff, recut, similar_removed


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
    """Original lines shown: all output lines but markers and re-cut hunk headers (a hunk
    header counts when its file has it in the original)."""
    headers: set[tuple[str, str]] = set()
    path = ""
    for ln in original.splitlines():
        path = ln if ln.startswith("+++ ") else path
        if ln.startswith("@@"):
            headers.add((path, ln))
    shown = 0
    path = ""
    for ln in out.splitlines():
        path = ln if ln.startswith("+++ ") else path
        if ln.startswith("@@"):
            shown += (path, ln) in headers
        else:
            shown += not MARKER_RE.fullmatch(ln)
    return shown


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


def _git_file(path: str, old: list[str], new: list[str], context: int = 3) -> list[str]:
    """A real ``git diff`` section for ``path`` from ``old`` to ``new``, via difflib."""
    body = list(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=context, lineterm=""))
    return [f"diff --git a/{path} b/{path}", "index 1234567..89abcde 100644", *body]


def _edited(seed: int, n: int = 120) -> tuple[list[str], list[str]]:
    """A source file and a version of it with edits, insertions and deletions."""
    rnd = random.Random(seed)
    old = [f"    value_{seed}_{k} = compute(item_{k}, flag={k % 3})" for k in range(n)]
    new: list[str] = []
    for k, line in enumerate(old):
        roll = rnd.random()
        if roll < 0.08:
            new.append(line + "  # checked")  # a near-identical replacement
        elif roll < 0.12:
            continue  # a deletion
        elif roll < 0.16:
            new += [line, f"    extra_{seed}_{k} = validate(value_{seed}_{k})"]
        else:
            new.append(line)
    return old, new


def _assert_exact(out: str, files: dict[str, tuple[list[str], list[str]]]) -> None:
    """Every kept hunk line sits at the line its header claims, in the old and new file."""
    for pf in PatchSet(out):
        old, new = files[pf.path]
        for h in pf:
            assert h.source_length == sum(1 for ln in h if not ln.is_added)
            assert h.target_length == sum(1 for ln in h if not ln.is_removed)
            for ln in h:
                text = ln.value.rstrip("\n")
                if ln.source_line_no is not None:
                    assert old[ln.source_line_no - 1] == text
                if ln.target_line_no is not None:
                    assert new[ln.target_line_no - 1] == text
                assert ln.source_line_no is not None or ln.is_added
                assert ln.target_line_no is not None or ln.is_removed


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.sampled_from([0.15, 0.25, 0.35, 0.5, 0.8]))
def test_cut_hunks_are_exact_and_every_line_is_counted(
    seed: int, n_files: int, ratio: float
) -> None:
    files = {f"src/mod_{seed}_{i}.py": _edited(seed + i, 40 + 60 * i) for i in range(n_files)}
    text = "\n".join(ln for path, (a, b) in files.items() for ln in _git_file(path, a, b)) + "\n"
    c = compress(text, kind="diff", config=HeadroomConfig(target_ratio=ratio))
    assert c.compressed_tokens <= c.original_tokens
    _assert_exact(c.text, files)
    counted = sum(m.count for m in find_markers(c.text))
    assert counted + _shown(c.text, text) == len(text.splitlines())


def test_recut_keeps_real_line_numbers() -> None:
    body = [" a", "-b", "+B", " c", " d", " e", "-f", "+F", "+G", " h"]
    hunk = Hunk("@@ -10,8 +10,9 @@ def f():", 10, 10, " def f():", body)
    assert recut(hunk, [True] * len(body)) == [(hunk.header, list(range(len(body))))]
    keep = [False, False, True, False, False, False, True, True, True, False]
    # -b left out: +B is an insertion after old line 11; -f/+F/+G replace old line 15
    assert recut(hunk, keep) == [
        ("@@ -11,0 +11 @@ def f():", [2]),
        ("@@ -15 +15,2 @@", [6, 7, 8]),
    ]
    # a left-out removed line between added ones does not split the sub-hunk
    body = ["-x", "+X", "-y", "+Y", " z"]
    hunk = Hunk("@@ -1,3 +1,3 @@", 1, 1, "", body)
    assert recut(hunk, [False, True, False, True, True]) == [("@@ -3 +1,3 @@", [1, 3, 4])]
    # an empty line is context (editors strip the space), never a change
    body = ["", "-x", "+X", "", " y"]
    hunk = Hunk("@@ -5,4 +5,4 @@", 5, 5, "", body)
    assert recut(hunk, [True, False, True, True, False]) == [("@@ -5 +5,2 @@", [0, 2])]
    assert recut(hunk, [True, False, False, True, True]) == []


def test_similar_removed_lines_pair_with_their_replacement() -> None:
    body = [
        ' if "id" in attributes:',
        '-    self._id = attributes["id"]',
        '+    self._id = attributes["id"]  # pragma no branch',
        "-    legacy_cleanup(self)",
        "+    return self",
    ]
    assert similar_removed(Hunk("@@ -1,3 +1,3 @@", 1, 1, "", body)) == {1}


def test_a_large_file_does_not_starve_small_ones() -> None:
    lines: list[str] = []
    files: dict[str, tuple[list[str], list[str]]] = {}
    big_old = [f"row = {k}" for k in range(10)]
    big_new = big_old + [f"    generated_call_{k}(payload={k}, retries=3)" for k in range(1500)]
    files["src/big_module.py"] = (big_old, big_new)
    for i in range(6):
        old = [f"line {k} of small {i}" for k in range(30)]
        new = old[:10] + [f"    small_{i}_feature_{k}()" for k in range(3)] + old[10:]
        files[f"src/small_{i}.py"] = (old, new)
    for path, (a, b) in files.items():
        lines += _git_file(path, a, b)
    c = compress("\n".join(lines) + "\n", kind="diff")
    assert c.savings > 0.6
    for i in range(6):
        for k in range(3):
            assert f"+    small_{i}_feature_{k}()" in c.text
    big = next(m for m in find_markers(c.text) if m.detail and "+1500 -0" in m.detail)
    assert big.count > 750  # the large file gave up at least half of its lines
    _assert_exact(c.text, files)


def test_near_identical_removed_lines_go_before_other_removed_lines() -> None:
    old = [f"    field_{k} = attributes.get('field_{k}')" for k in range(40)] + [
        "    unique_removed_call(session)"
    ]
    new = [ln + "  # pragma no branch" for ln in old[:40]]
    text = "\n".join(_git_file("src/model.py", old, new)) + "\n"
    seen_split = False
    for ratio in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        c = compress(text, kind="diff", config=HeadroomConfig(target_ratio=ratio))
        similar_kept = "-    field_0 = attributes.get('field_0')" in c.text
        unique_kept = "-    unique_removed_call(session)" in c.text
        assert unique_kept or not similar_kept  # near-duplicates never outlast it
        seen_split |= unique_kept and not similar_kept
        if ratio >= 0.7:  # room for every added line
            assert all(f"+    field_{k} = " in c.text for k in range(40))
    assert seen_split


def test_fixture_files_are_summarised_with_their_first_lines() -> None:
    recorded = ["https", "GET", "api.example.com", "None", "/users/octo/projects?state=all"]
    recorded += [f'{{"id": {k}, "name": "project {k}", "state": "open"}}' for k in range(300)]
    old, new = _edited(7)
    lines = _git_file("src/client.py", old, new)
    lines += ["diff --git a/tests/fixtures/projects.txt b/tests/fixtures/projects.txt"]
    lines += ["new file mode 100644", "index 0000000..1234567", "--- /dev/null"]
    lines += ["+++ b/tests/fixtures/projects.txt", f"@@ -0,0 +1,{len(recorded)} @@"]
    lines += ["+" + ln for ln in recorded]
    c = compress("\n".join(lines) + "\n", kind="diff")
    assert "new file mode 100644" in c.text and "+++ b/tests/fixtures/projects.txt" in c.text
    assert "+/users/octo/projects?state=all" in c.text  # the first lines stay
    assert '"name": "project 250"' not in c.text
    (data,) = [m for m in find_markers(c.text) if m.detail and "data file" in m.detail]
    assert (
        data.detail and "+305 -0" in data.detail and "first hunk @@ -0,0 +1,305 @@" in data.detail
    )
    # the source file keeps every added line
    assert all("+" + ln in c.text for ln in new if ln not in old)
    PatchSet(c.text)


def test_cut_file_header_keeps_a_readable_file_header() -> None:
    old, new = _edited(3, 400)
    c = compress("\n".join(_git_file("src/app.py", old, new)) + "\n", kind="diff")
    assert c.text.startswith("--- a/src/app.py\n+++ b/src/app.py\n@@ ")
    (marker,) = find_markers(c.text)
    assert marker.detail and "first hunk @@ " in marker.detail
    assert [f.path for f in PatchSet(c.text)] == ["src/app.py"]


def test_file_after_a_header_only_file_keeps_its_git_line() -> None:
    old, new = _edited(5, 400)
    lines = ["diff --git a/bin/run.sh b/bin/run.sh", "old mode 100644", "new mode 100755"]
    lines += _git_file("src/app.py", old, new)
    c = compress("\n".join(lines) + "\n", kind="diff")
    assert "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py" in c.text
    assert [f.path for f in PatchSet(c.text)] == ["bin/run.sh", "src/app.py"]
