"""Every adapter on fixtures cut from the real upstream files (tests/fixtures/data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from routecraft.data import routellm_contamination
from routecraft.data.adapters import (
    load_arena_hard,
    load_llmrouter,
    load_mmlu_pro,
    load_routellm,
    load_routerarena,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "data"
WEAK, STRONG = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"


def test_routellm_gsm8k_binary_scores_and_upstream_model_names():
    d = load_routellm(FIX / "routellm", "gsm8k")
    assert len(d) == 20 and d.models == [WEAK, STRONG]
    assert set(d.outcomes["score"]) <= {0.0, 1.0}
    assert d.pool.set_index("model").loc[STRONG, "price_out_per_mtok"] == 30.0
    assert len(d.meta["contamination"]["query_ids"]) == len(routellm_contamination(FIX / "routellm")["gsm8k"])


def test_routellm_mmlu_keeps_one_query_per_text_and_reports_conflict():
    d = load_routellm(FIX / "routellm", "mmlu")
    assert len(d) == 30  # 31 rows, one duplicated prompt
    dropped = d.meta["dropped"][0]
    assert dropped["queries"] == 1 and dropped["conflicting_labels"] == {STRONG: 1}
    assert any("more than one task" in n for n in d.meta["notes"])


def test_routellm_mtbench_routes_on_turn_one_with_mean_rating():
    d = load_routellm(FIX / "routellm", "mtbench")
    q = d.queries.iloc[0]
    turns = json.loads(q["turns"])
    assert q["query"] == turns[0]["content"] and len(turns) == 2
    o = d.outcomes
    np.testing.assert_allclose(o["score"], (o["raw_score"] - 1) / 9)
    assert (o["source"] == "judge").all()


def test_mmlu_pro_rescoring_missing_runs_and_tokens():
    d = load_mmlu_pro(FIX / "mmlu_pro")
    S = d.score_matrix()
    assert np.isnan(S[:, d.models.index("DeepSeek-Coder-V2")]).sum() == 2  # missing, not zero
    assert "DeepSeek-Coder-V2" in d.meta["incomplete_runs"]
    assert d.meta["answer_key_revisions"]["gold_answer_changed"] > 0
    assert sum(d.meta["cells_differing_from_newest_key"].values()) > 0
    assert (d.outcomes["tokens_out"] > 0).all()
    q = d.queries["query"].iloc[0]
    assert "\nA. " in q and "\nB. " in q
    own = load_mmlu_pro(FIX / "mmlu_pro", answer_key="run")
    assert (own.outcomes["score"] == own.outcomes["raw_score"]).all()


def test_llmrouter_split_task_and_price_pool():
    d = load_llmrouter(FIX / "llmrouter")
    assert set(d.queries["split"]) == {"train", "test"}
    assert d.queries["task"].notna().all()
    assert len(d.pool) == 9 and len(d.models) == 9
    assert np.isfinite(d.cost_matrix()).all()
    assert "task_descriptions" in d.meta
    q = load_llmrouter(FIX / "llmrouter", which="queries")
    assert q.outcomes is None and "ground_truth" in q.queries.columns


def test_routerarena_clips_scores_and_keeps_measured_cost():
    d = load_routerarena(FIX / "routerarena")
    o = d.outcomes
    assert o["score"].between(0, 1).all() and (o["raw_score"] < 0).sum() == 1
    assert o["cost_usd"].notna().all() and o["tokens_in"].notna().all()
    assert d.queries.set_index("query_id").loc["NarrativeQA_4102", "task"] == "NarrativeQA"
    assert sorted(d.pool["model"]) == sorted(d.models)


@pytest.mark.parametrize("version,n", [("all", 12), ("v0.1", 6), ("v2.0", 6)])
def test_arena_hard_query_only(version, n):
    d = load_arena_hard(FIX / "arena_hard", version)
    assert len(d) == n and d.outcomes is None
    assert d.queries["task"].str.contains("/").all()
