"""``routecraft embed`` and ``routecraft data preferences``: streamed batch jobs, in-process or on Ray."""

from __future__ import annotations

from pathlib import Path

import typer

from . import app
from ._common import console, status
from ._data import data_app

ENGINE_HELP = "Where batches run: 'local' (this process, streaming) or 'ray' (RAY_ADDRESS, else a local Ray)."
BATCH_HELP = "Rows per batch: peak memory is a few batches, whatever the input size."


@app.command("embed")
def embed(
    queries: Path = typer.Argument(..., help="Queries: .parquet (or a directory of them), .jsonl or .csv with a 'query' column."),
    out: Path = typer.Argument(..., help="Output .parquet or .jsonl: query_id, embedding."),
    embedder: str = typer.Option("wordllama", help="Embedder spec, e.g. wordllama, minilm, hashing."),
    engine: str = typer.Option("local", help=ENGINE_HELP),
    batch_rows: int = typer.Option(16_384, help=BATCH_HELP),
) -> None:
    """Embed every query of a file (expensive embedders go through the disk cache)."""
    from ..engine import embed_file

    with status(f"embedding {queries}"):
        n = embed_file(queries, out, embedder=embedder, engine=engine, batch_rows=batch_rows)
    console.print(f"wrote {out}: {n} embeddings ({embedder}, engine {engine})", highlight=False, soft_wrap=True)


@data_app.command("preferences")
def preferences(
    outcomes: Path = typer.Argument(..., help="Outcomes: .parquet (or a directory of them), .jsonl or .csv with query_id, model, score."),
    out: Path = typer.Argument(..., help="Output .parquet or .jsonl of pairwise preferences."),
    source: str = typer.Option("gold", help="Value of the preferences' 'source' column."),
    engine: str = typer.Option("local", help=ENGINE_HELP),
    batch_rows: int = typer.Option(16_384, help=BATCH_HELP),
) -> None:
    """Convert outcomes of any size to pairwise preferences (higher score wins, equal scores tie)."""
    from ..engine import preferences_file

    with status(f"converting {outcomes}"):
        n = preferences_file(outcomes, out, engine=engine, batch_rows=batch_rows, source=source)
    console.print(f"wrote {out}: {n} preferences (engine {engine})", highlight=False, soft_wrap=True)
