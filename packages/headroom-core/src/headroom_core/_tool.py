"""The framework-neutral ``headroom_retrieve`` tool: name, description, schema, callable.

Every adapter wraps this one spec in its framework's tool type, so the model sees the same
tool everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._config import HeadroomConfig
from ._markers import REF_PATTERN
from .store import CCRStore

RETRIEVE_TOOL_NAME = "headroom_retrieve"

RETRIEVE_TOOL_DESCRIPTION = (
    "Get back content that headroom left out of a tool result. Compressed tool results "
    "contain markers like [headroom: 412 lines omitted (...); ref=hr_...]. Call this tool "
    "with that ref when a fact you need (an id, a value, a log line, a path:line location) "
    "is not in what you can see but may be in the omitted part; do not guess it. Pass "
    "`query` (the question, or a few distinctive words; put exact names in backticks) to "
    "get only the best-matching chunks of the original, in original order, each headed by "
    "its position (line range, JSON path or item) and what encloses it (file, item title, "
    "function). This is cheap, so prefer it, and ask again with other words if the answer "
    "lacks the fact. Omit `query` only when you need the whole original. The first line of "
    "the result says how many chunks were returned and how many were left out."
)

RETRIEVE_TOOL_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ref": {
            "type": "string",
            "description": "The ref from a headroom marker, e.g. hr_4kq2m7x9c3v5b8n6z1aa.",
            "pattern": f"^{REF_PATTERN}$",
        },
        "query": {
            "type": "string",
            "description": (
                "What you are looking for: the question or distinctive words (names in "
                "backticks match exactly). Returns only the matching chunks."
            ),
        },
        "max_tokens": {
            "type": "integer",
            "description": "Upper bound on the size of the answer (default 1000 with a query).",
            "minimum": 50,
        },
    },
    "required": ["ref"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ToolSpec:
    """A tool as data plus a plain Python callable that returns a string."""

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., str]

    def __call__(self, **kwargs: Any) -> str:
        return self.func(**kwargs)

    def openai_tool(self) -> dict[str, Any]:
        """Chat Completions ``tools`` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def anthropic_tool(self) -> dict[str, Any]:
        """Anthropic Messages ``tools`` entry."""
        return {"name": self.name, "description": self.description, "input_schema": self.parameters}


def retrieve_tool(
    *, config: HeadroomConfig | None = None, store: CCRStore | None = None
) -> ToolSpec:
    """The ``headroom_retrieve`` tool bound to a config and store (defaults: the process's)."""
    from ._api import retrieve

    def headroom_retrieve(ref: str, query: str | None = None, max_tokens: int | None = None) -> str:
        return retrieve(ref, query=query, max_tokens=max_tokens, config=config, store=store)

    return ToolSpec(
        RETRIEVE_TOOL_NAME, RETRIEVE_TOOL_DESCRIPTION, RETRIEVE_TOOL_PARAMETERS, headroom_retrieve
    )


def retrieve_from_arguments(
    arguments: Mapping[str, Any] | str | None,
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> str:
    """Answer a ``headroom_retrieve`` call from the model's arguments (a mapping or JSON text).

    Never raises: arguments that are not an object with a ``ref`` string give a message the
    model can act on; a ``query`` or ``max_tokens`` of the wrong type is ignored.
    """
    from ._api import retrieve

    if isinstance(arguments, str) or arguments is None:
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            return f"{RETRIEVE_TOOL_NAME}: arguments must be a JSON object with a `ref`"
    if not isinstance(arguments, Mapping) or not isinstance(arguments.get("ref"), str):
        return f"{RETRIEVE_TOOL_NAME}: a `ref` string (hr_...) is required"
    query, max_tokens = arguments.get("query"), arguments.get("max_tokens")
    return retrieve(
        arguments["ref"],
        query=query if isinstance(query, str) else None,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        config=config,
        store=store,
    )


#: The tool with default config and store.
RETRIEVE_TOOL: ToolSpec = retrieve_tool()
