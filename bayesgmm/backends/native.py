"""The model's log-density and gradient in numba, for the nutpie callbacks.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. Imports the kernel
(:mod:`bayesgmm.kernels`) and the layout (:mod:`bayesgmm.layout`); imported by
:mod:`bayesgmm.backends.nutpie`, which wraps it in C callbacks. No PyMC, no nutpie here.

nutpie samples a PyMC model by compiling its whole PyTensor graph (priors, transforms,
likelihood, gradient) with numba. For this model that compilation, not the sampling, is the
cost: ~45 s of PyTensor's numba compile on a new machine, then ~15 s of nutpie's own wrapper in
every process. Yet the only expensive part of the density is the likelihood, which is already one
cached kernel (:func:`bayesgmm.kernels.loglik_value_and_grad`); the rest is a few dozen scalars.

This module writes that rest out, one small numba function per block of
:func:`bayesgmm.layout.blocks` (its backward transform, and its prior plus log-Jacobian with
the chain rule of an upstream gradient), with the gradient of the likelihood through
Fisher's-identity statistics of the kernel. The covariance structure (L = diag(sd) corr, per
type) joins the sd and correlation blocks to the kernel's Cholesky factors. Compiled once per
machine (``cache=True``).

The PyMC model stays the definition: tests check every block function against PyMC's
``Transform.backward``/``log_jac_det`` and ``pm.logp``, and the whole density and gradient
against ``model.compile_logp()``/``compile_dlogp()`` at random points for every covariance
type.

The blocks (their order, shapes, prior numbers: :mod:`bayesgmm.layout`, passed in as one
table, :func:`prior_parameters`) and their backward transforms: ``weights_simplex__`` (or
``mixing_simplex__``) w = softmax([y, -sum y]); ``means_z`` the identity or, ordered,
mu_0 = v_0, mu_k = mu_(k-1) + exp(v_k); ``sd_z_log__`` sd = exp(v); ``corr_chol_z_cholesky_corr__``
(C, m) row i of the correlation Cholesky factor [a_i, 1, 0, ...] / |[a_i, 1]|, the a_i taken
from the vector in PyMC's "spiral" order (:func:`bayesgmm.layout.correlation_positions`).

With those, log p = a sum log w + sum log N(mu | 0, s) - 1/2 sum ((v - m)/t)^2
- (2 eta + D - 1)/2 sum_i log(1 + |a_i|^2) + sum_n ll_n + constants: the Dirichlet, Normal,
LogNormal and LKJ log-densities plus the log-Jacobians of their transforms, simplified (the
LKJ exponent 2 eta - 2 + D - i and the transform's Jacobian exponent i + 1, for row i counted
from 1, add up to the same 2 eta + D - 1 for every row). The constants are the layout's
(:func:`bayesgmm.layout.log_density_constant`).

Every function is ``error_model="numpy"``: an extreme proposal gives inf/nan, which the sampler
treats as a divergence, never an exception.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._numba_cache import jit  # its cache keys cover imported sources
from ..kernels import loglik_value_and_grad, plan_value_and_grad
from ..layout import MIXING, MixtureModelSpec, correlation_positions, log_density_constant

__all__ = [
    "BLOCK_SLOTS",
    "COVARIANCE_CODES",
    "cholesky_factors",
    "cholesky_pullback",
    "correlation_backward",
    "correlation_positions",
    "dirichlet_simplex",
    "expand",
    "lkj_cholesky_corr",
    "lognormal_log",
    "logp_and_gradient",
    "logp_and_gradient_plan",
    "means_backward",
    "normal_means",
    "prior_parameters",
    "simplex_backward",
]

COVARIANCE_CODES = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
_FULL, _TIED, _DIAG, _SPHERICAL = 0, 1, 2, 3
_jit = jit(nogil=True, error_model="numpy")


# Each block of the layout (by name) -> the slot of its small function below, where the
# density's table (prior_parameters) holds its place in theta and its prior's numbers: 5 columns.
_WEIGHTS, _MEANS, _SD, _CORR = range(_N_SLOTS := 4)
BLOCK_SLOTS = {"weights": _WEIGHTS, MIXING: _WEIGHTS, "means_z": _MEANS, "sd_z": _SD,
               "corr_chol_z": _CORR}
_COLUMNS = 5
_NUMBERS = 1 + _N_SLOTS * _COLUMNS


def prior_parameters(spec: MixtureModelSpec) -> np.ndarray:
    """The density's table: the layout's blocks as numbers, computed once per model, so that
    the numba code restates no offset, size or prior number (its ``params`` argument).

    ``[0]``: :func:`bayesgmm.layout.log_density_constant`; then, per slot of
    :data:`BLOCK_SLOTS`, the block's offset in theta, its value's rows and columns (a vector:
    one row), 1 if it has a transform, the index of its prior's first number (all 0: no such
    block); then each block's :attr:`bayesgmm.layout.Block.parameters`, in the layout's order.
    Integers are exact in float64. ValueError for a block without a slot (no function here).
    """
    missing = [block.name for block in spec.blocks if block.name not in BLOCK_SLOTS]
    if missing:
        raise ValueError(f"the native density has no function for the block(s) {missing}: add "
                         "them to bayesgmm.backends.native.BLOCK_SLOTS")
    table = np.zeros(_NUMBERS)
    table[0] = log_density_constant(spec)
    numbers: list[float] = []
    offset = 0
    for block in spec.blocks:
        rows, cols = block.value_shape if len(block.value_shape) == 2 else (1, block.size)
        start = 1 + _COLUMNS * BLOCK_SLOTS[block.name]
        table[start:start + _COLUMNS] = (offset, rows, cols, block.transform is not None,
                                         _NUMBERS + len(numbers))
        numbers.extend(block.parameters)
        offset += block.size
    return np.concatenate([table, np.asarray(numbers, dtype=np.float64)])


@_jit
def _slot(params, slot):
    """(start, end, rows, columns, transformed, first) of the block in ``slot``: its slice of
    theta, its value's matrix shape, whether it has a transform, its first prior number."""
    at = 1 + _COLUMNS * slot
    start, rows, cols = int(params[at]), int(params[at + 1]), int(params[at + 2])
    return start, start + rows * cols, rows, cols, params[at + 3] != 0.0, int(params[at + 4])


