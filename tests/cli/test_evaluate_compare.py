"""`routecraft evaluate --compare` and its JSON (in-process, through the real entry point)."""

from __future__ import annotations

import json

import pytest

from routecraft.cli import main
from routecraft.routers import conformance_dataset


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
