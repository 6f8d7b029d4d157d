"""How long `routecraft report` takes for 10 routers × 5 datasets (issue #14: target < 10 s).

Inputs: 10 routers evaluated on 5 datasets (the three bundled RouteLLM benchmarks, the
conformance dataset and a seeded synthetic 4-model priced pool), so every section has
pair curves, cost–quality curves, calibration tables and, where the data has tasks, a
per-task table. Preparing the inputs is not timed (``--n-boot`` resamples; the number
does not change what the report draws).

Timed, side by side in one run, alternating engines within each repeat:
- ``plotly``: the interactive report (plotly.js inlined) — what `routecraft report` writes;
- ``matplotlib``: the static fallback (PNG figures) — the baseline.
Each repeat renders the whole report and writes it to disk. Results: median seconds per
engine, and the plotly/matplotlib ratio per repeat with a bootstrap interval over repeats.

    nice -n 5 python benchmarks/report_speed.py            # full: 10 routers × 5 datasets, 7 repeats
    python benchmarks/report_speed.py --quick              # 3 repeats
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from routecraft.data import load_dataset, split_dataset
from routecraft.data._dataset import Dataset
from routecraft.evaluate import evaluate_routers, write_report
from routecraft.policy import bootstrap_means, percentile_ci
from routecraft.routers import BestSingleRouter, OracleRouter, RandomRouter, conformance_dataset, make_router

OUT = Path(__file__).with_name("results")
ENGINES = ("plotly", "matplotlib")


def synthetic_pool(n: int = 3000, seed: int = 0) -> Dataset:
    """Four priced models whose skill depends on the query's task."""
    rng = np.random.default_rng(seed)
    models = {"large": (10.0, 30.0), "medium": (2.0, 6.0), "small": (0.5, 1.5), "tiny": (0.1, 0.3)}
    skill = {"math": [0.9, 0.6, 0.4, 0.2], "code": [0.85, 0.75, 0.5, 0.3], "chat": [0.8, 0.78, 0.7, 0.6]}
    tasks = rng.choice(list(skill), size=n)
    ids = [f"s{i:05d}" for i in range(n)]
    rows = [{"query_id": q, "model": m, "score": float(rng.random() < skill[t][j])}
            for q, t in zip(ids, tasks) for j, m in enumerate(models)]
    queries = pd.DataFrame({"query_id": ids, "query": [f"{t} question {i}" for i, t in enumerate(tasks)], "task": tasks})
    pool = pd.DataFrame({"model": list(models), "price_in_per_mtok": [p[0] for p in models.values()],
                         "price_out_per_mtok": [p[1] for p in models.values()]})
    return Dataset(queries, pd.DataFrame(rows), pool=pool, meta={"name": "synthetic-4-model"})


def build_results(n_boot: int) -> tuple[list[dict], list[dict]]:
    datasets = [load_dataset(n) for n in ("bundled:routellm-gsm8k", "bundled:routellm-mmlu", "bundled:routellm-mtbench")]
    datasets += [conformance_dataset(n_per_topic=60), synthetic_pool()]
    results, shapes = [], []
    for data in datasets:
        train, test, _ = split_dataset(data, test_size=0.3, seed=0)
        routers = {f"random-{k}": RandomRouter(random_state=k).fit(train) for k in range(6)}
        routers["best-single"] = BestSingleRouter().fit(train)
        routers["oracle"] = OracleRouter().fit(test)
        routers["knn"] = make_router("knn").fit(train)
        routers["logistic"] = make_router("logistic").fit(train)
        res = evaluate_routers(routers, test, reference=train, n_boot=n_boot, seed=0)
        results += res
        shapes.append({"dataset": data.name, "n_test": len(test), "models": len(res[0]["models"]), "routers": len(res)})
    return results, shapes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--n-boot", type=int, default=200, help="resamples when preparing the inputs (not timed)")
    args = ap.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)

    t0 = time.perf_counter()
    results, shapes = build_results(args.n_boot)
    prep = time.perf_counter() - t0
    seconds: dict[str, list[float]] = {e: [] for e in ENGINES}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ENGINES:  # warm-up: imports (plotly, matplotlib) are not what we measure
            write_report(results[:2], Path(tmp) / f"warm-{engine}.html", engine=engine)
        for r in range(repeats):
            for engine in (ENGINES if r % 2 == 0 else ENGINES[::-1]):
                path = Path(tmp) / f"{engine}.html"
                start = time.perf_counter()
                write_report(results, path, engine=engine)
                seconds[engine].append(time.perf_counter() - start)
                sizes[engine] = path.stat().st_size

    ratio = np.array(seconds["plotly"]) / np.array(seconds["matplotlib"])
    ci = percentile_ci(bootstrap_means(ratio, 1000, 0)) if repeats > 1 else None
    out = {
        "what": "report generation (render + write) for 10 routers x 5 datasets",
        "datasets": shapes,
        "n_results": len(results),
        "repeats": repeats,
        "seconds": seconds,
        "median_seconds": {e: float(np.median(v)) for e, v in seconds.items()},
        "plotly_over_matplotlib": {"median": float(np.median(ratio)), "mean": float(ratio.mean()), "mean_ci95": ci},
        "report_bytes": sizes,
        "target_seconds": 10.0,
        "meets_target": bool(np.median(seconds["plotly"]) < 10.0),
        "input_prep_seconds": round(prep, 1),
        "n_boot_inputs": args.n_boot,
        "machine": {"python": platform.python_version(), "cpus_note": "shared 2-core machine, other jobs running"},
        "command": "nice -n 5 python benchmarks/report_speed.py" + (" --quick" if args.quick else ""),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "report_speed.json").write_text(json.dumps(out, indent=2) + "\n")
    med = out["median_seconds"]
    lines = [
        "# Report generation speed (10 routers × 5 datasets)",
        "",
        f"Generated by `{out['command']}`; {repeats} repeats, engines alternating within each repeat.",
        "",
        "| dataset | test queries | models | routers |",
        "|---|---:|---:|---:|",
        *[f"| {s['dataset']} | {s['n_test']} | {s['models']} | {s['routers']} |" for s in shapes],
        "",
        "| engine | median s | min s | max s | file size |",
        "|---|---:|---:|---:|---:|",
        *[f"| {e} | {med[e]:.2f} | {min(seconds[e]):.2f} | {max(seconds[e]):.2f} | {sizes[e] / 1e6:.1f} MB |" for e in ENGINES],
        "",
        f"plotly / matplotlib time ratio: median {out['plotly_over_matplotlib']['median']:.3f}"
        + (f", mean {ratio.mean():.3f} (95% bootstrap interval over repeats {ci[0]:.3f}–{ci[1]:.3f})" if ci else ""),
        "",
        f"Target: the interactive report in < 10 s — {'met' if out['meets_target'] else 'NOT met'} "
        f"(median {med['plotly']:.2f} s).",
        "",
    ]
    (OUT / "report_speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
