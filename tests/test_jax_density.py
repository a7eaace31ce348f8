"""The JAX twin of the density against the native one (value and gradient, float64)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="the JAX back end is optional: pip install jax")
jax.config.update("jax_enable_x64", True)

from bayesgmm import model, native  # noqa: E402
from bayesgmm.jax_density import make_logp, shard_rows  # noqa: E402
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
    spec = model.model_spec(pm_model)
    params = native._prior_parameters(spec)
    positions = native.correlation_positions(D)
    code = native.COVARIANCE_CODES[covariance_type]
    value_and_grad = jax.jit(jax.value_and_grad(
        make_logp(K, D, code, ordered, positions, params)))
    Z = st.transform(X)
    Xd, g = shard_rows(Z)
    n_dim = native.unconstrained_point(
        spec, model.initial_point(pm_model, *_some_parameters(K, D, covariance_type))).size
    for _ in range(3):
        theta = rng.normal(size=n_dim) * 0.8
        grad = np.zeros(n_dim)
        value = native.logp_and_gradient(theta, Z, K, code, int(ordered), positions, params,
                                         spec.log_jacobian, grad)
        jax_value, jax_grad = value_and_grad(theta, Xd, g, spec.log_jacobian)
        assert float(jax_value) == pytest.approx(value, rel=1e-10)
        np.testing.assert_allclose(np.asarray(jax_grad), grad, rtol=1e-9, atol=1e-9)


def _some_parameters(K, D, covariance_type):
    cov = {"full": np.tile(np.eye(D), (K, 1, 1)), "tied": np.eye(D),
           "diag": np.ones((K, D)), "spherical": np.ones(K)}[covariance_type]
    return np.full(K, 1 / K), np.arange(K * D, dtype=float).reshape(K, D), cov


def test_padding_rows_add_nothing():
    """shard_rows pads to a multiple of the device count with zero-weight rows."""
    devices = jax.devices()[:1] * 3  # the same device three times: padding to a multiple of 3
    X = np.arange(14.0).reshape(7, 2)
    Xd, g = shard_rows(X, devices[:1])
    assert Xd.shape == (7, 2) and float(g.sum()) == 7
    padded = np.concatenate([X, np.zeros((2, 2))])
    K, D = 2, 2
    params = np.array([1.0, 2.0, 0.0, 1.0, 2.0, 0.0])
    logp = make_logp(K, D, 0, False, native.correlation_positions(D), params)
    theta = np.linspace(-0.5, 0.5, K - 1 + K * D + K * D + K)
    full = logp(theta, Xd, g, 0.1)
    with_pad = logp(theta, padded, np.r_[np.ones(7), np.zeros(2)], 0.1)
    assert float(full) == pytest.approx(float(with_pad), rel=1e-14)


def test_rows_split_over_two_host_devices_give_the_same_density():
    """Data-parallel: X split over 2 (simulated) devices; the density is unchanged."""
    code = textwrap.dedent("""
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import jax
        jax.config.update("jax_enable_x64", True)
        import numpy as np
        from bayesgmm import native
        from bayesgmm.jax_density import make_logp, shard_rows
        assert len(jax.devices()) == 2
        X = np.random.default_rng(0).normal(size=(101, 2))
        params = np.array([1.0, 2.0, 0.0, 1.0, 2.0, 0.0])
        logp = jax.jit(make_logp(2, 2, 0, False, native.correlation_positions(2), params))
        theta = np.linspace(-0.5, 0.5, 1 + 4 + 4 + 2)
        Xd, g = shard_rows(X)
        assert len(Xd.sharding.device_set) == 2 and Xd.shape[0] == 102
        one = logp(theta, *shard_rows(X, jax.devices()[:1]), 0.0)
        print(abs(float(logp(theta, Xd, g, 0.0)) - float(one)) / abs(float(one)))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert float(out.stdout.strip().splitlines()[-1]) < 1e-13
