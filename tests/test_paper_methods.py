"""The Methods paragraph: every number it states is the fit's own (settings, priors,
observations record, diagnostics), and every method it names is cited and referenced."""

import dataclasses
import re

import numpy as np
import pytest

import bayesgmm
from bayesgmm.formatting import format_number
from bayesgmm.paper_methods import REFERENCES, MethodsText, methods_text


@pytest.fixture(scope="module")
def tiny_text(tiny_fit):
    diagnostics = tiny_fit.diagnostics()
    return methods_text(tiny_fit, diagnostics), diagnostics


@pytest.fixture(scope="module")
def tiny_check(tiny_fit):
    from bayesgmm.plots import predictive_check

    return predictive_check(tiny_fit, random_state=0)


def _citations(paragraph):
    """The (Author Year) citations of a paragraph, as surname and year."""
    found = re.findall(r"([A-Z][\w-]+)(?: et al\.| and [A-Z]\w+)?'?s? \(?(\d{4})\)?",
                       paragraph)
    return {(name, year) for name, year in found}


def test_the_paragraph_states_the_fits_own_numbers(tiny_fit, tiny_text):
    text, d = tiny_text
    p, s = text.paragraph, tiny_fit.settings
    n = tiny_fit.idata["observed_data"].sizes["observation"]
    assert f"K = {tiny_fit.n_components} Gaussian components" in p
    assert f"to {n} observations of 2 variables (eruptions, waiting)" in p
    assert "an unrestricted covariance matrix for each component" in p
    priors = tiny_fit.priors
    for value in (priors.weights_concentration, priors.means_sd, priors.sd_median,
                  priors.sd_log_sd, priors.lkj_eta):
        assert f"{value:g}" in p
    assert (f"{s['chains']} chains, each with {s['tune']:,} warm-up iterations and "
            f"{s['draws']:,} retained draws, no thinning") in p
    assert f"seed {s['random_state']}" in p
    assert f"nutpie {tiny_fit.versions['nutpie']}" in p
    for check in d.checks:  # each check run, with its value and threshold, as the verdict
        assert check.summary in p
    relabelled = 100 * tiny_fit.label_switching.fraction_permuted
    assert (f"{relabelled:.1f}% of draws were relabelled" if relabelled
            else "no draw needed relabelling") in p
    start = s["start"]["candidates"]
    assert f"of {len(start)} candidates ({start[0]['source']};" in p
    assert "the highest log posterior density of the sampled model was taken" in p
    assert "a chain found a better mode" not in p  # not re-anchored
    assert {"OK": "In sum, every convergence check passed", "CAUTION": "a cause for caution",
            "PROBLEMS": "In sum, not every convergence check passed"}[d.status] in p
    assert f"bayesgmm {tiny_fit.versions['bayesgmm']}" in p


def test_every_citation_has_its_reference_and_no_more(tiny_text):
    text, _ = tiny_text
    cited = _citations(text.paragraph)
    listed = {(r.split(",")[0], re.search(r"\((\d{4})\)", r).group(1)) for r in text.references}
    assert cited == listed
    from bayesgmm.references import alphabetical as _alphabetical

    assert list(text.references) == sorted(text.references, key=_alphabetical)
    assert _alphabetical("Säilynoja") == "Sailynoja"  # before Stephens, as a reader sorts
    assert set(text.references) <= set(REFERENCES.values())
    assert str(text) == text.paragraph + "\n\nReferences\n" + "\n".join(text.references)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "tied"])
def test_only_the_priors_the_model_uses(tiny_fit, tiny_text, tiny_check, covariance_type):
    """No LKJ (and no LKJ reference) where the model has no correlations."""
    result = dataclasses.replace(tiny_fit, covariance_type=covariance_type)
    # the full fit's draws under another type's name: its check, not one of those draws
    text = methods_text(result, tiny_text[1], predictive_check=tiny_check)
    correlations = covariance_type == "tied"
    assert ("LKJ with shape" in text.paragraph) == correlations
    assert any(r.startswith("Lewandowski") for r in text.references) == correlations
    assert ("the root mean square of the variables' sds" in text.paragraph) == (
        covariance_type == "spherical")


