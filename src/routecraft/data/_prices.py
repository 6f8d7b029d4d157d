"""The bundled price table (USD per million tokens) and pools built from it.

Most routing datasets carry no per-query cost. A router still needs prices to trade
quality against cost, so adapters attach a pool from this table for the models it
knows. Every entry names its source (see ``prices/prices.json``); the table is rebuilt
by ``scripts/build_prices.py``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pandas as pd

from ._tables import validate_pool

PRICES_PATH = Path(__file__).parent / "prices" / "prices.json"


@lru_cache(maxsize=1)
def _entries() -> tuple[dict, ...]:
    return tuple(json.loads(PRICES_PATH.read_text())["models"])


def default_prices() -> pd.DataFrame:
    """The whole price table as a pool table (plus a ``source`` column naming where each price is from)."""
    rows = [
        {k: e[k] for k in ("model", "price_in_per_mtok", "price_out_per_mtok", "source")} for e in _entries()
    ]
    return validate_pool(pd.DataFrame(rows), str(PRICES_PATH))


def _key(name: str) -> str:
    """Case-insensitive name without an organisation prefix: 'mistralai/Mixtral-8x7B' -> 'mixtral-8x7b'."""
    return name.rsplit("/", 1)[-1].strip().lower()


@lru_cache(maxsize=1)
def _lookup() -> dict[str, dict]:
    table: dict[str, dict] = {}
    for e in _entries():  # exact names first, so they beat a looser alias match
        table.setdefault(e["model"], e)
    for e in _entries():
        for name in [e["model"], *e.get("aliases", [])]:
            table.setdefault(_key(name), e)
    return table


def pool_for(models: Iterable[str]) -> pd.DataFrame | None:
    """A pool for ``models`` from the price table, or None when none of them is priced.

    A model matches an entry by exact name, else by case-insensitive name without an
    organisation prefix (also against the entry's aliases). Unpriced models are left out.
    """
    lookup = _lookup()
    rows = []
    for m in models:
        e = lookup.get(m) or lookup.get(_key(m))
        if e is not None:
            rows.append(
                {
                    "model": m,
                    "price_in_per_mtok": e["price_in_per_mtok"],
                    "price_out_per_mtok": e["price_out_per_mtok"],
                    "source": f"price-table:{e['source']}:{e.get('entry', e['model'])}",
                }
            )
    return validate_pool(pd.DataFrame(rows), str(PRICES_PATH)) if rows else None
