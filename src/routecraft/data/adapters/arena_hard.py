"""Arena-Hard-Auto prompts (lmarena/arena-hard-auto ``data/arena-hard-v*/question.jsonl``): query-only.

Useful as real, unlabelled routing traffic (budget calibration, label-free routers).
``task`` is ``category/cluster`` for v0.1 (its category is constant) and
``category/subcategory`` for v2.0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..._errors import DataError
from .._dataset import Dataset
from .._io import read_jsonl
from ._common import assemble, require_columns, require_text

VERSIONS = ("v0.1", "v2.0")
SOURCE = {
    "repository": "https://github.com/lmarena/arena-hard-auto",
    "commit": "196f6b826783b3da7310e361a805fa36f0be83f3",
    "path": "data/arena-hard-v*/question.jsonl",
}


def is_arena_hard_root(path: Path) -> bool:
    return any((path / "data" / f"arena-hard-{v}" / "question.jsonl").is_file() for v in VERSIONS)


def load_arena_hard(path: str | Path, version: str = "all") -> Dataset:
    """Load one version (``v0.1``/``v2.0``), ``all`` of a layout root, or a single ``question.jsonl``."""
    path = Path(path)
    if path.is_file():
        files = {path.parent.name.removeprefix("arena-hard-"): path}
    else:
        wanted = VERSIONS if version == "all" else (version,)
        if version != "all" and version not in VERSIONS:
            raise DataError(f"unknown Arena-Hard version '{version}' (choose v0.1, v2.0 or all)")
        files = {v: path / "data" / f"arena-hard-{v}" / "question.jsonl" for v in wanted}
        files = {v: f for v, f in files.items() if f.is_file()}
        if not files:
            raise DataError("no data/arena-hard-<version>/question.jsonl", path=str(path))
    meta: dict[str, Any] = {
        "name": "arena_hard" if len(files) > 1 else f"arena_hard-{next(iter(files))}",
        "source": SOURCE,
        "license": "Apache-2.0",
        "path": str(path),
        "notes": [],
    }
    rows = pd.concat([_rows(f, v) for v, f in files.items()], ignore_index=True)
    return assemble(rows, meta, what="prompt")


def _rows(path: Path, version: str) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(read_jsonl(path))
    require_columns(frame, ["uid", "prompt", "category"], path, "Arena-Hard question file")
    texts = require_text(frame["prompt"], path, "prompt")
    sub = frame["subcategory"] if "subcategory" in frame.columns else frame.get("cluster")
    task = frame["category"].astype(str) if sub is None else frame["category"].astype(str) + "/" + sub.astype(str)
    return pd.DataFrame({"query_id": frame["uid"].astype(str), "query": texts, "task": task, "version": version})
