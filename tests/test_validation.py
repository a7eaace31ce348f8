"""Every bad input is refused with a ValueError that names the problem."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import COVARIANCE_TYPES

import bayesgmm
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
    """NaN is refused only under missing='refuse' (it is a missing value otherwise)."""
    bad = X.copy()
    bad[7, 1] = value
    bad[12, 0] = value
    with pytest.raises(ValueError, match=rf"2 NaN or infinite.*{kind} at row 7, column 1"):
        fit_em(bad, 2, missing="refuse")


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values_are_never_missing(X, value):
    bad = X.copy()
    bad[7, 1] = value
    bad[12, 0] = value
    with pytest.raises(ValueError, match=r"2 infinite value\(s\); the first at row 7, column 1"):
        fit_em(bad, 2)



def test_a_bad_cell_of_a_frame_is_named_by_its_row_label_and_column_name():
    """QA: an infinite value in a frame indexed by sample IDs was "row 0, column 1"."""
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, np.inf, 3.0]},
                         index=pd.Index(["p", "q", "r"], name="sample_id"))
    with pytest.raises(ValueError, match=r"the first at row 'q', column 'b'\."):
        check_data(frame, allow_nan=True)
    with pytest.raises(ValueError, match=r"at the row labelled 9 \(position 1\), column 'b'"):
        check_data(frame.set_axis([5, 9, 11]), allow_nan=True)
    with pytest.raises(ValueError, match=r"infinite at row 1, column 'b'\."):
        check_data(frame.reset_index(drop=True))

def test_non_finite_in_dataframe_names_row(X):
    df = pd.DataFrame(X, columns=["a", "b"])
    df.loc[3, "a"] = np.nan
    with pytest.raises(ValueError, match="NaN at row 3"):
        fit_em(df, 2, missing="refuse")
    assert fit_em(df, 2, random_state=0).observations["n_missing_values"] == 1


def test_three_dimensional_input(X):
    with pytest.raises(ValueError, match="1-D or 2-D.*got 3-D"):
        fit_em(X.reshape(5, 6, 2), 2)


@pytest.mark.parametrize("empty", [np.empty((0, 2)), np.empty((5, 0)), [], np.empty(0)],
                         ids=["no-rows", "no-columns", "list", "1d"])
def test_empty_input(empty):
    """Named, with what to give (QA144 L2: "X is empty: shape (0, 2)" and no fix)."""
    want = "column (feature)" if np.shape(empty)[1:] == (0,) else "row (sample)"
    with pytest.raises(ValueError, match=rf"X is empty: shape \(.*\); give at least one "
                                         rf"{re.escape(want)}: check the filter"):
        fit_em(empty, 1)


def test_fewer_points_than_components(X):
    with pytest.raises(ValueError,
                       match="3 point.*fewer than n_components=4.*give n_components at most 3"):
        fit_em(X[:3], 4)


@pytest.mark.parametrize("K", [1, 3])
def test_one_row_of_many_values_is_asked_whether_it_is_transposed(K):
    """QA91: 82 velocities passed as one row were told "give n_components at most 1"."""
    row = np.random.default_rng(0).normal(size=(1, 82))
    with pytest.raises(ValueError) as info:
        fit_em(row, K)
    assert str(info.value).endswith("check that each row is an observation (data given "
                                    "transposed: pass X.T)")


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
    with pytest.raises(ValueError, match="NaN at row 2, column 'a'"):
        fit_em(df, 1, missing="refuse")
    assert fit_em(df, 1).observations["n_missing_values"] == 1


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
    with pytest.raises(ValueError, match=r"finite and non-negative; it is -1 at row 4 \(1 such"):
        fit_em(X, 2, sample_weight=g)


def test_sample_weight_of_wrong_length(X):
    with pytest.raises(ValueError, match="sample_weight has 29 entries for 30 points; give "
                                         "one frequency weight per row of X"):
        fit_em(X, 2, sample_weight=np.ones(29))


def test_all_zero_sample_weight(X):
    with pytest.raises(ValueError, match="must not be all zero"):
        fit_em(X, 2, sample_weight=np.zeros(X.shape[0]))


def test_non_finite_sample_weight(X):
    g = np.ones(X.shape[0])
    g[0] = np.nan
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        fit_em(X, 2, sample_weight=g)


def test_sample_weights_whose_total_float64_cannot_count_are_refused(X, tmp_path):
    """QA: two weights of 1e308 overflowed EM (35 NumPy warnings, then "increase reg_covar");
    a total beyond 1e15 (float64 no longer adds one row to it) is refused in one line, in the
    API and for a file's weights column; 1e14 in all is fitted."""
    from bayesgmm.io import read_data

    g = np.ones(X.shape[0])
    g[3] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning on the way
        with pytest.raises(ValueError, match=r"sample_weight sum to 1e\+308 \(the largest, "
                                             r"1e\+308, at row 3\), beyond 1e\+15.*rescale"):
            fit_em(X, 2, sample_weight=g)
    (tmp_path / "w.csv").write_text("x,y,w\n" + "".join(f"{a},{b},{w:g}\n" for (a, b), w in
                                                        zip(X[:, :2], g, strict=True)))
    with pytest.raises(ValueError, match=r"the weights column 'w' of .*w\.csv sum to 1e\+308"):
        read_data(tmp_path / "w.csv", ["x", "y"], weights="w")
    fit_em(X, 2, sample_weight=np.full(X.shape[0], 1e14 / X.shape[0]), random_state=0)


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
    bad[2, 0] = np.inf
    with pytest.raises(ValueError, match="infinite value.*row 2"):
        getattr(fitted, method)(bad)
    bad[2, 0] = np.nan  # a missing value: the point is scored by its observed value
    assert np.all(np.isfinite(getattr(fitted, method)(bad)))
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


