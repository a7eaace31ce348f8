"""BayesianGMM: scikit-learn's estimator conventions without depending on scikit-learn."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FitBayesCalled

import bayesgmm
from bayesgmm import BayesianGMM, Priors
from bayesgmm.estimator import NotFittedError

sklearn_base = pytest.importorskip("sklearn.base")


def test_clone_and_params_round_trip():
    est = BayesianGMM(3, covariance_type="diag", priors=Priors(means_sd=1.5), draws=50,
                      random_state=7, progressbar=False)
    params = est.get_params()
    assert params["n_components"] == 3 and params["priors"] == Priors(means_sd=1.5)
    twin = sklearn_base.clone(est)
    assert twin is not est and twin.get_params() == params
    assert BayesianGMM(**est.get_params(deep=False)).get_params() == params
    assert est.set_params(draws=200, chains=2) is est
    assert (est.draws, est.chains) == (200, 2)
    with pytest.raises(ValueError, match="invalid parameter 'n_draws'"):
        est.set_params(n_draws=5)
    assert repr(BayesianGMM(2, draws=10)) == "BayesianGMM(draws=10, n_components=2)"


def test_the_other_sampler_options_go_in_settings_and_a_wrong_keyword_says_so(tiny_fit):
    """QA110: the diagnostics advise target_accept=0.95, and BayesianGMM(2,
    target_accept=0.95) was "see help(BayesianGMM)", which did not mention it; n_init, which
    every GaussianMixture user types, likewise. They go in settings (a SamplerSettings), which
    clones, and from_result reads them back."""
    import dataclasses

    from bayesgmm import SamplerSettings

    est = BayesianGMM(2, draws=300, settings=SamplerSettings(target_accept=0.95, draws=300))
    used = est.sampler_settings()
    assert (used.target_accept, used.draws) == (0.95, 300)
    with pytest.raises(ValueError, match=r"^settings gives draws=2000, chains=2, which "
                                         r"BayesianGMM takes as its own parameter\(s\): pass "
                                         r"draws=2000, chains=2 to BayesianGMM instead$"):
        BayesianGMM(2, settings=SamplerSettings(draws=2000, chains=2)).sampler_settings()
    assert sklearn_base.clone(est).sampler_settings() == used
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'target_accept'; pass "
                                        r"it in settings=bayesgmm\.SamplerSettings\("
                                        r"target_accept=\.\.\.\)$"):
        BayesianGMM(2, target_accept=0.95)
    with pytest.raises(TypeError, match=r"'n_init'; the EM start is MAP-EM's best of its own "
                                        r"restarts; .*BayesianGMM\.from_result"):
        BayesianGMM(2, n_init=10)
    with pytest.raises(ValueError, match="settings must be a bayesgmm.SamplerSettings"):
        BayesianGMM(2, settings={"target_accept": 0.95}).sampler_settings()
    assert BayesianGMM.from_result(tiny_fit).get_params()["settings"] is None  # defaults
    tuned = dataclasses.replace(
        tiny_fit, sampler_settings=tiny_fit.sampler_settings.replace(target_accept=0.9))
    back = BayesianGMM.from_result(tuned)
    assert back.sampler_settings() == tuned.sampler_settings


def test_metadata_requests_are_scikit_learns_and_survive_clone_and_pickle():
    """QA90 M1 (BayesianGMM shares the routing of EMGaussianMixture, tested with a search
    there): requests set, cloned and pickled as scikit-learn's estimators keep them."""
    import pickle

    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        est = (BayesianGMM(2, draws=50).set_fit_request(sample_weight=True, labels="known")
               .set_predict_proba_request(labels=True))
    for copy in (sklearn_base.clone(est), pickle.loads(pickle.dumps(est))):
        routing = copy.get_metadata_routing()
        assert routing.fit.requests == {"sample_weight": True, "labels": "known"}
        assert routing.predict_proba.requests == {"labels": True}
        assert routing.score.requests == {"sample_weight": None}
    assert repr(est) == "BayesianGMM(draws=50, n_components=2)"


