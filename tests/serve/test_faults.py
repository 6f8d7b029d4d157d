"""Fault injection with one healthy model: no request lost or hung, every failure in the log and /metrics."""

from __future__ import annotations

import concurrent.futures
import json

import httpx
import openai
import pytest

from .conftest import CLIENT_KEY
from .test_server import client, rows

AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}
N_REQUESTS = 12


def _post(server, model: str, stream: bool = False) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "Solve for x: 3x + 4 = 10."}], "stream": stream}
    with httpx.Client(timeout=30) as c:  # far above every configured upstream timeout: a hang would fail here
        return c.post(server.url + "/v1/chat/completions", json=body, headers=AUTH)


@pytest.mark.parametrize("fault, kind", [("fail-500", "status_500"), ("fail-429", "status_429"),
                                         ("hang", "timeout"), ("reset", "reset")])
@pytest.mark.parametrize("stream", [False, True])
def test_failing_strong_model_falls_back_to_healthy_weak(make_server, tmp_path, stub, fault, kind, stream):
    server = make_server(strong=fault, timeout_s=0.5)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: _post(server, "router-sw-0.0", stream), range(N_REQUESTS)))
    assert [r.status_code for r in responses] == [200] * N_REQUESTS  # none lost
    for r in responses:
        assert r.headers["x-routecraft-model"] == "strong-model"  # the policy's choice ...
        assert r.headers["x-routecraft-served-by"] == "weak-model"  # ... answered by the fallback
        if stream:
            assert r.text.rstrip().endswith("data: [DONE]") and "error" not in r.text
        else:
            assert r.json()["choices"][0]["message"]["content"].startswith("echo:")
    logged = rows(tmp_path, N_REQUESTS)
    assert len(logged) == N_REQUESTS
    paths = [json.loads(r["fallback_path"]) for r in logged]
    assert all(p[-1] == "weak-model:200" and r["model"] == "weak-model" for p, r in zip(paths, logged))
    assert all(any(step.startswith("strong-model:") for step in p[:-1]) for p in paths)
    # the breaker (3 failures) opens: later requests skip the failing model without waiting on it
    assert any(p[0] == "strong-model:circuit_open" for p in paths)
    metrics = httpx.get(server.url + "/metrics").text
    assert f'routecraft_upstream_errors_total{{kind="{kind}",model="strong-model"}}' in metrics
    assert 'routecraft_fallbacks_total{routed="strong-model",served="weak-model"}' in metrics
    assert 'routecraft_circuit_open{model="strong-model"} 1.0' in metrics
    assert httpx.get(server.url + "/healthz").json()["circuits"]["strong-model"] == "open"


def test_retries_on_the_same_model_before_falling_back(make_server, tmp_path, stub):
    server = make_server(strong="fail-500")
    assert _post(server, "router-sw-0.0").status_code == 200
    (row,) = rows(tmp_path, 1)
    assert json.loads(row["fallback_path"]) == [
        "strong-model:status_500:retry", "strong-model:status_500:retry", "strong-model:status_500", "weak-model:200"]
    assert stub.calls["fail-500"] == 3


def test_mid_stream_failure_ends_with_an_sse_error_event(make_server, tmp_path):
    server = make_server(strong="midstream")
    stream = client(server).chat.completions.create(
        model="router-sw-0.0", messages=[{"role": "user", "content": "one two three four five six"}], stream=True)
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert "failed mid-stream" in info.value.message and len(received) >= 2  # partial answer, then the error
    r = _post(server, "router-sw-0.0", stream=True)
    events = [e for e in r.text.split("\n\n") if e.strip()]
    assert events[-1].startswith("event: error\ndata: ")
    assert json.loads(events[-1].split("data: ", 1)[1])["error"]["code"] == "upstream_stream_interrupted"
    logged = rows(tmp_path, 2)
    assert [r["error"] for r in logged] == ["reset", "reset"]
    assert 'routecraft_requests_total{model="strong-model",router="sw",status="200"} 2.0' in httpx.get(
        server.url + "/metrics").text


def test_every_model_failing_is_a_502_openai_error(make_server, tmp_path):
    server = make_server(strong="fail-500", weak="reset", coder="fail-500")
    r = _post(server, "router-sw-0.0")
    assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_unavailable"
    (row,) = rows(tmp_path, 1)
    assert row["status"] == 502 and row["model"] is None and row["error"] == "all_upstreams_failed"
    assert summarise_errors(tmp_path)["statuses"] == {"502": 1}


def test_unreachable_upstream_falls_back(tmp_path, artifact, stub):
    from routecraft.serve import create_app, load_config

    from .conftest import LiveServer, write_config

    path = write_config(tmp_path, artifact, stub.base_url)
    text = path.read_text().replace(stub.base_url, "http://127.0.0.1:9/v1", 1)  # first model: nothing listens
    path.write_text(text)
    with LiveServer(create_app(load_config(path))) as server:
        r = _post(server, "router-sw-0.0")
    assert r.status_code == 200 and r.headers["x-routecraft-served-by"] == "weak-model"
    assert json.loads(rows(tmp_path, 1)[0]["fallback_path"])[0] == "strong-model:connect:retry"


def summarise_errors(tmp_path):
    from routecraft.serve import summarise_log

    return summarise_log(tmp_path / "routing.db")


def test_client_leaving_mid_stream_is_logged_as_499(make_server, tmp_path):
    server = make_server(weak="slow-stream")
    body = {"model": "router-sw-1.0", "messages": [{"role": "user", "content": "one two three four five six"}],
            "stream": True}
    with httpx.Client(timeout=30) as c:
        with c.stream("POST", server.url + "/v1/chat/completions", json=body, headers=AUTH) as r:
            assert r.status_code == 200
            next(r.iter_raw())  # the first event, then hang up while the upstream is still streaming
    (row,) = rows(tmp_path, 1)
    assert row["status"] == 499 and row["error"] == "client_disconnected" and row["model"] == "weak-model"
    assert 'status="499"' in httpx.get(server.url + "/metrics").text
