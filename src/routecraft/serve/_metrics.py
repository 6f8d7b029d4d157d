"""Prometheus metrics of the routing server, on a registry of its own (one per app).

Labels are bounded: model and router names come from the config, ``status`` is an HTTP
code and ``kind`` one of a few failure classes, so a client cannot blow up cardinality.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("routecraft_requests", "Chat completion requests by served model and status.",
                                ("model", "router", "status"), registry=r)
        self.latency = Histogram("routecraft_request_seconds", "End-to-end request latency (to the last byte).",
                                 ("model",), buckets=LATENCY_BUCKETS, registry=r)
        self.routing = Histogram("routecraft_routing_seconds", "Time to route a request (router scoring + policy).",
                                 ("router",), buckets=LATENCY_BUCKETS, registry=r)
        self.upstream_errors = Counter("routecraft_upstream_errors", "Failed upstream attempts by model and kind.",
                                       ("model", "kind"), registry=r)
        self.fallbacks = Counter("routecraft_fallbacks", "Requests served by a model other than the routed one.",
                                 ("routed", "served"), registry=r)
        self.tokens = Counter("routecraft_tokens", "Tokens reported by upstreams.", ("model", "direction"), registry=r)
        self.cost = Counter("routecraft_cost_usd", "Spend in USD at the configured prices.", ("model",), registry=r)
        self.circuit_open = Gauge("routecraft_circuit_open", "1 while a model's circuit breaker is open.",
                                  ("model",), registry=r)
        self.log_dropped = Counter("routecraft_log_dropped", "Routing-log records dropped (queue full or write error).",
                                   registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
