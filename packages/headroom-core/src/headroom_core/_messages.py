"""compress_messages(): compress the tool results in a message list without busting caches.

Formats: OpenAI Chat Completions (``role: "tool"``), OpenAI Responses input items
(``type: "function_call_output"``) and Anthropic Messages (``tool_result`` blocks, with
string or list content); a list may mix them. See ``_messages_formats`` for the shapes.

How the bytes stay stable, so provider prefix caches keep hitting:

- **Prefix-pure.** A message's output depends only on the messages up to it and the config:
  its query is the latest user text *before or in* that message plus its own tool call's
  arguments, never a later message. Compressing turns 1..N and then 1..N+1 yields the same
  first N messages, byte for byte, in this process or any other (``compress`` is
  deterministic; refs are a keyed hash of the content, the key shared through
  ``HEADROOM_HOME`` or ``HEADROOM_SECRET``).
- **Live zone.** The messages after the last one the model produced (the last assistant
  message or Responses model item) are new: the model has not seen them. Everything before
  was sent in an earlier request and comes back exactly as it was sent: content headroom
  compressed while it was live gets the same bytes again (from the compression cache, or
  recomputed to the same bytes); anything else passes through unchanged. Each
  ``MessageStats`` says whether its message was ``live``. (History sent without headroom,
  e.g. when it is switched on mid-conversation, gets compressed once, costing one cache
  miss, unless ``frozen_prefix`` says it was sent as is.)
- **Already compressed input is left alone**: text carrying a headroom marker, or text the
  compression cache produced, is never compressed twice, so callers may keep headroom's
  output as their history. ``frozen_prefix=k`` returns the first k messages untouched and
  unexamined, for callers that know exactly what they sent (use it when the history is
  headroom output from another process: output without markers is only recognised by the
  cache of the process that produced it).
- **Never touched**: blocks and messages with ``cache_control`` (add breakpoints to the
  output, not the input: a breakpoint on a raw tool result keeps it raw), non-dict items,
  results of the ``headroom_retrieve`` tool, and contents that are not text.

Only tool results of at least ``min_tokens`` (default ``config.min_tokens``) are compressed;
system, developer, user and assistant text is left alone unless listed in ``roles``.
"""

from __future__ import annotations

import copy
import logging
import time
import weakref
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._api import compress
from ._config import HeadroomConfig
from ._exceptions import ConfigError, StoreError
from ._markers import MARKER_RE
from ._messages_cache import MESSAGE_CACHE, CachedResult, CompressionCache, digest
from ._messages_formats import (
    TEXT_PART_TYPES,
    TOOL_OUTPUT_TYPES,
    ToolCall,
    as_mapping,
    build_query,
    is_model_output,
    live_zone_start,
    role_of,
    tool_calls_of,
    user_text_of,
)
from ._tokens import get_tokenizer
from ._tool import RETRIEVE_TOOL_NAME
from .store import CCRStore, get_default_store

log = logging.getLogger("headroom")

#: Roles whose text ``roles`` may opt in; tool results are always eligible.
ROLES = frozenset({"tool", "user", "assistant", "system", "developer"})

Action = Literal["compressed", "unchanged", "frozen"]


@dataclass(frozen=True)
class MessageStats:
    """What ``compress_messages`` did to one message.

    Token counts cover the content headroom examined in this message (its tool results and
    opted-in text); other content counts as 0. ``notes`` says why something was left alone
    (``below min_tokens``, ``cache_control``, ``already compressed``, ...) or that a result
    came from the compression cache (``cache hit``). ``refs`` are the refs of headroom
    content in the message's output: compressed now, replayed, or already in the input.
    """

    index: int
    role: str
    action: Action
    live: bool
    original_tokens: int = 0
    compressed_tokens: int = 0
    tools: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def saved_tokens(self) -> int:
        return max(0, self.original_tokens - self.compressed_tokens)


@dataclass(frozen=True)
class MessagesCompression:
    """What ``compress_messages`` returns: the new list, per-message stats and totals."""

    messages: list[Any]
    stats: tuple[MessageStats, ...]
    live_from: int

    @property
    def original_tokens(self) -> int:
        return sum(s.original_tokens for s in self.stats)

    @property
    def compressed_tokens(self) -> int:
        return sum(s.compressed_tokens for s in self.stats)

    @property
    def saved_tokens(self) -> int:
        return sum(s.saved_tokens for s in self.stats)

    @property
    def savings(self) -> float:
        """Share of the examined tokens saved, 0..1."""
        return self.saved_tokens / self.original_tokens if self.original_tokens else 0.0

    @property
    def compressed_count(self) -> int:
        return sum(1 for s in self.stats if s.action == "compressed")

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(r for s in self.stats for r in s.refs)

    def to_dict(self) -> dict[str, object]:
        return {
            "live_from": self.live_from,
            "original_tokens": self.original_tokens,
            "compressed_tokens": self.compressed_tokens,
            "saved_tokens": self.saved_tokens,
            "savings": round(self.savings, 4),
            "compressed_count": self.compressed_count,
            "stats": [
                {
                    "index": s.index,
                    "role": s.role,
                    "action": s.action,
                    "live": s.live,
                    "original_tokens": s.original_tokens,
                    "compressed_tokens": s.compressed_tokens,
                    "tools": list(s.tools),
                    "refs": list(s.refs),
                    "notes": list(s.notes),
                }
                for s in self.stats
            ],
        }


