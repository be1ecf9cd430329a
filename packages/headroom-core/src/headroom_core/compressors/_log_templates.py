"""Log template mining: group lines that differ only in their variable parts.

A small Drain-style miner (He et al., ICWS 2017) written for this package rather than
taken from ``drain3``: drain3 (last release 2022) adds ``jsonpickle``/``cachetools``,
persistence and a tree we do not need, and spends most of its time in per-line masking
through many separate regexes. Here each distinct token is masked once (log tokens repeat
a lot) and every distinct masked line is compared once, so 2,000 lines mine in tens of
milliseconds, and the result depends only on the input order (deterministic).

How lines are compared:

* Numbers, hex values, IPs (with port) and long hex ids are masked inside tokens
  (``blk_-123`` becomes ``blk_-<n>``), so ordinary variation does not make lines unique.
* A token that contains a mask is *variable*: two variable tokens never count for or
  against similarity. Header words that sit at the same position in most lines (host
  names, a constant level column) are *neutral* for the same reason: without this, a long
  shared header would make any two messages of the same length look alike.
* Lines with the same token count are compared with the templates of that length; the
  share of informative positions that agree must reach ``similarity`` (default 0.5, the
  value of the Drain paper) for the line to join the template, whose differing positions
  become ``<*>``.
* Afterwards a template whose wildcard holds only a few distinct plain words ("Failed
  password" / "Failed none") is split by that word: those are different events.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: Value shapes masked inside tokens, applied in this order (each pass is a plain ``sub``:
#: a callback per match costs more than the whole mining step).
_MASKS = (
    (re.compile(r"0[xX][0-9a-fA-F]+"), "<hex>"),
    (re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.])"), "<ip>"),
    (
        re.compile(
            r"(?<![0-9a-zA-Z])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}"
            r"(?![0-9a-zA-Z])"
        ),
        "<hex>",
    ),
    (re.compile(r"\d+(?:[.,:]\d+)*"), "<n>"),
)
_DIGIT = re.compile(r"\d")
WILDCARD = "<*>"
_MASK_TOKEN = re.compile(r"<(?:n|hex|ip|\*)>")
_WORD4 = re.compile(r"[A-Za-z]{4,}")
#: Words that decide what a line means (its level or outcome): two lines that differ in
#: one of these are never the same template ("Accepted password" is not "Failed password").
OUTCOME_WORDS = frozenset(
    w
    for word in [
        "accepted",
        "failed",
        "failure",
        "fail",
        "fails",
        "error",
        "errors",
        "err",
        "warn",
        "warning",
        "warnings",
        "fatal",
        "critical",
        "crit",
        "severe",
        "emerg",
        "alert",
        "panic",
        "exception",
        "info",
        "notice",
        "debug",
        "trace",
        "success",
        "succeeded",
        "successful",
        "ok",
        "passed",
        "skipped",
        "xfail",
        "xpass",
        "pass",
        "kfail",
        "kpass",
        "unresolved",
        "unsupported",
        "untested",
        "denied",
        "refused",
        "invalid",
        "timeout",
        "aborted",
        "abort",
        "killed",
        "started",
        "stopped",
    ]
    for w in (word, word.upper(), word.capitalize())
)
_CATEGORY_MAX = 8  # distinct words at a wildcard that still make separate event types
_CATEGORY_WORD = re.compile(r"[A-Za-z][A-Za-z_.:'-]*$")
_NEUTRAL_POSITIONS = 10  # only header columns are checked for constant words
_NEUTRAL_SHARE = 0.5


def mask_line(line: str) -> str:
    """``line`` with numbers, hex values and IPs replaced by ``<n>``/``<hex>``/``<ip>``."""
    if _DIGIT.search(line) is None:
        return line
    for pattern, mask in _MASKS:
        line = pattern.sub(mask, line)
    return line


@dataclass(frozen=True)
class Template:
    """One mined template: its tokens (``<*>`` where lines differ) and member indices."""

    id: int
    tokens: tuple[str, ...]
    members: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class MinedLog:
    """Templates of a sequence of messages; ``assignment[i]`` is the template of message i."""

    templates: tuple[Template, ...]
    assignment: tuple[int, ...]


class _Cluster:
    __slots__ = ("members", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.members: list[int] = []


def _variable(token: str) -> bool:
    """A token that holds a value: masked, or a wildcard, and no word of 4+ letters left.

    ``blk_-<n>`` and ``R<n>-M<n>-N<n>`` are values; ``instruction....<n>`` still carries
    a word, so it is compared like a word.
    """
    if token == WILDCARD:
        return True
    if "<" not in token:
        return False
    return _WORD4.search(_MASK_TOKEN.sub(" ", token)) is None


class LogTemplateMiner:
    """Mines templates from log messages; one instance per input (it is not shared).

    ``similarity`` is the share of informative positions that must agree (0.5 as in Drain).
    """

    def __init__(self, *, similarity: float = 0.5) -> None:
        self.similarity = similarity

    def mine(self, messages: Sequence[str]) -> MinedLog:
        masker = _TokenMasker()
        masked = [masker.tokens(m) for m in messages]
        neutral = _neutral_tokens(masked)
        by_len: dict[int, list[_Cluster]] = {}
        exact: dict[tuple[str, ...], _Cluster] = {}
        clusters: list[_Cluster] = []
        assignment: list[_Cluster] = []
        for i, toks in enumerate(masked):
            key = tuple(toks)
            cluster = exact.get(key)
            if cluster is None:
                cluster = self._match(toks, by_len.get(len(toks), ()), neutral, masker)
                if cluster is None:
                    cluster = _Cluster(list(toks))
                    by_len.setdefault(len(toks), []).append(cluster)
                    clusters.append(cluster)
                exact[key] = cluster
            cluster.members.append(i)
            assignment.append(cluster)
        groups = [g for c in clusters for g in _split_categorical(c, masked, masker)]
        groups.sort(key=lambda g: g[1][0])
        templates = tuple(
            Template(n, tokens, members) for n, (tokens, members) in enumerate(groups)
        )
        out = [0] * len(masked)
        for t in templates:
            for i in t.members:
                out[i] = t.id
        return MinedLog(templates, tuple(out))

    def _match(
        self,
        toks: list[str],
        candidates: Sequence[_Cluster],
        neutral: Sequence[frozenset[str]],
        masker: _TokenMasker,
    ) -> _Cluster | None:
        best: _Cluster | None = None
        best_score = -1.0
        for cluster in candidates:
            score = _similarity(cluster.tokens, toks, neutral, masker)
            if score > best_score:
                best, best_score = cluster, score
                if score >= 1.0:
                    break
        if best is None or best_score < self.similarity:
            return None
        for p, (a, b) in enumerate(zip(best.tokens, toks, strict=True)):
            if a != b and a != WILDCARD:
                best.tokens[p] = WILDCARD
        return best


def _split_categorical(
    cluster: _Cluster, masked: Sequence[Sequence[str]], masker: _TokenMasker
) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """The cluster, split by a wildcard position that holds a few distinct *words*.

    Drain merges "Failed password for ..." with "Failed none for ..." and "illegal
    instruction" with "trap instruction": one word differs in a long line. When a wildcard
    takes at most ``_CATEGORY_MAX`` word values (no numbers or ids), each value is its own
    event type, and the rare ones are exactly the anomalies worth keeping.
    """
    members = cluster.members
    if len(members) < 2:
        return [(tuple(cluster.tokens), tuple(members))]
    best: tuple[int, int] | None = None  # (distinct values, position)
    for p, tok in enumerate(cluster.tokens):
        if tok != WILDCARD:
            continue
        values = set()
        for i in members:
            v = masked[i][p]
            if not _CATEGORY_WORD.match(v):
                break
            values.add(v)
            if len(values) > _CATEGORY_MAX:
                break
        else:
            if 2 <= len(values) < len(members) and (best is None or len(values) < best[0]):
                best = (len(values), p)
    if best is None:
        return [(tuple(cluster.tokens), tuple(members))]
    p = best[1]
    parts: dict[str, list[int]] = {}
    for i in members:
        parts.setdefault(masked[i][p], []).append(i)
    out = []
    for value, idx in parts.items():
        tokens = list(cluster.tokens)
        tokens[p] = value
        out.append((tuple(tokens), tuple(idx)))
    return out


class _TokenMasker:
    """Masks lines token by token, caching per distinct token (log tokens repeat a lot)."""

    def __init__(self) -> None:
        self._masked: dict[str, str] = {}
        self._variable: dict[str, bool] = {WILDCARD: True}
        self._outcome: dict[str, bool] = {}

    def tokens(self, line: str) -> list[str]:
        toks = line.split()
        cache = self._masked
        try:
            return list(map(cache.__getitem__, toks))
        except KeyError:
            for tok in toks:
                if tok not in cache:
                    cache[tok] = "<n>" if tok.isdigit() else mask_line(tok)
            return list(map(cache.__getitem__, toks))

    def variable(self, token: str) -> bool:
        v = self._variable.get(token)
        if v is None:
            v = self._variable[token] = _variable(token)
        return v

    def outcome(self, token: str) -> bool:
        v = self._outcome.get(token)
        if v is None:
            v = self._outcome[token] = _bare(token) in OUTCOME_WORDS
        return v


def _similarity(
    template: Sequence[str],
    toks: Sequence[str],
    neutral: Sequence[frozenset[str]],
    masker: _TokenMasker,
) -> float:
    same = total = 0
    var_cache = masker._variable
    out_cache = masker._outcome
    n_neutral = len(neutral)
    for p, a in enumerate(template):
        b = toks[p]
        if a == b:
            va = var_cache.get(a)
            if va is None:
                va = masker.variable(a)
            if va or (p < n_neutral and a in neutral[p]):
                continue
            same += 1
            total += 1
            continue
        oa = out_cache.get(a)
        if oa is None:
            oa = masker.outcome(a)
        ob = out_cache.get(b)
        if ob is None:
            ob = masker.outcome(b)
        if oa or ob:
            return 0.0
        vb = var_cache.get(b)
        if vb is None:
            vb = masker.variable(b)
        if a == WILDCARD:
            if not vb:
                total += 1
            continue
        va = var_cache.get(a)
        if va is None:
            va = masker.variable(a)
        if not (va and vb):
            total += 1
    if total == 0:
        return 1.0
    return same / total


def _bare(token: str) -> str:
    return token.strip(":;,.[]()<>=-_'\"")


def _neutral_tokens(masked: Sequence[Sequence[str]]) -> tuple[frozenset[str], ...]:
    """Per header column, the tokens shared by most lines there."""
    if len(masked) < 4:
        return ()
    heads = Counter(tuple(toks[:_NEUTRAL_POSITIONS]) for toks in masked)
    counts: Counter[tuple[int, str]] = Counter()
    for head, n in heads.items():
        for pt in enumerate(head):
            counts[pt] += n
    floor = _NEUTRAL_SHARE * len(masked)
    columns: list[set[str]] = [set() for _ in range(_NEUTRAL_POSITIONS)]
    for (p, t), v in counts.items():
        if v >= floor:
            columns[p].add(t)
    return tuple(frozenset(c) for c in columns)
