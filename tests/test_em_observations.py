"""EM with missing values, frequency weights, known labels and a noise component (issue 14)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import COVARIANCE_TYPES

from bayesgmm import covariance, fit_em
from bayesgmm.em import DegenerateComponentWarning
from bayesgmm.formatting import format_number
from bayesgmm.observations import prepare_observations


def _holes(X, fraction, seed):
    rng = np.random.default_rng(seed)
    holes = rng.random(X.shape) < fraction
    holes[holes.all(axis=1), 0] = False
    Xm = X.copy()
    Xm[holes] = np.nan
    return Xm


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_missing_values_em_never_decreases_and_stays_near_complete_fit(simulated,
                                                                         covariance_type):
    X, _, _ = simulated
    complete = fit_em(X, 3, covariance_type=covariance_type, random_state=0)
    Xm = _holes(X, 0.1, seed=1)
    fit = fit_em(Xm, 3, covariance_type=covariance_type, init=complete, max_iter=200)
    assert np.all(np.diff(fit.history) >= -1e-8 * np.abs(fit.history[:-1]))
    assert fit.observations["n_missing_values"] == int(np.isnan(Xm).sum())
    # same components, close estimates (10% of values missing at random)
    np.testing.assert_allclose(fit.means, complete.means, atol=0.25)
    np.testing.assert_allclose(fit.weights, complete.weights, atol=0.03)
    # the log-likelihood is that of the observed values at the fitted parameters
    assert fit.score_samples(Xm).sum() == pytest.approx(fit.log_likelihood, rel=1e-10)


def test_missing_policies(simulated):
    X, _, _ = simulated
    Xm = _holes(X, 0.05, seed=2)
    Xm[7] = np.nan  # a row with nothing observed
    complete_rows = ~np.isnan(Xm).any(axis=1)
    dropped = fit_em(Xm, 3, missing="drop", random_state=0)
    direct = fit_em(Xm[complete_rows], 3, random_state=0)
    np.testing.assert_array_equal(dropped.means, direct.means)
    assert dropped.observations["n_rows_dropped"] == int((~complete_rows).sum())
    marg = fit_em(Xm, 3, random_state=0)
    assert marg.observations["n_rows_dropped"] == 1
    assert marg.observations["n_rows_fitted"] == X.shape[0] - 1
    with pytest.raises(ValueError, match="NaN.*missing='marginalise'"):
        fit_em(Xm, 3, missing="refuse")


def test_no_missing_values_is_exactly_the_complete_data_fit(simulated):
    X, _, _ = simulated
    a = fit_em(X, 3, random_state=0)
    b = fit_em(X, 3, random_state=0, missing="refuse")
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(a.history, b.history)


@pytest.mark.filterwarnings("ignore::bayesgmm.em.ConvergenceWarning")  # tol=0: fixed steps
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("missing", [False, True])
def test_weights_equal_replicated_rows(simulated, covariance_type, missing):
    X, _, _ = simulated
    X = _holes(X[:200], 0.1, seed=3) if missing else X[:200]
    counts = np.random.default_rng(4).integers(0, 4, size=X.shape[0])
    start = fit_em(np.nan_to_num(X, nan=0.0), 3, covariance_type=covariance_type,
                   random_state=0)
    weighted = fit_em(X, 3, covariance_type=covariance_type, init=start,
                      sample_weight=counts, tol=0, atol=0, max_iter=30)
    expanded = fit_em(np.repeat(X, counts, axis=0), 3, covariance_type=covariance_type,
                      init=start, tol=0, atol=0, max_iter=30)
    np.testing.assert_allclose(weighted.means, expanded.means, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(weighted.covariances, expanded.covariances, rtol=1e-10)
    assert weighted.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_all_labelled_is_the_per_group_closed_form(simulated, covariance_type):
    X, labels, _ = simulated
    fit = fit_em(X, 3, covariance_type=covariance_type, labels=labels, reg_covar=0.0)
    assert fit.converged and fit.n_iter <= 2
    N, D = X.shape
    counts = np.bincount(labels, minlength=3)
    np.testing.assert_allclose(fit.weights, counts / N, rtol=1e-12)
    means = np.array([X[labels == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(fit.means, means, rtol=1e-10, atol=1e-12)
    scatter = np.array([np.cov(X[labels == k].T, bias=True) * counts[k] for k in range(3)])
    expected = {
        "full": scatter / counts[:, None, None],
        "tied": scatter.sum(axis=0) / N,
        "diag": np.diagonal(scatter, axis1=1, axis2=2) / counts[:, None],
        "spherical": np.trace(scatter, axis1=1, axis2=2) / (counts * D),
    }[covariance_type]
    np.testing.assert_allclose(fit.covariances, expected, rtol=1e-10)
    # prediction then classifies new points (discriminant analysis)
    assert np.mean(fit.predict(X) == labels) > 0.95


def test_partly_labelled_points_keep_their_component(simulated):
    X, labels, _ = simulated
    known = np.where(np.arange(X.shape[0]) % 10 == 0, labels, -1)
    fit = fit_em(X, 3, labels=known, random_state=0)
    # the components are the labels' components (no relabelling needed)
    truth = np.array([X[labels == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(fit.means, truth, atol=0.3)
    assert fit.observations["n_labelled"] == int((known >= 0).sum())


def test_noise_component_recovers_the_background_fraction():
    rng = np.random.default_rng(5)
    n_gauss, n_noise = 800, 200
    X = np.vstack([rng.normal([0, 0], 0.5, size=(n_gauss // 2, 2)),
                   rng.normal([5, 5], 0.5, size=(n_gauss // 2, 2)),
                   rng.uniform(-5, 10, size=(n_noise, 2))])
    fit = fit_em(X, 2, noise=True, random_state=0)
    # the noise weight: the uniform points plus the box's share; within a few % of 0.2
    assert fit.noise_weight == pytest.approx(0.2, abs=0.04)
    assert fit.weights.sum() + fit.noise_weight == pytest.approx(1.0)
    proba = fit.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    assert np.mean(proba[n_gauss:, 2] > 0.5) > 0.8
    assert np.mean(fit.predict(X)[:n_gauss] >= 0) > 0.97
    # K(D + D(D+1)/2) + K - 1, + the noise weight and its volume (the data's box), as
    # mclust's nMclustParams(..., noise = TRUE) counts them (QA: mclust's df 13 on faithful)
    assert fit.n_parameters == 2 * (2 + 3) + 1 + 1 + 1
    # a volume given is no parameter
    given = fit_em(X, 2, noise=True, noise_volume=225.0, random_state=0)
    assert given.n_parameters == 2 * (2 + 3) + 1 + 1 and given.noise_volume_given
    # results saved before the record kept the volume (no key) had no box when given one
    import dataclasses

    record = {k: v for k, v in given.observations.items() if k != "noise_volume"}
    old = dataclasses.replace(given, observations=record, noise_bounds=None)
    assert old.n_parameters == given.n_parameters and old.noise_volume_given
    old_box = dataclasses.replace(fit, observations={
        k: v for k, v in fit.observations.items() if k != "noise_volume"})
    assert old_box.n_parameters == fit.n_parameters and not old_box.noise_volume_given
    draws, which = fit.sample(500, random_state=0)
    assert (which == -1).mean() == pytest.approx(fit.noise_weight, abs=0.06)
    # with no noise in the data the noise weight is near 0
    clean = fit_em(X[:n_gauss], 2, noise=True, random_state=0)
    assert clean.noise_weight < 0.01


def _gross_outliers():
    """Two clusters of 30 rows, two rows x1000 and a few gaps (QA's nan_out.csv, rebuilt)."""
    rng = np.random.default_rng(7)
    X = np.r_[rng.normal([0.0, 0.0], 0.9, (30, 2)), rng.normal([5.3, 3.0], 0.9, (30, 2))]
    X[[5, 45]] *= 1000
    X[[2, 17, 33], [0, 1, 0]] = np.nan
    return X


@pytest.mark.parametrize("prior", [None, "default"])
def test_gross_outliers_go_to_the_noise_not_to_a_gaussian(prior):
    """QA (messy files): with --noise, rows x1000 took a Gaussian of their own (k-means++
    started one there) and the data-scaled prior, inflated by them, merged the two real
    clusters into the other: log-likelihood -450 against -230. Isolated rows now start in the
    noise component and are left out of the priors' data scale."""
    X = _gross_outliers()
    fit = fit_em(X, 2, noise=True, prior=prior, random_state=1, n_init=10)
    means = fit.means[np.argsort(fit.means[:, 0])]
    np.testing.assert_allclose(means, [[0.0, 0.0], [5.3, 3.0]], atol=0.6)
    assert fit.predict(X[[5, 45]]).tolist() == [-1, -1]
    obs = prepare_observations(X, 2, noise=True)
    assert np.flatnonzero(obs.isolated).tolist() == [5, 45]
    assert len(obs.prior_rows) == 60 - 2 - 3  # complete rows, the isolated left out
    # without a noise component nothing is isolated and the start rows are unchanged
    plain = prepare_observations(X, 2)
    assert not plain.isolated.any() and len(plain.prior_rows) == len(plain.start_rows) == 57


def test_the_posterior_start_with_noise_finds_the_clusters_past_gross_outliers():
    from bayesgmm.priors import Priors
    from bayesgmm.sampling import _check_or_fit_em

    X = _gross_outliers()
    obs = prepare_observations(X, 2, noise=True)
    start = _check_or_fit_em(None, obs, 2, "full", Priors(), 1)
    assert all(c.log_likelihood > -260 for c in start.candidates)  # -450 when merged
    np.testing.assert_allclose(np.sort(start.means[:, 0]), [0.0, 5.3], atol=0.6)


def test_rows_with_missing_values_predict_from_observed(simulated):
    X, _, _ = simulated
    fit = fit_em(X, 3, random_state=0)
    Xm = X[:20].copy()
    Xm[::2, 1] = np.nan
    proba = fit.predict_proba(Xm)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[1::2], fit.predict_proba(X[:20][1::2]), rtol=1e-12)
    # a row missing its second value has the density of the first under the 1-D marginal
    one = fit.score_samples(Xm[:1])
    direct = np.log(sum(w * np.exp(-0.5 * (Xm[0, 0] - m[0]) ** 2 / c[0, 0])
                        / np.sqrt(2 * np.pi * c[0, 0])
                        for w, m, c in zip(fit.weights, fit.means, fit.full_covariances,
                                           strict=True)))
    assert one[0] == pytest.approx(direct, rel=1e-12)
    # rows with nothing observed: density 1 each (log 0), even when no row has a value
    np.testing.assert_array_equal(fit.score_samples(np.full((2, 2), np.nan)), [0.0, 0.0])
    with pytest.raises(ValueError, match="no row with an observed value"):
        fit.score(np.full((2, 2), np.nan))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sample_weight": -np.ones(10)}, "non-negative"),
    ({"sample_weight": np.zeros(10)}, "must not be all zero"),
    ({"sample_weight": np.r_[np.nan, np.ones(9)]}, "finite"),
    ({"labels": np.full(10, 5)}, r"labels must be in -1\.\.2"),
    ({"labels": np.array(["a"] * 10)}, "encode_labels"),
    ({"labels": np.zeros(3, int)}, "one value per row"),
    ({"missing": "impute"}, "missing must be one of"),
    ({"noise_volume": 2.0}, "noise is off"),
    ({"noise": True, "noise_volume": 0.0}, "positive finite"),
])
def test_bad_observation_arguments_fail_in_one_line(kwargs, match):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=match) as info:
        fit_em(X, 3, **kwargs)
    assert "\n" not in str(info.value)


