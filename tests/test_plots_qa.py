"""A lecturer's QA of the figures: EM's path to convergence, filled docstrings, the order of
plot_overlay's arguments, trace plots of the worst-mixing scalars and of the draws before
relabelling, evidence grades only where they apply (BIC), and the details of single figures
(keys, titles, ticks, colours, labels)."""

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import posterior_stand_in  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import bayesgmm  # noqa: E402
from bayesgmm import fit_em, plots  # noqa: E402
from bayesgmm.selection import plots as selection_plots  # noqa: E402


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


# --------------------------------------------------------------------------------------------
# 1. EM's path stops where fit_em stops
# --------------------------------------------------------------------------------------------
def test_em_path_ends_at_fit_ems_converged_fit(galaxies):
    """QA: the path stopped on the per-sample rule alone: 15 steps to -772.75, while fit_em
    (per-sample *and* total rule) took 42 iterations to -769.62 from the same start."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = plots.em_path(galaxies, 3, random_state=0)
        fit = fit_em(galaxies, 3, init="random_from_data", random_state=0)
        # each earlier step is fit_em stopped after that many iterations
        early = fit_em(galaxies, 3, init="random_from_data", random_state=0, max_iter=20)
    assert path[-1].converged and len(path) == fit.n_iter
    assert path[-1].log_likelihood == pytest.approx(fit.log_likelihood, abs=1e-8)
    assert path[19].log_likelihood == pytest.approx(early.log_likelihood, abs=1e-8)
    # review: the hand-over from the one-iteration steps to the whole fit, one step apart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = fit_em(galaxies, 3, init="random_from_data", random_state=0,
                        max_iter=fit.n_iter - 1)
    assert path[-2].log_likelihood == pytest.approx(before.log_likelihood, abs=1e-8)
    np.testing.assert_allclose(path[-2].means, before.means, rtol=1e-10)


def test_em_path_at_max_iter_is_not_converged_and_warns(galaxies):
    with pytest.warns(bayesgmm.ConvergenceWarning):
        path = plots.em_path(galaxies, 3, random_state=0, max_iter=5)
    assert len(path) == 5 and not path[-1].converged


# --------------------------------------------------------------------------------------------
# 2. docstrings with their shared parts filled in
# --------------------------------------------------------------------------------------------
def _public_functions():
    for module in (plots, selection_plots):
        names = getattr(module, "__all__", None) or [
            n for n in dir(module) if n.startswith("plot_")]
        for name in names:
            value = getattr(module, name)
            if callable(value):
                yield f"{module.__name__}.{name}", value


def test_no_public_figure_docstring_has_an_unfilled_placeholder():
    """QA: help(plot_membership) showed "{result_and_data}" and "{proba}" raw."""
    found = {name: re.findall(r"\{[A-Za-z_]+\}", func.__doc__ or "")
             for name, func in _public_functions()}
    assert "bayesgmm.plots.plot_membership" in found
    assert not {name: left for name, left in found.items() if left}


# --------------------------------------------------------------------------------------------
# 3. plot_overlay takes the data second, as every figure of a fit
# --------------------------------------------------------------------------------------------
def test_overlay_takes_the_data_second(old_faithful):
    em = fit_em(old_faithful, 2, random_state=0)
    fig = plots.plot_overlay(em, old_faithful)
    assert isinstance(fig, Figure) and fig.axes[0].has_data()
    with pytest.raises(TypeError, match="n_draws="):
        plots.plot_overlay(em, 50)


# --------------------------------------------------------------------------------------------
# 4. trace plots: the worst-mixing scalars; the draws before relabelling
# --------------------------------------------------------------------------------------------
def test_trace_shows_the_worst_mixing_scalars_and_says_what_it_shows(tiny_fit):
    """QA: the lowest bulk and tail ESS were at a covariance entry, which the default trace
    (weights and means) never showed."""
    import dataclasses

    import xarray as xr

    from bayesgmm.diagnostics import _rhat_ess

    # one variance's second chain off by half: the worst-mixing scalar is a covariance entry,
    # outside the default trace (weights and means), whatever the seed's draws
    post = tiny_fit.idata["posterior"].to_dataset().copy(deep=True)
    post["covariances"].values[1, :, 0, 0, 0] *= 1.5
    tree = tiny_fit.idata.copy()
    tree["posterior"] = xr.DataTree(post)
    fit = dataclasses.replace(tiny_fit, idata=tree)
    (_, highest_rhat), (_, lowest_bulk), (_, lowest_tail) = _rhat_ess(post)
    assert highest_rhat.startswith("covariances[0")  # the premise
    fig = plots.plot_trace(fit)
    try:
        drawn = {a.get_xlabel() for a in fig.axes}
        title = fig._suptitle.get_text()
        # the highest R-hat too (referee: the one failed check's scalar had no trace)
        assert "the highest R-hat (" in title
        for where in (lowest_bulk, lowest_tail, highest_rhat):
            # a variance as its sd, as the tables show it
            name, _, index = where.partition("[")
            parts = index.rstrip("]").split(", ")
            if name == "covariances" and parts[-1] == parts[-2]:
                where = f"sd[{', '.join(parts[:-1])}]"
            assert where in drawn and where in title
        assert title.startswith("Trace and per-chain density of the relabelled draws")
    finally:
        _close(fig)
    fig = plots.plot_trace(tiny_fit, var_names=("weights",))  # asked for: those alone
    try:
        assert {a.get_xlabel() for a in fig.axes} >= {"weights[0]", "weights[1]"}
        assert not any(a.get_xlabel().startswith("covariances") for a in fig.axes)
    finally:
        _close(fig)


def test_every_chains_trace_shows_through_the_others(tiny_fit):
    """QA65: opaque traces, the last chain's painted over the other chains'."""
    fig = plots.plot_trace(tiny_fit, var_names=("weights",))
    try:
        traces = [line for a in fig.axes if a.get_xlabel() == "Draw" for line in a.get_lines()
                  if len(line.get_xdata()) == tiny_fit.idata["posterior"].sizes["draw"]]
        assert len(traces) >= 2 * tiny_fit.idata["posterior"].sizes["chain"]
        assert all(line.get_alpha() is not None and line.get_alpha() <= 0.6 for line in traces)
    finally:
        _close(fig)


def test_a_variance_is_traced_as_its_sd_in_data_units(tiny_fit, tiny_fit_diag):
    """QA (galaxies): the worst-mixing scalar, a variance, was traced in velocity\u00b2 (to 4e8);
    the tables show it as an sd. A covariance off the diagonal stays as it is."""
    from bayesgmm.plots.diagnostics import _scalar_as_in_tables

    full = tiny_fit.idata["posterior"]["covariances"].transpose("chain", "draw", ...)
    draws = full.to_numpy()
    label, values = _scalar_as_in_tables(full, (1, 1, 1), draws[..., 1, 1, 1])
    assert label == "sd[1, waiting]"
    np.testing.assert_allclose(values, np.sqrt(draws[..., 1, 1, 1]))
    label, values = _scalar_as_in_tables(full, (0, 0, 1), draws[..., 0, 0, 1])
    assert label == "covariances[0, eruptions, waiting]" and values is not None
    np.testing.assert_array_equal(values, draws[..., 0, 0, 1])
    # as the convergence checks hold them: each distinct entry once, named by its pair
    from bayesgmm.diagnostics import _judged

    pairs = _judged(tiny_fit.idata["posterior"].to_dataset())["covariances"]
    assert list(pairs["pair"].values) == ["eruptions, eruptions", "eruptions, waiting",
                                          "waiting, waiting"]
    for at, expected in (((1, 2), "sd[1, waiting]"), ((0, 1), "covariances[0, eruptions, "
                                                              "waiting]")):
        label, _ = _scalar_as_in_tables(pairs, at, pairs.to_numpy()[..., at[0], at[1]])
        assert label == expected
    diag = tiny_fit_diag.idata["posterior"]["covariances"].transpose("chain", "draw", ...)
    label, values = _scalar_as_in_tables(diag, (0, 1), diag.to_numpy()[..., 0, 1])
    assert label == "sd[0, waiting]"
    np.testing.assert_allclose(values ** 2, diag.to_numpy()[..., 0, 1])


def test_trace_of_the_draws_before_relabelling(tiny_fit):
    raw = tiny_fit.idata["posterior_unrelabelled"]["weights"].values
    fig = plots.plot_trace(tiny_fit, var_names=("weights",), relabelled=False)
    try:
        assert "before relabelling" in fig._suptitle.get_text()
        panel = next(a for a in fig.axes if a.get_ylabel().replace("\n", "") == "weights[0]")
        drawn = np.sort(np.concatenate([line.get_ydata() for line in panel.lines
                                        if len(line.get_ydata()) == raw.shape[1]]))
        np.testing.assert_allclose(drawn, np.sort(raw[..., 0].ravel()))
    finally:
        _close(fig)


def test_trace_before_relabelling_needs_the_raw_draws(old_faithful):
    stand_in = posterior_stand_in(old_faithful.to_numpy(), 2)
    with pytest.raises(ValueError, match="posterior_unrelabelled"):
        plots.plot_trace(stand_in, relabelled=False)


# --------------------------------------------------------------------------------------------
# 5. Kass & Raftery's grades for BIC only
# --------------------------------------------------------------------------------------------
def _near_ties():
    from bayesgmm.selection.choice_notes import _choice_notes

    table = pd.DataFrame({"n_components": [3, 4], "covariance_type": ["full"] * 2,
                          "bic": [800.0, 801.5], "aic": [790.0, 791.38],
                          "icl": [805.0, 806.0], "degenerate": [False] * 2,
                          "error": [""] * 2})
    best = {"bic": (3, "full"), "aic": (3, "full"), "icl": (3, "full")}
    notes = _choice_notes(table, best, [3, 4, 5], exclude_degenerate=True)
    return {note.split(":")[0]: note for note in notes}


def test_near_tie_notes_grade_only_bic():
    """QA: "AIC: ... within 2 ...: weak evidence between them (Kass & Raftery)"."""
    notes = _near_ties()
    assert "Kass & Raftery" in notes["BIC"]
    assert "Kass" not in notes["AIC"] and "evidence" not in notes["AIC"]
    assert "Burnham & Anderson" in notes["AIC"] and "not taken as a preference" in notes["AIC"]
    assert "Kass" not in notes["ICL"] and "weak evidence" not in notes["ICL"]
    assert "classification entropy" in notes["ICL"]


def _criteria_figure(galaxies):
    from bayesgmm.selection import select_em

    sel = select_em(galaxies, range(1, 7), "full", n_init=2, random_state=0, n_jobs=1)
    return selection_plots.plot_criteria(sel, criteria=("bic", "aic", "icl"))


@pytest.fixture(scope="module")
def criteria_figure(galaxies):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _criteria_figure(galaxies)


def test_evidence_guides_only_on_the_bic_panel(criteria_figure):
    bic, aic, icl = criteria_figure.axes[:3]
    grades = ("positive", "strong")
    assert {"2: positive", "6: strong", "10: very strong"} <= {t.get_text() for t in bic.texts}
    for panel in (aic, icl):
        assert not any(g in t.get_text() for t in panel.texts for g in grades)
    assert any("Burnham" in t.get_text() for t in aic.texts)


def test_delta_panels_have_readable_ticks_and_guides_off_the_lines(criteria_figure):
    """QA: the symlog axis showed only 0 and 10^1; data lines crossed the guides' labels."""
    criteria_figure.draw_without_rendering()
    for panel in criteria_figure.axes[:3]:
        labels = [t.get_text() for t in panel.get_yticklabels() if t.get_text()]
        assert len(labels) >= 4 and {"0", "2", "10"} <= set(labels)
        assert not any("^" in label for label in labels)  # plain numbers, no 10^1
        right = panel.get_window_extent().x1
        assert all(t.get_window_extent().x0 >= right for t in panel.texts)


