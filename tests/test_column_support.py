"""Observed values per component and column (bayesgmm.column_support), and the posterior's
"column barely observed" cause."""

import re
import warnings

import numpy as np
import pytest
from conftest import posterior_stand_in

from bayesgmm.column_support import few_observed, few_observed_words, observed_counts


def test_counts_are_the_memberships_over_the_observed_values():
    X = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 4.0]])
    resp = np.array([[1.0, 0.0], [0.25, 0.75], [0.5, 0.5]])
    g = np.array([1.0, 2.0, 4.0])
    # by hand: component 0 observes x0 in rows 0, 1 (1 + 0.25 x 2), x1 in rows 1, 2
    np.testing.assert_allclose(observed_counts(resp, X, g),
                               [[1.5, 0.5 + 2.0], [1.5, 1.5 + 2.0]])
    assert observed_counts(resp, np.ones((3, 2))) is None  # no gap, nothing to count


def test_few_are_named_only_where_the_component_holds_more_rows():
    observed = np.array([[1.0, 50.0], [2.9, 3.0], [0.0, 2.0]])
    nk = np.array([150.0, 60.0, 2.0])  # component 2 is small anyway: its own message
    assert few_observed(observed, nk) == [(0, 0), (1, 0)]
    assert few_observed(observed, nk, live=np.array([False, True, True])) == [(1, 0)]
    assert few_observed(np.array([[2.0]]), np.array([2.0])) == []  # it observes all it holds
    words = few_observed_words(observed, nk, [(0, 0), (1, 0)], ["z", "w"])
    assert words == ("component 0 has 1 observed value of 'z' among its 150 rows; "
                     "component 1 has 2.9 observed values of 'z' among its 60 rows")


def _gaps_in_one_cluster(divergent: int):
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([0, 0, 0], 1, (150, 3)), rng.normal([6, 6, 20], [1, 1, 3], (150, 3))]
    X[150:, 2] = np.nan
    X[150, 2] = 20.0
    X[:135, 2] = np.nan
    with warnings.catch_warnings():  # EM's own warning of it: its tests are elsewhere
        warnings.simplefilter("ignore")
        result = posterior_stand_in(X, 2, draws=500)  # iid draws: mixing passes
    result.idata["sample_stats"]["diverging"].values[0, :divergent] = True
    return result


@pytest.mark.parametrize("divergent", [0, 5])
def test_a_posterior_names_a_column_a_component_barely_observes(divergent):
    """Gaps QA: component 1 (150 rows, one observed 'z') diverged (30 and 60 times at seeds 1
    and 2; without 'z', none) and the advice was "consider fewer components" / draw more."""
    diag = _gaps_in_one_cluster(divergent).diagnostics()
    named = "column barely observed" in diag.causes
    assert named == (divergent > 0)  # a cause of failing checks, not of passing ones
    if named:
        advice = dict(a.split(": ", 1) for a in diag.advice)
        assert re.match(r"component \d has 1 observed value of 'x2' among its 150 rows",
                        advice["column barely observed"])
        assert "see column barely observed" in advice["divergences"]
        assert "fewer components" not in advice["divergences"]


@pytest.mark.slow
def test_a_sampled_posterior_names_the_column_and_passes_without_it():
    """The end-to-end measurement behind the cause: with 'x2' the run diverges and the
    advice names the column; fitted without it, every check passes."""
    import bayesgmm

    result = _gaps_in_one_cluster(0)
    X = result.idata["observed_data"]["x"].values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bayesgmm.fit_bayes(X, 2, random_state=1, draws=1000, progressbar=False)
        without = bayesgmm.fit_bayes(X[:, :2], 2, random_state=1, draws=1000,
                                     progressbar=False)
    diag = fit.diagnostics()
    assert not diag.ok and "column barely observed" in diag.causes, diag.verdict
    assert without.diagnostics().ok, without.diagnostics().verdict


def test_pairs_no_row_observes_together_are_named_and_em_says_so():
    """Gaps QA: every row had x or y, never both; EM printed corr[x, y] of 0.0003 or 0.59
    by its start, with no word that no row observes the two together (the likelihood is
    flat in it: -80.260590 at correlations -0.9, 0 and 0.9)."""
    import warnings

    from bayesgmm import fit_em
    from bayesgmm.column_support import unpaired_columns

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[:100, 0] = np.nan  # rows 0-99 miss x, rows 100-199 miss y: x and y never together
    X[100:, 1] = np.nan
    assert unpaired_columns(X) == [(0, 1)]
    assert unpaired_columns(X[:, [0, 2]]) == []  # x and z: rows 100-199
    weights = np.r_[np.zeros(100), np.ones(100)]
    assert unpaired_columns(X[:, [1, 2]], weights) == [(0, 1)]  # y's rows weigh nothing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        em = fit_em(X, 1, random_state=0)
    said = [str(w.message) for w in caught if "no row has both" in str(w.message)]
    assert said == ["no row has both 'x0' and 'x1' observed: the correlation between them, in "
                    "every component, rests on no data (the likelihood is flat in it; its "
                    "estimate is where the start put it, and BIC counts it as free). Read it as "
                    "unknown, or fit diag covariances (no correlations)."]
    # flat indeed: the same log-likelihood whatever the correlation (and not on complete rows)
    def scores(rows):
        out = []
        for rho in (-0.9, 0.0, 0.9):
            c = em.covariances[0].copy()
            c[0, 1] = c[1, 0] = rho * np.sqrt(c[0, 0] * c[1, 1])
            out.append(with_covariance(em, c).score_samples(rows).sum())
        return out

    np.testing.assert_allclose(scores(X), scores(X)[0], rtol=1e-12)
    assert np.ptp(scores(rng.normal(size=(50, 3)))) > 1.0  # the replacement does change it
    with warnings.catch_warnings(record=True) as caught:  # no correlations: nothing to say
        warnings.simplefilter("always")
        fit_em(X, 1, covariance_type="diag", random_state=0)
    assert not [w for w in caught if "no row has both" in str(w.message)]


def with_covariance(em, covariance):
    """``em`` with its one component's covariance replaced, and its precision factors."""
    import dataclasses

    from bayesgmm import kernels

    return dataclasses.replace(em, covariances=covariance[None],
                               precisions_cholesky=kernels.precisions_cholesky(
                                   covariance[None], em.covariance_type))
