"""BayesianGMM: scikit-learn's estimator conventions without depending on scikit-learn."""

import numpy as np
import pytest

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
    with pytest.raises(ValueError, match="fitted on"):
        fitted.predict(X[["waiting", "eruptions"]])


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
    DataFrame with other columns."""
    on_array = BayesianGMM(2, covariance_type="diag", draws=60, tune=100, chains=2,
                           random_state=1, progressbar=False).fit(old_faithful.to_numpy())
    with pytest.warns(UserWarning, match="fitted without feature names"):
        named = on_array.predict(old_faithful)
    np.testing.assert_array_equal(named, on_array.predict(old_faithful.to_numpy()))
    on_series = BayesianGMM(1, draws=60, tune=100, chains=2, random_state=1,
                            progressbar=False).fit(old_faithful["waiting"])
    with pytest.raises(ValueError, match=r"X has name \['eruptions'\]; the model was fitted "
                                         r"on \['waiting'\]"):
        on_series.predict(old_faithful["eruptions"])


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
