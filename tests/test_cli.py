"""The command line: bad input ends in one line and exit status 2, before any fitting."""

import base64
import contextlib
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import simulate_mixture

import bayesgmm
from bayesgmm import cli

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture
def data_dir(tmp_path, old_faithful, monkeypatch):
    """A working directory with good and bad CSV files."""
    old_faithful.iloc[:60].to_csv(tmp_path / "good.csv", index=False)
    text = old_faithful.iloc[:20].copy()
    text["site"] = "north"
    text.to_csv(tmp_path / "text.csv", index=False)
    na = old_faithful.iloc[:20].copy()
    na.loc[3, "waiting"] = np.nan
    na.to_csv(tmp_path / "na.csv", index=False)
    huge = old_faithful.iloc[:20].astype(float)
    huge.loc[5, "waiting"] = 1e150  # an outlier whose square is ~1e300
    huge.to_csv(tmp_path / "huge.csv", index=False)
    typo = old_faithful.iloc[:20].astype(str)
    typo.loc[4, "waiting"] = "7O"  # letter O
    typo.to_csv(tmp_path / "typo.csv", index=False)
    flags = old_faithful.iloc[:20].copy()
    flags["long"] = flags["eruptions"] > 3
    flags.to_csv(tmp_path / "flags.csv", index=False)
    old_faithful.iloc[:1].to_csv(tmp_path / "one.csv", index=False)
    (tmp_path / "one_empty.csv").write_text((tmp_path / "one.csv").read_text() + ",\n")
    old_faithful.iloc[:20].to_csv(tmp_path / "semi.csv", index=False, sep=";")
    old_faithful.iloc[:60].to_csv(tmp_path / "good.tsv", index=False, sep="\t")
    old_faithful.iloc[:60].to_csv(tmp_path / "indexed.csv")  # pandas' index as a column
    # R's write.csv: an empty quoted header over quoted row names 1..N
    (tmp_path / "r_export.csv").write_text('"","eruptions","waiting"\n' + "".join(
        f'"{n + 1}",{e},{w}\n' for n, (e, w) in enumerate(old_faithful.iloc[:60].to_numpy())))
    labelled = old_faithful.iloc[:20].copy()
    labelled["site"] = np.where(labelled["eruptions"] > 3, "long", "short")
    labelled.to_csv(tmp_path / "labelled.csv", index=False)
    ids = old_faithful.iloc[:60].copy()
    ids.insert(0, "sample_id", [f"S{i:04d}" for i in range(60)])  # text IDs first
    ids.to_csv(tmp_path / "ids.csv", index=False)
    ids.loc[[7, 9], "sample_id"] = "S0003"
    ids.to_csv(tmp_path / "dup_ids.csv", index=False)
    (tmp_path / "a_file").write_text("in the way")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_sampling(monkeypatch):
    """Fail the test if the CLI gets as far as sampling."""
    def refuse(*args, **kwargs):
        raise AssertionError("fit_bayes was called: the input should have been refused first")

    monkeypatch.setattr(cli, "fit_bayes", refuse)


