"""Regenerate src/routecraft/data/prices/prices.json from the shared upstream price tables.

Usage: python scripts/build_prices.py [SHARED_DATA_DIR]   (default: /work/shared/data)

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
}


def build(shared: Path) -> dict:
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
    return {"unit": "USD per 1M tokens", "sources": SOURCES, "models": models}


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    OUT.write_text(json.dumps(build(shared), indent=1) + "\n")
    print(f"wrote {OUT}")
