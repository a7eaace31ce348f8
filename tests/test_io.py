"""Reading data files: numbers come back unchanged, anything else is refused by name."""

import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from bayesgmm.io import read_data, read_table


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


def test_rows_ending_in_a_separator_are_not_shifted(tmp_path):
    """QA (messy files): "x,y" over rows "1,2," made pandas take x as the row index and read
    y's values as x, silently; a real extra value is refused, naming its line."""
    frame, _ = read_table(write(tmp_path, "x,y\n1,2,\n3,4,\n5,6,\n"))
    assert frame.to_dict("list") == {"x": [1.0, 3.0, 5.0], "y": [2.0, 4.0, 6.0]}
    with pytest.raises(ValueError, match=r"line 3 of .* has 3 values but the header names 2 "
                                         r"columns \(extra: '9'\)"):
        read_table(write(tmp_path, "x,y\n1,2,\n3,4,9\n"))
    with pytest.raises(ValueError, match=r"line 3 of .* has 3 values but the lines before it "
                                         r"have 2: give every row one value per column"):
        read_table(write(tmp_path, "x,y\n1,2\n3,4,7\n5,6\n"))


def test_a_row_with_fewer_values_than_the_header_is_refused(tmp_path):
    """QA: pandas read "1,3" under "x,y,z" as x=1, y=3, z=missing, silently: a value left
    out in the middle moved the rest one column left. An empty cell is a missing value."""
    with pytest.raises(ValueError, match=r"line 4 of .* has 2 value\(s\) but the header names "
                                         r"3 columns, .*empty cell for a missing value "
                                         r"\(e\.g\. '1,,3'\)$"):
        read_table(write(tmp_path, "x,y,z\n1,2,3\n\n4,6\n7,8,9\n"))
    frame, _ = read_table(write(tmp_path, "x,y,z\n1,2,3\n\n4,,6\n7,8,\n"))  # empty cells
    np.testing.assert_array_equal(frame.to_numpy(), [[1, 2, 3], [4, np.nan, 6], [7, 8, np.nan]])


def test_a_ragged_row_is_named_by_its_line_after_a_quoted_field_over_two_lines(tmp_path):
    """A quoted cell that holds a line break makes one row of two lines: the ragged row after
    it starts on line 4 (pandas, counting rows, and a scan counting rows named line 3)."""
    with pytest.raises(ValueError, match=r"^line 4 of .* has 4 values but the lines before it "):
        read_table(write(tmp_path, 'x,y,note\n1,2,"two\nlines"\n3,4,x,9\n'))
    with pytest.raises(ValueError, match=r"^line 4 of .* has 2 value\(s\) but the header names "
                                         r"3 columns"):
        read_table(write(tmp_path, 'x,y,z\n1,2,"3\n"\n4,6\n'))


def test_a_header_ending_in_a_separator_and_a_semicolon_file_are_read_or_named(tmp_path):
    """QA (verification): "x,y," as the header gave an error about column 'Unnamed: 2',
    which the file does not have; a semicolon file with decimal commas was told its rows
    had extra values instead of its separator."""
    frame, _ = read_table(write(tmp_path, "x,y,\n1,2,\n3,5,\n4,4,\n"))
    assert frame.to_dict("list") == {"x": [1.0, 3.0, 4.0], "y": [2.0, 5.0, 4.0]}
    with pytest.raises(ValueError, match="looks semicolon-separated"):
        read_table(write(tmp_path, "x;y\n0,126;-0,436\n-0,132;-1,170\n"))
    with pytest.raises(ValueError, match="looks semicolon-separated"):  # ragged as well
        read_table(write(tmp_path, "x;y\n0,126;-0,436\n-1;-1,170\n"))
    # QA106: names with commas split every line into as many comma fields: it was fitted on
    # the numbers' integer parts and decimals, without a word
    with pytest.raises(ValueError, match=r"looks semicolon-separated \(its header 'Größe, µm;"
                                         r"Temp, °C' and every row have 1 ';'\)"):
        read_table(write(tmp_path, "Größe, µm;Temp, °C\n1,02;10,04\n4,98;19,91\n"
                                   "1,10;10,2\n"))
    # QA106: one column of decimal commas was told to "name every column in the header"
    for text, first in (("size\n0,777\n1,540\n", "0,777"), ("a,b\n0,8,10,3\n1,2,9,5\n", "0,8")):
        with pytest.raises(ValueError, match=rf"look written with decimal commas \('{first}'\)"):
            read_table(write(tmp_path, text))
    frame, _ = read_table(write(tmp_path, "x;unit,y\n1,2\n3,4\n"))  # a ';' in a name only
    assert frame.columns.tolist() == ["x;unit", "y"]


def test_a_column_of_consecutive_ids_is_named_as_such(tmp_path):
    """QA (messy files): patient_id = 1000, 1001, ... was fitted as a feature without a word."""
    rows = "".join(f"{1000 + i},{i % 7 * 0.3:.1f},{(i * 5) % 11 * 0.2:.1f}\n" for i in range(20))
    with pytest.warns(UserWarning, match=r"column 'patient_id' of .* holds consecutive whole "
                                         r"numbers \(1000, 1001, \.\.\., 1019\), like row "
                                         r"IDs, .*--index patient_id"):
        table = read_data(write(tmp_path, "patient_id,a,b\n" + rows))
    assert list(table.features.columns) == ["patient_id", "a", "b"]  # kept: the user decides
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the columns named: the user has chosen, no warning
        read_data(write(tmp_path, "patient_id,a,b\n" + rows), columns=["a", "b"])
        # whole numbers that do not rise by 1 a row (a measurement) are not IDs
        read_data(write(tmp_path, "n,a\n" + "".join(f"{(i * 7) % 19},{i}.5\n"
                                                       for i in range(20))))


def test_padded_cells_and_names_are_read_as_meant(tmp_path):
    frame, _ = read_table(write(tmp_path, "x, y \n1, NA\n 2,3\n"))
    assert list(frame.columns) == ["x", "y"] and frame["y"].isna().tolist() == [True, False]


def test_thousands_separators_and_stray_text_get_their_own_hints(tmp_path):
    with pytest.raises(ValueError, match=r"'1,125.73' in row 0, line 2 of the file, a "
                                         r"number written with thousands separators: remove "
                                         r"them \(write 1125.73\)") as info:
        read_table(write(tmp_path, 'income,b\n"1,125.73",1\n"2,001",2\n'))
    assert "--index" not in str(info.value)  # not taken for row IDs
    # a number column with one stray cell: its line (blank lines skipped), no --index hint
    with pytest.raises(ValueError, match=r"'abc' in row 3, line 6 of the file\.") as info:
        read_table(write(tmp_path, "x,y\n1,2\n\n3,4\n5,6\n7,abc\n8,9\n"))
    assert "--index" not in str(info.value)
    with pytest.raises(ValueError, match="--index id"):  # text IDs still get it
        read_table(write(tmp_path, "id,y\nS1,2\nS2,4\nS3,5\n"))


def test_decimal_commas_and_missing_value_codes_get_their_own_hints(tmp_path):
    """QA62: "8,252" (8.252 g) was called a thousands separator, with advice that scaled it
    1000x; "3,5" got no word of decimal commas; '?', '-' and '.' came one per rerun; and
    "--index mass_g" was suggested where --index id was given."""
    with pytest.raises(ValueError, match=r"'3,5' in row id='A', a number written with a "
                                         r"decimal comma: write '\.' as the decimal mark "
                                         r"\(3\.5\).*no column would be left: check the file's "
                                         r"separator and decimal mark\)$") as info:
        read_data(write(tmp_path, "id\tm\nA\t3,5\nB\t4,25\n", "d.tsv"), index="id")
    assert "--index" not in str(info.value)
    with pytest.raises(ValueError, match=r"'8,252' in row 0, line 2 of the file: 8252 with a "
                                         r"thousands separator, or 8\.252 with a decimal comma"):
        read_table(write(tmp_path, 'm,b\n"8,252",1\n"7,996",2\n'))
    with pytest.raises(ValueError, match=r"'\?' in row 1, line 3 of the file \(and '-', '\.'\); "
                                         r"if these mark missing values, leave those cells "
                                         r"empty \(an empty cell or NA \(also NaN, n/a, "
                                         r"#N/A, null\) is read as missing\)"):
        read_table(write(tmp_path, "m,b\n1,1\n?,2\n-,3\n.,4\n?,5\n6,6\n7,7\n8,8\n"))


def test_bundled_data_is_read(old_faithful):
    frame, dropped = read_table("bundled:old_faithful")
    assert dropped == 0
    np.testing.assert_array_equal(frame.to_numpy(), old_faithful.to_numpy(dtype=float))
    # named as the user named it (QA93: by its file under site-packages)
    with pytest.raises(ValueError, match=r"^unknown column\(s\) \['nope'\] in "
                                         r"bundled:old_faithful; available"):
        read_table("bundled:old_faithful", ["nope"])


def test_bundled_galaxies_are_r_s_with_the_typo_the_docs_name(galaxies):
    """QA67: the bundled file keeps MASS's typo at R's 78th value; the docs say so and how to
    correct it, as mclust's analyses do."""
    import bayesgmm

    assert galaxies.shape == (82, 1) and galaxies.loc[77, "velocity"] == 26690
    assert 'X.loc[77, "velocity"] = 26960' in bayesgmm.load_galaxies.__doc__


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


