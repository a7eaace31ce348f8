"""``BayesianGMM``: the Bayesian mixture behind scikit-learn's estimator conventions.

It follows scikit-learn's API contract (constructor arguments stored as given, ``get_params`` /
``set_params``, ``fit`` returning ``self``, fitted attributes ending in ``_``) without importing
scikit-learn, so ``sklearn.base.clone`` and parameter searches work on it while scikit-learn
stays a test-only dependency.

Where it sits: the surface layer; imports :mod:`bayesgmm.sampling`, the result object and
the data layer; nothing in the package imports it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_random_state
from ._warn import IN_PACKAGE, warn
from .em import ConvergenceWarning, check_sample_size
from .estimator_base import (
    EstimatorBase,
    NotFittedError,
)
from .mixture_draws import mixture_points
from .observation_record import observations_record
from .posterior import BayesResult, MembershipProbabilities
from .priors import Priors
from .sampling import fit_bayes
from .settings import SamplerSettings

__all__ = ["BayesianGMM", "NotFittedError"]

# The constructor's sampling defaults are SamplerSettings' (plain values, as scikit-learn's
# get_params wants them; QA80: restated by hand, they could drift from fit_bayes')
_SAMPLER = SamplerSettings()

# The sampler settings that are constructor parameters (scikit-learn wants flat parameters, so
# the estimator keeps them loose and builds a SamplerSettings in fit).
_CONSTRUCTOR_SETTINGS = ("draws", "tune", "chains", "sampler", "progressbar", "nutpie_backend")
# What a keyword the constructor does not take is here (QA110: BayesianGMM(2,
# target_accept=0.95), the diagnostics' own advice, was "see help(BayesianGMM)").
_KEYWORD_ADVICE = {
    **{name: f"pass it in settings=bayesgmm.SamplerSettings({name}=...)"
       for name in SamplerSettings.names() if name not in _CONSTRUCTOR_SETTINGS},
    "n_init": "the EM start is MAP-EM's best of its own restarts; to choose them, run "
              "bayesgmm.fit_bayes(X, K, em=bayesgmm.fit_em(X, K, n_init=...)) and wrap the "
              "result: BayesianGMM.from_result(...)",
}


class BayesianGMM(EstimatorBase, keyword_advice=_KEYWORD_ADVICE):
    """Gaussian mixture with a full posterior: EM start, marginalised PyMC model, NUTS.

    Parameters
    ----------
    n_components : int, default 1
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
    priors : Priors, optional
        Default ``Priors()`` (weakly informative, on the standardised scale).
    draws : int or "auto", default "auto"
        Draws per chain; "auto" samples until converged (see :func:`bayesgmm.fit_bayes`).
    tune, chains : int, default 1000, 4
    sampler : {"nutpie", "pymc"}, default "nutpie"
    random_state : int, numpy.random.Generator, SeedSequence or RandomState, optional
        Seeds EM and the sampler (a Generator or RandomState: each fit draws its seed from
        it).
    progressbar : bool, default True
    nutpie_backend : {"auto", "native", "numba", "pyfunc", "jax"}, default "auto"
        How nutpie evaluates the model (see :func:`bayesgmm.fit_bayes`).
    missing : {"marginalise", "drop", "refuse"}, default "marginalise"
        NaN in ``X``: integrated out (each point counts with its observed coordinates,
        assuming the values are missing at random), rows with any dropped, or refused. With
        "marginalise", ``predict``/``predict_proba``/``score_samples``/``score`` take NaN
        rows the same way; with "drop" or "refuse" they refuse a row with NaN (except
        ``score`` under "drop", which leaves it out, as the fit did).
    noise : bool, default False
        Add a uniform noise component (Banfield & Raftery 1993) over the data's bounding box.
    noise_volume : float, optional
        With ``noise``: the volume of the noise region instead of the bounding box's.
    settings : SamplerSettings, optional
        The sampler options that are no parameters of their own here (``target_accept``,
        ``retry_target_accept``, ``cores``, ``max_draws``, ``max_time``, ``metric``), e.g.
        ``BayesianGMM(2, settings=SamplerSettings(target_accept=0.95))`` where the
        diagnostics advise a larger target_accept; draws, tune, chains, sampler,
        progressbar and nutpie_backend are the constructor's own (given in ``settings``
        with another value, they are refused, not dropped).

    Attributes
    ----------
    result_ : BayesResult
        Everything the fit produced (see :class:`bayesgmm.posterior.BayesResult`).
    em_ : EMResult
        The (MAP-)EM estimate that started the chains.
    idata_ : xarray.DataTree
        The ArviZ DataTree (``result_.idata``).
    weights_ : ndarray (K,)
        Posterior mean weights of the Gaussian components; with a noise component they sum
        to 1 - ``noise_weight_``.
    noise_weight_ : float
        Posterior mean weight of the uniform noise component (0.0 without one):
        ``weights_.sum() + noise_weight_`` is 1.
    means_ : ndarray (K, D)
    covariances_ : ndarray
        Posterior means, in scikit-learn's shapes for ``covariance_type``.
    precisions_, precisions_cholesky_ : ndarray
        The inverses of ``covariances_`` and their Cholesky factors, in scikit-learn's
        shapes.
    converged_ : bool
        Whether the posterior passed every diagnostic check (``diagnostics().ok``).
    feature_names_in_ : ndarray (D,) of str
        DataFrame column names when all are strings; not set for arrays (as in
        scikit-learn).
    n_features_in_ : int
    label_names_ : tuple of str
        With ``fit(..., labels=names)``: component k's label name is ``label_names_[k]``
        (empty without labels, or with numeric labels, which are component indices).

    Notes
    -----
    New data are matched to the fitted features by column name, in any order, as
    :class:`~bayesgmm.BayesResult` matches them (scikit-learn refuses reordered columns;
    here reading by name cannot take one feature for another, and a pandas user selects by
    name). Other names are refused with the columns to select.

    Examples
    --------
    >>> from bayesgmm import BayesianGMM, load_old_faithful
    >>> X = load_old_faithful()
    >>> gmm = BayesianGMM(2, random_state=0).fit(X)  # doctest: +SKIP
    >>> gmm.predict_proba(X)[:, 1]  # posterior mean P(component 1)  # doctest: +SKIP
    """

    def __init__(
        self,
        n_components: int = 1,
        covariance_type: str = "full",
        priors: Priors | None = None,
        draws: int | str = _SAMPLER.draws,
        tune: int = _SAMPLER.tune,
        chains: int = _SAMPLER.chains,
        sampler: str = _SAMPLER.sampler,
        random_state: Any = None,
        progressbar: bool = _SAMPLER.progressbar,
        nutpie_backend: str = _SAMPLER.nutpie_backend,
        missing: str = "marginalise",
        noise: bool = False,
        noise_volume: float | None = None,
        settings: SamplerSettings | None = None,
    ) -> None:
        self._store_params(locals())

    # -- fitting ------------------------------------------------------------------------------
    def _fit_result(self, X: Any, observed: dict[str, Any]) -> BayesResult:
        result = fit_bayes(
            X, self.n_components, covariance_type=self.covariance_type, priors=self.priors,
            random_state=self.random_state, settings=self.sampler_settings(), **observed,
        )
        checked = result.diagnostics()
        if not checked.ok:  # converged_ False warns, as GaussianMixture's does (QA90: a grid
            # search of failed posteriors said nothing)
            warn(f"the posterior failed its checks, so converged_ is False "
                 f"({checked.brief}): print(estimator.diagnostics()) for every check "
                 "and what to do", ConvergenceWarning, skip_file_prefixes=IN_PACKAGE)
        return result

    def sampler_settings(self) -> SamplerSettings:
        """The constructor's sampling parameters as validated :class:`SamplerSettings`
        (``settings``' other options kept).

        Returns
        -------
        SamplerSettings
            ``settings`` (or the defaults) with the constructor's draws, tune, chains,
            sampler, progressbar and nutpie_backend in place of its own.

        Raises
        ------
        ValueError
            A sampling parameter is out of range (named), or ``settings`` is no
            :class:`SamplerSettings`.
        """
        base = SamplerSettings() if self.settings is None else self.settings
        if not isinstance(base, SamplerSettings):
            raise ValueError(f"settings must be a bayesgmm.SamplerSettings (or None); got "
                             f"{type(base).__name__}")
        # a value settings gives for one of the constructor's own parameters: never dropped
        # silently (QA114: settings=SamplerSettings(draws=2000) ran "auto")
        clash = [name for name in _CONSTRUCTOR_SETTINGS
                 if getattr(base, name) not in (getattr(_SAMPLER, name), getattr(self, name))]
        if clash:
            given = ", ".join(f"{name}={getattr(base, name)!r}" for name in clash)
            raise ValueError(f"settings gives {given}, which BayesianGMM takes as its own "
                             f"parameter(s): pass {given} to BayesianGMM instead")
        return base.replace(**{name: getattr(self, name) for name in _CONSTRUCTOR_SETTINGS})

    @classmethod
    def from_result(cls, result: BayesResult) -> BayesianGMM:
        """A fitted estimator around an existing result (e.g. from ``bayesgmm.load``).

        Its parameters are read back from the result (K, covariance type, priors, draws, tune,
        chains, sampler, back end and seed, the missing-value policy, the noise component and
        its volume), so ``get_params`` describes the fit as far as the constructor's parameters
        reach: the other sampler options (``target_accept``, ``max_draws``, ...) as
        ``settings``. What the constructor does not take (``ordered_means``, the diagnostic
        thresholds) stays in ``result_.settings`` and ``result_.thresholds``; a ``clone``
        refits with their defaults. To repeat the fit
        exactly: ``fit_bayes(X, K, settings=result.sampler_settings,
        thresholds=result.thresholds, random_state=result.settings["random_state"], ...)``.

        Parameters
        ----------
        result : BayesResult
            A posterior from :func:`bayesgmm.fit_bayes`, :func:`bayesgmm.load` or another
            estimator's ``result_``; it is used as is, not copied or refitted.

        Returns
        -------
        BayesianGMM
            Fitted: ``result_`` is ``result`` and every fitted attribute is set from it.

        Raises
        ------
        ValueError
            If ``result`` is not a :class:`~bayesgmm.BayesResult`.
        """
        if not isinstance(result, BayesResult):
            raise ValueError(f"expected a BayesResult; got {type(result).__name__}")
        s = result.sampler_settings or SamplerSettings.from_dict(result.settings, strict=False)
        summary = observations_record(result) or {}
        observed = {"missing": summary.get("missing", "marginalise"),
                    "noise": bool(summary.get("noise", False))}
        if observed["noise"] and result.em.noise_volume_given:
            # the fit was given a volume, not the bounding box: the same volume again, as
            # given (results saved before the record kept it had no box: rebuilt from its
            # log, whose last bit may differ)
            observed["noise_volume"] = summary.get("noise_volume") or float(
                np.exp(-result.em.noise_log_density))
        # the default priors as the default (None), so that get_params equals the original's
        priors = None if result.priors == Priors() else result.priors
        # the other options as settings, None where they are the defaults (get_params as the
        # original's)
        rest = s.replace(**{name: getattr(_SAMPLER, name) for name in _CONSTRUCTOR_SETTINGS})
        est = cls(n_components=result.n_components, covariance_type=result.covariance_type,
                  priors=priors, random_state=result.settings.get("random_state"),
                  **{name: getattr(s, name) for name in _CONSTRUCTOR_SETTINGS}, **observed,
                  settings=None if rest == _SAMPLER else rest)
        est._set_fitted(result)
        est.label_names_ = tuple(summary.get("label_names", ()))
        return est

    def _set_fitted(self, result: BayesResult) -> None:
        self.em_ = result.em
        self.idata_ = result.idata
        self.weights_, self.means_, self.covariances_ = result._posterior_mean()
        self.noise_weight_ = (float(result.posterior["noise_weight"].mean())
                              if result.noise else 0.0)
        # GaussianMixture's names, of the posterior means (as means_ and covariances_ are)
        self._set_common_fitted(result, self.covariances_)

    @property
    def converged_(self) -> bool:
        """Whether the posterior passed every diagnostic check (``diagnostics().ok``): what
        ``GaussianMixture.converged_`` tells its user, that the fit can be used (API QA:
        ``if not gmm.converged_`` raised). The EM start's own convergence is
        ``em_.converged``."""
        result = self._fitted()
        if self.__dict__.get("_converged_of") is not result:  # diagnosed once per fit
            self.__dict__["_converged"] = bool(result.diagnostics().ok)
            self.__dict__["_converged_of"] = result
        return self.__dict__["_converged"]

    def _missing_policy(self) -> str:
        """The fit's own ``missing`` (a later set_params does not change what was fitted)."""
        return (self._fitted().observations_summary or {}).get("missing", "marginalise")

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, X: Any, labels: Any = None) -> np.ndarray:
        """Most probable component (posterior mean membership) of each point, shape (N,);
        -1 for noise; a row with a known label (``labels``, as :meth:`predict_proba` takes
        them) is its label's component.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        labels : array-like (N,), optional

        Returns
        -------
        ndarray (N,) of int
        """
        return self._fitted().predict(self._rows(X), labels=self._label_codes(labels, X))

    def predict_proba(self, X: Any, interval: float = 0.94, labels: Any = None
                      ) -> MembershipProbabilities:
        """Posterior membership probabilities, (N, K) (with a noise component (N, K + 1), its
        probability last).

        The result behaves as its ``.mean`` array, what scikit-learn's ``predict_proba``
        returns (``p[:, 1]``, ``np.asarray(p)``, ``log_loss(y, p)``); ``.lower`` and
        ``.upper`` are the equal-tailed ``interval`` over the posterior draws. ``labels``
        (one per row of X, optional): known components as :meth:`fit` takes them, names by
        ``label_names_``; a labelled row's membership is its label.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        interval : float, default 0.94
            Probability mass of the equal-tailed interval.
        labels : array-like (N,), optional

        Returns
        -------
        MembershipProbabilities
            See :meth:`bayesgmm.BayesResult.predict_proba` (its ``max_draws=1000``).
        """
        return self._fitted().predict_proba(self._rows(X), interval=interval,
                                            labels=self._label_codes(labels, X))

    def impute(self, X: Any, n_imputations: int | None = None, *, labels: Any = None,
               **kwargs: Any) -> np.ndarray:
        """``X`` with its missing values (NaN) filled in under the posterior, X's columns in
        X's order: :meth:`bayesgmm.BayesResult.impute` (its ``max_draws`` and
        ``random_state`` as keywords), ``labels`` as :meth:`predict_proba` takes them. One
        completed data set (N, D), or ``n_imputations`` multiple imputations (m, N, D).

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        n_imputations : int, optional
        labels : array-like (N,), optional
        **kwargs
            ``max_draws`` (default 200), ``random_state`` (default 0).

        Returns
        -------
        ndarray (N, D) or (n_imputations, N, D)
        """
        return self._fitted().impute(self._named_as_fitted(X), n_imputations,
                                     labels=self._label_codes(labels, X), **kwargs)

    def sample(self, n_samples: int = 1, random_state: Any = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Draw from the posterior predictive distribution.

        Each point comes from the mixture of its own random posterior draw, so parameter
        uncertainty is part of the spread. ``random_state`` defaults to the estimator's own
        (as scikit-learn's ``GaussianMixture.sample`` does): with an integer there, every
        call gives the same points.

        Parameters
        ----------
        n_samples : int, default 1
        random_state : int, numpy Generator or None, default None
            None: the estimator's ``random_state``.

        Returns
        -------
        X : ndarray (n_samples, D)
        labels : ndarray (n_samples,)
            The component each point came from (-1: the noise component, uniform in its box).
        """
        result = self._fitted()
        check_sample_size(n_samples)  # QA85: NumPy's words for a bad size or seed
        rng = np.random.default_rng(check_random_state(self.random_state if random_state is None
                                                       else random_state))
        result._check_noise_box()
        w, m, L = result._draws()
        s = rng.integers(w.shape[0], size=n_samples)
        return mixture_points(rng, result._with_noise_weight(w), m, L, s,
                              result.em.noise_bounds if result.noise else None)


    def _criteria_estimate(self) -> Any:
        self._fitted()
        return self.em_

    # -- the result's summaries ---------------------------------------------------------------
    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """ArviZ posterior summary (see :meth:`BayesResult.summary`).

        Parameters
        ----------
        **kwargs
            :meth:`BayesResult.summary`'s: ``var_names``, ``ci_prob`` (default 0.94), ...

        Returns
        -------
        DataFrame
        """
        return self._fitted().summary(**kwargs)

    def diagnostics(self, **thresholds: Any):
        """Convergence diagnostics and verdict (see :meth:`BayesResult.diagnostics`).

        Parameters
        ----------
        **thresholds
            Fields of :class:`~bayesgmm.DiagnosticThresholds`, and the options there.

        Returns
        -------
        Diagnostics
        """
        return self._fitted().diagnostics(**thresholds)

    def compare_em(self, interval: float = 0.94) -> pd.DataFrame:
        """EM estimate beside the posterior (see :meth:`BayesResult.compare_em`).

        Parameters
        ----------
        interval : float, default 0.94
            Probability mass of the equal-tailed interval.

        Returns
        -------
        DataFrame
        """
        return self._fitted().compare_em(interval=interval)

    def save(self, path: str | os.PathLike, overwrite: bool = False):
        """Save the fitted result (see :meth:`BayesResult.save`); reload with
        ``BayesianGMM.from_result(bayesgmm.load(path))``.

        Parameters
        ----------
        path : str or path-like
        overwrite : bool, default False
            Replace an earlier BayesResult saved at ``path``.

        Returns
        -------
        Path
        """
        return self._fitted().save(path, overwrite=overwrite)
