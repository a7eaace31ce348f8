"""BayesianGMM's missing values, weights, labels and noise: parameters and fit arguments."""

import numpy as np
import pandas as pd
import pytest
from conftest import FitBayesCalled

from bayesgmm import BayesianGMM

sklearn_base = pytest.importorskip("sklearn.base")




def test_observation_parameters_clone_and_round_trip():
    est = BayesianGMM(2, missing="drop", noise=True, noise_volume=3.5)
    params = est.get_params()
    assert (params["missing"], params["noise"], params["noise_volume"]) == ("drop", True, 3.5)
    assert sklearn_base.clone(est).get_params() == params
    assert repr(BayesianGMM(2, noise=True)) == "BayesianGMM(n_components=2, noise=True)"


def test_plain_fit_passes_no_observation_arguments(fit_bayes_arguments):
    with pytest.raises(FitBayesCalled):
        BayesianGMM(2).fit(np.zeros((5, 2)))
    observed = {"missing", "sample_weight", "labels", "noise", "noise_volume"}
    assert not observed & set(fit_bayes_arguments)


def test_fit_arguments_reach_fit_bayes(fit_bayes_arguments):
    w = np.arange(6.0)
    with pytest.raises(FitBayesCalled):
        BayesianGMM(3, missing="refuse", noise=True, noise_volume=9.0).fit(
            np.zeros((6, 2)), sample_weight=w, labels=np.array([0, 2, -1, -1, 1, 0]))
    assert fit_bayes_arguments["missing"] == "refuse" and fit_bayes_arguments["noise"] is True
    assert fit_bayes_arguments["noise_volume"] == 9.0
    np.testing.assert_array_equal(fit_bayes_arguments["sample_weight"], w)
    # indices as given
    np.testing.assert_array_equal(fit_bayes_arguments["labels"], [0, 2, -1, -1, 1, 0])


def test_label_names_are_encoded_sorted(fit_bayes_arguments):
    with pytest.raises(FitBayesCalled):
        BayesianGMM(3).fit(np.zeros((5, 2)), labels=pd.Series(["b", None, "a", "", "b"]))
    np.testing.assert_array_equal(fit_bayes_arguments["labels"], [1, -1, 0, -1, 1])


def test_y_is_never_taken_for_labels(fit_bayes_arguments):
    with pytest.raises(FitBayesCalled):
        BayesianGMM(2).fit(np.zeros((5, 2)), np.array([0, 1, 0, 1, 0]))
    assert "labels" not in fit_bayes_arguments


def test_bad_observation_parameters_are_one_line(fit_bayes_arguments):
    with pytest.raises(ValueError, match="noise_volume needs noise=True"):
        BayesianGMM(2, noise_volume=2.0).fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"name 3 groups \['a', 'b', 'c'\]"):
        BayesianGMM(2).fit(np.zeros((3, 2)), labels=["a", "b", "c"])
    assert fit_bayes_arguments == {}



def test_estimator_end_to_end_with_missing_values_weights_labels_and_noise(old_faithful):
    X = old_faithful.iloc[:120].astype(float).copy()
    X.iloc[[3, 9], 1] = np.nan
    names = np.where(X["eruptions"] > 3, "long", "short").astype(object)
    names[10:] = None
    est = BayesianGMM(2, noise=True, draws=100, tune=100, chains=2, random_state=0,
                      progressbar=False)
    est.fit(X, sample_weight=np.arange(120) % 2 + 1.0, labels=names)
    assert est.label_names_ == ("long", "short")
    assert est.means_[0, 0] > 3 > est.means_[1, 0]  # "long" is component 0
    proba = est.predict_proba(X.iloc[:12])
    assert proba.mean.shape == (12, 3) and np.isfinite(proba.mean).all()  # P(noise) last
    twin = BayesianGMM.from_result(est.result_)
    assert twin.noise and twin.label_names_ == ("long", "short")


def test_sample_draws_the_noise_component_too():
    """Points from the noise component (label -1, uniform in its box) in the posterior
    predictive, at about the posterior's noise weight."""
    from bayesgmm import BayesianGMM

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (200, 2)), rng.uniform(-10, 10, (40, 2))]
    est = BayesianGMM(1, noise=True, draws=200, tune=200, chains=2, random_state=0,
                      progressbar=False).fit(X)
    points, labels = est.sample(4000)
    share = (labels == -1).mean()
    weight = est.result_.posterior["noise_weight"].values.mean()
    assert abs(share - weight) < 0.03
    lower, upper = est.result_.em.noise_bounds
    assert np.all((points[labels == -1] >= lower) & (points[labels == -1] <= upper))