# --------------------------------------------------------------------------------------------
# blocks: backward transform; prior + log-Jacobian (less the layout's constant) with gradient
# --------------------------------------------------------------------------------------------
@_jit
def simplex_backward(y):
    """PyMC's simplex transform backward: y (K-1,) -> (log w, w), w = softmax([y, -sum y])."""
    K = y.shape[0] + 1
    z = np.empty(K)
    total = 0.0
    for j in range(K - 1):
        z[j] = y[j]
        total += y[j]
    z[K - 1] = -total
    z_max = z.max()
    acc = 0.0
    for k in range(K):
        acc += math.exp(z[k] - z_max)
    log_w = z - (z_max + math.log(acc))
    return log_w, np.exp(log_w)


@_jit
def dirichlet_simplex(y, log_w, w, dw, alpha, grad):
    """Dirichlet(alpha) + simplex log-Jacobian = alpha sum log w; d/dy of it plus the upstream
    d/dw ``dw`` (K,) chained through the softmax, into ``grad`` (K-1,).

    Chain rule through the softmax of z = [y, -sum y]: d/dz_j = w_j (G_j - w . G) with
    G = d/dw, and d/dy_j = d/dz_j - d/dz_K.
    """
    K = w.shape[0]
    wg = 0.0
    lp = 0.0
    for k in range(K):
        wg += w[k] * dw[k]
        lp += alpha * log_w[k]
    last = w[K - 1] * dw[K - 1] - w[K - 1] * wg + alpha * (1.0 - K * w[K - 1])
    for j in range(K - 1):
        grad[j] = w[j] * dw[j] - w[j] * wg + alpha * (1.0 - K * w[j]) - last
    return lp


