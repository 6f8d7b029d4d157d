"""RouteLLM's evaluation data (lm-sys/RouteLLM ``routellm/evals``): GSM8K, MMLU, MT-bench.

Two models, named exactly as upstream: ``mistralai/Mixtral-8x7B-Instruct-v0.1`` (weak)
and ``gpt-4-1106-preview`` (strong). Each benchmark is its own dataset because
RouteLLM reports them separately. The contamination lists (prompts RouteLLM found in
its own router-training data) are recorded in ``meta["contamination"]`` so evaluations
can drop them as RouteLLM's benchmark does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._errors import DataError, shown
from .._dataset import Dataset
from .._prices import pool_for
from .._io import read_csv, read_jsonl
from ._common import add_note, assemble, booleans, numeric, require_columns, require_text

WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
STRONG = "gpt-4-1106-preview"
MODELS = (WEAK, STRONG)
BENCHMARKS = ("gsm8k", "mmlu", "mtbench")
EVALS = Path("routellm") / "evals"
_DIRS = {"gsm8k": "gsm8k", "mmlu": "mmlu", "mtbench": "mt_bench"}
SOURCE = {
    "repository": "https://github.com/lm-sys/RouteLLM",
    "commit": "0b64fdafe049e596a3f5657c219329f24af24198",
}
LICENSES = {
    "gsm8k": "Apache-2.0 (RouteLLM); GSM8K items MIT",
    "mmlu": "Apache-2.0 (RouteLLM); MMLU items MIT",
    "mtbench": "Apache-2.0 (RouteLLM; MT-bench questions from lm-sys/FastChat, Apache-2.0)",
}


def is_routellm_root(path: Path) -> bool:
    return (path / EVALS).is_dir()


def routellm_contamination(root: str | Path) -> dict[str, list[str]]:
    """Contaminated eval prompts per benchmark (``eval_prompt`` of each ``contaminated_prompts.jsonl``)."""
    root = Path(root)
    out: dict[str, list[str]] = {}
    for bench, sub in _DIRS.items():
        p = root / EVALS / sub / "contaminated_prompts.jsonl"
        if p.exists():
            out[bench] = [str(r["eval_prompt"]) for r in read_jsonl(p) if "eval_prompt" in r]
    return out


def load_routellm(root: str | Path, benchmark: str = "gsm8k", answers: bool = True) -> Dataset:
    """Load one RouteLLM benchmark (``gsm8k``, ``mmlu`` or ``mtbench``) from the upstream layout.

    ``answers=False`` leaves out the GSM8K model responses (they dominate the size).
    MMLU prompts that occur twice (105, some in two domain files) keep one query; the
    dropped copies and their conflicting labels are reported in ``meta["notes"]``.
    """
    root = Path(root)
    bench = benchmark.lower().replace("-", "").replace("_", "")
    if bench not in BENCHMARKS:
        raise DataError(f"unknown RouteLLM benchmark '{benchmark}' (choose from {', '.join(BENCHMARKS)})")
    meta: dict[str, Any] = {
        "name": f"routellm-{bench}",
        "source": {**SOURCE, "path": str(EVALS / _DIRS[bench])},
        "license": LICENSES[bench],
        "path": str(root),
        "notes": [],
    }
    rows = {"gsm8k": _gsm8k_rows, "mmlu": _mmlu_rows, "mtbench": _mtbench_rows}[bench](root, meta, answers)
    data = assemble(rows, meta, pool=pool_for(MODELS))
    _record_contamination(data, routellm_contamination(root).get(bench, []), meta)
    return data


def _wide_to_long(frame: pd.DataFrame, path: Path, extra: dict[str, Any]) -> pd.DataFrame:
    """RouteLLM's CSVs have one boolean correctness column per model: one long row per (prompt, model)."""
    require_columns(frame, ["prompt", *MODELS], path, "RouteLLM responses CSV")
    rows = np.arange(1, len(frame) + 1)
    texts = require_text(frame["prompt"], path, "prompt", rows)
    parts = []
    for m in MODELS:
        part = {"query": texts, **extra, "model": m, "score": booleans(frame[m], path, m, rows), "source": "gold"}
        if f"{m}_response" in frame.columns:
            part["answer"] = frame[f"{m}_response"].to_numpy()
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


