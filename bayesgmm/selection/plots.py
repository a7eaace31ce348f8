"""Figures for choosing K: criteria against K, the LOO comparison, the posterior of K+.

As in :mod:`bayesgmm.plots`, every function takes an optional ``ax`` to draw into and returns the
matplotlib ``Figure``; without ``ax`` it is a bare :class:`matplotlib.figure.Figure` (not
registered with pyplot), so no window opens and no pyplot state leaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .criteria import CRITERIA, EMSelection
from .loo import BayesSelection
from .sparse import SparseMixture

if TYPE_CHECKING:  # heavy imports (arviz, pymc, matplotlib) stay out of the EM workers
    from matplotlib.figure import Figure


def _axes(ax: Any, n: int, width: float = 5.0, height: float = 3.6) -> list:
    """``n`` axes: new ones in one row when ``ax`` is None, else the given one(s)."""
    if ax is None:
        from matplotlib.figure import Figure  # here: EM sweep workers never load matplotlib

        fig = Figure(figsize=(width * n, height), layout="constrained")
        return list(fig.subplots(1, n, squeeze=False)[0])
    axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
    if len(axes) != n:
        raise ValueError(f"this plot needs {n} axes; got {len(axes)}")
    return axes


def plot_criteria(table: EMSelection | pd.DataFrame, ax: Any = None, *,
                  criteria: Sequence[str] = ("bic", "icl")) -> Figure:
    """Information criteria against K, one line per covariance type, one panel per criterion.

    Parameters
    ----------
    table : EMSelection or its ``.table`` DataFrame
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per criterion; a new figure when None.
    criteria : sequence of {"bic", "aic", "icl"}

    Returns
    -------
    matplotlib.figure.Figure
        Lower is better on every panel; the best non-degenerate cell is circled and
        degenerate cells are crossed.
    """
    frame = table.table if isinstance(table, EMSelection) else table
    criteria = [criteria] if isinstance(criteria, str) else list(criteria)
    for criterion in criteria:
        if criterion not in CRITERIA:
            raise ValueError(f"unknown criterion {criterion!r}; choose from {CRITERIA}")
    axes = _axes(ax, len(criteria))
    for axis, criterion in zip(axes, criteria, strict=True):
        for ct, group in frame.groupby("covariance_type", sort=False):
            group = group.sort_values("n_components")
            axis.plot(group["n_components"], group[criterion], marker="o", label=ct)
        degenerate = frame["degenerate"] if "degenerate" in frame else \
            pd.Series(False, index=frame.index)
        if degenerate.any():
            axis.plot(frame.loc[degenerate, "n_components"], frame.loc[degenerate, criterion],
                      marker="x", color="black", ls="none", label="degenerate")
        eligible = frame[~degenerate] if not degenerate.all() else frame
        if eligible[criterion].notna().any():
            best = eligible.loc[eligible[criterion].idxmin()]
            axis.plot(best["n_components"], best[criterion], marker="o", ms=14, mfc="none",
                      mec="black", ls="none", label=f"best: K={best['n_components']} "
                      f"{best['covariance_type']}")
        axis.set_xlabel("number of components K")
        axis.set_ylabel(f"{criterion.upper()} (lower is better)")
        axis.set_xticks(sorted(frame["n_components"].unique()))
        axis.legend(fontsize="small")
    return axes[0].figure


def plot_loo(comparison: BayesSelection | pd.DataFrame, ax: Any = None) -> Figure:
    """PSIS-LOO comparison: elpd_loo +- se per model, and elpd_diff +- dse relative to the best.

    Parameters
    ----------
    comparison : BayesSelection or an ``az.compare`` DataFrame
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Filled circles: elpd_loo with its standard error; open triangles (offset below):
        the difference from the best model with the standard error of the difference.
        Models within noise of the best are labelled so.
    """
    table = comparison.comparison if isinstance(comparison, BayesSelection) else comparison
    (axis,) = _axes(ax, 1, width=6.0, height=0.6 * len(table) + 1.5)
    y = np.arange(len(table))[::-1].astype(float)
    axis.errorbar(table["elpd"], y, xerr=table["se"], fmt="o", color="C0", label="elpd_loo +- se")
    best = table["elpd"].iloc[0]
    diff_x = best + table["elpd_diff"].to_numpy()
    axis.errorbar(diff_x[1:], y[1:] - 0.25, xerr=table["dse"].to_numpy()[1:], fmt="^",
                  mfc="none", color="C1", label="best + elpd_diff +- dse")
    axis.axvline(best, color="grey", ls="--", lw=1)
    noise = table["within_noise"] if "within_noise" in table else pd.Series(False, table.index)
    labels = [f"{name}{' (within noise)' if noise.iloc[i] and i else ''}"
              for i, name in enumerate(table.index)]
    axis.set_yticks(y, labels)
    axis.set_xlabel("elpd_loo (higher is better)")
    # Above the axes: inside, it would hide a model's point.
    axis.legend(fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                frameon=False)
    return axis.figure


def plot_n_components(posterior_counts: SparseMixture | pd.Series | np.ndarray,
                      ax: Any = None) -> Figure:
    """Posterior distribution of the number of non-empty components K+.

    Parameters
    ----------
    posterior_counts : SparseMixture, pandas Series (index k, value P(K+ = k)), or an array
        of K+ values per draw
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(posterior_counts, SparseMixture):
        probs = posterior_counts.posterior_counts
    elif isinstance(posterior_counts, pd.Series):
        probs = posterior_counts
    else:
        values = np.asarray(posterior_counts).ravel().astype(int)
        ks = np.arange(1, values.max() + 1)
        probs = pd.Series([np.mean(values == k) for k in ks], index=ks)
    (axis,) = _axes(ax, 1)
    axis.bar(probs.index.astype(int), probs.to_numpy(), color="C0")
    axis.set_xticks(probs.index.astype(int))
    axis.set_xlabel("number of non-empty components K+")
    axis.set_ylabel("posterior probability")
    return axis.figure
