"""Figure layout: the pair a membership figure shows, limits that hold what is drawn, labels
and legends that cover nothing, an EM convergence panel that draws a negligible change flat."""

import dataclasses
import io
import itertools
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from conftest import posterior_stand_in  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bayesgmm import fit_em, plots  # noqa: E402
from bayesgmm.selection.plots import plot_criteria  # noqa: E402


def _joint_separation_data(seed: int = 1, n: int = 150) -> pd.DataFrame:
    """4-D, three groups: b and dd each set group 0 far apart, but groups 1 and 2 differ
    only across the correlated (a, b) direction, which no single feature shows."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.95], [0.95, 1.0]])
    ab = np.r_[rng.multivariate_normal([0, 4], cov, n), rng.multivariate_normal([0, 0], cov, n),
               rng.multivariate_normal([0.6, -0.6], cov, n)]
    rest = rng.normal(0, 1, (3 * n, 2))
    rest[:n, 1] += 6.0
    return pd.DataFrame(np.c_[ab, rest], columns=["a", "b", "c", "dd"])


def _inside(ax, x, y) -> bool:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return bool(np.all((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)))


# --------------------------------------------------------------------------------------------
# 1. the most separating pair
# --------------------------------------------------------------------------------------------
def test_membership_shows_the_pair_that_separates_every_component():
    X = _joint_separation_data()
    em = fit_em(X, 3, n_init=20, random_state=0)  # its optimum (5 restarts: not always)
    assert plots.fit._two_most_separating(em.weights, em.means, em.full_covariances) == (0, 1)
    title = plots.plot_membership(em, X).axes[0].get_title()
    assert "of a and b (the most separating pair)" in title


def test_most_separating_pair_among_twenty_features():
    """Features 7 and 13 separate components 1 and 2 only jointly; 3 and 16 each set
    component 0 far apart (the best two features one at a time) but leave 1 and 2 together."""
    D, K = 20, 3
    means = np.zeros((K, D))
    means[0, [3, 16]] = 8.0
    means[0, 13] = 4.0
    means[2, [7, 13]] = [0.6, -0.6]
    covariances = np.broadcast_to(np.eye(D), (K, D, D)).copy()
    covariances[:, 7, 13] = covariances[:, 13, 7] = 0.95
    weights = np.full(K, 1 / K)
    assert plots.fit._two_most_separating(weights, means, covariances) == (7, 13)
    # one component: nothing to separate, a valid pair all the same
    assert plots.fit._two_most_separating(weights[:1], means[:1], covariances[:1]) == (0, 1)


# --------------------------------------------------------------------------------------------
# 2. the criteria's delta panel holds values below the best
# --------------------------------------------------------------------------------------------
def test_delta_criteria_axes_hold_cells_below_the_best():
    table = pd.DataFrame({
        "n_components": [1, 2, 3, 4] * 2,
        "covariance_type": ["full"] * 4 + ["diag"] * 4,
        "bic": [500.0, 100, 120, 140, 800, 150, 52, 88],
        "icl": [500.0, 110, 140, 160, 800, 160, 83, 101],
        "degenerate": [False] * 6 + [True] * 2,  # below the best eligible: -48 and -12
    })
    fig = plot_criteria(table, criteria=("bic", "icl"), delta=True)
    for axis in fig.axes:
        low, high = axis.get_ylim()
        drawn = np.concatenate([line.get_ydata() for line in axis.lines
                                if line.get_label() in ("full", "diag", "excluded from best")])
        assert drawn.min() < 0 and low < drawn.min() and high > drawn.max()
        # room below the lowest cross, on the panel's own scale
        scale = axis.yaxis.get_transform()
        t_low, t_min, t_high = scale.transform(np.array([low, drawn.min(), high]))
        assert (t_min - t_low) > 0.02 * (t_high - t_low)
    # nothing below the best: the floor stays just under 0
    table["degenerate"] = False
    table.loc[[6, 7], ["bic", "icl"]] = 300.0
    assert plot_criteria(table, criteria="bic", delta=True).axes[0].get_ylim()[0] == -0.5


def test_the_covariance_types_differ_in_shape_as_well_as_colour():
    """QA102: four colours, one marker and one solid line: full and spherical printed as one
    grey, diag and spherical a deuteranope's confusion pair."""
    types = ["full", "tied", "diag", "spherical"]
    table = pd.DataFrame({"n_components": [1, 2] * 4, "covariance_type": np.repeat(types, 2),
                          "bic": np.arange(8.0)})
    lines = {line.get_label(): line for line in plot_criteria(table, criteria="bic").axes[0].lines}
    looks = [(lines[t].get_marker(), lines[t].get_linestyle()) for t in types]
    assert len(set(looks)) == 4 and len({lines[t].get_color() for t in types}) == 4


def test_a_lone_cell_keeps_the_delta_scale_and_its_guides():
    """QA (select -k 3): one cell at 0 got an axis from -0.5 to 0.055 with colliding tick
    labels, no guide in view, and a layout warning on stderr."""
    table = pd.DataFrame({"n_components": [3], "covariance_type": ["full"], "bic": [640.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # constrained_layout's "axes sizes collapsed"
        fig = plot_criteria(table, criteria="bic", delta=True)
        fig.canvas.draw()
    low, high = fig.axes[0].get_ylim()
    assert low == -0.5 and high >= 20  # every guide (2, 6, 10) in view


# --------------------------------------------------------------------------------------------
# 3. membership labels do not print over each other
# --------------------------------------------------------------------------------------------
def test_membership_row_labels_do_not_overlap():
    rng = np.random.default_rng(1)
    # a clump of near-duplicate rows between the groups: the most uncertain, all in one spot
    X = np.r_[rng.normal([0, 0], 1, (200, 2)), rng.normal([3, 0], 1, (200, 2)),
              rng.normal([1.5, 0], 0.03, (8, 2))]
    em = fit_em(X, 2, random_state=0)
    fig = plots.plot_membership(em, X, n_uncertain=15)
    ax = fig.axes[0]
    fig.draw_without_rendering()
    labels = [t for t in ax.texts if t.get_text().isdigit()]
    boxes = [t.get_window_extent() for t in labels]
    assert all(not a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    # the most uncertain point keeps its label; the title says how many fit
    certainty = em.predict_proba(X).max(axis=1)
    assert str(int(np.argmin(certainty))) in {t.get_text() for t in labels}
    # the clump's points are spaced out (one circle among them): the title says so
    assert len(labels) < 15 and ("circled: 15 most uncertain, spaced out "
                                 f"({len(labels)} named)") in ax.get_title()
    # apart points: every label
    few = plots.plot_membership(em, X, n_uncertain=2).axes[0]
    assert sum(t.get_text().isdigit() for t in few.texts) == 2
    assert "named" not in few.get_title()


# --------------------------------------------------------------------------------------------
# 4. the forest plot's key covers no panel
# --------------------------------------------------------------------------------------------
def test_forest_key_is_outside_the_panels(tiny_fit):
    fig = plots.plot_forest(tiny_fit)
    assert not any(a.get_legend() for a in fig.axes)
    (key,) = fig.legends
    assert {"EM", "posterior median", "50% interval", "94% interval"} <= {
        t.get_text() for t in key.get_texts()}
    fig.draw_without_rendering()
    box = key.get_window_extent()
    assert not any(box.overlaps(a.get_window_extent()) for a in fig.axes if a.axison)


# --------------------------------------------------------------------------------------------
# 5. the overlay holds its ellipses
# --------------------------------------------------------------------------------------------
def test_overlay_limits_hold_the_ellipses():
    # few points per group: the 95% ellipses reach past the data's extremes
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal([0, 0], 1, (25, 2)), rng.normal([6, 0], 1, (25, 2))]
    em = fit_em(X, 2, random_state=0)
    ax = plots.plot_overlay(em, X=X).axes[0]
    ellipses = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert len(ellipses) == 2
    assert all(_inside(ax, line.get_xdata(), line.get_ydata()) for line in ellipses)


def test_overlay_limits_hold_the_posterior_draws(tiny_fit):
    ax = plots.plot_overlay(tiny_fit, n_draws=30).axes[0]
    ellipses = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert len(ellipses) == 2 * 31
    assert all(_inside(ax, line.get_xdata(), line.get_ydata()) for line in ellipses)


def test_overlay_pair_grid_diagonal_spans_its_feature_as_its_neighbours_do():
    """QA (50,000 rows): the overlay's CD8 diagonal spanned the bulk of the data alone and
    left out a 2% cluster 10 sds away, which the CD8 axes of the panels beside it showed
    (their limits hold the components' ellipses). Now each diagonal spans its feature as the
    2-D panels do."""
    rng = np.random.default_rng(2)
    X = np.r_[rng.normal(0, 1, (1960, 3)), rng.normal([0, 0, 10], 0.3, (40, 3))]
    em = fit_em(X, 2, n_init=3, random_state=0)
    fig = plots.plot_overlay(em, X=X)
    last = [a for a in fig.axes if a.axison]
    row = [a for a in last if a.get_ylabel() == "x2"]  # the x2 row's first 2-D panel
    diagonal = [a for a in last if a.get_xlabel() == "x2"]  # the bottom right
    assert len(row) == 1 and len(diagonal) == 1
    assert diagonal[0].get_xlim()[1] > 10.5  # the small cluster is on the panel
    np.testing.assert_allclose(diagonal[0].get_xlim(), row[0].get_ylim(), atol=0.05)
    # the density and membership figures of the same report hold it too (they set their
    # axes by the bulk alone, counting its 40 points "beyond the axes")
    density = plots.plot_density(em, X=X)
    held = [a for a in density.axes if a.axison and "x2" in (a.get_xlabel(), a.get_ylabel())]
    assert held and all(max(a.get_xlim()[1] if a.get_xlabel() == "x2" else -np.inf,
                            a.get_ylim()[1] if a.get_ylabel() == "x2" else -np.inf) > 10.5
                        for a in held)
    membership = plots.plot_membership(em, X=X).axes[0]
    assert "x2" in (membership.get_xlabel(), membership.get_ylabel())
    assert max(membership.get_xlim()[1], membership.get_ylim()[1]) > 10.5
    # review: a compact component far beyond (a sentinel -999 in 2% of rows) does not pull
    # the axis toward it, shrinking the clusters, while still off it
    X[-40:, 2] = -999.0 + rng.normal(0, 0.3, 40)
    em = fit_em(X, 2, n_init=3, random_state=0)
    low = [a.get_xlim()[0] for a in plots.plot_overlay(em, X=X).axes
           if a.axison and a.get_xlabel() == "x2"][0]
    assert low > -20


def _one_line(text) -> str:
    """A note's text with its wrapping undone (notes wrap to their panel's width)."""
    return " ".join(text.get_text().split())


def test_overlay_with_noise_is_set_around_the_claimed_points(old_faithful):
    X = np.vstack([old_faithful.to_numpy(), [[50.0, 2000.0], [-3.0, 500.0]]])
    em = fit_em(X, 2, noise=True, n_init=10, random_state=1)
    ax = plots.plot_overlay(em, X=X).axes[0]
    assert ax.get_xlim()[1] < 10 and ax.get_ylim()[1] < 200  # the clusters, not the outliers
    assert "2 noise point(s) beyond the axes (triangles at the edge)" in \
        [t.get_text() for t in ax.texts]
    ellipses = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert all(_inside(ax, line.get_xdata(), line.get_ydata()) for line in ellipses)
    # the pair grid too
    X3 = np.c_[X, X[:, 0] + np.random.default_rng(0).normal(0, 0.3, len(X))]
    em3 = fit_em(X3, 2, noise=True, n_init=10, random_state=1)
    grid = plots.plot_overlay(em3, X=X3)
    lower = [a for a in grid.axes if a.axison and a.collections and not a.patches]
    assert len(lower) == 3
    assert all(np.abs([*a.get_xlim(), *a.get_ylim()]).max() < 200 for a in lower)
    assert all(any("beyond the axes" in _one_line(t) for t in a.texts) for a in lower)
    diagonal = [a for a in grid.axes if a.axison and a.patches]
    assert len(diagonal) == 3 and all(a.get_xlim()[1] < 200 for a in diagonal)
    # QA: the density and classification grids' diagonals still spanned the outliers
    for figure in (plots.plot_density(em3, X=X3), plots.plot_classification(em3, X=X3)):
        diagonal = [a for a in figure.axes if a.axison and not a.get_yticks().size]
        assert len(diagonal) == 3
        assert all(np.abs(a.get_xlim()).max() < 200 for a in diagonal)
        assert all(any("beyond the axes" in _one_line(t) for t in a.texts) for a in diagonal)
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 200), rng.normal(6, 1, 200), -50.0, 60.0, 80.0]
    one_d = fit_em(x, 2, noise=True, n_init=10, random_state=1)
    ax = plots.plot_density(one_d, X=x).axes[0]
    area = sum(p.get_height() * p.get_width() for p in ax.patches)  # per unit of all points
    assert -10 < ax.get_xlim()[0] and ax.get_xlim()[1] < 20
    assert area == pytest.approx(400 / 403)
    assert "3 noise point(s) beyond the axes" in [t.get_text() for t in ax.texts]


# --------------------------------------------------------------------------------------------
# 6. a negligible EM change looks negligible
# --------------------------------------------------------------------------------------------
def test_em_convergence_of_a_polish_is_flat_and_readable():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal([0, 0], 1, (200, 2)), rng.normal([3, 0], 1, (200, 2))]
    converged = fit_em(X, 2, random_state=0, tol=1e-10, max_iter=5000)
    polish = fit_em(X, 2, init=converged, random_state=0)
    change = np.ptp(polish.history)
    assert change < 1e-3  # the premise: the start had converged
    fig = plots.plot_em_convergence(polish)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert high - low >= 1.0 and low < polish.history[-1] < high
    assert any(t.get_text().startswith(f"changed by {change:.2g}") for t in ax.texts)
    fig.draw_without_rendering()
    assert ax.yaxis.get_offset_text().get_text() == ""
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(len(t.replace("\u2212", "").replace("-", "").replace(".", "")) <= 8
                         for t in ticks), ticks
    # a real run keeps its autoscaled climb and no note
    climb = plots.plot_em_convergence(fit_em(X, 2, random_state=0)).axes[0]
    assert not climb.texts