def test_delta_tick_labels_do_not_run_together_over_many_decades(old_faithful):
    """QA (Old Faithful, K=1..12, deltas up to 1,600): the squeezed linear part's "0" and "2"
    ran together; every pair of tick labels is apart now."""
    sel = bayesgmm.select_em(old_faithful, range(1, 13), n_init=1, random_state=0, n_jobs=1)
    fig = selection_plots.plot_criteria(sel)
    fig.draw_without_rendering()
    for panel in fig.axes:
        boxes = [t.get_window_extent() for t in panel.get_yticklabels() if t.get_text()]
        if len(boxes) < 2:
            continue
        assert "0" in [t.get_text() for t in panel.get_yticklabels()]
        for a, b in zip(boxes, boxes[1:], strict=False):
            # half a line of space at least between neighbours
            assert abs(a.y0 - b.y0) >= 1.5 * a.height, (a, b)


# --------------------------------------------------------------------------------------------
# 6. details of single figures
# --------------------------------------------------------------------------------------------
def test_loo_and_n_components_figures_have_titles():
    table = pd.DataFrame({"elpd": [-220.0, -221.5], "se": [9.0, 9.2],
                          "elpd_diff": [0.0, -1.5], "dse": [0.0, 1.8],
                          "indistinguishable": [True, True]}, index=["K=3", "K=4"])
    assert "PSIS-LOO" in selection_plots.plot_loo(table).axes[0].get_title()
    title = selection_plots.plot_n_components(np.array([3, 3, 4, 2])).axes[0].get_title()
    assert "non-empty components K+" in title and "K+ = 3" in title


