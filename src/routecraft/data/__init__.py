"""Tables, datasets, splits and adapters for real router data (DESIGN §2)."""

from ._convert import outcomes_to_preferences
from ._dataset import Dataset, estimate_tokens
from ._split import SplitReport, split_dataset
from ._tables import query_id_for

__all__ = [
    "Dataset",
    "SplitReport",
    "estimate_tokens",
    "outcomes_to_preferences",
    "query_id_for",
    "split_dataset",
]
