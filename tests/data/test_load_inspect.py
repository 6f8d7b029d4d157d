"""Format detection, bundled data, canonical round trip, splits, preferences and inspection."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from routecraft import DataError
from routecraft.data._prices import PRICES_PATH
from routecraft.data import (
    Dataset,
    bundled_dataset,
    bundled_names,
    default_prices,
    format_inspection,
    inspect_dataset,
    load_dataset,
    outcomes_to_preferences,
    split_dataset,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "data"
RL = FIX / "routellm"


@pytest.mark.parametrize(
    "path,name",
    [
        (RL, "routellm-gsm8k"),
        (f"{RL}#mmlu", "routellm-mmlu"),
        (RL / "routellm" / "evals" / "mt_bench" / "judgements.jsonl", "routellm-mtbench"),
        (RL / "routellm" / "evals" / "mmlu" / "responses", "routellm-mmlu"),
        (FIX / "mmlu_pro" / "model_outputs" / "model_outputs_Llama-2-7b-hf_5shots.csv", "mmlu_pro"),
        (FIX / "llmrouter", "llmrouter-dcrouter"),
        (FIX / "llmrouter" / "data" / "example_data" / "query_data" / "default_query_test.jsonl", "llmrouter-queries"),
        (FIX / "routerarena" / "cached_results", "routerarena"),
        (f"{FIX / 'arena_hard'}#v2.0", "arena_hard-v2.0"),
        (FIX / "arena_hard" / "data" / "arena-hard-v0.1" / "question.jsonl", "arena_hard-v0.1"),
    ],
)
def test_detects_upstream_layouts(path, name):
    assert load_dataset(path).name == name


def test_routellm_benchmark_option():
    assert load_dataset(RL, benchmark="mtbench").name == "routellm-mtbench"


def test_bundled_datasets():
    assert bundled_names() == ["routellm-gsm8k", "routellm-mmlu", "routellm-mtbench"]
    d = load_dataset("bundled:routellm-mtbench")
    assert len(d) == 80 and d.models == ["mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"]
    assert len(bundled_dataset("routellm-gsm8k")) == 1319
    with pytest.raises(DataError, match="available"):
        bundled_dataset("nope")


def test_bundled_size_budget():
    from routecraft.data.bundled import ROOT

    assert sum(f.stat().st_size for f in ROOT.rglob("*") if f.is_file()) < 3_000_000


def test_canonical_round_trip(tmp_path):
    d = load_dataset(FIX / "routerarena")
    d.save(tmp_path / "ds")
    back = load_dataset(tmp_path / "ds")
    for name in ("queries", "outcomes", "pool"):
        pd.testing.assert_frame_equal(getattr(d, name), getattr(back, name), check_dtype=False)
    assert back.meta["notes"] == d.meta["notes"] and back.fingerprint() == d.fingerprint()


def test_split_by_column_drops_leaked_test_queries():
    d = load_dataset(FIX / "llmrouter")
    train, test, report = split_dataset(d)
    assert report.origin == "column" and report.leaked_dropped == 3
    assert not set(train.query_ids) & set(test.query_ids)
    assert not set(train.texts) & set(test.texts)


def test_seeded_split_is_deterministic():
    d = load_dataset(FIX / "routellm", benchmark="mmlu")
    a = split_dataset(d, test_size=0.3, seed=1)
    b = split_dataset(d, test_size=0.3, seed=1)
    assert a[1].query_ids == b[1].query_ids and not set(a[0].query_ids) & set(a[1].query_ids)


def test_outcomes_to_preferences_on_mtbench():
    d = load_dataset(RL, benchmark="mtbench")
    prefs = outcomes_to_preferences(d.outcomes, models=d.models, source="judge")
    assert len(prefs) == len(d) and set(prefs["winner"]) <= {"a", "b", "tie"}
    Dataset(queries=d.queries, preferences=prefs)  # validates


def test_inspect_finds_leakage_duplicates_and_notes():
    r = inspect_dataset(load_dataset(FIX / "llmrouter"))
    json.dumps(r)
    assert r["leakage"]["test_in_train"] == 3 and r["leakage"]["by_task"] == {"mbpp": 3}
    assert r["duplicates"]["extra_copies"] == 3 and r["splits"] == {"train": 23, "test": 11}
    assert r["models"]["gemma-2-9b-it"]["cost"] == "price-table"
    text = format_inspection(r)
    assert "3 of 11 test queries also in train" in text


def test_inspect_detects_conflicting_duplicates_constructed():
    q = pd.DataFrame({"query_id": ["1", "2", "3"], "query": ["same text", "same  text", "other"]})
    o = pd.DataFrame({"query_id": ["1", "2", "3"], "model": "m", "score": [1.0, 0.0, 0.5], "cost_usd": 0.1})
    r = inspect_dataset(Dataset(queries=q, outcomes=o))
    assert r["duplicates"]["texts"] == 1 and r["duplicates"]["conflicting_labels"] == {"m": 1}
    assert r["score_type"] == "fractional" and r["models"]["m"]["cost"] == "measured"


def test_inspect_reports_adapter_caveats():
    r = inspect_dataset(load_dataset(FIX / "mmlu_pro"))
    assert r["duplicates"]["extra_copies"] == 1 and "DeepSeek-Coder-V2" in r["adapter"]["incomplete_runs"]
    assert r["models"]["DeepSeek-Coder-V2"]["coverage"] < 1
    r = inspect_dataset(load_dataset(RL, benchmark="mtbench"))
    assert r["score_type"] == "rating" and r["contamination"]["n_matched"] == 1
    r = inspect_dataset(load_dataset(FIX / "routerarena"))
    assert r["adapter"]["clipped_scores"] == 1 and r["models"]["gemini-2.0-flash-001"]["cost"] == "measured"


def test_price_table_has_sources():
    prices = default_prices()
    documented = set(json.loads(PRICES_PATH.read_text())["sources"])
    assert prices["model"].is_unique and set(prices["source"]) == documented == {
        "routerarena", "llmrouter", "routellm-assumed", "litellm", "param-rule", "google-list"}
    assert prices.set_index("model").loc["gpt-4-1106-preview", "price_in_per_mtok"] == 10.0
