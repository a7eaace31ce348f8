"""The hand-written log-density of bayesgmm.native against the PyMC model it stands in for."""

import collections
import ctypes
import dataclasses

import numpy as np
import pymc as pm
import pytensor
import pytest
from pymc.distributions.transforms import CholeskyCorrTransform
from scipy import stats

from bayesgmm import layout, native
from bayesgmm.backends import native as backends_native
from bayesgmm.backends.nutpie import compile_nutpie
from bayesgmm.model import (
    build_model,
    initial_point,
    model_spec,
    trace_layout,
)
from bayesgmm.priors import Priors, Standardisation

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# PyMC's graphs evaluated by their Python implementations: a numba compile per case would cost
# minutes, and the oracle is the math, not PyMC's numba backend.
MODE = "FAST_COMPILE"
# PyMC 6.4's Normal log-density carries a small constant error (1.9e-9 at sigma = 2, 1.2e-8 at
# 1.5, against scipy.stats.norm): the oracle below removes it, measured, for the K D means.
CASES = [(ct, D, False) for ct in COVARIANCE_TYPES for D in (1, 2, 3)] + [
    (ct, 1, True) for ct in COVARIANCE_TYPES]


def _case_id(case):
    ct, D, ordered = case
    return f"{ct}-D{D}" + ("-ordered" if ordered else "")


@pytest.fixture(scope="module", params=CASES, ids=_case_id)
def case(request):
    """A model with non-default priors, data-unit standardisation and its free-variable layout
    (one per case for the module: the PyMC functions compiled from it are shared)."""
    ct, D, ordered = request.param
    rng = np.random.default_rng(abs(hash(request.param)) % 2**32)
    K = 3
    X = rng.standard_normal((60, D))
    scale = np.full(D, 1.7) if ct == "spherical" else rng.uniform(0.5, 2.0, D)
    priors = Priors(weights_concentration=0.7, means_sd=1.5, sd_median=0.8, sd_log_sd=0.6,
                    lkj_eta=1.5)
    model = build_model(X, K, ct, priors, center=rng.standard_normal(D), scale=scale,
                        ordered_means=ordered)
    return model, X, rng


def _random_point(model, rng):
    """A random unconstrained point, flat (nutpie's order) and as PyMC's value dict.

    Names and shapes from the layout, not ``model.initial_point()`` (a PyTensor compile per
    call); test_model_variables_are_the_layout_blocks checks them against the model."""
    point, parts = {}, []
    for block in model_spec(model).blocks:
        value = rng.normal(0.0, 0.7, size=block.value_shape)
        point[block.value_name] = value
        parts.append(value.ravel())
    return np.concatenate(parts), point


@pytest.fixture(scope="module")
def pymc_density(case):
    """The PyMC model's own logp and dlogp of the case, compiled once for all tests."""
    model, _, _ = case
    return model.compile_logp(mode=MODE), model.compile_dlogp(mode=MODE)


def _native_logp(model, theta):
    spec = model_spec(model)
    grad = np.empty_like(theta)
    value = native.logp_and_gradient(
        theta, model["x_std"].get_value(), spec.n_components,
        native.COVARIANCE_CODES[spec.covariance_type], int(spec.ordered_means),
        native.correlation_positions(spec.n_features), native._prior_parameters(spec),
        -np.sum(np.log(spec.scale)), grad)
    return value, grad


def _pymc_normal_offset(sigma):
    """PyMC's Normal log-density minus scipy's (a constant: the same at any value)."""
    ours = pm.logp(pm.Normal.dist(0.0, sigma), 0.3).eval(mode=MODE)
    return float(ours - stats.norm.logpdf(0.3, 0.0, sigma))


def test_log_density_and_gradient_match_the_pymc_model(case, pymc_density):
    model, _, rng = case
    spec = model_spec(model)
    logp, dlogp = pymc_density
    offset = spec.n_components * spec.n_features * _pymc_normal_offset(spec.priors.means_sd)
    for _ in range(3):
        theta, point = _random_point(model, rng)
        value, grad = _native_logp(model, theta)
        assert value == pytest.approx(logp(point) - offset, rel=1e-12, abs=1e-10)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-9, atol=1e-9)


