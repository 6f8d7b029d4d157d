"""``server.toml``: the routing server's configuration, read with :mod:`tomllib` and validated.

Every problem is one :class:`~routecraft.DataError` naming the file and the field
(``models[2].base_url``), so ``routecraft serve`` prints one line and exits 2. Secrets
never live in the file: it names environment variables (``api_keys_env``,
``api_key_env``) and their values are read here, once, at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import DataError
from .._tomlconfig import ModelEntry, Table, array_of_tables, read_model_entries, read_toml

POLICY_KINDS = ("threshold", "lam", "strong_fraction")


@dataclass(frozen=True)
class ServerSettings:
    """``[server]``: client keys, routing log, and what the log may contain."""

    api_keys_env: str | None = None
    log: str | None = None
    log_prompts: bool = False
    route_max_chars: int = 4000
    log_queue_size: int = 10_000


@dataclass(frozen=True)
class ModelConfig:
    """``[[models]]``: one OpenAI-compatible upstream and its price.

    ``upstream_model`` is the ``model`` sent upstream (default: ``name``). Timeouts are per
    model because a local 7B model and a hosted frontier model answer on different clocks.
    """

    name: str
    base_url: str
    api_key_env: str | None = None
    upstream_model: str = ""
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0
    expected_tokens_out: float = 256.0
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    max_retries: int = 2
    backoff_s: float = 0.1
    fallback: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False, compare=False)  # read from api_key_env

    @property
    def chat_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


@dataclass(frozen=True)
class RouterConfig:
    """``[[routers]]``: a saved artifact, its strong/weak pair and the artifact→server model names."""

    name: str
    path: str
    strong: str | None = None
    weak: str | None = None
    model_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyConfig:
    """``[[policies]]``: a named (router, rule) pair clients select with ``model = name``.

    Exactly one of ``threshold`` (strong iff P(strong wins) ≥ t), ``lam`` (argmax Q̂ − lam·cost)
    or ``strong_fraction`` (threshold calibrated at start-up on ``calibrate_on`` queries).
    """

    name: str
    router: str
    kind: str
    value: float
    calibrate_on: str | None = None


@dataclass(frozen=True)
class BreakerConfig:
    """``[circuit_breaker]``: open after ``failures`` consecutive failures, probe after ``cooldown_s``."""

    failures: int = 5
    cooldown_s: float = 30.0


@dataclass(frozen=True)
class ServerConfig:
    path: str
    server: ServerSettings
    models: dict[str, ModelConfig]
    routers: dict[str, RouterConfig]
    policies: dict[str, PolicyConfig]
    breaker: BreakerConfig
    client_keys: frozenset[str] = field(default=frozenset(), repr=False, compare=False)


def _env_secret(name: str | None, path: str, field: str) -> str | None:
    """The value of the variable the file names (``field``), read once; unset or empty is an error."""
    if name is None:
        return None
    value = os.environ.get(name, "").strip()
    if not value:
        raise DataError(f"environment variable {name} is not set or empty", path=path, field=field)
    return value


def _model(entry: ModelEntry, path: str, where: str) -> ModelConfig:
    """The server's view of a shared ``[[models]]`` entry: defaults filled, the key read."""
    return ModelConfig(
        name=entry.name,
        base_url=entry.base_url,
        api_key_env=entry.api_key_env,
        upstream_model=entry.upstream_model,
        price_in_per_mtok=_given(entry.price_in_per_mtok, 0.0),
        price_out_per_mtok=_given(entry.price_out_per_mtok, 0.0),
        expected_tokens_out=_given(entry.expected_tokens_out, 256.0),
        timeout_s=_given(entry.timeout_s, 60.0),
        connect_timeout_s=_given(entry.connect_timeout_s, 5.0),
        max_retries=_given(entry.max_retries, 2),
        backoff_s=_given(entry.backoff_s, 0.1),
        fallback=entry.fallback,
        api_key=_env_secret(entry.api_key_env, path, f"{where}.api_key_env"),
    )


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def _router(raw: Any, path: str, where: str, base: Path) -> RouterConfig:
    t = Table(raw, path, where)
    name = t.text("name", required=True)
    artifact = t.text("path", required=True)
    resolved = Path(artifact) if Path(artifact).is_absolute() else base / artifact
    if not resolved.is_file():
        raise t.error("path", f"artifact {str(resolved)!r} does not exist")
    model_map = t.get("models", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in model_map.items()):
        raise t.error("models", "must map artifact model names to [[models]] names (strings)")
    cfg = RouterConfig(name, str(resolved), t.text("strong"), t.text("weak"), dict(model_map))
    t.done()
    return cfg


