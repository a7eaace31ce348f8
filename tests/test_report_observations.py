"""The report's record of missing values, weights, labels and noise (from a hand-made summary)."""

import re
import types

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bayesgmm import report  # noqa: E402
from bayesgmm.observation_record import observations_record  # noqa: E402


def _data_section(X, summary):
    figures = []
    em = types.SimpleNamespace(feature_names=("a", "b"), observations_summary=summary)
    return report._section_data(em, X, report._embedder(figures)), figures


def test_data_section_counts_missing_values_and_states_the_summary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    X[[1, 5, 9], 1] = np.nan
    X[3, 0] = np.nan
    summary = {"n_rows": 40, "n_rows_dropped": 1, "n_missing_values": 4,
               "n_rows_with_missing": 4, "missing": "marginalise", "weighted": True,
               "n_labelled": 6, "noise": True, "noise_log_density": -np.log(12.0),
               "sum_of_weights": 55.0,
               "label_names": ["x", "y"]}
    text, figures = _data_section(X, summary)
    # the counts once, in the observations line (the intro no longer repeats them)
    assert "40 observations of 2 feature(s).</p>" in text
    assert "missing at random" in text
    assert ("<b>Observations:</b> 40 row(s) fitted; 4 missing value(s) in 4 row(s) integrated "
            "out") in text
    assert "6 row(s) with a known component: 0 = &#x27;x&#x27;, 1 = &#x27;y&#x27;" in text
    assert "a uniform noise component (volume 12)" in text
    assert "<th scope=\"col\">observed</th>" in text
    assert "<td>39</td>" in text
    assert "<td>37</td>" in text
    assert len(figures) == 1 and figures[0].png.startswith(b"\x89PNG")  # NaN-safe figure


def test_plain_data_section_has_no_observations_line():
    X = np.random.default_rng(1).normal(size=(30, 2))
    text, _ = _data_section(X, None)
    assert "no missing values" in text and "Observations:" not in text
    assert "<th scope=\"col\">observed</th>" not in text


def test_summary_is_found_on_the_em_start_or_in_saved_settings():
    summary = {"n_rows": 3, "noise": True}
    em = types.SimpleNamespace(observations_summary=summary)
    assert observations_record(types.SimpleNamespace(em=em)) == summary
    saved = types.SimpleNamespace(em=None, settings={"observations": summary})
    assert observations_record(saved) == summary
    assert observations_record(types.SimpleNamespace(settings={})) is None


def test_one_dimensional_data_with_gaps_draws():
    X = np.r_[np.random.default_rng(2).normal(size=20), np.nan][:, None]
    fig = report.plots.plot_data(X, ("a",))
    assert fig.axes[0].get_xlim()[0] < -1


def test_bayes_report_on_data_with_missing_values_and_known_labels(tiny_fit):
    """The whole report renders when the posterior's data hold NaN and labels (no figure
    fails), states the missing values, and marks the labelled points."""
    import dataclasses

    import xarray as xr

    idata = tiny_fit.idata.copy()
    x = idata["observed_data"]["x"].values.copy()
    x[[3, 10, 40], 1] = np.nan
    x[7, 0] = np.nan
    labels = np.full(x.shape[0], -1)
    labels[[0, 1, 2]] = [0, 1, 0]
    idata["observed_data"] = xr.Dataset(
        {"x": (("observation", "feature"), x), "labels": (("observation",), labels)},
        coords=idata["observed_data"].coords)
    result = dataclasses.replace(tiny_fit, idata=idata, observations_summary={
        "n_rows": 272, "n_rows_fitted": 272, "n_rows_dropped": 0, "missing": "marginalise",
        "n_missing_values": 4, "n_rows_with_missing": 4, "weighted": False, "n_labelled": 3,
        "noise": False, "noise_log_density": None, "label_names": ["short", "long"]})
    page, figures = report.build_report(result)
    assert "4 value(s) missing" in page
    # QA (referee): the table of uncertain points named components by bare numbers
    table = page[page.index("most probable component. "):]
    assert re.search(r"<td>[01] \((short|long)\)</td>", table)
    assert "black crosses: the 3 points whose component was known" in page
    # the classification figure's crosses are their components' colours (QA141 L1)
    assert "crosses in their components&#x27; colours: the 3 points whose component" in page
    assert "Figure &quot;" not in page and 'Figure "' not in page  # no figure failed
    assert {f.name for f in figures} >= {"data", "classification", "membership"}


