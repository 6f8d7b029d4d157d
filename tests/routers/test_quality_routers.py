"""Outcome learners, calibration and the stacked ensemble (issue #10)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from routecraft import ArtifactError
from routecraft.artifact import load_router
from routecraft.data import Dataset
from routecraft.routers import (
    CalibratedRouter,
    ClusterRouter,
    KNNRouter,
    LearnedKNNRouter,
    LightGBMRouter,
    OutcomeIRTRouter,
    StackedRouter,
    check_router,
    make_router,
)
from routecraft.routers._features import QueryFeaturizer, length_features

try:
    import lightgbm  # noqa: F401

    HAS_LIGHTGBM = True
except ImportError:  # the [boost] extra
    HAS_LIGHTGBM = False
needs_lightgbm = pytest.mark.skipif(not HAS_LIGHTGBM, reason="needs the [boost] extra (lightgbm)")

ROUTERS = [
    ClusterRouter(embedder="tfidf"),
    LearnedKNNRouter(embedder="tfidf"),
    pytest.param(LightGBMRouter(embedder="tfidf"), marks=needs_lightgbm),
    OutcomeIRTRouter(embedder="tfidf"),
    CalibratedRouter(router="knn", embedder="tfidf", n_folds=3),
    CalibratedRouter(router="logistic", method="platt", embedder="tfidf", n_folds=2),
    StackedRouter(routers=("knn", "cluster"), embedder="tfidf", n_folds=2),
    StackedRouter(routers=("knn", "sw"), embedder="tfidf", n_folds=2, combiner="select", select_default="sw"),
]


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__ + getattr(r, "method", "") + getattr(r, "router", "") + getattr(r, "combiner", ""))
def test_new_routers_conform(router):
    check_router(router)


def _topic_rows(data: Dataset, topic: str) -> np.ndarray:
    return np.flatnonzero(data.queries["task"].to_numpy() == topic)


@pytest.mark.parametrize(
    "router",
    [pytest.param(LightGBMRouter(embedder="tfidf", min_child_samples=5), marks=needs_lightgbm), OutcomeIRTRouter(embedder="tfidf")],
    ids=type,
)
def test_outcome_learners_learn_topic_skill(router, conformance_data):
    # conformance skills: math strong 0.9 / weak 0.3, chat weak 0.8 > coder 0.7
    q = router.fit(conformance_data).predict_quality(conformance_data)
    s, w = router.model_index("strong-model"), router.model_index("weak-model")
    math = _topic_rows(conformance_data, "math")
    chat = _topic_rows(conformance_data, "chat")
    assert q[math, s].mean() - q[math, w].mean() > 0.3
    assert q[chat, w].mean() > q[math, w].mean() + 0.2


@needs_lightgbm
def test_lightgbm_state_is_its_text_model_not_a_pickle(conformance_data, tmp_path):
    path = LightGBMRouter(embedder="tfidf").fit(conformance_data).save(str(tmp_path / "r.routecraft"))
    with zipfile.ZipFile(path) as zf:
        state = json.loads(zf.read("manifest.json"))["state"]
        assert all(name.endswith(".npy") or name == "manifest.json" for name in zf.namelist())
    models = state["lightgbm_models_"]
    assert len(models) == 3 and all(m.startswith("tree\n") for m in models)


def test_irt_learns_from_incomplete_pools(conformance_data):
    out = conformance_data.outcomes
    first_half = set(conformance_data.query_ids[::2])
    gappy = out[~((out["model"] == "coder-model") & out["query_id"].isin(first_half))]
    data = Dataset(conformance_data.queries, outcomes=gappy, meta={"name": "gappy"})
    router = OutcomeIRTRouter(embedder="tfidf").fit(data)
    q = router.predict_quality(conformance_data)
    code = _topic_rows(conformance_data, "code")
    c, w = router.model_index("coder-model"), router.model_index("weak-model")
    assert q[code, c].mean() > q[code, w].mean() + 0.3  # coder 0.9 vs weak 0.2 on code


def test_cluster_table_is_the_smoothed_cluster_mean(conformance_data):
    raw = ClusterRouter(embedder="tfidf", n_clusters=3, smoothing=0.0).fit(conformance_data)
    assert raw.table_.shape == (len(raw.centroids_), 3)
    np.testing.assert_allclose((raw.table_ * raw.counts_).sum(0), np.nansum(conformance_data.score_matrix(raw.models_), 0))
    flat = ClusterRouter(embedder="tfidf", n_clusters=3, smoothing=1e9).fit(conformance_data)
    np.testing.assert_allclose(flat.table_, np.tile(np.nanmean(conformance_data.score_matrix(flat.models_), 0), (3, 1)), atol=1e-6)


def test_learned_knn_with_a_one_point_grid_is_plain_knn(conformance_data):
    learned = LearnedKNNRouter(embedder="tfidf", k_grid=(7,), temperature_grid=(0.0,)).fit(conformance_data)
    plain = KNNRouter(embedder="tfidf", k=7, weighting="uniform").fit(conformance_data)
    np.testing.assert_allclose(learned.predict_quality(conformance_data), plain.predict_quality(conformance_data))


def test_learned_knn_picks_the_grid_minimum(conformance_data):
    r = LearnedKNNRouter(embedder="tfidf", k_grid=(1, 5, 20), temperature_grid=(0.05, 0.0)).fit(conformance_data)
    loss = r.tuning_loss_
    assert loss.shape == (3, 2) and np.isfinite(loss).all()
    assert loss[[1, 5, 20].index(r.k_), [0.05, 0.0].index(r.temperature_)] == loss.min()
    assert loss[0].min() > loss.min()  # one neighbour is noisier than several on 0/1 outcomes


def test_stack_weights_ignore_a_noise_router():
    from routecraft.routers import conformance_dataset

    train, test = conformance_dataset(60, seed=1), conformance_dataset(20, seed=2)
    stack = StackedRouter(routers=("random", "cluster"), embedder="tfidf", n_folds=3).fit(train)
    assert stack.weights_.shape == (3, 2)
    assert np.abs(stack.weights_[:, 1]).sum() > 10 * np.abs(stack.weights_[:, 0]).sum()
    y = test.score_matrix(stack.models_)
    brier = {name: np.mean((q - y) ** 2) for name, q in [("stack", stack.predict_quality(test)), ("random", stack.children_[0].predict_quality(test))]}
    assert brier["stack"] < brier["random"] - 0.1


def test_calibration_maps_monotonically_into_unit_interval(conformance_data):
    r = CalibratedRouter(router="knn", embedder="tfidf", n_folds=3).fit(conformance_data)
    base = r.children_[0].predict_quality(conformance_data)
    cal = r.predict_quality(conformance_data)
    for j in range(cal.shape[1]):
        order = np.argsort(base[:, j], kind="stable")
        assert (np.diff(cal[order, j]) >= -1e-12).all()
    assert cal.min() >= 0 and cal.max() <= 1


def test_stack_is_one_artifact_and_refuses_unknown_children(conformance_data, tmp_path):
    stack = StackedRouter(routers=("knn", "cluster"), embedder="tfidf", n_folds=2).fit(conformance_data)
    path = tmp_path / "s.routecraft"
    stack.save(str(path))
    loaded = load_router(path)
    assert [type(c).__name__ for c in loaded.children_] == ["KNNRouter", "ClusterRouter"]
    # a tampered manifest naming a class outside the allow-list is refused (checksums re-signed)
    import hashlib

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    manifest["state"]["children_"][0]["class"] = "os.system"
    members["manifest.json"] = json.dumps(manifest).encode()
    bad = tmp_path / "bad.routecraft"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises((ArtifactError, Exception), match="allow-list"):
        load_router(bad)


def test_stack_refuses_the_oracle(conformance_data):
    with pytest.raises(ValueError, match="test labels"):
        StackedRouter(routers=("oracle",), embedder="tfidf", n_folds=2).fit(conformance_data)


def test_featurizer_adds_length_and_predicted_task(conformance_data):
    from routecraft.embed import make_embedder

    emb = make_embedder("tfidf").fit(conformance_data.texts).encode(conformance_data.texts)
    f = QueryFeaturizer("embedding+length+task").fit(emb, conformance_data.queries["task"].tolist())
    x = f.transform(emb, conformance_data.texts)
    assert x.shape == (len(emb), emb.shape[1] + 2 + 3)
    task_p = x[:, -3:]
    np.testing.assert_allclose(task_p.sum(1), 1.0, atol=1e-5)
    predicted = np.asarray(f.task_classes)[task_p.argmax(1)]
    assert (predicted == conformance_data.queries["task"].to_numpy()).mean() > 0.9
    assert length_features(["a b", "a b c d e f g h"])[1, 1] > length_features(["a b"])[0, 1]
    g = QueryFeaturizer.from_state(*f.get_state())
    np.testing.assert_array_equal(g.transform(emb, conformance_data.texts), x)
    assert QueryFeaturizer("embedding+task").fit(emb, None).transform(emb, conformance_data.texts).shape == emb.shape


def test_registry_specs_build_the_new_routers(conformance_data):
    assert isinstance(make_router("cluster:8"), ClusterRouter) and make_router("cluster:8").n_clusters == 8
    assert make_router("calibrated:knn").router == "knn"
    with pytest.raises(ValueError, match="features"):
        LightGBMRouter(embedder="tfidf", features="nope").fit(conformance_data)


def test_gain_rank_area_is_one_for_the_oracle_zero_for_a_constant_and_minus_one_reversed():
    from routecraft.routers._crossfit import gain_rank_area

    rng = np.random.default_rng(0)
    scores = rng.random((50, 3))
    assert gain_rank_area(scores, scores, "score") == pytest.approx(1.0)
    assert gain_rank_area(np.full_like(scores, 0.5), scores, "score") == pytest.approx(0.0)
    two = scores[:, :2]
    assert gain_rank_area(two[:, ::-1], two, "score") == pytest.approx(-1.0)
    # a win-probability router is ranked by its logit margin: expit of the scores has the oracle's margins,
    # while the same matrix read as scores (a difference of probabilities) orders some gains differently
    from scipy.special import expit

    assert gain_rank_area(expit(4 * two), two, "win_prob") == pytest.approx(1.0)
    assert gain_rank_area(expit(4 * two), two, "score") < 0.999
    # a missing score drops that query from its pairs only
    holed = scores.copy()
    holed[0, 0] = np.nan
    assert gain_rank_area(scores, holed, "score") == pytest.approx(1.0)


def test_select_keeps_the_base_that_ranks_gains_and_its_scale():
    from routecraft.routers import conformance_dataset

    train, test = conformance_dataset(60, seed=1), conformance_dataset(20, seed=2)
    stack = StackedRouter(routers=("random", "sw"), embedder="tfidf", n_folds=3, combiner="select").fit(train)
    assert stack.candidates == ["random", "sw", "logistic-stack"]
    assert stack.oof_gain_rank_.shape == (3,)
    assert stack.oof_gain_rank_[1] > stack.oof_gain_rank_[0] + 0.2  # the noise base ranks gains no better than chance
    assert stack.choice_ == int(np.argmax(stack.oof_gain_rank_)) == 1
    assert stack.quality_kind == "win_prob"  # the kept base's scale, so pair scores are its own
    sw = stack.children_[1]
    a, b = stack.models_[0], stack.models_[1]
    np.testing.assert_allclose(stack.pair_score(test, a, b), sw.pair_score(test, a, b))
    cands = stack.predict_candidates(test)
    assert set(cands) == {"random", "sw", "logistic-stack"} and cands["sw"][1] == "win_prob" and cands["logistic-stack"][1] == "score"
    # the default combiner keeps the logistic stack, whose Q̂ is predict_candidates' "logistic-stack"
    logistic = StackedRouter(routers=("random", "sw"), embedder="tfidf", n_folds=3).fit(train)
    assert logistic.quality_kind == "score" and logistic.choice_ == 2
    np.testing.assert_allclose(logistic.predict_quality(test), logistic.predict_candidates(test)["logistic-stack"][0])
    np.testing.assert_allclose(logistic.oof_gain_rank_, stack.oof_gain_rank_)


def test_selected_stack_round_trips_its_choice(tmp_path):
    from routecraft.routers import conformance_dataset

    train = conformance_dataset(60, seed=1)
    stack = StackedRouter(routers=("random", "sw"), embedder="tfidf", n_folds=3, combiner="select").fit(train)
    path = tmp_path / "sel.routecraft"
    stack.save(str(path))
    loaded = load_router(path)
    assert loaded.choice_ == stack.choice_ and loaded.quality_kind == "win_prob"
    np.testing.assert_allclose(loaded.predict_quality(train), stack.predict_quality(train))


def test_gain_rank_diff_se_is_zero_for_a_candidate_against_itself_and_shrinks_with_more_queries():
    from routecraft.routers._crossfit import gain_rank_diff_se

    def se(n: int) -> float:
        rng = np.random.default_rng(n)
        scores = rng.integers(0, 2, (n, 2)).astype(float)  # 0/1 outcomes, as on GSM8K
        noisy = (scores[:, 0] - scores[:, 1] + 2.0 * rng.standard_normal(n))[:, None] * [1.0, 0.0]
        return gain_rank_diff_se((noisy, "score"), (rng.random((n, 2)), "score"), scores, 100, 0)

    scores = np.random.default_rng(0).random((40, 2))
    assert gain_rank_diff_se((scores, "score"), (scores, "score"), scores, 50, 0) == 0.0
    small, large = se(100), se(2500)
    assert 0 < large < small / 3  # ~ 1/sqrt(n): 25× the queries, ~5× smaller


def test_select_default_is_kept_unless_beaten_by_more_than_its_standard_error():
    from routecraft.routers import conformance_dataset

    train = conformance_dataset(60, seed=1)
    kw = dict(routers=("knn", "logistic"), embedder="tfidf", n_folds=3, combiner="select")
    plain = StackedRouter(**kw).fit(train)
    assert plain.candidates[plain.choice_] == "logistic"  # the top candidate out of fold ...
    assert np.isnan(plain.oof_gain_rank_se_[0])
    ruled = StackedRouter(select_default="knn", **kw).fit(train)
    np.testing.assert_allclose(ruled.oof_gain_rank_, plain.oof_gain_rank_)  # same folds, same scores: only the rule differs
    lead = ruled.oof_gain_rank_[1] - ruled.oof_gain_rank_[0]
    assert 0 < lead < ruled.oof_gain_rank_se_[0]  # ... leads the default by less than one standard error
    assert ruled.candidates[ruled.choice_] == "knn" and ruled.quality_kind == ruled.children_[0].quality_kind
    # with no margin required the rule is the plain argmax
    assert StackedRouter(select_default="knn", select_se=0.0, **kw).fit(train).choice_ == plain.choice_
    # an informative base beats a noise default by more than the standard error
    informed = StackedRouter(routers=("random", "sw"), embedder="tfidf", n_folds=3, combiner="select", select_default="random").fit(train)
    assert informed.candidates[informed.choice_] != "random"
    assert informed.oof_gain_rank_.max() - informed.oof_gain_rank_[0] > informed.oof_gain_rank_se_[0] > 0
    with pytest.raises(ValueError, match="not a candidate"):
        StackedRouter(select_default="sw", **kw).fit(train)
