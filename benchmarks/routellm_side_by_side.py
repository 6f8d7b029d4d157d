"""routecraft's routers next to RouteLLM's own SW and MF, on RouteLLM's real eval data.

Benchmarks: RouteLLM's GSM8K, MMLU and MT-bench results for gpt-4-1106-preview
(strong) vs Mixtral-8x7B-Instruct-v0.1 (weak), as bundled with routecraft. Both
libraries get the SAME splits, the SAME battles and the SAME query embeddings
(``--embedder``, default ``wordllama``; RouteLLM's OpenAI client is replaced by a
lookup of these vectors, and routecraft's routers get a lookup embedder too, so no
timing below includes embedding). Every metric is computed by routecraft's evaluator
on both libraries' P(strong) scores, so the metric code is identical.

- **Protocol A, in-domain** (RouteLLM's "gold" augmentation): a seeded 70/30 split
  per benchmark; training battles are gold pairs from the train split's outcomes
  (MT-bench: GPT-4 judge pairs from its 1–10 grades, 5-fold cross-fitting over its
  80 questions). Test prompts with cosine ≥ 0.95 to a training prompt, and those in
  RouteLLM's contamination lists, are removed (counted in the report).
- **Protocol B, cross-domain**: the same test prompts, training on other data only:
  MMLU-Pro gold pairs (29 models, Mixtral-8x7B-Instruct included), LLMRouter gold
  pairs (9 models) and the MT-bench judge pairs; MT-bench is tested with GSM8K+MMLU
  gold pairs plus MMLU-Pro. Battles are subsampled (``--max-battles``); training
  prompts with cosine ≥ 0.95 to a test prompt are dropped, so the test set stays the
  one of protocol A.
- **Routers**: RouteLLM's ``SWRankingRouter`` (10 tiers) and its MF trained by its own
  ``train_matrix_factorization`` code, against routecraft's ``sw`` (with and without
  tiers), ``mf``, ``knn``, ``logistic``, ``mlp``, ``random`` and ``oracle``.
- **Timing**: seconds per query at batch 1 and batch 1,000 (RouteLLM has no batched
  call: its figure is the per-query time of its scoring loop), embeddings precomputed.
- **SW equivalence**: max |P_routecraft − P_RouteLLM| with tiers on, on every job, and
  on the synthetic data of the original check (``synthetic`` in the report).

RouteLLM runs in a separate venv (~6 GB, patched to run offline, see
benchmarks/README.md). Run, from routecraft's environment::

    .venv/bin/python benchmarks/routellm_side_by_side.py --routellm-python /work/bench-venv/bin/python

It writes ``benchmarks/results/routellm_side_by_side.{json,md}``. Tests never import this file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from routecraft.data import (
    Dataset,
    judge_preferences_from_ratings,
    load_dataset,
    mix_preferences,
    outcomes_to_preferences,
    query_id_for,
    routellm_contamination,
    split_dataset,
)
from routecraft.embed import make_embedder
from _lookup import LookupEmbedder  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
from routecraft.evaluate import evaluate_routers
from routecraft.routers import make_router
from routecraft.routers._base import Router
from routecraft.routers._mf import MatrixFactorizationRouter
from routecraft.routers._sw import SWRankingRouter

STRONG, WEAK = "gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"
ROUTELLM_NAMES = {STRONG: "gpt-4-1106-preview", WEAK: "mixtral-8x7b-instruct-v0.1"}  # its MF's MODEL_IDS
RENAME = {"Mixtral-8x7B-Instruct-v0.1": WEAK}  # MMLU-Pro's spelling of the weak model
BENCHMARKS = ("gsm8k", "mmlu", "mtbench")
SHARED = Path("/work/shared/data")
RESULTS = Path(__file__).with_name("results")
COSINE_DUP = 0.95  # RouteLLM's evals/find_contaminated.py threshold
OURS = ("sw", "sw_tiers", "mf", "knn", "logistic", "mlp")
METRICS = ("apgr", "apgr_routellm", "cpt50", "cpt80", "cpt50_routellm", "cpt80_routellm")
# Ong et al. 2024 (RouteLLM), Table numbers as transcribed in shared/METHODS.md §C:
# trained on Chatbot Arena + augmentation, not on the data used here
PAPER = {
    "mtbench": [
        {"router": "random", "train": "-", "cpt50": 0.4903, "cpt80": 0.7808, "apgr": 0.500},
        {"router": "sw", "train": "Arena+Judge", "cpt50": 0.232, "cpt80": 0.360, "apgr": 0.759},
        {"router": "mf", "train": "Arena+Judge", "cpt50": 0.134, "cpt80": 0.3131, "apgr": 0.802},
    ],
    "mmlu": [
        {"router": "random", "train": "-", "cpt50": 0.5007, "cpt80": 0.799, "apgr": 0.500},
        {"router": "sw (best)", "train": "Arena+Gold", "cpt50": 0.354, "cpt80": 0.716, "apgr": 0.603},
    ],
    "gsm8k": [
        {"router": "random", "train": "-", "cpt50": 0.500, "cpt80": 0.801, "apgr": 0.497},
        {"router": "causal LLM (best)", "train": "Arena+Judge", "cpt50": 0.3364, "cpt80": 0.633, "apgr": 0.622},
    ],
}


NOTES = [
    "Protocol B for GSM8K/MMLU: GPT-4-1106-preview's only battles are the 80 MT-bench judge pairs (all against "
    "Mixtral), and its only outcomes for the per-model routers are those 80 chat questions; so nothing in training "
    "says where GPT-4 beats Mixtral on math or knowledge questions (no in-domain signal). Near-random APGR there is "
    "the expected result, not a bug; MT-bench's B has 5k strong-vs-weak battles, but from GSM8K/MMLU, not chat.",
    "Protocol A on 2-model data: tiers do not change anything (sw = sw_tiers), and RouteLLM's SW and ours agree to "
    "~1e-4 (RouteLLM stops sklearn's solver at tol=1e-4; against its fit solved to convergence the gap is ~1e-8).",
    "Decontamination uses our embedder (wordllama), not text-embedding-3-small, so the 0.95 rule removes other "
    "prompts than RouteLLM's did; on MMLU it removes many templated near-duplicates.",
    "Batch-1 time: routecraft's per-call overhead (building a pandas query frame, twice per call) dominates; "
    "RouteLLM's MF is a single torch forward, so at batch 1 our MF is slower (separately measured on an idle "
    "machine, GSM8K A: routecraft MF 1.08 / 0.11 / 0.16 ms per query at batch 1 / 10 / 100, SW with tiers "
    "1.77 / 0.19 / 0.16 ms, vs RouteLLM MF ~0.2-0.4 ms at any batch).",
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- plumbing
class ScoreRouter(Router):
    """Fixed P(strong wins) per query id (RouteLLM's scores, or cross-fitted ones), so the
    evaluator scores them exactly like a fitted routecraft router."""

    quality_kind = "win_prob"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.models_ = [STRONG, WEAK]

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        p = queries["query_id"].map(self.scores).to_numpy(dtype=float)
        return np.column_stack([p, np.full_like(p, 0.5)])


def renamed(data: Dataset) -> Dataset:
    if data.outcomes is None or not set(RENAME) & set(data.models):
        return data
    return Dataset(data.queries, outcomes=data.outcomes.assign(model=data.outcomes["model"].replace(RENAME)), meta=data.meta)


def near_duplicates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows of ``a`` (unit vectors) with cosine ≥ COSINE_DUP to some row of ``b``."""
    if not len(a) or not len(b):
        return np.zeros(len(a), dtype=bool)
    hit = np.zeros(len(a), dtype=bool)
    for s in range(0, len(a), 2048):
        hit[s : s + 2048] = (a[s : s + 2048] @ b.T).max(axis=1) >= COSINE_DUP
    return hit


def gold_pairs(data: Dataset, n_queries: int, n_battles: int, rng: np.random.Generator) -> tuple[pd.DataFrame, Dataset]:
    """Gold battles (ties kept) from a query subsample's outcomes, capped at ``n_battles``."""
    ids = data.query_ids
    if len(ids) > n_queries:
        ids = list(rng.choice(np.asarray(ids), n_queries, replace=False))
    sub = data.subset(ids)
    prefs = outcomes_to_preferences(sub.outcomes, sub.models, source="gold")
    if len(prefs) > n_battles:
        prefs = prefs.iloc[np.sort(rng.choice(len(prefs), n_battles, replace=False))].reset_index(drop=True)
    return prefs, sub


def judge_pairs(mtbench: Dataset) -> pd.DataFrame:
    return judge_preferences_from_ratings(mtbench.outcomes, score_column="raw_score")


def training_set(sources: list[tuple[pd.DataFrame, Dataset]], name: str) -> Dataset:
    """One dataset holding the mixed battles (pairwise routers) and the sources' outcomes
    (per-model routers), all with weight 1 as RouteLLM weighs them."""
    queries = pd.concat([d.queries[["query_id", "query"]] for _, d in sources]).drop_duplicates("query_id")
    outcomes = pd.concat([d.outcomes[["query_id", "model", "score"]] for _, d in sources], ignore_index=True)
    prefs = mix_preferences([(p, 1.0) for p, _ in sources])
    return Dataset(queries.reset_index(drop=True), outcomes=outcomes, preferences=prefs, meta={"name": name})


def bt_check(prefs: pd.DataFrame) -> dict:
    """Battles per pair model and whether strong and weak are linked by battles at all:
    a Bradley–Terry fit can only rank models that share a connected comparison graph."""
    involved = lambda m: int(((prefs["model_a"] == m) | (prefs["model_b"] == m)).sum())  # noqa: E731
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in zip(prefs["model_a"], prefs["model_b"]):
        parent[root(a)] = root(b)
    direct = ((prefs["model_a"] == STRONG) & (prefs["model_b"] == WEAK)) | ((prefs["model_a"] == WEAK) & (prefs["model_b"] == STRONG))
    return {
        "battles": int(len(prefs)),
        "models": int(len(set(prefs["model_a"]) | set(prefs["model_b"]))),
        "strong_battles": involved(STRONG),
        "weak_battles": involved(WEAK),
        "strong_vs_weak_battles": int(direct.sum()),
        "connected": STRONG in parent and WEAK in parent and root(STRONG) == root(WEAK),
    }


# --------------------------------------------------------------------------- one fold
def timing(router: Router, texts: list[str], n_single: int, n_batch: int) -> dict:
    single = []
    for t in texts[:n_single]:
        start = time.perf_counter()
        router.pair_score([t], STRONG, WEAK)
        single.append(time.perf_counter() - start)
    batch = (texts * (n_batch // len(texts) + 1))[:n_batch]
    start = time.perf_counter()
    router.pair_score(batch, STRONG, WEAK)
    return {"batch1_s": float(np.mean(single)), "batch1000_per_query_s": (time.perf_counter() - start) / n_batch}


def routellm_scores(args, train: Dataset, test_texts: list[str], emb: LookupEmbedder, tmp: Path) -> dict:
    """Write the job for ``_routellm_driver.py``, run it in RouteLLM's venv, read its scores."""
    work = Path(tempfile.mkdtemp(dir=tmp))
    text = train.queries.set_index("query_id")["query"]
    prefs = train.preferences
    prefs = prefs[text.loc[prefs["query_id"]].str.strip().str.len().to_numpy() >= 16].reset_index(drop=True)
    prompts = text.loc[prefs["query_id"]].tolist()
    winner = prefs["winner"].map({"a": "model_a", "b": "model_b"}).fillna("tie")
    (work / "battles").mkdir()
    (work / "embeddings").mkdir()
    pd.DataFrame(
        {
            "prompt": [json.dumps([p]) for p in prompts],
            "model_a": prefs["model_a"],
            "model_b": prefs["model_b"],
            "winner_model_a": (winner == "model_a").astype(int),
            "winner_model_b": (winner == "model_b").astype(int),
        }
    ).to_parquet(work / "battles" / "train.parquet", index=False)
    pd.DataFrame({"embeddings": list(emb.encode(prompts).astype(np.float64))}).to_parquet(work / "embeddings" / "train.parquet", index=False)
    pd.DataFrame({"model_a": prefs["model_a"], "model_b": prefs["model_b"], "winner": winner, "prompt": prompts}).to_parquet(
        work / "mf_battles.parquet", index=False
    )
    unique = sorted(set(prompts))
    pd.DataFrame({"prompt": unique, "embedding": list(emb.encode(unique).astype(np.float64))}).to_parquet(work / "mf_prompts.parquet", index=False)
    pd.DataFrame({"prompt": test_texts, "embedding": list(emb.encode(test_texts).astype(np.float64))}).to_parquet(work / "prompts.parquet", index=False)
    job = {
        "strong": STRONG, "weak": WEAK, "num_tiers": 10, "test": test_texts, "n_converged": args.n_converged, "n_single": 20,
        "mf": {"mode": "train", "names": ROUTELLM_NAMES, "epochs": args.mf_epochs, "seed": args.seed},
    }
    (work / "job.json").write_text(json.dumps(job))
    subprocess.run([args.routellm_python, str(Path(__file__).with_name("_routellm_driver.py")), str(work)], check=True)
    return json.loads((work / "routellm_scores.json").read_text())


def run_fold(args, train: Dataset, test: Dataset, emb: LookupEmbedder, tmp: Path) -> dict:
    """Every router's P(strong) on ``test`` (in its query order), fit times, timings, SW agreement."""
    texts = test.texts
    params: dict[str, dict[str, Any]] = {
        "sw": {"embedder": emb},
        "sw_tiers": {"embedder": emb, "use_tiers": True, "n_tiers": 10},
        "mf": {"embedder": emb, "epochs": args.mf_epochs, "random_state": args.seed},
        "knn": {"embedder": emb},
        "logistic": {"embedder": emb},
        "mlp": {"embedder": emb},
    }
    scores: dict[str, np.ndarray] = {}
    fit_s: dict[str, float] = {}
    timings: dict[str, dict] = {}
    for name, p in params.items():
        start = time.perf_counter()
        router = make_router(name.split("_")[0], **p).fit(train)
        fit_s[name] = time.perf_counter() - start
        scores[name] = router.pair_score(texts, STRONG, WEAK)
        if name in ("sw", "sw_tiers", "mf"):
            timings[name] = timing(router, texts, 20, args.timing_batch)
    scores["random"] = make_router("random", random_state=args.seed).fit(train).pair_score(test.queries, STRONG, WEAK)
    scores["oracle"] = make_router("oracle").fit(test).pair_score(test.queries, STRONG, WEAK)
    log(f"  routecraft fitted ({', '.join(f'{k} {v:.1f}s' for k, v in fit_s.items())}); RouteLLM on {len(texts)} test prompts")
    start = time.perf_counter()
    theirs = routellm_scores(args, train, texts, emb, tmp)
    log(f"  RouteLLM done in {time.perf_counter() - start:.1f}s")
    scores["routellm_sw"] = np.asarray(theirs["sw"])
    scores["routellm_mf"] = np.asarray(theirs["mf"])
    n_conv = len(theirs["sw_converged"])
    diff = np.abs(scores["sw_tiers"] - scores["routellm_sw"])
    return {
        "scores": scores,
        "fit_s": fit_s,
        "routecraft_timing": timings,
        "routellm_timing": {"sw": theirs["sw_seconds"], "mf": theirs["mf_seconds"]},
        "routellm_mf_train": theirs.get("mf_train"),
        "routellm_tiers": theirs.get("sw_tiers"),
        "sw_equivalence": {
            "n": int(len(diff)),
            "max_abs_diff": float(diff.max()),
            "mean_abs_diff": float(diff.mean()),
            "max_abs_diff_vs_converged_fit": float(np.abs(scores["sw_tiers"][:n_conv] - np.asarray(theirs["sw_converged"])).max()),
            "n_converged": n_conv,
        },
    }


# --------------------------------------------------------------------------- jobs
def decontaminate_test(test: Dataset, train_texts: list[str], listed: set[str], emb: LookupEmbedder) -> tuple[Dataset, dict]:
    texts = test.texts
    dup = near_duplicates(emb.encode(texts), emb.encode(train_texts))
    in_list = np.array([t.strip() in listed for t in texts])
    keep = ~(dup | in_list)
    return test.subset(list(np.asarray(test.query_ids)[keep])), {
        "cosine_ge_0.95_to_train": int(dup.sum()), "routellm_contamination_list": int((in_list & ~dup).sum())
    }


def evaluate(test: Dataset, scores: dict[str, np.ndarray], args) -> list[dict]:
    ids = test.query_ids
    routers = {name: ScoreRouter(dict(zip(ids, map(float, s)))) for name, s in scores.items()}
    rows = evaluate_routers(routers, test, strong=STRONG, weak=WEAK, n_boot=args.n_boot, seed=args.seed)
    return [{"router": r["router"], "n_pair": r["n_pair"], **{k: r[k] for m in METRICS for k in (m, f"{m}_ci")}} for r in rows]


def combine(folds: list[dict]) -> dict:
    """Cross-fitted scores of all folds, in the order of the concatenated test sets."""
    return {k: np.concatenate([f["scores"][k] for f in folds]) for k in folds[0]["scores"]}


def protocol_a_splits(name: str, data: Dataset, listed: set[str], emb: LookupEmbedder, args) -> tuple[list[tuple[Dataset, Dataset]], dict]:
    """Protocol A's (train, decontaminated test) folds and how they were built.

    Also used by ``benchmarks/quality.py``, so both benchmarks score the same test prompts."""
    rng = np.random.default_rng(args.seed)
    if name == "mtbench":
        ids = np.asarray(data.query_ids)[rng.permutation(len(data))]
        splits = [(data.subset([i for i in ids if i not in set(f)]), data.subset(list(f))) for f in np.array_split(ids, args.mtbench_folds)]
        design = f"{args.mtbench_folds}-fold cross-fitting over the 80 questions (seeded), judge pairs from GPT-4 grades (both turns averaged)"
    else:
        train, test, _ = split_dataset(data, test_size=args.test_size, seed=args.seed)
        splits = [(train, test)]
        design = f"seeded split test_size={args.test_size}, gold pairs from the train split's outcomes (ties kept)"
    folds, n_battles, removed = [], [], {"cosine_ge_0.95_to_train": 0, "routellm_contamination_list": 0}
    for k, (train, test) in enumerate(splits):
        prefs = judge_pairs(train) if name == "mtbench" else outcomes_to_preferences(train.outcomes, train.models, source="gold")
        train = Dataset(train.queries, outcomes=train.outcomes, preferences=prefs, meta={"name": f"{name}-train"})
        n_battles.append(len(prefs))
        test, gone = decontaminate_test(test, train.texts, listed, emb)
        removed = {key: removed[key] + gone[key] for key in removed}
        if len(test) > args.max_test:
            test = test.subset(list(rng.choice(np.asarray(test.query_ids), args.max_test, replace=False)))
        log(f"{name} A fold {k + 1}/{len(splits)}: {len(train)} train queries, {len(prefs)} battles, {len(test)} test")
        folds.append((train, test))
    info = {"design": design, "n_train_queries": [len(s[0]) for s in splits], "n_battles": n_battles, "test_removed": removed}
    return folds, info


def concat_tests(tests: list[Dataset], name: str) -> Dataset:
    """The cross-fitted test folds as one test set, in fold order."""
    return Dataset(
        pd.concat([t.queries for t in tests], ignore_index=True),
        outcomes=pd.concat([t.outcomes for t in tests], ignore_index=True),
        meta={"name": name},
    )


def protocol_a(name: str, data: Dataset, listed: set[str], emb: LookupEmbedder, args, tmp: Path) -> tuple[dict, Dataset]:
    """In-domain: gold (or judge) pairs of the train split; returns the report and the test set used."""
    splits, info = protocol_a_splits(name, data, listed, emb, args)
    folds = [run_fold(args, train, test, emb, tmp) for train, test in splits]
    test = concat_tests([t for _, t in splits], f"{name}-test")
    report = {
        **info,
        "n_test": len(test),
        "test_capped_at": args.max_test,
        **fold_summary(folds),
        "results": evaluate(test, combine(folds), args),
    }
    return report, test


def fold_summary(folds: list[dict]) -> dict:
    return {
        "sw_equivalence": [f["sw_equivalence"] for f in folds],
        "routecraft_fit_s": [f["fit_s"] for f in folds],
        "routecraft_timing": [f["routecraft_timing"] for f in folds],
        "routellm_timing": [f["routellm_timing"] for f in folds],
        "routellm_mf_train": [f["routellm_mf_train"] for f in folds],
        "routellm_tiers": [f["routellm_tiers"] for f in folds],
    }


def protocol_b_train(name: str, test: Dataset, pools: dict[str, Dataset], emb: LookupEmbedder, args) -> tuple[Dataset, dict]:
    """Protocol B's cross-domain training set for ``test``: other data only, prompts near a test
    prompt dropped. Also used by ``benchmarks/quality.py``."""
    rng = np.random.default_rng(args.seed + 1)
    test_vecs = emb.encode(test.texts)
    clean = {}
    dropped = {}
    for src, data in pools.items():
        if src == name or (name != "mtbench" and src in ("gsm8k", "mmlu")) or (name == "mtbench" and src in ("mtbench", "llmrouter")):
            continue
        dup = near_duplicates(emb.encode(data.texts), test_vecs)
        dropped[src] = int(dup.sum())
        clean[src] = data.subset(list(np.asarray(data.query_ids)[~dup]))
    cap = args.max_battles
    if name == "mtbench":
        plan = {"gsm8k": (cap, int(0.2 * cap)), "mmlu": (cap, int(0.2 * cap)), "mmlu_pro": (2000, cap - int(0.4 * cap))}
    else:
        plan = {"mmlu_pro": (2000, int(0.65 * cap)), "llmrouter": (1500, cap - int(0.65 * cap) - 80), "mtbench": (80, 80)}
    sources = []
    for src, (nq, nb) in plan.items():
        if src == "mtbench":
            sources.append((judge_pairs(clean[src]), clean[src]))
        else:
            sources.append(gold_pairs(clean[src], nq, nb, rng))
    train = training_set(sources, f"{name}-cross-domain")
    check = bt_check(train.preferences)
    log(f"{name} B: {len(train)} train queries, {check}")
    info = {
        "design": "train on " + ", ".join(f"{s} ({len(p)} battles)" for s, (p, _) in zip(plan, sources)),
        "train_removed_cosine_ge_0.95_to_test": dropped,
        "bt_check": check,
    }
    return train, info


def protocol_b(name: str, test: Dataset, pools: dict[str, Dataset], emb: LookupEmbedder, args, tmp: Path) -> dict:
    """Cross-domain: train on other data only; drop training prompts near any test prompt."""
    train, info = protocol_b_train(name, test, pools, emb, args)
    fold = run_fold(args, train, test, emb, tmp)
    return {
        **info,
        "n_test": len(test),
        **fold_summary([fold]),
        "results": evaluate(test, fold["scores"], args),
    }


# --------------------------------------------------------------------------- synthetic check
def synthetic_check(args, tmp: Path) -> dict:
    """The original equivalence check on synthetic topic-skill data (hashing embedder):
    SW scores, and routecraft's MF weights loaded into RouteLLM's MFModel."""
    models = (STRONG, ROUTELLM_NAMES[WEAK], "llama-2-70b-chat", "claude-2.1")
    skill = {"math": (0.9, 0.3, 0.4, 0.8), "code": (0.85, 0.4, 0.3, 0.7), "chat": (0.7, 0.8, 0.75, 0.7)}
    templates = {
        "math": "Solve for x when {a}x + {b} = {c}, and show each step of the algebra.",
        "code": "Write a Python function that returns the {a}th prime number; case {b}.",
        "chat": "Write a friendly short greeting for my colleague number {a} on day {b}.",
    }
    rng = np.random.default_rng(args.seed)
    queries, outcomes = [], []
    for topic, template in templates.items():
        for i in range(200):
            text = template.format(a=i + 2, b=3 * i + 1, c=7 * i + 5)
            qid = query_id_for(text)
            queries.append({"query_id": qid, "query": text})
            outcomes += [{"query_id": qid, "model": m, "score": float(rng.random() < p)} for m, p in zip(models, skill[topic])]
    out = pd.DataFrame(outcomes)
    data = Dataset(pd.DataFrame(queries), preferences=outcomes_to_preferences(out, models), meta={"name": "synthetic"})
    test_ids = data.query_ids[::10]
    train = data.subset(sorted(set(data.query_ids) - set(test_ids)))
    texts = data.subset(test_ids).texts
    base = make_embedder("hashing")
    every = data.texts
    emb = LookupEmbedder(every, base.encode(every))
    sw = SWRankingRouter(embedder=emb, use_tiers=True, n_tiers=10).fit(train)
    mf = MatrixFactorizationRouter(embedder=emb, random_state=args.seed, epochs=30).fit(train)
    ours_sw = sw.pair_score(texts, models[0], models[1])
    ours_mf = mf.pair_score(texts, models[0], models[1])

    work = Path(tempfile.mkdtemp(dir=tmp))
    prefs = train.preferences
    prompts = train.queries.set_index("query_id")["query"].loc[prefs["query_id"]].tolist()
    (work / "battles").mkdir()
    (work / "embeddings").mkdir()
    pd.DataFrame(
        {"prompt": [json.dumps([p]) for p in prompts], "model_a": prefs["model_a"], "model_b": prefs["model_b"],
         "winner_model_a": (prefs["winner"] == "a").astype(int), "winner_model_b": (prefs["winner"] == "b").astype(int)}
    ).to_parquet(work / "battles" / "train.parquet", index=False)
    pd.DataFrame({"embeddings": list(emb.encode(prompts).astype(np.float64))}).to_parquet(work / "embeddings" / "train.parquet", index=False)
    pd.DataFrame({"prompt": texts, "embedding": list(emb.encode(texts).astype(np.float64))}).to_parquet(work / "prompts.parquet", index=False)
    p = mf.params_
    table = np.ones((64, p["model_embeddings"].shape[1]))  # rows of models we do not have; never scored
    ids = {STRONG: 24, ROUTELLM_NAMES[WEAK]: 36, "llama-2-70b-chat": 30, "claude-2.1": 7}  # its MODEL_IDS
    for j, m in enumerate(mf.models_):
        table[ids[m]] = p["model_embeddings"][j]
    np.savez(work / "mf_weights.npz", P=table, text_proj=p["projection"], classifier=p["readout"][None, :])
    job = {
        "strong": models[0], "weak": models[1], "num_tiers": 10, "test": texts, "n_converged": len(texts), "n_single": 5,
        "mf": {"mode": "load", "hidden_size": int(table.shape[1]), "text_dim": int(p["projection"].shape[1]),
               "names": {m: m for m in models}},
    }
    (work / "job.json").write_text(json.dumps(job))
    subprocess.run([args.routellm_python, str(Path(__file__).with_name("_routellm_driver.py")), str(work)], check=True)
    theirs = json.loads((work / "routellm_scores.json").read_text())
    return {
        "battles": int(len(prefs)),
        "test_queries": len(texts),
        "sw_max_abs_diff": float(np.abs(ours_sw - np.array(theirs["sw"])).max()),
        "sw_max_abs_diff_vs_converged_fit": float(np.abs(ours_sw - np.array(theirs["sw_converged"])).max()),
        "mf_max_abs_diff": float(np.abs(ours_mf - np.array(theirs["mf"])).max()),
    }


# --------------------------------------------------------------------------- report
def fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.1f}%" if pct else f"{x:.3f}"


def ci(r: dict, key: str, pct: bool = False) -> str:
    c = r.get(f"{key}_ci")
    return f"{fmt(r[key], pct)} [{fmt(c[0], pct)}, {fmt(c[1], pct)}]" if c else fmt(r[key], pct)


def markdown(report: dict) -> str:
    lines = [
        "# routecraft vs RouteLLM on RouteLLM's data (gpt-4-1106-preview vs Mixtral-8x7B-Instruct)",
        "",
        f"Generated by `benchmarks/routellm_side_by_side.py` in {report['run_seconds']:.0f} s; embedder `{report['embedder']}` "
        f"(precomputed, the same vectors for both libraries); {report['n_boot']} bootstrap resamples, seed {report['seed']}. "
        "All metrics by routecraft's evaluator on both libraries' P(strong). APGR = exact area under the PGR curve; "
        "APGR-RL, CPT-RL = RouteLLM's 10-bin definitions. CPT lower is better. `routellm_*` = RouteLLM 0.2.0's own "
        "routers; `sw_tiers` = routecraft SW with RouteLLM's 10 tiers.",
        "",
    ]
    for bench in report["benchmarks"]:
        for proto in ("A", "B"):
            job = report["benchmarks"][bench][proto]
            lines += [f"## {bench}, protocol {proto}", "", f"{job['design']}. n_test = {job['n_test']}."]
            if proto == "A":
                lines.append(f"Test prompts removed: {job['test_removed']}.")
            else:
                lines.append(f"Training prompts removed (cosine ≥ 0.95 to a test prompt): {job['train_removed_cosine_ge_0.95_to_test']}. "
                             f"BT check: {job['bt_check']}.")
            lines += ["", "| router | APGR [95% CI] | APGR-RL | CPT50 [95% CI] | CPT80 [95% CI] |", "|---|---|---|---|---|"]
            for r in job["results"]:
                lines.append(f"| {r['router']} | {ci(r, 'apgr')} | {fmt(r['apgr_routellm'])} | {ci(r, 'cpt50', True)} | {ci(r, 'cpt80', True)} |")
            if proto == "A":
                for p in PAPER[bench]:
                    lines.append(f"| paper: {p['router']} ({p['train']}, different training data) | {fmt(p['apgr'])} | – | "
                                 f"{fmt(p['cpt50'], True)} | {fmt(p['cpt80'], True)} |")
            eq = job["sw_equivalence"]
            lines += ["", "SW equivalence (routecraft sw_tiers vs RouteLLM SW), max |ΔP| per fold: "
                      + ", ".join(f"{e['max_abs_diff']:.2e} (vs converged fit {e['max_abs_diff_vs_converged_fit']:.2e})" for e in eq), ""]
    lines += ["## Routing time per query (embeddings precomputed, excluded for both)", "",
              "| job | router | routecraft batch 1 | routecraft batch 1000 | RouteLLM batch 1 | RouteLLM loop | speed-up b1 | speed-up b1000 |",
              "|---|---|---|---|---|---|---|---|"]
    for t in report["timing"]:
        lines.append(f"| {t['job']} | {t['router']} | {t['ours_batch1_ms']:.3f} ms | {t['ours_batch1000_ms']:.4f} ms | "
                     f"{t['routellm_batch1_ms']:.3f} ms | {t['routellm_loop_ms']:.3f} ms | {t['speedup_batch1']:.1f}× | {t['speedup_batch1000']:.0f}× |")
    s = report["synthetic"]
    lines += ["", f"Synthetic check ({s['battles']} battles, {s['test_queries']} queries, hashing embedder): SW max |ΔP| = "
              f"{s['sw_max_abs_diff']:.2e} ({s['sw_max_abs_diff_vs_converged_fit']:.2e} vs converged fit); MF inference "
              f"(routecraft weights in RouteLLM's MFModel) max |ΔP| = {s['mf_max_abs_diff']:.2e}.", ""]
    lines += ["## Summary", ""] + [f"- {line}" for line in report["summary"]] + [""]
    lines += ["## Notes", ""] + [f"- {line}" for line in NOTES] + [""]
    return "\n".join(lines)


def timing_rows(report: dict) -> list[dict]:
    rows = []
    for bench in report["benchmarks"]:
        for proto in ("A", "B"):
            job = report["benchmarks"][bench][proto]
            ours, theirs = job["routecraft_timing"][0], job["routellm_timing"][0]
            for mine, other in (("sw_tiers", "sw"), ("mf", "mf")):
                o, t = ours[mine], theirs[other]
                rows.append({
                    "job": f"{bench} {proto}", "router": f"{mine} vs RouteLLM {other}",
                    "ours_batch1_ms": 1e3 * o["batch1_s"], "ours_batch1000_ms": 1e3 * o["batch1000_per_query_s"],
                    "routellm_batch1_ms": 1e3 * t["batch1_s"], "routellm_loop_ms": 1e3 * t["loop_per_query_s"],
                    "speedup_batch1": t["batch1_s"] / o["batch1_s"],
                    "speedup_batch1000": t["loop_per_query_s"] / o["batch1000_per_query_s"],
                })
    return rows


def summary(report: dict) -> list[str]:
    out = []
    for bench in report["benchmarks"]:
        for proto in ("A", "B"):
            res = {r["router"]: r for r in report["benchmarks"][bench][proto]["results"]}
            rand = res["random"]["apgr"]
            best = max(OURS, key=lambda k: res[k]["apgr"])
            theirs = max(("routellm_sw", "routellm_mf"), key=lambda k: res[k]["apgr"])
            lo = res[best]["apgr_ci"][0]
            out.append(
                f"{bench} {proto}: routecraft best {best} APGR {ci(res[best], 'apgr')} vs RouteLLM best {theirs} "
                f"{ci(res[theirs], 'apgr')}; random router {fmt(rand)}, oracle {fmt(res['oracle']['apgr'])}; our best's "
                f"CI {'excludes' if lo > rand else 'does NOT exclude'} the random router's APGR and "
                f"{'excludes' if lo > 0.5 else 'does NOT exclude'} 0.5 (random's expected APGR)"
            )
    out.append("'best' is picked after the fact among six routers, so its interval is optimistic; "
               "oracle APGR can exceed 1 because per-query routing can beat always-strong")
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--routellm-python", default="/work/bench-venv/bin/python")
    ap.add_argument("--embedder", default="wordllama")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-size", type=float, default=0.3)
    ap.add_argument("--max-test", type=int, default=1000, help="test prompts per benchmark (seeded subsample)")
    ap.add_argument("--max-battles", type=int, default=20000, help="training battles in protocol B")
    ap.add_argument("--mtbench-folds", type=int, default=5)
    ap.add_argument("--mf-epochs", type=int, default=100)
    ap.add_argument("--n-converged", type=int, default=50, help="test prompts RouteLLM SW also scores with a converged fit")
    ap.add_argument("--timing-batch", type=int, default=1000)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    started = time.perf_counter()

    pools = {b: load_dataset(f"bundled:routellm-{b}") for b in BENCHMARKS}
    pools["mmlu_pro"] = renamed(load_dataset(str(SHARED / "mmlu_pro")))
    pools["llmrouter"] = load_dataset(str(SHARED / "llmrouter"))
    every = sorted({t for d in pools.values() for t in d.texts})
    start = time.perf_counter()
    emb = LookupEmbedder(every, make_embedder(args.embedder).encode(every))
    log(f"embedded {len(every)} texts with {args.embedder} in {time.perf_counter() - start:.1f}s")
    listed = {b: {t.strip() for t in v} for b, v in routellm_contamination(SHARED / "routellm").items()}

    report: dict[str, Any] = {"embedder": args.embedder, "seed": args.seed, "n_boot": args.n_boot, "args": vars(args), "benchmarks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        report["synthetic"] = synthetic_check(args, Path(tmp))
        log(f"synthetic: {report['synthetic']}")
        for bench in args.benchmarks.split(","):
            a, test = protocol_a(bench, pools[bench], listed.get(bench, set()), emb, args, Path(tmp))
            b = protocol_b(bench, test, pools, emb, args, Path(tmp))
            report["benchmarks"][bench] = {"A": a, "B": b, "paper": PAPER[bench]}
    report["run_seconds"] = time.perf_counter() - started
    report["timing"] = timing_rows(report)
    report["summary"] = summary(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "routellm_side_by_side.json").write_text(json.dumps(report, indent=1, default=float))
    (out / "routellm_side_by_side.md").write_text(markdown(report))
    print("\n".join(report["summary"]))
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
