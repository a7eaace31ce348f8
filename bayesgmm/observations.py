"""The data as a mixture sees it: missing values, frequency weights, known labels, noise.

:func:`prepare_observations` validates a data set once, at a public entry point (``fit_em``,
``fit_bayes``, the estimator), and returns an :class:`Observations`: the rows that are fitted
(with NaN for a missing value), their weights, their known components, and the log-density of
the uniform noise component, plus a record of what was done (:meth:`Observations.summary`)
that results, reports and the command line show.

- **Missing values** (``missing="marginalise"``, the default): a row contributes the density of
  its observed coordinates, log sum_k w_k N(x_o | mu_k[o], Sigma_k[o, o]); that is correct when
  values are missing at random (MAR: whether a value is missing may depend on the observed
  values, not on the missing one). Rows with every value missing carry no information and are
  dropped with a note. ``"drop"`` fits the complete rows only (valid under the stronger MCAR
  assumption, and it wastes the observed part of the other rows); ``"refuse"`` raises.
- **Frequency weights** g_n >= 0: the log-likelihood is sum_n g_n ll_n, as if row n appeared
  g_n times.
- **Known labels**: ``labels[n] = k`` means row n belongs to component k; it then contributes
  log w_k + log N(x_n | mu_k, Sigma_k) (the joint density of the point and its label) instead
  of the mixture density. -1 means unknown. With every row labelled, EM is the per-group fit
  (mclust's EDDA discriminant analysis).
- **A noise component** (Banfield & Raftery 1993; mclust's ``initialization$noise``): one more
  component with the uniform density 1/V over a region of volume V, by default the data's
  bounding box, with its own weight. The rows isolated from all others
  (:attr:`Observations.isolated`) start EM in it and are left out of the data-scaled priors.

The arithmetic is the kernel's row plan (:class:`bayesgmm.kernels.RowPlan`): rows grouped by
missingness pattern and label, every group one pass of the one E-step kernel.

(Over 500 lines: every treatment of the data, validated together once and recorded in one
summary; split, the checks that must see each other (labels against dropped rows, the noise box
against missing values) would reach across modules.)

Where it sits: the data layer, above the math layer; imports :mod:`bayesgmm._validation`,
:mod:`bayesgmm.rounding` (a dequantised frame's record), :mod:`bayesgmm.imputation`,
:mod:`bayesgmm.isolation` and :mod:`bayesgmm.kernels`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import kernels, rounding
from ._validation import (
    aligned_to_rows,
    carries_names,
    check_bool,
    check_data,
    check_int,
    check_number,
    check_sample_weight,
    check_weight_total,
    is_number,
    pd_na,
    row_names,
    transposed_hint,
    warn_about_columns,
)
from ._warn import IN_PACKAGE, ignored, warn
from .covariance import column_moments
from .formatting import format_number
from .imputation import conditional_means  # its home before imputation.py
from .isolation import isolated_observations

__all__ = ["MISSING_POLICIES", "Observations", "check_labels", "component_labels",
           "conditional_means", "encode_labels", "noise_log_ranges", "prepare_observations",
           "with_unobserved_rows"]

MISSING_POLICIES = ("marginalise", "drop", "refuse")


class NoiseFlag:
    """Mixin: ``noise``, whether there is a uniform noise component, read from the attribute
    ``noise_log_density`` (its log-density; -inf when there is none)."""

    noise_log_density: float

    @property
    def noise(self) -> bool:
        """Whether the mixture has a uniform noise component."""
        return self.noise_log_density != -np.inf


@dataclass(frozen=True, eq=False)
class Observations(NoiseFlag):
    """A validated data set with its missing values, weights, known labels and noise component.

    Attributes
    ----------
    X : ndarray (N, D), float64
        The rows fitted; NaN marks a missing value (only under ``missing="marginalise"``).
    feature_names : tuple of str
    sample_weight : ndarray (N,) or None
        Frequency weights; None for unit weights.
    labels : ndarray (N,) int64 or None
        Known component of each row, -1 for unknown; None when no row is labelled.
    noise_log_density : float
        log(1 / V) of the uniform noise component; -inf when there is none.
    noise_bounds : ndarray (2, D) or None
        Lower and upper corners of the noise component's box: the data's bounding box, or
        that box scaled about its centre to ``noise_volume`` (None without noise, or when a
        volume was given and the data's box is flat).
    missing : str
        The policy used (:data:`MISSING_POLICIES`).
    kept_rows : ndarray (n_input,) bool
        Which rows of the input are in ``X``.
    n_missing_values : int
        NaN entries in ``X``.
    n_rows_with_missing : int
        Rows of ``X`` with at least one NaN.
    n_rows_dropped : int
        Input rows left out (every value missing; or any value missing under ``"drop"``).
    row_names : tuple of str or None
        The rows of ``X`` named by the input's index (a pandas DataFrame or Series whose index
        is not 0, 1, ..., N-1); None otherwise (rows are then named by their position).
    index_name : str or None
        That index's name (``"patient_id"``), where ``row_names`` are given and it has one:
        the ID column's name in a posterior's membership table and reports.
    noise_volume : float or None
        The noise component's volume as given (``noise_volume``); None for the bounding box
        or without noise. Kept as given: ``exp(-noise_log_density)`` is off in the last bit.
    data_warnings : tuple of str
        The warnings about the columns given when the data were validated (a flag or a code,
        copied rows), kept in the fit's record.
    dequantised : dict or None
        What :func:`bayesgmm.dequantise` did to a DataFrame or Series given (its record:
        ``steps``, column to step, and ``random_state``), kept in the fit's record; None
        otherwise.
    features_named : bool or None
        Whether the input named its features (a DataFrame's columns, a named Series, or
        ``feature_names``), so that new data are matched to them by name; False where
        ``feature_names`` are the placeholders x0, x1, ...; None where unknown.
    """

    X: np.ndarray
    feature_names: tuple[str, ...]
    sample_weight: np.ndarray | None
    labels: np.ndarray | None
    noise_log_density: float
    noise_bounds: np.ndarray | None
    missing: str
    kept_rows: np.ndarray
    n_missing_values: int
    n_rows_with_missing: int
    n_rows_dropped: int
    row_names: tuple[str, ...] | None = None
    noise_volume: float | None = None
    index_name: str | None = None
    data_warnings: tuple[str, ...] = ()
    dequantised: dict[str, Any] | None = None
    features_named: bool | None = None

    @property
    def n_samples(self) -> int:
        """N: the rows of ``X``."""
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        """D: the columns of ``X``."""
        return self.X.shape[1]

    @property
    def n_labelled(self) -> int:
        """Rows whose component is known."""
        return 0 if self.labels is None else int(np.count_nonzero(self.labels >= 0))

    @property
    def needs_plan(self) -> bool:
        """Whether the row plan is needed (else the plain kernel computes the same thing)."""
        return self.n_missing_values > 0 or self.labels is not None or self.noise

    @property
    def noise_log_ranges(self) -> np.ndarray | None:
        """Log side lengths of the noise component's box (D,), or None without noise."""
        if not self.noise:
            return None
        return noise_log_ranges(self.noise_log_density, self.noise_bounds, self.n_features)

    @functools.cached_property
    def plan(self) -> kernels.RowPlan:
        """The kernel's row plan for these rows (built once, on first use)."""
        return kernels.RowPlan.build(self.X, self.sample_weight, self.labels,
                                     self.noise_log_density, self.noise_log_ranges)

    @functools.cached_property
    def isolated(self) -> np.ndarray:
        """(N,) bool: with a noise component, the rows far from all others
        (:func:`bayesgmm.isolation.isolated_observations`; a row with gaps judged on the
        columns it has); labelled rows never. They start EM in the noise component and
        are left out of the data-scaled priors (see :attr:`prior_rows`). All False without a
        noise component, or when too few rows would be left."""
        if not self.noise:
            return np.zeros(self.n_samples, dtype=bool)
        return isolated_observations(self.X, self.labels, self.sample_weight)

    @property
    def start_rows(self) -> np.ndarray:
        """Complete rows for checks and starting values: the complete ones when there are more
        than 2 D, else every row with column means in the gaps (only to start: the fits
        marginalise)."""
        return self._start_rows(np.ones(self.n_samples, dtype=bool))

    @property
    def start_weights(self) -> np.ndarray | None:
        """The frequency weights of :attr:`start_rows`, row for row (None without weights)."""
        if self.sample_weight is None:
            return None
        return self._start_rows(np.ones(self.n_samples, dtype=bool), self.sample_weight)

    @property
    def prior_rows(self) -> np.ndarray:
        """The rows the data-scaled priors are computed from (MAP-EM's conjugate default, the
        posterior's standardisation): :attr:`start_rows` without the :attr:`isolated` ones. A
        noise component is there for far points, and scaled by them the priors all but forbid
        the real, tight clusters (two clusters and two rows x1000: every MAP-EM start merged
        the clusters)."""
        return self._start_rows(~self.isolated)

    @property
    def prior_weights(self) -> np.ndarray | None:
        """The frequency weights of :attr:`prior_rows`, row for row (None without weights):
        the data-scaled priors count each row as often as its weight says."""
        if self.sample_weight is None:
            return None
        return self._start_rows(~self.isolated, self.sample_weight)

    def _start_rows(self, keep: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """The rows of ``keep`` to start from (or ``values``' entries for those rows)."""
        rows = keep
        if self.n_missing_values:
            whole = keep & ~np.isnan(self.X).any(axis=1)
            counted = whole if self.sample_weight is None else whole & (self.sample_weight > 0)
            if counted.sum() > 2 * self.n_features:  # enough complete rows that count
                rows = whole
            elif values is None:
                return self.imputed()[keep]
        return (self.X if values is None else values)[rows]

    @property
    def complete_rows(self) -> np.ndarray:
        """The rows with no missing value (N_complete, D)."""
        return self.X[~np.isnan(self.X).any(axis=1)]

    @property
    def n_effective(self) -> float:
        """Number of rows, or the sum of the weights."""
        return float(self.n_samples if self.sample_weight is None else self.sample_weight.sum())

    def subsample(self, n_rows: int, rng: np.random.Generator) -> Observations:
        """``n_rows`` rows drawn at random without replacement, as an :class:`Observations`
        that stands for all of them: each row's frequency weight is multiplied by the total
        weight over the sample's, so sums over it (the log-likelihood, EM's statistics)
        estimate the sums over every row, and a prior weighs against it as against the
        whole data set. The noise component's box is the whole data's. For searching for a
        start (:func:`bayesgmm.em.fit_map_start`), not for a fit that is reported.

        Parameters
        ----------
        n_rows : int
            How many rows, at most :attr:`n_samples`.
        rng : numpy Generator
            Draws the rows.

        Returns
        -------
        Observations
            Without row names; labels kept only where some row drawn has one.

        Raises
        ------
        ValueError
            Every row drawn has weight 0.
        """
        rows = np.sort(rng.choice(self.n_samples, size=n_rows, replace=False))
        weights = np.ones(n_rows) if self.sample_weight is None else self.sample_weight[rows]
        total = weights.sum()
        if total <= 0:
            raise ValueError("the rows drawn all have weight 0")
        nan = np.isnan(self.X[rows])
        labels = None if self.labels is None else self.labels[rows]
        return replace(
            self, X=self.X[rows], sample_weight=weights * (self.n_effective / total),
            labels=labels if labels is not None and (labels >= 0).any() else None,
            kept_rows=np.ones(n_rows, dtype=bool), n_missing_values=int(nan.sum()),
            n_rows_with_missing=int(nan.any(axis=1).sum()), n_rows_dropped=0,
            row_names=None)

    def imputed(self) -> np.ndarray:
        """``X`` with every missing value replaced by its column's observed mean (over the rows
        that are not :attr:`isolated`: a mean pulled far off by them made a row with a gap an
        outlier of its own; with frequency weights, of the rows counted by them).

        For initialisation only (k-means seeds, starting covariances): the fit itself
        marginalises the missing values.

        Returns
        -------
        ndarray (N, D)
            ``X`` itself when nothing is missing, else a new array.
        """
        if self.n_missing_values == 0:
            return self.X
        kept = ~self.isolated
        means = column_moments(self.X[kept], None if self.sample_weight is None
                               else self.sample_weight[kept])[0]
        return np.where(np.isnan(self.X), means, self.X)

    def summary(self) -> dict[str, Any]:
        """A JSON-able record of what the data held and how it was treated. A row of weight 0
        is no row: the rows fitted and the missing values are counted over the rows of
        positive weight (QA: "152 row(s) fitted; 1 missing value(s)" where 150 rows counted
        and the missing value was in a row of weight 0), and ``n_rows_zero_weight`` says how
        many were left out so.

        Returns
        -------
        dict
            ``n_rows``, ``n_rows_fitted``, ``missing``, ``n_missing_values``, ``weighted``,
            ``noise``, ``noise_bounds``, ... (JSON-ready).
        """
        counted = np.ones(self.n_samples, bool) if self.sample_weight is None \
            else self.sample_weight > 0
        nan = np.isnan(self.X[counted])
        return {
            "n_rows": int(self.kept_rows.shape[0]),
            "n_rows_fitted": int(counted.sum()),
            "n_rows_zero_weight": int(self.n_samples - counted.sum()),
            "n_rows_dropped": self.n_rows_dropped,
            "missing": self.missing,
            "n_missing_values": int(nan.sum()),
            "n_rows_with_missing": int(nan.any(axis=1).sum()),
            "weighted": self.sample_weight is not None,
            "sum_of_weights": self.n_effective,
            "n_labelled": self.n_labelled,
            "noise": self.noise,
            "noise_log_density": float(self.noise_log_density) if self.noise else None,
            "noise_volume": self.noise_volume,
            # the box's corners, (lower, upper) per column (QA101: only its volume was said)
            "noise_bounds": (None if self.noise_bounds is None
                             else np.asarray(self.noise_bounds, dtype=float).tolist()),
            "data_warnings": list(self.data_warnings),
            "dequantised": self.dequantised,
        }

    def describe(self) -> list[str]:
        """Plain sentences for the command line and the report (empty when nothing to say).

        Returns
        -------
        list of str
        """
        lines = []
        if self.n_rows_dropped:
            why = ("every value missing" if self.missing != "drop"
                   else "a value missing (missing='drop')")
            lines.append(f"{self.n_rows_dropped} row(s) left out ({why}).")
        if self.n_missing_values:
            lines.append(
                f"{self.n_missing_values} missing value(s) in {self.n_rows_with_missing} "
                f"row(s), integrated out (assumed missing at random).")
        if self.sample_weight is not None:
            lines.append(f"Rows weighted (frequency weights summing to "
                         f"{self.n_effective:.6g}).")
        if self.n_labelled:
            lines.append(f"{self.n_labelled} of {self.n_samples} row(s) have a known "
                         "component.")
        if self.noise:
            lines.append(f"A uniform noise component of volume "
                         f"{math.exp(-self.noise_log_density):.6g}.")
        return lines


def _check_some_spread(X: np.ndarray, names) -> None:
    """Refuse data whose every column holds one value over its observed values: nothing to
    cluster, whatever the fit (QA91: a constant 1-D column was fitted by EM with a warning to
    drop the column, the only one, and refused by fit_bayes with the same advice)."""
    with np.errstate(all="ignore"), ignored(RuntimeWarning):
        # an all-NaN column: refused later
        low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    if X.shape[0] > 1 and np.all(low == high):
        values = ", ".join(f"{name!r} = {format_number(v)}" for name, v in zip(names, low,
                                                                                strict=True))
        raise ValueError(f"every row of X has the same value{'s' if len(names) > 1 else ''} "
                         f"({values}): there is nothing to cluster; check how the data were "
                         "read")


def prepare_observations(
    X: Any,
    n_components: int,
    *,
    missing: str = "marginalise",
    sample_weight: Any = None,
    labels: Any = None,
    noise: bool = False,
    noise_volume: float | None = None,
    feature_names: Any = None,
) -> Observations:
    """Validate data with its missing values, weights, known labels and noise; see the module.

    Parameters
    ----------
    X : array-like (N, D) or (N,), DataFrame, or Observations
        NaN marks a missing value. An :class:`Observations` is returned as it is (already
        validated; the other arguments must then be left at their defaults).
    n_components : int
        K: the data must have at least K usable rows.
    missing : {"marginalise", "drop", "refuse"}
    sample_weight : array-like (N,), optional
        Frequency weights: finite, >= 0, summing to 2 or more (they count rows).
    labels : array-like (N,) of int, optional
        Known component indices 0..K-1, -1 for unknown.
    noise : bool
        Add a uniform noise component.
    noise_volume : float, optional
        Its volume V (in the data's units, the product of the features' units); default: the
        bounding box of the observed values.
    feature_names : sequence of str, optional
        Names when ``X`` carries none.

    Returns
    -------
    Observations

    Raises
    ------
    ValueError
        One line naming the problem: bad data (see :func:`bayesgmm._validation.check_data`),
        an unknown policy, missing values under ``"refuse"``, a column with no observed value,
        fewer usable rows than components, bad weights or labels, a noise volume that is not
        positive (e.g. a column with zero range).
    """
    if isinstance(X, Observations):
        if (missing, sample_weight, labels, noise, noise_volume) != ("marginalise", None, None,
                                                                     False, None):
            raise ValueError("X is already an Observations: give missing, sample_weight, "
                             "labels and noise when it is made, not again")
        return X
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}; got {missing!r}"
                         # the US spelling (QA164 L8)
                         + ("; did you mean 'marginalise'?" if missing == "marginalize" else ""))
    K = check_int(n_components, "n_components")
    noise = check_bool(noise, "noise")
    Xv, names = check_data(X, feature_names=feature_names, allow_nan=missing != "refuse")
    n_input = Xv.shape[0]
    g = check_sample_weight(aligned_to_rows(sample_weight, X, "sample_weight"), n_input)
    codes = check_labels(aligned_to_rows(labels, X, "labels"), n_input, K)
    nan = np.isnan(Xv)
    kept = ~nan.all(axis=1) if missing == "marginalise" else ~nan.any(axis=1)
    if codes is not None and np.any(codes[~kept] >= 0):
        warn(_labels_left_out(X, ~kept & (codes >= 0), missing), UserWarning,
             skip_file_prefixes=IN_PACKAGE)
    empty = ~kept if codes is None else ~kept & (codes < 0)  # labelled ones: named above
    if missing == "marginalise" and empty.any() and kept.any():
        warn(_empty_rows_left_out(X, empty), UserWarning, skip_file_prefixes=IN_PACKAGE)
    if missing == "drop" and not kept.all() and kept.any():
        shifted = _dropped_rows_differ(Xv, kept, names, g)
        if shifted:
            warn(shifted, UserWarning, skip_file_prefixes=IN_PACKAGE)
    if not kept.all():
        Xv, nan = Xv[kept], nan[kept]
        g = None if g is None else g[kept]
        codes = None if codes is None else codes[kept]
    if not Xv.shape[0]:  # QA: "... give n_components at most 0"
        raise ValueError(f"no row of X has a value to fit (every one of its {n_input} row(s) "
                         + ("has a missing value, and missing='drop'" if missing == "drop"
                            else "is missing every value") + "); check how X was read")
    unobserved = [names[j] for j in np.flatnonzero(nan.all(axis=0))] if Xv.size else []
    if unobserved:
        raise ValueError(f"column(s) {', '.join(map(repr, unobserved))} have no observed value; "
                         "drop them")
    left_out = n_input - Xv.shape[0]
    why = f" ({left_out} row(s) left out for missing values)" if left_out else ""
    # QA91: 82 velocities given as one row were told "give n_components at most 1"
    transposed = transposed_hint(Xv.shape[0], Xv.shape[1]) if Xv.shape[0] < K else ""
    if Xv.shape[0] == 1 and K == 1:  # with K > 1 the next message says it all
        raise ValueError(f"X has 1 point{why}: a fit needs at least 2 (one point has no "
                         "spread to estimate)" + transposed_hint(1, Xv.shape[1]))
    if Xv.shape[0] < K:
        raise ValueError(f"X has {Xv.shape[0]} point(s){why}, fewer than n_components={K}; "
                         f"each component needs at least one point: give n_components at "
                         f"most {Xv.shape[0]}" + transposed)
    _check_some_spread(Xv, names)
    if g is not None and not np.any(g > 0):
        raise ValueError("sample_weight is zero on every row that is fitted (rows with missing "
                         "values were left out); give some of them a positive weight")
    counted = int(np.count_nonzero(g > 0)) if g is not None else Xv.shape[0]
    if counted < max(K, 2):  # a row of weight 0 is no row: the checks above, on the rest
        raise ValueError(f"only {counted} row(s) have a positive sample_weight, fewer than "
                         f"{'n_components=' + str(K) if K >= 2 else 'the 2 a fit needs'}; "
                         "each component needs at least one point: give more rows a weight")
    check_weight_total(g)
    if codes is not None and g is not None and np.any((codes >= 0) & (g == 0)):
        # a row of weight 0 is no row: its label would name a component from nothing (QA:
        # "component 0 = 'left'" on the right-hand cluster, and relabelling skipped)
        rows = np.flatnonzero(kept)[(codes >= 0) & (g == 0)]
        shown = ", ".join(map(str, rows[:5])) + (", ..." if rows.size > 5 else "")
        raise ValueError(f"{rows.size} row(s) with a known label have sample_weight 0 (row(s) "
                         f"{shown}): a row of weight 0 counts for nothing, so its label cannot "
                         "name a component; give those rows a positive weight or no label")
    if codes is not None and not np.any(codes >= 0):
        codes = None
    # here, where every fit's data are validated once (the API's and the command line's)
    said = warn_about_columns(Xv, names, g)
    counted = Xv if g is None else Xv[g > 0]  # a row of weight 0 is no row
    unweighted = [names[j] for j in np.flatnonzero(np.isnan(counted).all(axis=0))]
    if unweighted:
        raise ValueError(f"column(s) {', '.join(map(repr, unweighted))} have no observed value "
                         "in a row of positive weight; drop them, or weight those rows")
    log_noise, bounds = _noise(counted, names, noise, noise_volume)
    dequantised = rounding.recorded(X)
    why = rounding.weights_against_jitter(g) if rounding.carries_jitter(X) else None
    if why is not None:  # as the command line refuses it (QA165 M1: the API took it)
        raise ValueError(f"X was dequantised (bayesgmm.dequantise) and sample_weight holds "
                         f"weights other than 0 and 1: {why}; "
                         + ("fit without dequantising" if "no count" in why else
                            "repeat the rows by their counts before dequantising "
                            "(df.loc[df.index.repeat(w)]) and fit them without sample_weight"))
    named = row_names(X, kept)
    index_name = getattr(getattr(X, "index", None), "name", None) if named else None
    return Observations(
        X=np.ascontiguousarray(Xv), feature_names=tuple(names), sample_weight=g, labels=codes,
        noise_log_density=log_noise, noise_bounds=bounds, missing=missing, kept_rows=kept,
        n_missing_values=int(nan.sum()), n_rows_with_missing=int(nan.any(axis=1).sum()),
        n_rows_dropped=int(n_input - Xv.shape[0]), row_names=named,
        index_name=None if index_name is None else str(index_name),
        noise_volume=None if noise_volume is None else float(noise_volume),
        data_warnings=said, dequantised=dequantised,
        features_named=feature_names is not None or carries_names(X),
    )


