"""The E-step kernel: the one implementation of the mixture's per-point math.

For parameters (w, mu_k, Sigma_k) and optional per-point weights g_n (default 1), one pass over
the data gives

- l_nk = log w_k + log N(x_n | mu_k, Sigma_k)            (Cholesky of the precision)
- ll_n = logsumexp_k l_nk,  r_nk = exp(l_nk - ll_n)      (pointwise log-lik., responsibilities)
- N_k = sum_n g_n r_nk
- S1c_k = sum_n g_n r_nk (x_n - mu_k)                     (first moment about the current mean)
- C_k  = sum_n g_n r_nk (x_n - mu_k)(x_n - mu_k)^T        (centred scatter about the current mean)

Statistics are accumulated about the current means because that is numerically safe (no
cancellation between large raw moments) and it is exactly what both consumers need:

- EM's M-step: xbar_k = mu_k + S1c_k / N_k and W_k = C_k - S1c_k S1c_k^T / N_k.
- Fisher's identity for the gradient of L = sum_n g_n ll_n (see :func:`loglik_gradient`):
  dL/dmu_k = Sigma_k^-1 S1c_k and dL/dSigma_k = 1/2 Sigma_k^-1 (C_k - N_k Sigma_k) Sigma_k^-1.

The raw statistics S1_k = sum r x and S2_k = sum r x x^T are available as properties of
:class:`SufficientStatistics`.

Every covariance type is evaluated through one "full form": an upper-triangular precision
Cholesky factor U_k of shape (D, D) with U_k U_k^T = Sigma_k^-1 (scikit-learn's convention), so
that log N(x | mu, Sigma) = -D/2 log(2 pi) + sum_d log U_dd - 1/2 |(x - mu) U|^2.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

# numba's OpenMP threading layer busy-waits between parallel regions by default; on a machine
# with other work (2 cores, sampler chains, BLAS) that made the parallel E-step 10-75x slower
# than the serial one (measured: N=1e5, D=5: 184-1800 ms vs 16-35 ms). Passive waiting brings
# it back. Must be set before the OpenMP runtime loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
import numpy as np  # noqa: E402
from scipy import linalg  # noqa: E402

_LOG_2PI = math.log(2.0 * math.pi)
# Points per block: the unit of work of the parallel reduction. Blocks depend only on N (never on
# the thread count), so serial and parallel runs sum in the same order and agree bitwise.
_BLOCK = 2048
# Below this many point-component pairs the thread start-up costs more than it saves.
_PARALLEL_MIN_PAIRS = 200_000


# --------------------------------------------------------------------------------------------
# numba core
# --------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, fastmath={"contract", "arcp", "nsz"})
def _estep_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp, nk, s1c, c):
    """Accumulate one block [start, stop) into nk, s1c, c; return sum_n g_n ll_n.

    ``pointwise`` has length N or 0 (not wanted); ``resp`` has N rows or 0 (not wanted).
    Only the lower triangle of ``c`` is written; the caller symmetrises.
    """
    D = X.shape[1]
    K = means.shape[0]
    const = -0.5 * D * _LOG_2PI
    want_pointwise = pointwise.shape[0] > 0
    want_resp = resp.shape[0] > 0
    lk = np.empty(K)
    diff = np.empty((K, D))
    total = 0.0
    for n in range(start, stop):
        mx = -np.inf
        for k in range(K):
            q = 0.0
            for d in range(D):
                diff[k, d] = X[n, d] - means[k, d]
            for j in range(D):  # y_j = sum_{i<=j} diff_i U_ij (U upper triangular)
                s = 0.0
                for i in range(j + 1):
                    s += diff[k, i] * U[k, i, j]
                q += s * s
            lk[k] = log_w[k] + log_det[k] + const - 0.5 * q
            if lk[k] > mx:
                mx = lk[k]
        if mx == -np.inf:  # underflow everywhere: the point is infinitely unlikely
            if want_pointwise:
                pointwise[n] = -np.inf
            total += -np.inf if g[n] > 0 else 0.0
            continue
        tot = 0.0
        for k in range(K):
            lk[k] = math.exp(lk[k] - mx)
            tot += lk[k]
        ll = mx + math.log(tot)
        if want_pointwise:
            pointwise[n] = ll
        gn = g[n]
        total += gn * ll
        inv = 1.0 / tot
        for k in range(K):
            r = lk[k] * inv
            if want_resp:
                resp[n, k] = r
            gr = gn * r
            nk[k] += gr
            for a in range(D):
                ga = gr * diff[k, a]
                s1c[k, a] += ga
                for b in range(a + 1):
                    c[k, a, b] += ga * diff[k, b]
    return total


@numba.njit(cache=True, nogil=True)
def _symmetrise(c):
    K, D = c.shape[0], c.shape[1]
    for k in range(K):
        for a in range(D):
            for b in range(a):
                c[k, b, a] = c[k, a, b]


@numba.njit(cache=True, nogil=True)
def estep_serial(X, g, log_w, means, U, log_det, pointwise, resp):
    """One pass, one thread. Safe to call from many threads at once (the samplers' chains).

    Returns (total, nk, s1c, c); fills ``pointwise``/``resp`` when they are not empty.
    """
    N, D = X.shape
    K = means.shape[0]
    n_blocks = max(1, (N + _BLOCK - 1) // _BLOCK)
    nk = np.zeros(K)
    s1c = np.zeros((K, D))
    c = np.zeros((K, D, D))
    total = 0.0
    for b in range(n_blocks):
        bnk = np.zeros(K)
        bs1 = np.zeros((K, D))
        bc = np.zeros((K, D, D))
        start, stop = b * N // n_blocks, (b + 1) * N // n_blocks
        total += _estep_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp,
                              bnk, bs1, bc)
        nk += bnk
        s1c += bs1
        c += bc
    _symmetrise(c)
    return total, nk, s1c, c


@numba.njit(cache=True, parallel=True)
def estep_parallel(X, g, log_w, means, U, log_det, pointwise, resp):
    """Same as :func:`estep_serial` (bitwise), with the blocks spread over numba's threads."""
    N, D = X.shape
    K = means.shape[0]
    n_blocks = max(1, (N + _BLOCK - 1) // _BLOCK)
    bnk = np.zeros((n_blocks, K))
    bs1 = np.zeros((n_blocks, K, D))
    bc = np.zeros((n_blocks, K, D, D))
    btot = np.zeros(n_blocks)
    for b in numba.prange(n_blocks):
        start, stop = b * N // n_blocks, (b + 1) * N // n_blocks
        btot[b] = _estep_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp,
                               bnk[b], bs1[b], bc[b])
    nk = np.zeros(K)
    s1c = np.zeros((K, D))
    c = np.zeros((K, D, D))
    total = 0.0
    for b in range(n_blocks):  # fixed order: same sum as the serial path
        total += btot[b]
        nk += bnk[b]
        s1c += bs1[b]
        c += bc[b]
    _symmetrise(c)
    return total, nk, s1c, c


@numba.njit(cache=True, nogil=True)
def precision_from_covariance_cholesky(L):
    """Upper-triangular precision factors U_k = L_k^-T and log det U_k, from lower L (K, D, D)."""
    K, D = L.shape[0], L.shape[1]
    U = np.zeros((K, D, D))
    log_det = np.zeros(K)
    for k in range(K):
        # Solve L M = I column by column (forward substitution); U = M^T.
        for col in range(D):
            for i in range(col, D):
                s = 1.0 if i == col else 0.0
                for m in range(col, i):
                    s -= L[k, i, m] * U[k, col, m]
                U[k, col, i] = s / L[k, i, i]
        for d in range(D):
            log_det[k] -= math.log(L[k, d, d])
    return U, log_det


@numba.njit(cache=True, nogil=True)
def gradient_from_statistics(weights, L, U, nk, s1c, c):
    """Fisher's identity: gradient of L = sum_n g_n ll_n from the kernel's statistics.

    Parameters are in full form: ``L`` (K, D, D) lower Cholesky factors of the covariances and
    ``U = L^-T``. Returns (d/dweights (K,), d/dmeans (K, D), d/dL (K, D, D) lower-triangular):

    - dL/dw_k = N_k / w_k (the simplex constraint is the caller's chain rule)
    - dL/dmu_k = Sigma_k^-1 S1c_k
    - dL/dL_k = tril(2 G_k L_k) with G_k = 1/2 Sigma^-1 (C_k - N_k Sigma_k) Sigma^-1, which
      simplifies (Sigma^-1 L = L^-T) to tril(L^-T (L^-1 C_k L^-T - N_k I)).
    """
    K, D = L.shape[0], L.shape[1]
    dw = nk / weights
    dmu = np.zeros((K, D))
    dL = np.zeros((K, D, D))
    for k in range(K):
        Uk = U[k]
        # Sigma^-1 = U U^T
        prec = Uk @ Uk.T
        dmu[k] = prec @ s1c[k]
        Linv = Uk.T  # L^-1 (lower)
        A = Linv @ c[k] @ Uk  # L^-1 C L^-T
        for d in range(D):
            A[d, d] -= nk[k]
        full = Uk @ A  # L^-T (A - N I)
        for a in range(D):
            for b in range(a + 1):
                dL[k, a, b] = full[a, b]
    return dw, dmu, dL


@numba.njit(cache=True, nogil=True)
def loglik_value_and_grad(X, weights, means, L):
    """Total log-likelihood and its gradient w.r.t. (weights, means, L) in one pass.

    The model's hot path: one E-step pass plus O(K D^3) work, no autodiff graph over N x K.
    """
    U, log_det = precision_from_covariance_cholesky(L)
    N = X.shape[0]
    g = np.ones(N)
    empty_pw = np.empty(0)
    empty_resp = np.empty((0, means.shape[0]))
    total, nk, s1c, c = estep_serial(X, g, np.log(weights), means, U, log_det, empty_pw,
                                     empty_resp)
    dw, dmu, dL = gradient_from_statistics(weights, L, U, nk, s1c, c)
    return total, dw, dmu, dL


@numba.njit(cache=True, nogil=True)
def loglik_pointwise(X, weights, means, L):
    """Pointwise marginal log-density ll_n (N,) at full-form parameters."""
    U, log_det = precision_from_covariance_cholesky(L)
    N = X.shape[0]
    pointwise = np.empty(N)
    estep_serial(X, np.ones(N), np.log(weights), means, U, log_det, pointwise,
                 np.empty((0, means.shape[0])))
    return pointwise


# --------------------------------------------------------------------------------------------
# Python-level API
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SufficientStatistics:
    """Weighted statistics of one E-step, accumulated about the means it was evaluated at.

    Attributes
    ----------
    nk : ndarray (K,)
        sum_n g_n r_nk.
    s1c : ndarray (K, D)
        sum_n g_n r_nk (x_n - mu_k).
    c : ndarray (K, D, D)
        sum_n g_n r_nk (x_n - mu_k)(x_n - mu_k)^T.
    centre : ndarray (K, D)
        The means mu_k the statistics are taken about.
    """

    nk: np.ndarray
    s1c: np.ndarray
    c: np.ndarray
    centre: np.ndarray

    @property
    def s1(self) -> np.ndarray:
        """sum_n g_n r_nk x_n, shape (K, D)."""
        return self.s1c + self.nk[:, None] * self.centre

    @property
    def s2(self) -> np.ndarray:
        """sum_n g_n r_nk x_n x_n^T, shape (K, D, D)."""
        m, s = self.centre, self.s1c
        return (self.c + s[:, :, None] * m[:, None, :] + m[:, :, None] * s[:, None, :]
                + self.nk[:, None, None] * m[:, :, None] * m[:, None, :])

    @property
    def component_means(self) -> np.ndarray:
        """Responsibility-weighted means xbar_k = mu_k + S1c_k / N_k (K, D)."""
        return self.centre + self.s1c / self.nk[:, None]

    @property
    def scatter(self) -> np.ndarray:
        """W_k = sum_n g_n r_nk (x_n - xbar_k)(x_n - xbar_k)^T (K, D, D)."""
        s = self.s1c
        return self.c - s[:, :, None] * s[:, None, :] / self.nk[:, None, None]


@dataclass(frozen=True)
class EStep:
    """Result of :func:`estep`.

    Attributes
    ----------
    log_likelihood : float
        sum_n g_n ll_n.
    stats : SufficientStatistics
    pointwise : ndarray (N,) or None
        ll_n, the marginal mixture log-density of each point (unweighted).
    resp : ndarray (N, K) or None
        Responsibilities r_nk (unweighted; rows sum to one).
    """

    log_likelihood: float
    stats: SufficientStatistics
    pointwise: np.ndarray | None = None
    resp: np.ndarray | None = None


def estep(
    X: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    precisions_cholesky: np.ndarray,
    covariance_type: str,
    *,
    sample_weight: np.ndarray | None = None,
    return_pointwise: bool = False,
    return_resp: bool = False,
    parallel: bool | None = None,
) -> EStep:
    """The E-step kernel: log-likelihood, optional pointwise values/responsibilities, statistics.

    Parameters
    ----------
    X : ndarray (N, D), float64
        Validated data (no checks here: callers validate once at the public entry point).
    weights : ndarray (K,)
    means : ndarray (K, D)
    precisions_cholesky : ndarray
        scikit-learn's shapes: full (K, D, D), tied (D, D), diag (K, D), spherical (K,).
    covariance_type : {"full", "tied", "diag", "spherical"}
    sample_weight : ndarray (N,), optional
        Per-point weights g_n (frequency weights, or an upstream gradient); default 1.
    return_pointwise, return_resp : bool
    parallel : bool, optional
        Spread the pass over numba's threads; default: when N*K is large enough to pay off.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    N = X.shape[0]
    K, D = means.shape
    U = full_precision_cholesky(precisions_cholesky, covariance_type, K, D)
    log_det = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    g = np.ones(N) if sample_weight is None else np.ascontiguousarray(sample_weight, np.float64)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 is a component never chosen
        log_w = np.log(np.asarray(weights, dtype=np.float64))
    pointwise = np.empty(N if return_pointwise else 0)
    resp = np.empty((N if return_resp else 0, K))
    if parallel is None:
        parallel = N * K >= _PARALLEL_MIN_PAIRS and numba.get_num_threads() > 1
    run = estep_parallel if parallel else estep_serial
    total, nk, s1c, c = run(X, g, log_w, np.ascontiguousarray(means, np.float64), U, log_det,
                            pointwise, resp)
    stats = SufficientStatistics(nk=nk, s1c=s1c, c=c, centre=np.array(means, dtype=np.float64))
    return EStep(
        log_likelihood=float(total),
        stats=stats,
        pointwise=pointwise if return_pointwise else None,
        resp=resp if return_resp else None,
    )


def full_precision_cholesky(prec_chol: np.ndarray, covariance_type: str, K: int, D: int):
    """Expand scikit-learn-shaped precision Cholesky factors to full form (K, D, D)."""
    prec_chol = np.asarray(prec_chol, dtype=np.float64)
    if covariance_type == "full":
        return np.ascontiguousarray(prec_chol)
    if covariance_type == "tied":
        return np.ascontiguousarray(np.broadcast_to(prec_chol, (K, D, D)))
    eye = np.eye(D)
    if covariance_type == "diag":
        return np.ascontiguousarray(prec_chol[:, :, None] * eye)
    if covariance_type == "spherical":
        return np.ascontiguousarray(prec_chol[:, None, None] * eye)
    raise ValueError(f"unknown covariance_type {covariance_type!r}")


def precisions_cholesky(covariances: np.ndarray, covariance_type: str) -> np.ndarray:
    """Upper-triangular precision Cholesky factors in scikit-learn's shapes.

    Raises ``ValueError`` naming the component when a covariance is not positive definite.
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    if covariance_type in ("full", "tied"):
        covs = covariances[None] if covariance_type == "tied" else covariances
        chol = np.empty_like(covs)
        for k, cov in enumerate(covs):
            try:
                chol[k] = linalg.cholesky(cov, lower=True)
            except linalg.LinAlgError:
                raise ValueError(
                    f"covariance of component {k} is not positive definite; increase reg_covar"
                ) from None
        # L^-T by numba's substitution, not scipy's solve_triangular: LAPACK's trtrs wakes
        # OpenBLAS's threads even for a 2x2 solve, which costs milliseconds per call on a busy
        # machine (EM calls this every iteration).
        out, _ = precision_from_covariance_cholesky(chol)
        return out[0] if covariance_type == "tied" else out
    if np.any(covariances <= 0):
        raise ValueError("variances must be positive; increase reg_covar")
    return 1.0 / np.sqrt(covariances)


def to_full_covariances(covariances: np.ndarray, covariance_type: str, K: int,
                        D: int) -> np.ndarray:
    """Covariances in full form (K, D, D) from scikit-learn's per-type shapes."""
    covariances = np.asarray(covariances, dtype=np.float64)
    if covariance_type == "full":
        return covariances.copy()
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (K, D, D)).copy()
    if covariance_type == "diag":
        return covariances[:, :, None] * np.eye(D)
    if covariance_type == "spherical":
        return covariances[:, None, None] * np.eye(D)
    raise ValueError(f"unknown covariance_type {covariance_type!r}")


@numba.njit(cache=True, parallel=True)
def pointwise_over_draws(X, weights, means, L, want_resp):
    """Per-draw pointwise log-density (S, N) and, if asked, responsibilities (S, N, K).

    ``weights`` (S, K), ``means`` (S, K, D), ``L`` (S, K, D, D): S posterior draws in full form.
    Draws run in parallel; each is the serial E-step kernel.
    """
    S = weights.shape[0]
    N = X.shape[0]
    K = weights.shape[1]
    out = np.empty((S, N))
    resp = np.empty((S if want_resp else 0, N, K))
    g = np.ones(N)
    for s in numba.prange(S):
        U, log_det = precision_from_covariance_cholesky(L[s])
        r = resp[s] if want_resp else np.empty((0, K))
        estep_serial(X, g, np.log(weights[s]), means[s], U, log_det, out[s], r)
    return out, resp
