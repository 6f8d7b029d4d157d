"""Cluster router (Avengers-Pro style): embed → k-means → per-cluster quality table.

Training queries are clustered by k-means on their (unit) embeddings; each cluster
keeps every model's mean score, shrunk towards the model's global mean by a prior of
``smoothing`` pseudo-queries so that small clusters do not route on noise. A query's
Q̂ is the similarity-weighted mix of the tables of its ``top_k`` nearest centroids.
The table is all a deployment needs: O(clusters) per query, readable by a human
("cluster 7 = SQL questions: model B wins").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER, normalise_rows
from ._base import EmbeddingRouterMixin, Router
from ._constraints import EMBEDDER, non_negative_real, positive_int, positive_real, seed


class ClusterRouter(EmbeddingRouterMixin, Router):
    """Per-cluster, per-model mean score table over k-means clusters of the query embeddings.

    Parameters
    ----------
    embedder : spec of the query embedder.
    n_clusters : k of k-means (capped at a tenth of the training queries).
    top_k : nearest centroids mixed per query, weighted by a softmax of their cosine
        at ``temperature``.
    smoothing : pseudo-count of the global mean added to every cluster's mean.
    random_state : seeds k-means.
    """

    _parameter_constraints = {
        "embedder": EMBEDDER,
        "n_clusters": positive_int,
        "top_k": positive_int,
        "temperature": positive_real,
        "smoothing": non_negative_real,
        "random_state": seed,
    }
    state_schema = {
        "table": ("f", ("n_clusters", "n_models")),
        "counts": ("biuf", None),
        "centroids": ("f", ("n_clusters", "dim")),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        n_clusters: int = 32,
        top_k: int = 3,
        temperature: float = 0.05,
        smoothing: float = 5.0,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.n_clusters = n_clusters
        self.top_k = top_k
        self.temperature = temperature
        self.smoothing = smoothing
        self.random_state = random_state

    def _fit(self, data: Dataset) -> None:
        from sklearn.cluster import KMeans

        if int(self.n_clusters) < 1 or int(self.top_k) < 1 or not self.temperature > 0:
            raise ValueError("n_clusters and top_k must be >= 1 and temperature > 0")
        self.models_ = data.models
        emb = self._fit_embedder(data.texts)
        scores = data.score_matrix(self.models_)
        if not np.isfinite(scores).any():
            raise DataError(f"dataset '{data.name}' has no scores to learn from")
        k = max(1, min(int(self.n_clusters), len(emb) // 10))
        km = KMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit(emb.astype(np.float64))
        labels = km.labels_
        known = np.isfinite(scores)
        filled = np.nan_to_num(scores)
        glob = np.nan_to_num(np.nanmean(np.where(known, scores, np.nan), axis=0), nan=0.5)
        sums = np.zeros((k, len(self.models_)))
        counts = np.zeros((k, len(self.models_)))
        np.add.at(sums, labels, filled)
        np.add.at(counts, labels, known.astype(float))
        a = float(self.smoothing)
        self.table_ = (sums + a * glob) / (counts + a) if a > 0 else np.where(counts > 0, sums / np.maximum(counts, 1), glob)
        self.counts_ = counts
        self.centroids_ = normalise_rows(km.cluster_centers_)

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        emb = self._embed(queries["query"].tolist())
        sims = emb @ self.centroids_.T
        k = min(int(self.top_k), len(self.centroids_))
        idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(sims, idx, axis=1).astype(np.float64)
        w = np.exp((top - top[:, :1]) / float(self.temperature))
        w /= w.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkm->nm", w, self.table_[idx])

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return state, {**arrays, "table": self.table_, "counts": self.counts_, "centroids": self.centroids_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.table_, self.counts_, self.centroids_ = arrays["table"], arrays["counts"], arrays["centroids"]
