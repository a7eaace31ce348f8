"""select_em's neighbour restarts: how often a sweep's cell misses its optimum, with them and
without the split restarts, in one process.

Six well-separated 2-D clusters of 100 rows; ``select_em`` over K = 5, 6, 7 (and 4..8), full
covariances, one random-data-point restart per cell (the hard case: a sweep whose every cell
may hold two clusters under one component). For each seed: does the K=6 cell reach the
optimum of a 10-restart fit, and which K does BIC choose? Then the same seeds with the split
restarts switched off (``neighbours._bic_choices`` returning nothing), and the time of each
run, as a ratio (the machines are noisy; both runs are in this process).

    .venv/bin/python benchmarks/bench_selection_optima.py            # 40 seeds, ~1 minute
    .venv/bin/python benchmarks/bench_selection_optima.py --seeds 10
"""

from __future__ import annotations

import argparse
import time
import warnings
from unittest import mock

import numpy as np

from bayesgmm import fit_em, select_em
from bayesgmm.selection import neighbours


def six_clusters() -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [20, 0], [20, 10]])
    return np.vstack([c + rng.normal(0, 1, (100, 2)) for c in centres])


def sweep(X: np.ndarray, ks: list[int], seeds: range, best: float) -> tuple[int, int, float]:
    """(seeds whose K=6 cell missed the optimum, seeds whose BIC chose K != 6, seconds)."""
    missed = wrong = 0
    start = time.perf_counter()
    for seed in seeds:
        sel = select_em(X, ks, "full", n_init=1, init="random_from_data", random_state=seed,
                        n_jobs=1)
        ll = sel.table.set_index("n_components").loc[6, "log_likelihood"]
        missed += ll < best - 1e-3
        wrong += sel.best["bic"][0] != 6
    return missed, wrong, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args()
    X = six_clusters()
    seeds = range(args.seeds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = fit_em(X, 6, n_init=10, random_state=0).log_likelihood
        print(f"{args.seeds} seeds; K=6 optimum {best:,.2f}")
        print(f"{'K range':<10}{'restarts':<22}{'K=6 missed':>11}{'BIC not 6':>11}{'time':>9}")
        for ks in ([5, 6, 7], [4, 5, 6, 7, 8]):
            with_splits = sweep(X, ks, seeds, best)
            with mock.patch.object(neighbours, "_bic_choices", lambda table: []):
                merges_only = sweep(X, ks, seeds, best)
            label = f"{ks[0]}..{ks[-1]}"
            for name, (missed, wrong, seconds) in (("merges and splits", with_splits),
                                                   ("merges only", merges_only)):
                print(f"{label:<10}{name:<22}{missed:>11}{wrong:>11}{seconds:>8.1f}s")
            print(f"{'':<10}time ratio (with splits / merges only): "
                  f"{with_splits[2] / merges_only[2]:.2f}")


if __name__ == "__main__":
    main()
