"""How far the data narrowed each parameter's prior (the posterior sd over the prior sd), and
how far the prior pulled it from where the data alone would put it (prior-data conflict).

A posterior sd close to the prior's means the data said little about that parameter, and its
summary largely restates the prior (Betancourt's "posterior contraction", 1 - ratio^2, near 0).
At small N this happens to the sds and correlations of a component that holds few rows, where
the rows-versus-parameters count of :func:`bayesgmm.posterior.prior_dominated_note` does not
look (small-sample QA: N = 25, D = 5, a component of ~9 rows: its correlations' posterior sd
0.24 against the LKJ prior's 0.35, the verdict a plain OK).

The parameters, each on the scale where its prior is stated, so that the prior sd is exact:

- ``weights[k]``: the Dirichlet's marginal sd, sqrt(a (a0 - a) / (a0^2 (a0 + 1))), a0 the
  concentrations' sum (K + 1 entries with a noise component);
- ``means[k, f]``: ``means_sd`` times the feature's scale (the prior is Normal on the
  standardised scale); with ordered means (1-D), the k-th order statistic of K such Normals
  (QA118: the plain Normal was quoted, 52.4 +- 18.7 for a prior of 36.6 +- 13.9);
- ``log sd[k, f]``: ``sd_log_sd`` (LogNormal sds: their logs are Normal, whatever the scale);
- ``corr[k, a, b]`` (full and tied, D >= 2): the LKJ(eta) marginal of one correlation, a
  Beta(b, b) on (-1, 1) with b = eta - 1 + D / 2, sd 1 / sqrt(2 b + 1).

The pull: a Normal prior (mean m0, sd s0) times a Normal likelihood gives a posterior (mean m,
sd s) that sits (m - m0) r^2 / (1 - r^2) from the likelihood's own centre, r = s / s0; in
posterior sds, ``pull`` = |m - m0| / s * r^2 / (1 - r^2). Above :data:`PRIOR_PULL` the prior,
not the data, placed the parameter (small-sample QA: a user's sd prior with median 0.2 and
log-sd 0.3 put a component's sd at 3.3 to 5.2 where the data said 5.6, and the verdict was OK).
Where the data barely determine a parameter (r above :data:`WEAKLY_INFORMED`) the
approximation says nothing and the weakly-informed note speaks instead. The conflict is said
of priors a user chose, not of the defaults: those are the documented regularisation, and
they too pull a little over one posterior sd where clusters are much tighter than the data's
spread and hold 10-18 rows each (QA114: three clusters of sd 1 at 0, 200 and 400); the
table's ``pull`` shows it either way.

Where it sits: the posterior layer, beside :mod:`bayesgmm.posterior` (it reads a
``BayesResult``'s draws and priors, duck-typed, and imports only
:mod:`bayesgmm.covariance` besides NumPy, SciPy and pandas); used by the report's verdict.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from .covariance import has_correlations

__all__ = ["PRIOR_PULL", "WEAKLY_INFORMED", "normal_order_statistics", "prior_conflict_note",
           "prior_contraction", "weakly_informed_note"]

# A posterior sd above this share of the prior's: the data removed less than half of the
# prior's variance (contraction 1 - ratio^2 below 1/2). At 0.5 a healthy N = 80, D = 4 fit
# (27 rows a component) had six correlations flagged, their LKJ prior already narrow.
WEAKLY_INFORMED = float(np.sqrt(0.5))

# A prior that moved a parameter more than this many posterior sds from where the data alone
# would put it contradicts the data there (module docstring).
PRIOR_PULL = 1.0


@functools.cache
def normal_order_statistics(K: int, q: float | None = None) -> np.ndarray:
    """The K order statistics of K iid standard Normals (the prior of ordered means on the
    standardised scale): their means and sds, shape (2, K), by quadrature on a fine grid (to
    ~1e-12; QA122: SciPy's quad per statistic took seconds); or with ``q`` their ``q``
    quantiles, shape (K,), exactly (the k-th is Phi^-1 of a Beta(k, K + 1 - k))."""
    from scipy import stats

    k = np.arange(1, K + 1)
    if q is not None:
        quantiles = stats.norm.ppf(stats.beta.ppf(q, k, K + 1 - k))
        quantiles.setflags(write=False)  # cached: shared by every caller
        return quantiles
    z = np.linspace(-12.0, 12.0, 24_001)  # Phi(Z_(k)) ~ Beta(k, K + 1 - k): z's density
    density = stats.beta.pdf(stats.norm.cdf(z)[None, :], k[:, None], K + 1 - k[:, None]) \
        * stats.norm.pdf(z)[None, :]
    step = z[1] - z[0]
    mean = (density * z).sum(axis=1) * step
    second = (density * z * z).sum(axis=1) * step
    moments = np.stack([mean, np.sqrt(second - mean ** 2)])
    moments.setflags(write=False)
    return moments


def prior_contraction(result: Any) -> pd.DataFrame:
    """Per parameter (index as the report names it): ``prior_mean``, ``posterior_mean``,
    ``prior_sd``, ``posterior_sd``, ``ratio`` = posterior_sd / prior_sd (1: the data said
    nothing; near 0: the data decide) and ``pull`` (how many posterior sds the prior moved the
    posterior mean; NaN where the ratio is above :data:`WEAKLY_INFORMED`). See the module's
    docstring for the scales. No weight rows where one weight is all there is (K = 1 without
    a noise component: nothing to estimate)."""
    post, p = result.posterior, result.priors
    names = [str(f) for f in result.feature_names]
    scale = np.asarray(result.standardisation.scale, dtype=float)
    K, D = result.n_components, len(names)

    def draws(name: str) -> np.ndarray:
        return post[name].transpose("chain", "draw", ...).to_numpy().reshape(
            -1, *post[name].shape[2:])

    centre = np.asarray(result.standardisation.center, dtype=float)
    rows: dict[str, tuple[float, float, float, float]] = {}  # prior and posterior mean, sd

    def row(name: str, prior_mean: float, prior_sd: float, values: np.ndarray) -> None:
        rows[name] = (prior_mean, prior_sd, float(values.mean()), float(values.std(ddof=1)))

    entries = K + (1 if "noise_weight" in post else 0)
    a, a0 = p.weights_concentration, p.weights_concentration * entries
    w_prior = float(np.sqrt(a * (a0 - a) / (a0 ** 2 * (a0 + 1))))
    w = draws("weights")
    for k in range(K if entries > 1 else 0):
        row(f"weights[{k}]", 1 / entries, w_prior, w[:, k])
    m = draws("means")
    # ordered means: component k's prior is the k-th order statistic (QA118)
    shift, spread = normal_order_statistics(K) if (
        getattr(result, "settings", None) or {}).get("ordered_means") else (np.zeros(K),
                                                                           np.ones(K))
    for k in range(K):
        for j, f in enumerate(names):
            row(f"means[{k}, {f}]", centre[j] + shift[k] * p.means_sd * scale[j],
                spread[k] * p.means_sd * scale[j], m[:, k, j])
    cov = draws("covariances")
    ct = result.covariance_type
    var = {"full": lambda c: np.diagonal(c, axis1=-2, axis2=-1),
           "tied": lambda c: np.diagonal(c, axis1=-2, axis2=-1)[:, None, :],
           "diag": lambda c: c, "spherical": lambda c: c[:, :, None]}[ct](cov)
    log_sd = 0.5 * np.log(var)  # (S, K or 1, D or 1)
    who = ["shared"] if ct == "tied" else [str(k) for k in range(K)]
    what = ["all features"] if ct == "spherical" else names
    for i, k in enumerate(who):
        for j, f in enumerate(what):  # the prior's median sd, in data units: its log's mean
            row(f"log sd[{k}, {f}]", float(np.log(p.sd_median * scale[j])), p.sd_log_sd,
                log_sd[:, i, j])
    if has_correlations(ct) and D > 1:
        b = p.lkj_eta - 1 + D / 2
        corr_prior = float(1 / np.sqrt(2 * b + 1))
        full = cov if ct == "full" else cov[:, None]
        sd = np.sqrt(np.diagonal(full, axis1=-2, axis2=-1))
        corr = full / (sd[..., :, None] * sd[..., None, :])
        for i, k in enumerate(who):
            for x in range(D):
                for y in range(x + 1, D):
                    row(f"corr[{k}, {names[x]}, {names[y]}]", 0.0, corr_prior,
                        corr[:, i, x, y])
    table = pd.DataFrame(rows, index=["prior_mean", "prior_sd", "posterior_mean",
                                      "posterior_sd"]).T
    table = table[["prior_mean", "posterior_mean", "prior_sd", "posterior_sd"]]
    table["ratio"] = table["posterior_sd"] / table["prior_sd"]
    r2 = table["ratio"] ** 2
    pull = (table["posterior_mean"] - table["prior_mean"]).abs() / table["posterior_sd"] \
        * r2 / (1 - r2)
    table["pull"] = pull.where(table["ratio"] <= WEAKLY_INFORMED)
    return table


def prior_conflict_note(result: Any, most: int = 4) -> str:
    """A sentence naming the parameters the priors pulled more than :data:`PRIOR_PULL`
    posterior sds from where the data alone would put them, the most pulled first, with
    each one's posterior and prior intervals; "" when there are none, or the priors are the
    defaults (module docstring)."""
    priors = result.priors
    if priors == type(priors)():  # the defaults: no conflict to report (QA114)
        return ""
    table = prior_contraction(result)
    pulled = table[table["pull"] > PRIOR_PULL].sort_values("pull", ascending=False)
    if pulled.empty:
        return ""
    shown = "; ".join(f"{name}: {row.pull:.1f} posterior sds ({_where(name, row)})"
                      for name, row in pulled.head(most).iterrows())
    more = f"; and {len(pulled) - most} more" if len(pulled) > most else ""
    return (f"the priors pulled {len(pulled)} parameter(s) more than {PRIOR_PULL:g} posterior "
            f"sd from where the data alone would put them (normal approximation): {shown}"
            f"{more}. The data contradict those priors: refit with wider ones (or the "
            "defaults) and report how much the estimates move")


def _where(name: str, row: pd.Series) -> str:
    """Posterior mean +- sd against the prior's, in the parameter's own units (a log sd as
    the sd itself)."""
    if name.startswith("log sd["):
        return (f"posterior sd about {np.exp(row.posterior_mean):.3g}, the prior's median "
                f"{np.exp(row.prior_mean):.3g}")
    return (f"posterior mean {row.posterior_mean:.3g} ± {row.posterior_sd:.2g}, the prior's "
            f"{row.prior_mean:.3g} ± {row.prior_sd:.2g}")


def weakly_informed_note(result: Any, most: int = 4) -> str:
    """A sentence naming the sds and correlations (where priors speak at small N; a wide
    weight or mean is as often the data's own uncertainty, overlap) whose posterior sd is
    above ``WEAKLY_INFORMED`` of the prior's, the worst first; "" when there are none."""
    table = prior_contraction(result)
    shape = table[table.index.str.startswith(("log sd[", "corr["))]
    weak = shape[shape["ratio"] > WEAKLY_INFORMED].sort_values("ratio", ascending=False)
    if weak.empty:
        return ""
    shown = ", ".join(f"{name} ({ratio:.2f})" for name, ratio in
                      weak["ratio"].head(most).items())
    more = f" and {len(weak) - most} more" if len(weak) > most else ""
    kinds = ("sds and correlations" if shape.index.str.startswith("corr[").any()
             else "sds")  # 1-D, diag, spherical: no correlations (referee QA)
    return (f"for {len(weak)} of the {len(shape)} {kinds} the data removed less "
            f"than half of the prior's variance (posterior sd over prior sd: {shown}{more}): "
            "their summaries lean on the priors; report them with the priors (a refit under "
            "other priors= shows how much they move)")
