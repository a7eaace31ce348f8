"""Undo label switching in posterior draws of a Gaussian mixture.

(Over 500 lines: the entry points, the report type, input checks and the distance method's
cost per covariance type; the classification-probability methods live in
:mod:`bayesgmm.relabel_methods`.)

The likelihood of a K-component mixture is invariant under the K! permutations of its
components, so a sampler that mixes well visits all of them and per-component summaries of the
raw draws are meaningless. Each draw is relabelled to agree with a reference labelling (the EM
solution): the components of the draw are matched to the reference components by the Hungarian
algorithm on a K x K cost matrix of symmetrised Kullback-Leibler divergences

    J(p, q) = 1/2 [tr(S_q^-1 S_p) + tr(S_p^-1 S_q) - 2 D + d^T (S_p^-1 + S_q^-1) d],  d = m_p - m_q,

a symmetric, non-negative dissimilarity between Gaussians (zero only for equal ones) that needs
no determinants. Optionally the match is repeated against the posterior mean of the relabelled
draws, which is a better-centred reference than a point estimate; this is the iterate-until-
stable scheme of relabelling algorithms such as Stephens (2000), "Dealing with label switching
in mixture models", JRSS B 62(4), with a Gaussian distance in place of his loss.

That ``"distance"`` method sees the parameters only. When components overlap, it swaps them
draw by draw (measured on the hard panel, ``benchmarks/README.md``: a third of the points
changed their most probable component between draws); the ``"stephens"`` (Stephens 2000, the
default when the data are given) and ``"ecr"`` (Papastamoulis & Iliopoulos 2010) methods
match draws by how they classify the data instead (:mod:`bayesgmm.relabel_methods`), a
weighted fit's rows counted by their ``sample_weight`` (those of weight 0 not at all).

Conventions (shared with the rest of :mod:`bayesgmm`): ``weights`` (chain, draw, component),
``means`` (chain, draw, component, feature) and ``covariances`` in scikit-learn's per-type shapes
behind the (chain, draw) axes; the reference has the same shapes without (chain, draw).
``permutations[c, d, k]`` is the index of draw (c, d)'s component that becomes component ``k``.

Where it sits: the posterior layer; imports :mod:`bayesgmm.relabel_methods`, the covariance
vocabulary and the input checks; imported by diagnostics, the result object, persistence, the fit
and sparse mixtures.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from bayesgmm._validation import check_covariance_type, check_int
from bayesgmm.covariance import has_correlations
from bayesgmm.covariance import shape as covariance_shape
from bayesgmm.relabel_methods import (
    assign_min_cost,
    classification_probabilities,
    ecr_permutations,
    points_classified,
    stephens_permutations,
)

__all__ = [
    "METHODS",
    "LabelSwitchingReport",
    "apply_permutations",
    "relabel_draws",
    "relabel_posterior",
]

SAMPLE_DIMS = ("chain", "draw")
# "distance": Gaussians matched by symmetrised KL divergence (parameters only); "stephens" and
# "ecr": by classification probabilities of the data (bayesgmm.relabel_methods).
METHODS = ("distance", "stephens", "ecr")
# With the data at hand, Stephens' method (measured on the hard panel, benchmarks/README.md:
# consistent memberships where the distance method swaps overlapping components draw by draw);
# without data only the distance method can run.
DEFAULT_METHOD = "stephens"
# The methods recorded when nothing was relabelled because the model fixes the labels: an
# ordering constraint on the means, or known labels naming every component.
ORDERED = "ordered"
LABELLED = "labelled"
# Default passes per method: distance re-matches once to the relabelled posterior mean;
# Stephens alternates until no permutation changes (usually a handful of passes).
_DEFAULT_N_ITER = {"distance": 2, "stephens": 100, "ecr": 1}
# Upper bound on the number of floats in one block of cost-matrix intermediates
# (draws x K x K x D x D for full covariances): about 32 MB of float64 per block.
_BLOCK_FLOATS = 1 << 22


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelSwitchingReport:
    """How many draws had to be relabelled, per chain.

    A draw counts as permuted when its permutation is not the identity, i.e. its components
    were stored in a different order from the reference labelling.

    Attributes
    ----------
    chains : tuple of str
        Chain labels.
    n_draws : tuple of int
        Draws per chain.
    n_permuted : tuple of int
        Permuted draws per chain.
    fraction_permuted : float
        Permuted draws over all draws of all chains.
    n_iter : int
        Relabelling passes that were run (the last one changed nothing, or the limit was hit).
    permutations : ndarray of shape (chain, draw, component)
        ``permutations[c, d, k]`` is the component of draw (c, d) that became component ``k``.
    method : str
        The relabelling method (see :func:`relabel_draws`).
    fixed_components : tuple of int
        Components that were never permuted because known labels name them (only the others
        were relabelled).
    """

    chains: tuple[str, ...]
    n_draws: tuple[int, ...]
    n_permuted: tuple[int, ...]
    fraction_permuted: float
    n_iter: int
    permutations: np.ndarray = field(repr=False, compare=False)
    method: str = "distance"
    fixed_components: tuple[int, ...] = ()

    @classmethod
    def from_permutations(
        cls,
        permutations: np.ndarray,
        chains: Sequence[Hashable] | None = None,
        n_iter: int = 1,
        method: str = "distance",
        fixed_components: Sequence[int] = (),
    ) -> LabelSwitchingReport:
        """Build the report from a (chain, draw, component) array of permutations."""
        perms = np.asarray(permutations)
        n_chains, n_draws, n_components = perms.shape
        moved = np.any(perms != np.arange(n_components), axis=-1)  # (chain, draw)
        labels = range(n_chains) if chains is None else chains
        n_permuted = tuple(int(v) for v in moved.sum(axis=1))
        total = n_chains * n_draws
        return cls(
            chains=tuple(str(c) for c in labels),
            n_draws=(n_draws,) * n_chains,
            n_permuted=n_permuted,
            fraction_permuted=float(sum(n_permuted) / total) if total else 0.0,
            n_iter=int(n_iter),
            permutations=perms,
            method=str(method),
            fixed_components=tuple(int(k) for k in fixed_components),
        )

    @property
    def total_permuted(self) -> int:
        """Permuted draws over all chains."""
        return sum(self.n_permuted)

    def __str__(self) -> str:
        total = sum(self.n_draws)
        why = {ORDERED: "the means are constrained to increase (ordered_means)",
               LABELLED: "known labels name every component"}.get(self.method)
        if why:
            return (f"Label switching: none; {why}, which fixes the labels: all {total:,} draws "
                    "kept as drawn.")
        if self.permutations is not None and np.asarray(self.permutations).shape[-1] == 1:
            return f"Label switching: none with one component (all {total:,} draws as drawn)."
        lines = [
            f"Label switching: {self.total_permuted:,} of {total:,} draws "
            f"({100 * self.fraction_permuted:.1f}%) were relabelled to match the reference "
            f"(method {self.method!r}, {self.n_iter} pass{'es' if self.n_iter != 1 else ''})."
        ]
        if self.fixed_components:
            named = ", ".join(str(k) for k in self.fixed_components)
            lines.append(f"  component(s) {named} are named by known labels and were kept; "
                         "only the others were relabelled")
        if not self.total_permuted:  # "0 of 1,500" per chain would only repeat the line
            return "\n".join(lines)
        for chain, n, m in zip(self.chains, self.n_draws, self.n_permuted, strict=True):
            lines.append(f"  chain {chain}: {m:,} of {n:,} ({100 * m / n if n else 0.0:.1f}%)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# NumPy API
# --------------------------------------------------------------------------------------------
def relabel_draws(
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
    reference_weights: np.ndarray,
    reference_means: np.ndarray,
    reference_covariances: np.ndarray,
    *,
    n_iter: int | None = None,
    method: str | None = None,
    X: np.ndarray | None = None,
    fixed_components: Sequence[int] = (),
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Relabel every draw so that its components match the reference components.

    Parameters
    ----------
    weights : array-like of shape (chain, draw, K)
    means : array-like of shape (chain, draw, K, D)
    covariances : array-like
        (chain, draw, K, D, D) for "full", (chain, draw, D, D) for "tied",
        (chain, draw, K, D) for "diag", (chain, draw, K) for "spherical".
    covariance_type : {"full", "tied", "diag", "spherical"}
    reference_weights : array-like of shape (K,)
        Used by the "stephens" and "ecr" methods (the reference's classification of X);
        "distance" compares the Gaussians alone.
    reference_means : array-like of shape (K, D)
    reference_covariances : array-like
        The per-type shapes above without the (chain, draw) axes.
    n_iter : int, optional
        Maximum number of passes. "distance" (default 2): pass ``i > 1`` matches the original
        draws against the posterior mean of the draws relabelled by pass ``i - 1``.
        "stephens" (default 100): alternations of Stephens' algorithm. "ecr": one pass.
        Every method stops early when no permutation changes.
    method : {"distance", "stephens", "ecr"}, optional
        Default: "stephens" when ``X`` is given, else "distance".
        "distance": match each draw's Gaussians to the reference's by symmetrised KL
        divergence. "stephens": Stephens' (2000) KL algorithm on the classification
        probabilities of ``X``, started from the "distance" labelling. "ecr": match each
        draw's allocation of ``X`` to the reference's (Papastamoulis & Iliopoulos 2010). See
        :mod:`bayesgmm.relabel_methods`.
    X : array-like of shape (N, D), optional
        The data; required by "stephens" and "ecr".
    fixed_components : sequence of int, optional
        Components that keep their index in every draw (e.g. those named by known labels, which
        the likelihood identifies); the others are relabelled among themselves.
    sample_weight : array-like of shape (N,), optional
        Frequency weights of ``X``'s rows: "stephens" and "ecr" count row n ``sample_weight[n]``
        times, as they would its copies (QA133: a weighted fit's draws were relabelled
        unweighted, 7 of 1,000 otherwise than on the repeated rows).

    Returns
    -------
    permutations : ndarray of shape (chain, draw, K), intp
        ``permutations[c, d, k]`` is the component of draw (c, d) that becomes component ``k``.
    weights : ndarray of shape (chain, draw, K)
    means : ndarray of shape (chain, draw, K, D)
    covariances : ndarray, same shape as the input
        Relabelled copies. Tied covariances are shared by all components and returned as is.
    """
    covariance_type = check_covariance_type(covariance_type)
    w, m, c = _check_draws(weights, means, covariances, covariance_type)
    ref_m, ref_c = _check_reference(
        reference_weights, reference_means, reference_covariances, covariance_type, m.shape[2:]
    )
    ref_w = np.asarray(reference_weights, dtype=np.float64)
    method = _default_method(method, X)
    perms, _ = _relabel(w, m, c, ref_w, ref_m, ref_c, covariance_type, n_iter, method, X,
                        fixed_components, sample_weight)
    return perms, *_permute_parameters(perms, w, m, c, covariance_type)


