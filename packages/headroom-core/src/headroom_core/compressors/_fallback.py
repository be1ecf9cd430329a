"""Kind-independent bounded fallbacks: head and tail of oversized input, binary stand-ins."""

from __future__ import annotations

import hashlib

from ._base import CompressContext

#: A text with a line longer than this (minified JSON, other one-line outputs) keeps a head
#: and a tail of characters, taken in pieces of at most ``PIECE_CHARS``.
LONG_LINE_CHARS = 4000
PIECE_CHARS = 256


def head_tail(text: str, ctx: CompressContext, *, reason: str) -> str:
    """Whole lines from the start and the end within ``ctx.budget``, a marker between.

    A text with a line longer than ``LONG_LINE_CHARS`` (a minified JSON document, say) keeps
    a head and a tail of characters instead, the marker counting the characters omitted.
    """
    lines = text.splitlines()
    if lines and max(map(len, lines)) > LONG_LINE_CHARS:
        return _head_tail_chars(text, ctx, reason)
    head_budget = max(1, ctx.budget * 2 // 3)
    tail_budget = max(1, ctx.budget - head_budget)
    head: list[str] = []
    used = 0
    for ln in lines:
        cost = ctx.count_tokens(ln[:4000]) + 1
        if used + cost > head_budget:
            break
        head.append(ln)
        used += cost
    tail: list[str] = []
    used = 0
    for ln in reversed(lines[len(head) :]):
        cost = ctx.count_tokens(ln[:4000]) + 1
        if used + cost > tail_budget:
            break
        tail.append(ln)
        used += cost
    tail.reverse()
    omitted = len(lines) - len(head) - len(tail)
    if omitted <= 0:
        return text
    return "\n".join([*head, ctx.marker(omitted, "lines", reason), *tail])


def _head_tail_chars(text: str, ctx: CompressContext, reason: str) -> str:
    """``head_tail`` by pieces of at most ``PIECE_CHARS`` characters, each ending at a line
    end where one comes within it. A piece may split a token, so its count errs on the high
    side; the marker's own tokens are set aside first."""
    mark_tokens = ctx.count_tokens(ctx.marker(len(text), "chars", reason)) + 2
    budget = max(2, ctx.budget - mark_tokens)
    head_budget = budget * 2 // 3
    head_end = _head_end(text, head_budget, ctx)
    tail_start = _tail_start(text, head_end, budget - head_budget, ctx)
    omitted = tail_start - head_end
    if omitted <= 0:
        return text
    head, tail = text[:head_end], text[tail_start:]
    mark = ctx.marker(omitted, "chars", reason)
    return (head if not head or head.endswith("\n") else head + "\n") + mark + "\n" + tail


def _head_end(text: str, budget: int, ctx: CompressContext) -> int:
    """Where the head of ``text`` that fits in ``budget`` tokens ends."""
    pos = used = 0
    while pos < len(text):
        nl = text.find("\n", pos, pos + PIECE_CHARS)
        end = nl + 1 if nl >= 0 else min(len(text), pos + PIECE_CHARS)
        used += ctx.count_tokens(text[pos:end])
        if used > budget:
            break
        pos = end
    return pos


def _tail_start(text: str, floor: int, budget: int, ctx: CompressContext) -> int:
    """Where the tail of ``text`` (after ``floor``) that fits in ``budget`` tokens starts."""
    pos, used = len(text), 0
    while pos > floor:
        # the piece ends at ``pos``; it starts after the last line end before that, if near
        nl = text.rfind("\n", max(floor, pos - PIECE_CHARS), pos - 1)
        start = nl + 1 if nl >= 0 else max(floor, pos - PIECE_CHARS)
        used += ctx.count_tokens(text[start:pos])
        if used > budget:
            break
        pos = start
    return pos


def binary_stand_in(data: bytes, ref: str) -> str:
    """What the model sees instead of binary content."""
    from .._markers import format_marker

    digest = hashlib.sha256(data).hexdigest()[:16]
    return format_marker(len(data), "bytes", ref, f"binary content, sha256 {digest}")