def test_forest_titles_markers_and_ticks(tiny_fit):
    """QA: tiny titles, the median hidden under EM's cross, a floating "x10^-2", no x label
    on the weights panel."""
    import matplotlib.font_manager

    fig = plots.plot_forest(tiny_fit)
    fig.draw_without_rendering()
    medium = matplotlib.font_manager.FontProperties(size="medium").get_size_in_points()
    for panel in fig.axes[:3]:
        assert panel.title.get_fontsize() >= medium
        assert panel.xaxis.get_offset_text().get_text() == ""
        em = next(line for line in panel.lines if line.get_label() == "EM")
        medians = [line for line in panel.lines if line.get_marker() == "o"]
        assert em.get_marker() == "D" and em.get_markerfacecolor() == "none"
        assert all(m.get_zorder() > em.get_zorder() for m in medians)
        assert em.get_markersize() > medians[0].get_markersize()
    assert fig.axes[0].get_xlabel() == "weight"


def test_classification_defines_uncertainty_and_keeps_its_key_off_the_noise(old_faithful):
    X = old_faithful.to_numpy()
    rng = np.random.default_rng(1)
    noisy = np.r_[X, np.c_[rng.uniform(1.5, 5.2, 25), rng.uniform(40, 96, 25)]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(noisy, 2, noise=True, random_state=0)
    fig = plots.plot_classification(em, noisy)
    ax = fig.axes[0]
    assert "uncertainty (1 - max probability)" in ax.get_title()
    fig.draw_without_rendering()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1


def test_classification_sizes_are_visible_and_its_key_shows_sizes_the_points_have(
        galaxies, old_faithful):
    """QA (galaxies K=3): certain points were drawn 1-2 px wide, the key showed "uncertainty
    0.67", which no point had, and component 2's curve was cut at the right edge."""
    from matplotlib.collections import PathCollection

    X = galaxies.to_numpy()
    em = fit_em(X, 3, random_state=0, n_init=3)
    proba = em.predict_proba(X)
    fig = plots.plot_classification(em, X)
    ax = fig.axes[0]
    sizes = np.concatenate([c.get_sizes() for c in ax.collections
                            if isinstance(c, PathCollection)])
    assert sizes.min() >= 14  # a certain point is about 5 px wide at 100 dpi
    # every point certain to two digits: the key has the one size they have
    assert (1 - proba.max(axis=1)).max() < 0.005 and _key_sizes(ax) == []
    # one size for all, said as such (QA139 L2: a lone "uncertainty 0")
    assert "every point certain (uncertainty < 0.005)" in [
        t.get_text() for t in ax.get_legend().get_texts()]
    # every component's curve ends near zero inside the axes, the widest one's too
    lo, hi = ax.get_xlim()
    for k in range(3):
        sd = np.sqrt(em.covariances[k].ravel()[0])
        assert lo <= em.means[k, 0] - 2 * sd and em.means[k, 0] + 2 * sd <= hi
    # overlapping components: from certain to the most uncertain point, not to 1 - 1/K
    X = old_faithful.to_numpy()
    em = fit_em(X, 3, random_state=0, n_init=3)
    top = (1 - em.predict_proba(X).max(axis=1)).max()
    shown = _key_sizes(plots.plot_classification(em, X).axes[0])
    assert shown[0] == 0 and shown[-1] == pytest.approx(top, rel=0.05) and len(shown) == 3
    assert shown[-1] < 0.6  # not the 0.67 no point has


def _key_sizes(ax):
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    return [float(t.removeprefix("uncertainty ")) for t in labels
            if t.startswith("uncertainty ")]


def test_membership_title_says_rows_named_not_labelled():
    from bayesgmm.plots.fit import _membership_title

    ax = Figure().add_subplot()
    _membership_title(ax, "Membership", 10, 6)
    assert "(6 named)" in ax.get_title() and "labelled" not in ax.get_title()


@pytest.mark.parametrize(("args", "line"), [
    # QA (referee): 5 uncertain points, 2 skipped as too close: "the 3 uncertain points"
    ((3, 3, True, 5, True), "circled: 3 of the 5 uncertain points (P < 0.9; 2 too close to "
                            "these)"),
    ((3, 3, True, 5, False), "circled: 3 of the 5 uncertain points (P < 0.9)"),
    ((5, 5, True, 5, False), "circled: the 5 uncertain points (P < 0.9)"),
    ((1, 1, True, 1, False, 121), "circled: the 1 uncertain point shown (P < 0.9)\n121 more "
                                  "with P < 0.9 lack a coordinate: not shown"),
    ((10, 10, False, 40, True), "circled: 10 most uncertain, spaced out"),
    ((10, 10, False, 40, False), "circled: the 10 most uncertain points"),
    ((0, 0, True, 0, False, 3), "no point shown has P < 0.9: none circled\n3 with "
                                "P < 0.9 lack a coordinate: not shown"),
])
def test_membership_title_counts_agree_with_the_caption(args, line):
    """QA (referee): the title's count of uncertain points disagreed with the caption's and
    the text's (spacing skipped some; points missing a coordinate are not in the figure)."""
    from bayesgmm.plots.fit import _membership_title

    ax = Figure().add_subplot()
    _membership_title(ax, "Membership", *args[:2], *args[2:])
    assert ax.get_title() == f"Membership\n{line}"


def test_twenty_components_have_twenty_colours():
    from matplotlib.colors import to_hex

    from bayesgmm.plots._styles import _component_color

    colours = {to_hex(_component_color(k)) for k in range(20)}
    assert len(colours) == 20


def test_the_first_ten_components_hold_two_blues_and_no_grey():
    """Big-data QA: at K=8 components 0, 5 and 7 were three blues; component 14 was the
    data's grey."""
    from matplotlib.colors import rgb_to_hsv, to_rgb

    from bayesgmm.plots._styles import _component_color

    hsv = np.array([rgb_to_hsv(to_rgb(_component_color(k))) for k in range(20)])
    assert hsv[:, 1].min() > 0.1  # saturated: no grey
    hue = hsv[:10, 0] * 360
    assert np.count_nonzero((hue >= 180) & (hue <= 240)) == 2  # blue and sky blue only


def test_the_first_components_stay_apart_for_colour_blind_readers():
    """Accessibility QA: with matplotlib's C0..C3 components 1 and 2 were one olive under
    protanopia (distance 0.09 below), 2 and 3 under deuteranopia. Simulated with Vienot et
    al.'s (1999) dichromat matrices in linear RGB; the marker tells them apart as well."""
    from matplotlib.colors import to_rgb

    from bayesgmm.plots._styles import _component_color, _component_marker

    def linear(c):
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)

    def encoded(c):
        c = np.clip(c, 0, 1)
        return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)

    dichromats = {"protanopia": [[0.11238, 0.88762, 0], [0.11238, 0.88762, 0],
                                 [0.00401, -0.00401, 1]],
                  "deuteranopia": [[0.29275, 0.70725, 0], [0.29275, 0.70725, 0],
                                   [-0.02234, 0.02234, 1]]}
    for name, matrix in dichromats.items():
        seen = [encoded(np.array(matrix) @ linear(np.array(to_rgb(_component_color(k)))))
                for k in range(4)]
        closest = min(np.linalg.norm(a - b) for i, a in enumerate(seen) for b in seen[i + 1:])
        assert closest > 0.2, name
    assert len({_component_marker(k) for k in range(8)}) == 8
    assert _component_marker(3, 3) == "x"  # the noise


