"""``routecraft generate`` as a user runs it: a subprocess against the local stub."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd

from routecraft.data import Dataset

from .conftest import truth, write_configs

ENV = {**os.environ, "COLUMNS": "200"}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "routecraft.cli", *args]


def gen_args(tasks, pool, out, *extra):
    return cli("generate", "--tasks", tasks, "--pool", pool, "--out", str(out), "--timeout", "0.25", "--retries", "2", *extra)


def main(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process (the stub is a thread here); (exit status, stdout, stderr)."""
    from routecraft.cli import main as cli_main

    try:
        cli_main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_generate_filter_then_train_cascal(tmp_path, stub, capsys):
    tasks, pool = write_configs(tmp_path, stub.base_url)
    out = tmp_path / "gen"
    code, stdout, stderr = main(
        capsys, *gen_args(tasks, pool, out, "--generator", "gen-good", "--generator", "gen-noisy", "--filter")[3:]
    )
    assert code == 0, stderr
    assert "rejected 4 malformed items" in stdout
    assert "self_answer_accuracy" in stdout
    assert "answers failed after retries" in stderr  # flaky's permanent failures are reported
    data = Dataset.load(out)
    # gen-noisy gives wrong answers to about half its items: the filter drops most of those
    q = data.queries
    right = q["query"].str.split("\n").str[0].map(truth) == q["reference_answer"]
    noisy = q["generator"] == "gen-noisy"
    assert (q["generator"] == "gen-good").sum() >= 9  # a few lose to a wrong pool consensus
    assert 0 < noisy.sum() < 12 and right[noisy].mean() >= 0.8
    art = tmp_path / "c.routecraft"
    code, _, stderr = main(
        capsys, "train", "--data", str(out), "--router", "cascal", "--param", "embedder=hashing", "--all", "--out", str(art)
    )
    assert code == 0, stderr
    assert art.exists()


def test_bad_config_is_one_line_error(tmp_path, stub, capsys):
    tasks, pool = write_configs(tmp_path, stub.base_url)
    code, _, stderr = main(capsys, *gen_args(tasks, pool, tmp_path / "o", "--generator", "nope")[3:])
    assert code == 2 and "'nope'" in stderr and len(stderr.strip().splitlines()) == 1
    (tmp_path / "tasks.toml").write_text('[[tasks]]\nname = "x"\ndescription = "y"\nitems = "many"\n')
    code, _, stderr = main(capsys, *gen_args(tasks, pool, tmp_path / "o", "--generator", "gen-good")[3:])
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1
    assert "tasks.toml" in lines[0] and "tasks entry #1" in lines[0] and "'items'" in lines[0]


def test_sigkilled_run_resumes_without_loss_or_duplicates(tmp_path, stub):
    tasks, pool = write_configs(tmp_path, stub.base_url, items=30)
    stub.state.answer_delay_s = 0.02
    out = tmp_path / "gen"
    cache = out / "requests.sqlite"
    args = gen_args(tasks, pool, out, "--generator", "gen-good", "--concurrency", "1")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    rows = 0
    try:
        for _ in range(3000):  # bounded: at most ~60 s
            if proc.poll() is not None:
                break
            if cache.exists():
                try:
                    with sqlite3.connect(cache, timeout=1) as conn:
                        rows = conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
                except sqlite3.OperationalError:
                    rows = 0
                if rows >= 40:
                    break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (out / "outcomes.parquet").exists()
    stub.state.answer_delay_s = 0.0
    done = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    data = Dataset.load(out)
    assert len(data) == 60 and not data.outcomes.duplicated(["query_id", "model"]).any()
    # every question has an answer from strong and weak; flaky lacks only the ones it always fails
    per_model = data.outcomes.groupby("model").size()
    assert per_model["strong"] == per_model["weak"] == 60
    with sqlite3.connect(cache) as conn:
        n_cached = conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    assert n_cached == 20 + len(data.outcomes)  # 20 question sets + one row per answer, none twice
    assert n_cached > rows  # the rerun added to what the killed run had kept
    ref = pd.Series(data.queries["reference_answer"].to_numpy(), index=data.queries["query_id"])
    assert (data.outcomes["score"] == (data.outcomes["answer"] == data.outcomes["query_id"].map(ref))).all()
