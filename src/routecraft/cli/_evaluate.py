"""``routecraft train``, ``evaluate`` and ``routers``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError, user_path
from . import app
from ._common import check_pair, console, err_console, parse_params, print_notes, status
from ._pool import POOL_HELP, load_priced, training_metrics

DATA_HELP = "Dataset: a canonical directory, an upstream layout or file, or bundled:NAME."


@app.command("routers")
def routers() -> None:
    """List the router names accepted by --router."""
    from ..routers._registry import ROUTERS

    for name, (path, arg) in ROUTERS.items():
        console.print(f"{name + (':' + arg.upper() if arg else ''):<22} {path.partition(':')[2]}", markup=False)


@app.command("train")
def train(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    router: str = typer.Option(..., "--router", help="Router name (see `routecraft routers`)."),
    out: Path = typer.Option(..., "--out", help="Artifact path to write, e.g. r.routecraft."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="Router parameter key=value (repeatable)."),
    test_size: float = typer.Option(0.3, help="Fraction of queries held out (ignored with --all)."),
    seed: int = typer.Option(0, help="Split seed."),
    all_data: bool = typer.Option(False, "--all", help="Train on every query instead of the train split."),
    pool: Optional[Path] = typer.Option(None, "--pool", help=POOL_HELP),
) -> None:
    """Fit a router on the train split of a dataset and save it as an artifact."""
    from ..data import split_dataset
    from ..routers import make_router

    r = make_router(router, **parse_params(param))
    if r.needs_test_labels:
        raise RoutecraftError(f"router {router!r} reads true scores of the queries it routes and cannot be deployed")
    with status(f"loading {data}"):
        dataset, _ = load_priced(data, pool)
    print_notes(dataset)
    split = None
    if all_data:
        train_set = dataset
    else:
        train_set, _, split = split_dataset(dataset, test_size=test_size, seed=seed)
    with status(f"fitting {router} on {len(train_set)} queries"):
        r.fit(train_set)
        metrics = training_metrics(train_set)
        if train_set.outcomes is not None:
            from ..evaluate import default_pair

            metrics["strong"], metrics["weak"] = default_pair(train_set)
        r.save(str(out), metrics=metrics)
    console.print(f"saved {out} ({type(r).__name__}, {len(r.models_)} models, {len(train_set)} train queries)", markup=False)
    if split is not None:
        console.print(str(split), highlight=False, markup=False)


@app.command("evaluate")
def evaluate(
    data: Optional[str] = typer.Option(None, "--data", help=DATA_HELP),
    router: Optional[list[str]] = typer.Option(None, "--router", help="Router name to train and evaluate (repeatable)."),
    model: Optional[list[Path]] = typer.Option(None, "--model", help="Saved router artifact to evaluate (repeatable)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write results as a JSON list here."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Write the plots (PNG) into this directory."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    strong: Optional[str] = typer.Option(None, help="Strong model for APGR/CPT (default: best single on the train split)."),
    weak: Optional[str] = typer.Option(None, help="Weak model for APGR/CPT (default: cheapest on the train split; unpriced: lowest train mean)."),
    test_size: float = typer.Option(0.3, help="Fraction held out when the data has no split column."),
    seed: int = typer.Option(0, help="Split and bootstrap seed."),
    n_boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for confidence intervals."),
    pool: Optional[Path] = typer.Option(None, "--pool", help=POOL_HELP),
    policy: Optional[str] = typer.Option(
        None, "--policy",
        help="cost: lam sweep of argmax Q̂ − lam·cost (default for > 2 models); threshold: RouteLLM's strong/weak rule.",
    ),
    compare: Optional[list[str]] = typer.Option(
        None, "--compare", help="Paired difference A - B of two routers of this run, as A:B (repeatable)."),
    log: Optional[Path] = typer.Option(None, "--log", help="Summarise a server routing log (routing.db) instead."),
    bucket: str = typer.Option("hour", "--bucket", help="With --log: time bucket (minute, hour, day)."),
) -> None:
    """Train routers on the train split, evaluate them on the test split, print a table."""
    if log is not None:
        from ..serve._summary import log_command

        return log_command(log, bucket, json_out)
    if data is None:
        raise RoutecraftError("give --data (or --log ROUTING_DB to summarise a server log)")
    if policy is not None and policy not in ("cost", "threshold"):
        raise RoutecraftError(f"--policy must be one of cost, threshold, got {policy!r}")
    from ..artifact import load_router
    from ..evaluate import format_results, train_and_evaluate
    from ._policies import cost_mixes, cost_table, default_policy, expected_cost_from, print_mixes
    from ._policies import threshold_mixes

    check_pair(strong, weak)
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
    pairs = [parse_compare(c) for c in compare or []]
    with status(f"loading {data}"):  # fitting runs outside the spinner, so its progress bars show
        dataset, prices = load_priced(data, pool)
    print_notes(dataset)
    if dataset.outcomes is None and dataset.preferences is not None:
        from ..evaluate._preference import format_preference_results, train_and_evaluate_preferences

        pref_run = train_and_evaluate_preferences(dataset, specs, seed=seed, test_size=test_size, n_boot=n_boot)
        console.print(str(pref_run.split), highlight=False)
        console.print(format_preference_results(pref_run.results))
        if plots or report:
            err_console.print("note: --plots/--report draw outcome metrics; skipped for preference-only data",
                              highlight=False)
        write_outputs(pref_run.results, json_out=json_out, plots=None, report=None)
        return
    chosen = policy or default_policy(len(dataset.models))
    from ._policies import measured_mean_cost

    unpriced = [m for m in prices.unpriced if m not in measured_mean_cost(dataset)]
    if chosen == "cost" and unpriced:
        console.print(f"cost policy: leaving out unpriced {', '.join(unpriced)}", highlight=False)
        dataset = dataset.with_models([m for m in dataset.models if m not in unpriced])
    holder: dict = {}

    def decision_cost(train):
        holder["cost"] = expected_cost_from(train)
        return holder["cost"]

    run = train_and_evaluate(
        dataset, specs, seed=seed, test_size=test_size, strong=strong, weak=weak,
        n_boot=n_boot, compare=pairs, decision_cost=decision_cost if chosen == "cost" else None,
    )
    console.print(str(run.split), highlight=False, markup=False)
    print_warnings(run.results)
    first = run.results[0]
    if first.get("n_excluded_multi"):
        console.print(
            f"missing outcomes: {first['n_excluded_multi']} test queries lack a score for some model; "
            f"multi-model metrics use the {first['n_multi']} complete ones (pair metrics: {first['n_pair']})",
            highlight=False,
        )
    if chosen == "cost":
        kind = holder["cost"].length_model.kind_
        source = {"none": "256 tokens or the pool's expected_tokens_out (the data has no output lengths)",
                  "tokens_out": "a length model fitted on train tokens_out",
                  "answer_length": "a length model fitted on train answer lengths"}[kind]
        console.print(f"decision cost: prices x (query chars/4 in + output tokens from {source}); "
                      "realised cost: measured where the data has it, else the same estimate", highlight=False)
        console.print(cost_table(run.results))
        print_mixes(console, cost_mixes(run, holder["cost"]))
    else:
        console.print(format_results(run.results))
        print_mixes(console, threshold_mixes(run))
    write_outputs(run.results, json_out=json_out, plots=plots, report=report)


def parse_compare(text: str) -> tuple[str, str]:
    """``"knn:random"`` → ``("knn", "random")``."""
    a, sep, b = text.partition(":")
    if not sep or not a or not b:
        raise RoutecraftError(f"--compare expects A:B (two router names of this run), got {text!r}")
    return a, b


def print_warnings(results: list[dict]) -> None:
    """Each distinct evaluation warning once, one line each, on stderr."""
    for w in dict.fromkeys(w for r in results for w in r.get("warnings") or []):
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)


def write_outputs(results: list[dict], *, json_out: Path | None, plots: Path | None, report: Path | None) -> None:
    """Write JSON, PNG plots and the HTML report where asked (shared with ``quickstart``)."""
    from ..evaluate import plot_results, write_report

    if json_out:
        with user_path(json_out, "write results"):
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
        console.print(f"wrote {json_out}", markup=False)
    if plots:
        with user_path(plots, "write plots"):
            written = plot_results(results, plots)
        console.print(f"wrote {', '.join(map(str, written))}", markup=False)
    if report:
        with user_path(report, "write the report"):
            write_report(results, report)
        console.print(f"wrote report {report}", markup=False)