def test_the_data_record_and_the_runs_record_are_told(tiny_fit, tiny_text):
    record = {"n_rows": 300, "n_rows_fitted": 290, "n_rows_dropped": 10,
              "missing": "marginalise", "n_missing_values": 31, "n_rows_with_missing": 25,
              "weighted": True, "sum_of_weights": 512.5, "n_labelled": 12, "noise": False}
    start = {**tiny_fit.settings["start"], "reanchored": [{"rerun": False}, {"rerun": True}],
             "chosen_by": "EM log posterior"}
    settings = {**tiny_fit.settings, "start": start,
                "adaptive": {"draws": 2400, "stopped_by": "max_time", "checkpoints": []},
                "retried": {"target_accept": [0.8, 0.95], "divergences": 3,
                            "tune": [1000, 3000]}}
    result = dataclasses.replace(tiny_fit, observations_summary=record, settings=settings)
    p = methods_text(result, tiny_text[1]).paragraph
    # rows, where the weights make observations of rows (QA165 L1)
    assert "25 rows with missing values contributed the marginal density" in p
    assert "10 rows were excluded (no observed value)" in p
    # QA79: "to 290 observations ... (total 512.5)" used one word for two numbers
    assert "to 290 rows of" in p and "to 290 observations" not in p
    assert "each row counted as often as its frequency weight (so 512.5 observations)" in p
    assert "12 rows of known component" in p
    assert "chosen adaptively" in p and "stopped at the time limit WITHOUT meeting them" in p
    assert "sampled again with target acceptance 0.95 and a longer warm-up" in p
    assert "EM was restarted from that chain's best draw" in p  # the one rerun
    assert "the highest value of EM's objective" in p  # how this start was chosen
    assert "ranked lower under the sampled model" not in p
    # a candidate other than EM's best, chosen by the sampled model's density: said, so that
    # "a posterior mode found by EM" is not read as EM's best (referee)
    sources = [c["source"] for c in start["candidates"]]
    assert len(sources) > 1  # the fit's start search: three families
    apart = [{**c, "model_log_density": -100.0 + (i == 1)}
             for i, c in enumerate(start["candidates"])]
    other = {**start, "chosen_by": "model log density", "chosen": sources[1],
             "candidates": apart}
    p = methods_text(dataclasses.replace(result, settings={**settings, "start": other}),
                     tiny_text[1]).paragraph
    assert (f"({sources[1]}; the candidate with the highest value of EM's own objective, "
            f"{sources[0]}, ranked lower under the sampled model)") in p
    # every candidate at the same optimum: no ranking to state (referee: "ranked lower"
    # beside a start table of three identical rows)
    tied = {**other, "candidates": [{**c, "model_log_density": -100.0 + 0.001 * i}
                                    for i, c in enumerate(start["candidates"])]}
    p = methods_text(dataclasses.replace(result, settings={**settings, "start": tied}),
                     tiny_text[1]).paragraph
    assert "ranked lower" not in p and (f"(all {len(sources)} reached the same optimum: the "
                                        "sampled model's log density within 0.01)") in p
    # candidates found on a subsample (fit_map_start above 200,000 rows): the families named,
    # the subsample and the polish said once
    where = ", found on 100,000 of 250,000 rows, "
    marked = [{**c, "source": c["source"] + where + (
        "polished on all rows" if i < 2 else "not polished (the same solution as a better one)")}
        for i, c in enumerate(apart)]
    searched = {**other, "candidates": marked, "chosen": marked[1]["source"]}
    p = methods_text(dataclasses.replace(result, settings={**settings, "start": searched}),
                     tiny_text[1]).paragraph
    assert "found on" not in p and f"of {len(sources)} candidates ({sources[0]};" in p
    assert ("the restarts ran on a random 100,000 of 250,000 rows, the 2 that were distinct "
            "solutions within reach of the best then polished by EM on every row, the other "
            "scored there") in p
    assert f"({sources[1]}; the candidate with the highest value of EM's own objective" in p
    fixed = {**settings, "adaptive": {"stopped_by": "fixed: the PyMC sampler cannot extend"}}
    p = methods_text(dataclasses.replace(result, settings=fixed), tiny_text[1]).paragraph
    assert "adaptively" not in p  # a fixed run (PyMC under draws="auto")


