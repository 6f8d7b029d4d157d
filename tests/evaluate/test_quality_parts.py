"""benchmarks/quality.py --merge: a job rerun in a later part replaces the earlier part's copy."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "quality.py"


@pytest.fixture(scope="module")
def quality():
    if not BENCH.is_file():  # pragma: no cover - an installed package without the repository's benchmarks
        pytest.skip("benchmarks/ not present")
    before = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("_quality_bench", BENCH)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)  # puts benchmarks/ on sys.path for its sibling imports
    finally:
        sys.path[:] = before  # so no benchmark script shadows a module for later tests
    return mod


def _part(jobs: dict, timing: list, finished: str | None) -> dict:
    p = {"args": {"jobs": ",".join(jobs)}, "run_seconds": 60.0, "pair_jobs": {}, "multi_jobs": jobs, "ablation": {}, "timing": timing}
    if finished:
        p["finished_utc"] = finished
    return p


def test_a_rerun_job_comes_from_the_part_that_finished_last(quality, tmp_path):
    parts = tmp_path / "quality-parts"
    parts.mkdir()
    # the older part (no timestamp, like parts written before it existed) sorts after the newer by name
    (parts / "z-old.json").write_text(json.dumps(_part({"llmrouter": {"v": "old"}, "routerarena": {"v": "old"}},
                                                       [{"job": "llmrouter", "router": "sw"}, {"job": "routerarena", "router": "sw"}], None)))
    (parts / "a-new.json").write_text(json.dumps(_part({"routerarena": {"v": "new"}}, [{"job": "routerarena", "router": "knn"}],
                                                       "2026-12-02T16:30:00Z")))
    rep = quality.merge_parts(tmp_path)
    assert rep["multi_jobs"] == {"llmrouter": {"v": "old"}, "routerarena": {"v": "new"}}
    assert rep["timing"] == [{"job": "routerarena", "router": "knn"}, {"job": "llmrouter", "router": "sw"}]  # part-file order
    assert [p["superseded"] for p in rep["parts"]] == [[], ["routerarena"]]
