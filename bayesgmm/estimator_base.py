"""What the package's scikit-learn-style estimators share: constructor parameters read from
the signature (``get_params`` / ``set_params``, ``repr``, ``clone``), scikit-learn's tags,
the not-fitted error, new data matched to the fitted features (and the warnings scikit-learn
gives), the missing-value policy applied to new rows, and the fitted attributes in
scikit-learn's names and shapes, and ``fit`` itself (each subclass gives its ``_fit_result``).

None of it imports scikit-learn (a test-only dependency) except ``__sklearn_tags__`` and
the metadata-routing methods (``set_fit_request`` and the like, ``get_metadata_routing``),
which only a user of scikit-learn calls.

(Over 500 lines since its scikit-learn methods state their parameters and returns in numpydoc
sections, as short as they go (QA147); the surface they share is one contract.)

Where it sits: the surface layer, below :mod:`bayesgmm.estimator` and
:mod:`bayesgmm.em_estimator` (which subclass :class:`EstimatorBase`); imports the data layer
(:mod:`bayesgmm._validation`, :mod:`bayesgmm.observations`) and :mod:`bayesgmm.kernels`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, Self

import numpy as np
import pandas as pd

from . import kernels
from ._keywords import keyword_hints, nearest_hint
from ._validation import (
    aligned_to_rows,
    check_bool,
    check_data,
    check_sample_weight,
    refuse_non_data,
)
from ._warn import IN_PACKAGE, warn
from .covariance import has_correlations
from .observation_record import name_labels
from .observations import component_labels

__all__ = ["EstimatorBase", "NotFittedError"]

# What scikit-learn's metadata routing may pass to each method (their own keyword arguments):
# with routing on, a search or a pipeline passes them only where they are requested (QA90 M1).
_METADATA = {"fit": ("sample_weight", "labels"), "predict": ("labels",),
             "predict_proba": ("labels",), "score": ("sample_weight",)}
# scikit-learn's UNCHANGED (sklearn.utils.metadata_routing.UNCHANGED): leave a request as it is
_UNCHANGED = "$UNCHANGED$"


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit`` (as in scikit-learn)."""


def not_fitted_error() -> type[NotFittedError]:
    """:class:`NotFittedError`, and where scikit-learn is loaded already (it is no
    dependency, so never imported here) scikit-learn's too, so that ``except
    sklearn.exceptions.NotFittedError`` catches it (QA140 L3)."""
    sklearn = sys.modules.get("sklearn.exceptions")
    theirs = getattr(sklearn, "NotFittedError", None)
    return NotFittedError if theirs is None else _with_sklearns(theirs)


@functools.cache
def _with_sklearns(theirs: type) -> type[NotFittedError]:
    def __reduce__(self: NotFittedError) -> tuple[type, tuple[Any, ...]]:
        return NotFittedError, self.args  # pickled as ours: this class has no importable name

    return type("NotFittedError", (NotFittedError, theirs),
                {"__module__": __name__, "__doc__": NotFittedError.__doc__,
                 "__reduce__": __reduce__})


