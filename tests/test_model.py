"""The marginalised PyMC model: names and dims, data-unit log-likelihood, initial points."""

import collections
import dataclasses

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
import xarray as xr
from pytensor.compile.mode import Mode
from pytensor.graph.rewriting.utils import rewrite_graph

from bayesgmm import kernels
from bayesgmm.model import build_model, compile_nutpie, initial_point, model_spec
from bayesgmm.priors import Priors, Standardisation

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
N, K, D = 80, 2, 2
# Python implementations: these tests check the model's math, not the numba backend (that is
# test_ops.py and the slow tests below), and a cold numba compile per model would cost minutes.
MODE = "FAST_COMPILE"
COV_DIMS = {
    "full": ("component", "feature", "feature_bis"),
    "tied": ("feature", "feature_bis"),
    "diag": ("component", "feature"),
    "spherical": ("component",),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(N, D)) * [0.5, 13.0] + [2.0, 70.0]  # Old-Faithful-like units
    return X


def em_like(covariance_type, X):
    """Plausible data-unit parameters (sklearn shapes), not at the data's standardisation."""
    rng = np.random.default_rng(4)
    weights = np.array([0.35, 0.65])
    means = X.mean(axis=0) + rng.normal(size=(K, D)) * X.std(axis=0)
    sd = X.std(axis=0) * np.array([[0.6, 0.9], [1.2, 0.5]])
    corr = np.array([0.5, -0.3])
    full = np.empty((K, D, D))
    for k in range(K):
        full[k] = np.outer(sd[k], sd[k]) * np.array([[1.0, corr[k]], [corr[k], 1.0]])
    covariances = {
        "full": full,
        "tied": full[0],
        "diag": sd**2,
        "spherical": (sd**2).mean(axis=1),
    }[covariance_type]
    return weights, means, covariances


def make(covariance_type, X, **kwargs):
    st = Standardisation.from_data(X, covariance_type)
    model = build_model(st.transform(X), K, covariance_type, Priors(), center=st.center,
                        scale=st.scale, feature_names=["eruptions", "waiting"], **kwargs)
    return model, st


