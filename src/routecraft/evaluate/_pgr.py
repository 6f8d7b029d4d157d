"""Two-model metrics: the c–PGR curve, APGR (exact and RouteLLM's) and CPT (DESIGN §6).

Everything is computed from query *weights*: the point estimate uses weight 1 per
query, and a bootstrap block uses its resample counts (B, n), given in **test-set
order** (the caller's order). :class:`PairData` sorts by routing score once and
permutes the counts into that order itself, so every router of a run sees the very
same resampled queries (a paired bootstrap), and a resample never needs re-sorting —
a threshold just cuts the sorted order, and the curve is a pair of cumulative sums.
A row's size is its own count total (a resample restricted to the queries that have
both true scores need not have exactly n of them).

Definitions (route to strong iff score ≥ t):
- c = fraction routed to strong; r = mean true score of the chosen models;
  PGR = (r − r_weak) / (r_strong − r_weak).
- ``apgr``: thresholds at every distinct score plus "all weak", trapezoid area over c.
  Within a block of tied scores the straight segment is the expected curve of
  breaking the tie at random.
- ``apgr_routellm``: RouteLLM's evaluator — thresholds are the ``pd.qcut(scores, 10)``
  edges of the eval scores, strong iff score ≥ edge except ``>`` for the last edge;
  the 11 (c, acc) points sorted by c; AUC = trapz(acc, c); APGR = (AUC − r_weak·Δc) /
  ((r_strong − r_weak)·Δc). RouteLLM's qcut raises on duplicate edges (it passes no
  ``duplicates=``); we keep duplicates — its code comment says "including
  duplicates" — which adds zero-width segments and otherwise changes nothing.
- pandas changed those edges in 3.0: ``qcut`` now asks for the deciles rounded *up*
  where they are not exact in base 2 (0.1, 0.3, 0.6, 0.7, 0.9 → next float), where
  pandas 2 asked for ``np.linspace(0, 1, 11)`` as is. When (n − 1)·level is an
  integer k the pandas-3 edge lands a hair above the k-th score, so that query moves
  to weak. We follow **pandas 3** (``qcut="pandas3"``, the default, what RouteLLM
  gives when run today); ``qcut="pandas2"`` reproduces the numbers of RouteLLM's
  paper-era runs. Both are tested against a transcription of RouteLLM's evaluator.
- CPT(x): ``exact`` is the smallest c of an attainable threshold with PGR ≥ x;
  ``routellm`` is ``np.interp(r_weak + x·(r_strong − r_weak), acc, c)`` on its 11 points.
- Undefined is undefined: when strong and weak have the same mean score PGR has no
  denominator, and APGR, CPT (both kinds) are NaN (``null`` in JSON), never a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_BINS = 10
TOL = 1e-12


QCUT_MODES = ("pandas3", "pandas2")


def qcut_quantiles(q: int = N_BINS, mode: str = "pandas3") -> np.ndarray:
    """The quantile levels ``pd.qcut(x, q)`` asks for.

    ``pandas3``: linspace, rounded up where not exact in base 2; ``pandas2``: linspace.
    """
    if mode not in QCUT_MODES:
        raise ValueError(f"qcut mode must be one of {QCUT_MODES}, got {mode!r}")
    levels = np.linspace(0.0, 1.0, q + 1)
    if mode == "pandas3":
        inexact = q * levels != np.arange(q + 1)
        levels[inexact] = np.nextafter(levels[inexact], 1.0)
    return levels


def _prefix(a: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sum with a leading 0: prefix[:, k] = sum of the first k columns."""
    out = np.zeros((a.shape[0], a.shape[1] + 1))
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


