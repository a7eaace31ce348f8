"""The JAX back end: its density against the native one (value and gradient, float64), rows
split over devices, and a posterior through nutpie against the native route's."""

import subprocess
import sys
import textwrap

import numpy as np
import nutpie
import pytest

jax = pytest.importorskip("jax", reason="the JAX back end is optional: pip install jax")

from bayesgmm import layout, model  # noqa: E402
from bayesgmm.backends import native  # noqa: E402
from bayesgmm.backends.jax import BLOCK_DENSITIES, make_logp, shard_rows  # noqa: E402
from bayesgmm.priors import Priors, Standardisation  # noqa: E402

CASES = [(ct, D, False) for ct in ("full", "tied", "diag", "spherical") for D in (1, 2, 3)]
CASES += [(ct, 1, True) for ct in ("full", "diag")]


@pytest.mark.parametrize(("covariance_type", "D", "ordered"), CASES)
def test_value_and_gradient_equal_the_native_density(covariance_type, D, ordered):
    rng = np.random.default_rng(D)
    K = 3
    X = rng.normal(size=(40, D)) * 3 + 1
    st = Standardisation.from_data(X, covariance_type)
    pm_model = model.build_model(
        st.transform(X), K, covariance_type, Priors(sd_median=0.7, lkj_eta=1.5),
        center=st.center, scale=st.scale, feature_names=[f"f{i}" for i in range(D)],
        ordered_means=ordered)
    spec = layout.model_spec(pm_model)
    params = native.prior_parameters(spec)
    positions = layout.correlation_positions(D)
    code = native.COVARIANCE_CODES[covariance_type]
    value_and_grad = jax.jit(jax.value_and_grad(make_logp(spec)))
    Z = st.transform(X)
    Xd, g = shard_rows(Z)
    n_dim = layout.n_dim(spec)
    for _ in range(3):
        theta = rng.normal(size=n_dim) * 0.8
        grad = np.zeros(n_dim)
        value = native.logp_and_gradient(theta, Z, K, code, int(ordered), positions, params,
                                         spec.log_jacobian, grad)
        jax_value, jax_grad = value_and_grad(theta, Xd, g)
        assert float(jax_value) == pytest.approx(value, rel=1e-10)
        np.testing.assert_allclose(np.asarray(jax_grad), grad, rtol=1e-9, atol=1e-9)


def test_every_layout_block_has_a_jax_density():
    """A block added to the layout without its JAX function is refused, not ignored."""
    for ct in ("full", "tied", "diag", "spherical"):
        for block in layout.blocks(3, 2, ct, Priors(), ordered_means=False):
            assert block.name in BLOCK_DENSITIES
    spec = _spec(2, "full")
    missing = dict(BLOCK_DENSITIES)
    del BLOCK_DENSITIES["sd_z"]
    try:
        with pytest.raises(ValueError, match="no density for the block"):
            make_logp(spec)
    finally:
        BLOCK_DENSITIES.update(missing)


def _spec(D, covariance_type, K=2):
    X = np.random.default_rng(0).normal(size=(20, D))
    st = Standardisation.from_data(X, covariance_type)
    pm_model = model.build_model(st.transform(X), K, covariance_type, Priors(),
                                 center=st.center, scale=st.scale,
                                 feature_names=[f"f{i}" for i in range(D)])
    return layout.model_spec(pm_model)


def test_padding_rows_add_nothing():
    """shard_rows pads to a multiple of the device count with zero-weight rows."""
    spec = _spec(2, "full")
    X = np.arange(14.0).reshape(7, 2) / 7
    Xd, g = shard_rows(X, jax.devices()[:1])
    assert Xd.shape == (7, 2) and float(g.sum()) == 7
    logp = make_logp(spec)
    theta = np.linspace(-0.5, 0.5, layout.n_dim(spec))
    padded = logp(theta, np.concatenate([X, np.zeros((2, 2))]), np.r_[np.ones(7), np.zeros(2)])
    assert float(logp(theta, Xd, g)) == pytest.approx(float(padded), rel=1e-14)