def apply_permutations(array: np.ndarray, permutations: np.ndarray, axis: int = 2) -> np.ndarray:
    """Reorder the component axis of ``array`` draw by draw.

    Parameters
    ----------
    array : array-like of shape (chain, draw, ...)
        Any per-component quantity; ``axis`` is its component axis.
    permutations : array-like of shape (chain, draw, K)
        As returned by :func:`relabel_draws`.
    axis : int, default 2
        Component axis of ``array`` (counted with the chain and draw axes).

    Returns
    -------
    ndarray, same shape as ``array``
        ``out[c, d, ..., k, ...] = array[c, d, ..., permutations[c, d, k], ...]``.
    """
    arr = np.asarray(array)
    perms = np.asarray(permutations)
    axis = axis % arr.ndim
    if axis < 2 or arr.shape[:2] != perms.shape[:2] or arr.shape[axis] != perms.shape[2]:
        raise ValueError(
            f"cannot apply permutations of shape {perms.shape} along axis {axis} of an array "
            f"of shape {arr.shape}"
        )
    # Put the component axis third, give the index the trailing axes, and move it back.
    moved = np.moveaxis(arr, axis, 2)
    index = perms.reshape(perms.shape + (1,) * (moved.ndim - 3))
    return np.moveaxis(np.take_along_axis(moved, index, axis=2), 2, axis)