def test_forest_and_membership_draw_into_given_axes(tiny_fit):
    """The key and the labels need no constrained layout: a caller's plain figure works."""
    fig = Figure(figsize=(12, 3))
    axes = fig.subplots(1, 3)
    assert plots.plot_forest(tiny_fit, axes=axes) is fig
    assert axes[0].get_legend() is not None and not fig.legends
    fig2 = Figure()
    assert plots.plot_membership(tiny_fit, ax=fig2.add_subplot()) is fig2
    assert any(t.get_text().isdigit() for t in fig2.axes[0].texts)


def test_the_mixture_band_is_not_drawn_in_a_component_colour():
    """QA: the posterior mixture density's band and mean were blue, component 0's colour in
    the same figure's legend; the whole mixture is black in every figure."""
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 100), rng.normal(5, 1, 100)]
    fig = Figure()
    ax = fig.subplots()
    S = 20
    plots.fit._overlay_1d(ax, x, np.array([0.5, 0.5]), np.array([0.0, 5.0]), np.ones(2),
                      np.full((S, 2), 0.5), rng.normal([0, 5], 0.1, (S, 2)), np.ones((S, 2)))
    band = next(c for c in ax.collections if c.get_label().endswith("band"))
    assert band.get_facecolor()[0][:3] == pytest.approx(to_rgba("black")[:3])
    mean = next(line for line in ax.lines if line.get_label() == "posterior mean density")
    assert to_rgba(mean.get_color()) == to_rgba("black") != to_rgba("C0")


def test_contour_levels_with_noise_come_from_the_gaussians_points():
    """QA: with far noise points the outer level (95% of all points) sat at the noise points'
    tiny density, far beyond the zoomed axes, which cut it into a stray arc."""
    from matplotlib.contour import ContourSet

    rng = np.random.default_rng(0)
    X2 = np.r_[rng.normal(0, 1, (300, 2)), rng.uniform(-40, 40, (30, 2))]
    keep = np.r_[np.ones(300, bool), np.zeros(30, bool)]
    w, m, c = np.ones((1, 1)), np.zeros((1, 1, 2)), np.eye(2)[None, None]
    levels = {}
    for name, k in (("all", None), ("claimed", keep)):
        ax = Figure().subplots()
        plots.fit._contours(ax, X2, w, m, c, keep=k)
        (contour,) = [a for a in ax.get_children() if isinstance(a, ContourSet)]
        levels[name] = contour.levels
    at_claimed = plots.fit._density_2d(X2[:300], w, m, c)
    assert levels["claimed"][0] == pytest.approx(np.quantile(at_claimed, 0.05))
    assert levels["all"][0] < 0.1 * levels["claimed"][0]


# --------------------------------------------------------------------------------------------
# 7. QA: gross outliers stretch no axes, with or without a noise component
# --------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:component")  # a component on one outlier: as in QA
@pytest.mark.parametrize("figure", ["data", "density", "classification", "membership",
                                    "overlay"])
def test_gross_outliers_without_noise_are_noted_not_shown(old_faithful, figure):
    X = np.vstack([old_faithful.to_numpy(), [[50.0, 2000.0], [-30.0, -500.0]]])
    em = fit_em(X, 2, n_init=5, random_state=1)
    fig = (plots.plot_data(X) if figure == "data" else
           getattr(plots, f"plot_{figure}")(em, X=X))
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert -5 < x0 and x1 < 10 and 0 < y0 and y1 < 200  # the clusters, not the outliers
    # (where a component sits out at them, the note names it too)
    assert any(t.get_text().startswith("2 point(s) beyond the axes") for t in ax.texts)


def test_bulk_keeps_a_small_far_group_joined_by_its_points_and_drops_isolated_ones():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 300), rng.normal(8, 1, 30)]  # a 9% group: all of it
    assert plots._common._bulk(x).all()
    far = np.r_[x, 60.0, -45.0, np.nan]
    assert plots._common._bulk(far).sum() == x.size
    three = np.c_[far, far + rng.normal(0, 0.3, far.size), far - rng.normal(0, 1, far.size)]
    em = fit_em(three[:-1], 2, random_state=0)
    grid = plots.plot_density(em, X=three[:-1])
    panels = [a for a in grid.axes if a.axison]
    assert all(np.abs([*a.get_xlim()]).max() < 20 for a in panels)
    assert all(any(t.get_text().startswith("2 point(s) beyond the axes") for t in a.texts)
               for a in panels)


# --------------------------------------------------------------------------------------------
# 8. QA: the overlay's legend, the membership title fit the figure
# --------------------------------------------------------------------------------------------
def test_grid_legend_with_long_entries_fits_the_figure():
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(7.8, 7.8), layout="constrained")
    fig.subplots(3, 3)
    extra = [Line2D([], [], label="posterior mixture density (diagonal)"),
             Line2D([], [], label="its 94% band"), Line2D([], [], label="EM")]
    plots.fit._legend_below(fig, [f"component {k} (a long label)" for k in range(4)], 4, extra)
    (legend,) = fig.legends
    fig.draw_without_rendering()
    box, page = legend.get_window_extent(), fig.bbox
    assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0


@pytest.mark.parametrize("case", ["2-D", "long names", "missing values"])
def test_membership_title_is_two_short_lines(case):
    """QA: with long names, a row of missing values and crowded labels the title ran to five
    lines; two now (the caption says the rest), each inside the figure."""
    X = _joint_separation_data()
    if case == "2-D":
        X = X[["a", "b"]]
    if case != "2-D":
        X.columns = ["length_of_the_sample_mm", "width_of_the_sample_mm", "c", "dd"]
    if case == "missing values":
        X.iloc[::20, 0] = np.nan
    em = fit_em(X, 3, n_init=3, random_state=0)
    fig = plots.plot_membership(em, X, n_uncertain=15)
    ax = fig.axes[0]
    lines = ax.get_title().split("\n")
    assert len(lines) == 2 and all(len(line) <= 60 for line in lines), lines
    fig.draw_without_rendering()
    box = ax.title.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    # up to 15: spacing passes over clustered points, and only uncertain ones are circled
    assert re.match(r"circled: (the )?(1[0-5]|[1-9]) most uncertain", lines[1]), lines[1]
    if case != "2-D":
        assert "most separating pair" in lines[0]


@pytest.mark.parametrize("plot", ["plot_data", "plot_density", "plot_classification",
                                  "plot_overlay"])
def test_a_pair_grids_title_names_what_it_leaves_out_inside_the_figure(plot):
    """QA157 M1: with 13 features of long names a pair grid shows 6, and its title's line
    "6 of 13 features (...); not shown: ..." ran off both sides of the figure: the part lost
    was the one saying that the grid is partial. The figure's title wraps to its width."""
    rng = np.random.default_rng(0)
    names = [f"{word}_of_the_sample" for word in ("alcohol", "malic_acid", "ash", "alcalinity",
                                                   "magnesium", "total_phenols", "flavanoids",
                                                   "nonflavanoid_phenols", "proanthocyanins",
                                                   "color_intensity", "hue", "od280_od315",
                                                   "proline")]
    centres = rng.normal(0, 3, (3, len(names)))
    X = pd.DataFrame(np.vstack([c + rng.normal(size=(60, len(names))) for c in centres]),
                     columns=names)
    em = fit_em(X, 3, covariance_type="diag", n_init=2, random_state=0)
    fig = plots.plot_data(X) if plot == "plot_data" else getattr(plots, plot)(em, X)
    fig.draw_without_rendering()
    text = next(t for t in fig.findobj(matplotlib.text.Text)
                if t.axes is None and t.get_text() == fig.get_suptitle())
    box = text.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width, (box, fig.bbox.width)
    assert re.search(r"\b6 of 13 features \(", fig.get_suptitle())
    left_out = fig.get_suptitle().replace("\n", " ").split("not shown: ")[1]
    assert left_out.count("_of_the_sample") == 7  # every one named, none lost
    # nothing the title names is covered by a panel
    assert all(box.y0 >= ax.get_window_extent().y1 - 1 for ax in fig.axes if ax.axison)


def test_membership_title_fits_the_figure_with_long_names():
    X = _joint_separation_data()
    X.columns = ["length_of_the_sample_mm", "width_of_the_sample_mm", "c", "dd"]
    em = fit_em(X, 3, n_init=20, random_state=0)
    fig = plots.plot_membership(em, X)
    ax = fig.axes[0]
    fig.draw_without_rendering()
    box = ax.title.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    # too long to name on one line: the pair is named by the axes
    assert "most separating pair" in ax.get_title()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("length_of_the_sample_mm",
                                                  "width_of_the_sample_mm")
    # few labels, none over another circled point
    labels = [t for t in ax.texts if t.get_text().isdigit()]
    assert 0 < len(labels) <= plots.fit._MAX_LABELS


# --------------------------------------------------------------------------------------------
# 9. QA: the forest plot's intervals show; 1-D figures have a density scale and a legible band
# --------------------------------------------------------------------------------------------
def test_forest_intervals_are_wider_than_their_markers(tiny_fit):
    fig = plots.plot_forest(tiny_fit)
    means = [a for a in fig.axes if a.get_title().startswith("mean of")]
    assert len(means) == 2
    for a in means:
        widest = max(abs(np.ptp(line.get_xdata())) for line in a.lines
                     if len(line.get_xdata()) == 2)
        assert widest > 0.08 * abs(np.ptp(a.get_xlim()))
        if "posterior median" in a.get_title():  # centred: the rows give the medians
            assert all(":" in t.get_text() for t in a.get_yticklabels())
            # to the digits the posterior sd leaves (referee: "0.007538" with sd 0.1)
            from bayesgmm.plots.diagnostics import _median_digits

            feature = a.get_title().split("\n")[0].removeprefix("mean of ")
            draws = tiny_fit.posterior["means"].sel(feature=feature).values.reshape(-1, 2)
            expected = [_median_digits(m, sd) for m, sd in zip(
                np.median(draws, axis=0), draws.std(axis=0), strict=True)]
            shown = [t.get_text().rsplit(": ", 1)[1] for t in a.get_yticklabels()]
            assert sorted(shown) == sorted(expected)
    # the report's caption learns the same answer from the same function (referee: a
    # caption that never said when the panels were centred)
    from bayesgmm.plots.diagnostics import forest_means_centred

    assert forest_means_centred(tiny_fit) == any("posterior median" in a.get_title()
                                                 for a in means)


