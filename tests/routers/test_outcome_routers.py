"""kNN, logistic and MLP outcome routers: conformance and learning real signal."""

import numpy as np
import pytest

from routecraft import DataError, load_router
from routecraft.routers import check_router
from routecraft.routers._knn import KNNRouter
from routecraft.routers._per_model import LogisticRouter, MLPRouter

ROUTERS = [
    KNNRouter(embedder="hashing", k=5),
    LogisticRouter(embedder="hashing"),
    MLPRouter(embedder="hashing"),
    KNNRouter(embedder="tfidf:32", k=5),
]


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: f"{type(r).__name__}-{r.embedder}")
def test_conformance(router):
    check_router(router)


@pytest.mark.parametrize("router", ROUTERS[:3], ids=lambda r: type(r).__name__)
def test_learns_topic_skill(router, conformance_data):
    """The conformance data makes 'weak-model' bad at math and good at chat: a router must see that."""
    q = router.fit(conformance_data).predict_quality(conformance_data)
    tasks = conformance_data.queries["task"].to_numpy()
    weak = router.model_index("weak-model")
    assert q[tasks == "chat", weak].mean() > q[tasks == "math", weak].mean() + 0.2


def test_knn_skips_missing_scores(conformance_data):
    """A neighbour with no score for a model must not count as a zero for it."""
    out = conformance_data.outcomes
    drop = (out["model"] == "coder-model") & (out.index % 2 == 0)
    data = type(conformance_data)(conformance_data.queries, out[~drop].reset_index(drop=True), meta={"name": "partial"})
    r = KNNRouter(embedder="hashing", k=3).fit(data)
    full = KNNRouter(embedder="hashing", k=3).fit(conformance_data)
    j = r.model_index("coder-model")
    assert r.predict_quality(data)[:, j].mean() > 0.5 * full.predict_quality(data)[:, j].mean()


def test_per_model_router_needs_scores_for_every_model(conformance_data):
    out = conformance_data.outcomes
    data = type(conformance_data)(
        conformance_data.queries,
        out.assign(score=np.where(out["model"] == "coder-model", np.nan, out["score"])).dropna(),
        preferences=conformance_data.preferences,
        meta={"name": "x"},
    )
    with pytest.raises(DataError, match="coder-model"):
        LogisticRouter(embedder="hashing").fit(data)


def test_saved_tfidf_router_needs_no_refit(tmp_path, conformance_data):
    r = KNNRouter(embedder="tfidf:32", k=5).fit(conformance_data)
    path = tmp_path / "knn.routecraft"
    r.save(str(path))
    loaded = load_router(path)
    assert np.allclose(loaded.predict_quality(["Solve for x: 3x + 1 = 9."]), r.predict_quality(["Solve for x: 3x + 1 = 9."]))
    assert (tmp_path / "knn.routecraft.md").exists()