def test_log_density_differences_match_exactly(case, pymc_density):
    """Differences cancel PyMC's constant: the densities agree to rounding."""
    model, _, rng = case
    logp, _ = pymc_density
    (theta_a, point_a), (theta_b, point_b) = _random_point(model, rng), _random_point(model, rng)
    ours = _native_logp(model, theta_a)[0] - _native_logp(model, theta_b)[0]
    theirs = logp(point_a) - logp(point_b)
    assert ours == pytest.approx(theirs, rel=1e-11, abs=1e-9)


def test_unconstrained_point_matches_pymc(case):
    model, X, _ = case
    spec = model_spec(model)
    K, D = spec.n_components, spec.n_features
    rng = np.random.default_rng(0)
    full = np.array([np.cov(rng.standard_normal((20, D)), rowvar=False).reshape(D, D)
                     for _ in range(K)])
    covariances = {"full": full, "tied": full[0], "diag": np.diagonal(full, axis1=1, axis2=2),
                   "spherical": np.diagonal(full, axis1=1, axis2=2).mean(axis=1)}
    means = np.sort(rng.standard_normal((K, D)), axis=0)
    args = (np.array([0.2, 0.3, 0.5]), means, covariances[spec.covariance_type])
    start = initial_point(model, *args)
    expected = initial_point(model, *args, transformed=True)
    flat = np.concatenate([np.ravel(expected[model.rvs_to_values[rv].name])
                           for rv in model.free_RVs])
    np.testing.assert_allclose(native.unconstrained_point(spec, start), flat, rtol=1e-12,
                               atol=1e-12)


def test_expand_matches_the_model_variables(case):
    """The trace's names, shapes and values are what nutpie's own route computes from the model
    (``unobserved_value_vars`` at the point)."""
    model, _, rng = case
    spec = model_spec(model)
    names, shapes, reparameterized = trace_layout(model)
    assert names == [var.name for var in model.unobserved_value_vars]
    assert reparameterized == [model.rvs_to_values[rv].name for rv in model.free_RVs
                               if model.rvs_to_transforms.get(rv) is not None]
    fn = pm.compile(model.value_vars, model.unobserved_value_vars, mode=MODE,
                    on_unused_input="ignore")
    theta, point = _random_point(model, rng)
    expected = fn(*[point[var.name] for var in model.value_vars])
    out = np.empty(sum(int(np.prod(s)) for s in shapes))
    native.expand(theta, spec.n_components, spec.n_features,
                  native.COVARIANCE_CODES[spec.covariance_type], int(spec.ordered_means),
                  native.correlation_positions(spec.n_features), spec.center, spec.scale, out)
    start = 0
    for name, shape, value in zip(names, shapes, expected, strict=True):
        assert value.shape == tuple(shape), name
        size = int(np.prod(shape))
        np.testing.assert_allclose(out[start:start + size].reshape(shape), value, rtol=1e-12,
                                   atol=1e-14, err_msg=name)
        start += size


@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_correlation_positions_follow_pymcs_transform(D):
    """Row i of PyMC's backward transform is [a_i, 1] / norm, a_i from the spiral positions."""
    m = D * (D - 1) // 2
    vector = np.arange(1.0, m + 1.0)
    chol = CholeskyCorrTransform(n=D).backward(vector).eval(mode=MODE)
    positions = native.correlation_positions(D)
    rows, cols = positions.T
    np.testing.assert_allclose(chol[rows, cols] / chol[rows, rows], vector, rtol=1e-13)
    assert len({tuple(p) for p in positions}) == m and np.all(cols < rows)


def _call(cfunc, *args):
    return cfunc.ctypes(*args)


