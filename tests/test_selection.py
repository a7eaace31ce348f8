"""Choosing K: EM criteria (vs scikit-learn), parallel sweeps (joblib, Dask), LOO verdicts, K+."""

import dataclasses
import re
import types
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import (
    COVARIANCE_TYPES,
    fake_fit,
    loglik_draws,
    overfitted_posterior,
    simulate_mixture,
)

import bayesgmm
from bayesgmm import DegenerateComponentWarning, fit_em, n_parameters
from bayesgmm.selection import (
    BayesSelection,
    EMSelection,
    classification_entropy,
    compare,
    count_nonempty,
    plot_criteria,
    plot_loo,
    plot_n_components,
    select_em,
    summarise_sparse,
)

matplotlib.use("Agg")
sklearn_mixture = pytest.importorskip("sklearn.mixture", reason="scikit-learn is the oracle")


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def three_clusters():
    """Known, well-separated K=3 in 2-D (the conftest mixture), small enough to sweep fast."""
    X, _, _ = simulate_mixture(n=300, seed=3)
    return X


@pytest.fixture(scope="module")
def sweep(three_clusters):
    """K = 1..5 x all covariance types, run serially (the reference for the parallel runs)."""
    return select_em(three_clusters, range(1, 6), "all", n_init=3, random_state=7, n_jobs=1)


def sklearn_model(fit):
    """A scikit-learn GaussianMixture carrying exactly ``fit``'s parameters."""
    gm = sklearn_mixture.GaussianMixture(fit.n_components, covariance_type=fit.covariance_type)
    gm.weights_ = fit.weights
    gm.means_ = fit.means
    gm.covariances_ = fit.covariances
    gm.precisions_cholesky_ = fit.precisions_cholesky
    return gm


# --------------------------------------------------------------------------------------------
# EM criteria against scikit-learn
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("K, D", [(1, 1), (2, 1), (3, 2), (4, 3), (6, 5)])
def test_parameter_counts_match_sklearn(K, D, covariance_type):
    gm = sklearn_mixture.GaussianMixture(K, covariance_type=covariance_type)
    gm.means_ = np.zeros((K, D))  # _n_parameters reads K and D from the means
    assert n_parameters(K, D, covariance_type) == gm._n_parameters()


def test_table_counts_and_criteria_match_sklearn(sweep, three_clusters):
    X = three_clusters
    assert isinstance(sweep, EMSelection) and len(sweep.table) == 5 * 4
    for row in sweep.table.itertuples():
        gm = sklearn_model(sweep.fits[(row.n_components, row.covariance_type)])
        assert row.n_parameters == gm._n_parameters()
        assert row.bic == pytest.approx(gm.bic(X), rel=1e-10)
        assert row.aic == pytest.approx(gm.aic(X), rel=1e-10)
        assert row.log_likelihood == pytest.approx(gm.score(X) * len(X), rel=1e-10)


def test_icl_is_bic_plus_twice_the_map_entropy(sweep, three_clusters):
    for row in sweep.table.itertuples():
        resp = sweep.fits[(row.n_components, row.covariance_type)].predict_proba(three_clusters)
        entropy = -np.sum(np.log(resp[np.arange(len(resp)), resp.argmax(axis=1)]))
        assert row.entropy == pytest.approx(entropy)
        assert row.icl == pytest.approx(row.bic + 2 * entropy)
        assert 0 <= row.entropy <= classification_entropy(resp, "soft") + 1e-9
    one = sweep.table[sweep.table.n_components == 1]
    np.testing.assert_allclose(one["icl"], one["bic"])  # one component: nothing to classify


def test_entropy_of_a_certain_classification_is_zero_not_minus_zero(sweep, three_clusters):
    """QA: K=1's entropy column read -0.000000 (-sum log 1 is -0.0); an entropy is >= 0."""
    one = sweep.table[sweep.table.n_components == 1]
    assert (one["entropy"] == 0).all() and not np.signbit(one["entropy"]).any()
    assert "-0" not in sweep.pivot("entropy").loc[[1]].to_string()
    # the weighted path (classification_entropy with sample_weight)
    weighted = select_em(three_clusters, [1], ["full"], n_jobs=1, random_state=0,
                         sample_weight=np.ones(len(three_clusters)))
    assert not np.signbit(weighted.table["entropy"]).any()
    # rounding can leave a responsibility a hair above 1: still a certain classification
    for resp in (np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[np.nextafter(1.0, 2.0), 0.0]])):
        for kind in ("map", "soft"):
            entropy = classification_entropy(resp, kind)
            assert entropy == 0 and not np.signbit(entropy)


def test_bic_and_icl_pick_three_on_well_separated_data(sweep):
    assert sweep.best["bic"][0] == 3
    assert sweep.best["icl"][0] == 3
    assert set(sweep.best) == {"bic", "aic", "icl"}
    for criterion, (k, ct) in sweep.best.items():
        assert sweep.pivot(criterion).loc[k, ct] == sweep.table[criterion].min()


def test_table_layout_and_views(sweep):
    table = sweep.table
    assert list(table["covariance_type"].unique()) == list(COVARIANCE_TYPES)
    assert table.groupby("covariance_type")["n_components"].apply(list).map(
        lambda ks: ks == [1, 2, 3, 4, 5]).all()
    assert not table["degenerate"].any() and (table["error"] == "").all()
    assert "lower is better" in table.attrs["criteria"]
    wide = sweep.pivot("bic")
    assert wide.shape == (5, 4) and list(wide.columns) == list(COVARIANCE_TYPES)
    assert sweep.best_fit("bic").n_components == 3
    text = str(sweep)
    assert "BIC (lower is better)" in text and "Best: BIC -> K=3" in text
    # thousands separators, as the report prints them (QA: 1576.29)
    assert f"{wide.iloc[0, 0]:,.2f}" in text and wide.abs().max().max() >= 1000
    with pytest.raises(ValueError, match="unknown criterion"):
        sweep.pivot("waic")


# --------------------------------------------------------------------------------------------
# seeding and parallel execution
# --------------------------------------------------------------------------------------------
def test_same_table_whatever_n_jobs_and_grid(sweep, three_clusters):
    parallel = select_em(three_clusters, range(1, 6), "all", n_init=3, random_state=7, n_jobs=2)
    pd.testing.assert_frame_equal(parallel.table, sweep.table)
    assert parallel.best == sweep.best
    # A cell's seed depends on the cell alone: a smaller grid reproduces its rows.
    sub = select_em(three_clusters, [3, 5], ["diag"], n_init=3, random_state=7, n_jobs=1)
    expected = sweep.table[(sweep.table.covariance_type == "diag")
                           & sweep.table.n_components.isin([3, 5])].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub.table, expected)


def test_dask_cluster_gives_the_same_table(sweep, three_clusters):
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] is not installed (pip install 'dask[distributed]')"
    )
    import joblib

    with (
        distributed.Client(processes=False, n_workers=2, threads_per_worker=1,
                           dashboard_address=None) as client,
        joblib.parallel_backend("dask"),
    ):
        on_dask = select_em(three_clusters, range(1, 6), "all", n_init=3, random_state=7)
        assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(on_dask.table, sweep.table)


def test_generator_and_int_seeds_are_reproducible(three_clusters):
    a = select_em(three_clusters, [2], ["full"], random_state=np.random.default_rng(1), n_jobs=1)
    b = select_em(three_clusters, [2], ["full"], random_state=a.random_state, n_jobs=1)
    pd.testing.assert_frame_equal(a.table, b.table)


# --------------------------------------------------------------------------------------------
# awkward cells
# --------------------------------------------------------------------------------------------
def test_unfittable_cells_are_reported_not_fatal():
    X = np.array([[0.0], [0.1], [5.0], [5.2]])
    sel = select_em(X, range(1, 6), ["spherical"], n_jobs=1, random_state=0)
    bad = sel.table[sel.table.n_components == 5].iloc[0]
    assert "fewer than n_components" in bad["error"] and np.isnan(bad["bic"])
    assert (5, "spherical") not in sel.fits
    assert "not fitted: K=5 spherical" in str(sel)


def test_cells_unfittable_for_one_reason_are_listed_once():
    """QA: a K above the number of points printed the same reason once per covariance type,
    and then once per K; the report listed it once per cell."""
    from bayesgmm.report import build_selection_report

    X = np.random.default_rng(0).normal(size=(5, 2))
    for ks, cells in (([5, 6, 7], "K=6, 7"), ([5, 6, 7, 8, 9], "K=6..9"), ([5, 6], "K=6")):
        sel = select_em(X, ks, "all", n_init=1, n_jobs=1, random_state=0)
        failed = [line for line in str(sel).splitlines() if "not fitted" in line]
        number = "6" if cells == "K=6" else "K"  # one K: its own number
        reason = (f"X has 5 point(s), fewer than n_components={number}; each component needs "
                  "at least one point: give n_components at most 5")
        assert failed == [f"  not fitted: {cells} (full, tied, diag, spherical): {reason}"]
    page, _ = build_selection_report(sel)
    assert page.count("Not fitted:") == 1


def test_degenerate_cells_are_flagged_and_not_chosen():
    """A 2-point cluster far from two others: every restart at K=3 gives it a component, whose
    covariance 2 points cannot span (an unbounded likelihood: BIC's best if it counted)."""
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal([12, 0], 1, (30, 2)),
                   [[0.0, 12.0], [0.7, 12.4]]])
    sel = select_em(X, [1, 2, 3], ["full"], n_init=3, random_state=0, n_jobs=1)
    table = sel.table.set_index("n_components")
    assert table["degenerate"].tolist() == [False, False, True]
    assert table.loc[3, "min_component_size"] < 2.5  # fewer than D + 1 points
    assert table["bic"].idxmin() == 3 and sel.best["bic"] == (2, "full")
    assert ("collapsed onto the reg_covar floor; not eligible as best): K=3 full"
            in str(sel))
    everything = select_em(X, [1, 2, 3], ["full"], n_init=3, random_state=0, n_jobs=1,
                           exclude_degenerate=False)
    pd.testing.assert_frame_equal(everything.table, sel.table)  # same numbers
    assert everything.best["bic"] == (3, "full")


def test_degeneracy_depends_on_what_the_covariance_needs():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal([12, 0], 1, (30, 2)),
                   [[0.0, 12.0], [0.7, 12.4]]])  # a 2-point cluster far from the rest
    sel = select_em(X, [3], ["full", "spherical"], n_init=3, random_state=0, n_jobs=1)
    flags = sel.table.set_index("covariance_type")["degenerate"]
    assert flags["full"]  # 2 points cannot span a 2-D covariance
    assert not flags["spherical"]  # but they do give one variance


def test_a_tied_fit_of_more_components_than_half_its_rows_is_degenerate():
    """QA64: K=58 tied on 60 rows of two clusters was BIC's best (components on one row
    each, the shared covariance from the two rows left over), not marked degenerate."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(12, 2)), rng.normal(size=(12, 2)) + 5])
    sel = select_em(X, [2, 12, 13, 23], ["tied"], n_init=1, random_state=0, n_jobs=1)
    flags = sel.table.set_index("n_components")["degenerate"]
    assert flags.to_dict() == {2: False, 12: False, 13: True, 23: True}
    assert sel.best["bic"] == (2, "tied")


def test_a_grid_of_degenerate_cells_says_none_is_a_proper_fit():
    """QA64: "Best: K=40" stood right above "not eligible as best" when every cell was
    degenerate."""
    X = np.random.default_rng(0).normal(size=(12, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = str(select_em(X, [5, 6], "full", n_jobs=1, random_state=0))
    assert "Best (every cell is degenerate: none is a proper fit; fit smaller K" in text
    assert "not eligible as best" not in text


def test_a_cell_collapsed_onto_reg_covar_is_degenerate_and_not_chosen():
    """Before: iris petal length/width, K=4 full won every criterion (BIC 165 against 353 at
    K=3) with a component on the 29 flowers of petal width exactly 0.2, its variance there
    reg_covar; the table said it was not degenerate (it holds 29 points). Now such a fit is
    degenerate, and a sweep keeps each cell's best proper restart (QA: one collapsed restart
    made a cell, and so the choice, depend on the seed)."""
    from sklearn.datasets import load_iris

    from bayesgmm.em import DegenerateComponentWarning, collapsed_components, fit_em
    from bayesgmm.selection.criteria import _criteria_row

    X = load_iris(as_frame=True).data.iloc[:, 2:]
    with pytest.warns(DegenerateComponentWarning, match="tied or discrete values"):
        # its one restart collapsed (k-means++ seeds, scikit-learn's greedy ones, no longer
        # collapse here: seeds 0-29 all fit properly)
        collapsed = fit_em(X, 4, n_init=1, random_state=1, init="random_from_data")
    assert collapsed_components(collapsed, X)
    row = _criteria_row(collapsed, X.to_numpy())
    assert row["degenerate"] and row["min_component_size"] > 20  # not a size problem
    sel = select_em(X, range(1, 5), "all", random_state=1, n_jobs=1)
    assert not sel.table["degenerate"].any()
    assert sel.best["bic"] == (3, "full")


def test_a_needle_through_a_repeated_outlier_is_degenerate_and_not_chosen():
    """QA: two clusters and an outlier repeated three times (one copy off by 1e-4): a full
    component on ~5 effective points along the line from the outlier to one stray point (its
    sd across the line 4e-4 of the data's, above the old 1e-4 rule) was passed as healthy,
    and BIC, AIC and ICL all chose K=3 full for the needle's log-likelihood."""
    rng = np.random.default_rng(42)
    rng.normal(size=(200, 2))  # the QA script's first data set, drawn before this one
    X = np.vstack([rng.normal(m, 1.0, size=(150, 2)) for m in [(0, 0), (8, 8)]]
                  + [[[20.0, -5.0], [20.0, -5.0], [20.0001, -5.0]]])
    sel = select_em(X, range(1, 6), "all", random_state=2, n_jobs=1)
    assert sel.best["bic"] == (3, "tied")
    fit = sel.fits[(3, "full")]
    data_var = np.linalg.eigvalsh(np.cov(X.T))[0]
    assert min(np.linalg.eigvalsh(c)[0] for c in fit.covariances) > 1e-6 * data_var


@pytest.mark.parametrize("grid, message", [
    (("1-3",), "n_components must be an integer or integers.*got the string '1-3'"),
    (([2, 2, 3],), "n_components names K 2 more than once; give each once"),
    (([1, 2], ["full", "tied", "full"]), "covariance_types names type full more than once"),
])
def test_a_grid_given_as_a_string_or_twice_is_refused(three_clusters, grid, message):
    """QA: "1-3" was read a character at a time ("got '1'"); a K or a type given twice ran
    once, unsaid."""
    with pytest.raises(ValueError, match=message):
        select_em(three_clusters, *grid, n_jobs=1)


def test_a_few_valued_column_is_named_once_not_per_cell():
    """A binary column: select_em says so once, as a fit would; the cells do not repeat it."""
    from bayesgmm._validation import FewValuesWarning

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(50, 12, 200).round(),
                      "sex": rng.integers(1, 3, 200).astype(float),
                      "bmi": rng.normal(26, 4, 200)})
    with pytest.warns(FewValuesWarning, match=r"column 'sex' has only 2 distinct values") as w:
        sel = select_em(X, [1, 2], ["full"], n_init=2, random_state=0, n_jobs=1)
    assert len([m for m in w if m.category is FewValuesWarning]) == 1
    assert not sel.table["warnings"].str.contains("has only 2 distinct values").any()


@pytest.mark.parametrize(("asked", "kept"), [
    ("all", ["full", "tied"]),
    (["diag", "spherical", "tied"], ["diag", "tied"]),
    (["spherical"], ["spherical"]),
])
def test_one_feature_fits_each_distinct_model_once(galaxies, asked, kept):
    # in 1-D full, diag and spherical are all "a variance per component": fitting each would
    # list the same fit three times in every table and make the choice between them arbitrary
    sel = select_em(galaxies / 1000, [1, 2], asked, n_init=2, random_state=0, n_jobs=1)
    assert sorted(sel.table["covariance_type"].unique()) == sorted(kept)
    if len(kept) < (4 if asked == "all" else len(asked)):
        # (with full and tied both kept, K=1's "one model" note comes too)
        (note,) = [n for n in sel.notes if "fitted once" in n]
        assert f"fitted once, as {kept[0]}" in note and note in str(sel)
    else:  # (other notes, e.g. a best K at the top of the grid, may come)
        assert not any("fitted once" in n for n in sel.notes)
    # the collapsed types really are one model: same log-likelihood from the same start
    full = bayesgmm.fit_em(galaxies / 1000, 2, covariance_type="full", random_state=0)
    diag = bayesgmm.fit_em(galaxies / 1000, 2, covariance_type="diag", random_state=0)
    assert full.log_likelihood == pytest.approx(diag.log_likelihood, rel=1e-10)


