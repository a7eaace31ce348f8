"""How far the data narrowed each prior: the oracle is each prior's own marginal, from SciPy."""

import re

import numpy as np
import pytest
from scipy import stats

from bayesgmm import prior_contraction
from bayesgmm.prior_contraction import prior_contraction as contraction
from bayesgmm.prior_contraction import weakly_informed_note


def test_prior_sds_are_the_priors_marginals_and_posterior_sds_the_draws(tiny_fit):
    table = contraction(tiny_fit)
    p, st = tiny_fit.priors, tiny_fit.standardisation
    K, D = tiny_fit.em.means.shape
    alpha = np.full(K, p.weights_concentration)
    assert table.loc["weights[0]", "prior_sd"] == pytest.approx(
        np.sqrt(stats.dirichlet(alpha).var()[0]))
    j = list(tiny_fit.feature_names).index("waiting")
    assert table.loc["means[1, waiting]", "prior_sd"] == pytest.approx(p.means_sd * st.scale[j])
    assert table.loc["log sd[0, waiting]", "prior_sd"] == p.sd_log_sd
    b = p.lkj_eta - 1 + D / 2  # one correlation of an LKJ(eta) matrix: Beta(b, b) on (-1, 1)
    assert table.loc["corr[1, eruptions, waiting]", "prior_sd"] == pytest.approx(
        2 * stats.beta(b, b).std())
    cov = tiny_fit.posterior["covariances"].to_numpy().reshape(-1, K, D, D)
    corr = cov[:, 1, 0, 1] / np.sqrt(cov[:, 1, 0, 0] * cov[:, 1, 1, 1])
    assert table.loc["corr[1, eruptions, waiting]", "posterior_sd"] == pytest.approx(
        corr.std(ddof=1))
    assert table.loc["log sd[0, waiting]", "posterior_sd"] == pytest.approx(
        np.log(np.sqrt(cov[:, 0, j, j])).std(ddof=1))
    np.testing.assert_allclose(table["ratio"], table["posterior_sd"] / table["prior_sd"])
    assert len(table) == K + K * D + K * D + K * D * (D - 1) // 2


def test_the_note_names_the_sds_and_correlations_the_data_barely_narrowed(tiny_fit,
                                                                          monkeypatch):
    """Old Faithful decides every parameter: no note. Under a bar no posterior passes, the
    note names the sds and correlations, the least narrowed first; weights and means never
    (their width is as often the data's own uncertainty: overlap)."""
    assert weakly_informed_note(tiny_fit) == ""
    monkeypatch.setattr(prior_contraction, "WEAKLY_INFORMED", 0.0)
    note = weakly_informed_note(tiny_fit, most=2)
    table = contraction(tiny_fit)
    shape = table[table.index.str.startswith(("log sd[", "corr["))]
    worst = shape["ratio"].sort_values(ascending=False)
    assert note.startswith(f"for {len(shape)} of the {len(shape)} sds and correlations the "
                           "data removed less than half of the prior's variance (posterior sd "
                           f"over prior sd: {worst.index[0]} ({worst.iloc[0]:.2f}), "
                           f"{worst.index[1]} ({worst.iloc[1]:.2f}) and {len(shape) - 2} more)")
    assert "weights[" not in note and "means[" not in note


def test_priors_that_shape_summaries_are_a_cause_of_the_verdict(tiny_fit, monkeypatch):
    """Referee QA: the report alone headed its verdict, in bold, with "Priors shape some
    summaries" while the terminal, result.json and the Methods paragraph said OK (or named
    another cause). It is now a cause of the diagnostics' own verdict, shown wherever the
    verdict is, after the others; never where a check failed or a component is named as one
    the data do not locate."""
    from bayesgmm import report
    from bayesgmm.diagnostics import PRIORS_SHAPE

    loose = dict(rhat_max=1.1, ess_min=20)  # 2 x 100 draws: short, not the point here
    plain = tiny_fit.diagnostics(**loose)
    assert plain.ok and PRIORS_SHAPE not in plain.causes  # Old Faithful: no note
    monkeypatch.setattr(prior_contraction, "WEAKLY_INFORMED", 0.0)
    diag = tiny_fit.diagnostics(**loose)
    assert diag.ok and diag.status == "CAUTION" and diag.causes[-1] == PRIORS_SHAPE
    assert diag.verdict.startswith("CAUTION: ")
    assert diag.verdict.endswith(f"note: {', '.join(diag.causes)} (see advice)")
    assert diag.advice[-1] == f"{PRIORS_SHAPE}: {weakly_informed_note(tiny_fit)}"
    box = report._verdict_box(diag)
    assert 'class="verdict caution"' in box and "<strong>Priors" not in box
    # a failed check: the summaries are not to be used at all, priors or not
    failing = tiny_fit.diagnostics(ess_min=1e9)
    assert not failing.ok and PRIORS_SHAPE not in failing.causes


