"""Exceptions with one-line messages that name where the problem is.

Every error a user can cause (bad file, bad row, unknown model, tampered artifact)
is a :class:`RoutecraftError`. The CLI prints ``str(err)`` on one line and exits
non-zero, so messages must be self-contained: file, row and field where known.
"""

from __future__ import annotations


class RoutecraftError(Exception):
    """Base class for every error routecraft raises on purpose."""


class DataError(RoutecraftError, ValueError):
    """Input data is malformed. The message names the file, row and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path, self.row, self.field = path, row, field
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join([', '.join(where)] if where else [])}{': ' if where else ''}{message}")


class NotFittedError(RoutecraftError, AttributeError):
    """A router or embedder was used before ``fit``."""


class UnknownModelError(RoutecraftError, KeyError):
    """A model name is not in the router's pool."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class ArtifactError(RoutecraftError):
    """A router artifact is foreign, tampered with, or from an unsupported version."""


class DependencyError(RoutecraftError, ImportError):
    """An optional dependency (an extra) is missing; the message says which extra to install."""


def require(module: str, extra: str):
    """Import an optional dependency or raise a DependencyError naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise DependencyError(
            f"'{module}' is not installed; install it with: pip install 'routecraft[{extra}]'"
        ) from exc


class ParameterError(RoutecraftError, ValueError):
    """A router or command parameter has a value it cannot take; the message names the parameter."""


def shown(value: object, limit: int = 80) -> str:
    """``repr`` of a value as a user wrote it: numpy scalars as plain numbers, long text cut.

    ``f"{np.float64(1.5)!r}"`` prints ``np.float64(1.5)``; messages should say ``1.5``.
    """
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        value = item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def os_error_message(exc: OSError, path: object, action: str) -> str:
    """``<path>: cannot <action>: <reason>`` for an OS-level failure on a path the user gave."""
    where = exc.filename if getattr(exc, "filename", None) else path
    return f"{where}: cannot {action}: {exc.strerror or exc}"


class user_path:  # noqa: N801 - used like a function: ``with user_path(out, "write"):``
    """Context manager turning OSError (and the ValueError of a NUL in a path) into a RoutecraftError.

    Used only where a path the user typed is opened, so an unwritable ``--out`` is bad
    input (exit 2) while an OSError anywhere else still surfaces as the bug it is.
    """

    def __init__(self, path: object, action: str = "write", error: type = None) -> None:  # type: ignore[assignment]
        self.path, self.action, self.error = path, action, error or RoutecraftError

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, OSError):
            raise self.error(os_error_message(exc, self.path, self.action)) from None
        if isinstance(exc, ValueError) and "null" in str(exc):
            raise self.error(f"{self.path!r}: cannot {self.action}: the path contains a NUL byte") from None
        return False
