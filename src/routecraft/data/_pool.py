"""``pool.toml``: the models a deployment routes among, their prices and endpoints.

    [[models]]
    name = "gpt-4o-mini"
    price_in_per_mtok = 0.15       # USD per million input tokens   (optional: price table)
    price_out_per_mtok = 0.60      # USD per million output tokens  (optional: price table)
    expected_tokens_out = 180      # optional: overrides the learned output-length model
    base_url = "http://127.0.0.1:8000/v1"   # optional, for serving and generation
    api_key_env = "OPENAI_API_KEY"          # optional: name of the variable, never the key
    model = "gpt-4o-mini-2024-07-18"        # optional: the id sent upstream (routecraft generate)
    logprobs = false                        # optional: routecraft generate asks for log-probs

The same file feeds ``routecraft generate`` (``generate/_toml.py`` reads its endpoints and
its ``[[generators]]``), so the keys generation uses are accepted here too, not rejected
as unknown; only prices and ``expected_tokens_out`` matter for cost.

Prices resolve in this order: the pool file, the dataset's own pool (measured or shipped
with the data), the bundled price table (``prices/prices.json``). :func:`apply_pool` says
where every price came from and names the models left unpriced, so a cost-aware policy
never silently treats a model as free.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError
from ._dataset import Dataset
from ._prices import pool_for
from ._tables import validate_pool

FIELDS = {
    "name": str,
    "price_in_per_mtok": float,
    "price_out_per_mtok": float,
    "expected_tokens_out": float,
    "base_url": str,
    "api_key_env": str,
    "model": str,
    "logprobs": bool,
}
PRICE_FIELDS = ("price_in_per_mtok", "price_out_per_mtok")


def read_pool_file(path: str | Path) -> pd.DataFrame:
    """The ``[[models]]`` entries of a pool TOML file as a pool table (prices may be NaN = not given).

    Errors name the file, the entry (1-based) and the field.
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"invalid TOML: {exc}", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read file: {exc}", path=str(p)) from None
    entries = doc.get("models")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise DataError("a pool file needs at least one [[models]] table", path=str(p), field="models")
    rows = []
    for i, entry in enumerate(entries, start=1):
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise DataError(f"unknown key {unknown[0]!r} (allowed: {', '.join(FIELDS)})", path=str(p), row=i,
                            field=unknown[0])
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DataError("each [[models]] entry needs a non-empty name", path=str(p), row=i, field="name")
        row: dict[str, Any] = {"model": name.strip()}
        for key, kind in FIELDS.items():
            if key == "name" or key not in entry:
                continue
            value = entry[key]
            if kind is bool:
                if not isinstance(value, bool):
                    raise DataError(f"must be true or false, got {value!r}", path=str(p), row=i, field=key)
                continue  # generation's switch: no column in the pool table
            if kind is float:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                    raise DataError(f"must be a number >= 0, got {value!r}", path=str(p), row=i, field=key)
                row[key] = float(value)
            elif not isinstance(value, str) or not value.strip():
                raise DataError(f"must be a non-empty string, got {value!r}", path=str(p), row=i, field=key)
            else:
                row["upstream_model" if key == "model" else key] = value  # "model" is the table's name column
        rows.append(row)
    frame = pd.DataFrame(rows)
    for key in PRICE_FIELDS:
        if key not in frame.columns:
            frame[key] = np.nan
    dup = frame["model"].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0]) + 1
        raise DataError(f"model {frame['model'].iloc[i - 1]!r} listed twice", path=str(p), row=i, field="name")
    frame["source"] = f"pool-file:{p.name}"
    return frame


