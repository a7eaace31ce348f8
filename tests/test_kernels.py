"""The E-step kernel against direct scipy computations (the oracle for all later code)."""

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from scipy import linalg
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from bayesgmm import kernels
from bayesgmm.kernels import estep, loglik_value_and_grad, precisions_cholesky


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def random_covariances(rng, K, D, covariance_type):
    """Well-conditioned random covariances in scikit-learn's shapes for ``covariance_type``."""
    if covariance_type == "full":
        A = rng.normal(size=(K, D, D))
        return A @ A.transpose(0, 2, 1) / D + 0.5 * np.eye(D)
    if covariance_type == "tied":
        A = rng.normal(size=(D, D))
        return A @ A.T / D + 0.5 * np.eye(D)
    if covariance_type == "diag":
        return rng.uniform(0.3, 2.0, size=(K, D))
    return rng.uniform(0.3, 2.0, size=K)


def random_params(rng, K, D, covariance_type):
    weights = rng.dirichlet(np.full(K, 3.0))
    means = rng.normal(scale=2.0, size=(K, D))
    return weights, means, random_covariances(rng, K, D, covariance_type)


def full_covariances(covariances, covariance_type, K, D):
    return kernels.to_full_covariances(covariances, covariance_type, K, D)


def scipy_log_terms(X, weights, means, covs_full):
    """l_nk = log w_k + log N(x_n | mu_k, Sigma_k) computed by scipy, shape (N, K)."""
    return np.column_stack([
        np.log(w) + multivariate_normal.logpdf(X, m, c)
        for w, m, c in zip(weights, means, covs_full, strict=True)
    ])


def run_estep(X, params, covariance_type, **kw):
    weights, means, covariances = params
    prec = precisions_cholesky(covariances, covariance_type)
    return estep(X, weights, means, prec, covariance_type, return_pointwise=True,
                 return_resp=True, **kw)


@pytest.fixture(scope="module")
def data():
    """Three loose clusters in 3-D (N=300)."""
    rng = np.random.default_rng(42)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, -1.0, 2.0], [-2.0, 4.0, 1.0]])
    return centres[rng.integers(3, size=300)] + rng.normal(size=(300, 3))


@pytest.fixture(scope="module")
def big_data():
    """N = 5000 > 2048 points: several blocks, so the parallel path really splits the work."""
    rng = np.random.default_rng(7)
    return rng.normal(size=(5000, 2)) * [1.0, 3.0] + [5.0, -2.0]


