"""Shared data for the tests: the bundled data sets and simulated mixtures."""

import numpy as np
import pytest

from bayesgmm import load_galaxies, load_old_faithful

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@pytest.fixture(scope="session")
def old_faithful():
    return load_old_faithful()


@pytest.fixture(scope="session")
def galaxies():
    return load_galaxies()


def simulate_mixture(n=600, seed=0):
    """A well-separated 3-component 2-D mixture with known parameters."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [6.0, 1.0], [1.0, 7.0]])
    covs = np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]], [[1.5, 0.0], [0.0, 0.5]]])
    labels = rng.choice(3, size=n, p=weights)
    X = np.array([rng.multivariate_normal(means[k], covs[k]) for k in labels])
    return X, labels, (weights, means, covs)


@pytest.fixture(scope="session")
def simulated():
    return simulate_mixture()
