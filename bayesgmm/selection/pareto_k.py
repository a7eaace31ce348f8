"""Pareto k of PSIS-LOO, per model: how many observations' LOO terms are unreliable (k above
ArviZ's threshold, or undefined), said once for all models in a warning and as a clause of the
verdict.

Where it sits: the selection layer, under :mod:`bayesgmm.selection.loo_verdict`; imports
nothing of bayesgmm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["high_k", "pareto_table", "pareto_warnings"]

# Why PSIS leaves a k undefined (NaN): the tail's generalised Pareto fit failed. QA113:
# blamed on "too few draws" alone, with more draws as the fix, where one chain had repeated a
# draw 300 times in 1,000.
UNDEFINED_CAUSE = ("PSIS could not fit the tail of the importance ratios: too few distinct "
                   "draws in it (a short run, or repeated draws, as a chain that stuck gives: "
                   "see its convergence checks), or ratios too extreme for floating point (an "
                   "observation the model predicts very badly)")


def pareto_table(loos: Mapping[str, Any]) -> pd.DataFrame:
    """Per model: how many Pareto k exceed ArviZ's threshold. A k that PSIS could not
    estimate (NaN: :data:`UNDEFINED_CAUSE`) counts as unreliable too, in ``n_high`` and
    ``n_undefined``, and ``max_k`` is over the others (referee QA: NaN k were not counted,
    and "max nan" was printed)."""
    rows = []
    for name, loo in loos.items():
        k = np.asarray(loo.pareto_k, dtype=float).ravel()
        good, undefined = float(loo.good_k), np.isnan(k)
        rows.append({"model": name, "n_observations": k.size, "good_k": good,
                     "n_high": int(np.sum(k > good) + undefined.sum()),
                     "n_very_high": int(np.sum(k > 1)), "n_undefined": int(undefined.sum()),
                     "max_k": float(np.max(k[~undefined])) if (~undefined).any() else np.nan})
    return pd.DataFrame(rows).set_index("model")


def pareto_warnings(pareto: pd.DataFrame) -> list[str]:
    """One warning naming every model with high (or undefined) Pareto k: the advice is the
    same for all."""
    high = pareto[pareto["n_high"] > 0]
    if high.empty:
        return []
    # ArviZ's threshold depends on the number of draws: usually one for all the models
    same = high["good_k"].nunique() == 1
    listed = ", ".join(
        f"{name} ({int(row['n_high'])} of {int(row['n_observations'])} observations"
        f"{'' if same else f' above {row.good_k:.2f}'}{_counts(row)})"
        for name, row in high.iterrows())
    one = len(high) == 1
    undefined = bool(high["n_undefined"].sum()) if "n_undefined" in high else False
    head = (f"above {high['good_k'].iloc[0]:.2f}" if same else "too high") + (
        " or undefined" if undefined else "")
    return [f"Pareto k {head} in {listed}: those observations' PSIS-LOO terms are unreliable and "
            f"{'this model' + chr(39) + 's' if one else 'these models' + chr(39)} elpd_loo is "
            "likely optimistic. Use "
            "more draws, moment matching or K-fold cross-validation for "
            f"{'it' if one else 'them'}."
            + (f" An undefined k: {UNDEFINED_CAUSE}." if undefined else "")]


def _counts(row: pd.Series) -> str:
    """", 3 of them undefined, max 0.91" after a model's count of high k: the undefined ones,
    and the largest k estimated where any above the threshold was ("max 0.66" beside "k >
    0.67" read as a contradiction where every high k was undefined, QA113)."""
    undefined = int(row.get("n_undefined", 0) or 0)
    above = int(row["n_high"]) - undefined
    return ((", all undefined" if not above else f", {undefined} of them undefined")
            if undefined else "") + (f", max {row['max_k']:.2f}" if above else "")


def high_k(row: pd.Series) -> str:
    """A model's high Pareto k as a clause of the verdict."""
    n = int(row["n_high"])
    undefined = int(row.get("n_undefined", 0) or 0)
    have = "has" if n == 1 else "have"
    if undefined == n:
        return (f"{n} of its {int(row['n_observations'])} observations {have} an undefined "
                f"Pareto k ({UNDEFINED_CAUSE}), so its elpd_loo is unreliable")
    return (f"{n} of its {int(row['n_observations'])} observations {have} Pareto k > "
            f"{row['good_k']:.2f} ({_counts(row).removeprefix(', ')}), so its elpd_loo is "
            "unreliable (likely optimistic)")
