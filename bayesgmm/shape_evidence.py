"""Evidence that the covariance type is too simple for the clusters' shapes.

A diag, spherical or tied mixture fitted to clusters of another shape (elongated, tilted or of
unequal spreads) still converges, and its posterior may sample perfectly; but its components
then follow the shapes they can take, not the clusters: one elongated cluster split in two
round components, two tilted ones merged into one wide one. Neither the sampling checks nor
the predictive check's marginal statistics need see it (QA: five 3-D clusters, two of them
overlapping and elongated, fitted spherical at K=5, verdict OK, with BIC 7,099 against full's
6,840). :func:`shape_evidence` asks the data as :mod:`bayesgmm.outliers` does: it refits the
same K by EM with each richer covariance type that nests the fitted one (diag and full for
spherical, full for diag and tied), from the fit's own parameters and from fresh starts, and
compares BIC. When a richer type lowers it clearly (by ``min_delta_bic``, 10 by default:
"very strong" on Kass & Raftery's scale), the command line and the reports say so and name
the type. A full fit is the richest, so checking it costs nothing.

Where it sits: the selection layer, beside the reports; uses :func:`bayesgmm.em.fit_em` only
(no PyMC), through :mod:`bayesgmm.outliers`' refits, and :mod:`bayesgmm.progress`.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import progress
from ._validation import check_data, few_values_warning
from .covariance import from_full, n_covariance_parameters, to_full
from .em import EMResult
from .outliers import (
    MIN_DELTA_BIC,
    best_proper_fit,
    cache_key,
    degenerate_components,
    fresh_fit,
    refit,
)

__all__ = ["ShapeEvidence", "shape_evidence"]

# The richer types whose models contain the fitted type's (a spherical component is a diag
# one with equal variances, ...): a refit from the fit's own parameters can only raise the
# likelihood, so a clearly lower BIC is the richer shape's, not a luckier start's.
_NESTING = {"spherical": ("diag", "full"), "diag": ("full",), "tied": ("full",), "full": ()}
# What each type cannot follow, for the sentence.
_CANNOT = {
    "spherical": "round (one spread in every direction)",
    "diag": "aligned with the axes (no correlation within a component)",
    "tied": "alike (one shared covariance)",
}


@dataclass(frozen=True)
class ShapeEvidence:
    """The case for a richer covariance type, from :func:`shape_evidence`.

    Attributes
    ----------
    covariance_type : str
        The fit's type.
    better : str
        The richer type with the lowest BIC.
    bic_fit, bic_better : float
        BIC (lower is better) of the fit's type (a maximum-likelihood fit: the fit itself,
        or, for a MAP fit, its refit without the prior) and of the better type, refitted by
        EM at the same K.
    n_components : int
        K, the same for both.
    """

    covariance_type: str
    better: str
    bic_fit: float
    bic_better: float
    n_components: int

    @property
    def delta_bic(self) -> float:
        """How much lower the BIC is with the richer type."""
        return self.bic_fit - self.bic_better

    def describe(self, option: str | None = None, select: str = "select_em") -> str:
        """One sentence: the evidence, what it means for the components, what to do
        (``option``: how the caller's interface sets the type, default the API's;
        ``select``: its model selection)."""
        option = option or f"covariance_type={self.better!r}"
        return (f"BIC prefers {self.better} covariances at K={self.n_components} clearly "
                f"({self.bic_better:,.1f} against {self.bic_fit:,.1f} for this fit's "
                f"{self.covariance_type} ones; EM refits, lower is better): the clusters are not "
                f"{_CANNOT[self.covariance_type]}, so components of this type may split a "
                "cluster or merge two to follow its shape, and describe those pieces, not the "
                f"clusters. Consider {option}, or compare types and K together with {select}")


def shape_evidence(em: EMResult, X: Any, *, sample_weight: Any = None, labels: Any = None,
                   missing: str = "marginalise", min_delta_bic: float = MIN_DELTA_BIC
                   ) -> ShapeEvidence | None:
    """Whether a richer covariance type fits ``X`` clearly better at the fit's K.

    Parameters
    ----------
    em : EMResult
        The fit (ML or MAP; its parameters are one of the refits' starts).
    X : array-like (N, D) or DataFrame
        The data it was fitted to, with ``sample_weight``, ``labels`` and ``missing`` as the
        fit took them.
    min_delta_bic : float
        How much lower the BIC must be with the richer type.

    Returns
    -------
    ShapeEvidence or None
        None for a full fit (the richest type), where no richer type has more free
        parameters (spherical, diag and full are one model in one dimension), where a
        richer type would have as many free parameters as rows or more (BIC cannot judge
        it), where the data have a column of 2-3 distinct values (the comparison then
        weighs that column), or where no richer refit is proper or clearly better.
    """
    Xv, _ = check_data(X, n_features=em.n_features, allow_nan=True)
    key = cache_key(em, Xv, sample_weight, labels, missing, min_delta_bic)
    cached = _CACHE.get(key)
    if cached is not None and cached[0]() is em:
        return cached[1]
    evidence = _shape_evidence(em, X, Xv, sample_weight=sample_weight, labels=labels,
                               missing=missing, min_delta_bic=min_delta_bic)
    _CACHE.clear()  # one entry: the last fit's (the command line's hint, then the report)
    _CACHE[key] = (weakref.ref(em), evidence)
    return evidence


# The last evidence computed: (fit, data digest, options) -> (a weak reference to the fit, it).
_CACHE: dict[tuple, tuple[Any, ShapeEvidence | None]] = {}


def _richer_types(em: EMResult) -> list[str]:
    """The types nesting the fit's with more free parameters at its K and D, and fewer
    than its rows (a determined maximum, which BIC's approximation needs)."""
    K, D = em.n_components, em.n_features
    own = n_covariance_parameters(em.covariance_type, K, D)
    return [t for t in _NESTING[em.covariance_type]
            if own < n_covariance_parameters(t, K, D)
            and em.n_parameters - own + n_covariance_parameters(t, K, D) + 1 < em.n_samples]


def _shape_evidence(em: EMResult, X: Any, Xv: np.ndarray, *, sample_weight: Any,
                    labels: Any, missing: str, min_delta_bic: float) -> ShapeEvidence | None:
    """:func:`shape_evidence`, computed."""
    richer = _richer_types(em)
    _, names = check_data(X, n_features=em.n_features, allow_nan=True)
    if not richer or few_values_warning(Xv, names) is not None:
        return None
    K = em.n_components
    data = {"sample_weight": sample_weight, "labels": labels, "missing": missing,
            "reg_covar": em.reg_covar, "noise": em.noise,
            "noise_volume": float(np.exp(-em.noise_log_density))
            if em.noise and em.noise_volume_given else None}
    criteria = {"sample_weight": sample_weight, "labels": labels}
    full = to_full(em.covariances, em.covariance_type, K, em.n_features)
    weights = em.weights / em.weights.sum()
    with warnings.catch_warnings():  # a refit's warnings are not the user's fit's
        warnings.simplefilter("ignore")
        own = em if em.prior is None else refit(X, K, em.covariance_type, init=em, **data)
        if own is None:
            return None
        bics = {}
        for kind in richer:
            progress.detail(f"refitting with {kind} covariances")
            start = {"weights": weights, "means": em.means,
                     "covariances": np.stack([from_full(c, kind) for c in full])}
            fit = best_proper_fit(X, sample_weight, refit(X, K, kind, init=start, **data),
                                  fresh_fit(X, K, kind, data))
            if fit is not None and not degenerate_components(fit, X, sample_weight):
                bics[kind] = float(fit.bic(X, **criteria))
    if not bics:
        return None
    better = min(bics, key=bics.get)
    bic_fit = float(own.bic(X, **criteria))
    if bic_fit - bics[better] < min_delta_bic:
        return None
    return ShapeEvidence(covariance_type=em.covariance_type, better=better, bic_fit=bic_fit,
                         bic_better=bics[better], n_components=K)
