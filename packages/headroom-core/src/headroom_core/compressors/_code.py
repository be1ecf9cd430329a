"""Code compressor: the file's skeleton plus the bodies that matter to the query.

Kept byte-identical: imports, declarations with their fields, every signature with its
decorators and annotations, constants and top-level assignments. Function bodies become a
placeholder with their size (``{ /* 12 lines omitted */ }``, ``...  # 12 lines omitted``,
``{ /* 240 chars omitted */ }`` on minified lines); a body about as short as its
placeholder stays. Comment blocks keep their first line. One marker at the top counts
everything omitted and carries the ref: a ref costs about 20 tokens, so one per body
would eat most of what eliding small bodies saves. When the skeleton alone is still over
budget, comments shrink to their tags, long data literals go, and then whole method
containers (Rust ``impl`` blocks) collapse to a placeholder naming their methods.

The definitions the query names (or that score best on BM25) are kept whole, then the
ones they call, within the budget. The output is re-parsed with the same grammar and
introduces no parse errors the input did not have: an input that parses cleanly gives an
output that does; an input that does not (C/C++ macros the grammar cannot expand, a
truncated slice) keeps its own errors, and the edits next to any new error are put back.
A clean input whose output still fails gets its failing statements as comments, or as a
last resort a commented outline.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any, ClassVar

from .._relevance import STOPWORDS, bm25_scores, term_counts
from ._base import CompressContext, CompressorResult
from ._code_errors import (
    comment_out_errors,
    commented_outline,
    error_regions,
    without_new_errors,
)
from ._code_langs import LangSpec, spec_for
from ._code_skeleton import (
    Container,
    Definition,
    Edit,
    Plan,
    apply_edits,
    non_overlapping,
    plan_skeleton,
)

#: Bodies whose elision saves fewer tokens than this stay: the placeholder costs about 8.
_MIN_SAVING = 6
#: Besides definitions the query names, keep bodies scoring at least this share of the best.
_RELATIVE_SCORE = 0.35
#: What the marker line at the top costs, about.
_HEADER_TOKENS = 45
#: Bodies longer than this (bytes) are elided without counting their tokens first.
_EXACT_BELOW = 400
#: Relevance reads at most this much of each definition (BM25 saturates anyway).
_RELEVANCE_CHARS = 2000
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=32)
def _parser(grammar: str) -> Any:
    """A parser for ``grammar`` (loaded once; the pack ships every grammar, no downloads)."""
    from tree_sitter_language_pack import get_parser

    return get_parser(grammar)  # type: ignore[arg-type]


def parses_cleanly(text: str, language: str) -> bool:
    """Whether ``text`` parses with ``language``'s grammar without ERROR or MISSING nodes."""
    spec = spec_for(language)
    if spec is None:
        return False
    tree = _parser(spec.grammar).parse(text.encode("utf-8"))
    return not tree.root_node.has_error


class CodeCompressor:
    """Source files: skeleton, query-relevant bodies whole, one marker with the ref."""

    kind: ClassVar[str] = "code"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        spec = spec_for(ctx.language)
        if spec is None:
            out = _line_outline(text, ctx)
            return CompressorResult(out, ("code: no grammar; line outline",), ctx.language)
        src = text.encode("utf-8")
        language, spec, tree = _best_grammar(src, ctx.language or "", spec)
        parser = _parser(spec.grammar)
        regions = error_regions(tree.root_node, src)
        plan = plan_skeleton(tree.root_node, src, spec)
        if not (plan.definitions or plan.comments or plan.literals):
            return CompressorResult(text, ("code: nothing to elide",), language)
        comments = plan.comments
        literals: list[Edit] = []
        skeleton = apply_edits(src, [*comments, *_all_bodies(plan)]).decode("utf-8")
        skeleton_tokens = ctx.count_tokens(skeleton)
        if skeleton_tokens > ctx.budget:
            comments = plan.bare_comments  # over budget: comments keep only their tags
            skeleton = apply_edits(src, [*comments, *_all_bodies(plan)]).decode("utf-8")
            skeleton_tokens = ctx.count_tokens(skeleton)
            if skeleton_tokens > ctx.budget:
                literals = plan.literals  # still over: long data tables go too
        collapsed: list[Container] = []
        if skeleton_tokens > ctx.budget and plan.containers:
            base = [*comments, *literals, *_all_bodies(plan)]
            skeleton = apply_edits(src, base).decode("utf-8")
            skeleton_tokens = ctx.count_tokens(skeleton)
            collapsed = _collapse(plan.containers, src, base, skeleton_tokens, ctx)
            if collapsed:
                edits = [*(c.edit for c in collapsed), *base]
                skeleton_tokens = ctx.count_tokens(apply_edits(src, edits).decode("utf-8"))
                plan = _outside(plan, collapsed)
        elided = _choose_elisions(plan, skeleton_tokens, src, ctx)
        edits = non_overlapping(
            [*(c.edit for c in collapsed), *comments, *literals, *(d.edit for d in elided)]
        )
        edits, clean = without_new_errors(src, edits, parser, regions)
        body = apply_edits(src, edits).decode("utf-8")
        omitted = sum(e.omitted for e in edits)
        chars = sum(e.chars for e in edits)
        if omitted == 0 and chars == 0:
            return CompressorResult(text, ("code: nothing to elide",), language)
        kept = {id(e) for e in edits}
        comment_lines = sum(e.omitted for e in comments if id(e) in kept)
        bodies = sum(1 for d in elided if id(d.edit) in kept)
        detail = f"{bodies} function bodies and {comment_lines} comment lines"
        if literals:
            detail += f", {sum(1 for e in literals if id(e) in kept)} data literals"
        if collapsed:
            detail += f", {len(collapsed)} impl blocks whole"
        detail += "; each elided body shows its size in place"
        if chars and omitted:
            detail += f"; and {chars} chars from within lines"
        marker = (
            ctx.marker(omitted, "lines", detail) if omitted else ctx.marker(chars, "chars", detail)
        )
        header = _comment(marker, spec)
        out = _with_header(body, header)
        notes = [f"code: {bodies} of {len(plan.definitions)} bodies elided"]
        repaired = out if clean else None
        if not (clean or regions):
            repaired = comment_out_errors(out, parser, spec)
        if repaired is None:
            out = _with_header(commented_outline(body, spec), header)
            notes.append("skeleton did not re-parse cleanly: commented outline")
        elif repaired != out:
            out = repaired
            notes.append("unparsable statements given as comments")
        return CompressorResult(out, tuple(notes), language)


