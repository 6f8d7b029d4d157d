"""A small OpenAI-compatible upstream on 127.0.0.1, for tests, benchmarks and trying the server offline.

It answers ``POST /v1/chat/completions`` (JSON or SSE stream) after a fixed latency, and
injects faults chosen by the request's ``model`` — which the server sends as a model's
``upstream_model`` — so one stub plays a healthy model and every kind of broken one:

=================  ==========================================================
``model``          behaviour
=================  ==========================================================
``fail-500``       HTTP 500 with an OpenAI-style error body
``fail-429``       HTTP 429 with ``Retry-After: 0``
``hang``           reads the request and never answers (until the stub stops)
``reset``          closes the connection without answering
``midstream``      streams two content events, then drops the connection
``slow-stream``    streams its events 0.2 s apart
anything else      a normal answer (``"echo: <last user message>"``)
=================  ==========================================================

Raw asyncio streams, HTTP/1.1 keep-alive, no dependencies: the stub must never be the
bottleneck of a load test. ``python -m routecraft.serve._stub --port 0 --latency-ms 20``
runs it as a process and prints ``READY <port>``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import threading
import time

_REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


def _completion(model: str, text: str, prompt_tokens: int) -> dict:
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                  "total_tokens": prompt_tokens + len(text.split())},
    }


def _chunk(model: str, delta: dict, finish: str | None = None) -> bytes:
    body = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class StubUpstream:
    """Run the stub in a daemon thread: ``with StubUpstream(latency_s=0.01) as stub: stub.base_url``."""

    def __init__(self, latency_s: float = 0.0, n_chunks: int = 3, host: str = "127.0.0.1", port: int = 0) -> None:
        self.latency_s, self.n_chunks, self.host, self.port = latency_s, n_chunks, host, port
        self.calls: collections.Counter = collections.Counter()
        self.auth: collections.Counter = collections.Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # ------------------------------------------------------------- protocol
    async def _send(self, writer: asyncio.StreamWriter, status: int, body: bytes, extra: str = "") -> None:
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n{extra}\r\n")
        writer.write(head.encode() + body)
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter, model: str, text: str, usage: bool, broken: bool,
                      gap_s: float = 0.0) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")

        def chunk(data: bytes) -> None:
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        words = text.split()
        pieces = [" ".join(words[i::self.n_chunks]) for i in range(self.n_chunks)] if words else [""]
        chunk(_chunk(model, {"role": "assistant", "content": ""}))
        for i, piece in enumerate(pieces):
            if broken and i == 2:
                await writer.drain()
                writer.transport.abort()
                return
            chunk(_chunk(model, {"content": piece + " "}))
            if gap_s:
                await writer.drain()
                await asyncio.sleep(gap_s)
        chunk(_chunk(model, {}, "stop"))
        if usage:
            body = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "model": model, "choices": [],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(words), "total_tokens": 1 + len(words)}}
            chunk(b"data: " + json.dumps(body).encode() + b"\n\n")
        chunk(b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path = (lines[0].split(" ") + ["", ""])[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
                raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                if method == "GET" and path.endswith("/models"):
                    await self._send(writer, 200, json.dumps({"object": "list", "data": []}).encode())
                    continue
                if method != "POST" or not path.endswith("/chat/completions"):
                    await self._send(writer, 404, b'{"error": {"message": "not found", "type": "invalid_request_error"}}')
                    continue
                body = json.loads(raw or b"{}")
                model = str(body.get("model", ""))
                self.calls[model] += 1
                self.auth[headers.get("authorization", "")] += 1
                if model == "reset":
                    writer.transport.abort()
                    return
                if model == "hang":
                    await asyncio.sleep(3600)
                    return
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                if model == "fail-500":
                    await self._send(writer, 500, b'{"error": {"message": "stub failure", "type": "server_error"}}')
                    continue
                if model == "fail-429":
                    await self._send(writer, 429, b'{"error": {"message": "slow down", "type": "rate_limit"}}',
                                     "retry-after: 0\r\n")
                    continue
                messages = body.get("messages") or [{}]
                last = messages[-1].get("content", "") if isinstance(messages[-1], dict) else ""
                text = f"echo: {last if isinstance(last, str) else 'parts'}"
                if body.get("stream"):
                    usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    await self._stream(writer, model, text, usage, model == "midstream",
                                       0.2 if model == "slow-stream" else 0.0)
                    if model == "midstream":
                        return
                    continue
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
                await self._send(writer, 200, json.dumps(_completion(model, text, prompt_tokens)).encode())
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    # ------------------------------------------------------------ lifecycle
    async def serve(self, ready: threading.Event | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set()
        async with self._server:
            try:
                await self._server.serve_forever()
            except asyncio.CancelledError:
                pass

    def start(self) -> "StubUpstream":
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve(ready)), name="stub-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("stub upstream did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is None or self._server is None:
            return

        def shutdown() -> None:
            for w in list(self._writers):
                w.transport.abort()
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        self._loop.call_soon_threadsafe(shutdown)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "StubUpstream":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--chunks", type=int, default=3)
    args = parser.parse_args(argv)
    stub = StubUpstream(args.latency_ms / 1000.0, args.chunks, port=args.port)
    try:
        import uvloop  # type: ignore[import-not-found]

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run

    async def run() -> None:
        ready = threading.Event()
        task = asyncio.ensure_future(stub.serve(ready))
        while not ready.is_set():
            await asyncio.sleep(0.01)
        print(f"READY {stub.port}", flush=True)
        await task

    try:
        runner(run())
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