def test_a_point_estimates_contours_come_from_a_fine_grid(old_faithful, tiny_fit,
                                                          density_sizes):
    """Referee: an EM report's contours turned corners on a 150-point grid spanning three
    times the data; a point estimate's is 300 a side, a posterior's (averaged over 100
    draws, each costing the grid again) stays 150."""
    sizes = density_sizes
    plots.plot_density(fit_em(old_faithful, 2, random_state=0), old_faithful)
    assert 300 ** 2 in sizes
    sizes.clear()
    plots.plot_density(tiny_fit)
    assert 150 ** 2 in sizes and 300 ** 2 not in sizes


def test_forest_marks_the_components_the_table_marks(tiny_fit):
    """Referee: the table daggered components whose summaries describe no single cluster and
    the forest plot beside it drew them unmarked."""
    fig = plots.plot_forest(tiny_fit, marked=(1,))
    fig.draw_without_rendering()
    for a in fig.axes:
        labels = [t.get_text() for t in a.get_yticklabels()]
        if labels:
            assert [("\u2020" in t) for t in labels] == [False, True], labels
    with pytest.raises(ValueError, match=r"marked: component indices 0 to 1; got \[5\]"):
        plots.plot_forest(tiny_fit, marked=(5,))


def test_forest_scale_is_set_by_the_components_to_report(old_faithful):
    """Big-data QA (K too large): a daggered component the data do not locate spanned +-20
    in a centred panel where the others' intervals were +-1, drawn as dots. The rows without
    a dagger set the scale; a dagger row running off has an arrow at the edge it crosses."""
    result = posterior_stand_in(old_faithful, 3, draws=200)
    means = result.idata["posterior"]["means"].values
    centre = np.median(means[:, :, 2], axis=(0, 1))
    means[:, :, 2] = centre + 40 * (means[:, :, 2] - centre)  # component 2: 40x as wide
    fig = plots.plot_forest(result, marked=(2,))
    fig.draw_without_rendering()
    flat = means.reshape(-1, 3, means.shape[-1])
    reaches = []
    for i, a in enumerate(fig.axes[1:3]):
        spread = flat[:, :2, i] - np.median(flat[:, :2, i], axis=0)
        reaches.append(np.abs(np.quantile(spread, [0.03, 0.97], axis=0)).max())
        low, high = a.get_xlim()
        assert high == pytest.approx(-low) and reaches[i] < high < 3 * reaches[i]
        arrows = [line for line in a.get_lines() if line.get_marker() in ("<", ">")]
        assert len(arrows) == 2 and "run off" in a.get_xlabel()
        assert not [t for t in a.texts if t.get_text().startswith("EM ")]  # EM on the axis
    # QA162 M3: an EM estimate beyond the axis was left out in silence: its value at the edge
    shifted = dataclasses.replace(result, em=dataclasses.replace(
        result.em, means=result.em.means + np.array([[0, 0], [0, 0], [30 * reaches[0], 0]])))
    fig = plots.plot_forest(shifted, marked=(2,))
    fig.draw_without_rendering()
    said = [t.get_text() for t in fig.axes[1].texts]
    assert len(said) == 1 and said[0].startswith("EM +") and "its value" in \
        fig.axes[1].get_xlabel()
    # unmarked, every interval shows whole
    fig = plots.plot_forest(result)
    assert fig.axes[1].get_xlim()[1] > 10 * reaches[0]
    assert not [line for line in fig.axes[1].get_lines() if line.get_marker() in ("<", ">")]


def test_one_dimensional_density_has_tick_labels_and_a_distinct_band(galaxies):
    x = np.asarray(galaxies, dtype=float).reshape(-1, 1)
    em = fit_em(x, 3, random_state=0)
    fig = plots.plot_density(em, x)
    fig.draw_without_rendering()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    ax = Figure().subplots()
    rng = np.random.default_rng(0)
    S = 20
    plots.fit._overlay_1d(ax, x[:, 0], em.weights, em.means[:, 0], em.full_covariances[:, 0, 0],
                      np.tile(em.weights, (S, 1)), em.means[None, :, 0] + rng.normal(0, 1, (S, 3)),
                      np.tile(em.full_covariances[:, 0, 0], (S, 1)))
    band = next(c for c in ax.collections if c.get_label().endswith("band"))
    (bars,) = [p for p in ax.patches if p.get_label() == "data"]
    assert np.ptp(bars.get_facecolor()[:3]) == 0 and bars.get_facecolor()[0] > 0.85  # faint
    assert bars.get_edgecolor()[3] == 1 and band.get_facecolor()[0][3] < 0.5


# --------------------------------------------------------------------------------------------
# 10. QA: the rank plot states its threshold once and keeps its p-values inside the panels
# --------------------------------------------------------------------------------------------
def test_rank_threshold_once_and_pvalues_inside(tiny_fit):
    import matplotlib.pyplot as plt

    fig = plots.plot_rank(tiny_fit)
    try:
        fig.draw_without_rendering()
        assert "flagged" in fig._suptitle.get_text()
        pvalues = [(a, t) for a in fig.axes for t in a.texts if t.get_text().startswith("p=")]
        assert pvalues and not any("below" in t.get_text() for _, t in pvalues)
        for a, t in pvalues:
            box, frame = t.get_window_extent(), a.get_window_extent()
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1
            # readable beside the tick labels (referee: x-small over the lines), on a box
            assert t.get_fontsize() >= 0.8 * plt.rcParams["font.size"]
            assert t.get_bbox_patch() is not None
    finally:
        plt.close(fig)


def test_rank_plot_takes_the_verdicts_pvalues_instead_of_testing_again(tiny_fit, monkeypatch):
    """The report passes Diagnostics.rank_pvalues: the figure shows those, and the test (the
    figure's costliest part) is not run a second time."""
    import matplotlib.pyplot as plt

    from bayesgmm import diagnostics

    given = tiny_fit.diagnostics().rank_pvalues
    assert given
    monkeypatch.setattr(diagnostics, "rank_uniformity_pvalues",
                        lambda *a, **k: pytest.fail("tested again"))
    fig = plots.plot_rank(tiny_fit, pvalues=given)
    try:
        shown = sorted(t.get_text() for a in fig.axes for t in a.texts
                       if t.get_text().startswith("p="))
        assert shown == sorted(f"p={p:.2g}" + (" (flagged)" if p < 0.01 / len(given) else "")
                               for p in given.values())
    finally:
        plt.close(fig)


def test_trace_of_many_scalars_draws_the_lowest_ess_ones(tiny_fit):
    """QA: K=6, D=5 gave 36 rows of traces (7,000 px); past max_scalars the figure draws the
    scalars with the lowest bulk ESS, in their usual order, and says so."""
    import arviz as az
    import matplotlib.pyplot as plt

    post = tiny_fit.posterior[["weights", "means"]]
    ess = az.ess(post, method="bulk")
    values = {f"weights[{k}]": float(ess["weights"][k]) for k in range(2)}
    values.update({f"means[{k}, {f}]": float(ess["means"].sel(component=k, feature=f))
                   for k in range(2) for f in ("eruptions", "waiting")})
    lowest = sorted(values, key=values.get)[:3]
    fig = plots.plot_trace(tiny_fit, max_scalars=3)
    try:
        assert "\nThe 3 of 6 scalars with the lowest bulk ESS" in fig._suptitle.get_text()
        drawn = [a.get_xlabel() for a in fig.axes if a.get_xlabel() in values]
        assert drawn == [name for name in values if name in lowest]  # usual order
    finally:
        plt.close(fig)
    fig = plots.plot_trace(tiny_fit)  # 6 scalars: all of them (two panels each), not cut
    try:
        # and the worst-mixing scalars beyond the weights and means, each named in the title
        extra = fig._suptitle.get_text().count("of the whole posterior")
        assert len([a for a in fig.axes if a.get_xlabel() == "Draw"]) == 6 + extra
        assert "scalars with the lowest bulk ESS" not in fig._suptitle.get_text()
    finally:
        plt.close(fig)


def test_a_long_trace_is_drawn_in_page_sized_parts(tiny_fit, monkeypatch):
    """QA102: a trace of 19 rows printed at a third of the page's width, its text at 2.3 pt;
    the report draws it in parts of at most _TRACE_ROWS rows, which together draw the rows of
    the whole figure, in its order."""
    import matplotlib.pyplot as plt

    from bayesgmm import report

    def names(fig):
        try:
            return [a.get_xlabel() for a in fig.axes if a.get_xlabel() not in ("", "Draw")]
        finally:
            plt.close(fig)

    whole = names(plots.plot_trace(tiny_fit))
    assert plots.trace_rows(tiny_fit) == len(whole) >= 6
    monkeypatch.setattr(report, "_TRACE_ROWS", 4)
    drawn, titles = {}, {}

    def figure(name, caption, make):
        if name.startswith("trace"):
            fig = make()
            titles[name] = fig._suptitle.get_text()
            drawn[name] = names(fig)
        return ""

    report._section_diagnostics(tiny_fit, tiny_fit.diagnostics(), figure)
    parts = -(-len(whole) // 4)
    assert list(drawn) == ["trace"] + [f"trace_{i}" for i in range(2, parts + 1)]
    assert sum(drawn.values(), []) == whole
    assert all(len(rows) <= 4 for rows in drawn.values())
    # QA158 L5: the worst-mixing scalars beyond "the 16 of 20" counted in the rows' total
    from bayesgmm.plots import diagnostics as drawn_checks

    post = tiny_fit.idata["posterior"].to_dataset()
    added = len(drawn_checks._worst_mixing(post, drawn_checks._diagnosed_variables(
        post, drawn_checks._DIAGNOSED)))
    assert added == 0 and titles["trace"].endswith(
        f"\nRows 1-{len(drawn['trace'])} of the {len(whole)} rows")
    with pytest.raises(ValueError, match=r"part must be \(i, n\) of whole numbers"):
        plots.plot_trace(tiny_fit, part=(3, 2))
    assert names(plots.plot_trace(tiny_fit, part=(np.int64(2), np.int64(parts)))) == \
        drawn["trace_2"]  # NumPy's integers too (QA104)
    # a worst-mixing scalar beyond the weights and means: counted apart
    import xarray as xr

    sd = xr.DataArray(np.sqrt(post["covariances"].values[:, :, 0, 0, 0]), dims=("chain", "draw"),
                      attrs={"label": "sd[0, x]", "why": "the lowest bulk ESS (12)"})
    monkeypatch.setattr(drawn_checks, "_worst_mixing", lambda *a: {"sd[0, x]": sd})
    fig = plots.plot_trace(tiny_fit, part=(1, 2))
    assert fig._suptitle.get_text().split("\n")[-1] == (
        f"Rows 1-{-(-(len(whole) + 1) // 2)} of the {len(whole) + 1} rows ({len(whole)}, then "
        "the 1 worst-mixing of the whole posterior)")
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# 11. QA (EM/data figures): limits hold the ellipses and contours; titles and notes say what
#     is drawn and what is not; crowded scatters; bad arguments
# --------------------------------------------------------------------------------------------
def _ellipse_lines(ax):
    return [line for line in ax.lines if len(line.get_xdata()) > 2]


def _scaled_mixture() -> pd.DataFrame:
    """QA's columns at 1e-3 and 1e5 scale: three unit-variance groups, rescaled."""
    rng = np.random.default_rng(7)
    means = np.array([[0, 0], [4, 4], [0, 5.0]])
    z = rng.choice(3, 600, p=np.ones(3) / 3)
    X = np.empty((600, 2))
    for k in range(3):
        X[z == k] = rng.multivariate_normal(means[k], np.eye(2), (z == k).sum())
    return pd.DataFrame(X * [1e-3, 1e5], columns=["small", "large"])


@pytest.mark.filterwarnings("ignore:reg_covar")  # as in QA: the small column is floored
@pytest.mark.parametrize("case", ["spherical", "scales"])
def test_classification_and_overlay_limits_hold_the_ellipses(old_faithful, case):
    """QA: the classification figure set its axes by the data alone, cutting the ellipses
    (columns at 1e-3 and 1e5); a spherical fit's circles (one variance for eruptions and
    waiting, so 10 minutes wide on an eruptions axis of 4) showed as two flat lines in both
    figures."""
    if case == "spherical":
        X, em = old_faithful, fit_em(old_faithful, 2, covariance_type="spherical",
                                     random_state=0)
    else:
        X = _scaled_mixture()
        em = fit_em(X, 3, n_init=3, random_state=0)
    for figure in (plots.plot_classification, plots.plot_overlay):
        ax = figure(em, X=X).axes[0]
        ellipses = _ellipse_lines(ax)
        assert len(ellipses) == em.n_components
        assert all(_inside(ax, line.get_xdata(), line.get_ydata()) for line in ellipses), \
            (figure.__name__, ax.get_xlim(), ax.get_ylim())


def test_density_limits_hold_the_outer_contour(old_faithful):
    """QA: Old Faithful K=3: the outer (95%) contour ran off the top and the left."""
    from matplotlib.contour import ContourSet

    em = fit_em(old_faithful, 3, n_init=3, random_state=0)
    ax = plots.plot_density(em, old_faithful).axes[0]
    (contour,) = [a for a in ax.get_children() if isinstance(a, ContourSet)]
    segments = [seg for level in contour.allsegs for seg in level]
    xy = np.concatenate(segments)
    assert _inside(ax, xy[:, 0], xy[:, 1]), (ax.get_xlim(), ax.get_ylim())
    # whole: every contour a closed line (one cut by the edge of the grid ends open there)
    assert all(np.allclose(seg[0], seg[-1]) for seg in segments)


def test_ellipse_titles_say_level_and_source(old_faithful, tiny_fit, tmp_path):
    em = fit_em(old_faithful, 2, random_state=0)
    lines = plots.plot_classification(em, old_faithful).axes[0].get_title().split("\n")
    assert lines[1:] == ["size = uncertainty (1 - max probability)",
                         "95% ellipses of the EM fit"]  # QA: 2-D did not define it
    bayes = plots.plot_classification(tiny_fit).axes[0].get_title()
    assert bayes.endswith("95% ellipses of the posterior median")
    X3 = np.c_[old_faithful.to_numpy(),
               np.random.default_rng(0).normal(0, 1, len(old_faithful))]
    grid = plots.plot_classification(fit_em(X3, 2, random_state=0), X3)
    assert grid._suptitle.get_text().split("\n")[1] == "95% ellipses of the EM fit"
    animation = plots.animate_em(old_faithful, 2, tmp_path / "em.gif", max_iter=2)
    title = animation._fig.axes[0].get_title()
    assert title.split("\n")[1] == "95% ellipses of the fit after this iteration"


def test_notes_clear_of_the_legend_and_noise_points_are_crosses():
    """QA: "47 noise point(s) beyond the axes" sat under the legend; the noise points were
    tiny black dots."""
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal([0, 0], 1, (200, 2)), rng.normal([4, 4], 1, (200, 2)),
              rng.normal([0, 5], 1, (200, 2)), rng.uniform(-10, 15, (60, 2))]
    em = fit_em(X, 3, noise=True, n_init=3, random_state=0)
    for figure in (plots.plot_classification, plots.plot_membership, plots.plot_overlay):
        fig = figure(em, X=X)
        ax = fig.axes[0]
        fig.draw_without_rendering()
        (note,) = [t for t in ax.texts if "beyond the axes" in t.get_text()]
        assert not note.get_window_extent().overlaps(ax.get_legend().get_window_extent())
        if figure is not plots.plot_overlay:
            (legend,) = [h for h, t in zip(ax.get_legend().legend_handles,
                                           ax.get_legend().get_texts(), strict=True)
                         if t.get_text() == "noise"]
            assert legend.get_marker() == "x"


