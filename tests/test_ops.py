"""The likelihood Ops: values, gradients, numba vs Python, and one kernel pass per logp + dlogp."""

import collections
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad
from pytensor.graph.rewriting.utils import rewrite_graph

from bayesgmm import kernels, ops

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
N, K, D = 60, 3, 2
# Python perform for every Op, with the full rewrite pipeline (the rewrites are what we test).
PY_MODE = Mode(linker="py", optimizer="fast_run")


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)) * [1.0, 2.0] + [0.5, -1.0]
    weights = np.array([0.2, 0.3, 0.5])
    means = rng.normal(size=(K, D))
    A = np.tril(rng.normal(size=(K, D, D)) * 0.4)
    A[:, np.arange(D), np.arange(D)] = np.abs(A[:, np.arange(D), np.arange(D)]) + 0.6
    return X, weights, means, A


def chol_from_raw(covariance_type, raw):
    """The model's parameterisations: unconstrained raw -> lower Cholesky factors (K, D, D)."""
    eye = np.eye(D)
    if covariance_type == "full":  # raw (K, D, D): exp on the diagonal, strict lower as is
        return pt.tril(raw, -1) + pt.exp(raw) * eye
    if covariance_type == "tied":  # raw (D, D), one factor for all components
        one = pt.tril(raw, -1) + pt.exp(raw) * eye
        return pt.broadcast_to(one[None], (K, D, D))
    if covariance_type == "diag":  # raw (K, D): log sds
        return pt.exp(raw)[:, :, None] * eye
    return pt.exp(raw)[:, None, None] * eye  # spherical, raw (K,)


def raw_start(covariance_type, rng):
    shape = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}
    return rng.normal(size=shape[covariance_type]) * 0.3


def count_ops(fn):
    return collections.Counter(
        type(node.op).__name__ for node in fn.maker.fgraph.toposort()
        if type(node.op).__module__ == "bayesgmm.ops"
    )


def symbolic(X, g=None):
    w, mu, L = pt.vector("w"), pt.matrix("mu"), pt.tensor3("L")
    pointwise = ops.mixture_loglik_pointwise(X, w, mu, L, -0.25)
    cost = pointwise.sum() if g is None else (pointwise * g).sum()
    return [w, mu, L], pointwise, cost


