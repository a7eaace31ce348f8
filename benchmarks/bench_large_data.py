"""The README's "Large data" numbers, rerunnable: the command line on 50,000 and 100,000 rows.

Usage::

    python benchmarks/bench_large_data.py            # ~10-15 min on 2 cores
    python benchmarks/bench_large_data.py --scale 0.1   # the same steps on a tenth of the rows

Simulates two data sets as a cytometry / remote-sensing user has them (unequal, overlapping
components, a few uniform outliers, one cell missing in 1% / 0.5% of the rows):

- ``A``: 50,000 x 4, K = 4, weights 0.70 / 0.20 / 0.08 / 0.02, components 1 and 2 overlapping;
- ``B``: 100,000 x 6, K = 5, weights 0.55 / 0.25 / 0.12 / 0.05 / 0.03.

and runs, each as the user would in a fresh process (``bayesgmm`` from this interpreter's
environment): ``em`` on A (K = 4), ``select`` on A (EM criteria, K = 1-6 x 4 covariance types =
24 settings), ``fit`` on A (K = 4, the default ``draws="auto"``), and ``fit --noise
--max-time 240`` on B (K = 5). For each: wall time, peak memory of that process (``wait4``'s
``ru_maxrss``), the time over the ``em`` run of the same invocation (the machine's yardstick:
the seconds move with the load, the ratios much less), and how it ended (a fit's verdict and
its last convergence check, EM's log-likelihood, select's choices). The numba and PyTensor
caches are those of the user (``make install`` warms them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BAYESGMM = [sys.executable, "-m", "bayesgmm"]


def _correlated(sds: list[float], rho: float) -> np.ndarray:
    corr = np.full((len(sds), len(sds)), rho) + (1 - rho) * np.eye(len(sds))
    return np.diag(sds) @ corr @ np.diag(sds)


def simulate(n: int, weights: list[float], means: list[list[float]], covs: list[np.ndarray],
             outlier_share: float, missing_share: float, seed: int,
             columns: list[str]) -> pd.DataFrame:
    """Gaussian components, uniform outliers over 2x the data's range, one cell missing in
    ``missing_share`` of the rows."""
    rng = np.random.default_rng(seed)
    n_out = round(outlier_share * n)
    z = rng.choice(len(weights), size=n - n_out, p=np.asarray(weights) / np.sum(weights))
    X = np.empty((n - n_out, len(columns)))
    for k, (mean, cov) in enumerate(zip(means, covs, strict=True)):
        X[z == k] = rng.multivariate_normal(mean, cov, size=int(np.sum(z == k)))
    lo, hi = X.min(axis=0), X.max(axis=0)
    X = np.vstack([X, rng.uniform(lo - (hi - lo) / 2, hi + (hi - lo) / 2,
                                  size=(n_out, len(columns)))])
    X = X[rng.permutation(n)]
    rows = rng.choice(n, size=round(missing_share * n), replace=False)
    X[rows, rng.integers(0, len(columns), size=len(rows))] = np.nan
    return pd.DataFrame(X, columns=columns)


def data_sets(scale: float) -> dict[str, pd.DataFrame]:
    a = simulate(round(50_000 * scale), [0.70, 0.20, 0.08, 0.02],
                 [[0, 0, 0, 0], [1.8, 1.5, 0.5, 1.0], [5, -3, 4, 2], [-4, 5, -3, 6]],
                 [_correlated([1.0, 0.8, 1.2, 0.9], 0.6), _correlated([0.7] * 4, -0.3),
                  _correlated([0.5, 0.4, 0.6, 0.5], 0.0), _correlated([0.3] * 4, 0.5)],
                 0.003, 0.01, 11, ["FSC", "SSC", "CD4", "CD8"])
    b = simulate(round(100_000 * scale), [0.55, 0.25, 0.12, 0.05, 0.03],
                 [[0] * 6, [2, 2, 0, 0, 1, 1], [-3, 3, 3, -3, 0, 2], [4, -4, 2, 5, -2, 0],
                  [0, 0, -5, 0, 5, -5]],
                 [_correlated([1] * 6, 0.7), _correlated([0.6] * 6, 0.4),
                  _correlated([0.8] * 6, 0.2), _correlated([0.5] * 6, 0.8),
                  _correlated([0.4] * 6, 0.0)],
                 0.003, 0.005, 12, [f"b{i}" for i in range(1, 7)])
    return {"A": a, "B": b}


def outcome(lines: list[str]) -> str:
    """What a run ended with: a fit's verdict and its last sampling check, EM's fit, select's
    choice."""
    verdict = [line.split(":")[1].strip() for line in lines if line.startswith("Diagnostics:")]
    checks = [line.removeprefix("bayesgmm: ") for line in lines if "draws per chain:" in line]
    if verdict:
        return "; ".join([verdict[-1]] + checks[-1:])
    said = [line for line in lines if line.startswith(("EM:", "Best:"))]  # em, select
    return (said or lines or [""])[-1]


def timed(args: list[str]) -> tuple[float, float, str]:
    """Run ``bayesgmm args`` in a fresh process: (wall s, peak memory MB, how it ended)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(BAYESGMM + args, stdout=log, stderr=subprocess.STDOUT,
                                text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        log.seek(0)
        lines = [line.strip() for line in log.read().splitlines() if line.strip()]
    code = os.waitstatus_to_exitcode(status)
    said = outcome(lines) if code == 0 else f"exit {code}: {lines[-1] if lines else ''}"
    return wall, usage.ru_maxrss / 1024, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="share of the rows (1: 50,000 and 100,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {}
        for name, frame in data_sets(args.scale).items():
            files[name] = work / f"{name}.csv"
            frame.to_csv(files[name], index=False)
            print(f"data {name}: {frame.shape[0]:,} x {frame.shape[1]}, "
                  f"{int(frame.isna().to_numpy().sum())} missing cells", flush=True)
        steps = [
            ("em A, K=4", ["em", str(files["A"]), "-k", "4", "--seed", "1",
                           "--out", str(work / "em")]),
            ("select A, K=1-6 x 4 types", ["select", str(files["A"]), "-k", "1-6", "--seed",
                                           "1", "--out", str(work / "select")]),
            ("fit A, K=4 (draws auto)", ["fit", str(files["A"]), "-k", "4", "--seed", "1",
                                         "--out", str(work / "fitA")]),
            ("fit B, K=5 --noise --max-time 240",
             ["fit", str(files["B"]), "-k", "5", "--noise", "--seed", "1", "--max-time", "240",
              "--out", str(work / "fitB")]),
        ]
        print("\n| step | wall s | x em A | peak MB | outcome |\n|---|---|---|---|---|")
        reference = None
        for label, command in steps:
            wall, peak, last = timed(command)
            reference = reference or wall
            print(f"| {label} | {wall:.1f} | {wall / reference:.1f} | {peak:,.0f} | "
                  f"{last[:120]} |", flush=True)


if __name__ == "__main__":
    main()
