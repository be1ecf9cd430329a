"""CacheAligner: find what keeps a prompt prefix from being cached, and (opt-in) fix it.

Providers cache a request's prefix (Anthropic: up to explicit ``cache_control`` breakpoints;
OpenAI: automatically, in 128-token steps above 1,024 tokens) and only reuse it when every
byte before the cut is the same. One timestamp near the top of a system prompt makes the
whole prompt a cache miss on every request.

The prefix analysed is what providers put first: tool definitions, then the system prompt
(a ``system`` argument, or the leading system/developer messages of an OpenAI list). Volatile
parts are found by pattern (timestamps, dates, times, UUIDs, request/trace/session ids, long
hex nonces, epoch seconds) and, given the ``previous`` report, by comparison (the same tools
in another order; any other byte that changed). The stability score is the share of prefix
tokens before the first volatile part: what a cache can still reuse if it changes. Any score
below 1.0 also means the whole conversation after the prefix is billed again on every request
where the part changes, however small it is.

Fixes are opt-in: ``sort_tools`` orders tools by name; ``move_volatile`` replaces each
volatile value in the system prompt with a stable placeholder (``[date#1]``) and appends the
current values in a note at the end of the messages, after everything a cache can reuse
(put your last ``cache_control`` breakpoint before the note).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._messages_formats import TEXT_PART_TYPES, TOOL_OUTPUT_TYPES
from ._tokens import get_tokenizer

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?"

#: (kind, pattern) in priority order: an earlier kind wins where matches overlap.
VOLATILE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("uuid", re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")),
    (
        "timestamp",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?(?![\w:])"
            rf"|\b(?:{_DAY} )?\d{{1,2}} {_MONTH} \d{{4}} \d{{2}}:\d{{2}}(?::\d{{2}})?(?: [A-Z]{{2,5}}|[+-]\d{{4}})?"
            rf"|\b{_MONTH} +\d{{1,2}} \d{{2}}:\d{{2}}:\d{{2}}\b"
        ),
    ),
    (
        "request_id",
        re.compile(r"\b(?:req|run|sess|trace|msg|chatcmpl|resp|call)_[A-Za-z0-9]{8,}\b"),
    ),
    ("hex_id", re.compile(r"\b[0-9a-f]{24,}\b")),
    (
        "date",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
            rf"|\b(?:{_DAY} )?{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
            rf"|\b(?:{_DAY} )?\d{{1,2}} {_MONTH},? \d{{4}}\b"
        ),
    ),
    (
        "time",
        re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?(?:\s?(?:UTC|GMT|Z))?(?!\d)"),
    ),
    ("epoch", re.compile(r"\b1[5-9]\d{8}(?:\d{3})?\b")),
)

#: ``key: value`` ids: the value after a request/trace/session id label.
_LABELLED_ID = re.compile(
    r"(?i:\b(?:request|req|trace|span|correlation|session|run|conversation)[ _-]?id\b)"
    r"\s*[:=]?\s*[\"']?(?P<value>[A-Za-z0-9][A-Za-z0-9_.:-]{4,}[A-Za-z0-9])"
)


@dataclass(frozen=True)
class VolatilePart:
    """A part of the prefix that may differ on the next request.

    ``kind``: ``uuid``, ``timestamp``, ``request_id``, ``hex_id``, ``date``, ``time``,
    ``epoch`` (pattern matches), ``tool_order`` or ``changed`` (seen to differ from the
    previous report). ``location`` is ``tools[i]``, ``system`` / ``system[i]`` or
    ``messages[i]``; ``start`` is the character offset in that location's text and
    ``token_offset`` the prefix tokens before it (what stays cacheable when it changes).
    """

    kind: str
    location: str
    value: str
    start: int
    token_offset: int


@dataclass(frozen=True)
class PrefixReport:
    """Volatile parts of a prefix and how much of it a provider cache can reuse."""

    prefix_tokens: int
    parts: tuple[VolatilePart, ...]
    tools_sorted: bool
    segments: tuple[tuple[str, str], ...] = field(repr=False, default=())
    tool_names: tuple[str, ...] = ()

    @property
    def stable_tokens(self) -> int:
        """Prefix tokens before the first volatile part."""
        return min((p.token_offset for p in self.parts), default=self.prefix_tokens)

    @property
    def score(self) -> float:
        """Prefix stability, 0..1: the share of prefix tokens before the first volatile part."""
        return self.stable_tokens / self.prefix_tokens if self.prefix_tokens else 1.0

    @property
    def stable(self) -> bool:
        """No volatile part: the conversation after the prefix can be cached too."""
        return not self.parts

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.kind for p in self.parts))


@dataclass(frozen=True)
class AlignedPrefix:
    """What ``CacheAligner.align`` returns: the rewritten request parts and both reports.

    ``moved`` pairs each placeholder with the value it replaced; ``note`` states them. The
    note is already placed after the messages when messages were given; otherwise send it
    yourself after the part you cache.
    """

    system: Any
    tools: list[Any] | None
    messages: list[Any] | None
    before: PrefixReport
    after: PrefixReport
    moved: tuple[tuple[str, str], ...] = ()
    note: str | None = None


def tool_name(tool: Any) -> str:
    """The name of an OpenAI Chat, OpenAI Responses or Anthropic tool definition."""
    if isinstance(tool, Mapping):
        fn = tool.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return str(fn["name"])
        if isinstance(tool.get("name"), str):
            return str(tool["name"])
    return ""


def find_volatile(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every volatile value in ``text``, non-overlapping, in order."""
    found: list[tuple[str, int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= fs or s >= fe for _, fs, fe in found)

    for m in _LABELLED_ID.finditer(text):
        s, e = m.span("value")
        if any(c.isdigit() for c in m["value"]) and free(s, e):
            found.append(("request_id", s, e))
    for kind, pattern in VOLATILE_PATTERNS:
        for m in pattern.finditer(text):
            s, e = m.span()
            if e > s and free(s, e):
                found.append((kind, s, e))
    return sorted(found, key=lambda f: f[1])


class CacheAligner:
    """Analyse a request's prefix for cache-busting parts; optionally make it stable.

    ``sort_tools``: order tool definitions by name. ``move_volatile``: move volatile values
    out of the system prompt into a note after the messages. ``model`` picks the tokenizer.
    """

    def __init__(
        self, *, sort_tools: bool = False, move_volatile: bool = False, model: str | None = None
    ) -> None:
        self.sort_tools = sort_tools
        self.move_volatile = move_volatile
        self._count = get_tokenizer(model).count

    def analyze(
        self,
        *,
        system: Any = None,
        tools: Sequence[Any] | None = None,
        messages: Sequence[Any] | None = None,
        previous: PrefixReport | None = None,
    ) -> PrefixReport:
        """Report the volatile parts of the prefix (tools, system prompt)."""
        segments = _segments(system, tools, messages)
        names = tuple(tool_name(t) for t in tools or ())
        parts: list[VolatilePart] = []
        offset = 0
        for location, text in segments:
            for kind, s, e in find_volatile(text):
                parts.append(
                    VolatilePart(kind, location, text[s:e], s, offset + self._count(text[:s]))
                )
            offset += self._count(text)
        if previous is not None:
            parts.extend(self._compare(previous, segments, names))
        parts.sort(key=lambda p: p.token_offset)
        return PrefixReport(
            offset, tuple(parts), list(names) == sorted(names), tuple(segments), names
        )

    def align(
        self,
        *,
        system: Any = None,
        tools: Sequence[Any] | None = None,
        messages: Sequence[Any] | None = None,
        previous: PrefixReport | None = None,
    ) -> AlignedPrefix:
        """The request with the opted-in fixes applied; inputs are not mutated."""
        before = self.analyze(system=system, tools=tools, messages=messages, previous=previous)
        new_tools = None if tools is None else copy.deepcopy(list(tools))
        if new_tools is not None and self.sort_tools:
            new_tools.sort(key=tool_name)
        new_system = copy.deepcopy(system)
        new_messages = None if messages is None else copy.deepcopy(list(messages))
        moved: list[tuple[str, str]] = []
        note = None
        if self.move_volatile:
            counters: dict[str, int] = {}
            new_system = _map_text(new_system, lambda t: _placehold(t, counters, moved))
            if new_messages is not None:
                for i, msg in enumerate(new_messages):
                    if not _is_instruction(msg):
                        break
                    new_messages[i] = dict(msg)
                    new_messages[i]["content"] = _map_text(
                        msg.get("content"), lambda t: _placehold(t, counters, moved)
                    )
            if moved:
                note = "Current values for the placeholders in the instructions: " + "; ".join(
                    f"{p} = {v}" for p, v in moved
                )
                if new_messages is not None:
                    new_messages = _append_note(new_messages, note)
        after = self.analyze(system=new_system, tools=new_tools, messages=new_messages)
        return AlignedPrefix(new_system, new_tools, new_messages, before, after, tuple(moved), note)

    def _compare(
        self, previous: PrefixReport, segments: list[tuple[str, str]], names: tuple[str, ...]
    ) -> list[VolatilePart]:
        parts: list[VolatilePart] = []
        reordered = names != previous.tool_names and sorted(names) == sorted(previous.tool_names)
        if reordered:
            parts.append(VolatilePart("tool_order", "tools[0]", ", ".join(names), 0, 0))
        offset = 0
        prev = dict(previous.segments)
        for location, text in segments:
            old = prev.get(location)
            if old is not None and old != text and not (reordered and location.startswith("tools")):
                s = next(
                    (i for i, (a, b) in enumerate(zip(old, text, strict=False)) if a != b),
                    min(len(old), len(text)),
                )
                parts.append(
                    VolatilePart(
                        "changed", location, text[s : s + 40], s, offset + self._count(text[:s])
                    )
                )
            offset += self._count(text)
        return parts


def _is_instruction(msg: Any) -> bool:
    return isinstance(msg, Mapping) and msg.get("role") in ("system", "developer")


def _segments(
    system: Any, tools: Sequence[Any] | None, messages: Sequence[Any] | None
) -> list[tuple[str, str]]:
    segs = [
        (f"tools[{i}]", json.dumps(t, ensure_ascii=False, default=str))
        for i, t in enumerate(tools or ())
    ]
    if isinstance(system, str):
        segs.append(("system", system))
    elif isinstance(system, list):
        segs.extend((f"system[{i}]", _text(b)) for i, b in enumerate(system))
    for i, msg in enumerate(messages or ()):
        if not _is_instruction(msg):
            break
        segs.append((f"messages[{i}]", _text(msg.get("content"))))
    return segs


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get("text", "")) if value.get("type") in TEXT_PART_TYPES else ""
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return ""


