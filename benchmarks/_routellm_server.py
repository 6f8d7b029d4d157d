"""Runs RouteLLM 0.2.0's own OpenAI-compatible server on 127.0.0.1, offline; started by ``server.py``.

Runs in RouteLLM's venv (``/work/bench-venv``, plus ``fastapi uvicorn shortuuid pyyaml
wordllama``) and imports nothing from routecraft. Its ``SWRankingRouter`` is built
from local battle/embedding parquet directories, and its OpenAI embeddings client is
replaced by WordLlama (the same 256-d model routecraft uses by default), which embeds
each request's prompt locally, so both servers pay for a local embedding per request.

RouteLLM's ``__main__`` binds 0.0.0.0; this driver serves its ``app`` on 127.0.0.1 only.
Usage: ``python _routellm_server.py --port P --data DIR --strong S --weak W --base-url URL``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("OPENAI_API_KEY", "sk-offline-benchmark")  # RouteLLM builds an OpenAI client at import
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TQDM_DISABLE", "1")


class WordLlamaEmbeddings:
    """Stands in for ``OpenAI().embeddings``: WordLlama l2_supercat 256-d, built from its wheel's files."""

    def __init__(self) -> None:
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer

        pkg = Path(wordllama.__file__).parent
        with safe_open(str(pkg / "weights/l2_supercat_256.safetensors"), framework="np") as f:
            matrix = f.get_tensor("embedding.weight")
        self.model = wordllama.WordLlamaInference(matrix, Tokenizer.from_file(str(pkg / "tokenizers/l2_supercat_tokenizer_config.json")))

    def create(self, input, model):  # noqa: A002 - OpenAI's parameter name
        vecs = self.model.embed(list(input), norm=True)
        return SimpleNamespace(data=[SimpleNamespace(embedding=v.tolist()) for v in vecs])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data", required=True, help="directory with battles/ and embeddings/ parquet folders")
    p.add_argument("--strong", required=True)
    p.add_argument("--weak", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--battle-strong", required=True, help="the strong model's name in the battles")
    p.add_argument("--battle-weak", required=True)
    a = p.parse_args()
    import uvicorn
    import yaml

    cfg = Path(tempfile.mkdtemp()) / "config.yaml"
    cfg.write_text(yaml.safe_dump({"sw_ranking": {
        "arena_battle_datasets": [str(Path(a.data) / "battles")],
        "arena_embedding_datasets": [str(Path(a.data) / "embeddings")],
        "num_tiers": 10,
        "strong_model": a.battle_strong,
        "weak_model": a.battle_weak,
    }}))
    os.environ["HF_DATASETS_CACHE"] = str(cfg.parent / "hf-cache")
    # openai_server parses sys.argv at import time
    sys.argv = ["routellm.openai_server", "--routers", "sw_ranking", "--config", str(cfg),
                "--strong-model", f"openai/{a.strong}", "--weak-model", f"openai/{a.weak}",
                "--base-url", a.base_url, "--api-key", "sk-stub"]
    from routellm import openai_server
    from routellm.routers import routers

    routers.OPENAI_CLIENT = SimpleNamespace(embeddings=WordLlamaEmbeddings())
    uvicorn.run(openai_server.app, host="127.0.0.1", port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
