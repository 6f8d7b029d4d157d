"""``evaluate --policy cost|threshold``: the multi-model table and the model mix of each policy."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from rich.table import Table

from ..data._dataset import Dataset
from ._pool import format_mix, model_mix



def default_policy(n_models: int) -> str:
    """The cost (lam-sweep) policy for pools of more than two models, RouteLLM's threshold for two."""
    return "cost" if n_models > 2 else "threshold"


def expected_cost_from(train: Dataset) -> Callable[[Dataset, list], np.ndarray]:
    """Decision cost learned on ``train``: prices x (estimated input + predicted output tokens)."""
    from ..policy import OutputLengthModel, expected_cost
    from ..policy._length import query_tasks

    lengths = OutputLengthModel().fit(train)
    measured = measured_mean_cost(train)

    def cost(test: Dataset, names: list) -> np.ndarray:
        c = expected_cost(test.texts, names, test.pool, lengths, query_tasks(test))
        for j, m in enumerate(names):  # no price, but measured costs in train: their per-model mean
            if np.isnan(c[:, j]).all() and m in measured:
                c[:, j] = measured[m]
        return c

    cost.length_model = lengths  # type: ignore[attr-defined]
    return cost


def measured_mean_cost(data: Dataset) -> dict[str, float]:
    """Mean measured ``cost_usd`` per model, for models whose every outcome has one."""
    out = data.outcomes
    if out is None or "cost_usd" not in out.columns:
        return {}
    full = out.groupby("model")["cost_usd"].agg(lambda v: v.notna().all() and len(v) > 0)
    means = out.groupby("model")["cost_usd"].mean()
    return {str(m): float(means[m]) for m in full.index[full.to_numpy(dtype=bool)]}


def _cell(r: dict[str, Any], key: str, fmt: str, scale: float = 1.0) -> str:
    v = r.get(key)
    if v is None:
        return "—"
    ci = r.get(f"{key}_ci")
    text = fmt.format(v * scale)
    return text + (f" [{fmt.format(ci[0] * scale)}, {fmt.format(ci[1] * scale)}]" if ci else "")


def _match_cell(r: dict[str, Any]) -> str:
    if r.get("cost_to_match_best_single") is not None:
        return _cell(r, "cost_to_match_best_single", "{:.3g}", 1000)
    share = r.get("cost_to_match_best_single_share_matched")
    return "—" if not share else f"— ({share:.0%} of resamples match)"


def cost_table(results: Sequence[dict[str, Any]]) -> Table:
    """AIQ, quality, spend, cost to match the best single model and quality at half its cost, with 95% CIs."""
    first = results[0] if results else {}
    best = first.get("best_single") or {}
    title = (
        f"{first.get('dataset', '')} — cost policy (lam sweep), {len(first.get('models', []))} models, "
        f"n={first.get('n_multi', 0)} complete test queries"
    )
    caption = (
        f"best single: {best.get('model')} (quality {best.get('quality', 0):.3f}, "
        f"${1000 * (best.get('cost') or 0):.3g}/1k q); $ per 1k queries; 95% bootstrap intervals; "
        "— to match: the router's curve never reaches the best single model's quality"
    )
    table = Table(title=title, caption=caption)
    for name in ("router", "AIQ", "quality (lam=0)", "$/1k q (lam=0)", "$/1k q to match best", "quality @50% best $"):
        table.add_column(name, justify="left" if name == "router" else "right", no_wrap=name == "router")
    for r in results:
        table.add_row(
            r["router"],
            _cell(r, "aiq", "{:.3f}"),
            _cell(r, "quality", "{:.3f}"),
            _cell(r, "cost", "{:.3g}", 1000),
            _match_cell(r),
            _cell(r, "quality_at_half_best_single_cost", "{:.3f}"),
        )
    return table


def cost_mixes(run, decision_cost: Callable[[Dataset, list], np.ndarray] | None) -> dict[str, dict[str, Any]]:
    """Per router, the model mix at lam = 0 and at the sweep point spending at most half the best single's cost."""
    from ..policy._cost import cost_decide

    out: dict[str, dict[str, Any]] = {}
    test = run.test
    for r in run.results:
        names = r["models"]
        router = run.routers[r["router"]]
        idx = [router.models_.index(m) for m in names]
        S = test.score_matrix(names)
        complete = np.isfinite(S).all(axis=1)
        q = router.predict_quality(test)[:, idx][complete]
        c = (decision_cost(test, names) if decision_cost is not None else test.cost_matrix(names))[complete]
        if not np.isfinite(c).all():
            c = test.cost_matrix(names)[complete]
        mixes = {"lam=0": model_mix(cost_decide(q, c, 0.0), names)}
        curve = r.get("cost_quality_curve")
        best_cost = (r.get("best_single") or {}).get("cost")
        if curve and best_cost:
            ok = [i for i, x in enumerate(curve["cost"]) if x <= 0.5 * best_cost]
            if ok:
                i = max(ok, key=lambda k: curve["cost"][k])
                lam = curve["lam"][i]
                mixes[f"≤50% of best single's $ (lam={lam:.3g})"] = model_mix(cost_decide(q, c, lam), names)
        out[r["router"]] = mixes
    return out


def threshold_mixes(run, threshold: float = 0.5) -> dict[str, dict[str, Any]]:
    """Per router, the strong/weak mix at P(strong wins) ≥ ``threshold``."""
    out: dict[str, dict[str, Any]] = {}
    for r in run.results:
        router = run.routers[r["router"]]
        p = router.pair_score(run.test, r["strong"], r["weak"])
        strong = float(np.mean(p >= threshold))
        out[r["router"]] = {f"threshold {threshold:g}": {r["strong"]: strong, r["weak"]: 1.0 - strong}}
    return out


def print_mixes(console, mixes: dict[str, dict[str, Any]]) -> None:
    for router, by_point in mixes.items():
        for point, mix in by_point.items():
            console.print(f"model mix {router} @ {point}: {format_mix(mix)}", highlight=False, soft_wrap=True)
