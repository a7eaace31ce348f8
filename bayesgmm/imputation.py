"""Imputing missing values under a Gaussian mixture: the conditional Gaussians of a row's
missing coordinates given its observed ones, as means (:func:`conditional_means`, used by
``EMResult.impute`` and ``BayesResult.impute``) and as draws (:func:`conditional_draws`, the
multiple imputations of ``BayesResult.impute``).

Where it sits: the data layer, beside :mod:`bayesgmm.observations`; NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conditional_draws", "conditional_means"]


def conditional_means(X: np.ndarray, resp: np.ndarray, means: np.ndarray,
                      covariances: np.ndarray) -> np.ndarray:
    """E[x | observed part of x] under a Gaussian mixture: X with its NaN filled in.

    Parameters
    ----------
    X : ndarray (N, D), NaN = missing
    resp : ndarray (N, K) or (N, K + 1)
        Memberships given the observed values (a noise column, if any, is ignored: the
        uniform component's conditional mean is not defined by a density over a box's
        missing coordinates, so the Gaussians' conditional means are averaged with their
        memberships renormalised).
    means : ndarray (K, D)
    covariances : ndarray (K, D, D)
        Full form.

    Returns
    -------
    ndarray (N, D)
        sum_k r_nk (mu_k[m] + Sigma_k[m, o] Sigma_k[o, o]^-1 (x_o - mu_k[o])) in the gaps.
    """
    K = means.shape[0]
    out = np.array(X, dtype=np.float64, copy=True)
    r = resp[:, :K] / resp[:, :K].sum(axis=1, keepdims=True)
    for rows, gaps, k, mean, _ in _conditionals(out, means, covariances):
        block = np.ix_(rows, np.flatnonzero(gaps))
        if k == 0:  # the pattern's first component: the gaps start from 0, not NaN
            out[block] = 0.0
        out[block] += r[rows, k, None] * mean
    return out


def conditional_draws(X: np.ndarray, resp: np.ndarray, means: np.ndarray,
                      covariances: np.ndarray, rng: np.random.Generator,
                      noise_bounds: np.ndarray | None = None) -> np.ndarray:
    """X with each row's missing values drawn from the mixture given its observed values.

    Each incomplete row first draws its component from ``resp`` (its memberships given the
    observed values), then its missing coordinates from that component's conditional
    Gaussian N(mu_m + S_mo S_oo^-1 (x_o - mu_o), S_mm - S_mo S_oo^-1 S_om); a row that
    draws the noise component gets uniform values over ``noise_bounds``' missing sides (with
    no bounds, only a volume, the Gaussians' memberships renormalised are used instead).

    Parameters
    ----------
    X, resp, means, covariances
        As in :func:`conditional_means`.
    rng : numpy Generator
    noise_bounds : ndarray (2, D), optional
        The noise component's box (lower, upper).

    Returns
    -------
    ndarray (N, D)
        A copy of X; observed values unchanged.
    """
    K = means.shape[0]
    out = np.array(X, dtype=np.float64, copy=True)
    r = resp if resp.shape[1] == K or noise_bounds is not None else resp[:, :K]
    r = r / r.sum(axis=1, keepdims=True)
    component = np.minimum((rng.random(len(out))[:, None] > np.cumsum(r, axis=1)).sum(axis=1),
                           r.shape[1] - 1)
    for rows, gaps, k, mean, cov in _conditionals(out, means, covariances, with_cov=True):
        mine = component[rows] == k
        if mine.any():
            z = rng.standard_normal((int(mine.sum()), mean.shape[1]))
            out[np.ix_(rows[mine], np.flatnonzero(gaps))] = mean[mine] + z @ _cholesky(cov).T
    noise = np.flatnonzero((component == K) & np.isnan(out).any(axis=1))
    if noise.size:
        lower, upper = np.asarray(noise_bounds, dtype=np.float64)
        draws = lower + (upper - lower) * rng.random((noise.size, out.shape[1]))
        gaps = np.isnan(out[noise])
        out[noise] = np.where(gaps, draws, out[noise])
    return out


def _conditionals(X: np.ndarray, means: np.ndarray, covariances: np.ndarray,
                  with_cov: bool = False):
    """Each missingness pattern's conditional Gaussians, component by component.

    Yields (rows, gaps, k, mean, cov): the rows (indices) with missing coordinates ``gaps``
    (a bool mask (D,)), component k's conditional means of those coordinates given each
    row's observed ones (len(rows), |gaps|), and their conditional covariance (|gaps|,
    |gaps|; None unless ``with_cov``). Components come in order 0..K-1 for each pattern.
    """
    missing = np.isnan(X)
    patterns, which = np.unique(missing, axis=0, return_inverse=True)
    which = which.reshape(-1)
    for p, gaps in enumerate(patterns):
        if not gaps.any():
            continue
        rows = np.flatnonzero(which == p)
        seen = ~gaps
        for k in range(means.shape[0]):
            S = covariances[k]
            if seen.any():
                B = np.linalg.solve(S[np.ix_(seen, seen)], S[np.ix_(seen, gaps)]).T
                d = X[np.ix_(rows, np.flatnonzero(seen))] - means[k, seen]
                mean = means[k, gaps] + d @ B.T
                cov = S[np.ix_(gaps, gaps)] - B @ S[np.ix_(seen, gaps)] if with_cov else None
            else:  # nothing observed: the component itself
                mean = np.broadcast_to(means[k, gaps], (rows.size, int(gaps.sum())))
                cov = S[np.ix_(gaps, gaps)] if with_cov else None
            yield rows, gaps, k, mean, cov


def _cholesky(cov: np.ndarray) -> np.ndarray:
    """A factor of a conditional covariance (symmetrised: the Schur complement's rounding
    can leave it a hair from symmetric, or from positive definite when a correlation is
    near 1)."""
    sym = 0.5 * (cov + cov.T)
    try:
        return np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(sym)
        return vectors * np.sqrt(np.clip(values, 0.0, None))
