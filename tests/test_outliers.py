"""Evidence for a noise component: named outliers on data with them, silence without."""

import dataclasses
import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES

from bayesgmm import fit_em
from bayesgmm.outliers import noise_evidence, outlier_components, unjudged

pytestmark = pytest.mark.usefixtures("fresh_evidence_caches")


def _clusters(seed=0):
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(0, 1, (100, 2)), rng.normal([5, 3], 1, (100, 2))]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_far_outliers_are_named_with_the_bic_evidence(covariance_type):
    X = np.r_[_clusters(), [[50, -40], [-60, 80]]]
    em = fit_em(X, 2, covariance_type=covariance_type, random_state=1)
    evidence = noise_evidence(em, X)
    assert evidence is not None and evidence.rows == (200, 201)
    assert evidence.delta_bic > 100
    with_noise = fit_em(X, 2, covariance_type=covariance_type, noise=True, n_init=5,
                        random_state=0)
    assert evidence.bic_with == pytest.approx(with_noise.bic(X), abs=1.0)  # the same optimum
    text = evidence.describe()
    assert "2 row(s) (200, 201)" in text and "noise=True" in text
    names = np.array([f"row {i}" for i in range(len(X))])
    assert "(row 200, row 201)" in evidence.describe(names, option="--noise")


def test_no_evidence_without_outliers_or_with_a_noise_component():
    X = _clusters()
    assert noise_evidence(fit_em(X, 2, random_state=1), X) is None
    Xo = np.r_[X, [[50, -40]]]
    assert noise_evidence(fit_em(Xo, 2, noise=True, random_state=1), Xo) is None


def test_weights_and_labels_are_those_of_the_fit():
    """Weights count as repeated rows: weight 3 on an outlier is the outlier three times."""
    X = np.r_[_clusters(), [[50, -40]]]
    g = np.r_[np.ones(200), 3.0]
    weighted = noise_evidence(fit_em(X, 2, sample_weight=g, random_state=1), X,
                              sample_weight=g)
    repeated_X = np.r_[X, [[50, -40]] * 2]
    repeated = noise_evidence(fit_em(repeated_X, 2, random_state=1), repeated_X)
    assert weighted.bic_with == pytest.approx(repeated.bic_with, rel=1e-6)
    labels = np.r_[np.full(200, -1), 1]  # the far point declared part of component 1
    labelled = noise_evidence(fit_em(X, 2, labels=labels, random_state=1), X, labels=labels)
    assert labelled is None or 200 not in labelled.rows


def test_rows_the_noise_cannot_take_are_not_named():
    """A labelled far row belongs to its label's component; a row a missing="drop" fit left
    out is not in the fit: neither is listed."""
    X = np.r_[_clusters(), [[50, -40], [-60, 80]]]
    # the clusters labelled too: otherwise the best fit without noise gives a component to
    # the two far rows together, and the noise is not worth its parameter
    labels = np.r_[np.zeros(100, int), np.ones(100, int), 0, -1]
    evidence = noise_evidence(fit_em(X, 2, labels=labels, random_state=1), X, labels=labels)
    assert evidence is not None and evidence.rows == (201,)
    Xd = np.r_[X, [[70.0, np.nan]]]
    dropped = noise_evidence(fit_em(Xd, 2, missing="drop", random_state=1), Xd,
                             missing="drop")
    assert dropped is not None and dropped.rows == (200, 201)


def test_a_poorer_optimum_than_the_refit_is_said():
    """The evidence compares two refits; when the refit without noise beats the user's own
    fit, the sentence says so (its BIC differs from the one the user was shown)."""
    X = np.r_[_clusters(), [[50, -40], [-60, 80]]]
    poor = fit_em(X, 2, init={"means": [[50, -40], [2.5, 1.5]]}, max_iter=1)
    evidence = noise_evidence(poor, X)
    assert evidence is not None and evidence.bic_fit == pytest.approx(poor.bic(X))
    assert evidence.bic_fit > evidence.bic_without + 1.0
    assert f"beats this fit's own {poor.bic(X):,.1f}" in evidence.describe()
    good = fit_em(X, 2, n_init=10, init=("kmeans++", "random_from_data"), random_state=0)
    assert noise_evidence(good, X).bic_fit is None


def test_the_retry_advice_is_what_the_fit_did_not_already_do():
    """Before: "restarts from random data points too (init=...) would help" even for a fit
    (bayesgmm em's) that had restarted from both seedings already."""
    import dataclasses

    X = np.r_[_clusters(), [[50, -40], [-60, 80]]]
    poor = fit_em(X, 2, init={"means": [[50, -40], [2.5, 1.5]]}, max_iter=1)
    both = dataclasses.replace(poor, settings={**poor.settings, "n_init": 10,
                                               "init": ["kmeans++", "random_from_data"]})
    text = noise_evidence(both, X).describe(option="--noise")
    assert "random data points too" not in text
    assert "more restarts than this fit's 10 from each seeding (n_init=20" in text
    kmeans = dataclasses.replace(poor, settings={**poor.settings, "init": "kmeans++"})
    assert "restarts from random data points too" in noise_evidence(kmeans, X).describe()


