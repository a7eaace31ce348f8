"""Simulation-based calibration (SBC) of the Bayesian mixture model (Talts et al. 2018).

If theta ~ p(theta), y ~ p(y | theta) and theta_1..theta_L are independent draws from the
posterior p(theta | y), then for any scalar function f the rank of f(theta) among the
f(theta_l) is uniform on {0, ..., L}. Departures from uniformity point to a bug in the model
(prior and likelihood disagreeing with the simulator), in the sampler, or in the way draws are
post-processed.

Design (defaults; all configurable by flags):

- Model: ``build_model(X, K=2, "full", Priors())`` with ``center=0, scale=1``, so the model
  scale *is* the data scale. Every data set is fitted with the same center/scale; standardising
  each simulated data set by its own mean and sd (as ``fit_bayes`` does) would make the prior
  depend on the data and SBC would not hold.
- Prior draws: ``pm.draw`` of the model's own free variables (``weights``, ``means_z``,
  ``sd_z``, ``corr_chol_z``), i.e. PyMC's forward samplers of exactly the model's prior. Before
  the SBC loop these draws are checked against the analytic marginals of the prior (weights:
  Beta(a, (K - 1) a); means: Normal(0, means_sd); log sd: Normal(log sd_median, sd_log_sd);
  each correlation of LKJ(eta) in D dims: (r + 1) / 2 ~ Beta(eta - 1 + D/2, eta - 1 + D/2)),
  so that a miscalibrated functional can be traced to the oracle or to the model.
- Data: x_i = mu_{z_i} + L_{z_i} eps_i with z_i ~ Categorical(w), simulated in numpy from the
  drawn parameters (N points per data set).
- Fit: nutpie through ``compile_nutpie(..., reuse=True)`` (compiled once, re-pointed at every
  new data set; ``--backend``, default native), chains run one after the other (``cores=1``),
  every chain **started at the true parameters** without jitter. Starting at the truth is
  legitimate for SBC as long as the chains forget their start during tuning (the test would
  show under-dispersed, hump-shaped rank histograms if they did not), and it removes the need
  for an EM fit per data set.
  ``--start em`` starts at MAP-EM instead (10 restarts), as ``fit_bayes`` does.
- Thinning: the (chains x draws) draws are thinned at evenly spaced positions to L (default 99)
  draws. The bulk ESS of every functional is computed on the unthinned draws; when the smallest
  is below L the data set is refitted (``--refits``, default once) with 5x the draws and 2x the
  tuning, because autocorrelated thinned draws pile ranks up at 0 and L. This stays valid SBC:
  the decision depends on the data only (through an independent first run), and given the data
  the true parameters and the refit's draws are still exchangeable. Low ESS comes from prior
  draws with a nearly empty component (weight ~0.01: its mean and covariance are then sampled
  from their prior, a funnel with the weight) or from two heavily overlapping components.
- Functionals (all label-invariant, so label switching within or between chains is harmless;
  "lo"/"hi" are the components with the smaller/larger first mean coordinate, meaningful for
  K = 2 and for the extreme components otherwise):

  ``mean_mu[d]``   average of the component means, per feature
  ``mix_mean[d]``  mixture mean sum_k w_k mu_k
  ``mix_var[d]``, ``mix_cov01``  total covariance sum_k w_k (S_k + mu_k mu_k') - m m'
  ``w_max``        largest weight
  ``w_lo``         weight of the "lo" component
  ``mu_lo[d]``, ``mu_hi[d]``  means of the "lo"/"hi" components
  ``log_sd_lo0``, ``log_sd_hi0``  log sd of feature 0 of the "lo"/"hi" components
  ``corr_lo``, ``corr_hi``  correlation of features 0 and 1 of the "lo"/"hi" components
  ``loglik``       log-likelihood of the simulated data set
  ``logprior``     log prior density (normalising constants dropped)

- Tests: chi-square on B (default 10) equal-width bins of the ranks (L + 1 must be divisible by
  B) and Kolmogorov-Smirnov on u = (rank + U(0, 1)) / (L + 1), which is exactly U(0, 1) under
  calibration. With ~20 functionals, about 0.2 p-values below 0.01 are expected by chance per
  test type; the functionals are also correlated, so a Bonferroni threshold (0.01 / #tests) is
  conservative.
- Figures (``--out``): ``sbc_ranks.png``, rank histograms with the 99% band of one bin's count
  under uniformity (Binomial(M, 1/B) quantiles, pointwise); ``sbc_ecdf.png``, ECDF of u minus
  the uniform CDF with a simultaneous 99% band (pointwise binomial band at an adjusted level,
  calibrated by simulation as in Saeilynoja et al. 2022).

Variants (``--variant``, issue 14; default ``complete``, the run above):

- ``missing``: each simulated value is then removed with probability ``--missing-rate``
  (default 0.2; missing completely at random, so also at random), never a whole row; the
  model marginalises them through the row plan (``build_model`` with NaN), rebuilt per data set
  (the compiled native model is reused: the plan's arrays are data). ``loglik`` is then the
  observed-data log-likelihood (the plan kernel).
- ``noise``: the model has a uniform noise component over the box [-B, B]^D (``--noise-box``,
  default 10, wide against the prior of the means, Normal(0, 2), and sds, so that a Gaussian
  point outside it, where the simulator's noise density is 0 but the model's is not, is rare;
  the run counts them). Prior draws are the model's own (``mixing``: K + 1 weights); the data
  take noise points uniformly from the box. Functionals gain ``noise_weight``; ``loglik`` and
  ``logprior`` include the noise component.
- ``labels``: partly labelled data. After simulating z and x, each row's true component is
  revealed with probability ``--label-rate`` (default 0.3, MCAR, hence ignorable) and the
  model is ``build_model(..., labels=...)`` (-1: unknown), a labelled row contributing
  log w_z + log N(x | mu_z, Sigma_z) of its own component only. Same route as ``missing``:
  the model (its row plan, whose groups are (pattern, label)) is rebuilt per data set and the
  compiled native model is re-pointed at the plan's arrays with ``with_data``. ``loglik`` is
  the labelled-data log-likelihood (the plan kernel with the labels). Since labels pin the
  components, functionals that depend on the labelling are added: ``w[k]``, ``mu[k][d]`` and
  ``log_sd[k][0]`` for every component k (the SBC identity holds for any function of theta,
  label-invariant or not, as long as the sampler explores the whole posterior; chains started
  at the truth that never leave their labelling would show as hump-shaped histograms there).

Usage::

    python benchmarks/sbc.py --quick        # M = 30 replications, ~30 s (15 s of it compiling)
    python benchmarks/sbc.py                # M = 200 replications, ~2 minutes on 2 cores
    python benchmarks/sbc.py --reps 200 --N 100 --seed 3 --out /tmp/sbc
    python benchmarks/sbc.py --variant missing --reps 100 --out docs/sbc_missing
    python benchmarks/sbc.py --variant noise --reps 100 --out docs/sbc_noise
    python benchmarks/sbc.py --variant labels --label-rate 0.3 --reps 100 --out /tmp/sbc_labels
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.special import logsumexp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------------------------
# prior draws (the model's own samplers) and their analytic check
# --------------------------------------------------------------------------------------------
def prior_draws(model, n: int, seed: int, D: int) -> dict[str, np.ndarray]:
    """n joint draws of the model's free variables from its prior (``pm.draw``)."""
    import pymc as pm

    names = [rv.name for rv in model.free_RVs]  # weights (or mixing), means_z, sd_z, corr
    values = pm.draw([model[name] for name in names], draws=n, random_seed=seed)
    return dict(zip(names, (np.asarray(v, dtype=np.float64) for v in values), strict=True))


