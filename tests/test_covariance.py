"""The covariance vocabulary: shapes, full form (with draw axes), parameter counts."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from bayesgmm import covariance

COVARIANCE_TYPES = covariance.COVARIANCE_TYPES
K, D = 3, 2


def _random_covariances(covariance_type, rng, batch=()):
    """Positive-definite covariances in scikit-learn's shape, with leading batch axes."""
    A = rng.normal(size=(*batch, K, D, D))
    full = A @ np.swapaxes(A, -1, -2) + np.eye(D)
    return {"full": full, "tied": full[..., 0, :, :],
            "diag": np.diagonal(full, axis1=-2, axis2=-1),
            "spherical": np.diagonal(full, axis1=-2, axis2=-1).mean(axis=-1)}[covariance_type]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_full_form_matches_sklearn_fitted_shapes(covariance_type):
    """scikit-learn's own fitted shapes are the vocabulary's; the full form has its
    ``covariances_`` on the diagonal / repeated as the type says; the count is its."""
    X = np.random.default_rng(0).normal(size=(60, D))
    gm = GaussianMixture(K, covariance_type=covariance_type, random_state=0).fit(X)
    assert gm.covariances_.shape == covariance.shape(covariance_type, K, D)
    full = covariance.to_full(gm.covariances_, covariance_type, K, D)
    assert full.shape == (K, D, D)
    expected = gm.covariances_
    if covariance_type in ("diag", "spherical"):
        np.testing.assert_allclose(np.diagonal(full, axis1=1, axis2=2),
                                   np.broadcast_to(np.reshape(expected, (K, -1)), (K, D)))
        assert np.count_nonzero(full - np.diagonal(full, axis1=1, axis2=2)[:, :, None]
                                * np.eye(D)) == 0
    else:
        np.testing.assert_array_equal(full, np.broadcast_to(expected, (K, D, D)))
    params = covariance.n_covariance_parameters(covariance_type, K, D) + K * D + K - 1
    assert params == gm._n_parameters()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_draw_axes_are_kept(covariance_type):
    rng = np.random.default_rng(1)
    draws = _random_covariances(covariance_type, rng, batch=(4, 5))
    full = covariance.to_full(draws, covariance_type, K, D)
    chol = covariance.cholesky_draws(draws, covariance_type, K, D)
    assert full.shape == chol.shape == (4, 5, K, D, D) and chol.flags.c_contiguous
    for i, j in np.ndindex(4, 5):
        one = covariance.to_full(draws[i, j], covariance_type, K, D)
        np.testing.assert_array_equal(full[i, j], one)
        np.testing.assert_allclose(chol[i, j] @ np.swapaxes(chol[i, j], -1, -2), one,
                                   rtol=1e-12)
    assert not np.shares_memory(covariance.to_full(draws, covariance_type, K, D), draws)


def test_bad_type_and_shape_are_one_clear_error():
    with pytest.raises(ValueError, match="covariance_type must be one of") as info:
        covariance.shape("banana", K, D)
    assert "mclust" not in str(info.value)
    for name, ours in (("VVV", "full"), ("eee", "tied"), ("VVI", "diag"), ("VII", "spherical")):
        with pytest.raises(ValueError, match=f"mclust's {name.upper()} is '{ours}' here"):
            covariance.check_covariance_type(name)
    with pytest.raises(ValueError, match=r"covariances for 'diag' must have shape \(3, 2\)"):
        covariance.check_shape(np.ones((3, 3)), "diag", K, D)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_from_full_puts_one_matrix_in_each_types_shape(covariance_type):
    A = np.random.default_rng(1).normal(size=(D, D))
    cov = A @ A.T + np.eye(D)
    one = covariance.from_full(cov, covariance_type)
    assert one.shape == covariance.component_shape(covariance_type, D)
    every = covariance.from_full(cov, covariance_type, K)
    assert every.shape == covariance.shape(covariance_type, K, D)
    # Back in full form: the matrix (full, tied), its diagonal, or its mean variance.
    expected = {"full": cov, "tied": cov, "diag": np.diag(np.diag(cov)),
                "spherical": np.mean(np.diag(cov)) * np.eye(D)}[covariance_type]
    np.testing.assert_array_equal(covariance.to_full(every, covariance_type, K, D),
                                  np.broadcast_to(expected, (K, D, D)))
    assert not np.shares_memory(one, cov) and not np.shares_memory(every, cov)  # new arrays


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_distinct_entries_list_each_number_of_a_symmetric_matrix_once(covariance_type):
    from bayesgmm.covariance import distinct_entries

    K, D = 2, 3
    shape = covariance.shape(covariance_type, K, D)
    entries = list(distinct_entries("covariances", shape, covariance_type))
    symmetric = covariance_type in ("full", "tied")
    expected = (K if covariance_type == "full" else 1) * D * (D + 1) // 2 if symmetric \
        else int(np.prod(shape))
    assert len(entries) == len(set(entries)) == expected
    assert entries == sorted(entries)  # C order
    if symmetric:
        assert all(i[-2] <= i[-1] for i in entries)
    # other parameters: every entry
    assert len(list(distinct_entries("means", (K, D), covariance_type))) == K * D


