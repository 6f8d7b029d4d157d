"""Calling OpenAI-compatible upstreams: one pooled httpx transport (aiohttp's pool), retries, fallback, breakers.

Per attempt a model gets its own timeouts. Connect errors, connection resets, 429 and
5xx are retried on the same model with exponential backoff (``backoff_s · 2^i``, jittered,
a 429's ``Retry-After`` honoured up to 5 s); a timeout is not retried on the same model
(it already cost ``timeout_s``) but falls back. Then the next model in the decision's
fallback order is tried. A 4xx other than 401/403/408/429 is the client's problem (the
same body would fail anywhere) and is passed back unchanged.

For a stream, a model has "answered" once its first bytes arrived: failures before that
fall back like any other; after that the client already holds part of an answer, and the
relay (:mod:`._sse`) ends the stream with an SSE error event instead.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import AsyncIterator, Sequence

import httpx

from ._breaker import OPEN, CircuitBreaker
from ._config import ModelConfig, ServerConfig
from ._metrics import Metrics
from ._transport import AiohttpTransport, read_body

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
FAILOVER_STATUS = frozenset({401, 403}) | RETRY_STATUS  # our side's problem: try another model
MAX_RETRY_AFTER_S = 5.0


class UpstreamFailure(Exception):
    """One failed attempt; ``kind`` is a short class (``connect``, ``timeout``, ``status_503``, …)."""

    def __init__(self, kind: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.kind, self.retryable, self.retry_after = kind, retryable, retry_after


class AllUpstreamsFailed(Exception):
    def __init__(self, path: list[str]) -> None:
        super().__init__("every upstream failed: " + ", ".join(path))
        self.path = path


@dataclass
class Answer:
    """A successful (or client-error) upstream response.

    Non-stream: ``body`` holds the bytes. Stream: ``first`` holds the first bytes and
    ``rest`` the remaining byte iterator; ``close()`` must be awaited when done.
    """

    model: ModelConfig
    status: int
    path: list[str]
    body: bytes = b""
    first: bytes = b""
    rest: AsyncIterator[bytes] | None = None
    response: httpx.Response | None = None
    upstream_ms: float = 0.0
    content_type: str = "application/json"

    async def close(self) -> None:
        if self.rest is not None and hasattr(self.rest, "aclose"):
            await self.rest.aclose()
        if self.response is not None:
            await self.response.aclose()


def _classify(exc: Exception) -> UpstreamFailure:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return UpstreamFailure("connect", True)
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError)):
        return UpstreamFailure("timeout", False)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return UpstreamFailure("reset", True)
    return UpstreamFailure(type(exc).__name__, False)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers.get("retry-after", "")), MAX_RETRY_AFTER_S)
    except ValueError:
        return None


class Upstreams:
    """All upstream models behind one connection pool, with a circuit breaker each."""

    def __init__(self, config: ServerConfig, metrics: Metrics, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.models = config.models
        self.metrics = metrics
        self.breakers = {
            name: CircuitBreaker(config.breaker.failures, config.breaker.cooldown_s) for name in config.models
        }
        # One pool for every upstream. Requests go straight to the transport: httpx's client
        # layer (redirects, auth flows, cookies, URL merging) has nothing to do for a proxy and
        # cost about as much per request as the aiohttp pool underneath.
        self.transport = transport or AiohttpTransport(
            httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30))
        self._url = {name: httpx.URL(m.chat_url) for name, m in config.models.items()}
        # Every header httpx would add to ``Request(content=...)`` (Host, Content-Length), encoded once:
        # a request is then built from a ready stream, without httpx's content encoding and header
        # normalisation passes (about half of its cost per request).
        self._headers = {
            name: [(b"Host", self._url[name].netloc), (b"Content-Type", b"application/json"),
                   (b"Accept", b"application/json")]
            + ([(b"Authorization", f"Bearer {m.api_key}".encode("latin-1"))] if m.api_key else [])
            for name, m in config.models.items()
        }
        self._timeout = {
            name: httpx.Timeout(m.timeout_s, connect=m.connect_timeout_s).as_dict() for name, m in config.models.items()
        }

    async def aclose(self) -> None:
        await self.transport.aclose()

    def states(self) -> dict[str, str]:
        return {name: b.state for name, b in self.breakers.items()}

    async def call(self, candidates: Sequence[str], body: dict, stream: bool) -> Answer:
        """Try ``candidates`` in order until one answers; raise :class:`AllUpstreamsFailed` if none does."""
        path: list[str] = []
        for name in candidates:
            model, breaker = self.models[name], self.breakers[name]
            if not breaker.allow():
                path.append(f"{name}:circuit_open")
                continue
            payload = json.dumps({**body, "model": model.upstream_model}, ensure_ascii=False).encode()
            for attempt in range(model.max_retries + 1):
                try:
                    answer = await self._attempt(model, payload, stream)
                except UpstreamFailure as failure:
                    self.metrics.upstream_errors.labels(name, failure.kind).inc()
                    if failure.retryable and attempt < model.max_retries:
                        path.append(f"{name}:{failure.kind}:retry")
                        delay = failure.retry_after or model.backoff_s * (2**attempt) * (0.5 + random.random())
                        await asyncio.sleep(delay)
                        continue
                    path.append(f"{name}:{failure.kind}")
                    breaker.failure()
                    self.metrics.circuit_open.labels(name).set(breaker.state == OPEN)
                    break
                breaker.success()
                self.metrics.circuit_open.labels(name).set(0)
                path.append(f"{name}:{answer.status}")
                answer.path = path
                return answer
        raise AllUpstreamsFailed(path)

    async def _attempt(self, model: ModelConfig, payload: bytes, stream: bool) -> Answer:
        request = httpx.Request(
            "POST", self._url[model.name], stream=httpx.ByteStream(payload),
            headers=[*self._headers[model.name], (b"Content-Length", str(len(payload)).encode())],
            extensions={"timeout": self._timeout[model.name]})
        start = time.perf_counter()
        response: httpx.Response | None = None
        try:
            # the whole non-stream answer, or a stream's first bytes, within timeout_s
            async with asyncio.timeout(model.timeout_s + model.connect_timeout_s):
                response = await self.transport.handle_async_request(request)
                status = response.status_code
                if status != 200:
                    await response.aread()
                    await response.aclose()
                    if status in FAILOVER_STATUS:
                        raise UpstreamFailure(f"status_{status}", status in RETRY_STATUS, _retry_after(response))
                    return Answer(model, status, [], body=response.content, upstream_ms=_ms(start),
                                  content_type=response.headers.get("content-type", "application/json"))
                if not stream:
                    body = await read_body(response)
                    await response.aclose()
                    return Answer(model, 200, [], body=body, upstream_ms=_ms(start),
                                  content_type=response.headers.get("content-type", "application/json"))
                rest = response.aiter_bytes()
                first = b""
                while not first:
                    first = await rest.__anext__()
        except UpstreamFailure:
            raise
        except StopAsyncIteration:
            await response.aclose()
            raise UpstreamFailure("empty_stream", True) from None
        except Exception as exc:
            if response is not None:
                await response.aclose()
            raise _classify(exc) from None
        return Answer(model, 200, [], first=first, rest=rest, response=response, upstream_ms=_ms(start),
                      content_type=response.headers.get("content-type", "text/event-stream"))


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
