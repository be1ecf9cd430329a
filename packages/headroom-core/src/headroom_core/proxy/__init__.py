"""An OpenAI- and Anthropic-compatible HTTP proxy that compresses tool results (extra
``headroom-core[proxy]``); ``headroom proxy --upstream URL`` runs it."""

from .._exceptions import DependencyError

try:
    from ._app import ProxySettings, build_app
except ImportError as exc:  # starlette / httpx / uvicorn are the [proxy] extra
    raise DependencyError(
        f'the headroom proxy needs starlette, httpx and uvicorn: install "headroom-core[proxy]" ({exc})'
    ) from exc

__all__ = ["ProxySettings", "build_app", "serve"]


def serve(settings: ProxySettings, *, host: str = "127.0.0.1", port: int = 8787) -> None:
    """Run the proxy with uvicorn until interrupted (loopback by default)."""
    import uvicorn

    uvicorn.run(build_app(settings), host=host, port=port, log_level="warning", access_log=False)
