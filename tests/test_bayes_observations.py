"""The posterior with missing values, observation weights, known labels and a noise component.

Three statements of one density, checked against each other at random points (no sampling):
the plain-PyMC oracle (:func:`bayesgmm.reference.build_observations_oracle`: ``pm.MvNormal`` of
each missingness pattern's observed sub-vector, a ``pm.Potential`` of the weighted sum), the
PyMC model of :func:`bayesgmm.model.build_model` (the row-plan Op) and the native nutpie
density (:mod:`bayesgmm.backends.native`, through the compiled model's C callbacks).
"""

import ctypes
import dataclasses

import numpy as np
import pandas as pd
import pytest

from bayesgmm import layout
from bayesgmm.backends.nutpie import compile_nutpie
from bayesgmm.backends.nutpie_model import NativeMixtureModel
from bayesgmm.model import build_model, initial_point, model_spec, trace_layout
from bayesgmm.priors import Priors
from bayesgmm.reference import build_observations_oracle

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# The PyMC graphs evaluated by their Python implementations (a numba compile per case would
# cost minutes; the oracle is the math, not PyMC's numba backend).
MODE = "FAST_COMPILE"
VARIANTS = ("missing", "weights", "labels", "noise", "all")
K = 3
N = 40
PRIORS = Priors(weights_concentration=0.8, means_sd=1.5, sd_median=0.8, sd_log_sd=0.6,
                lkj_eta=1.5)


def _data(variant, covariance_type, D=3, seed=0):
    """Data-unit X with the variant's features, its standardisation and the model kwargs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)) * np.array([1.0, 3.0, 0.5])[:D] + np.array([2.0, -1, 0])[:D]
    kwargs = {}
    if variant in ("missing", "all"):
        X[rng.random((N, D)) < 0.2] = np.nan
        X[np.isnan(X).all(axis=1), 0] = 0.7  # no all-missing row
    if variant in ("weights", "all"):
        kwargs["sample_weight"] = rng.uniform(0.2, 3.0, N)
    if variant in ("labels", "all"):
        labels = np.full(N, -1)
        labels[:12] = rng.integers(0, K, 12)
        kwargs["labels"] = labels
    if variant in ("noise", "all"):
        # the box's side lengths: a row with missing values gets the marginal over its
        # observed coordinates (not a cube's)
        sides = np.log(np.nanmax(X, axis=0) - np.nanmin(X, axis=0))
        kwargs["noise_log_density"] = -float(np.sum(sides))
        kwargs["noise_log_ranges"] = sides
    center = np.nanmean(X, axis=0)
    scale = np.nanstd(X, axis=0)
    if covariance_type == "spherical":
        scale = np.full(D, scale.mean())
    return X, center, scale, kwargs


# Each variant alone (full covariances), then all four together for every covariance type.
CASES = [(v, "full") for v in VARIANTS] + [("all", ct) for ct in COVARIANCE_TYPES[1:]]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def case(request):
    """The PyMC model, the oracle and the native density of one case, compiled once."""
    variant, ct = request.param
    X, center, scale, kwargs = _data(variant, ct)
    Z = (X - center) / scale
    model = build_model(Z, K, ct, PRIORS, center=center, scale=scale, **kwargs)
    oracle = build_observations_oracle(Z, K, ct, PRIORS, center=center, scale=scale, **kwargs)
    compiled = compile_nutpie(model, backend="native", reuse=False)
    return {
        "model": model, "X": X, "kwargs": kwargs, "compiled": compiled,
        "logp": model.compile_logp(mode=MODE), "dlogp": model.compile_dlogp(mode=MODE),
        # the oracle's gradient by finite differences of its density: its own symbolic
        # gradient (a graph over every pattern's MvNormal) took 12-17 s to build per case
        "oracle_logp": oracle.compile_logp(mode=MODE),
        "rng": np.random.default_rng(hash(request.param) % 2**32),
    }


def _random_point(model, rng):
    point, parts = {}, []
    for block in model_spec(model).blocks:
        value = rng.normal(0.0, 0.7, size=block.value_shape)
        point[block.value_name] = value
        parts.append(value.ravel())
    return np.concatenate(parts), point


def _finite_difference_gradient(logp, point, names, h=2.5e-4):
    """The gradient of ``logp`` at ``point`` over the values ``names`` (flattened, in that
    order) by the five-point central difference: error O(h^4) plus ~1e-13 |logp| / h of
    rounding, ~1e-9 here, far below any error in a derivative written by hand."""
    grad = []
    for name in names:
        for i in np.ndindex(np.shape(point[name])):
            def at(step, name=name, i=i):
                moved = {k: np.array(v, dtype=float) for k, v in point.items()}
                moved[name][i] += step
                return logp(moved)
            grad.append((at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h))
    return np.array(grad)


def _pointer(array):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def _callback_logp(compiled, theta):
    """The density as nutpie's Rust sampler calls it: the C callback and its user data."""
    grad, logp = np.empty_like(theta), np.empty(1)
    rc = compiled.compiled_logp_func.ctypes(theta.size, _pointer(theta), _pointer(grad),
                                            _pointer(logp), compiled.user_data.ctypes.data)
    assert rc == 0
    return logp[0], grad


