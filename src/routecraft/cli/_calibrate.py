"""``routecraft calibrate``: a threshold for a strong-call share, or a cost weight lam for a $/query budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError
from . import app
from ._common import check_pair, console, print_notes, status
from ._pool import POOL_HELP, format_mix, model_mix, router_length_model, router_pool


@app.command("calibrate")
def calibrate(
    router: Path = typer.Option(..., "--router", help="Saved router artifact (.routecraft)."),
    queries: str = typer.Option(..., "--queries", help="Unlabelled queries: any dataset path or bundled:NAME."),
    strong_fraction: Optional[float] = typer.Option(
        None, "--strong-fraction", help="Target share of queries sent to the strong model, in (0, 1)."),
    budget: Optional[float] = typer.Option(
        None, "--budget-usd-per-query", help="Target mean spend in USD per query (cost policy over the whole pool)."),
    strong: Optional[str] = typer.Option(None, help="Strong model (default: the router's first model for 2-model pools)."),
    weak: Optional[str] = typer.Option(None, help="Weak model."),
    pool: Optional[Path] = typer.Option(None, "--pool", help=POOL_HELP),
    n_boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for the realised-fraction interval."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Calibrate a threshold (--strong-fraction) or a cost weight lam (--budget-usd-per-query) on unlabelled queries.

    Prints the chosen value with the 95% bootstrap interval of the realised strong share or
    spend and of the expected quality (the router's Q̂ of the chosen models); when the
    queries carry outcomes, also the measured spend and quality.
    """
    if (strong_fraction is None) == (budget is None):
        raise RoutecraftError("give exactly one of --strong-fraction or --budget-usd-per-query")
    if strong_fraction is not None and not 0.0 < strong_fraction < 1.0:
        raise RoutecraftError(f"--strong-fraction must be in (0, 1), got {strong_fraction}")
    if budget is not None and not budget > 0:
        raise RoutecraftError(f"--budget-usd-per-query must be > 0, got {budget}")
    import numpy as np

    from ..artifact import load_router
    from ..data import load_dataset
    from ..policy import calibrate_threshold
    from ..routers._registry import short_name

    r = load_router(router)
    if budget is not None:
        with status(f"scoring {queries}"):
            data = load_dataset(queries)
            plan = budget_plan(r, data, budget, pool, n_boot=n_boot, seed=seed)
        if as_json:
            console.print_json(json.dumps(plan))
            return
        console.print(format_budget_plan(plan), highlight=False, soft_wrap=True)
        return
    strong, weak = resolve_pair(r, strong, weak)
    with status(f"scoring {queries}"):
        data = load_dataset(queries)
        scores = r.pair_score(data, strong, weak)
    print_notes(data)
    result = calibrate_threshold(scores, strong_fraction, n_boot=n_boot, seed=seed)
    payload = {"strong": strong, "weak": weak, "n_queries": len(data), **result.to_dict()}
    picked = np.where(scores >= result.threshold, r.model_index(strong), r.model_index(weak))
    payload.update(_quality_fields(r, data, picked, n_boot, seed))
    payload["model_mix"] = model_mix(picked, r.models_)
    if as_json:
        console.print_json(json.dumps(payload))
        return
    console.print(
        f"threshold {payload['threshold']:.5f} → strong fraction {strong_fraction:.0%} of {len(data)} queries "
        f"(95% bootstrap interval of the realised fraction: "
        f"{payload['strong_fraction_ci'][0]:.3f}–{payload['strong_fraction_ci'][1]:.3f}); "
        f"serve as model 'router-{short_name(type(r).__name__)}-{payload['threshold']:.5f}' "
        f"with strong={strong}, weak={weak}",
        highlight=False,
        markup=False,
    )
    console.print(_quality_line(payload) + f"; model mix: {format_mix(payload['model_mix'])}", highlight=False)


def _interval(values, n_boot: int, seed: int) -> list[float] | None:
    from ..policy import bootstrap_means, percentile_ci

    return percentile_ci(bootstrap_means(values, n_boot, seed)) if n_boot > 0 and len(values) else None


