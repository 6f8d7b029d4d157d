"""PNG plots of evaluation results (matplotlib's Agg renderer: no display needed).

The figures are the ones :mod:`._figures` describes (the HTML report's Plotly
figures); this module draws those descriptions with matplotlib, the static fallback.
Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot, so plotting
neither switches the caller's global backend nor leaks figures; matplotlib is
imported on first use, keeping ``import routecraft.evaluate`` fast. Legends go to the
right of the axes, outside them, so they never cover a curve.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Sequence

from ._figures import cost_quality_figure, pair_figure

_MARKERS = {"circle": "o", "star": "*", "diamond": "D", "square": "s"}
_DASH = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}


def _draw(fig_spec: dict[str, Any]):
    from matplotlib.figure import Figure

    layout = fig_spec["layout"]
    fig = Figure(figsize=(11, 5))
    ax = fig.subplots()
    for t in fig_spec["data"]:
        mode = t.get("mode", "lines")
        color, dash = t["line"]["color"], _DASH.get(t["line"].get("dash", "solid"), "-")
        marker = _MARKERS.get(t["marker"].get("symbol", "circle"), "o") if "markers" in mode else None
        size = t["marker"].get("size", 6) * (1.6 if marker == "*" else 1.0)
        ax.plot(t["x"], t["y"], linestyle=dash if "lines" in mode else "none", color=color, marker=marker,
                markersize=size * 0.8 if marker else None, linewidth=t["line"].get("width", 2) * 0.8,
                alpha=t.get("opacity", 1.0), label=t["name"] if t.get("showlegend", True) else "_nolegend_")
    ax.set_title(layout["title"]["text"], loc="left", fontsize=11)
    ax.set_xlabel(layout["xaxis"]["title"]["text"])
    ax.set_ylabel(layout["yaxis"]["title"]["text"])
    if "range" in layout["xaxis"]:
        ax.set_xlim(*layout["xaxis"]["range"])
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def figure_png(fig_spec: dict[str, Any], dpi: int = 110) -> bytes:
    """PNG bytes of a figure description."""
    buf = io.BytesIO()
    _draw(fig_spec).savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _save(fig_spec: dict[str, Any] | None, path: str | Path) -> Path | None:
    if fig_spec is None:
        return None
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(figure_png(fig_spec))
    return out


def plot_pair(results: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Strong-call fraction vs quality (exact curves) for results sharing one pair."""
    out = _save(pair_figure(results), path)
    assert out is not None
    return out


def plot_cost_quality(results: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """Cost–quality curves (lam sweeps and hulls) for priced results; None when nothing is priced."""
    return _save(cost_quality_figure(results), path)


def plot_results(results: Sequence[dict[str, Any]], directory: str | Path) -> list[Path]:
    """Write every plot that applies to ``results`` into ``directory``; return their paths."""
    d = Path(directory)
    paths = [plot_pair(results, d / "pair.png")]
    cq = plot_cost_quality(results, d / "cost_quality.png")
    return paths + ([cq] if cq else [])
