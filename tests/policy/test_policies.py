"""Policies and budget calibration (DESIGN §5)."""

from __future__ import annotations

import numpy as np
import pytest

from routecraft._errors import DataError, NotFittedError
from routecraft.policy import (
    BudgetPolicy,
    CostPolicy,
    ThresholdPolicy,
    calibrate_lam,
    calibrate_threshold,
    max_useful_lam,
)


def test_threshold_policy_is_inclusive_and_resolves_names():
    pol = ThresholdPolicy("gpt-4", "mixtral", 0.5)
    out = pol.decide(np.array([0.2, 0.5, 0.9]), models=["mixtral", "gpt-4"])
    assert out.tolist() == [0, 1, 1]  # score == threshold goes strong (RouteLLM's >=)
    assert ThresholdPolicy(3, 7, 0.5).decide(np.array([0.1, 0.6])).tolist() == [7, 3]


def test_cost_policy_ties_go_to_the_cheaper_model():
    q = np.array([[0.5, 0.5, 0.2], [0.9, 0.1, 0.9]])
    cost = np.array([2.0, 1.0, 0.5])
    assert CostPolicy(0.0).decide(q, cost).tolist() == [1, 2]


def test_cost_policy_lam_zero_is_argmax_and_infinity_is_cheapest():
    rng = np.random.default_rng(0)
    q = rng.random((200, 4))
    cost = rng.random((200, 4)) * 1e-3 + 1e-5
    assert (CostPolicy(0.0).decide(q, cost) == q.argmax(axis=1)).all()
    assert (CostPolicy(np.inf).decide(q, cost) == cost.argmin(axis=1)).all()
    # the sweep end really is "always cheapest"
    assert (CostPolicy(max_useful_lam(q, cost)).decide(q, cost) == cost.argmin(axis=1)).all()


def test_cost_policy_needs_costs_for_positive_lam():
    with pytest.raises(DataError):
        CostPolicy(1.0).decide(np.ones((2, 2)), None)
    with pytest.raises(DataError):
        CostPolicy(1.0).decide(np.ones((2, 2)), np.array([1.0, np.nan]))


def test_calibrate_threshold_hits_target_fraction():
    scores = np.random.default_rng(1).random(5000)
    cal = calibrate_threshold(scores, 0.3, n_boot=300, seed=0)
    assert cal.threshold == pytest.approx(np.quantile(scores, 0.7))
    assert cal.strong_fraction == pytest.approx(0.3, abs=1e-3)
    lo, hi = cal.strong_fraction_ci
    assert lo <= 0.3 <= hi and hi - lo < 0.05
    assert set(cal.to_dict()) >= {"threshold", "strong_fraction", "strong_fraction_ci"}


def test_calibrate_lam_hits_dollar_target():
    rng = np.random.default_rng(2)
    q = rng.random((3000, 3))
    cost = np.array([1e-3, 1e-4, 4e-4])
    target = 4e-4
    cal = calibrate_lam(q, cost, target, n_boot=300, seed=0)
    assert cal.usd_per_query <= target
    assert cal.usd_per_query == pytest.approx(target, rel=0.01)
    lo, hi = cal.usd_per_query_ci
    assert lo <= cal.usd_per_query <= hi
    with pytest.raises(DataError):
        calibrate_lam(q, cost, 1e-5)  # below the all-cheapest spend


def test_budget_policy_both_modes():
    rng = np.random.default_rng(3)
    scores = rng.random(1000)
    pol = BudgetPolicy(strong_fraction=0.25, strong="s", weak="w", n_boot=100)
    with pytest.raises(NotFittedError):
        pol.decide(scores, models=["w", "s"])
    picks = pol.calibrate(scores).decide(scores, models=["w", "s"])
    assert picks.mean() == pytest.approx(0.25, abs=0.01)

    q, cost = rng.random((1000, 3)), np.array([1e-3, 1e-4, 4e-4])
    budget = BudgetPolicy(usd_per_query=3e-4, n_boot=100).calibrate(q, cost)
    assert cost[budget.decide(q, cost)].mean() <= 3e-4
    with pytest.raises(DataError):
        BudgetPolicy().calibrate(scores)
