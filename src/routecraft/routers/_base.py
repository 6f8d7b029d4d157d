"""The Router contract (DESIGN §4).

A router answers one question: how good would each model of the pool be on this
query? ``predict_quality`` returns a matrix Q̂ of shape (n_queries, n_models) in
``models_`` order, on one of two scales named by ``quality_kind``:

- ``"score"``: expected score in [0, 1] (outcome routers);
- ``"win_prob"``: probability of beating a reference opponent (pairwise routers), so
  ``logit(Q̂[:, s]) - logit(Q̂[:, w])`` is the strong-vs-weak Bradley–Terry margin.

Routers follow scikit-learn's estimator contract: parameters only in ``__init__``
(stored unchanged), ``fit`` returns ``self``, learned state ends in ``_``. They persist
through :meth:`_get_state` / :meth:`_set_state`, which export JSON and numpy arrays
only, never pickles (see :mod:`routecraft.artifact`).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Optional, Sequence, Union

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .._errors import DataError, NotFittedError, ParameterError, UnknownModelError
from ..artifact._schema import StateSchema, check_arrays
from ..data._dataset import Dataset
from ..data._tables import check_query_lengths, query_id_for
from ..embed._base import Embedder, make_embedder
from ._blas import blas_threads_for

QueryInput = Union[Dataset, pd.DataFrame, Sequence[str], str]

QUALITY_KINDS = ("score", "win_prob")


def as_queries(queries: QueryInput) -> pd.DataFrame:
    """Normalise any accepted query input to a frame with ``query_id`` and ``query``."""
    if isinstance(queries, Dataset):
        return queries.queries[["query_id", "query"]]  # lengths were checked when it was built
    if isinstance(queries, pd.DataFrame):
        if "query" not in queries.columns:
            raise DataError("queries frame needs a 'query' column", field="query")
        has_ids = "query_id" in queries.columns
        if has_ids and all(pd.api.types.is_string_dtype(queries[c]) for c in ("query_id", "query")):
            # already normalised: no copy on the hot path
            check_query_lengths(queries["query"])
            return queries if list(queries.columns) == ["query_id", "query"] else queries[["query_id", "query"]]
        ids = queries["query_id"].astype(str) if has_ids else queries["query"].map(query_id_for)
        texts = queries["query"].astype(str)
        check_query_lengths(texts)
        return pd.DataFrame({"query_id": ids.to_numpy(), "query": texts.to_numpy()})
    if isinstance(queries, str):
        queries = [queries]
    texts = [str(t) for t in queries]
    check_query_lengths(texts)
    # object dtype: building Arrow-backed strings costs more than routing one query
    return pd.DataFrame({"query_id": [query_id_for(t) for t in texts], "query": texts}, dtype=object)


def plain_texts(queries: QueryInput) -> list[str] | None:
    """``queries`` as a list of texts when it is a string or a list/tuple of strings, else None."""
    if isinstance(queries, str):
        return [queries]
    if isinstance(queries, (list, tuple)) and all(type(t) is str for t in queries):
        return list(queries)
    return None


class Router(BaseEstimator):
    """Base class of every router. Subclasses implement ``_fit`` and ``_predict``.

    Class attributes a subclass sets:

    - ``quality_kind``: ``"score"`` or ``"win_prob"`` (see module docstring);
    - ``learns_from``: tables it can learn from, e.g. ``("outcomes",)``,
      ``("preferences",)`` or both (outcomes are converted to preferences when needed);
    - ``needs_test_labels``: True only for the oracle, which reads the true scores of
      the queries it routes (an evaluation upper bound, never deployable);
    - ``_parameter_constraints``: scikit-learn-style constraints per ``__init__``
      parameter (``Interval``, ``StrOptions``, types, ``None``), checked by
      :meth:`_validate_params` before every ``fit`` *and* when an artifact is loaded;
      override ``_validate_params`` (calling ``super()``) for checks across parameters;
    - ``state_schema``: dtype kind and shape of every array ``_get_state`` exports
      (see :mod:`routecraft.artifact._schema`); artifacts are checked against it on load.
    """

    quality_kind: ClassVar[str] = "score"
    learns_from: ClassVar[tuple[str, ...]] = ("outcomes",)
    needs_test_labels: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    state_schema: ClassVar[Optional[StateSchema]] = None

    # ----------------------------------------------------------------- public
    def fit(self, data: Dataset) -> "Router":
        """Learn from ``data`` and return ``self``."""
        if not isinstance(data, Dataset):
            raise DataError(f"{type(self).__name__}.fit expects a routecraft Dataset, got {type(data).__name__}")
        if not any(getattr(data, t) is not None for t in self.learns_from):
            raise DataError(
                f"{type(self).__name__} learns from {' or '.join(self.learns_from)}, "
                f"but dataset '{data.name}' has none of them"
            )
        self._validate_params()
        self._fit(data)
        self.n_train_queries_ = len(data)
        self.training_fingerprint_ = data.fingerprint()
        return self

    def predict_quality(self, queries: QueryInput) -> np.ndarray:
        """Q̂ of shape (n_queries, len(models_)) in [0, 1]."""
        self._check_fitted()
        texts = plain_texts(queries) if isinstance(self, TextRouterMixin) else None
        if texts is not None:  # the server's hot path: no frame for routers that read only the text
            n = len(texts)
            q = np.asarray(self._predict_small(texts), dtype=float) if n else None
        else:
            frame = as_queries(queries)
            n = len(frame)
            q = np.asarray(self._predict(frame), dtype=float) if n else None
        if q is None:
            return np.zeros((0, len(self.models_)))
        if q.shape != (n, len(self.models_)):
            raise RuntimeError(f"{type(self).__name__} returned shape {q.shape}")
        return np.minimum(np.maximum(q, 0.0), 1.0)  # np.clip's result, without its wrapper's overhead

    def pair_score(self, queries: QueryInput, strong: str, weak: str) -> np.ndarray:
        """Routing score for a strong/weak pair: high means "send to strong" (RouteLLM's P(strong wins))."""
        q = self.predict_quality(queries)
        return pair_score_from_quality(q, self.model_index(strong), self.model_index(weak), self.quality_kind)

    def model_index(self, model: str) -> int:
        self._check_fitted()
        try:
            return self.models_.index(model)
        except ValueError:
            raise UnknownModelError(
                f"model {model!r} is not in this router's pool ({', '.join(self.models_)})"
            ) from None

    def save(self, path: str, metrics: dict[str, Any] | None = None) -> str:
        """Write this fitted router to a ``.routecraft`` artifact (zip, no pickle)."""
        from ..artifact import save_router

        return save_router(self, path, metrics=metrics)

    # ------------------------------------------------------------ subclassing
    def _fit(self, data: Dataset) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Learned state as (JSON-able dict, arrays). The base stores ``models_``."""
        return {"models_": list(self.models_)}, {}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.models_ = list(state["models_"])

    def _validate_params(self) -> None:
        """Raise :class:`ParameterError` naming the first parameter outside its constraints.

        Called by ``fit`` and by ``load_router``, so a manifest edited to ``k=-5`` is refused
        exactly as training with ``k=-5`` is. Constraints use scikit-learn's vocabulary.
        """
        if not self._parameter_constraints:
            return
        from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

        try:
            validate_parameter_constraints(
                self._parameter_constraints, self.get_params(deep=False), caller_name=type(self).__name__
            )
        except InvalidParameterError as exc:
            raise ParameterError(str(exc)) from None

    # --------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(data) first")

    def _make_embedder(self) -> Embedder:
        """Build the embedder named by the ``embedder`` parameter (routers that embed)."""
        return make_embedder(getattr(self, "embedder"))


def pair_score_from_quality(q: np.ndarray, strong: int, weak: int, kind: str) -> np.ndarray:
    """P(strong is worth it) from a quality matrix, on a scale comparable across queries.

    For ``win_prob`` routers the Bradley–Terry probability that strong beats weak;
    for ``score`` routers ``(1 + Q̂_s − Q̂_w) / 2``, the expected gain mapped to [0, 1].
    Either is monotone in the router's belief that strong is better.
    """
    if kind == "win_prob":
        eps = 1e-9
        qs = np.minimum(np.maximum(q[:, strong], eps), 1 - eps)  # = np.clip, cheaper per call
        qw = np.minimum(np.maximum(q[:, weak], eps), 1 - eps)
        margin = np.log(qs / (1 - qs)) - np.log(qw / (1 - qw))
        return 1.0 / (1.0 + np.exp(-margin))
    return (1.0 + q[:, strong] - q[:, weak]) / 2.0


class TextRouterMixin:
    """For routers whose Q̂ depends on the query text alone (not its id or other columns).

    They implement ``_predict_texts(texts) -> (n, m)``; :meth:`Router.predict_quality` calls
    it directly for plain text input, skipping the query frame, whose construction costs
    more than routing one query. Frames and datasets go through the same method, so both
    paths give identical Q̂.
    """

    def _predict(self, queries: pd.DataFrame) -> np.ndarray:
        return self._predict_small(queries["query"].tolist())

    def _predict_small(self, texts: list[str]) -> np.ndarray:
        with blas_threads_for(len(texts)):
            return self._predict_texts(texts)  # type: ignore[attr-defined]


class EmbeddingRouterMixin:
    """Shared embedder handling for routers with an ``embedder`` parameter.

    Fits the embedder on training texts when it learns (TF-IDF), and saves/restores
    its state alongside the router's own state under the ``embedder.`` prefix: a
    router's own ``_get_state``/``_set_state`` call ``super()`` and get this for free.
    """

    def _fit_embedder(self, texts: Sequence[str]) -> np.ndarray:
        embedder = make_embedder(self.embedder)  # type: ignore[attr-defined]
        if embedder is self.embedder and embedder.requires_fit:  # type: ignore[attr-defined]
            # an Embedder *object* passed as the parameter: fitting it in place would change every
            # other router sharing it (and mutate this router's parameter). Fit a private copy.
            embedder = copy.deepcopy(embedder)
        self.embedder_ = embedder
        self.embedder_.fit(list(texts))
        return self.embedder_.encode(list(texts))

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder_.encode(list(texts))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()  # type: ignore[misc]
        e_state, e_arrays = self.embedder_.get_state()
        state["embedder_"] = {"name": self.embedder_.name, "dim": self.embedder_.dim, "state": e_state}
        arrays.update({f"embedder.{k}": v for k, v in e_arrays.items()})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)  # type: ignore[misc]
        info = state["embedder_"]
        self.embedder_ = make_embedder(info["name"])
        own = {k[len("embedder."):]: v for k, v in arrays.items() if k.startswith("embedder.")}
        inner = getattr(self.embedder_, "inner", self.embedder_)  # a CachedEmbedder wraps the real one
        check_arrays(own, getattr(inner, "state_schema", None), {"dim": int(info["dim"])}, "embedder state", "embedder.")
        self.embedder_.set_state(info["state"], own)