@pytest.mark.parametrize(("text", "kwargs", "match"), [
    ("id,a,b\nx1,1,2\nx2,3,oops\n", {}, r"'b' has 'oops' in row id='x2'"),
    ("id,a,w\n101,1,1\n102,3,heavy\n", {"weights": "w"}, r"it has 'heavy' in row id='102'"),
    ("id,a,w\n101,1,1\n102,3,-2\n", {"weights": "w"}, r"it is -2 at row id='102'"),
    ("id,a,b\nx1,1,2\nx2,3,\n", {"missing": "refuse"}, r"\(first: row id='x2'\)"),
    ("id,a,b\nx1,1,2\nx2,3,inf\n", {}, r"'b' of .* is infinite at row id='x2'"),
], ids=["text", "weights", "negative-weight", "missing", "infinite"])
def test_with_an_index_column_errors_name_the_row_by_its_id(tmp_path, text, kwargs, match):
    with pytest.raises(ValueError, match=match):
        read_data(write(tmp_path, text), index="id", **kwargs)


def test_a_text_column_of_row_ids_is_suggested_as_the_index(tmp_path):
    with pytest.raises(ValueError, match=r"leave the column\(s\) out \(--columns a,b; .*"
                                         r"if 'id' names the rows, make it the index column "
                                         r"\(--index id"):
        read_data(write(tmp_path, "id,a,b\nx1,1,2\nx2,3,4\nx3,5,7\n"))
    with pytest.raises(ValueError) as info:  # repeated values: not row IDs, no hint
        read_data(write(tmp_path, "site,a\nnorth,1\nnorth,2\nsouth,3\n"))
    assert "index column" not in str(info.value)


def test_a_text_column_of_a_few_groups_is_suggested_as_the_labels(tmp_path):
    """QA: a species column was refused with "select other columns", naming neither the
    option that selects them nor the one that reads known groups."""
    groups = "".join(f"{'ab'[i % 2]},{i},{i * i}\n" for i in range(8))
    with pytest.raises(ValueError, match=r"if 'species' holds known groups, give it as the "
                                         r"labels column \(--labels species; labels = "):
        read_data(write(tmp_path, "species,a,b\n" + groups))
    with pytest.raises(ValueError) as info:  # mostly numbers with a stray cell: no hint
        read_data(write(tmp_path, "a,b\n1,2\n2,x\n3,4\n4,5\n5,x\n"))
    assert "--labels" not in str(info.value)


def test_the_suggested_flags_can_be_pasted_into_a_shell(tmp_path):
    """QA (iris as a CSV): names with spaces and brackets were suggested unquoted
    (``--columns sepal length (cm),...``), which a shell splits or refuses."""
    rows = "".join(f"{'ab'[i % 2]} c,{i},{i * i}\n" for i in range(8))
    with pytest.raises(ValueError) as info:
        read_data(write(tmp_path, "the species,length (cm),width (cm)\n" + rows))
    message = str(info.value)
    assert "--columns 'length (cm),width (cm)';" in message
    assert "--labels 'the species';" in message
    ids = "".join(f"row {i},{i},{i * i}\n" for i in range(4))
    with pytest.raises(ValueError, match=r"--index 'sample id';"):
        read_data(write(tmp_path, "sample id,a,b\n" + ids))


