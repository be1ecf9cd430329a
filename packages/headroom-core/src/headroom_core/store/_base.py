"""The CCR store protocol: originals by (namespace, ref), plus what refs are made of."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .._markers import REF_BODY_LEN, REF_PREFIX

#: How the stored bytes map back to the caller's value.
#: ``utf-8``: a str; ``utf-8-surrogatepass``: a str with lone surrogates; ``bytes``: raw bytes.
ENCODINGS = ("utf-8", "utf-8-surrogatepass", "bytes")


@dataclass(frozen=True)
class StoredOriginal:
    """One original as kept by the store."""

    ref: str
    namespace: str
    data: bytes
    encoding: str = "utf-8"
    kind: str = "text"
    created: float = 0.0
    expires: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.data)

    def as_text(self) -> str:
        """The original as the caller gave it (str), or bytes decoded for display."""
        if self.encoding == "utf-8":
            return self.data.decode("utf-8")
        if self.encoding == "utf-8-surrogatepass":
            return self.data.decode("utf-8", "surrogatepass")
        return self.data.decode("utf-8", "replace")

    def value(self) -> str | bytes:
        """The original exactly as given: ``bytes`` for byte input, else ``str``."""
        return self.data if self.encoding == "bytes" else self.as_text()

    def meta_json(self) -> str:
        return json.dumps(self.meta, sort_keys=True, ensure_ascii=False)


@runtime_checkable
class CCRStore(Protocol):
    """Where originals live. Implementations are safe to share across threads."""

    def put(self, original: StoredOriginal) -> None:
        """Store ``original``; storing the same (namespace, ref) again refreshes its TTL."""

    def get(self, ref: str, namespace: str) -> StoredOriginal:
        """The original, or ``RefNotFoundError`` (unknown, expired, other namespace)."""
        ...

    def recent(self, namespace: str, limit: int = 20) -> list[StoredOriginal]:
        """The most recently stored originals of ``namespace``, newest first."""
        ...

    def close(self) -> None:
        """Release connections."""


def encode_original(value: str | bytes) -> tuple[bytes, str]:
    """Bytes to store and the encoding tag that restores ``value`` exactly."""
    if isinstance(value, bytes):
        return value, "bytes"
    try:
        return value.encode("utf-8"), "utf-8"
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass"), "utf-8-surrogatepass"


def make_ref(data: bytes, namespace: str, secret: bytes) -> str:
    """A deterministic, unguessable ref: HMAC-SHA256 of namespace and content (100 bits).

    SHA-256 runs in the CPU's SHA instructions where it has them (most x86-64 and ARMv8
    chips): about three times keyed BLAKE2b's speed there, which matters at every call.
    """
    ns = namespace.encode("utf-8", "surrogatepass")
    h = hmac.new(secret, len(ns).to_bytes(4, "big") + ns, "sha256")
    h.update(data)
    body = base64.b32encode(h.digest()).decode("ascii").lower()[:REF_BODY_LEN]
    return REF_PREFIX + body


def load_secret(home: Path) -> bytes:
    """The key for refs: ``HEADROOM_SECRET`` if set, else ``<home>/secret.key`` (made once)."""
    env = os.environ.get("HEADROOM_SECRET")
    if env:
        return hashlib.sha256(env.encode("utf-8")).digest()
    known = _SECRETS.get(home)
    if known is not None:
        return known
    home.mkdir(parents=True, exist_ok=True)
    path = home / "secret.key"
    try:
        found = path.read_bytes()
    except FileNotFoundError:
        tmp = home / f".secret.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_bytes(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # atomic: the first process to link wins, others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        found = path.read_bytes()
    _SECRETS[home] = found
    return found


#: Each home's key once read: it never changes while the file is there (it is made once).
_SECRETS: dict[Path, bytes] = {}


def now() -> float:
    return time.time()
