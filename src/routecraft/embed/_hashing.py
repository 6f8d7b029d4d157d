"""Hashed n-grams projected to a few dimensions by a fixed random matrix: no fit, no weights.

The cheapest embedder that still has lexical similarity: useful in tests, and as
a fallback when no model is installed. Identical texts always map to identical
vectors in every process, because both the hash and the projection are seeded.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._errors import RoutecraftError
from ._base import Embedder
from ._ngrams import CHAR_NGRAMS, WORD_NGRAMS
from ._once import load_once

N_FEATURES = 2**14  # hashed buckets per n-gram kind
SEED = 0  # part of the embedder's definition: changing it changes every vector


def _projection(n_rows: int, dim: int, seed: int) -> np.ndarray:
    """Gaussian random projection (Johnson–Lindenstrauss), the same for every process."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_rows, dim), dtype=np.float32) / np.float32(np.sqrt(dim))


class HashingEmbedder(Embedder):
    """Word 1–2 and char 3–5 grams hashed into 2×2¹⁴ buckets, then projected to ``dim``."""

    def __init__(self, dim: int = 256) -> None:
        if dim < 1:
            raise RoutecraftError(f"hashing dim must be a positive integer, got {dim}")
        self.dim = dim
        self.name = f"hashing:{dim}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        hashed = sp.hstack(
            [
                HashingVectorizer(**settings, n_features=N_FEATURES, alternate_sign=True, dtype=np.float32).transform(texts)
                for settings in (WORD_NGRAMS, CHAR_NGRAMS)
            ],
            format="csr",
        )
        proj = load_once(("hashing", self.dim), lambda: _projection(2 * N_FEATURES, self.dim, SEED))
        return np.asarray(hashed @ proj, dtype=np.float32)
