"""The E-step kernel (``bayesgmm.kernels``) against its original per-point implementation.

Usage::

    python benchmarks/bench_kernel.py            # N = 1e3 ... 1e6 (D=2, K=3) and N=1e5 (D=5, K=4)
    python benchmarks/bench_kernel.py --quick    # skip N = 1e6
    python benchmarks/bench_kernel.py --small    # only the small-N table (the sampler's density)

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

A second table (:func:`small_n_table`, alone with ``--small``) measures what one gradient of
the sampler costs at small N, where fixed per-call costs show: N = 0 (the fixed cost alone),
1e3, 1e4, 1e5 (K=3, D=2, full), each call made from a numba loop (a Python call costs ~1 us,
as much as what is measured), the rows interleaved in rounds, min and median over the rounds:

- ``callback``: nutpie's C callback (:func:`bayesgmm.native.callbacks`) through its user-data
  header, exactly what the sampler calls per leapfrog step (priors, transforms, likelihood,
  gradient);
- ``logp_and_gradient``: the same density without the C wrapper;
- ``value_and_grad``: :func:`bayesgmm.kernels.loglik_value_and_grad` (likelihood only);
- ``value_and_grad [before]``: the same with the per-call costs this version removed put back
  (an N-long array of ones for the weights; the small matrix products of the gradient through
  numba's ``@``, i.e. BLAS) -- the same-process reference for the small-N gain.

``ns/pc`` is time / (N K); ``x of 1e4`` divides the min by the same row's min at N = 1e4, so
values near 1 mean no fixed cost left (1e4, not 1e5: 1e4 points fit in the L2 cache, and on a
busy machine the 1.6 MB of N = 1e5 made it the slower per point). Rerun after changing
bayesgmm.kernels with ``NUMBA_CACHE_DIR`` pointing to an empty directory, or delete
``bayesgmm/backends/__pycache__/*.nb[ic]``:
numba's cache does not notice a change in a function called from another module, so the
callback would be loaded with the previous kernel inside.
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

from bayesgmm import kernels, native  # noqa: E402
from bayesgmm.backends import nutpie_model  # noqa: E402
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


@numba.njit(cache=True, nogil=True)
def _blas_gradient(weights, L, U, nk, s1c, c):
    """``gradient_from_statistics`` as it was: small products through numba's ``@`` (BLAS)."""
    K, D = L.shape[0], L.shape[1]
    dw = nk / weights
    dmu = np.zeros((K, D))
    dL = np.zeros((K, D, D))
    for k in range(K):
        Uk = U[k]
        prec = Uk @ Uk.T
        dmu[k] = prec @ s1c[k]
        Linv = Uk.T
        A = Linv @ c[k] @ Uk
        for d in range(D):
            A[d, d] -= nk[k]
        full = Uk @ A
        for a in range(D):
            for b in range(a + 1):
                dL[k, a, b] = full[a, b]
    return dw, dmu, dL


@numba.njit(cache=True, nogil=True)
def _value_and_grad_before(X, weights, means, L):
    """``loglik_value_and_grad`` with its former per-call costs: an N-long array of ones as
    the weights and the BLAS gradient."""
    U, log_det = precision_from_covariance_cholesky(L)
    total, nk, s1c, c = kernels.estep_serial(X, np.ones(X.shape[0]), np.log(weights), means, U,
                                             log_det, np.empty(0),
                                             np.empty((0, means.shape[0])))
    dw, dmu, dL = _blas_gradient(weights, L, U, nk, s1c, c)
    return total, dw, dmu, dL


@numba.njit(nogil=True)
def _loop_value_and_grad(X, weights, means, L, n):
    s = 0.0
    for _ in range(n):
        s += kernels.loglik_value_and_grad(X, weights, means, L)[0]
    return s


@numba.njit(nogil=True)
def _loop_value_and_grad_before(X, weights, means, L, n):
    s = 0.0
    for _ in range(n):
        s += _value_and_grad_before(X, weights, means, L)[0]
    return s


@numba.njit(nogil=True)
def _loop_density(theta, X, K, positions, params, grad, n):
    s = 0.0
    for _ in range(n):
        s += native.logp_and_gradient(theta, X, K, 0, 0, positions, params, 0.0, grad)
    return s


def _callback_loop():
    """A numba loop calling the sampler's C callback through ctypes (no Python per call)."""
    fn = native.callbacks()[0].ctypes

    @numba.njit
    def loop(x, out, logp, header, n):
        status = 0
        for _ in range(n):
            status += fn(x.shape[0], x.ctypes, out.ctypes, logp.ctypes, header.ctypes)
        return status

    return loop


