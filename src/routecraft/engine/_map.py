"""`map_frames`: one batch function, two engines, the same output in the same order."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Sequence

import pandas as pd

from .._errors import RoutecraftError
from ._frames import DEFAULT_BATCH_ROWS, iter_frames

ENGINES = ("local", "ray")
FrameFn = Callable[[pd.DataFrame], pd.DataFrame]


def map_frames(
    factory: Callable[[], FrameFn],
    path: str | Path,
    *,
    engine: str = "local",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    columns: Sequence[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Apply ``factory()`` to every batch of the table at ``path``; yield result frames in input order.

    ``factory`` is called once per process (once here, once per Ray worker) and must be
    picklable for Ray: a small class holding plain parameters, not a fitted model. Batch
    functions must be row-wise (a row's output may not depend on its batch-mates), which
    is what makes both engines' outputs identical although their batch boundaries differ.
    """
    if engine not in ENGINES:
        raise RoutecraftError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "ray":
        from ._ray import ray_map

        yield from ray_map(factory, path, batch_rows, columns)
        return
    fn = factory()
    for frame in iter_frames(path, batch_rows, columns):
        yield fn(frame)
