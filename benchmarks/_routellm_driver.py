"""Runs RouteLLM's own SW and MF routers offline; executed by ``routellm_side_by_side.py``.

This file runs in the *separate* benchmark venv (``/work/bench-venv`` with
``torch==2.13.0+cpu`` and ``routellm==0.2.0``), never in routecraft's, and imports
nothing from routecraft. Usage: ``python _routellm_driver.py JOBDIR``, where JOBDIR
holds what the side-by-side script wrote:

- ``battles/train.parquet``: RouteLLM's battle format (prompt = JSON list of turns,
  model_a, model_b, winner_model_a, winner_model_b), already filtered to first turns
  of at least 16 characters, so it lines up with
- ``embeddings/train.parquet``: one ``embeddings`` row per battle;
- ``prompts.parquet``: ``prompt`` and ``embedding`` of every test prompt (the fake
  OpenAI client answers from it, so no router embeds anything itself);
- ``job.json``: ``strong``, ``weak`` (names as they appear in the battles),
  ``num_tiers``, ``test`` (prompts), ``n_converged``, ``n_single`` and ``mf``, which
  is either ``{"mode": "load", ...}`` (routecraft's weights in ``mf_weights.npz`` are
  loaded into RouteLLM's ``MFModel``: an inference-equivalence check) or
  ``{"mode": "train", "names": {battle name: MODEL_IDS name}, "epochs": ...}``
  (RouteLLM's own ``train_matrix_factorization`` code trains an MF on the non-tie
  battles of ``mf_battles.parquet``).

It writes ``routellm_scores.json``: P(strong wins) per test prompt for each router
(SW also with its logistic regression solved to convergence, on the first
``n_converged`` prompts) and the seconds each took.
"""

from __future__ import annotations

import functools
import json
import os
import random
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("OPENAI_API_KEY", "sk-offline-benchmark")  # RouteLLM builds an OpenAI client at import
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TQDM_DISABLE", "1")

warnings.filterwarnings("ignore", category=FutureWarning)  # sklearn 1.9 on RouteLLM's penalty=None

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


class FakeEmbeddings:
    """Stands in for ``OpenAI().embeddings``: answers from precomputed vectors, no network."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def create(self, input, model):  # noqa: A002 - OpenAI's parameter name
        return SimpleNamespace(data=[SimpleNamespace(embedding=self.table[text]) for text in input])


def timed_scores(router, prompts: list[str], n_single: int) -> tuple[list[float], dict]:
    """P(strong) for every prompt, plus seconds per query: the first ``n_single`` calls
    timed one by one (batch 1) and the whole loop (RouteLLM has no batched call)."""
    single = []
    for p in prompts[:n_single]:
        start = time.perf_counter()
        router.calculate_strong_win_rate(p)
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    scores = [float(router.calculate_strong_win_rate(p)) for p in prompts]
    loop = time.perf_counter() - start
    return scores, {"batch1_s": float(np.mean(single)), "loop_per_query_s": loop / len(prompts), "n_loop": len(prompts)}


def run_sw(routers, sw_utils, workdir: Path, job: dict, out: dict) -> None:
    start = time.perf_counter()
    sw = routers.SWRankingRouter(
        arena_battle_datasets=[str(workdir / "battles")],
        arena_embedding_datasets=[str(workdir / "embeddings")],
        strong_model=job["strong"],
        weak_model=job["weak"],
        num_tiers=job.get("num_tiers", 10),
    )
    load_s = time.perf_counter() - start
    out["sw"], out["sw_seconds"] = timed_scores(sw, job["test"], job.get("n_single", 20))
    out["sw_seconds"]["load_s"] = load_s
    out["sw_tiers"] = {str(k): int(v) for k, v in sw.model2tier.items()}
    # RouteLLM's fit stops at scikit-learn's default tol=1e-4; the same fit solved to
    # convergence shows how much of any difference is that stopping rule
    shipped = sw_utils.LogisticRegression
    sw_utils.LogisticRegression = functools.partial(shipped, tol=1e-12, max_iter=100_000)
    out["sw_converged"] = [float(sw.calculate_strong_win_rate(p)) for p in job["test"][: job.get("n_converged", 100)]]
    sw_utils.LogisticRegression = shipped


def load_mf_weights(model_cls, workdir: Path, cfg: dict):
    """routecraft's MF weights (``mf_weights.npz``) as an ``MFModel``."""
    import torch

    weights = np.load(workdir / "mf_weights.npz")
    model = model_cls(dim=cfg["hidden_size"], num_models=64, text_dim=cfg["text_dim"], num_classes=1, use_proj=True)
    with torch.no_grad():
        model.P.weight.copy_(torch.tensor(weights["P"], dtype=torch.float32))
        model.text_proj[0].weight.copy_(torch.tensor(weights["text_proj"], dtype=torch.float32))
        model.classifier[0].weight.copy_(torch.tensor(weights["classifier"], dtype=torch.float32))
    return model