# --------------------------------------------------------------------------------------------
# singular columns (issue 11): named before fitting, with advice the caller can act on
# --------------------------------------------------------------------------------------------
def _with(X, name, values):
    df = pd.DataFrame(X, columns=["a", "b"])
    df[name] = values
    return df


@pytest.fixture(scope="module")
def wide():
    return np.random.default_rng(1).normal(size=(40, 2)) * [1.0, 30.0] + [5.0, 100.0]


SINGULAR = [
    (lambda X: X[:, 0], "columns 'a' and 'c' are identical"),
    (lambda X: 3 * X[:, 1] - 7, "columns 'b' and 'c' are collinear"),
    (lambda X: X[:, 0] + 2 * X[:, 1], "columns 'a', 'b', 'c' are linearly dependent"),
    # QA: "sd 0 ... rounding noise" for a column that varies on a scale float64 cannot square
    (lambda X: X[:, 0] * 1e-300, r"'c' \(values of magnitude .*\) vary on a scale below "
                                 r"1e-150, where variances underflow float64; rescale them"),
    (lambda X: 1e9 + X[:, 0] * 1e-6, r"'c' \(sd .* are numerically constant"),
    (lambda X: np.full(len(X), 4.0), "column\\(s\\) 'c' are constant"),
]


@pytest.mark.parametrize(("make", "message"), SINGULAR)
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_singular_columns_are_named(wide, make, message, covariance_type):
    df = _with(wide, "c", make(wide))
    assert re.search(message, validation.singular_columns(df.to_numpy(), list(df.columns),
                                                          covariance_type))


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_collinear_columns_are_fine_for_diagonal_covariances(wide, covariance_type):
    X = _with(wide, "c", wide[:, 0]).to_numpy()
    assert validation.singular_columns(X, ["a", "b", "c"], covariance_type) is None
    tiny = _with(wide, "c", wide[:, 0] * 1e-300).to_numpy()
    assert "variances underflow" in validation.singular_columns(tiny, ["a", "b", "c"],
                                                                covariance_type)


def test_ordinary_data_is_not_singular(wide, simulated):
    assert validation.singular_columns(wide, ["a", "b"]) is None
    X = simulated[0]
    assert validation.singular_columns(X, [f"x{j}" for j in range(X.shape[1])]) is None
    # Fewer points than features: singular by construction, not the columns' fault.
    assert validation.singular_columns(wide[:2], ["a", "b"]) is None
    # Big offsets with real spread (timestamps) are not rounding noise.
    t = np.column_stack([1.7e9 + np.arange(40.0), wide[:, 1]])
    assert validation.singular_columns(t, ["t", "b"]) is None


@pytest.mark.parametrize(("make", "message"), SINGULAR)
def test_fit_em_without_regularisation_refuses_and_names_reg_covar(wide, make, message):
    """Before: fit_em succeeded silently on identical or negligible columns."""
    df = _with(wide, "c", make(wide))
    with pytest.raises(ValueError, match=message + ".*pass reg_covar > 0"):
        fit_em(df, 2, reg_covar=0.0)
    with pytest.warns(UserWarning, match=message + ".*rests on reg_covar"):
        fit_em(df, 2, random_state=0)


