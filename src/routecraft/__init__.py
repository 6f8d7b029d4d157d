"""routecraft: learn which LLM to send each query to.

The public surface is small on purpose; everything else lives in private modules of
the sub-packages ``data``, ``embed``, ``routers``, ``policy``, ``evaluate`` and ``artifact``.
Names are imported on first use, so ``import routecraft`` (and ``routecraft --help``)
does not pay for scikit-learn and pandas until something needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import ArtifactError, DataError, NotFittedError, RoutecraftError, UnknownModelError
from ._version import __version__

_LAZY = {
    "Dataset": "routecraft.data",
    "split_dataset": "routecraft.data",
    "Router": "routecraft.routers",
    "check_router": "routecraft.routers",
    "make_router": "routecraft.routers",
    "load_router": "routecraft.artifact",
}

__all__ = [
    "ArtifactError",
    "DataError",
    "Dataset",
    "NotFittedError",
    "Router",
    "RoutecraftError",
    "UnknownModelError",
    "__version__",
    "check_router",
    "load_router",
    "make_router",
    "split_dataset",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'routecraft' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
