"""Fixtures for the engine tests: a fitted router artifact and query/outcome files."""

from __future__ import annotations

import socket

import pytest


def loopback_only() -> bool:
    """True inside a network namespace whose only interface is loopback (where Ray may run)."""
    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


needs_ray = pytest.mark.skipif(
    not loopback_only(),
    reason="Ray binds the host's address; run inside a loopback-only network namespace (see .ci/run)",
)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory, conformance_data):
    from routecraft.routers import make_router

    path = tmp_path_factory.mktemp("engine") / "knn.routecraft"
    make_router("knn", k=5, embedder="hashing").fit(conformance_data).save(str(path))
    return str(path)


@pytest.fixture(scope="session")
def query_file(tmp_path_factory, conformance_data):
    path = tmp_path_factory.mktemp("engine") / "queries.parquet"
    queries = conformance_data.queries[["query_id", "query"]]
    extra = queries.assign(query=queries["query"] + " (again)", query_id=queries["query_id"] + "-v")
    import pandas as pd

    pd.concat([queries, extra], ignore_index=True).to_parquet(path, index=False, row_group_size=17)
    return str(path)


@pytest.fixture(scope="session")
def outcome_file(tmp_path_factory, conformance_data):
    path = tmp_path_factory.mktemp("engine") / "outcomes.parquet"
    conformance_data.outcomes[["query_id", "model", "score"]].sample(frac=1.0, random_state=0).to_parquet(
        path, index=False, row_group_size=50
    )
    return str(path)
