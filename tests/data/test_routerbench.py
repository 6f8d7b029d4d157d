"""RouterBench exports: RouterDC's folder layout and single tables, with missing cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routecraft import DataError
from routecraft.data import inspect_dataset, load_dataset, split_dataset

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "routerbench_zs"
GPT4, GPT35, MIXTRAL = "gpt-4-1106-preview", "gpt-3.5-turbo-1106", "mistralai/mixtral-8x7b-chat"


def test_folder_loads_with_keys_splits_and_missing_cells():
    d = load_dataset(FIXTURE)
    raw = pd.concat([pd.read_csv(p, index_col=0) for p in sorted(FIXTURE.glob("*.csv"))])
    assert len(d) == len(raw) == 32
    # the key is the unnamed index column, not sample_id (which repeats with different prompts)
    assert d.queries["query_id"].is_unique and raw["sample_id"].duplicated().any()
    assert set(d.queries["query_id"]) == {f"rb:{i}" for i in raw.index}
    # the split comes from the file names
    assert d.queries["split"].value_counts().to_dict() == {"train": 20, "test": 12}
    # empty cells stay missing: 32 x 3 cells, 2 without an outcome, counted by inspect
    assert len(d.outcomes) == 94
    report = inspect_dataset(d)
    assert report["missing_cells"] == 2
    assert report["models"][MIXTRAL]["n_missing"] == 1 and report["models"][GPT35]["n_missing"] == 1
    S = d.score_matrix([GPT4, GPT35, MIXTRAL])
    assert np.isnan(S).sum() == 2
    train, test, rep = split_dataset(d)
    assert rep.origin == "column" and (len(train), len(test)) == (20, 12)


def test_prompts_and_answers_are_unwrapped():
    d = load_dataset(FIXTURE)
    q = d.queries.set_index("query_id")
    assert not q["query"].str.startswith("[").any()
    two_turns = q["turns"].dropna()
    assert len(two_turns) >= 1 and "Explain your answer." in two_turns.iloc[0]
    answers = d.outcomes["answer"].dropna()
    assert not answers.str.startswith("[").any()
    assert d.outcomes["cost_usd"].notna().all()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_single_table_with_split_column_and_empty_cell(tmp_path, suffix):
    frame = pd.concat([pd.read_csv(p, index_col=0) for p in sorted(FIXTURE.glob("gsm8k_*.csv"))])
    frame["split"] = ["train"] * 10 + ["test"] * 6
    p = tmp_path / f"routerbench_0shot.{suffix}"
    frame.to_csv(p) if suffix == "csv" else frame.to_parquet(p)  # the index travels in both
    d = load_dataset(p)
    assert len(d) == 16 and d.queries["query_id"].is_unique
    assert d.queries["split"].tolist() == ["train"] * 10 + ["test"] * 6
    assert inspect_dataset(d)["missing_cells"] == 1


def test_convert_round_trip_keeps_missing_cells(tmp_path):
    d = load_dataset(FIXTURE)
    d.save(tmp_path / "canon")
    back = load_dataset(tmp_path / "canon")
    assert back.fingerprint() == d.fingerprint() and inspect_dataset(back)["missing_cells"] == 2


def test_row_key_repeated_across_files_is_an_error(tmp_path):
    for name in ("a_train.csv", "a_test.csv"):
        (tmp_path / name).write_text((FIXTURE / "gsm8k_train.csv").read_text())
    with pytest.raises(DataError, match="occurs in a_test.csv and a_train.csv"):
        load_dataset(tmp_path)


def test_bad_score_names_file_row_and_model(tmp_path):
    frame = pd.read_csv(FIXTURE / "gsm8k_test.csv", index_col=0)
    frame.iloc[2, frame.columns.get_loc(GPT4)] = 3.0
    frame.to_csv(tmp_path / "gsm8k_test.csv")
    with pytest.raises(DataError) as exc:
        load_dataset(tmp_path)
    msg = str(exc.value)
    assert "gsm8k_test.csv" in msg and "row 3" in msg and GPT4 in msg and "\n" not in msg
