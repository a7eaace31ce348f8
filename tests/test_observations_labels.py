"""User label values (names, numbers, gaps) to component indices and names."""

import warnings

import numpy as np
import pandas as pd
import pytest

from bayesgmm.observations import encode_labels


def test_names_are_sorted_and_unknowns_are_minus_one():
    codes, names = encode_labels(["b", "", "a", None, "b", float("nan"), " a ", "-1"], 3)
    assert names == ("a", "b")
    np.testing.assert_array_equal(codes, [1, -1, 0, -1, 1, -1, 0, -1])
    assert codes.dtype == np.int64


def test_integer_labels_sort_numerically_and_minus_one_is_unknown():
    codes, names = encode_labels(np.array([10, 2, -1, 2, 0]), 3)
    assert names == ("0", "2", "10")
    np.testing.assert_array_equal(codes, [2, 1, -1, 1, 0])


def test_integer_csv_column_with_gaps_is_read_as_floats_but_named_as_integers(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("x,g\n0,1\n0,\n0,3\n0,1\n")  # a blank line is skipped: x
    column = pd.read_csv(path)["g"]
    assert column.dtype == np.float64  # what pandas does with a gap
    codes, names = encode_labels(column, 2)
    assert names == ("1", "3")
    np.testing.assert_array_equal(codes, [0, -1, 1, 0])


def test_nullable_and_categorical_pandas_columns():
    codes, names = encode_labels(pd.Series([1, None, 2], dtype="Int64"), 2)
    assert names == ("1", "2") and codes.tolist() == [0, -1, 1]
    codes, names = encode_labels(pd.Series(["x", None, "y"], dtype="category"), 2)
    assert names == ("x", "y") and codes.tolist() == [0, -1, 1]


def test_all_unknown_gives_no_names():
    codes, names = encode_labels(["", None, -1], 2)
    assert names == () and codes.tolist() == [-1, -1, -1]


def test_fewer_names_than_components_is_fine():
    codes, names = encode_labels(["a", "a", ""], 4)
    assert names == ("a",) and codes.tolist() == [0, 0, -1]


def test_more_names_than_components_is_one_line_naming_them():
    with pytest.raises(ValueError, match=r"name 3 groups \['a', 'b', 'c'\] but the mixture "
                                         r"has only 2 component") as info:
        encode_labels(["c", "a", "b", ""], 2)
    assert "\n" not in str(info.value)


def test_a_column_of_measurements_as_labels_is_refused_in_one_short_line():
    """QA: a numeric column given to --labels listed all 360 of its values (8,000 characters)
    and asked for K >= 360; it names a few and says what the column looks like."""
    values = np.random.default_rng(0).normal(size=360)
    with pytest.raises(ValueError) as info:
        encode_labels(values, 2)
    text = str(info.value)
    assert len(text) < 500 and "the labels name 360 groups (" in text and ", ...)" in text
    assert "looks like a column of measurements, not of known components" in text
    # a few groups too many: listed in full, with the fix
    with pytest.raises(ValueError, match=r"name 3 groups \['a', 'b', 'c'\] .* raise the number "
                                         r"of components to at least 3"):
        encode_labels(["a", "b", "c", "a", "b", "c", "a"], 2)


def test_two_dimensional_labels_are_refused():
    with pytest.raises(ValueError, match="one-dimensional"):
        encode_labels(np.zeros((3, 2)), 2)


# --------------------------------------------------------------------------------------------
# the one-sentence summary (CLI and report)
# --------------------------------------------------------------------------------------------
def test_sentence_is_empty_for_a_plain_fit():
    from bayesgmm.observation_record import observations_sentence

    assert observations_sentence(None) == ""
    assert observations_sentence({"n_rows": 10, "n_rows_dropped": 0, "n_missing_values": 0,
                                  "missing": "marginalise", "weighted": False, "n_labelled": 0,
                                  "noise": False}) == ""


def test_sentence_names_each_capability():
    from bayesgmm.observation_record import observations_sentence

    summary = {"n_rows": 97, "n_rows_dropped": 3, "n_missing_values": 12,
               "n_rows_with_missing": 10, "missing": "marginalise", "weighted": True,
               "n_labelled": 20, "noise": True, "noise_log_density": -np.log(250.0)}
    text = observations_sentence(summary, ("long", "short"))
    assert text == ("97 row(s) fitted; 12 missing value(s) in 10 row(s) integrated out "
                    "(missing at random assumed); 3 row(s) with no observed value dropped; "
                    "frequency weights; 20 row(s) with a known component: 0 = 'long', "
                    "1 = 'short'; a uniform noise component (volume 250)")
    dropped = observations_sentence({"n_rows": 7, "n_rows_dropped": 2, "missing": "drop"})
    assert dropped == '7 row(s) fitted; 2 row(s) with missing values (missing = "drop") dropped'


def test_label_names_are_kept_in_the_fit_record(old_faithful):
    import bayesgmm
    from bayesgmm.observation_record import name_labels, observations_record

    codes = np.where(old_faithful["eruptions"] > 3, 0, 1)
    codes[5:] = -1
    em = bayesgmm.fit_em(old_faithful, 2, labels=codes, random_state=0, n_init=1)
    name_labels(em, ("long", "short"))
    assert observations_record(em)["label_names"] == ["long", "short"]
    name_labels(em, ())  # no labels: nothing changes
    assert observations_record(em)["label_names"] == ["long", "short"]


@pytest.mark.parametrize(("missing", "cells", "why"), [
    ("marginalise", ["eruptions", "waiting"], "no observed value"),
    ("drop", ["waiting"], "a missing value (missing='drop')"),
])
def test_a_labelled_row_left_out_is_named(old_faithful, missing, cells, why):
    """QA: a row with a known label and no observed value was left out without a word (its
    label says something about the weights); the rows are named by the data's index."""
    from bayesgmm.observations import prepare_observations

    X = old_faithful.copy()
    X.index = [f"s{i}" for i in range(len(X))]
    X.iloc[[4, 9], [X.columns.get_loc(c) for c in cells]] = np.nan
    labels = np.full(len(X), -1)
    labels[[4, 20]] = [0, 1]  # row 9 is left out too, but unlabelled: no warning about it
    with pytest.warns(UserWarning, match=rf"^1 row\(s\) with a known label have "
                                         rf"{why.replace('(', r'\(').replace(')', r'\)')} and "
                                         r"are left out, their labels unused: row\(s\) s4"):
        obs = prepare_observations(X, 2, missing=missing, labels=labels)
    assert obs.n_rows_dropped == 2 and np.count_nonzero(obs.labels >= 0) == 1
    unlabelled = np.where(labels == 0, -1, labels)
    if missing == "marginalise":  # QA101: rows with nothing observed are named, each once
        with pytest.warns(UserWarning, match=r"^2 row\(s\) of X have no observed value "
                                             r"\(row\(s\) s4, s9\) and are left out"):
            prepare_observations(X, 2, missing=missing, labels=unlabelled)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rows dropped as asked (missing='drop'): no word
        prepare_observations(X, 2, missing=missing, labels=unlabelled)


def test_label_names_at_prediction_are_one_per_row():
    """Code review: names given to a fitted model as (N, 1) were flattened, as numbers and
    a fit's names are not."""
    from bayesgmm.observations import component_labels

    codes, names = component_labels(np.array(["b", "", "a"]), 2, fitted_names=("a", "b"))
    assert codes.tolist() == [1, -1, 0] and names == ("a", "b")
    with pytest.raises(ValueError, match=r"labels must be one-dimensional .* got shape \(3, 1\)"):
        component_labels(np.array([["b"], [""], ["a"]]), 2, fitted_names=("a", "b"))


def test_labels_that_differ_only_by_case_are_named_with_their_rows():
    """QA89 M3: one 'Araneus' among seven 'araneus' gave "raise the number of components to
    at least 3", naming no row; the message says which label differs only by case, on which
    rows (the data's own row names where it has them), and to fix the spelling. Where K
    leaves room for the extra group, a warning says the same."""
    import warnings

    import pandas as pd

    from bayesgmm.observations import encode_labels

    values = ["araneus"] * 7 + ["Araneus"] + ["minutus"] * 5 + [None]
    with pytest.raises(ValueError, match=r"'Araneus' \(row\(s\) 7\) differs from 'araneus' "
                                         r"\(7 rows\) only by case or spacing: fix the "
                                         r"spelling"):
        encode_labels(values, 2)
    named = pd.Series(values, index=[f"sh{i:02d}" for i in range(len(values))])
    with pytest.raises(ValueError, match=r"row\(s\) sh07\)"):
        encode_labels(named, 2)
    with pytest.warns(UserWarning, match="label 'Araneus' .* each is a group of its own"):
        encode_labels(values, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode_labels(["a", "b", None], 2)  # distinct names: nothing to say
    with pytest.raises(ValueError, match="raise the number of components to at least 3"):
        encode_labels(["a", "b", "c"], 2)


def test_new_rows_named_labels_mean_the_components_they_meant_in_the_fit():
    """QA123 H1: predicting with label names was refused with the advice to map them with
    encode_labels, which sorted the new rows' names afresh: a row known to be "short" became
    code 0, the fit's "long", and got probability 1 there. Now the advice and encode_labels
    code them by the fit's names; a fit that keeps its names takes the names themselves."""
    import bayesgmm
    from bayesgmm.observation_record import name_labels

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, 200), rng.normal(6, 1, 200)][:, None]
    kind = np.repeat(["long", "short"], 200).astype(object)
    kind[rng.random(400) > 0.1] = ""
    codes, names = encode_labels(kind, 2)
    assert names == ("long", "short")
    em = bayesgmm.fit_em(X, 2, labels=codes, random_state=0)
    new, new_labels = np.array([[6.1], [0.2]]), np.array(["short", ""], dtype=object)
    with pytest.raises(ValueError, match=r"code them as the fit's were, encode_labels\(labels, "
                                         r"2, names=<the names encode_labels gave"):
        em.predict_proba(new, labels=new_labels)
    new_codes, same = encode_labels(new_labels, 2, names=names)
    assert same == names and new_codes.tolist() == [1, -1]
    np.testing.assert_array_equal(em.predict_proba(new, labels=new_codes)[0], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"label 'tall' is not one the fit was given"):
        encode_labels(["tall"], 2, names=names)
    name_labels(em, names)  # as the estimators and --labels keep them
    assert em.label_names == names
    np.testing.assert_array_equal(em.predict_proba(new, labels=new_labels),
                                  em.predict_proba(new, labels=new_codes))


