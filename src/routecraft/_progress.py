"""Progress bars for steps that can take more than ~2 s (embedding, fitting, bootstrap).

One helper so every command looks the same: a rich bar on stderr when stderr is a
terminal, and nothing at all otherwise (logs, pipes, CI and tests stay clean).
``ROUTECRAFT_PROGRESS=1`` forces bars on, ``0`` forces them off.

    with progress("fitting routers", total=len(specs)) as bar:
        for spec in specs:
            bar.update(description=f"fitting {spec}")
            ...
            bar.advance()
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from rich.console import Console
from rich.errors import LiveError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ENV = "ROUTECRAFT_PROGRESS"


def _forced() -> bool | None:
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def enabled(console: Console | None = None) -> bool:
    """Whether bars are shown: forced by ``ROUTECRAFT_PROGRESS``, else only on a terminal."""
    forced = _forced()
    return forced if forced is not None else (console or Console(stderr=True)).is_terminal


class Bar:
    """A handle on one task of a bar: ``advance``, ``update``; a no-op when bars are off."""

    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, steps: float = 1.0) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def update(self, *, description: str | None = None, completed: float | None = None,
               total: float | None = None) -> None:
        if self._progress is None:
            return
        kwargs = {k: v for k, v in (("description", description), ("completed", completed), ("total", total))
                  if v is not None}
        self._progress.update(self._task, **kwargs)


@contextlib.contextmanager
def progress(description: str, total: float | None = None, *, console: Console | None = None) -> Iterator[Bar]:
    """A transient progress bar on stderr for the duration of the block (quiet off a terminal)."""
    console = console or Console(stderr=True, force_terminal=True if _forced() else None)
    if not enabled(console):
        yield Bar(None, None)
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    bar = Progress(*columns, console=console, transient=True)
    try:
        bar.start()
    except LiveError:  # a caller's spinner already owns this console's live display: stay quiet
        yield Bar(None, None)
        return
    try:
        yield Bar(bar, bar.add_task(description, total=total))
    finally:
        bar.stop()
