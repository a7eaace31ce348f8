"""The command line as a hostile user meets it (issue 11).

First the cases a hostile-user session found, one test each (every one failed before the fix:
data loss under ``--force``, tracebacks, checks that ran only after sampling). Then a property
tested with hypothesis over random CSV files (delimiters, encodings, missing cells, extreme
magnitudes, duplicate and collinear columns), random specifications and randomly tampered result
directories: every call ends with exit status 0 or 2, an error is exactly one line on stderr and
never a traceback, and nothing outside the output path changes (the whole sandbox is checksummed
before and after). A short run is in the default suite; ``-m slow`` runs >= 2,000 cases.

Sampling is replaced by EM plus a saved tiny posterior in the property runs (``_fake_sampling``),
and the report's figures by an empty page: both are tested elsewhere, and what is fuzzed here is
everything around them (input checks, output checks, saving, loading, writing the report).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayesgmm
from bayesgmm import cli, persistence
from bayesgmm import report as report_module


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _call(argv: list[str]) -> tuple[int, str, str]:
    """``bayesgmm ARGV`` in process: (exit status, stdout, stderr); any exception escapes."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:  # argparse (usage errors, --help)
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def _assert_clean_error(rc: int, err: str, *patterns: str) -> str:
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayesgmm: error: "), err
    assert "Traceback" not in err
    for pattern in patterns:
        assert pattern in lines[0], lines[0]
    return lines[0]


def _snapshot(root: Path) -> dict[str, str]:
    """Every file, link and directory under ``root`` (links not followed) with its content."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                state[rel] = "dir"
            else:
                state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def _outside(state: dict[str, str], out: str | None) -> dict[str, str]:
    if out is None:
        return state
    parents = {p.as_posix() for p in Path(out).parents}  # created for it when missing
    return {k: v for k, v in state.items()
            if k != out and not k.startswith(out + "/") and not (k in parents and v == "dir")}


@pytest.fixture
def no_sampling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fit_bayes was called: the input should have been refused first")

    monkeypatch.setattr(cli, "fit_bayes", refuse)


@pytest.fixture
def work(tmp_path, old_faithful, monkeypatch):
    """The working directory (``tmp_path/work``): a data file, the user's notes, a home."""
    work = tmp_path / "work"
    work.mkdir()
    old_faithful.iloc[:60].to_csv(work / "good.csv", index=False)
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    _settle_caches()
    monkeypatch.setenv("HOME", str(work / "home"))
    (work / "home").mkdir()
    (work / "home" / ".bashrc").write_text("alias x=y")
    return work


def _settle_caches() -> None:
    """Let matplotlib find its config and cache directories before HOME is redirected (it
    remembers them), so that no cache appears in a test's home directory."""
    import matplotlib

    matplotlib.get_configdir()
    matplotlib.get_cachedir()


# --------------------------------------------------------------------------------------------
# --force replaces only what bayesgmm wrote; output problems are found before any fitting
# --------------------------------------------------------------------------------------------
def test_force_does_not_delete_a_directory_of_user_files(work, no_sampling):
    victim = work / "v"
    (victim / "sub").mkdir(parents=True)
    (victim / "notes.txt").write_text("x")
    before = _snapshot(work)
    for command in (["fit", "good.csv", "-k", "2"], ["select", "good.csv", "-k", "1-2"]):
        rc, _, err = _call([*command, "--out", "v", "--force"])
        _assert_clean_error(rc, err, "refusing to replace v", "notes.txt", "sub/")
    assert _snapshot(work) == before


@pytest.mark.parametrize("out", ["$PWD", "~", "..", ".", "home/.."])
@pytest.mark.parametrize("command", ["fit", "select"])
def test_force_never_replaces_cwd_home_or_their_ancestors(work, no_sampling, out, command):
    out = str(work) if out == "$PWD" else str(Path(out).expanduser()) if out == "~" else out
    before = _snapshot(work.parent)
    argv = [command, "good.csv"] + (["-k", "2"] if command == "fit" else [])
    rc, _, err = _call([*argv, "--out", out, "--force"])
    _assert_clean_error(rc, err)
    assert _snapshot(work.parent) == before