def test_plot_data_names_checks_and_says_which_features():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(300, 2)), columns=["height", "weight"])
    ax = plots.plot_data(frame).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("height", "weight")
    with pytest.raises(ValueError, match="feature_names: got 3 name"):
        plots.plot_data(frame, feature_names=("a", "b", "c"))
    with pytest.raises(ValueError, match="empty"):
        plots.plot_data(np.empty((0, 2)))
    wide = pd.DataFrame(rng.normal(size=(300, 8)), columns=[f"f{i}" for i in range(8)])
    wide.iloc[0, 0] = 40.0  # a far point: its note above the bars, not on them
    fig = plots.plot_data(wide)
    assert len(fig.axes) == plots.MAX_PAIR_FEATURES ** 2
    assert fig._suptitle.get_text().split("\n")[1] == ("6 of 8 features (the first); "
                                                       "not shown: f6, f7")
    from bayesgmm.plots.fit import _features_line

    names = [f"PC{i}" for i in range(1, 21)]  # up to 8 left out named (QA111: 3 were)
    assert _features_line(names[:12], list(range(6)), "x").endswith(
        "not shown: PC7, PC8, PC9, PC10, PC11, PC12")
    assert _features_line(names, list(range(6)), "x").endswith(
        "not shown: PC7, PC8, PC9, PC10, PC11, PC12, PC13, PC14 and 6 more")
    first = fig.axes[0]
    (note,) = [t for t in first.texts if "beyond the axes" in t.get_text().replace("\n", " ")]
    fig.draw_without_rendering()
    bottom = first.transData.inverted().transform(note.get_window_extent().p0)[1]
    assert bottom > max(p.get_height() for p in first.patches)


@pytest.fixture(scope="module")
def posterior_8d():
    """A posterior stand-in on 8 features whose components differ in the last ones."""
    from conftest import posterior_stand_in

    rng = np.random.default_rng(3)
    means = np.eye(8)[[4, 6, 7]] * 5
    X = pd.DataFrame(np.concatenate([rng.normal(m, 1, (100, 8)) for m in means]),
                     columns=[f"g{i}" for i in range(8)])
    return posterior_stand_in(X, 3), X


def test_a_fits_figures_show_one_subset_of_features(posterior_8d):
    """QA65: at D=8 one report's data figure left out G and H, its density and
    classification A and H, its overlay C and E: no panel compared with another. One
    choice, at the EM start, for every figure; the data figure takes it given the fit."""
    result, X = posterior_8d
    titles = {name: getattr(plots, f"plot_{name}")(result, X=X)._suptitle.get_text()
              for name in ("classification", "density", "overlay")}
    titles["data"] = plots.plot_data(X, fit=result)._suptitle.get_text()
    left = {name: re.search(r"6 of 8 features \(the (?:fit's )?most separating\); not shown: "
                            r"(.*)", text)[1] for name, text in titles.items()}
    assert len(set(left.values())) == 1, left
    one = fit_em(X, 1)  # nothing to separate: the first features, said so
    assert "6 of 8 features (the first)" in plots.plot_density(one, X=X)._suptitle.get_text()


@pytest.mark.parametrize("figure", ["classification", "density", "overlay"])
def test_pair_grids_say_which_features_are_left_out(figure):
    """And are drawn at the page's width at most, with the text at its size (big-data QA:
    at D=6, 15.6 inches shown at 10.6, the tick labels were 8 pixels high)."""
    rng = np.random.default_rng(3)
    means = np.eye(8)[:3] * 5
    X = pd.DataFrame(np.concatenate([rng.normal(m, 1, (100, 8)) for m in means]),
                     columns=[f"feature_{i}" for i in range(8)])
    em = fit_em(X, 3, random_state=0)
    fig = getattr(plots, f"plot_{figure}")(em, X=X)
    lines = fig._suptitle.get_text().split("\n")
    assert len(lines) == 2 and lines[1].startswith("6 of 8 features (the most separating); "
                                                   "not shown: ")
    assert len(fig.axes) == 36
    from bayesgmm.plots._common import PAGE_WIDTH
    assert fig.get_figwidth() <= PAGE_WIDTH + 1e-9
    assert fig.axes[7].xaxis.get_ticklabels()[0].get_fontsize() >= 10  # not shrunk


@pytest.mark.parametrize("figure", ["classification", "density", "overlay", "membership"])
def test_rows_missing_a_coordinate_are_counted(figure):
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal([0, 0], 1, (200, 2)), rng.normal([4, 4], 1, (200, 2))]
    X[:30:3, 0] = np.nan
    X[1:30:3, 1] = np.nan
    em = fit_em(X, 2, random_state=0)
    ax = getattr(plots, f"plot_{figure}")(em, X=X).axes[0]
    # QA (referee): the incomplete rows appeared nowhere; now as ticks on the edge of the
    # axis of the coordinate they have (10 along x, 10 along y)
    assert ("20 missing a coordinate (ticks at the edge)"
            in [t.get_text() for t in ax.texts])
    if figure in ("classification", "membership"):  # each row's component (QA: grey ticks)
        from matplotlib.colors import to_rgba

        from bayesgmm.plots._styles import _component_color

        assigned = np.argmax(em.predict_proba(X), axis=1)
        drawn = [c for c in ax.collections if len(c.get_offsets()) == 10]
        along_x = next(c for c in drawn if np.allclose(c.get_offsets()[:, 1], 0.012))
        along_y = next(c for c in drawn if np.allclose(c.get_offsets()[:, 0], 0.012))
        for ticks, rows, axis in ((along_x, np.arange(1, 30, 3), 0),
                                  (along_y, np.arange(0, 30, 3), 1)):
            order = np.argsort(ticks.get_offsets()[:, axis])
            expected = np.array([to_rgba(_component_color(k)) for k in
                                 assigned[rows][np.argsort(X[rows, axis])]])
            np.testing.assert_allclose(ticks.get_facecolors()[order][:, :3],
                                       expected[:, :3])
        return
    ticks = {line.get_marker(): line for line in ax.lines if line.get_marker() in ("|", "_")}
    np.testing.assert_array_equal(np.sort(ticks["|"].get_xdata()),
                                  np.sort(X[1:30:3, 0]))
    np.testing.assert_array_equal(np.sort(ticks["_"].get_ydata()),
                                  np.sort(X[:30:3, 1]))
    # in no component's colour (QA: vermilion, a component's, beside another's orange)
    from matplotlib.colors import to_rgb

    from bayesgmm.plots._styles import _component_color

    palette = {to_rgb(_component_color(k)) for k in range(10)}
    assert not {to_rgb(t.get_color()) for t in ticks.values()} & palette
    assert all(np.ptp(to_rgb(t.get_color())) == 0 for t in ticks.values())  # a grey
    # a row missing both coordinates is not drawn at all
    X[200] = np.nan
    ax = getattr(plots, f"plot_{figure}")(em, X=X).axes[0]
    assert ("21 missing a coordinate (20 as ticks at the edge)"
            in [t.get_text() for t in ax.texts])


def test_a_tick_beyond_the_axes_is_not_drawn_and_the_grid_keeps_its_layout():
    """QA: a mistyped value (50 among 4-9) in a row missing its other coordinate was drawn as
    an unclipped edge tick far beyond the panel; the pair grid's layout collapsed (a warning,
    the legend over the axis labels)."""
    import warnings

    rng = np.random.default_rng(5)
    X = np.r_[rng.normal([5, 90, 1], [0.5, 8, 0.2], (100, 3)),
              rng.normal([7.5, 140, 3], [0.5, 8, 0.2], (100, 3))]
    X[3:12, 1] = np.nan
    X[3, 0] = 50.0  # beyond the axes, and its glucose missing
    em = fit_em(X, 2, random_state=0)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plots.plot_density(em, X=X)
    canvas = FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="constrained_layout not applied")
        canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:  # nothing drawn far outside its panel
        assert ax.get_tightbbox(renderer).width < 1.5 * ax.get_window_extent(renderer).width
    panel = fig.axes[3]  # row 1 (feature 1), column 0 (feature 0)
    ticks = [line for line in panel.lines if line.get_marker() == "|"]
    assert 50.0 not in np.concatenate([t.get_xdata() for t in ticks])
    assert any("9 missing a coordinate (8 as ticks at the edge)" in t.get_text().replace("\n", " ")
               for t in panel.texts)


def test_crowded_scatter_fades_and_circles_spread():
    """QA: 20,000 opaque points drew solid blobs; the 10 most uncertain sat on one spot."""
    rng = np.random.default_rng(6)
    X = np.r_[rng.normal([0, 0], 1, (6000, 2)), rng.normal([3, 3], 1, (6000, 2))]
    em = fit_em(X, 2, random_state=0)
    ax = plots.plot_classification(em, X).axes[0]
    assert all(c.get_alpha() < 0.4 for c in ax.collections)
    ax = plots.plot_membership(em, X).axes[0]
    circles = next(c for c in ax.collections if c.get_sizes()[0] == 70).get_offsets()
    assert len(circles) == 10
    scaled = (circles - [ax.get_xlim()[0], ax.get_ylim()[0]]) / \
        [np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim())]
    gaps = [np.hypot(*(a - b)) for a, b in itertools.combinations(scaled, 2)]
    assert min(gaps) >= plots.fit._CIRCLE_SPACING and "spaced" in ax.get_title()


