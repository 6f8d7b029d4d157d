"""routecraft._progress: bars on a terminal, silence elsewhere, ROUTECRAFT_PROGRESS overrides."""

from __future__ import annotations

import io

from rich.console import Console

from routecraft._progress import enabled, progress


def _run(console: Console) -> str:
    with progress("fitting knn", total=3, console=console) as bar:
        for _ in range(3):
            bar.advance()
        bar.update(description="fitting done")
    return console.file.getvalue()


def test_quiet_when_not_a_terminal(monkeypatch):
    monkeypatch.delenv("ROUTECRAFT_PROGRESS", raising=False)
    console = Console(file=io.StringIO(), force_terminal=False)
    assert not enabled(console)
    assert _run(console) == ""


def test_bar_on_a_terminal(monkeypatch):
    monkeypatch.delenv("ROUTECRAFT_PROGRESS", raising=False)
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    assert enabled(console)
    assert "fitting" in _run(console)


def test_environment_forces_either_way(monkeypatch, capsys):
    monkeypatch.setenv("ROUTECRAFT_PROGRESS", "0")
    assert _run(Console(file=io.StringIO(), force_terminal=True)) == ""
    monkeypatch.setenv("ROUTECRAFT_PROGRESS", "1")
    with progress("embedding 10 texts", total=10) as bar:  # default console: stderr, forced to a terminal
        bar.advance(10)
    assert "embedding 10 texts" in capsys.readouterr().err


def test_nested_in_another_live_display_stays_quiet(monkeypatch):
    monkeypatch.setenv("ROUTECRAFT_PROGRESS", "1")
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with console.status("outer spinner"):
        with progress("inner", total=2, console=console) as bar:  # would raise LiveError if started
            bar.advance(2)
