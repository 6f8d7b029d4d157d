import numpy as np
import pytest

from routecraft import UnknownModelError
from routecraft.routers import AlwaysRouter, BestSingleRouter, OracleRouter, RandomRouter, check_router


@pytest.mark.parametrize(
    "router", [RandomRouter(), AlwaysRouter("weak-model"), BestSingleRouter(), OracleRouter()], ids=type
)
def test_baselines_conform(router):
    check_router(router)


def test_always_unknown_model_is_clear(conformance_data):
    with pytest.raises(UnknownModelError, match="not-there"):
        AlwaysRouter("not-there").fit(conformance_data)


def test_oracle_reproduces_true_scores(conformance_data):
    q = OracleRouter().fit(conformance_data).predict_quality(conformance_data)
    assert np.array_equal(q, conformance_data.score_matrix())


def test_random_is_batch_independent(conformance_data):
    r = RandomRouter(random_state=3).fit(conformance_data)
    full = r.predict_quality(conformance_data)
    assert np.array_equal(r.predict_quality(conformance_data.queries.iloc[5:7]), full[5:7])