def test_every_non_numeric_column_is_named(tmp_path):
    path = write(tmp_path, "a,b,c,d\n1,x,2,True\n2,3,y,False\n")
    with pytest.raises(ValueError, match=r"column\(s\) \['b', 'c', 'd'\] in .*data.csv are not "
                                         r"numeric: 'b' has 'x' in row 0, line 2 of the file; "
                                         r"'c' has 'y' in row 1, line 3 of the file; "
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
    with pytest.raises(ValueError, match="column 'a' of .* is infinite at row 1, line 3 of "
                                         "the file .*leave the"):
        read_table(write(tmp_path, "a,b\n1,2\ninf,3\n"))


@pytest.mark.parametrize(("text", "match"), [
    ("1.5,2.0\n1.7,2.2\n", r"first line of .* is numbers \(1\.5, 2\.0\), not column names"),
    ("1,2,3,4\n5,6,7,8\n", r"\(1, 2, 3, \.\.\.\).*e\.g\. x1,x2,x3"),
    ("a,b,a\n1,2,3\n", r"names column\(s\) \['a'\] more than once"),
    ("0.5,\n1,2\n", r"first line of .* is numbers \(0\.5, \)"),  # a missing cell too
    ("NA,0.3\n1,2\n", r"first line of .* is numbers \(NA, 0\.3\)"),
])
def test_a_header_line_is_required_and_names_each_column_once(tmp_path, text, match):
    """pandas would take a data row as the header (losing it) or rename a repeated name
    to 'a.1': both are refused before anything is read."""
    with pytest.raises(ValueError, match=match):
        read_table(write(tmp_path, text))
    assert list(read_table(write(tmp_path, "x1,2020\n1,2\n"))[0].columns) == ["x1", "2020"]
    # numbers as names, when the caller names them: wavelengths, years
    frame, _ = read_table(write(tmp_path, "400,500,600\n1,2,3\n4,5,6\n"), ["400", "600"])
    assert list(frame.columns) == ["400", "600"] and len(frame) == 2


@pytest.mark.parametrize(("text", "match"), [
    ("# measured 2024\n# units: mm\nx,y\n1,2\n3,4\n", r"starts with '#' \('# measured 2024'\)"
     r": comment lines are not read; remove the lines above the header"),
    ("sep=,\nx,y\n1,2\n3,4\n", r"Excel's separator hint \('sep=,'\)"),
    ("sep=;\nx;y\n1;2\n3;4\n", r"Excel's separator hint \('sep=;'\)"),
    ("# units mm\nx\n1\n2\n", r"starts with '#' \('# units mm'\)"),  # one column (review)
    ("\ufeffsep=,\nx,y\n1,2\n", r"Excel's separator hint"),  # Excel's byte-order mark
    ("\ufeff# a comment\nx,y\n1,2\n", r"starts with '#'"),
])
def test_lines_above_the_header_are_named(tmp_path, text, match):
    """Comment lines and Excel's "sep=" hint used to be read as the header, and the file then
    refused for a reason it does not have ("line 3 has 2 values but the lines before it have
    1"; "column 'sep=' is not numeric")."""
    with pytest.raises(ValueError, match=match):
        read_table(write(tmp_path, text))
    # a header whose first name starts with '#' is a header
    frame, _ = read_table(write(tmp_path, "#id,x\n1,2\n3,4\n"))
    assert list(frame.columns) == ["#id", "x"] and len(frame) == 2


def test_missing_values_and_empty_files(tmp_path):
    with pytest.raises(ValueError, match=r"1 row\(s\) .* have missing values \(first: row 1, "
                                         r"line 3 of the file\)"
                                         r".*--missing marginalise or drop \(a spec.s \[data\]: "
                                         r"missing = \"marginalise\" or \"drop\"\)"):
        read_table(write(tmp_path, "a,b\n1,2\n3,\n"), missing="refuse")
    frame, dropped = read_table(write(tmp_path, "a,b\n1,2\n3,\n5,6\n"), dropna=True)
    assert dropped == 1 and frame["a"].tolist() == [1.0, 5.0]
    with pytest.raises(ValueError, match="every row of .* has missing values"):
        read_table(write(tmp_path, "a,b\n1,\n,2\n"), dropna=True)
    with pytest.raises(ValueError, match=r"has no data rows \(a header only\?\); give a file "
                                         "with a row of numbers"):
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


def test_a_file_that_is_not_utf8_is_named_with_the_fix(tmp_path):
    """QA (a pipeline): a Latin-1 CSV gave "'utf-8' codec can't decode byte 0xf6 in position
    2", naming neither the file nor what to do."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("sch\xf6n,b\n1,2\n3,4\n".encode("latin-1"))
    with pytest.raises(ValueError, match=re.escape(
            f"{path} is not UTF-8 text (invalid start byte: byte 0xf6 at position 3): give the "
            "encoding it was saved in, e.g. --encoding cp1252 for Excel's CSV on Windows (a "
            "spec's [data]: encoding = \"cp1252\"), or save it as CSV UTF-8")):
        read_data(path)


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16", "utf-16-le", "utf-8"])
def test_a_file_is_read_in_the_encoding_named_and_fingerprinted_as_written(tmp_path,
                                                                          encoding):
    """QA115 M1: German Excel's default CSV (Windows-1252) could only be refused, with iconv
    as the fix, which a lab's Windows PC does not have. Read with ``encoding`` it gives the
    numbers and names of the same table saved as UTF-8; the fingerprint is of the bytes."""
    import hashlib

    frame = pd.DataFrame({"Länge [µm]": [1.5, 2.25, 3.0, 4.5], "Temp °C": [20.0, 21.5, 19, 18]})
    text = frame.to_csv(index=False, sep=";", decimal=",").replace("\n", "\r\n")
    (tmp_path / "utf8.csv").write_bytes(text.encode("utf-8-sig"))
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(text.encode(encoding))
    expected = read_data(tmp_path / "utf8.csv", sep=";", decimal=",").features
    table = read_data(path, sep=";", decimal=",", encoding=encoding)
    pd.testing.assert_frame_equal(table.features, expected)
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_encoding_that_does_not_fit_the_file_is_one_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"unknown text encoding 'klingon': give a codec's "):
        read_data(path, encoding="klingon")
    for codec in ("rot13", "base64", "undefined"):  # QA128 M2: codecs, but not of text
        with pytest.raises(ValueError, match=rf"unknown text encoding '{codec}'"):
            read_data(path, encoding=codec)
    with pytest.raises(ValueError, match=r"'cp1252' \(what Windows calls ANSI in Western "):
        read_data(path, encoding="ANSI")
    path.write_bytes("a\u20ac,b\n1,2\n3,4\n".encode("cp1252"))  # the euro sign, 0x80 ...
    with pytest.raises(ValueError, match=r"x\.csv is not ascii text \(ordinal not in range"):
        read_data(path, encoding="ascii")  # ... is no ASCII
    path.write_bytes("K\u00e4lte,b\n1,2\n3,4\n".encode("utf-8-sig"))  # QA128 H3
    with pytest.raises(ValueError, match=r"x\.csv is UTF-8 text \(its bytes read as UTF-8, e\.g\. "
                                         r"'\u00e4'\), not cp1252: leave the encoding out"):
        read_data(path, encoding="cp1252")
    (tmp_path / "book.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(ValueError, match=r"is a ZIP archive"):  # never decoded into garbage
        read_data(tmp_path / "book.csv", encoding="cp1252")
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"separator, decimal mark, thousands separator and "
                                         r"encoding are a text file's; leave them out"):
        read_data(tmp_path / "t.parquet", encoding="cp1252")


def test_compressed_files_are_read_as_their_plain_text_in_any_encoding(tmp_path):
    """QA128 H1, M1: a .csv.gz whose last column had an empty cell was refused, naming
    binary garbage (the checks read the compressed bytes as text); and a compressed file
    in Windows-1252 was told to add --encoding, then to decompress it."""
    import bz2
    import gzip
    import lzma
    import zipfile

    text = "L\u00e4nge,b,c\n1.5,2,\n2.5,3,4\n3.5,4,5\n4.5,5,\n"
    (tmp_path / "plain.csv").write_text(text, encoding="utf-8")
    expected = read_data(tmp_path / "plain.csv").features
    for name, pack in (("t.csv.gz", gzip.compress), ("t.csv.bz2", bz2.compress),
                       ("t.csv.xz", lzma.compress)):
        (tmp_path / name).write_bytes(pack(text.encode("utf-8")))
        pd.testing.assert_frame_equal(read_data(tmp_path / name).features, expected)
        (tmp_path / f"w{name}").write_bytes(pack(text.encode("cp1252")))
        pd.testing.assert_frame_equal(
            read_data(tmp_path / f"w{name}", encoding="cp1252").features, expected)
    with zipfile.ZipFile(tmp_path / "t.csv.zip", "w") as archive:
        archive.writestr("t.csv", text)
        archive.writestr("__MACOSX/._t.csv", b"\x00\x05\x16\x07")  # Finder's (QA131 L2)
    pd.testing.assert_frame_equal(read_data(tmp_path / "t.csv.zip").features, expected)
    with zipfile.ZipFile(tmp_path / "tabs.zip", "w") as archive:  # its member says tabs
        archive.writestr("t.tsv", text.replace(",", "\t"))
    pd.testing.assert_frame_equal(read_data(tmp_path / "tabs.zip").features, expected)
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match=r"broken\.csv\.gz cannot be decompressed"):
        read_data(tmp_path / "broken.csv.gz")
    (tmp_path / "broken.csv.zip").write_bytes(b"PK\x03\x04 not really a zip")  # QA141 L5
    with pytest.raises(ValueError, match=r"broken\.csv\.zip cannot be decompressed"):
        read_data(tmp_path / "broken.csv.zip")


def test_a_compressed_file_is_streamed_and_one_copy_of_it_kept(tmp_path, monkeypatch):
    """QA131 M2: a .csv.gz was decompressed whole in memory (+43% peak over pandas' own
    reading), and every version read left its plain copy in the temp folder until exit. The
    copy is written from a stream; an unchanged file reuses it, a new version replaces it."""
    import gzip

    from bayesgmm.io import file_bytes

    def whole(*args, **kwargs):
        raise AssertionError("decompressed whole in memory")

    monkeypatch.setattr(gzip, "decompress", whole)
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n3,4\n5,6\n"))
    first = read_data(path).features

    def copy_of() -> str:
        (target,) = [t for (source, _), (_, t) in file_bytes._COPIES.items()
                     if source.endswith("t.csv.gz") and source.startswith(str(tmp_path))]
        return target

    copy = copy_of()
    read_data(path)  # unchanged: the same copy
    assert copy_of() == copy and os.path.isfile(copy)
    path.write_bytes(gzip.compress(b"a,b\n1,2\n3,4\n5,7\n"))
    assert read_data(path).features.iloc[-1, -1] == 7 != first.iloc[-1, -1]
    assert not os.path.exists(copy) and os.path.isfile(copy_of())  # the old one gone


def test_spec_figure_files(tmp_path):
    from bayesgmm.settings import FigureFiles

    assert _spec(tmp_path, "").figure_files == FigureFiles()
    spec = _spec(tmp_path, '[output]\ndpi = 300\nvector_formats = ["pdf", "svg"]\n')
    assert spec.figure_files == FigureFiles(300, ("pdf", "svg"))
    with pytest.raises(ValueError, match=r"\[output\] dpi must be between 50 and 1200"):
        _spec(tmp_path, "[output]\ndpi = 3\n")
    with pytest.raises(ValueError, match=r"\[output\] unknown vector format\(s\) \['png'\]"):
        _spec(tmp_path, '[output]\nvector_formats = "png"\n')
    # QA92: ignored beside report = false, where the flags are refused
    with pytest.raises(ValueError, match=r"\[output\] dpi and vector_formats shape the "
                                         r"report's figures, and report = false writes no "
                                         r"report: set report = true, or remove them$"):
        _spec(tmp_path, '[output]\nreport = false\ndpi = 300\nvector_formats = ["pdf"]\n')


@pytest.mark.parametrize("seed", [-1, -(2**63)])
def test_spec_seed_must_be_non_negative(tmp_path, seed):
    with pytest.raises(ValueError, match=r"\[sampler\] seed must be a non-negative integer"):
        _spec(tmp_path, f"[sampler]\nseed = {seed}\n")


def test_spec_tune_must_be_non_negative(tmp_path):
    with pytest.raises(ValueError, match=r"\[sampler\] tune must be an integer >= 0"):
        _spec(tmp_path, "[sampler]\ntune = -5\n")


def test_a_directory_given_as_the_data_is_named_as_one(tmp_path):
    """QA: `bayesgmm em /tmp -k 3` (and a spec's path = ".") said "data file not found"."""
    with pytest.raises(ValueError, match=re.escape(
            f"{tmp_path} is a directory, not a data file: give a CSV/TSV/Parquet file")):
        read_data(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\npath = "."\n[model]\nn_components = 2\n')
    from bayesgmm.io import load_spec

    with pytest.raises(ValueError, match=re.escape(
            f"[data] path '.' is a directory ({tmp_path.resolve()}), not a data file: give a "
            "CSV/TSV/Parquet file")):
        load_spec(spec)


def test_a_spec_with_a_byte_order_mark_is_read(tmp_path):
    """QA: a spec saved by Windows Notepad (UTF-8 with a BOM) was "not valid TOML ... line 1,
    column 1", while a CSV with a BOM was read; a file that is not UTF-8 is named as such."""
    from bayesgmm.io import load_spec

    write(tmp_path, "a,b\n1,2\n3,4\n")
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b'\xef\xbb\xbf[data]\npath = "data.csv"\n[model]\nn_components = 2\n')
    assert load_spec(spec).n_components == 2
    spec.write_bytes(b'[data]\npath = "\xff.csv"\n')
    with pytest.raises(ValueError, match="spec.toml is not UTF-8 text .*save the specification "
                                         "as UTF-8"):
        load_spec(spec)


# --------------------------------------------------------------------------------------------
# missing values, weights and labels columns
# --------------------------------------------------------------------------------------------
MISSING_CSV = "a,b,w,g\n1,2,1,x\n3,,2,\nNA,6,0.5,y\n7,8,1,-1\n9,NaN,3,x\n"


def test_missing_cells_are_nan_by_default_and_weights_labels_are_not_features(tmp_path):
    from bayesgmm.io import read_data

    table = read_data(write(tmp_path, MISSING_CSV), weights="w", labels="g")
    assert list(table.features.columns) == ["a", "b"] and table.missing == "marginalise"
    np.testing.assert_array_equal(table.features.to_numpy(),
                                  [[1, 2], [3, np.nan], [np.nan, 6], [7, 8], [9, np.nan]])
    assert table.n_dropped == 0 and table.n_missing_values == 3
    assert table.n_rows_with_missing == 3
    np.testing.assert_array_equal(table.sample_weight, [1, 2, 0.5, 1, 3])
    assert table.labels.iloc[[0, 2, 3, 4]].tolist() == ["x", "y", "-1", "x"]
    assert pd.isna(table.labels.iloc[1])
    frame, dropped = read_table(write(tmp_path, "a,b\n1,2\n3,\n"))
    assert dropped == 0 and np.isnan(frame.iloc[1, 1])


def test_drop_keeps_weights_and_labels_aligned(tmp_path):
    from bayesgmm.io import read_data

    table = read_data(write(tmp_path, MISSING_CSV), missing="drop", weights="w", labels="g")
    assert table.n_dropped == 3
    np.testing.assert_array_equal(table.features.to_numpy(), [[1, 2], [7, 8]])
    np.testing.assert_array_equal(table.sample_weight, [1, 1])
    assert table.labels.tolist() == ["x", "-1"]


def test_dropna_is_an_alias_of_drop_and_contradictions_are_refused(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,\n5,6\n")
    assert read_table(path, dropna=True)[1] == read_table(path, missing="drop")[1] == 1
    with pytest.raises(ValueError, match="contradicts missing='refuse'"):
        read_table(path, dropna=True, missing="refuse")
    with pytest.raises(ValueError, match="missing must be one of marginalise, drop, refuse"):
        read_table(path, missing="impute")


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        ("a,w\n1,1\n2,-1\n", {"weights": "w"}, r"column 'w' .* non-negative; it is -1 at row 1"),
        ("a,w\n1,1\n2,\n", {"weights": "w"}, r"it is missing \(NaN\) at row 1"),
        ("a,w\n1,0\n2,0\n", {"weights": "w"}, "weights column 'w' .* must not be all zero"),
        ("a,w\n1,1\n2,heavy\n", {"weights": "w"},
         "'w' .* not numeric: it has 'heavy' in row 1, line 3 of the file: "
         r"give every row a number \(0 leaves a row out\), or name another column as the "
         "weights$"),  # the fix too (QA134 L2)
        ("a,b\n1,1\n2,2\n", {"weights": "nope"}, r"unknown column\(s\) \['nope'\]"),
        ("a,b\n1,1\n2,2\n", {"labels": "g"}, r"unknown column\(s\) \['g'\]"),
        ("a,b\n1,1\n2,2\n", {"weights": "b", "labels": "b"}, "both the weights and the labels"),
        ("a,b\n1,1\n2,2\n", {"weights": "b", "columns": ["a", "b"]},
         "'b' is the weights column, not a feature"),
        ("a,g\n1,x\n2,y\n", {"labels": "g", "columns": ["g"]}, "'g' is the labels column"),
        ("w\n1\n2\n", {"weights": "w"}, "no feature columns besides"),
        ("a,b\n1,\n2,\n", {}, r"column\(s\) \['b'\] .* have no values at all"),
        ("a,w\n,1\n1,0\n2,0\n", {"weights": "w", "missing": "drop"},
         r"^every weight in column 'w' .* is zero once the 1 row"),
    ],
    ids=["negative", "missing-weight", "all-zero", "text-weight", "unknown-weights",
         "unknown-labels", "same-column", "weights-as-feature", "labels-as-feature",
         "no-features", "empty-feature", "zero-after-drop"],
)
def test_bad_weights_labels_and_columns_are_one_line(tmp_path, text, kwargs, match):
    from bayesgmm.io import read_data

    kwargs = dict(kwargs)
    columns = kwargs.pop("columns", None)
    with pytest.raises(ValueError, match=match) as info:
        read_data(write(tmp_path, text), columns, **kwargs)
    assert "\n" not in str(info.value)


def test_values_are_still_checked_where_cells_are_missing(tmp_path):
    with pytest.raises(ValueError, match="column .b. of .* is infinite at row 2"):
        read_table(write(tmp_path, "a,b\n1,\n,3\n4,inf\n"))


def _data_spec(tmp_path, data_lines):
    from bayesgmm.io import load_spec

    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\npath = "data.csv"\n' + data_lines + '\n[model]\nn_components = 2\n')
    return load_spec(spec)


def test_spec_observation_keys(tmp_path):
    spec = _data_spec(tmp_path, 'missing = "drop"\nweights = "w"\nlabels = "g"\nnoise = true\n'
                                'noise_volume = 12')
    assert (spec.missing, spec.weights, spec.labels, spec.noise, spec.noise_volume) == \
        ("drop", "w", "g", True, 12.0)
    assert spec.dropna
    default = _data_spec(tmp_path, "")
    assert (default.missing, default.weights, default.labels, default.noise,
            default.noise_volume, default.dropna) == ("marginalise", None, None, False, None,
                                                      False)
    assert _data_spec(tmp_path, "dropna = true").missing == "drop"


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ('missing = "impute"', r"\[data\] missing must be one of 'marginalise', 'drop', "
                               r"'refuse'; got 'impute'"),
        ('missing = "refuse"\ndropna = true', r"dropna = true means missing = \"drop\"; it "
                                              r"contradicts missing = 'refuse'"),
        ("noise_volume = 3.0", "noise_volume needs noise = true"),
        ("noise = true\nnoise_volume = 0", "noise_volume must be a finite number > 0"),
        ("noise = true\nnoise_volume = -inf", "noise_volume must be a finite number > 0"),
        ('noise = "yes"', r"\[data\] noise must be bool"),
        ("weights = 3", r"\[data\] weights must be str"),
        ('weights = " "', r"\[data\] weights must name a column"),
        ('columns = ["a", "g"]\nlabels = "g"', "labels column 'g' is not a feature"),
    ],
    ids=["policy", "dropna-contradiction", "volume-without-noise", "zero-volume", "inf-volume",
         "noise-type", "weights-type", "blank-weights", "labels-in-columns"],
)
def test_bad_spec_observation_keys(tmp_path, lines, match):
    with pytest.raises(ValueError, match=match):
        _data_spec(tmp_path, lines)


