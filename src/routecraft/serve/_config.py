"""``server.toml``: the routing server's configuration, read with :mod:`tomllib` and validated.

Every problem is one :class:`~routecraft.DataError` naming the file and the field
(``models[2].base_url``), so ``routecraft serve`` prints one line and exits 2. Secrets
never live in the file: it names environment variables (``api_keys_env``,
``api_key_env``) and their values are read here, once, at start-up.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import DataError

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


class _Table:
    """Typed access to one TOML table; errors name ``file`` and the dotted field."""

    def __init__(self, raw: Any, path: str, where: str) -> None:
        if not isinstance(raw, dict):
            raise DataError("must be a table", path=path, field=where)
        self.raw, self.path, self.where = dict(raw), path, where

    def _field(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, message: str) -> DataError:
        return DataError(message, path=self.path, field=self._field(key))

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        if key not in self.raw:
            if required:
                raise self.error(key, "is required")
            return default
        value = self.raw.pop(key)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(key, f"must be {names}, got {type(value).__name__} {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(key, f"must be finite, got {value!r}")
        return value

    def text(self, key: str, required: bool = False, default: str | None = None) -> str | None:
        value = self.get(key, str, default, required)
        if value is not None and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def number(self, key: str, default: float, low: float = 0.0, high: float = math.inf, strict: bool = False) -> float:
        value = self.get(key, float, default)
        if value < low or value > high or (strict and value == low):
            bound = f"> {low}" if strict else f"≥ {low}"
            raise self.error(key, f"must be {bound}{'' if high == math.inf else f' and ≤ {high}'}, got {value}")
        return value

    def done(self) -> None:
        if self.raw:
            raise self.error(sorted(self.raw)[0], "unknown field")


def _env_secret(table: _Table, key: str, name: str | None) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name, "").strip()
    if not value:
        raise table.error(key, f"environment variable {name} is not set or empty")
    return value


def _list(raw: dict, key: str, path: str) -> list[Any]:
    value = raw.pop(key, [])
    if not isinstance(value, list):
        raise DataError(f"must be an array of tables ([[{key}]])", path=path, field=key)
    return value


def _model(raw: Any, path: str, where: str) -> ModelConfig:
    t = _Table(raw, path, where)
    name = t.text("name", required=True)
    base_url = t.text("base_url", required=True)
    if not base_url.startswith(("http://", "https://")):
        raise t.error("base_url", f"must start with http:// or https://, got {base_url!r}")
    key_env = t.text("api_key_env")
    fallback = t.get("fallback", list, [])
    if not all(isinstance(m, str) for m in fallback):
        raise t.error("fallback", "must be a list of model names")
    model = ModelConfig(
        name=name,
        base_url=base_url,
        api_key_env=key_env,
        upstream_model=t.text("upstream_model", default=name),
        price_in_per_mtok=t.number("price_in_per_mtok", 0.0),
        price_out_per_mtok=t.number("price_out_per_mtok", 0.0),
        expected_tokens_out=t.number("expected_tokens_out", 256.0),
        timeout_s=t.number("timeout_s", 60.0, strict=True),
        connect_timeout_s=t.number("connect_timeout_s", 5.0, strict=True),
        max_retries=int(t.number("max_retries", 2, high=10)),
        backoff_s=t.number("backoff_s", 0.1, high=30.0),
        fallback=tuple(fallback),
        api_key=_env_secret(t, "api_key_env", key_env),
    )
    t.done()
    return model


def _router(raw: Any, path: str, where: str, base: Path) -> RouterConfig:
    t = _Table(raw, path, where)
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
    t = _Table(raw, path, where)
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
    s = _Table(data.pop("server", {}), path, "server")
    keys_env = s.text("api_keys_env")
    keys_raw = _env_secret(s, "api_keys_env", keys_env)
    settings = ServerSettings(
        api_keys_env=keys_env,
        log=s.text("log"),
        log_prompts=s.get("log_prompts", bool, False),
        route_max_chars=int(s.number("route_max_chars", 4000, low=1)),
        log_queue_size=int(s.number("log_queue_size", 10_000, low=1)),
    )
    s.done()
    b = _Table(data.pop("circuit_breaker", {}), path, "circuit_breaker")
    breaker = BreakerConfig(int(b.number("failures", 5, low=1)), b.number("cooldown_s", 30.0))
    b.done()
    models = _unique([_model(m, path, f"models[{i + 1}]") for i, m in enumerate(_list(data, "models", path))], "models", path)
    if not models:
        raise DataError("at least one [[models]] entry is required", path=path, field="models")
    routers = _unique(
        [_router(r, path, f"routers[{i + 1}]", base) for i, r in enumerate(_list(data, "routers", path))], "routers", path
    )
    policies = _unique(
        [_policy(p, path, f"policies[{i + 1}]") for i, p in enumerate(_list(data, "policies", path))], "policies", path
    )
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
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror or exc})", path=str(p)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid TOML ({exc})", path=str(p)) from None
    return parse_config(data, str(p), p.parent)
