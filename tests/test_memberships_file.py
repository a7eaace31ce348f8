"""memberships.csv: each fitted row's component and membership probabilities (`fit`, `run` and
`em --out`).

The oracle is the result itself: a posterior's ``memberships()`` over the draws the report
uses, an EM fit's ``predict_proba``; the CSV, read with plain ``pandas.read_csv``, must give
the same float64 values bit for bit, each row named as the reports name it.
"""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import cli_ok, read_listed_table

import bayesgmm
from bayesgmm.draw_arrays import membership_draws
from bayesgmm.memberships_file import membership_table

KEYS = ["row", "component", "component_label", "probability"]


def _read(directory, rows="row"):
    """memberships.csv as a user reads it (IDs as text, empty labels as ""), after checking
    that the manifest lists it."""
    return read_listed_table(directory, "memberships.csv",
                             dtype={rows: str, "component_label": str}, keep_default_na=False)


def _check_consistent(table, K, noise=False):
    """What every table must hold, whatever the fit: the probability columns sum to 1, the
    component is their argmax (-1 for noise) and its probability is that column's."""
    names = [str(k) for k in range(K)] + (["noise"] if noise else [])
    p = table[[f"p_{n}" for n in names]].to_numpy(float)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    best = np.argmax(p, axis=1)
    np.testing.assert_array_equal(table["component"], np.where(best == K, -1, best))
    np.testing.assert_array_equal(table["probability"], p[np.arange(len(p)), best])
    return p


def test_a_posterior_table_is_its_memberships_over_the_reports_draws(tiny_fit):
    table = membership_table(tiny_fit)
    n = tiny_fit.idata["observed_data"].sizes["observation"]
    assert list(table.columns) == KEYS + ["p_0", "p_1", "p_0_eti94_lb", "p_0_eti94_ub",
                                          "p_1_eti94_lb", "p_1_eti94_ub"]
    expected = tiny_fit.memberships(max_draws=membership_draws(n, 2))
    np.testing.assert_array_equal(_check_consistent(table, 2), expected.mean)
    np.testing.assert_array_equal(table[["p_0_eti94_lb", "p_1_eti94_lb"]], expected.lower)
    np.testing.assert_array_equal(table[["p_0_eti94_ub", "p_1_eti94_ub"]], expected.upper)
    np.testing.assert_array_equal(table["row"], tiny_fit.row_names)
    assert table["component_label"].isna().all()
    np.testing.assert_array_equal(table["component"], tiny_fit.predict(
        tiny_fit.idata["observed_data"]["x"].values))


def test_a_weighted_posterior_table_says_each_rows_weight(tiny_fit):
    """QA134 L3: memberships.csv of a fit with rows of weight 0 did not say which rows the
    fit counted; a weighted posterior's table has each row's weight before its probability."""
    import dataclasses

    n = tiny_fit.idata["observed_data"].sizes["observation"]
    weights = np.r_[0.0, 0.0, np.full(n - 2, 2.0)]
    idata = tiny_fit.idata.copy()
    idata["observed_data"] = idata["observed_data"].to_dataset().assign(
        sample_weight=(("observation",), weights))
    table = membership_table(dataclasses.replace(tiny_fit, idata=idata))
    assert list(table.columns[:5]) == KEYS[:3] + ["weight", "probability"]
    np.testing.assert_array_equal(table["weight"], weights)
    assert "weight" not in membership_table(tiny_fit).columns


def test_membership_draws_are_all_of_a_default_run_and_fewer_at_large_n():
    assert membership_draws(272, 2) == 1000
    assert membership_draws(200_000, 4) == 100  # at least 100
    assert membership_draws(20_000, 3) == 333  # 20 million values at most


def test_an_em_table_with_known_labels_and_noise(old_faithful):
    X = old_faithful.to_numpy()[:120].copy()
    X[-3] = [9.0, 200.0]  # a far point, for the noise component
    labels = np.full(len(X), -1)
    labels[:5] = 1
    em = bayesgmm.fit_em(X, 2, labels=labels, noise=True, random_state=0, n_init=2)
    rows = np.array([f"s{i}" for i in range(len(X))])
    table = membership_table(em, X, rows=rows, labels=labels, row_column="sample")
    keys = ["sample", "component", "component_label", "known", "probability"]
    assert list(table.columns) == keys + ["p_0", "p_1", "p_noise"]
    p = _check_consistent(table, 2, noise=True)
    np.testing.assert_array_equal(p, em.predict_proba(X, labels=labels))
    np.testing.assert_array_equal(p[:5], np.tile([0.0, 1.0, 0.0], (5, 1)))  # given labels
    np.testing.assert_array_equal(table["known"], labels >= 0)
    assert table["component"].iloc[-3] == -1 and table["component_label"].iloc[-3] == "noise"
    # QA: beside "noise", the unlabelled rows read NaN (pandas' string dtype), not None
    unnamed = table["component_label"][table["component"] == 0]
    assert len(unnamed) and all(v is None for v in unnamed)
    np.testing.assert_array_equal(table["sample"], rows)
    # a rows' column named as another column keeps "row"
    assert membership_table(em, X, row_column="probability").columns[0] == "row"


