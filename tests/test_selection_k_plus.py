"""K+ before the data: the prior that Dirichlet(e0) weights over K_max components imply."""

import numpy as np
import pytest
from scipy.special import gammaln

from bayesgmm.selection import prior_counts


def _mean_k_plus(K, e0, N):
    """E[K+] in closed form: K (1 - P(a given component is empty)), the Dirichlet-multinomial
    probability that none of N rows falls in it."""
    empty = np.exp(gammaln(K * e0) + gammaln(N + (K - 1) * e0)
                   - gammaln((K - 1) * e0) - gammaln(N + K * e0))
    return K * (1 - empty)


def _monte_carlo(K, e0, N, draws, rng):
    """P(K+ = k) by simulation: Dirichlet(e0) weights (from log-gamma variates: Gamma(e0)
    underflows at e0 = 0.01), then a multinomial allocation of the N rows."""
    log_g = np.log(rng.gamma(e0 + 1, size=(draws, K))) + np.log(rng.random((draws, K))) / e0
    w = np.exp(log_g - log_g.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    k_plus = np.array([np.count_nonzero(rng.multinomial(N, p)) for p in w])
    return np.bincount(k_plus, minlength=K + 1)[1:] / draws


@pytest.mark.parametrize(("K", "e0", "N"), [(10, 0.01, 100), (10, 0.01, 300), (10, 0.1, 300),
                                            (6, 1.0, 50), (3, 0.5, 1), (20, 0.05, 2000)])
def test_prior_of_k_plus_is_a_distribution_with_the_closed_form_mean(K, e0, N):
    p = prior_counts(K, e0, N)
    assert list(p.index) == list(range(1, K + 1)) and p.index.name == "n_nonempty"
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(np.dot(p.index, p)) == pytest.approx(_mean_k_plus(K, e0, N), rel=1e-9)
    assert np.all(p.iloc[min(N, K):] == 0)  # N rows fill at most N components


@pytest.mark.parametrize(("K", "e0", "N"), [(10, 0.01, 300), (5, 0.3, 40)])
def test_prior_of_k_plus_agrees_with_simulation(K, e0, N):
    """The urn's exact answer against weights drawn and rows allocated (QA118's numbers:
    P(K+ = 1) = 0.57 and mean 1.54 at the fit_sparse defaults, N = 300)."""
    draws = 20_000
    simulated = _monte_carlo(K, e0, N, draws, np.random.default_rng(1))
    exact = prior_counts(K, e0, N).to_numpy()
    se = np.sqrt(exact * (1 - exact) / draws)
    assert np.all(np.abs(simulated - exact) <= 4 * se + 1e-12)
    if (K, e0, N) == (10, 0.01, 300):
        assert exact[0] == pytest.approx(0.573, abs=0.001)


def _dirichlet(alpha, draws, rng):
    """Dirichlet draws from log-gamma variates (Gamma(0.01) underflows as a plain draw)."""
    alpha = np.broadcast_to(alpha, (draws, len(alpha)))
    log_g = np.log(rng.gamma(alpha + 1)) + np.log(rng.random(alpha.shape)) / alpha
    w = np.exp(log_g - log_g.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("K", "e0", "N"), [(5, 0.01, 82), (4, 0.5, 30)])
def test_with_a_noise_component_the_prior_of_k_plus_counts_the_rows_it_leaves(K, e0, N):
    """QA122 M1: the noise weight shares the Dirichlet(e0), so fewer rows reach the Gaussians
    and every row may be noise (K+ = 0: 0.13 at K_max = 5, N = 82). Oracle: K + 1 weights
    drawn, N rows allocated, the Gaussians' non-empty ones counted."""
    draws, rng = 40_000, np.random.default_rng(2)
    w = _dirichlet(np.full(K + 1, e0), draws, rng)
    counts = np.array([np.count_nonzero(rng.multinomial(N, p)[:K]) for p in w])
    simulated = np.bincount(counts, minlength=K + 1) / draws
    exact = prior_counts(K, e0, N, noise=True)
    assert list(exact.index) == list(range(K + 1)) and exact.sum() == pytest.approx(1.0)
    se = np.sqrt(exact * (1 - exact) / draws)
    assert np.all(np.abs(simulated - exact) <= 4 * se + 1e-12)
    if (K, e0, N) == (5, 0.01, 82):
        assert exact[0] == pytest.approx(0.13, abs=0.005)


@pytest.mark.parametrize("noise", [False, True])
def test_labelled_rows_hold_their_components_in_the_prior_of_k_plus(noise):
    """QA122 M3: labels naming two components make K+ >= 2 in every draw, but the prior
    printed beside it said P(K+ = 1) = 0.85. Oracle: the weights given the labelled rows
    (Dirichlet(e0 + their counts), uneven: 9 and 1), then the other rows allocated."""
    K, e0, N, labelled = 6, 0.05, 60, np.array([9, 1, 0, 0, 0, 0])
    draws, rng = 40_000, np.random.default_rng(3)
    entries = K + noise
    alpha = np.full(entries, e0)
    alpha[:K] += labelled
    w = _dirichlet(alpha, draws, rng)
    rest = N - labelled.sum()
    counts = np.array([np.count_nonzero(rng.multinomial(rest, p)[:K] + labelled) for p in w])
    simulated = np.bincount(counts, minlength=K + 1)[(0 if noise else 1):] / draws
    exact = prior_counts(K, e0, N, noise=noise, labelled_rows=10, labelled_components=2)
    assert exact.loc[:1].sum() == 0  # the two labelled components are never empty
    se = np.sqrt(exact * (1 - exact) / draws)
    assert np.all(np.abs(simulated - exact.to_numpy()) <= 4 * se + 1e-12)


@pytest.mark.parametrize(("arguments", "match"), [
    ((0, 0.01, 10), "max_components must be an integer >= 1"),
    ((5, 0.0, 10), "concentration must be a number > 0"),
    ((5, float("nan"), 10), "concentration must be a number > 0"),
    ((5, 0.01, 2.5), "n_rows must be an integer"),
    ((5, 0.01, 10, False, 12, 2), "labelled_rows=12 and labelled_components=2 do not fit"),
    ((5, 0.01, 10, False, 3, 0), "do not fit"),
])
def test_a_prior_of_k_plus_that_cannot_be_is_refused(arguments, match):
    """QA122 L1: NaN, all zeros or an empty table for arguments that describe no mixture."""
    K, e0, N, *rest = arguments
    keywords = dict(zip(("noise", "labelled_rows", "labelled_components"), rest, strict=False))
    with pytest.raises(ValueError, match=match):
        prior_counts(K, e0, N, **keywords)