def test_two_features_keep_every_covariance_type(three_clusters):
    sel = select_em(three_clusters, [2], "all", n_init=1, random_state=0, n_jobs=1)
    assert len(sel.table) == 4 and sel.notes == ()


def test_bad_arguments():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="covariance_type"):
        select_em(X, [1], ["banana"], n_jobs=1)
    with pytest.raises(ValueError, match="n_components"):
        select_em(X, [0, 1], n_jobs=1)
    with pytest.raises(ValueError, match="random_state"):
        select_em(X, [1], random_state=-3, n_jobs=1)
    with pytest.raises(ValueError, match="prior"):
        select_em(X, [1], prior="flat", n_jobs=1)
    # QA64: a raw TypeError, joblib's words without a fix, a truthy string taken as True, and
    # an AttributeError
    with pytest.raises(ValueError, match=r"^n_components must be an integer; got 2.5$"):
        select_em(X, 2.5, n_jobs=1)
    assert select_em(X, {1, 2}, ["full"], n_jobs=1).table["n_components"].tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"^n_jobs must be a positive number of workers, -1"):
        select_em(X, [1], n_jobs=0)
    with pytest.raises(ValueError, match=r"^exclude_degenerate must be True or False"):
        select_em(X, [1], exclude_degenerate="no", n_jobs=1)
    with pytest.raises(ValueError, match=r"^compare takes a mapping of names to fits"):
        compare([1, 2])
    # QA64: refused after the first posterior fit, as fit_bayes's raw TypeError
    with pytest.raises(ValueError, match=r"^select_bayes takes no argument\(s\) 'bogus': "
                                         r"see help\(bayesgmm\.fit_bayes\)"):
        bayesgmm.select_bayes(X, [1, 2], bogus=1)


# --------------------------------------------------------------------------------------------
# LOO comparison logic on synthetic log-likelihoods (no sampling)
# --------------------------------------------------------------------------------------------
def test_compare_verdict_best_within_noise_and_worse():
    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    models = {
        "K=2": fake_fit(loglik_draws(rng, base - 0.4), 2),  # ~60 elpd worse
        "K=3": fake_fit(loglik_draws(rng, base), 3),
        "K=4": fake_fit(loglik_draws(rng, base + rng.normal(0.005, 0.02, 150)), 4),
    }
    sel = compare(models)
    assert isinstance(sel, BayesSelection)
    assert sel.best == "K=4" and sel.within_noise == ("K=3",)
    assert sel.simplest_within_noise == "K=3"
    assert list(sel.comparison.index) == ["K=4", "K=3", "K=2"]
    # each model against the best: the best is not "indistinguishable from itself"
    assert sel.comparison["indistinguishable"].tolist() == [False, True, False]
    assert "within_noise" not in sel.comparison.columns
    # QA99: keyed as select_em's table, so the two join without parsing "K=2"
    for table in (sel.comparison, sel.pareto_k):
        assert table.index.name == "model" and list(table.columns[:2]) == [
            "n_components", "covariance_type"]
        assert table.loc[["K=4", "K=3", "K=2"], "n_components"].tolist() == [4, 3, 2]
    assert sel.verdict.startswith("K=4 is best")
    assert "K=3 (elpd_diff -" in sel.verdict and "is within noise" in sel.verdict
    assert "worse beyond noise: K=2" in sel.verdict
    assert "simplest model within noise of the best is K=3" in sel.verdict
    # the best is the largest K compared (QA: LOO picked the top of every grid, unsaid)
    assert sel.warnings == ("K=4 has the largest K compared: a larger K may predict better "
                            "still (fit one and compare again: select_bayes's n_components, "
                            "the command line's -k).",)
    assert (sel.pareto_k["n_high"] == 0).all()
    assert set(sel.loo) == set(models)
    assert "elpd_diff" in str(sel)
    assert "p: effective number of parameters (p_loo); weight: stacking weight" in str(sel)
    inner = compare({name: models[name] for name in ("K=3", "K=4")} | {
        "K=5": fake_fit(loglik_draws(rng, base - 0.3), 5)})
    assert inner.best == "K=4" and not any("largest K" in w for w in inner.warnings)


def test_the_best_model_is_not_indistinguishable_from_itself():
    """QA: print(select_bayes(...)) marked the best (rank 0) indistinguishable=True."""
    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({"K=2": fake_fit(loglik_draws(rng, base), 2),
                   "K=3": fake_fit(loglik_draws(rng, base + 0.001), 3)})
    header, best_row, other_row = str(sel).splitlines()[:3]
    assert header.split()[-1] == "indistinguishable"
    assert best_row.split()[0] == sel.best and best_row.split()[-1] == "False"
    assert other_row.split()[-1] == "True" and sel.within_noise == (other_row.split()[0],)


def test_the_printed_comparison_says_each_posteriors_checks():
    """QA: select --bayes printed no word of K=3's CAUTION ("K too large ... do not report
    them"), which loo.csv and the report had: a checks column, and the models that are not
    OK under the comparison's verdict, each with its causes on one line (notebook QA: their
    verdicts and advice in full were ~600 words), where to find the rest said."""
    from dataclasses import replace

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({"K=2": fake_fit(loglik_draws(rng, base), 2),
                   "K=3": fake_fit(loglik_draws(rng, base + 0.001), 3)})
    assert "checks" not in str(sel).splitlines()[0]  # nothing diagnosed: no column
    caution = "CAUTION: R-hat 1.004 <= 1.01 | note: K too large (advice: do not report them)"
    sel = replace(sel, diagnostics={"K=2": "OK: every check passed", "K=3": caution},
                  causes={"K=2": (), "K=3": ("K too large",)})
    header, *rows = str(sel).splitlines()[:3]
    assert header.split()[-2:] == ["indistinguishable", "checks"]
    assert {row.split()[0]: row.split()[-1] for row in rows} == {"K=2": "OK", "K=3": "CAUTION"}
    text = str(sel)
    assert text.endswith("Posteriors not OK (CAUTION: every check passed, with notes; "
                         "PROBLEMS: a check failed):\nK=3: CAUTION (K too large)\n"
                         "(each one's checks and advice: print(selection.diagnostics['K=3']), "
                         "or the report)")
    assert sel.diagnostics["K=3"] == caution
    assert "K=2: OK" not in text


def test_a_comparison_saved_with_within_noise_reads_as_indistinguishable(tmp_path):
    """Tables written before the column's rename (loo.csv of ``bayesgmm select``) still show
    and plot, with the best no longer marked indistinguishable from itself."""
    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({"K=2": fake_fit(loglik_draws(rng, base), 2),
                   "K=3": fake_fit(loglik_draws(rng, base + 0.001), 3)})
    old = sel.comparison.rename(columns={"indistinguishable": "within_noise"})
    old["within_noise"] = True  # as older versions wrote it: the best True as well
    old.to_csv(tmp_path / "loo.csv", index_label="model")
    loaded = pd.read_csv(tmp_path / "loo.csv", index_col="model")
    for table in (old, loaded):
        shown = dataclasses.replace(sel, comparison=table).shown_table()
        pd.testing.assert_frame_equal(shown, sel.shown_table(), check_exact=False,
                                      check_index_type=False, check_names=False)
        ticks = [t.get_text() for t in plot_loo(table).axes[0].get_yticklabels()]
        assert ticks == [sel.best, f"{sel.within_noise[0]}\n(indistinguishable)"]
    assert old.columns.tolist().count("within_noise") == 1  # read, not changed


def test_compare_reports_unconverged_models():
    rng = np.random.default_rng(5)
    base = rng.normal(-2.0, 0.5, size=150)
    good, bad = fake_fit(loglik_draws(rng, base), 2), fake_fit(loglik_draws(rng, base - 1), 3)
    from bayesgmm.diagnostics import Diagnostics

    def verdict(text, advice=()):
        fields = {f.name: None for f in dataclasses.fields(Diagnostics)}
        return Diagnostics(**{**fields, "ok": text.startswith("OK"), "verdict": text,
                              "advice": advice})

    good.diagnostics = lambda: verdict("OK: R-hat 1.001 <= 1.01")
    bad.diagnostics = lambda: verdict("PROBLEMS: R-hat 1.2 > 1.01 | likely cause: slow mixing "
                                      "(see advice)", ("slow mixing: draw more",))
    sel = compare({"K=2": good, "K=3": bad})
    # the advice written out: a comparison has no advice section to point to
    assert sel.diagnostics == {"K=2": "OK: R-hat 1.001 <= 1.01",
                               "K=3": "PROBLEMS: R-hat 1.2 > 1.01 | likely cause: slow "
                                      "mixing. Advice: slow mixing: draw more."}
    assert "Convergence problems in K=3" in sel.verdict
    assert sel.verdict.startswith("K=2 is best") and "; K=3 is worse beyond noise (-" in \
        sel.verdict


def test_compare_flags_high_pareto_k_and_small_n():
    rng = np.random.default_rng(1)
    base = rng.normal(-2.0, 0.5, size=60)
    wild = loglik_draws(rng, base, n=60)
    wild[..., 0] = -2 + 8.0 * rng.standard_t(2, size=wild.shape[:2])  # one influential point
    sel = compare({"plain": fake_fit(loglik_draws(rng, base - 0.5, n=60)),
                   "wild": fake_fit(wild)})
    row = sel.pareto_k.loc["wild"]
    assert row["n_high"] >= 1 and row["max_k"] > row["good_k"]
    assert any(w.startswith("Pareto k above ") and " in wild (" in w for w in sel.warnings)
    assert any("N=60" in w for w in sel.warnings)
    assert "Warnings:" in sel.verdict
    assert sel.simplest_within_noise is None  # plain DataTrees carry no K


def test_compare_refuses_different_data_and_single_models():
    rng = np.random.default_rng(2)
    ll = loglik_draws(rng, np.full(30, -1.0), n=30)
    x = rng.normal(size=(30, 1))
    with pytest.raises(ValueError, match="different data"):
        compare({"a": fake_fit(ll, 1, x), "b": fake_fit(ll, 2, x + 1)})
    with pytest.raises(ValueError, match="at least two"):
        compare({"a": fake_fit(ll, 1, x)})
    no_ll = types.SimpleNamespace(idata=xr.DataTree.from_dict({"posterior": xr.Dataset()}),
                                  n_components=1)
    with pytest.raises(ValueError, match="log_likelihood"):
        compare({"a": fake_fit(ll, 1, x), "b": no_ll})


def _diagnosed(ok, causes=()):
    """A Diagnostics with just what a comparison reads: ok, a failed check, the causes."""
    from bayesgmm.diagnostics import Check, Diagnostics

    fields = {f.name: None for f in dataclasses.fields(Diagnostics)}
    checks = () if ok else (Check("max R-hat", 1.2, 1.01, False, "R-hat 1.2 > 1.01"),)
    verdict = "OK: R-hat 1.001 <= 1.01" if ok else "PROBLEMS: R-hat 1.2 > 1.01"
    return Diagnostics(**{**fields, "ok": ok, "verdict": verdict, "checks": checks,
                          "causes": causes, "advice": ()})


def _with_diagnostics(fit, ok, causes=()):
    fit.diagnostics = lambda **_: _diagnosed(ok, causes)
    return fit


