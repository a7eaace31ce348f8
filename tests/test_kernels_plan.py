"""The row plan (missing values, known labels, noise) against direct SciPy computations."""

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from bayesgmm import covariance, kernels

K, D = 3, 3


def _parameters(covariance_type, seed=0):
    rng = np.random.default_rng(seed)
    weights = np.array([0.2, 0.5, 0.3])
    means = rng.normal(scale=2.0, size=(K, D))
    A = rng.normal(size=(K, D, D))
    full = A @ A.transpose(0, 2, 1) + np.eye(D)
    cov = {"full": full, "tied": full[0], "diag": np.diagonal(full, axis1=1, axis2=2),
           "spherical": np.diagonal(full, axis1=1, axis2=2).mean(axis=1)}[covariance_type]
    return weights, means, cov


def _data(seed=1, n=200, missing=0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=2.0, size=(n, D))
    holes = rng.random((n, D)) < missing
    holes[holes.all(axis=1), 0] = False  # no row with every value missing
    Xm = X.copy()
    Xm[holes] = np.nan
    return Xm


def _direct(Xm, weights, means, full, labels=None, g=None, noise=(0.0, -np.inf)):
    """sum_n g_n ll_n with SciPy, one point at a time."""
    noise_w, log_noise = noise
    total, pointwise = 0.0, []
    for n, x in enumerate(Xm):
        o = ~np.isnan(x)
        terms = [np.log(weights[k]) + multivariate_normal(means[k][o], full[k][np.ix_(o, o)])
                 .logpdf(x[o]) for k in range(K)]
        if labels is not None and labels[n] >= 0:
            ll = terms[labels[n]]
        else:  # the noise box by default a cube: log_noise / D per observed coordinate
            noise_term = [np.log(noise_w) + (log_noise if o.all() else o.sum() * log_noise / D)]
            ll = logsumexp(terms + (noise_term if noise_w > 0 else []))
        pointwise.append(ll)
        total += (1.0 if g is None else g[n]) * ll
    return total, np.array(pointwise)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_missing_values_density_is_the_observed_marginal(covariance_type):
    weights, means, cov = _parameters(covariance_type)
    full = covariance.to_full(cov, covariance_type, K, D)
    Xm = _data()
    e = kernels.estep_plan(kernels.RowPlan.build(Xm), weights, means, cov, covariance_type,
                           return_pointwise=True, return_resp=True)
    total, pointwise = _direct(Xm, weights, means, full)
    np.testing.assert_allclose(e.pointwise, pointwise, rtol=1e-12, atol=1e-12)
    assert e.log_likelihood == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(e.resp.sum(axis=1), 1.0, atol=1e-12)


def test_labels_weights_and_noise_together():
    weights, means, full = _parameters("full")
    Xm = _data(seed=2)
    rng = np.random.default_rng(3)
    labels = rng.integers(-1, K, size=Xm.shape[0])
    g = rng.uniform(0.0, 3.0, size=Xm.shape[0])
    noise_w, log_noise = 0.1, -np.log(400.0)
    plan = kernels.RowPlan.build(Xm, g, labels, log_noise)
    e = kernels.estep_plan(plan, weights * 0.9, means, full, "full", noise_weight=noise_w,
                           return_pointwise=True, return_resp=True)
    total, pointwise = _direct(Xm, weights * 0.9, means, full, labels, g, (noise_w, log_noise))
    assert e.log_likelihood == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(e.pointwise, pointwise, rtol=1e-12)
    known = labels >= 0
    # a labelled point's membership is exactly its label, never noise
    np.testing.assert_array_equal(e.resp[known, :K].argmax(axis=1), labels[known])
    assert np.all(e.resp[known].max(axis=1) == 1.0) and np.all(e.resp[known, K] == 0.0)
    assert e.noise_nk == pytest.approx(np.sum(g * e.resp[:, K]), rel=1e-12)
    total_nk = e.stats.nk.sum() + e.noise_nk
    assert total_nk == pytest.approx(g.sum(), rel=1e-12)


def test_complete_data_plan_equals_the_plain_kernel():
    weights, means, full = _parameters("full")
    X = np.random.default_rng(4).normal(size=(300, D))
    prec = kernels.precisions_cholesky(full, "full")
    plain = kernels.estep(X, weights, means, prec, "full", return_pointwise=True)
    planned = kernels.estep_plan(kernels.RowPlan.build(X), weights, means, full, "full",
                                 return_pointwise=True)
    np.testing.assert_allclose(planned.pointwise, plain.pointwise, rtol=1e-13)
    np.testing.assert_allclose(planned.stats.c, plain.stats.c, rtol=1e-12)
    np.testing.assert_allclose(planned.stats.s1c, plain.stats.s1c, rtol=1e-12, atol=1e-12)


