"""How many tokens will each model write for this query? The output half of a decision's cost.

Output tokens usually dominate an LLM call's price, and they differ a lot between models
on the same query (a chatty model can write 5x more). Per model the model fits
``log(1 + tokens_out) = a + b * log(1 + tokens_in)`` by least squares on the training
outcomes, where ``tokens_in`` is the query's estimated length (chars / 4: the only thing
known at routing time) and ``tokens_out`` is measured, or the answer's length / 4 when the
data has answers but no counts. Predictions are means, not medians (Duan's smearing
factor undoes the log), because budgets add up means. When the queries carry a ``task``,
each (model, task) gets an offset on the log scale, shrunk towards 0 by n / (n + ``shrink``)
(a multiple-choice task is answered in a few tokens, a coding task in hundreds). A model
with fewer than ``min_rows`` observations gets its mean; a model with none gets ``default``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._errors import DataError
from ..data._dataset import CHARS_PER_TOKEN, DEFAULT_TOKENS_OUT, Dataset, estimate_tokens

RIDGE = 1e-3


def observed_lengths(data: Dataset, models: Sequence[str]) -> tuple[np.ndarray, str]:
    """(n, m) output tokens per (query, model): measured ``tokens_out``, else answer chars / 4; NaN where unknown."""
    out = np.full((len(data), len(models)), np.nan)
    kind = "none"
    if data.outcomes is None:
        return out, kind
    if "answer" in data.outcomes.columns:
        answers = data.outcomes["answer"]
        chars = answers.map(lambda a: len(a) / CHARS_PER_TOKEN if isinstance(a, str) and a else np.nan)
        tmp = data.outcomes.assign(_len=chars.astype(float))
        out = data._derive(outcomes=tmp)._pivot("_len", models)
        if np.isfinite(out).any():
            kind = "answer_length"
    if "tokens_out" in data.outcomes.columns:
        measured = data._pivot("tokens_out", models)
        if np.isfinite(measured).any():
            out = np.where(np.isnan(measured), out, measured)
            kind = "tokens_out"
    return out, kind


class OutputLengthModel:
    """Per-model expected output tokens as a function of the query's length (see module doc)."""

    def __init__(self, min_rows: int = 30, default: float = DEFAULT_TOKENS_OUT, shrink: float = 10.0) -> None:
        self.min_rows = min_rows
        self.default = default
        self.shrink = shrink

    def fit(self, data: Dataset, models: Sequence[str] | None = None) -> "OutputLengthModel":
        models = list(models or data.models)
        y_all, self.kind_ = observed_lengths(data, models)
        x_all = np.log1p(estimate_tokens(data.texts))
        tasks = _tasks(data.queries, len(data))
        self.params_: dict[str, dict[str, Any]] = {}
        for j, m in enumerate(models):
            keep = np.isfinite(y_all[:, j])
            n = int(keep.sum())
            if n == 0:
                continue
            y, x = np.log1p(y_all[keep, j]), x_all[keep]
            entry: dict[str, Any] = {"n": n, "mean": float(np.mean(y_all[keep, j]))}
            if n >= self.min_rows and np.ptp(x) > 0:
                X = np.column_stack([np.ones(n), x])
                coef = np.linalg.solve(X.T @ X + RIDGE * np.eye(2), X.T @ y)
                resid = y - X @ coef
                offsets = {}
                if tasks is not None:
                    frame = pd.DataFrame({"t": tasks[keep], "r": resid})
                    stats = frame.groupby("t")["r"].agg(["sum", "count"])
                    offsets = {str(t): float(s_ / (c + self.shrink)) for t, (s_, c) in stats.iterrows()}
                    resid = resid - frame["t"].map(offsets).to_numpy(dtype=float)
                entry.update(a=float(coef[0]), b=float(coef[1]), smear=float(np.mean(np.exp(resid))), task=offsets)
            self.params_[m] = entry
        self.models_ = models
        return self

    def predict(
        self, texts: Sequence[str], models: Sequence[str], tasks: Sequence[Any] | None = None
    ) -> np.ndarray:
        """Expected output tokens, shape (len(texts), len(models)); ``default`` for unknown models."""
        if not hasattr(self, "params_"):
            raise DataError("OutputLengthModel is not fitted")
        x = np.log1p(estimate_tokens(list(texts)))
        task_keys = None if tasks is None else [None if t is None or pd.isna(t) else str(t) for t in tasks]
        out = np.full((len(x), len(models)), float(self.default))
        for j, m in enumerate(models):
            e = self.params_.get(m)
            if e is None:
                continue
            if "a" in e:
                offset = 0.0
                if task_keys is not None and e.get("task"):
                    offset = np.array([e["task"].get(t, 0.0) if t else 0.0 for t in task_keys])
                out[:, j] = np.maximum(0.0, np.exp(e["a"] + e["b"] * x + offset) * e["smear"] - 1.0)
            else:
                out[:, j] = e["mean"]
        return out

    # JSON round trip: a router artifact carries its training data's length model in its metrics
    def to_dict(self) -> dict[str, Any]:
        return {"min_rows": self.min_rows, "default": self.default, "shrink": self.shrink, "kind": self.kind_,
                "params": self.params_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "OutputLengthModel":
        model = cls(min_rows=int(d.get("min_rows", 30)), default=float(d.get("default", DEFAULT_TOKENS_OUT)),
                    shrink=float(d.get("shrink", 10.0)))
        model.kind_ = str(d.get("kind", "none"))
        model.params_ = {str(k): dict(v) for k, v in d.get("params", {}).items()}
        model.models_ = list(model.params_)
        return model


def _tasks(queries: pd.DataFrame, n: int) -> np.ndarray | None:
    if "task" not in queries.columns or queries["task"].isna().all():
        return None
    return queries["task"].fillna("").astype(str).to_numpy()


def query_tasks(data: Dataset) -> list | None:
    """The ``task`` of each query, or None when the data has no tasks (the length model then ignores them)."""
    t = _tasks(data.queries, len(data))
    return None if t is None else list(t)


def mape(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute percentage error over cells where ``actual`` > 0 is known."""
    keep = np.isfinite(actual) & (actual > 0) & np.isfinite(predicted)
    return float(np.mean(np.abs(predicted[keep] - actual[keep]) / actual[keep]))
