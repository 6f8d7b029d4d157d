"""The batch jobs: embed a query file, route it, convert outcomes to preferences.

Each job is a small frozen dataclass — plain, picklable parameters — whose call
builds the per-batch function on the process that runs it (see :func:`map_frames`).
The functions call the same routers, policies and converters as the in-memory API.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._errors import DataError
from ..data._tables import query_id_for
from ._frames import DEFAULT_BATCH_ROWS, iter_frames, table_files
from ._map import map_frames
from ._write import write_frames


def _with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """``query_id`` (the text's stable hash where absent) and ``query`` as plain strings."""
    texts = frame["query"].astype(str)
    ids = frame["query_id"].astype(str) if "query_id" in frame.columns else texts.map(query_id_for)
    return pd.DataFrame({"query_id": ids.to_numpy(dtype=object), "query": texts.to_numpy(dtype=object)})


def _query_columns(path: str | Path, optional: Sequence[str] = ()) -> list[str]:
    """``["query_id", "query"]`` (or ``["query"]`` when the file has no ids), plus the ``optional`` columns it has."""
    first = next(iter_frames(path, 1), None)
    if first is None or "query" not in first.columns:
        raise DataError("needs a 'query' column", path=str(path), field="query")
    base = ["query_id", "query"] if "query_id" in first.columns else ["query"]
    return base + [c for c in optional if c in first.columns]


# --------------------------------------------------------------------- embed
@dataclass(frozen=True)
class EmbedJob:
    """Embed queries with an embedder spec (the disk cache applies as in ``make_embedder``)."""

    embedder: str = "wordllama"

    def __call__(self):
        from ..embed import make_embedder

        embedder = make_embedder(self.embedder)

        def embed(frame: pd.DataFrame) -> pd.DataFrame:
            frame = _with_ids(frame)
            vecs = embedder.encode(frame["query"].tolist())
            return pd.DataFrame({"query_id": frame["query_id"], "embedding": list(vecs)})

        return embed


def embed_file(
    queries: str | Path, out: str | Path, *, embedder: str = "wordllama", engine: str = "local",
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> int:
    """Write ``query_id, embedding`` for every query of ``queries``; returns the row count."""
    frames = map_frames(EmbedJob(embedder), queries, engine=engine, batch_rows=batch_rows, columns=_query_columns(queries))
    return write_frames(frames, out)


# --------------------------------------------------------------------- route
def decide_frame(
    router, frame: pd.DataFrame, *, lam: float = 0.0, threshold: float | None = None, strong: str | None = None,
    weak: str | None = None, pool: pd.DataFrame | None = None, length_model=None,
) -> pd.DataFrame:
    """One decision per query of ``frame``: ``query_id, query, model, expected_cost_usd, q:<model>...``.

    ``threshold`` (with ``strong``/``weak``) is RouteLLM's rule on the pair score; otherwise
    argmax Q̂ − lam·cost over the models with a price (every model when lam is 0). The
    expected cost is the pool price × (query tokens in + the output-length model's tokens
    out); NaN for unpriced models. ``routecraft route`` and both engines call this.
    """
    from ..policy import expected_cost
    from ..policy._cost import cost_decide
    from ..routers._base import pair_score_from_quality

    tasks = frame["task"].astype(str).tolist() if "task" in frame.columns else None
    frame = _with_ids(frame)
    models = list(router.models_)
    q = router.predict_quality(frame)
    cost = expected_cost(frame["query"].tolist(), models, pool, length_model, tasks)
    if threshold is not None:
        if not (strong and weak):
            raise DataError("a threshold policy needs strong and weak models", field="threshold")
        si, wi = router.model_index(strong), router.model_index(weak)
        choice = np.where(pair_score_from_quality(q, si, wi, router.quality_kind) >= threshold, si, wi)
    else:
        priced = np.isfinite(cost).all(axis=0) if len(frame) else np.ones(len(models), dtype=bool)
        if lam > 0 and not priced.any():
            raise DataError("no model of the router's pool has a price: give --pool pool.toml", field="lam")
        cols = np.flatnonzero(priced) if lam > 0 else np.arange(len(models))
        c = np.nan_to_num(cost[:, cols], nan=0.0) if lam == 0 else cost[:, cols]
        choice = cols[cost_decide(q[:, cols], c, lam)]
    rows = np.arange(len(frame))
    out = pd.DataFrame({
        "query_id": frame["query_id"].to_numpy(),
        "query": frame["query"].to_numpy(),
        "model": np.asarray(models, dtype=object)[choice],
        "expected_cost_usd": cost[rows, choice] if len(frame) else np.zeros(0),
    })
    for j, m in enumerate(models):
        out[f"q:{m}"] = q[:, j]
    return out


@dataclass(frozen=True)
class RouteJob:
    """:func:`decide_frame` per batch with a saved router, rebuilt on each worker from its artifact.

    ``pool`` travels as records and ``length_model`` as its dict, so the job stays plain data.
    """

    artifact: str
    lam: float = 0.0
    threshold: float | None = None
    strong: str | None = None
    weak: str | None = None
    pool: tuple[dict, ...] | None = None
    length_model: dict | None = None

    def __call__(self):
        from ..artifact import load_router
        from ..policy import OutputLengthModel

        router = load_router(self.artifact)
        pool = None if self.pool is None else pd.DataFrame(list(self.pool))
        length = None if self.length_model is None else OutputLengthModel.from_dict(self.length_model)

        def route(frame: pd.DataFrame) -> pd.DataFrame:
            return decide_frame(router, frame, lam=self.lam, threshold=self.threshold, strong=self.strong,
                                weak=self.weak, pool=pool, length_model=length)

        return route


@dataclass
class RouteSummary:
    """What a routed file amounts to: rows, decisions per model, expected spend (where priced)."""

    rows: int = 0
    counts: dict[str, int] | None = None
    expected_usd: float = 0.0
    unpriced_rows: int = 0

    def add(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.rows += len(frame)
        self.counts = self.counts or {}
        for m, n in frame["model"].value_counts().items():
            self.counts[m] = self.counts.get(m, 0) + int(n)
        known = frame["expected_cost_usd"].notna()
        self.expected_usd += float(frame.loc[known, "expected_cost_usd"].sum())
        self.unpriced_rows += int((~known).sum())
        return frame


def route_file(
    artifact: str | Path, queries: str | Path, out: str | Path, *, engine: str = "local",
    batch_rows: int = DEFAULT_BATCH_ROWS, lam: float = 0.0, threshold: float | None = None,
    strong: str | None = None, weak: str | None = None, pool: pd.DataFrame | None = None,
    length_model=None,
) -> RouteSummary:
    """Route every query of ``queries`` with the router saved at ``artifact``; one decision row per query."""
    records = None if pool is None else tuple(pool.astype(object).where(pool.notna(), None).to_dict("records"))
    job = RouteJob(str(artifact), float(lam), threshold, strong, weak, records,
                   None if length_model is None else length_model.to_dict())
    summary = RouteSummary()
    frames = map_frames(job, queries, engine=engine, batch_rows=batch_rows, columns=_query_columns(queries, ("task",)))
    write_frames((summary.add(f) for f in frames), out)
    return summary



# --------------------------------------------------------------- preferences
OUTCOME_COLUMNS = ["query_id", "model", "score"]
BUCKET_BYTES = 32 * 2**20  # input bytes per bucket: a bucket's conversion fits in memory


@dataclass(frozen=True)
class PreferencesJob:
    """Convert each bucket file of outcomes (all rows of its queries) to sorted preferences."""

    source: str = "gold"
    models: tuple[str, ...] | None = None

    def __call__(self):
        from ..data._convert import outcomes_to_preferences

        def convert(frame: pd.DataFrame) -> pd.DataFrame:
            parts = []
            for bucket in frame["bucket"]:
                outcomes = pd.read_parquet(bucket)
                if outcomes.duplicated(["query_id", "model"]).any():
                    row = outcomes[outcomes.duplicated(["query_id", "model"])].iloc[0]
                    raise DataError(
                        f"duplicate outcome for query {row['query_id']!r} and model {row['model']!r}",
                        field="query_id",
                    )
                prefs = outcomes_to_preferences(outcomes, self.models, source=self.source)
                parts.append(prefs.sort_values(["query_id", "model_a", "model_b"], kind="stable"))
            return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

        return convert


def _partition(outcomes: str | Path, tmp: Path, batch_rows: int) -> list[str]:
    """Spread outcome rows over bucket files by a hash of ``query_id`` (every query in one bucket)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    size = sum(f.stat().st_size for f in table_files(outcomes))
    n = max(1, math.ceil(size / BUCKET_BYTES))
    writers: dict[int, pq.ParquetWriter] = {}
    paths = [str(tmp / f"bucket-{b:05d}.parquet") for b in range(n)]
    try:
        for frame in iter_frames(outcomes, batch_rows, OUTCOME_COLUMNS):
            frame = frame.astype({"query_id": str, "model": str, "score": float})
            bucket = pd.util.hash_array(frame["query_id"].to_numpy(dtype=object)) % n
            for b, part in frame.groupby(bucket, sort=True):
                table = pa.Table.from_pandas(part, preserve_index=False)
                if b not in writers:
                    writers[b] = pq.ParquetWriter(paths[b], table.schema)
                writers[b].write_table(table)
    finally:
        for w in writers.values():
            w.close()
    return [paths[b] for b in sorted(writers)]


def preferences_file(
    outcomes: str | Path, out: str | Path, *, engine: str = "local", batch_rows: int = DEFAULT_BATCH_ROWS,
    source: str = "gold", models: Sequence[str] | None = None,
) -> int:
    """Pairwise preferences from an outcomes file of any size (``outcomes_to_preferences``, streamed).

    Rows are hash-partitioned by query into buckets that fit in memory; each bucket is
    converted on its own (in-process or as a Ray task). Output order: by bucket, then
    query, then pair — the same on both engines.
    """
    with tempfile.TemporaryDirectory(prefix="routecraft-prefs-") as tmp:
        buckets = _partition(outcomes, Path(tmp), batch_rows)
        index = Path(tmp) / "buckets.parquet"
        pd.DataFrame({"bucket": buckets}).to_parquet(index, index=False)
        job = PreferencesJob(source, None if models is None else tuple(models))
        return write_frames(map_frames(job, index, engine=engine, batch_rows=1), out)