def _empty_rows_left_out(X: Any, empty: np.ndarray) -> str:
    """The warning for rows with no observed value, which a fit leaves out (QA101: said by
    the command line only, while predict() still gave such a row a component)."""
    count, shown = _rows_named(X, empty)
    return (f"{count} row(s) of X have no observed value (row(s) {shown}) and are left out "
            "of the fit; predict_proba() gives such a row the weights as its memberships "
            "(and predict() the heaviest component), which say nothing of it")


def _rows_named(X: Any, rows: np.ndarray) -> tuple[int, str]:
    """How many of ``rows`` (a mask) there are and the first five named as the data name
    them (their index labels, else their positions): "s4, s9 and 3 more"."""
    names = row_names(X, rows)
    named = [str(n) for n in (names if names is not None else np.flatnonzero(rows))]
    return len(named), ", ".join(named[:5]) + (f" and {len(named) - 5} more"
                                               if len(named) > 5 else "")


def _labels_left_out(X: Any, rows: np.ndarray, missing: str) -> str:
    """The warning for known labels on rows the fit leaves out (QA: a labelled row with no
    observed value vanished without a word; its label says something about the weights)."""
    count, shown = _rows_named(X, rows)
    why = ("no observed value" if missing == "marginalise" else
           "a missing value (missing='drop')")
    return (f"{count} row(s) with a known label have {why} and are left out, their "
            f"labels unused: row(s) {shown}"
            + ("; with missing='marginalise' their observed values would be fitted"
               if missing == "drop" else ""))