def train_mf(mf_model, workdir: Path, cfg: dict, out: dict):
    """Train RouteLLM's MF with its own training code (``train_matrix_factorization``:
    ``PairwiseDataset``, ``MFModel_Train``, ``train_loops``) and the settings of its
    example ``__main__``: dim 128, batch 64, Adam lr 3e-4, weight decay 1e-5, noise
    0.1, a shuffled 95/5 train/test split, no early stopping; on CPU, ``epochs`` epochs.

    Battle models outside its fixed 64-name ``MODEL_IDS`` take the table rows of
    names no battle uses (the rows are free parameters; only the index matters).
    """
    import torch
    from routellm.routers.matrix_factorization import train_matrix_factorization as tm

    battles = pd.read_parquet(workdir / "mf_battles.parquet")
    names = dict(cfg["names"])
    free = [m for m in mf_model.MODEL_IDS if m not in set(names.values())]
    for m in sorted(set(battles["model_a"]) | set(battles["model_b"])):
        if m not in names:
            names[m] = free.pop(0)
    prompts = sorted(set(battles["prompt"]))
    idx = {p: i for i, p in enumerate(prompts)}
    table = pd.read_parquet(workdir / "mf_prompts.parquet").set_index("prompt")["embedding"]
    np.save(workdir / "mf_prompts.npy", np.stack([np.asarray(table[p], dtype=np.float32) for p in prompts]))
    data = [
        {"model_a": names[a], "model_b": names[b], "winner": w, "idx": idx[p]}
        for a, b, w, p in zip(battles["model_a"], battles["model_b"], battles["winner"], battles["prompt"])
        if w in ("model_a", "model_b") and a != b
    ]
    random.seed(cfg.get("seed", 42))
    torch.manual_seed(cfg.get("seed", 42))
    random.shuffle(data)
    cut = int(len(data) * 0.95)
    train_iter = tm.PairwiseDataset(data[:cut]).get_dataloaders(batch_size=64, shuffle=True)
    test_iter = tm.PairwiseDataset(data[cut:]).get_dataloaders(1024, shuffle=False)
    text_dim = int(np.load(workdir / "mf_prompts.npy", mmap_mode="r").shape[1])
    net = tm.MFModel_Train(
        dim=128, num_models=len(mf_model.MODEL_IDS), num_prompts=len(prompts), text_dim=text_dim,
        use_proj=True, npy_path=str(workdir / "mf_prompts.npy"),
    )
    start = time.perf_counter()
    tm.train_loops(net, train_iter, test_iter, lr=3e-4, weight_decay=1e-5, alpha=0.1,
                   num_epochs=int(cfg["epochs"]), device="cpu")
    out["mf_train"] = {"seconds": time.perf_counter() - start, "battles": len(data), "epochs": int(cfg["epochs"]),
                       "model_ids": names}
    model = mf_model.MFModel(dim=128, num_models=len(mf_model.MODEL_IDS), text_dim=text_dim, num_classes=1, use_proj=True)
    with torch.no_grad():
        model.P.weight.copy_(net.P.weight)
        model.text_proj[0].weight.copy_(net.text_proj.weight)
        model.classifier[0].weight.copy_(net.classifier.weight)
    return model, {"hidden_size": 128, "text_dim": text_dim}, names


def run_mf(routers, mf_model, workdir: Path, job: dict, out: dict) -> None:
    cfg = job["mf"]
    if cfg["mode"] == "load":
        model, dims, names = load_mf_weights(mf_model.MFModel, workdir, cfg), cfg, cfg["names"]
    else:
        model, dims, names = train_mf(mf_model, workdir, cfg, out)
    model.save_pretrained(str(workdir / "mf"))
    mf = routers.MatrixFactorizationRouter(
        checkpoint_path=str(workdir / "mf"),
        strong_model=names[job["strong"]],
        weak_model=names[job["weak"]],
        hidden_size=dims["hidden_size"],
        text_dim=dims["text_dim"],
    )
    out["mf"], out["mf_seconds"] = timed_scores(mf, job["test"], job.get("n_single", 20))


def main(workdir: Path) -> None:
    os.environ["HF_DATASETS_CACHE"] = str(workdir / "hf-datasets-cache")  # not ~/.cache
    prompts = pd.read_parquet(workdir / "prompts.parquet")
    client = SimpleNamespace(embeddings=FakeEmbeddings({p: np.asarray(e, dtype=float).tolist() for p, e in zip(prompts["prompt"], prompts["embedding"])}))
    job = json.loads((workdir / "job.json").read_text())
    out: dict[str, object] = {}

    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    from routellm.routers import routers
    from routellm.routers.matrix_factorization import model as mf_model
    from routellm.routers.similarity_weighted import utils as sw_utils

    routers.OPENAI_CLIENT = client
    mf_model.OPENAI_CLIENT = client
    run_sw(routers, sw_utils, workdir, job, out)
    run_mf(routers, mf_model, workdir, job, out)
    (workdir / "routellm_scores.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