# QA125: mutants that survived the tests mirroring their module, killed here

# O2: a label equal to n_components is out of range (-1..K-1) and refused with the message.
def test_a_label_equal_to_n_components_is_refused():
    from bayesgmm.observations import check_labels
    with pytest.raises(ValueError, match=r"labels must be in -1\.\.2 .*got 3 at row 3 \(codes "
                                         r"that name groups are names: give them as text, "
                                         r"labels\.astype\(str\), or map them with "):
        check_labels(np.array([0, 1, 2, 3, -1]), 5, 3)  # QA123 L2: diagnoses coded 1..K


def test_numbers_are_component_indices_and_number_names_are_given_as_text():
    """A fit whose labels column held group codes 1 and 2 names component 0 "1". Numbers
    given at prediction are component indices, as everywhere in the API (the library passes
    its own codes so: QA131, read as names, memberships.csv and the report were lost); the
    names themselves are given as text."""
    import bayesgmm
    from bayesgmm.observation_record import name_labels

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, 100), rng.normal(6, 1, 100)][:, None]
    codes, names = encode_labels(np.repeat([1, 2], 100), 2)
    assert names == ("1", "2")
    em = bayesgmm.fit_em(X, 2, labels=codes, random_state=0)
    name_labels(em, names)
    new = np.array([[3.0], [3.0]])
    by_index = em.predict_proba(new, labels=np.array([0, 1]))
    np.testing.assert_array_equal(by_index[0], [1.0, 0.0])
    np.testing.assert_array_equal(em.predict_proba(new, labels=np.array(["1", "2"])),
                                  by_index)
    np.testing.assert_array_equal(bayesgmm.membership_table(em, X, labels=codes)["component"],
                                  codes)  # the library's own codes, as given


