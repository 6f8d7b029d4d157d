"""RouterBench exports (withmartian/routerbench), as a single table or as RouterDC's folder.

RouterBench ships a pickled wide DataFrame; RouterDC redistributes its 0-shot part as a
folder of ``<task>_{train,test}.csv``. Both have the same quirks, handled here:

- the unnamed first column is the original DataFrame index: the only unique row key
  (``sample_id`` repeats across tasks with different prompts), so it is the query id;
- ``prompt`` and ``<model>|model_response`` hold stringified Python lists; they are
  unwrapped (first turn = query, several turns also go to ``turns``);
- an empty score cell means the model has no result on that query: the cell stays
  missing (no outcome row) and is counted, never filled in;
- the split comes from a ``split`` column, else from a ``_train``/``_test`` file name.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._errors import DataError
from .._dataset import Dataset
from .._io import read_csv, read_parquet
from .._prices import pool_for
from ._common import add_note, assemble, numeric, require_columns, require_text

KEY_COLUMNS = ("sample_id", "prompt", "eval_name")
COST_SUFFIX = "|total_cost"
RESPONSE_SUFFIX = "|model_response"
NOT_MODELS = {*KEY_COLUMNS, "oracle_model_to_route_to", "split"}
INDEX_NAMES = ("Unnamed: 0", "__index_level_0__", "index", "")
SUFFIXES = (".csv", ".parquet", ".pq")
SPLIT_IN_NAME = re.compile(r"^(?P<task>.+?)[_-](?P<split>train|test|val|valid|validation|dev)$", re.I)


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        return read_csv(path, keep_default_na=True)
    frame = read_parquet(path)
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()  # a Parquet written with its index keeps the row key there
    return frame


def _index_column(frame: pd.DataFrame) -> str | None:
    first = str(frame.columns[0]) if len(frame.columns) else ""
    return frame.columns[0] if first in INDEX_NAMES or first.startswith("Unnamed: 0") else None


def table_files(directory: Path) -> list[Path]:
    """CSV/Parquet files directly in ``directory`` whose header has RouterBench's key columns."""
    out = []
    for p in sorted(directory.iterdir()) if directory.is_dir() else []:
        if p.is_file() and p.suffix.lower() in SUFFIXES and set(KEY_COLUMNS) <= set(_columns(p)):
            out.append(p)
    return out


def _columns(path: Path) -> list[str]:
    try:
        if path.suffix.lower() == ".csv":
            return list(pd.read_csv(path, nrows=0).columns)
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception:  # an unreadable file is simply not a RouterBench table
        return []


def is_routerbench_root(directory: Path) -> bool:
    return bool(table_files(directory))


def unwrap_list(value: Any) -> list[str] | None:
    """``"['a', 'b']"`` -> ``['a', 'b']``; None when ``value`` is not a stringified list of strings."""
    if isinstance(value, (list, np.ndarray)):
        items = list(value)
    elif isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        if not isinstance(items, list):
            return None
    else:
        return None
    return [str(x) for x in items] if all(isinstance(x, str) for x in items) else None


def _prompt(value: Any) -> tuple[Any, str | None]:
    turns = unwrap_list(value)
    if not turns:
        return value, None
    extra = json.dumps([{"role": "user", "content": t} for t in turns], ensure_ascii=False) if len(turns) > 1 else None
    return turns[0], extra