def check_prior_oracle(draws: dict[str, np.ndarray], priors, K: int, D: int) -> list:
    """KS p-values of the drawn prior marginals against their analytic distributions."""
    a = priors.weights_concentration
    w_name = "weights" if "weights" in draws else "mixing"  # mixing: K + 1 entries
    n_w = draws[w_name].shape[1]
    rows = [(f"{w_name}[0] ~ Beta(a, ({n_w}-1) a)",
             stats.kstest(draws[w_name][:, 0], stats.beta(a, (n_w - 1) * a).cdf).pvalue),
            ("means_z ~ Normal(0, means_sd)",
             stats.kstest(draws["means_z"][:, 0, 0], stats.norm(0, priors.means_sd).cdf).pvalue),
            ("log sd_z ~ Normal(log sd_median, sd_log_sd)",
             stats.kstest(np.log(draws["sd_z"][:, -1, -1]),
                          stats.norm(np.log(priors.sd_median), priors.sd_log_sd).cdf).pvalue)]
    if D > 1:
        L = draws["corr_chol_z"][:, 0]
        R = L @ np.swapaxes(L, -1, -2)
        b = priors.lkj_eta - 1 + D / 2
        rows.append(("LKJ: (r01 + 1)/2 ~ Beta(eta-1+D/2, same)",
                     stats.kstest((R[:, 1, 0] + 1) / 2, stats.beta(b, b).cdf).pvalue))
        rows.append(("corr_chol_z rows have unit norm (max |norm-1|)",
                     float(np.max(np.abs(np.sum(L**2, axis=-1) - 1)))))
    # independence of the components: weights of comp 0 vs corr of comp 1 etc. is not checked;
    # the variables are drawn by independent RandomVariables, so only the marginals can differ.
    return rows


def simulate(theta: dict[str, np.ndarray], N: int, rng: np.random.Generator,
             noise_box: float | None = None, return_z: bool = False):
    """N points of the mixture; with ``noise_box`` B and a ``noise_weight`` in ``theta``, a
    point of the noise component is uniform on [-B, B]^D."""
    w, mu, L = theta["weights"], theta["means"], theta["chol"]
    K, D = mu.shape
    p = np.append(w, theta["noise_weight"]) if noise_box is not None else w
    z = rng.choice(p.shape[0], size=N, p=p / p.sum())
    eps = rng.standard_normal((N, D))
    zg = np.minimum(z, K - 1)
    X = mu[zg] + np.einsum("nij,nj->ni", L[zg], eps)
    if noise_box is not None:
        noise = z == K
        X[noise] = rng.uniform(-noise_box, noise_box, (int(noise.sum()), D))
    return (X, z) if return_z else X