# QA135: mutants that survived the tests mirroring their module, killed here

# E4, E6: label names at prediction reach impute as they reach predict_proba; float codes
# (NaN unknown, a CSV column with blanks) stay indices beside a named fit
@pytest.mark.parametrize("method", ["predict_proba", "impute"])
def test_label_names_and_float_codes_at_prediction_are_the_fits(method):
    import bayesgmm
    from bayesgmm.observation_record import name_labels

    rng = np.random.default_rng(0)
    X = np.c_[np.r_[rng.normal(0, 1, 100), rng.normal(6, 1, 100)], rng.normal(0, 1, 200)]
    X[:, 1] += X[:, 0]  # the second column follows the component: imputation tells them
    codes, names = encode_labels(np.repeat(["long", "short"], 100), 2)
    em = bayesgmm.fit_em(X, 2, labels=codes, random_state=0)
    name_labels(em, names)
    new = np.array([[np.nan, 3.0], [np.nan, 3.0]])
    by_codes = getattr(em, method)(new, labels=np.array([1, 0]))
    assert not np.allclose(by_codes[0], by_codes[1])  # the labels matter here
    np.testing.assert_array_equal(
        getattr(em, method)(new, labels=np.array(["short", "long"], dtype=object)), by_codes)
    np.testing.assert_array_equal(getattr(em, method)(new, labels=np.array([1.0, 0.0])),
                                  by_codes)
