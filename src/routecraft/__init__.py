"""routecraft: learn which LLM to send each query to.

The public surface is small on purpose; everything else lives in private modules of
the sub-packages ``data``, ``embed``, ``routers``, ``policy``, ``evaluate`` and ``artifact``.
"""

from ._errors import ArtifactError, DataError, NotFittedError, RoutecraftError, UnknownModelError
from ._version import __version__
from .artifact import load_router
from .data import Dataset, split_dataset
from .routers import Router, check_router, make_router

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
