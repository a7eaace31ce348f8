"""The predictive check's misfit rule: how often it flags a model that fits, how often one
that does not, and what it costs at large N.

A misfit needs p <= 0.01 or >= 0.99 *and* the data's value beyond the Bonferroni bound over
the statistics, in the replicates' sds (``PredictiveCheck.misfits``). Posteriors are the
test suite's stand-ins (EM estimates jittered by 5%, 2 chains x 100 draws: 200 replicates),
so no sampling is needed; their spread is narrower than a real posterior's, which makes
the false-flag rate an upper bound (posterior predictive p-values of a well-specified model
concentrate towards 0.5).

    .venv/bin/python benchmarks/bench_ppc.py            # ~1 min
    .venv/bin/python benchmarks/bench_ppc.py --seeds 100 --large
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import missing_at_random, posterior_stand_in, simulate_mixture  # noqa: E402

import bayesgmm  # noqa: E402
from bayesgmm.plots import predictive_check  # noqa: E402


def correlated(rng, n=500, D=6):
    """One Gaussian cluster, D = 6, every pair correlated 0.5 (27 statistics): fits K=1."""
    return pd.DataFrame(rng.multivariate_normal(np.zeros(D), 0.5 * np.eye(D) + 0.5, n),
                        columns=list("abcdef"[:D]))


def with_outliers(rng, n=400):
    """Three clusters and 3% gross outliers (uniform over a box 8 times as wide): a fit of
    K=3 without a noise component gives the outliers one and merges two clusters."""
    X = simulate_mixture(n=n, seed=int(rng.integers(1e6)))[0]
    lo, hi = X.min(axis=0), X.max(axis=0)
    far = rng.uniform(lo - 4 * (hi - lo), hi + 4 * (hi - lo), (n * 3 // 100, X.shape[1]))
    return pd.DataFrame(np.vstack([X, far]), columns=[f"x{j}" for j in range(X.shape[1])])


def rounded(rng):
    """Three clusters measured to 0.1 (sds ~1): many tied values."""
    return simulate_mixture(n=400, seed=int(rng.integers(1e6)))[0].round(1)


CASES = {  # name: (data from a Generator, K, whether the model fits)
    "6-D Gaussian, K=1": (correlated, 1, True),
    "three clusters, K=3": (lambda rng: simulate_mixture(n=400, seed=int(rng.integers(1e6)))[0],
                            3, True),
    "three clusters, N=3000": (
        lambda rng: simulate_mixture(n=3000, seed=int(rng.integers(1e6)))[0], 3, True),
    "rounded to 0.1, K=3": (rounded, 3, True),
    "1-D Gaussian, K=1": (lambda rng: pd.DataFrame({"x": rng.normal(0, 1, 500)}), 1, True),
    "integers, N=3000, K=1": (  # a Gaussian recorded to whole units: 25-30 distinct values
        lambda rng: pd.DataFrame({"x": np.round(rng.normal(50.3, 4.0, 3000))}), 1, True),
    "3 clusters + outliers": (with_outliers, 3, False),
    "missing at random, K=2": (missing_at_random, 2, True),
    "missing at random, K=1": (missing_at_random, 1, False),
    "1-D t3, K=1": (lambda rng: pd.DataFrame({"x": rng.standard_t(3, 500)}), 1, False),
    "1-D lognormal, K=1": (lambda rng: pd.DataFrame({"x": rng.lognormal(0, 0.6, 500)}), 1,
                           False),
    "Old Faithful, K=1": (lambda rng: bayesgmm.load_old_faithful(), 1, False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--large", action="store_true", help="also time N = 100,000")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"share of {args.seeds} data sets (stand-in posteriors, 200 replicates) with a misfit")
    print(f"{'case':24s} {'fits':>5s} {'S':>3s} {'flagged':>8s}  p <= 0.01 or >= 0.99 alone"
          "  flagged by a quantile statistic")
    for name, (make, K, fits) in CASES.items():
        flagged = by_p = by_quantile = 0
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            check = predictive_check(posterior_stand_in(make(rng), K, seed=seed, draws=100),
                                     random_state=seed)
            flagged += bool(check.misfits())
            by_p += bool(np.any((check.p <= 0.01) | (check.p >= 0.99)))
            by_quantile += any(label.startswith(("quartile", "octile"))
                               for label in check.misfit_labels())
        print(f"{name:24s} {'yes' if fits else 'no':>5s} {len(check.labels):3d} "
              f"{flagged / args.seeds:8.2f}  {by_p / args.seeds:.2f}"
              f"{by_quantile / args.seeds:30.2f}", flush=True)
    if args.large:
        X, _, _ = simulate_mixture(n=100_000, seed=1)
        post = posterior_stand_in(X, 3, draws=100)
        start = time.perf_counter()
        predictive_check(post, random_state=0)
        print(f"N = 100,000, D = 2, K = 3: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
