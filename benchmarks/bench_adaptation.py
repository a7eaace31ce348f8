"""nutpie's metric for the mixture: diagonal adaptation, low-rank, Laplace whitening.

Usage::

    python benchmarks/bench_adaptation.py            # N=1000, K=3, D=2 full, 4 chains
    python benchmarks/bench_adaptation.py --repeats 8 --data galaxies --draws 3000 --first-seed 0

All variants sample the same native model (``compile_nutpie``, compilation shared and
excluded) from the same EM start, alternating, ``--repeats`` times with different seeds:

- diag: nutpie's diagonal mass-matrix adaptation in the model's unconstrained coordinates
  (``fit_bayes``' default below 100,000 rows until 4 Dec 2026; the variant was called
  "diag (default)" in the commands of ``benchmarks/README.md`` before);
- low-rank: nutpie's low-rank adaptation, same coordinates;
- Laplace + diag (``fit_bayes``' ``metric="auto"`` where ``settings.laplace_affordable`` and
  the Gaussian check allow): the sampler works in coordinates whitened by the
  curvature at the posterior mode (``compile_nutpie(laplace=True)``: Newton from the EM start,
  theta = mode + A z with A A^T the inverse negative Hessian), nutpie's diagonal adaptation on
  top. nutpie takes no initial dense mass matrix; the whitening is the same thing as a
  reparameterisation.

Printed per variant, medians: sampling wall time, min bulk ESS over weights and means, ESS per
second, leapfrog steps per draw after warm-up and during it, min ESS per 1000 gradient
evaluations (warm-up included: the cost that does not depend on the machine), divergences; and
the worst run: its min bulk ESS and the largest R-hat of any run (medians hide a run that mixed
badly, and robustness is what decides the default).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from bench_jax import _simulate as bench_jax_simulate
from bench_sampling import K, N, simulate

VARIANTS = {
    "diag": (False, {}),
    "low-rank": (False, {"low_rank_modified_mass_matrix": True}),
    "Laplace + diag": (True, {}),
    # issue 16's suspects for ESS per gradient (--variants): Stan-style adaptation (the mass
    # matrix from the draws' variances, not nutpie's gradient-based estimate), nutpie's
    # per-draw step-size jitter (numpyro and Stan use none), the step-size target
    "draw-based diag": (False, {"adaptation": "draw_diag"}),
    "no step-size jitter": (False, {"step_size_jitter": 0.0}),
    "target_accept 0.7": (False, {"target_accept": 0.7}),
    "target_accept 0.9": (False, {"target_accept": 0.9}),
    # nutpie's window length for the mass-matrix estimate (default: a new estimate every 80
    # draws) and its step-size adaptation (default dual averaging)
    "mass-matrix switch 160": (False, {"mass_matrix_switch_freq": 160}),
    "mass-matrix switch 40": (False, {"mass_matrix_switch_freq": 40}),
    "Adam step size": (False, {"step_size_adapt_method": "adam"}),
}
DEFAULT_VARIANTS = ("diag", "low-rank", "Laplace + diag")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=100,
                        help="sampler seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--data", choices=("simulated", "old_faithful", "galaxies",
                                            "correlated", "gpu"), default="simulated",
                        help="correlated: 4-D, K=4, within-component correlations 0.8-0.9 "
                             "(the large-data QA's case that took 110-180 steps per draw); "
                             "gpu: bench_jax.py's K=5, D=4 mixture (the GPU check's data)")
    parser.add_argument("--n", type=int, default=5000, help="rows of --data correlated / gpu")
    parser.add_argument("--variants", nargs="+", choices=tuple(VARIANTS),
                        default=DEFAULT_VARIANTS, metavar="VARIANT",
                        help=f"which to run (default: the first three): {', '.join(VARIANTS)}")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import bayesgmm
    from bayesgmm import fit_em, model
    from bayesgmm.priors import Priors, Standardisation

    X, k = {"simulated": lambda: (simulate(N), K),
            "old_faithful": lambda: (bayesgmm.load_old_faithful().to_numpy(), 2),
            "galaxies": lambda: (bayesgmm.load_galaxies().to_numpy(), 3),
            "correlated": lambda: (correlated(args.n), 4),
            "gpu": lambda: (bench_jax_simulate(args.n, 5, 4, 0), 5)}[args.data]()
    priors = Priors()
    em = fit_em(X, k, n_init=10, prior=priors.conjugate_for_em(X, k, "full"), random_state=0)
    std = Standardisation.from_data(X, "full")
    pm_model = model.build_model(std.transform(X), k, "full", priors, center=std.center,
                                 scale=std.scale)
    start = model.initial_point(pm_model, em.weights, em.means, em.covariances)
    variants = {name: VARIANTS[name] for name in args.variants}
    compiled = {laplace: model.compile_nutpie(pm_model, start, laplace=laplace)
                for laplace in {laplace for laplace, _ in variants.values()}}
    rows = {name: [] for name in variants}
    for rep in range(args.repeats):
        for name, (laplace, kwargs) in variants.items():
            rows[name].append(_measure(compiled[laplace], args, rep, **kwargs))

    print(f"{args.data}: N={len(X)}, K={k}, D={X.shape[1]} full; 4 chains x ({args.tune} tune "
          f"+ {args.draws} draws) on 2 cores; median of {args.repeats}")
    print(f"{'variant':26s} {'sample s':>9s} {'min ESS':>8s} {'ESS/s':>8s} "
          f"{'steps/draw':>10s} {'warm-up steps':>13s} {'ESS/1k grads':>12s} {'div':>4s} "
          f"{'worst ESS':>9s} {'max R-hat':>9s} {'ESS/1k draw grads: mean [range]':>31s}")
    for name, r in rows.items():
        r = np.array(r, dtype=float)
        m = np.median(r, axis=0)
        print(f"{name:26s} {m[0]:9.2f} {m[1]:8.0f} {m[2]:8.0f} {m[3]:10.1f} {m[4]:13.1f} "
              f"{m[6]:12.1f} {int(m[5]):4d} {r[:, 1].min():9.0f} {r[:, 7].max():9.3f} "
              f"{f'{r[:, 8].mean():.0f} [{r[:, 8].min():.0f}-{r[:, 8].max():.0f}]':>31s}")


def correlated(n: int, seed: int = 7) -> np.ndarray:
    """(n, 4) rows from 4 well-separated Gaussians with within-component correlations of
    0.8-0.9 and unequal weights: the posterior's means and Cholesky entries are correlated as
    the data are, which a diagonal metric cannot follow."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    rows = []
    for k, count in enumerate(rng.multinomial(n, weights)):
        rho = 0.8 + 0.1 * k / 3
        corr = np.full((4, 4), rho) + (1 - rho) * np.eye(4)
        scales = np.array([1.0, 2.0, 0.5, 3.0]) * (1 + 0.3 * k)
        cov = corr * np.outer(scales, scales)
        mean = 12.0 * np.array([k % 2, k // 2, (k + 1) % 3, k])
        rows.append(rng.multivariate_normal(mean, cov, size=count))
    return rng.permutation(np.vstack(rows))


def _measure(compiled, args, rep, cores=2, **kwargs):
    import arviz as az
    import nutpie

    t0 = time.perf_counter()
    idata = nutpie.sample(compiled, draws=args.draws, tune=args.tune, chains=4, cores=cores,
                          seed=args.first_seed + rep, progress_bar=False, save_warmup=True,
                          **kwargs)
    wall = time.perf_counter() - t0
    post = idata["posterior"].to_dataset()
    ess = az.ess(post[["weights", "means"]], method="bulk")
    min_ess = min(float(ess[v].min()) for v in ("weights", "means"))
    rhat = az.rhat(post[["weights", "means"]])
    max_rhat = max(float(rhat[v].max()) for v in ("weights", "means"))
    stats = idata["sample_stats"].to_dataset()
    warm = idata["warmup_sample_stats"].to_dataset()
    grads = float(stats["n_steps"].sum()) + float(warm["n_steps"].sum())
    # the last column is bench_sampling's ESS/1k grad: per post-warm-up gradient
    return (wall, min_ess, min_ess / wall, float(stats["n_steps"].mean()),
            float(warm["n_steps"].mean()), int(stats["diverging"].sum()),
            1000.0 * min_ess / grads, max_rhat,
            1000.0 * min_ess / float(stats["n_steps"].sum()))


if __name__ == "__main__":
    main()