def test_density_contours_have_a_key_of_their_levels(old_faithful):
    em = fit_em(old_faithful, 2, random_state=0)
    ax = plots.plot_density(em, old_faithful).axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [f"{p}% of the points" for p in (95, 90, 75, 50, 25)]


def test_predictive_statistics_say_excess_kurtosis_and_one_sided(tiny_fit):
    from bayesgmm.plots.diagnostics import _ppc_statistics

    labels, _ = _ppc_statistics(np.zeros((5, 1)), ("x",))
    assert labels == ["sd", "skewness", "excess kurtosis"]
    fig = plots.plot_ppc_statistics(tiny_fit, n_replicates=20)
    assert "one-sided, P(T(rep) \u2265 T(obs))" in fig._suptitle.get_text()


def test_predictive_statistics_are_scipy_s_correlations_and_moments():
    """Every pair's correlation (D=7: 21 pairs, from one matrix product) and the 1-D
    moments, per data set, as NumPy and SciPy compute them one at a time."""
    from scipy import stats

    from bayesgmm.plots.diagnostics import _ppc_statistics

    Z = np.random.default_rng(0).standard_normal((3, 40, 7)) @ np.triu(np.ones((7, 7)))
    labels, statistic = _ppc_statistics(Z[0], [f"f{i}" for i in range(7)])
    pairs = [(i, j) for i in range(7) for j in range(i + 1, 7)]
    assert labels == ([f"corr(f{i}, f{j})" for i, j in pairs]
                      + [f"skewness(f{i})" for i in range(7)]
                      + [f"excess kurtosis(f{i})" for i in range(7)]
                      + [f"quartile skewness(f{i})" for i in range(7)]
                      + [f"octile kurtosis(f{i})" for i in range(7)])

    def octiles(x):  # E1 ... E7, NumPy's default (linear) quantiles, one at a time
        return [np.quantile(x, i / 8) for i in range(1, 8)]

    def bowley(x):
        e = octiles(x)
        return (e[5] + e[1] - 2 * e[3]) / (e[5] - e[1])

    def moors(x):
        e = octiles(x)
        return ((e[6] - e[4]) + (e[2] - e[0])) / (e[5] - e[1])

    expected = [[np.corrcoef(z[:, i], z[:, j])[0, 1] for i, j in pairs]
                + [stats.skew(z[:, i]) for i in range(7)]
                + [stats.kurtosis(z[:, i]) for i in range(7)]
                + [bowley(z[:, i]) for i in range(7)]
                + [moors(z[:, i]) for i in range(7)] for z in Z]
    np.testing.assert_allclose(statistic(Z), expected, rtol=1e-12)
    np.testing.assert_allclose(statistic(Z[1]), expected[1], rtol=1e-12)
    _, moments = _ppc_statistics(Z[0][:, :1], ["x"])
    z = Z[2, :, 0]
    np.testing.assert_allclose(moments(Z[2][:, :1]),
                               [z.std(), stats.skew(z), stats.kurtosis(z), bowley(z),
                                moors(z)], rtol=1e-12)
    # a normal sample's octile kurtosis is Moors' 1.233
    assert moors(np.random.default_rng(1).standard_normal(200_000)) == pytest.approx(1.233,
                                                                                     abs=0.01)
    # far from 0 (galaxies' velocities, ~20,000 km/s), as SciPy's two passes give them
    far = 2e4 + 300 * Z[:, :, :1] ** 2
    np.testing.assert_allclose(moments(far)[:, 1:3], [[stats.skew(x), stats.kurtosis(x)]
                                                      for x in far[:, :, 0]], rtol=1e-10)
    # a column of few distinct values (codes) has no quantile statistics: the continuous
    # replicates' quantiles could not match its steps
    coded = np.c_[Z[0][:, 0], np.arange(40) % 5]
    labels, statistic = _ppc_statistics(coded, ["a", "code"])
    assert labels == ["corr(a, code)", "skewness(a)", "skewness(code)", "excess kurtosis(a)",
                      "excess kurtosis(code)", "quartile skewness(a)", "octile kurtosis(a)"]
    assert statistic(coded[None]).shape == (1, 7)


