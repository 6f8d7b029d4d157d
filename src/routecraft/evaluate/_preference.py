"""Preference-only evaluation: score routers on held-out pairwise labels, no outcome table needed.

Arena-style logs hold "on query q, a beat b" and nothing else, so the outcome metrics
(APGR, AIQ) cannot be computed. Three things can, for any router, from its Q̂:

- **pairwise agreement**: share of decided battles (ties left out) where the router's
  P(a beats b) is on the winner's side of 1/2 (exactly 1/2 counts half);
- **log-loss** of P(a beats b) against the label (a tie is 1/2), P clipped to [1e-6, 1 − 1e-6];
- **win rate vs cost**: in each battle the cost policy argmax Q̂ − lam·cost picks a or b;
  its win rate (a tie counts half) and mean cost trace a curve from lam = 0 to "always the
  cheaper one". Summaries: the win rate at lam = 0 and at the midpoint spend between always
  cheaper and always pricier (on the curve's non-decreasing hull). A coin flip wins 1/2 at
  that spend; "always the pricier model" is reported beside it.

P(a beats b) is :func:`~routecraft.routers._base.pair_score_from_quality` — the
Bradley–Terry margin for win-probability routers, (1 + Q̂_a − Q̂_b)/2 for score routers.
Intervals resample queries (all battles of a query together), 1,000 times, seeded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from rich.table import Table

from .._errors import DataError
from ..data._dataset import Dataset
from ..data._split import SplitReport, split_dataset
from ..policy._bootstrap import bootstrap_counts, percentile_ci
from ..policy._cost import cost_decide
from ..routers._base import Router, pair_score_from_quality
from ..routers._registry import make_router
from ._costq import lam_grid, ndch, quality_at_cost
from ._pipeline import _label

EPS = 1e-6


@dataclass
class PreferenceRun:
    """Per-router preference metrics, the split, and the fitted routers."""

    results: list[dict[str, Any]]
    train: Dataset
    test: Dataset
    split: SplitReport
    routers: dict[str, Router] = field(default_factory=dict)


def _battles(router: Router, test: Dataset) -> tuple[pd.DataFrame, int]:
    prefs = test.preferences
    if prefs is None or len(prefs) == 0:
        raise DataError(f"test set '{test.name}' has no preferences to evaluate on")
    known = set(router.models_)
    keep = prefs["model_a"].isin(known) & prefs["model_b"].isin(known)
    if not keep.any():
        raise DataError(f"no preference in '{test.name}' compares two of the router's models")
    return prefs[keep].reset_index(drop=True), int((~keep).sum())


def preference_metrics(
    router: Router, test: Dataset, *, name: str | None = None, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Agreement, log-loss and the win-rate-vs-cost curve of a fitted router on ``test``'s preferences."""
    prefs, n_dropped = _battles(router, test)
    qindex = pd.Index(test.queries["query_id"])
    qi = qindex.get_indexer(prefs["query_id"])
    a = np.array([router.models_.index(m) for m in prefs["model_a"]])
    b = np.array([router.models_.index(m) for m in prefs["model_b"]])
    Q = router.predict_quality(test)
    q2 = np.column_stack([Q[qi, a], Q[qi, b]])
    p = np.clip(pair_score_from_quality(q2, 0, 1, router.quality_kind), EPS, 1 - EPS)
    y = prefs["winner"].map({"a": 1.0, "b": 0.0, "tie": 0.5}).to_numpy(dtype=float)
    w = prefs["weight"].to_numpy(dtype=float) if "weight" in prefs.columns else np.ones(len(prefs))
    decided = y != 0.5
    agree = np.where(p == 0.5, 0.5, ((p > 0.5) == (y == 1.0)).astype(float))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))

    cost = test.cost_matrix(router.models_)
    priced = np.isfinite(cost[qi][:, np.unique(np.r_[a, b])]).all()
    c2 = np.column_stack([cost[qi, a], cost[qi, b]]) if priced else None

    # per-row numerators/denominators, bootstrapped by query
    cols = {"agreement": (agree * w * decided, w * decided), "log_loss": (loss * w, w)}
    lams = None
    if c2 is not None:
        lams = lam_grid(q2, c2)
        picks = np.stack([cost_decide(q2, c2, lam) for lam in lams], axis=1)  # 0 = a, 1 = b
        win = np.where(picks == 0, y[:, None], 1.0 - y[:, None])
        spent = np.take_along_axis(c2, picks, axis=1)
        cheap = np.argmin(c2, axis=1)
        ends = {
            "cheaper": (np.where(cheap == 0, y, 1 - y), c2.min(axis=1)),
            "pricier": (np.where(cheap == 0, 1 - y, y), c2.max(axis=1)),
        }
    n_q = len(test)

    def stats(weights: np.ndarray) -> dict[str, np.ndarray]:
        rw = weights[:, qi]  # (B, rows)
        out = {k: (rw @ num) / np.maximum(rw @ den, 1e-300) for k, (num, den) in cols.items()}
        if lams is not None:
            tot = rw @ w
            out["win"] = (rw @ (win * w[:, None])) / tot[:, None]
            out["spend"] = (rw @ (spent * w[:, None])) / tot[:, None]
            for k, (wv, cv) in ends.items():
                out[f"{k}_win"], out[f"{k}_cost"] = (rw @ (wv * w)) / tot, (rw @ (cv * w)) / tot
        return out

    point = {k: v[0] for k, v in stats(np.ones((1, n_q))).items()}
    boots = [stats(block) for block in bootstrap_counts(n_q, n_boot, seed)] if n_boot > 0 else []
    boot = {k: np.concatenate([bb[k] for bb in boots]) for k in point} if boots else {}

    def summary(s: dict[str, np.ndarray], i: int | None = None) -> dict[str, float | None]:
        g = (lambda k: s[k]) if i is None else (lambda k: s[k][i])
        if lams is None:
            return {}
        hull = ndch(np.column_stack([g("spend"), g("win")]))
        mid = 0.5 * (g("cheaper_cost") + g("pricier_cost"))
        at_mid = quality_at_cost(hull, mid)
        return {"win_rate_lam0": float(g("win")[0]), "win_rate_at_mid_cost": at_mid,
                "always_pricier_win_rate": float(g("pricier_win"))}

    result: dict[str, Any] = {
        "router": name or type(router).__name__,
        "dataset": test.name,
        "n_battles": int(len(prefs)),
        "n_decided": int(decided.sum()),
        "n_ties": int((~decided).sum()),
        "n_dropped_models": n_dropped,
        "n_queries": int(len(np.unique(qi))),
        "quality_kind": router.quality_kind,
        "n_boot": int(n_boot),
        "seed": int(seed),
    }
    for k in ("agreement", "log_loss"):
        result[k] = float(point[k])
        result[f"{k}_ci"] = percentile_ci(boot[k]) if boot else None
    if lams is not None:
        base = summary(point)
        per_boot = [summary(boot, i) for i in range(len(boot["win"]))] if boot else []
        for k, v in base.items():
            result[k] = v
            vals = np.array([np.nan if d[k] is None else d[k] for d in per_boot])
            result[f"{k}_ci"] = percentile_ci(vals) if per_boot else None
        result["win_rate_cost_curve"] = {"lam": lams.tolist(), "cost": point["spend"].tolist(), "win_rate": point["win"].tolist()}
    else:
        result["win_rate_cost_curve"] = None
    return result