@_jit
def means_backward(v, ordered):
    """v (K, D) -> means: the identity, or (ordered) mu_0 = v_0, mu_k = mu_(k-1) + exp(v_k)."""
    K, D = v.shape
    mu = np.empty((K, D))
    for d in range(D):
        mu[0, d] = v[0, d]
        for k in range(1, K):
            mu[k, d] = mu[k - 1, d] + math.exp(v[k, d]) if ordered else v[k, d]
    return mu


@_jit
def normal_means(v, mu, dmu, means_sd, ordered, grad):
    """Normal(0, means_sd) on the means (+ the ordered transform's log-Jacobian sum v_k, k>0);
    gradient with the upstream d/dmu ``dmu`` (K, D) into ``grad`` (K, D)."""
    K, D = v.shape
    lp = 0.0
    inv_var = 1.0 / (means_sd * means_sd)
    for d in range(D):
        suffix = 0.0  # sum over k' >= k of d/dmu_k'
        for k in range(K - 1, -1, -1):
            g = dmu[k, d] - mu[k, d] * inv_var
            lp -= 0.5 * mu[k, d] * mu[k, d] * inv_var
            if not ordered:
                grad[k, d] = g
                continue
            suffix += g
            if k == 0:
                grad[0, d] = suffix
            else:
                grad[k, d] = suffix * math.exp(v[k, d]) + 1.0  # + the Jacobian's v
                lp += v[k, d]
    return lp


@_jit
def lognormal_log(v, sd, dsd, sd_mu, sd_sigma, grad):
    """LogNormal(sd_mu, sd_sigma) on sd = exp(v) + the log transform's Jacobian (its +v cancels
    the density's -log sd); gradient with the upstream d/dsd ``dsd`` into ``grad``."""
    lp = 0.0
    inv_var = 1.0 / (sd_sigma * sd_sigma)
    for j in range(v.shape[0]):
        dev = v[j] - sd_mu
        lp -= 0.5 * dev * dev * inv_var
        grad[j] = dsd[j] * sd[j] - dev * inv_var
    return lp


@_jit
def correlation_backward(v, D, positions):
    """PyMC's cholesky_corr transform backward: v (C, m) -> correlation Cholesky factors
    (C, D, D); row r is [a, 1, 0...] / |[a, 1]| with a from ``positions``."""
    C, m = v.shape
    corr = np.zeros((C, D, D))
    for c in range(C):
        for r in range(D):
            corr[c, r, r] = 1.0
        for e in range(m):
            corr[c, positions[e, 0], positions[e, 1]] = v[c, e]
        for r in range(1, D):
            norm = 0.0
            for col in range(r + 1):
                norm += corr[c, r, col] ** 2
            norm = math.sqrt(norm)
            for col in range(r + 1):
                corr[c, r, col] /= norm
    return corr


@_jit
def lkj_cholesky_corr(v, corr, dcorr, eta, positions, grad):
    """LKJCorr(eta) + the cholesky_corr transform's log-Jacobian; gradient with the upstream
    d/dcorr ``dcorr`` (C, D, D) into ``grad`` (C, m).

    Row r = [a, 1] / n with n = |[a, 1]| = 1 / corr[r, r], so
    d/da_c = (G_rc - a_c corr[r, r] (G_r . corr_r)) corr[r, r]; LKJ + Jacobian add
    (2 eta + D - 1) log corr[r, r] per row.
    """
    C, m = v.shape
    D = corr.shape[1]
    exponent = 2.0 * eta + D - 1.0
    lp = 0.0
    dot = np.empty(D)
    for c in range(C):
        for r in range(D):
            dot[r] = 0.0
            for col in range(r + 1):
                dot[r] += dcorr[c, r, col] * corr[c, r, col]
            lp += exponent * math.log(corr[c, r, r])
        for e in range(m):
            r, col = positions[e, 0], positions[e, 1]
            diag = corr[c, r, r]
            a = v[c, e]
            grad[c, e] = (dcorr[c, r, col] - a * diag * dot[r]) * diag - exponent * a * diag * diag
    return lp


