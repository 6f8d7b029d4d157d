"""`ThresholdPolicy`: RouteLLM's two-model rule, strong iff the routing score ≥ threshold."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from .._errors import DataError, UnknownModelError

ModelRef = Union[str, int]


def resolve_model(model: ModelRef, models: Sequence[str] | None) -> int:
    """Index of ``model``: an int is taken as is, a name is looked up in ``models``."""
    if isinstance(model, (int, np.integer)):
        return int(model)
    if models is None:
        raise DataError(f"model {model!r} is given by name, so the pool's model list is needed", field="models")
    try:
        return list(models).index(model)
    except ValueError:
        raise UnknownModelError(f"model {model!r} is not in the pool ({', '.join(models)})") from None


class ThresholdPolicy:
    """Send a query to ``strong`` iff its routing score is ≥ ``threshold`` (RouteLLM uses ``>=``).

    The score is the router's P(strong wins) — :meth:`Router.pair_score`. ``strong`` and
    ``weak`` are model names (looked up in ``models`` at decision time) or indices.
    """

    def __init__(self, strong: ModelRef, weak: ModelRef, threshold: float) -> None:
        self.strong = strong
        self.weak = weak
        self.threshold = threshold

    def decide(self, scores: np.ndarray, models: Sequence[str] | None = None) -> np.ndarray:
        """Model index per query (indices into ``models``, or the given ints)."""
        s, w = resolve_model(self.strong, models), resolve_model(self.weak, models)
        return np.where(np.asarray(scores, dtype=float) >= self.threshold, s, w).astype(int)

    def route(self, router, queries) -> np.ndarray:
        """Decide for ``queries`` with a fitted router: indices into ``router.models_``."""
        names = [m if isinstance(m, str) else router.models_[m] for m in (self.strong, self.weak)]
        return self.decide(router.pair_score(queries, names[0], names[1]), router.models_)

    def __repr__(self) -> str:
        return f"ThresholdPolicy(strong={self.strong!r}, weak={self.weak!r}, threshold={self.threshold!r})"
