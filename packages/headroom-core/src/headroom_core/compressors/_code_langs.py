"""Per-language tables for the code compressor: which nodes have bodies, how to elide them.

Adding a language is adding a ``LangSpec`` here (and a table test); the walk in
``_code_skeleton`` is shared by all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BodyStyle = Literal["brace", "indent", "end"]


@dataclass(frozen=True)
class LangSpec:
    """How one tree-sitter grammar shows definitions, bodies and comments.

    ``functions``: node types whose body may be elided. ``bodies``: node types accepted as
    that body (found by the ``body`` field, else as a direct child). ``style`` decides the
    placeholder: ``brace`` bodies become ``{ /* N lines omitted */ }``, ``indent`` bodies
    (Python) ``...  # N lines omitted``, ``end`` bodies (Ruby, Lua) a comment line.
    ``definitions``: node types counted as nested definitions (classes, functions), used to
    tell a wrapper function (a UMD/IIFE module) from an ordinary one. ``containers``: blocks
    of methods (Rust ``impl``) collapsed whole, least relevant first, when the skeleton
    alone is over budget.
    """

    grammar: str
    functions: frozenset[str]
    bodies: frozenset[str]
    style: BodyStyle
    comments: frozenset[str]
    line_comment: str
    definitions: frozenset[str] = frozenset()
    block_comment: tuple[str, str] | None = ("/*", "*/")
    containers: frozenset[str] = frozenset()


def _spec(
    grammar: str,
    functions: str,
    bodies: str,
    style: BodyStyle = "brace",
    comments: str = "comment",
    line_comment: str = "//",
    definitions: str = "",
    block_comment: tuple[str, str] | None = ("/*", "*/"),
    containers: str = "",
) -> LangSpec:
    return LangSpec(
        grammar,
        frozenset(functions.split()),
        frozenset(bodies.split()),
        style,
        frozenset(comments.split()),
        line_comment,
        frozenset(definitions.split()) | frozenset(functions.split()),
        block_comment,
        frozenset(containers.split()),
    )


_JS_FUNCTIONS = (
    "function_declaration function_expression function generator_function_declaration "
    "generator_function arrow_function method_definition"
)
_JS_DEFS = "class_declaration class lexical_declaration variable_declaration"

LANGUAGES: dict[str, LangSpec] = {
    "python": _spec(
        "python",
        "function_definition",
        "block",
        style="indent",
        line_comment="#",
        definitions="class_definition decorated_definition",
        block_comment=None,
    ),
    "javascript": _spec("javascript", _JS_FUNCTIONS, "statement_block", definitions=_JS_DEFS),
    "typescript": _spec(
        "typescript",
        _JS_FUNCTIONS,
        "statement_block",
        definitions=_JS_DEFS + " interface_declaration",
    ),
    "tsx": _spec(
        "tsx", _JS_FUNCTIONS, "statement_block", definitions=_JS_DEFS + " interface_declaration"
    ),
    "go": _spec(
        "go",
        "function_declaration method_declaration func_literal",
        "block",
        definitions="type_declaration",
    ),
    "rust": _spec(
        "rust",
        "function_item closure_expression",
        "block",
        comments="line_comment block_comment",
        definitions="struct_item enum_item trait_item impl_item mod_item",
        containers="impl_item",
    ),
    "java": _spec(
        "java",
        "method_declaration constructor_declaration lambda_expression "
        "compact_constructor_declaration",
        "block constructor_body",
        comments="line_comment block_comment",
        definitions="class_declaration interface_declaration enum_declaration",
    ),
    "c": _spec(
        "c",
        "function_definition",
        "compound_statement",
        definitions="struct_specifier union_specifier enum_specifier",
    ),
    "cpp": _spec(
        "cpp",
        "function_definition lambda_expression",
        "compound_statement",
        definitions="class_specifier struct_specifier union_specifier enum_specifier",
    ),
    "csharp": _spec(
        "csharp",
        "method_declaration constructor_declaration local_function_statement "
        "destructor_declaration operator_declaration",
        "block",
        definitions="class_declaration interface_declaration struct_declaration",
    ),
    "php": _spec(
        "php",
        "function_definition method_declaration",
        "compound_statement",
        definitions="class_declaration interface_declaration trait_declaration",
    ),
    "kotlin": _spec(
        "kotlin",
        "function_declaration",
        "function_body",
        comments="comment line_comment multiline_comment",
        definitions="class_declaration object_declaration",
    ),
    "swift": _spec(
        "swift",
        "function_declaration init_declaration",
        "function_body",
        comments="comment multiline_comment",
        definitions="class_declaration protocol_declaration",
    ),
    "scala": _spec(
        "scala",
        "function_definition",
        "block",
        comments="comment block_comment",
        definitions="class_definition object_definition trait_definition",
    ),
    "ruby": _spec(
        "ruby",
        "method singleton_method",
        "body_statement",
        style="end",
        line_comment="#",
        definitions="class module",
        block_comment=None,
    ),
    "lua": _spec(
        "lua",
        "function_declaration function_definition",
        "block",
        style="end",
        line_comment="--",
        block_comment=None,
    ),
}


def spec_for(language: str | None) -> LangSpec | None:
    """The table for ``language`` (as ``_detect`` names it), or None when unsupported."""
    if language is None:
        return None
    return LANGUAGES.get(language)