def _normal_posterior(m0, s0, centre, s_lik, S=4000):
    """Draws of a Normal prior (m0, s0) times a Normal likelihood (centre, s_lik): the exact
    posterior mean and sd (the draws standardised to them)."""
    prec = 1 / s0 ** 2 + 1 / s_lik ** 2
    m, s = (m0 / s0 ** 2 + centre / s_lik ** 2) / prec, prec ** -0.5
    z = np.random.default_rng(0).normal(size=S)
    return m + s * (z - z.mean()) / z.std(ddof=1), m, s


def test_the_pull_is_the_normal_normal_shift_from_the_likelihoods_centre():
    """The oracle: a Normal prior times a Normal likelihood. ``pull`` recovers how many
    posterior sds the posterior mean sits from the likelihood's centre, for a mean (on its
    data scale) and a log sd alike; a parameter the data barely narrowed gets none."""
    import types

    import xarray as xr

    from bayesgmm import Priors
    from bayesgmm.priors import Standardisation

    priors = Priors(means_sd=0.5, sd_median=0.5, sd_log_sd=0.3)
    centre, scale = 10.0, 4.0
    mean_draws, m, s = _normal_posterior(centre, 0.5 * scale, centre + 5.0, 1.2)
    log_sd_draws, lm, ls = _normal_posterior(np.log(0.5 * scale), 0.3, np.log(6.0), 0.1)
    S = mean_draws.size
    post = xr.Dataset({
        "weights": (("chain", "draw", "component"), np.ones((1, S, 1))),
        "means": (("chain", "draw", "component", "feature"), mean_draws.reshape(1, S, 1, 1)),
        "covariances": (("chain", "draw", "component", "f1", "f2"),
                        np.exp(2 * log_sd_draws).reshape(1, S, 1, 1, 1))})
    result = types.SimpleNamespace(
        posterior=post, priors=priors, feature_names=["x"], n_components=1,
        covariance_type="full",
        standardisation=Standardisation(center=np.array([centre]), scale=np.array([scale])))
    table = contraction(result)
    assert "weights[0]" not in table.index  # K = 1: no weight to estimate (QA109)
    assert table.loc["means[0, x]", "pull"] == pytest.approx(abs(centre + 5.0 - m) / s)
    assert table.loc["log sd[0, x]", "pull"] == pytest.approx(abs(np.log(6.0) - lm) / ls)
    assert table.loc["means[0, x]", "prior_mean"] == centre
    note = prior_contraction.prior_conflict_note(result)
    assert note.startswith("the priors pulled 2 parameter(s) more than 1 posterior sd from "
                           "where the data alone would put them (normal approximation): ")
    assert "log sd[0, x]: " in note and "posterior sd about " in note
    # a likelihood as wide as the prior: barely narrowed, no pull said
    wide, _, _ = _normal_posterior(centre, 0.5 * scale, centre + 5.0, 50.0)
    result.posterior = post.assign(means=(post["means"].dims, wide.reshape(1, S, 1, 1)))
    assert np.isnan(contraction(result).loc["means[0, x]", "pull"])


def test_a_prior_the_data_contradict_is_a_cause_of_the_verdict(tiny_fit):
    """QA109: a user's sd prior (median 0.2, log-sd 0.3 on the z scale) put a component's
    sd far from where the data put it, and the verdict said OK. Old Faithful under the
    default priors: no pull above one posterior sd."""
    import dataclasses

    from bayesgmm import Priors
    from bayesgmm.diagnostics import PRIOR_CONFLICT

    loose = dict(rhat_max=1.1, ess_min=20)  # 2 x 100 draws: short, not the point here
    assert contraction(tiny_fit)["pull"].max() < 1
    assert prior_contraction.prior_conflict_note(tiny_fit) == ""
    assert PRIOR_CONFLICT not in tiny_fit.diagnostics(**loose).causes
    tight = dataclasses.replace(tiny_fit, priors=Priors(sd_median=0.05, sd_log_sd=0.2))
    diag = tight.diagnostics(**loose)
    assert diag.ok and diag.status == "CAUTION" and PRIOR_CONFLICT in diag.causes
    (advice,) = [a for a in diag.advice if a.startswith(PRIOR_CONFLICT)]
    assert "log sd[" in advice and "refit with wider ones" in advice


