"""Expectation-maximisation for Gaussian mixtures: maximum likelihood or MAP (conjugate prior).

The E-step is :func:`bayesgmm.kernels.estep` (one fused pass giving the log-likelihood and the
weighted statistics), or :func:`bayesgmm.kernels.estep_plan` for data with missing values, known
labels or a noise component (:mod:`bayesgmm.observations`): the same kernel over groups of rows,
with the missing coordinates' conditional moments completing the statistics (EM for incomplete
data). This module only adds initialisation, restarts, the closed-form M-step per covariance
type, the optional conjugate prior, and convergence. (Over 500 lines: those parts and
the result type share private helpers and are one algorithm; split, they would import each other.)

Where it sits: the estimation layer; imports the observations, the kernel, the priors and the
input checks, and the writers ``EMResult.save`` goes through (:mod:`bayesgmm.result_files`);
imported by the posterior layer and every layer above it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.linalg
from scipy.cluster.vq import kmeans2

from . import column_support, covariance, kernels
from ._docstrings import PREDICTION_PARAMETERS, shared_docs
from ._keywords import keyword_hints, nearest_hint
from ._validation import (
    MIN_RELATIVE_SPREAD,
    MIN_SPREAD,
    aligned_to_rows,
    check_covariance_type,
    check_data,
    check_int,
    check_n_components,
    check_not_singular,
    check_number,
    check_positive,
    check_random_state,
    check_sample_weight,
    default_names,
    draw_seed,
    in_input_column_order,
    singular_columns,
    transposed_hint,
)
from ._warn import IN_PACKAGE, ignored, recorded, warn
from .formatting import format_number
from .imputation import conditional_means
from .isolation import isolated_observations
from .mixture_draws import check_noise_box, mixture_points
from .observations import (
    NoiseFlag,
    Observations,
    check_labels,
    noise_log_ranges,
    prepare_observations,
    with_unobserved_rows,
)
from .optima import data_scale, rival_optimum
from .priors import ConjugatePrior
from .result_files import SavableResult
from .settings import MAX_REG_COVAR, MAX_RESTARTS, START_SUBSAMPLE_ROWS
from .versions import software_versions

__all__ = [
    "ConvergenceWarning",
    "EMResult",
    "StartCandidate",
    "fit_em",
    "fit_map_start",
    "n_parameters",
]

INITS = ("kmeans++", "kmeans", "random", "random_from_data", "plain_kmeans++")
# Restarts from both seedings (fit_em(init=BOTH_INITS)): k-means++ seeds tend to land on gross
# outliers, random data points rarely do; on 585 points with 5 outliers (K=4, 10 restarts
# each, 8 seeds, with noise) k-means++ alone found the best fit on 5 seeds, random points on 8.
BOTH_INITS = ("kmeans++", "random_from_data")
REG_COVAR = 1e-6  # scikit-learn's, and the most fit_em adds by default (default_reg_covar)
# A component whose effective size N_k falls below this is empty: its mean and covariance are
# undefined (0/0), so they are kept from the previous iteration instead.
_EMPTY_NK = 1e-8
# Two fitted components whose Gaussians overlap at least this much (Bhattacharyya coefficient,
# 1 for identical Gaussians) are one component counted twice: a degenerate fit.
_COINCIDENT_OVERLAP = 0.99
# Default absolute tolerance on the change of the total objective (see fit_em's ``atol``).
ATOL = 1e-2
# Starting weight of a noise component (the Gaussians share the rest in their proportions).
_NOISE_START = 0.1


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the change in the objective fell below ``tol``."""


class DegenerateComponentWarning(UserWarning):
    """A component emptied or collapsed during EM, or two components coincide at the end."""


@dataclass(frozen=True)
class StartCandidate:
    """One candidate of :func:`fit_map_start`: where it came from and its objectives.

    Attributes
    ----------
    source : str
        The init family and objective, e.g. ``"MAP-EM, kmeans++ x10"`` or
        ``"ML-EM, kmeans++ x10, polished by MAP-EM"``.
    log_posterior : float
        The MAP objective (log-likelihood + conjugate log prior) at the candidate.
    log_likelihood : float
    weights : tuple of float
        The candidate's mixture weights (enough to tell solutions apart in a report).
    means, covariances : ndarray
        The candidate's other parameters (scikit-learn shapes), to start from it.
    """

    source: str
    log_posterior: float
    log_likelihood: float
    weights: tuple[float, ...]
    means: np.ndarray = field(repr=False, compare=False)
    covariances: np.ndarray = field(repr=False, compare=False)


class _PosteriorOnly:
    """A method a posterior has and an EM fit has not: reading it raises AttributeError with
    what to use instead. A descriptor, not ``__getattr__``, which answered for any property
    that failed inside with its own missing name (QA98)."""

    def __init__(self, instead: str) -> None:
        self.instead = instead

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        raise AttributeError(f"EMResult has no {self.name}(): {self.instead}")


# What a posterior has and an EM fit has not, and what to use instead.
_POSTERIOR_ONLY = {
    "summary": "an EM fit is a point estimate; bayesgmm.estimates_table(em) lists "
               "it, one row per parameter, and fit_bayes(X, K).summary() gives intervals",
    "diagnostics": "sampling diagnostics are a posterior's (fit_bayes); an EM fit's own check "
                   "is em.converged, with em.history, its objective per iteration",
    "compare_em": "it sets a posterior beside its EM start: post = fit_bayes(X, K); "
                  "post.compare_em()",
}


