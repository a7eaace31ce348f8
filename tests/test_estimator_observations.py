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


# --------------------------------------------------------------------------------------------
# predictions on rows with missing values, and with a noise component (posterior draws)
# --------------------------------------------------------------------------------------------
def _draw_arrays(result):
    post = result.posterior
    w = post["weights"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    m = post["means"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    from bayesgmm.covariance import to_full

    cov = post["covariances"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    full = np.array([to_full(c, result.covariance_type, w.shape[1], m.shape[2]) for c in cov])
    return w, m, full


def test_nan_rows_use_the_marginal_of_the_observed_coordinates(tiny_fit):
    """Oracle: SciPy's normal density of the observed coordinate, per draw, then averaged."""
    from scipy import stats
    from scipy.special import logsumexp

    X = np.array([[np.nan, 80.0], [2.0, np.nan], [3.5, 70.0]])
    w, m, cov = _draw_arrays(tiny_fit)
    proba = tiny_fit.predict_proba(X, max_draws=None)
    scores = tiny_fit.score_samples(X)
    for row, j in ((0, 1), (1, 0)):
        x = X[row, j]
        joint = w * stats.norm.pdf(x, m[:, :, j], np.sqrt(cov[:, :, j, j]))  # (S, K)
        np.testing.assert_allclose(proba.mean[row], (joint / joint.sum(1, keepdims=True))
                                   .mean(0), rtol=1e-8, atol=1e-12)
        expected = logsumexp(np.log(joint.sum(1))) - np.log(len(w))
        assert scores[row] == pytest.approx(expected, rel=1e-9)
    # a complete row goes through the same parallel kernel as before
    complete = tiny_fit.predict_proba(X[2:], max_draws=None)
    np.testing.assert_array_equal(proba.mean[2], complete.mean[0])
    est = BayesianGMM.from_result(tiny_fit)
    assert est.predict_proba(X).mean.shape == (3, 2) and np.isfinite(est.score_samples(X)).all()
    with pytest.raises(ValueError, match="every value missing"):
        tiny_fit.predict_proba([[np.nan, np.nan]])


def test_noise_draws_give_p_noise_as_the_last_column(tiny_fit):
    """A posterior with a noise weight: P(noise | x) against the closed form, per draw."""
    import dataclasses

    from scipy import stats

    post = tiny_fit.idata["posterior"].to_dataset()
    rng = np.random.default_rng(0)
    nw = rng.uniform(0.01, 0.2, (post.sizes["chain"], post.sizes["draw"]))
    post = post.assign(weights=post["weights"] * (1 - nw[..., None]),
                       noise_weight=(("chain", "draw"), nw))
    idata = tiny_fit.idata.copy()
    idata["posterior"] = post
    log_noise = -np.log(5.0 * 60.0)
    em = dataclasses.replace(tiny_fit.em, noise_log_density=log_noise, noise_weight=0.1)
    noisy = dataclasses.replace(tiny_fit, idata=idata, em=em)
    X = np.array([[3.0, 70.0], [np.nan, 95.0]])
    proba = noisy.predict_proba(X, max_draws=None)
    assert proba.mean.shape == (2, 3)
    np.testing.assert_allclose(proba.mean.sum(1), 1.0)
    w, m, cov = _draw_arrays(noisy)
    flat_nw = nw.reshape(-1)
    gauss = np.array([[w[s, k] * stats.multivariate_normal.pdf(X[0], m[s, k], cov[s, k])
                       for k in range(2)] for s in range(len(w))])
    noise = flat_nw * np.exp(log_noise)
    expected = (noise / (noise + gauss.sum(1))).mean()
    assert proba.mean[0, 2] == pytest.approx(expected, rel=1e-8)
