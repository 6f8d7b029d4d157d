"""The generation pipeline: task descriptions → generator questions → pool answers → tables.

1. Each generator is asked for ``ceil(items / per_request)`` question sets per task.
   Replies are parsed strictly; malformed items are rejected and counted, repeated
   questions (same text) are kept once and counted.
2. Every pool model answers every kept question (temperature 0).
3. The tables: queries (``task`` = the task name, plus ``generator``, ``reference_answer``
   and ``kind`` columns) and outcomes with the model's ``answer``, ``logprob`` where the
   endpoint gave one, ``score`` = agreement with the generator's answer, tokens, latency,
   ``cost_usd`` where the pool has prices, and ``source = generated``.

All requests go through the :class:`RequestCache` first, so rerunning after a kill or a
crash resends only what never finished. A request that still fails after its retries
leaves its question set or outcome cell missing; it is counted, and the next run retries it.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import pandas as pd

from ..data._dataset import Dataset
from ._cache import RequestCache, request_key
from ._client import AsyncChatClient, ChatError, ChatResult, parse_completion, request_body
from ._items import Item, answer_messages, generator_messages, parse_answer, parse_generated, reference_answer
from ._toml import Endpoint, GenerationTask

GENERATOR_PARAMS = {"temperature": 0.8, "top_p": 0.95, "max_tokens": 4096}
ANSWER_PARAMS = {"temperature": 0.0, "max_tokens": 32}


@dataclass
class GenerationStats:
    """Counts a run reports (and the progress bar shows)."""

    generator_requests: int = 0
    generator_failures: int = 0
    items_kept: int = 0
    items_rejected: dict[str, int] = field(default_factory=dict)
    items_duplicate: int = 0
    answers_total: int = 0
    answers_done: int = 0
    answer_failures: int = 0
    answers_unparsed: int = 0
    cached: int = 0
    tokens_in: float = 0.0
    tokens_out: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return sum(self.items_rejected.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"items_rejected_total": self.rejected}


ProgressFn = Callable[[GenerationStats], None]


class _Runner:
    def __init__(self, client: AsyncChatClient, cache: RequestCache, stats: GenerationStats, on_progress: ProgressFn | None):
        self.client, self.cache, self.stats, self.on_progress = client, cache, stats, on_progress

    async def chat(self, endpoint: Endpoint, messages: list[dict[str, str]], params: dict[str, Any]) -> ChatResult | None:
        body = request_body(endpoint, messages, **params)
        url = endpoint.base_url + "/chat/completions"
        key = request_key(url, body)
        hit = self.cache.get(key)
        if hit is not None:
            self.stats.cached += 1
            text, lp, tin, tout = parse_completion(hit["doc"])
            result = ChatResult(text, lp, tin, tout, float(hit["latency_s"]))
        else:
            try:
                doc, result = await self.client.post(endpoint, body)
            except ChatError as exc:
                self.stats.failures[exc.reason] = self.stats.failures.get(exc.reason, 0) + 1
                return None
            self.cache.put(key, url, body, {"doc": doc, "latency_s": result.latency_s})
        self.stats.tokens_in += result.tokens_in or 0.0
        self.stats.tokens_out += result.tokens_out or 0.0
        return result


def _report(runner: _Runner) -> None:
    if runner.on_progress is not None:
        runner.on_progress(runner.stats)


async def _generate_items(runner: _Runner, tasks: list[GenerationTask], generators: list[Endpoint]) -> list[Item]:
    jobs = []
    for g in generators:
        for t in tasks:
            n_req = math.ceil(t.items / t.per_request)
            for b in range(n_req):
                n = min(t.per_request, t.items - b * t.per_request)
                jobs.append((g, t, b, n))

    async def one(g: Endpoint, t: GenerationTask, b: int, n: int) -> list[Item] | None:
        result = await runner.chat(g, generator_messages(t, n, b), GENERATOR_PARAMS)
        runner.stats.generator_requests += 1
        if result is None:
            runner.stats.generator_failures += 1
            _report(runner)
            return None
        items, rejected = parse_generated(result.text, t, g.name)
        for reason, count in rejected.items():
            runner.stats.items_rejected[reason] = runner.stats.items_rejected.get(reason, 0) + count
        _report(runner)
        return items

    batches = await asyncio.gather(*(one(*job) for job in jobs))
    # keep order deterministic (generator, task, set, position) whatever finished first
    kept: list[Item] = []
    seen: set[str] = set()
    per_task: dict[tuple[str, str], int] = {}
    for (g, t, _b, _n), items in zip(jobs, batches):
        for item in items or []:
            slot = (g.name, t.name)
            if item.query_id in seen:
                runner.stats.items_duplicate += 1
                continue
            if per_task.get(slot, 0) >= t.items:  # a generator that wrote more than asked
                runner.stats.items_rejected["over_quota"] = runner.stats.items_rejected.get("over_quota", 0) + 1
                continue
            seen.add(item.query_id)
            per_task[slot] = per_task.get(slot, 0) + 1
            kept.append(item)
    runner.stats.items_kept = len(kept)
    return kept


async def _answer_items(runner: _Runner, items: list[Item], pool: list[Endpoint]) -> list[dict[str, Any]]:
    runner.stats.answers_total = len(items) * len(pool)

    async def one(item: Item, model: Endpoint) -> dict[str, Any] | None:
        result = await runner.chat(model, answer_messages(item), ANSWER_PARAMS)
        if result is None:
            runner.stats.answer_failures += 1
            _report(runner)
            return None
        runner.stats.answers_done += 1
        answer = parse_answer(result.text, item)
        if answer is None:
            runner.stats.answers_unparsed += 1
        _report(runner)
        ref = reference_answer(item)
        cost = None
        if model.price_in_per_mtok is not None and model.price_out_per_mtok is not None and result.tokens_in is not None:
            cost = (result.tokens_in * model.price_in_per_mtok + (result.tokens_out or 0.0) * model.price_out_per_mtok) / 1e6
        return {
            "query_id": item.query_id,
            "model": model.name,
            "score": float(answer == ref),
            "answer": answer,
            "logprob": result.logprob,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "latency_s": result.latency_s,
            "cost_usd": cost,
            "source": "generated",
        }

    rows = await asyncio.gather(*(one(i, m) for i in items for m in pool))
    return [r for r in rows if r is not None]


def _tables(items: list[Item], rows: list[dict[str, Any]], pool: list[Endpoint], tasks: list[GenerationTask], generators: list[Endpoint], stats: GenerationStats) -> Dataset:
    queries = pd.DataFrame(
        {
            "query_id": [i.query_id for i in items],
            "query": [i.text for i in items],
            "task": [i.task for i in items],
            "generator": [i.generator for i in items],
            "reference_answer": [reference_answer(i) for i in items],
            "kind": [i.kind for i in items],
        }
    )
    columns = ["query_id", "model", "score", "answer", "logprob", "tokens_in", "tokens_out", "latency_s", "cost_usd", "source"]
    outcomes = pd.DataFrame(rows, columns=columns)
    for col in ("logprob", "tokens_in", "tokens_out", "cost_usd"):
        if outcomes[col].isna().all():
            outcomes = outcomes.drop(columns=col)
    priced = [m for m in pool if m.price_in_per_mtok is not None and m.price_out_per_mtok is not None]
    pool_table = None
    if len(priced) == len(pool):
        pool_table = pd.DataFrame(
            {
                "model": [m.name for m in pool],
                "price_in_per_mtok": [m.price_in_per_mtok for m in pool],
                "price_out_per_mtok": [m.price_out_per_mtok for m in pool],
                "base_url": [m.base_url for m in pool],
                "api_key_env": [m.api_key_env for m in pool],
            }
        )
    notes = [
        "generated questions: score = agreement with the generator's own answer, not a gold label",
        f"{stats.rejected} generated items rejected as malformed, {stats.items_duplicate} duplicates dropped",
    ]
    if stats.generator_failures or stats.answer_failures:
        notes.append(
            f"{stats.generator_failures} generator requests and {stats.answer_failures} answers failed after retries "
            "(missing; rerun to retry them)"
        )
    meta = {
        "name": "generated",
        "source": {"generators": [g.name for g in generators], "tasks": [t.name for t in tasks]},
        "license": "generated by the listed generator models; check their terms of use",
        "notes": notes,
        "generation": stats.as_dict(),
    }
    return Dataset(queries=queries, outcomes=outcomes if len(outcomes) else None, pool=pool_table, meta=meta)


async def agenerate(
    tasks: list[GenerationTask],
    generators: list[Endpoint],
    pool: list[Endpoint],
    *,
    cache: RequestCache,
    client: AsyncChatClient,
    on_progress: ProgressFn | None = None,
) -> tuple[Dataset, GenerationStats]:
    """Run the pipeline with an open ``client``; returns the dataset and the run's counts."""
    stats = GenerationStats()
    runner = _Runner(client, cache, stats, on_progress)
    items = await _generate_items(runner, tasks, generators)
    rows = await _answer_items(runner, items, pool)
    return _tables(items, rows, pool, tasks, generators, stats), stats


def generate(
    tasks: list[GenerationTask],
    generators: list[Endpoint],
    pool: list[Endpoint],
    *,
    cache: RequestCache,
    concurrency: int = 8,
    timeout: float = 60.0,
    max_retries: int = 4,
    backoff: float = 0.5,
    transport: Any = None,
    on_progress: ProgressFn | None = None,
) -> tuple[Dataset, GenerationStats]:
    """Synchronous mirror of :func:`agenerate`: opens the client, runs the event loop."""

    async def main() -> tuple[Dataset, GenerationStats]:
        async with AsyncChatClient(
            concurrency=concurrency, timeout=timeout, max_retries=max_retries, backoff=backoff, transport=transport
        ) as client:
            return await agenerate(tasks, generators, pool, cache=cache, client=client, on_progress=on_progress)

    return asyncio.run(main())
