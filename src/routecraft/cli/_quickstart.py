"""``routecraft quickstart``: the main job — train → evaluate → report on bundled real data, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .._errors import user_path
from . import app
from ._common import console, status
from ._evaluate import print_warnings, write_outputs

DEFAULT_DATASETS = ("bundled:routellm-gsm8k", "bundled:routellm-mmlu")
DEFAULT_ROUTERS = ("random", "best-single", "oracle", "knn", "logistic", "mlp", "sw", "mf")


@app.command("quickstart")
def quickstart(
    out: Path = typer.Option(Path("routecraft-out"), help="Directory for results.json and report.html."),
    dataset: Optional[list[str]] = typer.Option(None, "--data", help="Datasets (default: RouteLLM GSM8K and MMLU, bundled)."),
    router: Optional[list[str]] = typer.Option(None, "--router", help="Routers (default: baselines, kNN, logistic, MLP, SW, MF)."),
    seed: int = typer.Option(0, help="Split and bootstrap seed."),
    n_boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for confidence intervals."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Also write static PNG plots into this directory."),
) -> None:
    """Train baselines and learned routers on bundled RouteLLM data (GPT-4 vs Mixtral), evaluate with CIs, write a report."""
    from ..data import load_dataset
    from ..evaluate import format_results, train_and_evaluate
    from ..routers._registry import ROUTERS

    routers = list(router or [r for r in DEFAULT_ROUTERS if r in ROUTERS])
    with user_path(out, "create the output directory"):
        out.mkdir(parents=True, exist_ok=True)
    all_results: list[dict] = []
    for name in dataset or DEFAULT_DATASETS:
        with status(f"{name}: loading"):
            data = load_dataset(name)
        run = train_and_evaluate(data, routers, seed=seed, n_boot=n_boot, skip_unavailable=True)
        console.rule(f"{data.name} — {', '.join(data.models)}")
        console.print(str(run.split), highlight=False, markup=False)
        print_warnings(run.results)
        console.print(format_results(run.results))
        for skipped, why in run.skipped.items():
            console.print(f"skipped {skipped}: {why}", highlight=False, markup=False)
        all_results.extend(run.results)
    report = out / "report.html"
    write_outputs(all_results, json_out=out / "results.json", plots=plots, report=report)
    console.print(f"report: {report.resolve()}", highlight=False, soft_wrap=True)
