"""Prose compressor (markdown, reST, plain text): extractive and query-aware.

The text is cut into blocks (paragraphs, with reST directives and their indented bodies
kept together). Headings always stay, so the outline survives. Other blocks are scored by
BM25 against the query, position, and salience (signatures, ``name=default`` pairs, version
notes, numbers, code spans), near-duplicates are dropped, and the best blocks are kept
verbatim within ``ctx.budget``. Each run of dropped blocks becomes one marker.

Opt-in model path (``headroom-core[ml]``): with ``kinds={"text": {"ml_model": PATH}}`` a
token classifier (LLMLingua-2 compatible, ``headroom_core.ml``) drops words instead;
``ml_keep_ratio`` (default: the budget's share), ``ml_time_budget`` (seconds, default 2)
and ``ml_max_length`` tune it. When its time budget runs out, the extractive path runs.
``kinds={"text": {"semantic": "minilm"}}`` adds sentence-embedding similarity to the query
(all-MiniLM-L6-v2, offline) to the extractive scores.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar

from .._relevance import bm25_scores, term_counts
from ._base import CompressContext, CompressorResult

_MD_HEADING = re.compile(r"^#{1,6}\s+\S")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_ADORNMENT = frozenset("=-~^\"'`#*+")  # the characters an underline may start with
_SIGNATURE = re.compile(r"^\s*\.\. (?:function|method|class|attribute|data|exception|decorator)::")
#: Version notes are short and answer "since when": part of the outline of an API page.
_VERSION_NOTE = re.compile(r"^\s*\.\. (?:versionadded|versionchanged|deprecated)::")
#: ``name=default`` pairs, version notes, code spans, numbers, PEP numbers. Every match starts
#: with a word character or a backtick (the lookahead lets the scan skip other positions),
#: and the word boundary before a number or ``PEP`` is checked after its first character
#: (``\d(?<!\w\d)`` is ``\b\d``): an alternative that starts with a character class is
#: ruled out at a glance, one that starts with an assertion is not.
_SALIENT = re.compile(
    r"(?=[\w`])(?:\w+=[\w'\".-]+|versionadded|versionchanged|deprecated|``[^`]+``|`[^`]+`"
    r"|\d(?<!\w\d)[\d.]*\b|P(?<!\wP)EP \d+)"
)
#: A block costing more than this share of the budget, or longer than ``_WINDOW`` lines,
#: is cut into sub-blocks so that selection can keep its relevant part.
_OVERSIZED_SHARE = 0.25
_WINDOW = 40
_MIN_UNIT = 3  # lines: smaller sub-blocks cost more in markers than they save
_UNIT_START = re.compile(r"^\s*(?:[*+-]|\d+[.)]|#\.|\.\. |>>> |:\w[\w -]*:)\s?")
_TABLE_RULE = re.compile(r"^\s*\+[-=+]+\+\s*$")
_NEAR_DUPLICATE = 0.8  # Jaccard share of terms above which a block repeats a kept one


@dataclass(frozen=True)
class _Block:
    first: int
    last: int  # inclusive line index
    heading: bool


class TextCompressor:
    kind: ClassVar[str] = "text"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        trailing = text.endswith("\n")
        lines = (text[:-1] if trailing else text).split("\n")
        counted: dict[tuple[int, int], int] = {}
        blocks = _split_oversized(lines, _blocks(lines), ctx, counted)
        if len(blocks) < 3:
            return CompressorResult(text, ("text: too few blocks",))
        if ctx.options.get("ml_model"):
            result = _model_compress(text, ctx)
            if result is not None:
                return result
        texts = ["\n".join(lines[b.first : b.last + 1]) for b in blocks]
        costs = [
            (counted.get((b.first, b.last)) or ctx.count_tokens(t)) + 1
            for b, t in zip(blocks, texts, strict=True)
        ]
        # markers between kept runs are only known after choosing: render, count, refit
        scores, counters = _scores(blocks, texts, costs, ctx)
        allowance = float(ctx.budget)
        best: tuple[int, set[int], str] | None = None
        smallest: tuple[int, set[int], str] | None = None
        for _ in range(5):
            keep = _select(blocks, scores, counters, costs, ctx, allowance)
            out = _render(lines, blocks, keep, ctx)
            used = ctx.count_tokens(out)
            if smallest is None or used < smallest[0]:
                smallest = (used, keep, out)
            if used <= ctx.budget and (best is None or used > best[0]):
                best = (used, keep, out)
            if 0.95 * ctx.budget <= used <= ctx.budget:
                break
            allowance += (ctx.budget - used) * (0.8 if used < ctx.budget else 1.02)
        chosen = best or smallest
        assert chosen is not None
        _, keep, out = chosen
        notes = (f"text: kept {len(keep)} of {len(blocks)} blocks",)
        return CompressorResult(out + ("\n" if trailing else ""), notes)


def _model_compress(text: str, ctx: CompressContext) -> CompressorResult | None:
    """Word-level drops by the configured token classifier; ``None`` when it timed out."""
    from ..ml import TokenClassifierCompressor

    opts = ctx.options
    ratio = float(opts.get("ml_keep_ratio") or min(1.0, ctx.budget / max(1, ctx.original_tokens)))
    model = TokenClassifierCompressor(
        opts["ml_model"],
        keep_ratio=ratio,
        time_budget=float(opts.get("ml_time_budget", 2.0)),
        max_length=opts.get("ml_max_length"),
    )
    result = model.compress(text)
    if result is None:
        return None
    dropped = result.words - result.kept
    out = result.text
    if dropped:
        detail = f"token classifier, kept {result.kept} of {result.words} words"
        out += "\n" + ctx.marker(dropped, "words", detail)
    return CompressorResult(out, (f"text: {detail if dropped else 'model kept every word'}",))


def _absorb_cheap_runs(keep: set[int], costs: list[int], marker: float) -> None:
    """Keep dropped runs that cost no more than the marker that would stand for them."""
    run: list[int] = []
    for i in range(len(costs) + 1):
        if i < len(costs) and i not in keep:
            run.append(i)
            continue
        if run and sum(costs[j] for j in run) <= marker:
            keep.update(run)
        run = []


def _paragraphs(n: int) -> str:
    return f"{n} paragraph" if n == 1 else f"{n} paragraphs"


def _render(lines: list[str], blocks: list[_Block], keep: set[int], ctx: CompressContext) -> str:
    """Kept blocks verbatim, in order; each run of dropped blocks as one marker."""
    out: list[str] = []
    run_lines = run_blocks = 0
    for i, b in enumerate(blocks):
        if i in keep:
            if run_blocks:
                out.append(ctx.marker(run_lines, "lines", _paragraphs(run_blocks)))
                run_lines = run_blocks = 0
            out.extend(lines[b.first : b.last + 1])
            # the blank lines between this block and the next kept one are dropped with
            # the run; between two kept blocks they stay
            if i + 1 < len(blocks) and i + 1 in keep:
                out.extend(lines[b.last + 1 : blocks[i + 1].first])
            elif i + 1 < len(blocks):
                out.append("")
            continue
        run_blocks += 1
        run_lines += b.last - b.first + 1
    if run_blocks:
        out.append(ctx.marker(run_lines, "lines", _paragraphs(run_blocks)))
    return "\n".join(out)


def _blocks(lines: list[str]) -> list[_Block]:
    """Paragraphs; a heading (with its reST underline) is a block of its own, and a fenced
    code block stays whole with the paragraph it is in (blank lines inside included)."""
    blocks: list[_Block] = []
    i, n = 0, len(lines)
    while i < n:
        if _blank(lines[i]):
            i += 1
            continue
        if i + 1 < n and _is_underline(lines[i], lines[i + 1]):
            blocks.append(_Block(i, i + 1, True))
            i += 2
            continue
        if _UNDERLINE.match(lines[i]) and i + 2 < n and _is_underline(lines[i + 1], lines[i + 2]):
            blocks.append(_Block(i, i + 2, True))  # over- and underlined title
            i += 3
            continue
        if _MD_HEADING.match(lines[i]):
            blocks.append(_Block(i, i, True))
            i += 1
            continue
        start = i
        while i < n and not _blank(lines[i]):
            line = lines[i]
            fence = _FENCE.match(line) if "```" in line or "~~~" in line else None
            if fence:
                i = _fence_end(lines, i, fence.group(1))
            i += 1
            if i + 1 < n and not _blank(lines[i]) and _is_underline(lines[i], lines[i + 1]):
                break
        blocks.append(_Block(start, i - 1, False))
    return blocks


def _blank(line: str) -> bool:
    """``not line.strip()``, without building the stripped copy."""
    return not line or line.isspace()


def _split_oversized(
    lines: list[str],
    blocks: list[_Block],
    ctx: CompressContext,
    counted: dict[tuple[int, int], int],
) -> list[_Block]:
    """Blocks too large to keep or drop whole (a page without blank lines, a long directive
    or table) cut into sub-blocks: at lines that start a unit (list item, directive,
    doctest, table row, dedent), and into windows of at most ``_WINDOW`` lines.

    The token counts taken here go into ``counted`` by (first, last) line, for reuse."""
    limit = max(ctx.budget * _OVERSIZED_SHARE, 1.0)
    out: list[_Block] = []
    for b in blocks:
        size = b.last - b.first + 1
        if b.heading or size < 2 * _MIN_UNIT:
            out.append(b)
            continue
        if size <= _WINDOW:
            tokens = ctx.count_tokens("\n".join(lines[b.first : b.last + 1]))
            if tokens <= limit:
                counted[b.first, b.last] = tokens
                out.append(b)
                continue
        start = b.first
        for j in range(b.first + 1, b.last + 1):
            if j - start >= _WINDOW or (
                j - start >= _MIN_UNIT
                and b.last + 1 - j >= _MIN_UNIT
                and _starts_unit(lines[j - 1], lines[j])
            ):
                out.append(_Block(start, j - 1, False))
                start = j
        out.append(_Block(start, b.last, False))
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _starts_unit(previous: str, line: str) -> bool:
    """``line`` begins a unit of its own within a block (or ``previous`` was a unit's end)."""
    if _UNIT_START.match(line):
        # a doctest session is one unit until its output
        return not (line.lstrip().startswith(">>>") and previous.lstrip().startswith(">>>"))
    if _TABLE_RULE.match(line):
        return True
    return _indent(line) < _indent(previous) and not previous.strip().startswith("...")


def _is_underline(title: str, line: str) -> bool:
    """``line`` underlines ``title`` (reST): an adornment at least as long as the title.

    A run of ``~`` as long as the title (give or take two) is an underline, not a fence.
    """
    if line[:1] not in _ADORNMENT:
        return False  # most lines: no regex needed
    width = len(line.rstrip()) - len(title.rstrip())
    return (
        bool(title.strip())
        and _UNDERLINE.match(line) is not None
        and width >= 0
        and (_FENCE.match(line) is None or (line.lstrip()[:1] == "~" and width <= 2))
    )


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fenced block opened at ``start`` (or the last line)."""
    for j in range(start + 1, len(lines)):
        if lines[j].strip().startswith(fence[:3]) and lines[j].strip().strip(fence[0]) == "":
            return j
    return len(lines) - 1


def _scores(
    blocks: list[_Block], texts: list[str], costs: list[int], ctx: CompressContext
) -> tuple[list[float], list[Counter[str]]]:
    """Each block's worth (query relevance, salience, position, density) and its terms."""
    counters = [term_counts(t) for t in texts]
    bm25 = bm25_scores(counters, ctx.query) if ctx.query else [0.0] * len(blocks)
    top = max(bm25, default=0.0) or 1.0
    semantic = _semantic(texts, ctx)
    n = len(blocks)
    scores: list[float] = []
    for i, t in enumerate(texts):
        salience = len(list(islice(_SALIENT.finditer(t), 8))) / 8
        signature = _SIGNATURE.match(t) is not None
        if signature:
            salience += 1.0
        position = 1.0 - i / n
        density = 30 / (costs[i] + 30)  # short, dense blocks first at equal relevance
        score = 3.0 * bm25[i] / top + 3.0 * semantic[i] + 1.5 * salience + 0.5 * position
        score += density
        if bm25[i] >= 0.8 * top > 0:
            score += 6.0  # the best matches for the query come before the outline
        elif blocks[i].heading or i == 0 or signature or _VERSION_NOTE.match(t):
            score += 4.0  # then the outline: headings, API signatures, version notes
        scores.append(score)
    return scores, counters


def _semantic(texts: list[str], ctx: CompressContext) -> list[float]:
    """Cosine similarity of each block to the query with the ``semantic`` embedding option.

    ``semantic`` is ``"minilm"`` (all-MiniLM-L6-v2, offline, needs the ``ml`` extra) or a
    callable from texts to vectors; without it (the default) or a query, all zeros.
    """
    spec = ctx.options.get("semantic")
    if not spec or not ctx.query:
        return [0.0] * len(texts)
    from ..store._index import resolve_embedding

    embed = resolve_embedding(spec)
    if embed is None:
        return [0.0] * len(texts)
    vectors = [list(v) for v in embed([ctx.query, *texts])]

    def unit(v: list[float]) -> list[float]:
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        return [x / norm for x in v]

    q = unit(vectors[0])
    return [max(0.0, sum(a * b for a, b in zip(q, unit(v), strict=True))) for v in vectors[1:]]


def _near_duplicate(words: set[str], kept_terms: dict[int, list[set[str]]]) -> bool:
    """``words`` share more than ``_NEAR_DUPLICATE`` of their terms (Jaccard) with a kept set.

    Only sets of about the same size can: the share is at most the smaller size over the
    larger, so the sets looked at are those within that ratio (and one more either side).
    """
    size = len(words)
    if not size:
        return False
    low = max(1, int(size * _NEAR_DUPLICATE) - 1)
    high = int(size / _NEAR_DUPLICATE) + 1
    for other in range(low, high + 1):
        for k in kept_terms.get(other, ()):
            common = len(words & k)
            if common / (size + other - common) > _NEAR_DUPLICATE:
                return True
    return False


def _select(
    blocks: list[_Block],
    scores: list[float],
    counters: list[Counter[str]],
    costs: list[int],
    ctx: CompressContext,
    allowance: float,
) -> set[int]:
    n = len(blocks)
    keep: set[int] = set()
    marker = float(ctx.count_tokens(ctx.marker(99, "lines", "9 paragraphs")))
    used = marker  # the document starts as one dropped run
    kept_terms: dict[int, list[set[str]]] = {}  # by number of terms

    def kept_or_edge(j: int) -> bool:
        return j < 0 or j >= n or j in keep

    for i in sorted(range(n), key=lambda j: (-scores[j], j)):
        if i in keep:
            continue
        # a block splits a dropped run (one more marker) or joins two (one fewer)
        neighbours = kept_or_edge(i - 1) + kept_or_edge(i + 1)
        cost = costs[i] + marker * (1 - neighbours)
        if used + cost > allowance:
            continue
        words = set(counters[i])
        if not blocks[i].heading and _near_duplicate(words, kept_terms):
            continue
        keep.add(i)
        kept_terms.setdefault(len(words), []).append(words)
        used += cost
    _absorb_cheap_runs(keep, costs, marker)
    return keep
