"""The judge's bias τ(q) = E[Y | T=1, q] − E[Y | T=0, q] as a cross-fitted CATE (econml).

T is the label source (1 gold, 0 cheap), Y the gain label, X the query features. Both
learners come from econml, with its cross-fitting of the nuisances (``cv`` folds,
grouped by query so a query labelled by both sources never straddles folds):

- ``"dr"``: :class:`econml.dr.DRLearner` (Kennedy): AIPW pseudo-outcome regressed on X;
- ``"r"``: :class:`econml.dml.NonParamDML` (Nie & Wager): residual-on-residual with
  weights (T − ê)².

Propensities are clipped to [``min_propensity``, 1 − ``min_propensity``] for both (the
DR-learner's own ``min_propensity``; a clipping wrapper around the classifier for the
R-learner, which has none). The final stage is a ridge regression whose penalty is
chosen by efficient leave-one-out CV, so τ̂ is a linear function of X: its coefficients
are plain arrays, and a saved router needs no econml (and no pickle) to predict it.
The nuisance outcome models are ridge regressions with a fixed unit penalty on the
whitened features.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV

from .._errors import DependencyError

RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 11))
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


@dataclass
class LinearEffect:
    """τ̂(x) = clip(x @ coef + intercept, ±TAU_BOUND): the fitted final stage, as arrays."""

    coef: np.ndarray
    intercept: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x @ self.coef + self.intercept, -TAU_BOUND, TAU_BOUND)


def _propensity_model(seed: int) -> LogisticRegression:
    # class_weight="balanced" would distort ê; plain logistic keeps it a probability
    return LogisticRegression(C=1.0, max_iter=1000, random_state=seed)


def fit_cate(
    x: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    *,
    learner: str = "dr",
    groups: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    n_folds: int = 5,
    min_propensity: float = 0.01,
    seed: int = 0,
) -> LinearEffect:
    """Fit τ̂ with econml's cross-fitted ``learner`` ("dr" or "r"); return the linear final stage."""
    require_econml()
    if learner not in CATE_LEARNERS:
        raise ValueError(f"learner must be one of {CATE_LEARNERS}, got {learner!r}")
    t = np.asarray(t, dtype=int)
    # a fold needs both sources: never more folds than gold (or cheap) rows
    folds = int(max(2, min(n_folds, t.sum(), (1 - t).sum())))
    final = RidgeCV(alphas=RIDGE_ALPHAS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if learner == "dr":
            from econml.dr import DRLearner

            est = DRLearner(
                model_propensity=_propensity_model(seed),
                model_regression=Ridge(alpha=NUISANCE_ALPHA),
                model_final=final,
                cv=folds,
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
                cv=folds,
                random_state=seed,
            )
        est.fit(y, t, X=x, groups=groups, sample_weight=sample_weight)
    # econml's public accessor of the fitted final CATE model (a RidgeCV on X)
    model = est.model_cate(T=1) if learner == "dr" else est.model_cate
    return LinearEffect(np.asarray(model.coef_, dtype=float).ravel(), float(np.ravel(model.intercept_)[0]))


def cross_fitted_propensity(
    x: np.ndarray, t: np.ndarray, groups: np.ndarray, n_folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Out-of-fold ê(x) = P(T=1 | x) (unclipped), folds grouped by query: the overlap diagnostic."""
    from sklearn.model_selection import GroupKFold

    t = np.asarray(t, dtype=int)
    folds = int(max(2, min(n_folds, t.sum(), (1 - t).sum(), len(np.unique(groups)))))
    e = np.empty(len(t))
    for train, test in GroupKFold(n_splits=folds).split(x, t, groups):
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
