"""Word-level keep/drop with a token-classification model (LLMLingua-2 compatible).

LLMLingua-2 checkpoints (``microsoft/llmlingua-2-*``) are BERT/XLM-R token classifiers with
two labels where label 1 means "preserve". Any checkpoint with that shape works: a model id
already in the local Hugging Face cache, or a local folder. Words are whitespace-separated;
a word's keep score is the mean preserve probability of its sub-tokens. The text is cut
into chunks of whole words that fit the model's maximum length.

A call has a hard time budget: it is checked before every chunk, and when it runs out the
call returns ``None`` (the caller passes the text through), so a slow CPU never blocks an
agent beyond the budget plus one chunk's inference.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "headroom_core.ml needs torch and transformers; install the extra: "
        'pip install "headroom-core[ml]"'
    ) from exc

#: Words that are never dropped: numbers, versions, hex values, identifiers with digits or
#: underscores, paths and URLs, ``name=value`` pairs, code spans. Dropping one of these
#: changes a fact rather than shortening a sentence.
DEFAULT_MUST_KEEP: tuple[str, ...] = (
    r"\d",
    r"^0x[0-9a-fA-F]+",
    r"[\w.-]*[/\\][\w./\\-]*",
    r"^[A-Za-z]+://",
    r"\w_\w|\w\.\w+\(",
    r"=",
    r"`",
)

_PRESERVE_LABEL = 1
_BATCH = 16  # chunks per forward pass; the time budget is checked between batches

_cache_lock = threading.Lock()
#: Loaded (tokenizer, model) pairs by (model, device): loading takes seconds, so a process
#: loads each model once. ``clear_model_cache`` empties it.
_MODELS: dict[tuple[str, str], tuple[Any, Any]] = {}


def clear_model_cache() -> None:
    """Forget every loaded model (frees its memory once no compressor holds it)."""
    with _cache_lock:
        _MODELS.clear()


def _load(model: str, device: str) -> tuple[Any, Any]:
    key = (model, device)
    with _cache_lock:
        if key not in _MODELS:
            local = Path(model).expanduser()
            source = str(local) if local.exists() else model
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
            net = AutoModelForTokenClassification.from_pretrained(source, local_files_only=True)
            net.to(device)
            net.eval()
            _MODELS[key] = (tokenizer, net)
        return _MODELS[key]


@dataclass(frozen=True)
class WordKeepResult:
    """The kept text (lines preserved, kept words joined by single spaces) and counts."""

    text: str
    words: int
    kept: int
    chunks: int
    seconds: float


class TokenClassifierCompressor:
    """Keeps the words a token classifier scores highest, plus every must-keep word.

    ``model`` is a local folder or a cached model id (nothing is downloaded).
    ``keep_ratio`` is the share of words to keep (must-keep words count towards it).
    ``time_budget`` is in seconds per call. ``max_length`` defaults to the model's.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        keep_ratio: float = 0.5,
        time_budget: float = 2.0,
        max_length: int | None = None,
        must_keep: tuple[str, ...] = DEFAULT_MUST_KEEP,
        device: str = "cpu",
    ) -> None:
        if not 0.0 < keep_ratio <= 1.0:
            raise ValueError("keep_ratio must be in (0, 1]")
        self.model = str(model)
        self.keep_ratio = keep_ratio
        self.time_budget = time_budget
        self.device = device
        self._must_keep = re.compile("|".join(f"(?:{p})" for p in must_keep)) if must_keep else None
        self.tokenizer, self.net = _load(self.model, device)
        limit: int = max_length or int(getattr(self.net.config, "max_position_embeddings", 512))
        tokenizer_limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tokenizer_limit, int) and tokenizer_limit < limit:
            limit = tokenizer_limit
        self.max_length = limit

    def compress(self, text: str) -> WordKeepResult | None:
        """The text with low-scoring words dropped, or ``None`` if the time budget ran out."""
        start = time.perf_counter()
        lines = [line.split() for line in text.split("\n")]
        words = [w for line in lines for w in line]
        if not words:
            return WordKeepResult(text, 0, 0, 0, 0.0)
        scores: list[float] = []
        chunks = self._chunks(words)
        for b in range(0, len(chunks), _BATCH):
            if time.perf_counter() - start > self.time_budget:
                return None
            scores.extend(self._score(chunks[b : b + _BATCH]))
        keep = self._decide(words, scores)
        out_lines: list[str] = []
        k = 0
        for line in lines:
            kept = [w for j, w in enumerate(line) if keep[k + j]]
            k += len(line)
            if kept or not line:
                out_lines.append(" ".join(kept))
        return WordKeepResult(
            "\n".join(out_lines),
            len(words),
            sum(keep),
            len(chunks),
            time.perf_counter() - start,
        )

    def _chunks(self, words: list[str]) -> list[list[str]]:
        """Runs of whole words whose sub-tokens fit ``max_length`` with special tokens."""
        room = max(8, self.max_length - 2)
        # each word alone (a batch), so no over-long sequence is ever built
        per_word = [
            len(ids) for ids in self.tokenizer(words, add_special_tokens=False)["input_ids"]
        ]
        chunks: list[list[str]] = []
        current: list[str] = []
        used = 0
        for word, n in zip(words, per_word, strict=True):
            n = min(max(n, 1), room)
            if current and used + n > room:
                chunks.append(current)
                current, used = [], 0
            current.append(word)
            used += n
        if current:
            chunks.append(current)
        return chunks

    def _score(self, chunks: list[list[str]]) -> list[float]:
        """Per word of ``chunks`` (in order): mean preserve probability of its sub-tokens."""
        enc = self.tokenizer(
            chunks,
            is_split_into_words=True,
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        with torch.inference_mode():
            logits = self.net(**{k: v.to(self.device) for k, v in enc.items()}).logits
        probs = torch.softmax(logits.float(), dim=-1)[..., _PRESERVE_LABEL].tolist()
        out: list[float] = []
        for row, chunk in enumerate(chunks):
            sums = [0.0] * len(chunk)
            counts = [0] * len(chunk)
            for pos, wid in enumerate(enc.word_ids(row)):
                if wid is not None:
                    sums[wid] += probs[row][pos]
                    counts[wid] += 1
            out.extend(s / c if c else 0.0 for s, c in zip(sums, counts, strict=True))
        return out

    def _decide(self, words: list[str], scores: list[float]) -> list[bool]:
        forced = [bool(self._must_keep and self._must_keep.search(w)) for w in words]
        target = max(1, round(len(words) * self.keep_ratio))
        keep = list(forced)
        room = target - sum(forced)
        if room > 0:
            # best scores first; ties broken by position so the result is deterministic
            ranked = sorted(
                (i for i in range(len(words)) if not forced[i]), key=lambda i: (-scores[i], i)
            )
            for i in ranked[:room]:
                keep[i] = True
        return keep
