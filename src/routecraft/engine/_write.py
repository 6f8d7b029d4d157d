"""Write a stream of frames to one Parquet (a row group per frame) or JSONL file, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd

from .._errors import DataError

OUT_SUFFIXES = (".parquet", ".jsonl")


def write_frames(frames: Iterable[pd.DataFrame], out: str | Path) -> int:
    """Stream ``frames`` into ``out`` (``.parquet`` or ``.jsonl``); returns the row count.

    Writes to a temporary file beside ``out`` and renames it into place, so a killed
    run never leaves a truncated file under the final name.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUT_SUFFIXES:
        raise DataError(f"output must end in {' or '.join(OUT_SUFFIXES)}", path=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        n = _write_parquet(frames, tmp) if suffix == ".parquet" else _write_jsonl(frames, tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return n


def _write_parquet(frames: Iterable[pd.DataFrame], path: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, n = None, 0
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
            n += len(frame)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no input rows: still a valid, empty file
        pq.write_table(pa.table({}), path)
    return n


def _write_jsonl(frames: Iterable[pd.DataFrame], path: str) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for frame in frames:
            if len(frame):
                text = frame.to_json(orient="records", lines=True, force_ascii=False)
                f.write(text if text.endswith("\n") else text + "\n")
            n += len(frame)
    return n
