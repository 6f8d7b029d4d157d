"""Routing with generated data (RGD): make training data when you have no labels.

Describe your tasks (``tasks.toml``), point at a generator and your pool (``pool.toml``),
and :func:`generate` writes canonical tables whose outcomes hold each pool model's
answer to generated questions. Label-free routers (``cascal``) learn from those answers;
query-answer routers learn from ``score`` (agreement with the generator's answer).
:func:`filter_generated` keeps the generators and items worth learning from.
"""

from ._cache import RequestCache, request_key
from ._client import AsyncChatClient, ChatError, ChatResult
from ._filters import FilterResult, filter_generated, generator_report, relabel
from ._items import Item, parse_answer, parse_generated
from ._pipeline import GenerationStats, agenerate, generate
from ._toml import Endpoint, GenerationTask, find_generator, read_pool, read_tasks

__all__ = [
    "AsyncChatClient",
    "ChatError",
    "ChatResult",
    "Endpoint",
    "FilterResult",
    "GenerationStats",
    "GenerationTask",
    "Item",
    "RequestCache",
    "agenerate",
    "filter_generated",
    "find_generator",
    "generate",
    "generator_report",
    "parse_answer",
    "parse_generated",
    "read_pool",
    "read_tasks",
    "relabel",
    "request_key",
]
