"""Figures for a fitted mixture: data, EM convergence, EM vs posterior, membership, diagnostics.

Every function takes an optional ``ax`` (or ``axes``) to draw into and returns the matplotlib
``Figure``; none calls ``show()``. Without ``ax`` the figure is a bare
:class:`matplotlib.figure.Figure` (not registered with pyplot, rendered by the Agg canvas when
saved), so building a report never opens a window or leaks pyplot state. The trace and rank
plots come from ArviZ (arviz-plots, matplotlib backend), which creates its figures through
pyplot; close them with ``matplotlib.pyplot.close(fig)`` when done.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from .em import EMResult
from .posterior import BayesResult

__all__ = [
    "ELLIPSE_LEVEL",
    "plot_data",
    "plot_em_convergence",
    "plot_membership",
    "plot_overlay",
    "plot_ppc_density",
    "plot_rank",
    "plot_trace",
]

# Ellipses enclose this much probability of each Gaussian component.
ELLIPSE_LEVEL = 0.95
_DATA_COLOR = "0.55"
_EM_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.8}


def _component_color(k: int) -> str:
    return f"C{k % 10}"


def _new_axes(ax: Axes | None, figsize=(6.4, 4.8)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _new_grid(n_rows: int, n_cols: int, size: float = 2.6) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(size * n_cols, size * n_rows), layout="constrained")
    return fig, fig.subplots(n_rows, n_cols, squeeze=False)


def _data(result: BayesResult) -> np.ndarray:
    return np.asarray(result.idata["observed_data"]["x"].values, dtype=np.float64)


def _posterior_draws(result: BayesResult, n_draws: int, random_state: Any = 0):
    """(weights (S, K), means (S, K, D), full covariances (S, K, D, D)) of ``n_draws`` draws."""
    w, m, chol = result._draws(n_draws, random_state=random_state)
    return w, m, chol @ np.swapaxes(chol, -1, -2)


# --------------------------------------------------------------------------------------------
# data and EM
# --------------------------------------------------------------------------------------------
def plot_data(X: np.ndarray, feature_names: tuple[str, ...] | None = None,
              ax: Axes | None = None) -> Figure:
    """Histogram (1-D), scatter plot (2-D) or pair plot (D > 2) of the data.

    Parameters
    ----------
    X : ndarray (N, D)
    feature_names : tuple of str, optional
    ax : Axes, optional
        Only for D <= 2 (a pair plot needs its own grid).
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    D = X.shape[1]
    names = feature_names or tuple(f"x{i}" for i in range(D))
    if D > 2:
        def pair(a, i, j):
            a.scatter(X[:, j], X[:, i], s=5, color=_DATA_COLOR)

        def diag(a, i):
            a.hist(X[:, i], bins="auto", density=True, color=_DATA_COLOR)

        fig = _pair_grid(X, names, ax, pair, diag)
        fig.suptitle(f"Data: {X.shape[0]} points")
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:
        ax.hist(X[:, 0], bins="auto", density=True, color=_DATA_COLOR)
        ax.set(xlabel=names[0], ylabel="density")
    else:
        ax.scatter(X[:, 0], X[:, 1], s=10, color=_DATA_COLOR)
        ax.set(xlabel=names[0], ylabel=names[1])
    ax.set_title(f"Data: {X.shape[0]} points")
    return fig


def plot_em_convergence(em: EMResult, ax: Axes | None = None) -> Figure:
    """EM's objective per iteration (``em.history``): log-likelihood, or log posterior (MAP)."""
    fig, ax = _new_axes(ax, figsize=(6.4, 3.6))
    history = np.asarray(em.history)
    ax.plot(np.arange(len(history)), history, marker="o", markersize=3, color="C0")
    label = "log posterior (MAP-EM)" if em.prior is not None else "log-likelihood"
    ax.set(xlabel="iteration", ylabel=label,
           title=f"EM convergence: {em.n_iter} iterations, "
                 f"{'converged' if em.converged else 'NOT converged'}")
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


