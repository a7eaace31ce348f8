"""The conjugate prior of MAP-EM (validation, mclust's defaults, log density) and ``Priors``."""

import math

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from scipy import stats
from scipy.special import gammaln, multigammaln

from bayesgmm import ConjugatePrior, Priors, fit_em
from bayesgmm.priors import Standardisation


# --------------------------------------------------------------------------------------------
# hand-written densities (the oracle)
# --------------------------------------------------------------------------------------------
def log_dirichlet(w, alpha):
    a = np.full(w.shape, float(alpha))
    return gammaln(a.sum()) - gammaln(a).sum() + np.sum((a - 1) * np.log(w))


def log_normal(x, mean, cov):
    D = x.shape[0]
    diff = x - mean
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (D * math.log(2 * math.pi) + logdet + diff @ np.linalg.solve(cov, diff))


def log_inverse_wishart(S, nu, lam):
    D = S.shape[0]
    _, logdet_lam = np.linalg.slogdet(lam)
    _, logdet_s = np.linalg.slogdet(S)
    return (0.5 * nu * logdet_lam - 0.5 * nu * D * math.log(2) - multigammaln(0.5 * nu, D)
            - 0.5 * (nu + D + 1) * logdet_s - 0.5 * np.trace(lam @ np.linalg.inv(S)))


def log_inverse_gamma(v, shape, scale):
    return shape * np.log(scale) - gammaln(shape) - (shape + 1) * np.log(v) - scale / v


def direct_log_density(prior, weights, means, covariances):
    """log Dir(w | alpha) + sum_k log p(mu_k, Sigma_k) (tied: one Sigma), by hand."""
    K, D = means.shape
    kappa, nu, m0, lam = prior.shrinkage, prior.dof, prior.mean, prior.scale
    lp = log_dirichlet(weights, prior.weight_concentration)
    ct = prior.covariance_type
    for k in range(K):
        if ct in ("full", "tied"):
            cov = covariances[k] if ct == "full" else covariances
            lp += log_normal(means[k], m0, cov / kappa)
            if ct == "full":
                lp += log_inverse_wishart(cov, nu, lam)
        else:
            var = np.broadcast_to(covariances[k], (D,))
            lp += log_normal(means[k], m0, np.diag(var) / kappa)
            if ct == "diag":
                lp += np.sum(log_inverse_gamma(var, nu / 2, lam / 2))
            else:
                lp += log_inverse_gamma(covariances[k], nu / 2, lam / 2)
    if ct == "tied":
        lp += log_inverse_wishart(covariances, nu, lam)
    return lp


def random_prior_and_params(rng, covariance_type, K=3, D=3, alpha=1.0):
    A = rng.normal(size=(D, D))
    lam_full = A @ A.T + D * np.eye(D)
    scale = {"full": lam_full, "tied": lam_full, "diag": rng.uniform(0.5, 2.0, D),
             "spherical": np.array(1.3)}[covariance_type]
    prior = ConjugatePrior(covariance_type, rng.normal(size=D), 0.3, D + 2.5, scale, alpha)
    B = rng.normal(size=(K, D, D))
    full = B @ B.transpose(0, 2, 1) + np.eye(D)
    covariances = {"full": full, "tied": full[0],
                   "diag": rng.uniform(0.3, 3.0, (K, D)),
                   "spherical": rng.uniform(0.3, 3.0, K)}[covariance_type]
    return prior, (rng.dirichlet(np.full(K, 2.0)), rng.normal(size=(K, D)), covariances)


