"""Config validation (one-line errors naming file and field), the CLI, the in-process controllers, secrets."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import httpx
import numpy as np
import pytest

from routecraft import DataError
from routecraft.artifact import load_router
from routecraft.cli import main
from routecraft.serve import AsyncController, Controller, load_config

from .conftest import CLIENT_KEY, UPSTREAM_KEY, write_config
from .test_server import client, rows


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda t: t.replace('base_url = "http', 'base_url = "ftp', 1), "models[1].base_url"),
        (lambda t: t.replace("timeout_s = 2.0", "timeout_s = -1", 1), "models[1].timeout_s"),
        (lambda t: t.replace('upstream_model = "ok-strong"', 'upstream_model = 3'), "models[1].upstream_model"),
        (lambda t: t.replace("threshold = 0.5", "threshold = 0.5\nlam = 1.0"), "policies[1].threshold"),
        (lambda t: t.replace('router = "sw"', 'router = "nope"', 1), "policies[1].router"),
        (lambda t: t.replace("[circuit_breaker]", "[circuit_breaker]\ncolour = 1"), "circuit_breaker.colour"),
        (lambda t: t + '\n[[routers]]\nname = "sw"\npath = "x"\n', "routers[2].path"),
        (lambda t: t.replace('api_key_env = "RC_TEST_UPSTREAM_KEY"', 'api_key_env = "RC_UNSET_VAR"', 1), "models[1].api_key_env"),
        (lambda t: t.replace("[server]", "[server]\nlog_prompts = 1"), "server.log_prompts"),
        (lambda t: t + "\n[extras]\n", "extras"),
        (lambda t: t.replace("[[policies]]", "[[policies]\n", 1), None),
    ],
)
def test_config_errors_name_file_and_field(tmp_path, artifact, edit, field):
    path = write_config(tmp_path, artifact, "http://127.0.0.1:1/v1")
    path.write_text(edit(path.read_text()))
    with pytest.raises(DataError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    if field is not None:
        assert f"field '{field}'" in message


def test_config_checks_the_artifact_pool(tmp_path, artifact):
    path = write_config(tmp_path, artifact, "http://127.0.0.1:1/v1")
    path.write_text(path.read_text().replace('path = "', 'strong = "gpt-9"\npath = "'))
    with pytest.raises(DataError, match=r"routers\[1\]\.strong.*gpt-9|gpt-9.*routers\[1\]"):
        from routecraft.serve._routing import RoutingTable

        RoutingTable(load_config(path))


def test_cli_serve_bad_config_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "server.toml"
    bad.write_text("[server]\nlog = 3\n")
    with pytest.raises(SystemExit) as info:
        main(["serve", "--config", str(bad)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "server.log" in err and "Traceback" not in err


def test_cli_evaluate_log_summary(make_server, tmp_path, capsys):
    server = make_server()
    client(server).chat.completions.create(model="router-sw-0.0", messages=[{"role": "user", "content": "hi"}])
    rows(tmp_path, 1)
    main(["evaluate", "--log", str(tmp_path / "routing.db"), "--json", str(tmp_path / "s.json"), "--bucket", "minute"])
    out = capsys.readouterr().out
    assert "1 requests" in out and "strong-model" in out
    assert (tmp_path / "s.json").exists()
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--log", str(tmp_path / "missing.db")])
    assert info.value.code == 2


def test_sync_controller_mirrors_routellm(tmp_path, artifact, stub):
    path = write_config(tmp_path, artifact, stub.base_url)
    router = load_router(artifact)
    prompts = ["Solve for x: 3x + 4 = 10.", "Say hello to my friend number 7.", "Fix the bug in this loop"]
    expected = router.pair_score(prompts, "strong-model", "weak-model")
    with Controller(path) as c:
        np.testing.assert_allclose(c.batch_calculate_win_rate(prompts, "sw"), expected)
        t = float(np.sort(expected)[:2].mean())  # between two scores, so float noise cannot flip a decision
        for p, s in zip(prompts, expected):
            d = c.route(p, model=f"router-sw-{t!r}")
            assert d.model == ("strong-model" if s >= t else "weak-model") and d.score == pytest.approx(s)
        reply = c.chat.completions.create(model="router-sw-0.0", messages=[{"role": "user", "content": "hi"}])
        assert reply["choices"][0]["message"]["content"] == "echo: hi" and reply["model"] == "ok-strong"
        chunks = list(c.chat.completions.create(model="weak-model", messages=[{"role": "user", "content": "a b c"}],
                                                stream=True))
        text = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks if ch["choices"])
        assert sorted(text.split()) == ["a", "b", "c", "echo:"]
    assert stub.auth[f"Bearer {UPSTREAM_KEY}"] == 2  # the upstream key is sent upstream


def test_async_controller_with_injected_transport(tmp_path, artifact):
    """httpx's MockTransport stands in for the network: no socket at all."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [], "model": "m",
                                         "usage": {"prompt_tokens": 3, "completion_tokens": 5}})

    path = write_config(tmp_path, artifact, "http://upstream.invalid/v1")

    async def run():
        async with AsyncController(path, transport=httpx.MockTransport(handler)) as c:
            return await c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "hi"}])

    reply = asyncio.run(run())
    assert reply["usage"]["completion_tokens"] == 5
    assert seen[0].url == "http://upstream.invalid/v1/chat/completions"
    assert seen[0].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    conn = sqlite3.connect(tmp_path / "routing.db")
    (cost,) = conn.execute("SELECT cost_usd FROM requests").fetchone()
    assert cost == pytest.approx((3 * 0.5 + 5 * 1.5) / 1e6)  # weak-model's prices