@pytest.mark.parametrize(("make", "message"), SINGULAR)
def test_fit_bayes_names_singular_columns_before_fitting(wide, make, message, monkeypatch):
    """Before: "scale must be a symmetric positive-definite matrix", naming no column; and a
    constant column's advice named reg_covar, which fit_bayes does not take."""
    from bayesgmm import sampling

    def no_em(*args, **kwargs):
        raise AssertionError("EM started before the data were refused")

    monkeypatch.setattr(sampling, "fit_em", no_em)
    df = _with(wide, "c", make(wide))
    with pytest.raises(ValueError, match=message) as info:
        sampling.fit_bayes(df, 2)
    assert "reg_covar" not in str(info.value) and "drop or rescale" in str(info.value)


def test_estimator_names_singular_columns(wide):
    from bayesgmm import BayesianGMM

    with pytest.raises(ValueError, match="'a' and 'c' are identical"):
        BayesianGMM(2).fit(_with(wide, "c", wide[:, 0]))


# --------------------------------------------------------------------------------------------
# seeds (issue 11)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**64, 2**200, np.uint64(2**63)])
def test_any_non_negative_integer_is_a_seed(seed):
    assert validation.check_seed(seed) == int(seed)


@pytest.mark.parametrize("seed", [-1, -(2**70), 1.5, "1", True, [1]])
def test_other_seeds_are_refused_naming_the_argument(seed):
    with pytest.raises(ValueError, match="--seed must be a non-negative integer"):
        validation.check_seed(seed, "--seed")


def test_fit_em_refuses_a_bad_random_state_before_fitting(X):
    with pytest.raises(ValueError, match="random_state must be None, a non-negative integer"):
        fit_em(X, 2, random_state=-1)
    a = fit_em(X, 2, random_state=2**64)
    b = fit_em(X, 2, random_state=2**64)
    assert np.array_equal(a.means, b.means)


def test_sampler_seeds_fit_in_64_bits():
    from bayesgmm.sampling import _sampler_seed

    assert _sampler_seed(5) == 5 and _sampler_seed(2**63 - 1) == 2**63 - 1
    big = [_sampler_seed(2**64 + i) for i in range(3)]
    assert all(0 <= s < 2**63 for s in big) and len(set(big)) == 3


def test_a_run_without_a_seed_records_the_seed_it_drew(old_faithful):
    """Before: settings recorded random_state None, so the run could not be repeated; and a
    seed >= 2**64 raised OverflowError after EM had run."""
    from bayesgmm.sampling import fit_bayes

    kwargs = dict(draws=20, tune=20, chains=1, progressbar=False)
    first = fit_bayes(old_faithful, 2, **kwargs)
    seed = first.settings["random_state"]
    assert isinstance(seed, int) and first.settings["seed_drawn"] is True
    again = fit_bayes(old_faithful, 2, random_state=seed, **kwargs)
    assert again.settings["seed_drawn"] is False
    assert np.array_equal(first.posterior["means"].values, again.posterior["means"].values)
    big = fit_bayes(old_faithful, 2, random_state=2**64 + 1, **kwargs)
    assert big.settings["random_state"] == 2**64 + 1


# --------------------------------------------------------------------------------------------
# the one "is it a number" / "is it an int" test
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -3, 2.5, np.float32(0.5), np.int64(4), np.uint8(1),
                                   float("inf")])
def test_real_numbers_are_numbers(value):
    assert validation.is_number(value)
    assert validation.check_number(value, "x") == float(value)


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", None, 1j, np.complex128(1),
                                   [0.5], np.array([0.5])])
def test_other_things_are_not_numbers(value):
    assert not validation.is_number(value)
    with pytest.raises(ValueError, match=re.escape(f"x must be a number; got {value!r}")):
        validation.check_number(value, "x")


@pytest.mark.parametrize("value", [0.0, 1, float("nan"), 1.5])
def test_check_number_says_the_rule_it_checks(value):
    with pytest.raises(ValueError, match=r"^p must be a number in \(0, 1\); got "):
        validation.check_number(value, "p", lambda v: 0 < v < 1, "a number in (0, 1)")
    assert validation.check_number(np.float64(0.25), "p", lambda v: 0 < v < 1) == 0.25


def test_is_int_refuses_bools_and_floats_and_checks_the_minimum():
    assert validation.is_int(np.int64(3), 3) and validation.is_int(-5)
    assert not validation.is_int(2, 3) and not validation.is_int(True) \
        and not validation.is_int(2.0)
    with pytest.raises(ValueError, match=r"^k must be an integer >= 0; got -1$"):
        validation.check_int(-1, "k", 0)


