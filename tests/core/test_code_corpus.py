"""Code compressor on every source file of the shared corpus: parses, keeps signatures."""

from __future__ import annotations

from typing import Any

import pytest

from headroom_core import compress
from headroom_core._detect import guess_language
from headroom_core._markers import find_markers
from headroom_core.compressors._code import _parser, parses_cleanly
from headroom_core.compressors._code_langs import spec_for

from ..conftest import case_text, load_cases

CODE_CASES = [c for c in load_cases() if c["kind"] == "code"]


@pytest.mark.parametrize("case", CODE_CASES, ids=[c["id"] for c in CODE_CASES])
def test_corpus_code_file(case: dict[str, Any]) -> None:
    text = case_text(case)
    result = compress(text, query=case["query"], tool=case["tool"])
    language = result.language
    assert result.kind == "code" and language is not None
    assert language == guess_language(text) or language in ("tsx", "cpp")
    if parses_cleanly(text, language):
        assert parses_cleanly(result.text, language), result.notes
    else:  # macros the grammar cannot expand: the output keeps the input's errors, no more
        assert new_error_lines(text, result.text, language) == [], result.notes
    assert _commented_share(text, result.text, language) < 0.05, result.notes
    assert result.savings >= 0.4, (case["id"], result.savings)
    for needle in case["needles"]:  # parameter lists, return types, constants
        assert needle["answer"] in result.text, needle["question"]
    markers = find_markers(result.text)
    assert len(markers) == 1 and markers[0].ref == result.ref


def _errors(text: str, language: str) -> list[str]:
    """Each parse error as ``ERROR <the line it starts on>`` or ``MISSING <node type>``."""
    spec = spec_for(language)
    assert spec is not None
    tree = _parser(spec.grammar).parse(text.encode("utf-8"))
    lines = text.split("\n")
    found: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            found.append(f"MISSING {node.type}")
        elif node.type == "ERROR":  # named by its first code line (comments may be cut)
            row = node.start_point.row
            while row < node.end_point.row and _is_comment_line(lines[row], spec.line_comment):
                row += 1
            found.append(f"ERROR {lines[row].strip()}")
        elif node.has_error:
            stack.extend(node.children)
    return found


def _is_comment_line(line: str, prefix: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith((prefix, "/*", "*"))


def new_error_lines(original: str, output: str, language: str) -> list[str]:
    """Errors of ``output`` that ``original`` does not have: missing tokens by type, the
    others by the line they start on (an elided body shortens that line, so a line that
    extends the original's, or is extended by it, is the same)."""
    left = _errors(original, language)
    new: list[str] = []
    for error in _errors(output, language):
        same = next((e for e in left if error.startswith(e) or e.startswith(error)), None)
        if same is None:
            new.append(error)
        else:
            left.remove(same)
    return new


def _commented_share(original: str, output: str, language: str) -> float:
    """Share of output lines that are code lines of the original turned into comments."""
    spec = spec_for(language)
    assert spec is not None
    prefix = spec.line_comment + " "
    code = {ln.strip() for ln in original.split("\n") if ln.strip()}
    lines = [ln for ln in output.split("\n") if ln.strip()]
    turned = [ln for ln in lines if ln.startswith(prefix) and ln[len(prefix) :].strip() in code]
    return len(turned) / max(1, len(lines))


def test_corpus_has_code_cases(corpus_cases: list[dict[str, Any]]) -> None:
    assert any(c["kind"] == "code" for c in corpus_cases)