def _with_observed(tiny_fit, **variables):
    import dataclasses

    import xarray as xr

    idata = tiny_fit.idata.copy()
    obs = idata["observed_data"].to_dataset()
    idata["observed_data"] = obs.assign(**{k: (("observation",), v)
                                           for k, v in variables.items()})
    return dataclasses.replace(tiny_fit, idata=idata), xr


def test_noise_weight_is_a_row_of_the_parameter_table(tiny_fit):
    import dataclasses

    post = tiny_fit.idata["posterior"].to_dataset()
    nw = np.random.default_rng(0).uniform(0.01, 0.05, (post.sizes["chain"], post.sizes["draw"]))
    idata = tiny_fit.idata.copy()
    idata["posterior"] = post.assign(weights=post["weights"] * (1 - nw[..., None]),
                                     noise_weight=(("chain", "draw"), nw))
    em = dataclasses.replace(tiny_fit.em, noise_log_density=-np.log(300.0), noise_weight=0.03)
    table = report.parameter_table(dataclasses.replace(tiny_fit, idata=idata, em=em))
    assert list(table.index[:3]) == ["weights[0]", "weights[1]", "noise_weight"]
    row = table.loc["noise_weight"]
    assert row["EM"] == 0.03 and row["mean"] == pytest.approx(nw.mean())
    assert row["eti94_lb"] == pytest.approx(np.quantile(nw, 0.03))
    assert "noise_weight" not in report.parameter_table(tiny_fit).index
    # QA: with D > 2 the noise weight sat in the folded sds-and-correlations table
    wide = pd.concat([table, pd.DataFrame(index=["sd[0, c]", "corr[0, a, c]"])])
    opened, folded = report._parameter_html(wide, n_features=3).split("<details>")
    assert "noise_weight" in opened and "noise_weight" not in folded and "sd[0, c]" in folded


def test_predictive_check_compares_with_the_rows_the_weights_stand_for(tiny_fit):
    n = tiny_fit.idata["observed_data"].sizes["observation"]
    g = np.arange(n) % 3  # whole numbers: the rows repeated; zeros: left out
    result, _ = _with_observed(tiny_fit, sample_weight=g.astype(float))
    X, weights = report.plots.diagnostics._ppc_data(result)
    assert weights is None and len(X) == g.sum()
    np.testing.assert_array_equal(X[1:3], np.repeat(report.plots._common._data(result)[2:3], 2,
                                                    axis=0))
    fig = report.plots.plot_ppc_density(result, n_replicates=3)
    assert len(fig.axes) == 2
    result, _ = _with_observed(tiny_fit, sample_weight=np.linspace(0.5, 1.5, n))
    X, weights = report.plots.diagnostics._ppc_data(result)
    assert len(X) == n and weights is not None
    assert len(report.plots.plot_ppc_statistics(result, n_replicates=5).axes) >= 1


def test_parameter_table_names_components_by_their_known_labels(old_faithful):
    from bayesgmm import fit_em
    from bayesgmm.observation_record import name_labels
    from bayesgmm.report import parameter_table

    X = old_faithful.to_numpy(dtype=float)
    labels = np.where(np.arange(len(X)) % 10 == 0, (X[:, 0] < 3).astype(int), -1)
    em = fit_em(X, 2, labels=labels, random_state=0)
    assert parameter_table(em).index[0] == "weights[0]"
    name_labels(em, ("long", "short"))
    index = list(parameter_table(em).index)
    assert index[:2] == ["weights[0 (long)]", "weights[1 (short)]"]
    assert "means[1 (short), x1]" in index


def test_verdict_box_says_the_model_is_in_question_when_rows_are_outliers(tiny_fit):
    """QA: a green 'can be used as they are' above a fit whose components hold gross
    outliers; the outlier evidence (EM section) is now said in the verdict box too."""
    import dataclasses

    import xarray as xr

    idata = tiny_fit.idata.copy()
    x = idata["observed_data"]["x"].values.copy()
    x[[0, 1]] = [[40.0, 400.0], [-30.0, -300.0]]  # two gross outliers in the fitted data
    idata["observed_data"] = xr.Dataset({"x": (("observation", "feature"), x)},
                                        coords=idata["observed_data"].coords)
    page, _ = report.build_report(dataclasses.replace(tiny_fit, idata=idata))
    box = page[page.index('<div class="verdict'):]
    box = box[:box.index("</div>")]
    assert "But the model itself is in question: some rows fit a uniform noise component" in box
    assert "can be used as they are" not in box
    assert "Outliers: 2 row(s)" in page
    clean, _ = report.build_report(tiny_fit)
    assert "The model itself is in question" not in clean


