"""Short names for routers (CLI ``--router NAME``) and the artifact class allow-list.

Entries are ``"module:Class"`` paths imported lazily, so optional dependencies
(torch for ``bert``) are only needed when that router is used. The same table is
the allow-list for loading artifacts: a manifest naming any other class is refused.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from .._errors import RoutecraftError

# short name -> (import path, name of the __init__ parameter filled by "name:ARG")
ROUTERS: dict[str, tuple[str, str | None]] = {
    "random": ("routecraft.routers._baselines:RandomRouter", None),
    "always": ("routecraft.routers._baselines:AlwaysRouter", "model"),
    "best-single": ("routecraft.routers._baselines:BestSingleRouter", None),
    "oracle": ("routecraft.routers._baselines:OracleRouter", None),
    "knn": ("routecraft.routers._knn:KNNRouter", "k"),
    "mlp": ("routecraft.routers._per_model:MLPRouter", None),
    "logistic": ("routecraft.routers._per_model:LogisticRouter", None),
    "sw": ("routecraft.routers._sw:SWRankingRouter", None),
    "mf": ("routecraft.routers._mf:MatrixFactorizationRouter", None),
    "bert": ("routecraft.routers._bert:BertRouter", None),
    "causal-llm": ("routecraft.routers._causal_llm:CausalLLMRouter", None),
    "cascal": ("routecraft.routers._cascal:CascalRouter", "supervision"),
    "causal": ("routecraft.routers._integrative:IntegrativeRouter", None),
    "lightgbm": ("routecraft.routers._lgbm:LightGBMRouter", None),
    "irt": ("routecraft.routers._irt:OutcomeIRTRouter", None),
    "cluster": ("routecraft.routers._cluster:ClusterRouter", "n_clusters"),
    "knn-learned": ("routecraft.routers._knn_learned:LearnedKNNRouter", None),
    "calibrated": ("routecraft.routers._crossfit:CalibratedRouter", "router"),
    "stack": ("routecraft.routers._crossfit:StackedRouter", None),
}


def _import(path: str) -> type:
    module, _, cls = path.partition(":")
    return getattr(importlib.import_module(module), cls)


def router_names() -> list[str]:
    return list(ROUTERS)


def allowed_classes() -> dict[str, str]:
    """Class name -> import path for every router an artifact may name."""
    return {path.partition(":")[2]: path for path, _ in ROUTERS.values()}


def short_name(class_name: str) -> str:
    """The registry name of a router class (``SWRankingRouter`` → ``sw``), as used in served model names."""
    for name, (path, _) in ROUTERS.items():
        if path.partition(":")[2] == class_name:
            return name
    return class_name


def router_class(class_name: str) -> type:
    """The router class named ``class_name``, if it is on the allow-list."""
    allowed = allowed_classes()
    if class_name not in allowed:
        raise RoutecraftError(f"router class {class_name!r} is not on routecraft's allow-list")
    return _import(allowed[class_name])


def make_router(spec: str, **params: Any):
    """Build a router from a short spec such as ``"knn"``, ``"knn:20"`` or ``"always:gpt-4"``."""
    name, sep, arg = spec.partition(":")
    if name not in ROUTERS:
        raise RoutecraftError(f"unknown router {spec!r}; known: {', '.join(ROUTERS)}")
    path, arg_param = ROUTERS[name]
    if sep:
        if arg_param is None:
            raise RoutecraftError(f"router {name!r} takes no ':ARG' (got {spec!r})")
        if not arg.strip():
            raise RoutecraftError(f"router spec {spec!r} has nothing after ':' (expected {name}:{arg_param.upper()})")
        # ``knn:20`` -> 20, ``always:gpt-4`` -> "gpt-4"; the router's constraints judge the value
        params[arg_param] = arg if arg_param == "model" else parse_value(arg)
    elif arg_param == "model":
        raise RoutecraftError(f"router {name!r} needs a model: '{name}:<model>'")
    cls = _import(path)
    try:
        router = cls(**params)
    except TypeError as exc:
        raise RoutecraftError(f"router {spec!r}: {exc}") from None
    router._validate_params()  # a bad value fails here, before any data is loaded
    return router


def parse_value(raw: str) -> Any:
    """A parameter value typed on the command line: JSON when it parses (``20``, ``1.5``, ``true``), else the text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw
