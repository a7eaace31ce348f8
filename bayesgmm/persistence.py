"""Saving and loading fitted results: one directory per result, restored bit for bit.

The writers, the manifest and the atomic write are in :mod:`bayesgmm.result_files`; this module
holds :func:`save`, :func:`load` and the readers, each checking exactly what its writer wrote.
The path rules (what may be replaced, orphans) are in :mod:`bayesgmm.paths`, which imports
nothing heavy, so that the command line checks an output path before it loads ArviZ.

Layout of a saved :class:`~bayesgmm.posterior.BayesResult` directory::

    manifest.json         what this is (kind, format version), software versions, file list
    idata.nc              the ArviZ DataTree (all groups), NetCDF-4 through h5netcdf
    em.json, em.npz       the EM result: scalars and names (JSON), arrays (npz)
    result.json           priors, standardisation, covariance type, settings (the run's record
                          and the typed sampler settings), label switching
    label_switching.npz   the relabelling permutations (chain, draw, component)

An :class:`~bayesgmm.em.EMResult` directory holds ``manifest.json``, ``em.json`` and ``em.npz``.

Floats go through JSON as Python's shortest round-tripping ``repr`` and arrays through npz or
NetCDF without conversion, so :func:`load` returns arrays equal bit for bit to the saved ones.
The manifest records the SHA-256 of every file; :func:`load` checks them (results saved before
they were recorded load without that check) and validates every file's types and shapes and
their agreement with each other, failing with one ``ValueError`` naming the file.

Writes are atomic (:func:`write_directory`: a temporary sibling renamed into place, see
:mod:`bayesgmm.result_files`); only a bayesgmm output of the same kind is ever replaced, never the
current, a home or the root directory, or one holding an input (:func:`check_writable`).

Where it sits: the posterior layer, above the result types it restores (:mod:`bayesgmm.em`;
:mod:`bayesgmm.posterior` lazily, so that an EM fit loads without ArviZ) and the writers they
save through (:mod:`bayesgmm.result_files`); imported by the report and the command line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from . import covariance
from ._validation import COVARIANCE_TYPES, is_int, is_number
from .em import EMResult, StartCandidate

# The path rules and the writing side, re-exported: persistence is where users look for them.
from .paths import (
    KINDS,
    MANIFEST,
    ORPHAN_AGE_S,
    check_writable,
    clean_orphans,
    directory_identity,
    expand_home,
    in_progress,
    missing_hint,
    read_consistently,
    remember_source,
)
from .priors import ConjugatePrior, Priors, Standardisation
from .relabel import LabelSwitchingReport
from .result_files import (
    BOOL_ATTRS,
    FORMAT_VERSION,
    NONE_ATTR,
    RESULT_FILES,
    _Bad,
    _check_files,
    _check_manifest,
    _need,
    _read_json,
    _reading,
    read_manifest,
    save_files,
    write_directory,
    write_manifest,
)
from .settings import DiagnosticThresholds, SamplerSettings
from .versions import software_versions  # recorded in every saved result

if TYPE_CHECKING:  # lazily otherwise: an EM fit loads without ArviZ (QA143 L7: 10.9 s)
    from .posterior import BayesResult

__all__ = ["FORMAT_VERSION", "KINDS", "MANIFEST", "ORPHAN_AGE_S", "check_writable",
           "clean_orphans", "in_progress", "load", "read_manifest", "save", "software_versions",
           "write_directory", "write_manifest"]


def save(result: BayesResult | EMResult, path: str | os.PathLike, *,
         overwrite: bool = False, extra: Callable[[Path], None] | None = None) -> Path:
    """Save a fitted result to the directory ``path``.

    Parameters
    ----------
    result : BayesResult or EMResult (or a fitted estimator: its ``result_``)
    path : str or path-like
        The directory to create. Missing parent directories are created.
    overwrite : bool, default False
        Replace an existing non-empty ``path``, which must be an earlier result of the same
        kind (a BayesResult for a BayesResult, an EMResult for an EMResult), with its report
        (see :func:`check_writable`); anything else, another kind of bayesgmm output included,
        is refused. Without it an existing result is never touched.
    extra : callable, optional
        ``extra(directory)`` writes further files (e.g. the report) into the result directory
        before it is moved into place, so that they too appear atomically or not at all.

    Returns
    -------
    Path
        ``path``, written through :func:`write_directory`.

    Raises
    ------
    ValueError
        ``result`` is neither a BayesResult nor an EMResult; or as :func:`write_directory`:
        ``path`` exists and ``overwrite`` is False, ``path`` is something bayesgmm may not
        replace (a directory it did not write, another kind of bayesgmm output, the current or
        a home directory, the root), or it cannot be written (the message names it). Nothing
        is left behind on failure.
    """
    result = getattr(result, "result_", result)  # a fitted estimator: its result (QA110)
    from .posterior import BayesResult  # lazily (see the imports)
    if not isinstance(result, BayesResult | EMResult):
        raise ValueError(f"can only save a BayesResult or EMResult (or a fitted estimator); "
                         f"got {type(result).__name__}")
    kind = "EMResult" if isinstance(result, EMResult) else "BayesResult"
    return save_files(result, path, kind, overwrite=overwrite, extra=extra)


def load(path: str | os.PathLike) -> BayesResult | EMResult:
    """Load a result saved with :func:`save` (``BayesResult.save`` / ``EMResult.save``).

    Every file is checked before it is used: its SHA-256 against the manifest (results saved
    before checksums were recorded load without that check), its types and shapes, and the
    agreement of the files with each other (feature names, numbers of components, features,
    chains and draws, the EM estimate stored in two places).

    Parameters
    ----------
    path : str or path-like
        The result directory.

    Returns
    -------
    BayesResult or EMResult
        Every method works as on the saved object; arrays are bit-identical.

    Raises
    ------
    ValueError
        One line naming the file and what is wrong with it: ``path`` is not a saved bayesgmm
        result, was written by a newer format version, or a file is missing, damaged, altered
        since it was saved, a symbolic link, or inconsistent with the others.
    """
    directory = expand_home(path)  # "~/fit" as save wrote it
    # Another process may save over the result while this one reads it (QA: 19 of 5,650
    # loads failed): read again, from the new one; a report beside it checks it (QA77)
    before = directory_identity(directory)
    result = read_consistently(directory, _load)
    if before is not None and directory_identity(directory) == before:
        remember_source(result, directory, before)
    return result


def _load(directory: Path) -> BayesResult | EMResult:
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a directory"
        raise ValueError(f"{directory} {what}; expected a saved bayesgmm result directory"
                         f"{missing_hint(directory)}")
    manifest = _check_manifest(directory)
    kind = manifest["kind"]
    if kind not in RESULT_FILES:
        rebuilt = ("a model selection's report, rebuilt by running bayesgmm select again"
                   if kind == "SelectionReport" else
                   "a report without its fit, rebuilt by the call that wrote it "
                   "(write_em_report, write_report; bayesgmm em --report saves an EM fit "
                   "beside its report)")
        raise ValueError(f"{directory} holds {rebuilt}, not a saved result: load() and "
                         "bayesgmm report read what fit, run or save wrote")
    _check_files(directory, manifest, RESULT_FILES[kind])
    # the software that made it, as recorded when it was saved
    versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else None
    if kind == "EMResult":
        return _read_em(directory, versions)
    return _read_bayes(directory, versions)


# -- reading ---------------------------------------------------------------------------------
def _read_npz(path: Path, names: Iterable[str], optional: Iterable[str] = ()) -> dict:
    """Numeric arrays from an npz archive, refusing anything else (objects, other files)."""
    with open(path, "rb") as f:
        _need(f.read(4) == b"PK\x03\x04", "it is not a NumPy .npz archive")
    with np.load(path, allow_pickle=False) as npz:
        missing = [n for n in names if n not in npz.files]
        _need(not missing, f"the arrays {missing} are missing")
        out = {n: npz[n] for n in [*names, *optional] if n in npz.files}
    for name, value in out.items():
        _need(value.dtype.kind in "fiub", f"array {name!r} has dtype {value.dtype}, not numeric")
    return out


def _shape(name: str, array: np.ndarray, shape: tuple[int, ...], why: str) -> None:
    _need(array.shape == shape, f"{name!r} has shape {array.shape}; expected {shape} ({why})")


def _read_em(directory: Path, versions: dict | None = None) -> EMResult:
    meta_path, npz_path = directory / "em.json", directory / "em.npz"
    with _reading(meta_path):
        meta = _read_json(meta_path)
        _need(isinstance(meta, dict), "is not a JSON object")
        for key, ok, what in (
            ("covariance_type", lambda v: v in COVARIANCE_TYPES, f"one of {COVARIANCE_TYPES}"),
            ("log_likelihood", is_number, "a number"),
            ("log_posterior", lambda v: v is None or is_number(v), "a number or null"),
            ("n_iter", lambda v: is_int(v, 0), "an integer >= 0"),
            ("converged", lambda v: isinstance(v, bool), "true or false"),
            ("feature_names", lambda v: isinstance(v, list) and len(v) > 0
             and all(isinstance(n, str) for n in v), "a non-empty list of names"),
            ("n_samples", lambda v: is_number(v) and v > 0, "a positive number"),
            ("reg_covar", lambda v: is_number(v) and v >= 0, "a number >= 0"),
            ("warnings", lambda v: isinstance(v, list) and all(isinstance(w, str) for w in v),
             "a list of strings"),
            ("prior", lambda v: v is None or (isinstance(v, dict) and set(v) == {
                "covariance_type", "shrinkage", "dof", "weight_concentration"}),
             "null or a table of covariance_type, shrinkage, dof, weight_concentration"),
        ):
            _need(key in meta, f"{key!r} is missing")
            _need(ok(meta[key]), f"{key!r} must be {what}; got {meta[key]!r}")
        # issue 14's keys: optional (results saved before them have no noise component)
        for key, ok, what in (
            ("noise_weight", lambda v: is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
            ("noise_log_density", lambda v: v is None or is_number(v), "a number or null"),
            ("observations", lambda v: v is None or isinstance(v, dict), "null or a table"),
            ("settings", lambda v: v is None or isinstance(v, dict), "null or a table"),
            ("features_named", lambda v: v is None or isinstance(v, bool), "true or false"),
            ("candidates", _are_candidates, "a list of tables of source, log_posterior, "
             "log_likelihood and weights"),
        ):
            _need(ok(meta.get(key)) if key in meta else True,
                  f"{key!r} must be {what}; got {meta.get(key)!r}")
    D = len(meta["feature_names"])
    prior_names = ("prior_mean", "prior_scale") if meta["prior"] is not None else ()
    with _reading(npz_path):
        arrays = _read_npz(npz_path, ("weights", "means", "covariances", "precisions_cholesky",
                                      "history", *prior_names),
                           optional=("noise_bounds", "candidate_means", "candidate_covariances"))
        K = arrays["weights"].shape[0] if arrays["weights"].ndim == 1 else -1
        _need(K >= 1, f"'weights' has shape {arrays['weights'].shape}; expected (K,)")
        cov_shape = covariance.shape(meta["covariance_type"], K, D)
        why = (f"K={K} components from 'weights', D={D} features from em.json's "
               f"feature_names, {meta['covariance_type']} covariances")
        _shape("means", arrays["means"], (K, D), why)
        _shape("covariances", arrays["covariances"], cov_shape, why)
        _shape("precisions_cholesky", arrays["precisions_cholesky"], cov_shape, why)
        _need(arrays["history"].ndim == 1, "'history' is not a 1-D array")
        if "noise_bounds" in arrays:
            _shape("noise_bounds", arrays["noise_bounds"], (2, D), why)
        n_candidates = len(meta.get("candidates") or ())
        for name, shape in (("candidate_means", (n_candidates, K, D)),
                            ("candidate_covariances", (n_candidates, *cov_shape))):
            if n_candidates:
                _need(name in arrays, f"{name!r} is missing (em.json lists {n_candidates} "
                                      "start candidates)")
                _shape(name, arrays[name], shape, why)
        for name in ("weights", "means", "covariances", "precisions_cholesky"):
            _need(bool(np.all(np.isfinite(arrays[name]))), f"{name!r} has NaN or infinite values")
        if prior_names:
            _need(meta["prior"]["covariance_type"] in COVARIANCE_TYPES,
                  "em.json's prior has an unknown covariance_type")
            _shape("prior_mean", arrays["prior_mean"], (D,), why)
            _shape("prior_scale", arrays["prior_scale"],
                   covariance.component_shape(meta["prior"]["covariance_type"], D), why)
    prior = None
    if meta["prior"] is not None:
        with _reading(meta_path):
            try:
                prior = ConjugatePrior(mean=arrays.pop("prior_mean"),
                                       scale=arrays.pop("prior_scale"), **meta["prior"])
            except (ValueError, TypeError) as exc:
                raise _Bad(f"'prior' is not valid ({exc})") from None
    with _reading(meta_path):
        return EMResult(
            weights=arrays["weights"],
            means=arrays["means"],
            covariances=arrays["covariances"],
            precisions_cholesky=arrays["precisions_cholesky"],
            history=arrays["history"],
            covariance_type=meta["covariance_type"],
            log_likelihood=meta["log_likelihood"],
            log_posterior=meta["log_posterior"],
            n_iter=meta["n_iter"],
            converged=meta["converged"],
            feature_names=tuple(meta["feature_names"]),
            n_samples=meta["n_samples"],
            reg_covar=meta["reg_covar"],
            prior=prior,
            warnings=tuple(meta["warnings"]),
            noise_weight=float(meta.get("noise_weight", 0.0)),
            noise_log_density=-np.inf if meta.get("noise_log_density") is None
            else float(meta["noise_log_density"]),
            noise_bounds=arrays.get("noise_bounds"),
            observations=meta.get("observations"),
            settings=meta.get("settings"),
            versions=versions,
            features_named=meta.get("features_named"),
            candidates=tuple(
                StartCandidate(source=c["source"], log_posterior=c["log_posterior"],
                               log_likelihood=c["log_likelihood"], weights=tuple(c["weights"]),
                               means=arrays["candidate_means"][i],
                               covariances=arrays["candidate_covariances"][i])
                for i, c in enumerate(meta.get("candidates") or ())),
        )


def _read_bayes(directory: Path, versions: dict | None = None) -> BayesResult:
    from .posterior import BayesResult

    em = _read_em(directory, versions)
    K, D = em.weights.shape[0], len(em.feature_names)
    meta_path = directory / "result.json"
    with _reading(meta_path):
        meta = _read_json(meta_path)
        _need(isinstance(meta, dict), "is not a JSON object")
        for key in ("covariance_type", "priors", "standardisation", "settings",
                    "label_switching"):
            _need(key in meta, f"{key!r} is missing")
        _need(meta["covariance_type"] == em.covariance_type,
              f"covariance_type {meta['covariance_type']!r} differs from em.json's "
              f"{em.covariance_type!r}")
        _need(isinstance(meta["settings"], dict), "'settings' is not a table")
        _need(isinstance(meta.get("observations_summary", {}), dict),
              "'observations_summary' is not a table")
        prior_fields = {f.name for f in fields(Priors)}
        _need(isinstance(meta["priors"], dict) and all(
            is_number(v) for k, v in meta["priors"].items() if k in prior_fields),
            "'priors' is not a table of numbers")
        try:
            priors = Priors(**{k: v for k, v in meta["priors"].items() if k in prior_fields})
        except (ValueError, TypeError) as exc:
            raise _Bad(f"'priors' is not valid ({exc})") from None
        std = meta["standardisation"]
        _need(isinstance(std, dict) and all(
            isinstance(std.get(k), list) and len(std[k]) == D
            and all(is_number(v) and math.isfinite(v) for v in std[k])
            for k in ("center", "scale")),
            f"'standardisation' needs 'center' and 'scale', {D} finite number(s) each "
            f"(one per feature of em.json)")
        _need(all(v > 0 for v in std["scale"]), "'standardisation' has a scale <= 0")
        ls = meta["label_switching"]
        _need(isinstance(ls, dict)
              and isinstance(ls.get("chains"), list)
              and all(isinstance(c, str | int) for c in ls["chains"])
              and all(isinstance(ls.get(k), list) and len(ls[k]) == len(ls["chains"])
                      and all(is_int(v, 0) for v in ls[k]) for k in ("n_draws", "n_permuted"))
              and is_number(ls.get("fraction_permuted")) and is_int(ls.get("n_iter"), 0),
              "'label_switching' needs chains, n_draws and n_permuted (one per chain), "
              "fraction_permuted and n_iter")
    ls_path = directory / "label_switching.npz"
    with _reading(ls_path):
        permutations = _read_npz(ls_path, ("permutations",))["permutations"]
        n_chains, n_draws = len(ls["chains"]), max(ls["n_draws"], default=0)
        _shape("permutations", permutations, (n_chains, n_draws, K),
               "chains and draws from result.json, K from em.npz")
        _need(permutations.dtype.kind in "iu", "'permutations' is not an integer array")
    idata_path = directory / "idata.nc"
    with _reading(idata_path):
        tree = _restore_datatree(xr.load_datatree(idata_path, engine="h5netcdf"))
        _check_idata(tree, em, n_chains, n_draws)
    report = LabelSwitchingReport(
        chains=tuple(ls["chains"]), n_draws=tuple(ls["n_draws"]),
        n_permuted=tuple(ls["n_permuted"]), fraction_permuted=ls["fraction_permuted"],
        n_iter=ls["n_iter"], permutations=permutations,
        method=ls.get("method", "distance"),  # results saved before the method was recorded
        fixed_components=_fixed_components(ls, K),
    )
    return BayesResult(
        idata=tree,
        em=em,
        priors=priors,
        standardisation=Standardisation(
            center=np.array(std["center"], dtype=np.float64),
            scale=np.array(std["scale"], dtype=np.float64),
        ),
        covariance_type=meta["covariance_type"],
        label_switching=report,
        settings=meta["settings"],
        sampler_settings=_read_sampler_settings(meta),
        # Results saved before issue 14 have none.
        observations_summary=meta.get("observations_summary"),
        thresholds=_read_thresholds(meta),
        versions=versions,
    )


def _check_idata(tree: xr.DataTree, em: EMResult, n_chains: int, n_draws: int) -> None:
    """The DataTree agrees with the EM result and the label-switching report saved with it."""
    K, D = em.weights.shape[0], len(em.feature_names)
    groups = set(tree.children)
    for group in ("posterior", "observed_data"):
        _need(group in groups, f"the group {group!r} is missing")
    post = tree["posterior"].to_dataset(inherit=False)
    shapes = {"weights": (K,), "means": (K, D),
              "covariances": covariance.shape(em.covariance_type, K, D)}
    for name, shape in shapes.items():
        _need(name in post.variables, f"posterior variable {name!r} is missing")
        var = post[name]
        _need(var.dims[:2] == ("chain", "draw"), f"posterior {name!r} has dims {var.dims}")
        _need(var.shape[:2] == (n_chains, n_draws) and var.shape[2:] == shape,
              f"posterior {name!r} has shape {var.shape}; em.json, em.npz and result.json "
              f"say {(n_chains, n_draws, *shape)} ({n_chains} chain(s), {n_draws} draw(s), "
              f"K={K}, D={D})")
        _need(var.dtype.kind == "f", f"posterior {name!r} is not floating point")
    obs = tree["observed_data"].to_dataset(inherit=False)
    _need("x" in obs.variables and obs["x"].ndim == 2 and obs["x"].shape[1] == D
          and obs["x"].dtype.kind == "f",
          f"observed_data 'x' must be (observation, feature) floats with {D} feature(s)")
    if "feature" in obs.coords:
        names = tuple(str(v) for v in obs.coords["feature"].values)
        _need(names == em.feature_names, f"its feature names {list(names)} differ from "
                                         f"em.json's {list(em.feature_names)}")
    if "em" in groups:  # the EM estimate is stored twice: both copies must be the same fit
        stored = tree["em"].to_dataset(inherit=False)
        for name, value in (("weights", em.weights), ("means", em.means),
                            ("covariances", em.covariances)):
            _need(name in stored.variables and stored[name].shape == value.shape
                  and bool(np.array_equal(stored[name].values, value)),
                  f"its EM estimate ({name!r}) is not the one in em.npz: the files come from "
                  "different fits")


def _read_typed(meta: dict[str, Any], key: str, kind: Any) -> Any:
    """``kind.from_dict(meta[key])`` (None when absent or null); a bad entry is a one-line
    error naming it."""
    values = meta.get(key)
    if values is None:
        return None
    try:
        return kind.from_dict(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"result.json: {key!r} is not valid: {exc}") from None


def _read_thresholds(meta: dict[str, Any]) -> DiagnosticThresholds | None:
    """The fit's diagnostic thresholds; None (the defaults) for results saved before."""
    return _read_typed(meta, "thresholds", DiagnosticThresholds)


