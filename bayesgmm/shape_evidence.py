"""Evidence that the fitted model is too simple: a richer covariance type, or one component more.

A diag, spherical or tied mixture fitted to clusters of another shape (elongated, tilted or of
unequal spreads) still converges, and its posterior may sample perfectly; but its components
then follow the shapes they can take, not the clusters: one elongated cluster split in two
round components, two tilted ones merged into one wide one (QA65: five 3-D clusters fitted
spherical at K=5, verdict OK, with BIC 7,099 against full's 6,840). So do K components fitted
to more groups than K: two of them share a component (QA68: K=2 on three separated 1-D
clusters, verdict OK, BIC 67 lower at K=3). Neither the sampling checks nor the predictive
check's moment statistics need see it. :func:`shape_evidence` asks the data as
:mod:`bayesgmm.outliers` does: it refits by EM each richer covariance type that nests the fitted
one at the same K (diag and full for spherical, full for diag and tied), from the fit's own
parameters and from fresh starts, and the fitted type with one component more, and compares
BIC. When one lowers it clearly (by ``min_delta_bic``, 10 by default: "very strong" on Kass &
Raftery's scale), the command line and the reports say so and name it.

Where it sits: the selection layer, beside the reports; uses :func:`bayesgmm.em.fit_em` only
(no PyMC), through :mod:`bayesgmm.outliers`' refits, and :mod:`bayesgmm.progress`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import progress
from ._validation import (
    as_em_fit,
    copied_rows_warning,
    dequantised,
    grid_caveat,
    grid_columns,
    left_out_caveat,
    whole_numbers,
)
from ._warn import ignored
from .covariance import (
    RICHER_TYPES,
    covariance_words,
    from_full,
    n_covariance_parameters,
    to_full,
)
from .em import EMResult
from .outliers import (
    MIN_DELTA_BIC,
    best_proper_fit,
    degenerate_components,
    fresh_fit,
    last_evidence,
    measured_part,
    noise_evidence,
    one_more_fits,
    refit,
)

__all__ = ["ShapeEvidence", "copies_caveat", "shape_evidence", "unjudged"]

# Fresh starts per init family of each refit (the outlier check's 10 cost 3-6x an em fit at
# N = 20,000: review): a richer model missed at a poorer optimum understates the evidence,
# which is the safe side; the fit's own model is refitted too, from as many.
_RESTARTS = 4
# What each type cannot follow, for the sentence.
_CANNOT = {
    "spherical": "round (one spread in every direction)",
    "diag": "aligned with the axes (no correlation within a component)",
    "tied": "alike (one shared covariance)",
}


@dataclass(frozen=True)
class ShapeEvidence:
    """The case for a richer model (a covariance type, or one component more), from
    :func:`shape_evidence`.

    Attributes
    ----------
    covariance_type : str
        The fit's type.
    better : str
        The better model's covariance type (the fit's own with one component more).
    bic_fit, bic_better : float
        BIC (lower is better) of the fit's model (a maximum-likelihood fit: the fit itself,
        or, for a MAP fit, its refit without the prior) and of the better model (a richer
        type at the same K, or one component more), refitted by EM.
    n_components : int
        The fit's K.
    better_components : int or None
        The better model's K where it has one component more (the same type); None where
        it is a richer type at the same K.
    n_features : int
        D, for the words of a covariance type (one variance per component in 1-D).
    bic_restarted : float or None
        BIC of the fit's own model refitted from fresh starts, where that beats the fit by
        more than a unit (the fit stopped at a poorer optimum); the better model beats it
        too, by ``min_delta_bic`` at least. None otherwise.
    grid_columns, left_out : tuple of str
        As :class:`bayesgmm.outliers.NoiseEvidence` has them: the count or rating columns
        spread over their grids, and the flag or code columns left out of the comparison.
    """

    covariance_type: str
    better: str
    bic_fit: float
    bic_better: float
    n_components: int
    better_components: int | None = None
    n_features: int = 2
    bic_restarted: float | None = None
    grid_columns: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()

    @property
    def more_components(self) -> bool:
        """Whether the better model is the fit's type with one component more."""
        return self.better_components is not None

    @property
    def delta_bic(self) -> float:
        """How much lower the BIC is with the richer type."""
        return self.bic_fit - self.bic_better

    def describe(self, option: str | None = None, select: str = "select_em") -> str:
        """One sentence: the evidence, what it means for the components, what to do
        (``option``: how the caller's interface sets the type, default the API's;
        ``select``: its model selection)."""
        restarted = ("" if self.bic_restarted is None else
                     f" (refitted from fresh starts, this fit's model reaches "
                     f"{self.bic_restarted:,.1f}: more restarts, n_init, find its better "
                     "optimum, still clearly above the richer model's)")
        return (self._describe(option, select) + restarted + grid_caveat(self.grid_columns)
                + left_out_caveat(self.left_out))

    def _describe(self, option: str | None, select: str) -> str:
        if self.more_components:
            K = self.better_components
            option = option or f"n_components={K}"
            return (f"BIC prefers K={K} components clearly ({self.bic_better:,.1f} against "
                    f"{self.bic_fit:,.1f} for this fit's K={self.n_components}, of the same "
                    "covariance type; EM refits, lower is better): the data have a group "
                    "that this fit's components share (two groups under one component), or "
                    "groups whose shape (skewed, heavy-tailed) one more Gaussian follows. "
                    f"Consider {option}, or compare K and types together with {select}")
        option = option or f"covariance_type={self.better!r}"
        return (f"BIC prefers {covariance_words(self.better, self.n_features)} at "
                f"K={self.n_components} clearly ({self.bic_better:,.1f} against "
                f"{self.bic_fit:,.1f} for this fit's "
                f"{covariance_words(self.covariance_type, self.n_features)}; EM refits, lower is "
                f"better): the clusters are not {_CANNOT[self.covariance_type]}, so components "
                "of this type may split a "
                "cluster or merge two to follow its shape, and describe those pieces, not the "
                f"clusters. Consider {option}, or compare types and K together with {select}")


