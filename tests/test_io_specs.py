"""The specification template (`bayesgmm spec`): every key the reader accepts, with its
default, shipped with the package; written for a data file, it runs as written."""

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from bayesgmm import DiagnosticThresholds, Priors, SamplerSettings
from bayesgmm.io import load_spec, read_data, specs
from bayesgmm.io.specs import spec_template, write_spec_template

ROOT = Path(__file__).resolve().parents[1]


def _keys_written(text: str) -> dict[str, set[str]]:
    """Each section's keys, set or commented out (``# key = value``)."""
    keys: dict[str, set[str]] = {}
    section = None
    for line in text.splitlines():
        if m := re.match(r"\[(\w+)\]", line):
            section = keys.setdefault(m[1], set())
        elif (m := re.match(r"#? ?(\w+) = ", line)) and section is not None:
            section.add(m[1])
    return keys


def test_the_template_names_every_key_the_reader_accepts():
    """A key added to the reader and not to the template fails here (QA93: a pip user could
    not find out what a specification may hold)."""
    written = _keys_written(spec_template())
    assert set(written) == set(specs._SCHEMA)
    for section, allowed in specs._SCHEMA.items():
        assert written[section] == set(allowed), section


def test_every_key_of_the_template_says_what_it_means():
    """QA146 L8: "every key explained", and twelve (the priors, tune, chains, target_accept,
    four thresholds) stood bare."""
    bare = [line for line in spec_template().splitlines()
            if re.match(r"#? ?\w+ = ", line) and not re.search(r"\s# ", line)]
    assert not bare, bare


def test_the_template_runs_as_written_with_every_default(tmp_path):
    path = write_spec_template(tmp_path / "model.toml")
    spec = load_spec(path)
    assert spec.data_path == "bundled:old_faithful"
    assert (spec.n_components, spec.covariance_type) == (2, "full")
    assert spec.priors == Priors()
    assert spec.sampler_settings == SamplerSettings()
    assert spec.thresholds == DiagnosticThresholds()
    assert spec.output is None and spec.report  # results/model beside it
    assert spec.missing == "marginalise" and spec.dequantise is None