def _run_main(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


BAD_FIT_INPUTS = [
    (["missing.csv", "-k", "2"], "data file not found: missing.csv"),
    (["text.csv", "-k", "2"],
     r"column\(s\) \['site'\] in text.csv are not numeric: 'site' has 'north' in row 0"),
    (["typo.csv", "-k", "2"], r"\['waiting'\] in typo.csv are not numeric: 'waiting' has '7O' in "
                              "row 4"),
    (["flags.csv", "-k", "2"], r"\['long'\] in flags.csv are not numeric: 'long' is boolean"),
    (["huge.csv", "-k", "2"], r"huge.csv has values too large to square in float64 \(max \|x\| = "
                              r"1e\+150 in column 'waiting', row 5.*rescale the data"),
    (["good.csv", "-k", "2", "--columns", "eruptions,depth"], r"unknown column\(s\) \['depth'\]"),
    (["na.csv", "-k", "2", "--missing", "refuse"],
     "have missing values .*--missing marginalise or drop"),
    (["good.csv", "-k", "61"], "K=61 components is more than the 60 row.*give -k at most 60"),
    (["good.csv", "-k", "0"], "-k 0: give 1 component or more"),
    (["good.csv", "-k", "2", "--draws", "0"], "--draws must be >= 1"),
    (["good.csv", "-k", "2", "--out", "a_file/result"], "cannot write a_file/result"),
    (["good.csv", "-k", "2", "--out", "a_file"], "exists and is not a directory; give a new "
                                                  "one"),
    (["good.csv", "-k", "2", "--columns", "waiting,waiting"], "listed more than once"),
    (["good.csv", "-k", "2", "--columns", ""], "--columns is empty"),
    (["good.csv", "-k", "2", "--draws", "100", "--max-draws", "50"],
     "--max-draws bounds --draws auto"),
    (["good.csv", "-k", "2", "--draws", "100", "--max-time", "50"],
     "--max-time bounds --draws auto"),
    (["good.csv", "-k", "2", "--max-time", "0"], "--max-time must be a number of seconds > 0"),
    (["semi.csv", "-k", "2"], "semi.csv looks semicolon-separated"),
    # QA: the sampler's own refusals came after the data were read and the seed printed
    (["good.csv", "-k", "2", "--chains", "1"], "--draws auto samples until R-hat.*give "
                                               "--chains 2 or more"),
    (["good.csv", "-k", "2", "--tune", "0"], "--tune must be >= 1 with nutpie.*--sampler pymc"),
    (["good.csv", "-k", "2", "--target-accept", "1"],
     r"--target-accept must be a number in \(0, 1\); got 1"),
    (["text.csv", "-k", "2", "--seed", "-1"], "--seed must be a non-negative integer"),
    (["missing.csv", "-k", "2", "--tune", "0"], "--tune must be >= 1"),  # flags before data
    (["missing.csv", "-k", "0"], "-k 0: give 1 component or more"),  # flags before data
    (["missing.csv", "-k", "2", "--draws", "1" + "0" * 23], "--draws must be at most 10,000,000"),
    (["missing.csv", "-k", "2", "--chains", "1" + "0" * 11], "--chains must be at most 1,024"),
    (["dup_ids.csv", "-k", "2", "--index", "sample_id"],
     r"the index column 'sample_id' of dup_ids.csv names 1 ID\(s\) more than once: 'S0003' "
     r"\(rows 3, 7, 9\)"),
    (["ids.csv", "-k", "2", "--index", "id"],
     r"the index column 'id' is not in ids.csv; its columns are \['sample_id', 'eruptions', "
     r"'waiting'\]"),
    (["ids.csv", "-k", "2", "--index", "sample_id", "--columns", "sample_id,waiting"],
     "'sample_id' is the index column, not a feature"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_FIT_INPUTS,
                         ids=[m.split()[0] for _, m in BAD_FIT_INPUTS])
def test_bad_fit_input_is_one_line_and_status_2(argv, message, data_dir, no_sampling, capsys):
    before = sorted(p.name for p in data_dir.iterdir())
    rc, out, err = _run_main(["fit", *argv], capsys)
    assert rc == 2 and out == ""  # the error is the only output
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayesgmm: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in err
    assert sorted(p.name for p in data_dir.iterdir()) == before  # nothing written


@pytest.mark.parametrize("argv", [["fit", "good.csv", "-k", "2", "--covariance", "VVV"],
                                  ["select", "good.csv", "--covariance", "full,VVV"]])
def test_an_mclust_model_name_is_refused_with_ours(argv, data_dir, capsys):
    """QA (an mclust user): 'VVV' was refused without a word of what it is here."""
    with pytest.raises(SystemExit) if argv[0] == "fit" else contextlib.nullcontext():
        rc = cli.main(argv)
        assert rc == 2
    assert "mclust's VVV is 'full' here" in capsys.readouterr().err


def test_an_empty_out_is_a_usage_error(data_dir, capsys):
    """QA: --out "" ran and wrote to the default directory (an empty path read as none)."""
    with pytest.raises(SystemExit) as stop:
        cli.main(["fit", "good.csv", "-k", "2", "--out", ""])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1
    assert "--out: expected a directory; got an empty path" in err[0]


def test_an_unknown_option_points_at_its_commands_help(capsys):
    """QA117 L4: "unrecognized arguments: --frob (see bayesgmm --help)", the top level's help,
    where a missing -k points at "bayesgmm fit --help"."""
    with pytest.raises(SystemExit) as stop:
        cli.main(["em", "good.csv", "-k", "2", "--frob"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("bayesgmm em: error: unrecognized arguments: --frob "
                                       "(see bayesgmm em --help)\n")


def test_run_refuses_bad_data_before_sampling(data_dir, no_sampling, capsys):
    for data, message in [("huge.csv", "too large to square in float64"),
                          ("typo.csv", "'waiting' has '7O' in row 4")]:
        spec = data_dir / "spec.toml"
        spec.write_text(f'[data]\npath = "{data}"\n[model]\nn_components = 2\n')
        rc, _, err = _run_main(["run", str(spec)], capsys)
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and lines[0].startswith("bayesgmm: error: ")
        assert message in lines[0] and data in lines[0]


def test_run_names_the_specs_key_for_a_k_larger_than_the_rows(data_dir, no_sampling, capsys):
    """QA89 L7: a spec's n_components = 70 for 60 rows was told to "give -k at most 60"."""
    spec = data_dir / "spec.toml"
    spec.write_text('[data]\npath = "good.csv"\n[model]\nn_components = 5000\n')
    rc, _, err = _run_main(["run", str(spec)], capsys)
    assert rc == 2 and "give n_components in the specification's [model] at most" in err
    assert "-k" not in err


def test_existing_output_needs_force(data_dir, no_sampling, capsys):
    out = data_dir / "results" / "good_k2"  # the default output of `fit good.csv -k 2`
    out.mkdir(parents=True)
    manifest = '{"kind": "BayesResult", "format_version": 1}'
    (out / "manifest.json").write_text(manifest)
    rc, _, err = _run_main(["fit", "good.csv", "-k", "2"], capsys)
    assert rc == 2 and "results/good_k2 already exists" in err and "--force" in err
    assert (out / "manifest.json").read_text() == manifest
    # With --force the output check passes and the CLI goes on to sample.
    with pytest.raises(AssertionError, match="fit_bayes was called"):
        cli.main(["fit", "good.csv", "-k", "2", "--force"])


def test_dropna_says_how_many(data_dir, monkeypatch, capsys):
    seen = {}

    def fake_fit(frame, *args, **kwargs):
        seen["rows"], seen["missing"] = len(frame), kwargs.get("missing")
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "fit_bayes", fake_fit)
    rc, out, _ = _run_main(["fit", "na.csv", "-k", "2", "--dropna"], capsys)
    # the fit drops the row (and records it in its observations summary)
    assert rc == 2 and seen == {"rows": 20, "missing": "drop"}
    assert "dropping 1 row(s) with missing values" in out


def test_default_output_directory():
    assert cli.default_output("data/blobs.csv", 3) == Path("results/blobs_k3")
    assert cli.default_output("bundled:old_faithful", 2) == Path("results/old_faithful_k2")


def test_run_bad_spec_and_bad_output(tmp_path, no_sampling, capsys):
    rc, _, err = _run_main(["run", str(tmp_path / "nope.toml")], capsys)
    assert rc == 2 and "model specification not found" in err
    # a directory is not "not found" (specs QA: `bayesgmm run out`, a result's directory)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text("{}")
    rc, _, err = _run_main(["run", str(tmp_path / "out")], capsys)
    assert rc == 2 and f"bayesgmm report {tmp_path / 'out'}" in err and "not found" not in err
    rc, _, err = _run_main(["run", str(tmp_path)], capsys)
    assert rc == 2 and "is a directory, not a model specification" in err
    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\npath = "bundled:old_faithful"\n[model]\nn_components = 2\n'
                    '[output]\ndirectory = "blocked/out"\n')
    (tmp_path / "blocked").write_text("a file")
    rc, _, err = _run_main(["run", str(spec)], capsys)
    assert rc == 2 and "cannot write" in err and "blocked" in err
    rc, _, err = _run_main(["run", str(tmp_path)], capsys)
    assert rc == 2 and "give one of its model specifications (spec.toml)" in err
    # a key the data do not allow is named as the spec names it, before PyMC loads (QA:
    # "ordered_means is for 1-D data only; X has 2 features" after "loading PyMC")
    spec.write_text('[data]\npath = "bundled:old_faithful"\n[model]\nn_components = 2\n'
                    'ordered_means = true\n')
    rc, _, err = _run_main(["run", str(spec)], capsys)
    assert rc == 2 and ("[model] ordered_means = true is for 1-D data only; "
                        "bundled:old_faithful") in err
    assert "has 2 columns: set ordered_means = false" in err and "PyMC" not in err


def test_run_saves_to_the_spec_directory_with_report(tmp_path, tiny_fit, monkeypatch, capsys):
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    spec = tmp_path / "models" / "faithful.toml"
    spec.parent.mkdir()
    text = (MODELS / "old_faithful.toml").read_text()
    spec.write_text(text.replace('"../results/old_faithful"', '"../out/faithful"')
                    + 'vector_formats = ["svg"]\n')  # the last table is [output]
    rc, out, _ = _run_main(["run", str(spec), "--no-progress"], capsys)
    assert rc == 0, out
    result_dir = tmp_path / "out" / "faithful"
    assert isinstance(bayesgmm.load(result_dir), bayesgmm.BayesResult)
    assert (result_dir / "report.html").is_file()
    assert (result_dir / "figures" / "overlay.png").is_file()
    assert (result_dir / "figures" / "overlay.svg").is_file()
    assert f"saved to {result_dir}" in out
    # the data file's fingerprint is recorded and shown (QA: no way to check the data)
    saved = bayesgmm.load(result_dir).settings
    assert saved["verdict"]["ok"] in (True, False) and saved["verdict"]["verdict"]
    assert saved["verdict"]["verdict"].startswith(saved["verdict"]["sampling_status"] + ":")
    assert saved["verdict"]["status"] in ("OK", "CAUTION", "PROBLEMS")
    digest = saved["data_file_sha256"]
    assert digest == bayesgmm.io.file_sha256(bayesgmm.io.load_spec(spec).data_path)
    assert digest in (result_dir / "report.html").read_text()
    rc, _, err = _run_main(["run", str(spec)], capsys)  # second time: refuse, keep the result
    assert rc == 2 and "already exists" in err
    # the report rewritten with other figure files: the flags say which, the old ones go
    rc, _, err = _run_main(["report", str(result_dir), "--vector", "pdf", "--no-progress"],
                           capsys)
    assert rc == 0, err
    assert {p.suffix for p in (result_dir / "figures").iterdir()} == {".png", ".pdf"}


def test_run_without_an_output_table_saves_beside_the_spec(tmp_path, tiny_fit, monkeypatch,
                                                          capsys):
    """QA (messy files): `cd / && bayesgmm run /path/spec.toml` wrote /results/<name>: the
    default output directory was the working directory's, not the spec's like every path."""
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = tmp_path / "specs" / "rel.toml"
    spec.parent.mkdir()
    spec.write_text('[data]\npath = "bundled:old_faithful"\n[model]\nn_components = 2\n'
                    '[sampler]\nseed = 0\n')
    rc, out, _ = _run_main(["run", str(spec), "--no-progress"], capsys)
    assert rc == 0, out
    assert isinstance(bayesgmm.load(tmp_path / "specs" / "results" / "rel"), bayesgmm.BayesResult)
    assert not any(elsewhere.iterdir())


def test_run_names_the_spec_key_that_adds_a_noise_component(data_dir, old_faithful, tiny_fit,
                                                           monkeypatch, capsys):
    """QA: `run`'s outlier hint said "Consider --noise", a flag `run` does not have."""
    import dataclasses

    frame = pd.concat([old_faithful.iloc[:100],
                       pd.DataFrame({"eruptions": [40.0, -30.0], "waiting": [5.0, 300.0]})])
    frame.to_csv(data_dir / "outliers.csv", index=False)
    em = bayesgmm.fit_em(frame, 2, n_init=4, random_state=0)
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: dataclasses.replace(tiny_fit, em=em))
    spec = data_dir / "outliers.toml"
    spec.write_text('[data]\npath = "outliers.csv"\n[model]\nn_components = 2\n[sampler]\n'
                    'seed = 0\n[output]\ndirectory = "out"\nreport = false\n')
    rc, out, _ = _run_main(["run", str(spec), "--no-progress"], capsys)
    assert rc == 0 and "hint: 2 row(s) (100, 101)" in out
    assert "Consider noise = true in the specification's [data] table" in out
    assert "--noise" not in out


def test_report_of_something_else_is_refused(tmp_path, capsys):
    rc, _, err = _run_main(["report", str(tmp_path)], capsys)
    assert rc == 2 and "not a saved bayesgmm result" in err
    em = bayesgmm.fit_em(bayesgmm.load_old_faithful(), 2, random_state=0)
    em.save(tmp_path / "em")
    rc, _, err = _run_main(["report", str(tmp_path / "em")], capsys)
    assert rc == 2 and "EM result" in err


def _bayesgmm(*args, cwd):
    script = Path(sys.executable).with_name("bayesgmm")
    cmd = [str(script)] if script.exists() else \
        [sys.executable, "-c", "import sys; from bayesgmm.cli import main; sys.exit(main())"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_target_accept_flag_reaches_the_sampler(data_dir, monkeypatch, capsys):
    """QA: the divergence advice says "raise target_accept (e.g. 0.95)"; fit had no flag."""
    seen = {}

    def fake_fit(*args, settings, **kwargs):
        seen["settings"] = settings
        raise KeyboardInterrupt  # as far as the fit: nothing to save

    monkeypatch.setattr(cli, "fit_bayes", fake_fit)
    assert cli.main(["fit", "good.csv", "-k", "2", "--target-accept", "0.95",
                     "--no-progress"]) == 130
    assert seen["settings"].target_accept == 0.95


def test_fit_then_report_end_to_end(data_dir):
    """The installed command: fit (tiny), save, then regenerate the report from the files."""
    done = _bayesgmm("fit", "good.csv", "-k", "2", "--covariance", "diag", "--draws", "100",
                     "--tune", "100", "--chains", "2", "--seed", "0", "--no-progress",
                     cwd=data_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    out = data_dir / "results" / "good_k2"
    assert "saved to results/good_k2" in done.stdout
    # the table's EM column is the start printed above it (MAP-EM), named as such (QA: it was
    # headed "EM estimate", which bayesgmm em prints for the maximum-likelihood fit)
    assert "MAP-EM start (column EM) vs posterior" in done.stdout
    # its numbering is the posterior's, not bayesgmm em's (QA160 L4)
    assert "its component numbers, which the posterior keeps, need not be `bayesgmm em`'s" \
        in done.stdout
    result = bayesgmm.load(out)
    assert result.settings["random_state"] == 0 and result.covariance_type == "diag"
    assert not (out / "report.html").exists()
    # a stricter threshold changes the verdict: printed, and --strict exits 3 on it (the
    # report still written; the default exit 0 on PROBLEMS: test_report_exits_3_only_if_strict)
    done = _bayesgmm("report", str(out), "--ess-min", "100000", "--strict", cwd=data_dir)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Diagnostics: PROBLEMS" in done.stdout and "report: " in done.stdout
    # the reason on standard error too (QA77: a scheduler's log showed exit 3 and nothing)
    assert "bayesgmm: --strict: the verdict is PROBLEMS (" in done.stderr
    assert (out / "report.html").is_file()
    assert len(list((out / "figures").glob("*.png"))) >= 7
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    # the regenerated page is the fit's: titled by its data file, its start search kept
    page = (out / "report.html").read_text()
    assert "from good.csv" in page and "iterations (the " in page  # its start search kept


def test_fit_says_when_the_run_was_restarted_after_divergences(data_dir, tiny_fit,
                                                              monkeypatch, capsys):
    """QA: the console summary of a fit restarted with smaller steps said nothing of it (only
    the report's verdict did); the draws and checks printed are the second run's."""
    retried = {"target_accept": [0.8, 0.95], "divergences": 3, "after_draws": 200,
               "tune": [1000, 3000]}
    restarted = replace(tiny_fit, settings={**tiny_fit.settings, "retried": retried})
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: restarted)
    rc, out, _ = _run_main(["fit", "good.csv", "-k", "2", "--out", "res", "--seed", "1",
                            "--no-progress"], capsys)
    assert rc == 0
    assert ("note: The first run had 3 divergent transition(s) (by draw 200) and was "
            "restarted with smaller steps (target_accept 0.8 -> 0.95) after a longer warm-up "
            "(1,000 -> 3,000 draws)") in out
    assert "Sampling stopped" not in out  # tiny_fit's run converged
    # ... and when the restarted run then stopped early, more draws being futile
    futile = {"draws": 1200, "stopped_by": "futile", "checkpoints": [],
              "reason": "2 divergent transitions in the first 1,200 draws per chain"}
    stopped = replace(restarted, settings={**restarted.settings, "adaptive": futile})
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: stopped)
    rc, out, _ = _run_main(["fit", "good.csv", "-k", "2", "--out", "futile", "--seed", "1",
                            "--no-progress"], capsys)
    assert rc == 0 and ("note: Sampling stopped at 1,200 draws per chain without converging, "
                        "more draws being futile: 2 divergent transitions") in out
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    rc, out, _ = _run_main(["fit", "good.csv", "-k", "2", "--out", "plain", "--seed", "1",
                            "--no-progress"], capsys)
    assert rc == 0 and "first run had" not in out


@pytest.mark.parametrize("strict", [False, True])
def test_report_exits_3_only_if_strict(tiny_fit, tmp_path, monkeypatch, capsys, strict):
    """A PROBLEMS verdict: exit 0 with the verdict printed, 3 under --strict (the page itself
    is drawn by the end-to-end test above; here only what the command returns)."""
    import bayesgmm.report

    written = []
    monkeypatch.setattr(bayesgmm.report, "write_report",
                        lambda result, directory, **kw: written.append(directory)
                        or Path(directory) / "report.html")
    path = tiny_fit.save(tmp_path / "r")
    args = ["report", str(path), "--ess-min", "100000", "--no-progress"]
    rc = cli.main(args + ["--strict"] * strict)
    assert rc == (3 if strict else 0) and len(written) == 1
    assert "Diagnostics: PROBLEMS" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# select: choosing the number of components
# --------------------------------------------------------------------------------------------
@pytest.fixture
def no_selection(monkeypatch):
    """Fail the test if ``select`` gets as far as fitting anything."""
    def refuse(*args, **kwargs):
        raise AssertionError("a fit was started: the input should have been refused first")

    for name in ("select_em", "select_bayes", "fit_sparse", "fit_bayes"):
        monkeypatch.setattr(cli, name, refuse)


BAD_SELECT_INPUTS = [
    (["good.csv", "-k", "0"], "-k '0': the number of components must be >= 1"),
    (["good.csv", "-k", "0-3"], "must be >= 1"),
    (["good.csv", "-k", "three"], "-k 'three': 'three' is not a number of components or a "
                                  "range such as 1-6"),
    (["good.csv", "-k", "1-"], "'1-' is not a number of components"),
    (["good.csv", "-k", "2,,3"], "'' is not a number of components"),
    (["good.csv", "-k", "1-3", "--concentration", "0.1"],
     "--concentration is the sparse mixture's e0: give --sparse K_MAX"),
    (["good.csv", "-k", "2.5"], "'2.5' is not a number of components"),
    (["good.csv", "-k", "6-1"], r"the range 6-1 is empty \(write 1-6\)"),
    # not "'bayesgmm select' compares a range of K" to a user of select (QA)
    (["good.csv", "-k", "1-61"], r"K=61 components is more than the 60 row\(s\) of good.csv: "
                                 r"give -k at most 60 \(each component needs rows of its own\)$"),
    (["good.csv", "-k", "3", "--bayes"], "--bayes compares at least two numbers of components"),
    (["good.csv", "--sparse", "61"], "K=61 .* 60 row.*give --sparse at most 60"),
    (["good.csv", "--sparse", "1"], "--sparse K_MAX must be >= 2"),
    (["good.csv", "--covariance", "full,fill"], r"unknown covariance type\(s\) \['fill'\]"),
    (["good.csv", "--columns", "eruptions,depth"], r"unknown column\(s\) \['depth'\]"),
    (["good.csv", "--columns", "eruptions,"], "--columns has an empty name"),
    (["text.csv"], r"column\(s\) \['site'\] in text.csv are not numeric"),
    (["na.csv", "--missing", "refuse"], "have missing values .*--missing marginalise or drop"),
    (["missing.csv"], "data file not found: missing.csv"),
    (["good.csv", "--n-init", "0"], "--n-init must be between 1 and 1,000,000"),
    # QA: huge values crashed with a traceback; sampler flags without --bayes/--sparse were
    # silently ignored; an infinite --concentration was refused after the whole EM sweep
    (["missing.csv", "--jobs", "1" + "0" * 23], "--jobs must be at most 4096 workers"),
    (["missing.csv", "--n-init", "1" + "0" * 23], "--n-init must be between 1 and"),
    (["missing.csv", "--draws", "500"], "--draws set.* the posterior fits, which only --bayes"),
    (["missing.csv", "--metric", "laplace"],
     "--metric set.* the posterior fits, which only --bayes"),
    (["missing.csv", "--sparse", "4", "--concentration", "inf"],
     "--concentration must be a finite number > 0"),
    (["good.csv", "--jobs", "0"], "--jobs must be"),
    (["good.csv", "--seed", "-1"], "--seed must be a non-negative integer"),
    (["good.csv", "--bayes", "--draws", "0"], "--draws must be >= 1"),
    # QA: a K or a type given twice ran once, unsaid
    (["good.csv", "-k", "2,2,3"], "-k names K 2 more than once; give each once"),
    (["good.csv", "-k", "1-3,2-4"], "-k names K 2, 3 more than once"),
    (["good.csv", "--covariance", "full,full"], "names full more than once"),
    (["good.csv", "--sparse", "5", "--concentration", "0"],
     "--concentration must be a finite number > 0"),
    (["good.csv", "--out", "a_file"], "exists and is not a directory"),
    # QA: the sampler's own refusals came after the EM sweep (minutes), not before the data
    (["good.csv", "-k", "2-3", "--bayes", "--tune", "0"], "--tune must be >= 1 with nutpie"),
    (["missing.csv", "--sparse", "4", "--draws", "auto", "--chains", "1"],
     "--draws auto samples until R-hat"),
    # --draws defaults to 1000 for --sparse: not blamed on a "--draws 1000" never typed
    (["missing.csv", "--sparse", "4", "--max-draws", "3000"],
     "--max-draws bounds --draws auto, and --sparse samples a fixed 1000 draws unless told "
     "otherwise: add --draws auto"),
    # referee QA: LOO's own minimum came after the EM tables
    (["missing.csv", "-k", "2-4", "--bayes", "--draws", "5", "--chains", "2"],
     r"PSIS-LOO needs at least 25 draws in all \(chains x draws\); got 2 x 5"),
    (["dup_ids.csv", "--index", "sample_id"], "names 1 ID.* more than once: 'S0003'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_SELECT_INPUTS,
                         ids=[" ".join(a[1:]) or a[0] for a, _ in BAD_SELECT_INPUTS])
def test_bad_select_input_is_one_line_and_status_2(argv, message, data_dir, no_selection,
                                                    capsys):
    before = sorted(p.name for p in data_dir.iterdir())
    rc, out, err = _run_main(["select", *argv], capsys)
    assert rc == 2 and out == ""  # the error is the only output
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayesgmm: error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert sorted(p.name for p in data_dir.iterdir()) == before  # nothing written


def test_select_refuses_an_existing_output_without_force(data_dir, no_selection, capsys):
    out = data_dir / "results" / "good_select"  # the default output of `select good.csv`
    out.mkdir(parents=True)
    (out / "select.html").write_text("old")
    (out / "manifest.json").write_text('{"kind": "SelectionReport", "format_version": 1, '
                                       '"files": ["manifest.json", "select.html"]}')
    rc, _, err = _run_main(["select", "good.csv"], capsys)
    assert rc == 2 and "results/good_select already exists" in err and "--force" in err
    assert "overwrite=True" not in err  # the command line's option alone (QA136)
    assert (out / "select.html").read_text() == "old"
    with pytest.raises(AssertionError, match="a fit was started"):  # --force: on to fitting
        cli.main(["select", "good.csv", "--force"])


def test_select_strict_exits_3_when_no_candidate_is_fit_to_choose(tmp_path, monkeypatch,
                                                                  capsys):
    """QA81: with every EM cell degenerate (two 0/1 columns, K=5-6) select printed a "Best"
    and exited 0, and had no --strict. Under --strict: exit 3 with the reason on stderr;
    always: settings.json's status PROBLEMS and the reason, and the tables still written."""
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.integers(0, 2, (60, 2)), columns=["a", "b"]).to_csv(
        tmp_path / "binary.csv", index=False)
    monkeypatch.chdir(tmp_path)
    argv = ["select", "binary.csv", "-k", "5-6", "--covariance", "full,diag", "--n-init", "1",
            "--seed", "0", "--jobs", "1", "--no-progress"]
    rc, _, err = _run_main([*argv, "--out", "plain"], capsys)
    assert rc == 0, err
    recorded = json.loads((tmp_path / "plain" / "settings.json").read_text())
    assert recorded["status"] == "PROBLEMS"
    assert recorded["problems"] == ["every cell of the EM grid is degenerate (none is a proper "
                                    "fit)"]
    rc, _, err = _run_main([*argv, "--out", "strict", "--strict"], capsys)
    assert rc == cli.EXIT_PROBLEMS
    assert err.strip().splitlines()[-1] == (
        "bayesgmm: --strict: every cell of the EM grid is degenerate (none is a proper fit); "
        "exit status 3")
    assert (tmp_path / "strict" / "criteria.csv").is_file()
    # a --bayes run whose every posterior fails: the same, from its fits' verdicts
    from bayesgmm.cli import _select_problems

    table = pd.DataFrame({"error": ["", ""], "degenerate": [False, False]})
    fits = types.SimpleNamespace(table=table)
    failed = types.SimpleNamespace(diagnostics={"K=1": "PROBLEMS: R-hat", "K=2": "PROBLEMS: x"})
    assert _select_problems(fits, failed) == [
        "every posterior fit (K=1, K=2) failed its checks (PROBLEMS)"]
    one_passed = types.SimpleNamespace(diagnostics={"K=1": "PROBLEMS: R-hat", "K=2": "OK: all"})
    assert _select_problems(fits, one_passed) == []
    # QA163 M1: a sparse mixture at PROBLEMS is no answer on K either
    sparse = types.SimpleNamespace(diagnostics=types.SimpleNamespace(status="PROBLEMS"))
    assert _select_problems(fits, one_passed, sparse) == [
        "the sparse mixture's posterior failed its checks (PROBLEMS): its P(K+) is not to be "
        "trusted"]
    sparse.diagnostics.status = "CAUTION"
    assert _select_problems(fits, None, sparse) == []


def test_default_select_output_directory():
    assert cli.default_output("data/blobs.csv", suffix="select") == Path("results/blobs_select")
    assert cli.default_output("bundled:galaxies", suffix="select") == \
        Path("results/galaxies_select")


@pytest.fixture
def three_csv(tmp_path, monkeypatch):
    """Well-separated K=3 in 2-D (the conftest mixture) as a CSV in the working directory."""
    X, _, _ = simulate_mixture(n=300, seed=3)
    pd.DataFrame(X, columns=["x", "y"]).to_csv(tmp_path / "three.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_select_em_prints_the_table_and_writes_the_report(three_csv, capsys):
    rc, out, err = _run_main(["select", "three.csv", "-k", "1-4", "--covariance", "full,diag",
                              "--n-init", "2", "--seed", "0", "--jobs", "1"], capsys)
    assert rc == 0, err
    assert "BIC (lower is better)" in out and "ICL (lower is better)" in out
    assert "BIC -> K=3 " in out and "ICL -> K=3 " in out
    assert "seed 0" in out and "report: results/three_select/select.html" in out
    result = three_csv / "results" / "three_select"
    assert sorted(p.name for p in result.iterdir()) == ["criteria.csv", "figures",
                                                         "manifest.json", "select.html",
                                                         "settings.json"]
    # the seed, machine-readable (QA: a drawn one was in select.html only), with em.json's
    # keys and JSON types (QA81: "root seed", "rows": "1,000", prose for tol)
    recorded = json.loads((result / "settings.json").read_text())
    assert recorded["random_state"] == 0 and recorded["seed_drawn"] is False
    assert recorded["data_source"] == "three.csv" and recorded["n_rows"] == 300
    assert recorded["data_file_sha256"] == bayesgmm.io.file_sha256(three_csv / "three.csv")
    assert recorded["n_components"] == [1, 2, 3, 4]
    assert recorded["covariance_types"] == ["full", "diag"]
    # how EM ran, which moves every criterion (QA67: --reg-covar 0.5 was recorded nowhere)
    assert recorded["reg_covar"] == 1e-6 and recorded["reg_covar_given"] is False
    assert (recorded["tol"], recorded["atol"], recorded["n_init"]) == (0.001, 0.01, 2)
    assert recorded["init"] == ["kmeans++", "random_from_data"]
    # the choice itself, as the console says it (QA81: on the console and the page only)
    assert recorded["best"]["bic"]["n_components"] == 3
    assert recorded["status"] == "OK" and recorded["problems"] == []
    assert recorded["bayes"] is None and recorded["sparse"] is None
    criteria = pd.read_csv(result / "criteria.csv", keep_default_na=False)
    chosen = criteria[criteria["chosen_by"].str.contains("bic")]
    assert len(chosen) == 1 and chosen.iloc[0]["n_components"] == 3
    assert chosen.iloc[0]["covariance_type"] == recorded["best"]["bic"]["covariance_type"]
    # its components printed, as the notes number them (QA81: nowhere to be seen)
    assert f"BIC's choice, K=3 {recorded['best']['bic']['covariance_type']}, the " \
        "components the notes number:" in out and "mean[x]" in out
    # every file is in the manifest, with its checksum (QA: the tables were written after it)
    manifest = json.loads((result / "manifest.json").read_text())
    assert "criteria.csv" in manifest["files"] and "criteria.csv" in manifest["sha256"]
    assert not [p for p in (three_csv / "results").iterdir() if p.name.startswith(".")]
    page = (result / "select.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "data:image/png;base64," in page
    png = result / "figures" / "criteria.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert base64.b64encode(png.read_bytes()).decode() in page
    assert "EM information criteria" in page and "Settings and software" in page
    assert "<th scope=\"row\">reg_covar (covariance floor)</th>" in page
    # QA67: mclust's choice on iris, VEV, read as a disagreement: the model set is said
    assert "the four types are 4 of its 14 models: full = VVV, tied = EEE" in page
    assert "PSIS-LOO" not in page  # no --bayes
    # the data file's fingerprint, as fit's and em's reports give it (QA: select had none)
    assert bayesgmm.io.file_sha256(three_csv / "three.csv") in page
    table = pd.read_csv(result / "criteria.csv")
    assert len(table) == 8 and {"bic", "aic", "icl"} <= set(table.columns)
    # The same seed gives the same table; a second run needs --force.
    rc, _, err = _run_main(["select", "three.csv", "-k", "1-4", "--covariance", "full,diag",
                            "--n-init", "2", "--seed", "0", "--jobs", "1"], capsys)
    assert rc == 2 and "already exists" in err
    rc, _, _ = _run_main(["select", "three.csv", "-k", "1-4", "--covariance", "full,diag",
                          "--n-init", "2", "--seed", "0", "--jobs", "1", "--force"], capsys)
    assert rc == 0
    pd.testing.assert_frame_equal(pd.read_csv(result / "criteria.csv"), table)


@pytest.mark.slow
def test_select_bayes_and_sparse(tmp_path, monkeypatch, capsys):
    X, _, _ = simulate_mixture(n=150, seed=3)
    pd.DataFrame(X, columns=["x", "y"]).to_csv(tmp_path / "three.csv", index=False)
    monkeypatch.chdir(tmp_path)
    rc, out, err = _run_main(
        ["select", "three.csv", "-k", "2-3", "--covariance", "full", "--bayes", "--sparse", "4",
         "--draws", "150", "--tune", "150", "--chains", "2", "--n-init", "2", "--seed", "1",
         "--jobs", "1", "--no-progress", "--out", "sel"], capsys)
    assert rc == 0, err
    assert "PSIS-LOO over K = 2, 3 with full covariances" in out
    # K=3 on top; with 150 draws its checks may fail, and the verdict's head then says so
    assert "elpd_diff" in out and ("K=3 is best" in out or "K=3 has the highest elpd_loo" in out)
    assert "posterior mode K+=3" in out and "P(K+ = k), by chain:" in out
    # over all chains once (the summary line's P(K+=k)), not again as the table's last row
    table = out.split("P(K+ = k), by chain:\n", 1)[1].splitlines()[:5]
    assert [line.split()[0] for line in table[2:4]] == ["0", "1"], table
    assert not any(line.split()[:1] == ["all"] for line in table), table
    result = tmp_path / "sel"
    # criteria, LOO, K+ and the BIC-chosen model's density over the data
    assert {p.name for p in (result / "figures").iterdir()} == {
        "criteria.png", "loo.png", "n_components.png", "chosen.png"}
    page = (result / "select.html").read_text()
    assert "Figure &quot;" not in page and 'Figure "' not in page  # no figure failed
    assert page.count("data:image/png;base64,") == 4
    assert "Bayesian comparison (PSIS-LOO)" in page and "non-empty components" in page
    # the sampler's settings once, in the posterior fits' table (QA: in two tables)
    assert page.count("<th scope=\"row\">sampler: tune</th>") == 1
    assert "<th scope=\"row\">tune</th>" not in page
    loo = pd.read_csv(result / "loo.csv", index_col="model")
    assert loo.index[0] == "K=3"
    # each fit's status beside its rank (referee QA: a failed fit ranked first, unmarked)
    assert loo["checks"].notna().all() and set(loo["checks"]) <= {"OK", "CAUTION", "PROBLEMS"}
    # joins criteria.csv by its keys; settings.json records the sampling and each fit's status
    criteria = pd.read_csv(result / "criteria.csv")
    joined = loo.merge(criteria, on=["n_components", "covariance_type"])
    assert len(joined) == 2 and joined["bic"].notna().all()
    recorded = json.loads((result / "settings.json").read_text())
    assert recorded["bayes"]["sampler_settings"]["draws"] == 150
    assert recorded["bayes"]["sampler_settings"]["chains"] == 2
    assert recorded["bayes"]["thresholds"]["rhat_max"] == 1.01
    assert [f["model"] for f in recorded["bayes"]["fits"]] == ["K=2", "K=3"]
    assert [f["status"] for f in recorded["bayes"]["fits"]] == [
        loo.loc[name, "checks"] for name in ("K=2", "K=3")]
    # the sparse verdict printed beside P(K+), not the K_max-component fit's generic checks
    # (QA163 M1), its mode and P(K+), and the metric used (QA163 L1)
    assert recorded["sparse"]["k_max"] == 4
    assert recorded["sparse"]["status"] in ("OK", "CAUTION", "PROBLEMS")
    assert recorded["sparse"]["metric_used"] == "diag"  # "auto" is diag for a sparse fit
    counts = pd.read_csv(result / "n_nonempty.csv", index_col=0).loc["all"]
    assert {int(k): p for k, p in recorded["sparse"]["posterior_counts"].items() if p > 0} \
        == pytest.approx({int(k): p for k, p in counts.items() if p > 0}, abs=1e-3)
    assert recorded["sparse"]["mode"] == int(counts.astype(float).idxmax())
    # whether LOO's best can be trusted, and the simplest within noise (QA163 M3)
    best = recorded["bayes"]["best"]["model"]
    assert isinstance(recorded["bayes"]["best_reliable"], bool)
    if loo.loc[best, "checks"] == "PROBLEMS":
        assert not recorded["bayes"]["best_reliable"]
    simplest = recorded["bayes"]["simplest_within_noise"]
    assert simplest is None or simplest["model"] in loo.index
    assert pd.read_csv(result / "n_nonempty.csv", index_col=0).loc["all"].sum() == \
        pytest.approx(1.0)


@pytest.mark.parametrize(("flags", "expected"), [
    (["--bayes"], {"bayes": "auto"}),
    (["--sparse", "4"], {"sparse": 1000}),
    (["--bayes", "--sparse", "4"], {"bayes": "auto", "sparse": 1000}),
    (["--bayes", "--sparse", "4", "--draws", "300"], {"bayes": 300, "sparse": 300}),
    (["--sparse", "4", "--draws", "auto"], {"sparse": "auto"}),
], ids=["bayes", "sparse", "both", "both-given", "sparse-auto"])
def test_select_samples_loo_fits_until_converged_and_the_sparse_fit_1000(
        tmp_path, monkeypatch, capsys, flags, expected):
    """select --bayes compares posteriors that passed their checks (draws auto: a fixed 1,000
    failed them on the README's example and on galaxies); a sparse mixture keeps its fixed
    1,000, as its empty components never converge."""
    X, _, _ = simulate_mixture(n=60, seed=3)
    pd.DataFrame(X, columns=["x", "y"]).to_csv(tmp_path / "three.csv", index=False)
    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake_select_bayes(frame, ks, settings, **kwargs):
        seen["bayes"] = settings.draws
        if "--sparse" not in flags:  # the last fit: stop before anything is written
            raise ValueError("the sampler's settings are seen")
        return types.SimpleNamespace(results={})

    def fake_fit_sparse(frame, k_max, settings, **kwargs):
        seen["sparse"] = settings.draws
        raise ValueError("the sampler's settings are seen")

    monkeypatch.setattr(cli, "select_bayes", fake_select_bayes)
    monkeypatch.setattr(cli, "fit_sparse", fake_fit_sparse)
    rc, _, err = _run_main(["select", "three.csv", "-k", "2-3", "--covariance", "full",
                            "--n-init", "1", "--seed", "1", "--jobs", "1", "--no-progress",
                            *flags], capsys)
    assert rc == 2 and "the sampler's settings are seen" in err
    assert seen == expected


@pytest.mark.parametrize(("ok", "strict", "expected"),
                         [(False, True, 3), (False, False, 0), (True, True, 0)])
def test_strict_exits_3_on_problems_and_still_saves(data_dir, tiny_fit, monkeypatch, capsys,
                                                    ok, strict, expected):
    import types

    verdict = "OK: all checks passed" if ok else "PROBLEMS: R-hat 1.05 > 1.01"
    diag = types.SimpleNamespace(ok=ok, verdict=verdict,
                                 advice=() if ok else ("slow mixing: draws=4000",))
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    monkeypatch.setattr(type(tiny_fit), "diagnostics", lambda self, **k: diag)
    argv = ["fit", "good.csv", "-k", "2", "--out", "res", "--no-progress"]
    rc, out, _ = _run_main(argv + (["--strict"] if strict else []), capsys)
    assert rc == expected
    assert f"Diagnostics: {verdict}" in out
    assert ("advice: slow mixing: draws=4000" in out) is not ok
    assert isinstance(bayesgmm.load(data_dir / "res"), bayesgmm.BayesResult)


# --------------------------------------------------------------------------------------------
# a command line that answers at once: help, version and input errors load no heavy library
# --------------------------------------------------------------------------------------------
HEAVY = ("pymc", "pytensor", "arviz", "nutpie", "xarray", "numba", "matplotlib", "scipy.stats",
         "bayesgmm.sampling", "bayesgmm.selection", "bayesgmm.posterior",
         "bayesgmm.persistence")

_PROBE = """
import sys
from bayesgmm import cli
try:
    rc = cli.main(sys.argv[1:])
except SystemExit as exc:
    rc = exc.code
heavy = {heavy!r}
print(rc, ",".join(sorted(m for m in heavy if m in sys.modules)))
"""


def _modules_loaded_by(argv, cwd, heavy=HEAVY):
    """Exit status and the heavy modules a fresh ``main(argv)`` imported."""
    done = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=heavy), *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    rc, _, loaded = done.stdout.strip().splitlines()[-1].partition(" ")
    return int(rc), [m for m in loaded.split(",") if m], done


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["fit", "--help"],
                                  ["select", "--help"], ["fit", "good.csv"],
                                  ["fit", "missing.csv", "-k", "2"],
                                  ["fit", "good.csv", "-k", "2", "--covariance", "ful"],
                                  ["fit", "good.csv", "-k", "61"],
                                  ["em", "text.csv", "-k", "2"],
                                  ["select", "good.csv", "-k", "three"],
                                  ["run", "missing.toml"], ["report", "nowhere"],
                                  ["spec"], ["spec", "--data", "good.csv"]],
                         ids=" ".join)