def test_bad_per_point_arguments_raise_one_line_errors(old_faithful):
    X = old_faithful.to_numpy()
    em = fit_em(X, 2, random_state=0)
    for call, match in (
            (lambda: plots.plot_classification(em, X, labelled=np.ones(5, bool)), "labelled"),
            (lambda: plots.plot_membership(em, X, labelled=np.ones(5, bool)), "labelled"),
            (lambda: plots.plot_membership(em, X, rows=np.arange(3)), "rows"),
            (lambda: plots.plot_membership(em, X, n_uncertain=-1), "n_uncertain")):
        with pytest.raises(ValueError, match=match) as error:
            call()
        assert "\n" not in str(error.value)


# --------------------------------------------------------------------------------------------
# QA: the posterior's diagnostic figures with many scalars, long names, given axes, bad calls
# --------------------------------------------------------------------------------------------
_LONG_NAMES = ["serum cholesterol concentration at baseline visit (mg/dL)",
               "systolic blood pressure measured seated (second reading)",
               "body mass index computed from self-reported height and weight",
               "fasting plasma glucose after twelve hours overnight",
               "resting heart rate in beats per minute, supine position",
               "waist circumference measured at the iliac crest (cm)",
               "high density lipoprotein cholesterol fraction level",
               "estimated glomerular filtration rate (CKD-EPI 2021)"]


def _posterior_stand_in(D: int, K: int, names=None, seed: int = 0):
    """A BayesResult around an EM fit of K clusters in D features (columns ``names``), its
    draws jittered about the estimate: no sampling (conftest's stand-in)."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.eye(max(D, K))[:K, :D]
    X = pd.DataFrame(np.vstack([rng.normal(c, 1.0, (100, D)) for c in centres]),
                     columns=names or [f"x{i}" for i in range(D)])
    return posterior_stand_in(X, K, seed=seed, draws=100, n_init=3)


@pytest.fixture(scope="module")
def long_d5():
    return _posterior_stand_in(5, 4, _LONG_NAMES[:5])


@pytest.fixture(scope="module")
def long_d8():
    return _posterior_stand_in(8, 6, _LONG_NAMES)


def _shown_texts(fig):
    """(text, box) of every text drawn: the figures' (and subfigures') titles and legends,
    each panel's titles, axis labels, texts, legend and tick labels (of the ticks in view)."""
    from matplotlib.axes import Axes
    from matplotlib.figure import SubFigure

    fig.draw_without_rendering()
    texts = []
    for f in [fig, *fig.findobj(SubFigure)]:
        texts += [f._suptitle, f._supxlabel, f._supylabel, *f.texts]
        texts += [t for key in f.legends for t in key.get_texts()]
    for ax in fig.findobj(Axes):
        if not ax.get_visible() or not ax.axison:
            continue
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label,
                  *ax.texts]
        if ax.get_legend():
            texts += ax.get_legend().get_texts()
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if lo - 1e-9 * (hi - lo) <= tick.get_loc() <= hi + 1e-9 * (hi - lo):
                    texts += [tick.label1, tick.label2]
    unique = {id(t): t for t in texts if t is not None}  # a figure is found twice
    return [(t.get_text(), t.get_window_extent()) for t in unique.values()
            if t.get_visible() and t.get_text().strip()]


def _assert_nothing_overlaps_or_is_cut(fig):
    frame = fig.bbox
    drawn = _shown_texts(fig)
    for text, box in drawn:
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, f"cut: {text!r}"
        assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, f"cut: {text!r}"
    for (a, box_a), (b, box_b) in itertools.combinations(drawn, 2):
        inter_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        inter_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert inter_w <= 1 or inter_h <= 1, f"{a!r} overlaps {b!r}"


def test_rank_plot_of_many_scalars_draws_the_smallest_pvalues(long_d8):
    """QA: D=8, K=6 (54 scalars) failed on ArviZ's 40 subplots, and the report's rank figure
    with it; now the 16 with the smallest rank p-values, in their usual order, said so."""
    import matplotlib.pyplot as plt

    from bayesgmm.diagnostics import _element_label

    post = long_d8.posterior
    labels = [_element_label(post["weights"], (k,), ("component",)) for k in range(6)]
    labels += [_element_label(post["means"], (k, i), ("component", "feature"))
               for k in range(6) for i in range(8)]
    rng = np.random.default_rng(0)
    pvalues = dict(zip(labels, rng.uniform(0.01, 1.0, len(labels)), strict=True))
    smallest = sorted(pvalues, key=pvalues.get)[:plots.RANK_MAX_SCALARS]
    fig = plots.plot_rank(long_d8, pvalues=pvalues)
    try:
        assert "The 16 of 54 scalars with the smallest rank p-values" in \
            fig._suptitle.get_text()
        shown = [t.get_text() for a in fig.axes for t in a.texts
                 if t.get_text().startswith("p=")]
        assert shown == [f"p={pvalues[label]:.2g}" for label in labels if label in smallest]
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("figure", ["plot_forest", "plot_rank", "plot_trace",
                                    "plot_ppc_statistics", "plot_ppc_density"])
@pytest.mark.parametrize("case", ["long_d5", "long_d8"])
def test_posterior_figures_with_long_names_overlap_and_cut_nothing(figure, case, request):
    """QA: 50+ character feature names ran panel titles into each other and off the figure
    (forest, rank), piled the trace's y labels into a block, cut the predictive check's
    x labels at both ends; its D=5 tick labels ran together. (A "/" in a name failed the
    trace plot.)"""
    import matplotlib.pyplot as plt

    result = request.getfixturevalue(case)
    kwargs = {"n_replicates": 5} if figure.startswith("plot_ppc") else {}
    fig = getattr(plots, figure)(result, **kwargs)
    try:
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


def test_short_names_are_kept_whole_and_long_ones_shortened_in_the_middle():
    assert plots.diagnostics._wrap("x2", 10) == "x2"
    assert plots.diagnostics._ellipsize("x2", 10) == "x2"
    short = plots.diagnostics._ellipsize(_LONG_NAMES[0], 28)
    assert len(short) <= 28 and short.startswith("serum") and short.endswith("(mg/dL)")
    wrapped = plots.diagnostics._wrap("mean of " + _LONG_NAMES[1], 24)
    lines = wrapped.split("\n")
    assert len(lines) == 2 and all(len(line) <= 24 for line in lines)
    assert lines[0].startswith("mean of systolic") and lines[1].endswith("reading)")


def test_too_few_axes_raise_and_given_axes_keep_the_callers_figure_bare(tiny_fit):
    """QA: plot_forest(axes=[ax]) drew only the weights, plot_ppc_density(axes=[ax]) dropped
    the second feature, silently; both wrote a title over the caller's figure."""
    for call, match in (
            (lambda ax: plots.plot_forest(tiny_fit, axes=[ax]), r"1 \+ D = 3 axes.*got 1"),
            (lambda ax: plots.plot_ppc_density(tiny_fit, axes=[ax], n_replicates=3),
             r"one axes per feature \(2\); got 1"),
            (lambda ax: plots.plot_ppc_statistics(tiny_fit, axes=[], n_replicates=3),
             r"one axes per panel \(9\); got 0")):  # with the quantile statistics
        with pytest.raises(ValueError, match=match) as error:
            call(Figure().add_subplot())
        assert "\n" not in str(error.value)
    for draw, n in ((lambda axes: plots.plot_forest(tiny_fit, axes=axes), 3),
                    (lambda axes: plots.plot_ppc_density(tiny_fit, axes=axes,
                                                         n_replicates=3), 2),
                    (lambda axes: plots.plot_ppc_statistics(tiny_fit, axes=axes,
                                                            n_replicates=3), 9)):
        fig = Figure(figsize=(4 * n, 3), layout="constrained")
        axes = fig.subplots(1, n, squeeze=False)[0]
        assert draw(axes) is fig
        assert fig._suptitle is None and not fig.legends and not fig.texts
        assert all(a.has_data() for a in axes)


@pytest.mark.parametrize("figure", ["plot_forest", "plot_trace", "plot_rank", "plot_energy",
                                    "plot_ppc_density", "plot_ppc_statistics"])
def test_posterior_figures_refuse_an_em_fit_in_one_line(tiny_fit, figure):
    """QA: an EMResult raised AttributeError ('EMResult' object has no attribute 'idata')."""
    with pytest.raises(ValueError, match=f"{figure} needs a posterior.*fit_bayes.*"
                                         "plot_overlay") as error:
        getattr(plots, figure)(tiny_fit.em)
    assert "\n" not in str(error.value)


def test_bad_posterior_figure_arguments_are_named(tiny_fit):
    """QA: n_replicates=0 was reported as "max_draws", interval=94 as "Quantiles must be in
    the range [0, 1]", an unknown var_names as a grid of 0 rows or a NoneType."""
    for call, match in (
            (lambda: plots.plot_ppc_density(tiny_fit, n_replicates=0), "n_replicates"),
            (lambda: plots.plot_ppc_statistics(tiny_fit, n_replicates=-5), "n_replicates"),
            (lambda: plots.plot_ppc_density(tiny_fit, n_replicates=2.5), "n_replicates"),
            (lambda: plots.plot_forest(tiny_fit, interval=94), r"probability in \(0, 1\)"),
            (lambda: plots.plot_forest(tiny_fit, interval=0), r"probability in \(0, 1\)"),
            (lambda: plots.plot_trace(tiny_fit, var_names=("foo",)),
             "'foo' not in the posterior; valid names: weights, means"),
            (lambda: plots.plot_rank(tiny_fit, var_names=("weights", "foo")),
             "'foo' not in the posterior; valid names: weights, means"),
            (lambda: plots.plot_trace(tiny_fit, max_scalars=0), "max_scalars")):
        with pytest.raises(ValueError, match=match) as error:
            call()
        assert "\n" not in str(error.value)


def test_energy_plot_says_what_it_shows(tiny_fit):
    """QA: no title, no x label, and the dashed line at 0.3 unexplained."""
    import matplotlib.pyplot as plt

    fig = plots.plot_energy(tiny_fit)
    try:
        assert "Marginal energy against energy transitions" in fig._suptitle.get_text()
        titles = {a.get_title() for a in fig.axes}
        assert "E-BFMI per chain" in titles
        assert {a.get_xlabel() for a in fig.axes} >= {"E-BFMI", "energy (centred)"}
        key = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
        assert {"marginal energy", "energy transition"} <= key
        assert any(k.startswith("E-BFMI 0.3") for k in key)
        _assert_nothing_overlaps_or_is_cut(fig)
        # every chain's marker inside the panel (QA: E-BFMI 1.16 cut by the right spine)
        from bayesgmm.plots.diagnostics import _ebfmi

        (panel,) = [a for a in fig.axes if a.get_title() == "E-BFMI per chain"]
        left, right = panel.get_xlim()
        assert _ebfmi(tiny_fit.idata["sample_stats"].to_dataset()).max() \
            <= right - 0.04 * (right - left)
    finally:
        plt.close(fig)


def test_the_energy_plot_reads_this_fits_e_bfmi(tiny_fit):
    """Referee: the subtitle "similar widths: the sampler moves freely" was fixed text; it
    says what the chains' E-BFMI says (a random-walk energy: poor exploration, named)."""
    import types

    from bayesgmm.plots.diagnostics import _energy_reading

    ebfmi = tiny_fit.diagnostics().ebfmi_per_chain
    assert min(ebfmi) >= 0.3  # the fixture's chains explore well
    text = _energy_reading(tiny_fit)
    assert f"(E-BFMI {min(ebfmi):.2f} or more in every chain" in text
    stats = tiny_fit.idata["sample_stats"].to_dataset()
    energy = stats["energy"].transpose("chain", "draw")
    rng = np.random.default_rng(0)

    def reading(values):
        return _energy_reading(types.SimpleNamespace(idata={"sample_stats": xr.DataTree(
            stats.assign(energy=(energy.dims, values)))}))

    # independent energies: E-BFMI ~2, the same widths; AR(1) at 0.7: E-BFMI ~0.6, the
    # transitions visibly narrower but no problem (referee: "similar widths" beside it)
    assert reading(rng.normal(size=energy.shape)).startswith("similar widths")
    ar = rng.normal(size=energy.shape)
    for t in range(1, ar.shape[1]):
        ar[:, t] = 0.7 * ar[:, t - 1] + np.sqrt(1 - 0.49) * ar[:, t]
    assert reading(ar).startswith("transitions somewhat narrower than the marginal, within "
                                  "the usual bound")
    walk = np.cumsum(np.random.default_rng(0).normal(size=energy.shape), axis=-1)
    walk[0] = energy.values[0]  # chain 0 as sampled, the other a random walk
    stats = stats.assign(energy=(energy.dims, walk))
    low = _energy_reading(types.SimpleNamespace(idata={"sample_stats": xr.DataTree(stats)}))
    chains = stats["chain"].values
    assert low.startswith(f"transitions narrower than the marginal in chain(s) {chains[1]} ")
    assert "explores the energy levels poorly" in low