def shape_evidence(em: EMResult, X: Any, *, sample_weight: Any = None, labels: Any = None,
                   missing: str = "marginalise", min_delta_bic: float = MIN_DELTA_BIC
                   ) -> ShapeEvidence | None:
    """Whether a richer covariance type at the fit's K, or the fit's type with one component
    more, fits ``X`` clearly better (the one with the lower BIC where both do).

    Parameters
    ----------
    em, X, sample_weight, labels, missing
        The fit (ML or MAP, with or without a noise component; its parameters start one of
        the refits) and its data as it took them, as for
        :func:`bayesgmm.outliers.noise_evidence`.
    min_delta_bic : float
        How much lower the BIC must be with the richer model.

    Returns
    -------
    ShapeEvidence or None
        None where no richer model has fewer free parameters than rows (BIC cannot judge
        one with as many; spherical, diag and full are one model in one dimension, and full
        is the richest type), where the data are only columns of 2-3 distinct values, or
        where no richer refit is proper or clearly better. A column of 4-7 values is spread
        over its grid for the comparison (``grid_columns``); one of 2-3 values (a flag, a
        code) is left out and the fit's marginal over the other columns judged
        (``left_out``).
    """
    em = as_em_fit(em)
    return last_evidence(_CACHE, em, X, sample_weight, labels, (missing, min_delta_bic),
                         lambda Xv: _shape_evidence(em, X, Xv, sample_weight=sample_weight,
                                                    labels=labels, missing=missing,
                                                    min_delta_bic=min_delta_bic))


# The evidence computed last (see outliers.last_evidence): (fit, data digest, options) -> it.
_CACHE: dict[tuple, ShapeEvidence | None] = {}


