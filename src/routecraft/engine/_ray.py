"""The Ray path: the same per-batch functions, run by a pool of Ray actors over the same batches.

Ray is an optional extra (``routecraft[dist]``). ``RAY_ADDRESS`` selects a running
cluster; otherwise a local Ray starts with the machine's CPUs. The batch function is
built on each worker from a small picklable *factory* (e.g. an artifact path), so a
router crosses to workers as its artifact file, never as a pickled object.

The driver streams the input (the same reader as the in-process engine) and a pool
of actors, one per CPU, runs the batch function. Why not ``Dataset.map_batches``:
Ray Data cuts batches at block boundaries, and a router's floating-point output can
differ in the last bit between batch shapes, so decisions would be merely close to
the in-process path's instead of identical.
"""

from __future__ import annotations

import os
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pandas as pd

from .._errors import require
from ._frames import iter_frames

FrameFn = Callable[[pd.DataFrame], pd.DataFrame]


@contextmanager
def ray_session() -> Iterator[object]:
    """``ray.init`` for the block (a no-op when Ray is already up); shut down only what we started."""
    ray = require("ray", "dist")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # else Ray writes ~/.ray/auth_token
    started = not ray.is_initialized()
    if started:
        address = os.environ.get("RAY_ADDRESS")
        kwargs = {"address": address} if address else {"num_cpus": os.cpu_count() or 1}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


class _Worker:
    """A Ray actor holding one batch function, built once from its factory."""

    def __init__(self, factory: Callable[[], FrameFn]) -> None:
        self.fn = factory()

    def run(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.fn(frame)


def ray_map(
    factory: Callable[[], FrameFn], path: str | Path, batch_rows: int, columns: Sequence[str] | None
) -> Iterator[pd.DataFrame]:
    """Frames of ``factory()(batch)`` over the file, in input order, computed by a pool of Ray actors.

    Batches are the same as the in-process engine's (exact multiples of ``batch_rows``,
    see :func:`~._frames.iter_frames`), so outputs are identical, not merely close. At
    most two batches per actor are in flight, which bounds the driver's memory.
    """
    with ray_session() as ray:
        workers = max(1, int(ray.available_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1)(_Worker)
        pool = [actor.remote(factory) for _ in range(workers)]
        pending: deque = deque()
        for i, frame in enumerate(iter_frames(path, batch_rows, columns)):
            pending.append(pool[i % workers].run.remote(frame))
            if len(pending) >= 2 * workers:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())
