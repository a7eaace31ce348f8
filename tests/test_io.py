"""Reading data files: numbers come back unchanged, anything else is refused by name."""

import re

import numpy as np
import pandas as pd
import pytest

from bayesgmm.io import read_table


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# numeric data
# --------------------------------------------------------------------------------------------
def test_numeric_csv_is_read_unchanged(tmp_path):
    path = write(tmp_path, 'a,b,c\n1,2.5,"3.25"\n-4,1e3,0\n')  # quoted numbers are numbers
    frame, dropped = read_table(path)
    assert dropped == 0 and list(frame.columns) == ["a", "b", "c"]
    assert (frame.dtypes == np.float64).all()
    np.testing.assert_array_equal(frame.to_numpy(), [[1.0, 2.5, 3.25], [-4.0, 1000.0, 0.0]])


def test_bundled_data_is_read(old_faithful):
    frame, dropped = read_table("bundled:old_faithful")
    assert dropped == 0
    np.testing.assert_array_equal(frame.to_numpy(), old_faithful.to_numpy(dtype=float))


# --------------------------------------------------------------------------------------------
# non-numeric columns: named, with an example value and its row
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,site\n1,3\n2,north\n3,4\n", r"\['site'\] .* not numeric: 'site' has 'north' in row 1"),
        ("a,b\n1,2\n2,3\n3,7O\n", r"\['b'\] .* not numeric: 'b' has '7O' in row 2"),  # letter O
        ("a,b\n1,2\n2,\"1,5\"\n", r"\['b'\] .* not numeric: 'b' has '1,5' in row 1"),
        ("a,b\n1,2\n2,n/a?\n3,\n", r"\['b'\] .* not numeric: 'b' has 'n/a\?' in row 1"),
    ],
    ids=["word", "typo", "decimal-comma", "odd-missing-marker"],
)
def test_non_numeric_text_names_column_value_and_row(tmp_path, text, match):
    with pytest.raises(ValueError, match=r"column\(s\) " + match):
        read_table(write(tmp_path, text))


def test_every_non_numeric_column_is_named(tmp_path):
    path = write(tmp_path, "a,b,c,d\n1,x,2,True\n2,3,y,False\n")
    with pytest.raises(ValueError, match=r"column\(s\) \['b', 'c', 'd'\] in .*data.csv are not "
                                         r"numeric: 'b' has 'x' in row 0; 'c' has 'y' in row 1; "
                                         r"'d' is boolean"):
        read_table(path)


def test_a_bad_column_left_out_is_not_read(tmp_path):
    path = write(tmp_path, "a,site,b\n1,north,2\n2,south,3\n")
    frame, _ = read_table(path, ["a", "b"])
    assert list(frame.columns) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,flag\n1,True\n2,False\n3,True\n", "'flag' is boolean"),
        ("a,flag\n1,true\n2,\n3,false\n", "'flag' has the boolean True in row 0"),
    ],
    ids=["complete", "with-missing"],
)
def test_boolean_columns_are_refused(tmp_path, text, match):
    # Not silently turned into 0/1: a mixture over flags is rarely what was meant.
    with pytest.raises(ValueError, match=r"column\(s\) \['flag'\] .* not numeric: " + match):
        read_table(write(tmp_path, text), dropna=True)


def test_parquet_text_columns_are_refused_even_when_they_hold_numbers(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "b": ["1.5", "2.5"], "c": [True, False]}).to_parquet(path)
    with pytest.raises(ValueError, match=r"\['b', 'c'\] .* 'b' holds numbers stored as text "
                                         r"\(dtype str\), e.g. '1.5' in row 0; 'c' is boolean"):
        read_table(path)


# --------------------------------------------------------------------------------------------
# values the fit would refuse are refused on reading
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1e150", "-2.5e200", "1.7e308"])
def test_values_too_large_to_square_name_the_column(tmp_path, value):
    path = write(tmp_path, f"a,b\n1,2\n3,{value}\n4,5\n")
    shown = f"{abs(float(value)):.3g}"
    with pytest.raises(ValueError, match=r"data.csv has values too large to square in float64 "
                                         + re.escape(f"(max |x| = {shown} in column 'b', row 1")
                                         + r".*rescale the data"):
        read_table(path)


def test_row_numbers_after_dropna_are_explained(tmp_path):
    path = write(tmp_path, "a,b\n1,\n3,4\n4,1e160\n")
    with pytest.raises(ValueError, match=r"in column 'b', row 1.*after dropping 1 with missing"):
        read_table(path, dropna=True)


def test_infinite_values_are_refused(tmp_path):
    with pytest.raises(ValueError, match="infinite at row 1, column 0"):
        read_table(write(tmp_path, "a,b\n1,2\ninf,3\n"))


def test_missing_values_and_empty_files(tmp_path):
    with pytest.raises(ValueError, match=r"1 row\(s\) .* have missing values \(first: row 1\)"):
        read_table(write(tmp_path, "a,b\n1,2\n3,\n"))
    frame, dropped = read_table(write(tmp_path, "a,b\n1,2\n3,\n5,6\n"), dropna=True)
    assert dropped == 1 and frame["a"].tolist() == [1.0, 5.0]
    with pytest.raises(ValueError, match="every row of .* has missing values"):
        read_table(write(tmp_path, "a,b\n1,\n,2\n"), dropna=True)
    with pytest.raises(ValueError, match="has no data rows"):
        read_table(write(tmp_path, "a,b\n"))


# --------------------------------------------------------------------------------------------
# specifications: paths relative to the spec, seeds checked before anything runs
# --------------------------------------------------------------------------------------------
def _spec(tmp_path, text):
    from bayesgmm.io import load_spec

    spec = tmp_path / "models" / "spec.toml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text('[data]\npath = "data.csv"\n[model]\nn_components = 2\n' + text)
    return load_spec(spec)


@pytest.mark.parametrize(("directory", "expected"), [
    ("out", "models/out"), ("../results/x", "results/x"), (".", "models"), ("../..", "..")])
def test_spec_output_is_relative_to_the_spec(tmp_path, monkeypatch, directory, expected):
    monkeypatch.chdir(tmp_path.parent)  # not the spec's folder: the spec's folder counts
    spec = _spec(tmp_path, f'[output]\ndirectory = "{directory}"\n')
    assert spec.output == str((tmp_path / expected).resolve())
    assert spec.data_path == str(tmp_path / "models" / "data.csv")


@pytest.mark.parametrize("seed", [-1, -(2**63)])
def test_spec_seed_must_be_non_negative(tmp_path, seed):
    with pytest.raises(ValueError, match=r"\[sampler\] seed must be a non-negative integer"):
        _spec(tmp_path, f"[sampler]\nseed = {seed}\n")


def test_spec_tune_must_be_non_negative(tmp_path):
    with pytest.raises(ValueError, match=r"\[sampler\] tune must be (an integer )?>= 0"):
        _spec(tmp_path, "[sampler]\ntune = -5\n")
