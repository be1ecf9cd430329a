"""Provider prompt-caching simulation for the replay benchmark (``benchmarks/replay.py``).

A request is a list of segments (tools + system prompt, then one per message, or per content
block for Anthropic), rendered to text and counted in cl100k tokens.

* OpenAI (automatic): a request reuses the longest token prefix it shares with any earlier
  request, rounded down to a multiple of 128, when that prefix is at least 1,024 tokens.
* Anthropic (explicit): breakpoints after the system prompt and on the last message; a
  request reads the longest earlier-written breakpoint prefix that it starts with (checked at
  segment boundaries within 20 blocks of a breakpoint, at least 1,024 tokens) and writes the
  rest up to its last breakpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OPENAI_MIN, OPENAI_STEP = 1024, 128
ANTHROPIC_MIN, ANTHROPIC_LOOKBACK = 1024, 20

#: USD per million input tokens (list prices: GPT-4.1; Claude Sonnet 4.5 with 5-minute cache).
OPENAI_PRICE = {"input": 2.00, "cached": 0.50}
ANTHROPIC_PRICE = {"input": 3.00, "write": 3.75, "read": 0.30}


class Tokens:
    """cl100k tokens of segments, memoised by text."""

    def __init__(self) -> None:
        from headroom_core import get_tokenizer

        self._tok = get_tokenizer(None)
        self._memo: dict[str, list[int]] = {}

    def count(self, text: str) -> int:
        return len(self.of(text))

    def of(self, text: str) -> list[int]:
        toks = self._memo.get(text)
        if toks is None:
            toks = self._memo[text] = self._tok.encode(text)
        return toks


Request = list[str]  # segments: [tools + system, message 1, message 2, ...]


def common_prefix_tokens(a: Request, b: Request, tokens: Tokens) -> int:
    total = 0
    for sa, sb in zip(a, b, strict=False):
        if sa == sb:
            total += tokens.count(sa)
            continue
        ta, tb = tokens.of(sa), tokens.of(sb)
        n = 0
        for x, y in zip(ta, tb, strict=False):
            if x != y:
                break
            n += 1
        return total + n
    return total


def resent(req: Request, earlier: Sequence[Request], tokens: Tokens) -> int:
    """Tokens of ``req``'s first segments up to the length of the previous request."""
    if not earlier:
        return 0
    return sum(tokens.count(s) for s in req[: len(earlier[-1])])


@dataclass
class Usage:
    input: int
    cached: int
    write: int = 0  # Anthropic cache writes
    #: tokens of the messages the previous request also had (by position): what a cache
    #: could serve if nothing before them changed
    reusable: int = 0

    @property
    def share(self) -> float:
        return self.cached / self.input if self.input else 0.0

    @property
    def uncached(self) -> int:
        return self.input - self.cached

    @property
    def rebilled(self) -> int:
        """Tokens the previous request already sent that were not served from cache."""
        return max(0, self.reusable - self.cached)


def simulate_openai(requests: Sequence[Request], tokens: Tokens) -> list[Usage]:
    out = []
    for k, req in enumerate(requests):
        total = sum(tokens.count(s) for s in req)
        best = max((common_prefix_tokens(req, p, tokens) for p in requests[:k]), default=0)
        cached = (best // OPENAI_STEP) * OPENAI_STEP if best >= OPENAI_MIN else 0
        out.append(Usage(total, cached, reusable=resent(req, requests[:k], tokens)))
    return out


def simulate_anthropic(
    requests: Sequence[Request], tokens: Tokens, last_breaks: Sequence[int] | None = None
) -> list[Usage]:
    """Cache reads and writes per request; ``last_breaks[k]``: segments before the last breakpoint."""
    written: set[tuple[str, ...]] = set()
    out = []
    for k, req in enumerate(requests):
        cum = [0]
        for s in req:
            cum.append(cum[-1] + tokens.count(s))
        total = cum[-1]
        last = len(req) if last_breaks is None else last_breaks[k]
        breakpoints = [1, last]  # after tools + system, and on the last message
        candidates = {1} | set(range(max(1, last - ANTHROPIC_LOOKBACK), last + 1))
        read = max(
            (cum[j] for j in candidates if cum[j] >= ANTHROPIC_MIN and tuple(req[:j]) in written),
            default=0,
        )
        for b in breakpoints:
            if cum[b] >= ANTHROPIC_MIN:
                written.add(tuple(req[:b]))
        write = max(0, cum[last] - read) if cum[last] >= ANTHROPIC_MIN else 0
        out.append(Usage(total, read, write, resent(req, requests[:k], tokens)))
    return out


def cost(provider: str, usage: Sequence[Usage]) -> float:
    if provider == "openai":
        p = OPENAI_PRICE
        return sum((u.input - u.cached) * p["input"] + u.cached * p["cached"] for u in usage) / 1e6
    a = ANTHROPIC_PRICE
    return (
        sum(
            (u.input - u.cached - u.write) * a["input"]
            + u.write * a["write"]
            + u.cached * a["read"]
            for u in usage
        )
        / 1e6
    )