def test_no_hint_with_as_many_parameters_as_rows():
    """Before: wine's 13 columns, K=3 full (314 free parameters, 178 rows): a hint whose BIC
    difference says which points the refits' components shrank onto, not which are outliers."""
    from sklearn.datasets import load_wine

    from bayesgmm.em import BOTH_INITS

    X = load_wine(as_frame=True).data
    with pytest.warns(UserWarning, match="314 free parameters for 178 effective rows"):
        em = fit_em(X, 3, n_init=10, init=BOTH_INITS, random_state=1)
    assert em.n_parameters > em.n_samples
    assert noise_evidence(em, X) is None
    rng = np.random.default_rng(0)  # 20 rows, 19 parameters, two far rows a component holds
    Xs = np.r_[rng.normal(0, 1, (9, 3)), rng.normal(8, 1, (9, 3)),
               [[60, -50, 40], [-70, 80, -60]]]
    small = fit_em(Xs, 2, n_init=10, init=BOTH_INITS, random_state=1)
    assert noise_evidence(small, Xs) is None
    # and the callers can say that the check was not made, and why (QA157 L5)
    assert unjudged(em) == ("K=3 full has 314 free parameters for 178 rows, too many for BIC "
                            "to compare EM refits")
    assert "19 free parameters for 20 rows" in unjudged(small)
    assert unjudged(fit_em(_clusters(), 2, random_state=1)) == ""  # 11 for 200 rows


def test_the_richer_model_check_says_when_no_richer_model_can_be_judged():
    """QA157 L5: no richer covariance type, nor K + 1, with fewer parameters than rows: the
    check has nothing to compare, which shape_evidence.unjudged says (and the callers)."""
    from bayesgmm.shape_evidence import unjudged as shape_unjudged

    X = _clusters()  # 200 rows in 2-D
    full = fit_em(X[:12], 2, random_state=0)  # 11 parameters; K=3 has 17 for 12 rows
    assert shape_unjudged(full) == ("no richer model (K=3) has fewer free parameters than the "
                                    "12 rows, which BIC needs to compare EM refits")
    with warnings.catch_warnings():  # too few rows: the point here
        warnings.simplefilter("ignore")
        spherical = fit_em(X[:5], 2, covariance_type="spherical", random_state=0)  # 7
    assert "(another covariance type or K=3)" in shape_unjudged(spherical)
    assert shape_unjudged(fit_em(X, 2, random_state=0)) == ""
    # with every row's component known, one more has no row to hold, which is said (QA160
    # M2: "no richer model (K=3) has fewer free parameters than the 120 rows", 17 for 120)
    labels = np.arange(len(X)) % 2
    assert shape_unjudged(fit_em(X, 2, random_state=0, labels=labels), labels=labels) == (
        "every row's component is known (the labels), so K=3 has no row for its component "
        "more")
    # 5-D spherical, 13 parameters: K=3 has 20 for 22 rows, diag 21 and more
    wide = np.random.default_rng(0).normal(size=(22, 5)) + 3 * labels[:22, None]
    spherical = fit_em(wide, 2, covariance_type="spherical", labels=labels[:22],
                       random_state=0)
    assert shape_unjudged(spherical, labels=labels[:22]) == (
        "every row's component is known (the labels), so K=3 has no row for its component "
        "more, and no richer covariance type has fewer free parameters than the 22 rows")


def test_k_too_small_only_where_k_plus_one_has_fewer_parameters_than_rows():
    """QA72: wine (standardised) at K=1 full was told "K looks too small" from a K=2 full fit
    of 209 free parameters to 178 rows, a fit the richer-model check refuses to judge by BIC;
    both checks now share one rule (outliers.one_more_fits)."""
    import warnings

    from sklearn.datasets import load_wine

    from bayesgmm.outliers import one_more_fits
    from bayesgmm.shape_evidence import shape_evidence

    X = load_wine().data
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    em = fit_em(X, 1, n_init=5, random_state=0)
    assert not one_more_fits(em)  # 209 parameters at K = 2, 178 rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evidence = noise_evidence(em, X)
        assert shape_evidence(em, X) is None
    if evidence is not None:
        assert evidence.bic_larger_k is None
        assert "K looks too small" not in evidence.describe()
    # where K + 1 has fewer parameters than rows, K + 1 is still weighed (the triangle test)
    assert one_more_fits(fit_em(X[:, :4], 1, random_state=0))


def test_a_rating_column_is_spread_over_its_grid_and_named_in_the_hint():
    """QA76: skipping the model checks wherever a column had 4-7 values hid 15 gross outliers
    beside a 1-5 rating (and a wrong covariance type). QA75: run on the grid itself, a
    4-valued count had 44 ordinary rows called outliers. The checks now compare the data with
    such a column spread over its grid cells, and a hint says that column's own shape may be
    the evidence."""
    import warnings

    from bayesgmm._validation import dequantised, grid_columns
    from bayesgmm.shape_evidence import shape_evidence

    rng = np.random.default_rng(3)
    g = rng.integers(0, 2, 300)
    X = np.c_[rng.normal(size=(300, 2)) + 5 * g[:, None],
              np.clip(np.round(2 + 2 * g + rng.normal(0, 0.7, 300)), 1, 5)]
    X = np.r_[X, np.c_[rng.uniform(-25, 30, size=(15, 2)), rng.integers(1, 6, 15)]]
    assert grid_columns(X) == [2]
    # QA78: as for a code, 2 rows a value at least (5 values in 8 rows are no grid)
    few = np.c_[np.arange(10.0), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]]
    assert grid_columns(few[:8]) == [] and grid_columns(few) == [1]
    spread = dequantised(X)
    assert np.array_equal(spread[:, :2], X[:, :2]) and np.all(np.abs(spread[:, 2] - X[:, 2]) <= 0.5)
    assert np.array_equal(dequantised(X), spread)  # seeded: the same copy every time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(X, 2, random_state=0)
        evidence = noise_evidence(em, X)
        assert evidence is not None and set(range(300, 315)) <= set(evidence.rows)
        assert evidence.grid_columns == ("x2",)
        assert "spread over their grid for this comparison" in evidence.describe()
        diag = fit_em(X[:300] @ np.array([[1.0, 0.9, 0], [0, 0.5, 0], [0, 0, 1]]), 2,
                      covariance_type="diag", random_state=0)
        richer = shape_evidence(diag, X[:300] @ np.array([[1.0, 0.9, 0], [0, 0.5, 0],
                                                          [0, 0, 1]]))
        assert richer is not None and richer.better == "full"
        assert "check it without it" in richer.describe()


