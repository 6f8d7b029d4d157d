"""Dataset inspection: what a router would learn from, and every caveat the data shows.

Everything here is computed from the tables (duplicates, leakage, coverage, score
type, cost source) or taken from the caveats the adapter detected while reading the
upstream files (``meta["notes"]``, ``meta["dropped"]``, ``meta["contamination"]``).
The report is plain JSON so ``routecraft data inspect --json`` can emit it as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._dataset import Dataset
from ._split import TEST_NAMES, TRAIN_NAMES, normalise_text

N_EXAMPLES = 3
ADAPTER_KEYS = ("notes", "dropped", "contamination", "incomplete_runs", "answer_key_revisions", "clipped_scores")


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _score_type(outcomes: pd.DataFrame) -> str:
    """binary (all 0/1), rating (raw scores on another scale, e.g. 1-10) or fractional."""
    if "raw_score" in outcomes.columns:
        raw = outcomes["raw_score"].dropna()
        if len(raw) and (raw.max() > 1 or not np.allclose(raw, outcomes.loc[raw.index, "score"])) and raw.min() >= 1:
            return "rating"
    scores = outcomes["score"].to_numpy()
    return "binary" if np.isin(scores, (0.0, 1.0)).all() else "fractional"


def _per_model(data: Dataset) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    n = len(data)
    pool = set(data.pool["model"]) if data.pool is not None else set()
    outcomes = data.outcomes
    for m in data.models:
        entry: dict[str, Any] = {}
        if outcomes is not None:
            rows = outcomes[outcomes["model"] == m]
            entry["n_outcomes"] = int(len(rows))
            entry["n_missing"] = int(n - len(rows))
            entry["coverage"] = round(len(rows) / n, 4) if n else 0.0
            entry["mean_score"] = round(float(rows["score"].mean()), 4) if len(rows) else None
            measured = rows["cost_usd"].notna().mean() if "cost_usd" in rows.columns and len(rows) else 0.0
        else:
            measured = 0.0
        entry["cost"] = "measured" if measured > 0 else "price-table" if m in pool else "none"
        if measured > 0 and measured < 1:
            entry["cost_measured_fraction"] = round(float(measured), 4)
        out[m] = entry
    return out


def _duplicates(data: Dataset) -> dict[str, Any]:
    """Distinct query ids sharing the same (whitespace-normalised) text, and their label conflicts."""
    q = data.queries
    norm = q["query"].map(normalise_text)
    dup_mask = norm.duplicated(keep=False).to_numpy()
    groups = q.loc[dup_mask].assign(_norm=norm[dup_mask]).groupby("_norm", sort=False)["query_id"].apply(list)
    report: dict[str, Any] = {
        "extra_copies": int(norm.duplicated().sum()),
        "texts": int(len(groups)),
        "examples": [_short(t) for t in list(groups.index[:N_EXAMPLES])],
    }
    if data.outcomes is not None and len(groups):
        conflicts = _conflicts(data.outcomes, groups.tolist())
        report["conflicting_labels"] = conflicts
    return report


def _conflicts(outcomes: pd.DataFrame, groups: list[list[str]]) -> dict[str, int]:
    """Per model, the number of duplicate-text groups whose copies carry different scores."""
    group_of = {qid: g for g, ids in enumerate(groups) for qid in ids}
    rows = outcomes[outcomes["query_id"].isin(group_of)]
    spread = rows.assign(_g=rows["query_id"].map(group_of)).groupby(["model", "_g"])["score"].agg(lambda s: s.max() - s.min())
    bad = spread[spread > 1e-9].groupby(level="model").size()
    return {str(m): int(c) for m, c in bad.items()}


def _leakage(data: Dataset) -> dict[str, Any] | None:
    """Test queries whose exact (normalised) text also occurs in train."""
    q = data.queries
    if "split" not in q.columns or q["split"].isna().all():
        return None
    label = q["split"].fillna("").str.lower()
    norm = q["query"].map(normalise_text)
    train, test = label.isin(TRAIN_NAMES), label.isin(TEST_NAMES)
    if not train.any() or not test.any():
        return None
    leaked = test & norm.isin(set(norm[train]))
    report: dict[str, Any] = {"test_in_train": int(leaked.sum()), "n_test": int(test.sum())}
    if leaked.any():
        if "task" in q.columns:
            report["by_task"] = {str(k): int(v) for k, v in q.loc[leaked, "task"].fillna("?").value_counts().items()}
        report["examples"] = [_short(t) for t in q.loc[leaked, "query"].head(N_EXAMPLES)]
        if data.outcomes is not None:
            report["identical_labels"] = _identical_labels(data, norm, train, leaked)
    return report


def _identical_labels(data: Dataset, norm: pd.Series, train: pd.Series, leaked: pd.Series) -> int:
    """Leaked test queries whose score vector equals that of their train copy."""
    S = data.score_matrix()
    train_row = {t: i for i, t in zip(np.flatnonzero(train.to_numpy()), norm[train])}
    same = 0
    for i in np.flatnonzero(leaked.to_numpy()):
        j = train_row[norm.iloc[i]]
        same += bool(np.array_equal(S[i], S[j], equal_nan=True))
    return same


def inspect_dataset(data: Dataset) -> dict[str, Any]:
    """A JSON-able report: sizes, per-model score/coverage/cost source, duplicates, splits, leakage, caveats."""
    report: dict[str, Any] = {
        "name": data.name,
        "n_queries": len(data),
        "n_models": len(data.models),
        "models": _per_model(data),
        "source": data.meta.get("source"),
        "license": data.meta.get("license"),
    }
    if data.outcomes is not None:
        report["n_outcomes"] = int(len(data.outcomes))
        report["score_type"] = _score_type(data.outcomes)
        report["outcome_sources"] = {str(k): int(v) for k, v in data.outcomes.get("source", pd.Series(dtype=object)).value_counts().items()}
        report["missing_cells"] = int(len(data) * len(data.models) - len(data.outcomes))
    if data.preferences is not None:
        p = data.preferences
        report["preferences"] = {
            "n": int(len(p)),
            "winners": {str(k): int(v) for k, v in p["winner"].value_counts().items()},
            "sources": {str(k): int(v) for k, v in p.get("source", pd.Series(dtype=object)).value_counts().items()},
        }
    for col in ("task", "split"):
        if col in data.queries.columns and data.queries[col].notna().any():
            counts = data.queries[col].fillna("(none)").value_counts()
            report[f"{col}s" if col == "split" else "tasks"] = (
                {str(k): int(v) for k, v in counts.items()} if col == "split" else {"n": int(len(counts)), "largest": {str(k): int(v) for k, v in counts.head(5).items()}}
            )
    report["duplicates"] = _duplicates(data)
    leakage = _leakage(data)
    if leakage is not None:
        report["leakage"] = leakage
    contamination = data.meta.get("contamination")
    if contamination:
        report["contamination"] = {
            "n_listed": contamination.get("n_listed"),
            "n_matched": len(contamination.get("query_ids", [])),
            "list": contamination.get("list"),
        }
    report["adapter"] = {k: data.meta[k] for k in ADAPTER_KEYS if k in data.meta and k != "contamination"}
    return report


def format_inspection(report: dict[str, Any]) -> str:
    """The report as plain text for the terminal."""
    lines = [f"dataset {report['name']}: {report['n_queries']} queries x {report['n_models']} models"]
    if "score_type" in report:
        lines.append(
            f"  outcomes: {report['n_outcomes']} ({report['score_type']} scores; "
            f"{report['missing_cells']} missing cells; sources {report['outcome_sources']})"
        )
    for m, e in report["models"].items():
        score = f"mean {e['mean_score']:.3f}, coverage {e['coverage']:.1%}, " if e.get("mean_score") is not None else ""
        if e.get("n_missing"):
            score += f"{e['n_missing']} missing, "
        lines.append(f"  - {m}: {score}cost {e['cost']}")
    if "preferences" in report:
        p = report["preferences"]
        lines.append(f"  preferences: {p['n']} (winners {p['winners']}; sources {p['sources']})")
    if "splits" in report:
        lines.append(f"  splits: {report['splits']}")
    if "tasks" in report:
        lines.append(f"  tasks: {report['tasks']['n']} (largest: {report['tasks']['largest']})")
    d = report["duplicates"]
    if d["extra_copies"]:
        line = f"  duplicate query texts: {d['texts']} texts, {d['extra_copies']} extra copies"
        if d.get("conflicting_labels"):
            line += f"; conflicting labels: {d['conflicting_labels']}"
        lines.append(line + f"; e.g. {d['examples'][0]!r}")
    else:
        lines.append("  duplicate query texts: none")
    if "leakage" in report:
        lk = report["leakage"]
        line = f"  train/test leakage: {lk['test_in_train']} of {lk['n_test']} test queries also in train"
        if lk["test_in_train"]:
            line += f" (by task {lk.get('by_task')}"
            if "identical_labels" in lk:
                line += f"; {lk['identical_labels']} with identical labels"
            line += ")"
        lines.append(line)
    if "contamination" in report:
        c = report["contamination"]
        lines.append(f"  contamination: {c['n_matched']} queries match {c['n_listed']} listed prompts ({c['list']})")
    for note in report["adapter"].get("notes", []):
        lines.append(f"  note: {note}")
    return "\n".join(lines)
