"""The model's log-density and gradient as one cached numba C callback, for nutpie.

nutpie samples a PyMC model by compiling its whole PyTensor graph (priors, transforms,
likelihood, gradient) with numba. For this model that compilation, not the sampling, is the
cost: ~45 s of PyTensor's numba compile on a new machine, then ~15 s of nutpie's own wrapper in
every process. Yet the only expensive part of the density is the likelihood, which is already one
cached kernel (:func:`bayesgmm.kernels.loglik_value_and_grad`); the rest is a few dozen scalars.

This module writes that rest out by hand: the same unconstrained parameterisation and the same
log-density as :func:`bayesgmm.model.build_model` (PyMC's transforms and priors, Jacobians
included), with the gradient by the chain rule through Fisher's-identity statistics of the
kernel. It is compiled once per machine (``cache=True``) into a C callback that nutpie's Rust
sampler calls from every chain's thread, with no Python and no GIL in the loop.

The PyMC model stays the definition: tests check this density and gradient against
``model.compile_logp()`` / ``compile_dlogp()`` at random points for every covariance type.

Unconstrained layout (nutpie's order, that of ``model.free_RVs``)::

    weights_simplex__            (K - 1,)   w = softmax([y, -sum y])           (PyMC's simplex)
    means_z                      (K, D)     or, ordered_means: means_z_ordered_components__,
                                            mu_0 = v_0, mu_k = mu_(k-1) + exp(v_k)
    sd_z_log__                   (S,)       sd = exp(v); S = K D (full, diag), D (tied), K
                                            (spherical)
    corr_chol_z_cholesky_corr__  (C, m)     full C = K, tied C = 1, D > 1 only; m = D(D-1)/2.
                                            Row i of the correlation Cholesky factor is
                                            [a_i, 1, 0, ...] / |[a_i, 1]|, the entries a_i taken
                                            from the vector in PyMC's "spiral" order
                                            (:func:`correlation_positions`).

With those, log p = a sum log w + sum log N(mu | 0, s) - 1/2 sum ((v - m)/t)^2
- (2 eta + D - 1)/2 sum_i log(1 + |a_i|^2) + sum_n ll_n + constants: the Dirichlet, Normal,
LogNormal and LKJ log-densities plus the log-Jacobians of their transforms, simplified (the
LKJ exponent 2 eta - 2 + D - i and the transform's Jacobian exponent i + 1, for row i counted
from 1, add up to the same 2 eta + D - 1 for every row).

Optionally (``compile_nutpie(laplace=True)``) the callbacks work in coordinates whitened by the
curvature at the posterior mode, theta = mode + A z (:func:`laplace_whitening`).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic
from scipy.special import gammaln

try:
    from nutpie.compile_pymc import CompiledPyMCModel
except ImportError:  # pragma: no cover - a nutpie without it: building the model raises a
    CompiledPyMCModel = object  # TypeError, on which compile_nutpie("auto") falls back

from .kernels import loglik_value_and_grad

if TYPE_CHECKING:
    from .model import MixtureModelSpec

__all__ = [
    "COVARIANCE_CODES",
    "NativeMixtureModel",
    "callbacks",
    "compile_native",
    "correlation_positions",
    "expand",
    "laplace_whitening",
    "log_density_constant",
    "logp_and_gradient",
    "unconstrained_point",
]

COVARIANCE_CODES = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
_FULL, _TIED, _DIAG, _SPHERICAL = 0, 1, 2, 3
_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------
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


def _sizes(spec: MixtureModelSpec) -> tuple[int, int, int]:
    """(number of sds S, correlation blocks C, entries per block m) of a model."""
    K, D, ct = spec.n_components, spec.n_features, spec.covariance_type
    n_sd = {"full": K * D, "tied": D, "diag": K * D, "spherical": K}[ct]
    blocks = {"full": K, "tied": 1}.get(ct, 0) if D > 1 else 0
    return n_sd, blocks, D * (D - 1) // 2


def log_density_constant(spec: MixtureModelSpec) -> float:
    """The parameter-free part of the log-density (normalising constants and fixed Jacobians).

    Per point, the likelihood also carries the standardisation's log-Jacobian -sum log scale;
    that depends on the data set, so the C callback adds N times it itself.
    """
    K, D = spec.n_components, spec.n_features
    alpha, means_sd, _, sd_log_sd, eta = spec.priors
    n_sd, blocks, _ = _sizes(spec)
    # Dirichlet normaliser and the log K of the simplex transform's Jacobian.
    const = gammaln(K * alpha) - K * gammaln(alpha) + math.log(K)
    const += K * D * (-math.log(means_sd) - 0.5 * _LOG_2PI)
    const += n_sd * (-math.log(sd_log_sd) - 0.5 * _LOG_2PI)
    if blocks:
        k = np.arange(1, D)
        lkj = (D - 1) * gammaln(eta + 0.5 * (D - 1)) - np.sum(
            0.5 * k * math.log(math.pi) + gammaln(eta + 0.5 * (D - 1 - k)))
        const += blocks * lkj
    return float(const)


def _prior_parameters(spec: MixtureModelSpec) -> np.ndarray:
    alpha, means_sd, sd_median, sd_log_sd, eta = spec.priors
    return np.array([alpha, means_sd, math.log(sd_median), sd_log_sd, eta,
                     log_density_constant(spec)])


def unconstrained_point(spec: MixtureModelSpec, point: Mapping[str, np.ndarray]) -> np.ndarray:
    """The flat unconstrained vector of constrained values (the forward transforms).

    Parameters
    ----------
    spec : MixtureModelSpec
    point : mapping
        Constrained values keyed by free-variable name, as :func:`bayesgmm.model.initial_point`
        returns them (``weights``, ``means_z``, ``sd_z``, ``corr_chol_z``).

    Returns
    -------
    ndarray (n_dim,)
    """
    K, D = spec.n_components, spec.n_features
    log_w = np.log(np.asarray(point["weights"], dtype=np.float64).reshape(K))
    parts = [log_w[:-1] - log_w.mean()]
    mu = np.asarray(point["means_z"], dtype=np.float64).reshape(K, D)
    if spec.ordered_means:
        mu = np.concatenate([mu[:1], np.log(np.diff(mu, axis=0))], axis=0)
    parts.append(mu.ravel())
    parts.append(np.log(np.asarray(point["sd_z"], dtype=np.float64)).ravel())
    _, blocks, _ = _sizes(spec)
    if blocks:
        corr = np.asarray(point["corr_chol_z"], dtype=np.float64).reshape(blocks, D, D)
        rows, cols = correlation_positions(D).T
        # Row i is [a_i, 1] / norm: dividing by the diagonal recovers a_i.
        parts.append((corr[:, rows, cols] / corr[:, rows, rows]).ravel())
    return np.concatenate(parts)


# --------------------------------------------------------------------------------------------
# numba core (error_model="numpy": an extreme proposal gives inf/nan, which the sampler treats
# as a divergence, never an exception)
# --------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _n_sd(K, D, ct):
    if ct == _TIED:
        return D
    if ct == _SPHERICAL:
        return K
    return K * D


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _n_blocks(K, D, ct):
    """Correlation factors: one per component (full), one shared (tied); identity if D = 1."""
    if ct == _FULL:
        return K
    if ct == _TIED:
        return 1
    return 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _parameters(theta, K, D, ct, ordered, positions):
    """Unconstrained vector -> (log_w, w, mu, log_sd, sd, corr, L): the backward transforms.

    ``corr`` (C, D, D) holds the correlation Cholesky factors (identity when D = 1); ``L``
    (K, D, D) the lower Cholesky factors of the standardised covariances.
    """
    z = np.empty(K)
    total = 0.0
    for j in range(K - 1):
        z[j] = theta[j]
        total += theta[j]
    z[K - 1] = -total
    z_max = z.max()
    acc = 0.0
    for k in range(K):
        acc += math.exp(z[k] - z_max)
    log_w = z - (z_max + math.log(acc))
    w = np.exp(log_w)
    i = K - 1

    mu = np.empty((K, D))
    for d in range(D):
        mu[0, d] = theta[i + d]
        for k in range(1, K):
            v = theta[i + k * D + d]
            mu[k, d] = mu[k - 1, d] + math.exp(v) if ordered else v
    i += K * D

    n_sd = _n_sd(K, D, ct)
    log_sd = theta[i:i + n_sd].copy()
    sd = np.exp(log_sd)
    i += n_sd

    m = positions.shape[0]
    blocks = _n_blocks(K, D, ct)
    corr = np.zeros((blocks, D, D))
    for c in range(blocks):
        for r in range(D):
            corr[c, r, r] = 1.0
        for e in range(m):
            corr[c, positions[e, 0], positions[e, 1]] = theta[i + c * m + e]
        for r in range(1, D):
            norm = 0.0
            for col in range(r + 1):
                norm += corr[c, r, col] ** 2
            norm = math.sqrt(norm)
            for col in range(r + 1):
                corr[c, r, col] /= norm

    L = np.zeros((K, D, D))
    for k in range(K):
        for r in range(D):
            if ct == _FULL:
                for col in range(r + 1):
                    L[k, r, col] = sd[k * D + r] * corr[k, r, col]
            elif ct == _TIED:
                for col in range(r + 1):
                    L[k, r, col] = sd[r] * corr[0, r, col]
            elif ct == _DIAG:
                L[k, r, r] = sd[k * D + r]
            else:
                L[k, r, r] = sd[k]
    return log_w, w, mu, log_sd, sd, corr, L


@numba.njit(cache=True, nogil=True, error_model="numpy")
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
        :func:`correlation_positions`.
    params : ndarray (6,)
        (alpha, means_sd, log sd_median, sd_log_sd, lkj_eta, :func:`log_density_constant`).
    log_jacobian : float
        -sum log scale, added once per point (data-unit log-likelihood).
    grad : ndarray (n_dim,)
        Output.
    """
    alpha, means_sd, sd_mu, sd_sigma, eta, const = (
        params[0], params[1], params[2], params[3], params[4], params[5])
    N, D = X.shape
    log_w, w, mu, log_sd, sd, corr, L = _parameters(theta, K, D, ct, ordered, positions)
    loglik, dw, dmu, dL = loglik_value_and_grad(X, w, mu, L)
    lp = const + loglik + N * log_jacobian

    # Weights: Dirichlet + simplex Jacobian = alpha sum log w; chain rule through the softmax of
    # z = [y, -sum y]: d/dz_j = w_j (G_j - w . G) with G = d/dw, and d/dy_j = d/dz_j - d/dz_K.
    wg = 0.0
    for k in range(K):
        wg += w[k] * dw[k]
        lp += alpha * log_w[k]
    last = w[K - 1] * dw[K - 1] - w[K - 1] * wg + alpha * (1.0 - K * w[K - 1])
    for j in range(K - 1):
        grad[j] = w[j] * dw[j] - w[j] * wg + alpha * (1.0 - K * w[j]) - last
    i = K - 1

    inv_var = 1.0 / (means_sd * means_sd)
    for d in range(D):
        suffix = 0.0  # sum over k' >= k of d/dmu_k'
        for k in range(K - 1, -1, -1):
            g = dmu[k, d] - mu[k, d] * inv_var
            lp -= 0.5 * mu[k, d] * mu[k, d] * inv_var
            if not ordered:
                grad[i + k * D + d] = g
                continue
            suffix += g
            if k == 0:
                grad[i + d] = suffix
            else:
                v = theta[i + k * D + d]
                grad[i + k * D + d] = suffix * math.exp(v) + 1.0  # + the Jacobian's v
                lp += v
    i += K * D

    # Standard deviations: L = diag(sd) corr, so d/dsd_r = row r of dL . row r of corr.
    n_sd = sd.shape[0]
    dsd = np.zeros(n_sd)
    for k in range(K):
        for r in range(D):
            if ct == _FULL:
                for col in range(r + 1):
                    dsd[k * D + r] += dL[k, r, col] * corr[k, r, col]
            elif ct == _TIED:
                for col in range(r + 1):
                    dsd[r] += dL[k, r, col] * corr[0, r, col]
            elif ct == _DIAG:
                dsd[k * D + r] = dL[k, r, r]
            else:
                dsd[k] += dL[k, r, r]
    inv_sd_var = 1.0 / (sd_sigma * sd_sigma)
    for j in range(n_sd):
        dev = log_sd[j] - sd_mu
        lp -= 0.5 * dev * dev * inv_sd_var
        grad[i + j] = dsd[j] * sd[j] - dev * inv_sd_var
    i += n_sd

    # Correlations: row r = [a, 1] / n with n = |[a, 1]| = 1 / corr[r, r], so
    # d/da_c = (G_rc - a_c corr[r, r] (G_r . corr_r)) corr[r, r]; LKJ + Jacobian add
    # (2 eta + D - 1) log corr[r, r] per row.
    m = positions.shape[0]
    exponent = 2.0 * eta + D - 1.0
    G = np.empty((D, D))
    dot = np.empty(D)
    for c in range(corr.shape[0] if m > 0 else 0):
        for r in range(D):
            for col in range(D):
                if ct == _FULL:
                    G[r, col] = dL[c, r, col] * sd[c * D + r]
                else:
                    acc = 0.0
                    for k in range(K):
                        acc += dL[k, r, col]
                    G[r, col] = acc * sd[r]
            dot[r] = 0.0
            for col in range(r + 1):
                dot[r] += G[r, col] * corr[c, r, col]
            lp += exponent * math.log(corr[c, r, r])
        for e in range(m):
            r, col = positions[e, 0], positions[e, 1]
            diag = corr[c, r, r]
            a = theta[i + c * m + e]
            grad[i + c * m + e] = ((G[r, col] - a * diag * dot[r]) * diag
                                   - exponent * a * diag * diag)
    return lp


