"""The relevance query a tool call's arguments give."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._messages_formats import call_from


def query_from_arguments(arguments: Mapping[str, Any] | str | None) -> str | None:
    """The string and number values of a tool call's arguments, as one query (or None).

    ``arguments`` is a mapping or its JSON text; a text that is not JSON is one value.
    Nested values count, booleans and nulls do not. The words are the ones
    ``compress_messages`` takes from a call, so an adapter and the message walker give a
    tool result the same query (and so the same compressed bytes).
    """
    return call_from(None, arguments).arguments or None
