"""The ``routecraft`` command line (typer + rich).

Errors a user can cause print one line (``error: ...``) and exit with status 2;
they never show a traceback. Set ``ROUTECRAFT_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import os
import sys

import typer

from .._errors import RoutecraftError
from ._common import err_console

app = typer.Typer(
    name="routecraft",
    help="Learn which LLM to send each query to: train, evaluate, calibrate and save routers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from . import _calibrate, _data, _evaluate, _quickstart  # noqa: E402,F401  (register commands)
from . import _inspect_bias  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning expected errors into one-line messages."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit:
        raise
    except (RoutecraftError, OSError, ValueError, KeyError) as exc:
        if os.environ.get("ROUTECRAFT_DEBUG"):
            raise
        message = str(exc).strip().replace("\n", " ") or type(exc).__name__
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        sys.exit(2)