@dataclass(frozen=True, eq=False)
class EMResult(NoiseFlag, SavableResult):
    """A fitted Gaussian mixture (maximum likelihood, or MAP under ``prior``).

    Results compare by identity (``a == b`` means ``a is b``) and hash by ``id``: they hold
    arrays, whose element-wise ``==`` has no single truth value. Compare fields with
    ``numpy.array_equal`` / ``numpy.allclose`` for value equality.

    Attributes
    ----------
    weights : ndarray (K,)
    means : ndarray (K, D)
    covariances : ndarray
        full (K, D, D), tied (D, D), diag (K, D), spherical (K,) (scikit-learn's shapes).
    precisions_cholesky : ndarray
        Upper-triangular Cholesky factors of the precisions, same shapes as ``covariances``.
    covariance_type : str
    log_likelihood : float
        Total log-likelihood of the training data at the final parameters.
    log_posterior : float or None
        ``log_likelihood`` plus the prior's log-density (MAP fits only).
    history : ndarray (n_iter + 1,)
        The objective (log-likelihood, or log posterior with a prior) at the parameters entering
        each iteration, and at the final parameters. Non-decreasing.
    n_iter : int
    converged : bool
    feature_names : tuple of str
    prior : ConjugatePrior or None
    reg_covar : float
    n_samples : float
        Number of training points (sum of the sample weights when weighted).
    warnings : tuple of str
        The :class:`DegenerateComponentWarning` messages of the kept fit (a component that
        emptied, holds too few points for its covariance, collapsed onto the ``reg_covar``
        floor, or coincides with another), each also issued as a warning when fitted; empty
        when there were none. Not the :class:`ConvergenceWarning` (see ``converged``). Not
        compared by ``==``.
    candidates : tuple of StartCandidate
        From :func:`fit_map_start`: every candidate's objectives, best first (empty for
        :func:`fit_em`).
    noise_weight : float
        Weight of the uniform noise component (0 without one); ``weights`` then sum to
        1 - ``noise_weight``.
    noise_log_density : float
        log(1 / volume) of the noise component; -inf without one.
    noise_bounds : ndarray (2, D) or None
        The noise component's box (lower, upper): the data's bounding box, or that box
        scaled to ``noise_volume``; None when the box is flat, and in fits saved with a
        volume before 2 Dec 2026.
    observations : dict or None
        :meth:`bayesgmm.observations.Observations.summary` of the training data: rows and
        values missing, weights, known labels, noise, and under ``"data_warnings"`` the
        warnings about the data themselves (weights that look like design weights, copied
        rows, few distinct values), each also issued when fitted: a fit run in a worker
        process keeps them here, where its printed warnings do not reach the caller.
    settings : dict or None
        How the fit was run, to repeat it: ``init``, ``n_init``, ``max_iter``, ``tol``,
        ``atol``, ``random_state`` (the seed; one drawn when none was given, with
        ``seed_drawn`` True; a description when a NumPy generator was passed, which cannot be
        recorded). None for results saved before it was recorded.
    versions : dict or None
        The software that made the fit (:func:`bayesgmm.versions.software_versions` when it
        was fitted; a loaded result: those its directory recorded). None where unknown.
    features_named : bool or None
        Whether the data named the features (a DataFrame's columns): new data are then
        matched to ``feature_names`` by name, in any column order; False where they are the
        placeholders x0, x1, ... of an array, taken by position. None in results saved before
        it was recorded (placeholder-like names then count as none).
    """

    SAVED_AS: ClassVar[str] = "EMResult"

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    covariance_type: str
    log_likelihood: float
    history: np.ndarray
    n_iter: int
    converged: bool
    feature_names: tuple[str, ...]
    n_samples: float
    reg_covar: float = 1e-6
    prior: ConjugatePrior | None = None
    log_posterior: float | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)
    candidates: tuple[StartCandidate, ...] = field(default=(), compare=False)
    noise_weight: float = 0.0
    noise_log_density: float = -np.inf
    noise_bounds: np.ndarray | None = field(default=None, compare=False)
    observations: dict[str, Any] | None = field(default=None, compare=False)
    settings: dict[str, Any] | None = field(default=None, compare=False)
    versions: dict[str, str] | None = field(default=None, compare=False)
    features_named: bool | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # what a user checks first; every field is an attribute (the arrays run to pages)
        objective = ("" if self.log_posterior is None
                     else f", log posterior {self.log_posterior:.6g}")
        noise = f", noise weight {self.noise_weight:.3g}" if self.noise else ""
        # what was warned when fitted, named where a worker process printed it (QA145 L1)
        said = [f"{n} warning{'s' if n > 1 else ''} {what} ({where})" for n, what, where in (
            (len(self.warnings), "of the fit", ".warnings"),
            (len((self.observations or {}).get("data_warnings", ())), "about the data",
             ".observations['data_warnings']")) if n]
        return (f"EMResult(K={self.n_components}, {self.covariance_type!r}, "
                f"D={self.n_features}, log-likelihood {self.log_likelihood:.6g}{objective}, "
                f"{'converged' if self.converged else 'NOT converged'} after {self.n_iter} "
                f"iterations, weights [{', '.join(f'{w:.3g}' for w in self.weights)}]{noise}"
                f"{'; ' + ', '.join(said) if said else ''})")

    # a posterior's methods called on an EM fit (QA96: students copy post.summary())
    summary = _PosteriorOnly(_POSTERIOR_ONLY["summary"])
    diagnostics = _PosteriorOnly(_POSTERIOR_ONLY["diagnostics"])
    compare_em = _PosteriorOnly(_POSTERIOR_ONLY["compare_em"])

    @property
    def _all_weights(self) -> np.ndarray:
        """The weights with a noise component's last (K + 1 of them), as EM's kernel takes them."""
        return np.append(self.weights, self.noise_weight) if self.noise else self.weights

    @property
    def n_components(self) -> int:
        """K, the number of Gaussian components (a noise component not counted)."""
        return self.weights.shape[0]

    @property
    def n_features(self) -> int:
        """D, the number of features (columns) the fit used."""
        return self.means.shape[1]

    @property
    def label_names(self) -> tuple[str, ...]:
        """The known labels' names (component k is ``label_names[k]``), where the fit was
        given names (the estimators, the command line's ``--labels``); empty otherwise."""
        return tuple((self.observations or {}).get("label_names") or ())

    @property
    def fitted_names(self) -> tuple[str, ...] | None:
        """The names new data's columns are matched to (``feature_names``), or None for a fit
        to unnamed data, whose columns are taken by position."""
        named = (self.features_named if self.features_named is not None
                 else self.feature_names != default_names(self.n_features))
        return self.feature_names if named else None

    @property
    def n_parameters(self) -> int:
        """Number of free parameters (scikit-learn's ``_n_parameters``); with a noise
        component, + 1 for its weight and + 1 for its volume when that was estimated from
        the data (its bounding box), as mclust counts them (``nMclustParams(..., noise =
        TRUE)``), so that BICs compare with mclust's. A ``noise_volume`` given is no free
        parameter and is not counted (mclust counts its ``Vinv`` even when given)."""
        if not self.noise:
            return n_parameters(self.n_components, self.n_features, self.covariance_type)
        return n_parameters(self.n_components, self.n_features, self.covariance_type) + \
            1 + int(not self.noise_volume_given)

    @property
    def gain_left(self) -> float | None:
        """Aitken's estimate of what EM's objective would still gain had it gone on: with
        the last two changes d1, d2 of ``history`` shrinking by the ratio r = d2 / d1 < 1,
        the rest of a geometric climb, d2 r / (1 - r). A rough guide, not a bound: where
        the climb slows further (the ratio grows towards 1, as at a K above the data's
        groups) the gap is larger (measured: up to 50 times, which an Aitken-based stopping
        rule did not close in 1,000 iterations either), and where it speeds up smaller
        (QA85: 3.3 estimated, 1.4 left, two overlapping clusters at K = 2). None where
        the climb is not shrinking that way (or fewer than three values). The default rule
        (a total change below ``atol``) stops EM there while it still climbs (QA83: N = 1e6,
        K = 6, at least 1.15 units short)."""
        h = np.asarray(self.history, dtype=np.float64)
        if h.size < 3 or not np.all(np.isfinite(h[-3:])):
            return None
        d1, d2 = h[-2] - h[-3], h[-1] - h[-2]
        if not (d1 > 0 and 0 <= d2 < d1):
            return None
        r = d2 / d1
        return float(d2 * r / (1.0 - r))

    @property
    def noise_volume_given(self) -> bool:
        """Whether the noise component's volume was given (``noise_volume``), not the data's
        bounding box. Results saved before the record kept the volume (1 Dec 2026) had no box
        when a volume was given."""
        return bool(self.noise) and ((self.observations or {}).get("noise_volume") is not None
                                     or self.noise_bounds is None)

    @property
    def full_covariances(self) -> np.ndarray:
        """Covariances in full form (K, D, D) whatever the covariance type."""
        return covariance.to_full(self.covariances, self.covariance_type,
                                  self.n_components, self.n_features)

    def marginal(self, columns: Sequence[int]) -> EMResult:
        """The fit's mixture over the features ``columns`` alone (indices, in the fit's
        order): a Gaussian mixture's marginal, the same weights with the means' and the
        covariances' entries of those features. The model checks judge the measured columns
        with it where the data also hold a flag or a code (:mod:`bayesgmm.outliers`). Its
        ``log_likelihood`` and ``history`` are the whole fit's (score it on those columns for
        its own); a MAP fit's prior, over every feature, is not kept (``prior`` and
        ``log_posterior`` None; QA84: its saved form did not load). Not for a fit with a
        noise component (its box's marginal density is another uniform's: ValueError).

        Parameters
        ----------
        columns : sequence of int
            Distinct feature indices, 0..D-1, in the order the marginal keeps them.

        Returns
        -------
        EMResult
            A fit over ``len(columns)`` features.

        Raises
        ------
        ValueError
            The fit has a noise component, or ``columns`` is empty, repeats an index or holds
            one outside 0..D-1.
        """
        if self.noise:
            raise ValueError("marginal() of a fit with a noise component is not defined here")
        keep = [int(j) for j in columns]
        if not keep or len(set(keep)) != len(keep) or not all(
                0 <= j < self.n_features for j in keep):
            raise ValueError(f"columns must be distinct feature indices 0..{self.n_features - 1}"
                             f"; got {list(columns)}")
        ct = self.covariance_type
        cov = np.asarray(self.covariances, dtype=np.float64)
        covariances = (cov[..., keep][..., keep, :] if covariance.has_correlations(ct)
                       else cov[:, keep] if ct == "diag" else cov)
        return replace(self, means=np.asarray(self.means)[:, keep], covariances=covariances,
                       precisions_cholesky=kernels.precisions_cholesky(covariances, ct),
                       feature_names=tuple(self.feature_names[j] for j in keep),
                       prior=None, log_posterior=None, candidates=())


    # -- evaluation: all through the one kernel ----------------------------------------------
    def _estep(self, X: Any, labels: np.ndarray | None = None, **kw) -> kernels.EStep:
        """The kernel at the estimate; ``labels`` (-1 unknown): each labelled row by its own
        component only, as the fit saw it (the selection criteria of a labelled fit)."""
        Xv, _ = check_data(X, n_features=self.n_features, feature_names=self.fitted_names,
                           allow_nan=True)
        unobserved = np.isnan(Xv).all(axis=1)
        if unobserved.any():
            return self._with_unobserved_rows(Xv, unobserved, labels, **kw)
        if self.noise or labels is not None or np.isnan(Xv).any():
            plan = kernels.RowPlan.build(
                Xv, labels=labels, log_noise=self.noise_log_density,
                noise_log_ranges=noise_log_ranges(self.noise_log_density, self.noise_bounds,
                                                  self.n_features) if self.noise else None)
            return kernels.estep_plan(plan, self.weights, self.means, self.covariances,
                                      self.covariance_type, noise_weight=self.noise_weight,
                                      return_pointwise=True, **kw)
        return kernels.estep(Xv, self.weights, self.means, self.precisions_cholesky,
                             self.covariance_type, return_pointwise=True, **kw)

    def _rows_and_labels(self, X: Any, labels: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """``X`` checked against the fit (NaN allowed) and ``labels`` as component codes (-1
        unknown; None without labels), matched to ``X``'s rows as the fit matched them."""
        Xv, _ = check_data(X, n_features=self.n_features, feature_names=self.fitted_names,
                           allow_nan=True)
        codes = check_labels(aligned_to_rows(labels, X, "labels"), Xv.shape[0],
                             self.n_components, fitting=False, names=self.label_names)
        return Xv, codes

    def _with_unobserved_rows(self, Xv: np.ndarray, unobserved: np.ndarray,
                              labels: np.ndarray | None, **kw) -> kernels.EStep:
        """:meth:`_estep` when some rows have no observed value: such a row's marginal
        density is over no coordinates, 1 (log 0), so its memberships are the weights (a
        labelled one's, its label, with log-density log w_k); the other rows as usual."""
        seen = ~unobserved
        if seen.any():
            rest = self._estep(Xv[seen], None if labels is None else labels[seen], **kw)
        else:  # nothing observed anywhere: no kernel pass, only the weights
            rest = kernels.EStep(log_likelihood=0.0, stats=None, pointwise=np.zeros(0),
                                 resp=np.zeros((0, self.n_components + self.noise))
                                 if kw.get("return_resp") else None)
        pointwise, resp = with_unobserved_rows(  # one draw: the estimate
            seen, rest.pointwise[None], None if rest.resp is None else rest.resp[None],
            self._all_weights[None], labels)
        return replace(rest, pointwise=pointwise[0], resp=None if resp is None else resp[0])

    @shared_docs(PREDICTION_PARAMETERS)
    def score_samples(self, X: Any) -> np.ndarray:
        """Log-density of the mixture at each point, shape (N,).

        A row with missing values (NaN) gets the density of its observed values (the
        mixture's marginal); a row with none observed, 0 (the density of nothing observed
        is 1): scores of rows with different columns observed are densities in different
        dimensions, not comparable as anomaly scores. With a noise component the noise
        term is ``noise_weight / volume`` at every point, inside the box or not (the fit's
        convention, mclust's), so scores have that floor and do not integrate to 1: rank
        far points by P(noise | x) (``predict_proba(X)[:, -1]``) instead.

        Parameters
        ----------
        {X_with_gaps}

        Returns
        -------
        ndarray (N,)
        """
        return self._estep(X).pointwise

    def score(self, X: Any, sample_weight: Any = None, *, labels: Any = None) -> float:
        """Mean log-likelihood per point, weighted by ``sample_weight`` when given (pass the
        fit's weights for the fit's own mean; held-out rows usually have none); rows the fit
        would leave out are left out; ``labels`` as in :meth:`bic`.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        sample_weight : array-like (N,), optional
            Frequency weights; the mean is over their sum.
        labels : array-like (N,) of int, optional
            Known components (-1 unknown).

        Returns
        -------
        float
            The (weighted) mean of :meth:`score_samples` over the kept rows.

        Raises
        ------
        ValueError
            No row the fit would keep, weights zero on all of them, or NaN in ``X`` for a fit
            with ``missing="refuse"``.
        """
        log_likelihood, n = self._total_log_likelihood(X, sample_weight, labels)
        return log_likelihood / n

    @shared_docs(PREDICTION_PARAMETERS)
    def predict_proba(self, X: Any, *, labels: Any = None) -> np.ndarray:
        """Membership probabilities (responsibilities), shape (N, K), or (N, K + 1) with a
        noise component (its probability last); rows sum to 1. Rows with missing values
        (NaN) are classified by their observed values; a row with none observed gets the
        weights (nothing about it tells the components apart). ``labels`` (known components,
        -1 or NaN unknown, as the fit took them): a labelled row's membership is its label,
        as :meth:`bayesgmm.BayesResult.predict_proba`'s.

        {X_and_labels_section}

        Returns
        -------
        ndarray (N, K) or (N, K + 1)
        """
        if labels is None:
            return self._estep(X, return_resp=True).resp
        Xv, codes = self._rows_and_labels(X, labels)
        return self._estep(Xv, codes, return_resp=True).resp

    @shared_docs(PREDICTION_PARAMETERS)
    def impute(self, X: Any, *, labels: Any = None) -> np.ndarray:
        """``X`` with each missing value (NaN) replaced by its conditional expectation given
        the row's observed values under the fitted mixture, shape (N, D), its columns in
        ``X``'s order (a DataFrame's own, whatever order it names the features in); with
        ``labels``
        (known components, -1 or NaN unknown, as the fit took them) a labelled row from its
        own component.

        These are the EM estimate's expectations: they carry no parameter uncertainty, and
        they are means, not draws (an analysis that treats them as observed understates its
        standard errors). A row with nothing observed gets the mixture's mean. For multiple
        imputations under the posterior, see :meth:`bayesgmm.BayesResult.impute`.

        {X_and_labels_section}

        Returns
        -------
        ndarray (N, D)
            Observed values unchanged.
        """
        Xv, codes = self._rows_and_labels(X, labels)
        e = self._estep(Xv, codes, return_resp=True)
        filled = conditional_means(Xv, e.resp, self.means, self.full_covariances,
                                   noise_bounds=self.noise_bounds)
        return in_input_column_order(filled, X, self.fitted_names)

    @shared_docs(PREDICTION_PARAMETERS)
    def predict(self, X: Any, *, labels: Any = None) -> np.ndarray:
        """Most probable component of each point, shape (N,); -1 for noise; ``labels`` as
        :meth:`predict_proba` takes them (a labelled row is its label's component).

        {X_and_labels_section}

        Returns
        -------
        ndarray (N,) of int
        """
        best = np.argmax(self.predict_proba(X, labels=labels), axis=1)
        return np.where(best == self.n_components, -1, best)

    def bic(self, X: Any, sample_weight: Any = None, *, labels: Any = None) -> float:
        """Bayesian information criterion on X (lower is better): -2 log L + p log N.

        With ``sample_weight`` (frequency weights, as the fit took them) log L is weighted
        and N is the sum of the weights. The rows the fit leaves out are left out: those with
        every value missing, and under ``missing="drop"`` those with any. With ``labels``
        (known components, -1 unknown, as the fit took them) a labelled row counts by its own
        component only, as in :attr:`log_likelihood`: the fit's own BIC on its data.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        sample_weight : array-like (N,), optional
            Frequency weights (a ``UserWarning`` when the fit was weighted and these are
            not given).
        labels : array-like (N,) of int, optional
            Known components (-1 unknown).

        Returns
        -------
        float
            ``-2 log L + p log N``, p = :attr:`n_parameters`.

        Raises
        ------
        ValueError
            As :meth:`score`: no row to score, or NaN that the fit refused.
        """
        self._warn_if_unweighted("bic", sample_weight)
        log_likelihood, n = self._total_log_likelihood(X, sample_weight, labels)
        return float(-2.0 * log_likelihood + self.n_parameters * np.log(n))

    def aic(self, X: Any, sample_weight: Any = None, *, labels: Any = None) -> float:
        """Akaike information criterion on X (lower is better): -2 log L + 2 p; weights,
        labels and left-out rows as in :meth:`bic`.

        Parameters
        ----------
        X : array-like (N, D), or (N,) when D = 1
        sample_weight : array-like (N,), optional
            Frequency weights, as in :meth:`bic`.
        labels : array-like (N,) of int, optional
            Known components (-1 unknown).

        Returns
        -------
        float
            ``-2 log L + 2 p``.
        """
        self._warn_if_unweighted("aic", sample_weight)
        log_likelihood, _ = self._total_log_likelihood(X, sample_weight, labels)
        return float(-2.0 * log_likelihood + 2.0 * self.n_parameters)

    def _warn_if_unweighted(self, criterion: str, sample_weight: Any) -> None:
        """A weighted fit's criterion without its weights is another data set's: say so."""
        if sample_weight is None and (self.observations or {}).get("weighted"):
            warn(f"this fit was weighted (sample_weight) but {criterion}(X) got no "
                 "weights: the criterion is of the unweighted rows, not the fit's "
                 f"own; pass the weights ({criterion}(X, sample_weight))",
                 UserWarning, skip_file_prefixes=IN_PACKAGE)

    def _total_log_likelihood(self, X: Any, sample_weight: Any, labels: Any = None
                              ) -> tuple[float, float]:
        """(log L, N) of the criteria: weighted, over the rows the fit would keep."""
        Xv, _ = check_data(X, n_features=self.n_features, feature_names=self.fitted_names,
                           allow_nan=True)
        weights = check_sample_weight(aligned_to_rows(sample_weight, X, "sample_weight"),
                                      Xv.shape[0])
        codes = check_labels(aligned_to_rows(labels, X, "labels"), Xv.shape[0],
                             self.n_components)
        nan = np.isnan(Xv)
        policy = (self.observations or {}).get("missing", "marginalise")
        if policy == "refuse" and nan.any():
            raise ValueError("X has missing values (NaN), which this fit refused "
                             "(missing='refuse'): remove them, or refit with "
                             "missing='marginalise' or 'drop'")
        dropped = policy == "drop"
        kept = ~(nan.any(axis=1) if dropped else nan.all(axis=1))
        if not kept.any():
            raise ValueError("X has no row the fit would keep (every row has a missing value)"
                             if dropped else "X has no row with an observed value")
        if weights is not None and not weights[kept].any():
            rows = "complete row" if dropped else "row with an observed value"
            raise ValueError(f"sample_weight is zero on every {rows}: there is nothing to score")
        pointwise = self._estep(Xv[kept], None if codes is None else codes[kept]).pointwise
        if weights is None:
            return float(pointwise.sum()), float(pointwise.shape[0])
        return float(weights[kept] @ pointwise), float(weights[kept].sum())

    def sample(self, n_samples: int = 1, random_state: Any = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Draw from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default 1
            Number of points, 1 to 10**9.
        random_state : int, numpy Generator or None, default None
            Seeds the draws; None: fresh entropy.

        Returns
        -------
        X : ndarray (n_samples, D)
        labels : ndarray (n_samples,)
            The component each draw came from (-1: the noise component).
        """
        check_sample_size(n_samples)
        random_state = check_random_state(random_state)  # QA82: NumPy's words, no name
        check_noise_box(self.noise, self.noise_bounds)
        # x = mu + L z with Sigma = L L^T: the one draw from a mixture (the posterior's too)
        chol = covariance.cholesky(self.full_covariances)
        return mixture_points(np.random.default_rng(random_state), self._all_weights[None],
                              self.means[None], chol[None], np.zeros(n_samples, dtype=int),
                              self.noise_bounds if self.noise else None)


# EMResult.sample's most draws at once: 10**9 rows of D floats are 8 GB a column.
MAX_SAMPLE = 10**9


def n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    """Free parameters of a K-component Gaussian mixture in D dimensions, as scikit-learn
    counts them: the p of BIC = -2 log L + p log N.

    Parameters
    ----------
    n_components : int
        K, the number of Gaussian components (a noise component's weight is not counted:
        :attr:`EMResult.n_parameters` adds it).
    n_features : int
        D, the number of features (columns).
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    int
        K - 1 weights + K D means + the covariances' free entries: K D (D + 1) / 2 (full),
        D (D + 1) / 2 (tied), K D (diag), K (spherical).
    """
    # public: checked (QA119 M5: K = 0 gave -1 parameters, K = 2.5 gave 13)
    K, D = check_n_components(n_components), check_int(n_features, "n_features")
    return int(covariance.n_covariance_parameters(covariance_type, K, D) + K * D + K - 1)


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------
@keyword_hints
def fit_em(
    X: Any,
    n_components: int,
    *,
    covariance_type: str = "full",
    init: str | tuple[str, ...] | Mapping[str, Any] | EMResult = "kmeans++",
    n_init: int = 1,
    max_iter: int = 1000,
    tol: float = 1e-3,
    atol: float = ATOL,
    reg_covar: float | None = None,
    prior: ConjugatePrior | str | None = None,
    sample_weight: Any = None,
    random_state: Any = None,
    labels: Any = None,
    missing: str = "marginalise",
    noise: bool = False,
    noise_volume: float | None = None,
) -> EMResult:
    """Fit a Gaussian mixture by EM (maximum likelihood, or MAP with a conjugate prior).

    Parameters
    ----------
    X : array-like (N, D) or (N,), pandas DataFrame, or Observations
        Data; 1-D input is one feature; DataFrame column names are kept as feature names;
        NaN marks a missing value (see ``missing``). The caller's object is never modified.
    n_components : int
        Number of components K >= 1.
    covariance_type : {"full", "tied", "diag", "spherical"}
    init : str, mapping or EMResult
        ``"kmeans++"`` (greedy k-means++ seeding, scikit-learn's, and one Lloyd step, on
        standardised data), ``"kmeans"`` (Lloyd's k-means from those seeds, 20 steps),
        ``"plain_kmeans++"`` (SciPy's k-means++, one row per seed, and one Lloyd step: the
        ``"kmeans++"`` of releases before 6 Dec 2026, whose seeded fits it repeats; more
        diverse, so :func:`fit_map_start`'s MAP-EM restarts use it),
        ``"random"`` (random responsibilities),
        ``"random_from_data"`` (K distinct data points as means, the data covariance for every
        component), a tuple of these families (``n_init`` restarts from each, the best kept:
        k-means++ seeds tend to land on gross outliers, random data points rarely do), a
        mapping with ``"means"`` and optionally ``"weights"`` and ``"covariances"`` (sklearn
        shapes), or an :class:`EMResult` to start from its parameters.
        ``"random"`` follows scikit-learn: averaging random responsibilities puts every initial
        component near the mean of the data, where the objective is nearly flat, so EM can
        stop after a couple of iterations with coincident components (a
        :class:`DegenerateComponentWarning` says so; under scikit-learn's rule alone,
        ``atol=np.inf``, it often does).
    n_init : int
        Restarts; the fit with the highest objective is kept, a proper one before any
        degenerate one: under maximum likelihood (no prior) a restart that collapsed a
        component (fewer points than its covariance needs, or a variance on the
        ``reg_covar`` floor) reaches a higher likelihood by a spurious singularity, so it
        is kept only when every restart collapsed (then with a
        :class:`DegenerateComponentWarning`). ``settings["degenerate_restarts_passed_over"]``
        counts the restarts passed over with a higher likelihood (scikit-learn keeps the
        highest). Ignored (with a warning) for explicit initial parameters, which are
        deterministic.
    max_iter : int
        At most this many iterations (then a :class:`ConvergenceWarning`). 1000, not
        scikit-learn's 100: with strongly overlapping components EM creeps, and reaching the
        optimum to ``atol`` took 178 iterations at N=1e6 (``bench_em.py --stopping``).
    tol, atol : float
        EM has converged when the change of the objective between successive iterations is
        below ``tol`` per sample (per unit of sample weight: scikit-learn's rule) *and* at
        most ``atol`` in total (log-likelihood units; log-posterior units with a prior;
        ``atol=0``: only when the objective no longer changes at all). The
        per-sample rule alone stops further from the optimum the larger N is: it lets the
        total still move by ``tol * N`` per iteration, while log-likelihood differences (BIC,
        likelihood ratios) matter in absolute units whatever N. Measured
        (``benchmarks/bench_em.py --stopping``): the per-sample rule alone stopped 3.6 units
        short of a ``tol=1e-10`` fit at N=1e6 (and 250 units at N=1e5 with overlapping
        components); the default ``atol=0.01`` ended within 0.02. EM converges linearly, so
        the remaining gap is about ``atol * r / (1 - r)`` for a rate r: larger when EM creeps.
        ``atol=np.inf`` (with the same ``max_iter``) gives scikit-learn's rule exactly, same
        iterations and same result; so does any ``atol >= tol * N``, where the per-sample rule
        is the stricter one.
    reg_covar : float, optional
        Added to the diagonal of every covariance, keeping them positive definite. Default:
        scikit-learn's 1e-6, or 1e-6 of the smallest column variance (over its observed
        values) where that is below 1, so that a column in small units (sd 3e-6) is not
        floored at sd 1e-3 while it is fitted (QA: that floor let a noise component claim
        every row); the value used is ``reg_covar`` of the result. Pass ``reg_covar=1e-6``
        for scikit-learn's rule on any data.
    prior : ConjugatePrior, "default" or None
        MAP-EM under a conjugate prior; ``"default"`` is mclust's data-scaled default
        (:meth:`ConjugatePrior.default`; for diag, each column scaled by its own variance
        where mclust's VVI takes their mean). ``history`` then tracks the log posterior.
    sample_weight : array-like (N,), optional
        Frequency weights g_n >= 0.
    random_state : int, numpy Generator, SeedSequence, BitGenerator or RandomState, or None
        Seeds the restarts: an integer and ``np.random.default_rng`` of it give the same fit.
        Without one a seed is drawn and recorded (``settings["random_state"]``, with
        ``settings["seed_drawn"]``), so that the fit can be repeated; a generator is used as
        it is (and advanced), so the record says it cannot be repeated from there: pass an
        integer for a record that repeats the fit. (:func:`~bayesgmm.fit_bayes` instead draws
        an integer seed from a generator and records that.)
    labels : array-like (N,) of int, optional
        Known components (0..K-1; -1 unknown): a labelled point contributes only its own
        component's density. With every point labelled the fit is the per-group closed form
        (discriminant analysis).
    missing : {"marginalise", "drop", "refuse"}
        What NaN values mean: integrated out (the default; assumes they are missing at
        random), rows dropped, or an error. EM then uses the missing coordinates' conditional
        expectations (EM for incomplete data).
    noise : bool
        Add a uniform noise component (Banfield & Raftery 1993) over the data's bounding box
        or ``noise_volume``; its weight is ``noise_weight`` of the result. Its density is
        1 / volume everywhere, as mclust's: prediction and scoring of new points outside the
        box use it too, so far outliers are classified as noise.
    noise_volume : float, optional
        With ``noise``: the noise component's volume V, in the data's units (the product of
        the features' units), instead of the data's bounding box; its density is 1 / V. The
        region is the bounding box scaled about its centre to volume V: its shape decides
        the noise density of a row with missing values (the box's marginal over the row's
        observed features), so that it does not depend on the features' units.
        A V smaller than the box's warns: 1 / V then exceeds a uniform density over the
        data's range and can claim most points. Refused without ``noise=True``.

    Returns
    -------
    EMResult

    Raises
    ------
    ValueError
        For bad data (infinite values; NaN only under ``missing="refuse"``, as by default it
        is a missing value; wrong ndim, non-numeric, values too large for float64, fewer
        points than components, constant columns with ``reg_covar=0``) or bad parameters,
        with a message naming the problem.

    Warns
    -----
    DegenerateComponentWarning
        A component became empty, holds too few points for its covariance (ML only), its
        covariance collapsed onto the reg_covar floor in some direction (ML only; tied or
        discrete values, the columns named), or the
        kept fit has components that practically coincide (Gaussians overlapping by at least
        99%, Bhattacharyya coefficient). The messages are also in ``EMResult.warnings``.
    ConvergenceWarning
        ``max_iter`` was reached.

    Examples
    --------
    >>> from bayesgmm import fit_em, load_old_faithful
    >>> em = fit_em(load_old_faithful(), 2, n_init=10, random_state=0)
    >>> em.weights.round(3), em.converged
    (array([0.644, 0.356]), True)
    >>> em.means.round(1)  # (K, D): eruption length and waiting time, minutes
    array([[ 4.3, 80. ],
           [ 2. , 54.5]])
    """
    K = check_n_components(n_components)
    covariance_type = check_covariance_type(covariance_type)
    if isinstance(init, list) and init and all(isinstance(i, str) for i in init):
        init = tuple(init)  # init families as a list, as a parameter grid gives them (QA)
    obs = prepare_observations(X, K, missing=missing, sample_weight=sample_weight,
                               labels=labels, noise=noise, noise_volume=noise_volume)
    Xv, names = obs.X, obs.feature_names
    N, D = Xv.shape
    Xc = obs.start_rows  # checks and starting values need complete rows
    from . import progress  # lazily: keeps import light; a no-op unless a caller's step runs

    if check_int(n_init, "n_init") > MAX_RESTARTS:
        raise ValueError(f"n_init must be at most {MAX_RESTARTS:,} restarts; got {n_init:,}")
    check_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol", allow_zero=True)
    atol = _check_atol(atol)
    # the columns' variances over their observed values (QA: over mean-filled start rows a
    # column observed in 2 of 60 rows looked 27 times narrower, and so did the floor)
    reg_covar = default_reg_covar(obs.X, obs.sample_weight) if reg_covar is None else \
        check_reg_covar(reg_covar)
    random_state, record = _seed_record(random_state)
    # after the checks: a refused call would use up the notice (QA120 L3)
    progress.em_first_run_notice(plan=obs.needs_plan)  # on a cold cache, seconds of compiling
    record = {"init": _init_record(init), "n_init": n_init, "max_iter": max_iter, "tol": tol,
              "atol": atol, **record}
    if reg_covar == 0 and prior is None:
        check_not_singular(Xc, names, covariance_type,
                           advice="drop the column(s) named, or pass reg_covar > 0, e.g. 1e-6")
    else:  # regularised: it can be fitted, but say which columns make it need that
        problem = singular_columns(Xc, names, covariance_type)
        if problem is not None:
            warn(f"{problem}; the covariances are singular and the fit rests on "
                 "reg_covar / the prior (drop the column(s) named)", UserWarning,
                 skip_file_prefixes=IN_PACKAGE)
    # the columns' variances over their observed values, as the floor's default (review)
    _warn_if_reg_covar_dominates(obs.X, names, reg_covar, obs.sample_weight)
    if covariance.has_correlations(covariance_type):
        _warn_if_reg_covar_floors_a_direction(obs.X, names, reg_covar, obs.sample_weight)
    if covariance_type == "spherical":
        _warn_if_one_variance_cannot_fit(obs.X, names, obs.sample_weight)
    if isinstance(prior, str) and _few_rows_beyond_float64(obs.prior_rows):
        # the data-scaled default would be scaled by them: see _few_rows_beyond_float64
        raise ValueError(_numerical_failure(np.linalg.LinAlgError(
            "a prior covariance is numerically singular"), Xc, names))
    prior = _resolve_prior(prior, obs.prior_rows, K, covariance_type, obs.prior_weights)
    # values, not rows; said once: the fit's own "too many parameters" is then left out (QA152
    # L1: three warnings, two categories, one problem and one advice)
    underdetermined = prior is None and N * D <= n_parameters(K, D, covariance_type)
    if underdetermined:
        warn(
            f"{N} row(s) x {D} feature(s) = {N * D} values for "
            f"{n_parameters(K, D, covariance_type)} free parameters (K={K}, "
            f"{covariance_type!r}): maximum likelihood cannot determine them (components "
            "shrink onto single points, held only by reg_covar); fit fewer components, a "
            "simpler covariance type, or with a conjugate prior (prior='default')"
            + transposed_hint(N, D), DegenerateComponentWarning, skip_file_prefixes=IN_PACKAGE)
    # a start's names are matched to the data's where the data name their features
    starts = _check_init(init, K, D, covariance_type, n_init,
                         names if obs.features_named is not False else None)
    if starts[0] is not None and starts[0][2] is None:
        starts = [_covariances_around(obs, obs.prior_rows, obs.prior_weights, *starts[0][:2],
                                      covariance_type, reg_covar)]
    if starts[0] is not None and obs.noise:  # explicit start: give the noise its share
        w0, m0, c0 = starts[0]
        nw = init.noise_weight if isinstance(init, EMResult) and init.noise else _NOISE_START
        starts = [(np.append(w0 * (1 - nw), nw), m0, c0)]

    rng = np.random.default_rng(random_state)
    best = None
    best_key: tuple[bool, float] = (False, -np.inf)
    keys: list[tuple[bool, float]] = []  # (proper, objective) of every restart that ran
    optima: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = []  # proper runs' ends
    captured: list[str] = []
    failed: list[Exception] = []  # restarts that failed numerically: left out, said below
    others: dict[tuple[type, str], Warning] = {}
    families = init if isinstance(init, tuple) else (init,)
    for i, child in enumerate(rng.spawn(len(starts)) if starts[0] is None else [None]):
        if len(starts) > 1:  # where a long fit has got to (QA: 50 s silent at 1e6 rows)
            progress.detail(f"EM restart {i + 1} of {len(starts)}")
        params = starts[0] if starts[0] is not None else _initialise(
            obs, Xc, K, covariance_type, families[i * len(families) // len(starts)],
            reg_covar, child)
        with recorded() as caught:
            try:
                run = _run_em(obs, params, covariance_type, reg_covar, prior, max_iter, tol,
                              atol)
            except (np.linalg.LinAlgError, kernels.NotPositiveDefiniteError) as exc:
                # one restart's failure is that start's (high-dimension QA: the 4th of 4
                # failed the whole fit, and select_em's cell, where 3 had converged)
                failed.append(exc)
                run = None
        # only EM's own warnings are the best run's to tell; others (numpy, numba's cache)
        # are told once per fit, with their own category, from any restart (review)
        for w in caught:
            if not issubclass(w.category, DegenerateComponentWarning):
                others.setdefault((w.category, str(w.message)), w.message)
        if run is None:
            continue
        # A proper fit before a degenerate one (a component on too few points, or collapsed
        # onto the reg_covar floor): the likelihood of such a spurious singularity is
        # unbounded, not the data's (mclust: no BIC); select_em's cell would be excluded for
        # a restart that other, proper restarts did not need (QA: seed-dependent choices).
        proper = prior is not None or not _degenerate(run[0], obs, names, covariance_type,
                                                      reg_covar)
        key = (proper, float(run[1][-1]))
        keys.append(key)
        if proper:
            optima.append((key[1], run[0][0][:K], run[0][1], run[0][2]))
        if best is None or key > best_key:
            best, best_key = run, key
            captured = _iterations_merged([str(w.message) for w in caught
                                           if issubclass(w.category,
                                                         DegenerateComponentWarning)])
    for message in others.values():
        warn(message, skip_file_prefixes=IN_PACKAGE)
    if best is None:  # every start failed: the data or reg_covar, not a start
        raise ValueError(_numerical_failure(failed[-1], Xc, names)) from failed[-1]
    if failed:
        captured.append(f"{len(failed)} of {len(starts)} EM restarts failed numerically "
                        f"({failed[-1]}) and were left out; the "
                        "fit is the best of the others (a larger reg_covar (--reg-covar), or "
                        "a prior, "
                        "keeps such starts proper)")
    params, history, n_iter, converged, final_ll = best
    # recorded, so that a higher log-likelihood elsewhere (scikit-learn's, from the same
    # restarts) is explained: those restarts collapsed a component
    passed_over = sum(1 for proper, objective in keys if not proper and objective > best_key[1])
    if passed_over:
        record["degenerate_restarts_passed_over"] = passed_over
    if len(keys) > 1:  # the stopping rule's slack: restarts it ended apart reached one optimum
        within = max(_SAME_OPTIMUM, 2.0 * min(atol, tol * float(obs.n_effective)))
        record["restarts_at_best"] = _restarts_at_best(keys, best_key, within)
        # another solution about as good: a second mode chains from this one may miss
        rival = rival_optimum(best_key[1], params[1], optima,
                              data_scale(obs.X, obs.sample_weight))
        if rival is not None:
            record["rival_optimum"] = rival
    n_eff = obs.n_effective
    nk = params[0][:K] * n_eff
    observed = _observed_counts(obs, params, covariance_type)
    if prior is None:  # a prior keeps few-point covariances proper (a lone point may be one)
        restarts = len(starts) if starts[0] is None else None
        # with more parameters than rows, restarts cannot help: that comes first (QA97: 2,105
        # parameters for 500 rows, told only "try more restarts first")
        too_many = [] if underdetermined else _parameter_messages(nk, D, covariance_type)
        captured += too_many + _collapse_messages(nk, D, covariance_type,
                                                  None if too_many or underdetermined
                                                  else restarts)
        # beside the spread of the rows the components hold: a noise component's isolated
        # rows left out (QA101: one row 1e4 sds out made both real clusters "collapsed")
        captured += _spike_messages(params, nk, covariance_type, obs.prior_rows,
                                    obs.prior_weights)
        captured += _floor_messages(params, nk, covariance_type, reg_covar, obs.prior_rows,
                                    names, obs.prior_weights, observed)
    captured += _few_observed_messages(observed, nk, covariance_type, names, prior)
    captured += _unpaired_messages(obs, covariance_type, names, prior)
    captured += _coincidence_messages(params, nk, covariance_type, init)
    far = _far_groups(obs, params, covariance_type)
    if far:  # named for the one-group notes, which leave them out (QA159 M1)
        record["far_components"] = [k for k, _ in far]
        captured += _far_group_messages(far, K, len(starts) if starts[0] is None else None)
    if obs.noise and params[0][K] > 1 - 1e-3:  # QA64: only "consider fewer components"
        captured.append(f"the noise component takes nearly every row (its weight "
                        f"{params[0][K]:.4f}): its density 1/V is above the Gaussians' nearly "
                        "everywhere; give a larger noise_volume (at least the data's bounding "
                        "box) or leave it out to use the box")
    for msg in captured:
        warn(msg, DegenerateComponentWarning, skip_file_prefixes=IN_PACKAGE)
    if not converged:
        # the last change the rule tested (history ends with the parameters' evaluation after
        # the loop, which no rule tested; QA97: "did not converge ... last change 0")
        tested = history[-2] - history[-3] if len(history) >= 3 else None
        after = abs(history[-1] - history[-2])
        last = ("no change tested in one iteration" if tested is None else
                f"last change {tested:.3g} in total, {tested / n_eff:.3g} per sample")
        warn(
            f"EM did not converge in max_iter={max_iter} iterations ({last}; tol={tol} per "
            f"sample, atol={atol} in total); "
            + ("the parameters it ended at meet the rule (one more iteration would have "
               "stopped): increase max_iter by one or more" if after / n_eff < tol
               and after <= atol else
               "increase max_iter, tol or atol, or check the initialisation"),
            ConvergenceWarning,
            skip_file_prefixes=IN_PACKAGE,
        )
    weights, means, covariances = params
    return EMResult(
        weights=weights[:K],
        means=means,
        covariances=covariances,
        precisions_cholesky=kernels.precisions_cholesky(covariances, covariance_type),
        covariance_type=covariance_type,
        log_likelihood=final_ll,
        log_posterior=float(history[-1]) if prior is not None else None,
        history=history,
        n_iter=n_iter,
        converged=converged,
        feature_names=names,
        features_named=obs.features_named,
        n_samples=n_eff,
        reg_covar=reg_covar,
        prior=prior,
        warnings=tuple(captured),
        noise_weight=float(weights[K]) if obs.noise else 0.0,
        noise_log_density=obs.noise_log_density,
        noise_bounds=obs.noise_bounds,
        observations=obs.summary(),
        settings=record,
        versions=software_versions(),
    )


def _seed_record(given: Any) -> tuple[Any, dict[str, Any]]:
    """The seed to run with (``given`` checked), and how the result records it: a seed is
    drawn (and recorded) when none was given, so that every fit can be repeated; a plain
    SeedSequence is recorded as its entropy, the integer that names the same stream (QA86),
    a spawned one (a sweep's cell) as the expression that makes it again; a NumPy
    generator, which has advanced, cannot be, and the record names its type as given
    (QA86: a RandomState was called a Generator)."""
    random_state = check_random_state(given)
    if random_state is None:
        seed = draw_seed()
        return seed, {"random_state": seed, "seed_drawn": True}
    if isinstance(random_state, int):
        return random_state, {"random_state": random_state, "seed_drawn": False}
    if (isinstance(given, np.random.SeedSequence) and isinstance(given.entropy, int)
            and not given.spawn_key and not given.n_children_spawned
            and given.pool_size == np.random.SeedSequence().pool_size):
        return random_state, {"random_state": int(given.entropy), "seed_drawn": False}
    if (isinstance(given, np.random.SeedSequence) and isinstance(given.entropy, int)
            and not given.n_children_spawned
            and given.pool_size == np.random.SeedSequence().pool_size):
        # a sweep's cell (QA112: "not recordable", its fit could not be repeated alone): the
        # expression that repeats it, fit_em(..., random_state=<it>)
        key = tuple(int(k) for k in given.spawn_key)
        return random_state, {"random_state": f"np.random.SeedSequence({given.entropy}, "
                                              f"spawn_key={key})", "seed_drawn": False}
    return random_state, {"random_state": f"a NumPy {type(given).__name__} (not "
                                          "recordable: pass an integer seed to repeat the fit)",
                          "seed_drawn": False}


def _init_record(init: Any) -> Any:
    """``init`` as the record states it: the seeding family or families, or "given"."""
    if isinstance(init, str):
        return init
    if isinstance(init, tuple) and all(isinstance(f, str) for f in init):
        return list(init)
    return "given (an explicit start)"


def fit_map_start(
    X: Any,
    n_components: int,
    *,
    covariance_type: str = "full",
    prior: ConjugatePrior | str = "default",
    n_init: int = 10,
    max_iter: int = 1000,
    subsample: int | str | None = "auto",
    random_state: Any = None,
    **data: Any,
) -> EMResult:
    """The best posterior mode EM can find: several init families, all polished by MAP-EM.

    MAP-EM from k-means++ restarts alone can settle in a local optimum that a different start
    avoids (on Fisher's iris, K=3 full: weights 0.61 / 0.05 / 0.33, log-likelihood -213, while
    ML-EM finds the three species at -181). The candidates are

    - MAP-EM from ``n_init`` plain k-means++ restarts (``fit_em(..., prior=prior,
      init="plain_kmeans++")``: from the greedy seeding of ``fit_em``'s default it left iris
      at the poorer mode more often);
    - MAP-EM from ``n_init`` ``"random_from_data"`` restarts (K data points as means, the
      data covariance for all: a family that does not depend on k-means' partition);
    - ML-EM from ``n_init`` k-means++ restarts, then MAP-EM started at the ML estimate (the ML
      mode is often the natural one; polishing moves it to the nearby posterior mode);

    and the one with the highest log posterior (MAP objective) is returned, with every
    candidate's objectives in ``candidates``. A family that fails numerically (e.g. ML-EM
    collapsing a component) is skipped.

    On many rows the search runs on a random subsample (``subsample``): finding the basin
    needs far fewer rows than locating its mode precisely, and 30 restarts on 1e7 rows took
    about an hour on 2 cores. Each family's best is then scored on every row, and MAP-EM
    polishes on every row the best one and each other one that is a different solution
    (its log-density differs from theirs at the sampled rows) and could still overtake it
    (see :func:`_polish_on_all_rows`).

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
    n_components : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    prior : ConjugatePrior or "default"
        ``"default"`` is computed from every row, also when the search runs on a subsample.
    n_init : int
        Restarts per family.
    max_iter : int
        EM iterations per restart, and per polish on every row, at most.
    subsample : "auto", int or None
        Rows to search on: ``"auto"`` is :data:`bayesgmm.settings.START_SUBSAMPLE_ROWS`
        (100,000) when there are more than twice as many stored rows (frequency weights
        do not count: the cost is per stored row), else all; an int, that many (all when
        there are no more); None, all rows. The rows are drawn without replacement from
        ``random_state``; their frequency weights are scaled to the whole data's total, so
        the prior weighs against them as against every row. The search's restarts stop by
        EM's default rule as it would be on those rows unweighted (``atol = 0.01 N / n``,
        their objective being scaled by N / n); the polish on every row meets the default
        rule itself.
    random_state : int, numpy Generator, SeedSequence, BitGenerator or RandomState, or None
        The k-means++ MAP family uses it as ``fit_em`` would, so without a subsample its
        candidate is exactly ``fit_em(X, K, n_init=n_init, prior=prior,
        init="plain_kmeans++", random_state=...)``.
    **data
        ``sample_weight``, ``labels``, ``missing``, ``noise``, ``noise_volume`` as in
        :func:`fit_em` (validated once here).

    Returns
    -------
    EMResult
        The best candidate, with ``candidates`` filled in (best first; their objectives on
        every row). Its warnings are re-issued; the other candidates' are not (they were
        not kept). ``settings["subsample"]``: the rows searched on, or None.
    """
    if prior is None:
        raise ValueError("fit_map_start needs a prior (a ConjugatePrior or 'default'); for ML "
                         "use fit_em")
    unknown = set(data) - {"sample_weight", "labels", "missing", "noise", "noise_volume"}
    if unknown:
        raise TypeError(f"fit_map_start() got unexpected keyword argument(s) {sorted(unknown)}")
    K = check_n_components(n_components)
    covariance_type = check_covariance_type(covariance_type)
    check_int(max_iter, "max_iter")
    obs = prepare_observations(X, K, **data)
    n_search = _search_rows(subsample, obs, K)
    random_state, seed_record = _seed_record(random_state)
    # spawn(3)[:2] are spawn(2)'s children: a fit without a subsample is as it always was
    child = np.random.default_rng(random_state).spawn(3) if not isinstance(
        random_state, np.random.Generator) else random_state.spawn(3)
    common: dict[str, Any] = dict(covariance_type=covariance_type, n_init=n_init,
                                  max_iter=max_iter)
    search = obs
    if n_search is not None:
        search = obs.subsample(n_search, child[2])
        # the whole data's prior and floor: the subsample stands for every row
        prior = _resolve_prior(prior, obs.prior_rows, K, covariance_type, obs.prior_weights)
        # and EM's default stopping rule as on those rows unscaled (their objective is
        # scaled by N / n)
        common.update(reg_covar=default_reg_covar(obs.X, obs.sample_weight),
                      atol=ATOL * obs.n_samples / n_search)

    def ml_polished():
        # the ML fit is only a start for the MAP polish: its warnings (a component collapsed
        # under ML, which the prior then holds) are not the candidate's
        with ignored():
            ml = fit_em(search, K, random_state=child[1], **common)
        return fit_em(search, K, init=ml, prior=prior,
                      **{k: v for k, v in common.items() if k != "n_init"})

    # plain k-means++ seeds for the MAP restarts: more diverse than the greedy ones, which
    # on iris (K = 3 full) left this family at the -213 mode 52 times in 160 seeds, and the
    # start 15 times, against 29 and 6 (QA121)
    families = (
        (f"MAP-EM, kmeans++ x{n_init} (plain seeds)",
         lambda: fit_em(search, K, prior=prior, init="plain_kmeans++",
                        random_state=random_state, **common)),
        (f"MAP-EM, random_from_data x{n_init}",
         lambda: fit_em(search, K, prior=prior, init="random_from_data",
                        random_state=child[0], **common)),
        (f"ML-EM, kmeans++ x{n_init}, polished by MAP-EM", ml_polished),
    )
    from . import progress  # lazily, as in fit_em

    where = "" if n_search is None else f" on {n_search:,} of {obs.n_samples:,} rows"
    fits = []
    for i, (source, run) in enumerate(families):
        with recorded() as caught, progress.within(
                f"start family {i + 1} of {len(families)} ({source}){where}"):
            try:
                result = run()
            except ValueError:  # numerical failure of this family: the others may do
                continue
        fits.append((source, result, caught))
    if not fits:  # every family failed: let the first one raise its own message
        families[0][1]()
    if n_search is not None:
        fits = _polish_on_all_rows(obs, search, fits, prior, max_iter)
    fits.sort(key=lambda f: -f[1].log_posterior)
    candidates = tuple(
        StartCandidate(source, float(r.log_posterior), float(r.log_likelihood),
                       tuple(float(w) for w in r.weights), r.means, r.covariances)
        for source, r, _ in fits
    )
    source, best, caught = fits[0]
    for w in caught:
        warn(w.message, w.category, skip_file_prefixes=IN_PACKAGE)
    # the record is this search's (its seed is the one given, or drawn here), not that of the
    # winning family's own fit_em call, which got a child seed or none at all
    record = {"init": f"fit_map_start: the best of {len(families)} start families{where}"
                      f"{'' if n_search is None else ', polished on all rows'} "
                      f"({source} won)", "n_init": n_init, "subsample": n_search,
              "max_iter": best.settings.get("max_iter"), "tol": best.settings.get("tol"),
              "atol": best.settings.get("atol"), **seed_record,
              # what its n_iter and history count: a polish, or a MAP family's best restart
              "iterations_of": "polish" if "polished" in source else "restart"}
    # another solution about as good, among the families' bests and their restarts' (those
    # on a subsample are on its scale: left out)
    others = [(r.log_posterior, r.weights, r.means, r.covariances) for _, r, _ in fits[1:]]
    for _, r, _ in fits if n_search is None else ():
        found = (r.settings or {}).get("rival_optimum")
        if found:
            others.append((r.log_posterior - found["objective_gap"], found["weights"],
                           np.asarray(found["means"]), found["covariances"]))
    rival = rival_optimum(best.log_posterior, best.means, others,
                          data_scale(obs.X, obs.sample_weight))
    if rival is not None:
        record["rival_optimum"] = rival
    if best.settings.get("far_components"):  # the winner's own warning's, kept with it
        record["far_components"] = best.settings["far_components"]
    return replace(best, candidates=candidates, settings=record)


def _search_rows(subsample: Any, obs: Observations, K: int) -> int | None:
    """The rows :func:`fit_map_start` searches on, or None for all of them."""
    if subsample is None:
        return None
    if isinstance(subsample, str):
        if subsample != "auto":
            raise ValueError(f"subsample must be 'auto', a number of rows or None; got "
                             f"{subsample!r}")
        rows = START_SUBSAMPLE_ROWS
        return rows if obs.n_samples > 2 * rows else None
    rows = check_int(subsample, "subsample")
    least = max(K, 2 * obs.n_features + 1)
    if rows < least:
        raise ValueError(f"subsample must be at least {least} rows (K, and more than 2 D for "
                         f"the starting covariances); got {rows}")
    return rows if rows < obs.n_samples else None


# Root mean square difference of two fits' log-densities (nats) below which they are one
# solution (_polish_on_all_rows).
SAME_SOLUTION_RMS = 2e-3


def _polish_on_all_rows(obs: Observations, search: Observations, fits: list, prior,
                        max_iter: int) -> list:
    """Each family's best from the subsample, scored on every row; MAP-EM on every row from
    the best and from each other one that is a different solution and could overtake it.

    A different solution: its log-density differs from every polished one's at the sampled
    rows by over 2e-3 nats (root mean square; measured on K=4-6, D=4: restarts that found
    the same mode agree to 1e-4-2e-4, different modes differ by 2e-2-0.5). Could overtake:
    its objective on every row is within ``p N / n`` of the best's (p free parameters, n of
    N rows searched). Polishing moves a subsample's mode to the whole data's, and the
    objective gains about ``p / 2 * N / n`` on average from that (the excess loss of an
    estimate from n rows), so a candidate further below than twice that is
    not polished (its objective at the subsample's estimate is still reported)."""
    first = fits[0][1]
    K, D, covariance_type = first.n_components, first.n_features, first.covariance_type
    margin = (n_parameters(K, D, covariance_type) + first.noise) * obs.n_samples \
        / search.n_samples
    scored = []
    for source, fit, caught in fits:
        params = _params_of(fit)
        e = _evaluate(obs, params, covariance_type)
        on_sample = _evaluate(search, params, covariance_type, return_pointwise=True).pointwise
        scored.append((_objective(e.log_likelihood, params, prior), float(e.log_likelihood),
                       source, fit, caught, on_sample))
    scored.sort(key=lambda s: -s[0])
    from . import progress  # lazily, as in fit_em

    out, polished_densities = [], []
    for objective, log_likelihood, source, fit, _, on_sample in scored:
        where = f", found on {search.n_samples:,} of {obs.n_samples:,} rows"
        same = any(np.sqrt(np.mean((on_sample - d) ** 2)) < SAME_SOLUTION_RMS
                   for d in polished_densities)
        if polished_densities and (same or scored[0][0] - objective > margin):
            why = "the same solution as a better one" if same else "too far below the best"
            out.append((f"{source}{where}, not polished ({why})",
                        replace(fit, log_posterior=objective, log_likelihood=log_likelihood,
                                n_samples=obs.n_effective, observations=obs.summary()), []))
            continue
        with recorded() as caught_here, progress.within(
                f"polishing the start on all {obs.n_samples:,} rows ({source})"):
            polished = fit_em(obs, K, covariance_type=covariance_type, init=fit, prior=prior,
                              max_iter=max_iter, reg_covar=fit.reg_covar)
        polished_densities.append(on_sample)
        out.append((f"{source}{where}, polished on all rows", polished, caught_here))
    return out


def _params_of(fit: EMResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EM's parameter tuple for a fit (a noise component's weight last among the weights)."""
    return fit._all_weights, fit.means, fit.covariances


def default_reg_covar(X: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """scikit-learn's reg_covar, 1e-6, or 1e-6 of the smallest positive column variance of
    ``X`` (over each column's observed values; rows counted by their frequency weights) when
    that is below 1: the floor stays
    1e-6 of every column's variance. Constant and numerically constant columns (a spread of
    rounding noise: :func:`bayesgmm._validation.singular_columns`'s rule) do not count: the
    singular-column checks name them, and the floor is what holds their covariances."""
    variance = covariance.column_moments(X, sample_weight)[1]
    with np.errstate(invalid="ignore"):
        magnitude = np.nanmax(np.abs(X), axis=0)
    sd = np.sqrt(variance)
    positive = variance[(sd >= MIN_SPREAD) & (sd >= MIN_RELATIVE_SPREAD * magnitude)]
    return REG_COVAR * min(1.0, float(positive.min())) if positive.size else REG_COVAR


# Column sds further apart than this make one spherical variance a poor model: it is set by the
# widest column, and the narrow ones cannot separate anything (QA: columns 1e13 apart, the
# noise component took every row of a spherical fit).
_SPHERICAL_SD_RATIO = 100.0


def _warn_if_one_variance_cannot_fit(Xc: np.ndarray, names, weights=None) -> None:
    """A spherical fit has one variance per component for every column: say when the
    columns' sds differ so much that it cannot fit them, naming the narrowest and widest."""
    sd = np.sqrt(covariance.column_moments(Xc, weights)[1])  # rows counted by weight
    spread = sd > 0
    if spread.sum() < 2:
        return
    narrow = int(np.flatnonzero(spread)[np.argmin(sd[spread])])
    wide = int(np.argmax(sd))
    if sd[wide] > _SPHERICAL_SD_RATIO * sd[narrow]:
        warn(
            f"covariance_type='spherical' gives every column one variance, but column "
            f"{names[wide]!r} has sd {sd[wide]:.3g} and {names[narrow]!r} {sd[narrow]:.3g} "
            f"({sd[wide] / sd[narrow]:.2g}x): the narrow columns then barely count; "
            "standardise the columns, or use 'diag'", UserWarning, skip_file_prefixes=IN_PACKAGE)


def _warn_if_reg_covar_dominates(Xc: np.ndarray, names, reg_covar: float,
                                 weights=None) -> None:
    """reg_covar is added to every variance in data units (as scikit-learn does): on a column
    whose spread is near its square root (values ~1e-8 apart) it floors the sds at
    sqrt(reg_covar) and EM cannot resolve the clusters there. Say so, naming the columns."""
    variance = covariance.column_moments(Xc, weights)[1]  # rows counted by weight
    floored = [str(n) for n, v in zip(names, variance, strict=True)
               if reg_covar > 0 and 0 < v < 100 * reg_covar]
    if floored:
        warn(
            f"reg_covar={reg_covar:g} is at least 1% of the variance of column(s) {floored}: "
            f"it floors their sds at about {np.sqrt(reg_covar):.2g}, so EM cannot resolve "
            "clusters there; rescale those columns (e.g. standardise) or pass a smaller "
            "reg_covar", UserWarning, skip_file_prefixes=IN_PACKAGE)


# The share of the least variant of its columns' variances below which a combination of
# columns is their dependence, not their scale (see _warn_if_reg_covar_floors_a_direction).
_DEPENDENT_SHARE = 1e-4


def _warn_if_reg_covar_floors_a_direction(X: np.ndarray, names, reg_covar: float,
                                          weights=None) -> None:
    """:func:`_warn_if_reg_covar_dominates` for a combination of columns: columns dependent
    up to the file's rounding (a derived column ``c = 2a - b`` written to 4 decimals) have
    their data's least variance along ``2a - b - c`` below 100 x reg_covar while every column
    varies widely. A full or tied covariance is then floored there, and the log-likelihood
    and the criteria are set by reg_covar, not by the data (QA144 M2: 106 -> 289 as reg_covar
    went 1e-6 -> 1e-10, without a word; exact dependence is refused by
    :func:`bayesgmm._validation.singular_columns`). Judged on the complete rows."""
    complete = ~np.isnan(X).any(axis=1)
    weights = None if weights is None else weights[complete]
    if reg_covar <= 0 or X.shape[1] < 2 or np.count_nonzero(complete) <= X.shape[1] or (
            weights is not None and np.count_nonzero(weights) <= X.shape[1]):
        return
    cov = covariance.data_covariance(X[complete], weights)[1]
    values, vectors = np.linalg.eigh(cov)
    if not 0 < values[0] < 100 * reg_covar:
        return
    loadings = np.abs(vectors[:, 0])
    columns = np.flatnonzero(loadings >= 0.25 * loadings.max())
    # dependent: the columns each vary 1e4 times more than their combination (R^2 > 0.9999);
    # a narrow column is _warn_if_reg_covar_dominates' case, named there
    if len(columns) < 2 or values[0] > _DEPENDENT_SHARE * np.diag(cov)[columns].min():
        return
    involved = [str(names[j]) for j in columns]
    warn(
        f"columns {involved} are nearly linearly dependent (one derived from the others, "
        f"written to a few decimals?): the data vary by only sd {np.sqrt(values[0]):.2g} "
        f"along a combination of them, against sds of {np.sqrt(np.diag(cov)[columns].min()):.3g}"
        f" or more for each, and reg_covar={reg_covar:g} is at least 1% of that variance, so "
        "the covariances are floored there and the log-likelihood and criteria rest partly "
        "on reg_covar; drop one of those columns, or pass a smaller reg_covar", UserWarning,
        skip_file_prefixes=IN_PACKAGE)


def _check_atol(atol: Any) -> float:
    """``atol`` >= 0; ``np.inf`` is allowed (it switches the total-change rule off); a string
    or a bool is refused, not converted, as ``tol`` is (review: "0.5" and True were taken)."""
    return check_number(atol, "atol", lambda v: v >= 0,  # NaN fails
                        "a number >= 0 (np.inf for scikit-learn's rule alone)")


def _robust_spread(X: np.ndarray) -> np.ndarray:
    """Per column: the interquartile range / 1.349 (a Gaussian's sd), else the sd, else 1."""
    q75, q25 = np.percentile(X, [75, 25], axis=0)
    spread = (q75 - q25) / 1.349
    spread = np.where(spread > 0, spread, X.std(axis=0))
    return np.where(spread > 0, spread, 1.0)


def _few_rows_beyond_float64(X: np.ndarray) -> bool:
    """Whether a few rows (at most D + 1, or 1% of them) lie further from their column's
    median than float64 can hold beside the rest, 1/sqrt(eps) ~ 7e7 robust sds: an absurd
    outlier (1e100), which would scale mclust's data-scaled prior so that it means nothing
    for the other rows (its check compared the prior's Cholesky diagonal across columns,
    which also refused mere units 1e13 apart). Many such rows are a cluster of their own
    beside a tight one (review: 85% of rows within 1e-10, 15% at 1000), not an outlier."""
    z = np.abs(X - np.median(X, axis=0)) / _robust_spread(X)
    beyond = int(np.count_nonzero((z > 1.0 / np.sqrt(np.finfo(float).eps)).any(axis=1)))
    return 0 < beyond <= max(X.shape[1] + 1, 0.01 * X.shape[0])


def _numerical_failure(exc: Exception, X: np.ndarray, names) -> str:
    """Why EM broke down, pointing at the most extreme value when it explains it.

    A point ~1e8 robust sds from the rest makes a covariance's eigenvalues differ by more than
    float64 can hold (the ratio is squared), which is the usual cause.
    """
    median = np.median(X, axis=0)
    z = np.abs(X - median) / _robust_spread(X)
    row, col = np.unravel_index(np.argmax(z), z.shape)
    msg = f"EM failed numerically ({exc})"
    if z[row, col] > 1e6:
        return (f"{msg}: column {names[col]!r} has the value {X[row, col]:.3g} (row {row}), "
                f"{z[row, col]:.1e} robust standard deviations from its median; a Gaussian "
                "mixture cannot hold it beside the rest in float64. Remove or rescale the "
                "outlier(s)")
    return (f"{msg}; try a larger reg_covar (--reg-covar on the command line), a prior "
            "(prior='default') or fewer components")


# --------------------------------------------------------------------------------------------
# the EM loop
# --------------------------------------------------------------------------------------------
def _run_em(obs, params, covariance_type, reg_covar, prior, max_iter, tol, atol=np.inf):
    """EM from ``params``; returns (params, history, n_iter, converged, final log-likelihood).

    Same iteration semantics as scikit-learn: each iteration evaluates the objective at the
    current parameters (E-step) and then updates them (M-step); it stops when the change
    between successive evaluations is below ``tol`` per sample (scikit-learn's rule) and below
    ``atol`` in total.
    """
    n_eff = obs.n_effective
    history = []
    converged = False
    prev = -np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is reported)
        e = _evaluate(obs, params, covariance_type)
        objective = _objective(e.log_likelihood, params, prior)
        history.append(objective)
        params = _m_step(e.stats, params, covariance_type, reg_covar, prior, n_iter,
                         noise_nk=e.noise_nk if obs.noise else None)
        change = abs(objective - prev)
        # <= atol: atol=0 asks for a total change of exactly 0, which `<` could never meet
        if change / n_eff < tol and change <= atol:
            converged = True
            break
        prev = objective
    final = _evaluate(obs, params, covariance_type)
    history.append(_objective(final.log_likelihood, params, prior))
    return params, np.array(history), n_iter, converged, final.log_likelihood


def _evaluate(obs: Observations, params, covariance_type, **kw) -> kernels.EStep:
    """The E-step at ``params`` (with a noise component, ``weights`` has K + 1 entries);
    ``kw`` goes to the kernel (``return_pointwise``)."""
    weights, means, covariances = params
    prec = kernels.precisions_cholesky(covariances, covariance_type)  # raises if not PD
    if obs.needs_plan:
        K = means.shape[0]
        return kernels.estep_plan(obs.plan, weights[:K], means, covariances, covariance_type,
                                  noise_weight=float(weights[K]) if obs.noise else 0.0, **kw)
    return kernels.estep(obs.X, weights, means, prec, covariance_type,
                         sample_weight=obs.sample_weight, **kw)


def _objective(log_likelihood, params, prior) -> float:
    if prior is None:
        return float(log_likelihood)
    return float(log_likelihood + prior.log_density(*params))


def _m_step(stats: kernels.SufficientStatistics, previous, covariance_type, reg_covar, prior,
            iteration: int | None = None, noise_nk: float | None = None):
    """Closed-form (conditional) maximisation from the kernel's statistics.

    Components with N_k ~ 0 keep their previous mean and covariance: their update is 0/0 and
    does not affect the objective (r_nk = 0), so keeping them is still an EM step. With a noise
    component (``noise_nk`` given) the weights have K + 1 entries, the noise's last: it is one
    more entry of the same multinomial (and of the same Dirichlet prior).
    """
    nk = stats.nk.copy()
    K, D = stats.centre.shape
    empty = nk < _EMPTY_NK
    safe_nk = np.where(empty, 1.0, nk)
    safe = kernels.SufficientStatistics(safe_nk, stats.s1c, stats.c, stats.centre)
    xbar, scatter = safe.component_means, safe.scatter
    counts = nk if noise_nk is None else np.append(nk, noise_nk)
    if prior is None:
        weights = counts / counts.sum()
        means = xbar
        covariances = _ml_covariances(safe_nk, scatter, covariance_type, empty)
    else:
        weights = prior.posterior_weights(counts)
        means = prior.posterior_means(nk, xbar)
        covariances = prior.posterior_covariances(nk, xbar, scatter)
    covariances = _add_reg(covariances, covariance_type, reg_covar)
    if empty.any():
        prev_w, prev_means, prev_cov = previous
        means = np.where(empty[:, None], prev_means, means)
        if covariance_type != "tied":
            covariances = covariances.copy()
            covariances[empty] = prev_cov[empty]
        where = f" at iteration {iteration}" if iteration is not None else ""
        warn(
            f"component(s) {np.flatnonzero(empty).tolist()} became empty{where}; they keep "
            "their previous mean and covariance with weight ~0. Consider fewer components or "
            "a simpler covariance type (or, in fit_em, a prior: prior='default').",
            DegenerateComponentWarning,
            skip_file_prefixes=IN_PACKAGE,
        )
    return weights, means, covariances


def _ml_covariances(nk, scatter, covariance_type, empty):
    if covariance_type == "full":
        return scatter / nk[:, None, None]
    if covariance_type == "tied":
        return scatter[~empty].sum(axis=0) / nk[~empty].sum()
    diag = np.diagonal(scatter, axis1=1, axis2=2)
    if covariance_type == "diag":
        return diag / nk[:, None]
    return diag.sum(axis=1) / (nk * scatter.shape[1])


def _add_reg(covariances, covariance_type, reg_covar):
    if covariance.has_correlations(covariance_type):
        D = covariances.shape[-1]
        return covariances + reg_covar * np.eye(D)
    return covariances + reg_covar


# Restarts that stop within this many log-likelihood (or log-posterior) units of the best
# reached the same optimum: the default stopping rule ends within 0.02 of it (atol=0.01).
_SAME_OPTIMUM = 0.1


def _restarts_at_best(keys: list[tuple[bool, float]], best_key: tuple[bool, float],
                      within: float = _SAME_OPTIMUM) -> dict[str, Any]:
    """How many restarts reached the kept optimum, of how many, and how far below it the next
    best stopped (None: none did): one restart of 20 reaching it, the others 8 units below,
    says a better optimum may exist that none reached (QA65: the D=8 log-likelihood was
    -6,801.3 from 20 restarts, -6,793.2 from 10, with nothing said)."""
    proper, objective = best_key
    same = [o for p, o in keys if p == proper]
    at_best = sum(1 for o in same if objective - o <= within)
    below = [objective - o for o in same if objective - o > within]
    return {"reached": at_best, "of": len(keys), "within": float(within),
            "next_best_gap": float(min(below)) if below else None}


# The objective EM may leave unclimbed before a hint says so (issue: the default fit within
# 0.1 log-likelihood units of the optimum).
GAIN_LEFT_SAID = 0.1


def check_sample_size(n_samples: Any, name: str = "n_samples") -> int:
    """``n_samples`` as an int from 1 to :data:`MAX_SAMPLE`, else a ValueError naming it (QA82:
    NumPy's OverflowError, or "Maximum allowed dimension exceeded", named nothing)."""
    n = check_int(n_samples, name)
    if n > MAX_SAMPLE:
        raise ValueError(f"{name} must be at most {MAX_SAMPLE:,} (the draws are held in "
                         f"memory); got {n:,}: draw in batches")
    return n


def check_reg_covar(reg_covar: Any) -> Any:
    """``reg_covar`` as given where it is None (the data's default) or a number from 0 to
    :data:`bayesgmm.settings.MAX_REG_COVAR`; else a ValueError naming it (QA82: 1e300
    overflowed in the M-step; QA85: select_em then fitted no cell, and said nothing)."""
    if reg_covar is None:
        return None
    reg_covar = check_positive(reg_covar, "reg_covar", allow_zero=True)
    if reg_covar > MAX_REG_COVAR:
        raise ValueError(f"reg_covar must be at most {MAX_REG_COVAR:g} (a variance added to "
                         f"each covariance's diagonal, in the data's units squared); got "
                         f"{reg_covar:g}")
    return reg_covar


def gain_left_words(gain: float | None) -> str:
    """The sentence on :attr:`EMResult.gain_left` above :data:`GAIN_LEFT_SAID` ("" below)."""
    if gain is None or gain <= GAIN_LEFT_SAID:
        return ""
    return (f"EM stopped while its objective still climbed: by Aitken's estimate about "
            f"{format_number(gain, 2)} more (log-likelihood, or log posterior for a MAP fit) "
            "was left, a rough guide (measured gaps ranged from half of it to 50 times it, the "
            "larger at a K above the data's groups), so a BIC within about "
            f"{format_number(2 * gain, 2)} of this fit's is not decided by it; a smaller atol "
            "with more iterations (fit_em's atol, max_iter) climbs further.")


def iterations_of(em: EMResult) -> str:
    """What ``em.n_iter`` and ``em.history`` count, in words: the polish of the chosen start
    candidate, the chosen candidate's own best restart (a MAP-EM family's winner, used as it
    was: QA132, "67 iterations polishing" of a climb from a random start), or the best
    restart (a fit without start candidates)."""
    if not em.candidates:
        return "the best restart"
    if (em.settings or {}).get("iterations_of") == "restart":
        return "the chosen start candidate's own best restart"
    return "the polish of the chosen start candidate"


def restarts_reached(at_best: Mapping[str, Any], rival: Mapping[str, Any] | None = None
                     ) -> str:
    """A sentence of ``settings["restarts_at_best"]`` (:func:`_restarts_at_best`) for the
    command line and the report; more restarts are asked for where a single one reached the
    kept optimum and the next best stopped over one unit below (two BIC units). ``rival``:
    ``settings["rival_optimum"]``, another optimum about as good that the count, by the
    objective alone, may include (QA132: "19 of 20" where 8 split the data another way)."""
    n, of, gap = at_best["reached"], at_best["of"], at_best.get("next_best_gap")
    within = at_best.get("within", _SAME_OPTIMUM)
    text = f"{n} of {of} EM restarts reached this optimum (to within {within:,.3g})"
    if rival:
        text += (f", counted by the objective alone: restarts also reached another optimum "
                 f"{format_number(rival['objective_gap'], 2)} below it that is no relabelling "
                 f"of it (its means {rival['shift_sd']:.1f} data sds away; settings' "
                 "rival_optimum), two ways to describe the data about equally well")
    if gap is None:
        return text
    text += f"; the next best stopped {gap:,.2f} below"
    if n == 1 and gap > 1:
        text += (": the likelihood has several optima here, and more restarts (n_init, "
                 "--n-init) may find a higher one")
    return text


def _collapse_messages(nk, D, covariance_type, restarts: int | None = None) -> list[str]:
    """Components with fewer effective points than their covariance needs
    (:func:`bayesgmm.covariance.points_needed`, to within half a point: the rule by which
    model selection marks a fit degenerate). ``restarts``: how many random starts the fit
    took (None: the caller's start), for the advice."""
    needed = covariance.points_needed(covariance_type, D)
    small = np.flatnonzero((nk >= _EMPTY_NK) & (nk < needed - 0.5))
    if _tied_short_of_rows(nk, covariance_type, D):  # _too_few_points' tied rule
        n = np.sum(nk)
        if n - len(nk) < D - 0.5:
            return [f"{len(nk)} tied component(s) on {n:.4g} effective rows: the shared "
                    f"covariance rests on N - K = {n - len(nk):.4g} degrees of freedom, fewer "
                    f"than its D = {D} dimensions, so it is singular and rests on reg_covar "
                    "alone (model selection excludes such a fit). Fit fewer components or a "
                    "simpler covariance type (diag, spherical), or give more rows."]
        return [f"{len(nk)} tied components on {n:.4g} effective rows: the shared covariance "
                f"rests on N - K = {n - len(nk):.4g} degrees of freedom and its ML estimate "
                f"shrinks by (N - K) / N = {(n - len(nk)) / n:.2f}, so the likelihood grows "
                "with K without the data's say (model selection excludes such a fit). Fit "
                "at most N/2 components."]
    if small.size == 0:
        return []
    # From few random starts a component on a handful of points is most often a local
    # optimum (an outlier captured, two clusters merged elsewhere): more restarts come first.
    retry = (f"Try more restarts first (n_init=10; this fit took {restarts}): a component "
             "on so few points is often a local optimum. Otherwise consider "
             if restarts is not None and restarts < 10 else "Consider ")
    what = f"D+1={needed}" if covariance_type == "full" else f"{needed} ({covariance_type})"
    return [
        f"component(s) {small.tolist()} hold fewer than {what} effective points "
        f"(N_k = {np.round(nk[small], 2).tolist()}): their covariances rest on reg_covar alone. "
        f"{retry}fewer components or a simpler covariance type (or, in fit_em, a prior: "
        "prior='default')."
    ]


def _parameter_messages(nk, D, covariance_type) -> list[str]:
    """More free parameters than effective rows (first, before any component short of the
    points its covariance needs, whose advice then names no restarts): model selection's
    note on a choice (it describes points rather than
    groups) and the posterior's "too many parameters" (QA89: K=3 full on 25 rows in 4-D, 44
    parameters, said nothing in `bayesgmm em`, while both of those said so)."""
    K, n = len(nk), float(np.sum(nk))
    p = n_parameters(K, D, covariance_type)
    if K < 2 or p <= n:
        return []
    return [f"K={K} {covariance_type} has {p} free parameters for {n:.4g} effective rows: "
            f"about {n / K:.1f} rows per component for {p / K:.1f} parameters each (the "
            f"smallest holds {float(np.min(nk)):.1f}), too few for the estimates, or BIC's "
            "large-sample reasoning, to be trusted. Consider fewer components, "
            # (QA157 M3: 13 features, K=3 full, 314 parameters for 178 rows: 5 of them, 62)
            + ("fewer features (the command line's --columns), " if D > 1 else "")
            + "or a simpler covariance type (or a prior: fit_em's prior='default'; fit_bayes "
            "and bayesgmm fit have priors)."]


def _spike_messages(params, nk, covariance_type, Xc, start_weights) -> list[str]:
    """Components of an ML fit with their own covariance on barely the points it needs (at least
    :func:`bayesgmm.covariance.points_needed` less half a point, under one point more: a real
    group of a few more rows is a group, review) and narrow beside the data (an sd under
    ``_SPIKE_SD_RATIO`` of the data's along some direction): a spike on a few close values, most
    often a spurious local maximum whose likelihood gain is not a cluster's (McLachlan & Peel
    2000, section 3.10). QA: galaxies K=6, two components on 2 rows each (sd 43 and 153 km/s
    against the data's 4,564), said nowhere, and BIC within 0.2 of the best; the 3 galaxies near
    33,000 km/s (sd 922) are a group, not a spike."""
    if covariance_type == "tied":  # the shared covariance rests on every row
        return []
    K, D = len(nk), Xc.shape[1]
    needed = covariance.points_needed(covariance_type, D)
    few = (nk >= needed - 0.5) & (nk < needed + 1)
    if not few.any():
        return []
    data_cov = _reference_covariance(Xc, start_weights)  # only then: a pass over the rows
    full = covariance.to_full(params[2], covariance_type, K, D)
    try:
        narrow = [int(k) for k in np.flatnonzero(few) if scipy.linalg.eigh(
            full[k], data_cov, eigvals_only=True)[0] < _SPIKE_SD_RATIO ** 2]
    except (np.linalg.LinAlgError, ValueError):  # a singular data covariance: no scale
        return []
    if not narrow:
        return []
    return [
        f"component(s) {narrow} rest on N_k = {np.round(nk[narrow], 1).tolist()} effective "
        f"points, barely the {needed} their covariance needs, with an sd under "
        f"{_SPIKE_SD_RATIO:.0%} of the data's: a component like that is often a spurious "
        "local maximum (a spike on a few close values; McLachlan & Peel 2000), which raises "
        "the log-likelihood, BIC and AIC without being a cluster. Compare with fewer "
        "components (n_components; -k on the command line), or with MAP-EM, which keeps such "
        "spikes out (fit_em(..., prior='default'); bayesgmm fit starts from it)."
    ]


# A spike's sd along its narrowest direction, as a share of the data's there (the smallest
# generalised eigenvalue of the two covariances, square-rooted): galaxies' spurious 2-row
# components are 0.9% and 3.3%, its real 3- and 7-row groups 20% and 9%.
_SPIKE_SD_RATIO = 0.05


# A component has collapsed in a direction when its variance there is not the data's but the
# floor EM adds (reg_covar) or rounding: its rows then share one value along that direction (tied
# or discrete values: 29 iris flowers with petal width exactly 0.2), and the likelihood grows
# without bound as the variance shrinks, so the criteria reward the collapse. Two tests, one in
# the data's units and one relative to the data, since either alone misses cases:
# - the floor: the smallest eigenvalue (diag/spherical: a variance) is at most
#   _FLOOR_FACTOR * reg_covar, i.e. the data's own variance there is at most reg_covar, so at
#   least half of the variance is the floor. (A column on so small a scale that a healthy
#   component's variance is near reg_covar is also one whose fit rests on the floor; fit_em
#   warns about such columns separately.)
# - negligible beside the data: the unregularised variance is at most _NEGLIGIBLE_VARIANCE of
#   the data's variance along the same direction (the smallest generalised eigenvalue of the
#   component's and the data's covariances: free of units, invariant under affine maps). On
#   data of large magnitude a tie's variance is rounding (~1e-16 of the scale), which can
#   exceed reg_covar, so the floor test misses it. The ratio is the posterior diagnostics'
#   (covariance.COLLAPSED_SD_RATIO, squared: a component's sd 1e-3 of the data's), far above
#   rounding and far below any cluster that is not (nearly) tied. (It was 1e-8, sd 1e-4: QA
#   found a full component on ~5 effective points along a line through a thrice-repeated
#   outlier, its sd across the line 4e-4 of the data's, passed as healthy, and BIC, AIC and
#   ICL all chose that cell.)
_FLOOR_FACTOR = 2.0
_NEGLIGIBLE_VARIANCE = covariance.COLLAPSED_SD_RATIO ** 2


def _reference_covariance(X: np.ndarray, sample_weight: np.ndarray | None = None
                          ) -> np.ndarray:
    """The data's covariance (D, D) for the collapse test: over the complete rows when more
    than 2 D of them, else with column means in the gaps (as fit_em's starting checks); rows
    counted by their frequency weights (weight 0: no row)."""
    X = np.asarray(X, dtype=np.float64)
    g = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if g is not None:
        X, g = X[g > 0], g[g > 0]
    nan = np.isnan(X)
    if nan.any():
        complete = ~nan.any(axis=1)
        if np.count_nonzero(complete) > 2 * X.shape[1]:
            X, g = X[complete], None if g is None else g[complete]
        else:  # mean-filled: the correlations so, each column's variance over its values
            # (QA: filled, a column observed in 2 of 60 rows looked 27 times narrower than
            # it is, so a collapse along it was named by the other column)
            mean, variance = covariance.column_moments(X, g)
            filled = covariance.data_covariance(np.where(nan, mean, X), g)[1]
            sd = np.sqrt(np.diag(filled))
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = np.nan_to_num(filled / np.outer(sd, sd))
            np.fill_diagonal(corr, 1.0)
            return corr * np.sqrt(np.outer(variance, variance))
    if X.shape[0] < 2:
        return np.eye(X.shape[1])
    return covariance.data_covariance(X, g)[1]


def _smallest_eigenpair(cov: np.ndarray) -> tuple[float, np.ndarray]:
    """The smallest eigenvalue of a covariance matrix and its unit eigenvector, accurate when
    the columns' scales differ by orders of magnitude: from the largest singular value of the
    inverse Cholesky factor (a graded matrix's Cholesky factor is accurate; ``eigh`` of the
    matrix itself errs by ~1e-16 times its largest entry: a column of sd 1e9 gave variances
    of -160 along a column of sd 1, reported as collapsed; high-dimension QA). A matrix that
    is not positive definite: ``eigh``'s (then the smallest is <= 0 anyway)."""
    try:
        factor = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov)
        return float(values[0]), vectors[:, 0]
    # L^-T by the kernels' substitution, not scipy's solve_triangular: LAPACK's trtrs wakes
    # OpenBLAS's threads, 8-16 ms for a 2 x 2 on a busy machine (every fit_em checks each
    # component: 11% of the command-line and report tests' time, py-spy, stop 71). The top
    # left singular vector of L^-T is the top right one of L^-1, the covariance's smallest.
    upper = kernels.precision_from_covariance_cholesky(factor[None])[0][0]
    left, singular, _ = np.linalg.svd(upper)
    return float(1.0 / singular[0] ** 2), left[:, 0]


def _collapsed(covariances, covariance_type: str, reg_covar: float, data_cov: np.ndarray,
               live: np.ndarray) -> list[tuple[int | None, np.ndarray, float]]:
    """Components collapsed onto the floor (see ``_FLOOR_FACTOR``): (k, or None for the tied
    covariance; the direction's weight on each column, in the data's sds; the variance).
    ``live``: the components to test (not empty, not already too small)."""
    D = data_cov.shape[0]
    sd = np.sqrt(np.clip(np.diag(data_cov), 0.0, None))
    scale = np.where(sd > 0, sd, 1.0)
    out: list[tuple[int | None, np.ndarray, float]] = []
    if not covariance.has_correlations(covariance_type):
        var = np.broadcast_to(np.asarray(covariances, dtype=np.float64).reshape(
            len(live), -1), (len(live), D))
        floor = var <= _FLOOR_FACTOR * reg_covar
        negligible = var - reg_covar <= _NEGLIGIBLE_VARIANCE * sd ** 2
        spread = sd ** 2 > _FLOOR_FACTOR * reg_covar  # else the column's own fault: named
        for k in np.flatnonzero(live):                # by fit_em's column warnings
            hit = (floor[k] | negligible[k]) & spread
            if hit.any():
                out.append((int(k), hit.astype(float), float(var[k][hit].min())))
        return out
    corr = data_cov / np.outer(scale, scale)
    try:
        chol = np.linalg.cholesky(corr + 1e-12 * np.eye(D))
    except np.linalg.LinAlgError:  # collinear columns: per-column scales only
        chol = np.eye(D)
    full = [covariances] if covariance_type == "tied" else list(covariances)
    for k, cov in enumerate(full):
        if covariance_type != "tied" and not live[k]:
            continue
        smallest, vector = _smallest_eigenpair(cov)
        if smallest <= _FLOOR_FACTOR * reg_covar:
            direction, variance = vector, smallest
        else:
            # the data's units out, then the data's correlation: generalised eigenproblem
            ml = (cov - reg_covar * np.eye(D)) / np.outer(scale, scale)
            inner = np.linalg.solve(chol, np.linalg.solve(chol, ml).T)
            rel, u = np.linalg.eigh((inner + inner.T) / 2)
            if rel[0] > _NEGLIGIBLE_VARIANCE:
                continue
            direction = np.linalg.solve(chol.T, u[:, 0]) / scale
            variance = float(direction @ cov @ direction / (direction @ direction))
        if direction @ data_cov @ direction <= _FLOOR_FACTOR * reg_covar * (direction @ direction):
            continue  # the data have no spread there either (constant or collinear columns,
            # or a tiny scale): fit_em's column warnings name that, not this component
        weight = np.abs(direction) * scale
        out.append((None if covariance_type == "tied" else k, weight / weight.max(), variance))
    return out


def _collapsed_live(nk, D, covariance_type):
    """The components the collapse test looks at: not empty, not already too small for their
    covariance (those have their own message)."""
    return (nk >= _EMPTY_NK) & (nk >= covariance.points_needed(covariance_type, D) - 0.5)


def _iterations_merged(messages: list[str]) -> list[str]:
    """One message for a component that became empty at several iterations, naming the
    first and how often (QA: the same line once per iteration, seven in a row)."""
    pattern = re.compile(r"^(.*) at iteration (\d+)(;.*)$", re.DOTALL)
    merged: dict[tuple[str, str], list[str]] = {}
    out: list[Any] = []
    for message in messages:
        found = pattern.match(message)
        if not found:
            out.append(message)
            continue
        key = (found[1], found[3])
        if key not in merged:
            merged[key] = []
            out.append(key)
        merged[key].append(found[2])
    return [m if isinstance(m, str) else
            f"{m[0]} at iteration {merged[m][0]}"
            + (f" (and at {len(merged[m]) - 1} later one(s))" if len(merged[m]) > 1 else "")
            + m[1] for m in out]


def is_degenerate(fit: EMResult, X: Any, sample_weight: Any = None) -> bool:
    """Whether ``fit`` (fitted to ``X``) is degenerate: a component on fewer effective points
    than its covariance needs (:func:`bayesgmm.covariance.points_needed`, to within half a
    point; an empty one too, which makes the fit one of fewer components), or collapsed onto
    the reg_covar floor (:func:`collapsed_components`: a spurious singularity that inflates
    the likelihood, hence BIC/AIC/ICL). Model selection excludes such fits."""
    sizes = np.asarray(fit.weights) * fit.n_samples
    return (_too_few_points(sizes, fit.covariance_type, fit.n_features)
            or bool(collapsed_components(fit, X, sample_weight)))


def collapsed_components(fit: EMResult, X: Any, sample_weight: Any = None
                         ) -> tuple[int, ...]:
    """Components of ``fit`` whose covariance collapsed onto the reg_covar floor in some
    direction (the rule of :func:`fit_em`'s :class:`DegenerateComponentWarning`, see
    ``_FLOOR_FACTOR``), given the data ``X`` it was fitted to and, for a weighted fit, its
    frequency weights (rows of weight 0 far out must not make the data's spread look
    larger); every component when the shared (tied) covariance collapsed; () for a MAP fit
    (its prior keeps covariances proper). With a noise component, beside the spread of the
    rows not isolated from the others (as :func:`fit_em` judges it, known labels aside: the
    rows the components hold; QA101: one row 1e4 sds out made both clusters "collapsed")."""
    if fit.prior is not None:
        return ()
    Xv, _ = check_data(X, n_features=fit.n_features, feature_names=fit.fitted_names,
                       allow_nan=True)
    g = check_sample_weight(aligned_to_rows(sample_weight, X, "sample_weight"), Xv.shape[0])
    if fit.noise:
        held = ~isolated_observations(Xv, None, g)
        Xv, g = Xv[held], None if g is None else g[held]
    nk = np.asarray(fit.weights) * fit.n_samples
    found = _collapsed(fit.covariances, fit.covariance_type, fit.reg_covar,
                       _reference_covariance(Xv, g), _collapsed_live(nk, fit.n_features,
                                                                     fit.covariance_type))
    if any(k is None for k, _, _ in found):
        return tuple(range(fit.n_components))
    return tuple(k for k, _, _ in found)


def _degenerate(params, obs, names, covariance_type, reg_covar) -> bool:
    """Whether an ML fit's ``params`` are degenerate: a component on fewer points than its
    covariance needs (an empty one too), or collapsed onto the reg_covar floor (the rules by
    which model selection excludes a fit, :func:`is_degenerate`), judged beside the spread
    of the rows the components hold (:attr:`Observations.prior_rows`)."""
    K = len(params[1])
    nk = params[0][:K] * obs.n_effective
    return bool(_too_few_points(nk, covariance_type, len(names))
                or _floor_messages(params, nk, covariance_type, reg_covar, obs.prior_rows,
                                   names, obs.prior_weights))


def _too_few_points(nk: np.ndarray, covariance_type: str, D: int) -> bool:
    """Whether a component holds fewer effective points than its covariance needs (to within
    half a point), an empty one included: the size rule of :func:`is_degenerate`, by which
    a restart is passed over and a sweep's cell excluded (one rule for both: review).

    A tied fit of more components than half its rows is degenerate too, whatever its
    components hold: the shared covariance has N - K degrees of freedom, so its ML estimate
    shrinks by (N - K) / N, below a half, and the likelihood grows without the data's say
    (QA: K=58 tied on 60 rows, components on single rows, was BIC's best); so is one whose
    N - K degrees of freedom are fewer than D, a singular shared covariance (QA144 L1: K=1
    tied on 2 rows in 2-D, the K=1 full fit degenerate and the same, was BIC's best). A lone
    component on one far row among proper ones is no such fit: it marks an outlier
    (:mod:`bayesgmm.outliers`)."""
    if _tied_short_of_rows(nk, covariance_type, D):
        return True
    return bool(np.min(nk) < covariance.points_needed(covariance_type, D) - 0.5)


def _tied_short_of_rows(nk: np.ndarray, covariance_type: str, D: int) -> bool:
    """A tied fit of more components than half its (effective) rows, or whose shared
    covariance has fewer degrees of freedom (N - K) than dimensions (:func:`_too_few_points`)."""
    n, K = np.sum(nk), len(nk)
    return covariance_type == "tied" and (K > n / 2 or n - K < D - 0.5)


def _floor_messages(params, nk, covariance_type, reg_covar, Xc, names, weights=None,
                    observed=None) -> list[str]:
    """A message naming the components collapsed onto the floor and the columns along which
    (``Xc``: the complete start rows, ``weights`` their frequency weights; ``observed``: the
    components' observed values per column, :func:`_observed_counts`, which name the cause
    when they are too few there)."""
    reference = _reference_covariance(Xc, weights)
    found = _collapsed(params[2], covariance_type, reg_covar, reference,
                       _collapsed_live(nk, len(names), covariance_type))
    if not found:
        return []

    def named(weight):
        return np.flatnonzero(weight >= 0.25)

    def where(weight):
        cols = [names[j] for j in named(weight)]
        if len(cols) == len(names) and len(cols) > 1:
            return "every column"
        if len(cols) == 1:
            return repr(cols[0])
        return "a combination of " + ", ".join(map(repr, cols))

    parts = "; ".join(
        f"{'the shared (tied) covariance' if k is None else f'component {k}'} along "
        f"{where(weight)} (variance {variance:.3g})" for k, weight, variance in found)
    its = "Its" if len(found) == 1 else "Their"
    if observed is not None and all(
            k is not None
            and (observed[k, named(weight)] < column_support.FEW_OBSERVED).all()
            for k, weight, _ in found):  # not ties: the component's values there are missing
        cause = (f"{its} rows have (almost) no observed value there (see the warning on "
                 "observed values): EM shrinks the variance onto the few it has")
    else:
        cause = (f"{its} rows share (nearly) one value there, which typically comes from "
                 "tied or discrete values (a column with few distinct values, or rounded "
                 "data)")
    limits = _at_column_limits(found, params[1], Xc, names, named)
    if limits:
        cause = (f"{'; '.join(limits)}: rows clipped at the limit of a measurement "
                 "(saturated at an instrument's range, or at a detection limit), or tied or "
                 "discrete values there")
        cause = cause[0].upper() + cause[1:]
    return [
        f"covariance collapsed (a variance at the reg_covar={reg_covar:g} floor, or "
        f"negligible beside the data's): {parts}. "
        f"{cause}; the likelihood, and BIC, reward the collapse, not the data. "
        + ("If they are clipped, remove those rows (gate them out) rather than the column; "
           "otherwise leave such a column out (or analyse its groups separately), "
           if limits else "Leave such a column out (or analyse its groups separately), ")
        + "fit fewer components or a simpler covariance type, or use a prior "
        "(prior='default')."
    ]


def _at_column_limits(found, means, Xc, names, named) -> list[str]:
    """Where every collapsed component sits, along each column it collapsed on, at that
    column's largest or smallest value: "component 2 sits at 'FSC_A' = 262143, its largest
    value" (QA143 M2: events saturated at 262143 were put down to rounded data, with the
    advice to drop the column, the channel most used); [] otherwise."""
    if not len(Xc):
        return []
    said = []
    for k, weight, _ in found:
        if k is None:
            return []
        for j in named(weight):
            column = Xc[:, j]
            close = 1e-9 * max(float(np.ptp(column)), 1e-300)
            side = ("largest" if abs(means[k, j] - column.max()) <= close else
                    "smallest" if abs(means[k, j] - column.min()) <= close else None)
            if side is None:
                return []
            said.append(f"component {k} sits at {names[j]!r} = {means[k, j]:.6g}, its {side} "
                        "value")
    return said


def _observed_counts(obs: Observations, params, covariance_type) -> np.ndarray | None:
    """(K, D): each component's effective number of observed values per column, at
    ``params``' responsibilities (:func:`bayesgmm.column_support.observed_counts`); None when
    the data have no gaps."""
    if not np.isnan(obs.X).any():
        return None
    K = params[1].shape[0]
    resp = _evaluate(obs, params, covariance_type, return_resp=True).resp[:, :K]
    return column_support.observed_counts(resp, obs.X, obs.sample_weight)


def _few_observed_messages(observed, nk, covariance_type, names, prior) -> list[str]:
    """A message naming the components (not too small anyway) with fewer than
    :data:`bayesgmm.column_support.FEW_OBSERVED` observed values in a column where they
    hold more rows."""
    if observed is None:
        return []
    pairs = column_support.few_observed(observed, nk,
                                        _collapsed_live(nk, len(names), covariance_type))
    if not pairs:
        return []
    rest = "the prior and its other columns" if prior is not None else "its other columns"
    return [
        f"{column_support.few_observed_words(observed, nk, pairs, names)} (the rest have a "
        "gap there): the estimates along such a column, and the values imputed there, rest "
        f"on those few values (if any) and on {rest}, not on data of their own. Leave the "
        "column out, fit the rows that have it separately, or read the posterior "
        "(fit_bayes), which shows how little is known there."
    ]


def _unpaired_messages(obs: Observations, covariance_type, names, prior) -> list[str]:
    """A message naming the pairs of columns no row observes together, where the model has
    their correlation (full and tied covariances)."""
    pairs = (column_support.unpaired_columns(obs.X, obs.sample_weight)
             if covariance.has_correlations(covariance_type) else [])
    if not pairs:
        return []
    named = ", ".join(f"{names[i]!r} and {names[j]!r}" for i, j in pairs[:5])
    more = f" (and {len(pairs) - 5} more pairs)" if len(pairs) > 5 else ""
    rest = "the prior" if prior is not None else "where the start put it"
    return [f"no row has both {named}{more} observed: the correlation between them, in every "
            f"component, rests on no data (the likelihood is flat in it; its estimate is {rest}, "
            "and BIC counts it as free). Read it as unknown, or fit diag covariances (no "
            "correlations)."]


# A component is "a few rows" below this share of the rows; a row is far from a component
# beyond the chi-square quantile of this tail (looser than covariance.FAR_TAIL, the
# verdict's: a poor optimum stretches another component over a cluster and some of the
# outliers, and that one is then within a millionth's reach of them).
# 5%. A heavy-tailed cluster's tails take a few rows more (a t3 sample of 500 at K=2: the
# wide component's weight 0.105, between 5% and 7.5% of the rows), one cluster's shape that
# the one-group note names, and at 7.5% or 10% they were called outliers; a background of 5%
# given a component holds a few rows more too (QA161 M3: 22 rows of 421, missed). The share
# alone cannot tell the two apart there.
_FAR_GROUP_SHARE = 0.05
_FAR_GROUP_TAIL = 1e-3


def _far_groups(obs: Observations, params, covariance_type) -> list[tuple[int, int]]:
    """The components that hold only a few rows (under :data:`_FAR_GROUP_SHARE` of them),
    most of them far from every other component (beyond :data:`_FAR_GROUP_TAIL` of each),
    spread wider than the whole data (the rows' total variance above the data's: a real
    small cluster, however far, is compact): (component, rows) each. Outliers given
    components of their own; none with a noise component (the outliers are its)."""
    K, D = params[1].shape[0], params[1].shape[1]
    if K < 2 or obs.noise:
        return []
    resp = _evaluate(obs, params, covariance_type, return_resp=True).resp[:, :K]
    g = np.ones(len(obs.X)) if obs.sample_weight is None else obs.sample_weight
    assigned = np.where(g > 0, np.argmax(resp, axis=1), -1)
    full = covariance.to_full(params[2], covariance_type, K, D)
    # the whole data's spread: its total variance (a trace, not a determinant: three far
    # rows nearly on a line have a small determinant and a wide spread)
    spread = float(np.sum(covariance.column_moments(obs.X, obs.sample_weight)[1]))
    from scipy.special import chdtri  # chi2.isf, without scipy.stats' ~1 s of imports (QA111)

    flagged = []
    for k in range(K):
        rows = np.flatnonzero(assigned == k)
        if not (0 < g[rows].sum() < _FAR_GROUP_SHARE * g.sum() and rows.size > 1):
            continue
        # the rows' own scatter, not the component's covariance (a tied one is everyone's)
        with ignored(RuntimeWarning):
            # a column none of them has
            scatter = np.nansum(covariance.column_moments(obs.X[rows], g[rows])[1])
        if not scatter > spread:
            continue
        others = [j for j in range(K) if j != k]
        d2 = covariance.nearest_distance2(obs.X[rows], params[1][others], full[others])
        limit = chdtri(np.sum(~np.isnan(obs.X[rows]), axis=1), _FAR_GROUP_TAIL)
        # most, not all: a component stretched over a cluster and some of the outliers
        # (another of these optima) lies within reach of a few of them
        if np.mean(d2 > limit) > 0.5:  # NaN (unknown) is not far
            flagged.append((k, rows.size))
    return flagged


def _far_group_messages(far: list[tuple[int, int]], K: int, restarts: int | None
                        ) -> list[str]:
    """The warning for :func:`_far_groups`' components. From fewer than 10 random starts,
    EM's usual local optimum on data with gross outliers, the clusters crowded into the
    rest (QA: fit_em's single default start gave weights 0.29 / 0.70 / 0.007 on three
    clusters and 11 outliers, BIC 3,806 against 3,311 from 10 restarts, and said nothing):
    more restarts first. From more, or the caller's own start, the best fit found spends
    them on the outliers (QA159 M1: 3-D, 12 outliers, n_init=10 merged both clusters into
    one component, 0.969, and gave the outliers the other, silently): the noise component."""
    listed = ", ".join(f"{k} ({n} row{'s' if n > 1 else ''})" for k, n in far)
    found = (f"component(s) {listed} hold only a few rows, most of them far from every other "
             "component, spread wider than the whole data: outliers (or a heavy tail's rows) "
             f"given components of their own, while the clusters share the other "
             f"{K - len(far)}; ")
    noise = ("a uniform noise component (noise=True, --noise) takes them, so that K counts "
             "the clusters (or, if they are the tails of heavy-tailed or skewed clusters, a "
             "transform of the data may)")
    if restarts is not None and restarts < 10:
        return [found + f"EM often stops there from few starts (this fit took {restarts}). "
                "Compare the BIC of a fit with more restarts (n_init=10, init=('kmeans++', "
                "'random_from_data')); where more restarts keep such a component, the rows "
                f"are outliers all the same: {noise}."]
    return [found + "this is the best fit found, so the outliers cost K a component: "
            f"{noise} (bayesgmm.outliers.noise_evidence(fit, X) weighs the two by BIC)."]


def _coincidence_messages(params, nk, covariance_type, init) -> list[str]:
    """Groups of (non-empty) components with practically the same mean and covariance."""
    groups = _coincident_components(params[1], params[2], covariance_type,
                                   live=nk >= _EMPTY_NK)
    if not groups:
        return []
    listed = " and ".join(str(group) for group in groups)
    if isinstance(init, str) and init == "random":
        why = ("init='random' (random responsibilities) starts every component near the mean "
               "of the data, and EM can stop there before the components separate. Use "
               "init='kmeans++' (the default) or a larger n_init.")
    else:
        why = "Try a larger n_init or init='kmeans++' (the default), or fewer components."
    K = nk.shape[0]
    distinct = K - sum(len(group) - 1 for group in groups)
    return [
        f"components {listed} nearly coincide: their Gaussians overlap by at least "
        f"{_COINCIDENT_OVERLAP:.0%} (Bhattacharyya coefficient), i.e. practically the same mean "
        f"and covariance, so the fit has only {distinct} distinct component(s) of K={K}. {why}"
    ]


def _coincident_components(means: np.ndarray, covariances: np.ndarray, covariance_type: str,
                          overlap: float = _COINCIDENT_OVERLAP,
                          live: np.ndarray | None = None) -> list[list[int]]:
    """Groups of components whose Gaussians practically coincide.

    Components j and k coincide when the Bhattacharyya coefficient exp(-D_B) of
    N(mu_j, Sigma_j) and N(mu_k, Sigma_k) is at least ``overlap``, with

        D_B = (mu_j - mu_k)' S^-1 (mu_j - mu_k) / 8
              + log(det S / sqrt(det Sigma_j det Sigma_k)) / 2,   S = (Sigma_j + Sigma_k) / 2.

    It is 1 for identical Gaussians and does not depend on the units of the features (it is
    invariant under affine maps of the data); 0.99 allows, for instance, means 0.28 standard
    deviations apart with equal covariances, or equal means with variances in a ratio of about 1.5.
    Components with ``live`` False (empty ones) are left out.

    Returns
    -------
    list of sorted lists of component indices, each with at least two members (the connected
    groups of coinciding pairs), in order of their smallest index.
    """
    K, D = means.shape
    full = covariance.to_full(covariances, covariance_type, K, D)
    idx = np.flatnonzero(np.ones(K, bool) if live is None else live)
    if idx.size < 2:
        return []
    j, k = np.triu_indices(idx.size, 1)
    j, k = idx[j], idx[k]
    S = (full[j] + full[k]) / 2.0
    d = means[j] - means[k]
    with np.errstate(all="ignore"):
        _, logdet = np.linalg.slogdet(full)
        _, logdet_s = np.linalg.slogdet(S)
        try:
            maha = np.einsum("pi,pi->p", d, np.linalg.solve(S, d[:, :, None])[:, :, 0])
        except np.linalg.LinAlgError:
            return []
        distance = maha / 8.0 + 0.5 * (logdet_s - 0.5 * (logdet[j] + logdet[k]))
    close = distance <= -np.log(overlap)  # NaN (numerically singular) counts as not close
    parent = list(range(K))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(j[close], k[close], strict=True):
        parent[root(int(b))] = root(int(a))
    groups: dict[int, list[int]] = {}
    for a in sorted({int(x) for x in np.concatenate([j[close], k[close]])}):
        groups.setdefault(root(a), []).append(a)
    return sorted(groups.values())


# --------------------------------------------------------------------------------------------
# initialisation
# --------------------------------------------------------------------------------------------
def _resolve_prior(prior, X, K, covariance_type, sample_weight=None) -> ConjugatePrior | None:
    if prior is None:
        return None
    if isinstance(prior, str):
        if prior != "default":
            raise ValueError(f"prior must be None, 'default' or a ConjugatePrior; got {prior!r}")
        return ConjugatePrior.default(X, K, covariance_type, sample_weight=sample_weight)
    if not isinstance(prior, ConjugatePrior):
        raise ValueError(f"prior must be None, 'default' or a ConjugatePrior; got {prior!r}")
    if prior.covariance_type != covariance_type:
        raise ValueError(
            f"prior is for covariance_type={prior.covariance_type!r} but the fit uses "
            f"{covariance_type!r}"
        )
    if prior.mean.shape[0] != X.shape[1]:
        raise ValueError(f"prior is for {prior.mean.shape[0]} features; X has {X.shape[1]}")
    return prior


def _check_init(init, K, D, covariance_type, n_init, names=None) -> list:
    """Return [params] for explicit initial parameters, else [None] * n_init. ``names``: the
    data's features, to which a start given with its own (a DataFrame's columns, an
    EMResult's features) is matched by name."""
    if isinstance(init, str):
        if init not in INITS:  # "k-means++", scikit-learn's spelling, gets ours (QA90)
            raise ValueError(f"init must be one of {INITS}, a list of them, a mapping or "
                             f"an EMResult; got {init!r}" + nearest_hint(init, INITS))
        return [None] * int(n_init)
    if isinstance(init, tuple) and init and all(isinstance(i, str) for i in init):
        bad = [i for i in init if i not in INITS]
        if bad or len(set(init)) < len(init):
            raise ValueError(f"init families must be distinct names from {INITS}; got {init!r}")
        return [None] * (int(n_init) * len(init))
    if hasattr(init, "get_params"):  # an estimator: scikit-learn's clone (a search, a
        # pipeline, cross-validation) would copy it unfitted (QA166 M1), so its result is
        # the start (QA164 L9: refused, its result_ unnamed)
        raise ValueError(f"init takes a fitted estimator's result, not the estimator: "
                         f"init={type(init).__name__.lower()}.result_ (an EMResult)")
    if isinstance(init, EMResult):
        if init.covariance_type != covariance_type:
            raise ValueError(
                f"init EMResult has covariance_type={init.covariance_type!r}, not "
                f"{covariance_type!r}"
            )
        # the Gaussians' share (a noise component's weight is the caller's)
        order = _feature_order(init.feature_names, names)
        init = {"weights": init.weights / init.weights.sum(), "means": init.means[:, order],
                "covariances": covariance.permuted(init.covariances, covariance_type, order)}
    if not isinstance(init, Mapping):
        raise ValueError(f"init must be one of {INITS}, a list of them, a mapping or an "
                         f"EMResult (a fitted estimator's result_); got {init!r}")
    unknown = set(init) - {"weights", "means", "covariances"}
    if unknown or "means" not in init:
        raise ValueError(
            "explicit init needs 'means' and optionally 'weights' and 'covariances'"
            + (f"; unknown key(s) {sorted(unknown)}" if unknown else "")
        )
    if n_init > 1:
        warn("n_init > 1 is ignored with explicit initial parameters", UserWarning,
             skip_file_prefixes=IN_PACKAGE)
    return [_explicit_params(init, K, D, covariance_type, names)]


def _feature_order(given, names) -> list[int] | slice:
    """Where each of the data's features ``names`` stands among ``given`` (a start's own
    names), when those are the same names in another order; else everything, by position."""
    given = [str(n) for n in given]
    if names is None or given == list(names) or sorted(given) != sorted(names) \
            or len(set(given)) < len(given):
        return slice(None)
    return [given.index(n) for n in names]


def _by_feature_name(value, names, what: str, square: bool = False):
    """A start given as a DataFrame, matched to the data's features by column name as X's
    columns are (QA: read by position, means for (waiting, eruptions) started a component at
    (80, 4.3) on (eruptions, waiting) data, where it never moved); ``square``: its rows too
    (a tied covariance, ``df.cov()``). By position, as before: columns 0..D-1 in order, and
    any DataFrame when the data name no features (an array: x0, x1, ...; review)."""
    columns = getattr(value, "columns", None)
    if columns is None or names is None or (
            isinstance(columns, pd.RangeIndex) and list(columns) == list(range(len(names)))):
        return value
    order = _feature_order(columns, names)
    if order == slice(None) and [str(c) for c in columns] != list(names):
        raise ValueError(f"init {what} is a DataFrame with columns "
                         f"{[str(c) for c in columns]}, not the data's features {list(names)}: "
                         f"name its columns as X's (or pass {what}.to_numpy() to match them "
                         "by position)")
    value = value.iloc[:, order]
    if square:  # rows named as the columns: the same order, else refused as above
        rows = _feature_order(value.index, names)
        if rows == slice(None) and [str(r) for r in value.index] != list(names):
            raise ValueError(f"init {what} is a DataFrame whose rows "
                             f"{[str(r) for r in value.index]} are not the data's features "
                             f"{list(names)}: name its rows and columns as X's columns")
        value = value.iloc[rows]
    return value


def _explicit_params(init, K, D, covariance_type, names=None):
    means = np.array(_by_feature_name(init["means"], names, "means"), dtype=np.float64)
    if means.shape != (K, D):
        raise ValueError(f"init means must have shape ({K}, {D}); got {means.shape}")
    if not np.all(np.isfinite(means)):  # QA64: "increase reg_covar" named no cause
        raise ValueError("init means have non-finite values (NaN or infinite); give a finite "
                         "mean for every component and feature")
    weights = np.full(K, 1.0 / K) if init.get("weights") is None else \
        np.array(init["weights"], dtype=np.float64)
    if weights.shape != (K,) or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
            or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"init weights must be {K} non-negative numbers summing to 1")
    if init.get("covariances") is None:  # from the data, by _covariances_around(means)
        return weights, means, None
    given = init["covariances"]
    if covariance_type in ("diag", "tied"):  # (K, D): columns are features; (D, D): both
        given = _by_feature_name(given, names, "covariances", square=covariance_type == "tied")
    covariances = covariance.check_shape(np.array(given, dtype=np.float64),
                                         covariance_type, K, D, "init covariances")
    _check_start_covariances(covariances, covariance_type, K, D)
    # symmetric to the last digit, as EM keeps them
    if covariance.has_correlations(covariance_type):
        covariances = 0.5 * (covariances + np.swapaxes(covariances, -1, -2))
    return weights, means, covariances


def _check_start_covariances(covariances, covariance_type, K, D) -> None:
    """A given start's covariances must be symmetric positive definite; the error names the
    start (QA: the kernel's own words, "increase reg_covar", do not cure a start given
    wrong). Symmetric up to rounding against the matrix's own scale: an EM fit's covariance
    (of a component collapsed onto a row: variances ~1e-7, covariances ~0) is symmetric only
    to its last digits, and it was refused as a start (QA89: the outlier hint's refit from a
    fit ended ``bayesgmm em`` after the fit was printed, and nothing was saved)."""
    full = covariance.to_full(covariances, covariance_type, K, D)
    for k, matrix in enumerate(full):
        which = "init covariances" if covariance_type == "tied" else f"init covariances[{k}]"
        if not np.all(np.isfinite(matrix)):
            raise ValueError(f"{which} has non-finite values; give finite, symmetric "
                             "positive-definite covariances (or leave them out: they are then "
                             "estimated around the given means)")
        if np.max(np.abs(matrix - matrix.T)) > 1e-10 * np.max(np.abs(matrix)):
            raise ValueError(f"{which} is not symmetric; give symmetric positive-definite "
                             "covariances")
        smallest = float(np.linalg.eigvalsh(matrix)[0])
        if smallest <= 0:
            raise ValueError(f"{which} is not positive definite (smallest eigenvalue "
                             f"{smallest:.3g}); give symmetric positive-definite covariances "
                             "(or leave them out: they are then estimated around the given "
                             "means)")


def _initialise(obs: Observations, Xc, K, covariance_type, init, reg_covar, rng):
    """Initial (weights, means, covariances) from responsibilities or data points.

    ``Xc`` are complete rows to start from (``obs.X`` itself when nothing is missing). Known
    labels overrule the starting partition of their rows; a noise component starts with
    weight ``_NOISE_START``, and the rows isolated from all others (``obs.isolated``) start in
    it: the Gaussians start from the other rows (k-means++ on rows x1000 gave them a component
    of their own, and a covariance from them one too wide for any cluster).
    """
    X = obs.imputed()
    g = obs.sample_weight
    N, D = X.shape
    gc = obs.start_weights
    far = obs.isolated
    if far.any():
        Xc, gc = obs.prior_rows, obs.prior_weights
    if g is not None and np.sum((g > 0) & ~far) >= K:
        # rows of weight 0 are no rows: seeded on one far out, a component of no weight
        # (QA: Old Faithful and a weight-0 row at (100, 10000): every seed at -1289.8)
        far = far | (g <= 0)
    if init == "random_from_data":
        idx = (rng.choice(np.flatnonzero(~far), size=K, replace=False) if far.any()
               else rng.choice(N, size=K, replace=False))
        cov = covariance.data_covariance(Xc, gc)[1] + reg_covar * np.eye(D)
        covariances = covariance.from_full(cov, covariance_type, K)
        params = np.full(K, 1.0 / K), X[idx].copy(), covariances
        if obs.labels is not None:  # the labelled rows' own components, from their groups
            prec = kernels.precisions_cholesky(covariances, covariance_type)
            resp = kernels.estep(X, params[0], params[1], prec, covariance_type,
                                 return_resp=True).resp
            params = _params_from_resp(X, g, _with_labels(resp, obs.labels), covariance_type,
                                       reg_covar)
        return _with_noise(params, obs)
    if init == "random":
        resp = rng.uniform(size=(N, K))
        resp[far] = 0.0
        resp /= np.maximum(resp.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    else:
        # k-means on standardised data: otherwise the feature with the largest unit dominates.
        near = X[~far]
        sd = near.std(axis=0)
        Z = (near - near.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        with ignored():
            # empty clusters are re-seeded below
            if init == "plain_kmeans++":
                _, labels = kmeans2(Z, K, iter=1, minit="++", rng=rng)
            else:
                _, labels = kmeans2(Z, _greedy_kmeans_pp(Z, K, rng),
                                    iter=1 if init == "kmeans++" else 20, minit="matrix")
        resp = np.zeros((N, K))
        resp[np.flatnonzero(~far), labels] = 1.0
        _reseed_empty(resp, rng)
    if obs.labels is not None:
        resp = _with_labels(resp, obs.labels)
    return _with_noise(_params_from_resp(X, g, resp, covariance_type, reg_covar), obs)


def _covariances_around(obs: Observations, Xc, gc, weights, means, covariance_type,
                        reg_covar):
    """An explicit start without covariances: ``weights`` and ``means`` as given, and each
    component's covariance from the points it claims (responsibilities under the data's own
    covariance, known labels kept), as one M-step would estimate it."""
    X = obs.imputed()
    D = X.shape[1]
    pooled = (covariance.data_covariance(Xc, gc)[1] if len(Xc) > 1 else
              covariance.data_covariance(X, obs.sample_weight)[1]) + reg_covar * np.eye(D)
    shared = covariance.from_full(pooled, covariance_type, len(weights))
    try:
        prec = kernels.precisions_cholesky(shared, covariance_type)
    except (np.linalg.LinAlgError, kernels.NotPositiveDefiniteError):
        raise ValueError("the data's covariance is singular, so init covariances cannot be "
                         "estimated around the given means: give init['covariances']") from None
    resp = kernels.estep(X, weights, means, prec, covariance_type, return_resp=True).resp
    if obs.labels is not None:
        resp = _with_labels(resp, obs.labels)
    _, _, covariances = _params_from_resp(X, obs.sample_weight, resp, covariance_type,
                                          reg_covar)
    return weights, means, covariances


def _with_labels(resp, labels):
    """Responsibilities with the labelled rows set to their known component.

    The starting partition's columns are first permuted to agree best with the labels
    (an assignment on their contingency table): k-means numbers its clusters arbitrarily, and
    forcing the labelled rows into clusters of the wrong number would start EM from a mix of
    two groups per component, from which it climbs out only slowly (measured: 54 iterations
    instead of 6 on Old Faithful with 20 labels, examples/data/old_faithful_labels.csv).
    """
    from scipy.optimize import linear_sum_assignment  # here: only fits with labels need it

    known = labels >= 0
    K = resp.shape[1]
    agreement = np.zeros((K, K))  # rows: label, columns: starting cluster
    np.add.at(agreement, labels[known], resp[known])
    _, columns = linear_sum_assignment(agreement, maximize=True)
    resp = resp[:, columns].copy()
    resp[known] = 0.0
    resp[np.flatnonzero(known), labels[known]] = 1.0
    return resp


def _with_noise(params, obs: Observations):
    """Append the noise component's starting weight (no-op without noise)."""
    if not obs.noise:
        return params
    weights, means, covariances = params
    return np.append(weights * (1 - _NOISE_START), _NOISE_START), means, covariances


# Rows the k-means++ seeds are drawn from at most (a random subset of larger data): seeding
# all of 1e6 rows took 1-5 s a restart, as long as the fit; a cluster of 1 row in 10,000
# still has ~10 rows in the subset, and Lloyd's step and EM then see every row.
_SEED_ROWS = 100_000


def _greedy_kmeans_pp(Z: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """K seeds of k-means by greedy k-means++ (Arthur & Vassilvitskii 2007; scikit-learn's
    seeding): each further seed the best, by the potential it leaves (the summed squared
    distance to the nearest seed), of 2 + log K rows drawn with probability proportional to
    their squared distance to the nearest seed so far. Plain k-means++ (SciPy's ``minit="++"``,
    one row per seed, the default until 6 Dec 2026) left bare fits at a poorer optimum 19
    times in 80 (D = 10 and 20, K = 4; scikit-learn's bare fits 6, these seeds 8: QA111,
    ``benchmarks/bench_em_start.py``)."""
    if len(Z) > _SEED_ROWS:  # seeds from a random subset: the cost stays that of 1e5 rows
        Z = Z[np.sort(rng.choice(len(Z), size=_SEED_ROWS, replace=False))]
    N = len(Z)
    trials = 2 + int(np.log(K))
    norms = np.einsum("ij,ij->i", Z, Z)

    def squared_distances(rows: np.ndarray) -> np.ndarray:  # (N, rows)
        # |z - c|^2 = |z|^2 - 2 z.c + |c|^2 (the rows are centred: no cancellation to speak
        # of); a loop of (Z - c)^2 took 30 s at N = 1e6, D = 20, K = 10. einsum, not BLAS:
        # threaded BLAS on an (N, D) x (D, 4) product stalled 20-fold on a busy machine
        products = np.einsum("nd,kd->nk", Z, Z[rows])
        return np.maximum(norms[:, None] - 2.0 * products + norms[rows][None, :], 0.0)

    chosen = [int(rng.integers(N))]
    nearest = squared_distances(np.array(chosen))[:, 0]
    for _ in range(1, K):
        total = nearest.sum()
        drawn = (rng.choice(N, size=trials, p=nearest / total) if total > 0
                 else rng.choice(N, size=trials))  # every row on a seed already
        after = np.minimum(nearest[:, None], squared_distances(drawn))
        best = int(np.argmin(after.sum(axis=0)))
        chosen.append(int(drawn[best]))
        nearest = after[:, best]
    return Z[chosen]


def _reseed_empty(resp, rng):
    """Give an empty initial cluster one random point (taken from a cluster with several)."""
    counts = resp.sum(axis=0)
    for k in np.flatnonzero(counts == 0):
        donors = np.flatnonzero(resp[:, counts.argmax()] > 0)
        n = rng.choice(donors)
        resp[n] = 0.0
        resp[n, k] = 1.0
        counts = resp.sum(axis=0)


def _params_from_resp(X, g, resp, covariance_type, reg_covar):
    """An M-step from explicit responsibilities (initialisation only)."""
    w = resp if g is None else resp * g[:, None]
    nk = w.sum(axis=0) + 10 * np.finfo(float).eps
    means = (w.T @ X) / nk[:, None]
    diff = X[None, :, :] - means[:, None, :]  # (K, N, D)
    scatter = np.einsum("nk,kna,knb->kab", w, diff, diff)
    covariances = _ml_covariances(nk, scatter, covariance_type, np.zeros(len(nk), bool))
    return nk / nk.sum(), means, _add_reg(covariances, covariance_type, reg_covar)
