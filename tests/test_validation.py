"""Every bad input is refused with a ValueError that names the problem."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import COVARIANCE_TYPES

from bayesgmm import _validation as validation
from bayesgmm import fit_em
from bayesgmm._validation import check_data


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(30, 2))


@pytest.fixture(scope="module")
def fitted(X):
    return fit_em(X, 2, random_state=0)


# --------------------------------------------------------------------------------------------
# the data
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "kind"), [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")]
)
def test_non_finite_values_name_kind_and_row(X, value, kind):
    bad = X.copy()
    bad[7, 1] = value
    bad[12, 0] = value
    with pytest.raises(ValueError, match=rf"2 NaN or infinite.*{kind} at row 7, column 1"):
        fit_em(bad, 2)


def test_non_finite_in_dataframe_names_row(X):
    df = pd.DataFrame(X, columns=["a", "b"])
    df.loc[3, "a"] = np.nan
    with pytest.raises(ValueError, match="NaN at row 3"):
        fit_em(df, 2)


def test_three_dimensional_input(X):
    with pytest.raises(ValueError, match="1-D or 2-D.*got 3-D"):
        fit_em(X.reshape(5, 6, 2), 2)


@pytest.mark.parametrize("empty", [np.empty((0, 2)), np.empty((5, 0)), [], np.empty(0)],
                         ids=["no-rows", "no-columns", "list", "1d"])
def test_empty_input(empty):
    with pytest.raises(ValueError, match="empty"):
        fit_em(empty, 1)


def test_fewer_points_than_components(X):
    with pytest.raises(ValueError, match="3 point.*fewer than n_components=4"):
        fit_em(X[:3], 4)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), r"dtype <U1 \(text\)"),
        ([[1.0, "x"], [2.0, "y"], [3.0, "z"]], r"dtype <U32 \(text\)"),
        (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": pd.Series(["u", "v", "w"], dtype=object)}),
         r"column 'b' is not numeric \(dtype object\)"),
        (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, {"k": 1}, 2.0]}),
         r"column 'b' is not numeric \(dtype object\)"),
    ],
    ids=["string-array", "mixed-list", "object-column", "dict-in-column"],
)
def test_non_numeric_data(data, match):
    with pytest.raises(ValueError, match=match):
        fit_em(data, 1)


# Numbers stored as text are refused, not parsed: nothing the caller passed is silently changed.
@pytest.mark.parametrize(
    ("data", "match"),
    [
        (pd.DataFrame({"a": pd.Series(["1.5", "2.0", "3.5"], dtype=object), "b": [1.0, 2.0, 3.0]}),
         r"X: column 'a' is not numeric \(dtype object\).*pd.to_numeric"),
        (pd.DataFrame({"a": ["1.5", "2.0", "3.5"], "b": [1.0, 2.0, 3.0]}),  # pandas' str dtype
         r"X: column 'a' is not numeric \(dtype str\)"),
        (pd.Series(["1.5", "2.0", "3.5"], name="height"), r"column 'height' is not numeric"),
        (np.array([["1.5", "2"], ["3", "4"], ["5", "6"]]),
         r"X must be numeric .*dtype <U3 \(text\).*X.astype\(float\)"),
        (np.array([[1.5, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=object),
         r"X must be numeric .*dtype object"),
        ([["1.5", "2"], ["3", "4"], ["5", "6"]], r"X must be numeric .*dtype <U3"),
    ],
    ids=["object-column", "str-column", "str-series", "str-array", "object-array", "str-list"],
)
def test_numbers_stored_as_text_are_refused(data, match):
    with pytest.raises(ValueError, match=match):
        fit_em(data, 1)


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (pd.Series([True, False, True]), r"column 'c' is boolean \(dtype bool\)"),
        (pd.Series([True, None, True], dtype="boolean"),
         r"column 'c' is boolean \(dtype boolean\)"),
        (pd.Series([1 + 1j, 2.0, 3.0]), r"column 'c' is not numeric \(dtype complex128\)"),
        (pd.Series([1.0, 2.0, 1.0], dtype="category"),
         r"column 'c' is not numeric \(dtype category\)"),
        (pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])),
         r"column 'c' is not numeric \(dtype datetime64"),
    ],
    ids=["bool", "nullable-bool", "complex", "category", "datetime"],
)
def test_boolean_and_other_non_real_columns_are_refused(column, match):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": column})
    with pytest.raises(ValueError, match=match):
        fit_em(df, 1)


@pytest.mark.parametrize(
    "data",
    [np.array([True, False, True]), np.array([1 + 1j, 2.0, 3.0]),
     np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[D]")],
    ids=["bool", "complex", "datetime"],
)
def test_boolean_and_other_non_real_arrays_are_refused(data):
    with pytest.raises(ValueError, match=f"X must be numeric .*dtype {re.escape(str(data.dtype))}"):
        fit_em(data, 1)


def test_every_non_numeric_column_is_named(X):
    df = pd.DataFrame({"a": ["1", "2"] * 15, "b": X[:, 0], "flag": [True, False] * 15})
    with pytest.raises(ValueError, match=r"column 'a' is not numeric \(dtype str\); "
                                         r"column 'flag' is boolean \(dtype bool\)\. .*them"):
        fit_em(df, 2)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "int32", "uint8", "float32"])
def test_integer_and_nullable_numeric_columns_are_accepted(dtype):
    df = pd.DataFrame({"a": pd.array([1, 2, 3, 4], dtype=dtype), "b": [0.5, 1.5, 0.0, 2.0]})
    out, names = check_data(df)
    np.testing.assert_array_equal(out, [[1, 0.5], [2, 1.5], [3, 0.0], [4, 2.0]])
    assert out.dtype == np.float64 and names == ("a", "b")


def test_missing_value_in_nullable_column_is_reported_as_nan():
    df = pd.DataFrame({"a": pd.array([1, 2, None, 4], dtype="Int64"), "b": [0.5, 1.5, 0.0, 2.0]})
    with pytest.raises(ValueError, match="NaN at row 2, column 0"):
        fit_em(df, 1)


def test_non_numeric_data_is_refused_when_scoring(fitted):
    with pytest.raises(ValueError, match=r"column 'x1' is not numeric \(dtype object\)"):
        fitted.score_samples(pd.DataFrame({"x0": [0.1, 0.2],
                                           "x1": pd.Series(["0.3", "0.4"], dtype=object)}))


# -- values too large for float64 arithmetic -------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("value", [1e150, -1e150, 3e200, np.finfo(float).max])
def test_values_too_large_to_square_name_the_column(X, covariance_type, value):
    df = pd.DataFrame(X, columns=["a", "b"])
    df.loc[4, "b"] = value
    # (before: "covariance ... not positive definite" or NaNs, depending on the start)
    expected = re.escape(f"(max |x| = {abs(value):.3g} in column 'b', row 4")
    with pytest.raises(ValueError, match=rf"X has values too large to square in float64 "
                                         rf"{expected}.*rescale the data"):
        fit_em(df, 2, covariance_type=covariance_type, init="random", random_state=0)


def test_values_too_large_in_an_array_and_when_scoring(X, fitted):
    bad = X.copy()
    bad[3, 0] = 2e150
    with pytest.raises(ValueError, match=r"max \|x\| = 2e\+150 in column 'x0', row 3"):
        fit_em(bad, 2)
    with pytest.raises(ValueError, match="too large to square"):
        fitted.predict(bad)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_large_but_safe_values_are_fitted(X, covariance_type):
    big = X * 1e148  # |x| ~ 3e148: below the limit, squares ~1e297
    result = fit_em(big, 2, covariance_type=covariance_type, reg_covar=0.0, random_state=0)
    assert np.all(np.isfinite(result.covariances)) and np.isfinite(result.log_likelihood)
    small = fit_em(X, 2, covariance_type=covariance_type, reg_covar=0.0, random_state=0)
    np.testing.assert_allclose(result.means / 1e148, small.means, rtol=1e-9)


def test_variance_overflow_names_the_column(monkeypatch):
    # Below 1e150 a variance only overflows for tens of millions of points; lift the limit to
    # reach that check with three.
    monkeypatch.setattr(validation, "MAX_ABS_VALUE", np.inf)
    data = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [-1e154, 0.0, 1e154]})
    with pytest.raises(ValueError, match=r"range too large for float64: the variance of column "
                                         r"'b' overflows.*rescale the data"):
        check_data(data)


# --------------------------------------------------------------------------------------------
# the parameters
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [0, -1])
def test_n_components_below_one(X, K):
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        fit_em(X, K)


@pytest.mark.parametrize("K", [2.5, 2.0, True, "2", None])
def test_n_components_not_an_integer(X, K):
    with pytest.raises(ValueError, match="n_components must be an integer"):
        fit_em(X, K)


def test_numpy_integer_n_components_is_accepted(X):
    assert fit_em(X, np.int64(2), random_state=0).n_components == 2


@pytest.mark.parametrize("covariance_type", ["Full", "tide", "", None])
def test_unknown_covariance_type(X, covariance_type):
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        fit_em(X, 2, covariance_type=covariance_type)


def test_unknown_init_string(X):
    with pytest.raises(ValueError, match="init must be one of.*got 'k-means'"):
        fit_em(X, 2, init="k-means")


@pytest.mark.parametrize("init", [3, [[0.0, 0.0], [1.0, 1.0]], None])
def test_init_of_wrong_kind(X, init):
    with pytest.raises(ValueError, match="init must be one of"):
        fit_em(X, 2, init=init)


@pytest.mark.parametrize("name", ["tol", "reg_covar"])
@pytest.mark.parametrize("value", [-1e-3, np.nan, np.inf])
def test_bad_tol_and_reg_covar(X, name, value):
    with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
        fit_em(X, 2, **{name: value})


@pytest.mark.parametrize("name", ["n_init", "max_iter"])
@pytest.mark.parametrize("value", [0, -2, 1.5, True])
def test_bad_n_init_and_max_iter(X, name, value):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1"):
        fit_em(X, 2, **{name: value})


@pytest.mark.parametrize("prior", ["mclust", 1.0])
def test_unknown_prior(X, prior):
    with pytest.raises(ValueError, match="prior must be None, 'default' or a ConjugatePrior"):
        fit_em(X, 2, prior=prior)


# --------------------------------------------------------------------------------------------
# sample weights
# --------------------------------------------------------------------------------------------
def test_negative_sample_weight(X):
    g = np.ones(X.shape[0])
    g[4] = -1.0
    with pytest.raises(ValueError, match="sample_weight must be finite, non-negative"):
        fit_em(X, 2, sample_weight=g)


def test_sample_weight_of_wrong_length(X):
    with pytest.raises(ValueError, match="sample_weight has 29 entries for 30 points"):
        fit_em(X, 2, sample_weight=np.ones(29))


def test_all_zero_sample_weight(X):
    with pytest.raises(ValueError, match="not all zero"):
        fit_em(X, 2, sample_weight=np.zeros(X.shape[0]))


def test_non_finite_sample_weight(X):
    g = np.ones(X.shape[0])
    g[0] = np.nan
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        fit_em(X, 2, sample_weight=g)


# --------------------------------------------------------------------------------------------
# constant columns
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_constant_column_without_reg_covar(X, covariance_type):
    df = pd.DataFrame(X, columns=["height", "site"])
    df["site"] = 4.0
    with pytest.raises(ValueError, match="'site' are constant"):
        fit_em(df, 2, covariance_type=covariance_type, reg_covar=0.0)


def test_constant_column_with_reg_covar_is_fitted(X):
    Xc = X.copy()
    Xc[:, 1] = 4.0
    result = fit_em(Xc, 2, random_state=0)
    assert np.all(np.isfinite(result.covariances))


# --------------------------------------------------------------------------------------------
# scoring a fitted model
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["score_samples", "score", "predict_proba", "predict", "bic",
                                    "aic"])
def test_wrong_number_of_features_when_scoring(X, fitted, method):
    with pytest.raises(ValueError, match="has 3 feature.*fitted with 2"):
        getattr(fitted, method)(np.hstack([X, X[:, :1]]))
    with pytest.raises(ValueError, match="has 1 feature.*fitted with 2"):
        getattr(fitted, method)(X[:, 0])


@pytest.mark.parametrize("method", ["score_samples", "predict_proba", "bic"])
def test_bad_data_when_scoring(X, fitted, method):
    bad = X.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN at row 2"):
        getattr(fitted, method)(bad)
    with pytest.raises(ValueError, match="empty"):
        getattr(fitted, method)(np.empty((0, 2)))


# --------------------------------------------------------------------------------------------
# check_data itself
# --------------------------------------------------------------------------------------------
def test_check_data_returns_a_private_contiguous_copy(X):
    F = np.asfortranarray(X)
    out, names = check_data(F)
    assert out.flags.c_contiguous and out.dtype == np.float64
    assert not np.shares_memory(out, F)
    assert names == ("x0", "x1")
    out, names = check_data(X.astype(np.float32))
    assert out.dtype == np.float64


def test_check_data_argument_name_in_message():
    with pytest.raises(ValueError, match="Y must be 1-D or 2-D"):
        check_data(np.zeros((2, 2, 2)), name="Y")