def test_models_readme_shows_the_template_itself():
    readme = (ROOT / "models" / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", readme, flags=re.S)[1]
    assert block == spec_template()


def test_a_template_for_a_data_file_lists_its_numeric_columns_and_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative data path, as typed, is made the spec's
    data = Path("data") / "iris.csv"
    data.parent.mkdir()
    data.write_text("id,length,width,species\na1,1.0,2.0,setosa\na2,1.5,2.5,virginica\n"
                    "a3,1.2,,setosa\n")
    (tmp_path / "specs").mkdir()
    path = write_spec_template(Path("specs") / "iris.toml", data)
    text = path.read_text()
    assert 'path = "../data/iris.csv"' in text  # relative to the spec, as load_spec reads it
    assert 'columns = ["length", "width"]' in text
    assert '# not listed: "id" (text), "species" (text)' in text
    spec = load_spec(path)
    assert Path(spec.data_path) == (tmp_path / data)
    table = read_data(spec.data_path, spec.columns, missing=spec.missing)
    assert list(table.features.columns) == ["length", "width"]
    assert _keys_written(text) == _keys_written(spec_template())  # every key still there


def test_a_template_refuses_numbers_written_with_decimal_commas(tmp_path, monkeypatch):
    """QA106: a TSV of decimal commas got `columns = ["count"]` without a word (the others
    left out as "text"), and `run` fitted the count alone; `em` and `fit` refuse the file."""
    monkeypatch.chdir(tmp_path)
    Path("m.tsv").write_text("size\tcount\n1,25\t3\n0,777\t4\n2,5\t5\n")
    with pytest.raises(ValueError, match=r"^column 'size' of m\.tsv has '1,25' in row 0, a "
                                         r"number written with a decimal comma: .*\. Read "
                                         r"the numbers as written with --decimal ',' \(a "
                                         r"spec's \[data\]: decimal = \",\"\), or fix the "
                                         r"file$"):
        spec_template(Path("m.tsv"))


def test_a_template_for_a_german_export_states_its_separator_and_decimal_mark(tmp_path,
                                                                              monkeypatch):
    """QA106 L7: `bayesgmm spec --data FILE --sep ';' --decimal ','` lists the columns read so
    and states both keys, which `run` reads the file with; the keys are checked by name."""
    monkeypatch.chdir(tmp_path)
    Path("de.csv").write_text("Größe;Temp;id\n1,5;20,1;a\n1,7;21,3;b\n5,2;;c\n")
    path = write_spec_template("de.toml", "de.csv", sep=";", decimal=",")
    text = path.read_text()
    assert 'columns = ["Größe", "Temp"]' in text
    assert re.search(r'^sep = ";" +# optional', text, flags=re.M)
    assert re.search(r'^decimal = "," +# optional', text, flags=re.M)
    assert _keys_written(text) == _keys_written(spec_template())
    spec = load_spec(path)
    assert (spec.sep, spec.decimal) == (";", ",")
    table = read_data(spec.data_path, spec.columns, sep=spec.sep, decimal=spec.decimal)
    assert table.features.to_numpy()[:2].tolist() == [[1.5, 20.1], [1.7, 21.3]]
    assert "sep" not in tomllib.loads(spec_template())["data"]  # no data: examples only
    Path("t.txt").write_text("a\tb\n1\t2\n3\t5\n")
    tabbed = tomllib.loads(spec_template(Path("t.txt"), sep="\t"))["data"]
    assert (tabbed["sep"], tabbed["columns"]) == ("tab", ["a", "b"])
    Path("bad.toml").write_text(text.replace('sep = ";"', 'sep = "semi"'))
    with pytest.raises(ValueError, match=r"bad\.toml: \[data\] unknown separator 'semi'"):
        load_spec("bad.toml")
    with pytest.raises(ValueError, match=r"give the file \(--data FILE\) it is for"):
        spec_template(sep=";")


def test_a_template_for_thousands_separators_states_them_and_run_reads_them(tmp_path,
                                                                            monkeypatch):
    """QA160 M1: a spec's [data] thousands reads "4,304" as the command line's --thousands
    does; the template states it where the file is read so; a bad one names its key."""
    monkeypatch.chdir(tmp_path)
    Path("us.csv").write_text('id,income,age\nA,"4,304",51\nB,"1,105",33\nC,980,40\n')
    with pytest.raises(ValueError, match=r"--thousands ','"):
        spec_template(Path("us.csv"))
    path = write_spec_template("us.toml", "us.csv", thousands=",")
    text = path.read_text()
    assert 'columns = ["income", "age"]' in text
    assert re.search(r'^thousands = "," +# optional', text, flags=re.M)
    assert _keys_written(text) == _keys_written(spec_template())
    spec = load_spec(path)
    assert spec.thousands == ","
    table = read_data(spec.data_path, spec.columns, thousands=spec.thousands)
    assert table.features["income"].tolist() == [4304.0, 1105.0, 980.0]
    Path("bad.toml").write_text(text.replace('thousands = ","', 'thousands = "."'))
    with pytest.raises(ValueError, match=r"bad\.toml: \[data\] the thousands separator '\.' "
                                         r"is the decimal mark too"):
        load_spec("bad.toml")


def test_a_template_names_odd_column_names_as_toml_strings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = Path('odd "names".csv')
    data.write_text('"mass, g","say ""x""",länge\n1,2,3\n2,3,4\n')
    spec = tomllib.loads(spec_template(data, relative_to=tmp_path))
    assert spec["data"]["path"] == 'odd "names".csv'
    assert spec["data"]["columns"] == ["mass, g", 'say "x"', "länge"]


def test_a_bundled_or_absolute_data_path_is_kept(tmp_path):
    assert 'path = "bundled:galaxies"' in spec_template("bundled:galaxies")
    assert 'columns = ["velocity"]' in spec_template("bundled:galaxies")
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    assert f'path = "{data}"' in spec_template(data, relative_to="/")


@pytest.mark.parametrize("make, match", [
    (lambda d: d / "x.csv", "data file not found"),
    (lambda d: (d / "t.csv").write_text("a,b\nx,y\n") and d / "t.csv", "no numeric column"),
    (lambda d: "-", "standard input"),
])
def test_a_template_for_bad_data_is_refused_in_one_line(tmp_path, make, match):
    with pytest.raises(ValueError, match=match) as exc:
        spec_template(make(tmp_path))
    assert "\n" not in str(exc.value)


def test_writing_a_template_replaces_nothing_unasked(tmp_path):
    target = tmp_path / "model.toml"
    target.write_text("mine")
    with pytest.raises(ValueError, match="exists: give another file name, or --force"):
        write_spec_template(target)
    assert target.read_text() == "mine"
    with pytest.raises(ValueError, match="is a directory"):
        write_spec_template(tmp_path)
    with pytest.raises(ValueError, match="no directory"):
        write_spec_template(tmp_path / "no" / "model.toml")
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(ValueError, match="is the data file"):
        write_spec_template(data, data, overwrite=True)
    assert data.read_text() == "a,b\n1,2\n3,4\n"
    write_spec_template(target, overwrite=True)
    assert target.read_text() == spec_template()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "model.toml"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "model.toml"
    target.write_text("mine")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(specs.os, "replace", fail)
    with pytest.raises(OSError):
        write_spec_template(target, overwrite=True)
    assert target.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["model.toml"]


def test_a_saved_index_is_not_listed_as_a_feature(tmp_path, monkeypatch):
    """QA98 M4: a file written by pandas' to_csv (its index as a first, unnamed column) got
    columns = ["Unnamed: 0", "x", "y"], and run then fitted the row numbers."""
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(30, 2)), columns=["x", "y"]).to_csv("saved.csv")
    text = spec_template("saved.csv")
    assert 'columns = ["x", "y"]' in text and '"Unnamed: 0" (row numbers)' in text
    spec = load_spec(write_spec_template("saved.toml", "saved.csv"))
    assert spec.columns == ["x", "y"]


