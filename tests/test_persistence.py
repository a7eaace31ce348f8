"""Saving and loading results: bit-identical round trips, atomic writes, no silent overwrite."""

import json
import os
import warnings

import numpy as np
import pytest
import xarray as xr

import bayesgmm
from bayesgmm import persistence
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
    for package in ("bayesgmm", "pymc", "arviz", "numpy"):
        assert manifest["versions"][package]
    # The posterior is plain NetCDF: readable without bayesgmm.
    tree = xr.open_datatree(path / "idata.nc", engine="h5netcdf")
    assert "posterior" in tree.children
    tree.close()
    # No temporary siblings are left next to the result.
    assert [p.name for p in path.parent.iterdir()] == ["result"]


def test_refuses_to_overwrite(tiny_fit, tmp_path):
    path = tmp_path / "out"
    tiny_fit.save(path)
    before = (path / "manifest.json").read_text()
    with pytest.raises(ValueError, match=str(path)):
        tiny_fit.save(path)
    assert (path / "manifest.json").read_text() == before
    with pytest.raises(ValueError, match="already exists"):
        tiny_fit.em.save(path)
    # overwrite=True replaces the result (here by an EM result) and leaves nothing else.
    tiny_fit.em.save(path, overwrite=True)
    assert isinstance(bayesgmm.load(path), EMResult)
    assert not (path / "idata.nc").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


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

    monkeypatch.setattr(persistence, "_write_bayes", broken)
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
        assert _same_bits(loaded.score_samples(old_faithful), em.score_samples(old_faithful))


def test_load_rejects_other_directories(tmp_path):
    with pytest.raises(ValueError, match="not a saved bayesgmm result"):
        bayesgmm.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"kind": "BayesResult", "format_version": 99}')
    with pytest.raises(ValueError, match="format version 99"):
        bayesgmm.load(tmp_path)
    with pytest.raises(ValueError, match="BayesResult or EMResult"):
        persistence.save("not a result", tmp_path / "x")
