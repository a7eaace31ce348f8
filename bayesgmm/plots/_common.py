"""The figures' shared parts: constants, docstrings, data and estimate accessors, axis
limits from the bulk of the data (the notes of what a panel leaves out:
:mod:`bayesgmm.plots._notes`).

Where it sits: the surface layer (:mod:`bayesgmm.plots`); imports the input checks, and EM's
result and the posterior for annotations only; imported by :mod:`bayesgmm.plots.fit` and
:mod:`bayesgmm.plots.diagnostics`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._docstrings import shared_docs
from .._validation import aligned_to_rows, check_data, check_sample_weight
from ..draw_arrays import membership_draws, subsample_index
from ..formatting import format_number

if TYPE_CHECKING:  # the posterior module imports ArviZ: an EM-only figure must not need it
    from ..em import EMResult
    from ..posterior import BayesResult


# Ellipses enclose this much probability of each Gaussian component.
ELLIPSE_LEVEL = 0.95
# The posterior intervals and bands of every figure: ArviZ's default, as in every table.
INTERVAL = 0.94
# A point counts as uncertain when the probability of its most probable component is below
# this: only such points are circled as "uncertain" (the report's table uses the same bound).
UNCERTAIN_BELOW = 0.9
# Pair grids show at most this many features (the most separating ones beyond).
MAX_PAIR_FEATURES = 6
_DATA_COLOR = "0.55"
# What a figure evaluates or draws per point is bounded, so that its cost stops growing with N
# where more points show nothing more (QA: at N = 200,000 the report took longer than the fit
# and 7 GB). Random subsets are seeded (subsample_index, seed 0: the same rows every time)
# and their size is said in the title and the report's caption.
# Points a scatter plot draws at most (markers beyond that only pile up into a solid blot).
SCATTER_POINTS = 20_000
# Ticks a rug draws at most (a 6-inch axis has 600 pixel columns: beyond, a solid bar).
_RUG_POINTS = 2000
# Points a curve's or a contour level's density estimate uses at most (the predictive
# check's KDEs; their error is a few percent of a level's share at this size).
_KDE_POINTS = 5000
# Values (draws x points x components) one array of a figure holds at most: 160 MB of
# floats, the budget of the posterior's own passes (bayesgmm.posterior._PASS_VALUES; not
# imported from there, as it loads ArviZ, which an EM report never needs: a test checks).
_MAX_VALUES = 20_000_000
# The widest a grid of small panels is drawn (inches): the report's column (1,068 pixels at
# its 100 pixels an inch). Wider, the page shrank it: ArviZ's 4 x 4 rank grid came out 15.4
# inches wide, its tick labels 6 pixels high on the page.
PAGE_WIDTH = 10.6
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
# puts it where a docstring has the line ``{name}``.
_PARAMETER_DOCS = {
    "result_and_data": """\
        result : BayesResult or EMResult
        X : array-like (N, D), optional
            Required for an EMResult; default for a BayesResult: its training data.""",
    "ax": """\
        ax : Axes, optional
            Only for D <= 2.""",
    "proba": """\
        proba : MembershipProbabilities or array (N, K), optional
            Reuse ``result.predict_proba(X)`` when already computed (an EM fit's
            array: with known labels, ``predict_proba(X, labels=)``).""",
}


def _sample_rows(n: int, limit: int, random_state: Any = 0) -> np.ndarray:
    """The rows (indices, in order) a figure evaluates: all ``n`` up to ``limit``, beyond
    that ``limit`` of them at random (:func:`~bayesgmm.draw_arrays.subsample_index`, seeded by
    ``random_state``: the same rows every time)."""
    return subsample_index(n, limit, random_state)


def _drawing_order(n: int, limit: int = SCATTER_POINTS) -> np.ndarray:
    """The rows a scatter plot draws, in the order it draws them: at most ``limit``
    (:func:`_sample_rows`), shuffled (seeded), so that where components overlap neither is
    painted wholly over the other (drawn component by component, the last one covered the
    first: QA, a third of the points hidden under another component's)."""
    return np.random.default_rng(0).permutation(_sample_rows(n, limit))


def _shown_line(shown: int | None, total: int, rug: int | None = None) -> str:
    """What a figure draws of ``total`` points when it draws fewer: "20,000 of 1,000,000
    points shown (a random subset)"; with ``rug`` (the ticks of the rugs) too, "(rugs: 2,000,
    ...)"; ``shown`` None (no scatter): "rug: 2,000 of 1,000,000 points (a random subset)".
    "" when every point is drawn."""
    rugs = rug is not None and rug < total
    if shown is None:
        return (f"rug: {format_number(rug)} of {format_number(total)} points (a random subset)"
                if rugs else "")
    if shown >= total:
        return ""
    return (f"{format_number(shown)} of {format_number(total)} points shown ("
            + (f"rugs: {format_number(rug)}; " if rugs else "") + "a random subset)")


def _rug(ax: Axes, x: np.ndarray, y: float, markersize: float, alpha: float,
         label: str | None = None) -> int:
    """A rug of ``x``'s observed values at height ``y``: at most :data:`_RUG_POINTS` ticks (a
    random subset beyond), fainter from 200 ticks on (a million ticks drew a solid black bar).
    Returns how many ticks were drawn."""
    x = _observed(x)
    x = x[_sample_rows(x.size, _RUG_POINTS)]
    ax.plot(x, np.full(x.size, y), "|", color="black", markersize=markersize,
            alpha=alpha * min(1.0, float(np.sqrt(200 / max(x.size, 1)))), label=label)
    return x.size


_shared_docs = shared_docs(_PARAMETER_DOCS)


def _component_names(fit: Any, n_gaussians: int) -> list[str]:
    """What every figure calls the components: ``"component 0 (long)"`` for a component whose
    known label is ``long`` (the tables' :func:`~bayesgmm.observation_record.component_titles`,
    from the fit's record), ``"component 1"`` otherwise, and ``"noise"`` last (index
    ``n_gaussians``: a noise component's column)."""
    from ..observation_record import component_titles

    return [f"component {t}" for t in component_titles(fit, n_gaussians)] + ["noise"]




def _mark_labelled(ax, X: np.ndarray, labelled: Any, i: int, j: int | None,
                   drawn: np.ndarray | None = None, colors: Any = None) -> None:
    """Cross the points whose component was known (``labelled``: bool (N,) or None) among
    the rows the scatter drew (``drawn``, :func:`_drawing_order`; default: the same rows as
    every scatter), so that every cross holds a drawn point (review); ``colors`` (N,): each
    point's colour for its cross (default black)."""
    if labelled is None or not np.any(labelled):
        return
    sel = _labelled_drawn(labelled, len(X) if drawn is None else drawn)
    y = X[sel, j] if j is not None else np.zeros(sel.size)
    # a cross over the point: an open square was lost on a component's filled squares (QA);
    # on a white halo, seen over its own component's dots
    ax.scatter(X[sel, i], y, s=60, color="black" if colors is None else np.asarray(
        colors)[sel], lw=1.0, marker="+", label="known label", zorder=2.5,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])


