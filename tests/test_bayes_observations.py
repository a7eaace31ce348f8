"""The posterior with missing values, observation weights, known labels and a noise component.

Three statements of one density, checked against each other at random points (no sampling):
the plain-PyMC oracle (:func:`bayesgmm.reference.build_observations_oracle`: ``pm.MvNormal`` of
each missingness pattern's observed sub-vector, a ``pm.Potential`` of the weighted sum), the
PyMC model of :func:`bayesgmm.model.build_model` (the row-plan Op) and the native nutpie
density (:mod:`bayesgmm.backends.native`, through the compiled model's C callbacks).
"""

import ctypes

import numpy as np
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
        kwargs["noise_log_density"] = -float(np.sum(np.log(
            np.nanmax(X, axis=0) - np.nanmin(X, axis=0))))
    center = np.nanmean(X, axis=0)
    scale = np.nanstd(X, axis=0)
    if covariance_type == "spherical":
        scale = np.full(D, scale.mean())
    return X, center, scale, kwargs


CASES = [(v, ct) for v in VARIANTS for ct in ("full", "diag")] + [
    ("all", "tied"), ("all", "spherical")]


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
        "oracle_logp": oracle.compile_logp(mode=MODE),
        "oracle_dlogp": oracle.compile_dlogp(mode=MODE),
        "rng": np.random.default_rng(hash(request.param) % 2**32),
    }


def _random_point(model, rng):
    point, parts = {}, []
    for block in model_spec(model).blocks:
        value = rng.normal(0.0, 0.7, size=block.value_shape)
        point[block.value_name] = value
        parts.append(value.ravel())
    return np.concatenate(parts), point


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
    """The row-plan Op (one kernel pass, Fisher's identity) against pm.MvNormal per pattern."""
    rng = case["rng"]
    for _ in range(3):
        _, point = _random_point(case["model"], rng)
        assert case["logp"](point) == pytest.approx(case["oracle_logp"](point), rel=1e-11)
        np.testing.assert_allclose(case["dlogp"](point), case["oracle_dlogp"](point),
                                   rtol=1e-8, atol=1e-8)


def test_native_density_matches_the_pymc_model(case):
    """The native route (C callback) against the PyMC model: log densities differ by one
    constant (PyMC's Normal carries a small constant error, see tests/test_native.py), so
    differences between points and the gradients must agree."""
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
