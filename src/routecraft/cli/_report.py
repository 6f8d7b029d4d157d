"""``routecraft report``: one self-contained HTML report from saved evaluation results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .._errors import DataError
from . import app
from ._common import console

REQUIRED = ("router", "dataset", "strong", "weak")


def read_results(path: Path) -> list[dict[str, Any]]:
    """Results from a ``--json`` file (a list of result objects, or one object); errors name the file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not a JSON file of evaluation results ({exc})", path=str(path)) from None
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DataError("expected an evaluation result object", path=str(path), row=i)
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            raise DataError("not an evaluation result (written by `routecraft evaluate --json`)",
                            path=str(path), row=i, field=missing[0])
    return items


@app.command("report")
def report(
    results: list[Path] = typer.Argument(..., help="Results JSON files written by `evaluate --json` or `quickstart`."),
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write."),
    engine: str = typer.Option("auto", help="Figures: auto (Plotly when installed), plotly, or matplotlib (static PNG)."),
) -> None:
    """Write one self-contained HTML report (a section per dataset) from results JSON files."""
    from ..evaluate import write_report

    if engine not in ("auto", "plotly", "matplotlib"):
        raise DataError(f"--engine must be auto, plotly or matplotlib, got {engine!r}", field="engine")
    rows: list[dict[str, Any]] = []
    for path in results:
        rows.extend(read_results(path))
    written = write_report(rows, out, engine=engine)
    datasets = len({r["dataset"] for r in rows})
    console.print(f"wrote report {written} ({len(rows)} results, {datasets} datasets)", highlight=False, soft_wrap=True)