def test_a_laplace_metric_is_said_with_where_the_chains_started(tiny_fit, tiny_text):
    """Whitened sampling (metric "laplace", or "auto" where it is cheap and the posterior
    close to Gaussian) changes the metric and the chains' starts: the paragraph said
    "diagonal mass matrix" and "Every chain started at the same point" regardless."""
    def paragraph(whitened):
        settings = {**tiny_fit.settings, "laplace_metric": whitened}
        return methods_text(dataclasses.replace(tiny_fit, settings=settings),
                            tiny_text[1]).paragraph

    assert "whitened" not in paragraph(False)
    assert "Every chain started at the same point" in paragraph(False)
    p = paragraph(True)
    assert "whitened by the inverse negative Hessian at the posterior mode" in p
    assert "one approximate posterior standard deviation from that mode" in p
    # no "(see below)": a paper's Methods has no report below it (QA)
    # the start said once, where the sampler is described (QA162 L5: three times)
    assert "Every chain started near the same point, a" in p
    assert "Starting every chain near one point lowers R-hat's power" in p
    assert p.count("posterior standard deviation") + p.count("posterior sd") == 1
    assert "Every chain started at the same point" not in p


@pytest.mark.parametrize("whitened", [False, True])
def test_chains_started_apart_are_said_with_where_and_why(tiny_fit, tiny_text, whitened):
    """QA150 H1's remedy, in the paper's words: which chains started where, how far below the
    start that place is and why (R-hat's power), and not "every chain at one point"."""
    second = {"place": "the candidate MAP-EM, kmeans++ x10", "log_density_gap": 6.63,
              "shift_sd": 0.43, "chains": [1, 3]}
    start = {**tiny_fit.settings["start"], "chosen_by": "model log density",
             "second_start": second}
    settings = {**tiny_fit.settings, "start": start, "chains": 4, "laplace_metric": whitened}
    p = methods_text(dataclasses.replace(tiny_fit, settings=settings), tiny_text[1]).paragraph
    assert "Every chain started" not in p
    assert ("Chains 0 and 2 started " + ("near the same point" if whitened
                                         else "at the same point")) in p
    assert ("; chains 1 and 3 started at another solution the search found, the candidate "
            "MAP-EM, kmeans++ x10 (6.63 nats below that start by the sampled model's log "
            "density, its component means up to 0.4 data standard deviations from the "
            "start's), so that R-hat could reveal a region of the posterior that chains "
            "started at one point would not reach.") in p
    assert "lowers R-hat's power" not in p
    assert ("each chain at that start starting one approximate posterior standard deviation"
            in p) == whitened


def test_a_failed_check_is_said_not_hidden(tiny_fit, tiny_text):
    _, d = tiny_text
    bad = dataclasses.replace(d.checks[0], passed=False, summary="R-hat 1.08 > 1.01")
    failed = dataclasses.replace(d, ok=False, checks=(bad, *d.checks[1:]),
                                 not_checked=("rank uniformity: needs at least 2 chains",))
    p = methods_text(tiny_fit, failed).paragraph
    assert ("the run gave: R-hat 1.08 > 1.01;" in p
            and "In sum, not every convergence check passed." in p)
    assert "not checked: rank uniformity: needs at least 2 chains" in p
    assert "every convergence check passed." not in p.replace(
        "not every convergence check passed.", "")
    caution = dataclasses.replace(d, ok=True, causes=("K too large",))
    assert "a cause for caution (K too large;" in methods_text(tiny_fit, caution).paragraph


