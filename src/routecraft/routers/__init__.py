"""Routers: models that predict each pool model's quality on a query (DESIGN §4)."""

from ._base import Router, as_queries, pair_score_from_quality
from ._baselines import AlwaysRouter, BestSingleRouter, OracleRouter, RandomRouter
from ._check import check_router, conformance_dataset
from ._registry import make_router, router_names

__all__ = [
    "AlwaysRouter",
    "BestSingleRouter",
    "OracleRouter",
    "RandomRouter",
    "Router",
    "as_queries",
    "check_router",
    "conformance_dataset",
    "make_router",
    "pair_score_from_quality",
    "router_names",
]
