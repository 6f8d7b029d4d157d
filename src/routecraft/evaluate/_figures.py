"""Figure descriptions of evaluation results, as Plotly figure dicts.

One description per figure serves both renderers: Plotly draws it in the HTML report
(hover shows each point's values), and :func:`routecraft.evaluate._plots.figure_png`
draws the same traces with matplotlib where plotly is absent. Legends sit outside the
plotting area (to its right), so they never cover a curve.

- :func:`pair_figure`: strong-call fraction vs quality of every router on one
  strong/weak pair, with the random-mix line (all weak → all strong) and the pair
  oracle.
- :func:`cost_quality_figure`: mean USD per query vs quality: each router's lam-sweep
  points and its non-decreasing convex hull (the curve AIQ integrates), the Pareto
  frontier over all routers' points, the random-mix line (cheapest → best single),
  the best single model and the oracle.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a"]
REFERENCE = "#222222"


def _layout(title: str, xlabel: str, n_legend: int) -> dict[str, Any]:
    """Legend to the right of the plotting area (outside it), so it never covers a curve."""
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "xaxis": {"title": {"text": xlabel}, "zeroline": False, "gridcolor": "#e5e7ee"},
        "yaxis": {"title": {"text": "mean true score"}, "zeroline": False, "gridcolor": "#e5e7ee"},
        "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0, "yanchor": "top", "font": {"size": 11}},
        "margin": {"l": 60, "r": 20, "t": 45, "b": 55},
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
        "autosize": True,
        "height": max(420, 120 + 21 * n_legend),
    }


def _line(x, y, name: str, color: str, *, dash: str = "solid", mode: str = "lines", width: float = 2.0,
          hover: str | None = None, symbol: str = "circle", size: int = 6, opacity: float = 1.0,
          legend: bool = True) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter", "x": list(map(float, x)), "y": list(map(float, y)), "name": name, "mode": mode,
        "line": {"color": color, "dash": dash, "width": width},
        "marker": {"color": color, "symbol": symbol, "size": size}, "opacity": opacity, "showlegend": legend,
    }
    if hover:
        trace["hovertemplate"] = hover + "<extra>" + name.replace("<", "&lt;") + "</extra>"
    return trace


def pair_figure(results: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Strong-call fraction vs quality (exact curves) for results sharing one pair."""
    curves = [r for r in results if r.get("pgr_curve")]
    if not curves:
        return None
    first = curves[0]
    data = []
    for i, r in enumerate(curves):
        c = r["pgr_curve"]
        apgr = f" (APGR {r['apgr']:.3f})" if r.get("apgr") is not None else ""
        data.append(_line(c["strong_fraction"], c["quality"], f"{r['router']}{apgr}", PALETTE[i % len(PALETTE)],
                          hover="strong share %{x:.3f}<br>quality %{y:.4f}"))
    if first.get("weak_quality") is not None and first.get("strong_quality") is not None:
        data.append(_line([0, 1], [first["weak_quality"], first["strong_quality"]], "random mix", REFERENCE,
                          dash="dash", width=1.2, hover="strong share %{x:.2f}<br>quality %{y:.4f}"))
    o = first.get("pair_oracle") or {}
    if o.get("quality") is not None:
        data.append(_line([o["strong_fraction"]], [o["quality"]], "pair oracle", REFERENCE, mode="markers",
                          symbol="star", size=14, hover="strong share %{x:.3f}<br>quality %{y:.4f}"))
    title = f"{first['dataset']}: {first['strong']} vs {first['weak']}"
    fig = {"data": data, "layout": _layout(title, f"fraction of queries sent to {first['strong']}", len(data))}
    fig["layout"]["xaxis"]["range"] = [-0.02, 1.02]
    return fig


def pareto_frontier(points: np.ndarray) -> np.ndarray:
    """Points not dominated by any other (cheaper-or-equal and better-or-equal), sorted by cost."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(pts):
        return pts
    pts = pts[np.lexsort((-pts[:, 1], pts[:, 0]))]
    best = np.maximum.accumulate(pts[:, 1])
    keep = np.r_[True, pts[1:, 1] > best[:-1]]
    return pts[keep]


def cost_quality_figure(results: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Cost–quality curves (lam sweeps and hulls) for priced results; None when nothing is priced."""
    priced = [(i, r) for i, r in enumerate(results) if r.get("cost_quality_curve")]
    if not priced:
        return None
    data = []
    hover = "$%{x:.4g}/query<br>quality %{y:.4f}"
    all_points = []
    for i, r in priced:
        color = PALETTE[i % len(PALETTE)]
        c = r["cost_quality_curve"]
        aiq = f" (AIQ {r['aiq']:.3f})" if r.get("aiq") is not None else ""
        data.append(_line(c["cost"], c["quality"], f"{r['router']} sweep", color, mode="markers", size=4,
                          opacity=0.45, hover=hover, legend=False))
        data.append(_line(c["hull_cost"], c["hull_quality"], f"{r['router']}{aiq}", color, mode="lines+markers",
                          size=5, hover=hover))
        all_points.append(np.column_stack([c["cost"], c["quality"]]))
    front = pareto_frontier(np.vstack(all_points))
    data.append(_line(front[:, 0], front[:, 1], "Pareto frontier (all routers)", "#9aa0ae", dash="dot",
                      width=1.5, hover=hover))
    first = priced[0][1]
    mix = first.get("random_mix")
    if mix:
        ends = [mix["cheapest"], mix["best_single"]]
        data.append(_line([e["cost"] for e in ends], [e["quality"] for e in ends],
                          "random mix (cheapest → best single)", REFERENCE,
                          dash="dash", width=1.2, hover=hover))
    bs = first.get("best_single") or {}
    if bs.get("cost") is not None:
        data.append(_line([bs["cost"]], [bs["quality"]], f"best single ({bs['model']})", REFERENCE, mode="markers",
                          symbol="diamond", size=11, hover=hover))
    o = first.get("oracle") or {}
    if o.get("cost") is not None:
        data.append(_line([o["cost"]], [o["quality"]], "oracle", REFERENCE, mode="markers", symbol="star",
                          size=14, hover=hover))
    shown = sum(1 for t in data if t["showlegend"])
    return {"data": data, "layout": _layout(f"{first['dataset']}: cost vs quality", "mean USD per query", shown)}