def compress_messages(
    messages: Sequence[Any],
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    frozen_prefix: int = 0,
    roles: Collection[str] = ("tool",),
    min_tokens: int | None = None,
    cache: CompressionCache | None = None,
) -> MessagesCompression:
    """Compress the tool results of an OpenAI or Anthropic message list; input not mutated.

    Tool results are always eligible; ``roles`` opts other text in (``"user"``,
    ``"assistant"``, ``"system"``, ``"developer"``); ``min_tokens`` is the size floor (default ``config.min_tokens``);
    ``frozen_prefix`` leaves that many leading messages untouched; ``cache`` replaces the
    process-wide compression cache. Never raises on message content: a message that cannot
    be handled passes through unchanged.
    """
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of message dicts")
    config = config or HeadroomConfig()
    wanted = frozenset((roles,) if isinstance(roles, str) else roles)
    if wanted - ROLES:
        raise ConfigError(
            f"unknown roles {sorted(wanted - ROLES)}; expected some of {sorted(ROLES)}"
        )
    if frozen_prefix < 0:
        raise ConfigError("frozen_prefix must be >= 0")
    floor = config.min_tokens if min_tokens is None else min_tokens
    if floor < 0:
        raise ConfigError("min_tokens must be >= 0")

    items = list(messages)
    live_from = max(min(frozen_prefix, len(items)), live_zone_start(items))
    walk = _Walk(config, store, wanted, floor, MESSAGE_CACHE if cache is None else cache)
    out: list[Any] = []
    stats: list[MessageStats] = []
    for i, msg in enumerate(items):
        live = i >= live_from
        role = role_of(msg)
        if i < frozen_prefix or not isinstance(msg, Mapping):
            walk.observe(msg)
            out.append(copy.deepcopy(msg))
            stats.append(
                MessageStats(i, role, "frozen" if i < frozen_prefix else "unchanged", live)
            )
            continue
        try:
            new = walk.message(msg)
        except Exception:
            log.exception("headroom: message %d could not be processed; passed through", i)
            new, walk.found = copy.deepcopy(dict(msg)), []
            walk.notes.append("internal error: passed through")
        out.append(new)
        stats.append(walk.stats(i, role, live))
    return MessagesCompression(out, tuple(stats), live_from)


@dataclass
class _Found:
    """One text that was examined: its tokens before and after, and why."""

    original_tokens: int
    compressed_tokens: int
    refs: tuple[str, ...]
    note: str | None
    tool: str | None
    changed: bool = False


