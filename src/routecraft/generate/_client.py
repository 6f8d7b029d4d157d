"""An async client for OpenAI-compatible ``/chat/completions`` endpoints, over httpx.

Generation fans out thousands of small requests, so the client bounds them with a
semaphore (``concurrency``), gives each attempt its own timeout, and retries what is
worth retrying — timeouts, connection errors, 429, 5xx, and 200 responses whose body is
not a chat completion (a proxy's HTML page, truncated JSON) — with exponential backoff
that honours ``Retry-After``. Other 4xx fail at once. Token log-probs are requested and
kept (mean over the answer's tokens) when the endpoint returns them. The transport is a
constructor argument, so tests replace the network (``httpx.MockTransport``) or point
it at a local stub server.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .._errors import RoutecraftError
from .._http import retry_delay, server_message
from ._toml import Endpoint


class ChatError(RoutecraftError):
    """A chat request failed for good (after retries, or with a non-retryable status)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "timeout", "http_5xx", "http_4xx", "malformed", "transport"


@dataclass(frozen=True)
class ChatResult:
    text: str
    logprob: float | None  # mean token log-prob of the reply, when the endpoint returned them
    tokens_in: float | None
    tokens_out: float | None
    latency_s: float


def request_body(endpoint: Endpoint, messages: list[dict[str, str]], **params: Any) -> dict[str, Any]:
    """The JSON body sent for ``messages`` (also the content the request cache is keyed on)."""
    body: dict[str, Any] = {"model": endpoint.upstream_model, "messages": messages, **params}
    if endpoint.logprobs:
        body["logprobs"] = True
    return body


def parse_completion(doc: Any) -> tuple[str, float | None, float | None, float | None]:
    """(text, mean log-prob, prompt tokens, completion tokens) of a chat completion body.

    Raises ``ValueError`` when ``doc`` is not a chat completion with a string message.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("choices"), list) or not doc["choices"]:
        raise ValueError("no choices")
    choice = doc["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("no message content")
    logprob = None
    content = (choice.get("logprobs") or {}).get("content") if isinstance(choice.get("logprobs"), dict) else None
    if isinstance(content, list):
        lps = [t.get("logprob") for t in content if isinstance(t, dict) and isinstance(t.get("logprob"), (int, float))]
        if lps:
            logprob = float(sum(lps) / len(lps))
    usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else {}
    tin, tout = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (
        text,
        logprob,
        float(tin) if isinstance(tin, (int, float)) else None,
        float(tout) if isinstance(tout, (int, float)) else None,
    )


class AsyncChatClient:
    """Bounded, retrying chat completions. Use as ``async with AsyncChatClient(...) as c``."""

    def __init__(
        self,
        *,
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if concurrency < 1:
            raise RoutecraftError(f"concurrency must be >= 1, got {concurrency}")
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> "AsyncChatClient":
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        self._client = httpx.AsyncClient(transport=self.transport, timeout=self.timeout, limits=limits)
        self._slots = asyncio.Semaphore(self.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None

    async def post(self, endpoint: Endpoint, body: dict[str, Any]) -> tuple[dict[str, Any], ChatResult]:
        """POST ``body`` to the endpoint; (raw JSON, parsed result), or raise :class:`ChatError`."""
        if self._client is None or self._slots is None:
            raise RoutecraftError("AsyncChatClient is not open; use 'async with'")
        url = endpoint.base_url + "/chat/completions"
        headers = {}
        key = os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        problem, reason = "", ""
        for attempt in range(self.max_retries + 1):
            response: httpx.Response | None = None
            async with self._slots:
                start = time.perf_counter()
                try:
                    response = await self._client.post(url, json=body, headers=headers)
                except httpx.TimeoutException as exc:
                    problem, reason = f"timed out after {self.timeout:g} s ({type(exc).__name__})", "timeout"
                except httpx.TransportError as exc:
                    problem, reason = f"{type(exc).__name__}: {exc}", "transport"
                latency = time.perf_counter() - start
            if response is not None:
                if response.status_code < 400:
                    try:
                        doc = response.json()
                        text, logprob, tin, tout = parse_completion(doc)
                        return doc, ChatResult(text, logprob, tin, tout, latency)
                    except ValueError as exc:
                        snippet = response.text[:80].replace("\n", " ")
                        problem, reason = f"malformed completion ({exc}); body starts {snippet!r}", "malformed"
                else:
                    problem = f"HTTP {response.status_code}: {server_message(response)}"
                    reason = "http_5xx" if response.status_code >= 500 else "http_4xx"
                    if response.status_code != 429 and response.status_code < 500:
                        if response.status_code in (401, 403) and endpoint.api_key_env:
                            problem += f" (is ${endpoint.api_key_env} set to a valid key?)"
                        raise ChatError(f"{url}: {problem}", reason=reason)
            if attempt < self.max_retries:
                await asyncio.sleep(retry_delay(response, self.backoff, attempt))
        raise ChatError(f"{url}: {problem} (gave up after {self.max_retries + 1} attempts)", reason=reason)
