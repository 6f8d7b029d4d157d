"""Preference-only evaluation: agreement, log-loss and the win-rate-vs-cost curve, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft.data import Dataset
from routecraft.evaluate._preference import preference_metrics, train_and_evaluate_preferences
from routecraft.routers._base import Router


class FixedRouter(Router):
    """Q̂ given per query id (a test double with the real Router contract)."""

    learns_from = ("preferences",)

    def __init__(self, table: dict | None = None) -> None:
        self.table = table

    def _fit(self, data):
        self.models_ = ["big", "small"]

    def _predict(self, queries):
        return np.array([self.table[q] for q in queries["query_id"]])


def _prefs_data() -> Dataset:
    q = pd.DataFrame({"query_id": ["q1", "q2", "q3", "q4"], "query": ["w x", "y z", "a b", "c d"]})
    prefs = pd.DataFrame({
        "query_id": ["q1", "q2", "q3", "q4"],
        "model_a": ["big", "big", "small", "big"],
        "model_b": ["small", "small", "big", "small"],
        "winner": ["a", "b", "b", "tie"],
    })
    pool = pd.DataFrame({"model": ["big", "small"], "price_in_per_mtok": [10.0, 1.0], "price_out_per_mtok": [10.0, 1.0]})
    return Dataset(q, preferences=prefs, pool=pool, meta={"name": "prefs"})


def test_agreement_log_loss_and_curve_ends():
    data = _prefs_data()
    table = {"q1": [0.9, 0.1], "q2": [0.8, 0.4], "q3": [0.7, 0.3], "q4": [0.5, 0.5]}
    r = FixedRouter(table).fit(data)
    res = preference_metrics(r, data, n_boot=50)
    # P(a wins) for a score router = (1 + Q_a - Q_b) / 2: q1 .9, q2 .7 (a=big), q3 .3 (a=small), q4 .5
    p = np.array([0.9, 0.7, 0.3, 0.5])
    y = np.array([1.0, 0.0, 0.0, 0.5])
    assert res["agreement"] == pytest.approx(2 / 3)  # q1 right, q2 wrong, q3 right; the tie is left out
    assert res["log_loss"] == pytest.approx(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    # lam = 0 picks big everywhere (q4: tie in Q̂ → the cheaper small): wins q1, loses q2, wins q3, half on q4
    assert res["win_rate_lam0"] == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    assert res["always_pricier_win_rate"] == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    assert res["n_battles"] == 4 and res["n_ties"] == 1
    curve = res["win_rate_cost_curve"]
    assert curve["cost"][0] >= curve["cost"][-1]  # lam sweep ends at "always cheaper"
    assert res["agreement_ci"] is not None and res["agreement_ci"][0] <= res["agreement"] <= res["agreement_ci"][1]


def test_preference_routers_evaluate_on_preference_only_data(conformance_data):
    data = Dataset(conformance_data.queries, preferences=conformance_data.preferences,
                   pool=conformance_data.pool, meta={"name": "prefs-only"})
    from routecraft.routers import make_router

    run = train_and_evaluate_preferences(data, [make_router("sw", embedder="hashing"), "random"], n_boot=100)
    by = {r["router"]: r for r in run.results}
    assert set(by) == {"SWRankingRouter", "random"}
    assert by["SWRankingRouter"]["agreement"] > by["random"]["agreement"] - 0.05
    assert all(0 <= r["log_loss"] and r["win_rate_cost_curve"] for r in run.results)