def at_point(model, outputs, point):
    fn = model.compile_fn(model.replace_rvs_by_values(outputs), mode=MODE)
    return fn(point)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_names_and_dims(data, covariance_type):
    model, _ = make(covariance_type, data)
    free = {rv.name for rv in model.free_RVs}
    expected = {"weights", "means_z", "sd_z"} | (
        {"corr_chol_z"} if covariance_type in ("full", "tied") else set())
    assert free == expected
    dims = model.named_vars_to_dims
    assert dims["weights"] == ("component",)
    assert dims["means"] == ("component", "feature")
    assert dims["means_z"] == ("component", "feature")
    assert dims["covariances"] == COV_DIMS[covariance_type]
    assert dims["x"] == ("observation", "feature")
    assert {d.name for d in model.deterministics} == {"means", "covariances"}
    assert [rv.name for rv in model.observed_RVs] == ["x"]
    assert list(model.coords["feature"]) == ["eruptions", "waiting"]
    assert list(model.coords["feature_bis"]) == ["eruptions", "waiting"]
    assert len(model.coords["observation"]) == N
    assert model_spec(model).covariance_type == covariance_type


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_initial_point_round_trip(data, covariance_type):
    model, st = make(covariance_type, data)
    weights, means, covariances = em_like(covariance_type, data)
    start = initial_point(model, weights, means, covariances)
    assert set(start) == {rv.name for rv in model.free_RVs}
    assert start["means_z"] == pytest.approx((means - st.center) / st.scale)
    point = initial_point(model, weights, means, covariances, transformed=True)
    assert set(point) == {v.name for v in model.value_vars}
    got = at_point(model, [model["weights"], model["means"], model["covariances"]], point)
    for value, ref in zip(got, (weights, means, covariances), strict=True):
        np.testing.assert_allclose(value, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_each_block_states_its_own_start(data, covariance_type):
    """initial_point is the layout blocks' start values, each in its block's shape; a block
    with a start of its own (a prior-only block, say) reaches the start without model.py."""
    model, _ = make(covariance_type, data)
    spec = model_spec(model)
    start = initial_point(model, *em_like(covariance_type, data))
    assert list(start) == [block.name for block in spec.blocks]
    for block in spec.blocks:
        assert start[block.name].shape == block.shape
        assert block.forward(start[block.name]).size == block.size
    extra = dataclasses.replace(spec.blocks[-1], name="tau", shape=(),
                                start=lambda estimate: np.array(0.5))
    with_tau = dataclasses.replace(spec)
    with_tau.__dict__["blocks"] = (*spec.blocks, extra)  # the cached property, overridden
    assert initial_point(with_tau, *em_like(covariance_type, data))["tau"] == 0.5


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pointwise_log_likelihood_in_data_units(data, covariance_type):
    model, _ = make(covariance_type, data)
    weights, means, covariances = em_like(covariance_type, data)
    point = initial_point(model, weights, means, covariances, transformed=True)
    (pointwise,) = at_point(model, model.logp(vars=[model["x"]], sum=False), point)
    full = kernels.to_full_covariances(covariances, covariance_type, K, D)
    ref = kernels.loglik_pointwise(data, weights, means, np.linalg.cholesky(full))
    assert pointwise.shape == (N,)
    np.testing.assert_allclose(pointwise, ref, rtol=0, atol=1e-8)


def test_log_likelihood_group(data):
    """pm.compute_log_likelihood (the LOO path) gives the kernel's data-unit values per row."""
    covariance_type = "diag"
    model, _ = make(covariance_type, data)
    draws = [em_like(covariance_type, data), em_like(covariance_type, data * 1.01)]
    posterior = {}
    for k in ("weights", "means_z", "sd_z"):
        values = [initial_point(model, *d)[k] for d in draws]
        dims = model.named_vars_to_dims[k]
        posterior[k] = (("chain", "draw", *dims), np.stack(values)[None])
    coords = {d: list(model.coords[d]) for d in ("component", "feature")}
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(posterior, coords=coords)})
    tree = pm.compute_log_likelihood(tree, model=model, progressbar=False,
                                     compile_kwargs={"mode": MODE})
    ll = tree["log_likelihood"]["x"].to_numpy()
    assert ll.shape == (1, 2, N)
    for j, (w, mu, cov) in enumerate(draws):
        full = kernels.to_full_covariances(cov, covariance_type, K, D)
        ref = kernels.loglik_pointwise(data, w, mu, np.linalg.cholesky(full))
        np.testing.assert_allclose(ll[0, j], ref, rtol=0, atol=1e-8)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_model_gradient_finite_differences(data, covariance_type):
    """The model's dlogp (priors, transforms and the Op) against central differences."""
    model, _ = make(covariance_type, data)
    point = initial_point(model, *em_like(covariance_type, data), transformed=True)
    logp = model.compile_logp(mode=MODE)
    dlogp = model.compile_dlogp(mode=MODE)
    grad = dlogp(point)
    fd, h = [], 1e-6
    for var in model.value_vars:
        for idx in np.ndindex(point[var.name].shape):
            up = {k: v.copy() for k, v in point.items()}
            down = {k: v.copy() for k, v in point.items()}
            up[var.name][idx] += h
            down[var.name][idx] -= h
            fd.append((logp(up) - logp(down)) / (2 * h))
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("path", ["pymc", "nutpie"])
def test_model_logp_dlogp_is_one_kernel_pass(data, path):
    """pm.sample differentiates the raw logp; nutpie rewrites it first. Both: one Total node."""
    model, _ = make("full", data)
    logp = model.logp()
    if path == "nutpie":
        logp = rewrite_graph(logp, include=["canonicalize", "stabilize"])
    grads = pt.grad(logp, model.value_vars)
    fn = model.compile_fn([logp, *grads], inputs=model.value_vars, point_fn=False,
                          mode=Mode(linker="py", optimizer="fast_run"))
    kinds = collections.Counter(type(n.op).__name__ for n in fn.maker.fgraph.toposort()
                                if type(n.op).__module__ == "bayesgmm.ops")
    assert kinds == {"MixtureLogLikTotal": 1}


