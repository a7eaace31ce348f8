"""How often the rank-uniformity check fails converged chains, and how often it sees a chain off.

Usage::

    python benchmarks/bench_rank_test.py                 # synthetic chains, ~2 min
    python benchmarks/bench_rank_test.py --fits 30       # + 3 x 30 easy NUTS fits, ~8 min

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
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    print(f"synthetic: 4 chains x 1,000 AR(rho) draws, 4 scalars; {args.repeats} repeats "
          "(power: one chain shifted, 50 repeats)")
    for rho in (0.0, 0.3, 0.6, 0.9):
        print(f"  null rho={rho}: failed {failure_rate(rng, rho, 0.0, args.repeats):.1%}")
    for rho, shift in ((0.3, 0.3), (0.6, 0.5), (0.9, 1.0)):
        print(f"  power rho={rho}, shift {shift} sd: failed "
              f"{failure_rate(rng, rho, shift, 50):.0%}")
    if args.fits:
        _fits(args.fits)


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