def _answer(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    turns = unwrap_list(value)
    return "\n".join(turns) if turns is not None else str(value)


def _split_of(path: Path) -> tuple[str | None, str | None]:
    m = SPLIT_IN_NAME.match(path.stem)
    if not m:
        return None, None
    split = m.group("split").lower()
    return m.group("task"), {"valid": "val"}.get(split, split)


def _long_rows(frame: pd.DataFrame, path: Path, meta: dict[str, Any]) -> pd.DataFrame:
    require_columns(frame, KEY_COLUMNS, path, "RouterBench table")
    index_col = _index_column(frame)
    cols = [str(c) for c in frame.columns]
    models = [c for c in cols if c not in NOT_MODELS and "|" not in c and c != str(index_col)]
    if not models:
        raise DataError("RouterBench table has no model score columns", path=str(path))
    rows = np.arange(1, len(frame) + 1)
    if index_col is not None:
        keys = frame[index_col]
        if keys.isna().any():
            raise DataError("empty row key", path=str(path), row=int(rows[keys.isna().to_numpy()][0]), field="index")
        key_text = keys.astype(str).to_numpy()
    else:
        key_text = frame["sample_id"].astype(str).to_numpy()
        add_note(meta, f"{path.name}: no index column; sample_id is used as the row key")
    dup = pd.Series(key_text).duplicated().to_numpy()
    if dup.any():
        raise DataError(f"row key {key_text[dup][0]!r} repeats", path=str(path), row=int(rows[dup][0]),
                        field=str(index_col or "sample_id"))
    prompts = [_prompt(v) for v in frame["prompt"]]
    texts = require_text([p[0] for p in prompts], path, "prompt", rows)
    base = {
        "query_id": np.array([f"rb:{k}" for k in key_text], dtype=object),
        "query": texts,
        "task": frame["eval_name"].astype(str).to_numpy(),
        "sample_id": frame["sample_id"].astype(str).to_numpy(),
    }
    if any(p[1] for p in prompts):
        base["turns"] = np.array([p[1] for p in prompts], dtype=object)
    task_from_name, split_from_name = _split_of(path)
    if "split" in frame.columns:
        base["split"] = frame["split"].astype(str).str.lower().where(frame["split"].notna(), None).to_numpy()
    elif split_from_name is not None:
        base["split"] = np.full(len(frame), split_from_name, dtype=object)
    parts, missing = [], {}
    for m in models:
        score = numeric(frame[m], path, m, lo=0, hi=1, allow_missing=True)
        have = ~np.isnan(score)
        if (~have).any():
            missing[m] = int((~have).sum())
        part = {k: (v[have] if isinstance(v, np.ndarray) else [t for t, h in zip(v, have) if h]) for k, v in base.items()}
        part.update(model=m, score=score[have], source="gold", _order=np.flatnonzero(have))
        if m + COST_SUFFIX in frame.columns:
            part["cost_usd"] = numeric(frame[m + COST_SUFFIX], path, m + COST_SUFFIX, lo=0, allow_missing=True)[have]
        if m + RESPONSE_SUFFIX in frame.columns:
            part["answer"] = np.array([_answer(v) for v in frame[m + RESPONSE_SUFFIX]], dtype=object)[have]
        parts.append(pd.DataFrame(part))
    if missing:
        n = sum(missing.values())
        add_note(meta, f"{path.name}: {n} empty score cells kept as missing outcomes ("
                 + ", ".join(f"{k} {v}" for k, v in sorted(missing.items())) + ")")
        meta.setdefault("missing_outcomes", {}).update(
            {m: meta.get("missing_outcomes", {}).get(m, 0) + c for m, c in missing.items()}
        )
    long = pd.concat(parts, ignore_index=True)
    long["_file"] = path.name
    return long


def load_routerbench(path: str | Path) -> Dataset:
    """A RouterBench table (CSV/Parquet) or a folder of ``<task>_{train,test}`` tables (RouterDC's layout)."""
    path = Path(path)
    files = table_files(path) if path.is_dir() else [path]
    if not files:
        raise DataError("folder holds no RouterBench CSV/Parquet tables (sample_id, prompt, eval_name)", path=str(path))
    meta: dict[str, Any] = {
        "name": path.stem if path.is_file() else path.name,
        "source": {"format": "routerbench", "path": str(path), "files": [f.name for f in files]},
        "path": str(path),
        "notes": [],
        "license": "RouterBench (withmartian/routerbench, MIT); prompts from their source benchmarks",
    }
    frames = []
    for f in files:
        long = _long_rows(_read(f), f, meta)
        frames.append(long.sort_values(["_order"], kind="stable"))
    rows = pd.concat(frames, ignore_index=True)
    per_file = rows.drop_duplicates(["query_id", "_file"])
    clash = per_file["query_id"].duplicated().to_numpy()
    if clash.any():
        qid = per_file["query_id"].to_numpy()[clash][0]
        where = sorted(rows.loc[rows["query_id"] == qid, "_file"].unique())
        raise DataError(f"row key {qid[3:]!r} occurs in {' and '.join(where)}", path=str(path), field="index")
    repeated = rows.drop_duplicates("query_id").groupby("sample_id").size()
    if (repeated > 1).any():
        add_note(meta, f"{int((repeated > 1).sum())} sample_id values name more than one row (kept apart: "
                 "the key is the row index)")
    models = list(dict.fromkeys(rows["model"]))
    rows = rows.drop(columns=["_order", "_file"])
    return assemble(rows, meta, pool=pool_for(models))
