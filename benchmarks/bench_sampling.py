"""Sampling benchmark: bayesgmm's default path vs the textbook PyMC mixture, in one run.

Prints, for N=1000, K=3, D=2, full covariances, 4 chains x (1000 tune + 1000 draws):

1. the textbook model (``pm.Mixture`` of ``pm.MvNormal``, one ``LKJCholeskyCov`` each) with
   ``pm.sample``, cold (empty numba/PyTensor caches) and warm (the reference), and
   ``bayesgmm.fit_bayes`` with its defaults, cold, warm, as a second fit in the same process
   (a sweep), and warm with the two backends that compile the PyMC graph (nutpie's own numba
   route and the pyfunc route): wall time end to end (imports of the
   sampling stack, EM, compilation, sampling), sampling time alone, min bulk ESS over weights
   and means, ESS per second both ways with the ratio against the reference, leapfrog steps
   per draw, divergences;
2. the cost of one log-likelihood + gradient evaluation for N = 1e3 ... 1e6 (fused kernel,
   one thread and all threads) beside PyTensor's autodiff graph of the same log-likelihood;
3. EM wall time vs scikit-learn at N = 1e5 and 1e6 (same initial parameters, same tol).

Each sampling run is a fresh subprocess so that cold/warm caches mean what they say.

numpyro (the ``[bench]`` extra: ``pip install -e ".[bench]"``; skipped with a message when
absent) is the strongest peer: the same marginalised mixture written the best way numpyro
allows (``MixtureSameFamily`` of ``MultivariateNormal`` with ``scale_tril``), on the same
standardised data with our priors exactly (Dirichlet(1), Normal(0, 2) means, LogNormal(log 0.5,
1) standard deviations, LKJCholesky(eta=2) correlations: :class:`bayesgmm.priors.Priors`),
started at the same EM estimate, 4 chains in parallel over 4 host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=4``), float32 (numpyro's default; ``--x64``
for float64). ``numpyro (HalfNormal sd)`` swaps the LogNormal for HalfNormal(1) standard
deviations, the textbook choice, to see whether the parameterisation of the scales explains
numpyro's ESS per gradient. Its compile time is the sum of JAX's compile-event durations
(tracing, lowering, XLA compilation, through ``jax.monitoring``); sampling is the run less that.

Columns beyond ESS/s: ``ESS/1k grad``, min bulk ESS per 1,000 gradients after warm-up (steps
per draw x draws x chains); ``ns/pc``, sampling seconds x min(chains, cores) / (gradients x N x
K) with the warm-up's gradients counted at the draws' steps per draw: the CPU cost of one
gradient per point-component, chains saturating the cores.

``--n 1000 100000 --seeds 1 2 3 4`` runs only the peers table: textbook, bayesgmm and numpyro
(warm) at each N with each sampler seed (same data), N <= 1e4 with 4 chains x (1000 + 1000),
larger N with 2 x (500 + 500), numpyro with one host device per chain; the textbook model is
skipped above ``--textbook-max-n`` with the time it would take. It prints every run, then per N
and library the mean [min-max] over seeds and the ratios bayesgmm / numpyro, with the
difference of the mean ESS per gradient against its standard error over seeds.

Usage: python benchmarks/bench_sampling.py [--quick] [--skip-textbook] [--skip-numpyro] [--x64]
[--sampling-only] [--peers-only] [--n N [N ...]] [--seeds S [S ...]] [--textbook-max-n N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

N, K, D = 1000, 3, 2


def simulate(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
    covs = np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]],
                     [[1.5, 0.0], [0.0, 0.5]]])
    labels = rng.choice(K, size=n, p=weights)
    chol = np.linalg.cholesky(covs)
    return means[labels] + np.einsum("nij,nj->ni", chol[labels], rng.standard_normal((n, D)))


# --------------------------------------------------------------------------------------------
# 1. sampling runs (each in a subprocess)
# --------------------------------------------------------------------------------------------
def _run_child(kind: str, draws: int, tune: int, env: dict, x64: bool = False, *,
               n: int = N, chains: int = 4, seed: int = 1) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--draws", str(draws), "--tune", str(tune),
           "--n", str(n), "--chains", str(chains), "--seeds", str(seed)]
    if kind.startswith("numpyro"):
        # one host device per chain, for parallel chains; must be set before jax is imported
        env = dict(env, XLA_FLAGS=(env.get("XLA_FLAGS", "") +
                                   f" --xla_force_host_platform_device_count={chains}").strip())
        if x64:
            env["JAX_ENABLE_X64"] = "1"
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(kind: str, draws: int, tune: int, n: int = N, chains: int = 4, seed: int = 1
           ) -> None:
    """Run one sampling job and print a JSON line of its measurements.

    The data are ``simulate(n, seed=0)`` whatever ``seed`` is: ``seed`` seeds the sampler
    (and bayesgmm's start search), so runs with different seeds measure the sampler's spread on
    one data set.
    """
    import warnings

    warnings.simplefilter("ignore")
    X = simulate(n)
    t0 = time.perf_counter()
    compile_s = float("nan")
    if kind.startswith("numpyro"):
        post, stats_steps, divergences, sample_s, compile_s, wall = _numpyro_run(
            kind, X, draws, tune, t0, chains=chains, seed=seed)
        _report(kind, post, stats_steps, divergences, sample_s, compile_s, wall, draws, tune, n,
                seed)
        return
    if kind == "textbook":
        import pymc as pm

        from bayesgmm import fit_em
        from bayesgmm.priors import Priors, Standardisation
        from bayesgmm.reference import build_textbook_model

        std = Standardisation.from_data(X, "full")
        em = fit_em(X, K, n_init=10, random_state=0)
        model = build_textbook_model(std.transform(X), K, Priors(), center=std.center,
                                     scale=std.scale)
        with model:
            idata = pm.sample(draws, tune=tune, chains=chains, random_seed=seed,
                              nuts_sampler="pymc",
                              initvals={"weights": em.weights,
                                        "means_z": std.transform(em.means)},
                              progressbar=False, compute_convergence_checks=False)
        post = idata["posterior"].to_dataset()
        stats = idata["sample_stats"].to_dataset()
        steps = float(stats["n_steps"].mean())
        sample_s = float(idata["posterior"].attrs.get("sampling_time", np.nan))
    else:
        from bayesgmm.sampling import fit_bayes

        backend = kind.removeprefix("bayesgmm-") if kind in (
            "bayesgmm-numba", "bayesgmm-pyfunc") else "auto"
        if kind == "bayesgmm-reuse":  # a second fit in the same process, as in a sweep
            fit_bayes(X, K, draws=draws, tune=tune, chains=chains, random_state=2,
                      progressbar=False)
            t0 = time.perf_counter()
        result = fit_bayes(X, K, draws=draws, tune=tune, chains=chains, random_state=seed,
                           progressbar=False, nutpie_backend=backend)
        post = result.posterior
        stats = result.idata["sample_stats"].to_dataset()
        steps = float(stats["n_steps"].mean())
        sample_s = result.settings["timing"]["sample_s"]
        compile_s = result.settings["timing"].get("compile_s", float("nan"))
    wall = time.perf_counter() - t0
    _report(kind, post, steps, int(stats["diverging"].sum()), sample_s, compile_s, wall, draws,
            tune, n, seed)


def _report(kind, post, steps, divergences, sample_s, compile_s, wall, draws, tune, n, seed
            ) -> None:
    """Print one JSON line: ESS over weights and means (data units) and the costs."""
    import arviz as az

    bulk = az.ess(post[["weights", "means"]], method="bulk")
    tail = az.ess(post[["weights", "means"]], method="tail")
    min_ess = float(min(float(bulk[v].min()) for v in ("weights", "means")))
    min_tail = float(min(float(tail[v].min()) for v in ("weights", "means")))
    chains = int(post.sizes["chain"])
    gradients = steps * draws * chains
    print(json.dumps({
        "kind": kind, "wall_s": wall, "min_bulk_ess": min_ess, "ess_per_s": min_ess / wall,
        "min_tail_ess": min_tail, "compile_s": compile_s,
        "sample_s": sample_s, "ess_per_sample_s": min_ess / sample_s,
        "steps_per_draw": steps, "divergences": divergences,
        "ess_per_1k_grad": 1000.0 * min_ess / gradients,
        "ns_pc": sample_s * min(chains, os.cpu_count() or 1) * 1e9
        / (steps * (draws + tune) * chains * n * K),
        "chains": chains, "draws": draws, "tune": tune, "n": n, "seed": seed,
    }))


def _numpyro_model(X, half_normal: bool):
    """The marginalised mixture in numpyro, on standardised data, with our priors."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from bayesgmm.priors import Priors

    pri = Priors()
    n_feat = X.shape[1]

    def model(x):
        w = numpyro.sample("weights", dist.Dirichlet(jnp.full(K, pri.weights_concentration)))
        with numpyro.plate("component", K):
            mu = numpyro.sample("means_z", dist.Normal(0.0, pri.means_sd)
                                .expand([n_feat]).to_event(1))
            if half_normal:
                sd = numpyro.sample("sd_z", dist.HalfNormal(1.0).expand([n_feat]).to_event(1))
            else:
                sd = numpyro.sample("sd_z", dist.LogNormal(jnp.log(pri.sd_median), pri.sd_log_sd)
                                    .expand([n_feat]).to_event(1))
            corr = numpyro.sample("corr_chol_z", dist.LKJCholesky(n_feat, pri.lkj_eta))
        scale_tril = sd[..., :, None] * corr
        mixture = dist.MixtureSameFamily(dist.Categorical(probs=w),
                                         dist.MultivariateNormal(mu, scale_tril=scale_tril))
        numpyro.sample("x", mixture, obs=x)

    return model


def _union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by (start, end) intervals, overlaps counted once."""
    total, reach = 0.0, -np.inf
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return float(total)


def _numpyro_run(kind, X, draws, tune, t0, chains=4, seed=1):
    """Fit with numpyro from the EM estimate: (posterior Dataset in data units, steps per
    draw, divergences, sampling s, compile s, wall s to the end of the first run)."""
    import jax
    import xarray as xr
    from numpyro.infer import MCMC, NUTS, init_to_value

    from bayesgmm import fit_em
    from bayesgmm.priors import Standardisation

    std = Standardisation.from_data(X, "full")
    Z = std.transform(X)
    em = fit_em(X, K, n_init=10, random_state=0)
    chol = np.linalg.cholesky(em.covariances / np.outer(std.scale, std.scale))
    sd = np.sqrt(np.einsum("kii->ki", chol @ chol.transpose(0, 2, 1)))
    start = {"weights": em.weights, "means_z": std.transform(em.means), "sd_z": sd,
             "corr_chol_z": chol / sd[:, :, None]}
    dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
    start = {k: jax.numpy.asarray(v, dtype=dtype) for k, v in start.items()}
    kernel = NUTS(_numpyro_model(Z, half_normal=kind == "numpyro-halfnormal"),
                  init_strategy=init_to_value(values=start))
    mcmc = MCMC(kernel, num_warmup=tune, num_samples=draws, num_chains=chains,
                chain_method="parallel", progress_bar=False)
    x = jax.numpy.asarray(Z, dtype=dtype)
    # Compilation, from JAX's own timers (tracing, lowering, XLA): a second run() would not
    # separate it, since chain_method="parallel" builds a new pmap, compiled again, per run.
    # The events nest (tracing evaluates eager operations, each compiled), so compile time is
    # the length of the union of their intervals (the listener is called as an event ends),
    # not the sum of their durations.
    compile_events = []

    def on_event(event, duration, **kwargs):
        if event.startswith("/jax/core/compile/"):
            end = time.perf_counter()
            compile_events.append((end - duration, end))

    jax.monitoring.register_event_duration_secs_listener(on_event)
    t1 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), x, extra_fields=("num_steps", "diverging"))
    samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
    run_s = time.perf_counter() - t1
    wall = time.perf_counter() - t0
    compile_s = _union_length(compile_events)
    sample_s = run_s - compile_s
    extra = mcmc.get_extra_fields(group_by_chain=True)
    means = std.center + std.scale * np.asarray(samples["means_z"], dtype=np.float64)
    post = xr.Dataset({
        "weights": (("chain", "draw", "component"), np.asarray(samples["weights"], np.float64)),
        "means": (("chain", "draw", "component", "feature"), means),
    })
    steps = float(np.mean(np.asarray(extra["num_steps"])))
    divergences = int(np.sum(np.asarray(extra["diverging"])))
    return post, steps, divergences, sample_s, compile_s, wall


def _empty_caches() -> dict:
    """Environment with empty compile caches: numba's own (bayesgmm's kernels) and PyTensor's
    (its C and numba caches both live under ``base_compiledir``)."""
    cache = tempfile.mkdtemp(prefix="bayesgmm-bench-cache-")
    return dict(os.environ, NUMBA_CACHE_DIR=os.path.join(cache, "numba"),
                PYTENSOR_FLAGS=f"base_compiledir={os.path.join(cache, 'pytensor')}")


def _have_numpyro() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("numpyro", "jax"))


def bench_sampling(draws: int, tune: int, skip_textbook: bool, skip_numpyro: bool = False,
                   x64: bool = False, peers_only: bool = False) -> None:
    print(f"\n== 1. Sampling: N={N}, K={K}, D={D}, full, 4 chains x ({tune} tune + {draws} draws)")
    rows = []
    if peers_only:
        # warm rows only, with this environment's caches (warm after any earlier run)
        env = dict(os.environ)
        if not skip_textbook:
            rows.append(("textbook pm.sample, warm (ref)",
                         _run_child("textbook", draws, tune, env)))
        rows.append(("bayesgmm default, warm cache", _run_child("bayesgmm", draws, tune, env)))
    elif not skip_textbook:
        textbook_env = _empty_caches()
        rows.append(("textbook pm.sample, cold cache",
                     _run_child("textbook", draws, tune, textbook_env)))
        rows.append(("textbook pm.sample, warm (ref)",
                     _run_child("textbook", draws, tune, textbook_env)))
    if not peers_only:
        env = _empty_caches()  # the cold run fills these; the warm runs reuse them
        rows.append(("bayesgmm default, cold cache", _run_child("bayesgmm", draws, tune, env)))
        rows.append(("bayesgmm default, warm cache", _run_child("bayesgmm", draws, tune, env)))
        rows.append(("bayesgmm, 2nd fit in process", _run_child("bayesgmm-reuse", draws, tune,
                                                                 env)))
        # The PyMC-graph backends share PyTensor's cache, which the default (native) runs do
        # not fill: one untimed pyfunc run compiles it, so that both rows below are warm.
        _run_child("bayesgmm-pyfunc", draws, tune, env)
        rows.append(("bayesgmm, pyfunc backend, warm", _run_child("bayesgmm-pyfunc", draws,
                                                                  tune, env)))
        rows.append(("bayesgmm, numba backend, warm", _run_child("bayesgmm-numba", draws,
                                                                  tune, env)))
    if skip_numpyro:
        pass
    elif not _have_numpyro():
        print("numpyro rows skipped: numpyro/jax not installed (pip install -e '.[bench]')")
    else:
        precision = "float64" if x64 else "float32"
        for kind, name in (("numpyro", f"numpyro, {precision}"),
                           ("numpyro-halfnormal", f"numpyro (HalfNormal sd), {precision}")):
            try:
                rows.append((name, _run_child(kind, draws, tune, env, x64)))
            except RuntimeError as exc:  # a peer failing must not lose the other rows
                print(f"{name}: failed: {str(exc).splitlines()[-1]}")
    # The reference is the textbook model with a warm cache: the conservative comparison.
    ref = rows[0 if peers_only else 1][1] if not skip_textbook else None
    print("wall: end to end including imports of the sampling stack, EM and compilation; "
          "sample: sampling alone")
    print(f"{'run':34s} {'wall s':>7s} {'compile s':>9s} {'sample s':>8s} {'min ESS':>8s} "
          f"{'tail ESS':>8s} {'ESS/s':>8s} {'ratio':>6s} {'ESS/s(sample)':>13s} {'ratio':>6s} "
          f"{'steps/draw':>10s} {'ESS/1k grad':>11s} {'ns/pc':>6s} {'div':>4s}")
    for name, r in rows:
        ratio = f"{r['ess_per_s'] / ref['ess_per_s']:6.1f}" if ref else f"{'n/a':>6s}"
        ratio_s = (f"{r['ess_per_sample_s'] / ref['ess_per_sample_s']:6.1f}" if ref
                   else f"{'n/a':>6s}")
        print(f"{name:34s} {r['wall_s']:7.1f} {r['compile_s']:9.1f} {r['sample_s']:8.1f} "
              f"{r['min_bulk_ess']:8.0f} {r['min_tail_ess']:8.0f} "
              f"{r['ess_per_s']:8.1f} {ratio} {r['ess_per_sample_s']:13.1f} {ratio_s} "
              f"{r['steps_per_draw']:10.1f} {r['ess_per_1k_grad']:11.1f} {r['ns_pc']:6.1f} "
              f"{r['divergences']:4d}")


# --------------------------------------------------------------------------------------------
# 1b. the peers side by side: several data sizes and seeds in one run
# --------------------------------------------------------------------------------------------
def run_sizes(n: int) -> tuple[int, int, int]:
    """(chains, tune, draws) per chain for a data size: issue 16's runs (N <= 1e4: 4 x (1000 +
    1000); larger: 2 x (500 + 500))."""
    return (4, 1000, 1000) if n <= 10_000 else (2, 500, 500)


_PEER_KINDS = (("textbook", "textbook pm.sample"), ("bayesgmm", "bayesgmm default"),
               ("numpyro", "numpyro"))
# columns of the per-library summary: (JSON key, header, format)
_SUMMARY = (("wall_s", "wall s", "{:.1f}"), ("compile_s", "compile s", "{:.1f}"),
            ("sample_s", "sample s", "{:.1f}"), ("min_bulk_ess", "bulk ESS", "{:.0f}"),
            ("min_tail_ess", "tail ESS", "{:.0f}"), ("steps_per_draw", "steps/draw", "{:.2f}"),
            ("ess_per_1k_grad", "ESS/1k grad", "{:.0f}"), ("ess_per_s", "ESS/s", "{:.1f}"),
            ("ess_per_sample_s", "ESS/s(sample)", "{:.1f}"), ("ns_pc", "ns/pc", "{:.1f}"))


def _mean_range(values: list[float], fmt: str) -> str:
    """'mean [min-max]' (just the value for one run)."""
    if len(values) == 1:
        return fmt.format(values[0])
    return (f"{fmt.format(np.mean(values))} [{fmt.format(min(values))}-"
            f"{fmt.format(max(values))}]")


def _load_average() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:  # not available on this platform
        return "n/a"


def _textbook_estimate(runs: dict, n: int, chains: int, draws: int, tune: int) -> float | None:
    """Sampling seconds the textbook model would take at ``n``, scaled linearly in N x
    gradients from its smallest measured run (None when there is none)."""
    done = [r for (kind, _), rs in runs.items() if kind == "textbook" for r in rs]
    if not done:
        return None
    r = min(done, key=lambda r: r["n"])
    per = r["sample_s"] / (r["n"] * r["chains"] * (r["draws"] + r["tune"]))
    return per * n * chains * (draws + tune)


def bench_peers(sizes: list[int], seeds: list[int], *, skip_textbook: bool = False,
                skip_numpyro: bool = False, x64: bool = False, textbook_max_n: int = 10_000,
                textbook_seeds: int | None = None, large_seeds: int | None = None,
                draws: int | None = None, tune: int | None = None) -> dict:
    """bayesgmm and numpyro at every size in ``sizes``, each with every seed in ``seeds``
    (the first ``large_seeds`` of them above N = 1e4), then the textbook PyMC model (the first
    ``textbook_seeds`` seeds, N <= ``textbook_max_n``), in one run: a row per run, and per size
    the mean [range] over seeds per library with the ratios bayesgmm / numpyro and against the
    textbook model.

    Every run is a fresh subprocess with this environment's caches; one short untimed run of
    bayesgmm and of the textbook model first fills those caches, so the timed rows are warm
    (the cold costs are section 1's). bayesgmm and numpyro alternate within each seed, so
    background load hits them alike; the slow textbook runs come last, so that a run cut short
    still has the comparison with numpyro.
    """
    env = dict(os.environ)
    kinds = [(k, name) for k, name in _PEER_KINDS
             if not (k == "textbook" and skip_textbook) and not (k == "numpyro" and skip_numpyro)]
    if not skip_numpyro and not _have_numpyro():
        print("numpyro rows skipped: numpyro/jax not installed (pip install -e '.[bench]')")
        kinds = [(k, name) for k, name in kinds if k != "numpyro"]
    precision = "float64" if x64 else "float32"
    print(f"\n== Peers: N in {sizes}, K={K}, D={D}, full, seeds {seeds}; "
          f"{os.cpu_count()} cores, load average at start {_load_average()}")
    print("   numpyro: " + precision + ", one host device per chain (chains in parallel); "
          "every run warm (caches filled by an untimed short run)", flush=True)
    for kind, _ in kinds:  # fill the numba / PyTensor caches (not timed)
        if kind in ("textbook", "bayesgmm"):
            _run_child(kind, 20, 20, env, n=N, chains=2, seed=0)
    runs: dict[tuple[str, int], list[dict]] = {}
    print(f"{'run':22s} {'N':>7s} {'seed':>4s} {'chains x (tune+draws)':>21s} "
          f"{'wall s':>7s} {'compile s':>9s} {'sample s':>8s} {'bulk ESS':>8s} "
          f"{'tail ESS':>8s} {'steps/draw':>10s} {'ESS/1k grad':>11s} {'ESS/s':>7s} "
          f"{'ESS/s(sample)':>13s} {'ns/pc':>6s} {'div':>4s}", flush=True)

    def one(kind, name, n, seed):
        chains, t, d = run_sizes(n)
        t, d = tune or t, draws or d
        try:
            r = _run_child(kind, d, t, env, x64, n=n, chains=chains, seed=seed)
        except RuntimeError as exc:  # one failed run must not lose the others
            print(f"{name} N={n} seed {seed}: failed: {str(exc).splitlines()[-1]}")
            return
        runs.setdefault((kind, n), []).append(r)
        print(f"{name:22s} {n:7d} {seed:4d} {f'{chains} x ({t}+{d})':>21s} "
              f"{r['wall_s']:7.1f} {r['compile_s']:9.1f} {r['sample_s']:8.1f} "
              f"{r['min_bulk_ess']:8.0f} {r['min_tail_ess']:8.0f} "
              f"{r['steps_per_draw']:10.2f} {r['ess_per_1k_grad']:11.0f} "
              f"{r['ess_per_s']:7.1f} {r['ess_per_sample_s']:13.1f} {r['ns_pc']:6.1f} "
              f"{r['divergences']:4d}", flush=True)

    peers = [(k, name) for k, name in kinds if k != "textbook"]
    for n in sizes:
        for seed in seeds[:large_seeds] if n > 10_000 else seeds:
            for kind, name in peers:
                one(kind, name, n, seed)
        _print_peer_summary(runs, [n], peers)
        print(f"load average {_load_average()}", flush=True)
    if any(k == "textbook" for k, _ in kinds):
        name = dict(kinds)["textbook"]
        for n in sizes:
            if n > textbook_max_n:
                continue
            for seed in seeds[:textbook_seeds]:
                one("textbook", name, n, seed)
        for n in sizes:
            if n <= textbook_max_n:
                continue
            chains, t, d = run_sizes(n)
            est = _textbook_estimate(runs, n, chains, draws or d, tune or t)
            print(f"{name} N={n}: skipped (N > --textbook-max-n {textbook_max_n})"
                  + (f": its N={min(sizes)} runs scaled linearly in N x chains x "
                     f"iterations would sample ~{est / 60:.0f} min" if est is not None else ""))
        _print_peer_summary(runs, [n for n in sizes if n <= textbook_max_n], kinds)
    print(f"load average at end {_load_average()}")
    return runs


def _print_peer_summary(runs: dict, sizes: list[int], kinds: list[tuple[str, str]]) -> None:
    """Per size and library: mean [min-max] over seeds; then bayesgmm / numpyro."""
    print("\nmean [min-max] over seeds (wall: end to end in a fresh process, imports, EM, "
          "compilation and sampling; ESS/1k grad: min bulk ESS per 1,000 post-warm-up "
          "gradients)")
    for n in sizes:
        print(f"-- N={n}")
        for kind, name in kinds:
            rs = runs.get((kind, n))
            if not rs:
                continue
            cells = "; ".join(f"{head} {_mean_range([r[key] for r in rs], fmt)}"
                              for key, head, fmt in _SUMMARY)
            print(f"   {name} ({len(rs)} runs): {cells}")
        ours, peer, ref = (runs.get((k, n)) for k in ("bayesgmm", "numpyro", "textbook"))
        for rs, name in ((ours, "bayesgmm"), (peer, "numpyro")):
            if rs and ref:
                print(f"   {name} / textbook (ratio of means): " + "; ".join(
                    f"{head} {np.mean([r[key] for r in rs]) / np.mean([r[key] for r in ref]):.2f}"
                    for key, head in (("ess_per_s", "ESS/s end to end"),
                                      ("ess_per_sample_s", "ESS/s sampling"))))
        if not (ours and peer):
            continue
        ratios = []
        for key, head in (("ess_per_1k_grad", "ESS/1k grad"), ("ess_per_s", "ESS/s end to end"),
                          ("ess_per_sample_s", "ESS/s sampling"), ("ns_pc", "ns/pc")):
            a, b = (np.array([r[key] for r in rs]) for rs in (ours, peer))
            ratios.append(f"{head} {a.mean() / b.mean():.2f}")
        print("   bayesgmm / numpyro (ratio of means): " + "; ".join(ratios))
        a, b = (np.array([r["ess_per_1k_grad"] for r in rs]) for rs in (ours, peer))
        if len(a) > 1 and len(b) > 1:
            # the difference of the mean ESS per gradient against its standard error over
            # seeds (Welch): "ahead" only when it is more than twice that
            diff = a.mean() - b.mean()
            se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            verdict = ("ahead" if diff > 2 * se else "behind" if diff < -2 * se
                       else "not distinguishable")
            print(f"   ESS/1k grad, bayesgmm - numpyro: {diff:+.0f} +- {se:.0f} (standard error "
                  f"over seeds): {verdict}")


# --------------------------------------------------------------------------------------------
# 2. one log-likelihood + gradient evaluation
# --------------------------------------------------------------------------------------------
def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _autodiff_function():
    """PyTensor's autodiff graph of the same log-likelihood (value and gradient)."""
    import pytensor
    import pytensor.tensor as pt

    x = pt.matrix("x")
    w = pt.vector("w")
    mu = pt.matrix("mu")  # (K, D)
    L = pt.tensor3("L")
    diff = x[None, :, :] - mu[:, None, :]  # (K, N, D)
    sol = pt.linalg.solve_triangular(L[:, None, :, :], diff[..., None], lower=True)[..., 0]
    logdet = pt.log(pt.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
    lk = pt.log(w)[:, None] - 0.5 * (sol**2).sum(axis=-1) - logdet[:, None] \
        - 0.5 * D * np.log(2 * np.pi)
    ll = pt.logsumexp(lk, axis=0).sum()
    return pytensor.function([x, w, mu, L], [ll, *pt.grad(ll, [w, mu, L])])


def _full_spec():
    """A model spec (K=3, D=2, full, default priors) for native.unconstrained_point."""
    from bayesgmm.layout import MixtureModelSpec

    return MixtureModelSpec(K, D, "full", np.zeros(D), np.ones(D), False, ())


def bench_gradient(sizes: list[int]) -> None:
    import numba

    from bayesgmm import kernels, native

    print(f"\n== 2. One log-likelihood + gradient evaluation (K={K}, D={D})")
    rng = np.random.default_rng(0)
    w = np.array([0.5, 0.3, 0.2])
    mu = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
    L = np.linalg.cholesky(np.array([np.eye(D)] * K) * 1.5)
    U, logdet = kernels.precision_from_covariance_cholesky(L)

    def fused(X, parallel):
        e = kernels.estep_parallel if parallel else kernels.estep_serial
        total, nk, s1c, c = e(X, np.ones(X.shape[0]), np.log(w), mu, U, logdet,
                              np.empty(0), np.empty((0, K)))
        return total, kernels.gradient_from_statistics(w, L, U, nk, s1c, c)

    # The sampler's whole density (priors, transforms, likelihood; bayesgmm.native) at the
    # same parameters, unconstrained: what one leapfrog step costs on one thread.
    positions = native.correlation_positions(D)
    params = native.prior_parameters(_full_spec())  # the default priors, from the layout
    corr = np.linalg.cholesky(np.array([np.eye(D)] * K))
    theta = native.unconstrained_point(
        _full_spec(), {"weights": w, "means_z": mu, "sd_z": np.full((K, D), np.sqrt(1.5)),
                      "corr_chol_z": corr})
    grad = np.empty_like(theta)

    def model(X):
        return native.logp_and_gradient(theta, X, K, 0, 0, positions, params, 0.0, grad)

    t = time.perf_counter()
    try:
        autodiff = _autodiff_function()
        compile_s = time.perf_counter() - t
    except Exception as exc:  # the comparison is informative, not essential
        autodiff, compile_s = None, float("nan")
        print(f"   (autodiff graph unavailable: {type(exc).__name__}: {exc})")
    print(f"   autodiff graph compile: {compile_s:.1f} s; numba threads: "
          f"{numba.get_num_threads()}")
    print("   fused: the likelihood kernel + Fisher-identity gradient; model: the sampler's whole "
          "density (bayesgmm.native, one thread)")
    print(f"{'N':>9s} {'fused 1 thr us':>15s} {'ns/pair':>8s} {'fused all us':>13s} "
          f"{'ns/pair':>8s} {'model us':>9s} {'autodiff us':>12s} {'ns/pair':>8s} "
          f"{'speed-up':>9s}")
    for n in sizes:
        X = np.ascontiguousarray(rng.normal(size=(n, D)) * 2)
        fused(X, False), fused(X, True)  # compile / warm up
        reps = max(3, min(200, int(2e6 // n)))
        t1 = _median_time(lambda X=X: fused(X, False), reps)
        tp = _median_time(lambda X=X: fused(X, True), reps)
        model(X)
        tm = _median_time(lambda X=X: model(X), reps)
        if autodiff is not None:
            autodiff(X, w, mu, L)
            ta = _median_time(lambda X=X: autodiff(X, w, mu, L), max(3, reps // 4))
        else:
            ta = float("nan")
        pairs = n * K
        print(f"{n:9d} {t1 * 1e6:15.1f} {t1 / pairs * 1e9:8.2f} {tp * 1e6:13.1f} "
              f"{tp / pairs * 1e9:8.2f} {tm * 1e6:9.1f} {ta * 1e6:12.1f} "
              f"{ta / pairs * 1e9:8.2f} "
              f"{ta / min(t1, tp):9.1f}")


# --------------------------------------------------------------------------------------------
# 3. EM vs scikit-learn at large N
# --------------------------------------------------------------------------------------------
def bench_em(sizes: list[int]) -> None:
    import warnings

    from sklearn.mixture import GaussianMixture

    from bayesgmm import fit_em

    # atol=np.inf, max_iter=100: scikit-learn's stopping rule, so both run the same iterations
    # (bayesgmm's default also stops on the total change, atol=0.01: see bench_em.py --stopping)
    print("\n== 3. EM vs scikit-learn (full, K=3, D=2, same initial parameters, tol=1e-3, "
          "scikit-learn's stopping rule)")
    print(f"{'N':>9s} {'iters':>9s} {'bayesgmm s':>11s} {'sklearn s':>10s} {'ratio':>7s} "
          f"{'|dLL|/|LL|':>11s}")
    w0 = np.full(K, 1 / K)
    m0 = np.array([[0.5, 0.5], [4.0, 0.0], [0.0, 5.0]])
    c0 = np.array([np.eye(D)] * K)
    for n in sizes:
        X = simulate(n, seed=1)
        fit_em(X[:1000], K, init={"weights": w0, "means": m0, "covariances": c0})  # warm-up
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            ours = fit_em(X, K, init={"weights": w0, "means": m0, "covariances": c0},
                          atol=np.inf, max_iter=100)
            t_ours = time.perf_counter() - t
            t = time.perf_counter()
            gm = GaussianMixture(K, weights_init=w0, means_init=m0,
                                 precisions_init=np.linalg.inv(c0), tol=1e-3).fit(X)
            t_sk = time.perf_counter() - t
        ll_sk = gm.score(X) * n
        rel = abs(ours.log_likelihood - ll_sk) / abs(ll_sk)
        print(f"{n:9d} {ours.n_iter:4d}/{gm.n_iter_:<4d} {t_ours:11.3f} {t_sk:10.3f} "
              f"{t_sk / t_ours:7.1f} {rel:11.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    parser.add_argument("--skip-textbook", action="store_true",
                        help="skip the slow textbook reference (no ESS/s ratio)")
    parser.add_argument("--skip-numpyro", action="store_true",
                        help="skip the numpyro rows (skipped anyway when it is not installed)")
    parser.add_argument("--x64", action="store_true", help="numpyro in float64")
    parser.add_argument("--sampling-only", action="store_true",
                        help="only the sampling table (no gradient or EM sections)")
    parser.add_argument("--peers-only", action="store_true",
                        help="sampling rows: warm textbook, warm bayesgmm default and numpyro only "
                             "(this environment's caches)")
    parser.add_argument("--n", type=int, nargs="+",
                        help="the peers table only: textbook, bayesgmm and numpyro at these data "
                             "sizes, e.g. --n 1000 100000 (N <= 1e4: 4 chains x (1000+1000), "
                             "larger: 2 x (500+500); --draws/--tune override)")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="sampler seeds for every library in the peers table (default: 1)")
    parser.add_argument("--textbook-max-n", type=int, default=10_000,
                        help="peers table: skip the textbook model above this N (default 1e4; "
                             "it would take hours at 1e5)")
    parser.add_argument("--textbook-seeds", type=int,
                        help="peers table: the textbook model runs only the first this many "
                             "seeds (default: all; it is the slowest)")
    parser.add_argument("--large-seeds", type=int,
                        help="peers table: above N = 1e4 only the first this many seeds "
                             "(default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--chains", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--draws", type=int)
    parser.add_argument("--tune", type=int)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.draws, args.tune, n=(args.n or [N])[0], chains=args.chains,
               seed=(args.seeds or [1])[0])
        return
    if args.n or args.seeds:
        bench_peers(args.n or [N], args.seeds or [1], skip_textbook=args.skip_textbook,
                    skip_numpyro=args.skip_numpyro, x64=args.x64,
                    textbook_max_n=args.textbook_max_n, textbook_seeds=args.textbook_seeds,
                    large_seeds=args.large_seeds,
                    draws=200 if args.quick else args.draws,
                    tune=200 if args.quick else args.tune)
        return
    draws = 200 if args.quick else (args.draws or 1000)
    tune = 200 if args.quick else (args.tune or 1000)
    print(f"bench_sampling: {os.cpu_count()} cores")
    bench_sampling(draws, tune, args.skip_textbook, args.skip_numpyro, args.x64,
                   args.peers_only)
    if args.sampling_only:
        return
    bench_gradient([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000])
    bench_em([100_000] if args.quick else [100_000, 1_000_000])


if __name__ == "__main__":
    main()