def test_the_variants_take_the_row_plan(case):
    model = case["model"]
    assert "plan_x" in model.named_vars
    assert isinstance(case["compiled"], NativeMixtureModel)
    assert model_spec(model).noise == ("noise_log_density" in case["kwargs"])


def test_pymc_model_matches_the_plain_pymc_oracle(case):
    """The row-plan Op (one kernel pass, Fisher's identity) against pm.MvNormal per pattern:
    the density at three random points, the gradient at the first (its finite differences,
    four oracle densities a parameter, were a twentieth of six test files' time)."""
    rng = case["rng"]
    names = [v.name for v in case["model"].value_vars]  # the order of dlogp's entries
    for draw in range(3):
        _, point = _random_point(case["model"], rng)
        assert case["logp"](point) == pytest.approx(case["oracle_logp"](point), rel=1e-11)
        if draw == 0:
            np.testing.assert_allclose(
                case["dlogp"](point),
                _finite_difference_gradient(case["oracle_logp"], point, names),
                rtol=1e-7, atol=1e-7)


def test_native_density_matches_the_pymc_model(case):
    """The native route (C callback) against the PyMC model: log densities differ by a
    constant up to PyMC's Normal's own error (~1e-8 a value, varying slightly with the point,
    see tests/test_native.py), so differences between points and the gradients must agree."""
    rng = case["rng"]
    values, expected = [], []
    for _ in range(3):
        theta, point = _random_point(case["model"], rng)
        value, grad = _callback_logp(case["compiled"], theta)
        np.testing.assert_allclose(grad, case["dlogp"](point), rtol=1e-8, atol=1e-8)
        # The Python-callable density (start selection) is the same function compiled apart.
        direct, direct_grad = case["compiled"].density()(theta)
        assert direct == pytest.approx(value, rel=1e-13)
        np.testing.assert_allclose(direct_grad, grad, rtol=1e-12, atol=1e-12)
        values.append(value)
        expected.append(case["logp"](point))
    np.testing.assert_allclose(np.diff(values), np.diff(expected), rtol=1e-10, atol=1e-8)
    assert values[0] == pytest.approx(expected[0], rel=1e-8)


def test_expand_writes_the_trace_layout(case):
    """The native expand callback writes what trace_layout names, noise weight included."""
    model, compiled = case["model"], case["compiled"]
    theta, _ = _random_point(model, case["rng"])
    out = np.empty(compiled.n_expanded)
    rc = compiled.compiled_expand_func.ctypes(theta.size, out.size, _pointer(theta),
                                              _pointer(out), compiled.user_data.ctypes.data)
    assert rc == 0
    names, shapes, _ = trace_layout(model)
    sizes = [int(np.prod(s)) for s in shapes]
    values = dict(zip(names, np.split(out, np.cumsum(sizes)[:-1]), strict=True))
    spec = model_spec(model)
    if spec.noise:
        mixing = values[layout.MIXING]
        np.testing.assert_array_equal(values["weights"], mixing[:K])
        assert values["noise_weight"][0] == mixing[K]
        assert mixing.sum() == pytest.approx(1.0)
    else:
        assert "noise_weight" not in values


def test_weighted_posterior_equals_the_expanded_data():
    """Integer weights on collapsed rows give the log density of the replicated rows."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((25, 2)) * [1.0, 2.0]
    X[3, 1] = np.nan
    g = rng.integers(1, 4, 25)
    expanded = np.repeat(X, g, axis=0)
    center, scale = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
    collapsed = build_model((X - center) / scale, 2, "full", center=center, scale=scale,
                            sample_weight=g.astype(float))
    replicated = build_model((expanded - center) / scale, 2, "full", center=center,
                             scale=scale)
    a = compile_nutpie(collapsed, backend="native", reuse=False).density()
    b = compile_nutpie(replicated, backend="native", reuse=False).density()
    for _ in range(3):
        theta, _ = _random_point(collapsed, rng)
        (va, ga), (vb, gb) = a(theta), b(theta)
        assert va == pytest.approx(vb, rel=1e-12)
        np.testing.assert_allclose(ga, gb, rtol=1e-9, atol=1e-9)


def test_complete_data_keep_the_complete_data_model():
    """Without any of the four the model is today's (no plan, no noise block) and all-unknown
    labels change nothing."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 2))
    plain = build_model(X, 2, "full")
    unknown = build_model(X, 2, "full", labels=np.full(30, -1))
    for model in (plain, unknown):
        assert "plan_x" not in model.named_vars
        assert [rv.name for rv in model.free_RVs][0] == "weights"
        assert [d.name for d in model.deterministics] == list(layout.DETERMINISTICS)


