"""Another optimum about as good as the start (by the sampled model's log density at start
selection, else by EM's objective): a second mode of the posterior that chains started at
the start may never visit.

Every chain of :func:`bayesgmm.fit_bayes` starts at one EM estimate. Where EM's restarts
reach two optima of nearly the same objective whose components are not a relabelling of
each other (four symmetric groups and K = 2: two ways to pair them), the posterior has two
modes of about equal mass, and chains that stay in one of them pass every convergence check
while their intervals hold half of the posterior (QA126). The restarts already ran: this
keeps the best such rival (:func:`rival_optimum`, in the fit's record) so that the
diagnostics can say whether the draws ever went there (:func:`share_nearer`).

Where it sits: the math layer, beside the kernel; imports :mod:`bayesgmm.covariance` (the
data's moments) and SciPy's assignment solver.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["RIVAL_NATS", "SAME_MEANS_SD", "data_scale", "matched_order", "matched_shift",
           "rival_optimum", "share_nearer"]

# An optimum this far below the best at most (nats of the sampled model's log density, or of
# EM's objective where that is all there is) can hold a share of the posterior worth naming:
# QA129 measured unvisited modes 1.2-3 nats lower holding 11-25% of it (four blobs, three
# collinear clusters, K = 2), and no false alarm at 3 nats in 21 ordinary fits.
RIVAL_NATS = 3.0
# Restarts that reach one optimum put the means within ~1e-3 data sds of each other (the
# stopping rule's slack); two optima that differ by this much (in the data's sds) or more,
# once matched component to component, are two solutions.
SAME_MEANS_SD = 0.1


def data_scale(X: np.ndarray, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """The data's sd per feature (rows by their weights, NaN as missing; 1 where a column is
    constant): the unit in which optima's means are compared, by EM and by the diagnostics
    alike (QA127: a spherical model's common sd made one distance two)."""
    from .covariance import column_moments

    sd = np.sqrt(column_moments(np.asarray(X, dtype=np.float64), sample_weight)[1])
    return np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)


def _matching(means: np.ndarray, other: np.ndarray, scale: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(cost (K, K), order (K,)): each pair's largest distance in one coordinate, in data sds,
    and ``other``'s component matched to each of ``means``', minimising the total."""
    from scipy.optimize import linear_sum_assignment

    a, b = np.asarray(means) / scale, np.asarray(other) / scale
    cost = np.max(np.abs(a[:, None, :] - b[None, :, :]), axis=-1)
    return cost, linear_sum_assignment(cost)[1]


def matched_shift(means: np.ndarray, other: np.ndarray, scale: np.ndarray) -> float:
    """How far apart two sets of component means are (K, D), in data sds (``scale``, D),
    label-free: the largest distance of a matched pair, the components matched to minimise
    the total (a relabelling of the same means is 0)."""
    cost, order = _matching(means, other, scale)
    return float(cost[np.arange(len(order)), order].max())


def matched_order(means: np.ndarray, other: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The order of ``other``'s components (K, D) that matches them to ``means``' (as
    :func:`matched_shift` pairs them): ``other[order]`` is labelled as ``means`` is.

    Parameters
    ----------
    means, other : ndarray (K, D)
        Two solutions' component means.
    scale : ndarray (D,)
        The data's sd per feature.

    Returns
    -------
    ndarray (K,) of int
    """
    return _matching(means, other, scale)[1]


def rival_optimum(best_objective: float, best_means: np.ndarray,
                  others: Iterable[tuple[float, Any, np.ndarray, Any]], scale: np.ndarray
                  ) -> dict[str, Any] | None:
    """The nearest in objective of ``others`` ((objective, weights, means, covariances) of
    other EM runs)
    that is another solution within :data:`RIVAL_NATS` of ``best_objective``, as a record
    for the fit's settings: ``objective_gap`` (nats below the best; negative where above:
    the sampled start may be a candidate other than EM's best), ``shift_sd`` (its means'
    distance from the best's, :func:`matched_shift`), ``weights``, ``means`` and
    ``covariances`` (lists: the parameters to start a fit there); None where there is none."""
    found = None
    for objective, weights, means, covariances in others:
        gap = float(best_objective - objective)
        if not np.isfinite(gap) or abs(gap) > RIVAL_NATS or (
                found and abs(gap) >= abs(found["objective_gap"])):
            continue
        shift = matched_shift(best_means, means, scale)
        if shift >= SAME_MEANS_SD:
            found = {"objective_gap": gap, "shift_sd": shift,
                     "weights": [float(w) for w in np.ravel(weights)],
                     "means": np.asarray(means, dtype=np.float64).tolist(),
                     "covariances": np.asarray(covariances, dtype=np.float64).tolist()}
    return found


def share_nearer(draws: np.ndarray, start: np.ndarray, rival: np.ndarray,
                 scale: np.ndarray) -> float:
    """The share of posterior draws of the means (S, K, D) nearer the rival optimum's means
    than the start's, each by :func:`matched_shift`: how much of the draws visited the other
    mode."""
    nearer = [matched_shift(m, rival, scale) < matched_shift(m, start, scale) for m in draws]
    return float(np.mean(nearer)) if nearer else 0.0
