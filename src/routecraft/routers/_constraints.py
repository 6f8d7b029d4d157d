"""Parameter constraints in scikit-learn's vocabulary, shared by the routers.

A router lists its parameters' constraints in ``_parameter_constraints``; the base
class checks them before every ``fit`` and when an artifact is loaded, and a failure
is a :class:`~routecraft._errors.ParameterError` such as "The 'k' parameter of
KNNRouter must be an int in the range [1, inf). Got 1.5 instead."

The checker is scikit-learn's own (``sklearn.utils._param_validation``), the one its
estimators use; these names only save each router from importing it.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..embed._base import Embedder

__all__ = [
    "EMBEDDER", "Interval", "StrOptions", "boolean", "fraction", "non_negative_int",
    "non_negative_real", "positive_int", "positive_real", "seed",
]

EMBEDDER = [str, Embedder]  # a spec string or an Embedder object
positive_int = [Interval(Integral, 1, None, closed="left")]
non_negative_int = [Interval(Integral, 0, None, closed="left")]
positive_real = [Interval(Real, 0, None, closed="neither")]
non_negative_real = [Interval(Real, 0, None, closed="left")]
seed = [Interval(Integral, 0, None, closed="left")]
boolean = ["boolean"]


def fraction(closed: str = "left") -> list:
    """A number in [0, 1) (``closed="left"``), (0, 1), [0, 1] ... as sklearn's Interval says."""
    return [Interval(Real, 0, 1, closed=closed)]
