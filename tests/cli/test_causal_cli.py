"""``routecraft inspect-bias`` and the causal router through ``train`` / ``evaluate``, as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from routecraft.data import Dataset
from routecraft.routers._synthetic import biased_dataset

pytest.importorskip("econml")

ENV = {**os.environ, "COLUMNS": "200"}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "routecraft.cli", *args], capture_output=True, text=True, env=ENV, timeout=600)


@pytest.fixture(scope="module")
def biased_dir(tmp_path_factory):
    return str(biased_dataset().save(tmp_path_factory.mktemp("biased") / "data"))


def test_inspect_bias_prints_tables_and_writes_json_and_plot(biased_dir, tmp_path):
    out, png = tmp_path / "bias.json", tmp_path / "bias.png"
    proc = run("inspect-bias", "--data", biased_dir, "--embedder", "hashing", "--clusters", "3",
               "--json", str(out), "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert "propensity AUC" in proc.stdout and "algebra" in proc.stdout and "cluster-0" in proc.stdout
    report = json.loads(out.read_text())
    assert report["model"] == "strong" and report["reference"] == "weak"
    assert report["sources"]["gold"]["n"] > 0 and report["sources"]["cheap"]["ess"] > 0
    by_task = {r["group"]: r for r in report["by_task"]}
    # algebra: the judge under-rates the strong model (τ > 0); poetry: it over-rates it
    assert by_task["algebra"]["tau"] > by_task["poetry"]["tau"]
    assert by_task["algebra"]["ci"][0] < by_task["algebra"]["tau"] < by_task["algebra"]["ci"][1]
    assert png.stat().st_size > 1000


def test_train_and_evaluate_causal(biased_dir, tmp_path):
    art = tmp_path / "c.routecraft"
    proc = run("train", "--data", biased_dir, "--router", "causal", "--param", "embedder=hashing",
               "--param", "n_folds=3", "--out", str(art))
    assert proc.returncode == 0, proc.stderr
    assert art.exists()
    res = tmp_path / "r.json"
    proc = run("evaluate", "--data", biased_dir, "--model", str(art), "--n-boot", "50", "--json", str(res))
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(res.read_text())
    assert row["strong"] == "strong" and row["weak"] == "weak"


def test_one_source_is_a_one_line_error(tmp_path):
    data = biased_dataset()
    gold_only = Dataset(data.queries, data.outcomes, None, data.pool, meta={"name": "gold-only"}).save(tmp_path / "g")
    proc = run("inspect-bias", "--data", str(gold_only), "--embedder", "hashing")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and "only one label source" in lines[0], proc.stderr