def test_a_column_of_two_or_three_values_is_left_out_and_the_rest_judged():
    """QA (verification): with a 3-valued column, 62 of 300 rows were named as outliers; the
    uniform density outweighed Gaussians split along the column, not outliers. Switching
    the check off then hid the three gross outliers (QA78). The check now judges the fit's
    marginal over the measured columns: the far rows, and no others, with the column named;
    nothing on clean data; nothing where every column is a code."""
    import warnings

    from bayesgmm.shape_evidence import shape_evidence

    rng = np.random.default_rng(3)
    X = np.c_[rng.normal(0, 1, (300, 2)), rng.integers(1, 4, 300).astype(float)]
    clean = X.copy()
    X[:3, :2] = [[40.0, -35.0], [-45.0, 50.0], [38.0, 44.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(X, 3, n_init=5, random_state=0)  # (seed 1: split by x2, collapsed there)
        evidence = noise_evidence(em, X)
        assert evidence.rows == (0, 1, 2) and evidence.left_out == ("x2",)
        assert "(judged on the other columns: 'x2' takes 2 or 3 values only, a flag or a " \
            "code, and was left out of this comparison)" in evidence.describe()
        assert "poorer optimum" not in evidence.describe()  # a marginal is no optimum
        plain = fit_em(X[:, :2], 3, n_init=5, random_state=1)
        assert set(noise_evidence(plain, X[:, :2]).rows) >= {0, 1, 2}
        assert noise_evidence(fit_em(clean, 3, n_init=5, random_state=1), clean) is None
        assert shape_evidence(fit_em(clean, 1, n_init=5, random_state=1), clean) is None
        codes = np.c_[rng.integers(0, 2, 300), rng.integers(1, 4, 300)].astype(float)
        assert noise_evidence(fit_em(codes, 2, n_init=2, random_state=0), codes) is None


def test_a_wrong_covariance_type_is_found_beside_a_flag_column():
    """QA78: a two-valued column switched the richer-model check off, and spherical
    components fitted to elongated clusters went unremarked."""
    import warnings

    from bayesgmm.shape_evidence import shape_evidence

    rng = np.random.default_rng(1)
    tilted = np.array([[3.0, 2.7], [2.7, 3.0]])
    Y = np.r_[rng.multivariate_normal([0, 0], tilted, 150),
              rng.multivariate_normal([8, 0], tilted, 150)]
    X = np.c_[Y, rng.integers(0, 2, 300).astype(float)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(X, 2, covariance_type="spherical", n_init=5, random_state=0)
        evidence = shape_evidence(em, X)
    assert evidence is not None and evidence.better == "full"
    assert evidence.left_out == ("x2",) and "judged on the other columns" in \
        evidence.describe()


def _far_pair(seed=0, nan=True):
    """Two clusters of 30 rows, two rows multiplied by 1000, some cells missing
    (/tmp/qa_messy/d/nan_out.csv, as a user had it)."""
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal([0, 0], [1, 0.7], (30, 2)), rng.normal([5, 3], [1, 0.7], (30, 2))]
    X[[5, 45]] *= 1000
    if nan:
        X[[3, 17, 52], [0, 1, 0]] = np.nan
    return X


def test_a_component_holding_only_far_rows_gets_the_hint():
    """Before: EM gave the two far rows a component of their own (N_k = 2 < D+1) and
    noise_evidence said nothing: every refit with noise had a collapsed component too, and
    that unbounded likelihood won. Now a refit starts with that component re-seeded, and the
    far rows go to the noise."""
    from bayesgmm.em import BOTH_INITS

    X = _far_pair()
    em = fit_em(X, 2, n_init=10, init=BOTH_INITS, random_state=1)
    assert min(em.weights) * em.n_samples < 3  # the far rows' own component
    evidence = noise_evidence(em, X)
    assert evidence is not None and evidence.rows == (5, 45)
    assert "noise=True" in evidence.describe()


def test_a_degenerate_component_on_far_rows_is_evidence_where_bic_cannot_weigh_it():
    """Two far rows almost alike: the component on them collapses, its likelihood outweighs
    any noise density (the BIC is lower without noise), yet it is what a noise component is
    for."""
    from bayesgmm.em import BOTH_INITS

    X = _far_pair()
    X[45] = X[5] + [0.01, 0.02]
    em = fit_em(X, 2, n_init=10, init=BOTH_INITS, random_state=1)
    evidence = noise_evidence(em, X)
    assert evidence is not None and evidence.rows == (5, 45)
    assert evidence.components == (0,) and evidence.bic_with > evidence.bic_without
    text = evidence.describe(option="--noise")
    assert text.startswith("component(s) [0] of this fit hold only far row(s) (5, 45)")
    assert "consider --noise" in text and "\n" not in text


def test_the_same_check_is_computed_once_and_fewer_starts_on_many_rows(monkeypatch):
    """QA (large data): the command line's hint and the report's each ran the ~40 EM refits
    (two minutes at 1,000,000 rows): the last evidence is kept for the same fit and data;
    another fit or other data compute again. Above _LARGE_N rows the fresh starts are
    fewer (each refit costs what the fit did)."""
    import bayesgmm.outliers as outliers

    calls = []
    real = outliers.fit_em

    def counting(*args, **kwargs):
        calls.append(kwargs.get("n_init", 1))
        return real(*args, **kwargs)

    monkeypatch.setattr(outliers, "fit_em", counting)
    X = np.r_[_clusters(), [[50, -40], [-60, 80]]]
    em = fit_em(X, 2, random_state=1)
    first = noise_evidence(em, X)
    n = len(calls)
    assert n >= 4 and max(calls) == outliers._RESTARTS
    assert noise_evidence(em, X.copy()) is first and len(calls) == n  # same values: kept
    import pandas as pd

    # review: the command line's DataFrame of integers and the report's float64 copy of it
    # are one data set
    whole = np.round(X * 10)
    integers = pd.DataFrame(whole.astype(np.int64), columns=["a", "b"])
    fit_int = fit_em(integers, 2, random_state=1)
    m = len(calls)
    noise_evidence(fit_int, integers)
    assert noise_evidence(fit_int, whole) is noise_evidence(fit_int, integers)
    calls[m:] = []
    moved = X.copy()
    moved[0, 0] += 1.0
    noise_evidence(em, moved)
    assert len(calls) == 2 * n  # other data: computed again
    import dataclasses

    other = dataclasses.replace(em, means=em.means + 1e-9)  # another estimate (an equal one
    noise_evidence(other, X)                                  # is the same fit: QA111)
    assert len(calls) > 2 * n + 2  # another fit: computed again
    monkeypatch.setattr(outliers, "_LARGE_N", 100)  # these 202 rows count as many
    outliers._CACHE.clear()  # (an equal fit's evidence, computed above, is remembered)
    calls.clear()
    noise_evidence(fit_em(X, 2, random_state=3), X)
    assert max(calls) == outliers._RESTARTS_LARGE_N < outliers._RESTARTS


def test_the_evidence_of_the_last_few_fits_is_remembered_the_oldest_forgotten():
    """Reports of several fits written in turn (K = 2, 3, 4, then K = 3 again) refit each
    fit's evidence once: the cache holds the last REMEMBERED fits', not only the last one."""
    import bayesgmm.outliers as outliers

    X = _clusters()
    fits = [fit_em(X, k, random_state=1) for k in (1, 2, 3)]
    cache, computed = {}, []

    def evidence(em):
        return outliers.last_evidence(cache, em, X, None, None, ("marginalise", 10.0),
                                      lambda Xv: computed.append(em.n_components) or
                                      object())

    first = [evidence(em) for em in fits]
    again = [evidence(em) for em in reversed(fits)]
    assert computed == [1, 2, 3] and again == first[::-1]  # each computed once
    evidence(fits[1]), evidence(fits[2])  # the K = 1 fit is now the least recently used
    for i in range(outliers.REMEMBERED - 2):  # one fit too many: it is forgotten
        evidence(dataclasses.replace(fits[0], means=fits[0].means + i + 1))
    assert len(cache) == outliers.REMEMBERED
    assert evidence(fits[1]) is first[1] and evidence(fits[2]) is first[2]
    assert evidence(fits[0]) is not first[0] and computed[-1] == 1


@pytest.mark.parametrize("failure", [
    "EM failed numerically (covariance of component 0 is not finite; increase reg_covar); "
    "try a larger reg_covar",
    # QA89: a start from a fit's own parameters refused (a covariance symmetric to rounding)
    "init covariances[1] is not symmetric; give symmetric positive-definite covariances"])
def test_a_refit_that_breaks_down_gives_no_hint_instead_of_an_error(monkeypatch, failure):
    """QA: a tied refit with the noise component broke down numerically (columns 1e13 apart,
    reg_covar 1e-6), and its error ended `bayesgmm em` and `select` after their tables. A hint
    must not fail the command it serves: no evidence is given instead."""
    from bayesgmm import outliers

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2)), [[40.0, 40.0]]]
    em = fit_em(X, 2, random_state=0)
    real = outliers.fit_em

    def breaks_with_noise(*args, **kwargs):
        if kwargs.get("noise"):
            raise ValueError(failure)
        return real(*args, **kwargs)

    monkeypatch.setattr(outliers, "fit_em", breaks_with_noise)
    assert outliers._noise_evidence(em, X, sample_weight=None, labels=None,
                                    missing="marginalise", min_delta_bic=10.0) is None
    monkeypatch.setattr(outliers, "fit_em", real)
    assert outliers._noise_evidence(em, X, sample_weight=None, labels=None,
                                    missing="marginalise", min_delta_bic=10.0) is not None


