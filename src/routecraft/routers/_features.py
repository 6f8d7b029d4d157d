"""Query features beside the embedding: length, and the query's task as predicted from its text.

Outcome learners that take a feature matrix (LightGBM, the outcome IRT) can add two
cheap signals to the embedding:

- ``length``: log character and word counts. Long prompts (multi-part maths, code with
  context) are where weak models fail more often, and an L2-normalised embedding
  has thrown the length away.
- ``task``: the probability of each training task label (``queries.task``: MMLU
  subject, LLMRouter task, RouterArena source...). Routing-time queries carry no task
  label, so the label is *predicted* from the embedding: a softmax over the cosine
  to each task's training centroid (temperature ``TASK_TEMPERATURE``), a nearest-centroid
  classifier that costs one product to fit and to apply (a multinomial logistic
  regression over 50–80 labels cost seconds per fit, times every cross-fitting fold).
  The router then learns per-task skill from a feature it can compute on any query. Datasets without a ``task`` column (or
  with one label) get no task features.

The featuriser is plain state (classes, coefficients) so routers save it as JSON +
arrays like everything else.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

FEATURE_SETS = ("embedding", "embedding+length", "embedding+task", "embedding+length+task")
MAX_TASKS = 64  # more labels than this are source ids, not tasks: keep the most frequent
TASK_TEMPERATURE = 0.05


def length_features(texts: Sequence[str]) -> np.ndarray:
    """(n, 2) float32: log1p(characters) / 10 and log1p(words) / 10 (≈ unit scale)."""
    chars = np.fromiter((len(t) for t in texts), dtype=np.float64, count=len(texts))
    words = np.fromiter((len(t.split()) for t in texts), dtype=np.float64, count=len(texts))
    return (np.column_stack([np.log1p(chars), np.log1p(words)]) / 10.0).astype(np.float32)


def _check(features: str) -> tuple[bool, bool]:
    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {', '.join(FEATURE_SETS)}; got {features!r}")
    return "length" in features, "task" in features


class QueryFeaturizer:
    """Embedding ⊕ optional length ⊕ optional predicted-task probabilities."""

    def __init__(self, features: str = "embedding") -> None:
        self.use_length, self.use_task = _check(features)
        self.features = features
        self.task_classes: list[str] = []
        self.task_coef = np.zeros((0, 0), dtype=np.float64)
        self.task_intercept = np.zeros(0, dtype=np.float64)

    def fit(self, emb: np.ndarray, tasks: Sequence[Any] | None) -> "QueryFeaturizer":
        if not self.use_task or tasks is None:
            return self
        labels = np.asarray(["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in tasks])
        values, counts = np.unique(labels[labels != ""], return_counts=True)
        keep = set(values[np.argsort(-counts, kind="stable")][:MAX_TASKS])
        rows = np.flatnonzero(np.isin(labels, list(keep)))
        if len(keep) < 2:
            return self
        classes = sorted(keep)
        centroids = np.stack([emb[rows][labels[rows] == c].astype(np.float64).mean(axis=0) for c in classes])
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self.task_classes = [str(c) for c in classes]
        self.task_coef = centroids / np.where(norms == 0, 1.0, norms) / TASK_TEMPERATURE
        self.task_intercept = np.zeros(len(classes))
        return self

    def transform(self, emb: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        parts = [np.asarray(emb, dtype=np.float32)]
        if self.use_length:
            parts.append(length_features(texts))
        if self.task_classes:
            z = emb.astype(np.float64) @ self.task_coef.T + self.task_intercept
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            parts.append((p / p.sum(axis=1, keepdims=True)).astype(np.float32))
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"features": self.features, "task_classes": self.task_classes}, {
            "task_coef": self.task_coef,
            "task_intercept": self.task_intercept,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> "QueryFeaturizer":
        out = cls(state["features"])
        out.task_classes = list(state["task_classes"])
        out.task_coef, out.task_intercept = arrays["task_coef"], arrays["task_intercept"]
        return out


def dataset_tasks(data: Any) -> list[Any] | None:
    """The training queries' task labels, or None when the dataset has none."""
    return data.queries["task"].tolist() if "task" in data.queries.columns else None


class FeatureRouterMixin:
    """Routers with ``embedder`` and ``features`` parameters: fit, apply and persist the featuriser.

    Sits before :class:`~routecraft.routers._base.EmbeddingRouterMixin` in the MRO, so a
    router's ``_get_state``/``_set_state`` that call ``super()`` save both.
    """

    def _fit_features(self, data: Any) -> np.ndarray:
        texts = data.texts
        emb = self._fit_embedder(texts)  # type: ignore[attr-defined]
        self.featurizer_ = QueryFeaturizer(self.features).fit(emb, dataset_tasks(data))  # type: ignore[attr-defined]
        return self.featurizer_.transform(emb, texts)

    def _features_for(self, texts: list[str]) -> np.ndarray:
        return self.featurizer_.transform(self._embed(texts), texts)  # type: ignore[attr-defined]

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()  # type: ignore[misc]
        f_state, f_arrays = self.featurizer_.get_state()
        state["featurizer_"] = f_state
        arrays.update({f"features.{k}": v for k, v in f_arrays.items()})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)  # type: ignore[misc]
        prefix = "features."
        self.featurizer_ = QueryFeaturizer.from_state(
            state["featurizer_"], {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        )
