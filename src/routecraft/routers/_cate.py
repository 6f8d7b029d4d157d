"""The judge's bias τ(q) = E[Y | T=1, q] − E[Y | T=0, q] as a cross-fitted CATE (econml).

T is the label source (1 gold, 0 cheap), Y the gain label, X the query features. Both
learners come from econml, with its cross-fitting of the nuisances (``cv`` folds,
grouped by query so a query labelled by both sources never straddles folds):

- ``"dr"``: :class:`econml.dr.DRLearner` (Kennedy): AIPW pseudo-outcome regressed on X;
- ``"r"``: :class:`econml.dml.NonParamDML` (Nie & Wager): residual-on-residual with
  weights (T − ê)².

Propensities are clipped to [``min_propensity``, 1 − ``min_propensity``] for both (the
DR-learner's own ``min_propensity``; a clipping wrapper around the classifier for the
R-learner, which has none). The final stage is :class:`PrefixRidgeCV`: ridge
regressions on nested leading blocks of the effect modifiers X (e.g. none = a constant
bias, the query's predicted task, + its length, + the embedding), with the block and the
penalty (up to 1e6, i.e. a constant) chosen together by efficient leave-one-out error on
the training pseudo-outcomes. With a few dozen gold rows it picks a constant or a
per-task shift; with thousands, the embedding. τ̂ is a linear function of X, so its
coefficients are plain arrays and a saved router needs no econml (and no pickle) to
predict it. The nuisance models see X and the controls W; the outcome models are ridge
regressions with a fixed unit penalty on the whitened features.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV

from .._errors import DependencyError

RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 11))
# τ̂'s final stage: up to 1e6, where a ridge on unit-scale features is a constant — the
# right answer when a few dozen gold rows cannot support a heterogeneous bias
BIAS_ALPHAS = tuple(float(a) for a in np.logspace(-2, 6, 17))
CATE_LEARNERS = ("dr", "r")
# nuisance outcome models: ridge on whitened features, where a unit penalty is mild for
# the thousands of rows the cheap source brings (a CV'd penalty per fold costs 10x the fit)
NUISANCE_ALPHA = 1.0
TAU_BOUND = 2.0  # a gain lies in [-1, 1], so a bias lies in [-2, 2]


def require_econml() -> Any:
    """Import econml or raise a DependencyError naming the ``causal`` extra."""
    try:
        import econml  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise DependencyError(
            "the causal router needs econml, which is not installed; install it with: "
            "pip install 'routecraft[causal]'"
        ) from exc
    return econml


class ClippedClassifier(ClassifierMixin, BaseEstimator):
    """A binary classifier whose predicted probabilities are clipped to [clip, 1 − clip].

    econml's ``NonParamDML`` has no propensity clipping; wrapping its treatment model
    in this gives the R-learner the same overlap guard as the DR-learner.
    """

    def __init__(self, estimator: Any = None, clip: float = 0.01) -> None:
        self.estimator = estimator
        self.clip = clip

    def fit(self, x: np.ndarray, t: np.ndarray, sample_weight: np.ndarray | None = None) -> "ClippedClassifier":
        self.estimator_ = clone(self.estimator if self.estimator is not None else LogisticRegression())
        if sample_weight is None:
            self.estimator_.fit(x, t)
        else:
            self.estimator_.fit(x, t, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = np.clip(self.estimator_.predict_proba(x)[:, 1], self.clip, 1.0 - self.clip)
        return np.column_stack([1.0 - p, p])

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[(self.predict_proba(x)[:, 1] >= 0.5).astype(int)]


class PrefixRidgeCV(RegressorMixin, BaseEstimator):
    """Ridge on the first ``b`` columns of X for the ``b`` in ``blocks`` (0 = a constant), chosen by LOO error.

    The choice of block and penalty is one model selection on the training rows only
    (efficient leave-one-out of each ridge, weighted like the fit), so a CATE final stage
    can fall back to a constant or a per-task shift when the data cannot support more.
    The block is chosen by the one-standard-error rule: the smallest block whose LOO error
    exceeds the best block's by at most one standard error of that (paired, per-row) excess. With no bias to find, a per-task shift
    fitted on noise often edges out the constant by less than its own noise (it lost to
    naive pooling at 1–5% gold with an unbiased judge); the rule keeps the constant then.
    ``coef_`` always spans every column of X (zeros outside the chosen block).
    """

    def __init__(self, blocks: tuple[int, ...] = (), alphas: tuple[float, ...] = BIAS_ALPHAS) -> None:
        self.blocks = blocks
        self.alphas = alphas

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "PrefixRidgeCV":
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float).ravel()
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
        blocks = sorted({int(b) for b in self.blocks if 0 <= b <= x.shape[1]} | {0}) if self.blocks else [0, x.shape[1]]
        fits: list[tuple[np.ndarray, int, np.ndarray, float, float]] = []  # (per-row LOO w·e², block, coef, b0, α)
        for b in blocks:
            if b == 0:
                # leave-one-out weighted mean, scored like RidgeCV's weighted LOO (w·e² per row)
                total, wy = w.sum(), (w * y).sum()
                loo = (wy - w * y) / np.maximum(total - w, 1e-12)
                fits.append((w * (y - loo) ** 2, 0, np.zeros(0), wy / total, np.inf))
            else:
                reg = RidgeCV(alphas=self.alphas, store_cv_results=True).fit(x[:, :b], y, sample_weight=w)
                errors = reg.cv_results_[:, list(self.alphas).index(reg.alpha_)]
                fits.append((errors, b, np.asarray(reg.coef_, dtype=float).ravel(), float(reg.intercept_), float(reg.alpha_)))
        means = [float(e.mean()) for e, *_ in fits]
        best = int(np.argmin(means))
        chosen = next(i for i in range(len(fits)) if _within_one_se(fits[i][0], fits[best][0]))  # blocks ascend
        _, b, coef, intercept, alpha = fits[chosen]
        self.coef_ = np.concatenate([coef, np.zeros(x.shape[1] - b)])
        self.intercept_, self.block_, self.alpha_ = intercept, b, alpha
        self.loo_errors_ = np.array(means)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) @ self.coef_ + self.intercept_


def _within_one_se(errors: np.ndarray, best: np.ndarray) -> bool:
    """Whether ``errors``' mean exceeds ``best``'s by at most one standard error of the paired difference.

    Paired by row: DR pseudo-outcomes are heavy-tailed (a gold row's is scaled by 1/ê), so
    the spread of either error alone would hide any real difference between blocks.
    """
    d = np.asarray(errors, dtype=float) - np.asarray(best, dtype=float)
    if len(d) < 2:
        return bool(d.mean() <= 0)
    return bool(d.mean() <= d.std(ddof=1) / np.sqrt(len(d)))


@dataclass
class LinearEffect:
    """τ̂(x) = clip(x @ coef + intercept, ±TAU_BOUND): the fitted final stage, as arrays."""

    coef: np.ndarray
    intercept: float
    block: int = -1  # columns of X the final stage chose (PrefixRidgeCV); -1 = all

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x @ self.coef + self.intercept, -TAU_BOUND, TAU_BOUND)


def grouped_folds(t: np.ndarray, groups: np.ndarray, n_folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs: whole groups (queries) per fold, stratified by whether a group has a gold row.

    What sklearn's ``StratifiedGroupKFold`` promises, in O(n): its greedy search over
    groups cost minutes per fit with ~10⁴ queries (every query is its own group here),
    more than the learners. Groups are shuffled within each stratum and dealt to folds
    in turn, so each fold gets ⌊n/k⌋ or ⌈n/k⌉ gold groups.
    """
    t = np.asarray(t, dtype=int)
    names, inverse = np.unique(np.asarray(groups), return_inverse=True)
    gold = np.zeros(len(names), dtype=int)
    np.maximum.at(gold, inverse, t)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(names), dtype=int)
    offset = 0
    for stratum in (1, 0):
        members = rng.permutation(np.flatnonzero(gold == stratum))
        fold_of[members] = (offset + np.arange(members.size)) % n_folds
        offset += members.size  # the cheap groups continue the deal where the gold ones stopped
    row_fold = fold_of[inverse]
    return [(np.flatnonzero(row_fold != k), np.flatnonzero(row_fold == k)) for k in range(n_folds)]


