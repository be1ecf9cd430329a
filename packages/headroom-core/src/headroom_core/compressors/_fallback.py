"""Kind-independent bounded fallbacks: head and tail of oversized input, binary stand-ins."""

from __future__ import annotations

import hashlib

from ._base import CompressContext


def head_tail(text: str, ctx: CompressContext, *, reason: str) -> str:
    """Whole lines from the start and the end within ``ctx.budget``, a marker between."""
    lines = text.splitlines()
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


def binary_stand_in(data: bytes, ref: str) -> str:
    """What the model sees instead of binary content."""
    from .._markers import format_marker

    digest = hashlib.sha256(data).hexdigest()[:16]
    return format_marker(len(data), "bytes", ref, f"binary content, sha256 {digest}")
