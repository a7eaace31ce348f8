"""Slow checks on the hard panel (issue 13; benchmarks/bench_hard.py has the full panel)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy

import bayesgmm
from bayesgmm import Priors, fit_em

pytestmark = pytest.mark.slow

IRIS = Path(scipy.__file__).parent / "spatial" / "tests" / "data" / "iris.txt"
needs_iris = pytest.mark.skipif(not IRIS.exists(), reason="SciPy installed without its test data")


@needs_iris
def test_iris_starts_at_the_natural_mode():
    # MAP-EM from k-means++ alone starts at weights 0.61 / 0.05 / 0.33, a mode three of four
    # chains leave (R-hat 1.59, ESS 7 before issue 13); the model's own density picks the
    # three species among the candidates.
    X = np.loadtxt(IRIS)
    result = bayesgmm.fit_bayes(X, 3, random_state=1, progressbar=False, draws=1000)
    start = result.settings["start"]
    assert start["chosen_by"] == "model log density"
    assert start["chosen"].startswith("ML-EM")
    assert np.sort(result.em.weights).min() > 0.25
    # Whatever the chains do from there, the verdict must say it: never OK with R-hat failing.
    diag = result.diagnostics()
    assert not diag.ok or (diag.max_rhat < 1.01 and min(diag.min_ess_bulk,
                                                         diag.min_ess_tail) >= 400)


@needs_iris
def test_iris_chains_agree_on_the_mode():
    # Seed 1 once left a chain in a worse mode (mean log density -265.9 vs -261.5, R-hat 1.034
    # at 10,000 draws); now the chains agree (R-hat 1.006), though its rank test still fails
    # at 10,000 draws (one chain visits a minor mode rarely: benchmarks/README.md, issue 13).
    X = np.loadtxt(IRIS)
    result = bayesgmm.fit_bayes(X, 3, random_state=1, progressbar=False)
    diag = result.diagnostics()
    assert "reanchored" not in result.settings["start"]
    assert diag.different_mode_chains == () and diag.max_rhat < 1.01


@needs_iris
def test_poor_start_is_reanchored_and_recorded():
    X = np.loadtxt(IRIS)
    prior = Priors().conjugate_for_em(X, 3, "full")
    poor = fit_em(X, 3, prior=prior, n_init=10, random_state=1)  # the 0.05-weight optimum
    assert np.sort(poor.weights)[0] < 0.1
    with pytest.warns(UserWarning, match="found a better posterior mode"):
        result = bayesgmm.fit_bayes(X, 3, em=poor, random_state=1, progressbar=False)
    record = result.settings["start"]["reanchored"]
    assert record["rerun"] and record["new_start"] > record["old_start"] + 1
    # draws="auto" ends the first run early to start again, not at the end: at its first
    # checkpoint, or sooner at a divergence (107 draws here, where a chain was already in the
    # better mode: that takes precedence over a retry with smaller steps).
    assert record["after_draws"] <= 1000
    assert "retried" not in result.settings
    assert np.sort(result.em.weights).min() > 0.25
    diag = result.diagnostics()
    assert diag.different_mode_chains == () and diag.max_rhat < 1.01


def test_a_start_that_climbs_in_steps_is_reanchored_twice():
    """A stress case (stop 28): three clusters, started from a poor EM optimum (-2294 against
    -2177). The first re-anchoring, at a divergence at draw 102, gains 5 nats; a chain finds
    the mode ~100 nats up only in the run from there. With one re-anchoring allowed that run
    ended PROBLEMS (R-hat 1.4, "poor start"); the second re-anchoring ends it OK."""
    rng = np.random.default_rng(41)
    centres = np.array([[0, 0], [20, 0], [20, 3]])
    covs = [np.diag([16, 0.25]), 0.3 * np.eye(2), 0.3 * np.eye(2)]
    z = rng.choice(3, 600, p=[0.5, 0.25, 0.25])
    X = np.empty((600, 2))
    for k in range(3):
        X[z == k] = centres[k] + rng.multivariate_normal(np.zeros(2), covs[k], (z == k).sum())
    poor = fit_em(X, 3, random_state=6, init="plain_kmeans++")  # the old default's seeds
    assert poor.log_likelihood < -2250  # the premise: the natural optimum is near -2177
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bayesgmm.fit_bayes(X, 3, em=poor, random_state=0, progressbar=False)
    records = result.settings["start"]["reanchored"]
    assert isinstance(records, list) and len(records) == 2
    assert all(r["rerun"] for r in records)
    assert records[1]["old_start"] == records[0]["new_start"]  # the second from the first
    assert records[1]["new_start"] > records[0]["new_start"] + 50
    diag = result.diagnostics()
    assert diag.ok and diag.different_mode_chains == ()


def test_overfitted_old_faithful_names_k_too_large(old_faithful):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bayesgmm.fit_bayes(old_faithful, 5, random_state=1, progressbar=False)
    diag = result.diagnostics()
    assert "K too large" in diag.causes
    text = diag.advice[diag.causes.index("K too large")]
    assert "component" in text and ("weight" in text or "counted twice" in text)


def test_a_reanchored_rerun_still_retries_divergences(old_faithful):
    """Old Faithful K=5, seed 8: the first run re-anchors at draw 412, where a chain is already
    in a better mode; the rerun from there diverges at draw 373 and is retried at
    target_accept 0.95 (before, such a run kept 291 divergences: PROBLEMS). (Seeds 3, then 1
    showed it before later changes moved their draws, last the greedy k-means++ seeds of the
    ML start family on 7 Dec; the seed is the scenario's, not the test's point.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bayesgmm.fit_bayes(old_faithful, 5, random_state=8, progressbar=False)
    reanchored = result.settings["start"]["reanchored"]
    assert reanchored["rerun"] and reanchored["after_draws"] < 1000
    assert result.settings["retried"]["target_accept"] == [0.8, 0.95]
    assert result.settings["target_accept"] == 0.95
    assert result.diagnostics().n_divergences == 0


def _overlapping_2d(n=(120, 120, 60)):
    """Panel case (a): two clusters at Mahalanobis distance 2 plus a tight one, to 0.1."""
    rng = np.random.default_rng(20260101)
    cov = np.array([[1.0, 0.3], [0.3, 1.0]])
    e = np.array([1.0, 0.0])
    shift = 2.0 / np.sqrt(e @ np.linalg.solve(cov, e)) * e
    X = np.vstack([rng.multivariate_normal([0.0, 0.0], cov, n[0]),
                   rng.multivariate_normal(shift, cov, n[1]),
                   rng.multivariate_normal([5.0, 4.0], 0.05 * np.eye(2), n[2])])
    return np.round(X, 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_overlapping_components_the_data_support_converge_by_default(seed):
    """Panel case a-large: the overlap and rounding of (a), with enough points that BIC prefers
    K=3; the default run then converges (measured: seeds 1-4 OK, 1,000-2,300 draws)."""
    X = _overlapping_2d((1500, 1500, 600))
    bic = [fit_em(X, K, n_init=10, random_state=0).bic(X) for K in (2, 3, 4)]
    assert int(np.argmin(bic)) == 1  # the premise: K=3 is supported
    result = bayesgmm.fit_bayes(X, 3, random_state=seed, progressbar=False)
    diag = result.diagnostics()
    assert diag.ok, diag.verdict
    assert result.settings["adaptive"]["stopped_by"] == "converged"


def test_stephens_keeps_memberships_consistent_where_distance_swaps_components():
    from bayesgmm import kernels
    from bayesgmm.relabel import relabel_posterior

    X = _overlapping_2d()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bayesgmm.fit_bayes(X, 3, random_state=2, progressbar=False)
    assert result.label_switching.method == "stephens"
    raw = result.idata["posterior_unrelabelled"].to_dataset()
    em = result.em
    agreement = {}
    for method in ("distance", "stephens", "ecr"):
        post, _ = relabel_posterior(raw, em, "full", method=method, X=X)
        w = post["weights"].values.reshape(-1, 3)
        m = post["means"].values.reshape(-1, 3, 2)
        chol = np.linalg.cholesky(post["covariances"].values.reshape(-1, 3, 2, 2))
        _, resp = kernels.pointwise_over_draws(X, w, m, chol, True)
        hard = resp.argmax(axis=-1)
        agreement[method] = float((hard == resp.mean(axis=0).argmax(axis=-1)).mean())
    assert agreement["stephens"] > 0.9 and agreement["ecr"] > 0.9
    assert agreement["stephens"] > agreement["distance"] + 0.15