def test_the_default_priors_are_never_called_in_conflict():
    """QA114: tight clusters far apart with 10-18 rows each are pulled a little over one
    posterior sd by the default sd prior, and fits whose every check passed turned CAUTION,
    advised to "refit with wider ones (or the defaults)". The conflict is said of chosen
    priors only; the pull stays in the table."""
    import types

    import xarray as xr

    from bayesgmm import Priors
    from bayesgmm.priors import Standardisation

    centre, scale = 10.0, 4.0
    draws, _, _ = _normal_posterior(np.log(0.5 * scale), 1.0, np.log(0.02), 0.25)
    S = draws.size
    post = xr.Dataset({
        "weights": (("chain", "draw", "component"), np.ones((1, S, 1))),
        "means": (("chain", "draw", "component", "feature"), np.full((1, S, 1, 1), centre)),
        "covariances": (("chain", "draw", "component", "f1", "f2"),
                        np.exp(2 * draws).reshape(1, S, 1, 1, 1))})
    result = types.SimpleNamespace(
        posterior=post, priors=Priors(), feature_names=["x"], n_components=1,
        covariance_type="full",
        standardisation=Standardisation(center=np.array([centre]), scale=np.array([scale])))
    assert contraction(result).loc["log sd[0, x]", "pull"] > 1  # pulled, and shown
    assert prior_contraction.prior_conflict_note(result) == ""
    result.priors = Priors(sd_log_sd=0.99)  # chosen: said
    assert prior_contraction.prior_conflict_note(result).startswith("the priors pulled 1 ")


def test_ordered_means_are_read_against_their_order_statistics():
    """QA118: with ordered_means=True each component's prior is an order statistic of K
    Normals (the model's own prior: sorted draws), but the table, the conflict note, the
    report's data-unit interval and the Methods text used the plain, independent Normal."""
    import dataclasses

    from conftest import posterior_stand_in

    from bayesgmm.paper_methods import methods_text
    from bayesgmm.prior_contraction import normal_order_statistics
    from bayesgmm.report import _priors_in_data_units

    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(40, 3, 30), rng.normal(52, 3, 30), rng.normal(68, 3, 30)][:, None]
    plain = posterior_stand_in(X, 3)
    ordered = dataclasses.replace(plain, settings={**plain.settings, "ordered_means": True})
    p, st = ordered.priors, ordered.standardisation
    # the oracle: the model's prior of the ordered means, drawn (sorted iid Normals)
    z = np.sort(rng.standard_normal((400_000, 3)), axis=1)
    prior = st.center[0] + p.means_sd * st.scale[0] * z
    table = contraction(ordered)
    for k in range(3):
        assert table.loc[f"means[{k}, x0]", "prior_mean"] == pytest.approx(
            prior[:, k].mean(), abs=0.01 * st.scale[0])
        assert table.loc[f"means[{k}, x0]", "prior_sd"] == pytest.approx(
            prior[:, k].std(), rel=0.01)
    assert contraction(plain).loc["means[0, x0]", "prior_mean"] == pytest.approx(st.center[0])
    np.testing.assert_allclose(normal_order_statistics(3, 0.025),
                               np.quantile(z, 0.025, axis=0), atol=0.02)
    page = _priors_in_data_units(ordered)
    for k in range(3):  # each component's own interval, as drawn
        shown = re.search(rf"{k}: (-?[\d.]+) to (-?[\d.]+)", page.replace(",", ""))
        np.testing.assert_allclose([float(v) for v in shown.groups()],
                                   np.quantile(prior[:, k], [0.025, 0.975]), rtol=0.02, atol=0.5)
    assert "is the (k + 1)-th smallest of K draws" in page
    text = methods_text(ordered, None).paragraph
    assert "restricted to increasing order" in text and "Independent priors" not in text
    assert "apart" not in text  # sorting pushes nothing apart (QA122 M4)
    assert "Independent priors" in methods_text(plain, None).paragraph
