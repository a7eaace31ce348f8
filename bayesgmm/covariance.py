"""The covariance-type vocabulary, stated once: names, shapes, full form, parameter counts.

Where it sits: the vocabulary layer, the package's leaf. It imports only NumPy, so every other
module (input validation, the kernel, EM, the model and its layout, relabelling, the posterior)
can use it.

scikit-learn's per-type shapes, with K components in D dimensions::

    full       (K, D, D)   one covariance per component
    tied       (D, D)      one covariance shared by all components
    diag       (K, D)      per-component variances
    spherical  (K,)        one variance per component

The same shapes hold for precision Cholesky factors, and :func:`to_full` expands either to the
full form (K, D, D); :func:`from_full` puts one full (D, D) matrix into a type's shape. Arrays
of posterior draws carry extra leading axes; :func:`to_full` and :func:`cholesky_draws` keep
them.

Factoring a covariance has one policy, stated here. :func:`cholesky` factors a matrix exactly
as it is and refuses one that is not positive definite, naming its component
(:class:`NotPositiveDefiniteError`): EM, its E-step over a row plan, a start, drawing from a
fit and a figure's ellipses and contour density all use it. :func:`cholesky_draws` is the one
repair: posterior draws that rounding left a hair from positive definite get the smallest
ridge that factors them. Eigen-analyses (EM's collapse checks) and a positive semi-definite
square root used only to draw imputed values (:mod:`bayesgmm.imputation`) are not
factorisations of a density's covariance, and say so where they are; the MAP prior's density
(:func:`bayesgmm.priors._normal_logpdfs`) factors by NumPy too but adds its own test, a
feature that is (numerically) a combination of the others, judged in each feature's units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "COLLAPSED_SD_RATIO",
    "COVARIANCE_DIMS",
    "FAR_TAIL",
    "points_needed",
    "COVARIANCE_TYPES",
    "RICHER_TYPES",
    "check_covariance_type",
    "check_shape",
    "permuted",
    "sd_and_correlation",
    "covariance_words",
    "NotPositiveDefiniteError",
    "cholesky",
    "cholesky_draws",
    "column_moments",
    "data_covariance",
    "component_shape",
    "distinct_entries",
    "from_full",
    "has_correlations",
    "n_covariance_parameters",
    "nearest_distance2",
    "shape",
    "to_full",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# The dims of a result's covariance draws or estimate per type (xarray; beyond chain, draw).
COVARIANCE_DIMS = {"full": ("component", "feature", "feature_bis"),
                   "tied": ("feature", "feature_bis"), "diag": ("component", "feature"),
                   "spherical": ("component",)}


def has_correlations(covariance_type: str) -> bool:
    """Whether ``covariance_type``'s components are matrices with correlations (``full``,
    ``tied``) rather than variances per feature (``diag``) or one variance (``spherical``):
    the question most code asks of a type, answered here alone."""
    return covariance_type in _WITH_CORRELATIONS


_WITH_CORRELATIONS = ("full", "tied")
# The types whose models contain each type's (a spherical component is a diag one with equal
# variances, a tied model a full one with equal matrices): a refit in one of them from the
# fit's own parameters can only raise the likelihood.
RICHER_TYPES = {"spherical": ("diag", "full"), "diag": ("full",), "tied": ("full",), "full": ()}


def type_of_dims(dims: Any) -> str | None:
    """The covariance type whose :data:`COVARIANCE_DIMS` are ``dims`` (in any order; other
    dims, such as a posterior's chain and draw, ignored), or None. By the dims' names, not
    the array's shape: tied (D, D) and diag (K, D) have one shape where K == D."""
    named = frozenset(dims) - {"chain", "draw", "sample"}
    return next((t for t, d in COVARIANCE_DIMS.items() if frozenset(d) == named), None)


def check_covariance_type(covariance_type: Any) -> str:
    """``covariance_type`` if it is one of :data:`COVARIANCE_TYPES`, else a ValueError (naming
    ours for an mclust model name: QA, an mclust user's 'VVV' was refused without a hint)."""
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}; got "
                         f"{covariance_type!r}{mclust_hint(covariance_type)}")
    return covariance_type


def mclust_hint(name: Any) -> str:
    """" (mclust's VVV is 'full' here: ...)" for an mclust model name of one of the four
    types; for mclust's other models, that they have no counterpart here (QA: 'VEV', iris's
    mclust choice, was refused without a word); else "": for the messages that refuse it."""
    upper = str(name).upper()
    if upper in ("V", "E"):
        return (" (mclust's one-dimensional V is 'full' here, as are 'diag' and 'spherical' "
                "in one dimension; its E is 'tied')")
    ours = _MCLUST_NAMES.get(upper)
    if ours:
        return f" (mclust's {upper} is {ours!r} here: {_MCLUST_MAP})"
    if upper in _MCLUST_OTHERS:
        return (f" (mclust's {upper} has no counterpart here: bayesgmm fits 4 of mclust's 14 "
                f"models, {_MCLUST_MAP})")
    return ""


