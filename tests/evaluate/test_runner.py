"""evaluate_router(s), plots, report and table on baseline routers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.table import Table

from routecraft.data._dataset import Dataset
from routecraft.evaluate import evaluate_router, evaluate_routers, format_results, plot_results, write_report
from routecraft.routers import OracleRouter, RandomRouter

KEYS = {
    "router", "dataset", "n_test", "strong", "weak", "apgr", "apgr_ci", "apgr_routellm", "apgr_routellm_ci",
    "cpt50", "cpt50_ci", "cpt80", "cpt80_ci", "aiq", "quality", "quality_ci", "cost", "cost_ci", "arena_score",
    "pgr_curve", "routellm_curve", "cost_quality_curve", "n_excluded",
}
GSM8K = Path("/work/shared/data/routellm/routellm/evals/gsm8k/gsm8k_responses.csv")


@pytest.fixture(scope="module")
def results(conformance_data):
    routers = {"random": RandomRouter().fit(conformance_data), "oracle": OracleRouter().fit(conformance_data)}
    return evaluate_routers(routers, conformance_data, n_boot=200, seed=0)


def test_keys_and_json(results):
    for r in results:
        assert KEYS <= set(r)
        json.loads(json.dumps(r, allow_nan=False))  # plain floats/lists, no NaN, no numpy types
    rand, oracle = results
    assert rand["strong"] == "strong-model" and rand["weak"] == "weak-model"  # best single / cheapest
    assert oracle["apgr"] > rand["apgr"]
    assert oracle["aiq"] > rand["aiq"]
    assert oracle["quality"] == pytest.approx(oracle["oracle"]["quality"])
    assert oracle["gap_closed"] == pytest.approx(1.0)
    for key in ("apgr", "quality", "cost", "aiq"):
        lo, hi = rand[f"{key}_ci"]
        assert lo <= rand[key] <= hi


def test_deterministic_given_seed(conformance_data):
    r = RandomRouter().fit(conformance_data)
    a = evaluate_router(r, conformance_data, n_boot=50, seed=3)
    b = evaluate_router(r, conformance_data, n_boot=50, seed=3)
    assert a == b


def _synthetic(n: int, seed: int, with_gap: bool = False) -> Dataset:
    rng = np.random.default_rng(seed)
    ids = [f"q{i}" for i in range(n)]
    rows = [
        {"query_id": q, "model": m, "score": float(rng.random() < p)}
        for q in ids for m, p in (("big", 0.8), ("small", 0.5))
    ]
    out = pd.DataFrame(rows)
    if with_gap:
        out = out.drop(index=0).reset_index(drop=True)  # query q0 has no score for "big"
    return Dataset(pd.DataFrame({"query_id": ids, "query": [f"question {q}" for q in ids]}), out, meta={"name": "syn"})


def test_random_router_apgr_interval_contains_half():
    data = _synthetic(3000, seed=1)
    r = evaluate_router(RandomRouter(random_state=7).fit(data), data, n_boot=300)
    lo, hi = r["apgr_ci"]
    assert lo < 0.5 < hi
    assert r["cost"] is None and r["aiq"] is None and r["arena_score"] is None  # no prices


def test_nan_true_scores_are_excluded_and_counted():
    data = _synthetic(200, seed=2, with_gap=True)
    r = evaluate_router(RandomRouter().fit(data), data, n_boot=20)
    assert r["n_excluded"] == 1 and r["n_pair"] == 199


def test_plots_report_and_table(results, tmp_path):
    paths = plot_results(results, tmp_path)
    assert [p.name for p in paths] == ["pair.png", "cost_quality.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = write_report(results, tmp_path / "report.html").read_text()
    assert report.count('class="plotly-graph-div"') == 2 and "oracle" in report
    legacy = write_report(results, paths, tmp_path / "legacy.html", engine="matplotlib").read_text()
    assert legacy.count("data:image/png;base64,") == 2  # the old (results, plots, path) call still works
    assert isinstance(format_results(results), Table)


@pytest.mark.skipif(not GSM8K.exists(), reason="RouteLLM GSM8K responses not available")
def test_gsm8k_oracle_beats_random():
    raw = pd.read_csv(GSM8K)
    strong, weak = "gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"
    ids = [f"gsm8k-{i}" for i in range(len(raw))]
    queries = pd.DataFrame({"query_id": ids, "query": raw["prompt"].astype(str)})
    outcomes = pd.concat(
        [pd.DataFrame({"query_id": ids, "model": m, "score": raw[m].astype(float)}) for m in (strong, weak)],
        ignore_index=True,
    )
    data = Dataset(queries, outcomes, meta={"name": "gsm8k"})
    res = evaluate_routers(
        {"random": RandomRouter().fit(data), "oracle": OracleRouter().fit(data)},
        data, strong=strong, weak=weak, n_boot=300,
    )
    rand, oracle = res
    assert oracle["apgr"] >= rand["apgr"] + 0.3
    assert oracle["apgr_routellm"] >= rand["apgr_routellm"] + 0.3
    lo, hi = rand["apgr_ci"]
    assert lo < 0.5 < hi
