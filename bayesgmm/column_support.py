"""How many observed values each component has in each column, and the components that have
almost none where they hold rows.

A component's mean and variance along a column rest on its rows' observed values there. With
gaps, a cluster can hold many rows and almost no value of some column (a measurement taken
on one site only): its estimates there, and the values imputed for its rows, are then its
other columns' regression, the floor EM adds or the prior's, not data (gaps QA: a component
of 150 rows with one observed value of 'z' had mean 8.1 and variance 98 there, between that
value and the other cluster's, and no warning). EM names such components; a posterior that
fails its checks names them as the likely cause: its sd there is the prior's, a wide,
funnel-shaped posterior that NUTS follows badly (measured: the same data fitted without 'z'
passed every check; with it, 30 and 60 divergences at seeds 1 and 2).

Where it sits: the data layer (NumPy only); used by :mod:`bayesgmm.em` (at the estimate's
responsibilities) and :mod:`bayesgmm.posterior` (at the start's, for the diagnostics).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["FEW_OBSERVED", "few_observed", "few_observed_words", "observed_counts",
           "unpaired_columns"]

# Fewer (effective) observed values than this in a column, in a component that holds more
# rows: its estimates there rest on next to nothing.
FEW_OBSERVED = 3.0


def observed_counts(resp: np.ndarray, X: np.ndarray,
                    sample_weight: np.ndarray | None = None) -> np.ndarray | None:
    """Each component's effective number of observed values per column.

    Parameters
    ----------
    resp : ndarray (N, K)
        Membership probabilities of the rows (the Gaussian components' columns).
    X : ndarray (N, D), NaN for a missing value
    sample_weight : ndarray (N,), optional
        Frequency weights.

    Returns
    -------
    ndarray (K, D), or None when ``X`` has no gap.
    """
    missing = np.isnan(X)
    if not missing.any():
        return None
    g = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    return np.asarray(resp, np.float64).T @ (~missing * g[:, None])


def unpaired_columns(X: np.ndarray, sample_weight: np.ndarray | None = None
                     ) -> list[tuple[int, int]]:
    """The pairs of columns (i < j) that no row (of positive weight) observes together: a
    correlation between them rests on no data (gaps QA: every row had x or y, never both;
    EM printed corr[x, y] of 0.0003 or 0.59 by its start, the likelihood flat in it)."""
    seen = ~np.isnan(X)
    if seen.all():
        return []
    if sample_weight is not None:
        seen &= (np.asarray(sample_weight) > 0)[:, None]
    together = seen.T.astype(np.float64) @ seen.astype(np.float64)
    return [(int(i), int(j)) for i, j in zip(*np.triu_indices(X.shape[1], 1), strict=True)
            if together[i, j] == 0]


def few_observed(observed: np.ndarray, nk: np.ndarray, live: np.ndarray | None = None
                 ) -> list[tuple[int, int]]:
    """(component, column) pairs with fewer than :data:`FEW_OBSERVED` observed values where
    the component holds more rows (at least :data:`FEW_OBSERVED`, and more than it
    observes); ``live``: (K,) bool, the components to look at (default: all)."""
    nk = np.asarray(nk, np.float64)
    look = nk >= FEW_OBSERVED if live is None else np.asarray(live) & (nk >= FEW_OBSERVED)
    few = (observed < FEW_OBSERVED) & look[:, None] & (observed < nk[:, None] - 0.5)
    return [(int(k), int(j)) for k, j in zip(*np.nonzero(few), strict=True)]


def few_observed_words(observed: np.ndarray, nk: np.ndarray, pairs: Sequence[tuple[int, int]],
                       names: Sequence[str]) -> str:
    """"component 1 has 1 observed value of 'z' among its 150 rows; ..." for ``pairs``."""
    def values(n: float) -> str:
        n = round(float(n), 1)
        return ("no observed value" if n == 0 else "1 observed value" if n == 1
                else f"{n:g} observed values")

    return "; ".join(f"component {k} has {values(observed[k, j])} of {names[j]!r} among its "
                     f"{nk[k]:.4g} rows" for k, j in pairs)
