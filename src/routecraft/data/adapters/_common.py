"""Shared assembly helpers for the adapters (file readers live in :mod:`.._io`).

:func:`assemble` turns the long rows an adapter extracts into a validated
:class:`Dataset`, and is the only place where rows are dropped: exact duplicates,
each counted (with conflicting labels) in ``meta["notes"]`` and ``meta["dropped"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..._errors import DataError, shown
from .._dataset import Dataset
from .._tables import check_query_lengths, query_id_for

QUERY_FIELDS = ("query_id", "query", "task", "split", "turns")
OUTCOME_FIELDS = (
    "model", "score", "raw_score", "cost_usd", "tokens_in", "tokens_out", "latency_s", "answer", "source",
)
TRUE_WORDS = {"true", "1", "1.0", "yes"}
FALSE_WORDS = {"false", "0", "0.0", "no"}
N_EXAMPLES = 3


def require_columns(frame: pd.DataFrame, columns: Iterable[str], path: str | Path, what: str) -> None:
    """Raise naming the first missing column and listing what the file has."""
    for col in columns:
        if col not in frame.columns:
            raise DataError(
                f"{what} needs column '{col}' (has: {', '.join(map(str, frame.columns)) or 'none'})",
                path=str(path),
                field=col,
            )


def numeric(
    values: pd.Series | Iterable[Any],
    path: str | Path,
    field: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    allow_missing: bool = False,
    rows: Iterable[int] | None = None,
) -> np.ndarray:
    """Floats from ``values``; NaN, non-numbers and values outside [lo, hi] name their row.

    ``rows`` gives each value's row number in the source file (default: 1, 2, ...).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    row_numbers = np.arange(1, len(series) + 1) if rows is None else np.asarray(list(rows))
    if pd.api.types.is_numeric_dtype(series.dtype):
        parsed = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        series = series.astype(object)
        as_numbers = series.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v)
        parsed = pd.to_numeric(as_numbers, errors="coerce").to_numpy(dtype=float)
    missing = series.isna().to_numpy()
    bad = np.isnan(parsed) & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"not a number: {shown(series.iloc[i])}", path=str(path), row=int(row_numbers[i]), field=field)
    if not allow_missing and missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise DataError("missing value (NaN)", path=str(path), row=int(row_numbers[i]), field=field)
    if np.isinf(parsed).any():
        i = int(np.flatnonzero(np.isinf(parsed))[0])
        raise DataError("value is infinite", path=str(path), row=int(row_numbers[i]), field=field)
    out = np.zeros_like(parsed, dtype=bool)
    if lo is not None:
        out |= parsed < lo
    if hi is not None:
        out |= parsed > hi
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise DataError(
            f"value {shown(parsed[i])} is outside [{lo}, {hi}]", path=str(path), row=int(row_numbers[i]), field=field
        )
    return parsed


def booleans(values: pd.Series, path: str | Path, field: str, rows: Iterable[int] | None = None) -> np.ndarray:
    """1.0/0.0 from booleans or True/False-like strings (RouteLLM's correctness columns)."""
    row_numbers = np.arange(1, len(values) + 1) if rows is None else np.asarray(list(rows))
    words = values.map(lambda v: str(v).strip().lower()).to_numpy()
    out = np.full(len(values), np.nan)
    out[np.isin(words, list(TRUE_WORDS))] = 1.0
    out[np.isin(words, list(FALSE_WORDS))] = 0.0
    bad = np.isnan(out)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"expected True/False, got {shown(values.iloc[i])}", path=str(path), row=int(row_numbers[i]), field=field
        )
    return out


def require_text(values: Iterable[Any], path: str | Path, field: str, rows: Iterable[int] | None = None) -> list[str]:
    """Non-empty strings; an empty or missing text names its row."""
    texts = list(values)
    row_numbers = list(range(1, len(texts) + 1)) if rows is None else list(rows)
    for text, row in zip(texts, row_numbers):
        if not isinstance(text, str) or not text.strip():
            raise DataError("empty or missing query text", path=str(path), row=int(row), field=field)
    check_query_lengths(texts, str(path), field, row_numbers)
    return texts


def add_note(meta: dict[str, Any], note: str) -> None:
    """Append a human-readable caveat to ``meta["notes"]`` (shown by ``routecraft data inspect``)."""
    meta.setdefault("notes", []).append(note)


def _examples(texts: Iterable[str]) -> list[str]:
    return [t if len(t) <= 120 else t[:117] + "..." for t in list(texts)[:N_EXAMPLES]]