def with_unobserved_rows(seen: np.ndarray, pointwise: np.ndarray, resp: np.ndarray | None,
                         weights: np.ndarray, labels: np.ndarray | None
                         ) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows with no observed value put back among the others (the one rule for EM's and
    the posterior's predictions, QA119 M2): such a row's marginal density is over no
    coordinates, 1 (log 0), and its memberships are the weights; a labelled one's log-density
    is log w_k and its memberships its label.

    Parameters
    ----------
    seen : ndarray (N,) bool
        The rows with a value observed.
    pointwise : ndarray (S, n_seen)
        Their log-densities, S parameter draws (1 for an estimate).
    resp : ndarray (S, n_seen, C) or None
        Their memberships (C: K, or K + 1 with a noise component, last).
    weights : ndarray (S, C)
    labels : ndarray (N,) int or None
        Known components (-1: unknown).

    Returns
    -------
    pointwise : ndarray (S, N)
    resp : ndarray (S, N, C) or None
    """
    S, N = weights.shape[0], seen.shape[0]
    full = np.zeros((S, N))
    full[:, seen] = pointwise
    memberships = None
    if resp is not None:
        memberships = np.repeat(weights[:, None, :], N, axis=1)
        memberships[:, seen] = resp
    for n in np.flatnonzero(~seen & (labels >= 0)) if labels is not None else ():
        full[:, n] = np.log(weights[:, labels[n]])
        if memberships is not None:
            memberships[:, n] = np.eye(weights.shape[1])[labels[n]]
    return full, memberships


def noise_log_ranges(noise_log_density: float, noise_bounds: np.ndarray | None,
                     n_features: int) -> np.ndarray:
    """Log side lengths of a noise component's box, shape (D,).

    A row with missing values gets the box's marginal density over its observed coordinates,
    -sum of their log side lengths. The box is ``noise_bounds`` (lower, upper): the data's
    bounding box, or with ``noise_volume`` that box scaled about its centre to the volume;
    with neither (a flat box and a volume, or a result saved by an older version) a cube of
    the volume.
    """
    if noise_bounds is not None:
        lower, upper = np.asarray(noise_bounds, dtype=np.float64)
        return np.log(upper - lower)
    return np.full(n_features, -float(noise_log_density) / n_features)


def check_labels(labels: Any, n_rows: int, K: int, *, fitting: bool = True,
                 names: Sequence[str] | None = None) -> np.ndarray | None:
    """Known components as int64 (-1 unknown; NaN and pandas' NA also mean unknown), or
    None; one-line errors. ``fitting``: the labels of a fit's data, where rows labelled
    all alike would leave other components without data (refused); for predicting or
    imputing a few rows, any labels are fine, and label names are coded by ``names``, the
    fit's (component k is ``names[k]``; QA123: the advice to encode new rows' names alone
    sorted them afresh, and a row known to be "short" was put in "long" with probability 1).
    Numbers are component indices, also where the names are numbers: give those as text."""
    if labels is None:
        return None
    arr = _unknown_as_nan(np.asarray(labels))
    # numbers stay component indices, whatever the names (the library passes its own codes
    # through here; QA131: read as names, a fit of group codes 1, 2 lost its memberships)
    if not fitting and names and arr.dtype.kind not in "iuf":
        if arr.ndim != 1 or arr.shape[0] != n_rows:
            raise ValueError(f"labels must be one value per row ({n_rows}); got shape "
                             f"{arr.shape}")
        return _codes_of_names(np.asarray(labels, dtype=object), tuple(names))
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise ValueError(f"labels must be one value per row ({n_rows}); got shape {arr.shape}")
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), -1.0, arr)  # a float column's gaps: label unknown
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not whole.all():
            n = int(np.flatnonzero(~whole)[0])
            raise ValueError(f"labels must be whole numbers (component indices, -1 or NaN for "
                             f"unknown); got {float(arr[n]):g} at row {n} (map label names to "
                             "indices with bayesgmm.observations.encode_labels)")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers (component indices 0..{K - 1}, -1 for "
                         f"unknown); got {arr.dtype} " + (
                             "(map names with bayesgmm.observations.encode_labels)" if fitting
                             else "and the fit's components have no names: code them as the "
                             f"fit's were, encode_labels(labels, {K}, names=<the names "
                             "encode_labels gave for the fit>)"))
    codes = arr.astype(np.int64)
    bad = (codes < -1) | (codes >= K)
    if bad.any():
        # codes such as diagnoses 1..K are names, not indices (QA123 L2: the fix unnamed)
        raise ValueError(f"labels must be in -1..{K - 1} (component indices, -1 for unknown) "
                         f"for n_components={K}; got {int(codes[bad][0])} at row "
                         f"{int(np.flatnonzero(bad)[0])} (codes that name groups are names: "
                         "give them as text, labels.astype(str), or map them with "
                         "bayesgmm.observations.encode_labels)")
    empty = np.setdiff1d(np.arange(K), codes)
    if fitting and (codes >= 0).all() and empty.size:
        raise ValueError(f"every row is labelled and none with component(s) {empty.tolist()}: "
                         f"they could hold no data; fit n_components={K - empty.size}, or "
                         "leave the rows whose component is unknown unlabelled (-1)")
    return codes


def component_labels(labels: Any, n_components: int, fitted_names: tuple[str, ...] | None = None
                     ) -> tuple[Any, tuple[str, ...]]:
    """Labels as component indices plus their names: the one rule of every entry point that
    takes label names as well as indices (the estimator's ``fit(..., labels=)``, and its
    ``predict(..., labels=)`` with the fitted names).

    Numbers are component indices, as :func:`check_labels` (``fit_em``, ``fit_bayes``) takes
    them: integers, and whole-number floats with NaN for unknown (a CSV column of integers
    with blanks reads as floats); they are returned as given (a pandas Series keeps its index,
    which the fit aligns to X's rows) with no names. Anything else (text, categories of
    text, booleans) is names: encoded by :func:`encode_labels` for a fit (``fitted_names``
    None), or given the components the fit gave them (``fitted_names``: the fit's names in
    component order; a name it was not given is refused, as are names after a fit given
    indices, whose components have no names).
    """
    values = labels.to_numpy() if hasattr(labels, "to_numpy") else labels
    if _unknown_as_nan(np.asarray(values)).dtype.kind in "iuf":
        return labels, ()
    if fitted_names is None:
        codes, names = encode_labels(values, n_components)
    else:
        codes, names = _codes_of_names(values, fitted_names), fitted_names
    if hasattr(labels, "index") and hasattr(labels, "reindex"):  # a Series: keep its index
        import pandas as pd

        return pd.Series(codes, index=labels.index), names
    return codes, names


def _unknown_as_nan(arr: np.ndarray) -> np.ndarray:
    """An object array of numbers with None / pandas' NA (a nullable integer column) as
    floats with NaN; anything else unchanged."""
    if arr.dtype.kind != "O":
        return arr
    na = pd_na()
    values = [np.nan if v is None or v is na else v for v in arr.ravel()]
    if not all(is_number(v) for v in values):
        return arr
    return np.array(values, dtype=np.float64).reshape(arr.shape)


# Dropped rows whose observed values sit this many of the kept rows' sds from theirs (in a
# column where at least _SHIFT_ROWS of them are observed), and _SHIFT_Z standard errors, are
# no random subset (MCAR: 0 false alarms in 200 sets of 300 rows, 15% dropped).
_SHIFT_SD, _SHIFT_ROWS, _SHIFT_Z = 0.5, 5, 4.0


def _dropped_rows_differ(X: np.ndarray, kept: np.ndarray, names, weights) -> str:
    """A warning when the rows ``missing="drop"`` leaves out differ from those it keeps where
    they are observed (the column that differs most), else "". QA: length was missing where
    mass was high; dropping those rows gave weight 0.22 [0.17, 0.27] against 0.35, with an
    OK verdict and no word of bias."""
    g = np.ones(len(X)) if weights is None else weights
    worst = (0.0, "", 0.0, 0.0)
    for j, name in enumerate(names):
        seen = ~np.isnan(X[:, j])
        out, inside = seen & ~kept & (g > 0), seen & kept & (g > 0)
        if out.sum() < _SHIFT_ROWS or inside.sum() < 2:
            continue
        mean_in = np.average(X[inside, j], weights=g[inside])
        mean_out = np.average(X[out, j], weights=g[out])
        sd = np.sqrt(np.average((X[inside, j] - mean_in) ** 2, weights=g[inside]))
        shift = abs(mean_out - mean_in) / sd if sd > 0 else 0.0
        # and beyond chance: _SHIFT_Z standard errors of the difference of the two means
        if shift < _SHIFT_Z * np.sqrt(1 / out.sum() + 1 / inside.sum()):
            continue
        if shift > worst[0]:
            worst = (shift, str(name), mean_out, mean_in)
    shift, name, mean_out, mean_in = worst
    if shift < _SHIFT_SD:
        return ""
    return (f"the {int((~kept).sum())} row(s) dropped for missing values differ from those "
            f"kept where they are observed: mean {name!r} {mean_out:.4g} against {mean_in:.4g} "
            f"({shift:.1f} sd of the kept rows). Values missing because of what the data are "
            "bias a fit that drops their rows; missing='marginalise' (--missing marginalise) "
            "uses every observed value")


def _noise(X: np.ndarray, names, noise: bool, volume: float | None
           ) -> tuple[float, np.ndarray | None]:
    """(log density, box) of the noise component; (-inf, None) without one."""
    if not noise:
        if volume is not None:
            raise ValueError("noise_volume is given but noise is off; pass noise=True")
        return -np.inf, None
    lower, upper = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    if volume is not None:
        # a real number: float(True) or float("2") would pass silently
        v = check_number(volume, "noise_volume", lambda x: math.isfinite(x) and x > 0,
                         "a positive finite number")
        _warn_if_smaller_than_box(v, X)
        return -math.log(v), _box_of_volume(lower, upper, v)
    flat = [names[j] for j in np.flatnonzero(upper <= lower)]
    if flat:
        raise ValueError(f"the noise component's box has zero volume: column(s) "
                         f"{', '.join(map(repr, flat))} have no spread; give noise_volume or "
                         "drop the column(s)")
    log_volume = float(np.sum(np.log(upper - lower)))
    if not math.isfinite(log_volume):
        raise ValueError("the noise component's box volume is not finite; give noise_volume")
    _warn_if_one_value_sets_a_side(X, names)
    return -log_volume, np.stack([lower, upper])


# One value stretching its column's side of the noise box this many times beyond the other
# rows' range is worth a word: the noise density 1/V falls as much for every other row.
_LONE_STRETCH = 10.0


def _warn_if_one_value_sets_a_side(X: np.ndarray, names) -> None:
    """Warn where a single value alone sets a side of the noise component's bounding box.

    QA101: one assay failure at 1e4 sds stretched its column's side 2,000 times; the noise
    weight fell from 0.058 to 0.033 and twice as many contaminated rows were missed, and
    nothing said why."""
    said = []
    for j, name in enumerate(names):
        values = X[:, j][~np.isnan(X[:, j])]
        if values.size < 4:  # the far value and a range of at least two others on each side
            continue
        low, second, *_, next_to_top, top = np.sort(values)
        side = top - low
        for far, rest in ((top, next_to_top - low), (low, top - second)):
            if rest > 0 and side > _LONE_STRETCH * rest:
                said.append(f"{name!r} (the value {format_number(far)}: {side / rest:,.0f} "
                            "times the other rows' range)")
                break
    if said:
        warn("one value alone sets the noise component's box along "
             + "; ".join(said) + ": the noise density 1/V is as many times lower "
             "for every other row, so fewer of them are called noise; check the "
             "value, or give noise_volume (--noise-volume) to set the box",
             UserWarning, skip_file_prefixes=IN_PACKAGE)


def _box_of_volume(lower: np.ndarray, upper: np.ndarray, volume: float) -> np.ndarray | None:
    """The data's bounding box scaled about its centre to ``volume`` (2, D); None when the
    box is flat. A row with missing values gets the box's marginal over its observed columns,
    so the box's shape matters, not only its volume: a cube of the volume made that marginal
    depend on the columns' units (QA: waiting in seconds, P(noise) 0.12 -> 0.994 for a row
    missing its other value, with the volume of the box itself)."""
    sides = upper - lower
    with np.errstate(divide="ignore"):
        log_box = float(np.sum(np.log(sides)))
    if not (np.all(sides > 0) and math.isfinite(log_box)):
        return None
    stretch = np.exp((math.log(volume) - log_box) / len(sides))
    middle = (lower + upper) / 2.0
    box = np.stack([middle - sides * stretch / 2.0, middle + sides * stretch / 2.0])
    # a box too small to tell its sides apart in float64 (QA: 1e-300): the cube's, as flat
    return box if np.all(box[1] > box[0]) else None


def _warn_if_smaller_than_box(volume: float, X: np.ndarray) -> None:
    """A noise density 1/V above the uniform density over the data's own range can claim
    every point (the Gaussians then empty): say so, with the volume that would not."""
    spread = np.nanmax(X, axis=0) - np.nanmin(X, axis=0)
    box = float(np.prod(spread)) if np.all(spread > 0) else 0.0
    if volume < box:
        warn(f"noise_volume {volume:.4g} is smaller than the data's bounding box "
             f"({box:.4g}, in the data's units): the noise density 1/V is then higher "
             "than a uniform over the data's range and can claim most points; give "
             "at least the box's volume, or leave noise_volume out to use the box",
             UserWarning, skip_file_prefixes=IN_PACKAGE)


# --- label names (front end) ---
def _spelling_variants(texts: list[str | None], names: tuple[str, ...], index: Any) -> str:
    """Labels that differ only by case or spacing ('Araneus' on one row among 'araneus'):
    the advice to fix their spelling, naming the rarer one's rows (QA89: the error advised a
    larger K and named no row); '' when there are none."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(" ".join(name.casefold().split()), []).append(name)
    variants = [sorted(group, key=texts.count) for group in groups.values() if len(group) > 1]
    if not variants:
        return ""
    rows = list(index) if index is not None and len(index) == len(texts) else range(len(texts))
    said = []
    for group in variants:
        rare, usual = group[0], group[-1]
        on = [str(rows[i]) for i, text in enumerate(texts) if text == rare]
        where = ", ".join(on[:5]) + (f" and {len(on) - 5} more" if len(on) > 5 else "")
        said.append(f"{rare!r} (row(s) {where}) differs from {usual!r} ({texts.count(usual)} "
                    "rows) only by case or spacing")
    return "; ".join(said) + ": fix the spelling, or mark those labels as unknown (empty)"


