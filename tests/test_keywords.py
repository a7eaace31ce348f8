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