def small_n_table(sizes=(0, 1_000, 10_000, 100_000), rounds: int = 25, cpu_time: bool = False):
    """Rows (N, function, min us, median us, min ns/pc, median ns/pc, min x of N=1e5).

    ``cpu_time``: time with the calling thread's CPU clock instead of the wall clock, so that
    time spent descheduled on a loaded machine does not count (cache pollution by other jobs
    still does)."""
    clock = time.thread_time if cpu_time else time.perf_counter
    import types as pytypes

    K, D = 3, 2
    rng = np.random.default_rng(0)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [2.5, 0.5], [0.5, 3.0]])
    L = np.linalg.cholesky(np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]],
                                     [[1.5, 0.0], [0.0, 0.5]]]))
    spec = pytypes.SimpleNamespace(n_components=K, covariance_type="full", ordered_means=False,
                                  noise=False)
    n_dim = K - 1 + 2 * K * D + K
    theta = rng.normal(size=n_dim) * 0.1
    positions = native.correlation_positions(D).astype(np.int64)
    from bayesgmm.layout import MixtureModelSpec

    # the default priors' table, from the layout (the density reads every prior from it)
    params = native.prior_parameters(MixtureModelSpec(K, D, "full", np.zeros(D), np.ones(D),
                                                      False, ()))
    callback = _callback_loop()
    out, logp, grad = np.empty(n_dim), np.empty(1), np.empty(n_dim)
    cases = {}
    for N in sizes:
        X = np.ascontiguousarray(rng.normal(size=(N, D)) * 1.5)
        header = nutpie_model._header({"x_std": X, "x_center": np.zeros(D), "x_scale": np.ones(D),
                                 "positions": positions, "params": params}, spec, n_dim, 0)
        calls = {
            "callback": lambda n, X=X, h=header: callback(theta, out, logp, h, n),
            "logp_and_gradient": lambda n, X=X: _loop_density(theta, X, K, positions, params,
                                                              grad, n),
            "value_and_grad": lambda n, X=X: _loop_value_and_grad(X, weights, means, L, n),
            "value_and_grad [before]": lambda n, X=X: _loop_value_and_grad_before(
                X, weights, means, L, n),
        }
        for f in calls.values():
            if f(1) != f(1):  # warm-up (compile or load from cache)
                raise RuntimeError("not deterministic")
        cases[N] = calls
    times = {(N, name): [] for N, calls in cases.items() for name in calls}
    for _ in range(rounds):
        for N, calls in cases.items():
            n = max(20, int(3e5 / max(N, 100)))
            for name, f in calls.items():
                t = clock()
                f(n)
                times[(N, name)].append((clock() - t) / n)
    rows = []
    for (N, name), ts in times.items():
        ts = np.array(ts)
        pairs = N * K
        per_pc = (ts.min() / pairs * 1e9, float(np.median(ts)) / pairs * 1e9) if N else (
            float("nan"), float("nan"))
        rows.append([N, name, ts.min() * 1e6, float(np.median(ts)) * 1e6, *per_pc])
    large = {row[1]: row[4] for row in rows if row[0] == 10_000}
    for row in rows:
        row.append(row[4] / large[row[1]] if row[0] else float("nan"))
    return rows


def print_small_n(rows):
    print("\n# small N: one gradient of the sampler's density (K=3, D=2, full), each call from "
          "a numba loop; min / median over interleaved rounds")
    header = (f"{'N':>7}  {'function':<25} {'min us':>9} {'median us':>10} {'min ns/pc':>10} "
              f"{'med ns/pc':>10} {'x of 1e4':>8}")
    print(header)
    print("-" * len(header))
    for N, name, t_min, t_med, pc_min, pc_med, ratio in rows:
        print(f"{N:>7}  {name:<25} {t_min:>9.2f} {t_med:>10.2f} {pc_min:>10.2f} "
              f"{pc_med:>10.2f} {ratio:>8.2f}")


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
    parser.add_argument("--cpu-time", action="store_true",
                        help="small-N table: the thread's CPU time, not wall time (a loaded "
                             "machine)")
    parser.add_argument("--small", action="store_true",
                        help="only the small-N table of the sampler's density")
    args = parser.parse_args(argv)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba {numba.__version__} ({numba.get_num_threads()} threads), "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.small:
        print_small_n(small_n_table(cpu_time=args.cpu_time))
        print(f"# load average after: {os.getloadavg()[0]:.2f}")
        return
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
    print_small_n(small_n_table())
    print(f"# threading layer {numba.threading_layer()}; load average after: "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
