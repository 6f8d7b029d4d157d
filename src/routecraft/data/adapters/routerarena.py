"""RouterArena cached results (RouteWorks/RouterArena ``cached_results/*.jsonl``).

The only shared source with measured per-query tokens and USD cost. Scores are clipped
to [0, 1] (METEOR can be slightly negative); the raw score stays in ``raw_score``.
The pool is ``model_cost/cost.json`` restricted to the models with results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._errors import DataError
from .._dataset import Dataset
from .._tables import validate_pool
from .._io import read_json, read_jsonl
from ._common import add_note, assemble, numeric, require_text

SOURCE = {
    "repository": "https://github.com/RouteWorks/RouterArena",
    "commit": "4714a9ad73e897a1241e73a86c9297fed2e871d8",
    "path": "cached_results/*.jsonl",
}


def is_routerarena_root(path: Path) -> bool:
    return (path / "cached_results").is_dir()


def routerarena_pool(path: str | Path) -> pd.DataFrame:
    """``cost.json`` (model -> per-million input/output prices) as a pool table."""
    table = read_json(path)
    if not isinstance(table, dict):
        raise DataError("expected a JSON object model -> prices", path=str(path))
    rows = [
        {
            "model": m,
            "price_in_per_mtok": e.get("input_token_price_per_million"),
            "price_out_per_mtok": e.get("output_token_price_per_million"),
            "source": "routerarena:model_cost/cost.json",
        }
        for m, e in table.items()
    ]
    return validate_pool(pd.DataFrame(rows), str(path))


def load_routerarena(root: str | Path) -> Dataset:
    """All ``cached_results/*.jsonl`` files under ``root`` plus the ``model_cost/cost.json`` pool."""
    root = Path(root)
    files = sorted((root / "cached_results").glob("*.jsonl"))
    if not files:
        raise DataError("no cached_results/*.jsonl files", path=str(root))
    meta: dict[str, Any] = {
        "name": "routerarena",
        "source": SOURCE,
        "license": "Apache-2.0 (RouterArena); questions under their benchmarks' licenses",
        "path": str(root),
        "notes": [],
    }
    rows = pd.concat([_file_rows(f) for f in files], ignore_index=True)
    clipped = rows["score"] != rows["raw_score"]
    meta["clipped_scores"] = int(clipped.sum())
    if clipped.any():
        examples = ", ".join(
            f"{q} ({m}: {s:.3f})" for q, m, s in rows.loc[clipped, ["query_id", "model", "raw_score"]].to_numpy()[:3]
        )
        add_note(meta, f"{int(clipped.sum())} scores outside [0, 1] clipped (raw kept in raw_score): {examples}")
    cost_path = root / "model_cost" / "cost.json"
    pool = None
    if cost_path.exists():
        pool = routerarena_pool(cost_path)
        pool = pool[pool["model"].isin(rows["model"].unique())].reset_index(drop=True)
    return assemble(rows, meta, pool=pool)


def _file_rows(path: Path) -> pd.DataFrame:
    records = read_jsonl(path)
    frame = pd.json_normalize(records)
    for col in ("global_index", "question", "evaluation_result.score"):
        if col not in frame.columns:
            raise DataError(f"RouterArena result needs '{col}'", path=str(path), field=col)
    texts = require_text(frame["question"], path, "question")
    model = frame["llm_selected"] if "llm_selected" in frame.columns else pd.Series(path.stem, index=frame.index)
    raw = numeric(frame["evaluation_result.score"], path, "evaluation_result.score")

    def opt(col: str, field: str) -> np.ndarray | None:
        return numeric(frame[col], path, field, lo=0, allow_missing=True) if col in frame.columns else None

    ids = frame["global_index"].astype(str)
    return pd.DataFrame(
        {
            "query_id": ids,
            "query": texts,
            "task": ids.str.rsplit("_", n=1).str[0],
            "model": model.fillna(path.stem).astype(str),
            "score": np.clip(raw, 0.0, 1.0),
            "raw_score": raw,
            "cost_usd": opt("evaluation_result.inference_cost", "evaluation_result.inference_cost"),
            "tokens_in": opt("token_usage.input_tokens", "token_usage.input_tokens"),
            "tokens_out": opt("token_usage.output_tokens", "token_usage.output_tokens"),
            "answer": frame.get("generated_answer"),
            "source": "gold",
            "metric": frame.get("evaluation_result.metric"),
        }
    )