def test_micro_batched_decisions_equal_one_by_one(tmp_path, artifact, stub):
    """Concurrent requests scored in one predict_quality call get the same decision as alone."""
    path = write_config(tmp_path, artifact, stub.base_url)
    texts = [f"Compute the integral of x^{i} from 0 to {i + 1}." for i in range(8)] + ["Say hello", "Fix the bug"]

    async def run():
        async with AsyncController(path) as c:
            table = c.engine.table
            route = table.resolve("balanced")
            calls = []
            original = table.routers["sw"].batcher._predict
            table.routers["sw"].batcher._predict = lambda t: calls.append(len(t)) or original(t)
            together = await asyncio.gather(*(table.decide(route, [{"role": "user", "content": t}]) for t in texts))
            alone = [table.decide_now(route, [{"role": "user", "content": t}]) for t in texts]
            return together, alone, calls

    together, alone, calls = asyncio.run(run())
    assert calls == [len(texts)]  # one batch
    assert [d.model for d in together] == [d.model for d in alone]
    # float32 similarity products of a batch and of one row may round differently (~1e-7)
    np.testing.assert_allclose([d.score for d in together], [d.score for d in alone], atol=1e-6)



def test_a_request_alone_is_routed_at_once_concurrent_ones_are_micro_batched(tmp_path, artifact):
    """Nobody to batch with: scored without the batcher; requests in flight together share one call."""
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await release.wait()  # every request stays in flight until all have been routed
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [], "model": "m"})

    path = write_config(tmp_path, artifact, "http://upstream.invalid/v1", log=False)
    texts = [f"Compute the integral of x^{i} from 0 to {i + 1}." for i in range(5)]

    async def run():
        async with AsyncController(path, transport=httpx.MockTransport(handler)) as c:
            batcher = c.engine.table.routers["sw"].batcher
            calls, original = [], batcher._predict
            batcher._predict = lambda t: calls.append(len(t)) or original(t)
            release.set()
            alone = await c.engine.handle({"model": "balanced", "messages": [{"role": "user", "content": texts[0]}]}, "r0")
            release.clear()
            tasks = [asyncio.ensure_future(c.engine.handle(
                {"model": "balanced", "messages": [{"role": "user", "content": t}]}, f"r{i}")) for i, t in enumerate(texts)]
            while len(calls) < 1:
                await asyncio.sleep(0.001)
            release.set()
            together = await asyncio.wait_for(asyncio.gather(*tasks), 10)
            return alone, together, calls, c.engine.table

    alone, together, calls, table = asyncio.run(run())
    # the first of the five found nobody in flight; the other four arrived while it waited upstream
    assert calls == [4]
    route = table.resolve("balanced")
    for result, text in zip([alone, *together], [texts[0], *texts]):
        expected = table.decide_now(route, [{"role": "user", "content": text}])
        assert result.status == 200 and result.headers["x-routecraft-model"] == expected.model

def test_no_secret_in_any_log(make_server, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    server = make_server(strong="fail-500")
    c = client(server)
    c.chat.completions.create(model="router-sw-0.0", messages=[{"role": "user", "content": "hi"}])
    c.chat.completions.create(model="router-sw-1.0", messages=[{"role": "user", "content": "hi"}], stream=True)
    httpx.post(server.url + "/v1/chat/completions", headers={"authorization": f"Bearer {CLIENT_KEY}x"}, json={})
    rows(tmp_path, 2)
    metrics = httpx.get(server.url + "/metrics").text
    server.__exit__(None, None, None)
    captured = capfd.readouterr()
    db = b"".join(p.read_bytes() for p in tmp_path.glob("routing.db*"))
    haystacks = [caplog.text, captured.out, captured.err, metrics, db.decode("latin-1")]
    for secret in (CLIENT_KEY, UPSTREAM_KEY):
        assert not any(secret in h for h in haystacks), secret
    assert len(db) > 0 and "strong-model" in db.decode("latin-1")  # the grep looked at a real log
