"""Figures for a fitted mixture: data, density, classification, EM, posterior, diagnostics.

Every function takes an optional ``ax`` (or ``axes``) to draw into and returns the matplotlib
``Figure``; none calls ``show()``. Without ``ax`` the figure is a bare
:class:`matplotlib.figure.Figure` (not registered with pyplot, rendered by the Agg canvas when
saved), so building a report never opens a window or leaks pyplot state. The trace, rank and
energy plots come from ArviZ (arviz-plots, matplotlib backend), which creates its figures
through pyplot; close them with ``matplotlib.pyplot.close(fig)`` when done.

The figures of a fit itself (:func:`plot_density`, :func:`plot_classification`,
:func:`plot_membership`, :func:`plot_overlay`, :func:`plot_em_convergence`) accept an
:class:`~bayesgmm.EMResult` as well as a :class:`~bayesgmm.BayesResult`: an EM fit holds no
data, so pass the data it was fitted to as ``X``. A posterior's density averages over posterior
draws; an EM fit's is the estimate's. Pair grids (D > 2) show every pair of up to
:data:`MAX_PAIR_FEATURES` features, beyond that the features that separate the components most.

(Over 500 lines: every figure of the reports, each with its 1-D, 2-D and pair-grid forms and
the small geometry helpers (ellipses, marginal densities) they share.)

Where it sits: the surface layer; imports EM's result, the diagnostics and the observation
record (inside the functions); imported by the report.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from ._validation import check_data

if TYPE_CHECKING:  # the posterior module imports ArviZ: an EM-only figure must not need it
    from .em import EMResult
    from .posterior import BayesResult

__all__ = [
    "ELLIPSE_LEVEL",
    "animate_em",
    "em_path",
    "MAX_PAIR_FEATURES",
    "plot_classification",
    "plot_data",
    "plot_density",
    "plot_em_convergence",
    "plot_energy",
    "plot_forest",
    "plot_membership",
    "plot_overlay",
    "plot_ppc_density",
    "plot_ppc_statistics",
    "plot_rank",
    "plot_trace",
]

# Ellipses enclose this much probability of each Gaussian component.
ELLIPSE_LEVEL = 0.95
# The posterior intervals and bands of every figure: ArviZ's default, as in every table.
INTERVAL = 0.94
# Pair grids show at most this many features (the most separating ones beyond).
MAX_PAIR_FEATURES = 6
_DATA_COLOR = "0.55"
# The trace and rank plots' variables: diagnostics.RANK_VARIABLES, the verdict's rank test's
# (not imported from there: it loads ArviZ, which an EM report never needs; a test checks).
_DIAGNOSED = ("weights", "noise_weight", "means")
# Scalars a trace plot draws at most (the lowest bulk ESS first): two panels a row each.
TRACE_MAX_SCALARS = 16
# Panels a rank plot draws at most (the smallest rank p-values first): a 4 x 4 grid. 54
# scalars (D=8, K=6) exceeded ArviZ's 40 subplots and the report's rank figure failed.
RANK_MAX_SCALARS = 16
# Characters of a feature name a diagnostic figure writes at most (more: "…" in its middle).
_NAME_CHARS = 28
# The whole mixture's density: black in every figure, so that it is never read as a component
# (components take the C0, C1, ... colours).
_MIXTURE_COLOR = "black"
_EM_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.8}
# The numpydoc text of parameters that several plots share, written once: ``_shared_docs``
# puts it where a docstring says ``{name}``.
_PARAMETER_DOCS = {
    "result_and_data": "result : BayesResult or EMResult\n"
                       "    X : array-like (N, D), optional\n"
                       "        Required for an EMResult; default for a BayesResult: its "
                       "training data.",
    "ax": "ax : Axes, optional\n        Only for D <= 2.",
    "proba": "proba : MembershipProbabilities, optional\n"
             "        Reuse ``result.predict_proba(X)`` when already computed (BayesResult).",
}


def _shared_docs(func):
    """``func`` with each ``{name}`` in its docstring replaced by ``_PARAMETER_DOCS[name]``."""
    for name, text in _PARAMETER_DOCS.items():
        func.__doc__ = func.__doc__.replace("{" + name + "}", text)
    return func


def _component_color(k: int, n_gaussians: int | None = None) -> str:
    """Component k's colour; with ``n_gaussians`` given, k == n_gaussians is the noise."""
    if n_gaussians is not None and k == n_gaussians:
        return _NOISE_COLOR
    return f"C{k % 10}"


def _component_names(fit: Any, n_gaussians: int) -> list[str]:
    """What every figure calls the components: ``"component 0 (long)"`` for a component whose
    known label is ``long`` (the tables' :func:`~bayesgmm.observation_record.component_titles`,
    from the fit's record), ``"component 1"`` otherwise, and ``"noise"`` last (index
    ``n_gaussians``: a noise component's column)."""
    from .observation_record import component_titles

    return [f"component {t}" for t in component_titles(fit, n_gaussians)] + ["noise"]


_NOISE_COLOR = "black"  # apart from the grey of the size legend and of C7


def _mark_labelled(ax, X: np.ndarray, labelled: Any, i: int, j: int | None) -> None:
    """Ring the points whose component was known (``labelled``: bool (N,) or None)."""
    if labelled is None or not np.any(labelled):
        return
    sel = np.asarray(labelled, dtype=bool)
    y = X[sel, j] if j is not None else np.zeros(int(sel.sum()))
    ax.scatter(X[sel, i], y, s=46, facecolors="none", edgecolors="black", lw=0.6,
               marker="s", label="known label")


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


def _is_bayes(result: Any) -> bool:
    return hasattr(result, "idata")


def _em_of(result: Any) -> EMResult:
    return result.em if _is_bayes(result) else result


def _fit_data(result: Any, X: Any) -> np.ndarray:
    """The data to draw: ``X`` checked against the fit, or a posterior's training data."""
    if X is None:
        if not _is_bayes(result):
            raise ValueError("an EMResult holds no data: pass X, the data it was fitted to "
                             "(e.g. plot_density(em, X))")
        return _data(result)
    em = _em_of(result)
    Xv, _ = check_data(X, n_features=em.n_features, feature_names=em.feature_names,
                       allow_nan=True)  # NaN: a missing value, drawn where it can be
    return Xv


def _posterior_draws(result: BayesResult, n_draws: int, random_state: Any = 0):
    """(weights (S, K), means (S, K, D), full covariances (S, K, D, D)) of ``n_draws`` draws."""
    w, m, chol = result._draws(n_draws, random_state=random_state)
    return w, m, chol @ np.swapaxes(chol, -1, -2)


def _parameter_sets(result: Any, n_draws: int = 100, random_state: Any = 0):
    """Posterior draws (S, ...) of a BayesResult; the estimate as one set (S = 1) of an EM fit."""
    if _is_bayes(result):
        return _posterior_draws(result, n_draws, random_state)
    return result.weights[None], result.means[None], result.full_covariances[None]


def _point_estimate(result: Any):
    """(weights, means, full covariances) to draw components with: EM, or the posterior
    median. Not the mean: a component's variance posterior can be so skewed (a small group,
    galaxies K=3) that the mean draws a broad bump that no posterior draw looks like. The
    covariance is the one of the elementwise median Cholesky factor (positive definite, and
    in 1-D the median variance); the weights keep the mean's total (below 1 with noise)."""
    if not _is_bayes(result):
        return result.weights, result.means, result.full_covariances
    w, m, chol = result._draws(None)
    w_med = np.median(w, axis=0)
    w_med *= w.mean(axis=0).sum() / w_med.sum()
    L = np.median(chol, axis=0)
    return w_med, np.median(m, axis=0), L @ np.swapaxes(L, -1, -2)


def _membership(result: Any, X: np.ndarray) -> np.ndarray:
    """(N, K) membership probabilities: posterior mean, or the EM responsibilities."""
    return result.predict_proba(X).mean if _is_bayes(result) else result.predict_proba(X)


def _pair_features(weights, means, covariances) -> list[int]:
    """All features up to MAX_PAIR_FEATURES; beyond, the ones whose component means differ
    most relative to the within-component spread (in their original order)."""
    D = means.shape[1]
    if D <= MAX_PAIR_FEATURES:
        return list(range(D))
    centre = weights @ means
    between = weights @ (means - centre) ** 2
    within = weights @ np.diagonal(covariances, axis1=1, axis2=2)
    return sorted(np.argsort(between / within)[::-1][:MAX_PAIR_FEATURES].tolist())


def _robust_limits(x: np.ndarray, pad: float = 0.08) -> tuple[float, float]:
    """Axis limits from the data (padded), so a few wild posterior draws cannot stretch them."""
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))  # NaN: a missing coordinate
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


def _claimed(proba: np.ndarray, n_components: int) -> np.ndarray | None:
    """With a noise component (``proba``'s extra last column): the points the Gaussian
    components claim. The axes of a 2-D figure are set around them, so that a few far
    outliers, which the noise component takes, do not shrink the clusters to a dot."""
    if proba.shape[1] == n_components:
        return None
    keep = np.argmax(proba, axis=1) != n_components
    return keep if keep.sum() >= 2 and not keep.all() else None


# The bulk of a feature (:func:`_bulk`): from its central 95% (the 2.5% and 97.5% quantiles)
# outwards through the sorted values until a gap wider than this share of that range.
_BULK_GAP = 0.25


def _bulk(x: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """bool (N,): the observed values of ``x`` (in ``keep``, :func:`_claimed`, when given)
    that make the bulk of the data, so that a few gross outliers do not stretch an axis and
    shrink the clusters to a dot (with or without a noise component).

    From the central 95% of the values the bulk extends outwards through the sorted values
    until a gap wider than ``_BULK_GAP`` (a quarter) of that central range: a long tail or a
    small far group joined by its points stays; isolated far points are left out (a figure
    counts them in a note, :func:`_note_outside`)."""
    ok = ~np.isnan(x) if keep is None else ~np.isnan(x) & keep
    v = np.sort(x[ok])
    if v.size < 10:
        return ok
    q0, q1 = np.quantile(v, [0.025, 0.975])
    if not q1 > q0:
        return ok
    wide = np.diff(v) > _BULK_GAP * (q1 - q0)  # wide[n]: the gap between v[n] and v[n + 1]
    start, stop = int(np.searchsorted(v, q0)), int(np.searchsorted(v, q1, "right")) - 1
    below, above = np.flatnonzero(wide[:start]), np.flatnonzero(wide[stop:])
    lo = v[below[-1] + 1] if below.size else v[0]
    hi = v[stop + above[0]] if above.size else v[-1]
    return ok & (x >= lo) & (x <= hi)


def _limits(x: np.ndarray, keep: np.ndarray | None = None) -> tuple[float, float]:
    """:func:`_robust_limits` of the bulk of ``x`` (:func:`_bulk`), of its points in ``keep``
    (:func:`_claimed`) when given."""
    bulk = _bulk(x, keep)
    if bulk.sum() < 2:  # nothing left to set the axis by: all of it
        bulk = ~np.isnan(x)
    return _robust_limits(x[bulk]) if bulk.any() else _robust_limits(x)


def _note_outside(ax: Axes, x: np.ndarray, y: np.ndarray | None = None,
                  keep: np.ndarray | None = None) -> None:
    """Say how many points lie beyond the axes (set around the bulk of the data,
    :func:`_limits`): "noise point(s)" when ``keep`` (:func:`_claimed`) is given and every
    one of them is a noise point; and, on a line of its own, how many are not drawn for a
    missing coordinate (NaN in ``x`` or ``y``). ``y`` None: a 1-D panel (only ``x`` counts;
    the note goes at the top, clear of the rug and the jittered points along the bottom, and
    the panel grows by a line so that it sits above the tallest bar).
    :func:`_clear_of_legend` moves a 2-D panel's note off its legend."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    beyond = (x < x0) | (x > x1)
    missing = np.isnan(x)
    if y is not None:
        beyond |= (y < y0) | (y > y1)
        missing |= np.isnan(y)
    outside, absent = int(np.sum(beyond)), int(np.sum(missing))
    lines = []
    if outside:
        noise = keep is not None and not np.any(beyond & keep)
        lines.append(f"{outside} {'noise ' if noise else ''}point(s) beyond the axes")
    if absent:
        lines.append(f"{absent} missing {'a coordinate' if y is not None else 'this feature'}"
                     ": not shown")
    if not lines:
        return
    if y is None:
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top + (0.08 + 0.07 * len(lines)) * (top - bottom))
    note = ax.annotate("\n".join(lines), (0.99, 0.01 if y is not None else 0.98),
                       xycoords="axes fraction", ha="right",
                       va="bottom" if y is not None else "top", fontsize=7.5, color="0.25")
    note._bayesgmm_note = True


# Where a 2-D panel's note may go (axes fraction, ha, va), in order: clear of the legend.
_NOTE_PLACES = (((0.99, 0.01), "right", "bottom"), ((0.01, 0.01), "left", "bottom"),
                ((0.99, 0.99), "right", "top"), ((0.01, 0.99), "left", "top"))


def _clear_of_legend(ax: Axes) -> None:
    """Move ``ax``'s note (:func:`_note_outside`) to the first corner where ``ax``'s legend
    does not cover it (the legend's "best" place takes no account of text). Call it last."""
    legend = ax.get_legend()
    notes = [t for t in ax.texts if getattr(t, "_bayesgmm_note", False)]
    if legend is None or not notes:
        return
    ax.get_figure(root=True).draw_without_rendering()
    box = legend.get_window_extent()
    for note in notes:
        for xy, ha, va in _NOTE_PLACES:
            note.xy = note.xyann = xy
            note.set(ha=ha, va=va)
            if not note.get_window_extent().overlaps(box):
                break


def _observed(x: np.ndarray) -> np.ndarray:
    """A feature's observed values (NaN marks a missing one; histograms need them out)."""
    return x[~np.isnan(x)]


# --------------------------------------------------------------------------------------------
# data and EM
# --------------------------------------------------------------------------------------------
def plot_data(X: Any, feature_names: tuple[str, ...] | None = None,
              ax: Axes | None = None) -> Figure:
    """Histogram (1-D), scatter plot (2-D) or pair plot (D > 2) of the data.

    A pair plot shows the first :data:`MAX_PAIR_FEATURES` features (the title says which
    are left out); the fitted figures' pair grids show the most separating ones instead.
    Points missing a coordinate, and far points beyond the axes, are counted in a note.

    Parameters
    ----------
    X : array-like (N, D) or DataFrame
        A DataFrame's column names name the features.
    feature_names : tuple of str, optional
        One per feature (default: a DataFrame's column names, else x0, x1, ...).
    ax : Axes, optional
        Only for D <= 2 (a pair plot needs its own grid).
    """
    X, names = check_data(X, feature_names=feature_names, allow_nan=True)
    D = X.shape[1]
    if feature_names is not None:
        if len(feature_names) != D:
            raise ValueError(f"feature_names: got {len(feature_names)} name(s) for {D} "
                             "feature(s)")
        names = tuple(str(name) for name in feature_names)
    size, alpha = _crowding(X.shape[0])

    def pair(a, i, j):  # axes around the bulk of the data (_limits), far points noted
        a.scatter(X[:, j], X[:, i], s=(5 if D > 2 else 10) * size, color=_DATA_COLOR,
                  alpha=alpha, edgecolors="none")
        a.set(xlim=_limits(X[:, j]), ylim=_limits(X[:, i]))
        _note_outside(a, X[:, j], X[:, i])

    def diag(a, i):
        a.set_xlim(*_histogram(a, X[:, i], None, pad=0.05, alpha=1.0))
        _note_outside(a, X[:, i])

    if D > 2:
        shown = list(range(min(D, MAX_PAIR_FEATURES)))
        fig = _pair_grid(X, names, ax, pair, diag, shown)
        left = _features_line(names, shown, "the first")
        fig.suptitle(f"Data: {X.shape[0]} points" + (f"\n{left}" if left else ""))
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:
        diag(ax, 0)
        ax.set(xlabel=names[0], ylabel="density")
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1])
    ax.set_title(f"Data: {X.shape[0]} points")
    return fig


