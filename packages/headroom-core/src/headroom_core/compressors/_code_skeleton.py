"""The skeleton of a source file: byte edits that elide bodies and cut comments.

``plan_skeleton`` walks a tree-sitter tree once and returns the candidate edits; nothing in
the original is rewritten except inside an edit, so signatures, decorators, declarations,
fields, imports and constants stay byte-identical. A function body becomes a placeholder
that says how many lines it had; a comment block (or docstring) keeps its first line, lines
with ``@default`` / ``@deprecated`` tags, and whatever closes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from ._code_langs import LangSpec

#: A function whose body is at least this many lines, and mostly made of nested
#: definitions, is a wrapper (UMD/IIFE module, namespace-like closure): it is walked into
#: rather than elided.
_WRAPPER_MIN_LINES = 60
#: A body on one line this long (bytes) may be elided too (minified code); whether it
#: is worth it is decided by its token count, as for any body.
_ONE_LINE_BODY = 60
#: A line this long (bytes) is minified code, where one-line bodies may go; elsewhere a
#: one-line body stays (it costs about what its placeholder would).
_MINIFIED_LINE = 400
#: Bytes counted as one line when sizing minified code.
_LINE_BYTES = 80
_TAG_LINE = re.compile(rb"@default|@defaultValue|@deprecated|\bDeprecated\b")
_COMMENT_NOISE = re.compile(rb"^[\s/*#!\-=\"'`rRuUbBf]*$")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:<[^<>()]*>)?\s*\(")


@dataclass
class Edit:
    """Replace ``src[start:end]`` with ``text``; ``omitted`` lines of the original go.

    ``chars``: characters omitted from within one line (minified code), not counted in
    ``omitted``.
    """

    start: int
    end: int
    text: bytes
    omitted: int
    chars: int = 0


@dataclass
class Definition:
    """A function or method whose body the skeleton elides (``edit``) unless it is kept."""

    name: str
    qualname: str
    start: int
    end: int
    edit: Edit
    calls: set[str] = field(default_factory=set)


@dataclass
class Container:
    """A block of methods (a Rust ``impl``) that ``edit`` collapses whole, names listed.

    ``implements``: the block implements a trait declared elsewhere, so its signatures
    restate that trait's.
    """

    name: str
    start: int
    end: int
    edit: Edit
    implements: bool
    methods: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything the skeleton could elide, in source order."""

    definitions: list[Definition]
    comments: list[Edit]
    bare_comments: list[Edit]
    literals: list[Edit] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)


class _Source:
    """The original bytes with row offsets."""

    def __init__(self, src: bytes) -> None:
        self.src = src
        self.starts = [0]
        for m in re.finditer(rb"\n", src):
            self.starts.append(m.end())

    def row(self, r: int) -> bytes:
        end = self.starts[r + 1] - 1 if r + 1 < len(self.starts) else len(self.src)
        return self.src[self.starts[r] : end]

    def indent_before(self, node: Node) -> bytes:
        return self.src[self.starts[node.start_point.row] : node.start_byte]

    def starts_line(self, node: Node) -> bool:
        return not self.indent_before(node).strip()

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")


@dataclass(frozen=True)
class _Span:
    """A comment's bytes and rows, without the newline some grammars include in it."""

    start: int
    end: int
    first: int
    last: int


def _span(node: Node, src: bytes) -> _Span:
    end, last = node.end_byte, node.end_point.row
    if end > node.start_byte and src[end - 1 : end] == b"\n":
        end -= 1
        last = max(node.start_point.row, last - 1)
    return _Span(node.start_byte, end, node.start_point.row, last)


def plan_skeleton(root: Node, src: bytes, spec: LangSpec) -> Plan:
    """Candidate edits for ``root``: every elidable body and every cuttable comment block."""
    source = _Source(src)
    plan = Plan([], [], [])
    _walk([(root, "")], source, spec, plan)
    plan.definitions.sort(key=lambda d: d.start)
    plan.comments.sort(key=lambda e: e.start)
    plan.bare_comments.sort(key=lambda e: e.start)
    return plan