def _pointer(array):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def test_nutpie_callbacks_evaluate_the_density_on_the_current_data():
    """The C callbacks nutpie calls read the data through the user-data header, also after
    ``with_data`` (new N); non-finite values come back as nutpie's recoverable codes."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 2))
    model = build_model(X, 2, "full")
    compiled = compile_nutpie(model, backend="native", reuse=False)
    assert isinstance(compiled, native.NativeMixtureModel)
    theta, _ = _random_point(model, rng)
    for data in (X, rng.standard_normal((31, 2)) * 2.0):
        current = compiled.with_data(x_std=data)
        grad, logp = np.empty_like(theta), np.empty(1)
        rc = _call(current.compiled_logp_func, theta.size, _pointer(theta), _pointer(grad),
                   _pointer(logp), current.user_data.ctypes.data)
        assert rc == 0
        other = build_model(data, 2, "full")
        value, expected = _native_logp(other, theta)
        assert logp[0] == value
        np.testing.assert_array_equal(grad, expected)
        out = np.empty(current.n_expanded)
        rc = _call(current.compiled_expand_func, theta.size, out.size, _pointer(theta),
                   _pointer(out), current.user_data.ctypes.data)
        assert rc == 0
        np.testing.assert_array_equal(out[:theta.size], theta)

    bad = theta.copy()
    bad[0] = np.nan
    rc = _call(compiled.compiled_logp_func, bad.size, _pointer(bad), _pointer(grad),
               _pointer(logp), compiled.user_data.ctypes.data)
    assert rc in (3, 4)
    # An sd underflowing to 0 (an extreme proposal) is a value or a divergence, never an
    # error (code 1: an exception inside the callback, which would stop the sampler).
    for sd_log in (-800.0, 800.0):
        extreme = theta.copy()
        extreme[1 + 4] = sd_log  # first entry of sd_z_log__ (after 1 weight and 2 x 2 means)
        rc = _call(compiled.compiled_logp_func, extreme.size, _pointer(extreme),
                   _pointer(grad), _pointer(logp), compiled.user_data.ctypes.data)
        assert rc in (0, 3, 4)
        assert rc != 0 or (np.isfinite(logp[0]) and np.all(np.isfinite(grad)))
    rc = _call(compiled.compiled_logp_func, bad.size - 1, _pointer(bad), _pointer(grad),
               _pointer(logp), compiled.user_data.ctypes.data)
    assert rc == -1


def test_with_data_checks_names_and_shapes():
    model = build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag")
    compiled = compile_nutpie(model, backend="native", reuse=False)
    with pytest.raises(KeyError, match="Unknown shared variable"):
        compiled.with_data(y=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="rank"):
        compiled.with_data(x_std=np.zeros(3))
    with pytest.raises(ValueError, match="2 features"):
        compiled.with_data(x_std=np.zeros((3, 3)))


def test_native_refuses_a_model_changed_after_build_model():
    """The native density is build_model's: a model with an added term goes to the PyMC graph
    ("auto") or is refused ("native"), never silently sampled without the term."""
    model = build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag")
    with model:
        pm.Potential("extra", -pytensor.tensor.sum(model["means_z"] ** 2))
    with pytest.raises(ValueError, match="potentials"):
        compile_nutpie(model, backend="native", reuse=False)


def test_the_nutpie_release_is_a_checked_one():
    # its internals are used only for the releases they were checked against; a new release
    # makes this fail so that the check (and NUTPIE_CHECKED) is renewed (PyTensor's:
    # test_pytensor_numba.py)
    from bayesgmm.backends import nutpie_model

    assert nutpie_model.nutpie_checked(), nutpie_model._NUTPIE_PROBLEM


@pytest.fixture
def unchecked_nutpie(monkeypatch):
    """nutpie taken for a release whose internals were not checked, its compile_pymc_model
    replaced by a recorder (no compilation) returning a bare object: any write of a private
    field, any ``with_data``, would fail on it. Yields the recorded calls."""
    import nutpie

    from bayesgmm.backends import nutpie as nutpie_backend
    from bayesgmm.backends import nutpie_model

    monkeypatch.setattr(nutpie_model, "_NUTPIE_PROBLEM", "nutpie 9.9.0 is not a checked release")
    monkeypatch.setattr(nutpie_backend, "_NUTPIE_CACHE", collections.OrderedDict())
    calls = []

    def compile_pymc_model(model, **kwargs):
        calls.append(kwargs)
        return calls  # stands for nutpie's compiled model

    monkeypatch.setattr(nutpie, "compile_pymc_model", compile_pymc_model)
    return calls


def test_an_unchecked_nutpie_takes_its_public_route(unchecked_nutpie):
    """With a nutpie release whose internals were not checked, "auto" warns and compiles through
    nutpie's public API alone, the exact start given at compile time; the native and pyfunc
    routes, and the private-field writers, raise NutpieVersionError."""
    from bayesgmm.backends import nutpie_model

    X = np.random.default_rng(0).standard_normal((20, 2))
    model = build_model(X, 2, "diag")
    start = initial_point(model, np.array([0.4, 0.6]), np.array([[-1.0, 0.0], [1.0, 0.0]]),
                          np.ones((2, 2)))
    for backend in ("native", "pyfunc"):
        with pytest.raises(nutpie_model.NutpieVersionError, match="9.9.0"):
            compile_nutpie(model, start, backend=backend)
    with pytest.raises(nutpie_model.NutpieVersionError):
        nutpie_model.with_start(object(), {}, lambda seed: None)
    with pytest.raises(nutpie_model.NutpieVersionError):
        nutpie_model.with_shared_data(object(), {})
    with pytest.warns(RuntimeWarning, match="native nutpie model is unavailable"):
        compiled = compile_nutpie(model, start, backend="auto")
    assert compiled is unchecked_nutpie  # nutpie's own model, untouched
    (kwargs,) = unchecked_nutpie
    assert kwargs["backend"] == "numba" and kwargs["jitter_rvs"] == set()
    assert kwargs["initial_points"].keys() == start.keys()
    assert nutpie_model.backend_of(compiled) == "numba"
    with pytest.warns(RuntimeWarning, match="jitter=0.1"):
        compile_nutpie(model, start, backend="numba", jitter=0.1)
    assert len(unchecked_nutpie) == 2  # compiled again: the start is part of the model


def test_an_error_in_the_native_route_is_not_a_fallback(monkeypatch):
    """Only the version check's NutpieVersionError sends "auto" to nutpie's numba route: any
    other error from compiling the native model (a bug in bayesgmm) propagates."""
    import nutpie

    from bayesgmm.backends import nutpie as nutpie_backend

    def broken(model):
        raise TypeError("a bug in compile_native")

    def never(*args, **kwargs):
        raise AssertionError("fell back to nutpie's numba route")

    monkeypatch.setattr(nutpie_backend, "_compile_native", broken)
    monkeypatch.setattr(nutpie, "compile_pymc_model", never)
    model = build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag")
    with pytest.raises(TypeError, match="a bug in compile_native"):
        compile_nutpie(model, backend="auto", reuse=False)


@pytest.mark.slow
def test_auto_samples_a_changed_model_through_its_pymc_graph():
    model = build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag")
    with model:
        pm.Potential("extra", -pytensor.tensor.sum(model["means_z"] ** 2))
    compiled = compile_nutpie(model, backend="auto", reuse=False)
    assert not isinstance(compiled, native.NativeMixtureModel)


# --------------------------------------------------------------------------------------------
# Laplace whitening
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def whitened():
    """A native model whitened at its mode, with its unwhitened twin and a start."""
    rng = np.random.default_rng(11)
    X = np.concatenate([rng.normal(-2.0, 0.7, (60, 2)), rng.normal(1.5, 1.0, (90, 2))])
    model = build_model(X, 2, "full")
    em_like = initial_point(model, np.array([0.4, 0.6]), np.array([[-2.0, -2.0], [1.5, 1.5]]),
                            np.array([np.eye(2) * 0.5, np.eye(2)]))
    theta0 = native.unconstrained_point(model_spec(model), em_like)
    plain = compile_nutpie(model, backend="native", reuse=False, laplace=False)
    return plain, plain.with_laplace(theta0), theta0


def test_laplace_whitening_finds_the_mode_and_unit_curvature(whitened):
    plain, model, _ = whitened
    assert model.whitened and not plain.whitened
    shift = model.shared_data["laplace_shift"]
    A = model.shared_data["laplace_map"]
    density = plain.density()
    assert np.max(np.abs(density(shift)[1])) < 1e-6  # a stationary point
    # In the sampler's coordinates the negative Hessian at the mode is the identity.
    curvature = A.T @ native._negative_hessian(density, shift, 1e-5) @ A
    np.testing.assert_allclose(curvature, np.eye(shift.size), atol=1e-5)
    np.testing.assert_allclose(model.shared_data["laplace_inverse"] @ A, np.eye(shift.size),
                               atol=1e-10)


def test_whitened_callbacks_are_the_density_in_new_coordinates(whitened):
    plain, model, theta0 = whitened
    shift, A = model.shared_data["laplace_shift"], model.shared_data["laplace_map"]
    z = model.to_sampler(theta0)
    np.testing.assert_allclose(shift + A @ z, theta0, rtol=1e-12, atol=1e-12)
    for point in (z, z + 0.3):
        grad, logp = np.empty_like(point), np.empty(1)
        rc = _call(model.compiled_logp_func, point.size, _pointer(point), _pointer(grad),
                   _pointer(logp), model.user_data.ctypes.data)
        assert rc == 0
        value, grad_theta = plain.density()(shift + A @ point)
        assert logp[0] == pytest.approx(value, rel=1e-13)
        np.testing.assert_allclose(grad, A.T @ grad_theta, rtol=1e-11, atol=1e-11)
        out, expected = np.empty(model.n_expanded), np.empty(model.n_expanded)
        for target, theta in ((model, point), (plain, shift + A @ point)):
            result = out if target is model else expected
            assert _call(target.compiled_expand_func, point.size, result.size,
                         _pointer(np.ascontiguousarray(theta)), _pointer(result),
                         target.user_data.ctypes.data) == 0
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_new_data_drops_the_whitening(whitened):
    _, model, _ = whitened
    moved = model.with_data(x_std=model.shared_data["x_std"][:50])
    assert not moved.whitened and moved.to_sampler(np.ones(3)).tolist() == [1.0, 1.0, 1.0]


def test_laplace_needs_the_native_or_jax_backend():
    model = build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag")
    with pytest.raises(ValueError, match="native or jax backend"):
        compile_nutpie(model, backend="pyfunc", laplace=True)


def test_laplace_whitening_gives_up_on_a_density_without_curvature():
    flat = native.laplace_whitening(lambda t: (0.0, np.zeros_like(t)), np.zeros(3))
    broken = native.laplace_whitening(lambda t: (np.nan, np.zeros_like(t)), np.zeros(3))
    assert flat is None and broken is None


def test_laplace_whitening_gives_up_on_a_density_far_from_gaussian():
    """Along a whitened axis one sd from the mode the drop of log p must be that of a
    Gaussian within a factor 2 (mean of both ways): a quartic well, a density whose mode is
    a cusp, pass or fail as they should; a Gaussian with a gradient left at the start
    (Newton stopped short) still passes."""
    from bayesgmm.backends.laplace import gaussian_along_axes

    scales = np.array([0.5, 2.0, 1.0])
    gaussian = lambda t: (-0.5 * np.sum((t / scales) ** 2), -t / scales ** 2)  # noqa: E731
    found = native.laplace_whitening(gaussian, np.array([0.3, -1.0, 0.2]))
    assert found is not None
    np.testing.assert_allclose(np.abs(np.diag(found[1] @ found[1].T)), scales ** 2, rtol=1e-6)
    # a quartic bowl in the last coordinate: flat at the mode (curvature ~0, clamped), so one
    # "sd" there is a jump far out where log p has fallen by orders of magnitude more
    quartic = lambda t: (-0.5 * t[0] ** 2 - t[1] ** 4,  # noqa: E731
                         np.array([-t[0], -4 * t[1] ** 3]))
    assert native.laplace_whitening(quartic, np.array([0.2, 0.5])) is None
    A = np.diag(scales)
    assert gaussian_along_axes(gaussian, np.zeros(3), A, 0.0)
    assert gaussian_along_axes(gaussian, np.full(3, 0.4), A, gaussian(np.full(3, 0.4))[0])
    assert not gaussian_along_axes(gaussian, np.zeros(3), 3.0 * A, 0.0)  # 9x the drop
    assert not gaussian_along_axes(gaussian, np.zeros(3), 0.5 * A, 0.0)  # a quarter
    assert not gaussian_along_axes(lambda t: (np.nan, t), np.zeros(3), A, 0.0)


@pytest.mark.parametrize(("quartic", "gaussian_enough"), [(0.02, True), (0.1, False)])
def test_the_gaussian_check_looks_two_sds_out_too(quartic, gaussian_enough):
    """log p = -t^2/2 - a t0^4 has the Gaussian's curvature at its mode; its drop over the
    Gaussian's is 1 + 2a one sd out and 1 + 8a two sds out: a = 0.1 (1.2, then 1.8) passed
    the one-sd check alone, as the skewed posterior of two overlapping 1-D components did
    (1.20, then 1.89) before its whitened run diverged 299 times; a = 0.02 (1.04, 1.16) is
    close enough."""
    from bayesgmm.backends.laplace import gaussian_along_axes

    def density(t):
        return (-0.5 * np.sum(t ** 2) - quartic * t[0] ** 4,
                -t - np.array([4.0 * quartic * t[0] ** 3, 0.0]))

    assert gaussian_along_axes(density, np.zeros(2), np.eye(2), 0.0) is gaussian_enough


def test_compile_nutpie_starts_whitened_chains_one_sd_off_the_mode():
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(-2.0, 0.7, (60, 2)), rng.normal(1.5, 1.0, (90, 2))])
    model = build_model(X, 2, "diag")
    start = initial_point(model, np.array([0.4, 0.6]), np.array([[-2.0, -2.0], [1.5, 1.5]]),
                          np.array([[0.5, 0.5], [1.0, 1.0]]))
    compiled = compile_nutpie(model, start, backend="native", laplace=True, reuse=False)
    assert compiled.whitened
    # one posterior sd from the mode along every whitened coordinate (z = +-1), signs by the
    # chain's seed; the mode is Newton's from the start
    shift = compiled.shared_data["laplace_shift"]
    assert np.max(np.abs(compiled.density()(shift)[1])) < 1e-6
    starts = [compiled.initial_point_func(seed) for seed in (0, 1)]
    for z0 in starts:
        np.testing.assert_array_equal(np.abs(z0), 1.0)
    assert not np.array_equal(*starts)
    assert np.array_equal(compiled.initial_point_func(0), starts[0])  # reproducible
    assert not compile_nutpie(model, start, backend="native", reuse=False).whitened


def test_typical_start_keeps_the_start_where_one_sd_is_a_far_jump():
    """A direction whose curvature the whitening could not measure (clamped) makes one sd a
    huge move: there, or where the density is not finite, the start stays where it was."""
    from bayesgmm.backends.laplace import typical_start

    gaussian = lambda t: (-0.5 * t @ t, -t)  # noqa: E731
    start = np.full(4, 0.3)
    moved = typical_start(gaussian, np.zeros(4), np.eye(4), start, 3)
    np.testing.assert_array_equal(np.abs(moved), 1.0)
    wide = np.diag([1.0, 1.0, 1.0, 1e4])  # A's last column: a clamped, near-flat direction
    np.testing.assert_array_equal(typical_start(gaussian, np.zeros(4), wide, start, 3), start)
    broken = lambda t: (np.nan, t)  # noqa: E731
    np.testing.assert_array_equal(typical_start(broken, np.zeros(4), np.eye(4), start, 3),
                                  start)


# --------------------------------------------------------------------------------------------
# Block by block: each transform + prior function of the native density against PyMC's
# Transform.backward / log_jac_det and pm.logp of the variable as the layout makes it.
# --------------------------------------------------------------------------------------------
BLOCK_PRIORS = Priors(weights_concentration=0.7, means_sd=1.5, sd_median=0.8, sd_log_sd=0.6,
                      lkj_eta=1.5)
BLOCK_CASES = [  # (block, covariance type, D, ordered means)
    ("weights", "diag", 2, False),
    ("means_z", "diag", 2, False),
    ("means_z", "diag", 1, True),
    ("sd_z", "full", 2, False),
    ("sd_z", "tied", 3, False),
    ("corr_chol_z", "full", 3, False),
    ("corr_chol_z", "tied", 4, False),
]


@pytest.fixture(scope="module", params=BLOCK_CASES, ids=lambda c: f"{c[0]}-{c[1]}-D{c[2]}"
                + ("-ordered" if c[3] else ""))
def pymc_block(request):
    """A layout block, and PyMC's (constrained value, log p + log|J| + g . value, gradient) of
    it at an unconstrained value and an upstream gradient g: compiled once per case."""
    name, ct, D, ordered = request.param
    K = 3
    block = {b.name: b for b in layout.blocks(K, D, ct, BLOCK_PRIORS, ordered_means=ordered)}[
        name]
    with pm.Model(coords={"component": range(K), "feature": range(D),
                          "feature_bis": range(D)}) as model:
        rv = block.make()
    value = model.rvs_to_values[rv]
    transform = model.rvs_to_transforms.get(rv)
    x = value if transform is None else transform.backward(value, *rv.owner.inputs)
    g = pytensor.tensor.tensor("g", shape=block.shape)
    total = model.logp(vars=[rv], jacobian=True) + pytensor.tensor.sum(g * x)
    fn = pytensor.function([value, g], [x, total, pytensor.grad(total, value)], mode=MODE)
    return block, fn, (K, D, ct, ordered)


def _native_block(block, v, g, K, D, ct, ordered):
    """(constrained value, log p + log|J| less the layout's constant, d/dv with upstream g),
    the prior's numbers taken from the layout's block as the density takes them."""
    p = block.parameters
    grad = np.zeros(block.value_shape)
    if block.name == "weights":
        log_w, x = backends_native.simplex_backward(v)
        lp = backends_native.dirichlet_simplex(v, log_w, x, g, *p, grad)
    elif block.name == "means_z":
        x = backends_native.means_backward(v, ordered)
        lp = backends_native.normal_means(v, x, g, *p, ordered, grad)
    elif block.name == "sd_z":
        x = np.exp(v)
        lp = backends_native.lognormal_log(v.ravel(), x.ravel(), g.ravel(), *p,
                                           grad.reshape(-1))
    else:
        positions = layout.correlation_positions(D)
        flat = v.reshape(-1, positions.shape[0])
        x = backends_native.correlation_backward(flat, D, positions)
        lp = backends_native.lkj_cholesky_corr(flat, x, g.reshape(x.shape), *p,
                                               positions, grad.reshape(flat.shape))
        x = x.reshape(block.shape)
    return x, lp, grad


def test_each_block_matches_pymcs_transform_and_prior(pymc_block):
    block, pymc_fn, (K, D, ct, ordered) = pymc_block
    rng = np.random.default_rng(7)
    offset = K * D * _pymc_normal_offset(BLOCK_PRIORS.means_sd) if block.name == "means_z" \
        else 0.0
    for _ in range(3):
        v = rng.normal(0.0, 0.7, size=block.value_shape)
        g = rng.normal(size=block.shape)
        x, lp, grad = _native_block(block, v, g, K, D, ct, ordered)
        expected_x, expected_total, expected_grad = pymc_fn(v, g)
        np.testing.assert_allclose(x, expected_x, rtol=1e-12, atol=1e-14)
        assert lp + block.log_constant + np.sum(g * x) == pytest.approx(
            expected_total - offset, rel=1e-12, abs=1e-10)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-10)
        # The forward transform (chains' starts) inverts PyMC's backward.
        np.testing.assert_allclose(np.reshape(block.forward(x), block.value_shape), v,
                                   rtol=1e-10, atol=1e-12)


def test_model_variables_are_the_layout_blocks(case):
    """build_model's free and value variables, in order, are the layout's; the numba density's
    table (places in theta, prior numbers, constant) is the layout's."""
    model, _, _ = case
    spec = model_spec(model)
    assert [(rv.name, model.rvs_to_values[rv].name) for rv in model.free_RVs] == [
        (b.name, b.value_name) for b in spec.blocks]
    point = model.initial_point()
    for block in spec.blocks:
        assert point[block.value_name].shape == block.value_shape, block.name
    assert layout.n_dim(spec) == sum(point[name].size for name in point)
    table = backends_native.prior_parameters(spec)
    assert table[0] == layout.log_density_constant(spec)
    offset, used = 0, set()
    for block in spec.blocks:
        slot = backends_native.BLOCK_SLOTS[block.name]
        used.add(slot)
        start, end, rows, cols, transformed, first = backends_native._slot(table, slot)
        assert (start, end, transformed) == (offset, offset + block.size,
                                             block.transform is not None)
        assert rows * cols == block.size and cols == block.value_shape[-1]
        assert tuple(table[first:first + len(block.parameters)]) == block.parameters
        offset += block.size
    for slot in set(backends_native.BLOCK_SLOTS.values()) - used:  # no such block: empty
        assert backends_native._slot(table, slot)[:4] == (0, 0, 0, 0)


def test_a_block_without_a_native_function_is_refused(monkeypatch):
    """A block added to the layout without its slot in the native density is refused when the
    density's table is built, not read at a wrong place."""
    spec = model_spec(build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag"))
    slots = dict(backends_native.BLOCK_SLOTS)
    del slots["sd_z"]
    monkeypatch.setattr(backends_native, "BLOCK_SLOTS", slots)
    with pytest.raises(ValueError, match="no function for the block"):
        backends_native.prior_parameters(spec)


def test_build_model_refuses_a_model_that_is_not_the_layout():
    model = build_model(np.random.default_rng(0).standard_normal((20, 2)), 2, "diag")
    other = dataclasses.replace(model_spec(model), ordered_means=True)
    with pytest.raises(RuntimeError, match="layout's blocks"):
        layout.check_model(model, other)


def test_a_start_on_a_stationary_coordinate_is_moved_off_it():
    """nuts-rs refuses an initial point with a zero gradient component: two rows, K=2, equal
    weights at the EM start. The start moves by a fraction of a posterior sd, no more."""
    from bayesgmm.backends.nutpie_model import native_density
    from bayesgmm.backends.starts import startable_point
    from bayesgmm.em import fit_map_start

    X = np.array([[-0.5442589828573099], [-0.3163001563691545]])
    std = Standardisation.from_data(X, "full")
    model = build_model(std.transform(X), 2, "full", Priors(), center=std.center,
                        scale=std.scale)
    em = fit_map_start(X, 2, n_init=10, prior=Priors().conjugate_for_em(X, 2, "full"),
                       random_state=0)
    start = initial_point(model, em.weights, em.means, em.covariances)
    flat = native.unconstrained_point(model_spec(model), start)
    density = native_density(model_spec(model), {"x_std": model["x_std"].get_value(),
                                                  "x_scale": model["x_scale"].get_value()})
    value, grad = density(flat)
    assert np.isfinite(value) and (grad == 0).any()
    moved = startable_point(flat, density)
    new_value, new_grad = density(moved)
    assert np.isfinite(new_grad).all() and (new_grad != 0).all()
    assert np.abs(moved - flat).max() < 0.5 and abs(new_value - value) < 0.1
    np.testing.assert_array_equal(moved[grad != 0], flat[grad != 0])
    # a start with a nonzero gradient everywhere is returned as it is
    assert startable_point(moved, density) is moved