# Above this many points a scatter plot's markers shrink and fade (:func:`_crowding`), so that
# where the points are dense shows; below it they keep their sizes.
_CROWD = 2000


def _crowding(n: int) -> tuple[float, float]:
    """(factor on the marker size, opacity) for a scatter of ``n`` points: 1 and 1 up to
    ``_CROWD`` points; beyond, both shrink with the square root of ``_CROWD / n`` (at 20,000
    points a third), down to 0.3 (opaque, fixed-size points drew one solid blob)."""
    if n <= _CROWD:
        return 1.0, 1.0
    factor = max(float(np.sqrt(_CROWD / n)), 0.3)
    return factor, factor


def _features_line(names, shown: list[int], which: str) -> str:
    """"6 of 8 features (the most separating); not shown: e, f": which features a pair grid
    leaves out, and why (``which``); "" when it shows them all."""
    left = [str(names[f]) for f in range(len(names)) if f not in shown]
    if not left:
        return ""
    listed = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
    return f"{len(shown)} of {len(names)} features ({which}); not shown: {listed}"


def plot_em_convergence(em: Any, ax: Axes | None = None) -> Figure:
    """EM's objective (``em.history``): log-likelihood, or log posterior (MAP), per iteration.

    Point 0 (hollow) is the start of the best restart; points 1..n_iter are the objective after
    each iteration, so the plot shows as many filled points as EM took iterations.

    Parameters
    ----------
    em : EMResult or BayesResult (its EM fit)
    ax : Axes, optional
    """
    em = _em_of(em)
    fig, ax = _new_axes(ax, figsize=(6.4, 3.6))
    history = np.asarray(em.history, dtype=np.float64)
    steps = np.arange(1, len(history))
    ax.plot(steps, history[1:], marker="o", markersize=4, color="C0",
            label=f"after each of the {len(steps)} iterations")
    ax.plot([0], history[:1], marker="o", markersize=6, mfc="white", color="C0", ls="",
            label="start")
    if len(history) > 1:
        ax.plot([0, 1], history[:2], color="C0", lw=0.8, ls=":")
    label = "log posterior (MAP-EM)" if em.prior is not None else "log-likelihood"
    ax.set(xlabel="iteration", ylabel=label,
           title=f"EM convergence: {em.n_iter} iterations, "
                 f"{'converged' if em.converged else 'NOT converged'}")
    # Plain tick labels: no offset ("+3.7867988953e2") and no scientific multiplier.
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    _negligible_change(ax, history)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small", loc="lower right")
    return fig


# EM's objective changing by less than this (in nats, or relative to its value, whichever is
# larger) over the run shown is drawn as a flat line: no fit is told apart by it.
_NEGLIGIBLE_NATS = 1e-3
_NEGLIGIBLE_RELATIVE = 1e-6


def _negligible_change(ax: Axes, history: np.ndarray) -> None:
    """When the whole run changed the objective negligibly (the polish of a start that had
    already converged), fix the y-range to a readable width around the final value and say
    by how much it changed. Autoscaled, a 2.5e-10 change filled the panel as a steep climb,
    with ticks reading -378.67988953095 ... -378.67988953120."""
    finite = history[np.isfinite(history)]
    if finite.size == 0:
        return
    final = float(finite[-1])
    change = float(np.ptp(finite))
    if change >= max(_NEGLIGIBLE_NATS, _NEGLIGIBLE_RELATIVE * abs(final)):
        return
    # Half a nat each way at least (a log-likelihood difference that small decides nothing),
    # and the change at most a twentieth of the panel.
    half = max(0.5, 10 * change)
    ax.set_ylim(final - half, final + half)
    ax.annotate(f"changed by {change:.2g} in all (negligible)", (0.02, 0.96),
                xycoords="axes fraction", ha="left", va="top", fontsize="small", color="0.3")


def em_path(X: Any, n_components: int, *, covariance_type: str = "full",
            init: Any = "random_from_data", max_iter: int = 50, tol: float = 1e-3,
            random_state: Any = 0) -> list[EMResult]:
    """EM one iteration at a time: the fit after iteration 1, 2, ... until it converges.

    Each step is :func:`bayesgmm.fit_em` with ``max_iter=1`` started from the previous
    step's parameters, which is exactly one more iteration of the same EM (the same E- and
    M-steps, the same ``reg_covar``). The first step starts from ``init``.

    Returns
    -------
    list of EMResult, one per iteration (the last one converged, or ``max_iter`` long).
    """
    from .em import fit_em

    path: list[EMResult] = []
    start: Any = init
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration never "converges": no warning per step
        for _ in range(max_iter):
            fit = fit_em(X, n_components, covariance_type=covariance_type, init=start,
                         max_iter=1, tol=tol, random_state=random_state)
            path.append(fit)
            if len(path) > 1 and abs(fit.log_likelihood - path[-2].log_likelihood) \
                    < tol * fit.n_samples:
                break
            start = fit
    return path


def animate_em(X: Any, n_components: int, path: Any = None, *, covariance_type: str = "full",
               init: Any = "random_from_data", max_iter: int = 50, fps: int = 3,
               random_state: Any = 0):
    """An animation of EM's iterations: the ellipses (2-D) or densities (1-D) moving from the
    start to the fit, one frame per iteration (:func:`em_path`), as the tutorials show EM.

    Parameters
    ----------
    X : array-like (N, D)
        D > 2: the two features that separate the final fit's components most.
    n_components : int
    path : str or path-like, optional
        Write the animation there as a GIF (matplotlib's Pillow writer).
    covariance_type, init, max_iter, random_state
        As for :func:`em_path`.
    fps : int
        Frames per second of the GIF.

    Returns
    -------
    matplotlib.animation.FuncAnimation (its figure is a bare Figure: nothing is shown).
    """
    from matplotlib.animation import FuncAnimation, PillowWriter

    steps = em_path(X, n_components, covariance_type=covariance_type, init=init,
                    max_iter=max_iter, random_state=random_state)
    final = steps[-1]
    Xv, _ = check_data(X, n_features=final.n_features, feature_names=final.feature_names)
    names = final.feature_names
    D = Xv.shape[1]
    i, j = (0, 1) if D == 2 else _two_most_separating(
        final.weights, final.means, final.full_covariances) if D > 2 else (0, 0)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()

    def draw(n: int):
        ax.clear()
        fit = steps[n]
        cov = fit.full_covariances
        if D == 1:
            _overlay_1d(ax, Xv[:, 0], fit.weights, fit.means[:, 0], cov[:, 0, 0],
                        np.empty((0, fit.n_components)), None, None)
            ax.set(xlabel=names[0], ylabel="density")
        else:
            ax.scatter(Xv[:, i], Xv[:, j], s=6, color=_DATA_COLOR)
            titles = _component_names(fit, fit.n_components)
            for k in range(fit.n_components):
                xy = _ellipse(fit.means[k, [i, j]], cov[k][[i, j]][:, [i, j]])
                ax.plot(xy[:, 0], xy[:, 1], color=_component_color(k), lw=1.8,
                        label=f"{titles[k]}: weight {fit.weights[k]:.2f}")
                ax.plot(*fit.means[k, [i, j]], "x", color=_component_color(k), markersize=9)
            ax.set(xlabel=names[i], ylabel=names[j], xlim=_robust_limits(Xv[:, i]),
                   ylim=_robust_limits(Xv[:, j]))
            ax.legend(fontsize="small", loc="upper left")
        ax.set_title(f"EM iteration {n + 1} of {len(steps)}: log-likelihood "
                     f"{fit.log_likelihood:,.2f}"
                     + (f"\n{ELLIPSE_LEVEL:.0%} ellipses of the fit after this iteration"
                        if D > 1 else ""))
        return ax.get_children()

    animation = FuncAnimation(fig, draw, frames=len(steps), interval=1000 / fps, blit=False)
    if path is not None:
        animation.save(str(path), writer=PillowWriter(fps=fps))
    return animation


