"""Two-model metrics: exact APGR/CPT and RouteLLM's evaluator (DESIGN §6, METHODS §C)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft.evaluate import apgr, apgr_routellm, cpt, cpt_routellm, pgr_curve
from routecraft.evaluate._pgr import PairData

SCORES = np.array([0.91, 0.12, 0.55, 0.33, 0.78, 0.05, 0.67, 0.41, 0.29, 0.84,
                   0.18, 0.62, 0.47, 0.95, 0.23, 0.71, 0.36, 0.58, 0.09, 0.88])
STRONG = np.array([1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1], dtype=float)
WEAK = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0], dtype=float)


def routellm_by_hand(scores, strong, weak):
    """RouteLLM's GSM8K.evaluate + generate_results, written out for this test."""
    data = pd.DataFrame({"s": scores, "strong": strong, "weak": weak})
    _, thresholds = pd.qcut(data["s"], 10, retbins=True)
    rows = []
    for i, t in enumerate(thresholds):
        sel = data["s"] >= t if i != len(thresholds) - 1 else data["s"] > t
        results = np.where(sel, data["strong"], data["weak"])
        rows.append({"strong_percentage": sel.sum() / len(data) * 100, "accuracy": sum(results) / len(results) * 100})
    df = pd.DataFrame(rows).sort_values(by=["strong_percentage"])
    weak_acc, strong_acc = data["weak"].mean() * 100, data["strong"].mean() * 100
    x = df["strong_percentage"] / 100
    auc = np.trapezoid(df["accuracy"], x)
    weak_auc = np.trapezoid(np.full(len(df), weak_acc), x)
    strong_auc = np.trapezoid(np.full(len(df), strong_acc), x)
    cpt50 = np.interp(0.5 * (strong_acc - weak_acc) + weak_acc, df["accuracy"], df["strong_percentage"])
    return (auc - weak_auc) / (strong_auc - weak_auc), cpt50 / 100


def test_apgr_routellm_matches_hand_computation():
    expected_apgr, expected_cpt50 = routellm_by_hand(SCORES, STRONG, WEAK)
    assert apgr_routellm(SCORES, STRONG, WEAK) == pytest.approx(expected_apgr, abs=1e-12)
    assert cpt_routellm(SCORES, STRONG, WEAK, 0.5) == pytest.approx(expected_cpt50, abs=1e-12)


def test_vectorised_resamples_equal_materialised_qcut():
    """Bootstrap rows (counts in test-set order) must give what RouteLLM's code gives on the resampled data.

    Rows need not sum to n: a resample of the whole test set restricted to a subset of it.
    """
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(15, 200))
        s = np.round(rng.random(n), 2)
        st, wk = (rng.random(n) < 0.7).astype(float), (rng.random(n) < 0.4).astype(float)
        counts = np.bincount(rng.integers(0, n, int(rng.integers(n // 2, 2 * n))), minlength=n).astype(float)
        data = PairData(s, st, wk)
        rep = np.repeat(np.arange(n), counts.astype(int))  # indices into the caller's order
        try:
            expected, _ = routellm_by_hand(s[rep], st[rep], wk[rep])
        except ValueError:  # duplicate decile edges: RouteLLM's qcut raises
            continue
        got = data.block(counts[None, :]).apgr_routellm[0]
        assert got == pytest.approx(expected, abs=1e-12, nan_ok=True)


def test_exact_apgr_of_perfect_constant_and_reversed_orderings():
    strong = np.array([1.0, 1.0, 0.0, 1.0])
    weak = np.array([0.0, 1.0, 0.0, 0.0])
    gain = strong - weak  # queries 0 and 3 gain 1; total gain 2
    # perfect: both gaining queries first → PGR 1 at c = 0.5 → area 0.5·0.5 + 0.5·1 = 0.75
    assert apgr(gain, strong, weak) == pytest.approx(0.75)
    # constant: one tie block → straight line from (0, 0) to (1, 1)
    assert apgr(np.zeros(4), strong, weak) == pytest.approx(0.5)
    # reversed: PGR 0 until c = 0.5, then up to 1 → 0.25
    assert apgr(-gain, strong, weak) == pytest.approx(0.25)
    curve = pgr_curve(gain, strong, weak)
    assert curve["strong_fraction"].tolist() == [0.0, 0.5, 1.0]
    assert curve["pgr"].tolist() == [0.0, 1.0, 1.0]


def test_cpt_exact_vs_interp_on_a_monotone_curve():
    n = 10
    scores = np.arange(n, 0, -1, dtype=float)  # distinct, query 0 first
    strong = np.ones(n)
    weak = np.r_[np.zeros(4), np.ones(6)]  # the 4 top-scored queries gain → PGR(c) = min(c/0.4, 1)
    assert cpt(scores, strong, weak, 0.5) == pytest.approx(0.2)
    assert cpt(scores, strong, weak, 0.8) == pytest.approx(0.4)  # c = 0.3 gives only 0.75
    block = PairData(scores, strong, weak).block(np.ones((1, n)))
    acc, c = block.rl_acc[0], block.rl_c[0]
    assert np.all(np.diff(acc) >= 0)  # monotone, so np.interp is meaningful
    interp80 = np.interp(0.6 + 0.8 * 0.4, acc, c)
    assert cpt_routellm(scores, strong, weak, 0.8) == pytest.approx(interp80)
    # interpolating between attainable points can only undercut the exact (attainable) CPT
    assert cpt(scores, strong, weak, 0.8) - 0.1 <= interp80 <= cpt(scores, strong, weak, 0.8)
    assert interp80 == pytest.approx(0.32)


def test_apgr_undefined_when_strong_equals_weak():
    s = np.ones(5)
    assert np.isnan(apgr(np.arange(5.0), s, s))
