"""Reading the two TOML inputs of ``routecraft generate``: tasks.toml and pool.toml.

Errors name the file and the field (``[[tasks]] #2, field 'items'``), so a typo in a
config is one readable line, never a traceback.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import DataError

KINDS = ("mc", "short")


@dataclass(frozen=True)
class GenerationTask:
    """One subject to generate questions for, described in a sentence or a paragraph."""

    name: str
    description: str
    items: int = 50
    kind: str = "mc"  # "mc" (multiple choice) or "short" (short answer)
    options: int = 4  # options per multiple-choice question
    per_request: int = 5  # questions asked of the generator per request


@dataclass(frozen=True)
class Endpoint:
    """A model behind an OpenAI-compatible chat endpoint (a generator or a pool model).

    ``name`` is routecraft's name for it; ``model`` is the id sent upstream (default: the
    name). Prices are optional (USD per million tokens); with them outcomes get ``cost_usd``.
    """

    name: str
    base_url: str
    api_key_env: str | None = None
    model: str | None = None
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None
    logprobs: bool = True  # ask for token log-probs (some servers reject the field)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def upstream_model(self) -> str:
        return self.model or self.name


def _read(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise DataError("file not found", path=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"not valid TOML ({exc})", path=str(p)) from None


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, path: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise DataError(f"{where}: missing required field", path=path, field=key)
        return default
    value = table[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise DataError(f"{where}: expected a number, got {value!r}", path=path, field=key)
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DataError(f"{where}: expected {names}, got {value!r}", path=path, field=key)
    return value


def _tables(doc: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    tables = doc.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise DataError(f"'{key}' must be an array of tables", path=path, field=key)
    return tables


def read_tasks(path: str | Path) -> list[GenerationTask]:
    """``[[tasks]]`` tables with ``name``, ``description`` and optional ``items``, ``kind``,
    ``options``, ``per_request``; a ``[defaults]`` table sets the optional ones for all tasks."""
    p = str(path)
    doc = _read(path)
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise DataError("'defaults' must be a table", path=p, field="defaults")
    tasks: list[GenerationTask] = []
    seen: set[str] = set()
    for i, raw in enumerate(_tables(doc, "tasks", p), start=1):
        t = {**defaults, **raw}
        where = f"tasks entry #{i}"
        name = _get(t, "name", str, where, p).strip()
        if not name or name in seen:
            raise DataError(f"{where}: task name {name!r} is empty or repeated", path=p, field="name")
        seen.add(name)
        task = GenerationTask(
            name=name,
            description=_get(t, "description", str, where, p).strip(),
            items=_get(t, "items", int, where, p, 50),
            kind=_get(t, "kind", str, where, p, "mc"),
            options=_get(t, "options", int, where, p, 4),
            per_request=_get(t, "per_request", int, where, p, 5),
        )
        if not task.description:
            raise DataError(f"{where}: empty description", path=p, field="description")
        if task.kind not in KINDS:
            raise DataError(f"{where}: kind must be one of {', '.join(KINDS)}, got {task.kind!r}", path=p, field="kind")
        for fname, lo, hi in (("items", 1, 1_000_000), ("options", 2, 26), ("per_request", 1, 50)):
            v = getattr(task, fname)
            if not lo <= v <= hi:
                raise DataError(f"{where}: {fname} must be in [{lo}, {hi}], got {v}", path=p, field=fname)
        tasks.append(task)
    if not tasks:
        raise DataError("no tasks (add a [[tasks]] table per task)", path=p, field="tasks")
    return tasks


def _endpoint(t: dict[str, Any], where: str, path: str) -> Endpoint:
    known = {"name", "base_url", "api_key_env", "model", "price_in_per_mtok", "price_out_per_mtok", "logprobs"}
    price_in = _get(t, "price_in_per_mtok", (int, float), where, path, None)
    price_out = _get(t, "price_out_per_mtok", (int, float), where, path, None)
    for fname, v in (("price_in_per_mtok", price_in), ("price_out_per_mtok", price_out)):
        if v is not None and v < 0:
            raise DataError(f"{where}: must be >= 0", path=path, field=fname)
    base_url = _get(t, "base_url", str, where, path).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise DataError(f"{where}: base_url must start with http:// or https://, got {base_url!r}", path=path, field="base_url")
    return Endpoint(
        name=_get(t, "name", str, where, path),
        base_url=base_url,
        api_key_env=_get(t, "api_key_env", str, where, path, None),
        model=_get(t, "model", str, where, path, None),
        price_in_per_mtok=None if price_in is None else float(price_in),
        price_out_per_mtok=None if price_out is None else float(price_out),
        logprobs=_get(t, "logprobs", bool, where, path, True),
        extra={k: v for k, v in t.items() if k not in known},
    )


def read_pool(path: str | Path) -> tuple[list[Endpoint], list[Endpoint]]:
    """(pool models, generators) from ``[[models]]`` and optional ``[[generators]]`` tables.

    Each table has ``name``, ``base_url``, optional ``api_key_env``, ``model`` (upstream id),
    ``price_in_per_mtok``/``price_out_per_mtok`` and ``logprobs``; other keys are kept in
    ``extra`` so this reads the same file as the pool reader used for prices.
    """
    p = str(path)
    doc = _read(path)
    out: list[list[Endpoint]] = []
    for key in ("models", "generators"):
        eps = [_endpoint(t, f"{key} entry #{i}", p) for i, t in enumerate(_tables(doc, key, p), start=1)]
        names = [e.name for e in eps]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise DataError(f"{key}: model {dup!r} listed twice", path=p, field="name")
        out.append(eps)
    if not out[0]:
        raise DataError("no models (add a [[models]] table per pool model)", path=p, field="models")
    return out[0], out[1]


def find_generator(name: str, pool: list[Endpoint], generators: list[Endpoint], path: str | Path) -> Endpoint:
    """A generator by name: a ``[[generators]]`` entry, else a pool model (it may generate too)."""
    for ep in [*generators, *pool]:
        if ep.name == name:
            return ep
    known = ", ".join(e.name for e in [*generators, *pool])
    raise DataError(f"generator {name!r} is not among the generators or models (known: {known})", path=str(path))