def test_noise_box_of_zero_volume_is_refused():
    X = np.c_[np.random.default_rng(0).normal(size=10), np.ones(10)]
    with pytest.raises(ValueError, match="zero volume.*'x1'"):
        prepare_observations(X, 2, noise=True)


def test_column_with_no_observed_value_is_refused():
    X = np.random.default_rng(0).normal(size=(10, 2))
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match="no observed value"):
        fit_em(X, 2)


def test_full_covariance_shapes_unchanged_by_noise(simulated):
    X, _, _ = simulated
    fit = fit_em(X, 3, noise=True, random_state=0)
    assert fit.weights.shape == (3,)
    assert covariance.to_full(fit.covariances, "full", 3, 2).shape == (3, 2, 2)


def test_save_and_load_keep_noise_and_the_observations_record(simulated, tmp_path):
    import bayesgmm

    X, _, _ = simulated
    Xm = _holes(X, 0.05, seed=6)
    fit = fit_em(Xm, 3, noise=True, random_state=0)
    back = bayesgmm.load(fit.save(tmp_path / "em"))
    assert back.noise_weight == fit.noise_weight
    assert back.noise_log_density == fit.noise_log_density
    np.testing.assert_array_equal(back.noise_bounds, fit.noise_bounds)
    assert back.observations == fit.observations
    np.testing.assert_array_equal(back.predict_proba(Xm), fit.predict_proba(Xm))
    plain = bayesgmm.load(fit_em(X, 3, random_state=0).save(tmp_path / "plain"))
    assert not plain.noise and plain.noise_weight == 0.0


def test_map_em_with_noise_tracks_the_log_posterior(simulated):
    X, _, _ = simulated
    fit = fit_em(X, 3, noise=True, prior="default", random_state=0)
    assert np.all(np.diff(fit.history) >= -1e-8 * np.abs(fit.history[:-1]))
    weights = np.append(fit.weights, fit.noise_weight)
    expected = fit.log_likelihood + fit.prior.log_density(weights, fit.means, fit.covariances)
    assert fit.log_posterior == pytest.approx(expected, rel=1e-12)