def test_verdict_does_not_trust_a_best_model_that_failed_its_checks():
    """QA: 'K=4 is best ... every other model is worse beyond noise' while K=4's own posterior
    did not converge and said K too large."""
    rng = np.random.default_rng(3)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 2), True),
        "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.2), 3), True),
        "K=4": _with_diagnostics(fake_fit(loglik_draws(rng, base), 4), False,
                                 ("K too large",)),
    })
    # the head says at once that the top model is no trustworthy best (QA)
    assert sel.best == "K=4" and sel.verdict.startswith("K=4 has the highest elpd_loo ")
    assert "but its checks failed, so it is no trustworthy best" in sel.verdict
    assert "But the comparison is not trustworthy for K=4: its posterior did not pass its " \
           "convergence checks (R-hat 1.2 > 1.01)" in sel.verdict
    assert "its diagnostics also say K is too large" in sel.verdict
    assert "Among the models that passed their checks, K=3 is best (elpd_diff -30." \
        in sel.verdict
    # the other model that passed is measured against K=3 (-30), not the failed K=4 (-60)
    # (QA: the ranking to act on was against a model not to be trusted)
    assert " from K=4); against it, K=2 is worse beyond noise (-30." \
        in sel.verdict
    # K=3 is clearly worse than K=4: the verdict does not leave it as the answer
    assert "It predicts worse than K=4 beyond noise, though: rather than settle for it, make " \
           "K=4's posterior pass its checks" in sel.verdict
    close = compare({  # an alternative within noise of the failed best: no such sentence
        "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.005), 3), True),
        "K=4": _with_diagnostics(fake_fit(loglik_draws(rng, base), 4), False)})
    # one model passed: "the only other model that passed", not "best" among one (referee)
    assert "K=3 is the only other model that passed its checks (elpd_diff" in close.verdict
    assert "worse beyond noise" not in close.verdict
    # the largest K failed its checks: no "a larger K may predict better still" (referee)
    assert not any("largest K compared" in w for w in close.warnings)
    # a trusted best model gets no caveat
    sel = compare({"K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 2), False),
                   "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base), 3), True)})
    assert "not trustworthy" not in sel.verdict and "Convergence problems in K=2" in sel.verdict


def _wild(rng, base):
    """Draws of a pointwise log-likelihood with one influential point (high Pareto k)."""
    wild = loglik_draws(rng, base, n=base.size)
    wild[..., 0] = -2 + 8.0 * rng.standard_t(2, size=wild.shape[:2])
    return wild


def test_pareto_advice_is_given_once_naming_the_models():
    """QA: the same 40-word Pareto-k advice four times in one verdict."""
    rng = np.random.default_rng(1)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({f"K={k}": fake_fit(_wild(rng, base - 0.3 * (3 - k)), k) for k in (1, 2, 3)})
    assert sel.pareto_k["n_high"].min() >= 1
    assert sel.verdict.count("moment matching") == 1
    (note,) = [w for w in sel.warnings if "Pareto" in w]
    assert note.startswith("Pareto k above ") and all(f"K={k} (" in note for k in (1, 2, 3))
    # the best model's own high k is why it is not trusted; no model passed every check
    assert "not trustworthy for K=3: " in sel.verdict and "Pareto k >" in sel.verdict
    assert "No model passed every check; of those whose posterior checks did not fail, K=2 " \
           "is best (elpd_diff -" in sel.verdict


def _outlier_fit(rng, base, row_offset=10):
    """A BayesResult look-alike, K=3, whose third component holds only the last point."""
    n = base.size
    weights = np.tile([0.5, 0.5 - 1 / n, 1 / n], (2, 250, 1))
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"weights": (("chain", "draw", "component"), weights)}),
        "log_likelihood": xr.Dataset(
            {"x": (("chain", "draw", "observation"), loglik_draws(rng, base))}),
        "observed_data": xr.Dataset({"x": (("observation", "feature"), np.zeros((n, 2)))}),
    })
    resp = np.zeros((n, 3))
    resp[: n // 2, 0] = resp[n // 2: -1, 1] = resp[-1, 2] = 1.0
    return types.SimpleNamespace(
        idata=tree, posterior=tree["posterior"].to_dataset(), n_components=3, noise=False,
        row_numbers=np.arange(n) + row_offset,
        memberships=lambda max_draws=1000: types.SimpleNamespace(mean=resp))


def test_verdict_names_single_outliers_given_their_own_component():
    rng = np.random.default_rng(4)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({"K=2": fake_fit(loglik_draws(rng, base - 0.4), 2),
                   "K=3": _outlier_fit(rng, base)})
    assert sel.best == "K=3"
    assert "K=3 gives components of their own to single outliers (rows 159): consider a " \
           "noise component (noise=True / --noise)." in sel.verdict


def test_select_bayes_reports_the_fits_warnings_once_each(monkeypatch):
    """QA: fit_bayes's warnings came out of the workers as raw Python warning lines, once per
    fit; they come back with the fits and are raised once per kind, naming the fits."""
    from bayesgmm import sampling
    from bayesgmm.em import DegenerateComponentWarning
    from bayesgmm.selection import select_bayes

    rng = np.random.default_rng(0)

    def fit_bayes(frame, k, random_state=None, **options):
        if k > 2:
            warnings.warn(f"component(s) {list(range(1, k - 1))} became empty; consider "
                          "fewer components", DegenerateComponentWarning, stacklevel=2)
        warnings.warn("the same in every fit", UserWarning, stacklevel=2)
        return fake_fit(loglik_draws(rng, np.full(len(frame), -2.0 - 0.1 / k)), k)

    monkeypatch.setattr(sampling, "fit_bayes", fit_bayes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sel = select_bayes(rng.normal(size=(150, 2)), [2, 3, 4], n_jobs=1, draws=20, tune=20)
    assert list(sel.results) == ["K=2", "K=3", "K=4"]
    degenerate = [str(w.message) for w in caught
                  if issubclass(w.category, DegenerateComponentWarning)]
    assert degenerate == ["K=3 (component(s) [1]), K=4 (component(s) [1, 2]): component(s) "
                          "\u2026 became empty; consider fewer components"]
    assert [str(w.message) for w in caught if "same in every" in str(w.message)] == [
        "K=2, K=3, K=4: the same in every fit"]


def test_select_bayes_records_the_root_seed_it_drew(monkeypatch):
    """QA86 M1: select_bayes without a seed drew a root seed and kept it nowhere, so the
    comparison could not be repeated; it is on the result (short enough to retype, QA86 L3),
    and passing it again seeds every K alike. select_em's drawn root seed is as short."""
    from bayesgmm import sampling
    from bayesgmm.selection import select_bayes, select_em

    rng = np.random.default_rng(2)
    seeds = []

    def fit_bayes(frame, k, random_state=None, **options):
        seeds.append((k, random_state))
        n = len(frame)
        return fake_fit(loglik_draws(rng, np.full(n, -2.0 - 0.1 / k), n=n), k)

    monkeypatch.setattr(sampling, "fit_bayes", fit_bayes)
    X = rng.normal(size=(60, 2))
    drawn = select_bayes(X, [1, 2], n_jobs=1, draws=20, tune=20, progressbar=False)
    assert isinstance(drawn.random_state, int) and 0 <= drawn.random_state < 2**31
    assert f"root seed {drawn.random_state}" in repr(drawn)
    first, seeds[:] = list(seeds), []
    again = select_bayes(X, [1, 2], n_jobs=1, draws=20, tune=20, progressbar=False,
                         random_state=drawn.random_state)
    assert seeds == first and again.random_state == drawn.random_state
    assert 0 <= select_em(X, [1], n_init=1, n_jobs=1).random_state < 2**31


def test_select_bayes_says_what_it_samples_by_default(monkeypatch, capfd):
    """QA: select_bayes sat silent for minutes by default; it now says what it starts and each
    K as it finishes, and ``progressbar=False`` silences it (as the README says)."""
    from bayesgmm import progress, sampling
    from bayesgmm.selection import select_bayes

    rng = np.random.default_rng(1)

    def fit_bayes(frame, k, random_state=None, **options):
        n = len(frame)
        return fake_fit(loglik_draws(rng, np.full(n, -2.0 - 0.1 / k), n=n), k)

    monkeypatch.setattr(sampling, "fit_bayes", fit_bayes)
    progress.set_enabled(True)
    X = rng.normal(size=(60, 2))
    select_bayes(X, [1, 2], n_jobs=1, draws=20, tune=20)
    err = capfd.readouterr().err
    assert ("bayesgmm: sampling the posterior for K = 1, 2 (full; one after another, each on "
            "every core; 20 draws per chain each)") in err
    assert err.count("bayesgmm: sampled K=") == 2
    # QA (20,000 rows): draws="auto" said nothing of how long an overfitted K may draw
    select_bayes(X, [1, 2], n_jobs=1, tune=20)
    assert ("every core; each until converged, at most 10,000 draws per chain: an overfitted K "
            "mixes slowest and takes longest (draws=N, --draws N: a fixed number))"
            ) in capfd.readouterr().err
    select_bayes(X, [1, 2], n_jobs=1, draws=20, tune=20, progressbar=False)
    assert capfd.readouterr().err == ""
    select_bayes(X, [1, 2], n_jobs=1, draws=20, tune=20, progressbar=False, verbose=1)
    assert capfd.readouterr().err.count("bayesgmm: sampled K=") == 2


def test_run_cells_says_one_line_per_task_and_no_joblib_chatter(capfd):
    """QA: joblib's '[Parallel(n_jobs=2)]: Using backend LokyBackend ...' lines on select's
    console; a verbose sweep says one bayesgmm line per finished task instead."""
    from joblib import delayed

    from bayesgmm import progress
    from bayesgmm.selection.sweep import run_cells

    progress.set_enabled(True)
    out = run_cells([delayed(abs)(-k) for k in range(3)], 2, 10, lambda r: f"done {r}")
    assert sorted(out) == [0, 1, 2]
    captured = capfd.readouterr()
    assert "[Parallel(" not in captured.err + captured.out
    assert captured.err.count("bayesgmm: done ") == 3
    # the time is the sweep's so far, said so (QA: "(3 of 4, 13 s)" read as that task's)
    assert re.search(r"bayesgmm: done \d \(3 of 3; \d+ s so far\)", captured.err)
    run_cells([delayed(abs)(-1)], 1, 0, str)
    assert capfd.readouterr().err == ""


def test_a_quick_em_sweep_runs_in_process_and_says_where_it_is(old_faithful, monkeypatch,
                                                               capfd):
    """QA (select on Old Faithful): the default n_jobs=-1 took 12.9 s against 5.6 s in one
    process (workers take seconds to start), in 17 s of silence. A sweep the first cell's
    time says is quick now runs in this process; a slow one on every core; the results are
    the same either way, and a verbose sweep is one step with where it has got to."""
    from bayesgmm import progress
    from bayesgmm.selection import criteria, sweep

    used = []
    real = sweep.run_cells
    monkeypatch.setattr(sweep, "run_cells", lambda tasks, n_jobs, *a, **k: (
        used.append(n_jobs), real(tasks, n_jobs, *a, **k))[1])
    progress.set_enabled(True)
    monkeypatch.setattr(progress, "DETAIL_EVERY_S", 0.0)  # every detail a line
    quick = criteria.select_em(old_faithful, [1, 2, 3], "full", n_init=2, random_state=0,
                               verbose=1)
    lines = capfd.readouterr().err.splitlines()
    # after the sweep, the serial restart of the cell above BIC's choice says so
    # and why (QA160 L9)
    assert lines[-1] == ("bayesgmm: K=3 full: restarting EM from K=2's fit with one of its "
                         "components split: K=2 is BIC's choice among the full fits, and a "
                         "component may hold two clusters")
    lines = lines[:-1]
    assert lines[0] == "bayesgmm: fitting 3 cell(s) by EM..." and "done in" in lines[-1]
    told = [re.fullmatch(r"bayesgmm: fitting 3 cell\(s\) by EM: (.*) \(\d+ s\)", line)[1]
            for line in lines[1:-1]]
    # the cells alone, not their EM restarts (which fit_em tells a step of its caller's),
    # with how long the rest takes (QA158 M2: "13 of 24" and no idea of the end)
    told = [re.sub(r"; about [\d.]+ (ms|s|min|h) left", "; about T left", t) for t in told]
    assert told == ["K=3 full fitted (1 of 3; about T left)",  # review: the first cell was
                    "K=2 full fitted (2 of 3; about T left)",  # untold, the rest "of 2"
                    "K=1 full fitted (3 of 3)"]
    monkeypatch.setattr(sweep, "_WORKERS_PAY_FROM_S", 0.0)  # as if the cells were slow
    slow = criteria.select_em(old_faithful, [1, 2, 3], "full", n_init=2, random_state=0)
    assert used == [1, -1]
    pd.testing.assert_frame_equal(quick.table, slow.table)


def test_the_time_left_weighs_the_cells_by_their_costs():
    """QA158 M2: a sweep of 24 cells over 4.6 min said "13 of 24" and never how long the rest
    takes; the cells run most expensive first, so the rest is estimated by their costs."""
    from bayesgmm.selection.sweep import _time_left

    assert _time_left([6.0, 3.0, 1.0], 1, 12.0) == "; about 8 s left"  # 4 more units at 2 s
    assert _time_left([6.0, 3.0, 1.0], 2, 90.0) == "; about 10 s left"
    assert _time_left([6.0, 3.0, 1.0], 3, 100.0) == ""  # all done
    assert _time_left(None, 1, 5.0) == "" and _time_left([1.0, 1.0], 1, 0.0) == ""


def test_group_warnings_lists_each_kind_once_with_its_cells():
    from bayesgmm.selection.sweep import describe_group, group_warnings

    def held(components, sizes):
        return (f"component(s) {components} hold fewer than D+1=3 effective points (N_k = "
                f"{sizes}): their covariances rest on reg_covar alone. Consider fewer "
                "components.")

    groups = group_warnings({"K=2 full": [held([1], [1.0])],
                             "K=3 full": [held([1, 2], [1.0, 2.01]), "EM did not converge"],
                             "K=3 diag": ["EM did not converge"]})
    assert [describe_group(*g) for g in groups] == [
        "K=2 full (component(s) [1]; N_k = [1.0]), K=3 full (component(s) [1, 2]; N_k = "
        "[1.0, 2.01]): component(s) \u2026 hold fewer "
        "than D+1=3 effective points (N_k = \u2026): their covariances rest on reg_covar alone. "
        "Consider fewer components.",
        "K=3 full, K=3 diag: EM did not converge"]


def test_grouped_warnings_keep_numbers_whole_and_name_each_cells_values():
    """QA: EM's collapse warning grouped as "K=4 full (06; 3; 1e-06), K=4 diag (06; 0; 1e-06):
    ... reg_covar=1e-\u2026 floor ...": "1e-06" split at its exponent, bare values."""
    from bayesgmm.selection.sweep import describe_group, group_warnings

    def collapsed(k, variance):  # the wording of bayesgmm.em._floor_messages
        return (f"covariance collapsed (a variance at the reg_covar={1e-06:g} floor, or "
                f"negligible beside the data's): component {k} along 'petal_width' (variance "
                f"{variance:.3g}). Its rows share (nearly) one value there, which typically "
                "comes from tied or discrete values (a column with few distinct values, or "
                "rounded data); the likelihood, and BIC, reward the collapse, not the data.")

    (text, cells), = group_warnings({"K=4 full": [collapsed(3, 1e-06)],
                                     "K=4 diag": [collapsed(0, 1e-06)],
                                     "K=3 full": [collapsed(1, 2.5e-07)]})
    assert cells == ["K=4 full (component 3; variance 1e-06)",
                     "K=4 diag (component 0; variance 1e-06)",
                     "K=3 full (component 1; variance 2.5e-07)"]
    assert text == collapsed(0, 1e-06).replace("component 0", "component \u2026").replace(
        "(variance 1e-06)", "(variance \u2026)")
    assert "reg_covar=1e-06 floor" in text
    # a value shared by every cell stays in the text; numbers in scientific notation are whole
    (text, cells), = group_warnings({"K=4 full": [collapsed(3, 1e-06)],
                                     "K=4 diag": [collapsed(0, 1e-06)]})
    assert "(variance 1e-06)" in text and "component \u2026 along" in text
    assert cells == ["K=4 full (component 3)", "K=4 diag (component 0)"]
    # values no word names would read as bare numbers: each message whole, with its cells
    groups = group_warnings({"a": ["ratio (3.5e+03) too large"], "b": ["ratio (2e-05) too large"],
                             "c": ["ratio (2e-05) too large"]})
    assert [describe_group(*g) for g in groups] == ["a: ratio (3.5e+03) too large",
                                                    "b, c: ratio (2e-05) too large"]


def test_a_message_that_names_its_cell_is_named_once():
    """QA: "K=3: K=3: chain 3 found a better posterior mode ..." (fit_bayes names K itself)."""
    from bayesgmm.selection.sweep import describe_group, group_warnings

    (text, cells), = group_warnings({"K=3": ["K=3: chain 3 found a better mode"]})
    assert describe_group(text, cells) == "K=3: chain 3 found a better mode"


def test_em_cell_warnings_are_the_table_rows_messages():
    X = np.vstack([simulate_mixture(n=150, seed=3)[0], [[40.0, -40.0]]])  # one lone point
    em = select_em(X, range(1, 5), ("full",), n_init=2, random_state=2, n_jobs=1)
    warned = em.table[em.table["warnings"] != ""]
    assert len(warned)
    for r in warned.itertuples():
        assert "; ".join(em.cell_warnings[(r.n_components, r.covariance_type)]) == r.warnings
    # and the printout says which fits were warned about and where (QA157 L1)
    ks = ", ".join(str(k) for k in sorted(warned["n_components"]))
    assert (f"  warnings: EM warned about {len(warned)} fit(s) (full K={ks}): each fit's are in "
            "the table's 'warnings' column") in str(em)


# --------------------------------------------------------------------------------------------
# non-empty components K+ on a constructed posterior (no sampling)
# --------------------------------------------------------------------------------------------
def test_count_nonempty_samples_assignments(three_clusters):
    fake = overfitted_posterior(three_clusters)
    counts, occupied = count_nonempty(fake, random_state=0, return_occupied=True)
    assert counts.shape == (2, 60) and occupied.shape == (2, 60, 5)
    np.testing.assert_array_equal(counts, occupied.sum(axis=2))
    assert (counts[0] == 3).all()
    assert (counts[1, 0::2] == 3).all() and (counts[1, 1::2] == 4).all()
    w = fake.idata["posterior"]["weights"].to_numpy()
    assert not occupied[w < 1e-6].any()  # the 1e-12 components never receive a point
    again = count_nonempty(fake, three_clusters, random_state=0)
    np.testing.assert_array_equal(again, counts)


@pytest.mark.parametrize("k_max", [1, np.int64(1)])
def test_fit_sparse_refuses_a_single_component(three_clusters, k_max, monkeypatch):
    """QA: fit_sparse(X, 1) sampled, though one component is always K+ = 1."""
    import bayesgmm.sampling

    def no_sampling(*args, **kwargs):
        raise AssertionError("fit_sparse sampled before refusing K_max")

    monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", no_sampling)
    with pytest.raises(ValueError, match=r"^fit_sparse needs max_components >= 2 \(an "
                                         r"overfitted K.*\); got 1$"):
        bayesgmm.fit_sparse(three_clusters, k_max)
    # QA: 0 read "n_components must be >= 1", and concentration=0 named the Priors field
    # "weights_concentration", which the user never passed
    with pytest.raises(ValueError, match=r"^fit_sparse needs max_components >= 2 .*got 0$"):
        bayesgmm.fit_sparse(three_clusters, 0)
    with pytest.raises(ValueError, match=r"^concentration must be a finite number > 0"):
        bayesgmm.fit_sparse(three_clusters, 5, concentration=0)


def test_fit_sparse_says_its_own_verdict_alone(three_clusters, monkeypatch):
    """QA136 M4: fit_sparse printed fit_bayes's line of checks of every component ("R-hat
    1.244 ... slow mixing") before its own verdict of the occupied ones ("passed: R-hat
    1.005"): its fit runs with that line off."""
    import bayesgmm.sampling

    class Sampled(Exception):
        pass

    def record(*args, **kwargs):
        raise Sampled(bayesgmm.sampling._CHECKS_SAID_BY_CALLER.get())

    monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", record)
    with pytest.raises(Sampled) as info:
        bayesgmm.fit_sparse(three_clusters, 4)
    assert info.value.args == (True,) and not bayesgmm.sampling._CHECKS_SAID_BY_CALLER.get()


def test_fit_sparse_says_its_checks_unless_its_caller_does(three_clusters, monkeypatch,
                                                           capsys):
    """QA137 M3: with fit_bayes's line off, fit_sparse called from Python said nothing of a
    PROBLEMS fit's checks; it says its own summary's, unless its caller prints the summary
    (the command line's select --sparse)."""
    import types

    import bayesgmm.sampling
    import bayesgmm.selection.sparse as sparse_module
    from bayesgmm import progress

    monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", lambda *a, **k: None)
    monkeypatch.setattr(sparse_module, "summarise_sparse", lambda result, **k: types.
                        SimpleNamespace(diagnostics=types.SimpleNamespace(brief="PROBLEMS: x")))
    monkeypatch.setitem(progress._state, "enabled", True)
    bayesgmm.fit_sparse(three_clusters, 4)
    assert "bayesgmm: checks of the sparse mixture's draws: PROBLEMS: x: print() the result" \
        in capsys.readouterr().err
    with bayesgmm.sampling.checks_said_by_caller():
        bayesgmm.fit_sparse(three_clusters, 4)
    bayesgmm.fit_sparse(three_clusters, 4, progressbar=False)
    assert "checks of the sparse" not in capsys.readouterr().err


def test_summarise_sparse_identifies_the_filled_components(three_clusters):
    fake = overfitted_posterior(three_clusters)
    sparse = summarise_sparse(fake, random_state=0)
    assert sparse.mode == 3 and sparse.max_components == 5
    assert sparse.posterior_counts[3] == pytest.approx(0.75)
    assert sparse.posterior_counts[4] == pytest.approx(0.25)
    assert sparse.posterior_counts.sum() == pytest.approx(1.0)
    assert sparse.per_chain.loc["0", 3] == 1.0 and sparse.per_chain.loc["1", 4] == 0.5
    ident = sparse.identified
    assert ident.sizes["sample"] == 90 and ident.sizes["component"] == 3
    np.testing.assert_allclose(ident["weights"].sum("component"), 1.0)
    # Relabelled: every draw's means sit on the same cluster per component.
    spread = ident["means"].std("sample").max().item()
    assert spread < 0.2
    _, _, (w_true, m_true, _) = simulate_mixture(n=10, seed=0)
    order = np.argsort(ident["weights"].mean("sample").to_numpy())[::-1]
    np.testing.assert_allclose(ident["means"].mean("sample").to_numpy()[order], m_true, atol=0.1)
    # Label-invariant diagnostics: chain 1 visits K+ = 4, chain 0 never does.
    assert not sparse.diagnostics.ok
    assert any("(n_nonempty)" in p for p in sparse.diagnostics.problems)
    assert "mode K+=3" in str(sparse)
    # QA: a confident "K+ = 3" over failed checks; the mode now comes with why not to trust it
    assert sparse.caveat.startswith("unreliable: ") and "convergence checks failed" in \
        sparse.caveat
    assert f"mode K+=3 ({sparse.caveat})" in str(sparse)
    import dataclasses

    split = sparse.per_chain.copy()
    split.loc["1"] = [0.0, 0.0, 0.2, 0.8, 0.0][:split.shape[1]]
    assert "the chains disagree on K+ (their modes: 3, 4)" in dataclasses.replace(
        sparse, per_chain=split).caveat


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------
def test_plots_return_figures(sweep, three_clusters):
    import matplotlib.pyplot as plt

    fig = plot_criteria(sweep)
    assert len(fig.axes) == 2 and "BIC" in fig.axes[0].get_ylabel()
    # by default the differences from the best (QA: raw values let a spherical curve squeeze
    # the decision into the bottom), each guide saying which evidence grade it marks
    assert fig.axes[0].get_yscale() == "symlog"
    assert {t.get_text() for t in fig.axes[0].texts} >= {"2: positive", "6: strong",
                                                         "10: very strong"}
    assert plot_criteria(sweep, delta=False).axes[0].get_yscale() == "linear"
    _, axes = plt.subplots(1, 3)
    assert plot_criteria(sweep.table, axes, criteria=("bic", "aic", "icl")) is axes[0].figure
    with pytest.raises(ValueError, match="needs 2 axes"):
        plot_criteria(sweep, axes[0])
    # delta=True: each criterion minus its best, on a symlog scale, the best cell at 0
    fig = plot_criteria(sweep, criteria=("bic", "aic", "icl"), delta=True)
    for axis, criterion in zip(fig.axes, ("bic", "aic", "icl"), strict=True):
        assert axis.get_yscale() == "symlog"
        eligible = sweep.table[~sweep.table["degenerate"]]
        drawn = np.concatenate([line.get_ydata() for line in axis.lines
                                if line.get_label() in set(sweep.table["covariance_type"])])
        expected = (sweep.table[criterion] - eligible[criterion].min()).to_numpy()
        np.testing.assert_allclose(np.sort(drawn), np.sort(expected))
        k, ct = sweep.best[criterion]
        assert axis.get_title() == f"best: K={k} {ct}"
    assert fig.legends and not any(a.get_legend() for a in fig.axes)

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({"K=2": fake_fit(loglik_draws(rng, base - 0.3), 2),
                   "K=3": fake_fit(loglik_draws(rng, base), 3)})
    fig = plot_loo(sel)
    assert fig.axes[0].get_xlabel().startswith("elpd_loo")
    _, ax = plt.subplots()
    assert plot_loo(sel.comparison, ax=ax) is ax.figure

    sparse = summarise_sparse(overfitted_posterior(three_clusters), random_state=0)
    fig = plot_n_components(sparse)
    # the posterior's bars, and the prior's beside them (QA118: the prior of K+ unstated)
    assert len(fig.axes[0].patches) == 2 * 5
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "posterior", "prior (e0, K_max and N alone)"]
    assert len(plot_n_components(sparse.posterior_counts).axes[0].patches) == 5
    from bayesgmm.selection import prior_counts

    n_rows = sparse.result.idata["observed_data"]["x"].shape[0]
    assert sparse.prior_counts.equals(prior_counts(5, sparse.concentration, n_rows))
    (line,) = [ln for ln in str(sparse).splitlines() if ln.startswith("Prior alone")]
    assert f"1: {sparse.prior_counts[1]:.3f}" in line and "mean K+ " in line
    # what the answer depends on (QA: the figure on its own said neither)
    assert (f"K_max = {sparse.max_components}, e0 = {sparse.concentration:g})"
            in fig.axes[0].get_title())
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert (not sparse.diagnostics.ok) == any("checks FAILED" in t for t in texts)
    # QA: a sparse fit that failed its checks (929 divergences) gave a clean K+ figure
    failing = dataclasses.replace(sparse, diagnostics=dataclasses.replace(
        sparse.diagnostics, ok=False, verdict="PROBLEMS: 929 divergences | passed: R-hat"))
    (warning,) = plot_n_components(failing).axes[0].texts
    assert warning.get_text() == ("Sampler checks FAILED: do not report these probabilities\n"
                                  "929 divergences")
    # a long verdict wraps between words (accessibility QA: cut mid-word at "lab\u2026")
    words = "R-hat 1.2 > 1.01; " + "label-invariant bulk ESS 21 < 400; " * 6
    wordy = dataclasses.replace(failing, diagnostics=dataclasses.replace(
        failing.diagnostics, verdict=f"PROBLEMS: {words}"))
    (warning,) = plot_n_components(wordy).axes[0].texts
    lines = warning.get_text().split("\n")[1:]
    assert len(lines) == 3 and lines[-1].endswith(" \u2026")
    assert all(len(line) <= 70 and line.split()[-1] in words.split() + ["\u2026"]
               for line in lines)
    # QA: the box ran past the panel's right edge; drawn, it stays within the panel
    qa = dataclasses.replace(failing, diagnostics=dataclasses.replace(
        failing.diagnostics, verdict="PROBLEMS: R-hat 1.141 > 1.01; min bulk ESS 20 < 400; "
        "min tail ESS 20 < 400; max tree depth hit in 1.2% of draws > 1%; chain(s) 2 in a "
        "different mode (shift 1.19 sd > 1) | passed: 0 divergences <= 0"))
    for size, shown in [(None, wordy), (None, qa), ((4.0, 3.0), qa), ((9.0, 4.0), qa)]:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = plot_n_components(shown, figsize=size)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        box = fig.axes[0].texts[0].get_bbox_patch().get_window_extent(canvas.get_renderer())
        panel = fig.axes[0].get_window_extent()
        assert panel.x0 <= box.x0 and box.x1 <= panel.x1 and box.y1 <= panel.y1, size
    assert plot_n_components(np.array([3, 3, 4, 2])).axes[0].patches[2].get_height() == 0.5
    plt.close("all")


def test_plots_are_bare_figures(sweep):
    """Like bayesgmm.plots: a Figure not registered with pyplot (no window, no leaked state)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    figs = [plot_criteria(sweep), plot_loo(compare({
        "K=2": fake_fit(loglik_draws(np.random.default_rng(0), np.full(150, -2.3)), 2),
        "K=3": fake_fit(loglik_draws(np.random.default_rng(1), np.full(150, -2.0)), 3)})),
        plot_n_components(np.array([1, 2, 2]))]
    assert all(type(fig) is Figure for fig in figs)
    assert plt.get_fignums() == before
    loo_labels = figs[1].axes[0].get_legend_handles_labels()[1]
    assert "elpd_loo \u00b1 se" in loo_labels and "the best model's elpd_loo" in loo_labels


def test_selection_plots_take_a_figsize_like_the_others(sweep):
    """Stop 26's note: only bayesgmm.plots could be sized for a paper's column."""
    import inspect
    import io

    import matplotlib.pyplot as plt

    sel = compare({
        "K=2": fake_fit(loglik_draws(np.random.default_rng(0), np.full(150, -2.3)), 2),
        "K=3": fake_fit(loglik_draws(np.random.default_rng(1), np.full(150, -2.0)), 3)})
    for draw, arg in ((plot_criteria, sweep), (plot_loo, sel),
                      (plot_n_components, np.array([1, 2, 2]))):
        assert "figsize" in inspect.signature(draw).parameters and "figsize" in draw.__doc__
        natural = draw(arg)
        fig = draw(arg, figsize=(3.4, 2.6))
        np.testing.assert_allclose(fig.get_size_inches(), (3.4, 2.6))
        assert (max(t.get_fontsize() for t in fig.axes[0].texts + [fig.axes[0].xaxis.label])
                < max(t.get_fontsize() for t in natural.axes[0].texts
                      + [natural.axes[0].xaxis.label]))
        fig.savefig(io.BytesIO(), format="png")
        _, ax = plt.subplots(1, 2 if draw is plot_criteria else 1)
        with pytest.raises(ValueError, match="figsize sizes a new figure"):
            draw(arg, ax, figsize=(3, 3))
        with pytest.raises(ValueError, match="figsize must be"):
            draw(arg, figsize=(0, 3))
    plt.close("all")


# --------------------------------------------------------------------------------------------
# sampling (slow): LOO and the sparse mixture on the known K=3
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_loo_picks_three_on_well_separated_data():
    from bayesgmm.selection import select_bayes

    X, _, _ = simulate_mixture(n=150, seed=3)
    sel = select_bayes(X, [2, 3, 4], draws=300, tune=300, chains=2, sampler="pymc",
                       random_state=11, n_jobs=1)
    assert sel.simplest_within_noise == "K=3", sel.verdict
    assert sel.best in ("K=3", "K=4"), sel.verdict
    assert not sel.comparison.loc["K=2", "indistinguishable"]
    assert set(sel.diagnostics) == {"K=2", "K=3", "K=4"}


@pytest.mark.slow
def test_sparse_mixture_mode_is_three():
    from bayesgmm.selection import fit_sparse

    X, _, _ = simulate_mixture(n=150, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sparse = fit_sparse(X, 6, draws=300, tune=500, chains=2, sampler="pymc",
                            random_state=5)
    assert sparse.mode == 3, str(sparse)
    assert sparse.identified.sizes["component"] == 3


# --------------------------------------------------------------------------------------------
# equality
# --------------------------------------------------------------------------------------------
def test_selections_compare_by_identity(three_clusters):
    """They hold tables and arrays: == is identity (and hashing works), never an error."""
    from bayesgmm.selection import SparseMixture

    a = select_em(three_clusters, [1, 2], ["full"], n_init=1, random_state=0, n_jobs=1)
    b = select_em(three_clusters, [1, 2], ["full"], n_init=1, random_state=0, n_jobs=1)
    assert a == a and a != b and len({a, b, a}) == 2

    def build(cls):  # every field a fresh table or array, as in a real result
        values = {"comparison": pd.DataFrame({"elpd": [1.0]}), "pareto_k": pd.DataFrame(),
                  "n_nonempty": np.ones((2, 3)), "posterior_counts": pd.Series([1.0]),
                  "per_chain": pd.DataFrame({"1": [1.0]})}
        return cls(**{f.name: values.get(f.name) for f in dataclasses.fields(cls)})

    for cls in (BayesSelection, SparseMixture):
        x, y = build(cls), build(cls)
        assert x == x and x != y and len({x, y}) == 2, cls.__name__


# --------------------------------------------------------------------------------------------
# diagnostic thresholds reach the selection routes
# --------------------------------------------------------------------------------------------
LOOSE = dict(rhat_max=100.0, ess_min=1.0, ebfmi_min=0.0, max_divergences=10**6,
             max_treedepth_fraction=1.0, mode_shift_max=1e6)


def test_sparse_diagnostics_use_the_thresholds(three_clusters):
    from bayesgmm.settings import DiagnosticThresholds

    post = overfitted_posterior(three_clusters)
    default = summarise_sparse(post, random_state=0)
    loose = summarise_sparse(post, random_state=0, thresholds=DiagnosticThresholds(**LOOSE))
    assert not default.diagnostics.ok and loose.diagnostics.ok


def test_compare_diagnoses_with_the_thresholds(tiny_fit, tiny_fit_diag):
    from bayesgmm.settings import DiagnosticThresholds

    models = {"full": tiny_fit, "diag": tiny_fit_diag}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = compare(models)
        loose = compare(models, thresholds=DiagnosticThresholds(**LOOSE))
        expected = {name: m.diagnostics(**LOOSE).verdict for name, m in models.items()}
    assert loose.diagnostics == expected
    assert default.diagnostics != loose.diagnostics


def test_compare_advice_of_fixed_draws_asks_for_more_draws_not_auto(tiny_fit, tiny_fit_diag):
    """QA: the --bayes report's Convergence cell advised "with draws='auto', max_draws=4046",
    though the selection samples a fixed number of draws for every K."""
    from bayesgmm.settings import DiagnosticThresholds

    short = dict(LOOSE, ess_min=10**6)  # every fit short of ESS: the slow-mixing advice
    models = {"full": tiny_fit, "diag": tiny_fit_diag}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = compare(models, thresholds=DiagnosticThresholds(**short))
        own = tiny_fit.diagnostics(**short)
    for line in sel.diagnostics.values():
        # tiny fits short of ESS 10**6: too few draws (or slow mixing, where their ESS per
        # draw is under a quarter): either way more draws, as a number
        assert ("too few draws" in line or "slow mixing" in line) and "--draws " in line, line
        assert "auto" not in line and "max_draws" not in line, line
    # the same checks as the fit's own diagnostics, whose advice is unchanged: fit_bayes
    # offers draws='auto'
    assert sel.diagnostics["full"].startswith(own.verdict.removesuffix(" (see advice)"))
    assert "draws='auto'" in own.verdict_with_advice()


def test_summarise_sparse_with_a_constant_k_plus_prints_no_warning(three_clusters):
    """Every draw of both chains with K+ = 3: K+ has no R-hat (NaN, skipped), which ArviZ
    computed as 0/0 with a NumPy RuntimeWarning that fit_sparse printed (issue 15)."""
    import xarray as xr

    fake = overfitted_posterior(three_clusters, chains=2)
    post = fake.idata["posterior"].to_dataset().copy(deep=True)
    for name in post.data_vars:  # chain 1: chain 0's draws (K+ = 3) in reverse order
        post[name].values[1] = post[name].values[0][::-1]
    fake.idata["posterior"] = xr.DataTree(post)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        sparse = summarise_sparse(fake, random_state=0)
    assert (sparse.n_nonempty == 3).all()
    # a constant has no R-hat: checked on the log-likelihood alone (QA: "R-hat nan > 1.01")
    assert {c.where for c in sparse.diagnostics.checks if c.where} == {"total_log_likelihood"}
    # A fit that kept no pointwise log-likelihood (over 50 million values, or
    # log_likelihood=False) had nothing left to check: R-hat NaN, PROBLEMS. Its total now
    # comes from the pass that draws the assignments: sum_n log sum_k w_k N(x_n | m_k, S_k),
    # checked here against SciPy (the fake's stored group is noise, not this).
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    from bayesgmm.selection.k_plus import draw_assignments as _draw_assignments

    total = _draw_assignments(fake, None, 0)[2]
    for chain, draw in ((0, 0), (1, 7)):
        p = fake.idata["posterior"].isel(chain=chain, draw=draw)
        log_pdf = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(three_clusters)
                            for w, m, c in zip(p["weights"].values, p["means"].values,
                                               p["covariances"].values, strict=True)], axis=1)
        assert total[chain, draw] == pytest.approx(logsumexp(log_pdf, axis=1).sum(), rel=1e-9)
    del fake.idata["log_likelihood"]
    bare = summarise_sparse(fake, random_state=0)
    assert {c.where for c in bare.diagnostics.checks if c.where} == {"total_log_likelihood"}
    assert np.isfinite(bare.diagnostics.max_rhat)


def test_sparse_checks_are_not_repeated_as_label_invariant_nor_read_as_switching(
        three_clusters):
    """K+ and the log-likelihood are label-invariant themselves (QA: the same R-hat in two
    rows, and "label switching" named when K+ itself had not converged); the advice is the
    sparse fit's own: no "fewer components", no target_accept, the advice on the console."""
    sparse = summarise_sparse(overfitted_posterior(three_clusters), random_state=0)
    names = [c.name for c in sparse.diagnostics.checks]
    assert not any("label-invariant" in n for n in names) and "max R-hat" in names
    assert "label switching" not in sparse.diagnostics.causes
    # one advice per cause, the verdict naming the same causes (the report pairs them)
    assert len(sparse.diagnostics.causes) == len(sparse.diagnostics.advice)
    assert sparse.diagnostics.verdict.endswith(
        f"likely cause: {', '.join(sparse.diagnostics.causes)} (see advice)")
    advice = " ".join(sparse.diagnostics.advice)
    assert "K+ and the log-likelihood have not converged" in advice
    assert "the chains disagree on how many components are filled" in advice  # K+ failed
    assert "fewer components" not in advice and "target_accept=0.95" not in advice
    assert f"Advice: {sparse.diagnostics.advice[0]}" in str(sparse)
    assert "(see advice)" not in str(sparse).splitlines()[1]


def test_sparse_k_plus_at_k_max_is_cut_off_and_says_so(three_clusters, monkeypatch):
    """QA: P(K+ = 3) = 1 with K_max = 3 was read as the answer: every component in use means
    the extra ones could not empty, and K+ may be larger."""
    from bayesgmm.diagnostics import CAUSES
    from bayesgmm.selection.sparse import _sparse_advice

    sparse = summarise_sparse(overfitted_posterior(three_clusters), random_state=0)
    assert "K_max" not in (sparse.caveat or "")  # P(K+ = 5) = 0 of 5
    full = pd.Series([0.0, 0.0, 0.1, 0.2, 0.7], index=sparse.posterior_counts.index)
    at_max = dataclasses.replace(sparse, posterior_counts=full)
    assert "K+ reached K_max = 5 in 70% of the draws" in at_max.caveat
    # where the prior alone fills K_max, the caveat says so, not "cut off" (QA166)
    dense = dataclasses.replace(at_max, diagnostics=dataclasses.replace(
        sparse.diagnostics, causes=("e0 not sparse",)))
    assert (f"in 70% of the draws, as the prior alone does at e0 = {sparse.concentration:g}"
            in dense.caveat) and "cut off" not in dense.caveat
    ok = dataclasses.replace(sparse.diagnostics, checks=tuple(
        dataclasses.replace(c, passed=True) for c in sparse.diagnostics.checks))
    ((cause, advice),) = _sparse_advice(ok, 0.7, 5, 0.01, 60).items()
    assert cause == "K_max too small" and cause in CAUSES
    assert "refit with a larger K_max" in advice and "--sparse 10" in advice
    assert _sparse_advice(ok, 0.01, 5, 0.01, 60) == {}
    # QA163 M2: where the prior alone fills K_max, e0 is the cause, not K_max
    ((cause, advice),) = _sparse_advice(ok, 0.7, 5, 4.0, 60, prior_at_max=0.99).items()
    assert cause == "e0 not sparse" and cause in CAUSES
    assert "as the prior alone does (P(K+ = 5) = 0.99 before any data)" in advice
    assert "--concentration 0.01" in advice and "larger K_max" not in advice.split(";")[1]
    # QA: "likely cause: divergences" beside "passed: 0 divergences": named by what failed
    from bayesgmm.diagnostics import _divergence_check, _treedepth_check

    deep = dataclasses.replace(ok, checks=ok.checks + (
        _treedepth_check(0.0103, 0.01), _divergence_check(np.array([0, 0]), ["0", "1"], 0)))
    found = _sparse_advice(deep, 0.01, 5, 0.01, 60)
    assert list(found) == ["inefficient sampling"] and set(found) <= set(CAUSES)
    assert "max tree depth hit in 1.03% of draws > 1%" == deep.checks[-2].summary  # not 1.0%
    assert "divergences" not in found["inefficient sampling"].split(":")[0]
    diverged = dataclasses.replace(deep, checks=ok.checks + (
        _treedepth_check(0.0103, 0.01), _divergence_check(np.array([3, 0]), ["0", "1"], 0)))
    assert list(_sparse_advice(diverged, 0.01, 5, 0.01, 60)) == ["divergences"]
    # QA: e0 = 0.1, as advised, still diverged on most data sets: the fixed-K route is named
    # too, and alone where e0 is that large already (not "a larger e0" at e0 = 0.1)
    (small,) = _sparse_advice(diverged, 0.01, 5, 0.01, 60).values()
    assert "refit with a larger e0 (e.g. concentration=0.1" in small
    assert "choose K by comparing fixed-K posteriors by PSIS-LOO (select_bayes" in small
    (large,) = _sparse_advice(diverged, 0.01, 5, 0.1, 60).values()
    assert "larger e0" not in large and "at e0 = 0.1" in large
    # no near-empty components to blame at e0 >= 1 (QA163 M2)
    (dense,) = _sparse_advice(diverged, 0.01, 5, 4.0, 60).values()
    assert "near-empty" not in dense
    assert "choose K by comparing fixed-K posteriors by PSIS-LOO" in large
    # every check passed but K+ is cut off: CAUTION, as diagnose says it, not OK (code review)
    from bayesgmm.settings import DiagnosticThresholds

    monkeypatch.setattr("bayesgmm.selection.sparse._AT_K_MAX", -1.0)  # any P(K+ = K_max)
    loose = summarise_sparse(overfitted_posterior(three_clusters), random_state=0,
                             thresholds=DiagnosticThresholds(**LOOSE))
    assert loose.diagnostics.ok and loose.diagnostics.causes == ("K_max too small",)
    assert loose.diagnostics.verdict.startswith("CAUTION: ")
    assert loose.diagnostics.verdict.endswith("note: K_max too small (see advice)")


def test_pareto_warning_names_one_model_in_good_english():
    """QA: "this model' elpd_loo" (a stray apostrophe)."""
    from bayesgmm.selection.loo_verdict import pareto_warnings

    table = pd.DataFrame({"n_observations": [100, 100], "good_k": [0.7, 0.7],
                          "n_high": [2, 0], "n_very_high": [0, 0], "max_k": [0.8, 0.3]},
                         index=pd.Index(["K=2", "K=3"], name="model"))
    (one,) = pareto_warnings(table)
    assert "this model's elpd_loo is likely optimistic" in one
    (two,) = pareto_warnings(table.assign(n_high=[2, 1]))
    assert "these models' elpd_loo is likely optimistic" in two


def test_a_likelihood_below_a_smaller_k_is_noted_as_a_local_optimum():
    """K + 1 components can always match K's maximum likelihood: a lower one is EM's local
    optimum, and the note names the cell, the numbers and the fix."""
    import pandas as pd

    from bayesgmm.selection.choice_notes import _local_optimum_notes

    table = pd.DataFrame({"n_components": [1, 2, 3, 1, 2], "covariance_type": ["full"] * 3
                          + ["diag"] * 2, "log_likelihood": [-500.0, -400.0, -450.0, -520.0,
                                                             -420.0], "error": [""] * 5})
    notes = _local_optimum_notes(table, 5)
    assert notes == ("K=3 full: log-likelihood -450.0 is 50.0 below K=2's -400.0, which K=3 "
                     "can always match: EM stopped at a local optimum and its criteria are too "
                     "high (raise n_init, --n-init, now 5)",)
    # in full, not "1.8e+02" (QA)
    wide = table.assign(log_likelihood=[-5000.0, -4000.0, -4181.8, -5200.0, -4200.0])
    assert "-4,181.8 is 181.8 below K=2's -4,000.0" in _local_optimum_notes(wide, 5)[0]
    table.loc[2, "error"] = "failed"  # a cell that was not fitted is not compared
    assert _local_optimum_notes(table, 5) == ()
    # QA: "-1044.1 is below K=3's -1044.1": a gap within EM's precision is no local optimum
    table.loc[2, ["error", "log_likelihood"]] = ["", -400.04]
    assert _local_optimum_notes(table, 5) == ()
    table.loc[2, "log_likelihood"] = -400.3
    assert "-400.3 is 0.3 below K=2's -400.0" in _local_optimum_notes(table, 5)[0]


def test_one_model_under_two_names_is_chosen_by_one_name():
    """QA: at K=1 full and tied are one model; 'AIC -> K=1 tied' came from rounding. Ties go
    to the fewest components, then the usual order of covariance types, and a note says so."""
    import pandas as pd

    from bayesgmm.selection.criteria import _best

    value = 2498.2400000001
    table = pd.DataFrame({"n_components": [1, 1, 2], "covariance_type": ["tied", "full", "full"],
                          "bic": [value - 1e-10, value, value + 5], "aic": [value] * 3,
                          "icl": [value + 1, value + 1, value], "degenerate": [False] * 3})
    assert _best(table, True) == {"bic": (1, "full"), "aic": (1, "full"), "icl": (2, "full")}
    X = np.random.default_rng(0).normal(size=(120, 2))
    notes = select_em(X, [1, 2], ["full", "tied"], random_state=0, n_jobs=1).notes
    assert any(n.startswith("at K=1, full and tied are one model") for n in notes)
    assert not any("one model" in n for n in select_em(X, [2], ["full", "tied"],
                                                       random_state=0, n_jobs=1).notes)
    # QA: said on every run; only where a criterion chose K=1 (and so named it full)
    apart = np.r_[X, X + 12.0]
    assert not any("one model" in n for n in select_em(apart, [1, 2], ["full", "tied"],
                                                       random_state=0, n_jobs=1).notes)
    # QA81: nor where K=1 of another type is chosen (diag: one row of each column's spread)
    axes = X * [1.0, 3.0]
    chosen = select_em(axes, [1, 2], ["full", "tied", "diag"], random_state=0, n_jobs=1)
    assert chosen.best["bic"] == (1, "diag")
    assert not any("one model" in n for n in chosen.notes)


def test_the_model_to_fix_is_the_simplest_one_within_noise_of_the_best():
    """QA (galaxies): 'make K=6's posterior pass' while K=6 said K too large and K=3, within
    noise of it, had failed only an R-hat: the simplest model as good as the best is the one
    to make converge."""
    rng = np.random.default_rng(5)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 2), True),
        "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.005), 3), False),
        "K=4": _with_diagnostics(fake_fit(loglik_draws(rng, base), 4), False,
                                 ("K too large",)),
    })
    assert sel.best == "K=4" and sel.simplest_within_noise == "K=3"
    assert "make K=3's posterior pass its checks (it is the simplest model within noise of " \
           "K=4; its advice says how)" in sel.verdict
    # K=3 failed its own checks: not "preferred", not "says as much" (paper QA)
    assert "K=3 (its own posterior failed its checks: see below)" in sel.verdict
    assert "prefer it" not in sel.verdict and "says as much" not in sel.verdict


