"""Typed sampler settings and diagnostic thresholds: validation, routes that take them, storage."""

import hashlib
import inspect
import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayesgmm
from bayesgmm import BayesianGMM
from bayesgmm.diagnostics import diagnose
from bayesgmm.posterior import BayesResult
from bayesgmm.sampling import fit_bayes
from bayesgmm.settings import (
    Default,
    DiagnosticThresholds,
    FigureFiles,
    SamplerSettings,
    default,
)

# Saved by bayesgmm before settings were typed (commit ceb1016): Old Faithful's first 60 rows,
# K=2 diag, 2 chains x 10 draws (20 tuning steps), seed 0, without the log-likelihood group.
FORMAT_1 = Path(__file__).parent / "data" / "result_format1"


# --------------------------------------------------------------------------------------------
# SamplerSettings
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, match", [
    (dict(sampler="stan"), "sampler must be one of"),
    (dict(draws=0), "draws must be an integer >= 1"),
    (dict(draws=10.0), "draws must be an integer"),
    (dict(draws=True), "draws must be an integer"),
    (dict(tune=-1), "tune must be an integer >= 0"),
    (dict(chains=0), "chains must be an integer >= 1"),
    (dict(cores=0), "cores must be an integer >= 1"),
    (dict(target_accept=1.0), "target_accept must be a number in"),
    (dict(target_accept="0.9"), "target_accept must be a number in"),
    (dict(nutpie_backend="cuda"), "nutpie_backend must be one of"),
    (dict(progressbar="yes"), "progressbar must be True or False"),
    (dict(metric="dense"), "metric must be one of"),
])
def test_sampler_settings_refuse_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        SamplerSettings(**changes)


def test_sampler_settings_are_frozen_plain_values_and_round_trip():
    s = SamplerSettings(draws=np.int64(200), tune=1, chains=2, target_accept=np.float32(0.9),
                        cores=1, nutpie_backend="pyfunc", progressbar=False)
    assert type(s.draws) is int and type(s.target_accept) is float
    with pytest.raises(AttributeError):
        s.draws = 5
    assert json.loads(json.dumps(s.to_dict())) == s.to_dict()
    assert SamplerSettings.from_dict(s.to_dict()) == s
    assert s.replace(chains=3) == SamplerSettings.from_dict({**s.to_dict(), "chains": 3})
    with pytest.raises(ValueError, match="unknown sampler setting"):
        s.replace(n_draws=3)
    with pytest.raises(ValueError, match="unknown sampler setting"):
        SamplerSettings.from_dict({"draws": 3, "seed": 1})
    # The untyped record of a result: other entries and None values are skipped.
    record = {"draws": 3, "seed": 1, "nutpie_backend": None, "timing": {}}
    assert SamplerSettings.from_dict(record, strict=False) == SamplerSettings(draws=3)


def test_resolve_takes_keywords_or_settings_but_not_both():
    s = SamplerSettings(draws=50)
    assert SamplerSettings.resolve(None, draws=50) == s
    assert SamplerSettings.resolve(None, draws=Default(50), chains=default("chains")) == s
    # a signature's defaults are not "given"; a value the caller gave is, even the default's
    assert SamplerSettings.resolve(s, draws=default("draws"), chains=Default(4)) is s
    with pytest.raises(ValueError, match="not both: chains, draws given next to settings"):
        SamplerSettings.resolve(s, draws=10, chains=2)
    with pytest.raises(ValueError, match="not both: chains given next to settings"):
        SamplerSettings.resolve(s, draws=default("draws"), chains=4)
    with pytest.raises(ValueError, match="must be a bayesgmm.SamplerSettings"):
        SamplerSettings.resolve({"draws": 10})
    assert repr(default("tune")) == "1000" and default("draws") == "auto"


def test_fit_bayes_refuses_settings_next_to_keywords(old_faithful):
    with pytest.raises(ValueError, match="not both: draws"):
        fit_bayes(old_faithful, 2, draws=10, settings=SamplerSettings(draws=20))
    # equal to the keyword's default: given all the same (QA: silently dropped for settings'
    # tune=100)
    with pytest.raises(ValueError, match="not both: tune"):
        fit_bayes(old_faithful, 2, tune=1000, settings=SamplerSettings(tune=100))
    with pytest.raises(ValueError, match="must be a bayesgmm.SamplerSettings"):
        fit_bayes(old_faithful, 2, settings={"draws": 20})


