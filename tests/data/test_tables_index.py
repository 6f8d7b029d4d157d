import pandas as pd

from routecraft.data._tables import validate_outcomes


def test_filtered_frame_keeps_its_values():
    """A frame with a non-default index (after filtering) must not have its columns misaligned."""
    frame = pd.DataFrame({"query_id": ["a", "b", "c"], "model": ["m", "m", "m"], "score": [0.1, 0.2, 0.3]})
    out = validate_outcomes(frame[frame["score"] > 0.15])
    assert out["score"].tolist() == [0.2, 0.3]
    assert out["query_id"].tolist() == ["b", "c"]