def _one_high_k(rng, base):
    """Pointwise log-likelihood draws around ``base`` with one point of high Pareto k
    (~0.8-1.6, as the QA's outliers gave): its draws heavy-tailed."""
    draws = loglik_draws(rng, base, n=base.size)
    draws[..., 0] = -2 + rng.standard_t(3, size=draws.shape[:2])
    return draws


def test_k_too_large_leaves_the_elpd_sound_and_a_far_worse_model_is_not_offered():
    """QA (Bayesian workflow): K=2 (converged; a broad second component holding two
    outliers, so "K too large"; one point of Pareto k 0.77) was set aside for K=1, 60 elpd
    worse with Pareto k 1.30, and called "the largest K compared: a larger K may predict
    better still". elpd_loo does not depend on the labels; a far worse model is no answer."""
    rng = np.random.default_rng(4)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({"K=1": _with_diagnostics(fake_fit(_one_high_k(rng, base - 0.4), 1), True),
                   "K=2": _with_diagnostics(fake_fit(_one_high_k(rng, base), 2), True,
                                            ("K too large",))})
    assert sel.best == "K=2" and sel.pareto_k["n_high"].min() >= 1
    assert "its posterior did not pass" not in sel.verdict
    assert "K=2: its diagnostics say K is too large" in sel.verdict
    assert "That alone does not make its elpd_loo unreliable" in sel.verdict
    assert "But it predicts worse than K=2 beyond noise: K=2 remains the better model" in \
        sel.verdict
    assert "a larger K may predict better still" not in sel.verdict
    # without the high Pareto k, K=2 is simply best: no "not trustworthy"
    clean = compare({"K=1": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 1), True),
                     "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base), 2), True,
                                              ("K too large",))})
    assert "not trustworthy" not in clean.verdict and "K is too large" in clean.verdict