class EstimatorBase:
    """Constructor parameters as scikit-learn's contract has them, and the fitted result's
    checks of new data. A subclass defines ``__init__`` (the one list of parameters: stored
    as given, validated in ``fit``), sets ``result_`` in ``fit`` through
    :meth:`_set_common_fitted`, and says how its result records the missing-value policy
    (:meth:`_missing_policy`)."""

    n_components: int
    missing: str
    noise: bool
    noise_volume: float | None
    random_state: Any

    def __init_subclass__(cls, keyword_advice: Mapping[str, str] | None = None,
                          **kwargs: Any) -> None:
        # A constructor keyword it does not take is refused with the nearest it does, or what
        # scikit-learn's start arguments are here (QA90: init_params=, means_init=), or
        # ``keyword_advice``'s word on where it goes instead.
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = keyword_hints(cls.__init__, keyword_advice)

    # -- parameters ---------------------------------------------------------------------------
    def _store_params(self, given: dict[str, Any]) -> None:
        """``__init__``'s arguments (its ``locals()``), stored as given and validated in
        ``fit`` (scikit-learn's rule: clone must round-trip). The signature is the one list
        of parameters: get_params and set_params read it too."""
        for name in self._get_param_names():
            setattr(self, name, given[name])

    @classmethod
    def _get_param_names(cls) -> list[str]:
        params = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in params if p.name != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters by name (``deep`` adds ``name__sub`` of nested estimators).

        Parameters
        ----------
        deep : bool, default True

        Returns
        -------
        dict
        """
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Any:
        """Set constructor parameters (``name__sub``: a nested object's); an unknown name
        raises ``ValueError``.

        Parameters
        ----------
        **params

        Returns
        -------
        self
        """
        valid = self._get_param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}"
                                 + (nearest_hint(name, valid) or f"; valid parameters: {valid}"))
            if sub:  # nested parameters: only of objects that take them (Priors do not)
                inner = getattr(self, name)
                if not hasattr(inner, "set_params"):
                    raise ValueError(
                        f"invalid parameter {key!r}: {name!r} has no parameters of its own to "
                        f"set; give a whole new value, e.g. {_whole_value(name, sub, inner)}")
                inner.set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {name: p.default
                    for name, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                   if not (v is defaults[k] or (type(v) is type(defaults[k]) and v == defaults[k]))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's description of the estimator (a density estimator, as
        ``GaussianMixture``; NaN allowed when ``missing="marginalise"``, the only policy under
        which prediction takes rows with NaN: "drop" fits without them but refuses them in
        prediction, so scikit-learn's ``check_estimators_nan_inf``, which finds NaN fitted
        without an error, fails there by design; QA164 L4), for ``Pipeline``, ``clone`` and
        the searches,
        which ask for it. Only scikit-learn calls it, so it imports scikit-learn here, never
        at import time (it is not a dependency)."""
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(estimator_type="density_estimator",
                    target_tags=TargetTags(required=False),
                    input_tags=InputTags(allow_nan=self.missing == "marginalise"),
                    non_deterministic=self.random_state is None)

    # -- scikit-learn's metadata routing ------------------------------------------------------
    # set_fit_request, set_predict_request, set_predict_proba_request, set_score_request: made
    # from _METADATA by _request_setter below the class (as scikit-learn makes its own).

    def get_metadata_routing(self) -> Any:
        """The requests set, as scikit-learn's routers read them.

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
        """
        from sklearn.utils.metadata_routing import MetadataRequest, get_routing_for_object

        if hasattr(self, "_metadata_request"):  # the name scikit-learn's clone copies
            return get_routing_for_object(self._metadata_request)
        request = MetadataRequest(owner=self)
        for method, params in _METADATA.items():
            for param in params:
                getattr(request, method).add_request(param=param, alias=None)
        return request

    def _set_request(self, method: str, **aliases: Any) -> Self:
        from sklearn import get_config

        if not get_config().get("enable_metadata_routing", False):  # as scikit-learn's do
            raise RuntimeError(f"set_{method}_request is for scikit-learn's metadata routing, "
                               "which is off: sklearn.set_config(enable_metadata_routing=True)"
                               " first")
        requests = self.get_metadata_routing()
        for param, alias in aliases.items():
            if not (isinstance(alias, str) and alias == _UNCHANGED):
                getattr(requests, method).add_request(param=param, alias=alias)
        self._metadata_request = requests
        return self

    # -- the fitted state ---------------------------------------------------------------------
    def _fitted(self) -> Any:
        if not hasattr(self, "result_"):
            raise not_fitted_error()(f"this {type(self).__name__} is not fitted yet; call "
                                      "fit(X) before using this method")
        return self.result_

    def _set_common_fitted(self, result: Any, covariances: np.ndarray) -> None:
        """The attributes both estimators have: ``result_``, the feature names as
        scikit-learn sets them, and the precisions of ``covariances`` in its shapes."""
        self.result_ = result
        names = tuple(result.feature_names)
        # as scikit-learn sets it: only for named columns (API QA: x0, x1, ... for arrays);
        # a refit on an array removes an earlier fit's (QA: names of 2 beside 3 features)
        if result.fitted_names is not None:
            self.feature_names_in_ = np.array(names, dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)
        self.n_features_in_ = len(names)
        self.precisions_cholesky_ = kernels.precisions_cholesky(covariances,
                                                               result.covariance_type)
        self.precisions_ = precisions(self.precisions_cholesky_, result.covariance_type)

    def _keep_string_names_only(self, X: Any) -> None:
        """Remove ``feature_names_in_`` when X's column names are not all strings, as
        scikit-learn sets it (QA: integer column names 10, 20 gave ['10', '20'], which a
        tool comparing it with ``X.columns`` finds unequal)."""
        if isinstance(X, pd.DataFrame) and not all(isinstance(c, str) for c in X.columns):
            self.__dict__.pop("feature_names_in_", None)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, labels: Any = None
            ) -> Self:
        """Fit the estimator to ``X``: by EM (:class:`~bayesgmm.EMGaussianMixture`), or by
        EM and then the posterior (:class:`~bayesgmm.BayesianGMM`).

        Parameters
        ----------
        X : array-like (N, D) or (N,), or pandas DataFrame
            DataFrame column names become the feature names (``feature_names_in_`` when all
            are strings). NaN marks a missing value (see ``missing``).
        y : ignored
            Present for scikit-learn pipeline compatibility (known labels go in ``labels``,
            so that a pipeline's ``y`` is never taken for them).
        sample_weight : array-like (N,), optional
            Frequency weights (>= 0, summing to 2 or more): weight 3 counts as three identical rows.
        labels : array-like (N,), optional
            Known components, by the rule of :func:`bayesgmm.fit_em` /
            :func:`bayesgmm.fit_bayes`: numbers are component indices (-1 or NaN = unknown;
            integers, or whole-number floats as a CSV column of integers with blanks reads);
            names (text, categories of text) are sorted and given to components 0, 1, ...
            (empty, None or NaN = unknown), and kept in ``label_names_``.

        Returns
        -------
        self
        """
        if labels is None:
            _warn_of_labels_in_y(y)
        names: tuple[str, ...] = ()
        if labels is not None:
            labels, names = component_labels(labels, self.n_components)
        observed = observation_arguments(self.missing, sample_weight, labels, self.noise,
                                         self.noise_volume)
        result = self._fit_result(X, observed)
        name_labels(result, names)
        self._set_fitted(result)
        self.label_names_ = names
        self._keep_string_names_only(X)
        return self

    def _fit_result(self, X: Any, observed: dict[str, Any]) -> Any:
        """The fit of ``X`` under the constructor's parameters and the observation keywords
        ``observed`` (an :class:`~bayesgmm.EMResult` or :class:`~bayesgmm.BayesResult`)."""
        raise NotImplementedError

    def _set_fitted(self, result: Any) -> None:
        """Set the fitted attributes from ``result``."""
        raise NotImplementedError

    def _missing_policy(self) -> str:
        """The fit's own ``missing`` (a later set_params does not change what was fitted)."""
        raise NotImplementedError

    def fit_predict(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """``fit(X, y, **fit_params)`` then ``predict(X)``: the component of each row of X.

        Under ``missing="drop"`` X must have no NaN (checked before fitting): the fit drops
        such rows, and ``predict`` cannot classify them.

        Parameters
        ----------
        X, y, **fit_params
            As :meth:`fit` takes them.

        Returns
        -------
        ndarray (N,) of int
        """
        if self.missing == "drop":
            refuse_missing(check_data(X, allow_nan=True)[0], "drop")
        # a labelled row is its label's, as in the fit (QA: fit_predict gave a row known to
        # be "short" the other component, which the fit's own memberships did not)
        return self.fit(X, y, **fit_params).predict(X, labels=fit_params.get("labels"))

    # -- new data -----------------------------------------------------------------------------
    def _named_as_fitted(self, X: Any) -> Any:
        """X for the result's checks (named columns matched to the fitted names in any order);
        fitted on an array (names x0, x1, ...), named input is taken in order with a warning;
        fitted on named columns, an array is taken in their order with a warning, as
        scikit-learn warns (QA: silent in the one direction scikit-learn protects)."""
        fitted = list(self._fitted().feature_names)
        refuse_non_data(X, "X")  # before a warning of names it does not have (QA116 L1)
        names = ([str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else
                 [str(X.name)] if isinstance(X, pd.Series) and X.name is not None else None)
        kind = type(self).__name__
        if (names is not None and names != fitted and len(names) == len(fitted)
                and self._fitted().fitted_names is None):
            warn(f"X has feature names {names}, but this {kind} was fitted without "
                 "feature names: its columns are taken in order",
                 skip_file_prefixes=IN_PACKAGE)
            return X
        if names is None and hasattr(self, "feature_names_in_") and _as_wide_as(X, fitted):
            warn(f"X does not have feature names, but this {kind} was fitted with "
                 f"feature names {fitted}: its columns are taken in that order",
                 UserWarning, skip_file_prefixes=IN_PACKAGE)
        return X

    def _checked(self, X: Any) -> np.ndarray:
        """X as the fitted features (N, D), validated once (NaN let through)."""
        fitted = self._fitted()
        Xv, _ = check_data(self._named_as_fitted(X), n_features=len(fitted.feature_names),
                           feature_names=fitted.fitted_names, allow_nan=True)
        return Xv

    def _rows(self, X: Any) -> np.ndarray:
        """:meth:`_checked`, a row with NaN refused unless the fit marginalised (under
        "drop"/"refuse" no prediction is made from part of a row)."""
        Xv = self._checked(X)
        policy = self._missing_policy()
        if policy != "marginalise":
            refuse_missing(Xv, policy)
        return Xv

    def _label_codes(self, labels: Any, X: Any) -> np.ndarray | None:
        """Known labels as component indices (names by ``label_names_``) in X's row order."""
        if labels is None:
            return None
        codes, _ = component_labels(aligned_to_rows(labels, X, "labels"),
                                    self._fitted().n_components,
                                    fitted_names=getattr(self, "label_names_", ()))
        return np.asarray(codes)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean of :meth:`score_samples` per row (higher is better: EM's log-likelihood, a
        posterior's predictive log-density), over the rows the fit would have kept (under
        ``missing="drop"`` the complete rows, so that cross-validation works; under
        ``"refuse"`` a row with NaN is refused), weighted by ``sample_weight`` when given
        (frequency weights, as the fit takes them: a search fitted with weights scores the
        held-out rows with theirs; QA: scikit-learn warned "does not support sample_weight"
        and scored every row once).

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        y : None
            Ignored, as scikit-learn's.
        sample_weight : array-like (N,), optional

        Returns
        -------
        float
        """
        Xv = self._checked(X)
        weights = check_sample_weight(aligned_to_rows(sample_weight, X, "sample_weight"),
                                      Xv.shape[0])
        kept = self._scored_rows(Xv)
        pointwise = self._fitted().score_samples(Xv[kept])
        if weights is None:
            return float(np.mean(pointwise))
        if not weights[kept].any():
            raise ValueError("sample_weight is zero on every row the fit would keep: there "
                             "is nothing to score")
        return float(np.average(pointwise, weights=weights[kept]))

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-density of each row, shape (N,): the EM mixture's (:class:`EMGaussianMixture`),
        the posterior predictive over every draw (:class:`BayesianGMM`); missing values and
        the noise component as the result's ``score_samples`` says
        (:meth:`bayesgmm.EMResult.score_samples`, :meth:`bayesgmm.BayesResult.score_samples`).

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1

        Returns
        -------
        ndarray (N,)
        """
        return self._fitted().score_samples(self._rows(X))

    # -- information criteria, at an EM estimate -------------------------------------------
    def _criteria_estimate(self) -> Any:
        """The EMResult whose BIC and AIC the estimator gives: the fit's own."""
        return self._fitted()

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """BIC on X (lower is better) at the EM estimate: an :class:`EMGaussianMixture`'s own
        fit; for a :class:`BayesianGMM` at ``em_``, the MAP-EM estimate that started the
        chains, not a maximum-likelihood fit.

        A BayesianGMM fits no maximum-likelihood estimate: ``em_`` maximises the log posterior
        under the conjugate prior matched to ``priors``, so its log-likelihood is a little
        below the maximum and this BIC a little above the ML-EM BIC that
        :func:`bayesgmm.select_em` and :func:`bayesgmm.fit_em` give (Old Faithful, K=2 full:
        2322.7 against 2322.2). That is mclust's BIC under a prior (Fraley & Raftery 2007),
        and it scores X at the fitted estimate as scikit-learn's ``bic(X)`` does; to choose K
        by the ML BIC, use :func:`bayesgmm.select_em`.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        sample_weight : array-like (N,), optional
            Frequency weights, as ``fit`` got them (the estimator does not keep them).

        Returns
        -------
        float
            See :meth:`bayesgmm.EMResult.bic`.
        """
        return self._criteria_estimate().bic(self._named_as_fitted(X),
                                             sample_weight=sample_weight)

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """AIC on X (lower is better) at the estimate of :meth:`bic`: an
        :class:`EMGaussianMixture`'s own fit; for a :class:`BayesianGMM` at ``em_``, the MAP-EM
        start, not a maximum-likelihood fit.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        sample_weight : array-like (N,), optional
            As ``fit`` got them.

        Returns
        -------
        float
            ``-2 log L + 2 p`` (:meth:`bayesgmm.EMResult.aic`).
        """
        return self._criteria_estimate().aic(self._named_as_fitted(X),
                                             sample_weight=sample_weight)

    def _scored_rows(self, Xv: np.ndarray) -> np.ndarray:
        """Which rows of X (checked) the fit would have kept, for ``score`` (under
        ``missing="drop"`` the complete rows, so that cross-validation works; under
        ``"refuse"`` a row with NaN is refused)."""
        policy = self._missing_policy()
        if policy == "refuse":
            refuse_missing(Xv, policy)
        nan = np.isnan(Xv)  # the rows the fit would have kept, as it would have kept them
        seen = ~(nan.any(axis=1) if policy == "drop" else nan.all(axis=1))
        if not seen.any():
            raise ValueError("X has no complete row (missing='drop' leaves out every row with "
                             "a NaN): there is nothing to score; give complete rows"
                             if policy == "drop" else
                             "X has no row with an observed value: there is nothing to score")
        return seen



def _request_setter(method: str, params: tuple[str, ...]) -> Callable[..., Any]:
    """``set_{method}_request(self, *, param=UNCHANGED, ...)`` for the ``params`` of
    ``method``, refusing a misspelt key with the nearest (QA140 L2)."""
    named = " and ".join(f"``{p}``" for p in params)

    def set_request(self: EstimatorBase, **aliases: Any) -> EstimatorBase:
        return self._set_request(method, **aliases)

    annotation = "bool | str | None"
    set_request.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=_UNCHANGED,
                             annotation=annotation) for p in params],
        return_annotation="Self")
    set_request.__name__ = f"set_{method}_request"
    set_request.__qualname__ = f"EstimatorBase.{set_request.__name__}"
    set_request.__doc__ = f"""Request {named} for ``{method}`` when scikit-learn's metadata
        routing is on (``sklearn.set_config(enable_metadata_routing=True)``; off: RuntimeError).

        Parameters
        ----------
        {", ".join(params)} : {annotation.replace(" | None", " or None").replace(" |", ",")}
            True passes the search's or pipeline's own, a string the one of that name, False
            none, None refuses one given (the initial request); not given: left as it is.

        Returns
        -------
        self
        """
    return keyword_hints(set_request)


