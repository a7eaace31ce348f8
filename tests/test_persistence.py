"""Saving and loading results: bit-identical round trips, atomic writes, no silent overwrite."""

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import bayesgmm
from bayesgmm import persistence, result_files
from bayesgmm.em import EMResult
from bayesgmm.posterior import BayesResult


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "OUS" or b.dtype.kind in "OUS":
        return a.shape == b.shape and [str(v) for v in a.flat] == [str(v) for v in b.flat]
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _assert_same_em(a: EMResult, b: EMResult):
    for name in ("weights", "means", "covariances", "precisions_cholesky", "history"):
        assert _same_bits(getattr(a, name), getattr(b, name)), name
    for name in ("covariance_type", "log_likelihood", "log_posterior", "n_iter", "converged",
                 "feature_names", "n_samples", "reg_covar", "warnings"):
        assert getattr(a, name) == getattr(b, name), name
    assert (a.prior is None) == (b.prior is None)
    if a.prior is not None:
        assert _same_bits(a.prior.mean, b.prior.mean)
        assert _same_bits(a.prior.scale, b.prior.scale)
        assert (a.prior.shrinkage, a.prior.dof, a.prior.weight_concentration) == \
            (b.prior.shrinkage, b.prior.dof, b.prior.weight_concentration)
    # the start search's candidates (the report's table of them): objectives and parameters
    assert len(a.candidates) == len(b.candidates)
    for x, y in zip(a.candidates, b.candidates, strict=True):
        assert (x.source, x.log_posterior, x.log_likelihood, x.weights) == \
            (y.source, y.log_posterior, y.log_likelihood, y.weights)
        assert _same_bits(x.means, y.means) and _same_bits(x.covariances, y.covariances)


