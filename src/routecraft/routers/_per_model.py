"""Per-model predictors on query embeddings: logistic regression and a small MLP.

Each model of the pool gets its own predictor of its score from the query embedding,
trained only on the queries that model has a score for (pools with partial coverage,
like MMLU-Pro's incomplete runs, lose nothing). Fractional scores are learned as soft
labels. Predictions run as plain numpy from exported weights, so an artifact needs
nothing but arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import DataError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, Router, TextRouterMixin
from ._constraints import EMBEDDER, non_negative_real, positive_int, positive_real, seed


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _labelled_rows(scores: np.ndarray, model: str, j: int) -> np.ndarray:
    rows = np.flatnonzero(~np.isnan(scores[:, j]))
    if rows.size == 0:
        raise DataError(f"model {model!r} has no scores in the training data")
    return rows


def soft_logistic(x: np.ndarray, y: np.ndarray, C: float, max_iter: int = 1000) -> tuple[np.ndarray, float]:
    """L2 logistic regression on soft labels y ∈ [0, 1]: (coef, intercept).

    Each row counts as a positive of weight y and a negative of weight 1 − y. One class
    only (all 0 or all 1) gives a constant predictor, which scikit-learn cannot fit.
    """
    from sklearn.linear_model import LogisticRegression

    if np.all(y == y[0]) and y[0] in (0.0, 1.0):
        return np.zeros(x.shape[1]), 20.0 if y[0] == 1.0 else -20.0
    clf = LogisticRegression(C=C, max_iter=max_iter)
    clf.fit(np.vstack([x, x]), np.r_[np.ones(len(y)), np.zeros(len(y))], sample_weight=np.r_[y, 1.0 - y])
    return clf.coef_[0].copy(), float(clf.intercept_[0])


class _PerModelRouter(TextRouterMixin, EmbeddingRouterMixin, Router):
    """Shared fitting loop: embed once, fit one predictor per model, predict with numpy."""

    def _fit(self, data: Dataset) -> None:
        self.models_ = data.models
        x = self._fit_embedder(data.texts)
        scores = data.score_matrix(self.models_)
        self._fit_models(x, scores)

    def _predict_texts(self, texts: list[str]) -> np.ndarray:
        return self._forward(self._embed(texts))

    def _fit_models(self, x: np.ndarray, scores: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _weights(self) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return state, {**arrays, **self._weights()}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self._load_weights(arrays)

    def _load_weights(self, arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class LogisticRouter(_PerModelRouter):
    """One L2-regularised logistic regression per model: P(model answers well | query)."""

    _parameter_constraints = {"embedder": EMBEDDER, "C": positive_real, "max_iter": positive_int}
    state_schema = {"coef": ("f", ("n_models", "dim")), "intercept": ("f", ("n_models",))}

    def __init__(self, embedder: str = DEFAULT_EMBEDDER, C: float = 1.0, max_iter: int = 1000) -> None:
        self.embedder = embedder
        self.C = C
        self.max_iter = max_iter

    def _fit_models(self, x: np.ndarray, scores: np.ndarray) -> None:
        coef = np.zeros((len(self.models_), x.shape[1]))
        intercept = np.zeros(len(self.models_))
        for j, model in enumerate(self.models_):
            rows = _labelled_rows(scores, model, j)
            coef[j], intercept[j] = soft_logistic(x[rows], scores[rows, j], self.C, self.max_iter)
        self.coef_, self.intercept_ = coef, intercept

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(x @ self.coef_.T + self.intercept_)

    def _weights(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": self.intercept_}

    def _load_weights(self, arrays: dict[str, np.ndarray]) -> None:
        self.coef_, self.intercept_ = arrays["coef"], arrays["intercept"]


class MLPRouter(_PerModelRouter):
    """One small ReLU MLP regressor per model (scikit-learn, early stopping), outputs clipped to [0, 1]."""

    _parameter_constraints = {
        "embedder": EMBEDDER, "hidden_size": positive_int, "alpha": non_negative_real,
        "max_iter": positive_int, "random_state": seed,
    }
    state_schema = {
        "w1": ("f", ("n_models", "dim", "hidden")),
        "b1": ("f", ("n_models", "hidden")),
        "w2": ("f", ("n_models", "hidden")),
        "b2": ("f", ("n_models",)),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        hidden_size: int = 64,
        alpha: float = 1e-3,
        max_iter: int = 200,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.hidden_size = hidden_size
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit_models(self, x: np.ndarray, scores: np.ndarray) -> None:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor

        w1, b1, w2, b2 = [], [], [], []
        for j, model in enumerate(self.models_):
            rows = _labelled_rows(scores, model, j)
            y = scores[rows, j]
            if np.ptp(y) == 0:  # one value (e.g. a sparsely logged model that always passed): constant predictor;
                # early stopping would otherwise stop at the random init, its validation R² being undefined
                w1.append(np.zeros((x.shape[1], int(self.hidden_size))))
                b1.append(np.zeros(int(self.hidden_size)))
                w2.append(np.zeros(int(self.hidden_size)))
                b2.append(float(y[0]))
                continue
            reg = MLPRegressor(
                hidden_layer_sizes=(int(self.hidden_size),),
                alpha=self.alpha,
                max_iter=self.max_iter,
                early_stopping=rows.size >= 50,
                random_state=self.random_state,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                reg.fit(x[rows], scores[rows, j])
            w1.append(reg.coefs_[0])
            b1.append(reg.intercepts_[0])
            w2.append(reg.coefs_[1][:, 0])
            b2.append(reg.intercepts_[1][0])
        self.w1_, self.b1_ = np.stack(w1), np.stack(b1)  # (m, dim, h), (m, h)
        self.w2_, self.b2_ = np.stack(w2), np.array(b2)  # (m, h), (m,)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(0.0, np.einsum("nd,mdh->nmh", x, self.w1_) + self.b1_[None])
        return np.einsum("nmh,mh->nm", hidden, self.w2_) + self.b2_

    def _weights(self) -> dict[str, np.ndarray]:
        return {"w1": self.w1_, "b1": self.b1_, "w2": self.w2_, "b2": self.b2_}

    def _load_weights(self, arrays: dict[str, np.ndarray]) -> None:
        self.w1_, self.b1_, self.w2_, self.b2_ = (arrays[k] for k in ("w1", "b1", "w2", "b2"))
