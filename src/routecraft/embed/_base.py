"""The embedder protocol and the registry that builds embedders from short specs.

Routers take an ``embedder`` parameter that is a spec string (``"wordllama"``,
``"tfidf"``, ``"minilm"``, ``"openai:text-embedding-3-small"``) so that router
parameters stay JSON and artifacts can rebuild the embedder without pickling it.
Embedders that learn from data (TF-IDF+SVD) export their state as JSON + arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Sequence

import numpy as np

from .._errors import RoutecraftError

DEFAULT_EMBEDDER = "wordllama"
PROGRESS_CHUNK = 8192  # texts per step of the embedding progress bar (inputs up to this size: one call)


class Embedder(ABC):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension.

    Subclasses set ``name`` (the spec that rebuilds them) and ``dim`` and implement
    :meth:`_encode`. Stateless, pretrained embedders need nothing else; embedders
    that learn override :meth:`fit`, :meth:`get_state` and :meth:`set_state`.
    """

    name: str = "embedder"
    dim: int = 0
    requires_fit: bool = False

    def fit(self, texts: Sequence[str]) -> "Embedder":
        """Learn from ``texts`` (a no-op for pretrained embedders). Returns self."""
        return self

    @abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray:
        """Raw vectors, shape (len(texts), dim); normalisation happens in :meth:`encode`."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array of shape (n, dim), rows L2-normalised."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= PROGRESS_CHUNK:
            vecs = np.asarray(self._encode(texts), dtype=np.float32)
        else:  # large inputs: chunks, so a terminal shows a progress bar (quiet when not a TTY)
            from .._progress import progress

            parts = []
            with progress(f"embedding {len(texts):,} texts ({self.name})", total=len(texts)) as bar:
                for start in range(0, len(texts), PROGRESS_CHUNK):
                    parts.append(np.asarray(self._encode(texts[start : start + PROGRESS_CHUNK]), dtype=np.float32))
                    bar.advance(len(parts[-1]))
            vecs = np.concatenate(parts)
        if vecs.shape != (len(texts), self.dim):
            raise RoutecraftError(
                f"embedder '{self.name}' returned shape {vecs.shape}, expected ({len(texts)}, {self.dim})"
            )
        return normalise_rows(vecs)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON state and arrays needed to rebuild a fitted embedder (empty if pretrained)."""
        return {}, {}

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` exported."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    # np.linalg.norm(x, axis=1) computes exactly this for real rows; its Python wrapper cost more
    # than the arithmetic when a server embeds one query per request
    norms = np.sqrt(np.add.reduce(x * x, axis=1, keepdims=True))
    return x / np.where(norms == 0, 1.0, norms)


_FACTORIES: dict[str, Callable[[str], Embedder]] = {}


def register_embedder(prefix: str, factory: Callable[[str], Embedder]) -> None:
    """Make ``make_embedder("<prefix>[:args]")`` call ``factory(args)``."""
    _FACTORIES[prefix] = factory


def embedder_names() -> list[str]:
    return sorted(_FACTORIES)


def make_embedder(spec: "str | Embedder") -> Embedder:
    """Build an embedder from a spec such as ``"wordllama"`` or ``"tfidf:128"``.

    An :class:`Embedder` instance is returned unchanged.
    """
    if isinstance(spec, Embedder):
        return spec
    if not isinstance(spec, str) or not spec:
        raise RoutecraftError(f"embedder must be a spec string or an Embedder, got {spec!r}")
    from . import _builtin  # noqa: F401  (registers the built-in embedders)

    prefix, _, args = spec.partition(":")
    if prefix not in _FACTORIES:
        raise RoutecraftError(
            f"unknown embedder {spec!r}; known: {', '.join(embedder_names())}"
        )
    return _FACTORIES[prefix](args)
