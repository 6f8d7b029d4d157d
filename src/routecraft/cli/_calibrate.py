"""``routecraft calibrate``: pick the threshold that sends a target share of traffic to the strong model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .._errors import RoutecraftError
from . import app
from ._common import check_pair, console, print_notes, status


@app.command("calibrate")
def calibrate(
    router: Path = typer.Option(..., "--router", help="Saved router artifact (.routecraft)."),
    queries: str = typer.Option(..., "--queries", help="Unlabelled queries: any dataset path or bundled:NAME."),
    strong_fraction: float = typer.Option(..., "--strong-fraction", help="Target share of queries sent to the strong model, in (0, 1)."),
    strong: Optional[str] = typer.Option(None, help="Strong model (default: the router's first model for 2-model pools)."),
    weak: Optional[str] = typer.Option(None, help="Weak model."),
    n_boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for the realised-fraction interval."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Print the RouteLLM-style threshold (strong iff P(strong wins) ≥ t) with a bootstrap interval."""
    from ..artifact import load_router
    from ..data import load_dataset
    from ..policy import calibrate_threshold
    from ..routers._registry import short_name

    if not 0.0 < strong_fraction < 1.0:
        raise RoutecraftError(f"--strong-fraction must be in (0, 1), got {strong_fraction}")
    r = load_router(router)
    strong, weak = resolve_pair(r, strong, weak)
    with status(f"scoring {queries}"):
        data = load_dataset(queries)
        scores = r.pair_score(data, strong, weak)
    print_notes(data)
    result = calibrate_threshold(scores, strong_fraction, n_boot=n_boot, seed=seed)
    payload = {"strong": strong, "weak": weak, "n_queries": len(data), **result.to_dict()}
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
