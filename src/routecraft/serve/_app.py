"""The FastAPI app: OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``, ``/healthz``, ``/metrics``.

``/v1/chat/completions`` is the one hot path, so it is a plain ASGI handler that the app
dispatches to before Starlette's middleware and router (about a fifth of the server's
CPU per request went to those layers): the body is parsed once with :func:`json.loads`
and checked by :func:`._engine.validate_body`, and an upstream's answer is passed through
as bytes (a stream through Starlette's ``StreamingResponse``, which watches for the client
leaving). The other endpoints are ordinary FastAPI routes. The OpenAPI schema is complete
(request and error shapes, the chat operation written out below), so clients and fuzzers
(schemathesis) see the real contract.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from contextlib import asynccontextmanager, suppress
from typing import Any, Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ._config import ServerConfig
from ._engine import ROLES, Engine, RequestError
from ._routing import THRESHOLD_PATTERN

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON = "application/json"


def _error_schema() -> dict:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"]},
                },
            }
        },
    }


def _request_schema(model_ids: list[str], routers: list[str]) -> dict:
    """The request contract, exactly what :func:`validate_body` and the routing table accept.

    Other fields (temperature, tools, ...) pass through to the upstream, which judges them.
    """
    message = {
        "type": "object",
        "required": ["role"],
        "properties": {
            "role": {"enum": sorted(ROLES)},
            "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}, {"type": "null"}]},
        },
    }
    alternatives: list[dict] = [{"enum": model_ids}] if model_ids else []
    if routers:
        names = "|".join(re.escape(r) for r in routers)
        alternatives.append({"type": "string", "pattern": rf"^router-({names})-({THRESHOLD_PATTERN})$"})
    return {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": {"type": "string", "anyOf": alternatives,
                      "description": "A policy name, router-<name>-<threshold> (a decimal in [0, 1]), or a pool model."},
            "messages": {"type": "array", "minItems": 1, "items": message},
            "stream": {"type": ["boolean", "null"]},
        },
    }


def _error(status: int, err: RequestError, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(err.body()), status, headers=headers, media_type=_JSON)


class _ChatEndpoint:
    """``/v1/chat/completions`` as a plain ASGI app (see the module docstring for why)."""

    def __init__(self, engine: Engine, authorised: Callable[[str], bool], unauthorised: RequestError) -> None:
        self.engine, self.authorised, self.unauthorised = engine, authorised, unauthorised

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        auth = supplied = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"x-request-id":
                supplied = value.decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else self.engine.new_request_id()
        if scope["method"] != "POST":
            err = RequestError(405, "method not allowed: use POST", type_="invalid_request_error")
            return await _send_json(send, 405, err.body(), {"x-request-id": request_id, "allow": "POST"})
        if not self.authorised(auth):
            return await _send_json(send, 401, self.unauthorised.body(), {"x-request-id": request_id})
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        try:
            try:
                body = json.loads(b"".join(chunks))
            except (ValueError, UnicodeDecodeError):
                raise RequestError(400, "the request body is not valid JSON") from None
            result = await self.engine.handle(body, request_id)
        except RequestError as err:
            return await _send_json(send, err.status, err.body(), {"x-request-id": request_id})
        if result.stream is not None:
            response = StreamingResponse(result.stream, result.status, headers=result.headers | {
                "cache-control": "no-cache", "x-accel-buffering": "no"}, media_type="text/event-stream")
            return await response(scope, receive, send)
        try:
            await _send(send, result.status, result.body, result.content_type, result.headers)
        finally:
            result.done()


async def _send(send: Callable, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
    raw = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Callable, status: int, payload: dict, headers: dict[str, str]) -> None:
    await _send(send, status, json.dumps(payload).encode(), _JSON, headers)


class _App(FastAPI):
    """FastAPI with the chat endpoint dispatched first, outside Starlette's middleware stack."""

    chat: _ChatEndpoint | None = None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if self.chat is not None and scope["type"] == "http" and scope["path"] == CHAT_PATH:
            try:
                return await self.chat(scope, receive, send)
            except Exception:  # like Starlette's ServerErrorMiddleware: a 500 unless a response began, then raise
                err = RequestError(500, "internal server error", type_="server_error")
                with suppress(Exception):
                    await _send_json(send, 500, err.body(), {})
                raise
        await super().__call__(scope, receive, send)


CHAT_PATH = "/v1/chat/completions"


def create_app(config: ServerConfig, transport: httpx.AsyncBaseTransport | None = None,
               engine: Engine | None = None) -> FastAPI:
    """Build the server app. ``transport`` replaces the network for tests (httpx's injectable transport)."""
    engine = engine or Engine(config, transport)
    key_digests = frozenset(hashlib.sha256(k.encode()).digest() for k in config.client_keys)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        await engine.aclose()

    app = _App(title="routecraft", version=__version__, lifespan=lifespan,
               description="OpenAI-compatible LLM router: the `model` field selects a router and policy.")
    app.state.engine = engine

    def authorised(header: str) -> bool:
        if not key_digests:
            return True
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        digest = hashlib.sha256(token.strip().encode()).digest()
        return any(hmac.compare_digest(digest, d) for d in key_digests)

    unauthorised = RequestError(401, "missing or incorrect API key (send 'Authorization: Bearer <key>')",
                                code="invalid_api_key")
    app.chat = _ChatEndpoint(engine, authorised, unauthorised)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, RequestError(exc.status_code, str(exc.detail)), getattr(exc, "headers", None))

    responses = {
        str(code): {"description": text, "content": {_JSON: {"schema": _error_schema()}}}
        for code, text in ((400, "Malformed request"), (401, "Missing or wrong API key"),
                           (404, "Unknown model"), (502, "No upstream could answer"))
    }
    responses["200"] = {
        "description": "The upstream's chat completion (JSON), or its server-sent events when stream is true",
        "content": {_JSON: {"schema": {"type": "object"}}, "text/event-stream": {"schema": {
            "type": "object", "description": "One server-sent event: a chat.completion.chunk, [DONE], or an error event",
            "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}},
    }
    chat_operation = {
        "summary": "Chat Completions",
        "operationId": "chat_completions_v1_chat_completions_post",
        "requestBody": {"required": True, "content": {_JSON: {"schema": _request_schema(
            engine.table.model_ids(), list(engine.table.routers))}}},
        "responses": {"200": responses.pop("200"), **responses},
    }

    def openapi() -> dict[str, Any]:
        """FastAPI's schema of the routes it serves, plus the chat operation it dispatches outside them."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema["paths"] = {CHAT_PATH: {"post": chat_operation}, **schema.get("paths", {})}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    models_responses = {"401": chat_operation["responses"]["401"], "200": {"description": "Served model ids", "content": {
        _JSON: {"schema": {"type": "object", "required": ["object", "data"], "properties": {
            "object": {"const": "list"}, "data": {"type": "array", "items": {"type": "object"}}}}}}}}

    @app.get("/v1/models", openapi_extra={"responses": models_responses})
    async def models(request: Request) -> Response:
        if not authorised(request.headers.get("authorization", "")):
            return _error(401, unauthorised)
        created = int(time.time())
        data = [{"id": m, "object": "model", "created": created, "owned_by": "routecraft"}
                for m in engine.table.model_ids()]
        return Response(json.dumps({"object": "list", "data": data}), media_type=_JSON)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "circuits": engine.upstreams.states()}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(engine.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
