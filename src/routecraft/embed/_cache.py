"""A disk cache of embeddings keyed by (embedder name, sha256 of text).

Re-running an experiment or re-fitting a router re-embeds the same queries; with
MiniLM or a remote API that is most of the run time. The store is one SQLite
database in WAL mode (several processes may read and write it at once) holding
raw float32 bytes, so nothing is ever unpickled. Embedders whose output depends on
a fit (TF-IDF) are not cached: their name does not identify their output.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

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


def _is_contention(exc: sqlite3.DatabaseError) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class CacheWarning(UserWarning):
    """The embedding cache was unusable (corrupt, foreign, not a file) and was rebuilt or bypassed."""


_COLUMNS = ["embedder", "text_sha256", "dim", "vec"]


class EmbeddingStore:
    """SQLite table of float32 vectors; one connection per process, shared by threads.

    A cache must never be the reason a run fails: a garbage, truncated or foreign file
    at the cache path is moved aside (``<name>.corrupt-<pid>``) and rebuilt with a
    :class:`CacheWarning`; a directory (or anything unopenable) there turns caching off
    for this process, with a warning. Vectors are served only if finite and of the
    stored dimension; anything else is a miss and gets re-embedded.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._inherited: list[sqlite3.Connection] = []
        self.disabled = False

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            columns = [row[1] for row in conn.execute("PRAGMA table_info(vectors)")]
            if columns != _COLUMNS:
                raise sqlite3.DatabaseError(f"table 'vectors' has columns {columns}, expected {_COLUMNS}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> sqlite3.Connection | None:
        if self.disabled:
            return None
        if self._conn is None or self._pid != os.getpid():
            if self._conn is not None:
                # Inherited through fork: SQLite forbids using *or closing* it in the child
                # (closing it drops this process's POSIX locks), so keep it alive and never touch it.
                self._inherited.append(self._conn)
                self._conn = None
            try:
                conn = self._open()
            except (sqlite3.DatabaseError, OSError) as exc:
                conn = self._rebuild(exc)
            if conn is None:
                return None
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _rebuild(self, exc: BaseException) -> sqlite3.Connection | None:
        """Move an unusable cache file aside and start a new one; give up (no caching) if that fails."""
        if self.path.is_file():
            aside = self.path.with_name(f"{self.path.name}.corrupt-{os.getpid()}")
            try:
                os.replace(self.path, aside)
                for suffix in ("-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass  # another process moved it first and may already have rebuilt it
            except OSError:
                return self._disable(exc)
            try:
                conn = self._open()
            except (sqlite3.DatabaseError, OSError) as again:
                return self._disable(again)
            warnings.warn(
                f"embedding cache {self.path} was unusable ({exc}); moved it to {aside.name} and started a new one",
                CacheWarning,
                stacklevel=4,
            )
            return conn
        return self._disable(exc)

    def _disable(self, exc: BaseException) -> None:
        self.disabled = True
        warnings.warn(
            f"embedding cache {self.path} cannot be used ({exc}); embedding without a cache",
            CacheWarning,
            stacklevel=4,
        )
        return None

    def _run(self, action: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``action(conn)``; a cache that turns out corrupt mid-run is rebuilt once, then bypassed."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None
            try:
                return action(conn)
            except sqlite3.DatabaseError as exc:
                failure = exc
            self._conn = None
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            if _is_contention(failure):  # busy past the 60 s timeout: skip the cache this once
                warnings.warn(f"embedding cache {self.path} is busy ({failure}); not cached this time", CacheWarning, stacklevel=3)
                return None
            conn = self._rebuild(failure)
            if conn is None:
                return None
            self._conn, self._pid = conn, os.getpid()
            try:
                return action(conn)
            except sqlite3.DatabaseError as exc:
                self._conn = None
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
                return self._disable(exc)

    def get(self, embedder: str, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        """Vectors found for ``keys``; rows of another dimension than ``dim`` (if > 0) or not finite are misses."""

        def select(conn: sqlite3.Connection) -> dict[bytes, np.ndarray]:
            found: dict[bytes, np.ndarray] = {}
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT text_sha256, dim, vec FROM vectors WHERE embedder = ? AND text_sha256 IN ({marks})",
                    (embedder, *chunk),
                )
                for key, row_dim, blob in rows:
                    if not isinstance(blob, bytes) or not isinstance(row_dim, int) or row_dim <= 0:
                        continue
                    if (dim <= 0 or row_dim == dim) and len(blob) == 4 * row_dim:
                        vec = np.frombuffer(blob, dtype="<f4")
                        if np.isfinite(vec).all():
                            found[key] = vec
            return found

        return self._run(select) or {}

    def put(self, embedder: str, keys: Sequence[bytes], vecs: np.ndarray) -> None:
        vecs = np.ascontiguousarray(vecs, dtype="<f4")
        finite = np.isfinite(vecs).all(axis=1)
        rows = [(embedder, key, vecs.shape[1], vec.tobytes()) for key, vec, ok in zip(keys, vecs, finite) if ok]
        if not rows:
            return

        def insert(conn: sqlite3.Connection) -> None:
            with conn:  # one transaction; BEGIN IMMEDIATE avoids lock upgrades between processes
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)

        self._run(insert)


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
