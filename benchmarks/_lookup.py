"""A lookup embedder for benchmarks: texts are embedded once, routers look the vectors up.

Shared by the benchmark scripts so that every router sees the same vectors and no
fit or routing time includes embedding.
"""

from __future__ import annotations

import numpy as np

from routecraft.embed._base import Embedder


class LookupEmbedder(Embedder):
    """Precomputed vectors looked up by text: both libraries see the same embeddings and
    no router's timing includes embedding."""

    name = "lookup"

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.dim = int(vectors.shape[1])
        self.row = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors.astype(np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.vectors[[self.row[t] for t in texts]]
