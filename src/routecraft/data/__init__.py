"""Tables, datasets, splits and adapters for real router data (DESIGN §2)."""

from ._augment import dataset_preferences, judge_preferences_from_ratings, mix_datasets, mix_preferences
from ._convert import outcomes_to_preferences
from ._dataset import Dataset, estimate_tokens
from ._split import SplitReport, split_dataset
from ._tables import query_id_for
from ._inspect import format_inspection, inspect_dataset
from ._load import load_dataset
from ._prices import default_prices, pool_for
from .adapters import routellm_contamination
from .bundled import bundled_dataset, bundled_names

__all__ = [
    "Dataset",
    "SplitReport",
    "bundled_dataset",
    "bundled_names",
    "default_prices",
    "format_inspection",
    "inspect_dataset",
    "load_dataset",
    "pool_for",
    "routellm_contamination",
    "dataset_preferences",
    "estimate_tokens",
    "judge_preferences_from_ratings",
    "mix_datasets",
    "mix_preferences",
    "outcomes_to_preferences",
    "query_id_for",
    "split_dataset",
]
