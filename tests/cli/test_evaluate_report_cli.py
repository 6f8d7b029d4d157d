"""`routecraft evaluate --compare` and `routecraft report` (in-process, through the real entry point)."""

from __future__ import annotations

import json
import re

import pytest

from routecraft.cli import main
from routecraft.data._dataset import Dataset
from routecraft.evaluate import evaluate_routers
from routecraft.routers import OracleRouter, RandomRouter, conformance_dataset


def _cli(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return conformance_dataset().save(tmp_path_factory.mktemp("data") / "conf")


@pytest.fixture(scope="module")
def results():
    out = []
    for name in ("alpha-set", "beta-set"):
        d = conformance_dataset()
        data = Dataset(d.queries, d.outcomes, d.preferences, d.pool, meta={**d.meta, "name": name})
        out += evaluate_routers({"random": RandomRouter().fit(data), "oracle": OracleRouter().fit(data)}, data,
                                reference=data, n_boot=20)
    return out


def _sections(doc: str) -> list[str]:
    return re.findall(r"<section class='dataset' id='[^']*'><h2>([^<]*)</h2>", doc)


def test_evaluate_compare_writes_paired_differences(data_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    code, stdout, stderr = _cli(["evaluate", "--data", str(data_dir), "--router", "random", "--router", "best-single",
                                 "--router", "oracle", "--compare", "oracle:random", "--n-boot", "50",
                                 "--json", str(out), "--report", str(tmp_path / "r.html")], capsys)
    assert code == 0, stderr
    results = {r["router"]: r for r in json.loads(out.read_text())}
    paired = results["oracle"]["paired"]
    assert set(paired) == {"random", "best-single"}  # the requested pair is also the random reference
    assert paired["random"]["apgr"]["diff"] > 0
    own = results["random"]["paired"]["random"]["apgr"]
    assert own["diff"] == 0.0 and own["ci"] == [0.0, 0.0]
    # on 48 test queries some resamples tie strong and weak: undefined there, and counted the same way
    assert own["n_undefined"] == results["random"]["ci_undefined"]["apgr"]
    assert results["oracle"]["pair_chosen_on"] == "train"
    assert "report: " not in stdout and f"wrote report {tmp_path / 'r.html'}" in stdout.replace("\n", "")


def test_evaluate_compare_bad_spec_is_one_line(data_dir, capsys):
    code, _, stderr = _cli(["evaluate", "--data", str(data_dir), "--router", "random", "--compare", "random"], capsys)
    assert code == 2 and "--compare expects A:B" in stderr and len(stderr.strip().splitlines()) == 1
    code, _, stderr = _cli(["evaluate", "--data", str(data_dir), "--router", "random", "--compare", "random:knn",
                            "--n-boot", "10"], capsys)
    assert code == 2 and "'knn', which is not in this run" in stderr


def test_cli_report_from_json_files(results, tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([r for r in results if r["dataset"] == "alpha-set"]))
    b.write_text(json.dumps([r for r in results if r["dataset"] == "beta-set"]))
    out = tmp_path / "report.html"
    code, stdout, stderr = _cli(["report", str(a), str(b), "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "2 datasets" in stdout
    assert _sections(out.read_text()) == ["alpha-set", "beta-set"]


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not a JSON file of evaluation results"),
    ('[{"router": "x"}]', "row 1, field 'dataset'"),
    ("[1, 2]", "row 1"),
])
def test_cli_report_bad_input_is_one_line(tmp_path, capsys, content, expected):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, stderr = _cli(["report", str(bad), "--out", str(tmp_path / "r.html")], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and expected in lines[0]
    assert "Traceback" not in stderr
    assert not (tmp_path / "r.html").exists()
