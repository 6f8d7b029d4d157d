"""TF-IDF over word and character n-grams, reduced by truncated SVD (latent semantic analysis).

Learns from the training queries only, so it needs no weights at all and adapts to
the domain's vocabulary. Its whole state is the term lists (JSON), the idf vector
and the SVD components (arrays), so a saved router rebuilds it without pickle; fit
and encode after :meth:`set_state` run the same code on the same numbers, so their
vectors are identical.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from .._errors import ArtifactError, NotFittedError, RoutecraftError
from ._base import Embedder
from ._ngrams import CHAR_NGRAMS, WORD_NGRAMS

_STATE_VERSION = 1


def _counter(settings: dict[str, Any], terms: list[str]):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(**settings, vocabulary=terms, dtype=np.float32)


def _fit_terms(settings: dict[str, Any], texts: Sequence[str], max_features: int) -> list[str]:
    """The ``max_features`` most frequent n-grams of ``texts`` (sorted), or [] if none."""
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        vec = CountVectorizer(**settings, max_features=max_features, dtype=np.float32).fit(texts)
    except ValueError:  # "empty vocabulary": no text has an n-gram of this kind
        return []
    return [str(t) for t in vec.get_feature_names_out()]


class TfidfEmbedder(Embedder):
    """Latent semantic analysis of the training queries.

    Parameters
    ----------
    dim : int
        Requested dimension. With fewer training texts or terms than that, fit uses
        ``min(dim, n_texts, n_terms - 1)`` and ``dim`` reports the dimension in use.
    max_features : int
        Most frequent word n-grams and, separately, character n-grams kept.
    random_state : int
        Seed of the randomised SVD, so fitting twice gives the same embedder.
    """

    requires_fit = True

    state_schema = {"idf": ("f", ("n_terms",)), "components": ("f", ("dim", "n_terms"))}

    def __init__(self, dim: int = 256, max_features: int = 8192, random_state: int = 0) -> None:
        if dim < 1:
            raise RoutecraftError(f"tfidf dim must be a positive integer, got {dim}")
        self.dim = dim
        self.max_features = max_features
        self.random_state = random_state
        self.name = f"tfidf:{dim}"

    # ----------------------------------------------------------------- fit
    def fit(self, texts: Sequence[str]) -> "TfidfEmbedder":
        from sklearn.decomposition import TruncatedSVD

        texts = [str(t) for t in texts]
        word_terms = _fit_terms(WORD_NGRAMS, texts, self.max_features)
        char_terms = _fit_terms(CHAR_NGRAMS, texts, self.max_features)
        n_terms = len(word_terms) + len(char_terms)
        k = min(self.dim, len(texts), n_terms - 1)
        if k < 1:
            raise RoutecraftError(
                f"tfidf needs at least 2 distinct n-grams in its training texts; got {n_terms} "
                f"from {len(texts)} texts"
            )
        self._set_terms(word_terms, char_terms)
        counts = self._counts(texts)
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        self.idf_ = (np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0).astype(np.float32)
        svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=7, random_state=self.random_state)
        svd.fit(self._weighted(counts))
        self.components_ = np.ascontiguousarray(svd.components_, dtype=np.float32)
        self.dim = k
        return self

    # -------------------------------------------------------------- encode
    def _encode(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise NotFittedError(f"embedder '{self.name}' is not fitted; call fit(texts) first")
        return np.asarray(self._weighted(self._counts(texts)) @ self.components_.T, dtype=np.float32)

    def _set_terms(self, word_terms: list[str], char_terms: list[str]) -> None:
        self.word_terms_, self.char_terms_ = word_terms, char_terms
        self._vectorizers = [_counter(s, t) for s, t in ((WORD_NGRAMS, word_terms), (CHAR_NGRAMS, char_terms)) if t]

    def _counts(self, texts: list[str]) -> sp.csr_matrix:
        return sp.hstack([v.transform(texts) for v in self._vectorizers], format="csr", dtype=np.float32)

    def _weighted(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf × idf, rows L2-normalised (sklearn's TfidfVectorizer, sublinear_tf=True)."""
        x = counts.copy()
        x.data = np.log(x.data, dtype=np.float32) + np.float32(1.0)
        x = x.multiply(self.idf_[None, :]).tocsr().astype(np.float32)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1), dtype=np.float32)).ravel()
        return sp.diags(1.0 / np.where(norms == 0, 1.0, norms)).astype(np.float32) @ x

    # --------------------------------------------------------------- state
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if not hasattr(self, "components_"):
            raise NotFittedError(f"embedder '{self.name}' is not fitted; nothing to save")
        state = {"version": _STATE_VERSION, "dim": self.dim, "word_terms": self.word_terms_, "char_terms": self.char_terms_}
        return state, {"idf": self.idf_, "components": self.components_}

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        try:
            version, dim = state["version"], int(state["dim"])
            word_terms, char_terms = list(state["word_terms"]), list(state["char_terms"])
            idf = np.asarray(arrays["idf"], dtype=np.float32)
            components = np.ascontiguousarray(arrays["components"], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"tfidf embedder state is incomplete or malformed: {exc!r}") from None
        n_terms = len(word_terms) + len(char_terms)
        if version != _STATE_VERSION or idf.shape != (n_terms,) or components.shape != (dim, n_terms):
            raise ArtifactError(
                f"tfidf embedder state does not fit together (version {version}, {n_terms} terms, "
                f"idf {idf.shape}, components {components.shape}, dim {dim})"
            )
        self._set_terms(word_terms, char_terms)
        self.idf_, self.components_, self.dim = idf, components, dim
