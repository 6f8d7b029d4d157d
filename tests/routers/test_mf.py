"""Matrix-factorisation router: conformance, exact gradients, signal, early stopping."""

import numpy as np
import pytest
from scipy.special import expit

from routecraft import DataError
from routecraft.data import Dataset
from routecraft.routers import check_router
from routecraft.routers._mf import MatrixFactorizationRouter, _gradients, _loss

FAST = dict(embedder="hashing", dim=32, epochs=40)


def test_conformance():
    check_router(MatrixFactorizationRouter(**FAST))


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = {
        "model_embeddings": rng.standard_normal((4, 5)),
        "projection": rng.standard_normal((5, 7)),
        "readout": rng.standard_normal(5),
    }
    emb, win = rng.standard_normal((9, 7)), rng.integers(0, 4, 9)
    lose, weight = (win + 1 + rng.integers(0, 3, 9)) % 4, rng.uniform(0.5, 2.0, 9)
    grads = _gradients(params, emb, win, lose, weight)
    h = 1e-6
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up = _loss(params, emb, win, lose, weight)
            p[i] = old - h
            down = _loss(params, emb, win, lose, weight)
            p[i] = old
            numeric[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, atol=1e-7, err_msg=name)


def test_weight_counts_like_repeating_a_battle():
    rng = np.random.default_rng(1)
    params = {
        "model_embeddings": rng.standard_normal((3, 4)),
        "projection": rng.standard_normal((4, 6)),
        "readout": rng.standard_normal(4),
    }
    emb = rng.standard_normal((2, 6))
    win, lose = np.array([0, 1]), np.array([2, 0])
    weighted = _loss(params, emb, win, lose, np.array([2.0, 1.0]))
    repeated = _loss(params, emb[[0, 0, 1]], win[[0, 0, 1]], lose[[0, 0, 1]], np.ones(3))
    assert weighted == pytest.approx(repeated)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learns_topic_skill(conformance_data, seed):
    """'weak-model' is bad at math (0.3 vs 0.9) and fine at chat (0.8 vs 0.7): MF must see that.

    No validation split: 5% of 60 queries is 3 queries, too few for early stopping to mean anything.
    """
    r = MatrixFactorizationRouter(embedder="hashing", lr=3e-3, epochs=60, val_fraction=0.0, random_state=seed)
    ps = r.fit(conformance_data).pair_score(conformance_data, "strong-model", "weak-model")
    tasks = conformance_data.queries["task"].to_numpy()
    assert ps[tasks == "math"].mean() > ps[tasks == "chat"].mean() + 0.1


def test_pair_score_is_sigmoid_of_score_difference(conformance_data):
    r = MatrixFactorizationRouter(**FAST).fit(conformance_data)
    s = r.predict_scores(conformance_data)
    i, j = r.model_index("strong-model"), r.model_index("coder-model")
    np.testing.assert_allclose(
        r.pair_score(conformance_data, "strong-model", "coder-model"), expit(s[:, i] - s[:, j]), atol=1e-9
    )


def test_early_stopping_keeps_best_validation_loss(conformance_data):
    stopped = MatrixFactorizationRouter(**{**FAST, "epochs": 500, "lr": 1e-2, "patience": 2}).fit(conformance_data)
    assert stopped.n_epochs_ < 500 and stopped.val_loss_ is not None
    no_val = MatrixFactorizationRouter(**{**FAST, "epochs": 3, "val_fraction": 0.0}).fit(conformance_data)
    assert no_val.n_epochs_ == 3 and no_val.val_loss_ is None


def test_random_state_changes_the_model(conformance_data):
    a = MatrixFactorizationRouter(**FAST, random_state=0).fit(conformance_data).predict_quality(conformance_data)
    b = MatrixFactorizationRouter(**FAST, random_state=1).fit(conformance_data).predict_quality(conformance_data)
    assert not np.allclose(a, b)


def test_all_ties_is_a_clear_error(conformance_data):
    prefs = conformance_data.preferences.assign(winner="tie")
    data = Dataset(conformance_data.queries, preferences=prefs, meta={"name": "ties"})
    with pytest.raises(DataError, match="every battle is a tie"):
        MatrixFactorizationRouter(**FAST).fit(data)



def test_pair_score_ranks_training_queries_by_who_won(conformance_data):
    """AUC of P(strong wins) against 'strong actually beat weak' (ties left out) is far above 0.5."""
    from sklearn.metrics import roc_auc_score

    scores = conformance_data.score_matrix(["strong-model", "weak-model"])
    gain = scores[:, 0] - scores[:, 1]
    r = MatrixFactorizationRouter(embedder="hashing", lr=3e-3, epochs=60, val_fraction=0.0).fit(conformance_data)
    ps = r.pair_score(conformance_data, "strong-model", "weak-model")
    assert roc_auc_score(gain[gain != 0] > 0, ps[gain != 0]) > 0.75
