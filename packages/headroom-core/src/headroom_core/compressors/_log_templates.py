"""Log template mining: group lines that differ only in their variable parts.

A small Drain-style miner (He et al., ICWS 2017) written for this package rather than
taken from ``drain3``: drain3 (last release 2022) adds ``jsonpickle``/``cachetools``,
persistence and a tree we do not need, and spends most of its time in per-line masking
through many separate regexes. Here each distinct token shape is masked once, in one
regex pass per mask over all of them (log tokens repeat a lot), and every distinct masked
line is compared once, with a template as a whole (positions are fields of one integer),
so 2,000 lines mine in about ten milliseconds, and the result depends only on the input
order (deterministic).

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
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

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
_DIGITS_AS_ONE = str.maketrans("0123456789", "1" * 10)
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
    """A template being mined, with its positions as fields of integers (see ``_Flags``)."""

    __slots__ = ("code", "informative", "members", "outcome", "tokens", "variable")

    def __init__(self, tokens: list[str], line: _Line, flags: _Flags) -> None:
        self.tokens = tokens
        self.members: list[int] = []
        self.code, self.variable, self.outcome = line
        self.informative = flags.informative(tokens, self.variable)

    def widen(self, code: int, flags: _Flags) -> None:
        """``<*>`` wherever the line ``code`` differs (a wildcard, id 0, is a value, not an
        outcome word, not informative)."""
        flag_bits, id_low = flags.spans(len(self.tokens))
        differ = ((self.code ^ code) + id_low) & flag_bits
        wild = ~(self.code + id_low) & flag_bits
        change = differ & ~wild
        if not change:
            return
        self.code &= ~((change >> 31) * _ID_BITS)  # those fields become id 0
        self.variable |= change
        self.outcome &= ~change
        self.informative &= ~change
        while change:
            low = change & -change
            change ^= low
            self.tokens[(low.bit_length() - 1) // _FIELD] = WILDCARD


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
        masked = masker.lines(messages)
        flags = _Flags(masker, _neutral_tokens(masked))
        by_len: dict[int, list[_Cluster]] = {}
        exact: dict[tuple[str, ...], _Cluster] = {}
        clusters: list[_Cluster] = []
        assignment: list[_Cluster] = []
        for i, toks in enumerate(masked):
            cluster = exact.get(toks)
            if cluster is None:
                line = flags.line(toks)
                cluster = self._match(line, by_len.get(len(toks), ()), flags)
                if cluster is None:
                    cluster = _Cluster(list(toks), line, flags)
                    by_len.setdefault(len(toks), []).append(cluster)
                    clusters.append(cluster)
                exact[toks] = cluster
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

    def _match(self, line: _Line, candidates: Sequence[_Cluster], flags: _Flags) -> _Cluster | None:
        """The most similar template of the same length, if similar enough; it takes
        ``<*>`` where it differs from the ``line``.

        Per position (a template token ``a``, a line token ``b``): an equal informative
        token (not a value, not a constant header word) counts as agreeing; differing
        outcome words rule the template out; any other difference counts against, unless
        both tokens are values. With positions as fields of integers this is a few
        integer operations per template (``_Flags``).
        """
        if not candidates:
            return None
        flag_bits, id_low = flags.spans(len(candidates[0].tokens))
        code, variable, outcome = line
        best: _Cluster | None = None
        best_score = -1.0
        for cluster in candidates:
            # a field's id bits are all zero exactly where the tokens are equal: adding
            # the low bits of every field carries into the flag bit of the others
            equal = ~((cluster.code ^ code) + id_low) & flag_bits
            differ = flag_bits ^ equal
            if differ & (cluster.outcome | outcome):
                score = 0.0
            else:
                same = (equal & cluster.informative).bit_count()
                total = same + (differ & ~(cluster.variable & variable)).bit_count()
                score = 1.0 if total == 0 else same / total
            if score > best_score:
                best, best_score = cluster, score
                if score >= 1.0:
                    break
        if best is None or best_score < self.similarity:
            return None
        best.widen(code, flags)
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

    def lines(self, lines: Sequence[str]) -> list[tuple[str, ...]]:
        """The masked tokens of every line.

        Done in bulk: after the ``0x`` pass every ASCII digit is written ``1`` (the other
        patterns see digits only as digits, and every digit ends up inside a mask, so a
        token masks the same either way), which makes most tokens of a log the same few
        shapes; the distinct new shapes are then joined by spaces and each mask pass runs
        once over the whole string. No pattern matches or looks across whitespace, so a
        token masks exactly as it would alone. Shaped lines repeat as well (timestamps,
        counters): each distinct one is split and mapped once.
        """
        hex_prefix, hex_mask = _MASKS[0]
        text = hex_prefix.sub(hex_mask, "\n".join(lines)).translate(_DIGITS_AS_ONE)
        shaped = text.split("\n")
        if len(shaped) != len(lines):  # a message holding a newline: one at a time
            shaped = [hex_prefix.sub(hex_mask, line).translate(_DIGITS_AS_ONE) for line in lines]
        masked: dict[str, tuple[str, ...]] = dict.fromkeys(shaped, ())  # lines repeat too
        split = [line.split() for line in masked]
        cache = self._masked
        todo: list[str] = []
        for tok in dict.fromkeys(chain.from_iterable(split)):
            if tok in cache:
                continue
            if tok.isdigit():
                cache[tok] = "<n>"
            else:
                todo.append(tok)
        if todo:
            joined = " ".join(todo)
            for pattern, mask in _MASKS[1:]:
                joined = pattern.sub(mask, joined)
            cache.update(zip(todo, joined.split(" "), strict=True))
        get = cache.__getitem__
        for line, toks in zip(masked, split, strict=True):
            masked[line] = tuple(map(get, toks))
        # every masked token is compared: rate them all at once
        variable, outcome = self._variable, self._outcome
        for tok in dict.fromkeys(cache.values()):
            if tok not in variable:
                variable[tok] = "<" in tok and _variable(tok)
                outcome[tok] = tok.strip(_BARE) in OUTCOME_WORDS
        return list(map(masked.__getitem__, shaped))

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


#: Token sequences are compared as integers with one 32-bit field per position: the
#: token's id in the low 31 bits (``_ID_BITS``), or a flag in the top bit (bit 31).
_FIELD = 32
_ID_BITS = (1 << 31) - 1


#: A masked line as ``_Flags.line`` gives it: (ids, values, outcome words).
_Line = tuple[int, int, int]


def _fields(values: Iterable[int], n: int) -> int:
    """``n`` values below 2**31 as the fields of an integer (``struct`` packs them in C)."""
    return int.from_bytes(struct.pack(f"<{n}I", *values), "little")


class _Flags:
    """Token sequences as fields of integers: token ids, and flags of the positions that
    hold values, outcome words or informative tokens, so that comparing a line with a
    template is a few integer operations however long they are."""

    def __init__(self, masker: _TokenMasker, neutral: Sequence[frozenset[str]]) -> None:
        self.masker, self.neutral = masker, neutral
        self.ids: dict[str, int] = {WILDCARD: 0}  # ``_Cluster.widen`` relies on 0
        self._spans: dict[int, tuple[int, int]] = {}

    def spans(self, n: int) -> tuple[int, int]:
        """For ``n`` positions: every flag bit, and every id bit."""
        found = self._spans.get(n)
        if found is None:
            found = self._spans[n] = (
                _fields([1] * n, n) << 31,
                _fields([_ID_BITS] * n, n),
            )
        return found

    def code(self, toks: Sequence[str]) -> int:
        """The ids of ``toks`` (a new token gets the next id)."""
        ids = self.ids
        try:
            return _fields(map(ids.__getitem__, toks), len(toks))
        except KeyError:
            for t in toks:
                if t not in ids:
                    ids[t] = len(ids)
            return _fields(map(ids.__getitem__, toks), len(toks))

    def line(self, toks: Sequence[str]) -> _Line:
        """The ids of ``toks`` and the positions of its values and of its outcome words."""
        return (self.code(toks), *self.masks(toks))

    def masks(self, toks: Sequence[str]) -> tuple[int, int]:
        """The positions of values and of outcome words in ``toks``."""
        masker = self.masker
        variable, outcome = masker._variable, masker._outcome
        n = len(toks)
        try:
            return (
                _fields(map(variable.__getitem__, toks), n) << 31,
                _fields(map(outcome.__getitem__, toks), n) << 31,
            )
        except KeyError:
            for t in toks:
                masker.variable(t)
                masker.outcome(t)
            return (
                _fields(map(variable.__getitem__, toks), n) << 31,
                _fields(map(outcome.__getitem__, toks), n) << 31,
            )

    def informative(self, toks: Sequence[str], variable: int) -> int:
        """Positions whose token counts when equal: not a value (``variable`` are), not a
        header word that most lines share there."""
        n = len(toks)
        neutral = _fields(
            [t in col for t, col in zip(toks, self.neutral, strict=False)]
            + [False] * max(0, n - len(self.neutral)),
            n,
        )
        return self.spans(n)[0] & ~variable & ~(neutral << 31)


_BARE = ":;,.[]()<>=-_'\""


def _bare(token: str) -> str:
    return token.strip(_BARE)


def _neutral_tokens(masked: Sequence[Sequence[str]]) -> tuple[frozenset[str], ...]:
    """Per header column, the tokens shared by most lines there."""
    if len(masked) < 4:
        return ()
    heads = Counter(map(itemgetter(slice(_NEUTRAL_POSITIONS)), masked))
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
