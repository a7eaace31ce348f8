"""Sparse finite ("overfitted") mixtures: the posterior of the number of non-empty components.

:func:`fit_sparse` fits K_max components under a small Dirichlet concentration
(Malsiner-Walli, Frühwirth-Schnatter & Grün 2016) and :func:`summarise_sparse` reports K+
(:func:`count_nonempty`), the draws identified at its mode, and label-invariant diagnostics.

Where it sits: the selection layer; imports EM, K+ (:mod:`bayesgmm.selection.k_plus`) and the
sweep engine, and inside functions the fit (:mod:`bayesgmm.sampling`), relabelling,
diagnostics and the status lines (:mod:`bayesgmm.progress`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from .._keywords import check_keywords
from .._validation import check_int, seed_from
from .._warn import IN_PACKAGE, ignored, warn
from ..em import fit_em
from ..settings import Default, DiagnosticThresholds, SamplerSettings, check_thresholds, default
from .k_plus import (
    count_nonempty,  # noqa: F401 (its import path before k_plus)
    count_table,
    draw_assignments,
    prior_counts,
)
from .sweep import frequency_counts, root_entropy, sampler_settings, seed_or_recorded

if TYPE_CHECKING:  # heavy imports (arviz, pymc, matplotlib) stay out of the EM workers

    from ..diagnostics import Diagnostics
    from ..posterior import BayesResult
    from ..priors import Priors
    from ..relabel import LabelSwitchingReport

# P(K+ = K_max) above which K+'s posterior is cut off by K_max (it would put mass above).
_AT_K_MAX = 0.05
# The e0 the sampler advice suggests (10x Malsiner-Walli et al.'s), not repeated above it.
_LARGER_E0 = 0.1
# The prior's P(K+ = K_max) above which e0, not K_max, is why K+ sits at K_max: the prior
# alone then fills every component (no sparse prior; QA163 M2)
_PRIOR_FILLS = 0.5


@dataclass(frozen=True, eq=False)
class SparseMixture:
    """Result of :func:`fit_sparse`: an overfitted mixture and its number of non-empty components.

    Attributes
    ----------
    result : BayesResult
        The K_max-component fit. Its per-component summaries mix filled and empty components
        (an empty component's parameters are draws from the prior, and they switch labels
        freely), so use ``identified`` for component parameters.
    max_components : int
    concentration : float
        The Dirichlet concentration e0 of the weights.
    n_nonempty : ndarray (chain, draw), int
        K+ of every draw (see :func:`count_nonempty`).
    posterior_counts : pandas.Series
        P(K+ = k | data) for k = 1..K_max (index ``n_nonempty``).
    per_chain : pandas.DataFrame
        The same, chain by chain (rows: chain); chains that disagree have not mixed over K+.
    mode : int
        The posterior mode of K+, the estimated number of clusters.
    identified : xarray.Dataset
        Draws with K+ = ``mode``, reduced to their non-empty components (weights renormalised)
        and relabelled to an EM fit with ``mode`` components; dims (sample, component, ...).
    label_switching : LabelSwitchingReport
        Relabelling of ``identified`` (one pooled "chain").
    diagnostics : Diagnostics
        Sampler checks plus R-hat/ESS of label-invariant quantities only: K+ and the total
        log-likelihood (per-component R-hat is meaningless when components empty and refill).
    prior_counts : pandas.Series
        P(K+ = k) before the data, k = 1..K_max: what e0, K_max and N alone imply
        (:func:`~bayesgmm.selection.k_plus.prior_counts`), to read the posterior against.
    """

    result: BayesResult = field(repr=False)
    max_components: int
    concentration: float
    n_nonempty: np.ndarray = field(repr=False)
    posterior_counts: pd.Series
    per_chain: pd.DataFrame = field(repr=False)
    mode: int
    identified: xr.Dataset = field(repr=False)
    label_switching: LabelSwitchingReport = field(repr=False)
    diagnostics: Diagnostics = field(repr=False)
    prior_counts: pd.Series | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        # the dataclass repr embedded posterior_counts, a multi-line Series (QA); the answer,
        # its probability and whether to trust it fit on one line
        p_mode = float(self.posterior_counts.get(self.mode, float("nan")))
        checks = "passed" if self.diagnostics.ok else "failed"
        unreliable = "; unreliable (see .caveat)" if self.caveat else ""
        return (f"SparseMixture(K_max={self.max_components}, e0={self.concentration:g}: "
                f"posterior mode K+={self.mode}, P(K+={self.mode})={p_mode:.3f}; "
                f"convergence checks {checks}{unreliable}; print() for P(K+=k) and the "
                "verdict)")

    def __str__(self) -> str:
        probs = ", ".join(f"{k}: {p:.3f}" for k, p in self.posterior_counts.items() if p > 0)
        caveat = f" ({self.caveat})" if self.caveat else ""
        # the advice written out: the console has no advice section to "see" (QA)
        verdict = self.diagnostics.verdict.removesuffix(" (see advice)")
        advice = " ".join(a if a.endswith(".") else a + "." for a in self.diagnostics.advice)
        return (f"Sparse mixture, K_max={self.max_components}, Dirichlet e0="
                f"{self.concentration:g}: posterior mode K+={self.mode}{caveat}; P(K+=k) "
                f"{{{probs}}}{self._prior_line()}\n{verdict}"
                + (f"\nAdvice: {advice}" if advice else ""))

    def _prior_line(self) -> str:
        """The prior of K+ that e0 and K_max imply, to read the posterior against (QA118)."""
        if self.prior_counts is None:
            return ""
        shown = ", ".join(f"{k}: {p:.3f}" for k, p in self.prior_counts.items() if p >= 5e-4)
        mean = float(np.dot(self.prior_counts.index, self.prior_counts.to_numpy()))
        return f"\nPrior alone (e0, K_max and N, before the data): P(K+=k) {{{shown}}}, " \
               f"mean K+ {mean:.2f}"

    @property
    def caveat(self) -> str | None:
        """Why P(K+) is not to be read as the answer yet (None when nothing says so): K+
        reached K_max (the posterior of K+ is cut off there), the chains' own modes of K+
        differ, or the convergence checks failed; ``diagnostics.advice`` says what to do."""
        reasons = []
        at_max = float(self.posterior_counts.get(self.max_components, 0.0))
        if "collapsed component" in self.diagnostics.causes:  # spikes fill any K_max
            reasons.append("a component collapsed (onto tied values or a linear relation), "
                           "and K+ counts such spikes")
        elif "e0 not sparse" in self.diagnostics.causes:  # QA166: "cut off" blamed K_max
            reasons.append(f"K+ reached K_max = {self.max_components} in {at_max:.0%} of the "
                           f"draws, as the prior alone does at e0 = {self.concentration:g}")
        elif at_max > _AT_K_MAX:
            reasons.append(f"K+ reached K_max = {self.max_components} in {at_max:.0%} of the "
                           "draws, so its posterior is cut off there")
        modes = [int(m) for m in self.per_chain.idxmax(axis=1)]
        if len(set(modes)) > 1:
            reasons.append(f"the chains disagree on K+ (their modes: "
                           f"{', '.join(map(str, modes))})")
        if not self.diagnostics.ok:
            reasons.append("its convergence checks failed")
        if not reasons:
            return None
        return "unreliable: " + " and ".join(reasons) + " (see advice)"


def fit_sparse(
    X: Any,
    max_components: int = 10,
    *,
    concentration: float = 0.01,
    covariance_type: str = "full",
    priors: Priors | None = None,
    draws: int = Default(1000),
    tune: int = default("tune"),
    chains: int = default("chains"),
    sampler: str = default("sampler"),
    random_state: Any = None,
    progressbar: bool = default("progressbar"),
    settings: SamplerSettings | None = None,
    thresholds: DiagnosticThresholds | None = None,
    **fit_kwargs: Any,
) -> SparseMixture:
    """Sparse finite mixture: K_max components, Dirichlet(e0) weights with a small e0.

    With e0 well below 1 the prior pushes superfluous components' weights to zero, so the
    posterior of the number of *non-empty* components K+ estimates the number of clusters
    (Malsiner-Walli, Frühwirth-Schnatter & Grün 2016, who recommend K_max around 10 and
    e0 = 0.01; Rousseau & Mengersen 2011 for the asymptotics of emptying).

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
    max_components : int, default 10
        K_max, at least 2: more components than the clusters you expect (2-3 times as many),
        so that the superfluous ones can empty.
    concentration : float, default 0.01
        e0; overrides ``priors.weights_concentration``.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        As in :func:`bayesgmm.fit_bayes`.
    priors : Priors, optional
        The other priors (default ``Priors()``).
    draws, tune, chains, sampler, random_state, progressbar, **fit_kwargs
        Passed to :func:`bayesgmm.sampling.fit_bayes`, with its ``sample_weight``, ``labels``,
        ``missing``, ``noise`` and ``noise_volume``: K+ then counts the Gaussian components that
        the rows occupy with their missing values marginalised, labelled rows in their own
        components, rows drawn to the noise component occupying none, and a row of frequency
        weight w counting as w rows (whole numbers; each draws its own component).
    settings : SamplerSettings, optional
        All sampler settings in one object, instead of the sampling keywords (not both).
    thresholds : DiagnosticThresholds or dict of its fields, optional
        Passed to :func:`summarise_sparse`.

    Returns
    -------
    SparseMixture

    Raises
    ------
    ValueError
        ``max_components`` below 2, a ``concentration`` that is not positive, bad thresholds
        or keywords, or what :func:`bayesgmm.fit_bayes` refuses; all before any sampling.

    Notes
    -----
    NUTS finds small e0 hard, unlike the Gibbs sampler of Malsiner-Walli et al.: an empty
    component's log-weight has a long, flat tail (density ~ w^e0), and moving a component
    between empty and filled crosses steep ridges (a larger ``target_accept`` made galaxies
    worse). On six data sets every fit at e0 = 0.01 diverged, and at 0.1 too, less, with K+'s
    mode moved up on four (``benchmarks/README.md``). Read ``diagnostics`` before trusting
    ``posterior_counts``, and report e0 with the answer: the posterior of K+ depends on it.
    """
    from .. import progress
    from ..sampling import caller_says_checks, checks_said_by_caller, fit_bayes

    K = check_int(max_components, "max_components", None)  # QA: 0 read "n_components >= 1"
    if K < 2:  # one component is always the one non-empty one: K+ = 1 whatever the data
        raise ValueError(f"fit_sparse needs max_components >= 2 (an overfitted K, e.g. 2-3x "
                         f"the clusters you expect); got {K}")
    # before sampling (a dict of thresholds failed after it, QA119 H1; keywords: QA69)
    thresholds = check_thresholds(thresholds)
    check_keywords(fit_kwargs, fit_bayes, "fit_sparse", ("max_components", "concentration"))
    counts = frequency_counts(fit_kwargs.get("sample_weight"), "the number of non-empty "
                              "components")
    priors = _with_concentration(priors, concentration)
    n_points = _rows_of(X)
    if n_points:
        _warn_if_not_sparse(K, priors.weights_concentration,
                            int(np.sum(counts)) if counts is not None else n_points)
    ss = sampler_settings(settings, fit_kwargs, draws=draws, tune=tune, chains=chains,
                           sampler=sampler, progressbar=progressbar)
    if ss.metric == "auto":  # empty components' skewed posteriors: no Gaussian to whiten by
        ss = ss.replace(metric="diag")
    # one integer for the fit and K+ (code review: a Generator's two draws did not repeat P(K+)
    # from the recorded seed); without a seed, the one fit_bayes drew
    ours = not caller_says_checks()  # else our caller prints the summary (the command line)
    with checks_said_by_caller():  # the summary's verdict, of the occupied components, alone
        try:
            result = fit_bayes(X, K, covariance_type=covariance_type, priors=priors,
                               random_state=seed_from(random_state), settings=ss, **fit_kwargs)
        except ValueError as exc:  # "X has 5 point(s), fewer than n_components=10": ours is
            if str(exc).startswith("X has"):  # K_max (QA163 L4; rows dropped too, QA166)
                raise ValueError(str(exc).replace("n_components", "max_components")) from None
            raise
    sparse = summarise_sparse(result, thresholds=thresholds)  # seeded as the fit was
    if ours and ss.progressbar:  # QA137 M3: a PROBLEMS fit said nothing of its checks
        progress.say(f"checks of the sparse mixture's draws: {sparse.diagnostics.brief}: "
                     "print() the result (or its .diagnostics) for every check and what to do")
    return sparse


def _with_concentration(priors: Any, concentration: float) -> Priors:
    """``priors`` (default ``Priors()``) with e0 = ``concentration``: their own e0 replaced
    with a warning (QA163 L3: silently), anything but Priors refused as fit_bayes does (L2)."""
    from ..priors import Priors
    from ..sampling import _priors_hint

    if priors is not None and not isinstance(priors, Priors):
        raise ValueError(f"priors must be a bayesgmm.Priors; got {type(priors).__name__}"
                         + _priors_hint(priors))
    own = (priors or Priors()).weights_concentration
    if own not in (Priors().weights_concentration, concentration):
        warn(f"priors.weights_concentration = {own:g} is replaced by fit_sparse's "
             f"concentration = {concentration:g} (e0); pass concentration={own:g} to use it",
             UserWarning, skip_file_prefixes=IN_PACKAGE)
    try:
        return dataclasses.replace(priors or Priors(), weights_concentration=concentration)
    except ValueError as exc:  # QA: named the Priors field the user never passed
        raise ValueError(str(exc).replace("weights_concentration", "concentration")) from None


def _rows_of(X: Any) -> int | None:
    """X's rows as given, or None where X is no table (fit_bayes then says what it is)."""
    try:
        return int(np.shape(X)[0]) if np.ndim(X) in (1, 2) else None
    except (ValueError, TypeError):
        return None


