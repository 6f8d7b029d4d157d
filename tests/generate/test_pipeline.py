"""The generation pipeline end to end against the local stub (see conftest.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from routecraft.data import Dataset
from routecraft.generate import RequestCache, find_generator, generate, read_pool, read_tasks

from .conftest import Stub, truth, write_configs

FAST = dict(concurrency=8, timeout=0.25, max_retries=2, backoff=0.01)


def _run(tmp_path, stub, generators=("gen-good",), cache_name="requests.sqlite", **kw):
    tasks_path, pool_path = write_configs(tmp_path, stub.base_url)
    tasks = read_tasks(tasks_path)
    pool, gens = read_pool(pool_path)
    chosen = [find_generator(g, pool, gens, pool_path) for g in generators]
    with RequestCache(tmp_path / cache_name) as cache:
        return generate(tasks, chosen, pool, cache=cache, **FAST, **kw)


def test_tables_scores_and_faults(tmp_path, stub):
    data, stats = _run(tmp_path, stub)
    assert len(data) == 12 and stats.items_kept == 12 and stats.rejected == 0
    assert set(data.queries["task"]) == {"chemistry", "law"}
    out = data.outcomes
    assert set(out["source"]) == {"generated"}
    assert not out.duplicated(["query_id", "model"]).any()
    # gen-good's answers are the truth, so score = (answer == truth)
    first_line = data.queries.set_index("query_id")["query"].str.split("\n").str[0]
    true = out["query_id"].map(first_line).map(truth)
    assert (out["score"] == (out["answer"] == true).astype(float)).all()
    # log-probs kept where the endpoint sent them (strong, flaky), absent for weak
    assert out.loc[out["model"] == "strong", "logprob"].notna().all()
    assert out.loc[out["model"] == "weak", "logprob"].isna().all()
    # flaky: timeouts, 500s and truncated JSON are retried; questions it always fails are missing, counted
    n_flaky = int((out["model"] == "flaky").sum())
    assert stats.answer_failures == 12 - n_flaky > 0
    assert stats.failures.get("http_5xx", 0) == stats.answer_failures
    assert stats.answers_done == len(out) == 36 - stats.answer_failures
    assert stats.tokens_in > 0 and stats.tokens_out > 0
    assert (out["cost_usd"] > 0).all()


def test_rejects_malformed_items_and_counts_them(tmp_path, stub):
    data, stats = _run(tmp_path, stub, generators=("gen-noisy", "gen-broken"))
    # gen-noisy: one malformed item per set (2 tasks × 2 sets); gen-broken: 4 sets of prose
    assert stats.items_rejected == {"wrong_option_count": 4, "bad_json": 4}
    assert set(data.queries["generator"]) == {"gen-noisy"}
    assert len(data) == 12


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path, stub):
    full, _ = _run(tmp_path / "a", stub)

    class Killed(Exception):
        pass

    def kill_midway(stats):
        if stats.answers_done >= 10:
            raise Killed

    fresh = Stub()  # its own fault counters, so the killed run meets every fault again
    try:
        with pytest.raises(Killed):
            _run(tmp_path / "b", fresh, on_progress=kill_midway)
        with RequestCache(tmp_path / "b" / "requests.sqlite") as cache:
            done_before = len(cache)
        assert 0 < done_before < 4 + 36  # part of the run finished and was kept
        resumed, stats = _run(tmp_path / "b", fresh)
    finally:
        fresh.close()
    assert stats.cached >= done_before  # nothing finished before the kill was asked again
    cols = ["query_id", "model", "answer", "score"]
    key = ["query_id", "model"]
    pd.testing.assert_frame_equal(
        full.outcomes[cols].sort_values(key).reset_index(drop=True),
        resumed.outcomes[cols].sort_values(key).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(full.queries, resumed.queries)
    with RequestCache(tmp_path / "b" / "requests.sqlite") as cache:
        assert len(cache) == 4 + len(resumed.outcomes)  # one row per finished request, no duplicates


def test_saved_dataset_round_trips(tmp_path, stub):
    data, _ = _run(tmp_path, stub)
    loaded = Dataset.load(data.save(tmp_path / "out"))
    assert loaded.outcomes["logprob"].dtype == float
    assert list(loaded.queries["reference_answer"]) == list(data.queries["reference_answer"])
