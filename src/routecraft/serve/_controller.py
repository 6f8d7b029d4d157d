"""In-process routing without a server, mirroring RouteLLM's ``Controller``.

    from routecraft.serve import Controller
    client = Controller("server.toml")
    reply = client.chat.completions.create(model="router-sw-0.5", messages=[{"role": "user", "content": "hi"}])
    client.route("Prove that √2 is irrational", model="router-sw-0.5").model

:class:`AsyncController` is the asynchronous original (``await client.chat.completions.create``);
:class:`Controller` is its synchronous mirror, running the same coroutines on a private
event-loop thread, so both share one implementation of routing, fallback and the log.
Replies are the upstream's JSON as dicts; a stream is an iterator of chunk dicts.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, Sequence

import httpx
import numpy as np

from ._config import ServerConfig, load_config
from ._engine import Engine, RequestError
from ._routing import Decision, routing_text


def _as_messages(prompt: str | Sequence[dict]) -> list[dict]:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


async def _chunks(stream: AsyncIterator[bytes]) -> AsyncIterator[dict]:
    """Parse relayed SSE bytes into chunk dicts; an error event raises :class:`RequestError`."""
    async for events in stream:
        for event in events.replace(b"\r\n", b"\n").split(b"\n\n"):
            data = b"\n".join(line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:"))
            if not data or data == b"[DONE]":
                continue
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                err = chunk["error"]
                raise RequestError(502, err.get("message", "stream failed"), code=err.get("code"), type_="upstream_error")
            yield chunk


class _AsyncCompletions:
    def __init__(self, owner: "AsyncController") -> None:
        self._owner = owner

    async def create(self, **kwargs: Any) -> dict | AsyncIterator[dict]:
        """Same arguments as OpenAI's ``chat.completions.create``; ``model`` selects the route."""
        result = await self._owner.engine.handle(kwargs, self._owner.engine.new_request_id())
        result.done()
        if result.stream is not None:
            return _chunks(result.stream)
        body = json.loads(result.body) if result.body else {}
        if result.status != 200:
            err = body.get("error", {}) if isinstance(body, dict) else {}
            raise RequestError(result.status, err.get("message", f"upstream status {result.status}"),
                               code=err.get("code"), type_=err.get("type", "upstream_error"))
        return body


class _Namespace:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


class AsyncController:
    """Route and call upstreams in-process (asyncio). ``config``: a ``server.toml`` path or a parsed config."""

    def __init__(self, config: str | Path | ServerConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config if isinstance(config, ServerConfig) else load_config(config)
        self.engine = Engine(self.config, transport)
        self.chat = _Namespace(completions=_AsyncCompletions(self))

    async def acompletion(self, **kwargs: Any) -> dict | AsyncIterator[dict]:
        return await self.chat.completions.create(**kwargs)

    def route(self, prompt: str | Sequence[dict], model: str) -> Decision:
        """The decision for ``prompt`` (text or messages) under ``model``, without calling any upstream."""
        table = self.engine.table
        try:
            route = table.resolve(model)
        except Exception as exc:
            raise RequestError(404, str(exc), "model", "model_not_found") from None
        return table.decide_now(route, _as_messages(prompt))

    def batch_calculate_win_rate(self, prompts: Sequence[str], router: str) -> np.ndarray:
        """RouteLLM's P(strong wins) for each prompt under ``router``'s strong/weak pair, in one batch."""
        table = self.engine.table
        if router not in table.routers or table.routers[router].pair is None:
            raise RequestError(404, f"no router {router!r} with a strong/weak pair", "router")
        r = table.routers[router]
        texts = [routing_text(_as_messages(p), table.max_chars) for p in prompts]
        s, w = (r.router.models_[i] for i in r.pair)
        return r.router.pair_score(texts, s, w)

    async def aclose(self) -> None:
        await self.engine.aclose()

    async def __aenter__(self) -> "AsyncController":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class _SyncCompletions:
    def __init__(self, owner: "Controller") -> None:
        self._owner = owner

    def create(self, **kwargs: Any) -> dict | Iterator[dict]:
        owner = self._owner
        result = owner._run(owner._async.chat.completions.create(**kwargs))
        if isinstance(result, dict):
            return result
        return owner._iterate(result)


class Controller:
    """Synchronous mirror of :class:`AsyncController` (same arguments, same results)."""

    def __init__(self, config: str | Path | ServerConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="routecraft-controller", daemon=True)
        self._thread.start()
        self._async = self._run(self._make(config, transport))
        self.config = self._async.config
        self.chat = _Namespace(completions=_SyncCompletions(self))

    @staticmethod
    async def _make(config: Any, transport: Any) -> AsyncController:
        return AsyncController(config, transport=transport)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _iterate(self, stream: AsyncIterator[dict]) -> Iterator[dict]:
        while True:
            try:
                yield self._run(stream.__anext__())
            except StopAsyncIteration:
                return

    def completion(self, **kwargs: Any) -> dict | Iterator[dict]:
        return self.chat.completions.create(**kwargs)

    def route(self, prompt: str | Sequence[dict], model: str) -> Decision:
        return self._async.route(prompt, model)

    def batch_calculate_win_rate(self, prompts: Sequence[str], router: str) -> np.ndarray:
        return self._async.batch_calculate_win_rate(prompts, router)

    def close(self) -> None:
        if self._loop.is_running():
            self._run(self._async.aclose())
            self._run(self._loop.shutdown_asyncgens())  # finalise httpx's byte iterators on their own loop
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "Controller":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
