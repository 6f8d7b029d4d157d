"""Causal integrative router (Meta-Router) vs its baselines, on real and semi-synthetic judges.

    python benchmarks/causal.py            # full grid: 5 gold fractions x 20 seeds, every setting
    python benchmarks/causal.py --quick    # 2 fractions x 3 seeds, smaller samples (smoke run)
    python benchmarks/causal.py --settings A,B --by-seed --log part2.jsonl   # a part; merge with
    python benchmarks/causal.py --from-runs results/causal_runs.jsonl,results/part2.jsonl

Each seed samples ``--n-max`` queries (default: all 12,020 of MMLU-Pro; LLMRouter has
5,541): a per-category judge leniency can only be learnt from each category's gold rows,
and at 2,000 queries a 5 % gold share leaves ~5 of them per category.

Settings (gold = real correctness from the answer key; the router never sees test gold):

- ``mmlu_pro_real_judge`` / ``mmlu_pro_real_judge_majority`` (a): MMLU-Pro, strong
  gemini-1.5-pro-002 vs cheap Mistral-7B-Instruct-v0.2 (the Llama-3.1 70B/8B pair was
  tried first: its gain barely varies by query, so even the all-gold oracle router's
  efficiency gain was indistinguishable from random). The cheap label is a
  reference-free judge built from real answers: an answer is "right" when it agrees with
  a small model's own answer (Meta-Llama-3-8B; or the majority of Meta-Llama-3-8B,
  mathstral-7B and gemma-7b, falling back to Meta-Llama-3-8B when all three differ).
  Judge gain = judged(strong) − judged(cheap). Its bias is real and query-dependent.
- ``mmlu_pro_synthetic`` / ``llmrouter_synthetic`` (b): judge prefers the strong answer
  with P = (1 + γ·g + β·tanh(log(len_s/len_w)) + lean[category]) / 2 (clipped), g the real
  gold gain. On MMLU-Pro the lengths are the real output lengths; LLMRouter has no
  outputs, so its verbosity term uses the query length instead (a judge that favours the
  strong model on long prompts) — said in the results. Category leniency is drawn once.
- ``*_zero_bias``: the judge is unbiased, P = (1 + g) / 2, so η = m exactly (control).
- ``mmlu_pro_synthetic_paired``: as ``mmlu_pro_synthetic`` but every training query is
  judged and the gold ones are a subset — the setting PPI++ needs; compares ppi, dr, r.

Per seed: a random sample of queries, 30 % test (gold on all of them), and of the
training queries a fraction f gets gold labels, the rest (disjoint) judge labels.
Methods (one harness: same features, same ridge gain regressor): dr, r (integrative),
gold-only, preference-only, pooled, all-gold oracle (gold on every training query);
random is the zero of the efficiency gain.

Metrics on the test set, for the routing score m̂(q) of the strong model:
- efficiency gain (Meta-Router): at strong-usage ρ, send the top ρ·n queries by m̂ to the
  strong model; EG(ρ) = mean gold gain captured minus ρ · mean gold gain (random);
  reported as its area over ρ ∈ [0.2, 0.8] (61 points, trapezoid), per query;
- APGR (DESIGN §6, exact curve) of the same score;
- τ̂ error: RMSE over categories (weighted by size) of the mean τ̂ on test queries against
  the known bias (mean gold gain − mean expected judge gain of the category).
Intervals: 95 % percentile bootstrap over seeds (2,000 resamples) of the mean, and of the
mean *paired* difference (same seed, same split) for comparisons.
"""

from __future__ import annotations

import os

# worker processes share two cores: one BLAS thread each (threads fighting for a busy
# core made every small eigh/ridge several times slower); set before numpy loads
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from routecraft.data import Dataset, load_dataset  # noqa: E402
from routecraft.embed._base import Embedder, make_embedder  # noqa: E402
from routecraft.evaluate._pgr import apgr  # noqa: E402
from routecraft.routers._integrative import IntegrativeRouter  # noqa: E402