def _walk(stack: list[tuple[Node, str]], source: _Source, spec: LangSpec, plan: Plan) -> None:
    src = source.src
    while stack:
        node, prefix = stack.pop()
        run: list[_Span] = []
        children = node.children
        for i, child in enumerate(children):
            if _is_comment(child, node, i, spec) and source.starts_line(child):
                span = _span(child, src)
                docstring = child.type not in spec.comments
                if run and (span.first > run[-1].last + 1 or docstring):
                    _flush_comments(run, source, plan)
                    run = []
                if docstring:
                    _flush_comments([span], source, plan, docstring=True)
                    continue
                run.append(span)
                continue
            if run:
                _flush_comments(run, source, plan)
                run = []
            _visit(child, prefix, source, spec, plan, stack)
        if run:
            _flush_comments(run, source, plan)


def _visit(
    child: Node,
    prefix: str,
    source: _Source,
    spec: LangSpec,
    plan: Plan,
    stack: list[tuple[Node, str]],
) -> None:
    if child.type in spec.comments or child.child_count == 0:
        return
    if child.type in spec.functions:
        body = _body_of(child, spec)
        if body is not None and not _is_wrapper(body, spec):
            edit = _body_edit(child, body, source, spec)
            if edit is not None:
                name = definition_name(child, source)
                plan.definitions.append(
                    Definition(
                        name,
                        prefix + name,
                        child.start_byte,
                        child.end_byte,
                        edit,
                        set(_CALL.findall(source.text(body))),
                    )
                )
                return
    if child.type in spec.containers:
        container = _container(child, source, spec)
        if container is not None:
            plan.containers.append(container)
    if child.type in _LITERALS:
        edit = _literal_edit(child, source, spec)
        if edit is not None:
            plan.literals.append(edit)
    if child.type in spec.definitions and child.type not in spec.functions:
        name_node = child.child_by_field_name("name")
        if name_node is not None:
            prefix = f"{prefix}{source.text(name_node)}."
    stack.append((child, prefix))


#: Data literals (tables, maps, arrays) that may be elided when the skeleton is over budget.
_LITERALS = frozenset(
    [
        "dictionary",
        "list",
        "set",
        "tuple",
        "object",
        "array",
        "initializer_list",
        "literal_value",
        "array_expression",
        "array_initializer",
    ]
)
_LITERAL_MIN_LINES = 8


def _literal_edit(node: Node, source: _Source, spec: LangSpec) -> Edit | None:
    """A long data literal reduced to its delimiters and a count; None if it holds code."""
    first, last = node.start_point.row, node.end_point.row
    if last - first + 1 < _LITERAL_MIN_LINES or node.child_count < 2:
        return None
    stack = list(node.named_children)
    while stack:  # object literals full of methods are modules, not data
        n = stack.pop()
        if n.type in spec.functions:
            return None
        stack.extend(n.named_children)
    opening, closing = node.children[0], node.children[-1]
    if opening.is_named or closing.is_named or opening.end_point.row != first:
        return None
    src = source.src
    omitted = last - first - 1
    open_text = src[node.start_byte : opening.end_byte]
    close_text = src[closing.start_byte : closing.end_byte]
    if spec.block_comment is None:  # Python: a comment needs its own line
        close_row = source.row(last)
        indent = close_row[: len(close_row) - len(close_row.lstrip())]
        text = b"%s  %s %d lines omitted\n%s%s" % (
            open_text,
            spec.line_comment.encode(),
            omitted,
            indent,
            close_text,
        )
    else:
        text = b"%s /* %d lines omitted */ %s" % (open_text, omitted, close_text)
    return Edit(node.start_byte, closing.end_byte, text, omitted)


#: A collapsed container names at most this many of its methods.
_CONTAINER_NAMES = 12


