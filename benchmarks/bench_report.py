"""How long the report takes at large N, relative to the fit it reports (same process).

Usage::

    python benchmarks/bench_report.py                 # N = 20,000 and 100,000 (2-D, K = 3)
    python benchmarks/bench_report.py --n 100000      # one size

For each N: simulate three 2-D clusters, ``fit_bayes(X, 3, draws=500, tune=500)``, then
``write_report``; print both times, their ratio (the machine's speed cancels) and the
process's peak resident memory so far (``ru_maxrss``: the largest N's row holds the run's
peak). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings

import matplotlib
import numpy as np

matplotlib.use("Agg")


def simulate(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sizes = [n // 2, n // 3, n - n // 2 - n // 3]
    centres, scales = ([0, 0], [4, 4], [0, 6]), (1.0, 1.0, 0.7)
    return np.concatenate([rng.normal(c, s, (k, 2))
                           for c, s, k in zip(centres, scales, sizes, strict=True)])


def main() -> None:
    import bayesgmm
    from bayesgmm.report import write_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20_000, 100_000])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'N':>8} {'fit s':>7} {'report s':>9} {'report / fit':>13} {'peak MB':>8}")
    for n in args.n:
        X = simulate(n)
        t0 = time.perf_counter()
        result = bayesgmm.fit_bayes(X, 3, draws=500, tune=500, random_state=1,
                                    progressbar=False)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            write_report(result, out)
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>8} {t1 - t0:>7.1f} {t2 - t1:>9.1f} {(t2 - t1) / (t1 - t0):>13.2f} "
              f"{peak:>8.0f}")


if __name__ == "__main__":
    main()
