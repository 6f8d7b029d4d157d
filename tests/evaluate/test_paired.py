"""Paired bootstrap, undefined metrics, and no peeking at the test set (issue #14, items 2–4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft._errors import RoutecraftError
from routecraft.data._dataset import Dataset
from routecraft.evaluate import apgr, cpt, cpt_routellm, evaluate_routers
from routecraft.policy import bootstrap_counts
from routecraft.routers import BestSingleRouter, OracleRouter, RandomRouter
from routecraft.routers._baselines import AlwaysRouter

N_BOOT = 200


def _data(n: int, skills: dict[str, float], seed: int, prices: dict[str, tuple[float, float]] | None = None,
          name: str = "syn") -> Dataset:
    rng = np.random.default_rng(seed)
    ids = [f"q{i:04d}" for i in range(n)]
    rows = [{"query_id": q, "model": m, "score": float(rng.random() < p)} for q in ids for m, p in skills.items()]
    pool = None
    if prices:
        pool = pd.DataFrame({"model": list(prices), "price_in_per_mtok": [p[0] for p in prices.values()],
                             "price_out_per_mtok": [p[1] for p in prices.values()]})
    queries = pd.DataFrame({"query_id": ids, "query": [f"question number {i} about topic {i % 7}" for i in range(n)]})
    return Dataset(queries, pd.DataFrame(rows), pool=pool, meta={"name": name})


PRICES = {"big": (10.0, 30.0), "small": (0.5, 1.5)}


@pytest.fixture(scope="module")
def priced():
    return _data(300, {"big": 0.8, "small": 0.55}, seed=3, prices=PRICES)


def _materialised_quality(data: Dataset, choice: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Mean true score of ``choice`` on each resample, drawn by hand from the test-order counts."""
    s = data.score_matrix(["big", "small"])
    picked = s[np.arange(len(s)), choice]
    counts = np.concatenate(list(bootstrap_counts(len(s), n_boot, seed)))
    return counts @ picked / counts.sum(axis=1)


def test_paired_differences_use_the_same_test_order_resamples(priced):
    a, b = RandomRouter(random_state=1).fit(priced), RandomRouter(random_state=2).fit(priced)
    res = evaluate_routers({"a": a, "b": b}, priced, reference=priced, n_boot=N_BOOT, seed=4, compare=[("a", "b")])
    names = res[0]["models"]
    assert names == ["big", "small"]
    qa, qb = a.predict_quality(priced), b.predict_quality(priced)
    choice_a = np.where(qa[:, 0] >= qa[:, 1], 0, 1)  # lam = 0 pick (ties → cheaper = small, never tied here)
    choice_b = np.where(qb[:, 0] >= qb[:, 1], 0, 1)
    diffs = _materialised_quality(priced, choice_a, N_BOOT, 4) - _materialised_quality(priced, choice_b, N_BOOT, 4)
    d = res[0]["paired"]["b"]["quality"]
    assert d["ci"] == pytest.approx(list(np.percentile(diffs, [2.5, 97.5])), abs=1e-12)
    assert d["n_undefined"] == 0
    # each router's own interval comes from those same resamples
    qa_boot = _materialised_quality(priced, choice_a, N_BOOT, 4)
    assert res[0]["quality_ci"] == pytest.approx(list(np.percentile(qa_boot, [2.5, 97.5])), abs=1e-12)


def test_paired_apgr_equals_materialised_resamples(priced):
    a, b = RandomRouter(random_state=5).fit(priced), RandomRouter(random_state=6).fit(priced)
    res = evaluate_routers({"a": a, "b": b}, priced, reference=priced, n_boot=50, seed=1, compare=[("a", "b")])
    s = priced.score_matrix(["big", "small"])
    pa = a.pair_score(priced, strong="big", weak="small")
    pb = b.pair_score(priced, strong="big", weak="small")
    counts = np.concatenate(list(bootstrap_counts(len(s), 50, 1))).astype(int)
    diffs = []
    for w in counts:
        rep = np.repeat(np.arange(len(s)), w)
        diffs.append(apgr(pa[rep], s[rep, 0], s[rep, 1]) - apgr(pb[rep], s[rep, 0], s[rep, 1]))
    assert res[0]["paired"]["b"]["apgr"]["ci"] == pytest.approx(list(np.percentile(diffs, [2.5, 97.5])), abs=1e-9)


