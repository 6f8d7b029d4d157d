"""1M queries end to end on one machine: embed → route → evaluate, in-process vs Ray local.

Data: the bundled RouteLLM MMLU results (GPT-4 vs Mixtral, real gold labels). A seeded
70/30 split by query; the default SW router is trained on the train split's gold pairs.
The test queries are then varied into ``--n`` queries (default 1,000,000): each is a
real test question with one of 24 real-looking instruction prefixes and, for half of
them, a request-id suffix (``(ticket 48213)``), so texts are unique, the vocabulary
grows as in real traffic, and every varied query inherits its original's gold labels.

Stages, each in a fresh subprocess whose whole process tree is sampled for peak RSS
(psutil, every 0.2 s; Ray's raylet and workers included):

- ``embed``: WordLlama embeddings of every query (the embedding step alone);
- ``route``: embed + ``predict_quality`` + policy (argmax), decisions to Parquet, for
  the default SW router (whose cost grows with its training set: a Bradley–Terry fit
  per query) and the logistic router — the in-process engine, then the Ray engine
  (local, one actor per core);
- ``evaluate``: the evaluation suite (APGR, CPT, 1,000 paired bootstrap resamples) on
  the routed Q̂ against the gold labels — once on the in-process engine's output and
  once on Ray's, so the metrics (intervals included) are compared as well as decisions.

Throughput is queries/s; ``route`` is also given as a ratio to ``embed``. The Ray
decisions are compared with the in-process ones cell by cell.

Ray binds the host's address, so run this inside a loopback-only network namespace::

    ip netns add rc-ray && ip netns exec rc-ray ip link set lo up
    RAY_AUTH_MODE=disabled ip netns exec rc-ray .venv/bin/python benchmarks/scale.py
    ip netns del rc-ray

Outside one, the Ray stage is skipped and the report says so. Writes
``benchmarks/results/scale.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).with_name("results")
STRONG, WEAK = "gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"
PREFIXES = [
    "", "Question: ", "Please answer: ", "Q: ", "Help me with this: ", "Quick one: ", "I need the answer to this. ",
    "Can you solve this? ", "Answer briefly: ", "Homework question: ", "Exam prep: ", "Explain your answer. ",
    "From my textbook: ", "Test item: ", "My teacher asked: ", "Practice problem: ", "Choose the best option. ",
    "Be concise. ", "Think step by step. ", "Multiple choice: ", "Quiz: ", "Review question: ",
    "Interview question: ", "One more: ",
]


def loopback_only() -> bool:
    return [name for _, name in socket.if_nameindex()] == ["lo"]


# ------------------------------------------------------------------ prepare
def prepare(work: Path, n: int, seed: int, routers: list[str]) -> dict:
    from routecraft import split_dataset
    from routecraft.data import load_dataset, outcomes_to_preferences
    from routecraft.data._dataset import Dataset
    from routecraft.routers import make_router

    data = load_dataset("bundled:routellm-mmlu")
    train, test, _ = split_dataset(data, test_size=0.3, seed=seed)
    prefs = outcomes_to_preferences(train.outcomes, [STRONG, WEAK])
    fit_s = {}
    for name in routers:
        t0 = time.perf_counter()
        # SW learns from the gold pairs, as in RouteLLM; outcome routers from the outcomes
        fit_on = Dataset(train.queries, None, prefs, None, meta={"name": "mmlu-train"}) if name == "sw" else train
        make_router(name).fit(fit_on).save(str(work / f"{name}.routecraft"))
        fit_s[name] = time.perf_counter() - t0

    rng = np.random.default_rng(seed)
    base = test.queries[["query_id", "query"]].reset_index(drop=True)
    scores = test.score_matrix([STRONG, WEAK])
    src = rng.integers(0, len(base), n)
    prefix = rng.integers(0, len(PREFIXES), n)
    ticket = rng.integers(0, 100_000, n)
    has_ticket = rng.random(n) < 0.5
    texts = base["query"].to_numpy(dtype=object)
    varied = [
        PREFIXES[p] + texts[s] + (f" (ticket {t})" if h else "")
        for s, p, t, h in zip(src, prefix, ticket, has_ticket)
    ]
    ids = [f"q{i:07d}" for i in range(n)]
    pd.DataFrame({"query_id": ids, "query": varied}).to_parquet(work / "queries.parquet", index=False, row_group_size=65_536)
    np.save(work / "labels.npy", scores[src])
    return {
        "n_queries": n,
        "n_base_test_questions": len(base),
        "mean_chars": float(np.mean([len(t) for t in varied[:100_000]])),
        "n_train_questions": len(train),
        "n_train_battles": len(prefs),
        "fit_seconds": fit_s,
        "routers": routers,
    }


# ------------------------------------------------------------------- stages
def stage(name: str, work: Path, batch_rows: int) -> dict:
    """Run in a child process; prints one JSON line with the stage's own timing."""
    from routecraft.engine import embed_file, route_file

    t0 = time.perf_counter()
    if name == "embed":
        n = embed_file(work / "queries.parquet", work / "embeddings.parquet", batch_rows=batch_rows)
    elif name.startswith("route-"):
        _, router, engine = name.split("-")
        n = route_file(work / f"{router}.routecraft", work / "queries.parquet",
                       work / f"decisions-{router}-{engine}.parquet", engine=engine, batch_rows=batch_rows).rows
    elif name.startswith("evaluate-"):
        _, router, engine = name.split("-")
        n = evaluate(work, router, engine)
    else:
        raise SystemExit(f"unknown stage {name}")
    return {"rows": n, "seconds": time.perf_counter() - t0}


