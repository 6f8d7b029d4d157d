"""`CostPolicy`: pick argmax_m Q̂[:, m] − lam · cost[:, m], ties to the cheaper model.

``lam`` is the price of a dollar in quality units: 0 routes on quality alone, and
large enough values always pick the cheapest model. Sweeping it traces a router's
cost–quality curve (DESIGN §6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from .._errors import DataError

if TYPE_CHECKING:
    from ._length import OutputLengthModel

TIE_RTOL = 1e-12  # values this close (relative) count as a tie, so float noise never beats the cheaper model


def as_cost(cost: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """Per-(query, model) costs broadcast to ``shape``; a per-model vector (m,) is allowed."""
    if cost is None:
        return np.zeros(shape)
    out = np.broadcast_to(np.asarray(cost, dtype=float), shape)
    if not np.isfinite(out).all():
        raise DataError("cost has missing (NaN) or infinite entries; every model needs a price", field="cost")
    return out


def _argmax_tiebreak(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Row-wise argmax of ``primary``; near-ties go to the highest ``secondary``, then the lowest index."""
    best = primary.max(axis=1, keepdims=True)
    tied = primary >= best - TIE_RTOL * np.maximum(1.0, np.abs(best))
    return np.argmax(np.where(tied, secondary, -np.inf), axis=1)


def cost_decide(quality: np.ndarray, cost: np.ndarray | None, lam: float) -> np.ndarray:
    """Model index per query for trade-off ``lam`` (``np.inf``: cheapest, then best quality)."""
    q = np.asarray(quality, dtype=float)
    c = as_cost(cost, q.shape)
    if np.isinf(lam):
        return _argmax_tiebreak(-c, q)
    return _argmax_tiebreak(q - lam * c, -c)


def switch_lams(quality: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """The lams at which a costlier model stops beating each query's cheapest model.

    For a query, model m beats the cheapest model c only while
    lam < (Q_m − Q_c) / (cost_m − cost_c); these positive ratios (flattened) mark where
    a lam sweep changes decisions, so their quantiles make a good sweep grid.
    """
    q = np.asarray(quality, dtype=float)
    c = as_cost(cost, q.shape)
    cheapest = cost_decide(q, c, np.inf)
    rows = np.arange(len(q))
    dq = q - q[rows, cheapest][:, None]
    dc = c - c[rows, cheapest][:, None]
    keep = (dc > 0) & (dq > 0)
    return dq[keep] / dc[keep]


def max_useful_lam(quality: np.ndarray, cost: np.ndarray) -> float:
    """Smallest lam (just above) at which every query goes to its cheapest model; 0 if lam = 0 does."""
    return float(switch_lams(quality, cost).max(initial=0.0)) * (1.0 + 1e-9)


class CostPolicy:
    """Route each query to argmax_m Q̂[:, m] − lam · cost[:, m] (ties → the cheaper model)."""

    def __init__(self, lam: float = 0.0) -> None:
        self.lam = lam

    def decide(self, quality: np.ndarray, cost: np.ndarray | None = None) -> np.ndarray:
        """Model index per query. ``cost``: (n, m) or (m,) USD; may be None only when lam == 0."""
        if self.lam < 0:
            raise DataError(f"lam must be ≥ 0, got {self.lam}", field="lam")
        if cost is None and self.lam != 0:
            raise DataError("CostPolicy with lam > 0 needs costs (the pool has no prices)", field="cost")
        return cost_decide(quality, cost, self.lam)

    def route(self, router, queries, cost: np.ndarray | None = None) -> np.ndarray:
        """Decide for ``queries`` with a fitted router: indices into ``router.models_``."""
        return self.decide(router.predict_quality(queries), cost)

    def __repr__(self) -> str:
        return f"CostPolicy(lam={self.lam!r})"


def expected_cost(
    texts: Sequence[str],
    models: Sequence[str],
    pool: pd.DataFrame | None,
    length_model: "OutputLengthModel | None" = None,
    tasks: Sequence | None = None,
) -> np.ndarray:
    """USD a decision is expected to cost, (len(texts), len(models)); NaN for unpriced models.

    Input tokens are estimated from the text (chars / 4); output tokens are the pool's
    ``expected_tokens_out`` when given (an explicit override), else the output-length
    model's prediction, else 256. This is the cost a policy decides on: it never sees a
    test query's measured cost.
    """
    from ..data._dataset import DEFAULT_TOKENS_OUT, estimate_tokens

    texts = list(texts)
    n, m = len(texts), len(models)
    cost = np.full((n, m), np.nan)
    if pool is None or n == 0:
        return cost
    tokens_in = estimate_tokens(texts)
    predicted = length_model.predict(texts, models, tasks) if length_model is not None else np.full((n, m), DEFAULT_TOKENS_OUT)
    table = pool.set_index("model")
    for j, name in enumerate(models):
        if name not in table.index:
            continue
        row = table.loc[name]
        fixed = row.get("expected_tokens_out", np.nan)
        tokens_out = predicted[:, j] if pd.isna(fixed) else np.full(n, float(fixed))
        cost[:, j] = (tokens_in * row["price_in_per_mtok"] + tokens_out * row["price_out_per_mtok"]) / 1e6
    return cost