def test_help_version_and_input_errors_load_no_heavy_library(argv, data_dir):
    # pandas is allowed where the data are read: the errors about the data need it.
    heavy = HEAVY if argv[-1] != "--help" else (*HEAVY, "pandas")
    # fit checks its output directory first, through bayesgmm.paths (standard library only):
    # no ArviZ either (it took ~3 s of CPU through persistence before).
    rc, loaded, done = _modules_loaded_by(argv, data_dir, heavy)
    assert rc in (0, 2), done.stderr[-2000:]
    assert loaded == [], f"{' '.join(argv)} imported {loaded}"


def test_every_option_has_help_and_fit_shows_examples(capsys):
    parser = cli._parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"fit", "em", "run", "report", "select", "warm"} <= set(commands)
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    with pytest.raises(SystemExit) as exc:
        cli.main(["fit", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "bayesgmm fit bundled:old_faithful -k 2" in out
    assert "number of mixture components" in out and "seed of EM and the sampler" in out


def test_spec_prints_or_writes_a_specification_that_run_reads(data_dir, capsys, monkeypatch):
    """QA93 M3: `run --help` sent a pip user to models/README.md, which no install has;
    `bayesgmm spec` writes every key, and for a data file its columns."""
    from bayesgmm.io import load_spec
    from bayesgmm.io.specs import spec_template

    monkeypatch.chdir(data_dir)
    rc, out, _ = _run_main(["spec"], capsys)
    assert (rc, out) == (0, spec_template())
    rc, out, err = _run_main(["spec", "out/text.toml", "--data", "text.csv"], capsys)
    assert rc == 2 and err.startswith("bayesgmm: error: no directory out")
    rc, out, err = _run_main(["spec", "text.toml", "--data", "text.csv"], capsys)
    assert rc == 0 and out == "wrote text.toml: edit it, then `bayesgmm run text.toml`\n"
    spec = load_spec("text.toml")
    assert Path(spec.data_path) == data_dir / "text.csv" and "site" not in spec.columns
    assert '# not listed: "site" (text)' in Path("text.toml").read_text()
    rc, _, err = _run_main(["spec", "text.toml"], capsys)
    assert rc == 2 and err == ("bayesgmm: error: text.toml exists: give another file name, or "
                               "--force to replace it\n")
    assert load_spec("text.toml").data_path == spec.data_path  # untouched
    rc, _, err = _run_main(["spec", "--force"], capsys)
    assert rc == 2 and "give the FILE to write" in err
    assert _run_main(["spec", "text.toml", "--force"], capsys)[0] == 0
    assert load_spec("text.toml").data_path == "bundled:old_faithful"


@pytest.fixture
def thread_variables(monkeypatch):
    """The thread variables unset for the test (and as they were after it: setenv records
    them), and numba's and the BLAS's pools restored after it."""
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits

    for name in cli._THREAD_VARIABLES:
        monkeypatch.setenv(name, "1")
        monkeypatch.delenv(name)
    threads = numba.get_num_threads()
    blas = {info["filepath"]: info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas"}
    yield
    numba.set_num_threads(threads)
    for limit in set(blas.values()):
        threadpool_limits(limits=limit, user_api="blas")


@pytest.mark.parametrize("command", ["fit", "run", "select"])
def test_cores_sizes_the_chains_and_every_thread_pool(data_dir, capsys, monkeypatch,
                                                      thread_variables, command):
    """QA93 L1: batch jobs had no flag to keep a fit to its share of a node (a simulated
    64-core node started 72 threads per fit)."""
    import numba

    seen = {}

    def fake_fit(*args, **kwargs):
        seen["settings"] = kwargs.get("settings")
        raise KeyboardInterrupt  # far enough: the settings are the point

    monkeypatch.setattr(cli, "fit_bayes", fake_fit)
    monkeypatch.setattr(cli, "select_bayes", fake_fit, raising=False)
    spec = data_dir / "spec.toml"
    spec.write_text('[data]\npath = "good.csv"\n[model]\nn_components = 2\n'
                    '[sampler]\ncores = 2\ndraws = 100\n')
    argv = {"fit": ["fit", "good.csv", "-k", "2", "--draws", "100"],
            "run": ["run", str(spec)],
            "select": ["select", "good.csv", "-k", "1-2", "--bayes", "--covariance", "full",
                       "--draws", "100"]}[command]
    rc, _, _ = _run_main([*argv, "--cores", "1"], capsys)
    assert rc == cli.EXIT_INTERRUPTED
    assert {os.environ[name] for name in cli._THREAD_VARIABLES} == {"1"}
    assert numba.get_num_threads() == 1
    from threadpoolctl import threadpool_info  # the BLAS loaded before the flag (QA98)

    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}
    assert seen["settings"].cores == 1


def test_em_takes_cores_and_zero_is_refused(data_dir, capsys, thread_variables):
    rc, out, _ = _run_main(["em", "good.csv", "-k", "2", "--cores", "1", "--seed", "1"], capsys)
    assert rc == 0 and os.environ["NUMBA_NUM_THREADS"] == "1" and "log-likelihood" in out
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--cores", "0"], capsys)
    assert rc == 2 and err == "bayesgmm: error: --cores 0: give 1 core or more\n"


def test_run_help_names_what_an_installed_package_has(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "models/README.md" not in out and "`bayesgmm spec` writes one" in out


def test_every_command_help_has_examples(capsys):
    """The README promises every option explained, with examples, under COMMAND --help;
    report and select had none (QA)."""
    commands = cli._parser()._subparsers._group_actions[0].choices
    for name in commands:
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"])
        out = capsys.readouterr().out
        assert exc.value.code == 0
        examples = out.split("\nexamples:\n", 1)
        assert len(examples) == 2, f"{name} --help has no examples section"
        assert re.search(rf"^  bayesgmm {name}\b", examples[1], re.M), (name, examples[1])


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"bayesgmm {bayesgmm.__version__}"


def test_samplers_offered_are_the_samplers_fit_bayes_takes():
    from bayesgmm import sampling

    fit = cli._parser()._subparsers._group_actions[0].choices["fit"]
    (sampler,) = [a for a in fit._actions if a.dest == "sampler"]
    assert tuple(sampler.choices) == sampling.SAMPLERS


# --------------------------------------------------------------------------------------------
# em: EM only, no PyMC
# --------------------------------------------------------------------------------------------
def test_em_prints_the_estimate_without_loading_pymc(data_dir):
    # --out saves the fit, estimates.csv and memberships.csv without xarray (review)
    rc, loaded, done = _modules_loaded_by(["em", "good.csv", "-k", "2", "--seed", "3",
                                           "--out", "emo"],
                                          data_dir, ("pymc", "pytensor", "nutpie", "xarray"))
    assert rc == 0, done.stderr[-2000:]
    assert loaded == [] and (data_dir / "emo" / "memberships.csv").is_file()
    assert "EM: log-likelihood" in done.stdout and "BIC" in done.stdout
    assert "corr[eruptions, waiting]" in done.stdout and "seed 3" in done.stdout
    assert "fitting EM (20 restarts)" in done.stderr
    # no correlations where the type has none, one sd where it has one (QA: rows of 0s)
    one_sd = subprocess.run([sys.executable, "-m", "bayesgmm", "em", "good.csv", "-k", "2",
                             "--seed", "3", "--covariance", "spherical", "--no-progress"],
                            cwd=data_dir, capture_output=True, text=True, timeout=600)
    assert one_sd.returncode == 0, one_sd.stderr[-2000:]
    assert "sd (every feature)" in one_sd.stdout and "corr[" not in one_sd.stdout
    assert "sd[eruptions]" not in one_sd.stdout
    em = bayesgmm.fit_em(pd.read_csv(data_dir / "good.csv"), 2, n_init=10, random_state=3)
    assert f"{em.log_likelihood:,.2f}" in done.stdout
    # with --report the fit is saved beside the report, still without PyMC or ArviZ
    rc, loaded, done = _modules_loaded_by(["em", "good.csv", "-k", "2", "--seed", "3",
                                           "--report", "--out", "emr"], data_dir,
                                          ("pymc", "pytensor", "nutpie", "arviz"))
    assert rc == 0 and loaded == [], done.stderr[-2000:]
    assert "saved the EM fit to emr" in done.stdout


def test_em_report_is_written_and_not_replaced_without_force(data_dir, capsys):
    rc, out, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "0", "--report",
                              "--no-progress"], capsys)
    assert rc == 0, err
    target = data_dir / "results" / "good_em_k2"
    assert (target / "report.html").is_file() and err == ""
    assert {p.stem for p in (target / "figures").glob("*.png")} >= {"density", "em_convergence"}
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--report"], capsys)
    assert rc == 2 and "--force" in err
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--report", "--force",
                            "--no-progress"], capsys)
    assert rc == 0, err
    # the fit itself is saved beside its report (QA: the CLI's EM numbers could not be
    # reloaded), as its seed says
    em = bayesgmm.load(target)
    assert isinstance(em, bayesgmm.EMResult) and em.settings["seed_drawn"] is True
    # which data, and how they were read, saved with the fit (QA: em.json had neither)
    assert em.settings["data_source"] == "good.csv"
    assert em.settings["data_file_sha256"] == bayesgmm.io.file_sha256(data_dir / "good.csv")
    assert em.observations["missing"] == "marginalise"
    rc, _, err = _run_main(["report", str(target)], capsys)
    assert rc == 2 and "bayesgmm em DATA -k K --report" in err
    # no --seed: the report records the one drawn, and says it was drawn
    assert "none was given: drawn at random and recorded" in (target / "report.html").read_text()


