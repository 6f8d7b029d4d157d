"""The server end to end on 127.0.0.1: the unmodified openai client, routing, auth, errors, the log, metrics."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import openai
import pytest

from routecraft.artifact import load_router
from routecraft.serve import summarise_log

from .conftest import CLIENT_KEY

MATH = "Solve for x: 3x + 4 = 10."
HELLO = "Say hello to my friend number 7."


def client(server, key: str = CLIENT_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=20)


def rows(tmp_path, wait_for: int, timeout: float = 10.0) -> list[dict]:
    """Routing-log rows, once the batched writer has flushed ``wait_for`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        conn = sqlite3.connect(tmp_path / "routing.db")
        conn.row_factory = sqlite3.Row
        out = [dict(r) for r in conn.execute("SELECT * FROM requests ORDER BY ts")]
        conn.close()
        if len(out) >= wait_for or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def test_openai_client_non_stream_routes_and_reports_decision(make_server, artifact, tmp_path):
    server = make_server()
    router = load_router(artifact)
    score = float(router.pair_score([MATH], "strong-model", "weak-model")[0])
    for threshold, expected in ((0.0, "strong-model"), (1.0, "weak-model"), (score, "strong-model")):
        raw = client(server).chat.completions.with_raw_response.create(
            model=f"router-sw-{threshold!r}", messages=[{"role": "user", "content": MATH}])
        reply = raw.parse()
        assert raw.headers["x-routecraft-model"] == expected
        assert raw.headers["x-routecraft-router"] == "sw"
        assert float(raw.headers["x-routecraft-score"]) == pytest.approx(score, abs=1e-6)
        assert reply.choices[0].message.content == f"echo: {MATH}"
        assert reply.model == "ok-strong" if expected == "strong-model" else "ok-weak"
    logged = rows(tmp_path, 3)
    assert [r["model"] for r in logged] == ["strong-model", "weak-model", "strong-model"]
    assert all(r["status"] == 200 and r["tokens_in"] > 0 and r["cost_usd"] > 0 for r in logged)
    assert logged[0]["prompt"] is None  # prompts are not logged unless enabled


def test_openai_client_streams_chunk_by_chunk(make_server, tmp_path):
    server = make_server()
    stream = client(server).chat.completions.create(
        model="balanced", messages=[{"role": "user", "content": "one two three four five six"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert sorted(text.split()) == sorted("echo: one two three four five six".split())
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 7
    (row,) = rows(tmp_path, 1)
    assert row["stream"] == 1 and row["status"] == 200 and row["error"] is None and row["tokens_out"] == 7


def test_passthrough_cost_policy_multi_turn_and_models(make_server, tmp_path):
    server = make_server()
    c = client(server)
    raw = c.chat.completions.with_raw_response.create(model="coder-model", messages=[{"role": "user", "content": "x"}])
    assert raw.headers["x-routecraft-model"] == "coder-model" and raw.headers["x-routecraft-router"] == ""
    # a huge lam always picks the cheapest model (weak-model, 0.5 $/Mtok)
    raw = c.chat.completions.with_raw_response.create(model="cheap", messages=[
        {"role": "system", "content": "be brief"}, {"role": "user", "content": MATH},
        {"role": "assistant", "content": "x = 2"}, {"role": "user", "content": "and 5x + 1 = 11?"}])
    assert raw.headers["x-routecraft-model"] == "weak-model"
    assert {m.id for m in c.models.list()} >= {"balanced", "cheap", "router-sw-0.5", "strong-model", "weak-model"}


def test_multi_turn_routes_on_the_user_turns(make_server, artifact):
    server = make_server()
    router = load_router(artifact)
    turns = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": MATH},
             {"role": "assistant", "content": "x = 2"}, {"role": "user", "content": HELLO}]
    raw = client(server).chat.completions.with_raw_response.create(model="router-sw-0.5", messages=turns)
    expected = router.pair_score([f"{MATH}\n\n{HELLO}"], "strong-model", "weak-model")[0]
    assert float(raw.headers["x-routecraft-score"]) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_wrong_or_missing_key_is_401_openai_style(make_server, key):
    server = make_server()
    headers = {} if key is None else {"authorization": f"Bearer {key}"}
    r = httpx.post(server.url + "/v1/chat/completions", headers=headers,
                   json={"model": "balanced", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key" and r.json()["error"]["type"] == "invalid_request_error"
    assert httpx.get(server.url + "/v1/models", headers=headers).status_code == 401
    with pytest.raises(openai.AuthenticationError):
        client(server, key or "x").chat.completions.create(model="balanced", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    "body, param",
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(), "model"),
        (json.dumps({"model": "balanced"}).encode(), "messages"),
        (json.dumps({"model": "balanced", "messages": []}).encode(), "messages"),
        (json.dumps({"model": "balanced", "messages": [{"role": "wizard", "content": "hi"}]}).encode(), "messages[0].role"),
        (json.dumps({"model": "balanced", "messages": [{"role": "user", "content": 3}]}).encode(), "messages[0].content"),
        (json.dumps({"model": "balanced", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}).encode(), "stream"),
    ],
)
def test_malformed_body_is_400_openai_style(make_server, body, param):
    server = make_server()
    r = httpx.post(server.url + "/v1/chat/completions", content=body,
                   headers={"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param and err["message"]


@pytest.mark.parametrize("model", ["nope", "router-sw-1.5", "router-sw-abc", "router-zz-0.5"])
def test_unknown_model_is_404_model_not_found(make_server, model):
    server = make_server()
    with pytest.raises(openai.NotFoundError) as info:
        client(server).chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert info.value.code == "model_not_found"


def test_healthz_and_metrics(make_server):
    server = make_server()
    client(server).chat.completions.create(model="router-sw-0.0", messages=[{"role": "user", "content": "hi"}])
    health = httpx.get(server.url + "/healthz").json()
    assert health["status"] == "ok" and health["circuits"]["strong-model"] == "closed"
    text = httpx.get(server.url + "/metrics").text
    assert 'routecraft_requests_total{model="strong-model",router="sw",status="200"} 1.0' in text
    assert "routecraft_routing_seconds_bucket" in text and 'routecraft_cost_usd_total{model="strong-model"}' in text


def test_log_summary_counts_spend_mix_and_time(make_server, tmp_path):
    server = make_server()
    c = client(server)
    for model in ("router-sw-0.0", "router-sw-1.0", "router-sw-1.0"):
        c.chat.completions.create(model=model, messages=[{"role": "user", "content": "secret plan"}])
    logged = rows(tmp_path, 3)
    assert all(r["prompt"] is None for r in logged)
    s = summarise_log(tmp_path / "routing.db", bucket="minute")
    assert s["requests"] == 3 and s["errors"] == 0 and s["fallbacks"] == 0
    assert {m["model"]: m["requests"] for m in s["models"]} == {"weak-model": 2, "strong-model": 1}
    assert s["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in logged))
    assert sum(row["requests"] for row in s["series"]) == 3


def test_prompt_text_is_logged_when_enabled(make_server, tmp_path):
    server = make_server(extra="")
    engine = server.server.config.app.state.engine
    object.__setattr__(engine.config.server, "log_prompts", True)
    client(server).chat.completions.create(model="weak-model", messages=[{"role": "user", "content": "log me"}])
    (row,) = rows(tmp_path, 1)
    assert row["prompt"] == "log me"
