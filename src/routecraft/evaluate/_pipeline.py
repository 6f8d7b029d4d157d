"""Train → evaluate on one dataset: the flow behind ``routecraft evaluate`` and ``quickstart``.

Kept out of the CLI so notebooks and benchmarks run exactly what the command runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .._errors import DependencyError
from .._progress import progress
from ..data._dataset import Dataset
from ..data._split import SplitReport, split_dataset
from ..routers._base import Router
from ..routers._registry import make_router

@dataclass
class EvaluationRun:
    """Everything one run produced: per-router results, the split, and the fitted routers."""

    results: list[dict[str, Any]]
    train: Dataset
    test: Dataset
    split: SplitReport
    routers: dict[str, Router] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _label(spec: "str | Router", taken: set[str]) -> str:
    base = spec if isinstance(spec, str) else type(spec).__name__
    name, i = base, 2
    while name in taken:
        name, i = f"{base}#{i}", i + 1
    return name


def gold_truth(test: Dataset) -> Dataset:
    """The test set scored by its gold outcomes only, when outcomes mix gold and cheap (judge) sources.

    A dataset for the causal router (DESIGN §7) may carry judge-graded outcomes; those are
    training signal, never the truth a router is evaluated against.
    """
    out = test.outcomes
    if out is None or "source" not in out.columns:
        return test
    gold = out["source"].fillna("gold").eq("gold")
    if gold.all() or not gold.any():
        return test
    return test._derive(outcomes=out[gold.to_numpy()].reset_index(drop=True))


def train_and_evaluate(
    data: Dataset,
    routers: Sequence["str | Router"],
    *,
    test_size: float = 0.3,
    seed: int = 0,
    strong: str | None = None,
    weak: str | None = None,
    n_boot: int = 1000,
    router_params: dict[str, dict[str, Any]] | None = None,
    on_step: Callable[[str], None] | None = None,
    skip_unavailable: bool = False,
    compare: Sequence[tuple[str, str]] = (),
    qcut: str = "pandas3",
    decision_cost: Callable[[Dataset], Callable[[Dataset, list], Any]] | None = None,
) -> EvaluationRun:
    """Split ``data``, fit every router on train (the oracle on test), evaluate all on test.

    ``routers`` holds registry specs (``"knn"``, ``"always:gpt-4"``) or routers; a router
    that is already fitted (loaded from an artifact) is evaluated as it is. With
    ``skip_unavailable``, a router whose optional extra is not installed is skipped
    (and listed in ``EvaluationRun.skipped``) instead of failing the run. ``decision_cost(train)``
    returns the cost the cost policy decides on (see :func:`evaluate_routers`), learned on train.

    The train split is the evaluator's ``reference``: the default pair, best single and
    random-mix ends are chosen on it, never on the test set. Fitting and the bootstrap
    show a progress bar on a terminal.
    """
    from ._runner import evaluate_routers

    train, test, report = split_dataset(data, test_size=test_size, seed=seed)
    test = gold_truth(test)
    fitted: dict[str, Router] = {}
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    with progress(f"{data.name}: fitting", total=len(routers)) as bar:
        for spec in routers:
            name = _label(spec, set(fitted) | set(skipped))
            router = make_router(spec, **(router_params or {}).get(spec, {})) if isinstance(spec, str) else spec
            if on_step:
                on_step(f"fitting {name}")
            bar.update(description=f"{data.name}: fitting {name}")
            start = time.perf_counter()
            try:
                if router.needs_test_labels:
                    router.fit(test)
                elif not hasattr(router, "models_"):
                    router.fit(train)
            except DependencyError as exc:
                if not skip_unavailable:
                    raise
                skipped[name] = str(exc)
                bar.advance()
                continue
            timings[name] = time.perf_counter() - start
            fitted[name] = router
            bar.advance()
    if on_step:
        on_step("evaluating")
    with progress(f"{data.name}: bootstrap ({n_boot} resamples)", total=len(fitted)) as bar:
        results = evaluate_routers(
            fitted, test, reference=train, strong=strong, weak=weak, n_boot=n_boot, seed=seed,
            compare=compare, qcut=qcut,
            decision_cost=None if decision_cost is None else decision_cost(train),
            on_progress=lambda step, done, total: bar.update(
                description=f"{data.name}: {step}", completed=done, total=total),
        )
    for r in results:
        r["fit_seconds"] = round(timings.get(r["router"], 0.0), 3)
        r["n_train"] = len(train)
        r["split"] = report.origin
    return EvaluationRun(results, train, test, report, fitted, skipped)
