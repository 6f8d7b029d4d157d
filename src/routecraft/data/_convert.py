"""Conversions between supervision tables.

Outcomes become preferences by comparing two models' scores on the same query (the
higher score wins, equal scores tie). This is how gold-labelled benchmark results
feed pairwise routers, as RouteLLM does with its MMLU "gold" augmentation.
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd


def outcomes_to_preferences(
    outcomes: pd.DataFrame,
    models: Sequence[str] | None = None,
    source: str = "gold",
    tie_tolerance: float = 0.0,
) -> pd.DataFrame:
    """All pairwise comparisons of models' scores per query, ties kept.

    ``models`` restricts (and orders) the pairs; ``model_a`` is always the earlier model
    in that order. Scores within ``tie_tolerance`` of each other are a tie.
    """
    wide = outcomes.pivot(index="query_id", columns="model", values="score")
    models = list(models) if models is not None else sorted(wide.columns)
    frames = []
    for a, b in combinations(models, 2):
        if a not in wide.columns or b not in wide.columns:
            continue
        pair = wide[[a, b]].dropna()
        diff = pair[a].to_numpy() - pair[b].to_numpy()
        winner = np.where(diff > tie_tolerance, "a", np.where(diff < -tie_tolerance, "b", "tie"))
        frames.append(
            pd.DataFrame(
                {"query_id": pair.index.to_numpy(), "model_a": a, "model_b": b, "winner": winner}
            )
        )
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype=object) for c in ("query_id", "model_a", "model_b", "winner", "source")}
        )
    prefs = pd.concat(frames, ignore_index=True)
    prefs["source"] = source
    return prefs
