"""The model's parameter blocks, stated once.

Where it sits: the model layer, above the covariance vocabulary and the priors; below the PyMC
model (:mod:`bayesgmm.model`) and the sampler back ends (:mod:`bayesgmm.backends`), which both
read it. Imports :mod:`bayesgmm.covariance`, :mod:`bayesgmm.priors` and PyMC; nothing else of the
package.

A block is one free variable of the marginalised mixture: its name, constrained shape and dims
per covariance type, its transform (PyMC's, which names the value variable
``f"{name}_{transform}__"``), its prior, the forward transform (constrained -> unconstrained, for
starting chains at an EM estimate), the parameter-free part of log prior + log-Jacobian, and the
PyMC call that creates it. :func:`blocks` lists them in nutpie's order (``model.free_RVs``);
from that list follow

- :func:`bayesgmm.model.build_model`'s free variables (it creates them with
  :attr:`Block.make` and checks PyMC's free and value variables against the list),
- the flat unconstrained vector: :func:`unconstrained_point`, :func:`n_dim`, the trace's
  variables (:func:`trace_layout`) and the density's constant (:func:`log_density_constant`),
- the native density (:mod:`bayesgmm.backends.native`): one small numba function per block
  (transform + prior), checked against PyMC's ``Transform.backward``/``log_jac_det`` and
  ``pm.logp`` block by block in ``tests/test_native.py``.

Free variables (standardised scale; dims in brackets)::

    weights        Dirichlet(alpha 1_K), simplex                (component)
      or, with a noise component (``noise=True``):
    mixing         Dirichlet(alpha 1_(K+1)), simplex            (mixing_component)
    means_z        Normal(0, means_sd) [ordered_components]     (component, feature)
    sd_z           LogNormal(log sd_median, sd_log_sd), log     full/diag (component, feature),
                                                                tied (feature), spherical
                                                                (component)
    corr_chol_z    LKJCorr(D, lkj_eta), cholesky_corr           full (component, feature,
                                                                feature_bis), tied (feature,
                                                                feature_bis); D > 1 only

The noise component (a uniform density over the data's box, :mod:`bayesgmm.observations`) has
its own weight in the same simplex as the Gaussians' weights: the free variable is then
``mixing`` (K + 1 entries, the last one the noise weight, one Dirichlet(alpha) over all of them,
so the noise weight's prior is Beta(alpha, K alpha)), and the model adds the deterministics
``weights`` (component) = ``mixing[:K]`` and ``noise_weight`` () = ``mixing[K]``, after ``means``
and ``covariances`` (:func:`deterministics`). So ``weights`` keeps its name, dims and data
units everywhere downstream (it sums to 1 - ``noise_weight``); without noise nothing changes.

Adding a block (docs/ARCHITECTURE.md, "Adding a prior block"): one entry in :func:`blocks`
(its place in the flat vector, shapes and prior numbers reach the native density's table,
:func:`bayesgmm.backends.native.prior_parameters`, from there) and its numba function in
:mod:`bayesgmm.backends.native`, plus the code specific to the block that that section lists
(the function's slot and calls in the native density, and the JAX twin). The entry also
holds the block's start value (:attr:`Block.start`, read from a :class:`StartEstimate`), which
is all :func:`bayesgmm.model.initial_point` needs of it.

(Over 500 lines: it is the one statement of the model -- every block with its transform,
prior, constant and start, and the flat vector and trace they define; split, the model would
be stated in two places again.)
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import Transform
from scipy.special import gammaln

from . import covariance
from .priors import Priors

__all__ = [
    "CENTER",
    "DATA",
    "MIXING",
    "DETERMINISTICS",
    "NOISE_DETERMINISTICS",
    "PLAN_NAMES",
    "OBSERVED",
    "SCALE",
    "Block",
    "StartEstimate",
    "MixtureModelSpec",
    "OrderedComponents",
    "blocks",
    "check_model",
    "deterministics",
    "correlation_positions",
    "log_density_constant",
    "model_spec",
    "n_dim",
    "register",
    "start_estimate",
    "trace_layout",
    "unconstrained_point",
]

# Names of the model's other variables: the observed variable, its data containers, and the
# data-unit deterministics (in this order in the trace).
OBSERVED = "x"
DATA = "x_std"
CENTER = "x_center"
SCALE = "x_scale"
DATA_NAMES = (DATA, CENTER, SCALE)
DETERMINISTICS = ("means", "covariances")
# With a noise component: the Gaussian part of ``mixing`` and the noise weight, after those.
NOISE_DETERMINISTICS = ("weights", "noise_weight")
MIXING = "mixing"
# Data containers of the row plan (missing values, weights, known labels, noise: see
# :class:`bayesgmm.kernels.RowPlan`), in data units; present only when the model has one.
PLAN_NAMES = ("plan_x", "plan_g", "plan_bounds", "plan_columns", "plan_n_obs", "plan_label",
              "plan_noise", "plan_inverse")
_LOG_2PI = math.log(2.0 * math.pi)
# The smallest start weight: the simplex transform needs an interior point.
_MIN_WEIGHT = 1e-10


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


@dataclass(frozen=True, eq=False)
class Block:
    """One free variable of the model.

    Attributes
    ----------
    name : str
        The PyMC free variable (constrained values).
    shape : tuple of int
        Constrained shape.
    dims : tuple of str
    transform : str or None
        The PyMC transform's name (None: no transform).
    value_shape : tuple of int
        Shape of the unconstrained value variable.
    prior : str
        The prior, in words (for messages and docs).
    parameters : tuple of float
        The prior's numbers, in the order the block's function in the native density takes
        them (:func:`bayesgmm.backends.native.prior_parameters` passes them on by block).
    forward : callable
        Constrained values (``shape``) -> unconstrained (``value_shape``), NumPy.
    log_constant : float
        The parameter-free part of log prior + log |Jacobian| (normalising constants).
    make : callable
        ``make()`` creates the PyMC variable; call inside the model's context.
    start : callable
        ``start(estimate)``: the block's constrained start value (``shape``) from a
        :class:`StartEstimate` (an EM estimate on the standardised scale); a block the
        estimate says nothing about returns a fixed value (its prior's median, say).
    """

    name: str
    shape: tuple[int, ...]
    dims: tuple[str, ...]
    transform: str | None
    value_shape: tuple[int, ...]
    prior: str
    parameters: tuple[float, ...]
    forward: Callable[[np.ndarray], np.ndarray]
    log_constant: float
    make: Callable[[], Any]
    start: Callable[[StartEstimate], np.ndarray]

    @property
    def value_name(self) -> str:
        """PyMC's name of the value variable."""
        return self.name if self.transform is None else f"{self.name}_{self.transform}__"

    @property
    def size(self) -> int:
        """Length of the block in the flat unconstrained vector."""
        return math.prod(self.value_shape)


@dataclass(frozen=True, eq=False)
class MixtureModelSpec:
    """What the back ends and :func:`bayesgmm.model.initial_point` need to know of a model.

    Attributes
    ----------
    n_components, n_features : int
    covariance_type : str
    center, scale : ndarray (D,)
        The standardisation z = (x - center) / scale.
    ordered_means : bool
    free_names : tuple of str
        Names of the model's free random variables.
    priors : Priors
        The prior (on the standardised scale).
    noise : bool
        A uniform noise component with its weight in the simplex (free variable ``mixing``).
    """

    n_components: int
    n_features: int
    covariance_type: str
    center: np.ndarray
    scale: np.ndarray
    ordered_means: bool
    free_names: tuple[str, ...]
    priors: Priors = field(default_factory=Priors)
    noise: bool = False

    @property
    def log_jacobian(self) -> float:
        """-sum(log scale): data-unit log-density = standardised log-density + this."""
        return float(-np.sum(np.log(self.scale)))

    @functools.cached_property
    def blocks(self) -> tuple[Block, ...]:
        """:func:`blocks` of this model."""
        return blocks(self.n_components, self.n_features, self.covariance_type,
                      self.priors, ordered_means=self.ordered_means, noise=self.noise)


@dataclass(frozen=True, eq=False)
class StartEstimate:
    """A data-unit estimate (EM's) on the model's standardised scale, for the blocks' starts.

    Attributes
    ----------
    weights : ndarray (K,) or (K + 1,)
        On the simplex (interior), the noise component's weight last when there is one.
    means_z : ndarray (K, D)
    sd_z : ndarray
        Standard deviations, shaped as the ``sd_z`` block.
    corr_chol_z : ndarray or None
        Cholesky factors of the correlations (full (K, D, D), tied (D, D)); None for diag and
        spherical covariances and for D = 1.
    """

    weights: np.ndarray
    means_z: np.ndarray
    sd_z: np.ndarray
    corr_chol_z: np.ndarray | None


def start_estimate(spec: MixtureModelSpec, weights: np.ndarray, means: np.ndarray,
                   covariances: np.ndarray, noise_weight: float | None = None
                   ) -> StartEstimate:
    """Standardise a data-unit estimate for :attr:`Block.start`; see
    :func:`bayesgmm.model.initial_point` for the arguments.

    Weights are clipped to at least 1e-10 and renormalised (the simplex transform needs an
    interior point); with ``ordered_means`` the components are sorted by their first mean (the
    ordered transform only takes increasing means).
    """
    K, D, ct = spec.n_components, spec.n_features, spec.covariance_type
    w = np.asarray(weights, dtype=np.float64).reshape(K)
    mu = np.asarray(means, dtype=np.float64).reshape(K, D)
    cov = covariance.check_shape(covariances, ct, K, D)
    if spec.ordered_means:
        order = np.argsort(mu[:, 0], kind="stable")
        w, mu = w[order], mu[order]
        cov = cov if ct == "tied" else cov[order]
    w = np.maximum(w, _MIN_WEIGHT)
    if spec.noise:
        nw = 0.01 if noise_weight is None else float(noise_weight)
        w = np.append(w, max(nw, _MIN_WEIGHT))
    s, corr = spec.scale, None
    if covariance.has_correlations(ct):
        cov_z = cov / (s[:, None] * s[None, :])  # S^-1 Sigma S^-1
        chol = covariance.cholesky(cov_z, advice="give a start whose covariances are "
                                   "positive definite")
        sd = np.sqrt(np.sum(chol**2, axis=-1))  # row norms of L = sqrt(diag(Sigma_z))
        corr = chol / sd[..., :, None] if D > 1 else None
    else:
        sd = np.sqrt(cov) / (s if ct == "diag" else s[0])
    if np.any(~np.isfinite(sd)) or np.any(sd <= 0):
        raise ValueError("covariances must be positive definite with finite entries")
    return StartEstimate(w / w.sum(), (mu - spec.center) / spec.scale, sd, corr)


# --------------------------------------------------------------------------------------------
# the blocks: the one place that states them
# --------------------------------------------------------------------------------------------
def blocks(K: int, D: int, covariance_type: str, priors: Priors, *,
           ordered_means: bool = False, noise: bool = False) -> tuple[Block, ...]:
    """The model's free variables in nutpie's order (``model.free_RVs``).

    Parameters
    ----------
    K, D : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    priors : Priors
    ordered_means : bool, default False
    noise : bool, default False
        The first block is then ``mixing`` (K + 1 weights, the last the noise component's).

    Returns
    -------
    tuple of Block
    """
    ct = covariance.check_covariance_type(covariance_type)
    alpha, means_sd = float(priors.weights_concentration), float(priors.means_sd)
    log_sd_mu, sd_sigma = math.log(priors.sd_median), float(priors.sd_log_sd)
    eta = float(priors.lkj_eta)
    sd_shape, sd_dims = _SD_LAYOUT[ct](K, D)
    means_dims = ("component", "feature")

    def make_means():
        if ordered_means:
            return pm.Normal("means_z", 0.0, means_sd, dims=means_dims,
                             transform=OrderedComponents(),
                             initval=np.linspace(-1.0, 1.0, K)[:, None])
        return pm.Normal("means_z", 0.0, means_sd, dims=means_dims)

    # The weights' simplex: K entries, or K + 1 with the noise component's weight last.
    n_w = K + 1 if noise else K
    w_name, w_dims = (MIXING, "mixing_component") if noise else ("weights", "component")
    out = [
        Block(w_name, (n_w,), (w_dims,), "simplex", (n_w - 1,),
              f"Dirichlet({alpha:g})", (alpha,), _simplex_forward,
              # Dirichlet normaliser and the log n_w of the simplex transform's Jacobian.
              float(gammaln(n_w * alpha) - n_w * gammaln(alpha) + math.log(n_w)),
              lambda: pm.Dirichlet(w_name, a=np.full(n_w, alpha), dims=w_dims),
              lambda est: est.weights),
        Block("means_z", (K, D), means_dims,
              "ordered_components" if ordered_means else None, (K, D),
              f"Normal(0, {means_sd:g})", (means_sd,),
              _ordered_forward if ordered_means else _identity,
              K * D * (-math.log(means_sd) - 0.5 * _LOG_2PI), make_means,
              lambda est: est.means_z),
        Block("sd_z", sd_shape, sd_dims, "log", sd_shape,
              f"LogNormal(log {priors.sd_median:g}, {sd_sigma:g})", (log_sd_mu, sd_sigma),
              np.log,
              # The LogNormal's -log sd cancels the log transform's Jacobian +log sd.
              math.prod(sd_shape) * (-math.log(sd_sigma) - 0.5 * _LOG_2PI),
              lambda: pm.LogNormal("sd_z", log_sd_mu, sd_sigma, dims=sd_dims),
              lambda est: est.sd_z),
    ]
    n_corr = {"full": K, "tied": 1}.get(ct, 0) if D > 1 else 0
    if n_corr:
        corr_shape = (K, D, D) if ct == "full" else (D, D)
        corr_dims = ("component", "feature", "feature_bis") if ct == "full" else (
            "feature", "feature_bis")
        m = D * (D - 1) // 2
        out.append(Block(
            "corr_chol_z", corr_shape, corr_dims, "cholesky_corr",
            (K, m) if ct == "full" else (m,), f"LKJCorr({D}, {eta:g})", (eta,),
            functools.partial(_correlation_forward, D=D), n_corr * _lkj_constant(D, eta),
            # Static shape: dims alone give the scan in LKJCorr's sampler a symbolic length
            # that it does not declare as an input (MissingInputError in PyMC 6.4).
            lambda: pm.LKJCorr("corr_chol_z", n=D, eta=eta, shape=corr_shape, dims=corr_dims),
            lambda est: est.corr_chol_z))
    return tuple(out)


# Shape and dims of the standard deviations per covariance type.
_SD_LAYOUT = {
    "full": lambda K, D: ((K, D), ("component", "feature")),
    "tied": lambda K, D: ((D,), ("feature",)),
    "diag": lambda K, D: ((K, D), ("component", "feature")),
    "spherical": lambda K, D: ((K,), ("component",)),
}


def _identity(value: np.ndarray) -> np.ndarray:
    return value


def _simplex_forward(w: np.ndarray) -> np.ndarray:
    """PyMC's simplex transform: y = log w[:-1] - mean(log w)."""
    log_w = np.log(w)
    return log_w[:-1] - log_w.mean()


def _ordered_forward(mu: np.ndarray) -> np.ndarray:
    """The first mean, then the logs of the increments along the component axis."""
    return np.concatenate([mu[:1], np.log(np.diff(mu, axis=0))], axis=0)


def _correlation_forward(corr: np.ndarray, D: int) -> np.ndarray:
    """PyMC's cholesky_corr transform, forward: row i of the factor is [a_i, 1] / |[a_i, 1]|,
    so dividing by the diagonal recovers a_i (in :func:`correlation_positions` order)."""
    corr = corr.reshape(-1, D, D)
    rows, cols = correlation_positions(D).T
    return corr[:, rows, cols] / corr[:, rows, rows]


def _lkj_constant(D: int, eta: float) -> float:
    """log normaliser of LKJCorr(D, eta) (the Jacobian's part is parameter-dependent only)."""
    k = np.arange(1, D)
    return float((D - 1) * gammaln(eta + 0.5 * (D - 1)) - np.sum(
        0.5 * k * math.log(math.pi) + gammaln(eta + 0.5 * (D - 1 - k))))


def correlation_positions(D: int) -> np.ndarray:
    """Where each unconstrained correlation entry goes in the D x D Cholesky factor.

    PyMC's ``CholeskyCorrTransform`` (lower) fills a (D-1) x (D-1) lower triangle from the
    vector in "spiral" order (TensorFlow Probability's ``fill_triangular``) and pads a zero top
    row and right column. Replayed here on the indices 0..m-1.

    Returns
    -------
    ndarray (m, 2) of int64
        (row, column) in the factor of entry e of the vector; rows >= 1, columns < row.
    """
    n = D - 1
    m = D * (D - 1) // 2
    positions = np.zeros((m, 2), dtype=np.int64)
    if m == 0:
        return positions
    index = np.arange(m)
    filled = np.concatenate([index[n:], index[::-1]]).reshape(n, n)
    for row, col in zip(*np.tril_indices(n), strict=True):
        positions[filled[row, col]] = (row + 1, col)
    return positions


# --------------------------------------------------------------------------------------------
# what follows from the blocks
# --------------------------------------------------------------------------------------------
def deterministics(spec: MixtureModelSpec) -> tuple[str, ...]:
    """The model's deterministics in the order it creates them (and the trace holds them)."""
    return DETERMINISTICS + (NOISE_DETERMINISTICS if spec.noise else ())


def n_dim(spec: MixtureModelSpec) -> int:
    """Length of the flat unconstrained vector."""
    return sum(block.size for block in spec.blocks)


def log_density_constant(spec: MixtureModelSpec) -> float:
    """The parameter-free part of the log-density (normalising constants and fixed Jacobians).

    Per point, the likelihood also carries the standardisation's log-Jacobian -sum log scale;
    that depends on the data set, so the density adds N times it itself.
    """
    return float(sum(block.log_constant for block in spec.blocks))


def unconstrained_point(spec: MixtureModelSpec, point: Mapping[str, np.ndarray]) -> np.ndarray:
    """The flat unconstrained vector of constrained values (the forward transforms).

    Parameters
    ----------
    spec : MixtureModelSpec
    point : mapping
        Constrained values keyed by free-variable name, as :func:`bayesgmm.model.initial_point`
        returns them (``weights`` or, with noise, ``mixing``; ``means_z``, ``sd_z``,
        ``corr_chol_z``).

    Returns
    -------
    ndarray (n_dim,)
    """
    return np.concatenate([
        np.ravel(block.forward(np.asarray(point[block.name], dtype=np.float64)
                               .reshape(block.shape)))
        for block in spec.blocks])


def trace_layout(model_or_spec: Any) -> tuple[list[str], list[tuple[int, ...]], list[str]]:
    """The variables of a nutpie trace of a :func:`bayesgmm.model.build_model` model.

    Returns
    -------
    names, shapes : lists
        In nutpie's order (``model.unobserved_value_vars``): the value variables, the
        constrained free variables that have a transform, the deterministics.
    reparameterized : list of str
        The value variables that have a transform.
    """
    spec = model_or_spec if isinstance(model_or_spec, MixtureModelSpec) else model_spec(
        model_or_spec)
    K, D = spec.n_components, spec.n_features
    transformed = [block for block in spec.blocks if block.transform is not None]
    names = [block.value_name for block in spec.blocks] + [b.name for b in transformed]
    shapes = [block.value_shape for block in spec.blocks] + [b.shape for b in transformed]
    names += list(deterministics(spec))
    shapes += [(K, D), covariance.shape(spec.covariance_type, K, D)]
    if spec.noise:
        shapes += [(K,), ()]
    return names, shapes, [block.value_name for block in transformed]


# --------------------------------------------------------------------------------------------
# built models
# --------------------------------------------------------------------------------------------
# Built models -> their spec. A registry rather than an attribute: pm.Model is not ours to extend.
_SPECS: weakref.WeakKeyDictionary[pm.Model, MixtureModelSpec] = weakref.WeakKeyDictionary()


def register(model: pm.Model, spec: MixtureModelSpec) -> None:
    """Record ``spec`` as the spec of ``model`` after :func:`check_model`."""
    check_model(model, spec)
    _SPECS[model] = spec


def model_spec(model: pm.Model) -> MixtureModelSpec:
    """The :class:`MixtureModelSpec` of a model made by :func:`bayesgmm.model.build_model`."""
    try:
        return _SPECS[model]
    except KeyError:
        raise ValueError("model was not built by bayesgmm.model.build_model") from None


def check_model(model: pm.Model, spec: MixtureModelSpec) -> None:
    """Raise RuntimeError unless PyMC's free and value variables are the layout's blocks.

    Names of value variables encode the transforms, so a PyMC release that changed a default
    transform or its naming fails here, at build time, not as a silently different density.
    """
    expected = [(b.name, b.value_name) for b in spec.blocks]
    actual = [(rv.name, model.rvs_to_values[rv].name) for rv in model.free_RVs]
    if actual != expected:
        raise RuntimeError(f"the PyMC model's free/value variables {actual} are not the "
                           f"layout's blocks {expected}")
