"""RGD benchmark: routers trained on simulated generated data, tested on real MMLU-Pro questions.

No generator LLM can be called here, so the generator is simulated on real data: the
questions are real MMLU-Pro questions and the pool's answers are the real answers of
MMLU-Pro's model runs (``pred``). A simulated generator of strength ``a`` has two
weaknesses, as in the RGD paper (arXiv 2601.09692):

(a) label accuracy — its answer is the gold answer with probability ``a`` and otherwise
    a *plausible* wrong option: one the 29 real models chose, drawn in proportion to how
    many chose it (uniform over the other options only when no model erred);
(b) question quality — a weaker generator covers fewer subjects (a seeded random subset
    of MMLU-Pro's 14 categories) and writes questions that differentiate the pool less:
    its questions are drawn from the training split with weight exp(−β·spread/0.5),
    where spread = sqrt(p(1 − p)) and p is the share of the pool that got the question
    right (this uses gold labels, but only to *simulate* question quality).

Query-answer routers (kNN, MLP correctness predictors and CASCAL-GT) learn from the
simulated generator's labels; CASCAL learns from the pool's answers only. All are
tested on held-out real questions (40%, the reference's 0.6 train ratio) with gold
labels, on a pool of six large and a pool of six small models. A third experiment
mixes three generators (good, wrong labels, undifferentiating questions) and measures
what the generator filters (self-answer accuracy, differentiation) do for a router.

    PYTHONPATH=src nice -n 5 python benchmarks/rgd.py            # full size, writes results/rgd.*
    PYTHONPATH=src nice -n 5 python benchmarks/rgd.py --quick    # smaller, writes results/rgd_quick.*
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from threadpoolctl import threadpool_limits

from _lookup import LookupEmbedder  # benchmarks/ is on sys.path when run as a script
from routecraft.data import Dataset, load_dataset
from routecraft.data._io import read_json
from routecraft.embed import make_embedder
from routecraft.generate import filter_generated, generator_report, relabel
from routecraft.policy._bootstrap import bootstrap_means, percentile_ci
from routecraft.routers import CascalRouter, KNNRouter, MLPRouter
from routecraft.routers._consensus import answer_matrix

POOLS = {
    "large": ["gemini-1.5-pro-002", "gemini-1.5-flash-002", "DeepSeek-Coder-V2", "Meta-Llama-3_1-70B-Instruct",
              "jamba-1.5-large", "Qwen1.5-110B"],
    "small": ["Meta-Llama-3_1-8B-Instruct", "mathstral-7B", "Phi-3-mini-4k-instruct", "Meta-Llama-3_1-8B",
              "gemma-7b", "Qwen1.5-7B-Chat"],
}
LEVELS = [1.0, 0.8, 0.6, 0.4]  # label accuracy a of the simulated generator
COVERAGE = {1.0: 1.0, 0.8: 0.85, 0.6: 0.7, 0.4: 0.55}  # share of the 14 subjects it writes about
TILT = {1.0: 0.0, 0.8: 1.5, 0.6: 3.0, 0.4: 4.5}  # β: how strongly it avoids differentiating questions
QA_ROUTERS = ["knn", "mlp", "cascal-gt"]
FILTER_SELF, FILTER_DIFF = 0.8, 0.5  # filter thresholds as fractions of the best generator's values
OPTION_LINE = re.compile(r"^([A-P])\. ", re.MULTILINE)


EMBEDDER: LookupEmbedder | None = None  # every question embedded once (set in main)


def make_router(name: str, seed: int):
    if name == "knn":
        return KNNRouter(embedder=EMBEDDER, k=20)
    if name == "mlp":
        return MLPRouter(embedder=EMBEDDER, random_state=seed)
    if name == "cascal-gt":
        return CascalRouter(embedder=EMBEDDER, supervision="labels", random_state=seed)
    return CascalRouter(embedder=EMBEDDER, random_state=seed)


class World:
    """MMLU-Pro with gold letters, every run's answers and the wrong-option popularity."""

    def __init__(self, root: str) -> None:
        self.data = load_dataset(root)
        key = {f"mmlupro-{q['question_id']}": q["answer"] for q in read_json(Path(root) / "questions.json.gz")}
        self.qids = self.data.queries["query_id"].to_numpy()
        self.gold = np.array([key[q] for q in self.qids], dtype=object)
        self.task = self.data.queries["task"].astype(str).to_numpy()
        self.models = self.data.models
        self.answers, _, self.answered = answer_matrix(self.data, self.models)
        self.options = [OPTION_LINE.findall(t) for t in self.data.texts]

    def plausible_wrong(self, i: int, rng: np.random.Generator) -> str:
        wrong = [a for a in self.answers[i] if a is not None and a != self.gold[i]]
        if wrong:
            return wrong[rng.integers(len(wrong))]  # proportional to how many models chose it
        others = [o for o in self.options[i] if o != self.gold[i]]
        return others[rng.integers(len(others))]

    def pool_view(self, pool: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows where every pool model answered, gold score matrix, answers) for a pool."""
        cols = [self.models.index(m) for m in pool]
        complete = np.flatnonzero(self.answered[:, cols].all(axis=1))
        ans = self.answers[:, cols]
        score = np.array([[a is not None and a == g for a in row] for row, g in zip(ans, self.gold)], dtype=float)
        return complete, score, ans


def simulate(world: World, rows: np.ndarray, spread: np.ndarray, level: float, n: int, rng: np.random.Generator,
             coverage: float | None = None, tilt: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(question rows, generator labels) of a simulated generator of strength ``level``."""
    cats = sorted(set(world.task[rows]))
    k = max(1, round(len(cats) * (COVERAGE[level] if coverage is None else coverage)))
    covered = set(rng.choice(cats, size=k, replace=False))
    cand = rows[np.isin(world.task[rows], list(covered))]
    beta = TILT[level] if tilt is None else tilt
    w = np.exp(-beta * spread[cand] / 0.5)
    chosen = rng.choice(cand, size=min(n, len(cand)), replace=False, p=w / w.sum())
    chosen.sort()
    right = rng.random(len(chosen)) < level
    labels = np.array([world.gold[i] if r else world.plausible_wrong(i, rng) for i, r in zip(chosen, right)], dtype=object)
    return chosen, labels