def test_rows_split_over_two_host_devices_give_the_same_density():
    """Data-parallel: X split over 2 (simulated) devices; the density is unchanged."""
    code = textwrap.dedent("""
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import jax
        import numpy as np
        from bayesgmm import layout, model
        from bayesgmm.backends.jax import make_logp, shard_rows
        from bayesgmm.priors import Priors
        assert len(jax.devices()) == 2
        X = np.random.default_rng(0).normal(size=(101, 2))
        pm_model = model.build_model(X, 2, "full", Priors(), center=np.zeros(2),
                                     scale=np.ones(2), feature_names=["a", "b"])
        spec = layout.model_spec(pm_model)
        logp = jax.jit(make_logp(spec))
        theta = np.linspace(-0.5, 0.5, layout.n_dim(spec))
        Xd, g = shard_rows(X)
        assert len(Xd.sharding.device_set) == 2 and Xd.shape[0] == 102
        one = logp(theta, *shard_rows(X, jax.devices()[:1]))
        print(abs(float(logp(theta, Xd, g)) - float(one)) / abs(float(one)))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert float(out.stdout.strip().splitlines()[-1]) < 1e-13


def test_posterior_through_nutpie_matches_the_native_route(old_faithful):
    """nutpie_backend="jax": the same posterior as the native route, within Monte Carlo error
    (components matched by their first mean: the two routes may start from different EM
    candidates, so their labellings may differ)."""
    from bayesgmm import fit_bayes

    kw = {"random_state": 3, "draws": 500, "tune": 500, "chains": 2, "progressbar": False}
    on_jax = fit_bayes(old_faithful, 2, nutpie_backend="jax", **kw)
    native_fit = fit_bayes(old_faithful, 2, **kw)
    assert on_jax.settings["nutpie_backend"] == "jax" and on_jax.diagnostics().ok
    for name in ("weights", "means"):
        stats = []
        for fit in (on_jax, native_fit):
            order = np.argsort(fit.posterior["means"].mean(("chain", "draw")).values[:, 0])
            draws = fit.posterior[name].isel(component=order)
            ess = np.asarray(__import__("arviz").ess(draws.to_dataset())[name])
            stats.append((draws.mean(("chain", "draw")).values,
                          draws.std(("chain", "draw")).values / np.sqrt(ess)))
        (m1, se1), (m2, se2) = stats
        assert np.all(np.abs(m1 - m2) <= 4 * np.hypot(se1, se2)), (name, m1, m2)


def test_laplace_whitening_on_the_jax_route_is_the_density_in_new_coordinates():
    """compile_nutpie(backend="jax", laplace=True): Newton to the mode, chains starting one
    posterior sd off it, and nutpie's logp in the whitened coordinates equal to the native
    density at theta = shift + A z, with the gradient A^T grad (as the native route's)."""
    from bayesgmm.backends.nutpie import backend_of, compile_nutpie, is_whitened
    from bayesgmm.backends.nutpie_model import logp_factory, native_density

    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(-2.0, 0.7, (60, 2)), rng.normal(1.5, 1.0, (90, 2))])
    pm_model = model.build_model(X, 2, "full")
    start = model.initial_point(pm_model, np.array([0.4, 0.6]),
                                np.array([[-2.0, -2.0], [1.5, 1.5]]),
                                np.array([np.eye(2) * 0.5, np.eye(2)]))
    spec = layout.model_spec(pm_model)
    flat = layout.unconstrained_point(spec, start)
    compiled = compile_nutpie(pm_model, start, backend="jax", laplace=True, reuse=False)
    assert backend_of(compiled) == "jax" and is_whitened(compiled)
    assert not is_whitened(compile_nutpie(pm_model, start, backend="jax", reuse=False))
    density = native_density(spec, {name: pm_model[name].get_value()
                                    for name in (layout.DATA, layout.CENTER, layout.SCALE)})
    shift, A = logp_factory(compiled).bayesgmm_whitening[:2]
    assert np.max(np.abs(density(shift)[1])) < 1e-6  # Newton reached the native mode
    z0 = compiled._make_initial_points(0)  # a pyfunc model's start (nutpie's field)
    np.testing.assert_array_equal(np.abs(z0), 1.0)  # one posterior sd off the mode
    assert np.linalg.norm(np.linalg.solve(A, flat - shift)) > 1e-3  # the start was not it
    logp = logp_factory(compiled)()
    for z in (z0, z0 + 0.3):
        value, grad = logp(z)
        ref_value, ref_grad = density(shift + A @ z)
        assert value == pytest.approx(ref_value, rel=1e-12)
        np.testing.assert_allclose(grad, A.T @ ref_grad, rtol=1e-9, atol=1e-9)
    # and nutpie samples it (the whitened twin once lacked the sizes of its dims)
    trace = nutpie.sample(compiled, draws=20, tune=20, chains=1, progress_bar=False, seed=1)
    assert trace.posterior["weights"].shape == (1, 20, 2)