def test_a_simplest_model_with_high_pareto_k_is_not_the_one_to_prefer():
    """QA (one t3 cluster): K=4 was set aside for a Pareto k of 0.74, yet K=2, within noise
    with a Pareto k of 0.72, was "the simplest ... (prefer it ...)" and "says as much with
    fewer components"; the simplest within noise whose elpd_loo is sound is K=3."""
    rng = np.random.default_rng(6)
    base = rng.normal(-2.0, 0.5, size=150)

    sel = compare({
        "K=1": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 1), True),
        "K=2": _with_diagnostics(fake_fit(_one_high_k(rng, base - 0.012), 2), True),
        "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.006), 3), True),
        "K=4": _with_diagnostics(fake_fit(_one_high_k(rng, base + 0.02), 4), True,
                                 ("K too large",))})
    assert sel.best == "K=4" and sel.simplest_within_noise == "K=2", sel.comparison
    assert (sel.pareto_k.loc[["K=2", "K=4"], "n_high"] >= 1).all()
    assert sel.pareto_k.loc["K=3", "n_high"] == 0
    assert "prefer it" not in sel.verdict
    assert re.search(r"The simplest model within noise of the best is K=2 \(1 of its 150 "
                     r"observations has Pareto k > \d\.\d\d \(max \d\.\d\d\), so its elpd_loo is "
                     r"unreliable \(likely optimistic\)\)\. The simplest within noise whose "
                     r"elpd_loo passed every check is K=3\.", sel.verdict), sel.verdict
    assert "K=3, within noise of it, says as much with fewer components" in sel.verdict
    assert "K=2, within noise of it" not in sel.verdict


@pytest.mark.parametrize("band, message", [
    ({"min_elpd_diff": -1.0}, r"^min_elpd_diff must be .*>= 0"),
    ({"n_se": 0}, r"^n_se must be .*> 0"),
    ({"n_se": float("nan")}, r"^n_se must be"),
])
def test_the_noise_band_is_checked_before_anything_is_sampled(band, message):
    """QA: select_bayes(min_elpd_diff=-1) and n_se=0 were taken: no model within noise."""
    from bayesgmm.selection import select_bayes

    with pytest.raises(ValueError, match=message):
        select_bayes(np.zeros((30, 1)) + np.arange(30)[:, None], [1, 2], **band)
    rng = np.random.default_rng(0)
    fits = {f"K={k}": fake_fit(loglik_draws(rng, np.full(150, -2.0)), k) for k in (1, 2)}
    with pytest.raises(ValueError, match=message):
        compare(fits, **band)


def test_only_a_posterior_that_failed_is_sent_to_pass_its_checks():
    """Review: a converged best with high Pareto k only, or a converged simplest model within
    noise, were told to "make ... posterior pass its checks"."""
    rng = np.random.default_rng(6)
    base = rng.normal(-2.0, 0.5, size=150)

    pareto_best = compare({
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 2), True),
        "K=4": _with_diagnostics(fake_fit(_one_high_k(rng, base), 4), True)})
    assert pareto_best.best == "K=4" and pareto_best.pareto_k.loc["K=4", "n_high"] >= 1
    assert "But it predicts worse than K=4 beyond noise: K=4 remains the better model (the " \
           "Pareto-k warning below says how to firm up its elpd_loo)." in pareto_best.verdict
    assert "pass its checks" not in pareto_best.verdict
    # QA152 M2: the head said "its checks failed" of a best that passed them (high Pareto k
    # only), and the repr said nothing of it
    n_high = pareto_best.pareto_k.loc["K=4", "n_high"]
    assert pareto_best.verdict.startswith(
        "K=4 has the highest elpd_loo ") and "its checks failed" not in pareto_best.verdict
    undefined = pareto_best.pareto_k.loc["K=4", "n_undefined"]
    assert (f"though {n_high} of its observations {'has' if n_high == 1 else 'have'} "
            f"{'high or undefined' if undefined else 'high'} Pareto k, so its elpd_loo is "
            "unreliable (see below)" in pareto_best.verdict)
    assert "no trustworthy best" not in pareto_best.verdict  # QA153 L1: then "remains best"
    # QA155 M1: beside models that all failed, it was "No other model passed its checks
    # either: fix the fits", though its own posterior had passed
    rng = np.random.default_rng(6)
    alone = compare({
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 2), False),
        "K=4": _with_diagnostics(fake_fit(_one_high_k(rng, base), 4), True)})
    assert alone.best == "K=4" and "either" not in alone.verdict
    assert ("No other model passed its checks: K=4, whose posterior did, remains the one to "
            "use once its elpd_loo is firmed up") in alone.verdict
    assert "; high Pareto k for K=4: elpd_loo unreliable" in repr(pareto_best)
    within = compare({
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 2), True),
        "K=3": _with_diagnostics(fake_fit(_one_high_k(rng, base - 0.002), 3), True),
        "K=4": _with_diagnostics(fake_fit(loglik_draws(rng, base), 4), False)})
    assert within.best == "K=4" and within.simplest_within_noise == "K=3", within.comparison
    assert "K=3, within noise of K=4 and converged, is the better answer once its elpd_loo " \
           "is firmed up" in within.verdict
    assert "make K=3's posterior pass" not in within.verdict


