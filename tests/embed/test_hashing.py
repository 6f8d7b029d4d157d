from __future__ import annotations

import numpy as np

from routecraft.embed import HashingEmbedder


def test_shape_dtype_norm_and_stateless_determinism(queries, assert_unit_rows):
    emb = HashingEmbedder(64)
    assert not emb.requires_fit
    a = emb.encode(queries)
    assert_unit_rows(a, len(queries), 64)
    np.testing.assert_array_equal(a, HashingEmbedder(64).encode(queries))
    np.testing.assert_allclose(emb.encode(queries[::-1])[::-1], a, atol=1e-6)


def test_lexical_overlap_means_similarity():
    a, b, c = HashingEmbedder().encode(
        ["reverse a linked list in python", "python: reverse a linked list", "vegan chocolate cake recipe"]
    )
    assert a @ b > a @ c + 0.3


def test_state_is_empty():
    assert HashingEmbedder().get_state() == ({}, {})
