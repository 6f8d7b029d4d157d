"""RouteLLM's causal-LLM router: a LoRA-tuned causal LM that emits a score token [[1]]…[[5]].

The LM reads an instruction prompt with the query and predicts, as its next token,
how well the *weak* model would answer: ``[[5]]`` as well as the strong model,
``[[1]]`` far worse. Routing uses RouteLLM's rule P(weak ok) = Σ_{s≥4} softmax_s over
the five score tokens' logits, P(strong) = 1 − P(weak ok). Reading the distribution
over the five tokens (rather than sampling text) means an "invalid output" cannot
happen; RouteLLM's fall-back to strong is therefore not needed.

Labels (1–5) come from the pair's comparison, standing in for RouteLLM's judge scores:

==========================================  =====
the pair's outcome on the query             label
==========================================  =====
weak wins                                   5
tie                                         4
strong wins, score gap < 1/3                3
strong wins, score gap in [1/3, 2/3)        2
strong wins, gap ≥ 2/3, or a preference     1
  (a preference row carries no gap)
==========================================  =====

so "weak ok" (label ≥ 4) means exactly "strong does not win", the same event the BERT
router's P(strong) estimates. See ``docs/causal-llm-router.md`` for running it on a
real local model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ArtifactError, RoutecraftError, require
from .._hf import quiet_transformers
from ._constraints import positive_int, positive_real, seed
from ._torch import (
    TIE,
    WEAK_WINS,
    PairClassifierRouter,
    bytes_to_tensors,
    directory_blobs,
    materialise_blobs,
    ml_modules,
    pad_batch,
    predict_by_length,
    seeded,
    tensors_to_bytes,
    train_epochs,
    weights_fingerprint,
)

SCORE_TOKENS = ("[[1]]", "[[2]]", "[[3]]", "[[4]]", "[[5]]")
WEAK_OK_FROM = 3  # index of [[4]]: P(weak ok) = p([[4]]) + p([[5]])
PROMPT_PREFIX = (
    "You are a router. Rate how well a small, inexpensive assistant would answer the user "
    "query below compared with a strong, expensive one, from 1 (much worse: use the "
    "strong model) to 5 (just as well).\n\nQuery: "
)
PROMPT_SUFFIX = "\n\nRating:"
_BASE = "base/"
_ADAPTER, _SCORE_ROWS = "adapter.safetensors", "score_tokens.safetensors"


def score_labels(examples: pd.DataFrame) -> np.ndarray:
    """Index 0–4 of the target score token for each example (table in the module docstring)."""
    label, gap = examples["label"].to_numpy(), examples["gap"].to_numpy(dtype=float)
    strong_wins = np.where(np.isnan(gap) | (gap >= 2 / 3), 0, np.where(gap >= 1 / 3, 1, 2))
    return np.where(label == WEAK_WINS, 4, np.where(label == TIE, 3, strong_wins))


class CausalLLMRouter(PairClassifierRouter):
    """LoRA-fine-tuned causal LM scoring the weak model on [[1]]…[[5]] (RouteLLM "causal_llm").

    Parameters
    ----------
    model_path:
        Local directory of any Hugging Face causal LM (e.g. a downloaded Llama or Qwen).
        Required: routecraft never downloads weights.
    lora_r, lora_alpha, target_modules:
        LoRA rank, scale and the module names it adapts.
    epochs, lr, batch_size:
        Fine-tuning schedule (AdamW on the LoRA weights only).
    max_length:
        Tokens of the query kept (the instruction around it is never truncated).
    random_state:
        Seeds LoRA initialisation, shuffling and ``max_train_pairs`` sampling.
    device, dtype:
        torch device and parameter dtype (``"float32"``; ``"bfloat16"`` on a GPU).
    max_train_pairs:
        Train on at most this many labelled pairs.
    strong, weak:
        The pair; ``None`` picks the best and worst model of the training data.
    embed_base_weights:
        Store the base model itself in the artifact (for small models). Otherwise the
        artifact stores the adapter, the base model's path and a sha256 of its weights,
        and loading refuses a base whose weights changed.
    """

    _parameter_constraints = {
        "model_path": [str, None], "lora_r": positive_int, "lora_alpha": positive_int,
        "target_modules": [list, tuple], "epochs": positive_int, "lr": positive_real,
        "batch_size": positive_int, "max_length": positive_int, "random_state": seed, "device": [str],
        "dtype": [str], "max_train_pairs": positive_int + [None], "strong": [str, None],
        "weak": [str, None], "embed_base_weights": ["boolean"],
    }

    def __init__(
        self,
        model_path: str | None = None,
        lora_r: int = 8,
        lora_alpha: int = 16,
        target_modules: tuple[str, ...] = ("q_proj", "v_proj"),
        epochs: int = 1,
        lr: float = 1e-4,
        batch_size: int = 8,
        max_length: int = 256,
        random_state: int = 0,
        device: str = "cpu",
        dtype: str = "float32",
        max_train_pairs: int | None = None,
        strong: str | None = None,
        weak: str | None = None,
        embed_base_weights: bool = False,
    ) -> None:
        self.model_path = model_path
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.target_modules = target_modules
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.max_train_pairs = max_train_pairs
        self.strong = strong
        self.weak = weak
        self.embed_base_weights = embed_base_weights

    # ------------------------------------------------------------------ build
    def _build(self, base_dir: Path, score_rows: dict[str, Any] | None) -> None:
        """Base LM + score tokens + LoRA.

        The score tokens' embedding rows start as those of the digits 1–5 (a meaningful
        start for a pretrained LM) unless ``score_rows`` restores trained ones. Their
        five LM-head rows become ``score_head_``, trained along with LoRA: with the head
        frozen, a small model's logits are too tightly bounded to separate the scores.
        """
        torch, transformers = ml_modules()
        peft = require("peft", "ml")
        with quiet_transformers():
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(base_dir))
            model = transformers.AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=getattr(torch, self.dtype))
        tokenizer.add_special_tokens({"additional_special_tokens": list(SCORE_TOKENS)})
        ids = tokenizer.convert_tokens_to_ids(list(SCORE_TOKENS))
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        tables = {"input": model.get_input_embeddings().weight, "output": model.get_output_embeddings().weight}
        with torch.no_grad():
            for kind, table in tables.items():
                if score_rows is not None:
                    table[ids] = score_rows[kind].to(table.dtype)
                else:
                    for k, token_id in enumerate(ids):
                        digits = tokenizer.encode(str(k + 1), add_special_tokens=False)
                        table[token_id] = table[digits].mean(dim=0)
        config = peft.LoraConfig(
            r=self.lora_r, lora_alpha=self.lora_alpha, target_modules=list(self.target_modules),
            lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
        )
        self.model_ = peft.get_peft_model(model, config).to(self.device)
        self.tokenizer_, self.score_ids_ = tokenizer, list(ids)
        head = self.model_.get_output_embeddings().weight
        self.score_head_ = torch.nn.Parameter(head[ids].detach().clone())

    def _sequences(self, texts: list[str]) -> list[list[int]]:
        """Token ids of the prompt for each query; only the query part is truncated."""
        tok = self.tokenizer_
        prefix = tok.encode(PROMPT_PREFIX, add_special_tokens=False)
        suffix = tok.encode(PROMPT_SUFFIX, add_special_tokens=False)
        bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
        return [
            bos + prefix + tok.encode(t, add_special_tokens=False)[: self.max_length] + suffix for t in texts
        ]

    def _score_logits(self, input_ids: Any, attention_mask: Any) -> Any:
        """Next-token logits of the five score tokens at each sequence's last real token.

        Runs the decoder and only the five score rows of the LM head (``score_head_``),
        so a 128k-token vocabulary costs nothing here.
        """
        torch, _ = ml_modules()
        base = self.model_.get_base_model()
        hidden = base.get_decoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        last = hidden[torch.arange(hidden.shape[0], device=hidden.device), attention_mask.sum(dim=1) - 1]
        head = base.get_output_embeddings()
        logits = last @ self.score_head_.T
        if getattr(head, "bias", None) is not None:
            logits = logits + head.bias[self.score_ids_]
        return logits.float()

    # ------------------------------------------------------------------ train
    def _train(self, examples: pd.DataFrame) -> None:
        torch, _ = ml_modules()
        if self.model_path is None or not Path(self.model_path).is_dir():
            raise RoutecraftError(
                f"CausalLLMRouter needs model_path: a local directory of a Hugging Face causal LM "
                f"(got {self.model_path!r}); see docs/causal-llm-router.md"
            )
        base_dir = Path(self.model_path).resolve()
        self.base_fingerprint_ = weights_fingerprint(base_dir)
        self.base_model_path_ = str(base_dir)
        with seeded(self.random_state):
            self._build(base_dir, None)
            self.model_.train()
            sequences = self._sequences(examples["query"].tolist())
            targets = torch.tensor(score_labels(examples), dtype=torch.long, device=self.device)
            weights = torch.tensor(examples["weight"].to_numpy(), dtype=torch.float32, device=self.device)

            def step_loss(idx: np.ndarray) -> Any:
                ids, mask = pad_batch([sequences[i] for i in idx])
                logits = self._score_logits(ids.to(self.device), mask.to(self.device))
                losses = torch.nn.functional.cross_entropy(logits, targets[idx], reduction="none")
                return (losses * weights[idx]).sum() / weights[idx].sum()

            trainable = [p for p in self.model_.parameters() if p.requires_grad] + [self.score_head_]
            self.train_loss_ = train_epochs(
                trainable, len(examples), step_loss,
                epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.random_state,
            )
        with torch.no_grad():  # the LM head agrees with the router, e.g. for generate()
            self.model_.get_output_embeddings().weight[self.score_ids_] = self.score_head_
        self.model_.eval()

    # ---------------------------------------------------------------- predict
    def score_distribution(self, texts: list[str]) -> np.ndarray:
        """P([[1]]) … P([[5]]) for each query: the model's belief about the weak model's score."""
        self._check_fitted()
        torch, _ = ml_modules()

        def forward(input_ids: Any) -> np.ndarray:
            ids = input_ids.to(self.device)
            logits = self._score_logits(ids, torch.ones_like(ids))
            return torch.softmax(logits.double(), dim=-1).cpu().numpy()

        return predict_by_length(self._sequences(list(texts)), forward, max(self.batch_size, 16))

    def _p_strong(self, texts: list[str]) -> np.ndarray:
        return 1.0 - self.score_distribution(texts)[:, WEAK_OK_FROM:].sum(axis=1)

    # ------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        peft = require("peft", "ml")
        state, arrays = super()._get_state()
        embeddings = {
            "input": self.model_.get_input_embeddings().weight[self.score_ids_],
            "output": self.model_.get_output_embeddings().weight[self.score_ids_],
        }
        blobs = {
            _ADAPTER: tensors_to_bytes(peft.get_peft_model_state_dict(self.model_, save_embedding_layers=False)),
            _SCORE_ROWS: tensors_to_bytes(embeddings),
        }
        if self.embed_base_weights:
            blobs.update(directory_blobs(self.base_model_path_, prefix=_BASE))
        extra = {
            "base_model_path_": self.base_model_path_,
            "base_fingerprint_": self.base_fingerprint_,
            "score_ids_": self.score_ids_,
            "train_loss_": list(self.train_loss_),
        }
        return {**state, **extra, "__blobs__": blobs}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        peft = require("peft", "ml")
        blobs = state["__blobs__"]
        with tempfile.TemporaryDirectory() as tmp:
            if any(name.startswith(_BASE) for name in blobs):
                base_dir = materialise_blobs(blobs, tmp, prefix=_BASE)
            else:
                base_dir = Path(state["base_model_path_"])
                if not base_dir.is_dir():
                    raise ArtifactError(
                        f"base model directory {str(base_dir)!r} not found; this artifact holds only the "
                        "LoRA adapter (save with embed_base_weights=True to include the base model)"
                    )
            if weights_fingerprint(base_dir) != state["base_fingerprint_"]:
                raise ArtifactError(
                    f"base model weights in {str(base_dir)!r} differ from those the adapter was trained on"
                )
            self._build(base_dir, bytes_to_tensors(blobs[_SCORE_ROWS]))
        if self.score_ids_ != list(state["score_ids_"]):
            raise ArtifactError("score tokens got different ids than at training time (tokenizer changed)")
        peft.set_peft_model_state_dict(self.model_, bytes_to_tensors(blobs[_ADAPTER]))
        self.model_.eval()
        self.base_model_path_, self.base_fingerprint_ = str(state["base_model_path_"]), state["base_fingerprint_"]
        self.train_loss_ = list(state["train_loss_"])
