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
        known = ~np.isnan(self.train_scores_)
        scores = np.nan_to_num(self.train_scores_)
        for start in range(0, len(emb), BATCH):
            sims = emb[start : start + BATCH] @ self.train_embeddings_.T
            # stable top-k: sort by (-similarity, index) so ties never depend on the batch
            idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
            top = np.take_along_axis(sims, idx, axis=1)
            w = np.clip(top, 1e-6, None) if self.weighting == "similarity" else np.ones_like(top)
            w3 = w[:, :, None] * known[idx]
            num = (w3 * scores[idx]).sum(axis=1)
            den = w3.sum(axis=1)
            out[start : start + BATCH] = np.where(den > 0, num / np.where(den > 0, den, 1), self.prior_)
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
