"""Convergence diagnostics for a mixture posterior, with a plain-language verdict.

:func:`diagnose` runs the standard MCMC checks with ArviZ's own estimators (rank-normalised split
R-hat, bulk and tail ESS, E-BFMI) plus the sampler's divergence and tree-depth statistics, and a
check specific to mixtures: whether a chain settled in a different posterior mode. After label
switching has been undone (:func:`bayesgmm.relabel.relabel_posterior`), chains that explore the
same mode have matching per-chain means; a chain whose means sit far from the other chains',
measured in posterior standard deviations, is in another mode (or has not mixed), and pooling
it with the others would average over incompatible explanations of the data.

Two more checks make the verdict agree with what a reader sees:

- **rank uniformity**: the multi-chain rank test that ArviZ's rank plot (``arviz.plot_rank``,
  the report's rank figure) prints as ``p=...`` on each panel, ArviZ's test
  (:func:`rank_uniformity_pvalues`, its p-values as :mod:`bayesgmm.rank_uniformity` computes
  them, ~100x faster) at the plot's level (1 - ``stats.envelope_prob``): the verdict is never
  OK while a panel of the plot flags a chain;
- **label-invariant quantities** (:func:`label_invariant_quantities`: the total log-likelihood,
  the sorted weights and, in 1-D, the sorted means): their R-hat and ESS do not depend on the
  relabelling, so they tell slow mixing (both fail) from relabelling trouble (only the
  relabelled parameters fail).

Every threshold is a parameter, every failed check becomes a sentence in ``problems``, and the
one-line ``verdict`` lists the failed and the passed checks alike. ``advice`` names the cause
the evidence points to (``causes``): a chain in a better mode (poor start), a component whose
variance collapsed onto a feature with few distinct or tied values (collapsed component), an
empty or duplicated component (K too large; too many parameters when the components the
data do not locate are expected to hold fewer rows than their own parameters), a component
whose relabelled draws are bimodal or lie on another component in a share of the draws
(mixed components: its summaries average over two modes), slow mixing (with the draws needed
at the measured ESS rate), too few draws (a run too short for the ESS threshold though its draws mix
well), or divergences (where they concentrate). (Over 500
lines: one small reader, check and sentence per diagnostic, all around the shared
Check/Diagnostics types.)

Sampler statistics are read under both samplers' names: PyMC's ``pm.sample`` writes
``diverging``, ``tree_depth``, ``reached_max_treedepth``, ``energy`` and ``lp``; nutpie writes
``diverging``, ``depth``, ``maxdepth_reached``, ``energy`` and ``logp``.

Where it sits: the posterior layer; imports :mod:`bayesgmm.relabel` (and the covariance
vocabulary, :mod:`bayesgmm.settings` for the thresholds' defaults and
:mod:`bayesgmm.rounding` for what a rounded column is, :mod:`bayesgmm._validation` for
rows that look copied); imported by the result
object, the fit, sparse mixtures, the plots and the report.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesgmm._validation import copied_rows_fact
from bayesgmm.component_shifts import shifted_with
from bayesgmm.covariance import (
    COLLAPSED_SD_RATIO,
    COVARIANCE_TYPES,
    FAR_TAIL,
    column_moments,
    covariance_words,
    has_correlations,
    n_covariance_parameters,
    nearest_distance2,
    sd_and_correlation,
    type_of_dims,
)
from bayesgmm.formatting import format_count, format_number, per_chain
from bayesgmm.rank_uniformity import mchain_uniformity_pvalues
from bayesgmm.relabel import SAMPLE_DIMS, LabelSwitchingReport
from bayesgmm.rounding import MIN_ROUNDED_VALUES, rounding_step
from bayesgmm.settings import DiagnosticThresholds

from ._warn import ignored

# the thresholds' defaults, stated once (in settings)
_THRESHOLDS = DiagnosticThresholds()

__all__ = [
    "CAUSES",
    "OVERFIT_CAUSES",
    "Check",
    "Diagnostics",
    "diagnose",
    "label_invariant_quantities",
    "rank_uniformity_check",
    "rank_uniformity_pvalues",
    "with_correlations",
    "with_sds",
]

# A check's summary that says it could not judge its value (failed whatever the value).
_UNJUDGED = re.compile(r"not (testable|computable)")

# The variables of the rank test by default (those present): those the report's rank plot
# shows, the noise weight too with a noise component.
RANK_VARIABLES = ("weights", "noise_weight", "means")
DIVERGING = "diverging"
ENERGY = "energy"
MAX_TREEDEPTH_NAMES = ("reached_max_treedepth", "maxdepth_reached")  # PyMC, nutpie
LOG_DENSITY_NAMES = ("lp", "logp")  # PyMC, nutpie
# The group of a result that holds each draw's total log-likelihood (chain, draw) where the
# pointwise log_likelihood group is not stored (too large): the verdict checks it alike.
LOG_LIKELIHOOD_TOTAL = "log_likelihood_total"
# The causes that ``Diagnostics.causes`` can name, in the order the advice lists them.
# The cause of a sound posterior whose some sds and correlations lean on their priors.
PRIORS_SHAPE = "priors shape summaries"
# The cause of a sound posterior that a prior pulled away from the data (prior-data conflict).
PRIOR_CONFLICT = "prior-data conflict"
SPARSE_COLUMN = "column barely observed"
CAUSES = ("poor start", "stuck chain", "separate modes", "collapsed component", "outliers",
          "K too large",
          "too many parameters", "mixed components", SPARSE_COLUMN, "divergences",
          "label switching",
          "slow mixing", "uneven ranks", "too few draws", PRIOR_CONFLICT, PRIORS_SHAPE,
          # a sparse mixture's: every component in use (by the data, or by a prior that
          # fills them all); tree depth or E-BFMI failing there without divergences
          # (near-empty components are hard for NUTS)
          "K_max too small", "e0 not sparse", "inefficient sampling")
# The causes that say some components are not clusters the data locate (a nearly empty one
# holding far rows, more components or parameters than the data locate): their
# per-component summaries are not to be reported.
OVERFIT_CAUSES = ("outliers", "K too large", "too many parameters")
# A run whose chains x draws are under twice the ESS threshold, and whose draws mix at least
# this fast (worst ESS per draw, all chains), fails the ESS checks for its length, not for its
# mixing: "too few draws" (QA: draws=60 on a well-mixing fit was called "slow mixing").
_FAIR_ESS_RATE = 0.25


@dataclass(frozen=True)
class Check:
    """One diagnostic check.

    Attributes
    ----------
    name : str
        What is measured, e.g. ``"max R-hat"``.
    value, threshold : float
    passed : bool
    summary : str
        Short form for the verdict line, e.g. ``"R-hat 1.003 <= 1.01"``.
    problem : str or None
        A plain-language sentence naming the failure, the value and the threshold; ``None``
        when the check passed.
    where : str
        The scalar that attains the value, for the R-hat, ESS and rank checks (e.g.
        ``"covariances[0, x0, x1]"``, which the report's parameter table shows only as sds and
        a correlation); empty for the others.
    """

    name: str
    value: float
    threshold: float
    passed: bool
    summary: str
    problem: str | None = None
    where: str = ""


@dataclass(frozen=True)
class Diagnostics:
    """Result of :func:`diagnose`.

    Attributes
    ----------
    ok : bool
        True when every check that could be run passed.
    verdict : str
        One line: ``"OK: ..."``, ``"CAUTION: ..."`` or ``"PROBLEMS: ..."`` (see
        :attr:`status`), listing failed then passed checks.
    problems : tuple of str
        One sentence per failed check.
    checks : tuple of Check
        Every check that was run.
    not_checked : tuple of str
        Checks that could not be run and why (e.g. no sampler statistics).
    chains : tuple of str
        Chain labels, the order of the per-chain tuples below.
    max_rhat, min_ess_bulk, min_ess_tail : float
        Over the diagnosed variables (NaN when not computable).
    n_divergences : int or None
        Divergent transitions over all chains; None without sampler statistics.
    divergences_per_chain : tuple of int
    ebfmi_per_chain : tuple of float
    max_treedepth_fraction : float
        Fraction of draws that hit the maximum tree depth (NaN when not recorded).
    mode_shift_per_chain : tuple of float
        Largest distance, over the diagnosed scalars and the log density, between a chain's
        mean and the median of the other chains' means, in pooled within-chain posterior sd.
    different_mode_chains : tuple of str
        Chains whose shift exceeds the threshold.
    label_report : LabelSwitchingReport or None
    rank_pvalues : dict of str to float
        The rank-uniformity p-value of every tested scalar, e.g. ``{"means[1, x]": 0.43}``.
    causes : tuple of str
        What the evidence points to, from :data:`CAUSES`.
    advice : tuple of str
        One sentence per cause: the evidence and what to do.
    fixed_draws_advice : tuple of str
        ``advice`` as for a run that keeps its number of draws fixed (``fit_sparse``,
        ``select_bayes(draws=N)``): more draws, not ``draws="auto"``; what
        ``verdict_with_advice(auto_draws=False)`` writes out. Empty: the same as ``advice``.
    unreported_components : tuple of int
        The components whose per-component summaries the advice says describe no single
        cluster (named by "K too large", "outliers", "too many parameters" or "mixed
        components": nearly empty, unlocated, duplicated or bimodal); a report marks their
        rows. Empty when no such cause is given.
    shifted_components : tuple of int
        Under "mixed components", the other components whose weight or a mean shifts by a
        posterior sd or more with a mixed one's place
        (:func:`bayesgmm.component_shifts.shifted_with`): usable with that said.
    """

    ok: bool
    verdict: str
    problems: tuple[str, ...]
    checks: tuple[Check, ...]
    not_checked: tuple[str, ...]
    chains: tuple[str, ...]
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    n_divergences: int | None
    divergences_per_chain: tuple[int, ...]
    ebfmi_per_chain: tuple[float, ...]
    max_treedepth_fraction: float
    mode_shift_per_chain: tuple[float, ...]
    different_mode_chains: tuple[str, ...]
    label_report: LabelSwitchingReport | None = None
    rank_pvalues: dict[str, float] = field(default_factory=dict, compare=False)
    causes: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    fixed_draws_advice: tuple[str, ...] = ()
    unreported_components: tuple[int, ...] = ()
    shifted_components: tuple[int, ...] = ()

    @property
    def status(self) -> str:
        """``"PROBLEMS"`` when a check failed; ``"CAUTION"`` when every check passed but the
        evidence names a cause (e.g. K too large, mixed components: the draws are sound, some
        components' summaries are not; QA: scripts gating on ``ok`` accepted intervals that
        covered 73% at 90%); else ``"OK"``. The verdict line starts with it."""
        return "PROBLEMS" if not self.ok else "CAUTION" if self.causes else "OK"

    @property
    def brief(self) -> str:
        """The status, the checks that failed and the likely cause, in one line: "PROBLEMS:
        R-hat 1.011 > 1.01; min bulk ESS 256 < 400; likely cause: too few draws", "CAUTION:
        every check passed; note: K too large", "OK: every check passed"."""
        head = f"{self.status}: every check passed" if self.ok else self.verdict.split(" | ")[0]
        cause = "note" if self.ok else "likely cause"
        return head + (f"; {cause}: {', '.join(self.causes)}" if self.causes else "")

    def to_frame(self) -> pd.DataFrame:
        """One row per check that was run: ``check``, ``value``, ``threshold``, ``passed``,
        ``where`` (the scalar that attains an R-hat, ESS or rank p-value; empty for the
        others), ``note`` (why a check failed whatever its value: "rank test not testable
        (3 roughly independent draws per chain < 20)", "R-hat not computable"; empty for the
        others. QA: a rank p of 0.05 above its threshold 0.0008, "passed False", unexplained)."""
        return pd.DataFrame(
            {
                "check": [c.name for c in self.checks],
                "value": [c.value for c in self.checks],
                "threshold": [c.threshold for c in self.checks],
                "passed": [c.passed for c in self.checks],
                "where": [c.where for c in self.checks],
                "note": [c.summary if _UNJUDGED.search(c.summary) else ""
                         for c in self.checks],
            }
        )

    def verdict_with_advice(self, auto_draws: bool = True) -> str:
        """The verdict with its "(see advice)" replaced by the advice itself: for a place
        with no advice section to point to (a model comparison's table, a log line).
        ``auto_draws=False``: the advice for a run of a fixed number of draws
        (``fixed_draws_advice``)."""
        verdict = self.verdict
        advice = (self.advice if auto_draws or not self.fixed_draws_advice
                  else self.fixed_draws_advice)
        if advice and verdict.endswith(" (see advice)"):
            verdict = verdict[:-len(" (see advice)")] + ". Advice: " + " ".join(
                a if a.endswith(".") else a + "." for a in advice)
        return verdict

    def __repr__(self) -> str:
        # the dataclass repr listed every Check(...) in full (~3 KB, QA); then the whole
        # verdict, ~460 characters on one console line (QA152 L3): the status line and the
        # headline numbers; str() and to_frame() give each check, .advice what to do
        def number(value: float, digits: int) -> str:
            return "n/a" if not math.isfinite(value) else f"{value:,.{digits}f}"

        numbers = [f"max R-hat {number(self.max_rhat, 3)}",
                   f"min ESS {number(self.min_ess_bulk, 0)} bulk / "
                   f"{number(self.min_ess_tail, 0)} tail"]
        if self.n_divergences is not None:
            numbers.append(f"{self.n_divergences:,} divergence"
                           + ("s" if self.n_divergences != 1 else ""))
        skipped = f", {len(self.not_checked)} not run" if self.not_checked else ""
        return (f"Diagnostics({self.brief!r}; {', '.join(numbers)}; {len(self.checks)} "
                f"checks{skipped}: print() for each)")

    def _repr_html_(self) -> str:
        """In a notebook: the verdict, the checks table, the problems and the advice (notebook
        QA: a cell ending in ``post.diagnostics()`` showed one 400-character line)."""
        import html

        def items(title: str, lines: Sequence[str]) -> str:
            return (f"<p><strong>{title}</strong></p><ul>"
                    + "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
                    + "</ul>") if lines else ""

        table = self.to_frame()  # numbers as the verdict writes them (QA96: "0.000000"),
        # with the digits that tell a value from its threshold (QA98: "1.01" beside "1.01")
        shown = [_told_apart(v, t) for v, t in zip(table["value"], table["threshold"],
                                                   strict=True)]
        table["value"], table["threshold"] = [v for v, _ in shown], [t for _, t in shown]
        return (f"<p><strong>{html.escape(self.verdict)}</strong></p>"
                + table.to_html(index=False, border=0)
                + items("Problems", self.problems) + items("Advice", self.advice)
                + items("Not checked", self.not_checked)
                + (f"<pre>{html.escape(str(self.label_report))}</pre>"
                   if self.label_report is not None else ""))

    def __str__(self) -> str:
        # rounded as the verdict rounds them (QA110: "952.889747 400.000000", a 0 as
        # "0.000000"): counts and ESS whole, the rest to four significant digits
        table = self.to_frame()
        table["value"] = [_shown_beside(v, t) for v, t in zip(table["value"],
                                                              table["threshold"], strict=True)]
        table["threshold"] = [_shown_beside(t, t) for t in table["threshold"]]
        lines = [self.verdict, "", table.to_string(index=False)]
        if self.problems:
            lines += ["", "Problems:", *(f"  - {p}" for p in self.problems)]
        if self.advice:
            lines += ["", "Advice:", *(f"  - {a}" for a in self.advice)]
        if self.not_checked:
            lines += ["", "Not checked:", *(f"  - {n}" for n in self.not_checked)]
        if self.label_report is not None:
            lines += ["", str(self.label_report)]
        return "\n".join(lines)


def diagnose(
    idata: xr.DataTree | xr.Dataset,
    *,
    var_names: Sequence[str] = ("weights", "means", "covariances"),
    rhat_max: float = _THRESHOLDS.rhat_max,
    ess_min: float = _THRESHOLDS.ess_min,
    ebfmi_min: float = _THRESHOLDS.ebfmi_min,
    max_divergences: int = _THRESHOLDS.max_divergences,
    max_treedepth_fraction: float = _THRESHOLDS.max_treedepth_fraction,
    mode_shift_max: float = _THRESHOLDS.mode_shift_max,
    label_report: LabelSwitchingReport | None = None,
    posterior: xr.Dataset | None = None,
    rank_alpha: float | None = None,
    rank_var_names: Sequence[str] = RANK_VARIABLES,
    empty_weight: float = 0.01,
    target_accept: float | None = None,
    auto_draws: bool = True,
    prior_note: str = "",
    label_invariant_checks: bool = True,
    draws_capped: str | None = None,
    gap_note: str = "",
    data_scale: Sequence[float] | None = None,
    conflict_note: str = "",
    restart_note: str = "",
    rival_note: str = "",
    apart_note: str = "",
) -> Diagnostics:
    """Check a mixture posterior for convergence and sampling problems.

    Parameters
    ----------
    idata : xarray.DataTree or xarray.Dataset
        ArviZ DataTree with a ``posterior`` group (dims ``chain``, ``draw``, ...) and, for the
        sampler checks, ``sample_stats``; an optional ``log_likelihood`` group is used by the
        different-mode check. A Dataset is taken as the posterior alone.
    var_names : sequence of str, default ("weights", "means", "covariances")
        Posterior variables for R-hat, ESS and the different-mode check; missing ones are
        skipped (and listed in ``not_checked``).
    rhat_max : float, default 1.01
        Largest acceptable rank-normalised split R-hat.
    ess_min : float, default 400
        Smallest acceptable bulk and tail effective sample size (all chains together).
    ebfmi_min : float, default 0.3
        Smallest acceptable E-BFMI of any chain.
    max_divergences : int, default 0
        Largest acceptable number of divergent transitions (all chains together).
    max_treedepth_fraction : float, default 0.01
        Largest acceptable fraction of draws that hit the maximum tree depth.
    mode_shift_max : float, default 1.0
        Largest acceptable distance, in pooled within-chain posterior sd, between a chain's
        posterior mean of any diagnosed scalar (or of the log density) and the median of the
        other chains' means. Chains above it are reported as being in a different mode.
    label_report : LabelSwitchingReport, optional
        From :func:`bayesgmm.relabel.relabel_posterior`; reported alongside.
    posterior : xarray.Dataset, optional
        Use this posterior (e.g. the relabelled one) instead of ``idata``'s posterior group.
    rank_alpha : float, optional
        Family-wise level of the rank-uniformity tests: the check fails when any of the m
        tested scalars has p < rank_alpha / m (Bonferroni). Default: the level of ArviZ's
        rank plot, ``1 - arviz_base.rcParams["stats.envelope_prob"]`` (0.01). Testing each
        panel at 0.01 itself would flag about 1 in 10 perfectly mixed runs with 9 scalars
        (measured: 5 of 40 runs of iid draws); the per-scalar level is the check's
        ``threshold``, which the rank plot takes as ``envelope_prob=1 - threshold`` to flag
        exactly the same panels.
    rank_var_names : sequence of str, default ("weights", "noise_weight", "means")
        Variables of the rank test: those the report's rank plot shows.
    empty_weight : float, default 0.01
        A component whose posterior median weight is below it counts as empty (evidence for
        "K too large").
    target_accept : float, optional
        The sampler's step-size target, when known: the divergence advice then says whether
        raising it is still a remedy or was already tried.
    auto_draws : bool, default True
        Whether the caller can sample with ``draws="auto"`` (``fit_bayes`` can): the
        slow-mixing advice then offers it. False for runs of a fixed number of draws that
        the caller keeps fixed (``fit_sparse``, ``select_bayes(draws=N)``): the advice
        asks for more draws (``draws=N``, ``--draws N``) only. Either way
        ``fixed_draws_advice`` holds the latter, for callers handed a Diagnostics made with
        the default (``select_bayes`` gets its fits' own).
    draws_capped : {"max_draws", "max_time"}, optional
        The run sampled with ``draws="auto"`` and stopped at that cap unconverged
        (``BayesResult.diagnostics`` gives it): the slow-mixing advice then asks for a larger
        cap instead of offering ``draws="auto"``.
    prior_note : str, optional
        The sds and correlations the data barely narrowed from their priors
        (:func:`bayesgmm.prior_contraction.weakly_informed_note`, which needs the priors the
        draws do not carry; ``BayesResult.diagnostics`` gives it): a cause, "priors shape
        summaries", where every check passes and no component is named as one the data do
        not locate (their summaries are not to be reported anyway).
    conflict_note : str, optional
        The parameters the priors pulled away from where the data alone would put them
        (:func:`bayesgmm.prior_contraction.prior_conflict_note`; ``BayesResult.diagnostics``
        gives it): a cause, "prior-data conflict", under the same conditions.
    gap_note : str, optional
        The components with almost no observed value in a column where they hold rows
        (:mod:`bayesgmm.column_support`; ``BayesResult.diagnostics`` gives it): a cause,
        "column barely observed", where divergences or mixing fail (the sd there is the
        prior's, a wide posterior NUTS follows badly), named before the remedies that would
        not cure it.
    label_invariant_checks : bool, default True
        Also check R-hat and ESS of the label-invariant quantities (the total log-likelihood,
        sorted weights and 1-D means). False where ``var_names`` are label-invariant already
        (a sparse mixture's K+ and log-likelihood): the checks would repeat them, and a
        failure of the others but not of these would be read as label switching.
    restart_note : str, optional
        What the run's restart of EM from a higher chain's draw found, where it found no
        better optimum (``BayesResult.diagnostics`` gives it from the start's record): a
        chain higher than the start is then a mode as good as the start's, "separate modes",
        not a poor start to restart from again.
    rival_note : str, optional
        Another optimum of EM's objective about as good as the start's, no relabelling of
        it, that the draws did not visit (:mod:`bayesgmm.optima`; ``BayesResult.diagnostics``
        gives it): a cause, "separate modes", where no chain found another mode itself.
    apart_note : str, optional
        Which chains started at a second start, and where (``BayesResult.diagnostics`` gives
        it from the start's record): the evidence of chains in two modes then says so, not
        that every chain started at one point.
    data_scale : array-like (D,), optional
        The data's sd per feature, which a collapsed or unlocated component is measured
        against: the scale the model standardised by (``BayesResult.diagnostics`` and
        ``fit_bayes`` give it: frequency-weighted, without the isolated rows a noise
        component is for). Default: from ``idata``'s observed_data, weighted by its
        ``sample_weight`` (every row), else the sd the posterior's mixture implies.

    Returns
    -------
    Diagnostics
    """
    # a run of a draw or two: NumPy's "mean of empty slice" and the like, where the checks
    # say it
    with ignored(RuntimeWarning):
        return _diagnose(idata, posterior, var_names, rhat_max, ess_min,
                         ebfmi_min, max_divergences, max_treedepth_fraction, mode_shift_max,
                         label_report, rank_alpha, rank_var_names, empty_weight,
                         target_accept, auto_draws, prior_note, label_invariant_checks,
                         draws_capped, gap_note, data_scale, conflict_note, restart_note,
                         rival_note, apart_note)


def _diagnose(idata, posterior, var_names, rhat_max, ess_min, ebfmi_min, max_divergences,
              max_treedepth_fraction, mode_shift_max, label_report, rank_alpha,
              rank_var_names, empty_weight, target_accept, auto_draws, prior_note,
              label_invariant_checks, draws_capped, gap_note="", data_scale=None,
              conflict_note="", restart_note="", rival_note="", apart_note=""
              ) -> Diagnostics:
    """:func:`diagnose`'s body."""
    post, stats, loglik = _groups(idata, posterior)
    present = [v for v in var_names if v in post.data_vars]
    if not present:
        raise ValueError(
            f"none of the variables {list(var_names)} is in the posterior "
            f"(it has {list(post.data_vars)})"
        )
    not_checked = [
        f"variable {v!r}: not in the posterior" for v in var_names if v not in present
    ]
    chains = tuple(str(c) for c in post["chain"].values)
    checks = _statistic_checks(post[present], _CONVERGENCE_CHECKS, rhat_max, ess_min)
    rank_p: dict[str, float] = {}
    rank_vars = [v for v in rank_var_names if v in post.data_vars]
    if len(chains) < 2:
        not_checked.append("rank uniformity: needs at least 2 chains")
    elif rank_vars:
        rank, rank_p = rank_uniformity_check(post[rank_vars], rank_alpha=rank_alpha)
        checks.append(rank)
    observed = (_group(idata, "observed_data") if isinstance(idata, xr.DataTree) else None)
    invariant = label_invariant_quantities(post, loglik, None if observed is None or (
        "sample_weight" not in observed) else observed["sample_weight"].values)
    if invariant.data_vars and label_invariant_checks:
        checks += _statistic_checks(invariant, _INVARIANT_CHECKS, rhat_max, ess_min)
    if len(chains) < 2:
        checks = [_one_chain_rhat(c) if c.name.startswith("max R-hat") else c for c in checks]

    divergences = _divergences(stats)
    ebfmi = _ebfmi(stats)
    treedepth = _treedepth_fraction(stats)
    sampler_checks, missing_stats = _sampler_checks(
        divergences, ebfmi, treedepth, chains, max_divergences, ebfmi_min, max_treedepth_fraction
    )
    checks += sampler_checks
    not_checked += missing_stats

    density = _log_densities(stats, loglik)
    shifts = np.full(len(chains), np.nan)
    flagged: tuple[str, ...] = ()
    if len(chains) < 2:
        not_checked.append("different mode: needs at least 2 chains")
    elif post.sizes["draw"] < 2:  # no within-chain spread to measure a shift by (QA: a run
        checks.append(Check(  # stopped at 1 draw read "shift more than 10,000 sd")
            name="max chain mode shift (sd)", value=float("nan"),
            threshold=float(mode_shift_max), passed=False,
            summary="chain agreement not computable (1 draw per chain)",
            problem="Different-mode check failed: one draw per chain has no spread to "
                    "compare the chains by; whether they agree is not known.", where=""))
    else:
        shifts, worst = _mode_shifts(post[present], density)
        flagged = tuple(c for c, s in zip(chains, shifts, strict=True) if s > mode_shift_max)
        checks.append(
            _mode_check(shifts, worst, chains, density, mode_shift_max, label_report is None)
        )

    by_name = {c.name: c.value for c in checks}
    causes, advice, unreported = _advice(
        checks, post, density, chains, flagged, divergences, stats, ess_min, empty_weight,
        label_report, target_accept, auto_draws, observed, draws_capped, gap_note,
        apart=tuple(c for c, s in zip(chains, shifts, strict=True) if s > _SEPARATE_MODES_SD),
        scale=data_scale, restart_note=restart_note, rival_note=rival_note,
        apart_note=apart_note)
    # the same advice for a run whose draws stay fixed: only the slow-mixing remedy differs
    # (none when a collapsed component is the cause: no number of draws cures that)
    fixed_draws_advice = tuple(
        f"slow mixing: {_more_draws_evidence(checks, post, ess_min, auto_draws=False)}"
        if a.startswith("slow mixing: ")
        and not {"collapsed component", SPARSE_COLUMN, *OVERFIT_CAUSES} & set(causes) else
        f"too few draws: {_too_few_draws(checks, post, ess_min)}"
        f"{_more_draws_evidence(checks, post, ess_min, auto_draws=False, rate_said=True)}"
        if a.startswith("too few draws: ") else a
        for a in advice)
    ok = all(c.passed for c in checks)
    for cause, note in ((PRIOR_CONFLICT, conflict_note), (PRIORS_SHAPE, prior_note)):
        if note and ok and not set(OVERFIT_CAUSES) & set(causes):
            causes, advice = (*causes, cause), (*advice, f"{cause}: {note}")
            fixed_draws_advice = (*fixed_draws_advice, advice[-1])
    verdict = _verdict(checks, not_checked, label_report)
    if ok and causes:  # every check passed, but the evidence says something: CAUTION
        verdict = "CAUTION: " + verdict.removeprefix("OK: ")
    return Diagnostics(
        ok=ok,
        verdict=verdict + (f" | {'note' if ok else 'likely cause'}: "
                           f"{', '.join(causes)} (see advice)" if causes else ""),
        problems=tuple(c.problem for c in checks if not c.passed),
        checks=tuple(checks),
        not_checked=tuple(not_checked),
        chains=chains,
        max_rhat=by_name["max R-hat"],
        min_ess_bulk=by_name["min bulk ESS"],
        min_ess_tail=by_name["min tail ESS"],
        n_divergences=None if divergences is None else int(divergences.sum()),
        divergences_per_chain=() if divergences is None else tuple(int(n) for n in divergences),
        ebfmi_per_chain=() if ebfmi is None else tuple(float(e) for e in ebfmi),
        max_treedepth_fraction=treedepth,
        mode_shift_per_chain=tuple(float(s) for s in shifts),
        different_mode_chains=flagged,
        label_report=label_report,
        rank_pvalues=rank_p,
        causes=causes,
        advice=advice,
        fixed_draws_advice=fixed_draws_advice,
        unreported_components=unreported,
        shifted_components=tuple(shifted_with(post, unreported))
        if "mixed components" in causes else (),
    )


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------
def _groups(idata, posterior):
    """(posterior Dataset, sample_stats Dataset or None, log_likelihood Dataset or None)."""
    if isinstance(idata, xr.Dataset):
        post, stats, loglik = idata, None, None
    elif isinstance(idata, xr.DataTree):
        if "posterior" not in idata.children and posterior is None:
            raise ValueError("the DataTree has no 'posterior' group")
        post = idata["posterior"].to_dataset() if "posterior" in idata.children else None
        stats = _group(idata, "sample_stats")
        loglik = _group(idata, "log_likelihood")
        if loglik is None:
            loglik = _group(idata, LOG_LIKELIHOOD_TOTAL)
    else:
        raise TypeError(f"expected an xarray DataTree or Dataset; got {type(idata).__name__}")
    if posterior is not None:
        post = posterior
    missing = [d for d in SAMPLE_DIMS if d not in post.dims]
    if missing:
        raise ValueError(f"the posterior lacks the sample dimension(s) {missing}")
    return post, stats, loglik


def _group(tree: xr.DataTree, name: str) -> xr.Dataset | None:
    return tree[name].to_dataset() if name in tree.children else None


def _stat(stats: xr.Dataset | None, names: Sequence[str]) -> xr.DataArray | None:
    """The first of ``names`` present in sample_stats (the samplers disagree on names)."""
    if stats is None:
        return None
    return next((stats[n] for n in names if n in stats.data_vars), None)


# --------------------------------------------------------------------------------------------
# R-hat and ESS (ArviZ)
# --------------------------------------------------------------------------------------------
def _rhat_ess(ds: xr.Dataset) -> tuple[tuple[float, str], tuple[float, str], tuple[float, str]]:
    """(max R-hat, min bulk ESS, min tail ESS) over every scalar of ``ds``, each with where it
    is: rank-normalised split R-hat and ArviZ's bulk and tail ESS."""
    ds = _judged(ds)
    return tuple(_MEASURES[statistic](ds) for statistic in ("rhat", "bulk", "tail"))


def _judged(ds: xr.Dataset) -> xr.Dataset:
    """The scalars whose mixing R-hat and ESS judge: a covariance matrix's entries once
    (:func:`_distinct_covariances`) and its correlations (:func:`_correlations`), and no
    variable that is the same in every draw (K=1's weight, 1: no mixing to judge; its ESS,
    the number of draws, named it the least mixed)."""
    ds = _correlations(_distinct_covariances(ds), ds.get("covariances"))
    fixed = [n for n, da in ds.data_vars.items() if da.size and np.ptp(da.values) == 0]
    return ds.drop_vars(fixed) if fixed and len(fixed) < len(ds.data_vars) else ds


# Each statistic the R-hat and ESS checks use: its extreme over every scalar and where it is.
_MEASURES = {
    "rhat": lambda ds: _extreme(_rank_rhat(ds), np.nanargmax),
    "bulk": lambda ds: _extreme(az.ess(ds, method="bulk"), np.nanargmin),
    "tail": lambda ds: _extreme(az.ess(ds, method="tail"), np.nanargmin),
}


def _distinct_covariances(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with each covariance matrix cut to its upper triangle (diagonal included).

    Entries (i, j) and (j, i) of a symmetric matrix are one scalar with one R-hat and one ESS;
    checking both doubled the cost of the largest block (D = 5: 25 entries, 15 distinct), and
    the checks run at every checkpoint of draws="auto". The elements keep their names:
    ``covariances[0, x0, x1]``.
    """
    da = ds.get("covariances")
    if da is None or not {"feature", "feature_bis"} <= set(da.dims):
        return ds
    rows, cols = np.triu_indices(da.sizes["feature"])
    names = [f"{a}, {b}" for a, b in zip(da["feature"].values[rows],
                                          da["feature_bis"].values[cols], strict=True)]
    upper = da.isel(feature=xr.DataArray(rows, dims="pair"),
                    feature_bis=xr.DataArray(cols, dims="pair"))
    upper = upper.drop_vars(["feature", "feature_bis"], errors="ignore")
    return ds.assign(covariances=upper.assign_coords(pair=names))


def with_correlations(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (a posterior) with ``corr``, the correlations the R-hat and ESS checks judge
    (:func:`_correlations`; unchanged without a full or tied matrix of 2+ features): what
    :meth:`bayesgmm.BayesResult.summary` shows, so that a verdict's scalar can be looked up."""
    return _correlations(ds, ds.get("covariances"))


def with_sds(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (a posterior) with ``sd``: the standard deviations as the covariance type has
    them (full and diag: per component and feature; tied: per feature; spherical: per
    component), named as the parameter tables name them (``sd[0, waiting]``), draw by draw
    (so that an sd's interval is the interval of the sd, not the root of a variance's)."""
    covariances = ds.get("covariances")
    if covariances is None:
        return ds
    if "feature_bis" in covariances.dims:  # full, tied: the diagonal
        variances = xr.apply_ufunc(np.diagonal, covariances,
                                   input_core_dims=[["feature", "feature_bis"]],
                                   output_core_dims=[["feature"]],
                                   kwargs={"axis1": -2, "axis2": -1})
        variances = variances.assign_coords(feature=covariances["feature"].values)
    else:  # diag, spherical: the variances themselves
        variances = covariances
    return ds.assign(sd=np.sqrt(variances))


def _correlations(ds: xr.Dataset, covariances: xr.DataArray | None) -> xr.Dataset:
    """``ds`` with ``corr``: the correlations of each full (or tied) covariance matrix, each
    pair once, named as the parameter tables name them (``corr[0, x0, x1]``). The tables
    show sds and correlations; an sd is a monotone function of its variance (the same
    rank-based R-hat and ESS), a correlation is not, and its ESS can be the lowest of all
    (QA: a table's corr with bulk ESS 5,929 under a verdict's "min bulk ESS 6,025")."""
    if covariances is None or not {"feature", "feature_bis"} <= set(covariances.dims) \
            or covariances.sizes["feature"] < 2:
        return ds
    rows, cols = np.triu_indices(covariances.sizes["feature"], 1)
    corr = sd_and_correlation(covariances.values)[1][..., rows, cols]
    names = [f"{a}, {b}" for a, b in zip(covariances["feature"].values[rows],
                                          covariances["feature_bis"].values[cols], strict=True)]
    dims = [d for d in covariances.dims if d not in ("feature", "feature_bis")]
    coords = {d: covariances[d].values for d in dims if d in covariances.coords}
    # its own pair dimension: the covariances' "pair" (diagonal included) is another one
    return ds.assign(corr=xr.DataArray(corr, dims=[*dims, "corr_pair"],
                                       coords={**coords, "corr_pair": names}))


def _rank_rhat(ds: xr.Dataset) -> xr.Dataset:
    """ArviZ's rank-normalised split R-hat of every scalar; NaN for a scalar that is constant
    over every draw of every chain (K+ when all draws have the same number of non-empty
    components; the weight of a one-component mixture).

    Such a scalar has no R-hat: ArviZ divides a zero between-chain variance by a zero
    within-chain variance, and NumPy's "invalid value encountered in scalar divide" warning
    would reach the user (``fit_sparse`` printed it) although the NaN is expected and
    :func:`_extreme` skips it. Only that floating-point warning is silenced, here only.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return az.rhat(ds, method="rank")


# An R-hat this little above its threshold can be the largest of many by chance: said so.
_NEAR_RHAT = 0.01
_NEAR_THRESHOLD = (" (just above the threshold and with few draws, the largest of many R-hats "
                   "can be there by chance: more draws tell)")
# The R-hat and ESS checks on the posterior: (statistic, check name, summary, problem).
_CONVERGENCE_CHECKS = (
    ("rhat", "max R-hat", "R-hat {value} {op} {threshold:g}",
     "R-hat check failed: the largest rank-normalised split R-hat is {value} ({where}), above "
     "the threshold {threshold:g}; the chains are not shown to have converged to one "
     # not "have not converged" as a fact (QA111: 1.012 over 200 scalars at 2 x 500 draws)
     "distribution" + "{near}."),
    ("bulk", "min bulk ESS", "min bulk ESS {value} {op} {threshold:,g}",
     "Bulk ESS check failed: the smallest bulk effective sample size is {value} ({where}), "
     "below the threshold {threshold:,g}; posterior means are too imprecise (the advice names "
     "the likely cause and its remedy: more draws only where the chains mix slowly)."),
    ("tail", "min tail ESS", "min tail ESS {value} {op} {threshold:,g}",
     "Tail ESS check failed: the smallest tail effective sample size is {value} ({where}), "
     "below the threshold {threshold:,g}; posterior intervals are too imprecise (the advice "
     "names the likely cause and its remedy: more draws only where the chains mix slowly)."),
)


def _statistic_checks(ds: xr.Dataset, table, rhat_max: float, ess_min: float) -> list[Check]:
    """One threshold check per entry of ``table`` (statistic, name, summary, problem) on
    ``ds`` (a covariance matrix's entries once: :func:`_distinct_covariances`): R-hat must not
    exceed ``rhat_max``, an ESS must reach ``ess_min``; constants left out (:func:`_judged`)."""
    ds = _judged(ds)
    checks = []
    for statistic, name, summary, problem in table:
        value, where = _MEASURES[statistic](ds)
        upper = statistic == "rhat"
        # chance only just above the threshold (QA132: said of an R-hat of 1.759 beside the
        # advice that more draws would not join the chains' modes)
        problem = problem.replace("{near}", _NEAR_THRESHOLD if upper and np.isfinite(value)
                                  and value <= rhat_max + _NEAR_RHAT else "")
        checks.append(_threshold_check(
            name, value, rhat_max if upper else ess_min, where, upper=upper, summary=summary,
            digits=3 if upper else 0, problem=problem))
    return checks


def _extreme(ds: xr.Dataset, arg) -> tuple[float, str]:
    """Largest (``np.nanargmax``) or smallest value over all variables, and where it is."""
    best, where = np.nan, "no finite value"
    for da in ds.data_vars.values():
        values = np.asarray(da.values, dtype=np.float64)
        if not np.any(np.isfinite(values)):
            continue
        flat = arg(values.ravel())
        value = float(values.ravel()[flat])
        if np.isnan(best) or arg(np.array([best, value])) == 1:
            best, where = value, _element_label(da, np.unravel_index(flat, values.shape))
    return best, where


def _element_label(
    da: xr.DataArray, index: tuple[int, ...], dims: Sequence[str] | None = None
) -> str:
    """``"means[1, x0]"``: the variable name and the coordinate labels of one element."""
    dims = da.dims if dims is None else dims
    if not index:
        return str(da.name)
    labels = [
        str(da[dim].values[i]) if dim in da.coords else str(i)
        for dim, i in zip(dims, index, strict=True)
    ]
    return f"{da.name}[{', '.join(labels)}]"


def _threshold_check(
    name, value, threshold, where, *, upper, summary, problem, digits
) -> Check:
    """``upper``: the value must not exceed the threshold; else it must reach it.

    ``summary`` and ``problem`` are ``str.format`` templates with fields value (formatted with
    at least ``digits`` decimals), threshold, op (summary) and where (problem: the parameter
    that attains the value).
    """
    passed = bool(np.isfinite(value) and (value <= threshold if upper else value >= threshold))
    op = ("<=" if passed else ">") if upper else (">=" if passed else "<")
    if not np.isfinite(value):
        text = (f"{name} check failed: it could not be computed for any parameter (all NaN; "
                "too few draws, or no parameter that varies).")
        # QA: "R-hat nan > 1.01; min E-BFMI nan < 0.3" after a run stopped at 1 draw
        shown = summary.split(" {value}")[0]
        shown = f"{shown} not computable"
    else:
        text = problem.format(value=_fmt(value, threshold, digits), threshold=threshold,
                              where=where)
        shown = summary.format(value=_fmt(value, threshold, digits), threshold=threshold,
                               op=op)
    return Check(
        name=name,
        value=float(value),
        threshold=float(threshold),
        passed=passed,
        summary=shown,
        problem=None if passed else text,
        where=str(where) if np.isfinite(value) else "",
    )


def _one_chain_rhat(check: Check) -> Check:
    """An R-hat check of a single chain (R-hat compares chains): failed, saying why."""
    what = check.name.replace("max ", "")
    return dataclasses.replace(
        check, passed=False, summary=f"{what} not computable (1 chain)",
        problem=f"{what} compares chains, and this run has one: it cannot show whether the "
                "chain has converged; sample 2 or more chains (the default is 4).")


def _shown_beside(value: float, threshold: float) -> str:
    """A check's value for the printed table: counts and ESS whole, the rest to four
    significant digits, and more decimals where that would print the threshold it failed
    or just passed (QA164 L3: a failed R-hat of 1.0104 printed as "1.01" beside 1.01)."""
    if not np.isfinite(value):
        return str(value)
    whole = abs(value) >= 10 or value == int(value)
    text = f"{value:,.0f}" if whole else f"{value:.4g}"
    if float(text.replace(",", "")) == threshold and value != threshold:
        text = _fmt(value, threshold, 0 if whole else 3)
        if float(text.replace(",", "")) == threshold:  # closer still: every digit (QA166)
            return repr(float(value))
    return text


def _fmt(value: float, threshold: float, digits: int) -> str:
    """``value`` with enough decimals not to print as the threshold it failed or just passed,
    and thousands separators (an ESS of 1,320, as the checkpoint lines write it)."""
    for d in range(digits, digits + 4):
        text = f"{value:,.{d}f}"
        if float(text.replace(",", "")) != threshold or value == threshold:
            return text
    return f"{value:,.{digits + 4}f}"


# --------------------------------------------------------------------------------------------
# Sampler statistics
# --------------------------------------------------------------------------------------------
def _sampler_checks(
    divergences, ebfmi, treedepth, chains, max_divergences, ebfmi_min, max_treedepth_fraction
) -> tuple[list[Check], list[str]]:
    """Checks on the sampler statistics that exist, and notes on those that do not."""
    checks, missing = [], []
    if divergences is None:
        missing.append(f"divergences: no {DIVERGING!r} in sample_stats")
    else:
        checks.append(_divergence_check(divergences, chains, max_divergences))
    if ebfmi is None:
        missing.append(f"E-BFMI: no {ENERGY!r} in sample_stats")
    else:
        checks.append(_ebfmi_check(ebfmi, chains, ebfmi_min))
    if np.isnan(treedepth):
        missing.append(f"tree depth: none of {list(MAX_TREEDEPTH_NAMES)} in sample_stats")
    else:
        checks.append(_treedepth_check(treedepth, max_treedepth_fraction))
    return checks, missing


def _divergences(stats) -> np.ndarray | None:
    # PyMC also writes "divergences", a running count for its progress bar: not used here.
    diverging = _stat(stats, (DIVERGING,))
    if diverging is None:
        return None
    return diverging.astype(bool).sum(dim=[d for d in diverging.dims if d != "chain"]).values


def _divergence_check(divergences, chains, max_divergences) -> Check:
    total = int(divergences.sum())
    passed = total <= max_divergences
    per_chain = ", ".join(f"{c}: {int(n)}" for c, n in zip(chains, divergences, strict=True))
    return Check(
        name="divergences",
        value=float(total),
        threshold=float(max_divergences),
        passed=passed,
        summary=f"{total} divergence{'' if total == 1 else 's'} "
                f"{'<=' if passed else '>'} {max_divergences:g}",
        problem=None
        if passed
        else (
            f"Divergence check failed: {total} divergent transition(s) (per chain {per_chain}), "
            f"more than the {max_divergences:g} allowed; the sampler could not follow the "
            "posterior's curvature, so the draws may be biased."
        ),
    )


def _ebfmi(stats) -> np.ndarray | None:
    if _stat(stats, (ENERGY,)) is None:
        return None
    return np.asarray(az.bfmi(stats[[ENERGY]])[ENERGY].values, dtype=np.float64).reshape(-1)


def _ebfmi_check(ebfmi, chains, ebfmi_min) -> Check:
    low = [(c, e) for c, e in zip(chains, ebfmi, strict=True) if not e >= ebfmi_min]
    value = float(np.min(ebfmi))
    passed = not low
    listed = ", ".join(f"chain {c}: {e:.2f}" if np.isfinite(e) else
                       f"chain {c}: not computable (fewer than 2 draws, or a constant energy)"
                       for c, e in low)
    return Check(
        name="min E-BFMI",
        value=value,
        threshold=float(ebfmi_min),
        passed=passed,
        summary=(f"min E-BFMI {_fmt(value, ebfmi_min, 2)} {'>=' if passed else '<'} "
                 f"{ebfmi_min:g}" if np.isfinite(value) else "E-BFMI not computable"),
        problem=None
        if passed
        else (
            f"E-BFMI check failed: {listed} below the threshold {ebfmi_min:g}; momentum "
            "resampling explores the energy distribution poorly (heavy tails or funnels)."
        ),
    )


def _treedepth_fraction(stats) -> float:
    hit = _stat(stats, MAX_TREEDEPTH_NAMES)
    return np.nan if hit is None else float(hit.astype(bool).mean())


def _treedepth_check(fraction, max_fraction) -> Check:
    passed = fraction <= max_fraction
    shown = _fmt(100 * fraction, 100 * max_fraction, 1)
    return Check(
        name="max tree depth fraction",
        value=fraction,
        threshold=float(max_fraction),
        passed=passed,
        # enough decimals not to read as its threshold (QA: "1.0% of draws > 1%" at 1.03%)
        summary=f"max tree depth hit in {shown}% of draws "
        f"{'<=' if passed else '>'} {100 * max_fraction:g}%",
        problem=None
        if passed
        else (
            f"Tree depth check failed: {shown}% of draws hit the maximum tree "
            f"depth, above the threshold {100 * max_fraction:g}%; trajectories were cut short, "
            "so sampling is inefficient (reparametrise or raise the maximum tree depth)."
        ),
    )


def _significant(value: float, threshold: float) -> str:
    """A p-value to 2 significant digits, or more where those would print as the threshold
    it is compared with (as :func:`_fmt` does for decimals)."""
    for digits in range(2, 6):
        text = format_number(value, digits)
        if text != format_number(threshold, digits) or value == threshold:
            return text
    return format_number(value, 6)


# --------------------------------------------------------------------------------------------
# Different mode
# --------------------------------------------------------------------------------------------
def _log_densities(stats, loglik) -> dict[str, xr.DataArray]:
    """Per-draw log densities, invariant under relabelling: they tell modes from permutations."""
    out = {}
    lp = _stat(stats, LOG_DENSITY_NAMES)
    if lp is not None:
        out[str(lp.name)] = lp
    if loglik is not None and loglik.data_vars:
        total = sum(
            da.sum(dim=[d for d in da.dims if d not in SAMPLE_DIMS])
            for da in loglik.data_vars.values()
        )
        out["log_likelihood"] = total
    return out


def _mode_shifts(post: xr.Dataset, density: dict[str, xr.DataArray]):
    """Per chain: the largest standardised distance of its means from the other chains'.

    For every scalar quantity, a chain's mean is compared with the median of the other chains'
    means (a chain in another mode cannot pull a median over to itself when at least two
    other chains agree), in units of the pooled within-chain sd (the total sd would be inflated
    by the very separation being measured).
    """
    values, labels = _stack_scalars(post, density)  # (chain, draw, P)
    means = values.mean(axis=1)
    sd = np.sqrt(values.var(axis=1, ddof=1).mean(axis=0))
    shifts = np.empty(values.shape[0])
    worst = []
    for c in range(values.shape[0]):
        centre = np.median(np.delete(means, c, axis=0), axis=0)
        diff = np.abs(means[c] - centre)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, diff / sd, np.where(diff > 0, np.inf, 0.0))
        z = np.nan_to_num(z, nan=0.0)  # NaN draws cannot show a shift; other checks see them
        shifts[c] = z.max()
        worst.append(labels[int(z.argmax())])
    return shifts, worst


def _stack_scalars(post, density):
    blocks, labels = [], []
    n_chains, n_draws = post.sizes["chain"], post.sizes["draw"]
    items = [*post.data_vars.items(), *density.items()]
    for name, da in items:
        da = da.transpose(*SAMPLE_DIMS, ...)
        blocks.append(np.asarray(da.values, dtype=np.float64).reshape(n_chains, n_draws, -1))
        extra = da.dims[2:]
        for index in np.ndindex(*(da.sizes[d] for d in extra)):
            labels.append(_element_label(da.rename(name), index, extra))
    return np.concatenate(blocks, axis=-1), labels


def _mode_check(shifts, worst, chains, density, mode_shift_max, maybe_unlabelled) -> Check:
    value = float(np.max(shifts))
    flagged = [i for i, s in enumerate(shifts) if s > mode_shift_max]
    passed = not flagged
    names = ", ".join(chains[i] for i in flagged)
    shown = (_fmt(value, mode_shift_max, 2) if value < 1e4  # chains that barely move:
             else "more than 10,000")
    summary = (
        f"chains agree (max mode shift {shown} sd <= {mode_shift_max:g})"
        if passed
        else f"chain(s) {names} in a different mode (shift {shown} sd > {mode_shift_max:g})"
        if len(flagged) < len(chains)
        else f"no majority of chains agrees (shift {shown} sd > {mode_shift_max:g})"
    )
    problem = None
    if not passed:
        details = "; ".join(
            f"chain {chains[i]} by {shifts[i]:.2f} sd, worst {worst[i]}" if shifts[i] < 1e4
            else f"chain {chains[i]} by more than 10,000 sd, worst {worst[i]}" for i in flagged
        )
        if len(flagged) < len(chains):
            problem = (
                f"Different-mode check failed: chain(s) {names} settled in a different mode "
                f"from the other chains (or have not mixed): their posterior means differ from "
                f"the median of the other chains' means by more than the threshold "
                f"{mode_shift_max:g} within-chain posterior sd ({details})"
                f"{_density_note(density, flagged, chains)}. Summaries pooled over these "
                # not "rerun with more tuning or drop the chain(s)": dropping chains by their
                # place is cherry-picking, and the advice names the cause (QA167 F6: beside a
                # collapse, which neither cures)
                "chains are not meaningful; the advice names the likely cause and its "
                "remedy.")
        else:  # no majority: which chain is the odd one is not known (always so with two)
            more = " with more chains (4 or more) and" if len(chains) < 4 else ""
            problem = (
                f"Different-mode check failed: no majority of the {len(chains)} chains agrees: "
                f"each one's posterior means differ from the median of the others' by more than "
                f"the threshold {mode_shift_max:g} within-chain posterior sd ({details})"
                f"{_density_note(density, flagged, chains)}. The chains sit in different modes "
                "or have not mixed, and no majority tells which are the odd ones: summaries "
                f"pooled over them are not meaningful; rerun{more} with more tuning.")
        if maybe_unlabelled:
            problem += (
                " If the posterior was not relabelled, this can also be label switching: run "
                "relabel_posterior first."
            )
    return Check(
        name="max chain mode shift (sd)",
        value=value,
        threshold=float(mode_shift_max),
        passed=passed,
        summary=summary,
        problem=problem,
    )


def _density_note(density, flagged, chains) -> str:
    """Mean log density of the flagged chains against the others: which mode fits better."""
    if not density:
        return ""
    name, da = next(iter(density.items()))
    per_chain = da.mean(dim=[d for d in da.dims if d != "chain"]).values
    flagged_text = ", ".join(f"{format_number(per_chain[i], 6)} (chain {chains[i]})"
                             for i in flagged)
    others = np.delete(per_chain, flagged)
    if others.size == 0:  # every chain disagrees with the rest: no majority to compare with
        return f"; mean {name}: {flagged_text}"
    return (f"; mean {name}: {flagged_text} vs {format_number(np.median(others), 6)} for the "
            "other chains")


# --------------------------------------------------------------------------------------------
# Rank uniformity (what the rank plot shows)
# --------------------------------------------------------------------------------------------
# Draws per chain the rank test sees at most, after thinning to roughly independent ones: its
# cost grows with their square (ArviZ's hypergeometric tests: 0.1 s per scalar at 1,000 draws
# per chain, 1.2 s at 4,000; unbounded, 22 s on a 4 x 15,000-draw Old Faithful fit), while
# 1,000 independent draws per chain already show any difference between chains that matters.
RANK_TEST_MAX_DRAWS = 1000


def rank_test_draws(posterior: xr.Dataset) -> xr.Dataset:
    """The draws the rank test and the rank plot use: thinned to roughly independent ones
    (ArviZ's ``thin``, by a factor each chain's own autocorrelation calls for), then evenly
    to at most :data:`RANK_TEST_MAX_DRAWS` per chain.

    The factor is ``ceil(1.5 * draws / ESS)``, ESS the smallest per-chain bulk or tail ESS
    (ArviZ's ``thin_factor`` takes the smaller of the two, as the test reads every quantile
    of the chains' ECDFs, not only their centres). Per chain, not ArviZ's default (all draws
    / the pooled ESS): chains in different places have a tiny pooled ESS, which thinned them
    to two draws each, and the test then had no power to see the very disagreement that made
    the ESS tiny (measured: a chain 3 sd off, p = 0.27 with two chains, 0.40 with four).
    Half as much again as ``draws / ESS`` because draws that are only roughly independent
    inflate the test: its Bonferroni levels (1e-3 and below) sit far in the tails, where a
    10% larger variance of a chain's ECDF doubles the rejection rate. NUTS draws of a mean
    keep a correlation of ~0.04 at lag 2 (while lag 1 is ~0 or negative) that the ESS hardly
    sees; measured on 276 converged easy NUTS fits (tail ESS ~0.75 x draws,
    ``benchmarks/bench_rank_test.py``), the rank check failed 2.5% of them thinned by
    ``draws / ESS`` (rounded, or its ceiling: a factor of 2), 0.7% by this rule (mostly 3),
    against its nominal 1%. The price is power on short runs: even independent draws are
    thinned by 2, so chains of fewer than ~40 draws fall under :data:`_MIN_RANK_DRAWS`
    (not testable) and two chains of fewer than ~200 are tested whole, not in halves.
    """
    import arviz_stats  # noqa: F401 (registers the .azstats accessor)

    # Per scalar, the median over chains of its per-chain ESS (one chain's noisy estimate
    # must not halve every chain's draws); the smallest over scalars and over bulk and tail
    # sets the factor.
    typical = [float(np.nanmin(v.median(dim="chain").values))
               for method in ("bulk", "tail")
               for v in posterior.azstats.ess(sample_dims=["draw"], method=method
                                              ).data_vars.values()
               if np.isfinite(v.values).any()]  # constant scalars have no ESS
    n_draws = posterior.sizes["draw"]
    factor = max(1, math.ceil(_THINNING * n_draws / max(min(typical), 1.0))) if typical else 1
    thinned = posterior.azstats.thin(sample_dims=["draw"], factor=factor)
    n = thinned.sizes["draw"]
    if n > RANK_TEST_MAX_DRAWS:
        thinned = thinned.isel(draw=slice(None, None, -(-n // RANK_TEST_MAX_DRAWS)))
    return thinned


# Draws per independent one the rank test keeps (see rank_test_draws).
_THINNING = 1.5


def rank_uniformity_pvalues(posterior: xr.Dataset, *, thinned: bool = False
                            ) -> dict[str, float]:
    """Multi-chain rank-uniformity p-value of every scalar, as ArviZ's rank plot computes it
    on the draws the report's rank plot shows.

    The draws are thinned to roughly independent ones (:func:`rank_test_draws`: by each
    chain's own ESS, then to at most :data:`RANK_TEST_MAX_DRAWS` per chain), replaced by their
    fractional ranks over all chains, and ArviZ's
    ``mchain_uniformity_test`` (Säilynoja et al. 2022: a hypergeometric test per rank,
    combined over ranks by the Cauchy combination) asks whether every chain has the same rank
    distribution — the ``p=...`` that ``arviz.plot_rank(..., thin=True)`` writes on each
    panel; its p-values as :func:`bayesgmm.rank_uniformity.mchain_uniformity_pvalues`
    computes them, the same numbers without ArviZ's per-scalar SciPy calls. The test
    assumes independent draws: unthinned, autocorrelated but converged chains get tiny
    p-values (measured: Old Faithful K=3, R-hat 1.00x, p = 4e-14 from 1000 draws per
    chain, p = 0.13 after thinning to 48); slow mixing is the ESS checks' business.

    With two chains each is split into its halves, as split R-hat does, and the four halves
    are tested: between two chains one ECDF is the mirror of the other and ArviZ's test has
    almost no power (measured, 500 independent draws per chain, 20-40 repeats: a chain 0.3 sd
    off rejected at 0.05 in 25% of repeats, p = 1.0 in most when the chains agree; split,
    97.5%, as four chains of 250; agreeing chains' median p 0.62). Only while each half keeps
    :data:`_MIN_HALF_DRAWS` draws after thinning: below, halves are too short to tell a chain
    off (10 draws a chain, 2 sd apart: rejected at 0.005 in 50% of repeats unsplit, 0%
    split), and the chains are tested whole.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables with ``chain`` and ``draw`` dimensions (at least 2 chains).
    thinned : bool, default False
        ``posterior`` is already :func:`rank_test_draws`' output (the rank plot's draws).

    Returns
    -------
    dict of str to float
        ``{"means[1, x]": p, ...}`` in the dataset's variable and element order; NaN for a
        scalar constant over every draw (the weight of a one-component mixture): every chain
        has the same distribution, a point mass, but its ranks are all tied and the test
        would report p = 0.
    """
    return _rank_pvalues(posterior, posterior if thinned else rank_test_draws(posterior))


def _rank_pvalues(posterior: xr.Dataset, tested: xr.Dataset) -> dict[str, float]:
    """:func:`rank_uniformity_pvalues` of ``posterior`` on its thinned draws ``tested``."""
    import arviz_stats  # noqa: F401 (registers the .azstats accessor)

    if tested.sizes["chain"] == 2 and tested.sizes["draw"] >= 2 * _MIN_HALF_DRAWS:
        tested = _split_chains(tested)
    ranks = tested.azstats.compute_ranks(dim=list(SAMPLE_DIMS), relative=True)
    out = {}
    for name, ranked in ranks.data_vars.items():
        # ArviZ's mchain_uniformity_test, its p-values computed once a table (stop 71: ~70 ms
        # a scalar in SciPy's hypergeometric calls; see bayesgmm.rank_uniformity)
        da = ranked.isel(chain=0, draw=0, drop=True)
        values = mchain_uniformity_pvalues(
            ranked.transpose(..., *SAMPLE_DIMS).to_numpy()).reshape(da.shape)
        draws = posterior[name]
        constant = (draws.max(dim=list(SAMPLE_DIMS)) == draws.min(dim=list(SAMPLE_DIMS)))
        constant = np.asarray(constant.transpose(*da.dims).values, dtype=bool)
        for index in np.ndindex(*values.shape):
            p = np.nan if constant[index] else float(values[index])
            out[_element_label(da.rename(name), index)] = p
    return out


# Draws each half of a chain keeps at least for the two-chain rank test to split the chains
# (a review measured the split's power falling away at 10-20 draws a chain).
_MIN_HALF_DRAWS = 50


def _split_chains(posterior: xr.Dataset) -> xr.Dataset:
    """Each chain's first and second halves as chains of their own (an odd last draw dropped)."""
    half = posterior.sizes["draw"] // 2
    first = posterior.isel(draw=slice(0, half))
    second = posterior.isel(draw=slice(half, 2 * half)).assign_coords(draw=first["draw"])
    split = xr.concat([first, second], dim="chain")
    return split.assign_coords(chain=np.arange(split.sizes["chain"]))


def rank_uniformity_check(posterior: xr.Dataset, *, rank_alpha: float | None = None
                          ) -> tuple[Check, dict[str, float]]:
    """:func:`diagnose`'s rank-uniformity check of every scalar of ``posterior``.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables with ``chain`` (at least 2) and ``draw`` dimensions.
    rank_alpha : float, optional
        Family-wise level (Bonferroni over the scalars); as for :func:`diagnose`.

    Returns
    -------
    check : Check
        Named "min rank p-value".
    pvalues : dict of str to float
        :func:`rank_uniformity_pvalues` of ``posterior``.
    """
    family = _rank_alpha(rank_alpha)
    tested = rank_test_draws(posterior)
    pvalues = _rank_pvalues(posterior, tested)
    draws = tested.sizes["draw"]
    # two chains tested whole (too short to split, see rank_uniformity_pvalues): the test
    # sees gross disagreement only, so a pass is said to be weak (QA: "min rank p 1" read as
    # strong evidence beside R-hat 1.03)
    weak = tested.sizes["chain"] == 2 and draws < 2 * _MIN_HALF_DRAWS
    return _rank_check(pvalues, family, draws, weak=weak), pvalues


def _rank_alpha(rank_alpha: float | None) -> float:
    if rank_alpha is None:
        from arviz_base import rcParams

        return 1.0 - float(rcParams["stats.envelope_prob"])
    if not 0 < rank_alpha < 1:
        raise ValueError(f"rank_alpha must be in (0, 1); got {rank_alpha!r}")
    return float(rank_alpha)


# Draws per chain the rank test needs after thinning to roughly independent ones, to have power:
# with fewer it cannot reject even chains whose draws do not overlap at all at its level
# (measured, every chain's draws above the previous chain's: 4 chains of 2 draws p = 0.20,
# of 4 draws 0.007, of 6 draws 1.5e-4; 2 chains of 6 draws 0.005), while from 20 such chains
# give p < 1e-9 and a chain 3 sd off is rejected (p < 1e-5, two chains of 20). A QA run with
# chains in different modes (R-hat 4.2) was thinned to 2 draws a chain and "passed" at p 0.2.
_MIN_RANK_DRAWS = 20


def _rank_check(pvalues: dict[str, float], family: float,
                draws: int | None = None, *, weak: bool = False) -> Check:
    """The rank check from its p-values; ``draws``: the draws per chain the test saw after
    thinning (fewer than :data:`_MIN_RANK_DRAWS`: not testable, so not passed); ``weak``:
    two whole chains, whose pass says so."""
    finite = {k: v for k, v in pvalues.items() if np.isfinite(v)}
    alpha = family / max(len(finite), 1)  # Bonferroni: family-wise level ``family``
    value = min(finite.values()) if finite else np.nan
    failing = sorted((p, k) for k, p in finite.items() if p < alpha)
    if finite and not failing and draws is not None and draws < _MIN_RANK_DRAWS:
        # No p-value the test can reach here would fail it: its "pass" means nothing.
        return Check(
            name="min rank p-value", value=float(value), threshold=alpha, passed=False,
            summary=(f"rank test not testable ("
                     f"{per_chain(draws).replace(' draw', ' roughly independent draw')} "
                     f"< {_MIN_RANK_DRAWS})"),
            problem=(
                f"Rank-uniformity check not testable: thinned to roughly independent draws "
                f"(by each chain's own ESS) the chains keep {draws} draw(s) each, fewer than "
                f"the {_MIN_RANK_DRAWS} the test needs to tell chains apart at its level; its "
                f"p-values (smallest {format_number(value, 2)}) say nothing, so the chains' "
                "agreement is not shown. The chains barely mix: see the R-hat and ESS checks."),
            where=min(finite, key=finite.get))
    passed = bool(finite) and not failing
    where = ", ".join(f"{k} p={format_number(p, 2)}" for p, k in failing[:6])
    more = f" and {len(failing) - 6} more" if len(failing) > 6 else ""
    return Check(
        name="min rank p-value",
        value=float(value),
        threshold=alpha,
        passed=passed,
        summary=(f"min rank p {_significant(value, alpha)} >= {format_number(alpha, 2)}"
                 + (f" (weak: 2 chains of {draws} roughly independent draws; 4 chains test "
                    "more)" if weak else "") if passed
                 else f"rank test p {_significant(value, alpha)} < {format_number(alpha, 2)} "
                 f"({failing[0][1]})" if failing
                 else "rank tests not computable"),
        problem=None if passed else (
            f"Rank-uniformity check failed: the chains' rank distributions differ for "
            f"{where}{more} (p below {format_number(alpha, 2)}, i.e. {family:g} over the "
            f"{len(finite)} "
            "tested scalars); the chains are not sampling the same distribution yet."
            if failing else "Rank-uniformity check failed: no p-value could be computed."
        ),
        where=min(finite, key=finite.get) if finite else "",
    )


# --------------------------------------------------------------------------------------------
# Label-invariant quantities
# --------------------------------------------------------------------------------------------
def label_invariant_quantities(
    posterior: xr.Dataset, log_likelihood: xr.Dataset | None = None,
    sample_weight: np.ndarray | None = None
) -> xr.Dataset:
    """Per-draw quantities that no relabelling can change.

    Parameters
    ----------
    posterior : xarray.Dataset
        With ``weights`` (chain, draw, component) and ``means`` (chain, draw, component,
        feature) where present.
    log_likelihood : xarray.Dataset, optional
        The pointwise log-likelihood group; its total per draw is included.
    sample_weight : ndarray (N,), optional
        A weighted fit's weights, by which the pointwise values are summed: the total is the
        fit's log-likelihood, whatever the weights' representation (QA134 M1: rows of weight
        0 moved the check's ESS from 623 to 1,468, draws unchanged).

    Returns
    -------
    xarray.Dataset
        ``log_likelihood`` (chain, draw): the total over observations; ``sorted_weights``
        (chain, draw, rank); in 1-D, ``sorted_means`` (chain, draw, rank). Empty when none
        of the inputs is there.
    """
    data = {}
    if log_likelihood is not None and log_likelihood.data_vars:
        total = sum(_weighted(da, sample_weight).sum(dim=[d for d in da.dims
                                                          if d not in SAMPLE_DIMS])
                    for da in log_likelihood.data_vars.values())
        data["log_likelihood"] = (SAMPLE_DIMS, total.transpose(*SAMPLE_DIMS).values)
    if "weights" in posterior.data_vars and posterior["weights"].ndim == 3:
        w = posterior["weights"].transpose(*SAMPLE_DIMS, ...).values
        if w.size and np.ptp(w) > 0:  # K=1 without noise: weight 1 in every draw, no check
            data["sorted_weights"] = (("chain", "draw", "rank"), np.sort(w, axis=-1))
    means = posterior.get("means")
    if means is not None and means.ndim == 4:
        m = means.transpose(*SAMPLE_DIMS, ...)
        if m.shape[-1] == 1:
            data["sorted_means"] = (("chain", "draw", "rank"), np.sort(m.values[..., 0], -1))
    coords = {d: posterior[d].values for d in SAMPLE_DIMS if d in posterior.coords}
    return xr.Dataset(data, coords=coords)


def _weighted(pointwise: xr.DataArray, sample_weight: np.ndarray | None) -> xr.DataArray:
    """Pointwise log-likelihoods times the rows' weights (the total group, which has no row
    dimension, is weighted where it is computed)."""
    rows = [d for d in pointwise.dims if d not in SAMPLE_DIMS]
    if sample_weight is None or len(rows) != 1 or pointwise.sizes[rows[0]] != len(
            sample_weight):
        return pointwise
    return pointwise * xr.DataArray(np.asarray(sample_weight, dtype=np.float64), dims=rows)


# The same checks on the label-invariant quantities (what relabelling cannot change).
_INVARIANT_CHECKS = (
    ("rhat", "max R-hat (label-invariant)", "label-invariant R-hat {value} {op} {threshold:g}",
     "Label-invariant R-hat check failed: {value} ({where}) is above {threshold:g}; "
     "quantities that relabelling cannot change disagree between chains, so the sampler "
     "itself has not converged (not only the labelling)."),
    ("bulk", "min bulk ESS (label-invariant)",
     "label-invariant bulk ESS {value} {op} {threshold:,g}",
     "Label-invariant ESS check failed: {value} ({where}) is below {threshold:,g}; the sampler "
     "mixes slowly over the posterior itself."),
)


# --------------------------------------------------------------------------------------------
# Advice: the cause the evidence points to
# --------------------------------------------------------------------------------------------
# A chain this many within-chain sds from the others sits in another mode, not a slow
# wander: an autocorrelated chain's mean strays by a few sds (QA68's two equally good modes of
# K=2 on three clusters: 21 sd apart).
_SEPARATE_MODES_SD = 4.0


def _advice(checks, post, density, chains, flagged, divergences, stats, ess_min,
            empty_weight, label_report=None, target_accept=None, auto_draws=True,
            observed=None, draws_capped=None, gap_note="", apart=(), scale=None,
            restart_note="", rival_note="", apart_note=""
            ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
    """(causes, advice, unreported components): one sentence of evidence and remedy per
    cause, in CAUSES order; the components whose summaries the advice says not to report.

    A collapsed component (a posterior sd, or the smallest sd of any direction, negligible
    next to the data's: :func:`collapsed_evidence`; ``observed``: the observed_data group,
    for the data's distinct values; ``scale``: :func:`diagnose`'s ``data_scale``) comes
    before the generic remedies: its divergences and slow mixing are its symptoms, which
    smaller steps or more draws do not cure, and their advice says so instead of asking for
    them.

    Label switching needs evidence of switching: when relabelling ran and permuted no draw at
    all (e.g. known labels pin the components), relabelled parameters that lag behind the
    label-invariant ones are slow mixing of the per-component parameters, not swaps.
    """
    failed = {c.name for c in checks if not c.passed}
    if len(chains) < 2:  # R-hat cannot be computed from one chain: no draws would cure that
        failed -= {"max R-hat", "max R-hat (label-invariant)"}
    found: dict[str, str] = {}
    collapsed = collapsed_evidence(post, observed, scale)
    frozen, diverging = _frozen_chains(post, chains, divergences, target_accept,
                                       collapsed=bool(collapsed), tune=_warmup_length(stats))
    if frozen and not (diverging or collapsed):  # draws that barely move say nothing about
        return ("stuck chain",), (f"stuck chain: {frozen}",), ()  # modes, K or mixing
    if frozen:  # stuck where it diverges, or on a collapse (QA: a chain frozen in a spike
        found["stuck chain"] = frozen  # was told to warm up longer): the other evidence counts
    # the chains beyond the fixed separate-modes distance too: a mode-shift threshold set
    # loose changes what fails, not what the draws show (QA126: a chain 4.6 sd off, under
    # mode_shift_max=5, was "uneven ranks ... the chains mix")
    better, worse, level, restarted = _mode_evidence(density, chains, [*flagged, *(
        c for c in apart if c not in flagged)], restart_note, _copies(observed), apart_note)

    # A chain "higher" than the start beside a collapsing component has gone further into
    # the collapse's spike, no better mode to restart from (QA: a 3-valued column)
    if better and not collapsed:
        found["poor start"] = better
    elif worse and "stuck chain" not in found:
        found["stuck chain"] = worse
    elif level and not collapsed and (
            # a chain clearly higher, from which EM found nothing better: no relabelling
            # changes a log density (QA135 M1: read as label switching, the restart unsaid)
            restarted
            or (apart and not _relabelled_alike(post, chains, apart))):
        found["separate modes"] = level
    if rival_note and not collapsed and not {"poor start", "stuck chain", "separate modes"} \
            & set(found):
        # every chain in one of two modes about as high (QA126: four symmetric groups, K = 2,
        # "OK ... chains agree" while the intervals held half of the posterior)
        found["separate modes"] = (
            f"{rival_note}. Every chain started at the start, so the draws describe one of two "
            "modes of similar height, and their intervals hold that one alone. Check K "
            "(bayesgmm select: a group without a component of its own makes such modes); if K "
            "is right, sample the other mode too and summarise each apart (in Python: "
            "fit_bayes(X, K, em=fit_em(X, K, init=<its parameters>)))")
    if collapsed:
        found["collapsed component"] = collapsed
    overfit = _k_too_large_evidence(post, empty_weight, observed, label_report, scale)
    unreported: tuple[int, ...] = ()
    if overfit:  # names bimodal components itself
        evidence, outliers, only_far, unreported = overfit
        heavy = _too_many_parameters(post, observed)
        if only_far and outliers:  # QA: "refit with a smaller K" for one mistyped row
            found["outliers"] = f"{evidence}{outliers}"
        elif heavy:
            found["too many parameters"] = f"{evidence} {heavy}{outliers}"
        else:
            # not only "K is wrong": with few rows or much overlap, the data cannot tell a
            # true component apart (small-sample QA: the true K=2 of 60 rows, called "K too
            # large" under full covariances, identified under spherical ones)
            simpler = _simpler_covariances(post)
            what = "K and the covariance type" if simpler else "K"
            found["K too large"] = (
                f"{evidence} Fewer components may describe the data as well, or these data "
                "(too few rows per component, or components overlapping too much) cannot tell "
                f"the components apart: compare {what}{simpler} by BIC (bayesgmm select) or "
                "LOO (bayesgmm select --bayes, or select_bayes), and refit with a smaller K"
                + (" or a simpler covariance type." if simpler else ".") + outliers)
    mixing = {"max R-hat", "min bulk ESS", "min tail ESS", "min rank p-value"} & failed
    # not beside a component the data do not locate at all: that cause covers its columns
    if gap_note and ("divergences" in failed or mixing) and not set(OVERFIT_CAUSES) & set(found):
        found[SPARSE_COLUMN] = (
            f"{gap_note} (the rest have a gap there): its sd and mean along such a column "
            "are mostly its prior's, a wide, funnel-shaped posterior that NUTS follows badly "
            "(divergences, slow mixing) and no number of draws narrows. Leave the column "
            "out, or fit the rows that have it separately; a higher target_accept or more "
            "draws will not help.")
    if "divergences" in failed and divergences is not None:
        found["divergences"] = _divergence_evidence(
            post, stats, chains, divergences, target_accept,
            collapsed=bool(collapsed) and bool(collapsed_in_chains(
                post, np.asarray(divergences) > 0, observed, scale)),
            sparse=SPARSE_COLUMN in found)
    invariant_failed = {"max R-hat (label-invariant)", "min bulk ESS (label-invariant)"} & failed
    if (mixing or invariant_failed) and not {"poor start", "stuck chain",
                                             "separate modes"} & set(found):
        no_swaps = label_report is not None and label_report.fraction_permuted == 0
        if (mixing - {"min rank p-value"} and not invariant_failed and not no_swaps
                and any(c.name.endswith("(label-invariant)") for c in checks)):
            one_d = "means" in post.data_vars and post["means"].shape[-1] == 1
            found["label switching"] = (
                "the relabelled parameters have not converged but the label-invariant "
                f"quantities (log-likelihood, sorted weights{', sorted means' if one_d else ''}"
                ") have: the chains agree on the "
                "fit but swap overlapping components, which relabelling cannot separate. "
                "Summaries of label-invariant quantities are trustworthy; per-component ones "
                "are not (fewer components may separate better)."
            )
        elif collapsed:
            found["slow mixing"] = (
                "the chains mix slowly because a component collapses (see collapsed "
                "component): more draws, or draws='auto' drawing on, will not cure that; "
                "fix the collapse first.")
        elif SPARSE_COLUMN in found:
            found["slow mixing"] = (
                "the chains mix slowly along the column a component barely observes (see "
                f"{SPARSE_COLUMN}): more draws, or draws='auto' drawing on, will not cure "
                "that; leave the column out first.")
        elif _too_few_draws(checks, post, ess_min):
            found["too few draws"] = _too_few_draws(checks, post, ess_min) + (
                _more_draws_evidence(checks, post, ess_min, auto_draws, draws_capped,
                                     rate_said=True))
        elif overfit_cause := next((c for c in OVERFIT_CAUSES if c in found), ""):
            # QA (ecologist): "ask for about 58686 draws" beside "K too large"
            worst = _worst_ess(checks)
            found["slow mixing"] = (
                "the chains mix slowly over the components the data do not locate (see "
                f"{overfit_cause}): a model the data identify is the cure, not more draws, "
                "which would only average over those components' wandering"
                + (f" (the smallest ESS is {worst:,.0f} from {post.sizes['draw']:,} draws in "
                   f"each of {post.sizes.get('chain', 1)} chain(s))." if worst else "."))
        elif mixing == {"min rank p-value"} and not invariant_failed:
            found["uneven ranks"] = _uneven_ranks_evidence(checks, auto_draws)
        else:
            found["slow mixing"] = _more_draws_evidence(checks, post, ess_min, auto_draws,
                                                        draws_capped)
            if "divergences" in found:  # more draws keep them (and draws="auto" stops there)
                found["slow mixing"] = (
                    "deal with the divergences first (see divergences): more draws keep "
                    "them, so the verdict cannot pass"
                    + (", and draws='auto' ends a run once they exceed what the thresholds "
                       "allow" if auto_draws else "") + "; then, " + found["slow mixing"])
    # Bimodal relabelled components, when nothing else explains them (a chain in another
    # mode or swaps make pooled draws bimodal too: those causes come first). Beside slow
    # mixing, only a bimodality the chains show on their own too: QA91, galaxies K=3 at 500
    # draws, a component hopping within the chains between the 33,000 km/s group and the main
    # body, its mean in the empty gap between them, was "identified", with the advice to draw
    # more.
    if not {*OVERFIT_CAUSES, "poor start", "stuck chain", "separate modes",
            "label switching"} & set(found):
        if {"slow mixing", "too few draws"} & set(found):
            # draws on another component's place too: a share that more draws do not shrink
            # (QA109: 13% at 500 draws, "identified" until draws="auto" said otherwise)
            mixed, unreported = _mixed_evidence(post, within_chains=True)
        else:
            mixed, unreported = _mixed_evidence(post, label_report)
        if mixed:
            # the others it takes rows from move with it (QA162 H1: "not affected", of a
            # weight 0.574 in its other place's draws against 0.636)
            shifts = shifted_with(post, unreported)
            others = ("are not affected; those it takes rows from move with it: "
                      + "; ".join(s.describe() for s in shifts.values())
                      + ", so report their summaries with that said" if shifts else
                      "and the other components are not affected (none of their weights "
                      "or means shifts by a posterior sd between its places)")
            found["mixed components"] = (
                f"{mixed}: such a "
                "component moves between places from draw to draw (a small group that "
                "the data barely tell apart from a larger one, say), so its posterior mean, "
                "sd and interval average over modes and describe none; do not report "
                "them as one estimate. The label-invariant quantities (log-likelihood, "
                f"predictive density) {others}; fewer components, or more data, may "
                "identify them.")
    said = {"separate modes", "stuck chain", "poor start"} & set(found)
    told = next((c for c in CAUSES if c in found and c in _MIXING_CAUSES), None)
    if apart_note and mixing and told and not said:
        # the chains started apart on purpose: say so where the failure is blamed on mixing
        # (QA156 M2: a chain that stayed at the second start was told to drop it, or draw more)
        found[told] += (f" The chains started apart ({apart_note}): one that stays where it "
                        "started sits in a mode the others do not reach (compare the chains' "
                        "means), which more draws join only if the chains cross.")
    causes = tuple(c for c in CAUSES if c in found)
    if not {*OVERFIT_CAUSES, "mixed components"} & set(causes):
        unreported = ()
    return causes, tuple(f"{c}: {found[c]}" for c in causes), unreported


# The causes that blame the mixing checks' failures on the sampling (which chains started
# apart can also explain).
_MIXING_CAUSES = ("label switching", "slow mixing", "uneven ranks", "too few draws")


# A chain whose draws repeat the previous one this often has not been sampling (every
# proposal rejected: a step size collapsed in too short a warm-up, say).
_FROZEN_FRACTION = 0.9


def _frozen_chains(post, chains, divergences=None, target_accept=None, *,
                   collapsed: bool = False, tune: int | None = None) -> tuple[str, bool]:
    """(evidence, diverging): evidence that some chains did not move, their draws mostly
    repeating the previous one (the same point, to the last bit), "" when every chain moved;
    ``diverging`` when most draws of every such chain diverged (``divergences``: per chain):
    then its step size was adapted and the posterior's curvature where the chain sits
    stopped it (QA: chain 0 of two overlapping clusters diverged on 80% of its draws, step
    size like the others', and the advice was a longer warm-up, already 1,000).

    ``collapsed``: a component collapsed (:func:`collapsed_evidence`); a chain frozen beside
    it sits in the collapse's spike, where no step size moves it (QA: iris with missing
    values, chain 3 100% repeated at a component sd of 1.4e-5, told to warm up longer after a
    3,000-draw warm-up). ``tune``: the run's warm-up, so that a longer one is asked for."""
    values, _ = _stack_scalars(post, {})  # (chain, draw, P)
    if values.shape[1] < 2:
        return "", False
    repeated = np.all(values[:, 1:] == values[:, :-1], axis=-1).mean(axis=1)  # per chain
    stuck = [(i, c, r) for i, (c, r) in enumerate(zip(chains, repeated, strict=True))
             if r >= _FROZEN_FRACTION]
    if not stuck:
        return "", False
    listed = ", ".join(f"chain {c} {100 * r:.0f}%" for _, c, r in stuck)
    named = ", ".join(str(c) for _, c, _ in stuck)
    n_draws = values.shape[1]
    if divergences is not None and len(divergences) == len(chains) and all(
            divergences[i] >= 0.5 * n_draws for i, _, _ in stuck):
        shares = ", ".join(f"chain {c} {100 * divergences[i] / n_draws:.0f}%"
                           for i, c, _ in stuck)
        # review: a run already retried at 0.95 (draws="auto") must not be told to do that
        steps = ("the run is repeated with smaller steps (target_accept=0.95; "
                 "--target-accept 0.95)" if target_accept is None or target_accept < 0.95
                 else f"the run, already at target_accept={target_accept:g}, is repeated "
                      "at 0.99 (--target-accept 0.99), the last step-size remedy")
        return (f"chain(s) {named} barely moved: their draws repeat the previous one ({listed} "
                f"of draws) and most of them diverged ({shares}): the sampler cannot follow "
                "the posterior's curvature where those chains sit (a weakly identified or "
                "nearly empty component, say; see the other causes), so a longer warm-up will "
                f"not help. Until the model changes, or {steps}, these draws say nothing "
                "about the posterior.", True)
    if collapsed:
        return (f"chain(s) {named} barely moved: their draws repeat the previous one ({listed} "
                "of draws) where a component collapses (see collapsed component): in its spike "
                "no step size moves the chain, so neither a longer warm-up nor smaller steps "
                "will help; these draws say nothing about the posterior until the model "
                "changes.", False)
    longer = ("tune=1000, the default, or more" if tune is None or tune <= 1000
              else f"more than this run's tune={tune:,}")
    return (f"chain(s) {named} barely moved: their draws repeat "
            f"the previous one ({listed} of draws), so every proposal was rejected, typically "
            "because the warm-up was too short to adapt the step size. Sample again with a "
            f"longer warm-up ({longer}); until then the draws say "
            "nothing about the posterior, K or the start.", False)


def _warmup_length(stats) -> int | None:
    """The warm-up draws per chain of the run behind ``stats`` (sample_stats), from the
    sampler's record in its attributes (nutpie: ``num_tune``; PyMC: ``tuning_steps``); None
    where neither says."""
    attrs = getattr(stats, "attrs", None) or {}
    try:
        recorded = json.loads(attrs.get("inference_library_settings", "{}"))
        tune = recorded.get("settings", {}).get("num_tune", attrs.get("tuning_steps"))
        return None if tune is None else int(tune)
    except (TypeError, ValueError, AttributeError):
        return None


# Fewer draws per chain than this say nothing about which mode a chain settled in.
_SETTLED_MIN_DRAWS = 20


def settled_log_density(values: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Per chain, the mean log density over the last half of its draws, and the within-chain
    sd there (pooled), from ``values`` (chain, draw); None with fewer than
    :data:`_SETTLED_MIN_DRAWS` draws.

    The last half, because a chain that moved to another mode partway through has settled
    there by then: over the whole run the move itself inflates its sd and hides the gap (QA:
    two chains climbed 112 nats above the poor start, and the pooled sd of ~40 called that
    "not clearly better"). The one rule of every which-mode comparison (re-anchoring, the
    advice)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < _SETTLED_MIN_DRAWS:
        return None
    tail = values[:, values.shape[1] // 2:]
    return tail.mean(axis=1), float(np.sqrt(tail.var(axis=1, ddof=1).mean()))


def _relabelled_alike(post, chains, apart) -> bool:
    """Whether each chain in ``apart`` holds the other chains' components in another order
    (its mean per component and feature within :data:`_SEPARATE_MODES_SD` within-chain sds of
    theirs under some matching): label switching that relabelling missed, one mode, not two
    (QA68 review: the chains' log density alone cannot tell them apart)."""
    from scipy.optimize import linear_sum_assignment

    if "means" not in post.data_vars or post["means"].ndim != 4:
        return False
    means = post["means"].transpose("chain", "draw", ...).values  # (chain, draw, K, D)
    per_chain = means.mean(axis=1)
    sd = np.sqrt(means.var(axis=1, ddof=1).mean(axis=0))  # (K, D), pooled within chains
    sd = np.where(sd > 0, sd, np.inf)
    for c in apart:
        i = list(chains).index(c)
        centre = np.median(np.delete(per_chain, i, axis=0), axis=0)  # (K, D)
        # cost[j, k]: chain i's component j against the others' component k, in sds
        cost = (np.abs(per_chain[i][:, None, :] - centre[None, :, :]) / sd[None]).max(axis=-1)
        rows, cols = linear_sum_assignment(cost)
        if cost[rows, cols].max() > _SEPARATE_MODES_SD:
            return False
    return True


def _uneven_ranks_evidence(checks, auto_draws: bool) -> str:
    """The rank test failed alone, R-hat and every ESS within their limits (QA68: "slow
    mixing, draw 4,000" beside a bulk ESS of 5,649 and R-hat 1.000 on easy data). "The
    chains mix" only where R-hat and ESS pass the default limits too, and "by chance" only
    for a p-value near the test's level (QA126: R-hat 1.49 and ESS 7 under loosened limits,
    p = 1.7e-16, were "the chains mix ... one fit in a hundred by chance")."""
    rank = next(c for c in checks if c.name == "min rank p-value")
    by_name = {c.name: c.value for c in checks}
    usual = _THRESHOLDS
    mixes = by_name.get("max R-hat", np.inf) <= usual.rhat_max and min(
        by_name.get("min bulk ESS", 0.0), by_name.get("min tail ESS", 0.0)) >= usual.ess_min
    chance = rank.value >= rank.threshold / 100
    return (f"only the rank test failed ({rank.summary}), while R-hat and every ESS hold"
            + (": the chains mix, but" if mixes else
               " the limits set (not the default ones): R-hat and ESS say little here, and")
            + f" one chain's draws sit unevenly in part of the range of {rank.where}. "
            + ("The test flags about one fit in a hundred by chance; a real difference "
               "between chains persists with more draws. Draw more to tell them apart"
               + (" (draws='auto', the default, tests again at each checkpoint)"
                  if auto_draws else " (e.g. twice as many, or draws='auto')") + "."
               if chance else
               "A p-value this far below the test's level is no chance event: the chains "
               "sample different parts of the posterior; look at the trace and rank plots "
               "of that parameter before drawing more."))


def _copies(observed) -> str:
    """How many of the observed rows look copied (:func:`copied_rows_fact`), "" where they
    do not, in a weighted fit, or with no observed data."""
    if observed is None or "x" not in observed:
        return ""
    return copied_rows_fact(observed["x"].values,
                            True if "sample_weight" in observed else None)


def _mode_evidence(density, chains, flagged, restart_note="", copies="", apart_note=""
                   ) -> tuple[str, str, str, bool]:
    """(better, worse, level, restarted): chains in another mode whose mean log density
    (where each settled: :func:`settled_log_density`) is clearly above / below the other chains', or
    about as high (a second mode of the posterior as probable as the first: QA68, K=2 on
    three clusters, two ways to pair them, called "slow mixing: draw 60,494"). Empty strings
    when there are none. ``restart_note``: EM restarted from a higher chain's draw found no
    better optimum (QA126: "poor start: restart EM from the better chain" where the run had
    done so, 0.22 nats better): the higher chain is then reported as a mode as good.
    ``apart_note``: which chains started where, when they did not all start at one point."""
    if not density or not flagged:
        return "", "", "", False
    name, da = next(iter(density.items()))
    da = da.transpose("chain", ...)
    settled = settled_log_density(da.values.reshape(da.sizes["chain"], -1))
    if settled is None:
        return "", "", "", False
    per_chain, spread = settled
    index = {c: i for i, c in enumerate(chains)}
    apart = list(flagged)  # the chains the mode-shift check put in another mode
    # "Clearly": more than one within-chain sd of the log density (and more than 1 nat).
    margin = max(spread, 1.0)
    others = [i for i, c in enumerate(chains) if c not in flagged]
    if not others:  # no majority agrees (2 chains against 2, say): the lowest are the base
        others = [i for i in range(len(chains)) if per_chain[i] - per_chain.min() <= margin]
        flagged = [c for i, c in enumerate(chains) if i not in others]
    base = float(np.median(per_chain[others]))
    better = [c for c in flagged if per_chain[index[c]] - base > margin]
    worse = [c for c in flagged if base - per_chain[index[c]] > margin]
    if better and restart_note:
        listed = ", ".join(f"chain {c} {per_chain[index[c]]:.1f}" for c in better)
        return "", "", (
            f"chain(s) {', '.join(better)} sit in a mode of higher mean {name} ({listed} vs "
            f"{base:.1f} for the other chains; within-chain sd {spread:.1f}), but EM "
            f"restarted from there found no better optimum ({restart_note}): the modes fit "
            "about as well (the higher one holds more posterior volume, not a better "
            "estimate), the chains do not cross between them, and restarting or more draws "
            "will not join them. Check K (bayesgmm select), and "
            + (f"the copies ({copies}: every copy makes the modes steeper; fit one row of "
               "each)" if copies else "copied rows or ties in the data")
            + "; if K is right, summarise each mode apart."), True
    if better:
        listed = ", ".join(f"chain {c} {per_chain[index[c]]:.1f}" for c in better)
        return (f"chain(s) {', '.join(better)} found a better mode: mean {name} {listed} vs "
                f"{base:.1f} for the other chains (within-chain sd {spread:.1f}). The start "
                "(the EM estimate) was a poorer mode: restart EM from the better chain's "
                "draws (fit_em(X, K, init=<that chain's best draw>)) and sample again, rather "
                "than drawing more or changing K."), "", "", False
    if worse:
        listed = ", ".join(f"chain {c} {per_chain[index[c]]:.1f}" for c in worse)
        return "", (
            f"chain(s) {', '.join(worse)} stayed in a worse mode: mean {name} {listed} vs "
            f"{base:.1f} for the other chains (within-chain sd {spread:.1f}). "
            + (f"The chains started apart ({apart_note}), and these did not reach the others' "
               "mode: the lower one is a mode of its own, which the other chains' draws leave "
               "out and these measure alone. Check K (bayesgmm select); if K is right, "
               "report the other chains' draws as the higher mode's summaries and say that "
               "a lower mode exists (or summarise each mode apart)" if apart_note else
               "All chains start at the same point, so either the start was a poorer mode "
               "the other chains left (restart EM from their best draw and sample again), or "
               "these chains wandered into it (drop them, or sample again with more tuning)")
            + "."), "", False
    listed = ", ".join(f"chain {c} {per_chain[index[c]]:.1f}" for c in chains)
    who = ("the chains sit in different modes, about equally high" if len(apart) == len(chains)
           else f"chain(s) {', '.join(map(str, apart))} sit in another mode about as high as "
                "the others'")
    started = f"; they started apart: {apart_note}" if apart_note else ""
    return "", "", (
        f"{who} (mean {name} {listed}; within-chain sd {spread:.1f}{started}): "
        "the posterior has separate modes of about equal weight, such as two ways to share "
        "the data's groups among K components, and the chains do not cross between them, so "
        "more draws will not join them. Check K (bayesgmm select; a group without a "
        "component of its own makes such modes); if K is right, summarise each mode apart "
        "(refit from each chain's draws: fit_em(X, K, init=<its best draw>))."), False


# A component whose mean's posterior sd is at least this fraction of the data's sd (in some
# feature) is not located by the data: a group of a handful of points or fewer.
_UNLOCATED_SD = 0.5


def _k_too_large_evidence(post, empty_weight, observed=None, label_report=None, scale=None
                          ) -> tuple[str, str, bool, tuple[int, ...]] | None:
    """(evidence, outlier note, only far, components named) that K is too large: nearly
    empty, unlocated or duplicated components, then which summaries not to report (the
    bimodal ones too); None without such evidence.
    The outlier note (a noise component's remedy) is given when a nearly empty component
    sits far from the data (:func:`_far_components`; not to a model with a noise component
    already); "only far" when those are the whole evidence. The remedy for the rest is the
    caller's (fewer components, or fewer parameters: :func:`_too_many_parameters`)."""
    if "weights" not in post.data_vars or post["weights"].ndim != 3:
        return None
    w = post["weights"].transpose(*SAMPLE_DIMS, ...).values
    K = w.shape[-1]
    flat_w = w.reshape(-1, K)
    median = np.median(flat_w, axis=0)
    upper = np.quantile(flat_w, 0.97, axis=0)
    far = _far_components(post, median, empty_weight, observed)
    # the nearly empty components, and the small broad ones that hold far rows
    named = [k for k in range(K) if median[k] < empty_weight or k in far]
    parts = [f"component {k} has posterior median weight {format_number(median[k], 3)} (97% "
             f"quantile {format_number(upper[k], 3)}){far.get(k, '')}" for k in named]
    n_empty = len(parts)
    if "means" in post.data_vars and post["means"].ndim == 4:
        m = post["means"].transpose(*SAMPLE_DIMS, ...).values  # (chain, draw, K, D)
        # Within-chain sd: a chain-to-chain disagreement (label switching) must not make two
        # distinct components look alike.
        sd = np.sqrt(m.var(axis=1, ddof=1).mean(axis=0))  # (K, D)
        for k, part in _unlocated_components(post, flat_w, median, sd, empty_weight,
                                             observed, scale):
            if k not in far:  # said above, with its far rows
                named.append(k)
                parts.append(part)
        flat = m.reshape(-1, *m.shape[2:])
        spread = _component_spreads(post, K, m.shape[-1])
        for j in range(K):
            for k in range(j + 1, K):
                if median[j] < empty_weight or median[k] < empty_weight or {j, k} & set(far):
                    continue
                # One cluster split in two gives two components of about its size; a broad
                # component under a tight one (a background, or a heavy tail) is no duplicate,
                # though its imprecise mean sits "close" to anything.
                if spread is not None and np.any(
                        np.maximum(spread[j], spread[k])
                        > _SPREAD_RATIO * np.minimum(spread[j], spread[k])):
                    continue
                # Duplicated: in most draws the two means sit within 2 (sd_j + sd_k) of each
                # other in every feature, i.e. both components describe the same cluster.
                close = np.all(np.abs(flat[:, j] - flat[:, k]) < sd[j] + sd[k], axis=-1)
                if close.mean() >= 0.5:
                    named += [j, k]
                    parts.append(
                        f"components {j} and {k} may be one cluster counted twice: in "
                        f"{100 * close.mean():.0f}% of the draws their means are within one "
                        "posterior sd (of each, summed) of each other"
                        f"{' in every feature' if flat.shape[-1] > 1 else ''} "
                        f"(posterior median weights {format_number(median[j], 3)} and "
                        f"{format_number(median[k], 3)})")
    if not parts:
        return None
    mixed, bimodal = _mixed_evidence(post, label_report)
    unreliable = (f" {mixed[0].upper()}{mixed[1:]}: their summaries average over different "
                  "clusters; do not report them." if mixed else "")
    # Said for a nearly empty component that sits far from the data only (QA: said beside
    # two clean clusters fitted with K=4), and not to a model that has a noise component (the
    # outliers' place) already.
    outliers = "" if "noise_weight" in post.data_vars or not far else _outlier_remedy(
        max(_rows_held(observed, median[k]) for k in far))
    only_far = n_empty == len(parts) == len(far)
    return ("; ".join(parts) + "." + unreliable + " The per-component summaries of the "
            "components named describe no single cluster (label-invariant quantities, such as "
            "the log-likelihood or the predictive density, still do).", outliers, only_far,
            tuple(sorted({*named, *bimodal})))




# A small far component expected to hold at most this many rows holds "a few far rows";
# above it, a small group may be among them. QA (50,000 rows): a component of 1,140 rows, 983
# of them a real 2% cluster widened by 150 outliers, was "a few far rows ... correct or leave
# out those rows", which would have deleted the rare population.
_FEW_ROWS = 20


def _rows_held(observed, weight: float) -> float:
    """The rows (frequency weights counted) a component of ``weight`` is expected to hold."""
    if observed is None:
        return 0.0
    weights = observed.get("sample_weight")
    n = (float(np.asarray(weights.values, dtype=np.float64).sum()) if weights is not None
         else float(observed.sizes.get("observation", 0)))
    return n * float(weight)


def _outlier_remedy(held: float) -> str:
    """The remedy beside small components over far rows, the larger of which is expected to
    hold ``held`` rows: a noise component for outliers; leaving rows out only when they are
    a few, never before a refit with the noise component when a small group may be there."""
    noise = ("A noise component (noise=True; --noise, or noise = true in a specification) "
             "takes outliers instead")
    if held <= _FEW_ROWS:
        return (" A small component that holds a few far rows describes outliers (a mistyped "
                f"value, say) or a group too small to estimate. {noise}, and then K need not "
                "shrink; or correct or leave out those rows.")
    return (f" A small component of about {format_count(round(held))} rows, broad or far, may be a "
            "small group of its own widened by outliers around it, or outliers alone. "
            f"{noise}, and a group among them then keeps a component of its own: refit with "
            "it before leaving any of those rows out.")


# A component of a median weight below this share whose sd is _BROAD times every larger
# component's (in some feature) is a background over scattered rows, not a cluster.
_SMALL_WEIGHT, _BROAD = 0.05, 3.0


def _far_components(post, median, empty_weight, observed) -> dict[int, str]:
    """Small components that hold far rows: component -> the clause that says so. Small:
    nearly empty (median weight below ``empty_weight``), or below :data:`_SMALL_WEIGHT` and
    :data:`_BROAD` times as wide as every component above it (QA: 4 outliers among 354 rows
    took a broad component of weight 0.017, and the advice was "refit with a smaller K").
    Far is beyond :data:`FAR_TAIL` of every other (populated) component (posterior medians of
    the means and covariances; a row's observed coordinates only); a small component holds
    far rows when its posterior median mean is far, or when it is expected to hold about as
    many rows as the data have far rows (at most 1.5 times, plus two): a broad component
    that covers them with its variance, its mean anywhere. QA: one mistyped mass (112 g among
    11-18 g) took a component of its own (weight 0.007, mean 24 g, variance wide) and the
    advice was "refit with a smaller K". Empty without the data at hand."""
    names = _feature_names(post, post.get("covariances"))
    if ("means" not in post.data_vars or post["means"].ndim != 4 or names is None
            or not np.any(median < _SMALL_WEIGHT)):  # no small component: no pass
        return {}
    data = _data_columns(observed, names)
    K, D = median.size, len(names)
    cov = _median_covariances(post, K, D)
    if data is None or cov is None:
        return {}
    small = median < empty_weight
    large = median >= _SMALL_WEIGHT
    if large.any():
        spread = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))  # (K, D)
        small |= ~large & np.any(spread > _BROAD * spread[large].max(axis=0), axis=1)
    populated = np.flatnonzero(~small)
    if not populated.size or not small.any():
        return {}
    m = post["means"].transpose(*SAMPLE_DIMS, ...).values
    means = np.median(m.reshape(-1, *m.shape[2:]), axis=0)  # (K, D)
    row_d2 = nearest_distance2(data, means[populated], cov[populated])
    from scipy import stats

    limit = stats.chi2.isf(FAR_TAIL, np.sum(~np.isnan(data), axis=1).clip(1))
    weights = observed.get("sample_weight")
    g = (np.ones(data.shape[0]) if weights is None
         else np.asarray(weights.values, dtype=np.float64))
    far_rows = np.flatnonzero((row_d2 > limit) & (g > 0))  # NaN distance: not known far
    n_rows, n_far = float(g.sum()), float(g[far_rows].sum())  # frequency weights count
    found = {}
    for k in np.flatnonzero(small):
        d2 = nearest_distance2(means[k][None], means[populated], cov[populated])[0]
        if d2 > stats.chi2.isf(FAR_TAIL, D):
            found[int(k)] = (" and sits far from the populated components (its mean is "
                             f"{np.sqrt(d2):.0f} sds from the nearest, in that component's "
                             "own spread)")
        elif far_rows.size and n_rows * median[k] <= 1.5 * n_far + 2:
            named = _far_rows_named(observed, far_rows, row_d2)
            found[int(k)] = (f", about {format_number(n_rows * median[k], 2)} of the "
                             f"{format_count(n_rows)} rows: about as many as the rows far from "
                             f"every populated component ({named})")
    return found


def _covariance_kind(cov) -> str | None:
    """The covariance type of a posterior's ``covariances`` variable, read from its dims (not
    its shape: tied (D, D) and diag (K, D) have the same shape when K == D; review)."""
    return None if cov is None else type_of_dims(cov.dims)


def _median_covariances(post, K: int, D: int) -> np.ndarray | None:
    """Each component's posterior median covariance in full form (K, D, D), or None."""
    from .covariance import shape, to_full

    kind = _covariance_kind(post.get("covariances"))
    if kind is None:
        return None
    cov = post["covariances"].transpose(*SAMPLE_DIMS, ...)
    c = np.median(cov.values.reshape(-1, *cov.shape[2:]), axis=0)
    return to_full(c, kind, K, D) if c.shape == shape(kind, K, D) else None


def _far_rows_named(observed, rows, d2, most: int = 5) -> str:
    """The far rows, by their names when the fit has them (else their numbers), each with
    its distance to the nearest populated component: the ``most`` farthest, then how many
    more."""
    labels = (observed["row_name"].values if "row_name" in observed.data_vars
              else observed["row"].values if "row" in observed.data_vars
              else np.arange(d2.size))
    rows = rows[np.argsort(-d2[rows], kind="stable")]  # the farthest first
    listed = [f"{labels[n]}: {np.sqrt(d2[n]):.0f} sds from the nearest" for n in rows[:most]]
    more = f"; {rows.size - most} more" if rows.size > most else ""
    return "; ".join(listed) + more


# The covariance type of a posterior, by the dims of its covariance draws beyond (chain, draw).
def _simpler_covariances(post) -> str:
    """The covariance types with fewer parameters than the posterior's own, as a clause
    (" (simpler: tied (3 covariance parameters in all), against 6 for full)"); "" when none
    has fewer or the type cannot be read (referee QA: a tied fit was told that diag and
    spherical, with more parameters, were simpler; with one feature diag and spherical are
    full)."""
    cov, means = post.get("covariances"), post.get("means")
    if cov is None or means is None or means.ndim != 4:
        return ""
    fitted = _covariance_kind(cov)  # QA80: a second reader of the dims, by their order
    if fitted is None:
        return ""
    K, D = means.shape[-2], means.shape[-1]
    count = {t: n_covariance_parameters(t, K, D) for t in COVARIANCE_TYPES}
    fewer = [t for t in COVARIANCE_TYPES if count[t] < count[fitted]]
    if not fewer:
        return ""
    listed = "; ".join(f"{t} ({covariance_words(t, D) + ': ' if D == 1 else ''}{count[t]} "
                       f"covariance parameter{'s' if count[t] != 1 else ''} in all)"
                       for t in fewer)
    named = covariance_words(fitted, D) if D == 1 else fitted
    return f" (simpler: {listed}, against {count[fitted]} for {named})"


def _too_many_parameters(post, observed) -> str:
    """Evidence that full covariances, not only K, are more than the data locate (sentences;
    "" when not): fewer rows per component (the rows' weights summed, over K) than each
    component's parameters, D means and D(D+1)/2 covariance entries. QA (high dimensions):
    N=30 rows of three well-separated groups in D=6, K=3 full (27 parameters per component
    for about 10 rows each): two components wandered and the advice said only "K too large",
    though K=3 was right. Per component on average, not per flagged component: K=5 on Old
    Faithful's 272 rows has spurious components of a few rows each, but 54 rows per component
    locate a 2-D full covariance. Only for full covariances: a tied one is estimated from
    every row, a diag or spherical component has at most 2D parameters."""
    cov = post.get("covariances")
    x = None if observed is None else observed.get("x")
    if cov is None or cov.ndim != 5 or x is None or x.ndim != 2:  # full: (.., K, D, D)
        return ""
    weights = observed.get("sample_weight")
    n_rows = float(weights.sum()) if weights is not None else float(x.shape[0])
    K, D = cov.shape[-3], cov.shape[-1]
    n_params = D + D * (D + 1) // 2
    if n_rows / K >= n_params:
        return ""
    return (f"The data hold {format_count(n_rows)} rows for {K} components, about "
            f"{format_number(n_rows / K, 3)} per "
            f"component, fewer than each component's {n_params} parameters ({D} means and "
            f"{D * (D + 1) // 2} covariance entries of a full covariance in {D} dimensions). "
            "So the covariances may be too flexible for the data, not only K too large: "
            f"compare covariance types and K by BIC (bayesgmm select -k 1-{K} --covariance "
            "full,tied,diag,spherical, or select_em), then K by LOO with the type chosen "
            "(bayesgmm select --bayes, or select_bayes(..., covariance_type='diag')), and "
            f"refit with the best; covariance_type='diag' has {2 * D} parameters per "
            f"component, 'spherical' {D + 1}, 'tied' shares one covariance among all.")


# Two components whose per-feature sds differ by more than this factor describe different
# structure (a cluster and a background, or a heavy-tailed cluster's core and tails), not one
# cluster counted twice, which gives two components of about its size. QA: one Student-t(3)
# cluster's K=2 components, concentric with sds 2.8-3.1 times apart, were "one cluster
# counted twice" at 3, with "fewer components" advice while K=1 was 55 elpd worse.
_SPREAD_RATIO = 2.0


def _component_spreads(post, K: int, D: int) -> np.ndarray | None:
    """Each component's posterior median sd per feature, (K, D), from the covariances
    (full (K, D, D), tied (D, D), diag (K, D), spherical (K,)); None without them."""
    if "covariances" not in post.data_vars:
        return None
    cov = post["covariances"].transpose(*SAMPLE_DIMS, ...)
    c = np.median(cov.values.reshape(-1, *cov.shape[2:]), axis=0)
    per_component = "component" in cov.dims  # tied: one matrix for all
    if c.ndim == 2 + per_component:  # full or tied: the diagonal
        c = np.diagonal(c, axis1=-2, axis2=-1)
    spread = np.sqrt(np.broadcast_to(c if c.ndim else c[None], (K, D) if not per_component
                                     else c.shape))
    if spread.ndim == 1:  # spherical: one variance per component
        spread = np.repeat(spread[:, None], D, axis=1)
    return spread if spread.shape == (K, D) else None


# A component whose posterior sd on a feature (or, for a full covariance, along any direction
# of the features scaled by the data's sds) is below this fraction of the data's sd has
# collapsed: it sits on rows that share a value (a column with few distinct values, tied
# values), where the likelihood grows without bound as its variance shrinks (QA: a 2-valued
# column 'sex' of sklearn's diabetes data, posterior sd ~1e-14 against the data's 0.5; the
# chains diverged, hit the tree depth and stayed in different modes). A tight cluster of real
# data keeps an sd far above this.
_COLLAPSED_RATIO = COLLAPSED_SD_RATIO  # EM's degenerate fits use the same rule
# Draws per chain the collapse check reads (evenly spaced): medians need few.
_COLLAPSE_DRAWS = 500
# A column with at most this many distinct values is named as such in the advice (more, on a
# grid, is a rounded measurement: the same count as :func:`bayesgmm.rounding.rounding_step`'s).
_FEW_VALUES = MIN_ROUNDED_VALUES


def collapsed_in_chains(post, chains, observed=None, scale=None) -> str:
    """:func:`collapsed_evidence` of the chains ``chains`` marks (a boolean per chain: the
    ones that diverged, say) alone, "" where none is marked: a divergence in a chain whose
    components all kept their spread is no collapse's (QA167 F2: one chain's collapse took
    the blame for another's divergence, and the retry was skipped)."""
    idx = np.flatnonzero(np.asarray(chains, dtype=bool))
    if not idx.size:
        return ""
    post = post.to_dataset() if hasattr(post, "to_dataset") else post
    return collapsed_evidence(post.isel(chain=idx), observed, scale)


def collapsed_evidence(post, observed=None, scale=None) -> str:
    """Evidence that a component collapsed (see :data:`_COLLAPSED_RATIO`): which component,
    on which feature (or direction), in which chains, and why the data allow it. The scale is
    the data's sd per feature (:func:`_data_scale`: ``scale`` as given, else from
    ``observed``, the observed_data group), else the sd the posterior's own mixture implies.
    Empty when no component collapsed."""
    cov = post.get("covariances")
    if cov is None or "component" not in cov.dims or cov.ndim < 3:
        return ""
    cov = cov.transpose(*SAMPLE_DIMS, "component", ...)
    step = max(1, cov.sizes["draw"] // _COLLAPSE_DRAWS)
    c = np.asarray(cov.values[:, ::step], dtype=np.float64)  # (C, S, K[, D[, D]])
    names = _feature_names(post, cov)
    if names is None:
        return ""
    D = len(names)
    var = (np.diagonal(c, axis1=-2, axis2=-1) if c.ndim == 5
           else c if c.ndim == 4 else np.repeat(c[..., None], D, axis=-1))
    if var.shape[-1] != D:
        return ""
    data = _data_columns(observed, names)
    scale = _data_scale(post, observed, names, step, scale)
    if scale is None:
        return ""
    chains = [str(x) for x in post["chain"].values]
    with np.errstate(invalid="ignore"):
        sd = np.sqrt(np.nanmedian(np.maximum(var, 0.0), axis=1))  # (C, K, D), per chain
    ratio = sd / scale
    means = post.get("means")
    mu = (np.asarray(means.transpose(*SAMPLE_DIMS, ...).values[:, ::step], dtype=np.float64)
          if means is not None and means.ndim == 4 else None)
    parts, features, remedies = [], [], []
    K = ratio.shape[1]
    for k in range(K):
        hit = [j for j in range(D) if np.any(ratio[:, k, j] < _COLLAPSED_RATIO)]
        for j in hit:
            where = np.flatnonzero(ratio[:, k, j] < _COLLAPSED_RATIO)
            worst = int(where[np.argmin(ratio[where, k, j])])
            at = ("" if mu is None else
                  f", at {names[j]} = {format_number(float(np.median(mu[worst, :, k, j])))}")
            parts.append(
                f"component {k} collapses onto feature {names[j]!r} (in chain(s) "
                f"{', '.join(chains[i] for i in where)}): its posterior sd there is "
                f"{format_number(sd[worst, k, j], 2)} (median in chain {chains[worst]}{at}) "
                f"against the data's sd {format_number(scale[j], 3)}, "
                f"{format_number(ratio[worst, k, j], 1)} of it")
            features.append(names[j])
        if not hit and c.ndim == 5:
            direction, remedy = _collapsed_direction(
                c[:, :, k], scale, names, chains, data,
                None if mu is None else mu[:, :, k])
            if direction:
                parts.append(f"component {k} collapses onto a lower-dimensional subspace: "
                             + direction)
                remedies.append(remedy)
    if not parts:
        return ""
    features = list(dict.fromkeys(features))
    parts += [why for why in (_ties(data, names.index(f), f) for f in features) if why]
    remedy = (_collapse_remedy(data, names, features) if features else
              "; ".join(dict.fromkeys(remedies)))
    return ("; ".join(parts) + ". A collapsed component sits on rows that share one value (or one "
            "linear relation), where the likelihood grows without bound as its variance "
            "shrinks: a continuous mixture cannot describe such a column, and the "
            "divergences, the tree-depth hits and chains that disagree follow from it. "
            + remedy + "; fewer components may also avoid it. More draws or a higher "
            "target_accept will not help.")


def _collapse_remedy(data, names, features) -> str:
    """What to do about the columns a component collapsed onto: a code (few distinct
    values) is left out, or its groups fitted apart; a rounded measurement (many distinct
    values, every gap a whole multiple of the smallest) has its rounding undone by jitter
    within half that step; other tied values (a spike, as in zero-inflated data) are left
    out, fitted apart or jittered. QA: integer data (27 distinct values in 600 rows, one
    column) were told to leave their only column out, or to fit each of its 27 values
    separately; review: a zero-inflated column was "rounded" to 0.0001."""
    coded, rounded = [], {}
    for f in features:
        step = None if data is None else rounding_step(data[:, names.index(f)])
        if step is not None:
            rounded[f] = step
        else:
            coded.append(f)
    said = []
    if coded:
        named = ", ".join(repr(f) for f in coded)
        said.append(f"Leave {named} out of the fit (or fit the rows of each of its tied values "
                    "separately), or add a little noise (jitter) to its tied values"
                    if len(coded) < len(names) else
                    f"Fit the rows of each tied value of {named} separately, or add a little "
                    "noise (jitter) to its tied values")
    for f, step in rounded.items():
        said.append(f"{f!r} looks rounded (its distinct values lie on a grid of step "
                    f"{step:.3g}): undo the rounding by adding uniform noise between "
                    f"-{step / 2:.3g} and +{step / 2:.3g} to its values (jitter), which a "
                    "continuous mixture can describe")
    if rounded:  # the cure, by name (QA89: every user had to write the jitter by hand)
        pairs = shlex.quote(",".join(f"{f}={step:g}" for f, step in rounded.items()))
        steps = ", ".join(f"{f!r}: {step:g}" for f, step in rounded.items())
        said.append(f"--dequantise {pairs} does that on the command line, "
                    f"bayesgmm.dequantise(X, {{{steps}}}) in Python")
    return "; ".join(said)


def _feature_names(post, cov) -> list[str] | None:
    """The features' names, from the covariances' or the means' coordinates."""
    for da in (cov, post.get("means")):
        if da is not None and "feature" in da.dims:
            return ([str(v) for v in da["feature"].values] if "feature" in da.coords
                    else [str(j) for j in range(da.sizes["feature"])])
    return None


def _data_columns(observed, names) -> np.ndarray | None:
    """The observed data (rows x features, in ``names``' order), or None."""
    x = None if observed is None else observed.get("x")
    if x is None or x.ndim != 2 or "feature" not in x.dims:
        return None
    values = np.asarray(x.transpose(..., "feature").values, dtype=np.float64)
    labels = [str(v) for v in x["feature"].values] if "feature" in x.coords else []
    if sorted(labels) == sorted(names):  # the features' order: the posterior's
        return values[:, [labels.index(n) for n in names]]
    return values if values.shape[1] == len(names) else None


def _data_scale(post, observed, names, step, given=None) -> np.ndarray | None:
    """The data's sd per feature that the collapse and location checks measure components
    against: ``given`` (the model's standardisation scale), else the observed rows' counted
    as often as their frequency weights say (:func:`bayesgmm.covariance.column_moments`;
    QA80: an unweighted sd over every row let one weight-0 row at 1e5 call two clusters of
    sd 1 collapsed), else the posterior mixture's (:func:`_mixture_sd`). None where it is
    not a positive finite number in every feature."""
    if given is not None and np.shape(given) == (len(names),):
        scale = np.asarray(given, dtype=np.float64)
    else:
        data = _data_columns(observed, names)
        weights = None if observed is None else observed.get("sample_weight")
        scale = (np.sqrt(column_moments(data, None if weights is None
                                        else np.asarray(weights.values, dtype=np.float64))[1])
                 if data is not None else _mixture_sd(post, step, len(names)))
    if scale is None or not np.all(np.isfinite(scale) & (scale > 0)):
        return None
    return scale


def _mixture_sd(post, step, D) -> np.ndarray | None:
    """Per feature, the sd of the mixture the posterior describes (median over draws): the
    scale when the data are not at hand."""
    if not {"weights", "means", "covariances"} <= set(post.data_vars):
        return None
    w = np.asarray(post["weights"].transpose(*SAMPLE_DIMS, ...).values[:, ::step], float)
    m = np.asarray(post["means"].transpose(*SAMPLE_DIMS, ...).values[:, ::step], float)
    c = np.asarray(post["covariances"].transpose(*SAMPLE_DIMS, ...).values[:, ::step], float)
    if w.ndim != 3 or m.ndim != 4 or m.shape[-1] != D:
        return None
    kind = _covariance_kind(post["covariances"])
    var = (np.diagonal(c, axis1=-2, axis2=-1) if has_correlations(kind) else c
           if kind == "diag" else np.repeat(c[..., None], D, axis=-1))
    if kind == "tied":  # one matrix for every component (review: read as diag when K == D)
        var = np.broadcast_to(var[:, :, None, :], m.shape)
    if var.shape != m.shape:
        return None
    w = w[..., None]
    centre = (w * m).sum(axis=2)
    total = (w * (var + m ** 2)).sum(axis=2) - centre ** 2
    return np.sqrt(np.maximum(np.median(total.reshape(-1, D), axis=0), 0.0))


def _ties(data, j, name) -> str:
    """Why a column lets a component collapse: few distinct values, or tied ones."""
    if data is None:
        return ("a column with few distinct values, or many tied ones, lets a component "
                "do this")
    column = data[:, j][np.isfinite(data[:, j])]
    values, counts = np.unique(column, return_counts=True)
    if len(values) <= _FEW_VALUES:
        return (f"{name!r} has only {len(values)} distinct value(s) in {len(column)} rows "
                "(tied values)")
    top = int(np.argmax(counts))
    if counts[top] > 1:
        return (f"{name!r} has tied values ({len(values)} distinct in {len(column)} rows; "
                f"{format_number(values[top])} in {counts[top]} rows)")
    return ""


def _collapsed_direction(c, scale, names, chains, data=None, mean=None) -> tuple[str, str]:
    """For one component's full covariance draws ``c`` (C, S, D, D): the directions (in the
    features scaled by the data's sds ``scale``) whose sd is negligible in some chain, as
    evidence, and the remedy; empty strings if there is none. With the data (N, D) and the
    component's mean (C, S, D): how many rows lie on the subspace, and whether the relation
    holds for those rows only (QA75: a cluster of 150 rows on a line in 3-D was told to
    leave "one of the related columns out (a derived or duplicated column?)": it satisfies
    two relations, the other rows none, and dropping a column moved the collapse to the
    next pair)."""
    z = c / np.outer(scale, scale)
    with np.errstate(invalid="ignore"):
        lam, vec = np.linalg.eigh(np.nan_to_num(z))  # ascending eigenvalues per draw
    sds = np.sqrt(np.maximum(lam, 0.0))  # (C, S, D)
    per_chain = np.median(sds[..., 0], axis=1)
    worst = int(np.argmin(per_chain))
    if not per_chain[worst] < _COLLAPSED_RATIO:
        return "", ""
    draw = int(np.argsort(sds[worst, :, 0])[sds.shape[1] // 2])  # the chain's median draw
    flat = int(np.sum(np.median(sds[worst], axis=0) < _COLLAPSED_RATIO))  # relations
    v = vec[worst, draw, :, 0]
    loaded = [names[j] for j in np.flatnonzero(np.abs(v) >= 0.3 * np.abs(v).max())]
    kept = len(names) - flat
    shape = {0: "a single point", 1: "a line", 2: "a plane"}.get(
        kept, f"a {kept}-dimensional subspace")
    ratio = (f"{format_number(per_chain[worst], 1)} of the data's" if per_chain[worst] > 0
             else "zero to rounding")  # QA75: "its sd is 0 of the data's"
    text = (f"along a combination of {', '.join(repr(n) for n in loaded)} its sd is "
            f"{ratio} (median in chain {chains[worst]}): its rows satisfy "
            + ("an exact linear relation among those features" if flat == 1 else
               f"{flat} exact linear relations, lying on {shape} of the {len(names)}-D space"))
    if data is None or mean is None:
        return text, _RELATED_COLUMNS
    low = vec[worst, draw, :, :flat]  # (D, flat): the flat directions
    rows = np.all(np.isfinite(data), axis=1)
    off = np.abs(((data[rows] - np.median(mean[worst], axis=0)) / scale) @ low).max(axis=1)
    on, complete = int(np.sum(off < 10 * _COLLAPSED_RATIO)), int(rows.sum())
    if on == 0 or on == complete:  # every row: the data's own relation, a derived column
        return text, _RELATED_COLUMNS
    # QA76/QA78: at 370 of 400 rows it had been called a derived column, the 30 unsaid
    text += (f"; {on} of the {complete} rows with every value observed lie on it, the "
             f"other {complete - on} do not")
    return text, ("The rows on it carry no measurement noise along the relation (a copied or "
                  "computed block, a calibration line?): leaving a column out helps only "
                  "where every row shares the relation; add the noise they lack (jitter them "
                  "by their measurement precision), or fit them apart from the rest")


_RELATED_COLUMNS = "Leave one of the related columns out (a derived or duplicated column?)"


# Sarle's bimodality coefficient above this (its value for a uniform distribution) suggests
# two modes; a normal distribution has 1/3.
_BIMODAL = 5 / 9
# A relabelled component whose mean lies nearer another component's posterior mean than its
# own in this share of the draws or more has no single identity either: a 90/10 split between
# two places, which Sarle's coefficient misses (QA: 30 points, K=2, 64% of the draws relabelled,
# 9.9% of component 0's on the other cluster, coefficient 0.547; on the hard panel's converged
# fits, and Old Faithful K=2, the largest share was 0.4%).
_STRAYING_SHARE = 0.05
# Components whose labels are exchanged, within one chain, in this share of its draws or more
# (the draws that relabelling moved, as a minority of the chain) swap places as the chain
# runs: NUTS moves continuously, so the posterior holds configurations where the two
# coincide, and no relabelling gives each one identity. QA: K=2 on 300 rows that BIC fits
# with one Gaussian, 22-66% of the draws relabelled, an OK verdict; in a sweep of two
# clusters at Mahalanobis distance 2-4 (N = 300, 1,000) swaps came exactly where BIC
# prefers K=1 (1.8-56% of the draws) and never where it prefers K=2 (0 draws).
_SWAP_SHARE = 0.01
# ... and in at least this many draws: at 100 draws a chain one relabelled draw was 1%.
_SWAP_DRAWS = 10
# Below this share of its draws nearer another component than its own, a component is apart
# from the others: its swaps were relabelled cleanly (1 - Phi(3.1): means 6.2 of its posterior
# sds from every other).
_APART_SHARE = 0.001


def _unlocated_components(post, flat_w, median, sd, empty_weight, observed, scale=None
                          ) -> list[tuple[int, str]]:
    """Components the data neither fill nor locate: the weight's 3% quantile below
    ``empty_weight`` (it may be empty) and the mean's posterior sd at least
    :data:`_UNLOCATED_SD` of the data's sd in some feature (a group of a handful of points
    would pin it far closer). QA: K=3 on two clusters, a third component of median weight
    0.031 (interval down to 0.0003) whose mean wandered over the whole data, got an OK with
    no note; a real small group (a few percent of hundreds of points) has a located mean."""
    names = _feature_names(post, post["means"])
    if names is None or sd.shape[-1] != len(names):
        return []
    scale = _data_scale(post, observed, names,
                        max(1, post.sizes["draw"] // _COLLAPSE_DRAWS), scale)
    if scale is None:
        return []
    low = np.quantile(flat_w, 0.03, axis=0)
    parts = []
    for k in range(sd.shape[0]):
        j = int(np.argmax(sd[k] / scale))
        if median[k] >= empty_weight and low[k] < empty_weight \
                and sd[k, j] >= _UNLOCATED_SD * scale[j]:
            parts.append((k, f"component {k} is neither filled nor located by the data: its "
                          f"weight's 3% quantile is {format_number(low[k], 2)} (median "
                          f"{format_number(median[k], 3)}) and its mean's posterior sd in "
                          f"{names[j]!r} is {format_number(sd[k, j], 3)}, "
                          f"{sd[k, j] / scale[j]:.2f} of the data's sd there"))
    return parts


def _mixed_evidence(post, label_report=None, within_chains: bool = False
                    ) -> tuple[str, tuple[int, ...]]:
    """(evidence, components): which relabelled components have no single identity, and
    the evidence (a clause; "" for none): a bimodal mean (:func:`_bimodal_components`; with
    ``within_chains``, only as the chains show it on their own), a share of draws on another
    component (:func:`_straying_components`), or labels that swap within the chains
    (:func:`_swapping_components`, from the relabelling's ``label_report``)."""
    bimodal = _bimodal_components(post, within_chains=within_chains)
    straying = _straying_components(post)
    # a component whose relabelled draws all sit on its own place, far from every other, was
    # relabelled cleanly however often its raw label moved (QA: an isolated cluster, mean
    # 5.9 +- 0.12 against others at 0.8 and 1.8, was "do not report" for an empty component
    # that visited it)
    apart = _apart_components(post)
    swapping = {k: v for k, v in _swapping_components(label_report).items() if k not in apart}
    parts = [_bimodal_clause(bimodal)] if bimodal else []
    parts += [f"{share:.0%} of component {k}'s relabelled draws lie nearer component {j}'s "
              f"posterior mean than its own, outside component {k}'s central 95%"
              for k, (j, share) in straying.items() if k not in bimodal]
    if swapping:
        named, (chain, share) = sorted(swapping), max(swapping.values(), key=lambda v: v[1])
        who = (f"component {named[0]} swaps labels with another" if len(named) == 1 else
               f"components {', '.join(map(str, named))} swap labels")
        parts.append(f"{who} as the chains run (in {format_number(100 * share, 2)}% of chain "
                     f"{chain}'s draws), so each one's draws mix the places the others hold")
    return "; ".join(parts), tuple(sorted({*bimodal, *straying, *swapping}))


def _bimodal_clause(bimodal: list[int]) -> str:
    """The evidence of :func:`_bimodal_components`, as a clause ("" for none)."""
    if not bimodal:
        return ""
    return (f"the relabelled draws of component(s) {', '.join(map(str, bimodal))} are "
            "bimodal (Sarle's bimodality coefficient above 5/9 for a mean)")


def _swapping_components(label_report) -> dict[int, tuple[str, float]]:
    """Components whose labels the relabelling exchanged within a chain: those a chain's
    draws assign otherwise than its most frequent permutation in at least
    :data:`_SWAP_SHARE` of its draws and :data:`_SWAP_DRAWS` draws; component -> (the chain
    where the share is largest, the share). A chain wholly in another labelling moved once,
    which says less; known labels' components are never permuted. Review: against the
    identity, a chain in (1, 2, 0) with 1 and 2 swapped in a third of its draws named one
    component, and a rotation in 40% none."""
    if label_report is None or label_report.permutations is None:
        return {}
    perms = np.asarray(label_report.permutations)  # (chain, draw, K)
    if perms.ndim != 3 or perms.shape[1] == 0 or perms.shape[-1] < 2:
        return {}
    found: dict[int, tuple[str, float]] = {}
    for c, chain in enumerate(perms):
        labellings, counts = np.unique(chain, axis=0, return_counts=True)
        moved = (chain != labellings[np.argmax(counts)]).sum(axis=0)  # (K,) draws
        share = moved / chain.shape[0]
        for k in np.flatnonzero((share >= _SWAP_SHARE) & (moved >= _SWAP_DRAWS)):
            if share[k] > found.get(int(k), ("", 0.0))[1]:
                found[int(k)] = (label_report.chains[c], float(share[k]))
    return found


def _apart_components(post) -> set[int]:
    """Components whose relabelled means lie nearer another component's posterior median
    than their own in under :data:`_APART_SHARE` of the draws (distances in the component's
    own posterior sd per feature, from the median absolute deviation): identified, whatever
    the raw labels did. Two components over one cluster (means a posterior sd or two apart)
    never are."""
    if "means" not in post.data_vars or post["means"].ndim != 4:
        return set()
    from scipy import stats

    m = post["means"].transpose(*SAMPLE_DIMS, ...).values
    flat = m.reshape(-1, *m.shape[2:])  # (S, K, D)
    centre = np.median(flat, axis=0)
    sd = stats.median_abs_deviation(flat, axis=0, scale="normal")
    sd = np.where(sd > 0, sd, np.finfo(float).tiny)
    apart = set()
    with np.errstate(all="ignore"):
        for k in range(flat.shape[1]):
            scaled = (flat[:, k, None, :] - centre[None]) / sd[k]  # (S, K, D)
            nearest = np.argmin((scaled ** 2).sum(axis=-1), axis=-1)
            if np.mean(nearest != k) < _APART_SHARE:
                apart.add(k)
    return apart


def _straying_components(post) -> dict[int, tuple[int, float]]:
    """Components whose relabelled mean sits on another component in at least
    ``_STRAYING_SHARE`` of the draws: component -> (the other component, the share). A draw
    of component k is on component j when it lies nearer j's posterior median than k's and
    outside k's own central 95% (squared distances in k's robust posterior sd per feature,
    from the median absolute deviation; the chi-square 95% point). Review: nearness alone also
    counted the tail of one mode, 1 - Phi(d / 2) of the draws for means d posterior sd apart;
    with the 95% bound, under 2.5%."""
    if "means" not in post.data_vars or post["means"].ndim != 4:
        return {}
    from scipy import stats

    m = post["means"].transpose(*SAMPLE_DIMS, ...).values
    flat = m.reshape(-1, *m.shape[2:])  # (S, K, D)
    # robust centre and scale: the draws on another component must not widen their own
    # component's "central 95%" until they fall inside it
    centre = np.median(flat, axis=0)
    sd = stats.median_abs_deviation(flat, axis=0, scale="normal")
    inside = stats.chi2.ppf(0.95, flat.shape[2])
    found = {}
    with np.errstate(all="ignore"):
        for k in range(flat.shape[1]):
            own = (((flat[:, k] - centre[k]) / sd[k]) ** 2).sum(axis=-1)
            shares = [np.mean((own > inside) & ((((flat[:, k] - centre[j]) / sd[k]) ** 2)
                                                .sum(axis=-1) < own)) if j != k else 0.0
                      for j in range(flat.shape[1])]
            j = int(np.argmax(shares))
            if shares[j] >= _STRAYING_SHARE:
                found[k] = (j, float(shares[j]))
    return found


def _bimodal_components(post, within_chains: bool = False) -> list[int]:
    """Components whose relabelled mean, in some feature, has a bimodal marginal over the
    draws (Sarle's coefficient (skew^2 + 1) / (excess kurtosis + 3(n-1)^2/((n-2)(n-3)))):
    relabelling could not give them one identity, so their summaries mix clusters.

    The coefficient rests on the draws' skewness and kurtosis, whose Monte Carlo error is
    large in heavy tails: a component is flagged only when the pooled coefficient exceeds
    5/9 by twice its Monte Carlo standard error, estimated from the chains' own coefficients
    (independent runs; sd / sqrt(chains)). QA: one posterior of 35 points was "mixed
    components" on 3 sampler seeds of 8 and OK on 5, its chains' coefficients 0.16-0.89.

    ``within_chains``: only where at least half the chains are bimodal on their own too (a
    component that hops between places within them), not where chains that each sit in one
    place make the pooled draws bimodal (a chain in another labelling: slow mixing)."""
    if "means" not in post.data_vars or post["means"].ndim != 4:
        return []
    m = post["means"].transpose(*SAMPLE_DIMS, ...).values  # (C, S, K, D)
    n_chains, n = m.shape[0], m.shape[0] * m.shape[1]
    if n < 4:
        return []
    bc = _bimodality(m.reshape(-1, *m.shape[2:]))
    mcse, per_chain = 0.0, None
    if n_chains > 1 and m.shape[1] >= 4:
        per_chain = np.stack([_bimodality(chain) for chain in m])
        mcse = np.nan_to_num(per_chain.std(axis=0, ddof=1)) / np.sqrt(n_chains)
    clear = np.nan_to_num(bc) - 2 * mcse > _BIMODAL
    if within_chains and n_chains > 1:  # one chain: its own coefficient is the pooled one
        clear &= (per_chain is not None
                  and (np.nan_to_num(per_chain) > _BIMODAL).mean(axis=0) >= 0.5)
    return [int(k) for k in np.flatnonzero(clear.any(axis=-1))]


def _told_apart(value: float, threshold: float) -> tuple[str, str]:
    """A value and its threshold to 4 significant digits, or more until they print apart
    where they differ (1.0104 against 1.01)."""
    for digits in range(4, 18):
        a, b = format_number(value, digits), format_number(threshold, digits)
        if a != b or value == threshold:
            break
    return a, b


def _bimodality(draws: np.ndarray) -> np.ndarray:
    """Sarle's bimodality coefficient of ``draws`` (S, ...) along the first axis."""
    from scipy import stats

    n = draws.shape[0]
    with np.errstate(all="ignore"):
        skew = stats.skew(draws, axis=0)
        kurt = stats.kurtosis(draws, axis=0)
        return (skew ** 2 + 1) / (kurt + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


# Divergent draws whose mean of some scalar lies this many posterior sd from the others' mean
# "concentrate" there; below it, no region is named. And never below what chance gives the
# largest of the scalars' differences (:func:`_chance_difference`): QA, one divergent draw
# was said to "concentrate at low covariances[2, b, c] (2.9 posterior sd apart)", about what
# the most extreme of 40 scalars of any one draw shows.
_CONCENTRATED = 0.5
_CHANCE_LEVEL = 0.05


def _chance_difference(n_diverging: int, n_draws: int, n_scalars: int) -> float:
    """The difference (in posterior sd) between the divergent draws' mean and the others'
    that the largest of ``n_scalars`` scalars exceeds with probability ``_CHANCE_LEVEL``
    when the divergences fall on draws at random (each difference ~ N(0, 1/m + 1/(S - m));
    Bonferroni over the scalars, two-sided; draws taken as independent)."""
    from scipy import stats

    spread = np.sqrt(1.0 / n_diverging + 1.0 / max(n_draws - n_diverging, 1))
    return float(stats.norm.isf(_CHANCE_LEVEL / (2 * max(n_scalars, 1))) * spread)


def _divergence_evidence(post, stats, chains, divergences, target_accept=None,
                         collapsed=False, sparse=False) -> str:
    per_chain = ", ".join(f"{c}: {int(n)}" for c, n in zip(chains, divergences, strict=True))
    diverging = _stat(stats, (DIVERGING,)).astype(bool).transpose(*SAMPLE_DIMS).values.ravel()
    where = ""
    if diverging.any() and not diverging.all():
        values, labels = _stack_scalars(post, {})
        flat = values.reshape(-1, values.shape[-1])
        sd = flat.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (flat[diverging].mean(axis=0) - flat[~diverging].mean(axis=0)) / sd
        z = np.nan_to_num(z)
        i = int(np.argmax(np.abs(z)))
        side = "high" if z[i] > 0 else "low"
        m, n_scalars = int(diverging.sum()), flat.shape[1]
        # a tenth of an sd is no place (QA: "concentrate ... 0.1 posterior sd apart"), nor is
        # what chance gives the largest of many scalars over a few divergent draws
        chance = _chance_difference(m, diverging.size, n_scalars)
        if abs(z[i]) >= max(_CONCENTRATED, chance):
            where = (f"; they concentrate at {side} {labels[i]} (divergent draws' mean "
                     f"{format_number(flat[diverging, i].mean())} vs "
                     f"{format_number(flat[~diverging, i].mean())} for the "
                     f"others, {abs(z[i]):.1f} posterior sd apart)")
        elif m == 1 or chance > _CONCENTRATED:
            what = "one divergent draw" if m == 1 else f"{m} divergent draws"
            where = (f"; {what} cannot show where they concentrate (the largest difference "
                     f"from the other draws, {labels[i]} by {abs(z[i]):.1f} posterior sd, is "
                     f"within what chance gives the largest of {n_scalars} scalars: "
                     f"{chance:.1f})")
        else:
            where = (f"; they lie where the other draws do (no scalar's mean differs by "
                     f"{_CONCENTRATED:g} posterior sd or more; the most, {labels[i]}, by "
                     f"{abs(z[i]):.1f})")
    # Once the target is already high, smaller steps rarely remove them: the geometry (a
    # nearly empty or degenerate component) is the likelier cause, so say that first.
    if collapsed:
        remedy = ("They come from the collapsed component (see collapsed component): its "
                  "variance shrinks towards zero, where no step size follows the density; "
                  "raising target_accept will not remove them, fixing the collapse will.")
    elif sparse:
        remedy = (f"They likely come from the column a component barely observes (see "
                  f"{SPARSE_COLUMN}): raising target_accept will not remove them, leaving "
                  "the column out will.")
    elif target_accept is not None and target_accept >= 0.95:
        remedy = (f"They persist at target_accept={target_accept:g} (already raised): a "
                  "component near a small weight or variance is nearly empty or degenerate, "
                  "so consider fewer components; target_accept=0.99 (--target-accept 0.99) "
                  "is the last step-size remedy.")
    else:
        now = "" if target_accept is None else f" (it was {target_accept:g})"
        remedy = (f"Raise target_accept{now} (e.g. 0.95: target_accept=0.95, or "
                  "--target-accept 0.95); if they persist near a small weight "
                  "or variance, that component is nearly empty or degenerate (consider fewer "
                  "components).")
    return (f"{int(divergences.sum())} divergent transition(s) (per chain {per_chain}){where}. "
            + remedy)


def _too_few_draws(checks, post, ess_min) -> str:
    """Why the run is too short for ``ess_min`` whatever its mixing (chains x draws under twice
    it, the draws mixing at ``_FAIR_ESS_RATE`` or faster), or "" when it is not. Under
    :data:`_JUDGED_DRAWS` draws per chain the estimates themselves are noise, and it says so
    (large-N QA: a run the time budget stopped at 5 draws per chain "mixed well", R-hat 2.6)."""
    n_chains, n_draws = post.sizes["chain"], post.sizes["draw"]
    total = n_chains * n_draws
    failed = {c.name for c in checks if not c.passed}
    if not {"min bulk ESS", "min tail ESS", "min bulk ESS (label-invariant)"} & failed:
        return ""  # the ESS sufficed: R-hat or the rank test failed, which length alone is not
    if n_draws < _JUDGED_DRAWS:
        return (f"{n_draws} draw(s) per chain are too few to judge the chains at all: R-hat "
                f"and ESS from fewer than {_JUDGED_DRAWS} draws a chain are noise, so neither "
                "convergence nor its failure is shown; ")
    by_name = {c.name: c.value for c in checks}
    ess = [by_name.get(n, np.nan) for n in ("min bulk ESS", "min tail ESS",
                                            "min bulk ESS (label-invariant)")]
    ess = [e for e in ess if np.isfinite(e) and e > 0]
    if not ess or total >= 2 * ess_min or min(ess) / total < _FAIR_ESS_RATE:
        return ""
    rate = f"the smallest ESS, {min(ess):,.0f}, is {min(ess) / total:.2f} per draw"
    if {"max R-hat", "max R-hat (label-invariant)"} & failed:  # then they do not mix well
        return (f"{n_chains} chains x {n_draws:,} draws = {total:,} draws are too few for an "
                f"ESS of {ess_min:,.0f} ({rate}), and R-hat fails too: longer chains show whether "
                "they agree; ")
    return (f"{n_chains} chains x {n_draws:,} draws = {total:,} draws are too few for an ESS "
            f"of {ess_min:,.0f}, though they mix well ({rate}); ")


# Fewer draws per chain than this: R-hat and ESS say nothing (see _too_few_draws).
_JUDGED_DRAWS = 50


def _worst_ess(checks) -> float | None:
    """The smallest bulk or tail ESS the checks measured (None: none measured)."""
    by_name = {c.name: c.value for c in checks}
    ess = [by_name.get(n, np.nan) for n in ("min bulk ESS", "min tail ESS",
                                            "min bulk ESS (label-invariant)")]
    ess = [e for e in ess if np.isfinite(e) and e > 0]
    return min(ess) if ess else None


def _more_draws_evidence(checks, post, ess_min, auto_draws=True, draws_capped=None,
                         rate_said=False) -> str:
    """The slow-mixing remedy: how many draws the measured ESS rate asks for, and how to ask for
    them (``rate_said``: the sentence before gave the ESS per draw); ``draws_capped``
    ("max_draws", "max_time"): this run already drew with draws="auto" to that cap, so the
    remedy is a larger cap, not draws="auto" (QA: "or leave draws='auto' (the default), which
    draws until every check holds" after such a run)."""
    n_draws = post.sizes["draw"]
    worst = _worst_ess(checks)
    if n_draws < _JUDGED_DRAWS:  # an ESS of a handful of draws sizes no run
        return ("draw a full run before judging the chains: draws=1000 (--draws 1000)"
                + ("; or draws='auto' (the default) with a time budget (max_time, --max-time) "
                   "that leaves room for draws after the warm-up" if auto_draws else "") + ".")
    if worst is None:
        return "the chains have not converged; draw more."
    rate = worst / n_draws  # ESS per draw per chain-set; ESS grows about linearly in draws
    needed = int(np.ceil(n_draws * max(ess_min / worst, 1.0)))
    # A fit judged again at stricter thresholds stopped at its own: say whose thresholds count.
    auto = ("; or leave draws='auto' (the default), which draws until every check holds at "
            "the thresholds the fit is given (refit with these: thresholds=, or the "
            "threshold flags such as --rhat-max)" if auto_draws and not draws_capped else
            "; this draws='auto' run ran out of time first: allow more (max_time, "
            "--max-time) as well" if auto_draws and draws_capped == "max_time" else "")
    if needed <= n_draws:
        # ESS is fine: R-hat or the rank test failed; four times the draws is the usual cure.
        needed = 4 * n_draws
        # "the smallest ESS": the smallest of bulk, tail and label-invariant (referee: 401,
        # the label-invariant one, read against the table's min bulk ESS of 619)
        return (f"R-hat or the rank test failed though the smallest ESS ({worst:,.0f}, of "
                "bulk, tail and label-invariant) is enough; the "
                f"chains need longer to agree: draw more (e.g. {needed} per chain: "
                f"{_draws_option(needed, auto_draws)}){auto}.")
    # An ESS estimated from few draws is itself noisy, and R-hat may need more than the ESS
    # does: half as much again, and at least twice the draws when R-hat failed too.
    rhat_failed = any(c.name.startswith("max R-hat") and not c.passed for c in checks)
    suggested = max(int(np.ceil(1.5 * needed)), 2 * n_draws if rhat_failed else 0)
    # over all chains together (auditor QA: "130 from 50 draws per chain" read as impossible)
    n_chains = post.sizes.get("chain", 1)
    margin = ("half as much again" if suggested == int(np.ceil(1.5 * needed)) else
              f"twice the {n_draws} drawn, as R-hat failed too")
    # the rate once (QA: "too few draws" stated the same ESS three times in one sentence)
    measured = "" if rate_said else (
        f"the smallest ESS is {worst:,.0f} from {n_draws:,} draws in each of {n_chains} "
        f"chain(s), all chains together (an ESS of {1000 * rate:,.0f} for every 1,000 draws "
        "per chain); ")
    return (f"{measured}at that rate ESS {ess_min:,.0f} needs about {needed:,} draws per "
            f"chain, and an ESS measured on few draws is rough, so ask for {margin}: about "
            f"{suggested:,} ({_draws_option(suggested, auto_draws)}){auto}.")


def _draws_option(n: int, auto_draws: bool = True) -> str:
    """How to ask for ``n`` draws per chain, in Python and on the command line (with
    draws="auto", the cap it would have to reach; without ``auto_draws``, a run that keeps
    a fixed number of draws: that number only)."""
    if not auto_draws:
        return f"draws={n} or --draws {n}; this run samples a fixed number of draws"
    return (f"draws={n} or --draws {n}; with draws='auto', max_draws={n} or "
            f"--max-draws {n}")


# --------------------------------------------------------------------------------------------
# Verdict
# --------------------------------------------------------------------------------------------
def _verdict(checks, not_checked, label_report) -> str:
    failed = [c.summary for c in checks if not c.passed]
    passed = [c.summary for c in checks if c.passed]
    if failed:
        text = "PROBLEMS: " + "; ".join(failed)
        if passed:
            text += " | passed: " + ", ".join(passed)
    else:
        text = "OK: " + ", ".join(passed)
    if label_report is not None:
        text += f" | {100 * label_report.fraction_permuted:.1f}% of draws relabelled"
    if not_checked:
        text += " | not checked: " + "; ".join(not_checked)
    return text
