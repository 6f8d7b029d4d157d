"""SW ranking router: conformance, equivalence with RouteLLM's per-query fit, tiers, signal."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from routecraft import DataError
from routecraft.data import Dataset
from routecraft.embed import Embedder
from routecraft.routers import check_router
from routecraft.routers import _sw
from routecraft.routers._bradley_terry import compute_tiers
from routecraft.routers._sw import SWRankingRouter


class LookupEmbedder(Embedder):
    """Returns a fixed vector per text, so a test controls every similarity exactly."""

    name = "lookup"

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table
        self.dim = len(next(iter(table.values())))

    def _encode(self, texts):
        return np.stack([self.table[t] for t in texts])


def random_problem(seed=0, n_queries=25, n_battles=90, n_models=4, dim=6):
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(n_models)]
    texts = [f"training query number {i:03d}" for i in range(n_queries)]
    tests = [f"a test query to route {i:03d}" for i in range(5)]
    table = {t: rng.standard_normal(dim) for t in texts + tests}
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    prefs = pd.DataFrame(
        {
            "query_id": [f"q{i}" for i in rng.integers(0, n_queries, n_battles)],
            "model_a": [models[i] for i in a],
            "model_b": [models[i] for i in b],
            "winner": rng.choice(["a", "b", "tie"], n_battles, p=[0.45, 0.4, 0.15]),
            "weight": rng.uniform(0.5, 2.0, n_battles),
        }
    )
    queries = pd.DataFrame({"query_id": [f"q{i}" for i in range(n_queries)], "query": texts})
    return Dataset(queries, preferences=prefs, meta={"name": "random"}), table, tests


def routellm_elo(prefs, train_emb, query_emb, gamma, models):
    """RouteLLM's construction, written out: one scikit-learn fit for one query.

    Weights 10·10^(cos/max cos) per battle, battles duplicated, +ln10 / −ln10 design,
    a tie is an A win in the first copy and a B win in the second, no intercept, no penalty.
    """
    cos = train_emb @ query_emb / (np.linalg.norm(train_emb, axis=1) * np.linalg.norm(query_emb))
    weight = gamma ** (1 + cos / cos.max()) * prefs["weight"].to_numpy()
    idx = {m: j for j, m in enumerate(models)}
    df = pd.concat([prefs, prefs], ignore_index=True)
    n = len(df)
    x = np.zeros((n, len(models)))
    x[np.arange(n), df["model_a"].map(idx)] = math.log(10)
    x[np.arange(n), df["model_b"].map(idx)] = -math.log(10)
    y = (df["winner"] == "a").to_numpy(dtype=float)
    tie = (df["winner"] == "tie").to_numpy().copy()
    tie[n // 2 :] = False
    y[tie] = 1.0
    # RouteLLM's penalty=None; scikit-learn 1.8 deprecated that spelling for C=inf
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-13, max_iter=100_000)
    lr.fit(x, y, sample_weight=np.concatenate([weight, weight]))
    return 400 * lr.coef_[0] + 1000


def test_matches_routellm_per_query_logistic_regression():
    data, table, tests = random_problem()
    router = SWRankingRouter(embedder=LookupEmbedder(table), min_query_chars=0).fit(data)
    ours = router.predict_elo(tests)
    prefs = data.preferences
    texts = data.queries.set_index("query_id")["query"]
    train_emb = np.stack([table[t] for t in texts.loc[prefs["query_id"]]]).astype(np.float32).astype(float)
    for i, text in enumerate(tests):
        ref = routellm_elo(prefs, train_emb, np.float32(table[text]).astype(float), 10.0, router.models_)
        # compare the win probability of every ordered pair of models
        p_ours = 1 / (1 + 10 ** ((ours[i][None, :] - ours[i][:, None]) / 400))
        p_ref = 1 / (1 + 10 ** ((ref[None, :] - ref[:, None]) / 400))
        assert np.abs(p_ours - p_ref).max() <= 1e-6
        for s, w in [(0, 1), (2, 3)]:
            ps = router.pair_score([text], router.models_[s], router.models_[w])[0]
            assert ps == pytest.approx(1 / (1 + 10 ** ((ref[w] - ref[s]) / 400)), abs=1e-6)


@pytest.mark.parametrize(
    "router",
    [SWRankingRouter(embedder="hashing"), SWRankingRouter(embedder="hashing", use_tiers=True, n_tiers=2)],
    ids=["models", "tiers"],
)
def test_conformance(router):
    check_router(router)


def test_learns_topic_skill(conformance_data):
    """'weak-model' is bad at math (0.3 vs 0.9) and fine at chat (0.8 vs 0.7): SW must see that."""
    r = SWRankingRouter(embedder="hashing").fit(conformance_data)
    ps = r.pair_score(conformance_data, "strong-model", "weak-model")
    tasks = conformance_data.queries["task"].to_numpy()
    assert ps[tasks == "math"].mean() > ps[tasks == "chat"].mean() + 0.05
    assert r.global_elo_[r.model_index("strong-model")] > r.global_elo_[r.model_index("weak-model")]


def test_learns_from_outcomes_alone(conformance_data):
    data = Dataset(
        conformance_data.queries, conformance_data.outcomes, pool=conformance_data.pool, meta={"name": "outcomes-only"}
    )
    with_prefs = SWRankingRouter(embedder="hashing").fit(conformance_data).predict_quality(data)
    from_outcomes = SWRankingRouter(embedder="hashing").fit(data).predict_quality(data)
    np.testing.assert_allclose(from_outcomes, with_prefs, atol=1e-9)


def test_batches_bounded_in_memory_give_same_answer(monkeypatch, conformance_data):
    r = SWRankingRouter(embedder="hashing").fit(conformance_data)
    full = r.predict_quality(conformance_data)
    monkeypatch.setattr(_sw, "_BLOCK_ELEMENTS", 7 * len(r.train_embeddings_))
    # the same maths in smaller blocks; a similarity product's last bits depend on its shape on some
    # CPUs (6e-8 seen on an AMD EPYC after the per-query Bradley–Terry fit), nothing more
    np.testing.assert_allclose(r.predict_quality(conformance_data), full, rtol=0, atol=1e-6)


def test_zero_weight_battle_is_no_battle():
    data, table, tests = random_problem(seed=1)
    prefs = data.preferences.copy()
    repeated = prefs["query_id"].duplicated(keep="last").to_numpy()  # the query keeps another battle
    prefs.loc[repeated, "weight"] = 0.0
    zeroed = Dataset(data.queries, preferences=prefs, meta={"name": "zeroed"})
    dropped = Dataset(data.queries, preferences=prefs[~repeated].reset_index(drop=True), meta={"name": "dropped"})
    emb = LookupEmbedder(table)
    a = SWRankingRouter(embedder=emb, min_query_chars=0).fit(zeroed).predict_elo(tests)
    b = SWRankingRouter(embedder=emb, min_query_chars=0).fit(dropped).predict_elo(tests)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_gamma_one_is_global_elo(conformance_data):
    r = SWRankingRouter(embedder="hashing", gamma=1.0).fit(conformance_data)
    elo = r.predict_elo(conformance_data)
    np.testing.assert_allclose(elo, np.tile(r.global_elo_ - r.global_elo_.mean() + 1000, (len(elo), 1)), atol=1e-6)


def test_short_queries_are_dropped(conformance_data):
    with pytest.raises(DataError, match="at least 500 characters"):
        SWRankingRouter(embedder="hashing", min_query_chars=500).fit(conformance_data)


def test_compute_tiers_groups_close_ratings():
    elo = np.array([1200.0, 1500.0, 900.0, 1490.0, 1190.0])
    assert compute_tiers(elo, 3).tolist() == [1, 0, 2, 0, 1]
    assert compute_tiers(elo, 10).tolist() == [2, 0, 4, 1, 3]  # more tiers than models: one each
    assert compute_tiers(elo, 1).tolist() == [0] * 5


def test_tiers_share_a_rating(conformance_data):
    r = SWRankingRouter(embedder="hashing", use_tiers=True, n_tiers=2).fit(conformance_data)
    q = r.predict_quality(conformance_data)
    tiers = r.tier_of_model_
    assert len(set(tiers.tolist())) == 2
    same = [j for j in range(3) if tiers[j] == tiers[np.argmax(r.global_elo_)]]
    assert np.allclose(q[:, same], q[:, [same[0]]])


def test_pair_score_ranks_training_queries_by_who_won(conformance_data):
    """AUC of P(strong wins) against 'strong actually beat weak' (ties left out) is far above 0.5."""
    from sklearn.metrics import roc_auc_score

    scores = conformance_data.score_matrix(["strong-model", "weak-model"])
    gain = scores[:, 0] - scores[:, 1]
    ps = SWRankingRouter(embedder="hashing").fit(conformance_data).pair_score(conformance_data, "strong-model", "weak-model")
    assert roc_auc_score(gain[gain != 0] > 0, ps[gain != 0]) > 0.75


def test_two_player_closed_form_matches_newton():
    """The single-pair shortcut gives the same strengths as the general batched Newton fit."""
    from routecraft.routers._bradley_terry import _newton, fit_bradley_terry

    rng = np.random.default_rng(0)
    n = rng.uniform(1, 50, size=(40, 1))
    s = n * rng.uniform(0.01, 0.99, size=(40, 1))
    s[0, 0] = 0.0  # one side won everything: no finite optimum, falls back to Newton
    lo, hi = np.array([0]), np.array([1])
    fast = fit_bradley_terry(n, s, lo, hi, 2)
    slow = _newton(n / n, s / n, lo, hi, 2)
    assert np.allclose(fast[1:], slow[1:], atol=1e-8)
    assert np.array_equal(fast[0], slow[0])


def test_dense_and_sparse_pair_tables_give_the_same_q_hat(monkeypatch):
    """Small pair tables are multiplied dense (one BLAS call), large ones sparse: same sums, same fit."""
    data, table, tests = random_problem(seed=3)
    emb = LookupEmbedder(table)
    dense = SWRankingRouter(embedder=emb, min_query_chars=0).fit(data)
    assert dense.pair_table_.dense is not None
    monkeypatch.setattr(_sw, "_DENSE_PAIR_ELEMENTS", 0)
    sparse = SWRankingRouter(embedder=emb, min_query_chars=0).fit(data)
    assert sparse.pair_table_.dense is None
    np.testing.assert_allclose(dense.predict_quality(tests), sparse.predict_quality(tests), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dense.global_elo_, sparse.global_elo_, rtol=0, atol=1e-9)


def test_two_player_closed_form_ignores_the_weights_scale_and_mixes_with_newton_rows():
    """Unnormalised weights give the normalised fit; a batch with a one-sided row matches each row alone."""
    from routecraft.routers._bradley_terry import fit_bradley_terry

    rng = np.random.default_rng(1)
    n = rng.uniform(1, 50, size=(6, 1))
    s = n * rng.uniform(0.05, 0.95, size=(6, 1))
    lo, hi = np.array([1]), np.array([0])
    base = fit_bradley_terry(n, s, lo, hi, 2)
    np.testing.assert_allclose(fit_bradley_terry(1e6 * n, 1e6 * s, lo, hi, 2), base, rtol=0, atol=1e-12)
    np.testing.assert_allclose(base[:, 1], -base[:, 0])
    assert (base[:, 1] > 0).all() == (s[:, 0] > n[:, 0] / 2).all()  # lo (player 1) won more: stronger
    s_mixed = s.copy()
    s_mixed[2, 0] = n[2, 0]  # player 1 won every battle of query 2: no finite optimum
    mixed = fit_bradley_terry(n, s_mixed, lo, hi, 2)
    alone = np.vstack([fit_bradley_terry(n[i : i + 1], s_mixed[i : i + 1], lo, hi, 2) for i in range(6)])
    np.testing.assert_allclose(mixed, alone, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.delete(mixed, 2, axis=0), np.delete(base, 2, axis=0), rtol=0, atol=1e-12)
    assert mixed[2, 1] > base[2, 1] + 1.0  # drifts towards +inf instead of a finite rating