def _propensity_model(seed: int) -> LogisticRegression:
    # class_weight="balanced" would distort ê; plain logistic keeps it a probability
    return LogisticRegression(C=1.0, max_iter=1000, random_state=seed)


def fit_cate(
    x: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    *,
    w: np.ndarray | None = None,
    blocks: tuple[int, ...] = (),
    learner: str = "dr",
    groups: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    n_folds: int = 5,
    min_propensity: float = 0.01,
    seed: int = 0,
) -> LinearEffect:
    """Fit τ̂(x) with econml's cross-fitted ``learner`` ("dr" or "r"); return the linear final stage.

    ``x`` are the effect modifiers (τ̂'s features), ``w`` extra controls that only the
    nuisance models see; ``blocks`` the nested leading column blocks of ``x`` the final
    stage chooses among (default: all of ``x``, penalty by LOO).
    """
    require_econml()
    if learner not in CATE_LEARNERS:
        raise ValueError(f"learner must be one of {CATE_LEARNERS}, got {learner!r}")
    t = np.asarray(t, dtype=int)
    # a fold needs both sources: never more folds than gold (or cheap) rows
    folds = int(max(2, min(n_folds, t.sum(), (1 - t).sum())))
    # folds by query (a query labelled by both sources never straddles folds), computed here
    splits = grouped_folds(t, np.arange(len(t)) if groups is None else groups, folds, seed)
    final = PrefixRidgeCV(blocks=tuple(blocks) or (x.shape[1],), alphas=BIAS_ALPHAS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if learner == "dr":
            from econml.dr import DRLearner

            est = DRLearner(
                model_propensity=_propensity_model(seed),
                model_regression=Ridge(alpha=NUISANCE_ALPHA),
                model_final=final,
                cv=splits,
                min_propensity=min_propensity,
                random_state=seed,
            )
        else:
            from econml.dml import NonParamDML

            est = NonParamDML(
                model_y=Ridge(alpha=NUISANCE_ALPHA),
                model_t=ClippedClassifier(_propensity_model(seed), clip=min_propensity),
                model_final=final,
                discrete_treatment=True,
                cv=splits,
                random_state=seed,
            )
        est.fit(y, t, X=x, W=w, sample_weight=sample_weight)
    # econml's public accessor of the fitted final CATE model (a PrefixRidgeCV on X)
    model = est.model_cate(T=1) if learner == "dr" else est.model_cate
    return LinearEffect(np.asarray(model.coef_, dtype=float).ravel(), float(np.ravel(model.intercept_)[0]), int(model.block_))


def cross_fitted_propensity(
    x: np.ndarray, t: np.ndarray, groups: np.ndarray, n_folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Out-of-fold ê(x) = P(T=1 | x) (unclipped), folds grouped by query: the overlap diagnostic."""
    t = np.asarray(t, dtype=int)
    folds = int(max(2, min(n_folds, t.sum(), (1 - t).sum(), len(np.unique(groups)))))
    e = np.empty(len(t))
    for train, test in grouped_folds(t, groups, folds, seed):
        if np.unique(t[train]).size < 2:
            e[test] = t[train].mean()
            continue
        e[test] = _propensity_model(seed).fit(x[train], t[train]).predict_proba(x[test])[:, 1]
    return e


def propensity_auc(e: np.ndarray, t: np.ndarray) -> float:
    """ROC AUC of ê for T: 0.5 = sources look alike, 1.0 = no shared feature support."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(t, dtype=int), e))


def kish_ess(w: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of weights w."""
    w = np.asarray(w, dtype=float)
    return float(w.sum() ** 2 / np.square(w).sum()) if w.size and np.square(w).sum() > 0 else 0.0