# --------------------------------------------------------------------------------------------
# a column of row IDs (--index, [data] index)
# --------------------------------------------------------------------------------------------
ID_CSV = "sample_id,a,b,g\nS1,1,2,x\nS2,3,,\nS3,5,6,y\nS4,7,8,x\n"


def test_an_index_column_names_the_rows_and_is_not_a_feature(tmp_path):
    from bayesgmm.io import read_data

    path = write(tmp_path, ID_CSV)
    table = read_data(path, index="sample_id", labels="g")
    assert list(table.features.columns) == ["a", "b"] and table.index_column == "sample_id"
    assert list(table.features.index) == ["S1", "S2", "S3", "S4"]
    assert table.features.index.name == "sample_id"
    assert list(table.labels.index) == ["S1", "S2", "S3", "S4"]
    # dropped rows take their IDs with them: the rows left keep their own names
    dropped = read_data(path, index="sample_id", labels="g", missing="drop")
    assert list(dropped.features.index) == ["S1", "S3", "S4"] and dropped.n_dropped == 1
    assert list(dropped.labels) == ["x", "y", "x"]
    # numbers are IDs too; a DataFrame's index is what the fits name rows by
    numbered = read_data(write(tmp_path, "id,a\n10,1\n20,2\n30,4\n", "n.csv"), index="id")
    assert list(numbered.features.index) == ["10", "20", "30"]
    # read as written (downstream QA: "007" came back as 7, and half a join on IDs failed)
    zeros = read_data(write(tmp_path, "id ,a\n007,1\n010,2\n1e3,4\n", "z.csv"), index="id")
    assert list(zeros.features.index) == ["007", "010", "1e3"]
    # a Parquet file with a saved pandas index: that index is the column
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 5.0]},
                         index=pd.Index(["p", "q"], name="sample_id"))
    frame.to_parquet(tmp_path / "d.parquet")
    parquet = read_data(tmp_path / "d.parquet", index="sample_id")
    assert list(parquet.features.index) == ["p", "q"] and list(parquet.features.columns) == \
        ["a", "b"]
    # without index=: numbered in file order, as the docstring says and memberships.csv
    # numbers them (QA64: hints named rows "p", "q" while memberships.csv had 0, 1), and said
    with pytest.warns(UserWarning, match=r"row index \('sample_id'\) that is not used.*"
                      r"--index sample_id"):
        unnamed = read_data(tmp_path / "d.parquet")
    assert list(unnamed.features.index) == [0, 1]
    frame.reset_index(drop=True).to_parquet(tmp_path / "plain.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a plain RangeIndex: nothing to say
        assert list(read_data(tmp_path / "plain.parquet").features.index) == [0, 1]


def test_ids_and_label_names_spelled_like_missing_values_are_kept(tmp_path):
    """QA62: pandas reads "NA", "None", "nan" as missing. The IDs "NA" and "None" were
    refused as empty cells; the label "NA" (North America) became unknown in silence."""
    from bayesgmm.io import read_data

    ids = read_data(write(tmp_path, "id,a\nNA,1\nNone,2\nnan,4\nS4,5\n"), index="id")
    assert list(ids.features.index) == ["NA", "None", "nan", "S4"]
    names = "id,a,g\nS1,1,NA\nS2,2,EU\nS3,4,\nS4,5,NA\nS5,6,\n"  # unknown: empty
    with pytest.warns(UserWarning, match=r"2 cell\(s\) of the labels column 'g' .* read 'NA': "
                      r"taken as label name\(s\), since the column marks its unknown rows "
                      r"with empty cells"):
        table = read_data(write(tmp_path, names, "n.csv"), index="id", labels="g")
    assert list(table.labels.fillna("?")) == ["NA", "EU", "?", "NA", "?"]
    r_names = "id,a,g\nS1,1,NA\nS2,2,EU\nS3,4,AS\n"  # R's write.csv: NA is its unknown
    with pytest.warns(UserWarning, match=r"read 'NA': taken as unknown .* rename it in the "
                      r"file"):
        table = read_data(write(tmp_path, r_names, "r.csv"), index="id", labels="g")
    assert table.labels.isna().tolist() == [True, False, False]
    with warnings.catch_warnings():  # component indices with R's NA: unknown, in silence
        warnings.simplefilter("error")
        table = read_data(write(tmp_path, "a,g\n1,0\n2,NA\n3,1\n4,\n", "i.csv"), labels="g")
    assert table.labels.isna().tolist() == [False, True, False, True]


@pytest.mark.parametrize(("text", "kwargs", "match"), [
    ("sample_id,a\nS1,1\nS2,2\nS1,3\nS3,4\nS3,5\nS4,6\n", {},
     r"the index column 'sample_id' of .* names 2 ID\(s\) more than once: 'S1' \(rows 0, 2\); "
     r"'S3' \(rows 3, 4\)"),
    # one ID on many rows: a few of them and a count, not each (QA: a 1,500-character line)
    ("sample_id,a\n" + "".join(f"S,{i}\n" for i in range(400)), {},
     r"names 1 ID\(s\) more than once: 'S' \(rows 0, 1, 2 and 397 more\) \(rows count"),
    (ID_CSV, {"index": "id"},
     r"the index column 'id' is not in .*; its columns are \['sample_id', 'a', 'b', 'g'\]"),
    ("sample_id,a\nS1,1\n,2\nS3,4\n", {}, r"index column 'sample_id' .* has 1 empty or missing "
                                         r"\(NA\) cell\(s\) \(first: row 1"),
    # R's NA among whole-number IDs is a missing ID, not one named "NA" twice (QA138 L2)
    ("sample_id,a\n1,1\nNA,2\n3,4\nNA,5\n", {}, r"has 2 empty or missing \(NA\) cell\(s\) "
                                              r"\(first: row 1"),
    (ID_CSV, {"columns": ["a", "sample_id"]}, "'sample_id' is the index column, not a feature"),
    (ID_CSV, {"labels": "sample_id"}, "cannot be both the labels and the index column"),
], ids=["duplicates", "one-id-everywhere", "missing-column", "empty-id", "na-id",
        "id-as-feature", "id-as-labels"])
def test_bad_index_columns_are_refused_by_name(tmp_path, text, kwargs, match):
    from bayesgmm.io import read_data

    with pytest.raises(ValueError, match=match) as info:
        read_data(write(tmp_path, text), **{"index": "sample_id", **kwargs})
    assert "\n" not in str(info.value)


def test_spec_index_key(tmp_path):
    assert _data_spec(tmp_path, 'index = "sample_id"').index == "sample_id"
    assert _data_spec(tmp_path, "").index is None
    with pytest.raises(ValueError, match="index column 'id' is not a feature"):
        _data_spec(tmp_path, 'columns = ["a", "id"]\nindex = "id"')
    with pytest.raises(ValueError, match=r"\[data\] index must name a column"):
        _data_spec(tmp_path, 'index = ""')


@pytest.mark.parametrize(("lines", "match"), [
    ("tune = 0", r'\[sampler\] tune must be >= 1 with nutpie .* give tune = 1 or more, or '
                 r'name = "pymc"'),
    ("chains = 1", r'\[sampler\] draws = "auto" samples until R-hat.* give chains = 2 or more'),
])
def test_spec_sampler_settings_the_sampler_cannot_run_are_refused_on_loading(tmp_path, lines,
                                                                              match):
    """QA: a spec with tune = 0 (nutpie) or chains = 1 (draws auto) was read, its data printed,
    and only then refused by the fit."""
    with pytest.raises(ValueError, match=match):
        _spec(tmp_path, f"[sampler]\n{lines}\n")
    _spec(tmp_path, '[sampler]\nname = "pymc"\ntune = 0\nchains = 1\n')  # PyMC runs them


@pytest.mark.parametrize(("line", "match"), [
    ("target_accept = 1", r"target_accept must be a number in \(0, 1\); got 1"),
    ("target_accept = 0", r"target_accept must be a number in \(0, 1\); got 0"),
    ("max_draws = 500\ndraws = 300", r"\[sampler\] max_draws bounds draws = \"auto\""),
])
def test_spec_sampler_numbers_are_refused_by_their_range(tmp_path, line, match):
    """QA: target_accept = 1 (an integer) said "must be float", and a fix to 1.0 then met a
    second error; "max_draws bound" read as a typo."""
    from bayesgmm.io import load_spec

    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\npath = "data.csv"\n[model]\nn_components = 2\n[sampler]\n'
                    + line + "\n")
    with pytest.raises(ValueError, match=match):
        load_spec(spec)
    if line == "target_accept = 1":
        spec.write_text(spec.read_text().replace("= 1\n", "= 0.9\n"))
        assert load_spec(spec).target_accept == 0.9


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_an_empty_file_is_named_with_what_to_give(tmp_path, text):
    """QA: pandas' "No columns to parse from file", without the file's name."""
    with pytest.raises(ValueError, match=r"data.csv is empty: give a file whose first line "
                                         "names the columns"):
        read_table(write(tmp_path, text))