def test_quantile_statistics_of_data_on_a_grid_round_the_replicates_to_it():
    """Review (false misfits): data recorded on a grid have their octiles on it, continuous
    replicates do not; the offset stays while the replicates' spread shrinks, so a rounded
    Gaussian fitted by a Gaussian was flagged 8-22 replicate sds off at N = 3,000-20,000. The
    replicates are rounded to the data's grid for the quantile statistics."""
    import pandas as pd

    from bayesgmm.plots.diagnostics import _grid

    assert _grid(np.array([3.0, 5.0, 4.0, 9.0])) == (3.0, 1.0)
    origin, step = _grid(np.round(np.random.default_rng(0).normal(0, 1, 500), 1))
    assert step == pytest.approx(0.1) and round(origin / step) == pytest.approx(origin / step)
    assert _grid(np.random.default_rng(0).normal(0, 1, 500)) is None
    rng = np.random.default_rng(0)
    for sd, n in ((4.0, 3000), (3.3, 3000)):
        scores = pd.DataFrame({"score": np.round(rng.normal(50.3, sd, n))})
        check = plots.predictive_check(posterior_stand_in(scores, 1, seed=0, draws=100),
                                       random_state=0)
        assert "octile kurtosis" in check.labels and check.misfit_labels() == []


@pytest.mark.parametrize("D, panels", [(2, 9), (3, 12), (7, 12)])
def test_joint_check_shows_every_pair_or_says_which_it_left_out(D, panels):
    """QA (D=5): the check drew the first six of ten pairs, and nothing said the other four
    were left out. Up to 12 statistics (each pair's correlation, each feature's skewness and
    excess kurtosis) every one has a panel; beyond, the 12 with p farthest from 0.5, and the
    title gives how many were left out and their p-values' range."""
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.standard_normal((60, D)), rng.standard_normal((60, D)) + 4])
    # 100 replicates: p in steps of 0.01, exact in the title's two decimals
    fig = plots.plot_ppc_statistics(posterior_stand_in(X, 2, draws=50), n_replicates=100)
    drawn = [a for a in fig.axes if a.axison]
    assert len(drawn) == panels
    shown = {a.get_xlabel(): float(a.get_title()[4:]) for a in drawn}
    title = fig._suptitle.get_text()
    statistics = D * (D - 1) // 2 + 4 * D  # with each feature's two quantile statistics
    if panels == statistics:
        assert "left" not in title and "shown" not in title
        return
    assert f"{panels} of {statistics} statistics shown" in title
    low, high = (float(t) for t in title.split("have p from ")[1].split(" to "))
    # every pair left out is no more extreme than any pair shown
    assert min(abs(p - 0.5) for p in shown.values()) >= max(abs(low - 0.5), abs(high - 0.5))


