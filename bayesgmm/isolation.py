"""Isolated rows: the noise component's starting guess, and the rows a data-scaled prior leaves
out when the model has a noise component.

A uniform noise component is there for points far from every cluster. Started like the
Gaussians (k-means on the data standardised by its sd, covariances from all rows), EM gives
gross outliers a Gaussian of their own, and a prior scaled by the data's covariance (mclust's
conjugate default; the posterior's standardisation) is inflated by them until it all but
forbids the real, tight clusters: measured on 58 rows of two clusters plus two rows x1000,
every MAP-EM start merged the clusters (log-likelihood -450 against -230). mclust asks the user
for an initial noise guess, typically from nearest-neighbour clutter removal (Byers & Raftery
1998, ``NNclean``); this is that idea in its simplest robust form: a row whose distance to its
k-th nearest neighbour is far beyond the typical one (on the log scale, in robust units) is
isolated. EM then decides: the guess only starts the noise component and scales the prior.

Where it sits: the data layer (NumPy and SciPy only); used by :mod:`bayesgmm.em` and
:mod:`bayesgmm.sampling` for fits with a noise component.
"""

from __future__ import annotations

import numpy as np

__all__ = ["isolated_observations", "isolated_rows"]

# A row is isolated when the log of its k-th nearest-neighbour distance exceeds the median's by
# this many robust sds plus log(3) (three times further again): conservative, since the guess
# only starts EM (measured: none on Old Faithful or the galaxies, about 1 row in 2,500 of two
# Gaussian clusters; rows x1000 are flagged).
_ISOLATION_SDS = 3.0
_MIN_RATIO = 3.0
# The most neighbours a row's k-th written-out neighbour is looked for among, and the most
# neighbour entries queried at once (see _kth_distance).
_MAX_NEIGHBOURS = 1024
_BLOCK_VALUES = 2_000_000