def test_a_covariance_that_is_not_finite_is_not_positive_definite():
    from bayesgmm import kernels

    for ct, cov in (("full", np.array([[[1.0, np.nan], [np.nan, 1.0]]])),
                    ("diag", np.array([[1.0, np.inf]]))):
        with pytest.raises(kernels.NotPositiveDefiniteError, match="increase reg_covar"):
            kernels.precisions_cholesky(cov, ct)


def _typo(seed=0):
    """Two 3-D clusters of 130 rows and one mistyped value (mass 112 among 11-18), as the
    ecologist QA's birds: K=3 tied gives the typo the third component, a proper one."""
    rng = np.random.default_rng(seed)
    a = rng.normal([74, 4.6, 17.5], [1.5, 0.2, 0.8], (130, 3))
    b = rng.normal([80, 5.4, 12.5], [1.5, 0.2, 0.8], (130, 3))
    X = np.r_[a, b]
    X[37, 2] = 112.0
    return X


def test_a_lone_component_on_a_typo_is_evidence_at_one_component_fewer():
    """A tied component on one far row is not degenerate, and at its K the noise cannot win
    the row from it (the BIC keeps it): the refit with the noise in its place, at K - 1,
    takes it (QA: `bayesgmm select` chose K=3 tied on the birds and said nothing)."""
    from bayesgmm.em import BOTH_INITS
    from bayesgmm.outliers import _lone_components

    X = _typo()
    em = fit_em(X, 3, covariance_type="tied", n_init=5, init=BOTH_INITS, random_state=1)
    lone = int(np.argmin(em.weights))
    assert np.flatnonzero(em.predict(X) == lone).tolist() == [37]
    assert _lone_components(em, X) == (lone,)
    evidence = noise_evidence(em, X)
    assert evidence is not None and evidence.rows == (37,)
    assert evidence.components == (lone,) and not evidence.degenerate
    assert evidence.bic_without == pytest.approx(em.bic(X))
    with_noise = fit_em(X, 2, covariance_type="tied", noise=True, n_init=5, random_state=0)
    assert evidence.bic_with == pytest.approx(with_noise.bic(X), abs=1.0)  # the K-1 refit
    text = evidence.describe(option="--noise")
    assert text.startswith(f"component {lone} of this fit holds only one row (37), far from "
                           "every other component")
    assert "an outlier (a typo?)" in text and "consider --noise with 1 component fewer" in text


