"""Small real datasets shipped in the wheel, so examples and tests run offline.

RouteLLM's evaluation data for its two models (GSM8K, MMLU, MT-bench), stored as
canonical dataset directories; see ``LICENSE-NOTICE.md`` for attribution. Rebuild with
``python -m routecraft.data.bundled._build /path/to/shared/data``.
"""

from __future__ import annotations

from pathlib import Path

from ..._errors import DataError
from .._dataset import Dataset

ROOT = Path(__file__).parent


def bundled_names() -> list[str]:
    """Names accepted by :func:`bundled_dataset` (and by ``load_dataset('bundled:<name>')``)."""
    return sorted(p.name for p in ROOT.iterdir() if (p / "queries.parquet").is_file())


def bundled_dataset(name: str) -> Dataset:
    """Load a bundled dataset by name, e.g. ``routellm-gsm8k``."""
    names = bundled_names()
    if name not in names:
        raise DataError(f"unknown bundled dataset '{name}' (available: {', '.join(names) or 'none'})")
    return Dataset.load(ROOT / name)
