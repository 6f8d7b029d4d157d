"""Text embedders: offline by default, cached on disk (DESIGN §3)."""

from ._base import DEFAULT_EMBEDDER, Embedder, embedder_names, make_embedder, register_embedder

__all__ = ["DEFAULT_EMBEDDER", "Embedder", "embedder_names", "make_embedder", "register_embedder"]