def test_a_small_group_is_not_lone_and_clean_data_give_no_hint():
    """More rows than D + 1 make a group, however far; so does a near one; clean clusters at
    K=3 tied get no hint."""
    from bayesgmm.outliers import _lone_components

    rng = np.random.default_rng(1)
    X = _typo()
    X[37, 2] = 17.0
    group = np.r_[X, rng.normal([60, 3.0, 40], [0.5, 0.1, 0.3], (5, 3))]  # 5 > D + 1 rows
    em = fit_em(group, 3, covariance_type="tied", n_init=3, random_state=1)
    assert min(em.weights) * em.n_samples == pytest.approx(5, abs=0.5)
    assert _lone_components(em, group) == ()
    clean = fit_em(X, 3, covariance_type="tied", n_init=3, random_state=1)
    assert _lone_components(clean, X) == () and noise_evidence(clean, X) is None


def test_a_lone_component_with_known_labels_is_renumbered_or_left_alone():
    """Review: the refit at one component fewer passed the label codes unchanged, so a label
    naming the last component raised (and `bayesgmm fit` lost its posterior), and others
    pointed at the wrong component. A component holding a labelled row is a known group:
    never lone; labels on the other components are renumbered for the refit."""
    from bayesgmm.em import BOTH_INITS
    from bayesgmm.outliers import _lone_components

    X = _typo()
    em = fit_em(X, 3, covariance_type="tied", n_init=5, init=BOTH_INITS, random_state=1)
    lone = int(np.argmin(em.weights))
    assigned = em.predict(X)
    others = [k for k in range(3) if k != lone]
    labels = np.full(len(X), -1)
    for k in others:  # a row of each other component labelled with its component
        labels[np.flatnonzero(assigned == k)[0]] = k
    evidence = noise_evidence(em, X, labels=labels)
    assert evidence is not None and evidence.rows == (37,) and evidence.components == (lone,)
    labels[37] = lone  # the typo's own component now a known group: not lone, no error
    assert _lone_components(em, X, labels=labels) == ()
    noise_evidence(em, X, labels=labels)  # returns or says nothing; never raises


def test_a_tight_far_group_of_d_plus_one_rows_is_not_called_outliers():
    """Review: three rows of a real rare group (D + 1 in 2-D) far from two clusters were
    called "outliers, not a group" though BIC preferred their component by 25 points; only
    a component on one row is lone."""
    from bayesgmm.outliers import _lone_components

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([0, 0], 1, (80, 2)), rng.normal([8, 0], 1, (80, 2)),
              rng.normal([30, 30], 1, (3, 2))]
    for covariance_type in ("tied", "full"):
        em = fit_em(X, 3, covariance_type=covariance_type, n_init=3, random_state=0)
        assert _lone_components(em, X) == ()


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_rows_along_a_correlation_the_type_cannot_take_are_no_outliers(covariance_type):
    """QA: one bivariate normal (correlation 0.8) fitted diag had 65 "outliers": the rows
    along its axis, which full covariances fit better than any noise component. Real far
    rows beside the correlation are still named."""
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=400)
    assert noise_evidence(fit_em(X, 1, covariance_type=covariance_type, random_state=0),
                          X) is None
    far = np.vstack([X, [[12.0, -12.0], [15.0, 14.0], [-13.0, 10.0]]])
    evidence = noise_evidence(fit_em(far, 1, covariance_type=covariance_type,
                                     random_state=0), far)
    assert evidence is not None and {400, 401, 402} <= set(evidence.rows)