# --------------------------------------------------------------------------------------------
# xarray API
# --------------------------------------------------------------------------------------------
def relabel_posterior(
    posterior: xr.Dataset | xr.DataTree,
    reference: Any,
    covariance_type: str,
    *,
    n_iter: int | None = None,
    method: str | None = None,
    X: np.ndarray | None = None,
    component_dim: str = "component",
    fixed_components: Sequence[int] = (),
    sample_weight: np.ndarray | None = None,
) -> tuple[xr.Dataset, LabelSwitchingReport]:
    """Relabel the mixture components of a posterior stored in xarray.

    Parameters
    ----------
    posterior : xarray.Dataset or xarray.DataTree
        The posterior group, or a DataTree with a ``posterior`` group. It must hold
        ``weights``, ``means`` and ``covariances`` with ``chain`` and ``draw`` dimensions.
    reference : mapping, tuple or fitted model
        The reference labelling (the EM solution): a mapping (dict or xarray Dataset) with keys
        ``weights``, ``means``, ``covariances``; a tuple ``(weights, means, covariances)``; or an
        object with attributes ``weights_``, ``means_``, ``covariances_`` (scikit-learn style)
        or ``weights``, ``means``, ``covariances``. Shapes as in :func:`relabel_draws`.
    covariance_type : {"full", "tied", "diag", "spherical"}
    n_iter : int, optional
        See :func:`relabel_draws`.
    method : {"distance", "stephens", "ecr"}, optional
        See :func:`relabel_draws` (default "stephens" when the data are at hand).
    X : array-like of shape (N, D), optional
        The data (required by "stephens" and "ecr"); with a DataTree that has an
        ``observed_data`` group holding ``x``, that is used when ``X`` is not given.
    component_dim : str, default "component"
        Name of the component dimension.
    fixed_components : sequence of int, optional
        See :func:`relabel_draws`; recorded in the report.
    sample_weight : array-like of shape (N,), optional
        ``X``'s rows' frequency weights (see :func:`relabel_draws`).

    Returns
    -------
    relabelled : xarray.Dataset
        A copy of the posterior in which every variable with the component dimension (and
        chain and draw) has been reordered draw by draw; dimension order, coordinates and
        attributes are kept. Tied covariances are left unchanged.
    report : LabelSwitchingReport
    """
    covariance_type = check_covariance_type(covariance_type)
    ds = _posterior_dataset(posterior)
    for name in ("weights", "means", "covariances"):
        if name not in ds.data_vars:
            raise ValueError(f"the posterior has no variable {name!r}")
    w, m, c = _check_draws(
        *(
            _to_numpy(ds[name], _lead_dims(name, covariance_type, component_dim))
            for name in ("weights", "means", "covariances")
        ),
        covariance_type,
    )
    ref_w, ref_means, ref_covs = _reference_arrays(reference)
    ref_m, ref_c = _check_reference(ref_w, ref_means, ref_covs, covariance_type, m.shape[2:])
    if X is None and isinstance(posterior, xr.DataTree) and "observed_data" in posterior.children:
        X = posterior["observed_data"]["x"].values
    method = _default_method(method, X)
    perms, n_done = _relabel(w, m, c, ref_w, ref_m, ref_c, covariance_type, n_iter, method, X,
                             fixed_components, sample_weight)

    out = ds.copy()
    for name, da in ds.data_vars.items():
        if component_dim in da.dims and all(d in da.dims for d in SAMPLE_DIMS):
            out[name] = _permute_dataarray(da, perms, component_dim)
    report = LabelSwitchingReport.from_permutations(
        perms, ds["chain"].values, n_done, method=method,
        fixed_components=_check_fixed(fixed_components, perms.shape[2]))
    return out, report