def unjudged(em: EMResult, labels: Any = None) -> str:
    """Why the richer-model check has nothing to compare ("" when it has): no richer
    covariance type and no K + 1 with fewer free parameters than rows (BIC's approximation
    needs a determined maximum; QA157 L5: wine's K=3 full, 314 parameters for 178 rows, said
    nothing, not even that the check was not made).

    Parameters
    ----------
    em : EMResult
        The fit (a fitted EMGaussianMixture, or a posterior's EM start, stands for it).
    labels : array-like (N,), optional
        The fit's known labels (-1 or NaN unknown): with every row's known, one component
        more has no row to hold.

    Returns
    -------
    str
        The reason, a clause naming the rows; "" when some richer model can be judged.
    """
    em = as_em_fit(em)
    if _richer_types(em) or one_more_fits(em, labels):
        return ""
    richer = ("another covariance type or " if RICHER_TYPES[em.covariance_type]
              and em.n_features > 1 else "")
    if one_more_fits(em):  # the labels rule K + 1 out, not the parameters (QA160 M2)
        return (f"every row's component is known (the labels), so K={em.n_components + 1} "
                "has no row for its component more"
                + (", and no richer covariance type has fewer free parameters than the "
                   f"{em.n_samples:.4g} rows" if richer else ""))
    return (f"no richer model ({richer}K={em.n_components + 1}) has fewer free parameters "
            f"than the {em.n_samples:.4g} rows, which BIC needs to compare EM refits")


def _richer_types(em: EMResult) -> list[str]:
    """The types nesting the fit's with more free parameters at its K and D, and fewer
    than its rows (a determined maximum, which BIC's approximation needs)."""
    K, D = em.n_components, em.n_features
    own = n_covariance_parameters(em.covariance_type, K, D)
    # nesting the fit's: a clearly lower BIC is the richer shape's, not a luckier start's
    return [t for t in RICHER_TYPES[em.covariance_type]
            if own < n_covariance_parameters(t, K, D)
            and em.n_parameters - own + n_covariance_parameters(t, K, D) + 1 < em.n_samples]