def test_rows_that_one_more_component_fits_are_k_too_small_not_outliers():
    """QA: three clean Gaussian clusters fitted with K=1 had 120 of their 400 rows (30%)
    called outliers, "consider --noise", where K=2 beat K=1 with a noise component by 300
    BIC units. When one more component beats the noise fit clearly, the hint says K looks
    too small; true outliers keep the noise hint."""
    import html as html_lib

    from bayesgmm.report import _noise_hint, _verdict_box

    rng = np.random.default_rng(0)  # the QA's clusters: a triangle, 40/35/25%
    means, z = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0]]), rng.choice(3, 400,
                                                                      p=[0.4, 0.35, 0.25])
    X = means[z] + rng.normal(size=(400, 2))
    em = fit_em(X, 1, random_state=0)
    evidence = noise_evidence(em, X)
    assert evidence is not None and evidence.bic_larger_k is not None
    assert evidence.bic_larger_k < evidence.bic_with - 10  # K=2 beats K=1 + noise clearly
    assert fit_em(X, 2, random_state=0, n_init=5).bic(X) == pytest.approx(
        evidence.bic_larger_k, abs=1e-6)  # the K + 1 optimum, as fit_em finds it
    text = evidence.describe()
    assert "rather than these rows being outliers, K looks too small for the data's groups" \
        in text and text.index("a larger K") < text.index("noise=True")
    # QA68: two groups of heavy-tailed (t, 2 df) rows were told only that K looks too small
    assert "or the groups have heavier tails (or another shape) than a Gaussian's" in text
    hint = _noise_hint(em, X)
    assert hint.startswith('<p class="warn">K too small? ')
    import types

    ok = types.SimpleNamespace(ok=True, checks=(), causes=(), advice=(), verdict="OK: all")
    box = html_lib.unescape(_verdict_box(ok, outliers="K too small", n_components=1))
    assert "K looks too small, or the groups have heavier tails than a Gaussian's" in box
    assert "noise component far better" not in box
    # QA132 M2: 30 rows written 10 times read "K looks too small" with no word of the copies
    copies = "300 of the 300 rows have an identical twin (30 distinct rows)"
    said = html_lib.unescape(_verdict_box(ok, outliers="K too small", n_components=1,
                                          copies=copies))
    assert f"heavier tails than a Gaussian's. Judge this on one row of each, though: " \
        f"{copies}, and copies make extra components and outliers look better" in said
    bad = types.SimpleNamespace(ok=False, checks=(), causes=("separate modes",), advice=(),
                                verdict="PROBLEMS: R-hat")
    failed = html_lib.unescape(_verdict_box(bad, outliers=True, n_components=2, copies=copies))
    assert f"The copies may be why the sampling checks failed: {copies}" in failed
    assert "check them for recording errors" not in failed  # the outliers' remedy
    assert "check them for recording errors" in html_lib.unescape(
        _verdict_box(bad, outliers=True, n_components=2))
    assert copies not in html_lib.unescape(_verdict_box(ok, n_components=2, copies=copies))
    # gross outliers beside three clusters at the right K: the noise hint, as before
    far = np.concatenate([X, rng.uniform(-40, 50, size=(8, 2))])
    out = noise_evidence(fit_em(far, 3, random_state=0, n_init=10), far)
    assert out is not None and out.bic_larger_k is None
    assert out.describe().startswith("8 row(s)") or "fit a uniform noise component better" \
        in out.describe()


def test_far_rows_that_share_one_value_are_asked_about_as_a_missing_value_code():
    """QA62: twelve rows of length -999 were named outliers and --noise advised, with no
    word that they hold one value, as a missing-value code does."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([10, 50], [2, 5], (150, 2)), rng.normal([20, 80], [2, 5], (150, 2))]
    coded = X.copy()
    coded[::25, 1] = -999.0
    em = fit_em(coded, 2, random_state=0, n_init=3)
    evidence = noise_evidence(em, coded)
    assert evidence is not None and len(evidence.rows) == 12
    assert evidence.describe().endswith(
        "12 of them hold the same value, -999, in 'x1' (12), each column's smallest value: "
        "if it is a code for a missing value, leave those cells empty (read as missing); if "
        "they are readings clipped at a detection limit, remove those rows or fit them apart")
    spread = np.c_[X, rng.normal(30, 3, 300), rng.normal(0, 1, 300)]  # the code in 3 columns
    for j, rows in enumerate((np.arange(0, 300, 75), np.arange(25, 300, 75),
                              np.arange(50, 300, 75))):
        spread[rows, j + 1] = -999.0
    evidence = noise_evidence(fit_em(spread, 2, random_state=0, n_init=3), spread)
    assert evidence is not None and "12 of them hold the same value, -999" in \
        evidence.shared_value
    far = X.copy()
    far[::25, 1] = rng.uniform(-1500, -500, 12)  # far, each its own value: no such clause
    evidence = noise_evidence(fit_em(far, 2, random_state=0, n_init=3), far)
    assert evidence is not None and evidence.shared_value == ""


def test_far_rows_at_each_columns_largest_value_are_asked_about_as_saturated_readings():
    """QA143 M2: 100 events saturated at 262143 were asked about as a missing-value code
    only, "in 'FSC_A', 'SSC_A'" as if all 100 held it in both, where 50 did in SSC_A."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal([10, 50], [2, 5], (150, 2)), rng.normal([20, 80], [2, 5], (150, 2))]
    X[::25, 1] = 999.0
    X[::50, 0] = 999.0
    evidence = noise_evidence(fit_em(X, 2, random_state=0, n_init=3), X)
    assert evidence is not None and evidence.shared_value == (
        "12 of them hold the same value, 999, in 'x0' (6), 'x1' (12), each column's largest "
        "value: if they are readings saturated at an instrument's range, remove those rows "
        "(gate them out); if it is a code for a missing value, leave those cells empty (read "
        "as missing)")