@dataclass
class PriceReport:
    """Where each model's price came from, and which models have none."""

    sources: dict[str, str] = field(default_factory=dict)
    unpriced: list[str] = field(default_factory=list)
    not_in_data: list[str] = field(default_factory=list)
    measured_only: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable lines for the CLI: one per price source, then a warning for unpriced models."""
        by_source: dict[str, list[str]] = {}
        for model, source in self.sources.items():
            family = ":".join(source.split(":")[:2])  # price-table:litellm, pool-file:pool.toml, data:NAME
            by_source.setdefault(family, []).append(model)
        out = [
            f"prices from {src}: {', '.join(ms) if len(ms) <= 6 else ', '.join(ms[:5]) + f' and {len(ms) - 5} more'}"
            for src, ms in sorted(by_source.items())
        ]
        if self.not_in_data:
            out.append(f"warning: pool models without data (left out): {', '.join(self.not_in_data)}")
        if self.measured_only:
            out.append(f"measured cost_usd only (no price) for: {', '.join(self.measured_only)}")
        rest = [m for m in self.unpriced if m not in self.measured_only]
        if rest:
            out.append(f"warning: no price for {', '.join(rest)} (add them to a --pool file)")
        return out


def _merge(high: pd.DataFrame, low: pd.DataFrame | None, models: list[str]) -> pd.DataFrame:
    """Per model and field, ``high``'s value unless it is missing, else ``low``'s.

    ``source`` follows the prices: ``high``'s when it gives any price for the model.
    """
    hi = high.set_index("model")
    lo = low.set_index("model") if low is not None else None
    columns = [c for c in dict.fromkeys([*hi.columns, *([] if lo is None else lo.columns)]) if c != "source"]
    rows = []
    for m in models:
        h = hi.loc[m] if m in hi.index else None
        l = lo.loc[m] if lo is not None and m in lo.index else None
        row: dict[str, Any] = {"model": m}
        for c in columns:
            hv = None if h is None else h.get(c)
            lv = None if l is None else l.get(c)
            row[c] = hv if hv is not None and not pd.isna(hv) else lv
        h_priced = h is not None and any(not pd.isna(h.get(k)) for k in PRICE_FIELDS if k in h.index)
        row["source"] = (h if h_priced or l is None else l).get("source") if (h is not None or l is not None) else None
        rows.append(row)
    return pd.DataFrame(rows)


def apply_pool(data: Dataset, pool: pd.DataFrame | None = None) -> tuple[Dataset, PriceReport]:
    """``data`` with a complete pool: the pool file (if any) over the data's pool over the price table.

    With a pool file, the dataset is restricted to the pool's models that it has data for
    (pool models without data are reported). Models with no price anywhere stay in the
    data, unpriced, and are named in the report.
    """
    report = PriceReport()
    models = data.models
    if pool is not None:
        report.not_in_data = [m for m in pool["model"] if m not in models]
        keep = [m for m in pool["model"] if m in models]
        if not keep:
            raise DataError(
                f"no model of the pool file is in dataset '{data.name}' (it has: {', '.join(models)})", field="name"
            )
        data = data.with_models(keep)
        models = keep
    merged = data.pool
    if merged is not None and "source" not in merged.columns:
        merged = merged.assign(source=f"data:{data.name}")
    if pool is not None:
        merged = _merge(pool, merged, models)
    missing = [m for m in models if merged is None or m not in set(merged["model"])
               or merged.set_index("model").loc[m, list(PRICE_FIELDS)].isna().any()]
    table = pool_for(missing)
    if table is not None:
        merged = table if merged is None else _merge(merged, table, models)
    if merged is not None:
        merged = merged[merged["model"].isin(models)]
        priced = merged.dropna(subset=list(PRICE_FIELDS))
        report.sources = {m: str(s) for m, s in zip(priced["model"], priced.get("source", ["data"] * len(priced)))}
        merged = priced.reset_index(drop=True)
    report.unpriced = [m for m in models if m not in report.sources]
    if data.outcomes is not None and "cost_usd" in data.outcomes.columns and report.unpriced:
        out = data.outcomes[data.outcomes["model"].isin(report.unpriced)]
        full = out.groupby("model")["cost_usd"].agg(lambda v: bool(v.notna().all()))
        report.measured_only = [m for m in report.unpriced if bool(full.get(m, False))]
    out = data._derive(pool=validate_pool(merged) if merged is not None and len(merged) else None)
    return out, report