def test_result_records_typed_settings(tiny_fit):
    """conftest fits with keyword arguments: they come back as SamplerSettings."""
    assert tiny_fit.sampler_settings == SamplerSettings(draws=100, tune=100, chains=2,
                                                        progressbar=False)
    # The record of what ran names the back end that ran, not "auto".
    assert tiny_fit.settings["nutpie_backend"] in ("native", "numba", "pyfunc")


def test_estimator_builds_settings_and_reads_them_back(tiny_fit):
    est = BayesianGMM(2, draws=7, chains=3, sampler="pymc", progressbar=False)
    assert est.sampler_settings() == SamplerSettings(draws=7, chains=3, sampler="pymc",
                                                     progressbar=False)
    with pytest.raises(ValueError, match="chains must be an integer >= 1"):
        BayesianGMM(2, chains=0).sampler_settings()
    again = BayesianGMM.from_result(tiny_fit)
    assert again.sampler_settings() == tiny_fit.sampler_settings
    assert again.get_params()["progressbar"] is False


# --------------------------------------------------------------------------------------------
# storage: typed in the saved form; results saved before typing still load
# --------------------------------------------------------------------------------------------
def test_saved_result_keeps_typed_settings(tiny_fit, tmp_path):
    path = tiny_fit.save(tmp_path / "r")
    stored = json.loads((path / "result.json").read_text())["sampler_settings"]
    assert stored == tiny_fit.sampler_settings.to_dict()
    assert bayesgmm.load(path).sampler_settings == tiny_fit.sampler_settings


def test_result_saved_by_format_1_still_loads(tmp_path, old_faithful):
    assert "sampler_settings" not in json.loads((FORMAT_1 / "result.json").read_text())
    directory = shutil.copytree(FORMAT_1, tmp_path / "old")
    result = bayesgmm.load(directory)
    assert isinstance(result, BayesResult)
    # saved before the metric was a setting: sampled with the diagonal metric, and read so
    # (metric="auto" might whiten a refit: not the fit that was saved)
    assert result.sampler_settings == SamplerSettings(draws=10, tune=20, chains=2, cores=2,
                                                      nutpie_backend="native", metric="diag")
    assert result.settings["random_state"] == 0 and result.covariance_type == "diag"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = result.predict_proba(old_faithful.iloc[:5])
        result.diagnostics()
    assert proba.mean.shape == (5, 2)
    np.testing.assert_allclose(proba.mean.sum(axis=1), 1.0)
    est = BayesianGMM.from_result(result)
    assert (est.draws, est.tune, est.chains) == (10, 20, 2)
    # Saved again, it is written in today's layout and reads back the same.
    again = bayesgmm.load(result.save(tmp_path / "new"))
    assert again.sampler_settings == result.sampler_settings


# --------------------------------------------------------------------------------------------
# DiagnosticThresholds
# --------------------------------------------------------------------------------------------
def test_threshold_defaults_are_diagnose_defaults():
    params = inspect.signature(diagnose).parameters
    for name, value in DiagnosticThresholds().to_dict().items():
        assert params[name].default == value, name


@pytest.mark.parametrize("changes, match", [
    (dict(rhat_max=1.0), "rhat_max must be a number > 1"),
    (dict(ess_min=0), "ess_min must be a number > 0"),
    (dict(ebfmi_min=-0.1), "ebfmi_min must be a number >= 0"),
    (dict(max_divergences=-1), "max_divergences must be an integer >= 0"),
    (dict(max_treedepth_fraction=2), r"max_treedepth_fraction must be a number in \[0, 1\]"),
    (dict(mode_shift_max=float("nan")), "mode_shift_max must be a number > 0"),
])
def test_thresholds_refuse_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        DiagnosticThresholds(**changes)
    with pytest.raises(ValueError, match="unknown diagnostic threshold"):
        DiagnosticThresholds.from_dict({"rhat": 1.1})


