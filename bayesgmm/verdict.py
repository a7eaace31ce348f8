"""The overall verdict of a posterior fit: its sampling checks and its model checks in one status.

``BayesResult.diagnostics()`` judges the sampling: whether the draws represent the posterior
(R-hat, ESS, rank tests, divergences, label switching, modes). A well-sampled posterior can be
the posterior of a model the data argue against, which the report's verdict box says in amber:
statistics of the data that nearly no replicate reaches (the posterior predictive check), rows
a uniform noise component fits far better (:mod:`bayesgmm.outliers`), a richer covariance type
or one component more that fits clearly better (:mod:`bayesgmm.shape_evidence`), or fewer rows
than free parameters (the posterior then mostly restates the priors). :class:`Verdict` is that box's
status with its reasons, for a script to gate on (QA68: ``diagnostics().status`` said OK of
Student-t clusters, a wrong covariance type and background noise where the report and
result.json said CAUTION); the command line's result.json keeps :meth:`Verdict.to_dict`. (A
function, not a method of the result: the model checks sit above the result types.)

Where it sits: the surface layer, beside the reports; imports :mod:`bayesgmm.formatting` (its
notebook display), and :mod:`bayesgmm.posterior`'s note on priors and the model checks
(:mod:`bayesgmm.outliers`, :mod:`bayesgmm.shape_evidence`,
:func:`bayesgmm.plots.predictive_check`, and :mod:`bayesgmm._validation` for rows that look
copied) inside :func:`overall_verdict` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .formatting import shown_as_str

__all__ = ["OUTLIERS_FIRST", "Verdict", "model_evidence", "outliers_first", "overall_verdict"]

# Said where sampling failed and some rows fit a noise component far better (QA89: a 10x typo
# held by a labelled species' component; the advice asked for 4,149 more draws, and the
# outlier hint came after it): the rows first, then the sampler.
OUTLIERS_FIRST = ("Those rows may be why the sampling checks failed: a component stretched "
                  "over a far row, or given to it, mixes slowly, which more draws or smaller "
                  "steps do not cure; check them for recording errors, or refit with the "
                  "noise component, before sampling longer")


def outliers_first(copies: str = "") -> str:
    """:data:`OUTLIERS_FIRST`, or where the rows look copied (``copies``: the fact,
    :func:`bayesgmm._validation.copied_rows_fact`) the copies as the likelier cause: every
    copy counts as one more observation, so the modes come out steeper and further apart
    than one row of each makes them, and the rows the noise hint names are copies too
    (QA132 M2: 30 rows written 10 times, "check them for recording errors, or refit with
    the noise component")."""
    if not copies:
        return OUTLIERS_FIRST
    return (f"The copies may be why the sampling checks failed: {copies}, and a fit counts "
            "each copy as one more observation, which makes the posterior's modes narrower "
            "and steeper than one row of each makes them, so that chains cross between them "
            "less; fit one row of each, and judge K and the outliers on it, before sampling "
            "longer")


@dataclass(frozen=True)
class Verdict:
    """A posterior fit's overall status, as the report's verdict box gives it.

    Attributes
    ----------
    status : str
        "OK", "CAUTION" or "PROBLEMS": the sampling checks' status, CAUTION instead of OK
        where a model check questions the model (any of the four below).
    sampling_status : str
        The sampling checks' own (``Diagnostics.status``).
    diagnostics : Diagnostics
        The sampling checks, their causes and advice.
    misfits : tuple of str
        Statistics of the data beyond nearly every replicated data set's (the predictive
        check); () where none, or where the check was not run.
    outliers : str
        The noise evidence: rows a uniform noise component fits far better ("" where none).
    outlier_rows : tuple
        Every row that evidence names (its text lists the first 8; QA77: a pipeline could not
        learn the rest), named as the report names them (``BayesResult.row_names``: the
        data's index labels, else the row numbers from 0 in the data given to the fit; the
        command line: the ``--index`` column's IDs, else row numbers). () where there is no
        such evidence.
    richer_model : str
        The evidence for a richer model: another covariance type, or one component more
        ("" where none).
    prior_dominated : str
        The note that the rows are fewer than the free parameters ("" where not).
    copies : str
        Where half the rows or more look copied, how many ("" where not, and in a weighted
        fit): the model checks' and the sampler's evidence is then to be judged on one row
        of each.
    design_weights : str
        Where the weights look like no counts (survey weights summing to a population,
        probabilities), what they sum to (:func:`bayesgmm._validation.design_weights_fact`);
        the intervals are then those of that many observations: CAUTION, not OK.
    model_check : dict or None
        The predictive check's misfits, what it could not judge and its finding in words;
        None where it was not run.
    """

    status: str
    sampling_status: str
    diagnostics: Any
    misfits: tuple[str, ...] = ()
    outliers: str = ""
    outlier_rows: tuple[Any, ...] = ()
    richer_model: str = ""
    prior_dominated: str = ""
    model_check: dict[str, Any] | None = None
    copies: str = ""
    design_weights: str = ""

    @classmethod
    def from_parts(cls, diagnostics: Any, check: Any = None, outliers: str = "",
                   prior_dominated: str = "", richer_model: str = "",
                   misfits: Sequence[str] = (), outlier_rows: Sequence[Any] = (),
                   copies: str = "", design_weights: str = "") -> Verdict:
        """The verdict of sampling checks and model checks computed elsewhere (``check``: a
        :class:`~bayesgmm.plots.PredictiveCheck`, or None where not run, its misfits then
        ``misfits`` as given): the one rule by which result.json, :func:`overall_verdict` and
        the report's verdict box combine them.

        Parameters
        ----------
        diagnostics : Diagnostics
            The sampling checks (:meth:`~bayesgmm.BayesResult.diagnostics`).
        check : PredictiveCheck, optional
        outliers, prior_dominated, richer_model, copies, design_weights : str, default ""
            The model checks' texts, as the attributes of the same names ("" where none).
        misfits : sequence of str, default ()
            Used only without ``check``.
        outlier_rows : sequence, default ()

        Returns
        -------
        Verdict
            CAUTION where the sampling checks pass but a model check questions the model.
        """
        causes = getattr(diagnostics, "causes", None) or ()
        sampling = getattr(diagnostics, "status", None) or (
            "PROBLEMS" if not diagnostics.ok else "CAUTION" if causes else "OK")
        misfits = tuple(check.misfit_labels()) if check is not None else tuple(misfits)
        questioned = bool(misfits or outliers or prior_dominated or richer_model
                          or design_weights)
        return cls(status="CAUTION" if sampling == "OK" and questioned else sampling,
                   sampling_status=sampling, diagnostics=diagnostics, misfits=misfits,
                   outliers=outliers, outlier_rows=tuple(outlier_rows),
                   richer_model=richer_model,
                   prior_dominated=prior_dominated, copies=copies,
                   design_weights=design_weights,
                   model_check=None if check is None else {
                       "misfits": list(misfits), "not_judged": check.not_judged or None,
                       "finding": check.finding(provisional=not diagnostics.ok) or None})

    @property
    def ok(self) -> bool:
        """Whether the status is OK: every check passed and no model check questions the
        model (a CAUTION is not OK here, unlike ``Diagnostics.ok``)."""
        return self.status == "OK"

    def reasons(self) -> list[str]:
        """Why the status is what it is, a sentence each: the sampling verdict, then each
        model check that questions the model.

        Returns
        -------
        list of str
        """
        lines = [f"sampling: {self.diagnostics.verdict}"]
        if self.outliers and self.sampling_status == "PROBLEMS":  # the likelier cause first
            lines.insert(0, f"outliers: {self.outliers}. {outliers_first(self.copies)}")
        if self.prior_dominated:
            lines.append(f"priors: {self.prior_dominated}")
        if self.misfits:
            lines.append("predictive check: the data's " + ", ".join(self.misfits)
                         + " beyond nearly every replicated data set's")
        if self.outliers and self.sampling_status != "PROBLEMS":
            lines.append(f"outliers: {self.outliers}")
        if self.richer_model:
            lines.append(f"richer model: {self.richer_model}")
        if self.design_weights:
            lines.append(f"weights: {self.design_weights}; a fit counts each row as its "
                         "weight in observations, so the intervals are those of that many")
        return lines

    def __str__(self) -> str:
        return f"{self.status}\n" + "\n".join(f"  - {line}" for line in self.reasons())

    def __repr__(self) -> str:
        # the dataclass repr nested the whole Diagnostics repr and the model check's dict:
        # 627 characters on one line as a notebook cell's value (QA96)
        return (f"Verdict({self.status!r}, {len(self.reasons())} reason(s); print() for them, "
                ".diagnostics for the sampling checks)")

    _repr_pretty_ = shown_as_str

    def to_dict(self) -> dict[str, Any]:
        """The record result.json keeps (``verdict``): the status, the sampling checks' own,
        their causes, each sampling check's numbers (``checks``: name, value, threshold,
        passed, and the scalar attaining the value where there is one; QA77: prose only,
        inside the verdict line), the model check's misfits and finding, and each model
        check's text.

        Returns
        -------
        dict
            JSON-ready.
        """
        return {"ok": bool(self.diagnostics.ok), "verdict": self.diagnostics.verdict,
                "status": self.status, "sampling_status": self.sampling_status,
                "causes": list(getattr(self.diagnostics, "causes", None) or ()),
                "checks": [_check_record(c) for c in getattr(self.diagnostics, "checks", ())],
                "model_check": self.model_check,
                "outliers": self.outliers or None,
                "outlier_rows": [_plain(r) for r in self.outlier_rows] or None,
                "richer_model": self.richer_model or None,
                "prior_dominated": self.prior_dominated or None,
                "copied_rows": self.copies or None,
                "design_weights": self.design_weights or None}


def _plain(value: Any) -> Any:
    """A row's name as JSON writes it: a whole number as one, anything else as its text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return int(value)
    return str(value)


def _check_record(check: Any) -> dict[str, Any]:
    """One sampling check as numbers (NaN, an untestable check's, as null: JSON has no NaN)."""
    def number(x: Any) -> float | None:
        x = float(x)
        return x if x == x and abs(x) != float("inf") else None

    return {"name": check.name, "value": number(check.value),
            "threshold": number(check.threshold), "passed": bool(check.passed),
            "where": check.where or None}


def overall_verdict(result: Any, *, predictive_check: bool = True, random_state: Any = 0,
                    **thresholds: Any) -> Verdict:
    """The overall verdict of ``result`` (a :class:`~bayesgmm.BayesResult`), as its report's
    verdict box and the command line's result.json give it.

    Parameters
    ----------
    result : BayesResult
    predictive_check : bool, default True
        Run the posterior predictive check (200 replicated data sets: seconds at N = 1,000,
        longer at large N); False leaves it out (``misfits`` then ()).
    random_state : int, default 0
        Seeds the predictive check's replicates (the report's default).
    **thresholds
        Fields of :class:`~bayesgmm.DiagnosticThresholds` for the sampling checks (default:
        the fit's).

    Returns
    -------
    Verdict

    Raises
    ------
    TypeError
        ``result`` is no BayesResult.
    ValueError
        A bad ``random_state`` or threshold.
    """
    from . import plots
    from ._scalars import check_random_state
    from .posterior import BayesResult

    if not isinstance(result, BayesResult):  # QA82: "no attribute diagnostics"
        raise TypeError(f"overall_verdict needs a BayesResult (from fit_bayes, bayesgmm.load, "
                        f"or a fitted BayesianGMM's result_); got {type(result).__name__}"
                        + (": an EM fit has no sampling to check (its model checks: "
                           "bayesgmm.outliers.noise_evidence, bayesgmm.shape_evidence)"
                           if type(result).__name__ == "EMResult" else ""))
    check_random_state(random_state)  # QA82: NumPy's words, no parameter named
    diagnostics = result.diagnostics(**thresholds)
    check = plots.predictive_check(result, random_state=random_state) if predictive_check \
        else None
    return Verdict.from_parts(diagnostics, check, **model_evidence(result))


def model_evidence(result: Any) -> dict[str, Any]:
    """The model checks of ``result`` but the predictive check, as :meth:`Verdict.from_parts`
    takes them: ``outliers`` (:func:`bayesgmm.outliers.noise_evidence`; its rows named as
    the report names them, ``result.row_names``, and listed in ``outlier_rows``; QA79: by
    their positions in the fitted rows, which a DataFrame's labels or dropped rows make
    other rows), ``richer_model``
    (:func:`bayesgmm.shape_evidence.shape_evidence`), ``prior_dominated``; "" each where it
    finds nothing. Both refits are cached per fit and data, so a report built from the same
    result reuses them."""
    import numpy as np

    from ._validation import copied_rows_fact, design_weights_fact
    from .outliers import noise_evidence
    from .posterior import prior_dominated_note
    from .shape_evidence import copies_caveat, shape_evidence

    observed = result.idata["observed_data"]
    X = np.asarray(observed["x"].values, dtype=np.float64)
    labels = observed["labels"].values if "labels" in observed else None
    weights = observed["sample_weight"].values if "sample_weight" in observed else None
    missing = (result.em.observations or {}).get("missing", "marginalise")
    options = {"sample_weight": weights, "labels": labels, "missing": missing}
    noise = None if result.em.noise else noise_evidence(result.em, X, **options)
    shape = shape_evidence(result.em, X, **options)
    note = prior_dominated_note(X.shape[0], result.n_components, X.shape[1],
                                result.covariance_type, result.noise)
    names = result.row_names
    caveat = copies_caveat(X, weights)  # copies count as evidence for more components
    return {"outliers": "" if noise is None else noise.describe(names).rstrip(".") + caveat,
            "outlier_rows": () if noise is None else tuple(names[r] for r in noise.rows),
            "richer_model": "" if shape is None else shape.describe().rstrip(".") + caveat,
            "prior_dominated": note or "", "copies": copied_rows_fact(X, weights),
            "design_weights": design_weights_fact(weights)}
