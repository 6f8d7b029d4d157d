"""WordLlama (l2_supercat, 256-d), the default embedder, built only from files in its wheel.

``WordLlama.load()`` looks for ``wordllama/tokenizer/…`` while the wheel ships
``wordllama/tokenizers/…`` and then tries the Hugging Face hub, which fails offline.
So we build :class:`wordllama.WordLlamaInference` directly from the packaged
safetensors and tokenizer files. The model is Matryoshka-trained: its first 64 or
128 columns are themselves good embeddings, which is what ``wordllama:<dim>`` uses.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .._errors import DependencyError, RoutecraftError
from ._base import Embedder
from ._once import load_once
from ._wordpieces import WordPieceCache

WEIGHTS_FILE = "weights/l2_supercat_256.safetensors"
TOKENIZER_FILE = "tokenizers/l2_supercat_tokenizer_config.json"
FULL_DIM = 256
DIMS = (64, 128, 256)


@contextmanager
def _root_logging_untouched() -> Iterator[None]:
    """Undo ``logging.basicConfig(level=INFO)``, which wordllama runs at import time."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _load_inference() -> Any:
    try:
        with _root_logging_untouched():
            import wordllama
            from safetensors import safe_open
            from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - wordllama is a core dependency
        raise DependencyError(
            "'wordllama' is not installed; install it with: pip install wordllama"
        ) from exc
    pkg = Path(wordllama.__file__).parent
    weights, tokenizer = pkg / WEIGHTS_FILE, pkg / TOKENIZER_FILE
    for path in (weights, tokenizer):
        if not path.is_file():
            raise DependencyError(
                f"the installed wordllama wheel lacks {path}; reinstall wordllama>=0.4"
            )
    with safe_open(str(weights), framework="np", device="cpu") as f:
        matrix = f.get_tensor("embedding.weight")
    return wordllama.WordLlamaInference(matrix, Tokenizer.from_file(str(tokenizer)))


class WordLlamaEmbedder(Embedder):
    """Average of static token vectors from WordLlama l2_supercat.

    Encodes through :class:`~._wordpieces.WordPieceCache` (each distinct word is
    tokenised once per process), which equals ``WordLlamaInference.embed`` to ~1e-7.

    Parameters
    ----------
    dim : 64, 128 or 256
        Matryoshka truncation of the 256-d model.
    """

    def __init__(self, dim: int = FULL_DIM) -> None:
        if dim not in DIMS:
            raise RoutecraftError(
                f"wordllama ships only l2_supercat 256-d; dim must be one of {DIMS}, got {dim}"
            )
        self.dim = dim
        self.name = f"wordllama:{dim}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        pieces = load_once(("wordllama-pieces", FULL_DIM), _load_pieces)
        with _PIECES_LOCK:  # the word table grows as it encodes
            vecs = pieces.mean_pool(texts)
        return vecs[:, : self.dim]


_PIECES_LOCK = threading.Lock()


def _load_pieces() -> WordPieceCache:
    return WordPieceCache(load_once(("wordllama", FULL_DIM), _load_inference))
