"""The Laplace whitening: the posterior's curvature at its mode as a sampling metric.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. NumPy only; works on any
``theta -> (log p, gradient)`` callable. :class:`bayesgmm.backends.nutpie.NativeMixtureModel`
uses it for ``compile_nutpie(laplace=True)``: the sampler then works on z with
theta = mode + A z, A A^T the inverse negative Hessian at the mode.
"""

from __future__ import annotations

import numpy as np

__all__ = ["laplace_whitening"]


def _negative_hessian(density, theta, step):
    """-d2 log p / dtheta2 by central differences of the analytic gradient, symmetrised."""
    n = theta.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        H[i] = (density(theta - e)[1] - density(theta + e)[1]) / (2.0 * step)
    return 0.5 * (H + H.T)


def laplace_whitening(density, theta: np.ndarray, *, max_steps: int = 20, step: float = 1e-5):
    """Mode and whitening map of a log-density: the Laplace approximation as a metric.

    Damped Newton from ``theta`` (each step halved until log p does not decrease), then the
    eigen-decomposition H = V diag(lambda) V^T of the negative Hessian at the point reached.
    Directions of non-positive curvature (a saddle, a flat direction) get the smallest
    curvature 1e-8 max(lambda), so the map stays invertible; the sampler's own adaptation
    rescales them.

    Parameters
    ----------
    density : callable
        theta -> (log p, gradient).
    theta : ndarray (n,)
        Where to start (e.g. the EM estimate).

    Returns
    -------
    (shift, A, A_inv) or None
        shift (n,) the mode, A = V diag(lambda^-1/2) (n, n) and its inverse; None if the
        density or its curvature is not finite there or has no positive curvature at all.
    """
    theta = np.array(theta, dtype=np.float64)
    value, grad = density(theta)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return None
    for _ in range(max_steps):
        values, vectors = _curvature(density, theta, step)
        if values is None:
            return None
        delta = vectors @ ((vectors.T @ grad) / values)
        scale = 1.0
        while scale > 1e-3:
            new_value, new_grad = density(theta + scale * delta)
            if np.isfinite(new_value) and new_value >= value and np.all(np.isfinite(new_grad)):
                break
            scale *= 0.5
        else:
            break  # no ascent along the Newton direction: take the curvature where we are
        theta = theta + scale * delta
        value, grad = new_value, new_grad
        if np.max(np.abs(scale * delta)) < 1e-8:
            break
    values, vectors = _curvature(density, theta, step)
    if values is None:
        return None
    root = np.sqrt(values)
    return theta, vectors / root, (vectors * root).T


def _curvature(density, theta, step):
    H = _negative_hessian(density, theta, step)
    if not np.all(np.isfinite(H)):
        return None, None
    values, vectors = np.linalg.eigh(H)
    if values.max() <= 0:
        return None, None
    return np.maximum(values, 1e-8 * values.max()), vectors
