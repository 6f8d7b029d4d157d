"""One request, end to end, independent of HTTP: validate, route, call upstreams, account.

Both the FastAPI app and the in-process :class:`~routecraft.serve.AsyncController` run
requests through an :class:`Engine`, so routing, fallback, metrics and the routing log
behave the same with or without a server.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

import httpx

from .._errors import RoutecraftError
from ._config import ServerConfig
from ._log import LogRecord, RoutingLog
from ._metrics import Metrics
from ._routing import Decision, RoutingTable, UnknownRouteError, routing_text
from ._sse import StreamEnd, relay
from ._upstream import AllUpstreamsFailed, Upstreams

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class RequestError(RoutecraftError):
    """A request the server refuses; carries the HTTP status and OpenAI-style error fields."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type_

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def validate_body(body: Any) -> dict:
    """The checks the server makes before routing; everything else is the upstream's to judge."""
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "'model' is required and must be a non-empty string", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' is required and must be a non-empty array", "messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise RequestError(400, f"messages[{i}] must be an object", f"messages[{i}]")
        if m.get("role") not in ROLES:
            raise RequestError(400, f"messages[{i}].role must be one of {', '.join(sorted(ROLES))}", f"messages[{i}].role")
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise RequestError(400, f"messages[{i}].content must be a string or an array of parts", f"messages[{i}].content")
        if isinstance(content, list) and not all(isinstance(p, dict) for p in content):
            raise RequestError(400, f"messages[{i}].content parts must be objects", f"messages[{i}].content")
    if "stream" in body and not isinstance(body["stream"], bool) and body["stream"] is not None:
        raise RequestError(400, "'stream' must be a boolean", "stream")
    return body


@dataclass
class Result:
    """What to send back: status, headers and either a body or an async byte stream."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    content_type: str = "application/json"
    decision: Decision | None = None
    # metrics and the log row of a non-stream answer, run by :meth:`done` once it was sent:
    # accounting (parsing usage, counters, the log record) is then off the client's wait
    account: Callable[[], None] | None = None

    def done(self) -> None:
        """Account for the request (once); a stream accounts when it ends instead."""
        account, self.account = self.account, None
        if account is not None:
            account()


def _tokens(usage: Any) -> tuple[int | None, int | None]:
    if not isinstance(usage, dict):
        return None, None
    t_in, t_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (t_in if isinstance(t_in, int) else None), (t_out if isinstance(t_out, int) else None)


class Engine:
    """Routing table + upstream pool + metrics + routing log, built from one config."""

    def __init__(self, config: ServerConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._id_prefix, self._id_counter = os.urandom(8).hex(), itertools.count(1)
        # requests between arrival and their upstream's answer: with none but this one in flight,
        # routing need not wait a loop turn for others to batch with (see RoutingTable.decide)
        self._in_flight = 0
        self.metrics = Metrics()
        self.table = RoutingTable(config)
        self.upstreams = Upstreams(config, self.metrics, transport)
        self.log = (
            RoutingLog(config.server.log, config.server.log_queue_size, on_drop=self.metrics.log_dropped.inc)
            if config.server.log else None
        )

    def new_request_id(self) -> str:
        """A unique id without a syscall per request (``uuid4`` reads the OS's randomness each time)."""
        return f"{self._id_prefix}{next(self._id_counter):08x}"

    async def aclose(self) -> None:
        await self.upstreams.aclose()
        if self.log is not None:
            self.log.close()

    async def handle(self, body: Any, request_id: str) -> Result:
        """Run one chat completion request (already authenticated)."""
        self._in_flight += 1
        try:
            return await self._handle(body, request_id)
        finally:
            self._in_flight -= 1

    async def _handle(self, body: Any, request_id: str) -> Result:
        ts, start = time.time(), time.perf_counter()
        body = validate_body(body)
        stream = bool(body.get("stream"))
        try:
            route = self.table.resolve(body["model"])
        except UnknownRouteError as exc:
            raise RequestError(404, str(exc), "model", "model_not_found") from None
        decision = await self.table.decide(route, body["messages"], alone=self._in_flight == 1)
        routing_ms = (time.perf_counter() - start) * 1000.0
        self.metrics.routing.labels(decision.router or "").observe(routing_ms / 1000.0)
        headers = {
            "x-request-id": request_id,
            "x-routecraft-model": decision.model,
            "x-routecraft-router": decision.router or "",
            "x-routecraft-policy": decision.policy or "",
            "x-routecraft-score": "" if decision.score is None else f"{decision.score:.6f}",
        }
        prompt = routing_text(body["messages"], 1 << 30) if self.config.server.log_prompts else None

        def finish(status: int, model: str | None, path: list[str], usage: Any = None, error: str | None = None) -> None:
            t_in, t_out = _tokens(usage)
            cost = None
            if model is not None and (t_in is not None or t_out is not None):
                m = self.config.models[model]
                cost = ((t_in or 0) * m.price_in_per_mtok + (t_out or 0) * m.price_out_per_mtok) / 1e6
                self.metrics.cost.labels(model).inc(cost)
                self.metrics.tokens.labels(model, "in").inc(t_in or 0)
                self.metrics.tokens.labels(model, "out").inc(t_out or 0)
            latency = time.perf_counter() - start
            self.metrics.requests.labels(model or decision.model, decision.router or "", str(status)).inc()
            self.metrics.latency.labels(model or decision.model).observe(latency)
            if model is not None and model != decision.model:
                self.metrics.fallbacks.labels(decision.model, model).inc()
            if self.log is not None:
                self.log.write(LogRecord(
                    ts, request_id, body["model"], decision.router, decision.policy, decision.model, model,
                    decision.score, routing_ms, latency * 1000.0, t_in, t_out, cost, status, error, path, stream, prompt,
                ))

        try:
            answer = await self.upstreams.call(decision.candidates, body, stream)
        except AllUpstreamsFailed as exc:
            tried = exc.path
            err = RequestError(502, f"no upstream model could answer (tried: {', '.join(tried)})",
                               code="upstream_unavailable", type_="upstream_error")
            return Result(502, headers | {"x-routecraft-fallback": ",".join(tried)},
                          json.dumps(err.body()).encode(), decision=decision,
                          account=lambda: finish(502, None, tried, error="all_upstreams_failed"))
        headers["x-routecraft-served-by"] = answer.model.name
        headers["x-routecraft-fallback"] = ",".join(answer.path)
        if stream and answer.status == 200:
            def on_end(end: StreamEnd) -> None:
                status = 499 if end.client_gone else 200
                finish(status, answer.model.name, answer.path, end.usage, end.error)

            return Result(200, headers, stream=relay(answer, on_end), content_type="text/event-stream",
                          decision=decision)

        def account() -> None:
            usage = None
            if answer.status == 200:
                try:
                    usage = json.loads(answer.body).get("usage")
                except (ValueError, AttributeError):
                    usage = None
            finish(answer.status, answer.model.name, answer.path, usage,
                   None if answer.status == 200 else f"upstream_status_{answer.status}")

        return Result(answer.status, headers, answer.body, content_type=answer.content_type, decision=decision,
                      account=account)
