"""A Methods paragraph for a paper, written from a fit's own record, and its references.

A reader of a statistical report is usually on the way to a paper, whose Methods section must
say what was fitted and how: the model and its priors, the sampler and its settings, how label
switching was handled, how convergence was checked and what the checks found, and the software
versions. :func:`methods_text` writes that paragraph from the result itself (its settings,
priors, label-switching report, observations record and diagnostics), so it cannot drift from
what ran; the reports print it in their last numbered section. An EM fit gets its own
paragraph (maximum likelihood or MAP, the restarts, the stopping rule, where it ended). Each
method it names comes with its reference. The paragraph states facts, not a recommendation:
where the diagnostics failed, it says so, in the same words as the verdict's status.

Where it sits: the surface layer, beside the report; imports :mod:`bayesgmm.formatting` and
:mod:`bayesgmm.observation_record` only (the result and its diagnostics are passed in), so it
loads nothing heavy: ``bayesgmm em`` never loads PyMC for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .formatting import format_number
from .observation_record import observations_record

__all__ = ["MethodsText", "methods_text"]

# Each method the paragraph may name, with its reference (as a Methods section cites it).
REFERENCES = {
    "nuts": "Hoffman, M. D. and Gelman, A. (2014). The No-U-Turn Sampler: adaptively setting "
            "path lengths in Hamiltonian Monte Carlo. Journal of Machine Learning Research "
            "15, 1593-1623.",
    "rhat": "Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). "
            "Rank-normalization, folding, and localization: an improved R-hat for assessing "
            "convergence of MCMC. Bayesian Analysis 16, 667-718.",
    "ebfmi": "Betancourt, M. (2016). Diagnosing suboptimal cotangent disintegrations in "
             "Hamiltonian Monte Carlo. arXiv:1604.00695.",
    "stephens": "Stephens, M. (2000). Dealing with label switching in mixture models. Journal "
                "of the Royal Statistical Society, Series B 62, 795-809.",
    "ecr": "Papastamoulis, P. and Iliopoulos, G. (2010). An artificial allocations based "
           "solution to the label switching problem in Bayesian analysis of mixtures of "
           "distributions. Journal of Computational and Graphical Statistics 19, 313-331.",
    "lkj": "Lewandowski, D., Kurowicka, D. and Joe, H. (2009). Generating random correlation "
           "matrices based on vines and extended onion method. Journal of Multivariate "
           "Analysis 100, 1989-2001.",
    "map_em": "Fraley, C. and Raftery, A. E. (2007). Bayesian regularization for normal "
              "mixture estimation and model-based clustering. Journal of Classification 24, "
              "155-181.",
    "em": "Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977). Maximum likelihood from "
          "incomplete data via the EM algorithm. Journal of the Royal Statistical Society, "
          "Series B 39, 1-38.",
    "kmeans++": "Arthur, D. and Vassilvitskii, S. (2007). k-means++: the advantages of careful "
                "seeding. Proceedings of the Eighteenth Annual ACM-SIAM Symposium on Discrete "
                "Algorithms, 1027-1035.",
    "pymc": "Abril-Pla, O. et al. (2023). PyMC: a modern, and comprehensive probabilistic "
            "programming framework in Python. PeerJ Computer Science 9, e1516.",
    "arviz": "Kumar, R., Carroll, C., Hartikainen, A. and Martin, O. (2019). ArviZ a unified "
             "library for exploratory analysis of Bayesian models in Python. Journal of Open "
             "Source Software 4, 1143.",
}

_COVARIANCES = {
    "full": "an unrestricted covariance matrix for each component",
    "tied": "one covariance matrix shared by all components",
    "diag": "a diagonal covariance matrix for each component (no correlations)",
    "spherical": "a single variance for each component (spherical covariances)",
}


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


def methods_text(result: Any, diagnostics: Any = None) -> MethodsText:
    """A Methods paragraph for ``result``, written from its own record.

    Parameters
    ----------
    result : BayesResult or EMResult
    diagnostics : Diagnostics, optional
        For a posterior: ``result.diagnostics()`` where the caller has it already (the
        report); computed here otherwise.

    Returns
    -------
    MethodsText
        ``str()`` of it gives the paragraph, then the references.

    Examples
    --------
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
        sentences = [_model(result, cite), _priors(result, cite), _start(result, cite),
                     _sampler(result, cite), _relabelling(result, cite),
                     _convergence(result, diagnostics, cite), _software(result, cite)]
    elif hasattr(result, "log_likelihood") and hasattr(result, "weights"):
        sentences = [_model(result, cite), _em(result, cite), _software(result, cite)]
    else:
        raise ValueError(f"a Methods paragraph needs a fit (BayesResult or EMResult); got "
                         f"{type(result).__name__}")
    return MethodsText(" ".join(s for s in sentences if s),
                       tuple(sorted(REFERENCES[k] for k in cited)))


def _count(n: float) -> str:
    return format_number(n) if n != int(n) else f"{int(n):,}"


