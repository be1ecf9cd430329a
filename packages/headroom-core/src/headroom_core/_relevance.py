"""Query relevance shared by every compressor and by retrieval: terms and BM25.

One tokenisation for all of headroom, so "does this row / line / definition match the task"
means the same thing in the JSON, log, code and text compressors and in ``retrieve``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "as",
        "at",
        "from",
        "that",
        "this",
        "which",
        "what",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "does",
        "do",
        "did",
        "it",
        "its",
        "into",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "these",
        "those",
        "not",
        "no",
        "yes",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "answer",
        "as",
        "path",
        "line",
        "file",
        "name",
        "give",
        "me",
        "i",
        "you",
        "we",
    ]
)


def terms(text: str) -> list[str]:
    """Lowercased search terms; identifiers are also split at camelCase and underscores."""
    out: list[str] = []
    for word in _WORD.findall(text):
        low = word.lower()
        if low in STOPWORDS:
            continue
        out.append(low)
        parts = [p.lower() for p in re.split(r"_+", _CAMEL.sub("_", word)) if p]
        if len(parts) > 1:
            out.extend(p for p in parts if p not in STOPWORDS)
    return out


@lru_cache(maxsize=65536)
def word_terms(word: str) -> tuple[str, ...]:
    """``terms(word)`` for one word of the word pattern, cached process-wide (words repeat
    within and across documents). A word with no ``_`` and no capital after its first
    letter has nothing to split: its only term is its lowercase (none for a stopword)."""
    rest = word[1:]
    if "_" not in word and rest == rest.lower():
        low = word.lower()
        return () if low in STOPWORDS else (low,)
    return tuple(terms(word))


#: Bytes a word of ``_WORD`` can hold; every other byte (and every non-ASCII character,
#: which ``_word_runs`` encodes as ``?``) separates words, so ``_WORD`` finds the same words
#: in each maximal run of these as in the whole text.
_RUN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_."
_RUNS_ONLY = bytes(c if c in _RUN_BYTES else 0x20 for c in range(256))
#: A digit ``\d`` matches beyond ASCII's: such a text is read by the pattern itself.
_NON_ASCII_DIGIT = re.compile(r"[^\D0-9]")


def _word_runs(text: str) -> list[bytes] | None:
    """The maximal runs of word bytes in ``text``, split in C; None if the text holds a
    non-ASCII digit (``_WORD`` reads it as part of a word)."""
    if text.isascii():
        return text.encode("ascii").translate(_RUNS_ONLY).split()
    if _NON_ASCII_DIGIT.search(text) is not None:
        return None
    return text.encode("ascii", "replace").translate(_RUNS_ONLY).split()


class _RunTerms(dict[bytes, tuple[str, ...]]):
    """The terms of each run of word bytes (``_word_runs``), filled as runs are met and
    shared process-wide (most runs are one word, and words come back). Looked up per run
    as a plain dict (a cached function would wrap each bytes key in a tuple)."""

    def __missing__(self, run: bytes) -> tuple[str, ...]:
        if len(self) >= _RUNS_KEPT:
            self.clear()
        words = _WORD.findall(run.decode("ascii"))
        found = (
            word_terms(words[0])
            if len(words) == 1
            else tuple(chain.from_iterable(map(word_terms, words)))
        )
        self[run] = found
        return found


#: Runs whose terms are kept, at most.
_RUNS_KEPT = 65536
_RUN_TERMS = _RunTerms()


def _text_terms(text: str) -> Iterable[tuple[str, ...]]:
    """Each word's or run's terms, in order: ``terms(text)`` as groups."""
    runs = _word_runs(text)
    if runs is None:
        return map(word_terms, _WORD.findall(text))
    return map(_RUN_TERMS.__getitem__, runs)


def term_counts(text: str) -> Counter[str]:
    """``Counter(terms(text))``, in the same order: each run's cached terms, counted in C."""
    return Counter(chain.from_iterable(_text_terms(text)))


class TermStats(NamedTuple):
    """What BM25 needs of one document for one query: its number of terms, and the counts
    of the query's terms it holds (``term_stats``)."""

    length: int
    counts: dict[str, int]


def term_stats(text: str, wanted: Collection[str]) -> TermStats:
    """``text``'s ``TermStats`` for a query whose terms are ``wanted``, as ``term_counts``
    would give them: each run's cached terms, counted in C, not term by term."""
    found = list(chain.from_iterable(_text_terms(text)))
    counts: dict[str, int] = {}
    for t in filter(wanted.__contains__, found):  # few: most texts hold no query term
        counts[t] = counts.get(t, 0) + 1
    return TermStats(len(found), counts)


@lru_cache(maxsize=1024)
def _query_counts(query: str) -> tuple[tuple[str, int], ...]:
    """``Counter(terms(query)).items()``, in order: a query is scored against many texts."""
    return tuple(Counter(terms(query)).items())


def bm25_scores(
    docs: Sequence[str | Counter[str] | TermStats],
    query: str,
    *,
    k1: float = 1.2,
    b: float = 0.75,
) -> list[float]:
    """BM25 score of each document against ``query`` (0.0 where nothing matches).

    ``docs`` are texts, precomputed term counters (``Counter(terms(text))``) or
    ``term_stats`` for this query's terms, so callers scoring the same documents again
    tokenise them once.
    """
    q = dict(_query_counts(query))
    if not q or not docs:
        return [0.0] * len(docs)
    counted: list[Mapping[str, int]] = []
    lengths: list[int] = []
    for doc in docs:
        if isinstance(doc, TermStats):
            counted.append(doc.counts)
            lengths.append(doc.length)
        else:
            c = doc if isinstance(doc, Counter) else Counter(terms(doc))
            counted.append(c)
            lengths.append(sum(c.values()))
    n = len(counted)
    avg = sum(lengths) / n or 1.0
    rank = {t: i for i, t in enumerate(q)}
    # the query terms each document holds, in the query's order (a document's terms
    # are summed in that order, so scores do not depend on how the counts were built)
    held: list[list[str]] = []
    df: dict[str, int] = {}
    for d in counted:
        if not d:
            held.append([])
            continue
        if len(d) < len(q):  # term stats: the few query terms the text holds
            mine = sorted([t for t in d if t in rank], key=rank.__getitem__)
        else:
            mine = [t for t in q if t in d]
        held.append(mine)
        for t in mine:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log(1 + (n - m + 0.5) / (m + 0.5)) for t, m in df.items()}
    scores: list[float] = []
    for d, length, mine in zip(counted, lengths, held, strict=True):
        score = 0.0
        if mine:
            norm = k1 * (1 - b + b * length / avg)
            for t in mine:
                tf = d[t]
                if tf:
                    score += q[t] * idf[t] * tf * (k1 + 1) / (tf + norm)
        scores.append(score)
    return scores
