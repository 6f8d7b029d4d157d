"""The FastAPI app: OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``, ``/healthz``, ``/metrics``.

Handlers take the raw request and return raw bytes: the body is parsed once with
:func:`json.loads` and checked by :func:`._engine.validate_body`, and an upstream's answer
is passed through unchanged, which keeps the server's own cost per request small. The
OpenAPI schema is still complete (request and error shapes), written out below, so
clients and fuzzers (schemathesis) see the real contract.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from contextlib import asynccontextmanager


import httpx
from fastapi import FastAPI, Request
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


def create_app(config: ServerConfig, transport: httpx.AsyncBaseTransport | None = None,
               engine: Engine | None = None) -> FastAPI:
    """Build the server app. ``transport`` replaces the network for tests (httpx's injectable transport)."""
    engine = engine or Engine(config, transport)
    key_digests = frozenset(hashlib.sha256(k.encode()).digest() for k in config.client_keys)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        await engine.aclose()

    app = FastAPI(title="routecraft", version=__version__, lifespan=lifespan,
                  description="OpenAI-compatible LLM router: the `model` field selects a router and policy.")
    app.state.engine = engine

    def authorised(request: Request) -> bool:
        if not key_digests:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        digest = hashlib.sha256(token.strip().encode()).digest()
        return any(hmac.compare_digest(digest, d) for d in key_digests)

    unauthorised = RequestError(401, "missing or incorrect API key (send 'Authorization: Bearer <key>')",
                                code="invalid_api_key")

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

    @app.post(
        "/v1/chat/completions",
        openapi_extra={
            "requestBody": {"required": True, "content": {_JSON: {"schema": _request_schema(
                engine.table.model_ids(), list(engine.table.routers))}}},
            "responses": responses,
        },
    )
    async def chat_completions(request: Request) -> Response:
        supplied = request.headers.get("x-request-id", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        if not authorised(request):
            return _error(401, unauthorised, {"x-request-id": request_id})
        try:
            raw = await request.body()
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise RequestError(400, "the request body is not valid JSON") from None
            result = await engine.handle(body, request_id)
        except RequestError as err:
            return _error(err.status, err, {"x-request-id": request_id})
        if result.stream is not None:
            return StreamingResponse(result.stream, result.status, headers=result.headers | {
                "cache-control": "no-cache", "x-accel-buffering": "no"}, media_type="text/event-stream")
        return Response(result.body, result.status, headers=result.headers, media_type=result.content_type)

    models_responses = {"401": responses["401"], "200": {"description": "Served model ids", "content": {
        _JSON: {"schema": {"type": "object", "required": ["object", "data"], "properties": {
            "object": {"const": "list"}, "data": {"type": "array", "items": {"type": "object"}}}}}}}}

    @app.get("/v1/models", openapi_extra={"responses": models_responses})
    async def models(request: Request) -> Response:
        if not authorised(request):
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
