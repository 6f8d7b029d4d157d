"""`load_dataset`: one entry point that recognises every supported format from the path.

Accepted, in the order they are tried:
``bundled:<name>``; a canonical dataset directory (``Dataset.save``); a shared upstream
layout (RouteLLM, MMLU-Pro, LLMRouter, RouterArena, Arena-Hard, a RouterBench folder), given as its root, any
folder inside it or any file in it; and single files: RouterBench tables, Chatbot-Arena
battles, plain outcome and preference logs (CSV, Parquet, JSONL, JSON). A ``#suffix``
selects a part of a layout (``routellm#mmlu``, ``arena_hard#v2.0``, ``llmrouter#queries``,
``mmlu_pro#run`` for the per-run answer key).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pyarrow.parquet as pq

from .._errors import DataError, user_path
from ._dataset import Dataset
from .adapters import (
    load_arena_hard,
    load_llmrouter,
    load_mmlu_pro,
    load_outcomes_file,
    load_queries_file,
    load_preferences_file,
    load_routellm,
    load_routerarena,
    load_routerbench,
)
from ._io import read_csv, read_json, read_jsonl
from .adapters.arena_hard import is_arena_hard_root
from .adapters.llmrouter import is_llmrouter_root
from .adapters.mmlu_pro import is_mmlu_pro_root
from .adapters.routellm import is_routellm_root
from .adapters.routerarena import is_routerarena_root
from .adapters.routerbench import is_routerbench_root
from .bundled import bundled_dataset

ACCEPTED = (
    "bundled:<name>; a routecraft dataset directory (queries.parquet + dataset.json); "
    "the RouteLLM, MMLU-Pro, LLMRouter, RouterArena or Arena-Hard layouts; "
    "a RouterBench CSV/Parquet or a folder of <task>_{train,test} RouterBench tables; Chatbot-Arena battles (JSON/JSONL); "
    "plain outcome logs (query, model, score) or preference logs (query, model_a, model_b, winner) "
    "as CSV, Parquet, JSONL or JSON (see docs/data-formats.md)"
)


def _routellm(root: Path, part: str | None, rel: Path | None, options: dict[str, Any]) -> Dataset:
    bench = part or options.pop("benchmark", None)
    if bench is None and rel is not None:
        parts = set(rel.parts)
        bench = "mmlu" if "mmlu" in parts else "mtbench" if "mt_bench" in parts or "mt-bench" in parts else None
    return load_routellm(root, bench or "gsm8k", **options)


def _llmrouter(root: Path, part: str | None, rel: Path | None, options: dict[str, Any]) -> Dataset:
    which = part or options.pop("which", None)
    if which is None and rel is not None and "query_data" in rel.parts:
        which = "queries"
    return load_llmrouter(root, which or "dcrouter", **options)


def _arena_hard(root: Path, part: str | None, rel: Path | None, options: dict[str, Any]) -> Dataset:
    version = part or options.pop("version", None)
    if version is None and rel is not None:
        version = next((v for v in ("v0.1", "v2.0") if f"arena-hard-{v}" in rel.parts), None)
    return load_arena_hard(root, version or "all")


def _mmlu_pro(root: Path, part: str | None, rel: Path | None, options: dict[str, Any]) -> Dataset:
    return load_mmlu_pro(root, part or options.pop("answer_key", "newest"))


def _routerarena(root: Path, part: str | None, rel: Path | None, options: dict[str, Any]) -> Dataset:
    return load_routerarena(root)


def _routerbench(root: Path, part: str | None, rel: Path | None, options: dict[str, Any]) -> Dataset:
    return load_routerbench(root)


LAYOUTS: tuple[tuple[str, Callable[[Path], bool], Callable[..., Dataset]], ...] = (
    ("routellm", is_routellm_root, _routellm),
    ("mmlu_pro", is_mmlu_pro_root, _mmlu_pro),
    ("llmrouter", is_llmrouter_root, _llmrouter),
    ("routerarena", is_routerarena_root, _routerarena),
    ("arena_hard", is_arena_hard_root, _arena_hard),
    ("routerbench", is_routerbench_root, _routerbench),
)


def _find_layout(path: Path):
    """The upstream layout containing ``path`` (itself or an ancestor is the layout root)."""
    start = path if path.is_dir() else path.parent
    for candidate in [start, *start.parents]:
        for name, is_root, loader in LAYOUTS:
            if is_root(candidate):
                return candidate, loader
    return None


def load_dataset(path: str | os.PathLike, **options: Any) -> Dataset:
    """Load any supported dataset; the format is detected from ``path`` (see the module doc).

    ``options`` go to the adapter (e.g. ``benchmark='mmlu'`` for RouteLLM, ``pool=`` for
    preference logs). Unknown formats raise a DataError listing what is accepted.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"a dataset path is needed, got {type(path).__name__} (accepted: {ACCEPTED})")
    text = os.fspath(path)
    if not isinstance(text, str):
        text = os.fsdecode(text)
    if not text.strip():
        raise DataError(f"the dataset path is empty (accepted: {ACCEPTED})")
    if "\x00" in text:
        raise DataError(f"the dataset path {text!r} contains a NUL byte")
    if text.startswith("bundled:"):
        return bundled_dataset(text[len("bundled:"):])
    part = None
    with user_path(text, "read dataset", DataError):
        if "#" in text and not Path(text).exists():
            text, part = text.rsplit("#", 1)
        p = Path(text).expanduser()
        exists = p.exists()
    if not exists:
        raise DataError(f"no such file or directory (accepted: {ACCEPTED})", path=str(p))
    with user_path(p, "read dataset", DataError):
        return _load_existing(p, part, options)