# --------------------------------------------------------------------------------------------
# EM vs posterior
# --------------------------------------------------------------------------------------------
@_shared_docs
def plot_overlay(result: Any, n_draws: int = 50, ax: Axes | None = None,
                 random_state: Any = 0, X: Any = None) -> Figure:
    """The EM fit over the data with ``n_draws`` posterior draws beside it.

    2-D: scatter of the data, EM covariance ellipses (dashed) and the ellipses of each posterior
    draw (thin, coloured by component); 1-D: histogram, EM mixture density and the posterior
    density's mean and ``INTERVAL`` (94%) band; D > 2: a pair plot with the same on every pair
    (marginal ellipses) and every feature (marginal densities). Ellipses enclose ``ELLIPSE_LEVEL``.

    Axis limits hold the bulk of the data and the ellipses drawn, except a wild draw's (far
    beyond the other draws' of its component), a component's of negligible weight, and, on
    an axis where gross outliers lie (counted in a note), beyond a quarter of the data's span
    (:func:`_ellipse_limits`); with a noise component, the points the Gaussians claim and
    their ellipses (far noise points are counted in a note). Every component has its
    colour in the legend. Pair grids beyond ``MAX_PAIR_FEATURES`` features say which are
    left out; points missing a coordinate are counted in a note.
    An EMResult (with its data ``X``) gets the EM ellipses (or density) alone.

    Parameters
    ----------
    result : BayesResult or EMResult
    n_draws : int
        Posterior draws shown (drawn at random from all chains).
    {ax}
    random_state : int, optional
        Which draws are shown.
    X : array-like (N, D), optional
        Required for an EMResult; default for a BayesResult: its training data.
    """
    X = _fit_data(result, X)
    D = X.shape[1]
    em = _em_of(result)
    em_cov = em.full_covariances
    if _is_bayes(result):
        w, m, cov = _posterior_draws(result, n_draws, random_state)
    else:  # no draws: empty (0, K, ...) arrays
        K = em.n_components
        w, m, cov = np.empty((0, K)), np.empty((0, K, D)), np.empty((0, K, D, D))
    names = em.feature_names
    titles = _component_names(result, em.n_components)
    keep = _claimed(_membership(result, X), em.n_components) if em.noise else None

    def pair(a, i, j):  # row feature i on the y axis, column feature j on the x axis
        _overlay_2d(a, X[:, [j, i]], em.means[:, [j, i]], em_cov[:, [j, i]][:, :, [j, i]],
                    m[:, :, [j, i]], cov[:, :, [j, i]][:, :, :, [j, i]], titles, keep,
                    em.weights)

    def diag(a, i):
        _overlay_1d(a, X[:, i], em.weights, em.means[:, i], em_cov[:, i, i],
                    w, m[:, :, i], cov[:, :, i, i], keep)

    drawn = f" and {w.shape[0]} posterior draws" if len(w) else ""
    title = f"EM (dashed){drawn}; {int(ELLIPSE_LEVEL * 100)}% ellipses"
    if D > 2:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        shown = _pair_features(em.weights, em.means, em_cov)
        fig = _pair_grid(X, names, ax, pair, diag, shown)
        left = _features_line(names, shown, "the most separating")
        fig.suptitle(title + (f"\n{left}" if left else ""))
        mixture = [Line2D([], [], color=_MIXTURE_COLOR, lw=1.5,
                          label="posterior mixture density (diagonal)"),
                   Patch(color=_MIXTURE_COLOR, alpha=0.25, label=f"its {INTERVAL:.0%} band")]
        _legend_below(fig, titles[:em.n_components], em.n_components,
                      [Line2D([], [], label="EM", **_EM_STYLE)] + (mixture if len(w) else []))
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:
        diag(ax, 0)
        ax.set(xlabel=names[0], ylabel="density",
               title=f"EM density (dashed) vs posterior density ({w.shape[0]} draws)"
               if len(w) else "EM mixture density")
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1], title=title)
    legend = ax.legend(loc="best", fontsize="small")
    if D == 2:  # the draws' lines are faint on purpose; their legend entries must not be
        for handle in legend.legend_handles:
            handle.set(alpha=1.0, linewidth=max(handle.get_linewidth(), 1.5))
    _clear_of_legend(ax)
    return fig


def _ellipse(mean: np.ndarray, cov: np.ndarray, n: int = 80) -> np.ndarray:
    """(n, 2) points on the ``ELLIPSE_LEVEL`` contour of N(mean, cov)."""
    radius = np.sqrt(stats.chi2.ppf(ELLIPSE_LEVEL, df=2))
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return mean + radius * circle @ np.linalg.cholesky(cov).T


def _overlay_2d(ax, X, em_means, em_covs, draw_means, draw_covs, titles, keep=None,
                em_weights=None) -> None:
    """The 2-D overlay in ``ax``: the data, each draw's and EM's ellipses, and limits that
    hold them (:func:`_axis_limits`, whole for components of ``em_weights`` that are not
    negligible); ``keep`` as in :func:`_claimed`."""
    size, alpha = _crowding(X.shape[0])
    ax.scatter(X[:, 0], X[:, 1], s=8 * size, color=_DATA_COLOR, alpha=alpha,
               edgecolors="none", zorder=1)
    S = draw_means.shape[0]
    K = em_means.shape[0]
    for k in range(K):
        for s in range(S):
            xy = _ellipse(draw_means[s, k], draw_covs[s, k])
            ax.plot(xy[:, 0], xy[:, 1], color=_component_color(k), alpha=0.25, lw=0.7,
                    zorder=2, label=f"{titles[k]}: posterior draws" if s == 0 else None)
    for k in range(K):
        xy = _ellipse(em_means[k], em_covs[k])
        style = _EM_STYLE if S else {**_EM_STYLE, "color": _component_color(k)}
        ax.plot(xy[:, 0], xy[:, 1], zorder=3, label="EM" if S and k == 0 else
                None if S else f"{titles[k]} (EM)", **style)
        ax.plot(*em_means[k], marker="x", color="black", markersize=8, zorder=4)
    ax.set(xlim=_axis_limits(X[:, 0], keep, em_weights, em_means[:, 0], em_covs[:, 0, 0],
                             draw_means[..., 0], draw_covs[..., 0, 0]),
           ylim=_axis_limits(X[:, 1], keep, em_weights, em_means[:, 1], em_covs[:, 1, 1],
                             draw_means[..., 1], draw_covs[..., 1, 1]))
    _note_outside(ax, X[:, 0], X[:, 1], keep)


def _ellipse_limits(limits: tuple[float, float], em_means: np.ndarray,
                    em_variances: np.ndarray, draw_means: np.ndarray,
                    draw_variances: np.ndarray, weights: np.ndarray | None = None,
                    free: bool = False) -> tuple[float, float]:
    """``limits`` (the data's) widened to hold, along one axis, the ``ELLIPSE_LEVEL``
    ellipses of EM's components (K,) and of the posterior draws (S, K).

    A wild draw still may not stretch the view: per component and side, a draw whose
    ellipse reaches beyond Tukey's far-out fence of the draws' reaches (the quartile plus
    3 interquartile ranges) is left out, so one stray draw in 50 does not shrink the others
    to a dot. EM's ellipses are held (the fit the figure is about) up to a quarter of the
    data's span beyond it on either side: a component that took a few gross outliers (its
    ellipse many times the clusters' size) runs off the axes rather than shrink the clusters.
    ``free`` (no point the Gaussians claim lies beyond the bulk on this axis, so none can have
    stretched an ellipse: :func:`_free_axis`): the ellipses of the components with
    ``weights`` of at least ``_NEGLIGIBLE_WEIGHT`` are held up to ``_FULL_REACH`` spans
    beyond it (whole, in practice: a spherical component over features of unequal scales is
    a circle much wider than the data, drawn as such, not as two flat arcs).
    """
    radius = np.sqrt(stats.chi2.ppf(ELLIPSE_LEVEL, df=2))  # as _ellipse draws them
    span = limits[1] - limits[0]
    held = np.full(em_means.shape, 0.25 * span)
    if free and weights is not None:
        heavy = np.asarray(weights)[:em_means.shape[0]] >= _NEGLIGIBLE_WEIGHT
        held[heavy] = _FULL_REACH * span
    em_half = radius * np.sqrt(em_variances)
    lows = [np.maximum(em_means - em_half, limits[0] - held)]
    highs = [np.minimum(em_means + em_half, limits[1] + held)]
    if draw_means.shape[0]:
        half = radius * np.sqrt(draw_variances)
        for reach, side in ((draw_means - half, -1.0), (draw_means + half, 1.0)):
            q1, q3 = np.quantile(side * reach, [0.25, 0.75], axis=0)  # per component
            tame = np.where(side * reach <= q3 + 3 * (q3 - q1), reach, np.nan)
            tame = np.clip(tame, limits[0] - held, limits[1] + held)
            (lows if side < 0 else highs).append(tame.ravel())
    lo, hi = np.nanmin(np.concatenate(lows)), np.nanmax(np.concatenate(highs))
    pad = 0.03 * (max(hi, limits[1]) - min(lo, limits[0]))  # the line clear of the frame
    return min(limits[0], lo - pad), max(limits[1], hi + pad)


# A component this light (weight) never widens the axes beyond a quarter of the data's span:
# one that took a gross outlier or two. Heavier ones may widen them up to _FULL_REACH spans.
_NEGLIGIBLE_WEIGHT = 0.01
_FULL_REACH = 4.0


def _free_axis(x: np.ndarray, keep: np.ndarray | None = None) -> bool:
    """Whether no point (of those in ``keep``, :func:`_claimed`) lies beyond the bulk of
    ``x`` (:func:`_bulk`): then no gross outlier can have stretched a component's ellipse
    along this axis, and the axes may widen to hold the ellipses whole."""
    ok = ~np.isnan(x) if keep is None else ~np.isnan(x) & keep
    return not np.any(ok & ~_bulk(x, keep))


def _axis_limits(x: np.ndarray, keep, weights, means, variances, draw_means=None,
                 draw_variances=None) -> tuple[float, float]:
    """One axis of a 2-D panel with ellipses: the bulk of the data (:func:`_limits`) widened
    to hold the components' ellipses (:func:`_ellipse_limits`)."""
    if draw_means is None:
        draw_means = draw_variances = np.empty((0, len(means)))
    return _ellipse_limits(_limits(x, keep), means, variances, draw_means, draw_variances,
                           weights, _free_axis(x, keep))


def _histogram(ax: Axes, x: np.ndarray, keep: np.ndarray | None, pad: float,
               alpha: float, outline: bool = False) -> tuple[float, float]:
    """A density histogram of ``x``'s observed values; the x-range it spans (padded).

    Only the bulk of the points (:func:`_bulk`; with ``keep``, :func:`_claimed`, of the
    points the Gaussians claim) is drawn, but per unit of all the points: the Gaussians'
    densities leave the noise's share out too, so the heights still compare; the far points
    are noted, not drawn."""
    observed = _observed(x)
    shown = x[_bulk(x, keep)]
    if shown.size < 2:  # the claimed points miss this feature: all of it, then
        shown = observed
    edges = np.histogram_bin_edges(shown, bins="auto")  # equal widths
    per_point = 1.0 / (observed.size * (edges[1] - edges[0]))
    style = ({"histtype": "stepfilled", "facecolor": "0.93", "edgecolor": "0.35", "lw": 1.0}
             if outline else {"color": _DATA_COLOR})  # outline: the data apart from a band
    ax.hist(shown, bins=edges, weights=np.full(shown.size, per_point), alpha=alpha,
            label="data", **style)
    return _robust_limits(shown, pad)


def _mixture_density(grid, weights, means, variances) -> np.ndarray:
    """Mixture density on ``grid`` for one (K,) or many (S, K) parameter sets."""
    sd = np.sqrt(variances)
    dens = weights[..., None] * stats.norm.pdf(grid, means[..., None], sd[..., None])
    return dens.sum(axis=-2)


def _overlay_1d(ax, x, em_w, em_m, em_v, draw_w, draw_m, draw_v, keep=None) -> None:
    """The 1-D overlay in ``ax``: histogram, EM's density and the draws' band; with ``keep``
    (:func:`_claimed`) over the points the Gaussians claim, far noise points noted."""
    # The data in outline (grey steps on a faint fill), unlike the posterior band's solid
    # grey: both filled grey, the band and the bars could not be told apart.
    grid = np.linspace(*_histogram(ax, x, keep, pad=0.1, alpha=1.0, outline=True), 400)
    if len(draw_w):
        draws = _mixture_density(grid, draw_w, draw_m, draw_v)
        tail = (1 - INTERVAL) / 2
        lo, hi = np.quantile(draws, [tail, 1 - tail], axis=0)
        ax.fill_between(grid, lo, hi, color=_MIXTURE_COLOR, alpha=0.25,
                        label=f"posterior {INTERVAL:.0%} band")
        ax.plot(grid, draws.mean(axis=0), color=_MIXTURE_COLOR, lw=1.5,
                label="posterior mean density")
    ax.plot(grid, _mixture_density(grid, em_w, em_m, em_v), label="EM", **_EM_STYLE)
    ax.set_xlim(grid[0], grid[-1])
    _note_outside(ax, x, keep=keep)


def _pair_grid(X, names, ax, pair, diag, features=None) -> Figure:
    """A lower-triangular grid: ``diag(ax, i)`` on the diagonal, ``pair(ax, i, j)`` below it
    (feature i on the y axis, j on the x axis), for ``features`` (default: all)."""
    if ax is not None:
        raise ValueError(f"a pair plot of {X.shape[1]} features needs its own figure; "
                         "leave ax=None")
    features = list(range(X.shape[1])) if features is None else list(features)
    n = len(features)
    fig, axes = _new_grid(n, n)
    for r, i in enumerate(features):
        for c, j in enumerate(features):
            a = axes[r, c]
            if r == c:
                diag(a, i)
            elif r > c:
                pair(a, i, j)
            else:
                a.set_axis_off()
                continue
            if r == n - 1:
                a.set_xlabel(names[j])
            if c == 0 and r > 0:
                a.set_ylabel(names[i])
    return fig


