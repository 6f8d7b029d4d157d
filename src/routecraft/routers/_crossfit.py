"""Routers built on other routers by cross-fitting: a stacked ensemble and a calibrator.

Both learn a small combiner on *out-of-fold* predictions of their base routers: the
training queries are split into ``n_folds`` folds by query, each base router is fitted
on all folds but one and predicts the held-out one, so every training query gets a
Q̂ from a router that never saw it. The combiner is fitted on those, and the base
routers are then refitted on the whole training set for deployment. Test data never
enters. Without cross-fitting the combiner would learn to trust whichever base
router overfits its training set most (kNN's self-match, trees' memorised leaves).

- :class:`StackedRouter` — per pool model, a logistic regression on the logits of
  every base router's Q̂ for that model (soft labels): weights learned per model,
  output a probability on the score scale whatever the bases' scales. With
  ``combiner="select"`` it instead keeps the one candidate — a base router or that
  logistic stack — whose out-of-fold Q̂ *ranks queries by their realised gain* best
  (:func:`gain_rank_area`). Routing is a ranking problem: a threshold on the strong −
  weak margin decides who pays for the strong model, so a combiner fitted to each
  model's Brier score separately can be well calibrated and still order the margin
  worse than one of its bases (it did on RouteLLM's GSM8K and MT-bench).
- :class:`CalibratedRouter` — one base router, per model an isotonic regression
  (or Platt scaling) from its out-of-fold Q̂ to the observed score, since policies
  compare Q̂ across models and raw learners are not calibrated alike.

The whole ensemble is one artifact: each base router's class, params and state are
nested in the JSON state, its arrays stored under ``child<i>.``. Bases are named by
registry spec (``"lightgbm"``, ``"knn-learned"``, ``"sw"``...), so only allow-listed
classes are ever rebuilt.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import rankdata

from .._errors import DataError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import Router, as_queries, pair_score_from_quality
from ._per_model import soft_logistic
from ._constraints import EMBEDDER, Interval, StrOptions, non_negative_real, positive_real, seed

_EPS = 1e-4
STACK_CANDIDATE = "logistic-stack"  # the name the logistic combiner competes under in "select"
_SE_BOOT = 200  # resamples for the standard error of select_default's rule (its own error ~5%)


def query_folds(data: Dataset, n_folds: int, seed: int) -> list[list[str]]:
    """Training query ids split into ``n_folds`` seeded folds."""
    ids = np.asarray(data.query_ids)
    if n_folds < 2 or len(ids) < n_folds:
        raise DataError(f"dataset '{data.name}': cross-fitting needs at least n_folds={n_folds} >= 2 queries")
    order = np.random.default_rng(seed).permutation(len(ids))
    return [sorted(ids[part].tolist()) for part in np.array_split(order, n_folds)]


def aligned(q: np.ndarray, router_models: Sequence[str], models: Sequence[str], fill: np.ndarray) -> np.ndarray:
    """Columns of ``q`` (in ``router_models`` order) reordered to ``models``; absent ones get ``fill``."""
    pos = {m: j for j, m in enumerate(router_models)}
    out = np.empty((len(q), len(models)))
    for j, m in enumerate(models):
        out[:, j] = q[:, pos[m]] if m in pos else fill[j]
    return out


def out_of_fold(make: Callable[[], Router], data: Dataset, folds: list[list[str]], prior: np.ndarray) -> np.ndarray:
    """Q̂ of every training query (rows in ``data`` order, columns ``data.models``) from a fold that never saw it."""
    row = {q: i for i, q in enumerate(data.query_ids)}
    out = np.empty((len(data), len(data.models)))
    every = set(data.query_ids)
    for fold in folds:
        router = make().fit(data.subset(sorted(every - set(fold))))
        held = data.subset(fold)
        q = router.predict_quality(held.queries[["query_id", "query"]])
        out[[row[i] for i in held.query_ids]] = aligned(q, router.models_, data.models, prior)
    return out


def _logits(q: np.ndarray) -> np.ndarray:
    return logit(np.clip(q, _EPS, 1 - _EPS))


def gain_rank_area(q: np.ndarray, scores: np.ndarray, kind: str) -> float:
    """How well ``q`` orders queries by realised gain, over every model pair, as a share of the oracle's.

    For a pair (j, k) a router routes the queries with the highest margin to j (its
    ``pair_score``); the area under the gain-captured curve of that ordering is, up to a
    constant, ``Σᵢ gᵢ (rᵢ − (n+1)/2)`` with ``gᵢ = sᵢⱼ − sᵢₖ`` the realised gain and ``rᵢ`` the
    query's rank by margin (ties share their mean rank, as a random tie-break would
    on average). Sorting by the true gain gives the largest value. The result pools the
    pairs, Σ router / Σ oracle: 1 is the oracle's order, 0 a constant router, < 0 worse
    than constant. For two models it is a linear function of APGR; for more it scores the
    margins every pairwise trade-off of a cost policy reads. Cells without a score drop out
    of that pair.
    """
    m = scores.shape[1]
    num = den = 0.0
    for j in range(m):
        for k in range(j + 1, m):
            ok = np.isfinite(scores[:, j]) & np.isfinite(scores[:, k])
            n = int(ok.sum())
            if n < 2:
                continue
            gain = scores[ok, j] - scores[ok, k]
            margin = pair_score_from_quality(q[ok], j, k, kind)
            num += float(gain @ (rankdata(margin) - (n + 1) / 2))
            den += float(gain @ (rankdata(gain) - (n + 1) / 2))
    return num / den if den > 0 else 0.0


def gain_rank_diff_se(a: tuple[np.ndarray, str], b: tuple[np.ndarray, str], scores: np.ndarray, n_boot: int, seed: int) -> float:
    """Standard error of ``gain_rank_area(a) − gain_rank_area(b)`` (each a ``(Q̂, kind)``) over
    paired bootstrap resamples of the rows (queries): both candidates are scored on the same
    resampled queries, ranks recomputed on each resample (a repeated query shares its rank).

    It measures how much a difference between two candidates' out-of-fold scores would move
    with another draw of training queries of the same size, the noise a choice among
    candidates on a small or 0/1-scored training set must not mistake for skill. It does not
    include the variation from refitting the bases on other folds, so it is a lower bound.
    """
    rng = np.random.default_rng(seed)
    n = len(scores)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, n, n)
        diffs[i] = gain_rank_area(a[0][idx], scores[idx], a[1]) - gain_rank_area(b[0][idx], scores[idx], b[1])
    return float(np.std(diffs, ddof=1)) if n_boot > 1 else 0.0


class _CrossFittedRouter(Router):
    """Shared machinery: build, cross-fit, refit, predict and persist the base routers."""

    def _specs(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _make(self, spec: str) -> Router:
        from ._registry import make_router, router_class, ROUTERS

        name = spec.partition(":")[0]
        params = dict((self.router_params or {}).get(spec, {}))
        if name in ROUTERS:
            cls = router_class(ROUTERS[name][0].partition(":")[2])
            if "embedder" in cls._get_param_names():
                params.setdefault("embedder", self.embedder)
            if "random_state" in cls._get_param_names():
                params.setdefault("random_state", self.random_state)
        router = make_router(spec, **params)
        if router.needs_test_labels:
            raise ValueError(f"{type(self).__name__} cannot combine {spec!r}: it reads test labels")
        return router

    def _fit(self, data: Dataset) -> None:
        specs = self._specs()
        if not specs:
            raise ValueError(f"{type(self).__name__} needs at least one base router")
        if data.outcomes is None:
            raise DataError(f"{type(self).__name__} learns its combiner from outcomes; dataset '{data.name}' has none")
        self.models_ = data.models
        scores = data.score_matrix(self.models_)
        if not np.isfinite(scores).any():
            raise DataError(f"dataset '{data.name}' has no scores to learn from")
        prior = np.nan_to_num(np.nanmean(scores, axis=0), nan=0.5)
        folds = query_folds(data, int(self.n_folds), int(self.random_state))
        oof = [out_of_fold(lambda s=s: self._make(s), data, folds, prior) for s in specs]
        fold_of = np.empty(len(data), dtype=int)
        row = {q: i for i, q in enumerate(data.query_ids)}
        for f, ids in enumerate(folds):
            fold_of[[row[i] for i in ids]] = f
        self.prior_ = prior
        self._fit_combiner(oof, scores, [self._make(s).quality_kind for s in specs], fold_of)
        self.children_ = [self._make(s).fit(data) for s in specs]

    def _base_predictions(self, queries: pd.DataFrame) -> list[np.ndarray]:
        return [aligned(c.predict_quality(queries), c.models_, self.models_, self.prior_) for c in self.children_]

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        return self._combine(self._base_predictions(queries))

    def _fit_combiner(self, oof: list[np.ndarray], scores: np.ndarray, kinds: list[str], fold_of: np.ndarray) -> None:
        """Learn the combiner from the bases' out-of-fold Q̂ (``kinds``: their quality kinds;
        ``fold_of``: each training row's fold, for a combiner that cross-validates itself)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _combine(self, q: list[np.ndarray]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from ..artifact._archive import _encode_param

        state, arrays = super()._get_state()
        children = []
        for i, child in enumerate(self.children_):
            c_state, c_arrays = child._get_state()
            if "__blobs__" in c_state:
                raise DataError(f"{type(child).__name__} stores binary blobs and cannot be nested in an ensemble")
            params = {k: _encode_param(k, v) for k, v in child.get_params(deep=False).items()}
            children.append({"class": type(child).__name__, "params": params, "state": c_state})
            arrays.update({f"child{i}.{k}": v for k, v in c_arrays.items()})
        return {**state, "children_": children}, {**arrays, "prior": self.prior_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ._registry import router_class

        super()._set_state(state, arrays)
        self.prior_ = arrays["prior"]
        self.children_ = []
        for i, info in enumerate(state["children_"]):
            child = router_class(info["class"])(**info["params"])
            prefix = f"child{i}."
            child._set_state(dict(info["state"]), {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
            self.children_.append(child)


class StackedRouter(_CrossFittedRouter):
    """Stacked ensemble: per model, a logistic regression on the base routers' out-of-fold logits.

    Parameters
    ----------
    routers : registry specs of the base routers.
    embedder : embedder spec given to every base router that takes one (unless
        ``router_params`` sets it).
    router_params : optional ``{spec: {param: value}}`` for the base routers.
    n_folds : cross-fitting folds over training queries.
    C : inverse L2 strength of the stacking regressions.
    combiner : ``"logistic"`` — the stacking regressions above; ``"select"`` — keep the
        candidate (each base router, and the logistic stack cross-validated on the same
        folds) with the highest out-of-fold :func:`gain_rank_area`. Either way every
        choice is made on the training set's folds, never on test data.
    select_default : for ``"select"``, the candidate to keep unless the top one beats it
        by more than ``select_se`` standard errors of their paired out-of-fold difference
        (:func:`gain_rank_diff_se`) — a one-standard-error rule towards the router one would
        use without this evidence (routecraft's default is ``"sw"``). On a large training
        set the standard error is small and the top candidate wins as with ``None``; on a
        small or noisy one a lead within the noise no longer replaces the default.
        ``None`` (the default): always the top candidate.
    select_se : how many standard errors the top candidate must lead ``select_default`` by.
    random_state : seeds the folds, the bootstrap of the standard error and every base
        router that takes a seed.

    Example
    -------
    >>> stack = StackedRouter(routers=("lightgbm", "knn-learned", "irt")).fit(train)  # doctest: +SKIP
    >>> stack.weights_  # (n_models, n_routers): how much each base counts, per model  # doctest: +SKIP
    >>> stack.oof_gain_rank_  # per candidate (bases, then "logistic-stack"): what "select" compares  # doctest: +SKIP
    """

    _parameter_constraints = {
        "routers": ["array-like"],
        "embedder": EMBEDDER,
        "router_params": [dict, None],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "C": positive_real,
        "combiner": [StrOptions({"logistic", "select"})],
        "select_default": [str, None],
        "select_se": non_negative_real,
        "random_state": seed,
    }
    state_schema = {
        "prior": ("f", ("n_models",)), "weights": ("f", None), "intercept": ("f", ("n_models",)),
        "oof_brier": ("f", None), "oof_gain_rank": ("f", None), "choice": ("i", (1,)),
        "oof_gain_rank_se": ("f", (1,)),
        "child*": ("biufU", None),  # children are rebuilt and checked by their class
    }

    def __init__(
        self,
        routers: Sequence[str] = ("lightgbm", "irt", "knn-learned", "cluster"),
        embedder: str = DEFAULT_EMBEDDER,
        router_params: dict[str, dict[str, Any]] | None = None,
        n_folds: int = 5,
        C: float = 1.0,
        combiner: str = "logistic",
        select_default: str | None = None,
        select_se: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.routers = routers
        self.embedder = embedder
        self.router_params = router_params
        self.n_folds = n_folds
        self.C = C
        self.combiner = combiner
        self.select_default = select_default
        self.select_se = select_se
        self.random_state = random_state

    @property  # type: ignore[override]
    def quality_kind(self) -> str:
        """The chosen base's scale when ``select`` keeps a single base, else ``"score"``."""
        choice = getattr(self, "choice_", None)
        if choice is None or choice >= len(self.children_kinds_):
            return "score"
        return self.children_kinds_[choice]

    @property
    def candidates(self) -> list[str]:
        """Names of what ``select`` compares, in ``oof_gain_rank_`` order."""
        return [*self._specs(), STACK_CANDIDATE]

    def _specs(self) -> list[str]:
        return [str(s) for s in self.routers]

    def _fit(self, data: Dataset) -> None:
        if self.select_default is not None and self.select_default not in self.candidates:  # before the costly cross-fitting
            raise ValueError(f"select_default={self.select_default!r} is not a candidate: {self.candidates}")
        super()._fit(data)

    def _logistic(self, oof: list[np.ndarray], scores: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-model stacking weights and intercepts fitted on training ``rows`` (boolean mask)."""
        m = scores.shape[1]
        weights, intercept = np.zeros((m, len(oof))), np.zeros(m)
        for j in range(m):
            r = np.flatnonzero(rows & np.isfinite(scores[:, j]))
            if len(r) == 0:
                continue
            x = np.column_stack([_logits(q[r, j]) for q in oof])
            weights[j], intercept[j] = soft_logistic(x, scores[r, j], float(self.C))
        return weights, intercept

    def _fit_combiner(self, oof: list[np.ndarray], scores: np.ndarray, kinds: list[str], fold_of: np.ndarray) -> None:
        seen = np.isfinite(scores)
        # out-of-fold Brier score of each base router over every observed cell: which base a
        # cross-validated choice on calibration would pick (reported; "select" ranks instead)
        self.oof_brier_ = np.array([float(np.mean((q[seen] - scores[seen]) ** 2)) for q in oof])
        self.weights_, self.intercept_ = self._logistic(oof, scores, np.ones(len(scores), dtype=bool))
        self.children_kinds_ = list(kinds)
        # the logistic stack's own out-of-fold Q̂: its combiner refitted without each fold
        # (the bases' Q̂ there are already out-of-fold), so it competes on equal terms
        stacked = np.empty_like(scores)
        for f in np.unique(fold_of):
            w, b = self._logistic(oof, scores, fold_of != f)
            held = fold_of == f
            stacked[held] = self._logistic_apply(w, b, [q[held] for q in oof])
        self.oof_gain_rank_ = np.array(
            [gain_rank_area(q, scores, kind) for q, kind in zip(oof, kinds)] + [gain_rank_area(stacked, scores, "score")]
        )
        self.oof_gain_rank_se_ = np.array([np.nan])
        self.choice_ = self._select([*zip(oof, kinds), (stacked, "score")], scores) if self.combiner == "select" else len(oof)

    def _select(self, cands: list[tuple[np.ndarray, str]], scores: np.ndarray) -> int:
        """The top out-of-fold candidate, or ``select_default`` when the top one's lead over it is
        within ``select_se`` paired standard errors (recorded in ``oof_gain_rank_se_``)."""
        top = int(np.argmax(self.oof_gain_rank_))
        if self.select_default is None:
            return top
        default = self.candidates.index(self.select_default)
        if top == default:
            return top
        se = gain_rank_diff_se(cands[top], cands[default], scores, _SE_BOOT, int(self.random_state))
        self.oof_gain_rank_se_ = np.array([se])
        lead = self.oof_gain_rank_[top] - self.oof_gain_rank_[default]
        return top if lead > float(self.select_se) * se else default

    @staticmethod
    def _logistic_apply(weights: np.ndarray, intercept: np.ndarray, q: list[np.ndarray]) -> np.ndarray:
        z = sum(w[None, :] * _logits(qb) for w, qb in zip(weights.T, q)) + intercept[None, :]
        return expit(z)

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        if self.choice_ < len(self.children_):  # one base kept: only it runs
            child = self.children_[self.choice_]
            return aligned(child.predict_quality(queries), child.models_, self.models_, self.prior_)
        return self._combine(self._base_predictions(queries))

    def _combine(self, q: list[np.ndarray]) -> np.ndarray:
        return self._logistic_apply(self.weights_, self.intercept_, q)

    def predict_candidates(self, queries: Any) -> dict[str, tuple[np.ndarray, str]]:
        """Q̂ and quality kind of every candidate ``select`` compared (each base, and the
        logistic stack), whichever was kept: to inspect or report the choice."""
        self._check_fitted()
        base = self._base_predictions(as_queries(queries))
        out = {name: (q, kind) for name, q, kind in zip(self._specs(), base, self.children_kinds_)}
        out[STACK_CANDIDATE] = (self._combine(base), "score")
        return out

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return {**state, "children_kinds_": list(self.children_kinds_)}, {
            **arrays, "weights": self.weights_, "intercept": self.intercept_, "oof_brier": self.oof_brier_,
            "oof_gain_rank": self.oof_gain_rank_, "choice": np.array([self.choice_]), "oof_gain_rank_se": self.oof_gain_rank_se_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.weights_, self.intercept_, self.oof_brier_ = arrays["weights"], arrays["intercept"], arrays["oof_brier"]
        self.oof_gain_rank_, self.choice_ = arrays["oof_gain_rank"], int(arrays["choice"][0])
        self.oof_gain_rank_se_ = arrays.get("oof_gain_rank_se", np.array([np.nan]))  # absent before select_default
        self.children_kinds_ = [str(k) for k in state["children_kinds_"]]


class CalibratedRouter(_CrossFittedRouter):
    """A base router whose Q̂ is mapped per model to the observed score by cross-fitted calibration.

    Parameters
    ----------
    router : registry spec of the base router.
    method : ``"isotonic"`` (monotone step map, scikit-learn's IsotonicRegression) or
        ``"platt"`` (logistic on the base logit).
    embedder, router_params, n_folds, random_state : as for :class:`StackedRouter`.
    """

    _parameter_constraints = {
        "router": [str],
        "method": [StrOptions({"isotonic", "platt"})],
        "embedder": EMBEDDER,
        "router_params": [dict, None],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "random_state": seed,
    }
    state_schema = {"prior": ("f", ("n_models",)), "knots_x.*": ("f", (None,)), "knots_y.*": ("f", (None,)),
                    "child*": ("biufU", None)}

    def __init__(
        self,
        router: str = "lightgbm",
        method: str = "isotonic",
        embedder: str = DEFAULT_EMBEDDER,
        router_params: dict[str, dict[str, Any]] | None = None,
        n_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.router = router
        self.method = method
        self.embedder = embedder
        self.router_params = router_params
        self.n_folds = n_folds
        self.random_state = random_state

    def _specs(self) -> list[str]:
        if self.method not in ("isotonic", "platt"):
            raise ValueError(f"method must be 'isotonic' or 'platt', got {self.method!r}")
        return [str(self.router)]

    def _fit_combiner(self, oof: list[np.ndarray], scores: np.ndarray, kinds: list[str], fold_of: np.ndarray) -> None:
        from sklearn.isotonic import IsotonicRegression

        (q,) = oof
        knots_x, knots_y = [], []
        for j in range(scores.shape[1]):
            rows = np.flatnonzero(np.isfinite(scores[:, j]))
            x, y = q[rows, j], scores[rows, j]
            if self.method == "isotonic":
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
                kx, ky = iso.X_thresholds_, iso.y_thresholds_
            else:
                (a,), b = soft_logistic(_logits(x)[:, None], y, 1e4)
                kx, ky = np.array([a]), np.array([b])
            knots_x.append(np.asarray(kx, dtype=float))
            knots_y.append(np.asarray(ky, dtype=float))
        self.knots_x_, self.knots_y_ = knots_x, knots_y

    def _combine(self, q: list[np.ndarray]) -> np.ndarray:
        (base,) = q
        out = np.empty_like(base)
        for j, (kx, ky) in enumerate(zip(self.knots_x_, self.knots_y_)):
            if self.method == "isotonic":
                out[:, j] = np.interp(base[:, j], kx, ky)
            else:
                out[:, j] = expit(kx[0] * _logits(base[:, j]) + ky[0])
        return out

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        for j, (kx, ky) in enumerate(zip(self.knots_x_, self.knots_y_)):
            arrays[f"knots_x.{j}"], arrays[f"knots_y.{j}"] = kx, ky
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        m = len(self.models_)
        self.knots_x_ = [arrays[f"knots_x.{j}"] for j in range(m)]
        self.knots_y_ = [arrays[f"knots_y.{j}"] for j in range(m)]
