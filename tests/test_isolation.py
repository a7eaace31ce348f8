"""Isolated rows: the noise component's starting guess."""

import numpy as np
import pytest

from bayesgmm.isolation import isolated_rows


def test_gross_outliers_are_isolated_and_cluster_rows_are_not():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (30, 2)), rng.normal(5, 1, (30, 2))]
    X[[4, 42]] *= 1000
    assert np.flatnonzero(isolated_rows(X)).tolist() == [4, 42]


def test_uniform_noise_far_from_a_cluster_is_isolated():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 1, (300, 3)), rng.uniform(-30, 30, (15, 3))]
    flagged = isolated_rows(X)
    assert flagged[300:].sum() >= 13 and flagged[:300].sum() <= 1


@pytest.mark.parametrize("data", ["old_faithful", "galaxies", "rounded", "clusters"])
def test_ordinary_data_have_almost_no_isolated_rows(data, old_faithful, galaxies):
    rng = np.random.default_rng(2)
    X = {"old_faithful": old_faithful.to_numpy(), "galaxies": galaxies.to_numpy(),
         # ties (values to 0.1) must not make the untied rows look isolated
         "rounded": np.round(rng.normal(0, 1, (500, 2)), 1),
         "clusters": np.r_[rng.normal(0, 1, (2000, 2)), rng.normal(6, 1, (500, 2))]}[data]
    assert isolated_rows(X).sum() <= 0.001 * len(X)


def test_degenerate_inputs():
    assert not isolated_rows(np.ones((10, 2))).any()  # no spread
    assert not isolated_rows(np.zeros((2, 3))).any()  # too few rows
    assert isolated_rows(np.r_[np.zeros((20, 1)), [[5.0]]]).shape == (21,)


def test_isolated_observations_fill_gaps_keep_labelled_rows_and_leave_enough():
    from bayesgmm.isolation import isolated_observations

    rng = np.random.default_rng(4)
    X = np.r_[rng.normal(0, 1, (40, 2)), [[500.0, 400.0], [-600.0, 300.0]]]
    X[3, 1] = np.nan  # filled with the median, not pulled far off by the outliers
    assert np.flatnonzero(isolated_observations(X)).tolist() == [40, 41]
    labels = np.full(42, -1)
    labels[41] = 0  # a labelled row belongs to its component
    assert np.flatnonzero(isolated_observations(X, labels)).tolist() == [40]
    few = np.r_[rng.normal(0, 1, (4, 2)), [[500.0, 400.0]]]  # 4 rows left <= 2 D + 1
    assert not isolated_observations(few).any()
