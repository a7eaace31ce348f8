"""The terms a report uses, in plain words, for readers who are not statisticians.

A report ends with the definitions of the terms its own text uses (found in the page before
the section is added), so a page about an EM fit does not define R-hat and a selection page
defines the criteria it compares. QA (an ecologist reading the reports): R-hat appeared nine
times in one report and was never defined, nor were ESS, MCSE, E-BFMI, divergences, the rank
test, relabelling, MAP-EM, elpd, Pareto k or why the intervals are 94%.

Where it sits: the surface layer (the reports); imports nothing of bayesgmm.
"""

from __future__ import annotations

import html
import re

__all__ = ["TERMS", "terms_section"]

# (term, what triggers it in the page's text (a regular expression), the definition)
TERMS: tuple[tuple[str, str, str], ...] = (
    ("component", r"\bcomponents?\b",
     "one of the K groups the mixture describes, each with a weight, a mean and a "
     "covariance (its spread and, with several features, how they vary together). Its "
     "number (0, 1, ...) is a name, not an order."),
    ("weight", r"\bweights?\b",
     "the share of the rows a component describes; the weights sum to 1 (with the noise "
     "component's weight, when there is one)."),
    ("frequency weight", r"frequency weights?",
     "a row's count: a row of frequency weight 3 counts as three identical rows (a table "
     "of counts is the data set it summarises), a row of weight 0 as none. Not the "
     "components' weights above, nor a survey's design weights, which would have to be "
     "scaled to sum to the number of rows."),
    ("noise component", r"noise component",
     "a flat density over the box the data span, beside the Gaussian components, that takes "
     "outliers and scattered background rows so that they do not bend the clusters."),
    ("EM, MAP-EM", r"\bEM\b",
     "expectation-maximisation: the single best-fitting parameters (maximum likelihood; "
     "MAP-EM adds the priors' pull). A point estimate without uncertainty; the posterior "
     "sampler starts from it."),
    ("posterior; mean, sd", r"\bposterior\b",
     "what the data, the model and the priors together say about the parameters, as a "
     "large set of draws; a parameter's posterior mean is its estimate and its sd the "
     "uncertainty about it."),
    ("94% interval (eti94)", r"94%|eti94",
     "the range that holds the middle 94% of a parameter's posterior draws (equal-tailed: "
     "3% below, 3% above). 94%, this package's default, rather than 95% is a reminder that "
     "the level is a convention."),
    ("prior", r"\bpriors?\b",
     "what the model assumes about the parameters before seeing the data. Stated on the "
     "standardised scale (z: each column centred and divided by its sd), so the same "
     "priors suit data in any units; the settings section lists each one the model uses."),
    ("membership probability", r"membership|classification probabilit",
     "the probability that a row belongs to each component given its values (of a "
     "posterior: averaged over the draws, with its interval; of an EM fit: at the "
     "estimate); a row is classified to its most probable component."),
    ("MCSE", r"\bMCSE\b|mcse_",
     "Monte Carlo standard error: how much a posterior mean would move if the sampler were "
     "run again. Small against the posterior sd means the draws are enough."),
    ("R-hat", r"R-hat|r_hat",
     "compares the chains (independent runs of the sampler) with each other: about 1 when "
     "they agree (below 1.01 by default), larger when they describe different posteriors."),
    ("ESS (bulk, tail)", r"\bESS\b|ess_",
     "effective sample size: how many independent draws the sampler's correlated draws are "
     "worth, for the centre of a parameter's posterior (bulk) and for its 5% and 95% "
     "quantiles (tail); 400 or more is the usual bar."),
    ("divergences", r"divergen",
     "steps where the sampler could not follow the posterior's curvature; the draws near "
     "them may be biased, so any divergence is a warning."),
    ("E-BFMI", r"E-BFMI",
     "energy Bayesian fraction of missing information, per chain: below 0.3 the sampler "
     "explores the posterior's tails poorly."),
    ("tree depth", r"tree depth",
     "how far (in doublings of steps) the sampler went for one draw; hitting the maximum "
     "often means very small steps and a hard posterior shape."),
    ("whitened (Laplace) metric", r"whiten",
     "the sampler's coordinates shifted, rescaled and rotated by the posterior's curvature "
     "at its mode (a Laplace approximation), so that its steps fit the posterior's scales "
     "and correlations from the start. A choice of how to sample, not of the model: the "
     "posterior is the same either way."),
    # not a bare "rank": the selection report ranks its cells (QA: defined, never used)
    ("rank test, rank plot", r"(?i)\brank[ -](tests?|plots?|checks?|ECDF|p)\b",
     "checks that each chain's draws are spread like all chains' draws together (ranks "
     "uniform); a small p-value means a chain differs from the others."),
    ("label switching, relabelling", r"relabel|label switching",
     "the components' numbers are arbitrary, so the sampler may swap them between draws; "
     "relabelling gives every draw one numbering (by default Stephens' method: by the rows' "
     "classification probabilities) before summaries are made."),
    ("label-invariant", r"label-invariant",
     "quantities that do not depend on the components' numbering (the log-likelihood, the "
     "sorted weights and, with one feature, the sorted means): when their checks pass and "
     "the per-component ones fail, the trouble is the numbering, not the sampling."),
    ("mode shift", r"mode shift",
     "how far one chain's mean of a parameter (or of the log density) sits from the median "
     "of the other chains' means, in within-chain posterior sds: a large one is a chain that "
     "settled in a different explanation of the data (a mode)."),
    ("posterior predictive check", r"predictive check",
     "data simulated from the fitted model, compared with the observed data: where they "
     "differ, the model misses something."),
    ("quartile skewness, octile kurtosis", r"quartile skewness|octile kurtosis",
     "skewness and tail weight read from quantiles instead of moments (Bowley's and "
     "Moors' measures), so that a few far rows do not decide them: how lopsided the middle "
     "half of the values is, and how much of the spread lies in the tails."),
    ("Bonferroni bound", r"Bonferroni",
     "a stricter level for each of several tests run together (the overall level divided "
     "by their number), so that one of many statistics falling outside its range by chance "
     "is not read as a misfit."),
    ("bandwidth (Silverman, Sheather-Jones)", r"Sheather|Silverman",
     "how much a smoothed curve of the data (a kernel density) averages over neighbouring "
     "values; Silverman's rule and the Sheather-Jones method are two standard ways to choose "
     "it from the data, the latter keeping small modes that the former smooths away."),
    ("elpd, LOO", r"\belpd|\bLOO\b",
     "expected log predictive density by leave-one-out cross-validation (PSIS-LOO): how well "
     "a model predicts a row it was not fitted to; higher is better, and a difference "
     "below 4, or within two of its standard errors (dse), is noise (the rule the "
     "comparison applies, after Vehtari et al. 2017)."),
    ("Pareto k", r"Pareto k",
     "a per-row check of the LOO estimate: above ArviZ's threshold (0.7 with many draws, "
     "a little lower with fewer; the Pareto k table gives it) that row's estimate is "
     "unreliable (often an outlier). Not the number of components K."),
    ("BIC, AIC, ICL", r"\bBIC\b|\bAIC\b|\bICL\b",
     "scores of EM fits that trade how well a model fits against how many parameters it "
     "has (ICL also against how unclear its classification is); each picks its best "
     "number of components and covariance type, and they may disagree."),
)


# A component's number under ordered_means (1-D): the fit constrains the means to increase,
# so the number is an order there (QA: the glossary said "a name, not an order" of such a fit).
_UNORDERED = "is a name, not an order."
_ORDERED = ("orders the components by their means: the fit constrained them to increase "
            "(ordered_means), so component 0 has the smallest mean.")


def terms_section(page_html: str, anchor: str = "terms", ordered_means: bool = False) -> str:
    """The section that defines the terms ``page_html`` (the report's sections so far) uses,
    in :data:`TERMS`' order; "" when it uses none. ``ordered_means``: the fit's components
    are numbered by their means (a 1-D fit with ``ordered_means=True``)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page_html))
    used = [(term, meaning.replace(_UNORDERED, _ORDERED) if ordered_means else meaning)
            for term, pattern, meaning in TERMS if re.search(pattern, text)]
    if not used:
        return ""
    items = "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(meaning)}</dd>"
                    for term, meaning in used)
    return (f'<section id="{anchor}"><h2>Terms used in this report</h2>\n'
            f'<dl class="terms">{items}</dl></section>')
