"""How often the rank-uniformity check fails converged chains, and how often it sees a chain off.

Usage::

    python benchmarks/bench_rank_test.py                 # synthetic chains, ~2 min
    python benchmarks/bench_rank_test.py --null 20000    # + the test's exact null, ~1 min
    python benchmarks/bench_rank_test.py --fits 30       # + 3 x 30 easy NUTS fits, ~8 min
    python benchmarks/bench_rank_test.py --speed --repeats 0   # the p-values' cost, ~1 min

The verdict fails a fit when any scalar's rank-test p-value is below the family-wise 1%
(Bonferroni over the scalars). On draws that are converged, that should happen in about 1% of
fits. Two sources of draws:

- synthetic: 4 chains of AR(rho) draws (1,000 each, 4 scalars), converged (null) or with one
  chain shifted (power), tested by ``diagnostics.rank_uniformity_check`` as the verdict does;
- ``--fits N``: ``fit_bayes`` with fixed draws (1000 + 1000) on easy data (one 2-D Gaussian,
  one 1-D Gaussian, two well-separated 3-D diag Gaussians; N seeds each). The same draws are
  tested after thinning by each rule of ``RULES`` (the verdict's last), so the rules are
  judged on the same chains.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import xarray as xr


def _statistic_table(chains: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's multi-chain rank test (``_mtc_c``) as a table: the pooled positions k_i at which
    each chain's ECDF is read, and the Cauchy value tan((0.5 - gamma) pi) of the two-sided
    mid-p hypergeometric test for every count c = 0..m at every k_i. Its statistic is the mean
    of the table's entries at the chains' counts; its p-value 0.5 - arctan(mean) / pi."""
    from scipy.stats import hypergeom

    S = chains * m
    k = np.floor(np.arange(1, m + 1) / (m + 1) * S).astype(int)
    c = np.arange(m + 1)
    pmf = hypergeom.pmf(c[None, :], S, m, k[:, None])
    lower = hypergeom.cdf(c[None, :], S, m, k[:, None]) - 0.5 * pmf
    return k, np.tan((0.5 - 2 * np.minimum(lower, 1 - lower)) * np.pi)


def permutation_null(chains: int, m: int, repeats: int, seed: int = 0) -> np.ndarray:
    """p-values of ArviZ's test under the exact null for independent draws (every assignment
    of the pooled ranks to chains equally likely), ``repeats`` of them, vectorised."""
    k, cauchy = _statistic_table(chains, m)
    S = chains * m
    rng = np.random.default_rng(seed)
    block = np.searchsorted(k, np.arange(1, S + 1), side="left")  # the k_i each rank is under
    base = np.repeat(np.arange(chains), m)
    rows = np.arange(m)[:, None]
    out = []
    for start in range(0, repeats, 1000):
        b = min(1000, repeats - start)
        labels = rng.permuted(np.tile(base, (b, 1)), axis=1)  # chain of each pooled rank
        index = (np.arange(b)[:, None] * (m + 1) + block[None, :]) * chains + labels
        counts = np.bincount(index.ravel(), minlength=b * (m + 1) * chains)
        ecdf = np.cumsum(counts.reshape(b, m + 1, chains), axis=1)[:, :m, :]
        out.append(cauchy[rows, ecdf].mean(axis=(1, 2)))
    return 0.5 - np.arctan(np.concatenate(out)) / np.pi


def _check_against_arviz(rng: np.random.Generator) -> float:
    """Largest difference between the table's p-value and ``_mtc_c``'s on random chains."""
    from arviz_stats.base.array import array_stats

    worst = 0.0
    for chains, m in ((4, 100), (4, 1000), (8, 50)):
        k, cauchy = _statistic_table(chains, m)
        x = rng.normal(size=(chains, m))
        x[0] += 0.3
        ranks = np.argsort(np.argsort(x.ravel())).reshape(chains, m) + 1
        ecdf = np.stack([np.searchsorted(np.sort(r), k, side="right") for r in ranks], axis=1)
        mine = 0.5 - np.arctan(cauchy[np.arange(m)[:, None], ecdf].mean()) / np.pi
        worst = max(worst, abs(mine - array_stats._mtc_c(ranks / ranks.size)[0]))
    return worst


