"""Shared CLI plumbing: one console, one-line errors, ``--param key=value`` parsing, progress."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from rich.console import Console
from rich.markup import escape

from .._errors import RoutecraftError

console = Console()
err_console = Console(stderr=True)


def one_line(exc: BaseException, fallback: str | None = None) -> str:
    """An exception's message on one line (newlines and runs of spaces collapsed)."""
    text = " ".join(str(exc).split())
    return text or (type(exc).__name__ if fallback is None else fallback)


def print_error(message: str) -> None:
    """``error: <message>`` on stderr; the message is escaped, so ``[/x]`` prints as written."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["k=20", "embedder=tfidf"]`` → ``{"k": 20, "embedder": "tfidf"}`` (values JSON-decoded when they parse)."""
    from ..routers._registry import parse_value  # lazily: importing routers costs seconds (sklearn)

    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise RoutecraftError(f"--param expects key=value, got {item!r}")
        params[key] = parse_value(raw)
    return params


def print_notes(data: Any) -> None:
    """Print what loading a dataset dropped or changed (``meta["notes"]``), one ``note:`` line each.

    Adapters count every dropped row and conflicting duplicate there; printing them is
    what keeps a drop from being silent (they are also in ``dataset.json``).
    """
    for note in data.meta.get("notes", []) or []:
        err_console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)


def check_pair(strong: str | None, weak: str | None) -> None:
    """``--strong`` and ``--weak`` must name two different models."""
    if strong is not None and strong == weak:
        raise RoutecraftError(f"--strong and --weak are the same model ({strong!r}); give two different models")


@contextlib.contextmanager
def status(message: str) -> Iterator[Any]:
    """A spinner with elapsed time for steps that may take more than a second."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as progress:
        task = progress.add_task(message, total=None)

        def update(text: str) -> None:
            progress.update(task, description=text)

        yield update