# --------------------------------------------------------------------------------------------
# log_density
# --------------------------------------------------------------------------------------------
def test_hand_written_oracle_agrees_with_scipy():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    S, lam = A @ A.T + np.eye(3), np.diag([1.0, 2.0, 3.0])
    assert log_inverse_wishart(S, 6.5, lam) == pytest.approx(
        stats.invwishart.logpdf(S, df=6.5, scale=lam), rel=1e-12)
    assert log_inverse_gamma(1.7, 2.5, 0.8) == pytest.approx(
        stats.invgamma.logpdf(1.7, 2.5, scale=0.8), rel=1e-12)
    w = np.array([0.2, 0.3, 0.5])
    assert log_dirichlet(w, 2.5) == pytest.approx(stats.dirichlet.logpdf(w, [2.5] * 3), rel=1e-12)
    assert log_normal(S[0], S[1], lam) == pytest.approx(
        stats.multivariate_normal.logpdf(S[0], S[1], lam), rel=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 2.5])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_density_equals_direct_computation(covariance_type, alpha):
    rng = np.random.default_rng(1)
    for K, D in ((3, 3), (3, 3), (3, 3), (1, 3), (4, 1), (1, 1)):  # stacks of one too
        prior, params = random_prior_and_params(rng, covariance_type, K=K, D=D, alpha=alpha)
        assert prior.log_density(*params) == pytest.approx(
            direct_log_density(prior, *params), rel=1e-12, abs=1e-12)


def test_one_dimensional_inverse_wishart_is_inverse_gamma():
    """In 1-D IW(nu, lambda) = IG(nu/2, lambda/2): every covariance type gives one density."""
    rng = np.random.default_rng(2)
    weights, means = rng.dirichlet([1.0, 1.0]), rng.normal(size=(2, 1))
    var = np.array([0.7, 2.1])
    shaped = {"full": var[:, None, None], "diag": var[:, None], "spherical": var}
    scales = {"full": np.array([[1.5]]), "diag": np.array([1.5]), "spherical": np.array(1.5)}
    densities = [ConjugatePrior(ct, [0.3], 0.2, 3.0, scales[ct]).log_density(weights, means,
                                                                             shaped[ct])
                 for ct in ("full", "diag", "spherical")]
    assert densities == pytest.approx([densities[0]] * 3, rel=1e-12)


def test_log_density_changes_with_each_argument():
    rng = np.random.default_rng(3)
    prior, (w, m, c) = random_prior_and_params(rng, "full", alpha=2.0)
    base = prior.log_density(w, m, c)
    assert prior.log_density(np.array([0.1, 0.3, 0.6]), m, c) != base  # symmetric in w
    assert prior.log_density(w, m + 0.1, c) != base
    assert prior.log_density(w, m, c * 1.1) != base


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("covariance_type", "scale", "match"),
    [
        ("full", np.eye(3), r"must have shape \(2, 2\)"),
        ("full", np.ones(2), r"must have shape \(2, 2\)"),
        ("tied", np.array(1.0), r"must have shape \(2, 2\)"),
        ("diag", np.eye(2), r"must have shape \(2,\)"),
        ("diag", np.ones(3), r"must have shape \(2,\)"),
        ("spherical", np.ones(2), r"must have shape \(\)"),
        ("full", np.array([[1.0, 2.0], [2.0, 1.0]]), "positive-definite"),
        ("tied", np.array([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        ("full", np.zeros((2, 2)), "positive-definite"),
        ("diag", np.array([1.0, 0.0]), "scale must be positive"),
        ("spherical", np.array(-1.0), "scale must be positive"),
    ],
)
def test_bad_scale(covariance_type, scale, match):
    with pytest.raises(ValueError, match=match):
        ConjugatePrior(covariance_type, np.zeros(2), 0.01, 4.0, scale)


@pytest.mark.parametrize("alpha", [0.5, 0.99, 0.0, -1.0])
def test_weight_concentration_below_one(alpha):
    with pytest.raises(ValueError, match="weight_concentration"):
        ConjugatePrior("spherical", np.zeros(2), 0.01, 4.0, np.array(1.0), alpha)


@pytest.mark.parametrize("name", ["shrinkage", "dof"])
@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf])
def test_non_positive_shrinkage_and_dof(name, value):
    kw = {"shrinkage": 0.01, "dof": 4.0, name: value}
    with pytest.raises(ValueError, match=f"{name} must be a finite number > 0"):
        ConjugatePrior("spherical", np.zeros(2), scale=np.array(1.0), **kw)


