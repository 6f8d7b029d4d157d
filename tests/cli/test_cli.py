"""The command line end to end: real subprocesses, real exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "COLUMNS": "200"}


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "routecraft.cli", *args], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=600
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture()
def plain_rows():
    return [
        {"query": "What is 2+2?", "model": "big", "score": 1.0},
        {"query": "What is 2+2?", "model": "small", "score": 1.0},
        {"query": "Prove Fermat's last theorem.", "model": "big", "score": 0.0},
        {"query": "Prove Fermat's last theorem.", "model": "small", "score": 0.0},
    ]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_help_everywhere():
    for args in ([], ["data"], ["train"], ["evaluate"], ["calibrate"], ["quickstart"], ["data", "inspect"]):
        proc = run(*args, "--help")
        assert proc.returncode == 0, (args, proc.stderr)
        assert "Usage" in proc.stdout


def test_malformed_jsonl(tmp_path, plain_rows):
    p = write_jsonl(tmp_path / "logs.jsonl", plain_rows)
    p.write_text(p.read_text() + '{"query": "broken\n')
    assert_one_line_error(run("data", "inspect", str(p)), "logs.jsonl", "5")


def test_missing_column(tmp_path, plain_rows):
    p = write_jsonl(tmp_path / "logs.jsonl", [{k: v for k, v in r.items() if k != "score"} for r in plain_rows])
    assert_one_line_error(run("data", "inspect", str(p)), "logs.jsonl", "score")


@pytest.mark.parametrize("bad", [float("nan"), 1.5, -0.2, "high"])
def test_bad_score(tmp_path, plain_rows, bad):
    plain_rows[2]["score"] = bad
    p = tmp_path / "logs.jsonl"
    p.write_text("".join(json.dumps(r).replace("NaN", "NaN") + "\n" for r in plain_rows))
    assert_one_line_error(run("data", "inspect", str(p)), "logs.jsonl", "score")


def test_empty_query(tmp_path, plain_rows):
    plain_rows[0]["query"] = plain_rows[1]["query"] = "   "
    p = write_jsonl(tmp_path / "logs.jsonl", plain_rows)
    assert_one_line_error(run("data", "inspect", str(p)), "logs.jsonl", "query")


def test_malformed_csv(tmp_path):
    p = tmp_path / "logs.csv"
    p.write_text('query,model,score\n"unterminated,big,1\n')
    assert_one_line_error(run("data", "inspect", str(p)), "logs.csv")


def test_corrupt_parquet(tmp_path):
    p = tmp_path / "logs.parquet"
    p.write_bytes(b"PAR1 this is not parquet")
    assert_one_line_error(run("data", "inspect", str(p)), "logs.parquet")


def test_unknown_path(tmp_path):
    assert_one_line_error(run("data", "inspect", str(tmp_path / "nope.jsonl")), "nope.jsonl")


def test_unknown_router(tmp_path, plain_rows):
    p = write_jsonl(tmp_path / "logs.jsonl", plain_rows)
    assert_one_line_error(run("train", "--data", str(p), "--router", "nope", "--out", str(tmp_path / "r")), "nope")


def test_train_evaluate_calibrate_round_trip(tmp_path):
    art = tmp_path / "knn.routecraft"
    proc = run("train", "--data", "bundled:routellm-gsm8k", "--router", "knn", "--param", "embedder=hashing", "--out", str(art))
    assert proc.returncode == 0, proc.stderr
    assert art.exists() and (tmp_path / "knn.routecraft.md").exists()
    out = tmp_path / "res.json"
    proc = run("evaluate", "--data", "bundled:routellm-gsm8k", "--model", str(art), "--router", "random", "--json", str(out), "--n-boot", "200")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    keys = {"router", "dataset", "n_test", "apgr", "apgr_ci", "apgr_routellm", "cpt50", "cpt80", "aiq", "quality", "cost"}
    assert all(keys <= set(r) for r in results)
    proc = run("calibrate", "--router", str(art), "--queries", "bundled:routellm-mtbench", "--strong-fraction", "0.5", "--json", "--n-boot", "200")
    assert proc.returncode == 0, proc.stderr
    cal = json.loads(proc.stdout)
    assert 0 <= cal["threshold"] <= 1 and cal["strong"] == "gpt-4-1106-preview"


@pytest.mark.parametrize("router, cls", [("sw", "SWRankingRouter"), ("mf", "MatrixFactorizationRouter")])
def test_train_preference_routers_from_cli(tmp_path, router, cls):
    art = tmp_path / f"{router}.routecraft"
    proc = run("train", "--data", "bundled:routellm-mtbench", "--router", router, "--param", "embedder=hashing", "--out", str(art))
    assert proc.returncode == 0, proc.stderr
    proc = run("evaluate", "--data", "bundled:routellm-mtbench", "--model", str(art), "--n-boot", "100", "--test-size", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert cls in proc.stdout


@pytest.mark.slow
def test_train_bert_from_cli(tmp_path):
    art = tmp_path / "bert.routecraft"
    proc = run("train", "--data", "bundled:routellm-mtbench", "--router", "bert", "--param", "max_train_pairs=32", "--out", str(art))
    assert proc.returncode == 0, proc.stderr
    assert art.exists()


def test_causal_llm_without_model_path_is_a_clear_error(tmp_path):
    proc = run("train", "--data", "bundled:routellm-mtbench", "--router", "causal-llm", "--out", str(tmp_path / "c.routecraft"))
    assert_one_line_error(proc, "model_path")