# --------------------------------------------------------------------------------------------
# 1-D density and membership: nothing drawn over what it should show
# --------------------------------------------------------------------------------------------
def test_1d_density_shades_components_under_the_mixture_line(galaxies):
    """QA (galaxies K=3): where one component carries the mixture, its dashed curve was drawn
    over the mixture's line and hid it. Components are now shaded areas under the line."""
    from matplotlib.collections import PolyCollection

    em = fit_em(galaxies, 3, random_state=0)
    ax = plots.plot_density(em, galaxies).axes[0]
    mixture = [line for line in ax.get_lines() if line.get_label() == "mixture"]
    assert len(mixture) == 1
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)
             and c.get_label().startswith("component")]
    assert [a.get_label() for a in areas] == ["component 0", "component 1", "component 2"]
    assert all(mixture[0].get_zorder() > a.get_zorder() for a in areas)
    assert not [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    _close(ax.figure)


def test_1d_membership_key_sits_beside_the_curves(galaxies):
    """QA (galaxies K=3): the key at the right edge covered component 2's curve where it rises
    at 30,000 km/s; the curves span the whole width, so it goes beside the axes."""
    em = fit_em(galaxies, 3, random_state=0)
    fig = plots.plot_membership(em, galaxies)
    ax = fig.axes[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    key = ax.get_legend().get_window_extent(renderer)
    assert key.x0 >= ax.get_window_extent(renderer).x1
    _close(fig)


def test_noise_points_are_drawn_in_a_one_dimensional_classification():
    """Review: the 1-D rug drew noise points with the noise's unfilled cross in a
    filled-marker collection, so they left no ink while the key showed them."""
    from matplotlib.collections import PathCollection

    rng = np.random.default_rng(4)
    x = np.r_[rng.normal(0, 1, 150), rng.normal(6, 1, 150), rng.uniform(-40, 40, 30)]
    em = fit_em(x[:, None], 2, noise=True, random_state=0)
    n_noise = int((em.predict_proba(x[:, None]).argmax(axis=1) == 2).sum())
    assert n_noise > 0
    ax = plots.plot_classification(em, x[:, None]).axes[0]
    crosses = [c for c in ax.collections if isinstance(c, PathCollection)
               and len(c.get_offsets()) == n_noise and len(c.get_edgecolors())]
    assert crosses


def test_the_predictive_check_keeps_a_small_mode_of_the_data():
    """QA (galaxies K=3): SciPy's Scott bandwidth (from the overall sd) smoothed the seven
    points near 10,000 km/s into a bump under half the histogram's height, so the observed
    curve looked like the replicates whatever they did there. ArviZ's default bandwidth keeps
    a 10% mode: the estimate at its centre is over half the true density, where Scott's is
    under a third of it."""
    from scipy import stats

    from bayesgmm.plots.diagnostics import _density_within

    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 180), rng.normal(8, 0.3, 20)]
    grid = np.linspace(-4, 10, 701)
    at = np.abs(grid - 8).argmin()
    truth = 0.9 * stats.norm.pdf(8, 0, 1) + 0.1 * stats.norm.pdf(8, 8, 0.3)
    ours = _density_within(x, grid)
    scott = stats.gaussian_kde(x)(grid)
    assert scott[at] < truth / 3 < truth / 2 < ours[at] < 4 * truth / 3, (scott[at], ours[at])
    assert np.trapezoid(ours, grid) == pytest.approx(1.0, abs=0.01)


