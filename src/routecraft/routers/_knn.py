"""k-nearest-neighbour outcome router: a query's quality is its neighbours' scores.

The strongest simple baseline in RouterBench-style studies. Similarities are cosine
(embeddings are L2-normalised), neighbours are weighted by similarity, and models a
neighbour has no score for are skipped for that neighbour rather than counted as 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, Router, TextRouterMixin
from ._constraints import EMBEDDER, StrOptions, positive_int

BATCH = 1024  # queries per similarity block: bounds memory at BATCH × n_train floats


def top_neighbours(emb: np.ndarray, train: np.ndarray, k: int, exclude: np.ndarray | None = None):
    """Yield ``(start, similarities, indices)`` of the ``k`` most similar training rows, per block.

    Ties are broken by index (a stable sort of −similarity, rounded to 1e-6 first: a
    float32 matrix product's last bits depend on the batch's shape, and TF-IDF has many exact
    ties), so a query's neighbours never depend on the batch it came in. ``exclude[i]`` (optional) is a training row
    query i may not use: itself, for leave-one-out tuning.
    """
    for start in range(0, len(emb), BATCH):
        sims = emb[start : start + BATCH] @ train.T
        if exclude is not None:
            sims[np.arange(len(sims)), exclude[start : start + BATCH]] = -np.inf
        idx = np.argsort(-np.round(sims, 6), axis=1, kind="stable")[:, :k]
        yield start, np.take_along_axis(sims, idx, axis=1), idx


def neighbour_mean(weights: np.ndarray, idx: np.ndarray, scores: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Weighted mean of the neighbours' scores per model; a neighbour without a score for a model is skipped."""
    known = ~np.isnan(scores[idx])
    w3 = weights[:, :, None] * known
    num = (w3 * np.nan_to_num(scores[idx])).sum(axis=1)
    den = w3.sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1), prior)


class KNNRouter(TextRouterMixin, EmbeddingRouterMixin, Router):
    """Similarity-weighted mean score of the ``k`` most similar training queries, per model."""

    _parameter_constraints = {
        "embedder": EMBEDDER, "k": positive_int, "weighting": [StrOptions({"similarity", "uniform"})],
    }
    state_schema = {
        "train_embeddings": ("f", ("n_train", "dim")),
        "train_scores": ("f", ("n_train", "n_models")),
        "prior": ("f", ("n_models",)),
    }

    def __init__(self, embedder: str = DEFAULT_EMBEDDER, k: int = 20, weighting: str = "similarity") -> None:
        self.embedder = embedder
        self.k = k
        self.weighting = weighting

    def _fit(self, data: Dataset) -> None:
        self.models_ = data.models
        self.train_embeddings_ = self._fit_embedder(data.texts)
        self.train_scores_ = data.score_matrix(self.models_)
        self.prior_ = np.nan_to_num(np.nanmean(self.train_scores_, axis=0), nan=0.5)

    def _predict_texts(self, texts: list[str]) -> np.ndarray:
        emb = self._embed(texts)
        k = min(int(self.k), len(self.train_embeddings_))
        out = np.empty((len(emb), len(self.models_)))
        for start, top, idx in top_neighbours(emb, self.train_embeddings_, k):
            w = np.clip(top, 1e-6, None) if self.weighting == "similarity" else np.ones_like(top)
            out[start : start + len(top)] = neighbour_mean(w, idx, self.train_scores_, self.prior_)
        return out

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return state, {
            **arrays,
            "train_embeddings": self.train_embeddings_,
            "train_scores": self.train_scores_,
            "prior": self.prior_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.train_embeddings_ = arrays["train_embeddings"]
        self.train_scores_ = arrays["train_scores"]
        self.prior_ = arrays["prior"]
