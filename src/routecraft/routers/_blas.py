"""One BLAS thread for small products.

Below a few queries, a router's products (a query against the training embeddings, a
projection) are memory-bound matrix-vector products: BLAS threads do not speed them up
and, on a busy machine, slow them down several-fold while they wait for a core. Thread
counts do not change these products' results (threads split output rows, not sums).
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import lru_cache
from typing import ContextManager

from threadpoolctl import ThreadpoolController

SINGLE_THREAD_BELOW = 16


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspecting the loaded BLAS libraries costs ~1 ms: once


_NO_CHANGE = nullcontext()
_pinned = False


def blas_threads_for(n_rows: int) -> ContextManager:
    """A context with one BLAS thread when ``n_rows`` is small, else the default."""
    if _pinned or n_rows >= SINGLE_THREAD_BELOW:  # nothing to change (threadpoolctl costs ~35 µs a call)
        return _NO_CHANGE
    return _controller().limit(limits=1, user_api="blas")


def pin_single_thread() -> None:
    """One BLAS thread for the rest of the process.

    For a server: it routes one request or a micro-batch at a time, on cores it shares with
    its own I/O and the upstream calls, so BLAS threads only wait for a core; pinning once
    also saves setting and restoring the limit around every call.
    """
    global _pinned
    _controller().limit(limits=1, user_api="blas")  # never restored: the limit holds for the process
    _pinned = True
