"""Skill niches for CASCAL (METHODS §B.2): weighted spherical k-means, merging, pruning.

Kept apart from the router so each step can be tested on small arrays. All vectors
are L2-normalised; distances are cosine distances ``1 - cos``.
"""

from __future__ import annotations

import warnings

import numpy as np

SILHOUETTE_SAMPLE = 2000  # silhouette is O(n²): score at most this many points


def normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def weighted_spherical_kmeans(
    x: np.ndarray,
    weights: np.ndarray,
    *,
    min_k: int = 2,
    max_k: int = 5,
    min_silhouette: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (k, d) and seed counts (k,), with k in [min_k, max_k] chosen by cosine silhouette.

    One centroid (the weighted mean direction) when there are too few distinct points
    or no k reaches ``min_silhouette``. Centroids are weighted means of their points.
    Callers fitting many of these should limit BLAS/OpenMP to one thread around the loop
    (``threadpoolctl.threadpool_limits(1)``): the problems are small and thread start-up
    dominates them.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    xn = normalise(np.asarray(x, dtype=float))
    n = len(xn)
    w = np.asarray(weights, dtype=float)
    w = w * (n / w.sum()) if w.sum() > 0 else np.ones(n)
    single = (normalise(np.average(xn, axis=0, weights=w)[None]), np.array([n]))
    if n <= 2:
        return single
    n_unique = len(np.unique(np.round(xn, 9), axis=0))
    best_score, best_labels, best_k = -np.inf, None, 0
    for k in range(max(min_k, 2), min(max_k, n - 1, n_unique - 1) + 1):
        km = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=200)  # "auto" = 1 for k-means++, as the reference
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = km.fit_predict(xn, sample_weight=w)
        if len(np.unique(labels)) < 2:
            continue
        score = silhouette_score(
            xn, labels, metric="cosine", sample_size=min(n, SILHOUETTE_SAMPLE), random_state=seed
        )
        if score > best_score:
            best_score, best_labels, best_k = score, labels, k
    if best_labels is None or best_score < min_silhouette:
        return single
    centroids, counts = [], []
    for c in range(best_k):
        mask = best_labels == c
        if mask.any():
            centroids.append(np.average(xn[mask], axis=0, weights=w[mask]))
            counts.append(int(mask.sum()))
    return normalise(np.array(centroids)), np.array(counts)


def merge_close(centroids: np.ndarray, counts: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedily fold each centroid into an earlier one closer than ``threshold`` (count-weighted mean)."""
    cents = [c.copy() for c in centroids]
    cnts = [float(c) for c in counts]
    alive = [True] * len(cents)
    for i in range(len(cents)):
        if not alive[i]:
            continue
        for j in range(i + 1, len(cents)):
            if alive[j] and 1.0 - float(cents[i] @ cents[j]) < threshold:
                merged = cents[i] * cnts[i] + cents[j] * cnts[j]
                cents[i] = normalise(merged[None])[0]
                cnts[i] += cnts[j]
                alive[j] = False
    keep = [i for i in range(len(cents)) if alive[i]]
    return np.array([cents[i] for i in keep]), np.array([cnts[i] for i in keep])


def assign(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of every row (ties to the lowest index)."""
    return np.argmax(x @ centroids.T, axis=1)


def cluster_scores(labels: np.ndarray, n_clusters: int, scores: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """(n_clusters, m) mean score per cluster and model; ``fallback`` where a cluster has no score."""
    out = np.tile(fallback, (n_clusters, 1)).astype(float)
    for c in range(n_clusters):
        block = scores[labels == c]
        if len(block):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(block, axis=0)
            out[c] = np.where(np.isnan(mean), fallback, mean)
    return out


def top_set(scores: np.ndarray, k: int = 3) -> frozenset[int]:
    """The k best models of a score row (ties by index, as a stable sort gives them)."""
    return frozenset(np.argsort(-scores, kind="stable")[:k].tolist())


def prune_redundant(labels: np.ndarray, scores: np.ndarray, jaccard: float) -> np.ndarray:
    """Fold each cluster whose top-3 models match a larger cluster's (Jaccard ≥ ``jaccard``) into it.

    Returns relabelled assignments numbered 0..k'-1 in order of first appearance by size.
    """
    sizes = np.bincount(labels, minlength=len(scores))
    order = [c for c in np.argsort(-sizes, kind="stable") if sizes[c] > 0]
    target: dict[int, int] = {}
    kept: list[int] = []
    for c in order:
        tops = top_set(scores[c])
        home = next((k for k in kept if len(tops & top_set(scores[k])) / len(tops | top_set(scores[k])) >= jaccard), None)
        if home is None:
            kept.append(c)
            target[c] = c
        else:
            target[c] = home
    renumber = {c: i for i, c in enumerate(kept)}
    return np.array([renumber[target[int(c)]] for c in labels])
