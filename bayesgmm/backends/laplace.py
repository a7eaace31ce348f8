"""The Laplace whitening: the posterior's curvature at its mode as a sampling metric.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. NumPy only; works on any
``theta -> (log p, gradient)`` callable. :class:`bayesgmm.backends.nutpie.NativeMixtureModel`
uses it for ``compile_nutpie(laplace=True)``: the sampler then works on z with
theta = mode + A z, A A^T the inverse negative Hessian at the mode.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GAUSSIAN_CHECKS", "GAUSSIAN_FACTOR", "gaussian_along_axes", "laplace_whitening",
           "typical_start"]


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

    Damped Newton from ``theta`` (each step halved until log p does not decrease; the curvature
    measured again only where an older one stops converging fast), then the
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
        density or its curvature is not finite there or has no positive curvature at all, or
        if the density is not close to the Gaussian along some whitened axis, one or two
        sds out (:func:`gaussian_along_axes`: a posterior with components the data do not
        support is not, nor that of heavily overlapping components, and the whitening then
        slowed the sampler down or let it diverge).
    """
    theta = np.array(theta, dtype=np.float64)
    value, grad = density(theta)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return None
    # The curvature (2 n gradients) is measured again only where the last step had to be
    # damped or the Newton decrement fell less than 4-fold (the quadratic model was poor):
    # near the mode a step with an older curvature converges too, at one gradient or so a
    # step (n = 74 at K=5, D=4: a Hessian is ~150 gradients, seconds each at N=1e7 on a CPU).
    values, last, fresh = None, np.inf, False
    for _ in range(max_steps):
        if values is None:
            values, vectors = _curvature(density, theta, step)
            if values is None:
                return None
            fresh = True
        delta = vectors @ ((vectors.T @ grad) / values)
        decrement = float(grad @ delta)
        if decrement > 0.25 * last and not fresh:  # converging slowly: measure it again
            values = None
            continue
        scale = 1.0
        while scale > 1e-3:
            new_value, new_grad = density(theta + scale * delta)
            if np.isfinite(new_value) and new_value >= value and np.all(np.isfinite(new_grad)):
                break
            scale *= 0.5
        else:
            if not fresh:  # an older curvature's direction: measure it here and try again
                values = None
                continue
            break  # no ascent along the Newton direction: take the curvature where we are
        theta = theta + scale * delta
        value, grad, last = new_value, new_grad, decrement
        if np.max(np.abs(scale * delta)) < 1e-8:
            break
        fresh = False
        if scale < 1.0:
            values = None
    values, vectors = _curvature(density, theta, step)
    if values is None:
        return None
    # one last step with the curvature measured here (steps with an older one converge only
    # linearly); it moves theta too little to change that curvature
    polished = theta + vectors @ ((vectors.T @ grad) / values)
    new_value, new_grad = density(polished)
    if np.isfinite(new_value) and new_value >= value and np.all(np.isfinite(new_grad)):
        theta = polished
    root = np.sqrt(values)
    A = vectors / root
    if not gaussian_along_axes(density, theta, A, value):
        return None
    return theta, A, (vectors * root).T


# The drop of log p t whitened sds from the mode, over the Gaussian's t^2 / 2 (the mean of
# both ways), must lie in [1/factor, factor] along every axis for the whitening to be used:
# (t, factor) below. Measured at Newton's mode, one sd: 0.98-1.02 for a K the data support at
# 1e5 rows (K=3, D=2; K=5, D=4); for one or two components too many, from below 0 (log p
# rises: no mode there) to ~6e6 (a clamped curvature), where the whitened warm-up crawled (130
# of 1,000 tuning draws in 300 s at N=1.2e5, K=5). Two sds: 1.05-1.21 on the hard panel's
# cases whose whitened runs mix well (benchmarks/README.md), 1.89 on two overlapping 1-D
# components (500 rows, means 1.5 sds apart), whose one-sd ratio 1.20 passed and whose
# whitened run then ended with 299 divergences and R-hat 1.03 where the diagonal metric
# converged: a posterior skewed beyond one sd.
GAUSSIAN_CHECKS = ((1.0, 2.0), (2.0, 1.5))
GAUSSIAN_FACTOR = GAUSSIAN_CHECKS[0][1]


def gaussian_along_axes(density, mode: np.ndarray, A: np.ndarray, value: float) -> bool:
    """Whether log p curves like the Laplace approximation's Gaussian one and two sds from
    ``mode`` along every whitened axis (4 n evaluations of ``density``): the mean of its drops
    at +t and -t sd within the factor :data:`GAUSSIAN_CHECKS` gives of the Gaussian's t^2 / 2
    (the mean cancels the gradient's part, where Newton stopped short of the mode). ``value``
    is log p at ``mode``."""
    for column in A.T:
        for distance, factor in GAUSSIAN_CHECKS:
            with np.errstate(all="ignore"):
                drops = [value - density(mode + sign * distance * column)[0]
                         for sign in (1.0, -1.0)]
            ratio = (drops[0] + drops[1]) / 2.0 / (distance ** 2 / 2.0)
            if not (np.isfinite(ratio) and 1.0 / factor <= ratio <= factor):
                return False
    return True


def _curvature(density, theta, step):
    H = _negative_hessian(density, theta, step)
    if not np.all(np.isfinite(H)):
        return None, None
    values, vectors = np.linalg.eigh(H)
    if values.max() <= 0:
        return None, None
    return np.maximum(values, 1e-8 * values.max()), vectors


def typical_start(density, mode: np.ndarray, A: np.ndarray, fallback: np.ndarray, seed,
                  *, slack: float = 2.0) -> np.ndarray:
    """A chain's start in the whitened coordinates: the mode moved one posterior sd along every
    whitened coordinate, the signs drawn from ``seed``, i.e. z = (+-1, ..., +-1), a typical
    point of the Laplace approximation (|z|^2 = dim).

    Not the start itself: nutpie's first metric is 1 / |gradient| there, and at (or near) the
    mode the gradient is ~0, so that metric is far too wide: the first draws diverge, the step
    size collapses and the next ones run 255-1023 leapfrog steps (measured at N=2e4, K=5,
    D=4, also at the EM start). At z = +-1 the gradient is ~1 in every coordinate, which is the
    metric the whitening makes right; and the chains start at Newton's mode rather than at an
    EM estimate that its stopping rule may have left many posterior sds away (at N=1e7).
    Kept only where the density agrees: finite, and no more than ``slack`` times the
    Gaussian's drop (dim / 2) below the mode plus 10 nats (a direction whose curvature the
    whitening could not measure, clamped, can make one sd there a far jump); else
    ``fallback``.

    Parameters
    ----------
    density : callable
        theta -> (log p, gradient), theta = mode + A z.
    mode, A : ndarray (n,), (n, n)
    fallback : ndarray (n,)
        The start in the whitened coordinates (the EM start's z), used where z = +-1 is not.
    seed : int or None
        The chain's seed (nutpie's, per chain): chains start on different corners.
    """
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=mode.size)
    with np.errstate(all="ignore"):
        here = density(mode)[0]
        there, grad = density(mode + A @ signs)
    if (np.isfinite(here) and np.isfinite(there) and np.all(np.isfinite(grad))
            and there >= here - slack * mode.size / 2.0 - 10.0):
        return signs
    return np.asarray(fallback, dtype=np.float64)
