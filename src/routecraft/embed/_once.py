"""Process-wide, thread-safe lazy singletons for heavy resources (model weights).

Loading WordLlama or a sentence-transformers model costs 0.1–5 s and tens to
hundreds of MB, so every embedder instance with the same key shares one copy,
and two threads that ask at the same time do not both load it.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Hashable

_LOADED: dict[Hashable, Any] = {}
_LOCKS: dict[Hashable, threading.Lock] = {}
_GUARD = threading.Lock()


def load_once(key: Hashable, load: Callable[[], Any]) -> Any:
    """Return ``load()``'s result, calling it at most once per process for ``key``."""
    try:
        return _LOADED[key]
    except KeyError:
        pass
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key not in _LOADED:
            _LOADED[key] = load()
        return _LOADED[key]
