"""CASCAL: label-free routing from the pool's own answers (RGD, arXiv 2601.09692; METHODS §B).

Training reads only which answer each pool model gave (and its log-prob when known):

1. consensus score of every (query, model): the posterior of the model's answer under
   confidence-weighted votes (:mod:`._consensus`);
2. skill niches, per subject (the queries' ``task``): for each model, the queries where
   it sided with a clear majority (agreement ≥ ``min_consensus``, weighted by the
   agreement) are clustered by weighted spherical k-means, k by silhouette; close
   centroids from all models are merged, every subject query goes to its nearest
   centroid, models are ranked per cluster by mean consensus score, and clusters whose
   top-3 models repeat a larger cluster's are folded into it (:mod:`._niches`);
3. routing: nearest subject, softmax(−d/0.1) weights over its ``k_nearest`` centroids,
   each cluster's scores sharpened by softmax((s − max)/0.1), blended towards the global
   ranking when the query is far from every centroid.

``supervision="labels"`` is the paper's CASCAL-GT, a query-answer variant: the same
niches built from the outcome ``score`` column (e.g. agreement with a generator's answer)
instead of consensus. Q̂ is the routing weight of each model (it sums to 1 over the
pool); with ``score_temperature=None`` it is the unsharpened expected consensus score.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from numbers import Real

from .._errors import DataError, ParameterError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, QueryInput, Router, as_queries
from ._constraints import (
    EMBEDDER, Interval, StrOptions, fraction, non_negative_real, positive_int, positive_real, seed,
)
from ._consensus import answer_matrix, consensus_scores, majority, robust_stats
from ._niches import (
    assign,
    cluster_scores,
    merge_close,
    normalise,
    prune_redundant,
    weighted_spherical_kmeans,
)

SUPERVISION = ("consensus", "labels")
NO_SUBJECT = "(all)"


def _softmax_rows(x: np.ndarray, temperature: float) -> np.ndarray:
    z = (x - x.max(axis=-1, keepdims=True)) / temperature
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class CascalRouter(EmbeddingRouterMixin, Router):
    """Consensus-scored skill niches per subject; see the module docstring for the algorithm."""

    _parameter_constraints = {
        "embedder": EMBEDDER,
        "supervision": [StrOptions(set(SUPERVISION))],
        "min_consensus": fraction("both"),
        "min_k": positive_int,
        "max_k": positive_int,
        "min_silhouette": [Interval(Real, -1, 1, closed="both")],
        "merge_threshold": non_negative_real,
        "prune_jaccard": fraction("both"),
        "k_nearest": positive_int,
        "distance_temperature": positive_real,
        "score_temperature": [*positive_real, None],
        "distance_threshold": [Interval(Real, None, None, closed="neither")],  # < 0: always the global ranking
        "blend_width": non_negative_real,
        "tau": positive_real,
        "random_state": seed,
    }
    state_schema = {
        "centroids": ("f", ("n_centroids", "dim")),
        "centroid_subject": ("iu", ("n_centroids",)),
        "cluster_scores": ("f", ("n_centroids", "n_models")),
        "subject_reps": ("f", ("n_subjects", "dim")),
        "global_scores": ("f", ("n_models",)),
        "logprob_median": ("f", ("n_models",)),
        "logprob_scale": ("f", ("n_models",)),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        supervision: str = "consensus",
        min_consensus: float = 0.5,
        min_k: int = 2,
        max_k: int = 5,
        min_silhouette: float = 0.05,
        merge_threshold: float = 0.15,
        prune_jaccard: float = 0.95,
        k_nearest: int = 3,
        distance_temperature: float = 0.1,
        score_temperature: float | None = 0.1,
        distance_threshold: float = 0.5,
        blend_width: float = 0.2,
        tau: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.supervision = supervision
        self.min_consensus = min_consensus
        self.min_k = min_k
        self.max_k = max_k
        self.min_silhouette = min_silhouette
        self.merge_threshold = merge_threshold
        self.prune_jaccard = prune_jaccard
        self.k_nearest = k_nearest
        self.distance_temperature = distance_temperature
        self.score_temperature = score_temperature
        self.distance_threshold = distance_threshold
        self.blend_width = blend_width
        self.tau = tau
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _validate_params(self) -> None:
        super()._validate_params()
        if self.min_k > self.max_k:
            raise ParameterError(f"CascalRouter: min_k ({self.min_k}) must be ≤ max_k ({self.max_k})")

    def _fit(self, data: Dataset) -> None:
        models = data.models
        if data.outcomes is None:
            raise DataError(f"dataset '{data.name}' has no outcomes table")
        if self.supervision == "consensus":
            answers, logprobs, answered = answer_matrix(data, models)
            scores = consensus_scores(answers, logprobs, answered, tau=self.tau)
            in_major, ratio = majority(answers)
            proficient = in_major & (ratio >= self.min_consensus)[:, None]
            weights = np.tile(ratio[:, None], (1, len(models)))
            self.logprob_median_, self.logprob_scale_ = robust_stats(logprobs)
        else:
            scores = data.score_matrix(models)
            proficient = np.nan_to_num(scores, nan=0.0) >= 0.5
            weights = np.ones_like(scores)
            self.logprob_median_, self.logprob_scale_ = np.zeros(len(models)), np.ones(len(models))
        self.models_ = models
        x = normalise(self._fit_embedder(data.texts).astype(float))
        with np.errstate(all="ignore"):
            glob = np.nanmean(scores, axis=0)
        self.global_scores_ = np.nan_to_num(glob, nan=0.0)
        subjects = self._subjects(data)
        self.subjects_ = sorted(set(subjects))
        centroids, owner, table = [], [], []
        with threadpool_limits(1):  # many small k-means/silhouette problems: threads only add start-up cost
            for s_idx, subject in enumerate(self.subjects_):
                rows = np.flatnonzero(subjects == subject)
                c, labels = self._subject_niches(x[rows], proficient[rows], weights[rows])
                block = cluster_scores(labels, len(c), scores[rows], self.global_scores_)
                if len(c) > 1:  # fold clusters that rank the same top-3, then re-centre on members
                    labels = prune_redundant(labels, block, self.prune_jaccard)
                    k = int(labels.max()) + 1
                    c = normalise(np.array([x[rows][labels == i].mean(axis=0) for i in range(k)]))
                    block = cluster_scores(labels, k, scores[rows], self.global_scores_)
                centroids.append(c)
                table.append(block)
                owner += [s_idx] * len(c)
        self.centroids_ = np.vstack(centroids)
        self.centroid_subject_ = np.array(owner, dtype=np.int64)
        self.cluster_scores_ = np.vstack(table)
        self.subject_reps_ = normalise(
            np.array([self.centroids_[self.centroid_subject_ == s].mean(axis=0) for s in range(len(self.subjects_))])
        )

    @staticmethod
    def _subjects(data: Dataset) -> np.ndarray:
        if "task" not in data.queries.columns:
            return np.full(len(data), NO_SUBJECT, dtype=object)
        return data.queries["task"].where(data.queries["task"].notna(), NO_SUBJECT).astype(str).to_numpy(dtype=object)

    def _subject_niches(self, x: np.ndarray, proficient: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centroids of one subject and the cluster label of each of its queries."""
        cents, counts = [], []
        for j in range(proficient.shape[1]):
            rows = np.flatnonzero(proficient[:, j])
            if rows.size == 0:
                continue
            c, n = weighted_spherical_kmeans(
                x[rows], weights[rows, j], min_k=int(self.min_k), max_k=int(self.max_k),
                min_silhouette=self.min_silhouette, seed=int(self.random_state),
            )
            cents.append(c)
            counts.append(n)
        if not cents:  # nobody sided with a clear majority here: one niche for the subject
            c = normalise(x.mean(axis=0, keepdims=True))
            return c, np.zeros(len(x), dtype=int)
        merged, _ = merge_close(np.vstack(cents), np.concatenate(counts), self.merge_threshold)
        labels = assign(x, merged)
        used = np.unique(labels)
        return merged[used], np.searchsorted(used, labels)

    # -------------------------------------------------------------- predict
    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        e = normalise(self._embed(queries["query"].tolist()).astype(float))
        subject = np.argmax(e @ self.subject_reps_.T, axis=1)
        out = np.empty((len(e), len(self.models_)))
        sharpen = self._sharpen
        global_row = sharpen(self.global_scores_[None])[0]
        for s in np.unique(subject):
            rows = np.flatnonzero(subject == s)
            cidx = np.flatnonzero(self.centroid_subject_ == s)
            dist = 1.0 - e[rows] @ self.centroids_[cidx].T  # (r, c)
            k = min(int(self.k_nearest), len(cidx))
            near = np.argsort(dist, axis=1, kind="stable")[:, :k]
            d = np.take_along_axis(dist, near, axis=1)
            w = _softmax_rows(-d, self.distance_temperature)
            per_cluster = sharpen(self.cluster_scores_[cidx])  # (c, m)
            p = np.einsum("rk,rkm->rm", w, per_cluster[near])
            alpha = np.clip((d[:, 0] - self.distance_threshold) / self.blend_width, 0.0, 1.0)
            out[rows] = (1.0 - alpha[:, None]) * p + alpha[:, None] * global_row
        return out

    def _sharpen(self, scores: np.ndarray) -> np.ndarray:
        if self.score_temperature is None:
            return scores
        return _softmax_rows(scores, float(self.score_temperature))

    def vote(
        self,
        queries: QueryInput,
        answers: np.ndarray,
        logprobs: np.ndarray | None = None,
        k: int = 3,
    ) -> tuple[list[str | None], np.ndarray]:
        """Top-k answer voting: ask the ``k`` best-ranked models, return the majority answer.

        ``answers`` is (n_queries, n_models) in ``models_`` order (None where a model gave
        none). With no majority, the answer of the model most confident relative to its
        own log-prob history wins (z-score against the training median/MAD); without
        log-probs, the top-ranked model's. Returns (answers, chosen model indices (n, k)).
        """
        q = self.predict_quality(as_queries(queries))
        answers = np.asarray(answers, dtype=object)
        if answers.shape != q.shape:
            raise DataError(f"answers must have shape {q.shape} (queries × models_), got {answers.shape}")
        k = min(int(k), q.shape[1])
        top = np.argsort(-q, axis=1, kind="stable")[:, :k]
        z = None
        if logprobs is not None:
            z = (np.asarray(logprobs, dtype=float) - self.logprob_median_) / self.logprob_scale_
        chosen: list[str | None] = []
        for i, models in enumerate(top):
            picks = [answers[i, j] for j in models]
            counts: dict[str, int] = {}
            for a in picks:
                if a is not None:
                    counts[a] = counts.get(a, 0) + 1
            if not counts:
                chosen.append(None)
                continue
            best = max(counts.values())
            if best > 1 or len(counts) == 1:
                chosen.append(next(a for a in picks if a is not None and counts[a] == best))
                continue
            ranked: Sequence[int] = list(models)
            if z is not None:
                ranked = sorted(models, key=lambda j: -np.nan_to_num(z[i, j], nan=-np.inf))
            chosen.append(next(answers[i, j] for j in ranked if answers[i, j] is not None))
        return chosen, top

    # ---------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        state["subjects_"] = list(self.subjects_)
        arrays.update(
            centroids=self.centroids_,
            centroid_subject=self.centroid_subject_,
            cluster_scores=self.cluster_scores_,
            subject_reps=self.subject_reps_,
            global_scores=self.global_scores_,
            logprob_median=self.logprob_median_,
            logprob_scale=self.logprob_scale_,
        )
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.subjects_ = list(state["subjects_"])
        self.centroids_ = arrays["centroids"]
        self.centroid_subject_ = arrays["centroid_subject"]
        self.cluster_scores_ = arrays["cluster_scores"]
        self.subject_reps_ = arrays["subject_reps"]
        self.global_scores_ = arrays["global_scores"]
        self.logprob_median_ = arrays["logprob_median"]
        self.logprob_scale_ = arrays["logprob_scale"]
