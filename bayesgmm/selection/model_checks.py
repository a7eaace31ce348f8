"""Each compared model's own posterior checks, as a comparison of models reads them.

A PSIS-LOO comparison rests on each model's posterior: :func:`diagnose` runs its diagnostics
(with the thresholds the comparison was given), :func:`posterior_problems` says why a failed
one's elpd_loo is unreliable, :func:`says_too_large` which components its diagnostics doubt,
and :func:`convergence_warning` warns of the failed ones, pointing to where each verdict is
read (:func:`pointed_for` says that pointer for the command line and the selection report).

Where it sits: the selection layer, under :mod:`bayesgmm.selection.loo` (imports nothing of
bayesgmm; the models' own ``diagnostics`` methods do the checking).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CONVERGENCE_POINTER", "convergence_warning", "diagnose", "pointed_for",
           "posterior_problems", "says_too_large"]

# Where the convergence warning sends its reader for each model's own verdict: the text is
# written for Python; the command line and the selection report say it their way (QA153 L3,
# QA155 L3: select.html said "BayesSelection.diagnostics" to a reader of the page).
CONVERGENCE_POINTER = {
    "python": "the report's Convergence table, or BayesSelection.diagnostics",
    "shell": "the report's Convergence table, in select.html",
    "report": "the Convergence table below",
}


def convergence_warning(diagnostics: Mapping[str, str]) -> list[str]:
    failed = [name for name, line in diagnostics.items() if line.startswith("PROBLEMS")]
    if not failed:
        return []
    return [f"Convergence problems in {', '.join(failed)} (their verdicts: "
            f"{CONVERGENCE_POINTER['python']}): their elpd_loo "
            "rests on draws that may not represent the posterior."]


def pointed_for(text: str, reader: str) -> str:
    """``text`` (a selection's verdict or warning) with its pointer to each model's verdict
    said for ``reader``.

    Parameters
    ----------
    text : str
    reader : {"python", "shell", "report"}

    Returns
    -------
    str
    """
    return text.replace(CONVERGENCE_POINTER["python"], CONVERGENCE_POINTER[reader])


def diagnose(model: Any, thresholds: Mapping[str, Any]) -> tuple[str, Any]:
    """(line, Diagnostics or None): the model's verdict with its advice written out (a
    comparison has no advice section for "(see advice)" to point to). A model sampled with
    a fixed number of draws (``select_bayes(draws=N)``) gets the advice for that: more
    draws, not ``draws="auto"`` (what the caller chose for every model)."""
    try:
        diagnosed = model.diagnostics(**thresholds)
    except (ValueError, KeyError) as exc:  # e.g. no sampler statistics
        return f"not diagnosed: {exc}", None
    settings = getattr(model, "sampler_settings", None)
    auto = settings is None or getattr(settings, "adaptive", True)
    return (diagnosed.verdict_with_advice() if auto
            else diagnosed.verdict_with_advice(auto_draws=False)), diagnosed


def posterior_problems(diagnosed: Any) -> list[str]:
    """Why a model's own posterior fails its checks, as clauses of the verdict (none when it
    passed or was not diagnosed). "K too large" is not one: elpd_loo does not depend on which
    component is which, so an empty or duplicated component leaves it sound (QA: a K = 2 whose
    broad second component held two outliers was set aside for a K = 1 60 elpd worse);
    :func:`too_large` says it instead."""
    if diagnosed is None or diagnosed.ok:
        return []
    failed = "; ".join(c.summary for c in diagnosed.checks or () if not c.passed)
    return [f"its posterior did not pass its convergence checks"
            f"{f' ({failed})' if failed else ''}, and the elpd_loo of draws that may not "
            "represent the posterior is unreliable"]


def says_too_large(diagnosed: Any) -> str:
    """The cause by which a model's own diagnostics say some of its components are not
    clusters the data locate: "outliers", "K too large", "too many parameters" or "" (none)."""
    causes = () if diagnosed is None else (diagnosed.causes or ())
    return next((c for c in ("outliers", "K too large", "too many parameters") if c in causes),
                "")