def train_and_evaluate_preferences(
    data: Dataset,
    routers: Sequence["str | Router"],
    *,
    test_size: float = 0.3,
    seed: int = 0,
    n_boot: int = 1000,
    on_step: Callable[[str], None] | None = None,
) -> PreferenceRun:
    """Split preference data by query, fit every router on train, score all on test's preferences."""
    if data.preferences is None:
        raise DataError(f"dataset '{data.name}' has no preferences")
    train, test, report = split_dataset(data, test_size=test_size, seed=seed)
    fitted: dict[str, Router] = {}
    results = []
    for spec in routers:
        label = _label(spec, set(fitted))
        router = make_router(spec) if isinstance(spec, str) else spec
        if router.needs_test_labels:
            raise DataError(f"router {label!r} needs outcome labels of the test queries; preference data has none")
        if on_step:
            on_step(f"fitting {label}")
        start = time.perf_counter()
        if not hasattr(router, "models_"):
            router.fit(train)
        fitted[label] = router
        res = preference_metrics(router, test, name=label, n_boot=n_boot, seed=seed)
        res["fit_seconds"] = round(time.perf_counter() - start, 3)
        res["n_train"] = len(train)
        res["split"] = report.origin
        results.append(res)
    return PreferenceRun(results, train, test, report, fitted)


def format_preference_results(results: Sequence[dict[str, Any]]) -> Table:
    """One row per router: agreement, log-loss and win rates with 95% intervals."""
    first = results[0] if results else {}
    table = Table(
        title=f"{first.get('dataset', '')} — preference evaluation ({first.get('n_battles', 0)} held-out battles, "
        f"{first.get('n_ties', 0)} ties)",
        caption="win rate: the cost policy's pick in each battle (tie = 1/2); mid cost = halfway between always "
        "cheaper and always pricier (a coin flip wins 0.5 there)",
    )
    for col in ("router", "agreement", "log-loss", "win rate (lam=0)", "win rate @ mid cost", "always pricier"):
        table.add_column(col, justify="left" if col == "router" else "right", no_wrap=col == "router")

    def cell(r: dict, k: str) -> str:
        v = r.get(k)
        if v is None:
            return "—"
        ci = r.get(f"{k}_ci")
        return f"{v:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    for r in results:
        table.add_row(r["router"], cell(r, "agreement"), cell(r, "log_loss"), cell(r, "win_rate_lam0"),
                      cell(r, "win_rate_at_mid_cost"), cell(r, "always_pricier_win_rate"))
    return table
