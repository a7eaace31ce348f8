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
    covs = np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]],
                     [[1.5, 0.0], [0.0, 0.5]]])
    labels = rng.choice(3, size=n, p=weights)
    X = np.array([rng.multivariate_normal(means[k], covs[k]) for k in labels])
    return X, labels, (weights, means, covs)


@pytest.fixture(scope="session")
def simulated():
    return simulate_mixture()


# --------------------------------------------------------------------------------------------
# One tiny posterior per covariance type, shared by every test file (and xdist worker) that
# needs a fitted BayesResult: the first worker fits and pickles it, the others read the pickle.
# --------------------------------------------------------------------------------------------
def _shared_fit(tmp_path_factory, worker_id, covariance_type):
    import pickle

    from filelock import FileLock

    from bayesgmm.sampling import fit_bayes

    def fit():
        return fit_bayes(load_old_faithful(), 2, covariance_type=covariance_type, draws=100,
                         tune=100, chains=2, random_state=0, progressbar=False)

    if worker_id == "master":  # not running under xdist
        return fit()
    root = tmp_path_factory.getbasetemp().parent
    path = root / f"tiny_fit_{covariance_type}.pkl"
    with FileLock(str(path) + ".lock"):
        if path.is_file():
            return pickle.loads(path.read_bytes())
        result = fit()
        path.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def tiny_fit(tmp_path_factory, worker_id):
    """Old Faithful, K=2, full covariances, 2 chains x 100 draws (seed 0)."""
    return _shared_fit(tmp_path_factory, worker_id, "full")


@pytest.fixture(scope="session")
def tiny_fit_diag(tmp_path_factory, worker_id):
    """As ``tiny_fit`` with diagonal covariances."""
    return _shared_fit(tmp_path_factory, worker_id, "diag")
