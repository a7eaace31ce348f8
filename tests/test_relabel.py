"""Label switching: exact recovery of scrambled draws, counts, xarray round trip, overlap."""

import numpy as np
import pytest
import xarray as xr
from arviz_base import from_dict
from scipy import stats
from scipy.optimize import linear_sum_assignment

from bayesgmm.relabel import (
    METHODS,
    LabelSwitchingReport,
    apply_permutations,
    relabel_draws,
    relabel_posterior,
)
from bayesgmm.relabel_methods import (
    assign_min_cost,
    classification_probabilities,
    ecr_permutations,
    stephens_permutations,
)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
N_CHAINS, N_DRAWS = 4, 200
# Draws permuted in each chain: none in chain 0, so the per-chain counts are distinguishable.
N_SCRAMBLED = (0, 5, 17, 60)

WEIGHTS = np.array([0.5, 0.3, 0.2])
MEANS = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
FULL = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 1.2]], [[2.0, 0.5], [0.5, 1.0]]])
TRUE_COVARIANCES = {
    "full": FULL,
    "tied": np.array([[1.0, 0.2], [0.2, 0.8]]),
    "diag": np.array([[1.0, 0.5], [0.6, 1.2], [2.0, 1.0]]),
    "spherical": np.array([1.0, 0.6, 2.0]),
}


def posterior_draws(
    covariance_type, rng, mean_sd=0.2, means=MEANS, n_draws=N_DRAWS, covariances=None
):
    """Draws scattered around the truth: (weights, means, covariances) with (chain, draw)."""
    lead = (N_CHAINS, n_draws)
    K, D = means.shape
    weights = rng.dirichlet(500 * WEIGHTS, size=lead)
    draws_means = means + mean_sd * rng.normal(size=(*lead, K, D))
    truth = TRUE_COVARIANCES[covariance_type] if covariances is None else covariances
    if covariance_type == "tied":
        scale = np.exp(0.1 * rng.normal(size=lead))[..., None, None]
    else:  # one positive scale per component keeps every draw valid for every shape
        scale = np.exp(0.1 * rng.normal(size=(*lead, K)))
        scale = scale.reshape(scale.shape + (1,) * (truth.ndim - 1))
    return weights, draws_means, truth * scale


def scramble(arrays, covariance_type, rng):
    """Permute the components of a known subset of draws; return arrays and the permutations."""
    weights, means, covariances = (a.copy() for a in arrays)
    K = weights.shape[-1]
    sigmas = np.tile(np.arange(K), (N_CHAINS, weights.shape[1], 1))
    for chain, n in enumerate(N_SCRAMBLED):
        for draw in rng.choice(weights.shape[1], size=n, replace=False):
            sigma = np.arange(K)
            while np.array_equal(sigma, np.arange(K)):
                sigma = rng.permutation(K)
            sigmas[chain, draw] = sigma  # scrambled component k = original component sigma[k]
    weights = apply_permutations(weights, sigmas)
    means = apply_permutations(means, sigmas)
    if covariance_type != "tied":
        covariances = apply_permutations(covariances, sigmas)
    return (weights, means, covariances), sigmas


def reference(covariance_type, rng):
    """An EM-like point estimate: the truth, slightly off."""
    return (
        WEIGHTS,
        MEANS + 0.1 * rng.normal(size=MEANS.shape),
        TRUE_COVARIANCES[covariance_type] * 1.1,
    )