def test_the_density_check_curve_is_scipys_kernel_estimate_with_arvizs_bandwidth():
    """The density figure sums the Gaussian kernels itself (SciPy's gaussian_kde took 12 ms
    a curve at 600 rows, 6 s for a figure of 100): the same estimate as SciPy's with ArviZ's
    bandwidth, weighted or not, scaled by the share of the values within the grid."""
    from arviz_stats.base import array_stats
    from scipy import stats

    from bayesgmm.plots.diagnostics import _density_within

    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(0, 1, 300), rng.normal(5, 0.5, 100), [40.0, 55.0]]
    g = rng.uniform(0.2, 3.0, x.size)
    grid = np.linspace(-4, 8, 201)
    inside = x <= 8
    for weights in (None, g):
        w = None if weights is None else weights[inside]
        kde = stats.gaussian_kde(x[inside], weights=w)
        bandwidth = float(array_stats.get_bw(x[inside], bw="experimental"))
        kde.set_bandwidth(bandwidth / np.sqrt(kde.covariance[0, 0]) * kde.factor)
        share = inside.mean() if weights is None else g[inside].sum() / g.sum()
        np.testing.assert_allclose(_density_within(x, grid, weights), share * kde(grid),
                                   rtol=1e-10, atol=1e-14)


def test_a_density_check_panel_says_when_the_replicates_lie_elsewhere():
    """QA (a spherical fit of columns on scales 1e-3 and 1e4): the model gave the small
    column an sd of 5,900, and its panel drew the data's curve alone, as if no replicate had
    been drawn. The panel now says where the replicates went; a panel whose replicates match
    says nothing, and the spherical advice comes only with a spherical fit."""
    from bayesgmm.plots.diagnostics import _replicates_elsewhere

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(0, 1e-3, 200), rng.normal(0, 1, 200)])
    post = posterior_stand_in(X, 1)
    scale = np.array([1e7, 1.0])  # feature 0's sd: 1e4, 1e7 times the data's
    post.idata["posterior"]["covariances"] *= scale[:, None] * scale[None, :]
    fig = plots.plot_ppc_density(post, n_replicates=10)
    notes = [" ".join(t.get_text().split()) for a in fig.axes for t in a.texts]
    assert len(notes) == 1 and notes[0].startswith("the replicates put 0% of their values in "
                                                   "this range (the data 100%"), notes
    assert "spherical" not in notes[0]
    wide = rng.normal(0, 7000, (5, 200))
    note, = _replicates_elsewhere(wide, X[:, 0], -0.004, 0.004, "spherical")
    # the interquartile ranges: 1.35 sd
    assert re.search(r"interquartile range: replicates 9,\d{3}, data 0.001\d", note), note
    assert "fit 'diag'" in note
    assert _replicates_elsewhere(rng.normal(0, 1e-3, (5, 200)), X[:, 0], -0.004, 0.004,
                                 "spherical") == ()


def test_a_small_density_reads_as_a_power_of_ten_over_its_axis(galaxies, old_faithful):
    """QA (galaxies, km/s): the density axes read "0.00016, 0.00014, ..."; now 1.6, 1.4, ...
    under "x10^-4". Densities of ordinary size keep their plain numbers."""
    em = fit_em(galaxies, 3, random_state=0, n_init=2)
    for fig in (plots.plot_data(galaxies), plots.plot_density(em, galaxies)):
        ax = fig.axes[0]
        fig.draw_without_rendering()
        assert "10^{\u22124}" in ax.yaxis.get_offset_text().get_text()
        ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert ticks and not any("0.000" in t for t in ticks), ticks
    eruptions = old_faithful[["eruptions"]]
    fig = plots.plot_data(eruptions)
    fig.draw_without_rendering()
    assert fig.axes[0].yaxis.get_offset_text().get_text() == ""


def test_classification_ellipses_stand_out_over_points_of_their_own_colour():
    """QA (20,000 points): a dense component's ellipse, in its points' colour and under
    nothing but them, could not be seen. It is drawn above the points on a white halo."""
    from matplotlib.collections import PathCollection

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (600, 2)), rng.normal(6, 1, (300, 2))]
    em = bayesgmm.fit_em(X, 2, random_state=0)
    ax = plots.plot_classification(em, X).axes[0]
    ellipses = [line for line in ax.lines if len(line.get_xdata()) > 2]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(ellipses) == 2 and points
    for line in ellipses:
        halo = line.get_path_effects()[0]
        assert halo._gc["foreground"] == "white" and line.get_zorder() > max(
            c.get_zorder() for c in points)


