"""Fixtures for embedder tests: a counting fake embedder and a corpus of short queries."""

from __future__ import annotations

import numpy as np
import pytest

from routecraft.embed import Embedder

QUERIES = [
    "How do I reverse a linked list in Python?",
    "Write a haiku about autumn leaves.",
    "What is the capital of Australia?",
    "Explain the difference between TCP and UDP.",
    "Solve 3x + 7 = 22 for x.",
    "Translate 'good morning' into French.",
    "Summarise the plot of Hamlet in two sentences.",
    "Which sorting algorithm is fastest on nearly sorted data?",
    "How many moons does Jupiter have?",
    "Give me a recipe for a vegan chocolate cake.",
    "Prove that the square root of 2 is irrational.",
    "What causes the seasons on Earth?",
]


class CountingEmbedder(Embedder):
    """Deterministic fake that records every text it is asked to embed."""

    def __init__(self, dim: int = 8, name: str = "counting") -> None:
        self.dim, self.name = dim, name
        self.calls: list[list[str]] = []

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        seeds = [sum(t.encode()) + len(t) for t in texts]
        return np.stack([np.random.default_rng(s).standard_normal(self.dim) for s in seeds])


@pytest.fixture
def queries() -> list[str]:
    return list(QUERIES)


def _assert_unit_rows(vecs: np.ndarray, n: int, dim: int) -> None:
    assert vecs.shape == (n, dim)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


@pytest.fixture
def assert_unit_rows():
    """Checks shape (n, dim), float32 and unit-norm rows."""
    return _assert_unit_rows


@pytest.fixture
def counting_embedder():
    """The CountingEmbedder class (tests build instances with their own dim/name)."""
    return CountingEmbedder
