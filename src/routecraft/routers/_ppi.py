"""Prediction-powered (PPI++) ridge regression of the gain on paired gold + judge labels.

PPI (Angelopoulos et al. 2023) needs items that carry both labels: on those n paired
items the judge's label f is compared with the gold label r, and the judge-only items
(N of them) enter with a *rectified* loss,

    L(θ) = 1/n Σ_P (r − zθ)² + λ [ 1/N Σ_U (f − zθ)² − 1/n Σ_P (f − zθ)² ] + α/N ‖θ‖²,

which is unbiased for the gold loss whatever the judge's bias; λ ∈ [0, 1] (PPI++,
Angelopoulos et al. 2023b) trades variance: λ = 0 is gold-only, λ = 1 full PPI. For a
squared loss and a linear model the minimiser has a closed form, so this is written by
hand — no maintained Python library offers PPI++ for weighted ridge on our features
(``ppi-py`` covers OLS/logistic without a penalty and is not a dependency here).

λ uses the PPI++ power-tuning formula of the mean, λ̂ = Cov(r, f) / ((1 + n/N) Var(f)),
clipped to [0, 1]: the variance-optimal weight for the intercept, applied to the whole
regression (the vector version needs per-coordinate Hessians; this keeps one scalar).
"""

from __future__ import annotations

import numpy as np


def ppi_lambda(r: np.ndarray, f_paired: np.ndarray, f_all: np.ndarray, n_unlabelled: int) -> float:
    """PPI++ power-tuned λ for the mean, clipped to [0, 1]."""
    n = len(r)
    if n < 2 or n_unlabelled == 0:
        return 0.0
    var_f = float(np.var(f_all))
    if var_f <= 0:
        return 0.0
    cov = float(np.cov(r, f_paired)[0, 1])
    return float(np.clip(cov / ((1.0 + n / n_unlabelled) * var_f), 0.0, 1.0))


def ppi_ridge(
    z_paired: np.ndarray,
    r: np.ndarray,
    f_paired: np.ndarray,
    z_unlabelled: np.ndarray,
    f_unlabelled: np.ndarray,
    alpha: float,
    lam: float | None = None,
) -> tuple[np.ndarray, float, float]:
    """Minimise the rectified loss above; return (coef, intercept, λ used)."""
    n, big_n = len(r), len(f_unlabelled)
    if lam is None:
        lam = ppi_lambda(r, f_paired, np.concatenate([f_paired, f_unlabelled]), big_n)
    zp = np.column_stack([z_paired, np.ones(n)])
    zu = np.column_stack([z_unlabelled, np.ones(big_n)]) if big_n else np.zeros((0, zp.shape[1]))
    penalty = np.full(zp.shape[1], alpha / max(big_n + n, 1))
    penalty[-1] = 0.0  # the intercept is not shrunk
    a = (1.0 - lam) * zp.T @ zp / n + np.diag(penalty)
    b = zp.T @ (r - lam * f_paired) / n
    if big_n:
        a += lam * zu.T @ zu / big_n
        b += lam * zu.T @ f_unlabelled / big_n
    theta = np.linalg.solve(a + 1e-10 * np.eye(len(a)), b)
    return theta[:-1], float(theta[-1]), float(lam)
