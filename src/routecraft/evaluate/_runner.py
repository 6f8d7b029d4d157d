"""`evaluate_router(s)`: every DESIGN §6 metric of fitted routers on a labelled test set.

One JSON-ready dict per router: two-model metrics (APGR both ways, CPT) for a
strong/weak pair, multi-model metrics (cost–quality curve, AIQ, RouterArena score,
best single, oracle, cost to match the best single model, gap closed) for the whole
pool, each headline number with a seeded 95% bootstrap interval over queries, plus
the curve points the plots draw.

Choices the definitions leave open:
- the pair defaults to the best single model on the test set (strong) and the
  cheapest model by mean cost (weak; without prices the lowest mean score);
- ``quality``/``cost`` are the router's own operating point: ``CostPolicy(lam=0)``,
  the model with the highest Q̂ (ties → cheaper);
- two-model metrics drop queries without a true score for strong or weak; multi-model
  metrics drop queries without a true score for every pool model (both counted);
- every router is bootstrapped with the same seeded resamples (a paired bootstrap),
  which is what makes the joint AIQ interval meaningful.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._errors import DataError
from ..data._dataset import Dataset
from ..policy._bootstrap import bootstrap_counts, bootstrap_means, percentile_ci
from ..policy._cost import cost_decide
from ..routers._base import Router, pair_score_from_quality
from ._costq import (
    aiq,
    arena_score,
    best_single,
    cost_to_match,
    lam_grid,
    ndch,
    oracle_choice,
    quality_at_cost,
    sweep_decisions,
    take,
)
from ._pgr import PairData

DecisionCost = Callable[[Dataset, list], np.ndarray]
CPT_LEVELS = (0.5, 0.8)
MAX_CURVE_POINTS = 501
FRACTION_OF_BEST_COST = 0.5


def _num(x: Any) -> float | None:
    """A plain float, or None for NaN/inf/None (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def _ci(samples: np.ndarray) -> list[float] | None:
    return percentile_ci(samples)


def _thin(n: int) -> np.ndarray:
    """Indices of at most MAX_CURVE_POINTS evenly spread points, both ends kept (plots only)."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(int))


def _pick_pair(
    names: list[str], mean_q: np.ndarray, mean_c: np.ndarray | None, strong: str | None, weak: str | None
) -> tuple[str, str]:
    """Default strong = best single; weak = cheapest (no prices: lowest mean score), never = strong."""
    for given in (strong, weak):
        if given is not None and given not in names:
            raise DataError(f"model {given!r} has no scores in the test set ({', '.join(names)})", field="model")
    s = strong if strong is not None else names[best_single(mean_q[None, :], None if mean_c is None else mean_c[None, :])]
    if weak is not None:
        w = weak
    else:
        key = mean_c if mean_c is not None else mean_q
        ranked = [names[j] for j in np.lexsort((mean_q, key))]
        w = next(m for m in ranked if m != s)
    if s == w:
        raise DataError(f"strong and weak are the same model {s!r}", field="weak")
    return s, w


def default_pair(data: Dataset, strong: str | None = None, weak: str | None = None) -> tuple[str, str]:
    """The (strong, weak) pair evaluation uses on ``data``: best single model and cheapest model.

    Used by ``routecraft train`` to record the pair in the artifact, so ``calibrate``
    and serving know which model is "strong" without asking.
    """
    models = data.models
    scores = data.score_matrix(models)
    keep = [j for j in range(len(models)) if np.isfinite(scores[:, j]).any()]
    names = [models[j] for j in keep]
    if len(names) < 2:
        raise DataError(f"dataset '{data.name}' has scores for fewer than two models")
    cost = data.cost_matrix(names)
    mean_c = np.nanmean(cost, axis=0) if np.isfinite(cost).all() else None
    return _pick_pair(names, np.nanmean(scores[:, keep], axis=0), mean_c, strong, weak)


def _pair_metrics(scores: np.ndarray, s_true: np.ndarray, w_true: np.ndarray, n_boot: int, seed: int) -> dict:
    data = PairData(scores, s_true, w_true)
    point = data.block(np.ones((1, data.n)))
    stats = {
        "apgr": lambda b: b.apgr,
        "apgr_routellm": lambda b: b.apgr_routellm,
        **{f"cpt{round(x * 100)}": (lambda b, x=x: b.cpt(x)) for x in CPT_LEVELS},
        **{f"cpt{round(x * 100)}_routellm": (lambda b, x=x: b.cpt_routellm(x)) for x in CPT_LEVELS},
    }
    boots: dict[str, list[np.ndarray]] = {k: [] for k in stats}
    for w in bootstrap_counts(data.n, n_boot, seed):
        block = data.block(w)
        for k, f in stats.items():
            boots[k].append(f(block))
    out: dict[str, Any] = {}
    for k, f in stats.items():
        out[k] = _num(f(point)[0])
        out[f"{k}_ci"] = _ci(np.concatenate(boots[k])) if boots[k] else None
    keep = _thin(point.c.shape[1])
    out["strong_quality"] = _num(point.r_strong[0])
    out["weak_quality"] = _num(point.r_weak[0])
    out["pair_oracle"] = {
        "strong_fraction": _num(np.mean(s_true > w_true)),
        "quality": _num(np.mean(np.maximum(s_true, w_true))),
    }
    out["pgr_curve"] = {
        "strong_fraction": point.c[0, keep].tolist(),
        "quality": point.quality[0, keep].tolist(),
        "pgr": [_num(x) for x in point.pgr[0, keep]],
    }
    out["routellm_curve"] = {"strong_fraction": point.rl_c[0].tolist(), "quality": point.rl_acc[0].tolist()}
    return out


class _MultiResult:
    """Multi-model metrics of one router plus the curve samples the joint AIQ needs."""

    def __init__(self, q: np.ndarray, s: np.ndarray, c: np.ndarray | None, names: list[str], n_boot: int, seed: int,
                 c_decide: np.ndarray | None = None):
        n, m = s.shape
        cd = c if c_decide is None else c_decide  # what the policy decides on; c is what it then pays
        choice = cost_decide(q, cd, 0.0)
        best = best_single(s, c)
        oracle = oracle_choice(s, c)
        columns = [take(s, choice), take(s, oracle), s[:, best]]
        if c is not None:
            self.lams = lam_grid(q, cd)
            decisions = sweep_decisions(q, cd, self.lams)
            columns += [take(c, choice), take(c, oracle), c[:, best]]
        table = np.column_stack(columns + ([take(c, decisions), take(s, decisions)] if c is not None else []))
        point = table.mean(axis=0)
        boot = bootstrap_means(table, n_boot, seed) if n_boot > 0 else np.empty((0, table.shape[1]))

        def gap(v: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (v[..., 0] - v[..., 2]) / (v[..., 1] - v[..., 2])

        r: dict[str, Any] = {
            "n_multi": int(n),
            "quality": _num(point[0]),
            "quality_ci": _ci(boot[:, 0]),
            "best_single": {"model": names[best], "quality": _num(point[2])},
            "oracle": {"quality": _num(point[1])},
            "gap_closed": _num(gap(point)),
            "gap_closed_ci": _ci(gap(boot)),
            "cost": None, "cost_ci": None, "arena_score": None, "arena_score_ci": None,
            "cost_to_match_best_single": None, "quality_at_half_best_single_cost": None,
            "cost_quality_curve": None, "random_mix": None,
        }
        self.points: np.ndarray | None = None
        self.boot_points: np.ndarray | None = None
        if c is not None:
            L = len(self.lams)
            self.points = np.column_stack([point[6 : 6 + L], point[6 + L :]])
            self.boot_points = np.stack([boot[:, 6 : 6 + L], boot[:, 6 + L :]], axis=-1)
            hull = ndch(self.points)
            mean_c, mean_q = c.mean(axis=0), s.mean(axis=0)
            cheapest = int(cost_decide(-mean_c[None, :], None, 0.0)[0])
            half = FRACTION_OF_BEST_COST * boot[:, 5]
            boot_hulls = [ndch(p) for p in self.boot_points]
            matched = np.array([np.nan if (v := cost_to_match(h, t)) is None else v for h, t in zip(boot_hulls, boot[:, 2])])
            r.update(
                # no interval when the router never matches on the data itself; the share of resamples that match
                cost_to_match_best_single_ci=_ci(matched) if cost_to_match(hull, point[2]) is not None else None,
                cost_to_match_best_single_share_matched=_num(np.mean(np.isfinite(matched))) if len(matched) else None,
                quality_at_half_best_single_cost_ci=_ci(np.array(
                    [np.nan if (v := quality_at_cost(h, u)) is None else v for h, u in zip(boot_hulls, half)])),
            )
            r.update(
                cost=_num(point[3]),
                cost_ci=_ci(boot[:, 3]),
                arena_score=_num(arena_score(point[0], point[3])),
                arena_score_ci=_ci(np.array([arena_score(a, u) for a, u in boot[:, [0, 3]]])),
                cost_to_match_best_single=_num(cost_to_match(hull, point[2])),
                quality_at_half_best_single_cost=_num(quality_at_cost(hull, FRACTION_OF_BEST_COST * point[5])),
                cost_quality_curve={
                    "lam": self.lams.tolist(),
                    "cost": self.points[:, 0].tolist(),
                    "quality": self.points[:, 1].tolist(),
                    "hull_cost": hull[:, 0].tolist(),
                    "hull_quality": hull[:, 1].tolist(),
                },
                random_mix={
                    "cheapest": {"model": names[cheapest], "cost": _num(mean_c[cheapest]), "quality": _num(mean_q[cheapest])},
                    "best_single": {"model": names[best], "cost": _num(mean_c[best]), "quality": _num(mean_q[best])},
                },
            )
            r["best_single"]["cost"] = _num(point[5])
            r["oracle"]["cost"] = _num(point[4])
        self.result = r


def _evaluate_one(
    name: str, router: Router, test: Dataset, strong: str | None, weak: str | None, n_boot: int, seed: int,
    decision_cost: DecisionCost | None = None,
) -> tuple[dict[str, Any], _MultiResult]:
    models = list(router.models_)
    scores = test.score_matrix(models)
    has_scores = np.isfinite(scores).any(axis=0)
    pool = [j for j in range(len(models)) if has_scores[j]]
    names = [models[j] for j in pool]
    if len(pool) < 2:
        raise DataError(f"test set '{test.name}' has true scores for fewer than two of the router's models")
    q = router.predict_quality(test)[:, pool]
    s = scores[:, pool]
    c = test.cost_matrix(models)[:, pool]
    complete = np.isfinite(s).all(axis=1)
    if not complete.any():
        raise DataError(f"no query in test set '{test.name}' has a true score for every model of the pool")
    priced = bool(np.isfinite(c[complete]).all())
    c_use = c[complete] if priced else None

    pair = _pick_pair(
        names, s[complete].mean(axis=0), None if c_use is None else c_use.mean(axis=0), strong, weak
    )
    si, wi = names.index(pair[0]), names.index(pair[1])
    in_pair = np.isfinite(s[:, si]) & np.isfinite(s[:, wi])
    routing = pair_score_from_quality(q[in_pair], si, wi, router.quality_kind)

    result: dict[str, Any] = {
        "router": name,
        "dataset": test.name,
        "n_test": len(test),
        "n_pair": int(in_pair.sum()),
        "n_excluded": int((~in_pair).sum()),
        "n_excluded_multi": int((~complete).sum()),
        "models": names,
        "strong": pair[0],
        "weak": pair[1],
        "quality_kind": router.quality_kind,
        "n_boot": int(n_boot),
        "seed": int(seed),
    }
    result.update(_pair_metrics(routing, s[in_pair, si], s[in_pair, wi], n_boot, seed))
    c_dec = None
    if decision_cost is not None and c_use is not None:
        c_dec = np.asarray(decision_cost(test, names), dtype=float)[complete]
        c_dec = c_dec if np.isfinite(c_dec).all() else None
    result["missing_outcomes"] = "multi-model metrics on complete test queries only"
    result["decision_cost"] = "expected (output-length model)" if c_dec is not None else "measured"
    multi = _MultiResult(q[complete], s[complete], c_use, names, n_boot, seed, c_dec)
    result.update(multi.result)
    result["aiq"] = None
    result["aiq_ci"] = None
    return result, multi


def evaluate_routers(
    routers: dict[str, Router],
    test: Dataset,
    *,
    strong: str | None = None,
    weak: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    decision_cost: DecisionCost | None = None,
) -> list[dict[str, Any]]:
    """Evaluate fitted routers on ``test``; AIQ is computed jointly (one shared max cost).

    Fit an ``OracleRouter`` on ``test`` itself before passing it in. ``decision_cost(test,
    models)`` gives the (n, m) cost the cost policy decides on (e.g. prices × predicted
    output length); by default it decides on the test set's own (measured) costs.
    """
    evaluated = [
        _evaluate_one(name, r, test, strong, weak, n_boot, seed, decision_cost) for name, r in routers.items()
    ]
    priced = {res["router"]: m for res, m in evaluated if m.points is not None}
    if priced:
        point = aiq({k: m.points for k, m in priced.items()})
        same_queries = len({res["n_multi"] for res, m in evaluated if m.points is not None}) == 1
        boot = {k: [] for k in priced}
        if same_queries and n_boot > 0:
            for b in range(n_boot):
                for k, v in aiq({k: m.boot_points[b] for k, m in priced.items()}).items():
                    boot[k].append(np.nan if v is None else v)
        for res, _ in evaluated:
            if res["router"] in priced:
                res["aiq"] = _num(point[res["router"]])
                res["aiq_ci"] = _ci(np.array(boot[res["router"]])) if boot[res["router"]] else None
    return [res for res, _ in evaluated]


def evaluate_router(
    router: Router,
    test: Dataset,
    *,
    name: str | None = None,
    strong: str | None = None,
    weak: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate one fitted router on ``test`` (see :func:`evaluate_routers`)."""
    return evaluate_routers({name or type(router).__name__: router}, test, strong=strong, weak=weak, n_boot=n_boot, seed=seed)[0]