def test_the_energy_plot_names_a_chain_at_other_energies():
    """QA: a chain frozen in a collapse (mean energy 108 against 271-273, sd 4-9) under
    "the sampler moves across energy levels well enough": the reading names it."""
    import types

    from bayesgmm.plots.diagnostics import _energy_reading

    rng = np.random.default_rng(1)
    energy = rng.normal(size=(4, 300))

    def reading(values):
        stats = xr.Dataset({"energy": (("chain", "draw"), values)},
                           coords={"chain": np.arange(len(values))})
        return _energy_reading(types.SimpleNamespace(idata={"sample_stats": xr.DataTree(
            stats)}))

    assert "apart" not in reading(energy)
    energy[3] -= 40.0
    text = reading(energy)
    assert text.startswith("similar widths (E-BFMI")
    assert text.endswith("; but chain(s) 3 sit at energies apart from the other chains' "
                         "(another region of the posterior: see the diagnostics)")
    assert "apart" not in reading(energy[2:])  # two chains: neither is the odd one


def test_a_panels_note_goes_where_it_hides_fewest_points():
    """QA (iris with missing values): the note "29 missing a coordinate: ..." sat in the
    lower right corner over the points there; it goes to the emptiest corner."""
    import matplotlib.pyplot as plt

    from bayesgmm.plots._notes import _NOTE_PLACES, _note_outside

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1, 400), rng.uniform(0, 1, 400)
    x[:10] = np.nan  # the note's cause
    # a wrapped note spans about the panel's width: the band along the top or the bottom
    for empty, place in [(y < 0.7, _NOTE_PLACES[2]),  # the top band empty: top right
                         (y > 0.3, _NOTE_PLACES[0]),  # the bottom band: bottom right
                         (np.zeros(400, bool), _NOTE_PLACES[0])]:  # all central: the default
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.set(xlim=(0, 1), ylim=(0, 1))
        _note_outside(ax, np.where(empty | np.isnan(x), x, 0.5),  # the note's rows kept
                      np.where(empty & ~np.isnan(x), y, 0.5))  # their ticks mid-edge
        note = next(t for t in ax.texts if "missing a coordinate" in t.get_text())
        assert (note.xyann, note.get_ha(), note.get_va()) == place
        # QA79: where every corner holds points, the text on a translucent white ground,
        # over the points (they still show through)
        ground = note.get_bbox_patch()
        assert ground is not None and ground.get_facecolor()[:3] == (1.0, 1.0, 1.0)
        assert 0.5 <= ground.get_alpha() < 1
        assert note.get_zorder() > 4  # above points (1), lines (2) and margin ticks (4)
        plt.close(fig)


def test_arviz_figures_are_bare_figures_shown_once(tiny_fit):
    """Notebook QA: the trace, rank and energy figures were pyplot's too, so a notebook showed
    each twice (pyplot's display and the returned value); chains differ by line style too."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    drawn = {}
    for plot in (plots.plot_trace, plots.plot_rank, plots.plot_energy):
        drawn[plot] = fig = plot(tiny_fit)
        assert set(plt.get_fignums()) == before, plot.__name__
        fig.savefig(io.BytesIO(), format="png")  # still drawable
    styles = {line.get_linestyle() for a in drawn[plots.plot_rank].axes for line in a.lines
              if len(line.get_xdata()) > 10}
    assert len(styles) >= 2  # one per chain (tiny_fit has two)


def test_a_flagged_rank_panel_has_a_red_frame(tiny_fit):
    """QA: a failing scalar was marked only by small red text."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    pvalues = dict(tiny_fit.diagnostics().rank_pvalues)
    flagged = "means[0, eruptions]"
    pvalues = {k: (1e-6 if k == flagged else max(p, 0.5)) for k, p in pvalues.items()}
    fig = plots.plot_rank(tiny_fit, pvalues=pvalues)
    try:
        panels = [a for a in fig.axes if any(t.get_text().startswith("p=") for t in a.texts)]
        red = [all(s.get_edgecolor() == to_rgba("red") for s in a.spines.values())
               for a in panels]
        marked = ["(flagged)" in t.get_text() for a in panels for t in a.texts]
        assert len(panels) == 6 and sum(marked) == 1 and red == marked
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", ["plot_data", "plot_classification", "plot_density",
                                  "plot_membership", "plot_overlay"])
def test_figsize_sizes_a_new_figure_for_a_paper(name, old_faithful):
    """QA (a referee): no figure could be sized for a paper's column (pair grids 13-21 in)."""
    import inspect

    import matplotlib.text

    em = fit_em(old_faithful, 2, random_state=0)
    draw = getattr(plots, name)
    args = (old_faithful,) if name == "plot_data" else (em, old_faithful)
    natural = draw(*args)
    small = draw(*args, figsize=(3.5, 3.0))
    np.testing.assert_allclose(small.get_size_inches(), (3.5, 3.0))
    # drawn smaller, its text shrinks with it (at most to 60%): the title still fits
    title = [a.get_title() for a in small.axes if a.get_title()] or [small._suptitle.get_text()]
    assert title and title[0]
    sizes = [t.get_fontsize() for t in small.findobj(matplotlib.text.Text) if t.get_text()]
    natural_sizes = [t.get_fontsize() for t in natural.findobj(matplotlib.text.Text)
                     if t.get_text()]
    assert max(sizes) < max(natural_sizes) and min(sizes) >= 0.6 * min(natural_sizes) - 1e-9
    assert "figsize" in inspect.signature(getattr(plots, name)).parameters
    assert "figsize" in getattr(plots, name).__doc__
    fig = Figure()
    with pytest.raises(ValueError, match="figsize sizes a new figure"):
        draw(*args, ax=fig.subplots(), figsize=(3, 3))
    with pytest.raises(ValueError, match="figsize must be"):
        draw(*args, figsize=(3, -1))


@pytest.mark.parametrize("name", ["plot_forest", "plot_rank", "plot_trace", "plot_energy",
                                  "plot_ppc_density", "plot_ppc_statistics"])
def test_figsize_sizes_the_posterior_figures(name, tiny_fit):
    fig = getattr(plots, name)(tiny_fit, figsize=(6.0, 4.0))
    np.testing.assert_allclose(fig.get_size_inches(), (6.0, 4.0))
    fig.savefig(io.BytesIO(), format="png")  # lays out at that size without an error


def test_one_d_membership_counts_rows_without_a_value(galaxies):
    """The 2-D figures said how many rows they could not draw; the 1-D one dropped them."""
    x = np.asarray(galaxies, dtype=float).reshape(-1, 1)
    em = fit_em(x, 3, random_state=0)
    fig = plots.plot_membership(em, np.vstack([x, [[np.nan], [np.nan]]]))
    assert [t.get_text() for t in fig.axes[0].texts] == ["2 missing this feature: not shown"]
    assert not plots.plot_membership(em, x).axes[0].texts


# --------------------------------------------------------------------------------------------
# QA (diab_k2, bc3_k2, wine13s_diag): a collapsed scalar, circled certain points, 13 panels
# --------------------------------------------------------------------------------------------
def test_trace_draws_a_scalar_whose_chain_is_constant():
    """QA: a mean pinned on a two-valued column (draws within 1e-14 in one chain) failed the
    trace figure ("Cannot create 512 finite-sized bins"); its density is a spike, said so."""
    import matplotlib.pyplot as plt

    result = _posterior_stand_in(2, 2)
    means = result.idata["posterior"]["means"]
    stuck = means.values.copy()
    stuck[0, :, 1, 0] = 2.0 + 1e-15 * np.arange(stuck.shape[1]) % 3
    result.idata["posterior"]["means"] = means.copy(data=stuck)
    fig = plots.plot_trace(result)
    try:
        notes = [t.get_text() for a in fig.axes for t in a.texts]
        assert sum("constant" in n for n in notes) == 1, notes
        panel = next(a for a in fig.axes if any("constant" in t.get_text() for t in a.texts))
        assert panel.get_xlabel() == "means[1, x0]"
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)
    # exactly equal draws: "all equal", not the riddle "(within 0)" (QA)
    stuck[0, :, 1, 0] = 2.0
    result.idata["posterior"]["means"] = means.copy(data=stuck)
    fig = plots.plot_trace(result)
    notes = [t.get_text() for a in fig.axes for t in a.texts if "constant" in t.get_text()]
    plt.close(fig)
    assert notes == ["spike: a chain's draws are constant\n(all equal)"]


def test_membership_circles_only_uncertain_points():
    """QA: with 3 uncertain points the spacing walked on to circle points of uncertainty
    0.000 as "the 10 most uncertain"; only points below UNCERTAIN_BELOW are circled now."""
    rng = np.random.default_rng(2)
    X = np.r_[rng.normal([0, 0], 0.5, (150, 2)), rng.normal([3, 0], 0.5, (150, 2)),
              [[1.5, 0.0], [1.48, 1.0], [1.52, -1.0]]]
    em = fit_em(X, 2, random_state=0)
    certainty = em.predict_proba(X).max(axis=1)
    uncertain = np.flatnonzero(certainty < plots.fit.UNCERTAIN_BELOW)
    assert 0 < len(uncertain) < 10
    ax = plots.plot_membership(em, X).axes[0]
    circles = next(c for c in ax.collections if c.get_sizes()[0] == 70).get_offsets()
    assert {tuple(p) for p in np.asarray(circles)} <= {tuple(p) for p in X[uncertain]}
    assert f"circled: the {len(circles)} uncertain point" in ax.get_title()
    assert "(P < 0.9)" in ax.get_title()
    # no uncertain point at all: nothing circled, and the title says why
    apart = X[:300] + np.repeat([[0.0, 0.0], [6.0, 0.0]], 150, axis=0)
    ax = plots.plot_membership(fit_em(apart, 2, random_state=0), apart).axes[0]
    assert not any(c.get_sizes()[0] == 70 for c in ax.collections)
    assert "none circled" in ax.get_title()


def test_predictive_density_wraps_many_features_into_rows():
    """QA: 13 features drew 13 one-inch panels in one row, tick labels printed over each
    other and names cut; at most four panels a row now."""
    import matplotlib.pyplot as plt

    result = _posterior_stand_in(13, 3, [f"feature_number_{i}" for i in range(13)])
    fig = plots.plot_ppc_density(result, n_replicates=2)
    try:
        assert len(fig.axes) == 13
        rows = {}
        for a in fig.axes:
            rows.setdefault(round(a.get_position().y0, 3), []).append(a)
        assert len(rows) == 4 and max(len(r) for r in rows.values()) <= 4
        assert all(r[0].get_ylabel() == "density" for r in rows.values())
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


