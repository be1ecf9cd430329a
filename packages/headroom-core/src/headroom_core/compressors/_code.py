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
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, ClassVar

from .._relevance import STOPWORDS, bm25_scores, terms
from ._base import CompressContext, CompressorResult
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
        regions = _error_regions(tree.root_node, src)
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
        edits, clean = _without_new_errors(src, edits, parser, regions)
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
            repaired = _comment_out_errors(out, parser, spec)
        if repaired is None:
            out = _with_header(_commented_outline(body, spec), header)
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


#: Node types whose children are whole statements or declarations: an erroneous child of
#: one of these can be turned into comments without touching its neighbours.
_SEQUENCES = frozenset(
    [
        "translation_unit",
        "declaration_list",
        "field_declaration_list",
        "compound_statement",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "program",
        "statement_block",
        "class_body",
        "source_file",
        "module",
        "block",
        "interface_body",
        "enum_body",
    ]
)
_REPAIR_ROUNDS = 4
#: Past this share of commented lines, the whole output becomes a commented outline.
_REPAIR_MAX_SHARE = 0.5


def _error_nodes(root: Any) -> list[Any]:
    """The outermost ERROR and MISSING nodes under ``root``."""
    found: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(node)
        elif node.has_error:
            stack.extend(node.children)
    return found


@dataclass(frozen=True)
class _Region:
    """The whole lines holding one parse error of the original, and what the error is."""

    start: int
    end: int
    missing: str | None  # the node type of a MISSING node; None for an ERROR node


def _error_regions(root: Any, src: bytes) -> list[_Region]:
    """One region per parse error of ``root``, in order."""
    regions = []
    for node in _error_nodes(root):
        start = src.rfind(b"\n", 0, node.start_byte) + 1
        end = src.find(b"\n", node.end_byte)
        missing = node.type if node.is_missing else None
        regions.append(_Region(start, end if end >= 0 else len(src), missing))
    return sorted(regions, key=lambda r: (r.start, r.end))


def _new_errors(
    root: Any, edits: list[Edit], spans: list[tuple[int, int]], regions: list[_Region]
) -> list[Any]:
    """Errors of the edited text (``root``) that the original did not have.

    An error is the original's if it lies where one of the original's errors was: an
    ERROR node anywhere in such a region, a MISSING node in an ERROR region or in the
    region of a MISSING node of the same type (one each). ``spans`` are where ``edits``
    landed in the edited text; a position inside one maps to the range it replaced.
    """
    if not root.has_error:
        return []
    ends = [b for _, b in spans]

    def original(pos: int, *, end: bool) -> int:
        k = bisect_right(ends, pos)  # edits before k ended at or before pos
        if k < len(spans) and spans[k][0] <= pos < spans[k][1]:
            return edits[k].end if end else edits[k].start
        if k == 0:
            return pos
        return pos - spans[k - 1][1] + edits[k - 1].end

    starts = [r.start for r in regions]
    reach = list(accumulate((r.end for r in regions), max))  # furthest end so far
    used: set[int] = set()
    new = []
    for node in sorted(_error_nodes(root), key=lambda n: n.start_byte):
        lo = original(node.start_byte, end=False)
        hi = original(node.end_byte, end=True)
        j = bisect_right(starts, hi)  # regions[:j] start before the error ends
        if j == 0 or reach[j - 1] < lo:
            new.append(node)
            continue
        if not node.is_missing:
            continue
        near = [i for i in range(j) if regions[i].end >= lo]
        if any(regions[i].missing is None for i in near):
            continue
        same = next((i for i in near if regions[i].missing == node.type and i not in used), None)
        if same is None:
            new.append(node)
        else:
            used.add(same)
    return new


#: Rounds of putting back the edits next to new parse errors before commenting out.
_RESTORE_ROUNDS = 8


def _without_new_errors(
    src: bytes, edits: list[Edit], parser: Any, regions: list[_Region]
) -> tuple[list[Edit], bool]:
    """``edits`` minus those next to a parse error the original did not have; and whether
    the result is free of such errors.

    The edits overlapping a new error and the nearest ones around it are put back, more
    each round (1, 4, 16 ... before it; 1, 2, 4 ... after it): the cause of an error can
    sit well before it (an unexpanded C/C++ macro makes the grammar recover differently
    once a body is gone). Then the put-back edits are tried again in small groups.
    """
    wanted = edits
    for round_ in range(_RESTORE_ROUNDS + 1):
        new = _errors_after(src, edits, parser, regions)
        if not new:
            return _readd(src, edits, wanted, parser, regions), True
        if round_ == _RESTORE_ROUNDS:
            return edits, False
        _, spans = _apply_with_spans(src, edits)
        drop: set[int] = set()
        for lo, hi in _windows(new):
            drop.update(k for k, (a, b) in enumerate(spans) if a < hi and b > lo)
            before = [k for k, (_, b) in enumerate(spans) if b <= lo]
            after = [k for k, (a, _) in enumerate(spans) if a >= hi]
            drop.update(before[-(4**round_) :], after[: 2**round_])
        if not drop:
            break
        edits = [e for k, e in enumerate(edits) if k not in drop]
    return edits, False


