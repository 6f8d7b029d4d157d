"""User formats: plain outcome/preference logs and Chatbot-Arena battles (RouterBench: :mod:`.routerbench`).

Formats are documented in ``docs/data-formats.md``. All readers accept CSV, Parquet,
JSONL or a JSON list of objects, and name the file, row and field of any bad value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._errors import DataError, shown
from .._dataset import Dataset
from .._tables import OUTCOME_SOURCES, PREFERENCE_SOURCES, query_id_for, validate_pool
from .._prices import pool_for
from .._io import read_records
from ._common import add_note, assemble, numeric, require_columns, require_text

PoolLike = pd.DataFrame | str | Path | None
OPTIONAL_OUTCOME = ("raw_score", "cost_usd", "tokens_in", "tokens_out", "latency_s")
OPTIONAL_TEXT = ("task", "split", "answer", "turns")
WINNER_WORDS = {
    "a": "a", "model_a": "a", "b": "b", "model_b": "b",
    "tie": "tie", "tie (bothbad)": "tie", "both_bad": "tie", "bothbad": "tie",
}


def resolve_pool(pool: PoolLike) -> pd.DataFrame | None:
    """A pool given as a table or as a file with the pool columns (CSV/Parquet/JSONL/JSON list)."""
    if pool is None or isinstance(pool, pd.DataFrame):
        return None if pool is None else validate_pool(pool)
    return validate_pool(read_records(pool), str(pool))


def _meta(path: Path, fmt: str) -> dict[str, Any]:
    return {"name": path.stem, "source": {"format": fmt, "path": str(path)}, "path": str(path), "notes": []}


def _query_columns(frame: pd.DataFrame, path: Path, rows: np.ndarray) -> dict[str, Any]:
    """``query`` (required, non-empty), ``query_id`` (optional, else the text hash) and optional query fields."""
    cols: dict[str, Any] = {"query": require_text(frame["query"], path, "query", rows)}
    if "query_id" in frame.columns:
        ids = frame["query_id"]
        bad = ids.isna() | (ids.astype(str).str.strip() == "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError("empty query_id", path=str(path), row=int(rows[i]), field="query_id")
        cols["query_id"] = ids.astype(str).to_numpy()
    for c in ("task", "split", "turns"):
        if c in frame.columns:
            cols[c] = frame[c].to_numpy()
    return cols


def load_outcomes_file(path: str | Path, pool: PoolLike = None) -> Dataset:
    """One row per (query, model): ``query`` [+ ``query_id``], ``model``, ``score`` in [0, 1], optional extras."""
    path = Path(path)
    frame = read_records(path)
    require_columns(frame, ["query", "model", "score"], path, "outcome log")
    rows = np.arange(1, len(frame) + 1)
    cols = _query_columns(frame, path, rows)
    models = frame["model"]
    if models.isna().any() or (models.astype(str).str.strip() == "").any():
        i = int(np.flatnonzero((models.isna() | (models.astype(str).str.strip() == "")).to_numpy())[0])
        raise DataError("empty model name", path=str(path), row=i + 1, field="model")
    cols["model"] = models.astype(str).to_numpy()
    cols["score"] = numeric(frame["score"], path, "score", lo=0, hi=1)
    for c in OPTIONAL_OUTCOME:
        if c in frame.columns:
            cols[c] = numeric(frame[c], path, c, lo=None if c == "raw_score" else 0, allow_missing=True)
    if "answer" in frame.columns:
        cols["answer"] = frame["answer"].to_numpy()
    cols["source"] = _sources(frame, path, OUTCOME_SOURCES, "gold")
    extras = _extra_columns(frame, cols)
    for c in extras:  # per-row fields the format does not know: kept on the outcomes table
        cols[c] = frame[c].to_numpy()
    meta = _meta(path, "outcomes")
    table = resolve_pool(pool)
    pool_table = table if table is not None else pool_for(sorted(set(cols["model"])))
    return assemble(pd.DataFrame(cols), meta, pool=pool_table, outcome_extras=extras)


def load_queries_file(path: str | Path) -> Dataset:
    """Unlabelled queries (``query`` [+ ``query_id``, ``task``, ``split``, ``turns``]): what ``calibrate`` and ``route`` read.

    Repeated queries (same id, or same text without ids) are kept once, and counted in a note.
    """
    path = Path(path)
    frame = read_records(path)
    require_columns(frame, ["query"], path, "query file")
    cols = _query_columns(frame, path, np.arange(1, len(frame) + 1))
    queries = pd.DataFrame(cols)
    if "query_id" not in queries.columns:
        queries.insert(0, "query_id", [query_id_for(t) for t in queries["query"]])
    meta = _meta(path, "queries")
    repeated = queries["query_id"].duplicated()
    if repeated.any():
        add_note(meta, f"{int(repeated.sum())} repeated queries kept once")
        queries = queries[~repeated]
    ignored = _extra_columns(frame, cols, ("query_id",))
    if ignored:
        add_note(meta, f"columns not used for routing: {', '.join(ignored)}")
    return Dataset(queries.reset_index(drop=True), None, None, None, meta=meta)


def _extra_columns(frame: pd.DataFrame, handled: dict[str, Any], also: tuple[str, ...] = ()) -> list[str]:
    """Columns of a user file that no reader handled: they are kept, never dropped."""
    return [str(c) for c in frame.columns if c not in handled and c not in also]


def _sources(frame: pd.DataFrame, path: Path, allowed: tuple[str, ...], default: str) -> np.ndarray:
    if "source" not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    src = frame["source"].fillna(default).astype(str)
    bad = ~src.isin(allowed)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"source {src.iloc[i]!r} is not one of {', '.join(allowed)}", path=str(path), row=i + 1, field="source"
        )
    return src.to_numpy(dtype=object)


def _first_user_turn(conversation: Any, path: Path, row: int) -> tuple[str, str | None]:
    """(first user message, JSON of all user turns) of an Arena ``conversation_a``."""
    if isinstance(conversation, str):
        try:
            conversation = json.loads(conversation)
        except json.JSONDecodeError:
            raise DataError("conversation_a is not a JSON list of messages", path=str(path), row=row,
                            field="conversation_a") from None
    if isinstance(conversation, np.ndarray):
        conversation = conversation.tolist()
    if not isinstance(conversation, list):
        raise DataError("conversation_a is not a list of messages", path=str(path), row=row, field="conversation_a")
    user = [m for m in conversation if isinstance(m, dict) and m.get("role") == "user"]
    if not user:
        raise DataError("conversation_a has no user turn", path=str(path), row=row, field="conversation_a")
    turns = [{"role": "user", "content": str(m.get("content", ""))} for m in user]
    return turns[0]["content"], (json.dumps(turns, ensure_ascii=False) if len(turns) > 1 else None)


def load_preferences_file(path: str | Path, pool: PoolLike = None, source: str = "crowd") -> Dataset:
    """Pairwise labels: ``model_a``, ``model_b``, ``winner`` and the query as ``query``, ``prompt`` or Arena's ``conversation_a``.

    ``winner`` accepts ``a``/``b``/``tie`` and Chatbot Arena's ``model_a``/``model_b``/``tie``/
    ``tie (bothbad)``. With a ``pool``, a model outside it is an error (a typo would
    otherwise silently create a new model).
    """
    path = Path(path)
    frame = read_records(path)
    require_columns(frame, ["model_a", "model_b", "winner"], path, "preference file")
    rows = np.arange(1, len(frame) + 1)
    if "query" not in frame.columns:
        if "prompt" in frame.columns:
            frame = frame.rename(columns={"prompt": "query"})
        elif "conversation_a" in frame.columns:
            parsed = [_first_user_turn(c, path, int(r)) for c, r in zip(frame["conversation_a"], rows)]
            frame = frame.assign(query=[p[0] for p in parsed], turns=[p[1] for p in parsed])
        else:
            require_columns(frame, ["query"], path, "preference file (query, prompt or conversation_a)")
    qcols = _query_columns(frame, path, rows)
    if "query_id" not in qcols:
        qcols["query_id"] = np.array([query_id_for(t) for t in qcols["query"]], dtype=object)
    winner = frame["winner"].map(lambda w: WINNER_WORDS.get(str(w).strip().lower()))
    if winner.isna().any():
        i = int(np.flatnonzero(winner.isna().to_numpy())[0])
        raise DataError(
            f"winner {shown(frame['winner'].iloc[i])} is not one of a, b, tie, model_a, model_b, tie (bothbad)",
            path=str(path), row=i + 1, field="winner",
        )
    table = resolve_pool(pool)
    if table is not None:
        known = set(table["model"])
        for col in ("model_a", "model_b"):
            bad = ~frame[col].astype(str).isin(known)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"model {frame[col].iloc[i]!r} is not in the pool", path=str(path), row=i + 1, field=col)
    prefs = pd.DataFrame(
        {
            "query_id": qcols["query_id"],
            "model_a": frame["model_a"].astype(str).to_numpy(),
            "model_b": frame["model_b"].astype(str).to_numpy(),
            "winner": winner.to_numpy(),
            "source": _sources(frame, path, PREFERENCE_SOURCES, source),
        }
    )
    for c in ("weight", "judge"):
        if c in frame.columns:
            prefs[c] = numeric(frame[c], path, c, lo=0) if c == "weight" else frame[c].to_numpy()
    conversations = [c for c in ("conversation_a", "conversation_b") if c in frame.columns]
    for c in _extra_columns(frame, {**qcols, **dict.fromkeys(prefs.columns)}, ("prompt", "weight", "judge", *conversations)):
        prefs[c] = frame[c].to_numpy()  # per-battle fields the format does not know: kept
    meta = _meta(path, "preferences")
    if conversations:
        add_note(meta, f"not kept: {', '.join(conversations)} (model responses; the user turns are in query/turns)")
    queries = pd.DataFrame(qcols)
    texts_per_id = queries.groupby("query_id")["query"].nunique()
    if (texts_per_id > 1).any():
        qid = texts_per_id.index[texts_per_id.to_numpy() > 1][0]
        i = int(np.flatnonzero((queries["query_id"] == qid).to_numpy())[1])
        raise DataError(f"query_id {qid!r} has two different query texts", path=str(path), row=i + 1, field="query_id")
    queries = queries.drop_duplicates("query_id").reset_index(drop=True)  # several battles per query are normal
    if table is None:
        table = pool_for(sorted(set(prefs["model_a"]) | set(prefs["model_b"])))
    return assemble(queries, meta, pool=table, preferences=prefs, what="query row")
