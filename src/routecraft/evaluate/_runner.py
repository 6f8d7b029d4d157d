"""`evaluate_router(s)`: every DESIGN §6 metric of fitted routers on a labelled test set.

One JSON-ready dict per router: two-model metrics (APGR both ways, CPT) for a
strong/weak pair, multi-model metrics (cost–quality curve, AIQ, RouterArena score,
best single, oracle, cost to match the best single model, gap closed, model mix) for
the whole pool, each headline number with a seeded 95% bootstrap interval over
queries, paired differences against reference routers, plus the curve points the
plots draw.

Choices the definitions leave open:
- **no peeking**: the default strong/weak pair, the best-single reference and the
  random-mix end points are chosen on ``reference`` (the train split), never on test
  means: strong = best train-mean model, weak = cheapest by train mean cost (without
  prices: the lowest train-mean model, and the result says so). Only the oracle, an
  upper bound by definition, looks at test scores. Without ``reference`` the choice
  falls back to the test set and every result carries a warning saying so;
- ``quality``/``cost`` are the router's own operating point: ``CostPolicy(lam=0)``,
  the model with the highest Q̂ (ties → cheaper); ``model_mix`` is the share of test
  queries it sends to each model there;
- two-model metrics drop queries without a true score for strong or weak; multi-model
  metrics drop queries without a true score for every pool model (both counted);
- prices that cover only some models leave the cost metrics out, with a one-line
  warning naming the unpriced models (``warnings`` in each result);
- **paired bootstrap**: one :class:`~routecraft.policy.Resamples` of the test set, in
  test-set order, feeds every statistic of every router; a statistic on a subset of
  queries uses those queries' counts. So ``paired`` differences (router − reference,
  per resample) have honest intervals, and router − itself is exactly 0. References:
  the run's random router and best-single router (found by class), plus any
  ``compare`` pair. Undefined resamples (e.g. strong and weak tie on a resample) are
  left out of an interval and counted in ``ci_undefined``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._errors import DataError, RoutecraftError
from ..data._dataset import Dataset
from ..policy._bootstrap import Resamples, n_undefined, percentile_ci
from ..policy._calibrate import calibrate_threshold
from ..policy._cost import cost_decide
from ..routers._base import Router, pair_score_from_quality
from ..routers._baselines import BestSingleRouter, RandomRouter
from ._costq import (
    aiq_of_hulls,
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

CPT_LEVELS = (0.5, 0.8)
MAX_CURVE_POINTS = 501
FRACTION_OF_BEST_COST = 0.5
CALIBRATION_SHARES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
PAIRED_METRICS = ("apgr", "apgr_routellm", "quality", "aiq", "quality_at_equal_cost")

Progress = Callable[[str, int, int], None]  # (step, done, total)
DecisionCost = Callable[[Dataset, list], np.ndarray]  # (test, models) -> (n, m) USD the cost policy decides on


def _num(x: Any) -> float | None:
    """A plain float, or None for NaN/inf/None (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


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


def _scored_models(data: Dataset) -> list[str]:
    scores = data.score_matrix(data.models)
    return [m for j, m in enumerate(data.models) if np.isfinite(scores[:, j]).any()]


def _mean_cost(data: Dataset, names: list[str]) -> np.ndarray | None:
    """Mean USD per query of each model on ``data``, or None unless every model is priced."""
    cost = data.cost_matrix(names)
    return np.nanmean(cost, axis=0) if np.isfinite(cost).any(axis=0).all() else None


def default_pair(data: Dataset, strong: str | None = None, weak: str | None = None) -> tuple[str, str]:
    """The (strong, weak) pair chosen on ``data`` (pass the train split): best single and cheapest.

    Used by ``routecraft train`` to record the pair in the artifact, so ``calibrate``
    and serving know which model is "strong" without asking.
    """
    names = _scored_models(data)
    if len(names) < 2:
        raise DataError(f"dataset '{data.name}' has scores for fewer than two models")
    mean_q = np.nanmean(data.score_matrix(names), axis=0)
    return _pick_pair(names, mean_q, _mean_cost(data, names), strong, weak)


@dataclass
class _Run:
    """What every router of one run shares: test truth, masks, references chosen on train, resamples."""

    names: list[str]
    s: np.ndarray  # (n, m) true scores, test order
    c: np.ndarray | None  # (n, m) USD, None when the pool is not fully priced
    complete: np.ndarray  # rows with a score for every model
    in_pair: np.ndarray  # rows with strong and weak scores
    si: int
    wi: int
    best: int  # best single (chosen on the reference)
    cheapest: int
    chosen_on: str
    resamples: Resamples
    tasks: np.ndarray | None
    warnings: list[str] = field(default_factory=list)
    c_decide: np.ndarray | None = None  # (n, m) cost the cost policy decides on; None: the measured ``c``

    @property
    def decision_c(self) -> np.ndarray | None:
        return self.c if self.c_decide is None else self.c_decide


def _prepare(
    test: Dataset, reference: Dataset | None, strong: str | None, weak: str | None, n_boot: int, seed: int,
    decision_cost: DecisionCost | None = None,
) -> _Run:
    names = _scored_models(test)
    if len(names) < 2:
        raise DataError(f"test set '{test.name}' has true scores for fewer than two models")
    s = test.score_matrix(names)
    complete = np.isfinite(s).all(axis=1)
    if not complete.any():
        raise DataError(f"no query in test set '{test.name}' has a true score for every model of the pool")
    warnings: list[str] = []
    cost = test.cost_matrix(names)
    priced_cols = np.isfinite(cost[complete]).all(axis=0)
    if priced_cols.all():
        c = cost
    else:
        c = None
        if priced_cols.any():
            unpriced = [m for m, ok in zip(names, priced_cols) if not ok]
            warnings.append(
                f"prices cover {int(priced_cols.sum())} of {len(names)} models; unpriced: {', '.join(unpriced)} "
                "— cost metrics (AIQ, Arena, $/query) are left out"
            )
    ref = reference if reference is not None else test
    chosen_on = "train" if reference is not None else "test"
    if reference is None and (strong is None or weak is None):
        warnings.append("no train split given: the default pair and best single are chosen on the test set")
    ref_s = ref.score_matrix(names)
    with np.errstate(invalid="ignore"):
        mean_q = np.nanmean(ref_s, axis=0) if np.isfinite(ref_s).any(axis=0).all() else np.full(len(names), np.nan)
    if not np.isfinite(mean_q).all():
        missing = [m for m, v in zip(names, mean_q) if not np.isfinite(v)]
        raise DataError(f"the {chosen_on} split has no scores for {', '.join(missing)}", field="model")
    mean_c = _mean_cost(ref, names) if c is not None else None
    if c is None and weak is None:
        warnings.append("the pool has no prices: weak = the lowest-scoring model on the train split")
    pair = _pick_pair(names, mean_q, mean_c, strong, weak)
    si, wi = names.index(pair[0]), names.index(pair[1])
    best = best_single(mean_q[None, :], None if mean_c is None else mean_c[None, :])
    cheapest = int(cost_decide(-mean_c[None, :], None, 0.0)[0]) if mean_c is not None else wi
    in_pair = np.isfinite(s[:, si]) & np.isfinite(s[:, wi])
    tasks = test.queries["task"].astype(str).to_numpy() if "task" in test.queries.columns else None
    c_decide = None
    if decision_cost is not None and c is not None:
        c_decide = np.asarray(decision_cost(test, names), dtype=float)
        c_decide = c_decide if np.isfinite(c_decide[complete]).all() else None
    return _Run(names, s, c, complete, in_pair, si, wi, best, cheapest, chosen_on,
                Resamples(len(test), n_boot, seed), tasks, warnings, c_decide)


def _predict(name: str, router: Router, test: Dataset, run: _Run, given: np.ndarray | None = None) -> np.ndarray:
    """Q̂ on the run's pool (``given``: already predicted on ``test``); NaN or inf is an error naming the router."""
    models = list(router.models_)
    missing = [m for m in run.names if m not in models]
    if missing:
        raise DataError(f"router {name!r} has no model {', '.join(map(repr, missing))} of the test pool", field="model")
    full = router.predict_quality(test) if given is None else given
    if full.shape != (len(test), len(models)):
        raise DataError(f"quality given for router {name!r} has shape {full.shape}, expected {(len(test), len(models))}")
    q = np.asarray(full, dtype=float)[:, [models.index(m) for m in run.names]]
    bad = ~np.isfinite(q)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise RoutecraftError(
            f"router {name!r} returned NaN or infinite quality for {len(rows)} of {len(q)} test queries "
            f"(first: query_id {test.query_ids[rows[0]]!r}); it cannot be evaluated"
        )
    return q


def _interval(samples: np.ndarray, key: str, out: dict[str, Any], undefined: dict[str, int]) -> None:
    out[f"{key}_ci"] = percentile_ci(samples) if samples.size else None
    undefined[key] = n_undefined(samples)


_PAIR_STATS: dict[str, Callable] = {
    "apgr": lambda b: b.apgr,
    "apgr_routellm": lambda b: b.apgr_routellm,
    **{f"cpt{round(x * 100)}": (lambda b, x=x: b.cpt(x)) for x in CPT_LEVELS},
    **{f"cpt{round(x * 100)}_routellm": (lambda b, x=x: b.cpt_routellm(x)) for x in CPT_LEVELS},
}


def _pair_metrics(routing: np.ndarray, run: _Run, qcut: str, undefined: dict[str, int]) -> tuple[dict, dict]:
    """Two-model metrics on the pair subset; also returns every statistic's per-resample values."""
    mask = run.in_pair
    s_true, w_true = run.s[mask, run.si], run.s[mask, run.wi]
    data = PairData(routing[mask], s_true, w_true, qcut=qcut)
    point = data.block(np.ones((1, data.n)))
    boots: dict[str, list[np.ndarray]] = {k: [] for k in _PAIR_STATS}
    for w in run.resamples.blocks(mask):
        block = data.block(w)
        for k, f in _PAIR_STATS.items():
            boots[k].append(f(block))
    samples = {k: np.concatenate(v) if v else np.empty(0) for k, v in boots.items()}
    out: dict[str, Any] = {}
    for k, f in _PAIR_STATS.items():
        out[k] = _num(f(point)[0])
        _interval(samples[k], k, out, undefined)
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
    return out, samples


def _calibration(routing: np.ndarray, run: _Run) -> list[dict[str, Any]]:
    """Threshold → realised strong share, $/query and quality on the test queries (RouteLLM calibration)."""
    mask = run.in_pair
    scores = routing[mask]
    rows = []
    for share in CALIBRATION_SHARES:
        cal = calibrate_threshold(scores, share, n_boot=0)
        strong = scores >= cal.threshold
        quality = np.where(strong, run.s[mask, run.si], run.s[mask, run.wi]).mean()
        usd = None
        if run.c is not None:
            usd = _num(np.where(strong, run.c[mask, run.si], run.c[mask, run.wi]).mean())
        rows.append({
            "target_strong_fraction": share,
            "threshold": _num(cal.threshold),
            "strong_fraction": _num(cal.strong_fraction),
            "usd_per_query": usd,
            "quality": _num(quality),
        })
    return rows


class _MultiResult:
    """Multi-model metrics of one router plus the per-resample values pairing and AIQ need."""

    def __init__(self, q: np.ndarray, run: _Run, undefined: dict[str, int]):
        self._boot_hulls: dict[int, np.ndarray] = {}
        mask = run.complete
        s = run.s[mask]
        c = None if run.c is None else run.c[mask]
        cd = None if run.decision_c is None else run.decision_c[mask]  # decided on; ``c`` is what is paid
        qm = q[mask]
        names = run.names
        choice = cost_decide(qm, cd, 0.0)
        oracle = oracle_choice(s, c)
        best = run.best
        columns = [take(s, choice), take(s, oracle), s[:, best]]
        if c is not None:
            self.lams = lam_grid(qm, cd)
            decisions = sweep_decisions(qm, cd, self.lams)
            columns += [take(c, choice), take(c, oracle), c[:, best], take(c, decisions), take(s, decisions)]
        table = np.column_stack(columns)
        point = table.mean(axis=0)
        boot = run.resamples.means(table, mask) if run.resamples.n_boot > 0 else np.empty((0, table.shape[1]))

        def gap(v: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (v[..., 0] - v[..., 2]) / (v[..., 1] - v[..., 2])

        all_choice = cost_decide(q, run.decision_c, 0.0)
        mix = np.bincount(all_choice, minlength=len(names)) / len(all_choice)
        r: dict[str, Any] = {
            "n_multi": int(mask.sum()),
            "quality": _num(point[0]),
            "best_single": {"model": names[best], "quality": _num(point[2]), "chosen_on": run.chosen_on},
            "oracle": {"quality": _num(point[1])},
            "gap_closed": _num(gap(point)),
            "model_mix": {m: float(f) for m, f in zip(names, mix)},
            "cost": None, "cost_ci": None, "arena_score": None, "arena_score_ci": None,
            "cost_to_match_best_single": None, "quality_at_half_best_single_cost": None,
            "cost_quality_curve": None, "random_mix": None,
        }
        self.samples: dict[str, np.ndarray] = {"quality": boot[:, 0]}
        _interval(boot[:, 0], "quality", r, undefined)
        _interval(gap(boot), "gap_closed", r, undefined)
        self.points: np.ndarray | None = None
        self.boot_points: np.ndarray | None = None
        self.cost_samples: np.ndarray | None = None
        self.point_cost: float | None = None
        if c is not None:
            L = len(self.lams)
            self.points = np.column_stack([point[6 : 6 + L], point[6 + L :]])
            self.boot_points = np.stack([boot[:, 6 : 6 + L], boot[:, 6 + L :]], axis=-1)
            self.cost_samples = boot[:, 3]
            self.point_cost = float(point[3])
            self.hull = ndch(self.points)
            mean_c, mean_q = c.mean(axis=0), s.mean(axis=0)
            arena = np.array([arena_score(a, u) for a, u in boot[:, [0, 3]]])
            r.update(
                cost=_num(point[3]),
                arena_score=_num(arena_score(point[0], point[3])),
                cost_to_match_best_single=_num(cost_to_match(self.hull, point[2])),
                quality_at_half_best_single_cost=_num(quality_at_cost(self.hull, FRACTION_OF_BEST_COST * point[5])),
                cost_quality_curve={
                    "lam": self.lams.tolist(),
                    "cost": self.points[:, 0].tolist(),
                    "quality": self.points[:, 1].tolist(),
                    "hull_cost": self.hull[:, 0].tolist(),
                    "hull_quality": self.hull[:, 1].tolist(),
                },
                random_mix={
                    end: {"model": names[j], "cost": _num(mean_c[j]), "quality": _num(mean_q[j])}
                    for end, j in (("cheapest", run.cheapest), ("best_single", best))
                },
            )
            _interval(boot[:, 3], "cost", r, undefined)
            _interval(arena, "arena_score", r, undefined)
            self._hull_intervals(r, boot, point, undefined)
            r["best_single"]["cost"] = _num(point[5])
            r["oracle"]["cost"] = _num(point[4])
        self.result = r

    def _hull_intervals(self, r: dict[str, Any], boot: np.ndarray, point: np.ndarray, undefined: dict[str, int]) -> None:
        """Intervals of cost-to-match and quality-at-half-cost; none for cost-to-match when the point never matches."""
        matched = np.array([
            np.nan if (v := cost_to_match(self.hull_at(b), boot[b, 2])) is None else v for b in range(len(boot))
        ])
        half = np.array([_quality_at(self, b, FRACTION_OF_BEST_COST * boot[b, 5]) for b in range(len(boot))])
        if r["cost_to_match_best_single"] is not None:
            _interval(matched, "cost_to_match_best_single", r, undefined)
        else:
            r["cost_to_match_best_single_ci"] = None
        r["cost_to_match_best_single_share_matched"] = _num(np.mean(np.isfinite(matched))) if len(matched) else None
        _interval(half, "quality_at_half_best_single_cost", r, undefined)

    def hull_at(self, b: int | None) -> np.ndarray:
        """The hull of the point curve (``None``) or of resample ``b``'s curve, computed once."""
        if b is None:
            return self.hull
        if b not in self._boot_hulls:
            self._boot_hulls[b] = ndch(self.boot_points[b])
        return self._boot_hulls[b]


def _per_task(q: np.ndarray, routing: np.ndarray, run: _Run, qcut: str) -> list[dict[str, Any]] | None:
    """Point metrics per task (no intervals): n, quality of the operating point, best single, oracle, APGR."""
    if run.tasks is None:
        return None
    rows = []
    choice = cost_decide(q, run.decision_c, 0.0)
    for task in sorted(set(run.tasks[run.complete].tolist())):
        m = run.complete & (run.tasks == task)
        s = run.s[m]
        pair = run.in_pair & (run.tasks == task)
        block = PairData(routing[pair], run.s[pair, run.si], run.s[pair, run.wi], qcut=qcut).block(np.ones((1, int(pair.sum()))))
        rows.append({
            "task": task,
            "n": int(m.sum()),
            "quality": _num(take(s, choice[m]).mean()),
            "best_single_quality": _num(s[:, run.best].mean()),
            "oracle_quality": _num(s.max(axis=1).mean()),
            "cost": None if run.c is None else _num(take(run.c[m], choice[m]).mean()),
            "apgr": _num(block.apgr[0]),
        })
    return rows


@dataclass
class _Evaluated:
    result: dict[str, Any]
    pair_samples: dict[str, np.ndarray]
    multi: _MultiResult
    router: Router


def _evaluate_one(
    name: str, router: Router, test: Dataset, run: _Run, qcut: str, given: np.ndarray | None = None
) -> _Evaluated:
    q = _predict(name, router, test, run, given)
    routing = pair_score_from_quality(q, run.si, run.wi, router.quality_kind)
    undefined: dict[str, int] = {}
    result: dict[str, Any] = {
        "router": name,
        "dataset": test.name,
        "n_test": len(test),
        "n_pair": int(run.in_pair.sum()),
        "n_excluded": int((~run.in_pair).sum()),
        "n_excluded_multi": int((~run.complete).sum()),
        "models": run.names,
        "strong": run.names[run.si],
        "weak": run.names[run.wi],
        "pair_chosen_on": run.chosen_on,
        "quality_kind": router.quality_kind,
        "n_boot": run.resamples.n_boot,
        "seed": run.resamples.seed,
        "qcut": qcut,
        "warnings": list(run.warnings),
        "missing_outcomes": "multi-model metrics on complete test queries only",
        "decision_cost": "expected (output-length model)" if run.c_decide is not None else "measured",
    }
    pair, pair_samples = _pair_metrics(routing, run, qcut, undefined)
    result.update(pair)
    multi = _MultiResult(q, run, undefined)
    result.update(multi.result)
    result["aiq"] = None
    result["aiq_ci"] = None
    result["calibration"] = _calibration(routing, run)
    result["per_task"] = _per_task(q, routing, run, qcut)
    result["ci_undefined"] = undefined
    manifest = getattr(router, "artifact_manifest_", None)
    if manifest:  # a router loaded from an artifact: its card goes into the report
        from ..artifact._card import render_card

        result["router_card"] = render_card(manifest)
    return _Evaluated(result, pair_samples, multi, router)


def _joint_aiq(evaluated: list[_Evaluated], n_boot: int, on_progress: Progress | None) -> dict[str, np.ndarray]:
    """AIQ of every priced router, point and per resample, all hulls against one shared max cost."""
    priced = {e.result["router"]: e.multi for e in evaluated if e.multi.points is not None}
    if not priced:
        return {}
    point = aiq_of_hulls({k: m.hull for k, m in priced.items()})
    samples = {k: np.full(n_boot, np.nan) for k in priced}
    for b in range(n_boot):
        for k, v in aiq_of_hulls({k: m.hull_at(b) for k, m in priced.items()}).items():
            samples[k][b] = np.nan if v is None else v
        if on_progress and (b + 1) % 100 == 0:
            on_progress("bootstrap AIQ", b + 1, n_boot)
    for e in evaluated:
        k = e.result["router"]
        if k in priced:
            e.result["aiq"] = _num(point[k])
            _interval(samples[k], "aiq", e.result, e.result["ci_undefined"])
            e.multi.samples["aiq"] = samples[k]
            e.multi.samples["aiq_point"] = np.array([np.nan if point[k] is None else point[k]])
    return samples


def _quality_at(multi: _MultiResult, b: int | None, usd: float) -> float:
    v = quality_at_cost(multi.hull_at(b), usd)
    return np.nan if v is None else v


def _stat(e: _Evaluated, key: str) -> tuple[float, np.ndarray]:
    """(point, per-resample values) of one paired statistic of a router; NaNs where undefined."""
    r = e.result
    if key in ("apgr", "apgr_routellm"):
        return (np.nan if r[key] is None else r[key]), e.pair_samples[key]
    if key == "quality":
        return r["quality"], e.multi.samples["quality"]
    if key == "aiq" and "aiq" in e.multi.samples:
        return float(e.multi.samples["aiq_point"][0]), e.multi.samples["aiq"]
    raise KeyError(key)


def _paired(x: _Evaluated, ref: _Evaluated, role: str, n_boot: int) -> dict[str, Any]:
    """Router x − reference, per resample (same resample indices), with intervals and undefined counts."""
    out: dict[str, Any] = {"role": role}
    for key in PAIRED_METRICS:
        if key == "quality_at_equal_cost":
            # each router's best reachable quality (its hull) at the reference's own spend
            if x.multi.points is None or ref.multi.points is None:
                continue
            usd = ref.multi.point_cost
            point = _quality_at(x.multi, None, usd) - _quality_at(ref.multi, None, usd)
            diffs = np.array([
                _quality_at(x.multi, b, ref.multi.cost_samples[b]) - _quality_at(ref.multi, b, ref.multi.cost_samples[b])
                for b in range(n_boot)
            ])
        else:
            try:
                px, sx = _stat(x, key)
                pr, sr = _stat(ref, key)
            except KeyError:
                continue
            point = px - pr
            with np.errstate(invalid="ignore"):
                diffs = sx - sr
        out[key] = {"diff": _num(point), "ci": percentile_ci(diffs) if diffs.size else None,
                    "n_undefined": n_undefined(diffs)}
    return out


def _references(evaluated: list[_Evaluated]) -> list[tuple[str, str]]:
    """(role, name) of the run's first random router and first best-single router."""
    refs = []
    for role, cls in (("random", RandomRouter), ("best_single", BestSingleRouter)):
        found = next((e.result["router"] for e in evaluated if type(e.router) is cls), None)
        if found is not None:
            refs.append((role, found))
    return refs


def evaluate_routers(
    routers: dict[str, Router],
    test: Dataset,
    *,
    reference: Dataset | None = None,
    strong: str | None = None,
    weak: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    compare: Sequence[tuple[str, str]] = (),
    qcut: str = "pandas3",
    on_progress: Progress | None = None,
    decision_cost: DecisionCost | None = None,
    quality: dict[str, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate fitted routers on ``test``; AIQ is computed jointly (one shared max cost).

    ``reference`` is the train split: the default pair, best single and random-mix ends
    are chosen on it. ``compare`` lists extra (A, B) router-name pairs whose paired
    difference A − B goes into A's ``paired``. Fit an ``OracleRouter`` on ``test``
    itself before passing it in. ``on_progress(step, done, total)`` is called as
    routers finish and as the joint bootstrap advances. ``decision_cost(test, models)``
    gives the (n, m) cost the cost policy decides on (e.g. prices × predicted output
    length); by default it decides on the test set's own (measured) costs, which are
    always what a decision pays. ``quality`` maps router names to Q̂ already predicted
    on ``test`` in ``router.models_`` order (e.g. by ``routecraft.engine``), so a large
    test set is not embedded twice.
    """
    run = _prepare(test, reference, strong, weak, n_boot, seed, decision_cost)
    evaluated = []
    for i, (name, r) in enumerate(routers.items()):
        evaluated.append(_evaluate_one(name, r, test, run, qcut, (quality or {}).get(name)))
        if on_progress:
            on_progress("bootstrap", i + 1, len(routers))
    _joint_aiq(evaluated, n_boot, on_progress)
    by_name = {e.result["router"]: e for e in evaluated}
    for a, b in compare:
        for n in (a, b):
            if n not in by_name:
                raise RoutecraftError(f"--compare names router {n!r}, which is not in this run ({', '.join(by_name)})")
    refs = _references(evaluated)
    for e in evaluated:
        e.result["paired"] = {ref: _paired(e, by_name[ref], role, n_boot) for role, ref in refs}
        for a, b in compare:
            if a == e.result["router"]:
                e.result["paired"][b] = _paired(e, by_name[b], "requested", n_boot)
    return [e.result for e in evaluated]


def evaluate_router(
    router: Router,
    test: Dataset,
    *,
    name: str | None = None,
    reference: Dataset | None = None,
    strong: str | None = None,
    weak: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate one fitted router on ``test`` (see :func:`evaluate_routers`)."""
    return evaluate_routers(
        {name or type(router).__name__: router}, test,
        reference=reference, strong=strong, weak=weak, n_boot=n_boot, seed=seed,
    )[0]
