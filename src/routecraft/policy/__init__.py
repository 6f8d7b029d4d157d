"""Policies: turn a router's quality matrix Q̂ and the pool's costs into a decision (DESIGN §5).

- :class:`ThresholdPolicy` — two models, strong iff P(strong wins) ≥ threshold (RouteLLM);
- :class:`CostPolicy` — any pool, argmax_m Q̂ − lam · cost;
- :class:`BudgetPolicy` — either one, calibrated to a strong-call fraction or a $/query budget.
"""

from ._bootstrap import bootstrap_counts, bootstrap_means, percentile_ci
from ._budget import BudgetPolicy
from ._calibrate import LamCalibration, ThresholdCalibration, calibrate_lam, calibrate_threshold
from ._cost import CostPolicy, expected_cost, max_useful_lam, switch_lams
from ._length import OutputLengthModel
from ._threshold import ThresholdPolicy

__all__ = [
    "BudgetPolicy",
    "CostPolicy",
    "LamCalibration",
    "OutputLengthModel",
    "ThresholdCalibration",
    "ThresholdPolicy",
    "bootstrap_counts",
    "bootstrap_means",
    "calibrate_lam",
    "calibrate_threshold",
    "expected_cost",
    "max_useful_lam",
    "percentile_ci",
    "switch_lams",
]
