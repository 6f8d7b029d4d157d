"""IntegrativeRouter (``causal``): conformance, artifact round-trip, bias recovery, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft._errors import ParameterError
from routecraft import DataError, load_router
from routecraft.data import Dataset
from routecraft.routers import check_router, make_router
from routecraft.routers._cate import fit_cate
from routecraft.routers._integrative import IntegrativeRouter
from routecraft.routers._synthetic import TOPICS, biased_dataset

pytest.importorskip("econml")


@pytest.fixture(scope="module")
def data():
    return biased_dataset()


def true_gain(tasks: np.ndarray) -> np.ndarray:
    return np.array([TOPICS[t][0] - TOPICS[t][1] for t in tasks])


@pytest.mark.parametrize("method", ["dr", "r"])
def test_conformance(method):
    check_router(IntegrativeRouter(embedder="hashing", method=method, n_components=8, n_folds=3), data=biased_dataset(40))


def test_registry_name():
    r = make_router("causal", method="dr")
    assert isinstance(r, IntegrativeRouter) and r.method == "dr"
    assert make_router("causal").method == "r"  # the default chosen on training halves (causal_learner_choice)


def test_recovers_known_bias(data):
    """τ̂ by topic matches the judge's leniency (gold gain − judge gain) in sign and order."""
    router = IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3).fit(data)
    tasks = data.queries["task"].to_numpy()
    tau = router.predict_bias(data)[:, router.model_index("strong")]
    by_topic = {t: tau[tasks == t].mean() for t in TOPICS}
    # judge gain is shifted by +lean, so the bias m − η is about −lean (attenuated by the coin flip)
    assert by_topic["algebra"] > 0.2
    assert by_topic["poetry"] < -0.2
    assert by_topic["algebra"] > by_topic["history"] > by_topic["poetry"]


def test_beats_preference_only_and_pooling(data):
    """The corrected gain ranks topics like the gold truth; judge-only and pooled are misled by the bias."""
    tasks = data.queries["task"].to_numpy()
    truth = true_gain(tasks)

    def err(method: str) -> float:
        r = IntegrativeRouter(embedder="hashing", method=method, n_components=8, n_folds=3).fit(data)
        gain = r.predict_gain(data)[:, r.model_index("strong")]
        return float(np.mean((gain - truth) ** 2))

    causal, pref, pooled = err("dr"), err("preference"), err("pooled")
    assert causal < pref and causal < pooled


def test_artifact_round_trip_without_econml_state(data, tmp_path):
    router = IntegrativeRouter(embedder="hashing", method="r", n_components=8, n_folds=3).fit(data)
    path = router.save(str(tmp_path / "c.routecraft"))
    loaded = load_router(path)
    np.testing.assert_allclose(loaded.predict_quality(data), router.predict_quality(data))
    np.testing.assert_allclose(loaded.predict_bias(data), router.predict_bias(data))
    assert loaded.reference_ == "weak" and loaded.fit_summary_["strong"]["n_gold"] > 0


def test_final_stage_arrays_equal_econml_effect():
    """The saved linear final stage reproduces econml's own effect() (so no learner needs saving)."""
    from econml.dr import DRLearner  # noqa: F401  (the learner fit_cate wraps)

    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4))
    t = (rng.random(600) < 0.2).astype(int)
    y = x[:, 0] + t * (0.5 * x[:, 1]) + rng.normal(0, 0.1, 600)
    eff = fit_cate(x, t, y, learner="dr", n_folds=3)
    assert np.corrcoef(eff(x), x[:, 1])[0, 1] > 0.9


def test_out_of_fold_correction(data):
    a = IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3, correction_folds=3).fit(data)
    b = IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3).fit(data)
    qa, qb = a.predict_quality(data), b.predict_quality(data)
    assert not np.allclose(qa, qb) and np.corrcoef(qa[:, 0], qb[:, 0])[0, 1] > 0.8


def test_ppi_needs_paired_items(data):
    with pytest.raises(DataError, match="both a gold and a judge label"):
        IntegrativeRouter(embedder="hashing", method="ppi", n_components=8).fit(data)
    paired = biased_dataset(paired_share=1.0)
    r = IntegrativeRouter(embedder="hashing", method="ppi", n_components=8).fit(paired)
    info = r.fit_summary_["strong"]
    assert info["n_paired"] == info["n_gold"] and 0.0 <= info["ppi_lambda"] <= 1.0


def _only(data: Dataset, outcomes: bool, prefs: bool) -> Dataset:
    return Dataset(data.queries, data.outcomes if outcomes else None, data.preferences if prefs else None, data.pool,
                   meta={"name": "cut"})


def test_errors(data):
    with pytest.raises(DataError, match="no gold labels"):
        IntegrativeRouter(embedder="hashing").fit(_only(data, False, True))
    with pytest.raises(DataError, match="only one label source"):
        IntegrativeRouter(embedder="hashing").fit(_only(data, True, False))
    with pytest.raises(ParameterError, match="'method' parameter of IntegrativeRouter must be a str among"):
        IntegrativeRouter(embedder="hashing", method="magic").fit(data)


