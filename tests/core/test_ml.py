"""ML backend: a tiny random BERT token classifier, saved and loaded for real, offline."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from headroom_core import HeadroomConfig, compress, find_markers, retrieve

torch = pytest.importorskip("torch", reason="torch is not installed (headroom-core[ml] extra)")
transformers = pytest.importorskip("transformers", reason="transformers is not installed")

WORDS = [
    "the",
    "service",
    "restarted",
    "after",
    "a",
    "timeout",
    "in",
    "worker",
    "pool",
    "and",
    "the",
    "queue",
    "drained",
    "slowly",
    "while",
    "retries",
    "were",
    "scheduled",
    "for",
    "each",
    "failed",
    "request",
    "to",
    "the",
    "backend",
    "cluster",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT token classifier with random weights (seed 0) and a word vocab."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(WORDS))]
    vocab += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab += list("abcdefghijklmnopqrstuvwxyz0123456789=/._-")
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", "utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.model_max_length = 32
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=2,
    )
    transformers.BertForTokenClassification(config).save_pretrained(folder)
    return folder


def _text(n: int = 120) -> str:
    lines = []
    for i in range(n // 10):
        words = [WORDS[(i * 7 + k) % len(WORDS)] for k in range(10)]
        if i == 3:
            words[4] = "port=8080"
        if i == 5:
            words[2] = "/var/log/app.log"
        lines.append(" ".join(words))
    return "\n".join(lines)


def test_real_load_and_inference_keeps_ratio_and_must_keep(tiny_model: Path) -> None:
    from headroom_core.ml import TokenClassifierCompressor, clear_model_cache

    clear_model_cache()
    kompress = TokenClassifierCompressor(tiny_model, keep_ratio=0.4)
    assert kompress.max_length == 32
    text = _text()
    result = kompress.compress(text)
    assert result is not None
    assert result.chunks > 1  # 120 words do not fit 30 sub-tokens: chunking happened
    assert result.kept == round(result.words * 0.4)
    assert "port=8080" in result.text and "/var/log/app.log" in result.text
    kept_words = result.text.split()
    original = text.split()
    it = iter(original)
    assert all(any(w == o for o in it) for w in kept_words)  # words in order, never altered
    again = TokenClassifierCompressor(tiny_model, keep_ratio=0.4).compress(text)
    assert again is not None and again.text == result.text  # deterministic


def test_time_budget_passes_through(tiny_model: Path) -> None:
    from headroom_core.ml import TokenClassifierCompressor

    kompress = TokenClassifierCompressor(tiny_model, time_budget=0.0)
    time.sleep(0.001)
    assert kompress.compress(_text()) is None


def test_text_compressor_uses_the_model_when_configured(tiny_model: Path) -> None:
    text = "\n\n".join(_text(60) for _ in range(8))
    config = HeadroomConfig(
        target_ratio=0.5,
        kinds={"text": {"ml_model": str(tiny_model), "ml_keep_ratio": 0.5, "ml_time_budget": 60}},
    )
    c = compress(text, kind="text", config=config)
    assert c.ref is not None
    assert any("token classifier" in (m.detail or "") for m in find_markers(c.text))
    assert "port=8080" in c.text
    assert retrieve(c.ref, config=config) == text


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("headroom_core.ml")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"headroom-core\[ml\]"):
        import headroom_core.ml  # noqa: F401