def _legend_below(fig: Figure, titles: list[str], n_gaussians: int, extra=()) -> None:
    """One legend for a whole grid: a patch per entry of ``titles`` (the components, and the
    noise at index ``n_gaussians`` when given), then ``extra`` handles."""
    from matplotlib.patches import Patch

    handles = [*(Patch(color=_component_color(k, n_gaussians), label=title)
                 for k, title in enumerate(titles)), *extra]
    # As many columns as fit the figure's width (at most 6): with long entries six columns
    # ran past both edges of the figure, the cut-off ends unreadable.
    for ncols in range(min(len(handles), 6), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=ncols,
                            fontsize="small")
        if ncols == 1 or legend.get_window_extent().width <= 0.97 * fig.bbox.width:
            return
        legend.remove()


# --------------------------------------------------------------------------------------------
# the fitted density and the classification (EM or posterior)
# --------------------------------------------------------------------------------------------
def _density_1d(grid, w, m, v) -> np.ndarray:
    """Mixture density on ``grid`` averaged over parameter sets: w, m, v (S, K)."""
    return _mixture_density(grid, w, m, v).mean(axis=0)


def _density_2d(points, w, m, c) -> np.ndarray:
    """Mixture density at ``points`` (P, 2) averaged over parameter sets (S, K, 2[, 2])."""
    inv = np.linalg.inv(c)
    det = np.linalg.det(c)
    d = points[None, None, :, :] - m[:, :, None, :]
    q = np.einsum("skpi,skij,skpj->skp", d, inv, d)
    dens = w[..., None] * np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(det))[..., None]
    return dens.sum(axis=1).mean(axis=0)


def _contours(ax, X2, w, m, c, n_grid: int = 150, keep: np.ndarray | None = None) -> None:
    """Density contours of a 2-D mixture over the data: the levels enclose about 25, 50, 75,
    90 and 95% of the data points (quantiles of the density at the points); with ``keep``
    (:func:`_claimed`), of the points the Gaussians claim, and the grid and the axes around
    them (the noise points' tiny densities would put the outer levels far beyond the axes,
    whose edges would then cut them into stray arcs). The axes hold the bulk of the data and
    the contours whole, up to a span beyond it each way (a quarter of one on an axis where
    gross outliers lie: :func:`_free_axis`); the grid covers that much."""
    xlim, ylim = _limits(X2[:, 0], keep), _limits(X2[:, 1], keep)
    wide = [(lo - r * (hi - lo), hi + r * (hi - lo))
            for (lo, hi), r in (((xlim), 1.0 if _free_axis(X2[:, 0], keep) else 0.25),
                                ((ylim), 1.0 if _free_axis(X2[:, 1], keep) else 0.25))]
    gx, gy = np.meshgrid(np.linspace(*wide[0], n_grid), np.linspace(*wide[1], n_grid))
    z = _density_2d(np.column_stack([gx.ravel(), gy.ravel()]), w, m, c).reshape(gx.shape)
    complete = ~np.isnan(X2).any(axis=1)  # a point missing a coordinate has no place here
    levelled = X2[complete if keep is None else complete & keep]
    drawn = X2[complete]
    at_points = _density_2d(levelled, w, m, c)
    levels = np.unique(np.quantile(at_points, [0.05, 0.10, 0.25, 0.50, 0.75]))
    size, alpha = _crowding(len(drawn))
    ax.scatter(drawn[:, 0], drawn[:, 1], s=6 * size, color=_DATA_COLOR, alpha=alpha,
               edgecolors="none", zorder=1)
    if len(levels) > 1:
        lines = ax.contour(gx, gy, z, levels=levels, cmap="viridis", linewidths=1.1, zorder=2)
        segments = [seg for level in lines.allsegs for seg in level if len(seg)]
        if segments:
            xy = np.concatenate(segments)
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            pad = 0.03 * np.array([xlim[1] - xlim[0], ylim[1] - ylim[0]])
            xlim = (min(xlim[0], lo[0] - pad[0]), max(xlim[1], hi[0] + pad[0]))
            ylim = (min(ylim[0], lo[1] - pad[1]), max(ylim[1], hi[1] + pad[1]))
    ax.set(xlim=xlim, ylim=ylim)
    _note_outside(ax, X2[:, 0], X2[:, 1], keep)


@_shared_docs
def plot_density(result: Any, X: Any = None, ax: Axes | None = None, *, n_draws: int = 100,
                 random_state: Any = 0) -> Figure:
    """The fitted mixture density over the data.

    2-D: contours over the scatter of the data (levels enclosing about 25, 50, 75, 90 and 95%
    of the points); 1-D: histogram, mixture density and each component's weighted density,
    with a rug of the data; D > 2: a pair grid with the marginal mixture on every pair and
    every feature. A posterior's density is the posterior predictive one (the average over
    ``n_draws`` draws); an EM fit's is the estimate's.

    Parameters
    ----------
    {result_and_data}
    {ax}
    n_draws : int
    random_state : int, optional
    """
    X = _fit_data(result, X)
    em = _em_of(result)
    names = em.feature_names
    w, m, c = _parameter_sets(result, n_draws, random_state)
    titles = _component_names(result, em.n_components)
    D = X.shape[1]
    # Capitalised by hand: str.capitalize() would lower-case "EM" to "Em".
    what = (f"Posterior predictive density ({w.shape[0]} draws)" if _is_bayes(result)
            else "EM mixture density")

    keep = _claimed(_membership(result, X), em.n_components) if em.noise else None
    points = "points" if keep is None else "Gaussians' points"

    def pair(a, i, j):
        idx = [j, i]
        _contours(a, X[:, idx], w, m[:, :, idx], c[:, :, idx][:, :, :, idx], keep=keep)

    def diag(a, i, legend=False):
        x = _observed(X[:, i])
        grid = np.linspace(*_histogram(a, X[:, i], keep, pad=0.08, alpha=0.5), 400)
        a.plot(grid, _density_1d(grid, w, m[:, :, i], c[:, :, i, i]), color=_MIXTURE_COLOR, lw=1.8,
               label="mixture")
        for k in range(w.shape[1]):
            comp = (w[:, k, None] * stats.norm.pdf(grid, m[:, k, i, None],
                                                   np.sqrt(c[:, k, i, i])[:, None])).mean(0)
            a.plot(grid, comp, color=_component_color(k), lw=1.2, ls="--",
                   label=titles[k])
        a.plot(x, np.zeros_like(x), "|", color="black", markersize=8, alpha=0.4)
        a.set_xlim(grid[0], grid[-1])
        _note_outside(a, X[:, i], keep=keep)
        if not legend:  # a pair grid's diagonal: its own scale, no room for numbers
            a.set_yticks([])
        if legend:
            a.legend(fontsize="small")

    if D > 2:
        from matplotlib.lines import Line2D

        shown = _pair_features(*_point_estimate(result))
        fig = _pair_grid(X, names, ax, pair, diag, shown)
        # Two lines: on one, a 3-feature grid clipped both ends of the title. A grid of more
        # than MAX_PAIR_FEATURES features is wide enough for the first two on one line.
        left = _features_line(names, shown, "the most separating")
        fig.suptitle(f"{what}; contours enclose about 25/50/75/90/95% of the {points}\n{left}"
                     if left else
                     f"{what};\ncontours enclose about 25/50/75/90/95% of the {points}")
        # the diagonal's dashed curves are the components: name them once for the grid
        _legend_below(fig, titles[:em.n_components], em.n_components,
                      [Line2D([], [], color=_MIXTURE_COLOR, lw=1.8, label="mixture")])
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:
        diag(ax, 0, legend=True)
        ax.set(xlabel=names[0], ylabel="density", title=what)
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1],
               title=f"{what}\ncontours enclose about 25/50/75/90/95% of the {points}")
    return fig


@_shared_docs
def plot_classification(result: Any, X: Any = None, ax: Axes | None = None, *,
                        proba: Any = None, labelled: Any = None) -> Figure:
    """Each point in the colour of its most probable component, sized by its uncertainty.

    Uncertainty is 1 - max_k P(k | x) (mclust's): large points are the ones the model is
    unsure about. The components' ``ELLIPSE_LEVEL`` ellipses (EM, or the posterior median) are
    drawn over them. 1-D: the points along the axis (jittered vertically) under the component
    densities. D > 2: a pair grid.

    Parameters
    ----------
    {result_and_data}
    {ax}
    {proba}
    labelled : bool array (N,), optional
        Points whose component was known (known labels): drawn with a black square.

    With a noise component the points most probably noise are black (``"noise"``).
    """
    X = _fit_data(result, X)
    em = _em_of(result)
    names = em.feature_names
    proba = _membership(result, X) if proba is None else np.asarray(proba.mean)
    K = proba.shape[1]  # K + 1 with a noise component (its column last)
    G = em.n_components
    assigned = np.argmax(proba, axis=1)
    uncertainty = 1.0 - proba.max(axis=1)
    size = 6 + 120 * np.clip(uncertainty / (1 - 1 / K), 0, 1) if K > 1 else np.full(len(X), 6)
    labelled = _per_point(labelled, "labelled", len(X))
    w, m, c = _point_estimate(result)
    titles = _component_names(result, G)
    keep = _claimed(proba, G)
    crowd, opacity = _crowding(len(X))
    size = size * crowd
    source = "the posterior median" if _is_bayes(result) else "the EM fit"

    def pair(a, i, j):
        for k in range(K):
            sel = assigned == k
            if k == G:  # noise: crosses, big enough to see at any uncertainty
                a.scatter(X[sel, j], X[sel, i], s=np.maximum(size[sel], 22 * crowd),
                          color=_component_color(k, G), alpha=0.8 * opacity, marker="x",
                          lw=0.9)
                continue
            a.scatter(X[sel, j], X[sel, i], s=size[sel], color=_component_color(k, G),
                      alpha=0.6 * opacity, edgecolors="none")
            xy = _ellipse(m[k, [j, i]], c[k][[j, i]][:, [j, i]])
            a.plot(xy[:, 0], xy[:, 1], color=_component_color(k), lw=1.2)
        _mark_labelled(a, X, labelled, j, i)
        a.set(xlim=_axis_limits(X[:, j], keep, w, m[:, j], c[:, j, j]),
              ylim=_axis_limits(X[:, i], keep, w, m[:, i], c[:, i, i]))
        _note_outside(a, X[:, j], X[:, i], keep)

    def diag(a, i):
        x = X[:, i]
        grid = np.linspace(*_limits(x, keep), 300)
        for k in range(G):
            a.plot(grid, w[k] * stats.norm.pdf(grid, m[k, i], np.sqrt(c[k, i, i])),
                   color=_component_color(k), lw=1.2)
        jitter = np.random.default_rng(0).uniform(-1, 1, len(x))
        top = a.get_ylim()[1]
        for k in range(K):
            sel = assigned == k
            a.scatter(x[sel], -0.08 * top + 0.04 * top * jitter[sel], s=size[sel],
                      color=_component_color(k, G), alpha=0.6 * opacity, edgecolors="none")
        if labelled is not None and np.any(labelled):
            sel = np.asarray(labelled, dtype=bool)
            a.scatter(x[sel], -0.08 * top + 0.04 * top * jitter[sel], s=46, marker="s",
                      facecolors="none", edgecolors="black", lw=0.6)
        a.set_xlim(grid[0], grid[-1])
        _note_outside(a, x, keep=keep)
        a.set_yticks([])

    title = "Classification: colour = most probable component, size = uncertainty"
    ellipses = f"{ELLIPSE_LEVEL:.0%} ellipses of {source}"
    if X.shape[1] > 2:
        shown = _pair_features(w, m, c)
        fig = _pair_grid(X, names, ax, pair, diag, shown)
        left = _features_line(names, shown, "the most separating")
        # two lines: a grid of more than MAX_PAIR_FEATURES features is wide enough for the
        # title and the ellipses on one
        fig.suptitle(f"{title}; {ellipses}\n{left}" if left else f"{title}\n{ellipses}")
        from matplotlib.lines import Line2D

        known = ([Line2D([], [], marker="s", ls="", markerfacecolor="none",
                         markeredgecolor="black", label="known label")]
                 if labelled is not None and np.any(labelled) else [])
        _legend_below(fig, titles[:K], G, known)
        return fig
    fig, ax = _new_axes(ax)
    if X.shape[1] == 1:
        diag(ax, 0)
        ax.set(xlabel=names[0], ylabel="weighted component density")
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1])
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="x" if k == G else "o", ls="",
                      color=_component_color(k, G), label=titles[k]) for k in range(K)]
    if labelled is not None and np.any(labelled):
        handles.append(Line2D([], [], marker="s", ls="", markerfacecolor="none",
                              markeredgecolor="black", label="known label"))
    if K > 1:  # with one component every point is certain: no sizes to explain
        handles += [Line2D([], [], marker="o", ls="", color="0.4",
                           markersize=np.sqrt((6 + 120 * u) * crowd),
                           label=f"uncertainty {u * (1 - 1 / K):.2g}") for u in (0.0, 0.5, 1.0)]
    ax.legend(handles=handles, fontsize="small", loc="best")
    # Two short lines: the long first line ran past a 6.4-inch figure's edge.
    ax.set_title("Classification: colour = most probable component,\n"
                 + ("size = uncertainty (1 - max probability)" if X.shape[1] == 1 else
                    f"size = uncertainty; {ellipses}"))
    _clear_of_legend(ax)
    return fig