def test_noise_initial_point_puts_the_noise_weight_last():
    X = np.random.default_rng(5).standard_normal((30, 2))
    model = build_model(X, 2, "diag", noise_log_density=-2.0)
    start = initial_point(model, np.array([0.6, 0.3]), np.zeros((2, 2)), np.ones((2, 2)),
                          noise_weight=0.1)
    np.testing.assert_allclose(start[layout.MIXING], [0.6, 0.3, 0.1])
    assert "weights" not in start


@pytest.mark.parametrize("bad, message", [
    ({"labels": np.full(30, 2)}, "labels"),
    ({"sample_weight": -np.ones(30)}, "sample_weight"),
])
def test_build_model_refuses_bad_observations(bad, message):
    X = np.random.default_rng(6).standard_normal((30, 2))
    with pytest.raises(ValueError, match=message):
        build_model(X, 2, "full", **bad)


# --------------------------------------------------------------------------------------------
# fit_bayes end to end
# --------------------------------------------------------------------------------------------
def _background(n=300, n_noise=40, seed=1):
    """Two Gaussian clusters and a uniform background over a larger box."""
    rng = np.random.default_rng(seed)
    z = rng.choice(2, n, p=[0.6, 0.4])
    X = np.where(z[:, None] == 0, rng.normal([0.0, 0.0], 1.0, (n, 2)),
                 rng.normal([6.0, 5.0], 0.7, (n, 2)))
    U = rng.uniform([-8.0, -8.0], [14.0, 13.0], (n_noise, 2))
    return np.vstack([X, U]), np.r_[z, np.full(n_noise, 2)], rng


@pytest.fixture(scope="module")
def fitted_all(tmp_path_factory):
    """A short fit with all four (missing values, weights, labels, noise), saved and loaded."""
    from bayesgmm import fit_bayes, load

    X, z, rng = _background()
    gaps = np.flatnonzero(rng.random(len(X)) < 0.2)  # one missing value in these rows
    X[gaps, rng.integers(0, 2, gaps.size)] = np.nan
    X[5] = np.nan  # a row with nothing observed: dropped with a note
    labels = np.full(len(X), -1)
    labels[10:30] = z[10:30]
    weights = rng.integers(1, 3, len(X)).astype(float)
    result = fit_bayes(X, 2, noise=True, labels=labels, sample_weight=weights, draws=200,
                       tune=200, chains=2, random_state=0, progressbar=False)
    path = result.save(tmp_path_factory.mktemp("fit") / "result")
    return result, load(path), labels, weights


def test_fit_bayes_records_the_observations(fitted_all):
    result, _, labels, weights = fitted_all
    summary = result.observations_summary
    assert summary["n_rows_dropped"] == 1 and summary["n_missing_values"] > 0
    assert summary["noise"] and summary["weighted"] and summary["n_labelled"] == 20
    assert result.settings["nutpie_backend"] == "native"  # no fallback to a slow route
    observed = result.idata["observed_data"].to_dataset()
    kept = np.arange(len(labels)) != 5
    np.testing.assert_array_equal(observed["labels"].values, labels[kept])
    np.testing.assert_array_equal(observed["sample_weight"].values, weights[kept])
    assert np.isnan(observed["x"].values).sum() == summary["n_missing_values"]


def test_noise_weight_draws_close_the_simplex(fitted_all):
    result, _, _, _ = fitted_all
    post = result.posterior
    total = post["weights"].sum("component") + post["noise_weight"]
    np.testing.assert_allclose(total.values, 1.0, rtol=1e-12)
    assert 0 < float(post["noise_weight"].min()) and float(post["noise_weight"].max()) < 1