def generated_dataset(world: World, pool: list[str], rows: np.ndarray, labels: np.ndarray, generator: str | np.ndarray) -> Dataset:
    """The simulated generator's data: real questions, real pool answers, scores = agreement with its labels."""
    sub = world.data.subset(world.qids[rows]).with_models(pool)
    order = pd.Index(world.qids[rows])
    pos = order.get_indexer(sub.queries["query_id"])
    queries = sub.queries.assign(reference_answer=labels[pos], generator=np.asarray(generator, dtype=object)[pos] if np.ndim(generator) else generator)
    sub = Dataset(queries, sub.outcomes, meta={"name": "simulated-generated"})
    return relabel(sub, pd.Series(labels, index=world.qids[rows]))


def in_pool_order(router, pool: list[str]) -> list[int]:
    """Column of each pool model in the router's ``models_`` (its order need not be the pool's)."""
    return [router.models_.index(m) for m in pool]


def routed(router, texts: list[str], score: np.ndarray, pool: list[str]) -> np.ndarray:
    """Per-query gold score of the top-1 model (``score`` columns in ``pool`` order)."""
    q = router.predict_quality(texts)[:, in_pool_order(router, pool)]
    return score[np.arange(len(texts)), np.argmax(q, axis=1)]


def top3(router: CascalRouter, texts: list[str], answers: np.ndarray, gold: np.ndarray, pool: list[str]) -> np.ndarray:
    """Accuracy of the top-3 vote (``answers`` columns in ``pool`` order)."""
    aligned = np.empty_like(answers)
    aligned[:, in_pool_order(router, pool)] = answers
    voted, _ = router.vote(texts, aligned, k=3)
    return np.array([v is not None and v == g for v, g in zip(voted, gold)], dtype=float)


