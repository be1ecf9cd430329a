"""The relevance query a tool call's arguments give."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._messages_formats import build_query, call_from, user_text_of


def query_from_arguments(arguments: Mapping[str, Any] | str | None) -> str | None:
    """The string and number values of a tool call's arguments, as one query (or None).

    ``arguments`` is a mapping or its JSON text; a text that is not JSON is one value.
    Nested values count, booleans and nulls do not. The words are the ones
    ``compress_messages`` takes from a call, so an adapter and the message walker give a
    tool result the same query (and so the same compressed bytes).
    """
    return call_from(None, arguments).arguments or None


def query_for_tool_result(
    messages: Iterable[Any], arguments: Mapping[str, Any] | str | None = None
) -> str | None:
    """The query ``compress_messages`` gives a new tool result at the end of ``messages``.

    That is the latest user text in ``messages`` plus the call's ``arguments``, so a tool
    wrapper and the message walker compress the same result to the same bytes.
    """
    user_text = ""
    for msg in messages:
        text = user_text_of(msg)
        if text is not None:
            user_text = text
    return build_query(user_text, call_from(None, arguments) if arguments is not None else None)
