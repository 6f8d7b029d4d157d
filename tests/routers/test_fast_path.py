"""The batch-1 fast paths (text input without a query frame, WordLlama's single-text embed) leave Q̂ unchanged.

``q_hat_before_fast_path.npz`` was written by the routers *before* the fast paths existed
(the code at commit cbf51f2, fitting ``ROUTERS`` below on ``conformance_dataset()``): fitting them again
must give the same Q̂, one query at a time and in a batch, by every input path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routecraft.routers import (
    KNNRouter,
    LogisticRouter,
    MatrixFactorizationRouter,
    MLPRouter,
    SWRankingRouter,
    conformance_dataset,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "q_hat_before_fast_path.npz"
ROUTERS = {
    "sw_tiers": lambda: SWRankingRouter(embedder="wordllama", use_tiers=True),
    "sw": lambda: SWRankingRouter(embedder="hashing"),
    "knn": lambda: KNNRouter(embedder="wordllama"),
    "logistic": lambda: LogisticRouter(embedder="hashing"),
    "mlp": lambda: MLPRouter(embedder="hashing"),
    "mf": lambda: MatrixFactorizationRouter(embedder="wordllama"),
}


@pytest.fixture(scope="module")
def data():
    return conformance_dataset()


@pytest.mark.parametrize("name", list(ROUTERS))
def test_q_hat_matches_the_routers_before_the_fast_path(data, name):
    before = np.load(FIXTURE)
    texts = data.texts + ["", "x", "Prove that the square root of 2 is irrational."]
    router = ROUTERS[name]().fit(data)
    single = np.vstack([router.predict_quality([t]) for t in texts])
    batch = router.predict_quality(texts)
    # bitwise on the machine that wrote the fixture; other BLAS builds may round the fit differently
    np.testing.assert_allclose(single, before[f"{name}_single"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(batch, before[f"{name}_batch"], rtol=0, atol=1e-9)
    # every input path goes through the same code: identical to the bit
    frame = pd.DataFrame({"query": texts})
    assert np.array_equal(router.predict_quality(frame), batch)
    assert np.array_equal(router.predict_quality(tuple(texts)), batch)
    assert np.array_equal(router.predict_quality(texts[0]), single[:1])
    assert np.array_equal(router.predict_quality(data), router.predict_quality(data.texts))


def test_wordllama_single_text_equals_its_batch_embed(data):
    from routecraft.embed._once import load_once
    from routecraft.embed._wordllama import FULL_DIM, _embed_one, _embed_unpadded, _load_inference

    model = load_once(("wordllama", FULL_DIM), _load_inference)
    texts = data.texts[:20] + ["", " ", "naïve café — 日本語", "a" * 5000, "word " * 700]
    for text in texts:
        assert np.array_equal(_embed_one(model, text), model.embed([text], norm=False))
    # batches mixing short and very long texts (WordLlama pads them all to the longest)
    for batch_size in (3, 64):
        assert np.array_equal(_embed_unpadded(model, texts, batch_size), model.embed(texts, norm=False, batch_size=batch_size))