def test_router_minus_itself_is_exactly_zero(priced):
    routers = {"random": RandomRouter().fit(priced), "best-single": BestSingleRouter().fit(priced),
               "oracle": OracleRouter().fit(priced)}
    res = evaluate_routers(routers, priced, reference=priced, n_boot=N_BOOT, compare=[("oracle", "oracle")])
    by = {r["router"]: r for r in res}
    for name, ref in (("random", "random"), ("best-single", "best-single"), ("oracle", "oracle")):
        paired = by[name]["paired"][ref]
        for metric in ("apgr", "apgr_routellm", "quality", "aiq", "quality_at_equal_cost"):
            assert paired[metric]["diff"] == 0.0, (name, metric)
            assert paired[metric]["ci"] == [0.0, 0.0], (name, metric)
    assert by["random"]["paired"]["random"]["role"] == "random"
    assert by["oracle"]["paired"]["best-single"]["role"] == "best_single"
    lo, hi = by["oracle"]["paired"]["random"]["quality"]["ci"]
    assert lo > 0  # the oracle beats random routing on every resample's quality


def test_compare_names_must_be_in_the_run(priced):
    with pytest.raises(RoutecraftError, match="nope"):
        evaluate_routers({"r": RandomRouter().fit(priced)}, priced, reference=priced, n_boot=5, compare=[("r", "nope")])


def test_undefined_resamples_are_counted():
    # 6 queries, strong and weak differ on one: many resamples miss it, so PGR has no denominator there
    ids = [f"q{i}" for i in range(6)]
    big = [1, 1, 0, 1, 0, 1]
    small = [1, 1, 0, 1, 0, 0]
    out = pd.DataFrame([{"query_id": q, "model": m, "score": float(v)}
                        for q, b, s in zip(ids, big, small) for m, v in (("big", b), ("small", s))])
    data = Dataset(pd.DataFrame({"query_id": ids, "query": [f"question {q}" for q in ids]}), out, meta={"name": "tiny"})
    r = evaluate_routers({"rand": RandomRouter().fit(data)}, data, reference=data, n_boot=300, seed=0)[0]
    counts = np.concatenate(list(bootstrap_counts(6, 300, 0)))
    expected = int((counts[:, 5] == 0).sum())  # resamples without query q5: strong mean == weak mean
    assert expected > 0
    assert r["ci_undefined"]["apgr"] == expected
    assert r["ci_undefined"]["cpt50"] == expected
    assert r["ci_undefined"]["apgr_routellm"] == expected


def test_cpt_is_nan_when_strong_and_weak_tie():
    s = np.array([1.0, 0.0, 1.0, 0.0])
    w = np.array([0.0, 1.0, 1.0, 0.0])  # same mean as s
    scores = np.arange(4.0)
    assert np.isnan(cpt(scores, s, w, 0.5))
    assert np.isnan(cpt_routellm(scores, s, w, 0.5))
    assert np.isnan(apgr(scores, s, w))


def test_runner_reports_null_when_pair_ties():
    data = _data(40, {"big": 0.5, "small": 0.5}, seed=0)
    sm = data.score_matrix(["big", "small"])
    # force equal means: copy big's scores onto small in reversed order
    out = data.outcomes.copy()
    out.loc[out["model"] == "small", "score"] = sm[::-1, 0]
    data = Dataset(data.queries, out, meta={"name": "tie"})
    assert data.score_matrix(["big"]).mean() == data.score_matrix(["small"]).mean()
    r = evaluate_routers({"rand": RandomRouter().fit(data)}, data, reference=data, n_boot=20)[0]
    for key in ("apgr", "apgr_routellm", "cpt50", "cpt80", "cpt50_routellm", "cpt80_routellm"):
        assert r[key] is None, key


