"""A full default posterior on a large data set: N = 1e6, K = 3, D = 2, full covariances.

Usage::

    python benchmarks/bench_large.py              # N = 1e6, 4 chains x (1000 tune + 1000 draws)
    python benchmarks/bench_large.py --n 100000   # a smaller run

Goal (speed issue): under 15 minutes on 2 cores with R-hat < 1.01. Prints the wall time of
each stage (EM, compile, sampling, post-processing), the nutpie backend that ``fit_bayes``
chose, and the diagnostics (max R-hat, min bulk/tail ESS, divergences, verdict). The pointwise
log-likelihood group is left out at this size (4e9 values); ``fit_bayes`` says so.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from bench_sampling import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--draws", type=lambda v: v if v == "auto" else int(v), default=1000,
                        help="per chain, or 'auto' (until converged, as fit_bayes's default)")
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--metric", choices=("auto", "diag", "laplace"), default="auto",
                        help="nutpie's metric (auto: Laplace-whitened where "
                             "bayesgmm.settings.laplace_affordable allows)")
    parser.add_argument("--data", choices=("simulated", "gpu"), default="simulated",
                        help="gpu: bench_jax.py's K=5, D=4 mixture (default: K=3, D=2)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from bayesgmm import SamplerSettings, fit_bayes

    if args.data == "gpu":
        from bench_jax import _simulate

        K, X = 5, _simulate(args.n, 5, 4, 0)
    else:
        K, X = 3, simulate(args.n, seed=0)
    print(f"bench_large: N={args.n}, K={K}, D={X.shape[1]}, full; {args.chains} chains x "
          f"({args.tune} tune + {args.draws} draws); {os.cpu_count()} cores")
    settings = SamplerSettings(draws=args.draws, tune=args.tune, chains=args.chains,
                               metric=args.metric, progressbar=False)
    result = fit_bayes(X, K, settings=settings, random_state=1)
    wall = time.perf_counter() - t0
    timing = result.settings["timing"]
    print("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))
    print(f"nutpie backend: {result.settings['nutpie_backend']}; metric {args.metric}, "
          f"Laplace-whitened: {result.settings['laplace_metric']}")
    print(f"wall time (including imports and simulation): {wall:.1f} s = {wall / 60:.1f} min")
    d = result.diagnostics()
    print(d)
    ok = wall < 15 * 60 and d.max_rhat < 1.01
    print(f"goal (< 15 min, R-hat < 1.01): {'met' if ok else 'NOT met'}")
    steps = result.idata["sample_stats"]["n_steps"].to_numpy()
    print(f"leapfrog steps per draw: {float(np.mean(steps)):.1f}")


if __name__ == "__main__":
    main()