@pytest.mark.parametrize("value", [True, "1e-3", "2"])
def test_positive_numbers_are_not_converted_from_bools_or_text(value):
    """QA: tol=True, noise_volume="2" and the like passed through float() silently."""
    from bayesgmm import fit_em
    from bayesgmm._validation import check_positive

    with pytest.raises(ValueError, match="must be a finite number >= 0; got"):
        check_positive(value, "tol", allow_zero=True)
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="noise_volume must be a positive finite number"):
        fit_em(X, 1, noise=True, noise_volume=value)


def test_a_data_frame_read_wrongly_from_a_file_is_named():
    """QA (messy files): a header-only file was "not numeric"; a semicolon file read with
    commas was fitted, on the digit fragments pandas made of its decimal commas."""
    with pytest.raises(ValueError, match=r"X has no rows \(columns \['x', 'y'\], no values\)"):
        check_data(pd.DataFrame({"x": pd.Series([], dtype=object),
                                 "y": pd.Series([], dtype=object)}))
    with pytest.raises(ValueError, match=r"one column named 'x;y'.*sep=';', decimal=','"):
        check_data(pd.DataFrame({"x;y": [436.0, 12.0, 7.0]}))
    with pytest.raises(ValueError, match=r"sep='\\t'"):
        check_data(pd.DataFrame({"x\ty": [1.0, 2.0]}))
    assert check_data(pd.DataFrame({"x": [1.0, 2.0]}))[0].shape == (2, 1)


# --------------------------------------------------------------------------------------------
# columns with very few distinct values (a flag or a code)
# --------------------------------------------------------------------------------------------
def _with_flag(n=200, seed=0, levels=2):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(19, 80, n).astype(float),
                         "sex": rng.integers(1, levels + 1, n).astype(float),
                         "bmi": rng.normal(26, 4, n)})


def test_a_binary_column_is_named_with_its_count_and_the_fix():
    """Before: sklearn's diabetes data (age, sex, bmi, bp), K=2: EM split the rows exactly by
    sex (sd at the floor), the posterior failed (R-hat 4), and nothing named the column."""
    from bayesgmm._validation import FewValuesWarning

    with pytest.warns(FewValuesWarning) as caught:
        fit_em(_with_flag(), 2, random_state=0)
    messages = [str(w.message) for w in caught if w.category is FewValuesWarning]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert messages[0].startswith("column 'sex' has only 2 distinct values (1, 2): ")
    assert "leave it out, or use it as known labels" in messages[0]
    assert "age" not in messages[0]  # integers with many values are not a code


@pytest.mark.parametrize(("levels", "warns"), [(3, True), (4, False)])
def test_few_values_means_three_or_fewer(levels, warns):
    found = validation.few_values_warning(_with_flag(levels=levels).to_numpy(),
                                          ["age", "sex", "bmi"])
    assert (found is not None) == warns
    X = _with_flag(levels=2).to_numpy().copy()
    X[:5, 1] = np.nan  # missing, not a third value
    assert "only 2 distinct values" in validation.few_values_warning(X, ["age", "sex", "bmi"])
    assert validation.few_values_warning(np.array([[0.0], [1.0], [0.0]]), ["x"]) is None


def test_integer_data_with_many_values_is_not_flagged(old_faithful):
    """Old Faithful's waiting (whole minutes) and ages are integers, not codes."""
    import warnings

    from bayesgmm._validation import FewValuesWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", FewValuesWarning)
        fit_em(old_faithful, 2, random_state=0)
        fit_em(_with_flag()[["age", "bmi"]], 2, random_state=0)