class _NaNRouter(BestSingleRouter):
    def _predict(self, queries):
        q = super()._predict(queries)
        q[3, 0] = np.nan
        return q


def test_nan_router_output_is_an_error_naming_the_router(priced):
    with pytest.raises(RoutecraftError, match=r"router 'nanny' returned NaN or infinite quality for 1 of 300"):
        evaluate_routers({"nanny": _NaNRouter().fit(priced)}, priced, reference=priced, n_boot=5)


def test_pair_and_best_single_are_chosen_on_train_not_test():
    # on train "a" is best and "b" second; on test "b" is best
    train = _data(200, {"a": 0.9, "b": 0.6, "c": 0.3}, seed=1, name="t")
    test = _data(200, {"a": 0.5, "b": 0.8, "c": 0.2}, seed=2, name="t")
    r = evaluate_routers({"rand": RandomRouter().fit(train)}, test, reference=train, n_boot=10)[0]
    assert (r["strong"], r["weak"]) == ("a", "c")  # no prices: weak = lowest train mean
    assert r["best_single"] == {"model": "a", "quality": pytest.approx(test.score_matrix(["a"]).mean()),
                                "chosen_on": "train"}
    assert r["pair_chosen_on"] == "train"
    assert any("no prices" in w for w in r["warnings"])
    peek = evaluate_routers({"rand": RandomRouter().fit(train)}, test, n_boot=10)[0]
    assert peek["strong"] == "b" and peek["pair_chosen_on"] == "test"
    assert any("chosen on the test set" in w for w in peek["warnings"])
    given = evaluate_routers({"rand": RandomRouter().fit(train)}, test, strong="b", weak="a", n_boot=10)[0]
    assert (given["strong"], given["weak"]) == ("b", "a")


def test_partial_prices_warn_and_name_the_unpriced_models():
    data = _data(60, {"big": 0.8, "small": 0.5, "mid": 0.6}, seed=0, prices={"big": (10.0, 30.0)})
    r = evaluate_routers({"rand": RandomRouter().fit(data)}, data, reference=data, n_boot=10)[0]
    [warning] = [w for w in r["warnings"] if "prices cover" in w]
    assert "prices cover 1 of 3 models; unpriced: mid, small" in warning
    assert "\n" not in warning
    assert r["cost"] is None and r["aiq"] is None


def test_multi_model_results_carry_aiq_arena_gap_and_mix(conformance_data):
    routers = {"random": RandomRouter().fit(conformance_data), "oracle": OracleRouter().fit(conformance_data),
               "always": AlwaysRouter(model=conformance_data.models[0]).fit(conformance_data)}
    res = evaluate_routers(routers, conformance_data, reference=conformance_data, n_boot=50)
    for r in res:
        assert r["aiq"] is not None and r["arena_score"] is not None and r["gap_closed"] is not None
        assert set(r["model_mix"]) == set(r["models"])
        assert sum(r["model_mix"].values()) == pytest.approx(1.0)
        assert len(r["calibration"]) == 9
        assert {t["task"] for t in r["per_task"]} == set(conformance_data.queries["task"])
    always = next(r for r in res if r["router"] == "always")
    assert always["model_mix"][conformance_data.models[0]] == 1.0


def test_block_size_bounds_memory_without_changing_the_resamples(monkeypatch):
    """Large test sets get smaller blocks (memory), yet resample i is the same draws either way."""
    from routecraft.policy import _bootstrap

    n, n_boot, seed = 1_001, 37, 5
    reference = np.concatenate(list(bootstrap_counts(n, n_boot, seed)))
    monkeypatch.setattr(_bootstrap, "BLOCK_CELLS", 3 * n)  # as if n were huge: 3 resamples per block
    blocks = list(bootstrap_counts(n, n_boot, seed))
    assert max(len(b) for b in blocks) == 3 and sum(len(b) for b in blocks) == n_boot
    np.testing.assert_array_equal(np.concatenate(blocks), reference)
    assert _bootstrap.block_rows(10**9) == 1  # never zero rows, however large n is