def test_completed_statistics_equal_conditional_expectations():
    """S1c and C of a group with missing values, against the conditional moments directly."""
    weights, means, full = _parameters("full", seed=5)
    Xm = _data(seed=6, n=60)
    e = kernels.estep_plan(kernels.RowPlan.build(Xm), weights, means, full, "full",
                           return_resp=True)
    s1c, c = np.zeros((K, D)), np.zeros((K, D, D))
    for n, x in enumerate(Xm):
        o, m = ~np.isnan(x), np.isnan(x)
        for k in range(K):
            S = full[k]
            B = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
            d = np.zeros(D)
            d[o] = x[o] - means[k][o]
            d[m] = B @ d[o]
            extra = np.zeros((D, D))
            extra[np.ix_(m, m)] = S[np.ix_(m, m)] - B @ S[np.ix_(o, m)]
            r = e.resp[n, k]
            s1c[k] += r * d
            c[k] += r * (np.outer(d, d) + extra)
    np.testing.assert_allclose(e.stats.s1c, s1c, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(e.stats.c, c, rtol=1e-10, atol=1e-10)


def test_plan_gradient_matches_finite_differences():
    weights, means, full = _parameters("full", seed=7)
    Xm = _data(seed=8, n=80)
    labels = np.where(np.arange(80) % 5 == 0, np.arange(80) % K, -1)
    plan = kernels.RowPlan.build(Xm, None, labels, -np.log(300.0))
    L = np.linalg.cholesky(full)
    w, nw = weights * 0.8, 0.2

    def value(w, nw, mu, L):
        return kernels.plan_value_and_grad(*plan.arrays, w, nw, mu, L)[0]

    _, dw, dnw, dmu, dL = kernels.plan_value_and_grad(*plan.arrays, w, nw, means, L)
    h = 1e-6
    for k in range(K):
        e = np.eye(K)[k] * h
        assert dw[k] == pytest.approx((value(w + e, nw, means, L) - value(w - e, nw, means, L))
                                      / (2 * h), rel=1e-6)
        for a in range(D):
            step = np.zeros((K, D))
            step[k, a] = h
            num = (value(w, nw, means + step, L) - value(w, nw, means - step, L)) / (2 * h)
            assert dmu[k, a] == pytest.approx(num, rel=1e-5, abs=1e-6)
            for b in range(a + 1):
                step = np.zeros((K, D, D))
                step[k, a, b] = h
                num = (value(w, nw, means, L + step) - value(w, nw, means, L - step)) / (2 * h)
                assert dL[k, a, b] == pytest.approx(num, rel=1e-5, abs=1e-6)
    num = (value(w, nw + h, means, L) - value(w, nw - h, means, L)) / (2 * h)
    assert dnw == pytest.approx(num, rel=1e-6)


def test_pointwise_over_draws_in_data_order():
    weights, means, full = _parameters("full", seed=9)
    Xm = _data(seed=10, n=50)
    plan = kernels.RowPlan.build(Xm, log_noise=-np.log(100.0))
    L = np.linalg.cholesky(full)
    S = 3
    scale = np.array([1.0, 0.9, 1.1])
    out, resp = kernels.plan_pointwise_over_draws(
        plan, np.tile(weights * 0.95, (S, 1)), np.full(S, 0.05), means * scale[:, None, None],
        np.broadcast_to(L, (S, K, D, D)), True)
    for s in range(S):
        _, pointwise = _direct(Xm, weights * 0.95, means * scale[s], full,
                               noise=(0.05, -np.log(100.0)))
        np.testing.assert_allclose(out[s], pointwise, rtol=1e-12)
    assert resp.shape == (S, 50, K + 1)
    np.testing.assert_allclose(resp.sum(axis=2), 1.0, atol=1e-12)


def test_labelled_rows_noise_column_is_zero_over_draws():
    """The over-draws path allocates resp uninitialised: the kernel must write the noise
    column of labelled groups (0) itself."""
    weights, means, full = _parameters("full", seed=11)
    X = np.random.default_rng(12).normal(size=(40, D))
    labels = np.where(np.arange(40) % 2 == 0, np.arange(40) % K, -1)
    plan = kernels.RowPlan.build(X, labels=labels, log_noise=-np.log(100.0))
    S = 4
    _, resp = kernels.plan_pointwise_over_draws(
        plan, np.tile(weights * 0.9, (S, 1)), np.full(S, 0.1), np.broadcast_to(means, (S, K, D)),
        np.broadcast_to(np.linalg.cholesky(full), (S, K, D, D)), True)
    assert np.all(resp[:, labels >= 0, K] == 0.0)
    np.testing.assert_allclose(resp.sum(axis=2), 1.0, atol=1e-12)


def test_noise_density_of_a_row_with_missing_values_is_the_box_marginal():
    """A uniform box's density of the observed coordinates: the product over those only."""
    weights, means, full = _parameters("full", seed=13)
    Xm = _data(seed=14, n=60)
    sides = np.log(np.array([3.0, 8.0, 0.5]))
    log_noise, nw = -sides.sum(), 0.2
    plan = kernels.RowPlan.build(Xm, log_noise=log_noise, noise_log_ranges=sides)
    e = kernels.estep_plan(plan, weights * 0.8, means, full, "full", noise_weight=nw,
                           return_pointwise=True)
    for n, x in enumerate(Xm):
        o = ~np.isnan(x)
        terms = [np.log(0.8 * weights[k]) + multivariate_normal(
            means[k][o], full[k][np.ix_(o, o)]).logpdf(x[o]) for k in range(K)]
        expected = logsumexp(terms + [np.log(nw) - sides[o].sum()])
        assert e.pointwise[n] == pytest.approx(expected, rel=1e-12)
