"""The noise check (``outliers.noise_evidence``) on many rows, with the isolated rows computed
once per data set (``isolation._ANSWERS``) against the same check computing them at every
refit (the reference, in the same process).

    python benchmarks/bench_noise_check.py --rows 400000 1000000

Four clusters in 4-D with 0.5% uniform background; prints each run's time, the ratio and the
rows named (the two runs must name the same rows); `computed`: how often the
isolated rows were computed in each.
"""

import argparse
import time

import numpy as np

import bayesgmm
from bayesgmm import isolation, outliers
from bayesgmm.outliers import noise_evidence


def data(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    means = np.array([[0, 0, 0, 0], [4, 0, 0, 0], [0, 4, 0, 0], [0, 0, 4, 4]], float)
    X = means[rng.integers(0, 4, n)] + rng.normal(size=(n, 4))
    X[: n // 200] = rng.uniform(-10, 14, size=(n // 200, 4))
    return X


def timed_check(em, X, kept: int) -> tuple[float, int, tuple]:
    """Seconds, times the isolated rows were computed, and the rows named."""
    isolation._ANSWERS.clear()
    outliers._CACHE.clear()  # the last evidence is kept too: each run computes its own
    isolation._ANSWERS_KEPT = kept  # 0: every refit computes them again (the reference)
    computed = []
    compute = isolation._isolated_observations
    isolation._isolated_observations = lambda *a: computed.append(1) or compute(*a)
    try:
        start = time.perf_counter()
        evidence = noise_evidence(em, X)
        seconds = time.perf_counter() - start
    finally:
        isolation._isolated_observations = compute
    return seconds, len(computed), () if evidence is None else evidence.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--rounds", type=int, default=2, help="alternating; the fastest kept")
    args = parser.parse_args()
    print(f"{'rows':>9} {'reference s':>12} {'cached s':>9} {'ratio':>6} {'computed':>9} "
          f"{'rows named':>11}")
    for n in args.rows:
        X = data(n)
        em = bayesgmm.fit_em(X, 4, random_state=1)
        runs = {0: [], 4: []}
        for _ in range(args.rounds):
            for kept in (0, 4):
                runs[kept].append(timed_check(em, X, kept))
        reference, cached = min(runs[0]), min(runs[4])
        assert reference[2] == cached[2], "the cache changed the answer"
        print(f"{n:>9,} {reference[0]:>12.1f} {cached[0]:>9.1f} {reference[0] / cached[0]:>6.2f} "
              f"{reference[1]:>4} -> {cached[1]:<2} {len(cached[2]):>11,}")


if __name__ == "__main__":
    main()
