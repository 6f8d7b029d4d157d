"""`check_router`: the conformance suite every router passes (like sklearn's check_estimator).

Each check raises ``AssertionError`` with a message naming the check and the router.
Call it in a test for every router class you write:

    from routecraft.routers import check_router
    check_router(KNNRouter(embedder="tfidf"))
"""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._errors import ArtifactError, DataError, NotFittedError, ParameterError, UnknownModelError
from ..artifact._schema import check_arrays
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


# Queries no conformance router has seen: in-topic paraphrases, out-of-vocabulary text,
# non-Latin script and punctuation only. A router must answer them as well-formed as any.
UNSEEN_QUERIES = (
    "Solve for y: 12y - 4 = 20, and show each step.",
    "Write a Rust function that reverses a linked list.",
    "Good morning! How are you today?",
    "zxqv wjkp qqqq",
    "素数は無限に存在しますか？",
    "?!",
)


def _snapshot(value: Any, depth: int = 0) -> Any:
    """A deep, comparable picture of a parameter value (arrays by bytes, objects by their attributes)."""
    if depth > 6:
        return ("...",)
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_snapshot(v, depth + 1) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _snapshot(v, depth + 1)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(v) for v in value)))
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        return (type(value).__name__, _snapshot({k: v for k, v in attrs.items() if not callable(v)}, depth + 1))
    return (type(value).__name__, repr(value))


def _changed_params(before: dict[str, Any], router: Router) -> list[str]:
    after = router.get_params(deep=False)
    return sorted(k for k in before if k not in after or _snapshot(after[k]) != before[k])


def _shared_params(router: Router) -> dict[str, Any]:
    """The router's parameters with an ``embedder`` spec replaced by one Embedder *object*,
    so two routers built from them share that object (the case that leaked state)."""
    from ..embed._base import make_embedder

    params = router.get_params(deep=False)
    if isinstance(params.get("embedder"), str):
        params["embedder"] = make_embedder(params["embedder"])
    return params