def _warn_if_not_sparse(K: int, e0: float, n_rows: int) -> None:
    """Warn before sampling when e0 is no sparse prior for ``n_rows`` rows (frequency weights
    counted; no noise or labels): the prior alone puts K+ at K_max (QA163 M2)."""
    at_max = float(prior_counts(K, e0, n_rows).get(K, 0.0))
    if at_max > _PRIOR_FILLS:
        warn(f"concentration e0 = {e0:g} is no sparse prior for K_max = {K} and {n_rows:,} "
             f"rows: before any data it puts K+ = K_max with probability {at_max:.2f}, so "
             "K+'s posterior cannot tell how many clusters there are; a sparse prior has e0 "
             "well below 1 (default 0.01)", UserWarning, skip_file_prefixes=IN_PACKAGE)


def summarise_sparse(result: BayesResult, *, random_state: Any = None,
                     thresholds: DiagnosticThresholds | None = None) -> SparseMixture:
    """K+ posterior, identified posterior and diagnostics of an (overfitted) BayesResult.

    ``random_state`` (default: the fit's own seed, so a saved fit re-summarises to its numbers,
    QA86) seeds the draws of assignments; ``thresholds`` (default ones) hold the diagnostics."""
    from ..diagnostics import collapsed_evidence, diagnose

    random_state = seed_or_recorded(result, random_state)
    X = result.idata["observed_data"]["x"].to_numpy()
    # None: the rows as the fit saw them (with their weights and labels)
    counts, occupied, total_log_likelihood = draw_assignments(result, None, random_state)
    K = result.n_components
    table = count_table(counts, K)
    mode = int(table.loc["all"].idxmax())
    identified, report = _identify(result, X, counts, occupied, mode, random_state)
    invariant = _invariant_posterior(result, counts, total_log_likelihood)
    # a fixed number of draws (fit_sparse's): the advice asks for more, not draws="auto"
    settings = getattr(result, "sampler_settings", None)
    scale = getattr(getattr(result, "standardisation", None), "scale", None)  # QA84: model's
    diagnostics = diagnose(result.idata, var_names=tuple(invariant.data_vars),
                           posterior=invariant, data_scale=scale,
                           auto_draws=settings is not None and settings.adaptive,
                           label_invariant_checks=False,  # K+ and the log-likelihood are
                           **(check_thresholds(thresholds) or DiagnosticThresholds()).to_dict())
    # a spike on tied values is "filled" (QA: integers, K+ = K_max, "a larger K_max": more)
    collapsed = collapsed_evidence(result.idata["posterior"], result.idata["observed_data"], scale)
    prior = _prior_counts(result)
    found = _sparse_advice(diagnostics, float(table.loc["all"].get(K, 0.0)), K,
                           float(result.priors.weights_concentration), counts.shape[1],
                           collapsed=collapsed, prior_at_max=float(prior.get(K, 0.0)))
    if found:  # one advice per cause, as every Diagnostics has them, and the verdict's clause
        causes = tuple(found)
        verdict = diagnostics.verdict.partition(" | likely cause: ")[0].partition(" | note: ")[0]
        if diagnostics.ok:  # checks passed, the evidence says something: as diagnose says it
            verdict = "CAUTION: " + verdict.removeprefix("OK: ").removeprefix("CAUTION: ")
        verdict += (f" | {'note' if diagnostics.ok else 'likely cause'}: {', '.join(causes)} "
                    "(see advice)")
        diagnostics = dataclasses.replace(
            diagnostics, verdict=verdict, causes=causes, fixed_draws_advice=(),
            advice=tuple(f"{cause}: {text}" for cause, text in found.items()))
    return SparseMixture(
        result=result,
        max_components=K,
        concentration=float(result.priors.weights_concentration),
        n_nonempty=counts,
        posterior_counts=table.loc["all"].rename("probability"),
        per_chain=table.drop(index="all"),
        mode=mode,
        identified=identified,
        label_switching=report,
        diagnostics=diagnostics,
        prior_counts=prior,
    )