@pytest.mark.parametrize("directory", [".", "..", "../..", "data"])
def test_a_spec_never_replaces_its_own_folder_or_data(work, no_sampling, directory):
    """A spec's `[output] directory` is relative to the spec; its folder and the data's are
    never replaced, whatever --force says."""
    project = work / "project"
    (project / "data").mkdir(parents=True)
    shutil.copy(work / "good.csv", project / "data" / "good.csv")
    spec = project / "spec.toml"
    spec.write_text('[data]\npath = "data/good.csv"\n[model]\nn_components = 2\n'
                    f'[output]\ndirectory = "{directory}"\n')
    before = _snapshot(work.parent)
    rc, _, err = _call(["run", str(spec), "--force"])
    _assert_clean_error(rc, err)
    assert _snapshot(work.parent) == before


def test_run_says_where_it_writes_relative_to_the_spec(work, monkeypatch, tiny_fit):
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    project = work / "project"
    project.mkdir()
    spec = project / "spec.toml"
    spec.write_text('[data]\npath = "bundled:old_faithful"\n[model]\nn_components = 2\n'
                    '[output]\ndirectory = "out"\nreport = false\n')
    rc, out, err = _call(["run", str(spec), "--no-progress"])
    assert rc == 0, err
    assert f"output: {project / 'out'}" in out
    assert isinstance(bayesgmm.load(project / "out"), bayesgmm.BayesResult)


@pytest.mark.parametrize("out", [".", "..", "good.csv", "good.csv/x", "notes.txt"])
def test_bad_output_paths_fail_before_reading_or_fitting(work, no_sampling, out, monkeypatch):
    """Before: `--out .` / `--out ..` failed only after sampling."""
    def no_reading(*args, **kwargs):
        raise AssertionError("the data were read before the output path was checked")

    monkeypatch.setattr(cli, "read_table", no_reading)
    monkeypatch.setattr(cli, "read_data", no_reading)
    for command in (["fit", "good.csv", "-k", "2"], ["select", "good.csv"]):
        rc, _, err = _call([*command, "--out", out])
        _assert_clean_error(rc, err)


def test_force_replaces_an_earlier_result(work, monkeypatch, tiny_fit):
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    assert _call(["fit", "good.csv", "-k", "2", "--out", "r"])[0] == 0
    rc, _, err = _call(["fit", "good.csv", "-k", "2", "--out", "r"])
    _assert_clean_error(rc, err, "already exists", "--force")
    assert _call(["fit", "good.csv", "-k", "2", "--out", "r", "--force"])[0] == 0
    assert sorted(p.name for p in work.iterdir()) == ["good.csv", "home", "notes.txt", "r"]


# --------------------------------------------------------------------------------------------
# report: regenerating replaces the old one atomically; symlinks are never followed
# --------------------------------------------------------------------------------------------
@pytest.fixture
def fast_report(monkeypatch):
    """The report's content is tested in test_report.py; here only how it is written."""
    monkeypatch.setattr(report_module, "build_report",
                        lambda result, **kw: ("<html>report</html>", [
                            report_module.Figure("overlay", "caption", b"png")]))


def test_report_regenerates_over_an_existing_report(work, tiny_fit, fast_report):
    """Before: `bayesgmm report DIR` failed once report.html existed."""
    path = tiny_fit.save(work / "r")
    for _ in range(2):
        rc, out, err = _call(["report", "r"])
        assert rc == 0, err
    assert (path / "report.html").read_text() == "<html>report</html>"
    assert sorted(p.name for p in path.parent.iterdir()) == ["good.csv", "home", "notes.txt",
                                                              "r"]
    assert isinstance(bayesgmm.load(path), bayesgmm.BayesResult)


