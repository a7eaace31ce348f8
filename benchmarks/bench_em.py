"""bayesgmm's EM against scikit-learn's GaussianMixture, from the same start, with the same tol.

Usage::

    python benchmarks/bench_em.py            # N = 1e3 ... 1e6 (D=2, K=3) and N=1e5 (D=5, K=4)
    python benchmarks/bench_em.py --quick    # skip N = 1e6
    python benchmarks/bench_em.py --stopping # the default stopping rule vs the optimum
    python benchmarks/bench_em.py --seeding  # restarts from k-means++ alone vs two seedings
    python benchmarks/bench_em.py --start 400000  # fit_map_start on a subsample vs every row
    python benchmarks/bench_em.py --features 10 25  # wider data: every covariance type, N=3,000

Both fits use full covariances, the same explicit initial parameters (perturbed truth), the same
``tol`` (change of the mean log-likelihood per point, the same semantics in both; bayesgmm's
total-change rule is switched off with ``atol=np.inf``) and the same ``reg_covar``, so they
run the same EM trajectory and their iteration counts should agree.
Each row is the median wall time of repeated fits (5 runs, 3 at N = 1e6; the two libraries'
runs alternate so that both see the same machine load). numba's JIT is warmed up before any
timing, so compilation (or loading numba's on-disk cache) is excluded.

Threads: bayesgmm's E-step uses numba's threads (all cores by default; ``--numba-threads``).
BLAS/LAPACK is limited to one thread (``--blas-threads``) for both libraries: with D <= 5 BLAS
has nothing worth parallelising, and on a busy machine each tiny multi-threaded LAPACK call
(scikit-learn's per-iteration Cholesky solves) can stall for milliseconds waiting for a worker.
scikit-learn always runs a k-means pass in ``fit`` even when every initial parameter is given and
then discards it; the benchmark skips that pass (see :class:`SklearnFromParameters`) so that
both sides time EM only.

``--stopping`` measures the stopping rule instead (:func:`stopping_table`): bayesgmm's default
fit (``init="kmeans++"``, ``random_state=0``) at N = 1e5 and 1e6, D=2, K=3, on
``bench_sampling.simulate`` (the sampling benchmark's mixture) and on the same mixture with its
means drawn in to 0.6 times their distance (overlapping components: EM creeps), under three
rules from the same start: scikit-learn's alone (``tol=1e-3`` per sample, ``atol=np.inf``;
scikit-learn's default, same iterations), the default (``tol=1e-3`` and ``atol=0.01``), and a
tight reference (``tol=1e-10``, ``atol=np.inf``). It prints iterations, final log-likelihood,
its gap to the tight run and the wall time (median of 3 fits, numba warmed up).

``--features D [D ...]`` times wider data instead (:func:`features_table`): N = 3,000 (``--n``),
K = 3 (centres' coordinates of sd sqrt(2 / D): overlapping components, so that EM iterates),
each of the four covariance types, the same explicit start for both libraries (the
truth's covariances doubled, reduced to the type: tied averages them, diag keeps the diagonals,
spherical their mean) and ``tol=1e-8``; each row is the median of 5 alternating fits.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numba
import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

import bayesgmm
from bayesgmm import fit_em

TOL = 1e-6
MAX_ITER = 500
REG_COVAR = 1e-6
# (N, D, K, repeats)
CASES = [
    (1_000, 2, 3, 5),
    (10_000, 2, 3, 5),
    (100_000, 2, 3, 5),
    (1_000_000, 2, 3, 3),
    (100_000, 5, 4, 5),
]


class SklearnFromParameters(GaussianMixture):
    """GaussianMixture that starts straight from weights/means/precisions_init.

    ``GaussianMixture.fit`` runs k-means (``init_params="kmeans"``) even when all three initial
    parameters are given, then overwrites its result with them; that pass is skipped here.
    """

    def _initialize_parameters(self, X, random_state, xp=None):
        self._initialize(X, None)


def simulate_truth(N: int, D: int, K: int, rng: np.random.Generator, mean_scale: float = 4.0):
    """N points from a random K-component D-dimensional mixture, and its (weights, means,
    covariances, Cholesky factors)."""
    weights = rng.dirichlet(np.full(K, 5.0))
    means = rng.normal(scale=mean_scale, size=(K, D))
    A = rng.normal(size=(K, D, D))
    covs = A @ A.transpose(0, 2, 1) / D + 0.3 * np.eye(D)
    labels = rng.choice(K, size=N, p=weights)
    chol = np.linalg.cholesky(covs)
    X = means[labels] + np.einsum("nij,nj->ni", chol[labels], rng.standard_normal((N, D)))
    return np.ascontiguousarray(X), weights, means, covs, np.ascontiguousarray(chol)


def simulate(N: int, D: int, K: int, seed: int = 0, mean_scale: float = 4.0):
    """N points from a K-component D-dimensional mixture, and a perturbed-truth start."""
    rng = np.random.default_rng(seed)
    X, _, means, covs, _ = simulate_truth(N, D, K, rng, mean_scale)
    start = {
        "weights": np.full(K, 1.0 / K),
        "means": means + rng.normal(scale=1.0, size=(K, D)),
        "covariances": covs * 2.0,
    }
    return X, start


def time_bayesgmm(X, K, start, threads=None, covariance_type="full", tol=TOL):
    """Fit with numba's ``threads`` (None: the current setting); 1 forces the serial E-step."""
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        t0 = time.perf_counter()
        # atol=np.inf: scikit-learn's stopping rule alone, so both run the same iterations
        result = fit_em(X, K, covariance_type=covariance_type, init=start, tol=tol, atol=np.inf,
                        max_iter=MAX_ITER, reg_covar=REG_COVAR)
        elapsed = time.perf_counter() - t0
    finally:
        numba.set_num_threads(previous)
    return elapsed, result.n_iter, result.log_likelihood


