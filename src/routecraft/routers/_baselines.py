"""Baseline routers: random, always-<model>, best-single and the oracle.

They bound what a learned router is worth: a router that cannot beat ``random`` on a
benchmark has found no signal there, and ``oracle`` shows the most any router could get.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError, UnknownModelError
from ..data._dataset import Dataset
from ._base import Router
from ._constraints import seed


class RandomRouter(Router):
    """Uniform random quality per (query, model), fixed by ``random_state`` and the query id.

    Depending on the query id (not on its position in a batch) makes predictions
    reproducible whatever the batching.
    """

    learns_from = ("outcomes", "preferences")
    _parameter_constraints = {"random_state": seed}
    state_schema: dict = {}

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, data: Dataset) -> None:
        self.models_ = data.models

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        m = len(self.models_)
        out = np.empty((len(queries), m))
        for i, qid in enumerate(queries["query_id"]):
            seed = int.from_bytes(hashlib.sha256(f"{self.random_state}:{qid}".encode()).digest()[:8], "big")
            out[i] = np.random.default_rng(seed).random(m)
        return out


class AlwaysRouter(Router):
    """Always prefers ``model``: Q̂ is 1 for it and 0 for every other model."""

    learns_from = ("outcomes", "preferences")

    _parameter_constraints = {"model": [str]}
    state_schema: dict = {}

    def __init__(self, model: str = "") -> None:
        self.model = model

    def _fit(self, data: Dataset) -> None:
        if self.model not in data.models:
            raise UnknownModelError(
                f"AlwaysRouter: model {self.model!r} is not in dataset '{data.name}' ({', '.join(data.models)})"
            )
        self.models_ = data.models

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(queries), len(self.models_)))
        out[:, self.models_.index(self.model)] = 1.0
        return out


class BestSingleRouter(Router):
    """Predicts each model's mean training score for every query (no per-query signal)."""

    state_schema = {"mean_scores": ("f", ("n_models",))}

    def _fit(self, data: Dataset) -> None:
        self.models_ = data.models
        self.mean_scores_ = np.nanmean(data.score_matrix(self.models_), axis=0)

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        return np.tile(self.mean_scores_, (len(queries), 1))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return state, {**arrays, "mean_scores": self.mean_scores_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.mean_scores_ = arrays["mean_scores"]


class OracleRouter(Router):
    """Knows the true score of every query it was fitted on: the upper bound of routing.

    The evaluator fits it on the test split itself (``needs_test_labels``). Asking it
    about a query it has no scores for is an error, not a guess.
    """

    needs_test_labels = True

    state_schema = {"query_ids": ("U", ("n_queries",)), "scores": ("f", ("n_queries", "n_models"))}

    def _fit(self, data: Dataset) -> None:
        self.models_ = data.models
        self.query_ids_ = np.asarray(data.query_ids, dtype=str)
        scores = data.score_matrix(self.models_)
        self.scores_ = np.where(np.isnan(scores), 0.0, scores)

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        idx = pd.Index(self.query_ids_).get_indexer(queries["query_id"])
        if (idx < 0).any():
            missing = queries["query_id"].to_numpy()[idx < 0][0]
            raise DataError(f"OracleRouter has no scores for query_id {missing!r}; fit it on the data it routes")
        return self.scores_[idx]

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return state, {**arrays, "query_ids": self.query_ids_, "scores": self.scores_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.query_ids_ = arrays["query_ids"]
        self.scores_ = arrays["scores"]