def test_impute_is_the_conditional_mean():
    """One component: the conditional mean of a bivariate normal, in closed form."""
    rng = np.random.default_rng(7)
    cov = np.array([[2.0, 1.2], [1.2, 1.5]])
    X = rng.multivariate_normal([1.0, -2.0], cov, size=400)
    fit = fit_em(X, 1)
    Xm = X[:5].copy()
    Xm[:, 1] = np.nan
    mu, S = fit.means[0], fit.covariances[0]
    expected = mu[1] + S[1, 0] / S[0, 0] * (Xm[:, 0] - mu[0])
    np.testing.assert_allclose(fit.impute(Xm)[:, 1], expected, rtol=1e-12)
    np.testing.assert_array_equal(fit.impute(Xm)[:, 0], Xm[:, 0])
    np.testing.assert_array_equal(fit.impute(X[:5]), X[:5])


def test_impute_with_mixture_weights_memberships(simulated):
    X, labels, _ = simulated
    fit = fit_em(X, 3, random_state=0)
    Xm = X[:50].copy()
    Xm[::3, 0] = np.nan
    filled = fit.impute(Xm)
    assert not np.isnan(filled).any()
    # well-separated clusters: the imputed value is close to its own component's regression
    err = np.abs(filled[::3, 0] - X[:50:3, 0])
    assert np.median(err) < 1.5


def test_labels_start_from_the_agreeing_partition(simulated):
    """k-means numbers its clusters arbitrarily; the start follows the labels' numbering, so
    EM does not have to pull each labelled group out of the wrong component."""
    X, labels, _ = simulated
    known = np.where(np.arange(X.shape[0]) % 30 == 0, labels, -1)
    for seed in range(4):
        permuted = fit_em(X, 3, labels=(known + 1) % 3 * (known >= 0) - (known < 0),
                          random_state=seed)
        plain = fit_em(X, 3, labels=known, random_state=seed)
        assert permuted.n_iter <= plain.n_iter + 3
        assert permuted.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-8)


