"""Weighted Bradley–Terry fits for many queries at once, and RouteLLM's Elo tiers.

RouteLLM's SW ranking router refits a Bradley–Terry model (a logistic regression
with +ln10 for model A and −ln10 for model B, no intercept, no penalty) for every
query, with battle weights that depend on the query. The likelihood only depends on
each pair of players through two numbers, the total weight ``n`` of its battles and
the weight ``s`` of the first player's wins, so a batch of queries reduces to two
(batch × pairs) matrices, and Newton's method on (batch × players × players)
Hessians fits the whole batch without any per-query loop.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit

LN10 = math.log(10.0)
ELO_SCALE = 400.0
ELO_BASE = 1000.0
_MAX_ITER = 100
_MAX_HALVINGS = 40
_STEP_TOL = 1e-10


def _neg_loglik(beta: np.ndarray, n: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    eta = LN10 * (beta[:, lo] - beta[:, hi])
    return -(s * log_expit(eta) + (n - s) * log_expit(-eta)).sum(axis=1)


def fit_bradley_terry(
    n: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_players: int
) -> np.ndarray:
    """Maximum-likelihood strengths β (base-10 logits), one row per query.

    ``n[b, k]`` is the total battle weight of pair ``(lo[k], hi[k])`` for query ``b``
    and ``s[b, k]`` the weight of ``lo[k]``'s wins (ties count half). Pairs must be
    distinct with ``lo != hi``. P(i beats j) = 1 / (1 + 10^(β_j − β_i)).

    β starts at 0 and every Newton step is orthogonal to the constant vector (the
    gradient is), so β sums to 0: the gauge scikit-learn's unpenalised solver ends in.
    The Hessian's null direction gets an artificial curvature and a tiny jitter keeps
    Hessians of disconnected players invertible; neither moves the optimum (gradient zero).
    Damped Newton (step halving until the likelihood does not get worse) converges
    in a handful of iterations; separable data drift towards infinite strengths and
    stop at the iteration cap, as an unpenalised logistic regression would.
    """
    n = np.asarray(n, dtype=float)
    s = np.asarray(s, dtype=float)
    batch = n.shape[0]
    if batch == 0 or lo.size == 0:
        return np.zeros((batch, n_players))
    if lo.size == 1 and n_players == 2:
        # one pair (a strong/weak pool): the MLE is closed-form, β_lo − β_hi = log10(s / (n − s)),
        # whatever the weights' scale; rows where one side won every weighted battle (or that have
        # no battle) have no finite optimum: Newton below. The server's batch-1 path: few array ops.
        wins, games = s[:, 0], n[:, 0]
        finite = (wins > 0) & (wins < games)
        if finite.all():
            half = 0.5 * np.log10(wins / (games - wins))
            beta = np.empty((batch, 2))
            beta[:, lo[0]], beta[:, hi[0]] = half, -half
            return beta
        beta = np.zeros((batch, n_players))
        half = 0.5 * np.log10(wins[finite] / (games[finite] - wins[finite]))
        beta[finite, lo[0]], beta[finite, hi[0]] = half, -half
        beta[~finite] = _newton(*_normalised(n[~finite], s[~finite]), lo, hi, n_players)
        return beta
    return _newton(*_normalised(n, s), lo, hi, n_players)


def _normalised(n: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights scaled to sum to 1 per query: the optimum does not depend on their scale, Newton's tolerances do."""
    total = n.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return n / total, s / total