def test_thresholds_change_the_verdict(tiny_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strict = tiny_fit.diagnostics(**DiagnosticThresholds(ess_min=1e6).to_dict())
        loose = tiny_fit.diagnostics(**DiagnosticThresholds(
            rhat_max=10, ess_min=1, ebfmi_min=0, max_divergences=10**6,
            max_treedepth_fraction=1, mode_shift_max=1e6).to_dict())
    assert strict.problems and not loose.problems


class _Sampled(Exception):
    """Raised by a stand-in for the sampler: the call got past its checks."""


def _no_sampling(*args, **kwargs):
    raise _Sampled


@pytest.mark.parametrize("route", ["fit_bayes", "fit_sparse", "select_bayes", "compare",
                                   "write_report"])
def test_every_route_checks_its_thresholds_before_any_work(route, tiny_fit, monkeypatch,
                                                           old_faithful, tmp_path):
    """QA119 H1: ``fit_sparse(..., thresholds={...})`` sampled for four minutes, then failed
    on the dict (``compare`` and ``write_report`` likewise after their work): every route
    now takes a DiagnosticThresholds or a dict of its fields, checked before it samples."""
    import bayesgmm.sampling
    import bayesgmm.selection.loo
    from bayesgmm.report import write_report

    monkeypatch.setattr(bayesgmm.selection.loo, "fit_loo", _no_sampling)

    def call(thresholds):
        if route == "fit_bayes":  # the first step after the checks of its arguments
            monkeypatch.setattr(bayesgmm.sampling, "prepare_observations", _no_sampling)
            return bayesgmm.fit_bayes(old_faithful, 2, thresholds=thresholds)
        if route == "fit_sparse":
            monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", _no_sampling)
            return bayesgmm.fit_sparse(old_faithful, 3, thresholds=thresholds)
        if route == "select_bayes":
            monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", _no_sampling)
            return bayesgmm.select_bayes(old_faithful, [1, 2], n_jobs=1,
                                         thresholds=thresholds)
        if route == "compare":
            return bayesgmm.compare({"a": tiny_fit, "b": tiny_fit}, thresholds=thresholds)
        monkeypatch.setattr("bayesgmm.report.build_report", _no_sampling)
        return write_report(tiny_fit, tmp_path / "report", thresholds=thresholds)

    with pytest.raises(ValueError, match=r"thresholds must be a bayesgmm\.DiagnosticThresholds "
                                         r"\(or a dict of its fields"):
        call("strict")
    with pytest.raises(ValueError, match="unknown diagnostic threshold"):
        call({"rhat": 1.05})
    with pytest.raises(ValueError, match=r"the class DiagnosticThresholds: give an instance"):
        call(bayesgmm.DiagnosticThresholds)
    with pytest.raises(ValueError, match="rhat_max must be a number > 1"):
        call({"rhat_max": 0.5})
    with pytest.raises(_Sampled):  # a dict of its fields is taken
        call({"rhat_max": 1.05})


# --------------------------------------------------------------------------------------------
# specifications and the command line
# --------------------------------------------------------------------------------------------
SPEC = '[data]\npath = "bundled:old_faithful"\n[model]\nn_components = 2\n'


def test_spec_sampler_and_diagnostics_tables(tmp_path):
    from bayesgmm.io import ModelSpec, RunSpec, load_spec

    path = tmp_path / "spec.toml"
    path.write_text(SPEC + '[sampler]\ndraws = 50\ncores = 1\nnutpie_backend = "pyfunc"\n'
                    "target_accept = 0.9\n[diagnostics]\nrhat_max = 1.05\ness_min = 100\n")
    spec = load_spec(path)
    assert ModelSpec is RunSpec and isinstance(spec, RunSpec)
    assert spec.sampler_settings == SamplerSettings(draws=50, cores=1, nutpie_backend="pyfunc",
                                                    target_accept=0.9)
    assert (spec.draws, spec.tune, spec.sampler, spec.target_accept) == (50, 1000, "nutpie", 0.9)
    assert spec.thresholds == DiagnosticThresholds(rhat_max=1.05, ess_min=100)
    assert spec.sampler_settings.retry_target_accept == 0.95
    for value, expected in (("false", None), ("0.9", 0.9)):
        path.write_text(SPEC + f"[sampler]\nretry_target_accept = {value}\n")
        assert load_spec(path).sampler_settings.retry_target_accept == expected
    path.write_text(SPEC + '[sampler]\nmetric = "laplace"\n')
    assert load_spec(path).sampler_settings.metric == "laplace"
    for table, match in (
        ('[sampler]\nmetric = "dense"\n', r"\[sampler\] metric must be one of"),
        ('[sampler]\nmetric = "laplace"\nnutpie_backend = "pyfunc"\n',
         r'\[sampler\] metric = "laplace" needs nutpie_backend'),
        ("[diagnostics]\nrhat_max = 0.9\n", r"\[diagnostics\] rhat_max must be a number > 1"),
        ("[diagnostics]\nrhat = 1.1\n", r"unknown key\(s\) \['rhat'\] in \[diagnostics\]"),
        ('[sampler]\nnutpie_backend = "cuda"\n', r"\[sampler\] nutpie_backend must be one of"),
        ("[sampler]\ncores = 0\n", r"\[sampler\] cores must be an integer >= 1"),
        ("[sampler]\nretry_target_accept = true\n",
         r"\[sampler\] retry_target_accept must be a number in \(0, 1\) or false"),
        ("[sampler]\nretry_target_accept = 1.5\n",
         r"\[sampler\] retry_target_accept must be a number in \(0, 1\)"),
    ):
        path.write_text(SPEC + table)
        with pytest.raises(ValueError, match=match):
            load_spec(path)


def test_run_passes_the_spec_settings_to_fit_bayes(tmp_path, monkeypatch, capsys):
    from bayesgmm import cli

    seen = {}

    def fake_fit(frame, n_components, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "fit_bayes", fake_fit)
    path = tmp_path / "spec.toml"
    path.write_text(SPEC + "[sampler]\ndraws = 50\nchains = 2\n[output]\ndirectory = \"out\"\n")
    assert cli.main(["run", str(path), "--no-progress"]) == 2
    assert seen["settings"] == SamplerSettings(draws=50, chains=2, progressbar=False)


def test_threshold_flags_are_checked_before_sampling(tmp_path, monkeypatch, capsys):
    from bayesgmm import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "fit_bayes", lambda *a, **k: pytest.fail("sampling started"))
    bayesgmm.load_old_faithful().to_csv("good.csv", index=False)
    assert cli.main(["fit", "good.csv", "-k", "2", "--rhat-max", "1"]) == 2
    assert "--rhat-max must be a number > 1; got 1.0" in capsys.readouterr().err
    assert cli.main(["fit", "good.csv", "-k", "2", "--max-divergences", "-1"]) == 2
    assert "--max-divergences must be an integer >= 0" in capsys.readouterr().err


