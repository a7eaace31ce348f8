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


@pytest.mark.parametrize("rounded", [False, True])
def test_frequency_weights_isolate_as_the_rows_written_out(rounded):
    """Methodologist QA: a far row of weight 6 was isolated, its six written-out copies were
    not (so the priors of a table and of its rows differed); a row of weight 0 is no row."""
    rng = np.random.default_rng(5)
    for _ in range(60):
        N, D = rng.integers(5, 50), rng.integers(1, 4)
        X = rng.normal(size=(N, D)) * rng.choice([1.0, 5.0], size=D)
        X[rng.random(N) < 0.15] *= 30
        X = np.round(X) if rounded else X
        g = rng.integers(0, 8, size=N)
        if g.sum() < 3:
            continue
        flags = isolated_rows(X, sample_weight=g)
        np.testing.assert_array_equal(np.repeat(flags, g), isolated_rows(np.repeat(X, g, 0)))
        np.testing.assert_array_equal(flags[g == 0], False)


def test_weighted_quantiles_are_numpys_on_the_rows_written_out():
    from bayesgmm.isolation import _quantile

    rng = np.random.default_rng(6)
    X, g = rng.normal(size=(17, 3)), rng.integers(0, 5, size=17)
    for q in (0.25, 0.5, 0.75):
        np.testing.assert_allclose(_quantile(X, g.astype(float), q),
                                   np.percentile(np.repeat(X, g, 0), 100 * q, axis=0))
    np.testing.assert_array_equal(_quantile(X, np.ones(17), 0.5), np.median(X, axis=0))


def test_observations_of_a_table_and_of_its_rows_have_the_same_prior_rows():
    from bayesgmm.observations import prepare_observations

    rng = np.random.default_rng(18)
    X = np.vstack([rng.normal([0, 0], 1, (60, 2)), rng.normal([5, 3], [1, 0.5], (60, 2)),
                   [[60.0, -40.0], [-50.0, 70.0], [80.0, 90.0]]])
    near = X[120:].repeat(5, 0) + rng.uniform(-0.1, 0.1, (15, 2))
    for g in (np.r_[np.ones(120, int), 3, 3, 3], np.r_[np.ones(120, int), 6, 6, 6]):
        table = prepare_observations(X, 2, sample_weight=g, noise=True)
        rows = prepare_observations(np.repeat(X, g, 0), 2, noise=True)
        np.testing.assert_array_equal(np.repeat(table.isolated, g), rows.isolated)
        written_out = np.repeat(table.prior_rows, table.prior_weights.astype(int), 0)
        np.testing.assert_array_equal(written_out, rows.prior_rows)
    # rows of weight 0 beside the outliers neither hide them nor count
    g = np.r_[np.ones(123), np.zeros(15)]
    with_zeros = prepare_observations(np.r_[X, near], 2, sample_weight=g, noise=True)
    dropped = prepare_observations(X, 2, noise=True)
    assert np.flatnonzero(with_zeros.isolated).tolist() == [120, 121, 122]
    np.testing.assert_array_equal(with_zeros.isolated[:123], dropped.isolated)


def test_gaps_are_filled_with_the_weighted_column_means_of_few_complete_rows():
    from bayesgmm.observations import prepare_observations

    rng = np.random.default_rng(22)
    X = rng.normal(3, 1, (80, 2))
    X[3:40, 0] = np.nan
    X[40:, 1] = np.nan
    g = np.where(np.arange(80) % 2, 5.0, 1.0)
    table = prepare_observations(X, 2, sample_weight=g)
    rows = prepare_observations(np.repeat(X, g.astype(int), 0), 2)
    np.testing.assert_allclose(table.imputed(), rows.imputed()[np.cumsum(g.astype(int)) - 1])


def test_a_row_with_a_gap_is_judged_on_the_columns_it_has():
    """Gaps QA: a gap filled with the column's median put a row of one cluster (its y
    missing) half-way to the other, far from every row, and it was called isolated."""
    from bayesgmm.isolation import isolated_observations

    rng = np.random.default_rng(11)
    X = np.r_[rng.normal([0.0, 0.0], 0.5, (100, 2)), rng.normal([10.0, 10.0], 0.5, (100, 2)),
              [[0.2, np.nan], [np.nan, 9.8], [10.1, np.nan], [60.0, np.nan], [np.nan, -50.0]]]
    assert np.flatnonzero(isolated_observations(X)).tolist() == [203, 204]
    # many rows: the typical distance from a sample of them, the same rows isolated
    big = np.r_[np.tile(X[:200], (30, 1)) + rng.normal(0, 0.05, (6000, 2)), X[200:]]
    assert np.flatnonzero(isolated_observations(big)).tolist() == [6003, 6004]
    # a row with every value missing has nothing to be judged by
    assert not isolated_observations(np.r_[X, [[np.nan, np.nan]]])[-1]


def test_a_value_whose_distances_overflow_is_isolated_without_an_error():
    """Fuzz (slow test): a value of 4e200 among values of order 1 made the neighbour tree
    return index N (a neighbour at an infinite distance) and an IndexError followed; the
    rows whose every distance overflowed would also have been looked up again forever."""
    import warnings

    from bayesgmm.isolation import isolated_observations

    X = np.r_[np.random.default_rng(0).normal(size=(50, 2)), [[1e200, 1e200]]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning reaches the user either
        assert np.flatnonzero(isolated_observations(X, None, None)).tolist() == [50]
        tiny = np.array([[-0.67], [-0.67], [4.0e200], [0.67]])  # the fuzz case: 4 rows
        assert isolated_observations(tiny, None, None).tolist() == [False] * 4


def test_the_answer_is_computed_once_per_data_set(monkeypatch):
    """QA83: every EM fit with a noise component asked for the isolated rows again, 4 s each
    at 400,000 rows, and the noise check refits the same rows four times or more."""
    from bayesgmm import isolation

    calls = []
    compute = isolation._isolated_observations
    monkeypatch.setattr(isolation, "_isolated_observations",
                        lambda *a: calls.append(1) or compute(*a))
    monkeypatch.setattr(isolation, "_ANSWERS", {})
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(300, 2)), [[40.0, 40.0]]]
    first = isolation.isolated_observations(X)
    assert first[-1] and first.sum() == 1 and len(calls) == 1
    first[:] = True  # the caller's copy: the kept answer is not changed through it
    again = isolation.isolated_observations(X.copy())
    assert again.sum() == 1 and len(calls) == 1
    labels = np.full(301, -1)
    labels[-1] = 0
    assert not isolation.isolated_observations(X, labels).any() and len(calls) == 2
    moved = X.copy()
    moved[-1] = 0.0
    assert not isolation.isolated_observations(moved).any() and len(calls) == 3
    weighted = isolation.isolated_observations(X, sample_weight=np.r_[np.ones(300), 0.0])
    assert not weighted.any() and len(calls) == 4  # a weight-0 row is no row
    for i in range(10):  # a few answers are kept, not every one
        isolation.isolated_observations(X + i)
    assert len(isolation._ANSWERS) == isolation._ANSWERS_KEPT