def test_the_command_line_names_a_binary_column_once(tmp_path):
    """As a user sees it: one line on stderr (pytest would catch the warning in-process)."""
    import subprocess
    import sys

    path = tmp_path / "flags.csv"
    _with_flag().to_csv(path, index=False)
    run = subprocess.run([sys.executable, "-m", "bayesgmm", "em", str(path), "-k", "2",
                          "--seed", "1", "--no-progress"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if "distinct values (" in line]
    assert lines == [lines[0]] and lines[0].startswith(
        "bayesgmm: warning: column 'sex' has only 2 distinct values (1, 2)")


def test_sparse_input_is_named():
    """QA (scripting): a scipy.sparse matrix was called "an array of dtype object" with the
    advice X.astype(float), which does not help."""
    import scipy.sparse as sp

    with pytest.raises(ValueError, match=r"^X is a sparse matrix, .*pass a dense array, "
                                         r"X\.toarray\(\)$"):
        check_data(sp.csr_matrix(np.eye(3)))


def test_a_single_row_is_named_as_such():
    """QA (scripting): one row with K=1 was blamed on constant columns."""
    from bayesgmm import fit_em

    for D in (1, 3):
        with pytest.raises(ValueError, match=r"^X has 1 point: a fit needs at least 2"):
            fit_em(np.ones((1, D)), 1)
    with pytest.raises(ValueError, match=r"fewer than n_components=2"):
        fit_em(np.ones((1, 3)), 2)
    gaps = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, np.nan], [np.nan, np.nan], [2.0, np.nan]])
    with pytest.raises(ValueError, match=r"^X has 1 point \(4 row\(s\) left out for missing "
                                         r"values\): a fit needs at least 2"):
        fit_em(gaps, 1, missing="drop")  # review: said "1 point" of five rows, without why


@pytest.mark.parametrize("columns", [["a", "a", "b"], [1, "1", "b"]])
def test_repeated_column_names_are_refused(columns):
    """QA: a DataFrame with two columns named "a" was fitted, and prediction, which matches
    columns by name, then failed with a confusing message; one name, one column."""
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=columns)
    with pytest.raises(ValueError, match=r"appear more than once; give every column its own "
                                         r"name"):
        fit_em(X, 2)


def test_a_long_value_is_named_not_printed_in_a_message():
    """Notebook QA: fit_em(2, X) put the whole DataFrame (15 lines) in the message."""
    import pandas as pd

    from bayesgmm import fit_em

    frame = pd.DataFrame({"a": range(50), "b": range(50)})
    with pytest.raises(ValueError) as info:
        fit_em(2, frame)
    assert str(info.value) == ("n_components must be an integer; got a DataFrame of shape "
                               "(50, 2) (the data? check the order of the arguments)")
    with pytest.raises(ValueError, match=r"got 2\.5$"):
        fit_em(frame, 2.5)


def test_data_that_look_transposed_are_said_to():
    """Notebook QA: fit_em(X.T, 2) fitted 2 rows of 272 features; the warning now says why
    that may be."""
    from bayesgmm import fit_em
    from bayesgmm.posterior import prior_dominated_note

    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.warns(UserWarning, match=r"fewer rows than features.*pass X\.T\)"):
        fit_em(X.T, 2, random_state=0)
    assert "pass X.T" in prior_dominated_note(2, 2, 40, "full")
    assert "X.T" not in prior_dominated_note(4, 5, 3, "full")


def test_rows_with_identical_twins_are_named_as_likely_copies(old_faithful):
    """QA75: every row of 200 written 3 times (a merge or export accident) gave an OK
    posterior with sds sqrt(3) too narrow and no word of it. QA78: real data copied (rounded
    values, natural ties) must be caught too, a balanced design of codes and one column not;
    QA76: rows the user weighs are the user's (copies too)."""
    import warnings

    from bayesgmm._validation import CopiedRowsWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    with pytest.warns(CopiedRowsWarning) as caught:
        fit_em(np.repeat(X, 3, axis=0), 2, random_state=0)
    message = str(caught[0].message)
    assert message.startswith("600 of the 600 rows have an identical twin (200 distinct rows)")
    assert "fit one of each" in message and "about 1.7x here" in message
    assert "\n" not in message
    faithful = old_faithful.to_numpy()
    assert validation.copied_rows_warning(np.r_[faithful, faithful]) is not None  # ties too
    assert validation.copied_rows_warning(np.r_[X, X + 1e-12]) is not None  # a round trip
    with warnings.catch_warnings():
        warnings.simplefilter("error", CopiedRowsWarning)
        fit_em(old_faithful, 2, random_state=0)  # its own ties
        fit_em(np.r_[X, X[:20]], 2, random_state=0)  # a few repeated rows
        fit_em(np.repeat(X, 3, axis=0), 2, random_state=0,
               sample_weight=np.ones(600))  # the user weighs the rows
        grid = np.repeat(np.array([[a, b] for a in range(5) for b in range(4)], float), 3,
                         axis=0)
        assert validation.copied_rows_warning(grid) is None  # a balanced design of codes
        assert validation.copied_rows_warning(np.repeat(X[:, :1], 2, axis=0)) is None  # 1-D


