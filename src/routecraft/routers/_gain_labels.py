"""Quality-gain labels of one model against a reference, split by label source (DESIGN §7).

The integrative router learns m(q) = E[score_m − score_ref | q], the gain of model m
over a reference model. Labels come from two kinds of source:

- **gold** (T = 1): ``outcomes`` rows with ``source = gold`` (or no source column; a
  score is gold unless it says otherwise) give r = score_m − score_ref on queries where
  both are scored; ``preferences`` rows with ``source = gold`` give r = +1 / −1 / 0.
- **cheap** (T = 0): ``preferences`` rows with ``source = judge`` / ``crowd`` give
  y = +1 (m wins) / −1 (reference wins) / 0 (tie); ``outcomes`` rows with another source
  (judge, consensus, generated) give y = score_m − score_ref.

For binary scores (1 + gain) / 2 is exactly P(m beats ref) + ½ P(tie), so both label
kinds live on one scale. Several labels of one (query, source) are averaged (honouring
``weight``), so each query contributes at most one gold and one cheap row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import DataError
from ..data._dataset import Dataset

CHEAP_OUTCOME_SOURCES = ("judge", "consensus", "generated")
CHEAP_PREFERENCE_SOURCES = ("judge", "crowd")


@dataclass
class GainLabels:
    """Gold and cheap gain labels of ``model`` vs ``reference``, as row indices into the dataset's queries."""

    model: str
    reference: str
    gold_rows: np.ndarray
    gold_y: np.ndarray
    cheap_rows: np.ndarray
    cheap_y: np.ndarray
    cheap_w: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def paired_rows(self) -> np.ndarray:
        """Query rows that carry both a gold and a cheap label."""
        return np.intersect1d(self.gold_rows, self.cheap_rows)


def _outcome_gains(data: Dataset, model: str, reference: str, gold: bool) -> pd.DataFrame:
    out = data.outcomes
    if out is None:
        return pd.DataFrame(columns=["query_id", "y", "w"])
    src = out["source"].fillna("gold") if "source" in out.columns else pd.Series("gold", index=out.index)
    keep = src.eq("gold") if gold else src.isin(CHEAP_OUTCOME_SOURCES)
    sub = out[keep & out["model"].isin([model, reference])]
    wide = sub.pivot_table(index="query_id", columns="model", values="score", aggfunc="mean")
    if model not in wide.columns or reference not in wide.columns:
        return pd.DataFrame(columns=["query_id", "y", "w"])
    gain = (wide[model] - wide[reference]).dropna()
    return pd.DataFrame({"query_id": gain.index.to_numpy(), "y": gain.to_numpy(), "w": 1.0})


def _preference_gains(data: Dataset, model: str, reference: str, sources: tuple[str, ...]) -> pd.DataFrame:
    prefs = data.preferences
    if prefs is None or "source" not in prefs.columns:
        return pd.DataFrame(columns=["query_id", "y", "w"])
    sub = prefs[prefs["source"].isin(sources)]
    fwd = (sub["model_a"] == model) & (sub["model_b"] == reference)
    rev = (sub["model_a"] == reference) & (sub["model_b"] == model)
    sub = sub[fwd | rev]
    if sub.empty:
        return pd.DataFrame(columns=["query_id", "y", "w"])
    a_wins = sub["winner"].map({"a": 1.0, "b": -1.0, "tie": 0.0}).to_numpy()
    y = np.where((sub["model_a"] == model).to_numpy(), a_wins, -a_wins)
    w = sub["weight"].fillna(1.0).to_numpy(dtype=float) if "weight" in sub.columns else np.ones(len(sub))
    return pd.DataFrame({"query_id": sub["query_id"].to_numpy(), "y": y, "w": w})


def _collapse(frames: list[pd.DataFrame], index: pd.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean label per query → (query rows, labels, total weights), rows ascending."""
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    if frame is None:
        return np.zeros(0, dtype=int), np.zeros(0), np.zeros(0)
    frame = frame[frame["w"] > 0]
    frame = frame.assign(yw=frame["y"].astype(float) * frame["w"])
    agg = frame.groupby("query_id", sort=False)[["yw", "w"]].sum()
    rows = index.get_indexer(agg.index)
    order = np.argsort(rows)
    w = agg["w"].to_numpy(dtype=float)[order]
    y = agg["yw"].to_numpy(dtype=float)[order] / w
    return rows[order], y, w


def gain_labels(data: Dataset, model: str, reference: str) -> GainLabels:
    """Gold and cheap gain labels of ``model`` over ``reference`` in ``data`` (see module doc)."""
    index = pd.Index(data.queries["query_id"])
    gold_rows, gold_y, _ = _collapse(
        [_outcome_gains(data, model, reference, gold=True), _preference_gains(data, model, reference, ("gold",))], index
    )
    cheap_rows, cheap_y, cheap_w = _collapse(
        [
            _outcome_gains(data, model, reference, gold=False),
            _preference_gains(data, model, reference, CHEAP_PREFERENCE_SOURCES),
        ],
        index,
    )
    return GainLabels(model, reference, gold_rows, gold_y, cheap_rows, cheap_y, cheap_w)


def check_sources(data: Dataset, labels: list[GainLabels]) -> None:
    """Clear errors for datasets the integrative router cannot learn from."""
    n_gold = sum(lab.gold_rows.size for lab in labels)
    n_cheap = sum(lab.cheap_rows.size for lab in labels)
    ref = labels[0].reference if labels else "?"
    if n_gold == 0 and n_cheap == 0:
        raise DataError(
            f"dataset '{data.name}' has no gain labels against reference model {ref!r} "
            "(gold outcomes or judge/crowd preferences involving it)"
        )
    if n_gold == 0:
        raise DataError(
            f"dataset '{data.name}' has no gold labels (outcomes or preferences with source=gold) "
            f"against reference {ref!r}; the causal router needs a few to estimate the judge's bias"
        )
    if n_cheap == 0:
        raise DataError(
            f"dataset '{data.name}' has only one label source (gold); the causal router needs gold plus "
            "judge/crowd labels (preferences with source=judge or crowd) — use a gold-only router such as knn"
        )
    for lab in labels:
        if lab.gold_rows.size == 0:
            raise DataError(
                f"model {lab.model!r} has no gold gain labels against reference {lab.reference!r} "
                f"in dataset '{data.name}'"
            )


def default_reference(data: Dataset) -> str:
    """The cheapest pool model (sum of input and output prices); without prices the lowest mean gold score."""
    models = data.models
    if data.pool is not None and len(data.pool):
        pool = data.pool.set_index("model")
        priced = [m for m in models if m in pool.index]
        if priced:
            price = [float(pool.loc[m, "price_in_per_mtok"] + pool.loc[m, "price_out_per_mtok"]) for m in priced]
            return priced[int(np.argmin(price))]
    if data.outcomes is not None and len(data.outcomes):
        means = data.outcomes.groupby("model")["score"].mean()
        return str(means.reindex(models).fillna(np.inf).idxmin())
    return models[-1]