@pytest.mark.parametrize("n_iter", [1, 2])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_relabel_draws_undoes_known_permutations(covariance_type, n_iter):
    rng = np.random.default_rng(1)
    original = posterior_draws(covariance_type, rng)
    scrambled, sigmas = scramble(original, covariance_type, rng)
    assert not np.array_equal(scrambled[1], original[1])  # the test has something to undo

    perms, *relabelled = relabel_draws(
        *scrambled, covariance_type, *reference(covariance_type, rng), n_iter=n_iter
    )

    for got, expected in zip(relabelled, original, strict=True):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(perms, np.argsort(sigmas, axis=-1))  # inverse permutations
    report = LabelSwitchingReport.from_permutations(perms)
    assert report.n_permuted == N_SCRAMBLED
    assert report.fraction_permuted == pytest.approx(sum(N_SCRAMBLED) / (N_CHAINS * N_DRAWS))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_draws_with_a_collapsed_covariance_are_still_matched(covariance_type):
    """QA (30 rows at three distinct points, full): a draw's covariance of exactly zero (a
    collapsed component, singular) stopped relabelling with "a covariance matrix is
    singular", after the sampling. Such a component is far from every reference component,
    and the others still decide the match."""
    rng = np.random.default_rng(2)
    weights, means, covariances = posterior_draws(covariance_type, rng)
    collapsed = (slice(None), slice(0, N_DRAWS, 7))  # every 7th draw of every chain
    if covariance_type == "tied":
        covariances[collapsed] = 0.0
    else:
        covariances[(*collapsed, 0)] = 0.0
    original = (weights, means, covariances)
    scrambled, sigmas = scramble(original, covariance_type, rng)

    with np.errstate(all="raise"):  # no division by zero on the way either
        perms, *relabelled = relabel_draws(*scrambled, covariance_type,
                                           *reference(covariance_type, rng))

    np.testing.assert_array_equal(perms, np.argsort(sigmas, axis=-1))
    for got, expected in zip(relabelled, original, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_relabel_draws_does_not_modify_inputs():
    rng = np.random.default_rng(2)
    scrambled, _ = scramble(posterior_draws("full", rng), "full", rng)
    before = [a.copy() for a in scrambled]
    relabel_draws(*scrambled, "full", *reference("full", rng))
    for a, b in zip(scrambled, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_overlapping_components_relabel_to_unimodal_draws_centred_on_truth():
    # Heavily overlapping unit-variance components (means 1.2 apart) whose labels switch at
    # random in every draw, as in a sampler that mixes over all K! modes.
    rng = np.random.default_rng(3)
    means = np.array([[0.0, 0.0], [1.2, 0.0], [0.6, 1.0]])
    mean_sd = 0.3
    original = posterior_draws(
        "spherical", rng, mean_sd=mean_sd, means=means, n_draws=1000, covariances=np.ones(3)
    )
    sigmas = np.array([[rng.permutation(3) for _ in range(1000)] for _ in range(N_CHAINS)])
    scrambled = [apply_permutations(a, sigmas) for a in original]
    ref = (WEIGHTS, means, np.ones(3))

    _, _, relabelled, _ = relabel_draws(*scrambled, "spherical", *ref)

    for k in range(3):
        for d in range(2):
            draws = relabelled[:, :, k, d].ravel()
            raw = scrambled[1][:, :, k, d].ravel()
            assert abs(draws.mean() - means[k, d]) < 0.05
            assert draws.std() == pytest.approx(mean_sd, rel=0.1)
            # Unimodal and matching the true per-component posterior, N(truth, mean_sd^2) ...
            truth = stats.norm(means[k, d], mean_sd).cdf
            assert stats.kstest(draws, truth).statistic < 0.04
            # ... which the scrambled draws, a mixture of the three components, are not.
            assert stats.kstest(raw, truth).statistic > 0.15


@pytest.mark.parametrize("method", ["stephens", "ecr"])
def test_weighted_rows_relabel_as_their_copies_and_weight_zero_as_none(method):
    """QA133: a weighted fit's draws were relabelled with the rows unweighted (and rows of
    weight 0 counted), 7 of 1,000 otherwise than on the repeated rows. Overlapping
    components, so that the weighting decides some draws."""
    rng = np.random.default_rng(3)
    means = np.array([[0.0, 0.0], [1.2, 0.0], [0.6, 1.0]])
    original = posterior_draws("spherical", rng, mean_sd=0.6, means=means, n_draws=300,
                               covariances=np.ones(3))
    sigmas = np.array([[rng.permutation(3) for _ in range(300)] for _ in range(N_CHAINS)])
    scrambled = [apply_permutations(a, sigmas) for a in original]
    ref = (WEIGHTS, means, np.ones(3))
    X = sample_data("spherical", weights=WEIGHTS, means=means, covs=np.ones(3), n=60)
    g = rng.integers(1, 6, len(X)).astype(float)
    repeated = relabel_draws(*scrambled, "spherical", *ref, method=method,
                             X=np.repeat(X, g.astype(int), axis=0))[0]
    weighted = relabel_draws(*scrambled, "spherical", *ref, method=method, X=X,
                             sample_weight=g)[0]
    np.testing.assert_array_equal(weighted, repeated)
    unweighted = relabel_draws(*scrambled, "spherical", *ref, method=method, X=X)[0]
    assert np.any(unweighted != repeated)  # the weights decide some draws here
    far = np.vstack([X, [[40.0, -30.0], [-25.0, 60.0]]])
    np.testing.assert_array_equal(relabel_draws(
        *scrambled, "spherical", *ref, method=method, X=far, sample_weight=np.r_[g, 0, 0])[0],
        repeated)
    with pytest.raises(ValueError, match=r"sample_weight must hold 60 finite weights >= 0"):
        relabel_draws(*scrambled, "spherical", *ref, method=method, X=X, sample_weight=g[:-1])


@pytest.mark.parametrize("K", [2, 4, 6, 7])  # 7: past the enumeration, the Hungarian loop
def test_assign_is_optimal_including_clashes(K):
    rng = np.random.default_rng(4)
    cost = rng.uniform(size=(600, K, K))
    perm = assign_min_cost(cost)
    assert np.all(np.sort(perm, axis=1) == np.arange(K))
    clashes = np.any(np.sort(np.argmin(cost, axis=1), axis=1) != np.arange(K), axis=1)
    assert clashes.sum() > 100  # the clash branch is exercised (in more than one block)
    for s in range(len(cost)):
        rows, cols = linear_sum_assignment(cost[s])
        assert cost[s][perm[s], np.arange(K)].sum() == pytest.approx(cost[s][rows, cols].sum())


def test_relabel_posterior_keeps_dims_coords_and_attrs():
    rng = np.random.default_rng(5)
    original = posterior_draws("full", rng)
    (weights, means, covariances), sigmas = scramble(original, "full", rng)
    lead = (N_CHAINS, N_DRAWS)
    tree = from_dict(
        {
            "posterior": {
                "weights": weights,
                # stored feature-first, to check that the stored dimension order is kept
                "means": np.swapaxes(means, 2, 3),
                "covariances": covariances,
                "stick": apply_permutations(np.broadcast_to(np.arange(3.0), weights.shape), sigmas),
                "sigma": rng.normal(size=(N_CHAINS, N_DRAWS)),
            }
        },
        coords={"component": ["a", "b", "c"], "feature": ["x", "y"], "feature_bis": ["x", "y"]},
        dims={
            "weights": ["component"],
            "means": ["feature", "component"],
            "covariances": ["component", "feature", "feature_bis"],
            "stick": ["component"],
        },
        attrs={"posterior": {"sampler": "test"}},
    )
    post = tree["posterior"].to_dataset()
    em = {"weights": WEIGHTS, "means": MEANS, "covariances": FULL}

    out, report = relabel_posterior(tree, em, "full")

    assert isinstance(out, xr.Dataset)
    assert out.attrs == post.attrs and out.attrs["sampler"] == "test"
    for name in post.data_vars:
        assert out[name].dims == post[name].dims
        assert out[name].attrs == post[name].attrs
    xr.testing.assert_identical(out.coords.to_dataset(), post.coords.to_dataset())
    np.testing.assert_array_equal(out["weights"].values, original[0])
    np.testing.assert_array_equal(out["means"].transpose(..., "feature").values, original[1])
    np.testing.assert_array_equal(out["covariances"].values, original[2])
    np.testing.assert_array_equal(out["stick"].values, np.broadcast_to([0.0, 1.0, 2.0], (*lead, 3)))
    xr.testing.assert_identical(out["sigma"], post["sigma"])
    assert report.n_permuted == N_SCRAMBLED
    assert report.chains == ("0", "1", "2", "3")
    text = str(report)
    assert f"{sum(N_SCRAMBLED)} of {N_CHAINS * N_DRAWS} draws" in text
    assert "chain 3: 60 of 200" in text


def test_relabel_posterior_accepts_fitted_model_reference_and_leaves_tied_alone():
    rng = np.random.default_rng(6)
    original = posterior_draws("tied", rng)
    (weights, means, covariances), _ = scramble(original, "tied", rng)
    post = from_dict(
        {"posterior": {"weights": weights, "means": means, "covariances": covariances}},
        dims={
            "weights": ["component"],
            "means": ["component", "feature"],
            "covariances": ["feature", "feature_bis"],
        },
    )["posterior"].to_dataset()

    class Fitted:  # scikit-learn-style attributes
        weights_, means_, covariances_ = WEIGHTS, MEANS, TRUE_COVARIANCES["tied"]

    out, report = relabel_posterior(post, Fitted(), "tied", n_iter=1)

    np.testing.assert_array_equal(out["means"].values, original[1])
    xr.testing.assert_identical(out["covariances"], post["covariances"])
    assert report.n_permuted == N_SCRAMBLED and report.n_iter == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"covariance_type": "banana"}, "covariance_type"),
        ({"covariances": np.ones((N_CHAINS, N_DRAWS, 3, 2))}, "covariances must have shape"),
        ({"reference_means": np.zeros((2, 2))}, "reference must have"),
        ({"n_iter": 0}, "n_iter"),
        ({"means": np.full((N_CHAINS, N_DRAWS, 3, 2), np.nan)}, "NaN"),
    ],
)
def test_relabel_draws_rejects_bad_input(change, message):
    rng = np.random.default_rng(7)
    weights, means, covariances = posterior_draws("full", rng)
    kwargs = dict(
        weights=weights,
        means=means,
        covariances=covariances,
        covariance_type="full",
        reference_weights=WEIGHTS,
        reference_means=MEANS,
        reference_covariances=FULL,
    )
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        relabel_draws(**kwargs)


