"""Preference augmentation as RouteLLM does it: mix battles from several sources.

RouteLLM's best routers learn from Chatbot Arena battles *plus* augmentation: "gold"
pairs derived from benchmark correctness (MMLU) and "judge" pairs from GPT-4 grades.
Here every source becomes a preference table and the sources are concatenated with
per-source weights in the ``weight`` column, which the pairwise routers honour; so a
small trusted source can count as much as a large noisy one.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .._errors import DataError, shown
from ._convert import outcomes_to_preferences
from ._dataset import Dataset
from ._tables import validate_preferences


def dataset_preferences(data: Dataset) -> pd.DataFrame:
    """The battles a dataset holds: its preferences table, else pairs derived from its outcomes.

    Outcome-derived pairs compare scores per query (ties kept) and are marked
    ``source="gold"``. Raises DataError when the dataset yields no battle.
    """
    if data.preferences is not None and len(data.preferences):
        return data.preferences
    if data.outcomes is not None:
        prefs = outcomes_to_preferences(data.outcomes, data.models, source="gold")
        if len(prefs):
            return prefs
    raise DataError(f"dataset '{data.name}' has no preference battles (and no outcomes to derive them from)")


def mix_preferences(
    sources: Sequence[tuple[pd.DataFrame, float]], normalize: bool = False
) -> pd.DataFrame:
    """Concatenate preference tables, weighting each source.

    ``sources`` is ``[(prefs, weight), ...]``. Each row's ``weight`` (1 where absent)
    is multiplied by its source's weight. With ``normalize=True`` the weights are
    shares of influence instead: source s's rows are rescaled so its total weight is
    ``weight_s / Σ weights`` of the mixture's total (which stays the number of rows),
    whatever its size. ``source``/``judge`` columns are kept as they are.
    """
    if not sources:
        raise DataError("mix_preferences needs at least one (preferences, weight) source")
    frames, totals = [], []
    for i, (prefs, weight) in enumerate(sources):
        if not np.isfinite(weight) or weight < 0:
            raise DataError(f"source {i}: mixing weight must be a finite number >= 0, got {shown(weight)}", field="weight")
        table = validate_preferences(prefs, path=f"source {i}")
        rows = table["weight"].fillna(1.0) if "weight" in table.columns else pd.Series(1.0, index=table.index)
        frames.append(table.assign(weight=rows.to_numpy(dtype=float)))
        totals.append(float(weight))
    n_rows = sum(len(f) for f in frames)
    share_sum = sum(totals)
    for frame, weight in zip(frames, totals):
        if normalize:
            own = frame["weight"].sum()
            scale = weight / share_sum * n_rows / own if own > 0 and share_sum > 0 else 0.0
        else:
            scale = weight
        frame["weight"] *= scale
    return validate_preferences(pd.concat(frames, ignore_index=True))


def mix_datasets(
    sources: Sequence[tuple[Dataset, float]], name: str = "mixed", normalize: bool = False
) -> Dataset:
    """One preference dataset from several, e.g. arena battles + gold pairs + judge pairs.

    Queries are the union (a query_id must have the same text everywhere); battles are
    :func:`dataset_preferences` of each source mixed by :func:`mix_preferences`; the
    pool is the union of the sources' pools (first price wins). Outcomes are not
    carried over: the result is what pairwise routers learn from.
    """
    if not sources:
        raise DataError("mix_datasets needs at least one (dataset, weight) source")
    queries = pd.concat([d.queries for d, _ in sources], ignore_index=True)
    first = queries.drop_duplicates("query_id")
    text = first.set_index("query_id")["query"]
    clash = np.flatnonzero(text.reindex(queries["query_id"]).to_numpy() != queries["query"].to_numpy())
    if clash.size:
        qid = queries["query_id"].iloc[clash[0]]
        raise DataError(f"query_id {qid!r} has different texts in different sources", field="query_id")
    pools = [d.pool for d, _ in sources if d.pool is not None]
    pool = pd.concat(pools, ignore_index=True).drop_duplicates("model").reset_index(drop=True) if pools else None
    prefs = mix_preferences([(dataset_preferences(d), w) for d, w in sources], normalize=normalize)
    meta = {"name": name, "sources": [{"name": d.name, "weight": float(w)} for d, w in sources]}
    return Dataset(first.reset_index(drop=True), preferences=prefs, pool=pool, meta=meta)


def judge_preferences_from_ratings(
    ratings: pd.DataFrame,
    models: Sequence[str] | None = None,
    judge: str = "gpt-4",
    score_column: str = "score",
    tie_tolerance: float = 0.0,
) -> pd.DataFrame:
    """Judge battles from single-answer grades (e.g. MT-bench GPT-4 scores 1–10).

    ``ratings`` has ``query_id``, ``model`` and ``score_column``; several rows per
    (query, model), such as MT-bench's two turns, are averaged first. On each query
    every pair of graded models is a battle: the higher grade wins, grades within
    ``tie_tolerance`` tie. Rows are marked ``source="judge"`` and ``judge=judge``.
    """
    for col in ("query_id", "model", score_column):
        if col not in ratings.columns:
            raise DataError(f"ratings table is missing column '{col}'", field=col)
    grades = pd.to_numeric(ratings[score_column], errors="coerce")
    bad = np.flatnonzero(grades.isna().to_numpy() & ratings[score_column].notna().to_numpy())
    if bad.size:
        raise DataError(f"not a number: {shown(ratings[score_column].iloc[bad[0]])}", row=int(bad[0]) + 1, field=score_column)
    mean = (
        ratings.assign(score=grades.to_numpy())
        .dropna(subset=["score"])
        .groupby(["query_id", "model"], as_index=False, sort=False)["score"]
        .mean()
    )
    prefs = outcomes_to_preferences(mean, models, source="judge", tie_tolerance=tie_tolerance)
    return prefs.assign(judge=judge)
