"""The marginalised Bayesian Gaussian mixture as a PyMC model, in standardised space.

The component assignments are summed out: the observed data enter through one observed
variable whose log-density is the kernel's pointwise mixture log-likelihood
(:mod:`bayesgmm.ops`), so NUTS sees only the continuous parameters, value and gradient cost one
pass over the data, and PyMC's ``log_likelihood`` group (LOO) has one value per observation.

The sampler works on z = (x - center) / scale, where the default priors are weakly informative
for data in any unit; the deterministics ``weights``, ``means`` and ``covariances`` are in data
units, in scikit-learn's per-type shapes.

Free variables (standardised scale; dims in brackets)::

    weights        Dirichlet(alpha 1_K)                         (component)
    means_z        Normal(0, means_sd)                          (component, feature)
    full:      sd_z ~ LogNormal(log sd_median, sd_log_sd)       (component, feature)
               corr_chol_z ~ LKJCorr(D, lkj_eta), Cholesky      (component, feature, feature_bis)
    tied:      sd_z                                             (feature)
               corr_chol_z                                      (feature, feature_bis)
    diag:      sd_z                                             (component, feature)
    spherical: sd_z                                             (component)

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

import collections
import dataclasses
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import Transform

from . import native
from .ops import mixture_loglik_pointwise

if TYPE_CHECKING:
    from .priors import Priors

__all__ = [
    "COVARIANCE_TYPES",
    "MixtureModelSpec",
    "OrderedComponents",
    "build_model",
    "compile_nutpie",
    "initial_point",
    "model_spec",
    "trace_layout",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
OBSERVED = "x"
DATA = "x_std"
CENTER = "x_center"
SCALE = "x_scale"
_PRIOR_FIELDS = ("weights_concentration", "means_sd", "sd_median", "sd_log_sd", "lkj_eta")
# EM can return a weight of (almost) exactly 0; the simplex transform needs interior points.
_MIN_WEIGHT = 1e-10


@dataclass(frozen=True, eq=False)
class MixtureModelSpec:
    """What :func:`initial_point` needs to map data-unit parameters onto a built model.

    Attributes
    ----------
    n_components, n_features : int
    covariance_type : str
    center, scale : ndarray (D,)
        The standardisation z = (x - center) / scale.
    ordered_means : bool
    free_names : tuple of str
        Names of the model's free random variables.
    priors : tuple of float
        The prior's fields (weights_concentration, means_sd, sd_median, sd_log_sd, lkj_eta).
    """

    n_components: int
    n_features: int
    covariance_type: str
    center: np.ndarray
    scale: np.ndarray
    ordered_means: bool
    free_names: tuple[str, ...]
    priors: tuple[float, ...] = ()

    @property
    def log_jacobian(self) -> float:
        """-sum(log scale): data-unit log-density = standardised log-density + this."""
        return float(-np.sum(np.log(self.scale)))


# Built models -> their spec. A registry rather than an attribute: pm.Model is not ours to extend.
_SPECS: weakref.WeakKeyDictionary[pm.Model, MixtureModelSpec] = weakref.WeakKeyDictionary()


def model_spec(model: pm.Model) -> MixtureModelSpec:
    """The :class:`MixtureModelSpec` of a model made by :func:`build_model`."""
    try:
        return _SPECS[model]
    except KeyError:
        raise ValueError("model was not built by bayesgmm.model.build_model") from None


class OrderedComponents(Transform):
    """Increasing order along the component axis (-2) of a (..., K, D) array.

    PyMC's ``ordered`` transform works on the last axis, which for means of shape (K, 1) is the
    feature axis. Same construction (first value free, then log increments), along axis -2.
    """

    name = "ordered_components"
    ndim_supp = 2

    def backward(self, value, *inputs):
        x = pt.concatenate([value[..., :1, :], pt.exp(value[..., 1:, :])], axis=-2)
        return pt.cumsum(x, axis=-2)

    def forward(self, value, *inputs):
        return pt.concatenate(
            [value[..., :1, :], pt.log(value[..., 1:, :] - value[..., :-1, :])], axis=-2
        )

    def log_jac_det(self, value, *inputs):
        return pt.sum(value[..., 1:, :], axis=(-2, -1))


def _default_priors():
    from .priors import Priors

    return Priors()


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
    K = int(n_components)
    if K < 1:
        raise ValueError(f"n_components must be >= 1; got {n_components}")
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}; got {covariance_type!r}"
        )
    if ordered_means and D != 1:
        raise ValueError(f"ordered_means is for 1-D data only; X_std has {D} features")
    priors = _default_priors() if priors is None else priors
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

    log_sd_mu = float(np.log(priors.sd_median))
    log_sd_sigma = float(priors.sd_log_sd)
    with pm.Model(coords=coords) as model:
        weights = pm.Dirichlet(
            "weights", a=np.full(K, float(priors.weights_concentration)), dims="component"
        )
        if ordered_means:
            means_z = pm.Normal(
                "means_z", 0.0, float(priors.means_sd), dims=("component", "feature"),
                transform=OrderedComponents(), initval=np.linspace(-1.0, 1.0, K)[:, None],
            )
        else:
            means_z = pm.Normal("means_z", 0.0, float(priors.means_sd),
                                dims=("component", "feature"))
        chol = _covariance_cholesky(covariance_type, K, D, priors, log_sd_mu, log_sd_sigma)

        # Everything that depends on the data set is a shared variable, not a constant:
        # PyTensor's numba cache keys a compiled graph by the values of its constants, so a
        # constant X (or center, scale, log-Jacobian) recompiles the whole graph (measured: 15-25
        # s of CPU for pm.sample's logp+dlogp, ~45 s for nutpie) for every new data set of the
        # same model; shared ones hit the cache (2 s, ~18 s for nutpie's own uncacheable
        # wrapper), and nutpie's ``compiled.with_data(...)`` can swap them without recompiling.
        data = pm.Data(DATA, X_std, dims=("observation", "feature"))
        center_ = pm.Data(CENTER, center, dims=("feature",))
        scale_ = pm.Data(SCALE, scale, dims=("feature",))

        # Deterministics in data units (sklearn's per-type covariance shapes).
        pm.Deterministic("means", center_ + scale_ * means_z, dims=("component", "feature"))
        sd_z = model["sd_z"]
        if covariance_type in ("full", "tied"):
            chol_x = scale_[:, None] * (chol if covariance_type == "full" else chol[0])
            cov = pt.matmul(chol_x, pt.swapaxes(chol_x, -1, -2))
            dims = ("feature", "feature_bis")
            dims = ("component", *dims) if covariance_type == "full" else dims
        elif covariance_type == "diag":
            cov, dims = (scale_ * sd_z) ** 2, ("component", "feature")
        else:
            cov, dims = (scale_[0] * sd_z) ** 2, ("component",)
        pm.Deterministic("covariances", cov, dims=dims)

        # log |dz/dx|: makes the observed variable's pointwise log-density (the log_likelihood
        # group) a density of x in data units; a constant, so it does not change the posterior.
        log_jacobian = -pt.sum(pt.log(scale_))

        def logp(value, w, mu, L):
            return mixture_loglik_pointwise(
                value, _strip_batch(w, 1), _strip_batch(mu, 2), _strip_batch(L, 3), log_jacobian
            )

        pm.CustomDist(
            OBSERVED, weights, means_z, chol,
            logp=logp, random=_mixture_random, signature="(k),(k,d),(k,d,d)->(d)",
            observed=data, dims=("observation", "feature"),
        )

    free_names = tuple(rv.name for rv in model.free_RVs)
    _SPECS[model] = MixtureModelSpec(
        n_components=K, n_features=D, covariance_type=covariance_type, center=center,
        scale=scale, ordered_means=bool(ordered_means), free_names=free_names,
        priors=tuple(float(getattr(priors, name)) for name in _PRIOR_FIELDS),
    )
    return model


def _covariance_cholesky(covariance_type, K, D, priors, log_sd_mu, log_sd_sigma):
    """Create the covariance free variables; return lower Cholesky factors (K, D, D) (z scale)."""
    eye = np.eye(D)
    eta = float(priors.lkj_eta)
    if covariance_type == "full":
        sd = pm.LogNormal("sd_z", log_sd_mu, log_sd_sigma, dims=("component", "feature"))
        if D == 1:
            return sd[:, :, None]
        # Static shape: dims alone give the scan in LKJCorr's sampler a symbolic length that it
        # does not declare as an input (MissingInputError in PyMC 6.4).
        corr = pm.LKJCorr("corr_chol_z", n=D, eta=eta, shape=(K, D, D),
                          dims=("component", "feature", "feature_bis"))
        return sd[:, :, None] * corr
    if covariance_type == "tied":
        sd = pm.LogNormal("sd_z", log_sd_mu, log_sd_sigma, dims=("feature",))
        if D == 1:
            one = sd[:, None]
        else:
            corr = pm.LKJCorr("corr_chol_z", n=D, eta=eta, shape=(D, D),
                              dims=("feature", "feature_bis"))
            one = sd[:, None] * corr
        # One factor shared by all components; the gradient of the broadcast sums over them.
        return pt.broadcast_to(one[None], (K, D, D))
    if covariance_type == "diag":
        sd = pm.LogNormal("sd_z", log_sd_mu, log_sd_sigma, dims=("component", "feature"))
        return sd[:, :, None] * eye
    sd = pm.LogNormal("sd_z", log_sd_mu, log_sd_sigma, dims=("component",))
    return sd[:, None, None] * eye


def initial_point(
    model_or_spec: pm.Model | MixtureModelSpec,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    *,
    transformed: bool = False,
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
    K, D, ct = spec.n_components, spec.n_features, spec.covariance_type
    w = np.asarray(weights, dtype=np.float64).reshape(K)
    mu = np.asarray(means, dtype=np.float64).reshape(K, D)
    cov = np.asarray(covariances, dtype=np.float64)
    expected = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[ct]
    if cov.shape != expected:
        raise ValueError(f"covariances for {ct!r} must have shape {expected}; got {cov.shape}")
    if spec.ordered_means:
        order = np.argsort(mu[:, 0], kind="stable")
        w, mu = w[order], mu[order]
        cov = cov if ct == "tied" else cov[order]

    w = np.maximum(w, _MIN_WEIGHT)
    point: dict[str, np.ndarray] = {"weights": w / w.sum(),
                                    "means_z": (mu - spec.center) / spec.scale}
    s = spec.scale
    if ct in ("full", "tied"):
        cov_z = cov / (s[:, None] * s[None, :])  # S^-1 Sigma S^-1
        try:
            L = np.linalg.cholesky(cov_z)
        except np.linalg.LinAlgError:
            raise ValueError("covariances must be positive definite") from None
        sd = np.sqrt(np.sum(L**2, axis=-1))  # row norms of L = sqrt(diag(Sigma_z))
        point["sd_z"] = sd
        if D > 1:
            point["corr_chol_z"] = L / sd[..., :, None]
    elif ct == "diag":
        point["sd_z"] = np.sqrt(cov) / s
    else:
        point["sd_z"] = np.sqrt(cov) / s[0]
    if np.any(~np.isfinite(point["sd_z"])) or np.any(point["sd_z"] <= 0):
        raise ValueError("covariances must be positive definite with finite entries")
    if not transformed:
        return point
    if model is None:
        raise ValueError("transformed=True needs the model, not only its spec")
    fn = pm.initial_point.make_initial_point_fn(
        model=model, overrides=point, jitter_rvs=set(), return_transformed=True
    )
    return fn(0)


# Compiled nutpie models by structure (see compile_nutpie). Small: each holds compiled code.
_NUTPIE_CACHE: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_NUTPIE_CACHE_SIZE = 8
_NUTPIE_LOCK = threading.Lock()


def _structure_key(model: pm.Model, kwargs: Mapping[str, Any]) -> tuple:
    """Everything a compiled model depends on except the shared data (and N)."""
    spec = model_spec(model)
    coords = tuple((name, tuple(values)) for name, values in model.coords.items()
                   if name != "observation")
    extra = tuple(sorted((k, tuple(v) if isinstance(v, list | tuple | set) else v)
                         for k, v in kwargs.items()))
    return (spec.n_components, spec.n_features, spec.covariance_type, spec.ordered_means,
            spec.priors, coords, extra)


NUTPIE_BACKENDS = ("auto", "native", "numba", "pyfunc")


def compile_nutpie(
    model: pm.Model,
    start: Mapping[str, np.ndarray] | None = None,
    *,
    jitter: float = 0.0,
    reuse: bool = True,
    backend: str = "auto",
    laplace: bool = False,
    **kwargs: Any,
):
    """Compile ``model`` for nutpie with chains starting at ``start``.

    nutpie's default adds U(-1, 1) jitter to every free variable in the unconstrained space,
    which can move chains from the EM mode into other labellings. Here the start is exact, or
    perturbed by ``Normal(0, jitter)`` in the unconstrained space (a different draw per chain,
    from the chain's seed) when ``jitter > 0``.

    Three ways to hand the log-density and its gradient to nutpie:

    - ``"native"`` (what ``"auto"`` takes): :mod:`bayesgmm.native`, the model's density written
      out in numba around the likelihood kernel and compiled once per machine into C callbacks
      (disk-cached); no PyTensor compilation, no Python during sampling, chains truly parallel.
      Tests check it against the PyMC model's own ``logp``/``dlogp``.
    - ``"numba"``: nutpie's own route, the whole PyTensor graph compiled with numba and wrapped
      in C callbacks; chains run in parallel, but the wrapper is compiled again in every
      process (~15-20 s on 2 cores, not cacheable), after ~45 s of PyTensor compilation on a
      new machine.
    - ``"pyfunc"``: the same graph compiled as a PyTensor function in its default (NUMBA) mode,
      which PyTensor caches on disk, called by nutpie through Python (one copy per chain).
      Warm start in ~1-2 s; each evaluation holds the GIL, so chains take turns.

    The last two evaluate the PyMC graph itself, so they also work for a model altered after
    :func:`build_model` (e.g. an added ``pm.Potential``); ``"native"`` only knows the model
    :func:`build_model` makes. ``"auto"`` takes ``"numba"`` when ``kwargs`` are given or the
    model was changed after :func:`build_model` (variables, potentials), and falls back to it
    (with a ``RuntimeWarning``) should the installed nutpie not accept the native model.

    Parameters
    ----------
    model : pm.Model
        A model from :func:`build_model`.
    start : mapping, optional
        Constrained values keyed by free-variable names (:func:`initial_point`); default the
        model's own initial point.
    jitter : float, default 0
        Standard deviation of the per-chain Gaussian perturbation of the unconstrained start.
    reuse : bool, default True
        Reuse a model compiled earlier in this process for the same structure (K, D,
        covariance type, priors, ordered_means, coords other than ``observation``, backend,
        ``kwargs``), re-pointed at this model's data with ``with_data``: no compilation at all.
        The data, center and scale are shared variables, so N may differ.
    backend : {"auto", "native", "numba", "pyfunc"}
    laplace : bool, default False
        Sample in coordinates whitened by the curvature at the posterior mode (found by
        Newton from ``start``; :meth:`bayesgmm.native.NativeMixtureModel.with_laplace`), so
        that nutpie's diagonal adaptation starts from a metric that knows the posterior's
        correlations: 23-28% more ESS per gradient evaluation on the simulated K=3 data and
        Old Faithful, about even on galaxies (``benchmarks/bench_adaptation.py``), but less
        robust: on galaxies (K=3, 3000 draws, sampler seeds 0-7) one run mixed badly with it
        (R-hat 1.049, bulk ESS 99 of 12,000 draws; ``bench_adaptation.py --data galaxies
        --repeats 8 --draws 3000 --first-seed 0``), none without it. The
        whitening rotates the non-Gaussian directions (a small component's scale) into every
        coordinate, where the diagonal adaptation can no longer treat them apart. Hence off by
        default (nutpie's low-rank adaptation, which also mixes coordinates, failed one of 8
        galaxies runs at the benchmark's default seeds 100-107); native backend only. The
        trace's variables are unchanged; nutpie's own statistics of the unconstrained space
        (mass matrix, gradients) refer to the whitened coordinates.
    **kwargs
        Passed to ``nutpie.compile_pymc_model`` (e.g. ``var_names``; numba backend only).

    Returns
    -------
    nutpie.CompiledModel
    """
    if backend not in NUTPIE_BACKENDS:
        raise ValueError(f"backend must be one of {NUTPIE_BACKENDS}; got {backend!r}")
    auto = backend == "auto"
    altered = _altered(model)
    if auto:
        backend = "numba" if kwargs or altered else "native"
    elif backend == "native" and altered:
        raise ValueError(f"the native backend evaluates the model build_model makes; this one "
                         f"was changed afterwards ({altered}): use backend='numba'")
    if kwargs and backend != "numba":
        raise ValueError(f"keyword arguments {sorted(kwargs)} are for the numba backend only")
    if laplace and backend != "native":
        raise ValueError(f"laplace=True needs the native backend; got backend={backend!r}")
    key = (backend, *_structure_key(model, kwargs))
    with _NUTPIE_LOCK:
        compiled = _NUTPIE_CACHE.get(key) if reuse else None
        if compiled is not None:
            _NUTPIE_CACHE.move_to_end(key)
        else:
            compiled, backend = _compile_for_nutpie(model, backend, auto, reuse, kwargs)
            if reuse:
                _NUTPIE_CACHE[(backend, *key[1:])] = compiled
                while len(_NUTPIE_CACHE) > _NUTPIE_CACHE_SIZE:
                    _NUTPIE_CACHE.popitem(last=False)
    compiled = compiled.with_data(**{
        name: model[name].get_value() for name in (DATA, CENTER, SCALE)})
    coords = dict(compiled.coords or {})
    if "observation" in coords:
        coords["observation"] = pd.Index(model.coords["observation"])

    # The flat unconstrained start, in nutpie's order (the model's free variables). The forward
    # transforms are written out (native.unconstrained_point) so that no PyTensor function is
    # compiled for it; with no start, PyMC's own initial point.
    if start:
        flat = native.unconstrained_point(model_spec(model), start)
    else:
        point = model.initial_point()
        flat = np.concatenate([np.asarray(point[model.rvs_to_values[rv].name],
                                          np.float64).ravel() for rv in model.free_RVs])
    if flat.shape != (compiled.n_dim,):
        raise RuntimeError("initial point does not match the compiled model's dimension")
    to_sampler = np.array
    if laplace:
        compiled = compiled.with_laplace(flat)
        to_sampler = compiled.to_sampler

    def initial_point_func(seed=None):
        if jitter <= 0:
            return to_sampler(flat)
        rng = np.random.default_rng(seed)
        return to_sampler(flat + jitter * rng.standard_normal(flat.shape))

    field = "_make_initial_points" if backend == "pyfunc" else "initial_point_func"
    return dataclasses.replace(compiled, _coords=coords, **{field: initial_point_func})


def _compile_for_nutpie(model, backend, auto, reuse, kwargs):
    """Compile with ``backend``; returns (compiled, the backend actually used).

    Called with ``_NUTPIE_LOCK`` held."""
    if backend == "native":
        try:
            return _compile_native(model), backend
        except (ImportError, AttributeError, TypeError) as exc:
            # The native route fills in nutpie's CompiledPyMCModel itself; should a nutpie
            # release change that class, "auto" falls back to nutpie's own route.
            if not auto:
                raise
            warnings.warn(f"bayesgmm's native nutpie model is unavailable ({exc!r}); using "
                          "nutpie's numba backend", RuntimeWarning, stacklevel=3)
            backend = "numba"
            cached = _NUTPIE_CACHE.get((backend, *_structure_key(model, kwargs)))
            if reuse and cached is not None:
                return cached, backend
    if backend == "pyfunc":
        return _compile_pyfunc(model), backend
    import nutpie

    return nutpie.compile_pymc_model(model, backend="numba", jitter_rvs=set(), **kwargs), backend


def _altered(model: pm.Model) -> str:
    """What was added to a :func:`build_model` model after it was built ('' if nothing)."""
    spec = model_spec(model)
    changes = []
    if tuple(rv.name for rv in model.free_RVs) != spec.free_names:
        changes.append("free variables")
    if model.potentials:
        changes.append("potentials")
    if [rv.name for rv in model.observed_RVs] != [OBSERVED]:
        changes.append("observed variables")
    if [var.name for var in model.deterministics] != ["means", "covariances"]:
        changes.append("deterministics")
    return ", ".join(changes)


def trace_layout(model: pm.Model) -> tuple[list[str], list[tuple[int, ...]], list[str]]:
    """The variables of a nutpie trace of a :func:`build_model` model, without compiling.

    Returns
    -------
    names, shapes : lists
        In nutpie's order (``model.unobserved_value_vars``): the value variables, the
        constrained free variables that have a transform, the deterministics.
    reparameterized : list of str
        The value variables that have a transform.
    """
    spec = model_spec(model)
    K, D, ct = spec.n_components, spec.n_features, spec.covariance_type
    sd_shape = {"full": (K, D), "tied": (D,), "diag": (K, D), "spherical": (K,)}[ct]
    has_corr = ct in ("full", "tied") and D > 1
    corr_shape = (K, D, D) if ct == "full" else (D, D)
    m = D * (D - 1) // 2
    constrained = {"weights": (K,), "means_z": (K, D), "sd_z": sd_shape, "corr_chol_z": corr_shape}
    values = {"weights_simplex__": ((K - 1,), "weights"),
              "means_z_ordered_components__" if spec.ordered_means else "means_z":
                  ((K, D), "means_z"),
              "sd_z_log__": (sd_shape, "sd_z")}
    if has_corr:
        values["corr_chol_z_cholesky_corr__"] = ((K, m) if ct == "full" else (m,), "corr_chol_z")
    names = list(values)
    shapes = [shape for shape, _ in values.values()]
    reparameterized = [name for name, (_, rv) in values.items() if name != rv]
    for name in reparameterized:
        rv = values[name][1]
        names.append(rv)
        shapes.append(constrained[rv])
    cov_shape = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[ct]
    names += ["means", "covariances"]
    shapes += [(K, D), cov_shape]
    return names, shapes, reparameterized


def _nutpie_dims_and_coords(model: pm.Model, names, shapes, reparameterized):
    """dims and coords as nutpie builds them (``unconstrained_parameter`` labels included)."""
    coords = {name: pd.Index(values) for name, values in model.coords.items()}
    value_names = {v.name for v in model.value_vars}
    labels = []
    for name, shape in zip(names, shapes, strict=True):
        if name not in value_names:
            continue
        labels += [f"{name}_{'.'.join(map(str, idx))}" if idx else name
                   for idx in np.ndindex(*shape)]
    coords["unconstrained_parameter"] = pd.Index(labels)
    dims = dict(model.named_vars_to_dims)
    value_to_rv = {v.name: rv.name for v, rv in model.values_to_rvs.items()}
    shape_of = dict(zip(names, map(tuple, shapes), strict=True))
    for name in reparameterized:
        rv = value_to_rv.get(name)
        if rv in dims and shape_of.get(rv) == shape_of.get(name):
            dims[name] = dims[rv]
    return dims, coords


def _compile_native(model: pm.Model):
    """nutpie model over :mod:`bayesgmm.native`'s cached C callbacks (no PyTensor compile)."""
    names, shapes, reparameterized = trace_layout(model)
    dims, coords = _nutpie_dims_and_coords(model, names, shapes, reparameterized)
    return native.compile_native(
        model_spec(model), {name: model[name].get_value() for name in (DATA, CENTER, SCALE)},
        names=names, shapes=shapes, dims=dims, coords=coords,
        reparameterized_names=reparameterized, initial_point_func=None,
    )


def _compile_pyfunc(model: pm.Model):
    """nutpie model calling PyTensor's numba-compiled functions (disk-cached) through Python.

    Built like nutpie's JAX route (``nutpie.compile_pymc``): its ``_make_functions`` gives
    the logp-and-gradient and the expand functions of the flat unconstrained point, compiled in
    PyTensor's NUMBA mode; nutpie calls their jitted cores (pure functions, safe to call from
    every chain's thread) with the data from its shared data, so ``with_data`` works.
    """
    from nutpie.compile_pymc import _make_functions
    from nutpie.compiled_pyfunc import from_pyfunc

    initial = pm.initial_point.make_initial_point_fn(
        model=model, jitter_rvs=set(), return_transformed=True)
    n_dim, _, logp_fn, expand_fn, initial_point_fn, shape_info, reparameterized = (
        _make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=False,
                        pymc_initial_point_fn=initial))
    names, _, shapes = shape_info
    logp_jit, expand_jit = logp_fn.vm.jit_fn, expand_fn.vm.jit_fn
    logp_data = [var.name for var in logp_fn.get_shared()]
    expand_data = [var.name for var in expand_fn.get_shared()]

    def make_logp_fn():
        def logp(x, **shared):
            value, grad = logp_jit(x, *[shared[name] for name in logp_data])
            return float(value), np.asarray(grad, dtype=np.float64, order="C")

        return logp

    def make_expand_fn(seed1, seed2, chain):
        def expand(x, **shared):
            values = expand_jit(x, *[shared[name] for name in expand_data])
            return {name: np.asarray(value, dtype=np.float64, order="C").reshape(shape)
                    for name, value, shape in zip(names, values, shapes, strict=True)}

        return expand

    dims, coords = _nutpie_dims_and_coords(model, names, shapes, reparameterized)
    return from_pyfunc(
        ndim=n_dim, make_logp_fn=make_logp_fn, make_expand_fn=make_expand_fn,
        make_initial_point_fn=initial_point_fn,
        expanded_dtypes=[np.dtype(np.float64)] * len(names), expanded_shapes=shapes,
        expanded_names=names, dims=dims, coords=coords,
        shared_data={name: model[name].get_value() for name in (DATA, CENTER, SCALE)},
        reparameterized_names=reparameterized,
    )