# --------------------------------------------------------------------------------------------
# covariance structure: the sd and correlation blocks -> the kernel's Cholesky factors
# --------------------------------------------------------------------------------------------
@_jit
def cholesky_factors(sd, corr, K, D, ct):
    """Lower Cholesky factors L (K, D, D) of the standardised covariances: L = diag(sd) corr
    (full: per component, tied: shared), diag(sd) (diag), sd I (spherical)."""
    L = np.zeros((K, D, D))
    for k in range(K):
        for r in range(D):
            if ct == _FULL or ct == _TIED:
                c = k if ct == _FULL else 0
                s = sd[k * D + r] if ct == _FULL else sd[r]
                if corr.shape[0] == 0:  # D = 1: no correlation block
                    L[k, r, r] = s
                for col in range(r + 1 if corr.shape[0] else 0):
                    L[k, r, col] = s * corr[c, r, col]
            elif ct == _DIAG:
                L[k, r, r] = sd[k * D + r]
            else:
                L[k, r, r] = sd[k]
    return L


@_jit
def cholesky_pullback(dL, sd, corr, K, D, ct):
    """(d/dsd, d/dcorr) from d/dL of :func:`cholesky_factors`.

    L = diag(sd) corr, so d/dsd_r = row r of dL . row r of corr and d/dcorr = diag(sd) dL
    (summed over components when tied).
    """
    n_sd = sd.shape[0]
    dsd = np.zeros(n_sd)
    C = corr.shape[0]
    dcorr = np.zeros((C, D, D))
    for k in range(K):
        for r in range(D):
            if ct == _FULL or ct == _TIED:
                j = k * D + r if ct == _FULL else r
                if C == 0:
                    dsd[j] += dL[k, r, r]
                    continue
                c = k if ct == _FULL else 0
                for col in range(r + 1):
                    dsd[j] += dL[k, r, col] * corr[c, r, col]
                    dcorr[c, r, col] += dL[k, r, col] * sd[j]
            elif ct == _DIAG:
                dsd[k * D + r] = dL[k, r, r]
            else:
                dsd[k] += dL[k, r, r]
    return dsd, dcorr


@_jit
def _parameters(theta, K, D, ct, ordered, positions, params):
    """Unconstrained vector -> (log_w, w, mu, sd, corr, L), block by block at the places the
    table ``params`` (:func:`prior_parameters`) gives. ``w`` has the weights block's entries
    (K + 1 with a noise component: the layout's ``mixing``, the noise weight last); ``corr``
    is (0, D, D) when the model has no correlation block."""
    a, b, _, _, _, _ = _slot(params, _WEIGHTS)
    log_w, w = simplex_backward(theta[a:b])
    a, b, rows, cols, _, _ = _slot(params, _MEANS)
    mu = means_backward(theta[a:b].reshape((rows, cols)), ordered)
    a, b, _, _, _, _ = _slot(params, _SD)
    sd = np.exp(theta[a:b])
    a, b, rows, cols, _, _ = _slot(params, _CORR)
    corr = correlation_backward(theta[a:b].reshape((rows, cols)), D, positions)
    return log_w, w, mu, sd, corr, cholesky_factors(sd, corr, K, D, ct)