@pytest.fixture(params=["tiny_fit", "tiny_fit_diag"])
def fitted(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def saved(fitted, tmp_path):
    path = fitted.save(tmp_path / "result")
    return fitted, bayesgmm.load(path), tmp_path / "result"


def test_round_trip_is_bit_identical(saved):
    original, loaded, _ = saved
    assert isinstance(loaded, BayesResult)
    assert original.em.candidates  # the premise: fit_bayes searched for its start
    assert set(loaded.idata.children) == set(original.idata.children)
    for node in original.idata.subtree:
        before = node.to_dataset(inherit=False)
        after = loaded.idata[node.path].to_dataset(inherit=False)
        assert set(before.variables) == set(after.variables), node.path
        for name, var in before.variables.items():
            assert after[name].dims == var.dims, (node.path, name)
            assert _same_bits(var.values, after[name].values), (node.path, name)
        assert before.attrs.keys() == after.attrs.keys(), node.path
    _assert_same_em(original.em, loaded.em)
    assert loaded.priors == original.priors
    assert _same_bits(loaded.standardisation.center, original.standardisation.center)
    assert _same_bits(loaded.standardisation.scale, original.standardisation.scale)
    assert loaded.covariance_type == original.covariance_type
    assert loaded.settings == original.settings
    assert loaded.label_switching == original.label_switching
    assert _same_bits(loaded.label_switching.permutations,
                      original.label_switching.permutations)
    # None inside string variables (nutpie's divergence messages) survives NetCDF.
    msgs = loaded.idata["sample_stats"]["divergence_message"].values
    before = original.idata["sample_stats"]["divergence_message"].values
    assert [m is None for m in msgs.flat] == [m is None for m in before.flat]
    assert loaded.idata["em"].attrs["converged"] is original.idata["em"].attrs["converged"]


def test_every_method_works_after_load(saved, old_faithful):
    original, loaded, _ = saved
    X = old_faithful.iloc[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert loaded.summary().equals(original.summary())
        assert loaded.diagnostics().verdict == original.diagnostics().verdict
    assert loaded.compare_em().equals(original.compare_em())
    for a, b in zip(loaded.posterior_mean(), original.posterior_mean(), strict=True):
        assert _same_bits(a, b)
    pa, pb = loaded.predict_proba(X), original.predict_proba(X)
    assert _same_bits(pa.mean, pb.mean) and _same_bits(pa.lower, pb.lower)
    assert _same_bits(loaded.predict(X), original.predict(X))
    assert _same_bits(loaded.score_samples(X), original.score_samples(X))
    ra = loaded.sample_posterior_predictive(10, max_draws=20, random_state=1)
    rb = original.sample_posterior_predictive(10, max_draws=20, random_state=1)
    assert _same_bits(ra["x"].values, rb["x"].values)
    assert loaded.feature_names == ("eruptions", "waiting")
    assert _same_bits(loaded.em.predict_proba(X), original.em.predict_proba(X))
    assert loaded.em.bic(X) == original.em.bic(X)


def test_directory_layout_and_versions(saved):
    _, _, path = saved
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["kind"] == "BayesResult"
    assert set(manifest["files"]) == {p.name for p in path.iterdir()}
    for package in ("bayesgmm", "pymc", "pytensor", "nutpie", "numba", "numpy", "scipy",
                    "arviz", "arviz-base", "arviz-stats"):
        assert manifest["versions"][package]
    # the software that made the fit travels with it: recorded at the fit, restored at load
    original, loaded, _ = saved
    assert original.versions == original.em.versions == manifest["versions"]
    assert loaded.versions == loaded.em.versions == manifest["versions"]
    # The posterior is plain NetCDF: readable without bayesgmm.
    tree = xr.open_datatree(path / "idata.nc", engine="h5netcdf")
    assert "posterior" in tree.children
    tree.close()
    # No temporary siblings are left next to the result.
    assert [p.name for p in path.parent.iterdir()] == ["result"]
    # saved again under other software, a result keeps the versions that made it (review:
    # the manifest recorded the saving software, so load(old).save(new) forgot the fit's)
    older = dataclasses.replace(loaded, versions={**loaded.versions, "bayesgmm": "0.0.1"})
    again = bayesgmm.load(older.save(path.parent / "again"))
    assert again.versions["bayesgmm"] == "0.0.1"


def test_refuses_to_overwrite(tiny_fit, tmp_path):
    path = tmp_path / "out"
    tiny_fit.save(path)
    before = (path / "manifest.json").read_text()
    with pytest.raises(ValueError, match=str(path)):
        tiny_fit.save(path)
    assert (path / "manifest.json").read_text() == before
    # overwrite=True replaces the result (by one of its kind) and leaves nothing else.
    def old_report(directory):  # written with the result, as fit --report does: listed
        (directory / "figures").mkdir()
        (directory / "figures" / "trace.png").write_bytes(b"the old report's")

    persistence.save(tiny_fit, path, overwrite=True, extra=old_report)
    tiny_fit.save(path, overwrite=True)
    assert isinstance(bayesgmm.load(path), BayesResult)
    assert not (path / "figures").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_overwrite_replaces_only_an_output_of_the_same_kind(tiny_fit, tmp_path):
    """QA: overwrite=True (--force) replaced a posterior by an EM fit, or a model selection
    by a posterior, without a word. Another kind is refused, with or without overwrite, in
    one line naming what is there; the one rule is paths.REPLACES."""
    posterior = tiny_fit.save(tmp_path / "post")
    em = tiny_fit.em.save(tmp_path / "em")
    for overwrite in (False, True):
        with pytest.raises(ValueError, match=re.escape(
                f"{posterior} holds a posterior fit (K=2) that saving an EM fit "
                f"(EMResult.save) would replace: choose another path, or delete {posterior} "
                "first")):
            tiny_fit.em.save(posterior, overwrite=overwrite)
        with pytest.raises(ValueError, match=re.escape(
                f"{em} holds an EM fit that saving a posterior fit (BayesResult.save) would "
                "replace")):
            tiny_fit.save(em, overwrite=overwrite)
    assert isinstance(bayesgmm.load(posterior), BayesResult)
    assert isinstance(bayesgmm.load(em), EMResult)
    tiny_fit.em.save(em, overwrite=True)  # the same kind: replaced

    # what the write produced, where the caller did not say (a selection report's manifest)
    def selection(directory):
        (directory / "select.html").write_text("<title>bayesgmm model selection: x.csv</title>")
        persistence.write_manifest(directory, "SelectionReport")

    persistence.write_directory(tmp_path / "sel", selection)
    with pytest.raises(ValueError, match=r"holds a posterior fit \(K=2\) that a model "
                                         r"selection's report would replace"):
        persistence.write_directory(posterior, selection, overwrite=True)
    with pytest.raises(ValueError, match=re.escape(
            "holds a model selection's report (bayesgmm model selection: x.csv) that saving "
            "a posterior fit")):
        tiny_fit.save(tmp_path / "sel", overwrite=True)
    persistence.write_directory(tmp_path / "sel", selection, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["em", "post", "sel"]
    # a report goes beside the fit it describes, or over a report
    for writes, kind in (("posterior report", "EMResult"), ("EM report", "BayesResult"),
                         ("EM report", "SelectionReport")):
        target = {"EMResult": em, "BayesResult": posterior, "SelectionReport": tmp_path / "sel"}
        with pytest.raises(ValueError, match="would replace"):
            persistence.check_writable(target[kind], overwrite=True, writes=writes)
    persistence.check_writable(posterior, overwrite=True, writes="posterior report")
    persistence.check_writable(em, overwrite=True, writes="EM report")


def test_a_report_is_not_written_beside_a_fit_of_another_kind(tiny_fit, old_faithful,
                                                               tmp_path):
    from bayesgmm.report import write_em_report, write_report

    posterior = tiny_fit.save(tmp_path / "post")
    with pytest.raises(ValueError, match="holds a posterior fit"):
        write_em_report(tiny_fit.em, old_faithful, posterior)
    em = tiny_fit.em.save(tmp_path / "em")
    with pytest.raises(ValueError, match="holds an EM fit"):
        write_report(tiny_fit, em, progressbar=False)
    # beside its own kind a report is written: tests/test_cli.py's end-to-end test (report
    # into the fit's own directory) and test_report.py's
    assert not (posterior / "report.html").exists() and not (em / "report.html").exists()


def test_a_path_under_an_unknown_users_home_is_taken_literally(tiny_fit, tmp_path,
                                                                monkeypatch):
    """QA: "~draft/x" (no user "draft") raised pathlib's "Could not determine home directory"
    from save and every command, where the data path beside it was taken literally (as
    pandas takes it). Both are now: a directory named "~draft"."""
    monkeypatch.chdir(tmp_path)
    path = tiny_fit.em.save("~bayesgmm_no_such_user/fit")
    assert path == Path("~bayesgmm_no_such_user/fit")
    assert (tmp_path / "~bayesgmm_no_such_user" / "fit" / "em.json").is_file()
    assert bayesgmm.load("~bayesgmm_no_such_user/fit").log_likelihood == \
        tiny_fit.em.log_likelihood


def test_empty_existing_directory_is_used(tiny_fit, tmp_path):
    (tmp_path / "empty").mkdir()
    tiny_fit.em.save(tmp_path / "empty")
    assert isinstance(bayesgmm.load(tmp_path / "empty"), EMResult)


def test_unwritable_directory_is_a_clear_error(tiny_fit, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match="cannot write .*a_file"):
        tiny_fit.save(blocker / "sub" / "result")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores directory permissions")
def test_read_only_directory_is_a_clear_error(tiny_fit, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="cannot write"):
            tiny_fit.save(locked / "result")
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_failed_write_leaves_nothing_behind(tiny_fit, tmp_path, monkeypatch):
    def broken(result, directory):
        (directory / "idata.nc").write_text("half written")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(result_files, "_write_bayes", broken)
    with pytest.raises(ValueError, match="no space left on device"):
        tiny_fit.save(tmp_path / "new" / "parents" / "result")
    assert list(tmp_path.iterdir()) == []


def test_em_result_round_trip(old_faithful, tmp_path):
    for prior in (None, "default"):
        em = bayesgmm.fit_em(old_faithful, 2, covariance_type="tied", prior=prior,
                             random_state=0)
        path = em.save(tmp_path / f"em_{prior}")
        loaded = bayesgmm.load(path)
        _assert_same_em(em, loaded)
        assert loaded.settings == em.settings and loaded.settings["random_state"] == 0
        assert _same_bits(loaded.score_samples(old_faithful), em.score_samples(old_faithful))


def test_load_rejects_other_directories(tmp_path):
    with pytest.raises(ValueError, match="not a saved bayesgmm result"):
        bayesgmm.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"kind": "BayesResult", "format_version": 99}')
    with pytest.raises(ValueError, match="format version 99"):
        bayesgmm.load(tmp_path)
    with pytest.raises(ValueError, match="BayesResult or EMResult"):
        persistence.save("not a result", tmp_path / "x")
    # a report directory: the message names what it is and how it is rebuilt
    for kind, command in (("SelectionReport", "bayesgmm select again"),
                          ("Report", "write_em_report, write_report")):
        (tmp_path / "manifest.json").write_text(f'{{"kind": "{kind}", "format_version": 1}}')
        with pytest.raises(ValueError, match=f"report.*rebuilt by .*{command}"):
            bayesgmm.load(tmp_path)


# --------------------------------------------------------------------------------------------
# overwrite=True replaces only what bayesgmm wrote (issue 11)
# --------------------------------------------------------------------------------------------
def test_overwrite_refuses_a_directory_bayesgmm_did_not_write(tiny_fit, tmp_path):
    """Before: overwrite=True deleted any non-empty directory, the user's notes included."""
    victim = tmp_path / "v"
    (victim / "sub").mkdir(parents=True)
    (victim / "notes.txt").write_text("x")
    # one parenthesis, why and what it holds (QA168 L6)
    with pytest.raises(ValueError, match=r"refusing to replace .*v: it is not a bayesgmm result"
                                         r" or report \(no manifest\.json; it holds notes\.txt, "
                                         r"sub/\); move it away"):
        tiny_fit.em.save(victim, overwrite=True)
    assert (victim / "notes.txt").read_text() == "x" and (victim / "sub").is_dir()
    # A manifest of another kind, or an unreadable one, is refused too.
    (victim / "manifest.json").write_text('{"kind": "Photos"}')
    with pytest.raises(ValueError, match="kind 'Photos'"):
        tiny_fit.em.save(victim, overwrite=True)
    (victim / "manifest.json").write_text("not json")
    with pytest.raises(ValueError, match="unreadable"):
        tiny_fit.em.save(victim, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]


def test_a_directory_of_the_users_is_refused_without_suggesting_force(tiny_fit, tmp_path):
    """QA (messy files): a non-empty directory of the user's was answered "overwrite it
    (overwrite=True, --force)", and --force was then refused; now refused at once, for what
    it is, and an earlier result is told how to be replaced."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="it is not a bayesgmm result") as info:
        tiny_fit.em.save(mine)
    assert "--force" not in str(info.value) and (mine / "notes.txt").read_text() == "mine"
    path = tiny_fit.em.save(tmp_path / "r")
    with pytest.raises(ValueError, match=r"already exists \(an earlier bayesgmm output\); "
                                         r".*overwrite=True in the API, --force on the "):
        tiny_fit.em.save(path)


def test_overwrite_refuses_a_result_holding_foreign_files(tiny_fit, tmp_path):
    path = tiny_fit.em.save(tmp_path / "r")
    (path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="bayesgmm EMResult but also holds notes.txt"):
        tiny_fit.em.save(path, overwrite=True)
    assert (path / "notes.txt").read_text() == "mine"


def test_overwrite_refuses_a_user_file_among_the_figures(tiny_fit, tmp_path):
    """QA: a figure the user put in figures/ was deleted by the next report or --force, and
    later (messy files) one under a report figure's name too (figures/data.png, and a
    report.html of the user's notes, in a result that had no report). Only what the manifest
    lists is bayesgmm's to replace."""
    path = tiny_fit.em.save(tmp_path / "r")
    (path / "figures").mkdir()
    (path / "figures" / ".DS_Store").write_bytes(b"a file manager's")  # not the user's work
    tiny_fit.em.save(path, overwrite=True)
    for mine in ("figures/my_paper_fig.pdf", "figures/my_plot.png", "figures/data.png",
                 "report.html"):
        (path / "figures").mkdir(exist_ok=True)
        (path / mine).write_bytes(b"mine")
        with pytest.raises(ValueError, match=f"also holds {mine}"):
            tiny_fit.em.save(path, overwrite=True)
        assert (path / mine).read_bytes() == b"mine"
        (path / mine).unlink()


def test_a_report_bayesgmm_wrote_is_listed_and_replaced(tiny_fit, old_faithful, tmp_path):
    """A report written with its fit (save's ``extra``, as fit --report does) or later into
    the fit's directory (bayesgmm report) is listed, with its SHA-256, in the manifest: a
    later rewrite or overwrite replaces it, and the fit still loads."""
    import json

    from bayesgmm.report import write_em_report

    def listed(path):
        manifest = json.loads((path / "manifest.json").read_text())
        assert set(manifest["sha256"]) == set(manifest["files"]) - {"manifest.json"}
        return set(manifest["files"])

    def report(directory):
        write_em_report(tiny_fit.em, old_faithful, directory)

    path = persistence.save(tiny_fit.em, tmp_path / "r", extra=report)
    files = listed(path)
    assert {"em.json", "report.html", "figures/data.png"} <= files
    assert {f"figures/{p.name}" for p in (path / "figures").iterdir()} <= files
    persistence.save(tiny_fit.em, path, overwrite=True, extra=report)  # its own: replaced
    (path / "figures" / "density.png").write_bytes(b"changed")
    report(path)  # rewritten beside the fit: the new report's entries replace the old ones
    after = listed(path)
    assert after >= {"em.json", "report.html", "figures/data.png"}
    assert (path / "figures" / "density.png").read_bytes() != b"changed"
    assert bayesgmm.load(path).log_likelihood == tiny_fit.em.log_likelihood
    tiny_fit.em.save(path, overwrite=True)  # no report this time: the old one goes
    assert not (path / "report.html").exists() and listed(path) == {
        n for n in after if n != "report.html" and not n.startswith("figures/")}


def test_every_report_figure_name_is_known_to_the_overwrite_check():
    """The names report.py gives its figures (the first argument of each ``figure(...)``
    call) are the ones paths.REPORT_FIGURES lets a rewrite of a directory saved before
    manifests listed their reports replace: a new figure missing from the list would block
    every later rewrite of such a report as "the user's"."""
    import ast
    import inspect

    from bayesgmm import paths, report

    tree = ast.parse(inspect.getsource(report))
    names = {call.args[0].value for call in ast.walk(tree)
             if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
             and call.func.id == "figure" and call.args
             and isinstance(call.args[0], ast.Constant)}
    assert names and names == set(paths.REPORT_FIGURES)
    # ... and the files it writes of each: a PNG and the vector formats it may be asked for
    from bayesgmm.settings import VECTOR_FORMATS

    assert paths._FIGURE_SUFFIXES == (".png", *(f".{f}" for f in VECTOR_FORMATS))


def test_a_result_saved_before_manifests_listed_reports_is_still_replaced(tiny_fit,
                                                                           old_faithful,
                                                                           tmp_path):
    """Review: a result saved with its report by an earlier version (its manifest lists the
    result's files only) was refused by --force and by a report rewrite, "which bayesgmm did
    not write". Such a manifest (no ``lists_reports``) has its reports known by name, as
    then; a file of the user's beside them is still refused."""
    from bayesgmm.report import write_em_report

    path = persistence.save(tiny_fit.em, tmp_path / "r",
                            extra=lambda d: write_em_report(tiny_fit.em, old_faithful, d))
    manifest = json.loads((path / "manifest.json").read_text())
    older = {k: v for k, v in manifest.items() if k != "lists_reports"}
    older["files"] = [n for n in manifest["files"]
                      if n != "report.html" and not n.startswith("figures/")]
    older["sha256"] = {n: v for n, v in manifest["sha256"].items() if n in older["files"]}
    (path / "manifest.json").write_text(json.dumps(older))
    (path / "figures" / "my_plot.png").write_bytes(b"mine")
    with pytest.raises(ValueError, match="also holds figures/my_plot.png"):
        tiny_fit.em.save(path, overwrite=True)
    (path / "figures" / "my_plot.png").unlink()
    write_em_report(tiny_fit.em, old_faithful, path)  # rewritten beside it: now listed
    rewritten = json.loads((path / "manifest.json").read_text())
    assert rewritten["lists_reports"] and "report.html" in rewritten["files"]
    (path / "manifest.json").write_text(json.dumps(older))
    tiny_fit.em.save(path, overwrite=True)  # --force over the older directory
    assert not (path / "report.html").exists()


@pytest.mark.parametrize("where", ["cwd", "cwd_parent", "home", "root"])
def test_never_replaces_cwd_home_root_or_their_ancestors(tiny_fit, tmp_path, monkeypatch,
                                                         where):
    """Before: `--out "$PWD" --force` / `--out ~ --force` emptied the directory."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("a\n1\n")
    home = tmp_path / "home"
    (home / "me").mkdir(parents=True)
    (home / "me" / ".bashrc").write_text("x")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home / "me"))
    target = {"cwd": work, "cwd_parent": tmp_path, "home": Path("~").expanduser(),
              "root": Path("/")}[where]
    with pytest.raises(ValueError, match="refusing to write to|does not name"):
        persistence.check_writable(target, overwrite=True)
    with pytest.raises(ValueError, match="refusing to write to|does not name"):
        tiny_fit.em.save(target, overwrite=True)
    assert (work / "data.csv").read_text() == "a\n1\n"
    assert (home / "me" / ".bashrc").read_text() == "x"


def test_never_replaces_the_inputs_or_their_folders(tmp_path):
    data = tmp_path / "project" / "data.csv"
    data.parent.mkdir()
    data.write_text("a\n1\n")
    for target in (data.parent, tmp_path):
        with pytest.raises(ValueError, match="contains the input data.csv"):
            persistence.check_writable(target, overwrite=True, protect=[data])
    persistence.check_writable(data.parent / "out", overwrite=True, protect=[data])


def test_a_name_too_long_for_the_write_is_refused_before_the_fit(tmp_path):
    """QA103: a 240-character name passed the early check, which tried a short name, and the
    write's temporary sibling (.NAME.tmp-PID@MACHINE-XXXXXXXX) failed after the fit."""
    import os

    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    with pytest.raises(ValueError, match=r"^cannot write .*too long"):
        persistence.check_writable(tmp_path / ("r" * (limit - 15)))
    assert list(tmp_path.iterdir()) == []
    persistence.check_writable(tmp_path / ("r" * 100))


def test_a_result_is_not_written_inside_another(tiny_fit, tmp_path):
    """QA64: a result saved inside another was accepted, and the outer one could then be
    neither replaced nor re-reported ("holds nested/, which bayesgmm did not write")."""
    tiny_fit.save(tmp_path / "outer")
    for inner in (tmp_path / "outer" / "inner", tmp_path / "outer" / "a" / "b"):
        with pytest.raises(ValueError, match=r"it is inside the bayesgmm output .*outer, which "
                                             r"holds only its own files"):
            tiny_fit.save(inner)
        assert not inner.exists()
    tiny_fit.save(tmp_path / "outer", overwrite=True)  # still replaceable


@pytest.mark.parametrize("name", [".", "..", "a/..", ""])
def test_dot_paths_are_refused_before_anything(name):
    with pytest.raises(ValueError, match="does not name a new directory"):
        persistence.check_writable(name)


def test_symlinked_output_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ValueError, match="symbolic link"):
        persistence.check_writable(tmp_path / "link", overwrite=True)


def test_a_mount_point_is_refused_before_the_fit(tmp_path, monkeypatch, tiny_fit):
    """QA82 L6: --out at a mount point (a Docker volume, say) passed the checks, and renaming
    the new directory onto it failed with EBUSY after the fit was printed; it is refused up
    front, with a directory inside it to give instead."""
    mount = tmp_path / "volume"
    mount.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == mount or real(p))
    with pytest.raises(ValueError, match=r"it is a mount point.*give a directory inside it, "
                                         r"e\.g\. .*volume/result"):
        persistence.check_writable(mount, overwrite=True)
    persistence.check_writable(mount / "result")  # inside it: fine
    with pytest.raises(ValueError, match="mount point"):
        tiny_fit.save(mount)
    assert not any(mount.iterdir())


