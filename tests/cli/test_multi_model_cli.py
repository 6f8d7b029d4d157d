"""Multi-model pools from the command line: RouterBench folder, --pool, --policy, budgets, route."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from .test_cli import assert_one_line_error, run

FIXTURE = str(Path(__file__).resolve().parents[1] / "fixtures" / "routerbench_zs")
POOL = """
[[models]]
name = "gpt-4-1106-preview"
price_in_per_mtok = 10
price_out_per_mtok = 30

[[models]]
name = "gpt-3.5-turbo-1106"

[[models]]
name = "mistralai/mixtral-8x7b-chat"
price_in_per_mtok = 0.6
price_out_per_mtok = 0.6
expected_tokens_out = 20
"""


def test_routerbench_folder_inspect_convert_evaluate(tmp_path):
    proc = run("data", "inspect", FIXTURE, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["n_queries"] == 32 and report["missing_cells"] == 2 and report["splits"] == {"train": 20, "test": 12}
    proc = run("data", "convert", FIXTURE, str(tmp_path / "canon"))
    assert proc.returncode == 0 and "32 queries, 3 models, 94 outcomes" in proc.stdout, proc.stderr
    out = tmp_path / "res.json"
    proc = run("evaluate", "--data", str(tmp_path / "canon"), "--router", "best-single", "--router", "random",
               "--n-boot", "100", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "split (column): 20 train / 12 test" in proc.stdout
    assert "cost policy (lam sweep), 3 models" in proc.stdout and "model mix random @ lam=0" in proc.stdout
    assert "multi-model metrics use the 11 complete ones" in proc.stdout
    res = json.loads(out.read_text())
    assert {"aiq", "aiq_ci", "cost_to_match_best_single_ci", "quality_at_half_best_single_cost_ci"} <= set(res[0])
    assert res[0]["n_excluded_multi"] == 1 and res[0]["decision_cost"].startswith("expected")


def test_threshold_policy_prints_mix():
    proc = run("evaluate", "--data", FIXTURE, "--router", "random", "--policy", "threshold", "--n-boot", "50")
    assert proc.returncode == 0, proc.stderr
    assert "APGR" in proc.stdout and "model mix random @ threshold 0.5" in proc.stdout


def test_train_calibrate_budget_and_route_with_pool(tmp_path):
    pool = tmp_path / "pool.toml"
    pool.write_text(POOL)
    art = tmp_path / "knn.routecraft"
    proc = run("train", "--data", FIXTURE, "--router", "knn", "--param", "embedder=hashing", "--out", str(art),
               "--pool", str(pool))
    assert proc.returncode == 0, proc.stderr
    assert "prices from pool-file:pool.toml" in proc.stdout and "price-table:routerarena" in proc.stdout
    proc = run("calibrate", "--router", str(art), "--queries", FIXTURE, "--budget-usd-per-query", "0.0005",
               "--n-boot", "100", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["usd_per_query"] <= 0.0005 and plan["usd_per_query_ci"][0] <= plan["usd_per_query"]
    assert set(plan["model_mix"]) <= set(plan["models"]) and "expected_quality_ci" in plan
    out = tmp_path / "decisions.jsonl"
    proc = run("route", "--router", str(art), "--queries", FIXTURE, "--budget", "0.0005", "--out", str(out),
               "--n-boot", "50")
    assert proc.returncode == 0, proc.stderr
    assert "32 decisions" in proc.stdout and "model mix:" in proc.stdout
    frame = pd.read_json(out, lines=True)
    assert len(frame) == 32 and {"query_id", "model", "expected_cost_usd", "q:gpt-4-1106-preview"} <= set(frame)
    assert frame["expected_cost_usd"].mean() <= 0.0005


def test_preference_only_data_is_evaluated(tmp_path, conformance_data):
    q = conformance_data.queries.set_index("query_id")["query"]
    p = conformance_data.preferences.assign(query=lambda f: q.loc[f["query_id"]].to_numpy())
    path = tmp_path / "prefs.jsonl"
    p[["query", "model_a", "model_b", "winner"]].to_json(path, orient="records", lines=True)
    proc = run("evaluate", "--data", str(path), "--router", "sw", "--router", "random", "--n-boot", "50")
    assert proc.returncode == 0, proc.stderr
    assert "preference evaluation" in proc.stdout and "agreement" in proc.stdout


@pytest.mark.parametrize("args, needle", [
    (["calibrate", "--router", "x.routecraft", "--queries", FIXTURE], "exactly one of"),
    (["evaluate", "--data", FIXTURE, "--router", "knn", "--policy", "greedy"], "--policy must be one of"),
])
def test_bad_policy_arguments_are_one_line_errors(args, needle):
    assert_one_line_error(run(*args), needle)


def test_bad_pool_file_is_a_one_line_error(tmp_path):
    pool = tmp_path / "pool.toml"
    pool.write_text('[[models]]\nname = "gpt-4-1106-preview"\nprice_in_per_mtok = "ten"\n')
    assert_one_line_error(run("data", "inspect", FIXTURE, "--pool", str(pool)), "pool.toml", "price_in_per_mtok")