@numba.njit(cache=True, nogil=True, error_model="numpy")
def expand(theta, K, D, ct, ordered, positions, center, scale, out):
    """The trace's values at ``theta``, flat into ``out``, in the order of
    ``model.unobserved_value_vars``: theta itself, then the constrained free variables
    (``weights``, ``means_z`` if ordered, ``sd_z``, ``corr_chol_z`` if any), then the
    deterministics ``means`` and ``covariances`` in data units (scikit-learn's shapes)."""
    log_w, w, mu, log_sd, sd, corr, L = _parameters(theta, K, D, ct, ordered, positions)
    j = 0
    for v in theta:
        out[j] = v
        j += 1
    for v in w:
        out[j] = v
        j += 1
    if ordered:
        for v in mu.ravel():
            out[j] = v
            j += 1
    for v in sd:
        out[j] = v
        j += 1
    if positions.shape[0] > 0:
        for v in corr.ravel():
            out[j] = v
            j += 1
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


# --------------------------------------------------------------------------------------------
# C callbacks for nutpie
# --------------------------------------------------------------------------------------------
@intrinsic
def _void_pointer(typingctx, address):
    """An int64 address as a void pointer (for numba.carray)."""
    if address != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], llvm_ir.IntType(8).as_pointer())

    return types.voidptr(types.int64), codegen