# --------------------------------------------------------------------------------------------
# Classification-probability methods (Stephens, ECR) beside the parameter distance
# --------------------------------------------------------------------------------------------
def sample_data(covariance_type, n=400, seed=11, means=MEANS, weights=WEIGHTS, covs=None):
    """Points from the true mixture of the draws above, in full form."""
    from bayesgmm.kernels import to_full_covariances

    rng = np.random.default_rng(seed)
    covs = TRUE_COVARIANCES[covariance_type] if covs is None else covs
    full = to_full_covariances(covs, covariance_type, *means.shape)
    labels = rng.choice(len(weights), size=n, p=weights)
    return np.array([rng.multivariate_normal(means[k], full[k]) for k in labels])


@pytest.mark.parametrize("method", ["stephens", "ecr"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_probability_methods_undo_known_permutations(covariance_type, method):
    rng = np.random.default_rng(1)
    original = posterior_draws(covariance_type, rng)
    scrambled, sigmas = scramble(original, covariance_type, rng)
    X = sample_data(covariance_type)

    perms, *relabelled = relabel_draws(
        *scrambled, covariance_type, *reference(covariance_type, rng), method=method, X=X
    )

    for got, expected in zip(relabelled, original, strict=True):
        np.testing.assert_array_equal(got, expected)
    # perms undoes sigmas: scrambled[perms] = original, i.e. sigmas[perms] = identity.
    np.testing.assert_array_equal(np.take_along_axis(sigmas, perms, axis=2),
                                  np.broadcast_to(np.arange(3), sigmas.shape))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_methods_agree_on_well_separated_draws_and_are_invariant_to_storage_order(
    covariance_type,
):
    rng = np.random.default_rng(5)
    draws = posterior_draws(covariance_type, rng, n_draws=50)
    X = sample_data(covariance_type, n=200)
    ref = reference(covariance_type, rng)
    results = {m: relabel_draws(*draws, covariance_type, *ref, method=m, X=X) for m in METHODS}
    for m in METHODS:
        np.testing.assert_array_equal(results[m][0], results["distance"][0])
    # Scrambling the storage order of every draw at random does not change the relabelled
    # parameters (each method sees a draw only up to the order of its components) ...
    sigmas = np.array([[rng.permutation(3) for _ in range(50)] for _ in range(N_CHAINS)])
    shuffled = [apply_permutations(a, sigmas) if not (covariance_type == "tied" and i == 2)
                else a for i, a in enumerate(draws)]
    for m in METHODS:
        again = relabel_draws(*shuffled, covariance_type, *ref, method=m, X=X)
        for got, expected in zip(again[1:], results[m][1:], strict=True):
            np.testing.assert_allclose(got, expected)
        # ... and relabelling relabelled draws changes nothing (identity permutations).
        twice = relabel_draws(*again[1:], covariance_type, *ref, method=m, X=X)
        np.testing.assert_array_equal(twice[0], np.broadcast_to(np.arange(3), twice[0].shape))


def test_stephens_recovers_permuted_probabilities_from_identity_start():
    # P_s = a common classification matrix with its columns permuted by a known sigma_s and
    # a little noise: Stephens' algorithm must find sigma_s^-1 for every draw.
    rng = np.random.default_rng(8)
    base = rng.dirichlet(np.full(3, 0.3), size=100)  # (N, K): confident, distinct columns
    sigmas = np.array([rng.permutation(3) for _ in range(300)])
    P = np.take_along_axis(np.broadcast_to(base, (300, 100, 3)), sigmas[:, None, :], axis=2)
    P = P + 0.01 * rng.uniform(size=P.shape)
    P /= P.sum(axis=2, keepdims=True)
    perms, n_iter = stephens_permutations(P)
    # All draws end in one labelling: sigma_s[perm_s] is the same permutation for every s.
    composed = np.take_along_axis(sigmas, perms, axis=1)
    assert np.all(composed == composed[0]) and n_iter >= 2


def test_ecr_follows_the_pivot_and_breaks_ties_by_soft_agreement():
    # Two points per component; component 2 of the draw holds no point (its column is tiny).
    P = np.array([[[0.0, 0.9, 0.1], [0.0, 0.8, 0.2], [0.9, 0.0, 0.1], [0.7, 0.1, 0.2]]])
    pivot = np.array([0, 0, 1, 1])
    perms = ecr_permutations(P, pivot)
    np.testing.assert_array_equal(perms, [[1, 0, 2]])
    with pytest.raises(ValueError, match="pivot must have shape"):
        ecr_permutations(P, np.array([0, 1]))


@pytest.mark.parametrize("scale", [1.0, 0.1, 1 / 19, 1e-6])
def test_weighted_ecr_agrees_with_the_copies_whatever_the_weights_scale(scale):
    """QA137 M1: ECR's tie-break outweighed the agreement counts when weights were not whole:
    (10, 9) and (1.0, 0.9) chose opposite permutations; the rows repeated 10 and 9 times
    agree with the counts."""
    pivot = np.array([0, 1])  # point A in reference 0, point B in reference 1
    P = np.array([[[0.51, 0.49], [1.00, 0.00]]])  # this draw puts both in its component 0
    copies = ecr_permutations(np.repeat(P, [10, 9], axis=1), np.repeat(pivot, [10, 9]))
    weighted = ecr_permutations(P, pivot, row_weights=np.array([10.0, 9.0]) * scale)
    np.testing.assert_array_equal(weighted, copies)
    np.testing.assert_array_equal(copies, [[0, 1]])


def test_classification_probabilities_match_the_kernel_and_subsample():
    from bayesgmm import kernels

    rng = np.random.default_rng(9)
    w, m, c = (a[:1, :3] for a in posterior_draws("diag", rng))
    X = sample_data("diag", n=50)
    P = classification_probabilities(X, w.reshape(3, 3), m.reshape(3, 3, 2),
                                     c.reshape(3, 3, 2), "diag")
    for s in range(3):
        e = kernels.estep(X, w[0, s], m[0, s], kernels.precisions_cholesky(c[0, s], "diag"),
                          "diag", return_resp=True)
        np.testing.assert_allclose(P[s], e.resp, atol=1e-12)
    small = classification_probabilities(X, w.reshape(3, 3), m.reshape(3, 3, 2),
                                         c.reshape(3, 3, 2), "diag", max_floats=3 * 3 * 20)
    assert small.shape == (3, 20, 3)


@pytest.mark.parametrize("method", ["stephens", "ecr"])
def test_probability_methods_need_data_of_the_right_shape(method):
    rng = np.random.default_rng(10)
    draws = posterior_draws("full", rng, n_draws=5)
    with pytest.raises(ValueError, match="needs the data"):
        relabel_draws(*draws, "full", WEIGHTS, MEANS, FULL, method=method)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        relabel_draws(*draws, "full", WEIGHTS, MEANS, FULL, method=method, X=np.ones((9, 3)))
    with pytest.raises(ValueError, match="method must be one of"):
        relabel_draws(*draws, "full", WEIGHTS, MEANS, FULL, method="pivotal")


def test_stephens_takes_the_reference_labelling_when_all_draws_share_a_swap():
    # Every draw stores the components in the same non-identity order: Stephens' loss cannot
    # see this common permutation; the reference's classification probabilities fix it.
    rng = np.random.default_rng(12)
    base = rng.dirichlet(np.full(3, 0.3), size=80)
    sigma = np.array([2, 0, 1])
    P = np.broadcast_to(base[:, sigma], (50, 80, 3)) + 0.01 * rng.uniform(size=(50, 80, 3))
    P = P / P.sum(axis=2, keepdims=True)
    alone, _ = stephens_permutations(P)
    np.testing.assert_array_equal(alone, np.tile(np.arange(3), (50, 1)))
    aligned, _ = stephens_permutations(P, reference=base)
    # draw component aligned[s, k] holds reference component sigma[aligned[s, k]] = k
    np.testing.assert_array_equal(sigma[aligned], np.tile(np.arange(3), (50, 1)))


@pytest.mark.parametrize("method", METHODS)
def test_relabelled_posterior_is_c_contiguous(method):
    # A strided layout would change floating-point sums over the draws (a saved and reloaded
    # result, stored contiguously, would then summarise to different last bits).
    rng = np.random.default_rng(13)
    scrambled, _ = scramble(posterior_draws("full", rng), "full", rng)
    post = from_dict({"posterior": dict(zip(("weights", "means", "covariances"), scrambled,
                                            strict=True))},
                     dims={"weights": ["component"], "means": ["component", "feature"],
                           "covariances": ["component", "feature", "feature_bis"]})
    out, _ = relabel_posterior(post, reference("full", rng), "full", method=method,
                               X=sample_data("full", n=60))
    for name in ("weights", "means", "covariances"):
        assert out[name].values.flags["C_CONTIGUOUS"], name


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fixed_components_stay_and_the_others_are_relabelled(covariance_type, method):
    """Components named by known labels keep their index in every draw; the others are still
    unscrambled among themselves."""
    rng = np.random.default_rng(11)
    original = posterior_draws(covariance_type, rng)
    K = original[0].shape[-1]
    # Swap components 1 and 2 in a known subset of draws; component 0 never moves.
    sigmas = np.broadcast_to(np.arange(K), (N_CHAINS, N_DRAWS, K)).copy()
    swapped = rng.random((N_CHAINS, N_DRAWS)) < 0.3
    sigmas[swapped] = [0, 2, 1]
    scrambled = [a if covariance_type == "tied" and i == 2 else apply_permutations(a, sigmas)
                 for i, a in enumerate(original)]
    X = sample_data(covariance_type, n=200)

    perms, *relabelled = relabel_draws(*scrambled, covariance_type,
                                       *reference(covariance_type, rng), method=method, X=X,
                                       fixed_components=[0])

    assert (perms[..., 0] == 0).all()
    for got, expected in zip(relabelled, original, strict=True):
        np.testing.assert_array_equal(got, expected)
    # Had component 0 been named wrongly (here: its draws scrambled with 1), fixing it keeps
    # the scramble: what is fixed is never permuted.
    sigmas[swapped] = [1, 0, 2]
    mixed = [a if covariance_type == "tied" and i == 2 else apply_permutations(a, sigmas)
             for i, a in enumerate(original)]
    perms, *_ = relabel_draws(*mixed, covariance_type, *reference(covariance_type, rng),
                              method=method, X=X, fixed_components=(0, 1))
    np.testing.assert_array_equal(perms, np.broadcast_to(np.arange(K), perms.shape))


def test_fixed_components_are_validated_and_reported():
    rng = np.random.default_rng(12)
    draws = posterior_draws("full", rng)
    ref = reference("full", rng)
    with pytest.raises(ValueError, match=r"components 0\.\.2"):
        relabel_draws(*draws, "full", *ref, fixed_components=[3])
    with pytest.raises(ValueError, match="fixed_components must be an integer"):
        relabel_draws(*draws, "full", *ref, fixed_components=[-1])
    posterior = xr.Dataset({
        "weights": (("chain", "draw", "component"), draws[0]),
        "means": (("chain", "draw", "component", "feature"), draws[1]),
        "covariances": (("chain", "draw", "component", "feature", "feature_bis"), draws[2]),
    })
    _, report = relabel_posterior(posterior, ref, "full", fixed_components=[2])
    assert report.fixed_components == (2,)
    assert "component(s) 2 are named by known labels" in str(report)


def test_one_component_has_no_label_switching_to_report():
    """QA: K=1 printed '0 of 4000 draws relabelled' and a line per chain."""
    from bayesgmm.relabel import LabelSwitchingReport

    report = LabelSwitchingReport.from_permutations(np.zeros((2, 5, 1), dtype=int),
                                                    method="stephens")
    assert str(report) == "Label switching: none with one component (all 10 draws as drawn)."
    two = LabelSwitchingReport.from_permutations(np.tile([0, 1], (2, 5, 1)))
    assert str(two).startswith("Label switching: 0 of 10 draws")
    assert "chain" not in str(two)  # no line per chain to say 0 again (QA: galaxies K=3)


def test_the_label_switching_counts_are_written_with_thousands_separators():
    """TTY QA: "29680 of 40000 draws" beside the checkpoint lines' "4,000 draws per chain"."""
    from bayesgmm.relabel import LabelSwitchingReport

    permutations = np.tile([0, 1], (2, 2500, 1))
    permutations[:, :1500] = [1, 0]
    text = str(LabelSwitchingReport.from_permutations(permutations))
    assert text.startswith("Label switching: 3,000 of 5,000 draws (60.0%)")
    assert "  chain 0: 1,500 of 2,500 (60.0%)" in text


# QA125: mutants that survived the tests mirroring their module, killed here

# R2, R3: the cost is the symmetrised KL divergence (closed form), for every covariance type.
def _sym_kl(m1, S1, m2, S2):
    D = len(m1)
    P1, P2 = np.linalg.inv(S1), np.linalg.inv(S2)
    d = m1 - m2
    return 0.5 * (np.trace(P2 @ S1) + np.trace(P1 @ S2) + d @ (P1 + P2) @ d) - D


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_relabel_cost_is_the_symmetrised_kl(covariance_type):
    from bayesgmm.relabel import _COSTS

    rng = np.random.default_rng(42)
    K, D = 3, 3
    m = rng.normal(size=(1, K, D))
    ref_m = rng.normal(size=(K, D))
    if covariance_type == "full":
        A, B = rng.normal(size=(K, D, D)), rng.normal(size=(K, D, D))
        c = A @ np.swapaxes(A, 1, 2) + np.eye(D)
        ref_c = B @ np.swapaxes(B, 1, 2) + np.eye(D)
        full, ref_full = c, ref_c
        c = c[None]
    elif covariance_type == "diag":
        c, ref_c = rng.uniform(0.5, 3, size=(1, K, D)), rng.uniform(0.5, 3, size=(K, D))
        full = np.array([np.diag(v) for v in c[0]])
        ref_full = np.array([np.diag(v) for v in ref_c])
    else:
        c, ref_c = rng.uniform(0.5, 3, size=(1, K)), rng.uniform(0.5, 3, size=K)
        full = c[0][:, None, None] * np.eye(D)
        ref_full = ref_c[:, None, None] * np.eye(D)
    cost = _COSTS[covariance_type](m, c, ref_m, ref_c)[0]
    expected = np.array([[_sym_kl(m[0, j], full[j], ref_m[k], ref_full[k]) for k in range(K)]
                         for j in range(K)])
    np.testing.assert_allclose(cost, expected, rtol=1e-10)


# R1: pass 2 of "distance" matches the draws against the posterior mean of pass 1's relabelled
# draws (relabel_draws' docstring), which here changes some permutations.
def test_second_distance_pass_uses_the_relabelled_posterior_mean():
    rng = np.random.default_rng(3)
    S, K, D = 400, 2, 2
    truth = np.array([[-1.0, 0.0], [1.0, 0.0]])
    m = truth + np.array([0.3, 2.0]) * rng.normal(size=(S, K, D))
    swap = rng.random(S) < 0.5
    m[swap] = m[swap][:, ::-1]
    m = m[None]
    w = np.full((1, S, K), 0.5)
    v = np.ones((1, S, K))
    ang = np.deg2rad(60)
    ref_m = np.array([[-np.cos(ang), -np.sin(ang)], [np.cos(ang), np.sin(ang)]])
    ref_v = np.ones(K)
    from bayesgmm.relabel import relabel_draws

    half = np.full(K, 0.5)
    one = relabel_draws(w, m, v, "spherical", half, ref_m, ref_v, n_iter=1, method="distance")
    two = relabel_draws(w, m, v, "spherical", half, ref_m, ref_v, n_iter=2, method="distance")
    mean_after_one = one[2][0].mean(axis=0)
    oracle = relabel_draws(w, m, v, "spherical", half, mean_after_one,
                           one[3][0].mean(axis=0), n_iter=1, method="distance")
    assert not np.array_equal(one[0], oracle[0])  # the case is not vacuous
    np.testing.assert_array_equal(two[0], oracle[0])


@pytest.mark.parametrize("method", ["stephens", "ecr"])
def test_weighted_rows_are_subsampled_with_their_weights(method, monkeypatch):
    """QA137 H1: above MAX_PROBABILITY_FLOATS the points are subsampled, their weights were
    not: a weighted fit of 1,000 rows and 12,000 draws failed after sampling with a NumPy
    broadcasting error. The subset's weights go with it."""
    import bayesgmm.relabel_methods as methods

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 1, (200, 1)), rng.normal(3, 1, (200, 1))])
    w = np.full((2, 50, 2), 0.5)
    m = np.broadcast_to(np.array([[-3.0], [3.0]]), (2, 50, 2, 1)).copy()
    m[:, ::2] = m[:, ::2, ::-1]  # every other draw switched
    c = np.ones((2, 50, 2, 1, 1))
    ref = (np.array([0.5, 0.5]), np.array([[-3.0], [3.0]]), np.ones((2, 1, 1)))
    g = rng.integers(1, 4, 400).astype(float)
    monkeypatch.setattr(methods, "MAX_PROBABILITY_FLOATS", 20_000)
    monkeypatch.setitem(methods.classification_probabilities.__kwdefaults__, "max_floats",
                        20_000)
    kept = methods.points_classified(400, 101, 2)
    assert kept is not None and len(kept) == 20_000 // (101 * 2)
    perms = relabel_draws(w, m, c, "full", *ref, method=method, X=X, sample_weight=g)[0]
    assert (perms[:, ::2, 0] == 1).all() and (perms[:, 1::2, 0] == 0).all()
