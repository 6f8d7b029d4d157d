from __future__ import annotations

import logging
import socket

import numpy as np
import pytest

from routecraft._errors import RoutecraftError
from routecraft.embed import WordLlamaEmbedder, _once
from routecraft.embed._wordllama import _root_logging_untouched


def test_shape_dtype_norm_and_determinism(queries, assert_unit_rows):
    emb = WordLlamaEmbedder()
    a, b = emb.encode(queries), WordLlamaEmbedder().encode(queries)
    assert_unit_rows(a, len(queries), 256)
    np.testing.assert_array_equal(a, b)
    # batch composition does not change a text's vector beyond float noise
    np.testing.assert_allclose(emb.encode(queries[3:4])[0], a[3], atol=1e-6)


def test_similar_texts_are_closer_than_unrelated_ones():
    a, b, c = WordLlamaEmbedder().encode(
        ["How do I sort a list in Python?", "Sorting a Python list", "Best hiking trails in the Alps"]
    )
    assert a @ b > a @ c + 0.1


def test_matryoshka_truncation_is_a_prefix(queries, assert_unit_rows):
    full = WordLlamaEmbedder().encode(queries)
    small = WordLlamaEmbedder(64).encode(queries)
    assert_unit_rows(small, len(queries), 64)
    prefix = full[:, :64] / np.linalg.norm(full[:, :64], axis=1, keepdims=True)
    np.testing.assert_allclose(small, prefix, atol=1e-5)


def test_unsupported_dim_is_rejected():
    with pytest.raises(RoutecraftError, match="64, 128, 256"):
        WordLlamaEmbedder(512)


def test_empty_text_gives_a_zero_row_not_nan():
    vecs = WordLlamaEmbedder().encode(["", "hello"])
    assert np.all(vecs[0] == 0) and np.isfinite(vecs).all()


def test_loads_from_the_wheel_without_network(monkeypatch, queries, assert_unit_rows):
    """A fresh load (singleton cleared) with every socket connect failing still works."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(_once, "_LOADED", {})
    monkeypatch.setattr(_once, "_LOCKS", {})
    vecs = WordLlamaEmbedder().encode(queries)
    assert_unit_rows(vecs, len(queries), 256)


def test_wordllama_import_side_effects_on_logging_are_undone():
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    with _root_logging_untouched():
        logging.basicConfig(level=logging.DEBUG, force=True)
    assert (root.level, list(root.handlers)) == before


EDGE_TEXTS = [
    "", " leading space", "  two leading", "trailing space ", "two  spaces", "three   in  a row", "<s> special",
    "a <s>b", "x</s>y", "\u3000 ideographic  space",
    "tab\there", "new\nline and more", "émoji 🎉 ok", "What is 2+2?", "What is 2+2?", "ünïcödé wörds",
]


def _reference(texts):
    from routecraft.embed._wordllama import _load_inference

    return _load_inference().embed(texts, norm=False, batch_size=64)


def test_word_cache_equals_wordllamas_own_pooling(queries):
    """The per-word path gives WordLlama's own mean-pooled vectors (not just similar ones)."""
    from routecraft.data import load_dataset
    from routecraft.embed._wordllama import _load_inference
    from routecraft.embed._wordpieces import WordPieceCache

    texts = load_dataset("bundled:routellm-mtbench").queries["query"].tolist() + list(queries) + EDGE_TEXTS
    cache = WordPieceCache(_load_inference())
    cold, warm = cache.mean_pool(texts), cache.mean_pool(texts[::-1])[::-1]
    ref = _reference(texts)
    np.testing.assert_allclose(cold, ref, atol=2e-6)
    # bit-identical whatever order the words entered the table (Ray workers see other orders)
    other = WordPieceCache(_load_inference())
    other.mean_pool(texts[::-1])
    np.testing.assert_array_equal(other.mean_pool(texts), cold)
    np.testing.assert_array_equal(warm, cold)


def test_word_table_restarts_when_full_and_stays_exact(monkeypatch, queries):
    from routecraft.embed import _wordpieces
    from routecraft.embed._wordllama import _load_inference

    monkeypatch.setattr(_wordpieces, "MAX_WORDS", 40)
    cache = _wordpieces.WordPieceCache(_load_inference())
    texts = list(queries) + EDGE_TEXTS
    for _ in range(2):
        np.testing.assert_allclose(cache.mean_pool(texts), _reference(texts), atol=2e-6)
    assert len(cache._index) <= max(40, len({w for t in texts for w in t.split(" ")}))


def test_single_text_path_equals_the_batch_path(queries):
    from routecraft.embed._wordllama import _load_inference
    from routecraft.embed._wordpieces import WordPieceCache

    texts = list(queries) + EDGE_TEXTS
    cache = WordPieceCache(_load_inference())
    batch = cache.mean_pool(texts)
    one = np.vstack([cache.mean_pool([t]) for t in texts])
    np.testing.assert_allclose(one, batch, atol=1e-6)
    np.testing.assert_allclose(one, _reference(texts), atol=2e-6)


def test_large_inputs_embed_in_chunks_with_the_same_vectors(monkeypatch, queries):
    from routecraft.embed import _base

    texts = list(queries) * 7
    whole = WordLlamaEmbedder().encode(texts)
    monkeypatch.setattr(_base, "PROGRESS_CHUNK", 5)  # many chunks, progress bar quiet (not a TTY)
    np.testing.assert_array_equal(WordLlamaEmbedder().encode(texts), whole)


def test_normalise_rows_equals_numpys_norm_bit_for_bit():
    """The hot-path norm (no np.linalg.norm wrapper) is the same arithmetic, zero rows stay zero."""
    from routecraft.embed._base import normalise_rows

    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 256)).astype(np.float32) * rng.uniform(0.01, 100, size=(50, 1)).astype(np.float32)
    x[3] = 0.0
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    expected = x / np.where(norms == 0, 1.0, norms)
    out = normalise_rows(x)
    assert out.dtype == np.float32 and np.array_equal(out, expected)
    assert not out[3].any()
