"""The HTTP proxy: compress tool results in each request, answer ``headroom_retrieve`` itself.

Routes (``/v1`` prefix optional): ``POST /chat/completions``, ``POST /responses`` (OpenAI)
and ``POST /messages`` (Anthropic); ``GET /health``. For each request the proxy runs
``compress_messages`` on the conversation, adds ``headroom_retrieve`` to the tools (on every
request by default, so the cached prefix never changes), and forwards the request to the
upstream with the client's headers (``Authorization``, ``x-api-key`` ...) untouched;
headers are never logged.

When the model's answer calls ``headroom_retrieve``, the proxy runs the retrieval, appends
the call and its result to the conversation and asks again, at most ``max_rounds`` times,
so the client never sees that tool. A response that calls other tools as well goes to the
client with the retrieval calls taken out.

Streaming: when no content of the request carries a ref, upstream events are relayed as
they arrive. Otherwise the proxy reads the upstream stream to its end before relaying it
(it must know whether the model called ``headroom_retrieve``); if the model did, that round
is repeated without streaming to get the call's arguments.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .._config import HeadroomConfig
from .._messages import compress_messages
from .._tool import retrieve_from_arguments
from ..store import CCRStore
from ._formats import (
    Api,
    continue_turn,
    conversation_key,
    mentions_retrieve,
    retrieve_calls,
    with_retrieve_tool,
    without_retrieve_calls,
)

log = logging.getLogger("headroom.proxy")

#: Headers that describe one hop, not the request; they are not forwarded.
_HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "accept-encoding",
    }
)


@dataclass(frozen=True)
class ProxySettings:
    """How the proxy behaves.

    Attributes:
        upstream: base URL of the real API, e.g. ``https://api.openai.com/v1``; the
            request's path after its ``/v1`` prefix is appended to it.
        max_body_bytes: larger request bodies get 413 (default 32 MiB).
        max_rounds: retrievals answered inside one client request (default 4).
        timeout: seconds to wait for the upstream (default 600).
        always_offer_retrieve: add ``headroom_retrieve`` to every request's tools (default),
            not only to requests that carry a ref: tools open the cached prompt prefix, so
            a tool list that changes mid-conversation would cost one full cache miss.
    """

    upstream: str
    max_body_bytes: int = 32 * 1024 * 1024
    max_rounds: int = 4
    timeout: float = 600.0
    always_offer_retrieve: bool = True


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "headroom_proxy_error"}}, status_code=status
    )


def _forward_headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}


def _response_headers(upstream: httpx.Response) -> dict[str, str]:
    keep = ("content-type", "x-request-id", "request-id", "openai-processing-ms")
    return {k: v for k, v in upstream.headers.items() if k.lower() in keep}


class _Proxy:
    def __init__(
        self, settings: ProxySettings, config: HeadroomConfig | None, store: CCRStore | None
    ) -> None:
        self.settings = settings
        self.config = config
        self.store = store
        self.client: httpx.AsyncClient | None = None

    def url(self, path: str) -> str:
        tail = path[len("/v1") :] if path.startswith("/v1/") else path
        return self.settings.upstream.rstrip("/") + tail

    async def read_body(self, request: Request) -> dict[str, Any] | Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return _error(413, f"request body over {self.settings.max_body_bytes} bytes")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > self.settings.max_body_bytes:
                return _error(413, f"request body over {self.settings.max_body_bytes} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        return body

    def compress_body(self, api: Api, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """(body with compressed tool results, whether any content carries a ref)."""
        key = conversation_key(api)
        conversation = body.get(key)
        if not isinstance(conversation, list):
            return body, False
        try:
            result = compress_messages(conversation, config=self.config, store=self.store)
        except Exception:  # fail open: forward the request as it came
            log.exception("headroom proxy: compression failed; forwarding unchanged")
            return body, False
        return {**body, key: result.messages}, bool(result.refs)

    async def handle(self, request: Request, api: Api) -> Response:
        body = await self.read_body(request)
        if isinstance(body, Response):
            return body
        body, has_refs = self.compress_body(api, body)
        if has_refs or self.settings.always_offer_retrieve:
            body = with_retrieve_tool(api, body)
        headers = _forward_headers(request)
        url = self.url(request.url.path)
        stream = bool(body.get("stream"))
        try:
            if stream and not has_refs:
                return await self.relay_stream(url, headers, body)
            return await self.rounds(api, url, headers, body, stream=stream)
        except httpx.HTTPError as exc:
            log.warning("headroom proxy: upstream error %s", type(exc).__name__)
            return _error(502, f"upstream unreachable or failed ({type(exc).__name__})")

    async def rounds(
        self, api: Api, url: str, headers: dict[str, str], body: dict[str, Any], *, stream: bool
    ) -> Response:
        assert self.client is not None
        for _ in range(self.settings.max_rounds + 1):
            if stream:
                buffered = await self.buffer_stream(url, headers, body)
                if not isinstance(buffered, tuple):
                    return buffered
                upstream, chunks = buffered
                if not any(mentions_retrieve(e) for e in _sse_payloads(chunks)):
                    return Response(
                        b"".join(chunks),
                        status_code=upstream.status_code,
                        headers=_response_headers(upstream),
                    )
            reply = await self.client.post(url, headers=headers, json={**body, "stream": False})
            if reply.status_code >= 400:
                return Response(
                    reply.content, status_code=reply.status_code, headers=_response_headers(reply)
                )
            response = reply.json()
            calls, others = retrieve_calls(api, response)
            if not calls:
                return JSONResponse(response, headers=_response_headers(reply))
            if others:
                return JSONResponse(without_retrieve_calls(api, response))
            results = {c.id: self.run_retrieve(c.arguments) for c in calls}
            body = continue_turn(api, body, response, results)
        return _error(
            508, f"the model kept calling headroom_retrieve ({self.settings.max_rounds} rounds)"
        )

    def run_retrieve(self, arguments: dict[str, Any]) -> str:
        return retrieve_from_arguments(arguments, config=self.config, store=self.store)

    async def buffer_stream(
        self, url: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[httpx.Response, list[bytes]] | Response:
        assert self.client is not None
        async with self.client.stream("POST", url, headers=headers, json=body) as upstream:
            chunks = [chunk async for chunk in upstream.aiter_raw()]
        if upstream.status_code >= 400:
            return Response(
                b"".join(chunks),
                status_code=upstream.status_code,
                headers=_response_headers(upstream),
            )
        return upstream, chunks

    async def relay_stream(
        self, url: str, headers: dict[str, str], body: dict[str, Any]
    ) -> Response:
        assert self.client is not None
        request = self.client.build_request("POST", url, headers=headers, json=body)
        upstream = await self.client.send(request, stream=True)

        async def events() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()

        return StreamingResponse(
            events(), status_code=upstream.status_code, headers=_response_headers(upstream)
        )


def _sse_payloads(chunks: list[bytes]) -> list[Any]:
    """The JSON payloads of the ``data:`` lines of a buffered event stream."""
    payloads: list[Any] = []
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                try:
                    payloads.append(json.loads(data))
                except ValueError:
                    continue
    return payloads


def build_app(
    settings: ProxySettings,
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
) -> Starlette:
    """The proxy as an ASGI app (serve it with uvicorn, or ``headroom proxy``)."""
    proxy = _Proxy(settings, config, store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.timeout) as client:
            proxy.client = client
            yield
        proxy.client = None

    def route(api: Api) -> Any:
        async def endpoint(request: Request) -> Response:
            return await proxy.handle(request, api)

        return endpoint

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "upstream": settings.upstream})

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no route {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"method {request.method} not allowed on {request.url.path}")

    routes = [Route("/health", health, methods=["GET"])]
    for path, api in (
        ("chat/completions", "chat"),
        ("responses", "responses"),
        ("messages", "messages"),
    ):
        for prefix in ("/v1/", "/"):
            routes.append(Route(prefix + path, route(api), methods=["POST"]))  # type: ignore[arg-type]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_allowed},
    )