SHARED = Path(os.environ.get("ROUTECRAFT_SHARED_DATA", "/work/shared/data"))
RESULTS = ROOT / "benchmarks" / "results"
FRACTIONS = (0.01, 0.02, 0.05, 0.10, 0.20)
METHODS = ("dr", "r", "gold", "preference", "pooled")
BASELINES = ("gold", "preference", "pooled")
PRIMARY = ("mmlu_pro_synthetic", "mmlu_pro_synthetic_zero_bias")
SECONDARY = ("mmlu_pro_real_judge_majority", "mmlu_pro_synthetic_paired")
RHO = np.linspace(0.2, 0.8, 61)
# the pair whose gold gain varies most by category among a strong API model and cheap 7–8B
# models (an all-gold router can learn where the strong one pays off); see the module doc
MMLU_PAIR = ("gemini-1.5-pro-002", "Mistral-7B-Instruct-v0.2")
MMLU_JUDGES = ("Meta-Llama-3-8B", "mathstral-7B", "gemma-7b")
LLMROUTER_PAIR = ("llama-3.1-nemotron-51b-instruct", "qwen2.5-7b-instruct")
GAMMA, BETA, LEAN_SD = 0.7, 0.35, 0.35  # judge discernment, verbosity strength, leniency spread


class Precomputed(Embedder):
    """The named embedder's vectors, computed once per dataset and looked up by text (every fit re-embeds)."""

    def __init__(self, spec: str, texts: list[str]) -> None:
        inner = make_embedder(spec)
        self.name, self.dim = inner.name, inner.dim
        self._row = {t: i for i, t in enumerate(texts)}
        self._vecs = inner.encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._vecs[[self._row[t] for t in texts]]


@dataclass
class Problem:
    """One routing problem: queries, the pair's gold scores, and a judge (fixed labels or a sampler)."""

    name: str
    queries: pd.DataFrame  # query_id, query, task
    s: np.ndarray  # gold score of the strong model
    w: np.ndarray  # gold score of the cheap model
    judge_p: np.ndarray | None  # synthetic: P(judge prefers strong); None for a real judge
    judge_y: np.ndarray | None  # real judge: judge gain in {-1, 0, 1}
    paired: bool = False
    note: str = ""

    @property
    def g(self) -> np.ndarray:
        return self.s - self.w

    @property
    def eta(self) -> np.ndarray:
        """Expected judge gain per query (known exactly for synthetic judges; the label itself for real ones)."""
        return 2 * self.judge_p - 1 if self.judge_p is not None else self.judge_y.astype(float)

    def true_bias_by_task(self) -> dict[str, float]:
        frame = pd.DataFrame({"task": self.queries["task"].to_numpy(), "tau": self.g - self.eta})
        return frame.groupby("task")["tau"].mean().to_dict()


