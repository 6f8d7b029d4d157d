"""Fixtures for the server tests: a trained router artifact, a stub upstream, a live server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from routecraft.routers import SWRankingRouter, conformance_dataset
from routecraft.serve import StubUpstream, create_app, load_config

CLIENT_KEY = "rc-client-key-Zx81qQ"  # the test greps every log for these two
UPSTREAM_KEY = "sk-upstream-secret-Pq72wW"


@pytest.fixture(scope="session")
def artifact(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("artifact") / "sw.routecraft"
    router = SWRankingRouter(embedder="hashing").fit(conformance_dataset())
    router.save(str(path), metrics={"strong": "strong-model", "weak": "weak-model"})
    return path


@pytest.fixture
def stub():
    with StubUpstream() as s:
        yield s


def write_config(tmp_path: Path, artifact: Path, base_url: str, *, strong: str = "ok-strong", weak: str = "ok-weak",
                 coder: str = "ok-coder", extra: str = "", log: bool = True, keys: bool = True, timeout_s: float = 2.0) -> Path:
    server = []
    if keys:
        server.append('api_keys_env = "RC_TEST_CLIENT_KEYS"')
    if log:
        server.append(f'log = "{tmp_path / "routing.db"}"')
    models = ""
    for name, upstream, price in (("strong-model", strong, 10.0), ("weak-model", weak, 0.5), ("coder-model", coder, 2.0)):
        models += f"""
[[models]]
name = "{name}"
base_url = "{base_url}"
api_key_env = "RC_TEST_UPSTREAM_KEY"
upstream_model = "{upstream}"
price_in_per_mtok = {price}
price_out_per_mtok = {price * 3}
timeout_s = {timeout_s}
connect_timeout_s = 1.0
backoff_s = 0.01
"""
    text = f"""[server]
{chr(10).join(server)}

[circuit_breaker]
failures = 3
cooldown_s = 60
{models}
[[routers]]
name = "sw"
path = "{artifact}"

[[policies]]
name = "balanced"
router = "sw"
threshold = 0.5

[[policies]]
name = "cheap"
router = "sw"
lam = 1000.0
{extra}"""
    path = tmp_path / "server.toml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("RC_TEST_CLIENT_KEYS", f"other-key,{CLIENT_KEY}")
    monkeypatch.setenv("RC_TEST_UPSTREAM_KEY", UPSTREAM_KEY)


class LiveServer:
    """uvicorn in a thread on a free 127.0.0.1 port; stops by itself on exit (bounded waits)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@pytest.fixture
def make_server(tmp_path, artifact, stub):
    """``make_server(**config_overrides)`` → a running LiveServer (config from :func:`write_config`)."""
    servers = []

    def make(**kwargs) -> LiveServer:
        config = load_config(write_config(tmp_path, artifact, stub.base_url, **kwargs))
        server = LiveServer(create_app(config)).__enter__()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.__exit__(None, None, None)
