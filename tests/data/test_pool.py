"""pool.toml: reading, precedence over the data's pool and the price table, provenance and warnings."""

from __future__ import annotations

import pandas as pd
import pytest

from routecraft import DataError
from routecraft.data import Dataset
from routecraft.data._pool import apply_pool, read_pool_file


def _data(models=("gpt-4o-mini", "mystery-model", "gpt-4o")) -> Dataset:
    q = pd.DataFrame({"query_id": ["q1", "q2"], "query": ["hello there", "what is 2+2?"]})
    out = pd.DataFrame([{"query_id": qid, "model": m, "score": 1.0} for qid in ("q1", "q2") for m in models])
    return Dataset(q, out, meta={"name": "t"})


def _toml(tmp_path, text: str):
    p = tmp_path / "pool.toml"
    p.write_text(text)
    return p


def test_read_pool_file_fields(tmp_path):
    p = _toml(tmp_path, '''
[[models]]
name = "gpt-4o-mini"
price_in_per_mtok = 0.2
price_out_per_mtok = 0.8
expected_tokens_out = 120
base_url = "http://127.0.0.1:9/v1"
api_key_env = "OPENAI_API_KEY"

[[models]]
name = "mystery-model"
''')
    pool = read_pool_file(p)
    assert pool["model"].tolist() == ["gpt-4o-mini", "mystery-model"]
    assert pool.loc[0, "expected_tokens_out"] == 120 and pool.loc[0, "api_key_env"] == "OPENAI_API_KEY"
    assert pd.isna(pool.loc[1, "price_in_per_mtok"])


@pytest.mark.parametrize("text, needle", [
    ('[[models]]\nname = "a"\nprice_in_per_mtok = -1\n', "field 'models[1].price_in_per_mtok'"),
    ('[[models]]\nname = "a"\n[[models]]\nname = "b"\nprice_out_per_mtok = "cheap"\n', "field 'models[2].price_out_per_mtok'"),
    ('[[models]]\nname = "a"\nprise = 1\n', "field 'models[1].prise': unknown field"),
    ('[[models]]\nname = "a"\n[[models]]\nname = "a"\n', "listed twice"),
    ('models = 3\n', "array of tables ([[models]])"),
    ('x = 1\n', "at least one [[models]]"),
    ('[[models]\nname = "a"\n', "not valid TOML"),
])
def test_bad_pool_files_name_file_entry_and_field(tmp_path, text, needle):
    with pytest.raises(DataError) as exc:
        read_pool_file(_toml(tmp_path, text))
    msg = str(exc.value)
    assert needle in msg and "pool.toml" in msg and "\n" not in msg


def test_pool_file_over_price_table_with_sources_and_unpriced(tmp_path):
    p = _toml(tmp_path, '[[models]]\nname = "gpt-4o"\nprice_in_per_mtok = 1.0\n'
                        '[[models]]\nname = "gpt-4o-mini"\n[[models]]\nname = "mystery-model"\n'
                        '[[models]]\nname = "not-in-data"\n')
    data, report = apply_pool(_data(), read_pool_file(p))
    pool = data.pool.set_index("model")
    # the file's input price wins; its missing output price comes from the price table (RouterArena: $10)
    assert pool.loc["gpt-4o", "price_in_per_mtok"] == 1.0 and pool.loc["gpt-4o", "price_out_per_mtok"] == 10.0
    assert pool.loc["gpt-4o-mini", "price_in_per_mtok"] == 0.15
    assert report.sources["gpt-4o"] == "pool-file:pool.toml"
    assert report.sources["gpt-4o-mini"].startswith("price-table:routerarena")
    assert report.unpriced == ["mystery-model"] and report.not_in_data == ["not-in-data"]
    lines = "\n".join(report.lines())
    assert "no price for mystery-model" in lines and "not-in-data" in lines


def test_pool_file_restricts_models_and_rejects_a_disjoint_pool(tmp_path):
    data, _ = apply_pool(_data(), read_pool_file(_toml(tmp_path, '[[models]]\nname = "gpt-4o"\n')))
    assert data.models == ["gpt-4o"]
    with pytest.raises(DataError, match="no model of the pool file"):
        apply_pool(_data(), read_pool_file(_toml(tmp_path, '[[models]]\nname = "zzz"\n')))


def test_without_pool_file_the_price_table_fills_gaps():
    data, report = apply_pool(_data())
    assert set(data.pool["model"]) == {"gpt-4o-mini", "gpt-4o"} and report.unpriced == ["mystery-model"]


def test_mmlu_pro_models_all_priced_with_a_source():
    from routecraft.data import pool_for

    names = ["Llama-2-7b-hf", "Qwen1.5-110B", "gemini-1.5-pro-002", "jamba-1.5-large", "mathstral-7B"]
    pool = pool_for(names)
    assert pool["model"].tolist() == names
    assert pool["source"].str.startswith("price-table:").all()
    assert pool.set_index("model").loc["Qwen1.5-110B", "source"] == "price-table:param-rule:111B parameters"


def test_a_generation_pool_file_also_prices(tmp_path):
    """routecraft generate's pool.toml (upstream ids, logprobs, [[generators]]) is a valid --pool file."""
    p = _toml(tmp_path, '[[models]]\nname = "small"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "org/small-8b"\n'
                        'logprobs = false\nprice_in_per_mtok = 0.1\nprice_out_per_mtok = 0.2\n'
                        '[[generators]]\nname = "gen"\nbase_url = "http://127.0.0.1:9/v1"\n')
    pool = read_pool_file(p)
    assert pool["model"].tolist() == ["small"]  # the upstream id does not replace routecraft's name
    assert pool.loc[0, "upstream_model"] == "org/small-8b" and pool.loc[0, "price_out_per_mtok"] == 0.2
    with pytest.raises(DataError, match="logprobs.*must be bool"):
        read_pool_file(_toml(tmp_path, '[[models]]\nname = "a"\nlogprobs = "no"\n'))