for _method, _params in _METADATA.items():
    setattr(EstimatorBase, f"set_{_method}_request", _request_setter(_method, _params))
del _method, _params


def refuse_missing(Xv: np.ndarray, policy: str) -> None:
    """Refuse rows with NaN in new data when the fit did not marginalise (``policy``)."""
    rows = np.flatnonzero(np.isnan(Xv).any(axis=1))
    if rows.size:
        raise ValueError(f"X has missing values (NaN) in {rows.size} row(s), the first row "
                         f"{int(rows[0])}; a fit with missing={policy!r} takes complete rows "
                         "only: drop those rows (X.dropna()), or fit with "
                         "missing='marginalise' to marginalise them")


def precisions(precisions_cholesky: np.ndarray, covariance_type: str) -> np.ndarray:
    """The precision matrices (inverse covariances) from their Cholesky factors, in
    scikit-learn's shapes: P P^T for full and tied, the squares for diag and spherical."""
    if has_correlations(covariance_type):
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2)
    return precisions_cholesky ** 2


def observation_arguments(missing: str, sample_weight: Any, labels: Any, noise: bool,
                          noise_volume: float | None) -> dict[str, Any]:
    """The fit's observation keywords that differ from their defaults.

    Only those are passed: a plain fit calls exactly what it called before they existed.
    """
    out: dict[str, Any] = {}
    if missing != "marginalise":
        out["missing"] = missing
    if sample_weight is not None:
        out["sample_weight"] = sample_weight
    if labels is not None:
        out["labels"] = labels
    if check_bool(noise, "noise"):  # QA: noise="no" (truthy) fitted a noise component
        out["noise"] = True
    if noise_volume is not None:
        if not noise:
            raise ValueError("noise_volume needs noise=True")
        out["noise_volume"] = noise_volume
    return out


