"""`IntegrativeRouter` (registry ``causal``): scarce gold labels + abundant biased judge labels.

Meta-Router (Zhang et al., arXiv 2509.25535; DESIGN §7, METHODS §A). For every model m
of the pool and a reference model (default: the cheapest), the router learns the gold
quality gain m(q) = E[score_m − score_ref | q]. Gold labels (T = 1) are few; judge or
crowd labels (T = 0) are many but biased: their mean is η(q) ≠ m(q). The bias
τ(q) = m(q) − η(q) is a CATE with the label source as the treatment, estimated by
econml's cross-fitted DR- or R-learner with clipped propensities (the propensity is
what handles a 1 % gold share). The cheap labels are corrected, ỹ = y + τ̂(q), and the
gain regressor is fit on gold ∪ corrected.

``method`` selects the estimator; the non-causal ones are the baselines of the same
harness (same features, same gain regressor), so comparisons isolate the labels:

- ``"r"`` (default) / ``"dr"``: the integrative router (R- or DR-learner bias correction;
  R is the default because it scored higher on held-out training halves, see
  ``benchmarks/results/causal_learner_choice.md``);
- ``"ppi"``: prediction-powered (PPI++) rectified ridge on items that carry both labels;
- ``"gold"``: gold labels only (fit it on all-gold data for the all-gold oracle);
- ``"preference"``: judge labels only; ``"pooled"``: gold ∪ raw judge labels.

Features are the embedder's vectors reduced by a whitened PCA (as the reference code
uses 50 principal components), so the ridge penalties are on a common scale; by default
the gain model also sees the query's task *predicted* from its embedding (nearest
training-task centroid, :mod:`._features`; routing-time queries carry no task label) and
its log length. The bias model τ̂ has its own features (``bias_features``): the query's
task, its log length and the PCA embedding. τ̂ only corrects the *training* judge labels,
and training queries carry their own ``task`` label, so training uses that label (one-hot);
a new query's τ̂ uses the predicted task probabilities. ``"auto"`` lets the CATE final stage choose the nested block — constant,
task, task + length, task + length + embedding — and its penalty by leave-one-out error
on the training pseudo-outcomes: judges' biases are mostly coarse (a category's
leniency, a preference for long answers), and at 1–5 % gold a 32-dimensional τ̂ is
mostly noise that the correction then writes into every judge label.

Q̂[:, m] = (1 + m̂_m(q)) / 2 — for binary scores the probability that m beats the
reference, ties counted half — and Q̂[:, ref] = ½, so ``quality_kind = "win_prob"`` and
every policy, calibration, artifact and the server use it unchanged.

Persistence: only what prediction needs is saved, as arrays — the PCA (mean, components,
scale), the task featuriser (centroids), the bias features' standardisation, the gain
regressor's and the bias model's coefficients. The econml learners are
not saved: their final stage is a ridge whose coefficients are those arrays, and their
nuisance models are not needed after training.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV

from .._errors import DataError, ParameterError, UnknownModelError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER
from ._base import EmbeddingRouterMixin, Router, as_queries
from ._constraints import EMBEDDER, Interval, StrOptions, non_negative_int, positive_int, seed
from ._cate import (
    RIDGE_ALPHAS,
    TAU_BOUND,
    CATE_LEARNERS,
    LinearEffect,
    cross_fitted_propensity,
    fit_cate,
    grouped_folds,
    propensity_auc,
)
from ._features import FeatureRouterMixin, QueryFeaturizer, dataset_tasks
from ._gain_labels import GainLabels, check_sources, default_reference, gain_labels
from ._ppi import ppi_ridge

METHODS = ("dr", "r", "ppi", "gold", "preference", "pooled")
BIAS_FEATURES = ("auto", "embedding", "task", "task+length")
GAIN_FEATURES = ("embedding", "embedding+length+task")
N_LENGTH = 2  # length_features' columns


class IntegrativeRouter(FeatureRouterMixin, EmbeddingRouterMixin, Router):
    """Meta-Router: quality gain from gold labels plus bias-corrected judge labels.

    Parameters
    ----------
    embedder: query embedder spec.
    method: ``"dr"``, ``"r"``, ``"ppi"``, ``"gold"``, ``"preference"`` or ``"pooled"`` (module doc).
    reference: the model gains are measured against (default: cheapest in the pool).
    n_components: PCA dimensions of the features (whitened).
    n_folds: cross-fitting folds of the econml learners (grouped by query).
    features: the gain model's features (every method, so baselines stay comparable): the
        PCA embedding, plus (default) the standardised predicted-task probabilities and log
        length — the coarse structure a judge's bias and a model's skill both follow.
    bias_features: τ̂'s features: ``"embedding"`` (the PCA features), ``"task"`` (the training
        query's own task label; predicted for new queries), ``"task+length"``, or ``"auto"`` (module doc): the final stage picks the
        nested block and penalty by LOO on the training pseudo-outcomes. Every choice may
        also fall back to a constant bias.
    gold_weight: weight of a gold row against a corrected judge row in the gain fit;
        None (default) = the ratio of their residual variances (inverse-variance weighting).
    min_propensity: propensities are clipped to [min_propensity, 1 − min_propensity].
    correction_folds: 0 corrects each judge label with the full-sample τ̂; K ≥ 2 uses an
        out-of-fold τ̂ (K extra CATE fits) so no judge label is corrected by a bias model
        that saw its own pseudo-outcome.
    max_propensity_auc: refuse to fit when the propensity separates the sources this well
        (cross-fitted ROC AUC): then they share no feature support and τ is not identified.
    seed: folds and solvers.
    """

    quality_kind = "win_prob"
    learns_from = ("outcomes", "preferences")

    _parameter_constraints = {
        "embedder": EMBEDDER,
        "method": [StrOptions(set(METHODS))],
        "reference": [str, None],
        "n_components": positive_int,
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "features": [StrOptions(set(GAIN_FEATURES))],
        "bias_features": [StrOptions(set(BIAS_FEATURES))],
        "gold_weight": [Interval(Real, 0, None, closed="neither"), None],
        "min_propensity": [Interval(Real, 0, 0.5, closed="neither")],
        "correction_folds": non_negative_int,  # 0 (off) or ≥ 2; see _validate_params
        "max_propensity_auc": [Interval(Real, 0.5, 1, closed="right")],
        "seed": seed,
    }
    state_schema = {
        "pca_mean_": ("f", ("dim",)),
        "pca_components_": ("f", ("n_components", "dim")),
        "pca_scale_": ("f", ("n_components",)),
        "gain_coef_": ("f", ("n_models", None)),
        "gain_intercept_": ("f", ("n_models",)),
        "bias_coef_": ("f", ("n_models", None)),
        "bias_intercept_": ("f", ("n_models",)),
        "extra_mean_": ("f", (None,)),
        "extra_scale_": ("f", (None,)),
        "features.*": ("f", None),
    }

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        method: str = "r",
        reference: str | None = None,
        n_components: int = 32,
        n_folds: int = 5,
        features: str = "embedding+length+task",
        bias_features: str = "auto",
        gold_weight: float | None = None,
        min_propensity: float = 0.01,
        correction_folds: int = 0,
        max_propensity_auc: float = 0.98,
        seed: int = 0,
    ) -> None:
        self.embedder = embedder
        self.method = method
        self.reference = reference
        self.n_components = n_components
        self.n_folds = n_folds
        self.features = features
        self.bias_features = bias_features
        self.gold_weight = gold_weight
        self.min_propensity = min_propensity
        self.correction_folds = correction_folds
        self.max_propensity_auc = max_propensity_auc
        self.seed = seed

    # ------------------------------------------------------------------ fit
    def _validate_params(self) -> None:
        super()._validate_params()
        if self.correction_folds == 1:
            raise ParameterError("IntegrativeRouter: correction_folds must be 0 (off) or ≥ 2, got 1")

    def _fit(self, data: Dataset) -> None:
        models = data.models
        reference = self.reference if self.reference is not None else default_reference(data)
        if reference not in models:
            raise UnknownModelError(f"reference model {reference!r} is not in dataset '{data.name}' ({', '.join(models)})")
        others = [m for m in models if m != reference]
        if not others:
            raise DataError(f"dataset '{data.name}' has one model; the causal router needs a pool of two or more")
        labels = [gain_labels(data, m, reference) for m in others]
        self._check_labels(data, labels)

        texts = data.texts
        x = self._fit_embedder(texts)
        used = np.unique(np.concatenate([np.concatenate([lab.gold_rows, lab.cheap_rows]) for lab in labels]))
        self._fit_pca(x[used])
        z = self._project(x)
        tasks = dataset_tasks(data)
        self.featurizer_ = QueryFeaturizer("embedding+length+task").fit(
            x[used], None if tasks is None else [tasks[i] for i in used]
        )
        if self.bias_features == "task" or self.bias_features == "task+length":
            if not self.featurizer_.task_classes and self.method in CATE_LEARNERS:
                raise DataError(
                    f"bias_features={self.bias_features!r} needs a 'task' column with two or more labels in "
                    f"'{data.name}'; use bias_features='auto' or 'embedding'"
                )
        extra = self._extra_x(x, texts)
        self.extra_mean_ = extra[used].mean(axis=0)
        self.extra_scale_ = np.maximum(extra[used].std(axis=0), 1e-6)
        gx, phi, blocks = self._design(extra, z, self._known_tasks(tasks))

        self.models_, self.reference_ = models, reference
        self.gain_coef_ = np.zeros((len(models), gx.shape[1]))
        self.gain_intercept_ = np.zeros(len(models))
        self.bias_coef_ = np.zeros((len(models), phi.shape[1]))
        self.bias_intercept_ = np.zeros(len(models))
        self.fit_summary_: dict[str, dict[str, Any]] = {}
        for lab in labels:
            j = models.index(lab.model)
            coef, intercept, bias, info = self._fit_model(gx, phi, blocks, lab)
            self.gain_coef_[j], self.gain_intercept_[j] = coef, intercept
            self.bias_coef_[j], self.bias_intercept_[j] = bias.coef, bias.intercept
            self.fit_summary_[lab.model] = info

    def _check_labels(self, data: Dataset, labels: list[GainLabels]) -> None:
        if self.method in CATE_LEARNERS + ("ppi",):
            check_sources(data, labels)
        need_gold = self.method in ("gold", "pooled", "ppi") + CATE_LEARNERS
        for lab in labels:
            n_gold, n_cheap = lab.gold_rows.size, lab.cheap_rows.size
            if need_gold and n_gold == 0 and self.method != "pooled":
                raise DataError(f"model {lab.model!r} has no gold gain labels against {lab.reference!r} in '{data.name}'")
            if self.method == "preference" and n_cheap == 0:
                raise DataError(f"model {lab.model!r} has no judge/crowd labels against {lab.reference!r} in '{data.name}'")
            if self.method == "pooled" and n_gold + n_cheap == 0:
                raise DataError(f"model {lab.model!r} has no gain labels against {lab.reference!r} in '{data.name}'")
            if self.method == "ppi" and lab.paired_rows.size < 2:
                raise DataError(
                    f"method 'ppi' needs queries carrying both a gold and a judge label; model {lab.model!r} "
                    f"has {lab.paired_rows.size} in '{data.name}'"
                )

    def _fit_model(
        self, z: np.ndarray, phi: np.ndarray, blocks: dict[str, int], lab: GainLabels
    ) -> tuple[np.ndarray, float, LinearEffect, dict[str, Any]]:
        info: dict[str, Any] = {
            "n_gold": int(lab.gold_rows.size),
            "n_cheap": int(lab.cheap_rows.size),
            "n_paired": int(lab.paired_rows.size),
        }
        zero = LinearEffect(np.zeros(phi.shape[1]), 0.0)
        zg, zc = z[lab.gold_rows], z[lab.cheap_rows]
        if self.method == "gold":
            return (*_ridge(zg, lab.gold_y), zero, info)
        if self.method == "preference":
            return (*_ridge(zc, lab.cheap_y), zero, info)
        if self.method == "pooled":
            return (*_ridge(np.vstack([zg, zc]), np.concatenate([lab.gold_y, lab.cheap_y])), zero, info)
        if self.method == "ppi":
            return self._fit_ppi(z, lab, info, zero)

        xs = np.vstack([zg, zc])
        t = np.concatenate([np.ones(len(zg), dtype=int), np.zeros(len(zc), dtype=int)])
        y = np.concatenate([lab.gold_y, lab.cheap_y])
        groups = np.concatenate([lab.gold_rows, lab.cheap_rows])  # each row's query: the fold groups, and τ̂'s rows
        e = cross_fitted_propensity(xs, t, groups, self.n_folds, self.seed)
        auc = propensity_auc(e, t)
        info["propensity_auc"] = round(auc, 4)
        if auc >= self.max_propensity_auc:
            raise DataError(
                f"gold and judge labels of {lab.model!r} vs {lab.reference!r} share no feature support "
                f"(propensity AUC {auc:.3f} >= {self.max_propensity_auc}): the judge's bias is not identified; "
                "grade some queries like the judged ones with gold"
            )
        # the nuisances see the PCA features whether or not τ̂ does
        controls = None if self.bias_features in ("auto", "embedding") else xs
        kw = dict(learner=self.method, n_folds=self.n_folds, min_propensity=self.min_propensity, seed=self.seed,
                  blocks=tuple(blocks.values()))
        xb = phi[groups]
        bias = fit_cate(xb, t, y, w=controls, groups=groups, **kw)
        tau_cheap = bias(phi[lab.cheap_rows])
        if self.correction_folds >= 2:
            tau_cheap = self._out_of_fold_tau(xb, controls, t, y, groups, len(zg), kw)
        corrected = lab.cheap_y + tau_cheap
        info["mean_tau"] = round(float(tau_cheap.mean()), 4)
        info["bias_block"] = next((name for name, b in blocks.items() if b == bias.block), "constant")
        weight = self.gold_weight if self.gold_weight is not None else _inverse_variance_ratio(
            xs[: len(zg)], lab.gold_y, xs[len(zg):], corrected
        )
        info["gold_weight"] = round(float(weight), 4)
        w = np.concatenate([np.full(len(zg), weight), np.ones(len(zc))])
        coef, intercept = _ridge(xs, np.concatenate([lab.gold_y, corrected]), w)
        return coef, intercept, bias, info

    def _out_of_fold_tau(
        self, xs: np.ndarray, controls: np.ndarray | None, t: np.ndarray, y: np.ndarray, groups: np.ndarray,
        n_gold: int, kw: dict[str, Any],
    ) -> np.ndarray:
        """τ̂ at each cheap row from a CATE fit on the other folds (folds by query, stratified by source)."""
        tau = np.zeros(len(t))
        for train, test in grouped_folds(t, groups, int(self.correction_folds), self.seed + 1):
            if t[train].sum() < 2 or (1 - t[train]).sum() < 2:
                raise DataError(f"correction_folds={self.correction_folds} leaves a fold without both sources")
            w = None if controls is None else controls[train]
            tau[test] = fit_cate(xs[train], t[train], y[train], w=w, groups=groups[train], **kw)(xs[test])
        return tau[n_gold:]

    def _fit_ppi(
        self, z: np.ndarray, lab: GainLabels, info: dict[str, Any], zero: LinearEffect
    ) -> tuple[np.ndarray, float, LinearEffect, dict[str, Any]]:
        paired = lab.paired_rows
        gold = pd.Series(lab.gold_y, index=lab.gold_rows)
        cheap = pd.Series(lab.cheap_y, index=lab.cheap_rows)
        unlabelled = np.setdiff1d(lab.cheap_rows, paired)
        alpha = RidgeCV(alphas=RIDGE_ALPHAS).fit(z[lab.cheap_rows], lab.cheap_y).alpha_
        coef, intercept, lam = ppi_ridge(
            z[paired], gold.loc[paired].to_numpy(), cheap.loc[paired].to_numpy(),
            z[unlabelled], cheap.loc[unlabelled].to_numpy(), alpha=float(alpha),
        )
        info["ppi_lambda"] = round(lam, 4)
        info["gold_unpaired_unused"] = int(lab.gold_rows.size - paired.size)
        return coef, intercept, zero, info

    # ------------------------------------------------------------- features
    def _fit_pca(self, x: np.ndarray) -> None:
        self.pca_mean_, self.pca_components_, self.pca_scale_ = whitened_pca(x, self.n_components)

    def _project(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=float) - self.pca_mean_) @ self.pca_components_.T) / self.pca_scale_

    def _extra_x(self, x: np.ndarray, texts: list[str]) -> np.ndarray:
        """Predicted-task probabilities then log length (unstandardised), from the featuriser."""
        f = self.featurizer_.transform(x, texts)[:, x.shape[1]:].astype(float)
        return np.hstack([f[:, N_LENGTH:], f[:, :N_LENGTH]])  # task first, then length

    def _known_tasks(self, tasks: list[Any] | None) -> np.ndarray | None:
        """One-hot of each training query's own task label (NaN rows where it is missing or unknown)."""
        classes = self.featurizer_.task_classes
        if tasks is None or not classes:
            return None
        index = {c: i for i, c in enumerate(classes)}
        out = np.full((len(tasks), len(classes)), np.nan)
        for row, task in enumerate(tasks):
            j = index.get(None if task is None or (isinstance(task, float) and np.isnan(task)) else str(task))
            if j is not None:
                out[row] = 0.0
                out[row, j] = 1.0
        return out

    def _design(
        self, extra: np.ndarray, z: np.ndarray, known: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """The gain model's features, τ̂'s features for ``bias_features`` and τ̂'s nested blocks (name → leading columns).

        The gain model sees the *predicted* task (as at routing time). τ̂ corrects training
        labels, so on training queries it uses their own task label (``known``, one-hot)
        and falls back to the predicted probabilities elsewhere — for a new query τ̂ is the
        expected bias under its predicted task. The task block is left unstandardised so
        the ridge penalty shrinks every task's shift towards the common bias alike.
        """
        n_task = len(self.featurizer_.task_classes)
        std = (extra - self.extra_mean_) / self.extra_scale_
        gx = np.hstack([z, std]) if self.features == "embedding+length+task" else z
        task = extra[:, :n_task]
        if known is not None:
            task = np.where(np.isnan(known), task, known)
        std = np.hstack([task, std[:, n_task:]])
        if self.bias_features == "embedding":
            return gx, z, {"embedding": z.shape[1]}
        if self.bias_features == "task":
            return gx, std[:, :n_task], {"task": n_task}
        if self.bias_features == "task+length":
            return gx, std, {"task+length": std.shape[1]}
        blocks = {"task": n_task} if n_task else {}
        length = "task+length" if n_task else "length"
        blocks.update({length: std.shape[1], length + "+embedding": std.shape[1] + z.shape[1]})
        return gx, np.hstack([std, z]), blocks

    def _features_of(self, queries: Any, own_tasks: bool = False) -> tuple[np.ndarray, np.ndarray]:
        texts = as_queries(queries)["query"].tolist()
        x = self._embed(texts)
        known = None
        if own_tasks:
            frame = queries.queries if isinstance(queries, Dataset) else queries
            if isinstance(frame, pd.DataFrame) and "task" in frame.columns:
                known = self._known_tasks(frame["task"].tolist())
        gx, phi, _ = self._design(self._extra_x(x, texts), self._project(x), known)
        return gx, phi

    # -------------------------------------------------------------- predict
    def predict_gain(self, queries: Any) -> np.ndarray:
        """m̂(q): each model's predicted gold gain over the reference, in [−1, 1] (reference column 0)."""
        q = self.predict_quality(queries)
        return 2.0 * q - 1.0

    def predict_bias(self, queries: Any) -> np.ndarray:
        """τ̂(q) per model (gold gain minus judge gain; 0 for the reference and non-causal methods).

        Queries that come with a ``task`` column (a Dataset or frame) use their own task
        label, as training did; others the predicted task probabilities.
        """
        self._check_fitted()
        _, phi = self._features_of(queries, own_tasks=True)
        return np.clip(phi @ self.bias_coef_.T + self.bias_intercept_, -TAU_BOUND, TAU_BOUND)

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        gx, _ = self._features_of(queries)
        gain = np.clip(gx @ self.gain_coef_.T + self.gain_intercept_, -1.0, 1.0)
        gain[:, self.models_.index(self.reference_)] = 0.0
        return (1.0 + gain) / 2.0

    # ---------------------------------------------------------- persistence
    _ARRAYS = ("pca_mean_", "pca_components_", "pca_scale_", "gain_coef_", "gain_intercept_", "bias_coef_",
               "bias_intercept_", "extra_mean_", "extra_scale_")

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        state["reference_"] = self.reference_
        state["fit_summary_"] = self.fit_summary_
        arrays.update({name: getattr(self, name) for name in self._ARRAYS})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.reference_ = state["reference_"]
        self.fit_summary_ = state.get("fit_summary_", {})
        for name in self._ARRAYS:
            setattr(self, name, np.asarray(arrays[name], dtype=float))


def whitened_pca(x: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, components, scale) of a PCA whose scores ``(x − mean) @ components.T / scale`` have unit variance."""
    from sklearn.decomposition import PCA

    k = int(max(1, min(n_components, x.shape[0] - 1, x.shape[1])))
    # eigen-decomposition of the d×d covariance: exact, and far cheaper than an SVD of n×d when n ≫ d
    pca = PCA(n_components=k, svd_solver="covariance_eigh").fit(x)
    scale = np.sqrt(np.maximum(pca.explained_variance_, 1e-12))
    return pca.mean_.astype(float), pca.components_.astype(float), scale.astype(float)


def _ridge(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Ridge regression with the penalty chosen by efficient leave-one-out CV (a constant for < 3 rows)."""
    if len(y) < 3:
        return np.zeros(x.shape[1]), float(np.average(y, weights=sample_weight)) if len(y) else 0.0
    reg = RidgeCV(alphas=RIDGE_ALPHAS).fit(x, y, sample_weight=sample_weight)
    return np.asarray(reg.coef_, dtype=float), float(reg.intercept_)


def _inverse_variance_ratio(xg: np.ndarray, yg: np.ndarray, xc: np.ndarray, yc: np.ndarray) -> float:
    """Weight of a gold row relative to a corrected judge row: σ²(judge residual) / σ²(gold residual).

    Each σ² is the leave-one-out residual variance of a ridge fit on that source alone, so
    a noisy coin-flip judge (σ² ≈ 1) counts less per row than a graded gold pair. Bounded
    to [1, 20]: gold is never worth less than a corrected label, and a handful of gold rows
    with a tiny residual cannot take over the fit.
    """
    if len(yg) < 3 or len(yc) < 3:
        return 1.0
    var_g = -RidgeCV(alphas=RIDGE_ALPHAS).fit(xg, yg).best_score_
    var_c = -RidgeCV(alphas=RIDGE_ALPHAS).fit(xc, yc).best_score_
    return float(np.clip(var_c / max(var_g, 1e-6), 1.0, 20.0))
