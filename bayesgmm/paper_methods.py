"""A Methods paragraph for a paper, written from a fit's own record, and its references.

A reader of a statistical report is usually on the way to a paper, whose Methods section must say
what was fitted and how: the model and its priors, the sampler and its settings, how label switching
was handled, how convergence and the model's fit were checked and what the checks found, and the
software versions. :func:`methods_text` writes that paragraph from the result (its settings,
priors, label-switching report, observations record and diagnostics), so it cannot drift from
what ran; the reports print it in their last numbered section. An EM fit gets its own (maximum
likelihood or MAP, the restarts, the stopping rule, where it ended). Each method named comes with
its reference. It states facts: where the diagnostics failed, it says so, as the verdict does.

Where it sits: the surface layer, beside the report; imports ``formatting``,
``observation_record``, ``references`` and, for a posterior's predictive check,
``plots.diagnostics``: ``bayesgmm em`` never loads PyMC or matplotlib for it. Over 500 lines:
one paragraph, a function per sentence, each reading its part of the record (the start's alone
reads the search, the re-anchoring and the chains started apart): split, one concept in two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .covariance import has_correlations
from .formatting import format_count, format_number, listed, shown_as_str
from .observation_record import dequantised_phrase, observations_record
from .references import REFERENCES, alphabetical

__all__ = ["MethodsText", "methods_text"]

_COVARIANCES = {"full": "an unrestricted covariance matrix for each component",
                "tied": "one covariance matrix shared by all components",
                "diag": "a diagonal covariance matrix for each component (no correlations)",
                "spherical": "a single variance for each component (spherical covariances)"}


@dataclass(frozen=True)
class MethodsText:
    """A Methods paragraph and the references it cites.

    Attributes
    ----------
    paragraph : str
        Plain text, one paragraph; citations as (Author Year).
    references : tuple of str
        The full references of what the paragraph cites, in alphabetical order.
    """

    paragraph: str
    references: tuple[str, ...]

    def __str__(self) -> str:
        return self.paragraph + "\n\nReferences\n" + "\n".join(self.references)

    def __repr__(self) -> str:  # QA96: 6,649 characters on one line as a cell's value
        return (f"MethodsText({len(self.paragraph.split())} words, {len(self.references)} "
                "references; print() for the text)")

    _repr_pretty_ = shown_as_str


def methods_text(result: Any, diagnostics: Any = None, *,
                 predictive_check: Any = None) -> MethodsText:
    """A Methods paragraph for ``result``, written from its own record.

    Parameters
    ----------
    result : BayesResult or EMResult
    diagnostics : Diagnostics, optional
        For a posterior: ``result.diagnostics()`` where the caller has it already (the
        report); computed here otherwise.
    predictive_check : PredictiveCheck, optional
        For a posterior: :func:`bayesgmm.plots.predictive_check` of it, if the caller has it
        (the report); else computed with the report's seed (0): the same p-values as it.

    Returns
    -------
    MethodsText
        ``str()`` of it gives the paragraph, then the references.

    Examples
    --------
    >>> result = bayesgmm.fit_bayes(bayesgmm.load_old_faithful(), 2)  # doctest: +SKIP
    >>> print(bayesgmm.methods_text(result))  # doctest: +SKIP
    """
    cited: list[str] = []

    def cite(key: str, words: str) -> str:
        if key not in cited:
            cited.append(key)
        return words

    if hasattr(result, "posterior"):
        if diagnostics is None:
            diagnostics = result.diagnostics()
        if predictive_check is None:  # the figures' module: loaded for a posterior only
            from .plots.diagnostics import predictive_check as check_of

            predictive_check = check_of(result, random_state=0)
        sentences = [_model(result, cite), _priors(result, cite), _start(result, cite),
                     _sampler(result, cite), _relabelling(result, cite),
                     _convergence(result, diagnostics, cite), _model_check(
                         predictive_check, not diagnostics.ok, cite), _software(result, cite)]
    elif hasattr(result, "log_likelihood") and hasattr(result, "weights"):
        sentences = [_model(result, cite), _em(result, cite), _software(result, cite)]
    else:
        raise ValueError(f"a Methods paragraph needs a fit (BayesResult or EMResult); got "
                         f"{type(result).__name__}")
    return MethodsText(" ".join(s for s in sentences if s),
                       tuple(sorted((REFERENCES[k] for k in cited), key=alphabetical)))


def _model(result: Any, cite: Any) -> str:
    record = observations_record(result) or {}
    n = record.get("n_rows_fitted") or (
        result.idata["observed_data"].sizes["observation"] if hasattr(result, "idata")
        else result.n_samples)
    features = list(result.feature_names)
    D, K = len(features), result.n_components
    names, unit = ", ".join(map(str, features)), "row" if record.get("weighted") else "observation"
    if K == 1:  # one component: its own matrix, whatever the type's name (review)
        covariance = {"diag": "a diagonal covariance matrix", "spherical": "a single variance"
                      }.get(result.covariance_type, "an unrestricted covariance matrix")
        covariance = "a variance" if D == 1 else covariance
    elif D > 1:
        covariance = _COVARIANCES[result.covariance_type]
    else:  # one variable: a tied model shares its one variance (referee)
        covariance = ("one variance shared by all components" if result.covariance_type
                      == "tied" else "a variance for each component")
    posterior = hasattr(result, "posterior")
    text = (f"We fitted a {'Bayesian mixture' if posterior else 'mixture'} of K = {K} "
            f"Gaussian component{'s' if K != 1 else ''} with {covariance} to "
            f"{format_count(n)} {unit}{'s' if n != 1 else ''} of {D} "
            f"variable{'s' if D != 1 else ''} ({names})"
            + (", with the component assignments summed out of the likelihood"
               if posterior else ""))
    parts = []
    if record.get("n_rows_with_missing") and record.get("missing") == "marginalise":
        # rows where weights make observations of rows (QA165 L1: "8 observations" beside
        # "so 407 observations", the 8 rows standing for 15)
        many = record['n_rows_with_missing'] != 1
        parts.append(f"{format_count(record['n_rows_with_missing'])} {unit}{'s' * many} with "
                     "missing values contributed the marginal density of their observed variables "
                     "(values assumed missing at random)")
    if record.get("n_rows_dropped"):
        dropped = record["n_rows_dropped"]
        were = "row was" if dropped == 1 else "rows were"
        parts.append(f"{format_count(dropped)} {were} excluded ("
                     + ("a complete-case analysis: rows with any value missing"
                        if record.get("missing") == "drop" else "no observed value") + ")")
    if record.get("weighted"):
        parts.append("each row counted as often as its frequency weight (so "
                     f"{format_number(record.get('sum_of_weights', float('nan')))} observations)")
    if record.get("n_labelled"):
        many = record['n_labelled'] != 1
        parts.append(f"{format_count(record['n_labelled'])} {unit}{'s' * many} of known "
                     "component entered with their component fixed")
    if record.get("dequantised"):  # in the fit's own words (the report's data section's)
        parts.append(dequantised_phrase(record["dequantised"]))
    if result.noise:
        volume = record.get("noise_volume")
        region = ("the data's bounding box rescaled to volume "
                  f"{format_number(volume)}" if volume else "the data's bounding box")
        parts.append(cite("noise", "a uniform noise component (Banfield and Raftery 1993), "
                                   f"of constant density over {region}, was added for outliers"))
    return text + ("; " + "; ".join(parts) if parts else "") + "."


def _priors(result: Any, cite: Any) -> str:
    p = result.priors
    K, D = result.n_components, len(result.feature_names)
    alpha = format_number(p.weights_concentration)
    pieces = []
    if K > 1 or result.noise:
        weights = ("the K component weights and the noise weight" if result.noise
                   else "the weights")
        pieces.append(f"{weights} Dirichlet with every concentration {alpha}")
    per = " per variable" if D > 1 else ""
    pieces += [f"each component mean Normal with mean 0 and standard deviation "
               f"{format_number(p.means_sd)}{per}",
               f"each standard deviation LogNormal with median {format_number(p.sd_median)} "
               f"and log-scale standard deviation {format_number(p.sd_log_sd)}"]
    if D > 1 and has_correlations(result.covariance_type):
        pieces.append(cite("lkj", f"each correlation matrix LKJ with shape "
                                  f"{format_number(p.lkj_eta)} (Lewandowski et al. 2009)"))
    if ordered := bool((result.settings or {}).get("ordered_means")):  # QA118: dependent
        pieces.append("the component means restricted to increasing order (the same Normal "
                      "prior with the components sorted: their order statistics; QA122)")
    scale = ("divided by one common scale, the root mean square of the variables' sds"
             if result.covariance_type == "spherical" else "divided by its standard deviation")
    how = ["divisor N", "over its observed values"]
    if (observations_record(result) or {}).get("weighted"):
        how.append("rows counted by their frequency weights")
    if result.noise:
        how.append("without the rows isolated from all others, as the noise screen found "
                   "them")
    return (f"{'Priors' if ordered else 'Independent priors'} were placed on the parameters "
            f"of the model for the standardised data (each variable centred at its mean and "
            f"{scale}; "
            f"{', '.join(how)}; the priors so depend on the data's location and scale): "
            f"{'; '.join(pieces)}.")


def _start(result: Any, cite: Any) -> str:
    text = _start_point(result, cite)
    if (result.settings or {}).get("laplace_metric") is True:
        # the chains start off it, by how much the sampler's sentence says once (QA162 L5:
        # the start was described three times)
        text = text.replace(" started at the same point,", " started near the same point,", 1)
        text = text.replace("Starting every chain at one point", "Starting every chain near "
                            "one point", 1)
    return text


# How fit_map_start names a candidate found on a subsample (em._polish_on_all_rows)
_SEARCHED = re.compile(r"^(?P<family>.*), found on (?P<rows>[\d,]+ of [\d,]+) rows, "
                       r"(?P<polish>polished on all rows|not polished \((?P<why>.*)\))$")


def _searched_on(sources: Any) -> tuple[list[str], str]:
    """The candidates' init families, and a clause saying once that they were found on a
    subsample and which were polished on every row ("" when the search used every row)."""
    families, polished, rows = [], [], None
    for source in sources:
        match = _SEARCHED.match(source)
        families.append(match["family"] if match else source)
        if match:
            rows = match["rows"]
            polished.append(match["why"] is None)
    if rows is None:
        return families, ""
    rest = "the other" if len(polished) - sum(polished) == 1 else "the others"
    kept = ("each then polished by EM on every row" if all(polished) else
            f"the {sum(polished)} that were distinct solutions within reach of the best "
            f"then polished by EM on every row, {rest} scored there")
    return families, (f"; the restarts ran on a random {rows} rows, {kept}")


def _start_point(result: Any, cite: Any) -> str:
    start = (result.settings or {}).get("start") or {}
    em = cite("em", "EM (Dempster et al. 1977)")
    fit = result.em
    if start.get("given") or not start.get("candidates"):
        objective = ("maximum a posteriori under mclust's default conjugate prior (Fraley "
                     "and Raftery 2007)" if fit.prior is not None else "maximum likelihood")
        if fit.prior is not None:
            cite("map_em", "")
        who = "supplied by the analyst" if start.get("given") else "of"
        return (f"Every chain started at the same point, the {objective} estimate of {em}"
                + (f" {who}" if start.get("given") else "") + ".")
    cite("map_em", "")
    cite("kmeans++", "")
    sources, searched = _searched_on(str(c.get("source", "")) for c in start["candidates"])
    chosen = {"model log density": "the highest log posterior density of the sampled model",
              "EM log posterior": "the highest value of EM's objective (the log posterior "
                                  "under the conjugate prior)"}.get(
        start.get("chosen_by"), "the highest log posterior density")
    second = start.get("second_start") or {}
    apart = second.get("chains") or []
    at_start = [c for c in range(int(result.settings.get("chains", 0))) if c not in apart]
    text = (("Every chain started at the same point" if not apart or not at_start else
             f"Chains {listed(at_start)} started at the same point")
            + f", a posterior mode found by {em} under "
            "mclust's default conjugate prior (Fraley and Raftery 2007), an approximation to "
            f"the model's priors used only to find the start: of {len(sources)} candidates "
            f"({'; '.join(sources)}; k-means++ seeds: Arthur and Vassilvitskii 2007{searched}"
            f"), the one with {chosen} was taken")
    picked = start.get("chosen")
    if picked:  # the family, as the candidates are named above
        picked = _searched_on([str(picked)])[0][0]
    densities = np.array([float(c.get("model_log_density", np.nan))
                          for c in start["candidates"]])
    # referee: "ranked lower" at densities equal to 0.01; QA132: no tie beside a rival optimum
    if len(densities) > 1 and np.all(np.isfinite(densities)) and np.ptp(densities) < 0.01 \
            and not start.get("rival"):
        text += (f" (all {len(densities)} reached the same optimum: the sampled model's log "
                 "density within 0.01)")
    elif start.get("chosen_by") == "model log density" and picked and picked != sources[0]:
        # referee: "a posterior mode found by EM" was read as EM's best mode
        text += (f" ({picked}; the candidate with the highest value of EM's own objective, "
                 f"{sources[0]}, ranked lower under the sampled model)")
    moved = start.get("reanchored")
    moved = [moved] if isinstance(moved, dict) else list(moved or [])
    reruns = [m for m in moved if isinstance(m, dict) and m.get("rerun")]
    if reruns:
        text += (". During sampling a chain found a better mode than that start"
                 + (f" ({len(reruns)} times)" if len(reruns) > 1 else "")
                 + ", so EM was restarted from that chain's best draw and the chains were "
                 "sampled again from the mode it reached; the draws reported are those of the "
                 "last run")
    if apart and not reruns:
        gap = second["log_density_gap"]
        return text + (
            f"; chains {listed(apart)} started at another solution the search found, "
            f"{second['place']} ({abs(gap):.2f} nats "
            f"{'below' if gap >= 0 else 'above'} that start by the sampled model's log density, "
            f"its component means up to {second['shift_sd']:.1f} data standard deviations "
            "from the start's), so that R-hat could reveal a region of the posterior that "
            "chains started at one point would not reach.")
    return text + (". Starting every chain at one point lowers R-hat's power to reveal modes "
                   "the chains never visited; the check for a chain at a better mode than the "
                   "start partly makes up for it.")


_STOPPED = {
    "converged": "",
    "max_draws": ", and stopped at the limit of draws WITHOUT meeting them",
    "max_time": ", and stopped at the time limit WITHOUT meeting them",
    "abandoned": ", and ended early because a chain found a better mode",
    "diverged": ", and ended at a divergent transition",
    "futile": ", and stopped WITHOUT meeting them, more draws being futile",
}


def _sampler(result: Any, cite: Any) -> str:
    settings = result.settings or {}
    apart = ((settings.get("start") or {}).get("second_start") or {}).get("chains")
    versions = getattr(result, "versions", None) or {}
    sampler = settings.get("sampler")
    implementation = {
        "nutpie": f"nutpie {versions.get('nutpie', '')}".strip() + " (maximum tree depth 10, "
                  "diagonal mass matrix adapted during warm-up from the draws and their "
                  "gradients" + ("; in coordinates whitened by the inverse negative Hessian "
                                 "at the posterior mode that Newton's method reached from "
                                 "the start, a Laplace approximation as the metric, each "
                                 "chain " + ("at that start " if apart else "")
                                 + "starting one approximate posterior standard "
                                 "deviation from that mode along every whitened direction"
                                 if settings.get("laplace_metric") is True else "") + ")",
        "pymc": f"PyMC {versions.get('pymc', '')}".strip() + " (maximum tree depth 10, "
                "diagonal mass matrix adapted during warm-up)"}.get(sampler)
    sizes = result.posterior.sizes  # the draws say it where the record does not (by hand)
    chains, draws = settings.get("chains", sizes["chain"]), settings.get("draws", sizes["draw"])
    tune, accept = settings.get("tune"), settings.get("target_accept")
    each = (f"each with {tune:,} warm-up iterations and {draws:,} retained draws"
            if isinstance(tune, int) else f"each with {draws:,} retained draws after warm-up")
    text = (cite("nuts", "The posterior was sampled with the No-U-Turn Sampler (NUTS; Hoffman "
                         "and Gelman 2014)")
            + (f" as implemented in {implementation}" if implementation else "")
            + f": {chains} chain{'s' if chains != 1 else ''}, {each}, no thinning"
            + (f", target acceptance rate {format_number(accept)}" if accept else ""))
    seed = settings.get("random_state")
    if seed is not None:
        text += f", seed {seed}" + (" (drawn at random and recorded)"
                                    if settings.get("seed_drawn") else "")
    adaptive = settings.get("adaptive")
    stopped = adaptive.get("stopped_by") if isinstance(adaptive, dict) else None
    if isinstance(stopped, str) and not stopped.startswith("fixed"):
        limit = getattr(result.sampler_settings, "max_draws", None)
        text += ("; the number of draws was chosen adaptively: the chains were extended until "
                 "R-hat, the bulk and tail ESS, the rank test and the chains' agreement below "
                 "met their thresholds (divergences, E-BFMI and tree depth are judged after)"
                 + (f", up to {limit:,} draws per chain" if isinstance(limit, int) else "")
                 + _STOPPED.get(stopped, f", and stopped ({stopped})"))
    retried = settings.get("retried")
    if isinstance(retried, dict):
        after = (retried.get("target_accept") or [None, None])[-1]
        text += ("; after divergent transitions in a first run, its draws were discarded and "
                 f"the chains sampled again with target acceptance {format_number(after)}"
                 + (" and a longer warm-up" if len(retried.get("tune") or ()) == 2 else ""))
    return text + "."


def _relabelling(result: Any, cite: Any) -> str:
    if result.n_components == 1 and not result.noise:
        return "With one component, no label switching is possible."
    report = result.label_switching
    method = getattr(report, "method", "distance")
    share = (f"{100 * report.fraction_permuted:.1f}% of draws were relabelled"
             if report.fraction_permuted else "no draw needed relabelling")
    fixed = getattr(report, "fixed_components", ())
    one = len(fixed) == 1  # singular for one (QA112: "components 0 ... were held fixed")
    held = (f"; component{'' if one else 's'} {', '.join(map(str, fixed))}, named by known "
            f"labels, {'was' if one else 'were'} held fixed" if fixed else "")
    if method == "stephens":
        return (cite("stephens", "Label switching was undone by Stephens' (2000) algorithm")
                + " on the draws' classification probabilities of the observations (the "
                "complete, unlabelled ones; a random subset of them at large N), started "
                f"from the starting estimate's components ({share}{held}).")
    if method == "ecr":
        return (cite("ecr", "Label switching was undone by the ECR algorithm (Papastamoulis "
                            "and Iliopoulos 2010)")
                + f", with the starting estimate's classification as pivot ({share}{held}).")
    if method in ("ordered", "labelled"):
        why = ("an ordering constraint on the means" if method == "ordered"
               else "known labels naming every component")
        return f"No relabelling was needed: {why} fixed the labels."
    return ("Label switching was undone by matching each draw's components to the starting "
            f"estimate's by the symmetrised Kullback-Leibler divergence ({share}{held}).")


# Each check of the verdict (Check.name) as a Methods section names it, and what it cites.
_CHECKS = {
    "max R-hat": ("rank-normalised split R-hat", "rhat"),
    "min bulk ESS": ("bulk effective sample size (ESS)", "rhat"),
    "min tail ESS": ("tail ESS", "rhat"),
    "min rank p-value": ("a multi-chain rank-uniformity test of the weights and means "
                         "(Säilynoja et al. 2022; Bonferroni-corrected, on draws thinned to "
                         "roughly independent ones)", "rank"),
    "max R-hat (label-invariant)": ("R-hat of label-invariant quantities ({invariant})",
                                    "rhat"),
    "min bulk ESS (label-invariant)": ("their bulk ESS", "rhat"),
    "divergences": ("divergent transitions", None),
    "min E-BFMI": ("E-BFMI per chain (Betancourt 2016)", "ebfmi"),
    "max tree depth fraction": ("the share of transitions at the maximum tree depth", None),
    "max chain mode shift (sd)": ("the chains' agreement (no chain's mean of a parameter or of "
                                  "the log density further than a set number of pooled "
                                  "within-chain sds from the other chains' median)", None),
}


def _convergence(result: Any, d: Any, cite: Any) -> str:
    run = [c for c in d.checks if c.name in _CHECKS]
    if not run:
        return "No convergence check could be run."
    # referee: "the sorted weights" alone, where one feature's sorted means were checked too
    invariant = ("the total log-likelihood, the sorted weights and the sorted means"
                 if len(result.feature_names) == 1 else
                 "the total log-likelihood and the sorted weights")
    named = []
    for check in run:
        words, key = _CHECKS[check.name]
        words = words.format(invariant=invariant)
        named.append(cite(key, words) if key else words)
    outcome = "; ".join(c.summary for c in run)
    run_checks = listed(named)
    # the R-hat and ESS paper only where such a check ran (review: one chain, none did)
    vehtari = (" (Vehtari et al. 2021 for R-hat and ESS)"
               if any(_CHECKS[c.name][1] == "rhat" for c in run) else "")
    text = (f"Convergence was checked by {run_checks}{vehtari}; against its thresholds the run "
            f"gave: {outcome}")
    if d.not_checked:
        text += f"; not checked: {'; '.join(d.not_checked)}"
    verdict = {"OK": "every convergence check passed",
               "PROBLEMS": "not every convergence check passed",
               "CAUTION": "every convergence check passed, but the diagnostics named a cause "
                          f"for caution ({', '.join(d.causes)}; see the report's advice)"}[d.status]
    return (f"{text}. In sum, {verdict}. Summaries are posterior means with 94% equal-tailed "
            "intervals.")


def _model_check(check: Any, provisional: bool, cite: Any) -> str:
    """The predictive check: what it compared, its rule, what it found (referee: not only the
    sampler's checks); ``provisional``: the posterior failed its convergence checks."""
    n, S, level, misfit = (len(check.replicated), len(check.labels), check.misfit_level,
                           check.misfit_words())
    found = ("None was" if not misfit else
             f"Provisionally (the convergence checks failed), the replicates missed: {misfit}"
             if provisional else f"The check found that the model misses part of the data: "
                                 f"{misfit}")
    found = f"No statistic was judged, as {check.not_judged}" if check.not_judged else found
    return (f"The model's fit was checked by a posterior predictive check "
            f"{cite('ppc', '(Gelman et al. 1996)')}: {format_count(n)} data sets replicated "
            f"from posterior draws were compared with the data on {check.statistics_text(cite)}; "
            f"a statistic counted as not reproduced when its one-sided predictive p-value "
            f"was at most {level:g} or at least {1 - level:g} and the data's value lay "
            f"{check.bound():.2f} or more of the replicates' sds from their mean (the "
            f"Bonferroni bound over the {S} statistics). {found}.")


def _software(result: Any, cite: Any) -> str:
    posterior = hasattr(result, "posterior")
    packages = (("bayesgmm", "bayesgmm"), ("PyMC", "pymc"), ("nutpie", "nutpie"),
                ("ArviZ", "arviz"), ("arviz-stats", "arviz-stats"), ("NumPy", "numpy"),
                ("SciPy", "scipy"))
    v = getattr(result, "versions", None) or {}
    named = [f"{name} {v[key]}" for name, key in packages
             if key in v and (posterior or key in ("bayesgmm", "numpy", "scipy"))]
    if not named:
        return ""
    text = f"Analyses used {', '.join(named)}" + (f" under Python {v['python']}"
                                                   if "python" in v else "")
    if posterior:  # the sampler's framework and the diagnostics' library, cited
        cite("pymc", "")
        cite("arviz", "")
        text += " (PyMC: Abril-Pla et al. 2023; ArviZ: Kumar et al. 2019)"
    return text + "."


def _em(em: Any, cite: Any) -> str:
    settings = em.settings or {}
    objective = ("at their posterior mode under " + cite(
        "map_em", "mclust's default conjugate prior (Fraley and Raftery 2007)") + ", with"
                 if em.prior is not None else "by maximum likelihood with")
    text = (f"The parameters were estimated {objective} "
            + cite("em", "the EM algorithm (Dempster et al. 1977)"))
    init, n_init = settings.get("init"), settings.get("n_init")
    families = list(init) if isinstance(init, list | tuple) else [init] if init else []
    words = {"kmeans++": "k-means++ seeds (Arthur and Vassilvitskii 2007)", "kmeans": "k-means",
             "plain_kmeans++": "plain k-means++ seeds (Arthur and Vassilvitskii 2007)",
             "random_from_data": "random data points", "random": "random responsibilities"}
    total = n_init * len(families) if isinstance(n_init, int) and families and all(
        f in words for f in families) else None
    if total:
        if {"kmeans++", "plain_kmeans++"} & set(families):
            cite("kmeans++", "")
        best = "log posterior" if em.prior is not None else "log-likelihood"
        if total == 1:
            text += f", in one run started from {words[families[0]]}"
        elif len(families) == 1:
            text += (f"; of {total} runs started from {words[families[0]]}, the one with the "
                     f"highest {best} was kept")
        else:
            runs = " and ".join(f"{n_init} from {words[f]}" for f in families)
            text += f"; of {total} runs, {runs}, the one with the highest {best} was kept"
    tol, atol = settings.get("tol"), settings.get("atol")
    if tol is not None and atol is not None:
        who = "Each run" if total and total > 1 else "EM"
        text += (f". {who} stopped when an iteration changed the objective by less than "
                 f"{tol:g} per observation"
                 + (f" and at most {atol:g} in total" if np.isfinite(atol) else ""))
    limit = settings.get("max_iter") or em.n_iter
    ended = (f"converged after {em.n_iter} iteration{'s' if em.n_iter != 1 else ''}"
             if em.converged else f"did not converge within the limit of {limit} "
             f"iteration{'s' if limit != 1 else ''}")
    floored = ("variance" if em.n_features == 1 or not has_correlations(em.covariance_type)
               else "covariance matrix's diagonal")
    text += (f"; the kept fit {ended}, at a log-likelihood of {em.log_likelihood:,.2f}, with "
             f"{format_number(em.reg_covar, 3)} added to each {floored}"
             + (f" (seed {settings['random_state']})" if settings.get("random_state")
                is not None else "") + ".")
    return text
