"""Full shared datasets (slow): row counts match the MANIFESTs. Skipped when the data is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routecraft.data import inspect_dataset, load_dataset

pytestmark = pytest.mark.slow


def _shared() -> Path | None:
    candidates = [os.environ.get("ROUTECRAFT_SHARED_DATA"), "/work/shared/data",
                  Path(__file__).resolve().parents[2].parent / "shared" / "data"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


SHARED = _shared()
needs_data = pytest.mark.skipif(SHARED is None, reason="shared data not present")


@needs_data
@pytest.mark.parametrize("bench,n,mean_weak,mean_strong", [("gsm8k", 1319, 0.638, 0.857), ("mmlu", 13937, 0.680, 0.806)])
def test_routellm_binary(bench, n, mean_weak, mean_strong):
    d = load_dataset(SHARED / "routellm", benchmark=bench)
    assert len(d) == n and len(d.outcomes) == 2 * n
    means = d.outcomes.groupby("model")["score"].mean()
    assert round(means["mistralai/Mixtral-8x7B-Instruct-v0.1"], 3) == mean_weak
    assert round(means["gpt-4-1106-preview"], 3) == mean_strong


@needs_data
def test_routellm_mmlu_duplicates_as_in_manifest():
    d = load_dataset(SHARED / "routellm", benchmark="mmlu")
    dropped = d.meta["dropped"][0]
    assert dropped["queries"] == 105
    assert dropped["conflicting_labels"] == {"mistralai/Mixtral-8x7B-Instruct-v0.1": 3, "gpt-4-1106-preview": 1}
    assert len(d.meta["contamination"]["query_ids"]) == 5


@needs_data
def test_routellm_mtbench():
    d = load_dataset(SHARED / "routellm", benchmark="mtbench")
    assert len(d) == 80 and len(d.meta["contamination"]["query_ids"]) == 8
    raw = d.outcomes.groupby("model")["raw_score"].mean()
    assert round(raw["gpt-4-1106-preview"], 2) == 9.23 and round(raw["mistralai/Mixtral-8x7B-Instruct-v0.1"], 2) == 8.34


@needs_data
def test_mmlu_pro():
    d = load_dataset(SHARED / "mmlu_pro")
    assert len(d) == 12032 and len(d.models) == 29 and len(d.outcomes) == 347215
    assert d.meta["incomplete_runs"] == {"DeepSeek-Coder-V2": 10351, "gemini-1.5-flash-002": 12012, "gemini-1.5-pro-002": 12020}
    assert d.meta["answer_key_revisions"] == {"questions": 48, "gold_answer_changed": 33}
    assert inspect_dataset(d)["duplicates"]["extra_copies"] == 159


@needs_data
def test_llmrouter():
    d = load_dataset(SHARED / "llmrouter")
    assert len(d) == 5610 and len(d.models) == 9
    r = inspect_dataset(d)
    assert r["splits"] == {"train": 5160, "test": 450}
    assert r["leakage"]["test_in_train"] == 69 and r["leakage"]["identical_labels"] == 53
    q = inspect_dataset(load_dataset(SHARED / "llmrouter", which="queries"))
    assert q["leakage"]["test_in_train"] == 70


@needs_data
def test_routerarena():
    d = load_dataset(SHARED / "routerarena")
    assert len(d) == 809 and len(d.outcomes) == 1618 and d.meta["clipped_scores"] == 1
    cost = d.outcomes.groupby("model")["cost_usd"].sum()
    assert round(cost["claude-3-haiku-20240307"], 4) == 0.1424 and round(cost["gemini-2.0-flash-001"], 4) == 0.0384


@needs_data
def test_arena_hard():
    assert len(load_dataset(SHARED / "arena_hard")) == 1250
    assert len(load_dataset(SHARED / "arena_hard", version="v0.1")) == 500