def _errors_after(src: bytes, edits: list[Edit], parser: Any, regions: list[_Region]) -> list[Any]:
    out, spans = _apply_with_spans(src, edits)
    return _new_errors(parser.parse(out).root_node, edits, spans, regions)


#: Edits put back by ``_without_new_errors`` are tried again by halves down to groups of
#: this many, within ``_READD_PARSES`` parses of the whole file.
_READD_GROUP = 6
_READD_PARSES = 10


def _readd(
    src: bytes, edits: list[Edit], wanted: list[Edit], parser: Any, regions: list[_Region]
) -> list[Edit]:
    """``edits`` plus the groups of put-back ones that add no new error."""
    kept = {id(e) for e in edits}
    pending = [[e for e in wanted if id(e) not in kept]]
    parses = 0
    while pending and parses < _READD_PARSES:
        group = pending.pop(0)
        trial = sorted([*edits, *group], key=lambda e: e.start)
        parses += 1
        if not _errors_after(src, trial, parser, regions):
            edits = trial
        elif len(group) > _READD_GROUP:
            half = len(group) // 2
            pending.extend([group[:half], group[half:]])
    return edits


#: New errors this many lines apart or closer are one disturbance (a misread class body
#: shows as a missing ``;`` at its first method and a stray ``}`` at its end).
_ERROR_WINDOW_LINES = 80


def _windows(nodes: list[Any]) -> list[tuple[int, int]]:
    """Byte ranges covering ``nodes``, merged where they are close together."""
    windows: list[tuple[int, int, int]] = []  # start byte, end byte, end row
    for node in sorted(nodes, key=lambda n: n.start_byte):
        if windows and node.start_point.row - windows[-1][2] <= _ERROR_WINDOW_LINES:
            lo, hi, _ = windows[-1]
            windows[-1] = (lo, max(hi, node.end_byte), node.end_point.row)
        else:
            windows.append((node.start_byte, node.end_byte, node.end_point.row))
    return [(lo, hi) for lo, hi, _ in windows]


def _apply_with_spans(src: bytes, edits: list[Edit]) -> tuple[bytes, list[tuple[int, int]]]:
    """``src`` with non-overlapping, sorted ``edits`` applied, and where each edit landed."""
    out: list[bytes] = []
    spans: list[tuple[int, int]] = []
    pos = size = 0
    for edit in edits:
        out.append(src[pos : edit.start])
        size += edit.start - pos
        out.append(edit.text)
        spans.append((size, size + len(edit.text)))
        size += len(edit.text)
        pos = edit.end
    out.append(src[pos:])
    return b"".join(out), spans


def _statement_rows(nodes: list[Any]) -> set[int]:
    """Rows of the smallest whole statements holding ``nodes``."""
    rows: set[int] = set()
    for node in nodes:
        unit = node
        while unit.parent is not None and unit.parent.type not in _SEQUENCES:
            unit = unit.parent
        rows.update(range(unit.start_point.row, unit.end_point.row + 1))
    return rows


def _comment_out_errors(text: str, parser: Any, spec: LangSpec) -> str | None:
    """``text`` with statements that do not parse turned into comments; None if too many."""
    lines = text.split("\n")
    commented: set[int] = set()
    for _ in range(_REPAIR_ROUNDS):
        tree = parser.parse("\n".join(lines).encode("utf-8"))
        if not tree.root_node.has_error:
            return "\n".join(lines)
        rows = _statement_rows(_error_nodes(tree.root_node)) - commented
        if not rows or len(commented | rows) > len(lines) * _REPAIR_MAX_SHARE:
            return None
        for r in rows:
            if r < len(lines) and lines[r].strip():
                lines[r] = f"{spec.line_comment} {lines[r]}"
        commented |= rows
    return None


def _commented_outline(text: str, spec: LangSpec) -> str:
    """Every line as a line comment: parses in any grammar, keeps every byte readable.

    Lines that already are line comments stay as they are: with every other line
    commented, nothing can be open around them.
    """
    prefix = spec.line_comment
    lines = text.split("\n")
    start = 1 if spec.grammar == "php" and lines and lines[0].startswith("<?php") else 0
    return "\n".join(
        ln if i < start or not ln.strip() or ln.lstrip().startswith(prefix) else f"{prefix} {ln}"
        for i, ln in enumerate(lines)
    )


_TERM_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)*")


@lru_cache(maxsize=8192)
def _word_terms(word: str) -> tuple[str, ...]:
    return tuple(terms(word))


def _term_counts(text: str) -> Counter[str]:
    """``Counter(terms(text))``, computed once per distinct word (code repeats words a lot)."""
    out: Counter[str] = Counter()
    for word, n in Counter(_TERM_WORD.findall(text)).items():
        for t in _word_terms(word):
            out[t] += n
    return out


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
        _term_counts(
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
        _term_counts(
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
