"""``routecraft generate``: make a training set from task descriptions, a generator and your pool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError
from . import app
from ._common import console, err_console


def _progress_line(stats) -> str:
    failed = stats.generator_failures + stats.answer_failures
    phase = (
        f"answers {stats.answers_done}/{stats.answers_total}"
        if stats.answers_total
        else f"question sets {stats.generator_requests}, items {stats.items_kept or '…'}"
    )
    return (
        f"{phase} · rejected {stats.rejected} · failed {failed} · cached {stats.cached} · "
        f"tokens {int(stats.tokens_in):,} in / {int(stats.tokens_out):,} out"
    )


@app.command("generate")
def generate(
    tasks: Path = typer.Option(..., "--tasks", help="tasks.toml: one tasks table per task (name, description; optional items, kind, options)."),
    generator: list[str] = typer.Option(..., "--generator", help="Generator name in pool.toml (repeatable)."),
    pool: Path = typer.Option(..., "--pool", help="pool.toml: models tables (name, base_url, api_key_env, prices) and optional generators tables."),
    out: Path = typer.Option(..., "--out", help="Directory for the canonical dataset (and the request cache)."),
    cache: Optional[Path] = typer.Option(None, help="Request cache (default OUT/requests.sqlite); rerun to resume."),
    concurrency: int = typer.Option(8, help="Requests in flight at once."),
    timeout: float = typer.Option(60.0, help="Seconds per request attempt."),
    retries: int = typer.Option(4, help="Retries after a timeout, 429, 5xx or malformed reply."),
    filter_items: bool = typer.Option(False, "--filter", help="Keep only generators and items that pass the filters."),
    min_self_accuracy: float = typer.Option(0.5, help="Filter: generator's agreement with the pool consensus."),
    min_differentiation: float = typer.Option(0.05, help="Filter: std of per-model accuracy on a generator's items."),
    relative: bool = typer.Option(False, "--relative", help="Filter thresholds are fractions of the best generator's values."),
    keep_disagreeing: bool = typer.Option(False, "--keep-disagreeing", help="Filter generators only; keep items whose answer differs from the consensus."),
) -> None:
    """Generate questions, have every pool model answer them, write queries + outcomes."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..generate import RequestCache, filter_generated, find_generator, generator_report, read_pool, read_tasks
    from ..generate import generate as run_generation

    task_list = read_tasks(tasks)
    models, generators = read_pool(pool)
    chosen = [find_generator(g, models, generators, pool) for g in generator]
    cache_path = cache or out / "requests.sqlite"
    with RequestCache(cache_path) as store, Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console, transient=True
    ) as progress:
        bar = progress.add_task("starting", total=None)
        data, stats = run_generation(
            task_list, chosen, models, cache=store, concurrency=concurrency, timeout=timeout, max_retries=retries,
            on_progress=lambda s: progress.update(bar, description=_progress_line(s)),
        )
    console.print(_progress_line(stats), highlight=False)
    if stats.rejected:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats.items_rejected.items()))
        console.print(f"rejected {stats.rejected} malformed items ({reasons}); {stats.items_duplicate} duplicates dropped")
    if stats.generator_failures or stats.answer_failures:
        err_console.print(
            f"warning: {stats.generator_failures} question sets and {stats.answer_failures} answers failed after "
            f"retries ({json.dumps(stats.failures)}); they are missing — rerun the same command to retry them",
            highlight=False,
        )
    if data.outcomes is None:
        raise RoutecraftError(f"no pool model answered any question ({len(data)} items); nothing written to {out}")
    gens, _ = generator_report(data)
    console.print(gens.to_string(index=False, float_format=lambda v: f"{v:.3f}"), highlight=False)
    if filter_items:
        result = filter_generated(
            data, min_self_accuracy=min_self_accuracy, min_differentiation=min_differentiation,
            relative=relative, item_self_agreement=not keep_disagreeing,
        )
        console.print(result.summary(), highlight=False)
        data = result.data
    data.save(out)
    console.print(f"wrote {out}: {len(data)} queries, {len(data.models)} models, {len(data.outcomes)} outcomes")
