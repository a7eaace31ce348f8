"""A fit's record of its observations, for people: the sentence, the label names, criteria.

Fits keep :meth:`bayesgmm.observations.Observations.summary` as a dict (``EMResult.observations``,
``BayesResult.observations_summary``); the command line, the estimator and the report read it
through :func:`observations_record`, state it with :func:`observations_sentence`, add the label
names with :func:`name_labels`, and take BIC/AIC of the fitted objective with
:func:`fitted_criteria`.

Where it sits: the data layer beside :mod:`bayesgmm.observations` (the standard library and
:mod:`bayesgmm.formatting`, NumPy only), so that the command line can use it without loading
NumPy's heavier neighbours.
"""

from __future__ import annotations

import math
from typing import Any

from .formatting import format_count, format_number, listed

__all__ = ["dequantised_phrase", "fitted_criteria", "name_labels", "observations_record",
           "observations_sentence"]


def observations_record(fit: Any) -> dict[str, Any] | None:
    """A fit's record of its observations (:meth:`Observations.summary`), or None.

    ``fit`` is an EMResult (``observations``) or a BayesResult (its own record, or its EM
    start's, or ``settings["observations"]`` for a result saved with one).
    """
    for source in (fit, getattr(fit, "em", None)):
        for name in ("observations", "observations_summary"):
            record = getattr(source, name, None)
            if isinstance(record, dict) and record:
                return dict(record)
    settings = getattr(fit, "settings", None)
    if isinstance(settings, dict) and settings.get("observations"):
        return dict(settings["observations"])
    return None


def component_titles(fit: Any, n_components: int) -> list[str]:
    """How tables name the components: ``"0 (long)"`` for a component whose known label is
    ``long`` (the index stays: label names may themselves be numbers), ``"1"`` otherwise."""
    names = list((observations_record(fit) or {}).get("label_names") or ())
    return [f"{k} ({names[k]})" if k < len(names) else str(k) for k in range(n_components)]


def name_labels(fit: Any, label_names: tuple[str, ...]) -> None:
    """Keep the label names in a fit's observations record (``label_names``), so that its
    report and a reloaded result say which name is which component.

    The record is the fit's own dict (``EMResult.observations``; a BayesResult's
    ``observations_summary`` and its EM start's), saved with the result; nothing else changes.
    """
    if not label_names:
        return
    for source in (fit, getattr(fit, "em", None)):
        for name in ("observations", "observations_summary"):
            record = getattr(source, name, None)
            if isinstance(record, dict):
                record["label_names"] = list(label_names)


def observations_sentence(summary: dict[str, Any] | None,
                          label_names: tuple[str, ...] = ()) -> str:
    """What a fit did with the observations, in one sentence (CLI and report).

    Parameters
    ----------
    summary : dict or None
        ``Observations.summary()`` as a fit records it (``EMResult.observations``):
        ``n_rows_fitted`` (or ``n_rows``), ``n_rows_dropped``,  ``n_missing_values``,
        ``n_rows_with_missing``, ``missing`` (the policy), ``weighted``, ``n_labelled``,
        ``noise``, ``noise_log_density``, ``dequantised``; missing keys are taken as absent
        features.
    label_names : tuple of str
        The names of the labelled components (component k is ``label_names[k]``).

    Returns
    -------
    str
        Empty for a plain fit (every row complete, unweighted, unlabelled, no noise).
    """
    if not summary:
        return ""
    parts = []
    n_rows = summary.get("n_rows_fitted", summary.get("n_rows"))
    dropped = int(summary.get("n_rows_dropped") or 0)
    n_missing = int(summary.get("n_missing_values") or 0)
    policy = summary.get("missing", "marginalise")
    if n_missing:
        parts.append(f"{n_missing} missing value(s) in {summary.get('n_rows_with_missing', '?')}"
                     " row(s) integrated out (missing at random assumed)")
    if dropped:
        why = "with missing values (missing = \"drop\")" if policy == "drop" else \
            "with no observed value"
        parts.append(f"{dropped} row(s) {why} dropped")
    if summary.get("weighted"):
        total = summary.get("sum_of_weights")
        zero = int(summary.get("n_rows_zero_weight") or 0)
        parts.append("frequency weights" + (f" (total {format_count(total)})" if total is not None
                                            else "")
                     + (f"; {format_count(zero)} row(s) of weight 0 not counted" if zero else ""))
    n_labelled = int(summary.get("n_labelled") or 0)
    if n_labelled:
        named = (": " + ", ".join(f"{k} = {name!r}" for k, name in enumerate(label_names))
                 if label_names else "")
        parts.append(f"{n_labelled} row(s) with a known component{named}")
    if summary.get("noise"):
        density = summary.get("noise_log_density")
        volume = (f" (volume {format_number(math.exp(-density))})" if density is not None
                  and math.isfinite(density) else "")
        parts.append(f"a uniform noise component{volume}")
    dequantised = summary.get("dequantised")
    if dequantised:
        parts.append(dequantised_phrase(dequantised))
    if not parts:
        return ""
    rows = f"{n_rows} row(s) fitted; " if n_rows is not None else ""
    return rows + "; ".join(parts)


def dequantised_phrase(record: dict[str, Any]) -> str:
    """"'beak' (step 0.5) and 'depth' (step 0.5) dequantised: uniform noise within half a
    step added to their values (seed 0)": what :func:`bayesgmm.dequantise` did, from its
    record."""
    named = [f"{name!r} (step {format_number(step)})" for name, step in record["steps"].items()]
    seed = record.get("random_state")
    return (f"{listed(named)} dequantised: uniform noise within half a step added to "
            f"{'its' if len(named) == 1 else 'their'} rounded values"
            + (f" (seed {seed})" if seed is not None else ""))


def fitted_criteria(log_likelihood: float, n_parameters: int, record: dict[str, Any] | None,
                    n_rows: int) -> tuple[float, float] | None:
    """(BIC, AIC) of a fit's own objective when its observations are not plain rows, or None.

    With weights, known labels, missing values, a noise component or dequantised columns, the
    log-likelihood the fit maximised (weighted; labelled rows by their own component; observed
    coordinates only; the noise term included; at the values with their noise) is not what
    ``EMResult.bic(X)`` recomputes on the plain rows read, so the
    criteria are taken from it: BIC = -2 log L + p log n, with n the sum of the weights (the
    number of rows fitted without weights), and AIC = -2 log L + 2 p.
    """
    if not record or not (record.get("n_rows_dropped") or record.get("n_missing_values")
                          or record.get("weighted") or record.get("n_labelled")
                          or record.get("noise") or record.get("dequantised")):
        return None
    n = record.get("sum_of_weights") or record.get("n_rows_fitted") or n_rows
    return (-2.0 * log_likelihood + n_parameters * math.log(n),
            -2.0 * log_likelihood + 2.0 * n_parameters)
