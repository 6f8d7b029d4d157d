"""SW scores a model that never battled as pool-average: it must say so."""

import pandas as pd
import pytest

from routecraft.data import Dataset
from routecraft.routers._sw import SWRankingRouter


def test_a_model_without_battles_is_warned_about(conformance_data):
    prefs = conformance_data.preferences
    only_two = prefs[(prefs["model_a"] != "coder-model") & (prefs["model_b"] != "coder-model")]
    data = Dataset(conformance_data.queries, conformance_data.outcomes, only_two.reset_index(drop=True), meta={"name": "two"})
    assert "coder-model" in data.models
    with pytest.warns(UserWarning, match=r"model\(s\) coder-model have no battles .* pool-average"):
        SWRankingRouter(embedder="hashing").fit(data)


def test_no_warning_when_every_model_battled(conformance_data, recwarn):
    SWRankingRouter(embedder="hashing").fit(conformance_data)
    assert not [w for w in recwarn if "no battles" in str(w.message)]
