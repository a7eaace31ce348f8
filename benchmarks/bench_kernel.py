"""The E-step kernel (``bayesgmm.kernels``) against its original per-point implementation.

Usage::

    python benchmarks/bench_kernel.py            # N = 1e3 ... 1e6 (D=2, K=3) and N=1e5 (D=5, K=4)
    python benchmarks/bench_kernel.py --quick    # skip N = 1e6

The original kernel (one point at a time, scalar ``math.exp``/``math.log``) is copied below as
``_reference_block`` with its drivers, so that both run in the same process, on the same data,
under the same machine load: for every row the reference and the current kernel alternate,
``--repeats`` times, and the table shows medians. JIT compilation is excluded (warm-up first).

Rows, per case (``ns/pair`` = time / (N K)):

- ``estep_serial``, ``estep_parallel``: one pass, one thread / numba's threads.
- ``value_and_grad``: :func:`bayesgmm.kernels.loglik_value_and_grad`, the sampler's hot path
  (serial kernel plus the O(K D^3) gradient).
- ``value_and_grad [parallel]``: the same with ``estep_parallel`` inside (benchmark only).
- ``2 chains x value_and_grad``: two Python threads calling it at once (it releases the GIL),
  as the sampler's chains do; ``ns/pair`` is wall time / (2 N K), the throughput of both cores.
- ``2 chains x ... [parallel]``: the same with the parallel kernel nested in each chain.

The last column checks agreement: max relative difference of the log-likelihood and of the
statistics (nk, s1c, c) between the two implementations.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import threading
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bayesgmm.kernels does

import numba  # noqa: E402
import numpy as np  # noqa: E402
from bench_em import simulate_truth  # noqa: E402

from bayesgmm import kernels  # noqa: E402
from bayesgmm.kernels import gradient_from_statistics, precision_from_covariance_cholesky  # noqa: E402

# (N, D, K)
CASES = [
    (1_000, 2, 3),
    (10_000, 2, 3),
    (100_000, 2, 3),
    (1_000_000, 2, 3),
    (100_000, 5, 4),
]
_LOG_2PI = math.log(2.0 * math.pi)
_BLOCK = 2048


# --------------------------------------------------------------------------------------------
# the original kernel (commit fe7327a): its code verbatim, docstrings dropped, names prefixed
# --------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, fastmath={"contract", "arcp", "nsz"})
def _reference_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp, nk, s1c, c):
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
def _reference_symmetrise(c):
    K, D = c.shape[0], c.shape[1]
    for k in range(K):
        for a in range(D):
            for b in range(a):
                c[k, b, a] = c[k, a, b]


@numba.njit(cache=True, nogil=True)
def _reference_serial(X, g, log_w, means, U, log_det, pointwise, resp):
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
        total += _reference_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp,
                                  bnk, bs1, bc)
        nk += bnk
        s1c += bs1
        c += bc
    _reference_symmetrise(c)
    return total, nk, s1c, c


@numba.njit(cache=True, parallel=True)
def _reference_parallel(X, g, log_w, means, U, log_det, pointwise, resp):
    N, D = X.shape
    K = means.shape[0]
    n_blocks = max(1, (N + _BLOCK - 1) // _BLOCK)
    bnk = np.zeros((n_blocks, K))
    bs1 = np.zeros((n_blocks, K, D))
    bc = np.zeros((n_blocks, K, D, D))
    btot = np.zeros(n_blocks)
    for b in numba.prange(n_blocks):
        start, stop = b * N // n_blocks, (b + 1) * N // n_blocks
        btot[b] = _reference_block(X, g, log_w, means, U, log_det, start, stop, pointwise, resp,
                                   bnk[b], bs1[b], bc[b])
    nk = np.zeros(K)
    s1c = np.zeros((K, D))
    c = np.zeros((K, D, D))
    total = 0.0
    for b in range(n_blocks):
        total += btot[b]
        nk += bnk[b]
        s1c += bs1[b]
        c += bc[b]
    _reference_symmetrise(c)
    return total, nk, s1c, c


@numba.njit(cache=True, nogil=True)
def _reference_value_and_grad(X, weights, means, L):
    U, log_det = precision_from_covariance_cholesky(L)
    N = X.shape[0]
    total, nk, s1c, c = _reference_serial(X, np.ones(N), np.log(weights), means, U, log_det,
                                          np.empty(0), np.empty((0, means.shape[0])))
    dw, dmu, dL = gradient_from_statistics(weights, L, U, nk, s1c, c)
    return total, dw, dmu, dL


@numba.njit(cache=True)
def _reference_value_and_grad_parallel(X, weights, means, L):
    U, log_det = precision_from_covariance_cholesky(L)
    N = X.shape[0]
    total, nk, s1c, c = _reference_parallel(X, np.ones(N), np.log(weights), means, U, log_det,
                                            np.empty(0), np.empty((0, means.shape[0])))
    dw, dmu, dL = gradient_from_statistics(weights, L, U, nk, s1c, c)
    return total, dw, dmu, dL


@numba.njit(cache=True)
def _value_and_grad_parallel(X, weights, means, L):
    """``loglik_value_and_grad`` with the parallel kernel inside (for item 4 of the issue)."""
    U, log_det = precision_from_covariance_cholesky(L)
    N = X.shape[0]
    total, nk, s1c, c = kernels.estep_parallel(X, np.ones(N), np.log(weights), means, U,
                                               log_det, np.empty(0),
                                               np.empty((0, means.shape[0])))
    dw, dmu, dL = gradient_from_statistics(weights, L, U, nk, s1c, c)
    return total, dw, dmu, dL


# --------------------------------------------------------------------------------------------
# harness
# --------------------------------------------------------------------------------------------
def simulate(N: int, D: int, K: int, seed: int = 0):
    """N points from a K-component mixture, and the parameters (weights, means, L) at truth."""
    X, weights, means, _, L = simulate_truth(N, D, K, np.random.default_rng(seed))
    return X, weights, means, L


def two_chains(f):
    """Call ``f`` from two threads at once (the sampler's chains); returns a callable."""

    def run():
        threads = [threading.Thread(target=f) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return run


def time_pair(ref, new, repeats: int, min_batch_s: float = 0.02):
    """Median seconds per call of ``ref`` and ``new``, alternating batches of calls."""
    ref()
    new()
    t = time.perf_counter()
    new()
    one = max(time.perf_counter() - t, 1e-7)
    batch = max(1, int(min_batch_s / one))
    times = {"ref": [], "new": []}
    for _ in range(repeats):
        for name, f in (("ref", ref), ("new", new)):
            t = time.perf_counter()
            for _ in range(batch):
                f()
            times[name].append((time.perf_counter() - t) / batch)
    return float(np.median(times["ref"])), float(np.median(times["new"]))


def max_rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300))


