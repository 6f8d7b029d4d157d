"""Adapters: upstream routing-data formats -> :class:`routecraft.data.Dataset`.

Each adapter reads one upstream layout as published (no conversion step needed) and
records provenance and every caveat it finds in ``meta`` (``notes``, ``dropped``,
``contamination``, ...). :func:`routecraft.data.load_dataset` picks the right one.
"""

from .arena_hard import load_arena_hard
from .llmrouter import llmrouter_pool, load_llmrouter
from .mmlu_pro import load_mmlu_pro
from .routellm import load_routellm, routellm_contamination
from .routerarena import load_routerarena, routerarena_pool
from .routerbench import load_routerbench
from .user import load_outcomes_file, load_preferences_file, load_queries_file

__all__ = [
    "llmrouter_pool",
    "load_arena_hard",
    "load_llmrouter",
    "load_mmlu_pro",
    "load_outcomes_file",
    "load_queries_file",
    "load_preferences_file",
    "load_routellm",
    "load_routerarena",
    "load_routerbench",
    "routellm_contamination",
    "routerarena_pool",
]
