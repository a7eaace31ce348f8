"""Posterior draws flattened for the kernel, and categorical draws by inverse CDF."""

import numpy as np
import pytest
import xarray as xr
from conftest import COVARIANCE_TYPES
from scipy import stats

from bayesgmm.draw_arrays import categorical, flatten_draws, subsample_index
from bayesgmm.kernels import to_full_covariances


def _posterior(covariance_type, chains=2, draws=3, K=2, D=3, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(K), size=(chains, draws))
    m = rng.normal(size=(chains, draws, K, D))
    a = rng.normal(size=(chains, draws, K, D, D))
    full = a @ np.swapaxes(a, -1, -2) + D * np.eye(D)
    cov = {"full": (full, ("component", "feature", "feature_bis")),
           "tied": (full[:, :, 0], ("feature", "feature_bis")),
           "diag": (np.diagonal(full, axis1=-2, axis2=-1), ("component", "feature")),
           "spherical": (full[..., 0, 0], ("component",))}[covariance_type]
    # Stored with the dims in another order than (chain, draw, ...): the helper must not care.
    return xr.Dataset({
        "weights": (("draw", "chain", "component"), np.swapaxes(w, 0, 1)),
        "means": (("chain", "draw", "component", "feature"), m),
        "covariances": (("chain", "draw", *cov[1]), cov[0]),
    })


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_flatten_draws_matches_draw_by_draw(covariance_type):
    post = _posterior(covariance_type)
    w, m, L = flatten_draws(post, covariance_type)
    assert w.shape == (6, 2) and m.shape == (6, 2, 3) and L.shape == (6, 2, 3, 3)
    assert all(a.flags.c_contiguous for a in (w, m, L))
    for s, (c, d) in enumerate(np.ndindex(2, 3)):  # chain-major
        draw = post.isel(chain=c, draw=d)
        np.testing.assert_array_equal(w[s], draw["weights"].to_numpy())
        np.testing.assert_array_equal(m[s], draw["means"].to_numpy())
        full = to_full_covariances(draw["covariances"].to_numpy(), covariance_type, 2, 3)
        np.testing.assert_allclose(L[s] @ np.swapaxes(L[s], -1, -2), full, rtol=1e-12)
        assert np.allclose(np.triu(L[s], 1), 0)


def test_flatten_draws_thins_reproducibly_in_draw_order():
    post = _posterior("diag", chains=4, draws=25)
    w_all, _, _ = flatten_draws(post, "diag")
    w, m, L = flatten_draws(post, "diag", max_draws=7, random_state=3)
    assert w.shape[0] == m.shape[0] == L.shape[0] == 7
    rows = [int(np.flatnonzero((w_all == row).all(axis=1))[0]) for row in w]
    assert rows == sorted(rows) and len(set(rows)) == 7
    np.testing.assert_array_equal(flatten_draws(post, "diag", max_draws=7, random_state=3)[0], w)
    assert flatten_draws(post, "diag", max_draws=1000)[0].shape[0] == 100


def test_categorical_frequencies_match_the_probabilities():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    z = categorical(p, np.random.default_rng(0).random(40_000))
    counts = np.bincount(z, minlength=4)
    assert counts[1] == 0
    keep = p > 0
    assert stats.chisquare(counts[keep], 40_000 * p[keep]).pvalue > 1e-3


def test_categorical_broadcasts_and_never_falls_off_the_end():
    p = np.array([[0.5, 0.5 - 1e-15], [1e-300, 0.0]])  # rows summing to less than 1
    z = categorical(p, np.array([0.999999999999999, 0.999999999999999]))
    assert z.shape == (2,) and z.max() <= 1 and z[1] == 0
    w = np.array([[0.2, 0.8], [1.0, 0.0]])  # (S, K) against u (S, n)
    z = categorical(w[:, None, :], np.array([[0.1, 0.5], [0.9, 0.99]]))
    np.testing.assert_array_equal(z, [[0, 1], [0, 0]])


