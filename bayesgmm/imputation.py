"""Imputing missing values under a Gaussian mixture: the conditional Gaussians of a row's
missing coordinates given its observed ones, as means (:func:`conditional_means`, used by
``EMResult.impute`` and ``BayesResult.impute``) and as draws (:func:`conditional_draws`, the
multiple imputations of ``BayesResult.impute``).

Where it sits: the data layer, beside :mod:`bayesgmm.observations`; NumPy only (the
components of multiple imputations are drawn by the caller, with
:func:`bayesgmm.draw_arrays.categorical`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["conditional_draws", "conditional_means", "memberships"]


def conditional_means(X: np.ndarray, resp: np.ndarray, means: np.ndarray,
                      covariances: np.ndarray, noise_bounds: np.ndarray | None = None
                      ) -> np.ndarray:
    """E[x | observed part of x] under a Gaussian mixture: X with its NaN filled in.

    Parameters
    ----------
    X : ndarray (N, D), NaN = missing
    resp : ndarray (N, K) or (N, K + 1)
        Memberships given the observed values; with a noise component its column is last.
    means : ndarray (K, D)
    covariances : ndarray (K, D, D)
        Full form.
    noise_bounds : ndarray (2, D), optional
        The noise component's box: its conditional mean of a missing coordinate is the
        middle of that side. Without it (no noise component, or only a volume was given, so
        the box is unknown) the Gaussians' memberships are renormalised over them.

    Returns
    -------
    ndarray (N, D)
        sum_k r_nk (mu_k[m] + Sigma_k[m, o] Sigma_k[o, o]^-1 (x_o - mu_k[o])) in the gaps
        (+ r_n,noise (lower + upper)[m] / 2 with a box). Observed values are unchanged.
    """
    K = means.shape[0]
    out = np.array(X, dtype=np.float64, copy=True)
    r = memberships(resp, K, noise_bounds)
    gaps_before = np.isnan(out)
    for rows, gaps, k, mean, _ in _conditionals(out, means, covariances):
        block = np.ix_(rows, np.flatnonzero(gaps))
        if k == 0:  # the pattern's first component: the gaps start from 0, not NaN
            out[block] = 0.0
        out[block] += r[rows, k, None] * mean
    if r.shape[1] > K:  # the noise component's share: the middle of the box's sides
        middle = np.asarray(noise_bounds, dtype=np.float64).mean(axis=0)
        out += np.where(gaps_before, r[:, K, None] * middle, 0.0)
    return out


def conditional_draws(X: np.ndarray, component: np.ndarray, means: np.ndarray,
                      covariances: np.ndarray, rng: np.random.Generator,
                      noise_bounds: np.ndarray | None = None) -> np.ndarray:
    """X with each row's missing values drawn from its component given its observed values.

    Each incomplete row's missing coordinates are drawn from its ``component``'s conditional
    Gaussian N(mu_m + S_mo S_oo^-1 (x_o - mu_o), S_mm - S_mo S_oo^-1 S_om); a row whose
    component is K, the noise, gets uniform values over ``noise_bounds``' missing sides.
    The caller draws the components, from :func:`memberships` (so that these draws average
    to :func:`conditional_means`), with the one categorical draw of the posterior layer.

    Parameters
    ----------
    X, means, covariances, noise_bounds
        As in :func:`conditional_means`.
    component : ndarray (N,) of int
        Each row's component, 0..K-1, or K for the noise component.
    rng : numpy Generator

    Returns
    -------
    ndarray (N, D)
        A copy of X; observed values unchanged.
    """
    K = means.shape[0]
    out = np.array(X, dtype=np.float64, copy=True)
    for rows, gaps, k, mean, cov in _conditionals(out, means, covariances, with_cov=True):
        mine = component[rows] == k
        if mine.any():
            z = rng.standard_normal((int(mine.sum()), mean.shape[1]))
            out[np.ix_(rows[mine], np.flatnonzero(gaps))] = mean[mine] + z @ _psd_factor(cov).T
    noise = np.flatnonzero((component == K) & np.isnan(out).any(axis=1))
    if noise.size:
        lower, upper = np.asarray(noise_bounds, dtype=np.float64)
        draws = lower + (upper - lower) * rng.random((noise.size, out.shape[1]))
        gaps = np.isnan(out[noise])
        out[noise] = np.where(gaps, draws, out[noise])
    return out


def memberships(resp: np.ndarray, K: int, noise_bounds: np.ndarray | None) -> np.ndarray:
    """The memberships imputation uses: all K + 1 with a noise box; else the Gaussians'
    renormalised, and where they all underflowed to 0 (a row far out, taken by the noise
    to machine precision) equal shares, not 0 / 0."""
    if resp.shape[1] > K and noise_bounds is not None:
        return resp / resp.sum(axis=1, keepdims=True)
    r = resp[:, :K]
    total = r.sum(axis=1, keepdims=True)
    return np.where(total > 0, r / np.where(total > 0, total, 1.0), 1.0 / K)


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


def _psd_factor(cov: np.ndarray) -> np.ndarray:
    """A factor F of a conditional covariance with F F^T = it, used only to draw imputed
    values (never for a density, so not :func:`bayesgmm.covariance.cholesky`'s policy):
    symmetrised, as the Schur complement's rounding can leave it a hair from symmetric, and
    where it is then a hair from positive definite (a correlation near 1), its eigenvalues
    clipped at 0, a positive semi-definite square root."""
    sym = 0.5 * (cov + cov.T)
    try:
        return np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(sym)
        return vectors * np.sqrt(np.clip(values, 0.0, None))