def test_unknown_covariance_type():
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        ConjugatePrior("ellipsoidal", np.zeros(2), 0.01, 4.0, np.eye(2))


def test_prior_for_other_covariance_type_or_dimension_is_rejected():
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match="covariance_type='diag'"):
        fit_em(X, 2, prior=ConjugatePrior.default(X, 2, "diag"))
    with pytest.raises(ValueError, match="3 features"):
        fit_em(X, 2, prior=ConjugatePrior("full", np.zeros(3), 0.01, 5.0, np.eye(3)))


# --------------------------------------------------------------------------------------------
# mclust's defaultPrior
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def skewed():
    """200 x 3 correlated data with very different column scales."""
    rng = np.random.default_rng(5)
    A = np.array([[1.0, 0.0, 0.0], [0.8, 0.5, 0.0], [-3.0, 2.0, 10.0]])
    return rng.normal(size=(200, 3)) @ A.T + [1.0, -2.0, 50.0]


@pytest.mark.parametrize("K", [1, 2, 5])
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_default_full_and_tied_match_mclust(skewed, K, covariance_type):
    prior = ConjugatePrior.default(skewed, K, covariance_type)
    D = 3
    assert prior.shrinkage == 0.01
    assert prior.dof == D + 2
    assert prior.weight_concentration == 1.0
    np.testing.assert_allclose(prior.mean, skewed.mean(axis=0), rtol=1e-14)
    var = np.cov(skewed.T, ddof=1)  # R's var(): n - 1 denominator
    np.testing.assert_allclose(prior.scale, var * (1 / K) ** (2 / D), rtol=1e-13)


@pytest.mark.parametrize("K", [1, 3])
def test_default_spherical_matches_mclust(skewed, K):
    prior = ConjugatePrior.default(skewed, K, "spherical")
    D = 3
    assert (prior.shrinkage, prior.dof) == (0.01, D + 2)
    expected = (1 / K) ** (2 / D) * np.sum(np.var(skewed, axis=0, ddof=1)) / D
    assert prior.scale.shape == ()
    assert float(prior.scale) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("K", [1, 3])
def test_default_diag_is_per_feature(skewed, K):
    """mclust uses the scalar mean variance for its diagonal models; bayesgmm (documented)
    keeps one variance per feature so that unscaled columns are not distorted."""
    prior = ConjugatePrior.default(skewed, K, "diag")
    assert (prior.shrinkage, prior.dof) == (0.01, 5.0)
    np.testing.assert_allclose(prior.scale, np.var(skewed, axis=0, ddof=1) / K ** (2 / 3),
                               rtol=1e-13)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_one_dimensional_matches_mclust(galaxies, covariance_type):
    """mclust's univariate models: dof 3, scale var(data) / G^2."""
    x = galaxies[["velocity"]].to_numpy()
    prior = ConjugatePrior.default(x, 4, covariance_type)
    assert (prior.shrinkage, prior.dof) == (0.01, 3.0)
    assert np.ravel(prior.scale) == pytest.approx([np.var(x, ddof=1) / 16], rel=1e-13)
    assert prior.mean == pytest.approx([x.mean()], rel=1e-14)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_default_with_no_more_points_than_features(covariance_type):
    """mclust falls back to diag(var(data)) when n <= d (the sample covariance is singular)."""
    X = np.random.default_rng(6).normal(size=(4, 5)) * [1.0, 2.0, 3.0, 4.0, 5.0]
    prior = ConjugatePrior.default(X, 2, covariance_type)
    np.testing.assert_allclose(prior.scale, np.diag(np.var(X, axis=0, ddof=1)) / 2 ** (2 / 5),
                               rtol=1e-13)
    result = fit_em(X, 1, covariance_type=covariance_type, prior="default")
    assert np.isfinite(result.log_posterior)


