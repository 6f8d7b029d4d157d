"""Shared by every command that reads data: ``--pool``, price provenance, length model, model mix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ._common import console, err_console

# numpy/pandas are imported inside the functions: this module loads with the CLI, and
# `routecraft --help` must stay fast.

POOL_HELP = "pool.toml: models, prices per Mtok, expected output tokens, endpoints (gaps: bundled price table)."


def load_priced(path: str, pool: Path | None, *, quiet: bool = False):
    """Load a dataset and give it a pool (file > data > price table), printing where prices came from.

    The provenance goes to stdout with the command's output: stderr stays for the one-line error.
    """
    from ..data import load_dataset
    from ..data._pool import apply_pool, read_pool_file

    data = load_dataset(path)
    data, report = apply_pool(data, read_pool_file(pool) if pool else None)
    if not quiet:
        for line in report.lines():
            console.print(line, highlight=False, soft_wrap=True)
    return data, report


def router_pool(router, pool: Path | None):
    """Prices for a saved router's models: the pool file over the pool recorded at training over the price table."""
    import pandas as pd

    from ..data._pool import _merge, read_pool_file
    from ..data._prices import pool_for

    models = list(router.models_)
    recorded = getattr(router, "artifact_manifest_", {}).get("metrics", {}).get("pool")
    table = pd.DataFrame(recorded) if recorded else None
    if pool is not None:
        table = _merge(read_pool_file(pool), table, models)
    gaps = [m for m in models if table is None or m not in set(table.dropna(subset=["price_in_per_mtok"])["model"])]
    fill = pool_for(gaps)
    if fill is not None:
        table = fill if table is None else _merge(table, fill, models)
    if table is None:
        err_console.print(f"warning: no price for {', '.join(models)} (add them to a --pool file)", highlight=False)
        return None
    table = table[table["model"].isin(models)].dropna(subset=["price_in_per_mtok", "price_out_per_mtok"])
    unpriced = [m for m in models if m not in set(table["model"])]
    if unpriced:
        err_console.print(f"warning: no price for {', '.join(unpriced)} (add them to a --pool file)", highlight=False)
    return table.reset_index(drop=True)


def router_length_model(router):
    """The output-length model recorded in a saved router's metrics (None for older artifacts)."""
    from ..policy import OutputLengthModel

    recorded = getattr(router, "artifact_manifest_", {}).get("metrics", {}).get("output_length")
    return OutputLengthModel.from_dict(recorded) if recorded else None


def training_metrics(train) -> dict[str, Any]:
    """What ``train`` records beside the router: the pool it was priced with and the output-length model."""
    import numpy as np

    from ..policy import OutputLengthModel

    metrics: dict[str, Any] = {"output_length": OutputLengthModel().fit(train).to_dict()}
    if train.pool is not None:
        metrics["pool"] = [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in train.pool.to_dict("records")
        ]
    return metrics


def model_mix(choice, names: Sequence[str]) -> dict[str, float]:
    """Share of queries sent to each model (models never chosen are left out), largest first."""
    import numpy as np

    counts = np.bincount(np.asarray(choice, dtype=int), minlength=len(names)) / max(1, len(choice))
    order = np.argsort(-counts, kind="stable")
    return {names[j]: float(counts[j]) for j in order if counts[j] > 0}


def format_mix(mix: dict[str, float], limit: int = 5) -> str:
    items = list(mix.items())
    text = ", ".join(f"{m} {f:.0%}" for m, f in items[:limit])
    if len(items) > limit:
        text += f", {len(items) - limit} more {sum(f for _, f in items[limit:]):.0%}"
    return text