def _load_existing(p: Path, part: str | None, options: dict[str, Any]) -> Dataset:
    if p.is_dir() and (p / "queries.parquet").exists():
        return Dataset.load(p)
    if p.is_file() and part is None:
        user_format = _user_file_loader(p)
        if user_format is not None:
            return user_format(p, **options)
    found = _find_layout(p)
    if found is not None:
        root, loader = found
        rel = p.relative_to(root) if p != root else None
        return loader(root, part, rel, dict(options))
    if p.is_file() and part is None and _is_query_file(p):
        return load_queries_file(p)
    if p.is_file():
        found_cols = ", ".join(sorted(_columns(p))) or "no columns"
        raise DataError(f"unrecognised format (found columns: {found_cols}; accepted: {ACCEPTED})", path=str(p))
    raise DataError(f"directory holds no recognised dataset (accepted: {ACCEPTED})", path=str(p))


def _columns(path: Path) -> list[str]:
    """Column names of a tabular file, read cheaply (header, schema or first record)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind == ".csv":
        return list(read_csv(path, nrows=0).columns)
    if kind in (".parquet", ".pq"):
        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise DataError(f"cannot read Parquet file: {' '.join(str(exc).split())}", path=str(path)) from None
    if kind == ".jsonl":
        first = next(iter(read_jsonl(path)), None)  # parses (and validates) the whole file
        return list(first) if first else []
    if kind == ".json":
        data = read_json(path)
        return list(data[0]) if isinstance(data, list) and data and isinstance(data[0], dict) else []
    return []


def _user_file_loader(path: Path) -> Callable[..., Dataset] | None:
    """The single-file format whose columns ``path`` has (checked before layouts, so a user
    file stored inside an upstream folder is still read as itself)."""
    cols = set(_columns(path))
    if {"sample_id", "prompt", "eval_name"} <= cols:
        return load_routerbench
    if {"model_a", "model_b", "winner"} <= cols:
        return load_preferences_file
    if {"query", "model", "score"} <= cols:
        return load_outcomes_file
    return None


def _is_query_file(path: Path) -> bool:
    """A plain list of unlabelled queries: a ``query`` column and no label columns (read after layouts)."""
    cols = set(_columns(path))
    return "query" in cols and not cols & {"model", "score", "winner", "model_a", "model_b"}