def test_data_and_spec_paths_expand_the_home(tmp_path, monkeypatch):
    """"~/x.csv" is the home's file, in read_table and in a spec's [data] path and [output]
    directory (which are otherwise relative to the spec's folder)."""
    from bayesgmm.io import load_spec

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "x.csv").write_text("a,b\n1,2\n3,5\n4,4\n")
    assert read_table("~/x.csv")[0].shape == (3, 2)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "run.toml").write_text('[data]\npath = "~/x.csv"\n[model]\nn_components = 1\n'
                                    '[output]\ndirectory = "~/out"\n')
    spec = load_spec("~/specs/run.toml")
    assert spec.data_path == str(tmp_path / "x.csv") and spec.output == str(tmp_path / "out")


def test_files_that_are_no_text_table_are_named_and_compressed_tsv_is_read(tmp_path):
    """QA (messy files): a workbook, a UTF-16 export, gzip or Parquet under a .csv name all
    got "not UTF-8 ... iconv -f latin1", which would turn them into garbage; each is named now,
    with what to do. A .tsv.gz was told to "name it .tsv": it is read with tabs."""
    import gzip

    frame = pd.DataFrame({"x": np.arange(12.0), "y": np.arange(12.0) ** 2})
    text = frame.to_csv(index=False)
    cases = {
        "book.xlsx": (b"PK\x03\x04" + b"\x00" * 40, "a ZIP archive (an Excel .xlsx workbook"),
        "old.xls": (b"\xd0\xcf\x11\xe0" + b"\x00" * 40, "an Excel 97-2003 workbook"),
        "utf16.tsv": (frame.to_csv(index=False, sep="\t").encode("utf-16"),
                      "UTF-16 text (Excel's \"Unicode Text\"): read it with --encoding "
                      "utf-16"),
        "packed.csv": (gzip.compress(text.encode()), "gzip-compressed: name it .csv.gz"),
    }
    frame.to_parquet(tmp_path / "table.parquet")
    cases["table.csv"] = ((tmp_path / "table.parquet").read_bytes(),
                          "a Parquet file: name it .parquet")
    for name, (content, said) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=re.escape(said)) as info:
            read_data(tmp_path / name)
        assert "\n" not in str(info.value) and "latin1" not in str(info.value), name
    (tmp_path / "tab.tsv.gz").write_bytes(gzip.compress(frame.to_csv(index=False, sep="\t")
                                                         .encode()))
    (tmp_path / "comma.csv.gz").write_bytes(gzip.compress(text.encode()))
    # review: a CSV whose first column is named PAR1... (a gene) is a CSV
    (tmp_path / "genes.csv").write_text("PAR1A,y\n" + "".join(f"{i},{i % 5}\n" for i in range(12)))
    assert list(read_data(tmp_path / "genes.csv").features.columns) == ["PAR1A", "y"]
    for name in ("tab.tsv.gz", "comma.csv.gz"):
        table = read_data(tmp_path / name)
        pd.testing.assert_frame_equal(table.features, frame, check_dtype=False)


def test_excels_trailing_empty_columns_are_no_name_given_twice(tmp_path):
    """QA: Excel writes "x,y,," when empty columns trail the data; the two unnamed columns
    were refused as "[''] named more than once", even with --columns x,y. Unnamed columns
    are not named twice; empty, they are left out (as one such column always was)."""
    rows = "".join(f"{i},{i * i % 7},,\n" for i in range(12))
    (tmp_path / "excel.csv").write_text("x,y,,\n" + rows + ",,,\n")
    for columns in (None, ["x", "y"]):
        assert list(read_data(tmp_path / "excel.csv", columns).features.columns) == ["x", "y"]
    (tmp_path / "twice.csv").write_text("x,x,y\n1,2,3\n")
    with pytest.raises(ValueError, match=r"names column\(s\) \['x'\] more than once"):
        read_data(tmp_path / "twice.csv")


