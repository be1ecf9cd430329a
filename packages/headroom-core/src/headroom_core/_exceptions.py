"""Exceptions raised by headroom.

Hierarchy::

    HeadroomError
    ├── ConfigError            a setting is invalid
    ├── DependencyError        an optional dependency (extra) is missing
    ├── StoreError             the CCR store cannot read or write
    │   └── RefNotFoundError   a ref is unknown, expired, or from another namespace
    └── CompressionError       a compressor failed (caught by ``compress``, which fails open)

``compress`` and ``retrieve`` never raise these into an agent run: ``compress`` passes the
original through, ``retrieve`` returns a readable message. Lower-level APIs (the store, the
compressors) raise them so callers can tell failures apart.
"""

from __future__ import annotations


class HeadroomError(Exception):
    """Root of every exception headroom raises."""


class ConfigError(HeadroomError, ValueError):
    """A configuration value is invalid."""


class DependencyError(HeadroomError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class StoreError(HeadroomError):
    """The CCR store failed to read or write."""


class RefNotFoundError(StoreError, KeyError):
    """A ref is unknown, expired, or belongs to another namespace."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "ref not found"


class CompressionError(HeadroomError):
    """A compressor could not handle its input."""


def missing_extra(package: str, extra: str, *, dist: str = "headroom-core") -> DependencyError:
    """Build the error for a missing optional dependency, naming the extra that provides it."""
    return DependencyError(
        f"{package!r} is not installed; install it with: pip install '{dist}[{extra}]'"
    )
