"""Multi-model matrix factorisation on outcomes (IRT / EmbedLLM style), in numpy.

P(model m answers query q well) = σ(b_m + d(q) + a_mᵀ W x_q): a learned ability b_m,
a query difficulty d(q) = uᵀx_q shared by all models, and an interaction between a
learned model vector a_m and a projection W of the query features x_q (embedding,
optionally length and predicted task). This is the multidimensional item-response
model of IRT-Router and the model–query factorisation of EmbedLLM, fitted directly
on the outcome matrix with the binary cross-entropy (fractional scores are soft
labels) over the observed cells only: a pool with missing runs loses nothing and
models share what they learn about query difficulty.

Unlike :mod:`._mf` (RouteLLM's MF), which learns from pairwise battles and so only
ranks models, this predicts each model's calibrated-ish P(correct), which is what
cost-aware policies compare across models. Written in numpy with hand-derived
gradients for the same reasons as :mod:`._mf` (four small matrices, deterministic,
no torch); Adam from there. Early stopping holds out a fraction of training
*queries* and keeps the best weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from threadpoolctl import threadpool_limits

from .._errors import DataError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, Router
from ._features import FEATURE_SETS, FeatureRouterMixin
from ._constraints import EMBEDDER, StrOptions, fraction, non_negative_real, positive_int, positive_real, seed
from ._mf import _Adam

_PARAMS = ("projection", "model_vectors", "difficulty", "ability")


def _logits(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = x @ p["projection"].T
    return h @ p["model_vectors"].T + (x @ p["difficulty"])[:, None] + p["ability"][None, :], h


def _grads(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    z, h = _logits(p, x)
    g = (expit(z) - y) * mask / max(float(mask.sum()), 1.0)
    return {
        "projection": (g @ p["model_vectors"]).T @ x,
        "model_vectors": g.T @ h,
        "difficulty": x.T @ g.sum(axis=1),
        "ability": g.sum(axis=0),
    }


def _bce(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    z, _ = _logits(p, x)
    # log(1 + e^z) − y·z, stable
    loss = np.logaddexp(0.0, z) - y * z
    return float((loss * mask).sum() / max(float(mask.sum()), 1.0))


class OutcomeIRTRouter(FeatureRouterMixin, EmbeddingRouterMixin, Router):
    """Model vectors × projected query features → P(correct) per model, trained on outcomes.

    Parameters
    ----------
    embedder, features : query representation (see :mod:`._features`).
    dim : size of the model vectors and of the query projection.
    epochs, lr, weight_decay, batch_size : Adam over mini-batches of queries.
    val_fraction, patience : early stopping on held-out training queries.
    random_state : seeds initialisation, the validation split and shuffling.
    """

    _parameter_constraints = {
        "embedder": EMBEDDER,
        "features": [StrOptions(set(FEATURE_SETS))],
        "dim": positive_int,
        "epochs": positive_int,
        "lr": positive_real,
        "weight_decay": non_negative_real,
        "batch_size": positive_int,
        "val_fraction": fraction("left"),
        "patience": positive_int,
        "random_state": seed,
    }
    state_schema = {f"irt.{k}": ("f", None) for k in ("projection", "model_vectors", "difficulty", "ability")}
    state_schema["features.*"] = ("f", None)

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        features: str = "embedding+length+task",
        dim: int = 32,
        epochs: int = 100,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        batch_size: int = 256,
        val_fraction: float = 0.1,
        patience: int = 5,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.features = features
        self.dim = dim
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.patience = patience
        self.random_state = random_state

    def _fit(self, data: Dataset) -> None:
        if data.outcomes is None:
            raise DataError(f"dataset '{data.name}': OutcomeIRTRouter learns from outcomes, and there are none")
        self.models_ = data.models
        x = self._fit_features(data).astype(np.float64)
        scores = data.score_matrix(self.models_)
        mask = np.isfinite(scores).astype(np.float64)
        if not mask.any():
            raise DataError(f"dataset '{data.name}' has no scores to learn from")
        y = np.nan_to_num(scores)
        rng = np.random.default_rng(self.random_state)
        n, m, d = len(x), len(self.models_), int(self.dim)
        prior = np.clip((y * mask).sum(0) / np.maximum(mask.sum(0), 1), 1e-3, 1 - 1e-3)
        params = {
            "projection": rng.normal(0.0, 1.0 / math.sqrt(x.shape[1]), (d, x.shape[1])),
            "model_vectors": rng.normal(0.0, 0.1, (m, d)),
            "difficulty": np.zeros(x.shape[1]),
            "ability": np.log(prior / (1 - prior)),
        }
        order = rng.permutation(n)
        n_val = int(round(self.val_fraction * n)) if n >= 20 else 0
        val, train = order[:n_val], order[n_val:]
        opt = _Adam(params, float(self.lr), float(self.weight_decay))
        best, best_loss, waited, epochs = None, math.inf, 0, 0
        batch = max(1, int(self.batch_size))
        with threadpool_limits(1, user_api="blas"):
            for _ in range(int(self.epochs)):
                epochs += 1
                perm = train[rng.permutation(train.size)]
                for s in range(0, perm.size, batch):
                    idx = perm[s : s + batch]
                    opt.step(params, _grads(params, x[idx], y[idx], mask[idx]))
                if not n_val:
                    continue
                loss = _bce(params, x[val], y[val], mask[val])
                if loss < best_loss - 1e-6:
                    best, best_loss, waited = {k: v.copy() for k, v in params.items()}, loss, 0
                else:
                    waited += 1
                    if waited >= self.patience:
                        break
        self.params_ = best if best is not None else params
        self.n_epochs_ = epochs
        self.val_loss_ = best_loss if math.isfinite(best_loss) else None

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        x = self._features_for(queries["query"].tolist()).astype(np.float64)
        return expit(_logits(self.params_, x)[0])

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return (
            {**state, "n_epochs_": self.n_epochs_, "val_loss_": self.val_loss_},
            {**arrays, **{f"irt.{k}": self.params_[k] for k in _PARAMS}},
        )

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.params_ = {k: np.asarray(arrays[f"irt.{k}"]) for k in _PARAMS}
        self.n_epochs_, self.val_loss_ = state["n_epochs_"], state["val_loss_"]
