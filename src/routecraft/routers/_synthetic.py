"""A small gold + biased-judge dataset with known bias, for tests and sanity checks of the causal router.

Two models (``strong``, ``weak``) on three topics whose words differ, so any embedder
separates them. Gold outcomes sit on a share of the queries, judge preferences on the
others (and, with ``paired_share``, also on some gold ones). The judge's view of the
strong model's gain is shifted per topic by a known leniency, so the true bias is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data._dataset import Dataset
from ..data._tables import query_id_for

TOPICS = {
    # topic: (P(strong right), P(weak right), judge leniency towards strong)
    "algebra": (0.9, 0.2, -0.6),
    "poetry": (0.6, 0.6, 0.6),
    "history": (0.7, 0.5, 0.0),
}
WORDS = {
    "algebra": "solve equation variable integer polynomial root",
    "poetry": "write poem rhyme verse sonnet stanza",
    "history": "empire war century king treaty revolution",
}


def biased_dataset(
    n_per_topic: int = 120, gold_share: float = 0.25, paired_share: float = 0.0, seed: int = 0, bias: bool = True
) -> Dataset:
    """Two models; gold outcomes on some queries, judge preferences on the others.

    The judge's view of the strong model's gain is shifted per topic by the leniency in
    TOPICS (known truth for the bias), so gold-only sees the truth on few queries and
    judge-only sees a biased picture on many.
    """
    rng = np.random.default_rng(seed)
    queries, outcomes, prefs = [], [], []
    for topic, (ps, pw, lean) in TOPICS.items():
        vocab = WORDS[topic].split()
        for i in range(n_per_topic):
            text = f"{topic} question {i}: " + " ".join(rng.choice(vocab, 5))
            qid = query_id_for(text)
            queries.append({"query_id": qid, "query": text, "task": topic})
            gold = rng.random() < gold_share
            judged = (not gold) or rng.random() < paired_share
            s, w = float(rng.random() < ps), float(rng.random() < pw)
            if gold:
                outcomes += [
                    {"query_id": qid, "model": "strong", "score": s, "source": "gold"},
                    {"query_id": qid, "model": "weak", "score": w, "source": "gold"},
                ]
            if judged:
                gain = np.clip((s - w) + (lean if bias else 0.0) + rng.normal(0, 0.3), -1, 1)
                winner = "a" if rng.random() < (1 + gain) / 2 else "b"
                prefs.append({"query_id": qid, "model_a": "strong", "model_b": "weak", "winner": winner, "source": "judge"})
    pool = pd.DataFrame({"model": ["strong", "weak"], "price_in_per_mtok": [10.0, 0.5], "price_out_per_mtok": [30.0, 1.5]})
    return Dataset(
        pd.DataFrame(queries), pd.DataFrame(outcomes), pd.DataFrame(prefs) if prefs else None, pool, meta={"name": "biased"}
    )
