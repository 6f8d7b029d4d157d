"""What the pairwise (preference) routers share: turning a dataset into encoded battles.

SW ranking and matrix factorisation both learn from battles "model A vs model B on
query q, winner w", which :func:`routecraft.data._augment.dataset_preferences` takes
from a dataset's preferences or derives from its outcomes; here they become index
arrays over the router's queries and models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import DataError, shown
from ..data._dataset import Dataset

# P(model_a wins) that each winner label stands for; a tie is half a win for each side,
# which is what RouteLLM's "one tie = one win for each side over duplicated battles" amounts to.
WIN_TARGET = {"a": 1.0, "b": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class Battles:
    """Encoded battles: one entry per preference row, arrays of equal length.

    ``query`` indexes ``query_ids``; ``a``/``b`` index the router's ``models_``;
    ``target`` is P(a wins) in {0, 0.5, 1}; ``weight`` is the row's ``weight`` (1 if absent).
    """

    query_ids: list[str]
    query: np.ndarray
    a: np.ndarray
    b: np.ndarray
    target: np.ndarray
    weight: np.ndarray


def encode_battles(prefs: pd.DataFrame, data: Dataset, models: list[str]) -> Battles:
    """Index battles by query (in ``data`` order, only queries with battles) and model."""
    model_index = pd.Index(models)
    a = model_index.get_indexer(prefs["model_a"])
    b = model_index.get_indexer(prefs["model_b"])
    unknown = np.flatnonzero((a < 0) | (b < 0))
    if unknown.size:
        row = int(unknown[0])
        raise DataError(
            f"battle between {shown(prefs['model_a'].iloc[row])} and {shown(prefs['model_b'].iloc[row])} "
            f"names a model outside the pool ({', '.join(models)})",
            row=row + 1,
            field="model_a",
        )
    present = set(prefs["query_id"])
    query_ids = [q for q in data.query_ids if q in present]
    query = pd.Index(query_ids).get_indexer(prefs["query_id"])
    weight = (
        prefs["weight"].fillna(1.0).to_numpy(dtype=float)
        if "weight" in prefs.columns
        else np.ones(len(prefs))
    )
    return Battles(
        query_ids=query_ids,
        query=query.astype(np.int64),
        a=a.astype(np.int64),
        b=b.astype(np.int64),
        target=prefs["winner"].map(WIN_TARGET).to_numpy(dtype=float),
        weight=weight,
    )
