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
    # The fixture comes from another machine, and a fit's last bits depend on the CPU's BLAS kernels
    # (on an AMD EPYC: SW 5e-8, the MLP's training 6e-6 away from the fixture's machine; WordLlama's
    # word-table path moved vectors by ≤ 2e-7), so it is compared at 1e-4, far below any change of
    # behaviour. On this machine the one-text fast path and the batch path agree to 1e-6.
    np.testing.assert_allclose(single, before[f"{name}_single"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(batch, before[f"{name}_batch"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(single, batch, rtol=0, atol=1e-6)
    # every input path goes through the same code: identical to the bit
    frame = pd.DataFrame({"query": texts})
    assert np.array_equal(router.predict_quality(frame), batch)
    assert np.array_equal(router.predict_quality(tuple(texts)), batch)
    assert np.array_equal(router.predict_quality(texts[0]), single[:1])
    assert np.array_equal(router.predict_quality(data), router.predict_quality(data.texts))
