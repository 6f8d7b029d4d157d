"""Multi-model metrics: cost–quality curves, AIQ, RouterArena score, oracle and best single.

- The curve of a router is its :class:`~routecraft.policy.CostPolicy` decisions over a
  lam sweep from 0 (quality only) to a lam where every query goes to its cheapest model;
  each lam gives a point (mean USD per query, mean true score).
- AIQ follows RouterBench's ``evaluation/AIQ.py``: each router's points → their
  non-decreasing convex hull (upper concave envelope, cut after the *last* point of
  maximum quality: RouterBench drops only points strictly lower than their predecessor,
  so a flat top stays and carries the hull out to the router's most expensive point of
  maximum quality — and with it the shared maximum cost); each hull is extended flat
  to the largest hull cost among the compared routers; AIQ = trapz(hull) / that cost
  (area from the router's cheapest point, normalised by the max cost alone). Where
  several points share a cost the best one is used (RouterBench keeps whichever its
  unstable sort puts first).
- RouterArena: C = (log2 200 − log2 c) / (log2 200 − log2 0.0044), c = USD per 1,000
  queries, clipped to [0, 1]; S = 1.1·A·C / (0.1·A + C), in [0, 1] (the leaderboard
  shows 100·S).
"""

from __future__ import annotations

import math

import numpy as np

from ..policy._cost import cost_decide, max_useful_lam, switch_lams

N_LAM = 60
ARENA_C_MAX, ARENA_C_MIN, ARENA_BETA = 200.0, 0.0044, 0.1


def lam_grid(quality: np.ndarray, cost: np.ndarray, n_lam: int = N_LAM) -> np.ndarray:
    """0, quantiles of the decision-switching lams, and a lam past the last switch."""
    ratios = switch_lams(quality, cost)
    inner = np.quantile(ratios, np.linspace(0.0, 1.0, n_lam)) if ratios.size else np.empty(0)
    return np.unique(np.r_[0.0, inner, max_useful_lam(quality, cost)])


def sweep_decisions(quality: np.ndarray, cost: np.ndarray, lams: np.ndarray) -> np.ndarray:
    """Model index per (query, lam): shape (n, len(lams))."""
    return np.stack([cost_decide(quality, cost, lam) for lam in lams], axis=1)


def take(matrix: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """``matrix[i, choice[i, ...]]`` for a choice vector (n,) or matrix (n, L)."""
    rows = np.arange(len(matrix)).reshape((-1,) + (1,) * (choice.ndim - 1))
    return matrix[rows, choice]


def ndch(points: np.ndarray) -> np.ndarray:
    """Non-decreasing convex hull of (cost, quality) points, sorted by cost."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    order = np.lexsort((-pts[:, 1], pts[:, 0]))
    pts = pts[order]
    pts = pts[np.r_[True, pts[1:, 0] != pts[:-1, 0]]]  # best quality per cost
    hull: list[tuple[float, float]] = []
    for x, y in pts.tolist():  # upper hull, monotone chain (plain floats: this runs per resample)
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) < 0:
                break
            hull.pop()
        hull.append((x, y))
    out = np.array(hull)
    # cut after the last point of maximum quality (RouterBench keeps a flat top)
    last_max = len(out) - 1 - int(np.argmax(out[::-1, 1]))
    return out[: last_max + 1]


def aiq(points_by_router: dict[str, np.ndarray]) -> dict[str, float | None]:
    """RouterBench's AIQ of each router, all hulls extended to one shared maximum cost."""
    return aiq_of_hulls({name: ndch(p) for name, p in points_by_router.items()})


def aiq_of_hulls(hulls: dict[str, np.ndarray]) -> dict[str, float | None]:
    """:func:`aiq` from hulls already computed with :func:`ndch`."""
    if not hulls:
        return {}
    max_x = max(float(h[-1, 0]) for h in hulls.values())
    if max_x <= 0:
        return {name: None for name in hulls}
    out: dict[str, float | None] = {}
    for name, h in hulls.items():
        ext = np.vstack([h, [max_x, h[-1, 1]]])
        out[name] = float(np.trapezoid(ext[:, 1], ext[:, 0]) / max_x)
    return out


def arena_score(accuracy: float, usd_per_query: float) -> float:
    """RouterArena's score of a router with mean ``accuracy`` and mean ``usd_per_query``."""
    per_1k = usd_per_query * 1000.0
    if per_1k <= 0:
        c = 1.0
    else:
        c = (math.log2(ARENA_C_MAX) - math.log2(per_1k)) / (math.log2(ARENA_C_MAX) - math.log2(ARENA_C_MIN))
        c = min(max(c, 0.0), 1.0)
    denom = ARENA_BETA * accuracy + c
    return 0.0 if denom == 0 else (1 + ARENA_BETA) * accuracy * c / denom


def best_single(scores: np.ndarray, cost: np.ndarray | None) -> int:
    """Model with the highest mean true score (ties → lower mean cost, then first)."""
    mean_q = scores.mean(axis=0)
    mean_c = np.zeros_like(mean_q) if cost is None else cost.mean(axis=0)
    return int(cost_decide(mean_q[None, :], mean_c[None, :], 0.0)[0])


def oracle_choice(scores: np.ndarray, cost: np.ndarray | None) -> np.ndarray:
    """Per query, the cheapest model among those with the best true score."""
    return cost_decide(scores, cost, 0.0)


def cost_to_match(hull: np.ndarray, target: float) -> float | None:
    """Smallest cost on the (non-decreasing) hull with quality ≥ target, interpolated; None if never."""
    ys, xs = hull[:, 1], hull[:, 0]
    if ys[-1] < target:
        return None
    j = int(np.argmax(ys >= target))
    if j == 0:
        return float(xs[0])
    frac = (target - ys[j - 1]) / (ys[j] - ys[j - 1])
    return float(xs[j - 1] + frac * (xs[j] - xs[j - 1]))


def quality_at_cost(hull: np.ndarray, usd: float) -> float | None:
    """Hull quality at a spend of ``usd`` per query (flat past its end); None below its cheapest point."""
    if usd < hull[0, 0]:
        return None
    return float(np.interp(usd, hull[:, 0], hull[:, 1]))
