"""Which CATE learner should the causal router default to? Evidence from the training split only.

    python benchmarks/causal_learner_choice.py --seeds 5 --jobs 2

For each setting of ``causal.py`` (same problems, same seeds, same train/test split, same
gold draw), the *training* queries are halved by query: the router is fitted on one half
with ``method="dr"`` and with ``method="r"``, and each τ̂ is scored on the other half by
econml's :class:`~econml.score.RScorer` — the R-loss of Nie & Wager, with its own
cross-fitted nuisances on that half (ridge outcome model, logistic propensity), reported
as its R²-like score against the best constant effect (higher is better; 0 = no better
than a constant bias). Then the halves swap. The test split is never touched, so the
choice of default does not depend on the numbers it is later judged by.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import causal as bench  # noqa: E402  (same problems, splits and embedder cache)

from routecraft.routers._gain_labels import gain_labels  # noqa: E402
from routecraft.routers._integrative import IntegrativeRouter  # noqa: E402

FRACTIONS = (0.01, 0.02, 0.05, 0.10)
SETTINGS = ("mmlu_pro_synthetic", "mmlu_pro_synthetic_zero_bias", "mmlu_pro_real_judge", "llmrouter_synthetic")
LEARNERS = ("dr", "r")


class _FixedEffect:
    """τ̂ already evaluated at the scored rows, in RScorer's row order (it passes back the X it was fitted on)."""

    def __init__(self, tau: np.ndarray) -> None:
        self.tau = np.asarray(tau, dtype=float)

    def const_marginal_effect(self, x: np.ndarray) -> np.ndarray:
        if len(x) != len(self.tau):
            raise ValueError("RScorer scored other rows than the ones τ̂ was evaluated at")
        return self.tau.reshape(-1, 1, 1)


def r_scores(data_fit, data_score, embedder, folds: int, seed: int) -> dict[str, float]:
    """R-score on ``data_score`` of each learner's τ̂ fitted on ``data_fit``."""
    from econml.score import RScorer
    from sklearn.linear_model import LogisticRegression, Ridge

    lab = gain_labels(data_score, "strong", "weak")
    rows = np.concatenate([lab.gold_rows, lab.cheap_rows])
    y = np.concatenate([lab.gold_y, lab.cheap_y])
    t = np.concatenate([np.ones(lab.gold_rows.size, dtype=int), np.zeros(lab.cheap_rows.size, dtype=int)])
    out: dict[str, float] = {}
    scorer = None
    for learner in LEARNERS:
        router = IntegrativeRouter(embedder=embedder, method=learner, reference="weak", n_folds=folds, seed=seed).fit(data_fit)
        if scorer is None:  # one scorer (one set of nuisances) for both learners, so their scores are paired
            gx, _ = router._features_of(data_score)
            scorer = RScorer(model_y=Ridge(alpha=1.0), model_t=LogisticRegression(max_iter=1000),
                             discrete_treatment=True, cv=folds, random_state=seed).fit(y, t, X=gx[rows])
        tau = router.predict_bias(data_score)[:, router.model_index("strong")][rows]
        out[learner] = float(scorer.score(_FixedEffect(tau)))
        out[learner + "_block"] = router.fit_summary_["strong"].get("bias_block", "")
    return out


def run_seed(p: bench.Problem, seed: int, n_max: int, embedder: str, folds: int) -> list[dict]:
    warnings.filterwarnings("ignore")
    emb = bench._embedder(embedder, p)
    rng = np.random.default_rng(1000 + seed)  # the draws of causal.run_seed, in the same order
    n = len(p.queries)
    sample = rng.permutation(n)[: min(n, n_max)]
    n_test = int(round(0.3 * sample.size))
    train = sample[n_test:]
    cheap_y = p.judge_y if p.judge_y is not None else np.where(rng.random(n) < p.judge_p, 1.0, -1.0)
    order = rng.permutation(train.size)
    halves = np.random.default_rng(5000 + seed).permutation(train.size) % 2  # by query: rows are queries
    rows = []
    for frac in FRACTIONS:
        gold = np.zeros(train.size, dtype=bool)
        gold[order[: max(2, int(round(frac * train.size)))]] = True
        parts = [bench._dataset(p, train[halves == h], gold[halves == h], cheap_y[train][halves == h], ~gold[halves == h])
                 for h in (0, 1)]
        for h in (0, 1):
            got = r_scores(parts[h], parts[1 - h], emb, folds, seed)
            rows.append({"setting": p.name, "seed": seed, "fraction": frac, "half": h, **got})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n-max", type=int, default=12020)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--embedder", default="wordllama")
    ap.add_argument("--out", default=str(bench.RESULTS))
    args = ap.parse_args(argv)
    start = time.perf_counter()
    problems = [p for p in bench.mmlu_problems() + bench.llmrouter_problems() if p.name in SETTINGS]
    rows: list[dict] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_seed, p, s, args.n_max, args.embedder, args.folds) for p in problems for s in range(args.seeds)]
        for i, f in enumerate(futures, 1):
            rows += f.result()
            print(f"[{time.perf_counter() - start:6.0f}s] {i}/{len(futures)}", flush=True)
    summary: dict = {}
    lines = ["# Causal router: DR- vs R-learner on the training split (R-score on the held-out half)", "",
             f"Generated by `python benchmarks/causal_learner_choice.py {' '.join(argv if argv is not None else sys.argv[1:])}` "
             f"in {time.perf_counter() - start:.0f} s. Per seed, the training queries of `causal.py`'s split are halved; "
             "τ̂ fitted on one half is scored on the other by econml's RScorer (R-loss, own cross-fitted nuisances; "
             "higher is better, 0 = the best constant bias), both ways. Test queries are never used. "
             "Intervals: 95% bootstrap over seeds (halves averaged within a seed), paired for r − dr.", "",
             "| setting | gold % | dr | r | r − dr | r ahead (seed-halves) |", "|---|---|---|---|---|---|"]
    for setting in SETTINGS:
        for frac in FRACTIONS:
            sub = [r for r in rows if r["setting"] == setting and r["fraction"] == frac]
            if not sub:
                continue
            seeds = sorted({r["seed"] for r in sub})
            per = {m: np.array([np.mean([r[m] for r in sub if r["seed"] == s]) for s in seeds]) for m in LEARNERS}
            cell = {m: bench.boot_mean(per[m]) for m in LEARNERS}
            cell["r_minus_dr"] = bench.boot_mean(per["r"] - per["dr"])
            ahead = sum(r["r"] > r["dr"] for r in sub)
            summary.setdefault(setting, {})[str(frac)] = {**cell, "r_ahead": [ahead, len(sub)]}
            lines.append(f"| {setting} | {100 * frac:g} | {bench.fmt(cell['dr'])} | {bench.fmt(cell['r'])} | "
                         f"{bench.fmt(cell['r_minus_dr'])} | {ahead}/{len(sub)} |")
    out = Path(args.out)
    (out / "causal_learner_choice.json").write_text(json.dumps({"summary": summary, "runs": rows}, indent=1) + "\n")
    (out / "causal_learner_choice.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
