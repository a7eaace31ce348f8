"""Keyword arguments a public function does not take: refused with the nearest it does.

The public functions name one idea differently where it differs (``covariance_types``, several,
in the selections; ``covariance_type``, one, in a fit), and Python's own TypeError names only
the keyword given (QA69: ``select_em(X, [2], covariance_type="full")``, a bare "unexpected
keyword argument"). :func:`keyword_hints` wraps a public function so that it says which of its
own parameters was probably meant; :func:`check_keywords` does the same for keywords a function
passes on to another (``select_bayes``' and ``fit_sparse``'s to ``fit_bayes``).

Where it sits: the vocabulary layer; imports nothing of bayesgmm (the standard library only).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["check_keywords", "constructor_hints", "keyword_hints", "nearest_hint",
           "unknown_keyword"]


# Other libraries' names for the parameters here, which no spelling makes close (review:
# seed= was answered "see help(fit_em)").
_SYNONYMS = {"seed": "random_state", "random_seed": "random_state", "rng": "random_state",
             "k": "n_components", "n_clusters": "n_components", "G": "n_components",
             "modelNames": "covariance_type", "weights": "sample_weight",
             "n_samples": "draws", "num_samples": "draws", "num_warmup": "tune",
             "n_chains": "chains", "num_chains": "chains", "init_params": "init"}
# scikit-learn's starting values, which are one mapping here (QA90: means_init= was answered
# "did you mean 'n_init'?").
_SKLEARN_STARTS = ("weights_init", "means_init", "precisions_init")
_START_HINT = ("; scikit-learn's weights_init, means_init and precisions_init are one "
               "init={'weights': w, 'means': m, 'covariances': c} here (covariances, not "
               "precisions: np.linalg.inv of a full precision matrix)")


# scikit-learn's and BayesianGaussianMixture's words with no namesake here, said for what
# they are (QA140 L1: warm_start= was "did you mean 'random_state'?", covariance_prior=
# "'covariance_type'?")
_SKLEARN_OWN = {
    "warm_start": "there is no warm start: start from an earlier fit with "
                  "init=estimator.result_ (or init={'weights': w, 'means': m, "
                  "'covariances': c}, its fitted parameters)",
    **{name: f"there is no {name}: the status lines say how a fit goes "
             "(bayesgmm.progress.set_enabled(False) silences them)"
       for name in ("verbose", "verbose_interval")},  # QA164 L8: verbose= had no word
    **{name: "the priors are bayesgmm.Priors' (the Bayesian fit's; see help(bayesgmm.Priors)) "
       "and, for EM, prior=ConjugatePrior(...)"
       for name in ("weight_concentration_prior", "weight_concentration_prior_type",
                    "mean_precision_prior", "mean_prior", "degrees_of_freedom_prior",
                    "covariance_prior")},
}

# EM's options, given to a function that samples from an EM start it takes as em= (QA152 L2:
# fit_bayes(n_init=10) was "see help(fit_bayes)", where BayesianGMM(n_init=10) said where).
_EM_OPTIONS = ("n_init", "init", "max_iter", "tol", "reg_covar", "prior")


def nearest_hint(given: str, taken: Iterable[str]) -> str:
    """"; did you mean 'y'?" where one of ``taken`` is close to ``given`` (a plural, a
    synonym's spelling, another library's name for it), what scikit-learn's start arguments
    are here where ``init`` is taken; "" where none is."""
    taken = [t for t in taken if not t.startswith("_")]
    if given in _SKLEARN_STARTS and "init" in taken:
        return _START_HINT
    if given == "warm_start" and "init" not in taken:
        return ("; there is no warm start: the fit starts at its own EM search (fit_bayes "
                "takes an EM start as em=)")
    if given in _SKLEARN_OWN:
        return f"; {_SKLEARN_OWN[given]}"
    if given in _EM_OPTIONS and "em" in taken:
        return (f"; {given} is EM's: the start is MAP-EM's best of its own restarts; to set "
                f"it, pass em=bayesgmm.fit_em(X, K, {given}=...)")
    # any case: "K=2", as the messages write K (QA110: k= got its hint, K= none)
    synonym = _SYNONYMS.get(given, _SYNONYMS.get(given.lower()))
    close = [synonym] if synonym in taken else \
        difflib.get_close_matches(given, taken, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_keyword(function: str, given: str, taken: Iterable[str],
                    advice: Mapping[str, str] | None = None) -> str:
    """"f() got an unexpected keyword argument 'x'; did you mean 'y'?" (``advice``'s word
    for ``given`` where it has one; else the hint where one of ``taken`` is close: a plural,
    a synonym's spelling, another library's name for it), else Python's own sentence with
    where to look."""
    hint = (f"; {advice[given]}" if advice and given in advice
            else nearest_hint(given, taken) or f"; see help({function})")
    return f"{function}() got an unexpected keyword argument {given!r}{hint}"


def keyword_hints(func: Callable, advice: Mapping[str, str] | None = None) -> Callable:
    """``func``, refusing a keyword it does not take with :func:`unknown_keyword`'s hint (a
    TypeError, as Python's own; ``advice``: keyword -> where it goes instead); a function
    with ``**kwargs`` is left as it is."""
    parameters = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return func
    names = [n for n, p in parameters.items() if p.kind is not p.POSITIONAL_ONLY]
    # a class's constructor is named by its class, as help() takes it; a method by the class
    # of the object it is called on (QA140 L2: "EstimatorBase.set_fit_request()", a base
    # class the user never named; QA142 L1: "help(set_score_request)", no such name)
    name = func.__qualname__.removesuffix(".__init__")
    method = func.__name__ != "__init__" and "." in func.__qualname__ and next(
        iter(parameters), None) == "self"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for given in kwargs:
            if given not in parameters:
                called = f"{type(args[0]).__name__}.{func.__name__}" if method and args \
                    else name
                raise TypeError(unknown_keyword(called, given, names, advice))
        return func(*args, **kwargs)

    return wrapper


def constructor_hints(cls: type) -> type:
    """A class decorator: ``cls``'s constructor refuses a keyword it does not take with
    :func:`keyword_hints`' hint (QA92: SamplerSettings(chain=2) and Priors(mean_sd=1) got
    Python's bare TypeError, where fit_em names the nearest). Put it above ``@dataclass``."""
    cls.__init__ = keyword_hints(cls.__init__)  # type: ignore[method-assign]
    return cls


def check_keywords(given: Mapping[str, Any], function: Callable, what: str,
                   own: Iterable[str] = ()) -> None:
    """Keywords that ``what`` passes on to ``function`` and that it does not take, refused
    with a one-line ValueError before any fit (QA: select_bayes(bogus=1) failed after its
    first fit, with fit_bayes's raw TypeError; QA69: fit_sparse's blamed fit_bayes), with the
    nearest name among ``function``'s parameters and ``what``'s ``own``."""
    parameters = inspect.signature(function).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return  # it takes any keyword
    taken = set(parameters)
    unknown = sorted(set(given) - taken)
    if not unknown:
        return
    raise ValueError(f"{what} takes no argument(s) {', '.join(map(repr, unknown))}: see "
                     f"help({function.__module__.split('.')[0]}.{function.__name__})"
                     + nearest_hint(unknown[0], sorted({*own, *taken})))