def ci_points(samples: np.ndarray) -> list[float] | None:
    ci = percentile_ci(samples)
    return None if ci is None else [round(100 * ci[0], 2), round(100 * ci[1], 2)]


def run_pool(world: World, name: str, pool: list[str], args, rng_seed: int) -> dict:
    complete, score_all, ans_all = world.pool_view(pool)
    rng = np.random.default_rng(rng_seed)
    perm = rng.permutation(complete)
    n_test = int(round(0.4 * len(perm)))
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    if args.max_test:
        test = np.sort(rng.choice(test, size=min(args.max_test, len(test)), replace=False))
    spread = np.sqrt(score_all.mean(axis=1) * (1 - score_all.mean(axis=1)))
    texts = world.data.queries["query"].to_numpy()[test].tolist()
    s_test, a_test, g_test = score_all[test], ans_all[test], world.gold[test]
    columns: dict[str, np.ndarray] = {
        "best-single": s_test[:, int(np.argmax(s_test.mean(axis=0)))],
        "oracle": s_test.max(axis=1),
    }
    fit_s: dict[str, float] = {}
    levels_info = {}
    for level in LEVELS:
        rows, labels = simulate(world, train, spread, level, args.n_train, np.random.default_rng([rng_seed, int(level * 100)]))
        gen = generated_dataset(world, pool, rows, labels, f"sim-{level}")
        levels_info[str(level)] = {
            "questions": len(rows),
            "subjects": int(len(set(world.task[rows]))),
            "label_accuracy": round(float(np.mean(labels == world.gold[rows])), 4),
            "mean_spread": round(float(spread[rows].mean()), 4),
        }
        for r in QA_ROUTERS + ["cascal"]:
            t0 = time.perf_counter()
            router = make_router(r, args.seed).fit(gen)
            fit_s[r] = fit_s.get(r, 0.0) + time.perf_counter() - t0
            columns[f"{r}@{level}"] = routed(router, texts, s_test, pool)
            if r == "cascal":
                columns[f"cascal-top3@{level}"] = top3(router, texts, a_test, g_test, pool)
        print(f"  [{name}] a={level}: " + ", ".join(f"{k.split('@')[0]} {100 * v.mean():.1f}" for k, v in columns.items() if k.endswith(f"@{level}")), flush=True)
    names = list(columns)
    boot = bootstrap_means(np.column_stack([columns[k] for k in names]), args.n_boot, args.seed)
    col = {k: boot[:, i] for i, k in enumerate(names)}
    point = {k: float(v.mean()) for k, v in columns.items()}
    acc = {k: {"acc": round(100 * point[k], 2), "ci": ci_points(col[k])} for k in names}
    x = np.array(LEVELS)
    routers = QA_ROUTERS + ["cascal", "cascal-top3"]

    def slope(samples: dict[str, np.ndarray] | dict[str, float], r: str):
        ys = np.stack([np.asarray(samples[f"{r}@{lv}"]) for lv in LEVELS])
        xc = x - x.mean()  # least-squares slope, per column of ys
        return (xc @ (ys - ys.mean(axis=0))) / (xc @ xc)  # accuracy per unit of label accuracy a

    slopes = {r: {"slope": round(100 * float(slope(point, r)), 2), "ci": ci_points(slope(col, r))} for r in routers}
    best_qa = {lv: max(QA_ROUTERS, key=lambda r: point[f"{r}@{lv}"]) for lv in LEVELS}
    slope_gap = {}
    for r in QA_ROUTERS:
        for c in ("cascal", "cascal-top3"):
            slope_gap[f"{r} - {c}"] = {"diff": round(100 * float(slope(point, r) - slope(point, c)), 2),
                                       "ci": ci_points(slope(col, r) - slope(col, c))}
    headline = {}
    for lv in (LEVELS[-1], LEVELS[0]):
        b = best_qa[lv]
        for c in ("cascal", "cascal-top3"):
            headline[f"{c} - best QA ({b}) @ a={lv}"] = {
                "diff": round(100 * (point[f"{c}@{lv}"] - point[f"{b}@{lv}"]), 2),
                "ci": ci_points(col[f"{c}@{lv}"] - col[f"{b}@{lv}"]),
            }
    return {
        "pool": pool, "n_train_questions": len(train), "n_test": len(test), "levels": levels_info,
        "accuracy": acc, "slopes": slopes, "slope_gap_qa_minus_cascal": slope_gap, "headline": headline,
        "best_qa_by_level": {str(k): v for k, v in best_qa.items()}, "fit_seconds": {k: round(v, 1) for k, v in fit_s.items()},
        "_test": test, "_s_test": s_test, "_texts": texts, "_train": train, "_spread": spread,
    }