def _bar_heights(ax):
    return np.array([p.get_height() for p in ax.patches])


def test_figures_count_rows_by_their_frequency_weights(galaxies):
    """QA (referee): a weighted fit's figures drew each distinct row once (galaxies with
    counts: histogram bars [7 0 0 2 7 13 ...] against the weighted [7 0 0 2 14 24 ...], under
    the weighted mixture density), and its contour labelled "25% of the points" enclosed 46%
    of the observations. The rows now count as their weights say, as for the rows repeated."""
    from matplotlib.contour import ContourSet

    from bayesgmm import fit_em, plots

    x = galaxies.to_numpy(float)[:, 0]
    g = np.random.default_rng(0).integers(1, 4, len(x))
    expanded = np.repeat(x, g)
    # 1-D: the same bars as the rows written out (same bins: the bulk's edges of the rows)
    fig = plots.plot_data(x[:, None], ("velocity",), sample_weight=g)
    edges = [p.get_x() for p in fig.axes[0].patches] + [fig.axes[0].patches[-1].get_x()
                                                        + fig.axes[0].patches[-1].get_width()]
    want, _ = np.histogram(expanded, bins=edges, density=True)
    np.testing.assert_allclose(_bar_heights(fig.axes[0]), want, rtol=1e-12)
    assert fig.axes[0].get_title() == (f"Data: {len(x)} rows standing for {g.sum()} "
                                       "observations (frequency weights)")
    # 2-D: the contour levels enclose the stated shares of the weighted points
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal([0, 0], 1, (60, 2)), rng.normal([5, 5], 1, (60, 2))]
    counts = np.where(np.arange(len(X)) < 60, 1, 9)  # the second cluster's rows count 9 times
    em = fit_em(X, 2, sample_weight=counts.astype(float), random_state=0)
    fig = plots.plot_density(em, X, sample_weight=counts)
    ax = fig.axes[0]
    (contour,) = [a for a in ax.get_children() if isinstance(a, ContourSet)]
    at_points = np.exp(em.score_samples(X))
    for level, label in zip(contour.levels, ["95%", "90%", "75%", "50%", "25%"], strict=True):
        inside = counts[at_points >= level].sum() / counts.sum()
        assert inside == pytest.approx(int(label[:-1]) / 100, abs=0.05), label
    assert "marker area by weight" in ax.get_title().replace("\n", " ")  # wrapped to fit
    sizes = ax.collections[0].get_sizes()
    assert sizes.max() > 5 * sizes.min()  # the heavy rows' markers are the larger
    # wrapped to the room either side of the panel's centre, not to the figure's width (the
    # overlay's title ran off its right edge: "... (frequency weights), marke")
    big = np.where(np.arange(len(X)) < 60, 1, 9000)
    fig = plots.plot_overlay(fit_em(X, 2, sample_weight=big, random_state=0), X,
                             sample_weight=big)
    fig.canvas.draw()
    title = fig.axes[0].title.get_window_extent()
    margin = 0.01 * fig.bbox.width  # the wrap leaves 1.5% either side; the edge cut "marker"
    assert title.x0 >= margin and title.x1 <= fig.bbox.x1 - margin, (title, fig.bbox)


@pytest.mark.parametrize("covariance_type, title", [
    ("diag", "Standard deviations (3 columns)"),
    ("full", "Standard deviations and correlations (6 columns)")])
def test_the_folded_table_is_named_for_what_it_holds(covariance_type, title):
    """QA (K=8, diag): "Standard deviations and correlations (40 rows)" folded 40 sds."""
    from bayesgmm import fit_em
    from bayesgmm.report import _sd_rows_name, build_em_report

    X = np.random.default_rng(0).normal(size=(60, 3))
    page, _ = build_em_report(fit_em(X, 2, covariance_type=covariance_type, random_state=0,
                                     n_init=1), X)
    assert f"<summary>{title}</summary>" in page
    assert _sd_rows_name(["sd[0, a]", "sd[1, a]"]) == "Standard deviations"
    assert _sd_rows_name(["sd[0, a]", "corr[0, a, b]"]).endswith("and correlations")