def _shape_evidence(em: EMResult, X: Any, Xv: np.ndarray, *, sample_weight: Any,
                    labels: Any, missing: str, min_delta_bic: float) -> ShapeEvidence | None:
    """:func:`shape_evidence`, computed."""
    fitted, given = em, X  # the noise check below: on the fit as given, which it caches
    part = measured_part(em, X, Xv)  # a flag or a code left out, as the noise check does
    if part is None:
        return None
    em, _, Xv, left_out = part
    if unjudged(em, labels):  # the callers say that the check was not made
        return None
    names = em.feature_names
    X = dequantised(Xv)  # a count or a rating: its grid is not a shape
    K, ct = em.n_components, em.covariance_type
    data = {"sample_weight": sample_weight, "labels": labels, "missing": missing,
            "reg_covar": em.reg_covar, "noise": em.noise,
            "noise_volume": float(np.exp(-em.noise_log_density))
            if em.noise and em.noise_volume_given else None}
    criteria = {"sample_weight": sample_weight, "labels": labels}
    full = to_full(em.covariances, ct, K, em.n_features)
    weights = em.weights / em.weights.sum()
    bics: dict[tuple[str, int], float] = {}
    with ignored():  # a refit's warnings are not the user's fit's
        # a MAP fit, or a marginal (no optimum of the columns judged): refitted from it
        own = em if em.prior is None and not left_out else refit(X, K, ct, init=em, **data)
        if own is None:
            return None
        # the same model from fresh starts too: a fit stuck at a poorer optimum is beaten by
        # one component more for that reason alone (QA72: K=5 from one start, "BIC prefers
        # K=6", where K=5's own optimum beat K=6's by 20)
        progress.detail(f"refitting K={K} from fresh starts")
        same = best_proper_fit(X, sample_weight, own, fresh_fit(X, K, ct, data, _RESTARTS))
        for kind in _richer_types(em):
            progress.detail(f"refitting with {kind} covariances")
            start = {"weights": weights, "means": em.means,
                     "covariances": np.stack([from_full(c, kind) for c in full])}
            fit = best_proper_fit(X, sample_weight, refit(X, K, kind, init=start, **data),
                                  fresh_fit(X, K, kind, data, _RESTARTS))
            if fit is not None and not degenerate_components(fit, X, sample_weight):
                bics[kind, K] = float(fit.bic(X, **criteria))
        if one_more_fits(em, labels):
            progress.detail(f"refitting with {K + 1} components")
            fit = best_proper_fit(X, sample_weight, fresh_fit(X, K + 1, ct, data, _RESTARTS))
            if fit is not None and not degenerate_components(fit, X, sample_weight):
                bics[ct, K + 1] = float(fit.bic(X, **criteria))
    if not bics:
        return None
    (better, k), bic_better = min(bics.items(), key=lambda item: item[1])
    bic_fit = float(own.bic(X, **criteria))
    bic_same = min(bic_fit, float(same.bic(X, **criteria))) if same is not None else bic_fit
    if bic_same - bic_better < min_delta_bic:  # against this model at its best optimum
        return None
    # Outliers make one component more look better too (review: "consider -k 3" beside
    # "consider --noise", the noise fit 45 BIC units better still): the noise hint covers
    # it, as it does when it finds one component more better than the noise (K too small)
    noise = None if em.noise else noise_evidence(fitted, given, sample_weight=sample_weight,
                                                 labels=labels, missing=missing)
    if noise is not None and not noise.components and (
            noise.bic_with < bic_better if noise.bic_larger_k is None else k > K):
        return None
    return ShapeEvidence(covariance_type=ct, better=better, bic_fit=bic_fit,
                         bic_better=bic_better, n_components=K,
                         better_components=k if k > K else None,
                         n_features=em.n_features,
                         grid_columns=tuple(names[j] for j in grid_columns(Xv)),
                         left_out=left_out,
                         bic_restarted=bic_same if bic_same < bic_fit - 1.0 else None)


def copies_caveat(X: Any, sample_weight: Any = None) -> str:
    """A sentence to end a model check's hint with where half the rows or more look copied
    (:func:`bayesgmm._validation.copied_rows_warning`; with weights, which the user chose,
    where many rows weigh more than 1: :func:`_ties_caveat`): copies count as evidence, and
    extra components or a noise component look better on them (QA126: 30 rows written 10
    times each, "consider n_components=3" where the 30 rows call for 1). "" otherwise."""
    if sample_weight is not None:
        return _ties_caveat(np.asarray(sample_weight, dtype=np.float64))
    copied = copied_rows_warning(np.asarray(X, dtype=np.float64).reshape(len(X), -1))
    return (f". Note: {copied[0].lower()}{copied[1:]}; copies also make extra components "
            "look better, so judge this with one row of each" if copied else "")


def _ties_caveat(g: np.ndarray) -> str:
    """:func:`copies_caveat`'s sentence for counts: where a tenth of the rows or more weigh
    more than 1, each is that many tied observations, and ties make extra components look
    better too (QA139 H2: counts tables of two Gaussians were told "one component more" 7
    times in 10, the extra one on 4 distinct rows); "" for weights that are no counts (their
    own sentence says so) or mostly 1."""
    positive = g > 0
    heavy = int(np.count_nonzero(g > 1))
    if not whole_numbers(g).all() or heavy < max(2, 0.1 * positive.sum()):
        return ""
    return (f". Note: {heavy:,} of the {int(positive.sum()):,} rows weigh more than 1, each "
            "as many tied observations (frequency weights), and ties make extra components "
            "look better, so judge this with the rows' values in mind (a counts table of "
            "rounded measurements is better expanded, one row per count, and dequantised)")
