"""Shared machinery of the PyTorch classifier routers (BERT, causal LLM).

Three jobs, kept here so the two routers hold only what differs between them:

- **Optional dependency and determinism.** torch/transformers are imported lazily
  (:func:`ml_modules`) so ``import routecraft`` never needs the ``[ml]`` extra; a
  missing extra is a :class:`DependencyError`. :func:`seeded` fixes every source of
  randomness a fine-tune touches (head init, LoRA init, dropout, shuffling), so
  refitting with the same ``random_state`` gives the same weights bit for bit.
- **Weights as data.** Fine-tuned weights travel in the artifact as safetensors and
  JSON blobs (:func:`directory_blobs`, :func:`materialise_blobs`,
  :func:`tensors_to_bytes`), never as pickles, and loading needs no hub.
- **The strong/weak pair.** RouteLLM's classifiers are pairwise. :class:`PairClassifierRouter`
  picks the pair in a pool, turns preferences/outcomes into per-query labels, and maps
  the classifier's P(strong) into Q̂ so that ``pair_score(strong, weak)`` returns it.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from .._errors import DataError, RoutecraftError, UnknownModelError, require
from ..artifact._archive import BLOB_SUFFIXES
from ..data._augment import dataset_preferences
from ..data._dataset import Dataset
from ._base import Router

# Labels of the 3-way classifier, in RouteLLM's order: P(strong) = 1 - (p_tie + p_weak).
STRONG_WINS, TIE, WEAK_WINS = 0, 1, 2
_WINNER_LABEL = {"strong": STRONG_WINS, "tie": TIE, "weak": WEAK_WINS}
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")


# --------------------------------------------------------------- dependencies
def ml_modules() -> tuple[Any, Any]:
    """``(torch, transformers)``, or a DependencyError naming the ``ml`` extra."""
    return require("torch", "ml"), require("transformers", "ml")


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch and make its kernels deterministic for the duration of the block.

    The global flag is restored afterwards so the router does not change how the
    caller's own torch code runs.
    """
    torch, _ = ml_modules()
    previous = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(int(seed))
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch on ``n`` intra-op threads for the block (on a small shared box, more only contend)."""
    torch, _ = ml_modules()
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------ weights as data
def tensors_to_bytes(tensors: dict[str, Any]) -> bytes:
    """A dict of tensors as safetensors bytes (contiguous CPU copies)."""
    from safetensors.torch import save

    return save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()})


def bytes_to_tensors(data: bytes) -> dict[str, Any]:
    from safetensors.torch import load

    return load(data)


def directory_blobs(directory: str | Path, prefix: str = "") -> dict[str, bytes]:
    """Top-level files of a saved HF model/tokenizer directory as artifact blobs.

    Only kinds an artifact may hold are taken; a weights file in a pickle format
    (``pytorch_model.bin``) is an error rather than silently dropped.
    """
    blobs: dict[str, bytes] = {}
    for path in sorted(Path(directory).iterdir()):
        if not path.is_file():
            continue
        if path.name.endswith(WEIGHT_SUFFIXES) and not path.name.endswith(".safetensors"):
            raise RoutecraftError(
                f"{path}: weights must be in safetensors format to be saved in an artifact"
            )
        if path.name.endswith(BLOB_SUFFIXES):
            blobs[prefix + path.name] = path.read_bytes()
    return blobs


def materialise_blobs(blobs: dict[str, bytes], directory: str | Path, prefix: str = "") -> Path:
    """Write the blobs named ``prefix + filename`` into ``directory`` as plain files.

    Names with path separators are refused so a crafted artifact cannot write
    outside ``directory``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        if not name.startswith(prefix):
            continue
        filename = name[len(prefix):]
        if not filename or Path(filename).name != filename or filename in (".", ".."):
            raise RoutecraftError(f"artifact blob {name!r} is not a plain file name")
        (directory / filename).write_bytes(data)
    return directory