def test_report_figure_flags(data_dir, capsys):
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "0", "--report", "--dpi",
                            "150", "--vector", "pdf", "--no-progress", "--out", "sharp"], capsys)
    assert rc == 0, err
    figures = data_dir / "sharp" / "figures"
    assert {p.suffix for p in figures.iterdir()} == {".png", ".pdf"}
    assert {p.stem for p in figures.glob("*.pdf")} == {p.stem for p in figures.glob("*.png")}
    for argv, message in [(["--dpi", "5000"], "--dpi must be between 50 and 1200; got 5000"),
                          (["--vector", "jpg"], r"--vector: unknown vector format\(s\) \['jpg'\]")]:
        rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--report", "--out", "other",
                                *argv], capsys)
        assert rc == 2 and re.search(message, err) and len(err.strip().splitlines()) == 1, err
        assert not (data_dir / "other").exists()
    # without a report they would do nothing: refused, not ignored (paper QA)
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--out", "plain", "--dpi", "300"],
                           capsys)
    assert rc == 2 and "--dpi and --vector shape the report's figures" in err
    assert "add --report" in err and not (data_dir / "plain").exists()


def test_warm_fills_the_cache_and_says_so(capsys):
    rc, out, err = _run_main(["warm"], capsys)
    assert rc == 0 and "kernels ready: em" in out and "sampler" in out
    from bayesgmm import progress

    assert not progress.sampler_cache_is_cold()
    assert "kernels" in err and "sampler" in err
    # QA: a noise fit after `warm` compiled its kernels for 15 s in silence; warm covers the
    # row plan's kernels now, and says so
    assert "row plan" in out and not progress.sampler_cache_is_cold(plan=True)
    assert "kernels for missing values, weights and noise" in err
    # QA: `bayesgmm warm --no-progress` was refused (every other command takes it)
    rc, out, err = _run_main(["warm", "--no-progress"], capsys)
    assert rc == 0 and "kernels ready" in out and err == ""


@pytest.mark.parametrize("argv", [["fit", "good.csv", "-k", "2", "--out", "a_file"],
                                  ["report", "a_file"]], ids=" ".join)
def test_an_input_error_in_a_fresh_process_is_one_line(argv, data_dir):
    """Status lines ("loading ArviZ...") never come before an input error off a terminal."""
    done = _bayesgmm(*argv, cwd=data_dir)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayesgmm: error: "), done.stderr


def test_warnings_are_one_line_like_the_errors():
    """A warning from the API reaches the terminal as one 'bayesgmm: warning:' line, without
    Python's file:line header and the source line."""
    import warnings

    with cli._one_line_warnings():
        text = warnings.formatwarning("2 row(s) for 5 free parameters", UserWarning,
                                      "/x/sampling.py", 12, "warnings.warn(...)")
    assert text == "bayesgmm: warning: 2 row(s) for 5 free parameters\n"
    assert warnings.formatwarning("m", UserWarning, "f.py", 1, "x").count("\n") == 2
    # QA (--draws 1): ArviZ's guess that the dims are misnamed, when draws < chains, is not
    # the user's to read; other warnings still are
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with cli._one_line_warnings():
            warnings.warn("Found chain dimension to be longer than draw dimension, check "
                          "dimensions are correctly named.", UserWarning, stacklevel=1)
            warnings.warn("a warning of ours", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["a warning of ours"]


def test_every_row_labelled_leaves_no_empty_component(data_dir, capsys):
    rc, _, err = _run_main(["em", "labelled.csv", "-k", "3", "--labels", "site"], capsys)
    assert rc == 2 and "every row is labelled and none with component(s) [2]" in err


def test_em_out_without_report_saves_the_fit_and_its_estimates(data_dir, capsys):
    """--out alone: the fit and estimates.csv, no report (a shell user wants the numbers);
    --force without anywhere to write is refused before any fitting."""
    rc, out, _ = _run_main(["em", "good.csv", "-k", "2", "--seed", "1", "--out", "somewhere",
                            "--no-progress"], capsys)
    assert rc == 0 and "estimates: somewhere/estimates.csv" in out
    saved = data_dir / "somewhere"
    assert (saved / "estimates.csv").exists() and not (saved / "report.html").exists()
    em = bayesgmm.load(saved)
    table = pd.read_csv(saved / "estimates.csv")
    assert table.loc[table["parameter"] == "weights", "em"].tolist() == list(em.weights)
    # the criteria printed, in em.json too (QA77: the console only)
    criteria = em.settings["criteria"]
    assert f"BIC {criteria['bic']:,.2f}, AIC {criteria['aic']:,.2f}" in out
    assert criteria["n_parameters"] == em.n_parameters
    assert criteria["bic"] == pytest.approx(em.bic(pd.read_csv(data_dir / "good.csv")))
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--out", "somewhere"], capsys)
    assert rc == 2 and "--force" in err  # the earlier output is kept
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--force"], capsys)
    assert rc == 2 and "give --out DIR" in err


@pytest.mark.parametrize("separator", [",", "\t"])
def test_em_reads_standard_input_named_dash(data_dir, monkeypatch, capsys, separator):
    """`cut ... | bayesgmm em - -k 2` (pipeline QA): '-' reads standard input once, fits what
    the file would give, records its fingerprint and names it "standard input"."""
    import io

    from bayesgmm.io import sources

    text = pd.read_csv(data_dir / "good.csv").to_csv(index=False, sep=separator)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    sources.stdin_file.cache_clear()
    try:
        rc, out, err = _run_main(["em", "-", "-k", "2", "--seed", "1", "--no-progress",
                                  "--out", "piped"], capsys)
    finally:
        sources.stdin_file.cache_clear()
    assert rc == 0, err
    assert out.startswith("standard input: ")
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "1", "--no-progress",
                            "--out", "from_file"], capsys)
    piped, from_file = bayesgmm.load(data_dir / "piped"), bayesgmm.load(data_dir / "from_file")
    np.testing.assert_array_equal(piped.means, from_file.means)
    assert piped.settings["data_source"] == "standard input"
    assert piped.settings["data_file_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert cli.default_output("-", 2) == Path("results/stdin_k2")


def test_a_windows_1252_export_is_read_with_encoding_and_it_is_recorded(
        data_dir, old_faithful, tiny_fit, monkeypatch, capsys):
    """QA115 M1: `em`, `spec` and `run` read German Excel's default CSV (Windows-1252, a
    header with umlauts) when told its encoding, fit what the UTF-8 file gives, and record
    how they read it."""
    frame = old_faithful.iloc[:60].set_axis(["Dauer (min)", "Wartezeit ä"], axis=1)
    text = frame.to_csv(index=False, sep=";", decimal=",")
    (data_dir / "win.csv").write_bytes(text.encode("cp1252"))
    (data_dir / "utf8.csv").write_text(text, encoding="utf-8")
    flags = ["--sep", ";", "--decimal", ",", "--seed", "1", "--no-progress"]
    rc, _, err = _run_main(["em", "win.csv", "-k", "2", *flags, "--out", "win"], capsys)
    assert rc == 2 and "--encoding cp1252" in err  # the fix is named
    rc, _, err = _run_main(["em", "win.csv", "-k", "2", *flags, "--encoding", "Windows-1252",
                            "--out", "win"], capsys)
    assert rc == 0, err
    rc, _, err = _run_main(["em", "utf8.csv", "-k", "2", *flags, "--out", "utf8"], capsys)
    win, utf8 = bayesgmm.load(data_dir / "win"), bayesgmm.load(data_dir / "utf8")
    np.testing.assert_array_equal(win.means, utf8.means)
    assert win.settings["data_encoding"] == "cp1252" and "data_encoding" not in utf8.settings
    assert list(win.feature_names) == ["Dauer (min)", "Wartezeit ä"]
    rc, out, err = _run_main(["spec", "win.toml", "--data", "win.csv", "--sep", ";",
                              "--decimal", ",", "--encoding", "cp1252"], capsys)
    assert rc == 0, err
    spec_text = (data_dir / "win.toml").read_text()
    assert 'encoding = "cp1252"' in spec_text and '"Wartezeit ä"' in spec_text
    seen = {}

    def fit(X, *args, **kwargs):
        seen["X"] = X
        return tiny_fit

    monkeypatch.setattr(cli, "fit_bayes", fit)
    rc, out, err = _run_main(["run", "win.toml", "--no-progress"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(seen["X"].to_numpy(), frame.to_numpy())
    assert bayesgmm.load(data_dir / "results" / "win").settings["data_encoding"] == "cp1252"


def test_a_german_export_is_fitted_with_sep_and_decimal_and_they_are_recorded(
        data_dir, old_faithful, tiny_fit, monkeypatch, capsys):
    """QA106 L7: `em`, `select`, `spec` and `run` read a file of semicolons and decimal
    commas when told so, fit what the plain file gives, and record how they read it."""
    german = old_faithful.iloc[:60].to_csv(index=False, sep=";", decimal=",")
    (data_dir / "de.csv").write_text(german)
    old_faithful.iloc[:60].to_csv(data_dir / "plain.csv", index=False)
    rc, _, err = _run_main(["em", "de.csv", "-k", "2", "--sep", ";", "--decimal", ",",
                            "--seed", "1", "--no-progress", "--out", "de"], capsys)
    assert rc == 0, err
    rc, _, err = _run_main(["em", "plain.csv", "-k", "2", "--seed", "1", "--no-progress",
                            "--out", "plain"], capsys)
    german_fit, plain_fit = bayesgmm.load(data_dir / "de"), bayesgmm.load(data_dir / "plain")
    np.testing.assert_array_equal(german_fit.means, plain_fit.means)
    assert (german_fit.settings["data_separator"], german_fit.settings["data_decimal_mark"]) \
        == (";", ",")
    assert "data_separator" not in plain_fit.settings  # recorded where given
    rc, out, err = _run_main(["select", "de.csv", "-k", "1-2", "--covariance", "full",
                              "--sep", ";", "--decimal", ",", "--seed", "1", "--no-progress",
                              "--out", "sel", "--jobs", "1"], capsys)
    assert rc == 0, err
    record = json.loads((data_dir / "sel" / "settings.json").read_text())
    assert record["data_separator"] == ";" and "decimal mark" in \
        (data_dir / "sel" / "select.html").read_text()
    rc, out, err = _run_main(["spec", "de.toml", "--data", "de.csv", "--sep", ";",
                              "--decimal", ","], capsys)
    assert rc == 0, err
    seen = {}

    def fit(X, *args, **kwargs):
        seen["X"] = X
        return tiny_fit

    monkeypatch.setattr(cli, "fit_bayes", fit)
    rc, out, err = _run_main(["run", "de.toml", "--no-progress"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(seen["X"].to_numpy(), old_faithful.iloc[:60].to_numpy())
    saved = bayesgmm.load(data_dir / "results" / "de").settings
    assert (saved["data_separator"], saved["data_decimal_mark"]) == (";", ",")
    page = (data_dir / "results" / "de" / "report.html").read_text()
    assert "; (semicolon)" in page and ", (comma)" in page  # a bare ";" is easily misread


def test_thousands_separators_are_read_with_thousands_and_recorded(data_dir, old_faithful,
                                                                   capsys):
    """QA160 M1: `em` refused "4,304" advising --decimal ',' (which read 4.304); with
    --thousands ',' it fits what the plain file gives, and records how it read it."""
    plain = old_faithful.iloc[:60] * [1, 100]  # waiting in hundredths: 7,900
    plain.to_csv(data_dir / "plain.csv", index=False)
    lines = ["eruptions,waiting"] + [f'{e},"{w:,.0f}"' for e, w in plain.to_numpy()]
    (data_dir / "us.csv").write_text("\n".join(lines) + "\n")
    rc, _, err = _run_main(["em", "us.csv", "-k", "2", "--seed", "1", "--no-progress"], capsys)
    assert rc == 2 and "--thousands ','" in err and "--decimal" not in err
    for name, flags in (("us", ["--thousands", ","]), ("plain", [])):
        rc, _, err = _run_main(["em", f"{name}.csv", "-k", "2", "--seed", "1", "--no-progress",
                                "--out", name, *flags], capsys)
        assert rc == 0, err
    us, flat = bayesgmm.load(data_dir / "us"), bayesgmm.load(data_dir / "plain")
    np.testing.assert_array_equal(us.means, flat.means)
    assert us.settings["data_thousands_separator"] == ","
    assert "data_thousands_separator" not in flat.settings


def test_the_command_line_and_a_runs_specification_are_recorded(data_dir, tiny_fit,
                                                                 monkeypatch, capsys):
    """QA112: neither the command line nor a run's specification was recorded anywhere (the
    spec was named by its file name, which a later edit leaves unchanged)."""
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "1", "--no-progress",
                            "--out", "e", "--report"], capsys)
    assert rc == 0, err
    em = bayesgmm.load(data_dir / "e")
    line = "bayesgmm em good.csv -k 2 --seed 1 --no-progress --out e --report"
    assert em.settings["command_line"] == line
    assert line in (data_dir / "e" / "report.html").read_text()
    spec = data_dir / "model.toml"
    spec.write_text('[data]\npath = "good.csv"\n[model]\nn_components = 2\n[sampler]\n'
                    'seed = 0\n')
    written = spec.read_text()

    def fit_and_edit(*args, **kwargs):  # the spec edited while the run samples (QA114)
        spec.write_text(written.replace("seed = 0", "seed = 1"))
        return tiny_fit

    monkeypatch.setattr(cli, "fit_bayes", fit_and_edit)
    rc, _, err = _run_main(["run", "model.toml", "--no-progress"], capsys)
    assert rc == 0, err
    saved = bayesgmm.load(data_dir / "results" / "model").settings
    assert saved["command_line"] == "bayesgmm run model.toml --no-progress"
    assert saved["specification"] == written  # as it was when the run began
    spec.write_text(written)
    assert saved["specification_sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    page = (data_dir / "results" / "model" / "report.html").read_text()
    assert saved["specification_sha256"] in page and "[sampler]" not in page


@pytest.mark.parametrize("stdin, message", [
    ("", r"standard input \('-'\) is empty"), ("tty", "nothing is piped in")])
def test_standard_input_that_holds_no_table_is_one_line(stdin, message, monkeypatch):
    import io

    from bayesgmm.io import tables

    stream = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    if stdin == "tty":
        monkeypatch.setattr(stream, "isatty", lambda: True)
    monkeypatch.setattr(sys, "stdin", stream)
    with pytest.raises(ValueError, match=message):
        tables.read_data("-")
    # the CLI's copies of io's constants (io loads pandas, --help does not)
    assert cli.STDIN == tables.STDIN and cli._MISSING == tables.MISSING_POLICIES


def test_one_row_on_standard_input_is_named_as_standard_input(monkeypatch, capsys):
    """QA117 L5: "- has 1 row(s)" where every other message says standard input."""
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"eruptions,waiting\n1,2\n")))
    rc, _, err = _run_main(["em", "-", "-k", "1", "--no-progress"], capsys)
    assert rc == 2 and err.startswith("bayesgmm: error: standard input has 1 row(s)"), err


def test_tab_separated_and_a_saved_index(data_dir, capsys):
    """A .tsv file is read with tabs; pandas' saved index (an 'Unnamed: 0' column of 0, 1, ...)
    is left out of the features, with a warning that says so."""
    rc, out, _ = _run_main(["em", "good.tsv", "-k", "2", "--seed", "1", "--no-progress"],
                           capsys)
    assert rc == 0 and "['eruptions', 'waiting']" in out
    with pytest.warns(UserWarning, match="'Unnamed: 0' .* left out"):
        rc, out, _ = _run_main(["em", "indexed.csv", "-k", "2", "--seed", "1",
                                "--no-progress"], capsys)
    assert rc == 0 and "2 column(s) ['eruptions', 'waiting']" in out
    # QA: R's row names (1, 2, ...) were fitted as a feature, with a warning about row IDs
    with pytest.warns(UserWarning, match=r"'Unnamed: 0' .*row numbers 1, 2, \.\.\. \(R row "
                                         r"names\), not data: it is left out"):
        rc, out, _ = _run_main(["em", "r_export.csv", "-k", "2", "--seed", "1",
                                "--no-progress"], capsys)
    assert rc == 0 and "2 column(s) ['eruptions', 'waiting']" in out


def test_ctrl_c_is_one_line_and_status_130(data_dir, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "fit_bayes", interrupted)
    rc, _, err = _run_main(["fit", "good.csv", "-k", "2", "--seed", "1"], capsys)
    assert rc == 130 and "bayesgmm: interrupted" in err and "Traceback" not in err


def test_ctrl_c_after_the_result_is_saved_says_it_is_complete(data_dir, monkeypatch, capsys):
    """QA117 L1: a stop after the result was in place said the directory might hold what it
    held before the run; it names the directory and says the result there is complete."""
    def interrupted_while_printing(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_print_tables", interrupted_while_printing)
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "1", "--out", "kept",
                            "--no-progress"], capsys)
    assert rc == 130 and "Traceback" not in err
    assert "bayesgmm: interrupted after saving kept: that result is complete" in err
    assert bayesgmm.load(data_dir / "kept").n_components == 2
    monkeypatch.setattr(cli, "_print_tables", lambda *a, **k: None)
    # imported first: a module that first imports fit_em under the patch would keep it
    importlib.import_module("bayesgmm.sampling")
    monkeypatch.setattr(bayesgmm.em, "fit_em", interrupted_while_printing)  # before any save
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--out", "other"], capsys)
    assert rc == 130 and "holds what it held before the run or this run's complete result" \
        in err and "saving" not in err


