"""Saving and loading routers as versioned, pickle-free zip artifacts."""

from ._archive import FORMAT_VERSION, SIGNING_KEY_ENV, load_router, read_manifest, save_router
from ._schema import ArraySpec, StateSchema, check_arrays

__all__ = [
    "FORMAT_VERSION",
    "SIGNING_KEY_ENV",
    "ArraySpec",
    "StateSchema",
    "check_arrays",
    "load_router",
    "read_manifest",
    "save_router",
]
