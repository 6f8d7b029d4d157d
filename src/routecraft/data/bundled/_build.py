"""Regenerate the bundled datasets from the shared upstream files.

Usage: python -m routecraft.data.bundled._build [SHARED_DATA_DIR]   (default: /work/shared/data)

GSM8K drops the model responses (they are 90% of its size); every table is rewritten
with zstd so the three datasets stay under 3 MB in the wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

from ..adapters import load_routellm
from . import ROOT

BENCHMARKS = ("gsm8k", "mmlu", "mtbench")


def build(shared: Path) -> None:
    for bench in BENCHMARKS:
        data = load_routellm(shared / "routellm", bench, answers=False)
        target = data.save(ROOT / f"routellm-{bench}")
        for table in target.glob("*.parquet"):
            pq.write_table(pq.read_table(table), table, compression="zstd", compression_level=19)
        size = sum(f.stat().st_size for f in target.iterdir())
        print(f"{target.name}: {len(data)} queries, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data"))
