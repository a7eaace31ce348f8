"""How long the report takes at large N, relative to the fit it reports (same process).

Usage::

    python benchmarks/bench_report.py                 # N = 20,000 and 100,000 (2-D, K = 3)
    python benchmarks/bench_report.py --n 100000      # one size
    python benchmarks/bench_report.py --n 200000 --features 3 --components 4 \\
        --draws 200 --figures                         # the QA's case, figure by figure

For each N: simulate ``--components`` clusters in ``--features`` dimensions,
``fit_bayes(X, K, draws=..., tune=...)``, then ``write_report``; print both times, their ratio
(the machine's speed cancels) and the process's peak resident memory so far (``ru_maxrss``:
the largest N's row holds the run's peak). ``--figures``: also each figure function's seconds
and the most memory it added (resident set, sampled every 10 ms), and the noise-evidence
check's. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import functools
import resource
import tempfile
import threading
import time
import warnings

import matplotlib
import numpy as np

matplotlib.use("Agg")

_FIGURES = ("plot_data", "plot_em_convergence", "plot_forest", "plot_density", "plot_overlay",
            "plot_classification", "plot_membership", "plot_trace", "plot_rank", "plot_energy",
            "plot_ppc_density", "plot_ppc_statistics")


def simulate(n: int, features: int = 2, components: int = 3, seed: int = 0) -> np.ndarray:
    """``components`` near-spherical clusters: 2-D as before (the README's first tables);
    otherwise centred at 0 and 5 along one axis each."""
    rng = np.random.default_rng(seed)
    if features == 2 and components == 3:
        sizes = [n // 2, n // 3, n - n // 2 - n // 3]
        centres, scales = ([0, 0], [4, 4], [0, 6]), (1.0, 1.0, 0.7)
        return np.concatenate([rng.normal(c, s, (k, 2))
                               for c, s, k in zip(centres, scales, sizes, strict=True)])
    centres = np.zeros((components, features))
    for k in range(1, components):
        centres[k, (k - 1) % features] = 5.0
    labels = rng.integers(components, size=n)
    return centres[labels] + rng.standard_normal((n, features))


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _measured(function, name: str, rows: list):
    """``function``, recording (name, seconds, MB added at its peak) into ``rows``."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        start, peak, running = _resident_mb(), [0.0], [True]

        def sample():
            while running[0]:
                peak[0] = max(peak[0], _resident_mb())
                time.sleep(0.01)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - t0
            running[0] = False
            thread.join()
            rows.append((name, seconds, max(peak[0] - start, 0.0)))
    return run


def main() -> None:
    import bayesgmm
    from bayesgmm import plots, report
    from bayesgmm.report import write_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--features", type=int, default=2)
    parser.add_argument("--components", type=int, default=3)
    parser.add_argument("--draws", type=int, default=500, help="draws and tune per chain")
    parser.add_argument("--figures", action="store_true",
                        help="time each figure function and the noise-evidence check")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows: list = []
    if args.figures:
        for name in _FIGURES:
            setattr(plots, name, _measured(getattr(plots, name), name, rows))
        report._noise_hint = _measured(report._noise_hint, "noise evidence", rows)
        report._png = _measured(report._png, "PNG", rows)
    print(f"{'N':>8} {'fit s':>7} {'report s':>9} {'report / fit':>13} {'peak MB':>8}")
    for n in args.n:
        X = simulate(n, args.features, args.components)
        t0 = time.perf_counter()
        result = bayesgmm.fit_bayes(X, args.components, draws=args.draws, tune=args.draws,
                                    random_state=1, progressbar=False)
        t1 = time.perf_counter()
        rows.clear()
        with tempfile.TemporaryDirectory() as out:
            write_report(result, out, progressbar=False)
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>8} {t1 - t0:>7.1f} {t2 - t1:>9.1f} {(t2 - t1) / (t1 - t0):>13.2f} "
              f"{peak:>8.0f}")
        for name, seconds, added in rows:
            print(f"{'':>8} {name:<24} {seconds:>6.2f} s  +{added:>6.0f} MB")


if __name__ == "__main__":
    main()