def encode_labels(values: Any, n_components: int, *, names: Sequence[str] | None = None
                  ) -> tuple[np.ndarray, tuple[str, ...]]:
    """User label values (names or numbers, some unknown) as component indices and names.

    Parameters
    ----------
    values : array-like (N,)
        One label per point: strings or integers, e.g. a CSV column or an array. Unknown
        labels are ``None``, NaN (pandas' empty cells), the empty (or blank) string, and ``-1``
        (as a number or the text ``"-1"``).
    n_components : int
        The mixture's number of components K; there may be fewer label names than K (the
        other components have no labelled point), never more.
    names : sequence of str, optional
        The names a fit's labels were coded with (what this function returned for them):
        new rows' labels (to predict or impute with) are coded by them, so that a name means
        the component it meant in the fit; a name not among them is refused. Without it the
        names found in ``values`` are sorted afresh.

    Returns
    -------
    codes : ndarray (N,) int64
        ``-1`` for unknown, else the index of the point's name in ``names`` (0..len(names)-1),
        which is the index of the component the point is known to belong to.
    names : tuple of str
        The distinct label names in a stable order: numerically when every name is an integer
        (``"2"`` before ``"10"``), otherwise as text. Integral numbers are written without a
        decimal part (a pandas column of integers with empty cells is read as floats: ``3.0``
        is the label ``"3"``).

    Raises
    ------
    ValueError
        ``values`` is not one-dimensional, or names more groups than there are components
        (the names are listed).
    """
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values,
                     dtype=object)
    if names is not None:
        names = tuple(str(n) for n in names)
        return _codes_of_names(arr, names), names
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (one label per point); got shape "
                         f"{arr.shape}")
    texts = [_label_text(v) for v in arr]
    distinct = {t for t in texts if t is not None}
    if all(_is_integer_text(t) for t in distinct):
        names = tuple(sorted(distinct, key=int))
    else:
        names = tuple(sorted(distinct))
    index = values.index if hasattr(values, "to_numpy") else None  # pandas: its rows
    misspelt = _spelling_variants(texts, names, index) if len(names) <= 50 else ""
    if misspelt and len(names) <= n_components:  # each its own group: not what was meant
        warn(f"label {misspelt}; as they are, each is a group of its own",
             UserWarning, skip_file_prefixes=IN_PACKAGE)
    if len(names) > n_components:
        # a few names, not hundreds (QA: a numeric column given as labels printed 360 floats
        # in an 8,000-character line); nearly one per row is no labelling at all
        listed = (f"{list(names)}" if len(names) <= _LABELS_LISTED else
                  f"({', '.join(map(repr, names[:_LABELS_LISTED]))}, ...)")
        labelled = sum(t is not None for t in texts)
        unique = len(names) > _LABELS_LISTED and len(names) >= 0.5 * labelled
        raise ValueError(
            f"the labels name {len(names)} groups {listed} but the mixture has only "
            f"{n_components} component(s); "
            + ("nearly every row has a label of its own, so this looks like a column of "
               "measurements, not of known components: check the labels column" if unique
               else misspelt or f"raise the number of components to at least {len(names)} or "
               "mark the extra labels as unknown (empty or -1)"))
    index = {name: k for k, name in enumerate(names)}
    codes = np.array([-1 if t is None else index[t] for t in texts], dtype=np.int64)
    return codes, names


