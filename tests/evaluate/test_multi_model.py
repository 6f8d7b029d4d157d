"""Multi-model metrics: non-decreasing convex hull, AIQ, RouterArena score (METHODS §D)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routecraft.evaluate import aiq, arena_score, ndch
from routecraft.evaluate._costq import cost_to_match, lam_grid, quality_at_cost, sweep_decisions


def test_ndch_drops_points_under_the_hull_and_after_the_peak():
    pts = np.array([[0, 0.2], [1, 0.5], [2, 0.55], [3, 0.9], [4, 0.8], [1.5, 0.3], [1, 0.1]])
    # (2, .55) lies under the chord (1, .5)–(3, .9) = .7; (4, .8) is past the peak; (1, .1) loses to (1, .5)
    assert ndch(pts).tolist() == [[0, 0.2], [1, 0.5], [3, 0.9]]


def test_aiq_hand_checked_with_shared_max_cost():
    a = np.array([[1, 0.5], [2, 0.7], [3, 0.6]])  # hull (1,.5),(2,.7); extended flat to x = 4
    b = np.array([[0, 0.2], [4, 1.0], [2, 0.4]])  # (2, .4) under the chord (.6) → hull (0,.2),(4,1)
    out = aiq({"a": a, "b": b})
    # a: trapz over (1,.5),(2,.7),(4,.7) = .6 + 1.4 = 2.0 → / 4 ; b: (.2 + 1)/2·4 = 2.4 → / 4
    assert out == {"a": pytest.approx(0.5), "b": pytest.approx(0.6)}
    # alone: its own max cost 2, and the area starts at its cheapest point (RouterBench): .6 / 2
    assert aiq({"a": a})["a"] == pytest.approx(0.3)


def test_arena_score_formula():
    span = math.log2(200) - math.log2(0.0044)
    # $0.01 per query = $10 per 1k queries
    c = (math.log2(200) - math.log2(10)) / span
    assert arena_score(0.8, 0.01) == pytest.approx(1.1 * 0.8 * c / (0.1 * 0.8 + c))
    assert arena_score(0.8, 0.0044 / 1000) == pytest.approx(1.1 * 0.8 / (0.08 + 1))  # C = 1
    assert arena_score(0.8, 1.0) == 0.0  # $1000 per 1k queries: C clipped to 0
    assert arena_score(0.8, 1e-12) == pytest.approx(1.1 * 0.8 / 1.08)  # C clipped to 1


def test_cost_to_match_and_quality_at_cost_interpolate_the_hull():
    hull = np.array([[1.0, 0.5], [3.0, 0.9]])
    assert cost_to_match(hull, 0.7) == pytest.approx(2.0)
    assert cost_to_match(hull, 0.4) == pytest.approx(1.0)
    assert cost_to_match(hull, 0.95) is None
    assert quality_at_cost(hull, 2.0) == pytest.approx(0.7)
    assert quality_at_cost(hull, 10.0) == pytest.approx(0.9)
    assert quality_at_cost(hull, 0.5) is None


def test_lam_sweep_runs_from_argmax_to_cheapest():
    rng = np.random.default_rng(0)
    q, cost = rng.random((300, 4)), rng.random((300, 4)) * 1e-3
    lams = lam_grid(q, cost)
    assert lams[0] == 0.0
    d = sweep_decisions(q, cost, lams)
    assert (d[:, 0] == q.argmax(axis=1)).all()
    assert (d[:, -1] == cost.argmin(axis=1)).all()
    spend = cost[np.arange(300)[:, None], d].mean(axis=0)
    assert np.all(np.diff(spend) <= 1e-15)  # spend falls as lam grows