def test_noise_with_missing_values_uses_the_box_marginal(simulated):
    """A row missing a coordinate is scored against the box's density of the others."""
    from scipy.stats import multivariate_normal

    X, _, _ = simulated
    Xm = _holes(X, 0.05, seed=8)
    fit = fit_em(Xm, 3, noise=True, random_state=0)
    assert np.all(np.diff(fit.history) >= -1e-8 * np.abs(fit.history[:-1]))
    lower, upper = fit.noise_bounds
    row = np.flatnonzero(np.isnan(Xm[:, 1]))[0]
    x = Xm[row, 0]
    terms = [np.log(w) + multivariate_normal(m[0], c[0, 0]).logpdf(x)
             for w, m, c in zip(fit.weights, fit.means, fit.full_covariances, strict=True)]
    expected = np.logaddexp.reduce(terms + [np.log(fit.noise_weight)
                                            - np.log(upper[0] - lower[0])])
    assert fit.score_samples(Xm[row:row + 1])[0] == pytest.approx(expected, rel=1e-12)
    assert fit.score_samples(Xm).sum() == pytest.approx(fit.log_likelihood, rel=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_criteria_take_the_fit_weights_and_skip_empty_rows(simulated, covariance_type):
    """bic/aic/score with the fit's weights equal them on the replicated rows; a row with
    nothing observed (dropped by the fit) is left out instead of refused."""
    X = simulated[0][:150]
    g = np.random.default_rng(0).integers(1, 4, size=X.shape[0])
    fit = fit_em(X, 2, covariance_type=covariance_type, sample_weight=g, random_state=0)
    repeated = np.repeat(X, g, axis=0)
    assert fit.bic(X, sample_weight=g) == pytest.approx(fit.bic(repeated), rel=1e-12)
    assert fit.aic(X, sample_weight=g) == pytest.approx(fit.aic(repeated), rel=1e-12)
    assert fit.score(X, sample_weight=g) == pytest.approx(fit.score(repeated), rel=1e-12)
    holed = np.vstack([X, np.full((1, X.shape[1]), np.nan)])
    assert fit.bic(holed) == pytest.approx(fit.bic(X), rel=1e-12)
    assert fit.score(holed) == pytest.approx(fit.score(X), rel=1e-12)


def test_a_masked_entry_is_a_missing_value(simulated):
    X = simulated[0][:100].copy()
    X[3, 1] = 1e6  # what the mask hides must not be fitted
    masked = np.ma.masked_array(X, mask=np.zeros_like(X, bool))
    masked.mask[3, 1] = True
    fit = fit_em(masked, 2, random_state=0)
    assert fit.observations["n_missing_values"] == 1
    assert np.abs(fit.means).max() < 100
    assert masked.data[3, 1] == 1e6 and masked.mask[3, 1]  # the caller's array untouched


@pytest.mark.parametrize("weights, match", [
    (["1"] * 100, "must hold real numbers"),
    (np.ones(100, bool), "must hold real numbers"),
    (np.ones((100, 1)), "one-dimensional"),
])
def test_sample_weight_must_be_numbers_in_one_column(simulated, weights, match):
    with pytest.raises(ValueError, match=match):
        fit_em(simulated[0][:100], 2, sample_weight=weights)


@pytest.mark.parametrize("scale", [1e-15, 1e-300, 1 / 100])
def test_weights_counting_fewer_than_two_rows_are_refused(simulated, scale, tmp_path):
    """QA64: weights of 1e-15 moved EM's means and 1e-20 left them at 0, each "converged";
    weights summing to 1 (probabilities) were taken for one row. Frequency weights count
    rows: fewer than two rows' worth is refused, naming the rescaling; from two rows up the
    estimate does not depend on the weights' scale."""
    from bayesgmm.io import read_data

    X = simulated[0][:100]
    message = r"sample_weight sum to .*: frequency weights count rows .*\(w \* N / w\.sum\(\)\)"
    with pytest.raises(ValueError, match=message):
        fit_em(X, 2, sample_weight=np.full(100, scale))
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(w=scale)
    frame.to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(ValueError, match=r"the weights column 'w' of .* sum to"):
        read_data(tmp_path / "w.csv", weights="w")
    fit_em(X, 2, sample_weight=np.full(100, 0.02), n_init=1)  # sums to 1.9999999999999998
    ones = fit_em(X, 2, random_state=0, n_init=2)
    scaled = fit_em(X, 2, random_state=0, n_init=2, sample_weight=np.full(100, 0.2))
    np.testing.assert_allclose(scaled.means, ones.means, rtol=1e-6)


def test_criteria_need_a_weighted_row_with_data(simulated):
    X = simulated[0][:50].copy()
    X[0] = np.nan
    fit = fit_em(X, 2, random_state=0)
    weights = np.zeros(50)
    weights[0] = 1.0  # the only weight is on the row with nothing observed
    for criterion in (fit.score, fit.bic, fit.aic):
        with pytest.raises(ValueError, match="zero on every row with an observed value"):
            criterion(X, sample_weight=weights)


def test_criteria_of_a_weighted_fit_without_its_weights_warn(simulated):
    X = simulated[0][:100]
    weights = np.random.default_rng(0).integers(1, 4, 100).astype(float)
    fit = fit_em(X, 2, sample_weight=weights, random_state=0)
    for criterion in (fit.bic, fit.aic):
        with pytest.warns(UserWarning, match=r"this fit was weighted .* got no weights"):
            criterion(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit.bic(X, weights), fit.aic(X, weights)
        fit_em(X, 2, random_state=0).bic(X)  # an unweighted fit: nothing to say


# --------------------------------------------------------------------------------------------
# what a user's table brings: pandas indexes, NaN labels, rows with nothing observed
# --------------------------------------------------------------------------------------------
def test_pandas_weights_and_labels_are_matched_by_index(simulated):
    """A Series is matched to X's rows by its index (pandas' own rule), not by position;
    an index that names other rows is refused."""
    pd = pytest.importorskip("pandas")
    X, z, _ = simulated
    df = pd.DataFrame(X, columns=["a", "b"], index=np.arange(len(X))[::-1] + 1000)
    w = pd.Series(np.where(z == 0, 3.0, 1.0), index=df.index)
    labels = pd.Series(np.where(np.arange(len(X)) < 20, z, -1), index=df.index)
    in_order = fit_em(df, 3, sample_weight=w, labels=labels, random_state=0)
    shuffled = fit_em(df, 3, sample_weight=w.sample(frac=1, random_state=0),
                      labels=labels.sample(frac=1, random_state=1), random_state=0)
    assert shuffled.log_likelihood == pytest.approx(in_order.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(shuffled.weights, in_order.weights, rtol=1e-10)
    with pytest.raises(ValueError, match=r"index does not match X's rows \(e\.g\. 0 is not"):
        fit_em(df, 3, sample_weight=pd.Series(np.ones(len(X))))
    # positional values stay positional, and a bic of the same data agrees with the fit's
    assert in_order.bic(df, sample_weight=w.sample(frac=1, random_state=2),
                        labels=labels) == pytest.approx(
        in_order.bic(df, sample_weight=w.to_numpy(), labels=labels.to_numpy()), rel=1e-12)
    # X indexed by its positions only: of X's own frame (a reorder pandas matches) or of a
    # scaler's output (renamed rows, QA140 H1): matched by index, and said (QA141 M3: a
    # refusal stopped the legitimate reorder)
    positions = pd.DataFrame(X, columns=["a", "b"])
    w0 = pd.Series(np.where(z == 0, 3.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_em(positions, 3, sample_weight=w0, random_state=0)  # the same order: silent
    shuffled = w0.sample(frac=1, random_state=0)
    with pytest.warns(UserWarning, match=r"^sample_weight is a pandas Series in another order "
                                         r"than X's rows, matched to them by its index .*"
                                         rf"positions 0\.\.{len(X) - 1}: .*"
                                         r"sample_weight\.to_numpy\(\) in X's row order"):
        matched = fit_em(positions, 3, sample_weight=shuffled, random_state=0)
    assert matched.log_likelihood == pytest.approx(
        fit_em(positions, 3, sample_weight=w0, random_state=0).log_likelihood, rel=1e-12)


def test_nan_and_pandas_na_labels_mean_unknown(simulated):
    pd = pytest.importorskip("pandas")
    X, z, _ = simulated
    codes = np.where(np.arange(len(X)) < 15, z, -1)
    as_minus_one = fit_em(X, 3, labels=codes, random_state=0)
    as_nan = fit_em(X, 3, labels=np.where(codes < 0, np.nan, codes), random_state=0)
    as_na = fit_em(X, 3, labels=pd.Series(codes).replace(-1, pd.NA).astype("Int64"),
                   random_state=0)
    for fit in (as_nan, as_na):
        assert fit.log_likelihood == pytest.approx(as_minus_one.log_likelihood, rel=1e-12)
    with pytest.raises(ValueError, match=r"got 0\.5 at row 2"):
        fit_em(X, 3, labels=np.r_[0.0, np.nan, 0.5, np.full(len(X) - 3, np.nan)])


def test_noise_must_be_a_bool_and_a_small_volume_is_warned(simulated):
    X, _, _ = simulated
    with pytest.raises(ValueError, match="noise must be True or False; got 'no'"):
        fit_em(X, 2, noise="no")
    box = float(np.prod(X.max(axis=0) - X.min(axis=0)))
    with pytest.warns(UserWarning, match="smaller than the data's bounding box"):
        fit_em(X, 2, noise=True, noise_volume=box / 10, random_state=0)


def test_rows_with_nothing_observed_are_named_as_they_are_left_out(simulated):
    """QA101: the command line said so, the API did not, and predict() still gave such a row
    a component (the weights' argmax)."""
    frame = pd.DataFrame(simulated[0][:100], columns=["a", "b"],
                         index=[f"P{i}" for i in range(100)])
    frame.iloc[[3, 50]] = np.nan
    with pytest.warns(UserWarning, match=r"^2 row\(s\) of X have no observed value \(row\(s\) "
                                         r"P3, P50\) and are left out of the fit; predict_proba"):
        fit = fit_em(frame, 2, random_state=0, n_init=1)
    assert fit.observations["n_rows_dropped"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing to say without an empty row
        fit_em(frame.dropna(), 2, random_state=0, n_init=1)


def test_one_value_that_alone_sets_a_side_of_the_noise_box_is_named(simulated):
    """QA101: one assay failure 1e4 sds out stretched its column's side of the box 2,000
    times (the noise density as much lower for every other row), said nowhere."""
    X = simulated[0].copy()

    def said(data):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit_em(data, 2, noise=True, random_state=0, n_init=1)
        return [str(w.message) for w in caught if "alone sets" in str(w.message)]

    assert said(X) == []
    X[3, 1] = X[:, 1].max() + 1e4 * X[:, 1].std()
    rest = np.delete(X[:, 1], 3)
    times = (X[3, 1] - rest.min()) / (rest.max() - rest.min())
    assert said(X) == [
        f"one value alone sets the noise component's box along 'x1' (the value "
        f"{format_number(X[3, 1])}: {times:,.0f} times the other rows' range): the noise "
        "density 1/V is as many times lower for every other row, so fewer of them are called "
        "noise; check the value, or give noise_volume (--noise-volume) to set the box"]


def test_a_noise_volume_that_takes_every_row_says_so_once(simulated):
    """QA64: noise_volume 1e-300 printed NumPy's "divide by zero encountered in log" and one
    "became empty" line per iteration, whose advice (fewer components) missed the cause."""
    X = simulated[0][:200]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_em(X, 2, noise=True, noise_volume=1e-300, random_state=0, n_init=1)
    messages = [str(w.message) for w in caught]
    assert fit.noise_weight > 0.999
    assert not any(issubclass(w.category, RuntimeWarning) for w in caught), messages
    assert sum("became empty" in m for m in messages) <= 1
    assert any(m.startswith("the noise component takes nearly every row (its weight 1.0000): "
                            "its density 1/V is above the Gaussians'") for m in messages)


def test_weight_errors_name_the_row(simulated):
    X, _, _ = simulated
    g = np.ones(len(X))
    g[[5, 9]] = np.nan
    with pytest.raises(ValueError, match=r"missing \(NaN\) at row 5 \(2 such row\(s\)\)"):
        fit_em(X, 2, sample_weight=g)
    with pytest.raises(ValueError, match="must not be all zero"):
        fit_em(X, 2, sample_weight=np.zeros(len(X)))


@pytest.mark.parametrize("noise", [False, True])
def test_rows_with_nothing_observed_get_the_weights(simulated, noise):
    """Such a row's density is over no coordinates (1): memberships = the weights, log-density
    0, the imputed row = the mixture mean; a labelled one is its label. The other rows are
    unchanged."""
    X, _, _ = simulated
    fit = fit_em(X, 3, noise=noise, random_state=0)
    Xe = X[:6].copy()
    Xe[2] = np.nan
    prior = np.append(fit.weights, fit.noise_weight) if noise else fit.weights
    proba = fit.predict_proba(Xe)
    np.testing.assert_allclose(proba[2], prior, rtol=1e-12)
    np.testing.assert_allclose(np.delete(proba, 2, axis=0), fit.predict_proba(np.delete(Xe, 2, 0)))
    assert fit.score_samples(Xe)[2] == 0.0
    # the mixture's mean: with a noise box, the noise's share sits at the box's middle
    expected = fit.weights @ fit.means + (fit.noise_weight * fit.noise_bounds.mean(axis=0)
                                          if noise else 0.0)
    np.testing.assert_allclose(fit.impute(Xe)[2], expected)
    labels = np.full(6, -1)
    labels[2] = 1
    labelled = fit._estep(Xe, labels, return_resp=True)
    np.testing.assert_array_equal(labelled.resp[2], np.eye(len(prior))[1])
    assert labelled.pointwise[2] == pytest.approx(np.log(fit.weights[1]))


def test_criteria_leave_out_the_rows_the_fit_left_out(simulated):
    """missing="drop": bic/aic/score of the fitted data are those of its complete rows;
    labels: the labelled objective, as the fit's own log_likelihood."""
    X, z, _ = simulated
    Xm = _holes(X, 0.05, seed=4)
    dropped = fit_em(Xm, 3, missing="drop", random_state=0)
    complete = ~np.isnan(Xm).any(axis=1)
    assert dropped.bic(Xm) == pytest.approx(dropped.bic(Xm[complete]), rel=1e-12)
    assert dropped.score(Xm) == pytest.approx(dropped.log_likelihood / complete.sum())
    labels = np.where(np.arange(len(X)) < 30, z, -1)
    labelled = fit_em(X, 3, labels=labels, random_state=0)
    expected = -2 * labelled.log_likelihood + labelled.n_parameters * np.log(len(X))
    assert labelled.bic(X, labels=labels) == pytest.approx(expected, rel=1e-10)
    assert labelled.bic(X) != pytest.approx(expected, rel=1e-10)  # the premise


def test_imputation_with_a_noise_component():
    """With a noise box, the mean imputation includes the noise's share (the middle of the
    box's side) and is the mean of the multiple imputations; a row the noise takes to machine
    precision is imputed, not NaN (0 / 0 before)."""
    from bayesgmm.draw_arrays import categorical
    from bayesgmm.imputation import conditional_draws, conditional_means, memberships

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(200, 2)), [[60.0, 0.0], [0.0, 60.0]]]
    em = fit_em(X, 1, noise=True, random_state=0)
    filled = em.impute(np.array([[60.0, np.nan], [0.5, np.nan]]))
    assert np.isfinite(filled).all()
    middle = em.noise_bounds.mean(axis=0)
    p_noise = em.predict_proba([[60.0, np.nan]])[0, -1]
    assert p_noise > 0.999
    assert filled[0, 1] == pytest.approx(middle[1], abs=0.05)
    resp = np.array([[0.5, 0.5]])
    bounds = np.array([[-10.0, 0.0], [10.0, 100.0]])
    gap = np.array([[0.0, np.nan]])
    mean = conditional_means(gap, resp, np.zeros((1, 2)), np.eye(2)[None], noise_bounds=bounds)
    r = memberships(resp, 1, bounds)  # Gaussian and noise, 1/2 each
    draws = np.array([conditional_draws(gap, categorical(r, rng.random(1)), np.zeros((1, 2)),
                                        np.eye(2)[None], rng, noise_bounds=bounds)[0, 1]
                      for _ in range(4000)])
    assert mean[0, 1] == pytest.approx(25.0)
    assert draws.mean() == pytest.approx(25.0, abs=4 * draws.std() / np.sqrt(4000))


def test_em_imputation_of_a_labelled_row_uses_its_component(simulated):
    X, _, _ = simulated
    fit = fit_em(X, 3, random_state=0)
    row = np.array([[np.nan, X[0, 1]]])
    for k in range(3):
        filled = fit.impute(row, labels=[k])
        S = fit.full_covariances[k]
        expected = fit.means[k, 0] + S[0, 1] / S[1, 1] * (X[0, 1] - fit.means[k, 1])
        assert filled[0, 0] == pytest.approx(expected, rel=1e-10)


def test_named_columns_at_prediction_are_matched_by_name(simulated):
    """Columns in another order are put in the fitted order; other names are refused; a
    model fitted on an array takes named columns in order."""
    pd = pytest.importorskip("pandas")
    X, _, _ = simulated
    frame = pd.DataFrame(X, columns=["a", "b"])
    fit = fit_em(frame, 3, random_state=0)
    np.testing.assert_array_equal(fit.predict_proba(frame[["b", "a"]]), fit.predict_proba(X))
    holed = frame.copy()
    holed.iloc[0, 1] = np.nan
    # QA: impute gave the fitted order back, so wrapping it in the frame's columns swapped them
    np.testing.assert_array_equal(fit.impute(holed[["b", "a"]]), fit.impute(holed)[:, ::-1])
    assert fit.impute(holed[["b", "a"]])[0, 1] == holed["a"].iloc[0]  # observed, in place
    with pytest.raises(ValueError, match=r"has columns \['a', 'zz'\]; the model was fitted"):
        fit.score_samples(frame.rename(columns={"b": "zz"}))
    # QA: an extra or a missing named column gave only "X has 3 feature(s) but the model was
    # fitted with 2"; the message names the columns now
    with pytest.raises(ValueError, match=r"\(not fitted \['c'\]\): give those columns"):
        fit.predict_proba(frame.assign(c=1.0))
    with pytest.raises(ValueError, match=r"\(missing \['b'\]\)"):
        fit.predict(frame[["a"]])
    on_array = fit_em(X, 3, random_state=0)
    np.testing.assert_array_equal(on_array.predict(frame), on_array.predict(X))


def test_noise_volume_keeps_the_box_shape_for_missing_values(simulated):
    """QA: with noise_volume, a row missing values was scored against a cube of that volume,
    so its noise density depended on the columns' units (one column x1000: P(noise) of a row
    0.12 with the default box, 0.994 with noise_volume = the box's own volume). The volume
    now scales the data's bounding box: the box's own volume is the default fit exactly."""
    X, _, _ = simulated
    Xm = _holes(X * np.array([1.0, 1000.0]), 0.2, seed=4)
    default = fit_em(Xm, 3, noise=True, random_state=0)
    lower, upper = default.noise_bounds
    same = fit_em(Xm, 3, noise=True, noise_volume=float(np.prod(upper - lower)), random_state=0)
    assert same.noise_weight == pytest.approx(default.noise_weight, rel=1e-9)
    np.testing.assert_allclose(same.noise_bounds, default.noise_bounds, rtol=1e-12)
    row = np.array([[np.nan, Xm[~np.isnan(Xm[:, 1]), 1][0]]])
    np.testing.assert_allclose(same.predict_proba(row), default.predict_proba(row), rtol=1e-9)
    # another volume: the same shape, centred on the data's box, of that volume
    bigger = fit_em(Xm, 3, noise=True, noise_volume=8.0 * np.prod(upper - lower),
                    random_state=0)
    sides = np.diff(bigger.noise_bounds, axis=0)[0]
    np.testing.assert_allclose(sides, np.sqrt(8.0) * (upper - lower), rtol=1e-12)  # 2-D
    np.testing.assert_allclose(bigger.noise_bounds.mean(axis=0), (lower + upper) / 2,
                               rtol=1e-12)


def test_a_row_of_weight_zero_is_no_row(old_faithful):
    """QA: a weight-0 row far out (100, 10000) drew k-means++ seeds, and every seed's EM ended
    with a component of no weight at -1289.8, against -1130.26 without the row. A row of
    weight 0 now seeds nothing and moves no data-scaled quantity."""
    from bayesgmm import Priors
    from bayesgmm.priors import ConjugatePrior, Standardisation

    X = old_faithful.to_numpy(float)
    with_row = np.vstack([X, [100.0, 10000.0]])
    g = np.r_[np.ones(len(X)), 0.0]
    for seed in range(4):
        for init in ("kmeans++", "random_from_data"):
            # the same seeds, the same fit as without the row
            fit = fit_em(with_row, 2, sample_weight=g, init=init, random_state=seed)
            without = fit_em(X, 2, init=init, random_state=seed)
            assert fit.log_likelihood == pytest.approx(without.log_likelihood, rel=1e-9)
            np.testing.assert_allclose(fit.means, without.means, rtol=1e-7)
    for ct in COVARIANCE_TYPES:
        a = Standardisation.from_data(with_row, ct, g)
        b = Standardisation.from_data(X, ct)
        np.testing.assert_allclose([a.center, a.scale], [b.center, b.scale], rtol=1e-12)
    a = Priors().conjugate_for_em(with_row, 2, "full", g)
    b = ConjugatePrior.default(X, 2, "full")
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)
    np.testing.assert_allclose(a.scale, b.scale, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_data_scaled_priors_of_counts_are_those_of_the_rows_written_out(simulated,
                                                                         covariance_type):
    """QA: counts and the rows they stand for gave different standardisations (3.502 vs
    3.488) and so different MAP-EM fits; frequency weights now count in every data-scaled
    quantity, so MAP-EM with prior='default' is the fit of the rows written out."""
    from bayesgmm.priors import Standardisation

    X, _, _ = simulated
    Xm = _holes(X, 0.05, seed=5)
    g = np.random.default_rng(3).integers(1, 4, len(X))
    expanded = np.repeat(Xm, g, axis=0)
    a = Standardisation.from_data(Xm, covariance_type, g.astype(float))
    b = Standardisation.from_data(expanded, covariance_type)
    np.testing.assert_allclose([a.center, a.scale], [b.center, b.scale], rtol=1e-12)
    start = fit_em(X, 3, covariance_type=covariance_type, random_state=0)
    counted = fit_em(X, 3, covariance_type=covariance_type, sample_weight=g.astype(float),
                     prior="default", init=start, tol=1e-10, atol=1e-10)
    written = fit_em(np.repeat(X, g, axis=0), 3, covariance_type=covariance_type,
                     prior="default", init=start, tol=1e-10, atol=1e-10)
    np.testing.assert_allclose(counted.covariances, written.covariances, rtol=1e-6, atol=1e-9)
    assert counted.log_posterior == pytest.approx(written.log_posterior, rel=1e-9)


def test_a_column_observed_only_in_rows_of_weight_zero_is_refused(simulated):
    X, _, _ = simulated
    Xm = X.copy()
    Xm[1:, 1] = np.nan
    g = np.r_[0.0, np.ones(len(X) - 1)]
    with pytest.raises(ValueError, match=r"column\(s\) 'x1' have no observed value in a row "
                                         r"of positive weight"):
        prepare_observations(Xm, 2, sample_weight=g)


def test_normalised_weights_and_weighted_rows_with_gaps_still_fit(simulated):
    """Review: weights summing to 1 (normalised) made the data-scaled covariance's divisor
    G - 1 = 0 (1e308, every random_from_data start and prior='default' failed; now they are
    refused as one row, and a total of 2 fits); complete
    rows that all have weight 0 gave the priors no rows at all (NaN). Both fit now, and the
    starts fall back to the imputed rows."""
    from bayesgmm import covariance

    X, _, _ = simulated
    g = np.random.default_rng(1).integers(1, 4, len(X)).astype(float)
    # the data's covariance does not depend on a common factor of weights that are no counts
    np.testing.assert_allclose(covariance.data_covariance(X, g / g.sum())[1],
                               covariance.data_covariance(X, 0.5 * g / g.sum())[1], rtol=1e-12)
    for prior in (None, "default"):  # QA64: normalised weights count one row: refused
        with pytest.raises(ValueError, match="sample_weight sum to 1: frequency weights"):
            fit_em(X, 3, sample_weight=g / g.sum(), prior=prior, init="random_from_data",
                   random_state=0)
        fit = fit_em(X, 3, sample_weight=2 * g / g.sum(), prior=prior, init="random_from_data",
                     random_state=0)  # G - 1 = 1: the divisor that was 0 at G = 1
        assert np.all(np.isfinite(fit.means)) and np.isfinite(fit.log_likelihood)
    Xm = X.copy()
    rows = np.arange(20, len(X))
    Xm[rows, rows % 2] = np.nan  # every row of positive weight has a gap
    w = np.r_[np.zeros(20), np.ones(len(X) - 20)]
    for prior in (None, "default"):
        fit = fit_em(Xm, 2, sample_weight=w, prior=prior, init="random_from_data",
                     random_state=0)
        assert np.all(np.isfinite(fit.means)) and np.isfinite(fit.log_likelihood)


def test_too_few_rows_of_positive_weight_are_refused(simulated):
    X, _, _ = simulated
    w = np.r_[1.0, 1.0, np.zeros(len(X) - 2)]
    with pytest.raises(ValueError, match=r"only 2 row\(s\) have a positive sample_weight, "
                                         r"fewer than n_components=3"):
        fit_em(X, 3, sample_weight=w)
    with pytest.raises(ValueError, match=r"only 1 row\(s\) .* fewer than the 2 a fit needs"):
        fit_em(X, 1, sample_weight=np.r_[1.0, np.zeros(len(X) - 1)])


def test_default_reg_covar_of_counts_is_that_of_the_rows_written_out():
    """Review: the default floor came from the unweighted variance, so a table of counts in
    small units got another floor (6e-9) than its rows written out (5.6e-11)."""
    rng = np.random.default_rng(2)
    X = 1e-4 * np.r_[rng.normal(0, 1, (40, 2)), rng.normal(5, 1, (40, 2))]
    g = rng.integers(1, 6, len(X)).astype(float)
    counts = fit_em(X, 2, sample_weight=g, random_state=0)
    written = fit_em(np.repeat(X, g.astype(int), axis=0), 2, random_state=0)
    assert counts.reg_covar == pytest.approx(written.reg_covar, rel=1e-12)
    assert counts.reg_covar < 1e-12


def test_a_tight_cluster_beside_a_far_one_is_no_outlier_for_the_default_prior():
    """Review: 85% of rows within 1e-10 of 0 and 15% near 1000 were refused under
    prior='default' as 'an outlier 1e13 robust sds out'; a check for absurd outliers (1e100)
    looks for a few such rows, not a cluster."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1e-10, (85, 1)), rng.normal(1000, 1, (15, 1))]
    fit = fit_em(X, 2, prior="default", random_state=0)
    assert np.sort(fit.means.ravel())[1] == pytest.approx(1000, abs=2)


def test_scale_warnings_count_rows_by_their_weights():
    """Review: the reg_covar and spherical warnings read the rows unweighted, so rows of
    weight 0 far out could raise (or hide) them; they count rows as the fit does."""
    import warnings

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([0, 0], 1, (100, 2)), rng.normal([4, 4], 1, (100, 2))]
    far = np.r_[X, [[0.0, 1e6], [1.0, -1e6]]]  # would make column 1's sd ~1e5
    g = np.r_[np.ones(len(X)), 0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_em(far, 2, covariance_type="spherical", sample_weight=g, random_state=0)
    with pytest.warns(UserWarning, match="covariance_type='spherical' gives every column"):
        fit_em(far, 2, covariance_type="spherical", random_state=0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_collapsed_components_count_rows_by_their_weights(covariance_type):
    """Review: ``collapsed_components`` (the selection tables' and the noise hint's rule)
    read the rows unweighted: rows of weight 0 far out made the data's spread look 1e11
    times larger, and healthy components 'negligible beside the data's'. With the weights
    it answers as for the rows written out."""
    from bayesgmm.em import collapsed_components

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([0, 0], 1, (100, 2)), rng.normal([4, 4], 1, (100, 2))]
    far = np.r_[X, [[0.0, 1e6], [1.0, -1e6]]]
    g = np.r_[np.ones(len(X)), 0.0, 0.0]
    fit = fit_em(far, 2, covariance_type=covariance_type, sample_weight=g, random_state=0)
    assert collapsed_components(fit, far, g) == collapsed_components(fit, X) == ()
    assert collapsed_components(fit, far) != ()  # the rows unweighted: the old answer
    # whole-number weights: as for the expanded rows, gaps included
    Xm = X.copy()
    Xm[::7, 0] = np.nan
    counts = rng.integers(1, 4, len(X))
    weighted = fit_em(Xm, 2, covariance_type=covariance_type,
                      sample_weight=counts.astype(float), random_state=0)
    from bayesgmm.em import _reference_covariance

    np.testing.assert_allclose(_reference_covariance(Xm, counts.astype(float)),
                               _reference_covariance(np.repeat(Xm, counts, axis=0)),
                               rtol=1e-12)
    assert collapsed_components(weighted, Xm, counts) == ()


def test_a_subsample_stands_for_every_row(simulated):
    """Observations.subsample: the rows drawn, their weights scaled to the whole data's
    total, their labels, gaps and the whole data's noise box."""
    X = _holes(np.vstack([simulated[0] + 1e-3 * k for k in range(3)]), 0.1, seed=4)
    weights = np.random.default_rng(5).uniform(0.5, 2.0, X.shape[0])
    labels = np.full(X.shape[0], -1)
    labels[:30] = 0
    obs = prepare_observations(X, 3, sample_weight=weights, labels=labels, noise=True)
    part = obs.subsample(300, np.random.default_rng(0))
    again = obs.subsample(300, np.random.default_rng(0))
    np.testing.assert_array_equal(part.X, again.X)
    assert part.n_samples == 300 and part.n_effective == pytest.approx(obs.n_effective)
    index = {tuple(np.nan_to_num(x, nan=1e300)): n for n, x in enumerate(obs.X)}
    drawn = np.array([index[tuple(np.nan_to_num(x, nan=1e300))] for x in part.X])
    np.testing.assert_allclose(part.sample_weight / weights[drawn],
                               obs.n_effective / weights[drawn].sum())
    assert part.n_missing_values == int(np.isnan(part.X).sum())
    assert part.n_rows_with_missing == int(np.isnan(part.X).any(axis=1).sum())
    if part.labels is None:
        assert not (labels[drawn] >= 0).any()
    else:
        np.testing.assert_array_equal(part.labels, labels[drawn])
    assert part.noise_log_density == obs.noise_log_density
    np.testing.assert_array_equal(part.noise_bounds, obs.noise_bounds)
    unlabelled = prepare_observations(X, 3, labels=np.where(np.arange(X.shape[0]) < 1, 0, -1))
    assert unlabelled.subsample(10, np.random.default_rng(1)).labels is None  # none drawn


def test_the_posterior_start_on_a_subsample_with_gaps_weights_labels_and_noise(simulated):
    """fit_map_start searching on a subsample of data with every treatment: the polish on
    every row reaches the whole search's mode."""
    from bayesgmm.em import fit_map_start

    X = _holes(np.vstack([simulated[0]] * 3), 0.05, seed=4)
    weights = np.random.default_rng(5).uniform(0.5, 2.0, X.shape[0])
    labels = np.full(X.shape[0], -1)
    labels[np.flatnonzero(simulated[1] == 0)[:5]] = 0
    data = dict(sample_weight=weights, labels=labels, noise=True)
    whole = fit_map_start(X, 3, n_init=2, random_state=0, subsample=None, **data)
    part = fit_map_start(X, 3, n_init=2, random_state=0, subsample=500, **data)
    assert part.settings["subsample"] == 500 and part.noise
    # the same mode: both stop within EM's slack of it (the noise weight creeps; tightened,
    # tol=0 and atol=1e-9, both reach -7819.3511)
    assert part.log_posterior == pytest.approx(whole.log_posterior, abs=0.2)
    np.testing.assert_allclose(part.means, whole.means, atol=0.05)
    assert part.observations == whole.observations


def test_a_row_of_weight_zero_is_not_counted_in_the_record():
    """QA: "152 row(s) fitted; 1 missing value(s) integrated out" where 150 rows had a
    positive weight and the missing value lay in a row of weight 0."""
    from bayesgmm.observation_record import observations_sentence

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(6, 1, (40, 2))])
    X[3, 1] = np.nan
    g = np.ones(len(X))
    g[[3, 10]] = 0.0
    summary = fit_em(X, 2, sample_weight=g, random_state=0, n_init=1).observations
    assert summary["n_rows_fitted"] == 78 and summary["n_rows_zero_weight"] == 2
    assert summary["n_missing_values"] == 0 and summary["n_rows_with_missing"] == 0
    sentence = observations_sentence(summary)
    assert sentence.startswith("78 row(s) fitted; ") and "missing" not in sentence
    assert "2 row(s) of weight 0 not counted" in sentence


def test_a_known_label_on_a_row_of_weight_zero_is_refused():
    """QA: a labelled row of weight 0 named its component ("component 0 = 'left'") from
    nothing; the fit put 'left' on the right-hand cluster and skipped relabelling."""
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(7, 1, (30, 2))])
    labels = np.full(len(X), -1)
    labels[[0, 30]] = [0, 1]
    g = np.ones(len(X))
    g[[0, 30]] = 0.0
    with pytest.raises(ValueError, match=r"2 row\(s\) with a known label have sample_weight 0 "
                                         r"\(row\(s\) 0, 30\).*positive weight or no label") as e:
        fit_em(X, 2, sample_weight=g, labels=labels, random_state=0)
    assert "\n" not in str(e.value)