@pytest.mark.parametrize("prior", [None, "default"])
def test_an_em_fit_says_how_it_was_estimated(old_faithful, prior):
    em = bayesgmm.fit_em(old_faithful, 2, n_init=3, random_state=0, prior=prior,
                         init=("kmeans++", "random_from_data"))  # the command line's
    text = methods_text(em)
    p = text.paragraph
    assert "We fitted a mixture of K = 2 Gaussian components" in p and "Bayesian" not in p
    assert "to 272 observations of 2 variables (eruptions, waiting)." in p
    assert ("at their posterior mode under mclust's default conjugate prior (Fraley and "
            "Raftery 2007)" in p) == (prior is not None)
    assert ("maximum likelihood with the EM algorithm" in p) == (prior is None)
    assert "of 6 runs, 3 from k-means++ seeds (Arthur and Vassilvitskii 2007) and 3 from " \
           "random data points" in p
    assert f"less than {em.settings['tol']:g} per observation and at most " \
           f"{em.settings['atol']:g} in total" in p
    assert f"converged after {em.n_iter} iterations, at a log-likelihood of " \
           f"{em.log_likelihood:,.2f}" in p
    assert "PyMC" not in p and "R-hat" not in p  # nothing of a posterior
    # by magnitude, not Python's "1e-06" in a sentence for a paper (referee)
    assert f"with {format_number(em.reg_covar, 3)} added to each" in p and "e-0" not in p
    cited = _citations(p)
    assert cited == {(r.split(",")[0], re.search(r"\((\d{4})\)", r).group(1))
                     for r in text.references}


def test_an_em_fit_that_stopped_early_says_so(old_faithful):
    with pytest.warns(bayesgmm.ConvergenceWarning):
        em = bayesgmm.fit_em(old_faithful, 2, n_init=1, max_iter=2, random_state=0)
    p = methods_text(em).paragraph
    assert "did not converge within the limit of 2 iterations" in p
    assert "in one run started from k-means++ seeds (Arthur and Vassilvitskii 2007)." in p


def test_only_fits_have_methods():
    with pytest.raises(ValueError, match="needs a fit"):
        methods_text(np.zeros(3))


def test_public_name_and_report_section(tiny_fit, tiny_text, tmp_path):
    assert bayesgmm.methods_text is methods_text and bayesgmm.MethodsText is MethodsText
    from bayesgmm.report import _section_methods

    html = _section_methods(tiny_fit, tiny_text[1])
    assert 'id="methods"' in html and "8. Methods paragraph" in html
    assert html.count("<li>") == len(tiny_text[0].references)
    np.testing.assert_equal("Stephens" in html, "stephens" == tiny_fit.label_switching.method)
    em_html = _section_methods(tiny_fit.em, None, number=6)
    assert "6. Methods paragraph" in em_html and "restarts, stopping rule" in em_html


def test_the_label_invariant_quantities_are_the_ones_checked(tiny_fit, tiny_text, galaxies):
    """Referee: the Methods said "the total log-likelihood and the sorted weights" where, with
    one feature, the sorted means are checked too."""
    from conftest import posterior_stand_in

    text, _ = tiny_text
    assert ("label-invariant quantities (the total log-likelihood and the sorted weights)"
            in text.paragraph) and "sorted means" not in text.paragraph
    one_d = posterior_stand_in(galaxies, 2)
    assert "sorted_means" in bayesgmm.diagnostics.label_invariant_quantities(
        one_d.posterior).data_vars
    paragraph = methods_text(one_d, one_d.diagnostics()).paragraph
    assert ("label-invariant quantities (the total log-likelihood, the sorted weights and "
            "the sorted means)") in paragraph


