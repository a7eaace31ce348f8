"""Issue 14's cost: the complete-data kernel before and after, and what the row plan costs.

Usage::

    python benchmarks/bench_observations.py                 # N = 1e4 and 1e5 (D=3, K=3)
    python benchmarks/bench_observations.py --before REV    # another reference commit

Two tables, every row timed in the same process, rows interleaved over ``--rounds`` rounds
(min and median; the machines are noisy):

1. **Complete data, before and after.** ``bayesgmm/kernels.py`` as it was at ``--before``
   (default: the commit before the row plan, 57fda6c) is loaded from git as a separate module
   next to today's, and both run ``loglik_value_and_grad`` (the sampler's hot path) and
   ``estep_serial`` on the same data. Issue 14 asks for the complete-data path to be
   unchanged: the ``after/before`` column should be ~1.
2. **The row plan.** ``plan_value_and_grad`` on the same data with 0 %, 10 % and 30 % of the
   values missing at random, with every 10th point labelled, and with a noise component,
   against ``loglik_value_and_grad`` on the complete data: the price of marginalising.

``ns/pc`` = time per call / (N K).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from bayesgmm import kernels

ROOT = Path(__file__).resolve().parents[1]


def load_kernels_at(rev: str):
    """``bayesgmm/kernels.py`` at git revision ``rev``, imported as its own module."""
    source = subprocess.run(["git", "show", f"{rev}:bayesgmm/kernels.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from . import covariance", "from bayesgmm import covariance")
    path = Path(tempfile.mkdtemp()) / "kernels_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("kernels_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kernels_before"] = module
    spec.loader.exec_module(module)
    return module


@numba.njit
def _repeat_value_and_grad(f, X, w, mu, L, n):
    s = 0.0
    for _ in range(n):
        s += f(X, w, mu, L)[0]
    return s


def timed(call, repeats):
    t = time.perf_counter()
    call(repeats)
    return (time.perf_counter() - t) / repeats


def problem(N, D, K, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    means = rng.normal(size=(K, D))
    A = rng.normal(size=(K, D, D)) * 0.3
    L = np.linalg.cholesky(A @ A.transpose(0, 2, 1) + np.eye(D))
    return X, np.full(K, 1.0 / K), means, L


def with_holes(X, fraction, seed=1):
    rng = np.random.default_rng(seed)
    holes = rng.random(X.shape) < fraction
    holes[holes.all(axis=1), 0] = False
    Xm = X.copy()
    Xm[holes] = np.nan
    return Xm


def table(rows, rounds, N, K):
    times = {name: [] for name, _ in rows}
    for _ in range(rounds):
        for name, call in rows:
            times[name].append(call())
    return {name: (min(t) / (N * K) * 1e9, float(np.median(t)) / (N * K) * 1e9)
            for name, t in times.items()}


def compare_complete(before, N, rounds, D=3, K=3):
    """One line per function: the complete-data kernel at ``--before`` and today."""
    X, w, mu, L = problem(N, D, K)
    repeats = max(1, 2_000_000 // N)
    U, log_det = kernels.precision_from_covariance_cholesky(L)
    empty, no_resp, lw = np.empty(0), np.empty((0, K)), np.log(w)
    assert np.isclose(kernels.loglik_value_and_grad(X, w, mu, L)[0],
                      before.loglik_value_and_grad(X, w, mu, L)[0], rtol=1e-12)

    def value_and_grad(module):
        return lambda: timed(lambda n: _repeat_value_and_grad(
            module.loglik_value_and_grad, X, w, mu, L, n), repeats)

    def estep(module):
        return lambda: timed(lambda n: [module.estep_serial(X, empty, lw, mu, U, log_det, empty,
                                                            no_resp) for _ in range(n)],
                             repeats)

    rows = [("value_and_grad before", value_and_grad(before)),
            ("value_and_grad after", value_and_grad(kernels)),
            ("estep_serial before", estep(before)),
            ("estep_serial after", estep(kernels))]
    for _, call in rows:  # warm-up (compilation excluded)
        call()
    res = table(rows, rounds, N, K)
    for fn in ("value_and_grad", "estep_serial"):
        b, a = res[f"{fn} before"], res[f"{fn} after"]
        print(f"{N:>8} {fn:<24} {b[0]:6.2f} / {b[1]:6.2f} {a[0]:6.2f} / {a[1]:6.2f} "
              f"{a[0] / b[0]:13.3f}")


def plan_costs(N, rounds, D=3, K=3):
    """One line per case: plan_value_and_grad against the plain kernel on complete data."""
    X, w, mu, L = problem(N, D, K)
    repeats = max(1, 1_000_000 // N)
    labels = np.where(np.arange(N) % 10 == 0, np.arange(N) % K, -1)
    cases = {
        "complete (plain kernel)": None,
        "complete, through the plan": kernels.RowPlan.build(X),
        "10% missing": kernels.RowPlan.build(with_holes(X, 0.1)),
        "30% missing": kernels.RowPlan.build(with_holes(X, 0.3)),
        "every 10th labelled": kernels.RowPlan.build(X, labels=labels),
        "noise component": kernels.RowPlan.build(X, log_noise=-np.log(100.0)),
    }

    def call(plan):
        if plan is None:
            return lambda: timed(lambda n: _repeat_value_and_grad(
                kernels.loglik_value_and_grad, X, w, mu, L, n), repeats)
        return lambda: timed(lambda n: [kernels.plan_value_and_grad(
            *plan.arrays, w * 0.9, 0.1, mu, L) for _ in range(n)], repeats)

    rows = [(name, call(plan)) for name, plan in cases.items()]
    for _, c in rows:
        c()
    res = table(rows, rounds, N, K)
    base = res["complete (plain kernel)"][0]
    for name, plan in cases.items():
        lo, med = res[name]
        groups = "-" if plan is None else str(plan.bounds.size - 1)
        print(f"{N:>8} {name:<28} {lo:8.2f} {med:8.2f} {lo / base:11.2f} {groups:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="57fda6c")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    before = load_kernels_at(args.before)
    print(f"complete-data kernel: today vs {args.before} (same process); ns/pc min / median")
    print(f"{'N':>8} {'function':<24} {'before':>15} {'after':>15} {'after/before':>13}")
    for N in args.sizes:
        compare_complete(before, N, args.rounds)
    print()
    print("row plan: plan_value_and_grad vs loglik_value_and_grad on complete data; ns/pc")
    print(f"{'N':>8} {'case':<28} {'min':>8} {'median':>8} {'x complete':>11} {'groups':>7}")
    for N in args.sizes:
        plan_costs(N, args.rounds)


if __name__ == "__main__":
    main()
