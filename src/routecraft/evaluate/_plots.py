"""PNG plots of evaluation results (matplotlib's Agg renderer: no display needed).

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot, so plotting
neither switches the caller's global backend nor leaks figures; matplotlib is
imported on first use, keeping ``import routecraft.evaluate`` fast.

- :func:`plot_pair`: strong-call fraction vs quality for several routers on one
  strong/weak pair, with the random-mix line from all-weak to all-strong and the
  pair oracle's point.
- :func:`plot_cost_quality`: mean USD per query vs quality for several routers, with
  the random-mix line from the cheapest model to the best single model and the oracle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence



def _axes():
    from matplotlib.figure import Figure

    return Figure(figsize=(7, 5)).subplots()


def _finish(ax, title: str, xlabel: str, path: str | Path) -> Path:
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean true score")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.tight_layout()
    ax.figure.savefig(out, format="png", dpi=120)
    return out


def plot_pair(results: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Strong-call fraction vs quality (exact curves) for results sharing one pair."""
    first = results[0]
    ax = _axes()
    for r in results:
        curve = r["pgr_curve"]
        ax.plot(curve["strong_fraction"], curve["quality"], label=f"{r['router']} (APGR {r['apgr']:.3f})")
    ax.plot([0, 1], [first["weak_quality"], first["strong_quality"]], "k--", lw=1, label="random mix")
    o = first["pair_oracle"]
    ax.plot([o["strong_fraction"]], [o["quality"]], "k*", ms=12, label="oracle")
    title = f"{first['dataset']}: {first['strong']} vs {first['weak']}"
    return _finish(ax, title, f"fraction of queries sent to {first['strong']}", path)


def plot_cost_quality(results: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """Cost–quality curves (lam sweeps) for priced results; None when nothing is priced."""
    priced = [r for r in results if r.get("cost_quality_curve")]
    if not priced:
        return None
    ax = _axes()
    for r in priced:
        curve = r["cost_quality_curve"]
        aiq = f" (AIQ {r['aiq']:.3f})" if r.get("aiq") is not None else ""
        ax.plot(curve["cost"], curve["quality"], marker=".", label=f"{r['router']}{aiq}")
    mix = priced[0]["random_mix"]
    ends = [mix["cheapest"], mix["best_single"]]
    ax.plot([e["cost"] for e in ends], [e["quality"] for e in ends], "k--", lw=1,
            label=f"random mix {mix['cheapest']['model']}–{mix['best_single']['model']}")
    oracle = priced[0]["oracle"]
    ax.plot([oracle["cost"]], [oracle["quality"]], "k*", ms=12, label="oracle")
    return _finish(ax, f"{priced[0]['dataset']}: cost vs quality", "mean USD per query", path)


def plot_results(results: Sequence[dict[str, Any]], directory: str | Path) -> list[Path]:
    """Write every plot that applies to ``results`` into ``directory``; return their paths."""
    d = Path(directory)
    paths = [plot_pair(results, d / "pair.png")]
    cq = plot_cost_quality(results, d / "cost_quality.png")
    return paths + ([cq] if cq else [])