# ----------------------------------------------------------------- problems
def _pair_frame(data: Dataset, strong: str, weak: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    out = data.outcomes[data.outcomes["model"].isin((strong, weak, *extra))]
    cols = ["score"] + [c for c in ("answer", "tokens_out") if c in out.columns]
    wide = out.pivot_table(index="query_id", columns="model", values=cols, aggfunc="first")
    keep = wide["score"][[strong, weak]].notna().all(axis=1)
    wide = wide[keep]
    q = data.queries.set_index("query_id").loc[wide.index].reset_index()
    return q[["query_id", "query", "task"]], wide


def _leniency(tasks: np.ndarray, seed: int) -> np.ndarray:
    names = sorted(set(tasks))
    lean = dict(zip(names, np.random.default_rng(seed).normal(0.0, LEAN_SD, len(names))))
    return np.array([lean[t] for t in tasks])


def _synthetic_p(g: np.ndarray, verbosity: np.ndarray, lean: np.ndarray, biased: bool) -> np.ndarray:
    if not biased:
        return (1.0 + g) / 2.0
    return np.clip((1.0 + GAMMA * g + BETA * np.tanh(verbosity) + lean) / 2.0, 0.02, 0.98)


def mmlu_problems(include_real: bool = True) -> list[Problem]:
    data = load_dataset(str(SHARED / "mmlu_pro"))
    strong, weak = MMLU_PAIR
    q, wide = _pair_frame(data, strong, weak, MMLU_JUDGES)
    s, w = (wide["score"][m].to_numpy(float) for m in (strong, weak))
    tasks = q["task"].to_numpy()
    problems = []
    if include_real:
        ans = {m: wide["answer"][m].astype(object).where(wide["answer"][m].notna(), None).to_numpy() for m in MMLU_PAIR + MMLU_JUDGES}

        def judged(model: str, key: np.ndarray) -> np.ndarray:
            return np.array([a is not None and k is not None and a == k for a, k in zip(ans[model], key)], dtype=float)

        single = ans[MMLU_JUDGES[0]]
        votes = np.stack([ans[j] for j in MMLU_JUDGES], axis=1)
        majority = []
        for row, fallback in zip(votes, single):
            vals = [v for v in row if v is not None]
            top = max(set(vals), key=vals.count) if vals else None
            majority.append(top if top is not None and vals.count(top) >= 2 else fallback)
        majority = np.array(majority, dtype=object)
        for name, key, who in (("mmlu_pro_real_judge", single, MMLU_JUDGES[0]),
                               ("mmlu_pro_real_judge_majority", majority, "majority of " + ", ".join(MMLU_JUDGES))):
            y = judged(strong, key) - judged(weak, key)
            problems.append(Problem(name, q, s, w, None, y, note=f"{strong} vs {weak}; judge: agreement with {who}"))
    lens = wide["tokens_out"]
    verbosity = np.log(np.maximum(lens[strong].to_numpy(float), 1) / np.maximum(lens[weak].to_numpy(float), 1))
    lean = _leniency(tasks, 7)
    note = f"{strong} vs {weak}; verbosity from real output lengths + category leniency"
    problems.append(Problem("mmlu_pro_synthetic", q, s, w, _synthetic_p(s - w, verbosity, lean, True), None, note=note))
    problems.append(Problem("mmlu_pro_synthetic_zero_bias", q, s, w, _synthetic_p(s - w, verbosity, lean, False), None,
                            note=f"{strong} vs {weak}; unbiased judge"))
    problems.append(Problem("mmlu_pro_synthetic_paired", q, s, w, _synthetic_p(s - w, verbosity, lean, True), None,
                            paired=True, note=note + "; judge labels on every training query (gold ⊂ judged)"))
    return problems


def llmrouter_problems() -> list[Problem]:
    data = load_dataset(str(SHARED / "llmrouter"))
    strong, weak = LLMROUTER_PAIR
    q, wide = _pair_frame(data, strong, weak)
    q = q.drop_duplicates("query_id")
    wide = wide.loc[q["query_id"]]
    s, w = (wide["score"][m].to_numpy(float) for m in (strong, weak))
    qlen = np.log(q["query"].str.len().to_numpy(float))
    verbosity = (qlen - qlen.mean()) / qlen.std()
    lean = _leniency(q["task"].to_numpy(), 11)
    note = f"{strong} vs {weak}; no outputs in LLMRouter: verbosity term uses query length; task leniency"
    return [
        Problem("llmrouter_synthetic", q, s, w, _synthetic_p(s - w, verbosity, lean, True), None, note=note),
        Problem("llmrouter_synthetic_zero_bias", q, s, w, _synthetic_p(s - w, verbosity, lean, False), None,
                note=f"{strong} vs {weak}; unbiased judge"),
    ]


# ------------------------------------------------------------------ one run
def efficiency_auc(score: np.ndarray, g: np.ndarray) -> float:
    order = np.argsort(-score, kind="stable")
    captured = np.concatenate([[0.0], np.cumsum(g[order])])
    n = len(g)
    eg = captured[np.round(RHO * n).astype(int)] / n - RHO * g.mean()
    return float(np.trapezoid(eg, RHO))


def _dataset(p: Problem, rows: np.ndarray, gold: np.ndarray, cheap_y: np.ndarray | None, cheap: np.ndarray) -> Dataset:
    strong, weak = "strong", "weak"
    q = p.queries.iloc[rows].reset_index(drop=True)
    ids = q["query_id"].to_numpy()
    gi = np.flatnonzero(gold)
    outcomes = pd.DataFrame({
        "query_id": np.concatenate([ids[gi], ids[gi]]),
        "model": [strong] * gi.size + [weak] * gi.size,
        "score": np.concatenate([p.s[rows][gi], p.w[rows][gi]]),
        "source": "gold",
    })
    prefs = None
    ci = np.flatnonzero(cheap)
    if ci.size:
        y = cheap_y[ci]
        prefs = pd.DataFrame({"query_id": ids[ci], "model_a": strong, "model_b": weak,
                              "winner": np.where(y > 0, "a", np.where(y < 0, "b", "tie")), "source": "judge"})
    pool = pd.DataFrame({"model": [strong, weak], "price_in_per_mtok": [10.0, 1.0], "price_out_per_mtok": [30.0, 3.0]})
    return Dataset(q, outcomes, prefs, pool, meta={"name": p.name})


_EMBEDDERS: dict[tuple[str, int], Precomputed] = {}


def _embedder(spec: str, p: Problem) -> Precomputed:
    """One Precomputed embedder per (spec, query table) in each worker process."""
    texts = p.queries["query"].tolist()
    key = (spec, hash(tuple(texts)))
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = Precomputed(spec, texts)
    return _EMBEDDERS[key]


def run_seed(p: Problem, seed: int, fractions: tuple[float, ...], n_max: int, embedder: str, folds: int) -> list[dict]:
    warnings.filterwarnings("ignore")
    emb = _embedder(embedder, p)
    rng = np.random.default_rng(1000 + seed)
    n = len(p.queries)
    sample = rng.permutation(n)[: min(n, n_max)]
    n_test = int(round(0.3 * sample.size))
    test, train = sample[:n_test], sample[n_test:]
    # the judge's label: a real judge's fixed verdict, or a draw from the synthetic judge
    cheap_y = p.judge_y if p.judge_y is not None else np.where(rng.random(n) < p.judge_p, 1.0, -1.0)
    test_frame = p.queries.iloc[test]
    g_test, s_test, w_test = p.g[test], p.s[test], p.w[test]
    tasks_test = test_frame["task"].to_numpy()
    truth = p.true_bias_by_task()
    order = rng.permutation(train.size)  # gold goes to the first f·n_train of this order
    out = []

    def score(router: IntegrativeRouter, method: str, frac: float, fit_s: float) -> dict:
        gain = router.predict_gain(test_frame)[:, router.model_index("strong")]
        row = {"setting": p.name, "seed": seed, "fraction": frac, "method": method, "n": int(sample.size), "fit_s": round(fit_s, 2),
               "eg_auc": efficiency_auc(gain, g_test), "apgr": float(apgr((1 + gain) / 2, s_test, w_test))}
        if method in ("dr", "r"):
            tau = router.predict_bias(test_frame)[:, router.model_index("strong")]
            frame = pd.DataFrame({"task": tasks_test, "tau": tau}).groupby("task")["tau"].agg(["mean", "size"])
            err = frame["mean"] - pd.Series(truth).reindex(frame.index)
            row["tau_rmse"] = float(np.sqrt(np.average(np.square(err), weights=frame["size"])))
            row["tau_by_task"] = {k: round(float(v), 4) for k, v in frame["mean"].items()}
        return row

    def fit(method: str, data: Dataset) -> tuple[IntegrativeRouter, float]:
        start = time.perf_counter()
        r = IntegrativeRouter(embedder=emb, method=method, reference="weak", n_folds=folds, seed=seed).fit(data)
        return r, time.perf_counter() - start

    all_gold = np.ones(train.size, dtype=bool)
    oracle, t_fit = fit("gold", _dataset(p, train, all_gold, None, ~all_gold))
    base_oracle = score(oracle, "oracle", float("nan"), t_fit)
    methods = METHODS + (("ppi",) if p.paired else ())
    for frac in fractions:
        gold = np.zeros(train.size, dtype=bool)
        gold[order[: max(2, int(round(frac * train.size)))]] = True
        cheap = np.ones(train.size, dtype=bool) if p.paired else ~gold
        data = _dataset(p, train, gold, cheap_y[train], cheap)
        out.append({**base_oracle, "fraction": frac})
        for method in methods:
            if method == "preference" and p.paired:
                continue
            router, t_fit = fit(method, data)
            out.append(score(router, method, frac, t_fit))
    return out


# ---------------------------------------------------------------- summaries
def boot_mean(x: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, list[float]]:
    x = np.asarray(x, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))
    means = x[idx].mean(axis=1)
    return float(x.mean()), [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def boot_gap(causal: np.ndarray, base: np.ndarray, oracle: np.ndarray, n_boot: int = 2000) -> tuple[float, list[float]]:
    """Share of the best-baseline → oracle gap closed, a ratio of means, with a paired seed bootstrap."""
    idx = np.random.default_rng(1).integers(0, len(causal), (n_boot, len(causal)))
    num = causal[idx].mean(1) - base[idx].mean(1)
    den = oracle[idx].mean(1) - base[idx].mean(1)
    ratio = num / np.where(np.abs(den) < 1e-12, np.nan, den)
    point = (causal.mean() - base.mean()) / (oracle.mean() - base.mean())
    return float(point), [float(np.nanpercentile(ratio, 2.5)), float(np.nanpercentile(ratio, 97.5))]


def summarise(rows: list[dict]) -> dict:
    frame = pd.DataFrame(rows)
    summary: dict = {}
    for setting, sf in frame.groupby("setting", sort=False):
        entry: dict = {"fractions": {}}
        for frac, ff in sf.groupby("fraction"):
            wide = ff.pivot_table(index="seed", columns="method", values="eg_auc")
            apgr_w = ff.pivot_table(index="seed", columns="method", values="apgr")
            block: dict = {"eg_auc": {}, "apgr": {}, "diff_vs": {}, "tau_rmse": {}}
            for m in wide.columns:
                block["eg_auc"][m] = boot_mean(wide[m].to_numpy())
                block["apgr"][m] = boot_mean(apgr_w[m].to_numpy())
            present = [b for b in BASELINES if b in wide.columns]
            best = max(present, key=lambda b: wide[b].mean())
            block["best_baseline"] = best
            for m in [c for c in ("dr", "r", "ppi") if c in wide.columns]:
                block["diff_vs"][m] = {b: boot_mean((wide[m] - wide[b]).to_numpy()) for b in present}
                block["diff_vs"][m]["gap_closed"] = boot_gap(wide[m].to_numpy(), wide[best].to_numpy(), wide["oracle"].to_numpy())
                tr = ff[ff["method"] == m]["tau_rmse"].dropna().to_numpy()
                if tr.size:
                    block["tau_rmse"][m] = boot_mean(tr)
            entry["fractions"][str(frac)] = block
        summary[setting] = entry
    return summary


def fmt(pair: tuple[float, list[float]], digits: int = 4) -> str:
    v, (lo, hi) = pair
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def markdown(summary: dict, meta: dict, extra: dict | None = None) -> str:
    lines = [
        "# Causal integrative router (Meta-Router) — benchmark results",
        "",
        f"Generated by `{meta['command']}` in {meta['wall_s']:.0f} s (seeds per setting: "
        f"{', '.join(f'{k} {v}' for k, v in meta['seeds_per_setting'].items())}; fractions "
        f"{', '.join(f'{100 * f:g}%' for f in meta['fractions'])}, queries per seed: "
        f"{', '.join(f'{k} {v}' for k, v in meta['queries_per_setting'].items()) or meta['n_max']}, "
        f"embedder {meta['embedder']}, {meta['folds']} cross-fitting folds"
        + (f"; re-summarised from the logged runs {meta['from_runs']}" if meta.get("from_runs") else "")
        + "). Intervals: 95% bootstrap over seeds; differences are paired by seed.",
        "",
        "Efficiency-gain AUC: area of (gold gain captured − random's) over strong-usage 20–80%, per query; "
        "higher is better, random = 0. Gap closed = (dr − best baseline) / (all-gold oracle − best baseline).",
        "",
    ]
    for setting, entry in summary.items():
        lines += [f"## {setting}", "", meta["notes"].get(setting, ""), ""]
        methods = [m for m in ("dr", "r", "ppi", "gold", "preference", "pooled", "oracle")
                   if any(m in b["eg_auc"] for b in entry["fractions"].values())]
        lines += ["| gold % | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
        for frac, b in entry["fractions"].items():
            lines.append(f"| {100 * float(frac):g} | " + " | ".join(fmt(b["eg_auc"][m]) if m in b["eg_auc"] else "–" for m in methods) + " |")
        lines += ["", "Paired differences of efficiency-gain AUC (dr − baseline; r − baseline) and gap closed:", "",
                  "| gold % | learner | − gold | − preference | − pooled | best baseline | gap closed | τ̂ RMSE |",
                  "|---|---|---|---|---|---|---|---|"]
        for frac, b in entry["fractions"].items():
            for m, d in b["diff_vs"].items():
                cells = [fmt(d[x]) if x in d else "–" for x in BASELINES]
                tau = fmt(b["tau_rmse"][m], 3) if m in b["tau_rmse"] else "–"
                lines.append(f"| {100 * float(frac):g} | {m} | " + " | ".join(cells) +
                             f" | {b['best_baseline']} | {fmt(d['gap_closed'], 2)} | {tau} |")
        lines += ["", "APGR (exact curve):", "", "| gold % | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
        for frac, b in entry["fractions"].items():
            lines.append(f"| {100 * float(frac):g} | " + " | ".join(fmt(b["apgr"][m], 3) if m in b["apgr"] else "–" for m in methods) + " |")
        lines.append("")
    lines += ["## Bias by MMLU-Pro category (real judge)", ""]
    if "mmlu_pro_real_judge" in summary:
        lines += ["τ̂ (DR) by category over seeds vs the true bias:", "", "![tau by category](causal_tau_by_category.png)", ""]
    lines += ["`inspect-bias` on one draw of the real-judge data (10% gold of 6,000 queries), true bias as red crosses:", "",
              "![inspect-bias](causal_inspect_bias.png)", ""]
    report = (extra or {}).get("inspect_bias_10pct")
    if report:
        truth = report.get("true_bias_by_task", {})
        lines += [f"Propensity AUC {report['overlap']['auc']:.3f}; ESS gold {report['sources']['gold']['ess']:.0f} of "
                  f"{report['sources']['gold']['n']}, cheap {report['sources']['cheap']['ess']:.0f} of {report['sources']['cheap']['n']}.", "",
                  "| category | gold | judge | τ̂ (DR) [95% CI] | true bias |", "|---|---|---|---|---|"]
        for r in report["by_task"]:
            t = truth.get(r["group"])
            lines.append(f"| {r['group']} | {r['n_gold']} | {r['n_cheap']} | {r['tau']:+.3f} [{r['ci'][0]:+.3f}, {r['ci'][1]:+.3f}] | "
                         + (f"{t:+.3f}" if t is not None else "–") + " |")
        lines.append("")
    lines += ["![efficiency-gain AUC](causal_auc.png)", ""]
    return "\n".join(lines) + "\n"


def plot_auc(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = list(summary)
    cols = 2
    rows = (len(settings) + 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.2 * rows), squeeze=False)
    for ax, setting in zip(axes.ravel(), settings):
        fr = summary[setting]["fractions"]
        xs = [100 * float(f) for f in fr]
        for m in ("dr", "r", "ppi", "gold", "preference", "pooled", "oracle"):
            if not all(m in b["eg_auc"] for b in fr.values()):
                continue
            v = np.array([b["eg_auc"][m][0] for b in fr.values()])
            lo = np.array([b["eg_auc"][m][1][0] for b in fr.values()])
            hi = np.array([b["eg_auc"][m][1][1] for b in fr.values()])
            ax.errorbar(xs, v, yerr=[v - lo, hi - v], marker="o", ms=3, capsize=2, label=m,
                        ls="--" if m == "oracle" else "-")
        ax.set_xscale("log")
        ax.set_title(setting, fontsize=9)
        ax.set_xlabel("gold fraction of training queries (%)")
        ax.set_ylabel("efficiency-gain AUC")
        ax.axhline(0, color="grey", lw=0.6)
    for ax in axes.ravel()[len(settings):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_tau_by_category(rows: list[dict], truth: dict[str, float], setting: str, path: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = [r for r in rows if r["setting"] == setting and r["method"] == "dr"]
    fracs = sorted({r["fraction"] for r in sub})
    cats = sorted(truth)
    table: dict = {"truth": truth}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(cats) + 1.5))
    ys = np.arange(len(cats))
    for k, frac in enumerate(fracs):
        per = np.array([[r["tau_by_task"].get(c, np.nan) for c in cats] for r in sub if r["fraction"] == frac])
        mean = np.nanmean(per, axis=0)
        lo, hi = np.nanpercentile(per, 2.5, axis=0), np.nanpercentile(per, 97.5, axis=0)
        table[str(frac)] = {c: [float(m), float(a), float(b)] for c, m, a, b in zip(cats, mean, lo, hi)}
        ax.errorbar(mean, ys + 0.12 * (k - len(fracs) / 2), xerr=[mean - lo, hi - mean], fmt="o", ms=3, capsize=2,
                    label=f"τ̂ DR, {100 * frac:g}% gold (2.5–97.5% over seeds)")
    ax.scatter([truth[c] for c in cats], ys, marker="x", color="red", zorder=3, label="true bias (all gold)")
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_yticks(ys, cats)
    ax.set_xlabel("bias τ = gold gain − judge gain, by category")
    ax.set_title(setting, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return table


def inspect_plot(p: Problem, frac: float, embedder: str, path: Path) -> dict:
    """``inspect-bias`` on one realisation of the real-judge data, the true bias overlaid."""
    from routecraft.routers._bias_report import inspect_bias, plot_bias

    rng = np.random.default_rng(0)
    rows = rng.permutation(len(p.queries))[:6000]
    gold = np.zeros(rows.size, dtype=bool)
    gold[: int(frac * rows.size)] = True
    data = _dataset(p, rows, gold, p.judge_y[rows] if p.judge_y is not None else None, ~gold)
    report = inspect_bias(data, "strong", "weak", embedder=embedder)
    report["true_bias_by_task"] = {k: round(float(v), 4) for k, v in p.true_bias_by_task().items()}
    plot_bias(report, str(path), "by_task", truth=report["true_bias_by_task"])
    return report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 fractions x 3 seeds, 3,000 queries: a smoke run")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--secondary-seeds", type=int, default=None,
                    help="seeds for the secondary settings (majority judge, paired/PPI); default --seeds")
    ap.add_argument("--seeds-for", default="", help="per-setting seed counts, e.g. 'llmrouter_synthetic=10,...'")
    ap.add_argument("--from-runs", default=None,
                    help="re-summarise causal_runs.jsonl file(s) (comma-separated) instead of running")
    ap.add_argument("--n-max", type=int, default=12020, help="queries sampled per seed (30%% test; default: all of MMLU-Pro)")
    ap.add_argument("--n-max-for", default="", help="per-setting --n-max, e.g. 'mmlu_pro_real_judge=6000,...'")
    ap.add_argument("--by-seed", action="store_true", help="run seed by seed across settings (default: setting by setting)")
    ap.add_argument("--log", default="causal_runs.jsonl", help="file (in --out) the per-run rows are logged to")
    ap.add_argument("--settings", default="", help="comma-separated subset of settings")
    ap.add_argument("--embedder", default="wordllama")
    ap.add_argument("--folds", type=int, default=5, help="cross-fitting folds of the econml learners")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--out", default=str(RESULTS), help="results directory")
    args = ap.parse_args(argv)
    fractions = (0.02, 0.10) if args.quick else FRACTIONS
    seeds = 3 if args.quick else args.seeds
    n_max = 3000 if args.quick else args.n_max
    start = time.perf_counter()
    problems = mmlu_problems() + llmrouter_problems()
    # the acceptance settings first, so a run cut short still has them complete
    problems.sort(key=lambda p: (p.name not in PRIMARY, p.name in SECONDARY))
    if args.settings:
        wanted = set(args.settings.split(","))
        problems = [p for p in problems if p.name in wanted]
    secondary = seeds if args.secondary_seeds is None or args.quick else args.secondary_seeds
    per = {k: int(v) for k, _, v in (item.partition("=") for item in args.seeds_for.split(",") if item)}
    tasks = [(p, s) for p in problems for s in range(per.get(p.name, secondary if p.name in SECONDARY else seeds))]
    if args.by_seed:  # seed-major: a run cut short has every setting at (about) the same seed count
        tasks.sort(key=lambda task: task[1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    if args.from_runs:
        seen: set = set()
        for path in args.from_runs.split(","):  # several logs (parallel runs) merge; first copy of a run wins
            for line in Path(path).read_text().splitlines():
                row = json.loads(line) if line.strip() else None
                key = row and (row["setting"], row["seed"], row["fraction"], row["method"])
                if row and key not in seen:
                    seen.add(key)
                    rows.append(row)
        # settings that ran, plus the real-judge data for the inspect-bias figure
        problems = [p for p in problems if p.name in {r["setting"] for r in rows} | {"mmlu_pro_real_judge"}]
    else:
        log = (out / args.log).open("w")
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            n_for = {k: int(v) for k, _, v in (item.partition("=") for item in args.n_max_for.split(",") if item)}
            futures = [pool.submit(run_seed, p, s, fractions, n_for.get(p.name, n_max), args.embedder, args.folds)
                       for p, s in tasks]
            for i, f in enumerate(futures, 1):
                got = f.result()
                rows += got
                log.writelines(json.dumps(r) + "\n" for r in got)
                log.flush()
                print(f"[{time.perf_counter() - start:6.0f}s] {i}/{len(futures)} {tasks[i - 1][0].name} seed {tasks[i - 1][1]}", flush=True)
        log.close()
    summary = summarise(rows)
    extra: dict = {}
    real = next((p for p in problems if p.name == "mmlu_pro_real_judge"), None)
    if real is not None and any(r["setting"] == real.name for r in rows):
        extra["tau_by_category"] = plot_tau_by_category(rows, real.true_bias_by_task(), real.name, out / "causal_tau_by_category.png")
    if real is not None:
        extra["inspect_bias_10pct"] = inspect_plot(real, 0.10, args.embedder, out / "causal_inspect_bias.png")
    plot_auc(summary, out / "causal_auc.png")
    meta = {
        "command": "python benchmarks/causal.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "wall_s": time.perf_counter() - start, "seeds": seeds, "secondary_seeds": secondary,
        "seeds_per_setting": {k: int(v) for k, v in pd.DataFrame(rows).groupby("setting")["seed"].nunique().items()}, "fractions": list(fractions), "n_max": n_max,
        "queries_per_setting": {k: int(v) for k, v in pd.DataFrame(rows).groupby("setting")["n"].max().items()} if rows and "n" in rows[0] else {},
        "from_runs": args.from_runs, "embedder": args.embedder, "folds": args.folds, "notes": {p.name: p.note for p in problems},
        "judge_model": {"gamma": GAMMA, "beta": BETA, "lean_sd": LEAN_SD},
    }
    (out / "causal.json").write_text(json.dumps({"meta": meta, "summary": summary, **extra, "runs": rows}, indent=1) + "\n")
    (out / "causal.md").write_text(markdown(summary, meta, extra))
    print(f"wrote {out / 'causal.json'}, {out / 'causal.md'} in {meta['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
