"""`BudgetPolicy`: a threshold or cost policy calibrated to a budget (DESIGN §5)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._errors import DataError, NotFittedError
from ._calibrate import LamCalibration, ThresholdCalibration, calibrate_lam, calibrate_threshold
from ._cost import CostPolicy
from ._threshold import ModelRef, ThresholdPolicy


class BudgetPolicy:
    """Hit a strong-call fraction (two models) or a mean USD per query (any pool).

    ``calibrate`` learns the threshold or lam on a sample of unlabelled queries;
    ``decide`` then routes like the calibrated :class:`ThresholdPolicy` or :class:`CostPolicy`.
    Learned state: ``policy_`` and ``calibration_`` (with ``to_dict()``).
    """

    def __init__(
        self,
        strong_fraction: float | None = None,
        usd_per_query: float | None = None,
        strong: ModelRef = 1,
        weak: ModelRef = 0,
        n_boot: int = 1000,
        seed: int = 0,
    ) -> None:
        self.strong_fraction = strong_fraction
        self.usd_per_query = usd_per_query
        self.strong = strong
        self.weak = weak
        self.n_boot = n_boot
        self.seed = seed

    def calibrate(self, values: np.ndarray, cost: np.ndarray | None = None) -> "BudgetPolicy":
        """``values``: routing scores (n,) for ``strong_fraction``; Q̂ (n, m) and ``cost`` for ``usd_per_query``."""
        if (self.strong_fraction is None) == (self.usd_per_query is None):
            raise DataError("BudgetPolicy needs exactly one of strong_fraction= or usd_per_query=")
        self.calibration_: ThresholdCalibration | LamCalibration
        if self.strong_fraction is not None:
            self.calibration_ = calibrate_threshold(values, self.strong_fraction, self.n_boot, self.seed)
            self.policy_: ThresholdPolicy | CostPolicy = ThresholdPolicy(
                self.strong, self.weak, self.calibration_.threshold
            )
        else:
            if cost is None:
                raise DataError("a usd_per_query budget needs costs (the pool has no prices)", field="cost")
            self.calibration_ = calibrate_lam(values, cost, float(self.usd_per_query), self.n_boot, self.seed)
            self.policy_ = CostPolicy(self.calibration_.lam)
        return self

    def decide(
        self, values: np.ndarray, cost: np.ndarray | None = None, models: Sequence[str] | None = None
    ) -> np.ndarray:
        """Model index per query, with the calibrated policy."""
        if not hasattr(self, "policy_"):
            raise NotFittedError("BudgetPolicy is not calibrated; call calibrate(...) first")
        if isinstance(self.policy_, ThresholdPolicy):
            return self.policy_.decide(values, models)
        return self.policy_.decide(values, cost)

    def __repr__(self) -> str:
        target = f"strong_fraction={self.strong_fraction!r}" if self.strong_fraction is not None else f"usd_per_query={self.usd_per_query!r}"
        return f"BudgetPolicy({target})"
