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
- Fisher's identity for the gradient of L = sum_n g_n ll_n (see :func:`gradient_from_statistics`):
  dL/dmu_k = Sigma_k^-1 S1c_k and dL/dSigma_k = 1/2 Sigma_k^-1 (C_k - N_k Sigma_k) Sigma_k^-1.

The raw statistics S1_k = sum r x and S2_k = sum r x x^T are available as properties of
:class:`SufficientStatistics`.

Every covariance type is evaluated through one "full form": an upper-triangular precision
Cholesky factor U_k of shape (D, D) with U_k U_k^T = Sigma_k^-1 (scikit-learn's convention), so
that log N(x | mu, Sigma) = -D/2 log(2 pi) + sum_d log U_dd - 1/2 |(x - mu) U|^2.

Implementation (:func:`_estep_block`): fixed blocks of points, each processed in chunks in
structure-of-arrays form so that every inner loop runs over points and LLVM vectorises it, with
exp and log written as vectorisable polynomials (:func:`_exp_nonpos`, :func:`_log_normal`) and
sums over points kept per SIMD-friendly lane, folded in a fixed order: serial and parallel
drivers give bitwise-equal results.

Where it sits: the math layer; imports only :mod:`bayesgmm.covariance` (per-type shapes and the
full form) and :mod:`bayesgmm._numba_cache` (numba's cache keys then cover imported sources).
One module of over 500 lines (~1,100) on purpose: :mod:`bayesgmm.ops` salts
PyTensor's numba cache with a hash of this file, because cached callers embed the kernel's
machine code; keeping every njit function a cached caller can reach in this one file keeps that
salt complete.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic

# _numba_cache: numba's cache keys then cover the imported sources too (before any njit).
from . import _numba_cache, covariance  # noqa: F401
from ._numba_cache import jit

_LOG_2PI = math.log(2.0 * math.pi)
# Points per block: the unit of work of the parallel reduction. Blocks depend only on N (never on
# the thread count), so serial and parallel runs sum in the same order and agree bitwise.
_BLOCK = 2048
# Below this many point-component pairs the thread start-up costs more than it saves.
_PARALLEL_MIN_PAIRS = 200_000


@functools.cache
def passive_thread_wait() -> None:
    """Ask numba's OpenMP threads to sleep, not spin, between parallel regions.

    numba's OpenMP threading layer busy-waits between parallel regions by default; on a machine
    with other work (2 cores, sampler chains, BLAS) that made the parallel E-step 10-75x slower
    than the serial one (measured: N=1e5, D=5: 184-1800 ms vs 16-35 ms). Passive waiting
    brings it back. The OpenMP runtime reads ``OMP_WAIT_POLICY`` once, when numba first starts
    its threads, so this runs before the kernel's first parallel call, rather than as a side
    effect of importing the package: it sets the variable, starts the threads (the runtime
    reads it then) and removes it again, so that it is not left in the process's environment
    for its children and other OpenMP runtimes (packager QA). A user's own setting wins and
    stays; once numba's threads are running it does nothing.
    """
    if _numba_cache.threads_started():
        return
    given = "OMP_WAIT_POLICY" in os.environ
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        numba.get_num_threads()  # starts the threads, which read the variable now
    finally:
        if not given:
            os.environ.pop("OMP_WAIT_POLICY", None)


def _parallel_threads() -> int:
    """numba's thread count, its threads started to wait passively (see above)."""
    passive_thread_wait()
    return numba.get_num_threads()


# A process forked from one whose OpenMP threads ran (multiprocessing's default on Linux)
# cannot start them again: numba aborts the child ("fork() called from a process already using
# GNU OpenMP, this is unsafe"), and a multiprocessing.Pool then hangs on the lost task (QA, a
# pipeline: any fit_bayes, or fit_em at N*K >= 200,000, in the parent). Such a child runs the
# kernels serially instead: the same numbers (the parallel kernels sum in the serial order), the
# pool's processes being the parallelism there.
_FORKED_AFTER_OPENMP = False


def _note_fork() -> None:
    global _FORKED_AFTER_OPENMP
    try:
        layer = numba.threading_layer()  # raises before the parent started any threads
    except ValueError:
        return
    _FORKED_AFTER_OPENMP = _FORKED_AFTER_OPENMP or layer == "omp"


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_note_fork)


def threads_usable() -> bool:
    """Whether the parallel kernels may run here (not in a child forked after OpenMP ran)."""
    return not _FORKED_AFTER_OPENMP


def kernel_array(values, dtype=np.float64) -> np.ndarray:
    """``values`` as every compiled kernel takes its arrays: C-contiguous and writeable, of
    ``dtype`` (a copy only where it is not). numba types a read-only array (a saved result's,
    a broadcast view) and a strided one apart from a plain one, and compiles each kernel
    again for each (5-15 s each, on first use on a machine, where ``bayesgmm warm`` covered
    only the plain one: stop 69 found the tests compiling ~60 s of such variants)."""
    return np.require(values, dtype, ("C", "W"))


# The serial fallbacks' logarithms, taken by numba as in the parallel kernels (libm): NumPy's
# own differ in the last bit for ~1 value in 2,000 (review), and the fallback must give the
# parallel kernels' numbers exactly.
@jit()
def _log(values):
    return np.log(values)


@jit()
def _log_or_minus_inf(value):
    return math.log(value) if value > 0 else -np.inf


# --------------------------------------------------------------------------------------------
# numba core
# --------------------------------------------------------------------------------------------
# Points per chunk: a block is processed chunk by chunk in structure-of-arrays form, every inner
# loop running over the chunk's points so that LLVM vectorises it (AVX2: 4 doubles at a time).
# 128 measured best (64 and 256 within a few per cent): long enough to amortise each loop's
# set-up, short enough for the buffers to stay in L1. A power of two (the lane fold halves it).
_CHUNK = 128
# No "reassoc": numba re-optimises a callee's IR inside every caller (and a cached caller was
# compiled in another process), so LLVM-vectorised reductions rounded differently in the serial
# and the parallel driver (measured: the bitwise test failed when one of the two came from the
# cache). Sums over points are accumulated per lane instead (elementwise, which vectorises
# without reassociation) and folded in a fixed order. No "nnan"/"ninf": -inf log-weights (a
# weight of exactly 0) and -inf log-terms are legal and must propagate.
_BLOCK_FLAGS = {"contract", "arcp", "nsz"}


@intrinsic
def _as_float(typingctx, bits):
    """Reinterpret int64 bits as a float64 (an LLVM bitcast, which vectorises)."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _as_bits(typingctx, x):
    """Reinterpret a float64 as its int64 bits."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


_LOG2E = 1.4426950408889634
# ln 2 split for Cody-Waite reduction: _LN2_HI has trailing zero bits so n * _LN2_HI is exact.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# 2^52 + 1023: adding it to an integer-valued double m (|m| < 2^51) leaves m + 1023 in the low
# mantissa bits; shifting those bits into the exponent field gives 2^m with no float->int
# conversion (AVX2 has no vector double->int64 conversion).
_EXP_BIAS = 4503599627371519.0


@jit(nogil=True, fastmath={"contract"})
def _pow2(m):
    """2^m for an integer-valued double -1022 <= m <= 1023; 0 for m = -1023."""
    return _as_float(_as_bits(m + _EXP_BIAS) << 52)


@jit(nogil=True, fastmath={"contract"})
def _exp_nonpos(x):
    """exp(x) for x <= 0 (or -inf, or NaN taken as -inf) in plain vectorisable arithmetic.

    numba's ``math.exp`` is a scalar libm call (~5-7 ns) that stops the loop from vectorising.
    Range reduction x = m ln2 + r, |r| <= ln2/2, e^r = 1 + r + r^2 P(r) with P a degree-9
    minimax fit (relative error 4e-18), times 2^m built in the exponent bits: within 1 ulp of
    libm, and exp(0) is exactly 1. Results below ~1e-308 (x < -708.7) are flushed to 0: the
    clamp makes m = -1023, whose exponent field is 0. Only "contract": the Cody-Waite
    reduction and the polynomial must be evaluated as written (fast-math flags are per
    instruction, so this holds after LLVM inlines it into the block).
    """
    x = x if x > -709.0 else -709.0
    m = np.floor(x * _LOG2E + 0.5)
    r = (x - m * _LN2_HI) - m * _LN2_LO
    p = 2.5000061602835666e-08
    p = p * r + 2.763024837921144e-07
    p = p * r + 2.7557586373840165e-06
    p = p * r + 2.480149309890655e-05
    p = p * r + 0.00019841269506578688
    p = p * r + 0.0013888888943630114
    p = p * r + 0.008333333333494461
    p = p * r + 0.041666666666530155
    p = p * r + 0.16666666666666413
    p = p * r + 0.5000000000000011
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _pow2(m)


# fdlibm's log (e_log.c): log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f), with
# its minimax coefficients; error < 1 ulp.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
_TWO52 = 4503599627370496.0


@jit(nogil=True, fastmath={"contract"}, error_model="numpy")
def _log_normal(x):
    """log(x) for a positive normal x, in plain vectorisable arithmetic (see :func:`_exp_nonpos`).

    x = 2^e m with m in [sqrt(2)/2, sqrt(2)) read from the bits; then fdlibm's polynomial.
    """
    bits = _as_bits(x)
    # the exponent field as a double: the 11 bits placed in the mantissa of 2^52
    e = _as_float((bits >> 52) | 0x4330000000000000) - (_TWO52 + 1023.0)
    m = _as_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # in [1, 2)
    if m > _SQRT2:
        m *= 0.5
        e += 1.0
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    hfsq = 0.5 * f * f
    return e * _LN2_HI - ((hfsq - (s * (hfsq + r) + e * _LN2_LO)) - f)


@jit(nogil=True, fastmath=_BLOCK_FLAGS, error_model="numpy")
def _estep_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp, nk, s1c, c,
                 log_extra, extra_nk):
    """Accumulate one block [start, stop) into nk, s1c, c; return sum_n g_n ll_n.

    ``g`` has length N, or 0 for unit weights (no N-long array of ones to allocate and read).
    ``pointwise`` has length N or 0 (not wanted); ``resp`` has N rows or 0 (not wanted).
    Only the lower triangle of ``c`` is written; the caller symmetrises. A point whose every
    log-term is -inf gets ll = -inf, a zero row of ``resp`` and no weight in the statistics.

    ``log_extra`` is the log-term of one more component with a constant density (the uniform
    noise component: log noise weight + log of its density), -inf for none; its weighted
    responsibilities are summed into ``extra_nk[0]`` and, when ``resp`` has K + 1 columns,
    written to the last one. The dimension is ``means.shape[1]``: ``X`` may have more columns
    (the row plan packs each row's observed values to the left), of which the first D are read.

    The block is cut into chunks of ``_CHUNK`` points, transposed to (D, chunk); every step is
    a loop over the chunk's points for one component, which LLVM vectorises. The chunk's
    inputs and outputs are views, indexed from 0 so that numba's negative-index wraparound
    compiles away. ``error_model="numpy"``: a float division by zero gives inf (and is then
    discarded), instead of numba's Python-style check, which is a branch that stops SIMD.
    """
    D = means.shape[1]
    K = means.shape[0]
    const = -0.5 * D * _LOG_2PI
    want_pointwise = pointwise.shape[0] > 0
    want_resp = resp.shape[0] > 0
    unit = g.shape[0] == 0
    has_extra = log_extra != -np.inf
    extra_resp = want_resp and resp.shape[1] > K
    ex = np.zeros(_CHUNK)  # e_n,extra, then its responsibility
    xs = np.empty((D, _CHUNK))  # the chunk's points, transposed
    diff = np.empty((D, _CHUNK))  # x - mu_k, for the statistics of component k
    y = np.empty(_CHUNK)  # partial sums of (x - mu_k) U_k
    q = np.empty(_CHUNK)  # |(x - mu_k) U_k|^2
    lk = np.empty((K, _CHUNK))  # l_nk, then e_nk = exp(l_nk - max_k l_nk), then g_n r_nk
    mx = np.empty(_CHUNK)  # max_k l_nk, then ll_n
    tot = np.empty(_CHUNK)  # sum_k e_nk, then its inverse
    gw = np.empty(_CHUNK)  # g_n / sum_k e_nk
    ones = np.ones(_CHUNK)  # g_n = 1 (unweighted)
    # Per-lane partial sums (lane = position in the chunk), folded after the last chunk:
    # row 0: sum g ll; then per component N_k, S1c_k (D rows), C_k's lower triangle.
    n_stat = 1 + D + D * (D + 1) // 2
    acc = np.zeros((2 + K * n_stat, _CHUNK))  # the last row: the extra component's N
    for c0 in range(start, stop, _CHUNK):
        nc = min(_CHUNK, stop - c0)
        Xc = X[c0:c0 + nc]
        gc = ones[:nc] if unit else g[c0:c0 + nc]
        for d in range(D):
            xd = xs[d]
            for i in range(nc):
                xd[i] = Xc[i, d]
        # l_nk = log w_k + log N(x_n | mu_k, Sigma_k) and its max over k. |(x - mu) U|^2 as
        # q = sum_j (y_j + diff_j U_jj)^2 with y_j = sum_{a<j} diff_a U_aj (U upper triangular),
        # x - mu recomputed in each pass (a subtraction is cheaper than a stored array).
        for k in range(K):
            for j in range(D):
                for a in range(j):
                    xa, mu, u = xs[a], means[k, a], U[k, a, j]
                    if a == 0:
                        for i in range(nc):
                            y[i] = (xa[i] - mu) * u
                    else:
                        for i in range(nc):
                            y[i] += (xa[i] - mu) * u
                xj, mu, u = xs[j], means[k, j], U[k, j, j]
                if j == 0:
                    for i in range(nc):
                        t = (xj[i] - mu) * u
                        q[i] = t * t
                else:
                    for i in range(nc):
                        t = y[i] + (xj[i] - mu) * u
                        q[i] += t * t
            base = log_w[k] + log_det[k] + const
            lrow = lk[k]
            if k == 0:
                for i in range(nc):
                    lrow[i] = base - 0.5 * q[i]
                    mx[i] = lrow[i]
            else:
                for i in range(nc):
                    lrow[i] = base - 0.5 * q[i]
                    mx[i] = lrow[i] if lrow[i] > mx[i] else mx[i]
        if has_extra:
            for i in range(nc):
                mx[i] = log_extra if log_extra > mx[i] else mx[i]
        # e_nk = exp(l_nk - max) and their sum (>= 1: the max term is exactly 1)
        tot[:nc] = 0.0
        for k in range(K):
            lrow = lk[k]
            for i in range(nc):
                lrow[i] = _exp_nonpos(lrow[i] - mx[i])
                tot[i] += lrow[i]
        if has_extra:
            for i in range(nc):
                ex[i] = _exp_nonpos(log_extra - mx[i])
                tot[i] += ex[i]
        # ll_n = max + log(sum). A point with every l_nk = -inf is infinitely unlikely: it
        # adds -inf (if g_n > 0) and nothing to the statistics (gw = 0; its e_nk are 0).
        # Selects rather than branches, so that the loop vectorises.
        atot = acc[0]
        for i in range(nc):
            finite = mx[i] != -np.inf
            ll = mx[i] + _log_normal(tot[i]) if finite else -np.inf
            atot[i] += gc[i] * ll if finite else (-np.inf if gc[i] > 0 else 0.0)
            tot[i] = 1.0 / tot[i] if finite else 0.0
            gw[i] = gc[i] * tot[i]
            mx[i] = ll
        if want_pointwise:
            pointwise[c0:c0 + nc] = mx[:nc]
        if has_extra:
            aex = acc[1 + K * n_stat]
            for i in range(nc):
                ex[i] *= tot[i]
                aex[i] += gc[i] * ex[i]
            if extra_resp:
                for i in range(nc):
                    resp[c0 + i, K] = ex[i]
        elif extra_resp:  # a group without the extra term (known labels): never noise
            for i in range(nc):
                resp[c0 + i, K] = 0.0
        # the statistics about mu_k, accumulated per lane
        for k in range(K):
            lrow = lk[k]
            if want_resp:
                for i in range(nc):
                    resp[c0 + i, k] = lrow[i] * tot[i]
            row = 1 + k * n_stat
            ank = acc[row]
            for i in range(nc):
                lrow[i] *= gw[i]
                ank[i] += lrow[i]
            for a in range(D):
                xa, da, mu = xs[a], diff[a], means[k, a]
                as1 = acc[row + 1 + a]
                aaa = acc[row + 1 + D + a * (a + 1) // 2 + a]
                for i in range(nc):
                    da[i] = xa[i] - mu
                    ga = lrow[i] * da[i]
                    as1[i] += ga
                    aaa[i] += ga * da[i]
                for b in range(a):
                    db = diff[b]
                    aab = acc[row + 1 + D + a * (a + 1) // 2 + b]
                    for i in range(nc):
                        aab[i] += lrow[i] * da[i] * db[i]
    # fold the lanes pairwise (a fixed order), then collect the sums
    h = _CHUNK // 2
    while h > 0:
        for r in range(acc.shape[0]):
            ar = acc[r]
            for i in range(h):
                ar[i] += ar[i + h]
        h //= 2
    for k in range(K):
        row = 1 + k * n_stat
        nk[k] += acc[row, 0]
        for a in range(D):
            s1c[k, a] += acc[row + 1 + a, 0]
            for b in range(a + 1):
                c[k, a, b] += acc[row + 1 + D + a * (a + 1) // 2 + b, 0]
    extra_nk[0] += acc[1 + K * n_stat, 0]
    return acc[0, 0]


@jit(nogil=True)
def _symmetrise(c):
    K, D = c.shape[0], c.shape[1]
    for k in range(K):
        for a in range(D):
            for b in range(a):
                c[k, b, a] = c[k, a, b]


@jit(nogil=True)
def estep_serial(X, g, log_w, means, U, log_det, pointwise, resp):
    """One pass, one thread. Safe to call from many threads at once (the samplers' chains).

    ``g`` (N,) per-point weights, or empty (length 0) for unit weights. Returns (total, nk,
    s1c, c); fills ``pointwise``/``resp`` when they are not empty.
    """
    N, D = X.shape
    K = means.shape[0]
    n_blocks = max(1, (N + _BLOCK - 1) // _BLOCK)
    nk = np.zeros(K)
    s1c = np.zeros((K, D))
    c = np.zeros((K, D, D))
    bnk = np.empty(K)
    bs1 = np.empty((K, D))
    bc = np.empty((K, D, D))
    no_extra = np.zeros(1)
    total = 0.0
    for b in range(n_blocks):
        bnk[:] = 0.0
        bs1[:] = 0.0
        bc[:] = 0.0
        start, stop = b * N // n_blocks, (b + 1) * N // n_blocks
        total += _estep_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp,
                              bnk, bs1, bc, -np.inf, no_extra)
        nk += bnk
        s1c += bs1
        c += bc
    _symmetrise(c)
    return total, nk, s1c, c


@jit(nogil=True)
def _block_arrays(n_blocks, K, D):
    """Zeroed per-block results for :func:`estep_parallel` (btot, bnk, bs1, bc)."""
    return (np.zeros(n_blocks), np.zeros((n_blocks, K)), np.zeros((n_blocks, K, D)),
            np.zeros((n_blocks, K, D, D)))


@jit(nogil=True)
def _sum_blocks(btot, bnk, bs1, bc):
    """Sum per-block results in block order: the same additions as :func:`estep_serial`."""
    n_blocks, K, D = bs1.shape
    nk = np.zeros(K)
    s1c = np.zeros((K, D))
    c = np.zeros((K, D, D))
    total = 0.0
    for b in range(n_blocks):
        total += btot[b]
        for k in range(K):
            nk[k] += bnk[b, k]
            for a in range(D):
                s1c[k, a] += bs1[b, k, a]
                for e in range(D):
                    c[k, a, e] += bc[b, k, a, e]
    _symmetrise(c)
    return total, nk, s1c, c


@jit(parallel=True)
def estep_parallel(X, g, log_w, means, U, log_det, pointwise, resp):
    """Same as :func:`estep_serial` (bitwise), with the blocks spread over numba's threads.

    Only the block loop is parallel: allocations and the final sum are in serial helpers,
    because numba turns array expressions in a ``parallel=True`` function into parallel
    regions of their own (the former ``nk += bnk[b]`` in a loop over blocks made 3 regions per
    block, whose thread wake-ups cost more than the E-step itself at N = 1e6).
    """
    N, D = X.shape
    K = means.shape[0]
    n_blocks = max(1, (N + _BLOCK - 1) // _BLOCK)
    btot, bnk, bs1, bc = _block_arrays(n_blocks, K, D)
    for b in numba.prange(n_blocks):
        start, stop = b * N // n_blocks, (b + 1) * N // n_blocks
        btot[b] = _estep_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp,
                               bnk[b], bs1[b], bc[b], -np.inf, np.zeros(1))
    return _sum_blocks(btot, bnk, bs1, bc)


# error_model="numpy": a zero on the diagonal (an sd underflowing to 0 at an extreme sampler
# proposal) gives inf, which the sampler treats as a divergence, not an exception.
@jit(nogil=True, error_model="numpy")
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


@jit(nogil=True)
def _times_upper(Y, U, out):
    """out = Y U for an upper-triangular U (D, D), as a loop over U's triangle (see below)."""
    D = U.shape[0]
    for a in range(D):
        for j in range(D):
            acc = 0.0
            for b in range(j + 1):
                acc += Y[a, b] * U[b, j]
            out[a, j] = acc


@jit(nogil=True)
def gradient_from_statistics(weights, L, U, nk, s1c, c):
    """Fisher's identity: gradient of L = sum_n g_n ll_n from the kernel's statistics.

    Parameters are in full form: ``L`` (K, D, D) lower Cholesky factors of the covariances and
    ``U = L^-T``. Returns (d/dweights (K,), d/dmeans (K, D), d/dL (K, D, D) lower-triangular):

    - dL/dw_k = N_k / w_k (the simplex constraint is the caller's chain rule)
    - dL/dmu_k = Sigma_k^-1 S1c_k
    - dL/dL_k = tril(2 G_k L_k) with G_k = 1/2 Sigma^-1 (C_k - N_k Sigma_k) Sigma^-1, which
      simplifies (Sigma^-1 L = L^-T) to tril(L^-T (L^-1 C_k L^-T - N_k I)).

    The products are written as loops over the triangles: D is small, and numba's ``@``
    calls BLAS, whose per-call cost (a dozen calls per gradient) was a fixed ~1.5-4 us, as
    much as the kernel's pass over 500 points.
    """
    K, D = L.shape[0], L.shape[1]
    dw = nk / weights
    dmu = np.zeros((K, D))
    dL = np.zeros((K, D, D))
    t = np.empty(D)
    M = np.empty((D, D))
    At = np.empty((D, D))
    A = At.T
    for k in range(K):
        Uk, Ck = U[k], c[k]
        # dmu = Sigma^-1 s = U (U^T s); U upper triangular
        for j in range(D):
            acc = 0.0
            for a in range(j + 1):
                acc += Uk[a, j] * s1c[k, a]
            t[j] = acc
        for a in range(D):
            acc = 0.0
            for j in range(a, D):
                acc += Uk[a, j] * t[j]
            dmu[k, a] = acc
        # A = L^-1 C L^-T - N I = U^T (C U) - N I (L^-1 = U^T): M = C U, then A^T = M^T U
        _times_upper(Ck, Uk, M)
        _times_upper(M.T, Uk, At)
        for i in range(D):
            A[i, i] -= nk[k]
        # dL = tril(L^-T A) = tril(U A)
        for a in range(D):
            for b in range(a + 1):
                acc = 0.0
                for j in range(a, D):
                    acc += Uk[a, j] * A[j, b]
                dL[k, a, b] = acc
    return dw, dmu, dL


@jit(nogil=True)
def loglik_value_and_grad(X, weights, means, L):
    """Total log-likelihood and its gradient w.r.t. (weights, means, L) in one pass.

    The model's hot path: one E-step pass plus O(K D^3) work, no autodiff graph over N x K.
    """
    U, log_det = precision_from_covariance_cholesky(L)
    unit = np.empty(0)  # unit weights, without an N-long array of ones
    empty_resp = np.empty((0, means.shape[0]))
    total, nk, s1c, c = estep_serial(X, unit, np.log(weights), means, U, log_det, unit,
                                     empty_resp)
    dw, dmu, dL = gradient_from_statistics(weights, L, U, nk, s1c, c)
    return total, dw, dmu, dL


@jit(nogil=True)
def loglik_pointwise(X, weights, means, L):
    """Pointwise marginal log-density ll_n (N,) at full-form parameters."""
    U, log_det = precision_from_covariance_cholesky(L)
    N = X.shape[0]
    pointwise = np.empty(N)
    estep_serial(X, np.empty(0), np.log(weights), means, U, log_det, pointwise,
                 np.empty((0, means.shape[0])))
    return pointwise


# --------------------------------------------------------------------------------------------
# Python-level API
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
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


@dataclass(frozen=True, eq=False)
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
        Responsibilities r_nk (unweighted; rows sum to one); with a noise component
        (:func:`estep_plan`) a last column holds the noise responsibility.
    noise_nk : float
        sum_n g_n r_n,noise (0 without a noise component).
    """

    log_likelihood: float
    stats: SufficientStatistics
    pointwise: np.ndarray | None = None
    resp: np.ndarray | None = None
    noise_nk: float = 0.0


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
        Mixing weights (a weight of 0: a component never chosen).
    means : ndarray (K, D)
        Component means; also the centre of the returned statistics.
    precisions_cholesky : ndarray
        scikit-learn's shapes: full (K, D, D), tied (D, D), diag (K, D), spherical (K,).
    covariance_type : {"full", "tied", "diag", "spherical"}
    sample_weight : ndarray (N,), optional
        Per-point weights g_n (frequency weights, or an upstream gradient); default 1.
    return_pointwise, return_resp : bool, default False, False
        Also return each point's log-density (``pointwise``), and the responsibilities
        (``resp``).
    parallel : bool, optional
        Spread the pass over numba's threads; default: when N*K is large enough to pay off.

    Returns
    -------
    EStep
        The weighted log-likelihood and sufficient statistics, with the arrays asked for
        (else None).
    """
    X = kernel_array(X)
    N = X.shape[0]
    K, D = means.shape
    U = kernel_array(full_precision_cholesky(precisions_cholesky, covariance_type, K, D))
    log_det = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    # unit weights as an empty array: the kernel then reads no N-long array of ones
    g = np.empty(0) if sample_weight is None else kernel_array(sample_weight)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 is a component never chosen
        log_w = np.log(np.asarray(weights, dtype=np.float64))
    pointwise = np.empty(N if return_pointwise else 0)
    resp = np.empty((N if return_resp else 0, K))
    if not threads_usable():
        parallel = False
    elif parallel is None:  # threads started only where they are used (forks stay parallel)
        parallel = N * K >= _PARALLEL_MIN_PAIRS and _parallel_threads() > 1
    elif parallel:
        passive_thread_wait()
    run = estep_parallel if parallel else estep_serial
    total, nk, s1c, c = run(X, g, log_w, kernel_array(means), U, log_det, pointwise, resp)
    stats = SufficientStatistics(nk=nk, s1c=s1c, c=c, centre=np.array(means, dtype=np.float64))
    return EStep(
        log_likelihood=float(total),
        stats=stats,
        pointwise=pointwise if return_pointwise else None,
        resp=resp if return_resp else None,
    )


def full_precision_cholesky(prec_chol: np.ndarray, covariance_type: str, K: int, D: int):
    """Expand scikit-learn-shaped precision Cholesky factors to full form (K, D, D)."""
    return covariance.to_full(prec_chol, covariance_type, K, D)


# The covariance policy's error (raised by covariance.cholesky), here too under its old home.
NotPositiveDefiniteError = covariance.NotPositiveDefiniteError


def precisions_cholesky(covariances: np.ndarray, covariance_type: str) -> np.ndarray:
    """Upper-triangular precision Cholesky factors in scikit-learn's shapes.

    Raises :class:`NotPositiveDefiniteError` (a ``ValueError``) naming the component when a
    covariance is not positive definite.
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    if covariance.has_correlations(covariance_type):
        covs = covariances[None] if covariance_type == "tied" else covariances
        # not finite: an M-step over a component that lost every point
        chol = np.ascontiguousarray(covariance.cholesky(covs))
        # L^-T by numba's substitution, not scipy's solve_triangular: LAPACK's trtrs wakes
        # OpenBLAS's threads even for a 2x2 solve, which costs milliseconds per call on a busy
        # machine (EM calls this every iteration).
        out, _ = precision_from_covariance_cholesky(chol)
        return out[0] if covariance_type == "tied" else out
    if not np.all(covariances > 0) or not np.all(np.isfinite(covariances)):
        raise NotPositiveDefiniteError("variances must be positive and finite; increase "
                                       "reg_covar")
    return 1.0 / np.sqrt(covariances)


# Covariances in full form (K, D, D) from scikit-learn's per-type shapes (kept under its old name).
to_full_covariances = covariance.to_full


def pointwise_over_draws(X, weights, means, L, want_resp):
    """Per-draw pointwise log-density (S, N) and, if asked, responsibilities (S, N, K).

    ``weights`` (S, K), ``means`` (S, K, D), ``L`` (S, K, D, D): S posterior draws in full form
    (:func:`bayesgmm.covariance.cholesky_draws`). Draws run in parallel; each is the serial
    E-step kernel.
    """
    X, weights, means, L = (kernel_array(a) for a in (X, weights, means, L))
    if not threads_usable():  # draw by draw, each the serial kernel (see _note_fork)
        S, N, K = weights.shape[0], X.shape[0], weights.shape[1]
        out, resp = np.empty((S, N)), np.empty((S if want_resp else 0, N, K))
        for s in range(S):
            U, log_det = precision_from_covariance_cholesky(L[s])
            estep_serial(X, np.empty(0), _log(weights[s]), means[s], U, log_det, out[s],
                         resp[s] if want_resp else np.empty((0, K)))
        return out, resp
    passive_thread_wait()
    return _pointwise_over_draws(X, weights, means, L, want_resp)


@jit(parallel=True)
def _pointwise_over_draws(X, weights, means, L, want_resp):
    """The parallel core of :func:`pointwise_over_draws`."""
    S = weights.shape[0]
    N = X.shape[0]
    K = weights.shape[1]
    out = np.empty((S, N))
    resp = np.empty((S if want_resp else 0, N, K))
    g = np.empty(0)  # unit weights
    for s in numba.prange(S):
        U, log_det = precision_from_covariance_cholesky(L[s])
        r = resp[s] if want_resp else np.empty((0, K))
        estep_serial(X, g, np.log(weights[s]), means[s], U, log_det, out[s], r)
    return out, resp


# --------------------------------------------------------------------------------------------
# The row plan: missing values, known labels and a noise component through the same kernel
# --------------------------------------------------------------------------------------------
# Rows are grouped by (missingness pattern, known label). Within a group every row has the same
# observed coordinates o and the same allowed components, so the group is one call of the
# kernel with the marginal parameters (mu_k[o], Sigma_k[o, o]) -- the density of the observed
# sub-vector -- and, for a labelled group, log w_j = -inf for every other component j (a
# labelled point contributes log w_k + log N(x | mu_k, Sigma_k) of its own component k only).
# The group's statistics about mu_k[o] are then *completed* to all D coordinates with the
# conditional moments of the missing ones given the observed ones,
#
#   E[x_m - mu_m | x_o, k]                  = B_k (x_o - mu_o),   B_k = Sigma_mo Sigma_oo^-1
#   Cov[x_m | x_o, k]                       = Sigma_mm - B_k Sigma_om
#
# which are linear in x_o, so the completed sums follow from the observed sums alone:
#
#   S1c_m = B S1c_o,   C_mo = B C_oo,   C_mm = B C_oo B^T + N_k (Sigma_mm - B Sigma_om).
#
# Those completed statistics are exactly what EM's M-step for incomplete data uses (Ghahramani &
# Jordan 1994), and by Fisher's identity (the gradient of log p(x_o) is the expected gradient of
# the complete-data log-likelihood given x_o) the unchanged :func:`gradient_from_statistics`
# turns them into the exact gradient of the observed-data log-likelihood.


@jit(nogil=True, error_model="numpy")
def _sub_cholesky(L, cols, n_obs, out):
    """Lower Cholesky factors of Sigma_k[o, o] (K, n_obs, n_obs) into ``out``; Sigma = L L^T.

    A covariance that is not positive definite gives NaN (the caller's density is then NaN,
    which a sampler treats as a rejected proposal), not an exception.
    """
    K = L.shape[0]
    for k in range(K):
        Lk, ok = L[k], out[k]
        for a in range(n_obs):
            ca = cols[a]
            for b in range(a + 1):
                cb = cols[b]
                s = 0.0  # Sigma[ca, cb] = sum_m L[ca, m] L[cb, m]
                for m in range(min(ca, cb) + 1):
                    s += Lk[ca, m] * Lk[cb, m]
                for m in range(b):
                    s -= ok[a, m] * ok[b, m]
                if a == b:
                    ok[a, a] = math.sqrt(s)
                else:
                    ok[a, b] = s / ok[b, b]
            for b in range(a + 1, n_obs):
                ok[a, b] = 0.0
    return out


@jit(nogil=True)
def _complete_statistics(L, cols, n_obs, U_o, gnk, gs1, gc, nk, s1c, c):
    """Add one group's statistics (about mu[o]) to the full ones, completing the missing part.

    ``gc`` holds the lower triangle of C_oo (the kernel's convention). ``U_o`` = L_o^-T, so
    Sigma_oo^-1 = U_o U_o^T.
    """
    K, D = L.shape[0], L.shape[1]
    n_mis = D - n_obs
    sigma = np.empty((D, D))
    B = np.empty((n_mis, n_obs))
    W = np.empty((n_obs, n_obs))
    C = np.empty((n_obs, n_obs))
    BC = np.empty((n_mis, n_obs))
    for k in range(K):
        for a in range(n_obs):
            for b in range(a + 1):
                C[a, b] = gc[k, a, b]
                C[b, a] = gc[k, a, b]
        nk[k] += gnk[k]
        for a in range(n_obs):
            s1c[k, cols[a]] += gs1[k, a]
            for b in range(n_obs):
                c[k, cols[a], cols[b]] += C[a, b]
        if n_mis == 0:
            continue
        Lk = L[k]
        for a in range(D):  # Sigma in the plan's column order (observed first)
            for b in range(a + 1):
                ca, cb = cols[a], cols[b]
                s = 0.0
                for m in range(min(ca, cb) + 1):
                    s += Lk[ca, m] * Lk[cb, m]
                sigma[a, b] = s
                sigma[b, a] = s
        Uk = U_o[k]
        for a in range(n_obs):  # W = Sigma_oo^-1 = U U^T
            for b in range(n_obs):
                s = 0.0
                for m in range(max(a, b), n_obs):
                    s += Uk[a, m] * Uk[b, m]
                W[a, b] = s
        for i in range(n_mis):  # B = Sigma_mo W
            for b in range(n_obs):
                s = 0.0
                for a in range(n_obs):
                    s += sigma[n_obs + i, a] * W[a, b]
                B[i, b] = s
        for i in range(n_mis):  # B C_oo
            for b in range(n_obs):
                s = 0.0
                for a in range(n_obs):
                    s += B[i, a] * C[a, b]
                BC[i, b] = s
        for i in range(n_mis):
            ci = cols[n_obs + i]
            s = 0.0
            for a in range(n_obs):
                s += B[i, a] * gs1[k, a]
            s1c[k, ci] += s
            for b in range(n_obs):
                c[k, ci, cols[b]] += BC[i, b]
                c[k, cols[b], ci] += BC[i, b]
            for j in range(n_mis):
                cj = cols[n_obs + j]
                s = 0.0  # (B C B^T)_ij + N_k (Sigma_mm - B Sigma_om)_ij
                for b in range(n_obs):
                    s += BC[i, b] * B[j, b] - gnk[k] * B[i, b] * sigma[b, n_obs + j]
                c[k, ci, cj] += s + gnk[k] * sigma[n_obs + i, n_obs + j]


@jit(nogil=True, error_model="numpy")
def plan_estep(X, g, bounds, columns, n_obs, label, log_noise, log_w, log_noise_w, means, L,
               pointwise, resp):
    """The E-step over a row plan (see :class:`RowPlan`); one thread.

    Parameters
    ----------
    X : ndarray (N, D)
        Plan-ordered rows, each row's observed values packed to the left.
    g : ndarray (N,) or (0,)
        Plan-ordered per-point weights; empty for unit weights.
    bounds : ndarray (G + 1,) int64
        Group g holds rows bounds[g]:bounds[g + 1].
    columns : ndarray (G, D) int64
        Group g's observed columns (ascending), then its missing ones.
    n_obs : ndarray (G,) int64
    label : ndarray (G,) int64
        The group's known component, or -1.
    log_noise : ndarray (G,)
        Log-density of the uniform noise component at the group's observed coordinates (the
        box's marginal over them); -inf: no noise component.
    log_w : ndarray (K,)
        Log weights of the Gaussian components.
    log_noise_w : float
        Log weight of the noise component.
    means : ndarray (K, D)
    L : ndarray (K, D, D)
        Lower Cholesky factors of the covariances.
    pointwise : ndarray (N,) or (0,); resp : ndarray (N, K or K + 1) or (0, K)
        Outputs in plan order (the noise component's responsibility in column K).

    Returns
    -------
    total, nk (K,), s1c (K, D), c (K, D, D), noise_nk
        Completed statistics about ``means`` (c symmetric).
    """
    D = X.shape[1]
    K = means.shape[0]
    n_groups = bounds.shape[0] - 1
    nk = np.zeros(K)
    s1c = np.zeros((K, D))
    c = np.zeros((K, D, D))
    extra = np.zeros(1)
    U_full, log_det_full = precision_from_covariance_cholesky(L)
    lw = np.empty(K)
    total = 0.0
    for grp in range(n_groups):
        start, stop = bounds[grp], bounds[grp + 1]
        d_o = n_obs[grp]
        cols = columns[grp]
        lab = label[grp]
        for k in range(K):
            lw[k] = log_w[k] if lab < 0 or lab == k else -np.inf
        log_extra = log_noise[grp] + log_noise_w if lab < 0 else -np.inf
        if d_o == D:  # complete rows (observed columns in natural order)
            mu_o, U_o, log_det_o = means, U_full, log_det_full
        else:
            mu_o = np.empty((K, d_o))
            for k in range(K):
                for a in range(d_o):
                    mu_o[k, a] = means[k, cols[a]]
            L_o = _sub_cholesky(L, cols, d_o, np.empty((K, d_o, d_o)))
            U_o, log_det_o = precision_from_covariance_cholesky(L_o)
        gnk = np.zeros(K)
        gs1 = np.zeros((K, d_o))
        gc = np.zeros((K, d_o, d_o))
        total += _estep_block(X, g, lw, mu_o, U_o, log_det_o, start, stop, pointwise, resp,
                              gnk, gs1, gc, log_extra, extra)
        _complete_statistics(L, cols, d_o, U_o, gnk, gs1, gc, nk, s1c, c)
    return total, nk, s1c, c, extra[0]


@jit(nogil=True)
def plan_value_and_grad(X, g, bounds, columns, n_obs, label, log_noise, weights, noise_weight,
                        means, L):
    """Total log-likelihood over a row plan and its gradient, in one pass.

    Returns (total, d/dweights (K,), d/dnoise_weight, d/dmeans (K, D), d/dL (K, D, D)): the
    weights are free here (the simplex constraint, and the noise weight's place in it, are
    the caller's chain rule). Without a noise component (``log_noise`` = -inf) the noise
    weight's gradient is 0.
    """
    K = means.shape[0]
    U, _ = precision_from_covariance_cholesky(L)
    log_nw = math.log(noise_weight) if noise_weight > 0 else -np.inf
    total, nk, s1c, c, noise_nk = plan_estep(
        X, g, bounds, columns, n_obs, label, log_noise, np.log(weights), log_nw, means, L,
        np.empty(0), np.empty((0, K)))
    dw, dmu, dL = gradient_from_statistics(weights, L, U, nk, s1c, c)
    d_noise = noise_nk / noise_weight if noise_nk > 0 else 0.0
    return total, dw, d_noise, dmu, dL


@jit(parallel=True)
def _plan_over_draws(X, bounds, columns, n_obs, label, log_noise, weights, noise_weight, means,
                     L, want_resp):
    """The parallel core of :func:`plan_pointwise_over_draws`."""
    S, K = weights.shape
    N = X.shape[0]
    has_noise = np.any(log_noise != -np.inf)
    out = np.empty((S, N))
    resp = np.empty((S if want_resp else 0, N, K + 1 if has_noise else K))
    g = np.empty(0)
    for s in numba.prange(S):
        r = resp[s] if want_resp else np.empty((0, K))
        log_nw = math.log(noise_weight[s]) if noise_weight[s] > 0 else -np.inf
        plan_estep(X, g, bounds, columns, n_obs, label, log_noise, np.log(weights[s]), log_nw,
                   means[s], L[s], out[s], r)
    return out, resp


@dataclass(frozen=True, eq=False)
class RowPlan:
    """Rows grouped by (missingness pattern, known label), in the layout :func:`plan_estep` reads.

    Build it with :meth:`RowPlan.build`; all arrays are in plan order, and ``order[i]`` is the
    index (in the data given to :meth:`build`) of plan row ``i``.

    Attributes
    ----------
    X : ndarray (N, D)
        Rows in plan order, observed values packed to the left (the rest is 0, never read).
    g : ndarray (N,) or (0,)
        Per-point weights in plan order; empty for unit weights.
    bounds : ndarray (G + 1,) int64
    columns : ndarray (G, D) int64
        Observed columns (ascending), then missing ones, per group.
    n_obs : ndarray (G,) int64
    label : ndarray (G,) int64
        Known component per group, -1 for unknown.
    log_noise : ndarray (G,)
        Log-density of the noise component at each group's observed coordinates (-inf: none).
    order : ndarray (N,) int64
    """

    X: np.ndarray
    g: np.ndarray
    bounds: np.ndarray
    columns: np.ndarray
    n_obs: np.ndarray
    label: np.ndarray
    log_noise: np.ndarray
    order: np.ndarray

    @property
    def noise(self) -> bool:
        """Whether the plan has a noise component."""
        return bool(np.any(self.log_noise != -np.inf))

    @classmethod
    def build(cls, X: np.ndarray, sample_weight: np.ndarray | None = None,
              labels: np.ndarray | None = None, log_noise: float = -np.inf,
              noise_log_ranges: np.ndarray | None = None) -> RowPlan:
        """Group the rows of ``X`` (N, D; NaN = missing, no all-NaN row) for the kernel.

        ``log_noise`` is the noise component's log-density over all D coordinates (-inf: no
        noise component); a group with missing coordinates gets the uniform box's marginal
        over its observed ones, -sum of their ``noise_log_ranges`` (log side lengths of the
        box, shape (D,); default: a cube of the same volume, -log_noise / D each).
        """
        X = np.asarray(X, dtype=np.float64)
        N, D = X.shape
        missing = np.isnan(X)
        lab = np.full(N, -1, np.int64) if labels is None else np.asarray(labels, np.int64)
        # one integer key per row: the missingness bits, then the label (stable sort keeps the
        # data's order within a group)
        bits = (missing.astype(np.int64) << np.arange(D, dtype=np.int64)).sum(axis=1) \
            if D < 62 else np.unique(missing, axis=0, return_inverse=True)[1].reshape(-1)
        order = np.lexsort((lab, bits)).astype(np.int64)
        key = np.stack([bits[order], lab[order]], axis=1)
        starts = np.flatnonzero(np.r_[True, np.any(key[1:] != key[:-1], axis=1)])
        bounds = np.r_[starts, N].astype(np.int64)
        Xp = np.zeros((N, D))
        columns = np.empty((starts.size, D), np.int64)
        n_obs = np.empty(starts.size, np.int64)
        for grp, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            observed = ~missing[order[a]]
            cols = np.r_[np.flatnonzero(observed), np.flatnonzero(~observed)]
            columns[grp], n_obs[grp] = cols, observed.sum()
            Xp[a:b, :n_obs[grp]] = X[order[a:b]][:, cols[:n_obs[grp]]]
        g = np.empty(0) if sample_weight is None else \
            np.ascontiguousarray(np.asarray(sample_weight, np.float64)[order])
        group_noise = np.full(starts.size, float(log_noise))
        if log_noise != -np.inf:
            sides = np.full(D, -log_noise / D) if noise_log_ranges is None else \
                np.asarray(noise_log_ranges, np.float64)
            for grp in np.flatnonzero(n_obs < D):
                group_noise[grp] = -sides[columns[grp, :n_obs[grp]]].sum()
        return cls(X=Xp, g=g, bounds=bounds, columns=columns, n_obs=n_obs,
                   label=key[starts, 1].copy(), log_noise=group_noise, order=order)

    @property
    def arrays(self) -> tuple:
        """(X, g, bounds, columns, n_obs, label, log_noise): the numba functions' leading
        arguments."""
        return (self.X, self.g, self.bounds, self.columns, self.n_obs, self.label,
                self.log_noise)

    def unsort(self, values: np.ndarray, axis: int = 0) -> np.ndarray:
        """Plan-ordered rows (along ``axis``) back in the data's order."""
        out = np.empty_like(values)
        index = [slice(None)] * values.ndim
        index[axis] = self.order
        out[tuple(index)] = values
        return out


def estep_plan(
    plan: RowPlan,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
    *,
    noise_weight: float = 0.0,
    return_pointwise: bool = False,
    return_resp: bool = False,
) -> EStep:
    """The E-step over a row plan: missing values marginalised, known labels, a noise component.

    Parameters
    ----------
    plan : RowPlan
    weights : ndarray (K,)
        Weights of the Gaussian components (with noise they sum to 1 - ``noise_weight``).
    means : ndarray (K, D)
    covariances : ndarray
        scikit-learn's shapes for ``covariance_type``.
    covariance_type : str
    noise_weight : float
        Weight of the noise component (ignored when the plan has none).
    return_pointwise, return_resp : bool

    Returns
    -------
    EStep
        Completed statistics (about ``means``), ``noise_nk``, and ``pointwise``/``resp`` in the
        data's order; ``resp`` has a last column for the noise component when there is one.
    """
    K, D = means.shape
    full = covariance.to_full(np.asarray(covariances, np.float64), covariance_type, K, D)
    L = kernel_array(covariance.cholesky(full))
    N = plan.X.shape[0]
    has_noise = plan.noise
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(weights, dtype=np.float64))
        log_nw = float(np.log(noise_weight)) if has_noise else -np.inf
    pointwise = np.empty(N if return_pointwise else 0)
    resp = np.zeros((N if return_resp else 0, K + 1 if has_noise else K))
    total, nk, s1c, c, noise_nk = plan_estep(
        *plan.arrays, log_w, log_nw, kernel_array(means), L, pointwise, resp)
    return EStep(
        log_likelihood=float(total),
        stats=SufficientStatistics(nk=nk, s1c=s1c, c=c,
                                   centre=np.array(means, dtype=np.float64)),
        pointwise=plan.unsort(pointwise) if return_pointwise else None,
        resp=plan.unsort(resp) if return_resp else None,
        noise_nk=float(noise_nk),
    )


def plan_pointwise_over_draws(plan: RowPlan, weights, noise_weight, means, L, want_resp):
    """:func:`pointwise_over_draws` over a row plan, results in the data's order.

    ``weights`` (S, K), ``noise_weight`` (S,) (zeros without noise), ``means`` (S, K, D), ``L``
    (S, K, D, D). Returns pointwise (S, N) and responsibilities (S, N, K [+ 1]) or an empty array.
    """
    X, _, bounds, columns, n_obs, label, log_noise = plan.arrays
    arrays = tuple(kernel_array(a) for a in (weights, noise_weight, means, L))
    if threads_usable():
        passive_thread_wait()
        out, resp = _plan_over_draws(X, bounds, columns, n_obs, label, log_noise, *arrays,
                                     want_resp)
    else:  # draw by draw, each the serial kernel (see _note_fork)
        w, nw, m, chol = arrays
        S, K = w.shape
        has_noise = np.any(log_noise != -np.inf)
        out = np.empty((S, X.shape[0]))
        resp = np.empty((S if want_resp else 0, X.shape[0], K + 1 if has_noise else K))
        for s in range(S):
            plan_estep(X, np.empty(0), bounds, columns, n_obs, label, log_noise, _log(w[s]),
                       _log_or_minus_inf(nw[s]), m[s], chol[s], out[s],
                       resp[s] if want_resp else np.empty((0, K)))
    return plan.unsort(out, 1), (plan.unsort(resp, 1) if want_resp else resp)
