"""The model's log-density in JAX: the same parameterisation as the native density, for GPUs.

The native density (numba C callbacks for nutpie) is the fastest route on a CPU. Users whose
data outgrow one machine's cores (1e6-1e8 points: flow cytometry, remote sensing) need the same
model on an accelerator, where JAX is the engine that PyMC, nutpie and numpyro all drive. This
module states the log-density once more in ``jax.numpy``, on the same unconstrained vector
``theta`` and with the same priors, transforms and constant as
:func:`bayesgmm.native.logp_and_gradient` (tests check value and gradient against it to 1e-10
in float64); the gradient comes from ``jax.grad``.

The data can be split over several devices (:func:`shard_rows`): the likelihood is a sum over
points, so XLA computes each device's part where its rows live and adds the scalars.

JAX is optional (``pip install "bayesgmm[jax]"``); importing this module without it raises an
ImportError that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp
except ImportError as exc:  # pragma: no cover - exercised only without jax
    raise ImportError(
        "the JAX back end needs jax: pip install 'bayesgmm[jax]' (or 'jax[cuda13]' for GPUs)"
    ) from exc

__all__ = ["make_logp", "shard_rows"]

_FULL, _TIED, _DIAG, _SPHERICAL = 0, 1, 2, 3
_LOG_2PI = float(np.log(2.0 * np.pi))


def _weights(theta, K):
    """Simplex transform: log w = z - logsumexp(z), z = [y, -sum y]."""
    y = theta[:K - 1]
    z = jnp.concatenate([y, -jnp.sum(y, keepdims=True)])
    return z - logsumexp(z)


def _means(block, ordered):
    """Means (K, D) and the ordered transform's log-Jacobian."""
    if not ordered:
        return block, 0.0
    steps = jnp.concatenate([block[:1], jnp.exp(block[1:])], axis=0)
    return jnp.cumsum(steps, axis=0), jnp.sum(block[1:])


def _correlation_factors(values, D, positions):
    """Correlation Cholesky factors (C, D, D) from PyMC's spiral-ordered vectors (C, m)."""
    C = values.shape[0]
    raw = jnp.broadcast_to(jnp.eye(D), (C, D, D))
    raw = raw.at[:, positions[:, 0], positions[:, 1]].set(values)
    return raw / jnp.linalg.norm(raw, axis=2, keepdims=True)


def _cholesky_factors(log_sd, corr, K, D, ct):
    """Lower Cholesky factors (K, D, D) of the standardised covariances."""
    sd = jnp.exp(log_sd)
    if ct == _FULL:
        return sd.reshape(K, D)[:, :, None] * corr
    if ct == _TIED:
        return jnp.broadcast_to(sd[:, None] * corr[0], (K, D, D))
    if ct == _DIAG:
        return jnp.eye(D) * sd.reshape(K, D)[:, :, None]
    return jnp.eye(D) * sd[:, None, None]


def _mixture_loglik(X, g, log_w, mu, L):
    """sum_n g_n logsumexp_k [log w_k + log N(x_n | mu_k, L_k L_k^T)]."""
    D = X.shape[1]
    # Whiten with the K small inverses L_k^-1 (one batched matmul over the points): on a GPU a
    # matmul streams the data once, where per-point triangular solves would not.
    L_inv = jax.vmap(lambda Lk: jax.scipy.linalg.solve_triangular(Lk, jnp.eye(D), lower=True)
                     )(L)
    shift = jnp.einsum("kde,ke->kd", L_inv, mu)
    z = jnp.einsum("nd,ked->nke", X, L_inv) - shift[None, :, :]
    log_det = jnp.sum(jnp.log(jnp.diagonal(L, axis1=1, axis2=2)), axis=1)
    log_pdf = -0.5 * jnp.sum(z * z, axis=2) - log_det - 0.5 * D * _LOG_2PI
    return jnp.sum(g * logsumexp(log_pdf + log_w, axis=1))


def make_logp(K: int, D: int, ct: int, ordered: bool, positions: np.ndarray,
              params: np.ndarray) -> Callable[[Any, Any, float], Any]:
    """The log-density ``logp(theta, X, log_jacobian)`` for one model structure.

    Parameters
    ----------
    K, D : int
    ct : int
        Covariance code (:data:`bayesgmm.native.COVARIANCE_CODES`).
    ordered : bool
    positions : ndarray (m, 2) of int
        :func:`bayesgmm.native.correlation_positions` (D).
    params : ndarray (6,)
        (alpha, means_sd, log sd_median, sd_log_sd, lkj_eta, constant), as for the native
        density.

    Returns
    -------
    callable
        ``logp(theta (n_dim,), X (N, D) standardised, g (N,), log_jacobian)`` -> scalar,
        jit-able and differentiable in ``theta``. ``g`` weights the points (1 for the model;
        0 for the padding rows of :func:`shard_rows`).
    """
    alpha, means_sd, sd_mu, sd_sigma, eta, const = (float(p) for p in params)
    positions = np.asarray(positions, dtype=np.int64)
    m = positions.shape[0]
    n_sd = {_FULL: K * D, _TIED: D, _DIAG: K * D, _SPHERICAL: K}[ct]
    blocks = {_FULL: K, _TIED: 1}.get(ct, 0) if m else 0
    exponent = 2.0 * eta + D - 1.0

    def logp(theta, X, g, log_jacobian):
        log_w = _weights(theta, K)
        i = K - 1
        mu, mu_jacobian = _means(theta[i:i + K * D].reshape(K, D), ordered)
        i += K * D
        log_sd = theta[i:i + n_sd]
        i += n_sd
        if blocks:
            corr = _correlation_factors(theta[i:i + blocks * m].reshape(blocks, m), D,
                                        positions)
            lkj = exponent * jnp.sum(jnp.log(jnp.diagonal(corr, axis1=1, axis2=2)))
        else:
            corr, lkj = jnp.broadcast_to(jnp.eye(D), (1, D, D)), 0.0
        L = _cholesky_factors(log_sd, corr, K, D, ct)
        lp = (const + alpha * jnp.sum(log_w) - 0.5 * jnp.sum(mu * mu) / means_sd ** 2
              + mu_jacobian - 0.5 * jnp.sum(((log_sd - sd_mu) / sd_sigma) ** 2) + lkj)
        return lp + _mixture_loglik(X, g, log_w, mu, L) + jnp.sum(g) * log_jacobian

    return logp


def shard_rows(X: np.ndarray, devices: list | None = None):
    """Put the rows of ``X`` on ``devices`` (default: all), split evenly; with their weights.

    XLA splits an array only into equal parts, so ``X`` is padded with zero rows to a multiple
    of the device count, and the returned point weights ``g`` are 1 for the data and 0 for the
    padding (which then adds nothing to the log-density or its gradient).

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
    P = jax.sharding.PartitionSpec
    return (jax.device_put(X, jax.sharding.NamedSharding(mesh, P("rows", None))),
            jax.device_put(g, jax.sharding.NamedSharding(mesh, P("rows"))))
