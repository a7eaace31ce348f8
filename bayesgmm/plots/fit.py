"""Figures of a fit: the data, EM's convergence and path, the fitted density, the posterior
overlay, classification and membership; each with its 1-D, 2-D and pair-grid forms.

They accept an :class:`~bayesgmm.EMResult` as well as a :class:`~bayesgmm.BayesResult` (an EM
fit holds no data: pass the data it was fitted to as ``X``).

(Over 500 lines: seven figures, each in three forms, with the geometry they share: ellipses,
marginal densities, contours, legends, labels of points.)

Where it sits: the surface layer (:mod:`bayesgmm.plots`); imports :mod:`bayesgmm.plots._common`,
the input checks, EM and the observation record (inside the functions); imported by the
package's facade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, ScalarFormatter
from scipy import stats

from .._validation import check_data
from .._warn import ignored
from ..covariance import cholesky

if TYPE_CHECKING:  # the posterior module imports ArviZ: an EM-only figure must not need it
    from ..em import EMResult

from ..figure_size import sizable
from ..formatting import format_number
from ..mixture_draws import mixture_points
from ._common import (
    _DATA_COLOR,
    _EM_STYLE,
    _MAX_VALUES,
    _MIXTURE_COLOR,
    _RUG_POINTS,
    ELLIPSE_LEVEL,
    INTERVAL,
    MAX_PAIR_FEATURES,
    PAGE_WIDTH,
    SCATTER_POINTS,
    UNCERTAIN_BELOW,
    _bulk,
    _claimed,
    _component_names,
    _density_ticks,
    _drawing_order,
    _em_of,
    _fit_data,
    _fit_weights,
    _is_bayes,
    _label_to_panel,
    _labelled_drawn,
    _limits,
    _mark_labelled,
    _membership,
    _new_axes,
    _new_grid,
    _pair_choice,
    _pair_features,
    _parameter_sets,
    _point_estimate,
    _posterior_draws,
    _robust_limits,
    _row_numbers,
    _rug,
    _shared_docs,
    _shown_line,
    _unweighted_note,
    _weight_sizes,
    _weighted_line,
    _weighted_rows,
    fit_of,
)
from ._notes import _clear_of_legend, _edge_handles, _legend_off_points, _note_outside
from ._styles import _component_color, _component_linestyle, _component_marker, _scatter_components


# --------------------------------------------------------------------------------------------
# data and EM
# --------------------------------------------------------------------------------------------
@sizable
def plot_data(X: Any, feature_names: tuple[str, ...] | None = None,
              ax: Axes | None = None, *, sample_weight: Any = None,
              fit: Any = None) -> Figure:
    """Histogram (1-D), scatter plot (2-D) or pair plot (D > 2) of the data.

    A pair plot shows the first :data:`MAX_PAIR_FEATURES` features (the title says which
    are left out), or given ``fit`` (an EMResult or BayesResult of these data) the ones its
    figures' pair grids show, the most separating (QA: one report's figures each left out
    other features).
    Points missing a coordinate, and far points beyond the axes, are counted in a note.
    With frequency weights, each row counts as often as its weight in the histograms and a
    marker's area grows with it.

    Parameters
    ----------
    X : array-like (N, D) or DataFrame
        A DataFrame's column names name the features.
    feature_names : tuple of str, optional
        One per feature (default: a DataFrame's column names, else x0, x1, ...).
    ax : Axes, optional
        Only for D <= 2 (a pair plot needs its own grid).
    sample_weight : array-like (N,), optional
        Frequency weights of the rows (as a weighted fit takes them).
    fit : EMResult or BayesResult, optional
        Chooses the features a pair plot of more than :data:`MAX_PAIR_FEATURES` shows.
    """
    raw = X
    X, names = check_data(X, feature_names=feature_names, allow_nan=True)
    X, g = _weighted_rows(X, _fit_weights(None, raw, sample_weight, X.shape[0]))
    D = X.shape[1]
    if feature_names is not None:
        if len(feature_names) != D:
            raise ValueError(f"feature_names: got {len(feature_names)} name(s) for {D} "
                             "feature(s)")
        names = tuple(str(name) for name in feature_names)
    drawn = _drawing_order(X.shape[0])  # at most SCATTER_POINTS, said in the title
    shown = _shown_line(drawn.size, X.shape[0])
    stacked = []

    def pair(a, i, j):  # axes around the bulk of all the data (_limits), far points noted
        stacked.append(_data_dots(a, X[:, j], X[:, i], drawn, 5 if D > 2 else 10, g))
        a.set(xlim=_limits(X[:, j]), ylim=_limits(X[:, i]))
        _note_outside(a, X[:, j], X[:, i])

    def diag(a, i):
        a.set_xlim(*_histogram(a, X[:, i], None, pad=0.05, alpha=1.0, weights=g))
        _note_outside(a, X[:, i])

    heading = (f"Data: {_weighted_line(g, X.shape[0])}" if g is not None
               else f"Data: {format_number(X.shape[0])} points")
    if g is not None and D > 1:
        shown = "; ".join(line for line in (shown, "marker area by weight") if line)

    if D > 2:
        features = (_pair_features(fit) if fit is not None else
                    list(range(min(D, MAX_PAIR_FEATURES))))
        fig = _pair_grid(X, names, ax, pair, diag, features)
        left = _features_line(names, features, "the first" if fit is None else
                              _pair_choice(fit).replace("the most", "the fit's most"))
        fig.suptitle(heading + "".join(f"\n{line}" for line in
                                       (_with_stacked(shown, stacked), left) if line))
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:  # a histogram: every point counts
        diag(ax, 0)
        ax.set(xlabel=names[0], ylabel="density")
        _density_ticks(ax)
        shown = ""
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1])
        shown = _with_stacked(shown, stacked)
    ax.set_title(heading + (f"\n{shown}" if shown else ""))
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


# Below this many points the grey data dots grow, up to four times their area at 62 points
# and fewer (QA89: 25 rows in a pair plot were 2-px dots).
_SPARSE = 1000
# A dot standing for several rows at one place grows with their count up to this many times
# a lone row's area, so that it cannot cover its panel.
_MAX_STACK_AREA = 25.0
# What a figure's title says when some of its dots stand for several rows.
STACKED_LINE = "larger dots: several rows at one place (areas add up)"


def _data_dots(ax: Axes, x: np.ndarray, y: np.ndarray, drawn: np.ndarray, area: float,
               weights: np.ndarray | None = None, **style: Any) -> bool:
    """The grey data dots of rows ``drawn`` of (``x``, ``y``), of marker ``area`` (scaled by
    :func:`_crowding`, and grown below ``_SPARSE`` points), each in proportion to its row's
    frequency weight (:func:`_weight_sizes`). Rows at one place (rounded data: QA89's 25 rows
    stood at 23 places, 80 at 42) are one dot whose area sums theirs, up to
    ``_MAX_STACK_AREA`` lone ones: up to ``_CROWD`` points, and beyond where the rows stand at
    half as many places or fewer (QA94: faded dots of 2,500 rounded rows looked alike at 2
    rows and at 100). Rows of weight 0 are no dots. Returns whether a dot stands for several
    rows (the caller's title then says so: :data:`STACKED_LINE`)."""
    size, alpha = _crowding(drawn.size)
    if drawn.size < _SPARSE:
        size = min(float(np.sqrt(_SPARSE / max(drawn.size, 1))), 4.0)
    areas = np.broadcast_to(area * size * _weight_sizes(weights, drawn), drawn.shape)
    xs, ys, stacked = x[drawn], y[drawn], False
    shown = np.isfinite(xs) & np.isfinite(ys) & (areas > 0)
    if shown.any():
        places, where = np.unique(np.column_stack([xs[shown], ys[shown]]), axis=0,
                                  return_inverse=True)
        rows = np.count_nonzero(shown)
        stacked = len(places) < rows and (alpha == 1.0 or len(places) <= rows / 2)
        if stacked:
            summed = np.bincount(where.ravel(), weights=areas[shown], minlength=len(places))
            xs, ys = places[:, 0], places[:, 1]
            areas = np.minimum(summed, _MAX_STACK_AREA * area * size)
    ax.scatter(xs, ys, s=areas, color=_DATA_COLOR, alpha=alpha, edgecolors="none", **style)
    return bool(stacked)


def _with_stacked(shown: str, stacked: list[bool]) -> str:
    """A title's line of what it draws, with :data:`STACKED_LINE` when a panel's dot stands
    for several rows (``stacked``: one flag a panel, from :func:`_data_dots`)."""
    return "; ".join(line for line in (shown, STACKED_LINE if any(stacked) else "") if line)


def _features_line(names, shown: list[int], which: str) -> str:
    """"6 of 8 features (the most separating); not shown: e, f": which features a pair grid
    leaves out, and why (``which``); "" when it shows them all."""
    left = [str(names[f]) for f in range(len(names)) if f not in shown]
    if not left:
        return ""
    # up to 8 named (QA111: "PC1, PC7, PC9 and 3 more", six left out at D = 12)
    listed = ", ".join(left[:8]) + (f" and {len(left) - 8} more" if len(left) > 8 else "")
    return f"{len(shown)} of {len(names)} features ({which}); not shown: {listed}"


@sizable
def plot_em_convergence(em: Any, ax: Axes | None = None) -> Figure:
    """EM's objective (``em.history``): log-likelihood, or log posterior (MAP), per iteration.

    Point 0 (hollow) is the start of the best restart; points 1..n_iter are the objective after
    each iteration, so the plot shows as many filled points as EM took iterations.

    Parameters
    ----------
    em : EMResult or BayesResult (its EM fit)
    ax : Axes, optional
    """
    em = fit_of(em)  # a fitted BayesianGMM draws its posterior
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


def negligible_change(history: Any) -> float | None:
    """How much an EM run changed its objective in all (``history``: ``em.history``), where
    that is negligible (below :data:`_NEGLIGIBLE_NATS`, or :data:`_NEGLIGIBLE_RELATIVE` of
    the final value: the polish of a start that had already converged); else None."""
    finite = np.asarray(history, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return None
    change = float(np.ptp(finite))
    return change if change < max(_NEGLIGIBLE_NATS, _NEGLIGIBLE_RELATIVE * abs(finite[-1])) \
        else None


def _negligible_change(ax: Axes, history: np.ndarray) -> None:
    """When the whole run changed the objective negligibly (:func:`negligible_change`), fix
    the y-range to a readable width around the final value and say by how much it changed.
    Autoscaled, a 2.5e-10 change filled the panel as a steep climb, with ticks reading
    -378.67988953095 ... -378.67988953120."""
    change = negligible_change(history)
    if change is None:
        return
    final = float(history[np.isfinite(history)][-1])
    # Half a nat each way at least (a log-likelihood difference that small decides nothing),
    # and the change at most a twentieth of the panel.
    half = max(0.5, 10 * change)
    ax.set_ylim(final - half, final + half)
    ax.annotate(f"changed by {change:.2g} in all (negligible)", (0.02, 0.96),
                xycoords="axes fraction", ha="left", va="top", fontsize="small", color="0.3")


def em_path(X: Any, n_components: int, *, covariance_type: str = "full",
            init: Any = "random_from_data", max_iter: int = 50, tol: float = 1e-3,
            atol: float | None = None, random_state: Any = 0) -> list[EMResult]:
    """EM one iteration at a time: the fit after iteration 1, 2, ... until it converges.

    Each step is :func:`bayesgmm.fit_em` with ``max_iter=1`` started from the previous
    step's parameters, which is exactly one more iteration of the same EM (the same E- and
    M-steps, the same ``reg_covar``). The first step starts from ``init``.

    The path stops where :func:`bayesgmm.fit_em` itself stops from the same start: its
    change of the log-likelihood below ``tol`` per sample *and* below ``atol`` in total (see
    ``fit_em``'s ``tol, atol``). The number of steps is taken from that fit, run once first,
    rather than a restated rule, so the two cannot disagree: the path's last step *is* that
    fit (its ``converged``, ``n_iter`` and ``history`` those of the whole run), and
    ``path[k - 1]`` has the parameters and log-likelihood of ``fit_em(..., max_iter=k)`` (a
    one-iteration fit: its own ``n_iter``, ``history`` and ``converged``).

    Parameters
    ----------
    X : array-like (N, D)
    n_components : int
    covariance_type, init, random_state
        As for :func:`bayesgmm.fit_em` (``init`` defaults to ``"random_from_data"``: random
        data points as means, the start the tutorials show).
    max_iter : int
        At most this many steps. When EM has not converged by then, the path is ``max_iter``
        steps long, its last step has ``converged=False``, and fit_em's
        :class:`~bayesgmm.ConvergenceWarning` is passed on.
    tol, atol : float
        As for :func:`bayesgmm.fit_em`; ``atol`` None: fit_em's default
        (:data:`bayesgmm.em.ATOL`); ``atol=np.inf``: scikit-learn's per-sample rule alone.

    Returns
    -------
    list of EMResult, one per iteration: the last one converged, unless ``max_iter`` steps
    were reached first (then ``path[-1].converged`` is False).
    """
    from ..em import ATOL, fit_em

    atol = ATOL if atol is None else atol
    # The whole run first: how many iterations fit_em's own rule takes from this start.
    final = fit_em(X, n_components, covariance_type=covariance_type, init=init,
                   max_iter=max_iter, tol=tol, atol=atol, random_state=random_state)
    path: list[EMResult] = []
    start: Any = init
    with ignored():
        # one iteration never "converges": no warning per step
        for _ in range(final.n_iter - 1):
            start = fit_em(X, n_components, covariance_type=covariance_type, init=start,
                           max_iter=1, tol=tol, atol=atol, random_state=random_state)
            path.append(start)
    return [*path, final]


def animate_em(X: Any, n_components: int, path: Any = None, *, covariance_type: str = "full",
               init: Any = "random_from_data", max_iter: int = 50, tol: float = 1e-3,
               atol: float | None = None, fps: int = 3, random_state: Any = 0):
    """An animation of EM's iterations: the ellipses (2-D) or densities (1-D) moving from the
    start to the fit, one frame per iteration (:func:`em_path`), as the tutorials show EM.

    Parameters
    ----------
    X : array-like (N, D)
        D > 2: the two features that separate the final fit's components most.
    n_components : int
    path : str or path-like, optional
        Write the animation there as a GIF (matplotlib's Pillow writer).
    covariance_type, init, max_iter, tol, atol, random_state
        As for :func:`em_path` (the last frame is :func:`bayesgmm.fit_em`'s converged fit).
    fps : int
        Frames per second of the GIF.

    Returns
    -------
    matplotlib.animation.FuncAnimation (its figure is a bare Figure: nothing is shown).
    """
    from matplotlib.animation import FuncAnimation, PillowWriter

    steps = em_path(X, n_components, covariance_type=covariance_type, init=init,
                    max_iter=max_iter, tol=tol, atol=atol, random_state=random_state)
    final = steps[-1]
    Xv, _ = check_data(X, n_features=final.n_features, feature_names=final.fitted_names)
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
                        np.empty((0, fit.n_components)), None, None, alone=True)
            ax.set(xlabel=names[0], ylabel="density")
            _density_ticks(ax)
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
@sizable
@_shared_docs
def plot_overlay(result: Any, X: Any = None, ax: Axes | None = None, *, n_draws: int = 50,
                 random_state: Any = 0, sample_weight: Any = None) -> Figure:
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

    The data come second, as in every figure of a fit (``plot_overlay(em, X)``); ``n_draws``
    and ``random_state`` are keywords.

    Parameters
    ----------
    {result_and_data}
    {ax}
    n_draws : int
        Posterior draws shown (drawn at random from all chains) as ellipses. The density
        bands of one-feature panels take at least :data:`BAND_DRAWS` draws: the 3% and 97%
        quantiles of 50 draws rest on one or two of them (referee).
    random_state : int, optional
        Which draws are shown.
    sample_weight : array-like (N,), optional
        The frequency weights of ``X``'s rows (a posterior drawn over its own data uses its
        own): the histograms count each row as often as its weight, a marker's area grows
        with it.
    """
    if isinstance(X, int | np.integer) and not isinstance(X, bool):
        # the old order was (result, n_draws, ...): say so rather than "X must be 2-D"
        raise TypeError(f"plot_overlay: X (the data) comes second; got {X!r}: pass the "
                        "number of draws as n_draws=...")
    result = fit_of(result)  # a fitted BayesianGMM draws its posterior
    raw, X = X, _fit_data(result, X)
    X, g = _weighted_rows(X, _fit_weights(result, raw, sample_weight, len(X)))
    D = X.shape[1]
    em = _em_of(result)
    em_cov = em.full_covariances
    if _is_bayes(result):
        w, m, cov = _posterior_draws(result, n_draws, random_state)
    else:  # no draws: empty (0, K, ...) arrays
        K = em.n_components
        w, m, cov = np.empty((0, K)), np.empty((0, K, D)), np.empty((0, K, D, D))
    # the one-feature panels' bands (D != 2) from enough draws for their 94% quantiles
    wb, mb, cb = (_posterior_draws(result, max(n_draws, BAND_DRAWS), random_state)
                  if len(w) and D != 2 else (w, m, cov))
    names = em.feature_names
    titles = _component_names(result, em.n_components)
    keep = _claimed(_membership(result, X), em.n_components) if em.noise else None

    stacked = []

    def pair(a, i, j):  # row feature i on the y axis, column feature j on the x axis
        stacked.append(_overlay_2d(
            a, X[:, [j, i]], em.means[:, [j, i]], em_cov[:, [j, i]][:, :, [j, i]],
            m[:, :, [j, i]], cov[:, :, [j, i]][:, :, :, [j, i]], titles, keep, em.weights, g))

    def diag(a, i):
        _overlay_1d(a, X[:, i], em.weights, em.means[:, i], em_cov[:, i, i],
                    wb, mb[:, :, i], cb[:, :, i, i], keep, g, alone=D == 1)

    drawn = f" and {w.shape[0]} posterior draws" if len(w) else ""
    title = f"EM (dashed){drawn}; {int(ELLIPSE_LEVEL * 100)}% ellipses"
    shown = _shown_line(min(len(X), SCATTER_POINTS), len(X))  # the scatter's, not the histograms'
    shown = _with_weights_line(shown, result, g, len(X), D)
    if D > 2:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        features = _pair_features(result)
        fig = _pair_grid(X, names, ax, pair, diag, features)
        left = _features_line(names, features, _pair_choice(result))
        fig.suptitle(title + "".join(f"\n{line}" for line in
                                     (_with_stacked(shown, stacked), left) if line))
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
               title=(f"EM density (dashed) vs posterior density ({wb.shape[0]} draws)"
                      if len(w) else "EM mixture density") + "".join(
                   f"\n{line}" for line in (_weighted_line(g, len(X)),
                                            _unweighted_note(result, g)) if line))
        _density_ticks(ax)
    else:
        pair(ax, 1, 0)
        shown = _with_stacked(shown, stacked)
        ax.set(xlabel=names[0], ylabel=names[1], title=title + (f"\n{shown}" if shown else ""))
    legend = ax.legend(loc="best", fontsize="small")
    if D == 2:  # the draws' lines are faint on purpose; their legend entries must not be
        for handle in legend.legend_handles:
            handle.set(alpha=1.0, linewidth=max(handle.get_linewidth(), 1.5))
    _clear_of_legend(ax)
    return fig


# A line drawn over points of its own colour: a white stroke under it.
_HALO = (patheffects.Stroke(linewidth=3.2, foreground="white", alpha=0.9), patheffects.Normal())


# What a figure says of a covariance it cannot factor (no reg_covar advice: a posterior's
# draws have none, and the fit's verdict names the collapse that makes one).
_UNDRAWABLE = "the figure cannot draw its component"


def _ellipse(mean: np.ndarray, cov: np.ndarray, n: int = 80) -> np.ndarray:
    """(n, 2) points on the ``ELLIPSE_LEVEL`` contour of N(mean, cov)."""
    radius = np.sqrt(stats.chi2.ppf(ELLIPSE_LEVEL, df=2))
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return mean + radius * circle @ cholesky(cov, advice=_UNDRAWABLE).T


def _overlay_2d(ax, X, em_means, em_covs, draw_means, draw_covs, titles, keep=None,
                em_weights=None, row_weights=None) -> bool:
    """The 2-D overlay in ``ax``: the data, each draw's and EM's ellipses, and limits that
    hold them (:func:`_axis_limits`, whole for components of ``em_weights`` that are not
    negligible); ``keep`` as in :func:`_claimed`; ``row_weights``: frequency weights (a
    marker's area grows with its row's). Returns whether a dot stands for several rows
    (:func:`_data_dots`)."""
    drawn = _drawing_order(X.shape[0])  # at most SCATTER_POINTS: the title says so
    stacked = _data_dots(ax, X[:, 0], X[:, 1], drawn, 8, row_weights, zorder=1)
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
    _note_outside(ax, X[:, 0], X[:, 1], keep, centres=em_means[:, :2], names=titles[:K])
    return stacked


def _ellipse_limits(limits: tuple[float, float], em_means: np.ndarray,
                    em_variances: np.ndarray, draw_means: np.ndarray,
                    draw_variances: np.ndarray, weights: np.ndarray | None = None,
                    free: bool = False) -> tuple[float, float]:
    """``limits`` (the data's) widened to hold, along one axis, the ``ELLIPSE_LEVEL``
    ellipses of EM's components (K,) and of the posterior draws (S, K).

    A wild draw still may not stretch the view: per component and side, a draw whose
    ellipse reaches beyond Tukey's far-out fence of the draws' reaches (the quartile plus
    3 interquartile ranges) is left out, so one stray draw in 50 does not shrink the others
    to a dot; and no draw is held beyond ``_DRAW_REACH`` spans past the data and EM's
    ellipses (a component the data do not locate has every draw wild). EM's ellipses are
    held (the fit the figure is about) up to a quarter of the data's span beyond it on either
    side: a component that took a few gross outliers (its
    ellipse many times the clusters' size) runs off the axes rather than shrink the clusters.
    ``free`` (no point the Gaussians claim lies beyond the bulk on this axis, so none can have
    stretched an ellipse: :func:`_free_axis`): the ellipses of the components with
    ``weights`` of at least ``_NEGLIGIBLE_WEIGHT`` are held up to ``_FULL_REACH`` spans
    beyond it (whole, in practice: a spherical component over features of unequal scales is
    a circle much wider than the data, drawn as such, not as two flat arcs); so are such
    components' ellipses at most half the data's span wide on any axis (a small group beyond
    the bulk, which no outlier widened).
    """
    radius = np.sqrt(stats.chi2.ppf(ELLIPSE_LEVEL, df=2))  # as _ellipse draws them
    span = limits[1] - limits[0]
    held = np.full(em_means.shape, 0.25 * span)
    em_half = radius * np.sqrt(em_variances)
    if weights is not None:
        heavy = np.asarray(weights)[:em_means.shape[0]] >= _NEGLIGIBLE_WEIGHT
        held[heavy & free] = _FULL_REACH * span
        group = _compact_groups(limits, weights, em_means, em_half)
        held[group] = np.maximum(held[group], _GROUP_REACH * span)
    lows = [np.maximum(em_means - em_half, limits[0] - held)]
    highs = [np.minimum(em_means + em_half, limits[1] + held)]
    if draw_means.shape[0]:
        # the draws within _DRAW_REACH spans of what the data and EM's ellipses span: a
        # component the data do not locate (all its draws wild alike, so no fence leaves one
        # out) stretched Old Faithful K=4's axes to three times the data's (QA)
        outer = (min(limits[0], lows[0].min()) - _DRAW_REACH * span,
                 max(limits[1], highs[0].max()) + _DRAW_REACH * span)
        half = radius * np.sqrt(draw_variances)
        for reach, side in ((draw_means - half, -1.0), (draw_means + half, 1.0)):
            q1, q3 = np.quantile(side * reach, [0.25, 0.75], axis=0)  # per component
            tame = np.where(side * reach <= q3 + 3 * (q3 - q1), reach, np.nan)
            tame = np.clip(tame, *outer)
            (lows if side < 0 else highs).append(tame.ravel())
    lo, hi = np.nanmin(np.concatenate(lows)), np.nanmax(np.concatenate(highs))
    pad = 0.03 * (max(hi, limits[1]) - min(lo, limits[0]))  # the line clear of the frame
    return min(limits[0], lo - pad), max(limits[1], hi + pad)


# A component this light (weight) never widens the axes beyond a quarter of the data's span:
# one that took a gross outlier or two. Heavier ones may widen them up to _FULL_REACH spans.
_NEGLIGIBLE_WEIGHT = 0.01
_FULL_REACH = 4.0
# A compact component wholly within this many spans of the bulk is held whole.
_GROUP_REACH = 1.0
# The posterior draws' ellipses widen the axes at most this many data spans beyond the data's
# and EM's ellipses' reach; further out they run off the axes (the diagnostics name a
# component the data do not locate).
_DRAW_REACH = 0.25


def _free_axis(x: np.ndarray, keep: np.ndarray | None = None) -> bool:
    """Whether no point (of those in ``keep``, :func:`_claimed`) lies beyond the bulk of
    ``x`` (:func:`_bulk`): then no gross outlier can have stretched a component's ellipse
    along this axis, and the axes may widen to hold the ellipses whole."""
    ok = ~np.isnan(x) if keep is None else ~np.isnan(x) & keep
    return not np.any(ok & ~_bulk(x, keep))


def _compact_groups(limits: tuple[float, float], weights, means: np.ndarray,
                    half: np.ndarray) -> np.ndarray:
    """bool (K,): the components along one axis that are a small group, not a few outliers
    that stretched one: weight at least ``_NEGLIGIBLE_WEIGHT``, ellipse (half-width ``half``)
    at most half the bulk's span (``limits``) wide, and wholly within ``_GROUP_REACH`` spans
    of it. QA: a 2% cluster 10 sds away ran off every panel of its feature; review: farther
    (a sentinel such as -999), widening toward it only shrank the clusters."""
    span = limits[1] - limits[0]
    beyond = np.maximum(limits[0] - (means - half), means + half - limits[1])
    return ((np.asarray(weights)[:len(half)] >= _NEGLIGIBLE_WEIGHT) & (half <= 0.5 * span)
            & (beyond <= _GROUP_REACH * span))


def _group_limits(x: np.ndarray, keep, weights, means, variances) -> tuple[float, float]:
    """The bulk of ``x`` (:func:`_limits`), widened only to hold whole each compact component
    (weight at least ``_NEGLIGIBLE_WEIGHT``, its ``ELLIPSE_LEVEL`` ellipse at most half the
    bulk's span wide) lying within ``_GROUP_REACH`` spans of it: a small group beyond the
    bulk, as :func:`_ellipse_limits` holds it for the figures with ellipses (QA: the density
    and membership figures counted a 2% cluster 10 sds away "beyond the axes", which the
    classification drew). Other components' extent leaves these figures' axes alone."""
    lo, hi = _limits(x, keep)
    half = np.sqrt(stats.chi2.ppf(ELLIPSE_LEVEL, df=2)) * np.sqrt(np.asarray(variances))
    low, high = np.asarray(means) - half, np.asarray(means) + half
    group = _compact_groups((lo, hi), weights, np.asarray(means), half) \
        & (np.maximum(lo - low, high - hi) > 0)
    if not group.any():
        return lo, hi
    new_lo, new_hi = min(lo, float(low[group].min())), max(hi, float(high[group].max()))
    pad = 0.03 * (new_hi - new_lo)
    return (new_lo - pad if new_lo < lo else lo), (new_hi + pad if new_hi > hi else hi)


def _axis_limits(x: np.ndarray, keep, weights, means, variances, draw_means=None,
                 draw_variances=None) -> tuple[float, float]:
    """One axis of a 2-D panel with ellipses: the bulk of the data (:func:`_limits`) widened
    to hold the components' ellipses (:func:`_ellipse_limits`)."""
    if draw_means is None:
        draw_means = draw_variances = np.empty((0, len(means)))
    return _ellipse_limits(_limits(x, keep), means, variances, draw_means, draw_variances,
                           weights, _free_axis(x, keep))


def _histogram(ax: Axes, x: np.ndarray, keep: np.ndarray | None, pad: float,
               alpha: float, outline: bool = False, weights: np.ndarray | None = None,
               within: tuple[float, float] | None = None) -> tuple[float, float]:
    """A density histogram of ``x``'s observed values; the x-range it spans (padded).

    Only the bulk of the points (:func:`_bulk`; with ``keep``, :func:`_claimed`, of the
    points the Gaussians claim), or those ``within`` the range given (which is then the
    range), is drawn, but per unit of all the points: the Gaussians' densities leave the
    noise's share out too, so the heights still compare; the far points are noted, not
    drawn. With frequency ``weights`` each row counts as often as its weight (the fitted
    density is the weighted rows')."""
    g = np.ones(x.shape[0]) if weights is None else weights
    observed = ~np.isnan(x)
    shown = (_bulk(x, keep) if within is None else
             observed & (x >= within[0]) & (x <= within[1]) & (True if keep is None else keep))
    if np.count_nonzero(shown) < 2:  # the claimed points miss this feature: all of it, then
        shown = observed
    edges = _bin_edges(x[shown])
    per_point = 1.0 / (g[observed].sum() * (edges[1] - edges[0]))
    style = ({"histtype": "stepfilled", "facecolor": "0.93", "edgecolor": "0.35", "lw": 1.0}
             if outline else {"color": _DATA_COLOR})  # outline: the data apart from a band
    ax.hist(x[shown], bins=edges, weights=g[shown] * per_point, alpha=alpha, label="data",
            **style)
    return _robust_limits(x[shown], pad) if within is None else within


# The most bins the square-root rule may ask for (N = 10,000): beyond it NumPy's rule decides.
_MAX_SQRT_BINS = 100


def _bin_edges(values: np.ndarray) -> np.ndarray:
    """Equal-width bins: NumPy's "auto" rule, or the square-root rule where that gives more
    (up to ``_MAX_SQRT_BINS``); for whole numbers (counts, scores), a whole number of units
    wide, each value in the middle of its bin (QA: bins 2.1 wide on counts held three values,
    then two, and the bars alternated in height for no reason in the data).

    "auto" (the larger of Sturges' and Freedman-Diaconis') is tuned to a smooth, unimodal
    density and smooths a mixture's dips away: three clusters 3.5 sds apart, 450 rows, in 10
    bins a sd wide showed no dip between them; the square root of N, 21 bins, shows them."""
    edges = np.histogram_bin_edges(values, bins="auto")
    if values.size > 1 and edges.size - 1 < min(np.sqrt(values.size), _MAX_SQRT_BINS):
        edges = np.histogram_bin_edges(values, bins=int(min(np.ceil(np.sqrt(values.size)),
                                                            _MAX_SQRT_BINS)))
    if values.size == 0 or not np.all(values == np.round(values)):
        return edges
    width = max(1.0, float(np.round(edges[1] - edges[0]))) if edges.size > 1 else 1.0
    lo, hi = float(values.min()), float(values.max())
    n_bins = int(np.ceil((hi - lo + 1.0) / width))
    return lo - 0.5 + width * np.arange(n_bins + 1)


def _mixture_density(grid, weights, means, variances) -> np.ndarray:
    """Mixture density on ``grid`` for one (K,) or many (S, K) parameter sets."""
    sd = np.sqrt(variances)
    dens = weights[..., None] * stats.norm.pdf(grid, means[..., None], sd[..., None])
    return dens.sum(axis=-2)


def _with_weights_line(shown: str, result: Any, g: np.ndarray | None, n: int, D: int) -> str:
    """A figure's line of what it draws, with what a weighted fit's rows stand for (and the
    marker areas of a scatter), or that they are drawn unweighted."""
    weighted = "" if g is None else (_weighted_line(g, n)
                                     + (", marker area by weight" if D > 1 else ""))
    return "; ".join(line for line in (shown, weighted, _unweighted_note(result, g)) if line)


# Draws behind a one-feature overlay's 94% band: its 3% and 97% quantiles then rest on about
# a dozen draws each, not on one or two of 50.
BAND_DRAWS = 400


def _overlay_1d(ax, x, em_w, em_m, em_v, draw_w, draw_m, draw_v, keep=None,
                row_weights=None, alone: bool = False) -> None:
    """The 1-D overlay in ``ax``: histogram (rows counted by ``row_weights``), EM's density
    and the draws' band; with ``keep`` (:func:`_claimed`) over the points the Gaussians
    claim, far noise points noted. ``alone``: one feature's own figure, not a pair grid's
    diagonal."""
    # In a pair grid, the axis as a 2-D panel's (the bulk of the data widened to hold the
    # components): a diagonal spans its feature as the panels beside it do. QA: the bulk alone
    # left out a 2% cluster 10 sds away that the CD8 column's other panels showed. Alone, as
    # the density and the data figures span it (QA91: galaxies' overlay ran from -1,000 to
    # 45,000 km/s, stretched by 2-D ellipses of wide draws, for data on 9,172-34,279).
    limits = (_group_limits(x, keep, em_w, em_m, em_v) if alone else
              _axis_limits(x, keep, em_w, em_m, em_v, draw_m, draw_v))
    # The data in outline (grey steps on a faint fill), unlike the posterior band's solid
    # grey: both filled grey, the band and the bars could not be told apart.
    grid = np.linspace(*_histogram(ax, x, keep, pad=0.1, alpha=1.0, outline=True,
                                   weights=row_weights, within=limits), 400)
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
    # at most the page's width: a report shows a wider grid shrunk to it, and at D=6 (15.6
    # inches) its tick labels were 8 pixels high (big-data QA); drawn at the width it is
    # shown at, the text keeps its size and the ticks thin out to fit the panels
    size = min(2.6, PAGE_WIDTH / n)
    fig, axes = _new_grid(n, n, size=size)
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
                a.set_xlabel(_label_to_panel(a, names[j], "x"))
            if c == 0 and r > 0:
                a.set_ylabel(_label_to_panel(a, names[i], "y"))
            if size < 2.2:  # narrow panels: four-digit tick labels ran into each other,
                a.locator_params(axis="x", nbins=3)  # and a density's (0.00075) took a
                if r == c:                           # diagonal panel's width: the
                    a.tick_params(axis="y", labelleft=False)  # histograms' shapes stay
            _short_ticks(a)
    return fig


def _short_ticks(a: Axes) -> None:
    """Tick labels of five digits or more as a factor under a "×10⁵" at the axis' end (QA143
    L8: "100000" and "200000" ran together as "100000200000" on a flow cytometer's 0..262143
    scale), where the axis keeps matplotlib's plain number formatter."""
    for axis in (a.xaxis, a.yaxis):
        formatter = axis.get_major_formatter()
        if type(formatter) is ScalarFormatter:
            formatter.set_powerlimits((-4, 4))
            formatter.set_useMathText(True)


def _legend_below(fig: Figure, titles: list[str], n_gaussians: int, extra=(), *,
                  curves: bool = False) -> None:
    """One legend for a whole grid: a patch per entry of ``titles`` (the components, and the
    noise at index ``n_gaussians`` when given), then ``extra`` handles. ``curves``: the
    grid's diagonal draws each component's curve in its own line style, so each entry shows
    its marker and line style instead (QA87: a dashed curve the key did not explain)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [*(Line2D([], [], marker=_component_marker(k, n_gaussians),
                        ls=_component_linestyle(k) if k < n_gaussians else "",
                        color=_component_color(k, n_gaussians), label=title)
                 if curves else Patch(color=_component_color(k, n_gaussians), label=title)
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
    """Mixture density at ``points`` (P, 2) averaged over parameter sets (S, K, 2[, 2]), in
    passes of points of at most ``_MAX_VALUES`` values: all at once, 100 draws at 200,000
    points held 3 GB."""
    # by the covariance policy's factor L (c = L L^T): q = |L^-1 d|^2, sqrt(det c) = L00 L11
    L = cholesky(c, advice=_UNDRAWABLE)
    a, b, e = (v[..., None] for v in (L[..., 0, 0], L[..., 1, 0], L[..., 1, 1]))  # (S, K, 1)
    scale = w[..., None] / (2 * np.pi * a * e)  # (S, K, 1)
    step = max(1, _MAX_VALUES // (2 * w.size))  # d holds S x K x P x 2 values
    out = np.empty(len(points))
    for start in range(0, len(points), step):
        d = points[None, None, start:start + step, :] - m[:, :, None, :]
        # L^-1 d of a 2x2 lower factor in closed form (QA111: an einsum took 6.5 s of a
        # D = 10 report's 11 s density figure)
        z0 = d[..., 0] / a
        z1 = (d[..., 1] - b * z0) / e
        out[start:start + step] = (scale * np.exp(-0.5 * (z0 * z0 + z1 * z1))).sum(
            axis=1).mean(axis=0)
    return out


# The share of the points each density contour encloses, by the quantile of the density at
# the points it is drawn at (the level at the 5% quantile encloses about 95% of the points).
_CONTOUR_QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75)


def _contour_colours(t: np.ndarray) -> np.ndarray:
    """The density contours' colours at ``t`` in [0, 1] (0 the outermost level): greys from
    a mid grey still 3:1 against white (QA102: viridis' light greens and yellow vanished on
    white and in print) to near black at the innermost, where the grey points are densest.
    No hue: the components' colours are all hues, and viridis' teal read as component 2's
    green (QA111)."""
    from matplotlib import colormaps

    return colormaps["Greys"](0.55 + 0.4 * np.asarray(t, dtype=float))


def _contours(ax, X2, w, m, c, n_grid: int | None = None, keep: np.ndarray | None = None,
              weights: np.ndarray | None = None,
              stacked: list[bool] | None = None) -> tuple[list, list[str]]:
    """Density contours of a 2-D mixture over the data: the levels enclose about 25, 50, 75,
    90 and 95% of the data points (quantiles of the density at the points); with ``keep``
    (:func:`_claimed`), of the points the Gaussians claim, and the grid and the axes around
    them (the noise points' tiny densities would put the outer levels far beyond the axes,
    whose edges would then cut them into stray arcs). The axes hold the bulk of the data and
    the contours whole, up to a span beyond it each way (a quarter of one on an axis where
    gross outliers lie: :func:`_free_axis`); the grid covers that much.

    Returns the key of the levels drawn: (line handles, labels such as "95% of the points"),
    outermost first, for a legend (the colours alone did not say which line is which level). With
    frequency ``weights`` the levels enclose those shares of the weighted points, and a
    marker's area grows with its row's weight. ``stacked``: a list to append to whether a dot
    stands for several rows (:func:`_data_dots`)."""
    # the bulk of the data, widened to hold a compact small group beyond it (QA: a 2%
    # cluster 10 sds away counted "beyond the axes" here, drawn in the classification)
    xlim, ylim = (_group_limits(X2[:, d], keep, np.mean(w, axis=0), np.mean(m, axis=0)[:, d],
                                np.mean(c, axis=0)[:, d, d]) for d in (0, 1))
    wide = [(lo - r * (hi - lo), hi + r * (hi - lo))
            for (lo, hi), r in (((xlim), 1.0 if _free_axis(X2[:, 0], keep) else 0.25),
                                ((ylim), 1.0 if _free_axis(X2[:, 1], keep) else 0.25))]
    # A point estimate's grid 300 a side: it spans up to three times the data, and at 150 a
    # tight component's contours turned corners (referee, an EM report's density). Averaged
    # over posterior draws, 150: the density costs draws x grid points, and the average of
    # 100 draws' densities is smooth already.
    if n_grid is None:
        n_grid = 300 if len(w) == 1 else 150
    gx, gy = np.meshgrid(np.linspace(*wide[0], n_grid), np.linspace(*wide[1], n_grid))
    z = _density_2d(np.column_stack([gx.ravel(), gy.ravel()]), w, m, c).reshape(gx.shape)
    # The points drawn, and those the levels are set by: at most SCATTER_POINTS (the title
    # says so); the density at all 200,000 took 30 s a panel, for the same levels.
    rows = _drawing_order(len(X2))
    complete = ~np.isnan(X2[rows]).any(axis=1)  # a point missing a coordinate has no place
    levelled = rows[complete if keep is None else complete & keep[rows]]
    drawn = rows[complete]
    if len(levelled) < 2:  # the subset missed the claimed points: set the levels by all
        levelled = np.flatnonzero(~np.isnan(X2).any(axis=1) & (True if keep is None else keep))
    g = None if weights is None else weights[levelled]
    if len(levelled) < 2:  # no row has both: the levels enclose the model's own mass (QA:
        at_points, g = _density_2d(_mixture_sample(w, m, c), w, m, c), None  # IndexError)
        more, of = ("no point has both coordinates: the contours enclose that share of the "
                    "mixture's probability",), "of the mixture"
    else:
        at_points, more = _density_2d(X2[levelled], w, m, c), ()
        # as the title says it: with a noise component, of the points the Gaussians claim
        of = "of the points" if keep is None else "of the Gaussians' points"
    if g is not None and not g.sum() > 0:  # rows of weight 0 only: no weights to go by
        g = None
    quantiles = (np.quantile(at_points, _CONTOUR_QUANTILES) if g is None else
                 np.quantile(at_points, _CONTOUR_QUANTILES, weights=g, method="inverted_cdf"))
    levels, first = np.unique(quantiles, return_index=True)
    enclosed = [f"{1 - _CONTOUR_QUANTILES[i]:.0%} {of}" for i in first]
    key: tuple[list, list[str]] = ([], [])
    several = _data_dots(ax, X2[:, 0], X2[:, 1], drawn, 6, weights, zorder=1)
    if stacked is not None:
        stacked.append(several)
    if len(levels) > 1:
        # a line style per level too: the outer levels' viridis purples were one colour in
        # print and to colour-blind readers (accessibility QA); outermost dotted, the two
        # innermost told apart by width (QA102: both solid); greys of 3:1 or more against
        # white (WCAG asks 3:1 of a graphic; viridis' yellow end was lost in print)
        styles = [":", "--", "-.", "-", "-"][:len(levels)]
        widths = [1.1, 1.1, 1.1, 1.1, 2.0][:len(levels)]
        lines = ax.contour(gx, gy, z, levels=levels, colors=_contour_colours(
            np.linspace(0.0, 1.0, len(levels))), linewidths=widths, zorder=2,
            linestyles=styles)
        handles = list(lines.legend_elements()[0])
        for handle, style, width in zip(handles, styles, widths, strict=True):
            handle.set_linestyle(style)  # its key drew them all dashed
            handle.set_linewidth(width)
        key = (handles, enclosed)
        segments = [seg for level in lines.allsegs for seg in level if len(seg)]
        if segments:
            xy = np.concatenate(segments)
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            pad = 0.03 * np.array([xlim[1] - xlim[0], ylim[1] - ylim[0]])
            xlim = (min(xlim[0], lo[0] - pad[0]), max(xlim[1], hi[0] + pad[0]))
            ylim = (min(ylim[0], lo[1] - pad[1]), max(ylim[1], hi[1] + pad[1]))
    ax.set(xlim=xlim, ylim=ylim)
    _note_outside(ax, X2[:, 0], X2[:, 1], keep, more=more)
    return key


def _mixture_sample(w, m, c, n: int = 4000) -> np.ndarray:
    """``n`` points drawn from the 2-D mixtures (S, K, 2[, 2]) averaged over their parameter
    sets, seeded: where no data point can set the contour levels, the density's own
    quantiles set them."""
    rng = np.random.default_rng(0)
    s = rng.integers(w.shape[0], size=n)
    # the Gaussians' shares (a noise weight aside: w holds the Gaussians' only)
    return mixture_points(rng, w, m, cholesky(c, advice=_UNDRAWABLE), s)[0]


@sizable
@_shared_docs
def plot_density(result: Any, X: Any = None, ax: Axes | None = None, *, n_draws: int = 100,
                 random_state: Any = 0, sample_weight: Any = None) -> Figure:
    """The fitted mixture density over the data.

    2-D: contours over the scatter of the data (levels enclosing about 25, 50, 75, 90 and 95%
    of the points); 1-D: histogram, mixture density and each component's weighted density
    (shaded), with a rug of the data; D > 2: a pair grid with the marginal mixture on every pair and
    every feature. A posterior's density is the posterior predictive one (the average over
    ``n_draws`` draws); an EM fit's is the estimate's. A weighted fit's rows count as often
    as their frequency weights (histogram, contour levels, marker areas), as in the fit.

    Parameters
    ----------
    {result_and_data}
    {ax}
    n_draws : int
    random_state : int, optional
    sample_weight : array-like (N,), optional
        The frequency weights of ``X``'s rows (a posterior drawn over its own data uses its
        own).
    """
    result = fit_of(result)  # a fitted BayesianGMM draws its posterior
    raw, X = X, _fit_data(result, X)
    X, g = _weighted_rows(X, _fit_weights(result, raw, sample_weight, len(X)))
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
    # the scatters' and the rugs' share of the points, said in the title
    shown = _shown_line(None if D == 1 else min(len(X), SCATTER_POINTS), len(X),
                        None if D == 2 else min(len(X), _RUG_POINTS))
    shown = _with_weights_line(shown, result, g, len(X), D)

    key: list = []  # the contour levels' key, as the last pair drew them
    stacked: list[bool] = []

    def pair(a, i, j):
        idx = [j, i]
        key[:] = [_contours(a, X[:, idx], w, m[:, :, idx], c[:, :, idx][:, :, :, idx],
                            keep=keep, weights=g, stacked=stacked)]

    def diag(a, i, legend=False):
        # the axis as the 2-D panels' (a compact small group beyond the bulk held whole)
        within = _group_limits(X[:, i], keep, w.mean(0), m.mean(0)[:, i], c.mean(0)[:, i, i])
        within = None if within == _limits(X[:, i], keep) else within  # no group: as before
        grid = np.linspace(*_histogram(a, X[:, i], keep, pad=0.08, alpha=0.5, weights=g,
                                       within=within), 400)
        # Each component's weighted density as a shaded area, the mixture as a line on top:
        # where one component carries the mixture, a dashed component curve drawn over the
        # line hid it (QA, galaxies); under it, both stay visible.
        for k in range(w.shape[1]):
            comp = (w[:, k, None] * stats.norm.pdf(grid, m[:, k, i, None],
                                                   np.sqrt(c[:, k, i, i])[:, None])).mean(0)
            colour = _component_color(k)
            a.fill_between(grid, comp, color=colour, alpha=0.3, lw=0, label=titles[k])
            a.plot(grid, comp, color=colour, lw=0.8)
        a.plot(grid, _density_1d(grid, w, m[:, :, i], c[:, :, i, i]), color=_MIXTURE_COLOR, lw=1.8,
               label="mixture", zorder=3)
        _rug(a, X[:, i], 0.0, markersize=8, alpha=0.4)
        a.set_xlim(grid[0], grid[-1])
        _note_outside(a, X[:, i], keep=keep)
        if not legend:  # a pair grid's diagonal: its own scale, no room for numbers
            a.set_yticks([])
        if legend:
            a.legend(fontsize="small")

    if D > 2:
        from matplotlib.lines import Line2D

        features = _pair_features(result)
        fig = _pair_grid(X, names, ax, pair, diag, features)
        # Two lines: on one, a 3-feature grid clipped both ends of the title. A grid of more
        # than MAX_PAIR_FEATURES features is wide enough for the first two on one line.
        left = _features_line(names, features, _pair_choice(result))
        shown = _with_stacked(shown, stacked)
        fig.suptitle((f"{what}; contours enclose about 25/50/75/90/95% of the {points}\n{left}"
                      if left else
                      f"{what};\ncontours enclose about 25/50/75/90/95% of the {points}")
                     + (f"\n{shown}" if shown else ""))
        # the diagonal's shaded areas are the components: name them once for the grid
        _legend_below(fig, titles[:em.n_components], em.n_components,
                      [Line2D([], [], color=_MIXTURE_COLOR, lw=1.8, label="mixture"),
                       *_level_handles(key)])
        return fig
    fig, ax = _new_axes(ax)
    if D == 1:
        diag(ax, 0, legend=True)
        ax.set(xlabel=names[0], ylabel="density", title=what + (f"\n{shown}" if shown else ""))
        _density_ticks(ax)
    else:
        pair(ax, 1, 0)
        shown = _with_stacked(shown, stacked)
        ax.set(xlabel=names[0], ylabel=names[1],
               title=f"{what}\ncontours enclose about 25/50/75/90/95% of the {points}"
                     + (f"\n{shown}" if shown else ""))
        handles = _level_handles(key)
        if handles:  # which line is which level
            ax.legend(handles=handles, title="contour encloses", fontsize="small",
                      title_fontsize="small", loc="best")
            _clear_of_legend(ax)
    return fig


def _level_handles(key: list) -> list:
    """Legend handles of the density contours' levels (:func:`_contours`' key, the last one
    drawn): "95% of the points", ... outermost first; none when no contour was drawn."""
    if not key or not key[0][0]:
        return []
    from matplotlib.lines import Line2D

    handles, labels = key[0]
    # a little wider than drawn, to read in the key; the innermost wider still, as drawn
    return [Line2D([], [], color=h.get_color(), ls=h.get_linestyle(),
                   lw=max(1.5, h.get_linewidth() + 0.4), label=label)
            for h, label in zip(handles, labels, strict=True)]


@sizable
@_shared_docs
def plot_classification(result: Any, X: Any = None, ax: Axes | None = None, *,
                        proba: Any = None, labelled: Any = None,
                        marked: Sequence[int] = ()) -> Figure:
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
        Points whose component was known (known labels): drawn with a cross (+) in their
        component's colour.
    marked : sequence of int
        Components whose key entry gets a dagger (†) after its name: those whose summaries
        describe no single cluster
        (:attr:`~bayesgmm.diagnostics.Diagnostics.unreported_components`), as the report's
        tables and forest plot mark them.

    With a noise component the points most probably noise are black (``"noise"``).
    """
    result = fit_of(result)  # a fitted BayesianGMM draws its posterior
    X = _fit_data(result, X)
    em = _em_of(result)
    names = em.feature_names
    if proba is not None:  # MembershipProbabilities' mean, or an array (an EM fit's)
        proba = np.asarray(proba if isinstance(proba, np.ndarray) else proba.mean)
    proba = _membership(result, X) if proba is None else proba
    K = proba.shape[1]  # K + 1 with a noise component (its column last)
    G = em.n_components
    assigned = np.argmax(proba, axis=1)
    uncertainty = 1.0 - proba.max(axis=1)
    panels = min(X.shape[1], MAX_PAIR_FEATURES) if X.shape[1] > 2 else 1
    size = _uncertainty_size(uncertainty, K, panels)
    labelled = _per_point(labelled, "labelled", len(X))
    w, m, c = _point_estimate(result)
    # referee: the tables daggered a component whose ellipse this figure drew unmarked
    titles = _marked_titles(result, G, marked)
    keep = _claimed(proba, G)
    # At most SCATTER_POINTS points (the title says so), in random order across the
    # components: drawn component by component, the last covered the first (QA).
    drawn = _drawing_order(len(X))
    gauss, noisy = drawn[assigned[drawn] < G], drawn[assigned[drawn] == G]
    colours = _colours(assigned[gauss], G)
    point_colours = _colours(assigned, G)
    crowd, opacity = _crowding(drawn.size)
    size = size * crowd
    source = "the posterior median" if _is_bayes(result) else "the EM fit"
    shown = _shown_line(drawn.size, len(X))

    def pair(a, i, j):
        _scatter_components(a, X[gauss, j], X[gauss, i], assigned[gauss], G, s=size[gauss],
                            c=colours, alpha=0.6 * opacity, edgecolors="none")
        if noisy.size:  # noise: crosses over the dots, big enough to see at any uncertainty
            a.scatter(X[noisy, j], X[noisy, i], s=np.maximum(size[noisy], 22 * crowd),
                      color=_component_color(G, G), alpha=0.8 * opacity, marker="x", lw=0.9)
        for k in range(G):
            xy = _ellipse(m[k, [j, i]], c[k][[j, i]][:, [j, i]])
            # on a white halo: over its own points, in their colour, a dense component's
            # ellipse could not be seen (QA, 20,000 points)
            a.plot(xy[:, 0], xy[:, 1], color=_component_color(k), lw=1.2, zorder=3,
                   path_effects=_HALO)
        # in its component's colour: a known row is certain, its dot the smallest, so that a
        # black cross hid the colour (QA132 L1: a fully labelled fit's figure all black)
        _mark_labelled(a, X, labelled, j, i, drawn, colors=point_colours)
        a.set(xlim=_axis_limits(X[:, j], keep, w, m[:, j], c[:, j, j]),
              ylim=_axis_limits(X[:, i], keep, w, m[:, i], c[:, i, i]))
        _note_outside(a, X[:, j], X[:, i], keep, centres=m[:, [j, i]], names=titles[:G],
                      tick_colors=_colours(assigned, G))

    def diag(a, i):
        x = X[:, i]
        # the components' curves whole, as the 2-D ellipses are (QA: cut at the edge)
        grid = np.linspace(*_axis_limits(x, keep, w, m[:, i], c[:, i, i]), 300)
        for k in range(G):
            a.plot(grid, w[k] * stats.norm.pdf(grid, m[k, i], np.sqrt(c[k, i, i])),
                   color=_component_color(k), lw=1.2, ls=_component_linestyle(k))
        jitter = np.random.default_rng(0).uniform(-1, 1, len(x))
        top = a.get_ylim()[1]
        y = -0.08 * top + 0.04 * top * jitter
        _scatter_components(a, x[gauss], y[gauss], assigned[gauss], G, s=size[gauss],
                            c=colours, alpha=0.6 * opacity, edgecolors="none")
        if noisy.size:  # crosses, as in pair(): a filled-marker collection drew them blank
            a.scatter(x[noisy], y[noisy], s=np.maximum(size[noisy], 22 * crowd),
                      color=_component_color(G, G), alpha=0.8 * opacity, marker="x", lw=0.9)
        if labelled is not None and np.any(labelled):
            sel = _labelled_drawn(labelled, drawn)  # rings on drawn points only (review)
            a.scatter(x[sel], -0.08 * top + 0.04 * top * jitter[sel], s=60, marker="+",
                      color="black", lw=1.0)
        a.set_xlim(grid[0], grid[-1])
        _note_outside(a, x, keep=keep)
        a.set_yticks([])

    title = "Classification: colour and marker = most probable component, size = uncertainty"
    ellipses = f"{ELLIPSE_LEVEL:.0%} ellipses of {source}"
    if X.shape[1] > 2:
        features = _pair_features(result)
        fig = _pair_grid(X, names, ax, pair, diag, features)
        left = _features_line(names, features, _pair_choice(result))
        # two lines: a grid of more than MAX_PAIR_FEATURES features is wide enough for the
        # title and the ellipses on one
        fig.suptitle((f"{title}; {ellipses}\n{left}" if left else f"{title}\n{ellipses}")
                     + (f"\n{shown}" if shown else ""))
        from matplotlib.lines import Line2D

        known = ([Line2D([], [], marker="+", ls="", color="black", markersize=8,
                         label="known label (in its component's colour)")]
                 if labelled is not None and np.any(labelled) else [])
        _legend_below(fig, titles[:K], G, known, curves=True)
        return fig
    fig, ax = _new_axes(ax)
    if X.shape[1] == 1:
        diag(ax, 0)
        # the density's scale, as the density figure beside it has one (QA: no tick labels,
        # heights not comparable); none below 0, where the points are jittered
        top = ax.get_ylim()[1]
        ax.set_yticks([t for t in MaxNLocator(4).tick_values(0.0, top) if 0.0 <= t <= top])
        _density_ticks(ax)
        ax.set(xlabel=names[0], ylabel="weighted component density")
    else:
        pair(ax, 1, 0)
        ax.set(xlabel=names[0], ylabel=names[1])
    from matplotlib.lines import Line2D

    one_d = X.shape[1] == 1  # curves too: a key entry shows the line style with the marker
    handles = [Line2D([], [], marker=_component_marker(k, G),
                      ls=_component_linestyle(k) if one_d and k < G else "",
                      color=_component_color(k, G), label=titles[k]) for k in range(K)]
    if labelled is not None and np.any(labelled):
        handles.append(Line2D([], [], marker="+", ls="", color="black", markersize=8,
                              label="known label (in its component's colour)"))
    # the key's sizes are the points' own: from certain to the most uncertain point drawn
    # (QA: it showed 0.67, which no point had, beside points of 1-2 px)
    keys = _key_uncertainties(uncertainty[drawn]) if K > 1 else []
    handles += [Line2D([], [], marker="o", ls="", color="0.4",
                       markersize=np.sqrt(_uncertainty_size(np.array([u]), K, panels)[0]
                                          * crowd),
                       # one size for all: say so (QA139 L2: a lone "uncertainty 0")
                       label=(f"uncertainty {format_number(u, 2)}" if len(keys) > 1 else
                              "every point certain (uncertainty < 0.005)"))
                for u in keys]
    handles += _edge_handles(ax)
    if (K > G or K > _INSIDE_KEY_MAX) and X.shape[1] == 2:
        # With noise points scattered everywhere, "best" still put the key over some of
        # them (QA: bottom centre), as a key of many components over the clusters: beside
        # the axes instead.
        ax.legend(handles=handles, fontsize="small", loc="upper left",
                  bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(handles=handles, fontsize="small", loc="best")
        if X.shape[1] == 2:
            _legend_off_points(ax, X[drawn, 0], X[drawn, 1])
    # Short lines: one long first line ran past a 6.4-inch figure's edge. The uncertainty
    # defined in 2-D too: the key's "uncertainty 0.33" said nothing of what it measures.
    ax.set_title("Classification: colour and marker = most probable component,\n"
                 "size = uncertainty (1 - max probability)"
                 + ("" if X.shape[1] == 1 else f"\n{ellipses}")
                 + (f"\n{shown}" if shown else ""))
    _clear_of_legend(ax)
    return fig


# Marker areas (points squared) of a certain point and of one as uncertain as can be
# (1 - 1/K): the certain ones large enough to see (QA: 6 drew them 1-2 px wide).
_CERTAIN_SIZE, _UNCERTAIN_SIZE = 14.0, 130.0


def _uncertainty_size(uncertainty: np.ndarray, K: int, panels: int = 1) -> np.ndarray:
    """Marker areas for points of ``uncertainty`` (1 - max membership) among ``K`` columns:
    from ``_CERTAIN_SIZE`` at 0 to ``_UNCERTAIN_SIZE`` at the largest possible, 1 - 1/K. In
    a pair grid of ``panels`` features a side, the growth shrinks with the panels' area
    beyond three a side (QA: at 6 a side, 200 uncertain rows covered every panel)."""
    if K < 2:
        return np.full(np.shape(uncertainty), _CERTAIN_SIZE)
    share = np.clip(np.asarray(uncertainty) / (1 - 1 / K), 0, 1)
    growth = (_UNCERTAIN_SIZE - _CERTAIN_SIZE) * min(1.0, (3.0 / panels) ** 2)
    return _CERTAIN_SIZE + growth * share


def _key_uncertainties(uncertainty: np.ndarray) -> list[float]:
    """The uncertainties the key shows: 0, and half of and the largest uncertainty drawn,
    two significant digits (only 0 when every point is certain to that precision)."""
    top = float(np.max(uncertainty, initial=0.0))
    if top < 0.005:
        return [0.0]
    rounded = float(f"{top:.2g}")
    return [0.0, float(f"{rounded / 2:.2g}"), rounded]


def _colours(assigned: np.ndarray, n_gaussians: int) -> np.ndarray:
    """(n, 4) RGBA: each point in its component's colour (``assigned``: component indices,
    ``n_gaussians`` the noise), for one scatter of all components in random order."""
    from matplotlib.colors import to_rgba_array

    palette = to_rgba_array([_component_color(k, n_gaussians)
                             for k in range(n_gaussians + 1)])
    return palette[assigned]


# A 2-D classification key of more components than this goes beside the axes: inside it
# covered clusters (K = 12).
_INSIDE_KEY_MAX = 6


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
            rug = _rug(panel, x, -0.03, markersize=10, alpha=0.5, label="data")
            if sel is not None and sel.any():
                panel.plot(x[sel], np.full(int(sel.sum()), -0.03), "+", color="black",
                           markersize=7, label="known label")
        panel.set(ylim=(-0.06, 1.03), xlim=(grid[0], grid[-1]))
    band = f" with its {on_grid.interval:.0%} interval" if bayes else ""
    title = f"Membership: P(k | x){' posterior mean' if bayes else ' (EM)'}{band}"
    shown = _shown_line(None, int(np.isfinite(x).sum()), rug)
    title += f"\n{shown}" if shown else ""
    panels[-1].set_xlabel(name)
    if panels[0] is panels[-1]:
        ax.set(ylabel="P(component | x)", title=title)
        # Beside the axes: the curves span the whole width, so any place inside covered one
        # where it crosses (QA, galaxies: component 2 at 30,000 km/s).
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0)
    else:
        for k, panel in enumerate(panels):
            panel.set_ylabel(f"P({titles[k]})" if len(titles[k]) < 16 else f"P({k})",
                             fontsize="small")
        fig.suptitle(title, fontsize="medium")
    # rows without a value, and far points past the grid, are counted as in the 2-D figures
    _note_outside(panels[-1], x)
    return fig


def _marked_titles(result: Any, n_gaussians: int, marked: Sequence[int]) -> list[str]:
    """The components' names, a dagger (†) after those in ``marked`` (indices): the
    components whose summaries describe no single cluster, as the report's tables mark them."""
    marked_set = {int(k) for k in marked}
    if not marked_set <= set(range(n_gaussians)):
        raise ValueError(f"marked: component indices 0 to {n_gaussians - 1}; got "
                         f"{sorted(marked_set)}")
    return [f"{t} \u2020" if k in marked_set else t
            for k, t in enumerate(_component_names(result, n_gaussians))]


@sizable
@_shared_docs
def plot_membership(result: Any, X: Any = None, ax: Axes | None = None, *,
                    proba: Any = None, n_uncertain: int = 10, labelled: Any = None,
                    rows: Any = None, marked: Sequence[int] = ()) -> Figure:
    """Points coloured by their most probable component, faded by how unsure that is.

    Opacity is the membership probability of the assigned component (solid: certain; faint:
    near 1/K). The ``n_uncertain`` most uncertain points (of those with both coordinates
    shown, and only points whose assigned component has probability below
    ``UNCERTAIN_BELOW``, 0.9: fewer when fewer are uncertain) are circled and labelled by row,
    as many as fit without overlap. The title says
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
        Points whose component was known: drawn with a black cross (+).
    rows : int array (N,), optional
        The row number of each point in the caller's data (default: the fitted result's
        own, which skip the rows the fit dropped; else 0, 1, ...).
    marked : sequence of int
        Components whose name gets a dagger (†), as in :func:`plot_classification`.

    With a noise component, P(noise | x) is one more curve (1-D) or category (black).
    """
    result = fit_of(result)  # a fitted BayesianGMM draws its posterior
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
    else:  # an EM fit's, or the caller's (with known labels: QA132)
        mean_p = result.predict_proba(X) if proba is None else np.asarray(proba)
    K = mean_p.shape[1]  # K + 1 with a noise component (its column last)
    G = em.n_components
    titles = _marked_titles(result, G, marked)
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
    # At most SCATTER_POINTS points (the title says so), in random order across the
    # components (drawn component by component, the last covered the first: QA); the
    # uncertain points are circled from all of them.
    drawn = _drawing_order(len(X))
    crowd, opacity = _crowding(drawn.size)
    gauss, noisy = drawn[assigned[drawn] < G], drawn[assigned[drawn] == G]
    colours = _colours(assigned[gauss], G)
    colours[:, 3] = alpha[gauss] * opacity
    _scatter_components(ax, X[gauss, i], X[gauss, j], assigned[gauss], G, s=18 * crowd,
                        c=colours, lw=0, edgecolors="none")
    if noisy.size:  # crosses: apart from the components' dots
        ax.scatter(X[noisy, i], X[noisy, j], s=22 * crowd, color=_component_color(G, G),
                   alpha=alpha[noisy] * opacity, marker="x", lw=0.9)
    _mark_labelled(ax, X, labelled, i, j, drawn)
    rows = _row_numbers(result, len(X)) if rows is None else rows
    keep = _claimed(mean_p, G)
    w_, m_, c_ = _point_estimate(result)  # as the classification's axes: a far group held
    ax.set(xlim=_group_limits(X[:, i], keep, w_, m_[:, i], c_[:, i, i]),
           ylim=_group_limits(X[:, j], keep, w_, m_[:, j], c_[:, j, j]))
    _note_outside(ax, X[:, i], X[:, j], keep, tick_colors=_colours(assigned, G))
    shown = np.flatnonzero(np.isfinite(X[:, i]) & np.isfinite(X[:, j]))  # both coordinates
    # Only uncertain points: spacing walked down the list to near-certain ones (QA: rows with
    # uncertainty 0.000 circled as "most uncertain" beside a table of 0.30-0.45).
    order = shown[np.argsort(certainty[shown], kind="stable")]
    order = order[certainty[order] < UNCERTAIN_BELOW]
    circled, spaced = _spread_uncertain(ax, X[:, [i, j]], order, n_uncertain)
    few = order.size < n_uncertain  # fewer uncertain points than asked for: the title says so
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
    shown = _shown_line(drawn.size, len(X))

    # uncertain points this pair cannot place (a coordinate missing): said, not circled
    unplaced = int(np.count_nonzero(certainty < UNCERTAIN_BELOW)) - order.size

    def title(n_labelled: int) -> None:
        _membership_title(ax, heading, circled.size, n_labelled, few, order.size, spaced,
                          unplaced)
        if shown:
            ax.set_title(f"{ax.get_title()}\n{shown}")

    title(circled.size)
    # a key entry per component with points (in its colour, not its first point's opacity)
    from matplotlib.lines import Line2D

    present = np.zeros(K, dtype=bool)
    present[np.unique(assigned[drawn])] = True
    handles = [Line2D([], [], marker=_component_marker(k, G), ls="",
                      color=_component_color(k, G), label=titles[k])
               for k in range(K) if present[k]]
    handles += [h for h, t in zip(*ax.get_legend_handles_labels(), strict=True)
                if t not in titles]  # "known label"
    ax.legend(handles=handles + _edge_handles(ax), fontsize="small")
    _legend_off_points(ax, X[drawn, i], X[drawn, j])
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


def _membership_title(ax: Axes, heading: str, n_circled: int, n_labelled: int,
                      few: bool = False, n_uncertain: int | None = None,
                      spaced: bool = False, unplaced: int = 0) -> None:
    """A membership figure's title: ``heading``, then what the circles mark (and how many of
    them are named by their row, when not all: the others' names would overlap); ``few``:
    fewer circled than asked for, as only ``n_uncertain`` of the points shown are uncertain
    (P < 0.9); ``spaced``: points too close to one circled were skipped; ``unplaced``:
    uncertain points the figure cannot place (a coordinate missing), so "shown". The counts
    agree with the caption's and the table's (QA: "the 3 uncertain points" where 5 were, 2
    skipped as too close; "the 1 uncertain point" beside "122 points below 0.9")."""
    # "named", not "labelled": known labels are another thing in these figures
    named = "" if n_labelled == n_circled else f" ({n_labelled} named)"
    level = f"P < {UNCERTAIN_BELOW:g}"
    shown = " shown" if unplaced else ""
    # QA: "the 1 uncertain point shown" beside a text of 45 uncertain rows, 44 of them with a
    # gap: where the title counts every uncertain point shown, those this panel cannot place
    # are counted on a line of their own (beside "the 15 most uncertain" two lines suffice)
    more = " more" if (n_uncertain or n_circled) else ""
    unplaced_line = (f"\n{unplaced:,}{more} with {level} lack a coordinate: not shown"
                     if unplaced and (few or not n_circled) else "")
    if not n_circled:
        line = f"no point{shown} has {level}: none circled"
    elif few:
        n_uncertain = max(n_circled, n_uncertain or 0)
        # the others lie too close to a circled one (QA: "2 of the 4" without a reason)
        line = (f"circled: {n_circled} of the {n_uncertain} uncertain points{shown} ({level}"
                + (f"; {n_uncertain - n_circled} too close to these" if spaced else "") + ")"
                if n_circled < n_uncertain else
                f"circled: the {n_circled} uncertain point{'s' if n_circled > 1 else ''}"
                f"{shown} ({level})") + named
    elif spaced:  # not strictly the most uncertain: those too close to one circled skipped
        line = f"circled: {n_circled} most uncertain{shown}, spaced out{named}"
    else:
        line = f"circled: the {n_circled} most uncertain points{shown}{named}"
    ax.set_title(f"{heading}\n{line}{unplaced_line}")


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