def time_sklearn(X, K, start, covariance_type="full", tol=TOL):
    covariances = start["covariances"]
    precisions = (np.linalg.inv(covariances) if covariance_type in ("full", "tied")
                  else 1.0 / covariances)
    gm = SklearnFromParameters(
        K, covariance_type=covariance_type, tol=tol, max_iter=MAX_ITER, reg_covar=REG_COVAR,
        weights_init=start["weights"], means_init=start["means"], precisions_init=precisions,
    )
    t0 = time.perf_counter()
    gm.fit(X)
    elapsed = time.perf_counter() - t0
    return elapsed, gm.n_iter_, gm.score(X) * X.shape[0]


def warm_up():
    """Compile (or load from numba's cache) every kernel the timed fits use, on both the
    serial and the parallel E-step paths, and start numba's thread pool."""
    X, start = simulate(30_000, 2, 3, seed=99)  # N*K above the parallel threshold
    for threads in (None, 1):
        for n in (300, X.shape[0]):
            time_bayesgmm(X[:n], 3, start, threads=threads)
    time_sklearn(X[:300], 3, start)


def run_case(N, D, K, repeats):
    X, start = simulate(N, D, K)
    ours, serial, theirs = [], [], []
    for _ in range(repeats):  # alternate, so all see the same background load
        ours.append(time_bayesgmm(X, K, start))
        serial.append(time_bayesgmm(X, K, start, threads=1))
        theirs.append(time_sklearn(X, K, start))
    t_ours = float(np.median([r[0] for r in ours]))
    t_serial = float(np.median([r[0] for r in serial]))
    t_theirs = float(np.median([r[0] for r in theirs]))
    it_ours, ll_ours = ours[0][1], ours[0][2]
    it_theirs, ll_theirs = theirs[0][1], theirs[0][2]
    return {
        "N": N, "D": D, "K": K, "runs": repeats,
        "it_ours": it_ours, "it_theirs": it_theirs,
        "t_ours": t_ours, "t_serial": t_serial, "t_theirs": t_theirs,
        "ratio": t_theirs / t_ours,
        "rel_diff": abs(ll_ours - ll_theirs) / abs(ll_theirs),
        "ns_ours": 1e9 * t_ours / (it_ours * N * K),
        "ns_theirs": 1e9 * t_theirs / (it_theirs * N * K),
    }


STOPPING_RULES = (
    ("scikit-learn (tol=1e-3, atol=inf)", {"tol": 1e-3, "atol": np.inf}),
    ("default (tol=1e-3, atol=0.01)", {}),
    ("tight (tol=1e-10, atol=inf)", {"tol": 1e-10, "atol": np.inf, "max_iter": 10_000}),
)