@_jit
def logp_and_gradient(theta, X, K, ct, ordered, positions, params, log_jacobian, grad):
    """Log-density of the model at the unconstrained ``theta`` (n_dim,); gradient into ``grad``.

    Parameters
    ----------
    theta : ndarray (n_dim,)
    X : ndarray (N, D)
        Standardised data.
    K, ct, ordered : int
        Components, covariance code (:data:`COVARIANCE_CODES`), ordered means (0/1).
    positions : ndarray (m, 2) of int64
        :func:`bayesgmm.layout.correlation_positions`.
    params : ndarray
        :func:`prior_parameters` (the blocks' places in theta, prior numbers, constant).
    log_jacobian : float
        -sum log scale, added once per point (data-unit log-likelihood).
    grad : ndarray (n_dim,)
        Output.
    """
    N, D = X.shape
    log_w, w, mu, sd, corr, L = _parameters(theta, K, D, ct, ordered, positions, params)
    loglik, dw, dmu, dL = loglik_value_and_grad(X, w, mu, L)
    return _add_priors(params[0] + loglik + N * log_jacobian, theta, K, D, ct, ordered,
                       positions, params, log_w, w, mu, sd, corr, dw, dmu, dL, grad)


@_jit
def logp_and_gradient_plan(theta, PX, PG, bounds, columns, n_obs, label, log_noise, center,
                           scale, K, ct, ordered, noise, positions, params, grad):
    """:func:`logp_and_gradient` for data with missing values, weights, known labels or a
    noise component: the likelihood over a row plan (:class:`bayesgmm.kernels.RowPlan`, in
    data units) by :func:`bayesgmm.kernels.plan_value_and_grad`.

    The plan is evaluated in data units (mu_x = c + s mu_z, L_x = diag(s) L_z; its noise
    density is a data-unit constant), so its total is already the data-unit log-likelihood
    (no log-Jacobian term) and the chain rule back to the standardised parameters is
    d/dmu_z = s d/dmu_x, d/dL_z[k, r, :] = s_r d/dL_x[k, r, :].

    Parameters
    ----------
    theta : ndarray (n_dim,)
    PX, PG, bounds, columns, n_obs, label, log_noise
        The plan's arrays (``PG`` the per-point weights in plan order, or empty).
    center, scale : ndarray (D,)
    K, ct, ordered, noise : int
        ``noise`` (0/1): the weights' simplex has K + 1 entries, the last the noise weight.
    positions, params, grad
        As in :func:`logp_and_gradient`.
    """
    D = PX.shape[1]
    log_w, w, mu, sd, corr, L = _parameters(theta, K, D, ct, ordered, positions, params)
    mu_x = np.empty((K, D))
    L_x = np.empty((K, D, D))
    for k in range(K):
        for r in range(D):
            mu_x[k, r] = center[r] + scale[r] * mu[k, r]
            for col in range(D):
                L_x[k, r, col] = scale[r] * L[k, r, col]
    w_gauss = w[:K].copy()
    noise_weight = w[K] if noise else 0.0
    loglik, dw_gauss, d_noise, dmu_x, dL_x = plan_value_and_grad(
        PX, PG, bounds, columns, n_obs, label, log_noise, w_gauss, noise_weight, mu_x, L_x)
    dw = np.empty(K + noise)
    dw[:K] = dw_gauss
    if noise:
        dw[K] = d_noise
    dmu = np.empty((K, D))
    dL = np.empty((K, D, D))
    for k in range(K):
        for r in range(D):
            dmu[k, r] = scale[r] * dmu_x[k, r]
            for col in range(D):
                dL[k, r, col] = scale[r] * dL_x[k, r, col]
    return _add_priors(params[0] + loglik, theta, K, D, ct, ordered, positions, params,
                       log_w, w, mu, sd, corr, dw, dmu, dL, grad)