def test_value_and_gradient_equal_kernel(problem):
    X, weights, means, L = problem
    inputs, pointwise, cost = symbolic(X)
    fn = pytensor.function(inputs, [cost, *pt.grad(cost, inputs), pointwise], mode=PY_MODE)
    total, dw, dmu, dL, pw = fn(weights, means, L)
    ref_total, ref_dw, ref_dmu, ref_dL = kernels.loglik_value_and_grad(X, weights, means, L)
    assert total == pytest.approx(ref_total - 0.25 * N, rel=1e-13)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-13)
    np.testing.assert_allclose(dmu, ref_dmu, rtol=1e-13)
    np.testing.assert_allclose(dL, ref_dL, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(pw, kernels.loglik_pointwise(X, weights, means, L) - 0.25,
                               rtol=1e-14)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gradient_finite_differences(problem, covariance_type):
    """verify_grad through each parameterisation: the pointwise Op (random projection, i.e. the
    VJP Op with a non-uniform upstream gradient) and the fused total (one-pass path)."""
    X, _, _, _ = problem
    rng = np.random.default_rng(1)

    def pointwise(w_raw, mu, raw):
        w = pt.special.softmax(w_raw)
        return ops.mixture_loglik_pointwise(X, w, mu, chol_from_raw(covariance_type, raw), 0.1)

    def total(w_raw, mu, raw):
        return pointwise(w_raw, mu, raw).sum()

    def total_fused_first(w_raw, mu, raw):  # nutpie's order: Total's own pullback
        return rewrite_graph(total(w_raw, mu, raw), include=["canonicalize"])

    point = [rng.normal(size=K), rng.normal(size=(K, D)), raw_start(covariance_type, rng)]
    for fun in (pointwise, total, total_fused_first):
        # verify_grad differences one-sidedly (error ~ eps |f''|, |f''| ~ 1e2 here): 1e-4 still
        # catches any real mistake, which shows as an O(1) relative error.
        verify_grad(fun, point, rng=rng, n_tests=2, eps=1e-7, abs_tol=1e-4, rel_tol=1e-4,
                    mode=PY_MODE)


def test_numba_matches_python(problem):
    X, weights, means, L = problem
    g = np.random.default_rng(2).normal(size=N)
    for upstream in (None, g):
        inputs, pointwise, cost = symbolic(X, upstream)
        outs = [cost, *pt.grad(cost, inputs), pointwise]
        py = pytensor.function(inputs, outs, mode=PY_MODE)(weights, means, L)
        nb = pytensor.function(inputs, outs, mode="NUMBA")(weights, means, L)
        for a, b in zip(py, nb, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_numba_mode_has_no_python_fallback(problem):
    X, weights, means, L = problem
    inputs, pointwise, cost = symbolic(X)
    with warnings.catch_warnings():
        # PyTensor warns when an Op without a numba implementation runs in object mode.
        warnings.filterwarnings("error", message=".*object mode.*")
        fn = pytensor.function(inputs, [cost, *pt.grad(cost, inputs), pointwise], mode="NUMBA")
        fn(weights, means, L)


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE", "PY"])
def test_one_pass_when_gradient_taken_before_rewrites(problem, mode):
    """pm.sample's path: grad of the raw graph, then compilation. Both the forward sum and the
    VJP must collapse onto a single Total node."""
    X, weights, means, L = problem
    inputs, _, cost = symbolic(X)
    fn = pytensor.function(inputs, [cost, *pt.grad(cost, inputs)],
                           mode=PY_MODE if mode == "PY" else mode)
    assert count_ops(fn) == {"MixtureLogLikTotal": 1}
    ops.kernel_call_counts.update(pointwise=0, total=0, vjp=0)
    fn(weights, means, L)
    if mode != "NUMBA":  # Python perform: count the kernel passes
        assert ops.kernel_call_counts == {"pointwise": 0, "total": 1, "vjp": 0}


def test_one_pass_when_gradient_taken_after_rewrites(problem):
    """nutpie's path: rewrite_graph(logp, canonicalize + stabilize), then grad, then compile."""
    X, weights, means, L = problem
    inputs, _, cost = symbolic(X)
    cost = rewrite_graph(cost, include=["canonicalize", "stabilize"])
    assert cost.owner is not None and not any(
        isinstance(v.owner.op, ops.MixtureLogLikPointwise)
        for v in pytensor.graph.traversal.ancestors([cost]) if v.owner is not None)
    fn = pytensor.function(inputs, [cost, *pt.grad(cost, inputs)], mode=PY_MODE)
    assert count_ops(fn) == {"MixtureLogLikTotal": 1}
    ops.kernel_call_counts.update(pointwise=0, total=0, vjp=0)
    total, *grads = fn(weights, means, L)
    assert ops.kernel_call_counts == {"pointwise": 0, "total": 1, "vjp": 0}
    ref_total, *ref_grads = kernels.loglik_value_and_grad(X, weights, means, L)
    assert total == pytest.approx(ref_total - 0.25 * N, rel=1e-13)
    for a, b in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_non_uniform_upstream_gradient_keeps_vjp(problem):
    """The fusion is only valid for a uniform upstream gradient: a weighted sum keeps the VJP."""
    X, weights, means, L = problem
    g = np.linspace(0.5, 2.0, N)
    inputs, _, cost = symbolic(X, g)
    fn = pytensor.function(inputs, pt.grad(cost, inputs), mode=PY_MODE)
    assert count_ops(fn)["MixtureLogLikVJP"] == 1
    assert count_ops(fn)["MixtureLogLikTotal"] == 0
    dw, dmu, dL = fn(weights, means, L)
    # Reference: the kernel's weighted statistics, and finite differences on one entry.
    U, log_det = kernels.precision_from_covariance_cholesky(L)
    _, nk, s1c, c = kernels.estep_serial(X, g, np.log(weights), means, U, log_det, np.empty(0),
                                         np.empty((0, K)))
    ref = kernels.gradient_from_statistics(weights, L, U, nk, s1c, c)
    for a, b in zip((dw, dmu, dL), ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    h = 1e-6
    up, down = means.copy(), means.copy()
    up[1, 0] += h
    down[1, 0] -= h
    fd = (g @ kernels.loglik_pointwise(X, weights, up, L)
          - g @ kernels.loglik_pointwise(X, weights, down, L)) / (2 * h)
    assert dmu[1, 0] == pytest.approx(fd, rel=1e-6)


def test_pullback_not_l_op(problem):
    """PyTensor 3 calls ``pullback``; a deprecated ``L_op``/``grad`` would warn."""
    X, _, _, _ = problem
    inputs, _, cost = symbolic(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        pt.grad(cost, inputs)
        pt.grad(rewrite_graph(cost, include=["canonicalize"]), inputs)


def test_second_derivative_not_implemented(problem):
    X, _, _, _ = problem
    inputs, _, cost = symbolic(X)
    g_mu = pt.grad(cost, inputs[1])
    with pytest.raises(Exception, match="(?i)not implemented|no second derivatives"):
        pt.grad(g_mu.sum(), inputs[1])


def test_input_validation():
    with pytest.raises(TypeError, match="weights"):
        ops.mixture_loglik_pointwise(np.zeros((3, 2)), np.ones((2, 2)), np.zeros((2, 2)),
                                     np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="matrix"):
        ops.mixture_loglik_total(np.zeros(3), np.ones(2), np.zeros((2, 1)), np.ones((2, 1, 1)))