def weights_fingerprint(directory: str | Path) -> str:
    """sha256 over the names and bytes of a model directory's top-level weight files.

    Identifies a base model without storing it, so an adapter is never applied to
    different base weights than it was trained on.
    """
    h = hashlib.sha256()
    files = sorted(p for p in Path(directory).iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not files:
        raise RoutecraftError(f"{directory}: no model weight files found")
    for path in files:
        h.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------- training
def train_epochs(
    parameters: Sequence[Any],
    n_items: int,
    step_loss: Callable[[np.ndarray], Any],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> list[float]:
    """AdamW over shuffled mini-batches; returns the mean training loss of each epoch.

    ``step_loss(indices)`` computes the (differentiable) loss of the items at
    ``indices``. Shuffling uses its own seeded generator so it does not depend on
    how much randomness model construction consumed.
    """
    torch, _ = ml_modules()
    optimiser = torch.optim.AdamW(list(parameters), lr=lr)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(int(epochs)):
        order = rng.permutation(n_items)
        total = 0.0
        for start in range(0, n_items, batch_size):
            idx = order[start:start + batch_size]
            loss = step_loss(idx)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / max(n_items, 1))
    return history


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[Any, Any]:
    """Right-padded ``(input_ids, attention_mask)`` long tensors for token id lists."""
    torch, _ = ml_modules()
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), int(pad_id), dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, : len(seq)] = torch.tensor(list(seq), dtype=torch.long)
        mask[i, : len(seq)] = 1
    return ids, mask


def predict_by_length(
    sequences: Sequence[Sequence[int]],
    forward: Callable[[Any], np.ndarray],
    batch_size: int,
) -> np.ndarray:
    """Run ``forward(input_ids)`` over batches of equal-length sequences; rows in input order.

    Grouping by exact length means no padding: a query's prediction never depends on
    which other queries share its batch (the conformance "batch" check), and no
    compute is spent on pad tokens.
    """
    torch, _ = ml_modules()
    by_length: dict[int, list[int]] = {}
    for i, seq in enumerate(sequences):
        by_length.setdefault(len(seq), []).append(i)
    out: np.ndarray | None = None
    with torch.inference_mode():
        for length in sorted(by_length):
            members = by_length[length]
            for start in range(0, len(members), batch_size):
                rows = members[start:start + batch_size]
                ids = torch.tensor([list(sequences[i]) for i in rows], dtype=torch.long)
                probs = np.asarray(forward(ids), dtype=float)
                if out is None:
                    out = np.empty((len(sequences), probs.shape[1]))
                out[rows] = probs
    assert out is not None
    return out


# ---------------------------------------------------------- the strong/weak pair
def default_pair(data: Dataset) -> tuple[str, str]:
    """(strong, weak): the best and worst model by mean score, or by win rate without outcomes.

    For a 2-model dataset these are simply its two models, ordered by quality. Ties
    keep the dataset's model order.
    """
    models = data.models
    if len(models) < 2:
        raise DataError(f"dataset '{data.name}' has {len(models)} model(s); a pairwise router needs two")
    if data.outcomes is not None and len(data.outcomes):
        quality = np.nanmean(data.score_matrix(models), axis=0)
    else:
        prefs = data.preferences
        assert prefs is not None
        wins = pd.Series(0.0, index=models)
        games = pd.Series(0.0, index=models)
        for side, other in (("a", "b"), ("b", "a")):
            players = prefs[f"model_{side}"]
            points = np.where(prefs["winner"] == side, 1.0, np.where(prefs["winner"] == "tie", 0.5, 0.0))
            wins = wins.add(pd.Series(points).groupby(players.to_numpy()).sum(), fill_value=0.0)
            games = games.add(players.value_counts(), fill_value=0.0)
        quality = (wins / games.where(games > 0)).reindex(models).to_numpy()
    quality = np.where(np.isnan(quality), -np.inf, quality)
    order = np.argsort(-quality, kind="stable")
    return models[int(order[0])], models[int(order[-1])]


def _oriented(prefs: pd.DataFrame, strong: str, weak: str) -> pd.DataFrame:
    """Preference rows of the pair as ``query_id, winner`` with winner in strong/tie/weak."""
    forward = (prefs["model_a"] == strong) & (prefs["model_b"] == weak)
    backward = (prefs["model_a"] == weak) & (prefs["model_b"] == strong)
    rows = prefs[forward | backward]
    a_is_strong = (rows["model_a"] == strong).to_numpy()
    w = rows["winner"].to_numpy()
    winner = np.where(w == "tie", "tie", np.where((w == "a") == a_is_strong, "strong", "weak"))
    weight = rows["weight"].fillna(1.0).to_numpy(dtype=float) if "weight" in rows.columns else np.ones(len(rows))
    return pd.DataFrame({"query_id": rows["query_id"].to_numpy(), "winner": winner, "weight": weight})


