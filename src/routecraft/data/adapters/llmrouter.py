"""LLMRouter data (ulab-uiuc/LLMRouter): RouterDC outcome tables, query files, prices.

``dcrouter_preprocessed/{train,test}.json`` hold 9 models' scores per question; the
split comes from the file and the task from joining the question text to the query
files. No per-query cost exists, so the pool carries ``default_llm.json`` prices
(USD per Mtok) and costs are prices times estimated tokens (see
:meth:`Dataset.cost_matrix`). A question in both files keeps both copies (ids are
split-prefixed) so the leakage stays visible to ``inspect_dataset``;
:func:`split_dataset` drops the leaked test copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..._errors import DataError
from .._dataset import Dataset
from .._tables import query_id_for, validate_pool
from .._io import read_json, read_jsonl
from ._common import add_note, assemble, numeric, require_text

DC = Path("data") / "dcrouter_preprocessed"
QUERIES = Path("data") / "example_data" / "query_data"
PRICES = Path("data") / "example_data" / "llm_candidates" / "default_llm.json"
SPLITS = ("train", "test")
SOURCE = {
    "repository": "https://github.com/ulab-uiuc/LLMRouter",
    "commit": "4e7a796942ce26e9d5f2b93191c7c2585c99c2e3",
}
LICENSE = "MIT (LLMRouter); benchmark items under their own licenses (see MANIFEST); GPQA removed"


def is_llmrouter_root(path: Path) -> bool:
    return (path / DC).is_dir() or (path / QUERIES).is_dir()


def llmrouter_pool(root: str | Path) -> pd.DataFrame:
    """``default_llm.json`` as a pool table (numeric price fields, USD per 1M tokens)."""
    path = Path(root) / PRICES
    table = read_json(path)
    if not isinstance(table, dict):
        raise DataError("expected a JSON object model -> entry", path=str(path))
    rows = [
        {"model": m, "price_in_per_mtok": e.get("input_price"), "price_out_per_mtok": e.get("output_price")}
        for m, e in table.items()
    ]
    return validate_pool(pd.DataFrame(rows), str(path))


def load_llmrouter(root: str | Path, which: str = "dcrouter") -> Dataset:
    """``which='dcrouter'``: the outcome tables; ``which='queries'``: the query-only files with gold answers."""
    root = Path(root)
    if which not in ("dcrouter", "queries"):
        raise DataError(f"unknown LLMRouter table '{which}' (choose dcrouter or queries)")
    meta: dict[str, Any] = {
        "name": f"llmrouter-{which}",
        "source": {**SOURCE, "path": str(DC if which == "dcrouter" else QUERIES)},
        "license": LICENSE,
        "path": str(root),
        "notes": [],
    }
    descriptions = root / "task_descriptions.json"
    if descriptions.exists():
        meta["task_descriptions"] = read_json(descriptions)
    query_rows = _query_rows(root)
    if which == "queries":
        return assemble(query_rows, meta, what="query row")
    rows = pd.concat([_dc_rows(root, split, query_rows, meta) for split in SPLITS], ignore_index=True)
    pool_path = root / PRICES
    pool = llmrouter_pool(root) if pool_path.exists() else None
    if pool is not None:
        pool = pool[pool["model"].isin(rows["model"].unique())].reset_index(drop=True)
        pool["source"] = f"llmrouter:{PRICES}"
    return assemble(rows, meta, pool=pool)


def _query_rows(root: Path) -> pd.DataFrame:
    parts = []
    for split in SPLITS:
        path = root / QUERIES / f"default_query_{split}.jsonl"
        if not path.exists():
            continue
        frame = pd.DataFrame.from_records(read_jsonl(path))
        texts = require_text(frame.get("query", pd.Series([None] * len(frame))), path, "query")
        parts.append(
            pd.DataFrame(
                {
                    "query_id": [f"{split}:{query_id_for(t)}" for t in texts],
                    "query": texts,
                    "task": frame.get("task_name"),
                    "split": split,
                    "ground_truth": frame.get("ground_truth"),
                    "metric": frame.get("metric"),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["query_id", "query", "task", "split"])
    return pd.concat(parts, ignore_index=True)


def _dc_rows(root: Path, split: str, query_rows: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    path = root / DC / f"{split}.json"
    records = read_json(path)
    if not isinstance(records, list):
        raise DataError("expected a JSON list of {question, scores}", path=str(path))
    tasks = _task_lookup(query_rows, split, meta)
    out: dict[str, list] = {k: [] for k in ("query_id", "query", "task", "split", "model", "score", "row")}
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict) or not isinstance(rec.get("scores"), dict):
            raise DataError("expected an object with a 'scores' object", path=str(path), row=i, field="scores")
        text = require_text([rec.get("question")], path, "question", [i])[0]
        for model, score in rec["scores"].items():
            out["query_id"].append(f"{split}:{query_id_for(text)}")
            out["query"].append(text)
            out["task"].append(tasks.get(text))
            out["split"].append(split)
            out["model"].append(model)
            out["score"].append(score)
            out["row"].append(i)
    frame = pd.DataFrame(out)
    frame["score"] = numeric(frame["score"], path, "scores", lo=0, hi=1, rows=frame["row"])
    frame["source"] = "gold"
    untasked = frame.drop_duplicates("query_id")["task"].isna().sum()
    if untasked:
        add_note(meta, f"{split}: {untasked} questions have no task (not found in the query files)")
    return frame.drop(columns="row")


def _task_lookup(query_rows: pd.DataFrame, split: str, meta: dict[str, Any]) -> dict[str, str]:
    """Question text -> task name, preferring the same split's query file; counts ambiguous texts."""
    if query_rows.empty:
        return {}
    ordered = pd.concat([query_rows[query_rows["split"] == split], query_rows[query_rows["split"] != split]])
    per_text = ordered.groupby("query", sort=False)["task"].agg(lambda t: list(dict.fromkeys(t)))
    ambiguous = int((per_text.map(len) > 1).sum())
    if ambiguous and split == SPLITS[0]:
        add_note(meta, f"{ambiguous} question texts map to two task names in the query files (kept the first)")
    return {text: tasks[0] for text, tasks in per_text.items()}
