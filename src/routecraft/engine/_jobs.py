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


def _query_columns(path: str | Path) -> list[str]:
    """``["query_id", "query"]``, or ``["query"]`` when the file has no ids."""
    first = next(iter_frames(path, 1), None)
    if first is None or "query" not in first.columns:
        raise DataError("needs a 'query' column", path=str(path), field="query")
    return ["query_id", "query"] if "query_id" in first.columns else ["query"]


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
@dataclass(frozen=True)
class RouteJob:
    """Q̂ and a decision per query from a saved router.

    ``threshold`` (with ``strong``/``weak``) applies RouteLLM's rule to the pair score;
    otherwise the cost policy picks argmax Q̂ − lam·cost. ``prices`` are per model
    ``(USD/Mtok in, USD/Mtok out, expected output tokens)`` in the router's model
    order; without them lam must be 0 and no cost is reported.
    """

    artifact: str
    lam: float = 0.0
    threshold: float | None = None
    strong: str | None = None
    weak: str | None = None
    prices: tuple[tuple[float, float, float], ...] | None = None

    def __call__(self):
        from ..artifact import load_router
        from ..data._dataset import estimate_tokens
        from ..policy import CostPolicy, ThresholdPolicy

        router = load_router(self.artifact)
        models = list(router.models_)
        price = None if self.prices is None else np.asarray(self.prices, dtype=float)
        if self.threshold is not None:
            if not (self.strong and self.weak):
                raise DataError("a threshold policy needs strong and weak models", field="threshold")
            pair = ThresholdPolicy(self.strong, self.weak, self.threshold)
            si, wi = router.model_index(self.strong), router.model_index(self.weak)
        cost_policy = CostPolicy(self.lam)

        def route(frame: pd.DataFrame) -> pd.DataFrame:
            frame = _with_ids(frame)
            q = router.predict_quality(frame)
            cost = None
            if price is not None:
                tokens_in = estimate_tokens(frame["query"].tolist())[:, None]
                cost = (tokens_in * price[None, :, 0] + price[None, :, 2] * price[None, :, 1]) / 1e6
            if self.threshold is not None:
                from ..routers._base import pair_score_from_quality

                choice = pair.decide(pair_score_from_quality(q, si, wi, router.quality_kind), models)
            else:
                choice = cost_policy.decide(q, cost)
            rows = np.arange(len(frame))
            out = {
                "query_id": frame["query_id"],
                "model": np.asarray(models, dtype=object)[choice],
                "quality": q[rows, choice],
                **{f"q:{m}": q[:, j] for j, m in enumerate(models)},
            }
            if cost is not None:
                out["expected_cost_usd"] = cost[rows, choice]
            return pd.DataFrame(out)

        return route


def route_file(
    artifact: str | Path, queries: str | Path, out: str | Path, *, engine: str = "local",
    batch_rows: int = DEFAULT_BATCH_ROWS, lam: float = 0.0, threshold: float | None = None,
    strong: str | None = None, weak: str | None = None,
    prices: Sequence[tuple[float, float, float]] | None = None,
) -> int:
    """Route every query of ``queries`` with the router saved at ``artifact``; one decision row per query."""
    job = RouteJob(str(artifact), float(lam), threshold, strong, weak, None if prices is None else tuple(map(tuple, prices)))
    frames = map_frames(job, queries, engine=engine, batch_rows=batch_rows, columns=_query_columns(queries))
    return write_frames(frames, out)


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