def test_a_table_with_no_value_at_all_is_refused_as_such():
    """QA: every row empty ended "give n_components at most 0"."""
    with pytest.raises(ValueError, match=r"no row of X has a value to fit \(every one of its 10 "
                                         r"row\(s\) is missing every value\)") as e:
        fit_em(np.full((10, 2), np.nan), 2)
    assert "at most 0" not in str(e.value) and "\n" not in str(e.value)


def _one_cluster_missing_a_column(seed, missing_in_a):
    """Two clusters; 'z' missing in cluster A's first ``missing_in_a`` rows and in all of B's
    but one."""
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal([0, 0, 0], 1, (150, 3)), rng.normal([6, 6, 20], [1, 1, 3], (150, 3))]
    X[150:, 2] = np.nan
    X[150, 2] = 20.0
    X[:missing_in_a, 2] = np.nan
    return X


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_a_component_with_few_observed_values_in_a_column_is_named(covariance_type):
    """Gaps QA: a component of 150 rows with one observed value of 'z' got a mean of 8.1 and
    a variance of 98 there (between its value, 20, and the other cluster's) and no warning."""
    X = _one_cluster_missing_a_column(0, 135)
    with pytest.warns(DegenerateComponentWarning, match="1 observed value of 'x2' among its"):
        fit = fit_em(X, 2, covariance_type=covariance_type, random_state=0)
    assert any("1 observed value of 'x2'" in w for w in fit.warnings)
    # ordinary gaps: every component has plenty of values in every column
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 1, (100, 3)), rng.normal(6, 1, (100, 3))]
    X[rng.random(X.shape) < 0.2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)
        fit_em(X, 2, covariance_type=covariance_type, random_state=0)