def test_labelled_points_memberships_are_their_labels(fitted_all):
    result, _, labels, _ = fitted_all
    members = result.memberships()
    kept = labels[np.arange(len(labels)) != 5]
    assert members.mean.shape == (kept.size, 3)  # K + the noise column
    np.testing.assert_allclose(members.mean.sum(axis=1), 1.0, rtol=1e-12)
    rows = np.flatnonzero(kept >= 0)
    one_hot = np.eye(3)[kept[rows]]
    np.testing.assert_array_equal(members.mean[rows], one_hot)
    np.testing.assert_array_equal(members.lower[rows], one_hot)
    # Unlabelled rows have a noise membership of their own.
    assert members.mean[kept < 0, 2].max() > 0.5


def test_log_likelihood_group_is_the_plan_pointwise(fitted_all):
    """Every row's pointwise value, missing coordinates marginalised (finite everywhere)."""
    result, _, _, _ = fitted_all
    ll = result.idata["log_likelihood"]["x"].values
    assert ll.shape[2] == result.idata["observed_data"]["x"].shape[0]
    assert np.all(np.isfinite(ll))


def test_saved_and_loaded_fit_keeps_the_observations(fitted_all):
    result, loaded, _, _ = fitted_all
    assert loaded.observations_summary == result.observations_summary
    assert loaded.noise and loaded.noise_log_density == result.noise_log_density
    np.testing.assert_array_equal(loaded.posterior["noise_weight"].values,
                                  result.posterior["noise_weight"].values)
    np.testing.assert_array_equal(loaded.memberships().mean, result.memberships().mean)


def test_predict_proba_marginalises_missing_values_of_new_points(fitted_all):
    result, _, _, _ = fitted_all
    X_new = np.array([[0.0, np.nan], [np.nan, 5.0], [6.0, 5.0]])
    proba = result.predict_proba(X_new)
    assert proba.mean.shape == (3, 3)
    np.testing.assert_allclose(proba.mean.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(result.score_samples(X_new)))


def test_fit_bayes_refuses_an_em_without_the_noise_component():
    from bayesgmm import fit_bayes, fit_em

    X, _, _ = _background(n=100, n_noise=10)
    em = fit_em(X, 2, random_state=0)
    with pytest.raises(ValueError, match="noise"):
        fit_bayes(X, 2, em=em, noise=True, progressbar=False)


@pytest.mark.slow
def test_noise_fraction_is_recovered_within_its_interval():
    """A simulated uniform background: its weight inside the 94% interval of noise_weight.

    The background points inside the clusters are indistinguishable from them, so the target
    is the weight of the uniform density itself (n_noise / N), which the model estimates."""
    from bayesgmm import fit_bayes

    X, _, _ = _background(n=600, n_noise=120, seed=3)
    result = fit_bayes(X, 2, noise=True, random_state=1, progressbar=False)
    nw = result.posterior["noise_weight"].values.ravel()
    lo, hi = np.quantile(nw, [0.03, 0.97])
    assert lo <= 120 / 720 <= hi


@pytest.mark.slow
def test_weighted_posterior_equals_the_expanded_data_within_mcse():
    """Frequency weights on collapsed rows vs the replicated rows: posterior means agree
    within 4 combined Monte-Carlo standard errors."""
    import arviz as az

    from bayesgmm import fit_bayes

    rng = np.random.default_rng(7)
    X = np.r_[rng.normal(0.0, 1.0, (80, 2)), rng.normal(4.0, 0.8, (60, 2))]
    g = rng.integers(1, 4, X.shape[0])
    kwargs = dict(draws=2000, random_state=2, progressbar=False)
    collapsed = fit_bayes(X, 2, covariance_type="diag", sample_weight=g.astype(float), **kwargs)
    expanded = fit_bayes(np.repeat(X, g, axis=0), 2, covariance_type="diag", **kwargs)
    # The two fits may number the components differently: match them by their first mean.
    order = [np.argsort(r.posterior["means"].mean(("chain", "draw")).values[:, 0])
             for r in (collapsed, expanded)]
    for name in ("weights", "means", "covariances"):
        a = collapsed.posterior[name].isel(component=order[0])
        b = expanded.posterior[name].isel(component=order[1])
        mcse = np.hypot(az.mcse(a.to_dataset())[name].values,
                        az.mcse(b.to_dataset())[name].values)
        diff = np.abs(a.mean(("chain", "draw")).values - b.mean(("chain", "draw")).values)
        assert np.all(diff <= 4 * mcse + 1e-12), name