@pytest.mark.parametrize(("name", "status", "words"), [
    ("SIGTERM", 143, "terminated"), ("SIGHUP", 129, "hung up (the terminal closed)")])
def test_sigterm_is_one_line_status_143_and_leaves_no_temporary_directory(
        data_dir, tiny_fit, monkeypatch, capsys, name, status, words):
    """QA: a cancelled CI job (SIGTERM, plain `timeout`) printed nothing and left a 13 MB
    r/.NAME.tmp-* behind. The command line handles it as it does Ctrl-C, and puts the previous
    handler back when main returns (the library installs none). QA103: a closed terminal
    (SIGHUP) likewise, status 129."""
    import os
    import signal
    import time

    signum = getattr(signal, name)

    from bayesgmm import result_files

    class Killed(BaseException):
        """What the process would have died of, without the command line's handler."""

    def kill(signum, frame):
        raise Killed

    def killed_while_saving(result, directory):
        (directory / "idata.nc").write_bytes(b"half written")
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler runs at the next bytecode

    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    monkeypatch.setattr(result_files, "_write_bayes", killed_while_saving)
    previous = signal.signal(signum, kill)
    try:
        rc, out, err = _run_main(["fit", "good.csv", "-k", "2", "--out", "r/b20", "--seed", "1",
                                  "--no-progress"], capsys)
        assert signal.getsignal(signum) is kill  # put back
    finally:
        signal.signal(signum, previous)
    assert rc == status and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"bayesgmm: {words}; results are written "
                                                   "whole or not at all")
    assert not (data_dir / "r").exists() or list((data_dir / "r").iterdir()) == []


def test_a_sigterm_whose_interrupt_python_swallowed_still_stops_the_run(
        data_dir, tiny_fit, monkeypatch, capsys):
    """Downstream QA: a SIGTERM that arrived while a garbage collector's callback ran (JAX's)
    raised its KeyboardInterrupt there, where Python prints "Exception ignored" and goes on:
    the run wrote its whole result and exited 0. The write stops before it publishes, and
    the exit status is 143 all the same."""
    import os
    import signal
    import time

    def swallowed(signum, frame):  # the command line's handler, but its raise is lost
        try:
            handler(signum, frame)
        except KeyboardInterrupt:
            pass

    def fit_then_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs at the next bytecode
        return tiny_fit

    real_enter = cli._Interrupts.__enter__

    def enter(self):
        nonlocal handler
        out = real_enter(self)
        handler = self._note
        signal.signal(signal.SIGTERM, swallowed)
        return out

    handler = None
    monkeypatch.setattr(cli._Interrupts, "__enter__", enter)
    monkeypatch.setattr(cli, "fit_bayes", fit_then_signal)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        rc, out, err = _run_main(["fit", "good.csv", "-k", "2", "--out", "r/swallowed", "--seed",
                                  "1", "--no-progress"], capsys)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert rc == 143 and "Traceback" not in err
    assert not (data_dir / "r" / "swallowed").exists()
    # QA: it went on to print the results (and write the report) before discarding them;
    # it stops at its next status line now (shown or not: --no-progress here)
    assert "Diagnostics:" not in out
    from bayesgmm.result_files import STOP_REQUESTED

    assert not STOP_REQUESTED.is_set()  # cleared for the next run in this process
    bayesgmm.progress.stop_point()  # cleared too: no KeyboardInterrupt
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    rc, out, err = _run_main(["fit", "good.csv", "-k", "2", "--out", "r/after", "--seed", "1",
                              "--no-progress"], capsys)
    assert rc == 0 and (data_dir / "r" / "after" / "idata.nc").exists()