def test_ordered_means(data):
    x = data[:, :1]
    st = Standardisation.from_data(x, "diag")
    model = build_model(st.transform(x), 3, "diag", center=st.center, scale=st.scale,
                        ordered_means=True)
    weights = np.array([0.2, 0.5, 0.3])
    means = np.array([[3.0], [1.0], [2.0]])  # not in order: initial_point sorts components
    covariances = np.array([[0.1], [0.2], [0.3]])
    point = initial_point(model, weights, means, covariances, transformed=True)
    w, mu, cov = at_point(model, [model["weights"], model["means"], model["covariances"]],
                          point)
    order = [1, 2, 0]
    np.testing.assert_allclose(mu, means[order], rtol=1e-12)
    np.testing.assert_allclose(w, weights[order], rtol=1e-12)
    np.testing.assert_allclose(cov, covariances[order], rtol=1e-12)
    assert np.isfinite(model.compile_logp(mode=MODE)(point))
    # The default initial value is ordered too, so the model compiles and evaluates without one.
    assert np.isfinite(model.compile_logp(mode=MODE)(model.initial_point()))
    with pytest.raises(ValueError, match="1-D"):
        make("diag", data, ordered_means=True)


def test_invalid_arguments(data):
    with pytest.raises(ValueError, match="common scale"):
        build_model(data, K, "spherical", scale=[1.0, 2.0])
    with pytest.raises(ValueError, match="covariance_type"):
        build_model(data, K, "banded")
    model, _ = make("full", data)
    with pytest.raises(ValueError, match="shape"):
        initial_point(model, *em_like("diag", data))
    with pytest.raises(ValueError, match="build_model"):
        initial_point(pm.Model(), *em_like("full", data))


def test_prior_predictive_draws(data):
    model, _ = make("full", data)
    draws = pm.draw(model["x"], draws=2, random_seed=1, mode=MODE)
    assert draws.shape == (2, N, D)
    assert np.all(np.isfinite(draws))


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_numba_model_matches_python(data, covariance_type):
    model, _ = make(covariance_type, data)
    point = initial_point(model, *em_like(covariance_type, data), transformed=True)
    for compile_ in (model.compile_logp, model.compile_dlogp):
        np.testing.assert_allclose(compile_(mode="NUMBA")(point), compile_(mode=MODE)(point),
                                   rtol=1e-12, atol=1e-10)


def _initial_point_func(compiled):
    """seed -> the chain's start as an unconstrained model point (mapped back from the
    sampler's Laplace-whitened coordinates where the native backend uses them)."""
    func = getattr(compiled, "initial_point_func", None) or compiled._make_initial_points
    if not getattr(compiled, "whitened", False):
        return func
    shift, A = compiled.shared_data["laplace_shift"], compiled.shared_data["laplace_map"]
    return lambda seed: shift + A @ func(seed)


def _shared_data(compiled):
    return getattr(compiled, "shared_data", None) or compiled._shared_data