def _per_point(values: Any, name: str, n: int) -> np.ndarray | None:
    """``values`` (one per point, e.g. ``labelled``, ``rows``) as an array, or a one-line
    ValueError naming the argument when their number is not the points' ``n``."""
    if values is None:
        return None
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != n:
        raise ValueError(f"{name}: expected one value per point ({n}), got shape "
                         f"{array.shape}")
    return array


# --------------------------------------------------------------------------------------------
# membership
# --------------------------------------------------------------------------------------------
@_shared_docs
def _membership_1d(result, x, ax, bayes, K, G, titles, name, labelled) -> Figure:
    """plot_membership for 1-D data. A posterior's intervals overlap where components do, so
    on a figure of its own each component gets a panel (one band each stays readable)."""
    grid = np.linspace(*_robust_limits(x, 0.05), 300)
    on_grid = result.predict_proba(grid[:, None])
    if ax is None and bayes and K > 1:
        fig = Figure(figsize=(6.4, 0.9 + 1.1 * K), layout="constrained")
        panels = list(fig.subplots(K, 1, sharex=True, sharey=True))
    else:
        fig, ax = _new_axes(ax)
        panels = [ax] * K
    sel = None if labelled is None else np.asarray(labelled, dtype=bool)
    for k, panel in enumerate(panels):
        colour = _component_color(k, G)
        if bayes:
            panel.fill_between(grid, on_grid.lower[:, k], on_grid.upper[:, k], color=colour,
                               alpha=0.25 if panels[0] is not panels[-1] else 0.18, lw=0)
        curve = on_grid.mean[:, k] if bayes else on_grid[:, k]
        panel.plot(grid, curve, color=colour, lw=1.8, label=titles[k])
        if k == K - 1 or panels[0] is not panels[-1]:  # the rug once per panel
            panel.plot(x, np.full_like(x, -0.03), "|", color="black", markersize=10, alpha=0.5,
                       label="data")
            if sel is not None and sel.any():
                panel.plot(x[sel], np.full(int(sel.sum()), -0.03), "s", markerfacecolor="none",
                           markeredgecolor="black", markersize=5, label="known label")
        panel.set(ylim=(-0.06, 1.03), xlim=(grid[0], grid[-1]))
    band = f" with its {on_grid.interval:.0%} interval" if bayes else ""
    title = f"Membership: P(k | x){' posterior mean' if bayes else ' (EM)'}{band}"
    panels[-1].set_xlabel(name)
    if panels[0] is panels[-1]:
        ax.set(ylabel="P(component | x)", title=title)
        ax.legend(fontsize="small", loc="center right")
    else:
        for k, panel in enumerate(panels):
            panel.set_ylabel(f"P({titles[k]})" if len(titles[k]) < 16 else f"P({k})",
                             fontsize="small")
        fig.suptitle(title, fontsize="medium")
    return fig


def plot_membership(result: Any, X: Any = None, ax: Axes | None = None, *,
                    proba: Any = None, n_uncertain: int = 10, labelled: Any = None,
                    rows: Any = None) -> Figure:
    """Points coloured by their most probable component, faded by how unsure that is.

    Opacity is the membership probability of the assigned component (solid: certain; faint:
    near 1/K). The ``n_uncertain`` most uncertain points (of those with both coordinates
    shown) are circled and labelled by row, as many as fit without overlap. The title says
    this in two short lines; a report's caption says the rest.
    1-D data: each component's P(k | x) as a smooth curve over x (posterior mean with its
    interval as a band, one panel per component unless ``ax`` is given; EM: the
    responsibilities), with a rug of the data. D > 2: the two
    features that separate the components most (:func:`plot_classification` shows them all).

    Parameters
    ----------
    {result_and_data}
    ax : Axes, optional
    {proba}
    n_uncertain : int
    labelled : bool array (N,), optional
        Points whose component was known: drawn with a black square.
    rows : int array (N,), optional
        The row number of each point in the caller's data (default: the fitted result's
        own, which skip the rows the fit dropped; else 0, 1, ...).

    With a noise component, P(noise | x) is one more curve (1-D) or category (black).
    """
    X = _fit_data(result, X)
    if isinstance(n_uncertain, bool) or not isinstance(n_uncertain, (int, np.integer)) \
            or n_uncertain < 0:
        raise ValueError(f"n_uncertain: expected an integer >= 0, got {n_uncertain!r}")
    labelled = _per_point(labelled, "labelled", len(X))
    rows = _per_point(rows, "rows", len(X))
    em = _em_of(result)
    names = em.feature_names
    bayes = _is_bayes(result)
    if bayes:
        proba = result.predict_proba(X) if proba is None else proba
        mean_p = proba.mean
    else:
        mean_p = result.predict_proba(X)
    K = mean_p.shape[1]  # K + 1 with a noise component (its column last)
    G = em.n_components
    titles = _component_names(result, G)
    if X.shape[1] == 1:
        return _membership_1d(result, X[:, 0], ax, bayes, K, G, titles, names[0], labelled)
    fig, ax = _new_axes(ax)
    if X.shape[1] > 2:
        i, j = _two_most_separating(*_point_estimate(result))
    else:
        i, j = 0, 1
    assigned = np.argmax(mean_p, axis=1)
    certainty = mean_p[np.arange(len(X)), assigned]
    # Map certainty from [1/K, 1] to opacity [0.1, 1]: a coin-flip point is nearly invisible.
    alpha = 0.1 + 0.9 * np.clip((certainty - 1 / K) / (1 - 1 / K), 0, 1) if K > 1 else \
        np.ones(len(X))
    crowd, opacity = _crowding(len(X))
    for k in range(K):
        sel = assigned == k
        if not sel.any():  # matplotlib refuses an empty array of opacities
            continue
        noise = k == G  # crosses: apart from the components' dots
        ax.scatter(X[sel, i], X[sel, j], s=(22 if noise else 18) * crowd,
                   color=_component_color(k, G), alpha=alpha[sel] * opacity,
                   marker="x" if noise else "o", lw=0.9 if noise else 0,
                   edgecolors=None if noise else "none", label=titles[k])
    _mark_labelled(ax, X, labelled, i, j)
    rows = _row_numbers(result, len(X)) if rows is None else rows
    keep = _claimed(mean_p, G)
    ax.set(xlim=_limits(X[:, i], keep), ylim=_limits(X[:, j], keep))
    _note_outside(ax, X[:, i], X[:, j], keep)
    shown = np.flatnonzero(np.isfinite(X[:, i]) & np.isfinite(X[:, j]))  # both coordinates
    circled, spaced = _spread_uncertain(ax, X[:, [i, j]], shown[np.argsort(certainty[shown])],
                                        n_uncertain)
    if circled.size:
        ax.scatter(X[circled, i], X[circled, j], s=70, facecolors="none", edgecolors="black",
                   lw=0.8)
    ax.set(xlabel=names[i], ylabel=names[j])
    # Two short lines (QA: wrapped, the title ran to five); the figure's caption explains.
    if X.shape[1] == 2:
        heading = "Membership: opacity = P(assigned component)"
    else:  # the pair by name when that fits on one line (the axes name it too)
        heading = _fitting_line(ax, (
            f"Membership of {names[i]} and {names[j]} (the most separating pair)",
            "Membership: the most separating pair of features"))
    def title(n_labelled: int) -> None:
        _membership_title(ax, heading, circled.size, n_labelled)
        if spaced:  # not the most uncertain points strictly: say so
            ax.set_title(ax.get_title().replace("uncertain points", "uncertain points, spaced"))

    title(circled.size)
    # a legend's marker shows the colour, not the opacity of its first point
    from matplotlib.lines import Line2D

    handles, texts = ax.get_legend_handles_labels()
    ax.legend([Line2D([], [], marker="x" if t == titles[G] else "o", ls="",
                      color=_component_color(titles.index(t), G))
               if t in titles else h for h, t in zip(handles, texts, strict=True)], texts,
              fontsize="small")
    _clear_of_legend(ax)
    # Last: the labels are placed on the finished layout (title, legend, limits).
    written = _label_points(ax, X[circled][:, [i, j]], [str(rows[n]) for n in circled])
    if written < circled.size:
        title(written)
    return fig


# Circled points (:func:`_spread_uncertain`) keep at least this distance apart, as a share of
# the panel (its width and height each scaled to 1).
_CIRCLE_SPACING = 0.04


def _spread_uncertain(ax: Axes, xy: np.ndarray, order: np.ndarray,
                      n: int) -> tuple[np.ndarray, bool]:
    """The first ``n`` of the points ``order`` (most uncertain first) that lie at least
    ``_CIRCLE_SPACING`` of the panel from every one taken before: at 20,000 points the ten
    most uncertain sat on one spot, their circles one blot. Returns (rows taken, whether a
    point was passed over for being too close)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    scaled = (xy - [x0, y0]) / [x1 - x0, y1 - y0]
    taken: list[int] = []
    passed = False
    for row in order:
        if len(taken) >= n:
            break
        if taken and np.min(np.hypot(*(scaled[taken] - scaled[row]).T)) < _CIRCLE_SPACING:
            passed = True
            continue
        taken.append(int(row))
    return np.asarray(taken, dtype=int), passed


def _membership_title(ax: Axes, heading: str, n_circled: int, n_labelled: int) -> None:
    """A membership figure's title: ``heading``, then what the circles mark (and how many of
    them carry their row's label, when not all: the others' labels would overlap)."""
    labelled = "" if n_labelled == n_circled else f" ({n_labelled} labelled)"
    ax.set_title(f"{heading}\ncircled: the {n_circled} most uncertain points{labelled}")


def _fitting_line(ax: Axes, lines: tuple[str, ...]) -> str:
    """The first of ``lines`` no wider, as ``ax``'s title, than the room a centred title has
    in the figure (measured on the figure's layout); the last when none is."""
    fig = ax.get_figure(root=True)
    fig.draw_without_rendering()  # the layout: where the axes (the title's centre) are
    box, width = ax.get_window_extent(), fig.bbox.width
    centre = 0.5 * (box.x0 + box.x1)
    room = 2 * min(centre, width - centre) - 0.04 * width  # a margin either side
    for line in lines:
        ax.set_title(line)
        if ax.title.get_window_extent().width <= room:
            return line
    return lines[-1]


# Where a point's label may go, in order of preference: (offset in points, ha, va).
_LABEL_PLACES = (((4, 4), "left", "bottom"), ((-4, 4), "right", "bottom"),
                 ((4, -4), "left", "top"), ((-4, -4), "right", "top"))


# Labels a membership figure writes at most (the most uncertain points first): more
# crowded the dense centre of the clusters, where the uncertain points lie.
_MAX_LABELS = 6


def _label_points(ax: Axes, xy: np.ndarray, labels: list[str], marker: float = 70.0) -> int:
    """Write ``labels[n]`` beside the point ``xy[n]`` (data coordinates), without overlap.

    The points come in order of importance: each label takes the first place around its
    point (:data:`_LABEL_PLACES`) whose box overlaps no label already written and, if
    possible, stays inside the axes; a label with no such place is left out, so when close
    points crowd, the most important keep their labels rather than all printing over each
    other. A label also keeps clear of the other points' markers (``marker``: their size,
    in points squared, as ``scatter``'s ``s``) and of the legend, and at most
    :data:`_MAX_LABELS` are written. Boxes are measured on the figure's finished layout (one
    draw, no rendering), so add the title and legend first. Returns how many labels were
    written.
    """
    if not len(labels):
        return 0
    fig = ax.get_figure(root=True)
    fig.draw_without_rendering()  # lay the figure out: the boxes are measured in pixels
    inside = ax.get_window_extent()
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    taken: list[Any] = []
    legend = ax.get_legend()
    blocked = [] if legend is None else [legend.get_window_extent()]
    from matplotlib.transforms import Bbox

    radius = 0.5 * np.sqrt(marker) * fig.dpi / 72  # a marker's radius, in pixels
    centres = ax.transData.transform(xy)
    circles = [Bbox.from_extents(cx - radius, cy - radius, cx + radius, cy + radius)
               for cx, cy in centres]
    for n, ((x, y), text) in enumerate(zip(xy, labels, strict=True)):
        if len(taken) >= _MAX_LABELS:
            break
        if not (x0 <= x <= x1 and y0 <= y <= y1):  # off the axes: not drawn, no label
            continue
        others = [c for m, c in enumerate(circles) if m != n]
        fits = []
        for offset, ha, va in _LABEL_PLACES:
            note = ax.annotate(text, (x, y), xytext=offset, textcoords="offset points",
                               fontsize=7, ha=ha, va=va)
            box = note.get_window_extent().expanded(1.05, 1.1)  # a little air between
            note.remove()
            if not any(box.overlaps(other) for other in [*taken, *blocked, *others]):
                fits.append((not inside.contains(box.x0, box.y0)
                             or not inside.contains(box.x1, box.y1), offset, ha, va, box))
        if fits:
            _, offset, ha, va, box = min(fits, key=lambda f: f[0])  # inside first, stable
            ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", fontsize=7,
                        ha=ha, va=va)
            taken.append(box)
    return len(taken)


