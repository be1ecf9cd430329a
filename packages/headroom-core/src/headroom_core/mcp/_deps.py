"""The optional ``mcp`` dependency, with an error that names the extra to install."""

from __future__ import annotations

from .._exceptions import DependencyError


def require_mcp() -> None:
    """Raise ``DependencyError`` unless the ``mcp`` SDK (2.x) can be imported."""
    try:
        import mcp.server.lowlevel  # noqa: F401
    except ImportError as exc:
        raise DependencyError(
            'headroom\'s MCP server and proxy need the MCP SDK: install "headroom-core[mcp]"'
        ) from exc
