"""From a request's ``model`` and messages to a decision: which pool model, in which fallback order.

``model`` selects one of three routes: a named ``[[policies]]`` entry, RouteLLM's
``router-<name>-<threshold>``, or a pool model name that passes straight through.
Routers are loaded with :func:`routecraft.load_router` and used only through
``predict_quality`` and the policies, so any router class serves without a special case.

Concurrent requests are micro-batched: every request whose body was parsed in the same
event-loop iteration is scored by one ``predict_quality`` call, so the per-call overhead
(building the query frame, one BLAS call) is paid once per batch, not per request.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._errors import DataError, RoutecraftError
from ..policy._cost import cost_decide
from ..routers._base import pair_score_from_quality
from ._config import ModelConfig, PolicyConfig, RouterConfig, ServerConfig

ROUTER_PREFIX = "router-"
# thresholds in model names: decimals in [0, 1] (RouteLLM's calibrated values look like 0.11593)
THRESHOLD_PATTERN = r"0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+"
_THRESHOLD = re.compile(rf"^(?:{THRESHOLD_PATTERN})$")
CHARS_PER_TOKEN = 4.0  # prompt-token estimate for cost-aware policies (no tokenizer in the request path)


class UnknownRouteError(RoutecraftError):
    """The request's ``model`` names no policy, router or pool model."""


@dataclass(frozen=True)
class Decision:
    """The routing decision for one request, as logged and sent in ``x-routecraft-*`` headers."""

    model: str
    candidates: tuple[str, ...]
    router: str | None = None
    policy: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class Route:
    """What a ``model`` string selects: a router with a rule, or one pool model."""

    requested: str
    router: "LoadedRouter | None"
    kind: str  # "threshold", "lam" or "model"
    value: float = 0.0
    policy: str | None = None
    model: str | None = None