def check_router(router: Router, data: Dataset | None = None, atol: float = 1e-6) -> None:
    """Run every conformance check on an unfitted ``router``; raise AssertionError on the first failure.

    Each message starts ``check_router[<check>] failed for <Class>:`` and says what was
    expected and what was found. The checks, in order: params (``__init__`` stores its
    arguments unchanged, ``clone`` works, constraints declared and accepted), quality_kind,
    init, unfitted, fit, fit-mutates-params, shape, range, models, unseen, batch,
    text-input, determinism, clone-independence, shared-param, schema, pair_score,
    unknown-model, save-load, no-labels.
    """
    data = data if data is not None else conformance_dataset()
    name = type(router).__name__
    queries = data.queries[["query_id", "query"]]

    # params: __init__ stores every argument under its own name, unchanged (what clone relies on)
    params = router.get_params(deep=False)
    expected = set(type(router)._get_param_names())
    if set(params) != expected:
        raise _fail(router, "params", f"get_params keys {sorted(params)} != __init__ args {sorted(expected)}")
    rebuilt = type(router)(**params)
    for key, value in params.items():
        if getattr(rebuilt, key, _MISSING) is not value:
            raise _fail(
                router, "params",
                f"__init__ does not store parameter '{key}' unchanged (passed {value!r}, stored "
                f"{getattr(rebuilt, key, '<nothing>')!r}); store arguments as given and validate in fit",
            )
    signature = inspect.signature(type(router).__init__).parameters.values()
    defaults = {p.name: p.default for p in signature if p.name in expected and p.default is not p.empty}
    if len(defaults) == len(expected):
        plain = type(router)()
        for key, default in defaults.items():
            stored = getattr(plain, key, _MISSING)
            if stored is not default and (type(stored) is not type(default) or _snapshot(stored) != _snapshot(default)):
                raise _fail(
                    router, "params",
                    f"__init__ does not store parameter '{key}' unchanged (default {default!r}, stored "
                    f"{'<nothing>' if stored is _MISSING else repr(stored)}); store arguments as given and validate in fit",
                )
    try:
        clone(router)
    except Exception as exc:  # sklearn raises RuntimeError naming the parameter
        raise _fail(router, "params", f"clone failed: {exc}") from None
    undeclared = sorted(expected - set(router._parameter_constraints))
    if undeclared and type(router)._validate_params is Router._validate_params:
        raise _fail(
            router, "params",
            f"parameter(s) {', '.join(undeclared)} have no entry in _parameter_constraints and "
            "_validate_params is not overridden: artifacts could not re-validate them on load",
        )
    try:
        router._validate_params()
    except ParameterError as exc:
        raise _fail(router, "params", f"the router's own parameters fail its constraints: {exc}") from None
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

    # fit returns self and leaves every parameter as it was (deep-compared, and the same objects)
    fitted = clone(router)
    before = {k: _snapshot(v) for k, v in fitted.get_params(deep=False).items()}
    objects = fitted.get_params(deep=False)
    if fitted.fit(data) is not fitted:
        raise _fail(router, "fit", "fit did not return self")
    changed = _changed_params(before, fitted)
    replaced = sorted(k for k, v in fitted.get_params(deep=False).items() if v is not objects[k])
    if changed or replaced:
        raise _fail(
            router, "fit-mutates-params",
            f"fit changed parameter(s) {', '.join(changed or replaced)}; keep learned state in attributes ending in '_'",
        )
    q = fitted.predict_quality(queries)
    if q.shape != (len(queries), len(fitted.models_)):
        raise _fail(router, "shape", f"{q.shape} for {len(queries)} queries and {len(fitted.models_)} models")
    if not np.isfinite(q).all() or q.min() < 0 or q.max() > 1:
        raise _fail(router, "range", "Q̂ must be finite and in [0, 1]")
    if set(fitted.models_) != set(data.models):
        raise _fail(router, "models", f"models_ {fitted.models_} != dataset models {data.models}")

    # queries never seen in training: well-formed, and independent of the batch they come in
    if not router.needs_test_labels:
        try:
            qu = fitted.predict_quality(list(UNSEEN_QUERIES))
        except Exception as exc:
            raise _fail(router, "unseen", f"predicting unseen queries raised {type(exc).__name__}: {exc}") from None
        if qu.shape != (len(UNSEEN_QUERIES), len(fitted.models_)) or not np.isfinite(qu).all():
            raise _fail(router, "unseen", f"Q̂ of unseen queries has shape {qu.shape} or non-finite values")
        one = fitted.predict_quality(UNSEEN_QUERIES[0])
        if not np.allclose(one[0], qu[0], atol=atol):
            raise _fail(router, "unseen", "Q̂ of an unseen query differs between batch of 1 and full batch")

    # batch independence: a query's Q̂ does not depend on the batch it came in
    single = fitted.predict_quality(queries.iloc[[3]])
    if not np.allclose(single[0], q[3], atol=atol):
        raise _fail(router, "batch", "Q̂ of a query differs between batch of 1 and full batch")
    texts = queries["query"].tolist()[:2]
    if not np.allclose(fitted.predict_quality(texts), q[:2], atol=atol) and not router.needs_test_labels:
        raise _fail(router, "text-input", "predicting from plain strings differs from the query frame")

    # determinism: clone and refit gives the same Q̂
    other = clone(router)
    q2 = other.fit(data).predict_quality(queries)
    if not np.allclose(q, q2, atol=atol):
        raise _fail(router, "determinism", f"refit changed Q̂ by up to {np.abs(q - q2).max():.3g}")

    # clone independence: a clone starts unfitted, and fitting it elsewhere leaves the original alone
    half = data.subset(data.query_ids[::2])
    fresh = clone(fitted)
    if any(k.endswith("_") and not k.startswith("__") for k in vars(fresh)):
        raise _fail(router, "clone-independence", "clone of a fitted router carries learned attributes")
    fresh.fit(half)
    q_after = fitted.predict_quality(queries)
    if not np.allclose(q, q_after, atol=atol):
        raise _fail(
            router, "clone-independence",
            f"fitting a clone on other data changed the original's Q̂ by up to {np.abs(q - q_after).max():.3g} "
            "(learned state is shared between instances)",
        )

    # shared parameter objects: fitting one router must not change another built from the same objects
    shared = _shared_params(router)
    first = type(router)(**shared).fit(data)
    q_first = first.predict_quality(queries)
    type(router)(**shared).fit(half)
    q_first_after = first.predict_quality(queries)
    if not np.allclose(q_first, q_first_after, atol=atol):
        raise _fail(
            router, "shared-param",
            f"fitting a second router that shares a parameter object changed the first's Q̂ by up to "
            f"{np.abs(q_first - q_first_after).max():.3g}; fit a copy of mutable parameters, never the object itself",
        )

    # state schema: every exported array is declared, with the dtype and shape it really has
    state, arrays = fitted._get_state()
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    own = {k: v for k, v in arrays.items() if not k.startswith("embedder.")}
    if own and type(router).state_schema is None:
        raise _fail(
            router, "schema",
            f"_get_state exports arrays {sorted(own)} but the class declares no state_schema",
        )
    dims = {"n_models": len(fitted.models_)}
    if isinstance(state.get("embedder_"), dict):
        dims["dim"] = int(state["embedder_"]["dim"])
    try:
        check_arrays(own, type(router).state_schema, dims, "state_schema")
    except ArtifactError as exc:
        raise _fail(router, "schema", str(exc)) from None

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


_MISSING = object()
