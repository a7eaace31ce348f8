"""A keyword a public function does not take: refused in one line, with the nearest it takes."""

import inspect

import numpy as np
import pytest

import bayesgmm
from bayesgmm._keywords import keyword_hints, unknown_keyword


@pytest.mark.parametrize(("call", "message"), [
    (lambda X: bayesgmm.select_em(X, [2], covariance_type="full"),
     "select_em() got an unexpected keyword argument 'covariance_type'; did you mean "
     "'covariance_types'?"),
    (lambda X: bayesgmm.fit_em(X, 2, covariance_types="full"),
     "fit_em() got an unexpected keyword argument 'covariance_types'; did you mean "
     "'covariance_type'?"),
    (lambda X: bayesgmm.fit_bayes(X, 2, n_draws=10),
     "fit_bayes() got an unexpected keyword argument 'n_draws'; did you mean 'draws'?"),
    (lambda X: bayesgmm.plots.plot_data(X, axes=None),
     "plot_data() got an unexpected keyword argument 'axes'; did you mean 'ax'?"),
    (lambda X: bayesgmm.fit_em(X, 2, seed=1),  # another library's name (review)
     "fit_em() got an unexpected keyword argument 'seed'; did you mean 'random_state'?"),
    (lambda X: bayesgmm.fit_bayes(X, 2, num_warmup=10),
     "fit_bayes() got an unexpected keyword argument 'num_warmup'; did you mean 'tune'?"),
    (lambda X: bayesgmm.fit_em(X, 2, bogus=1),
     "fit_em() got an unexpected keyword argument 'bogus'; see help(fit_em)"),
    (lambda X: bayesgmm.fit_em(X=X, K=2),  # as the messages write K (QA110)
     "fit_em() got an unexpected keyword argument 'K'; did you mean 'n_components'?"),
])
def test_a_keyword_not_taken_names_the_nearest(call, message):
    """QA69: select_em(covariance_type=...) got Python's bare TypeError, with no word of
    covariance_types."""
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(TypeError) as info:
        call(X)
    assert str(info.value) == message


@pytest.mark.parametrize(("call", "message"), [
    (lambda X: bayesgmm.fit_sparse(X, 4, covariance_types="full"),
     "fit_sparse takes no argument(s) 'covariance_types': see help(bayesgmm.fit_bayes); did "
     "you mean 'covariance_type'?"),
    (lambda X: bayesgmm.select_bayes(X, [1, 2], n_draws=10),
     "select_bayes takes no argument(s) 'n_draws': see help(bayesgmm.fit_bayes); did you "
     "mean 'draws'?"),
])
def test_keywords_passed_on_are_refused_by_the_function_given_them(call, message):
    """QA69: fit_sparse(bogus=...) was refused as fit_bayes's TypeError, after its checks."""
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError) as info:
        call(X)
    assert str(info.value) == message


def test_the_wrapped_functions_keep_their_signatures_and_behaviour():
    def f(a, *, b=1):
        return a + b

    wrapped = keyword_hints(f)
    assert inspect.signature(wrapped) == inspect.signature(f) and wrapped(1, b=2) == 3
    assert keyword_hints(lambda **kw: kw)(x=1) == {"x": 1}  # open-ended: as it is
    assert "did you mean" not in unknown_keyword("f", "zzz", ["alpha"])
    assert inspect.signature(bayesgmm.fit_em).parameters["covariance_type"].default == "full"