# mclust's model names of the four types (Scrucca et al. 2016): volume, shape, orientation
# each Variable or Equal; I: axis-aligned (diagonal) or spherical.
_MCLUST_NAMES = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}
_MCLUST_MAP = "VVV = 'full', EEE = 'tied', VVI = 'diag', VII = 'spherical'"
_MCLUST_OTHERS = {"EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV"}


def shape(covariance_type: str, K: int, D: int) -> tuple[int, ...]:
    """scikit-learn's shape of the covariances (or precision factors) of a K-component model."""
    return {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[
        check_covariance_type(covariance_type)]


def covariance_words(covariance_type: str, D: int) -> str:
    """The covariance type as a reader takes it, for D features: "full covariances"; with one
    feature every type is a variance per component, or one shared (tied), and says so (QA:
    ``bayesgmm em`` on 1-D data said "full covariances", its report "a variance per
    component")."""
    if D == 1:
        return "one shared variance" if covariance_type == "tied" else \
            "a variance per component"
    return f"{covariance_type} covariances"


def component_shape(covariance_type: str, D: int) -> tuple[int, ...]:
    """The shape of one covariance parameter: (D, D) full/tied, (D,) diag, () spherical."""
    return {"full": (D, D), "tied": (D, D), "diag": (D,), "spherical": ()}[
        check_covariance_type(covariance_type)]


def check_shape(covariances: np.ndarray, covariance_type: str, K: int, D: int,
                name: str = "covariances") -> np.ndarray:
    """``covariances`` as float64 if it has :func:`shape`; else a ValueError naming both."""
    covariances = np.asarray(covariances, dtype=np.float64)
    expected = shape(covariance_type, K, D)
    if covariances.shape != expected:
        raise ValueError(f"{name} for {covariance_type!r} must have shape {expected}; "
                         f"got {covariances.shape}")
    return covariances


def distinct_entries(name: str, shape: tuple[int, ...], covariance_type: str):
    """The index tuples of parameter ``name``'s entries (``shape``: its shape without chain
    and draw), in C order, a symmetric covariance matrix's each once: (i, j) with i <= j on
    the last two axes of a full or tied fit's ``covariances`` (the tables of
    :meth:`BayesResult.compare_em` and ``estimates.csv`` list each number once)."""
    symmetric = name == "covariances" and covariance_type in ("full", "tied")
    for index in np.ndindex(*shape):
        if not (symmetric and index[-2] > index[-1]):
            yield index


def entry_label(name: str, values: Any) -> str:
    """ArviZ's label of parameter ``name``'s entry at the coordinate ``values`` (one per dim
    after chain and draw): ``means[0, waiting]``, the bare name for a scalar. The index of
    :meth:`BayesResult.summary` and the ``name`` column of ``estimates.csv``."""
    values = list(values)
    return f"{name}[{', '.join(f'{v}' for v in values)}]" if values else name


def data_covariance(X: np.ndarray, sample_weight: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of complete rows ``X`` (N, D), divisor N - 1.

    With frequency weights g_n the rows count g_n times: the mean is sum g x / G and the
    divisor G - 1 (G = sum g), which is ``np.cov`` of the expanded rows for whole-number
    weights; a row of weight 0 is no row at all. Weights that sum to little (normalised ones,
    G = 1) are no counts: the divisor is then G (n - 1) / n over the n rows of positive
    weight, the larger of the two, so the covariance stays finite and unchanged by a common
    factor of the weights (review: G - 1 made it 1e308).
    """
    if sample_weight is None:
        return X.mean(axis=0), np.atleast_2d(np.cov(X, rowvar=False))
    g = np.asarray(sample_weight, dtype=np.float64)
    total = g.sum()
    mean = g @ X / total
    centred = X - mean
    n = int(np.count_nonzero(g > 0))
    divisor = max(total - 1.0, total * (n - 1) / max(n, 1), np.finfo(float).tiny)
    return mean, (centred.T * g) @ centred / divisor


def column_moments(X: np.ndarray, sample_weight: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (divisor N) of each column of ``X`` (N, D) over its observed
    values (NaN: missing); with frequency weights, of the rows counted as often as their
    weights say (divisor: the weights' sum over the column's observed values)."""
    if sample_weight is None:
        if np.isnan(X).any():
            return np.nanmean(X, axis=0), np.nanvar(X, axis=0)
        return X.mean(axis=0), X.var(axis=0)
    observed = ~np.isnan(X)
    g = np.where(observed, np.asarray(sample_weight, dtype=np.float64)[:, None], 0.0)
    values = np.where(observed, X, 0.0)
    total = g.sum(axis=0)
    mean = (g * values).sum(axis=0) / total
    return mean, (g * (values - mean) ** 2).sum(axis=0) / total


def points_needed(covariance_type: str, D: int) -> int:
    """Effective points a component needs for a non-singular covariance of this type: D + 1
    (full), 2 (diag, spherical: a variance needs two points), 1 (tied: the shared covariance
    is estimated from every component's points; a component needs its mean's point)."""
    return {"full": D + 1, "diag": 2, "spherical": 2, "tied": 1}[covariance_type]


# A row (or a nearly empty component's mean) is far from a component when its squared
# Mahalanobis distance exceeds the chi-square quantile of this tail probability: one row in a
# million of a component's own lies beyond it (the verdict's outlier cause, the noise hint).
FAR_TAIL = 1e-6

# A component has collapsed in a direction where its sd is at most this fraction of the
# data's there: it then sits on rows that share a value (or a linear relation), where the
# likelihood grows without bound as its variance shrinks. One rule for EM's degenerate fits
# (:func:`bayesgmm.em.collapsed_components`, on the variance: its square) and the posterior's
# diagnostics (:func:`bayesgmm.diagnostics.collapsed_evidence`). A tight cluster of real data
# keeps an sd far above it (two clusters ~2,000 of their sds apart, for one to fall under it).
COLLAPSED_SD_RATIO = 1e-3


def nearest_distance2(X: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """Per row of ``X`` (N, D; NaN: missing), the squared Mahalanobis distance of its observed
    coordinates to the nearest of the components (``means`` (J, D), ``covariances`` in full
    form (J, D, D)), each in its own spread; NaN where no component's covariance factors
    (unknown, not far), and for a row with nothing observed."""
    out = np.full(X.shape[0], np.nan)
    observed = ~np.isnan(X)
    for pattern in np.unique(observed, axis=0):
        rows = np.flatnonzero(np.all(observed == pattern, axis=1))
        idx = np.flatnonzero(pattern)
        if not idx.size:
            continue
        for mean, c in zip(means, covariances, strict=True):
            try:
                chol = cholesky(c[np.ix_(idx, idx)])
            except NotPositiveDefiniteError:
                continue
            diff = (X[np.ix_(rows, idx)] - mean[idx]).T
            z = np.linalg.solve(chol, diff) if idx.size > 1 else diff / chol[0, 0]
            out[rows] = np.fmin(out[rows], np.sum(z * z, axis=0))
    return out


def n_covariance_parameters(covariance_type: str, K: int, D: int) -> int:
    """Free parameters of the covariances (scikit-learn's count)."""
    return {"full": K * D * (D + 1) // 2, "tied": D * (D + 1) // 2, "diag": K * D,
            "spherical": K}[check_covariance_type(covariance_type)]


def to_full(params: np.ndarray, covariance_type: str, K: int, D: int) -> np.ndarray:
    """Covariances (or precision Cholesky factors) in full form (..., K, D, D), C-contiguous.

    Parameters
    ----------
    params : ndarray (..., *shape(covariance_type, K, D))
        Any leading (batch) axes are kept: posterior draws (S, ...) give (S, K, D, D).
    covariance_type : {"full", "tied", "diag", "spherical"}
    K, D : int

    Returns
    -------
    ndarray (..., K, D, D)
        A new array (never a view of ``params``).
    """
    params = np.asarray(params, dtype=np.float64)
    check_covariance_type(covariance_type)
    if covariance_type == "full":
        return np.array(params, order="C")
    if covariance_type == "tied":
        batch = params.shape[:-2]
        return np.ascontiguousarray(np.broadcast_to(params[..., None, :, :], (*batch, K, D, D)))
    eye = np.eye(D)
    if covariance_type == "diag":
        return params[..., :, :, None] * eye
    return params[..., :, None, None] * eye


def permuted(params: np.ndarray, covariance_type: str, order: Any) -> np.ndarray:
    """Covariances in ``covariance_type``'s form with the features reordered (``order``: the
    new position's old index, or a slice): rows and columns of full and tied matrices, the
    columns of diag; spherical variances have no feature axis. A new array."""
    params = np.asarray(params, dtype=np.float64)
    check_covariance_type(covariance_type)
    if covariance_type == "full":
        return params[:, order][:, :, order].copy()
    if covariance_type == "tied":
        return params[order][:, order].copy()
    if covariance_type == "diag":
        return params[:, order].copy()
    return params.copy()


def sd_and_correlation(full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard deviations (..., D) and correlation matrices (..., D, D) of covariance
    matrices in full form (..., D, D), any leading axes kept (components, draws): the one
    computation behind the tables' sds and correlations. A zero variance gives NaN
    correlations, without NumPy's warning."""
    full = np.asarray(full, dtype=np.float64)
    sd = np.sqrt(np.diagonal(full, axis1=-2, axis2=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return sd, full / (sd[..., :, None] * sd[..., None, :])


def from_full(cov: np.ndarray, covariance_type: str, K: int | None = None) -> np.ndarray:
    """One full (D, D) covariance in ``covariance_type``'s form: the matrix itself (full,
    tied), its diagonal (diag) or its mean variance (spherical).

    Without ``K``, one component's parameter (:func:`component_shape`; a 0-d array for
    spherical). With ``K``, every component's (:func:`shape`: the same matrix for each of the
    K components, or the one shared matrix for tied). Always a new array.
    """
    cov = np.asarray(cov, dtype=np.float64)
    check_covariance_type(covariance_type)
    if covariance_type in ("full", "tied"):
        one = cov.copy()
    elif covariance_type == "diag":
        one = np.diag(cov).copy()
    else:
        one = np.array(np.mean(np.diag(cov)))
    if K is None or covariance_type == "tied":
        return one
    return np.broadcast_to(one, (K, *one.shape)).copy()


class NotPositiveDefiniteError(ValueError):
    """A covariance matrix is not (numerically) positive definite."""


def cholesky(full: np.ndarray, *, advice: str = "increase reg_covar") -> np.ndarray:
    """Lower Cholesky factors of covariances in full form, exactly as they are (no repair).

    Parameters
    ----------
    full : ndarray (..., D, D)
        One covariance (D, D), or one per component (K, D, D), with any leading axes.
    advice : str, default "increase reg_covar"
        What the error message tells the user to do.

    Returns
    -------
    ndarray (..., D, D)
        The lower factors L with L L^T = ``full``.

    Raises
    ------
    NotPositiveDefiniteError
        Naming the first matrix (its component: its index on the axis before the matrix's)
        that holds a non-finite value or is not positive definite.
    """
    full = np.asarray(full, dtype=np.float64)
    if np.all(np.isfinite(full)):
        try:
            return np.linalg.cholesky(full)
        except np.linalg.LinAlgError:
            pass
    K = full.shape[-3] if full.ndim > 2 else 1
    for index, matrix in enumerate(full.reshape(-1, *full.shape[-2:])):
        problem = ("is not finite" if not np.all(np.isfinite(matrix)) else
                   "" if _factors(matrix) else "is not positive definite")
        if problem:
            name = f"covariance of component {index % K}" if full.ndim > 2 else "a covariance"
            raise NotPositiveDefiniteError(f"{name} {problem}; {advice}")
    raise NotPositiveDefiniteError(f"a covariance is not positive definite; {advice}")


def _factors(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def cholesky_draws(covariances: np.ndarray, covariance_type: str, K: int,
                   D: int) -> np.ndarray:
    """Lower Cholesky factors (..., K, D, D) of covariances with leading draw axes (...).

    A matrix that rounding left not positive definite (a component collapsing onto tied
    values: entries near 1e-30 whose product of factors lost its last digits; QA: K=5 on
    whole-millimetre wing lengths ended "not positive definite" and saved nothing) is
    factored with the smallest ridge that makes it so: float64's epsilon times its largest
    diagonal entry, doubled until it factors (at most 1e-10 of it). Raises
    ``np.linalg.LinAlgError`` for a matrix no such ridge repairs (no covariance at all).
    """
    full = to_full(covariances, covariance_type, K, D)
    try:
        return np.ascontiguousarray(np.linalg.cholesky(full))
    except np.linalg.LinAlgError:
        pass
    flat = np.array(full, dtype=np.float64).reshape(-1, D, D)
    out = np.empty_like(flat)
    for i, matrix in enumerate(flat):
        out[i] = _cholesky_with_ridge(matrix)
    return np.ascontiguousarray(out.reshape(full.shape))


# The largest ridge (relative to the largest variance) that repairs rounding, not a matrix
# that is no covariance (a negative eigenvalue of its own).
_LARGEST_RIDGE = 1e-10


def _cholesky_with_ridge(matrix: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        pass
    top = float(np.max(np.diagonal(matrix)))
    if not np.all(np.isfinite(matrix)) or not top > 0:
        raise np.linalg.LinAlgError("a covariance with no positive finite variance")
    ridge = np.finfo(np.float64).eps * top
    while ridge <= _LARGEST_RIDGE * top:  # rounding needs a few eps; more is no rounding
        try:
            return np.linalg.cholesky(matrix + ridge * np.eye(matrix.shape[0]))
        except np.linalg.LinAlgError:
            ridge *= 2.0
    raise np.linalg.LinAlgError("a covariance that no small ridge makes positive definite")