def _codes_of_names(values: Any, names: tuple[str, ...]) -> np.ndarray:
    """Label names as the components a fit gave them (``names[k]`` is component k's); -1 for
    unknown; a name the fit was not given is a one-line error."""
    if not names:
        raise ValueError("the labels are names, but the fit was given component indices (or no "
                         "labels): give component indices (-1 for unknown)")
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:  # as encode_labels refuses it (code review: (N, 1) was flattened)
        raise ValueError(f"labels must be one-dimensional (one label per point); got shape "
                         f"{arr.shape}")
    texts = [_label_text(v) for v in arr]
    index = {name: k for k, name in enumerate(names)}
    unknown = sorted({t for t in texts if t is not None and t not in index})
    if unknown:
        raise ValueError(f"label {unknown[0]!r} is not one the fit was given "
                         f"({', '.join(map(repr, names))}): use those names, or empty or -1 "
                         "for unknown")
    return np.array([-1 if t is None else index[t] for t in texts], dtype=np.int64)


# The most label names an error lists.
_LABELS_LISTED = 8


def _label_text(value: Any) -> str | None:
    """A label value as its name, or None when it means "unknown"."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        text = value.strip()
        return None if text in ("", "-1") else text
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return None if value == -1 else str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return None if value == -1 else str(int(value))
        return repr(float(value))
    try:  # pandas' NA (nullable dtypes) and NaT are missing too
        import pandas as pd

        if pd.isna(value):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    return str(value)


def _is_integer_text(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
