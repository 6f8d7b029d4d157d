"""Any OpenAI-compatible ``/v1/embeddings`` endpoint, called with httpx.

Never used by default and never needed by tests: the httpx transport is a
constructor argument, so tests swap the network for ``httpx.MockTransport`` or a
local stub server. Rate limits (429) and server errors (5xx) are retried with
exponential backoff (honouring ``Retry-After``); every other failure raises an
:class:`EmbeddingAPIError` whose one-line message names the URL and the problem.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import httpx
import numpy as np

from .._errors import RoutecraftError
from .._http import retry_delay, server_message
from ._base import Embedder

OPENAI_BASE_URL = "https://api.openai.com/v1"


class EmbeddingAPIError(RoutecraftError):
    """An embeddings endpoint failed or answered something that is not an embeddings response."""


class OpenAIEmbedder(Embedder):
    """Embeddings from an OpenAI-compatible server.

    Parameters
    ----------
    model : str
        Model name sent in the request.
    base_url : str
        Up to and including ``/v1``; ``/embeddings`` is appended.
    dim : int, optional
        Requested via ``dimensions`` and checked; if omitted, learned from the first response.
    api_key_env : str
        Environment variable holding the API key (no ``Authorization`` header when unset).
    batch_size, timeout, max_retries, backoff
        Texts per request, seconds per request, retries after the first attempt,
        and the first retry delay in seconds (doubling each time).
    transport : httpx.BaseTransport, optional
        Replaces the network, e.g. ``httpx.MockTransport(handler)`` in tests.
    """

    def __init__(
        self,
        model: str,
        base_url: str = OPENAI_BASE_URL,
        *,
        dim: int | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        batch_size: int = 256,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not model:
            raise RoutecraftError("openai embedder needs a model name: 'openai:<model>[@<base_url>]'")
        self.model = model
        self.base_url = base_url
        self.dim = dim or 0
        self.api_key_env = api_key_env
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.transport = transport
        self.name = f"openai:{model}" if base_url == OPENAI_BASE_URL else f"openai:{model}@{base_url}"
        self._requested_dim = dim
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/embeddings"

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(transport=self.transport, timeout=self.timeout)
            return self._client

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.concatenate(
            [self._request(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        )

    def _request(self, batch: list[str]) -> np.ndarray:
        body: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self._requested_dim:
            body["dimensions"] = self._requested_dim
        headers = {}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        for attempt in range(self.max_retries + 1):
            response: httpx.Response | None = None
            try:
                response = self._http().post(self.url, json=body, headers=headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return self._parse(response, len(batch))
                problem = f"HTTP {response.status_code}: {server_message(response)}"
                if response.status_code != 429 and response.status_code < 500:
                    if response.status_code in (401, 403):
                        problem += f" (is ${self.api_key_env} set to a valid key?)"
                    raise EmbeddingAPIError(f"{self.url}: {problem}")
            if attempt < self.max_retries:
                time.sleep(retry_delay(response, self.backoff, attempt))
        raise EmbeddingAPIError(f"{self.url}: {problem} (gave up after {self.max_retries + 1} attempts)")

    def _parse(self, response: httpx.Response, n: int) -> np.ndarray:
        try:
            data = response.json()["data"]
            rows = sorted(data, key=lambda item: item.get("index", 0))
            vecs = np.array([item["embedding"] for item in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            snippet = response.text[:120].replace("\n", " ")
            raise EmbeddingAPIError(
                f"{self.url}: malformed embeddings response ({type(exc).__name__}: {exc}); body starts {snippet!r}"
            ) from None
        if vecs.ndim != 2 or vecs.shape[0] != n or vecs.shape[1] == 0:
            raise EmbeddingAPIError(f"{self.url}: expected {n} embeddings of equal length, got shape {vecs.shape}")
        if not self.dim:
            self.dim = vecs.shape[1]
        elif vecs.shape[1] != self.dim:
            raise EmbeddingAPIError(f"{self.url}: expected embeddings of dimension {self.dim}, got {vecs.shape[1]}")
        return vecs
