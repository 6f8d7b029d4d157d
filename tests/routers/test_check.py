"""check_router can fail: each sub-check rejects a router broken in exactly that way."""

from __future__ import annotations

import numpy as np
import pytest

from routecraft.embed._base import make_embedder
from routecraft.routers import check_router
from routecraft.routers._baselines import BestSingleRouter
from routecraft.routers._constraints import positive_real
from routecraft.routers._knn import KNNRouter


class StoresConverted(BestSingleRouter):
    """__init__ converts its argument, so get_params no longer returns what was passed."""

    _parameter_constraints = {"scale": positive_real}

    def __init__(self, scale=1):
        self.scale = float(scale)


class Undeclared(BestSingleRouter):
    """A parameter with no constraint: a manifest could set it to anything and load."""

    def __init__(self, alpha=0.5):
        self.alpha = alpha


class BumpsK(KNNRouter):
    def _fit(self, data):
        super()._fit(data)
        self.k = self.k + 1


class FillsOptions(BestSingleRouter):
    """Mutates a dict parameter in place: same object, different contents (needs a deep compare)."""

    _parameter_constraints = {"options": [dict]}

    def __init__(self, options={"seen": 0}):  # noqa: B006 - the shared default is the point
        self.options = options

    def _fit(self, data):
        super()._fit(data)
        self.options["seen"] = self.options.get("seen", 0) + 1


class TrainOnly(KNNRouter):
    """Answers only queries it was trained on."""

    def _fit(self, data):
        super()._fit(data)
        self.known_ = dict(zip(data.texts, range(len(data))))

    def _predict_texts(self, texts):
        rows = [self.known_[t] for t in texts]
        return np.nan_to_num(self.train_scores_[rows], nan=0.5)


class ClassLevelState(BestSingleRouter):
    """Learned state in a class attribute: every instance (and clone) shares it."""

    _table: dict = {}

    def _fit(self, data):
        super()._fit(data)
        ClassLevelState._table["mean"] = self.mean_scores_

    def _predict(self, queries):
        return np.tile(ClassLevelState._table["mean"], (len(queries), 1))


class FitsSharedEmbedder(KNNRouter):
    """The pre-fix EmbeddingRouterMixin: fits the Embedder object passed as a parameter in place."""

    def _fit_embedder(self, texts):
        self.embedder_ = make_embedder(self.embedder)
        self.embedder_.fit(list(texts))
        return self.embedder_.encode(list(texts))


class NoSchema(BestSingleRouter):
    state_schema = None


class WrongSchema(BestSingleRouter):
    state_schema = {"mean_scores": ("i", ("n_models",))}


BROKEN = [
    (StoresConverted(), "params", "does not store parameter 'scale' unchanged"),
    (Undeclared(), "params", "alpha have no entry in _parameter_constraints"),
    (BumpsK(embedder="hashing", k=3), "fit-mutates-params", "fit changed parameter(s) k"),
    (FillsOptions(), "fit-mutates-params", "fit changed parameter(s) options"),
    (TrainOnly(embedder="hashing", k=3), "unseen", "KeyError"),
    (ClassLevelState(), "clone-independence", "changed the original"),
    (FitsSharedEmbedder(embedder="tfidf:16", k=3), "shared-param", "shares a parameter object"),
    (NoSchema(), "schema", "declares no state_schema"),
    (WrongSchema(), "schema", "array 'mean_scores' has dtype <f8; expected kind i"),
]


@pytest.mark.parametrize(("router", "check", "detail"), BROKEN, ids=[type(r).__name__ for r, _, _ in BROKEN])
def test_each_sub_check_fails_on_a_router_broken_that_way(router, check, detail, conformance_data):
    with pytest.raises(AssertionError) as info:
        check_router(router, conformance_data)
    message = str(info.value)
    assert message.startswith(f"check_router[{check}] failed for {type(router).__name__}: "), message
    assert detail in message


def test_knn_sharing_one_tfidf_object_keeps_predictions(conformance_data):
    """The reviewer's case: one embedder object for two routers; the second fit must not move the first."""
    shared = make_embedder("tfidf:16")
    first = KNNRouter(embedder=shared, k=3).fit(conformance_data)
    before = first.predict_quality(conformance_data)
    KNNRouter(embedder=shared, k=3).fit(conformance_data.subset(conformance_data.query_ids[::3]))
    np.testing.assert_array_equal(first.predict_quality(conformance_data), before)
    assert first.embedder is shared and not hasattr(shared, "idf_")  # the parameter itself is untouched


def test_parameter_validation_names_the_parameter(conformance_data):
    from routecraft import RoutecraftError

    with pytest.raises(RoutecraftError, match=r"'k' parameter of KNNRouter must be an int in the range \[1, inf\). Got 1.5"):
        KNNRouter(embedder="hashing", k=1.5).fit(conformance_data)