def run_filters(world: World, name: str, pool: list[str], res: dict, args) -> dict:
    """Three generators on disjoint training questions; QA routers with and without the filters."""
    train, spread = res["_train"], res["_spread"]
    rng = np.random.default_rng([args.seed, 7])
    parts = np.array_split(rng.permutation(train), 3)
    specs = {  # name: (label accuracy, coverage, tilt)
        "good": (1.0, 1.0, 0.0),
        "wrong-labels": (0.4, 1.0, 0.0),
        "undifferentiating": (1.0, 0.55, 8.0),
    }
    rows_all, labels_all, gens_all = [], [], []
    for (g, (a, cov, tilt)), part in zip(specs.items(), parts):
        rows, labels = simulate(world, np.sort(part), spread, a, args.n_train // 2, np.random.default_rng([args.seed, len(g)]), cov, tilt)
        rows_all.append(rows); labels_all.append(labels); gens_all.append(np.full(len(rows), g, dtype=object))
    rows, labels, gens = np.concatenate(rows_all), np.concatenate(labels_all), np.concatenate(gens_all)
    order = np.argsort(rows)
    rows, labels, gens = rows[order], labels[order], gens[order]
    mixed = generated_dataset(world, pool, rows, labels, gens)
    report, _ = generator_report(mixed)
    # thresholds relative to the best generator of the mix (a small pool's consensus is right less often)
    by_generator = filter_generated(mixed, min_self_accuracy=FILTER_SELF, min_differentiation=FILTER_DIFF,
                                    relative=True, item_self_agreement=False)
    by_item = filter_generated(mixed, min_self_accuracy=FILTER_SELF, min_differentiation=FILTER_DIFF, relative=True)
    texts, s_test = res["_texts"], res["_s_test"]
    columns = {}
    for r in QA_ROUTERS:
        columns[f"{r}/unfiltered"] = routed(make_router(r, args.seed).fit(mixed), texts, s_test, pool)
        columns[f"{r}/filtered"] = routed(make_router(r, args.seed).fit(by_generator.data), texts, s_test, pool)
        columns[f"{r}/filtered+items"] = routed(make_router(r, args.seed).fit(by_item.data), texts, s_test, pool)
    names = list(columns)
    boot = bootstrap_means(np.column_stack([columns[k] for k in names]), args.n_boot, args.seed + 1)
    col = {k: boot[:, i] for i, k in enumerate(names)}
    out = {
        "generators": report.round(4).to_dict(orient="records"),
        "thresholds": {"self_answer_accuracy": f"{FILTER_SELF} x best", "differentiation": f"{FILTER_DIFF} x best"},
        "kept": by_generator.generators[["generator", "kept"]].to_dict(orient="records"),
        "items": {"mixed": len(mixed), "kept_generators": len(by_generator.data), "kept_generators_and_items": len(by_item.data)},
        "summary": {"generators": by_generator.summary(), "generators+items": by_item.summary()},
        "accuracy": {k: {"acc": round(100 * float(v.mean()), 2), "ci": ci_points(col[k])} for k, v in columns.items()},
        "gain": {f"{r} {v}": {"diff": round(100 * float(columns[f"{r}/{v}"].mean() - columns[f"{r}/unfiltered"].mean()), 2),
                              "ci": ci_points(col[f"{r}/{v}"] - col[f"{r}/unfiltered"])}
                 for r in QA_ROUTERS for v in ("filtered", "filtered+items")},
    }
    print(f"  [{name}] filters: {by_generator.summary()} / {by_item.summary()}; gains "
          + ", ".join(f"{k} {v['diff']:+.1f}" for k, v in out["gain"].items()), flush=True)
    return out


def fmt(v: dict, key: str = "acc") -> str:
    ci = v.get("ci")
    return f"{v[key]:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else f"{v[key]:.1f}"


def markdown(results: dict) -> str:
    a = results["args"]
    lines = [
        "# RGD benchmark: generated-data routers on real MMLU-Pro outputs",
        "",
        f"Generated by `benchmarks/rgd.py{' --quick' if a['quick'] else ''}` in {results['seconds']:.0f} s "
        f"(n_train={a['n_train']}, n_boot={a['n_boot']}, seed={a['seed']}, max_test={a['max_test']}).",
        "",
        "**Simulation, stated plainly.** No generator was called. Questions are real MMLU-Pro questions and the pool's",
        "answers are the real `pred` of MMLU-Pro's model runs. A simulated generator of strength a labels each question",
        "with the gold answer with probability a, else with a wrong option that real models chose (drawn by popularity);",
        "it covers a share of the 14 subjects " + ", ".join(f"{COVERAGE[lv]:.0%} at a={lv}" for lv in LEVELS) + ";",
        "and it draws questions with weight exp(−β·spread/0.5), β " + ", ".join(f"{TILT[lv]} at a={lv}" for lv in LEVELS) + ",",
        "spread = sqrt(p(1−p)) of the pool's gold accuracy on the question (gold used only to simulate question quality).",
        "Query-answer routers (kNN, MLP, CASCAL-GT) learn from the generator's labels; CASCAL from the pool's answers",
        "only. Test: held-out real questions (40% split, capped as above), gold labels; accuracy of the routed model",
        "(top-1) or of CASCAL's top-3 answer vote. 95% paired bootstrap intervals over test queries.",
        "Best single = the pool's best model on the test questions (in hindsight); oracle = any pool model right.",
        "",
    ]
    for pname, r in results["pools"].items():
        lines += [f"## Pool {pname}: {', '.join(r['pool'])}", "",
                  f"{r['n_train_questions']} training questions available, {r['n_test']} test questions. "
                  f"Best single {fmt(r['accuracy']['best-single'])}, oracle {fmt(r['accuracy']['oracle'])}.", "",
                  "| router | " + " | ".join(f"a={lv}" for lv in LEVELS) + " | slope (pts per unit a) |",
                  "|---|" + "---|" * (len(LEVELS) + 1)]
        for name in QA_ROUTERS + ["cascal", "cascal-top3"]:
            lines.append(f"| {name} | " + " | ".join(fmt(r["accuracy"][f"{name}@{lv}"]) for lv in LEVELS)
                         + f" | {fmt(r['slopes'][name], 'slope')} |")
        lines += ["", "Simulated generators: " + "; ".join(
            f"a={lv}: {v['questions']} questions, {v['subjects']} subjects, label acc {v['label_accuracy']:.2f}, "
            f"mean spread {v['mean_spread']:.3f}" for lv, v in r["levels"].items()), "",
            "Slope gap (query-answer slope − CASCAL slope; > 0 means the query-answer router degrades faster):", ""]
        lines += [f"- {k}: {fmt(v, 'diff')}" for k, v in r["slope_gap_qa_minus_cascal"].items()]
        lines += ["", "Headline differences (accuracy points):", ""]
        lines += [f"- {k}: {fmt(v, 'diff')}" for k, v in r["headline"].items()]
        f = r.get("filters")
        if f:
            lines += ["", "Generator filters on a mix of three simulated generators (good; wrong labels a=0.4; "
                      "undifferentiating: a=1.0, 55% of subjects, β=8):", "",
                      "| generator | items | self-answer accuracy | differentiation |", "|---|---|---|---|"]
            lines += [f"| {g['generator']} | {g['items']} | {g['self_answer_accuracy']:.3f} | {g['differentiation']:.3f} |" for g in f["generators"]]
            lines += ["", f"Thresholds: self-answer accuracy ≥ {FILTER_SELF} × the best generator's, differentiation ≥ "
                      f"{FILTER_DIFF} × the best's. Generators only: {f['summary']['generators']}. "
                      f"Generators + items (generator's answer = pool consensus): {f['summary']['generators+items']}.", "",
                      "| router | unfiltered | filtered (generators) | gain | filtered (generators + items) | gain |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {q} | {fmt(f['accuracy'][q + '/unfiltered'])} | {fmt(f['accuracy'][q + '/filtered'])} | "
                      f"{fmt(f['gain'][q + ' filtered'], 'diff')} | {fmt(f['accuracy'][q + '/filtered+items'])} | "
                      f"{fmt(f['gain'][q + ' filtered+items'], 'diff')} |" for q in QA_ROUTERS]
        lines += ["", f"Fit seconds (all levels): {r['fit_seconds']}", ""]
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results["pools"]), figsize=(6 * len(results["pools"]), 4.2), squeeze=False)
    for ax, (pname, r) in zip(axes[0], results["pools"].items()):
        for name, style in zip(QA_ROUTERS + ["cascal", "cascal-top3"], ["o--", "s--", "^--", "o-", "D-"]):
            ys = [r["accuracy"][f"{name}@{lv}"] for lv in LEVELS]
            acc = np.array([y["acc"] for y in ys])
            err = np.array([[y["acc"] - y["ci"][0], y["ci"][1] - y["acc"]] for y in ys]).T
            ax.errorbar(LEVELS, acc, yerr=err, fmt=style, capsize=3, label=name)
        for base, ls in (("best-single", ":"), ("oracle", "-.")):
            ax.axhline(r["accuracy"][base]["acc"], color="grey", ls=ls, label=base)
        ax.set_title(f"pool {pname}")
        ax.set_xlabel("simulated generator label accuracy a (weaker questions as a falls)")
        ax.set_ylabel("test accuracy (%)")
        ax.invert_xaxis()
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/work/shared/data/mmlu_pro")
    ap.add_argument("--quick", action="store_true", help="smaller run: 600 training questions, 1,500 test, 300 resamples")
    ap.add_argument("--n-train", type=int, default=None, help="questions per simulated generator (default 2000)")
    ap.add_argument("--max-test", type=int, default=None, help="cap on test questions per pool (default: all)")
    ap.add_argument("--n-boot", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embedder", default="wordllama", help="embedder for every router (questions embedded once)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args()
    args.n_train = args.n_train or (600 if args.quick else 2000)
    args.max_test = args.max_test if args.max_test is not None else (1500 if args.quick else 0)
    args.n_boot = args.n_boot or (300 if args.quick else 1000)
    t0 = time.perf_counter()
    global EMBEDDER
    world = World(args.data)
    texts = world.data.texts
    EMBEDDER = LookupEmbedder(texts, make_embedder(args.embedder).encode(texts))
    print(f"loaded and embedded MMLU-Pro: {len(world.qids)} questions, {len(world.models)} models ({time.perf_counter() - t0:.0f} s)", flush=True)
    pools = {}
    for i, (name, pool) in enumerate(POOLS.items()):
        res = run_pool(world, name, pool, args, args.seed * 100 + i)
        res["filters"] = run_filters(world, name, pool, res, args)
        pools[name] = {k: v for k, v in res.items() if not k.startswith("_")}
    results = {
        "benchmark": "rgd", "args": vars(args), "pools": pools, "seconds": round(time.perf_counter() - t0, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "levels": {"label_accuracy": LEVELS, "coverage": COVERAGE, "tilt": TILT},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "rgd_quick" if args.quick else "rgd"
    (out / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / f"{stem}.md").write_text(markdown(results))
    plot(results, out / f"{stem}.png")
    print(f"wrote {out / stem}.json/.md/.png in {results['seconds']:.0f} s")


if __name__ == "__main__":
    with threadpool_limits(1):  # small BLAS/OpenMP problems: on a busy 2-core machine threads only spin
        main()
