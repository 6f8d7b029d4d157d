"""Typed TOML configuration: one reader for files, tables and the ``[[models]]`` entry.

Three commands read ``[[models]]`` tables — ``--pool`` (prices), ``routecraft generate``
(endpoints) and ``routecraft serve`` (upstreams) — and a team writes its pool once. So an
entry has one schema, defined here: every command accepts every key of it (using those it
needs), and rejects any other key, so a typo (``prise_in_per_mtok``) is an error in all
three rather than a silently missing price in one.

Errors are :class:`~routecraft.DataError` naming the file and the dotted field
(``models[2].base_url``): the CLI prints one line and exits non-zero.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import DataError


def read_toml(path: str | Path) -> dict[str, Any]:
    """The decoded document; a missing, unreadable or malformed file is one DataError."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path=str(p)) from None
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror or exc})", path=str(p)) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid TOML ({exc})", path=str(p)) from None


def array_of_tables(doc: dict[str, Any], key: str, path: str) -> list[Any]:
    """``doc[key]`` as a list (empty when absent); anything but an array is an error."""
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise DataError(f"must be an array of tables ([[{key}]])", path=path, field=key)
    return value


class Table:
    """Typed access to one TOML table. Each read consumes its key, so :meth:`done` can name the
    first key nobody read (an unknown field) instead of ignoring it."""

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

    def number(self, key: str, default: float | None, low: float = 0.0, high: float = math.inf,
               strict: bool = False) -> float | None:
        value = self.get(key, float, default)
        if value is None:
            return None
        if value < low or value > high or (strict and value == low):
            bound = f"> {low}" if strict else f"≥ {low}"
            raise self.error(key, f"must be {bound}{'' if high == math.inf else f' and ≤ {high}'}, got {value}")
        return value

    def done(self) -> None:
        if self.raw:
            raise self.error(sorted(self.raw)[0], "unknown field")


@dataclass(frozen=True)
class ModelEntry:
    """One ``[[models]]`` entry, every key of the shared schema (None = not given).

    ``upstream_model`` is the id sent upstream (key ``model``, or ``upstream_model``; default
    the name). Timeouts, retries and fallback matter to the server, ``logprobs`` to
    generation, prices and ``expected_tokens_out`` to every cost computation.
    """

    name: str
    base_url: str | None
    api_key_env: str | None
    upstream_model: str
    price_in_per_mtok: float | None
    price_out_per_mtok: float | None
    expected_tokens_out: float | None
    logprobs: bool | None
    timeout_s: float | None
    connect_timeout_s: float | None
    max_retries: int | None
    backoff_s: float | None
    fallback: tuple[str, ...]


def read_model_entry(raw: Any, path: str, where: str, *, base_url_required: bool) -> ModelEntry:
    """Validate one ``[[models]]`` table; ``where`` is its name in errors (``models[2]``)."""
    t = Table(raw, path, where)
    name = t.text("name", required=True).strip()
    base_url = t.text("base_url", required=base_url_required)
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise t.error("base_url", f"must start with http:// or https://, got {base_url!r}")
        base_url = base_url.rstrip("/")
    if "model" in t.raw and "upstream_model" in t.raw:
        raise t.error("upstream_model", "give the upstream id once: 'model' or 'upstream_model', not both")
    upstream = t.text("model") or t.text("upstream_model") or name
    fallback = t.get("fallback", list, [])
    if not all(isinstance(m, str) for m in fallback):
        raise t.error("fallback", "must be a list of model names")
    retries = t.number("max_retries", None, high=10)
    entry = ModelEntry(
        name=name,
        base_url=base_url,
        api_key_env=t.text("api_key_env"),
        upstream_model=upstream,
        price_in_per_mtok=t.number("price_in_per_mtok", None),
        price_out_per_mtok=t.number("price_out_per_mtok", None),
        expected_tokens_out=t.number("expected_tokens_out", None),
        logprobs=t.get("logprobs", bool),
        timeout_s=t.number("timeout_s", None, strict=True),
        connect_timeout_s=t.number("connect_timeout_s", None, strict=True),
        max_retries=None if retries is None else int(retries),
        backoff_s=t.number("backoff_s", None, high=30.0),
        fallback=tuple(fallback),
    )
    t.done()
    return entry


def read_model_entries(doc: dict[str, Any], path: str, key: str = "models", *,
                       base_url_required: bool) -> list[ModelEntry]:
    """Every entry of ``[[key]]``, names unique (a repeated name is an error naming its entry)."""
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(array_of_tables(doc, key, path), start=1):
        entry = read_model_entry(raw, path, f"{key}[{i}]", base_url_required=base_url_required)
        if entry.name in seen:
            raise DataError(f"model {entry.name!r} listed twice", path=path, field=f"{key}[{i}].name")
        seen.add(entry.name)
        entries.append(entry)
    return entries
