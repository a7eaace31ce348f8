"""BayesResult's user-facing objects: the membership probabilities as an array."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def proba(tiny_fit, old_faithful):
    return tiny_fit.predict_proba(old_faithful.iloc[:10])


def test_membership_probabilities_behave_as_their_mean(proba):
    """QA: p[:, 1], np.asarray(p) (shape ()) and log_loss(y, p) failed on the object."""
    np.testing.assert_array_equal(proba[:, 1], proba.mean[:, 1])
    assert np.asarray(proba) is proba.mean  # no copy unless asked for
    assert (proba.shape, proba.ndim, len(proba), proba.dtype) == ((10, 2), 2, 10, np.float64)
    np.testing.assert_array_equal(np.stack(list(proba)), proba.mean)
    assert np.allclose(np.sum(proba, axis=1), 1)


@pytest.mark.parametrize("dtype, copy, same", [
    (None, None, True), (None, True, False), (np.float64, False, True),
    (np.float32, None, False), (np.float32, True, False),
])
def test_membership_probabilities_follow_numpys_array_protocol(proba, dtype, copy, same):
    out = np.array(proba, dtype=dtype, copy=copy)
    assert (out is proba.mean) == same
    assert out.dtype == (dtype or np.float64)
    np.testing.assert_allclose(out, proba.mean, rtol=1e-7)


def test_membership_probabilities_refuse_a_conversion_without_copying(proba):
    with pytest.raises(ValueError, match="needs a copy; pass copy=None"):
        np.asarray(proba, dtype=np.float32, copy=False)


def test_membership_probabilities_in_scikit_learns_metrics(proba):
    metrics = pytest.importorskip("sklearn.metrics")
    y = np.argmax(proba.mean, axis=1)
    assert metrics.log_loss(y, proba, labels=[0, 1]) == pytest.approx(
        metrics.log_loss(y, proba.mean, labels=[0, 1]))


def test_numpys_functions_see_the_mean(proba):
    """Review: np.mean(p, axis=0) called p.mean(...), which is the array, not a method."""
    np.testing.assert_array_equal(np.mean(proba, axis=0), proba.mean.mean(axis=0))
    np.testing.assert_array_equal(np.argmax(proba, axis=1), proba.mean.argmax(axis=1))
    assert np.concatenate([proba, proba]).shape == (2 * len(proba), proba.shape[1])
