"""Routers: models that predict each pool model's quality on a query (DESIGN §4)."""

from ._base import Router, as_queries, pair_score_from_quality
from ._baselines import AlwaysRouter, BestSingleRouter, OracleRouter, RandomRouter
from ._bert import BertRouter
from ._cascal import CascalRouter
from ._causal_llm import CausalLLMRouter
from ._integrative import IntegrativeRouter
from ._knn import KNNRouter
from ._cluster import ClusterRouter
from ._crossfit import CalibratedRouter, StackedRouter
from ._irt import OutcomeIRTRouter
from ._knn_learned import LearnedKNNRouter
from ._lgbm import LightGBMRouter
from ._mf import MatrixFactorizationRouter
from ._per_model import LogisticRouter, MLPRouter
from ._sw import SWRankingRouter
from ._check import check_router, conformance_dataset
from ._registry import make_router, router_names

__all__ = [
    "AlwaysRouter",
    "BertRouter",
    "BestSingleRouter",
    "CascalRouter",
    "CausalLLMRouter",
    "IntegrativeRouter",
    "KNNRouter",
    "CalibratedRouter",
    "ClusterRouter",
    "LearnedKNNRouter",
    "LightGBMRouter",
    "OutcomeIRTRouter",
    "StackedRouter",
    "LogisticRouter",
    "MLPRouter",
    "MatrixFactorizationRouter",
    "OracleRouter",
    "RandomRouter",
    "Router",
    "SWRankingRouter",
    "as_queries",
    "check_router",
    "conformance_dataset",
    "make_router",
    "pair_score_from_quality",
    "router_names",
]
