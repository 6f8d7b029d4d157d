from __future__ import annotations

import io
import json

import numpy as np
import pytest

from routecraft._errors import ArtifactError, NotFittedError, RoutecraftError
from routecraft.embed import TfidfEmbedder, make_embedder


def _through_disk(state, arrays):
    """What an artifact does: JSON for the state, .npy without pickle for the arrays."""
    state = json.loads(json.dumps(state))
    out = {}
    for key, arr in arrays.items():
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        buf.seek(0)
        out[key] = np.load(buf, allow_pickle=False)
    return state, out


def test_encode_before_fit_raises():
    with pytest.raises(NotFittedError, match="not fitted"):
        TfidfEmbedder().encode(["hello"])
    with pytest.raises(NotFittedError):
        TfidfEmbedder().get_state()


def test_fit_encode_shape_norm_and_determinism(queries, assert_unit_rows):
    emb = TfidfEmbedder(dim=8)
    assert emb.requires_fit
    assert emb.fit(queries) is emb
    a = emb.encode(queries)
    assert_unit_rows(a, len(queries), 8)
    np.testing.assert_array_equal(a, TfidfEmbedder(dim=8).fit(queries).encode(queries))
    unseen = emb.encode(["Reverse a doubly linked list in Python", "zzzz qqqq"])
    assert np.isfinite(unseen).all()


def test_dim_shrinks_to_what_the_corpus_supports(queries):
    emb = make_embedder("tfidf").fit(queries)
    assert emb.dim == len(queries)  # 12 texts < 256 requested
    assert emb.encode(queries).shape == (len(queries), emb.dim)
    assert emb.name == "tfidf:256"  # the spec still rebuilds it


def test_state_round_trip_is_exact(queries):
    emb = TfidfEmbedder(dim=6).fit(queries)
    before = emb.encode(queries + ["an unseen query about linked lists"])
    state, arrays = _through_disk(*emb.get_state())
    rebuilt = make_embedder(emb.name)
    rebuilt.set_state(state, arrays)
    assert rebuilt.dim == 6
    np.testing.assert_array_equal(rebuilt.encode(queries + ["an unseen query about linked lists"]), before)
    assert all(a.dtype != object for a in arrays.values())


def test_similar_queries_are_close(queries):
    emb = TfidfEmbedder(dim=10).fit(queries)
    q, near, far = emb.encode(["reverse a linked list in python", queries[0], queries[9]])
    assert q @ near > q @ far


def test_corpus_without_terms_is_rejected():
    with pytest.raises(RoutecraftError, match="at least 2 distinct"):
        TfidfEmbedder().fit(["", " "])


def test_tampered_state_is_rejected(queries):
    state, arrays = TfidfEmbedder(dim=4).fit(queries).get_state()
    with pytest.raises(ArtifactError):
        TfidfEmbedder().set_state({**state, "dim": 5}, arrays)
    with pytest.raises(ArtifactError):
        TfidfEmbedder().set_state(state, {"idf": arrays["idf"]})