def test_near_ties_and_a_best_at_the_top_of_the_grid_are_noted():
    """QA: 'BIC -> K=3 full' with K=5 0.22 behind, and LOO/ICL picking the largest K fitted,
    were stated as single answers; the notes say both."""
    import pandas as pd

    from bayesgmm.selection.choice_notes import _choice_notes

    table = pd.DataFrame({"n_components": [1, 2, 3, 4], "covariance_type": ["full"] * 4,
                          "bic": [900.0, 810.0, 800.0, 801.5], "aic": [900.0, 850.0, 820.0,
                                                                       790.0],
                          "icl": [900.0, 805.0, 800.0, 830.0],
                          "degenerate": [False, False, False, True], "error": [""] * 4})
    best = {"bic": (3, "full"), "aic": (4, "full"), "icl": (3, "full")}
    notes = _choice_notes(table, best, [1, 2, 3, 4], exclude_degenerate=True)
    assert notes == ("AIC picks K=4, the largest K fitted: a larger K may be better still "
                     "(widen n_components, -k)",)  # K=4 degenerate: no BIC near-tie with it
    notes = _choice_notes(table, best, [1, 2, 3, 4], exclude_degenerate=False)
    assert notes[0] == ("BIC: K=4 full (+1.50) within 2 of K=3 full: weak evidence between "
                        "them (Kass & Raftery 1995)")


def test_loo_figure_marks_failed_checks_and_leaves_a_far_worse_model_off_the_scale():
    """QA: unconverged models were drawn like the others, and K=1 (elpd 170 below) squeezed
    K=3-5 into a few pixels."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({
        "K=1": _with_diagnostics(fake_fit(loglik_draws(rng, base - 1.2), 1), True),
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.02), 2), False),
        "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base), 3), True),
    })
    fig = plot_loo(sel)
    try:
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert any(t.startswith("K=2\n(") and "checks failed" in t for t in labels)
        (far,) = [t for t in labels if t.startswith("K=1")]
        assert "(off the scale: elpd_diff -1" in far
        low, _ = fig.axes[0].get_xlim()
        assert low > sel.comparison.loc["K=1", "elpd"]
        # a qualifier a line, and the key inside the figure (referee: one long line squeezed
        # the axes; the key's second column ran off the right edge)
        assert not any(", " in line for t in labels for line in t.split("\n"))
        fig.draw_without_rendering()
        key = fig.axes[0].get_legend().get_window_extent()
        assert 0 <= key.x0 and key.x1 <= fig.bbox.width
    finally:
        plt.close(fig)
    # 60 below, ten of its se: still off the scale, so that the close models' bars keep the
    # axis (QA: the bound was 20 of the largest se, and the others shared a few pixels)
    sel = compare({
        "K=1": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.4), 1), True),
        "K=2": _with_diagnostics(fake_fit(loglik_draws(rng, base - 0.02), 2), True),
        "K=3": _with_diagnostics(fake_fit(loglik_draws(rng, base), 3), True),
    })
    table = sel.comparison
    assert 8 < -table.loc["K=1", "elpd_diff"] / table["se"].median() < 20
    fig = plot_loo(sel)
    try:
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert any("off the scale" in t for t in labels if t.startswith("K=1"))
        low, high = fig.axes[0].get_xlim()
        assert high - low < 6 * table["se"].max()
    finally:
        plt.close(fig)


def test_a_choice_with_more_parameters_than_rows_is_noted():
    """QA (stress): 15 rows in two clusters; BIC, AIC and ICL all chose K=7 tied (33
    parameters, components of 1-3 points) with no word of warning."""
    import pandas as pd

    from bayesgmm.selection.choice_notes import _choice_notes

    table = pd.DataFrame({"n_components": [2, 7], "covariance_type": ["full", "tied"],
                          "bic": [196.0, 142.6], "aic": [183.0, 119.0], "icl": [197.0, 150.0],
                          "n_parameters": [19, 33], "min_component_size": [7.0, 1.0],
                          "degenerate": [False, False], "error": ["", ""]})
    best = {c: (7, "tied") for c in ("bic", "aic", "icl")}
    (note,) = [n for n in _choice_notes(table, best, [2, 7], True, n_rows=15)
               if "free parameters" in n]
    assert note.startswith("BIC, AIC, ICL: K=7 tied has 33 free parameters for 15 rows (its "
                           "smallest component 1.0 points)")
    assert not [n for n in _choice_notes(table, best, [2, 7], True, n_rows=300)
                if "free parameters" in n]
    # QA: "prefer the smallest K" then "a larger K may be better still (widen -k)": the top
    # of the grid is not said of a choice that rests on too few rows; with rows enough it is
    assert not [n for n in _choice_notes(table, best, [2, 7], True, n_rows=15)
                if "largest K fitted" in n]
    assert [n for n in _choice_notes(table, best, [2, 7], True, n_rows=300)
            if "largest K fitted" in n]


# --------------------------------------------------------------------------------------------
# reprs
# --------------------------------------------------------------------------------------------
def test_selection_reprs_are_short_and_name_the_answer(three_clusters):
    """QA: repr(EMSelection) embedded the whole table (2.4 KB) and repr(SparseMixture) a
    multi-line Series; each is now one line saying what it is and what it chose."""
    from bayesgmm.selection import SparseMixture

    sel = select_em(three_clusters, [1, 2, 3], ["full", "diag"], n_init=1, random_state=0,
                    n_jobs=1)
    text = repr(sel)
    assert "\n" not in text and len(text) < 250, text
    assert text.startswith("EMSelection(6 cells: K=1..3 x full, diag, N=")
    k, ct = sel.best["bic"]
    assert f"BIC K={k} {ct}" in text and "n_components" not in text

    counts = pd.Series([0.0, 0.05, 0.9, 0.05], index=pd.Index([1, 2, 3, 4], name="n_nonempty"))
    fields = dict(result=None, max_components=4, concentration=0.01, n_nonempty=None,
                  posterior_counts=counts, mode=3, identified=None, label_switching=None,
                  per_chain=pd.DataFrame([[0.0, 0.1, 0.9, 0.0]] * 2, columns=[1, 2, 3, 4]))
    ok = SparseMixture(**fields, diagnostics=types.SimpleNamespace(ok=True, causes=()))
    assert repr(ok) == ("SparseMixture(K_max=4, e0=0.01: posterior mode K+=3, P(K+=3)=0.900; "
                        "convergence checks passed; print() for P(K+=k) and the verdict)")
    failed = SparseMixture(**fields, diagnostics=types.SimpleNamespace(ok=False, causes=()))
    assert "checks failed; unreliable (see .caveat)" in repr(failed)


def test_bayes_selection_repr_is_one_line_naming_the_choice():
    """The dataclass repr of BayesSelection embedded its comparison and Pareto-k tables; it is
    one line naming the models compared, the best, those indistinguishable from it and the
    simplest of them."""
    from bayesgmm.selection import BayesSelection

    table = pd.DataFrame({"elpd": [-100.0, -101.0, -130.0], "indistinguishable":
                          [False, True, False]}, index=["K=3", "K=2", "K=1"])
    sel = BayesSelection(comparison=table, loo={}, pareto_k=pd.DataFrame(), best="K=3",
                         within_noise=("K=2",), simplest_within_noise="K=2",
                         verdict="K=3 is best ...", warnings=("a Pareto-k warning",),
                         diagnostics={}, results={})
    assert repr(sel) == ("BayesSelection(3 models: K=3, K=2, K=1; best by elpd_loo K=3, "
                         "indistinguishable: K=2; simplest within noise K=2; 1 warning(s); "
                         "print() for the table and the verdict)")
    alone = BayesSelection(comparison=table, loo={}, pareto_k=pd.DataFrame(), best="K=3",
                           within_noise=(), simplest_within_noise="K=3", verdict="",
                           warnings=(), diagnostics={}, results={})
    assert repr(alone) == ("BayesSelection(3 models: K=3, K=2, K=1; best by elpd_loo K=3; "
                           "print() for the table and the verdict)")
    # notebook QA: a best model whose checks failed was told only by print()
    failed = dataclasses.replace(alone, diagnostics={"K=3": "PROBLEMS: R-hat 1.215 > 1.01",
                                                     "K=2": "OK: R-hat 1.003"})
    assert "; convergence checks failed for K=3: unreliable; print()" in repr(failed)


def test_a_best_model_with_too_many_parameters_is_said_so_in_its_own_words():
    """The LOO verdict names the diagnostics' cause: "too many parameters" is not "K is too
    large" (the remedy may be a simpler covariance type with the same K)."""
    import types

    from bayesgmm.selection import loo_verdict, model_checks

    heavy = types.SimpleNamespace(causes=("too many parameters", "slow mixing"))
    assert model_checks.says_too_large(heavy) == "too many parameters"
    assert model_checks.says_too_large(types.SimpleNamespace(causes=("slow mixing",))) == ""
    assert model_checks.says_too_large(None) == ""
    text = loo_verdict.too_large("K=3", None, cause="too many parameters")
    assert text.startswith("K=3: its diagnostics say it has too many parameters for the data")
    assert "simpler covariance type" in text and "K is too large" not in text
    assert "its diagnostics say K is too large" in loo_verdict.too_large("K=3", None)
    # QA163 L5: after sentences on other models, an untrusted best is named as set aside
    aside = loo_verdict.too_large("K=3", "K=1", set_aside=True)
    assert aside.startswith("As for K=3, set aside above: its diagnostics also say K is too "
                            "large") and "That alone does not make" not in aside
    assert aside.endswith("K=1, within noise of it, says as much with fewer components.")


def _sweep_table(rows):
    """A sweep's table from (K, covariance type, log-likelihood, BIC, degenerate) rows."""
    return pd.DataFrame([{"n_components": k, "covariance_type": ct, "log_likelihood": ll,
                          "bic": bic, "aic": bic, "icl": bic, "degenerate": degenerate,
                          "error": "", "n_parameters": 5, "min_component_size": 50.0}
                         for k, ct, ll, bic, degenerate in rows])


def test_k1_tied_is_no_near_tie_of_k1_full():
    """QA: at K=1 full and tied are one model: "K=1 tied (+0.00) within 2 of K=1 full" was
    noted, and ranked second, hiding the real runner-up."""
    from bayesgmm.selection.choice_notes import _choice_notes, same_model_as_another

    table = _sweep_table([(1, "full", -100.0, 210.0, False), (1, "tied", -100.0, 210.0, False),
                          (2, "tied", -95.0, 211.5, False), (2, "full", -94.0, 215.0, False)])
    assert same_model_as_another(table).tolist() == [False, True, False, False]
    notes = _choice_notes(table, {"bic": (1, "full")}, [1, 2], True, n_rows=200)
    assert notes == ("BIC: K=2 tied (+1.50) within 2 of K=1 full: weak evidence between them "
                     "(Kass & Raftery 1995)",)
    # without a K=1 full cell, K=1 tied stands for itself
    assert not same_model_as_another(table.iloc[1:]).any()


def test_no_local_optimum_note_against_a_degenerate_cell():
    """QA: "K=4 full: log-likelihood -975.8 is 99 below K=3's -877.0 ... raise n_init", where
    K=3's likelihood was a collapsed component's; a proper cell below a proper one is noted."""
    from bayesgmm.selection.choice_notes import _local_optimum_notes

    table = _sweep_table([(2, "full", -990.0, 2000.0, False), (3, "full", -877.0, 1800.0, True),
                          (4, "full", -975.8, 1990.0, False)])
    assert _local_optimum_notes(table, 5) == ()
    table.loc[1, "degenerate"] = False
    assert _local_optimum_notes(table, 5)[0].startswith("K=4 full: log-likelihood -975.8 is "
                                                        "98.8 below K=3's -877.0")


def test_posterior_fits_run_at_once_only_where_the_cores_hold_their_chains(monkeypatch):
    """QA: on 2 cores, two fits at once (each with its 4 chains one after another) took 2.5x
    as long as one after another, silent meanwhile."""
    import joblib

    from bayesgmm.selection.sweep import posterior_workers as workers

    for cores, expected in ((2, 1), (8, 2), (16, 3)):
        monkeypatch.setattr(joblib, "effective_n_jobs",
                            lambda n, cores=cores: cores if n == -1 else n)
        assert workers(-1, 3, 4) == expected
    assert workers(2, 5, 4) == 2 and workers(1, 5, 4) == 1 and workers(8, 3, 4) == 3


def test_parallel_posterior_fits_get_cores_the_sampler_honours():
    """select_bayes samples until converged by default; nutpie's draws="auto" gives every
    chain a thread whatever ``cores`` says, so the fits of ``n_jobs=4`` must not be given
    cores=1 (each would warn that it is not honoured)."""
    from bayesgmm.selection.sweep import worker_settings
    from bayesgmm.settings import SamplerSettings

    auto, fixed = SamplerSettings(), SamplerSettings(draws=1000)
    assert worker_settings(auto, 1, 4) is auto  # one fit at a time: as given
    assert worker_settings(auto, 2, 4).cores == 4 and worker_settings(fixed, 2, 4).cores == 1
    assert worker_settings(fixed, 2, -1).cores == 4  # only as many fits as the cores hold
    assert worker_settings(fixed.replace(cores=2), 2, 4).cores == 2  # given: kept
    assert worker_settings(auto.replace(sampler="pymc"), 2, 4).cores == 1
    assert not worker_settings(auto, 2, 4).progressbar


def test_select_bayes_samples_each_k_until_converged_by_default(monkeypatch, old_faithful):
    """A fixed 1,000 draws failed the checks on the README's example (Old Faithful, tied,
    K=4) and on galaxies K=3-5, and LOO then had no trustworthy best; fit_sparse keeps its
    fixed 1,000 (empty components never converge)."""
    from bayesgmm import sampling
    from bayesgmm.selection import fit_sparse, select_bayes

    seen = []

    def record(X, n_components, settings=None, **kwargs):
        seen.append(settings.draws)
        raise ValueError("recorded")

    monkeypatch.setattr(sampling, "fit_bayes", record)
    with pytest.raises(ValueError, match="recorded"):
        select_bayes(old_faithful, [2, 3], n_jobs=1, progressbar=False)
    with pytest.raises(ValueError, match="recorded"):
        select_bayes(old_faithful, [2, 3], draws=500, n_jobs=1, progressbar=False)
    with pytest.raises(ValueError, match="recorded"):
        fit_sparse(old_faithful, 4, progressbar=False)
    assert seen == ["auto", 500, 1000]


def test_select_bayes_refuses_before_sampling(monkeypatch, old_faithful):
    """QA: one K was sampled for a minute and then refused; 20 draws of one chain ended in
    ArviZ's "n_draws_tail must be at least 5"; a fit that could not start named no K."""
    from bayesgmm import sampling
    from bayesgmm.selection import select_bayes

    def never(*args, **kwargs):
        raise AssertionError("sampled")

    monkeypatch.setattr(sampling, "fit_bayes", never)
    with pytest.raises(ValueError, match=r"compares at least two numbers of components; got "
                                         r"n_components=\[3\]: for one K, fit_bayes"):
        select_bayes(old_faithful, [3], n_jobs=1)
    with pytest.raises(ValueError, match=r"PSIS-LOO needs at least 25 draws in all \(chains x "
                                         r"draws\); got 1 x 20"):
        select_bayes(old_faithful, [2, 3], draws=20, chains=1, n_jobs=1)

    def cannot_start(X, n_components, **kwargs):
        raise ValueError("the sampler cannot start at the EM estimate")

    monkeypatch.setattr(sampling, "fit_bayes", cannot_start)
    with pytest.raises(ValueError, match="^K=3: the sampler cannot start"):
        select_bayes(old_faithful, [2, 3], draws=20, tune=20, n_jobs=1, progressbar=False)


