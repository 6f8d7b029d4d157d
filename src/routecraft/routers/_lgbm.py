"""Gradient-boosted trees per model (LightGBM): P(model answers well | query features).

One LightGBM booster per pool model, trained with the cross-entropy objective (which
takes fractional scores in [0, 1] as labels, so judge grades and partial credit
need no thresholding) on the queries that model has a score for. Trees split on
single embedding coordinates, length and predicted-task features, which catches
interactions a linear probe cannot ("long maths prompts") at a small cost.

The embedding part of the features is first reduced to its top ``n_components``
principal directions (fitted on the training queries): trees split on one coordinate
at a time, so a few dense directions carry more per split than 256 raw coordinates,
and histogram construction, the cost of training, shrinks in proportion.

LightGBM is the maintained library for this (extra ``boost``). Boosters persist as
LightGBM's own text model format inside the JSON state: a text dump of the trees,
not a pickle. Training uses one thread and ``deterministic=True``, so a refit with
the same ``random_state`` gives the same trees.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._errors import RoutecraftError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, Router
from ._features import FEATURE_SETS, FeatureRouterMixin
from ._constraints import EMBEDDER, Interval, StrOptions, fraction, non_negative_real, positive_int, positive_real, seed
from ._per_model import _labelled_rows


def _lightgbm():
    try:
        import lightgbm
    except ImportError:  # pragma: no cover - depends on the environment
        raise RoutecraftError("LightGBMRouter needs LightGBM: pip install 'routecraft[boost]'") from None
    return lightgbm


class LightGBMRouter(FeatureRouterMixin, EmbeddingRouterMixin, Router):
    """One LightGBM cross-entropy booster per model on embedding (+ length, + task) features.

    Parameters
    ----------
    embedder : spec of the query embedder.
    features : ``"embedding"``, ``"embedding+length"``, ``"embedding+task"`` or
        ``"embedding+length+task"`` (see :mod:`routecraft.routers._features`).
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample,
    colsample_bytree, reg_lambda : LightGBM settings; the defaults are deliberately
        small and regularised (a few thousand rows per model is typical).
    n_components : principal components kept of the embedding (None: the raw embedding).
    max_bin : histogram bins per feature.
    random_state : seeds LightGBM's bagging and feature sampling.

    Example
    -------
    >>> router = LightGBMRouter(features="embedding+length+task").fit(train)  # doctest: +SKIP
    >>> router.predict_quality(["Integrate x^2 from 0 to 3"])                 # doctest: +SKIP
    """

    _parameter_constraints = {
        "embedder": EMBEDDER,
        "features": [StrOptions(set(FEATURE_SETS))],
        "n_estimators": positive_int,
        "learning_rate": positive_real,
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "min_child_samples": positive_int,
        "subsample": fraction("right"),
        "colsample_bytree": fraction("right"),
        "reg_lambda": non_negative_real,
        "n_components": [*positive_int, None],
        "max_bin": [Interval(Integral, 2, None, closed="left")],
        "random_state": seed,
    }
    state_schema = {
        "constants": ("f", ("n_models",)),
        "pca_mean": ("f", (None,)),
        "pca_components": ("f", (None, None)),
        "features.*": ("f", None),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        features: str = "embedding+length+task",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.5,
        reg_lambda: float = 1.0,
        n_components: int | None = 32,
        max_bin: int = 63,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.n_components = n_components
        self.max_bin = max_bin
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "cross_entropy",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_data_in_leaf": int(self.min_child_samples),
            "bagging_fraction": float(self.subsample),
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": float(self.colsample_bytree),
            "lambda_l2": float(self.reg_lambda),
            "max_bin": int(self.max_bin),
            "seed": int(self.random_state),
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _fit(self, data: Dataset) -> None:
        lgb = _lightgbm()
        self.models_ = data.models
        x = self._fit_features(data)
        d = self.embedder_.dim
        emb = x[:, :d].astype(np.float64)
        self.pca_mean_ = emb.mean(axis=0)
        if self.n_components is None or int(self.n_components) >= d:
            self.pca_components_ = np.eye(d)
        else:
            # eigenvectors of the d×d covariance, on one BLAS thread: a full SVD of the n×d
            # matrix with threaded BLAS was measured at 40 s (vs < 0.1 s) on a busy 2-core machine
            with threadpool_limits(1, user_api="blas"):
                centred = emb - self.pca_mean_
                _, vecs = np.linalg.eigh(centred.T @ centred)
            vt = vecs[:, ::-1].T  # descending variance
            k = min(int(self.n_components), vt.shape[0])
            # fix each direction's sign (largest |loading| positive): SVD signs are arbitrary
            signs = np.sign(vt[np.arange(k), np.abs(vt[:k]).argmax(axis=1)])
            self.pca_components_ = vt[:k] * signs[:, None]
        x = self._reduce(x)
        scores = data.score_matrix(self.models_)
        boosters, constants = [], []
        for j, model in enumerate(self.models_):
            rows = _labelled_rows(scores, model, j)
            y = scores[rows, j]
            if np.all(y == y[0]):  # nothing to split on: a constant model, as LightGBM cannot train one
                boosters.append("")
                constants.append(float(y[0]))
                continue
            train = lgb.Dataset(x[rows], label=y, params={"verbosity": -1}, free_raw_data=True)
            booster = lgb.train(self._params(), train, num_boost_round=int(self.n_estimators))
            boosters.append(booster.model_to_string())
            constants.append(float("nan"))
        self._load(boosters, np.asarray(constants))

    def _load(self, model_strings: list[str], constants: np.ndarray) -> None:
        lgb = _lightgbm()
        self.model_strings_ = model_strings
        self.constants_ = constants
        self.boosters_ = [lgb.Booster(model_str=s) if s else None for s in model_strings]

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        d = self.pca_mean_.shape[0]
        return np.hstack([(x[:, :d] - self.pca_mean_) @ self.pca_components_.T, x[:, d:]])

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        x = self._reduce(self._features_for(queries["query"].tolist()))
        out = np.empty((len(x), len(self.models_)))
        for j, booster in enumerate(self.boosters_):
            out[:, j] = self.constants_[j] if booster is None else booster.predict(x, num_threads=1)
        return out

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return {**state, "lightgbm_models_": list(self.model_strings_)}, {
            **arrays, "constants": self.constants_, "pca_mean": self.pca_mean_, "pca_components": self.pca_components_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self._load(list(state["lightgbm_models_"]), np.asarray(arrays["constants"]))
        self.pca_mean_, self.pca_components_ = arrays["pca_mean"], arrays["pca_components"]
