"""WordLlama (l2_supercat, 256-d), the default embedder, built only from files in its wheel.

``WordLlama.load()`` looks for ``wordllama/tokenizer/…`` while the wheel ships
``wordllama/tokenizers/…`` and then tries the Hugging Face hub, which fails offline.
So we build :class:`wordllama.WordLlamaInference` directly from the packaged
safetensors and tokenizer files. The model is Matryoshka-trained: its first 64 or
128 columns are themselves good embeddings, which is what ``wordllama:<dim>`` uses.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .._errors import DependencyError, RoutecraftError
from ._base import Embedder
from ._once import load_once

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
    """Average of static token vectors from WordLlama l2_supercat: 10k+ short texts/s on CPU.

    Parameters
    ----------
    dim : 64, 128 or 256
        Matryoshka truncation of the 256-d model.
    batch_size : int
        Texts tokenised together; larger batches pad more, smaller ones loop more.
    """

    def __init__(self, dim: int = FULL_DIM, batch_size: int = 64) -> None:
        if dim not in DIMS:
            raise RoutecraftError(
                f"wordllama ships only l2_supercat 256-d; dim must be one of {DIMS}, got {dim}"
            )
        self.dim = dim
        self.batch_size = batch_size
        self.name = f"wordllama:{dim}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = load_once(("wordllama", FULL_DIM), _load_inference)
        if len(texts) == 1:
            return _embed_one(model, texts[0])[:, : self.dim]
        return _embed_unpadded(model, texts, self.batch_size)[:, : self.dim]


def _embed_unpadded(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """``model.embed(texts, norm=False)`` without pooling over padding.

    WordLlama pads each batch to its longest text and pools a (batch, longest, 256) array:
    with prompts of very different lengths most of that work is on padding. Padding comes
    last and is masked to zero, and the pooled sum runs over tokens in order, so pooling
    each text over its own tokens gives the same floats with a fraction of the memory traffic.
    """
    out = np.empty((len(texts), model.embedding.shape[1]), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        encoded = model.tokenizer.encode_batch(texts[start : start + batch_size], add_special_tokens=False)
        for i, enc in enumerate(encoded, start):
            n = int(sum(enc.attention_mask))
            out[i] = _pool(model, enc.ids[:n], enc.attention_mask[:n])[0]
    return out


def _embed_one(model: Any, text: str) -> np.ndarray:
    """``model.embed([text], norm=False)`` with the same arithmetic, minus the batch machinery.

    At batch 1, ``encode_batch`` (a thread-pool round trip in ``tokenizers``) costs more than
    the embedding itself; ``encode`` gives the same ids and mask for a single text (padding
    to the longest of one pads nothing), and the pooling below is WordLlama's ``avg_pool``.
    """
    enc = model.tokenizer.encode(text, add_special_tokens=False)
    return _pool(model, enc.ids, enc.attention_mask)


def _pool(model: Any, ids: list[int], mask: list[int]) -> np.ndarray:
    """WordLlama's lookup and ``avg_pool`` for one text, shape (1, 256)."""
    ids_arr = np.array([ids], dtype=np.int32)
    np.clip(ids_arr, 0, model.embedding.shape[0] - 1, out=ids_arr)
    return model.avg_pool(model.embedding[ids_arr], np.array([mask], dtype=np.float32))