@_jit
def _add_priors(lp, theta, K, D, ct, ordered, positions, params, log_w, w, mu, sd, corr,
                dw, dmu, dL, grad):
    """``lp`` (constant + log-likelihood) plus every block's log prior and log-Jacobian; the
    likelihood's gradient (``dw``, ``dmu``, ``dL``) chained through each block's transform
    into the block's slice of ``grad``. Slices and prior numbers from the table ``params``
    (:func:`prior_parameters`). Shared by the complete-data and the plan density (same
    additions, same order)."""
    dsd, dcorr = cholesky_pullback(dL, sd, corr, K, D, ct)
    # Each block: its slice [a, b) of theta and grad, as a (rows, cols) matrix where the
    # function takes one, and the index p of its prior's first number.
    a, b, _, _, _, p = _slot(params, _WEIGHTS)
    lp += dirichlet_simplex(theta[a:b], log_w, w, dw, params[p], grad[a:b])
    a, b, rows, cols, _, p = _slot(params, _MEANS)
    lp += normal_means(theta[a:b].reshape((rows, cols)), mu, dmu, params[p], ordered,
                       grad[a:b].reshape((rows, cols)))
    a, b, _, _, _, p = _slot(params, _SD)
    lp += lognormal_log(theta[a:b], sd, dsd, params[p], params[p + 1], grad[a:b])
    a, b, rows, cols, _, p = _slot(params, _CORR)
    lp += lkj_cholesky_corr(theta[a:b].reshape((rows, cols)), corr, dcorr, params[p],
                            positions, grad[a:b].reshape((rows, cols)))
    return lp


def expand(theta, K, D, ct, ordered, positions, center, scale, out, noise=0):
    """:func:`expand_values` from Python, with the layout's table of this model shape."""
    expand_values(theta, K, D, ct, ordered, noise, positions,
                  _places(int(K), int(D), int(ct), int(ordered), int(noise)), center, scale, out)


@functools.cache
def _places(K, D, ct, ordered, noise):
    """:func:`prior_parameters` of a model shape (default priors: expand reads only places)."""
    name = {code: name for name, code in COVARIANCE_CODES.items()}[ct]
    return prior_parameters(MixtureModelSpec(K, D, name, np.zeros(D), np.ones(D), bool(ordered),
                                             (), noise=bool(noise)))


@_jit
def _write(out, j, values, write):
    """``values`` (flat) into ``out`` from ``j`` if ``write``; the next free index."""
    if write:
        out[j:j + values.shape[0]] = values
        return j + values.shape[0]
    return j


@_jit
def expand_values(theta, K, D, ct, ordered, noise, positions, params, center, scale, out):
    """The trace's values at ``theta``, flat into ``out``, in the order of
    :func:`bayesgmm.layout.trace_layout`: theta, the constrained values of the blocks with a
    transform (in the layout's order), the deterministics ``means`` and ``covariances`` in data
    units (scikit-learn's shapes) and, with ``noise``, ``weights`` (the Gaussians' K) and
    ``noise_weight``. ``params``: :func:`prior_parameters`."""
    log_w, w, mu, sd, corr, L = _parameters(theta, K, D, ct, ordered, positions, params)
    j = _write(out, 0, theta, True)
    # The constrained values of the blocks with a transform, by slot (the layout's order).
    j = _write(out, j, w, _slot(params, _WEIGHTS)[4])
    j = _write(out, j, mu.ravel(), _slot(params, _MEANS)[4])
    j = _write(out, j, sd, _slot(params, _SD)[4])
    j = _write(out, j, corr.ravel(), _slot(params, _CORR)[4])
    for k in range(K):
        for d in range(D):
            out[j] = center[d] + scale[d] * mu[k, d]
            j += 1
    if ct == _DIAG:
        for k in range(K):
            for d in range(D):
                out[j] = (scale[d] * sd[k * D + d]) ** 2
                j += 1
    elif ct == _SPHERICAL:
        for k in range(K):
            out[j] = (scale[0] * sd[k]) ** 2
            j += 1
    else:
        for k in range(K if ct == _FULL else 1):
            # Sigma = S L L^T S with S = diag(scale).
            for a in range(D):
                for b in range(D):
                    acc = 0.0
                    for col in range(min(a, b) + 1):
                        acc += L[k, a, col] * L[k, b, col]
                    out[j] = scale[a] * scale[b] * acc
                    j += 1
    if noise:
        for k in range(K + 1):  # weights (K,), then noise_weight
            out[j] = w[k]
            j += 1