def _prior_counts(result: BayesResult) -> pd.Series:
    """The prior of K+ for the rows the fit's K+ counts (a row of frequency weight c as c
    rows), with its noise component and known labels (QA122)."""
    observed = result.idata["observed_data"]
    counts = (frequency_counts(observed["sample_weight"].to_numpy(), "K+")
              if "sample_weight" in observed.data_vars
              else np.ones(observed["x"].shape[0], dtype=np.int64))
    labels = observed["labels"].to_numpy() if "labels" in observed.data_vars else None
    known = np.zeros(len(counts), bool) if labels is None else (labels >= 0) & (counts > 0)
    return prior_counts(result.n_components, result.priors.weights_concentration,
                        int(counts.sum()), noise=bool(getattr(result, "noise", False)),
                        labelled_rows=int(counts[known].sum()),
                        labelled_components=0 if labels is None else
                        len(np.unique(labels[known])))


def _sparse_advice(diagnostics: Diagnostics, at_max: float, K: int, e0: float,
                   n_draws: int, collapsed: str = "", prior_at_max: float = 0.0
                   ) -> dict[str, str]:
    """Cause -> what to do, for a sparse fit, in its own terms, in place of the generic
    advice, which says "consider fewer components" (a sparse fit has extra ones by design)
    and "raise target_accept" (which made galaxies worse: fit_sparse's Notes; QA); empty
    when all is well. ``collapsed``: :func:`~bayesgmm.diagnostics.collapsed_evidence` of
    the fit, which comes first and stands for K_max too (its spikes fill any K_max).
    ``prior_at_max``: the prior's P(K+ = K_max); where it is most of the prior, e0 is the
    cause of K+ at K_max, not K_max (QA163 M2: e0 = 4 was told to double K_max)."""
    if collapsed:  # the divergences and slow mixing are its symptoms, as diagnose says
        return {"collapsed component": (
            f"{collapsed} In a sparse mixture a collapsed component counts as a filled one, "
            "so K+ counts such spikes as well as clusters; a larger K_max fills more of "
            "them.")}
    failed = {c.name for c in diagnostics.checks if not c.passed}
    advice = {}
    if at_max > _AT_K_MAX and prior_at_max > _PRIOR_FILLS:
        advice["e0 not sparse"] = (
            f"K+ reached K_max = {K} in {at_max:.0%} of the draws, as the prior alone does "
            f"(P(K+ = {K}) = {prior_at_max:.2f} before any data): at e0 = {e0:g} the prior "
            "fills every component, so K+ cannot tell how many clusters there are, and a "
            "larger K_max would be filled too; refit with a small e0 (the default 0.01: "
            "concentration=0.01, --concentration 0.01).")
    elif at_max > _AT_K_MAX:
        advice["K_max too small"] = (
            f"K+ reached K_max = {K} in {at_max:.0%} of the draws: not every extra component "
            "could empty, so the posterior of K+ is cut off at K_max; refit with a larger K_max "
            f"(2-3 times the clusters expected: max_components={2 * K}, --sparse {2 * K}).")
    sampler = sorted(failed & {"divergences", "min E-BFMI", "max tree depth fraction"})
    # named by what failed (QA: "likely cause: divergences" beside "passed: 0 divergences")
    sampler_cause = "divergences" if "divergences" in failed else "inefficient sampling"
    if sampler:
        # e0 = 0.1 left divergences on six of six data sets (benchmarks/README.md)
        larger = ("refit with a larger e0 (e.g. concentration=0.1, --concentration 0.1), "
                  "which samples more easily but empties fewer components (report e0 with K+) "
                  "and may still diverge; or " if e0 < _LARGER_E0 else "")
        advice[sampler_cause] = (
            f"the sampler struggled ({', '.join(sampler)} failed; "
            f"{diagnostics.n_divergences or 0:,} divergent transition(s))"
            + (f": NUTS finds near-empty components hard at e0 = {e0:g}, and a larger "
               "target_accept does not help there" if e0 < 1 else "")
            + f"; {larger}choose K by comparing fixed-K posteriors by "
            "PSIS-LOO (select_bayes, bayesgmm select --bayes), which have no sparse prior "
            "pushing components to empty.")
    mixing = sorted(failed - set(sampler))
    if mixing:
        on_k = [c.name for c in diagnostics.checks if c.name in mixing and c.where == "n_nonempty"]
        # R-hat or ranks say the chains disagree; ESS alone, autocorrelation (QA113)
        what = ("the chains disagree on how many components are filled" if any(
            "R-hat" in name or "rank" in name for name in on_k) else "K+ has too few effective "
            "draws (a value of K+ visited rarely has a small tail ESS)" if on_k
            else "the chains agree on K+ but not yet on the fit (its log-likelihood)")
        advice["slow mixing"] = (
            f"K+ and the log-likelihood have not converged ({', '.join(mixing)} failed): "
            f"{what}; sample longer (e.g. draws={4 * n_draws}, --draws {4 * n_draws})"
            + (f", and for the {sampler_cause} see above." if sampler else "."))
    return advice