def run_case(N: int, D: int, K: int, repeats: int) -> list[tuple]:
    X, weights, means, L = simulate(N, D, K)
    U, log_det = precision_from_covariance_cholesky(L)
    args = (X, np.ones(N), np.log(weights), means, U, log_det, np.empty(0), np.empty((0, K)))
    r, n = _reference_serial(*args), kernels.estep_serial(*args)
    stats_err = max(max_rel(a, b) for a, b in zip(r, n, strict=True))
    vg = (X, weights, means, L)
    rg, ng = _reference_value_and_grad(*vg), kernels.loglik_value_and_grad(*vg)
    grad_err = max(max_rel(a, b) for a, b in zip(rg, ng, strict=True))
    rows = [
        ("estep_serial", lambda: _reference_serial(*args), lambda: kernels.estep_serial(*args),
         1, stats_err),
        ("estep_parallel", lambda: _reference_parallel(*args),
         lambda: kernels.estep_parallel(*args), 1, stats_err),
        ("value_and_grad", lambda: _reference_value_and_grad(*vg),
         lambda: kernels.loglik_value_and_grad(*vg), 1, grad_err),
        ("value_and_grad [parallel]", lambda: _reference_value_and_grad_parallel(*vg),
         lambda: _value_and_grad_parallel(*vg), 1, grad_err),
        ("2 chains x value_and_grad", two_chains(lambda: _reference_value_and_grad(*vg)),
         two_chains(lambda: kernels.loglik_value_and_grad(*vg)), 2, grad_err),
        ("2 chains x ... [parallel]", two_chains(lambda: _reference_value_and_grad_parallel(*vg)),
         two_chains(lambda: _value_and_grad_parallel(*vg)), 2, grad_err),
    ]
    out = []
    for name, ref, new, calls, err in rows:
        t_ref, t_new = time_pair(ref, new, repeats)
        pairs = calls * N * K
        out.append((N, D, K, name, t_ref * 1e6, t_ref / pairs * 1e9, t_new * 1e6,
                    t_new / pairs * 1e9, t_ref / t_new, err))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip N = 1e6")
    parser.add_argument("--repeats", type=int, default=9, help="alternating repeats per row")
    args = parser.parse_args(argv)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba {numba.__version__} ({numba.get_num_threads()} threads), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"# medians of {args.repeats} alternating repeats; reference = original per-point "
          "kernel; ns/pair = time / (calls N K)")
    header = (f"{'N':>9} {'D':>2} {'K':>2}  {'function':<27} {'ref us':>11} {'ref ns/pr':>9} "
              f"{'new us':>11} {'new ns/pr':>9} {'speed-up':>8} {'max rel diff':>12}")
    print(header)
    print("-" * len(header))
    for N, D, K in CASES:
        if args.quick and N >= 1_000_000:
            continue
        for row in run_case(N, D, K, args.repeats):
            N_, D_, K_, name, ref_us, ref_ns, new_us, new_ns, ratio, err = row
            print(f"{N_:>9} {D_:>2} {K_:>2}  {name:<27} {ref_us:>11.1f} {ref_ns:>9.2f} "
                  f"{new_us:>11.1f} {new_ns:>9.2f} {ratio:>7.2f}x {err:>12.1e}", flush=True)
    print(f"# threading layer {numba.threading_layer()}; load average after: "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
