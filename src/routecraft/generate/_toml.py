"""Reading the two TOML inputs of ``routecraft generate``: tasks.toml and pool.toml.

Errors name the file and the field (``[[tasks]] #2, field 'items'``), so a typo in a
config is one readable line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import DataError
from .._tomlconfig import ModelEntry, array_of_tables, read_model_entries, read_toml

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

    @property
    def upstream_model(self) -> str:
        return self.model or self.name


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


def read_tasks(path: str | Path) -> list[GenerationTask]:
    """``[[tasks]]`` tables with ``name``, ``description`` and optional ``items``, ``kind``,
    ``options``, ``per_request``; a ``[defaults]`` table sets the optional ones for all tasks."""
    p = str(path)
    doc = read_toml(path)
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise DataError("'defaults' must be a table", path=p, field="defaults")
    tasks: list[GenerationTask] = []
    seen: set[str] = set()
    for i, raw in enumerate(array_of_tables(doc, "tasks", p), start=1):
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


def _endpoint(entry: ModelEntry) -> Endpoint:
    return Endpoint(
        name=entry.name,
        base_url=entry.base_url or "",
        api_key_env=entry.api_key_env,
        model=entry.upstream_model if entry.upstream_model != entry.name else None,
        price_in_per_mtok=entry.price_in_per_mtok,
        price_out_per_mtok=entry.price_out_per_mtok,
        logprobs=True if entry.logprobs is None else entry.logprobs,
    )


def read_pool(path: str | Path) -> tuple[list[Endpoint], list[Endpoint]]:
    """(pool models, generators) from ``[[models]]`` and optional ``[[generators]]`` tables.

    Both have the shared ``[[models]]`` entry schema (:mod:`routecraft._tomlconfig`), with
    ``base_url`` required; keys generation does not use (server timeouts, fallback) are
    accepted, so one pool file serves ``--pool``, ``generate`` and ``serve`` alike.
    """
    p = str(path)
    doc = read_toml(path)
    pool, generators = (
        [_endpoint(e) for e in read_model_entries(doc, p, key, base_url_required=True)]
        for key in ("models", "generators")
    )
    if not pool:
        raise DataError("no models (add a [[models]] table per pool model)", path=p, field="models")
    return pool, generators


def find_generator(name: str, pool: list[Endpoint], generators: list[Endpoint], path: str | Path) -> Endpoint:
    """A generator by name: a ``[[generators]]`` entry, else a pool model (it may generate too)."""
    for ep in [*generators, *pool]:
        if ep.name == name:
            return ep
    known = ", ".join(e.name for e in [*generators, *pool])
    raise DataError(f"generator {name!r} is not among the generators or models (known: {known})", path=str(path))
