"""CausalLLMRouter (RouteLLM's causal-LLM classifier) on a tiny random Llama built in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routecraft._errors import ArtifactError, RoutecraftError
from routecraft.artifact import load_router
from routecraft.data._dataset import Dataset
from routecraft.routers import check_router, conformance_dataset
from routecraft.routers._causal_llm import CausalLLMRouter, score_labels
from routecraft.routers._torch import STRONG_WINS, TIE, WEAK_WINS, torch_threads

MATH_PROBES = ["Solve for x: 11x + 4 = 90.", "What is 13 times 8 plus 2?", "Compute the integral of x^5 from 0 to 9."]
CHAT_PROBES = ["Say hello to my friend number 77.", "Give me a short greeting for day 31.", "What's a nice name for a cat, option 4?"]
# settings under which the tiny random model fits the training signal in about a second
FAST = dict(epochs=6, lr=1e-2, batch_size=16)


def build_tiny_llama(directory: Path) -> Path:
    """A randomly initialised 2-layer Llama (hidden 64) and a 400-token byte-level BPE."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(conformance_dataset().texts + CHAT_PROBES + MATH_PROBES, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Path:
    pytest.importorskip("peft")
    with torch_threads(1):
        yield build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


def test_score_labels_follow_the_documented_table():
    examples = pd.DataFrame(
        {
            "label": [WEAK_WINS, TIE, STRONG_WINS, STRONG_WINS, STRONG_WINS, STRONG_WINS],
            "gap": [-1.0, 0.0, 0.2, 0.5, 1.0, np.nan],
        }
    )
    assert score_labels(examples).tolist() == [4, 3, 2, 1, 0, 0]  # token indices of [[5]] [[4]] [[3]] [[2]] [[1]] [[1]]


def test_model_path_is_required(conformance_data):
    pytest.importorskip("peft")
    with pytest.raises(RoutecraftError, match="needs model_path"):
        CausalLLMRouter().fit(conformance_data)


@pytest.mark.ml
def test_causal_llm_router_passes_conformance(tiny_llama):
    check_router(CausalLLMRouter(str(tiny_llama), max_train_pairs=32))


def clean_signal_dataset() -> Dataset:
    """Conformance queries where the weak model fails exactly the math and code ones."""
    queries = conformance_dataset(n_per_topic=40).queries
    weak_ok = (queries["task"] == "chat").to_numpy(dtype=float)
    outcomes = pd.DataFrame(
        {
            "query_id": np.repeat(queries["query_id"].to_numpy(), 2),
            "model": ["strong-model", "weak-model"] * len(queries),
            "score": np.column_stack([np.ones(len(queries)), weak_ok]).ravel(),
        }
    )
    return Dataset(queries, outcomes, meta={"name": "clean-signal"})


@pytest.mark.ml
def test_causal_llm_router_learns_topic_signal(tiny_llama):
    # A random 2-layer LM has no language knowledge to generalise with, so the check is
    # that it fits the signal of its training queries, not held-out ones (BERT's test does that).
    data = clean_signal_dataset()
    router = CausalLLMRouter(str(tiny_llama), **FAST).fit(data)
    assert router.train_loss_[-1] < router.train_loss_[0]
    p = router.pair_score(data, "strong-model", "weak-model")
    task = data.queries["task"].to_numpy()
    assert p[task == "math"].mean() > p[task == "chat"].mean() + 0.3
    dist = router.score_distribution(MATH_PROBES)
    assert np.allclose(dist.sum(axis=1), 1.0)
    p_probe = router.pair_score(MATH_PROBES, "strong-model", "weak-model")
    assert np.allclose(p_probe, 1.0 - dist[:, 3:].sum(axis=1), atol=1e-9)  # P(strong) = 1 - P([[4]]) - P([[5]])


@pytest.mark.ml
def test_adapter_artifact_checks_its_base_model(tiny_llama, tmp_path, conformance_data):
    base = shutil.copytree(tiny_llama, tmp_path / "base")
    router = CausalLLMRouter(str(base), max_train_pairs=16).fit(conformance_data)
    adapter_only = router.save(str(tmp_path / "adapter.routecraft"))
    embedded = CausalLLMRouter(str(base), max_train_pairs=16, embed_base_weights=True).fit(conformance_data)
    full = embedded.save(str(tmp_path / "full.routecraft"))
    expected = router.predict_quality(MATH_PROBES)

    assert np.array_equal(load_router(adapter_only).predict_quality(MATH_PROBES), expected)
    weights = base / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")  # a different base model
    with pytest.raises(ArtifactError, match="differ"):
        load_router(adapter_only)
    shutil.rmtree(base)
    with pytest.raises(ArtifactError, match="not found"):
        load_router(adapter_only)
    assert np.array_equal(load_router(full).predict_quality(MATH_PROBES), expected)