def _newton(n: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_players: int) -> np.ndarray:
    """Damped Newton for the batched fit (weights already normalised per query)."""
    batch = n.shape[0]
    beta = np.zeros((batch, n_players))
    # (players × pairs) incidence, sparse: 2 entries per pair instead of n_players
    pair = np.arange(lo.size)
    incidence = sparse.csr_matrix(
        (np.r_[np.ones(lo.size), -np.ones(lo.size)], (np.r_[lo, hi], np.r_[pair, pair])),
        shape=(n_players, lo.size),
    )
    degree = abs(incidence)
    diag = np.arange(n_players)
    loss = _neg_loglik(beta, n, s, lo, hi)
    active = np.arange(batch)  # queries whose fit has not converged yet
    for _ in range(_MAX_ITER):
        b_, n_, s_, l_ = beta[active], n[active], s[active], loss[active]
        p = expit(LN10 * (b_[:, lo] - b_[:, hi]))
        grad = (incidence @ (LN10 * (s_ - n_ * p)).T).T  # gradient of the log-likelihood
        c = LN10**2 * n_ * p * (1.0 - p)
        d = (degree @ c.T).T
        scale = d.mean(axis=1)[:, None, None] + 1e-12
        # H + mean(diag)/m · 11ᵀ: the constant direction (no information, zero gradient)
        # gets a curvature like the others, so rounding noise there is not amplified
        hess = np.broadcast_to(scale / n_players, (active.size, n_players, n_players)).copy()
        hess[:, lo, hi] -= c
        hess[:, hi, lo] -= c
        hess[:, diag, diag] += d + 1e-10 * scale[:, :, 0]
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        t = np.ones((active.size, 1))
        for _ in range(_MAX_HALVINGS):
            new_loss = _neg_loglik(b_ + t * step, n_, s_, lo, hi)
            worse = new_loss > l_ + 1e-13 * np.abs(l_)
            if not worse.any():
                break
            t[worse] *= 0.5
        move = t * step
        beta[active] = b_ + move
        loss[active] = new_loss
        # converged: no observed pair's rating difference moved (drift along
        # unidentified directions, e.g. between disconnected groups, does not count)
        done = np.abs(move[:, lo] - move[:, hi]).max(axis=1) < _STEP_TOL
        active = active[~done]
        if active.size == 0:
            break
    return beta


def to_elo(beta: np.ndarray) -> np.ndarray:
    """RouteLLM's Elo scale: 400 · β + 1000 (differences keep their meaning)."""
    return ELO_SCALE * beta + ELO_BASE


def compute_tiers(elo: np.ndarray, n_tiers: int) -> np.ndarray:
    """Tier of each model (0 = best): RouteLLM's DP over Elo-sorted models.

    Splits the models, sorted by Elo (highest first), into at most ``n_tiers``
    contiguous groups minimising the sum of the groups' (population) Elo variances,
    the objective of RouteLLM's ``compute_tiers``.
    """
    elo = np.asarray(elo, dtype=float)
    m = elo.size
    order = np.argsort(-elo, kind="stable")
    r = elo[order]
    k = max(1, min(int(n_tiers), m))
    c1 = np.concatenate([[0.0], np.cumsum(r)])
    c2 = np.concatenate([[0.0], np.cumsum(r * r)])
    i, j = np.triu_indices(m)
    cost = np.full((m, m), np.inf)  # cost[i, j]: variance of r[i..j]
    size = j - i + 1
    cost[i, j] = np.maximum((c2[j + 1] - c2[i]) / size - ((c1[j + 1] - c1[i]) / size) ** 2, 0.0)
    best = np.full((k, m), np.inf)  # best[t, j]: r[0..j] in at most t + 1 groups
    split = np.full((k, m), -1)  # last group starts at split + 1 (-1: one group)
    best[0] = cost[0]
    for t in range(1, k):
        best[t], split[t] = best[t - 1], split[t - 1]
        for jj in range(1, m):
            cand = best[t - 1, :jj] + cost[1 : jj + 1, jj]
            arg = int(np.argmin(cand))
            if cand[arg] < best[t, jj]:
                best[t, jj], split[t, jj] = cand[arg], arg
    bounds = []
    t, end = k - 1, m - 1
    while end >= 0:
        start = split[t, end] + 1
        bounds.append((start, end))
        # the prefix before this group was solved with one group fewer
        end, t = start - 1, max(t - 1, 0)
    tiers = np.empty(m, dtype=np.int64)
    for tier, (start, end) in enumerate(reversed(bounds)):
        tiers[order[start : end + 1]] = tier
    return tiers
