"""Output-length model and the expected cost of a decision."""

from __future__ import annotations

import numpy as np
import pandas as pd

from routecraft.data import Dataset
from routecraft.policy import OutputLengthModel, expected_cost
from routecraft.policy._length import mape, observed_lengths


def _data(n: int = 200, seed: int = 0, with_tokens: bool = True) -> Dataset:
    rng = np.random.default_rng(seed)
    words = rng.integers(5, 400, size=n)
    texts = [" ".join(["word"] * int(w)) + f" #{i}" for i, w in enumerate(words)]
    tin = np.array([len(t) / 4 for t in texts])
    rows = []
    for i, t in enumerate(texts):
        # "verbose" writes ~3x the prompt length, "terse" a constant 10 tokens
        rows.append({"query_id": f"q{i}", "model": "verbose", "score": 1.0, "tokens_out": 3 * tin[i] if with_tokens else None,
                     "answer": "x" * int(12 * tin[i])})
        rows.append({"query_id": f"q{i}", "model": "terse", "score": 0.0, "tokens_out": 10.0 if with_tokens else None,
                     "answer": "x" * 40})
    q = pd.DataFrame({"query_id": [f"q{i}" for i in range(n)], "query": texts})
    out = pd.DataFrame(rows)
    if not with_tokens:
        out = out.drop(columns="tokens_out")
    return Dataset(q, out, meta={"name": "len"})


def test_learns_per_model_length_from_tokens_out():
    train, test = _data(seed=0), _data(seed=1)
    lm = OutputLengthModel().fit(train)
    assert lm.kind_ == "tokens_out"
    y, _ = observed_lengths(test, ["verbose", "terse"])
    pred = lm.predict(test.texts, ["verbose", "terse"])
    assert mape(pred[:, 0], y[:, 0]) < 0.05 and mape(pred[:, 1], y[:, 1]) < 0.01
    # a per-model mean would be far off for the verbose model
    assert mape(np.full(len(y), y[:, 0].mean()), y[:, 0]) > 0.3


def test_falls_back_to_answer_length_then_mean_then_default():
    lm = OutputLengthModel().fit(_data(with_tokens=False))
    assert lm.kind_ == "answer_length"
    small = OutputLengthModel(min_rows=10_000).fit(_data())
    pred = small.predict(["a b c"], ["verbose", "unknown"])
    assert np.isclose(pred[0, 0], small.params_["verbose"]["mean"]) and pred[0, 1] == 256.0


def test_round_trip_and_tasks_shift_predictions():
    d = _data()
    d.queries["task"] = np.where(np.arange(len(d)) % 2 == 0, "short", "long")
    d.outcomes.loc[d.outcomes["query_id"].isin(d.queries["query_id"][1::2]), "tokens_out"] *= 4
    lm = OutputLengthModel().fit(d)
    back = OutputLengthModel.from_dict(lm.to_dict())
    texts = d.texts[:4]
    assert np.allclose(back.predict(texts, ["verbose"], ["long"] * 4), lm.predict(texts, ["verbose"], ["long"] * 4))
    assert (lm.predict(texts, ["verbose"], ["long"] * 4) > 2 * lm.predict(texts, ["verbose"], ["short"] * 4)).all()


def test_expected_cost_uses_pool_override_then_length_model():
    lm = OutputLengthModel().fit(_data())
    pool = pd.DataFrame({"model": ["verbose", "terse"], "price_in_per_mtok": [1.0, 1.0],
                         "price_out_per_mtok": [10.0, 10.0], "expected_tokens_out": [np.nan, 1000.0]})
    text = "word " * 100
    c = expected_cost([text], ["verbose", "terse", "unpriced"], pool, lm)
    tin = len(text) / 4
    assert np.isclose(c[0, 1], (tin * 1.0 + 1000 * 10.0) / 1e6)
    assert np.isclose(c[0, 0], (tin * 1.0 + lm.predict([text], ["verbose"])[0, 0] * 10.0) / 1e6)
    assert np.isnan(c[0, 2])
