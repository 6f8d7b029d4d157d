"""The Ray engine gives the in-process engine's outputs exactly (Ray local mode, loopback only)."""

from __future__ import annotations

import pandas as pd
import pytest

from routecraft.engine import _jobs, embed_file, preferences_file, route_file

from .conftest import needs_ray

pytestmark = [pytest.mark.ray, needs_ray]


@pytest.fixture(scope="module", autouse=True)
def ray_up():
    """One local Ray for the module (2 CPUs); the engine reuses it instead of starting its own."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _both(job, *args, **kwargs):
    tmp = kwargs.pop("tmp")
    job(*args, tmp / "local.parquet", engine="local", **kwargs)
    job(*args, tmp / "ray.parquet", engine="ray", **kwargs)
    return pd.read_parquet(tmp / "local.parquet"), pd.read_parquet(tmp / "ray.parquet")


def test_route_decisions_are_identical(artifact, query_file, tmp_path):
    from .test_local import POOL

    local, ray = _both(route_file, artifact, query_file, tmp=tmp_path, batch_rows=13, lam=50.0, pool=POOL)
    pd.testing.assert_frame_equal(local, ray)
    assert len(set(local["model"])) > 1


def test_embeddings_are_identical(query_file, tmp_path):
    local, ray = _both(embed_file, query_file, tmp=tmp_path, embedder="wordllama", batch_rows=11)
    assert len(local) == len(ray)
    assert all((a == b).all() for a, b in zip(local["embedding"], ray["embedding"]))


def test_preferences_are_identical(outcome_file, tmp_path, monkeypatch):
    monkeypatch.setattr(_jobs, "BUCKET_BYTES", 512)
    local, ray = _both(preferences_file, outcome_file, tmp=tmp_path, batch_rows=40)
    pd.testing.assert_frame_equal(local, ray)
    assert len(local) > 0