def test_fit_with_report_and_select_build_one_temporary_directory(work, tiny_fit, fast_report,
                                                                  monkeypatch):
    """The report inside a result (and select's page) is written straight into the result's
    temporary directory: no nested temporary sibling that a kill could orphan unnoticed."""
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: tiny_fit)
    made = []
    real = tempfile.mkdtemp

    def spy(*args, **kwargs):
        made.append(kwargs.get("prefix", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    assert _call(["fit", "good.csv", "-k", "2", "--out", "r", "--report"])[0] == 0
    assert _call(["select", "good.csv", "-k", "1-2", "--out", "s", "--n-init", "1",
                  "--jobs", "1"])[0] == 0
    tag = f"{os.getpid()}@"
    # each once more, empty, by the output check's write test (check_writable: QA103)
    assert list(dict.fromkeys(p.split(tag)[0] for p in made if ".tmp-" in p)) == [
        ".r.tmp-", ".s.tmp-"]
    assert persistence.read_manifest(work / "s")["kind"] == "SelectionReport"
    assert (work / "r" / "report.html").is_file()


def test_a_report_directory_is_rewritten_with_a_fresh_manifest(tmp_path, tiny_fit,
                                                               monkeypatch):
    pages = iter(["<html>first</html>", "<html>second</html>"])
    monkeypatch.setattr(report_module, "build_report", lambda result, **kw: (next(pages), []))
    report_module.write_report(tiny_fit, tmp_path / "rep")
    first = persistence.read_manifest(tmp_path / "rep")
    assert first["kind"] == "Report" and "report.html" in first["sha256"]
    report_module.write_report(tiny_fit, tmp_path / "rep")
    assert (tmp_path / "rep" / "report.html").read_text() == "<html>second</html>"
    again = persistence.read_manifest(tmp_path / "rep")
    assert again["sha256"]["report.html"] == hashlib.sha256(
        (tmp_path / "rep" / "report.html").read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_report_does_not_follow_a_figures_symlink(work, tiny_fit, fast_report):
    """Before: a `figures` symlink gave `OSError: Cannot call rmtree on a symbolic link`."""
    path = tiny_fit.save(work / "r")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.png").write_bytes(b"keep")
    (path / "figures").symlink_to(elsewhere)
    rc, _, err = _call(["report", "r"])
    assert rc == 0, err
    assert (elsewhere / "precious.png").read_bytes() == b"keep"
    assert (path / "figures").is_dir() and not (path / "figures").is_symlink()


def test_report_of_a_tampered_result_is_one_line(work, tiny_fit, fast_report):
    path = tiny_fit.save(work / "r")
    data = (path / "em.npz").read_bytes()
    (path / "em.npz").write_bytes(data[:100])
    rc, _, err = _call(["report", "r"])
    line = _assert_clean_error(rc, err, "em.npz")
    assert "allow_pickle" not in line


# --------------------------------------------------------------------------------------------
# seeds and singular data, before anything runs
# --------------------------------------------------------------------------------------------
@pytest.fixture
def seen_seed(monkeypatch):
    seen = {}

    def fake(frame, k, **kwargs):
        seen["seed"] = kwargs["random_state"]
        raise ValueError("stop")

    monkeypatch.setattr(cli, "fit_bayes", fake)
    return seen


def test_big_seeds_are_accepted(work, seen_seed):
    """Before: --seed 18446744073709551616 ended in an OverflowError traceback after EM."""
    rc, _, err = _call(["fit", "good.csv", "-k", "2", "--seed", str(2**64)])
    assert rc == 2 and err.strip() == "bayesgmm: error: stop"
    assert seen_seed["seed"] == 2**64


@pytest.mark.parametrize("seed", ["-1", "-18446744073709551616"])
def test_negative_seeds_give_one_message_for_fit_run_select(work, no_sampling, seed):
    spec = work / "spec.toml"
    spec.write_text('[data]\npath = "good.csv"\n[model]\nn_components = 2\n'
                    f"[sampler]\nseed = {seed if abs(int(seed)) < 2**63 else -1}\n")
    messages = []
    for argv in (["fit", "good.csv", "-k", "2", "--seed", seed],
                 ["select", "good.csv", "--seed", seed], ["run", str(spec)]):
        rc, _, err = _call(argv)
        messages.append(_assert_clean_error(rc, err, "seed must be a non-negative integer"))
    assert "--seed must" in messages[0] and "--seed must" in messages[1]
    assert "[sampler] seed must" in messages[2]


def _columns_csv(work: Path, name: str, extra) -> str:
    frame = pd.read_csv(work / "good.csv")
    for column, values in extra(frame).items():
        frame[column] = values
    frame.to_csv(work / name, index=False)
    return name


@pytest.mark.parametrize(("make", "named", "advice"), [
    (lambda f: {"copy": f["waiting"]}, "'waiting' and 'copy' are identical", "--columns"),
    (lambda f: {"lin": 2 * f["eruptions"] - 1}, "'eruptions' and 'lin' are collinear",
     "--covariance diag"),
    (lambda f: {"sum": f["eruptions"] + f["waiting"]}, "'eruptions', 'waiting', 'sum' are "
                                                       "linearly dependent", "--columns"),
    (lambda f: {"tiny": f["eruptions"] * 1e-300}, "'tiny' (values of magnitude", "rescale"),
    (lambda f: {"site": 4.0}, "'site' are constant", "--columns"),
])
def test_singular_columns_are_named_before_fitting(work, no_sampling, make, named, advice):
    """Before: "scale must be a symmetric positive-definite matrix", naming no column, and
    a constant column's advice named reg_covar, which the CLI does not offer."""
    data = _columns_csv(work, "singular.csv", make)
    rc, _, err = _call(["fit", data, "-k", "2", "--no-progress"])
    line = _assert_clean_error(rc, err, named, advice)
    assert "reg_covar" not in line


def test_select_refuses_collinear_columns_only_for_full_and_tied(work, monkeypatch):
    monkeypatch.setattr(report_module, "build_selection_report",
                        lambda *a, **k: ("<html></html>", []))
    data = _columns_csv(work, "dup.csv", lambda f: {"copy": f["waiting"]})
    rc, _, err = _call(["select", data, "-k", "1-2", "--covariance", "full,diag", "--out", "s"])
    _assert_clean_error(rc, err, "identical", "--covariance diag,spherical")
    rc, out, err = _call(["select", data, "-k", "1-2", "--covariance", "diag", "--out", "s",
                          "--n-init", "1", "--jobs", "1", "--seed", "0"])
    assert rc == 0, err
    assert bayesgmm.persistence.read_manifest(work / "s")["kind"] == "SelectionReport"


# --------------------------------------------------------------------------------------------
# the property, over random inputs
# --------------------------------------------------------------------------------------------
DELIMITERS = [",", ";", "\t", "|", " "]
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "utf-16"]
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, -1.0, 1e-300, -1e-300, 1e150, 1e300, 5e-324, 1e-155]),
    st.integers(-10**20, 10**20),
    st.sampled_from(["", "NA", "nan", "abc", "1,5", "7O", "true", "é", "\"", "1e999"]),
)


