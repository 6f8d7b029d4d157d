"""``pool.toml``: the models a deployment routes among, their prices and endpoints.

    [[models]]
    name = "gpt-4o-mini"
    price_in_per_mtok = 0.15       # USD per million input tokens   (optional: price table)
    price_out_per_mtok = 0.60      # USD per million output tokens  (optional: price table)
    expected_tokens_out = 180      # optional: overrides the learned output-length model
    base_url = "http://127.0.0.1:8000/v1"   # optional, for serving and generation
    api_key_env = "OPENAI_API_KEY"          # optional: name of the variable, never the key
    model = "gpt-4o-mini-2024-07-18"        # optional: the id sent upstream (default: name)
    logprobs = false                        # optional: routecraft generate asks for log-probs

An entry has one schema for every command (:mod:`routecraft._tomlconfig`): the same
``[[models]]`` tables feed ``routecraft generate`` (with its ``[[generators]]``) and the
server's ``server.toml``, so their keys (``logprobs``, ``timeout_s``, ``fallback``, …) are
accepted here and a misspelt key is rejected; only prices and ``expected_tokens_out``
matter for cost.

Prices resolve in this order: the pool file, the dataset's own pool (measured or shipped
with the data), the bundled price table (``prices/prices.json``). :func:`apply_pool` says
where every price came from and names the models left unpriced, so a cost-aware policy
never silently treats a model as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError
from .._tomlconfig import read_model_entries, read_toml
from ._dataset import Dataset
from ._prices import pool_for
from ._tables import validate_pool

PRICE_FIELDS = ("price_in_per_mtok", "price_out_per_mtok")
_OPTIONAL = ("expected_tokens_out", "base_url", "api_key_env")


def read_pool_file(path: str | Path) -> pd.DataFrame:
    """The ``[[models]]`` entries of a pool TOML file as a pool table (prices may be NaN = not given).

    The entry schema is the one every command shares (:mod:`routecraft._tomlconfig`); the
    table keeps what cost and serving need. Errors name the file and the entry's field.
    """
    p = str(path)
    entries = read_model_entries(read_toml(path), p, base_url_required=False)
    if not entries:
        raise DataError("a pool file needs at least one [[models]] table", path=p, field="models")
    rows: list[dict[str, Any]] = []
    for e in entries:
        row: dict[str, Any] = {"model": e.name}
        row.update({k: getattr(e, k) for k in (*PRICE_FIELDS, *_OPTIONAL) if getattr(e, k) is not None})
        if e.upstream_model != e.name:
            row["upstream_model"] = e.upstream_model
        rows.append(row)
    frame = pd.DataFrame(rows)
    for key in PRICE_FIELDS:
        if key not in frame.columns:
            frame[key] = np.nan
    frame["source"] = f"pool-file:{Path(path).name}"
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
