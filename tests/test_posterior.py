"""BayesResult's user-facing objects: the membership probabilities as an array."""

import re
import warnings

import numpy as np
import pytest


@pytest.fixture(scope="module")
def proba(tiny_fit, old_faithful):
    return tiny_fit.predict_proba(old_faithful.iloc[:10])


def test_membership_probabilities_behave_as_their_mean(proba):
    """QA: p[:, 1], np.asarray(p) (shape ()) and log_loss(y, p) failed on the object."""
    np.testing.assert_array_equal(proba[:, 1], proba.mean[:, 1])
    assert np.shares_memory(np.asarray(proba), proba.mean)  # no copy unless asked for
    assert type(np.asarray(proba)) is np.ndarray
    # QA: p.mean(axis=0), the average membership, raised "'numpy.ndarray' object is not
    # callable"; p.mean is still the array, and what NumPy makes of it a plain array
    np.testing.assert_array_equal(proba.mean(axis=0), np.mean(proba.mean.view(np.ndarray),
                                                             axis=0))
    assert proba.mean() == pytest.approx(0.5) and proba.mean[:, 1].shape == (10,)
    assert type(proba.mean(axis=0)) is np.ndarray and type(proba.mean + 1) is np.ndarray
    assert repr(proba.mean).startswith("array(")
    # only p.mean is callable: what comes from it is plain, as pandas needs (review:
    # df.assign(c=p.argmax(axis=1)) raised, pandas calling the "array")
    derived = (proba[:, 1], proba.mean[:, 1], proba.mean.T, proba.mean.copy(),
               proba.argmax(axis=1), proba.mean.argsort(axis=1), next(iter(proba)),
               next(iter(proba.mean)), proba.mean + 1, np.log(proba.mean))
    assert all(type(v) is np.ndarray and not callable(v) for v in derived)
    import pandas as pd

    frame = pd.DataFrame({"a": np.arange(10)}).assign(c=proba.argmax(axis=1), p1=proba[:, 1])
    np.testing.assert_array_equal(frame["p1"], proba.mean[:, 1])
    assert not proba.mean.flags.writeable and not proba.mean.T.flags.writeable
    assert (proba.shape, proba.ndim, len(proba), proba.dtype) == ((10, 2), 2, 10, np.float64)
    np.testing.assert_array_equal(np.stack(list(proba)), proba.mean)
    assert np.allclose(np.sum(proba, axis=1), 1)


@pytest.mark.parametrize("dtype, copy, same", [
    (None, None, True), (None, True, False), (np.float64, False, True),
    (np.float32, None, False), (np.float32, True, False),
])
def test_membership_probabilities_follow_numpys_array_protocol(proba, dtype, copy, same):
    out = np.array(proba, dtype=dtype, copy=copy)
    assert np.shares_memory(out, proba.mean) == same  # a copy only where one is needed
    assert out.dtype == (dtype or np.float64)
    np.testing.assert_allclose(out, proba.mean, rtol=1e-7)


def test_membership_probabilities_refuse_a_conversion_without_copying(proba):
    with pytest.raises(ValueError, match="needs a copy; pass copy=None"):
        np.asarray(proba, dtype=np.float32, copy=False)


def test_membership_probabilities_in_scikit_learns_metrics(proba):
    metrics = pytest.importorskip("sklearn.metrics")
    y = np.argmax(proba.mean, axis=1)
    assert metrics.log_loss(y, proba, labels=[0, 1]) == pytest.approx(
        metrics.log_loss(y, proba.mean, labels=[0, 1]))


def test_numpys_functions_see_the_mean(proba):
    """Review: np.mean(p, axis=0) called p.mean(...), which is the array, not a method."""
    np.testing.assert_array_equal(np.mean(proba, axis=0), proba.mean.mean(axis=0))
    np.testing.assert_array_equal(np.argmax(proba, axis=1), proba.mean.argmax(axis=1))
    assert np.concatenate([proba, proba]).shape == (2 * len(proba), proba.shape[1])