def _two_clusters_and_far_rows(seed: int = 0) -> pd.DataFrame:
    """Two clusters of 60 rows and two rows x1000 (the QA noise data's shape)."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([0, 0], 1.0, (60, 2)), rng.normal([5, 3], 1.0, (60, 2))])
    X[:2] *= 1000.0
    return pd.DataFrame(X, columns=["x", "y"])


def test_predictive_density_is_drawn_over_the_bulk_with_outliers_counted():
    """QA: two rows x1000 spread the axis over -600..4686 and the observed KDE (its
    bandwidth from their sd) into a flat hump beneath the replicates' spikes: a good fit
    drawn as a gross misfit. Now over the bulk, both densities from the values within it,
    and a note counts the points beyond."""
    import matplotlib.pyplot as plt

    X = _two_clusters_and_far_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EM's degenerate component on the two far rows
        result = posterior_stand_in(X, 2, draws=20)
    fig = plots.plot_ppc_density(result, n_replicates=5)
    try:
        for a, name in zip(fig.axes, ["x", "y"], strict=True):
            lo, hi = a.get_xlim()
            bulk = X[name].to_numpy()[2:]
            assert lo < bulk.min() and bulk.max() < hi and hi - lo < 3 * np.ptp(bulk)
            notes = [t.get_text() for t in a.texts]
            beyond = int(np.sum((X[name] < lo) | (X[name] > hi)))
            # (first in the note; the stand-in's EM component over the bulk has one far row
            # in it, and the note's next line says its replicates spread far wider)
            assert beyond >= 1 and notes[0].startswith(f"{beyond} point(s) beyond the axes")
            observed = next(line for line in a.get_lines() if line.get_label() == "observed")
            # 118 of 120 rows within: the curve carries about that share of the density
            grid, density = observed.get_data()
            assert 0.9 < np.trapezoid(density, grid) <= 1.0
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


def test_forest_ticks_of_a_collapsed_mean_are_readable():
    """QA (diabetes, a component collapsed onto a 2-valued column): the centred means panel
    spanned 1e-3 and its tick labels ran together ("-0.00050.0000")."""
    import matplotlib.pyplot as plt

    result = _posterior_stand_in(4, 2, ["age", "sex", "bmi", "bp"])
    means = result.idata["posterior"]["means"]
    rng = np.random.default_rng(1)
    collapsed = means.values.copy()  # component 0 pinned, component 1 within 1.7e-3
    collapsed[..., 0, 1] = result.em.means[0, 1] + 1e-6 * rng.standard_normal((2, 100))
    collapsed[..., 1, 1] = result.em.means[1, 1] - 1.7e-3 * rng.uniform(0, 1, (2, 100)) ** 0.3
    result.idata["posterior"]["means"] = means.copy(data=collapsed)
    fig = plots.plot_forest(result)
    try:
        panel = next(a for a in fig.axes if a.get_title().startswith("mean of sex"))
        fig.draw_without_rendering()
        lo, hi = panel.get_xlim()
        boxes = sorted((t.get_window_extent() for t, x in
                        zip(panel.get_xticklabels(), panel.get_xticks(), strict=True)
                        if lo <= x <= hi and t.get_text()), key=lambda b: b.x0)
        gaps = [b.x0 - a.x1 for a, b in itertools.pairwise(boxes)]
        assert len(boxes) >= 2 and min(gaps) >= 4, gaps  # a space between labels, in pixels
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


def test_forest_ticks_of_a_column_in_tiny_units_are_short_and_scaled_in_the_label():
    """QA75: a column in 1e-4 units (intervals of +-4e-6 about the median) ran its tick
    labels together ("-0.0000040.000000 0.000004"): now "-4 0 4" with "(× 10⁻⁶)" in the axis
    label."""
    import matplotlib.pyplot as plt

    result = _posterior_stand_in(4, 2, ["age", "sex", "bmi", "bp"])
    means = result.idata["posterior"]["means"]
    tiny = means.values.copy()
    tiny[..., :, 1] = 1e-4 + 2e-6 * np.random.default_rng(2).standard_normal((2, 100, 2))
    result.idata["posterior"]["means"] = means.copy(data=tiny)
    em_means = result.em.means.copy()
    em_means[:, 1] = 1e-4
    result = dataclasses.replace(result, em=dataclasses.replace(result.em, means=em_means))
    fig = plots.plot_forest(result)
    try:
        panel = next(a for a in fig.axes if a.get_title().startswith("mean of sex"))
        fig.draw_without_rendering()
        assert panel.get_xlabel().endswith("\n(\u00d7 10\u207b\u2076)"), panel.get_xlabel()
        shown = [t.get_text() for t in panel.get_xticklabels() if t.get_text()]
        assert shown and max(len(t) for t in shown) <= 4, shown
        other = next(a for a in fig.axes if a.get_title().startswith("mean of age"))
        assert "\u00d7" not in other.get_xlabel()  # ordinary scales: plain numbers
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)
    # QA76: far from 0 (a K=1 panel about 1e6) the ticks keep their leading digits
    from bayesgmm.plots.diagnostics import _axis_in_powers_of_ten

    fig = Figure()
    axis = fig.add_subplot()
    axis.set_xlim(999_997, 1_000_002)
    axis.set_xlabel("mean")
    _axis_in_powers_of_ten(axis)
    assert axis.get_xlabel() == "mean"


@pytest.mark.parametrize("name", ["plot_density", "plot_overlay", "plot_classification",
                                  "plot_membership", "plot_em_convergence", "plot_forest"])
def test_a_fitted_estimator_is_drawn_as_its_posterior(tiny_fit, name):
    """QA (scripting): plot_density(gmm, X) raised AttributeError 'n_features' and
    plot_overlay(gmm) 'an EMResult holds no data' for a fitted BayesianGMM, while the
    diagnostic plots took it: every figure now draws its result_, and an unfitted one is
    told to fit."""
    from bayesgmm import BayesianGMM, NotFittedError

    plot = getattr(plots, name)
    assert isinstance(plot(BayesianGMM.from_result(tiny_fit)), Figure)
    with pytest.raises(NotFittedError, match=r"^this BayesianGMM is not fitted yet: call fit"):
        plot(BayesianGMM(2))


def test_a_fitted_estimator_is_reported_as_its_posterior(tiny_fit, tmp_path):
    """QA (scripting): write_report(gmm, dir) raised AttributeError 'settings'."""
    from bayesgmm import BayesianGMM
    from bayesgmm.report import write_report

    page = write_report(BayesianGMM.from_result(tiny_fit), tmp_path / "r", progressbar=False)
    assert "Posterior" in page.read_text()


def test_draws_of_a_component_the_data_do_not_locate_do_not_stretch_the_axes():
    """QA (Old Faithful K=4): an unlocated component's draws (every one of them wide, so
    the per-component fence left none out) set the axes to three times the data's span,
    the clusters squeezed into the middle. The draws may widen the view by a quarter span
    beyond the data and EM's ellipses, no more."""
    from bayesgmm.plots.fit import _DRAW_REACH, _ellipse_limits

    rng = np.random.default_rng(0)
    em_means, em_variances = np.array([0.3, 0.7]), np.array([0.001, 0.001])
    draw_means = np.stack([rng.normal(0.3, 0.01, 50), rng.uniform(-2, 3, 50)], axis=1)
    draw_variances = np.stack([np.full(50, 0.001), rng.uniform(1, 4, 50)], axis=1)
    lo, hi = _ellipse_limits((0.0, 1.0), em_means, em_variances, draw_means, draw_variances,
                             weights=np.array([0.6, 0.4]), free=True)
    pad = 0.03 * (1 + 2 * _DRAW_REACH)
    assert (lo, hi) == pytest.approx((-_DRAW_REACH - pad, 1 + _DRAW_REACH + pad))
    # located draws are still held whole
    tame = np.stack([rng.normal(0.3, 0.01, 50), rng.normal(0.7, 0.01, 50)], axis=1)
    lo, hi = _ellipse_limits((0.0, 1.0), em_means, em_variances, tame,
                             np.full((50, 2), 0.02), weights=np.array([0.6, 0.4]), free=True)
    from scipy import stats

    radius = np.sqrt(stats.chi2.ppf(0.95, 2))
    assert lo < 0.3 - radius * np.sqrt(0.02) and hi > 0.7 + radius * np.sqrt(0.02)


@pytest.mark.parametrize(("median", "sd", "shown"), [
    (0.007538, 0.1, "0.01"), (-0.007397, 0.1, "-0.01"), (-0.0001, 0.1, "0.00"),
    (21340.3, 282.0, "21,340"), (4.315, 0.087, "4.315"), (2.5, float("nan"), "2.5")])
def test_a_forest_rows_median_has_the_digits_its_sd_leaves(median, sd, shown):
    from bayesgmm.plots.diagnostics import _median_digits

    assert _median_digits(median, sd) == shown


def test_classification_marks_the_components_the_table_marks(tiny_fit):
    """Referee: the tables daggered a component whose ellipse the classification figure drew
    unmarked beside them."""
    fig = plots.plot_classification(tiny_fit, marked=(1,))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    components = [t for t in texts if t.startswith("component")]
    assert [("\u2020" in t) for t in components] == [False, True], texts
    with pytest.raises(ValueError, match=r"marked: component indices 0 to 1; got \[3\]"):
        plots.plot_classification(tiny_fit, marked=(3,))
    # the membership figure beside it too
    fig = plots.plot_membership(tiny_fit, marked=(1,))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    components = [t for t in texts if t.startswith("component")]
    assert [("\u2020" in t) for t in components] == [False, True], texts


def test_whole_numbers_get_bins_a_whole_number_of_units_wide():
    """QA: counts 0-20 in bins 2.1 wide (three values, then two): bars alternated in height
    for no reason in the data. Each value now sits mid-bin in bins of whole units."""
    from bayesgmm.plots.fit import _bin_edges

    counts = np.random.default_rng(0).poisson(6, 250).astype(float)
    edges = _bin_edges(counts)
    widths = np.diff(edges)
    assert np.allclose(widths, widths[0]) and widths[0] == np.round(widths[0]) >= 1
    assert edges[0] == counts.min() - 0.5 and edges[-1] >= counts.max() + 0.5
    assert np.allclose((edges - 0.5) % 1, 0)  # edges between whole numbers
    wide = np.random.default_rng(0).integers(0, 10_000, 500).astype(float)
    assert np.diff(_bin_edges(wide))[0] > 1  # many values: wider bins, still whole units
    x = np.random.default_rng(0).normal(size=300)  # not whole numbers: NumPy's rules
    np.testing.assert_array_equal(_bin_edges(x), np.histogram_bin_edges(x, bins=18))
    large = np.random.default_rng(0).normal(size=100_000)  # "auto" gives more there
    np.testing.assert_array_equal(_bin_edges(large), np.histogram_bin_edges(large, "auto"))


def test_a_mixtures_histogram_has_bins_enough_to_show_its_dips():
    """Three clusters 3.5 sds apart, 450 rows: NumPy's "auto" rule gave 10 bins a sd wide,
    which showed no dip between them; the square-root rule's 22 show both."""
    from bayesgmm.plots.fit import _bin_edges

    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-3.5, 1, 150), rng.normal(0, 1, 150), rng.normal(3.5, 1, 150)]
    assert len(np.histogram_bin_edges(x, "auto")) - 1 == 10
    edges = _bin_edges(x)
    assert len(edges) - 1 == 22
    counts, _ = np.histogram(x, edges)
    centres = (edges[:-1] + edges[1:]) / 2
    for dip in (-1.75, 1.75):  # between the clusters: fewer rows than at either centre
        at = lambda c: counts[np.argmin(np.abs(centres - c))]  # noqa: E731
        assert at(dip) < min(at(dip - 1.75), at(dip + 1.75))


