"""Tables (rich, for the CLI) and a self-contained HTML report of evaluation results."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Sequence

from rich.table import Table

# (result key, column title, format); "<key>_ci" is shown beside the value when present.
COLUMNS = [
    ("apgr", "APGR", "{:.3f}"),
    ("apgr_routellm", "APGR-RL", "{:.3f}"),
    ("cpt50", "CPT50", "{:.3f}"),
    ("cpt80", "CPT80", "{:.3f}"),
    ("quality", "quality", "{:.3f}"),
    ("cost", "$/query", "{:.2e}"),
    ("aiq", "AIQ", "{:.3f}"),
    ("arena_score", "Arena", "{:.3f}"),
]


def _cell(result: dict[str, Any], key: str, fmt: str, sep: str = " ") -> str:
    value = result.get(key)
    if value is None:
        return "—"
    ci = result.get(f"{key}_ci")
    return fmt.format(value) + (f"{sep}[{fmt.format(ci[0])}, {fmt.format(ci[1])}]" if ci else "")


# the terminal table is narrower: the interval only for the headline APGR, cost per 1k queries
_TERMINAL = [
    ("apgr_routellm", "APGR-RL", "{:.3f}"),
    ("cpt50", "CPT50", "{:.3f}"),
    ("cpt80", "CPT80", "{:.3f}"),
    ("quality", "quality", "{:.3f}"),
]


def format_results(results: Sequence[dict[str, Any]]) -> Table:
    """One row per router for the terminal: APGR with its 95% interval, then the other headline numbers.

    JSON and the HTML report carry every metric with its interval; this table stays
    readable in an 80-column terminal.
    """
    first = results[0] if results else {}
    title = f"{first['dataset']} (n={first['n_pair']}) — {first['strong']} vs {first['weak']}" if results else ""
    table = Table(title=title, caption="APGR-RL: RouteLLM's decile APGR; quality and $/1k q of the best-quality pick")
    table.add_column("router", no_wrap=True)
    table.add_column("APGR [95% CI]", justify="right", no_wrap=True)
    for _, name, _ in _TERMINAL:
        table.add_column(name, justify="right")
    table.add_column("$/1k q", justify="right")
    for r in results:
        ci = r.get("apgr_ci")
        apgr = "—" if r.get("apgr") is None else f"{r['apgr']:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
        cost = "—" if r.get("cost") is None else f"{1000 * r['cost']:.3g}"
        table.add_row(r["router"], apgr, *(_plain(r, k, f) for k, _, f in _TERMINAL), cost)
    return table


def _plain(result: dict[str, Any], key: str, fmt: str) -> str:
    value = result.get(key)
    return "—" if value is None else fmt.format(value)


def write_report(results: Sequence[dict[str, Any]], plot_paths: Sequence[str | Path], path: str | Path) -> Path:
    """A single HTML file: the metrics table with intervals and the plots embedded as base64 PNGs."""
    head = "".join(f"<th>{html.escape(t)}</th>" for t in ["router", "n", *(name for _, name, _ in COLUMNS)])
    rows = "".join(
        "<tr>" + "".join(
            f"<td>{html.escape(c)}</td>"
            for c in [r["router"], str(r["n_pair"]), *(_cell(r, k, f) for k, _, f in COLUMNS)]
        ) + "</tr>"
        for r in results
    )
    images = "".join(
        f'<p><img alt="{html.escape(Path(p).name)}" src="data:image/png;base64,'
        f'{base64.b64encode(Path(p).read_bytes()).decode()}"></p>'
        for p in plot_paths
    )
    first = results[0] if results else {}
    notes = (
        f"<p>dataset <b>{html.escape(str(first.get('dataset', '')))}</b>, strong "
        f"<b>{html.escape(str(first.get('strong', '')))}</b>, weak <b>{html.escape(str(first.get('weak', '')))}</b>; "
        f"95% bootstrap intervals over queries ({first.get('n_boot', 0)} resamples, seed {first.get('seed', 0)}).</p>"
    )
    doc = (
        "<!doctype html><html><head><meta charset='utf-8'><title>routecraft evaluation</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>"
        f"</head><body><h1>routecraft evaluation</h1>{notes}<table><tr>{head}</tr>{rows}</table>{images}</body></html>"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(doc, encoding="utf-8")
    return out