def _dots(ax):
    """The offsets and areas of a panel's grey data dots (its first scatter)."""
    from matplotlib.collections import PathCollection

    dots = [c for c in ax.collections if isinstance(c, PathCollection)][0]
    return dots.get_offsets(), np.broadcast_to(dots.get_sizes(), (len(dots.get_offsets()),))


@pytest.mark.parametrize("figure", ["data", "overlay", "density"])
def test_rows_at_one_place_are_one_dot_of_their_summed_area(figure):
    """QA89: data recorded to 0.5 mm put 80 rows at 42 places, drawn one on another with
    nothing to show it. Rows at one place are one dot whose area is their count times a lone
    row's, and the title says so; where no two rows coincide, nothing is merged or said."""
    from bayesgmm.plots.fit import STACKED_LINE

    rng = np.random.default_rng(3)
    exact = np.r_[rng.normal([10, 9], 0.8, (40, 2)), rng.normal([13, 12], 0.8, (40, 2))]
    for X, rounded in ((np.round(exact * 2) / 2, True), (exact, False)):
        em = fit_em(X, 2, random_state=0)
        fig = (plots.plot_data(X) if figure == "data" else
               getattr(plots, f"plot_{figure}")(em, X))
        ax = fig.axes[0]
        offsets, areas = _dots(ax)
        places, counts = np.unique(X, axis=0, return_counts=True)
        assert len(offsets) == len(places)
        drawn = np.array([areas[(offsets == place).all(axis=1)][0] for place in places])
        lone = drawn[counts == 1]
        assert lone.size and np.ptp(lone) == 0  # every lone row drawn alike
        np.testing.assert_allclose(drawn, counts * lone[0], rtol=1e-12)
        assert (STACKED_LINE in ax.get_title().replace("\n", " ")) is rounded
        _close(fig)


def test_data_dots_grow_as_the_rows_get_fewer():
    """QA89: 25 rows drew 2-px dots. Below a thousand points the dots grow (up to four times
    their area); from a thousand on they keep the size they had."""
    rng = np.random.default_rng(0)
    area = {}
    for n in (25, 250, 1000, 1500):
        fig = plots.plot_data(rng.normal(size=(n, 2)))
        area[n] = _dots(fig.axes[0])[1][0]
        _close(fig)
    assert area[25] == pytest.approx(4 * area[1000])
    assert area[25] > area[250] > area[1000] == area[1500]


def test_a_one_feature_overlay_spans_the_data_as_the_data_figure_does(galaxies):
    """QA91: galaxies' overlay ran from -1,000 to 45,000 km/s for data on 9,172-34,279 (the
    2-D ellipses' radius, stretched by wide draws of a wandering component), while the data
    figure spanned the data. Alone, one feature's overlay spans the data as that figure does
    (wide draws widen the band, not the axis)."""
    from conftest import posterior_stand_in

    post = posterior_stand_in(galaxies, 3, draws=50)
    cov = post.idata["posterior"]["covariances"]
    wide = cov.values.copy()
    wide[:, ::2, 2] *= 25.0  # half the draws of component 2 five times as wide
    post.idata["posterior"]["covariances"] = cov.copy(data=wide)
    x = galaxies.to_numpy(float)[:, 0]
    span = np.ptp(x)
    for fig in (plots.plot_overlay(post, galaxies), plots.plot_data(galaxies)):
        lo, hi = fig.axes[0].get_xlim()
        assert x.min() - 0.2 * span < lo and hi < x.max() + 0.2 * span, (lo, hi)
        _close(fig)


def test_rounded_crowds_are_merged_and_weightless_rows_are_no_dots():
    """QA94: beyond 2,000 points the faded dots of 2,500 rounded rows looked alike at 2 rows
    and at 100, untitled; and rows of weight 0 at one place made the title claim larger
    dots. Rows at half as many places or fewer are merged at any size of crowd; a row of
    weight 0 is no dot."""
    from bayesgmm.plots.fit import STACKED_LINE

    rng = np.random.default_rng(2)
    rounded = np.round(rng.normal(size=(2500, 2)) * 2) / 2  # about 130 places
    fig = plots.plot_data(rounded)
    offsets, _ = _dots(fig.axes[0])
    assert len(offsets) == len(np.unique(rounded, axis=0)) < 200
    assert STACKED_LINE in fig.axes[0].get_title().replace("\n", " ")
    _close(fig)
    fig = plots.plot_data(rng.normal(size=(2500, 2)))  # no two rows at one place
    assert len(_dots(fig.axes[0])[0]) == 2500
    _close(fig)
    X = rng.normal(size=(40, 2))
    X[:5] = X[5]  # six rows at one place, five of them weightless
    g = np.r_[np.zeros(5), np.ones(35)]
    fig = plots.plot_data(X, sample_weight=g)
    assert STACKED_LINE not in fig.axes[0].get_title().replace("\n", " ")
    _close(fig)
