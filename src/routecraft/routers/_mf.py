"""RouteLLM's matrix-factorisation router, in numpy.

The score of model M on query q is s(M, q) = w2ᵀ(v̂_M ⊙ W1·e_q): a learned embedding
v_M per model (L2-normalised), a linear projection W1 of the query embedding, and a
linear read-out w2, all without bias, exactly as ``routellm``'s ``MFModel``. It is
trained on battles with the Bradley–Terry loss BCE(σ(s(winner, q) − s(loser, q)), 1),
ties removed, with Gaussian noise on the query embedding (RouteLLM's stabiliser) and
Adam with L2 weight decay (PyTorch's ``Adam(weight_decay=…)`` semantics).

It is written in numpy with hand-derived gradients rather than PyTorch: the model has
three matrices, so numpy is as fast on CPU, needs no optional dependency, and is
bit-for-bit deterministic for a given ``random_state``. Training runs in float32 on
one BLAS thread (mini-batch products are too small to gain from more).

Q̂[:, j] = σ(s_j − mean_k s_k): the probability that model j beats an average model
of the pool, so ``pair_score(strong, weak)`` = σ(s_strong − s_weak), RouteLLM's
``pred_win_rate``. Differences from RouteLLM's training script: early stopping on the
validation loss (keeping the best weights) instead of a fixed 100 epochs, and the
validation split is by query, so no query has battles on both sides of it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import expit, log_expit
from threadpoolctl import threadpool_limits

from .._errors import DataError
from ..data._augment import dataset_preferences
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, QueryInput, Router, TextRouterMixin, as_queries, plain_texts
from ._constraints import EMBEDDER, fraction, non_negative_real, positive_int, positive_real, seed
from ._pairwise import encode_battles

_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8
_PARAMS = ("model_embeddings", "projection", "readout")


class _Adam:
    """Adam with L2 weight decay added to the gradient (torch.optim.Adam semantics)."""

    def __init__(self, params: dict[str, np.ndarray], lr: float, weight_decay: float) -> None:
        self.lr, self.weight_decay, self.t = lr, weight_decay, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        b1, b2 = _ADAM_BETAS
        lr = self.lr / (1 - b1**self.t)
        root_bias2 = math.sqrt(1 - b2**self.t)
        for k, p in params.items():
            g = grads[k] + self.weight_decay * p
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= lr * m / (np.sqrt(v) / root_bias2 + _ADAM_EPS)


def _unit_rows(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)  # torch's normalize eps
    return p / norm, norm


def _margin(params: dict[str, np.ndarray], emb: np.ndarray, win: np.ndarray, lose: np.ndarray):
    """s(winner) − s(loser) for a batch, with what the backward pass needs."""
    unit, norm = _unit_rows(params["model_embeddings"])
    proj = emb @ params["projection"].T
    diff = unit[win] - unit[lose]
    return (diff * proj) @ params["readout"], (unit, norm, proj, diff)


def _gradients(
    params: dict[str, np.ndarray], emb: np.ndarray, win: np.ndarray, lose: np.ndarray, weight: np.ndarray
) -> dict[str, np.ndarray]:
    """Gradients of the weighted mean of −log σ(margin) (BCE with target 1)."""
    z, (unit, norm, proj, diff) = _margin(params, emb, win, lose)
    gz = (expit(z) - 1.0) * (weight / weight.sum()).astype(z.dtype)
    readout = params["readout"]
    g_proj = gz[:, None] * (diff * readout)
    g_diff = gz[:, None] * (proj * readout)
    sign = np.zeros((unit.shape[0], win.size), dtype=unit.dtype)  # +1 for the winner, −1 for the loser of each battle
    sign[win, np.arange(win.size)] = 1.0
    sign[lose, np.arange(win.size)] = -1.0
    g_unit = sign @ g_diff
    g_emb = (g_unit - unit * (unit * g_unit).sum(axis=1, keepdims=True)) / norm
    return {
        "model_embeddings": g_emb,
        "projection": g_proj.T @ emb,
        "readout": (diff * proj).T @ gz,
    }


def _loss(params: dict[str, np.ndarray], emb: np.ndarray, win: np.ndarray, lose: np.ndarray, weight: np.ndarray) -> float:
    z, _ = _margin(params, emb, win, lose)
    return float(-(weight * log_expit(z)).sum() / weight.sum())


class MatrixFactorizationRouter(TextRouterMixin, EmbeddingRouterMixin, Router):
    """Bilinear model–query scores trained on pairwise battles (RouteLLM ``mf``).

    Parameters
    ----------
    embedder : spec of the query embedder.
    dim : size of the model embeddings and of the query projection (RouteLLM: 128).
    epochs : most passes over the training battles (RouteLLM's example: 100).
    lr, weight_decay, batch_size : Adam settings (RouteLLM: 3e-4, 1e-5, 64).
    noise_std : standard deviation of the Gaussian noise added to query embeddings
        during training (RouteLLM: 0.1).
    val_fraction : fraction of training *queries* held out for early stopping
        (RouteLLM: 5% of battles); 0 trains for all ``epochs``.
    patience : epochs without a better validation loss before stopping.
    random_state : seeds initialisation, split, shuffling and noise.

    Example
    -------
    >>> router = MatrixFactorizationRouter(embedder="wordllama").fit(train)  # doctest: +SKIP
    >>> router.pair_score(["Prove that √2 is irrational"], "gpt-4", "mixtral")  # doctest: +SKIP
    """

    quality_kind = "win_prob"
    learns_from = ("preferences", "outcomes")
    _parameter_constraints = {
        "embedder": EMBEDDER, "dim": positive_int, "epochs": positive_int, "lr": positive_real,
        "weight_decay": non_negative_real, "batch_size": positive_int, "noise_std": non_negative_real,
        "val_fraction": fraction("left"), "patience": positive_int, "random_state": seed,
    }
    state_schema = {
        "model_embeddings": ("f", ("n_models", "mf_dim")),
        "projection": ("f", ("mf_dim", "dim")),
        "readout": ("f", ("mf_dim",)),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        dim: int = 128,
        epochs: int = 100,
        lr: float = 3e-4,
        weight_decay: float = 1e-5,
        batch_size: int = 64,
        noise_std: float = 0.1,
        val_fraction: float = 0.05,
        patience: int = 10,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.dim = dim
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.noise_std = noise_std
        self.val_fraction = val_fraction
        self.patience = patience
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _fit(self, data: Dataset) -> None:
        prefs = dataset_preferences(data)
        prefs = prefs[prefs["winner"] != "tie"].reset_index(drop=True)
        if not len(prefs):
            raise DataError(f"dataset '{data.name}': every battle is a tie; MatrixFactorizationRouter needs winners")
        self.models_ = data.models
        battles = encode_battles(prefs, data, self.models_)
        text = data.queries.set_index("query_id")["query"]
        emb = self._fit_embedder(text.loc[battles.query_ids].tolist())  # float32: training runs in float32
        a_won = battles.target == 1.0
        win = np.where(a_won, battles.a, battles.b)
        lose = np.where(a_won, battles.b, battles.a)

        rng = np.random.default_rng(self.random_state)
        n_queries, text_dim, dim = len(battles.query_ids), emb.shape[1], int(self.dim)
        params = {  # PyTorch's default initialisations of Embedding and Linear
            "model_embeddings": rng.standard_normal((len(self.models_), dim), dtype=np.float32),
            "projection": rng.uniform(-1, 1, (dim, text_dim)).astype(np.float32) / np.float32(math.sqrt(text_dim)),
            "readout": rng.uniform(-1, 1, dim).astype(np.float32) / np.float32(math.sqrt(dim)),
        }
        n_val = int(round(self.val_fraction * n_queries)) if n_queries > 1 else 0
        is_val = np.zeros(n_queries, dtype=bool)
        is_val[rng.permutation(n_queries)[:n_val]] = True
        val = is_val[battles.query]
        if val.all():
            raise DataError(f"dataset '{data.name}': no battles left to train on after the validation split")
        # mini-batch matrices are small: BLAS threads only add contention, so train on one
        with threadpool_limits(1, user_api="blas"):
            self._train(params, emb, battles.query, win, lose, battles.weight, val, rng)

    def _train(
        self,
        params: dict[str, np.ndarray],
        emb: np.ndarray,
        q: np.ndarray,
        win: np.ndarray,
        lose: np.ndarray,
        w: np.ndarray,
        val: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Adam over shuffled mini-batches of battles (query ``emb[q]``, ``win`` beat ``lose``,
        weight ``w``), early-stopped on the battles marked ``val``; sets the learned state."""
        opt = _Adam(params, float(self.lr), float(self.weight_decay))
        best, best_loss, waited, epochs_run = None, math.inf, 0, 0
        batch = max(1, int(self.batch_size))
        train = np.flatnonzero(~val)
        early_stopping = bool(val.any()) and w[val].sum() > 0
        for _ in range(int(self.epochs)):
            epochs_run += 1
            order = train[rng.permutation(train.size)]
            for start in range(0, order.size, batch):
                idx = order[start : start + batch]
                e = emb[q[idx]]
                if self.noise_std:
                    e = e + rng.standard_normal(e.shape, dtype=np.float32) * np.float32(self.noise_std)
                if w[idx].sum() > 0:
                    opt.step(params, _gradients(params, e, win[idx], lose[idx], w[idx]))
            if not early_stopping:
                continue
            loss = _loss(params, emb[q[val]], win[val], lose[val], w[val])
            if loss < best_loss:
                best, best_loss, waited = {k: v.copy() for k, v in params.items()}, loss, 0
            else:
                waited += 1
                if waited >= self.patience:
                    break
        self.params_ = best if best is not None else params
        self.n_epochs_ = epochs_run
        self.val_loss_ = best_loss if math.isfinite(best_loss) else None

    # -------------------------------------------------------------- predict
    def _predict_texts(self, texts: list[str]) -> np.ndarray:
        scores = self._scores(texts)
        return expit(scores - scores.mean(axis=1, keepdims=True))

    def predict_scores(self, queries: QueryInput) -> np.ndarray:
        """Raw scores s(M, q), shape (n_queries, n_models); differences are BT logits."""
        self._check_fitted()
        texts = plain_texts(queries)
        return self._scores(texts if texts is not None else as_queries(queries)["query"].tolist())

    def _scores(self, texts: list[str]) -> np.ndarray:
        emb = self._embed(texts).astype(np.float64)
        unit, _ = _unit_rows(self.params_["model_embeddings"])
        return (emb @ self.params_["projection"].T) @ (unit * self.params_["readout"]).T

    # --------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return (
            {**state, "n_epochs_": self.n_epochs_, "val_loss_": self.val_loss_},
            {**arrays, **{k: self.params_[k] for k in _PARAMS}},
        )

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.params_ = {k: np.asarray(arrays[k]) for k in _PARAMS}
        self.n_epochs_ = state["n_epochs_"]
        self.val_loss_ = state["val_loss_"]
