"""BayesianGMM's missing values, weights, labels and noise: parameters and fit arguments."""

import numpy as np
import pandas as pd
import pytest

from bayesgmm import BayesianGMM, estimator

sklearn_base = pytest.importorskip("sklearn.base")


class _Stop(Exception):
    pass


@pytest.fixture
def captured(monkeypatch):
    seen = {}

    def record(X, n_components, **kwargs):
        seen.update(X=X, n_components=n_components, **kwargs)
        raise _Stop

    monkeypatch.setattr(estimator, "fit_bayes", record)
    return seen


def test_observation_parameters_clone_and_round_trip():
    est = BayesianGMM(2, missing="drop", noise=True, noise_volume=3.5)
    params = est.get_params()
    assert (params["missing"], params["noise"], params["noise_volume"]) == ("drop", True, 3.5)
    assert sklearn_base.clone(est).get_params() == params
    assert repr(BayesianGMM(2, noise=True)) == "BayesianGMM(n_components=2, noise=True)"


def test_plain_fit_passes_no_observation_arguments(captured):
    with pytest.raises(_Stop):
        BayesianGMM(2).fit(np.zeros((5, 2)))
    assert not {"missing", "sample_weight", "labels", "noise", "noise_volume"} & set(captured)


def test_fit_arguments_reach_fit_bayes(captured):
    w = np.arange(6.0)
    with pytest.raises(_Stop):
        BayesianGMM(3, missing="refuse", noise=True, noise_volume=9.0).fit(
            np.zeros((6, 2)), sample_weight=w, labels=np.array([0, 2, -1, -1, 1, 0]))
    assert captured["missing"] == "refuse" and captured["noise"] is True
    assert captured["noise_volume"] == 9.0
    np.testing.assert_array_equal(captured["sample_weight"], w)
    np.testing.assert_array_equal(captured["labels"], [0, 2, -1, -1, 1, 0])  # indices as given


def test_label_names_are_encoded_sorted(captured):
    with pytest.raises(_Stop):
        BayesianGMM(3).fit(np.zeros((5, 2)), labels=pd.Series(["b", None, "a", "", "b"]))
    np.testing.assert_array_equal(captured["labels"], [1, -1, 0, -1, 1])


def test_y_is_never_taken_for_labels(captured):
    with pytest.raises(_Stop):
        BayesianGMM(2).fit(np.zeros((5, 2)), np.array([0, 1, 0, 1, 0]))
    assert "labels" not in captured


def test_bad_observation_parameters_are_one_line(captured):
    with pytest.raises(ValueError, match="noise_volume needs noise=True"):
        BayesianGMM(2, noise_volume=2.0).fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"name 3 groups \['a', 'b', 'c'\]"):
        BayesianGMM(2).fit(np.zeros((3, 2)), labels=["a", "b", "c"])
    assert captured == {}



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
