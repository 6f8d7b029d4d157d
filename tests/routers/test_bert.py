"""BertRouter (RouteLLM's BERT classifier) and the shared pair machinery of the torch routers."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from routecraft._errors import DataError, DependencyError, UnknownModelError
from routecraft.artifact import load_router
from routecraft.data._dataset import Dataset
from routecraft.routers import check_router, conformance_dataset, pair_score_from_quality
from routecraft.routers._bert import BertRouter
from routecraft.routers._torch import (
    STRONG_WINS,
    TIE,
    WEAK_WINS,
    default_pair,
    pair_examples,
    pair_quality,
    torch_threads,
)

MATH_PROBES = ["Solve for x: 11x + 4 = 90.", "What is 13 times 8 plus 2?", "Compute the integral of x^5 from 0 to 9."]
CHAT_PROBES = ["Say hello to my friend number 77.", "Give me a short greeting for day 31.", "What's a nice name for a cat, option 4?"]


@pytest.fixture
def one_thread():
    pytest.importorskip("transformers")
    with torch_threads(1):
        yield


# ------------------------------------------------------------ pair machinery
def test_pair_quality_makes_pair_score_equal_p():
    p = np.concatenate([np.linspace(0.001, 0.999, 101), [0.5, 0.2, 0.93]])
    q = pair_quality(p, n_models=4, strong=2, weak=0)
    assert np.allclose(pair_score_from_quality(q, 2, 0, "win_prob"), p, atol=1e-12)
    assert np.allclose(pair_score_from_quality(q, 0, 2, "win_prob"), 1 - p, atol=1e-12)
    assert np.all(q[:, [1, 3]] == 0.5)  # models outside the pair: no opinion


def test_default_pair_is_best_and_worst_by_mean_score(conformance_data):
    assert default_pair(conformance_data) == ("strong-model", "weak-model")
    prefs_only = Dataset(conformance_data.queries, preferences=conformance_data.preferences)
    assert default_pair(prefs_only) == ("strong-model", "weak-model")  # by win rate


def test_pair_examples_orient_labels_and_keep_score_gaps():
    queries = pd.DataFrame({"query_id": ["q1", "q2", "q3"], "query": ["one", "two", "three"]})
    outcomes = pd.DataFrame(
        {"query_id": ["q1", "q1", "q2", "q2"], "model": ["s", "w", "s", "w"], "score": [0.9, 0.2, 0.5, 0.5]}
    )
    derived = pair_examples(Dataset(queries, outcomes), "s", "w").set_index("query")
    assert derived.loc["one", "label"] == STRONG_WINS and derived.loc["one", "gap"] == pytest.approx(0.7)
    assert derived.loc["two", "label"] == TIE and len(derived) == 2

    prefs = pd.DataFrame(
        {
            "query_id": ["q3", "q3", "q2"],
            "model_a": ["w", "s", "s"],
            "model_b": ["s", "w", "other"],  # the last row is not the pair
            "winner": ["a", "tie", "a"],
            "source": "judge",
            "weight": [2.0, 1.0, 1.0],
        }
    )
    given = pair_examples(Dataset(queries, preferences=prefs), "s", "w")
    assert given["label"].tolist() == [WEAK_WINS, TIE]
    assert given["weight"].tolist() == [2.0, 1.0] and given["gap"].isna().all()


def test_pair_params_are_checked(conformance_data):
    with pytest.raises(UnknownModelError):
        BertRouter(strong="nope").fit(conformance_data)
    with pytest.raises(DataError, match="same model"):
        BertRouter(strong="weak-model", weak="weak-model").fit(conformance_data)


def test_missing_torch_names_the_ml_extra(conformance_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(DependencyError, match=r"pip install 'routecraft\[ml\]'"):
        BertRouter(max_train_pairs=4).fit(conformance_data)


# ------------------------------------------------------------------- the model
@pytest.mark.ml
def test_bert_router_passes_conformance(one_thread):
    check_router(BertRouter(max_train_pairs=16, batch_size=16))


@pytest.mark.ml
def test_bert_router_learns_topic_signal_and_loads_without_model_path(tmp_path, one_thread):
    from routecraft.embed._sentence import minilm_path

    local = tmp_path / "encoder"
    shutil.copytree(minilm_path(), local)
    data = conformance_dataset(n_per_topic=40)
    router = BertRouter(model_path=str(local), epochs=2, lr=2e-4, batch_size=16).fit(data)
    assert (router.strong_, router.weak_) == ("strong-model", "weak-model")
    p_math = router.pair_score(MATH_PROBES, "strong-model", "weak-model")
    p_chat = router.pair_score(CHAT_PROBES, "strong-model", "weak-model")
    assert p_math.mean() > p_chat.mean() + 0.1
    # pair_score is exactly RouteLLM's P(strong) = 1 - (p_tie + p_weak)
    assert np.allclose(p_math, router._p_strong(MATH_PROBES), atol=1e-9)

    saved = router.save(str(tmp_path / "bert.routecraft"))
    shutil.rmtree(local)  # loading must not need the original encoder directory
    loaded = load_router(saved)
    assert np.array_equal(loaded.predict_quality(MATH_PROBES), router.predict_quality(MATH_PROBES))