def _model(result: Any, cite: Any) -> str:
    record = observations_record(result) or {}
    n = record.get("n_rows_fitted") or (
        result.idata["observed_data"].sizes["observation"] if hasattr(result, "idata")
        else result.n_samples)
    features = list(result.feature_names)
    D, K = len(features), result.n_components
    names = ", ".join(str(f) for f in features)
    covariance = (_COVARIANCES[result.covariance_type] if D > 1
                  else "a variance for each component")
    posterior = hasattr(result, "posterior")
    text = (f"We fitted a {'Bayesian mixture' if posterior else 'mixture'} of K = {K} "
            f"Gaussian component{'s' if K != 1 else ''} with {covariance} to {_count(n)} "
            f"observation{'s' if n != 1 else ''} of {D} variable{'s' if D != 1 else ''} "
            f"({names})" + (", with the component assignments summed out of the likelihood"
                            if posterior else ""))
    parts = []
    if record.get("n_rows_with_missing") and record.get("missing") == "marginalise":
        parts.append(f"{_count(record['n_rows_with_missing'])} observations with missing "
                     "values contributed the marginal density of their observed variables "
                     "(values assumed missing at random)")
    if record.get("n_rows_dropped"):
        parts.append(f"{_count(record['n_rows_dropped'])} rows were left out (no usable "
                     "values" + (", or any value missing" if record.get("missing") == "drop"
                                 else "") + ")")
    if record.get("weighted"):
        parts.append("each observation counted as often as its frequency weight (total "
                     f"{format_number(record.get('sum_of_weights', float('nan')))})")
    if record.get("n_labelled"):
        parts.append(f"{_count(record['n_labelled'])} observations of known component entered "
                     "with their component fixed")
    if result.noise:
        parts.append("a uniform noise component over the data's bounding box took outlying "
                     "observations")
    return text + ("; " + "; ".join(parts) if parts else "") + "."


def _priors(result: Any, cite: Any) -> str:
    p = result.priors
    weights = ("the K component weights and the noise weight" if result.noise
               else "the weights")
    alpha = format_number(p.weights_concentration)
    pieces = [f"{weights} ~ Dirichlet({alpha}, ..., {alpha})",
              f"each component mean ~ Normal(0, {format_number(p.means_sd)}) per variable",
              f"each standard deviation ~ LogNormal(log {format_number(p.sd_median)}, "
              f"{format_number(p.sd_log_sd)})"]
    if len(result.feature_names) > 1 and result.covariance_type in ("full", "tied"):
        pieces.append(cite("lkj", f"each correlation matrix ~ LKJ({format_number(p.lkj_eta)}) "
                                  "(Lewandowski et al. 2009)"))
    scale = ("divided by one standard deviation common to all" if result.covariance_type
             == "spherical" else "divided by its standard deviation")
    return (f"Priors were placed on the standardised data (each variable centred at its mean "
            f"and {scale}): {'; '.join(pieces)}.")


def _start(result: Any, cite: Any) -> str:
    start = (result.settings or {}).get("start") or {}
    n = len(start.get("candidates") or ())
    em = cite("em", "EM (Dempster et al. 1977)")
    map_em = cite("map_em", "the conjugate prior of Fraley and Raftery (2007)")
    if n > 1:
        return (f"Every chain started at a posterior mode found by {em} with {map_em}: of "
                f"{n} candidate optima (restarts from k-means++ and random data points, and a "
                "maximum-likelihood fit polished under the prior) the one with the highest "
                "log posterior density of the model was taken.")
    return f"Every chain started at the estimate of {em} with {map_em}."


def _sampler(result: Any, cite: Any) -> str:
    settings = result.settings or {}
    versions = getattr(result, "versions", None) or {}
    sampler = settings.get("sampler")
    implementation = {"nutpie": f"nutpie {versions.get('nutpie', '')}".strip(),
                      "pymc": f"PyMC {versions.get('pymc', '')}".strip()}.get(sampler)
    # what the draws themselves say where the record does not (a result built by hand)
    sizes = result.posterior.sizes
    chains, draws = settings.get("chains", sizes["chain"]), settings.get("draws", sizes["draw"])
    tune, accept = settings.get("tune"), settings.get("target_accept")
    each = (f"each of {tune:,} warm-up iterations and {draws:,} retained draws"
            if isinstance(tune, int) else f"each of {draws:,} retained draws after warm-up")
    text = (cite("nuts", "The posterior was sampled with the No-U-Turn Sampler (NUTS; Hoffman "
                         "and Gelman 2014)")
            + (f" as implemented in {implementation} (maximum tree depth 10, diagonal mass "
               "matrix adapted during warm-up)" if implementation else "")
            + f": {chains} chains, {each}"
            + (f" (target acceptance rate {format_number(accept)})" if accept else ""))
    adaptive = settings.get("adaptive")
    if isinstance(adaptive, dict):
        text += (", the number of draws chosen adaptively: the chains were extended until "
                 "every convergence check below passed, up to a limit"
                 + ("" if adaptive.get("stopped_by") == "converged" else
                    f" (they stopped by the {adaptive.get('stopped_by')} limit, "
                    "without converging)"))
    retried = settings.get("retried")
    if isinstance(retried, dict):
        after = (retried.get("target_accept") or [None, None])[-1]
        text += (f"; after divergent transitions in a first run the chains were sampled "
                 f"again with target acceptance {format_number(after)}")
    if settings.get("reanchored"):
        text += ("; a chain found a better mode than the start, so EM was restarted from it "
                 "and the chains sampled again")
    return text + "."