@pytest.mark.parametrize("eps", [3e-9, 3e-8, 3e-7])
def test_a_column_derived_to_seven_digits_is_refused_by_name(eps):
    """QA78: x2 = x0 + x1 + noise of 3e-9 to 1e-7 passed the input checks, then fit_bayes
    failed inside the prior ("scale must be a symmetric positive-definite matrix")."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    X = np.c_[X, X[:, 0] + X[:, 1] + rng.normal(0, eps, 400)]
    problem = validation.singular_columns(X, ["a", "b", "c"])
    assert problem == ("columns 'a', 'b', 'c' are linearly dependent (one is a linear "
                       "combination of the others to 7 digits or more)")
    X[:, 2] += rng.normal(0, 1e-4, 400)  # a relation to 4 digits: a column of its own
    assert validation.singular_columns(X, ["a", "b", "c"]) is None


def test_the_data_warnings_are_kept_in_the_fits_record(tmp_path):
    """QA77: the warnings about the data (a 0/1 column, copied rows) were on stderr only;
    em.json said "warnings": [] and no file named them. The fit's observations record keeps
    them, and a saved fit carries them."""
    import warnings

    import bayesgmm

    X = np.random.default_rng(0).normal(size=(100, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_em(np.repeat(X, 2, axis=0), 2, random_state=0)
    said = em.observations["data_warnings"]
    assert len(said) == 1 and said[0].startswith("200 of the 200 rows have an identical twin")
    em.save(tmp_path / "em")
    assert bayesgmm.load(tmp_path / "em").observations["data_warnings"] == said
    clean = fit_em(X, 2, random_state=0)
    assert clean.observations["data_warnings"] == []


def test_rows_named_twice_go_by_their_numbers_everywhere():
    """QA85 L6: an index that repeats "s1" reached the report's outlier rows, its uncertain
    rows and Verdict.outlier_rows (through the result's row_names), where no one could tell
    which "s1" was meant; the membership table already numbered such rows. Now the fit keeps
    no names for them, so every table and hint numbers them alike."""
    import pandas as pd

    from bayesgmm._validation import row_names
    from bayesgmm.observations import prepare_observations

    X = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) ** 2},
                     index=["s1", "s1", "s2", "s3", "s4", "s5"])
    kept = np.ones(6, dtype=bool)
    with pytest.warns(UserWarning, match=r"names some rows more than once \(5 distinct for 6 "
                                         r"rows\), so the reports and tables number the rows"):
        assert row_names(X, kept) is None
    with pytest.warns(UserWarning, match="more than once"):  # QA88: said where it is fitted
        assert prepare_observations(X, 2).row_names is None
    named = X.set_axis([f"s{i}" for i in range(6)])
    assert row_names(named, kept) == tuple(f"s{i}" for i in range(6))
    assert prepare_observations(named, 2).row_names == tuple(f"s{i}" for i in range(6))


@pytest.mark.parametrize("fit", ["fit_em", "fit_bayes"])
@pytest.mark.parametrize("columns", [1, 2])
def test_data_with_one_value_per_column_are_refused_alike(fit, columns):
    """QA91: a constant 1-D column was fitted by fit_em (with a warning to drop the column,
    the only one) and refused by fit_bayes; both now refuse it, saying there is nothing to
    cluster, before any fitting."""
    import bayesgmm

    X = np.tile([3.0, 2.5][:columns], (40, 1))
    X[5, 0] = np.nan  # missing values are no values
    with pytest.raises(ValueError) as info:
        getattr(bayesgmm, fit)(X, 2)
    said = "('x0' = 3)" if columns == 1 else "('x0' = 3, 'x1' = 2.5)"
    assert str(info.value) == (f"every row of X has the same value{'s' if columns > 1 else ''} "
                               f"{said}: there is nothing to cluster; check how the data were "
                               "read")


def test_rows_sharing_their_one_observed_value_are_no_copies(old_faithful):
    """QA92: half of Old Faithful's cells removed (each row keeping one value) made 157 of
    272 rows "identical twins", (NaN, 79) beside (NaN, 79): a missing cell matched every
    other. Only rows with two values or more observed are compared; copies still warn."""
    from bayesgmm._validation import copied_rows_warning

    X = old_faithful.to_numpy(float).copy()
    hole = np.random.default_rng(0).random(len(X)) < 0.5
    X[hole, 0] = np.nan
    X[~hole, 1] = np.nan
    assert copied_rows_warning(X) is None
    copies = np.repeat(old_faithful.to_numpy(float), 3, axis=0)
    copies[:30, 0] = np.nan  # a few rows with a gap: left out of the comparison, and said
    said = copied_rows_warning(copies)
    assert said is not None and " rows with two or more values observed have an identical " \
        "twin" in said


def test_the_copies_fact_is_the_warnings_first_clause_and_none_with_weights(old_faithful):
    """QA132 M2: advice that names the copies as a cause quotes how many there are; a weighted
    fit's rows are the user's choice, so there is none to quote."""
    from bayesgmm._validation import copied_rows_fact, copied_rows_warning

    copies = np.repeat(old_faithful.to_numpy(float), 3, axis=0)
    fact = copied_rows_fact(copies)
    assert fact == f"{len(copies)} of the {len(copies)} rows have an identical twin (" \
        f"{len(old_faithful.drop_duplicates())} distinct rows)"
    assert copied_rows_warning(copies).startswith(f"{fact}: if they are copies")
    assert copied_rows_fact(copies, np.ones(len(copies))) == ""
    assert copied_rows_fact(old_faithful.to_numpy(float)) == ""


def test_numbers_with_decimal_commas_get_advice_that_reads_them():
    """QA106: a frame read without decimal=',' was told to use pd.to_numeric, which raises on
    "0,777" (or, with errors="coerce", makes every value NaN)."""
    import io

    import pandas as pd

    frame = pd.read_csv(io.StringIO("a;b\n0,777;1,5\n1,2;2,5\n2,2;3,5\n"), sep=";")
    with pytest.raises(ValueError, match=r"\('0,777' is a number written with a decimal "
                                         r"comma: read the file with pd\.read_csv\(\.\.\., "
                                         r"decimal=','\)"):
        check_data(frame)
    # "1,234" may be a thousand written the English way: no claim of a decimal comma
    with pytest.raises(ValueError, match=r"pd\.to_numeric for numbers stored as text"):
        check_data(pd.DataFrame({"a": ["1,234", "2,345"], "b": [1.0, 2.0]}))


@pytest.mark.parametrize("X, said", [
    (None, r"^X is None, not data: give an array or a DataFrame of numbers"),
    ("data.csv", r"^X is the text 'data\.csv' \(a file name\?\), not data: read the file first"),
    ({"a": [1.0, 2.0]}, r"^X is a dict \(a mapping\), not data: .*pd\.DataFrame\(X\)"),
    ([{"a": 1.0}, {"a": 2.0}], r"^X is a list of records \(dicts\), not data: pass "
                               r"pd\.DataFrame\.from_records\(X\)"),
])
def test_what_is_no_data_at_all_is_named(X, said):
    """QA110: a fit result, None, a file name or records as X were "an array of dtype
    object ... convert it yourself (e.g. X.astype(float))", advice that fits none."""
    with pytest.raises(ValueError, match=said):
        check_data(X)


def test_one_row_as_a_dict_is_told_the_fix_that_works(old_faithful):
    """QA116 L1: a dict of single values (one row by name) was told "pass pd.DataFrame(X)",
    which pandas refuses for scalars; and an estimator first warned that X "does not have
    feature names", though the dict names every one."""
    from bayesgmm import EMGaussianMixture

    row = {"eruptions": 3.0, "waiting": 70.0}
    with pytest.raises(ValueError, match=r"^X is a dict \(a mapping\) of single values, not "
                                         r"data: .*pass pd\.DataFrame\(\[X\]\)$"):
        check_data(row)
    model = EMGaussianMixture(2, random_state=0).fit(old_faithful)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning before the refusal
        with pytest.raises(ValueError, match=r"pd\.DataFrame\(\[X\]\)"):
            model.predict_proba(row)
    assert model.predict_proba(pd.DataFrame([row])).shape == (1, 2)  # the fix works


def test_a_fitted_model_given_as_data_is_named(old_faithful):
    from bayesgmm import fit_em

    em = fit_em(old_faithful, 2, random_state=0)
    with pytest.raises(ValueError, match=r"^X is a fitted EMResult, not data: pass the data"):
        fit_em(em, 2)
    with pytest.raises(ValueError, match=r"^X is a fitted EMResult, not data"):
        em.predict(em)


def test_a_column_the_model_does_not_use_is_named_before_its_type(old_faithful):
    """QA110: an extra text column was told to be converted (pd.to_numeric), where the fix
    is to leave it out."""
    from bayesgmm import fit_em

    em = fit_em(old_faithful, 2, random_state=0)
    with pytest.raises(ValueError, match=r"\(not fitted \['site'\]\): give those columns, in "
                                         r"any order \(X\[\['eruptions', 'waiting'\]\]\)$"):
        em.predict(old_faithful.assign(site="north"))


@pytest.mark.parametrize("scale, warned", [(1.0, False), (12345.678, True), (0.5, False)])
def test_fractional_weights_summing_to_a_population_warn_as_design_weights(scale, warned):
    """QA134 H1: 100 respondents with design weights summing to 3,049,382 were fitted as that
    many observations (intervals 110x too narrow, BIC's choice the largest K), in silence.
    Fractional weights summing to several times the rows warn, with the rescaling; counts
    (whole numbers) and weights averaging about 1 do not."""
    import warnings

    from bayesgmm import fit_em
    from bayesgmm._validation import DesignWeightsWarning, design_weights_warning

    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal([0, 0], 1, (60, 2)), rng.normal([4, 3], [1, .5], (40, 2))])
    w = rng.integers(1, 5, len(X)) * scale
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        em = fit_em(X, 2, sample_weight=w, random_state=0)
    said = [str(c.message) for c in caught if c.category is DesignWeightsWarning]
    assert bool(said) is warned
    if warned:
        total = w.sum()
        assert said[0].startswith(f"the weights are not whole numbers and sum to {total:,.0f}, "
                                  f"{total / 100:,.0f} times the 100 rows of positive weight")
        assert said[0].endswith("scale them to sum to the number of rows (w * N / w.sum()), "
                                "which keeps their relative sizes")
        assert said[0] in em.observations["data_warnings"]
    counts = rng.integers(1, 50000, len(X)).astype(float)  # a census's counts: whole numbers
    assert design_weights_warning(counts) is None
    assert design_weights_warning(counts * (1 + 1e-13)) is None  # whole up to rounding
    assert design_weights_warning(np.r_[counts[:10] + 0.5, np.zeros(500)]) is not None
    # QA137 M2: one 2.5 among whole counts is no sign; weights summing to a small part of
    # the rows (probabilities) are, the other way
    assert design_weights_warning(np.r_[counts, 2.5]) is None
    small = design_weights_warning(np.full(300, 0.02))
    assert small.startswith("the weights are not whole numbers and sum to 6 for 300 rows of "
                            "positive weight: a fit counts each row as its weight")
    assert small.endswith("probabilities or importance weights, scale them to sum to the "
                          "number of rows (w * N / w.sum()), which keeps their relative sizes")
    assert design_weights_warning(np.full(300, 0.8)) is None  # about 1 each: normalised