def test_cholesky_draws_repair_rounding_and_refuse_what_is_no_covariance():
    """QA (K=5 on whole-millimetre wing lengths): a collapsing component's draw, the product
    of its factors rounded to a matrix that is not positive definite, ended the fit. Such a
    draw gets the smallest ridge that factors it; a matrix that is no covariance still fails."""
    good = np.array([[2.0, 0.3], [0.3, 1.0]])
    rounded = np.array([[1.0, 1.0], [1.0, 1.0 + 1e-18]])  # L = [[1, 0], [1, 1e-9]], rounded
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(rounded)
    draws = np.stack([good, rounded])[:, None]  # (S=2, K=1, D, D)
    chol = covariance.cholesky_draws(draws, "full", 1, 2)
    np.testing.assert_array_equal(chol[0, 0], np.linalg.cholesky(good))  # untouched
    np.testing.assert_allclose(chol[1, 0] @ chol[1, 0].T, rounded, rtol=0, atol=1e-15)
    assert np.all(np.diagonal(chol, axis1=-2, axis2=-1) > 0)
    for no_covariance in ([[1.0, 2.0], [2.0, 1.0]], [[-1.0, 0.0], [0.0, -1.0]]):
        with pytest.raises(np.linalg.LinAlgError):
            covariance.cholesky_draws(np.array(no_covariance)[None, None], "full", 1, 2)


def test_sd_and_correlation_are_numpys_for_any_leading_axes():
    """One computation behind every table's sds and correlations (review: written three
    times)."""
    from bayesgmm.covariance import sd_and_correlation

    rng = np.random.default_rng(0)
    data = rng.normal(size=(2, 3, 50, 4)) @ rng.normal(size=(4, 4))
    full = np.stack([[np.cov(d, rowvar=False) for d in row] for row in data])
    sd, corr = sd_and_correlation(full)
    for index in np.ndindex(2, 3):
        np.testing.assert_allclose(sd[index], np.std(data[index], axis=0, ddof=1), rtol=1e-12)
        np.testing.assert_allclose(corr[index], np.corrcoef(data[index], rowvar=False),
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("name", "said"), [
    ("vvv", "mclust's VVV is 'full' here: VVV = 'full', EEE = 'tied', VVI = 'diag', "
            "VII = 'spherical'"),
    ("VEV", "mclust's VEV has no counterpart here: bayesgmm fits 4 of mclust's 14 models, "
            "VVV = 'full'"),
    ("E", "its E is 'tied'"),
    ("round", None),
])
def test_mclust_model_names_are_answered(name, said):
    """QA67: 'VEV', mclust's choice on iris, was refused without a word that it has no
    counterpart here."""
    from bayesgmm.covariance import check_covariance_type

    with pytest.raises(ValueError) as info:
        check_covariance_type(name)
    message = str(info.value)
    if said is None:
        assert "mclust" not in message
    else:
        assert said in message


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_type_is_read_from_its_dims_in_any_order(covariance_type):
    """QA80: two readers of a posterior's covariance dims in one module (a set, an ordered
    tuple); one now, by names, whatever the order and the sample dims."""
    from bayesgmm.covariance import COVARIANCE_DIMS, type_of_dims

    dims = COVARIANCE_DIMS[covariance_type]
    assert type_of_dims(dims) == covariance_type
    assert type_of_dims(("chain", "draw", *reversed(dims))) == covariance_type
    assert type_of_dims(("chain", "draw", "feature", "other")) is None


# One covariance-factoring policy: the same matrix that is not positive definite (here exactly
# singular, eigenvalues 0 and 2) gets the same refusal, naming its component, from every
# caller that factors a covariance as it is.
SINGULAR = np.array([np.eye(2), [[1.0, 1.0], [1.0, 1.0]]])  # component 1 singular


def _through_precisions(covs):
    from bayesgmm import kernels

    return kernels.precisions_cholesky(covs, "full")


def _through_the_row_plan(covs):
    from bayesgmm import kernels

    X = np.random.default_rng(0).normal(size=(10, 2))
    return kernels.estep_plan(kernels.RowPlan.build(X), np.array([0.5, 0.5]), np.zeros((2, 2)),
                              covs, "full")