# --------------------------------------------------------------------------------------------
# loading is total: every damaged or inconsistent file is one ValueError naming it
# --------------------------------------------------------------------------------------------
@pytest.fixture
def result_dir(tiny_fit, tmp_path):
    return tiny_fit.save(tmp_path / "result")


def _forget_checksums(path):
    """Make ``path`` look like a result saved before checksums were recorded."""
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["sha256"]
    (path / "manifest.json").write_text(json.dumps(manifest))


def _edit_json(path, name, change):
    meta = json.loads((path / name).read_text())
    change(meta)
    (path / name).write_text(json.dumps(meta))


def _truncate(path, name):
    data = (path / name).read_bytes()
    (path / name).write_bytes(data[: len(data) // 2])


def _random_bytes(path, name):
    (path / name).write_bytes(np.random.default_rng(0).bytes(2000))


def _wrong_means(path, name):
    with np.load(path / name) as npz:
        arrays = dict(npz)
    arrays["means"] = np.zeros((5, 7))
    np.savez(path / name, **arrays)


def _other_idata(path, name):
    tree = xr.load_datatree(path / name, engine="h5netcdf")
    tree["em"]["means"] = tree["em"]["means"] + 1.0
    (path / name).unlink()
    tree.to_netcdf(path / name, engine="h5netcdf")


TAMPERING = [
    ("em.npz", _truncate, "em.npz is damaged"),
    ("em.npz", _random_bytes, "em.npz is damaged: it is not a NumPy .npz archive"),
    ("label_switching.npz", _random_bytes, "label_switching.npz is damaged"),
    ("em.npz", _wrong_means, r"em.npz is damaged: 'means' has shape \(5, 7\); expected \(2, 2\)"),
    ("result.json", lambda p, n: _edit_json(p, n, lambda m: m.update(priors=None)),
     "result.json is damaged: 'priors' is not a table of numbers"),
    ("em.json", lambda p, n: _edit_json(p, n, lambda m: m.update(feature_names=5)),
     "em.json is damaged: 'feature_names' must be a non-empty list of names; got 5"),
    ("em.json", lambda p, n: _edit_json(p, n, lambda m: m.update(feature_names=["a", "b", "c"])),
     r"'means' has shape \(2, 2\); expected \(2, 3\)"),
    ("idata.nc", _other_idata, "idata.nc is damaged: its EM estimate .* different fits"),
    ("idata.nc", _truncate, "idata.nc is damaged"),
    ("result.json", lambda p, n: (p / n).write_text("{"), "result.json is damaged"),
    # fuzz (slow test): a TypeError from dict([1, 2, 3])
    ("result.json", lambda p, n: _edit_json(p, n, lambda m: m.update(sampler_settings=[1, 2])),
     "result.json: 'sampler_settings' is not a table"),
    ("idata.nc", lambda p, n: (p / n).unlink(), "idata.nc is missing"),
]


@pytest.mark.parametrize("checksums", [True, False], ids=["checksummed", "old_format"])
@pytest.mark.parametrize(("name", "tamper", "message"), TAMPERING,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(TAMPERING)])
def test_tampered_results_are_one_value_error_naming_the_file(result_dir, name, tamper,
                                                              message, checksums):
    """Before: BadZipFile, AttributeError, TypeError tracebacks, an allow_pickle hint, or a
    silent load of files from different fits."""
    if not checksums:
        _forget_checksums(result_dir)
    tamper(result_dir, name)
    with pytest.raises(ValueError) as info:
        bayesgmm.load(result_dir)
    text = str(info.value)
    assert name in text and "allow_pickle" not in text and "\n" not in text
    if checksums and "missing" not in message:
        assert "was changed after it was saved" in text
    else:
        assert re.search(message, text), text


def test_old_results_without_checksums_still_load(result_dir):
    _forget_checksums(result_dir)
    assert isinstance(bayesgmm.load(result_dir), BayesResult)


@pytest.mark.parametrize("name", ["result.json", "idata.nc"])
def test_a_file_whose_checksum_was_removed_is_not_trusted(result_dir, name):
    """Downstream QA: deleting one file's entry from the manifest's checksums, then editing
    that file (the verdict set to OK), loaded and reported without a word."""
    manifest = json.loads((result_dir / "manifest.json").read_text())
    del manifest["sha256"][name]
    (result_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=rf"has no SHA-256 for {re.escape(name)}, which it "
                                         "lists for the result's other files"):
        bayesgmm.load(result_dir)


def test_manifest_records_a_checksum_per_file(result_dir):
    manifest = json.loads((result_dir / "manifest.json").read_text())
    assert set(manifest["sha256"]) == set(manifest["files"]) - {"manifest.json"}
    assert manifest["sha256"]["em.json"] == hashlib.sha256(
        (result_dir / "em.json").read_bytes()).hexdigest()


def test_symlinked_result_files_are_refused(result_dir, tmp_path):
    outside = tmp_path / "outside.json"
    (result_dir / "em.json").rename(outside)
    (result_dir / "em.json").symlink_to(outside)
    with pytest.raises(ValueError, match="em.json is a symbolic link"):
        bayesgmm.load(result_dir)


# --------------------------------------------------------------------------------------------
# orphans of a killed write
# --------------------------------------------------------------------------------------------
def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_siblings_are_removed_by_the_next_write(tiny_fit, tmp_path):
    """Before: `kill -9` during a save left .NAME.tmp-* / .NAME.old-* folders forever."""
    tiny_fit.em.save(tmp_path / "r")
    dead = _dead_pid()
    stale = [tmp_path / f".r.tmp-{dead}-abc", tmp_path / f".r.old-{dead}-def"]
    live = tmp_path / f".r.tmp-{os.getppid()}-ghi"  # a running process: maybe writing now
    unrelated = tmp_path / ".other.tmp-1-xyz"
    for d in (*stale, live, unrelated):
        d.mkdir()
        (d / "em.json").write_text("{}")
    tiny_fit.em.save(tmp_path / "r", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["r", live.name, unrelated.name])
    # Old-style names without a PID are judged by age.
    old = tmp_path / ".r.tmp-k3j2h1"
    old.mkdir()
    os.utime(old, (0, 0))
    tiny_fit.em.save(tmp_path / "r", overwrite=True)
    assert not old.exists() and live.exists()


def test_interrupted_replacement_is_restored_not_deleted(tiny_fit, tmp_path):
    """Killed between renaming the old result away and the new one in: the old comes back."""
    path = tiny_fit.em.save(tmp_path / "r")
    backup = tmp_path / f".r.old-{_dead_pid()}-abc"
    path.rename(backup)
    # before anything writes there again, reading names where the result is (QA: "does not
    # exist", with the backup in a hidden sibling, looked like the result was lost)
    with pytest.raises(ValueError, match=f"the earlier result in {re.escape(str(backup))}"):
        bayesgmm.load(path)
    assert persistence.clean_orphans(path) == [backup]
    assert isinstance(bayesgmm.load(path), EMResult) and not backup.exists()


def test_temporary_names_carry_the_pid(tiny_fit, tmp_path, monkeypatch):
    seen = []

    def spy(result, directory):
        seen.append(directory.name)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(result_files, "_write_em", spy)
    with pytest.raises(ValueError):
        tiny_fit.em.save(tmp_path / "r")
    assert seen[0].startswith(f".r.tmp-{os.getpid()}@")


def test_another_machines_writer_is_judged_by_age_not_by_a_pid_of_ours(tiny_fit, tmp_path):
    """QA93: a writer in another PID namespace (a second container or node on a shared disk)
    found no process of the live writer's PID and deleted its temporary directory: the fit
    was lost. A temporary name says its host and namespace; another's is judged by age."""
    from bayesgmm.tempdirs import local_pid, writer_tag

    tiny_fit.em.save(tmp_path / "r")
    dead = _dead_pid()
    elsewhere = tmp_path / f".r.tmp-{dead}@00000000-abc"  # that PID runs on another machine
    here = tmp_path / f".r.tmp-{dead}@{writer_tag().split('@')[1]}-def"
    for d in (elsewhere, here):
        d.mkdir()
    tiny_fit.em.save(tmp_path / "r", overwrite=True)
    assert elsewhere.exists() and not here.exists()
    os.utime(elsewhere, (0, 0))  # hours old: a writer killed there long ago
    tiny_fit.em.save(tmp_path / "r", overwrite=True)
    assert not elsewhere.exists()
    assert local_pid(writer_tag()) == os.getpid() and local_pid("12") == 12
    assert local_pid("12@00000000") is None and local_pid("k3j2h1") is None


def test_pytensor_cache_falls_back_when_the_home_directory_is_unusable(monkeypatch, tmp_path):
    """QA (a pipeline): with HOME=/dev/null (a cron job, a service account) PyTensor could not
    create ~/.pytensor and every Bayesian command died with a traceback."""
    import subprocess
    import sys

    from bayesgmm.paths import pytensor_cache_fallback

    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # not the machine's /tmp
    monkeypatch.setenv("HOME", str(tmp_path))
    assert pytensor_cache_fallback() is None  # a usable home: nothing changes
    monkeypatch.setenv("HOME", "/dev/null")
    fallback = pytensor_cache_fallback()
    assert fallback and f"base_compiledir={fallback}" in __import__("os").environ["PYTENSOR_FLAGS"]
    assert (Path(fallback).stat().st_mode & 0o777) == 0o700  # this user's alone
    # a directory of that name that others may write to is not used (review)
    shared = Path(fallback)
    shared.chmod(0o777)
    monkeypatch.delenv("PYTENSOR_FLAGS")
    other = pytensor_cache_fallback()
    assert other and Path(other) != shared and Path(other).parent == tmp_path
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/mine")
    assert pytensor_cache_fallback() is None  # the user's choice stands
    monkeypatch.delenv("PYTENSOR_FLAGS")
    done = subprocess.run([sys.executable, "-c", "import bayesgmm.ops"], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HOME": "/dev/null"},
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_reader_during_overwrites_reads_the_old_or_the_new_result(tmp_path, old_faithful):
    """QA (a pipeline): loads while another process saved over the result failed now and then
    ("manifest.json is damaged", "is not a directory") between the two renames of a
    replacement. The swap is one step where the platform allows it, and a read that a swap
    overtook is read again."""
    import threading

    fits = [bayesgmm.fit_em(old_faithful, k, random_state=0) for k in (2, 3)]
    path = tmp_path / "shared"
    fits[0].save(path)
    stop, errors = threading.Event(), []

    def writer():  # a save every ~20 ms: several during a read on a loaded machine
        i = 0
        while not stop.wait(0.02):
            i += 1
            fits[i % 2].save(path, overwrite=True)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            try:
                assert bayesgmm.load(path).n_components in (2, 3)
            except ValueError as exc:
                errors.append(str(exc))
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert not [p for p in tmp_path.iterdir() if p.name != "shared"]  # nothing left behind


def test_a_full_disk_is_an_error_not_a_crash(tiny_fit, tmp_path, monkeypatch):
    """QA (a pipeline): saving onto a full filesystem crashed the process inside HDF5
    (segmentation fault); the space is checked first and a full disk is a ValueError."""
    import collections

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(result_files.shutil, "disk_usage", lambda _: usage(10**6, 10**6, 5000))
    with pytest.raises(ValueError, match=r"not enough free space to save the result in .*: it "
                                         r"needs about [\d.]+ MB, 0.0 MB are free"):
        tiny_fit.save(tmp_path / "full")
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_home_relative_path_is_the_homes(old_faithful, tmp_path, monkeypatch):
    """"~/fit" is written and read under the home directory, as pandas and the shell take it
    (QA: save made a literal ./~/fit, and load("~/fit") said it did not exist)."""
    from bayesgmm.report import write_em_report

    home, elsewhere = tmp_path / "home", tmp_path / "cwd"
    home.mkdir(), elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    em = bayesgmm.fit_em(old_faithful, 2, random_state=0)
    assert em.save("~/fit") == home / "fit"
    assert bayesgmm.load("~/fit").log_likelihood == em.log_likelihood
    write_em_report(em, old_faithful, "~/report")
    assert (home / "report" / "report.html").is_file()
    assert list(elsewhere.iterdir()) == []


def test_matplotlib_config_falls_back_when_the_home_directory_is_read_only(monkeypatch,
                                                                            tmp_path):
    """QA93: with a read-only home every run printed matplotlib's two-line MPLCONFIGDIR
    warning between the status lines; bayesgmm points it at a private temporary directory
    (the user's own MPLCONFIGDIR stays)."""
    import os
    import subprocess
    import sys

    from bayesgmm.tempdirs import matplotlib_config_fallback

    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert matplotlib_config_fallback() is None  # a usable home: nothing changes
    monkeypatch.setenv("HOME", "/dev/null")
    fallback = matplotlib_config_fallback()
    assert fallback and os.environ["MPLCONFIGDIR"] == fallback
    assert (Path(fallback).stat().st_mode & 0o777) == 0o700
    monkeypatch.setenv("MPLCONFIGDIR", "/mine")
    assert matplotlib_config_fallback() is None
    done = subprocess.run([sys.executable, "-c", "import bayesgmm, matplotlib.pyplot"],
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/dev/null",
                               "TMPDIR": str(tmp_path)})
    assert done.returncode == 0 and "MPLCONFIGDIR" not in done.stderr, done.stderr[-2000:]


def test_a_result_written_there_meanwhile_is_named_as_another_runs(tmp_path):
    """QA93: two batch fits racing for one --out: the loser sampled, printed its table and
    ended "already exists and is not empty", without the hint the early check gives. It
    says another run wrote there while this one ran, and nothing of either is lost."""
    from bayesgmm.result_files import write_directory

    target = tmp_path / "out"

    def meanwhile(tmp):
        (tmp / "mine.txt").write_text("this run")
        write_directory(target, lambda d: (d / "theirs.txt").write_text("the other run"),
                        kind="EMResult")

    with pytest.raises(ValueError) as info:
        write_directory(target, meanwhile, kind="EMResult")
    assert str(info.value) == (f"output directory {target} was written by another run while "
                               "this one ran; this result was not saved there: choose another "
                               "output directory")
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "theirs.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directory left


# QA125: mutants that survived the tests mirroring their module, killed here

# PE1, PE2: loading validates the values of em.npz / em.json, not only their shapes (a result
# saved before checksums, or a manifest that was rewritten, reaches these checks).
@pytest.fixture
def em_dir(tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 2))
    X[:30] += 5
    path = bayesgmm.fit_em(X, 2, random_state=0).save(tmp_path / "em")
    _forget_checksums(path)
    return path


