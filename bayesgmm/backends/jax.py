"""The model's log-density in JAX, from the same block list as the native density, for GPUs.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. Imports the layout
(:mod:`bayesgmm.layout`) and JAX; nothing else of the package. Optional: JAX is imported only
when this module is (``pip install "bayesgmm[jax]"``).

The native density (numba C callbacks for nutpie) is the fastest route on a CPU. Users whose data
outgrow one machine's cores (1e6-1e8 points) need the same model on an accelerator, where JAX is
the engine. The density here walks :attr:`bayesgmm.layout.MixtureModelSpec.blocks` (the one
statement of the model's parameters) with one small JAX function per block, as the native
density does with its numba functions, adds the layout's constant and the mixture likelihood,
and gets its gradient from ``jax.grad``. Tests check value and gradient against the native
density to 1e-10 in float64 for every covariance type; a block without a JAX function is refused
when the density is built, so a new block cannot be forgotten here.

The rows can be split over several devices (:func:`shard_rows`): the likelihood is a sum over
points, so XLA computes each device's part where its rows live and adds the scalars.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp
except ImportError as exc:  # pragma: no cover - exercised only without jax
    raise ImportError(
        "the JAX back end needs jax: pip install 'bayesgmm[jax]' (or jax with CUDA for GPUs)"
    ) from exc

from ..layout import MixtureModelSpec, correlation_positions, log_density_constant

__all__ = ["BLOCK_DENSITIES", "make_logp", "shard_rows"]

# The density is checked against the native one in float64; JAX computes in float32 unless
# told otherwise (a process-wide switch, as numpyro.enable_x64 sets it).
jax.config.update("jax_enable_x64", True)

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# blocks: unconstrained value -> (constrained value, log prior + log-Jacobian less constants)
# --------------------------------------------------------------------------------------------
def _weights(y, spec: MixtureModelSpec):
    """Simplex + Dirichlet(alpha): log w = z - logsumexp(z), z = [y, -sum y]; alpha sum log w."""
    z = jnp.concatenate([y, -jnp.sum(y, keepdims=True)])
    log_w = z - logsumexp(z)
    return log_w, spec.priors.weights_concentration * jnp.sum(log_w)


def _means(v, spec: MixtureModelSpec):
    """Normal(0, means_sd) means, optionally ordered along the components (+ log-Jacobian)."""
    if spec.ordered_means:
        mu = jnp.cumsum(jnp.concatenate([v[:1], jnp.exp(v[1:])], axis=0), axis=0)
        jacobian = jnp.sum(v[1:])
    else:
        mu, jacobian = v, 0.0
    return mu, jacobian - 0.5 * jnp.sum(mu * mu) / spec.priors.means_sd ** 2


def _log_sd(v, spec: MixtureModelSpec):
    """LogNormal sd on the log scale: the Jacobian cancels the LogNormal's -log sd."""
    p = spec.priors
    return v, -0.5 * jnp.sum(((v - math.log(p.sd_median)) / p.sd_log_sd) ** 2)


def _correlations(v, spec: MixtureModelSpec):
    """LKJ correlation Cholesky factors from PyMC's spiral-ordered vectors; (C, D, D)."""
    D = spec.n_features
    positions = correlation_positions(D)
    values = v.reshape(-1, positions.shape[0])
    raw = jnp.broadcast_to(jnp.eye(D), (values.shape[0], D, D))
    raw = raw.at[:, positions[:, 0], positions[:, 1]].set(values)
    corr = raw / jnp.linalg.norm(raw, axis=2, keepdims=True)
    exponent = 2.0 * spec.priors.lkj_eta + D - 1.0
    return corr, exponent * jnp.sum(jnp.log(jnp.diagonal(corr, axis1=1, axis2=2)))


# One function per block of bayesgmm.layout.blocks, by block name.
BLOCK_DENSITIES: dict[str, Callable[[Any, MixtureModelSpec], tuple[Any, Any]]] = {
    "weights": _weights,
    "means_z": _means,
    "sd_z": _log_sd,
    "corr_chol_z": _correlations,
}


