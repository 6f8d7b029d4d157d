"""`Dataset`: the four tables together, with splits, matrices and the on-disk format.

A dataset is what routers learn from (DESIGN §4 calls it the training data) and what
the evaluator scores against. On disk it is a directory of Parquet files plus a
``dataset.json`` with provenance (name, source, license, notes).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .._errors import DataError, shown, user_path
from ._io import read_json, read_parquet
from ._tables import VALIDATORS, validate_pool

DEFAULT_TOKENS_OUT = 256.0
TABLE_FILES = ("queries.parquet", "outcomes.parquet", "preferences.parquet", "pool.parquet", "dataset.json")
CHARS_PER_TOKEN = 4.0


def estimate_tokens(texts: Iterable[str]) -> np.ndarray:
    """Rough token count (chars / 4, at least 1): used only where a source has no token counts."""
    return np.maximum(1.0, np.array([len(t) for t in texts], dtype=float) / CHARS_PER_TOKEN)


@dataclass
class Dataset:
    """Queries plus any of outcomes, preferences and a priced pool.

    Tables are validated on construction; see :mod:`routecraft.data._tables` for the
    schemas. ``meta`` holds provenance and travels with the data to disk.
    """

    queries: pd.DataFrame
    outcomes: pd.DataFrame | None = None
    preferences: pd.DataFrame | None = None
    pool: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        origin = self.meta.get("path")
        self.queries = VALIDATORS["queries"](self.queries, origin)
        if self.outcomes is not None:
            self.outcomes = VALIDATORS["outcomes"](self.outcomes, origin)
        if self.preferences is not None:
            self.preferences = VALIDATORS["preferences"](self.preferences, origin)
        if self.pool is not None:
            self.pool = validate_pool(self.pool, origin)
        known = set(self.queries["query_id"])
        for name in ("outcomes", "preferences"):
            table = getattr(self, name)
            if table is None:
                continue
            unknown = ~table["query_id"].isin(known)
            if unknown.any():
                row = int(np.flatnonzero(unknown.to_numpy())[0])
                table_file = Path(origin) / f"{name}.parquet" if origin else None
                raise DataError(
                    f"{name} query_id {shown(table['query_id'].iloc[row])} is not in the queries table",
                    path=str(table_file) if table_file is not None and table_file.is_file() else origin,
                    row=row + 1,
                    field="query_id",
                )

    # ------------------------------------------------------------------ views
    @property
    def name(self) -> str:
        return str(self.meta.get("name", "dataset"))

    @property
    def models(self) -> list[str]:
        """Models in the pool order if a pool is given, else sorted by name."""
        seen: set[str] = set()
        if self.outcomes is not None:
            seen.update(self.outcomes["model"].unique())
        if self.preferences is not None:
            seen.update(self.preferences["model_a"].unique())
            seen.update(self.preferences["model_b"].unique())
        if self.pool is not None:
            ordered = [m for m in self.pool["model"] if m in seen or not seen]
            return ordered + sorted(seen - set(ordered))
        return sorted(seen)

    @property
    def query_ids(self) -> list[str]:
        return self.queries["query_id"].tolist()

    @property
    def texts(self) -> list[str]:
        return self.queries["query"].tolist()

    def __len__(self) -> int:
        return len(self.queries)

    def score_matrix(self, models: Sequence[str] | None = None) -> np.ndarray:
        """Scores as an (n_queries, n_models) array in query order; NaN where a model has no outcome."""
        if self.outcomes is None:
            raise DataError(f"dataset '{self.name}' has no outcomes table (scores are needed here)")
        return self._pivot("score", models)

    def cost_matrix(self, models: Sequence[str] | None = None) -> np.ndarray:
        """USD cost per (query, model).

        Uses measured ``cost_usd`` where an outcome has it, else pool prices times the
        outcome's token counts, else pool prices times estimated tokens (chars/4 in,
        the pool's ``expected_tokens_out`` or 256 out). NaN where no price is known.
        """
        models = list(models or self.models)
        n = len(self.queries)
        cost = np.full((n, len(models)), np.nan)
        tokens_in = np.tile(estimate_tokens(self.texts)[:, None], (1, len(models)))
        tokens_out = np.full((n, len(models)), np.nan)
        if self.outcomes is not None:
            if "tokens_in" in self.outcomes.columns:
                measured = self._pivot("tokens_in", models)
                tokens_in = np.where(np.isnan(measured), tokens_in, measured)
            if "tokens_out" in self.outcomes.columns:
                tokens_out = self._pivot("tokens_out", models)
        if self.pool is not None:
            pool = self.pool.set_index("model")
            for j, m in enumerate(models):
                if m not in pool.index:
                    continue
                row = pool.loc[m]
                expected = row.get("expected_tokens_out", np.nan)
                expected = DEFAULT_TOKENS_OUT if pd.isna(expected) else float(expected)
                out = np.where(np.isnan(tokens_out[:, j]), expected, tokens_out[:, j])
                cost[:, j] = (
                    tokens_in[:, j] * row["price_in_per_mtok"] + out * row["price_out_per_mtok"]
                ) / 1e6
        if self.outcomes is not None and "cost_usd" in self.outcomes.columns:
            measured = self._pivot("cost_usd", models)
            cost = np.where(np.isnan(measured), cost, measured)
        return cost

    def _pivot(self, column: str, models: Sequence[str] | None) -> np.ndarray:
        models = list(models or self.models)
        assert self.outcomes is not None
        qi = pd.Index(self.queries["query_id"]).get_indexer(self.outcomes["query_id"])
        mi = pd.Index(models).get_indexer(self.outcomes["model"])
        keep = mi >= 0
        out = np.full((len(self.queries), len(models)), np.nan)
        out[qi[keep], mi[keep]] = self.outcomes[column].to_numpy(dtype=float)[keep]
        return out

    # --------------------------------------------------------------- subsets
    def subset(self, query_ids: Iterable[str]) -> "Dataset":
        """The dataset restricted to ``query_ids`` (in the order of the queries table)."""
        ids = set(query_ids)
        q = self.queries[self.queries["query_id"].isin(ids)].reset_index(drop=True)

        def keep(t: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if t is None else t[t["query_id"].isin(ids)].reset_index(drop=True)

        return self._derive(queries=q, outcomes=keep(self.outcomes), preferences=keep(self.preferences))

    def with_models(self, models: Sequence[str]) -> "Dataset":
        """Keep only outcomes/preferences/pool rows of ``models``."""
        ms = set(models)
        missing = ms - set(self.models)
        if missing:
            raise DataError(
                f"model(s) {', '.join(sorted(missing))} not in dataset '{self.name}' "
                f"(has: {', '.join(self.models)})"
            )
        out = self.outcomes
        if out is not None:
            out = out[out["model"].isin(ms)].reset_index(drop=True)
        pref = self.preferences
        if pref is not None:
            pref = pref[pref["model_a"].isin(ms) & pref["model_b"].isin(ms)].reset_index(drop=True)
        pool = self.pool
        if pool is not None:
            pool = pool[pool["model"].isin(ms)].reset_index(drop=True)
        return self._derive(outcomes=out, preferences=pref, pool=pool)

    def _derive(self, **tables: pd.DataFrame | None) -> "Dataset":
        """A copy with some tables replaced by row subsets of this dataset's validated tables.

        Row subsets of valid tables are valid, so this skips ``__post_init__``: splitting
        MMLU-Pro's 347k outcomes would otherwise validate them all a second time.
        """
        derived = copy.copy(self)
        derived.meta = dict(self.meta)
        for name, table in tables.items():
            setattr(derived, name, table)
        return derived

    def fingerprint(self) -> str:
        """sha256 over the query ids and outcome/preference rows: identifies training data in artifacts."""
        h = hashlib.sha256()
        for table in (self.queries[["query_id"]], self.outcomes, self.preferences):
            if table is not None:
                h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        return h.hexdigest()

    # ----------------------------------------------------------------- disk
    def save(self, directory: str | Path, overwrite: bool = False) -> Path:
        """Write the canonical dataset directory (DESIGN §2); returns it.

        Only the canonical files (``TABLE_FILES``) are ever written or removed, and each is
        written atomically. A directory that already holds any of them is refused unless
        ``overwrite``; then a table this dataset lacks is removed, because leaving an old
        ``outcomes.parquet`` beside new queries would make a different dataset. Files with
        other names in the directory are never touched.
        """
        from .._atomic import atomic_writer

        d = Path(directory)
        with user_path(d, "write dataset"):
            if d.exists() and not d.is_dir():
                raise DataError("exists and is not a directory", path=str(d))
            present = [name for name in TABLE_FILES if (d / name).exists()]
            if present and not overwrite:
                raise DataError(
                    f"already holds a dataset ({', '.join(present)}); choose an empty directory or overwrite it",
                    path=str(d),
                )
            d.mkdir(parents=True, exist_ok=True)
            for name in ("queries", "outcomes", "preferences", "pool"):
                table = getattr(self, name)
                target = d / f"{name}.parquet"
                if table is not None:
                    with atomic_writer(target) as fh:
                        _write_parquet(table, fh, name)
                elif target.exists():
                    target.unlink()
            meta = {k: v for k, v in self.meta.items() if k != "path"}
            with atomic_writer(d / "dataset.json") as fh:
                fh.write((json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n").encode())
        return d

    @classmethod
    def load(cls, directory: str | Path) -> "Dataset":
        """Read a canonical dataset directory, validating every table."""
        d = Path(directory)
        meta_path = d / "dataset.json"
        if not (d / "queries.parquet").exists():
            raise DataError("not a routecraft dataset directory (no queries.parquet)", path=str(d))
        meta: dict[str, Any] = read_json(meta_path) if meta_path.exists() else {}
        if not isinstance(meta, dict):
            raise DataError("expected a JSON object", path=str(meta_path))
        tables: dict[str, pd.DataFrame | None] = {}
        for name in ("queries", "outcomes", "preferences", "pool"):
            p = d / f"{name}.parquet"
            if not p.exists():
                tables[name] = None
                continue
            frame = read_parquet(p)
            tables[name] = VALIDATORS[name](frame, str(p))
        meta.setdefault("name", d.name)
        return cls(**tables, meta={**meta, "path": str(d)})  # type: ignore[arg-type]


def _write_parquet(table: pd.DataFrame, fh: Any, name: str) -> None:
    """Write ``table``; extra columns whose values Parquet cannot type (mixed kinds) are stored as text.

    Extra user columns are kept whatever they hold: a JSONL field that is a number on one
    row and a string on another cannot be one Parquet type, so such a column is written
    as strings (missing values stay missing) rather than failing the conversion.
    """
    import pyarrow as pa

    try:
        table.to_parquet(fh, index=False)
        return
    except (pa.ArrowException, TypeError, ValueError):
        fh.seek(0)
        fh.truncate()
    from ._tables import SCHEMAS

    known = {c.name for c in SCHEMAS[name]}
    fixed = table.copy()
    for col in fixed.columns:
        if col not in known and fixed[col].dtype == object:
            fixed[col] = fixed[col].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    fixed.to_parquet(fh, index=False)
