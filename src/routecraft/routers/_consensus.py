"""Label-free consensus over a pool's answers (RGD, arXiv 2601.09692; METHODS §B.1).

Each model's answer is a vote weighted by its confidence: the mean token log-prob of
the answer, robustly z-scored per model (median / 1.4826·MAD) and squashed by a
sigmoid into [0.01, 0.99]. Without log-probs every vote weighs sigmoid(0) = 0.5, the
weight a constant log-prob would give, so the posterior keeps the same temperature.
A model's consensus score on a query is the posterior mass of the option it picked.
No gold label is read anywhere here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import DataError
from ..data._dataset import Dataset

MAX_MC_CLASSES = 26  # answers drawn from at most this many labels are treated as multiple choice
WEIGHT_CLIP = (0.01, 0.99)


def answer_matrix(data: Dataset, models: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(answers, logprobs, answered) as (n_queries, n_models) arrays in query order.

    ``answers`` is an object array holding each model's answer (None where it gave none);
    ``logprobs`` is NaN where unknown; ``answered`` is True where an outcome row exists.
    """
    out = data.outcomes
    if out is None or "answer" not in out.columns:
        raise DataError(
            f"dataset '{data.name}' has no 'answer' column in its outcomes: label-free routers "
            "learn from the models' own answers"
        )
    qi = pd.Index(data.queries["query_id"]).get_indexer(out["query_id"])
    mi = pd.Index(models).get_indexer(out["model"])
    keep = mi >= 0
    n, m = len(data.queries), len(models)
    answers = np.full((n, m), None, dtype=object)
    answered = np.zeros((n, m), dtype=bool)
    logprobs = np.full((n, m), np.nan)
    raw = out["answer"].to_numpy(dtype=object)[keep]
    answers[qi[keep], mi[keep]] = [None if a is None or (isinstance(a, float) and np.isnan(a)) else str(a) for a in raw]
    answered[qi[keep], mi[keep]] = True
    if "logprob" in out.columns:
        logprobs[qi[keep], mi[keep]] = pd.to_numeric(out["logprob"], errors="coerce").to_numpy(dtype=float)[keep]
    if not any(a is not None for a in answers.ravel()):
        raise DataError(f"dataset '{data.name}': every 'answer' in its outcomes is empty")
    return answers, logprobs, answered


def robust_stats(logprobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-model (median, 1.4826·MAD) of the log-probs; falls back to the std, then 1, when MAD is 0."""
    m = logprobs.shape[1]
    med, sigma = np.zeros(m), np.ones(m)
    for j in range(m):
        col = logprobs[:, j]
        col = col[np.isfinite(col)]
        if col.size == 0:
            continue
        med[j] = np.median(col)
        s = 1.4826 * np.median(np.abs(col - med[j]))
        if not np.isfinite(s) or s <= 0:
            s = float(np.std(col)) or 1.0
        sigma[j] = s
    return med, sigma


def vote_weights(logprobs: np.ndarray, med: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Confidence weight of every answer: clip(sigmoid(z), 0.01, 0.99); 0.5 where the log-prob is unknown."""
    z = (logprobs - med[None, :]) / sigma[None, :]
    w = 1.0 / (1.0 + np.exp(-np.nan_to_num(z, nan=0.0)))
    return np.clip(w, *WEIGHT_CLIP)


def consensus_scores(
    answers: np.ndarray, logprobs: np.ndarray, answered: np.ndarray, tau: float = 1.0
) -> np.ndarray:
    """score(q, m) = posterior of m's answer under a softmax over weighted votes.

    The softmax runs over every label of a multiple-choice dataset (all distinct answers
    when there are at most 26, as the reference does with the option letters); for
    short answers it runs over the answers given to that query. A model that answered
    nothing scores 0; a missing outcome stays NaN.
    """
    med, sigma = robust_stats(logprobs)
    weights = vote_weights(logprobs, med, sigma)
    labels = sorted({a for a in answers.ravel() if a is not None})
    n_mc = len(labels) if len(labels) <= MAX_MC_CLASSES else 0
    scores = np.where(answered, 0.0, np.nan)
    for i in range(answers.shape[0]):
        given = [(j, a) for j, a in enumerate(answers[i]) if a is not None]
        if not given:
            continue
        raw: dict[str, float] = {}
        for j, a in given:
            raw[a] = raw.get(a, 0.0) + weights[i, j]
        vals = np.array(list(raw.values()))
        extra = max(n_mc - len(raw), 0)  # unvoted options keep raw 0
        top = max(vals.max(), 0.0)
        exps = np.exp((vals - top) / max(tau, 1e-6))
        denom = exps.sum() + extra * np.exp(-top / max(tau, 1e-6))
        post = dict(zip(raw, exps / denom))
        for j, a in given:
            scores[i, j] = post[a]
    return scores


def majority(answers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(in_majority (n, m) bool, agreement ratio (n,)): which answers are among the most common.

    The ratio is the share of the pool whose answer is a majority answer (ties count
    every tied answer), with the whole pool as denominator as in the reference.
    """
    n, m = answers.shape
    in_major = np.zeros((n, m), dtype=bool)
    ratio = np.zeros(n)
    for i in range(n):
        counts: dict[str, int] = {}
        for a in answers[i]:
            if a is not None:
                counts[a] = counts.get(a, 0) + 1
        if not counts:
            continue
        best = max(counts.values())
        top = {a for a, c in counts.items() if c == best}
        in_major[i] = [a in top for a in answers[i]]
        ratio[i] = in_major[i].sum() / m
    return in_major, ratio


def majority_answer(answers: np.ndarray, weights: np.ndarray | None = None) -> list[str | None]:
    """The most common (optionally weighted) answer per row; ties go to the earliest column's answer."""
    out: list[str | None] = []
    for i in range(answers.shape[0]):
        tally: dict[str, float] = {}
        for j, a in enumerate(answers[i]):
            if a is not None:
                tally[a] = tally.get(a, 0.0) + (1.0 if weights is None else float(weights[i, j]))
        out.append(max(tally, key=lambda a: (tally[a], -list(tally).index(a))) if tally else None)
    return out