_START = ("scikit-learn's weights_init, means_init and precisions_init are one "
          "init={'weights': w, 'means': m, 'covariances': c} here (covariances, not precisions: "
          "np.linalg.inv of a full precision matrix)")


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda X: bayesgmm.fit_em(X, 2, means_init=X[:2]), TypeError,
     f"fit_em() got an unexpected keyword argument 'means_init'; {_START}"),
    (lambda X: bayesgmm.EMGaussianMixture(2, precisions_init=None), TypeError,
     f"EMGaussianMixture() got an unexpected keyword argument 'precisions_init'; {_START}"),
    (lambda X: bayesgmm.EMGaussianMixture(2, init_params="kmeans"), TypeError,
     "EMGaussianMixture() got an unexpected keyword argument 'init_params'; did you mean "
     "'init'?"),
    (lambda X: bayesgmm.BayesianGMM(2, draw=10), TypeError,
     "BayesianGMM() got an unexpected keyword argument 'draw'; did you mean 'draws'?"),
    # no namesake here: said for what they are (QA140 L1: "did you mean 'random_state'?")
    (lambda X: bayesgmm.EMGaussianMixture(2, warm_start=True), TypeError,
     "EMGaussianMixture() got an unexpected keyword argument 'warm_start'; there is no warm "
     "start: start from an earlier fit with init=estimator.result_ (or init={'weights': w, "
     "'means': m, 'covariances': c}, its fitted parameters)"),
    (lambda X: bayesgmm.BayesianGMM(2, warm_start=True), TypeError,
     "BayesianGMM() got an unexpected keyword argument 'warm_start'; there is no warm start: "
     "the fit starts at its own EM search (fit_bayes takes an EM start as em=)"),
    (lambda X: bayesgmm.EMGaussianMixture(2).set_fit_request(sample_weights=True), TypeError,
     "EMGaussianMixture.set_fit_request() got an unexpected keyword argument "
     "'sample_weights'; did you mean 'sample_weight'?"),  # QA140 L2: naming EstimatorBase
    (lambda X: bayesgmm.EMGaussianMixture(2).set_score_request(zzz=True), TypeError,
     "EMGaussianMixture.set_score_request() got an unexpected keyword argument 'zzz'; see "
     "help(EMGaussianMixture.set_score_request)"),  # QA142 L1: help(set_score_request)
    (lambda X: bayesgmm.BayesianGMM(2, covariance_prior=None), TypeError,
     "BayesianGMM() got an unexpected keyword argument 'covariance_prior'; the priors are "
     "bayesgmm.Priors' (the Bayesian fit's; see help(bayesgmm.Priors)) and, for EM, "
     "prior=ConjugatePrior(...)"),
    # EM's options given to the Bayesian fit: where they go (QA152 L2: "see help(fit_bayes)")
    (lambda X: bayesgmm.fit_bayes(X, 2, n_init=10), TypeError,
     "fit_bayes() got an unexpected keyword argument 'n_init'; n_init is EM's: the start is "
     "MAP-EM's best of its own restarts; to set it, pass em=bayesgmm.fit_em(X, K, "
     "n_init=...)"),
    (lambda X: bayesgmm.EMGaussianMixture(2).set_params(init_params="kmeans"), ValueError,
     "invalid parameter 'init_params' for EMGaussianMixture; did you mean 'init'?"),
    (lambda X: bayesgmm.fit_em(X, 2, init="k-means++"), ValueError,
     "init must be one of ('kmeans++', 'kmeans', 'random', 'random_from_data', "
     "'plain_kmeans++'), a list of them, a mapping or an EMResult; got 'k-means++'; did you "
     "mean 'kmeans++'?"),
])
def test_scikit_learns_names_are_answered_with_ours(call, error, message):
    """QA90 L5: EMGaussianMixture(init_params=...) and (means_init=...) were Python's bare
    TypeError, fit_em(means_init=...) was asked "did you mean 'n_init'?", and init="k-means++"
    (scikit-learn's spelling) was refused without ours."""
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(error) as info:
        call(X)
    assert str(info.value) == message


def test_the_estimators_keep_their_signatures_and_parameters():
    """The constructors' keyword check leaves scikit-learn's contract as it was: the
    signature, get_params and clone's round trip."""
    for cls in (bayesgmm.EMGaussianMixture, bayesgmm.BayesianGMM):
        wrapped = inspect.signature(cls.__init__)
        assert wrapped == inspect.signature(cls.__init__.__wrapped__)
        est = cls(3, random_state=1)
        params = est.get_params()
        assert params["n_components"] == 3 and params["random_state"] == 1
        assert type(est)(**params).get_params() == params


@pytest.mark.parametrize(("call", "message"), [
    (lambda: bayesgmm.SamplerSettings(chain=2),
     "SamplerSettings() got an unexpected keyword argument 'chain'; did you mean 'chains'?"),
    (lambda: bayesgmm.Priors(mean_sd=1),
     "Priors() got an unexpected keyword argument 'mean_sd'; did you mean 'means_sd'?"),
    (lambda: bayesgmm.DiagnosticThresholds(rhat=1.1),
     "DiagnosticThresholds() got an unexpected keyword argument 'rhat'; did you mean "
     "'rhat_max'?"),
    (lambda: bayesgmm.FigureFiles(dpi=100, vector="pdf"),
     "FigureFiles() got an unexpected keyword argument 'vector'; did you mean "
     "'vector_formats'?"),
])
def test_the_settings_classes_name_the_nearest_keyword(call, message):
    """QA92: the settings classes and Priors gave Python's bare TypeError for a typo."""
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value) == message


def test_the_settings_classes_keep_their_behaviour():
    import dataclasses

    settings = bayesgmm.SamplerSettings(chains=2, draws=300)
    assert dataclasses.replace(settings, tune=500).tune == 500
    assert bayesgmm.Priors(means_sd=1.0).means_sd == 1.0
    assert inspect.signature(bayesgmm.DiagnosticThresholds).parameters["rhat_max"].default \
        == 1.01
