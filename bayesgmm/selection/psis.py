"""PSIS-LOO of one posterior fit, for :func:`~bayesgmm.selection.loo.compare`.

From the fit's ``log_likelihood`` group when it has one (``az.loo``), else from its draws in
blocks of rows: :func:`bayesgmm.fit_bayes` leaves the group out above 50 million (draw x row)
values, which a comparison of a few K on 20,000 rows passes (4 chains x 1,000 draws), and
PSIS smooths each row's importance ratios on their own, so blocks of rows give the same
pointwise elpd and Pareto k as the whole matrix, with the same relative efficiency (ArviZ's,
from the posterior). QA: ``select --bayes`` on 20,000 rows sampled every K for minutes, then
stopped on "no log_likelihood group; refit with log_likelihood=True", an option the command
line does not have.

Where it sits: the selection layer; imports :mod:`bayesgmm.selection.sweep` and, inside
functions, ArviZ and SciPy.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import xarray as xr

from .._warn import ignored
from .sweep import frequency_counts

# The (draw x row) values of one block of the pointwise log-likelihood (8 bytes each).
BLOCK_VALUES = 20_000_000

__all__ = ["fit_loo"]


def fit_loo(name: str, model: Any) -> Any:
    """``az.loo(..., pointwise=True)`` of ``model`` (a BayesResult, or a DataTree with a
    ``log_likelihood`` group), the rows counted by their frequency weights
    (:func:`_frequency_weighted`)."""
    import arviz as az

    tree = getattr(model, "idata", model)
    if "log_likelihood" in getattr(tree, "children", {}):
        loo = az.loo(tree, pointwise=True, var_name="x")
        ll = tree["log_likelihood"]["x"].transpose("chain", "draw", "observation").to_numpy()
        return _frequency_weighted(loo, tree, _lppd(ll.reshape(-1, ll.shape[-1])))
    if not hasattr(model, "_pointwise"):
        raise ValueError(f"model {name!r} has no log_likelihood group; refit with "
                         "log_likelihood=True (PSIS-LOO needs the pointwise log-likelihood)")
    return _blockwise_loo(model)


def _blockwise_loo(result: Any) -> Any:
    """PSIS-LOO of a BayesResult without its log_likelihood group: the pointwise
    log-likelihood of a block of rows at a time over every draw, each block's elpd and
    Pareto k from ``az.loo`` with the whole posterior's relative efficiency, then ArviZ's
    own summary over all rows."""
    import arviz as az

    tree = result.idata
    observed = tree["observed_data"]
    X = observed["x"].to_numpy()
    labels = observed["labels"].to_numpy() if "labels" in observed.data_vars else None
    chains, draws = (tree["posterior"].sizes[d] for d in ("chain", "draw"))
    reff = _relative_efficiency(tree["posterior"].to_dataset(), chains, draws)
    index = (observed["observation"].values if "observation" in observed.coords
             else np.arange(len(X)))
    rows = max(1, BLOCK_VALUES // (chains * draws))
    parts, lppd = [], []
    for start in range(0, len(X), rows):
        block = slice(start, min(len(X), start + rows))
        pointwise, _ = result._pointwise(X[block], None, False,
                                         None if labels is None else labels[block])
        lppd.append(_lppd(pointwise))
        ll = xr.Dataset({"x": (("chain", "draw", "observation"),
                               pointwise.reshape(chains, draws, -1))},
                        coords={"observation": index[block]})
        with ignored():
            # per block: a one-row block's "point-wise LOO is the same with the sum LOO" is
            # no news, and the Pareto k are reported from the whole (review)
            loo = az.loo(xr.DataTree.from_dict({"posterior": tree["posterior"].to_dataset(),
                                                "log_likelihood": ll}),
                         pointwise=True, var_name="x", reff=reff)
        # only what the summary needs: a block's smoothed log weights are as large as its
        # log-likelihood, and kept they added up to the whole matrix (review: 3.2 GB a K at
        # 100,000 rows)
        parts.append(dataclasses.replace(loo, log_weights=None))
        del ll, pointwise
    elpd_i = xr.concat([p.elpd_i for p in parts], dim="observation")
    pareto_k = xr.concat([p.pareto_k for p in parts], dim="observation")
    loo = _summarised(parts[0], elpd_i, pareto_k, np.concatenate(lppd),
                      warning=any(p.warning for p in parts))
    return _frequency_weighted(loo, tree, np.concatenate(lppd))


def _relative_efficiency(posterior: xr.Dataset, chains: int, draws: int) -> float:
    """ArviZ's relative efficiency for PSIS (as ``az.loo`` computes it for a whole tree): the
    mean "mean" ESS over every posterior scalar, over the number of draws; 1 for one chain."""
    if chains == 1:
        return 1.0
    ess = posterior.azstats.ess(method="mean")
    return float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean()
                 / (chains * draws))


def _lppd(pointwise: np.ndarray) -> np.ndarray:
    """Each row's log pointwise predictive density from its (draw, row) log-likelihood."""
    from scipy.special import logsumexp

    return logsumexp(pointwise, axis=0) - np.log(pointwise.shape[0])


def _summarised(template: Any, elpd_i: xr.DataArray, pareto_k: xr.DataArray,
                lppd_i: np.ndarray, warning: bool | None = None) -> Any:
    """``template`` (an ELPDData of the same draws) with the rows' ``elpd_i`` and
    ``pareto_k``, and elpd, its standard error and p_loo by ArviZ's summary of them
    (``warning``: ArviZ's Pareto-k flag; None keeps the template's)."""
    p_loo_i = elpd_i.copy(data=lppd_i - elpd_i.to_numpy())
    elpd, se, p, _ = elpd_i.azstats.loo_summary(p_loo_i)
    # the other per-row fields are the template's rows' (a block's): the rows' p_loo, or none
    rows = {name: None for name in ("n_eff_i", "influence_pareto_k")
            if hasattr(template, name)}
    if hasattr(template, "p_loo_i"):
        rows["p_loo_i"] = p_loo_i
    return dataclasses.replace(
        template, elpd=float(elpd), se=float(se), p=float(p), n_data_points=int(elpd_i.size),
        elpd_i=elpd_i, pareto_k=pareto_k, log_weights=None,
        warning=template.warning if warning is None else bool(warning), **rows)


def _frequency_weighted(loo: Any, tree: xr.DataTree, lppd_i: np.ndarray) -> Any:
    """PSIS-LOO of the rows a weighted fit's frequency weights stand for: row n's pointwise
    elpd and Pareto k repeated ``w_n`` times, and elpd, se, p_loo summed over the repeats
    (ArviZ's own summary), without repeating the (chain, draw, observation) log-likelihood.
    Unweighted fits are returned as they are."""
    observed = tree.children.get("observed_data")
    if observed is None or "sample_weight" not in observed.data_vars:
        return loo
    counts = frequency_counts(observed["sample_weight"].to_numpy(),
                              "PSIS-LOO with frequency weights")
    rows = np.repeat(np.arange(counts.size), counts)
    pareto_k = loo.pareto_k.isel(observation=rows)
    # ArviZ's flag of the rows counted: a row of weight 0 is none (QA165 L4: its k of 44 kept
    # the flag up where every counted row's k was below good_k)
    good_k = getattr(loo, "good_k", None)
    warning = None if good_k is None else bool((pareto_k.to_numpy() > good_k).any())
    return _summarised(loo, loo.elpd_i.isel(observation=rows), pareto_k, lppd_i[rows],
                       warning=warning)
