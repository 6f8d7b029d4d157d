"""Every command and the Python API over the bad-input corpus (``make_corpus.py``).

Each case must exit 0 or 2 — never a traceback, never the "internal error" of a bug —
and an error is exactly one ``error:`` line naming what the case lists (file, 1-based
row, field). A case that loads must account for every input row: kept in a table, or
counted in a note the command printed. Commands run in-process (``routecraft.cli.main``
with captured output, a bounded alarm against hangs); a few run as real subprocesses.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from routecraft import RoutecraftError
from routecraft.artifact import load_router
from routecraft.cli import main
from routecraft.data import load_dataset
from routecraft.data._io import read_records

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
CASES = json.loads((HERE / "cases.json").read_text())
CASE_TIMEOUT_S = 120  # a hang guard, not a timing assertion


def _fill(value, tmp):
    if isinstance(value, str):
        return value.replace("{corpus}", str(CORPUS)).replace("{tmp}", str(tmp))
    return value


@contextlib.contextmanager
def _alarm(seconds: int):
    def hang(signum, frame):
        raise TimeoutError(f"case still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def run_api(argv: list) -> tuple[int, str, str, object]:
    fn = {"@load_dataset": load_dataset, "@load_router": load_router}[argv[0]]
    try:
        result = fn(argv[1])
    except RoutecraftError as exc:
        return 2, "", f"error: {exc}\n", None
    return 0, "", "", result


def _records(path: Path) -> pd.DataFrame | None:
    if path.is_file():
        try:
            return read_records(path)
        except RoutecraftError:
            return None
    return None


def assert_rows_accounted(path: Path, data, output: str) -> None:
    """Input rows = rows kept + rows counted as dropped; every input column survives somewhere."""
    records = _records(path)
    if records is None:
        return
    dropped = sum(int(d.get("rows", 0)) for d in data.meta.get("dropped", []) if "model" in d.get("reason", ""))
    if data.outcomes is not None and {"query", "model", "score"} <= set(records.columns):
        assert len(records) == len(data.outcomes) + dropped, (len(records), len(data.outcomes), dropped)
    elif data.preferences is not None:
        assert len(records) == len(data.preferences)
    kept = set(data.queries.columns)
    for table in (data.outcomes, data.preferences):
        if table is not None:
            kept |= set(table.columns)
    noted = " ".join(data.meta.get("notes", []))
    lost = {c for c in records.columns if c not in kept and c != "prompt" and c not in noted}
    assert not {str(c).lstrip("\ufeff") for c in lost} - kept, f"columns dropped silently: {sorted(lost)}"
    for note in data.meta.get("notes", []):
        if output is not None:
            assert note in " ".join(output.split()), f"note not printed: {note}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case, tmp_path, monkeypatch):
    for key, value in case["env"].items():
        monkeypatch.setenv(key, value)
    argv = [_fill(a, tmp_path) for a in case["argv"]]
    if case["check"] == "foreign":
        (tmp_path / "withfile").mkdir()
        (tmp_path / "withfile" / "notes.txt").write_text("mine")
    result = None
    with _alarm(CASE_TIMEOUT_S):
        if isinstance(argv[0], str) and argv[0].startswith("@"):
            code, out, err, result = run_api(argv)
        else:
            code, out, err = run_cli(argv)
    text = out + err
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    if case["expect"] == "error":
        assert code == 2, f"exit {code}, expected 2:\n{text}"
        lines = [line for line in err.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        # one error line; anything else on stderr is a one-line warning printed before the failure
        others = [line for line in lines if not line.startswith("error:")]
        assert len(errors) == 1 and all(line.startswith("warning:") for line in others), (
            f"expected one error line, got:\n{err}"
        )
        for needle in case["needles"]:
            assert needle in errors[0], f"{needle!r} not in: {errors[0]}"
        return
    assert code == 0, f"exit {code}, expected 0:\n{text}"
    if case["check"] == "rows":
        source = Path(argv[2] if argv[0] == "data" else argv[1])
        if result is None:  # convert: read back what was written
            result = load_dataset(str(tmp_path / "out"))
            fresh = load_dataset(str(source))
            result.meta["notes"], result.meta["dropped"] = fresh.meta.get("notes", []), fresh.meta.get("dropped", [])
        assert_rows_accounted(source, result, text if argv[0] == "data" else None)
    if case["check"] == "foreign":
        assert (tmp_path / "withfile" / "notes.txt").read_text() == "mine"
        assert (tmp_path / "withfile" / "queries.parquet").is_file()


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 150
    assert sum(c["expect"] == "error" for c in CASES) >= 150


SUBPROCESS_CASES = ["train:score_text.csv", "calibrate:art_bomb.routecraft", "train-spec:knn:abc",
                    "inspect:markup_in_id.csv", "evaluate:n-boot-0"]


@pytest.mark.parametrize("cid", SUBPROCESS_CASES)
def test_real_entry_point(cid, tmp_path):
    """The installed entry point behaves as main() in-process: exit 2, one line, no traceback."""
    case = next(c for c in CASES if c["id"] == cid)
    argv = [_fill(a, tmp_path) for a in case["argv"]]
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src"), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "routecraft.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=CASE_TIMEOUT_S)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    for needle in case["needles"]:
        assert needle in lines[0]