@pytest.mark.parametrize(("n", "k", "seed"), [(100, 7, 3), (10, 10, 0), (5, 9, 1), (50, 1, None)])
def test_subsample_index_is_sorted_distinct_and_seeded(n, k, seed):
    idx = subsample_index(n, k, seed)
    assert idx.shape == (min(n, k),) and np.all(np.diff(idx) > 0)
    assert idx.min() >= 0 and idx.max() < n
    if k >= n:
        np.testing.assert_array_equal(idx, np.arange(n))
    elif seed is not None:  # the stream the thinned draws were always chosen with
        np.testing.assert_array_equal(idx, subsample_index(n, k, seed))
        np.testing.assert_array_equal(
            idx, np.sort(np.random.default_rng(seed).choice(n, k, replace=False)))


def test_one_draw_from_a_mixture_serves_em_the_posterior_and_the_estimator(old_faithful):
    """QA80: four copies drew from a mixture (noise handled three ways). mixture_points is
    the one: EMResult.sample matches its moments (a closed form: the mixture's mean and
    covariance), and a posterior of one draw equal to the EM estimate samples the same
    points as EM's sample does from the same seed."""
    import bayesgmm
    from bayesgmm.mixture_draws import mixture_points

    em = bayesgmm.fit_em(old_faithful, 2, random_state=0)
    X, labels = em.sample(200_000, random_state=1)
    mean = em.weights @ em.means
    centred = em.means - mean
    cov = np.einsum("k,kij->ij", em.weights, em.full_covariances
                    + np.einsum("ki,kj->kij", centred, centred))
    np.testing.assert_allclose(X.mean(axis=0), mean, rtol=0.01)
    np.testing.assert_allclose(np.cov(X.T), cov, rtol=0.02)
    np.testing.assert_allclose(np.bincount(labels) / len(labels), em.weights, atol=0.005)
    # the stream, written out: uniforms choose the components, then one normal vector each
    rng = np.random.default_rng(1)
    cdf = np.cumsum(em.weights)
    reference = (rng.random(200_000)[:, None] * cdf[-1] > cdf[:-1]).sum(axis=1)
    z = rng.standard_normal((200_000, 2))
    chol = np.linalg.cholesky(em.full_covariances)
    expected = em.means[reference] + np.einsum("nij,nj->ni", chol[reference], z)
    np.testing.assert_array_equal(labels, reference)
    np.testing.assert_allclose(X, expected, rtol=1e-14)
    # S parameter sets x n points: the cumulative weights once a set, the same stream as a
    # draw index a point (QA85: 60% more memory for the same numbers)
    S = 3
    weights, means = np.tile(em.weights, (S, 1)), np.tile(em.means, (S, 1, 1))
    chols = np.tile(chol, (S, 1, 1, 1))
    wide = mixture_points(np.random.default_rng(4), weights, means, chols,
                          np.arange(S)[:, None], size=(S, 50))
    full = mixture_points(np.random.default_rng(4), weights, means, chols,
                          np.broadcast_to(np.arange(S)[:, None], (S, 50)))
    np.testing.assert_array_equal(wide[0], full[0])
    np.testing.assert_array_equal(wide[1], full[1])
    with pytest.raises(ValueError, match="3 weights for 2 components and no noise box"):
        mixture_points(rng, np.append(em.weights, 0.1)[None], em.means[None], chol[None],
                       np.zeros(5, dtype=int))
    # a noise component: its points uniform in its box, labelled -1
    noisy = bayesgmm.fit_em(old_faithful, 2, noise=True, random_state=0)
    Xn, ln = noisy.sample(50_000, random_state=2)
    lower, upper = noisy.noise_bounds
    inside = Xn[ln == -1]
    assert len(inside) and np.all((inside >= lower) & (inside <= upper))
    assert abs(np.mean(ln == -1) - noisy.noise_weight) < 0.01