def test_clone_drops_fitted_state(tiny_fit):
    est = BayesianGMM.from_result(tiny_fit)
    assert hasattr(est, "result_")
    assert not hasattr(sklearn_base.clone(est), "result_")


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples", "score",
                                    "bic", "aic"])
def test_methods_before_fit_say_so(method, old_faithful):
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        getattr(BayesianGMM(2), method)(old_faithful)
    with pytest.raises(ValueError):  # scikit-learn's NotFittedError is a ValueError too
        getattr(BayesianGMM(2), method)(old_faithful)


@pytest.mark.parametrize("method", ["summary", "diagnostics", "compare_em", "sample"])
def test_summaries_before_fit_say_so(method):
    with pytest.raises(AttributeError, match="not fitted yet"):
        getattr(BayesianGMM(2), method)()


@pytest.fixture(scope="module")
def fitted(old_faithful):
    est = BayesianGMM(2, covariance_type="diag", draws=100, tune=100, chains=2,
                      random_state=1, progressbar=False)
    assert est.fit(old_faithful) is est
    return est


def test_fit_sets_the_fitted_attributes(fitted, old_faithful):
    assert isinstance(fitted.result_, bayesgmm.BayesResult)
    assert fitted.em_ is fitted.result_.em and fitted.idata_ is fitted.result_.idata
    assert fitted.weights_.shape == (2,) and np.isclose(fitted.weights_.sum(), 1)
    assert fitted.means_.shape == (2, 2) and fitted.covariances_.shape == (2, 2)
    assert list(fitted.feature_names_in_) == ["eruptions", "waiting"]
    assert fitted.n_features_in_ == 2
    assert list(fitted.idata_["posterior"]["feature"].values) == ["eruptions", "waiting"]
    # the waiting times of the two clusters, about 55 and 80 minutes
    assert sorted(np.round(fitted.means_[:, 1], -1)) == [50.0, 80.0]


def test_fitted_methods(fitted, old_faithful):
    X = old_faithful.iloc[:30]
    proba = fitted.predict_proba(X, interval=0.9)
    assert proba.mean.shape == (30, 2) and np.allclose(proba.mean.sum(axis=1), 1)
    assert np.all(proba.lower <= proba.upper) and proba.interval == 0.9
    labels = fitted.predict(X.to_numpy())  # arrays are accepted as well as DataFrames
    assert np.array_equal(labels, np.argmax(proba.mean, axis=1))
    assert fitted.score_samples(X).shape == (30,)
    assert np.isclose(fitted.score(X), fitted.score_samples(X).mean())
    Xs, comp = fitted.sample(500, random_state=0)
    assert Xs.shape == (500, 2) and set(np.unique(comp)) == {0, 1}
    assert abs(Xs[:, 1].mean() - old_faithful["waiting"].mean()) < 3
    assert fitted.bic(X) == fitted.em_.bic(X) and fitted.aic(X) == fitted.em_.aic(X)
    assert "means[0, waiting]" in fitted.summary().index
    assert "means[1, eruptions]" in fitted.compare_em().index
    assert fitted.diagnostics().verdict


def test_save_and_reload(fitted, tmp_path):
    fitted.save(tmp_path / "gmm")
    again = BayesianGMM.from_result(bayesgmm.load(tmp_path / "gmm"))
    assert np.array_equal(again.means_, fitted.means_)
    assert again.get_params()["random_state"] == 1


def test_sample_uses_the_estimators_random_state(fitted):
    """As scikit-learn's GaussianMixture.sample: the estimator's seed, so the same points."""
    first, again = fitted.sample(5), fitted.sample(5)
    np.testing.assert_array_equal(first[0], again[0])
    other = fitted.sample(5, random_state=2)
    assert not np.array_equal(first[0], other[0])