def test_report_command_uses_the_threshold_flags(tiny_fit, tmp_path, capsys):
    import html

    import matplotlib

    from bayesgmm import cli

    matplotlib.use("Agg")
    loose = dict(rhat_max=10, ess_min=1, ebfmi_min=0, max_divergences=10**6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verdict = tiny_fit.diagnostics(**loose).verdict
        default = tiny_fit.diagnostics().verdict
    assert verdict != default
    path = tiny_fit.save(tmp_path / "r")
    assert cli.main(["report", str(path), "--rhat-max", "10", "--ess-min", "1", "--ebfmi-min",
                     "0", "--max-divergences", str(10**6)]) == 0
    page = (path / "report.html").read_text()
    assert html.escape(verdict) in page and html.escape(default) not in page


@pytest.mark.parametrize("changes, match", [
    # nuts-rs panics (an uncatchable PanicException) on a run without warm-up
    (dict(tune=0), "tune must be >= 1 with nutpie"),
    (dict(chains=1), "draws='auto' samples until R-hat"),
    (dict(metric="laplace", nutpie_backend="numba"), "metric='laplace' needs nutpie_backend"),
])
def test_settings_a_fit_cannot_run_are_refused_by_the_fit_not_by_loading(changes, match,
                                                                          old_faithful):
    """Built (and so loadable from a saved result), but refused before a fit samples."""
    settings = SamplerSettings(**changes)
    assert SamplerSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match=match):
        settings.check_runnable()
    with pytest.raises(ValueError, match=match):
        bayesgmm.fit_bayes(old_faithful, 2, settings=settings)
    if "metric" not in changes:  # PyMC's sampler runs these (nutpie's settings: below)
        assert SamplerSettings(sampler="pymc", **changes).check_runnable() is None