# --------------------------------------------------------------------------------------------
# EM vs posterior
# --------------------------------------------------------------------------------------------
def plot_overlay(result: BayesResult, n_draws: int = 50, ax: Axes | None = None,
                 random_state: Any = 0) -> Figure:
    """The EM fit over the data with ``n_draws`` posterior draws beside it.

    2-D: scatter of the data, EM covariance ellipses (dashed) and the ellipses of each posterior
    draw (thin, coloured by component); 1-D: histogram, EM mixture density and the posterior
    density's mean and 90% band; D > 2: a pair plot with the same on every pair (marginal
    ellipses) and every feature (marginal densities). Ellipses enclose ``ELLIPSE_LEVEL``.

    Parameters
    ----------
    result : BayesResult
    n_draws : int
        Posterior draws shown (drawn at random from all chains).
    ax : Axes, optional
        Only for D <= 2.
    random_state : int, optional
        Which draws are shown.
    """
    X = _data(result)
    D = X.shape[1]
    em = result.em
    em_cov = em.full_covariances
    w, m, cov = _posterior_draws(result, n_draws, random_state)
    names = result.feature_names

    def pair(a, i, j):  # row feature i on the y axis, column feature j on the x axis
        _overlay_2d(a, X[:, [j, i]], em.means[:, [j, i]], em_cov[:, [j, i]][:, :, [j, i]],
                    m[:, :, [j, i]], cov[:, :, [j, i]][:, :, :, [j, i]])

    def diag(a, i):
        _overlay_1d(a, X[:, i], em.weights, em.means[:, i], em_cov[:, i, i],
                    w, m[:, :, i], cov[:, :, i, i])

    title = (f"EM (dashed) and {w.shape[0]} posterior draws; "
             f"{int(ELLIPSE_LEVEL * 100)}% ellipses")
    if D > 2:
        fig = _pair_grid(X, names, ax, pair, diag)
        fig.suptitle(title)
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:
        diag(ax, 0)
        ax.set(xlabel=names[0], ylabel="density",
               title=f"EM density (dashed) vs posterior density ({w.shape[0]} draws)")
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1], title=title)
    ax.legend(loc="best", fontsize="small")
    return fig


def _ellipse(mean: np.ndarray, cov: np.ndarray, n: int = 80) -> np.ndarray:
    """(n, 2) points on the ``ELLIPSE_LEVEL`` contour of N(mean, cov)."""
    radius = np.sqrt(stats.chi2.ppf(ELLIPSE_LEVEL, df=2))
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return mean + radius * circle @ np.linalg.cholesky(cov).T


def _overlay_2d(ax, X, em_means, em_covs, draw_means, draw_covs) -> None:
    ax.scatter(X[:, 0], X[:, 1], s=8, color=_DATA_COLOR, zorder=1)
    S, K = draw_means.shape[:2]
    for k in range(K):
        for s in range(S):
            xy = _ellipse(draw_means[s, k], draw_covs[s, k])
            ax.plot(xy[:, 0], xy[:, 1], color=_component_color(k), alpha=0.25, lw=0.7,
                    zorder=2, label=f"component {k}: posterior draws" if s == 0 else None)
    for k in range(K):
        xy = _ellipse(em_means[k], em_covs[k])
        ax.plot(xy[:, 0], xy[:, 1], zorder=3, label="EM" if k == 0 else None, **_EM_STYLE)
        ax.plot(*em_means[k], marker="x", color="black", markersize=8, zorder=4)


def _mixture_density(grid, weights, means, variances) -> np.ndarray:
    """Mixture density on ``grid`` for one (K,) or many (S, K) parameter sets."""
    sd = np.sqrt(variances)
    dens = weights[..., None] * stats.norm.pdf(grid, means[..., None], sd[..., None])
    return dens.sum(axis=-2)


