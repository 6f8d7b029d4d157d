"""Routers train on the (query, model) cells that exist; a missing cell is never read as a score of 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft.data import Dataset
from routecraft.routers import make_router

MODELS = ("strong", "cheap", "sparse")


def _data(n: int = 120) -> Dataset:
    rng = np.random.default_rng(0)
    topics = ["algebra", "poetry", "history"]
    q, rows = [], []
    for i in range(n):
        t = topics[i % 3]
        qid = f"q{i}"
        q.append({"query_id": qid, "query": f"{t} question number {i} about {t} things"})
        rows.append({"query_id": qid, "model": "strong", "score": float(rng.random() < 0.8)})
        rows.append({"query_id": qid, "model": "cheap", "score": float(rng.random() < (0.7 if t == "poetry" else 0.2))})
        if i % 2 == 0:  # "sparse" answered only half the queries, and always well
            rows.append({"query_id": qid, "model": "sparse", "score": 1.0})
    pool = pd.DataFrame({"model": list(MODELS), "price_in_per_mtok": [10.0, 0.1, 1.0], "price_out_per_mtok": [30.0, 0.3, 3.0]})
    return Dataset(pd.DataFrame(q), pd.DataFrame(rows), pool=pool, meta={"name": "sparse"})


@pytest.mark.parametrize("spec", ["knn", "logistic", "mlp", "sw", "mf", "best-single"])
def test_routers_fit_on_existing_cells(spec):
    data = _data()
    assert np.isnan(data.score_matrix(list(MODELS))).sum() == 60
    params = {"embedder": "hashing"}
    if spec == "best-single":
        params = {}
    router = make_router(spec, **params).fit(data)
    q = router.predict_quality(data)
    assert np.isfinite(q).all()
    j = router.models_.index("sparse")
    if router.quality_kind == "score":
        # the sparse model won every battle it was in: reading its missing cells as 0 would drag it to ~0.5
        assert q[:, j].mean() > 0.9, q[:, j].mean()
    else:
        # pairwise routers only see pairs where both models have a score: sparse beats or ties everyone
        assert q[:, j].mean() >= q[:, router.models_.index("cheap")].mean()
