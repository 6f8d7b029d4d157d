"""Cut the small test fixtures in tests/fixtures/data/ from the shared upstream files.

Usage: python scripts/build_fixtures.py [SHARED_DATA_DIR]   (default: /work/shared/data)

Each fixture keeps its upstream format and relative path and is a few dozen rows.
Where a caveat must be present for a test (duplicates, leakage, a clipped score) the
cut selects real rows that show it; the RouteLLM MMLU duplicate is injected (one real
prompt copied into a second domain file with a flipped label) and NOTICE.md says so.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "data"


def _jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().split("\n") if line.strip()]


def routellm(src: Path, dst: Path) -> None:
    ev, out = src / "routellm" / "evals", dst / "routellm" / "evals"
    g = pd.read_csv(ev / "gsm8k" / "gsm8k_responses.csv")
    cont = _read_jsonl(ev / "gsm8k" / "contaminated_prompts.jsonl")
    listed = {c["eval_prompt"] for c in cont}
    cut = pd.concat([g.head(20), g[g["prompt"].isin(listed)].head(2)]).drop_duplicates("prompt")
    (out / "gsm8k").mkdir(parents=True, exist_ok=True)
    cut.to_csv(out / "gsm8k" / "gsm8k_responses.csv", index=False)
    _jsonl(out / "gsm8k" / "contaminated_prompts.jsonl", [c for c in cont if c["eval_prompt"] in set(cut["prompt"])])
    (out / "mmlu" / "responses").mkdir(parents=True, exist_ok=True)
    a = pd.read_csv(ev / "mmlu" / "responses" / "mmlu_anatomy.csv").head(15)
    b = pd.read_csv(ev / "mmlu" / "responses" / "mmlu_astronomy.csv").head(15)
    copy = a.iloc[[0]].copy()
    copy["gpt-4-1106-preview"] = ~copy["gpt-4-1106-preview"].astype(bool)
    b = pd.concat([b, copy], ignore_index=True)
    a.to_csv(out / "mmlu" / "responses" / "mmlu_anatomy.csv", index=False)
    b.to_csv(out / "mmlu" / "responses" / "mmlu_astronomy.csv", index=False)
    _jsonl(out / "mmlu" / "contaminated_prompts.jsonl", [])
    qs = _read_jsonl(ev / "mt_bench" / "question.jsonl")
    cont = _read_jsonl(ev / "mt_bench" / "contaminated_prompts.jsonl")
    first = {q["turns"][0]: q["question_id"] for q in qs}
    ids = [q["question_id"] for q in qs[:5]] + [first[cont[0]["eval_prompt"]]]
    _jsonl(out / "mt_bench" / "question.jsonl", [q for q in qs if q["question_id"] in ids])
    _jsonl(out / "mt_bench" / "judgements.jsonl",
           [j for j in _read_jsonl(ev / "mt_bench" / "judgements.jsonl") if j["question_id"] in ids])
    _jsonl(out / "mt_bench" / "contaminated_prompts.jsonl", cont[:1])


def mmlu_pro(src: Path, dst: Path) -> None:
    with gzip.open(src / "questions.json.gz", "rt") as fh:
        questions = json.load(fh)
    rev = pd.read_csv(src / "answer_key_revisions.csv")
    text = pd.Series({q["question_id"]: (q["question"], tuple(q["options"])) for q in questions})
    dup_ids = list(text[text.duplicated(keep=False)].sort_values().index[:2])
    deepseek = pd.read_csv(src / "model_outputs" / "model_outputs_DeepSeek-Coder-V2_5shots.csv")
    missing = sorted(set(text.index) - set(deepseek["question_id"]))[:2]
    ids = set([q["question_id"] for q in questions[:20]] + list(rev.loc[rev["answer_in_2024_07_files"] != rev["answer_in_2024_10_files"], "question_id"].head(3)) + dup_ids + missing)
    (dst / "model_outputs").mkdir(parents=True, exist_ok=True)
    with gzip.open(dst / "questions.json.gz", "wt") as fh:
        json.dump([q for q in questions if q["question_id"] in ids], fh)
    rev[rev["question_id"].isin(ids)].to_csv(dst / "answer_key_revisions.csv", index=False)
    for model in ("DeepSeek-Coder-V2", "Llama-2-7b-hf", "jamba-1.5-large"):
        name = f"model_outputs_{model}_5shots.csv"
        frame = pd.read_csv(src / "model_outputs" / name, dtype={"pred": str}, keep_default_na=False)
        frame[frame["question_id"].isin(ids)].to_csv(dst / "model_outputs" / name, index=False)


def llmrouter(src: Path, dst: Path) -> None:
    dc, qd = Path("data/dcrouter_preprocessed"), Path("data/example_data/query_data")
    train = json.loads((src / dc / "train.json").read_text())
    test = json.loads((src / dc / "test.json").read_text())
    train_q = {r["question"] for r in train}
    leaked = [r for r in test if r["question"] in train_q][:3]
    test_cut = test[:8] + leaked
    keep = {r["question"] for r in test_cut}
    train_cut = train[:20] + [r for r in train if r["question"] in keep and r not in train[:20]]
    (dst / dc).mkdir(parents=True, exist_ok=True)
    (dst / dc / "train.json").write_text(json.dumps(train_cut, indent=2, ensure_ascii=False))
    (dst / dc / "test.json").write_text(json.dumps(test_cut, indent=2, ensure_ascii=False))
    wanted = keep | {r["question"] for r in train_cut}
    for split in ("train", "test"):
        lines = (src / qd / f"default_query_{split}.jsonl").read_text().split("\n")
        (dst / qd).mkdir(parents=True, exist_ok=True)
        (dst / qd / f"default_query_{split}.jsonl").write_text(
            "".join(line + "\n" for line in lines if line.strip() and json.loads(line)["query"] in wanted)
        )
    llm = Path("data/example_data/llm_candidates/default_llm.json")
    (dst / llm).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / llm, dst / llm)
    shutil.copy(src / "task_descriptions.json", dst / "task_descriptions.json")


def routerarena(src: Path, dst: Path) -> None:
    (dst / "cached_results").mkdir(parents=True, exist_ok=True)
    for f in sorted((src / "cached_results").glob("*.jsonl")):
        records = _read_jsonl(f)
        cut = records[:15] + [r for r in records if r["global_index"] == "NarrativeQA_4102"]
        _jsonl(dst / "cached_results" / f.name, cut)
    (dst / "model_cost").mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "model_cost" / "cost.json", dst / "model_cost" / "cost.json")


def arena_hard(src: Path, dst: Path) -> None:
    for v in ("v0.1", "v2.0"):
        rel = Path("data") / f"arena-hard-{v}" / "question.jsonl"
        _jsonl(dst / rel, _read_jsonl(src / rel)[:6])


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    for name, cut in [("routellm", routellm), ("mmlu_pro", mmlu_pro), ("llmrouter", llmrouter),
                      ("routerarena", routerarena), ("arena_hard", arena_hard)]:
        target = OUT / name
        shutil.rmtree(target, ignore_errors=True)
        cut(shared / name, target)
        print(f"{name}: {sum(f.stat().st_size for f in target.rglob('*') if f.is_file()) / 1e3:.0f} kB")
