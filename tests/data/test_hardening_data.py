"""Silent-loss fixes in the data layer: split labels, extras, convert, duplicates, NFC, 1-based rows."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest

from routecraft import DataError
from routecraft.data import Dataset, inspect_dataset, load_dataset, split_dataset
from routecraft.data._tables import query_id_for


def _data(split=None, n=40):
    texts = [f"query number {i} about topic {i % 4}" for i in range(n)]
    q = pd.DataFrame({"query_id": [query_id_for(t) for t in texts], "query": texts})
    if split is not None:
        q["split"] = split
    out = pd.DataFrame(
        [{"query_id": qid, "model": m, "score": float((i + j) % 2)} for i, qid in enumerate(q["query_id"]) for j, m in enumerate("ab")]
    )
    return Dataset(q, out, meta={"name": "d"})


def test_unknown_split_labels_are_an_error_not_a_silent_drop():
    labels = ["train"] * 20 + ["test"] * 10 + ["holdout"] * 10
    with pytest.raises(DataError, match=r"split label 'holdout' at row 31 .* unknown labels: 'holdout' \(10\)"):
        split_dataset(_data(labels))


def test_partly_empty_split_column_is_an_error():
    labels = ["train"] * 20 + ["test"] * 10 + [None] * 10
    with pytest.raises(DataError, match=r"split is empty for 10 of 40 queries \(first at row 31"):
        split_dataset(_data(labels))


def test_one_valued_split_column_says_a_seeded_split_was_used():
    train, test, report = split_dataset(_data(["train"] * 40))
    assert report.origin == "seeded" and len(train) + len(test) == 40
    assert "has only train labels, so a seeded split was used" in str(report)


def test_column_split_keeps_every_query():
    train, test, report = split_dataset(_data(["train"] * 25 + ["validation"] * 15))
    assert (report.origin, len(train), len(test)) == ("column", 25, 15)


def test_nfc_and_nfd_copies_are_duplicates_and_leaks():
    nfc = unicodedata.normalize("NFC", "Describe the café scene in Amélie")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    texts = [nfc, nfd] + [f"other query {i}" for i in range(20)]
    q = pd.DataFrame({"query_id": [query_id_for(t) for t in texts], "query": texts,
                      "split": ["train", "test"] + ["train"] * 10 + ["test"] * 10})
    out = pd.DataFrame([{"query_id": qid, "model": m, "score": 1.0} for qid in q["query_id"] for m in "ab"])
    data = Dataset(q, out, meta={"name": "nfc"})
    assert inspect_dataset(data)["duplicates"]["extra_copies"] == 1
    _, test, report = split_dataset(data)
    assert report.leaked_dropped == 1 and query_id_for(nfd) not in set(test.query_ids)


def test_outcome_log_extra_columns_survive_convert(tmp_path):
    src = tmp_path / "log.csv"
    pd.DataFrame({"query": ["q1", "q1", "q2"], "model": ["a", "b", "a"], "score": [1, 0, 1],
                  "judge_note": ["x", "y", "z"]}).to_csv(src, index=False)
    load_dataset(str(src)).save(tmp_path / "out")
    back = load_dataset(str(tmp_path / "out"))
    assert back.outcomes["judge_note"].tolist() == ["x", "y", "z"]


def test_save_refuses_an_existing_dataset_and_never_deletes_foreign_files(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    (d / "README.txt").write_text("mine")
    data = _data()
    data.save(d)
    with pytest.raises(DataError, match="already holds a dataset"):
        data.save(d)
    Dataset(data.queries, preferences=None, outcomes=data.outcomes.iloc[:0], meta={"name": "x"}).save(d, overwrite=True)
    assert (d / "README.txt").read_text() == "mine"


def test_canonical_rows_are_one_based_and_values_plain(tmp_path):
    data = _data()
    data.save(tmp_path / "ds")
    out = pd.read_parquet(tmp_path / "ds" / "outcomes.parquet")
    out.loc[0, "score"] = 1.5
    out.to_parquet(tmp_path / "ds" / "outcomes.parquet", index=False)
    with pytest.raises(DataError) as info:
        load_dataset(str(tmp_path / "ds"))
    message = str(info.value)
    assert "row 1," in message and "score 1.5 is outside" in message and "np." not in message


@pytest.mark.parametrize("bad", [None, 3, ""])
def test_load_dataset_without_a_path_is_a_data_error(bad):
    with pytest.raises(DataError, match="dataset path"):
        load_dataset(bad)


def test_query_length_cap_names_the_file_row(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTECRAFT_MAX_QUERY_CHARS", "50")
    src = tmp_path / "log.csv"
    pd.DataFrame({"query": ["short", "y" * 51], "model": ["a", "a"], "score": [1, 0]}).to_csv(src, index=False)
    with pytest.raises(DataError, match=r"log.csv, row 2, field 'query': query is 51 characters, over the 50 limit"):
        load_dataset(str(src))
