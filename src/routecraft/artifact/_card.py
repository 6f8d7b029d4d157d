"""Router cards: a short markdown description written beside each artifact (skops-style)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes


def card_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".md")


def render_card(manifest: dict[str, Any]) -> str:
    lines = [
        f"# Router card: {manifest['router_class']}",
        "",
        f"- routecraft {manifest['routecraft_version']}, artifact format v{manifest['format_version']}, "
        f"created {manifest['created']}",
        f"- quality scale: `{manifest['quality_kind']}`",
        f"- pool ({len(manifest['models'])}): " + ", ".join(f"`{m}`" for m in manifest["models"]),
    ]
    if manifest.get("embedder"):
        e = manifest["embedder"]
        lines.append(f"- embedder: `{e['name']}` (dim {e['dim']})")
    if manifest.get("training_data"):
        lines.append(
            f"- trained on {manifest.get('n_train_queries')} queries, data fingerprint "
            f"`{manifest['training_data'][:16]}`"
        )
    lines += ["", "## Parameters", "", "```json", json.dumps(manifest["params"], indent=2, sort_keys=True), "```"]
    if manifest.get("metrics"):
        lines += ["", "## Metrics at save time", "", "| metric | value |", "|---|---|"]
        for k, v in sorted(manifest["metrics"].items()):
            lines.append(f"| {k} | {v} |")
    lines += [
        "",
        "Load with `routecraft.load_router(path)`; loading never unpickles and checks every member's sha256.",
        "",
    ]
    return "\n".join(lines)


def write_card(manifest: dict[str, Any], artifact: Path) -> Path:
    target = card_path(artifact)
    atomic_write_bytes(target, render_card(manifest).encode())  # concurrent saves: one whole card wins
    return target
