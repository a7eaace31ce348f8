"""Posterior draws as flat arrays for the kernel, and categorical draws by inverse CDF.

Layer: posterior (below the result object, the LOO log-likelihood and the sparse-mixture
summaries, which all call it). Imports only NumPy and the kernel's covariance conversion, so
selection's EM workers can use it without loading ArviZ or PyMC.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .covariance import cholesky_draws
from .mixture_draws import categorical  # its home; here too, for the posterior layer

__all__ = ["categorical", "flat_noise_weight", "flatten_draws", "membership_draws",
           "subsample_index"]

# (draw x point x column) membership values held at once, at most: 1,000 draws of 100,000
# points x 3 components would be 2.4 GB
_MAX_MEMBERSHIP_VALUES = 20_000_000


def membership_draws(n_points: int, n_columns: int) -> int:
    """Posterior draws that the membership probabilities of ``n_points`` (``n_columns``
    each: K, plus one for noise) are averaged over in the reports, their figures and
    ``memberships.csv``: 1,000 (a fixed subset, so all three give the same numbers), fewer at
    large N, as many as ~20 million values allow, at least 100."""
    return int(np.clip(_MAX_MEMBERSHIP_VALUES // max(n_points * n_columns, 1), 100, 1000))


def subsample_index(n: int, k: int, random_state: Any = 0) -> np.ndarray:
    """``k`` of the indices ``0 .. n-1``, drawn at random without replacement and sorted (so
    the items kept stay in their order); all ``n`` of them when ``k >= n``.

    ``random_state`` (int, Generator or None) seeds NumPy's ``default_rng(...).choice``: the
    same seed keeps the same subset (draws thinned here and in :func:`flat_noise_weight`,
    points subsampled by relabelling).
    """
    if k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, k, replace=False))


def flatten_draws(posterior: xr.Dataset, covariance_type: str, *,
                  max_draws: int | None = None, random_state: Any = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The draws of ``posterior`` flattened over (chain, draw), covariances as Cholesky factors.

    Parameters
    ----------
    posterior : xarray.Dataset
        ``weights`` (chain, draw, K), ``means`` (chain, draw, K, D) and ``covariances``
        (chain, draw, ...) in scikit-learn's shape for ``covariance_type``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    max_draws : int, optional
        Keep at most this many draws, chosen at random without replacement (in draw order).
    random_state : int, Generator or None, default 0
        Seeds that choice.

    Returns
    -------
    weights : ndarray (S, K)
    means : ndarray (S, K, D)
    cholesky : ndarray (S, K, D, D)
        Lower Cholesky factors of the full covariance matrices. S = chains x draws (chain-major),
        or ``max_draws``; every array is C-contiguous, as the kernel wants.
    """
    w = posterior["weights"].transpose("chain", "draw", ...).to_numpy()
    m = posterior["means"].transpose("chain", "draw", ...).to_numpy()
    cov = posterior["covariances"].transpose("chain", "draw", ...).to_numpy()
    C, S, K, D = m.shape
    w, m = w.reshape(C * S, K), m.reshape(C * S, K, D)
    cov = cov.reshape(C * S, *cov.shape[2:])
    if max_draws is not None and C * S > max_draws:
        idx = subsample_index(C * S, max_draws, random_state)
        w, m, cov = w[idx], m[idx], cov[idx]
    return (np.ascontiguousarray(w), np.ascontiguousarray(m),
            cholesky_draws(cov, covariance_type, K, D))


def flat_noise_weight(posterior: xr.Dataset, *, max_draws: int | None = None,
                      random_state: Any = 0) -> np.ndarray:
    """The ``noise_weight`` draws (S,), flattened and thinned as :func:`flatten_draws` does
    (the same draws for the same ``max_draws`` and ``random_state``)."""
    nw = posterior["noise_weight"].transpose("chain", "draw").to_numpy().reshape(-1)
    if max_draws is not None and nw.size > max_draws:
        nw = nw[subsample_index(nw.size, max_draws, random_state)]
    return np.ascontiguousarray(nw)