def _posterior_dataset(posterior: xr.Dataset | xr.DataTree) -> xr.Dataset:
    if isinstance(posterior, xr.DataTree):
        node = posterior["posterior"] if "posterior" in posterior.children else posterior
        return node.to_dataset()
    if isinstance(posterior, xr.Dataset):
        return posterior
    raise TypeError(f"expected an xarray Dataset or DataTree; got {type(posterior).__name__}")


def _lead_dims(name: str, covariance_type: str, component_dim: str) -> tuple[str, ...]:
    if name == "covariances" and covariance_type == "tied":
        return SAMPLE_DIMS
    return (*SAMPLE_DIMS, component_dim)


def _to_numpy(da: xr.DataArray, lead: tuple[str, ...]) -> np.ndarray:
    """Values with the ``lead`` dims first; the remaining dims keep their stored order."""
    missing = [d for d in lead if d not in da.dims]
    if missing:
        raise ValueError(f"variable {da.name!r} lacks dimension(s) {missing}; it has {da.dims}")
    return da.transpose(*lead, ...).values


def _permute_dataarray(da: xr.DataArray, perms: np.ndarray, component_dim: str) -> xr.DataArray:
    canonical = da.transpose(*SAMPLE_DIMS, component_dim, ...)
    values = apply_permutations(canonical.values, perms, axis=2)
    return canonical.copy(data=values).transpose(*da.dims)


