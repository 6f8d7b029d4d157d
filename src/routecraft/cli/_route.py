"""``routecraft route``: one decision per query (model, Q̂ row, expected cost) to Parquet or JSONL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError
from . import app
from ._common import console, status
from ._pool import POOL_HELP, format_mix, model_mix, router_length_model, router_pool

FORMATS = (".parquet", ".jsonl")


def decisions_frame(data, models: list[str], q, choice, cost):
    """Rows: query_id, query, model, expected_cost_usd, then one ``q:<model>`` column per pool model."""
    import numpy as np
    import pandas as pd

    rows = np.arange(len(choice))
    frame = pd.DataFrame({
        "query_id": data.queries["query_id"].to_numpy(),
        "query": data.queries["query"].to_numpy(),
        "model": np.asarray(models, dtype=object)[choice],
        "expected_cost_usd": cost[rows, choice] if cost.size else np.full(len(choice), np.nan),
    })
    for j, m in enumerate(models):
        frame[f"q:{m}"] = q[:, j]
    return frame


def write_decisions(frame, out: Path) -> None:
    import numpy as np

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        with open(out, "w", encoding="utf-8") as fh:
            for rec in frame.to_dict("records"):
                fh.write(json.dumps({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()},
                                    ensure_ascii=False) + "\n")


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
    n_boot: int = typer.Option(1000, help="Bootstrap resamples for the calibration interval."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Route every query with a saved router and a policy; write one decision per query."""
    import numpy as np

    from ..artifact import load_router
    from ..data import load_dataset
    from ..policy import calibrate_lam, calibrate_threshold, expected_cost
    from ..policy._cost import cost_decide
    from ..policy._length import query_tasks
    from ._calibrate import resolve_pair

    if out.suffix.lower() not in FORMATS:
        raise RoutecraftError(f"--out must end in {' or '.join(FORMATS)}, got {out.name!r}")
    chosen = [x is not None for x in (budget, lam, strong_fraction, threshold)]
    if sum(chosen) > 1:
        raise RoutecraftError("give at most one of --budget-usd-per-query, --lam, --strong-fraction, --threshold")
    r = load_router(router)
    models = list(r.models_)
    with status(f"routing {queries}"):
        data = load_dataset(queries)
        q = r.predict_quality(data)
        table = router_pool(r, pool)
        cost = expected_cost(data.texts, models, table, router_length_model(r), query_tasks(data))
        note = ""
        if strong_fraction is not None or threshold is not None:
            s, w = resolve_pair(r, strong, weak)
            scores = r.pair_score(data, s, w)
            if strong_fraction is not None:
                cal = calibrate_threshold(scores, strong_fraction, n_boot=n_boot, seed=seed)
                threshold = cal.threshold
                ci = cal.strong_fraction_ci
                note = f"threshold {threshold:.5f} (strong share {cal.strong_fraction:.3f}, 95% CI {ci[0]:.3f}–{ci[1]:.3f})"
            else:
                note = f"threshold {threshold:.5f}"
            choice = np.where(scores >= threshold, r.model_index(s), r.model_index(w))
        else:
            priced = np.isfinite(cost).all(axis=0)
            if (budget is not None or (lam or 0) > 0) and not priced.any():
                raise RoutecraftError("no model of the router's pool has a price: give --pool pool.toml")
            cols = np.flatnonzero(priced) if (budget is not None or (lam or 0) > 0) else np.arange(len(models))
            if budget is not None:
                cal = calibrate_lam(q[:, cols], cost[:, cols], budget, n_boot=n_boot, seed=seed)
                lam = cal.lam
                ci = cal.usd_per_query_ci
                note = (f"lam {lam:.6g}: expected ${cal.usd_per_query:.6g}/query (target ${budget:.6g}; "
                        f"95% CI ${ci[0]:.6g}–${ci[1]:.6g})")
            lam = lam or 0.0
            c = np.nan_to_num(cost[:, cols], nan=0.0) if lam == 0 else cost[:, cols]
            choice = cols[cost_decide(q[:, cols], c, lam)]
            note = note or f"lam {lam:.6g}"
    frame = decisions_frame(data, models, q, choice, cost)
    write_decisions(frame, out)
    spend = frame["expected_cost_usd"]
    spent = f"${spend.mean():.6g}/query expected" if spend.notna().all() else "expected cost unknown for unpriced models"
    console.print(f"wrote {out}: {len(frame)} decisions; {note}; {spent}", highlight=False, soft_wrap=True)
    console.print(f"model mix: {format_mix(model_mix(choice, models))}", highlight=False, soft_wrap=True)