def simulate_spread(N: int, seed: int = 0, spread: float = 1.0) -> np.ndarray:
    """``bench_sampling.simulate``'s mixture (the same draws at ``spread=1``) with its means
    scaled by ``spread``: 0.6 makes the components overlap, so that EM creeps."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.5, 0.3, 0.2])
    means = spread * np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
    covs = np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]],
                     [[1.5, 0.0], [0.0, 0.5]]])
    labels = rng.choice(3, size=N, p=weights)
    chol = np.linalg.cholesky(covs)
    return means[labels] + np.einsum("nij,nj->ni", chol[labels], rng.standard_normal((N, 2)))


def stopping_table(sizes=(100_000, 1_000_000), repeats: int = 3):
    """Rows (data, N, rule, n_iter, log-likelihood, gap to the tight run, median seconds)."""
    rows = []
    for data, spread in (("separated", 1.0), ("overlapping", 0.6)):
        for N in sizes:
            X = simulate_spread(N, 0, spread)
            fits = []
            for label, kw in STOPPING_RULES:
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    result = fit_em(X, 3, random_state=0, **kw)
                    times.append(time.perf_counter() - t0)
                fits.append((label, result, float(np.median(times))))
            best = fits[-1][1].log_likelihood
            for label, result, seconds in fits:
                rows.append((data, N, label, result.n_iter, result.log_likelihood,
                             best - result.log_likelihood, seconds))
    return rows


def print_stopping(rows):
    print("EM stopping rules: fit_em(X, 3) (full, init='kmeans++', random_state=0), D=2, K=3; "
          "gap = tight log-likelihood - this one; seconds: median of 3 fits, numba warm\n")
    _print_rows(f"{'data':<12} {'N':>9} {'rule':<34} {'iter':>5} {'log-likelihood':>17} "
                f"{'gap':>10} {'seconds':>8}",
                [f"{data:<12} {N:>9,d} {label:<34} {n_iter:>5d} {ll:>17,.3f} {gap:>10.2e} "
                 f"{seconds:>8.3f}" for data, N, label, n_iter, ll, gap, seconds in rows])


def print_header(blas_threads):
    print(f"bayesgmm {bayesgmm.__version__} | scikit-learn {sklearn.__version__} | "
          f"numpy {np.__version__} | numba {numba.__version__} | "
          f"python {platform.python_version()}")
    print(f"CPU cores {os.cpu_count()} | numba threads {numba.get_num_threads()} | "
          f"BLAS threads {blas_threads} | covariance 'full' | tol {TOL:g} | "
          f"reg_covar {REG_COVAR:g} | same explicit start for both")
    print("times: median wall seconds of repeated fits, numba warmed up (compile excluded); "
          "'(1 thread)': bayesgmm with numba limited to one thread (serial E-step)")
    print("ns/pc-it: time per iteration per point-component (time / (n_iter * N * K))\n")


def print_table(rows):
    _print_rows(f"{'N':>9} {'D':>2} {'K':>2} {'runs':>4} {'iter ours/skl':>13} "
                f"{'bayesgmm s':>11} {'(1 thread)':>10} {'sklearn s':>10} {'skl/ours':>8} "
                f"{'|dLL|/|LL|':>10} {'ns/pc-it ours':>13} {'ns/pc-it skl':>12}",
                [f"{r['N']:>9,d} {r['D']:>2d} {r['K']:>2d} {r['runs']:>4d} "
                 f"{r['it_ours']:>6d}/{r['it_theirs']:<6d} "
                 f"{r['t_ours']:>11.4f} {r['t_serial']:>10.4f} {r['t_theirs']:>10.4f} "
                 f"{r['ratio']:>8.1f} "
                 f"{r['rel_diff']:>10.1e} {r['ns_ours']:>13.2f} {r['ns_theirs']:>12.2f}"
                 for r in rows])


def _print_rows(head: str, lines) -> None:
    """A table's head, a rule as wide, then its lines."""
    print(head)
    print("-" * len(head))
    for line in lines:
        print(line)


