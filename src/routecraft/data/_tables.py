"""The four canonical tables (DESIGN §2) and their validation.

Every adapter produces these frames, and every loader validates them, so the rest of
the library can trust column names, dtypes and value ranges. Validation never drops
rows silently: a bad row is an error that names the file, row and field.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from .._errors import DataError, shown

OUTCOME_SOURCES = ("gold", "judge", "consensus", "generated")
PREFERENCE_SOURCES = ("gold", "judge", "crowd")
WINNERS = ("a", "b", "tie")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "float", "int", "json"
    required: bool = True


QUERY_COLUMNS = (
    Column("query_id", "str"),
    Column("query", "str"),
    Column("task", "str", required=False),
    Column("split", "str", required=False),
    Column("turns", "json", required=False),
)
OUTCOME_COLUMNS = (
    Column("query_id", "str"),
    Column("model", "str"),
    Column("score", "float"),
    Column("raw_score", "float", required=False),
    Column("cost_usd", "float", required=False),
    Column("tokens_in", "float", required=False),
    Column("tokens_out", "float", required=False),
    Column("latency_s", "float", required=False),
    Column("answer", "str", required=False),
    Column("logprob", "float", required=False),
    Column("source", "str", required=False),
)
PREFERENCE_COLUMNS = (
    Column("query_id", "str"),
    Column("model_a", "str"),
    Column("model_b", "str"),
    Column("winner", "str"),
    Column("source", "str", required=False),
    Column("weight", "float", required=False),
    Column("judge", "str", required=False),
)
POOL_COLUMNS = (
    Column("model", "str"),
    Column("price_in_per_mtok", "float"),
    Column("price_out_per_mtok", "float"),
    Column("expected_tokens_out", "float", required=False),
    Column("base_url", "str", required=False),
    Column("api_key_env", "str", required=False),
)
SCHEMAS = {
    "queries": QUERY_COLUMNS,
    "outcomes": OUTCOME_COLUMNS,
    "preferences": PREFERENCE_COLUMNS,
    "pool": POOL_COLUMNS,
}


MAX_QUERY_CHARS_ENV = "ROUTECRAFT_MAX_QUERY_CHARS"
DEFAULT_MAX_QUERY_CHARS = 100_000  # ~25k tokens; every embedder truncates far below this


def max_query_chars() -> int:
    """The longest query text accepted: ``$ROUTECRAFT_MAX_QUERY_CHARS`` or 100,000 characters.

    A cap, not a silent truncation: one 50 MB "query" otherwise costs minutes and gigabytes
    in the embedders before anything fails, and truncating would quietly route a different text.
    """
    raw = os.environ.get(MAX_QUERY_CHARS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_QUERY_CHARS
    try:
        value = int(raw)
    except ValueError:
        raise DataError(f"{MAX_QUERY_CHARS_ENV} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise DataError(f"{MAX_QUERY_CHARS_ENV} must be >= 1, got {raw!r}")
    return value


def check_query_lengths(
    texts: Iterable[str], path: str | None = None, field: str = "query", rows: Iterable[int] | None = None
) -> None:
    """Raise a DataError naming the first row whose text is longer than :func:`max_query_chars`.

    ``rows`` gives each text's row number in its file (default 1, 2, ...).
    """
    limit = max_query_chars()
    numbers = rows if rows is not None else itertools.count(1)
    for row, text in zip(numbers, texts):
        if isinstance(text, str) and len(text) > limit:
            raise DataError(
                f"query is {len(text)} characters, over the {limit} limit (raise it with {MAX_QUERY_CHARS_ENV})",
                path=path,
                row=row,
                field=field,
            )


def query_id_for(text: str) -> str:
    """Stable id of a query text: the first 16 hex digits of its sha256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _first_bad(mask: np.ndarray | pd.Series) -> int | None:
    """The 1-based row number of the first True in ``mask`` (messages count rows from 1)."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(idx[0]) + 1 if idx.size else None


def _coerce(frame: pd.DataFrame, table: str, path: str | None) -> pd.DataFrame:
    schema = SCHEMAS[table]
    frame = frame.reset_index(drop=True)  # a filtered frame's index would misalign the columns
    known = {c.name for c in schema}
    for col in schema:
        if col.required and col.name not in frame.columns:
            raise DataError(
                f"{table} table is missing required column '{col.name}' "
                f"(has: {', '.join(map(str, frame.columns)) or 'none'})",
                path=path,
                field=col.name,
            )
    out = {}
    for col in schema:
        if col.name not in frame.columns:
            continue
        values = frame[col.name]
        if col.kind == "float":
            numeric = pd.to_numeric(values, errors="coerce")
            bad = numeric.isna() & values.notna()
            row = _first_bad(bad)
            if row is not None:
                raise DataError(
                    f"not a number: {shown(values.iloc[row - 1])}", path=path, row=row, field=col.name
                )
            out[col.name] = numeric.astype("float64")
        elif col.kind in ("str", "json"):
            if col.required:
                row = _first_bad(values.isna())
                if row is not None:
                    raise DataError("missing value", path=path, row=row, field=col.name)
                out[col.name] = values.astype(str)
            else:
                out[col.name] = values.where(values.isna(), values.astype(str)).astype(object)
    extras = [c for c in frame.columns if c not in known]
    result = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    for c in extras:  # keep unknown columns: never lose user data
        result[c] = frame[c].to_numpy()
    return result


def validate_queries(frame: pd.DataFrame, path: str | None = None) -> pd.DataFrame:
    """Validate a queries table: unique ids, non-empty text."""
    df = _coerce(frame, "queries", path)
    row = _first_bad(df["query"].str.strip() == "")
    if row is not None:
        raise DataError("empty query text", path=path, row=row, field="query")
    check_query_lengths(df["query"], path)
    row = _first_bad(df["query_id"].str.strip() == "")
    if row is not None:
        raise DataError("empty query_id", path=path, row=row, field="query_id")
    row = _first_bad(df["query_id"].duplicated())
    if row is not None:
        raise DataError(
            f"duplicate query_id {shown(df['query_id'].iloc[row - 1])}", path=path, row=row, field="query_id"
        )
    return df


def validate_outcomes(frame: pd.DataFrame, path: str | None = None) -> pd.DataFrame:
    """Validate an outcomes table: finite scores in [0, 1], one row per (query, model)."""
    df = _coerce(frame, "outcomes", path)
    score = df["score"].to_numpy()
    row = _first_bad(~np.isfinite(score))
    if row is not None:
        raise DataError("score is NaN or infinite", path=path, row=row, field="score")
    row = _first_bad((score < 0) | (score > 1))
    if row is not None:
        raise DataError(
            f"score {shown(score[row - 1])} is outside [0, 1] (keep the raw value in 'raw_score')",
            path=path,
            row=row,
            field="score",
        )
    for name in ("cost_usd", "tokens_in", "tokens_out", "latency_s"):
        if name in df.columns:
            row = _first_bad(df[name].to_numpy() < 0)
            if row is not None:
                raise DataError("must not be negative", path=path, row=row, field=name)
    if "source" in df.columns:
        src = df["source"]
        row = _first_bad(src.notna() & ~src.isin(OUTCOME_SOURCES))
        if row is not None:
            raise DataError(
                f"source {shown(src.iloc[row - 1])} is not one of {', '.join(OUTCOME_SOURCES)}",
                path=path,
                row=row,
                field="source",
            )
    row = _first_bad(df.duplicated(["query_id", "model"]))
    if row is not None:
        raise DataError(
            f"duplicate outcome for query_id {shown(df['query_id'].iloc[row - 1])} and model "
            f"{shown(df['model'].iloc[row - 1])}",
            path=path,
            row=row,
            field="query_id",
        )
    return df


def validate_preferences(frame: pd.DataFrame, path: str | None = None) -> pd.DataFrame:
    """Validate a preferences table: winner in {a, b, tie}, two different models."""
    df = _coerce(frame, "preferences", path)
    df["winner"] = df["winner"].str.strip().str.lower()
    row = _first_bad(~df["winner"].isin(WINNERS))
    if row is not None:
        raise DataError(
            f"winner {shown(df['winner'].iloc[row - 1])} is not one of a, b, tie",
            path=path,
            row=row,
            field="winner",
        )
    row = _first_bad(df["model_a"] == df["model_b"])
    if row is not None:
        raise DataError("model_a and model_b are the same model", path=path, row=row, field="model_b")
    if "source" in df.columns:
        src = df["source"]
        row = _first_bad(src.notna() & ~src.isin(PREFERENCE_SOURCES))
        if row is not None:
            raise DataError(
                f"source {shown(src.iloc[row - 1])} is not one of {', '.join(PREFERENCE_SOURCES)}",
                path=path,
                row=row,
                field="source",
            )
    if "weight" in df.columns:
        w = df["weight"].to_numpy()
        row = _first_bad(~np.isfinite(w) | (w < 0))
        if row is not None:
            raise DataError("weight must be a finite number >= 0", path=path, row=row, field="weight")
    return df


def validate_pool(frame: pd.DataFrame, path: str | None = None) -> pd.DataFrame:
    """Validate a pool table: unique models, non-negative prices."""
    df = _coerce(frame, "pool", path)
    for name in ("price_in_per_mtok", "price_out_per_mtok", "expected_tokens_out"):
        if name in df.columns:
            v = df[name].to_numpy()
            row = _first_bad(~np.isfinite(v) | (v < 0)) if name != "expected_tokens_out" else _first_bad(v < 0)
            if row is not None:
                raise DataError("must be a finite number >= 0", path=path, row=row, field=name)
    row = _first_bad(df["model"].duplicated())
    if row is not None:
        raise DataError(f"model {shown(df['model'].iloc[row - 1])} listed twice", path=path, row=row, field="model")
    return df


VALIDATORS = {
    "queries": validate_queries,
    "outcomes": validate_outcomes,
    "preferences": validate_preferences,
    "pool": validate_pool,
}
