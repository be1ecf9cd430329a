"""Token bucket rate limiting for outgoing HTTP calls.

The bucket refills continuously; callers block until a token is free.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

DEFAULT_RATE = 10.0
MAX_BURST = 50


@dataclass
class BucketState:
    """Snapshot of a bucket, for metrics."""

    tokens: float
    updated: float


class TokenBucket:
    """A thread-safe token bucket.

    Tokens are added at ``rate`` per second up to ``burst``.
    """

    def __init__(self, rate: float = DEFAULT_RATE, burst: int = MAX_BURST) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._updated = now

    def acquire(self, tokens: float = 1.0, *, timeout: float | None = None) -> bool:
        """Take ``tokens``, waiting at most ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                now = time.monotonic()
                self._refill(now)
                if self._tokens >= tokens:
                    self._tokens -= tokens
                    return True
                wait = (tokens - self._tokens) / self._rate
            if deadline is not None and now + wait > deadline:
                return False
            time.sleep(wait)

    @property
    def state(self) -> BucketState:
        with self._lock:
            self._refill(time.monotonic())
            return BucketState(self._tokens, self._updated)


def limited(bucket: TokenBucket):
    """Decorator: every call takes one token first."""

    def wrap(fn):
        def inner(*args, **kwargs):
            bucket.acquire()
            return fn(*args, **kwargs)

        return inner

    return wrap