def test_a_reused_native_model_reads_the_new_plan():
    """compile_nutpie's cache re-points a compiled model at another data set's plan (other N,
    patterns, labels): the same density as a fresh compile, exactly."""
    rng = np.random.default_rng(8)

    def model_of(n):
        X = rng.standard_normal((n, 2)) * [1.0, 2.0]
        X[rng.random(n) < 0.3, rng.integers(0, 2)] = np.nan
        labels = np.where(rng.random(n) < 0.2, rng.integers(0, 2, n), -1)
        center, scale = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
        return build_model((X - center) / scale, 2, "full", center=center, scale=scale,
                           labels=labels, noise_log_density=-4.0)

    first, second = model_of(40), model_of(55)
    compile_nutpie(first, backend="native")
    reused = compile_nutpie(second, backend="native")
    fresh = compile_nutpie(second, backend="native", reuse=False)
    theta, _ = _random_point(second, rng)
    (va, ga), (vb, gb) = reused.density()(theta), fresh.density()(theta)
    assert va == vb
    np.testing.assert_array_equal(ga, gb)
    assert _callback_logp(reused, theta)[0] == pytest.approx(vb, rel=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("route", [{"sampler": "pymc"}, {"nutpie_backend": "pyfunc"},
                                   {"nutpie_backend": "numba"}],
                         ids=["pymc", "pyfunc", "numba"])
def test_the_pymc_graph_routes_sample_the_plan_model(route):
    """PyMC's NUTS and nutpie's routes over the PyMC graph run the row-plan model too (the
    plan Op's numba implementation); their posterior of the noise weight is a proper one."""
    from bayesgmm import fit_bayes

    X, _, rng = _background(n=150, n_noise=20)
    X[rng.random(len(X)) < 0.2, 0] = np.nan
    result = fit_bayes(X, 2, noise=True, draws=200, tune=200, chains=2, random_state=0,
                       progressbar=False, **route)
    nw = result.posterior["noise_weight"].values
    assert np.all((0 < nw) & (nw < 1)) and np.std(nw) > 0
    assert result.settings["nutpie_backend"] in (None, route.get("nutpie_backend"))


def test_posterior_predictive_draws_noise_points_in_the_box(fitted_all):
    result, _, _, _ = fitted_all
    rep = result.sample_posterior_predictive(200, max_draws=50, random_state=0)
    component = rep["component"].values
    x = rep["x"].values
    noise = component == -1
    lower, upper = result.em.noise_bounds
    assert 0 < noise.mean() < 0.5
    assert np.all((x[noise] >= lower) & (x[noise] <= upper))
    assert set(np.unique(component[~noise])) <= {0, 1}


def test_diagnostic_figures_show_the_noise_weight(fitted_all):
    """QA: the forest, trace and rank plots showed the weights and means only; the noise
    weight, the parameter a noise model exists to estimate, had no panel."""
    from bayesgmm import plots

    result = fitted_all[0]
    K = result.n_components
    weights_panel = plots.plot_forest(result).axes[0]
    assert [t.get_text() for t in weights_panel.get_yticklabels()][-1] == "noise"
    assert len(weights_panel.get_yticks()) == K + 1
    for figure in (plots.plot_trace(result), plots.plot_rank(result)):
        assert any(a.get_title().startswith("noise_weight") or
                   "noise_weight" in a.get_ylabel() for a in figure.axes)
    # QA: the rank plot tested the noise weight, the verdict did not (and at another level):
    # the same scalars in both
    from bayesgmm.diagnostics import RANK_VARIABLES

    assert plots._common._DIAGNOSED == RANK_VARIABLES
    assert "noise_weight" in result.diagnostics().rank_pvalues


def test_report_states_the_noise_weight_prior(fitted_all):
    """QA: the report's prior table said "weights ~ Dirichlet" with a noise component, whose
    weight shares that Dirichlet."""
    from bayesgmm import report

    result = fitted_all[0]
    assert "(weights, noise weight) ~ Dirichlet(alpha, ..., alpha), K + 1 entries" in \
        report._section_reproducibility(result)


@pytest.mark.slow
def test_noise_weight_concentrates_near_zero_without_noise():
    """No background in the data: the noise weight's posterior sits near 0."""
    from bayesgmm import fit_bayes

    X, _, _ = _background(n=600, n_noise=0, seed=4)
    result = fit_bayes(X, 2, noise=True, random_state=1, progressbar=False)
    nw = result.posterior["noise_weight"].values.ravel()
    assert np.quantile(nw, 0.97) < 0.02


def test_noise_weight_is_summarised_compared_and_diagnosed(fitted_all):
    """The noise weight is a parameter like the others: in compare_em (beside EM's), the
    summary and the verdict's R-hat / ESS checks."""
    result, loaded, _, _ = fitted_all
    assert result.parameter_names[-1] == "noise_weight"
    row = result.compare_em().loc["noise_weight"]
    assert row["em"] == result.em.noise_weight
    assert row["eti94_lb"] <= row["mean"] <= row["eti94_ub"]
    assert "noise_weight" in result.summary().index
    nw = result.posterior["noise_weight"]
    # Each chain stuck at its own value: only the noise weight shows it.
    C, S = nw.shape
    stuck = 0.5 * np.arange(C)[:, None] + 0.01 * np.random.default_rng(0).normal(size=(C, S))
    posterior = result.posterior.assign(noise_weight=(nw.dims, stuck))
    from bayesgmm.diagnostics import diagnose

    checked = diagnose(posterior, var_names=result.parameter_names)
    assert "noise_weight" in next(c for c in checked.checks if c.name == "max R-hat").problem
    assert loaded.diagnostics().verdict == result.diagnostics().verdict


def test_row_numbers_skip_the_dropped_rows(fitted_all):
    """Points are named by their row in the caller's data, also after the fit dropped a row
    (row 5: nothing observed), and in the loaded result; the report's table uses them."""
    from bayesgmm.report import _section_membership

    result, loaded, labels, _ = fitted_all
    expected = np.delete(np.arange(len(labels)), 5)
    np.testing.assert_array_equal(result.row_numbers, expected)
    np.testing.assert_array_equal(loaded.row_numbers, expected)
    X = result.idata["observed_data"]["x"].values
    proba = result.memberships()
    # every point made uncertain, so that the table (uncertain points only) lists them all
    proba = dataclasses.replace(proba, mean=np.full_like(proba.mean, 1 / proba.mean.shape[1]))
    page = _section_membership(result, X, proba, lambda *a, **k: "", n_uncertain=len(X))
    assert f"<th scope=\"row\">{len(labels) - 1}</th>" in page  # the last row keeps its number


def test_known_labels_on_every_component_fix_the_labelling(fitted_all):
    """Known labels name the components: no draw is relabelled (a relabelled draw would pair
    labelled rows with the wrong component), and the pointwise log-likelihood is the model's
    own, from the draws as sampled."""
    result, loaded, labels, _ = fitted_all
    assert set(labels[labels >= 0]) == {0, 1}  # the premise: both components labelled
    assert result.label_switching.method == "labelled"
    assert result.label_switching.total_permuted == 0
    assert "known labels name every component" in str(result.label_switching)
    assert loaded.label_switching.method == "labelled"
    raw = result.idata["posterior_unrelabelled"].to_dataset()
    for name in ("weights", "means"):
        np.testing.assert_array_equal(result.posterior[name].values, raw[name].values)


def test_known_labels_on_some_components_keep_them_in_place(tmp_path):
    """Labels naming only component 1: its draws are never permuted (the labelled rows tie it
    down), components 0 and 2 are relabelled among themselves; saved and loaded alike."""
    from bayesgmm import fit_bayes, load, methods_text

    rng = np.random.default_rng(4)
    z = rng.integers(0, 3, 150)
    X = np.array([-4.0, 0.0, 4.0])[z] + rng.normal(size=150)
    labels = np.where((z == 1) & (rng.random(150) < 0.5), 1, -1)
    result = fit_bayes(X, 3, labels=labels, draws=150, tune=200, chains=2, random_state=1,
                       progressbar=False)
    report = result.label_switching
    assert report.method == "stephens" and report.fixed_components == (1,)
    assert (report.permutations[..., 1] == 1).all()
    assert "component(s) 1 are named by known labels" in str(report)
    means = result.posterior["means"].mean(("chain", "draw")).values[:, 0]
    # component 1 is the labelled cluster's; 0 and 2 are the others, in the EM start's order
    np.testing.assert_allclose(means[1], 0.0, atol=0.6)
    np.testing.assert_allclose(sorted(means[[0, 2]]), [-4.0, 4.0], atol=0.6)
    assert load(result.save(tmp_path / "r")).label_switching.fixed_components == (1,)
    # one component held: said in the singular (QA112: "components 1, ... were held fixed")
    assert "; component 1, named by known labels, was held fixed" in \
        methods_text(result).paragraph


def test_posterior_predictions_with_unobserved_rows_and_noise(fitted_all):
    """A row with nothing observed: memberships = each draw's weights (noise last), density
    1; a far point is predicted as noise with -1, as EM's predict says it."""
    result, _, _, _ = fitted_all
    X = result.idata["observed_data"]["x"].values[:5].copy()
    X = X[~np.isnan(X).any(axis=1)][:3]
    X = np.vstack([X, [np.nan, np.nan], X[0] + 1e3])
    proba = result.predict_proba(X, max_draws=100)
    weights = result._with_noise_weight(result._draws(100)[0])
    np.testing.assert_allclose(proba.mean[3], weights.mean(axis=0), rtol=1e-12)
    assert result.score_samples(X, max_draws=100)[3] == 0.0
    assert result.predict(X)[-1] == -1 == result.em.predict(X)[-1]


def test_posterior_imputation_against_the_closed_form():
    """K = 1, 2-D: the posterior-mean imputation of x2 given x1 is the average over the
    draws of mu2 + s12 / s11 (x1 - mu1); multiple imputations have that mean and the variance
    of the law of total variance, E[s22 - s12^2 / s11] + Var[conditional mean]."""
    from bayesgmm import fit_bayes

    rng = np.random.default_rng(7)
    X = rng.multivariate_normal([1.0, -2.0], [[1.0, 0.8], [0.8, 2.0]], size=120)
    X[:10, 1] = np.nan
    result = fit_bayes(X, 1, draws=200, tune=300, chains=2, random_state=3, progressbar=False)
    w, m, L = result._draws(100)
    cov = L @ np.swapaxes(L, -1, -2)
    mu1, mu2 = m[:, 0, 0], m[:, 0, 1]
    s11, s12, s22 = cov[:, 0, 0, 0], cov[:, 0, 0, 1], cov[:, 0, 1, 1]
    cond_mean = mu2[:, None] + (s12 / s11)[:, None] * (X[None, :10, 0] - mu1[:, None])
    filled = result.impute(max_draws=100)
    np.testing.assert_allclose(filled[:10, 1], cond_mean.mean(axis=0), rtol=1e-10)
    np.testing.assert_array_equal(filled[10:], X[10:])
    draws = result.impute(n_imputations=4000, max_draws=100, random_state=0)
    assert draws.shape == (4000, 120, 2)
    np.testing.assert_array_equal(draws[:, 10:], np.broadcast_to(X[10:], (4000, 110, 2)))
    expected_var = (s22 - s12 ** 2 / s11).mean() + cond_mean.var(axis=0)
    np.testing.assert_allclose(draws[:, :10, 1].mean(axis=0), cond_mean.mean(axis=0),
                               atol=4 * np.sqrt(expected_var.max() / 4000))
    np.testing.assert_allclose(draws[:, :10, 1].var(axis=0), expected_var, rtol=0.1)
    again = result.impute(n_imputations=3, max_draws=100, random_state=0)
    np.testing.assert_array_equal(again, draws[:3])  # the same seed, the same imputations


def test_posterior_imputation_with_labels_noise_and_empty_rows(fitted_all):
    """The fit with everything: observed values kept, labelled rows imputed from their own
    component, nothing left missing; a row with nothing observed imputed too."""
    result, _, _, _ = fitted_all
    X = result.idata["observed_data"]["x"].values
    filled = result.impute()
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~np.isnan(X)], X[~np.isnan(X)])
    Xe = np.vstack([X[:5], [np.nan, np.nan]])
    several = result.impute(Xe, n_imputations=5, random_state=1)
    assert several.shape == (5, 6, 2) and not np.isnan(several).any()
    with pytest.raises(ValueError, match="n_imputations must be a positive integer"):
        result.impute(n_imputations=0)