# The user-data block nutpie hands to the callbacks: int64 fields.
(_X, _N, _D, _K, _CT, _ORDERED, _POSITIONS, _M, _PARAMS, _CENTER, _SCALE, _NDIM, _NEXP,
 _WHITENED, _SHIFT, _MAP) = range(16)
_HEADER = 16

_LOGP_SIGNATURE = types.int64(types.uint64, types.CPointer(types.double),
                              types.CPointer(types.double), types.CPointer(types.double),
                              types.voidptr)
_EXPAND_SIGNATURE = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                                types.CPointer(types.double), types.voidptr)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _unpack_header(user_data):
    h = numba.carray(user_data, (_HEADER,), np.int64)
    X = numba.carray(_void_pointer(h[_X]), (h[_N], h[_D]), np.float64)
    positions = numba.carray(_void_pointer(h[_POSITIONS]), (h[_M], 2), np.int64)
    params = numba.carray(_void_pointer(h[_PARAMS]), (6,), np.float64)
    center = numba.carray(_void_pointer(h[_CENTER]), (h[_D],), np.float64)
    scale = numba.carray(_void_pointer(h[_SCALE]), (h[_D],), np.float64)
    return h, X, positions, params, center, scale


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _to_theta(h, z):
    """The model's unconstrained point: z itself, or shift + A z when the sampler works in
    Laplace-whitened coordinates (see :func:`laplace_whitening`); returns (theta, A or None)."""
    if h[_WHITENED] == 0:
        return z.copy(), np.zeros((0, 0))
    n = z.shape[0]
    shift = numba.carray(_void_pointer(h[_SHIFT]), (n,), np.float64)
    A = numba.carray(_void_pointer(h[_MAP]), (n, n), np.float64)
    theta = shift.copy()
    for i in range(n):
        for j in range(n):
            theta[i] += A[i, j] * z[j]
    return theta, A