@dataclass
class _Walk:
    config: HeadroomConfig
    store: CCRStore | None
    roles: frozenset[str]
    floor: int
    cache: CompressionCache
    calls: dict[str, ToolCall] = field(default_factory=dict)
    user_text: str = ""
    found: list[_Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.count = get_tokenizer(self.config.model).count
        self._resolved: CCRStore | None = self.store
        self._context = digest(
            self.config.fingerprint(), self.config.namespace, str(self.config.resolved_home)
        )

    def observe(self, msg: Any) -> None:
        """Remember what later messages' queries need: user text and tool calls."""
        msg = as_mapping(msg)
        if msg is None:
            return
        text = user_text_of(msg)
        if text is not None:
            self.user_text = text
        if is_model_output(msg):
            for call_id, call in tool_calls_of(msg):
                self.calls[call_id] = call

    def stats(self, index: int, role: str, live: bool) -> MessageStats:
        found, notes = self.found, self.notes
        self.found, self.notes = [], []
        refs = tuple(dict.fromkeys(r for f in found for r in f.refs))
        action: Action = "compressed" if any(f.changed for f in found) else "unchanged"
        notes.extend(f.note for f in found if f.note is not None)
        return MessageStats(
            index,
            role,
            action,
            live,
            sum(f.original_tokens for f in found),
            sum(f.compressed_tokens for f in found),
            tuple(dict.fromkeys(f.tool for f in found if f.tool)),
            refs,
            tuple(dict.fromkeys(notes)),
        )

    def message(self, msg: Mapping[str, Any]) -> Any:
        self.observe(msg)
        new = copy.deepcopy(dict(msg))
        if "cache_control" in msg:
            self.notes.append("cache_control")
            return new
        role, typ = msg.get("role"), msg.get("type")
        key = "output" if typ in TOOL_OUTPUT_TYPES else "content"
        if key not in msg:
            return new
        value = msg[key]
        if typ in TOOL_OUTPUT_TYPES:
            new[key] = self._tool_output(value, self.calls.get(str(msg.get("call_id"))))
        elif role == "tool":
            call = self.calls.get(str(msg.get("tool_call_id")))
            if call is None and isinstance(msg.get("name"), str):
                call = ToolCall(msg["name"])
            new[key] = self._tool_output(value, call)
        elif role == "function":
            new[key] = self._tool_output(value, ToolCall(msg.get("name")))
        elif role == "user":
            new[key] = self._user_content(value)
        elif role in self.roles and role in ("assistant", "system", "developer"):
            query = build_query(self.user_text, None) if role == "assistant" else None
            new[key] = self._content(value, query, None, None)
        return new

    def _user_content(self, content: Any) -> Any:
        if not isinstance(content, list):
            if "user" in self.roles:
                return self._content(content, None, None, None)
            return copy.deepcopy(content)
        out: list[Any] = []
        for block in content:
            if isinstance(block, Mapping) and block.get("type") == "tool_result":
                out.append(self._tool_result_block(block))
            elif "user" in self.roles:
                out.extend(self._content([block], None, None, None))
            else:
                out.append(copy.deepcopy(block))
        return out

    def _tool_result_block(self, block: Mapping[str, Any]) -> Any:
        new = copy.deepcopy(dict(block))
        if "cache_control" in block:
            self.notes.append("cache_control")
            return new
        call = self.calls.get(str(block.get("tool_use_id")))
        if "content" in block:
            new["content"] = self._tool_output(block["content"], call)
        return new

    def _tool_output(self, value: Any, call: ToolCall | None) -> Any:
        if call is not None and call.name == RETRIEVE_TOOL_NAME:
            self.notes.append("retrieval result")
            return copy.deepcopy(value)
        query = build_query(self.user_text, call)
        if call is None:
            return self._content(value, query, None, None)
        return self._content(value, query, call.name, call.path)

    def _content(self, value: Any, query: str | None, tool: str | None, path: str | None) -> Any:
        if isinstance(value, str):
            return self._text(value, query, tool, path)
        if not isinstance(value, list):
            if value is not None:
                self.notes.append("not text")
            return copy.deepcopy(value)
        out: list[Any] = []
        for part in value:
            new = copy.deepcopy(part)
            if (
                isinstance(part, Mapping)
                and part.get("type") in TEXT_PART_TYPES
                and isinstance(part.get("text"), str)
            ):
                if "cache_control" in part:
                    self.notes.append("cache_control")
                else:
                    new["text"] = self._text(part["text"], query, tool, path)
            elif isinstance(part, str):
                new = self._text(part, query, tool, path)
            out.append(new)
        return out

    def _text(self, text: str, query: str | None, tool: str | None, path: str | None) -> str:
        """``text`` compressed (or as is), recording what happened."""
        if len(text) < self.floor:  # a token is at least one character
            n = self.count(text)
            self.found.append(_Found(n, n, (), "below min_tokens", tool))
            return text
        if MARKER_RE.search(text) or self.cache.is_output(digest(text)):
            n = self.count(text)
            refs = tuple(dict.fromkeys(m["ref"] for m in MARKER_RE.finditer(text)))
            self.found.append(_Found(n, n, refs, "already compressed", tool))
            return text
        key = digest(self._context, query or "", tool or "", path or "", text)
        store = self._store()
        hit = self.cache.get(key, store)
        if hit is not None and hit.ref is not None and time.monotonic() > hit.expires:
            hit = None  # let compress() store the original again, refreshing its TTL
        if hit is not None:
            self.found.append(
                _Found(
                    hit.original_tokens,
                    hit.compressed_tokens,
                    () if hit.ref is None else (hit.ref,),
                    "cache hit",
                    tool,
                    hit.text is not None,
                )
            )
            return text if hit.text is None else hit.text
        n = self.count(text)
        if n < self.floor:
            self.cache.put(key, CachedResult(None, "text", n, n, None, None, 0.0))
            self.found.append(_Found(n, n, (), "below min_tokens", tool))
            return text
        c = compress(text, query=query, tool=tool, path=path, config=self.config, store=store)
        changed = c.ref is not None and c.text != text
        result = CachedResult(
            c.text if changed else None,
            c.kind,
            c.original_tokens,
            c.compressed_tokens if changed else c.original_tokens,
            c.ref if changed else None,
            weakref.ref(store) if changed and store is not None else None,
            time.monotonic() + self.config.ttl_seconds / 2,
        )
        if not changed or store is not None:
            self.cache.put(key, result)
        self.found.append(
            _Found(
                result.original_tokens,
                result.compressed_tokens,
                () if result.ref is None else (result.ref,),
                None if changed else "not compressible",
                tool,
                changed,
            )
        )
        return c.text if changed else text

    def _store(self) -> CCRStore | None:
        if self._resolved is None:
            try:
                self._resolved = get_default_store(self.config)
            except (StoreError, OSError):
                log.exception("headroom: store unavailable; compress() will pass through")
        return self._resolved
