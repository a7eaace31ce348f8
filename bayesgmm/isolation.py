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

import hashlib
import threading

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
# Rows whose distances set the typical one when only a few rows are judged among many.
_TYPICAL_ROWS = 4096


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
    X = np.asarray(X, dtype=np.float64)
    g = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    return _isolated_among(_in_robust_units(X, g), g, np.ones(len(X), dtype=bool), k)


def _in_robust_units(X: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``X`` centred on its columns' medians and divided by their MADs (else IQRs, ranges):
    the outliers must not set the scale they are judged by. Per column, over its values
    (NaN where missing) in rows of positive weight."""
    columns = []
    for x in X.T if np.isnan(X).any() else [X]:
        x = x.reshape(len(X), -1)
        use = (g > 0) & ~np.isnan(x).any(axis=1)
        if not use.any():
            columns.append(x)
            continue
        x_used, g_used = x[use], g[use]
        centre = _quantile(x_used, g_used, 0.5)
        scale = 1.4826 * _quantile(np.abs(x_used - centre), g_used, 0.5)
        iqr = _quantile(x_used, g_used, 0.75) - _quantile(x_used, g_used, 0.25)
        spread = np.ptp(x_used, axis=0)
        scale = np.where(scale > 0, scale,
                         np.where(iqr > 0, iqr, np.where(spread > 0, spread, 1.0)))
        columns.append((x - centre) / scale)
    return np.hstack(columns)


def _isolated_among(Z: np.ndarray, g: np.ndarray, judged: np.ndarray,
                    k: float | None = None) -> np.ndarray:
    """:func:`isolated_rows` for the ``judged`` rows of ``Z`` (in robust units), all rows
    being neighbours and setting the typical distance; where only a few rows are judged
    among many, the typical distance is that of an evenly spaced :data:`_TYPICAL_ROWS` of
    them (so that judging the rows of each pattern of gaps does not cost a full pass each).
    Not judged: False."""
    from scipy.spatial import cKDTree

    N, D = Z.shape
    counted = g > 0
    far = np.zeros(N, dtype=bool)
    if not counted.all():  # the rows that exist
        far[counted] = _isolated_among(Z[counted], g[counted], judged[counted], k)
        return far
    total = g.sum()
    if total < 3:
        return far
    k = min(k or max(D + 1, 5), total - 1)
    typical_rows = np.ones(N, dtype=bool)
    if N > _TYPICAL_ROWS and not judged.all():
        typical_rows[:] = False
        typical_rows[np.linspace(0, N - 1, _TYPICAL_ROWS).astype(int)] = True
    measured = judged | typical_rows
    distance = np.zeros(N)
    distance[measured] = _kth_distance(cKDTree(Z), Z[measured], g, k,
                                       np.flatnonzero(measured))
    # the typical distance among rows with any (tied rows, at distance 0, would make every
    # untied row of rounded data look isolated); a tied row itself is never isolated
    positive = (distance > 0) & typical_rows
    if not positive.any():
        return far
    log_d = np.log(np.maximum(distance, np.min(distance[positive])))
    typical = _quantile(log_d[positive], g[positive], 0.5)
    with np.errstate(invalid="ignore"):  # typical distance beyond float64: nothing isolated
        sd = 1.4826 * _quantile(np.abs(log_d[positive] - typical), g[positive], 0.5)
        isolated = (distance > 0) & (log_d > typical + _ISOLATION_SDS * sd + np.log(_MIN_RATIO))
    return isolated & judged


def _kth_distance(tree, Z: np.ndarray, g: np.ndarray, k: float,
                  index: np.ndarray) -> np.ndarray:
    """Per row of ``Z`` (rows ``index`` of the tree's), the distance to its k-th nearest
    neighbour among the rows written out by their weights: the smallest d at which the
    row's other copies (g_i - 1) and the weight of the other rows within d reach k. Without
    weights, the plain k-th neighbour's."""
    N = tree.n
    result = np.full(len(Z), np.inf)
    finished = np.zeros(len(Z), dtype=bool)  # not by a finite result: it may be inf
    # A neighbour the tree cannot reach (a distance beyond float64: values ~1e200) comes back
    # as index N (fuzz: an IndexError); it weighs nothing.
    weight = np.append(g, 0.0)
    todo = np.arange(len(Z))
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
            own = j == index[rows][:, None]
            copies = g[index[rows]] - 1.0
            reach = copies[:, None] + np.cumsum(np.where(own, 0.0, weight[j]), axis=1)
            found = reach >= k - 1e-9
            done = found.any(axis=1) | (m >= cap)
            first = np.argmax(found, axis=1)
            # a row whose own copies reach k is at distance 0 (tied), whatever the tree gave
            at = np.where(copies >= k - 1e-9, 0.0, d[np.arange(len(rows)), first])
            result[rows[done]] = np.where(found.any(axis=1), at, d[:, -1])[done]
            finished[rows[done]] = True
        todo = todo[~finished[todo]]
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
    and the report that says so): :func:`isolated_rows`, a row with gaps judged on the
    columns it has, among every row that has them; a labelled row (``labels >= 0``) never;
    none when too few rows (2 D + 1) would be left.

    A gap filled with a column's median put a row missing one coordinate of a cluster off
    the median between the clusters, far from every row, and called it isolated (gaps QA);
    judged on what it has, it is as near its cluster as its observed values are.

    Parameters
    ----------
    X : ndarray (N, D), NaN for a missing value
    labels : ndarray (N,) of int, optional
    sample_weight : ndarray (N,), optional
        Frequency weights, as :func:`isolated_rows` takes them (the count of rows left is of
        the rows written out by them, too).
    """
    X = np.asarray(X, dtype=np.float64)
    g = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    key = _digest(X, labels, g)
    with _ANSWERS_LOCK:  # fits in threads share it (QA98: KeyError, "changed size")
        kept = _ANSWERS.get(key)
    if kept is not None:
        return kept.copy()
    far = _isolated_observations(X, labels, g)
    with _ANSWERS_LOCK:
        _ANSWERS[key] = far.copy()
        while len(_ANSWERS) > _ANSWERS_KEPT:  # the oldest first (dicts keep insertion order)
            del _ANSWERS[next(iter(_ANSWERS))]
    return far


# The last few answers of isolated_observations, by a digest of its data: every EM fit with a
# noise component asks for them, and the noise check refits the same rows four times or more
# (QA83: at 400,000 rows each asking took 4 s, the whole check's time).
_ANSWERS: dict[bytes, np.ndarray] = {}
_ANSWERS_KEPT = 4
_ANSWERS_LOCK = threading.Lock()


def _digest(X: np.ndarray, labels: np.ndarray | None, g: np.ndarray) -> bytes:
    """A digest of the data :func:`isolated_observations` judges (its shape included)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(X.shape, dtype=np.int64).tobytes())
    for array in (X, g, np.empty(0) if labels is None else np.asarray(labels, np.int64)):
        h.update(np.ascontiguousarray(array).tobytes())
        h.update(b"|")
    return h.digest()


def _isolated_observations(X: np.ndarray, labels: np.ndarray | None, g: np.ndarray
                           ) -> np.ndarray:
    """:func:`isolated_observations`, computed."""
    observed = ~np.isnan(X)
    Z = _in_robust_units(X, g)  # each column's units from all its values
    far = np.zeros(len(X), dtype=bool)
    patterns, pattern_of = np.unique(observed, axis=0, return_inverse=True)
    for p, columns in enumerate(patterns):
        rows = (pattern_of.ravel() == p) & (g > 0)
        if not columns.any() or not rows.any():  # nothing to judge a row by
            continue
        among = observed[:, columns].all(axis=1) & (g > 0)
        far[among] |= _isolated_among(Z[np.ix_(among, columns)], g[among], rows[among])
    if labels is not None:
        far &= np.asarray(labels) < 0
    left = g[~far].sum()
    return far if left > 2 * X.shape[1] + 1 else np.zeros(len(X), dtype=bool)
