"""One ``[[models]]`` schema for --pool, generate and serve: a team writes its pool once."""

from __future__ import annotations

import pytest

from routecraft import DataError
from routecraft._tomlconfig import read_model_entries, read_toml
from routecraft.data._pool import read_pool_file
from routecraft.generate import read_pool
from routecraft.serve import load_config

MODELS = '''
[[models]]
name = "strong"
base_url = "http://127.0.0.1:9/v1/"
model = "org/strong-70b"
price_in_per_mtok = 1.5
price_out_per_mtok = 6
timeout_s = 30
fallback = ["weak"]
logprobs = false

[[models]]
name = "weak"
base_url = "http://127.0.0.1:9/v1"
upstream_model = "org/weak-8b"
price_in_per_mtok = 0.1
'''


def test_one_models_block_reads_the_same_in_all_three_commands(tmp_path):
    p = tmp_path / "pool.toml"
    p.write_text(MODELS)
    table = read_pool_file(p).set_index("model")
    assert table.loc["strong", "upstream_model"] == "org/strong-70b" and table.loc["strong", "price_out_per_mtok"] == 6.0
    assert table.loc["weak", "upstream_model"] == "org/weak-8b"
    (strong, weak), generators = read_pool(p)
    assert (strong.upstream_model, weak.upstream_model, strong.logprobs, weak.logprobs) == (
        "org/strong-70b", "org/weak-8b", False, True)
    assert strong.base_url == "http://127.0.0.1:9/v1" and generators == []
    served = load_config(p).models
    assert served["strong"].upstream_model == "org/strong-70b" and served["weak"].upstream_model == "org/weak-8b"
    assert served["strong"].timeout_s == 30.0 and served["weak"].timeout_s == 60.0  # server default
    assert served["strong"].fallback == ("weak",) and served["weak"].price_out_per_mtok == 0.0


@pytest.mark.parametrize("reader", [read_pool_file, read_pool, load_config])
def test_a_misspelt_key_is_rejected_by_every_reader(tmp_path, reader):
    p = tmp_path / "pool.toml"
    p.write_text(MODELS.replace("price_in_per_mtok = 0.1", "prise_in_per_mtok = 0.1"))
    with pytest.raises(DataError) as info:
        reader(p)
    assert str(info.value) == f"{p}, field 'models[2].prise_in_per_mtok': unknown field"


@pytest.mark.parametrize("text, field, needle", [
    ('[[models]]\nname = "a"\nmodel = "x"\nupstream_model = "y"\n', "models[1].upstream_model", "not both"),
    ('[[models]]\nname = "a"\nbase_url = "localhost:1"\n', "models[1].base_url", "http://"),
    ('[[models]]\nname = "a"\nmax_retries = 11\n', "models[1].max_retries", "≤ 10"),
    ('[[models]]\nname = "a"\nfallback = [1]\n', "models[1].fallback", "list of model names"),
    ('[[models]]\nname = " "\n', "models[1].name", "must not be empty"),
    ('[[models]]\nname = "a"\n[[models]]\nname = "a"\n', "models[2].name", "listed twice"),
])
def test_entry_errors_name_the_entry_and_field(tmp_path, text, field, needle):
    p = tmp_path / "m.toml"
    p.write_text(text)
    with pytest.raises(DataError) as info:
        read_model_entries(read_toml(p), str(p), base_url_required=False)
    assert f"field '{field}'" in str(info.value) and needle in str(info.value)


def test_base_url_is_required_where_a_command_calls_the_model(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('[[models]]\nname = "a"\n')
    assert read_model_entries(read_toml(p), str(p), base_url_required=False)[0].base_url is None
    with pytest.raises(DataError, match=r"models\[1\]\.base_url.*is required"):
        read_pool(p)


def test_missing_and_malformed_files_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_toml(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(DataError, match="not valid TOML"):
        read_toml(bad)