def _are_candidates(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(c, dict) and isinstance(c.get("source"), str)
        and all(is_number(c.get(k)) for k in ("log_posterior", "log_likelihood"))
        and isinstance(c.get("weights"), list) and all(is_number(w) for w in c["weights"])
        for c in value)


def _fixed_components(ls: dict, K: int) -> tuple[int, ...]:
    """The components known labels kept in place ([] in results saved before they were)."""
    fixed = ls.get("fixed_components", [])
    _need(isinstance(fixed, list) and all(is_int(k, 0) and k < K for k in fixed),
          f"'label_switching.fixed_components' must list components 0..{K - 1}")
    return tuple(int(k) for k in fixed)


def _read_sampler_settings(meta: dict[str, Any]) -> SamplerSettings | None:
    """Typed settings; results saved before they were typed have only the ``settings`` record."""
    if "sampler_settings" in meta:
        if not isinstance(meta["sampler_settings"], dict | None):  # fuzz: [1, 2, 3] there
            raise ValueError("result.json: 'sampler_settings' is not a table (null or an "
                             "object of the sampler's settings)")
        typed = dict(meta["sampler_settings"] or {}) or None
        if typed is not None:  # saved before the metric was a setting: sampled with "diag"
            typed.setdefault("metric", "diag")
        return _read_typed({"sampler_settings": typed}, "sampler_settings", SamplerSettings)
    try:
        return SamplerSettings.from_dict({"metric": "diag", **meta["settings"]},
                                         strict=False)
    except ValueError:  # a record this version cannot read as settings: keep the result usable
        return None


def _restore_datatree(tree: xr.DataTree) -> xr.DataTree:
    groups = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        for name in list(ds.variables):
            var = ds.variables[name]
            if var.attrs.get(NONE_ATTR):
                values = np.array([None if v == "" else v for v in var.values.flat],
                                  dtype=object).reshape(var.shape)
                attrs = {k: v for k, v in var.attrs.items() if k != NONE_ATTR}
                ds[name] = xr.Variable(var.dims, values, attrs)
        bools = np.atleast_1d(ds.attrs.pop(BOOL_ATTRS, [])).tolist()
        for key in bools:
            ds.attrs[key] = bool(ds.attrs[key])
        groups[node.path] = ds
    return xr.DataTree.from_dict(groups)
