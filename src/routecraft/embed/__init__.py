"""Text embedders: offline by default, cached on disk (DESIGN §3)."""

from ._base import DEFAULT_EMBEDDER, Embedder, embedder_names, make_embedder, register_embedder
from ._cache import CachedEmbedder
from ._hashing import HashingEmbedder
from ._openai import EmbeddingAPIError, OpenAIEmbedder
from ._sentence import SentenceTransformerEmbedder
from ._tfidf import TfidfEmbedder
from ._wordllama import WordLlamaEmbedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingAPIError",
    "HashingEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "TfidfEmbedder",
    "WordLlamaEmbedder",
    "embedder_names",
    "make_embedder",
    "register_embedder",
]