def test_the_spec_file_is_an_ordinary_file_and_names_any_column(tmp_path, monkeypatch):
    """QA98 L3, L4: the file was private (mode 0600), --force replaced a symbolic link with
    a file, and a column name with DEL made TOML that run refused."""
    import os

    monkeypatch.chdir(tmp_path)
    Path("odd.csv").write_text('"a\x7fb",c\n1,2\n3,4\n')
    path = write_spec_template("odd.toml", "odd.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert load_spec(path).columns == ["a\x7fb", "c"]
    Path("link.toml").symlink_to(path)
    with pytest.raises(ValueError, match="is a symbolic link"):
        write_spec_template("link.toml", overwrite=True)
    assert Path("link.toml").is_symlink()


def test_a_replaced_spec_keeps_its_mode(tmp_path):
    """QA100 L2: --force made a file the user kept private (0600) readable by all."""
    target = tmp_path / "model.toml"
    target.write_text("mine")
    target.chmod(0o600)
    write_spec_template(target, overwrite=True)
    assert target.stat().st_mode & 0o777 == 0o600 and target.read_text() == spec_template()


def test_a_long_data_path_keeps_a_space_before_its_comment(tmp_path):
    """QA106: `path = "data/..._ß.csv"# a CSV/Parquet path`: the comment ran into the value."""
    data = tmp_path / ("messdaten_" * 6 + "ß.csv")
    data.write_text("a,b\n1,2\n3,4\n")
    line = next(x for x in spec_template(data, relative_to=tmp_path).splitlines()
                if x.startswith("path = "))
    assert line.startswith("path = ") and 'ß.csv" # a CSV' in line


def test_a_text_column_with_one_number_like_answer_is_still_text(tmp_path, monkeypatch):
    """QA107: a survey's text column with one answer "1,3" refused the whole file."""
    monkeypatch.chdir(tmp_path)
    Path("s.csv").write_text('x,answer\n1.5,yes\n2.5,"1,3"\n3.5,no\n4.5,maybe\n')
    text = spec_template(Path("s.csv"))
    assert 'columns = ["x"]' in text and '"answer" (text)' in text


def test_a_decimal_comma_column_of_many_non_detects_is_still_refused(tmp_path, monkeypatch):
    """QA108: a column of decimal commas half "n.d." (or "<LOD") was left out as text."""
    monkeypatch.chdir(tmp_path)
    Path("nd.csv").write_text('x,crp\n1.5,"1,25"\n2.5,n.d.\n3.5,<LOD\n4.5,n.d.\n5.5,"0,8"\n')
    with pytest.raises(ValueError, match=r"^column 'crp' of nd\.csv has '1,25' in row 0, a "
                                         r"number written with a decimal comma"):
        spec_template(Path("nd.csv"))


def test_a_spec_that_cannot_be_written_is_named_as_asked(tmp_path, monkeypatch, capsys):
    """QA117 L3: ``spec FILE`` into a read-only directory named its hidden temporary file
    ("read-only file system (ro/.m.toml.j9j3r02_.tmp)"), not the path the user gave."""
    import errno
    import tempfile

    from bayesgmm.cli import main

    def read_only(prefix, suffix, dir):
        raise OSError(errno.EROFS, "Read-only file system", f"{dir}/{prefix}x1y2.tmp")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    monkeypatch.chdir(tmp_path)
    assert main(["spec", "model.toml"]) == 2
    err = capsys.readouterr().err
    assert err == ("bayesgmm: error: read-only file system (model.toml): give another path or "
                   "fix the one given\n")


# QA135 T1: an encoding alone is a data file's too: refused without the file
@pytest.mark.parametrize("option", [{"sep": ";"}, {"decimal": ","}, {"encoding": "cp1252"}])
def test_a_file_option_without_the_file_is_refused(option):
    with pytest.raises(ValueError, match=r"give the file \(--data FILE\) it is for"):
        spec_template(**option)
