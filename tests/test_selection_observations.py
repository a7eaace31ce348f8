"""select_em with frequency weights, missing values and a noise component."""

import numpy as np
import pytest

from bayesgmm import select_em


@pytest.fixture(scope="module")
def collapsed(old_faithful):
    X = old_faithful.iloc[:120].reset_index(drop=True)
    g = (np.arange(len(X)) % 3 + 1).astype(float)
    expanded = X.loc[X.index.repeat(g.astype(int))].reset_index(drop=True)
    return X, g, expanded


def test_weighted_criteria_equal_the_expanded_rows(collapsed):
    """Oracle: frequency weights are the rows repeated, criteria included (N = sum of g)."""
    X, g, expanded = collapsed
    kwargs = {"n_init": 3, "random_state": 0, "n_jobs": 1, "tol": 1e-8}
    weighted = select_em(X, [1, 2], ["full", "diag"], sample_weight=g, **kwargs).table
    oracle = select_em(expanded, [1, 2], ["full", "diag"], **kwargs).table
    for column in ("log_likelihood", "bic", "aic", "icl", "min_component_size"):
        np.testing.assert_allclose(weighted[column], oracle[column], rtol=1e-6, err_msg=column)


def test_a_weighted_selection_s_repr_gives_the_criteria_s_n(collapsed):
    """QA: repr said "N=120" beside criteria computed with N = 240 (the sum of the weights)."""
    X, g, _ = collapsed
    sel = select_em(X, [1, 2], ["full"], sample_weight=g, n_init=1, random_state=0, n_jobs=1)
    assert "N=120 rows, weights summing to 240;" in repr(sel)
    assert "N=120;" in repr(select_em(X, [1, 2], ["full"], n_init=1, random_state=0, n_jobs=1))


def test_plain_table_is_unchanged_by_default_arguments(collapsed):
    X, _, _ = collapsed
    kwargs = {"n_init": 2, "random_state": 1, "n_jobs": 1}
    a = select_em(X, [1, 2], ["full"], **kwargs).table
    b = select_em(X, [1, 2], ["full"], sample_weight=None, missing="marginalise", noise=False,
                  **kwargs).table
    assert a.drop(columns="warnings").equals(b.drop(columns="warnings"))


def test_missing_values_and_noise_are_selected_over(collapsed):
    X, _, _ = collapsed
    holed = X.astype(float).copy()
    holed.iloc[[2, 7, 11], 1] = np.nan
    sel = select_em(holed, [1, 2], ["full"], n_init=2, random_state=0, n_jobs=1, noise=True)
    table = sel.table
    assert table["error"].eq("").all() and np.isfinite(table["bic"]).all()
    # the noise weight and its volume (the data's box) are two more free parameters than
    # the plain model's, as mclust counts them
    plain = select_em(X, [1, 2], ["full"], n_init=2, random_state=0, n_jobs=1).table
    np.testing.assert_array_equal(table["n_parameters"], plain["n_parameters"] + 2)
    assert sel.best["bic"] == (2, "full")
    # the report says what the data held and how the sweep used it
    from bayesgmm.report import build_selection_report

    page, _ = build_selection_report(sel)
    assert "<b>Observations:</b>" in page and "3 missing value(s)" in page
    dropped = select_em(holed, [2], ["full"], n_init=2, random_state=0, n_jobs=1,
                        missing="drop")
    assert dropped.n_samples == len(X) - 3


def test_bad_weights_are_one_line(collapsed):
    X, g, _ = collapsed
    with pytest.raises(ValueError, match="sample_weight"):
        select_em(X, [1], ["full"], sample_weight=-g, n_jobs=1)