def message_text(content: Any) -> str:
    """Text of a message's ``content``: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def routing_text(messages: Sequence[dict], max_chars: int) -> str:
    """The text a router scores: the user turns of the conversation, joined, the latest kept.

    Datasets route on what the user asked (MT-bench: its turns); system prompts and the
    assistant's own answers say little about how hard the question is. A conversation with
    no user turn routes on all of its text. Long conversations keep their last ``max_chars``.
    """
    parts = [message_text(m.get("content")) for m in messages if m.get("role") == "user"]
    if not any(parts):
        parts = [message_text(m.get("content")) for m in messages]
    text = "\n\n".join(p for p in parts if p)
    return text[-max_chars:]


class _MicroBatcher:
    """Collects the texts submitted in one event-loop iteration and scores them in one call."""

    def __init__(self, predict) -> None:
        self._predict = predict
        self._pending: list[tuple[str, asyncio.Future]] = []
        self._scheduled = False

    def submit(self, text: str) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending.append((text, fut))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        try:
            quality = self._predict([text for text, _ in batch])
        except Exception as exc:  # every waiter sees the router's error
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for row, (_, fut) in zip(quality, batch):
            if not fut.done():
                fut.set_result(row)


class LoadedRouter:
    """A loaded artifact with its strong/weak pair and its pool mapped to server model names."""

    def __init__(self, cfg: RouterConfig, models: dict[str, ModelConfig], config_path: str, where: str) -> None:
        from ..artifact import load_router

        self.name = cfg.name
        self.router = load_router(cfg.path)
        self.kind = self.router.quality_kind
        pool = list(self.router.models_)
        self.served = [cfg.model_map.get(m, m) for m in pool]
        self.routable = np.array([s in models for s in self.served])
        for key in cfg.model_map:
            if key not in pool:
                raise DataError(f"{key!r} is not in the artifact's pool ({', '.join(pool)})", path=config_path, field=f"{where}.models")
        recorded = getattr(self.router, "artifact_manifest_", {}).get("metrics", {}) or {}
        strong, weak = cfg.strong or recorded.get("strong"), cfg.weak or recorded.get("weak")
        self.pair: tuple[int, int] | None = None
        if strong and weak:
            for key, value in (("strong", strong), ("weak", weak)):
                if value not in pool:
                    raise DataError(f"{value!r} is not in the artifact's pool ({', '.join(pool)})", path=config_path, field=f"{where}.{key}")
                if not self.routable[pool.index(value)]:
                    raise DataError(
                        f"artifact model {value!r} maps to {self.served[pool.index(value)]!r}, which is not a [[models]] name",
                        path=config_path, field=f"{where}.models",
                    )
            self.pair = (pool.index(strong), pool.index(weak))
        elif len(pool) == 2:
            raise DataError(
                f"say which model is strong: strong = {pool[0]!r}, weak = {pool[1]!r} (or the reverse)",
                path=config_path, field=f"{where}.strong",
            )
        prices = [models.get(s) for s in self.served]
        self.price_in = np.array([p.price_in_per_mtok if p else 0.0 for p in prices]) / 1e6
        self.fixed_cost = np.array([p.price_out_per_mtok * p.expected_tokens_out if p else 0.0 for p in prices]) / 1e6
        self.batcher = _MicroBatcher(self.router.predict_quality)

    def cost(self, text: str) -> np.ndarray:
        """Expected USD per model for this prompt: estimated input tokens plus expected output tokens."""
        return self.fixed_cost + self.price_in * math.ceil(len(text) / CHARS_PER_TOKEN)

    def decide(self, route: Route, quality: np.ndarray, text: str, fallbacks: dict[str, tuple[str, ...]]) -> Decision:
        """Decision for one query from its row of Q̂."""
        if route.kind == "threshold":
            if self.pair is None:
                raise UnknownRouteError(f"router {self.name!r} has no strong/weak pair; use a lam policy")
            s, w = self.pair
            score = float(pair_score_from_quality(quality[None, :], s, w, self.kind)[0])
            order = [s, w] if score >= route.value else [w, s]
        else:
            cost = self.cost(text)
            q = np.where(self.routable, quality, -np.inf)
            first = int(cost_decide(q[None, :], cost[None, :], route.value)[0])
            utility = q - route.value * cost
            rest = [int(j) for j in np.lexsort((cost, -utility)) if j != first and self.routable[j]]
            order = [first, *rest]
            score = float(quality[first])
        names = [self.served[j] for j in order]
        return Decision(names[0], _with_fallbacks(names, fallbacks), self.name, route.policy or _rule(route), score)


def _rule(route: Route) -> str:
    return f"{route.kind}={route.value:g}"


def _with_fallbacks(names: Sequence[str], fallbacks: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    out = list(dict.fromkeys(names))
    for name in list(out):
        out.extend(m for m in fallbacks.get(name, ()) if m not in out)
    return tuple(out)


class RoutingTable:
    """Every route the server knows, built once at start-up from the config."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.max_chars = config.server.route_max_chars
        self.fallbacks = {name: m.fallback for name, m in config.models.items()}
        self.routers = {
            name: LoadedRouter(r, config.models, config.path, f"routers[{i + 1}]")
            for i, (name, r) in enumerate(config.routers.items())
        }
        self.policies = {
            name: self._policy_route(p, i) for i, (name, p) in enumerate(config.policies.items())
        }

    def _policy_route(self, p: PolicyConfig, i: int) -> Route:
        router = self.routers[p.router]
        if p.kind in ("threshold", "strong_fraction") and router.pair is None:
            raise DataError(
                f"router {p.router!r} has no strong/weak pair, so it takes only a lam policy",
                path=self.config.path, field=f"policies[{i + 1}]",
            )
        if p.kind == "strong_fraction":
            from ..data import load_dataset
            from ..policy import calibrate_threshold

            data = load_dataset(p.calibrate_on)
            s, w = router.pair
            scores = router.router.pair_score(data, router.router.models_[s], router.router.models_[w])
            threshold = calibrate_threshold(scores, p.value, n_boot=200).threshold
            return Route(p.name, router, "threshold", float(threshold), policy=p.name)
        return Route(p.name, router, p.kind, p.value, policy=p.name)

    def resolve(self, requested: str) -> Route:
        """The route a request's ``model`` selects, or :class:`UnknownRouteError`."""
        if requested in self.policies:
            return self.policies[requested]
        if requested in self.config.models:
            return Route(requested, None, "model", model=requested)
        if requested.startswith(ROUTER_PREFIX):
            name, _, raw = requested[len(ROUTER_PREFIX):].rpartition("-")
            if name in self.routers:
                if not _THRESHOLD.match(raw):
                    raise UnknownRouteError(f"threshold in {requested!r} must be a decimal number in [0, 1]")
                return Route(requested, self.routers[name], "threshold", float(raw))
        known = [*self.policies, *(f"router-{r}-<threshold>" for r in self.routers), *self.config.models]
        raise UnknownRouteError(f"model {requested!r} is not served here; known: {', '.join(known)}")

    def model_ids(self) -> list[str]:
        """What ``/v1/models`` lists: policies, the RouteLLM-style names they stand for, pool models."""
        ids = list(self.policies)
        ids += [f"router-{r.router.name}-{r.value:g}" for r in self.policies.values() if r.kind == "threshold"]
        return list(dict.fromkeys([*ids, *self.config.models]))

    def decide_now(self, route: Route, messages: Sequence[dict]) -> Decision:
        """Synchronous decision (the in-process controller)."""
        if route.router is None:
            return self._passthrough(route)
        text = routing_text(messages, self.max_chars)
        quality = route.router.router.predict_quality([text])[0]
        return route.router.decide(route, quality, text, self.fallbacks)

    async def decide(self, route: Route, messages: Sequence[dict], alone: bool = False) -> Decision:
        """Decision inside the event loop, micro-batched with concurrent requests on the same router.

        ``alone``: no other request is in flight, so there is nobody to batch with; the request is
        scored at once, without the two event-loop turns a batch costs (flush, then wake-up).
        """
        if route.router is None:
            return self._passthrough(route)
        if alone:
            return self.decide_now(route, messages)
        text = routing_text(messages, self.max_chars)
        quality = await route.router.batcher.submit(text)
        return route.router.decide(route, quality, text, self.fallbacks)

    def _passthrough(self, route: Route) -> Decision:
        return Decision(route.model, _with_fallbacks([route.model], self.fallbacks), policy="model")