def test_no_shared_support():
    """Gold only on algebra, judge only on poetry: the propensity separates them, fit refuses."""
    full = biased_dataset(gold_share=1.0)
    out, q = full.outcomes, full.queries
    algebra = set(q.loc[q["task"] == "algebra", "query_id"])
    poetry = q.loc[q["task"] == "poetry", "query_id"].tolist()
    prefs = pd.DataFrame({"query_id": poetry, "model_a": "strong", "model_b": "weak", "winner": "a", "source": "judge"})
    data = Dataset(q, out[out["query_id"].isin(algebra)].reset_index(drop=True), prefs, full.pool, meta={"name": "split"})
    with pytest.raises(DataError, match="share no feature support"):
        IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3).fit(data)


def test_pool_gains_against_the_reference(conformance_data):
    """Three models: each non-reference model gets its own gain vs the reference (weak-model)."""
    from routecraft.data._convert import outcomes_to_preferences

    out, q = conformance_data.outcomes, conformance_data.queries
    judged = set(q["query_id"].iloc[::2])  # half the queries lose their gold grades to a judge
    prefs = outcomes_to_preferences(out[out["query_id"].isin(judged)], ["strong-model", "weak-model", "coder-model"],
                                    source="judge")
    data = Dataset(q, out[~out["query_id"].isin(judged)].reset_index(drop=True), prefs, conformance_data.pool,
                   meta={"name": "pool"})
    r = IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3).fit(data)
    assert r.reference_ == "weak-model" and set(r.fit_summary_) == {"strong-model", "coder-model"}
    quality = r.predict_quality(data)
    assert quality.shape == (len(q), 3)
    np.testing.assert_allclose(quality[:, r.model_index("weak-model")], 0.5)
    gain = r.predict_gain(data)[:, r.model_index("coder-model")]
    tasks = q["task"].to_numpy()
    # coder-model beats weak-model on code (0.9 vs 0.2) but not on chat (0.7 vs 0.8)
    assert gain[tasks == "code"].mean() > gain[tasks == "chat"].mean() + 0.2


def test_prefix_ridge_falls_back_to_a_constant_without_signal():
    """Pure noise around a shift: the LOO choice is the constant (block 0), and coef_ spans all columns."""
    from routecraft.routers._cate import PrefixRidgeCV

    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 6))
    y = 0.4 + rng.normal(0, 1.0, 80)
    m = PrefixRidgeCV(blocks=(2, 6)).fit(x, y)
    assert m.block_ == 0 and m.coef_.shape == (6,) and not m.coef_.any()
    assert m.intercept_ == pytest.approx(y.mean())


def test_prefix_ridge_keeps_the_constant_when_a_block_wins_only_by_noise():
    """No signal, yet the 4-column ridge's LOO error is lower by chance: within one SE, the constant stays."""
    from routecraft.routers._cate import PrefixRidgeCV

    rng = np.random.default_rng(6)  # a seed where the ridge edges out the constant (0.937 vs 0.956)
    x = rng.normal(size=(60, 4))
    y = 0.3 + rng.normal(size=60)
    m = PrefixRidgeCV(blocks=(4,)).fit(x, y)
    assert m.loo_errors_[1] < m.loo_errors_[0]  # a plain argmin would have taken the ridge
    assert m.block_ == 0 and not m.coef_.any()


def test_prefix_ridge_picks_the_block_carrying_the_signal():
    """τ depends on the first two columns only: the 2-column block beats the constant and the full 6."""
    from routecraft.routers._cate import PrefixRidgeCV

    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 40))
    y = x[:, 0] - 0.5 * x[:, 1] + rng.normal(0, 1.0, 400)
    m = PrefixRidgeCV(blocks=(2, 40)).fit(x, y, sample_weight=rng.uniform(0.5, 2, 400))
    assert m.block_ == 2 and not m.coef_[2:].any()
    np.testing.assert_allclose(m.coef_[:2], [1.0, -0.5], atol=0.2)


def test_grouped_folds_keep_queries_whole_and_deal_gold_evenly():
    from routecraft.routers._cate import grouped_folds

    groups = np.repeat(np.arange(50), 2)  # every query has two rows
    t = np.zeros(100, dtype=int)
    t[::2][:7] = 1  # 7 queries carry a gold row
    folds = grouped_folds(t, groups, 3, seed=0)
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(100))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    gold_per_fold = [int(t[test].sum()) for _, test in folds]
    assert sorted(gold_per_fold) == [2, 2, 3]
    assert grouped_folds(t, groups, 3, seed=0)[0][1].tolist() == folds[0][1].tolist()  # deterministic


def test_bias_features_choose_the_task_block_and_need_tasks(data):
    """The synthetic judge's bias is a per-topic shift: 'auto' picks a task block, τ̂ is constant within a topic."""
    r = IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3).fit(data)
    assert r.fit_summary_["strong"]["bias_block"] in ("task", "task+length")
    tau = r.predict_bias(data)[:, r.model_index("strong")]
    tasks = data.queries["task"].to_numpy()
    assert max(np.ptp(tau[tasks == t]) for t in TOPICS) < 0.1 < np.ptp(tau)
    no_task = Dataset(data.queries.drop(columns="task"), data.outcomes, data.preferences, data.pool, meta={"name": "nt"})
    with pytest.raises(DataError, match="bias_features='task' needs a 'task' column"):
        IntegrativeRouter(embedder="hashing", bias_features="task", n_components=8, n_folds=3).fit(no_task)
    auto = IntegrativeRouter(embedder="hashing", n_components=8, n_folds=3).fit(no_task)
    assert auto.fit_summary_["strong"]["bias_block"] in ("constant", "length", "length+embedding")
