"""``routecraft train``, ``evaluate`` and ``routers``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError
from . import app
from ._common import console, err_console, parse_params, status

DATA_HELP = "Dataset: a canonical directory, an upstream layout or file, or bundled:NAME."


@app.command("routers")
def routers() -> None:
    """List the router names accepted by --router."""
    from ..routers._registry import ROUTERS

    for name, (path, arg) in ROUTERS.items():
        console.print(f"{name + (':' + arg.upper() if arg else ''):<22} {path.partition(':')[2]}")


@app.command("train")
def train(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    router: str = typer.Option(..., "--router", help="Router name (see `routecraft routers`)."),
    out: Path = typer.Option(..., "--out", help="Artifact path to write, e.g. r.routecraft."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="Router parameter key=value (repeatable)."),
    test_size: float = typer.Option(0.3, help="Fraction of queries held out (ignored with --all)."),
    seed: int = typer.Option(0, help="Split seed."),
    all_data: bool = typer.Option(False, "--all", help="Train on every query instead of the train split."),
) -> None:
    """Fit a router on the train split of a dataset and save it as an artifact."""
    from ..data import load_dataset, split_dataset
    from ..routers import make_router

    r = make_router(router, **parse_params(param))
    if r.needs_test_labels:
        raise RoutecraftError(f"router {router!r} reads true scores of the queries it routes and cannot be deployed")
    with status(f"loading {data}"):
        dataset = load_dataset(data)
    train_set = dataset if all_data else split_dataset(dataset, test_size=test_size, seed=seed)[0]
    with status(f"fitting {router} on {len(train_set)} queries"):
        r.fit(train_set)
        metrics = {}
        if train_set.outcomes is not None:
            from ..evaluate import default_pair

            metrics["strong"], metrics["weak"] = default_pair(train_set)
        r.save(str(out), metrics=metrics)
    console.print(f"saved {out} ({type(r).__name__}, {len(r.models_)} models, {len(train_set)} train queries)")


@app.command("evaluate")
def evaluate(
    data: Optional[str] = typer.Option(None, "--data", help=DATA_HELP),
    router: Optional[list[str]] = typer.Option(None, "--router", help="Router name to train and evaluate (repeatable)."),
    model: Optional[list[Path]] = typer.Option(None, "--model", help="Saved router artifact to evaluate (repeatable)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write results as a JSON list here."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Write the plots (PNG) into this directory."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    strong: Optional[str] = typer.Option(None, help="Strong model for APGR/CPT (default: best single)."),
    weak: Optional[str] = typer.Option(None, help="Weak model for APGR/CPT (default: cheapest)."),
    test_size: float = typer.Option(0.3, help="Fraction held out when the data has no split column."),
    seed: int = typer.Option(0, help="Split and bootstrap seed."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples for confidence intervals."),
    log: Optional[Path] = typer.Option(None, "--log", help="Summarise a server routing log (routing.db) instead."),
    bucket: str = typer.Option("hour", "--bucket", help="With --log: time bucket (minute, hour, day)."),
) -> None:
    """Train routers on the train split, evaluate them on the test split, print a table."""
    if log is not None:
        from ..serve._summary import log_command

        return log_command(log, bucket, json_out)
    if data is None:
        raise RoutecraftError("give --data (or --log ROUTING_DB to summarise a server log)")
    from ..artifact import load_router
    from ..data import load_dataset
    from ..evaluate import format_results, train_and_evaluate

    specs: list = list(router or [])
    specs += [load_router(p) for p in model or []]
    if model:
        err_console.print(
            "note: saved routers are evaluated on this run's test split; train them with the same "
            "--seed/--test-size (or on other data) so none of their training queries is tested",
            highlight=False,
        )
    if not specs:
        raise RoutecraftError("give at least one --router NAME or --model ARTIFACT")
    with status(f"loading {data}") as update:
        dataset = load_dataset(data)
        run = train_and_evaluate(
            dataset, specs, seed=seed, test_size=test_size, strong=strong, weak=weak,
            n_boot=n_boot, on_step=update,
        )
    console.print(str(run.split), highlight=False)
    console.print(format_results(run.results))
    write_outputs(run.results, json_out=json_out, plots=plots, report=report)


def write_outputs(results: list[dict], *, json_out: Path | None, plots: Path | None, report: Path | None) -> None:
    """Write JSON, plot and HTML report where asked (shared with ``quickstart``)."""
    from ..evaluate import plot_results, write_report

    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"wrote {json_out}")
    written = []
    if plots or report:
        written = plot_results(results, plots or report.parent)
        console.print(f"wrote {', '.join(map(str, written))}")
    if report:
        write_report(results, written, report)
        console.print(f"wrote {report}")