def test_a_dataframe_index_names_the_rows(tmp_path):
    """Sample IDs in a DataFrame's index name the points in the posterior's tables and
    figures (saved and loaded too); a default index leaves the row numbers."""
    import pandas as pd

    from bayesgmm import fit_bayes, load
    from bayesgmm.report import build_em_report, build_report

    rng = np.random.default_rng(2)
    X = np.r_[rng.normal(0, 1, (40, 1)), rng.normal(2.5, 1, (40, 1))]
    frame = pd.DataFrame(X, columns=["x"], index=[f"id{i:03d}" for i in range(80)])
    frame.iloc[3] = np.nan  # dropped: the later rows keep their own names
    result = fit_bayes(frame, 2, draws=100, tune=150, chains=2, random_state=0,
                       progressbar=False)
    assert result.row_names[3] == "id004" and result.row_numbers[3] == 4
    assert list(load(result.save(tmp_path / "r")).row_names) == list(result.row_names)
    page, _ = build_report(result)
    assert "<th scope=\"row\">id0" in page
    build_em_report(result.em, frame)  # names its figures' points by the index too
    plain = fit_bayes(X, 2, draws=100, tune=150, chains=2, random_state=0, progressbar=False)
    np.testing.assert_array_equal(plain.row_names, np.arange(80))


