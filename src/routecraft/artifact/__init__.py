"""Saving and loading routers as versioned, pickle-free zip artifacts."""

from ._archive import FORMAT_VERSION, load_router, read_manifest, save_router

__all__ = ["FORMAT_VERSION", "load_router", "read_manifest", "save_router"]