def test_works_in_scikit_learn_pipelines_and_searches(old_faithful):
    """Pipelines and searches ask the estimator for its tags (scikit-learn >= 1.6)."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    est = BayesianGMM(2, covariance_type="diag", draws=60, tune=60, chains=2,
                      random_state=0, progressbar=False)
    assert est.__sklearn_tags__().estimator_type == "density_estimator"
    pipe = make_pipeline(StandardScaler(), est).fit(old_faithful)
    assert np.isfinite(pipe.score(old_faithful))
    search = GridSearchCV(est, {"n_components": [1, 2]}, cv=2, error_score="raise")
    assert search.fit(old_faithful).best_params_["n_components"] in (1, 2)


def test_nested_parameters_of_objects_without_them_are_a_value_error():
    with pytest.raises(ValueError, match=r"'priors' has no parameters of its own.*Priors\("):
        BayesianGMM().set_params(priors__means_sd=3.0)


def test_named_input_against_the_fitted_names(old_faithful):
    """Fitted on an array (placeholder names): a DataFrame is taken in order with a warning,
    as scikit-learn does; fitted on names: a Series of another name is refused, like a
    DataFrame with other columns, with the column to give."""
    on_array = BayesianGMM(2, covariance_type="diag", draws=60, tune=100, chains=2,
                           random_state=1, progressbar=False).fit(old_faithful.to_numpy())
    with pytest.warns(UserWarning, match="fitted without feature names"):
        named = on_array.predict(old_faithful)
    np.testing.assert_array_equal(named, on_array.predict(old_faithful.to_numpy()))
    on_series = BayesianGMM(1, draws=60, tune=100, chains=2, random_state=1,
                            progressbar=False).fit(old_faithful["waiting"])
    with pytest.raises(ValueError, match=r"X has columns \['eruptions'\]; the model was "
                                         r"fitted on \['waiting'\].*X\[\['waiting'\]\]"):
        on_series.predict(old_faithful["eruptions"])
    np.testing.assert_array_equal(on_series.predict(old_faithful["waiting"]),
                                  on_series.predict(old_faithful["waiting"].to_numpy()))


def test_score_and_criteria_follow_the_missing_policy(old_faithful):
    """"drop": score over the complete rows (cross-validation works); "refuse": NaN refused
    by bic too, not scored; the NaN tag says where rows with NaN are taken."""
    X = old_faithful.to_numpy().copy()
    X[::7, 0] = np.nan
    dropped = BayesianGMM(2, missing="drop", draws=60, tune=100, chains=2, random_state=1,
                          progressbar=False).fit(X)
    complete = ~np.isnan(X).any(axis=1)
    assert dropped.score(X) == pytest.approx(dropped.score(X[complete]), rel=1e-12)
    refusing = BayesianGMM(2, missing="refuse", draws=60, tune=100, chains=2, random_state=1,
                           progressbar=False).fit(X[complete])
    with pytest.raises(ValueError, match="which this fit refused"):
        refusing.bic(X)
    sklearn = pytest.importorskip("sklearn")
    assert sklearn is not None
    assert BayesianGMM(missing="marginalise").__sklearn_tags__().input_tags.allow_nan
    assert not BayesianGMM(missing="drop").__sklearn_tags__().input_tags.allow_nan


# --------------------------------------------------------------------------------------------
# Labels: one rule with fit_em / fit_bayes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [
    np.array([1, -1, 2, -1]),
    pd.Series([1.0, np.nan, 2.0, np.nan]),  # integers with blanks, as read from a CSV
    np.array([1, None, 2, None], dtype=object),
    pd.Series([1, None, 2, None], dtype="Int64"),
], ids=["int", "float-nan", "object-none", "nullable-int"])
def test_numeric_labels_are_component_indices_as_in_fit_em(fit_bayes_arguments, labels):
    """Numbers are component indices in the estimator as in fit_em (QA: float labels were
    taken as names and renumbered, so label 1.0 went to component 0)."""
    from bayesgmm.observations import check_labels

    with pytest.raises(FitBayesCalled):
        BayesianGMM(3).fit(np.zeros((4, 2)), labels=labels)
    np.testing.assert_array_equal(check_labels(fit_bayes_arguments["labels"], 4, 3),
                                  [1, -1, 2, -1])


@pytest.mark.parametrize("labels", [
    ["b", None, "a", ""],
    pd.Series(["b", None, "a", None], dtype="category"),
], ids=["text", "category"])
def test_label_names_are_sorted_onto_components(fit_bayes_arguments, labels):
    with pytest.raises(FitBayesCalled):
        BayesianGMM(3).fit(np.zeros((4, 2)), labels=labels)
    np.testing.assert_array_equal(fit_bayes_arguments["labels"], [1, -1, 0, -1])


def test_label_names_in_a_series_stay_aligned_to_the_rows(fit_bayes_arguments):
    """A Series of names keeps its index, which the fit matches to X's rows (as it does for
    indices): encoding them must not turn them into positions."""
    from bayesgmm.observations import prepare_observations

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}, index=[10, 11, 12, 13])
    names = pd.Series(["x", "y", None, "x"], index=[13, 12, 11, 10])
    with pytest.raises(FitBayesCalled):
        BayesianGMM(2).fit(X, labels=names)
    codes = prepare_observations(X, 2, labels=fit_bayes_arguments["labels"]).labels
    np.testing.assert_array_equal(codes, [0, -1, 1, 0])


# --------------------------------------------------------------------------------------------
# New data: missing values by the fit's policy, columns by name
# --------------------------------------------------------------------------------------------
HOLED = pd.DataFrame({"eruptions": [np.nan, 2.0, 4.0], "waiting": [80.0, np.nan, 85.0]})


def fitted_with(result, **record):
    """An estimator around ``result`` as if its fit had recorded ``record`` (no sampling)."""
    from dataclasses import replace

    summary = {**(result.observations_summary or {}), **record}
    return BayesianGMM.from_result(replace(result, observations_summary=summary))


@pytest.mark.parametrize("policy", ["refuse", "drop"])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples"])
def test_rows_with_nan_are_refused_unless_the_fit_marginalised(tiny_fit, policy, method):
    """As the docstring and allow_nan say (QA: they were marginalised under every policy)."""
    est = fitted_with(tiny_fit, missing=policy)
    assert est.missing == policy and not est.__sklearn_tags__().input_tags.allow_nan
    with pytest.raises(ValueError, match=r"^X has missing values \(NaN\) in 2 row\(s\), the "
                                         r"first row 0; .*X\.dropna\(\).*missing='marginalise'"
                       ) as err:
        getattr(est, method)(HOLED)
    assert "\n" not in str(err.value)
    complete = np.asarray(getattr(est, method)(HOLED.iloc[[2]]))
    marginalising = fitted_with(tiny_fit, missing="marginalise")
    np.testing.assert_allclose(np.asarray(getattr(marginalising, method)(HOLED))[2:],
                               complete, rtol=1e-12)


@pytest.mark.parametrize("policy, rows, error", [
    ("marginalise", HOLED, None),
    ("marginalise", HOLED.iloc[[2]] * np.nan, "no row with an observed value"),
    ("drop", HOLED, None),
    ("drop", HOLED.iloc[:2], r"no complete row \(missing='drop'"),  # QA: "no observed value"
    ("refuse", HOLED, r"missing values \(NaN\) in 2 row\(s\)"),
])
def test_score_takes_the_rows_the_fit_would_keep(tiny_fit, policy, rows, error):
    est = fitted_with(tiny_fit, missing=policy)
    if error is not None:
        with pytest.raises(ValueError, match=error):
            est.score(rows)
        return
    kept = rows if policy == "marginalise" else rows.dropna()
    assert est.score(rows) == pytest.approx(tiny_fit.score_samples(kept).mean(), rel=1e-12)


@pytest.mark.parametrize("policy", ["marginalise", "drop"])
def test_score_weighs_rows_by_their_frequency_weights(tiny_fit, policy):
    """QA: score took no sample_weight, so a search fitted with weights scored the held-out
    rows once each (scikit-learn warned "does not support sample_weight")."""
    est = fitted_with(tiny_fit, missing=policy)
    weights = np.array([2.0, 1.0, 3.0])
    repeated = HOLED.iloc[np.repeat(np.arange(3), weights.astype(int))]
    assert est.score(HOLED, sample_weight=weights) == pytest.approx(est.score(repeated),
                                                                    rel=1e-12)
    aligned = pd.Series(weights, index=HOLED.index)[::-1]  # by index, as fit takes them
    assert est.score(HOLED, sample_weight=aligned) == est.score(HOLED, sample_weight=weights)
    with pytest.raises(ValueError, match="sample_weight has 2 entries for 3 points"):
        est.score(HOLED, sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight must not be all zero"):
        est.score(HOLED, sample_weight=[0.0, 0.0, 0.0])
    if policy == "drop":  # rows 0 and 1 have a NaN: the one row kept weighs nothing
        with pytest.raises(ValueError, match="zero on every row the fit would keep"):
            est.score(HOLED, sample_weight=[1.0, 1.0, 0.0])


def test_columns_are_matched_by_name_as_the_result_does(tiny_fit, old_faithful):
    """One rule for both layers: the same names in another order are the same features."""
    est = BayesianGMM.from_result(tiny_fit)
    swapped = old_faithful.iloc[:20][["waiting", "eruptions"]]
    np.testing.assert_array_equal(est.predict(swapped), tiny_fit.predict(swapped))
    np.testing.assert_array_equal(est.predict(swapped), est.predict(old_faithful.iloc[:20]))


@pytest.mark.parametrize("X, message", [
    (lambda X: X.assign(z=1.0), r"not fitted \['z'\]\): .*X\[\['eruptions', 'waiting'\]\]"),
    (lambda X: X[["waiting"]], r"missing \['eruptions'\]\): .*X\[\['eruptions', 'waiting'\]\]"),
    (lambda X: X.iloc[0], r"one row, .*df\.iloc\[\[0\]\]"),  # QA: "X has name ['0']"
    (lambda X: pd.Series([2.0, 60.0]), r"1-D input is one feature.*np\.reshape"),  # "['x0']"
], ids=["extra-column", "missing-column", "one-row-series", "unnamed-series"])
@pytest.mark.parametrize("layer", ["estimator", "result"])
def test_column_errors_give_the_fix(tiny_fit, old_faithful, X, message, layer):
    model = BayesianGMM.from_result(tiny_fit) if layer == "estimator" else tiny_fit
    with pytest.raises(ValueError, match=message) as err:
        model.predict(X(old_faithful))
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------------------------
# The noise component's weight and volume; fit_predict
# --------------------------------------------------------------------------------------------
def test_noise_weight_and_a_given_volume_survive_a_reload(old_faithful, tmp_path):
    """weights_ + noise_weight_ is 1, and the volume given comes back as given (QA: 400.0
    came back as 399.9999999999999, rebuilt from its log)."""
    est = BayesianGMM(2, covariance_type="diag", noise=True, noise_volume=400.0, draws=60,
                      tune=100, chains=2, random_state=1, progressbar=False).fit(old_faithful)
    assert 0 < est.noise_weight_ < 0.5
    assert est.weights_.sum() + est.noise_weight_ == pytest.approx(1.0, abs=1e-12)
    est.save(tmp_path / "noisy")
    again = BayesianGMM.from_result(bayesgmm.load(tmp_path / "noisy"))
    assert again.get_params() == est.get_params()
    assert again.noise_weight_ == est.noise_weight_


def test_noise_weight_is_zero_without_a_noise_component(fitted):
    assert fitted.noise_weight_ == 0.0


def test_fit_predict_is_fit_then_predict_with_the_fit_arguments(old_faithful):
    est = BayesianGMM(2, covariance_type="diag", draws=60, tune=100, chains=2, random_state=1,
                      progressbar=False)
    labels = np.where(old_faithful["eruptions"] > 3, 1, -1)
    predicted = est.fit_predict(old_faithful, labels=labels)
    np.testing.assert_array_equal(predicted, est.predict(old_faithful))
    assert est.result_.observations_summary["n_labelled"] == int((labels >= 0).sum())
    assert np.all(predicted[labels == 1] == 1)


def test_fit_predict_under_drop_refuses_nan_before_sampling(fit_bayes_arguments):
    with pytest.raises(ValueError, match=r"NaN\) in 1 row\(s\), .*missing='marginalise'"):
        BayesianGMM(2, missing="drop").fit_predict(HOLED.fillna({"waiting": 70.0}))
    assert fit_bayes_arguments == {}


@pytest.mark.parametrize("check", ["check_estimators_pickle", "check_fit_idempotent",
                                   "check_methods_subset_invariance",
                                   "check_methods_sample_order_invariance"])
def test_scikit_learns_checks_of_predict_proba(check):
    """scikit-learn's checks compare predict_proba's outputs as arrays (QA: they failed on
    the MembershipProbabilities object)."""
    checks = pytest.importorskip("sklearn.utils.estimator_checks")
    est = BayesianGMM(2, draws=30, tune=30, chains=1, random_state=0, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the short chains' convergence warnings
        getattr(checks, check)("BayesianGMM", est)


def test_information_criteria_say_they_are_at_the_map_em_start():
    """QA: ``bic``/``aic`` said "of the EM fit" and silently used the MAP-EM start (em_), not
    a maximum-likelihood fit, whose BIC select_em reports (galaxies K=3: 1576.2 vs 1574.5)."""
    for method in (BayesianGMM.bic, BayesianGMM.aic):
        first_lines = " ".join(method.__doc__.split("\n\n")[0].split())
        assert "at ``em_``, the MAP-EM" in first_lines, method
        assert "maximum-likelihood" in method.__doc__, method
    assert "select_em" in BayesianGMM.bic.__doc__


def test_from_result_documents_its_argument_and_errors():
    doc = BayesianGMM.from_result.__doc__
    for section in ("Parameters", "Returns", "Raises", "result : BayesResult"):
        assert section in doc, section
    with pytest.raises(ValueError, match="expected a BayesResult; got dict"):
        BayesianGMM.from_result({})


def test_fit_predict_and_predict_keep_known_labels_given_by_name(old_faithful):
    """A row known to be "short" is predicted "short"'s component whatever its values (QA:
    fit_predict ignored the labels, contradicting the fit's own memberships); predict and
    predict_proba take the names the fit was given, and refuse others."""
    kind = np.where(old_faithful["eruptions"] > 3, "long", "").astype(object)
    kind[::3] = np.where(old_faithful["eruptions"].to_numpy()[::3] > 3, "long", "short")
    long_row = int(np.flatnonzero(old_faithful["eruptions"].to_numpy() > 4)[0])
    kind[long_row] = "short"
    est = BayesianGMM(2, covariance_type="diag", draws=60, tune=100, chains=2, random_state=1,
                      progressbar=False)
    predicted = est.fit_predict(old_faithful, labels=kind)
    short = est.label_names_.index("short")
    assert predicted[long_row] == short
    assert est.result_.memberships().mean[long_row, short] == 1.0
    assert est.predict(old_faithful)[long_row] != short  # the label, not the data, decides
    series = pd.Series(kind, index=old_faithful.index).iloc[::-1]  # matched by index
    assert est.predict(old_faithful, labels=series)[long_row] == short
    assert est.predict_proba(old_faithful, labels=kind).mean[long_row, short] == 1.0
    with pytest.raises(ValueError, match="label 'medium' is not one the fit was given"):
        est.predict(old_faithful.iloc[:2], labels=["medium", ""])


@pytest.mark.parametrize("value", ["no", "False", 0, 1])
def test_noise_must_be_a_boolean_as_fit_bayes_takes_it(old_faithful, value):
    """QA: noise="no" (truthy) silently fitted a noise component; fit_bayes refused it."""
    with pytest.raises(ValueError, match=rf"^noise must be True or False; got {value!r}"):
        BayesianGMM(2, noise=value, draws=20, tune=20, chains=1).fit(old_faithful)


def test_gaussian_mixture_attributes_a_user_reads(tiny_fit):
    """API QA: converged_, precisions_ and precisions_cholesky_ were missing (code written
    for GaussianMixture raised); feature_names_in_ was x0, x1 for arrays, where scikit-learn
    leaves it unset. converged_ is the verdict's ok."""
    from conftest import posterior_stand_in

    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(5, 1, (60, 2))])
    est = BayesianGMM.from_result(posterior_stand_in(X, 2))
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 2
    np.testing.assert_allclose(est.precisions_, np.linalg.inv(est.covariances_), rtol=1e-10)
    assert est.converged_ is est.result_.diagnostics().ok
    named = BayesianGMM.from_result(tiny_fit)
    assert list(named.feature_names_in_) == ["eruptions", "waiting"]
    assert not hasattr(BayesianGMM(2), "converged_")  # unfitted: NotFittedError, an AttributeError


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_precisions_invert_the_covariances_in_scikit_learns_shapes(covariance_type):
    from bayesgmm import kernels
    from bayesgmm.estimator_base import precisions as _precisions

    full = np.array([[[2.0, 0.3], [0.3, 1.0]], [[0.5, -0.1], [-0.1, 0.8]]])
    cov = {"full": full, "tied": full[0], "diag": np.array([[2.0, 1.0], [0.5, 0.8]]),
           "spherical": np.array([2.0, 0.5])}[covariance_type]
    chol = kernels.precisions_cholesky(cov, covariance_type)
    prec = _precisions(chol, covariance_type)
    assert prec.shape == cov.shape == chol.shape
    expected = np.linalg.inv(cov) if covariance_type in ("full", "tied") else 1.0 / cov
    np.testing.assert_allclose(prec, expected, rtol=1e-12)