def _cholesky_factors(log_sd, corr, spec: MixtureModelSpec):
    """Lower Cholesky factors (K, D, D) of the standardised covariances: diag(sd) corr."""
    K, D, ct = spec.n_components, spec.n_features, spec.covariance_type
    sd = jnp.exp(log_sd)
    if ct == "full":
        return sd.reshape(K, D)[:, :, None] * (jnp.eye(D) if corr is None else corr)
    if ct == "tied":
        return jnp.broadcast_to(sd[:, None] * (jnp.eye(D) if corr is None else corr[0]),
                                (K, D, D))
    if ct == "diag":
        return jnp.eye(D) * sd.reshape(K, D)[:, :, None]
    return jnp.eye(D) * sd[:, None, None]


def _mixture_loglik(X, g, log_w, mu, L):
    """sum_n g_n logsumexp_k [log w_k + log N(x_n | mu_k, L_k L_k^T)]."""
    D = X.shape[1]
    # Whiten with the K small inverses L_k^-1 in one batched matmul over the points: on a GPU
    # that streams the data once, where per-point triangular solves would not.
    L_inv = jax.vmap(lambda Lk: jax.scipy.linalg.solve_triangular(Lk, jnp.eye(D), lower=True)
                     )(L)
    z = jnp.einsum("nd,ked->nke", X, L_inv) - jnp.einsum("kde,ke->kd", L_inv, mu)[None]
    log_det = jnp.sum(jnp.log(jnp.diagonal(L, axis1=1, axis2=2)), axis=1)
    log_pdf = -0.5 * jnp.sum(z * z, axis=2) - log_det - 0.5 * D * _LOG_2PI
    return jnp.sum(g * logsumexp(log_pdf + log_w, axis=1))


def make_logp(spec: MixtureModelSpec) -> Callable[[Any, Any, Any], Any]:
    """The log-density ``logp(theta, X, g)`` of the model ``spec`` describes.

    Parameters
    ----------
    spec : MixtureModelSpec
        :func:`bayesgmm.layout.model_spec` of a built model.

    Returns
    -------
    callable
        ``logp(theta (n_dim,), X (N, D) standardised, g (N,))`` -> scalar, jit-able and
        differentiable in ``theta``; equal to the native density (and PyMC's) when ``g`` is 1.
        ``g`` weights the points (0 for the padding rows of :func:`shard_rows`).
    """
    missing = [b.name for b in spec.blocks if b.name not in BLOCK_DENSITIES]
    if missing:
        raise ValueError(f"the JAX back end has no density for the block(s) {missing}: add "
                         "them to bayesgmm.backends.jax.BLOCK_DENSITIES")
    layout, start = [], 0
    for block in spec.blocks:
        layout.append((block.name, start, block.size, block.value_shape))
        start += block.size
    const = log_density_constant(spec)
    log_jacobian = spec.log_jacobian

    def logp(theta, X, g):
        values, lp = {}, const
        for name, offset, size, shape in layout:
            value, block_lp = BLOCK_DENSITIES[name](theta[offset:offset + size].reshape(shape),
                                                    spec)
            values[name], lp = value, lp + block_lp
        L = _cholesky_factors(values["sd_z"], values.get("corr_chol_z"), spec)
        loglik = _mixture_loglik(X, g, values["weights"], values["means_z"], L)
        return lp + loglik + jnp.sum(g) * log_jacobian

    return logp


def shard_rows(X: np.ndarray, devices: list | None = None):
    """Put the rows of ``X`` on ``devices`` (default: all), split evenly; with their weights.

    XLA splits an array only into equal parts, so ``X`` is padded with zero rows to a multiple
    of the device count; the returned point weights ``g`` are 1 for the data and 0 for the
    padding, which then adds nothing to the log-density or its gradient.

    Returns
    -------
    X : jax.Array (N', D)
    g : jax.Array (N',)
    """
    devices = jax.devices() if devices is None else devices
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    pad = (-n) % len(devices)
    g = np.concatenate([np.ones(n), np.zeros(pad)])
    X = np.concatenate([X, np.zeros((pad, X.shape[1]))])
    if len(devices) < 2:
        return jax.device_put(X, devices[0]), jax.device_put(g, devices[0])
    mesh = jax.sharding.Mesh(np.array(devices), ("rows",))
    rows = jax.sharding.PartitionSpec("rows")
    table = jax.sharding.PartitionSpec("rows", None)
    return (jax.device_put(X, jax.sharding.NamedSharding(mesh, table)),
            jax.device_put(g, jax.sharding.NamedSharding(mesh, rows)))