def ar_chains(rng: np.random.Generator, rho: float, shift: float = 0.0, chains: int = 4,
              draws: int = 1000, scalars: int = 4) -> xr.Dataset:
    """AR(rho) chains with unit marginal variance; the first chain shifted by ``shift``."""
    e = rng.normal(size=(chains, draws, scalars))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0]
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * e[:, t]
    x[0] += shift
    return xr.Dataset({"means": (("chain", "draw", "feature"), x)})


def failure_rate(rng, rho: float, shift: float, repeats: int) -> float:
    from bayesgmm.diagnostics import rank_uniformity_check

    return float(np.mean([not rank_uniformity_check(ar_chains(rng, rho, shift))[0].passed
                          for _ in range(repeats)]))


def easy_data(case: int, seed: int) -> tuple[np.ndarray, int, str]:
    """One 2-D Gaussian, one 1-D Gaussian, or two 3-D diag Gaussians 8 sds apart (200 rows)."""
    rng = np.random.default_rng(500 + seed)
    if case == 0:
        A = rng.normal(size=(2, 2))
        return rng.multivariate_normal(rng.normal(0, 6, 2), A @ A.T / 2 + 0.5 * np.eye(2),
                                       200), 1, "full"
    if case == 1:
        return rng.normal(rng.normal(0, 6), rng.uniform(0.5, 2), (200, 1)), 1, "full"
    centres = rng.normal(0, 8, (2, 3))
    sds = rng.uniform(0.5, 1.4, (2, 3))
    labels = np.r_[0, 1, rng.integers(0, 2, 198)]
    return centres[labels] + sds[labels] * rng.normal(size=(200, 3)), 2, "diag"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="synthetic null repeats")
    parser.add_argument("--fits", type=int, default=0, help="seeds per easy NUTS case")
    parser.add_argument("--null", type=int, default=0, metavar="REPEATS",
                        help="also ArviZ's test under its exact null for independent draws "
                             "(REPEATS permutations per size, e.g. 20000: ~1 min)")
    parser.add_argument("--speed", action="store_true",
                        help="also the p-values' cost: bayesgmm.rank_uniformity against "
                             "ArviZ's mchain_uniformity_test on the same ranks")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    if args.speed:
        _speed(rng)
    if args.repeats:
        print(f"synthetic: 4 chains x 1,000 AR(rho) draws, 4 scalars; {args.repeats} repeats "
              "(power: one chain shifted, 50 repeats)")
    for rho in (0.0, 0.3, 0.6, 0.9) if args.repeats else ():
        print(f"  null rho={rho}: failed {failure_rate(rng, rho, 0.0, args.repeats):.1%}")
    for rho, shift in ((0.3, 0.3), (0.6, 0.5), (0.9, 1.0)) if args.repeats else ():
        print(f"  power rho={rho}, shift {shift} sd: failed "
              f"{failure_rate(rng, rho, shift, 50):.0%}")
    if args.null:
        print(f"ArviZ's test, exact null (independent draws), {args.null} permutations; "
              f"table vs _mtc_c: max |p difference| {_check_against_arviz(rng):.1e}")
        print("  chains x draws: P(p < a) / a for a = 1e-3, 1e-2, 5e-2")
        for chains, m in ((4, 60), (4, 200), (4, 400), (4, 1000)):
            p = permutation_null(chains, m, args.null, seed=m)
            print(f"  {chains} x {m}: " + ", ".join(f"{np.mean(p < a) / a:.2f}"
                                                    for a in (1e-3, 1e-2, 5e-2)))
    if args.fits:
        _fits(args.fits)


