"""The CLI error handler: user errors exit 2 on one escaped line; bugs are not passed off as bad input."""

from __future__ import annotations

import contextlib
import io

import pytest

from routecraft import DataError
from routecraft.cli import _evaluate, main


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, err.getvalue()


@pytest.mark.parametrize("exc", [ValueError("x"), KeyError("state"), OSError(22, "Invalid argument")])
def test_an_internal_error_is_reported_as_a_bug(monkeypatch, exc):
    def broken():
        raise exc

    monkeypatch.setattr(_evaluate.console, "print", lambda *a, **k: broken())
    code, err = _run(["routers"])
    assert code == 1
    assert err.startswith("error: internal error (") and "bug in routecraft" in err and "Traceback" not in err


def test_markup_in_a_message_is_printed_verbatim(monkeypatch):
    def fail(*a, **k):
        raise DataError("bad value [/x] in [bold]file[/bold]", path="a[/b].csv")

    monkeypatch.setattr("routecraft.data.load_dataset", fail)
    code, err = _run(["data", "inspect", "whatever"])
    assert code == 2
    assert err.strip() == "error: a[/b].csv: bad value [/x] in [bold]file[/bold]"


def test_usage_errors_are_one_line():
    code, err = _run(["evaluate", "--data", "x", "--router", "random", "--n-boot", "0"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--n-boot" in err
