"""``routecraft data inspect|convert``: look at and normalise datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, print_notes, status
from ._pool import POOL_HELP, load_priced

data_app = typer.Typer(help="Inspect and convert router datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("inspect")
def inspect(
    path: str = typer.Argument(..., help="Dataset: a canonical directory, an upstream layout or file, or bundled:NAME."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    pool: Optional[Path] = typer.Option(None, "--pool", help=POOL_HELP),
) -> None:
    """Print models × queries, score type, cost coverage, duplicates and leakage found."""
    from ..data import format_inspection, inspect_dataset

    with status(f"loading {path}"):
        data, _ = load_priced(path, pool, quiet=as_json)
        report = inspect_dataset(data)
    if as_json:
        console.print_json(json.dumps(report, default=str))
    else:
        console.print(format_inspection(report), highlight=False, markup=False)


@data_app.command("convert")
def convert(
    path: str = typer.Argument(..., help="Dataset in any recognised format."),
    outdir: Path = typer.Argument(..., help="Directory to write the canonical dataset to."),
    force: bool = typer.Option(False, "--force", help="Replace a dataset already in OUTDIR (other files are never touched)."),
    pool: Optional[Path] = typer.Option(None, "--pool", help=POOL_HELP),
) -> None:
    """Write the canonical dataset directory (Parquet tables + dataset.json)."""
    with status(f"loading {path}"):
        data, _ = load_priced(path, pool)
        data.save(outdir, overwrite=force)
    print_notes(data)
    n_out = 0 if data.outcomes is None else len(data.outcomes)
    n_pref = 0 if data.preferences is None else len(data.preferences)
    console.print(
        f"wrote {outdir}: {len(data)} queries, {len(data.models)} models, "
        f"{n_out} outcomes, {n_pref} preferences",
        markup=False,
    )
