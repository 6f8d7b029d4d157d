"""Deterministic train/test splits by query id, with leakage detection.

A query never lands in both splits. The split is the dataset's own ``split`` column
when it has one (upstream benchmarks ship fixed splits), else a seeded hash of the
query id, so the same seed gives the same split on any machine and for any subset
of the data. Test queries whose exact text also occurs in train are reported and
dropped from test: they would reward memorisation.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field

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
    notes: tuple[str, ...] = field(default=())  # why a split column was not used, and similar

    def __str__(self) -> str:
        s = f"split ({self.origin}): {self.n_train} train / {self.n_test} test"
        if self.leaked_dropped:
            s += f"; dropped {self.leaked_dropped} test queries whose text also occurs in train"
        for note in self.notes:
            s += f"; {note}"
        return s


def hash_fraction(query_id: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, query_id)."""
    digest = hashlib.sha256(f"{seed}:{query_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def normalise_text(text: str) -> str:
    """Unicode-NFC, whitespace-normalised text, used to find exact duplicates.

    NFC first: "café" typed as e + combining accent (NFD) is the same query as the
    precomposed one, though its bytes (and so its query id) differ.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def _column_split(labels, name: str) -> tuple[np.ndarray, np.ndarray, str | None]:
    """(is_train, is_test, note): the split column's masks, or a note saying why it cannot be used.

    Loud by design: an empty cell or a label that is neither a train nor a test name is
    an error naming its row, since dropping those queries from both sides would lose
    them silently; a column with only train (or only test) labels cannot split, and the
    note says a seeded split was used instead.
    """
    empty = labels.isna().to_numpy() | (labels.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        row = int(np.flatnonzero(empty)[0]) + 1
        raise DataError(
            f"split is empty for {int(empty.sum())} of {len(labels)} queries (first at row {row} of the queries "
            "table); fill it or remove the column to use a seeded split",
            field="split",
        )
    lower = labels.astype(str).str.strip().str.lower()
    is_train = lower.isin(TRAIN_NAMES).to_numpy()
    is_test = lower.isin(TEST_NAMES).to_numpy()
    unknown = ~(is_train | is_test)
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        counts = lower[unknown].value_counts()
        found = ", ".join(f"{label!r} ({n})" for label, n in counts.items())
        raise DataError(
            f"split label {labels.iloc[row]!r} at row {row + 1} of the queries table is neither a train name "
            f"({', '.join(sorted(TRAIN_NAMES))}) nor a test name ({', '.join(sorted(TEST_NAMES))}); "
            f"unknown labels: {found}",
            field="split",
        )
    if not is_train.any() or not is_test.any():
        only = "train" if is_train.any() else "test"
        return is_train, is_test, f"split column of '{name}' has only {only} labels, so a seeded split was used"
    return is_train, is_test, None


def split_dataset(
    data: Dataset, test_size: float = 0.3, seed: int = 0, use_column: bool = True
) -> tuple[Dataset, Dataset, SplitReport]:
    """Split ``data`` into (train, test, report) without sharing any query between them."""
    if not 0.0 < test_size < 1.0:
        raise DataError(f"test_size must be in (0, 1), got {test_size}")
    q = data.queries
    ids = q["query_id"].to_numpy()
    origin = "seeded"
    notes: list[str] = []
    if use_column and "split" in q.columns:
        is_train, is_test, note = _column_split(q["split"], data.name)
        if note is None:
            origin = "column"
        else:
            notes.append(note)
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
    report = SplitReport(len(train), len(test), origin, int(leaked.sum()), tuple(notes))
    return train, test, report
