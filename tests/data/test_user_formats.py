"""Public/user formats (RouterBench, Arena battles, plain logs) and every bad-input error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from routecraft import DataError
from routecraft.data import load_dataset


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _outcomes(tmp_path: Path, rows: list[dict] | None = None, name: str = "log.jsonl") -> Path:
    rows = rows or [
        {"query": "What is 2+2?", "model": "m1", "score": 1, "cost_usd": 0.001, "task": "math"},
        {"query": "What is 2+2?", "model": "m2", "score": 0.5},
        {"query": "Capital of France?", "model": "m1", "score": 0},
    ]
    return _write_jsonl(tmp_path / name, rows)


def test_plain_outcomes_jsonl_and_csv(tmp_path):
    d = load_dataset(_outcomes(tmp_path))
    assert len(d) == 2 and d.models == ["m1", "m2"]
    csv = tmp_path / "log.csv"
    pd.read_json(_outcomes(tmp_path), lines=True).to_csv(csv, index=False)
    assert load_dataset(csv).fingerprint() == d.fingerprint()


def test_plain_outcomes_duplicates_are_counted(tmp_path):
    rows = [{"query": "q", "model": "m", "score": 1}, {"query": "q", "model": "m", "score": 0}]
    d = load_dataset(_outcomes(tmp_path, rows))
    assert d.meta["dropped"][0]["rows"] == 1 and d.meta["dropped"][0]["conflicting_labels"] == {"m": 1}


def test_plain_preferences_with_pool(tmp_path):
    p = _write_jsonl(tmp_path / "prefs.jsonl", [
        {"query": "hi", "model_a": "x", "model_b": "y", "winner": "a"},
        {"query": "hi", "model_a": "x", "model_b": "y", "winner": "tie"},
    ])
    pool = pd.DataFrame({"model": ["x", "y"], "price_in_per_mtok": [1.0, 2.0], "price_out_per_mtok": [1.0, 2.0]})
    d = load_dataset(p, pool=pool)
    assert len(d) == 1 and list(d.preferences["winner"]) == ["a", "tie"]


def test_arena_battles_json(tmp_path):
    battles = [
        {"model_a": "gpt-4", "model_b": "claude-v1", "winner": "model_b",
         "conversation_a": [{"role": "user", "content": "Tell a joke"}, {"role": "assistant", "content": "..."}]},
        {"model_a": "gpt-4", "model_b": "claude-v1", "winner": "tie (bothbad)",
         "conversation_a": [{"role": "user", "content": "Sum 1..10"}, {"role": "assistant", "content": "55"},
                            {"role": "user", "content": "and 1..100?"}]},
    ]
    p = tmp_path / "battles.json"
    p.write_text(json.dumps(battles))
    d = load_dataset(p)
    assert list(d.preferences["winner"]) == ["b", "tie"] and (d.preferences["source"] == "crowd").all()
    assert d.queries["query"].tolist() == ["Tell a joke", "Sum 1..10"]
    assert len(json.loads(d.queries["turns"].iloc[1])) == 2


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_routerbench_table(tmp_path, suffix):
    frame = pd.DataFrame({
        "sample_id": ["mmlu.0", "gsm8k.1"], "prompt": ["Q1", "['Q2 turn 1', 'turn 2']"], "eval_name": ["mmlu", "gsm8k"],
        "gpt-4-1106-preview": [1.0, 0.0], "gpt-4-1106-preview|total_cost": [0.01, 0.02],
        "mistralai/mixtral-8x7b-chat": [0.0, 1.0], "mistralai/mixtral-8x7b-chat|total_cost": [0.001, 0.002],
        "oracle_model_to_route_to": ["gpt-4-1106-preview", "mistralai/mixtral-8x7b-chat"],
    })
    p = tmp_path / f"rb.{suffix}"
    frame.to_csv(p, index=False) if suffix == "csv" else frame.to_parquet(p)
    d = load_dataset(p)
    assert d.queries["query"].tolist() == ["Q1", "Q2 turn 1"] and d.queries["task"].tolist() == ["mmlu", "gsm8k"]
    assert d.cost_matrix(["gpt-4-1106-preview"])[:, 0].tolist() == [0.01, 0.02]


# ------------------------------------------------------------------ bad inputs: one-line errors
def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_malformed_jsonl(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"query": "a", "model": "m", "score": 1}\n{"query": "b", "model"\n')
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    assert "row 2" in _one_line(exc) and "bad.jsonl" in str(exc.value)


def test_malformed_csv(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text('query,model,score\n"a,m,1\nb,m,0,extra,fields\n')
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    assert "bad.csv" in _one_line(exc)


def test_corrupt_parquet(tmp_path):
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    assert "Parquet" in _one_line(exc)


def test_missing_column(tmp_path):
    p = _write_jsonl(tmp_path / "m.jsonl", [{"query": "a", "model": "m", "score": 1}])
    from routecraft.data.adapters import load_outcomes_file
    p2 = _write_jsonl(tmp_path / "m2.jsonl", [{"query": "a", "model": "m"}])
    assert len(load_outcomes_file(p)) == 1
    with pytest.raises(DataError) as exc:
        load_outcomes_file(p2)
    assert "field 'score'" in _one_line(exc)


def test_nan_score(tmp_path):
    p = tmp_path / "nan.csv"
    p.write_text("query,model,score\na,m,1\nb,m,\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    assert "row 2" in _one_line(exc) and "field 'score'" in str(exc.value)


def test_out_of_range_score(tmp_path):
    p = _outcomes(tmp_path, [{"query": "a", "model": "m", "score": 7}])
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    assert "outside" in _one_line(exc) and "row 1" in str(exc.value)


def test_unknown_model_in_preferences(tmp_path):
    p = _write_jsonl(tmp_path / "p.jsonl", [{"query": "hi", "model_a": "x", "model_b": "zz", "winner": "b"}])
    pool = pd.DataFrame({"model": ["x", "y"], "price_in_per_mtok": [1.0, 1.0], "price_out_per_mtok": [1.0, 1.0]})
    with pytest.raises(DataError) as exc:
        load_dataset(p, pool=pool)
    assert "'zz'" in _one_line(exc) and "field 'model_b'" in str(exc.value)


def test_empty_query(tmp_path):
    p = _outcomes(tmp_path, [{"query": "ok", "model": "m", "score": 1}, {"query": "  ", "model": "m", "score": 1}])
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    assert "row 2" in _one_line(exc) and "field 'query'" in str(exc.value)


def test_unknown_format_lists_what_was_found(tmp_path):
    p = _write_jsonl(tmp_path / "x.jsonl", [{"foo": 1, "bar": 2}])
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    msg = _one_line(exc)
    assert "bar, foo" in msg and "accepted" in msg
