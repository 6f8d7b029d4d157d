"""``routecraft route``: one decision per query (model, Q̂ row, expected cost) to Parquet or JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError
from . import app
from ._common import console, status
from ._pool import POOL_HELP, format_mix, model_mix, router_length_model, router_pool

FORMATS = (".parquet", ".jsonl")


@app.command("route")
def route(
    router: Path = typer.Option(..., "--router", help="Saved router artifact (.routecraft)."),
    queries: str = typer.Option(..., "--queries", help="Queries to route: any dataset path or bundled:NAME."),
    out: Path = typer.Option(..., "--out", help="decisions.parquet or decisions.jsonl"),
    budget: Optional[float] = typer.Option(
        None, "--budget-usd-per-query", "--budget", help="Calibrate lam on these queries for this mean spend (USD)."),
    lam: Optional[float] = typer.Option(None, "--lam", help="Cost weight: argmax Q̂ − lam·cost (default 0: best Q̂)."),
    strong_fraction: Optional[float] = typer.Option(
        None, "--strong-fraction", help="Two-model threshold policy calibrated to this strong share."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Two-model threshold on P(strong wins)."),
    strong: Optional[str] = typer.Option(None, help="Strong model (threshold policies)."),
    weak: Optional[str] = typer.Option(None, help="Weak model (threshold policies)."),
    pool: Optional[Path] = typer.Option(None, "--pool", help=POOL_HELP),
    n_boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for the calibration interval."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    engine: Optional[str] = typer.Option(
        None, "--engine", help="Stream --queries (a .parquet/.jsonl/.csv file) in batches: 'local' or 'ray'."),
    batch_rows: int = typer.Option(16_384, min=1, help="With --engine: rows per batch."),
    calibrate_rows: int = typer.Option(
        20_000, min=1, help="With --engine: calibrate --budget/--strong-fraction on the file's first N queries."),
) -> None:
    """Route every query with a saved router and a policy; write one decision per query."""
    import itertools

    import numpy as np
    import pandas as pd

    from ..artifact import load_router
    from ..data import load_dataset
    from ..engine import RouteSummary, decide_frame, route_file
    from ..engine._write import write_frames
    from ..policy import calibrate_lam, calibrate_threshold, expected_cost
    from ._calibrate import resolve_pair

    if out.suffix.lower() not in FORMATS:
        raise RoutecraftError(f"--out must end in {' or '.join(FORMATS)}, got {out.name!r}")
    chosen = [x is not None for x in (budget, lam, strong_fraction, threshold)]
    if sum(chosen) > 1:
        raise RoutecraftError("give at most one of --budget-usd-per-query, --lam, --strong-fraction, --threshold")
    r = load_router(router)
    models = list(r.models_)
    table = router_pool(r, pool)
    length = router_length_model(r)
    with status(f"routing {queries}"):
        if engine is None:
            data = load_dataset(queries)
            frame = data.queries
        else:
            from ..engine import iter_frames

            frame = pd.concat(list(itertools.islice(iter_frames(queries, min(batch_rows, calibrate_rows)),
                                                    max(1, -(-calibrate_rows // min(batch_rows, calibrate_rows))))),
                              ignore_index=True).iloc[:calibrate_rows]
        note = ""
        if strong_fraction is not None or threshold is not None:
            strong, weak = resolve_pair(r, strong, weak)
            if strong_fraction is not None:
                scores = r.pair_score(frame, strong, weak)
                cal = calibrate_threshold(scores, strong_fraction, n_boot=n_boot, seed=seed)
                threshold = cal.threshold
                ci = cal.strong_fraction_ci
                note = f"threshold {threshold:.5f} (strong share {cal.strong_fraction:.3f}, 95% CI {ci[0]:.3f}–{ci[1]:.3f})"
            else:
                note = f"threshold {threshold:.5f}"
        elif budget is not None:
            q = r.predict_quality(frame)
            cost = expected_cost(frame["query"].tolist(), models, table, length, (frame["task"].astype(str).tolist() if "task" in frame.columns else None))
            priced = np.flatnonzero(np.isfinite(cost).all(axis=0))
            if not len(priced):
                raise RoutecraftError("no model of the router's pool has a price: give --pool pool.toml")
            cal = calibrate_lam(q[:, priced], cost[:, priced], budget, n_boot=n_boot, seed=seed)
            lam = cal.lam
            ci = cal.usd_per_query_ci
            note = (f"lam {lam:.6g}: expected ${cal.usd_per_query:.6g}/query (target ${budget:.6g}; "
                    f"95% CI ${ci[0]:.6g}–${ci[1]:.6g})")
        if engine is not None and (strong_fraction is not None or budget is not None):
            note += f", calibrated on the first {len(frame)} queries"
        policy = dict(lam=lam or 0.0, threshold=threshold, strong=strong, weak=weak, pool=table, length_model=length)
        note = note or f"lam {lam or 0.0:.6g}"
        if engine is None:
            decisions = decide_frame(r, frame, **policy)
            write_frames([decisions], out)
            summary = RouteSummary()
            summary.add(decisions)
        else:
            summary = route_file(router, queries, out, engine=engine, batch_rows=batch_rows, **policy)
    spent = (f"${summary.expected_usd / max(summary.rows, 1):.6g}/query expected" if not summary.unpriced_rows
             else "expected cost unknown for unpriced models")
    console.print(f"wrote {out}: {summary.rows} decisions; {note}; {spent}", highlight=False, soft_wrap=True)
    names = list(summary.counts or {})
    choice = np.repeat(np.arange(len(names)), [summary.counts[m] for m in names]) if names else np.zeros(0, int)
    console.print(f"model mix: {format_mix(model_mix(choice, names))}", highlight=False, soft_wrap=True)
