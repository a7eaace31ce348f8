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
