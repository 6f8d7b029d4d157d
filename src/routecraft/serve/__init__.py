"""Serving routers: an OpenAI-compatible server and an in-process controller (DESIGN §8).

- :func:`create_app` — the FastAPI app behind ``routecraft serve`` (needs the ``[serve]`` extra);
- :class:`Controller` / :class:`AsyncController` — the same routing, fallback and log without a server;
- :func:`load_config` — read and validate ``server.toml``;
- :func:`summarise_log` — spend, model mix and errors over time from a routing log;
- :class:`StubUpstream` — a local OpenAI-compatible upstream for tests and trying things offline.

Names are imported on first use, so the controller does not need FastAPI.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "create_app": "routecraft.serve._app",
    "AsyncController": "routecraft.serve._controller",
    "Controller": "routecraft.serve._controller",
    "load_config": "routecraft.serve._config",
    "ServerConfig": "routecraft.serve._config",
    "Decision": "routecraft.serve._routing",
    "RequestError": "routecraft.serve._engine",
    "summarise_log": "routecraft.serve._summary",
    "StubUpstream": "routecraft.serve._stub",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'routecraft.serve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
