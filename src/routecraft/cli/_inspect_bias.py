"""``routecraft inspect-bias``: how a judge's labels differ from gold, by query region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from . import app
from ._common import console, status

DATA_HELP = "Dataset with gold outcomes and judge/crowd preferences (canonical directory, upstream layout or bundled:NAME)."


def _ci(row: dict[str, Any]) -> str:
    return f"{row['tau']:+.3f} [{row['ci'][0]:+.3f}, {row['ci'][1]:+.3f}]"


def format_bias_report(report: dict[str, Any]) -> str:
    """The report as plain text tables."""
    lines = [
        f"bias of the cheap labels for {report['model']} vs {report['reference']} in '{report['dataset']}' "
        "(τ = gold gain − judge gain; > 0: the judge under-rates the model's gain)",
        "",
        f"{'source':<7} {'n':>7} {'ESS':>9} {'mean label':>11}   propensity ê quantiles (0/5/50/95/100%)",
    ]
    for name, s in report["sources"].items():
        q = "  ".join(f"{v:.3f}" for v in s["propensity_quantiles"].values())
        lines.append(f"{name:<7} {s['n']:>7} {s['ess']:>9.1f} {s['mean_label']:>+11.3f}   {q}")
    ov = report["overlap"]
    lines.append(
        f"overlap: propensity AUC {ov['auc']:.3f} (0.5 = sources alike, 1 = no shared support); "
        f"{100 * ov['share_clipped']:.1f}% of rows clipped at {ov['min_propensity']}; "
        f"{report['n_paired']} queries carry both labels"
    )
    for key, title in (("by_task", "task"), ("by_cluster", "query cluster")):
        if key not in report:
            continue
        lines += ["", f"{title:<28} {'gold':>6} {'cheap':>7}   τ̂ (DR) [95% CI]"]
        for row in report[key]:
            lines.append(f"{row['group'][:28]:<28} {row['n_gold']:>6} {row['n_cheap']:>7}   {_ci(row)}")
    return "\n".join(lines)


@app.command("inspect-bias")
def inspect_bias_cmd(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    model: Optional[str] = typer.Option(None, help="Model whose gain is judged (default: best mean gold score)."),
    reference: Optional[str] = typer.Option(None, help="Reference model (default: cheapest in the pool)."),
    embedder: str = typer.Option("wordllama", help="Query embedder."),
    clusters: int = typer.Option(8, help="Number of query clusters (k-means on the features)."),
    seed: int = typer.Option(0, help="Fold and clustering seed."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the report as JSON here."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG of τ̂ by task (or cluster) here."),
) -> None:
    """Print the judge's bias τ̂ by task and by query cluster, each source's effective size and the overlap."""
    from ..data import load_dataset
    from ..routers._bias_report import inspect_bias, plot_bias

    with status(f"loading {data}") as update:
        dataset = load_dataset(data)
        update("estimating the bias")
        report = inspect_bias(dataset, model, reference, embedder=embedder, n_clusters=clusters, seed=seed)
    console.print(format_bias_report(report), highlight=False)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"wrote {json_out}")
    if plot:
        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_bias(report, str(plot), "by_task" if "by_task" in report else "by_cluster")
        console.print(f"wrote {plot}")