def test_an_unfitted_sweep_has_no_best_fit_and_says_so():
    sel = select_em(np.random.default_rng(0).normal(size=(20, 2)), [25], "full", n_jobs=1)
    assert "Best: none: no cell could be fitted" in str(sel)
    with pytest.raises(ValueError, match="no cell of the sweep could be fitted"):
        sel.best_fit("bic")
    with pytest.raises(ValueError, match="unknown criterion 'bik'"):
        sel.best_fit("bik")


def test_printed_tables_mark_degenerate_cells_and_quick_sweeps_run_here():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal([12, 0], 1, (30, 2)),
                   [[0.0, 12.0], [0.7, 12.4]]])
    sel = select_em(X, [1, 2, 3], ["full", "tied"], n_init=3, random_state=0)
    text = str(sel)
    bic = sel.table.set_index(["n_components", "covariance_type"]).loc[(3, "full"), "bic"]
    assert f"{bic:.2f}\u2020" in text
    assert text.count("\u2020") == 4  # three tables, one footnote
    assert sel.workers == 1  # quick cells: in this process, whatever n_jobs=-1 says


def test_a_map_sweep_says_so_when_printed(old_faithful):
    """QA: select_em(..., prior="default") printed exactly like a maximum-likelihood sweep."""
    text = str(select_em(old_faithful, [1, 2], ["full"], prior="default", n_jobs=1,
                         random_state=0))
    assert text.startswith("Criteria at MAP-EM estimates (fitted under a prior, not maximum "
                           "likelihood)")
    assert "MAP" not in str(select_em(old_faithful, [1, 2], ["full"], n_jobs=1,
                                      random_state=0))


def test_models_that_passed_are_ranked_against_the_best_of_them():
    """The models that passed, measured against the best of them: within noise first, then
    those worse beyond it; nothing when the comparison is not led by that model."""
    from bayesgmm.selection.loo_verdict import _ranked_against

    table = pd.DataFrame({"elpd_diff": [0.0, -1.25, -40.0, -55.0], "dse": [0.0, 1.0, 6.0, 7.0],
                          "indistinguishable": [False, True, False, False]},
                         index=["K=2", "K=3", "K=1", "K=5"])
    assert _ranked_against(table, "K=2") == (
        "; against it, K=3 (elpd_diff -1.2 ± 1.0) is within noise of it; worse beyond noise: "
        "K=1 (-40.0 ± 6.0), K=5 (-55.0 ± 7.0)")
    assert _ranked_against(table.iloc[[0, 2, 3]], "K=2") == (
        "; against it, the others are worse beyond noise: K=1 (-40.0 ± 6.0), K=5 (-55.0 ± 7.0)")
    assert _ranked_against(table, "K=3") == "" and _ranked_against(None, "K=2") == ""


def test_the_verdict_gives_every_difference_its_size_in_standard_errors():
    """QA113: a gap 2.2 SE past noise was said in the same words as a 4-SE one, with no
    number ("every other model is worse beyond noise"); -3.0 ± 0.5, 6 SE from 0, was "within
    noise" (|elpd_diff| < 4 is small, not noise)."""
    from bayesgmm.selection.loo_verdict import indistinguishable, verdict

    def said(diffs, dses, n_se=2.0, min_diff=4.0):
        table = pd.DataFrame({"elpd": [-900.0 + d for d in (0.0, *diffs)],
                              "se": [9.0] * (len(diffs) + 1), "elpd_diff": [0.0, *diffs],
                              "dse": [0.0, *dses]},
                             index=[f"K={k}" for k in range(2, len(diffs) + 3)])
        within = [n for n, w in zip(table.index, indistinguishable(table, min_diff, n_se),
                                    strict=True) if w]
        return verdict(table, "K=2", within, None, [], noise_band=(min_diff, n_se))

    assert said([-8.93], [4.0]) == ("K=2 is best (elpd_loo -900.0 ± 9.0); K=3 is worse beyond "
                                    "noise (-8.9 ± 4.0; modest: 2.2 SE).")
    assert said([-12.0], [3.0]).endswith("K=3 is worse beyond noise (-12.0 ± 3.0).")  # 4 SE
    assert said([-8.93, -40.0], [4.0, 5.0]).endswith(
        "the others are worse beyond noise: K=3 (-8.9 ± 4.0; modest: 2.2 SE), K=4 (-40.0 ± "
        "5.0).")
    assert said([-3.0], [0.5]).endswith(
        "K=3 (elpd_diff -3.0 ± 0.5, 6.0 SE) is within noise of it by the |elpd_diff| < 4 rule "
        "(a small difference, though beyond its standard error).")
    mixed = said([-1.0, -3.0, -20.0], [1.0, 0.5, 4.0])
    assert "K=3 (elpd_diff -1.0 ± 1.0) is within noise of it; K=4 (elpd_diff -3.0 ± 0.5, 6.0 " \
           "SE) is within noise of it by the |elpd_diff| < 4 rule" in mixed
    assert mixed.endswith("; worse beyond noise: K=5 (-20.0 ± 4.0).")
    # the band the caller chose: with n_se = 3, -8.93 ± 4.0 is within noise
    assert "K=3 (elpd_diff -8.9 ± 4.0) is within noise of it" in said([-8.93], [4.0], 3.0)


def test_undefined_pareto_k_is_named_by_its_causes_not_too_few_draws():
    """QA113: every high k undefined (a stuck chain's repeated draws) read "Pareto k > 0.67
    (max 0.66, 54 of them undefined (too few draws for PSIS))", with more draws as the fix."""
    from bayesgmm.selection.pareto_k import high_k, pareto_warnings

    table = pd.DataFrame({"n_observations": [250, 250], "good_k": [0.67, 0.67],
                          "n_high": [54, 5], "n_very_high": [0, 1], "n_undefined": [54, 2],
                          "max_k": [0.66, 1.2]},
                         index=pd.Index(["K=3", "K=2"], name="model"))
    assert high_k(table.loc["K=3"]).startswith(
        "54 of its 250 observations have an undefined Pareto k (PSIS could not fit the tail "
        "of the importance ratios: too few distinct draws in it (a short run, or repeated "
        "draws, as a chain that stuck gives")
    assert "max 0.66" not in high_k(table.loc["K=3"])
    assert high_k(table.loc["K=2"]) == (
        "5 of its 250 observations have Pareto k > 0.67 (2 of them undefined, max 1.20), so its "
        "elpd_loo is unreliable (likely optimistic)")
    (warning,) = pareto_warnings(table)
    assert warning.startswith("Pareto k above 0.67 or undefined in K=3 (54 of 250 observations, "
                              "all undefined), K=2 (5 of 250 observations, 2 of them "
                              "undefined, max 1.20)")
    assert "too few draws for PSIS" not in warning
    assert "An undefined k: PSIS could not fit" in warning
    (plain,) = pareto_warnings(table.assign(n_undefined=[0, 0]))
    assert plain.startswith("Pareto k above 0.67 in K=3 (54 of 250 observations, max 0.66)")
    assert "undefined" not in plain


def test_sparse_advice_says_the_chains_disagree_only_when_r_hat_says_so():
    """QA113: "the chains disagree on how many components are filled" where only K+'s tail
    ESS failed and the chains' P(K+=2) were 0.97-0.99."""
    import types

    from bayesgmm.diagnostics import Check
    from bayesgmm.selection.sparse import _sparse_advice

    def advice(*failed):
        checks = [Check(name, 1.0, 1.0, False, name, "failed", where="n_nonempty")
                  for name in failed]
        diagnostics = types.SimpleNamespace(checks=checks, n_divergences=0)
        return _sparse_advice(diagnostics, 0.0, 6, 0.01, 500)["slow mixing"]

    assert "K+ has too few effective draws" in advice("min tail ESS")
    assert "disagree" not in advice("min tail ESS", "min bulk ESS")
    assert "the chains disagree on how many components are filled" in advice("max R-hat")


def test_the_loo_table_prints_thousands_separators():
    """QA: select's LOO table printed -1137.10 where the verdict below says -1,137.1."""
    rng = np.random.default_rng(4)
    base = rng.normal(-2.0, 0.3, size=600)
    sel = compare({"K=1": fake_fit(loglik_draws(rng, base - 0.2, n=600), 1),
                   "K=2": fake_fit(loglik_draws(rng, base, n=600), 2)})
    elpd = sel.comparison.loc["K=2", "elpd"]
    assert elpd < -1000 and f"{elpd:,.2f}" in str(sel)


def test_an_undefined_pareto_k_counts_as_unreliable():
    """Referee QA: with 40 draws in all PSIS left some k NaN; they were not counted as high,
    and the warning said "max nan"."""
    import types

    from bayesgmm.selection.pareto_k import high_k as _high_k
    from bayesgmm.selection.pareto_k import pareto_table, pareto_warnings

    k = np.array([0.2, np.nan, 0.9, np.nan, 0.1])
    table = pareto_table({"K=2": types.SimpleNamespace(pareto_k=k, good_k=0.7),
                          "K=3": types.SimpleNamespace(pareto_k=np.full(5, np.nan),
                                                       good_k=0.7)})
    assert table.loc["K=2", ["n_high", "n_undefined", "max_k"]].tolist() == [3, 2, 0.9]
    (warning,) = pareto_warnings(table)
    assert ("K=2 (3 of 5 observations, 2 of them undefined, max 0.90), K=3 (5 of 5 "
            "observations, all undefined)") in warning
    assert "nan" not in warning and "nan" not in _high_k(table.loc["K=3"])


def test_the_simplest_within_noise_counts_parameters_among_equal_k():
    """Referee QA: a tied and a full fit of the same K were equally "simple" (by K alone),
    so the order of the dict decided."""
    import types

    from bayesgmm.selection.loo_verdict import simplest

    def fit(k, p):
        return types.SimpleNamespace(n_components=k, em=types.SimpleNamespace(n_parameters=p))

    results = {"full3": fit(3, 17), "tied3": fit(3, 11), "full2": fit(2, 11)}
    assert simplest(("full3", "tied3"), results) == "tied3"
    assert simplest(("full3", "tied3", "full2"), results) == "full2"  # fewer K first


def test_fit_sparse_takes_any_numpy_seed_and_its_recorded_seed_repeats_k_plus(three_clusters):
    """Code review: a BitGenerator was refused after sampling, and with a Generator the K+
    count used another draw of it than the fit, so the recorded seed did not repeat P(K+)."""
    kw = dict(draws=60, tune=100, chains=2, progressbar=False)
    first = bayesgmm.fit_sparse(three_clusters, 3, random_state=np.random.PCG64(0), **kw)
    seed = first.result.settings["random_state"]
    again = bayesgmm.fit_sparse(three_clusters, 3, random_state=seed, **kw)
    np.testing.assert_array_equal(first.n_nonempty, again.n_nonempty)
    pd.testing.assert_series_equal(first.posterior_counts, again.posterior_counts)


def test_summarise_sparse_counts_the_rows_as_the_fit_saw_them(three_clusters, monkeypatch):
    """K+ counts the fitted rows with their weights and known labels (count_nonempty with X
    None, tested in test_selection_bayes_observations); summarise_sparse handed it the bare
    values, so a row of weight 0 or a labelled row counted as a plain row."""
    import bayesgmm.selection.sparse as sparse_module

    seen = []
    real = sparse_module.draw_assignments  # count_nonempty's work, with the log-likelihood

    def spy(result, X, random_state):
        seen.append(X)
        return real(result, X, random_state)

    monkeypatch.setattr(sparse_module, "draw_assignments", spy)
    summarise_sparse(overfitted_posterior(three_clusters), random_state=0)
    assert seen == [None]


def test_a_sparse_fit_with_a_collapsed_component_says_so_not_k_max_too_small(three_clusters):
    """QA: integer data (27 distinct values in 600 rows) gave K+ = K_max in every draw, and
    the advice "refit with a larger K_max", which only fills more spikes on tied values. The
    collapse is the cause named, alone (divergences and slow mixing are its symptoms)."""
    X = three_clusters.copy()
    X[:, 0] = np.round(X[:, 0])  # a rounded column: tied values
    fit = overfitted_posterior(X)
    cov = fit.idata["posterior"]["covariances"].values
    cov[:, :, 0] = np.diag([1e-12, 1.0])  # one component's sd on 'a' ~1e-6 of the data's
    sparse = summarise_sparse(fit, random_state=0)
    assert sparse.diagnostics.causes == ("collapsed component",)
    (advice,) = sparse.diagnostics.advice
    assert advice.startswith("collapsed component: component 0 collapses onto feature 'a'")
    assert "'a' looks rounded" in advice and "K+ counts such spikes as well as" in advice
    assert "refit with a larger K_max" not in advice
    assert "a component collapsed (onto tied values or a linear relation)" in sparse.caveat
    assert "K_max" not in sparse.caveat
    assert "likely cause: collapsed component" in sparse.diagnostics.verdict


def test_a_chosen_or_near_tied_cell_with_a_spike_is_named():
    """QA: galaxies' K=5 full, within 0.22 of BIC's best, rested on two 2-row components;
    only the report's table said so, not the console's notes. QA109: a spike is no choice
    now: AIC's lowest, a spike, is passed over, and a note says so and by how much."""
    from bayesgmm import load_galaxies
    from bayesgmm.selection.choice_notes import _spike_notes, best_line

    sel = select_em(load_galaxies(), range(1, 7), ["full"], random_state=1, n_jobs=1)
    spiky = [(k, ct) for (k, ct), fit in sel.fits.items()
             if any("spurious local maximum" in w for w in fit.warnings)]
    assert (5, "full") in spiky and not set(spiky) & set(sel.best.values())
    assert sel.table.set_index(["n_components", "covariance_type"]).loc[(5, "full"), "spike"]
    (passed,) = [n for n in sel.notes if "not eligible as best" in n]
    assert re.match(r"AIC: K=[56] full is \d+\.\d\d lower than K=4 full, but rests on a "
                    r"likely spurious spike", passed)
    # the note on chosen and near-tied spikes, and the mark on the Best line, where every
    # cell is one or the rule is waived (exclude_degenerate=False)
    (note,) = _spike_notes({(5, "full"), (3, "full")}, sel.fits)
    assert note.startswith("K=5 full: a component on barely the rows") and "K=3 full" not in note
    assert "weigh that cell's criteria" in note  # QA67: "that cell' criteria"
    assert best_line({"aic": (5, "full"), "bic": (3, "full")}, sel.fits) == (
        "AIC -> K=5 full (a likely spurious spike: see the note), BIC -> K=3 full")


@pytest.mark.parametrize("kind", ["map", "soft"])
def test_weighted_classification_entropy_is_the_entropy_of_the_expanded_rows(kind):
    """A weight of 3 counts a row three times in ICL's entropy, as in the criteria of the
    expanded data (select_em's weighted rows use this one routine)."""
    resp = np.random.default_rng(5).dirichlet(np.ones(3), size=7)
    weights = np.array([1, 3, 0, 2, 1, 1, 4])
    expanded = np.repeat(resp, weights, axis=0)
    assert classification_entropy(resp, kind, sample_weight=weights) == pytest.approx(
        classification_entropy(expanded, kind), rel=1e-12)