def remove_values(X: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Each value missing with probability ``rate`` (MCAR), never a whole row."""
    X = X.copy()
    gone = rng.random(X.shape) < rate
    full = gone.all(axis=1)
    gone[full, rng.integers(0, X.shape[1], int(full.sum()))] = False
    X[gone] = np.nan
    return X


# --------------------------------------------------------------------------------------------
# label-invariant functionals
# --------------------------------------------------------------------------------------------
def label_functional_names(K: int, D: int) -> list[str]:
    """Functionals that depend on the labelling (``--variant labels``): per component k."""
    return [name for k in range(K) for name in
            [f"w[{k}]", *(f"mu[{k}][{d}]" for d in range(D)), f"log_sd[{k}][0]"]]


def label_functionals(w, mu, L) -> np.ndarray:
    """(S, K * (D + 2)) in the order of :func:`label_functional_names`."""
    sd0 = np.abs(L[:, :, 0, 0])  # row 0 of a lower Cholesky factor is (sd_0, 0, ...)
    return np.concatenate([np.concatenate([w[:, k:k + 1], mu[:, k], np.log(sd0[:, k:k + 1])],
                                          axis=1) for k in range(mu.shape[1])], axis=1)


def functional_names(K: int, D: int, noise: bool = False) -> list[str]:
    names = [f"mean_mu[{d}]" for d in range(D)] + [f"mix_mean[{d}]" for d in range(D)]
    names += [f"mix_var[{d}]" for d in range(D)] + (["mix_cov01"] if D > 1 else [])
    names += ["w_max", "w_lo"] + [f"mu_lo[{d}]" for d in range(D)]
    names += [f"mu_hi[{d}]" for d in range(D)] + ["log_sd_lo0", "log_sd_hi0"]
    names += ["corr_lo", "corr_hi"] if D > 1 else []
    names += ["loglik", "logprior"]
    return names + (["noise_weight"] if noise else [])


def functionals(w, mu, L, X, priors, nw=None, log_noise=-np.inf, labels=None) -> np.ndarray:
    """Label-invariant functionals of S parameter sets: w (S, K), mu (S, K, D), L (S, K, D, D).

    ``nw`` (S,): noise weights (with ``log_noise`` the noise density); X may hold NaN (the
    observed-data log-likelihood is then the plan kernel's). ``labels`` (N,), -1 unknown: the
    log-likelihood is the labelled data's (plan kernel) and the per-component functionals of
    :func:`label_functionals` are appended. Returns an (S, F) array in the order of
    :func:`functional_names` (then :func:`label_functional_names`).
    """
    S, K, D = mu.shape
    cov = L @ np.swapaxes(L, -1, -2)
    out = [mu.mean(axis=1)]
    m = np.einsum("sk,skd->sd", w, mu)
    out.append(m)
    second = np.einsum("sk,skij->sij", w, cov + mu[..., :, None] * mu[..., None, :])
    total = second - m[:, :, None] * m[:, None, :]
    out.append(np.diagonal(total, axis1=1, axis2=2))
    if D > 1:
        out.append(total[:, 0, 1][:, None])
    order = np.argsort(mu[:, :, 0], axis=1, kind="stable")
    lo, hi = order[:, 0], order[:, -1]
    s = np.arange(S)
    sd = np.sqrt(np.diagonal(cov, axis1=2, axis2=3))  # (S, K, D)
    out.append(np.stack([w.max(axis=1), w[s, lo]], axis=1))
    out += [mu[s, lo], mu[s, hi]]
    out.append(np.log(np.stack([sd[s, lo, 0], sd[s, hi, 0]], axis=1)))
    if D > 1:
        corr = cov[:, :, 0, 1] / (sd[:, :, 0] * sd[:, :, 1])
        out.append(np.stack([corr[s, lo], corr[s, hi]], axis=1))
    if nw is None and labels is None and not np.isnan(X).any():
        out.append(loglik(w, mu, L, X)[:, None])
    else:
        out.append(loglik_plan(w, nw, mu, L, X, log_noise, labels)[:, None])
    lp = logprior(w, mu, L, priors)
    if nw is not None:  # the noise weight's share of the Dirichlet over K + 1
        lp = lp + (priors.weights_concentration - 1) * np.log(nw)
    out.append(lp[:, None])
    if nw is not None:
        out.append(np.asarray(nw)[:, None])
    if labels is not None:
        out.append(label_functionals(w, mu, L))
    return np.concatenate(out, axis=1)


def loglik_plan(w, nw, mu, L, X, log_noise, labels=None) -> np.ndarray:
    """Observed-data log-likelihood (missing values marginalised, noise component, known
    labels) per set."""
    from bayesgmm import kernels

    plan = kernels.RowPlan.build(X, labels=labels, log_noise=log_noise)
    nw = np.zeros(w.shape[0]) if nw is None else np.asarray(nw, dtype=np.float64)
    pointwise, _ = kernels.plan_pointwise_over_draws(
        plan, np.ascontiguousarray(w), np.ascontiguousarray(nw), np.ascontiguousarray(mu),
        np.ascontiguousarray(L), False)
    return pointwise.sum(axis=1)


def loglik(w, mu, L, X) -> np.ndarray:
    """Total mixture log-likelihood of X (N, D) under each of S parameter sets."""
    S, K, D = mu.shape
    diff = X[None, None, :, :] - mu[:, :, None, :]  # (S, K, N, D)
    sol = np.linalg.solve(L[:, :, None], diff[..., None])[..., 0]  # L^-1 (x - mu)
    logdet = np.sum(np.log(np.diagonal(L, axis1=2, axis2=3)), axis=2)  # (S, K)
    lk = (np.log(w)[:, :, None] - 0.5 * np.sum(sol**2, axis=-1) - logdet[:, :, None]
          - 0.5 * D * np.log(2 * np.pi))
    return logsumexp(lk, axis=1).sum(axis=1)


def logprior(w, mu, L, priors) -> np.ndarray:
    """Unnormalised log prior density (the model's parametrisation: w, mu, sd, corr Cholesky)."""
    S, K, D = mu.shape
    sd = np.sqrt(np.sum(L**2, axis=-1))  # row norms of L = per-feature sds
    lp = (priors.weights_concentration - 1) * np.sum(np.log(w), axis=1)
    lp += -0.5 * np.sum((mu / priors.means_sd) ** 2, axis=(1, 2))
    z = (np.log(sd) - np.log(priors.sd_median)) / priors.sd_log_sd
    lp += np.sum(-0.5 * z**2 - np.log(sd), axis=(1, 2))
    if D > 1:
        diag = np.diagonal(L, axis1=2, axis2=3) / sd  # Cholesky of the correlation matrix
        exponents = 2 * priors.lkj_eta - 2 + D - np.arange(1, D + 1)
        lp += np.sum(exponents * np.log(diag), axis=(1, 2))
    return lp


# --------------------------------------------------------------------------------------------
# one replication
# --------------------------------------------------------------------------------------------
def fit_one(model, X, start, draws, tune, chains, seed, backend, priors=None, log_noise=None,
            laplace=False, labels=None):
    """Sample the posterior of ``model`` for data X: (w, mu, L) as (chain, draw, ...), stats.

    ``draws="auto"``: fit_bayes' default stopping rule (:mod:`bayesgmm.draws`), at least 400
    draws per chain, until the verdict's mixing checks (R-hat < 1.01, bulk/tail ESS >= 400,
    the rank test, the chains' agreement) hold for the label-invariant functionals (the
    quantities whose ranks are tested; fit_bayes checks its relabelled parameters), at most
    4,000; and fit_bayes' retry: the first run ends at its first divergent draw and the
    chains start again with target_accept 0.95 after a warm-up three times as long.
    """
    import nutpie
    import pymc as pm

    from bayesgmm.backends.nutpie import is_whitened
    from bayesgmm.model import compile_nutpie

    if log_noise is None and labels is None and not np.isnan(X).any():  # else built on X
        pm.set_data({"x_std": X}, model=model)
    t0 = time.perf_counter()
    compiled = compile_nutpie(model, start, reuse=True, backend=backend, laplace=laplace)
    t1 = time.perf_counter()
    if draws == "auto":
        import xarray as xr

        from bayesgmm.diagnostics import diagnose
        from bayesgmm.draws import AdaptiveDraws, sample_nutpie_until

        def check(post):
            w, mu = post["weights"].values, post["means"].values
            C, S, K, D = mu.shape
            nw = (None if log_noise is None
                  else post["noise_weight"].values.reshape(C * S))
            f = functionals(w.reshape(C * S, K), mu.reshape(C * S, K, D),
                            np.linalg.cholesky(post["covariances"].values).reshape(
                                C * S, K, D, D), X, priors, nw,
                            -np.inf if log_noise is None else log_noise,
                            labels).reshape(C, S, -1)
            # The verdict's mixing checks (R-hat, ESS, rank test, chains' agreement) on the
            # functionals, as fit_bayes applies them to its relabelled parameters.
            checked = diagnose(xr.Dataset({"f": (("chain", "draw", "functional"), f)}),
                               var_names=("f",), rank_var_names=("f",))
            return (checked.max_rhat, checked.min_ess_bulk, checked.min_ess_tail,
                    tuple(c.name for c in checked.checks if not c.passed))

        # fit_bayes' target: the verdict's thresholds (0 divergences allowed)
        target = AdaptiveDraws(min_draws=400, max_draws=4000, max_divergences=0)
        kw = {"tune": tune, "chains": chains, "seed": seed, "progressbar": False,
              "save_warmup": False}
        # fit_bayes' retry: a divergence ends the first run
        idata, run = sample_nutpie_until(compiled, check, target, target_accept=0.8,
                                         stop_on_divergence=True, **kw)
        retried = run.stopped_by == "diverged"
        if retried:  # as fit_bayes retries: smaller steps after a longer warm-up
            from bayesgmm.sampling import _RETRY_WARMUP

            kw["tune"] = int(tune * _RETRY_WARMUP)
            idata, run = sample_nutpie_until(compiled, check, target, target_accept=0.95, **kw)
    else:
        idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains,
                              cores=1, seed=seed, progress_bar=False, save_warmup=False)
    t2 = time.perf_counter()
    post = idata["posterior"]
    w = np.asarray(post["weights"].values)
    mu = np.asarray(post["means"].values)
    cov = np.asarray(post["covariances"].values)
    st = idata["sample_stats"]
    if log_noise is not None:
        info_nw = np.asarray(post["noise_weight"].values)
    info = {"compile_s": t1 - t0, "sample_s": t2 - t1,
            "divergences": int(np.asarray(st["diverging"].values).sum()),
            "steps": float(np.asarray(st["n_steps"].values).mean()),
            "draws": int(post.sizes["draw"]),
            "retried": bool(draws == "auto" and retried), "whitened": is_whitened(compiled)}
    if log_noise is not None:
        info["noise_weight"] = info_nw
    return w, mu, np.linalg.cholesky(cov), info


def em_start(X, K, priors, seed, labels=None):
    from bayesgmm import fit_em

    em = fit_em(X, K, covariance_type="full", n_init=10,
                prior=priors.conjugate_for_em(X, K, "full"), random_state=seed, labels=labels)
    return em.weights, em.means, em.covariances


# --------------------------------------------------------------------------------------------
# statistics and figures
# --------------------------------------------------------------------------------------------
def uniformity_tests(ranks, L, bins, rng):
    """chi-square (binned ranks) and KS (randomised u) p-values per functional."""
    M, F = ranks.shape
    width = (L + 1) // bins
    chi_p, ks_p = np.empty(F), np.empty(F)
    u = (ranks + rng.uniform(size=ranks.shape)) / (L + 1)
    for f in range(F):
        counts = np.bincount(ranks[:, f] // width, minlength=bins)
        chi_p[f] = stats.chisquare(counts).pvalue
        ks_p[f] = stats.kstest(u[:, f], "uniform").pvalue
    return chi_p, ks_p, u


def ecdf_band(M, grid, level=0.99, n_sim=4000, seed=0):
    """Simultaneous band for ECDF(u) - u over ``grid`` (Saeilynoja et al. 2022, by simulation)."""
    rng = np.random.default_rng(seed)
    sims = np.sort(rng.uniform(size=(n_sim, M)), axis=1)
    counts = np.stack([np.searchsorted(s, grid, side="right") for s in sims])  # (n_sim, G)
    # Pointwise probability of each simulated count under Binomial(M, z); a path leaves the
    # gamma-band when its smallest two-sided tail probability falls below gamma / 2.
    cdf = stats.binom.cdf(counts, M, grid)
    sf = stats.binom.sf(counts - 1, M, grid)
    worst = np.min(np.minimum(cdf, sf), axis=1)
    gamma = 2 * np.quantile(worst, 1 - level)
    lo = stats.binom.ppf(gamma / 2, M, grid) / M - grid
    hi = stats.binom.ppf(1 - gamma / 2, M, grid) / M - grid
    return lo, hi, gamma


def plot(ranks, u, names, L, bins, out: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    M, F = ranks.shape
    ncol = 5
    nrow = -(-F // ncol)
    width = (L + 1) // bins
    lo_c, hi_c = stats.binom.ppf([0.005, 0.995], M, 1 / bins)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3 * ncol, 2.3 * nrow), squeeze=False)
    for f, ax in enumerate(axes.flat):
        if f >= F:
            ax.set_axis_off()
            continue
        counts = np.bincount(ranks[:, f] // width, minlength=bins)
        ax.axhspan(lo_c, hi_c, color="0.85", lw=0)
        ax.axhline(M / bins, color="0.5", lw=0.8)
        ax.bar(np.arange(bins) * width, counts, width=width, align="edge", color="C0",
               edgecolor="white")
        ax.set_title(names[f], fontsize=9)
        ax.set_xlim(0, L + 1)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{title}\nrank histograms, grey: 99% band of one bin under uniformity",
                 fontsize=10)
    fig.tight_layout()
    paths = [out / "sbc_ranks.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    grid = np.linspace(0, 1, 101)[1:-1]
    band_lo, band_hi, _ = ecdf_band(M, grid)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3 * ncol, 2.3 * nrow), squeeze=False)
    for f, ax in enumerate(axes.flat):
        if f >= F:
            ax.set_axis_off()
            continue
        ecdf = np.searchsorted(np.sort(u[:, f]), grid, side="right") / M
        ax.fill_between(grid, band_lo, band_hi, color="0.85", lw=0)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.plot(grid, ecdf - grid, color="C0")
        ax.set_title(names[f], fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{title}\nECDF(u) - u, grey: simultaneous 99% band", fontsize=10)
    fig.tight_layout()
    paths.append(out / "sbc_ecdf.png")
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="M = 30 replications (smoke test)")
    parser.add_argument("--reps", type=int, default=None, help="M (default 200; --quick 30)")
    parser.add_argument("--N", type=int, default=75, help="points per data set")
    parser.add_argument("--K", type=int, default=2)
    parser.add_argument("--D", type=int, default=2)
    parser.add_argument("--L", type=int, default=99, help="thinned posterior draws per rank")
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--draws", type=lambda t: t if t == "auto" else int(t), default=400,
                        help="draws per chain before thinning, or 'auto': fit_bayes' default "
                             "stopping rule (no refits then)")
    parser.add_argument("--refits", type=int, default=1,
                        help="refits (5x draws, 2x tune) when the min ESS is below L")
    parser.add_argument("--backend", choices=("native", "numba", "pyfunc", "auto"),
                        default="native",
                        help="nutpie backend (compile_nutpie); native is fit_bayes' default, "
                             "numba and pyfunc sample the PyMC graph itself")
    parser.add_argument("--metric", choices=("auto", "diag", "laplace"), default="auto",
                        help="nutpie's metric as SamplerSettings.metric resolves it (auto: "
                             "whitened at the mode where settings.laplace_affordable allows and "
                             "the Gaussian check passes, as fit_bayes does; before 4 Dec 2026 "
                             "sbc.py always sampled with diag)")
    parser.add_argument("--start", choices=("truth", "em", "permuted"), default="truth",
                        help="permuted (--variant labels): the truth with its components in a "
                             "random non-identity order, to see whether the labels pin them")
    parser.add_argument("--variant", choices=("complete", "missing", "noise", "labels"),
                        default="complete", help="issue 14's variants (see the docstring)")
    parser.add_argument("--missing-rate", type=float, default=0.2)
    parser.add_argument("--label-rate", type=float, default=0.3,
                        help="--variant labels: probability that a row's component is known")
    parser.add_argument("--noise-box", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    M = args.reps if args.reps is not None else (30 if args.quick else 200)
    K, D, L = args.K, args.D, args.L
    if (L + 1) % args.bins:
        parser.error("L + 1 must be divisible by --bins")
    if args.draws != "auto" and args.chains * args.draws < L:
        parser.error("chains * draws must be at least L")
    if args.variant not in ("complete", "labels") and args.start == "em":
        parser.error("--start em is for the complete-data and labels variants")
    if args.start == "permuted" and (args.variant != "labels" or args.K < 2):
        parser.error("--start permuted is for --variant labels with K >= 2")

    warnings.simplefilter("ignore")
    import logging

    import arviz as az

    logging.getLogger("pymc").setLevel(logging.ERROR)
    from bayesgmm.model import build_model, compile_nutpie
    from bayesgmm.priors import Priors

    priors = Priors()
    seeds = np.random.SeedSequence(args.seed)
    s_prior, s_oracle, s_reps, s_tests = seeds.spawn(4)
    t_start = time.perf_counter()
    print(f"SBC: K={K}, D={D}, full, N={args.N}, M={M} replications, L={L}, "
          f"{args.chains} chains x ({args.tune} tune + {args.draws} draws), start={args.start}, "
          f"seed={args.seed}, backend={args.backend}, variant={args.variant}, "
          f"priors={priors.to_dict()}; "
          f"{os.cpu_count()} cores")

    # The model: center 0, scale 1, so model scale == data scale for every data set.
    X0 = np.random.default_rng(0).standard_normal((args.N, D))
    noise = args.variant == "noise"
    labelled = args.variant == "labels"
    log_noise = -D * np.log(2 * args.noise_box) if noise else None

    def model_for(X, labels=None):
        """The model on X. A variant's plan arrays are data, so each of its data sets gets its
        own model (the compiled native model is reused through with_data)."""
        return build_model(X, K, "full", priors, center=np.zeros(D), scale=np.ones(D),
                           noise_log_density=log_noise, labels=labels)

    def reveal(z, rng):
        """Each row's component known with probability --label-rate (MCAR), else -1."""
        return np.where(rng.random(z.shape[0]) < args.label_rate, z, -1).astype(np.int64)

    model = model_for(remove_values(X0, args.missing_rate, np.random.default_rng(0))
                      if args.variant == "missing" else X0,
                      reveal(np.arange(args.N) % K, np.random.default_rng(0)) if labelled
                      else None)

    # Check PyMC's prior samplers against the analytic marginals (the SBC oracle).
    oracle = prior_draws(model, 4000, int(s_oracle.generate_state(1)[0]), D)
    print("\nPrior oracle check (4000 pm.draw draws vs analytic marginals):")
    for name, value in check_prior_oracle(oracle, priors, K, D):
        print(f"  {name:48s} {value:.3g}")

    draws = prior_draws(model, M, int(s_prior.generate_state(1)[0]), D)
    if noise:  # the Gaussians' weights and the noise weight, as the model's deterministics
        draws_w, draws_nw = draws["mixing"][:, :K], draws["mixing"][:, K]
    else:
        draws_w, draws_nw = draws["weights"], None
    sd = draws["sd_z"]
    chol = sd[..., :, None] * draws["corr_chol_z"] if D > 1 else sd[..., :, None]

    # First compile, timed on its own (the later ones reuse it through with_data).
    t0 = time.perf_counter()
    compile_nutpie(model, None, reuse=True, backend=args.backend)
    compile_s = time.perf_counter() - t0
    print(f"\nFirst nutpie compile ({args.backend}): {compile_s:.1f} s")

    from bayesgmm.layout import model_spec, n_dim
    from bayesgmm.settings import SamplerSettings

    # as fit_bayes resolves the metric (the Gaussian check is compile_nutpie's, per data set)
    laplace = SamplerSettings(metric=args.metric, nutpie_backend=args.backend).laplace(
        n_dim(model_spec(model)), args.N, K, D)
    names = functional_names(K, D, noise) + (label_functional_names(K, D) if labelled else [])
    n_outside = 0  # Gaussian points outside the noise box (the model's noise density is off)
    n_labelled = np.zeros((M, K), dtype=int)  # known labels per component and data set
    ranks = np.empty((M, len(names)), dtype=np.int64)
    rep_seeds = s_reps.spawn(M)
    infos, min_ess, first_ess = [], np.empty(M), np.empty(M)
    n_refits = np.zeros(M, dtype=int)
    kept_draws: list[int] = []  # draws per chain each fit kept (varies with --draws auto)
    for m in range(M):
        rng = np.random.default_rng(rep_seeds[m])
        theta = {"weights": draws_w[m], "means": draws["means_z"][m], "chol": chol[m]}
        if noise:
            theta["noise_weight"] = draws_nw[m]
        if labelled:
            X, z = simulate(theta, args.N, rng, return_z=True)
            labels = reveal(z, rng)
            n_labelled[m] = np.bincount(labels[labels >= 0], minlength=K)
        else:
            X, labels = simulate(theta, args.N, rng, args.noise_box if noise else None), None
        if noise:
            n_outside += int(np.sum(np.abs(X) > args.noise_box))
        if args.variant == "missing":
            X = remove_values(X, args.missing_rate, rng)
        model_m = model if args.variant == "complete" else model_for(X, labels)
        t_rep = time.perf_counter()
        if args.start == "truth":
            start = {name: draws[name][m] for name in draws}
        elif args.start == "permuted":  # the truth in another labelling: do labels pin it?
            perm = np.roll(np.arange(K), int(rng.integers(1, K)))
            start = {name: draws[name][m][perm] for name in draws}
        else:
            from bayesgmm.model import initial_point

            start = initial_point(model, *em_start(X, K, priors, int(rng.integers(2**31)),
                                                   labels))
        draws_m, tune_m = args.draws, args.tune
        for attempt in range(1 + (0 if args.draws == "auto" else args.refits)):
            w, mu, Lc, info = fit_one(model_m, X, start, draws_m, tune_m, args.chains,
                                      int(rng.integers(2**31)), args.backend, priors,
                                      log_noise if args.variant != "complete" else None,
                                      laplace, labels)
            kept_draws.append(info["draws"])
            C, S = w.shape[:2]
            nw_draws = info.pop("noise_weight").reshape(C * S) if noise else None
            f_all = functionals(w.reshape(C * S, K), mu.reshape(C * S, K, D),
                                Lc.reshape(C * S, K, D, D), X, priors, nw_draws,
                                log_noise if noise else -np.inf, labels)
            ess = min(float(az.ess(f_all[:, j].reshape(C, S))) for j in range(f_all.shape[1]))
            if attempt == 0:
                first_ess[m] = ess
            # Refitting when the ESS is low is valid SBC: the decision depends on the data
            # (through an independent first run) only, and given the data the true parameters
            # and the new draws are still exchangeable.
            if ess >= L or args.draws == "auto":
                break
            draws_m, tune_m = draws_m * 5, tune_m * 2
        n_refits[m] = attempt
        min_ess[m] = ess
        idx = np.round(np.linspace(0, C * S - 1, L)).astype(int)
        f_draws = f_all[idx]
        f_true = functionals(theta["weights"][None], theta["means"][None], theta["chol"][None],
                             X, priors, None if not noise else np.array([draws_nw[m]]),
                             log_noise if noise else -np.inf, labels)[0]
        less = np.sum(f_draws < f_true, axis=0)
        ties = np.sum(f_draws == f_true, axis=0)  # none for continuous f; break at random
        ranks[m] = less + rng.integers(0, ties + 1)
        info["rep_s"] = time.perf_counter() - t_rep
        infos.append(info)
        if (m + 1) % max(1, M // 10) == 0 or m == M - 1:
            print(f"  rep {m + 1:4d}/{M}: {info['rep_s']:.2f} s, "
                  f"elapsed {time.perf_counter() - t_start:.0f} s", flush=True)

    rep_s = np.array([i["rep_s"] for i in infos])
    samp_s = np.array([i["sample_s"] for i in infos])
    comp_s = np.array([i["compile_s"] for i in infos])
    divs = np.array([i["divergences"] for i in infos])
    steps = np.array([i["steps"] for i in infos])
    print(f"\nPer replication (s): median {np.median(rep_s):.2f}, mean {rep_s.mean():.2f}, "
          f"max {rep_s.max():.2f}, total {rep_s.sum():.0f}; of which sampling median "
          f"{np.median(samp_s):.2f}, re-compile (with_data) median {np.median(comp_s):.3f}")
    print(f"Leapfrog steps per draw: median {np.median(steps):.1f}, max {steps.max():.1f}")
    print(f"Metric {args.metric}: {sum(i['whitened'] for i in infos)} of {M} fits sampled "
          "whitened (the rest failed the Gaussian check or were not asked to)")
    print(f"Divergences: {divs.sum()} in total, in {np.sum(divs > 0)} of {M} replications "
          f"(counted in the fits used)")
    print(f"Min bulk ESS over functionals, first fit (unthinned): median "
          f"{np.median(first_ess):.0f}, min {np.min(first_ess):.0f}; {np.sum(first_ess < L)} "
          f"replications below L={L}, refitted with 5x draws, 2x tune "
          f"({np.sum(n_refits)} refits, up to {args.refits} each)")
    print(f"Min bulk ESS of the fits used: median {np.median(min_ess):.0f}, min "
          f"{np.min(min_ess):.0f}; {np.sum(min_ess < L)} replications still below L={L}")
    if args.draws == "auto":
        kept = np.asarray(kept_draws)
        print(f"draws='auto': draws per chain kept: median {np.median(kept):.0f}, "
              f"{np.sum(kept > 400)} of {M} replications drew past the first check, "
              f"{np.sum(kept >= 4000)} stopped at the 4,000 cap; "
              f"{sum(i['retried'] for i in infos)} retried with target_accept 0.95 and a 3x "
              "warm-up after divergences")

    if labelled:
        per = n_labelled.sum(axis=1)
        print(f"Known labels per data set (rate {args.label_rate:g}): median {np.median(per):.0f}"
              f" of N={args.N}; {np.sum((n_labelled == 0).any(axis=1))} of {M} data sets had a "
              f"component with no known label")
    if noise:
        print(f"Gaussian points outside the noise box [-{args.noise_box:g}, "
              f"{args.noise_box:g}]^{D}: {n_outside} of {M * args.N} points")
    chi_p, ks_p, u = uniformity_tests(ranks, L, args.bins, np.random.default_rng(s_tests))
    print(f"\n{'functional':14s} {'chi2 p':>8s} {'KS p':>8s} {'mean rank':>10s}  "
          f"(uniform mean {L / 2:.1f}, sd of the mean {np.sqrt(((L + 1)**2 - 1) / 12 / M):.1f})")
    for name, cp, kp, r in zip(names, chi_p, ks_p, ranks.mean(axis=0), strict=True):
        flag = " *" if min(cp, kp) < 0.01 else ""
        print(f"{name:14s} {cp:8.3f} {kp:8.3f} {r:10.1f}{flag}")
    n_tests = 2 * len(names)
    bonf = 0.01 / n_tests
    print(f"\n{np.sum(chi_p < 0.01)} chi2 and {np.sum(ks_p < 0.01)} KS p-values < 0.01 of "
          f"{len(names)} each (about {0.01 * len(names):.1f} of each expected by chance); "
          f"{np.sum(np.minimum(chi_p, ks_p) < bonf)} below the Bonferroni threshold "
          f"0.01/{n_tests} = {bonf:.1e} (conservative: the functionals are correlated). "
          f"Smallest p: {np.min(np.minimum(chi_p, ks_p)):.3g}.")

    args.out.mkdir(parents=True, exist_ok=True)
    title = (f"SBC, K={K}, D={D}, full, N={args.N}, M={M}, L={L}, start={args.start}, "
             f"seed={args.seed}" + ("" if args.variant == "complete" else
                                    f", variant={args.variant}"))
    paths = plot(ranks, u, names, L, args.bins, args.out, title)
    np.savez(args.out / "sbc_ranks.npz", ranks=ranks, names=np.array(names), chi_p=chi_p,
             ks_p=ks_p, divergences=divs, min_ess=min_ess, first_ess=first_ess,
             n_refits=n_refits, n_labelled=n_labelled)
    print("Figures: " + ", ".join(str(p) for p in paths))
    print(f"Total wall time: {time.perf_counter() - t_start:.0f} s "
          f"(first compile {compile_s:.1f} s)")


if __name__ == "__main__":
    main()
