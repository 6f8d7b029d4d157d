"""MMLU-Pro per-model results (TIGER-AI-Lab/MMLU-Pro ``eval_results``, reduced to CSVs).

The 29 runs were scored against three different answer keys (2024-07, an intermediate
2024-07-30 key, and the 2024-10 key in ``questions.json.gz``). By default every run's
``pred`` is re-scored against the newest key so all models are compared on the same
gold answers (the newest key also carries the maintainers' corrections: 33 of the 48
revised questions change the gold letter). ``answer_key="run"`` keeps each run's own
``correct`` column instead. A question missing from a run stays a missing outcome, not
a zero, and a null ``pred`` scores 0 (upstream gives it a random guess instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._errors import DataError
from .._dataset import CHARS_PER_TOKEN, Dataset
from .._prices import pool_for
from .._io import read_csv, read_json
from ._common import add_note, numeric, require_columns

LETTERS = "ABCDEFGHIJKLMNOP"
RUN_PREFIX, RUN_SUFFIX = "model_outputs_", "_5shots"
SOURCE = {
    "repository": "https://github.com/TIGER-AI-Lab/MMLU-Pro",
    "commit": "f418b116db00b065c2aea046518d8fcf74d39872",
    "path": "eval_results/model_outputs_<model>_5shots.zip (reduced)",
}


def is_mmlu_pro_root(path: Path) -> bool:
    return (path / "questions.json.gz").is_file() and (path / "model_outputs").is_dir()


def question_text(question: str, options: list[str]) -> str:
    """The routed prompt: the question followed by lettered options, one per line."""
    return "\n".join([question, *(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))])


def load_mmlu_pro(root: str | Path, answer_key: str = "newest") -> Dataset:
    """Load all runs in ``model_outputs/`` joined with ``questions.json.gz``; see the module doc."""
    root = Path(root)
    if answer_key not in ("newest", "run"):
        raise DataError(f"answer_key must be 'newest' or 'run', got {answer_key!r}")
    qpath = root / "questions.json.gz"
    questions = pd.DataFrame.from_records(read_json(qpath))
    require_columns(questions, ["question_id", "question", "options", "answer", "category"], qpath, "MMLU-Pro questions")
    questions["query"] = [question_text(q, o) for q, o in zip(questions["question"], questions["options"])]
    key = questions.set_index("question_id")["answer"]
    meta: dict[str, Any] = {
        "name": "mmlu_pro",
        "source": SOURCE,
        "license": "Apache-2.0 (results repository); MMLU-Pro data MIT",
        "path": str(root),
        "answer_key": answer_key,
        "notes": [],
    }
    runs = sorted((root / "model_outputs").glob(f"{RUN_PREFIX}*{RUN_SUFFIX}.csv"))
    if not runs:
        raise DataError(f"no {RUN_PREFIX}<model>{RUN_SUFFIX}.csv files", path=str(root / "model_outputs"))
    meta["cells_differing_from_newest_key"] = {}
    parts = [_run_rows(f, key, answer_key, meta) for f in runs]
    _note_rescoring(meta)
    outcomes = pd.concat(parts, ignore_index=True)
    _note_coverage(outcomes, len(questions), meta)
    qrows = pd.DataFrame(
        {
            "query_id": [f"mmlupro-{i}" for i in questions["question_id"]],
            "query": questions["query"],
            "task": questions["category"],
            "src": questions.get("src"),
        }
    )
    _note_revisions(root, meta)
    # Ids are unique upstream, so nothing can be dropped: build the tables directly (a
    # merge would copy each question text once per run).
    return Dataset(queries=qrows, outcomes=outcomes, pool=pool_for(outcomes["model"].unique()), meta=meta)


def _run_rows(path: Path, key: pd.Series, answer_key: str, meta: dict[str, Any]) -> pd.DataFrame:
    model = path.stem[len(RUN_PREFIX): -len(RUN_SUFFIX)]
    frame = read_csv(path, dtype={"pred": str, "answer": str}, keep_default_na=False)
    require_columns(frame, ["question_id", "pred", "answer", "correct", "output_chars"], path, "MMLU-Pro run")
    ids = numeric(frame["question_id"], path, "question_id").astype(int)
    unknown = ~np.isin(ids, key.index.to_numpy())
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise DataError(f"question_id {ids[i]} not in questions.json.gz", path=str(path), row=i + 1, field="question_id")
    pred = frame["pred"].fillna("").astype(str).to_numpy()
    own = numeric(frame["correct"], path, "correct", lo=0, hi=1)
    newest = (pred == key.reindex(ids).to_numpy()).astype(float)
    meta["cells_differing_from_newest_key"][model] = int((own != newest).sum())
    return pd.DataFrame(
        {
            "query_id": [f"mmlupro-{i}" for i in ids],
            "model": model,
            "score": newest if answer_key == "newest" else own,
            "raw_score": own,
            "tokens_out": numeric(frame["output_chars"], path, "output_chars", lo=0) / CHARS_PER_TOKEN,
            "answer": np.where(pred == "", None, pred),
            "source": "gold",
        }
    )


def _note_rescoring(meta: dict[str, Any]) -> None:
    """Runs whose own ``correct`` disagrees with the newest key were scored against an older key."""
    diff = {m: n for m, n in meta["cells_differing_from_newest_key"].items() if n}
    if diff:
        verb = "re-scored" if meta["answer_key"] == "newest" else "kept as scored"
        add_note(
            meta,
            f"{len(diff)} of {len(meta['cells_differing_from_newest_key'])} runs were scored upstream against an "
            f"older answer key ({verb}; {sum(diff.values())} cells differ from the newest key, "
            f"{min(diff.values())}-{max(diff.values())} per run)",
        )


def _note_coverage(outcomes: pd.DataFrame, n_questions: int, meta: dict[str, Any]) -> None:
    counts = outcomes.groupby("model").size()
    partial = {m: int(c) for m, c in counts.items() if c < n_questions}
    meta["incomplete_runs"] = partial
    for m, c in sorted(partial.items()):
        add_note(meta, f"incomplete run: {m} answered {c} of {n_questions} questions (the rest are missing outcomes)")
    nulls = outcomes.assign(null=outcomes["answer"].isna()).groupby("model")["null"].sum()
    zero = sorted(m for m, n in nulls.items() if n == 0)
    if zero and len(zero) < len(nulls):
        add_note(
            meta,
            f"runs with no null predictions (different answer extraction/fallback?): {', '.join(zero)}",
        )


def _note_revisions(root: Path, meta: dict[str, Any]) -> None:
    """Record the answer-key revision table shipped with the data (detected upstream across runs)."""
    path = root / "answer_key_revisions.csv"
    if not path.exists():
        return
    rev = read_csv(path, dtype=str, keep_default_na=False)
    require_columns(rev, ["question_id", "answer_in_2024_07_files", "answer_in_2024_10_files"], path, "answer-key revisions")
    gold_changed = int((rev["answer_in_2024_07_files"] != rev["answer_in_2024_10_files"]).sum())
    meta["answer_key_revisions"] = {"questions": len(rev), "gold_answer_changed": gold_changed}
    add_note(
        meta,
        f"answer-key revisions: {len(rev)} questions differ between the 2024-07 and 2024-10 keys "
        f"({gold_changed} change the gold answer); scored against the {meta['answer_key']} key",
    )