@pytest.mark.parametrize("n_models", [2, 3, 6])
def test_plot_loo_legend_stays_clear_of_the_x_label(n_models):
    """QA69: the legend under the axes touched the x label of a two-model figure (its offset
    was a fraction of the axes' height); in a figure of its own or in a given subplot."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    base = rng.normal(-2.0, 0.5, size=150)
    sel = compare({f"K={k}": fake_fit(loglik_draws(rng, base - 0.01 * k), k)
                   for k in range(2, 2 + n_models)})
    _, given = plt.subplots(2, 1, figsize=(6, 9), layout="constrained")
    for fig in (plot_loo(sel), plot_loo(sel, ax=given[0])):
        axis = fig.axes[0]
        fig.draw_without_rendering()  # the constrained layout done, as when saved
        label = axis.xaxis.label.get_window_extent()
        legend = axis.get_legend().get_window_extent()
        assert legend.y1 < label.y0  # wholly below the label (display y grows upwards)
        ticks = [t.get_window_extent() for t in axis.get_xticklabels() if t.get_text()]
        assert all(legend.y1 < t.y0 for t in ticks)
    plt.close("all")


def test_summarise_sparse_judges_collapse_by_the_models_scale(three_clusters, monkeypatch):
    """QA84: summarise_sparse (fit_sparse, select --sparse) judged collapse against the
    data's raw sd, not the model's standardisation (the false "collapsed" of 6cbd4bb)."""
    import types

    from bayesgmm import diagnostics

    fake = overfitted_posterior(three_clusters)
    fake.standardisation = types.SimpleNamespace(scale=np.array([2.5, 3.5]))
    seen = {}
    real_diagnose, real_collapsed = diagnostics.diagnose, diagnostics.collapsed_evidence

    def diagnose(*args, **kwargs):
        seen["diagnose"] = kwargs.get("data_scale")
        return real_diagnose(*args, **kwargs)

    def collapsed(post, observed=None, scale=None):
        seen["collapsed"] = scale
        return real_collapsed(post, observed, scale)

    monkeypatch.setattr(diagnostics, "diagnose", diagnose)
    monkeypatch.setattr(diagnostics, "collapsed_evidence", collapsed)
    summarise_sparse(fake, random_state=0)
    for name in ("diagnose", "collapsed"):
        np.testing.assert_array_equal(seen[name], fake.standardisation.scale)


def test_select_em_refuses_a_reg_covar_fit_em_refuses():
    """QA85: reg_covar=1e300, refused by fit_em, made select_em fit no cell, silently."""
    X = np.random.default_rng(0).normal(size=(60, 2))
    with pytest.raises(ValueError, match=r"reg_covar must be at most 1e\+150"):
        select_em(X, [1, 2], ["full"], reg_covar=1e300, n_jobs=1)
    with pytest.raises(ValueError, match="reg_covar must be"):
        select_em(X, [1, 2], ["full"], reg_covar=-1.0, n_jobs=1)


def test_rounded_data_are_named_as_the_cause_of_collapsed_cells():
    """QA91: 2,000 rows of two clusters on a 0.5 grid chose K=5 tied by every criterion, with
    no word of the rounding, and K=2 full (two coinciding components, K=1's log-likelihood)
    said so only in its table cell. The notes name the rounded column with its step and the
    cure, and the coinciding cell. The dequantised data collapse nowhere, and ICL chooses
    the two clusters (BIC, from 2 to 4 over jitter seeds: the narrow cluster, sd 0.1, is a
    box of width 0.5 once jittered, which no dequantisation can undo)."""
    rng = np.random.default_rng(5)
    z = rng.random(2000) < 0.3
    x = np.round(np.where(z, rng.normal(1.5, 0.1, 2000), rng.normal(0, 1, 2000)) / 0.5) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = select_em(x, range(1, 6), "all", random_state=0, n_jobs=1)
        notes = " ".join(sel.notes)
        assert ("'x0' (step 0.5) looks rounded (tied values on a grid), and components "
                "collapse onto tied values" in notes)
        assert "--dequantise x0=0.5" in notes
        assert ("K=2 full: components that nearly coincide (see the table's warnings), so "
                "that cell is a smaller K's fit under another name") in notes
        smooth = select_em(bayesgmm.dequantise(x, random_state=0), range(1, 6), "all",
                           random_state=0, n_jobs=1)
    assert smooth.best["icl"] == (2, "full") and not smooth.table["degenerate"].any()
    assert not any("rounded" in n for n in smooth.notes)


@pytest.mark.parametrize(("given", "unknown"), [("al", "['al']"), (["full", "Diag"], "['Diag']")])
def test_an_unknown_covariance_type_is_named_in_covariance_types_words(given, unknown):
    """QA92: select_em(X, [1, 2], "al") was told "covariance_type must be one of ...",
    the fit's parameter, with no word of 'all'."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError) as info:
        select_em(X, [1, 2], given)
    assert str(info.value) == (f"covariance_types: unknown type(s) {unknown}; give 'all' or "
                               "any of full, tied, diag, spherical")


def test_select_em_refuses_singular_columns_and_reads_pandas_na():
    """QA99: a constant or duplicated column was fitted silently (BIC -567, where the data
    without it gave about +1000), which fit_bayes and `bayesgmm select` refuse; a Float64
    column holding pd.NA was refused with "missing='marginalise'" (already the default)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    X[:, 2] = 5.0
    with pytest.raises(ValueError, match=r"'x2' are constant; .*leave the column\(s\) named "
                                         r"out of X\)$"):
        select_em(X, [1, 2])
    X[:, 2] = X[:, 1]
    with pytest.raises(ValueError, match=r"'x1' and 'x2' are identical; .*covariance_types="
                                         r"\['diag', 'spherical'\]"):
        select_em(X, [1, 2])
    assert select_em(X, [1, 2], covariance_types=["diag"]).best["bic"][1] == "diag"
    frame = pd.DataFrame(rng.normal(size=(100, 2)), columns=["a", "b"]).astype("Float64")
    frame.iloc[3, 0] = pd.NA
    chosen = select_em(frame, [1, 2], random_state=0)
    assert chosen.fits[(1, "full")].observations["n_missing_values"] == 1


def test_select_em_judges_the_columns_on_the_rows_that_weigh():
    """QA100 M2: a column constant over the rows of positive weight (the others weigh 0) was
    fitted without a word (BIC -531)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 2))
    X[:50, 1] = 3.0
    weights = np.r_[np.ones(50), np.zeros(50)]
    with pytest.raises(ValueError, match="'x1' are constant"):
        select_em(X, [1, 2], sample_weight=weights)
    select_em(X, [1, 2], sample_weight=np.ones(100))  # every row weighs: not constant


def test_one_feature_types_of_one_model_give_one_fit(galaxies):
    """QA105: at D = 1 diag and spherical are full's model, yet each type's cell was seeded
    by its own name: BIC 446.59, 443.39 and 443.41 for one model, by chance."""
    bics = {ct: select_em(galaxies, [4], covariance_types=[ct], random_state=1000,
                          n_init=2).table["bic"].item()
            for ct in ("full", "diag", "spherical")}
    assert bics["diag"] == bics["full"] and bics["spherical"] == bics["full"]


def test_a_likely_spurious_spike_is_not_eligible_as_best_and_the_note_says_so():
    """QA109: two clusters, N = 15: BIC, AIC and ICL named K=3 diag best, a cell the sweep
    itself called a likely spurious spike (a component on 2 rows); ``best`` and
    ``best_fit`` returned it. It is now passed over, as a degenerate cell is, and a note says
    by how much and how to allow it."""
    rng = np.random.default_rng(7)
    z = rng.random(15) < 0.4
    X = np.column_stack([np.where(z, rng.normal(2, .5, 15), rng.normal(5, .6, 15)),
                         np.where(z, rng.normal(20, 3, 15), rng.normal(32, 4, 15))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = select_em(X, range(1, 5), n_jobs=1, random_state=1)
        allowed = select_em(X, range(1, 5), n_jobs=1, random_state=1,
                            exclude_degenerate=False)
    table = sel.table.set_index(["n_components", "covariance_type"])
    spiky = set(table.index[table["spike"]])
    assert spiky and not spiky & set(sel.best.values())
    assert all(table.loc[cell, "warnings"].count("spurious local maximum") for cell in spiky)
    passed_over = {c for c, cell in allowed.best.items() if cell in spiky}
    assert passed_over  # without the rule a spike is chosen (the QA's case)
    for criterion in passed_over:
        k, ct = allowed.best[criterion]
        (note,) = [n for n in sel.notes if n.startswith(f"{criterion.upper()}: K={k} {ct} is ")]
        assert "lower than K=" in note and "likely spurious spike" in note
        assert "exclude_degenerate=False lets it be" in note
    assert sel.best_fit() is sel.fits[sel.best["bic"]]
    assert "likely spurious spike(s)" in repr(sel)
    # print() marks a spike at its numbers and names it under the tables, as the report does
    # (QA114 L1)
    printed = str(sel)
    (footnote,) = [line for line in printed.splitlines()
                   if line.startswith("  \u2020 a likely spurious spike")]
    for k, ct in spiky:
        assert f"K={k} {ct}" in footnote
        assert f"{table.loc[(k, ct), 'bic']:,.2f}\u2020" in printed
    # a table made before the spike column still prints (its cells judged degenerate only)
    assert "\u2020 a likely spurious spike" not in str(
        dataclasses.replace(sel, table=sel.table.drop(columns="spike")))
    assert "spike" not in repr(dataclasses.replace(sel, table=sel.table.drop(columns="spike")))


def test_a_cells_fit_records_the_seed_that_repeats_it_alone(old_faithful):
    """QA112: a saved select_em cell recorded "a NumPy SeedSequence (not recordable)", and
    neither the root seed nor the cell: it could not be repeated from its own record."""
    sel = select_em(old_faithful, [2, 3], ["full"], random_state=5, n_jobs=1)
    fit = sel.fits[(3, "full")]
    recorded = fit.settings["random_state"]
    assert recorded == "np.random.SeedSequence(5, spawn_key=(0, 3, 0))"
    again = fit_em(old_faithful, 3, random_state=eval(recorded, {"np": np}),
                   n_init=fit.settings["n_init"], init=tuple(fit.settings["init"]))
    np.testing.assert_array_equal(again.means, fit.means)


def test_no_grid_edge_warning_when_every_model_has_the_same_k():
    """QA124 L3: compare() of K=2 full/tied/diag/spherical warned that full "has the largest
    K compared: a larger K may predict better still": with one K there is no K grid."""
    from types import SimpleNamespace

    from bayesgmm.selection.loo_verdict import grid_edge_warning

    same = {name: SimpleNamespace(n_components=2) for name in ("full", "tied", "diag")}
    assert grid_edge_warning("full", same) == []
    grid = {"K=2": SimpleNamespace(n_components=2), "K=3": SimpleNamespace(n_components=3)}
    assert "K=3 has the largest K compared" in grid_edge_warning("K=3", grid)[0]


# QA125: mutants that survived the tests mirroring their module, killed here

# S1, S4: select_em's criteria on the weighted path equal EMResult.aic / .bic with the weights
# (frequency weights: N = the sum of the weights, p counted twice in AIC).
def test_weighted_selection_criteria_equal_the_fits_own():
    from bayesgmm.selection.criteria import _criteria_row
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    X[:40] += 5
    w = rng.integers(1, 4, size=80).astype(float)
    fit = fit_em(X, 2, sample_weight=w, random_state=0)
    row = _criteria_row(fit, X, w)
    assert row["aic"] == pytest.approx(fit.aic(X, w), rel=1e-10)
    assert row["bic"] == pytest.approx(fit.bic(X, w), rel=1e-10)


# L2: "indistinguishable when |elpd_diff| < max(min_elpd_diff, n_se * dse)" (compare's
# docstring): a difference equal to the bound is distinguishable.
def test_an_elpd_difference_equal_to_the_bound_is_distinguishable():
    from bayesgmm.selection.loo_verdict import indistinguishable
    table = pd.DataFrame({"elpd_diff": [0.0, 4.0, 3.9, 6.0, 5.9], "dse": [0.0, 1.0, 1.0, 3.0, 3.0]})
    np.testing.assert_array_equal(indistinguishable(table, 4.0, 2.0),
                                  [False, False, True, False, True])


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (4, 5)])
def test_a_tied_fit_of_fewer_degrees_of_freedom_than_dimensions_is_degenerate(shape):
    """QA144 L1: K=1 tied on N <= D rows is the K=1 full fit (the same numbers), which is
    degenerate; tied was not, and select_em chose it. The shared covariance has N - K
    degrees of freedom: fewer than D, it is singular, whatever K."""
    from bayesgmm.em import is_degenerate

    X = np.random.default_rng(0).normal(size=shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tied, full = (fit_em(X, 1, covariance_type=ct, random_state=0)
                      for ct in ("tied", "full"))
    assert tied.log_likelihood == pytest.approx(full.log_likelihood, rel=1e-9)
    assert is_degenerate(tied, X) and is_degenerate(full, X)
    with pytest.warns(DegenerateComponentWarning, match=r"N - K = \d degrees of freedom, "
                      r"fewer than its D = \d dimensions"):
        fit_em(X, 1, covariance_type="tied", random_state=0)


def test_a_tied_fit_with_as_many_degrees_of_freedom_as_dimensions_is_proper():
    """The tied rule's edge: N - K = D is a non-singular shared covariance (and one row
    fewer is not)."""
    from bayesgmm.em import is_degenerate

    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 4)) + np.repeat([[0.0], [20.0]], 3, axis=0)  # N - K = 4 = D
    assert not is_degenerate(fit_em(X, 2, covariance_type="tied", random_state=0), X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short = fit_em(X[1:], 2, covariance_type="tied", random_state=0)
    assert is_degenerate(short, X[1:])


def test_sweep_workers_in_threads_restore_the_process_blas_limits_in_any_order(monkeypatch):
    """QA145 M1: two thread workers left single_threaded out of order (A in, B in, A out,
    B out), and B restored the one-thread limit A had set: the process's BLAS kept one
    thread for good. The process-wide limit is now set by the first worker in and restored
    by the last one out (threadpoolctl stood in for by a recorder: OpenBLAS's own count
    read from threads is no reliable witness)."""
    import threading

    from bayesgmm.selection import sweep

    calls = []

    class Limits:
        def __init__(self, limits):
            calls.append(("limit", limits))

        def restore_original_limits(self):
            calls.append(("restore",))

    class Controller:
        def limit(self, limits):
            return Limits(limits)

    monkeypatch.setattr(sweep, "_threadpools", Controller)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with sweep.single_threaded():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with sweep.single_threaded():
            b_in.set()
            a_out.wait(10)
            seen["while B works"] = list(calls)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["while B works"] == [("limit", 1)]  # A's leaving restored nothing
    assert calls == [("limit", 1), ("restore",)]


def test_a_component_spent_on_outliers_is_grouped_with_no_cluster():
    """QA159 M1: select_em chose K=3 (two clusters and a 3% background) and its only note
    called the background "one group" with a cluster, a shape to transform away; EM's own
    check names such components (settings far_components), and the note leaves them out and
    names the noise component."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([0, 0], 1, (200, 2)), rng.normal([3.5, 0], 1, (200, 2)),
                   rng.uniform(-40, 40, (12, 2))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = select_em(X, [2, 3], "full", random_state=0, n_jobs=1)
    k, covariance_type = sel.best["bic"]
    far = sel.fits[(k, covariance_type)].settings.get("far_components")
    assert far, "the chosen fit spent no component on the outliers: the case tests nothing"
    (note,) = [n for n in sel.notes if "left out of any grouping" in n]
    assert note.startswith(f"K={k} full's component {far[0]}")
    assert "noise=True" in note
    assert not any(f"components {far[0]} and" in n or f"and {far[0]}" in n
                   for n in sel.notes if "one group" in n)


def test_fit_sparse_refuses_and_warns_before_sampling(monkeypatch):
    """QA163 M2, L2-L4: e0 = 4 sampled without a word (the prior alone fills K_max); a
    priors dict failed in dataclasses; a Priors' own e0 was replaced silently; K_max above
    the rows was called n_components. All said before any sampling."""
    from bayesgmm import Priors, fit_sparse

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled")

    X = np.random.default_rng(0).normal(size=(300, 2))
    # fit_bayes refuses it before sampling, in K_max's name, rows dropped counted (QA166)
    gappy = X[:8].copy()
    gappy[:4, 0] = np.nan
    with pytest.raises(ValueError, match=r"^X has 4 point\(s\) \(4 row\(s\) left out for "
                                         r"missing values\), fewer than max_components=6; .*"
                                         r"give max_components at most 4$"):
        fit_sparse(gappy, 6, missing="drop", progressbar=False)
    monkeypatch.setattr("bayesgmm.sampling.fit_bayes", no_sampling)
    with pytest.raises(ValueError, match=r"^priors must be a bayesgmm\.Priors; got dict: pass "
                                         r"bayesgmm\.Priors\(\*\*your_dict\)$"):
        fit_sparse(X, priors={"sd_median": 1.0})
    with pytest.warns(UserWarning, match=r"priors\.weights_concentration = 0\.1 is replaced by "
                                         r"fit_sparse's concentration = 0\.01"), \
            pytest.raises(AssertionError, match="sampled"):
        fit_sparse(X, 6, priors=Priors(weights_concentration=0.1))
    with pytest.warns(UserWarning, match=r"^concentration e0 = 4 is no sparse prior for K_max "
                                         r"= 6 and 300 rows: .* probability 1\.00"), \
            pytest.raises(AssertionError, match="sampled"):
        fit_sparse(X, 6, concentration=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default e0: no warning
        with pytest.raises(AssertionError, match="sampled"):
            fit_sparse(X, 6)

