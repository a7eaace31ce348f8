"""Choosing K by EM information criteria: :func:`select_em` and its :class:`EMSelection`.

Every criterion is on scikit-learn's -2 log L scale (lower is better); BIC, AIC, ICL: see
:mod:`bayesgmm.selection`.

Where it sits: the selection layer; imports EM, the sweep engine, observations (lazily).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from joblib import delayed
from scipy.special import xlogy

from .._keywords import keyword_hints
from .._validation import (
    COVARIANCE_TYPES,
    DesignWeightsWarning,
    FewValuesWarning,
    check_bool,
    check_columns_fit,
    check_data,
    warn_about_columns,
)
from .._warn import ignored
from ..covariance import has_correlations
from ..em import BOTH_INITS, EMResult, check_reg_covar, fit_em, is_degenerate
from ..formatting import format_apart
from . import choice_notes
from .choice_notes import _choice_notes, _local_optimum_notes, best_line, failed_groups
from .neighbours import NOTED_GAIN, objective, restart_from_neighbours, restart_reason
from .sweep import (
    caught_warnings,
    cell_seed,
    check_covariance_types,
    check_grid,
    check_n_jobs,
    one_feature_types,
    root_entropy,
    run_sweep,
    single_threaded,
)

CRITERIA = ("bic", "aic", "icl")
TABLE_COLUMNS = (
    "n_components", "covariance_type", "log_likelihood", "n_parameters", "bic", "aic", "icl",
    "entropy", "min_component_size", "degenerate", "spike", "converged", "n_iter", "warnings",
    "error",
)


@dataclass(frozen=True, eq=False)
class EMSelection:
    """Result of :func:`select_em`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (K, covariance type), sorted by covariance type then K, with columns
        ``n_components``, ``covariance_type``, ``log_likelihood``, ``n_parameters``, ``bic``,
        ``aic``, ``icl`` (all three lower is better, -2 log L scale), ``entropy`` (the MAP
        classification entropy E in ICL = BIC + 2 E), ``min_component_size`` (smallest N w_k),
        ``degenerate`` (a component holds too few points to estimate its covariance, or its
        covariance collapsed onto the reg_covar floor in some direction, see
        :func:`select_em`: its likelihood, hence every criterion, is inflated by a spurious
        near-singularity), ``spike`` (a component on barely the rows its covariance needs,
        narrow beside the data: EM's warning of a likely spurious spike, whose criteria it
        inflates too), ``converged``, ``n_iter``, ``warnings`` (EM's warnings, "; "-joined,
        "" when none) and ``error`` (why a cell could not be fitted; its numbers are then NaN).
    best : dict
        criterion -> (K, covariance_type) minimising it, over the cells neither degenerate nor
        a spike unless ``exclude_degenerate=False`` (each rule waived where every cell breaks
        it; a note names a spike passed over).
    fits : dict
        (K, covariance_type) -> EMResult (failed cells are absent).
    n_samples : int
    random_state : int
        The root seed; passing it again reproduces every cell.
    notes : tuple of str
        What the grid did that was not asked for (with one feature, the covariance types that
        are one model are fitted once).
    cell_warnings : dict
        (K, covariance_type) -> EM's warnings of that cell, one message each (the table's
        ``warnings`` column joins them with "; ", which some messages also contain).
    workers : int or None
        How many worker processes fitted the cells (1: the calling process, where quick
        cells run even with ``n_jobs=-1``); None in selections made before it was recorded.
    """

    table: pd.DataFrame
    best: dict[str, tuple[int, str]]
    fits: dict[tuple[int, str], EMResult] = field(repr=False)
    n_samples: int
    random_state: int
    notes: tuple[str, ...] = ()
    cell_warnings: dict[tuple[int, str], tuple[str, ...]] = field(default_factory=dict,
                                                                 repr=False)
    workers: int | None = None

    def pivot(self, criterion: str = "bic") -> pd.DataFrame:
        """mclust-style wide table: K (rows) x covariance type (columns) of one criterion."""
        columns = (*CRITERIA, "log_likelihood", "n_parameters", "entropy")  # all (QA)
        if criterion not in columns:
            raise ValueError(f"unknown criterion {criterion!r}; choose from {columns}")
        wide = self.table.pivot(index="n_components", columns="covariance_type", values=criterion)
        return wide[[ct for ct in COVARIANCE_TYPES if ct in wide.columns]]

    def best_fit(self, criterion: str = "bic") -> EMResult:
        """The fitted model that minimises ``criterion``."""
        if criterion not in CRITERIA:
            raise ValueError(f"unknown criterion {criterion!r}; choose from {CRITERIA}")
        if criterion not in self.best:  # QA: a bare KeyError
            raise ValueError("no cell of the sweep could be fitted (see the table's error "
                             "column), so there is no best fit")
        return self.fits[self.best[criterion]]

    def __repr__(self) -> str:
        # not the whole table (2.4 KB for 24 cells, QA): what the object is and what it chose
        table = self.table
        types = [ct for ct in COVARIANCE_TYPES if ct in set(table["covariance_type"])]
        ks = sorted({int(k) for k in table["n_components"]})
        k_range = f"K={ks[0]}..{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) and \
            len(ks) > 1 else "K=" + ",".join(map(str, ks))
        best = ", ".join(f"{c.upper()} K={k} {ct}" for c, (k, ct) in self.best.items())
        flags = [f"{n} {what}" for n, what in (
            (int(table["degenerate"].sum()), "degenerate"),
            (int(table.get("spike", pd.Series(dtype=bool)).sum()), "likely spurious spike(s)"),
            (int((table["error"] != "").sum()), "not fitted")) if n]
        # weighted: N is the weights' sum (QA: "N=272" beside criteria with N=562)
        fit = next(iter(self.fits.values()), None)
        weighted = fit is not None and (fit.observations or {}).get("weighted")
        n = (f"N={self.n_samples:g} rows, weights summing to {fit.n_samples:,.6g}" if weighted
             else f"N={self.n_samples:g}")
        return (f"EMSelection({len(table)} cells: {k_range} x {', '.join(types)}, "
                f"{n}; best: {best}"
                f"{'; ' + ', '.join(flags) if flags else ''}; print() for the tables)")

    def __str__(self) -> str:
        lines = []
        priors = {type(fit.prior).__name__ for fit in self.fits.values()
                  if fit.prior is not None}
        if priors:  # QA: a MAP sweep printed as a maximum-likelihood one
            lines += ["Criteria at MAP-EM estimates (fitted under a prior, not maximum "
                      "likelihood): log-likelihood, BIC, AIC and ICL at the MAP fit", ""]
        # a degenerate or spiky cell marked at its number (QA: K=7 full's lowest BIC, said
        # further down; QA114 L1: the report crossed a spike, print did not)
        flagged = choice_notes.excluded_cells(self.table).pivot(index="n_components",
                                                   columns="covariance_type", values="excluded")
        for criterion in CRITERIA:
            wide = self.pivot(criterion)
            text = wide.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
            text = text.where(~flagged.reindex_like(wide).fillna(False).astype(bool),
                              text + "\u2020")
            lines += [f"{criterion.upper()} (lower is better)", text.to_string(), ""]
        fitted = self.table[self.table["error"] == ""]
        # QA: "Best: K=40" above "not eligible as best" when every cell was degenerate
        all_degenerate = len(fitted) > 0 and bool(fitted["degenerate"].all())
        lines.append(("Best (every cell is degenerate: none is a proper fit; fit smaller K or "
                      "a simpler covariance type): " if all_degenerate else "Best: ") + (
            best_line(self.best, self.fits) or "none: no cell could be fitted"))
        lines += choice_notes.excluded_footnotes(self.table, all_degenerate)
        lines += [f"  not fitted: {cells}: {error}"
                  for cells, error in failed_groups(self.table)]
        lines += [f"  note: {note}" for note in self.notes]
        lines += choice_notes.warned_cells(self.table, self.cell_warnings)
        return "\n".join(lines)


@keyword_hints
def select_em(
    X: Any,
    n_components: int | Iterable[int] = range(1, 9),
    covariance_types: str | Iterable[str] = COVARIANCE_TYPES,
    *,
    n_init: int = 5,
    init: str | tuple[str, ...] = BOTH_INITS,
    max_iter: int = 1000,
    tol: float = 1e-3,
    reg_covar: float | None = None,
    prior: str | None = None,
    exclude_degenerate: bool = True,
    random_state: Any = None,
    n_jobs: int | None = -1,
    verbose: int = 0,
    sample_weight: Any = None,
    missing: str = "marginalise",
    noise: bool = False,
    noise_volume: float | None = None,
    labels: Any = None,
) -> EMSelection:
    """Fit a grid of K x covariance types by EM and tabulate BIC, AIC and ICL.

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
    n_components : int or iterable of int, default 1..8
    covariance_types : str or iterable of str, default ("full", "tied", "diag", "spherical")
        Any of "full", "tied", "diag", "spherical"; "all" for the four. With one feature,
        full, diag and spherical are one model and only the first of them asked for is
        fitted (``notes`` says so).
    n_init, init, max_iter, tol, reg_covar
        Passed to :func:`bayesgmm.fit_em` for every cell (the best of the restarts is kept);
        ``max_iter``, ``tol`` and ``reg_covar`` have ``fit_em``'s defaults: a cell is the fit
        ``fit_em`` gives with its seeding, unless a neighbour's start beats it (below).
        The default ``init``, ``("kmeans++", "random_from_data")``, runs ``n_init`` restarts
        from each seeding, as ``bayesgmm select`` does: k-means++ seeds tend to land on gross
        outliers, and a cell stuck at a poor optimum would distort the comparison.
    prior : None or "default"
        ``"default"``: MAP-EM under mclust's conjugate prior (Fraley & Raftery 2007), which
        keeps components from collapsing; the criteria then use the log-likelihood at the MAP
        estimate, as mclust does with ``priorControl()``.
    exclude_degenerate : bool, default True
        Leave degenerate cells (:func:`bayesgmm.em.is_degenerate`: a component on too few
        points to span its covariance, or collapsed onto the reg_covar floor) out of
        ``best``, then likely spurious spikes (``spike``), each unless every cell left is
        one: they stay in the table, flagged, their criteria rewarding a spurious
        singularity of an unbounded likelihood.
    random_state : int, SeedSequence, Generator or None
        Root seed. Cell (K, covariance type) is seeded from it and the cell alone, so the table
        does not depend on ``n_jobs`` or the joblib backend. It can depend on the grid: a cell
        is refitted from K + 1's fit with two components merged, or K - 1's with one split,
        where that finds a higher likelihood (``notes`` say which), so that ``[6]`` alone and
        ``[5, 6, 7]`` can give K=6 different optima (the second the better one).
    sample_weight, missing, noise, noise_volume
        As in :func:`bayesgmm.fit_em`, for every cell: frequency weights (the criteria use
        the weighted log-likelihood and N = the sum of the weights, as for the expanded
        rows), missing values (NaN; a row counts with its observed coordinates), a uniform
        noise component (its weight one more free parameter, and its volume another where
        it is estimated from the data, i.e. without ``noise_volume``: mclust's count, as
        :attr:`bayesgmm.EMResult.n_parameters`).
    labels : array-like (N,) of int, optional
        Known labels (component indices, -1 unknown) as in :func:`bayesgmm.fit_em`: the
        criteria use the log-likelihood the fits maximise (a labelled row by its own
        component's density), with no classification entropy for it in ICL. Cells with fewer
        components than the labels name fail (``error``).
    n_jobs : int or None, default -1
        joblib workers; -1 all cores (or Dask workers in ``joblib.parallel_backend("dask")``),
        unless the sweep is too quick to gain from workers (judged from the first cell); None
        defers to ``joblib.parallel_config``. One numba/BLAS thread each; results unchanged.
    verbose : int
        Above 0, a status line as each cell is fitted; above 10, joblib's messages too.

    Returns
    -------
    EMSelection
        ``.table`` (tidy, one row per cell), ``.best`` (criterion -> (K, covariance type)),
        ``.fits`` and ``.pivot(criterion)`` for the mclust-style K x covariance-type view.

    Raises
    ------
    ValueError
        Bad data or parameters; a constant column, or dependent ones with full or tied in the
        grid (QA99: fitted silently), as ``bayesgmm select`` (``fit_em`` only warns).

    Notes
    -----
    The criteria are lower-is-better: BIC = -2 log L + p log N, AIC = -2 log L + 2 p,
    ICL = BIC + 2 E with E = -sum_n log max_k r_nk (mclust's ``icl``, whose printed values are
    the negatives of these). p is scikit-learn's ``_n_parameters`` (:func:`bayesgmm.n_parameters`).
    Cells that cannot be fitted (e.g. more components than points) get NaN criteria and an
    ``error`` message instead of stopping the sweep.
    """
    observed = {k: v for k, v in (("sample_weight", sample_weight), ("missing", missing),
                                  ("noise", noise), ("noise_volume", noise_volume),
                                  ("labels", labels))
                if v is not None and v is not False and not (k == "missing"
                                                             and v == "marginalise")}
    Xv, names = check_data(X, allow_nan=True)  # pandas' NA is missing too (QA99: refused)
    if observed or np.isnan(Xv).any():
        # weights, missing values or noise: validated once, the same rows for every cell
        from ..observations import prepare_observations

        ks = check_grid(n_components)  # labels are checked against the largest K
        obs = prepare_observations(X, max(ks) if labels is not None else 1, **observed)
        Xv, names, weights = obs.X, obs.feature_names, obs.sample_weight
        observed = {"sample_weight": weights, "noise": obs.noise,
                    "noise_volume": noise_volume if obs.noise else None, "labels": obs.labels}
    else:
        weights = None
        warn_about_columns(Xv, names)  # as prepare_observations says it, once
    ks = check_grid(n_components)
    check_n_jobs(n_jobs)
    exclude_degenerate = check_bool(exclude_degenerate, "exclude_degenerate")
    cts = check_covariance_types(covariance_types)
    check_columns_fit(Xv if weights is None else Xv[weights > 0], names,  # QA100: weights
                      "full" if any(map(has_correlations, cts)) else "diag",
                      leave_out="leave the column(s) named out of X",
                      diagonal="covariance_types=['diag', 'spherical']")
    notes: tuple[str, ...] = ()
    if Xv.shape[1] == 1:
        cts, notes = one_feature_types(cts)
    entropy = root_entropy(random_state)
    if prior not in (None, "default"):
        raise ValueError(f"prior must be None or 'default'; got {prior!r}")
    options = {"n_init": n_init, "init": init, "max_iter": max_iter, "tol": tol,
               "reg_covar": check_reg_covar(reg_covar), "prior": prior}
    if (weights is not None or observed.get("noise") or observed.get("labels") is not None
            or np.isnan(Xv).any()):
        options.update({k: v for k, v in observed.items() if v is not None and v is not False})
    frame = pd.DataFrame(Xv, columns=list(names))
    frame.attrs = dict(getattr(X, "attrs", {}))  # a dequantised frame's record, to each cell
    # Most expensive cells first, so that the last cells to run are short ones.
    cells = sorted(((k, ct) for ct in cts for k in ks),
                   key=lambda cell: -_cost(cell[0], Xv.shape[1], cell[1]))
    seed = partial(cell_seed, entropy, n_features=Xv.shape[1])  # (K, type) -> its seed
    out, workers = run_sweep([delayed(_fit_cell)(frame, k, ct, seed(k, ct), options)
                              for k, ct in cells], [_cost(k, Xv.shape[1], ct) for k, ct in cells],
                             n_jobs, verbose, lambda out: f"K={out[0]['n_components']} "
                                                          f"{out[0]['covariance_type']} fitted")
    rows = [row for row, _, _ in out]
    fits = {(r["n_components"], r["covariance_type"]): f for r, f, _ in out if f is not None}
    cell_warnings = {(r["n_components"], r["covariance_type"]): m for r, _, m in out if m}
    if options.get("labels") is None and not options.get("noise"):
        rows, restarted = _neighbour_restarts(frame, rows, fits, cell_warnings, options,
                                              entropy, verbose)
        notes += restarted
    table = _tidy(rows)
    if prior is None:  # a MAP objective's prior changes with K: no such bound
        notes += _local_optimum_notes(table, n_init)
    best = _best(table, exclude_degenerate)
    notes += _choice_notes(table, best, ks, exclude_degenerate,
                           float(weights.sum()) if weights is not None else Xv.shape[0], fits)
    notes += choice_notes.rounding_notes(Xv, names, table, cell_warnings, X)
    # only where K=1 full is chosen (QA: said on every run; QA81: of a K=1 diag choice)
    if 1 in ks and {"full", "tied"} <= set(cts) and (1, "full") in best.values():
        notes += ("at K=1, full and tied are one model (one covariance matrix): their "
                  "criteria agree to EM's convergence, and a criterion that picks it names "
                  "full",)
    return EMSelection(table=table, best=best, fits=fits,
                       n_samples=Xv.shape[0], random_state=entropy, notes=notes,
                       cell_warnings=cell_warnings, workers=workers)


def _neighbour_restarts(frame: pd.DataFrame, rows: list[dict], fits: dict,
                        cell_warnings: dict, options: dict, entropy: int, verbose: int = 0
                        ) -> tuple[list[dict], tuple[str, ...]]:
    """Cells restarted from a neighbour's fit (:mod:`bayesgmm.selection.neighbours`): the
    rows, an improved cell's replaced (``fits``, ``cell_warnings`` in place), a note each."""
    from .. import progress
    outcomes: dict[int, tuple[dict, tuple[str, ...]]] = {}
    said: set[tuple[int, int, str]] = set()

    def refit(k: int, ct: str, start: dict, source: int) -> EMResult | None:
        # serial, after the sweep's lines: one line per cell, so a large one is not silent
        progress.say(f"K={k} {ct}: restarting EM from K={source}'s fit with "
                     f"{restart_reason(k, source, ct)}",
                     show=verbose > 0 and (k, source, ct) not in said)
        said.add((k, source, ct))
        row, fit, messages = _fit_cell(frame, k, ct, cell_seed(
            entropy, k, ct, n_features=frame.shape[1]), {**options, "init": start, "n_init": 1})
        # a proper restart before a degenerate one, as fit_em keeps (a needle's is spurious)
        if fit is None or (row["degenerate"] and not by_cell[(k, ct)]["degenerate"]):
            return None
        outcomes[id(fit)] = (row, messages)
        return fit

    by_cell = {(r["n_components"], r["covariance_type"]): r for r in rows}
    notes = []
    for k, ct, fit, before, how, source in restart_from_neighbours(fits, _tidy(rows), refit):
        row, messages = outcomes[id(fit)]
        by_cell[(k, ct)] = row
        cell_warnings.pop((k, ct), None)
        cell_warnings.update({(k, ct): messages} if messages else {})
        what, (now, then) = ("log posterior" if fit.prior is not None else "log-likelihood",
                             format_apart(objective(fit), before))
        if objective(fit) - before >= NOTED_GAIN:  # QA: "-1,012.585 above -1,012.586"
            notes.append(f"K={k} {ct}: restarted from K={source}'s fit with {how}, EM reached "
                         f"a {what} of {now}, above the {then} of its own restarts (kept)")
    return list(by_cell.values()), tuple(notes)


def _cost(k: int, d: int, covariance_type: str) -> float:
    return k * (d * d if covariance_type == "full" else d)


def _fit_cell(frame: pd.DataFrame, n_components: int, covariance_type: str,
              seed: np.random.SeedSequence, options: dict
              ) -> tuple[dict, EMResult | None, tuple[str, ...]]:
    """One grid cell, run in a joblib worker: its table row, the fit and EM's warnings."""
    # FewValuesWarning, DesignWeightsWarning: about the data, not the cell: select_em said it
    with single_threaded(), caught_warnings() as caught, \
            ignored(FewValuesWarning, DesignWeightsWarning):
        try:
            fit = fit_em(frame, n_components, covariance_type=covariance_type,
                         random_state=seed, **options)
        except (ValueError, np.linalg.LinAlgError) as exc:
            return _failed_row(n_components, covariance_type, str(exc)), None, ()
        row = _criteria_row(fit, frame.to_numpy(), options.get("sample_weight"),
                            options.get("labels"))
    # Warnings raised in a worker process would be printed there, once per cell, past the
    # caller's formatting: keep them in the table instead (the report lists each kind once).
    messages = tuple(message for _, message in caught)
    row["warnings"] = "; ".join(messages)
    return row, fit, messages


def _criteria_row(fit: EMResult, X: np.ndarray, sample_weight: np.ndarray | None = None,
                  labels: np.ndarray | None = None) -> dict:
    """Log-likelihood, p, BIC, AIC, ICL and the classification entropy of one fit.

    With weights, missing values (NaN), known labels or a noise component: the weighted
    log-likelihood of the rows' observed values at the estimate (a labelled row by its own
    component), N = the sum of the weights (the expanded rows' criteria), and the weighted
    entropy (zero for a labelled row).
    """
    if (sample_weight is None and labels is None and not fit.noise
            and not np.isnan(X).any()):
        entropy = classification_entropy(fit.predict_proba(X), "map")
        bic, aic = fit.bic(X), fit.aic(X)
    else:
        g = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        e = fit._estep(X, labels=labels, return_resp=True)
        loglik = float(np.sum(g * e.pointwise))
        entropy = classification_entropy(e.resp, "map", sample_weight=g)
        bic = -2.0 * loglik + fit.n_parameters * math.log(g.sum())
        aic = -2.0 * loglik + 2.0 * fit.n_parameters
    sizes = fit.weights * fit.n_samples
    return {"n_components": fit.n_components, "covariance_type": fit.covariance_type,
            "log_likelihood": fit.log_likelihood, "n_parameters": fit.n_parameters,
            "bic": bic, "aic": aic, "icl": bic + 2.0 * entropy, "entropy": entropy,
            "min_component_size": float(sizes.min()),
            # too few points for a covariance, or a covariance collapsed onto the reg_covar
            # floor (tied or discrete values): an unbounded likelihood, not the data's
            "degenerate": is_degenerate(fit, X, sample_weight), "spike": choice_notes.is_spiky(fit),
            "converged": fit.converged,
            "n_iter": fit.n_iter, "warnings": "", "error": ""}


def _failed_row(n_components: int, covariance_type: str, error: str) -> dict:
    row = dict.fromkeys(TABLE_COLUMNS, math.nan)
    row.update(n_components=n_components, covariance_type=covariance_type, converged=False,
               degenerate=False, spike=False, n_iter=0, warnings="", error=error)
    return row


def _tidy(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    order = {ct: i for i, ct in enumerate(COVARIANCE_TYPES)}
    table = table.sort_values(["covariance_type", "n_components"],
                              key=lambda s: s.map(order) if s.name == "covariance_type" else s)
    table = table.reset_index(drop=True).astype({"n_components": int, "n_iter": int,
                                                 "converged": bool, "degenerate": bool,
                                                 "spike": bool})
    table.attrs["criteria"] = ("lower is better: bic = -2 logL + p log N, aic = -2 logL + 2p, "
                               "icl = bic + 2 * entropy (MAP classification entropy)")
    return table


def best_cells(table: pd.DataFrame, min_components: int = 1) -> dict[str, tuple[int, str]]:
    """Criterion -> (K, covariance type) of the best cell with at least ``min_components``,
    as :func:`select_em` chooses (``choice_notes.eligible_cells``, ties to the fewest K); a
    criterion no such cell has is absent."""
    return _best(table[table["n_components"] >= min_components], exclude_degenerate=True)


def _best(table: pd.DataFrame, exclude_degenerate: bool) -> dict[str, tuple[int, str]]:
    table = choice_notes.eligible_cells(table, exclude_degenerate)
    best = {}
    order = {ct: i for i, ct in enumerate(COVARIANCE_TYPES)}
    for criterion in CRITERIA:
        values = table[criterion]
        if values.notna().any():
            # Ties (one model under two names: K=1 full and tied; equal to rounding) go to
            # the fewest components, then the first type in the usual order, not to whichever
            # rounding error is smaller.
            low = values.min()
            tied = table[values <= low + 1e-9 * max(1.0, abs(low))]
            row = min(tied.itertuples(), key=lambda r: (r.n_components,
                                                        order[r.covariance_type]))
            best[criterion] = (int(row.n_components), str(row.covariance_type))
    return best


def classification_entropy(resp: np.ndarray, kind: str = "map",
                           sample_weight: np.ndarray | None = None) -> float:
    """ICL's entropy term from responsibilities (N, K), row n counted ``sample_weight[n]`` times.

    ``"map"`` (used by :func:`select_em`, mclust's ``icl``): -sum_n log max_k r_nk.
    ``"soft"`` (McLachlan & Peel 2000): -sum_n sum_k r_nk log r_nk; never smaller than "map".
    """
    if kind not in ("map", "soft"):
        raise ValueError(f"kind must be 'map' or 'soft'; got {kind!r}")
    resp = np.asarray(resp, dtype=np.float64)
    per_row = -np.log(resp.max(axis=1)) if kind == "map" else -np.sum(xlogy(resp, resp), axis=1)
    g = np.ones(len(resp)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    return _nonnegative(g @ per_row)


def _nonnegative(value: float) -> float:
    """An entropy, >= 0: r = 1 gives -0.0, and r a hair above 1 a tiny negative (both printed
    "-0.000000"): 0."""
    return max(float(value), 0.0) + 0.0  # + 0.0 turns -0.0 into 0.0