def _events(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    events = rng.normal([60_000, 25_000, 200_000], [8_000, 5_000, 20_000], (n, 3))
    return np.clip(events, 0, 262_143)  # an instrument's range


@pytest.mark.parametrize(("spike", "said"), [
    ("max", "), each value its column's largest (events saturated at an instrument's range?): "
            "no Gaussian fits a point mass"),
    ("min max", "), each value its column's smallest or largest (values clipped at a limit?): "
                "no Gaussian"),
    ("inside", ") (a code for a missing value, or one record copied?): no Gaussian"),
])
def test_one_row_repeated_among_distinct_rows_is_named_a_point_mass(spike, said):
    """QA143 H1: 500 events saturated at 262143 in every channel (0.5% of the rows) merged
    into a 1% population, whose sd came out 12 times too wide, without a word."""
    X = _events()
    row = {"max": [262_143.0] * 3, "min max": [0.0, 262_143.0, 0.0],
           "inside": X[5]}[spike]
    X = np.vstack([X, np.tile(row, (30, 1))])
    X[-30:] = row
    with pytest.warns(bayesgmm.RepeatedRowWarning) as caught:
        fit_em(X, 2, random_state=0)
    text = next(str(w.message) for w in caught if w.category is bayesgmm.RepeatedRowWarning)
    times = 31 if spike == "inside" else 30  # row 5 itself, and its 30 copies
    assert text.startswith(f"{times} rows ({times / len(X):.2%}) are the same row (")
    assert said in text and "remove those rows (gate them out)" in text


def test_ties_of_rounded_values_and_a_few_copies_are_no_point_mass(old_faithful):
    """Rounded data tie rows often, with few distinct rows; a row or two copied is no
    spike: no warning."""
    from bayesgmm._validation import repeated_row_warning

    rng = np.random.default_rng(1)
    assert repeated_row_warning(old_faithful.to_numpy()) is None
    assert repeated_row_warning(np.round(rng.normal(size=(5000, 2)), 1)) is None
    X = _events()
    assert repeated_row_warning(np.vstack([X, np.tile(X[0], (8, 1))])) is None
    assert repeated_row_warning(X[:, :1]) is None
