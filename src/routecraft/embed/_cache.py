"""A disk cache of embeddings keyed by (embedder name, sha256 of text).

Re-running an experiment or re-fitting a router re-embeds the same queries; with
MiniLM or a remote API that is most of the run time. The store is one SQLite
database in WAL mode (several processes may read and write it at once) holding
raw float32 bytes, so nothing is ever unpickled. Embedders whose output depends on
a fit (TF-IDF) are not cached: their name does not identify their output.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._errors import RoutecraftError
from ._base import Embedder

DB_FILE = "embeddings.sqlite3"
_CHUNK = 500  # host parameters per SELECT, well under SQLite's limit
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL,
    text_sha256 BLOB NOT NULL,
    dim INTEGER NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (embedder, text_sha256)
) WITHOUT ROWID
"""


def cache_root() -> Path:
    """``$ROUTECRAFT_CACHE_DIR``, else ``~/.cache/routecraft``."""
    env = os.environ.get("ROUTECRAFT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "routecraft"


def cache_disabled() -> bool:
    """True when ``ROUTECRAFT_NO_CACHE`` is set to a true-ish value."""
    return os.environ.get("ROUTECRAFT_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no")


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingStore:
    """SQLite table of float32 vectors; one connection per process, shared by threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._inherited: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            if self._conn is not None:
                # Inherited through fork: SQLite forbids using *or closing* it in the child
                # (closing it drops this process's POSIX locks), so keep it alive and never touch it.
                self._inherited.append(self._conn)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get(self, embedder: str, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        """Vectors found for ``keys``; rows of another dimension than ``dim`` (if > 0) are ignored."""
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            conn = self._connection()
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT text_sha256, dim, vec FROM vectors WHERE embedder = ? AND text_sha256 IN ({marks})",
                    (embedder, *chunk),
                )
                for key, row_dim, blob in rows:
                    if (dim <= 0 or row_dim == dim) and len(blob) == 4 * row_dim:
                        found[key] = np.frombuffer(blob, dtype="<f4")
        return found

    def put(self, embedder: str, keys: Sequence[bytes], vecs: np.ndarray) -> None:
        vecs = np.ascontiguousarray(vecs, dtype="<f4")
        rows = [(embedder, key, vecs.shape[1], vec.tobytes()) for key, vec in zip(keys, vecs)]
        with self._lock:
            conn = self._connection()
            with conn:  # one transaction; BEGIN IMMEDIATE avoids lock upgrades between processes
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)


_STORES: dict[Path, EmbeddingStore] = {}
_STORES_GUARD = threading.Lock()


def _store_for(directory: Path) -> EmbeddingStore:
    path = (directory / DB_FILE).resolve()
    with _STORES_GUARD:
        return _STORES.setdefault(path, EmbeddingStore(path))


class CachedEmbedder(Embedder):
    """Wraps a pretrained or stateless embedder so each distinct text is embedded once, ever.

    Hits return exactly the bytes a miss stored. ``name``, ``dim`` and state are the
    inner embedder's, so artifacts record the inner spec and rebuild it unchanged.

    Parameters
    ----------
    inner : Embedder
        Must not learn from data (``requires_fit`` False).
    directory : str or Path, optional
        Where the SQLite file lives; defaults to ``cache_root() / "embeddings"``,
        read when the embedder is created.
    """

    def __init__(self, inner: Embedder, directory: str | Path | None = None) -> None:
        if inner.requires_fit:
            raise RoutecraftError(
                f"embedder '{inner.name}' learns from data, so its name does not identify its "
                "vectors; it cannot be cached"
            )
        self.inner = inner
        self.directory = directory
        self._store = _store_for(Path(directory) if directory is not None else cache_root() / "embeddings")
        self._seen_dim = 0

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.inner.dim or self._seen_dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        found = self._store.get(self.name, list(dict.fromkeys(keys)), self.inner.dim)
        if len({v.shape[0] for v in found.values()}) > 1:  # dim unknown and the rows disagree
            found = {}
        missing = {k: t for k, t in zip(keys, texts) if k not in found}
        if missing:
            vecs = self.inner.encode(list(missing.values()))
            self._store.put(self.name, list(missing), vecs)
            found.update(zip(missing, vecs))
        out = np.stack([found[k] for k in keys])
        self._seen_dim = out.shape[1]
        return out

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return self.inner.get_state()

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.inner.set_state(state, arrays)

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, directory={str(self._store.path.parent)!r})"


def with_cache(embedder: Embedder) -> Embedder:
    """``embedder`` behind the default disk cache, unless ``ROUTECRAFT_NO_CACHE`` is set."""
    return embedder if cache_disabled() else CachedEmbedder(embedder)
