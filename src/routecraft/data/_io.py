"""File readers that turn parse failures into one-line :class:`DataError`s.

Used by the canonical ``Dataset.load`` and by every adapter, so a corrupt Parquet or
JSON file reads the same way wherever it comes from. Row numbers in messages are
1-based: the line number for JSONL, the record number (header excluded) for CSV,
Parquet and JSON lists.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import DataError


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_json(path: str | Path) -> Any:
    """Parse a JSON (or JSON.gz) file."""
    p = Path(path)
    try:
        with _open_text(p) as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read file: {exc}", path=str(p)) from None


def read_jsonl(path: str | Path) -> list[dict]:
    """Parse a JSONL file into a list of objects; blank lines are skipped, bad lines are errors."""
    p = Path(path)
    records = []
    try:
        with _open_text(p) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"invalid JSON: {exc.msg}", path=str(p), row=lineno) from None
                if not isinstance(obj, dict):
                    raise DataError(
                        f"expected a JSON object, got {type(obj).__name__}", path=str(p), row=lineno
                    )
                records.append(obj)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read file: {exc}", path=str(p)) from None
    return records


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV file as strings-or-numbers; parser failures name the file."""
    p = Path(path)
    try:
        return pd.read_csv(p, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(f"malformed CSV: {msg}", path=str(p)) from None
    except pd.errors.EmptyDataError:
        raise DataError("CSV file is empty", path=str(p)) from None


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file; pyarrow's many corrupt-file errors become one DataError."""
    p = Path(path)
    try:
        return pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for corrupt files
        raise DataError(f"cannot read Parquet file: {' '.join(str(exc).split())}", path=str(p)) from None


def read_records(path: str | Path) -> pd.DataFrame:
    """A tabular user file (.csv, .parquet, .jsonl or a .json list of objects) as a DataFrame.

    A file with no data rows is an error: nothing could be learned from it, and an
    empty dataset would only fail later with a less useful message.
    """
    frame = _read_records(Path(path))
    if len(frame) == 0:
        raise DataError("file has no data rows", path=str(path))
    return frame


def _read_records(path: Path) -> pd.DataFrame:
    p = path
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind == ".csv":
        return read_csv(p)
    if kind in (".parquet", ".pq"):
        return read_parquet(p)
    if kind == ".jsonl":
        return pd.DataFrame.from_records(read_jsonl(p))
    if kind == ".json":
        data = read_json(p)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DataError("expected a JSON list of objects", path=str(p))
        return pd.DataFrame.from_records(data)
    raise DataError(f"unsupported file type '{kind or p.name}' (use .csv, .parquet, .jsonl or .json)", path=str(p))