def _through_a_start(covs):
    from bayesgmm.model import build_model, initial_point

    X = np.random.default_rng(0).normal(size=(20, 2))
    return initial_point(build_model(X, 2, "full"), np.array([0.5, 0.5]), np.zeros((2, 2)), covs)


def _through_em_sample(covs):
    from bayesgmm.em import fit_em

    X = np.random.default_rng(0).normal(size=(40, 2))
    em = fit_em(X, 2, covariance_type="full", random_state=0, n_init=1)
    return em.__class__(**{**vars(em), "covariances": covs}).sample(5, random_state=0)


def _through_an_ellipse(covs):  # one matrix at a time: no component to name
    from bayesgmm.plots.fit import _ellipse

    return [_ellipse(np.zeros(2), c) for c in covs]


def _through_the_contour_density(covs):  # a figure's 2-D density, draws (S, K, 2, 2)
    from bayesgmm.plots.fit import _density_2d

    return _density_2d(np.zeros((3, 2)), np.full((1, 2), 0.5), np.zeros((1, 2, 2)), covs[None])


@pytest.mark.parametrize("factor", [covariance.cholesky, _through_precisions,
                                    _through_the_row_plan, _through_a_start,
                                    _through_em_sample, _through_an_ellipse,
                                    _through_the_contour_density])
@pytest.mark.parametrize("problem", ["not positive definite", "not finite"])
def test_every_factoring_refuses_the_same_matrix_in_the_same_words(factor, problem):
    bad = (SINGULAR if problem == "not positive definite" else
           np.array([np.eye(2), [[1.0, np.nan], [np.nan, 1.0]]]))
    name = "a covariance" if factor is _through_an_ellipse else "covariance of component 1"
    with pytest.raises(covariance.NotPositiveDefiniteError, match=f"^{name} is {problem}; "):
        factor(bad)


def test_the_contour_density_by_the_policys_factor_is_scipys():
    from scipy import stats

    from bayesgmm.plots.fit import _density_2d

    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 2, 2, 2))
    c = A @ np.swapaxes(A, -1, -2) + 0.3 * np.eye(2)
    m, w = rng.normal(size=(3, 2, 2)), rng.dirichlet([1, 1], size=3)
    points = rng.normal(size=(50, 2))
    expected = np.mean([sum(w[s, k] * stats.multivariate_normal(m[s, k], c[s, k]).pdf(points)
                            for k in range(2)) for s in range(3)], axis=0)
    assert np.allclose(_density_2d(points, w, m, c), expected, rtol=1e-12, atol=0)


def test_the_one_repair_is_for_draws_and_a_distance_skips_what_does_not_factor():
    # cholesky_draws repairs rounding (a few eps); the nearest-component distance leaves out a
    # component whose covariance does not factor, and is NaN where none does
    ok = covariance.cholesky(np.eye(2) * 4.0)
    assert np.array_equal(ok, np.eye(2) * 2.0)
    X = np.array([[0.0, 0.0], [3.0, 0.0]])
    d2 = covariance.nearest_distance2(X, np.zeros((2, 2)), SINGULAR)
    assert np.allclose(d2, [0.0, 9.0])
    assert np.isnan(covariance.nearest_distance2(X, np.zeros((1, 2)), SINGULAR[1:])).all()
    from bayesgmm import kernels
    assert kernels.NotPositiveDefiniteError is covariance.NotPositiveDefiniteError


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_has_correlations_is_whether_a_component_is_a_matrix(covariance_type):
    """The question most code asks of a type (QA119 M1: answered at 34 places)."""
    assert covariance.has_correlations(covariance_type) == (
        len(covariance.component_shape(covariance_type, D)) == 2)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("richer", COVARIANCE_TYPES)
def test_richer_types_are_exactly_those_that_hold_every_model_of_the_type(
        covariance_type, richer):
    """RICHER_TYPES (the shape check refits in them): ``richer`` is listed for a type iff
    every covariance of that type is one of ``richer``'s, checked on distinct random
    components by projecting them into ``richer`` and back."""
    if richer == covariance_type:
        assert richer not in covariance.RICHER_TYPES[covariance_type]
        return
    rng = np.random.default_rng(0)
    full = covariance.to_full(_random_covariances(covariance_type, rng), covariance_type, K, D)
    projected = (full[0] if richer == "tied" else
                 np.stack([covariance.from_full(one, richer) for one in full]))
    holds = np.allclose(covariance.to_full(projected, richer, K, D), full)
    assert (richer in covariance.RICHER_TYPES[covariance_type]) == holds
