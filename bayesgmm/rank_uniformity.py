"""The multi-chain rank-uniformity test's p-values (Säilynoja, Bürkner & Vehtari 2022), many
scalars at once: the numbers ArviZ's ``mchain_uniformity_test`` returns, at a fraction of its
cost.

ArviZ's test evaluates, for each chain, SciPy's hypergeometric pmf and cdf at that chain's
empirical CDF count at every evaluation point: 4 chains of 500 thinned draws cost 57 ms per
scalar in those calls (68 ms in all, with Shapley contributions the verdict does not use), so
a fit's diagnostics spent 1.8 s on 27 scalars and ~20 s on a 300-parameter model, at every
convergence check of ``draws="auto"`` (stop 71, measured). The distribution the counts are
tested against depends only on the numbers of chains and draws, not on the scalar: the mid-p
lower tail of every possible count at every evaluation point is one table, computed once per
(chains, draws) from log-binomial coefficients; each scalar then costs a sort, a lookup and
the Cauchy combination. ``tests/test_rank_uniformity.py`` holds it to ArviZ's p-values.

Where it sits: the posterior layer, under :mod:`bayesgmm.diagnostics` (its rank check and the
report's rank plot); imports NumPy and SciPy only.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["mchain_uniformity_pvalues"]


def mchain_uniformity_pvalues(ranks: np.ndarray) -> np.ndarray:
    """The multi-chain rank-uniformity p-value of each scalar.

    Parameters
    ----------
    ranks : ndarray (..., n_chains, n_draws)
        Fractional ranks in [0, 1] over every chain's draws (ArviZ's ``compute_ranks(...,
        relative=True)``), the chains and draws last; at least 2 chains.

    Returns
    -------
    ndarray (...)
        The test's global p-value per scalar, as ArviZ's ``mchain_uniformity_test`` gives it:
        per evaluation point z_i = i / (n + 1), each chain's count of ranks <= z_i is held
        against its hypergeometric distribution (two-sided mid-p), the chains' p-values
        combined by the Cauchy combination, then the points' likewise. NaN without draws.
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    *lead, n_chains, n_draws = ranks.shape
    if n_chains < 2:
        raise ValueError(f"the rank test needs at least 2 chains; got {n_chains}")
    if n_draws == 0:
        return np.full(lead, np.nan)
    if not np.all(np.isfinite(ranks)):
        raise ValueError("the rank test needs finite fractional ranks (no NaN or inf)")
    z = np.arange(1, n_draws + 1) / (n_draws + 1)
    lower = _mid_p_lower_tails(n_chains, n_draws)  # (points, counts)
    flat = np.sort(ranks.reshape(-1, n_chains, n_draws), axis=-1)
    points = np.arange(n_draws)
    out = np.empty(flat.shape[0])
    for s, chains in enumerate(flat):
        counts = np.stack([np.searchsorted(chain, z, side="right") for chain in chains],
                          axis=1)  # (points, chains)
        tail = lower[points[:, None], counts]
        gamma = 2 * np.minimum(tail, 1.0 - tail)
        per_point = 0.5 - np.arctan(np.tan((0.5 - gamma) * np.pi).mean(axis=1)) / np.pi
        out[s] = 0.5 - np.arctan(np.tan((0.5 - per_point) * np.pi).mean()) / np.pi
    return out.reshape(lead)


@functools.lru_cache(maxsize=4)  # up to 8 MB each (1,000 draws)
def _mid_p_lower_tails(n_chains: int, n_draws: int) -> np.ndarray:
    """P(E < x) + P(E = x) / 2 for every count x = 0..n_draws (columns) at every evaluation
    point i (rows), E hypergeometric: of the S = chains x draws ranks, a chain's n_draws
    among the k_i = floor(z_i S) smallest. Read-only: cached, shared by every caller."""
    from scipy.special import gammaln

    def log_choose(n, r):
        return gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)

    total = n_chains * n_draws
    z = np.arange(1, n_draws + 1) / (n_draws + 1)
    k = np.floor(z * total).astype(np.int64)[:, None]
    x = np.arange(n_draws + 1)[None, :]
    inside = (x <= k) & (k - x <= total - n_draws)
    with np.errstate(invalid="ignore"):
        log_pmf = (log_choose(n_draws, x) + log_choose(total - n_draws, np.where(inside, k - x, 0))
                   - log_choose(total, k))
    pmf = np.where(inside, np.exp(log_pmf), 0.0)
    tails = np.cumsum(pmf, axis=1) - 0.5 * pmf
    tails.setflags(write=False)
    return tails