#: Grammars to try when the detected one does not parse the original: content detection
#: cannot always tell TSX from TypeScript or C++ from C.
_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "typescript": ("tsx",),
    "javascript": ("tsx",),
    "c": ("cpp",),
}


def _best_grammar(src: bytes, language: str, spec: LangSpec) -> tuple[str, LangSpec, Any]:
    """(language, table, tree) for the detected language, or a sibling that parses cleanly."""
    tree = _parser(spec.grammar).parse(src)
    if tree.root_node.has_error:
        for other in _ALTERNATIVES.get(language, ()):
            other_spec = spec_for(other)
            if other_spec is None:
                continue
            other_tree = _parser(other_spec.grammar).parse(src)
            if not other_tree.root_node.has_error:
                return other, other_spec, other_tree
    return language, spec, tree


def _comment(line: str, spec: LangSpec) -> str:
    return f"{spec.line_comment} {line}"


def _with_header(body: str, header: str) -> str:
    """``header`` on its own line at the top (after a shebang or ``<?php`` line)."""
    first, sep, rest = body.partition("\n")
    if first.startswith(("#!", "<?php")) and sep:
        return f"{first}\n{header}\n{rest}"
    return f"{header}\n{body}"


def _query_words(query: str | None) -> set[str]:
    if not query:
        return set()
    return {w.lower() for w in _WORD.findall(query) if len(w) >= 3 and w.lower() not in STOPWORDS}


def _all_bodies(plan: Plan) -> list[Edit]:
    return [d.edit for d in plan.definitions]


#: Collapsing containers stops once the skeleton is down to this share of the budget,
#: leaving the rest for the bodies the query asks about.
_COLLAPSE_TARGET = 0.85


def _collapse(
    containers: list[Container],
    src: bytes,
    edits: list[Edit],
    skeleton_tokens: int,
    ctx: CompressContext,
) -> list[Container]:
    """Containers to collapse whole until the skeleton fits; none that the query names.

    Trait implementations go first (their signatures restate the trait's), and among
    them those declaring fewest methods found nowhere else in the file, then the least
    relevant to the query.
    """
    words = _query_words(ctx.query)
    docs = [
        term_counts(
            src[c.start : min(c.end, c.start + _RELEVANCE_CHARS)].decode("utf-8", "replace")
            + f" {c.name}" * 3
        )
        for c in containers
    ]
    scores = bm25_scores(docs, ctx.query) if ctx.query else [0.0] * len(containers)

    def named(c: Container) -> bool:
        head = _WORD.findall(c.name)[:1]
        return bool(head) and head[0].lower() in words

    # methods whose names occur once in the file are the ones only this block declares
    seen = Counter(m for c in containers for m in c.methods)
    unique = [sum(1 for m in c.methods if seen[m] == 1) for c in containers]
    order = sorted(
        (i for i, c in enumerate(containers) if not named(c)),
        key=lambda i: (not containers[i].implements, unique[i], scores[i], containers[i].start),
    )
    target = int(ctx.budget * _COLLAPSE_TARGET)
    chosen: list[Container] = []
    for i in order:
        if skeleton_tokens <= target:
            break
        c = containers[i]
        inner = [
            Edit(e.start - c.edit.start, e.end - c.edit.start, e.text, e.omitted)
            for e in edits
            if c.edit.start <= e.start and e.end <= c.edit.end
        ]
        current = apply_edits(src[c.edit.start : c.edit.end], inner).decode("utf-8", "replace")
        saving = ctx.count_tokens(current) - ctx.count_tokens(c.edit.text.decode())
        if saving > _MIN_SAVING:
            chosen.append(c)
            skeleton_tokens -= saving
    return chosen


