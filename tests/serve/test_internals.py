"""The server's parts that races and load exercise, tested directly and deterministically.

- the SSE relay when the client hangs up right after ``[DONE]`` (the openai client does);
- the routing log's batched writer: row order, ``flush``, dropping when full;
- the aiohttp transport's exceptions, mapped onto the httpx classes retries depend on;
- upstream requests built from a ready stream (httpx's headers, exactly) and whole-body reads.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import sqlite3
import threading

import httpx
import pytest

pytest.importorskip("aiohttp")

from routecraft.serve._log import COLUMNS, LogRecord, RoutingLog  # noqa: E402
from routecraft.serve._sse import StreamEnd, relay  # noqa: E402
from routecraft.serve._transport import AiohttpTransport  # noqa: E402
from routecraft.serve._upstream import Answer  # noqa: E402


class _Model:
    name = "m"


class _Rest:
    """An upstream byte iterator that has nothing more, whose close blocks until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        await self.release.wait()


@pytest.mark.parametrize("before_done", [False, True])
def test_client_hanging_up_after_done_is_a_success_before_it_a_499(before_done):
    async def scenario() -> StreamEnd:
        rest = _Rest()
        events = b'data: {"choices": []}\n\n' + (b"" if before_done else b"data: [DONE]\n\n")
        ends: list[StreamEnd] = []
        stream = relay(Answer(_Model(), 200, [], first=events, rest=rest), ends.append)
        got = asyncio.Event()

        async def client() -> None:
            async for _ in stream:
                got.set()

        task = asyncio.create_task(client())
        await got.wait()
        for _ in range(5):  # let the relay reach the upstream's close, which blocks
            await asyncio.sleep(0)
        task.cancel()  # the client leaves (Starlette cancels the response task)
        with pytest.raises(asyncio.CancelledError):
            await task
        rest.release.set()
        await asyncio.sleep(0)
        return ends[0]

    end = asyncio.run(scenario())
    if before_done:
        assert end.client_gone and end.error == "client_disconnected"
    else:
        assert not end.client_gone and end.error is None


def _record(i: int) -> LogRecord:
    return LogRecord(float(i), f"req-{i}", "router-sw-0.5", "sw", "threshold=0.5", "weak", "weak", 0.25, 0.4,
                     21.0, 10, 3, 1e-6, 200, None, ["weak:200"], False, None)


def test_log_rows_follow_the_columns_and_flush_waits_for_them(tmp_path):
    log = RoutingLog(tmp_path / "r.db", interval_s=60.0)  # the timer never fires here: flush must wake it
    try:
        for i in range(3):
            log.write(_record(i))
        assert log.flush(timeout=10.0)
        conn = sqlite3.connect(tmp_path / "r.db")
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM requests ORDER BY ts")]
        conn.close()
    finally:
        log.close()
    assert [r["request_id"] for r in rows] == ["req-0", "req-1", "req-2"]
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    assert rows[0]["fallback_path"] == '["weak:200"]' and rows[0]["stream"] == 0 and rows[0]["score"] == 0.25


def test_log_drops_and_counts_when_full(tmp_path):
    dropped: list[int] = []
    log = RoutingLog(tmp_path / "r.db", max_queue=2, interval_s=60.0, on_drop=dropped.append)
    try:
        for i in range(5):
            log.write(_record(i))
        assert log.dropped == 3 and dropped == [1, 1, 1]
        assert log.flush(timeout=10.0) and log.written == 2
    finally:
        log.close()


def _closing_server() -> tuple[socket.socket, threading.Thread]:
    """127.0.0.1 listener that accepts, reads the request and closes without answering."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = srv.accept()
            conn.recv(65536)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return srv, thread


def test_transport_maps_connect_and_reset_failures_onto_httpx():
    async def call(url: str) -> None:
        transport = AiohttpTransport(httpx.Limits(max_connections=10))
        try:
            request = httpx.Request("POST", url, content=b"{}",
                                    extensions={"timeout": httpx.Timeout(5.0, connect=1.0).as_dict()})
            await transport.handle_async_request(request)
        finally:
            await transport.aclose()

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        asyncio.run(call(f"http://127.0.0.1:{free}/v1/chat/completions"))
    srv, thread = _closing_server()
    try:
        with pytest.raises(httpx.RemoteProtocolError):  # "reset": retried, then the next model
            asyncio.run(call(f"http://127.0.0.1:{srv.getsockname()[1]}/v1/chat/completions"))
    finally:
        thread.join(10)
        srv.close()


def test_upstream_request_is_what_httpx_would_build_from_the_content(tmp_path, artifact):
    """Requests built from a ready stream carry exactly httpx's own headers (Host, Content-Length) and body."""
    from routecraft.serve import load_config
    from routecraft.serve._metrics import Metrics
    from routecraft.serve._upstream import Upstreams

    from .conftest import UPSTREAM_KEY, write_config

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})

    config = load_config(write_config(tmp_path, artifact, "http://127.0.0.1:9/v1", log=False))
    upstreams = Upstreams(config, Metrics(), httpx.MockTransport(handler))
    body = {"model": "balanced", "messages": [{"role": "user", "content": "héllo"}], "max_tokens": 4}
    answer = asyncio.run(upstreams.call(["weak-model"], body, stream=False))
    assert answer.status == 200 and answer.path == ["weak-model:200"]
    payload = json.dumps({**body, "model": "ok-weak"}, ensure_ascii=False).encode()
    expected = httpx.Request("POST", config.models["weak-model"].chat_url, content=payload, headers={
        "content-type": "application/json", "accept": "application/json", "authorization": f"Bearer {UPSTREAM_KEY}"})
    (request,) = seen
    assert request.content == payload and request.url == expected.url
    assert sorted(request.headers.multi_items()) == sorted(expected.headers.multi_items())


def test_read_body_reads_the_aiohttp_stream_whole_and_decodes_compressed_bodies():
    """``read_body`` equals ``aread``: identity bodies straight from aiohttp, gzip through httpx's decoder."""
    from routecraft.serve import StubUpstream
    from routecraft.serve._transport import _Body, read_body

    async def via_aiohttp(url: str) -> tuple[bytes, bool]:
        transport = AiohttpTransport(httpx.Limits(max_connections=10))
        try:
            request = httpx.Request("POST", url, content=json.dumps(
                {"model": "ok-weak", "messages": [{"role": "user", "content": "hi"}]}).encode(),
                extensions={"timeout": httpx.Timeout(5.0, connect=1.0).as_dict()})
            response = await transport.handle_async_request(request)
            body = await read_body(response)
            await response.aclose()
            return body, isinstance(response.stream, _Body)
        finally:
            await transport.aclose()

    with StubUpstream() as stub:
        body, direct = asyncio.run(via_aiohttp(f"{stub.base_url}/chat/completions"))
    assert direct and json.loads(body)["object"] == "chat.completion"

    answer = json.dumps({"choices": [{"message": {"content": "x" * 500}}]}).encode()

    async def compressed() -> bytes:
        response = httpx.Response(200, headers={"content-encoding": "gzip"}, content=gzip.compress(answer))
        return await read_body(response)

    assert asyncio.run(compressed()) == answer
