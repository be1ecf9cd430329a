"""Token counting: model families, exact parallel counting, offline loading."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core import _tokens, count_tokens, get_tokenizer
from headroom_core._tokens import (
    QUICKTOK_DIFFERS,
    Tokenizer,
    encoding_for_model,
    split_at_token_boundaries,
)

from ..conftest import case_text


def test_model_families() -> None:
    assert encoding_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_for_model("openai/gpt-5") == "o200k_base"
    assert encoding_for_model("o3-mini") == "o200k_base"
    assert encoding_for_model("gpt-4-turbo") == "cl100k_base"
    assert encoding_for_model(None) == "cl100k_base"


def test_cl100k_is_exact_offline() -> None:
    tok = get_tokenizer()
    assert tok.name == "cl100k_base" and tok.exact
    assert count_tokens("hello world") == 2


def test_o200k_is_exact_offline() -> None:
    tok = get_tokenizer("gpt-4o")
    # without quicktok the o200k file cannot be had offline: cl100k stands in and says so
    assert tok.exact == (tok.name == "o200k_base")
    if sys.version_info < (3, 14):  # quicktok installed (see pyproject)
        assert (tok.name, tok.exact, tok.counter) == ("o200k_base", True, "quicktok")
        text = "Привет, мир! 日本語のテキスト"
        assert tok.count(text) == len(tok.encode(text)) < get_tokenizer().count(text)


def test_quicktoks_vocabulary_is_the_file_tiktoken_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("quicktok")
    from tiktoken_ext import openai_public

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert _tokens._seed_tiktoken_cache("o200k_base")
    assert len(list(tmp_path.iterdir())) == 1
    # tiktoken reads its cache and checks the file against the SHA-256 it pins: a copy
    # that differed would send it to the network, which the tests block
    ranks = openai_public.o200k_base()["mergeable_ranks"]
    assert len(ranks) == 199_998
    assert not _tokens._seed_tiktoken_cache("o200k_base")  # there already: left as it is
    assert not _tokens._seed_tiktoken_cache("p50k_base")  # not one quicktok ships
    assert len(list(tmp_path.iterdir())) == 1
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's cache turned off
    assert not _tokens._seed_tiktoken_cache("o200k_base")


def test_a_damaged_cached_vocabulary_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("quicktok")
    from tiktoken_ext import openai_public

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    _tokens._seed_tiktoken_cache("o200k_base")
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(cached.read_bytes()[:-100])  # cut short
    with pytest.raises(Exception):  # noqa: B017 - tiktoken removes it, then the download fails
        openai_public.o200k_base()
    assert not cached.exists()
    assert _tokens._seed_tiktoken_cache("o200k_base")
    assert len(openai_public.o200k_base()["mergeable_ranks"]) == 199_998


def test_parallel_count_equals_serial_count() -> None:
    text = "".join(f"line {i}: value={i * 7}\n    indented {i}\n\n" for i in range(40_000))
    tok = get_tokenizer()
    pieces = split_at_token_boundaries(text, 10_000)
    assert len(pieces) > 10 and "".join(pieces) == text
    assert tok.count(text) == len(tok.encode(text))


def test_minified_json_is_cut_between_a_letter_and_a_quote() -> None:
    rows = [{"name": f"item {i}", "tag": "alpha", "n": i} for i in range(8000)]
    text = json.dumps(rows, separators=(",", ":"))
    assert "\n" not in text
    pieces = split_at_token_boundaries(text, 10_000)
    assert len(pieces) > 10 and "".join(pieces) == text
    assert all(p[0] == '"' and q[-1].isalpha() for q, p in itertools.pairwise(pieces))
    tok = get_tokenizer()
    assert tok.count(text) == len(tok.encode(text))


_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\r\n",
        " ",
        "  ",
        "\t",
        "    ",
        "/",
        "//",
        "}",
        "{",
        ",",
        "'s",
        "x",
        "Word",
        "42",
        "1234567",
        "é",
        "日本",
        "\u00a0",
        "-->",
        "# ",
        "*/",
        '"k": ',
        "\x0b",
        '"',
        '":"',
        '","',
        "abc",
        "'",
        "e\u0301",
        "\u00c9T\u00c9",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=400), st.integers(1, 60))
def test_cuts_fall_on_pre_token_boundaries(parts: list[str], size: int) -> None:
    text = "".join(parts)
    tok = get_tokenizer()
    pieces = split_at_token_boundaries(text, size)
    assert "".join(pieces) == text
    assert sum(len(tok.encode(p)) for p in pieces) == len(tok.encode(text))


def _tokenizers_by_library(monkeypatch: pytest.MonkeyPatch) -> dict[str, Tokenizer]:
    """cl100k tokenizers counting with each installed encoder, the fastest first."""
    encoding = get_tokenizer()._encoding
    found = {"default": _tokens._tokenizer("cl100k_base", True, encoding)}
    monkeypatch.setattr(_tokens, "_quicktok", lambda encoding: None)
    found["without quicktok"] = _tokens._tokenizer("cl100k_base", True, encoding)
    monkeypatch.setattr(_tokens, "_riptoken", lambda encoding: None)
    found["tiktoken only"] = _tokens._tokenizer("cl100k_base", True, encoding)
    return found


def test_the_fastest_installed_encoder_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    counters = {k: t.counter for k, t in _tokenizers_by_library(monkeypatch).items()}
    fastest = "quicktok" if sys.version_info < (3, 14) else "riptoken"  # see pyproject
    assert counters == {
        "default": fastest,
        "without quicktok": "riptoken",
        "tiktoken only": "tiktoken",
    }
    assert get_tokenizer().counter == fastest


def test_every_encoder_counts_as_tiktoken_on_the_corpus(
    corpus_cases: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    encode = get_tokenizer()._encoding.encode_ordinary
    texts = [case_text(case) for case in corpus_cases]
    expected = [len(encode(text)) for text in texts]
    for library, tok in _tokenizers_by_library(monkeypatch).items():
        assert [tok.count(text) for text in texts] == expected, library


#: quicktok splits these differently (``QUICKTOK_DIFFERS``, checked exhaustively below)
_DIFFERS = frozenset(chr(cp) for first, last in QUICKTOK_DIFFERS for cp in range(first, last + 1))
_TEXT = st.lists(
    st.characters(codec="utf-8", exclude_characters=_DIFFERS)
    | st.sampled_from(list(" \t\n\r'\"{}[]:,.-_/\\!?<>|#@0123456789\u00a0\u3000\u0301"))
    | st.sampled_from(["'s", "'LL", "<|endoftext|>", "\U0001f600", "\u65e5\u672c", "    "]),
    max_size=60,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_the_fast_encoder_counts_any_text_as_tiktoken(text: str) -> None:
    tok = get_tokenizer()
    assert tok.count(text) == len(tok._encoding.encode_ordinary(text))


@pytest.mark.slow
def test_quicktok_differs_from_tiktoken_only_on_the_listed_code_points() -> None:
    """Every code point, as a letter, a digit and a space would meet it: quicktok counts as
    tiktoken does except on ``QUICKTOK_DIFFERS`` (letters Unicode 17.0 added)."""
    tok = get_tokenizer()
    if tok.counter != "quicktok":
        pytest.skip(f"{tok.counter} counts here, not quicktok")
    count, encode = tok.count, tok._encoding.encode_ordinary
    differs: set[str] = set()
    for cp in itertools.chain(range(0x80, 0xD800), range(0xE000, 0x110000)):
        c = chr(cp)
        for probe in (f"a{c}b", f"{c}'s", f"1{c}2", f" {c} x"):
            if count(probe) != len(encode(probe)):
                differs.add(c)
                break
    assert differs == _DIFFERS


def test_a_lone_surrogate_counts_as_the_replacement_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for library, tok in _tokenizers_by_library(monkeypatch).items():
        assert tok.count("a\ud800b c") == tok.count("a\ufffdb c") == 4, library


def test_a_forked_child_counts_long_texts_with_its_own_threads() -> None:
    text = "".join(f"line {i}: value={i * 7}\n" for i in range(20_000))
    tok = get_tokenizer()
    expected = tok.count(text)  # the parent's pool of threads is running now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its count must finish (no parent thread to wait for)
        signal.alarm(30)  # a count waiting on a thread that is not there ends the child
        os.close(read)
        os.write(write, str(tok.count(text)).encode())
        os._exit(0)
    os.close(write)
    try:
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        assert int(os.read(read, 64)) == expected
    finally:
        os.close(read)


def test_many_callers_count_long_texts_at_once() -> None:
    texts = ["".join(f"row {i}: {k}={i * k}\n" for i in range(4_000)) for k in range(1, 9)]
    assert min(map(len, texts)) >= _tokens._PARALLEL_MIN_CHARS  # counted in pieces
    tok = get_tokenizer()
    expected = [len(tok.encode(t)) for t in texts]
    with ThreadPoolExecutor(8) as callers:  # more callers than counting threads
        counted = list(callers.map(tok.count, texts * 3))
    assert counted == expected * 3


def test_a_count_begun_in_the_background_is_exact(
    corpus_cases: list[dict[str, Any]],
) -> None:
    tok = get_tokenizer()
    texts = [case_text(c) for c in corpus_cases if c["kind"] == "json"][:4]
    texts.append("".join(f"ok {i} \ud800 lone\n" for i in range(5_000)))  # a lone surrogate
    texts.append("short")
    for text in texts:
        pending = tok.count_later(text)
        assert pending.result() == tok.count(text)
        assert pending.result() == tok.count(text)  # counted once, then kept


def test_background_counts_with_more_callers_than_threads() -> None:
    texts = ["".join(f"row {i}: {k}={i * k}\n" for i in range(4_000)) for k in range(1, 9)]
    assert min(map(len, texts)) >= _tokens._BACKGROUND_MIN_CHARS  # on a waiting thread
    tok = get_tokenizer()
    expected = [len(tok.encode(t)) for t in texts]

    def later(text: str) -> int:
        pending = tok.count_later(text)
        tok.count(text[::-1])  # the caller's own work meanwhile, counting too
        return pending.result()

    with ThreadPoolExecutor(8) as callers:
        counted = list(callers.map(later, texts * 3))
    assert counted == expected * 3


def test_below_is_known_from_the_length_when_every_token_is_shorter() -> None:
    tok = get_tokenizer()
    assert tok.max_token_chars == 128  # cl100k's longest token
    long_text = "x" * (200 * 128)
    pending = tok.count_later(long_text)
    assert not pending.below(200)
    assert pending.result() == tok.count(long_text) >= 200
    short = tok.count_later(" " * 400)
    assert short.below(200) == (tok.count(" " * 400) < 200)