@st.composite
def csv_files(draw):
    """(text, encoding, delimiter, column names) of a random, often broken, CSV file."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.integers(0, 2)) == 0:  # a good file a third of the time: let fits succeed
        n = draw(st.integers(8, 40))
        d = draw(st.integers(1, 3))
        names = [f"v{j}" for j in range(d)]
        scale = 10.0 ** draw(st.integers(-100, 100))
        frame = pd.DataFrame(rng.normal(size=(n, d)) * scale, columns=names)
        return frame.to_csv(index=False), draw(st.sampled_from(["utf-8", "utf-8-sig"])), names
    n_rows = draw(st.integers(0, 25))
    n_cols = draw(st.integers(1, 4))
    names = draw(st.lists(st.text("abcxyz_ é1", min_size=0, max_size=4), min_size=n_cols,
                          max_size=n_cols))
    columns = [list(rng.normal(size=n_rows) * 10 ** draw(st.integers(-300, 300)))
               if draw(st.booleans()) else [draw(CELLS) for _ in range(n_rows)]
               for _ in range(n_cols)]
    if n_cols >= 2 and draw(st.booleans()):  # a duplicate or collinear column
        a = columns[0]
        kind = draw(st.sampled_from(["same", "linear"]))
        columns[1] = list(a) if kind == "same" else [
            2 * v + 1 if isinstance(v, float) else v for v in a]
    delimiter = draw(st.sampled_from(DELIMITERS))
    encoding = draw(st.sampled_from(ENCODINGS))
    frame = pd.DataFrame(dict(zip(range(n_cols), columns, strict=True)))
    frame.columns = names
    text = frame.to_csv(index=False, sep=delimiter)
    return text, encoding, names


OUTPUTS = ["out", "out", "out", "out/nested", ".", "..", "data.csv", "data.csv/x", "notes",
           "prev", "prev", "prev", "home", "$SANDBOX", "", "", ""]


@st.composite
def commands(draw):
    command = draw(st.sampled_from(["fit", "select", "run", "report", "report"]))
    out = draw(st.sampled_from(OUTPUTS))
    force = draw(st.booleans())
    seed = draw(st.one_of(st.none(), st.integers(0, 9), st.integers(-2, 2**70)))
    k = draw(st.one_of(st.integers(1, 3), st.integers(-1, 4)))
    cov = draw(st.sampled_from(["full", "tied", "diag", "spherical"]))
    columns = draw(st.one_of(st.none(), st.none(), st.sampled_from(["v0", "v1,v0", "v2"]),
                             st.text("abcxyz_ é1,", max_size=6)))
    return dict(command=command, out=out, force=force, seed=seed, k=k, cov=cov,
                columns=columns, dropna=draw(st.booleans()),
                tamper=draw(st.lists(st.sampled_from(TAMPERS), max_size=3)),
                tamper_file=draw(st.sampled_from(
                    ["em.json", "em.npz", "idata.nc", "result.json", "label_switching.npz",
                     "manifest.json"])),
                tamper_seed=draw(st.integers(0, 2**32 - 1)),
                spec_directory=draw(st.sampled_from(["out", ".", "..", "../..", "/",
                                                     "prev", "data.csv", ""])))


def _flip_bytes(path: Path, rng) -> None:
    data = bytearray(path.read_bytes())
    if not data:
        return
    for i in rng.integers(0, len(data), size=3):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _json_value(path: Path, rng) -> None:
    meta = json.loads(path.read_text())
    if isinstance(meta, dict) and meta:
        key = list(meta)[int(rng.integers(len(meta)))]
        meta[key] = [None, 5, "x", [], {}, -1.5, True, [1, 2, 3]][int(rng.integers(8))]
    path.write_text(json.dumps(meta))


TAMPERS = ["truncate", "flip", "delete", "json", "forget_checksums", "symlink_file",
           "figures_symlink", "foreign_file", "empty"]


def _tamper(directory: Path, how: str, name: str, rng, sandbox: Path) -> None:
    path = directory / name
    if not path.exists() and how not in ("figures_symlink", "foreign_file", "forget_checksums"):
        return
    if how == "truncate":
        path.write_bytes(path.read_bytes()[: int(rng.integers(0, max(1, path.stat().st_size)))])
    elif how == "flip":
        _flip_bytes(path, rng)
    elif how == "delete":
        path.unlink()
    elif how == "json" and name.endswith(".json"):
        try:
            _json_value(path, rng)
        except ValueError:
            pass
    elif how == "forget_checksums" and (directory / "manifest.json").is_file():
        try:
            meta = json.loads((directory / "manifest.json").read_text())
            meta.pop("sha256", None)
            (directory / "manifest.json").write_text(json.dumps(meta))
        except (ValueError, AttributeError):
            pass
    elif how == "symlink_file":
        target = sandbox / "elsewhere" / name
        shutil.move(path, target)
        path.symlink_to(target)
    elif how == "figures_symlink" and not (directory / "figures").exists():
        (directory / "figures").symlink_to(sandbox / "elsewhere")
    elif how == "foreign_file":
        (directory / "notes.txt").write_text("the user's")
    elif how == "empty":
        path.write_bytes(b"")


def _fake_sampling(saved_fit):
    """fit_bayes without sampling: its real input checks and EM (one start), then a saved tiny
    posterior instead of NUTS."""
    from bayesgmm import sampling

    real_fit_em = sampling.fit_em

    def em_then_stop(*args, **kwargs):
        real_fit_em(*args, **{**kwargs, "n_init": 1})
        raise _Stop

    def fake(frame, n_components, **kwargs):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sampling, "fit_em", em_then_stop)
            try:
                sampling.fit_bayes(frame, n_components, **kwargs)
            except _Stop:
                pass
        return saved_fit

    return fake


class _Stop(Exception):
    pass


def _run_case(case, csv, sandbox: Path, saved: Path) -> None:
    text, encoding, _ = csv
    data = sandbox / "data.csv"
    try:
        data.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        data.write_bytes(text.encode("utf-8"))
    (sandbox / "notes").mkdir()
    (sandbox / "notes" / "todo.txt").write_text("keep me")
    (sandbox / "elsewhere").mkdir()
    (sandbox / "elsewhere" / "precious.png").write_bytes(b"keep")
    (sandbox / "home").mkdir()
    (sandbox / "home" / ".bashrc").write_text("alias x=y")
    shutil.copytree(saved, sandbox / "prev", symlinks=True)
    rng = np.random.default_rng(case["tamper_seed"])
    for how in case["tamper"]:
        _tamper(sandbox / "prev", how, case["tamper_file"], rng, sandbox)

    out = case["out"].replace("$SANDBOX", str(sandbox))
    argv: list[str] = [case["command"]]
    if case["command"] == "fit":
        argv += ["data.csv", "-k", str(case["k"]), "--covariance", case["cov"], "--no-progress",
                 "--draws", "10", "--tune", "10", "--chains", "1"]
    elif case["command"] == "select":
        argv += ["data.csv", "-k", f"1-{max(case['k'], 1)}", "--covariance", case["cov"],
                 "--n-init", "1", "--jobs", "1", "--no-progress"]
    elif case["command"] == "run":
        seed = f"seed = {case['seed']}\n" if case["seed"] is not None and \
            -2**63 <= case["seed"] < 2**63 else ""
        (sandbox / "spec.toml").write_text(
            f'[data]\npath = "data.csv"\ndropna = {str(case["dropna"]).lower()}\n'
            f'[model]\nn_components = {case["k"]}\ncovariance_type = "{case["cov"]}"\n'
            f"[sampler]\ndraws = 10\ntune = 10\nchains = 1\n{seed}"
            f'[output]\ndirectory = "{case["spec_directory"]}"\nreport = true\n')
        argv += ["spec.toml", "--no-progress"]
        out = case["spec_directory"] if case["spec_directory"] else None
    else:
        argv += [out if out else "prev"]
        out = argv[1]
    if case["command"] in ("fit", "select"):
        if case["columns"] is not None:
            argv += ["--columns", case["columns"]]
        if case["dropna"]:
            argv.append("--dropna")
        if case["seed"] is not None:
            argv += ["--seed", str(case["seed"])]
        if out:
            argv += ["--out", out]
        else:
            out = "results"  # the default output lives under results/
    if case["force"] and case["command"] != "report":
        argv.append("--force")

    out_rel = None
    if out:
        resolved = (sandbox / out).resolve() if not Path(out).is_absolute() else Path(out)
        try:
            out_rel = resolved.relative_to(sandbox.resolve()).as_posix()
        except ValueError:
            out_rel = "<outside>"
        if out_rel == ".":
            out_rel = "<sandbox>"
    before = _snapshot(sandbox)
    rc, _, err = _call(argv)
    after = _snapshot(sandbox)
    assert rc in (0, 2), (argv, rc, err)
    assert "Traceback" not in err, (argv, err)
    if rc == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("bayesgmm: error: "), (argv, err)
        assert "allow_pickle" not in err
    if rc == 0:
        assert out_rel not in ("<outside>", "<sandbox>"), (argv, "wrote outside the sandbox")
    if rc == 2 or out_rel is None:
        assert after == before, (argv, err, _diff(before, after))
    else:
        assert _outside(after, out_rel) == _outside(before, out_rel), (
            argv, _diff(_outside(before, out_rel), _outside(after, out_rel)))


def _diff(a: dict, b: dict) -> dict:
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}


@pytest.fixture(scope="module")
def saved_result(tiny_fit, tmp_path_factory):
    return tiny_fit.save(tmp_path_factory.mktemp("fuzz") / "result")


def _property(saved_result, tiny_fit, case, csv):
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), \
            pytest.MonkeyPatch.context() as mp:
        sandbox = Path(tmp).resolve()
        _settle_caches()
        mp.setenv("HOME", str(sandbox / "home"))
        mp.setattr(cli, "fit_bayes", _fake_sampling(tiny_fit))
        mp.setattr(report_module, "build_report",
                   lambda result, **kw: ("<html></html>", [
                       report_module.Figure("overlay", "caption", b"png")]))
        _run_case(case, csv, sandbox, saved_result)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=commands(), csv=csv_files())
def test_every_call_ends_in_0_or_2_and_touches_only_its_output(saved_result, tiny_fit, case,
                                                               csv):
    _property(saved_result, tiny_fit, case, csv)


@pytest.mark.slow
@settings(max_examples=2100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=commands(), csv=csv_files())
def test_every_call_ends_in_0_or_2_and_touches_only_its_output_long(saved_result, tiny_fit,
                                                                    case, csv):
    _property(saved_result, tiny_fit, case, csv)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.lists(st.sampled_from(TAMPERS), min_size=1, max_size=3),
       name=st.sampled_from(["em.json", "em.npz", "idata.nc", "result.json",
                             "label_switching.npz", "manifest.json"]),
       seed=st.integers(0, 2**32 - 1))
def test_load_of_a_tampered_result_returns_or_raises_one_value_error(saved_result, how, name,
                                                                     seed):
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        (sandbox / "elsewhere").mkdir()
        directory = shutil.copytree(saved_result, sandbox / "r", symlinks=True)
        rng = np.random.default_rng(seed)
        for h in how:
            _tamper(directory, h, name, rng, sandbox)
        try:
            loaded = bayesgmm.load(directory)
        except ValueError as exc:
            text = str(exc)
            assert "\n" not in text and "allow_pickle" not in text
            assert str(directory) in text
        else:
            assert isinstance(loaded, bayesgmm.BayesResult)


def test_the_installed_command_prints_no_traceback(tmp_path):
    """The same through the real entry point: a usage error (argparse's, one line too) and a
    damaged result."""
    script = Path(sys.executable).with_name("bayesgmm")
    cmd = [str(script)] if script.exists() else \
        [sys.executable, "-c", "import sys; from bayesgmm.cli import main; sys.exit(main())"]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "manifest.json").write_text('{"kind": "BayesResult", "format_version": 1}')
    (tmp_path / "r" / "em.npz").write_bytes(os.urandom(100))
    for args in (["fit", "x.csv", "-k", "two"], ["report", "r"]):
        done = subprocess.run([*cmd, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