def test_a_reader_that_leaves_costs_neither_a_traceback_nor_the_report(data_dir):
    """``bayesgmm em ... --report | head -3``: the pipe closes before the command prints; the
    printing is dropped and the report is still written, with no BrokenPipeError traceback."""
    script = Path(sys.executable).with_name("bayesgmm")
    cmd = [str(script)] if script.exists() else \
        [sys.executable, "-c", "import sys; from bayesgmm.cli import main; sys.exit(main())"]
    proc = subprocess.Popen([*cmd, "em", "good.csv", "-k", "2", "--seed", "0", "--report",
                             "--out", "em_report"], cwd=data_dir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before anything is printed
    err = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, err[-2000:]
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert (data_dir / "em_report" / "report.html").is_file()


def test_a_status_reader_that_leaves_costs_neither_the_run_nor_its_result(data_dir):
    """QA: ``bayesgmm ... 2>&1 | head -2``: the status lines on a closed stderr killed the run
    with exit 1 and nothing saved. The lines are dropped; the result is written."""
    script = Path(sys.executable).with_name("bayesgmm")
    cmd = [str(script)] if script.exists() else \
        [sys.executable, "-c", "import sys; from bayesgmm.cli import main; sys.exit(main())"]
    proc = subprocess.Popen([*cmd, "em", "good.csv", "-k", "2", "--seed", "0", "--report",
                             "--out", "em_quiet"], cwd=data_dir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    proc.stderr.close()  # the reader is gone before the first status line
    assert proc.wait(timeout=600) == 0
    assert (data_dir / "em_quiet" / "report.html").is_file()
    assert (data_dir / "em_quiet" / "estimates.csv").is_file()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_unwritable_or_closed_stdout_costs_neither_a_traceback_nor_the_result(data_dir):
    """QA (a pipeline): stdout on a full volume (ENOSPC) ended the run in an OSError
    traceback before anything was saved; a closed stdout (fd 1) in an AttributeError. QA117
    H2: the run then exited 0, though for ``spec`` and ``em`` without --out the printout is
    the whole product (``bayesgmm spec > model.toml`` on a full disk: an empty file, status
    0): status 4 now, the result directory still written whole."""
    script = Path(sys.executable).with_name("bayesgmm")
    cmd = str(script) if script.exists() else f"{sys.executable} -m bayesgmm"
    for out, redirect in (("full", "> /dev/full"), ("closed", ">&-")):
        done = subprocess.run(f"{cmd} em good.csv -k 2 --seed 0 --out {out} {redirect}",
                              shell=True, cwd=data_dir, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == (4 if out == "full" else 0), done.stderr[-2000:]
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        assert (data_dir / out / "estimates.csv").is_file()
    # said once where it matters (a reader that left with a pipe is no news)
    # --help and --version too, which argparse prints before main's guard (QA168 L1: 0)
    for command in ("em good.csv -k 2 --seed 0", "spec", "--help", "fit --help", "--version"):
        done = subprocess.run(f"{cmd} {command} > /dev/full", shell=True, cwd=data_dir,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 4, done.stderr[-2000:]
        assert done.stderr.count("standard output cannot be written (No space left on "
                                 "device): what it would show is lost") == 1
    done = subprocess.run(f"{cmd} em good.csv -k 2 --seed 0 --no-progress | head -1; "
                          "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                          cwd=data_dir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # a reader that left
    # bad input with stderr unwritable too: still status 2, not 1 "unexpected" (QA117 L2)
    done = subprocess.run(f"{cmd} em nope.csv -k 2 2>/dev/full", shell=True, cwd=data_dir,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2


def test_em_names_far_outliers_and_suggests_noise(data_dir, old_faithful, capsys):
    """Two far points without --noise: a hint names their rows and the BIC evidence (console
    and report); with --noise, no hint."""
    frame = pd.concat([old_faithful.iloc[:100],
                       pd.DataFrame({"eruptions": [40.0, -30.0], "waiting": [5.0, 300.0]})])
    frame.to_csv(data_dir / "outliers.csv", index=False)
    rc, out, _ = _run_main(["em", "outliers.csv", "-k", "2", "--seed", "0", "--report",
                            "--out", "em_out"], capsys)
    assert rc == 0
    assert "hint: 2 row(s) (100, 101) fit a uniform noise component" in out
    assert "Consider --noise" in out
    # QA: the numbers were 0-based data-row positions, and nothing said so
    assert "Rows are numbered from 0 in file order, header excluded; --index COLUMN names " \
           "them" in out
    page = (data_dir / "em_out" / "report.html").read_text()
    assert "Outliers: 2 row(s) (100, 101)" in page
    assert "numbered from 0 in file order, header excluded" in page
    rc, out, _ = _run_main(["em", "outliers.csv", "-k", "2", "--seed", "0", "--noise"], capsys)
    assert rc == 0 and "hint:" not in out
    # QA: a weighted fit's EM report had no outlier check (the report lacked the weights)
    frame.assign(w=2.0).to_csv(data_dir / "weighted.csv", index=False)
    rc, out, _ = _run_main(["em", "weighted.csv", "-k", "2", "--seed", "0", "--weights", "w",
                            "--report", "--out", "em_weighted"], capsys)
    assert rc == 0 and "hint: 2 row(s) (100, 101)" in out
    page = (data_dir / "em_weighted" / "report.html").read_text()
    assert "Outliers: 2 row(s) (100, 101)" in page


# --------------------------------------------------------------------------------------------
# --index: rows named by a column of IDs; input errors before anything else
# --------------------------------------------------------------------------------------------
BAD_EM_INPUTS = [
    # QA82: one row was "constant columns, leave them out", which would leave no column
    (["one.csv", "-k", "1"], r"one.csv has 1 row\(s\): a fit needs at least 2"),
    (["one_empty.csv", "-k", "1"], r"one_empty.csv has 1 row\(s\) with an observed value: "
                                   "a fit needs at least 2"),
    # QA: em read the data (and refused them) before looking at its own flags
    (["text.csv", "-k", "2", "--seed", "-1"], "--seed must be a non-negative integer"),
    (["missing.csv", "-k", "2", "--n-init", "0"], "--n-init must be between 1 and"),
    (["missing.csv", "-k", "2", "--n-init", "1" + "0" * 23], "--n-init must be between 1 and"),
    (["missing.csv", "-k", "0"], "-k 0: give 1 component or more"),  # flags before data
    (["text.csv", "-k", "2", "--report", "--out", "a_file"], "exists and is not a directory"),
    (["dup_ids.csv", "-k", "2", "--index", "sample_id"], "names 1 ID.* more than once: "
                                                          r"'S0003' \(rows 3, 7, 9\)"),
    (["ids.csv", "-k", "2"], r"column\(s\) \['sample_id'\] in ids.csv are not numeric"),
]


def test_reg_covar_reaches_the_fits_it_names(data_dir, capsys, monkeypatch):
    """QA: a fit failing numerically said "increase reg_covar", and no option did."""
    for command in (["em", "good.csv", "-k", "2"], ["select", "good.csv"]):
        for bad in ("-1", "inf", "nan", "small", "1e300"):  # QA82: 1e300 overflowed
            with pytest.raises(SystemExit) as stop:
                cli.main([*command, "--reg-covar", bad])
            err = capsys.readouterr().err.strip().splitlines()
            assert stop.value.code == 2 and len(err) == 1, err
            assert f"--reg-covar: expected a number >= 0 and at most 1e150, e.g. 1e-4; got " \
                f"'{bad}'" in err[0]
    assert not (data_dir / "results").exists()
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "0", "--reg-covar", "0.01",
                            "--out", "regularised", "--no-progress"], capsys)
    assert rc == 0, err
    assert bayesgmm.load(data_dir / "regularised").reg_covar == 0.01
    taken = {}
    real = cli.select_em

    def spy(*args, **kwargs):
        taken.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "select_em", spy)
    rc, _, err = _run_main(["select", "good.csv", "-k", "1-2", "--covariance", "full",
                            "--n-init", "1", "--jobs", "1", "--seed", "0", "--reg-covar", "0.01",
                            "--no-progress"], capsys)
    assert rc == 0, err
    assert taken["reg_covar"] == 0.01


@pytest.mark.parametrize(("argv", "message"), BAD_EM_INPUTS, ids=[m[:20] for _, m in BAD_EM_INPUTS])
def test_bad_em_input_is_the_only_output(argv, message, data_dir, capsys):
    rc, out, err = _run_main(["em", *argv], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and out == "" and len(lines) == 1, err
    assert re.search(message, lines[0]), lines[0]


def test_index_names_the_rows_in_the_hint_and_the_report(data_dir, old_faithful, capsys):
    """QA: a first column of sample IDs could not be kept (not numeric); --columns dropped it,
    and the outlier hint and the report then named rows by their positions."""
    frame = pd.concat([old_faithful.iloc[:100],
                       pd.DataFrame({"eruptions": [40.0, -30.0], "waiting": [5.0, 300.0]})])
    frame.insert(0, "sample_id", [f"S{i:04d}" for i in range(len(frame))])
    frame.to_csv(data_dir / "outliers_ids.csv", index=False)
    rc, out, err = _run_main(["em", "outliers_ids.csv", "-k", "2", "--index", "sample_id",
                              "--seed", "0", "--report", "--out", "em_ids", "--no-progress"],
                             capsys)
    assert rc == 0, err
    assert "2 column(s) ['eruptions', 'waiting'], rows named by 'sample_id'" in out
    assert "hint: 2 row(s) (S0100, S0101) fit a uniform noise component" in out
    assert "numbered from 0" not in out
    page = (data_dir / "em_ids" / "report.html").read_text()
    assert "Outliers: 2 row(s) (S0100, S0101)" in page
    assert re.search("by the IDs in column (&#x27;|')sample_id", page)


@pytest.mark.filterwarnings("ignore:component\\(s\\) \\[1\\] rest on")  # a spike: 12 rows
def test_checks_that_cannot_judge_the_fit_say_so_and_why(data_dir, old_faithful, capsys):
    """QA157 L5: with as many free parameters as rows the outlier and richer-model checks
    were skipped in silence (a step of "0.0 s", then nothing); the command line and the
    EM report now say that neither check was made, and why."""
    old_faithful.iloc[:12].to_csv(data_dir / "twelve.csv", index=False)  # K=2 full: 11
    rc, out, err = _run_main(["em", "twelve.csv", "-k", "2", "--seed", "0", "--report",
                              "--out", "em12"], capsys)
    assert rc == 0, err
    assert ("note: no outlier check: K=2 full has 11 free parameters for 12 rows, too many "
            "for BIC to compare EM refits") in out
    assert ("note: no richer-model check: no richer model (K=3) has fewer free parameters "
            "than the 12 rows") in out
    assert "checking whether" not in err  # no step that does nothing
    page = (data_dir / "em12" / "report.html").read_text()
    assert "Not checked for outliers: K=2 full has 11 free parameters" in page
    assert "Not checked for a richer model: no richer model (K=3)" in page
    rc, out, _ = _run_main(["em", "good.csv", "-k", "2", "--seed", "0"], capsys)
    assert rc == 0 and "no outlier check" not in out and "richer-model check" not in out


def test_result_json_lists_every_outlier_row_the_hint_cuts_to_eight(old_faithful, capsys):
    """QA77: the hint's text names 8 rows and "..."; a pipeline reading result.json could not
    learn the others. The verdict record lists them all, by their IDs under --index."""
    import json
    import types

    from bayesgmm.cli import _print_noise_hint

    rng = np.random.default_rng(3)
    far = pd.DataFrame({"eruptions": rng.uniform(-60, 60, 12),
                        "waiting": rng.uniform(300, 900, 12)})
    frame = pd.concat([old_faithful.iloc[:150], far], ignore_index=True)
    frame.index = pd.Index([f"S{i:04d}" for i in range(len(frame))], name="sample_id")
    em = bayesgmm.fit_em(frame, 2, n_init=3, random_state=0)
    text, rows = _print_noise_hint(em, frame, {}, index="sample_id")
    assert "hint: 12 row(s) (S0150, S0151, S0152" in capsys.readouterr().out
    assert ", ...)" in text and "S0161" not in text
    assert rows == [f"S{i:04d}" for i in range(150, 162)]
    passed = types.SimpleNamespace(ok=True, verdict="OK: every check passed", status="OK",
                                   causes=(), checks=())
    record = json.loads(json.dumps(_verdict_record(passed, None, text, outlier_rows=rows)))
    assert record["outlier_rows"] == rows and record["status"] == "CAUTION"
    _, numbered = _print_noise_hint(em, frame.reset_index(drop=True), {})
    assert numbered == list(range(150, 162))
    assert _verdict_record(passed, None, "")["outlier_rows"] is None


def test_index_reaches_every_fit_as_the_frame_index(data_dir, tiny_fit, monkeypatch, capsys):
    """fit, run and select hand the fits a DataFrame indexed by the IDs (the API names rows
    by it: BayesResult.row_names, the reports), and fit records how rows are named."""
    seen = []

    def record(frame, *args, **kwargs):
        seen.append(frame)
        raise ValueError("stop here")

    for name in ("fit_bayes", "select_em"):
        monkeypatch.setattr(cli, name, record)
    spec = data_dir / "ids.toml"
    spec.write_text('[data]\npath = "ids.csv"\nindex = "sample_id"\n[model]\nn_components = 2\n'
                    '[output]\ndirectory = "out"\n')
    for argv in (["fit", "ids.csv", "-k", "2", "--index", "sample_id"], ["run", str(spec)],
                 ["select", "ids.csv", "-k", "1-2", "--index", "sample_id"]):
        rc, out, _ = _run_main(argv, capsys)
        assert rc == 2 and "rows named by 'sample_id'" in out
        frame = seen.pop()
        assert list(frame.columns) == ["eruptions", "waiting"]
        assert frame.index.name == "sample_id" and frame.index[7] == "S0007"
    # the saved result says how its rows are named (the report's settings table shows it)
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    rc, _, err = _run_main(["fit", "good.csv", "-k", "2", "--out", "res", "--no-progress"],
                           capsys)
    assert rc == 0, err
    assert bayesgmm.load(data_dir / "res").settings["row names"] == \
        "numbered from 0 in file order, header excluded (IDs: --index COLUMN)"
    # no --seed: the seed drawn is said to be drawn in the result's record and in its EM
    # start's, which was fitted with it (QA: em.json said false beside result.json's true)
    saved = bayesgmm.load(data_dir / "res")
    assert saved.settings["seed_drawn"] is True and saved.em.settings["seed_drawn"] is True


def test_index_option_is_documented_with_the_numbering(capsys):
    for command in ("fit", "em", "select"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--index COLUMN" in text
        assert "rows are numbered from 0 in file order, header excluded" in text


def test_the_main_job_runs_for_real(tmp_path, capsys):
    """`make run`'s command on its own spec, unpatched (draws="auto", the report): a timing
    record holding the auto run's record broke its console output once while every patched
    test passed."""
    spec = tmp_path / "models" / "old_faithful.toml"
    spec.parent.mkdir()
    spec.write_text((MODELS / "old_faithful.toml").read_text()
                    .replace('"../results/old_faithful"', '"../out"'))
    rc, out, err = _run_main(["run", str(spec), "--no-progress", "--force"], capsys)
    assert rc == 0, err[-2000:]
    # the time in words, the steps in the order they ran (QA: "compile_s 0.1s")
    assert "Diagnostics: OK" in out and re.search(
        r"\ntime: EM [\d.]+ s, choosing the start [\d.]+ s, compiling [\d.]+ s, sampling "
        r"[\d.]+ s, relabelling and summaries [\d.]+ s, total [\d.]+ s\n", out)
    assert (tmp_path / "out" / "report.html").is_file()
    assert isinstance(bayesgmm.load(tmp_path / "out"), bayesgmm.BayesResult)


def test_the_observation_notes_follow_the_header_that_names_the_data(data_dir, capsys):
    """QA: `run` printed "noise: a uniform component ..." before the line naming the data."""
    rc, out, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "0", "--noise",
                              "--no-progress"], capsys)
    assert rc == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("good.csv: "))
    noise = next(i for i, line in enumerate(lines) if line.startswith("noise: "))
    assert header < noise


@pytest.mark.parametrize(("covariance", "words"), [
    ("full", "a variance per component"), ("spherical", "a variance per component"),
    ("tied", "one shared variance")])
def test_one_feature_is_described_as_variances_not_covariances(covariance, words, data_dir,
                                                                capsys):
    """QA: `em` on 1-D data said "full covariances" where its report says "a variance per
    component"; with two features the type's name stays."""
    rc, out, err = _run_main(["em", "good.csv", "-k", "2", "--columns", "waiting", "--seed",
                              "0", "--n-init", "2", "--covariance", covariance,
                              "--no-progress"], capsys)
    assert rc == 0, err
    assert f"; K=2, {words}; " in out.splitlines()[0] and "covariances" not in out
    rc, out, _ = _run_main(["em", "good.csv", "-k", "2", "--seed", "0", "--n-init", "2",
                            "--covariance", covariance, "--no-progress"], capsys)
    assert f"; K=2, {covariance} covariances; " in out.splitlines()[0]


def _snapshot(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_force_replaces_only_an_earlier_output_of_the_same_kind(tmp_path, tiny_fit,
                                                               old_faithful, monkeypatch,
                                                               capsys):
    """QA: `em --report --force` over a saved posterior left the K=3 posterior beside a K=2
    EM report (and saved no EM fit); `select --force` deleted a posterior without a word.
    Another kind of bayesgmm output is refused, with or without --force, in one line naming
    what the directory holds; the same kind is still replaced."""
    data = tmp_path / "faithful.csv"
    old_faithful.to_csv(data, index=False)
    posterior = tmp_path / "result"
    bayesgmm.save(tiny_fit, posterior)
    before = _snapshot(posterior)
    em_argv = ["em", str(data), "-k", "2", "--report", "--no-progress", "--seed", "1", "--out"]
    for force in ([], ["--force"]):
        for argv, command in ((em_argv + [str(posterior)], "em"),
                              (["select", str(data), "-k", "1-2", "--out", str(posterior)],
                               "select")):
            rc, out, err = _run_main(argv + force, capsys)
            assert rc == 2 and out == "" and len(err.splitlines()) == 1, err
            assert (f"{posterior} holds a posterior fit (K=2) that bayesgmm {command} would "
                    f"replace: choose another --out, or delete {posterior} first") in err
    assert _snapshot(posterior) == before
    # an EM fit is not replaced by fit or select either; by em it is
    em_out = tmp_path / "em_fit"
    assert cli.main(em_argv + [str(em_out)]) == 0
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    before = _snapshot(em_out)
    rc, _, err = _run_main(["fit", str(data), "-k", "2", "--out", str(em_out), "--force"],
                           capsys)
    assert rc == 2 and (f"{em_out} holds an EM fit (faithful: Gaussian mixture by EM, K = 2) "
                        "that bayesgmm fit would replace") in err
    assert _snapshot(em_out) == before
    assert cli.main(em_argv + [str(em_out), "--force"]) == 0
    assert isinstance(bayesgmm.load(em_out), bayesgmm.EMResult)
    # a posterior by fit, with --force
    assert cli.main(["fit", str(data), "-k", "2", "--out", str(posterior), "--force",
                     "--no-progress", "--seed", "1"]) == 0


def test_the_console_table_of_a_large_fit_keeps_what_a_reader_needs():
    """QA (13-D wine, full): `fit` printed all 315 parameter rows; now weights, means and the
    rows whose EM value is outside its interval, with a count of the rest."""
    index = ([f"weights[{k}]" for k in range(3)] + [f"means[{k}, x{d}]" for k in range(3)
                                                     for d in range(13)]
             + [f"sd[{k}, x{d}]" for k in range(3) for d in range(13)]
             + [f"corr[{k}, x{i}, x{j}]" for k in range(3) for i in range(13)
                for j in range(i + 1, 13)])
    table = pd.DataFrame({"EM": 0.0, "EM inside": True}, index=index)
    table.loc["corr[1, x2, x5]", "EM inside"] = False
    shown, left_out = cli._console_rows(table)
    assert len(shown) == 3 + 39 + 1 and "corr[1, x2, x5]" in shown.index
    assert left_out == len(table) - len(shown)
    small = table.iloc[:30]
    shown, left_out = cli._console_rows(small)
    assert shown is small and left_out == 0


@pytest.mark.parametrize("command", [["fit", "d.csv", "-k", "2"], ["em", "d.csv", "-k", "2"],
                                     ["select", "d.csv"]])
def test_out_has_the_short_flag_o(command):
    """-o is what most command lines call the output (bayesgmm fit ... -o DIR was refused)."""
    from bayesgmm.cli import _parser

    assert str(_parser().parse_args([*command, "-o", "there"]).out) == "there"


@pytest.mark.parametrize(("k", "message"), [
    ("2-3", "'2-3': this command fits one number of components; to compare several, run "
            "'bayesgmm select -k 2-3'"),
    ("two", "'two': this command fits one number of components (a whole number such as 2)"),
])
@pytest.mark.parametrize("command", ["fit", "em"])
def test_fit_takes_one_k_and_points_to_select_for_several(command, k, message, data_dir,
                                                          no_sampling, capsys):
    """QA (an ecologist): "-k 2-3" got argparse's "invalid int value: '2-3'"."""
    with pytest.raises(SystemExit) as info:
        cli.main([command, "good.csv", "-k", k])
    assert info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("command", ["fit", "em"])
def test_k_below_one_is_named_by_its_flag(command, data_dir, no_sampling, capsys):
    """QA92: "-k 0" was told the API's "the number of components must be >= 1"."""
    assert cli.main([command, "good.csv", "-k", "0"]) == 2
    assert capsys.readouterr().err.strip() == "bayesgmm: error: -k 0: give 1 component or more"


@pytest.mark.parametrize(("flags", "message"), [
    (["em", "good.csv", "-k", "2", "--n-init", "x"],
     "argument --n-init: expected a whole number such as 4; got 'x'"),
    (["fit", "good.csv", "-k", "2", "--chains", "4.0"],
     "argument --chains: expected a whole number such as 4; got '4.0'"),
    (["fit", "good.csv", "-k", "2", "--target-accept", "high"],
     "argument --target-accept: expected a number such as 0.9; got 'high'"),
])
def test_a_number_flag_names_what_it_expected(flags, message, data_dir, no_sampling, capsys):
    """QA64: a count or number flag got argparse's bare "invalid int value: 'x'"."""
    with pytest.raises(SystemExit) as info:
        cli.main(flags)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_em_says_a_degenerate_fits_criteria_are_not_comparable(tmp_path, monkeypatch, capsys):
    """Small-sample QA: a K=3 fit with a 2-point component printed "BIC 208.03 (lower is
    better)", below the true K=2's 221.64, as if comparable; select excludes such a fit."""
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal([12, 0], 1, (30, 2)),
                   [[0.0, 12.0], [0.7, 12.4]]])  # both restarts give the pair a component
    pd.DataFrame(X, columns=["a", "b"]).to_csv(tmp_path / "far.csv", index=False)
    monkeypatch.chdir(tmp_path)
    rc, out, _ = _run_main(["em", "far.csv", "-k", "3", "--n-init", "1", "--seed", "0",
                            "--no-progress"], capsys)
    assert rc == 0 and "(lower is better; not comparable: a component is empty, too small" in out
    rc, out, _ = _run_main(["em", "far.csv", "-k", "2", "--seed", "0", "--no-progress"], capsys)
    assert rc == 0 and "(lower is better)\n" in out


def test_em_says_how_many_restarts_reached_its_optimum(tmp_path, monkeypatch, capsys):
    """QA65: em and select gave the same D=8 cell log-likelihoods 8 units apart, and em said
    nothing of restarts that stopped at different optima."""
    monkeypatch.chdir(tmp_path)
    rc, out, _ = _run_main(["em", "bundled:old_faithful", "-k", "2", "--n-init", "3",
                            "--seed", "0", "--no-progress"], capsys)
    assert rc == 0 and "\n6 of 6 EM restarts reached this optimum (to within 0.1)\n" in out


def test_fit_takes_a_time_limit(data_dir, tiny_fit, monkeypatch, capsys):
    """Small-sample QA: the README named max_time, which neither fit_bayes's keywords nor a
    flag of fit took; --max-time is the SamplerSettings field."""
    seen = {}

    def fake(*args, settings=None, **kwargs):
        seen["settings"] = settings
        return tiny_fit

    monkeypatch.setattr(cli, "fit_bayes", fake)
    rc, _, err = _run_main(["fit", "good.csv", "-k", "2", "--max-time", "30", "--seed", "1",
                            "--out", "r/timed", "--no-progress"], capsys)
    assert rc == 0, err
    assert seen["settings"].max_time == 30.0 and seen["settings"].draws == "auto"
    rc, _, err = _run_main(["fit", "good.csv", "-k", "2", "--metric", "laplace", "--seed", "1",
                            "--out", "r/whitened", "--no-progress"], capsys)
    assert rc == 0, err
    assert seen["settings"].metric == "laplace"


def test_the_jobs_setting_gives_the_reason_only_where_it_holds(monkeypatch):
    """Review: "ran in one process: quick enough that workers would not pay" was recorded for
    one cell, and for --jobs that resolved to one worker, too."""
    import types

    import joblib

    monkeypatch.setattr(joblib, "effective_n_jobs", lambda n: 2 if n == -1 else 1)
    cells = types.SimpleNamespace(workers=1, table=pd.DataFrame({"bic": [1.0, 2.0]}))
    assert cli._jobs_setting(-1, cells).startswith("-1 (every core offered; the EM cells ran "
                                                   "in one process: quick enough that "
                                                   "workers would not pay")
    assert cli._jobs_setting(-2, cells) == "-2 (1 worker)"
    one = types.SimpleNamespace(workers=1, table=pd.DataFrame({"bic": [1.0]}))
    assert cli._jobs_setting(-1, one) == "-1 (1 worker)"
    assert cli._jobs_setting(1, cells) == 1
    two = types.SimpleNamespace(workers=2, table=pd.DataFrame({"bic": [1.0, 2.0, 3.0]}))
    assert cli._jobs_setting(-1, two) == "-1 (2 workers)"


def test_select_samples_the_bic_best_type_of_k_2_or_more_when_bic_picks_k_1():
    """Referee QA: BIC's best was K=1 "full" (full and tied tie there), and every LOO fit
    used full, BIC's worst type at each K >= 2; a degenerate cell is never the one."""
    import types

    import pandas as pd

    table = pd.DataFrame({"n_components": [1, 1, 2, 2, 3, 3],
                          "covariance_type": ["full", "tied"] * 3,
                          "bic": [100.0, 100.0, 120.0, 110.0, 105.0, 130.0],
                          "degenerate": [False, False, False, False, True, False]})
    table["aic"] = table["icl"] = table["bic"]  # select_em's table has all three
    em = types.SimpleNamespace(best={"bic": (1, "full")}, table=table)
    covariance, why = cli._sampled_covariance(em)
    assert covariance == "tied" and "at K >= 2, K=2; BIC's best is K=1" in why
    em.best = {"bic": (2, "full")}  # a best with components: its type, as before
    assert cli._sampled_covariance(em) == ("full", "the BIC-best EM covariance type")
    em.best, em.table = {"bic": (1, "full")}, table[table["n_components"] == 1]
    assert cli._sampled_covariance(em)[0] == "full"  # no K >= 2 in the grid
    # every K >= 2 cell failed (BIC NaN): the K=1 type, not a crash (code review)
    em.table = table.assign(bic=[100.0, 100.0] + [np.nan] * 4, aic=np.nan, icl=np.nan)
    assert cli._sampled_covariance(em) == ("full", "the BIC-best EM covariance type")
    # one type given: BIC chose none (QA67: "the BIC-best EM covariance type" of one)
    em.best, em.table = {"bic": (2, "full")}, table[table["covariance_type"] == "full"]
    assert cli._sampled_covariance(em) == ("full", "the one covariance type given")


def test_loo_csv_carries_each_fits_checks():
    import types

    from bayesgmm.selection.loo_verdict import with_model_keys

    results = {f"K={k}": types.SimpleNamespace(n_components=k, covariance_type="diag")
               for k in (3, 5)}
    comparison = with_model_keys(pd.DataFrame({"rank": [0, 1], "elpd_diff": [0.0, -3.0]},
                                              index=["K=5", "K=3"]), results)
    bayes = types.SimpleNamespace(comparison=comparison, diagnostics={
        "K=5": "PROBLEMS: R-hat 1.2 > 1.01 (see advice)", "K=3": "OK: R-hat 1.003 <= 1.01"},
        results=results)
    table = cli._loo_table(bayes)
    assert table["checks"].tolist() == ["PROBLEMS", "OK"]
    # criteria.csv's keys, to join on (QA81: "K=5" only, parsed to join)
    assert table["n_components"].tolist() == [5, 3]
    assert table["covariance_type"].tolist() == ["diag", "diag"]
    assert list(table.columns[:2]) == ["n_components", "covariance_type"]
    assert table["rank"].tolist() == [1, 2]  # as select.html ranks (QA: 0 here, 1 there)
    assert "checks" not in comparison and comparison["rank"].tolist() == [0, 1]  # untouched


def test_a_home_relative_out_is_checked_where_it_is_written(tmp_path, monkeypatch, capsys):
    """Code review: --out=~/fit (which the shell leaves as it is) was checked as ./~/fit
    before the fit and written to $HOME/fit after it, so a second run fitted again before
    refusing; ``report ~/fit`` did not find what ``load`` found."""
    home, elsewhere = tmp_path / "home", tmp_path / "cwd"
    home.mkdir(), elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    argv = ["em", "bundled:old_faithful", "-k", "2", "--n-init", "1", "--seed", "0",
            "--no-progress", "--out=~/emfit"]
    assert _run_main(argv, capsys)[0] == 0 and (home / "emfit").is_dir()
    rc, out, err = _run_main(argv, capsys)
    assert rc == 2 and out == "" and "already exists" in err  # before fitting: nothing printed
    # found where it was written (an EM fit: its report is em's --report, as it says)
    rc, _, err = _run_main(["report", "~/emfit", "--no-progress"], capsys)
    assert f"{home / 'emfit'} holds an EM result" in err
    assert list(elsewhere.iterdir()) == []
    # from its manifest, before anything loads (QA: 7-30 s of loading ArviZ to refuse it)
    monkeypatch.setattr(cli, "load", lambda *a: pytest.fail("loaded before refusing"))
    rc, _, err = _run_main(["report", "~/emfit"], capsys)
    assert rc == 2 and err.startswith(f"bayesgmm: error: {home / 'emfit'} holds an EM result")
    manifest = home / "emfit" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"EMResult"', '"SelectionReport"'))
    rc, _, err = _run_main(["report", "~/emfit"], capsys)
    assert rc == 2 and "holds a bayesgmm model-selection output (bayesgmm select), not a " \
        "saved fit" in err


def test_the_console_leaves_out_a_table_from_too_few_draws(tiny_fit, capsys):
    """QA: a run stopped at 1 draw per chain printed 30 rows of 4-digit posterior means, sds
    and intervals from 4 draws in all; the console says it leaves them out instead."""
    import dataclasses

    import xarray as xr

    def first(draws):
        groups = {name: node.to_dataset().isel(draw=slice(0, draws))
                  if "draw" in node.dims else node.to_dataset()
                  for name, node in tiny_fit.idata.children.items()}
        return dataclasses.replace(tiny_fit, idata=xr.DataTree.from_dict(groups))

    cli._print_result(first(3))
    out = capsys.readouterr().out
    assert ("The posterior table is left out: 3 draws per chain cannot summarise the "
            "posterior") in out
    assert "(column EM) vs posterior" not in out and "R-hat nan" not in out
    cli._print_result(first(20))
    assert "(column EM) vs posterior" in capsys.readouterr().out


def test_a_column_with_a_comma_in_its_name_can_be_chosen(tmp_path, monkeypatch, capsys):
    """QA: 'wt, g' could not be named with --columns, and the error's own suggestion
    (--columns 'Length (mm),wt, g,...') failed with "unknown column(s) ['wt', 'g']". CSV
    quotes name it, and the suggestion is written so."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Length (mm)": rng.normal(size=40), "wt, g": rng.normal(size=40),
                          "species": ["a", "b"] * 20})
    frame.to_csv("three.csv", index=False)
    assert cli.main(["em", "three.csv", "-k", "2"]) == 2
    suggestion = re.search(r"--columns ('[^']*')", capsys.readouterr().err).group(1)
    assert suggestion == "'Length (mm),\"wt, g\"'"
    import shlex

    assert cli.main(["em", "three.csv", "-k", "2", "--columns", *shlex.split(suggestion),
                     "--seed", "1"]) == 0
    assert "['Length (mm)', 'wt, g']" in capsys.readouterr().out


def test_the_console_says_what_the_predictive_check_finds_under_the_verdict(capsys):
    """QA: `bayesgmm fit` of one heavy-tailed cluster with K=1 printed a green "OK" and no
    word of the skewness and kurtosis that no replicated data set reached, which the
    report's box calls CAUTION; the console now prints the report's words (same seed)."""
    import pandas as pd
    from conftest import posterior_stand_in, simulate_mixture

    from bayesgmm.cli import _model_check, _print_model_check
    from bayesgmm.plots import predictive_check

    rng = np.random.default_rng(2)
    heavy = posterior_stand_in(pd.DataFrame({"x": rng.standard_t(3, size=400)}), 1, draws=100)
    check = _model_check(heavy)  # the report's seed: the same replicates as its page
    assert np.array_equal(check.replicated, predictive_check(heavy, random_state=0).replicated)
    _print_model_check(check)
    out = capsys.readouterr().out
    finding = check.finding()
    assert finding.startswith("The model does not reproduce the data: the data's ")
    assert out == f"\nModel check: CAUTION: {finding}\n"
    X, _, _ = simulate_mixture(n=400, seed=1)  # clusters a mixture of Gaussians describes
    _print_model_check(_model_check(posterior_stand_in(X, 3, draws=100)))
    assert capsys.readouterr().out == ""
    # too few draws to judge: said (not silence, which would read as a pass)
    _print_model_check(_model_check(posterior_stand_in(X, 3)))
    assert capsys.readouterr().out == (
        "\nModel check: not judged: only 60 replicated data sets (one per posterior draw), "
        "too few to tell a p-value of 0.01 from chance.\n")


def test_fit_and_report_print_the_model_check_and_its_provisional_form(data_dir, tiny_fit,
                                                                       monkeypatch, capsys):
    """Review: a test of the printing alone would pass with its calls removed from `fit` and
    `report`; and under a PROBLEMS verdict "the model itself misses part of the data" claimed
    more than a failed posterior supports."""
    from bayesgmm.plots.diagnostics import PredictiveCheck

    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    said = []

    def finding(self, level=0.01, provisional=False):
        said.append(provisional)
        return f"FINDING (provisional: {provisional})"

    monkeypatch.setattr(PredictiveCheck, "finding", finding)
    rc, out, err = _run_main(["fit", "good.csv", "-k", "2", "--seed", "0", "--out", "f",
                              "--no-progress"], capsys)
    assert rc == 0, err
    provisional = not tiny_fit.diagnostics().ok  # 2 chains x 100 draws: the verdict decides
    assert f"\nModel check: CAUTION: FINDING (provisional: {provisional})\n" in out
    # kept in result.json beside the verdict, for a pipeline (QA: only the page said it)
    saved = bayesgmm.load(data_dir / "f").settings["verdict"]
    assert saved["model_check"]["finding"] == f"FINDING (provisional: {provisional})"
    rc, out, err = _run_main(["report", "f", "--no-progress"], capsys)
    assert rc == 0, err
    assert f"\nModel check: CAUTION: FINDING (provisional: {provisional})\n" in out
    assert said and set(said) == {provisional}


def test_result_json_s_status_is_the_report_s():
    """QA: a model-check misfit made the report's box CAUTION while result.json's
    settings.verdict.status, which the README tells pipelines to read, stayed OK."""
    import pandas as pd
    from conftest import posterior_stand_in

    from bayesgmm.cli import _model_check

    rng = np.random.default_rng(2)
    heavy = _model_check(posterior_stand_in(pd.DataFrame({"x": rng.standard_t(3, size=400)}),
                                            1, draws=100))
    assert heavy.misfit_labels()
    passed = types.SimpleNamespace(ok=True, verdict="OK: every check passed", status="OK",
                                   causes=())
    record = _verdict_record(passed, heavy, "")
    assert (record["status"], record["sampling_status"]) == ("CAUTION", "OK")
    assert record["model_check"]["misfits"] == heavy.misfit_labels()
    assert record["model_check"]["finding"] == heavy.finding()
    clean = replace(heavy, observed=heavy.replicated.mean(axis=0))  # nothing missed
    assert _verdict_record(passed, clean, "")["status"] == "OK"
    assert _verdict_record(passed, clean, "rows 3, 9 fit a noise component")["status"] == \
        "CAUTION"
    # fewer rows than free parameters: the report's box is amber, so is the status
    record = _verdict_record(passed, clean, "", "8 row(s) x 2 feature(s) = 16 values for 17")
    assert record["status"] == "CAUTION" and record["prior_dominated"].startswith("8 row(s)")
    failed = types.SimpleNamespace(ok=False, verdict="PROBLEMS: R-hat", status="PROBLEMS",
                                   causes=("slow mixing",))
    record = _verdict_record(failed, heavy, "")
    assert record["status"] == "PROBLEMS" and "provisional" in record["model_check"]["finding"]


def test_a_finding_under_failed_checks_is_provisional():
    from bayesgmm.plots import PredictiveCheck

    rng = np.random.default_rng(1)
    rep = rng.standard_normal((200, 3))
    check = PredictiveCheck(("sd", "skewness", "excess kurtosis"), np.array([0.0, 0.0, 8.0]),
                            rep, np.mean(rep >= [0.0, 0.0, 8.0], axis=0))
    assert check.finding().startswith("The model does not reproduce the data: ")
    provisional = check.finding(provisional=True)
    assert provisional.startswith("The replicated data sets do not reproduce the data: ")
    assert "failed its convergence checks, so this is provisional: it may be the sampling, " \
           "or the model itself missing part of the data: heavier tails" in provisional


def test_select_on_one_feature_names_the_types_it_fits(data_dir, capsys):
    """QA: the header said "full, tied, diag, spherical covariances" for one feature, where
    diag and spherical are full and fitted once (as a note then said)."""
    assert cli.main(["select", "good.csv", "--columns", "waiting", "-k", "1-2",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "; full, tied covariances; " in out.splitlines()[0]
    assert "the same model as full" in out


def test_the_console_table_says_where_its_left_out_rows_are(tiny_fit, capsys):
    """QA: `fit` without --report said the rows left out of its table "are in the report's
    table"; they are in estimates.csv, which fit and run always write."""
    cli._print_parameter_table(tiny_fit, tiny_fit.compare_em().head(2), 5, ())
    out = capsys.readouterr().out
    assert "(5 more rows, sds and correlations with the EM value inside its interval, are in " \
           "estimates.csv, in the report's table when there is one, and in " \
           "result.summary(var_names=['sd', 'corr']))" in out


@pytest.mark.parametrize("command", [
    ["em", "good.csv", "-k", "2", "--no-progress", "-o", "LONG"],
    ["em", "LONG.csv", "-k", "2", "--no-progress"],
    ["report", "LONG"],
    ["em", "good.csv", "-k", "2", "--no-progress", "-o", "loopA/sub"],
], ids=["long-out", "long-data", "long-report", "symlink-loop"])
def test_a_path_the_file_system_refuses_is_one_line(data_dir, capsys, command):
    """QA64: a 300-character path or a symbolic link loop was a 30-line traceback."""
    (data_dir / "loopA").symlink_to(data_dir / "loopB")
    (data_dir / "loopB").symlink_to(data_dir / "loopA")
    argv = [a.replace("LONG", "a" * 300) for a in command]
    rc, out, err = _run_main(argv, capsys)
    assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert re.match(r"bayesgmm: error: (file name too long|Symlink loop|too many levels of "
                    r"symbolic links)", err), err


def test_report_says_the_boxs_verdict_where_a_model_check_questions_the_model(
        tiny_fit_diag, tmp_path, monkeypatch, capsys):
    """QA68: `bayesgmm report` printed "Diagnostics: OK" of a fit whose page said CAUTION
    (45 rows for a noise component); Old Faithful fitted diag: full covariances fit far
    better, which the console now says with the box's status."""
    import bayesgmm.report

    monkeypatch.setattr(bayesgmm.report, "write_report",
                        lambda result, directory, **kw: Path(directory) / "report.html")
    path = tiny_fit_diag.save(tmp_path / "r")
    rc, out, _ = _run_main(["report", str(path), "--ess-min", "10", "--rhat-max", "1.5",
                            "--no-progress"], capsys)
    assert rc == 0 and "\nDiagnostics: OK" in out
    assert ("\nVerdict: CAUTION, as the report's box says: the sampling checks pass, but the "
            "model is in question:\n  - richer model: BIC prefers full covariances at K=2") in out


def test_a_seed_drawn_by_the_command_line_is_the_librarys_draw(data_dir, monkeypatch, capsys):
    """QA80: four copies of secrets.randbelow(2**31) in the command line, 63 bits in the
    library's draw_seed: one routine now, below 2**31 (short enough to retype)."""
    from bayesgmm._scalars import draw_seed

    assert all(0 <= draw_seed() < 2**31 for _ in range(20))
    monkeypatch.setattr(cli, "draw_seed", lambda: 4242)
    rc, out, err = _run_main(["em", "good.csv", "-k", "2", "--no-progress"], capsys)
    assert rc == 0, err
    # QA150 L1: a drawn seed is said to be one, with how to repeat the run
    assert "seed 4242 (drawn at random; --seed 4242 repeats this run)" in out
    rc, out, err = _run_main(["em", "good.csv", "-k", "2", "--no-progress", "--seed", "7"],
                             capsys)
    assert rc == 0 and "seed 7" in out and "drawn" not in out


def test_an_interrupt_inside_a_callback_prints_no_traceback():
    """QA82: Ctrl-C while JAX or numba loaded raised KeyboardInterrupt in a gc or ctypes
    callback, which Python printed with a traceback (exit 130 after it). The stop is noted
    and the run ends at its next status line; that report is dropped, others are not."""
    import gc

    class RaisesOnDelete:
        def __init__(self, exc):
            self.exc = exc

        def __del__(self):
            raise self.exc

    reported = []
    original = sys.unraisablehook
    sys.unraisablehook = before = lambda report: reported.append(report.exc_type)
    try:
        with cli._Interrupts() as guard:
            guard.seen = True  # as _note sets it before it raises
            RaisesOnDelete(KeyboardInterrupt())
            gc.collect()
            assert reported == []
            RaisesOnDelete(ValueError("a real fault"))
            gc.collect()
            assert reported == [ValueError]  # other reports still go to the hook
        assert sys.unraisablehook is before
        RaisesOnDelete(KeyboardInterrupt())  # outside a command: Python's way again
        gc.collect()
        assert reported == [ValueError, KeyboardInterrupt]
    finally:
        sys.unraisablehook = original


def test_a_signal_during_an_import_is_noted_not_raised_into_it(tmp_path, monkeypatch):
    """QA168 M1: SIGTERM while matplotlib's first figure imported jax raised
    KeyboardInterrupt inside jaxlib's native set-up, which aborted the process (exit 134,
    139). During an import the stop is noted and main() ends the run (143); elsewhere it is
    raised at once, as before."""
    import signal

    from bayesgmm import progress

    module = tmp_path / "signalled_in_import.py"
    module.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\nREACHED = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with cli._Interrupts() as guard:
            loaded = importlib.import_module("signalled_in_import")
            assert loaded.REACHED == 1  # the import ran to its end
            assert guard.seen and guard.signum == signal.SIGTERM
            with pytest.raises(KeyboardInterrupt):  # the next status line stops the run
                progress.say("next")
        with cli._Interrupts(), pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # outside an import: raised at once
            time.sleep(1.0)
    finally:
        sys.modules.pop("signalled_in_import", None)


def test_em_says_when_it_stopped_while_still_climbing(old_faithful, capsys):
    """QA83: the default rule stopped EM at N=1e6, K=6 while it still climbed (1.15+ units
    short), and neither the console nor the report said so."""
    from dataclasses import replace

    from bayesgmm.report import build_em_report

    em = bayesgmm.fit_em(old_faithful, 2, random_state=0)
    climbing = replace(em, history=np.r_[em.history[:-3], em.history[-1] + [-3.0, -1.0, 0.0]])
    assert climbing.gain_left == pytest.approx(1.0)
    cli._print_em(climbing, old_faithful)
    assert "EM stopped while its objective still climbed: by Aitken's estimate about 1 more" \
        in capsys.readouterr().out
    cli._print_em(em, old_faithful)
    assert "still climbed" not in capsys.readouterr().out
    page, _ = build_em_report(climbing, old_faithful)
    assert "EM stopped while its objective still climbed" in page


def test_em_and_select_print_the_weights_and_means_of_a_wide_fit(tmp_path, capsys,
                                                                 monkeypatch):
    """QA97: at D=30 `bayesgmm em` printed 518 lines of estimates (select 375), the criteria
    scrolled away; the sds and correlations are said to be elsewhere."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    D = 12
    X = np.r_[rng.normal(0, 1, (150, D)), rng.normal(3, 1, (150, D))]
    pd.DataFrame(X, columns=[f"PC{i + 1}" for i in range(D)]).to_csv("wide.csv", index=False)
    rc, out, _ = _run_main(["em", "wide.csv", "-k", "2", "--seed", "1", "--no-progress"],
                           capsys)
    rows = 1 + D + D + D * (D - 1) // 2
    assert rc == 0 and f"mean[PC{D}]" in out and "sd[PC1]" not in out and "corr[" not in out
    assert (f"({rows - 1 - D} more rows, the sds and correlations: in estimates.csv (with "
            "--out or --report)") in out
    rc, out, _ = _run_main(["select", "wide.csv", "-k", "1-2", "--covariance", "full",
                            "--seed", "1", "--no-progress", "--out", "sel"], capsys)
    assert rc == 0 and "corr[" not in out
    assert ("bayesgmm em with this run's data flags and -k 2 --covariance full --out DIR "
            "writes them to DIR/estimates.csv; in Python bayesgmm.estimates_table("
            "selection.fits[(2, 'full')])") in out
    rc, out, _ = _run_main(["em", "wide.csv", "-k", "2", "--seed", "1",
                            "--no-progress", "--columns", "PC1,PC2,PC3"], capsys)
    assert "corr[PC1, PC2]" in out and "more rows" not in out  # a narrow fit in full


def test_select_saves_the_posteriors_its_loo_table_compared(data_dir, capsys):
    """QA87 L4: select --bayes left only loo.csv, which a referee could not check; with
    --save-fits each posterior is saved, and arviz's LOO of its log-likelihood is the table's."""
    import arviz as az

    import bayesgmm

    argv = ["select", "good.csv", "-k", "1-2", "--covariance", "full", "--bayes",
            "--save-fits", "--draws", "60", "--tune", "60", "--chains", "2", "--seed", "1",
            "--no-progress", "--out", "sel"]
    rc, out, _ = _run_main(argv, capsys)
    assert rc == 0 and "posteriors: sel/fits/{K=1,K=2} (bayesgmm.load reads each)" in out
    table = pd.read_csv("sel/loo.csv", index_col="model")
    for name in ("K=1", "K=2"):
        saved = az.loo(bayesgmm.load(f"sel/fits/{name}").idata)
        assert saved.elpd == table.loc[name, "elpd"] and saved.p == table.loc[name, "p"]
    settings = json.loads(Path("sel/settings.json").read_text())
    assert settings["saved_fits"] == ["K=1", "K=2"]
    manifest = json.loads(Path("sel/manifest.json").read_text())
    assert "fits/K=2/idata.nc" in manifest["files"] and "fits/K=2/manifest.json" in manifest[
        "files"]
    assert _run_main([*argv, "--force"], capsys)[0] == 0  # replaced as a whole
    rc, _, err = _run_main(["select", "good.csv", "-k", "1-2", "--save-fits"], capsys)
    assert rc == 2 and "--save-fits saves the posteriors of --bayes and --sparse" in err


def test_the_record_fingerprints_the_bytes_fitted_not_the_file_at_saving(data_dir, capsys,
                                                                         monkeypatch):
    """QA117 H1: an upstream job replaced the data file while a fit ran; the record's
    data_file_sha256, hashed when the result was saved, named the new file, though the fit
    (and memberships.csv) came from the old one. Now the bytes read are hashed as read; and
    a file that changes while it is being read is refused."""
    import bayesgmm.io.tables

    fitted = bayesgmm.io.file_sha256(data_dir / "good.csv")
    real = bayesgmm.io.tables.read_data

    def read_then_replaced(path, *args, **kwargs):
        table = real(path, *args, **kwargs)
        Path(path).write_text("eruptions,waiting\n1.0,50\n2.0,60\n3.0,70\n")  # upstream
        return table

    monkeypatch.setattr(bayesgmm.io.tables, "read_data", read_then_replaced)
    monkeypatch.setattr(bayesgmm.io, "read_data", read_then_replaced)
    rc, _, err = _run_main(["em", "good.csv", "-k", "2", "--seed", "0", "--out", "em",
                            "--no-progress"], capsys)
    assert rc == 0, err
    assert bayesgmm.load(data_dir / "em").settings["data_file_sha256"] == fitted
    # changed between the reading's start and its end: refused, not recorded as read
    calls = []

    def changing(p):  # its size, time and inode: other after the reading
        calls.append(p)
        return (1, 2, 3) if len(calls) == 1 else (1, 2, 4)

    monkeypatch.setattr(bayesgmm.io.tables, "_stamp", changing)
    with pytest.raises(ValueError, match=r"good\.csv changed while it was read \(is another "
                                         r"job writing it\?\): run again once the file is"):
        real(data_dir / "good.csv")


def test_a_full_disk_is_found_before_sampling(data_dir, capsys, monkeypatch):
    """QA117 M1: ``fit --out`` onto a full disk ran EM, compiled and sampled, printed its
    results, then said "not enough free space": the run's hour was lost to a check that
    could have come first. The least the result needs is checked before sampling."""
    import collections

    import bayesgmm.result_files
    import bayesgmm.sampling

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled onto a full disk")

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(bayesgmm.result_files.shutil, "disk_usage",
                        lambda _: usage(10**6, 10**6, 300_000))
    monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", no_sampling)
    rc, _, err = _run_main(["fit", "good.csv", "-k", "2", "--seed", "0", "--draws", "300",
                            "--out", "nested/fit", "--no-progress"], capsys)
    assert rc == 2, err
    assert re.fullmatch(r"bayesgmm: error: not enough free space to save the result in "
                        r"nested/fit: it needs about [\d.]+ MB, 0\.3 MB are free; free some "
                        r"space or save it elsewhere\n", err)
    assert not (data_dir / "nested").exists()


# QA125: mutants that survived the tests mirroring their module, killed here

# C2: the command line's sampling defaults are the API's (SamplerSettings), not restated.
@pytest.mark.parametrize("argv", [["fit", "x.csv", "-k", "2"], ["select", "x.csv", "--bayes"]])
def test_cli_sampling_defaults_are_sampler_settings_defaults(argv):
    from bayesgmm.settings import SamplerSettings
    args = cli._parser().parse_args(argv)
    defaults = SamplerSettings()
    assert (args.target_accept, args.tune, args.chains) == (
        defaults.target_accept, defaults.tune, defaults.chains)


def test_cli_max_draws_default_is_the_one_its_help_states(monkeypatch):
    """QA146 L7: --help read max_draws' default from SamplerSettings while the run passed a
    restated 10,000: a change of the API's default would have split them."""
    import dataclasses

    from bayesgmm.settings import SamplerSettings

    @dataclasses.dataclass(frozen=True)
    class Other(SamplerSettings):
        max_draws: int = 7_000

    monkeypatch.setattr(cli, "SamplerSettings", Other)
    parser = cli._parser()
    fit = parser._subparsers._group_actions[0].choices["fit"]
    stated = next(a for a in fit._actions if "--max-draws" in a.option_strings).help
    assert stated.endswith("(default: 7000)")
    args = parser.parse_args(["fit", "x.csv", "-k", "2", "--draws", "auto"])
    assert cli._sampler_settings(args).max_draws == 7_000


# C3: `select -k` defaults to the grid its help text and the README state (1-6).
def test_select_components_default_is_the_documented_grid():
    import re
    parser = cli._parser()
    args = parser.parse_args(["select", "x.csv"])
    sub = next(a for a in parser._subparsers._group_actions[0].choices["select"]._actions
               if "--components" in a.option_strings)
    stated = re.search(r"\(default: ([^)]*)\)", sub.help).group(1)
    assert args.components == stated == "1-6"


def _verdict_record(*args, **kwargs):
    """The verdict as result.json keeps it (the command line's record)."""
    from bayesgmm.cli import _overall_verdict

    return _overall_verdict(*args, **kwargs).to_dict()


def test_a_selections_text_points_a_shell_user_to_the_report():
    """QA153 L3: `select --bayes` printed "print(selection.diagnostics['K=3'])" and
    "BayesSelection.diagnostics" to a shell user."""
    import pandas as pd

    from bayesgmm.selection import BayesSelection, model_checks

    table = pd.DataFrame({"elpd": [-100.0, -101.0], "indistinguishable": [False, True]},
                         index=["K=3", "K=2"])
    warning = model_checks.convergence_warning({"K=2": "PROBLEMS: R-hat 1.2 > 1.01"})
    selection = BayesSelection(
        comparison=table, loo={}, pareto_k=pd.DataFrame(), best="K=3", within_noise=("K=2",),
        simplest_within_noise="K=2", verdict="K=3 is best ...\nWarnings: " + warning[0],
        warnings=tuple(warning), diagnostics={"K=3": "CAUTION: note", "K=2": "PROBLEMS: x"},
        results={})
    text = str(selection)
    assert "print(selection.diagnostics" in text and "BayesSelection.diagnostics" in text
    shell = cli._for_the_shell(text)
    assert "print(" not in shell and "BayesSelection" not in shell
    assert "(each one's checks and advice: select.html, the selection report)" in shell
    assert "the report's Convergence table, in select.html)" in shell
