from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest

from routecraft.embed import EmbeddingAPIError, OpenAIEmbedder, make_embedder


def _vector(text: str, dim: int) -> list[float]:
    return np.random.default_rng(len(text) + sum(text.encode())).standard_normal(dim).tolist()


def _ok_body(texts: list[str], dim: int = 4) -> dict:
    # answer in reverse order: clients must sort by "index"
    items = [{"object": "embedding", "index": i, "embedding": _vector(t, dim)} for i, t in enumerate(texts)]
    return {"object": "list", "data": items[::-1], "model": "m"}


class Script:
    """A MockTransport handler that replays (status, body) pairs, then answers OK."""

    def __init__(self, *replies: tuple[int, object]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        texts = json.loads(request.content)["input"]
        if self.replies:
            status, body = self.replies.pop(0)
            if isinstance(body, str):
                return httpx.Response(status, text=body, headers={"retry-after": "0"})
            return httpx.Response(status, json=body)
        return httpx.Response(200, json=_ok_body(texts))


def _embedder(script: Script, **kwargs) -> OpenAIEmbedder:
    kwargs = {"backoff": 0.0, "transport": httpx.MockTransport(script), **kwargs}
    return OpenAIEmbedder("text-embedding-3-small", **kwargs)


def test_batches_orders_by_index_and_learns_the_dimension(monkeypatch, assert_unit_rows):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    script = Script()
    emb = _embedder(script, batch_size=2)
    assert emb.dim == 0
    texts = ["alpha", "beta", "gamma"]
    vecs = emb.encode(texts)
    assert_unit_rows(vecs, 3, 4)
    expected = np.array([_vector(t, 4) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(vecs, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)
    assert [json.loads(r.content)["input"] for r in script.requests] == [["alpha", "beta"], ["gamma"]]
    first = script.requests[0]
    assert first.url == "https://api.openai.com/v1/embeddings"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert json.loads(first.content)["model"] == "text-embedding-3-small"


def test_configured_dimension_is_requested_and_checked():
    script = Script()
    emb = _embedder(script, dim=4, api_key_env="ROUTECRAFT_TEST_NO_SUCH_KEY")
    emb.encode(["x"])
    assert json.loads(script.requests[0].content)["dimensions"] == 4
    assert "authorization" not in script.requests[0].headers
    with pytest.raises(EmbeddingAPIError, match="dimension 8, got 4"):
        _embedder(Script(), dim=8).encode(["x"])


def test_retries_rate_limits_and_server_errors_then_succeeds():
    script = Script((500, "boom"), (429, {"error": {"message": "slow down"}}), (503, "busy"))
    vecs = _embedder(script, max_retries=3).encode(["x"])
    assert vecs.shape == (1, 4) and len(script.requests) == 4


def test_gives_up_after_max_retries_with_the_last_problem():
    script = Script(*[(502, "bad gateway")] * 3)
    with pytest.raises(EmbeddingAPIError, match=r"HTTP 502: bad gateway \(gave up after 3 attempts\)"):
        _embedder(script, max_retries=2).encode(["x"])


def test_transport_errors_are_retried():
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=_ok_body(["x"]))

    emb = OpenAIEmbedder("m", backoff=0.0, transport=httpx.MockTransport(flaky))
    assert emb.encode(["x"]).shape == (1, 4) and len(calls) == 2


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (400, {"error": {"message": "input too long"}}, "HTTP 400: input too long"),
        (401, {"error": {"message": "bad key"}}, r"bad key \(is \$OPENAI_API_KEY set"),
    ],
)
def test_client_errors_are_not_retried(status, body, match):
    script = Script((status, body))
    with pytest.raises(EmbeddingAPIError, match=match):
        _embedder(script).encode(["x"])
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("this is not json", "malformed embeddings response"),
        ({"nodata": []}, "malformed embeddings response"),
        ({"data": [{"index": 0, "embedding": [1.0, 2.0]}]}, "expected 2 embeddings"),
        ({"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}]}, "malformed|equal length"),
    ],
)
def test_bad_responses_raise_clear_errors(body, match):
    with pytest.raises(EmbeddingAPIError, match=match) as info:
        _embedder(Script((200, body))).encode(["x", "y"])
    assert "https://api.openai.com/v1/embeddings" in str(info.value) and "\n" not in str(info.value)


def test_spec_with_base_url_round_trips():
    emb = make_embedder("openai:nomic-embed-text:v1.5@http://127.0.0.1:9/v1").inner
    assert (emb.model, emb.base_url, emb.url) == ("nomic-embed-text:v1.5", "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/embeddings")
    assert make_embedder(emb.name).name == emb.name


# ------------------------------------------------------------- a real local server
class _StubHandler(BaseHTTPRequestHandler):
    replies: list[tuple[int, str]] = []
    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        status, text = type(self).replies.pop(0) if type(self).replies else (200, json.dumps(_ok_body(body["input"], 3)))
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture
def stub_server():
    handler = type("Handler", (_StubHandler,), {"replies": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_real_http_path_retries_a_500_then_succeeds(stub_server, monkeypatch, assert_unit_rows):
    base_url, handler = stub_server
    monkeypatch.setenv("STUB_KEY", "sk-local")
    handler.replies.append((500, '{"error": {"message": "try again"}}'))
    emb = OpenAIEmbedder("local-model", base_url, api_key_env="STUB_KEY", backoff=0.0, timeout=5.0)
    assert_unit_rows(emb.encode(["one", "two"]), 2, 3)
    assert len(handler.seen) == 2
    assert handler.seen[-1]["path"] == "/v1/embeddings" and handler.seen[-1]["auth"] == "Bearer sk-local"


def test_real_http_path_reports_malformed_json(stub_server):
    base_url, handler = stub_server
    handler.replies.append((200, "{not json"))
    with pytest.raises(EmbeddingAPIError, match=r"/v1/embeddings: malformed embeddings response.*not json"):
        OpenAIEmbedder("local-model", base_url, backoff=0.0, timeout=5.0).encode(["one"])


def test_cached_remote_embedder_calls_the_server_once(stub_server, tmp_path, monkeypatch):
    base_url, handler = stub_server
    monkeypatch.setenv("ROUTECRAFT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ROUTECRAFT_NO_CACHE", raising=False)
    emb = make_embedder(f"openai:local-model@{base_url}")
    emb.inner.backoff = 0.0
    first = emb.encode(["one", "two"])
    np.testing.assert_array_equal(make_embedder(f"openai:local-model@{base_url}").encode(["two", "one"]), first[::-1])
    assert len(handler.seen) == 1