def isolated_rows(X: np.ndarray, k: int | None = None,
                  sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Which rows of ``X`` are isolated: far from their k nearest neighbours compared with
    the typical row.

    Parameters
    ----------
    X : ndarray (N, D)
        Complete rows (missing values imputed or left out beforehand).
    k : int, optional
        Neighbours (default: max(D + 1, 5), at most the rows' total weight - 1).
    sample_weight : ndarray (N,), optional
        Frequency weights: a row counts as that many identical rows, so the answer is the one
        for the rows written out (methodologist QA: a far row of weight 6 was isolated, its
        six copies were not); a row of weight 0 is no row (never isolated, no neighbour).

    Returns
    -------
    ndarray (N,) of bool
        No row is isolated when N < 3 or the data have no spread.
    """
    from scipy.spatial import cKDTree

    X = np.asarray(X, dtype=np.float64)
    N, D = X.shape
    g = np.ones(N) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    counted = g > 0
    far = np.zeros(N, dtype=bool)
    if not counted.all():  # the rows that exist
        far[counted] = isolated_rows(X[counted], k, g[counted])
        return far
    total = g.sum()
    if total < 3:
        return far
    k = min(k or max(D + 1, 5), total - 1)
    # robust units per feature (the outliers must not set the scale they are judged by)
    centre = _quantile(X, g, 0.5)
    scale = 1.4826 * _quantile(np.abs(X - centre), g, 0.5)
    iqr = _quantile(X, g, 0.75) - _quantile(X, g, 0.25)
    spread = np.ptp(X, axis=0)
    scale = np.where(scale > 0, scale, np.where(iqr > 0, iqr, np.where(spread > 0, spread, 1.0)))
    distance = _kth_distance(cKDTree((X - centre) / scale), (X - centre) / scale, g, k)
    if not np.any(distance > 0):
        return far
    # the typical distance among rows with any (tied rows, at distance 0, would make every
    # untied row of rounded data look isolated); a tied row itself is never isolated
    positive = distance > 0
    log_d = np.log(np.where(positive, distance, np.min(distance[positive])))
    typical = _quantile(log_d[positive], g[positive], 0.5)
    sd = 1.4826 * _quantile(np.abs(log_d[positive] - typical), g[positive], 0.5)
    return log_d > typical + _ISOLATION_SDS * sd + np.log(_MIN_RATIO)


def _kth_distance(tree, Z: np.ndarray, g: np.ndarray, k: float) -> np.ndarray:
    """Per row, the distance to its k-th nearest neighbour among the rows written out by
    their weights: the smallest d at which the row's other copies (g_i - 1) and the weight
    of the other rows within d reach k. Without weights, the plain k-th neighbour's."""
    N = len(Z)
    result = np.full(N, np.inf)
    todo = np.arange(N)
    m = min(int(np.ceil(k)) + 1, N)
    # Rows of small weights need many neighbours (k / weight): at most _MAX_NEIGHBOURS, the
    # distance there standing in (a lower bound: such a row is only less likely isolated),
    # and the rows in blocks of at most _BLOCK_VALUES neighbour entries (review: 1.2 GB at
    # N = 10,000 rows of weight 0.002).
    cap = min(N, max(_MAX_NEIGHBOURS, m))
    while todo.size:
        for rows in np.array_split(todo, max(1, todo.size * m // _BLOCK_VALUES)):
            d, j = tree.query(Z[rows], k=m)
            d, j = d.reshape(len(rows), m), j.reshape(len(rows), m)
            own = j == rows[:, None]
            reach = (g[rows] - 1.0)[:, None] + np.cumsum(np.where(own, 0.0, g[j]), axis=1)
            found = reach >= k - 1e-9
            done = found.any(axis=1) | (m >= cap)
            first = np.argmax(found, axis=1)
            # a row whose own copies reach k is at distance 0 (tied), whatever the tree gave
            at = np.where((g[rows] - 1.0) >= k - 1e-9, 0.0, d[np.arange(len(rows)), first])
            result[rows[done]] = np.where(found.any(axis=1), at, d[:, -1])[done]
        todo = todo[~np.isfinite(result[todo])]
        m = min(2 * m, cap)
    return result


def _quantile(values: np.ndarray, g: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile along axis 0 of the rows written out by their weights (NumPy's linear
    rule on the written-out rows, exactly, for whole-number weights)."""
    values = np.asarray(values, dtype=np.float64)
    flat = values.ndim == 1
    values = values[:, None] if flat else values
    values, g = values[g > 0], g[g > 0]  # a row of weight 0 is no row (review)
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    ends = np.cumsum(g[order], axis=0)  # the written-out positions each sorted row ends at
    position = max(q * (g.sum() - 1.0), 0.0)  # under one row in all: the first row
    below, frac = np.floor(position), position - np.floor(position)

    def at(i: float) -> np.ndarray:
        index = np.minimum((ends <= i).sum(axis=0), len(g) - 1)
        return ordered[index, np.arange(ordered.shape[1])]

    out = at(below) * (1.0 - frac) + at(np.ceil(position)) * frac
    return out[0] if flat else out


def isolated_observations(X: np.ndarray, labels: np.ndarray | None = None,
                          sample_weight: np.ndarray | None = None) -> np.ndarray:
    """The rows a fit with a noise component treats as isolated (``Observations.isolated``,
    and the report that says so): :func:`isolated_rows` with gaps (NaN) filled by column
    medians, which outliers do not move; a labelled row (``labels >= 0``) never; none when too
    few rows (2 D + 1) would be left.

    Parameters
    ----------
    X : ndarray (N, D), NaN for a missing value
    labels : ndarray (N,) of int, optional
    sample_weight : ndarray (N,), optional
        Frequency weights, as :func:`isolated_rows` takes them (the medians and the count of
        rows left are of the rows written out by them, too).
    """
    X = np.asarray(X, dtype=np.float64)
    g = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if np.isnan(X).any():
        medians = [_quantile(column[~np.isnan(column)], g[~np.isnan(column)], 0.5)
                   if (g[~np.isnan(column)] > 0).any() else np.nan for column in X.T]
        X = np.where(np.isnan(X), medians, X)
    far = isolated_rows(X, sample_weight=g)
    if labels is not None:
        far &= np.asarray(labels) < 0
    left = g[~far].sum()
    return far if left > 2 * X.shape[1] + 1 else np.zeros(len(X), dtype=bool)
