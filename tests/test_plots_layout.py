"""Figure layout: the pair a membership figure shows, limits that hold what is drawn, labels
and legends that cover nothing, an EM convergence panel that draws a negligible change flat."""

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
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
    em = fit_em(X, 3, n_init=5, random_state=0)
    assert plots._two_most_separating(em.weights, em.means, em.full_covariances) == (0, 1)
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
    assert plots._two_most_separating(weights, means, covariances) == (7, 13)
    # one component: nothing to separate, a valid pair all the same
    assert plots._two_most_separating(weights[:1], means[:1], covariances[:1]) == (0, 1)


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
                                if line.get_label() in ("full", "diag", "degenerate")])
        assert drawn.min() < 0 and low < drawn.min() and high > drawn.max()
        # room below the lowest cross, on the panel's own scale
        scale = axis.yaxis.get_transform()
        t_low, t_min, t_high = scale.transform(np.array([low, drawn.min(), high]))
        assert (t_min - t_low) > 0.02 * (t_high - t_low)
    # nothing below the best: the floor stays just under 0
    table["degenerate"] = False
    table.loc[[6, 7], ["bic", "icl"]] = 300.0
    assert plot_criteria(table, criteria="bic", delta=True).axes[0].get_ylim()[0] == -0.5


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
    assert len(labels) < 15 and f"the 15 most uncertain points ({len(labels)} labelled)" \
        in ax.get_title()
    # apart points: every label
    few = plots.plot_membership(em, X, n_uncertain=2).axes[0]
    assert sum(t.get_text().isdigit() for t in few.texts) == 2
    assert "labelled" not in few.get_title()


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


def test_overlay_with_noise_is_set_around_the_claimed_points(old_faithful):
    X = np.vstack([old_faithful.to_numpy(), [[50.0, 2000.0], [-3.0, 500.0]]])
    em = fit_em(X, 2, noise=True, n_init=10, random_state=1)
    ax = plots.plot_overlay(em, X=X).axes[0]
    assert ax.get_xlim()[1] < 10 and ax.get_ylim()[1] < 200  # the clusters, not the outliers
    assert "2 noise point(s) beyond the axes" in [t.get_text() for t in ax.texts]
    ellipses = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert all(_inside(ax, line.get_xdata(), line.get_ydata()) for line in ellipses)
    # the pair grid too
    X3 = np.c_[X, X[:, 0] + np.random.default_rng(0).normal(0, 0.3, len(X))]
    em3 = fit_em(X3, 2, noise=True, n_init=10, random_state=1)
    grid = plots.plot_overlay(em3, X=X3)
    lower = [a for a in grid.axes if a.axison and a.collections and not a.patches]
    assert len(lower) == 3
    assert all(np.abs([*a.get_xlim(), *a.get_ylim()]).max() < 200 for a in lower)
    assert all(any("beyond the axes" in t.get_text() for t in a.texts) for a in lower)
    diagonal = [a for a in grid.axes if a.axison and a.patches]
    assert len(diagonal) == 3 and all(a.get_xlim()[1] < 200 for a in diagonal)
    # QA: the density and classification grids' diagonals still spanned the outliers
    for figure in (plots.plot_density(em3, X=X3), plots.plot_classification(em3, X=X3)):
        diagonal = [a for a in figure.axes if a.axison and not a.get_yticks().size]
        assert len(diagonal) == 3
        assert all(np.abs(a.get_xlim()).max() < 200 for a in diagonal)
        assert all(any("beyond the axes" in t.get_text() for t in a.texts) for a in diagonal)
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
    plots._overlay_1d(ax, x, np.array([0.5, 0.5]), np.array([0.0, 5.0]), np.ones(2),
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
        plots._contours(ax, X2, w, m, c, keep=k)
        (contour,) = [a for a in ax.get_children() if isinstance(a, ContourSet)]
        levels[name] = contour.levels
    at_claimed = plots._density_2d(X2[:300], w, m, c)
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
    assert "2 point(s) beyond the axes" in [t.get_text() for t in ax.texts]


def test_bulk_keeps_a_small_far_group_joined_by_its_points_and_drops_isolated_ones():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 300), rng.normal(8, 1, 30)]  # a 9% group: all of it
    assert plots._bulk(x).all()
    far = np.r_[x, 60.0, -45.0, np.nan]
    assert plots._bulk(far).sum() == x.size
    three = np.c_[far, far + rng.normal(0, 0.3, far.size), far - rng.normal(0, 1, far.size)]
    em = fit_em(three[:-1], 2, random_state=0)
    grid = plots.plot_density(em, X=three[:-1])
    panels = [a for a in grid.axes if a.axison]
    assert all(np.abs([*a.get_xlim()]).max() < 20 for a in panels)
    assert all(any("2 point(s) beyond the axes" == t.get_text() for t in a.texts)
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
    plots._legend_below(fig, [f"component {k} (a long label)" for k in range(4)], 4, extra)
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
    assert lines[1].startswith("circled: the 15 most uncertain points")
    if case != "2-D":
        assert "most separating pair" in lines[0]


def test_membership_title_fits_the_figure_with_long_names():
    X = _joint_separation_data()
    X.columns = ["length_of_the_sample_mm", "width_of_the_sample_mm", "c", "dd"]
    em = fit_em(X, 3, n_init=5, random_state=0)
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
    assert 0 < len(labels) <= plots._MAX_LABELS


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


def test_one_dimensional_density_has_tick_labels_and_a_distinct_band(galaxies):
    x = np.asarray(galaxies, dtype=float).reshape(-1, 1)
    em = fit_em(x, 3, random_state=0)
    fig = plots.plot_density(em, x)
    fig.draw_without_rendering()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    ax = Figure().subplots()
    rng = np.random.default_rng(0)
    S = 20
    plots._overlay_1d(ax, x[:, 0], em.weights, em.means[:, 0], em.full_covariances[:, 0, 0],
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
        assert fig._suptitle.get_text().startswith("The 3 of 6 scalars with the lowest bulk "
                                                   "ESS")
        drawn = [a.get_ylabel() for a in fig.axes if a.get_ylabel() in values]
        assert drawn == [name for name in values if name in lowest]  # usual order
    finally:
        plt.close(fig)
    fig = plots.plot_trace(tiny_fit)  # 6 scalars: all of them (two panels each), no title
    try:
        assert len([a for a in fig.axes if a.get_xlabel() == "Draw"]) == 6
        assert not (fig._suptitle and "lowest bulk ESS" in fig._suptitle.get_text())
    finally:
        plt.close(fig)