@functools.cache
def callbacks() -> tuple[Any, Any]:
    """The (log-density, expand) C callbacks: numba cfuncs, compiled on first use (~20 s on a
    new machine, then loaded from numba's disk cache) rather than when the module is imported.

    Return codes as in nutpie's own numba callbacks: 3 and 4 (non-finite gradient or value) are
    recoverable (a divergence), the others are errors.
    """

    @numba.cfunc(_LOGP_SIGNATURE, cache=True)
    def logp_callback(dim, x_, out_, logp_, user_data):
        try:
            h, X, positions, params, center, scale = _unpack_header(user_data)
            if dim != h[_NDIM]:
                return -1
            theta, A = _to_theta(h, numba.carray(x_, (dim,)))
            grad = numba.carray(out_, (dim,))
            log_jacobian = 0.0
            for d in range(h[_D]):
                log_jacobian -= math.log(scale[d])
            grad_theta = np.empty(dim)
            value = logp_and_gradient(theta, X, h[_K], h[_CT], h[_ORDERED], positions, params,
                                      log_jacobian, grad_theta)
            if A.shape[0] == 0:
                grad[:] = grad_theta
            else:  # d/dz = A^T d/dtheta
                for j in range(dim):
                    acc = 0.0
                    for i in range(dim):
                        acc += A[i, j] * grad_theta[i]
                    grad[j] = acc
            numba.carray(logp_, (1,))[0] = value
            for g in grad:
                if not math.isfinite(g):
                    return 3
            if not math.isfinite(value):
                return 4
        except Exception:  # noqa: BLE001
            return 1
        return 0

    @numba.cfunc(_EXPAND_SIGNATURE, cache=True)
    def expand_callback(dim, n_expanded, x_, out_, user_data):
        try:
            h, X, positions, params, center, scale = _unpack_header(user_data)
            if dim != h[_NDIM] or n_expanded != h[_NEXP]:
                return -1
            theta, _ = _to_theta(h, numba.carray(x_, (dim,)))
            expand(theta, h[_K], h[_D], h[_CT], h[_ORDERED], positions, center, scale,
                   numba.carray(out_, (n_expanded,)))
        except Exception:  # noqa: BLE001
            return -2
        return 0

    return logp_callback, expand_callback