def _two_most_separating(weights, means, covariances) -> tuple[int, int]:
    """The pair of features whose 2-D view separates the components best.

    Every pair of features is scored by :func:`_pair_separation` and the best pair taken.
    Scoring features one at a time and taking the two best is not the same: two features
    that each set one component far apart can both leave two others on top of each other,
    while a pair that separates them only jointly (along a correlated direction) scores low
    feature by feature.
    """
    D = means.shape[1]
    if D < 2:
        return 0, 0
    pairs = np.array([(i, j) for i in range(D) for j in range(i + 1, D)])
    score = _pair_separation(means, covariances, pairs)
    i, j = pairs[int(np.argmax(score))]  # the first best: ties keep the features' order
    return int(i), int(j)


def _pair_separation(means: np.ndarray, covariances: np.ndarray,
                     pairs: np.ndarray) -> np.ndarray:
    """How well the components separate in each 2-D view ``pairs`` (P, 2) of the features.

    For two components, the squared Mahalanobis distance between their projected means under
    their averaged projected covariance (the mean term of the Bhattacharyya distance, which
    bounds how much two Gaussians' points mix). Only the means' term: two components with
    the same mean and different spreads still lie on top of each other in a scatter plot.
    A view is as good as its worst-separated pair of components (the one that would show
    as one cloud), so the score is the minimum over component pairs; (P,) scores, higher is
    better. One component: every view scores 0.
    """
    K = means.shape[0]
    a, b = np.triu_indices(K, k=1)
    if a.size == 0:
        return np.zeros(len(pairs))
    m = means[:, pairs]  # (K, P, 2)
    c = covariances[:, pairs[:, :, None], pairs[:, None, :]]  # (K, P, 2, 2)
    delta = m[a] - m[b]  # (Q, P, 2) over the Q component pairs
    average = 0.5 * (c[a] + c[b])
    # pinv, not solve: a collapsed component (zero variance in a view) must not fail a figure
    distance = np.einsum("qpi,qpij,qpj->qp", delta, np.linalg.pinv(average), delta)
    return distance.min(axis=0)


# --------------------------------------------------------------------------------------------
# diagnostics (ArviZ) and posterior predictive check
# --------------------------------------------------------------------------------------------
def plot_trace(result: BayesResult, var_names=_DIAGNOSED,
               ax: Axes | None = None, max_scalars: int | None = TRACE_MAX_SCALARS) -> Figure:
    """Trace and per-chain densities (``arviz.plot_trace_dist``), one colour per chain with a
    chain legend; of the ``var_names`` the posterior has (the noise weight with a noise
    component).

    With more than ``max_scalars`` scalars (None: no limit) only the ``max_scalars`` with the
    lowest bulk ESS are drawn, in their usual order, and the title says so: a row per scalar
    ran to 36 rows (7,000 pixels) at K=6, D=5, and the slowest-mixing scalars are the ones a
    trace plot is for (the rank plot and the tables show every one). Each scalar is named as
    in the tables (``means[1, x2]``), a long feature name shortened in its middle ("…").

    ArviZ lays out its own grid of panels: in a new figure, or, with ``ax`` (a subplot, e.g.
    one of ``plt.subplots``), in that subplot's place in its figure (``ax`` itself is removed).
    Returns the figure (the root figure when ``ax`` is given).
    """
    import arviz as az
    import xarray as xr
    from arviz_base import rc_context

    result = _posterior_result(result, "plot_trace")
    post = result.idata["posterior"].to_dataset()
    var_names = _diagnosed_variables(post, var_names)
    max_scalars = _scalar_limit(max_scalars)
    total = sum(int(np.prod(post[v].shape[2:])) for v in var_names)
    keep = total if max_scalars is None else min(total, max_scalars)
    # One variable per scalar, named as in the tables: ArviZ's own labels ("means\n0, x2")
    # wrote a long feature name in full down the trace panels' y axes, into one block.
    shown = _lowest_ess_scalars(post, var_names, keep)
    groups = {"posterior": shown}
    if "sample_stats" in result.idata.children:  # ArviZ marks the divergent draws
        groups["sample_stats"] = result.idata["sample_stats"].to_dataset()
    tree, names, title = xr.DataTree.from_dict(groups), list(shown.data_vars), None
    if keep < total:
        title = (f"The {keep} of {total} scalars with the lowest bulk ESS (the rank "
                 "plot and the tables show every one)")
    # Two panels per scalar; ArviZ refuses more than rcParams["plot.max_subplots"] (40),
    # which K + K D > 20 scalars exceed (K = 8 in 2-D, D = 8 with K = 3).
    panels = 2 * keep
    with warnings.catch_warnings(), _arviz_grid(ax) as figure_kwargs, \
            rc_context({"plot.max_subplots": max(panels, 40)}):
        warnings.simplefilter("ignore")
        # Not compact: the means of different features live on different scales.
        pc = az.plot_trace_dist(tree, var_names=names, backend="matplotlib", compact=False,
                                figure_kwargs=figure_kwargs)
        _chain_legend(pc)
    own = pc.viz["figure"].item()
    _trace_labels(own, names, keep)
    if title:
        own.suptitle(title, fontsize="medium")
    return own.get_figure(root=True)


def _trace_labels(own: Any, names: list[str], rows: int) -> None:
    """The trace panels' y labels: ArviZ's, rotated, when every one fits in 60% of a row's
    height; else all across, the coordinates on a second line, in a smaller font: rotated,
    long ones ran into the rows above and below."""
    root = own.get_figure(root=True)
    row = root.get_size_inches()[1] * own.bbox.height / root.bbox.height / max(rows, 1)
    fits = int(0.6 * row * 72 / 6.0)  # characters of a 10 pt label along 60% of a row
    panels = [p for p in own.axes if p.get_ylabel() in names]
    if all(len(p.get_ylabel()) <= fits for p in panels):
        return
    for panel in panels:
        name, bracket, coords = panel.get_ylabel().partition("[")
        panel.set_ylabel(f"{name}\n[{coords}" if bracket else name, rotation=0, ha="right",
                         va="center", fontsize="small")


def _posterior_result(result: Any, figure: str) -> Any:
    """The BayesResult a posterior's figure draws (a fitted BayesianGMM's ``result_``), or a
    one-line error that says what draws an EM fit instead."""
    if not _is_bayes(result) and _is_bayes(getattr(result, "result_", None)):
        return result.result_
    if _is_bayes(result):
        return result
    raise ValueError(f"{figure} needs a posterior (a BayesResult from fit_bayes, or a fitted "
                     f"BayesianGMM); got {type(result).__name__}: for an EM fit, "
                     "plot_overlay, plot_classification, plot_density or plot_membership "
                     "draw its estimate")


def _diagnosed_variables(post: Any, var_names: Any) -> list[str]:
    """The ``var_names`` the posterior has (the noise weight only with a noise component), or
    a one-line error naming the valid ones."""
    var_names = [var_names] if isinstance(var_names, str) else list(var_names)
    valid = list(post.data_vars)
    unknown = [v for v in var_names if v not in valid and v not in _DIAGNOSED]
    present = [v for v in var_names if v in valid]
    if unknown or not present:
        raise ValueError(f"var_names: {', '.join(map(repr, unknown or var_names))} not in "
                         f"the posterior; valid names: {', '.join(valid)}")
    return present


def _scalar_limit(value: Any) -> int | None:
    """``max_scalars``: a whole number >= 1, or None (no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"max_scalars must be an integer >= 1 (or None: every scalar); "
                         f"got {value!r}")
    return int(value)


def _ellipsize(text: Any, width: int) -> str:
    """``text`` in at most ``width`` characters: its middle replaced by "…" when longer (the
    start and the end of a name tell names apart more often than its middle), whole words
    dropped when the first and the last word fit, else characters."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    words = text.split(" ")
    head, tail = [], []
    while len(head) + len(tail) < len(words):  # a word from the start, one from the end, ...
        side, word = ((head, words[len(head)]) if len(head) <= len(tail)
                      else (tail, words[len(words) - 1 - len(tail)]))
        side.insert(len(side) if side is head else 0, word)
        if len(" ".join(head)) + 3 + len(" ".join(tail)) > width:
            side.remove(word)
            break
    if head and tail:
        return " ".join(head) + " \u2026 " + " ".join(tail)
    head = width // 2
    tail = width - 1 - head
    return text[:head].rstrip() + "\u2026" + text[len(text) - tail:].lstrip()


def _wrap(text: Any, width: int, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of at most ``width`` characters: wrapped at spaces,
    shortened in its middle ("…") when it does not fit."""
    import textwrap

    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    budget = width * lines
    while budget > width:  # words kept whole: "choles / terol" read as two words
        parts = textwrap.wrap(_ellipsize(text, budget), width, break_on_hyphens=False,
                              break_long_words=False)
        if len(parts) <= lines and max(map(len, parts)) <= width:
            return "\n".join(parts)
        budget -= 2
    return _ellipsize(text, width)


def _lowest_ess_scalars(post: Any, var_names: list[str], keep: int,
                        first: dict[str, float] | None = None) -> Any:
    """The ``keep`` scalars of ``var_names`` with the lowest bulk ESS (with ``first``, a value
    per table label such as a p-value: the smallest of those first, the ESS among equals),
    each a variable of its own, in the variables' element order.

    Named like the tables (``means[1, x2]``), a long feature name shortened in its middle
    ("…"), a "/" written "∕" (a DataTree refuses it in a name: "mg/dL" failed the trace plot);
    each variable's ``attrs["label"]`` is the table's label."""
    import arviz as az
    import xarray as xr

    from .diagnostics import _element_label

    ess = az.ess(post[var_names], method="bulk")
    entries = []  # (first, ESS, position, label, shown, draws)
    taken: set[str] = set()
    for name in var_names:
        da = post[name].transpose("chain", "draw", ...)
        extra = da.dims[2:]
        for index in np.ndindex(*da.shape[2:]):
            at = dict(zip(extra, index, strict=True))
            value = float(ess[name].isel(at)) if extra else float(ess[name])
            label = _element_label(da, index, extra)
            coords = [_ellipsize(da[d].values[i] if d in da.coords else i, _NAME_CHARS)
                      for d, i in zip(extra, index, strict=True)]
            shown = (f"{name}[{', '.join(coords)}]" if coords else name).replace("/", "\u2215")
            while shown in taken:  # two long names alike at both ends
                shown += "\u2032"
            taken.add(shown)
            p = (first or {}).get(label, np.nan)
            entries.append((p if np.isfinite(p) else np.inf,
                            value if np.isfinite(value) else np.inf, len(entries), label,
                            shown, da.isel(at)))
    chosen = sorted(sorted(entries, key=lambda e: e[:3])[:keep], key=lambda e: e[2])
    return xr.Dataset({shown: xr.DataArray(draws.to_numpy(), dims=("chain", "draw"),
                                           attrs={"label": label})
                       for *_, label, shown, draws in chosen},
                      coords={d: post[d].to_numpy() for d in ("chain", "draw")})


def plot_rank(result: BayesResult, var_names=_DIAGNOSED,
              ax: Axes | None = None, pvalues: dict[str, float] | None = None,
              max_scalars: int | None = RANK_MAX_SCALARS) -> Figure:
    """Fractional rank ECDF per chain (``arviz.plot_rank``), with a chain legend.

    Each line is one chain's ECDF of the fractional ranks of its draws among all chains'
    draws, minus the uniform ECDF: flat near zero when the chains sample the same
    distribution. Thinned and at the per-scalar level of
    :func:`bayesgmm.diagnostics.diagnose`'s rank check (family-wise 0.01, Bonferroni), so a
    panel is flagged exactly when that check fails. ArviZ lays out its own grid: in a new
    figure, or in the place of the subplot ``ax`` (removed), as in :func:`plot_trace`.
    ``pvalues``: the rank check's own p-values (:attr:`Diagnostics.rank_pvalues` of these
    variables), when the caller has them: the test is the costliest part of the figure.

    With more than ``max_scalars`` scalars (None: no limit) only the ``max_scalars`` with the
    smallest rank p-values (the lowest bulk ESS among equal ones) are drawn, in their usual
    order, and the title says so: 54 scalars (D=8, K=6) exceeded ArviZ's 40 panels. The
    level stays the check's, over every scalar. Each panel is named as in the tables, a long
    feature name shortened; a flagged panel has a red frame.
    """
    import arviz as az
    import xarray as xr
    from arviz_base import rcParams

    from .diagnostics import rank_test_draws, rank_uniformity_pvalues

    result = _posterior_result(result, "plot_rank")
    post = result.idata["posterior"].to_dataset()
    present = _diagnosed_variables(post, var_names)
    max_scalars = _scalar_limit(max_scalars)
    family = 1.0 - float(rcParams["stats.envelope_prob"])
    # The very draws the rank check tests (thinned, at most RANK_TEST_MAX_DRAWS per chain).
    draws = rank_test_draws(post[present])
    if pvalues is None:  # the verdict's own (Diagnostics.rank_pvalues): the same test
        pvalues = rank_uniformity_pvalues(draws, thinned=True)
    # The check's per-scalar (Bonferroni) level: over the scalars with a p-value (a constant
    # one, K=1's weight, has none).
    tested_scalars = sum(np.isfinite(p) for p in pvalues.values())
    level = family / max(tested_scalars, 1)
    total = sum(int(np.prod(draws[v].shape[2:])) for v in present)
    keep = total if max_scalars is None else min(total, max_scalars)
    # One variable per scalar (named as in the tables, a long feature name shortened): the
    # panels to draw, and their titles to match the p-values by.
    shown = _lowest_ess_scalars(draws, present, keep, first=pvalues)
    tested = xr.DataTree.from_dict({"posterior": shown})
    with warnings.catch_warnings(), _arviz_grid(ax) as figure_kwargs:
        warnings.simplefilter("ignore")
        # ArviZ's test (mtc_c) draws no band; its y limits are the DKW bound at the test's
        # level (x 1.3): kept as an axis, they are the scale a reader judges a line by.
        pc = az.plot_rank(tested, var_names=list(shown.data_vars), backend="matplotlib",
                          thin=False, envelope_prob=1.0 - level, figure_kwargs=figure_kwargs,
                          visuals={"remove_axis": False})
        _chain_legend(pc)
    own = pc.viz["figure"].item()  # the grid's figure (a SubFigure with ``ax``)
    figure = own.get_figure(root=True)
    _rank_pvalue_texts(own, {name: pvalues.get(da.attrs["label"], np.nan)
                             for name, da in shown.data_vars.items()}, level)
    heading = (f"Rank ECDF per chain; p-value of the rank test, flagged (red) below "
               f"{level:.2g} (family-wise {family:.2g}, Bonferroni over {tested_scalars} "
               "scalars)")
    if keep < total:
        heading += (f"\nThe {keep} of {total} scalars with the smallest rank p-values "
                    "(the tables show every one)")
    own.suptitle(heading, fontsize="medium")
    for panel in own.axes:
        if panel.get_title():  # a rank panel (not the legend's)
            panel.axhline(0.0, color="0.6", lw=0.6, zorder=0)
            panel.tick_params(axis="y", labelsize="x-small")
            panel.set_title(_wrap(panel.get_title(), _panel_characters(own, panel)),
                            fontsize="medium")
    if own.axes:
        own.supylabel("chain's rank ECDF - uniform ECDF", fontsize="small")
    return figure


def _panel_characters(own: Any, panel: Axes, points_per_character: float = 6.5) -> int:
    """Characters of a 10 pt title that fit across ``panel``'s cell of its grid (a title
    wider than its panel ran into its neighbours' and the legend)."""
    spec = panel.get_subplotspec()
    columns = spec.get_gridspec().ncols if spec is not None else 1
    width = own.bbox.width / own.get_figure(root=True).dpi * 72 / columns
    return max(int(0.9 * width / points_per_character), 12)