def _outside(plan: Plan, collapsed: list[Container]) -> Plan:
    """``plan`` without the definitions inside ``collapsed`` containers."""
    spans = [(c.edit.start, c.edit.end) for c in collapsed]
    defs = [d for d in plan.definitions if not any(a <= d.start and d.end <= b for a, b in spans)]
    return Plan(defs, plan.comments, plan.bare_comments, plan.literals, plan.containers)


def _choose_elisions(
    plan: Plan, skeleton_tokens: int, src: bytes, ctx: CompressContext
) -> list[Definition]:
    """The definitions whose bodies go: all that are worth it, minus the relevant ones."""
    saving: dict[int, int] = {}
    for i, d in enumerate(plan.definitions):
        original = src[d.edit.start : d.edit.end]
        if len(original) > _EXACT_BELOW:  # surely worth it: estimate, counted exactly if kept
            saving[i] = (len(original) - len(d.edit.text)) // 4
            continue
        placeholder = d.edit.text.decode()
        saving[i] = ctx.count_tokens(original.decode("utf-8", "replace")) - ctx.count_tokens(
            placeholder
        )
    candidates = [i for i, s in saving.items() if s >= _MIN_SAVING]
    # the skeleton was counted with every body elided; the ones too small to elide stay
    skeleton_tokens += sum(s for i, s in saving.items() if s < _MIN_SAVING)
    keep = _relevant(plan.definitions, candidates, skeleton_tokens, saving, src, ctx)
    return [plan.definitions[i] for i in candidates if i not in keep]


def _relevant(
    defs: list[Definition],
    candidates: list[int],
    skeleton_tokens: int,
    saving: dict[int, int],
    src: bytes,
    ctx: CompressContext,
) -> set[int]:
    """Indices of candidates kept whole: named or best-scoring first, then their callees."""
    if not ctx.query or not candidates:
        return set()
    room = ctx.budget - skeleton_tokens - _HEADER_TOKENS
    if room <= 0:
        return set()
    words = _query_words(ctx.query)
    docs = [
        term_counts(
            src[defs[i].start : min(defs[i].end, defs[i].start + _RELEVANCE_CHARS)].decode(
                "utf-8", "replace"
            )
            + f" {defs[i].name}" * 3
        )
        for i in candidates
    ]
    scores = bm25_scores(docs, ctx.query)
    best = max(scores) if scores else 0.0
    ranked: list[tuple[int, float, int]] = []
    for i, score in zip(candidates, scores, strict=True):
        named = defs[i].name.lower() in words or any(
            p.lower() in words for p in defs[i].qualname.split(".")[-1:]
        )
        if named:
            ranked.append((0, -score, i))
        elif best > 0 and score >= best * _RELATIVE_SCORE:
            ranked.append((1, -score, i))
    ranked.sort()
    keep: set[int] = set()

    def cost(i: int) -> int:
        d = defs[i]
        body = src[d.edit.start : d.edit.end].decode("utf-8", "replace")
        return ctx.count_tokens(body) - ctx.count_tokens(d.edit.text.decode())

    for _, _, i in ranked:
        c = cost(i)
        if c <= room:
            keep.add(i)
            room -= c
    by_name: dict[str, list[int]] = {}
    for i in candidates:
        by_name.setdefault(defs[i].name, []).append(i)
    for i in sorted(keep, key=lambda i: defs[i].start):
        for callee in sorted(defs[i].calls):
            for j in by_name.get(callee, []):
                if j not in keep and saving[j] <= room * 2 and (c := cost(j)) <= room:
                    keep.add(j)
                    room -= c
    return keep


_OUTLINE_LINE = re.compile(
    r"^\s*(?:@|#\s*(?:include|define|import)|import\b|from\b|package\b|using\b|require\b|"
    r"(?:export|pub|public|private|protected|static|async|def|class|func|fn|function|struct|"
    r"enum|trait|impl|interface|type|module|const|let|var|val)\b)"
)


def _line_outline(text: str, ctx: CompressContext) -> str:
    """Without a grammar: top-level and declaration-like lines; deeper runs are counted."""
    lines = text.split("\n")
    kept: list[str] = []
    omitted = 0
    for ln in lines:
        if ln.strip() and (not ln[:1].isspace() or _OUTLINE_LINE.match(ln)):
            kept.append(ln)
        else:
            omitted += 1 if ln.strip() else 0
    if omitted == 0:
        return text
    marker = ctx.marker(omitted, "lines", "indented lines that are not declarations")
    return "\n".join([marker, *kept])