def evaluate(work: Path, router: str, engine: str) -> int:
    """The evaluation suite on one engine's routed Q̂ (not re-predicted), 1,000 paired resamples, pair fixed."""
    from routecraft.artifact import load_router
    from routecraft.data._dataset import Dataset
    from routecraft.evaluate import evaluate_routers

    r = load_router(str(work / f"{router}.routecraft"))
    models = list(r.models_)
    queries = pd.read_parquet(work / "queries.parquet")
    q = pd.read_parquet(work / f"decisions-{router}-{engine}.parquet", columns=[f"q:{m}" for m in models]).to_numpy()
    labels = np.load(work / "labels.npy")
    outcomes = pd.DataFrame({
        "query_id": np.repeat(queries["query_id"].to_numpy(), 2),
        "model": np.tile([STRONG, WEAK], len(queries)),
        "score": labels.reshape(-1),
    })
    test = Dataset(queries, outcomes, None, None, meta={"name": "mmlu-varied"})
    result = evaluate_routers({router: r}, test, strong=STRONG, weak=WEAK, n_boot=1000, seed=0, quality={router: q})[0]
    keep = {k: result[k] for k in ("apgr", "apgr_ci", "apgr_routellm", "apgr_routellm_ci", "cpt50", "n_boot", "n_test")}
    (work / f"evaluation-{router}-{engine}.json").write_text(json.dumps(keep, default=float))
    return len(q)


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measured(name: str, work: Path, batch_rows: int) -> dict:
    """Run a stage in a subprocess, sampling its process tree's RSS."""
    import psutil

    cmd = [sys.executable, __file__, "--stage", name, "--work", str(work), "--batch-rows", str(batch_rows)]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    peak = [0]

    def sample():
        while child.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"stage {name} failed with exit status {child.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(wall_seconds=time.perf_counter() - t0, peak_rss_gib=peak[0] / 2**30,
                  queries_per_second=result["rows"] / result["seconds"])
    print(f"{name}: {result['rows']} rows in {result['seconds']:.1f} s "
          f"({result['queries_per_second']:,.0f}/s), peak RSS {result['peak_rss_gib']:.2f} GiB", flush=True)
    return result


def compare_engines(work: Path, router: str) -> dict:
    import pyarrow.parquet as pq

    a = pq.ParquetFile(work / f"decisions-{router}-local.parquet")
    b = pq.ParquetFile(work / f"decisions-{router}-ray.parquet")
    rows = mismatched_models = max_q_diff = 0
    for x, y in zip(a.iter_batches(65_536), b.iter_batches(65_536)):
        x, y = x.to_pandas(), y.to_pandas()
        assert list(x.columns) == list(y.columns) and (x["query_id"].to_numpy() == y["query_id"].to_numpy()).all()
        rows += len(x)
        mismatched_models += int((x["model"] != y["model"]).sum())
        qcols = [c for c in x.columns if c.startswith("q:")]
        max_q_diff = max(max_q_diff, float(np.abs(x[qcols].to_numpy() - y[qcols].to_numpy()).max()))
    return {"rows_compared": rows, "different_decisions": mismatched_models, "max_abs_quality_difference": max_q_diff,
            "row_counts_equal": a.metadata.num_rows == b.metadata.num_rows}