# --------------------------------------------------------------------------------------------
# nutpie model
# --------------------------------------------------------------------------------------------
_DATA_NAMES = ("x_std", "x_center", "x_scale")


def _header(arrays: Mapping[str, np.ndarray], spec: MixtureModelSpec, n_dim: int,
            n_expanded: int) -> np.ndarray:
    X = arrays["x_std"]
    header = np.zeros(_HEADER, dtype=np.int64)
    header[_X] = X.ctypes.data
    header[_N], header[_D] = X.shape
    header[_K] = spec.n_components
    header[_CT] = COVARIANCE_CODES[spec.covariance_type]
    header[_ORDERED] = int(spec.ordered_means)
    header[_POSITIONS] = arrays["positions"].ctypes.data
    header[_M] = arrays["positions"].shape[0]
    header[_PARAMS] = arrays["params"].ctypes.data
    header[_CENTER] = arrays["x_center"].ctypes.data
    header[_SCALE] = arrays["x_scale"].ctypes.data
    header[_NDIM], header[_NEXP] = n_dim, n_expanded
    if "laplace_shift" in arrays:
        header[_WHITENED] = 1
        header[_SHIFT] = arrays["laplace_shift"].ctypes.data
        header[_MAP] = arrays["laplace_map"].ctypes.data
    return header