def _labelled_drawn(labelled: Any, drawn: Any) -> np.ndarray:
    """The labelled rows among those a scatter draws (``drawn``: the rows, or their number
    for :func:`_drawing_order`'s)."""
    rows = _drawing_order(drawn) if np.ndim(drawn) == 0 else np.asarray(drawn)
    return rows[np.asarray(labelled, dtype=bool)[rows]]


def _density_ticks(ax: Axes) -> None:
    """A density's y axis in numbers a reader takes in: 1.6 under a "×10⁻⁴" over the axis,
    not 0.00016 (a density per unit of a feature measured in thousands: galaxies' km/s;
    QA: "0.00016, 0.00014, ..." down the axis). Values between 0.01 and 10,000 stay as
    they are."""
    from matplotlib.ticker import ScalarFormatter

    formatter = ScalarFormatter(useMathText=True)
    formatter.set_powerlimits((-2, 4))
    ax.yaxis.set_major_formatter(formatter)


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


def fit_of(result: Any) -> Any:
    """The fit a figure or report draws: a fitted BayesianGMM's posterior (``result_``); a
    BayesResult or an EMResult as given. An estimator not fitted yet is a one-line error."""
    if _is_bayes(result) or not hasattr(result, "get_params"):
        return result
    if getattr(result, "result_", None) is None:
        # loaded already (``result`` is an estimator); scikit-learn's too where it is loaded
        from ..estimator_base import not_fitted_error

        raise not_fitted_error()(f"this {type(result).__name__} is not fitted yet: call fit(X) "
                                 "before drawing it")
    return result.result_


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
    Xv, _ = check_data(X, n_features=em.n_features, feature_names=em.fitted_names,
                       allow_nan=True)  # NaN: a missing value, drawn where it can be
    return Xv


def _fit_weights(result: Any, X: Any, sample_weight: Any, n_rows: int) -> np.ndarray | None:
    """The frequency weights of the rows drawn: ``sample_weight`` (one per row of ``X``, a
    pandas Series matched by index), else a posterior's own when its training data are drawn
    (``X`` None); None for unweighted rows (all weights 1)."""
    if sample_weight is None and X is None and _is_bayes(result):
        observed = result.idata["observed_data"]
        sample_weight = observed["sample_weight"].values if "sample_weight" in observed \
            else None
    if sample_weight is None:
        return None
    g = check_sample_weight(aligned_to_rows(sample_weight, X, "sample_weight"), n_rows)
    return None if np.all(g == 1.0) else g


def _unweighted_note(result: Any, g: np.ndarray | None) -> str:
    """For a weighted fit drawn without its weights (an EMResult keeps none): say that the
    rows are drawn once each, as the figure then shows them; "" otherwise."""
    em = _em_of(result)
    if g is None and (getattr(em, "observations", None) or {}).get("weighted"):
        return "rows drawn once each: pass sample_weight for the fit's weights"
    return ""