def _rank_pvalue_texts(figure: Any, pvalues: dict[str, float], level: float) -> None:
    """ArviZ writes each panel's p-value as "p=0.00(α=0.00)", two decimals that show neither
    a small p nor a Bonferroni level: write the p-value to two significant digits (the
    p-values the rank check computed, matched to the panels by their titles,
    "name\ncoordinates" or a scalar's own name), red with "flagged" when below ``level``
    (which the figure's title gives once), inside the panel's top left corner (ArviZ's sat
    on the frame); a flagged panel gets a red frame, to be seen at a glance."""

    for ax in figure.axes:
        name, _, coords = ax.get_title().partition("\n")
        p = pvalues.get(f"{name}[{coords}]" if coords else name)
        p = None if p is None or not np.isfinite(p) else p
        for text in ax.texts:
            if text.get_text().startswith("p="):
                flagged = p is not None and p < level
                shown = f"p={p:.2g}" if p is not None else text.get_text().split("(")[0]
                text.set_text(f"{shown} (flagged)" if flagged else shown)
                text.set(transform=ax.transAxes, position=(0.02, 0.96), ha="left", va="top",
                         fontsize="x-small", color="red" if flagged else "0.2", clip_on=True)
                if flagged:
                    for spine in ax.spines.values():
                        spine.set(visible=True, color="red", linewidth=2.0)


def _row_numbers(result: Any, n: int) -> np.ndarray:
    """How the caller names each of the ``n`` fitted points: a posterior stores it (its index
    label, else its row number; rows the fit dropped are skipped); otherwise 0, 1, ..."""
    rows = getattr(result, "row_names", None)
    return rows if rows is not None and len(rows) == n else np.arange(n)


@contextlib.contextmanager
def _arviz_grid(ax: Axes | None) -> Iterator[dict[str, Any]]:
    """The ``figure_kwargs`` for an ArviZ grid plot, which then lays out its panels in a new
    figure (``ax=None``) or in the place of the subplot ``ax``.

    ArviZ's matplotlib backend makes every grid with ``pyplot.subplots`` (a new figure; its
    ``figure_kwargs`` cannot name an existing one). With ``ax``, its grid-making function is
    replaced, for this call only, by one that puts the grid in a SubFigure over ``ax``'s
    subplot spec: the rest of ArviZ's drawing (aesthetics, legends) is unchanged.
    """
    if ax is None:
        yield {"layout": "constrained"}
        return
    spec = ax.get_subplotspec() if isinstance(ax, Axes) else None
    if spec is None:
        raise ValueError("ax must be a subplot (an Axes from plt.subplots or "
                         "fig.add_subplot) whose place the grid of panels takes; "
                         f"got {type(ax).__name__}")
    from arviz_plots.backend import matplotlib as backend

    parent = ax.get_figure(root=False)
    ax.remove()
    sub = parent.add_subfigure(spec)
    make_grid = backend.create_plotting_grid

    def in_place(number, rows=1, cols=1, *, squeeze=True, sharex=False, sharey=False,
                 **unused):
        axes = sub.subplots(rows, cols, squeeze=squeeze, sharex=sharex, sharey=sharey)
        for extra in np.ravel(axes)[number:]:
            extra.set_axis_off()
        return sub, axes

    backend.create_plotting_grid = in_place
    try:
        yield {}
    finally:
        backend.create_plotting_grid = make_grid


def _chain_legend(pc) -> None:
    try:
        pc.add_legend("chain", loc="outside right upper")
    except (TypeError, AttributeError, ValueError):  # an older arviz-plots: no chain legend
        pass


def plot_energy(result: BayesResult, ax: Axes | None = None) -> Figure:
    """Marginal energy against energy transition distributions (``arviz.plot_energy``), with
    E-BFMI per chain: similar widths mean the sampler moves freely across energy levels. In a
    new figure, or in the place of the subplot ``ax`` (removed), as in :func:`plot_trace`.
    The title, the axis labels and the key say what is drawn, and the dashed line (E-BFMI
    0.3, below which the sampler explores the energy levels poorly)."""
    import arviz as az

    result = _posterior_result(result, "plot_energy")
    with warnings.catch_warnings(), _arviz_grid(ax) as figure_kwargs:
        warnings.simplefilter("ignore")
        pc = az.plot_energy(result.idata, backend="matplotlib", figure_kwargs=figure_kwargs)
    own = pc.viz["figure"].item()
    threshold = []
    for panel in own.axes:
        if panel.get_ylabel().lower() == "chain":  # E-BFMI: one row per chain, no chain 0.5
            panel.yaxis.set_major_locator(MaxNLocator(integer=True))
            panel.set(title="E-BFMI per chain", xlabel="E-BFMI", ylabel="chain")
            threshold = [line for line in panel.lines if line.get_linestyle() == "--"]
        else:
            panel.set(xlabel="energy (centred)")
    _energy_key(own, threshold[:1])
    own.suptitle("Marginal energy against energy transitions (draw to draw)\nsimilar "
                 "widths: the sampler moves freely across energy levels", fontsize="medium")
    return own.get_figure(root=True)


def _energy_key(own: Any, threshold: list) -> None:
    """ArviZ's key ("marginal", "transition") in words, with the E-BFMI panel's dashed line."""
    names = {"marginal": "marginal energy", "transition": "energy transition"}
    handles, labels = [], []
    for key in list(own.legends):
        handles += list(key.legend_handles)
        labels += [names.get(t.get_text(), t.get_text()) for t in key.get_texts()]
        key.remove()
    handles += threshold
    labels += ["E-BFMI 0.3: below it, poor\nexploration (a problem)"] * len(threshold)
    if handles:  # lower: the title (wider than a subplot's place) ran into it at the top
        own.legend(handles, labels, loc="outside right lower", fontsize="small")


