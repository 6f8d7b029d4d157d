"""Generator filters and relabelling on hand-built generated data."""

from __future__ import annotations

import pandas as pd
import pytest

from routecraft._errors import DataError
from routecraft.data import Dataset
from routecraft.generate import filter_generated, generator_report, relabel

POOL = {"m1": 1.0, "m2": 0.8, "m3": 0.5, "m4": 0.2}  # how often each model gives the true answer


def _data() -> Dataset:
    queries, rows = [], []
    for g in ("good", "wrong-labels", "too-easy"):
        for i in range(20):
            qid = f"{g}-{i}"
            true = "ABCD"[i % 4]
            ref = true if g != "wrong-labels" or i % 4 == 0 else "ABCD"[(i + 1) % 4]
            queries.append({"query_id": qid, "query": f"{g} question {i}", "generator": g, "reference_answer": ref})
            for m, acc in POOL.items():
                right = g == "too-easy" or (i * 7 + len(m) * 3 + int(m[1])) % 10 < acc * 10
                rows.append({"query_id": qid, "model": m, "answer": true if right else "ABCD"[(i + 2) % 4], "score": 0.0})
    data = Dataset(pd.DataFrame(queries), pd.DataFrame(rows), meta={"name": "gen"})
    ref = data.queries.set_index("query_id")["reference_answer"]
    return relabel(data, ref)


def test_relabel_scores_agreement_with_reference():
    data = _data()
    out = data.outcomes.merge(data.queries[["query_id", "reference_answer"]])
    assert ((out["answer"] == out["reference_answer"]).astype(float) == out["score"]).all()
    assert set(out["source"]) == {"generated"}
    with pytest.raises(DataError, match="no reference answer"):
        relabel(data, pd.Series({"good-0": "A"}))


def test_report_measures_self_accuracy_and_differentiation():
    gens, items = generator_report(_data())
    g = gens.set_index("generator")
    assert g.loc["good", "self_answer_accuracy"] == 1.0
    assert g.loc["wrong-labels", "self_answer_accuracy"] == pytest.approx(0.25)
    assert g.loc["too-easy", "differentiation"] == 0.0 < g.loc["good", "differentiation"]
    assert len(items) == 60 and set(items.columns) >= {"consensus_answer", "self_agrees", "spread"}


def test_filter_keeps_passing_generators_and_items():
    result = filter_generated(_data())
    kept = result.generators.set_index("generator")["kept"]
    assert kept.to_dict() == {"good": True, "too-easy": False, "wrong-labels": False}
    assert set(result.data.queries["generator"]) == {"good"} and len(result.data) == 20
    assert "kept 20 of 60 items" in result.summary()
    # generator-level thresholds off: the item filter alone drops wrong labels
    loose = filter_generated(_data(), min_self_accuracy=0.0, min_differentiation=0.0)
    wrong = loose.data.queries[loose.data.queries["generator"] == "wrong-labels"]
    assert len(wrong) == 5 and len(loose.data) == 45
    with pytest.raises(DataError, match="kept no items"):
        filter_generated(_data(), min_self_accuracy=1.1)


def test_filter_needs_generated_columns(conformance_data):
    with pytest.raises(DataError, match="generator"):
        generator_report(conformance_data)


def test_relative_thresholds_scale_with_the_best_generator():
    data = _data()
    # absolute 0.9 would drop every generator but "good" (1.0) and "too-easy";
    # relative 0.9 × best (1.0) is the same here, while relative 0.2 keeps wrong-labels too
    strict = filter_generated(data, min_self_accuracy=0.9, min_differentiation=0.0, relative=True)
    loose = filter_generated(data, min_self_accuracy=0.2, min_differentiation=0.0, relative=True, item_self_agreement=False)
    assert set(strict.data.queries["generator"]) == {"good", "too-easy"}
    assert set(loose.data.queries["generator"]) == {"good", "too-easy", "wrong-labels"} and len(loose.data) == 60
