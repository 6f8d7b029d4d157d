"""MiniLM from its wheel (extra ``ml``); the first test pays the torch import (~5 s)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from routecraft._errors import DataError, DependencyError
from routecraft.embed import SentenceTransformerEmbedder, make_embedder
from routecraft.embed._sentence import minilm_path

pytestmark = pytest.mark.ml


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("all_minilm_l6_v2")
    return SentenceTransformerEmbedder()


def test_minilm_shape_norm_determinism_and_meaning(minilm, queries, assert_unit_rows, capsys):
    a = minilm.encode(queries)
    assert_unit_rows(a, len(queries), 384)
    np.testing.assert_allclose(minilm.encode(queries[::-1])[::-1], a, atol=1e-5)
    q, near, far = minilm.encode(["How can I reverse a linked list in Python?", queries[0], queries[9]])
    assert q @ near > q @ far + 0.3
    assert capsys.readouterr().out == ""  # the wheel's import/extract prints are swallowed


def test_minilm_is_extracted_once_under_the_cache_dir(minilm, tmp_path_factory):
    minilm.encode(["warm"])
    path = minilm_path()
    assert path.is_relative_to(tmp_path_factory.getbasetemp()) and (path / "modules.json").is_file()
    assert minilm_path() == path


def test_any_local_directory_works_via_its_path(minilm, queries):
    expected = minilm.encode(queries[:3])
    emb = make_embedder(f"sentence-transformers:{minilm_path()}")
    assert emb.dim == 0 or emb.dim == 384
    np.testing.assert_allclose(emb.encode(queries[:3]), expected, atol=1e-6)
    assert emb.dim == 384


def test_missing_directory_names_the_path(tmp_path):
    with pytest.raises(DataError, match="no-such-model"):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model")).encode(["x"])


def test_missing_extra_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now raises ImportError
    with pytest.raises(DependencyError, match=r"pip install 'routecraft\[ml\]'"):
        SentenceTransformerEmbedder(str(tmp_path)).encode(["x"])