def test_column_names_match_whatever_their_unicode_normal_form(tmp_path):
    """QA: a header saved on macOS spells "längd" decomposed (NFD); the name typed
    (composed) was "unknown column(s) ['längd'] ...; available: ['längd', 'y']"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "längd")
    rows = "".join(f"{i},{i * i % 7},{1 + i % 2}\n" for i in range(12))
    (tmp_path / "nfd.csv").write_text(f"{decomposed},y,vikt\n" + rows, encoding="utf-8")
    table = read_data(tmp_path / "nfd.csv", ["längd", "y"], weights="vikt")
    assert list(table.features.columns) == ["längd", "y"] and table.sample_weight.sum() == 18
    assert list(read_data(tmp_path / "nfd.csv", [decomposed]).features.columns) == ["längd"]
    (tmp_path / "both.csv").write_text(f"{decomposed},längd\n" + "".join(
        f"{i},{i % 5}\n" for i in range(12)), encoding="utf-8")
    with pytest.raises(ValueError, match=r"names column\(s\) \['längd'\] more than once \(in "
                                         r"composed and decomposed Unicode\)"):
        read_data(tmp_path / "both.csv")


def test_a_device_is_no_data_file_and_not_missing_either():
    """QA: `bayesgmm em /dev/null` said "data file not found: /dev/null"; it exists."""
    with pytest.raises(ValueError, match=r"/dev/null is not a regular file \(a device or a "
                                         r"pipe\).*standard input \('-'"):
        read_data("/dev/null")


def test_a_column_without_a_header_name_is_not_a_default_feature(tmp_path):
    """QA62: R's write.csv of a filtered data frame writes row names 1, 3, 4, ... under an
    empty name, and they were fitted as a feature (only 1, 2, ..., N were seen as row
    names); so was any column left unnamed. Named in the feature columns, it is fitted."""
    rows = "".join(f'"{i}",{i % 5}.5,{i % 3}.25\n' for i in (1, 3, 4, 7, 8, 9, 12, 15, 20, 21))
    path = write(tmp_path, '"","mass","length"\n' + rows)
    with pytest.warns(UserWarning, match=r"column\(s\) \['Unnamed: 0'\] of .* have no name in "
                      r"the header \(R's row names, say\): left out, and the rows numbered by "
                      r"position; to name the rows by it, --index 'Unnamed: 0'"):
        assert list(read_data(path).features.columns) == ["mass", "length"]
    # ... which names them so (QA138 M2: the advice was to fit them as a feature)
    assert [str(i) for i in read_data(path, index="Unnamed: 0").features.index] == [
        "1", "3", "4", "7", "8", "9", "12", "15", "20", "21"]
    # the header's empty name, typed as it is, points at pandas' name for it (QA138 L1)
    with pytest.raises(ValueError, match=r"its column with no name is 'Unnamed: 0': --index "
                                         r"'Unnamed: 0'\)$"):
        read_data(path, index="")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named = read_data(path, ["Unnamed: 0", "mass"])
    assert list(named.features.columns) == ["Unnamed: 0", "mass"]


@pytest.mark.parametrize("sep, suffix", [("\t", "tsv"), (",", "csv")])
def test_r_write_table_row_names_without_a_header_cell_are_row_names(tmp_path, sep, suffix):
    """QA138 H1: R's write.table writes no header cell for the row names (its header one
    field short): refused, the y value called "extra", with advice to remove it. Read as R's
    read.table and pandas read it: the first field the row names, left out as write.csv's."""
    rows = "".join(f'"{i}"{sep}{i % 5}.5{sep}{i % 3}.25\n' for i in range(1, 11))
    path = write(tmp_path, f'"mass"{sep}"length"\n' + rows, f"r.{suffix}")
    with pytest.warns(UserWarning, match=r"holds the row numbers 1, 2, \.\.\. \(R row names"):
        table = read_data(path)
    assert list(table.features.columns) == ["mass", "length"]
    np.testing.assert_array_equal(table.features["length"], [i % 3 + 0.25 for i in range(1, 11)])
    # a trailing separator is no row name: the short header stays refused otherwise
    with pytest.raises(ValueError, match="has 3 values but the header names 2 columns"):
        read_data(write(tmp_path, f"mass{sep}length\n1{sep}2{sep}3\n4{sep}5{sep}\n",
                        f"t.{suffix}"))
    # a header that lost a name over rows of measurements: no row names (QA141 M2: the first
    # column dropped, the others read under the wrong names)
    with pytest.raises(ValueError, match="has 3 values but the header names 2 columns"):
        read_data(write(tmp_path, f"x{sep}y\n1.25{sep}2.5{sep}3.5\n4.75{sep}5.5{sep}6.5\n",
                        f"m.{suffix}"))
    with pytest.raises(ValueError, match="has 3 values but the header names 2 columns"):
        read_data(write(tmp_path, f"x{sep}y\n1{sep}2.5{sep}3.5\n1{sep}5.5{sep}6.5\n",
                        f"d.{suffix}"))  # a row name is its own


def test_binary_files_and_a_tsv_of_commas_are_named(tmp_path):
    """QA64: a binary file was "tab-separated (its header is '\\x00\\x01...')"; a .tsv of
    commas got "unknown column(s) ['x', 'y']; available: ['x,y']"."""
    (tmp_path / "bin.csv").write_bytes(b"x\x00\x01y\n1,2\n")
    with pytest.raises(ValueError, match=r"bin\.csv holds binary data \(NUL bytes\), not a "
                                         r"text table"):
        read_table(tmp_path / "bin.csv")
    with pytest.raises(ValueError, match=r"c\.tsv looks comma-separated \(its header is "
                                         r"'x,y'\), but its name says tabs: name it \.csv"):
        read_table(write(tmp_path, "x,y\n1,2\n3,4\n", "c.tsv"), ["x", "y"])
    frame, _ = read_table(write(tmp_path, '"mass, g"\n1\n2\n', "one.csv"))  # a name's comma
    assert list(frame.columns) == ["mass, g"]


def test_review_of_the_messy_file_fixes(tmp_path):
    """Review (qa66): "N/A" among blanks became a label group; a one-column .tsv named
    "mass, g" was called comma-separated; UTF-16 without a byte-order mark was "binary";
    a decimal-comma column got an --index hint."""
    blanks = "a,g\n1,x\n2,N/A\n3,\n4,y\n5,#N/A\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = read_data(write(tmp_path, blanks, "l.csv"), labels="g")
    assert table.labels.isna().tolist() == [False, True, True, False, True]
    frame, _ = read_table(write(tmp_path, "mass, g\n1.5\n2.5\n", "one.tsv"))
    assert list(frame.columns) == ["mass, g"]
    (tmp_path / "u16.csv").write_bytes("x,y\n1,2\n3,4\n".encode("utf-16-le"))
    with pytest.raises(ValueError, match=r"looks like UTF-16 text \(without a byte-order "
                                         r"mark\)"):
        read_table(tmp_path / "u16.csv")
    with pytest.raises(ValueError, match="decimal comma") as info:
        read_table(write(tmp_path, "x\tb\n1,5\t1\n2,25\t2\n3,75\t3\n", "d.tsv"))
    assert "--index" not in str(info.value)


def test_a_units_row_and_spaced_thousands_are_named(tmp_path):
    """QA106: a units row under the header was told to check the separator or leave every
    column out; "1 540.5" (space thousands) was offered as the rows' IDs."""
    with pytest.raises(ValueError, match=r"its first row \('µm', '°C'\) looks like a second "
                                         r"header line \(units\?\): remove it") as caught:
        read_table(write(tmp_path, "size,temp\nµm,°C\n0.777,10.3\n1.5,8.9\n"))
    assert "separator" not in str(caught.value)  # QA107: advice that contradicted the hint
    with pytest.raises(ValueError, match=r"'1 540\.5' in row 1, line 3 of the file, a number "
                                         r"written with thousands separators: remove them "
                                         r"\(write 1540\.5\)"):
        read_table(write(tmp_path, "size,temp\n777.0,10.3\n1 540.5,8.9\n"))


def test_more_ways_of_writing_numbers_are_named(tmp_path):
    """QA106: "7,77E-01" and a Unicode minus ("−2.223") got no word of what they are; a
    byte-order mark showed in a message; Excel's Windows-1252 was advised as Latin-1."""
    with pytest.raises(ValueError, match=r"'7,77E-01' in row 0, .*a number written with a "
                                         r"decimal comma: write '\.' as the decimal mark "
                                         r"\(7\.77E-01\)"):
        read_table(write(tmp_path, 'x,y\n"7,77E-01",1\n"8,1E-01",2\n'))
    with pytest.raises(ValueError, match=r"'\u22122\.223' in row 0, .*written with a Unicode "
                                         r"minus sign .*: write '-' \(-2\.223\)"):
        read_table(write(tmp_path, "x,y\n\u22122.223,1\n1.5,2\n"))
    with pytest.raises(ValueError, match=r"written with a Unicode minus sign \('\u2212'\) and a "
                                         r"decimal comma: write '-' and '\.' \(-2\.5\)"):
        read_table(write(tmp_path, 'x,y\n"\u22122,5",1\n"1,5",2\n'))  # both (QA108)
    with pytest.raises(ValueError, match=r"its header 'a;b' ") as caught:
        read_table(write(tmp_path, "\ufeffa;b\n1;2\n3;4\n"))
    assert "\ufeff" not in str(caught.value)
    path = tmp_path / "w.csv"
    path.write_bytes("x,y\u2030\n1,2\n".encode("cp1252"))
    with pytest.raises(ValueError, match=r"--encoding cp1252 for Excel.s CSV on Windows"):
        read_table(path)


def test_a_name_with_a_comma_over_decimal_commas_is_refused_and_quoted_semicolons_read(
        tmp_path):
    """QA107: "Größe, µm" over "0,777" split into two columns, the numbers' integer parts
    and decimals, and was fitted; a comma CSV with a quoted ';' in every row was refused."""
    with pytest.raises(ValueError, match=r"looks like 1 column\(s\) named \['Größe, µm'\] "
                                         r"\(a comma in each name\) of numbers written with "
                                         r"decimal commas \('0,777'\)"):
        read_table(write(tmp_path, "Größe, µm\n0,777\n1,25\n2,5\n10,5\n"))
    frame, _ = read_table(write(tmp_path, 'x,"y;z"\n1,"2"\n3,"4"\n5,"6"\n'))
    assert frame.columns.tolist() == ["x", "y;z"]
    frame, _ = read_table(write(tmp_path, "a,b\n1,2\n3,5\n"))  # whole numbers: as they are
    assert frame["b"].tolist() == [2, 5]
    frame, _ = read_table(write(tmp_path, "a, b\n1,2\n3,5\n"))  # names, not units, after ", "
    assert frame.columns.tolist() == ["a", "b"] and frame["b"].tolist() == [2, 5]


# --------------------------------------------------------------------------------------------
# a separator and a decimal mark named by the user (QA106 L7)
# --------------------------------------------------------------------------------------------
_GERMAN = "Größe (µm);Temp (°C);id\n1,5;20,1;a\n-1,75;2,1e3;b\n5;;c\n"