def _reference_arrays(reference: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = ("weights", "means", "covariances")
    if isinstance(reference, Mapping):
        return tuple(np.asarray(reference[k], dtype=np.float64) for k in keys)
    if isinstance(reference, tuple | list) and len(reference) == 3:
        return tuple(np.asarray(v, dtype=np.float64) for v in reference)
    for suffix in ("_", ""):
        if all(hasattr(reference, k + suffix) for k in keys):
            return tuple(np.asarray(getattr(reference, k + suffix), dtype=np.float64) for k in keys)
    raise TypeError(
        "reference must be a mapping or tuple of (weights, means, covariances), or a fitted "
        f"model with weights_/means_/covariances_; got {type(reference).__name__}"
    )


# --------------------------------------------------------------------------------------------
# Core
# --------------------------------------------------------------------------------------------
def _relabel(w, m, c, ref_w, ref_m, ref_c, covariance_type, n_iter, method, X, fixed=(),
             sample_weight=None) -> tuple[np.ndarray, int]:
    """Permutations (chain, draw, K) and the number of passes run, for validated arrays;
    the ``fixed`` components stay in place and the others are relabelled among themselves."""
    n_chains, n_draws, K = w.shape
    fixed = _check_fixed(fixed, K)
    if not fixed:
        return _relabel_all(w, m, c, ref_w, ref_m, ref_c, covariance_type, n_iter, method, X,
                            sample_weight)
    free = np.setdiff1d(np.arange(K), fixed)
    perms = np.broadcast_to(np.arange(K), (n_chains, n_draws, K)).copy()
    if free.size < 2:
        return perms, 0
    tied = covariance_type == "tied"  # one covariance for all: nothing to take apart
    # The free components as a mixture of their own (weights renormalised: the classification
    # probabilities among them do not depend on the fixed ones' share).
    w_free = w[:, :, free] / w[:, :, free].sum(axis=-1, keepdims=True)
    sub, n_done = _relabel_all(
        w_free, m[:, :, free], c if tied else c[:, :, free], ref_w[free] / ref_w[free].sum(),
        ref_m[free], ref_c if tied else ref_c[free], covariance_type, n_iter, method, X,
        sample_weight)
    perms[:, :, free] = free[sub]
    return perms, n_done


def _check_fixed(fixed, K: int) -> tuple[int, ...]:
    fixed = tuple(sorted({check_int(k, "fixed_components", minimum=0) for k in fixed}))
    if fixed and fixed[-1] >= K:
        raise ValueError(f"fixed_components must name components 0..{K - 1}; got {list(fixed)}")
    return fixed


def _relabel_all(w, m, c, ref_w, ref_m, ref_c, covariance_type, n_iter, method, X,
                 sample_weight=None) -> tuple[np.ndarray, int]:
    """:func:`_relabel` with every component free."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if n_iter is None:
        n_iter = _DEFAULT_N_ITER[method]
    check_int(n_iter, "n_iter")
    if method == "distance":
        return _relabel_distance(m, c, ref_m, ref_c, covariance_type, n_iter)
    X = _check_X(X, m.shape[3], method)
    g = _check_row_weights(sample_weight, X.shape[0])
    if g is not None:  # a row of weight 0 counts for nothing: not classified at all
        X, g = X[g > 0], g[g > 0]
    n_chains, n_draws, K, D = m.shape
    # the points classified, and their weights with them (QA137 H1: 1,000 weighted rows of
    # 12,000 draws were subsampled, their weights not)
    kept = points_classified(X.shape[0], n_chains * n_draws + 1, K)
    if kept is not None:
        X, g = X[kept], None if g is None else g[kept]
    # The reference is classified with the draws (one kernel call, the same points if the
    # data are subsampled) and split off again.
    P = classification_probabilities(
        X,
        np.concatenate([w.reshape(-1, K), ref_w[None]]),
        np.concatenate([m.reshape(-1, K, D), ref_m[None]]),
        np.concatenate([c.reshape(-1, *c.shape[2:]), ref_c[None]]),
        covariance_type,
    )
    P, P_ref = P[:-1], P[-1]
    if method == "ecr":
        perms, n_done = ecr_permutations(P, P_ref.argmax(axis=1), row_weights=g), 1
    else:
        initial, _ = _relabel_distance(m, c, ref_m, ref_c, covariance_type, 2)
        perms, n_done = stephens_permutations(P, initial.reshape(-1, K), max_iter=n_iter,
                                              reference=P_ref, row_weights=g)
    # Contiguous: the permuted draws take the index's memory layout, and a strided layout
    # changes floating-point sums over them (e.g. a saved and reloaded result's means).
    return np.ascontiguousarray(perms).reshape(n_chains, n_draws, K), n_done


def _check_row_weights(sample_weight, n_rows: int) -> np.ndarray | None:
    """Frequency weights of the rows relabelling classifies: finite, >= 0, one per row."""
    if sample_weight is None:
        return None
    g = np.asarray(sample_weight, dtype=np.float64)
    if g.shape != (n_rows,) or not np.all(np.isfinite(g)) or np.any(g < 0) or not g.any():
        raise ValueError(f"sample_weight must hold {n_rows} finite weights >= 0, not all "
                         f"zero, one per row of X; got shape {g.shape}")
    return g


def _default_method(method, X) -> str:
    if method is None:
        return DEFAULT_METHOD if X is not None else "distance"
    return method


def _check_X(X, D, method) -> np.ndarray:
    if X is None:
        raise ValueError(f"method={method!r} needs the data: pass X (the (N, D) array the "
                         "posterior was fitted to)")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != D:
        raise ValueError(f"X must have shape (N, {D}) to match the draws; got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    return X


def _relabel_distance(m, c, ref_m, ref_c, covariance_type, n_iter) -> tuple[np.ndarray, int]:
    """The "distance" method: permutations (chain, draw, K) and the passes run."""
    n_chains, n_draws, K, D = m.shape
    # Flatten (chain, draw) so that the cost computation sees one batch axis.
    flat_m = m.reshape(-1, K, D)
    flat_c = c.reshape(-1, *c.shape[2:])
    perms = None
    for it in range(1, n_iter + 1):
        new = _best_permutations(flat_m, flat_c, ref_m, ref_c, covariance_type)
        if perms is not None and np.array_equal(new, perms):
            return perms.reshape(n_chains, n_draws, K), it
        perms = new
        if it < n_iter:  # the posterior mean of the relabelled draws is the next reference
            ref_m, ref_c = _posterior_mean(perms, flat_m, flat_c, covariance_type)
    return perms.reshape(n_chains, n_draws, K), n_iter


def _posterior_mean(perms, flat_m, flat_c, covariance_type):
    perms3 = perms[None]  # apply_permutations wants (chain, draw, K)
    ref_m = apply_permutations(flat_m[None], perms3).mean(axis=(0, 1))
    if covariance_type == "tied":
        return ref_m, flat_c.mean(axis=0)
    return ref_m, apply_permutations(flat_c[None], perms3).mean(axis=(0, 1))


def _best_permutations(means, covs, ref_means, ref_covs, covariance_type) -> np.ndarray:
    """Optimal assignment for every draw; ``means`` has shape (S, K, D)."""
    S, K, D = means.shape
    per_draw = K * K * D * max(D if has_correlations(covariance_type) else 1, 1)
    block = max(1, _BLOCK_FLOATS // per_draw)
    perms = np.empty((S, K), dtype=np.intp)
    floor = _variance_floor(ref_covs, covariance_type)
    ref_covs = _floored(ref_covs, covariance_type, floor)
    for start in range(0, S, block):
        stop = min(S, start + block)
        draws = _floored(covs[start:stop], covariance_type, floor)
        cost = _COSTS[covariance_type](means[start:stop], draws, ref_means, ref_covs)
        perms[start:stop] = assign_min_cost(cost)
    return perms


# Variances are compared above this fraction of the reference's mean variance: a component
# that collapsed in a draw (a variance of 1e-30, a singular covariance; QA: 30 rows at three
# distinct points, full covariances) is then very far from every reference component instead
# of undefined, so the run ends with diagnostics that name the collapse rather than an error.
_RELATIVE_FLOOR = 1e-10


def _variance_floor(ref_covs: np.ndarray, covariance_type: str) -> float:
    """:data:`_RELATIVE_FLOOR` times the reference's mean variance (its covariances'
    diagonals), or the smallest normal float where that is zero or not finite."""
    variances = (np.diagonal(ref_covs, axis1=-2, axis2=-1)
                 if has_correlations(covariance_type) else ref_covs)
    scale = float(np.mean(variances))
    floor = _RELATIVE_FLOOR * scale if np.isfinite(scale) and scale > 0 else 0.0
    return max(floor, float(np.finfo(np.float64).tiny))


def _floored(covs: np.ndarray, covariance_type: str, floor: float) -> np.ndarray:
    """``covs`` with ``floor`` added to every variance (a matrix's diagonal)."""
    if has_correlations(covariance_type):
        return covs + floor * np.eye(covs.shape[-1])
    return covs + floor


# Symmetrised KL divergences, J[s, j, k] between draw component j and reference component k.
# Constant terms are kept so that the cost is the divergence itself (zero for equal Gaussians).
def _cost_full(m, c, ref_m, ref_c):
    prec = _inverse(c)  # (S, K, D, D)
    ref_prec = _inverse(ref_c)  # (K, D, D)
    D = m.shape[-1]
    # tr(A^-1 B) = sum(A^-1 * B) for symmetric B: no matrix products needed.
    trace = np.einsum("kab,sjab->sjk", ref_prec, c) + np.einsum("sjab,kab->sjk", prec, ref_c)
    delta = m[:, :, None, :] - ref_m[None, None, :, :]  # (S, K, K, D)
    maha = np.einsum("sjka,sjab,sjkb->sjk", delta, prec, delta, optimize=True)
    maha += np.einsum("sjka,kab,sjkb->sjk", delta, ref_prec, delta, optimize=True)
    return 0.5 * (trace + maha) - D


def _cost_tied(m, c, ref_m, ref_c):
    # One covariance per draw and one for the reference: the trace terms are the same for every
    # pair, so only the Mahalanobis distance under the summed precisions decides the match.
    prec = _inverse(c) + _inverse(ref_c)  # (S, D, D)
    delta = m[:, :, None, :] - ref_m[None, None, :, :]
    return 0.5 * np.einsum("sjka,sab,sjkb->sjk", delta, prec, delta, optimize=True)


def _cost_diag(m, v, ref_m, ref_v):
    D = m.shape[-1]
    v_j = v[:, :, None, :]  # (S, K, 1, D)
    v_k = ref_v[None, None, :, :]  # (1, 1, K, D)
    delta2 = (m[:, :, None, :] - ref_m[None, None, :, :]) ** 2
    terms = v_j / v_k + v_k / v_j + delta2 * (1.0 / v_j + 1.0 / v_k)
    return 0.5 * terms.sum(axis=-1) - D


def _cost_spherical(m, v, ref_m, ref_v):
    D = m.shape[-1]
    v_j = v[:, :, None]  # (S, K, 1)
    v_k = ref_v[None, None, :]  # (1, 1, K)
    dist2 = ((m[:, :, None, :] - ref_m[None, None, :, :]) ** 2).sum(axis=-1)
    return 0.5 * (D * (v_j / v_k + v_k / v_j) + dist2 * (1.0 / v_j + 1.0 / v_k)) - D


_COSTS = {
    "full": _cost_full,
    "tied": _cost_tied,
    "diag": _cost_diag,
    "spherical": _cost_spherical,
}


def _inverse(cov: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(cov)
    except np.linalg.LinAlgError:
        raise ValueError("a covariance matrix is singular; cannot compare components") from None


def _permute_parameters(perms, weights, means, covariances, covariance_type):
    w = apply_permutations(weights, perms)
    m = apply_permutations(means, perms)
    c = covariances.copy() if covariance_type == "tied" else apply_permutations(covariances, perms)
    return w, m, c


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
def _as_finite(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_draws(weights, means, covariances, covariance_type):
    w = _as_finite(weights, "weights")
    m = _as_finite(means, "means")
    c = _as_finite(covariances, "covariances")
    if m.ndim != 4:
        raise ValueError(f"means must have shape (chain, draw, K, D); got {m.shape}")
    n_chains, n_draws, K, D = m.shape
    if w.shape != (n_chains, n_draws, K):
        raise ValueError(f"weights must have shape {(n_chains, n_draws, K)}; got {w.shape}")
    expected = (n_chains, n_draws, *covariance_shape(covariance_type, K, D))
    if c.shape != expected:
        raise ValueError(
            f"{covariance_type} covariances must have shape {expected}; got {c.shape}"
        )
    return w, m, c


def _check_reference(ref_weights, ref_means, ref_covs, covariance_type, shape):
    """Validated reference means and covariances for draws with ``(K, D) = shape``."""
    K, D = shape
    rw = _as_finite(ref_weights, "reference_weights")
    rm = _as_finite(ref_means, "reference_means")
    rc = _as_finite(ref_covs, "reference_covariances")
    if rw.shape != (K,) or rm.shape != (K, D):
        raise ValueError(
            f"the reference must have weights of shape {(K,)} and means of shape {(K, D)} to "
            f"match the draws; got {rw.shape} and {rm.shape}"
        )
    expected = covariance_shape(covariance_type, K, D)
    if rc.shape != expected:
        raise ValueError(
            f"{covariance_type} reference covariances must have shape {expected}; got {rc.shape}"
        )
    return rm, rc