@pytest.mark.parametrize("changes, named", [
    (dict(metric="laplace"), "metric='laplace' is nutpie's"),
    (dict(nutpie_backend="numba"), "nutpie_backend='numba' is nutpie's"),
    (dict(metric="laplace", nutpie_backend="jax"),
     "metric='laplace' and nutpie_backend='jax' are nutpie's"),
])
def test_nutpies_settings_with_pymcs_sampler_are_refused_not_recorded(changes, named, tmp_path):
    """Specs QA: sampler='pymc' with metric='laplace' ran PyMC's NUTS, and the result said
    the Laplace metric had been used. Refused before a fit (loading such a record works)."""
    settings = SamplerSettings(sampler="pymc", **changes)
    assert SamplerSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match=re.escape(named) + ".*use sampler='nutpie'"):
        settings.check_runnable()
    for fine in (dict(metric="diag"), dict(metric="auto", nutpie_backend="auto")):
        assert SamplerSettings(sampler="pymc", **fine).check_runnable() is None
    spec = tmp_path / "m.toml"
    spec.write_text('[data]\npath = "bundled:old_faithful"\n[model]\nn_components = 2\n'
                    '[sampler]\nname = "pymc"\nmetric = "laplace"\n')
    with pytest.raises(ValueError, match='metric = "laplace" is nutpie\'s; name = "pymc"'):
        bayesgmm.io.load_spec(spec)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("draws", 10**23, "draws must be at most 10,000,000"),
    ("max_draws", 10**8, "max_draws must be at most 10,000,000"),
    ("tune", 10**8, "tune must be at most 10,000,000"),
    ("chains", 10**11, "chains must be at most 1,024")])
def test_absurd_sizes_are_refused_before_any_memory_is_asked_for(field, value, message):
    """QA: --draws 1e23 reached nutpie (OverflowError) and --chains 1e11 NumPy (a 745 GiB
    array), each as a traceback after the fit had started."""
    settings = SamplerSettings(**{field: value})  # a saved result with them still loads
    with pytest.raises(ValueError, match=message):
        settings.check_runnable()


def test_metric_auto_whitens_where_the_map_is_cheap_beside_the_density():
    """metric="auto" is Laplace where the whitening's n x n map costs little beside the
    density (n^2 <= LAPLACE_COST_RATIO x rows x K x D, n <= LAPLACE_MAX_PARAMETERS), on the
    backends that can whiten; "diag" and "laplace" say what they mean; PyMC's sampler never
    whitens."""
    from bayesgmm.settings import LAPLACE_COST_RATIO, LAPLACE_MAX_PARAMETERS

    auto = SamplerSettings()
    assert auto.laplace(17, 272, 3, 2)  # Old Faithful, K=3 full: 17 parameters
    # D=10, K=5 full (329 parameters): whitened on 2,000 rows (measured: +4% time per
    # gradient, +40% ESS), not on 500 (the map a third of a gradient)
    assert auto.laplace(329, 2000, 5, 10) and not auto.laplace(329, 500, 5, 10)
    rows = int(40 ** 2 / (LAPLACE_COST_RATIO * 2 * 2))  # the boundary, n = 40, K = D = 2
    assert auto.laplace(40, rows, 2, 2) and not auto.laplace(40, rows - 1, 2, 2)
    top = LAPLACE_MAX_PARAMETERS
    assert auto.laplace(top, 10 ** 9, 5, 10) and not auto.laplace(top + 1, 10 ** 9, 5, 10)
    assert SamplerSettings(metric="laplace").laplace(329, 10, 5, 10)
    assert not SamplerSettings(metric="diag").laplace(17, 10 ** 6, 3, 2)
    assert not SamplerSettings(nutpie_backend="numba").laplace(17, 10 ** 6, 3, 2)
    assert SamplerSettings(nutpie_backend="jax").laplace(17, 272, 3, 2)
    assert not SamplerSettings(sampler="pymc", metric="laplace").laplace(17, 10 ** 6, 3, 2)