def _gsm8k_rows(root: Path, meta: dict[str, Any], answers: bool) -> pd.DataFrame:
    path = root / EVALS / "gsm8k" / "gsm8k_responses.csv"
    frame = read_csv(path)
    if not answers:
        frame = frame.drop(columns=[c for c in frame.columns if c.endswith("_response")])
    return _interleave(_wide_to_long(frame, path, {"task": "gsm8k"}), len(frame))


def _mmlu_rows(root: Path, meta: dict[str, Any], answers: bool) -> pd.DataFrame:
    files = sorted((root / EVALS / "mmlu" / "responses").glob("mmlu_*.csv"))
    if not files:
        raise DataError("no mmlu_<domain>.csv files", path=str(root / EVALS / "mmlu" / "responses"))
    parts = []
    for f in files:
        frame = read_csv(f)
        parts.append(_interleave(_wide_to_long(frame, f, {"task": f.stem[len("mmlu_"):]}), len(frame)))
    meta["n_source_rows"] = int(sum(len(p) for p in parts) // len(MODELS))
    return pd.concat(parts, ignore_index=True)


def _interleave(long: pd.DataFrame, n: int) -> pd.DataFrame:
    """Order rows prompt by prompt (both models of a prompt together) so 'first copy' means first prompt."""
    order = np.arange(len(long)).reshape(len(MODELS), n).T.ravel()
    return long.iloc[order].reset_index(drop=True)


def _mtbench_rows(root: Path, meta: dict[str, Any], answers: bool) -> pd.DataFrame:
    """Route on turn 1; score = mean over the two turns of (rating - 1) / 9, raw_score = mean rating."""
    qpath = root / EVALS / "mt_bench" / "question.jsonl"
    jpath = root / EVALS / "mt_bench" / "judgements.jsonl"
    questions = {}
    for lineno, r in enumerate(read_jsonl(qpath), start=1):
        turns = r.get("turns")
        if not isinstance(turns, list) or not turns:
            raise DataError("missing turns", path=str(qpath), row=lineno, field="turns")
        require_text([turns[0]], qpath, "turns", [lineno])
        questions[r["question_id"]] = r
    judgements = pd.DataFrame.from_records(read_jsonl(jpath))
    require_columns(judgements, ["question_id", "model", "score", "turn"], jpath, "MT-bench judgements")
    judgements["rating"] = numeric(judgements["score"], jpath, "score", lo=1, hi=10)
    unknown = ~judgements["question_id"].isin(list(questions))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"question_id {shown(judgements['question_id'].iloc[i])} not in question.jsonl",
                        path=str(jpath), row=i + 1, field="question_id")
    grouped = judgements.groupby(["question_id", "model"], sort=True)
    mean = grouped["rating"].mean()
    n_turns = grouped["turn"].nunique()
    partial = int((n_turns < 2).sum())
    if partial:
        add_note(meta, f"{partial} MT-bench (question, model) pairs have a judgement for only one turn")
    records = []
    for (qid, model), rating in mean.items():
        q = questions[qid]
        records.append(
            {
                "query_id": f"mtbench-{qid}",
                "query": q["turns"][0],
                "task": q.get("category"),
                "turns": json.dumps([{"role": "user", "content": t} for t in q["turns"]], ensure_ascii=False),
                "model": model,
                "score": (rating - 1.0) / 9.0,
                "raw_score": rating,
                "source": "judge",
            }
        )
    return pd.DataFrame.from_records(records)


def _record_contamination(data: Dataset, prompts: list[str], meta: dict[str, Any]) -> None:
    """Mark queries whose text (or, for MT-bench, any turn) equals a contaminated eval prompt."""
    listed = set(prompts)
    hits = []
    for qid, text, turns in zip(
        data.queries["query_id"], data.queries["query"],
        data.queries["turns"] if "turns" in data.queries.columns else [None] * len(data),
    ):
        candidates = {text}
        if isinstance(turns, str):
            candidates.update(m["content"] for m in json.loads(turns))
        if candidates & listed:
            hits.append(qid)
    meta["contamination"] = {
        "list": "RouteLLM contaminated_prompts.jsonl (prompts near-duplicated in RouteLLM's router training data)",
        "n_listed": len(listed),
        "query_ids": hits,
    }
