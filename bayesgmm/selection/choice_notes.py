"""Which cells of an EM model-selection sweep may be its best (:func:`eligible_cells`: not
degenerate, not a likely spurious spike), and what a single "best" cell hides: a spike passed
over for it, near ties, a choice at the
top of the grid, a choice with more parameters than rows, and cells that EM left at a local
optimum; and the cells that could not be fitted, each reason once. Notes for
:class:`bayesgmm.selection.criteria.EMSelection`, read off its table.

Also the chosen cells whose components make one mode between them (a K that counts
components, not clusters: :mod:`bayesgmm.modality`), and rounded data whose ties the cells
collapse onto.

Where it sits: the selection layer, below :mod:`bayesgmm.selection.criteria` (which calls it);
imports NumPy, pandas, :mod:`bayesgmm.modality`, :mod:`bayesgmm.observation_record` and
:mod:`bayesgmm.rounding`.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import numpy as np
import pandas as pd

from ..modality import one_mode_groups, shape_note
from ..observation_record import dequantised_phrase
from ..rounding import recorded, rounding_step

__all__ = ["WEAK_EVIDENCE", "failed_groups", "rounding_notes", "same_model_as_another"]


# Criterion differences below this make a near tie, whichever the criterion; what it means
# differs (:data:`_NEAR_TIE_MEANING`). For BIC, which approximates -2 log marginal likelihood,
# Kass & Raftery's (1995) grades of 2 log Bayes factors apply: under 2 is "not worth more than
# a bare mention". AIC and ICL are no Bayes factors: those grades are not theirs.
WEAK_EVIDENCE = 2.0

# What a difference below WEAK_EVIDENCE says, per criterion (the note's ending). AIC: Burnham &
# Anderson's rule of thumb, not a test or an evidence grade. ICL: on BIC's scale, but BIC plus
# the classification entropy, so no Bayes factor either: a near tie, no grade.
_NEAR_TIE_MEANING = {
    "bic": "weak evidence between them (Kass & Raftery 1995)",
    "aic": "differences below ~2 are usually not taken as a preference (a rule of thumb: "
           "Burnham & Anderson 2002)",
    "icl": "a near tie (ICL is on BIC's scale but penalised by the classification entropy: "
           "no evidence grades apply)",
}


def same_model_as_another(table: pd.DataFrame) -> pd.Series:
    """bool per row: the cell is the same model as another row of ``table`` (at K=1, tied
    is full: one covariance either way), so rankings and near-tie notes list it once, as
    the other (QA: "K=1 tied (+0.00) within 2 of K=1 full" hid the real runner-up)."""
    fitted_full = ((table["n_components"] == 1) & (table["covariance_type"] == "full")
                   & table["bic"].notna()).any()
    return (table["n_components"] == 1) & (table["covariance_type"] == "tied") & fitted_full


def eligible_cells(table: pd.DataFrame, exclude_degenerate: bool = True) -> pd.DataFrame:
    """The fitted cells a criterion's best may be: not degenerate, then not a likely
    spurious spike (QA109: N = 15, BIC's best K=3 diag rested on a 2-point component), each
    rule waived where every cell breaks it (a table saved before the ``spike`` column: the
    first rule only); every fitted cell without ``exclude_degenerate``."""
    fitted = table[table["bic"].notna()]
    for flag in ("degenerate", "spike") if exclude_degenerate else ():
        if flag in fitted and not fitted[flag].astype(bool).all():
            fitted = fitted[~fitted[flag].astype(bool)]
    return fitted


def excluded_cells(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a column ``excluded``: the cell is degenerate or a likely spurious spike
    (a table saved before the ``spike`` column: degenerate only)."""
    spike = table["spike"].astype(bool) if "spike" in table else False
    return table.assign(excluded=table["degenerate"].astype(bool) | spike)


def warned_cells(table: pd.DataFrame, cell_warnings: dict[tuple[int, str], Any]
                 ) -> list[str]:
    """The line under the printed criteria that names the fits EM warned about, by type in
    the table's order, and where their warnings are (QA157 L1: printed nowhere but the
    report and criteria.csv); none when no fit was warned about."""
    warned: dict[str, list[int]] = {}
    for k, ct in sorted(cell for cell, messages in cell_warnings.items() if messages):
        warned.setdefault(ct, []).append(k)
    if not warned:
        return []
    order = list(table["covariance_type"].unique())
    cells = "; ".join(f"{ct} K={', '.join(map(str, ks))}" for ct, ks in
                      sorted(warned.items(), key=lambda item: order.index(item[0])))
    return [f"  warnings: EM warned about {sum(map(len, warned.values()))} fit(s) ({cells}): "
            "each fit's are in the table's 'warnings' column (criteria.csv; .table in Python) "
            "and the report"]


def excluded_footnotes(table: pd.DataFrame, all_degenerate: bool) -> list[str]:
    """The lines under the printed criteria tables that explain their \u2020 marks: the
    degenerate cells, then the likely spurious spikes, each named."""
    def named(rows: pd.DataFrame) -> str:
        return ", ".join(f"K={r.n_components} {r.covariance_type}" for r in rows.itertuples())

    lines = []
    degenerate = table[table["degenerate"].astype(bool)]
    if len(degenerate):
        eligible = "" if all_degenerate else "; not eligible as best"
        lines.append(f"  \u2020 degenerate (a component too small for its covariance, or "
                     f"collapsed onto the reg_covar floor{eligible}): {named(degenerate)}")
    spikes = excluded_cells(table)
    spikes = spikes[spikes["excluded"] & ~spikes["degenerate"].astype(bool)]
    if len(spikes):
        lines.append("  \u2020 a likely spurious spike (a component on barely the rows its "
                     "covariance needs, narrow beside the data; not eligible as best unless "
                     f"every cell is one): {named(spikes)}")
    return lines


def passed_over_spikes(table: pd.DataFrame, best: dict[str, tuple[int, str]]
                       ) -> tuple[str, ...]:
    """A note per criterion whose lowest value, among the cells not degenerate, is a likely
    spurious spike passed over for ``best``: what was passed over, and how to allow it."""
    plain = eligible_cells(table[~table["spike"].astype(bool)] if "spike" in table else table,
                           exclude_degenerate=False)
    fitted = table[table["bic"].notna()]
    kept = fitted if fitted["degenerate"].all() else fitted[~fitted["degenerate"]]
    notes = []
    for criterion, (k, ct) in best.items():
        if plain.empty or kept[criterion].isna().all():
            continue
        lowest = kept.loc[kept[criterion].idxmin()]
        if bool(lowest.get("spike", False)) and (lowest.n_components, lowest.covariance_type) \
                != (k, ct):
            chosen = float(kept.loc[(kept["n_components"] == k)
                                    & (kept["covariance_type"] == ct), criterion].iloc[0])
            notes.append(
                f"{criterion.upper()}: K={lowest.n_components} {lowest.covariance_type} is "
                f"{chosen - lowest[criterion]:.2f} lower than K={k} {ct}, but rests on a likely "
                "spurious spike (see its warning) and is not eligible as best "
                "(exclude_degenerate=False lets it be)")
    return tuple(notes)


def _choice_notes(table: pd.DataFrame, best: dict[str, tuple[int, str]], ks: list[int],
                  exclude_degenerate: bool, n_rows: float = np.inf,
                  fits: dict[tuple[int, str], Any] | None = None) -> tuple[str, ...]:
    """What a single "best" hides: a likely spurious spike passed over for it
    (:func:`passed_over_spikes`), other cells within ``WEAK_EVIDENCE`` of it (per criterion,
    each said in that criterion's terms: :data:`_NEAR_TIE_MEANING`), a best K at the top
    of the grid (a larger K might be better still), and (with the cells' ``fits``) a choice
    whose components make one mode between them (:func:`_shape_notes`)."""
    eligible = eligible_cells(table[table["error"] == ""], exclude_degenerate)  # as _best
    eligible = eligible[~same_model_as_another(eligible)]
    notes = list(passed_over_spikes(table, best)) if exclude_degenerate else []
    mentioned = set(best.values())  # the cells the notes name: their spikes said (QA)
    for criterion, (k, ct) in best.items():
        chosen = eligible.loc[(eligible["n_components"] == k)
                              & (eligible["covariance_type"] == ct), criterion]
        if chosen.empty:
            continue
        value = float(chosen.iloc[0])
        close = eligible[(eligible[criterion] - value < WEAK_EVIDENCE)
                         & ~((eligible["n_components"] == k) & (eligible["covariance_type"] == ct))]
        mentioned |= {(r.n_components, r.covariance_type) for r in close.itertuples()}
        if len(close):
            cells = ", ".join(f"K={r.n_components} {r.covariance_type} "
                              f"(+{getattr(r, criterion) - value:.2f})"
                              for r in close.sort_values(criterion).itertuples())
            notes.append(f"{criterion.upper()}: {cells} within {WEAK_EVIDENCE:g} of K={k} "
                         f"{ct}: {_NEAR_TIE_MEANING.get(criterion, 'a near tie')}")
    too_few, overfitted = _too_few_rows_notes(eligible, best, n_rows)
    notes += too_few
    # not "widen -k" beside "prefer the smallest K" (QA: 12 rows, K=4 of 1-4 chosen: the two
    # notes pointed opposite ways): the criteria's choice there rests on too few rows
    tops = sorted({c.upper() for c, (k, _) in best.items() if k == max(ks) and len(ks) > 1}
                  - overfitted)
    if tops:
        notes.append(f"{', '.join(tops)} pick{'s' if len(tops) == 1 else ''} K={max(ks)}, the "
                     "largest K fitted: a larger K may be better still (widen n_components, "
                     "-k)")
    return tuple(notes) + _spike_notes(mentioned, fits or {}) + _shape_notes(best, fits or {})


def rounding_notes(X: np.ndarray, names: Any, table: pd.DataFrame,
                   cell_warnings: dict[tuple[int, str], list[str]],
                   given: Any = None) -> tuple[str, ...]:
    """Where the data are rounded (:func:`bayesgmm.rounding.rounding_step`) and cells collapsed
    or fitted coinciding components, the rounding as their cause and its cure; and the cells
    whose components coincide, which are a smaller K's fit under another name (QA91: 2,000
    rows on a 0.5 grid chose K=5 tied by every criterion, for two clusters that the
    dequantised data recovered; K=2 full's log-likelihood was K=1's, said in its table cell
    only). ``given``: the data as given, whose dequantisation is said first (QA94: only the
    console said it)."""
    said = {cell: " ".join(messages) for cell, messages in cell_warnings.items()}
    coinciding = sorted(cell for cell, text in said.items() if "nearly coincide" in text)
    collapsed = sorted(cell for cell, text in said.items() if "covariance collapsed" in text)
    notes = []
    record = recorded(given)
    if record:
        notes.append(f"{dequantised_phrase(record)}: the criteria are those of this copy")
    steps = {str(names[j]): step for j in range(X.shape[1])
             if (step := rounding_step(X[:, j])) is not None}
    if steps and (collapsed or coinciding or table["degenerate"].astype(bool).any()):
        listed = ", ".join(f"{name!r} (step {step:g})" for name, step in steps.items())
        pairs = shlex.quote(",".join(f"{name}={step:g}" for name, step in steps.items()))
        notes.append(f"{listed} look{'s' if len(steps) == 1 else ''} rounded (tied values on "
                     "a grid), and components collapse onto tied values, which the criteria "
                     "reward, not the data: undo the rounding and select again "
                     f"(bayesgmm.dequantise(X), --dequantise {pairs})")
    if coinciding:
        cells = ", ".join(f"K={k} {ct}" for k, ct in coinciding)
        each = "that cell is" if len(coinciding) == 1 else "each of those cells is"
        notes.append(f"{cells}: components that nearly coincide (see the table's warnings), "
                     f"so {each} a smaller K's fit under another name")
    return tuple(notes)


def is_spiky(fit: Any) -> bool:
    """Whether ``fit`` (an EMResult, or None) warned of a likely spurious spike."""
    return any("spurious local maximum" in w for w in getattr(fit, "warnings", ()))


def best_line(best: dict[str, tuple[int, str]], fits: dict[tuple[int, str], Any]) -> str:
    """"BIC -> K=3 full, ...", a choice on a likely spurious spike marked where it is named
    (QA67: AIC's K=6 full on iris rested on a 5-point component, said only in a note)."""
    return ", ".join(f"{c.upper()} -> K={k} {ct}"
                     + (" (a likely spurious spike: see the note)"
                        if is_spiky(fits.get((k, ct))) else "")
                     for c, (k, ct) in best.items())


def _spike_notes(cells: set[tuple[int, str]], fits: dict[tuple[int, str], Any]
                 ) -> tuple[str, ...]:
    """The chosen and near-tied cells whose fit has a likely spurious spike (a component on
    barely the rows its covariance needs, narrow beside the data: fit_em's warning), whose
    criteria that spike may inflate (QA: galaxies' K=5, within 0.22 of BIC's best, rested on
    two 2-row components; only the report's table said so)."""
    spiky = sorted(cell for cell in cells if is_spiky(fits.get(cell)))
    if not spiky:
        return ()
    listed = ", ".join(f"K={k} {ct}" for k, ct in spiky)
    whose = "that cell's" if len(spiky) == 1 else "those cells'"
    return (f"{listed}: a component on barely the rows its covariance needs, narrow beside "
            "the data (a likely spurious spike; see the fit's warning), which raises the "
            f"log-likelihood and so lowers BIC, AIC and ICL: weigh {whose} criteria with care",)


def _shape_notes(best: dict[str, tuple[int, str]], fits: dict[tuple[int, str], Any]
                 ) -> tuple[str, ...]:
    """Per chosen cell, its components that make one mode between them (QA: one heavy-tailed
    cluster chosen as K=2-4, two skewed ones as K=4, with no word that components are not
    clusters; ``fit`` printed such a hint, ``select`` none)."""
    chosen: dict[tuple[int, str], list[str]] = {}
    for criterion, cell in best.items():
        chosen.setdefault(cell, []).append(criterion.upper())
    found, apart = [], []
    for (k, ct), criteria in chosen.items():
        fit = fits.get((k, ct))
        # not the components EM found spent on outliers (QA159 M1: a 3% background was
        # "one group" with a cluster, "a shape Gaussians cannot take alone")
        far = tuple((getattr(fit, "settings", None) or {}).get("far_components", ()))
        keep = [j for j in range(k) if j not in far]
        if fit is not None and len(keep) > 1:
            whose = " and ".join(f"{c}'s" for c in criteria)
            covariances = fit.covariances if ct == "tied" else fit.covariances[keep]
            groups = one_mode_groups(fit.weights[keep] / fit.weights[keep].sum(),
                                     fit.means[keep], covariances, ct)
            found.append((f"K={k} {ct} ({whose} choice)",
                          [[keep[i] for i in group] for group in groups]))
        if fit is not None and far:
            apart.append(f"K={k} {ct}'s component{'s' * (len(far) > 1)} "
                         f"{' and '.join(map(str, far))}")
    note = shape_note(found, one_feature=all(fit.n_features == 1 for fit in fits.values()))
    left_out = ("; ".join(apart) + ": a few far, widely spread rows (outliers, as EM's "
                "warning says), left out of any grouping; a noise component (noise=True, "
                "--noise) takes such rows, so that K counts the clusters") if apart else ""
    return tuple(n for n in (note, left_out) if n)


def _too_few_rows_notes(eligible: pd.DataFrame, best: dict[str, tuple[int, str]],
                        n_rows: float) -> tuple[list[str], set[str]]:
    """A chosen cell with more free parameters than rows: the criteria's large-N reasoning
    does not hold, and components of a point or two describe points, not groups (QA: 15 rows
    in two clusters, all three criteria chose K=7 tied, 33 parameters, components of 1-3
    points). Returns the notes and the criteria (upper case) whose choice they are about."""
    if not np.isfinite(n_rows) or not {"n_parameters", "min_component_size"} <= set(eligible):
        return [], set()
    picked: dict[tuple[int, str], list[str]] = {}
    for criterion, cell in best.items():
        picked.setdefault(cell, []).append(criterion.upper())
    notes, criteria = [], set()
    for (k, ct), names in picked.items():
        row = eligible[(eligible["n_components"] == k) & (eligible["covariance_type"] == ct)]
        if row.empty or not row["n_parameters"].iloc[0] > n_rows:
            continue
        criteria.update(names)
        notes.append(f"{', '.join(names)}: K={k} {ct} has {int(row['n_parameters'].iloc[0])} "
                     f"free parameters for {n_rows:g} rows (its smallest component "
                     f"{row['min_component_size'].iloc[0]:.1f} points): the criteria assume "
                     "far more rows than parameters, so this choice describes points rather "
                     "than groups; prefer the smallest K whose components hold several points "
                     "each, or more data")
    return notes, criteria


# A larger K's log-likelihood this far below a smaller K's is a local optimum worth a note.
_OPTIMUM_SLACK = 0.1


def _local_optimum_notes(table: pd.DataFrame, n_init: int) -> tuple[str, ...]:
    """Cells whose maximum likelihood is below a smaller K's of the same covariance type.

    A mixture of K + j components contains every K-component one (its extra weights 0), so
    its maximised log-likelihood is at least as high: a lower one is a local optimum of EM,
    and that cell's criteria overstate its BIC/AIC (a better optimum would lower them).
    Degenerate cells are left out on both sides.
    """
    notes = []
    fitted = table[table["error"] == ""]
    # a degenerate cell's likelihood is a singularity's, no optimum to match (QA: "K=4 is 99
    # below K=3's", K=3 collapsed onto the reg_covar floor, advised more restarts)
    if "degenerate" in fitted:
        fitted = fitted[~fitted["degenerate"].astype(bool)]
    for ct, rows in fitted.groupby("covariance_type", sort=False):
        rows = rows.sort_values("n_components")
        best_below = -np.inf, None
        for k, ll in zip(rows["n_components"], rows["log_likelihood"], strict=True):
            gap = best_below[0] - ll
            # Below EM's own precision (atol 0.01 per restart, more over the N points' sum),
            # a gap says nothing; it also read as "-1044.1 is below -1044.1" (QA).
            if gap > max(_OPTIMUM_SLACK, 1e-6 * abs(best_below[0])):
                notes.append(f"K={k} {ct}: log-likelihood {ll:,.1f} is {gap:,.1f} below "
                             f"K={best_below[1]}'s {best_below[0]:,.1f}, which K={k} can always "
                             "match: EM stopped "
                             f"at a local optimum and its criteria are too high (raise "
                             f"n_init, --n-init, now {n_init})")
            if ll > best_below[0]:
                best_below = ll, k
    return tuple(notes)


def failed_groups(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The unfittable cells as (cells, reason), each reason once: a K that no covariance type
    can fit (too few points) would otherwise repeat the same line once per type, and each K
    beyond the number of rows once per K (QA: three lines "X has 8 point(s), fewer than
    n_components=9 / 10 / 11").

    ``cells`` names the Ks, their covariance types in parentheses when several share the
    reason: ``"K=8 (full, tied, diag, spherical)"``, ``"K=5 spherical"``,
    ``"K=9..11 (full, diag)"``. Reasons that differ only in naming their own K
    (``n_components=9``) are one reason, written with ``n_components=K``.
    """
    by_error: dict[str, dict[int, list[str]]] = {}
    for row in table[table["error"] != ""].itertuples():
        k = int(row.n_components)
        reason = re.sub(rf"\bn_components={k}\b", "n_components=K", row.error)
        by_error.setdefault(reason, {}).setdefault(k, []).append(row.covariance_type)
    groups = []
    for reason, by_k in by_error.items():
        if len(by_k) == 1:  # one K: its own number back in the reason
            k = next(iter(by_k))
            reason = reason.replace("n_components=K", f"n_components={k}")
        groups.append((_cells_phrase(by_k), reason))
    return groups


def _cells_phrase(by_k: dict[int, list[str]]) -> str:
    """K -> covariance types as "K=9..11 (full, diag)" when every K has the same types, else
    "K=8 (full, tied), K=9 full"."""
    def types(cts):
        return f" ({', '.join(cts)})" if len(cts) > 1 else f" {cts[0]}"

    ks = sorted(by_k)
    if len(ks) > 1 and all(by_k[k] == by_k[ks[0]] for k in ks):
        run = ks == list(range(ks[0], ks[-1] + 1))
        named = f"K={ks[0]}..{ks[-1]}" if run and len(ks) > 2 else "K=" + ", ".join(map(str, ks))
        return named + types(by_k[ks[0]])
    return ", ".join(f"K={k}{types(by_k[k])}" for k in ks)
