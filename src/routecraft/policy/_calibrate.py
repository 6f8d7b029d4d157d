"""Calibrate a policy to a budget on unlabelled queries, with bootstrap intervals.

The calibrated threshold or lam is fixed; the interval says how much the realised
strong-call fraction or spend would move on another sample of queries like these
(resampling queries), which is what a budget owner needs to know.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._errors import DataError
from ._bootstrap import bootstrap_means, percentile_ci
from ._cost import as_cost, cost_decide, max_useful_lam

BISECTION_STEPS = 200


class _AsDict:
    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}  # type: ignore[arg-type]


@dataclass(frozen=True)
class ThresholdCalibration(_AsDict):
    """A threshold for a target strong-call fraction and the realised fraction's 95% interval."""

    threshold: float
    target_strong_fraction: float
    strong_fraction: float
    strong_fraction_ci: tuple[float, float]
    n_queries: int
    n_boot: int


@dataclass(frozen=True)
class LamCalibration(_AsDict):
    """A lam for a target mean USD per query and the realised spend's 95% interval."""

    lam: float
    target_usd_per_query: float
    usd_per_query: float
    usd_per_query_ci: tuple[float, float]
    n_queries: int
    n_boot: int


def _interval(values: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    ci = percentile_ci(bootstrap_means(values, n_boot, seed)) if n_boot > 0 else None
    mean = float(np.mean(values))
    return (ci[0], ci[1]) if ci else (mean, mean)


def calibrate_threshold(
    scores: np.ndarray, strong_fraction: float, n_boot: int = 1000, seed: int = 0
) -> ThresholdCalibration:
    """Threshold = quantile_{1−p} of ``scores`` (RouteLLM's calibrate_threshold), so ≈ p go strong."""
    s = np.asarray(scores, dtype=float).ravel()
    if not 0.0 <= strong_fraction <= 1.0:
        raise DataError(f"strong_fraction must be in [0, 1], got {strong_fraction}", field="strong_fraction")
    if s.size == 0 or not np.isfinite(s).all():
        raise DataError("calibration needs at least one score and no NaN scores", field="scores")
    threshold = float(np.quantile(s, 1.0 - strong_fraction))
    strong = (s >= threshold).astype(float)
    return ThresholdCalibration(
        threshold=threshold,
        target_strong_fraction=float(strong_fraction),
        strong_fraction=float(strong.mean()),
        strong_fraction_ci=_interval(strong, n_boot, seed),
        n_queries=int(s.size),
        n_boot=int(n_boot),
    )


def _spend(quality: np.ndarray, cost: np.ndarray, lam: float) -> float:
    chosen = cost_decide(quality, cost, lam)
    return float(cost[np.arange(len(cost)), chosen].mean())


def calibrate_lam(
    quality: np.ndarray, cost: np.ndarray, usd_per_query: float, n_boot: int = 1000, seed: int = 0
) -> LamCalibration:
    """Smallest lam whose mean spend is ≤ ``usd_per_query`` (bisection on the monotone spend(lam)).

    Spend is a step function of lam, so the realised value is the closest step not
    above the target; a target below the all-cheapest spend is an error.
    """
    q = np.asarray(quality, dtype=float)
    c = np.array(as_cost(cost, q.shape))
    if q.ndim != 2 or len(q) == 0:
        raise DataError("calibrate_lam needs a non-empty (n_queries, n_models) quality matrix", field="quality")
    lo, hi = 0.0, max_useful_lam(q, c)
    if _spend(q, c, lo) <= usd_per_query:
        hi = lo
    elif _spend(q, c, hi) > usd_per_query:
        raise DataError(
            f"target ${usd_per_query:.6g}/query is below the cheapest possible spend "
            f"${_spend(q, c, hi):.6g}/query",
            field="usd_per_query",
        )
    for _ in range(BISECTION_STEPS):
        if hi - lo <= 1e-12 * hi:
            break
        mid = (lo + hi) / 2.0
        lo, hi = (lo, mid) if _spend(q, c, mid) <= usd_per_query else (mid, hi)
    spent = c[np.arange(len(c)), cost_decide(q, c, hi)]
    return LamCalibration(
        lam=float(hi),
        target_usd_per_query=float(usd_per_query),
        usd_per_query=float(spent.mean()),
        usd_per_query_ci=_interval(spent, n_boot, seed),
        n_queries=int(len(q)),
        n_boot=int(n_boot),
    )