def _overlay_1d(ax, x, em_w, em_m, em_v, draw_w, draw_m, draw_v) -> None:
    ax.hist(x, bins="auto", density=True, color=_DATA_COLOR, alpha=0.6, label="data")
    pad = 0.1 * (x.max() - x.min())
    grid = np.linspace(x.min() - pad, x.max() + pad, 400)
    draws = _mixture_density(grid, draw_w, draw_m, draw_v)
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    ax.fill_between(grid, lo, hi, color="C0", alpha=0.35, label="posterior 90% band")
    ax.plot(grid, draws.mean(axis=0), color="C0", lw=1.5, label="posterior mean density")
    ax.plot(grid, _mixture_density(grid, em_w, em_m, em_v), label="EM", **_EM_STYLE)


def _pair_grid(X, names, ax, pair, diag) -> Figure:
    if ax is not None:
        raise ValueError(f"a pair plot of {X.shape[1]} features needs its own figure; "
                         "leave ax=None")
    D = X.shape[1]
    fig, axes = _new_grid(D, D)
    for i in range(D):
        for j in range(D):
            a = axes[i, j]
            if i == j:
                diag(a, i)
            elif i > j:
                pair(a, i, j)
            else:
                a.set_axis_off()
                continue
            if i == D - 1:
                a.set_xlabel(names[j])
            if j == 0 and i > 0:
                a.set_ylabel(names[i])
    return fig


# --------------------------------------------------------------------------------------------
# membership
# --------------------------------------------------------------------------------------------
def plot_membership(result: BayesResult, X: Any = None, ax: Axes | None = None, *,
                    proba: Any = None, n_uncertain: int = 10) -> Figure:
    """Points coloured by their most probable component, faded by how unsure that is.

    Opacity is the posterior mean probability of the assigned component (solid: certain;
    faint: near 1/K). The ``n_uncertain`` most uncertain points are circled and numbered by
    row. 1-D data: each component's membership probability against x, with its interval.
    D > 2: the first two features.

    Parameters
    ----------
    result : BayesResult
    X : array-like (N, D), optional
        Default: the training data.
    ax : Axes, optional
    proba : MembershipProbabilities, optional
        Reuse ``result.predict_proba(X)`` when already computed.
    n_uncertain : int
    """
    X = _data(result) if X is None else result._check(X)
    proba = result.predict_proba(X) if proba is None else proba
    names = result.feature_names
    K = proba.mean.shape[1]
    fig, ax = _new_axes(ax)
    if X.shape[1] == 1:
        order = np.argsort(X[:, 0])
        x = X[order, 0]
        for k in range(K):
            mean, lo, hi = (p[order, k] for p in (proba.mean, proba.lower, proba.upper))
            # A skewed posterior can put the mean outside the equal-tailed interval.
            yerr = np.clip([mean - lo, hi - mean], 0, None)
            ax.errorbar(x, mean, yerr=yerr, color=_component_color(k),
                        fmt=".-", lw=0.8, elinewidth=0.8, capsize=2, alpha=0.8,
                        label=f"component {k}")
        ax.set(xlabel=names[0], ylabel="membership probability", ylim=(-0.02, 1.02),
               title=f"Membership: posterior mean and {proba.interval:.0%} interval")
        ax.legend(fontsize="small")
        return fig
    assigned = np.argmax(proba.mean, axis=1)
    certainty = proba.mean[np.arange(len(X)), assigned]
    # Map certainty from [1/K, 1] to opacity [0.1, 1]: a coin-flip point is nearly invisible.
    alpha = 0.1 + 0.9 * np.clip((certainty - 1 / K) / (1 - 1 / K), 0, 1)
    for k in range(K):
        sel = assigned == k
        ax.scatter(X[sel, 0], X[sel, 1], s=18, color=_component_color(k), alpha=alpha[sel],
                   edgecolors="none", label=f"component {k}")
    for i in np.argsort(certainty)[:n_uncertain]:
        ax.scatter(X[i, 0], X[i, 1], s=70, facecolors="none", edgecolors="black", lw=0.8)
        ax.annotate(str(i), (X[i, 0], X[i, 1]), xytext=(4, 4), textcoords="offset points",
                    fontsize=7)
    extra = " (first two features)" if X.shape[1] > 2 else ""
    ax.set(xlabel=names[0], ylabel=names[1],
           title=f"Membership{extra}: opacity = probability of the assigned component;\n"
                 f"circled: the {min(n_uncertain, len(X))} most uncertain points (row numbers)")
    ax.legend(fontsize="small")
    return fig