def _weighted_rows(X: np.ndarray, g: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` and its weights without the rows of weight 0: no rows of the fit, they must not
    stretch an axis, set the bins or take a scatter's slots either."""
    if g is None or np.all(g > 0):
        return X, g
    return X[g > 0], g[g > 0]


def _weighted_line(g: np.ndarray | None, n_rows: int) -> str:
    """What the rows of a weighted fit stand for, for a figure's title: "53 rows standing for
    82 observations (frequency weights)"; "" without weights."""
    if g is None:
        return ""
    if np.all(g == np.round(g)):
        return (f"{format_number(n_rows)} rows standing for {format_number(float(g.sum()))} "
                "observations (frequency weights)")
    return f"{format_number(n_rows)} rows of total weight {format_number(float(g.sum()))}"


def _weight_sizes(g: np.ndarray | None, rows: np.ndarray) -> np.ndarray | float:
    """Marker area factors of ``rows`` in proportion to their frequency weights (a row of
    weight 0 is no row: area 0), relative to the typical weight and clipped to [0.2, 10]
    so that neither a heavy row hides the rest nor a light one vanishes; 1 without
    weights."""
    if g is None:
        return 1.0
    typical = float(np.median(g[g > 0]))
    return np.where(g[rows] > 0, np.clip(g[rows] / typical, 0.2, 10.0), 0.0)


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
    """(N, K) membership probabilities: posterior mean (over
    :func:`~bayesgmm.draw_arrays.membership_draws` draws), or the EM responsibilities."""
    if not _is_bayes(result):
        return result.predict_proba(X)
    columns = result.n_components + int(bool(getattr(result, "noise", False)))
    return result.predict_proba(X, max_draws=membership_draws(len(X), columns)).mean


def _pair_choice(result: Any) -> str:
    """How :func:`_pair_features` chose: by separation, or (one component: nothing to
    separate; QA: "the most separating" of K=1) the first features."""
    return "the most separating" if result.n_components > 1 else "the first"


def _pair_features(result: Any) -> list[int]:
    """All features up to MAX_PAIR_FEATURES; beyond, the ones whose component means differ
    most relative to the within-component spread (in their original order), at the EM
    estimate (a posterior's start): one choice for every figure of a fit (QA: the overlay
    ranked by EM and the others by the posterior median, and left out other features)."""
    em = result.em if _is_bayes(result) else result
    weights, means = em.weights, em.means
    covariances = em.full_covariances
    D = means.shape[1]
    if D <= MAX_PAIR_FEATURES or len(weights) == 1:
        return list(range(min(D, MAX_PAIR_FEATURES)))
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
# outwards through the sorted values until a gap wider than this share of that range (about
# 2 sd of a Gaussian). QA: at a quarter, 47% of 8-feature figures of 600 Gaussian rows cut an
# ordinary tail (3.3 sd) and said so in every panel of its row and column; at a half, 0.5%,
# and a point 10 sd out is still left out.
_BULK_GAP = 0.5


def _bulk(x: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """bool (N,): the observed values of ``x`` (in ``keep``, :func:`_claimed`, when given)
    that make the bulk of the data, so that a few gross outliers do not stretch an axis and
    shrink the clusters to a dot (with or without a noise component).

    From the central 95% of the values the bulk extends outwards through the sorted values
    until a gap wider than ``_BULK_GAP`` (a half) of that central range: a long tail or a
    small far group joined by its points stays; isolated far points are left out (a figure
    counts them in a note, :func:`bayesgmm.plots._notes._note_outside`)."""
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


def _label_to_panel(ax: Axes, text: str, axis: str) -> str:
    """``text`` shortened (:func:`_ellipsize`) to what fits along the panel's ``axis`` ("x":
    its width, "y": its height) at the axis label's size (QA: in a pair grid,
    "serum_total_cholesterol_mg_per_dL" ran into the next panel's label, and a y label
    reached into the row below)."""
    fig = ax.figure
    spec = ax.get_subplotspec()
    if spec is not None:  # a grid's cell, less the gaps (positions before the layout ran
        grid = spec.get_gridspec()  # are the default's, a quarter smaller)
        span_pt = 72 * (0.88 * fig.get_figwidth() / grid.ncols if axis == "x"  # the title
                        else 0.78 * fig.get_figheight() / grid.nrows)  # and legend take height
    else:
        position = ax.get_position()
        span_pt = 72 * (position.width * fig.get_figwidth() if axis == "x"
                        else position.height * fig.get_figheight())
    size = (ax.xaxis if axis == "x" else ax.yaxis).label.get_fontsize()
    return _ellipsize(text, max(8, int(span_pt / (0.64 * size))))


def _observed(x: np.ndarray) -> np.ndarray:
    """A feature's observed values (NaN marks a missing one; histograms need them out)."""
    return x[~np.isnan(x)]


def _row_numbers(result: Any, n: int) -> np.ndarray:
    """How the caller names each of the ``n`` fitted points: a posterior stores it (its index
    label, else its row number; rows the fit dropped are skipped); otherwise 0, 1, ..."""
    rows = getattr(result, "row_names", None)
    return rows if rows is not None and len(rows) == n else np.arange(n)
