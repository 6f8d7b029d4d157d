"""`check_router`: the conformance suite every router passes (like sklearn's check_estimator).

Each check raises ``AssertionError`` with a message naming the check and the router.
Call it in a test for every router class you write:

    from routecraft.routers import check_router
    check_router(KNNRouter(embedder="tfidf"))
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._errors import DataError, NotFittedError, UnknownModelError
from ..data._convert import outcomes_to_preferences
from ..data._dataset import Dataset
from ..data._tables import query_id_for
from ._base import QUALITY_KINDS, Router

_TOPICS = {
    "math": ["Solve for x: {a}x + {b} = {c}.", "What is {a} times {b} plus {c}?", "Compute the integral of x^{a} from 0 to {b}."],
    "code": ["Write a Python function that returns the {a}th Fibonacci number.", "Fix the bug in this loop: for i in range({a}): print(i/{b})", "Explain big-O of sorting {a} items in C++."],
    "chat": ["Say hello to my friend number {a}.", "Give me a short greeting for day {b}.", "What's a nice name for a cat, option {c}?"],
}
_SKILL = {"math": (0.9, 0.3, 0.6), "code": (0.8, 0.2, 0.9), "chat": (0.7, 0.8, 0.7)}
CONFORMANCE_MODELS = ("strong-model", "weak-model", "coder-model")


def conformance_dataset(n_per_topic: int = 20, seed: int = 0, answers: bool = False) -> Dataset:
    """A small deterministic dataset with query-dependent skill, for conformance checks.

    Three models whose accuracy depends on the query's topic, so a router that learns
    anything has signal to learn. Includes both outcomes and derived preferences.
    With ``answers=True`` outcomes also carry each model's multiple-choice ``answer``
    (the right letter when it scored 1, else the same plausible wrong letter), for
    routers that learn from the pool's answers alone.
    """
    rng = np.random.default_rng(seed)
    queries, outcomes = [], []
    for topic, templates in _TOPICS.items():
        for i in range(n_per_topic):
            text = templates[i % len(templates)].format(a=i + 2, b=3 * i + 1, c=7 * i + 5)
            qid = query_id_for(text)
            queries.append({"query_id": qid, "query": text, "task": topic})
            for model, p in zip(CONFORMANCE_MODELS, _SKILL[topic]):
                outcomes.append({"query_id": qid, "model": model, "score": float(rng.random() < p), "source": "gold"})
    out = pd.DataFrame(outcomes)
    if answers:
        gold = out["query_id"].map(lambda q: "ABCD"[int(q, 16) % 4])
        wrong = out["query_id"].map(lambda q: "ABCD"[(int(q, 16) + 1) % 4])
        out["answer"] = gold.where(out["score"] == 1.0, wrong)
    prefs = outcomes_to_preferences(out, CONFORMANCE_MODELS)
    pool = pd.DataFrame(
        {"model": list(CONFORMANCE_MODELS), "price_in_per_mtok": [10.0, 0.5, 2.0], "price_out_per_mtok": [30.0, 1.5, 6.0]}
    )
    return Dataset(pd.DataFrame(queries), out, prefs, pool, meta={"name": "conformance"})


def _fail(router: Router, check: str, detail: str) -> AssertionError:
    return AssertionError(f"check_router[{check}] failed for {type(router).__name__}: {detail}")


def check_router(router: Router, data: Dataset | None = None, atol: float = 1e-6) -> None:
    """Run every conformance check on an unfitted ``router``; raise AssertionError on the first failure."""
    data = data if data is not None else conformance_dataset()
    name = type(router).__name__
    queries = data.queries[["query_id", "query"]]

    # params: __init__ stores its arguments unchanged and get_params round-trips
    params = router.get_params(deep=False)
    expected = set(type(router)._get_param_names())
    if set(params) != expected:
        raise _fail(router, "params", f"get_params keys {sorted(params)} != __init__ args {sorted(expected)}")
    if router.quality_kind not in QUALITY_KINDS:
        raise _fail(router, "quality_kind", repr(router.quality_kind))
    if any(k.endswith("_") for k in vars(router)):
        raise _fail(router, "init", "unfitted router already has learned attributes (ending in '_')")

    # unfitted use is a clear error
    try:
        router.predict_quality(queries)
    except NotFittedError:
        pass
    else:
        raise _fail(router, "unfitted", "predict_quality before fit did not raise NotFittedError")

    # fit returns self; shape, range, finiteness
    fitted = clone(router)
    if fitted.fit(data) is not fitted:
        raise _fail(router, "fit", "fit did not return self")
    q = fitted.predict_quality(queries)
    if q.shape != (len(queries), len(fitted.models_)):
        raise _fail(router, "shape", f"{q.shape} for {len(queries)} queries and {len(fitted.models_)} models")
    if not np.isfinite(q).all() or q.min() < 0 or q.max() > 1:
        raise _fail(router, "range", "Q̂ must be finite and in [0, 1]")
    if set(fitted.models_) != set(data.models):
        raise _fail(router, "models", f"models_ {fitted.models_} != dataset models {data.models}")

    # batch independence: a query's Q̂ does not depend on the batch it came in
    single = fitted.predict_quality(queries.iloc[[3]])
    if not np.allclose(single[0], q[3], atol=atol):
        raise _fail(router, "batch", "Q̂ of a query differs between batch of 1 and full batch")
    texts = queries["query"].tolist()[:2]
    if not np.allclose(fitted.predict_quality(texts), q[:2], atol=atol) and not router.needs_test_labels:
        raise _fail(router, "text-input", "predicting from plain strings differs from the query frame")

    # determinism: clone and refit gives the same Q̂
    q2 = clone(router).fit(data).predict_quality(queries)
    if not np.allclose(q, q2, atol=atol):
        raise _fail(router, "determinism", f"refit changed Q̂ by up to {np.abs(q - q2).max():.3g}")

    # pair score and unknown models
    strong, weak = fitted.models_[0], fitted.models_[1]
    ps = fitted.pair_score(queries, strong, weak)
    if ps.shape != (len(queries),) or not np.isfinite(ps).all():
        raise _fail(router, "pair_score", f"shape {ps.shape}")
    try:
        fitted.pair_score(queries, "no-such-model", weak)
    except UnknownModelError:
        pass
    else:
        raise _fail(router, "unknown-model", "an unknown model name did not raise UnknownModelError")

    # save/load round trip gives identical Q̂, without pickle
    from ..artifact import load_router

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.routecraft"
        fitted.save(str(path))
        loaded = load_router(path)
        if type(loaded) is not type(fitted):
            raise _fail(router, "save-load", f"loaded a {type(loaded).__name__}")
        q3 = loaded.predict_quality(queries)
        if not np.allclose(q, q3, atol=atol):
            raise _fail(router, "save-load", f"Q̂ changed by up to {np.abs(q - q3).max():.3g} after load")
        if loaded.models_ != fitted.models_:
            raise _fail(router, "save-load", "models_ changed after load")

    # learning from an unusable dataset is a clear DataError
    empty = Dataset(data.queries, meta={"name": "no-labels"})
    try:
        clone(router).fit(empty)
    except DataError:
        pass
    else:
        raise _fail(router, "no-labels", f"{name}.fit on a dataset without labels did not raise DataError")
