"""Regenerate src/routecraft/data/prices/prices.json from the shared upstream price tables.

Usage: python scripts/build_prices.py [SHARED_DATA_DIR] [LITELLM_PRICES_JSON]
(defaults: /work/shared/data; the MMLU-Pro entries need the LiteLLM price file named in SOURCES)

Merges RouterArena's ``model_cost/cost.json`` (Apache-2.0) and LLMRouter's
``default_llm.json`` (MIT) and adds RouteLLM's weak model, keeping each entry's source.
When a model name occurs in both tables the RouterArena entry wins (it is the one the
RouterArena costs were computed with); LLMRouter's numeric price fields are used, not
the prices quoted in its free-text ``feature`` field, which sometimes disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "routecraft" / "data" / "prices" / "prices.json"
SOURCES = {
    "routerarena": {
        "repository": "https://github.com/RouteWorks/RouterArena",
        "commit": "4714a9ad73e897a1241e73a86c9297fed2e871d8",
        "path": "model_cost/cost.json",
        "license": "Apache-2.0",
    },
    "llmrouter": {
        "repository": "https://github.com/ulab-uiuc/LLMRouter",
        "commit": "4e7a796942ce26e9d5f2b93191c7c2585c99c2e3",
        "path": "data/example_data/llm_candidates/default_llm.json",
        "license": "MIT",
        "note": "NVIDIA NIM prices; the numeric input_price/output_price fields are used",
    },
    "routellm-assumed": {
        "repository": "https://github.com/lm-sys/RouteLLM",
        "license": "Apache-2.0",
        "note": (
            "RouteLLM publishes no prices. mistralai/Mixtral-8x7B-Instruct-v0.1 is priced at a typical "
            "hosted rate of $0.6/$0.6 per Mtok: the same value as LLMRouter's NVIDIA NIM entry "
            "mixtral-8x7b-instruct-v0.1 and RouterArena's open-mixtral-8x7b. gpt-4-1106-preview "
            "($10/$30, OpenAI's published price) comes from the RouterArena table."
        ),
    },
    "litellm": {
        "repository": "https://github.com/RoCry/llm-api-price",
        "commit": "8442b939a6ead479f7995b5d74d8dce488bd0966",
        "path": "model_prices_and_context_window.json",
        "license": "MIT (a mirror of BerriAI/litellm's price file)",
        "note": (
            "Hosted providers' public list prices as collected by LiteLLM; each entry names the provider key "
            "it was read from (input_cost_per_token/output_cost_per_token x 1e6)"
        ),
    },
    "google-list": {
        "note": (
            "Google's published Gemini 1.5 list price for prompts up to 128k tokens (the 2024-10 MMLU-Pro runs): "
            "flash $0.075/$0.30, pro $1.25/$5.00 per Mtok. The stored LiteLLM mirror has the same input price "
            "for gemini/gemini-1.5-flash but no output price, so it is not cited as the source"
        ),
    },
    "param-rule": {
        "note": (
            "No hosted list price found for this exact model: priced by parameter count with the size tiers "
            "of Fireworks AI's serverless price list in the LiteLLM file (docs/prices.md)"
        ),
    },
}

# MMLU-Pro's runs (model name in the data -> (provider key in the LiteLLM file, or None for the rule)).
# Fireworks AI is preferred: one provider whose serverless tiers price most of these open models;
# first-party hosting (Microsoft, AI21, Cohere via Bedrock, DeepSeek) where Fireworks has no such entry.
MMLU_PRO_LITELLM = {
    "DeepSeek-Coder-V2": "deepseek/deepseek-coder",
    "Llama-2-7b-hf": "fireworks_ai/accounts/fireworks/models/llama-v2-7b",
    "Llama-2-13b-hf": "fireworks_ai/accounts/fireworks/models/llama-v2-13b",
    # Fireworks' base llama-v2-70b entry says $0.1, below its own 7B tier; the 70B chat entry is used
    "Llama-2-70b-hf": "fireworks_ai/accounts/fireworks/models/llama-v2-70b-chat",
    "Meta-Llama-3-8B": "fireworks_ai/accounts/fireworks/models/llama-v3-8b",
    "Meta-Llama-3-70B": "fireworks_ai/accounts/fireworks/models/llama-v3-70b-instruct",
    "Meta-Llama-3_1-8B": "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct",
    "Meta-Llama-3_1-8B-Instruct": "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct",
    "Meta-Llama-3_1-70B": "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct",
    "Meta-Llama-3_1-70B-Instruct": "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct",
    "Mistral-7B-Instruct-v0.1": "fireworks_ai/accounts/fireworks/models/mistral-7b-instruct-4k",
    "Mistral-7B-Instruct-v0.2": "fireworks_ai/accounts/fireworks/models/mistral-7b-instruct-v0p2",
    "Mistral-7B-v0.1": "fireworks_ai/accounts/fireworks/models/mistral-7b",
    "Mistral-7B-v0.2-hf": "fireworks_ai/accounts/fireworks/models/mistral-7b-v0p2",
    "Mixtral-8x7B-v0.1": "fireworks_ai/accounts/fireworks/models/mixtral-8x7b",
    "Phi-3-mini-4k-instruct": "azure_ai/Phi-3-mini-4k-instruct",
    "Qwen1.5-72B-Chat": "fireworks_ai/accounts/fireworks/models/qwen1p5-72b-chat",
    "Yi-34B": "fireworks_ai/accounts/fireworks/models/yi-34b",
    "Yi-6B": "fireworks_ai/accounts/fireworks/models/yi-6b",
    "c4ai-command-r-v01": "cohere.command-r-v1:0",
    "gemma-7b": "fireworks_ai/accounts/fireworks/models/gemma-7b",
    "jamba-1.5-large": "jamba-1.5-large",
}
# Open models without a hosted list price: billions of parameters for the rule.
MMLU_PRO_PARAMS = {"Qwen1.5-110B": 111.0, "Qwen1.5-7B-Chat": 7.7, "Yi-6b-Chat": 6.1, "mathstral-7B": 7.2}
GOOGLE_LIST = {"gemini-1.5-flash-002": (0.075, 0.30), "gemini-1.5-pro-002": (1.25, 5.00)}


def param_rule(billions: float) -> float:
    """USD per Mtok (in = out) from a dense model's size: Fireworks AI's serverless tiers.

    Up to 4B $0.10, 4-16B $0.20, above 16B $0.90 (the tiers its per-model entries follow, e.g.
    gemma-2b-it 0.1, yi-6b 0.2, yi-34b 0.9, qwen1p5-72b-chat 0.9, llama-v3p1-70b-instruct 0.9).
    """
    return 0.1 if billions <= 4 else 0.2 if billions <= 16 else 0.9


def mmlu_pro_entries(litellm_file: Path) -> list[dict]:
    prices = json.loads(litellm_file.read_text())
    out = []
    for model, key in MMLU_PRO_LITELLM.items():
        e = prices[key]
        out.append({
            "model": model,
            "price_in_per_mtok": round(float(e["input_cost_per_token"]) * 1e6, 6),
            "price_out_per_mtok": round(float(e["output_cost_per_token"]) * 1e6, 6),
            "source": "litellm",
            "entry": key,
        })
    for model, billions in MMLU_PRO_PARAMS.items():
        p = param_rule(billions)
        out.append({"model": model, "price_in_per_mtok": p, "price_out_per_mtok": p, "source": "param-rule",
                    "entry": f"{billions:g}B parameters"})
    for model, (pin, pout) in GOOGLE_LIST.items():
        out.append({"model": model, "price_in_per_mtok": pin, "price_out_per_mtok": pout, "source": "google-list"})
    return out


def build(shared: Path, litellm_file: Path | None = None) -> dict:
    models: list[dict] = []
    seen: set[str] = set()
    cost = json.loads((shared / "routerarena" / "model_cost" / "cost.json").read_text())
    for name, entry in cost.items():
        models.append(
            {
                "model": name,
                "price_in_per_mtok": float(entry["input_token_price_per_million"]),
                "price_out_per_mtok": float(entry["output_token_price_per_million"]),
                "source": "routerarena",
            }
        )
        seen.add(name)
    llm = json.loads(
        (shared / "llmrouter" / "data" / "example_data" / "llm_candidates" / "default_llm.json").read_text()
    )
    for name, entry in llm.items():
        if name in seen:
            continue
        models.append(
            {
                "model": name,
                "price_in_per_mtok": float(entry["input_price"]),
                "price_out_per_mtok": float(entry["output_price"]),
                "source": "llmrouter",
                "aliases": [entry["model"]],
            }
        )
        seen.add(name)
    models.append(
        {
            "model": "mistralai/Mixtral-8x7B-Instruct-v0.1",
            "price_in_per_mtok": 0.6,
            "price_out_per_mtok": 0.6,
            "source": "routellm-assumed",
        }
    )
    if litellm_file is not None:
        models += [e for e in mmlu_pro_entries(litellm_file) if e["model"] not in seen]
    return {"unit": "USD per 1M tokens", "sources": SOURCES, "models": models}


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    litellm = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    if litellm is None:
        print("note: no LiteLLM price file given; MMLU-Pro entries are left out")
    OUT.write_text(json.dumps(build(shared, litellm), indent=1) + "\n")
    print(f"wrote {OUT}")
