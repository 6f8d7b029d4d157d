"""Shared CLI plumbing: one console, one-line errors, ``--param key=value`` parsing, progress."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

from rich.console import Console

from .._errors import RoutecraftError

console = Console()
err_console = Console(stderr=True)


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["k=20", "embedder=tfidf"]`` → ``{"k": 20, "embedder": "tfidf"}`` (values JSON-decoded when they parse)."""
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise RoutecraftError(f"--param expects key=value, got {item!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


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
