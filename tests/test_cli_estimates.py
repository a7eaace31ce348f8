"""estimates.csv: the numbers of `fit`, `run` and `em --out`, one row per scalar parameter.

The oracle is the result itself: the saved posterior's ``summary()`` and the saved EM fit's
arrays, read back with bayesgmm.load; the CSV, read with plain ``pandas.read_csv``, must give
the same float64 values, bit for bit, with the rows each covariance type has.
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import COVARIANCE_TYPES, cli_ok, read_listed_table

import bayesgmm
from bayesgmm import cli

KEYS = ["parameter", "component", "label", "feature", "feature_bis", "name"]
FEATURES = ["eruptions", "waiting"]
SUMMARY_COLUMNS = ["mean", "sd", "eti94_lb", "eti94_ub", "ess_bulk", "ess_tail", "r_hat",
                   "mcse_mean", "mcse_sd"]


@pytest.fixture
def data_dir(tmp_path, old_faithful, monkeypatch):
    old_faithful.iloc[:60].to_csv(tmp_path / "good.csv", index=False)
    labelled = old_faithful.iloc[:60].copy()
    labelled["site"] = np.where(labelled["eruptions"] > 3, "long", "")
    labelled.to_csv(tmp_path / "labelled.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _read(directory):
    """estimates.csv as a user reads it, after checking that the manifest lists it."""
    return read_listed_table(directory, "estimates.csv")


def _expected_keys(covariance_type, K=2, D=FEATURES, noise=False):
    """The rows each covariance type must have, written out independently of the code: weights,
    means, then the covariance entries (each symmetric pair once), then the noise weight."""
    rows = [("weights", k, "", "", f"weights[{k}]") for k in range(K)]
    rows += [("means", k, f, "", f"means[{k}, {f}]") for k in range(K) for f in D]
    pairs = [(a, b) for i, a in enumerate(D) for b in D[i:]]
    rows += {
        "full": [("covariances", k, a, b, f"covariances[{k}, {a}, {b}]")
                 for k in range(K) for a, b in pairs],
        "tied": [("covariances", "", a, b, f"covariances[{a}, {b}]") for a, b in pairs],
        "diag": [("covariances", k, f, f, f"covariances[{k}, {f}]")
                 for k in range(K) for f in D],
        "spherical": [("covariances", k, "", "", f"covariances[{k}]") for k in range(K)],
    }[covariance_type]
    if noise:
        rows.append(("noise_weight", "", "", "", "noise_weight"))
    # the sds and correlations, as the report's table has them (QA: the console pointed here
    # for them, and the file had only the covariances)
    comps = [""] if covariance_type == "tied" else list(range(K))
    for k in comps:
        for f in D if covariance_type != "spherical" else [""]:
            rows.append(("sd", k, f, "", f"sd[{', '.join(str(v) for v in (k, f) if v != '')}]"))
    if covariance_type in ("full", "tied"):
        for k in comps:
            for i, a in enumerate(D):
                for b in D[i + 1:]:
                    where = ", ".join(str(v) for v in (k, a, b) if v != "")
                    rows.append(("corr", k, a, b, f"corr[{where}]"))
    return rows


def _keys(table):
    """The key columns as text: empty cells (read as NaN) as ""."""
    cells = table[["parameter", "component", "feature", "feature_bis", "name"]]
    return [tuple("" if pd.isna(v) else (int(v) if c == "component" else v)
                  for c, v in row.items()) for _, row in cells.iterrows()]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_writes_the_posterior_summary_for_every_covariance_type(covariance_type, data_dir,
                                                                    capsys):
    out = cli_ok(["fit", "good.csv", "-k", "2", "--covariance", covariance_type, "--draws",
                 "60", "--tune", "60", "--chains", "2", "--seed", "1", "--no-progress",
                 "--out", "fit"], capsys)
    assert "estimates: fit/estimates.csv" in out
    table = _read(data_dir / "fit")
    assert list(table.columns) == KEYS + ["em"] + SUMMARY_COLUMNS + ["identified"]
    assert _keys(table) == _expected_keys(covariance_type)
    assert table["label"].isna().all()  # no --labels
    # the oracle: the saved posterior's own summary, entry by entry, bit for bit
    result = bayesgmm.load(data_dir / "fit")
    summary = result.summary(result.parameter_names)  # the default adds the correlations
    assert list(summary.columns) == SUMMARY_COLUMNS
    derived = table["parameter"].isin(["sd", "corr"]).to_numpy()
    expected = summary.loc[table["name"][~derived], SUMMARY_COLUMNS].to_numpy(dtype=float)
    np.testing.assert_array_equal(table[SUMMARY_COLUMNS][~derived].to_numpy(dtype=float),
                                  expected)
    # the EM start beside each posterior summary: compare_em's em column, and the start's
    # own EM table (bayesgmm em --out's estimates.csv) row for row
    shown_em = result.compare_em()["em"]
    np.testing.assert_array_equal(table["em"][~derived].to_numpy(),
                                  shown_em.loc[table["name"][~derived]].to_numpy())
    from bayesgmm.estimates import estimates_table

    start = estimates_table(result.em)
    assert _keys(start) == _keys(table)
    np.testing.assert_array_equal(table["em"].to_numpy(), start["em"].to_numpy())
    # the table's rows are the summary's, which lists a symmetric matrix's (j, i) as its (i, j)
    assert list(summary.index) == list(table["name"][~derived])
    # the sds and correlations: their draws' summary, and the report's table's numbers
    sd_corr = result.summary(var_names=["sd", "corr"] if covariance_type in ("full", "tied")
                             else ["sd"])
    assert list(sd_corr.index) == list(table["name"][derived])
    np.testing.assert_array_equal(table[SUMMARY_COLUMNS][derived].to_numpy(dtype=float),
                                  sd_corr[SUMMARY_COLUMNS].to_numpy(dtype=float))
    from bayesgmm.report import parameter_table

    shown = parameter_table(result)
    for parameter, row in table[derived].set_index("name").iterrows():
        assert row["mean"] == pytest.approx(shown.loc[parameter, "mean"], rel=1e-12)
        assert row["eti94_lb"] == pytest.approx(shown.loc[parameter, "eti94_lb"], rel=1e-12)
    # QA95/QA99: one name per number in every table, so that a script's joins match rows
    assert set(shown.index) == set(table["name"][table["parameter"] != "covariances"])
    ninety = result.compare_em(interval=0.9)
    assert ninety.index.name == summary.index.name == "name"
    bounds = ["eti90_lb", "eti90_ub"]
    np.testing.assert_allclose(
        ninety[bounds].to_numpy(),
        result.summary(result.parameter_names, ci_prob=0.9).loc[ninety.index, bounds],
        rtol=1e-10)
    assert pd.concat([start, table])["em"].notna().all()  # EM's values in one column
    for name in summary.index:
        if name.startswith("covariances") and covariance_type in ("full", "tied"):
            head, tail = name[:-1].split("[")
            *k, a, b = tail.split(", ")
            assert a == b or f"{head}[{', '.join([*k, b, a])}]" not in summary.index


def test_run_writes_estimates_and_force_replaces_them(data_dir, tiny_fit, tiny_fit_diag,
                                                      monkeypatch, capsys):
    """`run` writes it too; --force replaces it with the new fit's (not a stale file), and
    `bayesgmm report` rebuilds the report beside it, keeping it and its manifest entry."""
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    spec = data_dir / "spec.toml"
    spec.write_text('[data]\npath = "good.csv"\n[model]\nn_components = 2\n[sampler]\n'
                    'seed = 0\n[output]\ndirectory = "out"\nreport = false\n')
    cli_ok(["run", str(spec), "--no-progress"], capsys)
    first = _read(data_dir / "out")
    every = pd.concat([tiny_fit.summary(), tiny_fit.summary(var_names=["sd"])])
    np.testing.assert_array_equal(
        first["mean"].to_numpy(), every.loc[first["name"], "mean"].to_numpy())
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit_diag)
    cli_ok(["fit", "good.csv", "-k", "2", "--out", "out", "--force", "--no-progress"], capsys)
    second = _read(data_dir / "out")
    np.testing.assert_array_equal(  # the diag fit's rows: one variance per feature
        second["mean"].to_numpy(),
        pd.concat([tiny_fit_diag.summary(), tiny_fit_diag.summary(var_names=["sd"])]
                  ).loc[second["name"], "mean"].to_numpy())
    assert len(second) < len(first)
    manifest = json.loads((data_dir / "out" / "manifest.json").read_text())
    listed = manifest["sha256"]["estimates.csv"]
    reported = cli_ok(["report", "out", "--no-progress"], capsys)
    assert (data_dir / "out" / "report.html").exists() and "note:" not in reported
    pd.testing.assert_frame_equal(_read(data_dir / "out"), second)
    after = json.loads((data_dir / "out" / "manifest.json").read_text())
    assert after["sha256"]["estimates.csv"] == listed and "estimates.csv" in after["files"]
    assert isinstance(bayesgmm.load(data_dir / "out"), bayesgmm.BayesResult)
    # a table deleted since: said, with where its numbers are (downstream QA: nothing said)
    (data_dir / "out" / "memberships.csv").unlink()
    out = cli_ok(["report", "out", "--no-progress"], capsys)
    assert ("note: memberships.csv, saved with the result, is missing from out (not rebuilt; "
            "in Python, bayesgmm.membership_table(bayesgmm.load(DIR)) gives its numbers)"
            ) in out and "estimates.csv, saved" not in out
    # one edited since: said too (QA64: it stood, unsaid, beside a report contradicting it)
    estimates = data_dir / "out" / "estimates.csv"
    estimates.write_text(estimates.read_text().replace("weights", "weightz", 1))
    out = cli_ok(["report", "out", "--no-progress"], capsys)
    assert ("note: estimates.csv in out was changed after it was saved (its SHA-256 differs "
            "from the manifest's): the report's numbers come from the saved posterior") in out


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_report_writes_the_estimate_for_every_covariance_type(covariance_type, data_dir,
                                                                 capsys):
    out = cli_ok(["em", "good.csv", "-k", "2", "--covariance", covariance_type, "--seed", "0",
                 "--n-init", "2", "--report", "--out", "emr", "--no-progress"], capsys)
    assert "estimates: emr/estimates.csv" in out
    table = _read(data_dir / "emr")
    assert list(table.columns) == KEYS + ["em"]  # a point estimate: no sd, no interval
    assert _keys(table) == _expected_keys(covariance_type)
    em = bayesgmm.load(data_dir / "emr")
    assert em.covariance_type == covariance_type
    K, D = 2, len(FEATURES)
    values = table["em"].to_numpy()
    np.testing.assert_array_equal(values[:K], em.weights)
    np.testing.assert_array_equal(values[K:K + K * D], em.means.reshape(-1))
    cov = table["em"][table["parameter"] == "covariances"].to_numpy()
    # the sds and correlations as the EM report's table shows them
    from bayesgmm.report import parameter_table

    shown = parameter_table(em)["EM"]
    for parameter, value in table.set_index("name")["em"].items():
        if parameter.startswith(("sd[", "corr[")):
            assert value == pytest.approx(shown[parameter], rel=1e-12)
    if covariance_type == "full":
        upper = np.triu_indices(D)
        np.testing.assert_array_equal(cov, np.concatenate([c[upper] for c in em.covariances]))
    elif covariance_type == "tied":  # one shared matrix, not repeated per component
        assert em.covariances.shape == (D, D)
        np.testing.assert_array_equal(cov, em.covariances[np.triu_indices(D)])
    else:  # diag: the variances (K, D); spherical: one variance per component (K,)
        np.testing.assert_array_equal(cov, em.covariances.reshape(-1))


def test_em_estimates_name_known_labels_and_the_noise_weight(data_dir, capsys):
    cli_ok(["em", "labelled.csv", "-k", "2", "--labels", "site", "--noise", "--seed", "0",
           "--n-init", "2", "--report", "--out", "emr", "--no-progress"], capsys)
    table = _read(data_dir / "emr")
    em = bayesgmm.load(data_dir / "emr")
    assert _keys(table) == _expected_keys("full", noise=True)
    # the one label name is component 0's; component 1 has none
    labels = table.set_index("name")["label"]
    assert labels["weights[0]"] == "long" and pd.isna(labels["weights[1]"])
    assert (table.loc[table["component"] == 0, "label"] == "long").all()
    noise_row = table.set_index("parameter").loc["noise_weight"]
    assert noise_row["em"] == em.noise_weight > 0


def test_posterior_estimates_name_known_labels_and_the_noise_weight(data_dir, capsys):
    """The posterior's table with --labels and --noise (review: only EM's was tested): the
    label on component 0's rows, and a row for the scalar noise weight after the
    parameters."""
    cli_ok(["fit", "labelled.csv", "-k", "2", "--labels", "site", "--noise", "--seed", "0",
           "--draws", "60", "--tune", "60", "--chains", "2", "--out", "fit", "--no-progress"],
          capsys)
    table = _read(data_dir / "fit")
    result = bayesgmm.load(data_dir / "fit")
    assert _keys(table) == _expected_keys("full", noise=True)
    assert (table.loc[table["component"] == 0, "label"] == "long").all()
    assert table.loc[table["component"] == 1, "label"].isna().all()
    last = table[~table["parameter"].isin(["sd", "corr"])].iloc[-1]
    assert last["parameter"] == "noise_weight" and pd.isna(last["component"])
    assert last["mean"] == result.summary().loc["noise_weight", "mean"]
    assert last["em"] == result.em.noise_weight > 0  # the start's noise weight beside it


def test_components_without_one_identity_are_marked_in_the_table_and_on_the_console(
        data_dir, tiny_fit, monkeypatch, capsys):
    """QA: the report's table marks with a dagger the components whose draws describe no
    single cluster; the console's table printed them unmarked, and estimates.csv had no
    column saying so (a script would report them as one estimate)."""
    import dataclasses

    from bayesgmm.report import _mcse_digits, parameter_table

    judged = tiny_fit.diagnostics()
    mixed = dataclasses.replace(judged, unreported_components=(1,))
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    monkeypatch.setattr(type(tiny_fit), "diagnostics", lambda self, **k: mixed)
    out = cli_ok(["fit", "good.csv", "-k", "2", "--out", "fit", "--no-progress"], capsys)
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines()
                if line.startswith(("weights[", "means[", "sd[", "corr[")))
    marked = {name.removesuffix(" \u2020") for name in rows if name.endswith(" \u2020")}
    assert marked == {name for name in parameter_table(tiny_fit).index if "[1" in name}
    assert ("\u2020 Component 1: these rows' draws describe no single cluster (the "
            "diagnostics below say why); do not report them as one estimate") in out
    table = _read(data_dir / "fit")
    identified = table.set_index("name")["identified"]
    assert (identified[table["component"].to_numpy() == 1] == False).all()  # noqa: E712
    assert (identified[table["component"].to_numpy() == 0] == True).all()  # noqa: E712
    # the console's posterior numbers are the report's: to the digits the MCSE supports
    params = parameter_table(tiny_fit)
    mean, mcse = params.loc["means[0, waiting]", ["mean", "MCSE"]]
    assert rows["means[0, waiting]"].split()[1] == _mcse_digits(mean, mcse)
    # without a verdict naming one, every component's rows are identified; the tied matrix
    # (no component) is empty
    monkeypatch.setattr(type(tiny_fit), "diagnostics", lambda self, **k: judged)
    cli_ok(["fit", "good.csv", "-k", "2", "--out", "fit", "--force", "--no-progress"], capsys)
    assert _read(data_dir / "fit")["identified"].all()


def test_a_failure_to_write_the_table_does_not_lose_the_fit(data_dir, monkeypatch, capsys):
    """estimates.csv is written inside the result's atomic save: a failure there warns and
    leaves the file out (not listed in the manifest) instead of losing the fit."""
    import bayesgmm.estimates

    def fail(result, path, *diagnostics):
        path.write_text("half")  # a partial file must not stay behind
        raise RuntimeError("no table")

    monkeypatch.setattr(bayesgmm.estimates, "write_estimates", fail)
    with pytest.warns(UserWarning, match=r"estimates.csv was not written \(RuntimeError: no "
                                         r"table\); the result itself is saved"):
        out = cli_ok(["em", "good.csv", "-k", "2", "--seed", "0", "--n-init", "2", "--out",
                      "em", "--no-progress"], capsys)
    assert not (data_dir / "em" / "estimates.csv").exists()
    # and not listed among the tables written (QA)
    assert "estimates: " not in out and "memberships of the rows: em" in out
    manifest = json.loads((data_dir / "em" / "manifest.json").read_text())
    assert "estimates.csv" not in manifest["files"]
    assert isinstance(bayesgmm.load(data_dir / "em"), bayesgmm.EMResult)


@pytest.mark.parametrize("name", ["estimates.csv", "memberships.csv"])
def test_commands_help_and_readme_name_the_file(name, capsys):
    for command in ("fit", "run", "em"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert name in capsys.readouterr().out, command
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"| `{name}` |" in readme  # the result directory's table of files


def test_further_files_are_listed_and_may_not_replace_the_results_own(tmp_path):
    from bayesgmm.result_files import read_manifest, save_files

    em = bayesgmm.fit_em(bayesgmm.load_old_faithful(), 2, n_init=1, random_state=0)
    with pytest.raises(ValueError, match="a plain name of its own"):
        save_files(em, tmp_path / "a", "EMResult", files={"em.json": lambda p: None})
    with pytest.raises(ValueError, match="a plain name of its own"):
        save_files(em, tmp_path / "a", "EMResult", files={"sub/x.csv": lambda p: None})
    assert not (tmp_path / "a").exists()
    save_files(em, tmp_path / "b", "EMResult", files={"x.txt": lambda p: p.write_text("x")})
    assert "x.txt" in read_manifest(tmp_path / "b")["files"]
    assert isinstance(bayesgmm.load(tmp_path / "b"), bayesgmm.EMResult)


def test_a_fit_whose_out_another_run_took_meanwhile_is_saved_beside_it(data_dir, tiny_fit,
                                                                       monkeypatch, capsys):
    """QA103: an EM run wrote --out while a fit sampled; the finished posterior was thrown
    away, in the API's words ("BayesResult.save"). The other run's output is left as it is,
    the posterior saved beside it, and the error says where."""
    from bayesgmm import EMResult
    from bayesgmm.posterior import BayesResult

    def fit_while_another_run_writes(*args, **kwargs):
        bayesgmm.fit_em(bayesgmm.load_old_faithful(), 2, n_init=1, random_state=0).save("taken")
        return tiny_fit

    monkeypatch.setattr(cli, "fit_bayes", fit_while_another_run_writes)
    rc = cli.main(["fit", "good.csv", "-k", "2", "--out", "taken", "--no-progress"])
    err = capsys.readouterr().err
    (kept,) = data_dir.glob("taken.unsaved-*")
    assert rc == 2 and err.count("\n") == 1 and "BayesResult.save" not in err
    assert err.startswith("bayesgmm: error: the output directory taken was written by another "
                          "run while this one ran, and is left as it is; this run's result was "
                          f"saved to {kept.name} instead")
    assert isinstance(bayesgmm.load("taken"), EMResult)
    assert isinstance(bayesgmm.load(kept), BayesResult)


@pytest.mark.parametrize("command", ["em", "select"])
def test_an_em_or_selection_whose_out_another_run_took_meanwhile_is_saved_beside_it(
        command, data_dir, monkeypatch, capsys):
    """QA145 L2: a fit's loser of an --out race kept its result beside it; em's and select's
    threw theirs away (a sweep on large data takes minutes)."""
    from bayesgmm import EMResult

    taken = {"em": "taken_em", "select": "taken_select"}[command]
    real = cli.write_directory if command == "select" else cli.save_files

    def another_run_first(*args, **kwargs):
        target = Path(args[0] if command == "select" else args[1])
        if target.name == taken and not target.exists():
            bayesgmm.fit_em(bayesgmm.load_old_faithful(), 2, n_init=1,
                            random_state=0).save(target)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "write_directory" if command == "select" else "save_files",
                        another_run_first)
    argv = (["em", "good.csv", "-k", "2", "--out", taken] if command == "em" else
            ["select", "good.csv", "-k", "1-2", "--out", taken])
    rc = cli.main([*argv, "--no-progress"])
    err = capsys.readouterr().err
    (kept,) = data_dir.glob(f"{taken}.unsaved-*")
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith(f"bayesgmm: error: the output directory {taken} was written by "
                          "another run while this one ran, and is left as it is; this run's "
                          f"result was saved to {kept.name} instead (rename it")
    assert isinstance(bayesgmm.load(taken), EMResult)
    if command == "em":
        assert isinstance(bayesgmm.load(kept), EMResult)
    else:
        from bayesgmm.report import SELECTION_REPORT_NAME

        assert (kept / SELECTION_REPORT_NAME).is_file()