def _relabelling(result: Any, cite: Any) -> str:
    report = result.label_switching
    method = getattr(report, "method", "distance")
    share = (f"{100 * report.fraction_permuted:.1f}% of draws were relabelled"
             if report.fraction_permuted else "no draw needed relabelling")
    if method == "stephens":
        return (cite("stephens", "Label switching was undone by Stephens' (2000) algorithm")
                + " on the draws' classification probabilities, matched to the starting "
                f"estimate's components ({share}).")
    if method == "ecr":
        return (cite("ecr", "Label switching was undone by the ECR algorithm (Papastamoulis "
                            "and Iliopoulos 2010)")
                + f", with the starting estimate's classification as pivot ({share}).")
    if method in ("ordered", "labelled"):
        why = ("an ordering constraint on the means" if method == "ordered"
               else "known labels naming every component")
        return f"No relabelling was needed: {why} fixed the labels."
    return ("Label switching was undone by matching each draw's components to the starting "
            f"estimate's by the symmetrised Kullback-Leibler divergence ({share}).")


def _convergence(result: Any, d: Any, cite: Any) -> str:
    rhat = cite("rhat", "rank-normalised split R-hat and bulk and tail effective sample sizes "
                        "(ESS; Vehtari et al. 2021)")
    ebfmi = cite("ebfmi", "E-BFMI (Betancourt 2016)")
    divergences = ("not recorded" if d.n_divergences is None
                   else f"{d.n_divergences:,} divergent transition"
                        f"{'s' if d.n_divergences != 1 else ''}")
    # R-hat to 4 decimals, as the verdict line (1.0097 is not the failing 1.010 of 3)
    found = (f"the largest R-hat was {d.max_rhat:.4f}, the smallest bulk and tail ESS "
             f"{d.min_ess_bulk:,.0f} and {d.min_ess_tail:,.0f}, with {divergences}")
    verdict = {"OK": "every check passed",
               "CAUTION": "every check passed, but the evidence named a cause for caution ("
                          + ", ".join(d.causes) + ")",
               "PROBLEMS": "not every check passed (" + "; ".join(d.problems) + ")"}[d.status]
    return (f"Convergence was checked with {rhat}, {ebfmi}, divergent transitions, the "
            "rank-uniformity test of each chain's draws and the agreement of the chains' "
            f"modes, on the relabelled parameters and on label-invariant quantities: {found}; "
            f"{verdict}.")


def _em(em: Any, cite: Any) -> str:
    settings = em.settings or {}
    objective = ("at their posterior mode under " + cite(
        "map_em", "the conjugate prior of Fraley and Raftery (2007)") + ", with"
                 if em.prior is not None else "by maximum likelihood with")
    text = (f"The parameters were estimated {objective} "
            + cite("em", "the EM algorithm (Dempster et al. 1977)"))
    init, n_init = settings.get("init"), settings.get("n_init")
    families = list(init) if isinstance(init, list | tuple) else [init] if init else []
    words = {"kmeans++": "k-means++ seeds (Arthur and Vassilvitskii 2007)",
             "random_from_data": "random data points", "kmeans": "k-means",
             "random": "random responsibilities"}
    if n_init and families and all(f in words for f in families):
        if "kmeans++" in families:
            cite("kmeans++", "")
        best = "log posterior" if em.prior is not None else "log-likelihood"
        total = n_init * len(families)
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
        text += (f". Each run stopped when an iteration changed the objective by less than "
                 f"{format_number(tol)} per observation and at most {format_number(atol)} in "
                 "total")
    ended = (f"converged after {em.n_iter} iterations" if em.converged
             else f"did NOT converge within {em.n_iter} iterations")
    floored = "variance" if em.n_features == 1 else "covariance matrix's diagonal"
    text += (f"; the kept fit {ended}, at a log-likelihood of {em.log_likelihood:,.2f}, with "
             f"{format_number(em.reg_covar)} added to each {floored}.")
    return text


def _software(result: Any, cite: Any) -> str:
    v = getattr(result, "versions", None) or {}
    posterior = hasattr(result, "posterior")
    packages = (("bayesgmm", "bayesgmm"), ("PyMC", "pymc"), ("ArviZ", "arviz"),
                ("NumPy", "numpy"), ("SciPy", "scipy"))
    named = [f"{name} {v[key]}" for name, key in packages
             if key in v and (posterior or key not in ("pymc", "arviz"))]
    if not named:
        return ""
    python = f"Python {v['python']}" if "python" in v else ""
    if posterior:  # the sampler's framework and the diagnostics' library, cited
        cite("pymc", "")
        cite("arviz", "")
        python += ("; " if python else "") + "PyMC: Abril-Pla et al. 2023; ArviZ: Kumar et al. 2019"
    return f"Analyses used {', '.join(named)}" + (f" ({python})" if python else "") + "."
