"""Diagnostics of a judge's bias against gold labels: what ``routecraft inspect-bias`` prints.

For one model pair (model vs reference) of a gold + judge dataset:

- τ̂ by task/category and by query cluster with 95% intervals: econml's
  :class:`~econml.dr.LinearDRLearner` with the group indicators as the effect modifiers X
  and the query features as controls W, so each group's τ̂ is an AIPW (doubly robust)
  group mean with econml's asymptotic interval; nuisances cross-fitted;
- the effective sample size of each source under inverse-propensity weights (Kish);
- propensity overlap: cross-fitted ê by source, its ROC AUC (0.5 = the sources look
  alike, 1 = no shared support) and the share of rows the clipping touches.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError, UnknownModelError
from ..data._dataset import Dataset
from ..embed._base import DEFAULT_EMBEDDER, make_embedder
from ._cate import RIDGE_ALPHAS, cross_fitted_propensity, kish_ess, propensity_auc, require_econml
from ._gain_labels import check_sources, default_reference, gain_labels
from ._integrative import whitened_pca

QUANTILES = (0.0, 0.05, 0.5, 0.95, 1.0)


def _default_model(data: Dataset, reference: str) -> str:
    """The model with the highest mean gold score other than the reference."""
    others = [m for m in data.models if m != reference]
    if data.outcomes is not None and len(data.outcomes):
        means = data.outcomes.groupby("model")["score"].mean().reindex(others)
        if means.notna().any():
            return str(means.idxmax())
    return others[0]


def _group_effects(
    y: np.ndarray, t: np.ndarray, w: np.ndarray, labels: np.ndarray, min_propensity: float, n_folds: int, seed: int
) -> list[dict[str, Any]]:
    from econml.dr import LinearDRLearner
    from sklearn.linear_model import LogisticRegression, RidgeCV

    names = sorted(pd.unique(labels))
    onehot = (labels[:, None] == np.array(names)[None, :]).astype(float)[:, 1:]  # first group is the baseline
    est = LinearDRLearner(
        model_propensity=LogisticRegression(max_iter=1000, random_state=seed),
        model_regression=RidgeCV(alphas=RIDGE_ALPHAS),
        min_propensity=min_propensity,
        cv=int(max(2, min(n_folds, t.sum()))),
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(y, t, X=onehot if onehot.shape[1] else None, W=w)
        grid = np.eye(len(names))[:, 1:]
        if onehot.shape[1]:
            point = est.effect(grid)
            lo, hi = est.effect_interval(grid, alpha=0.05)
        else:
            point, (lo, hi) = est.effect(None), est.effect_interval(None, alpha=0.05)
    rows = []
    for i, name in enumerate(names):
        g = labels == name
        rows.append(
            {
                "group": str(name),
                "n_gold": int((g & (t == 1)).sum()),
                "n_cheap": int((g & (t == 0)).sum()),
                "tau": float(np.ravel(point)[i]),
                "ci": [float(np.ravel(lo)[i]), float(np.ravel(hi)[i])],
            }
        )
    return rows


def inspect_bias(
    data: Dataset,
    model: str | None = None,
    reference: str | None = None,
    *,
    embedder: str = DEFAULT_EMBEDDER,
    n_components: int = 32,
    n_clusters: int = 8,
    n_folds: int = 5,
    min_propensity: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """The bias report of ``model`` vs ``reference`` (defaults: best gold model vs the cheapest); JSON-ready."""
    require_econml()
    reference = reference if reference is not None else default_reference(data)
    for name in (reference, model):
        if name is not None and name not in data.models:
            raise UnknownModelError(f"model {name!r} is not in dataset '{data.name}' ({', '.join(data.models)})")
    model = model if model is not None else _default_model(data, reference)
    if model == reference:
        raise DataError(f"model and reference are both {model!r}; pick two different models")
    lab = gain_labels(data, model, reference)
    check_sources(data, [lab])

    rows = np.concatenate([lab.gold_rows, lab.cheap_rows])
    t = np.concatenate([np.ones(lab.gold_rows.size, dtype=int), np.zeros(lab.cheap_rows.size, dtype=int)])
    y = np.concatenate([lab.gold_y, lab.cheap_y])
    emb = make_embedder(embedder)
    texts = data.queries["query"].to_numpy()[rows].tolist()
    emb.fit(texts)
    x = emb.encode(texts)
    mean, comps, scale = whitened_pca(x, n_components)
    z = ((x - mean) @ comps.T) / scale

    e = cross_fitted_propensity(z, t, rows, n_folds, seed)
    e_clip = np.clip(e, min_propensity, 1 - min_propensity)
    sources = {}
    for name, mask, w in (("gold", t == 1, 1.0 / e_clip), ("cheap", t == 0, 1.0 / (1.0 - e_clip))):
        sources[name] = {
            "n": int(mask.sum()),
            "ess": round(kish_ess(w[mask]), 1),
            "propensity_quantiles": dict(zip(map(str, QUANTILES), np.round(np.quantile(e[mask], QUANTILES), 4).tolist())),
            "mean_label": round(float(y[mask].mean()), 4),
        }
    overlap = {
        "auc": round(propensity_auc(e, t), 4),
        "share_clipped": round(float(np.mean((e < min_propensity) | (e > 1 - min_propensity))), 4),
        "min_propensity": min_propensity,
    }

    report: dict[str, Any] = {
        "dataset": data.name,
        "model": model,
        "reference": reference,
        "n_paired": int(lab.paired_rows.size),
        "sources": sources,
        "overlap": overlap,
    }
    if "task" in data.queries.columns and data.queries["task"].notna().any():
        tasks = data.queries["task"].fillna("(none)").astype(str).to_numpy()[rows]
        report["by_task"] = _group_effects(y, t, z, tasks, min_propensity, n_folds, seed)
    if n_clusters >= 2:
        from sklearn.cluster import KMeans

        k = int(min(n_clusters, max(2, len(np.unique(rows)) // 20)))
        clusters = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(z)
        report["by_cluster"] = _group_effects(
            y, t, z, np.array([f"cluster-{c}" for c in clusters]), min_propensity, n_folds, seed
        )
    return report


def plot_bias(report: dict[str, Any], path: str, key: str = "by_task", truth: dict[str, float] | None = None) -> str:
    """τ̂ per group with 95% intervals (and the true bias where known) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report[key]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.5))
    ys = np.arange(len(rows))
    tau = np.array([r["tau"] for r in rows])
    lo = np.array([r["ci"][0] for r in rows])
    hi = np.array([r["ci"][1] for r in rows])
    ax.errorbar(tau, ys, xerr=[tau - lo, hi - tau], fmt="o", capsize=3, label="τ̂ (DR, 95% CI)")
    if truth:
        ax.scatter([truth.get(r["group"], np.nan) for r in rows], ys, marker="x", color="red", zorder=3, label="true bias")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(ys, [r["group"] for r in rows])
    ax.set_xlabel(f"bias τ = gold gain − judge gain ({report['model']} vs {report['reference']})")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