def _container(node: Node, source: _Source, spec: LangSpec) -> Container | None:
    """``node``'s body as one placeholder naming its methods; None if it is short."""
    body = node.child_by_field_name("body")
    if body is None or body.end_point.row - body.start_point.row < 3:
        return None
    raw = source.src[body.start_byte : body.end_byte]
    if not (raw.startswith(b"{") and raw.endswith(b"}")):
        return None
    names = [definition_name(c, source) for c in body.named_children if c.type in spec.functions]
    names = [n for n in names if n and "*/" not in n]
    listed = ", ".join(names[:_CONTAINER_NAMES])
    if len(names) > _CONTAINER_NAMES:
        listed += f" and {len(names) - _CONTAINER_NAMES} more"
    omitted = body.end_point.row - body.start_point.row - 1
    text = f"{{ /* {omitted} lines omitted" + (f"; fn {listed}" if listed else "") + " */ }"
    edit = Edit(body.start_byte, body.end_byte, text.encode(), omitted)
    type_node = node.child_by_field_name("type")
    name = source.text(type_node) if type_node is not None else ""
    implements = node.child_by_field_name("trait") is not None
    return Container(name, node.start_byte, node.end_byte, edit, implements, names)


def _is_comment(child: Node, parent: Node, index: int, spec: LangSpec) -> bool:
    if child.type in spec.comments:
        return True
    # a Python docstring of a module or class: the first statement, a lone string
    if spec.style != "indent" or not _is_docstring(child):
        return False
    first = next((c for c in parent.children[:index] if c.type not in spec.comments), None)
    if first is not None:
        return False
    return parent.type == "module" or (
        parent.type == "block"
        and parent.parent is not None
        and parent.parent.type == "class_definition"
    )


def _body_of(node: Node, spec: LangSpec) -> Node | None:
    body = node.child_by_field_name("body")
    if body is None:
        body = next((c for c in node.children if c.type in spec.bodies), None)
    if body is None or body.type not in spec.bodies:
        return None
    return body


