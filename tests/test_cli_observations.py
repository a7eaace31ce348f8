"""The command line's missing values, weights, labels and noise: flags, specs, errors."""

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesgmm
from bayesgmm import cli


@pytest.fixture
def rows_dir(tmp_path, old_faithful, monkeypatch):
    """old_faithful's first 60 rows with a weights column, a labels column and gaps."""
    frame = old_faithful.iloc[:60].copy().reset_index(drop=True)
    frame["w"] = np.arange(60) % 3 + 1.0
    frame["g"] = np.where(frame["eruptions"] > 3, "long", "short")
    frame.loc[frame.index % 4 != 0, "g"] = ""  # a quarter labelled
    frame.to_csv(tmp_path / "rows.csv", index=False)
    gaps = frame.copy()
    gaps.loc[[2, 5], "waiting"] = np.nan
    gaps.loc[7, "eruptions"] = np.nan
    gaps.to_csv(tmp_path / "gaps.csv", index=False)
    bad = frame.copy()
    bad.loc[3, "w"] = -2.0
    bad.to_csv(tmp_path / "negative.csv", index=False)
    zero = frame.copy()
    zero["w"] = 0.0
    zero.to_csv(tmp_path / "zero.csv", index=False)
    three = frame.copy()
    three.loc[1, "g"] = "medium"
    three.to_csv(tmp_path / "three.csv", index=False)
    nolabel = frame.copy()
    nolabel["g"] = ""
    nolabel.to_csv(tmp_path / "nolabel.csv", index=False)
    noise = frame.copy()
    noise["g"] = noise["g"].replace("short", "noise")
    noise.to_csv(tmp_path / "noiselabel.csv", index=False)
    xy = frame[["eruptions", "waiting"]].copy()
    holes = xy.copy()  # every row with a gap, none empty
    holes.iloc[::2, 0] = holes.iloc[1::2, 1] = np.nan
    holes.to_csv(tmp_path / "holes.csv", index=False)
    empty_rows = xy.copy()
    empty_rows.iloc[2:] = np.nan  # 2 rows with values, 58 with none
    empty_rows.to_csv(tmp_path / "emptyrows.csv", index=False)
    xy.assign(z=np.nan).to_csv(tmp_path / "blankcol.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def captured(monkeypatch):
    """Replace fit_bayes and fit_em by recorders that stop the command (exit 2)."""
    seen = {}

    def record(frame, n_components, **kwargs):
        seen.update(frame=frame, n_components=n_components, **kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "fit_bayes", record)
    # imported first: a module that first imports fit_em while it is patched keeps the
    # recorder for good (a later test's fit_bayes then stopped "here")
    import bayesgmm.sampling  # noqa: F401
    from bayesgmm import em

    monkeypatch.setattr(em, "fit_em", record)
    return seen


BAD = [
    (["rows.csv", "-k", "2", "--weights", "weight"], r"unknown column\(s\) \['weight'\]"),
    (["rows.csv", "-k", "2", "--labels", "group"], r"unknown column\(s\) \['group'\]"),
    (["negative.csv", "-k", "2", "--weights", "w", "--labels", "g"],
     r"weights column 'w' .* non-negative; it is -2 at row 3"),
    (["zero.csv", "-k", "2", "--weights", "w", "--labels", "g"],
     "weights column 'w' .* must not be all zero"),
    (["three.csv", "-k", "2", "--labels", "g", "--weights", "w"],
     r"name 3 groups \['long', 'medium', 'short'\] but the mixture has only 2"),
    (["nolabel.csv", "-k", "2", "--labels", "g", "--weights", "w"], "has no known label"),
    # downstream QA: memberships.csv's component_label "noise" meant two things
    (["noiselabel.csv", "-k", "2", "--labels", "g", "--weights", "w", "--noise"],
     "names a component 'noise', the name of the noise component with --noise"),
    (["rows.csv", "-k", "2", "--weights", "w"], r"column\(s\) \['g'\] .* not numeric"),
    (["rows.csv", "-k", "2", "--columns", "eruptions,w", "--weights", "w"],
     "'w' is the weights column, not a feature"),
    (["rows.csv", "-k", "2", "--labels", "g", "--noise-volume", "3"],
     "--noise-volume needs --noise"),
    (["rows.csv", "-k", "2", "--labels", "g", "--noise", "--noise-volume", "0"],
     "--noise-volume must be a finite number > 0"),
    (["rows.csv", "-k", "2", "--labels", "g", "--noise", "--noise-volume", "nan"],
     "--noise-volume must be a finite number > 0"),
    (["gaps.csv", "-k", "2", "--labels", "g", "--dropna", "--missing", "refuse"],
     "--dropna means --missing drop; it contradicts --missing refuse"),
    (["gaps.csv", "-k", "2", "--labels", "g", "--weights", "w", "--missing", "refuse"],
     r"3 row\(s\) of gaps.csv have missing values \(first: row 2, line 4 of the file\)"),
    (["gaps.csv", "-k", "2", "--missing", "impute"], "invalid choice: 'impute'"),
    # QA: no fix named, the empty rows not counted, no way to leave the column out said
    (["holes.csv", "-k", "2", "--missing", "drop"],
     "every row of holes.csv has a missing value, and dropping them leaves nothing to fit; "
     r"--missing marginalise \(the default\) fits each row by the values it has"),
    (["emptyrows.csv", "-k", "3"], r"K=3 components is more than the 2 row\(s\) of "
                                   r"emptyrows.csv with an observed value \(58 have none\)"),
    (["gaps.csv", "-k", "59", "--columns", "eruptions,waiting", "--missing", "drop"],
     r"more than the 57 row\(s\) of gaps.csv with no value missing \(3 have gaps and are "
     r"dropped\): give -k at most 57"),
    (["blankcol.csv", "-k", "2"], r"column\(s\) \['z'\] of blankcol.csv have no values at "
                                  r"all; leave them out of the feature columns \(--columns "
                                  "eruptions,waiting;"),
]


@pytest.mark.parametrize("command", ["fit", "em"])
@pytest.mark.parametrize(("argv", "message"), BAD, ids=[m[:30] for _, m in BAD])
def test_bad_observation_input_is_one_line_and_nothing_is_fitted(command, argv, message, rows_dir,
                                                                 captured, capsys):
    before = sorted(p.name for p in rows_dir.iterdir())
    with pytest.raises(SystemExit) if "invalid choice" in message else _no_raise() as info:
        rc = cli.main([command, *argv])
    rc = info.value.code if info is not None else rc
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), err
    assert captured == {}  # refused before any fit
    assert sorted(p.name for p in rows_dir.iterdir()) == before


