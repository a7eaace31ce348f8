"""Evidence for a noise component: do some rows fit a uniform background better than a Gaussian?

A mixture without a noise component has to explain every row by a Gaussian, so a few far
outliers stretch a component over them (its variance and correlation then describe the
outliers, not the cluster) or take a component of their own. :func:`noise_evidence` asks the
data: it refits the same mixture from the fit's own parameters, once without and once with a
uniform noise component over the data's bounding box (EM, maximum likelihood: from the fit's
parameters and from a few fresh starts, fractions of a second at N = 1,000), and compares their
BIC. When the noise
component lowers the BIC clearly (by ``min_delta_bic``, 10 by default: "very strong" on
Kass & Raftery's scale) and takes some rows (membership > 1/2), those rows are named, and the
command line and the reports suggest ``noise=True`` (``--noise``).

Where it sits: the selection layer, beside the reports; uses :func:`bayesgmm.em.fit_em` only
(no PyMC).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import aligned_to_rows
from .covariance import points_needed
from .em import BOTH_INITS, EMResult, fit_em
from .observations import check_labels

__all__ = ["MIN_DELTA_BIC", "NoiseEvidence", "noise_evidence"]

# BIC lower by this much with the noise component: "very strong" evidence (Kass & Raftery
# 1995, 2 log Bayes factor > 10); smaller differences are not worth a model change.
MIN_DELTA_BIC = 10.0
# Fresh starts of each refit per init family (besides the fit's own parameters): with gross
# outliers EM's optima are many (which clusters merge, which component holds the outliers);
# 4 k-means++ starts found the noise component's fit 440 BIC units above what --noise found
# (585 points, 4 clusters, 5 outliers): the evidence, and the rows named, were understated.
_RESTARTS = 10


@dataclass(frozen=True)
class NoiseEvidence:
    """The case for a noise component, from :func:`noise_evidence`.

    Attributes
    ----------
    rows : tuple of int
        Positions (0-based, in the X given) of the rows the noise component takes.
    bic_without, bic_with : float
        BIC of the mixture refitted without and with the noise component (lower is better).
    bic_fit : float or None
        BIC of the fit the evidence is about, when the refit without noise is better (a
        fresh start found a better optimum: worth saying too).
    """

    rows: tuple[int, ...]
    bic_without: float
    bic_with: float
    bic_fit: float | None = None

    @property
    def delta_bic(self) -> float:
        """How much lower the BIC is with the noise component."""
        return self.bic_without - self.bic_with

    def describe(self, row_names: Any = None, option: str = "noise=True") -> str:
        """One sentence: which rows, the BIC evidence, and what to do (``option``)."""
        names = self.rows if row_names is None else [row_names[r] for r in self.rows]
        shown = ", ".join(str(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")
        refit = (f"; the refit without it beats this fit's own {self.bic_fit:,.1f}, so EM "
                 "stopped at a poorer optimum here: restarts from random data points too "
                 "(init=(\"kmeans++\", \"random_from_data\")) would help"
                 if self.bic_fit is not None else "")
        return (f"{len(self.rows)} row(s) ({shown}) fit a uniform noise component better than "
                f"any Gaussian: the BIC is {self.delta_bic:,.1f} lower with one "
                f"({self.bic_with:,.1f} against {self.bic_without:,.1f}, both refitted by "
                f"maximum likelihood for this comparison{refit}); without it, Gaussians "
                f"must hold them (stretched over them, or given to them alone). Consider "
                f"{option}; or, if they are a group of their own, a larger K, and if they "
                "are the tails of skewed or heavy-tailed clusters rather than outliers, a "
                "transform of the data (a log, say)")


def noise_evidence(em: EMResult, X: Any, *, sample_weight: Any = None, labels: Any = None,
                   missing: str = "marginalise", min_delta_bic: float = MIN_DELTA_BIC
                   ) -> NoiseEvidence | None:
    """Whether a uniform noise component explains some rows of ``X`` clearly better.

    Parameters
    ----------
    em : EMResult
        A fit without a noise component (ML or MAP; its parameters are the start).
    X : array-like (N, D) or DataFrame
        The data it was fitted to, with ``sample_weight``, ``labels`` and ``missing`` as the
        fit took them.
    min_delta_bic : float
        How much lower the BIC must be with the noise component.

    Returns
    -------
    NoiseEvidence or None
        None when the fit already has a noise component, the evidence is below
        ``min_delta_bic``, or the noise component would take no row.
    """
    if em.noise:
        return None
    data = {"sample_weight": sample_weight, "labels": labels, "missing": missing}
    K, ct = em.n_components, em.covariance_type
    with warnings.catch_warnings():  # a refit's warnings are not the user's fit's
        warnings.simplefilter("ignore")
        # The plain fit from the fit's parameters and from fresh starts too: a fit from one
        # start (fit_em's default n_init=1) may be a poor optimum, which would inflate the
        # evidence for the noise.
        plain = _best(fit_em(X, K, covariance_type=ct, init=em, **data),
                      _fresh(X, K, ct, data))
        # From the fit's parameters, and from fresh starts: a fit that gave a component to an
        # outlier keeps it when the noise is added to it (a local optimum).
        noisy = _best(fit_em(X, K, covariance_type=ct, init=plain, noise=True, **data),
                      _fresh(X, K, ct, {**data, "noise": True}))
    criteria = {"sample_weight": sample_weight, "labels": labels}
    without, with_noise = plain.bic(X, **criteria), noisy.bic(X, **criteria)
    # The rows the noise takes, among those it can: a labelled row belongs to its label's
    # component, and a row the fit left out (missing="drop") is not in it.
    takes = noisy.predict(X) == -1
    codes = check_labels(aligned_to_rows(labels, X, "labels"), takes.size, K)
    if codes is not None:
        takes &= codes < 0
    nan = np.isnan(np.asarray(X, dtype=np.float64).reshape(takes.size, -1))
    takes &= ~(nan.any(axis=1) if missing == "drop" else nan.all(axis=1))  # rows not fitted
    rows = tuple(int(r) for r in np.flatnonzero(takes))
    if not rows or without - with_noise < min_delta_bic:
        return None
    own = em.bic(X, **criteria) if em.prior is None else None  # a MAP fit: another objective
    return NoiseEvidence(rows=rows, bic_without=float(without), bic_with=float(with_noise),
                         bic_fit=float(own) if own is not None and own > without + 1.0 else None)


def _fresh(X: Any, K: int, covariance_type: str, data: dict[str, Any]) -> EMResult:
    """The best fit from fresh starts of two init families: k-means++ seeds tend to land on
    gross outliers, random data points rarely do."""
    return fit_em(X, K, covariance_type=covariance_type, n_init=_RESTARTS, init=BOTH_INITS,
                  random_state=0, **data)


def _best(*fits: EMResult) -> EMResult:
    """The highest likelihood among the fits whose components all hold enough points for
    their covariances: a component collapsed on one or two points has an unbounded
    likelihood, which would pass for a better optimum (and hide an outlier it holds)."""
    proper = [fit for fit in fits if not _degenerate(fit)]
    return max(proper or fits, key=lambda fit: fit.log_likelihood)


def _degenerate(fit: EMResult) -> bool:
    """The selection tables' rule (:func:`bayesgmm.covariance.points_needed`, half a point
    of slack)."""
    sizes = np.asarray(fit.weights[:fit.n_components]) * fit.n_samples
    needed = points_needed(fit.covariance_type, fit.n_features)
    return bool(np.any(sizes < needed - 0.5))
