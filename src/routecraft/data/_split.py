"""Deterministic train/test splits by query id, with leakage detection.

A query never lands in both splits. The split is the dataset's own ``split`` column
when it has one (upstream benchmarks ship fixed splits), else a seeded hash of the
query id, so the same seed gives the same split on any machine and for any subset
of the data. Test queries whose exact text also occurs in train are reported and
dropped from test: they would reward memorisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .._errors import DataError
from ._dataset import Dataset

TRAIN_NAMES = {"train", "training"}
TEST_NAMES = {"test", "eval", "evaluation", "validation", "val", "dev"}


@dataclass(frozen=True)
class SplitReport:
    """What the split did: sizes, where the split came from, and leaked queries dropped from test."""

    n_train: int
    n_test: int
    origin: str  # "column" or "seeded"
    leaked_dropped: int

    def __str__(self) -> str:
        s = f"split ({self.origin}): {self.n_train} train / {self.n_test} test"
        if self.leaked_dropped:
            s += f"; dropped {self.leaked_dropped} test queries whose text also occurs in train"
        return s


def hash_fraction(query_id: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, query_id)."""
    digest = hashlib.sha256(f"{seed}:{query_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def normalise_text(text: str) -> str:
    """Whitespace-normalised text, used to find exact duplicates."""
    return " ".join(text.split())


def split_dataset(
    data: Dataset, test_size: float = 0.3, seed: int = 0, use_column: bool = True
) -> tuple[Dataset, Dataset, SplitReport]:
    """Split ``data`` into (train, test, report) without sharing any query between them."""
    if not 0.0 < test_size < 1.0:
        raise DataError(f"test_size must be in (0, 1), got {test_size}")
    q = data.queries
    ids = q["query_id"].to_numpy()
    origin = "seeded"
    if use_column and "split" in q.columns and q["split"].notna().all():
        labels = q["split"].str.lower()
        is_train = labels.isin(TRAIN_NAMES).to_numpy()
        is_test = labels.isin(TEST_NAMES).to_numpy()
        if is_train.any() and is_test.any():
            origin = "column"
    if origin == "seeded":
        is_test = np.array([hash_fraction(i, seed) < test_size for i in ids])
        is_train = ~is_test
    train_texts = {normalise_text(t) for t in q["query"].to_numpy()[is_train]}
    leaked = is_test & np.array([normalise_text(t) in train_texts for t in q["query"]])
    is_test = is_test & ~leaked
    train = data.subset(ids[is_train])
    test = data.subset(ids[is_test])
    if len(train) == 0 or len(test) == 0:
        raise DataError(
            f"split of dataset '{data.name}' leaves {len(train)} train and {len(test)} test queries; "
            "need at least one of each"
        )
    report = SplitReport(len(train), len(test), origin, int(leaked.sum()))
    return train, test, report