def _warn_of_labels_in_y(y: Any) -> None:
    """A warning where ``y`` looks like scikit-learn's semi-supervised labels (numbers with
    -1 for an unlabelled row) and ``labels`` is not given: ``y`` is ignored (QA140 M1:
    fit(X, y) fitted no label, in silence, as a LabelSpreading user would write it)."""
    if y is None:
        return
    try:
        values = np.asarray(y, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return
    # -1 beside 0, 1, ...: a class target of -1 and 1 has no 0 (QA141 L4)
    if values.size and np.any(values == -1) and np.any(values == 0):
        warn("y is ignored (a pipeline's target is never taken for known labels): "
             "to fit with known components, pass them as labels (fit(X, labels=y); "
             "-1 unknown)", UserWarning, skip_file_prefixes=IN_PACKAGE)


def _whole_value(name: str, sub: str, inner: Any) -> str:
    """How to set ``name`` whole where ``name__sub`` was given, in the value's own type
    (QA164 L2: always ``Priors(...)``, for the sampler settings and EM's start too)."""
    if isinstance(inner, Mapping):
        return f"{name}={{..., {sub!r}: ...}}"
    if dataclasses.is_dataclass(inner):
        return f"{name}=dataclasses.replace(estimator.{name}, {sub}=...)"
    if inner is None and name == "prior":  # EM's: mclust's default, or a whole prior
        # (QA166: "ConjugatePrior(kappa=...)", a field it lacks, and it needs five)
        return ("prior='default' (mclust's conjugate prior) or a whole "
                "bayesgmm.ConjugatePrior(...)")
    kind = {"priors": "Priors", "settings": "SamplerSettings"}
    if inner is None and name in kind:  # the default: the value's type, from bayesgmm
        return f"{name}=bayesgmm.{kind[name]}({sub}=...)"
    return f"{name}=... (it is {inner!r} now)"


def _as_wide_as(X: Any, fitted: list[str]) -> bool:
    """X is a table of the fitted width, so that a warning that its columns are taken in
    order is true: input then refused (another width, a sparse matrix, 3-D) gets the error
    alone (QA164 L5: the warning came first)."""
    if hasattr(X, "tocsr"):  # a SciPy sparse matrix: refused by check_data
        return False
    try:
        shape = np.shape(X)
    except ValueError:  # ragged rows
        return False
    return len(shape) == 2 and shape[1] == len(fitted)