@dataclass
class PairBlock:
    """Statistics of one block of weightings (B rows): curves and scalar metrics per row."""

    r_weak: np.ndarray
    r_strong: np.ndarray
    c: np.ndarray  # exact curve, (B, K), ascending in c
    quality: np.ndarray
    pgr: np.ndarray
    rl_c: np.ndarray  # RouteLLM's 11 points, sorted by c
    rl_acc: np.ndarray

    @property
    def defined(self) -> np.ndarray:
        """Rows where PGR has a denominator (strong and weak differ in mean score)."""
        return self.r_strong != self.r_weak

    def _only_defined(self, values: np.ndarray) -> np.ndarray:
        return np.where(self.defined, values, np.nan)

    @property
    def apgr(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self._only_defined(np.trapezoid(self.pgr, self.c, axis=1))

    @property
    def apgr_routellm(self) -> np.ndarray:
        auc = np.trapezoid(self.rl_acc, self.rl_c, axis=1)
        dc = self.rl_c[:, -1] - self.rl_c[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (auc - self.r_weak * dc) / ((self.r_strong - self.r_weak) * dc)
        return np.where(np.isfinite(out), out, np.nan)

    def cpt(self, x: float) -> np.ndarray:
        """Smallest attainable c with PGR ≥ x (NaN where PGR is undefined)."""
        with np.errstate(invalid="ignore"):
            c = np.where(self.pgr >= x - TOL, self.c, np.inf).min(axis=1)
        return self._only_defined(np.where(np.isfinite(c), c, np.nan))

    def cpt_routellm(self, x: float) -> np.ndarray:
        target = self.r_weak + x * (self.r_strong - self.r_weak)
        out = np.array([np.interp(t, acc, c) for t, acc, c in zip(target, self.rl_acc, self.rl_c)])
        return self._only_defined(out)


class PairData:
    """Routing scores and the strong/weak true scores, sorted once by score (ascending).

    ``block`` takes weights in the order the scores were given (test-set order) and
    permutes them itself, so one resample matrix serves every router of a run.
    """

    def __init__(self, scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, qcut: str = "pandas3") -> None:
        scores = np.asarray(scores, dtype=float)
        self.order = np.argsort(scores, kind="stable")
        self.v = scores[self.order]
        self.strong = np.asarray(strong, dtype=float)[self.order]
        self.weak = np.asarray(weak, dtype=float)[self.order]
        self.n = len(self.v)
        starts = np.flatnonzero(np.r_[True, self.v[1:] != self.v[:-1]])
        # Cut points of the exact curve in ascending c: "all weak" (k = n), then each distinct score.
        self.cuts = np.r_[self.n, starts[::-1]]
        self.levels = qcut_quantiles(mode=qcut)

    def block(self, w: np.ndarray) -> PairBlock:
        """Curves and metrics for weight rows ``w`` (B, n) in the caller's (test-set) order."""
        w = np.asarray(w, dtype=float)[:, self.order]
        cw = _prefix(w)
        cg = _prefix(w * (self.strong - self.weak))
        size = cw[:, -1:]  # resample size of each row (n for the point estimate)
        weak_sum = (w @ self.weak)[:, None]
        total_gain = cg[:, -1:]
        rows = np.arange(len(w))[:, None]

        def at(k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """(c, mean score, gain sum) when the queries from sorted position k on go strong.

            Sums are divided by the row size once, as a plain mean would be, so integer
            scores give bit-identical accuracies to RouteLLM's ``sum(results) / len(results)``.
            """
            gain = total_gain - cg[rows, k]
            with np.errstate(divide="ignore", invalid="ignore"):
                return (size - cw[rows, k]) / size, (weak_sum + gain) / size, gain

        c, quality, gain = at(np.broadcast_to(self.cuts, (len(w), len(self.cuts))))
        with np.errstate(divide="ignore", invalid="ignore"):
            pgr = gain / total_gain

        edges = self._weighted_quantiles(cw)
        k = np.searchsorted(self.v, edges, side="left")
        k[:, -1] = np.searchsorted(self.v, edges[:, -1], side="right")  # last edge: score > edge
        rl_c, rl_acc, _ = at(k)
        order = np.argsort(rl_c, axis=1, kind="stable")
        with np.errstate(divide="ignore", invalid="ignore"):
            r_weak, r_strong = weak_sum[:, 0] / size[:, 0], (w @ self.strong) / size[:, 0]
        return PairBlock(
            r_weak,
            r_strong,
            c,
            quality,
            pgr,
            np.take_along_axis(rl_c, order, axis=1),
            np.take_along_axis(rl_acc, order, axis=1),
        )

    def _weighted_quantiles(self, cw: np.ndarray) -> np.ndarray:
        """numpy's linear quantiles (as pandas' qcut asks for them) of each weighted sample.

        The j-th smallest element of a resample is the sorted value at the first position
        whose cumulative count exceeds j; all rows are searched at once by offsetting
        each row's cumulative counts into its own range.
        """
        n, b = self.n, cw.shape[0]
        size = np.maximum(cw[:, -1:], 1.0)  # an empty row gets edges of nothing; its metrics are NaN anyway
        h = (size - 1) * self.levels[None, :]
        lo = np.floor(h)
        gamma = h - lo
        lo = np.minimum(lo, size - 1)
        hi = np.minimum(lo + 1, size - 1)
        span = float(cw[:, -1].max()) + 1.0 if b else 1.0
        offsets = (np.arange(b) * span)[:, None]
        flat = (cw[:, 1:] + offsets).ravel()

        def value_at_rank(rank: np.ndarray) -> np.ndarray:
            pos = np.searchsorted(flat, (rank + offsets).ravel(), side="right")
            return self.v[np.minimum(pos.reshape(b, -1) - np.arange(b)[:, None] * n, n - 1)]

        a, z = value_at_rank(lo), value_at_rank(hi)
        diff = z - a
        # numpy's _lerp: a + diff·t below t = 0.5, z − diff·(1 − t) from 0.5 on (bit-for-bit equal)
        return np.where(gamma >= 0.5, z - diff * (1 - gamma), a + diff * gamma)


def _point(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, qcut: str = "pandas3") -> PairBlock:
    data = PairData(scores, strong, weak, qcut=qcut)
    return data.block(np.ones((1, data.n)))


def pgr_curve(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray) -> dict[str, np.ndarray]:
    """The exact curve: ``strong_fraction``, ``quality`` and ``pgr`` at every distinct threshold."""
    b = _point(scores, strong, weak)
    return {"strong_fraction": b.c[0], "quality": b.quality[0], "pgr": b.pgr[0]}


def apgr(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray) -> float:
    """Area under the exact c–PGR curve (NaN when strong and weak score the same on average)."""
    return float(_point(scores, strong, weak).apgr[0])


def apgr_routellm(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, qcut: str = "pandas3") -> float:
    """APGR as RouteLLM's evaluator computes it (qcut deciles, trapz); ``qcut`` picks pandas 3 or 2 edges."""
    return float(_point(scores, strong, weak, qcut).apgr_routellm[0])


def cpt(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, x: float) -> float:
    """Smallest strong-call fraction with PGR ≥ x on the exact curve."""
    return float(_point(scores, strong, weak).cpt(x)[0])


def cpt_routellm(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, x: float, qcut: str = "pandas3") -> float:
    """RouteLLM's CPT: np.interp of the target accuracy on its 11-point curve."""
    return float(_point(scores, strong, weak, qcut).cpt_routellm(x)[0])
