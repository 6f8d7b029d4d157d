"""The in-process engine: streamed jobs equal the in-memory API, row for row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from routecraft._errors import DataError, RoutecraftError
from routecraft.engine import embed_file, iter_frames, map_frames, preferences_file, route_file
from routecraft.engine import _jobs


def test_iter_frames_cuts_exact_batches_across_row_groups(query_file):
    whole = pd.read_parquet(query_file)
    frames = list(iter_frames(query_file, batch_rows=25))  # the file's row groups hold 17 rows
    assert [len(f) for f in frames] == [25] * (len(whole) // 25) + ([len(whole) % 25] if len(whole) % 25 else [])
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_iter_frames_reads_jsonl_and_csv_in_chunks(tmp_path, suffix):
    frame = pd.DataFrame({"query": [f"q {i}" for i in range(10)], "query_id": [str(i) for i in range(10)]})
    path = tmp_path / f"q{suffix}"
    frame.to_json(path, orient="records", lines=True) if suffix == ".jsonl" else frame.to_csv(path, index=False)
    got = pd.concat(list(iter_frames(path, batch_rows=3)), ignore_index=True)
    assert [len(f) for f in iter_frames(path, batch_rows=3)] == [3, 3, 3, 1]
    assert got["query"].tolist() == frame["query"].tolist()


def test_bad_inputs_are_one_line_errors_naming_the_file(tmp_path):
    (tmp_path / "q.txt").write_text("x")
    with pytest.raises(DataError, match=r"q\.txt.*cannot stream"):
        list(iter_frames(tmp_path / "q.txt"))
    with pytest.raises(DataError, match="no such file"):
        list(iter_frames(tmp_path / "missing.parquet"))
    pd.DataFrame({"text": ["a"]}).to_parquet(tmp_path / "nq.parquet")
    with pytest.raises(DataError, match=r"nq\.parquet.*missing column\(s\) query"):
        list(iter_frames(tmp_path / "nq.parquet", columns=["query"]))
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"bad\.parquet: cannot read"):
        list(iter_frames(tmp_path / "bad.parquet"))
    with pytest.raises(RoutecraftError, match="unknown engine"):
        list(map_frames(lambda: (lambda f: f), tmp_path / "nq.parquet", engine="spark"))


POOL = pd.DataFrame({
    "model": ["strong-model", "weak-model", "coder-model"],
    "price_in_per_mtok": [10.0, 0.5, 2.0], "price_out_per_mtok": [30.0, 1.5, 6.0], "expected_tokens_out": [100.0] * 3,
})


def test_route_file_equals_in_memory_routing(artifact, query_file, tmp_path):
    from routecraft.artifact import load_router
    from routecraft.policy import CostPolicy, expected_cost

    router = load_router(artifact)
    queries = pd.read_parquet(query_file)
    summary = route_file(artifact, query_file, tmp_path / "d.parquet", batch_rows=16, lam=50.0, pool=POOL)
    got = pd.read_parquet(tmp_path / "d.parquet")
    assert summary.rows == len(queries) == len(got) and got["query_id"].tolist() == queries["query_id"].tolist()
    # the same 16-row batches in memory give bit-identical Q̂ (a batched matmul may differ in the last bit otherwise)
    q = np.vstack([router.predict_quality(queries.iloc[i : i + 16]) for i in range(0, len(queries), 16)])
    np.testing.assert_array_equal(got[[f"q:{m}" for m in router.models_]].to_numpy(), q)
    cost = expected_cost(queries["query"].tolist(), router.models_, POOL)
    choice = CostPolicy(50.0).decide(q, cost)
    assert got["model"].tolist() == [router.models_[j] for j in choice]
    np.testing.assert_allclose(got["expected_cost_usd"], cost[np.arange(len(q)), choice])
    assert len(set(got["model"])) > 1  # the lam actually trades quality for cost here
    assert summary.counts == got["model"].value_counts().to_dict()
    assert summary.expected_usd == pytest.approx(got["expected_cost_usd"].sum())


def test_cli_route_engine_equals_the_in_memory_command(artifact, query_file, tmp_path):
    from routecraft.cli import main

    jsonl = tmp_path / "q.jsonl"
    pd.read_parquet(query_file).to_json(jsonl, orient="records", lines=True)
    main(["route", "--router", artifact, "--queries", str(jsonl), "--out", str(tmp_path / "a.parquet")])
    main(["route", "--router", artifact, "--queries", str(jsonl), "--out", str(tmp_path / "b.parquet"),
          "--engine", "local", "--batch-rows", "1000"])
    a, b = pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(a[b.columns], b)


def test_route_file_threshold_policy_and_jsonl_output(artifact, query_file, tmp_path):
    from routecraft.artifact import load_router

    router = load_router(artifact)
    strong, weak = router.models_[0], router.models_[1]
    route_file(artifact, query_file, tmp_path / "d.jsonl", threshold=0.5, strong=strong, weak=weak, batch_rows=7)
    rows = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    queries = pd.read_parquet(query_file)
    scores = np.concatenate([router.pair_score(queries.iloc[i : i + 7], strong, weak) for i in range(0, len(queries), 7)])
    assert [r["model"] for r in rows] == [strong if s >= 0.5 else weak for s in scores]
    with pytest.raises(DataError, match="strong and weak"):
        route_file(artifact, query_file, tmp_path / "e.jsonl", threshold=0.5)
    assert not (tmp_path / "e.jsonl").exists() and not list(tmp_path.glob(".e.jsonl*"))


def test_embed_file_equals_encode(query_file, tmp_path):
    from routecraft.embed import make_embedder

    embed_file(query_file, tmp_path / "e.parquet", embedder="hashing", batch_rows=10)
    got = pd.read_parquet(tmp_path / "e.parquet")
    want = make_embedder("hashing").encode(pd.read_parquet(query_file)["query"].tolist())
    np.testing.assert_array_equal(np.stack(got["embedding"].to_numpy()), want)


def test_preferences_file_equals_outcomes_to_preferences(outcome_file, tmp_path, monkeypatch):
    from routecraft.data._convert import outcomes_to_preferences

    monkeypatch.setattr(_jobs, "BUCKET_BYTES", 512)  # many buckets: queries must still stay whole
    n = preferences_file(outcome_file, tmp_path / "p.parquet", batch_rows=40)
    got = pd.read_parquet(tmp_path / "p.parquet")
    want = outcomes_to_preferences(pd.read_parquet(outcome_file))
    key = ["query_id", "model_a", "model_b"]
    assert n == len(want)
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)[got.columns],
        check_dtype=False,
    )


def test_preferences_file_rejects_duplicate_outcomes(tmp_path):
    frame = pd.DataFrame({"query_id": ["a", "a", "a"], "model": ["m", "m", "n"], "score": [1.0, 0.0, 1.0]})
    frame.to_parquet(tmp_path / "o.parquet")
    with pytest.raises(DataError, match="duplicate outcome for query 'a' and model 'm'"):
        preferences_file(tmp_path / "o.parquet", tmp_path / "p.parquet")
    assert not (tmp_path / "p.parquet").exists()


def test_cli_embed_and_preferences_write_files_and_report_counts(query_file, outcome_file, tmp_path):
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "routecraft.cli", *args], capture_output=True, text=True, timeout=300)

    p = cli("embed", query_file, str(tmp_path / "e.parquet"), "--embedder", "hashing", "--batch-rows", "20")
    assert p.returncode == 0, p.stderr
    assert f"{len(pd.read_parquet(query_file))} embeddings" in p.stdout
    p = cli("data", "preferences", outcome_file, str(tmp_path / "p.jsonl"))
    assert p.returncode == 0, p.stderr
    assert f"{len((tmp_path / 'p.jsonl').read_text().splitlines())} preferences" in p.stdout
    p = cli("embed", str(tmp_path / "nope.parquet"), str(tmp_path / "x.parquet"))
    assert p.returncode == 2 and "nope.parquet" in p.stderr and "Traceback" not in p.stderr
    p = cli("embed", query_file, str(tmp_path / "x.parquet"), "--engine", "spark")
    assert p.returncode == 2 and "unknown engine 'spark'" in p.stderr