def _speed(rng: np.random.Generator) -> None:
    """Seconds for the p-values of a fit's scalars (4 chains), the table's and ArviZ's, on the
    same fractional ranks in this process, and the largest relative difference."""
    import time

    import arviz_stats  # noqa: F401 (the .azstats accessor)

    from bayesgmm.rank_uniformity import _mid_p_lower_tails, mchain_uniformity_pvalues

    print("p-values of S scalars, 4 chains: table (bayesgmm) vs ArviZ's test, same ranks")
    for draws, scalars in ((250, 11), (500, 27), (500, 315), (1000, 27)):
        x = rng.normal(size=(scalars, 4, draws))
        ranks = xr.Dataset({"x": (("s", "chain", "draw"), x)}).azstats.compute_ranks(
            dim=["chain", "draw"], relative=True)["x"]
        _mid_p_lower_tails.cache_clear()  # the table's first computation counted
        start = time.perf_counter()
        ours = mchain_uniformity_pvalues(ranks.to_numpy())
        mid = time.perf_counter()
        theirs = ranks.azstats.mchain_uniformity_test(dim=["chain", "draw"])[0].to_numpy()
        end = time.perf_counter()
        diff = np.max(np.abs(ours - theirs) / np.maximum(theirs, 1e-300))
        print(f"  {draws} draws x {scalars} scalars: table {mid - start:.3f} s, ArviZ "
              f"{end - mid:.2f} s ({(end - mid) / (mid - start):.0f}x); max relative "
              f"difference {diff:.1e}")


# Thinning rules compared on the same fits: (ESS methods, factor as a function of draws/ESS).
RULES = {
    "draws / bulk ESS, rounded (before Dec 2026)": (("bulk",), lambda r: round(r)),
    "ceil(draws / min(bulk, tail) ESS) (ArviZ's thin)": (("bulk", "tail"), math.ceil),
    "ceil(1.5 draws / min(bulk, tail) ESS) (the verdict's)": (("bulk", "tail"),
                                                              lambda r: math.ceil(1.5 * r)),
}


def thinned(post: xr.Dataset, methods, factor_of) -> xr.Dataset:
    """``post`` thinned by ``factor_of(draws / ESS)``, ESS the smallest over scalars of the
    median over chains of the per-chain ESS of ``methods``."""
    import arviz_stats  # noqa: F401

    typical = [float(np.nanmin(v.median(dim="chain").values)) for m in methods
               for v in post.azstats.ess(sample_dims=["draw"], method=m).data_vars.values()
               if np.isfinite(v.values).any()]
    factor = max(1, int(factor_of(post.sizes["draw"] / max(min(typical), 1.0))))
    return post.isel(draw=slice(0, None, factor))


def _fits(seeds: int) -> None:
    import bayesgmm
    from bayesgmm import diagnostics

    family = diagnostics._rank_alpha(None)
    flagged = dict.fromkeys(RULES, 0)
    for seed in range(seeds):
        for case in range(3):
            X, K, ct = easy_data(case, seed)
            fit = bayesgmm.fit_bayes(X, K, covariance_type=ct, draws=1000, tune=1000,
                                     random_state=seed, progressbar=False)
            post = fit.posterior[["weights", "means"] if K > 1 else ["means"]]
            for rule, (methods, factor_of) in RULES.items():
                tested = thinned(post, methods, factor_of)
                p = diagnostics._rank_pvalues(post, tested)
                check = diagnostics._rank_check(p, family, tested.sizes["draw"])
                flagged[rule] += not check.passed
    total = 3 * seeds
    print(f"easy NUTS fits (1000 + 1000 draws), {total} fits: rank check failed")
    for rule, n in flagged.items():
        print(f"  thinned by {rule}: {n} ({n / total:.1%})")


if __name__ == "__main__":
    main()