def test_membership_probabilities_have_the_ndarray_methods(proba):
    """QA: ``em.predict_proba(X).max(axis=1)`` (examples/em_vs_mcmc.py) raised on the
    posterior's object, as did ``p.argmax(axis=1)``, ``p.sum(...)``, ``p.round(2)`` and
    ``p.T``: the ndarray's methods and attributes now read ``mean``."""
    mean = proba.mean
    np.testing.assert_array_equal(proba.max(axis=1), mean.max(axis=1))
    np.testing.assert_array_equal(proba.argmax(axis=1), mean.argmax(axis=1))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(proba.round(2), mean.round(2))
    np.testing.assert_array_equal(proba.T, mean.T)
    assert (proba.size, proba.tolist()) == (mean.size, mean.tolist())
    assert isinstance(proba.mean, np.ndarray)  # the attribute, not ndarray.mean
    with pytest.raises(ValueError, match="read-only"):  # in place: never into the result
        proba.sort(axis=1)
    # QA90: a scikit-learn user's idiom, NumPy's "only integer scalar arrays ..." before
    for key in (proba < 0.5, (0, 0)):
        with pytest.raises(TypeError, match=r"read-only: np\.array\(p\) is a copy"):
            proba[key] = 0
    np.testing.assert_array_equal(proba.mean, mean)
    with pytest.raises(AttributeError, match="no attribute 'iloc'"):
        _ = proba.iloc


def test_membership_probabilities_pickle_and_copy_with_the_delegation():
    """The attribute delegation must not recurse while an object is rebuilt (pickle and copy
    look up ``__setstate__`` before its fields are set)."""
    import copy
    import pickle

    from bayesgmm.posterior import MembershipProbabilities

    mean = np.array([[0.2, 0.8], [0.6, 0.4]])
    p = MembershipProbabilities(mean, mean - 0.1, mean + 0.1, 0.9)
    for q in (pickle.loads(pickle.dumps(p)), copy.copy(p), copy.deepcopy(p)):
        np.testing.assert_array_equal(q.mean, mean)
        np.testing.assert_array_equal(q.max(axis=1), [0.8, 0.6])
    bare = MembershipProbabilities.__new__(MembershipProbabilities)  # no fields set yet
    with pytest.raises(AttributeError):
        _ = bare.max
    copy.copy(bare)  # review: no RecursionError from __getattr__ on a bare object


def test_membership_probabilities_repr_is_short():
    """QA: the repr printed the three (N, K) arrays in full: 33.5 KB for N=272."""
    from bayesgmm.posterior import MembershipProbabilities

    mean = np.random.default_rng(0).dirichlet([1.0, 1.0], size=272)
    text = repr(MembershipProbabilities(mean, mean - 0.1, mean + 0.1, 0.94))
    assert len(text) < 400 and len(text.splitlines()) <= 6, text
    assert "272 points x 2 columns" in text and "94% interval" in text
    assert "269 more rows" in text and f"{mean[1, 0]:.3f}" in text


