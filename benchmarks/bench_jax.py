"""The JAX twin of the model's density: time per gradient and time to a converged posterior.

Usage::

    python benchmarks/bench_jax.py                        # CPU, N=1e5, K=3, D=2
    python benchmarks/bench_jax.py --n 10000000 --k 5 --d 4 --chains 4   # a GPU (the issue's size)

Prints, for the device JAX finds (a GPU if one is there): the per-gradient time of the JAX
density (ns per point-component, the native kernel's unit), and then (``--route``) either a
NUTS run (numpyro, the model's potential from :mod:`bayesgmm.backends.jax`, chains vectorised
on the device) started at the EM estimate: warm-up and sampling time, max split R-hat and min
bulk ESS of label-invariant quantities (sorted weights, log density), divergences; or the
product, ``fit_bayes(nutpie_backend="jax", draws="auto")`` from the same start: its stages,
draws kept and verdict. On a CPU it also times
the native numba density at the same point, as the in-process reference (ratio > 1: JAX is
faster).

Measured on an NVIDIA H200 (float64, N=1e7, K=5, D=4, full): 4.33-4.38 ms per gradient,
0.087-0.088 ns per point-component (the native kernel: ~2 ns on 2 CPU cores); at commit 55381c1
and again on 4 Dec 2026 with the density read from the model's layout. The product route
there (``--route fit_bayes``, the default start and metric): a converged posterior (R-hat
1.008, bulk ESS 6,549) ~3.5 minutes from the data. The runs and their commands:
``benchmarks/README.md`` (``bench_jax.py``).

Needs jax and numpyro (``pip install jax numpyro``) beside bayesgmm's own dependencies; a
machine without PyMC, nutpie or ArviZ can take them as wheels (``pip download --no-deps``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np


def _simulate(n: int, K: int, D: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(K, 5.0))
    means = rng.normal(0, 4, size=(K, D))
    A = rng.normal(size=(K, D, D)) / math.sqrt(D)
    covs = A @ np.swapaxes(A, 1, 2) + 0.5 * np.eye(D)
    labels = rng.choice(K, size=n, p=weights)
    z = rng.standard_normal((n, D))
    chol = np.linalg.cholesky(covs)
    return means[labels] + np.einsum("nij,nj->ni", chol[labels], z)


def _theta_from_em(em, standardisation, positions):
    """The unconstrained start (full covariances) from data-unit EM estimates.

    Restates bayesgmm.model.initial_point + layout.unconstrained_point for 'full' only (those
    need a built PyMC model; this benchmark builds none).
    """
    s, c = standardisation.scale, standardisation.center
    log_w = np.log(np.maximum(em.weights, 1e-10))
    parts = [log_w[:-1] - log_w.mean(), ((em.means - c) / s).ravel()]
    L = np.linalg.cholesky(em.covariances / (s[:, None] * s[None, :]))
    sd = np.sqrt(np.sum(L ** 2, axis=-1))
    corr = L / sd[..., :, None]
    parts.append(np.log(sd).ravel())
    rows, cols = positions.T
    parts.append((corr[:, rows, cols] / corr[:, rows, rows]).ravel())
    return np.concatenate(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-init", type=int, default=3, help="EM restarts for the start")
    parser.add_argument("--start", choices=("map", "fit_em"), default="map",
                        help="the start: fit_map_start, the product's (its search on 100,000 "
                             "rows when there are more than twice as many, polished on all), "
                             "or ML fit_em on every row (the runs before 4 Dec 2026)")
    parser.add_argument("--em-max-iter", type=int, default=1000,
                        help="EM iterations per restart at most (the start needs no more than "
                             "a few hundred; at N = 1e7 each costs ~0.1 s)")
    parser.add_argument("--gradients", type=int, default=20, help="timed gradient calls")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--route", choices=("numpyro", "fit_bayes", "gradient"),
                        default="numpyro",
                        help="after the gradient: numpyro's vectorised NUTS (default), or the "
                             "product, fit_bayes(nutpie_backend='jax', draws='auto'), or none")
    parser.add_argument("--max-draws", type=int, default=1000,
                        help="--route fit_bayes: draws per chain at most (the first check is "
                             "here or at 1,000, whichever is fewer)")
    parser.add_argument("--max-time", type=float, default=None,
                        help="--route fit_bayes: seconds of sampling at most")
    parser.add_argument("--metric", choices=("auto", "diag", "laplace"), default="auto",
                        help="--route fit_bayes: nutpie's metric (auto: Laplace-whitened "
                             "where bayesgmm.settings.laplace_affordable allows)")
    args = parser.parse_args()

    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from bayesgmm import fit_em
    from bayesgmm.backends import native
    from bayesgmm.backends.jax import make_logp, shard_rows
    from bayesgmm.em import fit_map_start
    from bayesgmm.layout import MixtureModelSpec, correlation_positions
    from bayesgmm.priors import Priors, Standardisation

    K, D, N = args.k, args.d, args.n
    device = jax.devices()[0]
    print(f"JAX {jax.__version__} on {len(jax.devices())} x {device.device_kind} "
          f"({device.platform}); N={N:,}, K={K}, D={D}, full covariances, float64")
    t0 = time.perf_counter()
    X = _simulate(N, K, D, args.seed)
    print(f"simulated in {time.perf_counter() - t0:.1f} s", flush=True)
    if args.start == "map":
        em = fit_map_start(X, K, n_init=args.n_init, max_iter=args.em_max_iter,
                           random_state=args.seed)
        for c in em.candidates:
            print(f"  candidate: {c.source}: log posterior {c.log_posterior:.1f}")
    else:
        em = fit_em(X, K, n_init=args.n_init, max_iter=args.em_max_iter,
                    random_state=args.seed)
    t_em = time.perf_counter() - t0
    print(f"simulate + EM start ({args.start}): {t_em:.1f} s (the chosen one's last EM: "
          f"{em.n_iter} iterations, converged {em.converged}; log-lik "
          f"{em.log_likelihood:.1f})", flush=True)

    st = Standardisation.from_data(X, "full")
    priors = Priors()
    spec = MixtureModelSpec(K, D, "full", st.center, st.scale, False, (), priors)
    params = native.prior_parameters(spec)
    positions = correlation_positions(D)
    theta0 = _theta_from_em(em, st, positions)
    log_jacobian = float(-np.sum(np.log(st.scale)))
    Z = st.transform(X)
    density = make_logp(spec)

    def logp(theta, X, g, log_jacobian):  # make_logp's density carries spec.log_jacobian
        return density(theta, X, g)

    Xd, g = shard_rows(Z)

    value_and_grad = jax.jit(jax.value_and_grad(logp))
    t0 = time.perf_counter()
    jax.block_until_ready(value_and_grad(jnp.asarray(theta0), Xd, g, log_jacobian))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.gradients):
        out = value_and_grad(jnp.asarray(theta0), Xd, g, log_jacobian)
    jax.block_until_ready(out)
    per_grad = (time.perf_counter() - t0) / args.gradients
    ns_pc = per_grad / (N * K) * 1e9
    print(f"JAX gradient: compile {compile_s:.2f} s; {per_grad * 1e3:.3f} ms per gradient, "
          f"{ns_pc:.3f} ns per point-component")
    result = {"device": device.device_kind, "platform": device.platform, "N": N, "K": K,
              "D": D, "em_s": t_em, "compile_s": compile_s, "gradient_ms": per_grad * 1e3,
              "ns_per_pc": ns_pc}

    if device.platform == "cpu":
        grad = np.zeros_like(theta0)
        native.logp_and_gradient(theta0, Z, K, 0, 0, positions, params, log_jacobian, grad)
        t0 = time.perf_counter()
        for _ in range(args.gradients):
            native.logp_and_gradient(theta0, Z, K, 0, 0, positions, params, log_jacobian, grad)
        ref = (time.perf_counter() - t0) / args.gradients
        print(f"native numba gradient (reference, 1 thread): {ref * 1e3:.3f} ms; "
              f"ratio native/JAX {ref / per_grad:.2f}")
        result["native_gradient_ms"] = ref * 1e3

    if args.route == "fit_bayes":
        result.update(_fit_bayes_route(X, em, args))
    if args.route == "numpyro":
        result.update(_numpyro_route(logp, theta0, Xd, g, log_jacobian, K, args))
    path = args.json or (os.path.join(os.environ["OUT"], "bench_jax.json")
                         if os.environ.get("OUT") else None)
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=1)


def _fit_bayes_route(X: np.ndarray, em, args) -> dict:
    """The product: fit_bayes on the jax back end from the EM start, sampled until converged.

    ``draws="auto"`` with the default thresholds (R-hat < 1.01, bulk and tail ESS >= 400 of
    the relabelled parameters), first checked at ``min(1000, --max-draws)`` draws per chain.
    """
    from bayesgmm import SamplerSettings, fit_bayes

    settings = SamplerSettings(draws="auto", tune=args.tune, chains=args.chains,
                               nutpie_backend="jax", max_draws=args.max_draws,
                               max_time=args.max_time, metric=args.metric, progressbar=True)
    t0 = time.perf_counter()
    res = fit_bayes(X, args.k, em=em, settings=settings, random_state=args.seed)
    wall = time.perf_counter() - t0
    timing = res.settings["timing"]
    adaptive = res.settings.get("adaptive") or {}
    steps = float(np.mean(res.idata["sample_stats"]["n_steps"].to_numpy()))
    d = res.diagnostics()
    n_draws = int(res.idata["posterior"].sizes["draw"])
    print(f"fit_bayes(nutpie_backend='jax', draws='auto', tune={args.tune}, "
          f"chains={args.chains}): {wall:.1f} s from the EM start to the result; stages: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))
    print(f"  backend {res.settings['nutpie_backend']}, Laplace-whitened: "
          f"{res.settings['laplace_metric']}; {n_draws} draws per chain kept, "
          f"stopped by {adaptive.get('stopped_by')}; {steps:.1f} steps per draw")
    print(d)
    return {"fit_bayes_s": wall, "fit_bayes_timing": dict(timing),
            "fit_bayes_backend": res.settings["nutpie_backend"], "fit_bayes_draws": n_draws,
            "fit_bayes_stopped_by": adaptive.get("stopped_by"),
            "fit_bayes_steps_per_draw": steps, "fit_bayes_max_rhat": float(d.max_rhat),
            "fit_bayes_min_ess_bulk": float(d.min_ess_bulk),
            "fit_bayes_min_ess_tail": float(d.min_ess_tail),
            "fit_bayes_divergences": int(sum(d.divergences_per_chain)),
            "fit_bayes_verdict": str(d.verdict)}


def _numpyro_route(logp, theta0, Xd, g, log_jacobian, K, args) -> dict:
    """numpyro's NUTS on the same potential, the chains vectorised on the device."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    from numpyro.infer import MCMC, NUTS

    n_dim = theta0.size

    # The data enter as arguments (and jit_model_args=True keeps them arguments of the compiled
    # sampler): as closed-over constants XLA folds the (N, D) array into the program, minutes
    # of constant folding at N = 1e7 (seen on an H200).
    def model(X, g):
        theta = numpyro.sample("theta", dist.ImproperUniform(dist.constraints.real, (),
                                                             (n_dim,)))
        numpyro.factor("logp", logp(theta, X, g, log_jacobian))

    chains = args.chains
    kernel = NUTS(model, target_accept_prob=0.8)
    mcmc = MCMC(kernel, num_warmup=args.tune, num_samples=args.draws, num_chains=chains,
                chain_method="vectorized", progress_bar=False, jit_model_args=True)
    init = {"theta": jnp.tile(jnp.asarray(theta0), (chains, 1))}
    t0 = time.perf_counter()
    mcmc.warmup(jax.random.PRNGKey(args.seed), Xd, g, init_params=init,
                extra_fields=("num_steps",), collect_warmup=False)
    jax.block_until_ready(mcmc.last_state.z)
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mcmc.run(mcmc.post_warmup_state.rng_key, Xd, g,
             extra_fields=("num_steps", "diverging", "potential_energy"))
    samples = np.asarray(mcmc.get_samples(group_by_chain=True)["theta"])
    sample_s = time.perf_counter() - t0
    extra = mcmc.get_extra_fields(group_by_chain=True)
    steps = float(np.mean(np.asarray(extra["num_steps"])))
    divergences = int(np.sum(np.asarray(extra["diverging"])))
    # Label-invariant quantities (chains may sit in different labellings: no relabelling here):
    # the sorted weights and the log density.
    y = np.concatenate([samples[..., :K - 1], -samples[..., :K - 1].sum(-1, keepdims=True)], -1)
    weights = np.sort(np.exp(y - y.max(-1, keepdims=True)), axis=-1)
    weights /= weights.sum(-1, keepdims=True)
    invariant = np.concatenate(
        [weights, np.asarray(extra["potential_energy"])[..., None]], axis=-1)
    rhat = float(np.max(split_gelman_rubin(invariant)))
    ess = float(np.min(effective_sample_size(invariant)))
    print(f"NUTS {chains} chains x ({args.tune} + {args.draws}), vectorised: warm-up "
          f"{warm_s:.1f} s, sampling {sample_s:.1f} s; {steps:.1f} steps per draw; max R-hat "
          f"{rhat:.4f}, min bulk ESS {ess:.0f} (sorted weights, log density), divergences "
          f"{divergences}")
    return dict(tune=args.tune, draws=args.draws, chains=chains, warmup_s=warm_s,
                sampling_s=sample_s, steps_per_draw=steps, max_rhat=rhat, min_ess=ess,
                divergences=divergences)


if __name__ == "__main__":
    main()