def _policy(raw: Any, path: str, where: str) -> PolicyConfig:
    t = Table(raw, path, where)
    name, router = t.text("name", required=True), t.text("router", required=True)
    given = [k for k in POLICY_KINDS if k in t.raw]
    if len(given) != 1:
        raise t.error("threshold", f"give exactly one of {', '.join(POLICY_KINDS)} (got {len(given)})")
    kind = given[0]
    if kind == "lam":
        value = t.number("lam", 0.0)
    else:
        value = t.number(kind, 0.0, high=1.0)
    calibrate_on = t.text("calibrate_on")
    if kind == "strong_fraction" and calibrate_on is None:
        raise t.error("calibrate_on", "a strong_fraction policy needs calibrate_on (unlabelled queries to calibrate on)")
    cfg = PolicyConfig(name, router, kind, value, calibrate_on)
    t.done()
    return cfg


def _unique(items: list[Any], section: str, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        if item.name in out:
            raise DataError(f"duplicate name {item.name!r}", path=path, field=f"{section}[{i + 1}].name")
        out[item.name] = item
    return out


def parse_config(data: dict[str, Any], path: str = "server.toml", base: Path | None = None) -> ServerConfig:
    """Validate a decoded TOML document (see :func:`load_config`)."""
    data = dict(data)
    base = base or Path(".")
    s = Table(data.pop("server", {}), path, "server")
    keys_env = s.text("api_keys_env")
    keys_raw = _env_secret(keys_env, path, "server.api_keys_env")
    settings = ServerSettings(
        api_keys_env=keys_env,
        log=s.text("log"),
        log_prompts=s.get("log_prompts", bool, False),
        route_max_chars=int(s.number("route_max_chars", 4000, low=1)),
        log_queue_size=int(s.number("log_queue_size", 10_000, low=1)),
    )
    s.done()
    b = Table(data.pop("circuit_breaker", {}), path, "circuit_breaker")
    breaker = BreakerConfig(int(b.number("failures", 5, low=1)), b.number("cooldown_s", 30.0))
    b.done()
    entries = read_model_entries(data, path, base_url_required=True)
    models = {e.name: _model(e, path, f"models[{i + 1}]") for i, e in enumerate(entries)}
    if not models:
        raise DataError("at least one [[models]] entry is required", path=path, field="models")
    routers = _unique(
        [_router(r, path, f"routers[{i + 1}]", base) for i, r in enumerate(array_of_tables(data, "routers", path))], "routers", path
    )
    policies = _unique(
        [_policy(p, path, f"policies[{i + 1}]") for i, p in enumerate(array_of_tables(data, "policies", path))], "policies", path
    )
    for section in ("models", "routers", "policies"):
        data.pop(section, None)
    if data:
        raise DataError("unknown section", path=path, field=sorted(data)[0])
    for i, m in enumerate(models.values()):
        for fb in m.fallback:
            if fb not in models:
                raise DataError(f"unknown model {fb!r}", path=path, field=f"models[{i + 1}].fallback")
    for i, r in enumerate(routers.values()):
        for key, value in (("strong", r.strong), ("weak", r.weak)):
            if value is not None and r.model_map.get(value, value) not in models:
                raise DataError(f"{value!r} is not a [[models]] name", path=path, field=f"routers[{i + 1}].{key}")
    for i, p in enumerate(policies.values()):
        if p.router not in routers:
            raise DataError(f"unknown router {p.router!r}", path=path, field=f"policies[{i + 1}].router")
        if p.name in models:
            raise DataError(f"policy name {p.name!r} is also a model name", path=path, field=f"policies[{i + 1}].name")
    client_keys = frozenset(k.strip() for k in (keys_raw or "").split(",") if k.strip())
    if keys_env is not None and not client_keys:
        raise DataError(f"environment variable {keys_env} holds no key", path=path, field="server.api_keys_env")
    return ServerConfig(path, settings, models, routers, policies, breaker, client_keys)


def load_config(path: str | Path) -> ServerConfig:
    """Read and validate ``server.toml``. Relative artifact paths resolve against its folder."""
    p = Path(path)
    return parse_config(read_toml(p), str(p), p.parent)
