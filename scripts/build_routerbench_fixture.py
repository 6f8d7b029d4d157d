"""Write tests/fixtures/routerbench_zs/: a tiny folder in RouterBench's 0-shot export layout.

The layout mimics RouterDC's redistribution of RouterBench (``datasets/routerbench_zs/
<task>_{train,test}.csv`` in shuhao02/RouterDC): an unnamed first column holding the
original row index (the unique key), ``sample_id`` (repeats across rows), ``prompt`` as a
stringified Python list, ``eval_name``, one score column per model, ``<model>|model_response``
as stringified lists, ``<model>|total_cost`` and ``oracle_model_to_route_to``. The
questions are written for this fixture (no upstream text is copied). Two cells are left
empty on purpose (a model without a result), and ``sample_id`` repeats with different
prompts. Run: python scripts/build_routerbench_fixture.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "routerbench_zs"
MODELS = ("gpt-4-1106-preview", "gpt-3.5-turbo-1106", "mistralai/mixtral-8x7b-chat")
PRICE = {"gpt-4-1106-preview": 3.0e-5, "gpt-3.5-turbo-1106": 2.0e-6, "mistralai/mixtral-8x7b-chat": 6.0e-7}


def _rows(task: str, split: str, start: int, n: int, rng: np.random.Generator) -> pd.DataFrame:
    records, index = [], []
    for i in range(n):
        a, b = int(rng.integers(2, 90)), int(rng.integers(2, 90))
        if task == "gsm8k":
            q = f"Tom has {a} apples and buys {b} more. How many apples does he have?"
            truth = str(a + b)
        else:
            q = f"Is {a} greater than {b}? Answer A) yes or B) no."
            truth = "A" if a > b else "B"
        hard = (a * b) % 3 == 0
        rec = {
            # sample_id repeats: RouterBench's ids restart per sub-benchmark
            "sample_id": f"{task}.{split}.{i % 4}",
            "prompt": repr([q]) if i != 1 else repr([q, "Explain your answer."]),
            "eval_name": task,
        }
        for m in MODELS:
            strong = m == MODELS[0] and (a + b) % 5 != 0
            ok = strong or not hard or (m == MODELS[1] and i % 2 == 0)
            rec[m] = 1.0 if ok else 0.0
        for m in MODELS:
            rec[f"{m}|model_response"] = repr([truth if rec[m] else "I am not sure"])
        for m in MODELS:
            rec[f"{m}|total_cost"] = round(PRICE[m] * (len(q) / 4 + 5), 10)
        rec["oracle_model_to_route_to"] = next((m for m in reversed(MODELS) if rec[m] == 1.0), MODELS[-1])
        records.append(rec)
        index.append(start + i)
    return pd.DataFrame(records, index=index)


def main() -> None:
    rng = np.random.default_rng(9)
    OUT.mkdir(parents=True, exist_ok=True)
    start = 35000
    for task in ("gsm8k", "winogrande"):
        for split, n in (("train", 10), ("test", 6)):
            frame = _rows(task, split, start, n, rng)
            start += n
            if (task, split) == ("gsm8k", "train"):
                frame.iloc[3, frame.columns.get_loc(MODELS[2])] = np.nan  # mixtral has no result here
            if (task, split) == ("winogrande", "test"):
                frame.iloc[2, frame.columns.get_loc(MODELS[1])] = np.nan
            frame.to_csv(OUT / f"{task}_{split}.csv")  # index=True: the unnamed first column
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