def plot_forest(result: BayesResult, interval: float = INTERVAL, axes: Any = None) -> Figure:
    """Forest plot of the weights and of the means of every feature, EM beside the posterior.

    One panel per quantity (weights; the means of each feature, on its own scale); one row per
    component: the posterior median (dot), 50% interval (thick) and ``interval`` equal-tailed
    interval (thin), and the EM estimate (black x). A means panel whose intervals would be
    narrower than the markers (well separated components: the axis spans the spread between
    them) shows each row about its own posterior median ("mean of x - its posterior
    median", the median in the row's label), so that the intervals and EM's distance show.

    Parameters
    ----------
    result : BayesResult
    interval : float
        A probability in (0, 1).
    axes : sequence of Axes, optional
        1 + D axes (weights, then the means of each feature); the figure is then the
        caller's, and nothing is drawn outside these axes (the key goes in the first).
    """
    result = _posterior_result(result, "plot_forest")
    if isinstance(interval, bool) or not isinstance(interval, int | float) \
            or not 0.0 < interval < 1.0:
        raise ValueError(f"interval is a probability in (0, 1), e.g. 0.94; got {interval!r}")
    post = result.posterior
    em = result.em
    names = result.feature_names
    K, D = em.n_components, em.n_features
    given = axes is not None
    if given:
        axes = _given_axes(axes, 1 + D, "plot_forest", f"1 + D = {1 + D} axes (the weights, "
                           "then the means of each feature)")
    weights, em_weights = post["weights"].values.reshape(-1, K), em.weights
    if "noise_weight" in post:  # a row of its own in the weights' panel, in the noise colour
        weights = np.c_[weights, post["noise_weight"].values.reshape(-1)]
        em_weights = np.r_[em_weights, em.noise_weight]
    panels = [("weights", weights, em_weights)]
    panels += [(f"mean of {f}", post["means"].values.reshape(-1, K, D)[:, :, i], em.means[:, i])
               for i, f in enumerate(names)]
    q = (1 - interval) / 2
    # All the means' panels centred, or none: one way of reading them.
    centred = any(_hidden_intervals(np.quantile(draws, [q, 1 - q], axis=0), em_value)
                  for _, draws, em_value in panels[1:])
    if not given:
        n = len(panels)
        cols = min(n, 4)
        # + 2.1 inches: the titles, the tick labels and the key below the panels; wider
        # columns for the centred panels' longer row labels ("component 0: 0.00883")
        fig = Figure(figsize=((3.6 if centred else 3.2) * cols,
                              0.35 * K * ((n + cols - 1) // cols) + 2.3),
                     layout="constrained")
        axes = fig.subplots((n + cols - 1) // cols, cols, squeeze=False).ravel()
        for a in axes[n:]:
            a.set_axis_off()
    else:
        fig = axes[0].figure
    titles = _component_names(result, K)
    for a, (title, draws, em_value) in zip(axes, panels, strict=False):
        # A feature's name over at most two lines, shortened in its middle: one title as
        # wide as its panel's row labels and bars ran into the next panel's and off the
        # figure's edge ("mean of x2 − its posterior median" at D=5 already).
        title = _wrap(title, 24)
        n = draws.shape[1]  # K, or K + 1 with the noise weight (index K)
        rows = np.arange(n)[::-1]
        lo, q25, med, q75, hi = np.quantile(draws, [q, 0.25, 0.5, 0.75, 1 - q], axis=0)
        labels = titles[:n]
        if title != "weights" and centred:
            # Each interval would hide under its marker (the axis spans the spread between
            # the components): every row about its own posterior median, which its label
            # gives, on the scale of the intervals.
            lo, q25, q75, hi, em_value = (v - med for v in (lo, q25, q75, hi, em_value))
            labels = [f"{t}: {m:.3g}" for t, m in zip(labels, med, strict=True)]
            med = np.zeros_like(med)
            title = f"{title}\n\u2212 its posterior median"
            a.axvline(0.0, color="0.7", lw=0.6, zorder=0)
        for k in range(n):
            colour = _component_color(k, K)
            a.plot([lo[k], hi[k]], [rows[k]] * 2, color=colour, lw=1.2)
            a.plot([q25[k], q75[k]], [rows[k]] * 2, color=colour, lw=4)
            a.plot(med[k], rows[k], "o", color="white", mec=colour, markersize=5)
        a.plot(em_value, rows, "x", color="black", markersize=7, label="EM")
        a.set_yticks(rows, labels)
        a.set_ylim(-0.7, n - 0.3)
        a.set_title(title, fontsize="small")
        a.grid(axis="x", alpha=0.3)
    _forest_legend(None if given else fig, axes[0], interval)
    if not given:  # the caller's figure: nothing outside its axes (the key says it all)
        fig.suptitle(f"Posterior median, 50% and {interval:.0%} intervals; EM estimate (x)")
    return fig


def _given_axes(axes: Any, needed: int, figure: str, what: str) -> np.ndarray:
    """The caller's ``axes`` (any nesting, flattened), or a one-line error when there are
    fewer than the ``needed`` panels: too few were filled silently, a feature left out."""
    axes = np.ravel(np.asarray(axes, dtype=object))
    other = sorted({type(a).__name__ for a in axes if not isinstance(a, Axes)})
    if len(axes) < needed or other:
        raise ValueError(f"{figure} needs {what}; got {len(axes)}"
                         + (f", not all Axes ({', '.join(other)})" if other else ""))
    return axes


def _hidden_intervals(bounds: np.ndarray, em_value: np.ndarray) -> bool:
    """Whether a forest panel's intervals (``bounds``: (2, K), lower and upper) are mostly
    too narrow to see: the median one spans under 8% of the panel's range (the intervals and
    the EM values), about twice a marker's width."""
    lo, hi = bounds
    span = max(hi.max(), em_value.max()) - min(lo.min(), em_value.min())
    return bool(span > 0 and np.median(hi - lo) < 0.08 * span)


def _forest_legend(fig: Figure | None, first: Axes, interval: float) -> None:
    """The forest plot's key, where it covers no interval: in the figure's margin below the
    panels (a constrained layout makes room), else to the right of the first panel. Inside a
    panel ("best") it still hid the upper end of a weight's interval; but in the caller's
    axes (``fig`` None) it stays inside the first one: nothing drawn outside them."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color="white", mec="0.3", markersize=5,
                      label="posterior median"),
               Line2D([], [], color="0.3", lw=4, label="50% interval"),
               Line2D([], [], color="0.3", lw=1.2, label=f"{interval:.0%} interval"),
               Line2D([], [], marker="x", ls="", color="black", markersize=7, label="EM")]
    if fig is None:
        first.legend(handles=handles, loc="best", fontsize="x-small", framealpha=0.8)
    elif fig.get_layout_engine() is not None:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                   fontsize="small", frameon=False)
    else:
        first.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                     fontsize="small")


# Points a density-check curve is estimated from at most (a random subset beyond).
_KDE_POINTS = 5000


def plot_ppc_density(result: BayesResult, n_replicates: int = 50, axes: Any = None,
                     random_state: Any = 0) -> Figure:
    """Posterior predictive check: data density against ``n_replicates`` replicated data sets.

    One panel per feature: a kernel density estimate of the observed values (black) over those
    of data sets simulated from random posterior draws (``sample_posterior_predictive``, thin
    blue), each from the same random 5,000 rows when there are more. The observed curve should
    look like one more replicate.

    Parameters
    ----------
    result : BayesResult
    n_replicates : int
        Replicated data sets, each simulated from one random posterior draw (a thin curve
        each).
    axes : sequence of Axes, optional
        One per feature; the figure is then the caller's, and nothing is drawn outside these
        axes (no title: the key gives the number of replicates).
    random_state : int, optional
        Which posterior draws are replicated.
    """
    result = _posterior_result(result, "plot_ppc_density")
    _check_replicates(n_replicates)
    X, g = _ppc_data(result)
    D = X.shape[1]
    given = axes is not None
    if given:  # before the simulation: a wrong call fails at once
        axes = _given_axes(axes, D, "plot_ppc_density", f"one axes per feature ({D})")
    # The curves use at most _KDE_POINTS rows of each replicate, and a replicate's rows are
    # independent draws: simulating only that many is the same check (at N = 100,000 it was
    # 50 x 100,000 rows simulated for 5,000 used).
    n_simulated = min(len(X), _KDE_POINTS)
    xrep = _replicates(result, n_simulated, n_replicates, random_state)
    if not given:
        fig = Figure(figsize=(min(4.2 * D, 13), 3.4), layout="constrained")
        axes = fig.subplots(1, D, squeeze=False)[0]
    else:
        fig = axes[0].figure
    rng = np.random.default_rng(0)
    for i, a in enumerate(axes[:D]):
        # a missing value is missing in every replicate too: compare like with like
        seen = ~np.isnan(X[:, i])
        x = X[seen, i]
        pad = 0.15 * (x.max() - x.min())
        grid = np.linspace(x.min() - pad, x.max() + pad, 300)
        # A KDE costs N x grid per curve: at N = 100,000 the panel took 31 s. The same
        # random rows (at most _KDE_POINTS) for the data and every replicate keep the
        # comparison like with like.
        rows = np.flatnonzero(seen)
        if rows.size > _KDE_POINTS:
            rows = np.sort(rng.choice(rows, _KDE_POINTS, replace=False))
        simulated = rows if n_simulated == len(X) else np.arange(rows.size)
        for s in range(xrep.shape[0]):
            a.plot(grid, stats.gaussian_kde(xrep[s, simulated, i])(grid), color="C0",
                   alpha=0.15, lw=0.8, label="replicated" if s == 0 else None)
        a.plot(grid, stats.gaussian_kde(X[rows, i], weights=None if g is None else g[rows])(grid),
               color="black", lw=2, label="observed")
        # A long feature name on two lines at most (three in a narrow panel), as wide as its
        # panel: in one line the names of neighbouring panels ran into each other.
        width = _axes_characters(a)
        a.set(xlabel=_wrap(result.feature_names[i], width, 2 if width >= 24 else 3),
              ylabel="density" if i == 0 else None)
        a.tick_params(axis="y", labelsize="small")
        # fewer ticks in narrower panels: at D=8 "−5.0 −2.5" ran together
        a.xaxis.set_major_locator(MaxNLocator(nbins=5 if D < 5 else 4 if D < 7 else 3))
        a.tick_params(axis="x", labelsize="small" if D >= 5 else "medium")
    if given:  # the caller's figure: nothing outside its axes; the count in the key
        axes[0].legend(fontsize="small", labels=[f"replicated ({xrep.shape[0]})", "observed"])
        return fig
    axes[0].legend(fontsize="small")
    # One panel (4.2 inches) is too narrow for the title on one line.
    fig.suptitle(f"Posterior predictive check:{' ' if D > 1 else chr(10)}"
                 f"{xrep.shape[0]} replicated data sets")
    return fig


def _check_replicates(n_replicates: Any, least: int = 1) -> None:
    """``n_replicates``: a whole number >= ``least``, or a one-line error naming it."""
    if isinstance(n_replicates, bool) or not isinstance(n_replicates, int | np.integer) \
            or n_replicates < least:
        raise ValueError(f"n_replicates must be an integer >= {least} (replicated data "
                         f"sets, one posterior draw each); got {n_replicates!r}")


def _axes_characters(a: Axes, points_per_character: float = 6.2) -> int:
    """Characters of a 10 pt label that fit across the axes ``a`` (as laid out so far)."""
    fig = a.get_figure(root=True)
    width = a.get_position().width * fig.get_figwidth() * 72
    return max(int(width / points_per_character), 12)


def _ppc_data(result: BayesResult) -> tuple[np.ndarray, np.ndarray | None]:
    """The data a predictive check compares replicates with, and row weights if any.

    Frequency weights that are whole numbers are the rows repeated (the data set the fit saw);
    other weights are returned for a weighted density (the joint statistics then use the rows
    unweighted, an approximation).
    """
    X = _data(result)
    obs = result.idata["observed_data"]
    if "sample_weight" not in obs:
        return X, None
    g = np.asarray(obs["sample_weight"].values, dtype=np.float64)
    if np.all(g == np.round(g)):
        return np.repeat(X, g.astype(np.int64), axis=0), None
    return X, g


def _replicates(result: BayesResult, n_rows: int, n_replicates: int,
                random_state: Any) -> np.ndarray:
    """Up to ``n_replicates`` replicated data sets of ``n_rows`` rows, one posterior draw each
    (S, n_rows, D)."""
    rep = result.sample_posterior_predictive(n_rows, max_draws=n_replicates,
                                             random_state=random_state)
    return rep["x"].values


def _ppc_statistics(X: np.ndarray, names) -> list[tuple[str, Any]]:
    """(label, statistic(X (..., N, D)) -> (...)) pairs for the joint check."""
    D = X.shape[1]
    if D == 1:
        return [("sd", lambda Z: Z[..., 0].std(axis=-1)),
                ("skewness", lambda Z: stats.skew(Z[..., 0], axis=-1)),
                ("kurtosis", lambda Z: stats.kurtosis(Z[..., 0], axis=-1))]

    def corr(i, j):
        def stat(Z):
            a = Z[..., i] - Z[..., i].mean(axis=-1, keepdims=True)
            b = Z[..., j] - Z[..., j].mean(axis=-1, keepdims=True)
            return (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
        return stat

    def label(i, j):  # long names: one a line, each shortened (they ran off the panel)
        a, b = (_ellipsize(names[k], 36) for k in (i, j))
        return f"corr({a}, {b})" if len(a) + len(b) <= 30 else f"corr({a},\n{b})"

    pairs = [(i, j) for i in range(D) for j in range(i + 1, D)][:6]
    return [(label(i, j), corr(i, j)) for i, j in pairs]


def plot_ppc_statistics(result: BayesResult, n_replicates: int = 200, axes: Any = None,
                        random_state: Any = 0) -> Figure:
    """A joint posterior predictive check: statistics of replicated data against the data's.

    Marginal densities can match while the joint structure does not; the correlation between
    each pair of features (up to six pairs; 1-D data: sd, skewness and kurtosis) catches that.
    Each panel: the statistic over ``n_replicates`` replicated data sets (histogram), the
    observed value (black line) and the posterior predictive p-value P(T(rep) >= T(obs)):
    values near 0 or 1 flag a misfit.

    Parameters
    ----------
    result : BayesResult
    n_replicates : int
        Replicated data sets (one random posterior draw each), whose statistics make the
        histograms and the p-values; at least 2.
    axes : sequence of Axes, optional
        One per statistic (a new figure lays them out in up to three columns); the figure
        is then the caller's, and nothing is drawn outside these axes (no title).
    random_state : int, optional
        Which posterior draws are replicated.
    """
    result = _posterior_result(result, "plot_ppc_statistics")
    _check_replicates(n_replicates, least=2)  # one replicate: no distribution to compare
    X, _ = _ppc_data(result)
    checks = _ppc_statistics(X, result.feature_names)
    given = axes is not None
    if given:  # before the simulation: a wrong call fails at once
        axes = _given_axes(axes, len(checks), "plot_ppc_statistics",
                           f"one axes per statistic ({len(checks)})")
    xrep = _replicates(result, len(X), n_replicates, random_state)
    if not given:
        n = len(checks)
        cols = min(n, 3)
        rows = (n + cols - 1) // cols
        fig = Figure(figsize=(4.0 * cols, 2.9 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for a in axes[n:]:
            a.set_axis_off()
    else:
        fig = axes[0].figure
    for a, (label, stat) in zip(axes, checks, strict=False):
        # missing values: the complete rows of the data, and the same rows of every replicate
        rows = ~np.isnan(X).any(axis=1)
        values, observed = stat(xrep[:, rows]), float(stat(X[rows]))
        p = float(np.mean(values >= observed))
        a.hist(values, bins=30, color="C0", alpha=0.6)
        a.axvline(observed, color="black", lw=2)
        a.set(xlabel=label, yticks=[], title=f"p = {p:.2f}")
        # at most 5 ticks: 0.025 apart (D=5), their labels ran together
        a.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if given:  # the caller's figure: nothing drawn outside its axes
        return fig
    # One or two panels are too narrow for the title on one line.
    sep = " " if len(checks) >= 3 else "\n"
    fig.suptitle(f"Joint predictive check:{sep}{xrep.shape[0]} replicated data sets "
                 f"(histogram){sep}vs the data (line)", fontsize=11)
    return fig
