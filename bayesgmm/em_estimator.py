"""``EMGaussianMixture``: the EM fit behind scikit-learn's estimator conventions.

:func:`bayesgmm.fit_em` returns a result object, which has scikit-learn's prediction methods
but no ``fit``, ``get_params`` or fitted attributes, so the fast EM could not go into a
``Pipeline`` or a parameter search (QA: a scikit-learn user had to keep ``GaussianMixture``
there, or pay for a NUTS run per fit with :class:`bayesgmm.BayesianGMM`). This estimator is
``fit_em`` with its arguments as constructor parameters and its result's numbers under
``GaussianMixture``'s attribute names; missing values, frequency weights, known labels and a
noise component work as in ``fit_em``.

Where it sits: the surface layer, beside :mod:`bayesgmm.estimator`; imports
:mod:`bayesgmm.em` and :mod:`bayesgmm.estimator_base`; nothing in the package imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .em import ATOL, EMResult, fit_em
from .estimator_base import EstimatorBase, NotFittedError
from .priors import ConjugatePrior

__all__ = ["EMGaussianMixture", "NotFittedError"]


class EMGaussianMixture(EstimatorBase):
    """Gaussian mixture fitted by EM (maximum likelihood, or MAP under a conjugate prior).

    Parameters
    ----------
    n_components : int, default 1
        Number of Gaussian components K (a noise component not counted).
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
    tol, atol : float, default 1e-3, ``bayesgmm.em.ATOL``
        EM's stopping rule (see :func:`bayesgmm.fit_em`; ``atol=np.inf`` and ``tol`` give
        scikit-learn's).
    reg_covar : float, optional
        Added to every variance (default: :func:`bayesgmm.fit_em`'s, scaled to the data).
    max_iter : int, default 1000
        At most this many EM iterations per restart (see :func:`bayesgmm.fit_em`).
    n_init : int, default 1
        Restarts per initialisation method; the best is kept.
    init : str, tuple of str or mapping, default "kmeans++"
        How restarts begin (``"kmeans++"``, ``"kmeans"``, ``"random"``,
        ``"random_from_data"``, ``"plain_kmeans++"``, a tuple of them, or a mapping of
        starting ``weights``,
        ``means`` and optionally ``covariances``), as in :func:`bayesgmm.fit_em`.
        scikit-learn's ``weights_init``, ``means_init`` and ``precisions_init`` are
        ``init={"weights": w, "means": m, "covariances": c}`` with ``c`` the inverse
        precisions; given all three, the fit equals ``GaussianMixture``'s.
    prior : ConjugatePrior or "default", optional
        MAP-EM under mclust's conjugate prior (``"default"``: data-scaled).
    random_state : int, numpy.random.Generator, SeedSequence or RandomState, optional
        Seeds the restarts and :meth:`sample`; as :func:`bayesgmm.fit_em` takes it.
    missing : {"marginalise", "drop", "refuse"}, default "marginalise"
        NaN in ``X``: integrated out, rows with any dropped, or refused; prediction follows
        the same policy (as :class:`bayesgmm.BayesianGMM`'s).
    noise, noise_volume : bool (default False), float (optional)
        A uniform noise component (Banfield & Raftery 1993), over the data's bounding box
        or, given ``noise_volume``, a region of that volume.

    Attributes
    ----------
    result_ : EMResult
        The fit (:func:`bayesgmm.fit_em`'s result: its report, save, impute, ...).
    weights_, means_, covariances_ : ndarray
        In scikit-learn's shapes; with a noise component the weights sum to
        1 - ``noise_weight_``.
    noise_weight_ : float
    precisions_, precisions_cholesky_ : ndarray
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        The fit's log-likelihood per row (its log posterior per row under a prior), as
        ``GaussianMixture.lower_bound_``, but at the final parameters (scikit-learn's is
        taken one M-step before them).
    n_features_in_ : int
    feature_names_in_ : ndarray (D,) of str
        DataFrame column names when all are strings; not set for arrays (as in scikit-learn).
        A DataFrame given to ``predict`` and the other methods is matched to them by name,
        in whatever order it has its columns (scikit-learn refuses another order); an array
        is taken in their order, with a warning.
    label_names_ : tuple of str

    Examples
    --------
    >>> from bayesgmm import EMGaussianMixture, load_old_faithful
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = load_old_faithful()
    >>> pipe = make_pipeline(StandardScaler(), EMGaussianMixture(2, n_init=10, random_state=0))
    >>> pipe.fit(X).predict(X).shape
    (272,)
    """

    def __init__(
        self,
        n_components: int = 1,
        covariance_type: str = "full",
        tol: float = 1e-3,
        atol: float = ATOL,
        reg_covar: float | None = None,
        max_iter: int = 1000,
        n_init: int = 1,
        init: str | tuple[str, ...] | Mapping[str, Any] = "kmeans++",
        prior: ConjugatePrior | str | None = None,
        random_state: Any = None,
        missing: str = "marginalise",
        noise: bool = False,
        noise_volume: float | None = None,
    ) -> None:
        self._store_params(locals())

    def _fit_result(self, X: Any, observed: dict[str, Any]) -> EMResult:
        return fit_em(X, self.n_components, covariance_type=self.covariance_type,
                      init=self.init, n_init=self.n_init, max_iter=self.max_iter,
                      tol=self.tol, atol=self.atol, reg_covar=self.reg_covar,
                      prior=self.prior, random_state=self.random_state, **observed)

    def _set_fitted(self, result: EMResult) -> None:
        self.weights_, self.means_ = result.weights, result.means
        self.covariances_ = result.covariances
        self.noise_weight_ = float(result.noise_weight)
        self.converged_, self.n_iter_ = bool(result.converged), int(result.n_iter)
        objective = result.log_posterior if result.prior is not None else result.log_likelihood
        self.lower_bound_ = float(objective) / float(result.n_samples)
        self._set_common_fitted(result, result.covariances)

    def _missing_policy(self) -> str:
        return (self._fitted().observations or {}).get("missing", "marginalise")

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, X: Any, labels: Any = None) -> np.ndarray:
        """Most probable component of each row, shape (N,); -1 for noise.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        labels : array-like (N,), optional
            Known components, as :meth:`fit` takes them: a labelled row is its label's.

        Returns
        -------
        ndarray (N,) of int
        """
        return self._fitted().predict(self._rows(X), labels=self._label_codes(labels, X))

    def predict_proba(self, X: Any, labels: Any = None) -> np.ndarray:
        """Membership probabilities, (N, K) (with a noise component (N, K + 1), its last): a
        plain array, as scikit-learn's (``BayesianGMM``'s has ``.mean``, ``.lower``,
        ``.upper``; here use the array itself).

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        labels : array-like (N,), optional
            Known components, as :meth:`fit` takes them: a labelled row's membership is its
            label.

        Returns
        -------
        ndarray (N, K) or (N, K + 1)
        """
        return self._fitted().predict_proba(self._rows(X), labels=self._label_codes(labels, X))

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw from the fitted mixture (seeded by ``random_state``, as scikit-learn's):
        (X (n_samples, D), the component of each, -1 for noise).

        Parameters
        ----------
        n_samples : int, default 1

        Returns
        -------
        X : ndarray (n_samples, D)
        labels : ndarray (n_samples,)
        """
        return self._fitted().sample(n_samples, random_state=self.random_state)

    def impute(self, X: Any, labels: Any = None) -> np.ndarray:
        """X with each missing value replaced by its conditional expectation at the fit
        (:meth:`bayesgmm.EMResult.impute`).

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        labels : array-like (N,), optional
            Known components, as :meth:`fit` takes them.

        Returns
        -------
        ndarray (N, D)
        """
        return self._fitted().impute(self._named_as_fitted(X),
                                     labels=self._label_codes(labels, X))

