"""Run routecraft's batch jobs in-process or on Ray with one switch (DESIGN §9).

Every job is a per-batch function of a pandas frame — embed, route, convert — and
:func:`map_frames` runs it over a table file either in this process (streaming
Parquet row groups, memory bounded by one batch) or as a Ray Data stage
(``engine="ray"``). The maths exists once; the engines only move batches.

    from routecraft.engine import route_file
    route_file("r.routecraft", "queries.parquet", "decisions.parquet", engine="ray")
"""

from ._frames import DEFAULT_BATCH_ROWS, iter_frames
from ._jobs import RouteSummary, decide_frame, embed_file, preferences_file, route_file
from ._map import ENGINES, map_frames

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "ENGINES",
    "RouteSummary",
    "decide_frame",
    "embed_file",
    "iter_frames",
    "map_frames",
    "preferences_file",
    "route_file",
]