def test_a_german_excel_export_is_read_with_the_separator_and_decimal_mark_named(tmp_path):
    """QA106: a CSV as Excel writes it in a locale of decimal commas (semicolons between
    values) could only be refused, with advice Excel cannot follow. Named, it reads as the
    same table written with commas and points does (missing cells and exponents too)."""
    german = read_data(write(tmp_path, _GERMAN), sep=";", decimal=",", index="id")
    plain = read_data(write(tmp_path, "Größe (µm),Temp (°C),id\n1.5,20.1,a\n-1.75,2.1e3,b\n"
                                      "5,,c\n", "plain.csv"), index="id")
    pd.testing.assert_frame_equal(german.features, plain.features)
    # the tab by its word, a pipe, and quoted decimal commas in a comma file
    tabbed = read_data(write(tmp_path, "a\tb\n1,5\t2\n3\t4,25\n", "t.txt"), sep="tab",
                       decimal=",")
    assert tabbed.features.to_numpy().tolist() == [[1.5, 2.0], [3.0, 4.25]]
    piped = read_data(write(tmp_path, "a|b\n1.5|2\n3|4\n", "p.csv"), sep="|")
    assert piped.features.to_numpy().tolist() == [[1.5, 2.0], [3.0, 4.0]]
    quoted = read_data(write(tmp_path, 'a,b\n"1,5",2\n"3,25",4\n', "q.csv"), decimal=",")
    assert quoted.features.to_numpy().tolist() == [[1.5, 2.0], [3.25, 4.0]]
    # the columns a specification would list, read the same way
    from bayesgmm.io.tables import numeric_columns

    assert numeric_columns(tmp_path / "data.csv", ";", ",") == (
        ["Größe (µm)", "Temp (°C)"], {"id": "text"})


def test_a_separator_or_decimal_mark_that_cannot_be_used_is_one_line(tmp_path):
    path = write(tmp_path, _GERMAN)
    with pytest.raises(ValueError, match=r"^unknown separator 'x': give one of ',', ';', '\|' "
                                         r"or tab"):
        read_data(path, sep="x")
    with pytest.raises(ValueError, match=r"^unknown decimal mark ';': give '\.' or ','$"):
        read_data(path, sep=";", decimal=";")
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    frame.to_parquet(tmp_path / "d.parquet")
    with pytest.raises(ValueError, match=r"is a Parquet file, whose numbers are stored as "
                                         r"numbers: the separator, decimal mark, thousands "
                                         r"separator and encoding "
                                         r"are a text file's; leave them out"):
        read_data(tmp_path / "d.parquet", decimal=",")


def test_refusals_name_the_options_that_read_the_file_as_written(tmp_path):
    """A semicolon or tab file read with commas, and decimal commas read with points: each
    refusal names the options (and the spec's keys) that read it, the decimal mark only where
    the rows show decimal commas."""
    path = write(tmp_path, _GERMAN)
    with pytest.raises(ValueError, match=r"looks semicolon-separated .*: read it as written "
                                         r"with --sep ';' --decimal ',' \(a spec's \[data\]: "
                                         r"sep = \";\", decimal = \",\"\)$"):
        read_data(path)
    with pytest.raises(ValueError, match=r"read it as written with --sep ';' \(a spec's "
                                         r"\[data\]: sep = \";\"\)$"):
        read_data(write(tmp_path, "a;b;c\n1.5;2;3\n4;5;6\n", "points.csv"))
    with pytest.raises(ValueError, match=r"looks tab-separated .*: read it as written with "
                                         r"--sep tab \(a spec's \[data\]: sep = \"tab\"\), or "
                                         r"name it \.tsv$"):
        read_data(write(tmp_path, "a\tb\n1,5\t2\n", "tabs.csv"))
    with pytest.raises(ValueError, match=r"Nothing is converted implicitly: read the numbers "
                                         r"as written with --decimal ',' \(a spec's \[data\]: "
                                         r"decimal = \",\"\), fix the file"):
        read_data(path, sep=";")
    with pytest.raises(ValueError) as caught:  # a column of text is no decimal-comma column
        read_data(path, sep=";", decimal=",", columns=["id"])
    assert "--decimal" not in str(caught.value)
    # one "1,234" among decimal points is no decimal-comma column (QA158 L2: --decimal ',',
    # as advised, refused every other cell)
    points = "x,y\n" + "".join(f"{i + 0.25},{i}\n" for i in range(30)) + '"1,234",5\n'
    with pytest.raises(ValueError) as caught:
        read_data(write(tmp_path, points, "points_and_one_comma.csv"))
    assert "'1,234'" in str(caught.value) and "--decimal" not in str(caught.value)
    # a column of a few whole-number codes kept by the advice is asked about (QA158 L4)
    codes = "name,x,truth\n" + "".join(f"s{i},{i * 0.37},{i % 4 - 1}\n" for i in range(40))
    with pytest.raises(ValueError) as caught:
        read_data(write(tmp_path, codes, "codes.csv"))
    assert ("--columns x,truth" in str(caught.value)
            and "'truth' holds only 4 distinct whole numbers (-1 to 2): if they code groups "
                "rather than measure something, leave it out too, or give it as the labels "
                "column (--labels truth)" in str(caught.value))
    # the advice for a separator named wrongly fits the file's name (QA114 M4)
    with pytest.raises(ValueError, match=r"looks comma-separated .*: leave --sep out"):
        read_data(write(tmp_path, "x,y\n1,2\n3,4\n", "plain.csv"), sep="tab")
    with pytest.raises(ValueError) as caught:
        read_data(write(tmp_path, "x\ty\n1\t2\n3\t4\n", "named.tsv"), sep=",")
    assert "--sep tab" in str(caught.value) and "name it .tsv" not in str(caught.value)


def test_a_file_read_with_decimal_commas_names_its_bad_cells_in_its_own_terms(tmp_path):
    """QA115/QA114: read with --decimal ',', a column with one bad cell ('#NV', a stray
    '8.5') was said to hold '1,5' (a good cell), "write '.' as the decimal mark"; thousands
    separators ('2.939,250') left a spec's column out as text; a file of points read with
    decimal commas was "numbers stored as text"."""
    from bayesgmm.io.tables import numeric_columns

    bad = write(tmp_path, "a;b;id\n1,5;2,3;x\n#NV;2,4;y\n2,5;8.5;z\n", "bad.csv")
    with pytest.raises(ValueError) as caught:
        read_data(bad, sep=";", decimal=",", index="id")
    said = str(caught.value)
    assert "'a' has '#NV' in row id='y'" in said and "'1,5'" not in said
    assert "'b' has '8.5' in row id='z', a number written with a decimal point, where " \
           "--decimal ',' reads commas: write 8,5, or, if the file writes points, leave " \
           "--decimal out" in said
    points = write(tmp_path, "a;b\n1.5;2\n2.5;3\n", "points.csv")
    with pytest.raises(ValueError, match=r"'1\.5' in row 0, line 2 of the file, a number "
                                         r"written with a decimal point"):
        read_data(points, sep=";", decimal=",")
    thousands = write(tmp_path, "a;b\n1,5;2.939,25\n2,5;3.001,5\n", "thousands.csv")
    with pytest.raises(ValueError, match=r"^column 'b' of .* has '2\.939,25' in row 0, a "
                                         r"number written with thousands separators: remove "
                                         r"them \(write 2939,25\)"):
        numeric_columns(thousands, ";", ",")  # what a spec lists: refused, not left out
    with pytest.raises(ValueError, match=r"has '1\.234' in row 0, line 2 of the file: 1234 "
                                         r"with a thousands separator, or 1\.234 with a "
                                         r"decimal point") as caught:
        read_data(write(tmp_path, "a;b\n1.234;2\n1,5;3\n", "ambiguous.csv"), sep=";",
                  decimal=",")
    assert "second header" not in str(caught.value)  # a number, however written: no units


# QA135: mutants that survived the tests mirroring their module, killed here

# F4, F5, F11: a ZIP's members, macOS's AppleDouble files (._name) left out wherever they
# sit; none or two left is one line naming the count, not "cannot be decompressed"
@pytest.mark.parametrize("members, error", [
    (("t.csv", "._t.csv"), None),
    (("t.csv", "__MACOSX/._t.csv"), None),
    (("__MACOSX/._t.csv",), "is a ZIP archive of 0 files: give one file"),
    (("t.csv", "u.csv"), "is a ZIP archive of 2 files: give one file"),
])
def test_a_zip_archive_is_read_from_its_one_data_file(tmp_path, members, error):
    import zipfile

    with zipfile.ZipFile(tmp_path / "t.zip", "w") as archive:
        for name in members:
            archive.writestr(name, "x,y\n1,2\n3,4\n" if "._" not in name else b"\x00\x05\x16")
    if error is None:
        assert read_data(tmp_path / "t.zip").features.shape == (2, 2)
        return
    with pytest.raises(ValueError, match=r"t\.zip " + re.escape(error)) as caught:
        read_data(tmp_path / "t.zip")
    assert "cannot be decompressed" not in str(caught.value)