@pytest.mark.parametrize("missing", ["marginalise", "drop"])
def test_an_em_table_of_an_indexed_frame_has_its_ids_and_only_its_fitted_rows(old_faithful,
                                                                             missing):
    """QA: ``membership_table(em, X)`` with X indexed by sample IDs gave 0, 1, ... and a row
    of NaN for a row with nothing observed, which the fit left out."""
    X = old_faithful.iloc[:60].copy()
    X.index = pd.Index([f"S{i:02d}" for i in range(60)], name="sample_id")
    X.iloc[3] = np.nan  # nothing observed: never fitted
    X.iloc[5, 0] = np.nan  # fitted unless missing="drop"
    em = bayesgmm.fit_em(X, 2, random_state=0, n_init=1, missing=missing)
    table = membership_table(em, X)
    kept = [i for i in range(60) if i != 3 and (missing != "drop" or i != 5)]
    assert table.columns[0] == "sample_id"
    assert list(table["sample_id"]) == [f"S{i:02d}" for i in kept]
    assert not table.drop(columns="component_label").isna().any().any()
    np.testing.assert_array_equal(_check_consistent(table, 2),
                                  em.predict_proba(X.iloc[kept]))
    # positions (a plain array, or a frame on 0..N-1) keep "row", the rows' numbers
    plain = membership_table(em, X.to_numpy())
    assert plain.columns[0] == "row" and list(plain["row"]) == kept
    # a nullable column's pd.NA is a missing value, as the fit reads it
    nullable = X.astype({"eruptions": "Float64"})
    nullable.iloc[3, 0] = pd.NA
    assert list(membership_table(em, nullable)["sample_id"]) == list(table["sample_id"])


def test_predict_proba_with_labels_changes_only_the_labelled_rows(old_faithful):
    X = old_faithful.to_numpy()[:80]
    em = bayesgmm.fit_em(X, 2, random_state=0, n_init=2)
    labels = np.full(len(X), -1)
    labels[[3, 7]] = [0, 1]
    p, free = em.predict_proba(X, labels=labels), em.predict_proba(X)
    np.testing.assert_array_equal(p[[3, 7]], [[1.0, 0.0], [0.0, 1.0]])
    mask = labels < 0
    np.testing.assert_allclose(p[mask], free[mask], rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="labels must be one value per row"):
        em.predict_proba(X, labels=labels[:-1])


def test_a_table_asks_for_what_the_result_does_not_carry(tiny_fit, old_faithful):
    with pytest.raises(ValueError, match="give no X, rows, labels or sample_weight"):
        membership_table(tiny_fit, old_faithful)
    em = bayesgmm.fit_em(old_faithful, 2, random_state=0, n_init=1)
    with pytest.raises(ValueError, match="the rows it was fitted to: X"):
        membership_table(em)
    with pytest.raises(ValueError, match="rows must name each of the 272 rows"):
        membership_table(em, old_faithful, rows=np.arange(3))


