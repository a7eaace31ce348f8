"""The marginalised Bayesian Gaussian mixture as a PyMC model, in standardised space.

The component assignments are summed out: the observed data enter through one observed
variable whose log-density is the kernel's pointwise mixture log-likelihood
(:mod:`bayesgmm.ops`), so NUTS sees only the continuous parameters, value and gradient cost one
pass over the data, and PyMC's ``log_likelihood`` group (LOO) has one value per observation.

The sampler works on z = (x - center) / scale, where the default priors are weakly informative
for data in any unit; the deterministics ``weights``, ``means`` and ``covariances`` are in data
units, in scikit-learn's per-type shapes.

Where it sits: the model layer. The free variables (names, shapes, dims, transforms, priors)
are stated once, in :mod:`bayesgmm.layout`; :func:`build_model` creates them from there, adds the
data containers, deterministics and observed variable, and checks PyMC's free and value variables
against the layout. Imports :mod:`bayesgmm.layout`, :mod:`bayesgmm.ops` (and
:mod:`bayesgmm.plan_ops`), :mod:`bayesgmm.priors`,
:mod:`bayesgmm.covariance`; the samplers are in :mod:`bayesgmm.backends` (``compile_nutpie`` is
still importable from here).

Data containers (``pm.Data``, shared variables so that compiled graphs are reused across data
sets, see :func:`build_model`): ``x_std`` (observation, feature), ``x_center`` and ``x_scale``
(feature).

``weights`` needs no standardisation, so the Dirichlet variable carries the data-unit name.
For full/tied covariances the Cholesky factor is ``L_z = diag(sd_z) corr_chol_z``; this
separation (independent LKJ correlations and LogNormal standard deviations) is exactly the
distribution of ``pm.LKJCholeskyCov(eta, sd_dist=LogNormal)``, whose logp in PyMC 6.4 is not
batched ("only implemented for vector values") while ``pm.LKJCorr`` is. With D = 1 there is no
correlation and ``corr_chol_z`` is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from . import covariance
from .kernels import RowPlan
from .layout import (
    CENTER,
    DATA,
    MIXING,
    OBSERVED,
    PLAN_NAMES,
    SCALE,
    MixtureModelSpec,
    OrderedComponents,
    blocks,
    model_spec,
    register,
    start_estimate,
    trace_layout,
)
from .ops import mixture_loglik_pointwise
from .plan_ops import mixture_plan_loglik
from .priors import Priors

__all__ = [
    "COVARIANCE_TYPES",
    "MixtureModelSpec",
    "OrderedComponents",
    "build_model",
    "compile_nutpie",  # noqa: F822 - provided by __getattr__ (bayesgmm.backends.nutpie)
    "initial_point",
    "model_spec",
    "trace_layout",
]

COVARIANCE_TYPES = covariance.COVARIANCE_TYPES
# Sampler plumbing that lived here before bayesgmm.backends: still importable from this module
# (PEP 562, on first use), without this module importing the back ends (which import it).
_MOVED = {"compile_nutpie": "nutpie", "NUTPIE_BACKENDS": "nutpie"}


def __getattr__(name: str):
    if name in _MOVED:
        return getattr(import_module(f".backends.{_MOVED[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _mixture_random(weights, means, chol, rng=None, size=None):
    """Draws from the mixture (prior/posterior predictive); ``size`` is the batch shape (N,)."""
    K = weights.shape[-1]
    D = means.shape[-1]
    w = np.reshape(weights, (K,))
    mu = np.reshape(means, (K, D))
    L = np.reshape(chol, (K, D, D))
    shape = () if size is None else tuple(np.atleast_1d(size))
    z = rng.choice(K, size=shape, p=w / w.sum())
    eps = rng.standard_normal((*shape, D))
    return mu[z] + np.einsum("...ij,...j->...i", L[z], eps)


def _plan_random(weights, noise_weight, means, chol, rng=None, size=None):
    """Draws of complete points from the Gaussian part (the noise component has no density
    outside the data's box, so it is left out of predictive draws)."""
    return _mixture_random(weights, means, chol, rng=rng, size=size)


def _strip_batch(x, core_ndim: int):
    # CustomDist's gufunc signature hands the parameters over with the observed variable's
    # batch axes prepended (length 1 here: the parameters are not batched over observations).
    while x.ndim > core_ndim:
        x = x[0]
    return x


def build_model(
    X_std: np.ndarray,
    n_components: int,
    covariance_type: str = "full",
    priors: Priors | None = None,
    *,
    coords: Mapping[str, Sequence[Any]] | None = None,
    center: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    feature_names: Sequence[str] | None = None,
    ordered_means: bool = False,
    sample_weight: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    noise_log_density: float | None = None,
    noise_log_ranges: np.ndarray | None = None,
) -> pm.Model:
    """The marginalised Gaussian mixture on standardised data.

    Parameters
    ----------
    X_std : ndarray (N, D)
        Standardised data z = (x - center) / scale (validated by the caller). Spherical models
        need one common scale (all entries of ``scale`` equal) so that they stay spherical.
    n_components : int
        K.
    covariance_type : {"full", "tied", "diag", "spherical"}
    priors : Priors, optional
        :class:`bayesgmm.priors.Priors` (any object with its fields works); default
        ``Priors()``.
    coords : mapping, optional
        Labels for the dims ``component`` (K), ``feature`` (D) and ``observation`` (N); missing
        ones default to ``range`` (``feature``: ``feature_names`` when given). ``feature_bis``
        always repeats ``feature``.
    center, scale : ndarray (D,), optional
        The standardisation, for the data-unit deterministics and log-likelihood (default 0
        and 1: the data are already in the units wanted).
    feature_names : sequence of str, optional
        Labels of the ``feature`` dim when ``coords`` does not give them.
    ordered_means : bool, default False
        1-D only: constrain ``means_z`` to increase along the component axis. This removes label
        switching by construction, but it truncates the posterior: when components overlap,
        the constraint pushes the marginal posteriors of neighbouring means apart (the lower
        one biased down, the upper one up) and can make their intervals misleading. Relabelling
        draws to a reference solution is usually preferable.
    sample_weight : ndarray (N,), optional
        Frequency weights g_n: the log-likelihood is sum_n g_n ll_n.
    labels : ndarray (N,) of int, optional
        Known components (-1 unknown): a labelled point contributes log w_j + log N_j(x) of its
        own component j only.
    noise_log_density : float, optional
        Log-density (data units) of a uniform noise component (-log of its volume); None or
        -inf: no noise component. With one, the weights' simplex has K + 1 entries (free
        variable ``mixing``; deterministics ``weights`` and ``noise_weight``).
    noise_log_ranges : ndarray (D,), optional
        Log side lengths (data units) of the noise component's box: a point with missing
        values gets the box's marginal density over its observed coordinates. Default: a cube
        of the noise density's volume.

    NaN entries of ``X_std`` are missing values (missing at random), marginalised: a point
    contributes the mixture density of its observed coordinates. Missing values, weights,
    labels or noise switch the likelihood to the row plan (:class:`bayesgmm.kernels.RowPlan`,
    evaluated in data units by :class:`bayesgmm.plan_ops.MixturePlanLogLik`, its arrays in the data
    containers :data:`bayesgmm.layout.PLAN_NAMES`); without any of them the model is exactly
    the complete-data one. In the plan case ``x_std`` holds 0 for a missing value (``pm.Data``
    refuses NaN; the plan, not ``x_std``, is what the likelihood reads).

    Returns
    -------
    pm.Model
        Free variables ``weights``, ``means_z``, ``sd_z`` and (full/tied, D > 1)
        ``corr_chol_z``; deterministics ``means`` (component, feature) and ``covariances``
        (full: (component, feature, feature_bis), tied: (feature, feature_bis), diag:
        (component, feature), spherical: (component,)), all in data units; the observed
        variable ``x`` (observation, feature), whose pointwise log-density is in data units;
        data containers ``x_std``, ``x_center`` and ``x_scale``.

    Notes
    -----
    The data, center and scale are shared variables (``pm.Data``) rather than constants, because
    PyTensor's numba cache keys a compiled graph by its constants' values: with constants, every
    new data set recompiles the model from scratch. With shared variables a model of the same
    (K, covariance type, priors) compiles from the cache, and a nutpie model compiled once can be
    re-pointed at new data with ``compiled.with_data(x_std=..., x_center=..., x_scale=...)``.
    """
    X_std = np.ascontiguousarray(X_std, dtype=np.float64)
    if X_std.ndim != 2:
        raise ValueError(f"X_std must be a 2-D array (N, D); got shape {X_std.shape}")
    N, D = X_std.shape
    noise = noise_log_density is not None and noise_log_density != -np.inf
    K = int(n_components)
    if K < 1:
        raise ValueError(f"n_components must be >= 1; got {n_components}")
    covariance.check_covariance_type(covariance_type)
    if ordered_means and D != 1:
        raise ValueError(f"ordered_means is for 1-D data only; X_std has {D} features")
    priors = _as_priors(priors)
    center = np.zeros(D) if center is None else np.asarray(center, dtype=np.float64).reshape(D)
    scale = np.ones(D) if scale is None else np.asarray(scale, dtype=np.float64).reshape(D)
    if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError("scale must be finite and positive")
    if covariance_type == "spherical" and not np.allclose(scale, scale[0], rtol=1e-12):
        raise ValueError("a spherical model needs one common scale for all features")

    coords = dict(coords or {})
    coords.setdefault("component", list(range(K)))
    coords.setdefault("feature", list(feature_names) if feature_names is not None
                      else list(range(D)))
    coords["feature_bis"] = list(coords["feature"])
    coords.setdefault("observation", list(range(N)))
    for dim, size in (("component", K), ("feature", D), ("observation", N)):
        if len(coords[dim]) != size:
            raise ValueError(f"coords[{dim!r}] has {len(coords[dim])} labels; expected {size}")

    plan = _row_plan(X_std, center, scale, sample_weight, labels, noise_log_density, K,
                     noise_log_ranges)
    if noise:
        coords["mixing_component"] = list(range(K + 1))  # the last one: the noise

    # The free variables, as the layout states them.
    free_blocks = blocks(K, D, covariance_type, priors, ordered_means=bool(ordered_means),
                         noise=noise)
    spec = MixtureModelSpec(
        n_components=K, n_features=D, covariance_type=covariance_type, center=center,
        scale=scale, ordered_means=bool(ordered_means),
        free_names=tuple(block.name for block in free_blocks), priors=priors, noise=noise,
    )
    with pm.Model(coords=coords) as model:
        free = {block.name: block.make() for block in free_blocks}
        weights = free[MIXING][:K] if noise else free["weights"]
        means_z = free["means_z"]
        chol = _cholesky(covariance_type, K, D, free["sd_z"], free.get("corr_chol_z"))

        # Everything that depends on the data set is a shared variable, not a constant:
        # PyTensor's numba cache keys a compiled graph by the values of its constants, so a
        # constant X (or center, scale, log-Jacobian) recompiles the whole graph (measured: 15-25
        # s of CPU for pm.sample's logp+dlogp, ~45 s for nutpie) for every new data set of the
        # same model; shared ones hit the cache (2 s, ~18 s for nutpie's own uncacheable
        # wrapper), and nutpie's ``compiled.with_data(...)`` can swap them without recompiling.
        data = pm.Data(DATA, X_std if plan is None else np.nan_to_num(X_std, nan=0.0),
                       dims=("observation", "feature"))
        center_ = pm.Data(CENTER, center, dims=("feature",))
        scale_ = pm.Data(SCALE, scale, dims=("feature",))

        # Deterministics in data units (sklearn's per-type covariance shapes).
        pm.Deterministic("means", center_ + scale_ * means_z, dims=("component", "feature"))
        sd_z = free["sd_z"]
        if covariance.has_correlations(covariance_type):
            chol_x = scale_[:, None] * (chol if covariance_type == "full" else chol[0])
            cov = pt.matmul(chol_x, pt.swapaxes(chol_x, -1, -2))
            dims = ("feature", "feature_bis")
            dims = ("component", *dims) if covariance_type == "full" else dims
        elif covariance_type == "diag":
            cov, dims = (scale_ * sd_z) ** 2, ("component", "feature")
        else:
            cov, dims = (scale_[0] * sd_z) ** 2, ("component",)
        pm.Deterministic("covariances", cov, dims=dims)
        if noise:
            weights = pm.Deterministic("weights", weights, dims="component")
            noise_weight = pm.Deterministic("noise_weight", free[MIXING][K])

        # log |dz/dx|: makes the observed variable's pointwise log-density (the log_likelihood
        # group) a density of x in data units; a constant, so it does not change the posterior.
        log_jacobian = -pt.sum(pt.log(scale_))

        def logp(value, w, mu, L):
            return mixture_loglik_pointwise(
                value, _strip_batch(w, 1), _strip_batch(mu, 2), _strip_batch(L, 3), log_jacobian
            )

        params, signature = (weights, means_z, chol), "(k),(k,d),(k,d,d)->(d)"
        if plan is not None:
            arrays = {name: pm.Data(name, plan[name]) for name in PLAN_NAMES}
            # The noise weight is a parameter of the observed variable (a CustomDist's logp
            # may not reach the model's free variables any other way).
            params = (weights, noise_weight if noise else pt.constant(0.0), means_z, chol)
            signature = "(k),(),(k,d),(k,d,d)->(d)"

            def logp(value, w, nw, mu, L):  # noqa: F811 - the plan's likelihood replaces it
                # In data units (mu_x = c + s mu_z, L_x = diag(s) L_z): the plan's noise
                # density is a data-unit constant for every row, observed coordinates or not.
                ll = mixture_plan_loglik(
                    arrays["plan_x"], arrays["plan_bounds"], arrays["plan_columns"],
                    arrays["plan_n_obs"], arrays["plan_label"], arrays["plan_noise"],
                    _strip_batch(w, 1), _strip_batch(nw, 0),
                    center_ + scale_ * _strip_batch(mu, 2),
                    scale_[:, None] * _strip_batch(L, 3))
                if sample_weight is not None:
                    ll = ll * arrays["plan_g"]
                return ll[arrays["plan_inverse"]]

        pm.CustomDist(
            OBSERVED, *params,
            logp=logp, random=_mixture_random if plan is None else _plan_random,
            signature=signature,
            observed=data, dims=("observation", "feature"),
        )

    register(model, spec)  # checks PyMC's free and value variables against the layout
    return model


def _row_plan(X_std, center, scale, sample_weight, labels, noise_log_density, K,
              noise_log_ranges=None) -> dict[str, np.ndarray] | None:
    """The row plan's arrays (:data:`bayesgmm.layout.PLAN_NAMES`) in data units, or None when
    the data need none (complete, unweighted, unlabelled, no noise: the complete-data kernel)."""
    N, D = X_std.shape
    noise = noise_log_density is not None and noise_log_density != -np.inf
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (N,) or not np.issubdtype(labels.dtype, np.integer) or np.any(
                (labels < -1) | (labels >= K)):
            raise ValueError(f"labels must be N={N} integers in [-1, {K - 1}] (-1: unknown)")
        labels = labels.astype(np.int64) if np.any(labels >= 0) else None
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (N,) or not np.all(np.isfinite(sample_weight)) or np.any(
                sample_weight < 0):
            raise ValueError(f"sample_weight must be N={N} finite values >= 0")
    missing = np.isnan(X_std)
    if missing.all(axis=1).any():
        raise ValueError("X_std has rows with every value missing; drop them first")
    if not (missing.any() or sample_weight is not None or labels is not None or noise):
        return None
    plan = RowPlan.build(center + scale * X_std, sample_weight, labels,
                         float(noise_log_density) if noise else -np.inf, noise_log_ranges)
    inverse = np.empty(N, dtype=np.int64)
    inverse[plan.order] = np.arange(N)
    return {"plan_x": plan.X, "plan_g": plan.g if plan.g.size else np.ones(N),
            "plan_bounds": plan.bounds, "plan_columns": plan.columns, "plan_n_obs": plan.n_obs,
            "plan_label": plan.label, "plan_noise": plan.log_noise,
            "plan_inverse": inverse}


def _as_priors(priors: Any) -> Priors:
    """A :class:`Priors` from ``None`` (the defaults), a Priors, or any object with its fields."""
    if priors is None or isinstance(priors, Priors):
        return Priors() if priors is None else priors
    return Priors(**{name: getattr(priors, name) for name in Priors().to_dict()})


def _cholesky(covariance_type, K, D, sd, corr):
    """Lower Cholesky factors (K, D, D) (z scale) from the sd and correlation variables.

    For full/tied covariances L = diag(sd) corr; with D = 1 there is no correlation block."""
    if covariance_type == "full":
        return sd[:, :, None] if corr is None else sd[:, :, None] * corr
    if covariance_type == "tied":
        one = sd[:, None] if corr is None else sd[:, None] * corr
        # One factor shared by all components; the gradient of the broadcast sums over them.
        return pt.broadcast_to(one[None], (K, D, D))
    if covariance_type == "diag":
        return sd[:, :, None] * np.eye(D)
    return sd[:, None, None] * np.eye(D)


def initial_point(
    model_or_spec: pm.Model | MixtureModelSpec,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    *,
    transformed: bool = False,
    noise_weight: float | None = None,
) -> dict[str, np.ndarray]:
    """Map a data-unit estimate (e.g. EM's) onto the model's free variables.

    Parameters
    ----------
    model_or_spec : pm.Model or MixtureModelSpec
        A model from :func:`build_model` (or its :func:`model_spec`).
    weights : ndarray (K,)
    means : ndarray (K, D)
    covariances : ndarray
        scikit-learn's shapes: full (K, D, D), tied (D, D), diag (K, D), spherical (K,).
    transformed : bool, default False
        False: constrained values keyed by the free variables' names (``weights``,
        ``means_z``, ``sd_z``, ``corr_chol_z``), which is what ``pm.sample(initvals=...)`` and
        ``nutpie.compile_pymc_model(initial_points=...)`` take. True: the unconstrained values
        keyed by the value variables' names (``weights_simplex__``, ``sd_z_log__``, ...), as in
        ``model.initial_point()``; needs a model.
    noise_weight : float, optional
        With a noise component: its weight (default 0.01); ``weights`` are then the
        Gaussians' (they need not sum to one: the K + 1 values are normalised together).
        Ignored without one.

    Returns
    -------
    dict of str to ndarray

    Notes
    -----
    Weights are clipped to at least 1e-10 and renormalised (the simplex transform needs an
    interior point). For ``ordered_means`` models the components are sorted by their mean, since
    the ordered transform only accepts increasing means.
    """
    if isinstance(model_or_spec, MixtureModelSpec):
        spec, model = model_or_spec, None
    else:
        spec, model = model_spec(model_or_spec), model_or_spec
    # One start value per block, each the block's own (layout.Block.start).
    estimate = start_estimate(spec, weights, means, covariances, noise_weight)
    point = {block.name: block.start(estimate) for block in spec.blocks}
    if not transformed:
        return point
    if model is None:
        raise ValueError("transformed=True needs the model, not only its spec")
    fn = pm.initial_point.make_initial_point_fn(
        model=model, overrides=point, jitter_rvs=set(), return_transformed=True
    )
    return fn(0)