# F6: UTF-32 text is read in its encoding, not refused as UTF-16 without a byte-order mark
@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le"])
def test_a_utf32_file_is_read_in_the_encoding_named(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes("x,y\n1,2\n3,4\n".encode(encoding))
    assert read_data(path, encoding=encoding).features.to_numpy().tolist() == [[1, 2], [3, 4]]


# F8, F9: UTF-16 without a byte-order mark is named with its byte order; NUL bytes in well
# under 90% of every other byte are binary data
@pytest.mark.parametrize("data, said", [
    ("x,y\n1,2\n3,4\n".encode("utf-16-le"), "--encoding utf-16-le"),
    ("x,y\n1,2\n3,4\n".encode("utf-16-be"), "--encoding utf-16-be"),
    (b"\x01\x00\x02\x00\x03\x00\x04\x05\x06\x07", "holds binary data (NUL bytes)"),
])
def test_nul_bytes_are_utf16_of_its_byte_order_or_binary(data, said):
    from bayesgmm.io.file_bytes import refuse_binary_bytes

    with pytest.raises(ValueError, match=re.escape(said)):
        refuse_binary_bytes(data, data[-4:], "t.csv")


# F13: a compressed workbook read in a named encoding is refused as what it is, never
# decoded into garbage (the raw file's check skips compressed files)
def test_a_compressed_workbook_in_a_named_encoding_is_named(tmp_path):
    import gzip

    (tmp_path / "book.csv.gz").write_bytes(gzip.compress(b"\xd0\xcf\x11\xe0" + b"\x00" * 40))
    with pytest.raises(ValueError, match=r"book\.csv\.gz is an Excel 97-2003 workbook"):
        read_data(tmp_path / "book.csv.gz", encoding="cp1252")


def test_the_not_numeric_advice_leaves_out_the_row_ids_it_warned_of(tmp_path):
    """QA138 M1: R's data frame with an id column and text columns: the error advised
    "--columns id,x,y", which fitted the IDs, and "--index date"; the IDs are left out and
    named as the index."""
    rows = "".join(f"{1000 + i},{i % 7 * 0.3:.1f},{(i * 5) % 11 * 0.2:.1f},a{i % 2},"
                   f"2020-01-{i % 28 + 1:02d}\n" for i in range(20))
    path = write(tmp_path, "id,x,y,species,date\n" + rows)
    with pytest.warns(UserWarning, match="holds consecutive whole numbers"), \
            pytest.raises(ValueError) as info:
        read_data(path)
    said = str(info.value)
    assert "(--columns x,y; columns = [...] in a spec's [data]); 'id' looks like the rows' " \
        "IDs: --index id" in said and "--index date" not in said
    # and the factor column's hint beside it (QA138 L3: one hint of the two)
    assert said.endswith("; if 'species' holds known groups, give it as the labels column "
                         "(--labels species; labels = \"species\" in a spec's [data])")
    with pytest.raises(ValueError) as info:  # labels given: no second labels column offered
        read_data(path, labels="id")
    assert "holds known groups" not in str(info.value)


def test_numbers_with_thousands_separators_are_read_with_the_separator_named(tmp_path):
    """QA160 M1: "4,304" in a comma-separated file was refused with the advice --decimal
    ',', which read it as 4.304 (every income 1,000 times too small); beside a column of
    decimal points that advice was refused in turn, and nothing read the file as written.
    --thousands (thousands=) reads it, only between groups of three digits."""
    from bayesgmm.io.tables import numeric_columns

    text = ('id,income,score\n"1,234",980,3.86\nB,"4,304",2.5\nC,"12,345.5",1.25\n'
            'D,NA,0.5\n')
    path = write(tmp_path, text, "us.csv")
    with pytest.raises(ValueError) as caught:
        read_data(path, index="id")
    said = str(caught.value)
    assert ("Nothing is converted implicitly: read the numbers as written with --thousands "
            "',' (a spec's [data]: thousands = \",\"), fix the file" in said)
    assert "--decimal" not in said  # a quoted "4,304" between commas is no decimal comma
    table = read_data(path, index="id", thousands=",")
    np.testing.assert_array_equal(table.features["income"], [980.0, 4304.0, 12345.5, np.nan])
    np.testing.assert_array_equal(table.features["score"], [3.86, 2.5, 1.25, 0.5])
    assert list(table.features.index) == ["1,234", "B", "C", "D"]  # IDs as written
    assert numeric_columns(path, thousands=",") == (["income", "score"], {"id": "text"})
    # a comma that is no thousands separator is named, not dropped (pandas' thousands=
    # reads "4,30" as 430); nor a leading 0 group (QA161 M2: "0,125" read as 125)
    with pytest.raises(ValueError, match=r"'income' has '4,30' in row 1, line 3 of the file, "
                                         r"which the thousands separator ',' does not read"):
        read_data(write(tmp_path, 'income\n980\n"4,30"\n', "short.csv"), thousands=",")
    with pytest.raises(ValueError, match=r"'x' has '0,125' in row 0, .*, which the thousands"):
        read_data(write(tmp_path, 'x\n"0,125"\n"1,250"\n', "zero.csv"), thousands=",")
    # QA161 M1: the cell it cannot read named, not the first good one
    with pytest.raises(ValueError) as caught:
        read_data(write(tmp_path, 'x\n"1,234.5"\n"(1,234)"\n12\n', "paren.csv"),
                  thousands=",")
    assert "'x' has '(1,234)' in row 1" in str(caught.value) and "'1,234.5'" not in \
        str(caught.value)
    # QA161 H1: "4,30" beside US groups in a comma-separated file: --decimal ',' (which read
    # 4.304) is not advised
    mixed = write(tmp_path, 'x,y\n"4,304",1\n"4,30",2\n12,3\n"1,250",4\n', "mixed.csv")
    with pytest.raises(ValueError) as caught:
        read_data(mixed)
    assert "--decimal" not in str(caught.value)
    # the decimal comma's file: 1.234,5; spaces (non-breaking too); apostrophes
    european = write(tmp_path, "a;b\n1,5;2.939,25\n2,5;3.001,5\n", "de.csv")
    with pytest.raises(ValueError, match=r"read the numbers as written with --thousands '\.' "
                                         r"\(a spec's \[data\]: thousands = \"\.\"\)"):
        read_data(european, sep=";", decimal=",")
    np.testing.assert_array_equal(read_data(european, sep=";", decimal=",", thousands=".")
                                  .features["b"], [2939.25, 3001.5])
    spaced = write(tmp_path, 'x\n"1 234.5"\n"2\u00a0000"\n7\n', "spaced.csv")
    np.testing.assert_array_equal(read_data(spaced, thousands="space").features["x"],
                                  [1234.5, 2000.0, 7.0])
    swiss = write(tmp_path, "x\n1'234.5\n-2'000\n", "swiss.csv")
    np.testing.assert_array_equal(read_data(swiss, thousands="'").features["x"],
                                  [1234.5, -2000.0])
    with pytest.raises(ValueError, match=r"^unknown thousands separator ';': give"):
        read_data(path, thousands=";")
    with pytest.raises(ValueError, match=r"^the thousands separator ',' is the decimal mark "
                                         r"too: '\.' thousands go with the decimal comma"):
        read_data(european, sep=";", decimal=",", thousands=",")
    pd.DataFrame({"a": [1.0]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"thousands separator and encoding are a text "):
        read_data(tmp_path / "t.parquet", thousands=",")


def test_swiss_and_spaced_thousands_get_the_separator_that_reads_them(tmp_path):
    """QA161 L1: a Swiss file ("1'234.5") was told its first row looked like a second header
    line (advice that deletes a data row), and the typographic apostrophe was no separator;
    "1 234,5" in a file of decimal commas was advised --thousands '.', which reads none of
    it; L3: a tab was refused as if misplaced; L2: a spec's refusal spoke in flags."""
    for cell in ("1'234.5", "1\u2019234.5"):
        swiss = write(tmp_path, f"x,y\n{cell},0\n17.25,1\n", "swiss.csv")
        with pytest.raises(ValueError) as caught:
            read_data(swiss)
        said = str(caught.value)
        assert "a number written with thousands separators: remove them (write 1234.5)" in said
        assert "--thousands \"'\" (a spec's [data]: thousands = \"'\")" in said
        assert "header" not in said
        np.testing.assert_array_equal(read_data(swiss, thousands="'").features["x"],
                                      [1234.5, 17.25])
    spaced = write(tmp_path, "x;y\n1 234,5;0\n17,25;1\n", "spaced.csv")
    with pytest.raises(ValueError, match=r"as written with --thousands space \(a spec's"):
        read_data(spaced, sep=";", decimal=",")
    np.testing.assert_array_equal(read_data(spaced, sep=";", decimal=",", thousands="space")
                                  .features["x"], [1234.5, 17.25])
    tabbed = write(tmp_path, "x;y\n1\t234,5;0\n17,25;1\n", "tabbed.csv")
    with pytest.raises(ValueError, match=r"does not read \(a tab is no thousands separator\)"):
        read_data(tabbed, sep=";", decimal=",", thousands="space")
    with pytest.raises(ValueError, match=r"a spec's \[data\]: decimal = \",\", thousands = "):
        read_data(spaced, sep=";", thousands=".")
    # QA166: a units row "'000" is still a second header line, not a Swiss number; a Unicode
    # minus beside separators is named as the minus
    units = write(tmp_path, "sales,staff\n'000,n\n12,3\n40,5\n", "units.csv")
    with pytest.raises(ValueError, match=r"looks like a second header line"):
        read_data(units)
    minus = write(tmp_path, "a,b\n\u22121'234.5,0\n17.25,1\n", "minus.csv")
    with pytest.raises(ValueError, match=r"Unicode minus sign \('\u2212'\) and thousands "
                                         r"separators: write '-' and remove them \(-1234\.5\)"):
        read_data(minus)
    with pytest.raises(ValueError, match=r"Unicode minus sign .*: write '-' \(-1'234\.5\)"):
        read_data(minus, thousands="'")
