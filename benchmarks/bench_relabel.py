"""Stephens' relabelling: the package's implementation against the direct one, same process.

Usage::

    python benchmarks/bench_relabel.py            # ~30 s

Every checkpoint of ``draws="auto"`` relabels all draws so far (Stephens' KL algorithm on the
classification probabilities, at most 2e7 of them: the points are subsampled beyond), and so
does the final result. The reference here is the algorithm written directly: the
probabilities transposed to (S, K, N) in one copy and the permuted sums gathered with
``np.take_along_axis`` (the package's code until 4 Dec 2026); the package's
:func:`bayesgmm.relabel_methods.stephens_permutations` copies one component at a time and sums
with one matrix product. Both must give the same permutations (checked). Times are the best of
3 after one untimed call (a fresh 160 MB array's first touch costs ~1 s on some virtual
machines, which either implementation would pay once), and the first call is printed too.
"""

from __future__ import annotations

import time

import numpy as np

from bayesgmm import relabel_methods as rm

_TINY = 1e-300


def stephens_direct(P: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """The same algorithm, written directly (the reference)."""
    S, N, K = P.shape
    perms = np.tile(np.arange(K), (S, 1))

    def permuted(p, q):
        return np.take_along_axis(p, q[:, None, :], axis=2)

    Pt = np.ascontiguousarray(P.transpose(0, 2, 1)).reshape(S * K, N)
    total = permuted(P, perms).sum(axis=0)
    for _ in range(max_iter):
        cost = -(Pt @ np.log(np.maximum(total / S, _TINY))).reshape(S, K, K)
        new = rm.assign_min_cost(cost)
        changed = np.flatnonzero(np.any(new != perms, axis=1))
        if not changed.size:
            break
        moved = P[changed]
        total += (permuted(moved, new[changed]) - permuted(moved, perms[changed])).sum(axis=0)
        perms = new
    return perms


def _probabilities(S: int, N: int, K: int, rng) -> np.ndarray:
    """Classification probabilities of overlapping 2-D components, 30% of draws permuted."""
    D = 2
    mu = np.array([[2.0 * np.cos(a), 2.0 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, K,
                                                                             endpoint=False)])
    X = np.vstack([rng.normal(mu[k], 1.0, (N // K + 1, D)) for k in range(K)])[:N]
    w = rng.dirichlet([300.0] * K, S)
    m = mu[None] + rng.normal(0.0, 0.3, (S, K, D))
    swap = np.array([rng.permutation(K) if rng.random() < 0.3 else np.arange(K)
                     for _ in range(S)])
    w, m = np.take_along_axis(w, swap, 1), np.take_along_axis(m, swap[:, :, None], 1)
    cov = np.broadcast_to(np.eye(D), (S, K, D, D)).copy()
    return rm.classification_probabilities(X, w, m, cov, "full", max_floats=10**9)


def _time(fn, P) -> tuple[float, float, np.ndarray]:
    t = time.perf_counter()
    out = fn(P)
    first = time.perf_counter() - t
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        fn(P)
        best = min(best, time.perf_counter() - t)
    return first, best, out


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'draws S':>8} {'points N':>8} {'K':>2} {'floats':>8} | {'direct s':>9} "
          f"{'(first)':>8} | {'package s':>9} {'(first)':>8} | {'ratio':>5}")
    # 4 chains x 1,000-4,000 draws; N as the 2e7 cap leaves it at large N, and a small data set
    for S, N, K in ((4000, 1666, 3), (16000, 416, 3), (16000, 250, 5), (15600, 82, 4)):
        P = _probabilities(S, N, K, rng)
        d_first, d_best, d_perms = _time(stephens_direct, P)
        p_first, p_best, (p_perms, _) = _time(rm.stephens_permutations, P)
        same = "" if np.array_equal(d_perms, p_perms) else "  PERMUTATIONS DIFFER"
        print(f"{S:>8,} {N:>8,} {K:>2} {P.size:>8.1e} | {d_best:>9.3f} {d_first:>8.3f} | "
              f"{p_best:>9.3f} {p_first:>8.3f} | {d_best / p_best:>5.1f}{same}")


if __name__ == "__main__":
    main()
