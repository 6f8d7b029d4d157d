"""One BLAS thread for small products.

Below a few queries, a router's products (a query against the training embeddings, a
projection) are memory-bound matrix-vector products: BLAS threads do not speed them up
and, on a busy machine, slow them down several-fold while they wait for a core. Thread
counts do not change these products' results (threads split output rows, not sums).
"""

from __future__ import annotations

from functools import lru_cache
from typing import ContextManager

from threadpoolctl import ThreadpoolController

SINGLE_THREAD_BELOW = 16


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspecting the loaded BLAS libraries costs ~1 ms: once


def blas_threads_for(n_rows: int) -> ContextManager:
    """A context with one BLAS thread when ``n_rows`` is small, else the default."""
    return _controller().limit(limits=1 if n_rows < SINGLE_THREAD_BELOW else None, user_api="blas")