# ------------------------------------------------------------------- report
def markdown(report: dict) -> str:
    lines = [
        "# Scale: 1M queries on one machine",
        "",
        f"{report['data']['n_queries']:,} varied real MMLU test questions (mean {report['data']['mean_chars']:.0f} chars), "
        f"router(s) {', '.join(report['data']['routers'])} trained on {report['data']['n_train_questions']:,} MMLU train questions; "
        f"{report['machine']['cpus']} CPUs, load average at start {report['machine']['load_at_start']}. "
        f"Generated by `benchmarks/scale.py` ({report['run_seconds']:.0f} s).",
        "",
        "| stage | router | engine | queries/s | ratio to embed alone | seconds | peak RSS (GiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    embed_qps = report["stages"]["embed"]["queries_per_second"]
    for name, r in report["stages"].items():
        parts = name.split("-")
        engine = {"ray": "ray (local)", "local": "in-process"}.get(parts[-1], "in-process")
        router = parts[1] if len(parts) > 1 else ""
        ratio = f"{r['queries_per_second'] / embed_qps:.2f}" if name.startswith("route") else ""
        lines.append(f"| {parts[0]} | {router} | {engine} | {r['queries_per_second']:,.0f} | {ratio} | "
                     f"{r['seconds']:.1f} | {r['peak_rss_gib']:.2f} |")
    if "skipped" in report:
        lines += ["", f"Skipped: {report['skipped']}"]
    for router, e in report.get("engines", {}).items():
        lines += ["", f"Ray vs in-process decisions ({router}): {e['rows_compared']:,} rows compared, "
                  f"{e['different_decisions']} different decisions, max |ΔQ̂| = {e['max_abs_quality_difference']:.3g}; "
                  f"evaluation metrics (with intervals) identical: {e['metrics_identical']}."]
    for key, ev in report.get("evaluation", {}).items():
        lines += ["", f"Evaluation of {key} on the routed Q̂ ({report['data']['n_queries']:,} queries, "
                  f"{ev['n_boot']} paired resamples): APGR {ev['apgr']:.4f} [{ev['apgr_ci'][0]:.4f}, {ev['apgr_ci'][1]:.4f}], "
                  f"RouteLLM-style APGR {ev['apgr_routellm']:.4f}, CPT(50%) {ev['cpt50']:.4f}."]
    peak = max(r["peak_rss_gib"] for r in report["stages"].values())
    lines += ["", f"Largest peak RSS of any stage (whole process tree): {peak:.2f} GiB."]
    lines += ["", report["cluster_note"], ""]
    return "\n".join(lines)


CLUSTER_NOTE = (
    "**On a multi-node cluster** (`RAY_ADDRESS=...`): the same code runs one actor per CPU across nodes, each "
    "loading the router from its artifact file (which must be on a path every node can read) and building its "
    "own WordLlama word table. The driver streams the Parquet input and keeps at most two batches per actor in "
    "flight, so its memory stays bounded, but every batch passes through the driver and the object store: past "
    "a few nodes the driver's read and the transfer of query text become the limit, and the input should be "
    "split into one Parquet part per node and routed by per-node jobs (`map_frames` over each part) instead. "
    "Embedding runs where the router runs (in the actor), so query text, not vectors, crosses the network; with "
    "an OpenAI-compatible embedder the actors share the rate limit of the embedding endpoint. Outputs are "
    "identical to the in-process path only when workers have the same CPU type and BLAS build."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="queries to route")
    ap.add_argument("--routers", default="sw,logistic", help="routers to time (comma-separated registry names)")
    ap.add_argument("--batch-rows", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(RESULTS / "scale"), help="results path without suffix")
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, Path(args.work), args.batch_rows)))
        return
    started = time.perf_counter()
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "load_at_start": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version()},
        "args": vars(args), "cluster_note": CLUSTER_NOTE, "stages": {},
    }
    with tempfile.TemporaryDirectory(prefix="routecraft-scale-") as tmp:
        work = Path(tmp)
        routers = args.routers.split(",")
        report["data"] = prepare(work, args.n, args.seed, routers)
        print(f"prepared {args.n:,} queries", flush=True)
        ray_ok = loopback_only()
        if not ray_ok:
            report["skipped"] = "Ray stages: not inside a loopback-only network namespace (Ray would bind the host's address)"
        names = ["embed"]
        engines = ["local"] + (["ray"] if ray_ok else [])
        for r in routers:
            names += [f"route-{r}-{e}" for e in engines] + [f"evaluate-{r}-{e}" for e in engines]
        for name in names:
            report["stages"][name] = measured(name, work, args.batch_rows)
        report["evaluation"] = {f"{r}-{e}": json.loads((work / f"evaluation-{r}-{e}.json").read_text())
                                for r in routers for e in engines}
        report["engines"] = {r: {**compare_engines(work, r), "metrics_identical":
                                 report["evaluation"][f"{r}-local"] == report["evaluation"][f"{r}-ray"]}
                             for r in routers if ray_ok}
    report["run_seconds"] = time.perf_counter() - started
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=float))
    out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