def test_the_paragraph_states_the_predictive_check_and_what_it_found(tiny_fit, tiny_text,
                                                                      tiny_check):
    """Referee: a Methods paragraph that checks only the sampler says nothing of whether the
    model fits the data; the report's predictive check (same seed: the same p-values) is
    stated with what it compared, its rule and what it found, and cited."""
    import pandas as pd
    from conftest import posterior_stand_in

    from bayesgmm.plots import predictive_check

    text, d = tiny_text
    n = len(tiny_check.replicated)
    assert n == 200 and not tiny_check.not_judged
    assert (f"checked by a posterior predictive check (Gelman et al. 1996): {n} data sets "
            "replicated from posterior draws were compared with the data on the correlation "
            "of each pair of features and each feature's skewness and excess kurtosis, with "
            "Bowley's quartile skewness (Bowley 1920) and Moors' octile kurtosis (Moors 1988), "
            "which a few gross outliers barely move; a "
            "statistic counted as not reproduced when its one-sided predictive p-value was at "
            "most 0.01 or at least 0.99 and the data's value lay 3.26 or more of the "
            "replicates' sds from their mean (the Bonferroni bound over the 9 statistics). "
            ) in text.paragraph
    from scipy.stats import norm

    assert tiny_check.bound() == pytest.approx(norm.isf(0.01 / 18))  # 3.26
    assert tiny_check.misfits() == []  # Old Faithful, K=2 full: nothing it misses here
    assert "over the 9 statistics). None was. " in text.paragraph
    assert any(r.startswith("Moors, J. J. A. (1988)") for r in text.references)
    assert "every convergence check passed" in text.paragraph  # not "every check passed"
    assert any(r.startswith("Gelman, A., Meng, X.-L. and Stern, H. (1996)")
               for r in text.references)
    # passed in, the same paragraph (the report passes its own)
    assert methods_text(tiny_fit, d, predictive_check=tiny_check) == text
    # a heavy-tailed cluster under one component: its misfit said in the check's own words
    rng = np.random.default_rng(2)
    heavy = predictive_check(posterior_stand_in(
        pd.DataFrame({"x": rng.standard_t(3, size=400)}), 1, draws=100), random_state=0)
    passed = dataclasses.replace(d, ok=True)  # the tiny fit's 100 draws may fail its checks
    p = methods_text(tiny_fit, passed, predictive_check=heavy).paragraph
    assert ("on the standard deviation, skewness and excess kurtosis, with Bowley's quartile "
            "skewness (Bowley 1920) and Moors' octile kurtosis (Moors 1988), which a few "
            "gross outliers barely move; a statistic") in p
    assert (f"(the Bonferroni bound over the 5 statistics). The check found that the model "
            f"misses part of the data: {heavy.misfit_words()}.") in p
    assert "excess kurtosis (" in heavy.misfit_words()
    # under failed convergence checks the finding is provisional (review)
    failed = dataclasses.replace(d, ok=False)
    p = methods_text(tiny_fit, failed, predictive_check=heavy).paragraph
    assert ("statistics). Provisionally (the convergence checks failed), the replicates "
            f"missed: {heavy.misfit_words()}.") in p
    # too few draws to judge: said, not a pass and not a misfit
    few = predictive_check(posterior_stand_in(
        pd.DataFrame({"x": rng.standard_t(3, size=400)}), 1), random_state=0)
    p = methods_text(tiny_fit, d, predictive_check=few).paragraph
    assert ("No statistic was judged, as only 60 replicated data sets (one per posterior "
            "draw), too few to tell a p-value of 0.01 from chance.") in p


def test_the_noise_component_clause_is_a_sentence_part_with_its_verb():
    """QA: "...; a uniform noise component (Banfield and Raftery 1993) with constant density
    over the data's bounding box." had no verb."""
    X = bayesgmm.load_old_faithful()
    p = methods_text(bayesgmm.fit_em(X, 2, noise=True, random_state=0)).paragraph
    assert ("; a uniform noise component (Banfield and Raftery 1993), of constant density "
            "over the data's bounding box, was added for outliers.") in p