def test_a_tied_fit_of_unequal_spreads_names_no_outliers():
    """QA72: two clean clusters of sds 0.32 and 2 fitted tied: 45% of the rows, the wide
    cluster's, were named outliers; full covariances explain them, as for diag and
    spherical."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.multivariate_normal([0, 0], np.eye(2) * 0.1, 500),
                   rng.multivariate_normal([8, 0], np.eye(2) * 4.0, 500)])
    em = fit_em(X, 2, covariance_type="tied", n_init=5, random_state=0)
    assert noise_evidence(em, X) is None
    x = np.r_[rng.normal(0, 0.3, 400), rng.normal(6, 3, 400)]  # one column: tied too
    assert noise_evidence(fit_em(x, 2, covariance_type="tied", n_init=5, random_state=0),
                          x) is None


def test_a_lone_components_bic_beside_a_flag_is_named_the_marginals():
    """QA84 L1: judged beside a flag column, "against this fit's 2,648.8" was the BIC of the
    fit's marginal over the other columns, not the fit's own (-915.4)."""
    from bayesgmm.outliers import NoiseEvidence

    lone = NoiseEvidence(rows=(7,), bic_without=2648.8, bic_with=2600.1, components=(2,),
                         degenerate=False, left_out=("sex",))
    text = lone.describe()
    assert "against this fit's marginal over those columns, 2,648.8" in text
    assert "(judged on the other columns: 'sex'" in text
    plain = NoiseEvidence(rows=(7,), bic_without=2648.8, bic_with=2600.1, components=(2,),
                          degenerate=False)
    assert "against this fit's 2,648.8" in plain.describe()


def test_the_fits_own_bic_is_quoted_only_on_the_data_it_was_fitted_to(monkeypatch):
    """QA89 M4: where columns of a few values were spread over their grids for the comparison,
    the hint scored the user's fit on the spread copy (436,513.0 for a fit collapsed on ties,
    beside its own 2,026.64) and said EM had stopped at a poorer optimum; the fit's own BIC is
    compared only where the refits' data are the fit's."""
    from bayesgmm import outliers

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2)), [[40.0, 40.0]]]
    em = fit_em(X, 2, random_state=0)
    plain = noise_evidence(em, X)
    assert plain is not None and plain.rows == (200,)
    # a spread copy that the fit does not describe (as a tie-collapsed fit does not)
    monkeypatch.setattr(outliers, "dequantised", lambda values: values * [1.0, 1.3])
    spread = outliers._noise_evidence(em, X, sample_weight=None, labels=None,
                                      missing="marginalise", min_delta_bic=10.0)
    assert spread is not None and spread.bic_fit is None
    assert "poorer optimum" not in spread.describe()


def test_a_far_value_is_named_with_its_column_as_a_possible_recording_error():
    """QA89 L6: a 10x typo (mass 7,629 g among 741-1,211) was named by its row only, and a
    log transform suggested; the hint names the column, the value and the other rows' range,
    and asks for the recording to be checked first. Many far rows (scattered noise) are not
    each a typo: nothing is added for them."""
    import warnings

    X = _typo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(X, 2, random_state=0)
    evidence = noise_evidence(em, X)
    assert evidence.rows == (37,)
    (row, column, value, low, high), = evidence.far_values
    assert (row, column, value) == (37, "x2", 112.0) and 10 < low < high < 20
    names = np.array([f"b{i:03d}" for i in range(len(X))])
    assert evidence.describe(names).endswith(
        f"Row b037's 'x2' is 112, the other rows' {low:.2f} to {high:.2f}: a recording error "
        "(a slipped decimal point, say) is worth checking before anything else")
    from bayesgmm.outliers import _far_values

    assert _far_values(X, (1, 2, 3, 37), ("x0", "x1", "x2")) == ()  # four rows: no typo hunt
    assert _far_values(X, (5,), ("x0", "x1", "x2")) == ()  # an ordinary row: nothing far


@pytest.mark.parametrize("factor", [1e4, 1e6])
def test_one_very_far_row_neither_collapses_the_clusters_nor_hides_the_hint(factor):
    """QA101: one value 1e4 sds out inflated the data's spread the collapse test compares
    with by 1e8 / N, so a noise fit's healthy clusters were "collapsed" (BIC "not
    comparable"), and the noise check, whose refit was that fit, named no row."""
    from bayesgmm.em import DegenerateComponentWarning, is_degenerate

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (150, 2)), rng.normal(4, 1, (150, 2))])
    X[0, 0] = factor * X[:, 0].std()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)
        noisy = fit_em(X, 2, noise=True, random_state=0)
    assert noisy.predict_proba(X[:1])[0, -1] > 0.99 and not is_degenerate(noisy, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = fit_em(X, 2, random_state=0, n_init=5)
        evidence = noise_evidence(plain, X)
    assert evidence is not None and 0 in evidence.rows


def test_a_noise_component_taking_most_of_the_rows_is_no_outlier_finding():
    """QA126 M2: four clean blobs fitted with K = 2: the noise refit took 47 of 60 rows and
    the verdict called them outliers, suppressing the richer-model hint; K = 3 and 4 have the
    lower BIC. Outliers are the few: the richer-model check speaks instead."""
    from bayesgmm.shape_evidence import shape_evidence

    rng = np.random.default_rng(0)
    blob = rng.normal(0, 1, size=(15, 2)) + [3, 3]
    turn = np.array([[0, -1], [1, 0]])
    X = np.vstack([blob, blob @ turn.T, blob @ turn.T @ turn.T, blob @ turn.T @ turn.T @ turn.T])
    em = fit_em(X, 2, random_state=0)
    assert noise_evidence(em, X) is None
    assert shape_evidence(em, X).better_components == 3


def test_copied_outlier_rows_are_listed_once_each():
    """QA132 L4: one far point written ten times was listed as eight separate outlier rows
    ("80 row(s) (10, 11, ..., 17, ...)"): the distinct rows are listed, each once."""
    from bayesgmm.outliers import NoiseEvidence, _distinct

    X = np.repeat(np.arange(20.0).reshape(10, 2), 10, axis=0)
    X[5, 1] = np.nan  # a gap makes its row another value
    rows = tuple(range(0, 40))
    assert _distinct(X, rows) == (0, 5, 10, 20, 30)
    assert _distinct(X, (0, 10, 20)) == ()
    evidence = NoiseEvidence(rows=rows, bic_without=10.0, bic_with=0.0,
                             distinct=_distinct(X, rows))
    text = evidence.describe()
    assert text.startswith("40 rows, 5 distinct (0, 5, 10, 20, 30, each with its copies), "
                           "fit a uniform noise component better")
    named = evidence.describe(row_names=[f"r{i}" for i in range(len(X))])
    assert named.startswith("40 rows, 5 distinct (r0, r5, r10, r20, r30, each")
    plain = NoiseEvidence(rows=(3, 4), bic_without=10.0, bic_with=0.0).describe()
    assert plain.startswith("2 row(s) (3, 4) fit a uniform")


# QA135: mutants that survived the tests mirroring their module, killed here

# U1-U3: one more component is weighed unless every row's component is known (-1 and NaN
# unknown; label 0 is known)
@pytest.mark.parametrize("labels, fits", [
    (None, True),
    (np.full(20, -1), True),
    (np.r_[np.zeros(10), np.full(10, -1)], True),
    (np.r_[np.zeros(10), np.full(10, np.nan)], True),
    (np.zeros(20, int), False),
    (np.r_[np.zeros(10), np.ones(10)], False),
])
def test_one_more_fits_unless_every_row_is_labelled(labels, fits):
    from bayesgmm.outliers import one_more_fits

    X = np.random.default_rng(0).normal(size=(20, 1))
    assert one_more_fits(fit_em(X, 1, random_state=0), labels) is fits


# U4, U5: the rule's edge: K + 1's free parameters at least two fewer than
# the rows (K = 1 to 2 in one dimension: 5 parameters; 6 rows are too few, 7 enough)
@pytest.mark.parametrize("rows, fits", [(6, False), (7, True)])
def test_one_more_fits_at_the_edge_of_the_rows(rows, fits):
    from bayesgmm.outliers import one_more_fits

    X = np.random.default_rng(0).normal(size=(rows, 1))
    assert one_more_fits(fit_em(X, 1, random_state=0)) is fits



def test_rows_of_weight_zero_are_never_named_outliers():
    """QA139: the noise hint named rows 100 and 101, of weight 0 (no rows at all), among its
    outliers."""
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal([0, 0], 1, (60, 2)), rng.normal([4, 3], [1, .5], (40, 2)),
                   [[40.0, -30.0], [-25.0, 60.0]], rng.uniform(-15, 20, (4, 2))])
    g = np.r_[np.ones(100), 0.0, 0.0, np.ones(4)]
    evidence = noise_evidence(fit_em(X, 2, sample_weight=g, random_state=0), X,
                              sample_weight=g)
    assert evidence is not None and not {100, 101} & set(evidence.rows)


def _two_clusters_and_a_background(seed=0):
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal([0, 0], 1, (400, 2)), rng.normal([6, 1], 1, (400, 2)),
                 rng.uniform([-15, -15], [20, 15], (30, 2))]


def test_a_broad_component_of_background_rows_is_an_outlier_component():
    """QA158 M3: a broad component spent on a scattered background has one mode with the
    cluster it overlaps, and the reports said to merge the two; it is the component that
    holds the rows the noise component takes."""
    from bayesgmm.modality import one_mode_groups

    X = _two_clusters_and_a_background()
    em = fit_em(X, 3, n_init=10, random_state=0)
    broad = int(np.argmax(np.linalg.det(em.covariances)))
    assert any(broad in group for group in one_mode_groups(em.weights, em.means,
                                                           em.covariances, "full"))
    evidence = noise_evidence(em, X)
    assert outlier_components(em, X, evidence) == (broad,)
    assert outlier_components(em, X, None) == ()
    clean = X[:800]
    fit = fit_em(clean, 2, random_state=0)
    assert outlier_components(fit, clean, noise_evidence(fit, clean)) == ()
