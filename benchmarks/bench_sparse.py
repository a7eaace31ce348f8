"""fit_sparse at several Dirichlet concentrations e0: verdict, divergences, K+.

The sparse mixture is the hardest posterior the package samples with NUTS (an empty
component's log-weight has a long, flat tail); this prints, for each data set and e0, the
time, the number of divergent transitions, the posterior mode of K+ and its probability, the
causes the summary names and whether every check passed.

    .venv/bin/python benchmarks/bench_sparse.py                      # six data sets, 10-12 min
    .venv/bin/python benchmarks/bench_sparse.py --data galaxies --e0 0.01 0.05 0.1
    .venv/bin/python benchmarks/bench_sparse.py --data rounded2 --e0 0.01 --jitter 1

Data: four 1-D sets simulated as a QA session made them (three normals; a gamma cluster and a
normal one; one t3 cluster; two normals rounded to integers), galaxies and Old Faithful.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import bayesgmm


def simulated() -> dict[str, pd.DataFrame]:
    """The QA session's four 1-D data sets (one generator, in its order)."""
    rng = np.random.default_rng(1)
    z = rng.choice(3, size=600, p=[0.3, 0.5, 0.2])
    three = rng.normal(np.array([-4.0, 0.0, 5.0])[z], np.array([1.0, 0.7, 1.5])[z])
    skew2 = np.concatenate([rng.gamma(2.0, 1.0, 400), 12 + rng.normal(0, 1, 200)])
    t1 = rng.standard_t(3, 500)
    rounded2 = np.round(np.concatenate([rng.normal(20, 3, 300), rng.normal(30, 3, 300)]))
    return {name: pd.DataFrame({"x": x}) for name, x in
            (("three", three), ("skew2", skew2), ("t1", t1), ("rounded2", rounded2))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["three", "galaxies", "skew2", "t1",
                                                      "rounded2", "faithful"])
    parser.add_argument("--e0", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--k-max", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--target-accept", type=float, default=0.8)
    parser.add_argument("--jitter", type=float, default=0.0, metavar="STEP",
                        help="add uniform noise on (-STEP/2, STEP/2) to every value first "
                             "(undoes a rounding to STEP)")
    args = parser.parse_args()
    bayesgmm.progress.set_enabled(False)
    sets = {**simulated(), "galaxies": bayesgmm.load_galaxies(),
            "faithful": bayesgmm.load_old_faithful()}
    if args.jitter:  # each set its own noise (seed 0), whichever sets are run
        sets = {name: X + np.random.default_rng(0).uniform(-args.jitter / 2, args.jitter / 2,
                                                           X.shape)
                for name, X in sets.items()}
    print(f"fit_sparse, K_max = {args.k_max}, 4 x ({args.tune} + 1000), target_accept "
          f"{args.target_accept:g}, seed {args.seed}"
          + (f", values jittered within +-{args.jitter / 2:g}" if args.jitter else ""))
    print(f"{'data':9s} {'e0':>5s} {'time s':>7s} {'div.':>5s} {'mode':>4s} {'P(mode)':>7s}  "
          "checks    causes")
    for name in args.data:
        for e0 in args.e0:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sparse = bayesgmm.fit_sparse(sets[name], args.k_max, concentration=e0,
                                             random_state=args.seed, progressbar=False,
                                             tune=args.tune,
                                             target_accept=args.target_accept)
            d = sparse.diagnostics
            print(f"{name:9s} {e0:5g} {time.perf_counter() - start:7.1f} "
                  f"{d.n_divergences or 0:5d} {sparse.mode:4d} "
                  f"{sparse.posterior_counts[sparse.mode]:7.2f}  "
                  f"{'passed' if d.ok else 'failed':9s} {', '.join(d.causes)}", flush=True)


if __name__ == "__main__":
    main()