def _extent(node: Node) -> int:
    """``node``'s size in lines, counting a long line as several (minified code)."""
    rows = node.end_point.row - node.start_point.row + 1
    return max(rows, (node.end_byte - node.start_byte) // _LINE_BYTES)


def _is_wrapper(body: Node, spec: LangSpec) -> bool:
    size = _extent(body)
    if size < _WRAPPER_MIN_LINES:
        return False
    nested = sum(
        _extent(stmt) for stmt in body.named_children if _holds_definition(stmt, spec, depth=3)
    )
    return nested * 2 >= size


def _holds_definition(node: Node, spec: LangSpec, depth: int) -> bool:
    if node.type in spec.definitions:
        return True
    if depth == 0:
        return False
    return any(_holds_definition(c, spec, depth - 1) for c in node.named_children)


def _body_edit(fn: Node, body: Node, source: _Source, spec: LangSpec) -> Edit | None:
    src = source.src
    first, last = body.start_point.row, body.end_point.row
    if spec.style != "end" and any(_is_nested(c, spec) for c in body.named_children):
        return _composite_edit(fn, body, source, spec)
    if spec.style == "brace":
        raw = src[body.start_byte : body.end_byte]
        if not (raw.startswith(b"{") and raw.endswith(b"}")):
            return None
        if (
            last == first
            and len(raw) >= _ONE_LINE_BODY
            and len(source.row(first)) >= _MINIFIED_LINE
        ):  # minified: one long line holds many bodies
            text = b"{ /* %d chars omitted */ }" % len(raw)
            return Edit(body.start_byte, body.end_byte, text, 0, len(raw))
        if last - first < 2:
            return None
        omitted = last - first - 1
        text = b"{ /* %d lines omitted */ }" % omitted
        return Edit(body.start_byte, body.end_byte, text, omitted)
    if first == fn.start_point.row:
        return None  # a one-line definition: nothing worth eliding
    indent = source.indent_before(body)
    if spec.style == "end":
        omitted = last - first + 1
        text = b"%s %d lines omitted" % (spec.line_comment.encode(), omitted)
        return Edit(body.start_byte, body.end_byte, text, omitted)
    # indent style (Python): keep the docstring's first line, then `...`
    head = b""
    kept_rows = 0
    stmt = body.named_children[0] if body.named_child_count else None
    if stmt is not None and _is_docstring(stmt):
        rows = _kept_comment_rows([_span(stmt, src)], source)
        head = _join_rows(rows, stmt.start_byte, stmt.end_byte, source) + b"\n" + indent
        kept_rows = len(rows)
    omitted = last - first + 1 - kept_rows
    if omitted < 2:
        return None
    text = head + b"...  # %d lines omitted" % omitted
    return Edit(body.start_byte, body.end_byte, text, omitted)


#: Python statements whose blocks often hold alternative definitions
#: (``if sys.platform == ...: def f``, ``try: import x / except ImportError: def f``).
_GUARDS = frozenset(["if_statement", "try_statement", "with_statement"])


def _is_nested(node: Node, spec: LangSpec) -> bool:
    """A definition written in a body (a closure, a local class), kept as a signature.

    In Python, also a guard statement holding one: it is kept with the definitions'
    bodies elided.
    """
    if node.type in _GUARDS and spec.style == "indent":
        return _holds_definition(node, spec, depth=3)
    return node.type in spec.definitions and node.type not in (
        "lexical_declaration",
        "variable_declaration",
    )


def _skeleton_of(node: Node, source: _Source, spec: LangSpec) -> bytes:
    """``node``'s own text with its bodies elided and its comments cut (first-line level)."""
    sub = Plan([], [], [])
    stack: list[tuple[Node, str]] = []
    _visit(node, "", source, spec, sub, stack)
    _walk(stack, source, spec, sub)
    edits = [
        Edit(e.start - node.start_byte, e.end - node.start_byte, e.text, e.omitted)
        for e in [*sub.comments, *(d.edit for d in sub.definitions)]
    ]
    return apply_edits(source.src[node.start_byte : node.end_byte], edits)


def _composite_edit(fn: Node, body: Node, source: _Source, spec: LangSpec) -> Edit | None:
    """A body elided around the definitions written directly in it (their signatures stay)."""
    if body.start_point.row == fn.start_point.row and spec.style == "indent":
        return None
    segments: list[bytes] = []
    omitted = 0
    pending = 0
    pending_indent = b""

    def flush() -> None:
        nonlocal pending, omitted
        if pending:
            if spec.style == "indent":
                segments.append(pending_indent + b"...  # %d lines omitted" % pending)
            else:
                segments.append(pending_indent + b"/* %d lines omitted */" % pending)
            omitted += pending
            pending = 0

    stmts = body.named_children
    for i, stmt in enumerate(stmts):
        rows = stmt.end_point.row - stmt.start_point.row + 1
        if _is_nested(stmt, spec):
            flush()
            segments.append(source.indent_before(stmt) + _skeleton_of(stmt, source, spec))
        elif i == 0 and spec.style == "indent" and _is_docstring(stmt):
            kept = _kept_comment_rows([_span(stmt, source.src)], source)
            text = _join_rows(kept, stmt.start_byte, stmt.end_byte, source)
            segments.append(source.indent_before(stmt) + text)
            omitted += rows - len(kept)
        else:
            if not pending:
                pending_indent = source.indent_before(stmt)
            pending += rows
    flush()
    if spec.style == "indent":
        text = b"\n".join(segments)[len(source.indent_before(body)) :]
        return Edit(body.start_byte, body.end_byte, text, omitted)
    closing = source.row(body.end_point.row)
    close_indent = closing[: len(closing) - len(closing.lstrip())]
    text = b"{\n" + b"\n".join(segments) + b"\n" + close_indent + b"}"
    return Edit(body.start_byte, body.end_byte, text, omitted)


def _is_docstring(stmt: Node) -> bool:
    """A lone string statement (some grammar versions wrap it in ``expression_statement``)."""
    if stmt.type == "string":
        return True
    return (
        stmt.type == "expression_statement"
        and stmt.named_child_count == 1
        and stmt.named_children[0].type == "string"
    )


def _kept_comment_rows(run: list[_Span], source: _Source) -> list[int]:
    """Rows of a comment block to keep: its first line (with content), tag lines, closers."""
    rows: list[int] = []
    first = run[0].first
    rows.append(first)
    if _COMMENT_NOISE.match(source.row(first)):
        last_row = run[-1].last
        nxt = next(
            (r for r in range(first + 1, last_row + 1) if not _COMMENT_NOISE.match(source.row(r))),
            None,
        )
        if nxt is not None:
            rows.append(nxt)
    for span in run:
        for r in range(span.first, span.last + 1):
            if _TAG_LINE.search(source.row(r)):
                rows.append(r)
    wanted = set(rows)
    for span in run:  # a multi-line node (block comment, docstring) must keep its closing row
        if span.last > span.first and any(span.first <= r <= span.last for r in wanted):
            wanted.add(span.last)
    return sorted(wanted)


def _join_rows(rows: list[int], start: int, end: int, source: _Source) -> bytes:
    parts: list[bytes] = []
    for r in rows:
        lo = max(source.starts[r], start)
        row = source.row(r)
        hi = min(source.starts[r] + len(row), end)
        parts.append(source.src[lo:hi])
    return b"\n".join(parts)


def _flush_comments(
    run: list[_Span], source: _Source, plan: Plan, *, docstring: bool = False
) -> None:
    """Add the edits for one comment block: to its first line, and (bare) to its tags only.

    A docstring is a statement, so its bare form is its first line too.
    """
    total = run[-1].last - run[0].first + 1
    start, end = run[0].start, run[-1].end
    rows = _kept_comment_rows(run, source)
    first_line = None
    if len(rows) < total:
        first_line = Edit(start, end, _join_rows(rows, start, end, source), total - len(rows))
        plan.comments.append(first_line)
    if docstring:
        if first_line is not None:
            plan.bare_comments.append(first_line)
        return
    tags = [r for r in rows if _TAG_LINE.search(source.row(r))]
    if tags:
        wanted = set(tags)
        for span in run:  # a block comment holding a tag keeps its opening and closing rows
            if any(span.first <= r <= span.last for r in tags):
                wanted.update((span.first, span.last))
        kept = sorted(wanted)
        if len(kept) < total:
            text = _join_rows(kept, start, end, source)
            if kept[0] != run[0].first:  # the block no longer starts at ``start``'s column
                start = source.starts[run[0].first]
                text = _join_rows(kept, start, end, source)
            plan.bare_comments.append(Edit(start, end, text, total - len(kept)))
        return
    # no tags: the whole block goes, with its indentation and line break
    line_start = source.starts[run[0].first]
    stop = end + 1 if source.src[end : end + 1] == b"\n" else end
    plan.bare_comments.append(Edit(line_start, stop, b"", total))


def definition_name(node: Node, source: _Source) -> str:
    """The defined name: the ``name`` field, a C declarator, or what a function is bound to."""
    name = node.child_by_field_name("name")
    if name is not None:
        return source.text(name)
    declarator = node.child_by_field_name("declarator")
    while declarator is not None:
        if declarator.type in (
            "identifier",
            "field_identifier",
            "qualified_identifier",
            "destructor_name",
            "operator_name",
        ):
            return source.text(declarator)
        declarator = declarator.child_by_field_name("declarator")
    parent = node.parent
    if parent is not None:
        for field_name in ("name", "left", "key"):
            bound = parent.child_by_field_name(field_name)
            if bound is not None and bound is not node:
                return source.text(bound).rsplit(".", 1)[-1]
    return ""


def non_overlapping(edits: list[Edit]) -> list[Edit]:
    """``edits`` by start; an edit inside an earlier one is dropped (the outer one wins)."""
    out: list[Edit] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, -e.end)):
        if edit.start >= pos:
            out.append(edit)
            pos = edit.end
    return out


def apply_edits(src: bytes, edits: list[Edit]) -> bytes:
    """``src`` with ``edits`` applied; overlapping ones are resolved by ``non_overlapping``."""
    out: list[bytes] = []
    pos = 0
    for edit in non_overlapping(edits):
        out.append(src[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(src[pos:])
    return b"".join(out)