def test_default_passes_weight_concentration(skewed):
    assert ConjugatePrior.default(skewed, 2, "full", 3.0).weight_concentration == 3.0


# --------------------------------------------------------------------------------------------
# Priors (the Bayesian model's)
# --------------------------------------------------------------------------------------------
PRIOR_FIELDS = ("weights_concentration", "means_sd", "sd_median", "sd_log_sd", "lkj_eta")


@pytest.mark.parametrize("name", PRIOR_FIELDS)
@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf])
def test_priors_reject_non_positive_values(name, value):
    with pytest.raises(ValueError, match=name):
        Priors(**{name: value})


def test_priors_to_dict_round_trips():
    p = Priors(weights_concentration=0.05, means_sd=3.0, sd_median=0.25, sd_log_sd=0.7,
               lkj_eta=4.0)
    d = p.to_dict()
    assert set(d) == set(PRIOR_FIELDS)
    assert all(type(v) is float for v in d.values())
    assert Priors(**d) == p
    assert Priors().to_dict() == {"weights_concentration": 1.0, "means_sd": 2.0,
                                  "sd_median": 0.5, "sd_log_sd": 1.0, "lkj_eta": 2.0}


@pytest.mark.parametrize("alpha", [0.01, 1.0, 4.0])
def test_conjugate_for_em_keeps_an_interior_mode(skewed, alpha):
    prior = Priors(weights_concentration=alpha).conjugate_for_em(skewed, 3, "full")
    assert prior.weight_concentration == max(1.0, alpha)
    np.testing.assert_array_equal(prior.scale, ConjugatePrior.default(skewed, 3, "full").scale)


# --------------------------------------------------------------------------------------------
# equality
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_priors_holding_arrays_compare_by_identity(skewed, covariance_type):
    a = ConjugatePrior.default(skewed, 3, covariance_type)
    same_numbers = ConjugatePrior.default(skewed, 3, covariance_type)
    other = ConjugatePrior.default(skewed, 2, covariance_type)
    assert a == a
    assert not a == same_numbers and a != same_numbers  # no ambiguous-array error
    assert a != other
    assert len({a, same_numbers, other, a}) == 3  # hashable (by identity)
    z = Standardisation.from_data(skewed, covariance_type)
    z_again = Standardisation.from_data(skewed, covariance_type)
    assert z == z and z != z_again and len({z, z_again}) == 2


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_map_em_takes_features_whose_units_differ_by_1e5(covariance_type):
    """QA (stress): MAP-EM (and so fit_bayes) failed on valid data whose two features differ
    in scale by 1e5: SciPy's multivariate_normal calls such a covariance singular. The prior's
    normal density goes through the Cholesky factor, equal to SciPy's where SciPy works."""
    from bayesgmm.priors import _normal_logpdfs

    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 3, 3))
    cov, x, m = A @ A.transpose(0, 2, 1) + np.eye(3), rng.normal(size=(4, 3)), rng.normal(size=3)
    np.testing.assert_allclose(_normal_logpdfs(x, m, cov), [
        stats.multivariate_normal.logpdf(x[k], m, cov[k]) for k in range(4)], rtol=1e-13)
    X = np.vstack([rng.normal(0, 1, (250, 2)), rng.normal(4, 1, (250, 2))]) * [1.0, 1e5]
    fit = fit_em(X, 2, prior="default", covariance_type=covariance_type, random_state=0)
    np.testing.assert_allclose(np.sort(fit.means[:, 0]), [0.0, 4.0], atol=0.2)


# QA125: mutants that survived the tests mirroring their module, killed here

# P3b: "Spherical models use one common scale so they stay spherical" (Standardisation).
def test_spherical_standardisation_has_one_common_scale():
    X = np.random.default_rng(0).normal(size=(200, 3)) * [1.0, 5.0, 20.0]
    z = Standardisation.from_data(X, "spherical")
    np.testing.assert_allclose(z.scale, np.sqrt(np.mean(X.var(axis=0))), rtol=1e-12)
