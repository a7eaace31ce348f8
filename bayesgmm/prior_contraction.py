"""How far the data narrowed each parameter's prior: the posterior sd over the prior sd.

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
  standardised scale);
- ``log sd[k, f]``: ``sd_log_sd`` (LogNormal sds: their logs are Normal, whatever the scale);
- ``corr[k, a, b]`` (full and tied, D >= 2): the LKJ(eta) marginal of one correlation, a
  Beta(b, b) on (-1, 1) with b = eta - 1 + D / 2, sd 1 / sqrt(2 b + 1).

Where it sits: the posterior layer, beside :mod:`bayesgmm.posterior` (it reads a
``BayesResult``'s draws and priors, duck-typed, and imports only NumPy and pandas); used by
the report's verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["WEAKLY_INFORMED", "prior_contraction", "weakly_informed_note"]

# A posterior sd above this share of the prior's: the data removed less than half of the
# prior's variance (contraction 1 - ratio^2 below 1/2). At 0.5 a healthy N = 80, D = 4 fit
# (27 rows a component) had six correlations flagged, their LKJ prior already narrow.
WEAKLY_INFORMED = float(np.sqrt(0.5))


def prior_contraction(result: Any) -> pd.DataFrame:
    """Per parameter (index as the report names it): ``prior_sd``, ``posterior_sd`` and
    ``ratio`` = posterior_sd / prior_sd (1: the data said nothing; near 0: the data decide).
    See the module's docstring for the scales."""
    post, p = result.posterior, result.priors
    names = [str(f) for f in result.feature_names]
    scale = np.asarray(result.standardisation.scale, dtype=float)
    K, D = result.n_components, len(names)

    def draws(name: str) -> np.ndarray:
        return post[name].transpose("chain", "draw", ...).to_numpy().reshape(
            -1, *post[name].shape[2:])

    rows: dict[str, tuple[float, float]] = {}
    entries = K + (1 if "noise_weight" in post else 0)
    a, a0 = p.weights_concentration, p.weights_concentration * entries
    w_prior = float(np.sqrt(a * (a0 - a) / (a0 ** 2 * (a0 + 1))))
    w = draws("weights")
    for k in range(K):
        rows[f"weights[{k}]"] = (w_prior, float(w[:, k].std(ddof=1)))
    m = draws("means")
    for k in range(K):
        for j, f in enumerate(names):
            rows[f"means[{k}, {f}]"] = (p.means_sd * scale[j], float(m[:, k, j].std(ddof=1)))
    cov = draws("covariances")
    ct = result.covariance_type
    var = {"full": lambda c: np.diagonal(c, axis1=-2, axis2=-1),
           "tied": lambda c: np.diagonal(c, axis1=-2, axis2=-1)[:, None, :],
           "diag": lambda c: c, "spherical": lambda c: c[:, :, None]}[ct](cov)
    log_sd = 0.5 * np.log(var)  # (S, K or 1, D or 1)
    who = ["shared"] if ct == "tied" else [str(k) for k in range(K)]
    what = ["all features"] if ct == "spherical" else names
    for i, k in enumerate(who):
        for j, f in enumerate(what):
            rows[f"log sd[{k}, {f}]"] = (p.sd_log_sd, float(log_sd[:, i, j].std(ddof=1)))
    if ct in ("full", "tied") and D > 1:
        b = p.lkj_eta - 1 + D / 2
        corr_prior = float(1 / np.sqrt(2 * b + 1))
        full = cov if ct == "full" else cov[:, None]
        sd = np.sqrt(np.diagonal(full, axis1=-2, axis2=-1))
        corr = full / (sd[..., :, None] * sd[..., None, :])
        for i, k in enumerate(who):
            for x in range(D):
                for y in range(x + 1, D):
                    rows[f"corr[{k}, {names[x]}, {names[y]}]"] = (
                        corr_prior, float(corr[:, i, x, y].std(ddof=1)))
    table = pd.DataFrame(rows, index=["prior_sd", "posterior_sd"]).T
    table["ratio"] = table["posterior_sd"] / table["prior_sd"]
    return table


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
