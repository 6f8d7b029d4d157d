"""Routing latency per query of every router, at batch 1 and batch 1,000, beside RouteLLM's SW and MF.

What a server pays per request is the batch-1 time, embedding included. Every routecraft
router is fitted on the same training split of a bundled RouteLLM benchmark (default
MMLU, gpt-4 vs Mixtral) with WordLlama embeddings, and timed through
``Router.pair_score`` on the test prompts:

- batch 1: ``--n-single`` calls with one prompt each (different prompts), embedding each
  prompt (the real WordLlama embedder); p50, p90 and mean per call;
- batch 1,000: one call on 1,000 prompts, repeated ``--repeats`` times; the median per query.

RouteLLM 0.2.0's own SW and MF run in its venv through ``_routellm_driver.py`` on the same
battles and the same WordLlama vectors, but precomputed (its embeddings client is a lookup),
so its numbers *exclude* embedding while ours include it. RouteLLM has no batched call;
its "batch" figure is its per-query loop over the test prompts.

    python benchmarks/latency.py              # full size
    python benchmarks/latency.py --quick      # fewer calls, no torch routers

Writes ``benchmarks/results/latency.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import machine_load, write_results  # noqa: E402

GOAL_MS = 0.5
# router spec -> extra parameters (the registry's short names; oracle is left out: it reads test labels)
ROUTERS = {
    "random": {}, "best-single": {}, "always:gpt-4-1106-preview": {},
    "knn": {}, "logistic": {}, "mlp": {}, "sw": {}, "sw-tiers": {"use_tiers": True}, "mf": {},
}
TORCH_ROUTERS = {"bert": {}, "causal-llm": {}}


def log(msg: str) -> None:
    print(f"[latency {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def time_router(router, texts: list[str], strong: str, weak: str, n_single: int, n_batch: int, repeats: int) -> dict:
    router.pair_score(texts[:1], strong, weak)  # warm caches (model load, BLAS)
    single = []
    for t in (texts * (n_single // len(texts) + 1))[:n_single]:
        start = time.perf_counter()
        router.pair_score([t], strong, weak)
        single.append(time.perf_counter() - start)
    batch = (texts * (n_batch // len(texts) + 1))[:n_batch]
    per_query = []
    for _ in range(repeats):
        start = time.perf_counter()
        router.pair_score(batch, strong, weak)
        per_query.append((time.perf_counter() - start) / n_batch)
    ms = np.asarray(single) * 1000
    return {"batch1_p50_ms": float(np.median(ms)), "batch1_p90_ms": float(np.percentile(ms, 90)),
            "batch1_mean_ms": float(ms.mean()), "batch1000_per_query_ms": float(np.median(per_query) * 1000),
            "n_single": n_single, "n_batch": n_batch}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="200 single calls, 1 repeat, no torch routers")
    p.add_argument("--data", default="routellm-mmlu")
    p.add_argument("--max-train", type=int, default=2000, help="training queries (battles for SW/MF)")
    p.add_argument("--n-single", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-torch", action="store_true", help="skip the BERT and causal-LLM routers")
    p.add_argument("--no-routellm", action="store_true")
    p.add_argument("--routellm-python", default="/work/bench-venv/bin/python")
    p.add_argument("--mf-epochs", type=int, default=2, help="RouteLLM MF training epochs (timing only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = p.parse_args(argv)
    if args.quick:
        args.n_single, args.repeats, args.no_torch = 200, 1, True

    from routecraft.data import load_dataset, split_dataset
    from routecraft.embed import make_embedder
    from routecraft.evaluate import default_pair
    from routecraft.routers import make_router

    started = time.time()
    report: dict = {"args": vars(args), "machine_before": machine_load()}
    data = load_dataset(f"bundled:{args.data}")
    train, test, _ = split_dataset(data, test_size=0.3, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    ids = list(train.query_ids)
    train = train.subset([ids[i] for i in sorted(rng.choice(len(ids), min(args.max_train, len(ids)), replace=False))])
    strong, weak = default_pair(train)
    texts = test.texts[:1000]
    report["setup"] = {"train_queries": len(train), "test_prompts": len(texts), "strong": strong, "weak": weak,
                       "median_prompt_chars": float(np.median([len(t) for t in texts]))}
    results: dict = {}

    emb = make_embedder("wordllama")
    emb.encode(texts[:1])
    single = []
    for t in (texts * (args.n_single // len(texts) + 1))[: args.n_single]:
        start = time.perf_counter()
        emb.encode([t])
        single.append((time.perf_counter() - start) * 1000)
    results["(wordllama embedding alone)"] = {"batch1_p50_ms": float(np.median(single)),
                                              "batch1_p90_ms": float(np.percentile(single, 90)),
                                              "batch1_mean_ms": float(np.mean(single))}

    specs = dict(ROUTERS)
    if not args.no_torch:
        specs.update(TORCH_ROUTERS)
    for spec, params in specs.items():
        name = spec.split(":")[0] if not spec.startswith("sw-") else spec
        log(f"fitting {name}")
        if spec.startswith("sw-"):
            spec = "sw"
        router = make_router(spec, **params)
        if "embedder" in router.get_params() and spec not in TORCH_ROUTERS:
            router.set_params(embedder="wordllama")
        start = time.perf_counter()
        router.fit(train)
        fit_s = time.perf_counter() - start
        results[name] = {**time_router(router, texts, strong, weak, args.n_single, 1000, args.repeats), "fit_s": fit_s}
        log(f"{name}: batch-1 p50 {results[name]['batch1_p50_ms']:.3f} ms, "
            f"batch-1000 {results[name]['batch1000_per_query_ms'] * 1000:.1f} µs/query")

    if not args.no_routellm:
        import routellm_side_by_side as sbs

        log("RouteLLM's SW and MF (its venv)")
        rl_args = SimpleNamespace(routellm_python=args.routellm_python, n_converged=1, mf_epochs=args.mf_epochs,
                                  seed=args.seed)
        from routecraft.data import Dataset
        from routecraft.data._augment import dataset_preferences

        battles = Dataset(train.queries, train.outcomes, dataset_preferences(train), train.pool, meta=train.meta)
        with tempfile.TemporaryDirectory() as tmp:
            out = sbs.routellm_scores(rl_args, battles, texts, emb, Path(tmp))
        for key, label in (("sw_seconds", "routellm SW (10 tiers)"), ("mf_seconds", "routellm MF")):
            t = out[key]
            results[label] = {"batch1_mean_ms": t["batch1_s"] * 1000, "batch1000_per_query_ms": t["loop_per_query_s"] * 1000,
                              "n_single": 20, "note": "embedding excluded (lookup); batch = its per-query loop"}
    report["results"] = results
    path = write_results(args.out, "latency", report, markdown, started)
    log(f"wrote {path} and latency.md ({report['wall_s']:.0f} s)")
    return report


def markdown(r: dict) -> str:
    a = r["args"]

    def f(x, key):
        return "—" if key not in x else f"{x[key]:.3f}"

    lines = [
        "# Routing latency per query (batch 1 and batch 1,000)",
        "",
        f"Generated by `benchmarks/latency.py`{' --quick' if a['quick'] else ''}: {r['setup']['train_queries']} training "
        f"queries of {a['data']}, {r['setup']['test_prompts']} test prompts (median {r['setup']['median_prompt_chars']:.0f} "
        f"chars), {a['n_single']} single calls, batch of 1,000 × {a['repeats']}. routecraft times include the WordLlama "
        f"embedding; RouteLLM's exclude it (precomputed lookup) and its batch figure is its per-query loop. "
        f"Goal: batch-1 p50 ≤ {GOAL_MS} ms.",
        "",
        f"Machine: {r['machine_before']['cpus']} CPUs shared with other jobs; load average before "
        f"{r['machine_before']['loadavg_1_5_15']}, after {r['machine_after']['loadavg_1_5_15']}.",
        "",
        "| router | batch-1 p50 (ms) | batch-1 p90 (ms) | batch-1 mean (ms) | batch-1000 per query (ms) | p50 ≤ goal |",
        "|---|---|---|---|---|---|",
    ]
    for name, x in r["results"].items():
        goal = "" if "batch1_p50_ms" not in x or name.startswith("(") else ("yes" if x["batch1_p50_ms"] <= GOAL_MS else "no")
        lines.append(f"| {name} | {f(x, 'batch1_p50_ms')} | {f(x, 'batch1_p90_ms')} | {f(x, 'batch1_mean_ms')} | "
                     f"{f(x, 'batch1000_per_query_ms')} | {goal} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