def test_typed_settings_saved_before_the_metric_read_back_as_diag(tiny_fit, tmp_path):
    """A result.json whose sampler_settings has no metric (saved before it was a setting)."""
    path = tiny_fit.save(tmp_path / "fit")
    meta = json.loads((path / "result.json").read_text())
    assert meta["sampler_settings"].pop("metric") == "auto"
    (path / "result.json").write_text(json.dumps(meta))
    manifest = json.loads((path / "manifest.json").read_text())  # as if saved so
    manifest["sha256"]["result.json"] = hashlib.sha256(
        (path / "result.json").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert bayesgmm.load(path).sampler_settings.metric == "diag"
    assert bayesgmm.load(tiny_fit.save(tmp_path / "again")).sampler_settings.metric == "auto"


def test_sparse_fits_keep_the_diagonal_metric_unless_asked(monkeypatch, old_faithful):
    """An overfitted mixture's empty components have skewed posteriors at any N: fit_sparse
    turns metric="auto" into "diag"; an explicit "laplace" is honoured."""
    import bayesgmm.sampling

    seen = []

    def fake(*args, settings=None, **kwargs):
        seen.append(settings.metric)
        raise RuntimeError("stop here")

    monkeypatch.setattr(bayesgmm.sampling, "fit_bayes", fake)
    for metric in ("auto", "laplace"):
        with pytest.raises(RuntimeError, match="stop here"):
            bayesgmm.fit_sparse(old_faithful, 3, random_state=0,
                                settings=SamplerSettings(metric=metric, draws=10))
    assert seen == ["diag", "laplace"]


def test_absurd_restarts_are_refused():
    from bayesgmm import fit_em

    with pytest.raises(ValueError, match="n_init must be at most 1,000,000 restarts"):
        fit_em(np.random.default_rng(0).normal(size=(20, 2)), 2, n_init=10**23)


# --------------------------------------------------------------------------------------------
# FigureFiles
# --------------------------------------------------------------------------------------------
def test_figure_files_take_a_list_or_a_comma_separated_string():
    assert FigureFiles() == FigureFiles(100, ())
    assert FigureFiles(300, "PDF, svg,pdf").vector_formats == ("pdf", "svg")
    assert FigureFiles(vector_formats=[".svg"]).vector_formats == ("svg",)


@pytest.mark.parametrize("changes, match", [
    (dict(dpi=20), "dpi must be between 50 and 1200; got 20"),
    (dict(dpi=150.5), "dpi must be an integer"),
    (dict(vector_formats="eps"), r"unknown vector format\(s\) \['eps'\]; choose from"),
    (dict(vector_formats=3), "vector_formats must be a list of"),
])
def test_figure_files_refuse_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        FigureFiles(**changes)


@pytest.mark.parametrize("sweep", ["select_bayes", "fit_sparse"])
def test_the_sweeps_refuse_a_default_valued_keyword_next_to_settings(sweep, old_faithful):
    """Before any fit: draws=1000 is the sweeps' default, and given next to settings it is
    refused all the same; left out, settings decide."""
    with pytest.raises(ValueError, match="not both: draws"):
        getattr(bayesgmm, sweep)(old_faithful, [1, 2] if sweep == "select_bayes" else 2,
                                 draws=1000, settings=SamplerSettings(draws=5))
    with pytest.raises(ValueError, match="not both: target_accept"):  # through **fit_kwargs
        getattr(bayesgmm, sweep)(old_faithful, [1, 2] if sweep == "select_bayes" else 2,
                                 target_accept=0.8, settings=SamplerSettings(draws=5))
