"""``routecraft serve``: run the OpenAI-compatible routing server (FastAPI under uvicorn)."""

from __future__ import annotations

import gc
import ipaddress
from pathlib import Path

import typer

from .._errors import require
from . import app
from ._common import err_console


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@app.command("serve")
def serve(
    config: Path = typer.Option(..., "--config", help="Server config (server.toml); see docs/serving.md."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    log_level: str = typer.Option("warning", help="uvicorn log level (access logs stay off: they would carry prompts' metadata)."),
) -> None:
    """Serve /v1/chat/completions, /v1/models, /healthz and /metrics; `model` selects router and policy."""
    uvicorn = require("uvicorn", "serve")
    require("fastapi", "serve")
    from ..serve import create_app, load_config

    from ..routers._blas import pin_single_thread

    pin_single_thread()  # the server routes one request or a micro-batch at a time
    cfg = load_config(config)
    application = create_app(cfg)
    if not cfg.client_keys and not _is_loopback(host):
        err_console.print(f"warning: no [server] api_keys_env, and {host} is not loopback: anyone who reaches it can spend your keys",
                          highlight=False)
    table = application.state.engine.table
    err_console.print(
        f"routecraft serving on http://{host}:{port}/v1: {len(cfg.models)} models, {len(cfg.routers)} routers, "
        f"{len(cfg.policies)} policies; log {cfg.server.log or 'off'}; model ids: {', '.join(table.model_ids())}",
        highlight=False, soft_wrap=True,
    )
    # everything built so far (routers, tables, the word cache) lives as long as the server:
    # out of the collector's sight, a full collection no longer walks it (a tail-latency spike)
    gc.freeze()
    uvicorn.run(application, host=host, port=port, log_level=log_level, access_log=False,
                proxy_headers=False, timeout_graceful_shutdown=10)  # no X-Forwarded-* rewriting per request