@pytest.fixture
def gappy_dir(tmp_path, old_faithful, monkeypatch):
    """60 Old Faithful rows with sample IDs, one row with nothing observed and one with a
    missing value, and a label column."""
    frame = old_faithful.iloc[:60].copy()
    frame.insert(0, "sample", [f"geyser-{i}" for i in range(60)])
    frame.loc[4, ["eruptions", "waiting"]] = np.nan
    frame.loc[9, "waiting"] = np.nan
    frame["kind"] = np.where(frame["eruptions"] > 4.5, "long", "")
    frame.to_csv(tmp_path / "gappy.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("missing", ["marginalise", "drop"])
def test_em_out_names_the_rows_it_fitted(missing, gappy_dir, capsys):
    out = cli_ok(["em", "gappy.csv", "-k", "2", "--index", "sample", "--labels", "kind",
                 "--missing", missing, "--seed", "0", "--n-init", "2", "--out", "em",
                 "--no-progress"], capsys)
    assert "memberships of the rows: em/memberships.csv (rows by their 'sample' column)" in out
    table = _read(gappy_dir / "em", rows="sample")
    assert table.columns[0] == "sample"  # a join by the ID column needs no renaming
    dropped = {"geyser-4"} | ({"geyser-9"} if missing == "drop" else set())
    assert list(table["sample"]) == [f"geyser-{i}" for i in range(60)
                                  if f"geyser-{i}" not in dropped]
    _check_consistent(table, 2)
    kind = pd.read_csv(gappy_dir / "gappy.csv", keep_default_na=False).set_index("sample")
    long_rows = (kind.loc[table["sample"], "kind"] == "long").to_numpy()
    assert long_rows.any() and not long_rows.all()
    # the known label is component 0's name ("long", the one name), its rows certain
    assert (table.loc[long_rows, "component"] == 0).all()
    assert (table.loc[long_rows, "component_label"] == "long").all()
    assert (table.loc[long_rows, "probability"] == 1.0).all()
    # the rows whose label was given, told apart from those classified by their values
    np.testing.assert_array_equal(table["known"], long_rows)


@pytest.mark.parametrize("name", ["component", "p_0", "p_noise_eti94_lb", "probability",
                                  "weight"])
def test_an_id_column_named_as_a_table_column_is_refused(name, gappy_dir, capsys):
    """Downstream QA: an ID column named "component" became "row" in memberships.csv while the
    printout said "rows by their 'component' column": a join by it took clusters for IDs."""
    from bayesgmm.cli import main

    frame = pd.read_csv(gappy_dir / "gappy.csv").rename(columns={"sample": name})
    frame.to_csv(gappy_dir / "clash.csv", index=False)
    assert main(["em", "clash.csv", "-k", "2", "--index", name, "--out", "clash",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"bayesgmm: error: --index column {name!r} has the name of a column "
                           "memberships.csv writes (component, component_label, known, "
                           "probability, p_k ...): rename that column of the data file")
    assert not (gappy_dir / "clash").exists()
    # where no memberships.csv is written, the name is no clash (review: select refused it)
    assert main(["em", "clash.csv", "-k", "2", "--index", name, "--labels", "kind",
                 "--no-progress"]) == 0


def test_fit_writes_the_posterior_memberships_and_the_report_agrees(gappy_dir, capsys):
    cli_ok(["fit", "gappy.csv", "-k", "2", "--index", "sample", "--labels", "kind", "--draws",
           "60", "--tune", "60", "--chains", "2", "--seed", "1", "--no-progress", "--out",
           "fit"], capsys)
    table = _read(gappy_dir / "fit", rows="sample")
    # component 0's name, component 1 has none
    assert set(table["component_label"]) == {"long", ""}
    assert (table.loc[table["component_label"] == "long", "component"] == 0).all()
    assert table["known"].dtype == bool and table["known"].any()
    result = bayesgmm.load(gappy_dir / "fit")
    np.testing.assert_array_equal(table["sample"], result.row_names)
    assert "geyser-4" not in set(table["sample"]) and "geyser-9" in set(table["sample"])
    expected = result.memberships(max_draws=membership_draws(len(table), 2))
    np.testing.assert_array_equal(_check_consistent(table, 2), expected.mean)
    np.testing.assert_array_equal(table[["p_0_eti94_lb", "p_1_eti94_lb"]], expected.lower)


def test_a_failure_to_write_memberships_keeps_the_fit_and_the_estimates(gappy_dir,
                                                                       monkeypatch, capsys):
    import bayesgmm.memberships_file

    def fail(*args, **kwargs):
        raise RuntimeError("no memberships")

    monkeypatch.setattr(bayesgmm.memberships_file, "write_memberships", fail)
    with pytest.warns(UserWarning, match=r"memberships.csv was not written \(RuntimeError: "
                                         r"no memberships\); the result itself is saved"):
        cli_ok(["em", "gappy.csv", "-k", "2", "--index", "sample", "--labels", "kind",
               "--seed", "0", "--n-init", "2", "--out", "em", "--no-progress"], capsys)
    manifest = json.loads((gappy_dir / "em" / "manifest.json").read_text())
    assert "memberships.csv" not in manifest["files"] and "estimates.csv" in manifest["files"]
    assert not (gappy_dir / "em" / "memberships.csv").exists()
    assert isinstance(bayesgmm.load(gappy_dir / "em"), bayesgmm.EMResult)


def test_the_printed_row_rule_finds_the_row_in_a_spreadsheet_and_in_r(gappy_dir, capsys):
    """QA62: "a spreadsheet's row n is row n - 1" sent the user to the row above (the
    header is a spreadsheet's row 1). The rule printed is checked against the file."""
    import re

    out = cli_ok(["em", "gappy.csv", "-k", "2", "--columns", "eruptions,waiting", "--seed", "0",
                  "--n-init", "1", "--out", "em", "--no-progress"], capsys)
    r_offset, sheet_offset = map(int, re.search(
        r"R's row n is row n - (\d), a spreadsheet's row n \(header on row 1\) is row n - (\d)",
        out).groups())
    lines = (gappy_dir / "gappy.csv").read_text().splitlines()  # a spreadsheet's rows
    frame = pd.read_csv(gappy_dir / "gappy.csv")  # R's read.csv rows, from 1
    table = _read(gappy_dir / "em")
    for row in table["row"].iloc[[0, 10, -1]]:
        row = int(row)
        sheet_row, r_row = row + sheet_offset, row + r_offset  # from 1, as their users count
        assert lines[sheet_row - 1].startswith(frame["sample"].iloc[r_row - 1] + ",")
        assert frame["sample"].iloc[r_row - 1] == f"geyser-{row}"


def test_rows_named_twice_are_numbered_instead_with_a_warning(old_faithful):
    """QA82: X indexed by one repeated ID gave a table whose every row was "s1" (the command
    line refuses such IDs): the rows are numbered from 0 instead, and a warning says why."""
    import bayesgmm
    from bayesgmm.memberships_file import membership_table

    X = old_faithful.iloc[:120].copy()
    X.index = pd.Index(["s1"] * 120, name="sample")
    em = bayesgmm.fit_em(X, 2, random_state=0)
    with pytest.warns(UserWarning, match="not unique .1 distinct for 120 rows"):
        table = membership_table(em, X)
    assert table["row"].tolist() == list(range(120)) and "sample" not in table.columns
    unique = X.set_axis([f"s{i}" for i in range(120)]).rename_axis("sample")
    assert membership_table(em, unique)["sample"].tolist()[:2] == ["s0", "s1"]


def test_a_posterior_keeps_the_name_of_the_index_that_named_its_rows(old_faithful, tmp_path):
    """QA116 M1: fitted on a frame indexed by ``patient_id``, ``membership_table(em, X)``
    headed the IDs ``patient_id`` but ``membership_table(post)`` and both reports' table of
    uncertain points ``row``: a join on ``patient_id`` failed. Kept through save and load."""
    from bayesgmm.report import build_em_report

    X = np.asarray(old_faithful)
    frame = pd.DataFrame(X, columns=["eruptions", "waiting"],
                         index=pd.Index([f"P{i:04d}" for i in range(len(X))], name="patient_id"))
    post = bayesgmm.fit_bayes(frame, 2, draws=40, tune=60, chains=2, random_state=0,
                              progressbar=False)
    assert post.index_name == "patient_id"
    em_table = membership_table(post.em, frame)
    for result in (post, bayesgmm.load(post.save(tmp_path / "fit"))):
        table = membership_table(result)
        assert table.columns[0] == em_table.columns[0] == "patient_id"
        assert list(table["patient_id"]) == list(frame.index)
    page, _ = build_em_report(post.em, frame)  # its table of uncertain points
    assert '<th scope="col">patient_id</th>' in page
    # no index name: the rows are "row", as before
    plain = frame.rename_axis(None)
    assert membership_table(post.em, plain).columns[0] == "row"


def test_an_em_table_of_weighted_rows_says_each_rows_weight(old_faithful):
    """QA139 M2: the EM fit's memberships.csv had no weight column (its rows of weight 0
    looked fitted, P = 1.0), where the posterior's has one."""
    X = old_faithful.to_numpy(float)
    weights = np.r_[0.0, 0.0, np.full(len(X) - 2, 3.0)]
    em = bayesgmm.fit_em(X, 2, sample_weight=weights, random_state=0)
    table = membership_table(em, X, sample_weight=weights)
    assert list(table.columns[:5]) == KEYS[:3] + ["weight", "probability"]
    np.testing.assert_array_equal(table["weight"], weights)
    with pytest.raises(ValueError, match=r"sample_weight must be one weight per row of X"):
        membership_table(em, X, sample_weight=weights[:-1])


def test_saving_reuses_the_memberships_the_printout_computed(tiny_fit, tmp_path, monkeypatch):
    """QA158 L7: `fit --noise` computed the fitted rows' memberships for its printout and again
    for memberships.csv (3.9 s + 3.4 s at 100,000 rows): saving changes the records, not the
    draws, and keeps what was computed."""
    import dataclasses

    from bayesgmm import cli

    result = dataclasses.replace(tiny_fit)
    n = result.idata["observed_data"].sizes["observation"]
    expected = result.memberships(max_draws=membership_draws(n, 2))

    def again(*args, **kwargs):
        raise AssertionError("the memberships were computed again")

    monkeypatch.setattr(type(result), "predict_proba", again)
    cli._save(result, tmp_path / "out", force=False, report=False, data_source="x.csv")
    table = _read(tmp_path / "out")
    np.testing.assert_array_equal(table[["p_0", "p_1"]].to_numpy(), expected.mean)
