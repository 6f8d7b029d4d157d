"""Budget calibration on held-out queries, and the output-length model's error, on real data.

For each dataset the queries are split three ways by query id (seeded): train (fit the
router and the output-length model), calibrate (unlabelled: lam is chosen there for a
target $/query, with its 95% bootstrap interval of the realised spend), and held-out
(the calibrated lam routes these; the spend and quality they really cost are measured).
A target is "hit" when the held-out spend lies inside the calibration interval.

- LLMRouter (9 models, no token counts: cost = NIM prices x chars/4 in + 256 out, both at
  calibration and held-out, so only the query sample differs);
- RouterArena (2 models, measured tokens and USD cost: calibration uses the expected cost
  from the output-length model, held-out pays the measured cost_usd).

Targets: 25%, 50% and 75% of the way from the all-cheapest to the lam = 0 spend on the
calibration queries. Also: output-length MAPE on RouterArena's held-out queries for the
model (with and without the task offsets) against the per-model mean.

    nice -n 5 python benchmarks/budget.py            # full: 1,000 resamples, kNN (WordLlama)
    nice -n 5 python benchmarks/budget.py --quick    # 200 resamples
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from routecraft.data import load_dataset  # noqa: E402
from routecraft.data._pool import apply_pool  # noqa: E402
from routecraft.data._split import hash_fraction, split_dataset  # noqa: E402
from routecraft.policy import OutputLengthModel, bootstrap_means, calibrate_lam, expected_cost, percentile_ci  # noqa: E402
from routecraft.policy._cost import cost_decide  # noqa: E402
from routecraft.policy._length import mape, observed_lengths, query_tasks  # noqa: E402
from routecraft.routers import make_router  # noqa: E402

DATASETS = {"llmrouter": "/work/shared/data/llmrouter", "routerarena": "/work/shared/data/routerarena"}
FRACTIONS = (0.25, 0.5, 0.75)
OUT = ROOT / "benchmarks" / "results"


def three_way(data, seed: int):
    u = np.array([hash_fraction(q, seed) for q in data.query_ids])
    ids = np.asarray(data.query_ids)
    return data.subset(ids[u < 0.5]), data.subset(ids[(u >= 0.5) & (u < 0.75)]), data.subset(ids[u >= 0.75])


def run_dataset(name: str, path: str, router_spec: str, n_boot: int, seed: int) -> dict:
    data, prices = apply_pool(load_dataset(path))
    train, cal, held = three_way(data, seed)
    router = make_router(router_spec).fit(train)
    lengths = OutputLengthModel().fit(train)
    models = list(router.models_)

    def exp_cost(d):
        return expected_cost(d.texts, models, d.pool, lengths, query_tasks(d))

    q_cal, c_cal = router.predict_quality(cal), exp_cost(cal)
    q_held = router.predict_quality(held)
    c_held_exp = exp_cost(held)
    c_held_true = held.cost_matrix(models)  # measured cost_usd where the data has it
    s_held = held.score_matrix(models)
    rows = np.arange(len(held))
    lo = float(np.mean(c_cal[np.arange(len(cal)), cost_decide(q_cal, c_cal, np.inf)]))
    hi = float(np.mean(c_cal[np.arange(len(cal)), cost_decide(q_cal, c_cal, 0.0)]))
    targets = []
    for f in FRACTIONS:
        target = lo + f * (hi - lo)
        calib = calibrate_lam(q_cal, c_cal, target, n_boot=n_boot, seed=seed)
        choice = cost_decide(q_held, c_held_exp, calib.lam)
        paid = c_held_true[rows, choice]
        quality = s_held[rows, choice]
        known = np.isfinite(paid) & np.isfinite(quality)
        spend = float(paid[known].mean())
        ci = calib.usd_per_query_ci
        targets.append({
            "fraction": f,
            "target_usd_per_query": target,
            "lam": calib.lam,
            "calibration_usd_per_query": calib.usd_per_query,
            "calibration_ci": list(ci),
            "held_out_usd_per_query": spend,
            "held_out_usd_per_query_ci": percentile_ci(bootstrap_means(paid[known], n_boot, seed)),
            "held_out_quality": float(quality[known].mean()),
            "held_out_quality_ci": percentile_ci(bootstrap_means(quality[known], n_boot, seed)),
            "held_out_expected_usd_per_query": float(c_held_exp[rows, choice].mean()),
            "hit": bool(ci[0] <= spend <= ci[1]),
            "n_held_out": int(known.sum()),
        })
    out = {
        "dataset": name, "router": router_spec, "models": models, "n_train": len(train), "n_calibrate": len(cal),
        "n_held_out": len(held), "cost_measured": bool(data.outcomes is not None and "cost_usd" in data.outcomes.columns),
        "length_model": lengths.kind_, "price_sources": prices.sources, "targets": targets,
    }
    if lengths.kind_ == "tokens_out":
        out["output_length_mape"] = length_errors(data, models, seed)
    return out


def length_errors(data, models: list[str], seed: int) -> dict:
    """Output-length error on the standard 70/30 split: the model (with / without task offsets) vs per-model means."""
    train, test, _ = split_dataset(data, test_size=0.3, seed=seed)
    y, _ = observed_lengths(test, models)
    fitted = OutputLengthModel().fit(train)
    preds = {
        "model_with_task": fitted.predict(test.texts, models, query_tasks(test)),
        "model_without_task": fitted.predict(test.texts, models),
        "per_model_mean": OutputLengthModel(min_rows=10**9).fit(train).predict(test.texts, models),
    }
    known = np.isfinite(y) & (y > 0)
    out = {k: mape(p, y) for k, p in preds.items()}
    out.update({f"median_ape_{k}": float(np.median(np.abs(p[known] - y[known]) / y[known])) for k, p in preds.items()})
    out["total_tokens_ratio_with_task"] = float(np.sum(preds["model_with_task"][known]) / np.sum(y[known]))
    out["n_cells"] = int(known.sum())
    out["n_train"] = len(train)
    return out


def markdown(results: list[dict], meta: dict) -> str:
    lines = ["# Budget calibration on held-out queries", "",
             f"Generated by `benchmarks/budget.py` ({meta['mode']}; router {meta['router']}; {meta['n_boot']} resamples; "
             f"seed {meta['seed']}; {meta['seconds']:.0f} s on {meta['machine']}).", "",
             "| dataset | target $/query | lam | calibration spend [95% CI] | held-out spend [95% CI] | hit | held-out quality [95% CI] |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for t in r["targets"]:
            ci, hci, qci = t["calibration_ci"], t["held_out_usd_per_query_ci"], t["held_out_quality_ci"]
            lines.append(
                f"| {r['dataset']} | {t['target_usd_per_query']:.3g} | {t['lam']:.4g} | "
                f"{t['calibration_usd_per_query']:.3g} [{ci[0]:.3g}, {ci[1]:.3g}] | "
                f"{t['held_out_usd_per_query']:.3g} [{hci[0]:.3g}, {hci[1]:.3g}] | {'yes' if t['hit'] else 'no'} | "
                f"{t['held_out_quality']:.3f} [{qci[0]:.3f}, {qci[1]:.3f}] |")
    lines.append("")
    for r in results:
        lines.append(f"- {r['dataset']}: {r['n_train']} train / {r['n_calibrate']} calibrate (unlabelled) / "
                     f"{r['n_held_out']} held-out queries; {len(r['models'])} models; cost "
                     f"{'measured (held-out pays cost_usd)' if r['cost_measured'] else 'prices x estimated tokens'}; "
                     f"output lengths from {r['length_model']}.")
        m = r.get("output_length_mape")
        if m:
            lines.append(f"- {r['dataset']} output-length error on {m['n_cells']} test cells (70/30 split, {m['n_train']} "
                         f"train queries): MAPE model with task offsets {m['model_with_task']:.3f}, without "
                         f"{m['model_without_task']:.3f}, per-model mean {m['per_model_mean']:.3f}; median APE "
                         f"{m['median_ape_model_with_task']:.3f} / {m['median_ape_model_without_task']:.3f} / "
                         f"{m['median_ape_per_model_mean']:.3f}; predicted / real total tokens "
                         f"{m['total_tokens_ratio_with_task']:.3f}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 bootstrap resamples instead of 1,000")
    ap.add_argument("--router", default="knn")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n_boot = 200 if args.quick else 1000
    start = time.perf_counter()
    results = [run_dataset(n, p, args.router, n_boot, args.seed) for n, p in DATASETS.items()]
    meta = {"mode": "quick" if args.quick else "full", "router": args.router, "n_boot": n_boot, "seed": args.seed,
            "seconds": time.perf_counter() - start, "machine": f"{platform.machine()}, {platform.python_version()}"}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "budget.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    (OUT / "budget.md").write_text(markdown(results, meta))
    print(markdown(results, meta))


if __name__ == "__main__":
    main()