def test_impute_and_a_random_state_as_scikit_learn_makes_it(tiny_fit, old_faithful):
    """API QA: no BayesianGMM.impute (only result_.impute); RandomState (what sklearn's
    check_random_state gives) was refused."""
    est = BayesianGMM.from_result(tiny_fit)
    holed = old_faithful.head(5).copy()
    holed.iloc[0, 1] = np.nan
    swapped = holed[["waiting", "eruptions"]]
    np.testing.assert_array_equal(est.impute(swapped, max_draws=20),
                                  tiny_fit.impute(swapped, max_draws=20))
    assert est.impute(holed, 2, max_draws=20).shape == (2, 5, 2)
    from bayesgmm._scalars import seed_from

    assert seed_from(np.random.RandomState(0)) == seed_from(np.random.RandomState(0))
    assert est.sample(3, random_state=np.random.RandomState(0))[0].shape == (3, 2)


def test_a_refit_on_an_array_drops_the_names_and_arrays_are_warned_about(tiny_fit, old_faithful):
    """QA (scikit-learn conventions): a refit on an array kept the DataFrame fit's
    feature_names_in_ (2 names beside n_features_in_ = 3); and an array given to a model
    fitted on named columns was taken in order without a word, where scikit-learn warns."""
    from conftest import posterior_stand_in

    est = BayesianGMM.from_result(tiny_fit)
    assert list(est.feature_names_in_) == ["eruptions", "waiting"]
    with pytest.warns(UserWarning, match=r"X does not have feature names, but this "
                                         r"BayesianGMM was fitted with feature names "
                                         r"\['eruptions', 'waiting'\]"):
        est.predict(old_faithful.to_numpy()[:5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(old_faithful.head())  # named: no warning
    rng = np.random.default_rng(0)
    est._set_fitted(posterior_stand_in(rng.normal(size=(60, 3)), 2))  # as fit() sets it
    assert est.n_features_in_ == 3 and not hasattr(est, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(rng.normal(size=(4, 3)))  # fitted on an array: nothing to warn of


@pytest.mark.parametrize("columns, named", [(["a", "b"], True), ([10, 20], False),
                                            (["a", 1], False)], ids=["text", "int", "mixed"])
@pytest.mark.parametrize("kind", ["em", "bayes"])
def test_feature_names_in_only_for_string_column_names(monkeypatch, columns, named, kind):
    """As scikit-learn sets it (QA60 F4: integer column names 10, 20 gave ['10', '20'])."""
    from conftest import posterior_stand_in

    from bayesgmm import EMGaussianMixture, estimator

    rng = np.random.default_rng(2)
    X = pd.DataFrame(np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(6, 1, (40, 2))]),
                     columns=columns)
    if kind == "bayes":
        monkeypatch.setattr(estimator, "fit_bayes", lambda X, K, **_: posterior_stand_in(X, K))
    est = (EMGaussianMixture(2, random_state=0) if kind == "em" else BayesianGMM(2)).fit(X)
    assert hasattr(est, "feature_names_in_") is named and est.n_features_in_ == 2
    if named:
        assert list(est.feature_names_in_) == columns
    shuffled = X[X.columns[::-1]]  # predicting by name still works without the attribute
    np.testing.assert_array_equal(est.predict(shuffled), est.predict(X))


def test_the_estimators_sampling_defaults_are_sampler_settings():
    """QA80: BayesianGMM restated fit_bayes' defaults by hand; they are SamplerSettings'."""
    from bayesgmm.settings import SamplerSettings

    params, defaults = bayesgmm.BayesianGMM().get_params(), SamplerSettings()
    for name in ("draws", "tune", "chains", "sampler", "progressbar", "nutpie_backend"):
        assert params[name] == getattr(defaults, name) and type(params[name]) is type(
            getattr(defaults, name)), name


def test_a_posterior_that_fails_its_checks_warns_at_fit(monkeypatch):
    """QA90 M2: a fit whose posterior failed its checks (converged_ False, PROBLEMS) raised no
    warning, where GaussianMixture and EMGaussianMixture warn whenever converged_ is False: a
    grid search of failed posteriors said nothing. It warns with the verdict and its advice."""
    import types
    import warnings

    from conftest import posterior_stand_in

    from bayesgmm import estimator
    from bayesgmm.diagnostics import Diagnostics

    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(5, 1, (60, 2))])
    result = posterior_stand_in(X, 2)
    monkeypatch.setattr(estimator, "fit_bayes", lambda *args, **kwargs: result)
    for ok in (False, True):
        verdict = types.SimpleNamespace(
            ok=ok, causes=("slow mixing",), status="PROBLEMS" if not ok else "CAUTION",
            verdict="PROBLEMS: max R-hat 1.05 > 1.01 | passed: 0 divergences <= 0")
        verdict.brief = Diagnostics.brief.fget(verdict)  # as the real one says it
        monkeypatch.setattr(type(result), "diagnostics", lambda self, *a, v=verdict, **k: v)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = BayesianGMM(2, draws=300).fit(X)
        said = [str(w.message) for w in caught
                if issubclass(w.category, bayesgmm.ConvergenceWarning)]
        assert est.converged_ is ok
        assert said == ([] if ok else ["the posterior failed its checks, so converged_ is "
                                       "False (PROBLEMS: max R-hat 1.05 > 1.01; likely cause: "
                                       "slow mixing): print(estimator.diagnostics()) for every "
                                       "check and what to do"])