@pytest.mark.parametrize("backend", [
    "native",
    pytest.param("numba", marks=pytest.mark.slow),
    pytest.param("pyfunc", marks=pytest.mark.slow),
])
def test_compile_nutpie_starts_at_the_point_and_reuses(data, backend):
    model, _ = make("full", data)
    weights, means, covariances = em_like("full", data)
    start = initial_point(model, weights, means, covariances)
    flat = np.concatenate([v.ravel() for v in initial_point(
        model, weights, means, covariances, transformed=True).values()])
    exact = compile_nutpie(model, start, backend=backend)
    for seed in (0, 1):  # no jitter: every chain starts exactly there
        np.testing.assert_allclose(_initial_point_func(exact)(seed), flat, rtol=1e-12)
    jittered = compile_nutpie(model, start, jitter=0.05, backend=backend)
    a, b = _initial_point_func(jittered)(0), _initial_point_func(jittered)(1)
    assert 0 < np.max(np.abs(a - flat)) < 0.5
    assert not np.allclose(a, b)

    # Same structure, other data (and N): the compiled model is re-pointed, not recompiled.
    other = data[: N // 2] * 2.0 + 1.0
    model2, st2 = make("full", other)
    start2 = initial_point(model2, weights, means * 2.0 + 1.0, covariances * 4.0)
    reused = compile_nutpie(model2, start2, backend=backend)
    if backend in ("native", "numba"):
        assert reused.compiled_logp_func is exact.compiled_logp_func
    else:
        assert reused._make_logp_func is exact._make_logp_func
    shared = {a.shape: a for a in _shared_data(reused).values()}
    np.testing.assert_array_equal(shared[(N // 2, D)], st2.transform(other))
    assert len(reused.coords["observation"]) == N // 2
    flat2 = np.concatenate([v.ravel() for v in initial_point(
        model2, weights, means * 2.0 + 1.0, covariances * 4.0, transformed=True).values()])
    np.testing.assert_allclose(_initial_point_func(reused)(0), flat2, rtol=1e-12)


def _flat(model, params):
    point = initial_point(model, *params, transformed=True)
    return np.concatenate([np.ravel(value) for value in point.values()])


@pytest.mark.parametrize("laplace", [False, True])
def test_chain_starts_put_the_odd_chains_at_the_second_start(data, laplace):
    """nutpie tells the start function only a seed: the chain is read from it
    (init_seed_chains), so chains 1 and 3 start exactly at the second start, 0 and 2 where
    they would have without it (whitened: one sd off the mode, by the seed)."""
    from bayesgmm.backends.nutpie_model import init_seed_chains
    from bayesgmm.backends.starts import ChainStarts

    model, _ = make("full", data)
    first = em_like("full", data)
    second = (first[0][::-1], first[1][::-1] + data.std(axis=0), first[2][::-1])
    chain_starts = ChainStarts((initial_point(model, *second),), seed=11, chains=4)
    start = initial_point(model, *first)
    plain = compile_nutpie(model, start, backend="native", laplace=laplace)
    apart = compile_nutpie(model, start, backend="native", laplace=laplace,
                           chain_starts=chain_starts)
    seeds = {chain: seed for seed, chain in init_seed_chains(11, 4, tries=1).items()}
    assert sorted(seeds) == [0, 1, 2, 3] and chain_starts.chains_at(0) == [1, 3]
    for chain, seed in seeds.items():
        got = _initial_point_func(apart)(seed)
        if chain % 2:
            np.testing.assert_allclose(got, _flat(model, second), rtol=1e-10, atol=1e-12)
        else:
            np.testing.assert_array_equal(got, _initial_point_func(plain)(seed))
    assert chain_starts.asked == {0, 1, 2, 3}
    # a seed of no chain (another nutpie's derivation): the start, as without chain starts
    np.testing.assert_array_equal(_initial_point_func(apart)(12345),
                                  _initial_point_func(plain)(12345))


def test_nutpie_asks_each_chain_start_with_the_seed_init_seed_chains_gives(data):
    """The pin on nutpie's internals (nuts-rs' ChaCha8 stream per chain): a real run asks
    for every chain's start with a seed of the table, and the same seed gives the same
    draws whether the chains run one or two at a time."""
    import nutpie

    from bayesgmm.backends.starts import ChainStarts

    model, _ = make("full", data)
    first = em_like("full", data)
    second = initial_point(model, first[0][::-1], first[1][::-1], first[2][::-1])
    runs = []
    for cores in (1, 2):
        chain_starts = ChainStarts((second,), seed=3, chains=4)
        compiled = compile_nutpie(model, initial_point(model, *first), backend="native",
                                  chain_starts=chain_starts)
        trace = nutpie.sample(compiled, draws=5, tune=5, chains=4, cores=cores, seed=3,
                              progress_bar=False)
        assert chain_starts.asked == {0, 1, 2, 3}
        runs.append(trace["posterior"]["means"].values)
    np.testing.assert_array_equal(*runs)


@pytest.mark.slow
def test_pyfunc_backend_evaluates_the_model_on_its_own_data(data):
    """The log-density nutpie sees through the pyfunc route is the model's, for re-pointed data
    too (the data come from nutpie's shared data, not from the first model compiled)."""
    for scale in (1.0, 3.0):  # the second call reuses the first compiled model
        X = data[: N // 2 if scale > 1 else N] * scale
        model, _ = make("full", X)
        point = initial_point(model, *em_like("full", X), transformed=True)
        flat = np.concatenate([v.ravel() for v in point.values()])
        compiled = compile_nutpie(model, backend="pyfunc")
        logp, grad = compiled._make_logp_func()(flat, **compiled._shared_data)
        np.testing.assert_allclose(logp, model.compile_logp(mode=MODE)(point), rtol=1e-10)
        expected = model.compile_dlogp(mode=MODE)(point)  # flat, in the free variables' order
        np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-8)


@pytest.mark.slow
def test_auto_backend_falls_back_to_numba_when_native_is_unavailable(data, monkeypatch):
    """The native route fills in nutpie's CompiledPyMCModel itself: should the version check
    refuse it, "auto" warns and uses nutpie's own numba route; asking for "native" raises."""
    import bayesgmm.backends.nutpie as model_module
    from bayesgmm.backends.nutpie_model import NutpieVersionError

    def broken(model):
        raise NutpieVersionError("nutpie 9.9.0 is not a checked release")

    monkeypatch.setattr(model_module, "_compile_native", broken)
    # An empty cache: a native model of the same structure compiled by an earlier test in this
    # process would otherwise be reused, and the fallback never reached.
    monkeypatch.setattr(model_module, "_NUTPIE_CACHE", collections.OrderedDict())
    model, _ = make("full", data)
    with pytest.raises(NutpieVersionError):
        compile_nutpie(model, backend="native", reuse=False)
    with pytest.warns(RuntimeWarning, match="native nutpie model is unavailable"):
        compiled = compile_nutpie(model, backend="auto")
    assert type(compiled).__name__ == "CompiledPyMCModel"  # nutpie's numba-compiled model
    with pytest.warns(RuntimeWarning, match="native nutpie model is unavailable"):
        again = compile_nutpie(model, backend="auto")  # the numba model is reused
    assert again.compiled_logp_func is compiled.compiled_logp_func


@pytest.mark.slow
def test_an_unchecked_nutpie_starts_its_public_route_at_the_start(data, monkeypatch):
    """With a nutpie release whose internals were not checked, nutpie's public API alone: its
    own compiled model, the chains' start the given one (compile_pymc_model's initial_points),
    exact, and its coords this model's."""
    import bayesgmm.backends.nutpie_model as nutpie_model

    monkeypatch.setattr(nutpie_model, "_NUTPIE_PROBLEM", "nutpie 9.9.0 is not a checked release")
    model, _ = make("full", data)
    start = initial_point(model, *em_like("full", data))
    with pytest.warns(RuntimeWarning, match="native nutpie model is unavailable"):
        compiled = compile_nutpie(model, start, backend="auto")
    assert type(compiled).__name__ == "CompiledPyMCModel"
    expected = initial_point(model, *em_like("full", data), transformed=True)
    flat = np.concatenate([np.ravel(value) for value in expected.values()])
    for seed in (0, 1):
        np.testing.assert_allclose(compiled.initial_point_func(seed), flat, rtol=1e-12)
    assert list(compiled.coords["observation"]) == list(model.coords["observation"])