def _map_text(value: Any, fn: Any) -> Any:
    """``value`` (a string or a list of text blocks) with ``fn`` applied to each text."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        out = []
        for block in value:
            if isinstance(block, Mapping) and block.get("type") in TEXT_PART_TYPES:
                block = {**block, "text": fn(str(block.get("text", "")))}
            out.append(block)
        return out
    return value


def _placehold(text: str, counters: dict[str, int], moved: list[tuple[str, str]]) -> str:
    out, last = [], 0
    for kind, s, e in find_volatile(text):
        counters[kind] = counters.get(kind, 0) + 1
        placeholder = f"[{kind}#{counters[kind]}]"
        moved.append((placeholder, text[s:e]))
        out += [text[last:s], placeholder]
        last = e
    return "".join(out) + text[last:]


def _append_note(messages: list[Any], note: str) -> list[Any]:
    """``messages`` with ``note`` after everything else, in the list's own format."""
    last = messages[-1] if messages else None
    if isinstance(last, Mapping) and last.get("role") == "user":
        content = last.get("content")
        if isinstance(content, str):
            messages[-1] = {**last, "content": f"{content}\n\n{note}"}
            return messages
        if isinstance(content, list):
            text_type = next(
                (
                    b["type"]
                    for b in content
                    if isinstance(b, Mapping) and b.get("type") in TEXT_PART_TYPES
                ),
                "text",
            )
            messages[-1] = {**last, "content": [*content, {"type": text_type, "text": note}]}
            return messages
    role = (
        "developer"
        if isinstance(last, Mapping) and last.get("type") in TOOL_OUTPUT_TYPES
        else "system"
    )
    return [*messages, {"role": role, "content": note}]
