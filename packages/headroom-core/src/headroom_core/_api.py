"""compress() and retrieve(): the two calls everything else is built on."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from ._config import HeadroomConfig
from ._detect import _detect_kind, detect_kind, guess_language
from ._exceptions import RefNotFoundError, StoreError
from ._jsonio import to_json_text
from ._markers import MARKER_RE, REF_RE
from ._search import query_original
from ._tokens import PendingCount, get_tokenizer
from ._types import KINDS, Compression
from .compressors import CompressContext, get_compressor
from .compressors._base import Prepared, Preparing
from .compressors._fallback import binary_stand_in, head_tail
from .store import (
    CCRStore,
    StoredOriginal,
    encode_original,
    get_default_store,
    load_secret,
    make_ref,
)
from .store._base import now

log = logging.getLogger("headroom")

#: Output bound for inputs over ``max_input_bytes``: they are not parsed, so the model gets
#: their head and tail and retrieves the rest by query.
_OVERSIZED_OUTPUT_TOKENS = 4000


@dataclass(frozen=True)
class _Input:
    """What ``compress`` was given, read once."""

    text: str  # for compressors
    data: bytes  # ``encode_original`` of the value given: what the store keeps, the ref hashes
    encoding: str
    forced: str | None  # the kind the input itself demands (binary, a JSON value)
    #: the text *is* the original (a str, or bytes that decode to it): passing it on loses
    #: nothing. It is not when the original cannot go to a model as is (lone surrogates,
    #: NUL characters); the original is then stored byte-exact.
    faithful: bool


def _without_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _text_input(value: str, forced: str | None) -> _Input:
    data, encoding = encode_original(value)
    text = value
    if encoding != "utf-8":  # lone surrogates: stored exactly, "?" for the model
        text = value.encode("utf-8", "replace").decode("utf-8")
    text = _without_nul(text)
    return _Input(text, data, encoding, forced, text is value)


def _read(content: Any) -> _Input:
    """``content`` as text for compressors, with the bytes of the original to store."""
    if isinstance(content, str):
        return _text_input(content, None)
    if isinstance(content, (bytes, bytearray, memoryview)):
        raw = bytes(content)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _Input("", *encode_original(raw), "binary", False)
        if text.count("\x00") > max(1, len(text) // 100):
            return _Input("", *encode_original(raw), "binary", False)
        sane = _without_nul(text)
        return _Input(sane, *encode_original(raw), None, sane is text)
    return _text_input(to_json_text(content), "json")


def _carries_markers(text: str) -> bool:
    # the plain search first: it is twice as fast as the pattern's
    return "[headroom: " in text and MARKER_RE.search(text) is not None


def _passthrough(text: str, kind: str, tokens: int, tokenizer: Any, note: str) -> Compression:
    return Compression(
        text,
        kind,
        tokens,
        tokens,
        None,
        tokenizer=tokenizer.name,
        tokens_exact=tokenizer.exact,
        notes=(note,),
    )


def compress(
    content: str | bytes | Any,
    *,
    query: str | None = None,
    tool: str | None = None,
    kind: str | None = None,
    path: str | None = None,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> Compression:
    """Compress a tool output for the model; never raises, never loses the original.

    ``content`` is a str, bytes, or a JSON value. ``query`` is the agent's current task
    (used for relevance), ``tool`` the tool's name and ``path`` a file path (hints),
    ``kind`` forces a compressor. Whenever ``text`` differs from the input, the original is
    stored under ``ref`` first; if that fails, the input passes through unchanged. Input
    that already carries headroom markers passes through too (compressing is idempotent).
    """
    config = config or HeadroomConfig()
    tokenizer = get_tokenizer(config.model)
    try:
        given = _read(content)
    except Exception:  # an object whose str() raises: nothing sensible to compress
        log.exception("headroom: cannot read content of type %s", type(content).__name__)
        return Compression(repr(type(content)), "text", 0, 0, None, notes=("unreadable input",))
    text, faithful = given.text, given.faithful
    forced = given.forced or kind
    if forced is not None and forced not in KINDS:
        log.warning("headroom: unknown kind %r ignored", forced)
        forced = None

    huge = len(text) > config.max_input_bytes
    if huge:
        sample = text[: 1024 * 1024]
        tokens_in = PendingCount.of(int(tokenizer.count(sample) * len(text) / max(1, len(sample))))
    elif len(text) >= max(1, config.min_tokens) * tokenizer.max_token_chars:
        # at least ``min_tokens`` tokens, whatever the text: the exact count goes on while
        # the input is hashed, detected and (JSON) factored
        tokens_in = tokenizer.count_later(text)
    else:
        tokens_in = PendingCount.of(tokenizer.count(text))
    if forced != "binary" and not huge and tokens_in.below(config.min_tokens) and faithful:
        return _passthrough(
            text, forced or "text", tokens_in.result(), tokenizer, "passthrough: below min_tokens"
        )
    if forced != "binary" and not huge and faithful and _carries_markers(text):
        # a compressed output again (a wrapped tool behind a middleware, a replayed message):
        # compressing it twice would nest markers and store the compressed text as original
        return _passthrough(
            text,
            forced or "text",
            tokens_in.result(),
            tokenizer,
            "passthrough: already compressed",
        )

    try:
        return _compress(
            given, forced, huge, tokens_in, query, tool, path, config, store, tokenizer
        )
    except Exception:
        log.exception("headroom: compression failed; passing the original through")
        original_tokens = tokens_in.result()
        if not faithful:  # binary, NULs or lone surrogates: never hand those to a model
            return _store_only(given, forced or "text", original_tokens, config, store, tokenizer)
        return _passthrough(
            text, forced or "text", original_tokens, tokenizer, "passthrough: internal error"
        )


def _ref(given: _Input, config: HeadroomConfig) -> str:
    return make_ref(given.data, config.namespace, load_secret(config.resolved_home))


def _store_original(
    given: _Input,
    kind: str,
    config: HeadroomConfig,
    store: CCRStore | None,
    meta: dict[str, Any],
    ref: str | None = None,
) -> str:
    """Store the original under its ref (``ref`` when the caller already computed it)."""
    if ref is None:
        ref = _ref(given, config)
    t = now()
    (store or get_default_store(config)).put(
        StoredOriginal(
            ref,
            config.namespace,
            given.data,
            given.encoding,
            kind,
            t,
            t + config.ttl_seconds,
            meta,
        )
    )
    return ref


def _store_only(
    given: _Input,
    kind: str,
    tokens: int,
    config: HeadroomConfig,
    store: CCRStore | None,
    tokenizer: Any,
) -> Compression:
    text = given.text
    try:
        ref = _store_original(given, kind, config, store, {})
    except (StoreError, OSError):
        log.exception("headroom: store unavailable")
        return _passthrough(text, kind, tokens, tokenizer, "passthrough: store unavailable")
    return Compression(
        text,
        kind,
        tokens,
        tokenizer.count(text),
        ref,
        tokenizer=tokenizer.name,
        tokens_exact=tokenizer.exact,
        notes=("sanitised input; original stored",),
    )


def _compress(
    given: _Input,
    forced: str | None,
    huge: bool,
    tokens_in: PendingCount,
    query: str | None,
    tool: str | None,
    path: str | None,
    config: HeadroomConfig,
    store: CCRStore | None,
    tokenizer: Any,
) -> Compression:
    text, faithful = given.text, given.faithful
    # hashing lets go of the interpreter lock: the thread counting the input takes it then
    ref = _ref(given, config)
    tokens_in.begun()
    if forced == "binary":
        original_tokens = tokens_in.result()
        _store_original(given, "binary", config, store, {"tool": tool}, ref)
        out = binary_stand_in(given.data, ref)
        return Compression(
            out,
            "binary",
            original_tokens,
            tokenizer.count(out),
            ref,
            tokenizer=tokenizer.name,
            tokens_exact=False,
            notes=("binary content stored",),
        )

    language: str | None = None
    parsed: Any = None
    body, frame = text, ("", "")  # a JSON document framed by text is compressed alone
    if forced:
        kind = forced
        if kind == "code":
            language = guess_language(text, path)
    elif huge:
        kind = detect_kind(text[: 1024 * 1024], tool=tool, path=path).kind
    else:
        # the bytes to store are the text's UTF-8 when it is faithful: JSON is read from them
        data = given.data if faithful and given.encoding in ("utf-8", "bytes") else None
        detection = _detect_kind(text, tool, path, data)
        kind, language, parsed = detection.kind, detection.language, detection.value
        if detection.span is not None:
            start, end = detection.span
            body, frame = text[start:end], (text[:start], text[end:])

    ctx = CompressContext(
        ref=ref,
        config=config,
        count_tokens=tokenizer.count,
        original_tokens=0,  # below, once counted
        budget=0,
        query=query,
        tool=tool,
        path=path,
        language=language,
        options=config.options(kind),
        parsed=parsed,
    )
    compressor = None if huge else get_compressor(kind)
    # a first stage that needs no budget runs while the input is still being counted
    prepared = _prepare(compressor, body, ctx)
    original_tokens = tokens_in.result()
    budget = config.budget_for(kind, original_tokens)
    if huge and config.max_output_tokens is None:
        budget = min(budget, _OVERSIZED_OUTPUT_TOKENS)
    if body is not text:  # the frame is kept as it is: the document gets the rest
        budget = max(1, budget - tokenizer.count(frame[0] + frame[1]))
    ctx = replace(ctx, original_tokens=original_tokens, budget=budget)
    notes: tuple[str, ...]
    known_tokens: int | None = None
    if compressor is None:
        out = head_tail(text, ctx, reason=f"input over {config.max_input_bytes} bytes, not parsed")
        notes = (
            "oversized input: head and tail kept",
            "original_tokens estimated from a 1 MiB sample",
        )
    else:
        if prepared is not None:
            result = prepared.finish(ctx)
        else:
            result = compressor.compress(body, ctx)
        out, notes = result.text, result.notes
        language = result.language or language
        known_tokens = result.tokens
        if body is not text:
            out, known_tokens = frame[0] + out + frame[1], None
            notes = ("JSON framed by text: the text kept as it is", *notes)

    out_tokens = tokenizer.count(out) if known_tokens is None else known_tokens
    if faithful and (out == text or out_tokens >= original_tokens):
        return Compression(
            text,
            kind,
            original_tokens,
            original_tokens,
            None,
            language,
            tokenizer.name,
            tokenizer.exact,
            ("passthrough: compression did not help", *notes),
        )
    try:
        _store_original(given, kind, config, store, {"tool": tool, "language": language}, ref)
    except (StoreError, OSError):
        log.exception("headroom: store unavailable; passing the original through")
        return _passthrough(
            text, kind, original_tokens, tokenizer, "passthrough: store unavailable"
        )
    return Compression(
        out,
        kind,
        original_tokens,
        out_tokens,
        ref,
        language,
        tokenizer.name,
        tokenizer.exact and not huge,
        notes,
    )


def _prepare(compressor: object, text: str, ctx: CompressContext) -> Prepared | None:
    """The budget-free first stage of ``compressor``, if it has one (``Preparing``)."""
    return compressor.prepare(text, ctx) if isinstance(compressor, Preparing) else None


def fetch_original(
    ref: str, *, config: HeadroomConfig | None = None, store: CCRStore | None = None
) -> StoredOriginal:
    """The stored original for ``ref``; raises ``RefNotFoundError`` / ``StoreError``."""
    config = config or HeadroomConfig()
    if not REF_RE.fullmatch(ref or ""):
        raise RefNotFoundError(
            f"{ref!r} is not a headroom ref (expected hr_ and 20 letters/digits)"
        )
    return (store or get_default_store(config)).get(ref, config.namespace)


def retrieve(
    ref: str,
    *,
    query: str | None = None,
    max_tokens: int | None = None,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> str:
    """The original behind ``ref``, or with ``query`` its most relevant chunks.

    Without a query the original comes back byte-exact (cut to ``max_tokens`` only if that
    is given, with a note). With a query: the matching chunks in original order, each with
    its position, within ``max_tokens`` (default 1000). Never raises: an unknown, expired
    or foreign ref, or a store failure, gives a readable message.
    """
    config = config or HeadroomConfig()
    try:
        original = fetch_original(ref, config=config, store=store)
    except RefNotFoundError as exc:
        return f"[headroom: {exc}; it cannot be retrieved (re-run the tool to get fresh output)]"
    except (StoreError, OSError) as exc:
        log.exception("headroom: store read failed")
        return f"[headroom: the store could not be read ({type(exc).__name__}); try again]"
    if query and query.strip():
        try:
            return query_original(original, query, max_tokens=max_tokens or 1000, config=config)
        except Exception as exc:
            log.exception("headroom: query search failed")
            return f"[headroom: search inside {ref} failed ({type(exc).__name__}); retry without query]"
    text = original.as_text()
    tokenizer = get_tokenizer(config.model)
    if max_tokens is None or tokenizer.count(text) <= max_tokens:
        return text
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    used = 0
    for ln in lines:
        cost = tokenizer.count(ln)
        if used + cost > max_tokens - 40:
            break
        out.append(ln)
        used += cost
    rest = len(lines) - len(out)
    return "".join(out) + (
        f"\n[headroom: {rest} more lines not shown (max_tokens={max_tokens}); "
        f"ask again with a query, or without max_tokens for all of {ref}]"
    )