# --------------------------------------------------------------------------------------------
# estep == scipy
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_estep_matches_scipy(data, covariance_type):
    rng = np.random.default_rng(1)
    K, D = 4, data.shape[1]
    params = random_params(rng, K, D, covariance_type)
    e = run_estep(data, params, covariance_type)
    terms = scipy_log_terms(data, params[0], params[1],
                            full_covariances(params[2], covariance_type, K, D))
    ll = logsumexp(terms, axis=1)
    resp = np.exp(terms - ll[:, None])
    np.testing.assert_allclose(e.pointwise, ll, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(e.resp, resp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(e.resp.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    assert e.log_likelihood == pytest.approx(ll.sum(), rel=1e-12)


def direct_statistics(X, resp, g):
    w = resp * g[:, None]
    nk = w.sum(axis=0)
    s1 = w.T @ X
    s2 = np.einsum("nk,na,nb->kab", w, X, X)
    return nk, s1, s2


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_statistics_equal_direct_sums(data, covariance_type, weighted):
    rng = np.random.default_rng(2)
    K, D = 3, data.shape[1]
    params = random_params(rng, K, D, covariance_type)
    g = rng.uniform(0.0, 3.0, size=data.shape[0]) if weighted else np.ones(data.shape[0])
    e = run_estep(data, params, covariance_type, sample_weight=g if weighted else None)
    nk, s1, s2 = direct_statistics(data, e.resp, g)
    np.testing.assert_allclose(e.stats.nk, nk, rtol=1e-12)
    np.testing.assert_allclose(e.stats.s1, s1, rtol=1e-11, atol=1e-10)
    np.testing.assert_allclose(e.stats.s2, s2, rtol=1e-11, atol=1e-10)
    # derived statistics: responsibility-weighted means and scatter about them
    xbar = s1 / nk[:, None]
    scatter = s2 - nk[:, None, None] * xbar[:, :, None] * xbar[:, None, :]
    np.testing.assert_allclose(e.stats.component_means, xbar, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(e.stats.scatter, scatter, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(e.stats.s2, e.stats.s2.transpose(0, 2, 1), rtol=0,
                               atol=1e-14 * np.abs(s2).max())
    assert e.log_likelihood == pytest.approx(np.sum(g * e.pointwise), rel=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_weight_two_equals_duplicated_rows(data, covariance_type):
    rng = np.random.default_rng(3)
    K, D = 3, data.shape[1]
    params = random_params(rng, K, D, covariance_type)
    dup = rng.random(data.shape[0]) < 0.3
    g = np.where(dup, 2.0, 1.0)
    weighted = run_estep(data, params, covariance_type, sample_weight=g)
    duplicated = run_estep(np.vstack([data, data[dup]]), params, covariance_type)
    assert weighted.log_likelihood == pytest.approx(duplicated.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(weighted.stats.nk, duplicated.stats.nk, rtol=1e-12)
    np.testing.assert_allclose(weighted.stats.s1, duplicated.stats.s1, rtol=1e-11, atol=1e-10)
    np.testing.assert_allclose(weighted.stats.s2, duplicated.stats.s2, rtol=1e-11, atol=1e-10)
    # pointwise values and responsibilities are per point, unweighted
    np.testing.assert_array_equal(weighted.pointwise, duplicated.pointwise[: data.shape[0]])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_zero_weight_component_is_never_chosen(data, covariance_type):
    rng = np.random.default_rng(4)
    K, D = 3, data.shape[1]
    weights, means, covariances = random_params(rng, K, D, covariance_type)
    weights = np.array([0.6, 0.0, 0.4])
    e = run_estep(data, (weights, means, covariances), covariance_type)
    assert np.all(e.resp[:, 1] == 0.0)
    assert e.stats.nk[1] == 0.0
    assert np.all(np.isfinite(e.pointwise))


# --------------------------------------------------------------------------------------------
# serial == parallel, bitwise
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_serial_and_parallel_agree_bitwise(big_data, covariance_type, weighted):
    rng = np.random.default_rng(5)
    K, D = 3, big_data.shape[1]
    params = random_params(rng, K, D, covariance_type)
    g = rng.uniform(0.5, 2.0, size=big_data.shape[0]) if weighted else None
    serial = run_estep(big_data, params, covariance_type, sample_weight=g, parallel=False)
    parallel = run_estep(big_data, params, covariance_type, sample_weight=g, parallel=True)
    assert serial.log_likelihood == parallel.log_likelihood
    for name in ("nk", "s1c", "c"):
        np.testing.assert_array_equal(getattr(serial.stats, name), getattr(parallel.stats, name))
    np.testing.assert_array_equal(serial.pointwise, parallel.pointwise)
    np.testing.assert_array_equal(serial.resp, parallel.resp)


# --------------------------------------------------------------------------------------------
# gradient (Fisher's identity) vs central finite differences
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_read_only_and_strided_arrays_reach_the_kernels_as_one_type(data, covariance_type):
    """A saved result's read-only arrays and strided views are numba types of their own:
    each compiled the kernels again (stop 69: ~60 s of the test suite, and a first call on a
    user's machine that `bayesgmm warm` had not covered). The entry points hand the kernels
    C-contiguous, writeable copies: the same numbers, no new compilation."""
    rng = np.random.default_rng(3)
    weights, means, covariances = random_params(rng, 3, 3, covariance_type)
    prec = precisions_cholesky(covariances, covariance_type)
    plain = estep(data, weights, means, prec, covariance_type, return_pointwise=True)
    compiled = len(kernels.estep_serial.signatures)

    def read_only(a):
        a = np.array(a)
        a.flags.writeable = False
        return a

    odd = [(read_only(data), read_only(weights), read_only(means), read_only(prec)),
           (np.asfortranarray(data), weights[::1], np.asfortranarray(means),
            np.asfortranarray(prec)),
           (np.repeat(data, 2, axis=0)[::2], np.repeat(weights, 2)[::2],
            np.repeat(means, 2, axis=1)[:, ::2], np.repeat(prec, 2, axis=-1)[..., ::2])]
    for X, w, m, p in odd:
        again = estep(X, w, m, p, covariance_type, return_pointwise=True)
        np.testing.assert_array_equal(again.pointwise, plain.pointwise)
    assert len(kernels.estep_serial.signatures) == compiled
    assert kernels.kernel_array(read_only(means)).flags.writeable
    fresh = np.zeros((2, 3))
    assert kernels.kernel_array(fresh) is fresh  # no copy where none is needed


def full_form(params, covariance_type, K, D):
    """(weights, means, L) with L the lower Cholesky factors of the full covariances."""
    weights, means, covariances = params
    L = np.linalg.cholesky(full_covariances(covariances, covariance_type, K, D))
    return weights.copy(), means.copy(), np.ascontiguousarray(L)


def central_difference(f, x, index, h):
    up, down = x.copy(), x.copy()
    up[index] += h
    down[index] -= h
    return (f(up) - f(down)) / (2.0 * h)


def assert_gradient(analytic, numeric):
    scale = np.abs(analytic).max()
    np.testing.assert_allclose(numeric, analytic, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_loglik_gradient_matches_finite_differences(covariance_type):
    rng = np.random.default_rng(6)
    K, D = 3, 2
    X = rng.normal(scale=2.0, size=(200, D))
    w, mu, L = full_form(random_params(rng, K, D, covariance_type), covariance_type, K, D)
    total, dw, dmu, dL = loglik_value_and_grad(X, w, mu, L)
    assert total == pytest.approx(
        logsumexp(scipy_log_terms(X, w, mu, L @ L.transpose(0, 2, 1)), axis=1).sum(), rel=1e-12
    )

    def value(w_, mu_, L_):
        return loglik_value_and_grad(X, w_, mu_, L_)[0]

    h = 1e-6
    num_w = np.array([central_difference(lambda v: value(v, mu, L), w, (k,), h)
                      for k in range(K)])
    num_mu = np.array([[central_difference(lambda v: value(w, v, L), mu, (k, d), h)
                        for d in range(D)] for k in range(K)])
    num_L = np.zeros_like(L)
    for k in range(K):
        for a in range(D):
            for b in range(a + 1):
                num_L[k, a, b] = central_difference(lambda v: value(w, mu, v), L, (k, a, b), h)
    assert_gradient(dw, num_w)
    assert_gradient(dmu, num_mu)
    assert_gradient(dL, num_L)
    assert np.all(np.triu(dL, k=1) == 0.0)  # only the free (lower) entries have a gradient


def test_loglik_pointwise_matches_estep(data):
    rng = np.random.default_rng(8)
    K, D = 3, data.shape[1]
    params = random_params(rng, K, D, "full")
    w, mu, L = full_form(params, "full", K, D)
    np.testing.assert_allclose(kernels.loglik_pointwise(data, w, mu, L),
                               run_estep(data, params, "full").pointwise, rtol=1e-13)


# --------------------------------------------------------------------------------------------
# precision factors
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precisions_cholesky_inverts_covariances(covariance_type):
    rng = np.random.default_rng(9)
    K, D = 3, 3
    covariances = random_covariances(rng, K, D, covariance_type)
    U = kernels.full_precision_cholesky(precisions_cholesky(covariances, covariance_type),
                                        covariance_type, K, D)
    covs = full_covariances(covariances, covariance_type, K, D)
    for k in range(K):
        np.testing.assert_allclose(U[k] @ U[k].T @ covs[k], np.eye(D), atol=1e-12)
        np.testing.assert_array_equal(U[k], np.triu(U[k]))


def test_precisions_cholesky_names_non_pd_component():
    covs = np.array([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match="component 1 is not positive definite"):
        precisions_cholesky(covs, "full")
    with pytest.raises(ValueError, match="positive"):
        precisions_cholesky(np.array([1.0, 0.0]), "spherical")


def test_covariance_cholesky_to_precision_factor():
    rng = np.random.default_rng(10)
    covs = random_covariances(rng, 2, 3, "full")
    L = np.linalg.cholesky(covs)
    U, log_det = kernels.precision_from_covariance_cholesky(L)
    for k in range(2):
        np.testing.assert_allclose(U[k], linalg.inv(L[k]).T, rtol=1e-12, atol=1e-14)
        assert log_det[k] == pytest.approx(-0.5 * np.linalg.slogdet(covs[k])[1], rel=1e-12)


# --------------------------------------------------------------------------------------------
# extreme data
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("offset", [1e150, -1e150, 1e200])
def test_extreme_point_gives_no_nan(data, covariance_type, offset):
    rng = np.random.default_rng(11)
    K, D = 3, data.shape[1]
    params = random_params(rng, K, D, covariance_type)
    X = data.copy()
    X[17] = offset
    e = run_estep(X, params, covariance_type)
    assert not np.isnan(e.log_likelihood)
    assert e.log_likelihood < np.inf
    assert not np.any(np.isnan(e.pointwise))
    assert e.pointwise[17] == -np.inf or np.isfinite(e.pointwise[17])
    np.testing.assert_array_equal(np.delete(e.pointwise, 17),
                                  np.delete(run_estep(data, params, covariance_type).pointwise, 17))
    for name in ("nk", "s1c", "c"):
        assert not np.any(np.isnan(getattr(e.stats, name)))
    w, mu, L = full_form(params, covariance_type, K, D)
    total, dw, dmu, dL = loglik_value_and_grad(X, w, mu, L)
    assert not np.isnan(total) and total < np.inf


_FORK_SCRIPT = r"""
import multiprocessing as mp, sys
import numpy as np
from bayesgmm import kernels
from bayesgmm.covariance import cholesky_draws

rng = np.random.default_rng(0)
X = rng.normal(size=(3000, 2))
S = 8
# weights whose logs NumPy and libm round apart (rows where np.log != math.log on AVX-512)
W = np.random.default_rng(1).dirichlet([1.0, 1.0, 1.0], size=2000)[
    [96, 502, 556, 614, 828, 989, 1590, 1816]]
M = rng.normal(size=(S, 3, 2))
L = np.broadcast_to(np.linalg.cholesky([np.eye(2), 2 * np.eye(2), 0.5 * np.eye(2)]),
                    (S, 3, 2, 2)).copy()
cov = L[0] @ np.swapaxes(L[0], -1, -2)
gaps = X.copy()
gaps[::7, 1] = np.nan
plan = kernels.RowPlan.build(gaps, log_noise=-3.0)
noise = rng.uniform(0.01, 0.1, size=S)


def job(_):
    e = kernels.estep(X, W[0], M[0], cov, "full", parallel=True, return_resp=True)
    pw, resp = kernels.pointwise_over_draws(X, W, M, L, True)
    ppw, presp = kernels.plan_pointwise_over_draws(plan, W, noise, M, L, True)
    return (kernels.threads_usable(), e.log_likelihood, e.resp.tobytes(), pw.tobytes(),
            resp.tobytes(), ppw.tobytes(), presp.tobytes())


if __name__ == "__main__":
    here = job(0)  # the parent starts numba's threads first
    with mp.get_context("fork").Pool(1) as pool:
        there = pool.apply_async(job, (0,)).get(timeout=120)
    import numba
    print(numba.threading_layer(), here[:2], there[:2])
    assert here[0] and there[0] == (numba.threading_layer() != "omp"), (here[:2], there[:2])
    for a, b in zip(here[1:], there[1:]):  # the serial kernels: the same numbers, bitwise
        assert a == b
"""


def test_a_child_forked_after_the_threads_ran_fits_serially(tmp_path):
    """QA (a pipeline): after any parallel kernel ran in the parent, a forked worker that
    fitted aborted ("fork() called from a process already using GNU OpenMP") and a
    multiprocessing.Pool hung on it. Such a child now runs the kernels serially, with the
    same numbers."""
    import subprocess
    import sys

    script = tmp_path / "fork_after_threads.py"
    script.write_text(_FORK_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