def test_a_collapse_from_missing_values_is_not_blamed_on_ties():
    """A component with no observed value in a column collapses there under ML: the warning
    said its rows share one value (tied or discrete data); they have none."""
    X = _one_cluster_missing_a_column(0, 40)
    with pytest.warns(DegenerateComponentWarning) as caught:
        fit_em(X, 2, random_state=0)
    messages = " ".join(str(w.message) for w in caught)
    assert "covariance collapsed" in messages and "along 'x2'" in messages
    assert "(almost) no observed value there" in messages and "tied" not in messages
    assert "component 0 has no observed value of 'x2' among its 149 rows" in messages


def test_a_column_observed_in_two_rows_sets_the_floor_and_names_no_other_column():
    """QA: with 'y' observed in 2 of 60 rows, the start rows (mean-filled) made y look 27
    times narrower than its two values: reg_covar fell to 1e-6 of that, and a collapse
    warning blamed 'x' (here x0; 53 distinct values) and tied values, where the few observed values
    of 'y' are the cause (which the other warning says)."""
    rng = np.random.default_rng(4)
    X = np.c_[rng.normal(0, 1, 60), np.full(60, np.nan)]
    X[[2, 3], 1] = [1.0, 2.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_em(X, 2, n_init=10, init=("kmeans++", "random_from_data"), random_state=1)
    # the documented rule: 1e-6 of the smallest column variance, over the observed values
    assert fit.reg_covar == pytest.approx(1e-6 * np.var([1.0, 2.0]))
    messages = [str(w.message) for w in caught]
    assert any("observed value" in m and "'x1'" in m for m in messages), messages
    assert not any("along 'x0'" in m for m in messages), messages


def test_dropping_rows_that_differ_from_the_rest_is_said():
    """QA62: length was missing where mass was high (MAR); missing='drop' gave weight 0.22
    [0.17, 0.27] against 0.35, verdict OK, no word of bias. Rows missing completely at
    random are dropped in silence."""
    from bayesgmm.observations import prepare_observations

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([10, 50], [2, 5], (200, 2)), rng.normal([19, 80], [2, 5], (100, 2))]
    mar = X.copy()
    mar[(X[:, 0] > 18) & (rng.random(300) < 0.7), 1] = np.nan
    with pytest.warns(UserWarning, match=r"row\(s\) dropped for missing values differ from "
                      r"those kept where they are observed: mean 'x0' .* sd of the kept rows"
                      r".*missing='marginalise'"):
        prepare_observations(mar, 2, missing="drop")
    mcar = X.copy()
    mcar[rng.random(300) < 0.15, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_observations(mcar, 2, missing="drop")
        prepare_observations(mar, 2)  # marginalised: nothing dropped, nothing to say
