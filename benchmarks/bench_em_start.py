"""How often a bare ``fit_em(X, K)`` (one restart, the default seeding) stops at a poorer
optimum than the best of 20 restarts, beside scikit-learn's bare ``GaussianMixture(K)``, on
simulated clusters at D = 10 and 20 (K = 4, N = 3000; two covariance structures, full and diag,
10 seeds each: 80 fits a side). QA111: the old default (plain k-means++ seeds, one Lloyd step)
stopped short 19 times in 80, scikit-learn 6; the default since 6 Dec 2026 (greedy k-means++
seeds, scikit-learn's, one Lloyd step) 8 (benchmarks/README.md).

    .venv/bin/python benchmarks/bench_em_start.py        # about 2 minutes on 2 cores
"""

import warnings

import numpy as np

from bayesgmm import fit_em

try:
    from sklearn.mixture import GaussianMixture
except ImportError:  # a test dependency only
    GaussianMixture = None


def simulate(N: int, D: int, K: int, seed: int, thin: bool) -> np.ndarray:
    """K clusters around N(0, 2.5^2) centres; ``thin``: random covariance factors with a
    small floor (one cluster near a hyperplane), else near-identity ones."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.5, size=(K, D))
    z = rng.integers(K, size=N)
    X = np.empty((N, D))
    for k in range(K):
        A = (rng.normal(size=(D, D)) / np.sqrt(D) + 0.5 * np.eye(D) if thin
             else 0.3 * rng.normal(size=(D, D)) / np.sqrt(D) + np.eye(D))
        X[z == k] = centres[k] + rng.normal(size=((z == k).sum(), D)) @ A.T
    return X


def main() -> None:
    warnings.simplefilter("ignore")
    N, K, seeds = 3000, 4, 10
    stuck = {"bayesgmm": 0, "scikit-learn": 0}
    fits = 0
    for thin in (True, False):
        for D in (10, 20):
            X = simulate(N, D, K, D, thin)
            for ct in ("full", "diag"):
                best = fit_em(X, K, covariance_type=ct, random_state=0, n_init=10,
                              init=("kmeans++", "random_from_data")).log_likelihood
                for s in range(seeds):
                    fits += 1
                    ours = fit_em(X, K, covariance_type=ct, random_state=s).log_likelihood
                    stuck["bayesgmm"] += ours < best - 1
                    if GaussianMixture is not None:
                        theirs = GaussianMixture(K, covariance_type=ct, random_state=s).fit(X)
                        stuck["scikit-learn"] += theirs.score(X) * N < best - 1
            print(f"{'thin' if thin else 'round'} clusters, D={D}: stuck so far {stuck} "
                  f"of {fits}", flush=True)
    if GaussianMixture is None:
        print("scikit-learn is not installed: its column is not measured")
    print(f"bare fits stopped more than 1 log-likelihood unit below the best of 20 restarts: "
          f"bayesgmm {stuck['bayesgmm']} of {fits}, scikit-learn {stuck['scikit-learn']} of "
          f"{fits}")
    seeding_time()


def seeding_time(N: int = 1_000_000, D: int = 20, K: int = 10) -> None:
    """The start's cost at large N: one restart and one EM iteration from greedy k-means++
    seeds (the default) against plain ones (``init="plain_kmeans++"``), in this process."""
    import time

    X = simulate(N, D, K, 0, thin=False)
    # the first fit at this size pays ~5 s once (threads, first touch): untimed
    fit_em(X, K, covariance_type="diag", init="random_from_data", max_iter=1, random_state=0)
    seconds = {"kmeans++": np.inf, "plain_kmeans++": np.inf}
    for _ in range(2):  # alternated, the faster of two each (a noisy machine)
        for init in seconds:
            t = time.perf_counter()
            fit_em(X, K, covariance_type="diag", init=init, max_iter=1, random_state=0)
            seconds[init] = min(seconds[init], time.perf_counter() - t)
    print(f"N={N:,}, D={D}, K={K}: a restart and one EM step from greedy seeds "
          f"{seconds['kmeans++']:.2f} s, from plain seeds {seconds['plain_kmeans++']:.2f} s "
          f"(ratio {seconds['kmeans++'] / seconds['plain_kmeans++']:.2f})")


if __name__ == "__main__":
    main()