def _identify(result: BayesResult, X: np.ndarray, counts: np.ndarray, occupied: np.ndarray,
              mode: int, random_state: Any):
    """Draws with K+ = mode, cut to their non-empty components, relabelled to EM with K = mode.

    Malsiner-Walli et al. cluster the non-empty components' draws (k-means in the point-process
    representation); matching each draw to a mode-component EM fit by the Hungarian algorithm
    is the same idea with this package's relabelling.
    """
    from ..relabel import LabelSwitchingReport, relabel_draws

    post = result.idata["posterior"].to_dataset()
    ct = result.covariance_type
    keep = (counts == mode).ravel()
    # The indices of the non-empty components, in their stored order, for every kept draw.
    order = np.argsort(~occupied.reshape(-1, occupied.shape[-1])[keep], axis=1, kind="stable")
    idx = order[:, :mode]
    rows = np.arange(idx.shape[0])[:, None]
    w = post["weights"].transpose("chain", "draw", ...).to_numpy()
    w = w.reshape(-1, w.shape[-1])[keep][rows, idx]
    w = w / w.sum(axis=1, keepdims=True)
    m = post["means"].transpose("chain", "draw", ...).to_numpy()
    m = m.reshape(-1, *m.shape[2:])[keep][rows, idx]
    cov_da = post["covariances"].transpose("chain", "draw", ...)
    cov = cov_da.to_numpy().reshape(-1, *cov_da.shape[2:])[keep]
    if ct != "tied":
        cov = cov[rows, idx]
    # The reference only names the components: MAP-EM (mclust's prior) keeps a small cluster
    # from collapsing, and its warnings are not the user's business here. It sees the rows as
    # the fit did (weights, known labels, noise), so labelled components keep their places.
    observed = result.idata["observed_data"].to_dataset()
    rows = {"noise": "noise_weight" in post.data_vars}
    if "sample_weight" in observed.data_vars:
        rows["sample_weight"] = observed["sample_weight"].to_numpy()
    if "labels" in observed.data_vars and observed["labels"].to_numpy().max() < mode:
        rows["labels"] = observed["labels"].to_numpy()
    with ignored():
        reference = fit_em(X, mode, covariance_type=ct, n_init=10, prior="default",
                           random_state=root_entropy(random_state), **rows)
    perms, w, m, cov = relabel_draws(w[None], m[None], cov[None], ct, reference.weights,
                                     reference.means, reference.covariances)
    report = LabelSwitchingReport.from_permutations(perms, ("pooled",))
    dims = {name: ("sample", *post[name].dims[2:]) for name in ("weights", "means",
                                                                 "covariances")}
    coords = {d: post.coords[d].values for d in post.dims
              if d not in ("chain", "draw", "component")}
    coords["component"] = np.arange(mode)
    identified = xr.Dataset(
        {"weights": (dims["weights"], w[0]), "means": (dims["means"], m[0]),
         "covariances": (dims["covariances"], cov[0])}, coords=coords)
    identified.attrs.update(n_nonempty=mode, fraction_of_draws=float(keep.mean()))
    return identified, report


def _invariant_posterior(result: BayesResult, counts: np.ndarray,
                         total_log_likelihood: np.ndarray) -> xr.Dataset:
    """Label-invariant quantities per draw: K+ and the total log-likelihood (the stored
    group's sum where the fit kept it, else ``total_log_likelihood``, from the pass that drew
    the assignments: a fit of over 50 million pointwise values keeps none). K+ the same in
    every draw has no R-hat or ESS (QA: "R-hat nan > 1.01" for P(K+ = 3) = 1): left out, the
    log-likelihood being there to check."""
    post = result.idata["posterior"]
    data = {"n_nonempty": (("chain", "draw"), counts.astype(np.float64))}
    if "log_likelihood" in result.idata.children:
        data["total_log_likelihood"] = result.idata["log_likelihood"]["x"].sum("observation")
    else:
        data["total_log_likelihood"] = (("chain", "draw"), total_log_likelihood)
    if np.ptp(counts) == 0:
        del data["n_nonempty"]
    return xr.Dataset(data, coords={"chain": post["chain"].values,
                                    "draw": post["draw"].values})