def test_the_rank_plot_leaves_out_a_constant_scalar():
    """QA: at K=1 the weight (1 in every draw) had a panel reading "p=0.00", lines past the
    band, beside an OK verdict (the check gives it no p-value); and the one-panel figure's
    title was cut at both sides."""
    import matplotlib.pyplot as plt

    result = _posterior_stand_in(1, 1)
    np.testing.assert_array_equal(result.idata["posterior"]["weights"].values, 1.0)
    fig = plots.plot_rank(result)
    try:
        titles = [a.get_title() for a in fig.axes if a.get_title()]
        assert titles and not any("weights" in t for t in titles)
        heading = fig._suptitle.get_text() if fig._suptitle else fig.subfigs[0]._suptitle.get_text()
        assert "Not drawn: weights[0], constant in every draw" in heading.replace("\n", " ")
        assert "over 1 scalar)" in heading.replace("\n", " ")
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("figure", ["density", "overlay"])
def test_a_weighted_fits_title_fits_its_figure(old_faithful, figure):
    """QA: "272 rows standing for 847 observations (frequency weights), marker area by
    weight" ran off both sides of the figure (the "2" of 272 and "weight" lost)."""
    import matplotlib.pyplot as plt

    w = np.random.default_rng(0).integers(1, 6, len(old_faithful))
    em = fit_em(old_faithful, 2, sample_weight=w, random_state=0)
    fig = getattr(plots, f"plot_{figure}")(em, old_faithful, sample_weight=w)
    try:
        title = fig.axes[0].get_title()
        assert "272 rows standing for 847 observations" in title.replace("\n", " ")
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("figure", ["data", "classification"])
def test_long_names_fit_the_pair_grids_panels(figure):
    """QA: "serum_total_cholesterol_mg_per_dL" ran into the next panel's x label and y labels
    reached into the row below: each label is shortened to its panel."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rng = np.random.default_rng(0)
    names = ["systolic_blood_pressure_mmHg", "diastolic_blood_pressure_mmHg",
             "serum_total_cholesterol_mg_per_dL", "body_mass_index_kg_per_m2"]
    X = pd.DataFrame(np.r_[rng.normal(0, 1, (150, 4)), rng.normal(3, 1, (150, 4))],
                     columns=names)
    fig = (plots.plot_data(X) if figure == "data"
           else plots.plot_classification(fit_em(X, 2, random_state=0), X))
    try:
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        xlabels = [a.xaxis.label for a in fig.axes if a.get_xlabel()]
        boxes = [t.get_window_extent(renderer) for t in xlabels]
        assert len(boxes) == 4
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        for a in fig.axes:
            if a.get_ylabel():
                label = a.yaxis.label.get_window_extent(renderer)
                assert label.height <= 1.02 * a.get_window_extent(renderer).height
        assert any("\u2026" in t.get_text() for t in xlabels)  # shortened, not dropped
    finally:
        plt.close(fig)


@pytest.mark.parametrize("figure", ["overlay", "classification"])
def test_a_component_beyond_the_axes_is_named(old_faithful, figure):
    """QA: a component of weight 0.011 at three outliers (waiting ~434) was in the legend and
    nowhere in the panel ("3 point(s) beyond the axes" only): a one-component-looking fit."""
    X = np.r_[old_faithful.to_numpy(), [[3.5, 430.0], [3.6, 434.0], [3.4, 438.0]]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(X, 3, random_state=0)
    far = int(np.argmax(em.means[:, 1]))
    assert em.means[far, 1] > 400  # the premise: a component out at the outliers
    notes = [t.get_text().replace("\n", " ") for a in getattr(plots, f"plot_{figure}")(
        em, X).axes for t in a.texts]
    assert any(f"component {far}: centred beyond the axes" in n for n in notes), notes
    plain = fit_em(old_faithful, 2, random_state=0)
    assert not any("centred beyond" in t.get_text() for a in getattr(
        plots, f"plot_{figure}")(plain, old_faithful).axes for t in a.texts)


@pytest.mark.parametrize("D", [3, 5])
def test_forest_and_rank_grids_fit_the_report_s_column(D):
    """Referee (D=5, K=6): the forest's four centred columns (14.4 inches) and ArviZ's 4 x 4
    rank grid (15.4 inches) were shrunk by the report's 1,068-pixel column to tick labels
    6-7 pixels high. Both are drawn at most about PAGE_WIDTH wide, nothing cut or overlapping."""
    import matplotlib.pyplot as plt

    from bayesgmm.plots._common import PAGE_WIDTH

    rng = np.random.default_rng(D)
    centres = rng.normal(0, 6, (4, D))
    X = np.concatenate([c + rng.standard_normal((50, D)) for c in centres])
    result = posterior_stand_in(X, 4, draws=60)
    for fig in (plots.plot_forest(result), plots.plot_rank(result, max_scalars=16)):
        try:
            assert fig.get_figwidth() <= 1.02 * PAGE_WIDTH, fig.get_size_inches()
            _assert_nothing_overlaps_or_is_cut(fig)
        finally:
            plt.close(fig)


@pytest.mark.parametrize("figure", ["plot_membership", "plot_classification"])
def test_a_key_that_would_cover_points_goes_beside_the_axes(figure):
    """QA (5-D membership): with points in every corner matplotlib's "best" place for the
    key is only the least bad one, and it covered points. Such a key now sits beside the
    axes, clear of every point drawn."""
    import matplotlib.pyplot as plt

    X = np.random.default_rng(0).uniform(0, 1, (600, 2))
    fig = getattr(plots, figure)(fit_em(X, 2, random_state=0), X)
    try:
        ax = fig.axes[0]
        fig.draw_without_rendering()
        box, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
        assert box.x0 >= frame.x1  # beside the axes
        points = ax.transData.transform(X)
        assert not np.any((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                          & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
        _assert_nothing_overlaps_or_is_cut(fig)
    finally:
        plt.close(fig)


def test_density_without_a_complete_row_sets_its_levels_by_the_mixture():
    """QA: with no row holding both coordinates the density figure failed (IndexError in
    np.quantile over no points) and the EM report lost it; the levels are the mixture's own
    mass then, said in the note and the key."""
    rng = np.random.default_rng(2)
    X = np.r_[rng.normal([0, 0], 1, (150, 2)), rng.normal([6, 7], 1, (150, 2))]
    X[::2, 0] = np.nan
    X[1::2, 1] = np.nan
    with pytest.warns(UserWarning, match="no row has both"):
        em = fit_em(X, 2, random_state=1)
    ax = plots.plot_density(em, X=X).axes[0]
    notes = [_one_line(t) for t in ax.texts]
    assert any("no point has both coordinates: the contours enclose that share of the "
               "mixture's probability" in n for n in notes), notes
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "95% of the mixture"
    # the levels: the densities exceeded by 5/10/25/50/75% of the mixture's own draws
    from bayesgmm.plots.fit import _CONTOUR_QUANTILES, _density_2d, _mixture_sample

    w, m = em.weights[None], em.means[None]
    c = em.full_covariances[None]
    sample = _mixture_sample(w, m, c)
    assert sample.shape == (4000, 2) and abs(np.mean(sample[:, 1] > 3.5) - w[0, 1]) < 0.03
    levels = np.quantile(_density_2d(sample, w, m, c), _CONTOUR_QUANTILES)
    drawn = [c for c in ax.collections if hasattr(c, "levels")][0].levels
    np.testing.assert_allclose(drawn, levels)


def test_a_row_missing_a_coordinate_is_not_also_beyond_the_axes():
    """QA: a row whose one observed value was far off and whose other was missing was counted
    in "N point(s) beyond the axes" and in "M missing a coordinate" (and drew no triangle)."""
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal([0, 0], 1, (150, 2)), rng.normal([6, 6], 1, (150, 2)),
              [[80.0, np.nan], [np.nan, -90.0], [70.0, 75.0]]]
    em = fit_em(X, 2, noise=True, n_init=3, random_state=0)
    ax = plots.plot_classification(em, X=X).axes[0]
    notes = " ".join(_one_line(t) for t in ax.texts)
    assert "1 noise point(s) beyond the axes (triangles at the edge)" in notes, notes
    assert "2 missing a coordinate" in notes, notes
    triangles = [line for line in ax.lines if line.get_transform() == ax.transAxes]
    assert sum(len(line.get_xdata()) for line in triangles) == 1


def test_triangles_piled_on_one_spot_are_counted():
    """QA: 12 outliers beyond both axes piled into the corners and read as 4 marks; each
    spot holding several is counted beside it."""
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal([0, 0], 1, (150, 2)), rng.normal([6, 6], 1, (150, 2)),
                   rng.uniform(60, 90, (6, 2)), -rng.uniform(60, 90, (6, 2))])
    em = fit_em(X, 2, noise=True, n_init=3, random_state=0)
    ax = plots.plot_classification(em, X=X).axes[0]
    assert sorted(t.get_text() for t in ax.texts if t.get_text().isdigit()) == ["6", "6"]


@pytest.mark.parametrize(("p", "words"), [
    (0.37, "= 0.37"), (0.01, "= 0.010"), (0.014, "= 0.014"), (0.985, "= 0.985"),
    (0.0, "< 0.005"), (1.0, "> 0.995")])
def test_a_predictive_p_near_the_misfit_rule_has_three_decimals(p, words):
    """QA: "p = 0.01" beside the rule "misfit: p <= 0.01" could be 0.006 or 0.014."""
    from bayesgmm.plots.diagnostics import _p_words

    assert _p_words(p, 200) == words


def test_a_one_feature_classification_has_a_density_scale():
    """QA: its y axis ("weighted component density") had no tick labels, beside the density
    figure's scaled axis; the ticks start at 0 (the points are jittered below it)."""
    import matplotlib.pyplot as plt

    from bayesgmm import load_galaxies

    X = load_galaxies()
    fig = plots.plot_classification(fit_em(X, 3, random_state=0), X)
    try:
        ax = fig.axes[0]
        ticks = ax.get_yticks()
        assert len(ticks) >= 3 and ticks.min() == 0.0 and ticks.max() <= ax.get_ylim()[1]
        fig.canvas.draw()
        assert "10^{\u22124}" in ax.yaxis.get_offset_text().get_text()  # 1.5, not 0.00015
    finally:
        plt.close(fig)


def test_the_axes_leave_out_far_points_not_a_gaussians_tail():
    """QA65: ordinary tails (3.3 sd) of 600 Gaussian rows were cut from the axes in about
    half of 8-feature figures, with a note in every panel of the row and column."""
    from bayesgmm.plots._common import _bulk

    rng = np.random.default_rng(0)
    cut = sum(bool((~_bulk(rng.normal(size=600))).any()) for _ in range(400))
    assert cut <= 4  # of 400 features: a figure of 8 has one in 12 at most
    far = np.r_[rng.normal(size=600), 10.0]
    assert np.flatnonzero(~_bulk(far)).tolist() == [600]


def test_uncertain_markers_grow_less_in_a_grid_of_small_panels(posterior_8d):
    """QA65: at D=8, 200 uncertain rows drawn at the single panel's 130 pt^2 covered every
    130-pixel panel of the classification grid."""
    from bayesgmm.plots.fit import _uncertainty_size

    assert _uncertainty_size(np.array([0.0, 0.5]), 2, panels=3).tolist() == [14.0, 130.0]
    assert _uncertainty_size(np.array([0.0, 0.5]), 2, panels=6).tolist() == [14.0, 43.0]
    result, X = posterior_8d
    fig = plots.plot_classification(result, X=X)
    largest = max(float(np.max(c.get_sizes())) for a in fig.axes for c in a.collections
                  if len(c.get_sizes()))
    assert largest <= 43.0 + 1e-9


def test_the_key_leaves_the_triangles_of_far_points_in_view():
    """QA62: the membership figure's key, where "best" put it (lower right), hid the corner
    triangle of 4 outliers beyond both axes and its count."""
    import matplotlib.pyplot as plt

    from bayesgmm.plots._notes import _edge_markers, _legend_off_points

    x, y = np.r_[np.linspace(0, 1, 20), 5.0], np.r_[np.linspace(0, 1, 20), -5.0]
    fig, ax = plt.subplots()
    ax.scatter(x[:20], y[:20], label="points")
    ax.set(xlim=(-0.1, 1.1), ylim=(-0.1, 1.1))
    _edge_markers(ax, x, y, np.arange(21) == 20)  # a triangle in the lower right corner
    ax.legend(loc="lower right")  # where "best" put it in the QA's figure
    _legend_off_points(ax, x[:20] * 0.3, y[:20] * 0.3 + 0.7)  # points clear of the key
    fig.draw_without_rendering()
    box = ax.get_legend().get_window_extent()
    (mark,) = [line.get_transform().transform(line.get_xydata())[0] for line in ax.lines
               if getattr(line, "_bayesgmm_edge", False)]
    assert not box.padded(4).contains(*mark)  # nor half of its triangle
    plt.close(fig)


def test_the_first_four_components_take_four_distinct_colours():
    """QA65: components 1 (orange) and 3 (vermillion) of a K=4 fit read as one cluster
    (0.26 apart in RGB; the colour-blind simulation is test_plots_qa's)."""
    from matplotlib.colors import to_rgb

    from bayesgmm.plots._styles import _component_color

    colours = [np.array(to_rgb(_component_color(k))) for k in range(4)]
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1:])
    assert closest > 0.28


def test_six_digit_ticks_of_a_pair_grid_do_not_run_together():
    """QA143 L8: on a flow cytometer's 0..262143 scale the pair grid's x ticks "100000" and
    "200000" touched and read as "100000200000"; large values now show as a factor under a
    "×10⁵" at the axis' end."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from bayesgmm import plots

    rng = np.random.default_rng(0)
    X = np.clip(rng.normal([60_000, 25_000, 200_000, 100_000, 20_000],
                           [8_000, 5_000, 20_000, 30_000, 10_000], (3000, 5)), 0, 262_143)
    fig = plots.plot_data(X, ("FSC_A", "SSC_A", "CD3", "CD4", "CD8"))
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for a in fig.axes:
        if not a.axison:
            continue
        boxes = sorted((t.get_window_extent(renderer) for t in a.get_xticklabels()
                        if t.get_visible() and t.get_text()), key=lambda b: b.x0)
        assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:], strict=False)), \
            [t.get_text() for t in a.get_xticklabels()]
