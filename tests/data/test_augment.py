"""Preference augmentation: mixing sources with weights, judge pairs from grades."""

import numpy as np
import pandas as pd
import pytest

from routecraft import DataError
from routecraft.data import (
    Dataset,
    dataset_preferences,
    judge_preferences_from_ratings,
    mix_datasets,
    mix_preferences,
)


def prefs(n, source, winner="a", weight=None):
    frame = pd.DataFrame(
        {"query_id": [f"q{i}" for i in range(n)], "model_a": "big", "model_b": "small", "winner": winner, "source": source}
    )
    return frame if weight is None else frame.assign(weight=weight)


def test_mix_multiplies_row_weights_by_source_weight():
    mixed = mix_preferences([(prefs(3, "crowd"), 1.0), (prefs(2, "judge", weight=[1.0, 3.0]), 0.5)])
    assert mixed["weight"].tolist() == [1.0, 1.0, 1.0, 0.5, 1.5]
    assert mixed["source"].tolist() == ["crowd"] * 3 + ["judge"] * 2


def test_normalized_mix_gives_each_source_its_share():
    mixed = mix_preferences([(prefs(90, "crowd"), 1.0), (prefs(10, "gold"), 1.0)], normalize=True)
    total = mixed.groupby("source")["weight"].sum()
    assert total["crowd"] == pytest.approx(50.0) and total["gold"] == pytest.approx(50.0)
    assert mixed["weight"].sum() == pytest.approx(100.0)


@pytest.mark.parametrize("weight", [-1.0, float("nan")])
def test_bad_mixing_weight_is_a_data_error(weight):
    with pytest.raises(DataError, match="mixing weight"):
        mix_preferences([(prefs(2, "crowd"), weight)])


def test_bad_winner_names_the_source():
    with pytest.raises(DataError, match="source 1.*winner"):
        mix_preferences([(prefs(2, "crowd"), 1.0), (prefs(2, "judge", winner="left"), 1.0)])


def test_judge_preferences_average_turns_and_tie_on_equal_grades():
    ratings = pd.DataFrame(
        {
            "query_id": ["q1"] * 6 + ["q2"] * 2,
            "model": ["gpt-4", "gpt-4", "mixtral", "mixtral", "llama", "llama", "gpt-4", "mixtral"],
            "raw_score": [9, 7, 8, 8, 3, 5, 6, 6],
        }
    )
    out = judge_preferences_from_ratings(ratings, ["gpt-4", "mixtral", "llama"], score_column="raw_score")
    got = {(r.query_id, r.model_a, r.model_b): r.winner for r in out.itertuples()}
    assert got == {
        ("q1", "gpt-4", "mixtral"): "tie",  # 8.0 vs 8.0 after averaging the two turns
        ("q1", "gpt-4", "llama"): "a",
        ("q1", "mixtral", "llama"): "a",
        ("q2", "gpt-4", "mixtral"): "tie",
    }
    assert set(out["source"]) == {"judge"} and set(out["judge"]) == {"gpt-4"}


def test_judge_preferences_need_the_score_column():
    with pytest.raises(DataError, match="missing column 'grade'"):
        judge_preferences_from_ratings(pd.DataFrame({"query_id": [], "model": []}), score_column="grade")


def test_mix_datasets_gold_and_judge_feed_a_pairwise_router(conformance_data):
    from routecraft.routers._sw import SWRankingRouter

    gold = Dataset(conformance_data.queries, conformance_data.outcomes, pool=conformance_data.pool, meta={"name": "gold"})
    judged = judge_preferences_from_ratings(conformance_data.outcomes.iloc[::2])
    judge = Dataset(conformance_data.queries, preferences=judged, meta={"name": "judge"})
    mixed = mix_datasets([(gold, 1.0), (judge, 0.25)], name="gold+judge")
    assert set(mixed.preferences["source"]) == {"gold", "judge"}
    assert np.allclose(mixed.preferences.loc[mixed.preferences["source"] == "judge", "weight"], 0.25)
    assert mixed.meta["sources"] == [{"name": "gold", "weight": 1.0}, {"name": "judge", "weight": 0.25}]
    assert list(mixed.pool["model"]) == list(conformance_data.pool["model"])
    q = SWRankingRouter(embedder="hashing").fit(mixed).predict_quality(conformance_data)
    assert q.shape == (len(conformance_data), 3) and np.isfinite(q).all()


def test_mix_datasets_refuses_one_id_with_two_texts(conformance_data):
    other = conformance_data.queries.assign(query=lambda f: f["query"] + " (edited)")
    a = Dataset(conformance_data.queries, preferences=conformance_data.preferences, meta={"name": "a"})
    b = Dataset(other, preferences=conformance_data.preferences, meta={"name": "b"})
    with pytest.raises(DataError, match="different texts"):
        mix_datasets([(a, 1.0), (b, 1.0)])


def test_dataset_preferences_derives_gold_pairs_from_outcomes(conformance_data):
    data = Dataset(conformance_data.queries, conformance_data.outcomes, meta={"name": "outcomes"})
    derived = dataset_preferences(data)
    assert set(derived["source"]) == {"gold"} and len(derived) == 3 * len(conformance_data)
    with pytest.raises(DataError, match="no preference battles"):
        dataset_preferences(Dataset(conformance_data.queries, meta={"name": "empty"}))
