"""nutpie's mass-matrix adaptation for the mixture: diagonal (default) vs low-rank.

Usage::

    python benchmarks/bench_adaptation.py            # N=1000, K=3, D=2 full, 4 chains
    python benchmarks/bench_adaptation.py --repeats 3

Both variants sample the same compiled model (``compile_nutpie``, so compilation is shared and
excluded) from the same EM start, alternating, ``--repeats`` times with different seeds. Prints
per variant the medians of: sampling wall time, min bulk ESS over weights and means, ESS per
second, leapfrog steps per draw during warm-up and after it, and divergences. The default of
``fit_bayes`` is whichever gives more ESS per second.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from bench_sampling import K, N, simulate

VARIANTS = {
    "diag (nutpie default)": {},
    "low-rank": {"low_rank_modified_mass_matrix": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import arviz as az
    import nutpie

    from bayesgmm import fit_em, model
    from bayesgmm.priors import Priors, Standardisation

    X = simulate(N)
    priors = Priors()
    em = fit_em(X, K, n_init=10, prior=priors.conjugate_for_em(X, K, "full"), random_state=0)
    std = Standardisation.from_data(X, "full")
    pm_model = model.build_model(std.transform(X), K, "full", priors, center=std.center,
                                 scale=std.scale)
    compiled = model.compile_nutpie(
        pm_model, model.initial_point(pm_model, em.weights, em.means, em.covariances))
    rows = {name: [] for name in VARIANTS}
    for rep in range(args.repeats):
        for name, kwargs in VARIANTS.items():
            t0 = time.perf_counter()
            idata = nutpie.sample(compiled, draws=args.draws, tune=args.tune, chains=4,
                                  cores=2, seed=100 + rep, progress_bar=False, **kwargs)
            wall = time.perf_counter() - t0
            post = idata["posterior"].to_dataset()
            ess = az.ess(post[["weights", "means"]], method="bulk")
            min_ess = min(float(ess[v].min()) for v in ("weights", "means"))
            stats = idata["sample_stats"].to_dataset()
            warm = idata["warmup_sample_stats"].to_dataset() if "warmup_sample_stats" in \
                idata.children else None
            rows[name].append((wall, min_ess, min_ess / wall, float(stats["n_steps"].mean()),
                               float(warm["n_steps"].mean()) if warm is not None else np.nan,
                               int(stats["diverging"].sum())))
    print(f"N={N}, K={K}, D=2 full; 4 chains x ({args.tune} tune + {args.draws} draws); "
          f"median of {args.repeats} (backend: {type(compiled).__name__})")
    print(f"{'variant':24s} {'sample s':>9s} {'min ESS':>8s} {'ESS/s':>8s} "
          f"{'steps/draw':>10s} {'warm-up steps':>13s} {'div':>4s}")
    for name, r in rows.items():
        m = np.median(np.array(r, dtype=float), axis=0)
        print(f"{name:24s} {m[0]:9.2f} {m[1]:8.0f} {m[2]:8.0f} {m[3]:10.1f} {m[4]:13.1f} "
              f"{int(m[5]):4d}")


if __name__ == "__main__":
    main()
