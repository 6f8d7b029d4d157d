"""Read a table file as a stream of pandas frames, so inputs larger than RAM never load whole.

Parquet streams by record batches (``pyarrow.parquet.ParquetFile.iter_batches``),
JSONL and CSV by pandas' ``chunksize`` readers; a directory is its ``*.parquet``
files in name order. Peak memory is one batch, whatever the file size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from .._errors import DataError

DEFAULT_BATCH_ROWS = 16_384
SUFFIXES = (".parquet", ".jsonl", ".csv")


def table_files(path: str | Path) -> list[Path]:
    """The files a path stands for: itself, or a directory's Parquet parts in name order."""
    p = Path(path)
    if p.is_dir():
        parts = sorted(p.glob("*.parquet"))
        if not parts:
            raise DataError("directory holds no *.parquet files", path=str(p))
        return parts
    if not p.is_file():
        raise DataError("no such file or directory", path=str(p))
    if p.suffix.lower() not in SUFFIXES:
        raise DataError(f"cannot stream a '{p.suffix}' file; use one of {', '.join(SUFFIXES)}", path=str(p))
    return [p]


def iter_frames(
    path: str | Path, batch_rows: int = DEFAULT_BATCH_ROWS, columns: Sequence[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Frames of exactly ``batch_rows`` rows (the last may be shorter), in file order.

    Boundaries fall at multiples of ``batch_rows`` whatever the files' row groups, so
    every engine hands a router the same batches (floating-point results of a batched
    matmul can differ in the last bit between batch shapes). ``columns`` must all exist.
    """
    if batch_rows < 1:
        raise DataError(f"batch_rows must be ≥ 1, got {batch_rows}", field="batch_rows")
    cols = list(columns) if columns else None
    parts = (frame for f in table_files(path) for frame in _iter_file(f, batch_rows, cols))
    yield from rebatch(parts, batch_rows)


def rebatch(frames: Iterator[pd.DataFrame], batch_rows: int) -> Iterator[pd.DataFrame]:
    """Re-cut a stream of frames into frames of exactly ``batch_rows`` rows (last one shorter)."""
    held: list[pd.DataFrame] = []
    n = 0
    for frame in frames:
        held.append(frame)
        n += len(frame)
        while n >= batch_rows:
            block = pd.concat(held, ignore_index=True) if len(held) > 1 else held[0].reset_index(drop=True)
            yield block.iloc[:batch_rows].reset_index(drop=True)
            rest = block.iloc[batch_rows:]
            held, n = ([rest] if len(rest) else []), len(rest)
    if n:
        yield pd.concat(held, ignore_index=True) if len(held) > 1 else held[0].reset_index(drop=True)


def _iter_file(f: Path, batch_rows: int, columns: list[str] | None) -> Iterator[pd.DataFrame]:
    suffix = f.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(f)
            _check_columns(f, pf.schema_arrow.names, columns)
            for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
                yield batch.to_pandas()
            return
        reader = (
            pd.read_json(f, lines=True, chunksize=batch_rows, dtype=False)
            if suffix == ".jsonl"
            else pd.read_csv(f, chunksize=batch_rows, keep_default_na=False, dtype=str)
        )
        with reader:
            for chunk in reader:
                _check_columns(f, list(chunk.columns), columns)
                yield chunk[columns] if columns else chunk
    except DataError:
        raise
    except (OSError, ValueError) as exc:  # pyarrow/pandas parse errors
        raise DataError(f"cannot read: {str(exc).splitlines()[0]}", path=str(f)) from None


def _check_columns(f: Path, have: Sequence[str], want: list[str] | None) -> None:
    missing = [c for c in (want or []) if c not in have]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)} (has: {', '.join(have)})", path=str(f))
