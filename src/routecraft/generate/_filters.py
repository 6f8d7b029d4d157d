"""Generator filters (RGD §generator quality): keep data from generators, and items, that help.

Two properties separate useful generators from harmful ones, and neither needs a gold label:

- **self-answer accuracy** — how often the generator's own answer agrees with the pool's
  consensus answer (confidence-weighted majority vote of the pool);
- **differentiation** — how much the pool's models differ on the generator's questions:
  the standard deviation across models of their accuracy against the generator's answers
  (per item: the spread sqrt(p(1 − p)) of the share p of models that agree with it).

:func:`generator_report` measures both per generator and per item; :func:`filter_generated`
keeps the generators above both thresholds and, within them, the items whose reference
answer matches the consensus (and that spread the pool at least ``min_item_spread``).
The paper does not give its thresholds; the defaults here are ours (docs/design-decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import DataError
from ..data._dataset import Dataset
from ..routers._consensus import answer_matrix, majority_answer, robust_stats, vote_weights

REQUIRED = ("generator", "reference_answer")


def relabel(data: Dataset, reference: pd.Series, source: str = "generated") -> Dataset:
    """``data`` with every outcome's score replaced by agreement of its ``answer`` with ``reference``.

    ``reference`` maps query_id → answer (e.g. a generator's). This is how query-answer
    routers learn from generator labels; a missing answer scores 0.
    """
    out = data.outcomes
    if out is None or "answer" not in out.columns:
        raise DataError(f"dataset '{data.name}' has no outcome answers to compare with a reference")
    ref = out["query_id"].map(reference)
    if ref.isna().any():
        qid = out["query_id"][ref.isna()].iloc[0]
        raise DataError(f"no reference answer for query_id {qid!r}", field="reference_answer")
    out = out.assign(score=(out["answer"].astype(object) == ref.astype(object)).astype(float), source=source)
    return Dataset(data.queries, out, None, data.pool, meta=dict(data.meta))


def _check(data: Dataset) -> None:
    missing = [c for c in REQUIRED if c not in data.queries.columns]
    if missing:
        raise DataError(
            f"dataset '{data.name}' has no {', '.join(missing)} column in its queries "
            "(generator filters need data written by `routecraft generate`)",
            field=missing[0],
        )


def item_report(data: Dataset) -> tuple[pd.DataFrame, np.ndarray]:
    """Per query: generator, consensus answer, self-agreement and spread of the pool.

    Also returns the (n, m) matrix of agreement with the reference (NaN: no answer).
    """
    _check(data)
    models = data.models
    answers, logprobs, _ = answer_matrix(data, models)
    med, sigma = robust_stats(logprobs)
    consensus = majority_answer(answers, vote_weights(logprobs, med, sigma))
    ref = data.queries["reference_answer"].astype(object).to_numpy()
    agree = np.array([[a is not None and a == r for a in row] for row, r in zip(answers, ref)], dtype=float)
    answered = np.array([[a is not None for a in row] for row in answers])
    agree[~answered] = np.nan
    with np.errstate(all="ignore"):
        p = np.nanmean(agree, axis=1)
    return pd.DataFrame(
        {
            "query_id": data.queries["query_id"].to_numpy(),
            "generator": data.queries["generator"].astype(str).to_numpy(),
            "consensus_answer": consensus,
            "self_agrees": [c is not None and c == r for c, r in zip(consensus, ref)],
            "spread": np.sqrt(np.nan_to_num(p * (1 - p))),
        }
    ), agree


def generator_report(data: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per generator, per item) reports: self-answer accuracy, differentiation, counts."""
    items, agree = item_report(data)
    rows = []
    for g, idx in items.groupby("generator").groups.items():
        block = agree[np.asarray([items.index.get_loc(i) for i in idx])]
        with np.errstate(all="ignore"):
            per_model = np.nanmean(block, axis=0)
        rows.append(
            {
                "generator": g,
                "items": len(idx),
                "self_answer_accuracy": float(items.loc[idx, "self_agrees"].mean()),
                "differentiation": float(np.nanstd(per_model)) if np.isfinite(per_model).any() else 0.0,
                "mean_item_spread": float(items.loc[idx, "spread"].mean()),
            }
        )
    return pd.DataFrame(rows), items


@dataclass(frozen=True)
class FilterResult:
    data: Dataset
    generators: pd.DataFrame  # the per-generator report with a "kept" column
    items: pd.DataFrame  # the per-item report with a "kept" column

    def summary(self) -> str:
        kept_g = self.generators[self.generators["kept"]]["generator"].tolist()
        dropped_g = self.generators[~self.generators["kept"]]["generator"].tolist()
        n, k = len(self.items), int(self.items["kept"].sum())
        return (
            f"kept {k} of {n} items ({n - k} dropped); generators kept: {', '.join(kept_g) or 'none'}"
            + (f"; dropped: {', '.join(dropped_g)}" if dropped_g else "")
        )


def filter_generated(
    data: Dataset,
    *,
    min_self_accuracy: float = 0.5,
    min_differentiation: float = 0.05,
    item_self_agreement: bool = True,
    min_item_spread: float = 0.0,
    relative: bool = False,
) -> FilterResult:
    """Keep generators passing both thresholds and, from them, the items that pass.

    With ``relative=True`` the two generator thresholds are fractions of the best
    generator's value in ``data`` (e.g. 0.8 × the highest self-answer accuracy): how
    often a pool's consensus is right depends on the pool, so absolute thresholds that
    suit a strong pool drop every generator of a weak one.
    """
    gens, items = generator_report(data)
    if relative:
        min_self_accuracy *= float(gens["self_answer_accuracy"].max())
        min_differentiation *= float(gens["differentiation"].max())
    gens["kept"] = (gens["self_answer_accuracy"] >= min_self_accuracy) & (gens["differentiation"] >= min_differentiation)
    keep = items["generator"].isin(gens.loc[gens["kept"], "generator"])
    if item_self_agreement:
        keep &= items["self_agrees"]
    keep &= items["spread"] >= min_item_spread
    items["kept"] = keep.to_numpy()
    if not keep.any():
        raise DataError(
            "generator filters kept no items (lower --min-self-accuracy / --min-differentiation?)"
        )
    filtered = data.subset(items.loc[keep, "query_id"])
    filtered.meta["notes"] = list(data.meta.get("notes", [])) + [
        f"generator filters kept {int(keep.sum())} of {len(items)} items"
    ]
    return FilterResult(filtered, gens, items)
