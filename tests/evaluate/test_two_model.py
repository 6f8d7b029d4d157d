"""Two-model metrics: exact APGR/CPT and the 11-point RouteLLM curve (DESIGN §6, METHODS §C)."""

from __future__ import annotations

import numpy as np
import pytest

from routecraft.evaluate import apgr, cpt, cpt_routellm, pgr_curve
from routecraft.evaluate._pgr import PairData

# RouteLLM's evaluator itself (transcribed) is compared in test_references.py.


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
