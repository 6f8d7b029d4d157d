"""RouteLLM's similarity-weighted (SW) ranking router, vectorised.

For a query q, every training battle i gets the weight w_i = γ^(1 + S_i) with
S_i = cos(e_q, e_i) / max_j cos(e_q, e_j), and a weighted Bradley–Terry model over
the pool is fitted to those battles: battles on similar queries dominate, so the
ratings are the pool's Elo "for queries like this one". RouteLLM refits a
scikit-learn logistic regression per query; here the battles are summed per model
pair by one sparse product and a whole batch of queries is fitted at once by
Newton's method (:mod:`._bradley_terry`), to the same optimum.

Q̂[:, j] is the probability that model j beats an average model of the pool (the mean
strength), so ``pair_score(strong, weak)`` is exactly RouteLLM's
P(strong wins) = 1 / (1 + 10^((R_weak − R_strong) / 400)).

Deliberate differences from RouteLLM: a query whose similarities to all battles are
≤ 0 (say an out-of-vocabulary TF-IDF query) weighs all battles equally instead of
dividing by zero; with ``use_tiers`` a battle between two models of the same tier is
dropped (RouteLLM's design matrix turns it into a one-sided row by overwriting the
+ln10 entry, which is an artefact, not a model).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit

from .._errors import DataError
from ..data._augment import dataset_preferences
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, QueryInput, Router, TextRouterMixin, as_queries, plain_texts
from ._blas import blas_threads_for
from ._constraints import EMBEDDER, boolean, non_negative_int, positive_int, positive_real
from ._bradley_terry import LN10, compute_tiers, fit_bradley_terry, to_elo
from ._pairwise import Battles, encode_battles

# Largest (query batch × training queries) similarity block held in memory at once (float64: 64 MiB).
_BLOCK_ELEMENTS = 1 << 23
# Largest dense pair table (training queries × 2 · player pairs, float64: 16 MiB); larger ones stay sparse.
_DENSE_PAIR_ELEMENTS = 1 << 21


class _PairTable:
    """Battles summed per (query, player pair): the sufficient statistics of a BT fit.

    ``n[u, k]`` is the weight of training query u's battles in pair k and ``s[u, k]``
    the weight of ``lo[k]``'s wins among them. Players are models or tiers.
    """

    def __init__(self, battles: Battles, player_of_model: np.ndarray, n_queries: int) -> None:
        pa, pb = player_of_model[battles.a], player_of_model[battles.b]
        keep = pa != pb
        pa, pb = pa[keep], pb[keep]
        target, weight, query = battles.target[keep], battles.weight[keep], battles.query[keep]
        lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
        lo_wins = np.where(pa == lo, target, 1.0 - target)
        n_players = int(player_of_model.max()) + 1 if player_of_model.size else 0
        pairs, pair = np.unique(lo * max(n_players, 1) + hi, return_inverse=True)
        self.lo = (pairs // max(n_players, 1)).astype(np.int64)
        self.hi = (pairs % max(n_players, 1)).astype(np.int64)
        self.n_players = n_players
        shape = (n_queries, pairs.size)
        self.n = sparse.csr_matrix((weight, (query, pair)), shape=shape)
        self.s = sparse.csr_matrix((weight * lo_wins, (query, pair)), shape=shape)
        self.n_pairs = pairs.size
        if 2 * n_queries * pairs.size <= _DENSE_PAIR_ELEMENTS:
            # [n | s] side by side, dense: one BLAS product per call gives both; scipy's sparse
            # product costs ~10 µs of Python per call (two per query at batch 1) whatever its size
            self.dense = np.hstack([self.n.toarray(), self.s.toarray()])
        else:  # many pairs × many training queries: the sparse tables, transposed once
            self.dense = None
            self.n_t, self.s_t = self.n.T, self.s.T

    def strengths(self, query_weights: np.ndarray) -> np.ndarray:
        """β per query (rows of ``query_weights``, one weight per training query) and player."""
        if self.dense is not None:
            ns = query_weights @ self.dense
            n, s = ns[:, : self.n_pairs], ns[:, self.n_pairs :]
        else:
            n = np.asarray((self.n_t @ query_weights.T).T)
            s = np.asarray((self.s_t @ query_weights.T).T)
        return fit_bradley_terry(n, s, self.lo, self.hi, self.n_players)


def _warn_unplayed(models: list[str], battles: Battles) -> None:
    """A model in no battle gets the pool-average Elo: a default, not a measurement. Say so."""
    played = np.zeros(len(models), dtype=bool)
    played[np.asarray(battles.a, dtype=int)] = True
    played[np.asarray(battles.b, dtype=int)] = True
    if not played.all():
        missing = [m for m, p in zip(models, played) if not p]
        warnings.warn(
            f"SWRankingRouter: model(s) {', '.join(missing)} have no battles in the training data; "
            "they are scored as pool-average (Elo 1000), a default rather than a measurement",
            UserWarning,
            stacklevel=4,
        )


class SWRankingRouter(TextRouterMixin, EmbeddingRouterMixin, Router):
    """Similarity-weighted Bradley–Terry ranking (RouteLLM ``sw_ranking``).

    Parameters
    ----------
    embedder : spec of the query embedder (see :func:`routecraft.embed.make_embedder`).
    gamma : base of the battle weights γ^(1 + S); 1 ignores the query (global Elo).
    use_tiers : rate tiers of models instead of models, as RouteLLM does: models are
        grouped into ``n_tiers`` tiers by their global Elo (a DP minimising within-tier
        variance) and every model of a tier gets the tier's rating.
    n_tiers : number of tiers when ``use_tiers`` (RouteLLM: 10).
    min_query_chars : battles whose query is shorter than this (after stripping) are
        dropped, as RouteLLM drops first turns under 16 characters.

    Example
    -------
    >>> router = SWRankingRouter(embedder="wordllama").fit(train)      # doctest: +SKIP
    >>> router.pair_score(["Prove that √2 is irrational"], "gpt-4", "mixtral")  # doctest: +SKIP
    """

    quality_kind = "win_prob"
    learns_from = ("preferences", "outcomes")
    _parameter_constraints = {
        "embedder": EMBEDDER, "gamma": positive_real, "use_tiers": boolean,
        "n_tiers": positive_int, "min_query_chars": non_negative_int,
    }
    state_schema = {
        "train_embeddings": ("f", ("n_train", "dim")),
        "battle_query": ("iu", ("n_battles",)),
        "battle_a": ("iu", ("n_battles",)),
        "battle_b": ("iu", ("n_battles",)),
        "battle_target": ("f", ("n_battles",)),
        "battle_weight": ("f", ("n_battles",)),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        gamma: float = 10.0,
        use_tiers: bool = False,
        n_tiers: int = 10,
        min_query_chars: int = 16,
    ) -> None:
        self.embedder = embedder
        self.gamma = gamma
        self.use_tiers = use_tiers
        self.n_tiers = n_tiers
        self.min_query_chars = min_query_chars

    # ------------------------------------------------------------------ fit
    def _fit(self, data: Dataset) -> None:
        prefs = dataset_preferences(data)
        text = data.queries.set_index("query_id")["query"]
        long_enough = text.reindex(prefs["query_id"]).str.strip().str.len().to_numpy() >= self.min_query_chars
        prefs = prefs[long_enough].reset_index(drop=True)
        if not len(prefs):
            raise DataError(
                f"dataset '{data.name}': no battle has a query of at least {self.min_query_chars} characters",
                field="query",
            )
        self.models_ = data.models
        battles = encode_battles(prefs, data, self.models_)
        _warn_unplayed(self.models_, battles)
        self.train_embeddings_ = self._fit_embedder(text.loc[battles.query_ids].tolist())
        self._set_battles(battles)

    def _set_battles(self, battles: Battles) -> None:
        """Derive global Elo, tiers and the pair tables from the stored battles."""
        self.battles_ = battles
        n_queries = len(battles.query_ids)
        models = np.arange(len(self.models_))
        by_model = _PairTable(battles, models, n_queries)
        self.global_elo_ = to_elo(by_model.strengths(np.ones((1, n_queries)))[0])
        if self.use_tiers:
            self.tier_of_model_ = compute_tiers(self.global_elo_, self.n_tiers)
            self.pair_table_ = _PairTable(battles, self.tier_of_model_, n_queries)
        else:
            self.tier_of_model_ = models
            self.pair_table_ = by_model

    # -------------------------------------------------------------- predict
    def predict_elo(self, queries: QueryInput) -> np.ndarray:
        """Per-query Elo of every model (n_queries, n_models), centred on 1000 over the pool."""
        self._check_fitted()
        texts = plain_texts(queries)
        return to_elo(self._strengths(texts if texts is not None else as_queries(queries)["query"].tolist()))

    def _predict_texts(self, texts: list[str]) -> np.ndarray:
        # P(j beats the pool's mean strength) = σ(ln10 · β_j): RouteLLM's Elo formula, read off β directly
        beta = self._strengths(texts)
        return expit(np.multiply(beta, LN10, out=beta), out=beta)

    def _strengths(self, texts: list[str]) -> np.ndarray:
        """β of every model per query (base-10 logits), centred on the pool's mean."""
        emb = self._embed(texts)
        train = self.train_embeddings_
        step = max(1, _BLOCK_ELEMENTS // max(len(train), 1))
        out = np.empty((len(emb), len(self.models_)))
        for start in range(0, len(emb), step):
            block = emb[start : start + step]
            with blas_threads_for(len(block)):
                sims = block @ train.T  # float32 product, as embedded
            beta = self.pair_table_.strengths(self._weights(sims))
            per_model = beta[:, self.tier_of_model_]
            # sum / m is what ``mean`` computes, without its Python wrapper (a hot-path call)
            out[start : start + step] = per_model - np.add.reduce(per_model, axis=1, keepdims=True) / per_model.shape[1]
        return out

    def _weights(self, sims: np.ndarray) -> np.ndarray:
        """γ^(S) with S = sim / max sim per row (uniform where no similarity is positive), in float64.

        RouteLLM's weights are γ^(1 + S) = γ · γ^S; a weighted Bradley–Terry fit is
        unchanged when all of a query's weights are scaled by the same factor, so the
        constant γ is dropped. This is the hot loop (queries × training queries), so it
        works in place: one scale, one exp, one cast.
        """
        top = np.maximum.reduce(sims, axis=1, keepdims=True)
        scale = np.divide(math.log(self.gamma), top, out=np.zeros_like(top), where=top > 0)
        sims *= scale
        np.exp(sims, out=sims)
        return sims.astype(np.float64, copy=False)

    # --------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        b = self.battles_
        return {**state, "train_query_ids_": list(b.query_ids)}, {
            **arrays,
            "train_embeddings": self.train_embeddings_,
            "battle_query": b.query,
            "battle_a": b.a,
            "battle_b": b.b,
            "battle_target": b.target,
            "battle_weight": b.weight,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.train_embeddings_ = arrays["train_embeddings"]
        self._set_battles(
            Battles(
                query_ids=list(state["train_query_ids_"]),
                query=arrays["battle_query"],
                a=arrays["battle_a"],
                b=arrays["battle_b"],
                target=arrays["battle_target"],
                weight=arrays["battle_weight"],
            )
        )