def assemble(
    rows: pd.DataFrame,
    meta: dict[str, Any],
    *,
    pool: pd.DataFrame | None = None,
    preferences: pd.DataFrame | None = None,
    what: str = "row",
    outcome_extras: Iterable[str] = (),
) -> Dataset:
    """Build a :class:`Dataset` from long rows, dropping (and reporting) exact duplicates.

    ``rows`` has the query columns (``query`` required; ``query_id`` defaults to the
    text hash) and, for outcome data, one row per (query, model) with the outcome
    columns. Unknown columns stay on the queries table, except ``outcome_extras``, which
    are per-outcome and stay on the outcomes table. A query seen twice keeps its
    first row's task/split; a (query, model) seen twice keeps its first score, and
    copies with a different score are counted as conflicting labels.
    """
    rows = rows.reset_index(drop=True)
    if "query_id" not in rows.columns:
        rows = rows.assign(query_id=[query_id_for(t) for t in rows["query"]])
    has_outcomes = "model" in rows.columns
    per_outcome = set(outcome_extras)
    qcols = [c for c in rows.columns if c not in OUTCOME_FIELDS and c not in per_outcome]
    first = rows.drop_duplicates("query_id", keep="first")
    texts = first.set_index("query_id")["query"]
    mismatch = rows["query"].to_numpy() != texts.reindex(rows["query_id"]).to_numpy()
    if mismatch.any():
        i = int(np.flatnonzero(mismatch)[0])
        raise DataError(
            f"query_id {rows['query_id'].iloc[i]!r} has two different query texts", path=meta.get("path"),
            row=i + 1, field="query_id",
        )
    queries = first[qcols].reset_index(drop=True)
    if "task" in rows.columns:
        _report_task_conflicts(rows, meta)
    outcomes = None
    if has_outcomes:
        dup = rows.duplicated(["query_id", "model"], keep="first").to_numpy()
        ocols = ["query_id"] + [c for c in OUTCOME_FIELDS if c in rows.columns] + [
            c for c in rows.columns if c in per_outcome
        ]
        outcomes = rows.loc[~dup, ocols].reset_index(drop=True)
        if dup.any():
            _report_duplicates(rows, dup, outcomes, meta, what)
    else:
        dup = rows["query_id"].duplicated(keep="first").to_numpy()
        if dup.any():
            n = int(dup.sum())
            meta.setdefault("dropped", []).append(
                {"reason": "duplicate query", "rows": n, "examples": _examples(rows.loc[dup, "query"])}
            )
            add_note(meta, f"dropped {n} duplicate {what}(s) (same query id/text as an earlier row; kept the first)")
    return Dataset(queries=queries, outcomes=outcomes, preferences=preferences, pool=pool, meta=meta)


def _report_duplicates(
    rows: pd.DataFrame, dup: np.ndarray, kept: pd.DataFrame, meta: dict[str, Any], what: str
) -> None:
    dropped = rows.loc[dup]
    ref = kept.set_index(["query_id", "model"])["score"]
    ref_scores = ref.reindex(pd.MultiIndex.from_frame(dropped[["query_id", "model"]])).to_numpy()
    conflict = ~np.isclose(ref_scores, dropped["score"].to_numpy(dtype=float))
    per_model = dropped.loc[conflict].groupby("model").size().to_dict()
    n_queries = int(dropped["query_id"].nunique())
    conflicts = {str(k): int(v) for k, v in per_model.items()}
    meta.setdefault("dropped", []).append(
        {
            "reason": "duplicate (query, model)",
            "rows": int(dup.sum()),
            "queries": n_queries,
            "conflicting_labels": conflicts,
            "examples": _examples(dropped.drop_duplicates("query_id")["query"]),
        }
    )
    msg = (
        f"dropped {int(dup.sum())} outcome {what}(s) repeating an earlier (query, model) "
        f"on {n_queries} duplicated queries; kept the first"
    )
    if conflicts:
        msg += "; conflicting labels: " + ", ".join(f"{m} {c}" for m, c in sorted(conflicts.items()))
    add_note(meta, msg)


def _report_task_conflicts(rows: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Queries that occur under two task labels (e.g. an MMLU prompt in two domain files)."""
    tasks = rows.dropna(subset=["task"]).groupby("query_id")["task"].nunique()
    n = int((tasks > 1).sum())
    if n:
        add_note(meta, f"{n} queries occur under more than one task; kept the first task")