def simulate_outliers(seed: int = 0) -> np.ndarray:
    """585 points in 3-D: clusters of 200, 180, 170 and 30 points and 5 gross outliers (sd 40
    about the origin): what k-means++ seeding meets in real measurements."""
    rng = np.random.default_rng(seed)
    means = np.array([[0, 0, 0], [6, 1, 1], [0, 6, -2], [7, 7, 6]], float)
    X = np.vstack([rng.normal(m, 1.0, (n, 3))
                   for m, n in zip(means, (200, 180, 170, 30), strict=True)])
    return np.vstack([X, rng.normal(0, 40, (5, 3))])


def seeding_table(seeds=range(1, 21)) -> None:
    """Each case's EM fit for ``seeds``: 10 and 20 restarts from k-means++ (``fit_em``'s
    default family) against 10 from each of k-means++ and random data points (``bayesgmm em``
    and ``select_em``); mean log-likelihood and how many seeds reach the best any found."""
    from bayesgmm import fit_em, load_galaxies, load_old_faithful
    from bayesgmm.em import BOTH_INITS

    cases = [("outliers K=4", simulate_outliers(), 4),
             ("outliers K=4, noise", simulate_outliers(), 4, True),
             ("Old Faithful K=3", load_old_faithful().to_numpy(), 3),
             ("galaxies K=4", load_galaxies().to_numpy(), 4),
             ("galaxies K=6", load_galaxies().to_numpy(), 6)]
    print(f"EM, seeds {seeds[0]}-{seeds[-1]}: mean log-likelihood (seeds within 0.5 of the "
          "best any found)")
    print(f"{'case':22s} {'best':>10s} {'k-means++ x10':>20s} {'k-means++ x20':>20s} "
          f"{'both seedings x10':>20s}")
    for name, X, K, *noise in cases:
        # k-means++ x20: as many restarts as the two seedings take, so the comparison is of
        # the seeding, not of the number of restarts
        runs = [np.array([fit_em(X, K, n_init=n, init=init, random_state=s,
                                 noise=bool(noise)).log_likelihood for s in seeds])
                for n, init in ((10, "kmeans++"), (20, "kmeans++"), (10, BOTH_INITS))]
        best = max(r.max() for r in runs)
        cells = [f"{r.mean():10.1f} ({np.sum(r > best - 0.5):2d}/{len(r)})" for r in runs]
        print(f"{name:22s} {best:10.1f} " + " ".join(f"{c:>20s}" for c in cells))


# (data seed, K) of --start: bench_jax's K=5, D=4 mixture; K=6 is one component too many
START_CASES = ((0, 5), (3, 4), (5, 6), (7, 5))


def start_table(n: int, cases=START_CASES, n_init: int = 10) -> None:
    """fit_map_start's search on a subsample (the default above 200,000 rows) against the
    search on every row: seconds and the best log posterior, one process, alternating."""
    import sys

    from bayesgmm.em import fit_map_start

    sys.path.insert(0, os.path.dirname(__file__))
    from bench_jax import _simulate

    print(f"fit_map_start, N={n:,}, D=4, n_init={n_init}: subsample='auto' vs None")
    print("| data seed, K | auto s | auto log posterior | every row s | every row log posterior |")
    print("|---|---|---|---|---|")
    for seed, K in cases:
        X = _simulate(n, 5, 4, seed)
        out = []
        for subsample in ("auto", None):
            t0 = time.perf_counter()
            fit = fit_map_start(X, K, n_init=n_init, random_state=1, subsample=subsample)
            out += [f"{time.perf_counter() - t0:.1f}", f"{fit.log_posterior:,.2f}"]
        print(f"| {seed}, {K} | " + " | ".join(out) + " |", flush=True)


COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def typed_start(start: dict, covariance_type: str) -> dict:
    """``simulate``'s full-covariance start reduced to ``covariance_type``'s shape."""
    covs = start["covariances"]
    reduced = {"full": covs, "tied": covs.mean(axis=0),
               "diag": np.diagonal(covs, axis1=1, axis2=2).copy(),
               "spherical": np.diagonal(covs, axis1=1, axis2=2).mean(axis=1)}
    return {**start, "covariances": reduced[covariance_type]}


