"""Code compressor on every source file of the shared corpus: parses, keeps signatures."""

from __future__ import annotations

from typing import Any

import pytest

from headroom_core import compress
from headroom_core._detect import guess_language
from headroom_core._markers import find_markers
from headroom_core.compressors._code import parses_cleanly

from ..conftest import case_text, load_cases

CODE_CASES = [c for c in load_cases() if c["kind"] == "code"]


@pytest.mark.parametrize("case", CODE_CASES, ids=[c["id"] for c in CODE_CASES])
def test_corpus_code_file(case: dict[str, Any]) -> None:
    text = case_text(case)
    result = compress(text, query=case["query"], tool=case["tool"])
    language = result.language
    assert result.kind == "code" and language is not None
    assert language == guess_language(text) or language in ("tsx", "cpp")
    assert parses_cleanly(result.text, language), result.notes
    assert result.savings >= 0.4, (case["id"], result.savings)
    for needle in case["needles"]:  # parameter lists, return types, constants
        assert needle["answer"] in result.text, needle["question"]
    markers = find_markers(result.text)
    assert len(markers) == 1 and markers[0].ref == result.ref


def test_corpus_has_code_cases(corpus_cases: list[dict[str, Any]]) -> None:
    assert any(c["kind"] == "code" for c in corpus_cases)