# --------------------------------------------------------------------------------------------
# diagnostics (ArviZ) and posterior predictive check
# --------------------------------------------------------------------------------------------
def plot_trace(result: BayesResult, var_names=("weights", "means")) -> Figure:
    """Trace and per-chain densities (``arviz.plot_trace_dist``, matplotlib backend)."""
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Not compact: the means of different features live on different scales.
        pc = az.plot_trace_dist(result.idata, var_names=list(var_names),
                                backend="matplotlib", compact=False,
                                figure_kwargs={"layout": "constrained"})
    return pc.viz["figure"].item()


def plot_rank(result: BayesResult, var_names=("weights", "means")) -> Figure:
    """Fractional rank ECDF per chain (``arviz.plot_rank``): flat within the band = mixing.

    Thinned and at the per-scalar level of :func:`bayesgmm.diagnostics.diagnose`'s rank check
    (family-wise 0.01, Bonferroni), so a panel is flagged exactly when that check fails.
    """
    import arviz as az
    from arviz_base import rcParams

    post = result.idata["posterior"]
    n_scalars = sum(int(np.prod(post[v].shape[2:])) for v in var_names if v in post)
    family = 1.0 - float(rcParams["stats.envelope_prob"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pc = az.plot_rank(result.idata, var_names=list(var_names), backend="matplotlib",
                          thin=True, envelope_prob=1.0 - family / max(n_scalars, 1),
                          figure_kwargs={"layout": "constrained"})
    return pc.viz["figure"].item()


def plot_ppc_density(result: BayesResult, n_replicates: int = 50, axes: Any = None,
                     random_state: Any = 0) -> Figure:
    """Posterior predictive check: data density against ``n_replicates`` replicated data sets.

    One panel per feature: a kernel density estimate of the observed values (black) over those
    of data sets simulated from random posterior draws (``sample_posterior_predictive``, thin
    blue). The observed curve should look like one more replicate.

    Parameters
    ----------
    result : BayesResult
    n_replicates : int
    axes : sequence of Axes, optional
        One per feature.
    random_state : int, optional
    """
    X = _data(result)
    D = X.shape[1]
    if axes is None:
        fig = Figure(figsize=(min(4.2 * D, 13), 3.4), layout="constrained")
        axes = fig.subplots(1, D, squeeze=False)[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    rep = result.sample_posterior_predictive(max_draws=n_replicates, random_state=random_state)
    xrep = rep["x"].values  # (S, N, D)
    for i, a in enumerate(axes[:D]):
        pad = 0.15 * (X[:, i].max() - X[:, i].min())
        grid = np.linspace(X[:, i].min() - pad, X[:, i].max() + pad, 300)
        for s in range(xrep.shape[0]):
            a.plot(grid, stats.gaussian_kde(xrep[s, :, i])(grid), color="C0", alpha=0.15,
                   lw=0.8, label="replicated" if s == 0 else None)
        a.plot(grid, stats.gaussian_kde(X[:, i])(grid), color="black", lw=2, label="observed")
        a.set(xlabel=result.feature_names[i], ylabel="density" if i == 0 else None)
        a.set_yticks([])
    axes[0].legend(fontsize="small")
    fig.suptitle(f"Posterior predictive check: {xrep.shape[0]} replicated data sets")
    return fig