def features_table(widths, n: int = 3_000, K: int = 3, repeats: int = 5) -> list[dict]:
    """Rows of bayesgmm vs scikit-learn at D in ``widths``, every covariance type."""
    rows = []
    for D in widths:
        # centres' coordinates of sd sqrt(2 / D): expected squared distance 4 whatever D, so
        # the components overlap and EM iterates (at sd 4 it converged in 3 iterations and
        # the table timed the fixed costs alone)
        X, full_start = simulate(n, D, K, seed=D, mean_scale=np.sqrt(2.0 / D))
        for covariance_type in COVARIANCE_TYPES:
            start = typed_start(full_start, covariance_type)
            kw = {"covariance_type": covariance_type, "tol": 1e-8}
            time_bayesgmm(X, K, start, **kw)  # compile this type's kernels outside the timing
            ours, theirs = [], []
            for _ in range(repeats):
                ours.append(time_bayesgmm(X, K, start, **kw))
                theirs.append(time_sklearn(X, K, start, **kw))
            t_ours = float(np.median([r[0] for r in ours]))
            t_theirs = float(np.median([r[0] for r in theirs]))
            rows.append({"D": D, "type": covariance_type, "it_ours": ours[0][1],
                         "it_theirs": theirs[0][1], "t_ours": t_ours, "t_theirs": t_theirs,
                         "ratio": t_theirs / t_ours,
                         "rel_diff": abs(ours[0][2] - theirs[0][2]) / abs(theirs[0][2])})
    return rows


def print_features(rows, n: int) -> None:
    print(f"Wider data: N={n:,}, K=3, same explicit start, tol=1e-8; seconds: median of 5 "
          "alternating fits, numba warm\n")
    _print_rows(f"{'D':>3} {'type':<9} {'iter ours/skl':>13} {'bayesgmm s':>11} "
                f"{'sklearn s':>10} {'skl/ours':>8} {'|dLL|/|LL|':>10}",
                [f"{r['D']:>3d} {r['type']:<9} {r['it_ours']:>6d}/{r['it_theirs']:<6d} "
                 f"{r['t_ours']:>11.4f} {r['t_theirs']:>10.4f} {r['ratio']:>8.1f} "
                 f"{r['rel_diff']:>10.1e}" for r in rows])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip N = 1e6")
    parser.add_argument("--stopping", action="store_true",
                        help="compare stopping rules against a tight-tolerance fit instead")
    parser.add_argument("--seeding", action="store_true",
                        help="compare restarts from k-means++ alone with two seedings")
    parser.add_argument("--numba-threads", type=int, default=None,
                        help="threads for bayesgmm's E-step (default: numba's, all cores)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS/LAPACK threads for both libraries (default 1)")
    parser.add_argument("--start", type=int, metavar="N", default=None,
                        help="time fit_map_start's subsample search against every row at N "
                             "rows instead (400000 in benchmarks/README.md)")
    parser.add_argument("--features", type=int, nargs="+", metavar="D", default=None,
                        help="time wider data (every covariance type) at these D instead")
    parser.add_argument("--n", type=int, default=3_000,
                        help="rows for --features (default 3000)")
    args = parser.parse_args(argv)
    if args.numba_threads is not None:
        numba.set_num_threads(args.numba_threads)
    if args.features is not None:
        warm_up()
        with warnings.catch_warnings(), threadpool_limits(args.blas_threads):
            warnings.simplefilter("ignore")
            print_features(features_table(args.features, n=args.n), args.n)
        return
    if args.start is not None:
        warm_up()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start_table(args.start)
        return
    if args.seeding:
        with warnings.catch_warnings(), threadpool_limits(args.blas_threads):
            warnings.simplefilter("ignore")
            seeding_table()
        return
    if args.stopping:
        warm_up()
        with warnings.catch_warnings(), threadpool_limits(args.blas_threads):
            warnings.simplefilter("ignore")
            print_stopping(stopping_table(sizes=(100_000,) if args.quick else
                                          (100_000, 1_000_000)))
        return
    print_header(args.blas_threads)
    warm_up()
    rows = []
    with warnings.catch_warnings(), threadpool_limits(args.blas_threads):
        warnings.simplefilter("ignore")  # a ConvergenceWarning would show in the n_iter column
        for N, D, K, repeats in CASES:
            if args.quick and N >= 1_000_000:
                continue
            rows.append(run_case(N, D, K, repeats))
    print_table(rows)


if __name__ == "__main__":
    main()