def test_a_nan_in_em_npz_is_refused_on_load(em_dir):
    with np.load(em_dir / "em.npz") as npz:
        arrays = dict(npz)
    arrays["means"][0, 0] = np.nan
    np.savez(em_dir / "em.npz", **arrays)
    with pytest.raises(ValueError, match="'means' has NaN or infinite values"):
        bayesgmm.load(em_dir)


def test_a_noise_weight_of_one_is_refused_on_load(em_dir):
    import json
    meta = json.loads((em_dir / "em.json").read_text())
    meta["noise_weight"] = 1.0
    (em_dir / "em.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"'noise_weight' must be a number in \[0, 1\)"):
        bayesgmm.load(em_dir)


# PE4: an idata.nc whose feature names differ from em.json's is refused on load.
def test_idata_feature_names_must_match_em_json(tmp_path):
    from conftest import posterior_stand_in

    X = np.random.default_rng(1).normal(size=(40, 2))
    X[:20] += 4
    path = posterior_stand_in(X, 2, draws=15).save(tmp_path / "r")
    _forget_checksums(path)
    tree = xr.load_datatree(path / "idata.nc", engine="h5netcdf")
    obs = tree["observed_data"].to_dataset().assign_coords(feature=["p", "q"])
    tree["observed_data"] = xr.DataTree(obs)
    (path / "idata.nc").unlink()
    tree.to_netcdf(path / "idata.nc", engine="h5netcdf")
    with pytest.raises(ValueError, match="feature names"):
        bayesgmm.load(path)


def test_an_unwritable_folder_is_named_with_the_fix(tiny_fit, tmp_path, monkeypatch):
    """QA168 L4: "cannot write prev: read-only file system (.)" named no fix, and "(.)" read
    as nothing. (A read-only mount, as root ignores directory permissions.)"""
    import errno
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    with pytest.raises(ValueError, match=r"^cannot write .*result: read-only file system \(in "
                                         r"folder .*\): write the result to a folder you can "
                                         r"write to$"):
        tiny_fit.save(tmp_path / "result")
    assert not (tmp_path / "result").exists()


def test_a_killed_runs_scratch_copies_are_swept_by_the_next(tmp_path, monkeypatch):
    """QA168 L2: the copies of standard input and of re-encoded files were removed only at a
    normal exit; a killed process left them for good. The next scratch directory removes
    this user's left by a process that no longer runs, and keeps a live one's."""
    import subprocess
    import tempfile

    from bayesgmm.tempdirs import scratch_directory, writer_tag

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    dead = tmp_path / f"bayesgmm-stdin-{ended}@{writer_tag().split('@')[1]}-abc"
    dead.mkdir()
    (dead / "stdin.csv").write_text("x\n1\n")
    live = scratch_directory("stdin")
    assert live.name.startswith(f"bayesgmm-stdin-{writer_tag()}-") and live.is_dir()
    assert not dead.exists()
    again = scratch_directory("stdin")  # this process's own, alive: kept
    assert live.is_dir() and again.is_dir() and again != live
    other = tmp_path / "bayesgmm-text-abc"  # no PID, fresh: judged by age, kept
    other.mkdir()
    scratch_directory("text")
    assert other.is_dir()