def _quality_fields(router, data, picked, n_boot: int, seed: int) -> dict:
    """Expected quality (Q̂ of the chosen model) and, with outcomes, the measured quality: means and intervals."""
    import numpy as np

    rows = np.arange(len(picked))
    q_hat = router.predict_quality(data)[rows, picked]
    out = {"expected_quality": float(q_hat.mean()), "expected_quality_ci": _interval(q_hat, n_boot, seed)}
    if data.outcomes is not None:
        true = data.score_matrix(router.models_)[rows, picked]
        known = np.isfinite(true)
        if known.any():
            out.update(measured_quality=float(true[known].mean()), measured_quality_ci=_interval(true[known], n_boot, seed),
                       n_measured=int(known.sum()))
    return out


def _quality_line(p: dict) -> str:
    import numpy as np

    ci = p.get("expected_quality_ci") or [np.nan, np.nan]
    line = f"expected quality (router's Q̂) {p['expected_quality']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
    if "measured_quality" in p:
        mci = p["measured_quality_ci"] or [np.nan, np.nan]
        line += f"; measured quality on {p['n_measured']} labelled queries {p['measured_quality']:.3f} [{mci[0]:.3f}, {mci[1]:.3f}]"
    return line


def budget_plan(router, data, budget: float, pool: Path | None, *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Calibrate lam on ``data``'s queries for a mean spend of ``budget`` USD, with intervals and the model mix."""
    import numpy as np

    from ..policy import calibrate_lam, expected_cost
    from ..policy._cost import cost_decide
    from ..policy._length import query_tasks

    table = router_pool(router, pool)
    models = list(router.models_)
    cost = expected_cost(data.texts, models, table, router_length_model(router), query_tasks(data))
    priced = [j for j in range(len(models)) if np.isfinite(cost[:, j]).all()]
    if len(priced) < 1:
        raise RoutecraftError("no model of the router's pool has a price: give --pool pool.toml")
    names = [models[j] for j in priced]
    q = router.predict_quality(data)[:, priced]
    c = cost[:, priced]
    cal = calibrate_lam(q, c, budget, n_boot=n_boot, seed=seed)
    choice = cost_decide(q, c, cal.lam)
    plan = {"n_queries": len(data), "models": names, **cal.to_dict(), "model_mix": model_mix(choice, names),
            "unpriced": [m for m in models if m not in names]}
    plan.update(_quality_fields_subset(router, data, priced, choice, n_boot, seed))
    if data.outcomes is not None:
        measured = data.cost_matrix(names)[np.arange(len(choice)), choice]
        known = np.isfinite(measured)
        if known.any() and "cost_usd" in data.outcomes.columns:
            plan.update(measured_usd_per_query=float(measured[known].mean()),
                        measured_usd_per_query_ci=_interval(measured[known], n_boot, seed))
    return plan


def _quality_fields_subset(router, data, priced, choice, n_boot, seed) -> dict:
    import numpy as np

    picked = np.asarray(priced)[choice]
    return _quality_fields(router, data, picked, n_boot, seed)


def format_budget_plan(p: dict) -> str:
    import numpy as np

    ci = p["usd_per_query_ci"]
    lines = [
        f"lam {p['lam']:.6g} → expected spend ${p['usd_per_query']:.6g}/query (target ${p['target_usd_per_query']:.6g}) "
        f"on {p['n_queries']} queries; 95% bootstrap interval of the realised spend: ${ci[0]:.6g}–${ci[1]:.6g}",
        _quality_line(p),
        f"model mix: {format_mix(p['model_mix'])}",
    ]
    if "measured_usd_per_query" in p:
        mci = p["measured_usd_per_query_ci"] or [np.nan, np.nan]
        lines.append(f"measured spend on these queries' outcomes: ${p['measured_usd_per_query']:.6g}/query "
                     f"[${mci[0]:.6g}, ${mci[1]:.6g}]")
    if p["unpriced"]:
        lines.append(f"left out (no price): {', '.join(p['unpriced'])}")
    return "\n".join(lines)


def resolve_pair(router, strong: str | None, weak: str | None) -> tuple[str, str]:
    """Default strong/weak: from the artifact's metrics, else the only two models of the pool."""
    recorded = getattr(router, "artifact_manifest_", {}).get("metrics", {})
    check_pair(strong, weak)
    strong = strong or recorded.get("strong")
    weak = weak or recorded.get("weak")
    if strong and weak:
        check_pair(strong, weak)
        return strong, weak
    if len(router.models_) == 2:
        raise RoutecraftError(
            f"say which model is strong: --strong {router.models_[0]!r} --weak {router.models_[1]!r} (or the reverse)"
        )
    raise RoutecraftError(f"pool has {len(router.models_)} models; give --strong and --weak")