def test_posterior_imputation_in_one_dimension_and_with_labels():
    """1-D data: every incomplete row has nothing observed (it crashed: "no row with an
    observed value"); its imputation is the mixture's mean, averaged over the draws. Labels
    given to impute(X) put a labelled row's imputation in its own component; max_draws is
    checked."""
    from bayesgmm import fit_bayes

    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 1, 100), rng.normal(5, 1, 100)]
    x[rng.random(200) < 0.1] = np.nan
    result = fit_bayes(x, 2, random_state=0, progressbar=False, draws=150, tune=200, chains=2)
    w, m, _ = result._draws(200)
    filled = result.impute(x)
    gaps = np.isnan(x)
    np.testing.assert_allclose(filled[gaps, 0], np.mean(np.sum(w * m[..., 0], axis=1)),
                               rtol=1e-10)
    assert result.impute(x, n_imputations=3).shape == (3, 200, 1)
    labels = np.full(200, -1)
    first = int(np.flatnonzero(gaps)[0])
    top = int(np.argmax(result.em.means[:, 0]))
    labels[first] = top
    own = result.impute(x, labels=labels)
    assert own[first, 0] == pytest.approx(np.mean(m[:, top, 0]), rel=1e-10)
    with pytest.raises(ValueError, match="max_draws must be an integer >= 1"):
        result.impute(x, max_draws=0)
    # max_draws=None is every draw in each method (predict_proba crashed on it: QA)
    every = result.predict_proba(x, max_draws=None)
    assert every.mean.shape == (200, 2)
    np.testing.assert_allclose(every.mean, result.predict_proba(x, max_draws=300).mean,
                               rtol=1e-12)  # 2 x 150 draws: all of them either way
    np.testing.assert_allclose(result.memberships(max_draws=None).mean,
                               every.mean[~gaps], rtol=1e-12)