def test_posterior_predictive_in_arviz_groups(tiny_fit):
    """QA (Bayesian workflow): the prior predictive came in ArviZ's groups, the posterior's
    as a bare Dataset that az.plot_ppc_dist could not read. as_tree gives the same draws in
    the groups ArviZ reads."""
    import arviz as az

    plain = tiny_fit.sample_posterior_predictive(9, max_draws=30, random_state=2)
    tree = tiny_fit.sample_posterior_predictive(9, max_draws=30, random_state=2, as_tree=True)
    predictive = tree["posterior_predictive"]
    assert predictive["x"].dims == ("chain", "draw", "observation", "feature")
    np.testing.assert_array_equal(predictive["x"].values[0], plain["x"].values)
    np.testing.assert_array_equal(tree["observed_data"]["x"].values,
                                  tiny_fit.idata["observed_data"]["x"].values)
    az.plot_ppc_dist(tree, var_names=["x"], num_samples=30)  # reads it (it raised KeyError before)
    # QA: the documented call pooled the features into one density (0 to 100 on Old
    # Faithful) and drew `component` too; the call the docs give now draws one per feature
    assert "observation" in predictive.coords
    for group, data in (("posterior_predictive", tree),
                        ("prior_predictive", tiny_fit.sample_prior_predictive(draws=5))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pc = az.plot_ppc_dist(data, group=group, var_names="x", cols=["feature"],
                                  num_samples=5)
        assert len(pc.viz["plot"].values.ravel()) == len(tiny_fit.feature_names)
    with pytest.raises(ValueError, match="as_tree must be"):
        tiny_fit.sample_posterior_predictive(as_tree="yes")


def test_a_weighted_fits_observed_data_is_counted_as_the_fit_counted_it(tiny_fit):
    """QA: a weighted fit (weights 10 and 1) set its replicates (550 points) beside the 100
    rows once each: the share above a cut 0.5 against 0.09 in data and replicates, a misfit
    of a correct model in ArviZ's predictive plot. Whole-number weights repeat the rows."""
    import dataclasses

    import xarray as xr

    groups = {name: node.to_dataset() for name, node in tiny_fit.idata.children.items()}
    observed = groups["observed_data"]
    n = observed.sizes["observation"]
    g = np.where(np.arange(n) % 2 == 0, 3.0, 0.0) + (np.arange(n) % 3 == 0)
    weighted = dataclasses.replace(tiny_fit, idata=xr.DataTree.from_dict(
        {**groups, "observed_data": observed.assign(sample_weight=("observation", g))}))
    tree = weighted.sample_posterior_predictive(max_draws=5, random_state=0, as_tree=True)
    np.testing.assert_array_equal(tree["observed_data"]["x"].values,
                                  np.repeat(observed["x"].values, g.astype(int), axis=0))
    prior = weighted.sample_prior_predictive(draws=5, random_state=0)
    assert prior["observed_data"]["x"].shape[0] == g.sum()
    # weights that are not whole numbers cannot be repeated: said, and kept beside the rows
    halves = dataclasses.replace(tiny_fit, idata=xr.DataTree.from_dict(
        {**groups, "observed_data": observed.assign(sample_weight=("observation", g + 0.5))}))
    with pytest.warns(UserWarning, match="not whole numbers"):
        tree = halves.sample_posterior_predictive(max_draws=5, random_state=0, as_tree=True)
    assert "sample_weight" in tree["observed_data"] and tree["observed_data"]["x"].shape[0] == n


def test_a_predictive_too_large_for_memory_is_a_one_line_error(tiny_fit):
    """QA134 M3: weights summing to 3,049,382 (100 rows) made the default replicate size that
    sum, and sample_posterior_predictive() a MemoryError of 11.4 GiB (or an OOM kill); the
    same for sample_prior_predictive(). Said in one line, with what to pass instead."""
    import dataclasses

    em = dataclasses.replace(tiny_fit.em, n_samples=3_049_382.5,
                             observations={**(tiny_fit.em.observations or {}), "weighted": True})
    heavy = dataclasses.replace(tiny_fit, em=em)
    rows = tiny_fit.idata["observed_data"]["x"].shape[0]
    total = tiny_fit.posterior.sizes["chain"] * tiny_fit.posterior.sizes["draw"]
    for call, fewer, draws in ((heavy.sample_posterior_predictive, "max_draws", min(500, total)),
                               (heavy.sample_prior_predictive, "draws", 500)):
        with pytest.raises(ValueError) as info:
            call()
        said = str(info.value)
        assert said == (f"{draws} replicated data sets of 3,049,382 points (the sum of the "
                        f"weights the fit counted) need {3_049_382 * draws * 24 / 2**30:,.1f} "
                        "GiB, more than the 4 GiB allowed: pass a smaller n_samples= (the "
                        f"data's {rows:,} rows, say) or fewer {fewer}=")
    assert heavy.sample_posterior_predictive(rows, max_draws=3)["x"].shape == (3, rows, 2)
    with pytest.raises(ValueError, match=f"need {10**7 * total * 24 / 2**30:,.1f} GiB"):
        tiny_fit.sample_posterior_predictive(10**7, max_draws=None)  # a size asked for, too


def test_prior_predictive_of_ordered_means_draws_their_order_statistics():
    """QA: with ordered_means the prior draws were unordered (16% ordered at K = 3, as iid
    normals): pm.draw ignores the ordered transform. Oracle: the smallest of K iid standard
    normals has CDF 1 - (1 - Phi(z))^K, the largest Phi(z)^K."""
    import dataclasses

    from conftest import posterior_stand_in
    from scipy import stats

    x = np.concatenate([np.random.default_rng(9).normal(-3, 1, 60),
                        np.random.default_rng(8).normal(4, 1.5, 40)])
    fit = posterior_stand_in(x, 3)
    fit = dataclasses.replace(fit, settings={**fit.settings, "ordered_means": True})
    means = fit.sample_prior_predictive(n_samples=1, draws=2000, random_state=0
                                        )["prior"]["means"].values[0, :, :, 0]
    assert np.all(np.diff(means, axis=1) > 0)
    std = fit.standardisation
    z = (means - std.center[0]) / std.scale[0] / fit.priors.means_sd
    K = 3
    assert stats.kstest(z[:, 0], lambda t: 1 - stats.norm.sf(t) ** K).pvalue > 1e-3
    assert stats.kstest(z[:, -1], lambda t: stats.norm.cdf(t) ** K).pvalue > 1e-3


@pytest.mark.parametrize("fit_name", ["tiny_fit", "tiny_fit_diag"])
def test_prior_predictive_draws_the_models_priors_in_data_units(fit_name, request):
    """QA (a PyMC user): no prior predictive, and the model's own route gave x on the
    standardised scale. The prior draws are the model's priors put in data units (oracle:
    each marginal against its closed form), the replicated data ArviZ's groups."""
    from scipy import stats

    fit = request.getfixturevalue(fit_name)
    tree = fit.sample_prior_predictive(n_samples=7, draws=2000, random_state=3)
    prior, predictive = tree["prior"].to_dataset(), tree["prior_predictive"].to_dataset()
    assert predictive["x"].shape == (1, 2000, 7, 2)
    assert set(np.unique(predictive["component"].values)) <= {0, 1}
    assert tree["observed_data"]["x"].shape == fit.idata["observed_data"]["x"].shape
    pri, std = fit.priors, fit.standardisation
    a = pri.weights_concentration
    w0 = prior["weights"].values[0, :, 0]
    assert stats.kstest(w0, stats.beta(a, a).cdf).pvalue > 1e-3
    z = (prior["means"].values[0, :, 0, 1] - std.center[1]) / std.scale[1]
    assert stats.kstest(z, stats.norm(0, pri.means_sd).cdf).pvalue > 1e-3
    cov = prior["covariances"].values[0, :, 0]
    variance = cov[:, 1, 1] if cov.ndim == 3 else cov[:, 1]
    log_sd_z = np.log(np.sqrt(variance) / std.scale[1])
    assert stats.kstest(log_sd_z, stats.norm(np.log(pri.sd_median), pri.sd_log_sd).cdf
                        ).pvalue > 1e-3
    again = fit.sample_prior_predictive(n_samples=7, draws=2000, random_state=3)
    np.testing.assert_array_equal(again["prior_predictive"]["x"].values, predictive["x"].values)


def test_a_constant_scalar_has_no_r_hat_and_no_numpy_warning(old_faithful):
    """QA: `fit -k 1` printed "bayesgmm: warning: invalid value encountered in scalar divide"
    twice: the summary's R-hat of K=1's weight, 1 in every draw."""
    import warnings

    from conftest import posterior_stand_in

    result = posterior_stand_in(old_faithful.to_numpy(), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        summary = result.summary()
    assert np.isnan(summary.loc["weights[0]", "r_hat"])
    assert summary.loc["weights[0]", "mean"] == pytest.approx(1.0)


def test_the_advice_of_a_pymc_run_asks_for_a_fixed_number_of_draws(tiny_fit):
    """QA: after ``--sampler pymc`` (which cannot extend a run: draws="auto" is a fixed
    1,000) the advice said "or leave draws='auto' (the default), which draws until every
    check holds"."""
    from dataclasses import replace

    nutpie = tiny_fit.diagnostics(ess_min=20_000)
    pymc = replace(tiny_fit, settings={**tiny_fit.settings, "sampler": "pymc"})
    advice = " ".join(pymc.diagnostics(ess_min=20_000).advice)
    assert "draws='auto'" in " ".join(nutpie.advice) and "draws='auto'" not in advice
    assert "this run samples a fixed number of draws" in advice


def test_the_posterior_mean_names_its_parts(tiny_fit):
    """QA69: an unlabelled 3-tuple was the only way to the posterior estimates."""
    mean = tiny_fit.posterior_mean()
    weights, means, covariances = mean  # unpacks as before
    assert mean.weights is weights and mean.means is means and mean.covariances is covariances
    np.testing.assert_allclose(mean.means,
                               tiny_fit.posterior["means"].mean(("chain", "draw")).values)
    assert mean.means.shape == (2, 2) and mean.covariances.shape == (2, 2, 2)


def test_a_noise_components_weight_counts_among_the_free_parameters():
    """QA80: "fewer values than free parameters" left a noise component's weight out."""
    from bayesgmm.posterior import prior_dominated_note

    # 1-D, K=2: 5 parameters (2 weights - 1, 2 means, 2 variances); with noise 6
    assert prior_dominated_note(5, 2, 1, "full") == ""
    note = prior_dominated_note(5, 2, 1, "full", noise=True)
    assert "5 row(s) x 1 feature(s) = 5 values for 6 free parameters" in note


def test_summaries_warn_where_components_are_not_identified(tiny_fit, monkeypatch):
    """QA95: summary() printed an interval of 0.51-0.995 for a weight of 0.6 without a word,
    where compare_em and estimates.csv marked the components identified=False."""
    import dataclasses
    import types
    import warnings

    import bayesgmm
    from bayesgmm.posterior import BayesResult

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # identified: nothing to say
        assert not tiny_fit.diagnostics().unreported_components
        tiny_fit.summary()
        tiny_fit.posterior_mean()
    checked = types.SimpleNamespace(unreported_components=(1,), causes=("mixed components",))
    monkeypatch.setattr(BayesResult, "diagnostics", lambda self, **k: checked)
    tiny_fit = dataclasses.replace(tiny_fit)  # a result not judged yet (its answer is kept)
    for call, what in ((tiny_fit.summary, "summary()"),
                       (tiny_fit.posterior_mean, "posterior_mean()")):
        with pytest.warns(UserWarning, match=rf"component\(s\) 1 are not identified \(mixed "
                                              rf"components\): {re.escape(what)}'s numbers"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the table marks them itself
        table = bayesgmm.estimates_table(tiny_fit)
    assert not table.loc[table["component"] == 1, "identified"].any()


def test_the_unidentified_components_are_kept_for_the_draws_they_judged(old_faithful,
                                                                        monkeypatch):
    """QA98 M6: summary() and posterior_mean() ran the diagnostics on every call; QA100 M1: a
    verdict kept must not outlive the draws it judged (an edited posterior kept the old)."""
    from conftest import posterior_stand_in

    from bayesgmm.posterior import BayesResult

    post = posterior_stand_in(np.asarray(old_faithful), 2)
    calls = []
    judge = BayesResult.diagnostics
    monkeypatch.setattr(BayesResult, "diagnostics",
                        lambda self, **k: calls.append(1) or judge(self, **k))
    post.posterior_mean()
    post.summary()
    assert len(calls) == 1  # once for both
    assert post.diagnostics() is not post.diagnostics()  # the verdict itself: always computed
    edited = post.idata["posterior"].to_dataset().copy(deep=True)
    edited["means"] = edited["means"] + 0.5
    post.idata["posterior"] = edited
    calls.clear()
    post.posterior_mean()
    assert len(calls) == 1  # other draws: judged again


def test_a_posterior_matches_features_really_named_x0_x1_by_name():
    """QA124 M1 (the posterior's side): columns named x0, x1 given in another order were
    scored by position, up to 9.5 nats off."""
    import pandas as pd
    from conftest import posterior_stand_in

    rng = np.random.default_rng(2)
    X = np.r_[rng.normal(0, 1, (80, 2)), rng.normal(0, 1, (80, 2)) * [1.0, 8.0] + [3.0, 40.0]]
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    fit = posterior_stand_in(frame, 2)
    assert fit.fitted_names == ("x0", "x1")
    np.testing.assert_array_equal(fit.score_samples(frame[["x1", "x0"]]),
                                  fit.score_samples(frame))
    np.testing.assert_array_equal(fit.predict_proba(frame[["x1", "x0"]]).mean,
                                  fit.predict_proba(frame).mean)


def test_the_start_record_of_a_restart_that_found_nothing_reaches_the_diagnostics():
    """QA126 M3: a restart of EM from a higher chain that found no better optimum (not
    rerun) is named to the diagnostics, which then call the chains separate modes."""
    from dataclasses import replace

    from conftest import posterior_stand_in

    rng = np.random.default_rng(3)
    fit = posterior_stand_in(np.r_[rng.normal(0, 1, 60), rng.normal(6, 1, 60)][:, None], 2)
    assert fit._restart_found_nothing() == ""
    record = {"chain": 1, "measure": "model log density", "old_start": -709.331,
              "new_start": -709.104, "rerun": False}
    fit = replace(fit, settings={**fit.settings, "start": {"reanchored": record}})
    assert fit._restart_found_nothing() == ("its model log density -709.33 at the start, "
                                            "-709.10 from chain 1's draw")
    rerun = replace(fit, settings={**fit.settings, "start": {"reanchored": [
        {**record, "rerun": True}]}})
    assert rerun._restart_found_nothing() == ""


def test_compare_em_names_the_components_by_their_known_labels():
    """QA123 L4: estimates.csv, the console and the report call component 0 "control";
    compare_em() had no such column."""
    from conftest import posterior_stand_in

    from bayesgmm.observation_record import name_labels

    rng = np.random.default_rng(3)
    fit = posterior_stand_in(np.r_[rng.normal(0, 1, 60), rng.normal(6, 1, 60)][:, None], 2)
    assert "label" not in fit.compare_em().columns  # no names: the table as it was
    name_labels(fit, ("control", "sepsis"))
    table = fit.compare_em()
    assert table.columns[0] == "label"
    assert table.loc["weights[0]", "label"] == "control"
    assert table.loc["means[1, x0]", "label"] == "sepsis"


# QA125: mutants that survived the tests mirroring their module, killed here

# PO1: score_samples is log( mean_s p(x | theta_s) ) (its docstring), checked by hand.
def test_score_samples_is_the_log_of_the_mean_density_over_draws():
    from conftest import posterior_stand_in
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal
    X = np.random.default_rng(1).normal(size=(40, 2))
    X[:20] += 4
    result = posterior_stand_in(X, 2, draws=15)
    post = result.posterior
    w = post["weights"].values.reshape(-1, 2)
    m = post["means"].values.reshape(-1, 2, 2)
    c = post["covariances"].values.reshape(-1, 2, 2, 2)
    rows = X[:5]
    per_draw = np.array([np.log(sum(w[s, k] * multivariate_normal(m[s, k], c[s, k]).pdf(rows)
                                    for k in range(2))) for s in range(len(w))])
    expected = logsumexp(per_draw, axis=0) - np.log(len(w))
    np.testing.assert_allclose(result.score_samples(rows), expected, rtol=1e-9)


# PO2: em_in_interval is lb <= em <= ub, on rows where EM lies above the interval too.
def test_em_in_interval_is_false_above_the_interval():
    import dataclasses

    from conftest import posterior_stand_in
    X = np.random.default_rng(1).normal(size=(40, 2))
    X[:20] += 4
    result = posterior_stand_in(X, 2, draws=15)
    shifted = dataclasses.replace(result.em, means=result.em.means + 10.0)
    table = dataclasses.replace(result, em=shifted).compare_em()
    lb, ub = table["eti94_lb"], table["eti94_ub"]
    assert (table["em"] > ub).any()  # not vacuous
    assert (table["em_in_interval"] == ((lb <= table["em"]) & (table["em"] <= ub))).all()


def test_predict_takes_the_mean_memberships_without_their_intervals(tiny_fit, old_faithful,
                                                                    monkeypatch):
    """QA143 M6: predict ran predict_proba whole, a 94% interval partitioned from 1,000
    draws per row and component (13 minutes on 1e6 rows), only to take the mean's argmax;
    it takes no quantile now, and max_draws as predict_proba does."""
    expected = np.argmax(tiny_fit.predict_proba(old_faithful).mean, axis=1)
    few = np.argmax(tiny_fit.predict_proba(old_faithful, max_draws=20).mean, axis=1)

    def no_quantile(*args, **kwargs):
        raise AssertionError("predict took a quantile")

    monkeypatch.setattr(np, "quantile", no_quantile)
    np.testing.assert_array_equal(tiny_fit.predict(old_faithful), expected)
    np.testing.assert_array_equal(tiny_fit.predict(old_faithful, max_draws=20), few)


def test_the_fitted_rows_memberships_are_computed_once(tiny_fit, monkeypatch):
    """QA158 L7: `fit --noise` computed the fitted rows' memberships for the printout and
    again for memberships.csv (3.9 s + 3.4 s at 100,000 rows), the report a third time: kept
    by (interval, max_draws); read-only, so one object serves every caller."""
    import dataclasses

    fresh = dataclasses.replace(tiny_fit)  # its own cache, not the session fixture's
    calls = []
    original = type(fresh).predict_proba
    monkeypatch.setattr(type(fresh), "predict_proba",
                        lambda self, *a, **k: calls.append(a[1:]) or original(self, *a, **k))
    first = fresh.memberships(max_draws=50)
    with pytest.raises(ValueError, match="read-only"):
        first.mean[:] = -1.0
    again = fresh.memberships(max_draws=50)
    assert len(calls) == 1 and again is first
    np.testing.assert_allclose(again.mean.sum(axis=1), 1.0)
    other = fresh.memberships(interval=0.5, max_draws=50)
    assert len(calls) == 2 and (other.upper - other.lower <= again.upper - again.lower).all()
    assert dataclasses.replace(fresh)._fitted_memberships == {}