def pair_examples(data: Dataset, strong: str, weak: str) -> pd.DataFrame:
    """Training rows ``query, label, gap, weight`` for the (strong, weak) pair.

    Battles are the dataset's preferences, else pairs derived from its outcomes (the
    rule every pairwise router shares, :func:`dataset_preferences`), restricted to the
    pair in either orientation. ``label`` is 0 = strong wins, 1 = tie, 2 = weak wins;
    ``weight`` is the preference table's ``weight`` column or 1; ``gap`` is strong's
    score minus weak's where outcomes have both (NaN otherwise: a preference carries
    no margin).
    """
    rows = _oriented(dataset_preferences(data), strong, weak)
    if rows.empty:
        raise DataError(f"dataset '{data.name}' has no battles between {strong!r} and {weak!r}")
    gap = np.full(len(rows), np.nan)
    if data.outcomes is not None:
        scores = data.outcomes.pivot_table(index="query_id", columns="model", values="score", aggfunc="mean")
        if strong in scores.columns and weak in scores.columns:
            gap = (scores[strong] - scores[weak]).reindex(rows["query_id"]).to_numpy(dtype=float)
    text = data.queries.set_index("query_id")["query"]
    return pd.DataFrame(
        {
            "query": text.reindex(rows["query_id"]).to_numpy(),
            "label": rows["winner"].map(_WINNER_LABEL).to_numpy(dtype=int),
            "gap": gap,
            "weight": rows["weight"].to_numpy(dtype=float),
        }
    )


def pair_quality(p_strong: np.ndarray, n_models: int, strong: int, weak: int) -> np.ndarray:
    """Q̂ whose win-prob pair score for (strong, weak) is exactly ``p_strong``.

    ``pair_score_from_quality`` returns σ(logit Q̂_s − logit Q̂_w). Setting
    Q̂_s = σ(logit(p)/2) and Q̂_w = 1 − Q̂_s makes that margin logit(p), so the pair
    score is p. Models outside the pair get 0.5: the classifier says nothing about them.
    """
    p = np.clip(np.asarray(p_strong, dtype=float), 1e-12, 1 - 1e-12)
    half = 1.0 / (1.0 + np.exp(-0.5 * np.log(p / (1 - p))))
    q = np.full((len(p), n_models), 0.5)
    q[:, strong] = half
    q[:, weak] = 1.0 - half
    return q


class PairClassifierRouter(Router):
    """Base of the RouteLLM classifiers: trained for one (strong, weak) pair of the pool.

    ``models_`` is the whole pool so the router fits any policy, but Q̂ is only
    meaningful for the pair: ``Q̂[:, strong] = σ(logit(p)/2)``, ``Q̂[:, weak] = 1 − Q̂[:, strong]``
    and 0.5 elsewhere, where p = P(strong wins) from the classifier (see
    :func:`pair_quality`). Subclasses implement ``_train(examples)`` and
    ``_p_strong(texts)`` and their own weight state.
    """

    quality_kind = "win_prob"
    learns_from = ("preferences", "outcomes")
    state_schema: dict = {}  # weights travel as safetensors blobs, not arrays

    def _fit(self, data: Dataset) -> None:
        models = data.models
        strong, weak = default_pair(data)
        strong = self.strong if self.strong is not None else strong  # type: ignore[attr-defined]
        weak = self.weak if self.weak is not None else weak  # type: ignore[attr-defined]
        for model in (strong, weak):
            if model not in models:
                raise UnknownModelError(
                    f"{type(self).__name__}: model {model!r} is not in dataset '{data.name}' ({', '.join(models)})"
                )
        if strong == weak:
            raise DataError(f"{type(self).__name__}: strong and weak are the same model ({strong!r})")
        examples = pair_examples(data, strong, weak)
        limit = self.max_train_pairs  # type: ignore[attr-defined]
        if limit is not None and len(examples) > limit:
            keep = np.sort(np.random.default_rng(self.random_state).choice(len(examples), int(limit), replace=False))  # type: ignore[attr-defined]
            examples = examples.iloc[keep].reset_index(drop=True)
        self._train(examples)
        self.models_, self.strong_, self.weak_ = models, strong, weak

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        p = self._p_strong(queries["query"].tolist())
        return pair_quality(p, len(self.models_), self.models_.index(self.strong_), self.models_.index(self.weak_))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return {**state, "strong_": self.strong_, "weak_": self.weak_}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.strong_, self.weak_ = state["strong_"], state["weak_"]

    def _train(self, examples: pd.DataFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _p_strong(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError
