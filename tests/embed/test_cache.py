from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from routecraft._errors import RoutecraftError
from routecraft.embed import CachedEmbedder, HashingEmbedder, TfidfEmbedder
from routecraft.embed._cache import DB_FILE


def test_hit_equals_miss_and_skips_the_inner_embedder(tmp_path, queries, counting_embedder):
    inner = counting_embedder()
    cached = CachedEmbedder(inner, tmp_path)
    miss = cached.encode(queries)
    assert len(inner.calls) == 1
    hit = cached.encode(queries)
    assert len(inner.calls) == 1
    np.testing.assert_array_equal(hit, miss)
    np.testing.assert_allclose(miss, inner.encode(queries), atol=1e-7)
    assert (tmp_path / DB_FILE).is_file()


def test_only_missing_and_distinct_texts_reach_the_inner_embedder(tmp_path, counting_embedder):
    inner = counting_embedder()
    cached = CachedEmbedder(inner, tmp_path)
    cached.encode(["a", "b"])
    out = cached.encode(["b", "c", "c", "a", "d"])
    assert inner.calls[-1] == ["c", "d"]
    np.testing.assert_array_equal(out[1], out[2])
    assert out.shape == (5, 8)


def test_the_cache_persists_across_instances_and_separates_names(tmp_path, queries, counting_embedder):
    first = CachedEmbedder(counting_embedder(name="m1"), tmp_path).encode(queries)
    again = counting_embedder(name="m1")
    np.testing.assert_array_equal(CachedEmbedder(again, tmp_path).encode(queries), first)
    assert again.calls == []
    other = counting_embedder(name="m2")
    CachedEmbedder(other, tmp_path).encode(queries)
    assert len(other.calls) == 1


def test_rows_of_another_dimension_are_misses(tmp_path, counting_embedder):
    CachedEmbedder(counting_embedder(dim=4), tmp_path).encode(["x"])
    wider = counting_embedder(dim=6)
    assert CachedEmbedder(wider, tmp_path).encode(["x"]).shape == (1, 6)
    assert len(wider.calls) == 1


def test_unknown_dimension_is_learned_from_cached_rows(tmp_path, counting_embedder):
    CachedEmbedder(counting_embedder(dim=5, name="late"), tmp_path).encode(["x", "y"])
    late = counting_embedder(dim=5, name="late")
    late.dim = 0  # like an API embedder before its first response
    cached = CachedEmbedder(late, tmp_path)
    assert cached.encode(["y", "x"]).shape == (2, 5) and cached.dim == 5 and late.calls == []


def test_default_directory_is_under_routecraft_cache_dir(tmp_path, monkeypatch, counting_embedder):
    monkeypatch.setenv("ROUTECRAFT_CACHE_DIR", str(tmp_path))
    CachedEmbedder(counting_embedder()).encode(["x"])
    assert (tmp_path / "embeddings" / DB_FILE).is_file()


def test_empty_input_and_delegated_identity(tmp_path):
    cached = CachedEmbedder(HashingEmbedder(32), tmp_path)
    assert cached.encode([]).shape == (0, 32)
    assert cached.name == "hashing:32" and cached.dim == 32 and cached.get_state() == ({}, {})


def test_fitted_embedders_are_refused(tmp_path):
    with pytest.raises(RoutecraftError, match="cannot be cached"):
        CachedEmbedder(TfidfEmbedder(), tmp_path)


def _write_overlapping_batches(directory: str) -> None:
    emb = CachedEmbedder(HashingEmbedder(16), directory)
    for i in range(20):
        emb.encode([f"text {j}" for j in range(i * 10, i * 10 + 50)])


def test_two_processes_write_the_same_cache(tmp_path):
    """Forked writers (WAL, BEGIN IMMEDIATE) interleave without 'database is locked' errors."""
    CachedEmbedder(HashingEmbedder(16), tmp_path).encode(["opened in the parent before fork"])
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_overlapping_batches, args=(str(tmp_path),)) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    inner = HashingEmbedder(16)
    calls = []
    inner_encode = inner.encode
    inner.encode = lambda texts: calls.append(texts) or inner_encode(texts)  # type: ignore[method-assign]
    texts = [f"text {j}" for j in range(240)]
    np.testing.assert_allclose(CachedEmbedder(inner, tmp_path).encode(texts), inner_encode(texts), atol=1e-6)
    assert calls == []


# ------------------------------------------------------------------ corruption
from routecraft.embed._cache import CacheWarning, _STORES  # noqa: E402


def _fresh(tmp_path, counting_embedder):
    _STORES.clear()  # one store per path per process: start from what is on disk
    return CachedEmbedder(counting_embedder(), tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database" * 100),
        lambda p: p.write_bytes(p.read_bytes()[:1500]),  # truncated mid-page
        lambda p: p.write_bytes(b""),
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_a_damaged_cache_file_is_rebuilt_with_a_warning(tmp_path, queries, counting_embedder, damage):
    import warnings

    expected = _fresh(tmp_path, counting_embedder).encode(queries)
    _STORES.clear()
    damage(tmp_path / DB_FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)  # an empty file is simply a new database: no warning
        out = _fresh(tmp_path, counting_embedder).encode(queries)
    np.testing.assert_allclose(out, expected, atol=1e-7)
    again = _fresh(tmp_path, counting_embedder)
    np.testing.assert_allclose(again.encode(queries), expected, atol=1e-7)
    assert again.inner.calls == []  # the rebuilt cache serves hits


def test_garbage_cache_warns_and_moves_the_file_aside(tmp_path, queries, counting_embedder):
    (tmp_path / DB_FILE).write_bytes(b"garbage" * 1000)
    with pytest.warns(CacheWarning, match="was unusable"):
        _fresh(tmp_path, counting_embedder).encode(queries)
    assert any(p.name.startswith(DB_FILE + ".corrupt-") for p in tmp_path.iterdir())


def test_a_foreign_schema_is_rebuilt(tmp_path, queries, counting_embedder):
    import sqlite3

    conn = sqlite3.connect(tmp_path / DB_FILE)
    conn.execute("CREATE TABLE vectors (a TEXT, b TEXT)")
    conn.commit()
    conn.close()
    with pytest.warns(CacheWarning, match="columns"):
        out = _fresh(tmp_path, counting_embedder).encode(queries)
    assert out.shape == (len(queries), 8)


def test_a_directory_in_place_of_the_cache_disables_it_with_a_warning(tmp_path, queries, counting_embedder):
    (tmp_path / DB_FILE).mkdir()
    cached = _fresh(tmp_path, counting_embedder)
    with pytest.warns(CacheWarning, match="embedding without a cache"):
        cached.encode(queries)
    cached.encode(queries)
    assert len(cached.inner.calls) == 2  # nothing cached, nothing failed
    assert (tmp_path / DB_FILE).is_dir()  # and the directory was left alone


def test_nan_vectors_in_the_cache_are_never_served(tmp_path, counting_embedder):
    import sqlite3

    cached = _fresh(tmp_path, counting_embedder)
    good = cached.encode(["a query"])
    _STORES.clear()
    conn = sqlite3.connect(tmp_path / DB_FILE)
    conn.execute("UPDATE vectors SET vec = ?", (np.full(8, np.nan, dtype="<f4").tobytes(),))
    conn.commit()
    conn.close()
    again = _fresh(tmp_path, counting_embedder)
    out = again.encode(["a query"])
    assert np.isfinite(out).all() and len(again.inner.calls) == 1
    np.testing.assert_allclose(out, good, atol=1e-7)
