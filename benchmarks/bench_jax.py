"""The JAX twin of the model's density: time per gradient and time to a converged posterior.

Usage::

    python benchmarks/bench_jax.py                        # CPU, N=1e5, K=3, D=2
    python benchmarks/bench_jax.py --n 10000000 --k 5 --d 4 --chains 4   # a GPU (the issue's size)

Prints, for the device JAX finds (a GPU if one is there): the per-gradient time of the JAX
density (ns per point-component, the native kernel's unit), and a NUTS run (numpyro, the
model's potential from :mod:`bayesgmm.backends.jax`, chains vectorised on the device) started
at the EM estimate: warm-up and sampling time, max split R-hat and min bulk ESS of
label-invariant quantities (sorted weights, log density), divergences. On a CPU it also times
the native numba density at the same point, as the in-process reference (ratio > 1: JAX is
faster).

Measured on an NVIDIA H200 (float64, N=1e7, K=5, D=4, full): 4.34 ms per gradient, 0.087 ns
per point-component (the native kernel: ~2 ns on 2 CPU cores).

Needs jax and numpyro (``pip install jax numpyro``) beside bayesgmm's own dependencies. (The
H200 figure above was measured at commit 55381c1, when the JAX density did not yet read the
model's layout, which imports PyMC, and the device machine had no PyMC.)
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
    parser.add_argument("--gradients", type=int, default=20, help="timed gradient calls")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()

    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    from numpyro.infer import MCMC, NUTS

    from bayesgmm import fit_em
    from bayesgmm.backends import native
    from bayesgmm.backends.jax import make_logp, shard_rows
    from bayesgmm.layout import MixtureModelSpec, correlation_positions
    from bayesgmm.priors import Priors, Standardisation

    K, D, N = args.k, args.d, args.n
    device = jax.devices()[0]
    print(f"JAX {jax.__version__} on {len(jax.devices())} x {device.device_kind} "
          f"({device.platform}); N={N:,}, K={K}, D={D}, full covariances, float64")
    t0 = time.perf_counter()
    X = _simulate(N, K, D, args.seed)
    em = fit_em(X, K, n_init=3, random_state=args.seed)
    t_em = time.perf_counter() - t0
    print(f"simulate + EM start: {t_em:.1f} s (EM {em.n_iter} iterations, "
          f"log-lik {em.log_likelihood:.1f})")

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

    import numpyro
    import numpyro.distributions as dist

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
    result.update(tune=args.tune, draws=args.draws, chains=chains, warmup_s=warm_s,
                  sampling_s=sample_s, steps_per_draw=steps, max_rhat=rhat, min_ess=ess,
                  divergences=divergences)
    path = args.json or (os.path.join(os.environ["OUT"], "bench_jax.json")
                         if os.environ.get("OUT") else None)
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
