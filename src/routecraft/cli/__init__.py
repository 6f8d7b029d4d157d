"""The ``routecraft`` command line (typer + rich).

Errors a user can cause print one line (``error: ...``) and exit with status 2;
they never show a traceback. Set ``ROUTECRAFT_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

import typer

from .._errors import RoutecraftError
from ._common import err_console, one_line, print_error

def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(usage errors, aborts) of click and of the click copy newer typer versions vendor."""
    usage: list[type] = []
    abort: list[type] = [typer.Abort]
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(module.ClickException)
        if hasattr(module, "Abort"):
            abort.append(module.Abort)
    return tuple(usage), tuple(abort)


_USAGE_ERRORS, _ABORT = _click_exceptions()

app = typer.Typer(
    name="routecraft",
    help="Learn which LLM to send each query to: train, evaluate, calibrate and save routers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from . import _calibrate, _data, _engine, _evaluate, _quickstart  # noqa: E402,F401  (register commands)
from . import _route  # noqa: E402,F401
from . import _generate  # noqa: E402,F401
from . import _report  # noqa: E402,F401
from . import _serve  # noqa: E402,F401
from . import _inspect_bias  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into one-line messages (exit 2).

    Only :class:`RoutecraftError` is a user error: readers and writers turn bad files and
    unusable paths into one where they open them. Anything else escaping a command is a
    bug in routecraft, reported as such (exit 1) so it never passes for bad input.
    """
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code = app(args=argv, standalone_mode=False)
    except SystemExit:
        raise
    except _USAGE_ERRORS as exc:  # bad usage: one line, like every other error
        if type(exc).__name__ == "NoArgsIsHelpError":  # ``routecraft`` alone: typer printed the help
            sys.exit(0)
        hint = f" (see: {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) is not None else ""
        print_error(f"{one_line(exc.format_message(), fallback='')}{hint}")
        sys.exit(exc.exit_code)
    except _ABORT:
        err_console.print("aborted", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        sys.exit(130)
    except RoutecraftError as exc:
        if os.environ.get("ROUTECRAFT_DEBUG"):
            raise
        print_error(one_line(exc))
        sys.exit(2)
    except Exception as exc:  # a bug, not bad input: say so
        if os.environ.get("ROUTECRAFT_DEBUG"):
            raise
        print_error(
            f"internal error ({type(exc).__name__}: {one_line(exc, fallback='')}); this is a bug in routecraft, "
            "please report it with the output of ROUTECRAFT_DEBUG=1"
        )
        sys.exit(1)
    if isinstance(code, int) and code != 0:
        sys.exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings print as one ``warning:`` line, without the source line Python would add."""
    err_console.print(f"warning: {one_line(message)}", highlight=False, markup=False, soft_wrap=True)