@pytest.mark.parametrize("command", ["fit", "em", "select"])
def test_flag_errors_come_before_the_output_directorys(command, rows_dir, captured, capsys):
    """QA: with an earlier output in the way, "already exists" came first, and the flag's own
    error only on the next run; the README says every flag is checked first."""
    (rows_dir / "taken").mkdir()
    (rows_dir / "taken" / "notes.txt").write_text("an earlier output")
    for flags, message in ((["--noise-volume", "3"], "--noise-volume needs --noise"),
                           (["--dropna", "--missing", "refuse"], "--dropna means --missing")):
        rc = cli.main([command, "rows.csv", "-k", "2", "--out", "taken", *flags])
        err = capsys.readouterr().err
        assert rc == 2 and message in err and "taken" not in err, err


class _no_raise:
    value = None

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("command", ["fit", "em"])
def test_flags_reach_the_fit(command, rows_dir, captured, capsys):
    rc = cli.main([command, "gaps.csv", "-k", "3", "--weights", "w", "--labels", "g",
                   "--noise", "--noise-volume", "250.5", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 2  # the recorder stops the command
    frame = pd.read_csv(rows_dir / "gaps.csv")
    assert list(captured["frame"].columns) == ["eruptions", "waiting"]
    np.testing.assert_array_equal(captured["frame"].to_numpy(),
                                  frame[["eruptions", "waiting"]].to_numpy())
    np.testing.assert_array_equal(captured["sample_weight"], frame["w"].to_numpy())
    expected = np.select([frame["g"] == "long", frame["g"] == "short"], [0, 1], -1)
    np.testing.assert_array_equal(captured["labels"], expected)
    assert captured["noise"] is True and captured["noise_volume"] == 250.5
    assert captured["missing"] == "marginalise" and captured["n_components"] == 3
    assert "missing values: 3 value(s) in 3 row(s), integrated out (missing at random" in out
    assert "weights: column 'w'" in out and "total weight 120" in out
    assert "labels: column 'g', 15 of 60 row(s) labelled; component 0 = 'long', " \
           "component 1 = 'short'" in out
    assert "noise: a uniform component over a region of volume 250.5" in out


@pytest.mark.parametrize("command", ["fit", "em"])
def test_a_plain_file_passes_no_observation_arguments(command, rows_dir, captured, capsys):
    """The default path stays today's: no keyword the core would have to interpret."""
    cli.main([command, "rows.csv", "-k", "2", "--columns", "eruptions,waiting"])
    assert not {"sample_weight", "labels", "noise", "noise_volume", "missing"} & set(captured)
    assert "missing values" not in capsys.readouterr().out


@pytest.mark.parametrize("command", ["fit", "em"])
@pytest.mark.parametrize("policy", ["drop", "refuse"])
def test_a_policy_asked_for_reaches_the_fit_without_gaps(command, policy, rows_dir, captured):
    """QA: --missing refuse (or a spec's missing = "drop") on data with no gap was recorded
    as "marginalise" in result.json and em.json."""
    cli.main([command, "rows.csv", "-k", "2", "--columns", "eruptions,waiting",
              "--missing", policy])
    assert captured["missing"] == policy


def test_drop_hands_the_rows_to_the_fit_to_drop(rows_dir, captured, capsys):
    cli.main(["fit", "gaps.csv", "-k", "2", "--columns", "eruptions,waiting",
              "--missing", "drop"])
    assert captured["missing"] == "drop" and len(captured["frame"]) == 60
    assert "dropping 3 row(s) with missing values (--missing drop)" in capsys.readouterr().out


def test_spec_keys_reach_the_fit(rows_dir, captured, capsys):
    spec = rows_dir / "spec.toml"
    spec.write_text('[data]\npath = "gaps.csv"\nweights = "w"\nlabels = "g"\nnoise = true\n'
                    'missing = "drop"\n[model]\nn_components = 2\n[output]\ndirectory = "o"\n')
    rc = cli.main(["run", str(spec)])
    assert rc == 2 and captured["missing"] == "drop" and captured["noise"] is True
    assert "noise_volume" not in captured
    assert captured["labels"].shape == (60,) and captured["sample_weight"].shape == (60,)
    out = capsys.readouterr().out
    assert "component 0 = 'long'" in out
    # in the spec's words (specs QA: "(--missing drop)", a flag run does not take)
    assert 'with missing values ([data] missing = "drop")' in out and "--missing" not in out
    assert not (rows_dir / "o").exists()


def test_labels_that_are_numbers_keep_their_names(rows_dir, captured, capsys):
    frame = pd.read_csv(rows_dir / "rows.csv")
    frame["g"] = np.where(frame.index % 3 == 0, np.where(frame["eruptions"] > 3, 7, 2), -1)
    frame.to_csv(rows_dir / "numbers.csv", index=False)
    cli.main(["em", "numbers.csv", "-k", "2", "--labels", "g"])
    assert "component 0 = '2', component 1 = '7'" in capsys.readouterr().out
    assert set(np.unique(captured["labels"])) == {-1, 0, 1}


def test_every_row_missing_is_refused(tmp_path, monkeypatch, captured, capsys):
    (tmp_path / "holes.csv").write_text("a,b\n1,\n,2\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["em", "holes.csv", "-k", "1", "--missing", "drop"]) == 2
    assert "every row of holes.csv has a missing value, and dropping" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["em", "fit", "select"])
def test_constant_observed_column_is_refused(command, tmp_path, monkeypatch, captured, capsys):
    (tmp_path / "c.csv").write_text("a,b\n1,5\n2,\n3,5\n4,5\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main([command, "c.csv", "-k", "1"]) == 2
    out, err = capsys.readouterr()
    assert "'b' are constant (over their observed values)" in err
    # QA: "missing values: 1 value(s) in 1 row(s), ..." was printed before the error
    assert out == ""


# --------------------------------------------------------------------------------------------
# real EM fits through the command line
# --------------------------------------------------------------------------------------------
def test_em_weights_equal_the_replicated_rows(rows_dir, capsys):
    """Oracle: a weights column gives the fit of the file with each row repeated w times."""
    frame = pd.read_csv(rows_dir / "rows.csv")
    frame.loc[frame.index.repeat(frame["w"].astype(int)), ["eruptions", "waiting"]].to_csv(
        rows_dir / "repeated.csv", index=False)
    cli.main(["em", "rows.csv", "-k", "2", "--columns", "eruptions,waiting", "--weights", "w",
              "--seed", "4", "--n-init", "2", "-o", "weighted"])
    weighted = capsys.readouterr().out
    cli.main(["em", "repeated.csv", "-k", "2", "--seed", "4", "--n-init", "2", "-o", "repeated"])
    repeated = capsys.readouterr().out

    def bic(out):  # printed with thousands separators, to two decimals
        return float(re.search(r"BIC (-?[\d,.]+)", out)[1].replace(",", ""))

    # the fits as saved: the printed log-likelihood has two decimals only
    fits = [bayesgmm.load(rows_dir / name) for name in ("weighted", "repeated")]
    assert fits[0].log_likelihood == pytest.approx(fits[1].log_likelihood, abs=2e-3)
    assert f"EM: log-likelihood {fits[0].log_likelihood:,.2f} after" in weighted
    assert bic(weighted) == pytest.approx(bic(repeated), abs=2e-2)  # n = sum of weights
    assert "frequency weights (total 120)" in weighted


def test_em_report_with_every_capability(rows_dir, capsys):
    rc = cli.main(["em", "gaps.csv", "-k", "2", "--weights", "w", "--labels", "g", "--noise",
                   "--seed", "1", "--n-init", "2", "--report", "--out", "rep",
                   "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "noise weight" in out
    assert ("observations: 60 row(s) fitted; 3 missing value(s) in 3 row(s) integrated out "
            "(missing at random assumed); frequency weights (total 120); 15 row(s) with a "
            "known component: 0 = 'long', 1 = 'short'; a uniform noise component") in out
    page = (rows_dir / "rep" / "report.html").read_text()
    assert "3 missing value(s) in 3 row(s)" in page and "The noise component" in page
    assert "black crosses: the 15 points whose component was known" in page
    assert "15 row(s) with a known component: 0 = &#x27;long&#x27;, 1 = &#x27;short&#x27;" in page
    # the columns in the settings table; the label names once, in the observations line
    assert "labels column" in page and "weights column" in page
    assert "0 = long, 1 = short" not in page
    assert 'Figure "' not in page  # no figure failed
    figures = sorted(p.name for p in (rows_dir / "rep" / "figures").iterdir())
    assert figures == ["classification.png", "data.png", "density.png", "em_convergence.png",
                       "membership.png"]


# --------------------------------------------------------------------------------------------
# real posterior fits through the command line
# --------------------------------------------------------------------------------------------

def test_fit_with_every_capability_saves_and_reports(rows_dir, capsys):
    import bayesgmm

    frame = pd.read_csv(rows_dir / "gaps.csv")
    frame.insert(0, "id", [f"s{i:03d}" for i in range(len(frame))])
    frame.to_csv(rows_dir / "ids.csv", index=False)
    common = ["-k", "2", "--index", "id", "--weights", "w", "--labels", "g", "--noise",
              "--seed", "1", "--no-progress"]
    rc = cli.main(["fit", "ids.csv", *common, "--draws", "100", "--tune", "100", "--chains",
                   "2", "--report", "--out", "fitted"])
    out = capsys.readouterr().out
    assert rc == 0
    assert cli.main(["em", "ids.csv", *common, "--n-init", "1", "--out", "em"]) == 0
    # which data and how they were read: the same record in result.json and em.json (QA: the
    # files wrote it differently; result.json lacked the weights and labels columns)
    data = {"data_source": "ids.csv", "data_file_sha256": bayesgmm.io.file_sha256("ids.csv"),
            "index_column": "id", "weights_column": "w", "labels_column": "g"}
    fitted, em = bayesgmm.load(rows_dir / "fitted"), bayesgmm.load(rows_dir / "em")
    assert {k: fitted.settings[k] for k in data} == data
    assert {k: em.settings[k] for k in data} == data
    assert {k: fitted.em.settings[k] for k in data} == data  # fit's em.json too (QA74)
    # a saved fit's membership_table is its memberships.csv, the IDs' column by its name
    saved = pd.read_csv(rows_dir / "fitted" / "memberships.csv")
    table = bayesgmm.membership_table(fitted)
    assert list(table.columns) == list(saved.columns) and saved.columns[0] == "id"
    np.testing.assert_array_equal(table["id"], saved["id"])
    assert bayesgmm.membership_table(em, frame[["eruptions", "waiting"]]).columns[0] == "row"
    assert "noise_weight" in out and "observations: 60 row(s) fitted; 3 missing value(s)" in out
    # which rows the noise takes, counted as memberships.csv (the posterior's) counts them
    taken = saved["p_noise"] > 0.5
    weights = frame["w"].to_numpy()  # and the points, counted by their weights (review)
    assert (f"noise: {int(taken.sum())} of the 60 fitted rows ({weights[taken].sum():g} of the "
            f"{weights.sum():g} points counted by their weights) have P(noise | x) above "
            "0.5") in out
    result = fitted
    record = result.observations_summary
    assert record["label_names"] == ["long", "short"]  # kept with the saved result
    assert record["weighted"] and record["n_labelled"] == 15 and record["noise"]
    assert record["n_missing_values"] == 3
    page = (rows_dir / "fitted" / "report.html").read_text()
    assert "The noise component" in page and "black crosses: the 15 points" in page
    assert 'Figure "' not in page  # no figure failed


def test_em_names_the_rows_its_noise_component_takes(tmp_path, monkeypatch, capsys):
    """QA: a noise fit printed its noise weight only, where the no-noise hint names its rows;
    the console names the rows P(noise | x) > 0.5 picks, by their IDs with --index, most
    probably noise first, and leaves out a row with nothing observed."""
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 1, (80, 2)), rng.normal(6, 1, (80, 2)),
                   [[60.0, -50.0], [-45.0, 70.0], [np.nan, np.nan]]])
    frame = pd.DataFrame(X, columns=["x", "y"])
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    frame.to_csv(tmp_path / "far.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["em", "far.csv", "-k", "2", "--noise", "--seed", "0", "--columns", "x,y",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "noise: 2 of the 162 fitted rows have P(noise | x) above 0.5; most probably " \
        "noise first: 16" in out and "Rows are numbered from 0" in out
    line = next(ln for ln in out.splitlines() if "P(noise | x)" in ln)
    assert sorted(line.split("first: ")[1].split(".")[0].split(", ")) == ["160", "161"]
    assert cli.main(["em", "far.csv", "-k", "2", "--noise", "--seed", "0", "--index", "id",
                     "--no-progress"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "P(noise | x)" in ln)
    assert sorted(line.split("first: ")[1].split(", ")) == ["r160", "r161"]
    frame.iloc[:160].to_csv(tmp_path / "clean.csv", index=False)
    assert cli.main(["em", "clean.csv", "-k", "2", "--noise", "--seed", "0", "--index", "id",
                     "--no-progress"]) == 0
    assert "noise: 0 of the 160 fitted rows have P(noise | x) above 0.5\n" in \
        capsys.readouterr().out
    # QA165 M2: rows of weight 0 are no fitted rows: neither counted nor named, in the
    # printout and in the report's noise section
    frame.assign(w=[1.0] * 161 + [0.0, 1.0]).to_csv(tmp_path / "weighted.csv", index=False)
    assert cli.main(["em", "weighted.csv", "-k", "2", "--noise", "--seed", "0", "--index",
                     "id", "--weights", "w", "--no-progress", "--report", "--out", "w"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "P(noise | x)" in ln)
    assert line.startswith("noise: 1 of the 161 fitted rows (1 of the 161 points counted by "
                           "their weights) have P(noise | x) above 0.5; most probably noise "
                           "first: r160"), line
    page = html.unescape((tmp_path / "w" / "report.html").read_text())
    section = page[page.index("The noise component"):]
    assert "1 of 161 points (the 161 rows counted by their frequency weights)" in section
    assert "r161" not in section.split("</table>")[0]


def test_run_the_missing_values_spec(tmp_path, capsys):
    import bayesgmm

    models = Path(__file__).resolve().parents[1] / "models"
    text = (models / "old_faithful_missing.toml").read_text()
    text = text.replace('"../examples/data/old_faithful_missing.csv"',
                        f'"{models.parent / "examples" / "data" / "old_faithful_missing.csv"}"')
    text = text.replace('draws = "auto"', "draws = 100").replace("tune = 1000", "tune = 100")
    text = text.replace("chains = 4", "chains = 2").replace("report = true", "report = false")
    text = text.replace('"../results/old_faithful_missing"', '"out"')
    spec = tmp_path / "missing.toml"
    spec.write_text(text)
    assert cli.main(["run", str(spec), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "missing values:" in out and "integrated out" in out
    result = bayesgmm.load(tmp_path / "out")
    assert result.observations_summary["n_rows_fitted"] == 272
    assert np.isnan(result.idata["observed_data"]["x"].values).sum() > 50


def test_select_passes_weights_missing_values_and_noise(rows_dir, monkeypatch, capsys):
    seen = {}

    def record(frame, ks, covariance_types, **kwargs):
        seen.update(frame=frame, ks=ks, **kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "select_em", record)
    rc = cli.main(["select", "gaps.csv", "-k", "1-3", "--columns", "eruptions,waiting",
                   "--weights", "w", "--noise", "--out", "sel"])
    assert rc == 2 and seen["ks"] == (1, 2, 3) and seen["noise"] is True
    assert seen["missing"] == "marginalise" and np.isnan(seen["frame"].to_numpy()).sum() == 3
    np.testing.assert_array_equal(seen["sample_weight"], pd.read_csv(rows_dir / "gaps.csv")["w"])
    assert "labels" not in seen


def test_select_end_to_end_with_weights(rows_dir, capsys):
    rc = cli.main(["select", "gaps.csv", "-k", "1-2", "--covariance", "full", "--columns",
                   "eruptions,waiting", "--weights", "w", "--n-init", "1", "--jobs", "1",
                   "--seed", "0", "--out", "sel", "--no-progress"])
    assert rc == 0
    page = (rows_dir / "sel" / "select.html").read_text()
    assert "weights column" in page


def test_the_missing_values_line_counts_as_the_fit_does(tmp_path, old_faithful, monkeypatch,
                                                        capsys):
    """QA (messy files): with a row of nothing, the line before the fit said "5 value(s) in
    4 row(s)" and the fit's own record "3 ... in 3 row(s)"; the dropped row was not named."""
    frame = old_faithful.iloc[:40].copy()
    frame.iloc[[3, 9], 0] = np.nan
    frame.iloc[17, 1] = np.nan
    frame.iloc[25] = np.nan  # no value at all
    frame.to_csv(tmp_path / "holes.csv", index=False)
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["em", "holes.csv", "-k", "2", "--seed", "1", "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert ("missing values: 3 value(s) in 3 row(s), integrated out (missing at random "
            "assumed); 1 row(s) with no value at all dropped (row 25)") in out
    assert "observations: 39 row(s) fitted; 3 missing value(s) in 3 row(s)" in out
    assert "no observed value" not in err  # the API's warning, said above already (QA101)
    # an empty row and no other gap: no "0 value(s) in 0 row(s), integrated out" (QA101)
    old_faithful.iloc[:40].assign(waiting=lambda f: f["waiting"].where(f.index != 25)).assign(
        eruptions=lambda f: f["eruptions"].where(f.index != 25)).to_csv("empty.csv",
                                                                          index=False)
    assert cli.main(["em", "empty.csv", "-k", "2", "--seed", "1", "--no-progress"]) == 0
    assert ("missing values: 1 row(s) with no value at all dropped (row 25)\n"
            in capsys.readouterr().out)