def test_the_em_reports_noise_count_is_of_the_rows_fitted():
    """Review: with missing="drop" the EM report said "5 of 305 points" were noise where the
    fit kept 302 rows (and the console said 2 of 302): rows the fit never saw were counted."""
    from bayesgmm.report import build_em_report

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (150, 2)), rng.normal(5, 1, (150, 2)),
              [[40, 40], [-40, 35], [45, -30], [-38, -41], [41, 2]]]
    X[-3:, 1] = np.nan  # three far rows the fit drops
    frame = pd.DataFrame(X, columns=["a", "b"])
    from bayesgmm import fit_em

    em = fit_em(frame, 2, noise=True, missing="drop", random_state=0)
    page, _ = build_em_report(em, frame)
    section = page[page.index("<h3>The noise component</h3>"):]
    section = section[:section.index("</table>")]
    assert "2 of 302 points have P(noise | x) above 0.5" in section
    # QA101: the box itself, not only its volume, as the fit has it and result.json keeps it
    from bayesgmm.formatting import format_number

    lo, hi = em.noise_bounds
    assert (f"uniform over the box a {format_number(lo[0])} to {format_number(hi[0])} \u00d7 b "
            f"{format_number(lo[1])} to {format_number(hi[1])}") in section
    assert em.observations["noise_bounds"] == em.noise_bounds.tolist()
    assert "<th scope=\"row\">302</th>" not in section
    assert "<th scope=\"row\">300</th>" in section  # named as in the file


def test_rows_of_weight_zero_are_no_rows_in_the_data_and_membership_sections(tiny_fit):
    """QA134 L3: two far rows of weight 0 (no rows at all, the README says) set the data
    table's max and sd, and section 4 said "1 of 102 points" of a fit that counted 100, the
    one uncertain point being a row of weight 0 beyond the axes."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    far = np.vstack([X, [[40.0, -30.0], [-25.0, 60.0]]])
    g = np.r_[np.ones(40), 0.0, 0.0]
    summary = {"n_rows": 42, "weighted": True, "sum_of_weights": 40.0}
    plain, _ = _data_section(X, summary)
    em = types.SimpleNamespace(feature_names=("a", "b"), observations_summary=summary)
    weighted = report._section_data(em, far, report._embedder([]), g)
    first_table = re.compile(r"<table.*?</table>", re.S)
    assert first_table.search(weighted)[0] == first_table.search(plain)[0]  # the 40 rows'
    assert first_table.search(weighted)[0] != first_table.search(
        report._section_data(em, far, report._embedder([])))[0]  # the far rows' own
    assert "(2 row(s) of weight 0, which it does not count, are left out here and in the " \
        "figures)" in weighted
    # section 4 of a posterior fitted with two rows of weight 0
    n = tiny_fit.idata["observed_data"]["x"].shape[0]
    weights = np.ones(n)
    weights[:2] = 0.0
    result, _ = _with_observed(tiny_fit, sample_weight=weights)
    Xr = result.idata["observed_data"]["x"].values
    proba = result.memberships(max_draws=50)
    section = report._section_membership(result, Xr, proba, report._embedder([]),
                                         counted=report._positive_weight(weights))
    said = re.sub(r"<[^>]+>", " ", section)
    assert re.search(rf"(of the|of) {n - 2:,} points", said) and f"{n:,} points" not in said
    # the figures draw each row once: said, beside the data figure's areas by weight (L4)
    assert said.count("each row drawn once, whatever its frequency weight") == 2
    assert report._positive_weight(np.ones(3)) is None


def test_the_em_report_leaves_rows_of_weight_zero_out_of_section_4(old_faithful):
    """QA139 M1: the EM report said "Every one of the 62 points" of a fit that counted 60,
    and drew its two rows of weight 0 beyond the axes."""
    from bayesgmm import fit_em

    X = np.vstack([old_faithful.to_numpy(float), [[40.0, -30.0], [-25.0, 160.0]]])
    weights = np.r_[np.ones(len(X) - 2), 0.0, 0.0]
    em = fit_em(X, 2, sample_weight=weights, random_state=0)
    page, _ = report.build_em_report(em, X, sample_weight=weights)
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert f"{len(X):,} points" not in said and re.search(rf"{len(X) - 2:,} points", said)
    assert said.count("each row drawn once, whatever its frequency weight") == 2


def test_the_data_overview_names_rows_that_look_copied():
    """QA139 L5: the copies reports' section 1 said "300 observations" and nothing of their
    30 distinct rows (only the box did)."""
    X = np.repeat(np.random.default_rng(3).normal(size=(30, 2)), 10, axis=0)
    text, _ = _data_section(X, {"n_rows": 300})
    assert "300 of the 300 rows have an identical twin (30 distinct rows): if they are " \
        "copies" in text
    assert "identical twin" not in _data_section(X[::10], {"n_rows": 30})[0]
