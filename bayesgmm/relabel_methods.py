"""Relabelling by classification probabilities: Stephens (2000) and ECR (2010).

When components overlap, two draws can hold similar Gaussians in a different order, or
different Gaussians that classify the data the same way; matching draws by the distance between
their Gaussians (:mod:`bayesgmm.relabel`'s ``"distance"`` method) then hesitates between
labellings. The methods here match draws by what the components *do* to the data instead: the
classification probabilities

    p[s, n, k] = w_k N(x_n | mu_k, Sigma_k) / sum_j w_j N(x_n | mu_j, Sigma_j)

of each draw s (the E-step kernel's responsibilities,
:func:`bayesgmm.kernels.pointwise_over_draws`).

- **Stephens** (2000), "Dealing with label switching in mixture models", JRSS B 62(4): find the
  permutations and a matrix Q (N, K) minimising sum_s KL(P_s permuted || Q); alternately, Q is
  the mean of the permuted P_s and every draw takes the permutation minimising
  sum_n sum_k p[s, n, perm(k)] log(p[s, n, perm(k)] / q[n, k]), an assignment problem on the
  K x K matrix -P_s^T log Q (the p log p part is the same for every permutation), until no
  permutation changes.
- **ECR** (Papastamoulis & Iliopoulos 2010, "An artificial allocations based solution to the
  label switching problem", JCGS 19(2)): each draw is permuted to maximise the number of points
  whose allocation agrees with a pivot allocation (here: the reference's most probable
  component per point). The allocations of the marginalised model are not sampled, so each
  draw's allocation is its most probable component per point; ties in the count (e.g. two
  components that hold no point) are broken by the soft agreement sum_n p[s, n, j] [z*_n = k].

Both follow the R package ``label.switching`` (Papastamoulis 2016, JSS 69) in what they compute;
the loops over draws are replaced by batched matrix products and a vectorised assignment.
With frequency weights (``row_weights``) each point counts as its copies would: Stephens'
cost and ECR's agreement are weighted sums over the points (Q, a per-point mean over the
draws, is the same either way), and rows of weight 0 are left out by the caller. Above
:data:`MAX_PROBABILITY_FLOATS` a random subset of the points is classified
(:func:`points_classified`), the same for every draw and for the weights.

Where it sits: the posterior layer, under :mod:`bayesgmm.relabel`; imports the kernel,
:mod:`bayesgmm.draw_arrays` and the covariance vocabulary.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

from bayesgmm import kernels
from bayesgmm.covariance import cholesky_draws
from bayesgmm.draw_arrays import subsample_index

__all__ = [
    "assign_min_cost",
    "classification_probabilities",
    "ecr_permutations",
    "points_classified",
    "stephens_permutations",
]

# Above this many floats (draws x points x K, ~160 MB) the probabilities are computed on a
# random subset of the points: the labelling is decided by the bulk of the data, and Stephens'
# and ECR's costs are sums over points, so a few thousand points decide as well as all of them.
MAX_PROBABILITY_FLOATS = 20_000_000
# Probabilities are floored here before the log: an exact 0 in Q would make the cost infinite.
_TINY = 1e-300


def points_classified(n_points: int, n_draws: int, K: int, max_floats: int | None = None,
                      random_state: int = 0) -> np.ndarray | None:
    """The points :func:`classification_probabilities` classifies where ``n_draws`` draws of
    all ``n_points`` would exceed ``max_floats`` probabilities: a random subset (the same
    for every draw), of ``max_floats // (n_draws * K)`` points (at least K); None: all. A
    caller holding something per point (frequency weights) takes the same subset.
    ``max_floats`` None: :data:`MAX_PROBABILITY_FLOATS`."""
    max_floats = MAX_PROBABILITY_FLOATS if max_floats is None else max_floats
    if n_draws * n_points * K <= max_floats:
        return None
    return subsample_index(n_points, max(K, max_floats // (n_draws * K)), random_state)


def classification_probabilities(
    X: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
    *,
    max_floats: int = MAX_PROBABILITY_FLOATS,
    random_state: int = 0,
) -> np.ndarray:
    """Per-draw classification probabilities through the E-step kernel.

    Parameters
    ----------
    X : ndarray of shape (N, D)
    weights : ndarray of shape (S, K)
    means : ndarray of shape (S, K, D)
    covariances : ndarray
        (S, K, D, D) full, (S, D, D) tied, (S, K, D) diag, (S, K) spherical.
    covariance_type : str
    max_floats : int
        When S * N * K exceeds it, a random subset of the points (the same for every draw) is
        used, of size ``max_floats // (S * K)`` (at least K).
    random_state : int
        Seeds that subset.

    Returns
    -------
    ndarray of shape (S, N', K)
        ``p[s, n, k]``; rows sum to 1. N' = N unless subsampled.
    """
    X = np.asarray(X, dtype=np.float64)
    S, K = weights.shape
    D = X.shape[1]
    kept = points_classified(X.shape[0], S, K, max_floats, random_state)
    if kept is not None:
        X = X[kept]
    try:
        chol = cholesky_draws(covariances, covariance_type, K, D)
    except np.linalg.LinAlgError:
        raise ValueError("a covariance matrix of a draw is not positive definite; cannot "
                         "compute classification probabilities") from None
    _, resp = kernels.pointwise_over_draws(
        np.ascontiguousarray(X), np.ascontiguousarray(weights, dtype=np.float64),
        np.ascontiguousarray(means, dtype=np.float64), chol, True)
    return resp


def components_first(P: np.ndarray) -> np.ndarray:
    """P (S, N, K) as (S, K, N), C-contiguous: each draw's components as rows.

    Copied one component at a time: numpy's transposing copy in one go took 1.1 s for 2e7
    probabilities at N = 1,666 (K = 3) against 0.04 s this way (0.03 s both at N = 416).
    """
    S, N, K = P.shape
    out = np.empty((S, K, N))
    for k in range(K):
        out[:, k, :] = P[:, :, k]
    return out


def permuted_sum(Pt: np.ndarray, perms: np.ndarray, signs: np.ndarray | None = None
                 ) -> np.ndarray:
    """``out[k, n] = sum_s signs[s] * Pt[s, perms[s, k], n]`` for Pt (S, K, N), perms (S, K).

    One matrix product of a (K, S K) indicator with Pt's rows: a gather of single elements
    (``take_along_axis`` on (S, N, K)) took 1.1 s for 2e7 probabilities at N = 1,666.
    """
    S, K, N = Pt.shape
    pick = np.zeros((K, S, K))
    pick[np.arange(K)[None, :], np.arange(S)[:, None], perms] = (
        1.0 if signs is None else np.asarray(signs, dtype=np.float64)[:, None])
    return pick.reshape(K, S * K) @ Pt.reshape(S * K, N)


def stephens_permutations(
    P: np.ndarray,
    initial: np.ndarray | None = None,
    max_iter: int = 100,
    reference: np.ndarray | None = None,
    row_weights: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Stephens' (2000) KL relabelling.

    Parameters
    ----------
    P : ndarray of shape (S, N, K)
        Classification probabilities per draw.
    initial : ndarray of shape (S, K), optional
        Starting permutations (default: identity). The result is labelled like the mean of
        the initially permuted probabilities.
    max_iter : int
        Most alternations of the Q update and the assignment.
    reference : ndarray of shape (N, K), optional
        The reference's classification probabilities. The algorithm fixes the labelling only
        up to one permutation common to all draws (Q may end with its columns in another
        order than the start's); with a reference, that common permutation is chosen to
        match Q to it (minimum cross-entropy), so the labels are the reference's.
    row_weights : ndarray of shape (N,), optional
        Frequency weights of the points: point n's cross-entropy counts ``row_weights[n]``
        times, as n's copies would (Q, a per-point mean over draws, is the same either way).

    Returns
    -------
    perms : ndarray of shape (S, K), intp
        ``perms[s, k]``: the component of draw s that becomes component k.
    n_iter : int
        Alternations run (the last changed nothing unless ``max_iter`` was hit).
    """
    S, N, K = P.shape
    perms = np.tile(np.arange(K), (S, 1)) if initial is None else np.array(initial, np.intp)
    # (S, K, N): the cost of every draw's components against Q is one matrix product, and
    # so is the sum of the permuted probabilities.
    Pt = components_first(P)
    total = permuted_sum(Pt, perms).T  # (N, K): S Q
    # the cost's points, each as often as its weight
    weighted = Pt if row_weights is None else Pt * np.asarray(row_weights, np.float64)
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        cost = -(weighted.reshape(S * K, N) @ np.log(np.maximum(total / S, _TINY))
                 ).reshape(S, K, K)  # (S, draw, ref)
        new = assign_min_cost(cost)
        changed = np.flatnonzero(np.any(new != perms, axis=1))
        if not changed.size:
            break
        # Q moves only by the draws whose permutation changed (after the first alternations
        # few do): update its sum instead of summing all S draws again.
        moved = Pt[np.concatenate([changed, changed])]
        signs = np.repeat([1.0, -1.0], changed.size)
        total += permuted_sum(moved, np.concatenate([new[changed], perms[changed]]), signs).T
        perms = new
    else:
        it = max_iter
    if reference is not None:
        Q = permuted_sum(Pt, perms).T / S
        # cost[j, k]: cross-entropy of reference component k against Q column j
        ref = np.asarray(reference) if row_weights is None else (
            np.asarray(reference) * np.asarray(row_weights, np.float64)[:, None])
        cost = -(ref.T @ np.log(np.maximum(Q, _TINY)))  # (K_ref, K_Q)
        common = assign_min_cost(cost.T[None])[0]  # common[k]: Q column that becomes k
        perms = perms[:, common]
    return perms, it


def ecr_permutations(P: np.ndarray, pivot: np.ndarray, row_weights: np.ndarray | None = None
                     ) -> np.ndarray:
    """ECR relabelling against a pivot allocation.

    Parameters
    ----------
    P : ndarray of shape (S, N, K)
    pivot : ndarray of shape (N,), int
        The pivot's component of every point (0 ... K-1).
    row_weights : ndarray of shape (N,), optional
        Frequency weights: point n's agreement counts ``row_weights[n]`` times.

    Returns
    -------
    perms : ndarray of shape (S, K), intp
    """
    S, N, K = P.shape
    pivot = np.asarray(pivot)
    if pivot.shape != (N,):
        raise ValueError(f"pivot must have shape ({N},); got {pivot.shape}")
    g = np.ones(N) if row_weights is None else np.asarray(row_weights, np.float64)
    # Unweighted, agreement counts are whole and the soft term, scaled below 1, only breaks
    # ties. Weights (fractional ones too) can make agreement differences as small as their
    # own: the soft term is then scaled far below any (QA137 M1: weights (1.0, 0.9) chose
    # against the counts (10, 9) and against their copies).
    tie = 1.0 / (N + 1.0)
    if row_weights is not None:
        g = g / g.max()  # the largest 1, whatever the weights' scale
        tie = 1e-9 / (g.sum() + 1.0)
    Z = np.zeros((N, K))
    Z[np.arange(N), pivot] = g  # each point as often as its weight
    hard = np.zeros_like(P)
    np.put_along_axis(hard, P.argmax(axis=2)[:, :, None], 1.0, axis=2)
    agree = hard.transpose(0, 2, 1) @ Z  # (S, K_draw, K_ref): points both put in (j, k)
    soft = P.transpose(0, 2, 1) @ Z
    return assign_min_cost(-(agree + soft * tie))


def assign_min_cost(cost: np.ndarray) -> np.ndarray:
    """Minimum-cost assignment for a stack of (K, K) costs; rows = draw, cols = reference.

    Returns ``perm`` of shape (S, K) with ``perm[s, k]`` the row assigned to column ``k``.
    """
    S, K, _ = cost.shape
    # When the column-wise minima already form a permutation, they are optimal (no assignment
    # can cost less than the sum of column minima), so the Hungarian call is only needed for
    # the draws where two reference components compete for the same draw component.
    perm = np.argmin(cost, axis=1)
    clash = np.flatnonzero(np.any(np.sort(perm, axis=1) != np.arange(K), axis=1))
    if K <= _ENUMERATE_MAX_K:
        # Few components: try all K! assignments at once (a Python-level Hungarian call per
        # draw cost more than the relabelling's arithmetic when many draws clash).
        candidates = _all_permutations(K)  # (K!, K): candidates[p, k] = row for column k
        columns = np.arange(K)
        for start in range(0, clash.size, _ENUMERATE_BLOCK):
            block = clash[start:start + _ENUMERATE_BLOCK]
            totals = cost[block][:, candidates, columns].sum(axis=2)  # (B, K!)
            perm[block] = candidates[np.argmin(totals, axis=1)]
        return perm
    for s in clash:
        rows, cols = linear_sum_assignment(cost[s])
        perm[s, cols] = rows
    return perm


# Up to this K every assignment is enumerated (6! = 720 candidates), in blocks of draws that
# keep the (block, K!, K) gather near 10 MB.
_ENUMERATE_MAX_K = 6
_ENUMERATE_BLOCK = 256


@functools.cache
def _all_permutations(K: int) -> np.ndarray:
    perms = np.array(list(itertools.permutations(range(K))), dtype=np.intp)
    perms.setflags(write=False)
    return perms