def _frozen(value: Any, dtype=np.float64) -> np.ndarray:
    array = np.array(value, dtype=dtype, order="C", copy=True)
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True)
class NativeMixtureModel(CompiledPyMCModel):
    """nutpie's numba model, its callbacks and user data supplied by this module.

    ``shared_data`` holds the arrays the user-data header points at; :meth:`with_data` swaps the
    data set (``x_std``, ``x_center``, ``x_scale``) with no compilation.
    """

    spec: Any = dataclasses.field(default=None, kw_only=True)

    @property
    def whitened(self) -> bool:
        """Whether the sampler works in Laplace-whitened coordinates (:meth:`with_laplace`)."""
        return "laplace_shift" in self.shared_data

    def density(self):
        """theta -> (log p, gradient) at a flat unconstrained point, on the current data."""
        spec, arrays = self.spec, self.shared_data
        args = (arrays["x_std"], spec.n_components, COVARIANCE_CODES[spec.covariance_type],
                int(spec.ordered_means), arrays["positions"], arrays["params"],
                -float(np.sum(np.log(arrays["x_scale"]))))

        def density(theta):
            grad = np.empty(self._n_dim)
            value = logp_and_gradient(np.ascontiguousarray(theta, dtype=np.float64), *args,
                                      grad)
            return value, grad

        return density

    def with_laplace(self, theta: np.ndarray):
        """Sample in coordinates whitened by the curvature at the posterior mode.

        The mode is found by damped Newton from ``theta`` (:func:`laplace_whitening`); the
        sampler then works on z with theta = mode + A z, A A^T the inverse negative Hessian
        there, so nutpie's diagonal adaptation starts from a metric that already knows the
        posterior's scales and correlations (more ESS per gradient, less robust on
        non-Gaussian posteriors: see ``compile_nutpie(laplace=...)``). Returns the model
        unchanged when no usable curvature is found (non-finite values, no positive
        curvature).
        """
        found = laplace_whitening(self.density(), theta)
        if found is None:
            return self
        arrays = dict(self.shared_data)
        for name, value in zip(("laplace_shift", "laplace_map", "laplace_inverse"), found,
                               strict=True):
            arrays[name] = _frozen(value)
        header = _header(arrays, self.spec, self._n_dim, self.n_expanded)
        return dataclasses.replace(self, shared_data=arrays, user_data=header)

    def to_sampler(self, theta: np.ndarray) -> np.ndarray:
        """The sampler's coordinates of the unconstrained point ``theta`` (z if whitened)."""
        if not self.whitened:
            return np.array(theta, dtype=np.float64)
        return self.shared_data["laplace_inverse"] @ (theta - self.shared_data["laplace_shift"])

    def with_data(self, **updates):
        """Re-point the model at another data set (no compilation). A Laplace whitening
        belongs to the data it was computed on, so it is dropped."""
        unknown = set(updates) - set(_DATA_NAMES)
        if unknown:
            raise KeyError(f"Unknown shared variable(s): {sorted(unknown)}")
        arrays = {name: value for name, value in self.shared_data.items()
                  if not name.startswith("laplace_")}
        for name, value in updates.items():
            new = _frozen(value)
            if new.ndim != arrays[name].ndim:
                raise ValueError(f"Shared variable {name} must have rank {arrays[name].ndim}")
            arrays[name] = new
        D = self.spec.n_features
        if (arrays["x_std"].shape[1], arrays["x_center"].shape, arrays["x_scale"].shape) != (
                D, (D,), (D,)):
            raise ValueError(f"the model has {D} features; the new data do not match")
        header = _header(arrays, self.spec, self._n_dim, self.n_expanded)
        return dataclasses.replace(self, shared_data=arrays, user_data=header)


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


def compile_native(
    spec: MixtureModelSpec,
    data: Mapping[str, np.ndarray],
    *,
    names: Sequence[str],
    shapes: Sequence[tuple[int, ...]],
    dims: Mapping[str, tuple[str, ...]],
    coords: Mapping[str, Any],
    reparameterized_names: Sequence[str],
    initial_point_func,
):
    """A nutpie model that evaluates the mixture's density through the cached C callbacks.

    Parameters
    ----------
    spec : MixtureModelSpec
    data : mapping
        ``x_std`` (N, D), ``x_center`` (D,), ``x_scale`` (D,).
    names, shapes : sequence
        The trace's variables in the order :func:`expand` writes them.
    dims, coords : mapping
        As nutpie expects them (``coords`` includes ``unconstrained_parameter``).
    reparameterized_names : sequence of str
        Value variables with a transform (nutpie keeps them out of the posterior group).
    initial_point_func : callable
        seed -> flat unconstrained start.

    Returns
    -------
    NativeMixtureModel
    """
    arrays = {name: _frozen(data[name]) for name in _DATA_NAMES}
    arrays["positions"] = _frozen(correlation_positions(spec.n_features), np.int64)
    arrays["params"] = _frozen(_prior_parameters(spec))
    n_sd, blocks, m = _sizes(spec)
    n_dim = spec.n_components - 1 + spec.n_components * spec.n_features + n_sd + blocks * m
    sizes = [math.prod(shape) for shape in shapes]
    n_expanded = sum(sizes)
    slices = [slice(a, b) for a, b in itertools.pairwise(np.cumsum([0, *sizes]).tolist())]
    logp_callback, expand_callback = callbacks()
    return NativeMixtureModel(
        _n_dim=n_dim,
        dims=dict(dims),
        _coords=dict(coords),
        _shapes={name: tuple(shape) for name, shape in zip(names, shapes, strict=True)},
        compiled_logp_func=logp_callback,
        compiled_expand_func=expand_callback,
        initial_point_func=initial_point_func,
        shared_data=arrays,
        shared_var_keys={},
        user_data=_header(arrays, spec, n_dim, n_expanded),
        n_expanded=n_expanded,
        shape_info=(list(names), slices, [tuple(s) for s in shapes]),
        logp_func=None,
        expand_func=None,
        reparameterized_names=list(reparameterized_names),
        spec=spec,
    )
