"""Metrics against transcriptions of the reference code (oracles live here, in tests only).

- RouterBench ``evaluation/AIQ.py`` (withmartian/routerbench): ``get_non_descreasing_convex_hull_of``
  and ``calc_AIQ``'s extend-and-integrate step, transcribed line by line.
- RouteLLM ``routellm/evals/evaluate.py`` + ``benchmarks.py``: thresholds from ``pd.qcut(scores, 10)``,
  ``>=`` except ``>`` for the last edge, AUC by trapz over the strong share, APGR normalised by the
  weak/strong AUCs. The decile edges come either from the installed pandas' own ``qcut`` (pandas 3
  here) or from pandas 2's recipe, written out: ``Series.quantile(np.linspace(0, 1, 11))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft.evaluate import aiq, apgr_routellm, cpt_routellm
from routecraft.evaluate._pgr import PairData


# ----------------------------------------------------------------- RouterBench, transcribed
def routerbench_ndch(points: np.ndarray) -> np.ndarray:
    convex_hull_points = points[points[:, 0].argsort()]
    new = []
    for i in range(len(convex_hull_points)):
        for j in range(i, len(convex_hull_points)):
            x1, y1 = convex_hull_points[i]
            x2, y2 = convex_hull_points[j]
            for k in range(len(convex_hull_points)):
                x, y = convex_hull_points[k]
                if x1 < x < x2:
                    interp = np.interp(x, [x1, x2], [y1, y2])
                    if y < interp:
                        if x not in [mx for mx, _ in new]:
                            new.append([x, interp])
                        else:
                            for m in range(len(new)):
                                xn, yn = new[m]
                                if xn == x and yn < interp:
                                    new[m] = [x, interp]
                                    break
                                elif xn == x and yn > interp:
                                    new[m] = [x, yn]
                    if y >= interp:
                        if x not in [mx for mx, _ in new]:
                            new.append([x, y])
                        else:
                            for m in range(len(new)):
                                xn, yn = new[m]
                                if xn == x and yn < y:
                                    new[m] = [x, y]
                                    break
                                elif xn == x and yn > y:
                                    new[m] = [x, yn]
    if convex_hull_points[-1][0] not in [mx for mx, _ in new]:
        if convex_hull_points[-1][1] >= new[-1][1]:
            new.append(convex_hull_points[-1])
    if convex_hull_points[0][0] not in [mx for mx, _ in new]:
        new = [convex_hull_points[0]] + new
    hull = np.array(new)
    hull = hull[hull[:, 0].argsort()]
    drop = [i for i in range(1, len(hull)) if hull[i][1] < hull[i - 1][1]]
    return np.delete(hull, drop, axis=0)


def routerbench_aiq(point_sets: list[np.ndarray]) -> list[float]:
    hulls = [routerbench_ndch(p) for p in point_sets]
    max_x = max(np.max(h[:, 0]) for h in hulls)
    hulls = [np.vstack((h, np.array([max_x, h[-1, 1]]))) for h in hulls]
    return [np.trapezoid(h[:, 1], h[:, 0]) / max_x for h in hulls]


def _random_points(rng: np.random.Generator, flat_top: bool) -> np.ndarray:
    n = int(rng.integers(3, 10))
    x = np.sort(rng.choice(np.arange(1, 60), size=n, replace=False) / 10.0)  # distinct costs
    y = np.round(rng.random(n), 1)  # one decimal: ties in quality are common
    if flat_top:  # the top quality repeated at two or more costs, at least once past the first max
        top = y.max()
        y[rng.choice(n, size=int(rng.integers(2, n + 1)), replace=False)] = top
    return np.column_stack([x, y])


def test_issue_example_flat_top():
    pts = np.array([[1, 0.5], [2, 0.8], [3, 0.8]])
    assert aiq({"r": pts})["r"] == pytest.approx(0.48333333333333334)
    assert routerbench_aiq([pts])[0] == pytest.approx(0.48333333333333334)


def test_flat_top_decides_the_ranking_as_in_routerbench():
    flat = np.array([[1, 0.5], [2, 0.8], [3, 0.8]])
    steep = np.array([[1, 0.6], [2.5, 0.79], [2.9, 0.7]])
    ours = aiq({"flat": flat, "steep": steep})
    ref = routerbench_aiq([flat, steep])
    assert [ours["flat"], ours["steep"]] == pytest.approx(ref, abs=1e-12)
    # cutting the flat top at its first maximum (the old behaviour) would rank steep first
    assert ours["flat"] > ours["steep"]


@pytest.mark.parametrize("seed", range(24))
def test_aiq_equals_routerbench_on_random_point_sets(seed):
    rng = np.random.default_rng(seed)
    sets = [_random_points(rng, flat_top=bool((seed + k) % 2)) for k in range(int(rng.integers(1, 4)))]
    ours = aiq({f"r{k}": p for k, p in enumerate(sets)})
    ref = routerbench_aiq(sets)
    assert [ours[f"r{k}"] for k in range(len(sets))] == pytest.approx(ref, abs=1e-12)


# ----------------------------------------------------------------- RouteLLM, transcribed
def routellm_evaluator(scores, strong, weak, edges: str):
    """RouteLLM's benchmark threshold loop + generate_results' AUC/APGR/CPT, on one router."""
    data = pd.DataFrame({"s": scores, "strong": strong, "weak": weak})
    if edges == "installed":  # pandas' own qcut (pandas 3 in this venv)
        _, thresholds = pd.qcut(data["s"], 10, retbins=True)
    else:  # pandas 2's qcut: quantiles at np.linspace(0, 1, 11) as is
        thresholds = data["s"].quantile(np.linspace(0, 1, 11)).to_numpy()
        if len(np.unique(thresholds)) != len(thresholds):
            raise ValueError("Bin edges must be unique")  # what pandas 2's qcut raises
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
    with np.errstate(divide="ignore", invalid="ignore"):  # RouteLLM divides by zero when strong == weak
        return (auc - weak_auc) / (strong_auc - weak_auc), cpt50 / 100


def _case(rng: np.random.Generator, n: int, grid: int | None = None):
    s = rng.random(n) if grid is None else rng.integers(0, grid, n) / grid
    strong = (rng.random(n) < 0.75).astype(float)
    weak = (rng.random(n) < 0.5).astype(float)
    return s, strong, weak


@pytest.mark.parametrize("mode, edges", [("pandas3", "installed"), ("pandas2", "pandas2")])
def test_apgr_routellm_equals_routellm_evaluator(mode, edges):
    assert pd.__version__.split(".")[0] == "3"  # "installed" edges are pandas 3's
    rng = np.random.default_rng(5)
    checked = 0
    for n in [11, 21, 31, 41, 51, 61, 71, 81, 91, 101, 201, 37, 150, 999]:  # (n − 1)·0.1 integer for most
        s, st, wk = _case(rng, n)
        expected_apgr, expected_cpt = routellm_evaluator(s, st, wk, edges)
        assert apgr_routellm(s, st, wk, qcut=mode) == pytest.approx(expected_apgr, abs=1e-12)
        assert cpt_routellm(s, st, wk, 0.5, qcut=mode) == pytest.approx(expected_cpt, abs=1e-12)
        checked += 1
    assert checked == 14


def test_pandas2_and_pandas3_edges_really_differ():
    """The two modes are not the same computation: on n = 11 distinct scores the 0.3 decile moves a query."""
    rng = np.random.default_rng(2)
    differ = 0
    for _ in range(40):
        s, st, wk = _case(rng, 11)
        a3, a2 = apgr_routellm(s, st, wk, qcut="pandas3"), apgr_routellm(s, st, wk, qcut="pandas2")
        if st.mean() == wk.mean():  # RouteLLM divides by zero (±inf); undefined is NaN here
            assert np.isnan(a3) and np.isnan(a2)
            continue
        e3, _ = routellm_evaluator(s, st, wk, "installed")
        e2, _ = routellm_evaluator(s, st, wk, "pandas2")
        assert (a3, a2) == pytest.approx((e3, e2), abs=1e-12, nan_ok=True)
        differ += abs(a3 - a2) > 1e-9
    assert differ > 0


SCORES = np.array([0.91, 0.12, 0.55, 0.33, 0.78, 0.05, 0.67, 0.41, 0.29, 0.84,
                   0.18, 0.62, 0.47, 0.95, 0.23, 0.71, 0.36, 0.58, 0.09, 0.88])
STRONG = np.array([1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1], dtype=float)
WEAK = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0], dtype=float)


def test_apgr_routellm_on_a_fixed_case():
    expected_apgr, expected_cpt50 = routellm_evaluator(SCORES, STRONG, WEAK, "installed")
    assert apgr_routellm(SCORES, STRONG, WEAK) == pytest.approx(expected_apgr, abs=1e-12)
    assert cpt_routellm(SCORES, STRONG, WEAK, 0.5) == pytest.approx(expected_cpt50, abs=1e-12)


def test_resampled_routellm_apgr_in_both_modes():
    """Bootstrap rows (test-order counts) = RouteLLM's evaluator on the materialised resample, both modes.

    Rows need not sum to n (a resample of the whole test set restricted to a subset), and the
    scores are on a coarse grid so ties are common.
    """
    rng = np.random.default_rng(9)
    for i in range(40):
        n = int(rng.integers(20, 120))
        s, st, wk = _case(rng, n, grid=None if i % 2 else 50)
        counts = np.bincount(rng.integers(0, n, int(rng.integers(n // 2, 2 * n))), minlength=n).astype(float)
        rep = np.repeat(np.arange(n), counts.astype(int))
        for mode, edges in (("pandas3", "installed"), ("pandas2", "pandas2")):
            try:
                expected, _ = routellm_evaluator(s[rep], st[rep], wk[rep], edges)
            except ValueError:  # duplicate edges: RouteLLM's qcut raises; we keep them (documented)
                continue
            got = PairData(s, st, wk, qcut=mode).block(counts[None, :]).apgr_routellm[0]
            if st[rep].mean() == wk[rep].mean():  # RouteLLM: ±inf or NaN; here always NaN (undefined)
                assert np.isnan(got)
                continue
            assert got == pytest.approx(expected, abs=1e-12)