def test_impute_without_data_warns_when_the_fit_left_rows_out(tiny_fit):
    """QA: `df[:] = result.impute()` failed (or would misalign) because the fitted rows are
    fewer than the user's when some had nothing observed; impute() says so and how."""
    import dataclasses
    import warnings

    summary = {**(tiny_fit.observations_summary or {}), "n_rows_dropped": 2}
    dropped = dataclasses.replace(tiny_fit, observations_summary=summary)
    with pytest.warns(UserWarning, match=r"left 2 row\(s\) out .*pass the data \(impute\(X\)\)"):
        dropped.impute()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny_fit.impute()  # nothing left out: no warning


def test_impute_gives_the_columns_back_in_the_frames_order(tiny_fit, old_faithful):
    """QA (wrong numbers): a DataFrame naming the features in another order was imputed in
    the fit's order, so `pd.DataFrame(post.impute(df), columns=df.columns)` swapped them."""
    holed = old_faithful.head(6).copy()
    holed.iloc[0, 0] = holed.iloc[1, 1] = np.nan
    swapped = holed[holed.columns[::-1]]
    filled = tiny_fit.impute(swapped, max_draws=20)
    np.testing.assert_array_equal(filled, tiny_fit.impute(holed, max_draws=20)[:, ::-1])
    assert filled[0, 0] == swapped.iloc[0, 0] and filled[1, 1] == swapped.iloc[1, 1]
    several = tiny_fit.impute(swapped, 3, max_draws=20, random_state=2)
    np.testing.assert_array_equal(
        several, tiny_fit.impute(holed, 3, max_draws=20, random_state=2)[..., ::-1])
    assert (several[:, 0, 0] == swapped.iloc[0, 0]).all()


def test_predict_proba_matches_a_labels_series_to_rows_by_index(old_faithful):
    """As EM's predict_proba, the fits and impute do (QA: the posterior's paired a Series
    with rows by position, so a reversed X gave the label to the wrong row), and whole-number
    floats with NaN for unknown are labels too."""
    from conftest import posterior_stand_in

    result = posterior_stand_in(old_faithful, 2)
    backwards = old_faithful.iloc[::-1]
    labels = pd.Series(-1, index=old_faithful.index)
    first = int(result.predict(old_faithful.iloc[[0]])[0])
    labels[0] = 1 - first  # against the data: only the label can put row 0 there
    p = result.predict_proba(backwards, labels=labels)
    row = backwards.index.get_loc(0)
    np.testing.assert_array_equal(p.mean[row], np.eye(2)[1 - first])
    np.testing.assert_array_equal(
        p.mean, result.predict_proba(backwards, labels=labels.reindex(backwards.index)
                                     .to_numpy()).mean)
    assert result.predict(backwards, labels=labels)[row] == 1 - first
    floats = np.where(labels.to_numpy() < 0, np.nan, labels.to_numpy().astype(float))
    np.testing.assert_array_equal(result.predict_proba(old_faithful, labels=floats).mean,
                                  result.predict_proba(old_faithful, labels=labels).mean)
