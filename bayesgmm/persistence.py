"""Saving and loading fitted results: one directory per result, restored bit for bit.

Layout of a saved :class:`~bayesgmm.posterior.BayesResult` directory::

    manifest.json         what this is (kind, format version), software versions, file list
    idata.nc              the ArviZ DataTree (all groups), NetCDF-4 through h5netcdf
    em.json, em.npz       the EM result: scalars and names (JSON), arrays (npz)
    result.json           priors, standardisation, covariance type, settings, label switching
    label_switching.npz   the relabelling permutations (chain, draw, component)

An :class:`~bayesgmm.em.EMResult` directory holds ``manifest.json``, ``em.json`` and ``em.npz``.

Floats go through JSON as Python's shortest round-tripping ``repr`` and arrays through npz or
NetCDF without conversion, so :func:`load` returns arrays equal bit for bit to the saved ones.
Writes are atomic: everything is written to a temporary sibling directory which is then
renamed into place, so a reader never sees half a result and a failed write leaves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .em import EMResult
from .posterior import BayesResult
from .priors import ConjugatePrior, Priors, Standardisation
from .relabel import LabelSwitchingReport

__all__ = ["FORMAT_VERSION", "check_writable", "load", "save", "software_versions",
           "write_directory"]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_PACKAGES = ("bayesgmm", "pymc", "arviz", "numpy", "xarray", "nutpie", "h5netcdf")
# NetCDF cannot store None inside a string variable (nutpie's ``divergence_message`` is None
# for every non-divergent draw): such entries are written as "" and this attribute says so.
_NONE_ATTR = "bayesgmm_none_as_empty_string"
_BOOL_ATTRS = "bayesgmm_boolean_attributes"


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def save(result: BayesResult | EMResult, path: str | os.PathLike, *,
         overwrite: bool = False, extra: Callable[[Path], None] | None = None) -> Path:
    """Save a fitted result to the directory ``path``.

    Parameters
    ----------
    result : BayesResult or EMResult
    path : str or path-like
        The directory to create. Missing parent directories are created.
    overwrite : bool, default False
        Replace an existing non-empty ``path``. Without it an existing result is never touched.
    extra : callable, optional
        ``extra(directory)`` writes further files (e.g. the report) into the result directory
        before it is moved into place, so that they too appear atomically or not at all.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        ``path`` exists and ``overwrite`` is False, or it cannot be written (the message names
        it). Nothing is left behind on failure.
    """
    if not isinstance(result, BayesResult | EMResult):
        raise ValueError(f"can only save a BayesResult or EMResult; got {type(result).__name__}")

    def write(directory: Path) -> None:
        _write(result, directory)
        if extra is not None:
            extra(directory)

    return write_directory(path, write, overwrite=overwrite)


def write_directory(path: str | os.PathLike, write: Callable[[Path], None], *,
                    overwrite: bool = False) -> Path:
    """Create the directory ``path`` atomically, its files written by ``write``.

    ``write(tmp)`` fills a temporary sibling directory, which is then renamed into place, so a
    reader never sees half of it. :func:`save` and ``bayesgmm select`` write through it.

    Parameters
    ----------
    path : str or path-like
        The directory to create. Missing parent directories are created.
    write : callable
        ``write(directory)`` writes the files into the (empty, temporary) directory.
    overwrite : bool, default False
        Replace an existing non-empty ``path``; without it, it is never touched.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        ``path`` exists and ``overwrite`` is False, or it cannot be written. Nothing is left
        behind on failure, whatever ``write`` raises.
    """
    target = Path(path)
    check_writable(target, overwrite=overwrite)
    created = _make_parents(target.parent)
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a result dir should not be
        write(tmp)
        _move_into_place(tmp, target, overwrite)
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for directory in reversed(created):  # only the parents this call made
            _rmdir_quietly(directory)
        raise ValueError(f"cannot write {target}: {_reason(exc)}") from None
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for directory in reversed(created):
            _rmdir_quietly(directory)
        raise
    return target


def load(path: str | os.PathLike) -> BayesResult | EMResult:
    """Load a result saved with :func:`save` (``BayesResult.save`` / ``EMResult.save``).

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
        ``path`` is not a saved bayesgmm result, or was written by a newer format version.
    """
    directory = Path(path)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"{directory} is not a saved bayesgmm result (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text())
        kind = manifest["kind"]
        fmt = int(manifest["format_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{manifest_path} is damaged: {exc}") from None
    if fmt > FORMAT_VERSION:
        raise ValueError(
            f"{directory} was saved in format version {fmt}; this bayesgmm reads up to "
            f"{FORMAT_VERSION} (upgrade bayesgmm)"
        )
    try:
        if kind == "EMResult":
            return _read_em(directory)
        if kind == "BayesResult":
            return _read_bayes(directory)
    except (OSError, KeyError) as exc:
        raise ValueError(f"cannot read the result in {directory}: {_reason(exc)}") from None
    raise ValueError(f"{manifest_path}: unknown result kind {kind!r}")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a saved result (kind, format version, software versions, files)."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"{path} is not a saved bayesgmm result (no {MANIFEST})")
    return json.loads(manifest_path.read_text())


def check_writable(path: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Check, without leaving anything behind, that a result could be saved to ``path``.

    Run it before an expensive fit so that a bad output directory fails in seconds.

    Raises
    ------
    ValueError
        ``path`` holds something and ``overwrite`` is False, ``path`` is a file, or the nearest
        existing ancestor directory is not a directory or not writable.
    """
    target = Path(path)
    if target.is_file() or (target.exists() and not target.is_dir()):
        raise ValueError(f"output path {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise ValueError(
            f"output directory {target} already exists and is not empty; "
            "choose another path or overwrite it (overwrite=True, --force)"
        )
    ancestor = target.parent
    while not ancestor.exists():
        if ancestor == ancestor.parent:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"cannot write {target}: {ancestor} is not a directory")
    try:  # the only reliable test (ACLs, read-only mounts, root): try it
        Path(tempfile.mkdtemp(prefix=".bayesgmm-write-test-", dir=ancestor)).rmdir()
    except OSError as exc:
        raise ValueError(f"cannot write {target}: {_reason(exc)} ({ancestor})") from None


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages a saved result depends on."""
    import platform

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
def _write(result: BayesResult | EMResult, directory: Path) -> None:
    if isinstance(result, EMResult):
        files = _write_em(result, directory)
        kind = "EMResult"
    else:
        files = _write_em(result.em, directory)
        files += _write_bayes(result, directory)
        kind = "BayesResult"
    manifest = {
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": software_versions(),
        "files": sorted(files + [MANIFEST]),
    }
    _write_json(directory / MANIFEST, manifest)


def _write_em(em: EMResult, directory: Path) -> list[str]:
    arrays = {"weights": em.weights, "means": em.means, "covariances": em.covariances,
              "precisions_cholesky": em.precisions_cholesky, "history": em.history}
    meta: dict[str, Any] = {
        "covariance_type": em.covariance_type,
        "log_likelihood": em.log_likelihood,
        "log_posterior": em.log_posterior,
        "n_iter": em.n_iter,
        "converged": em.converged,
        "feature_names": list(em.feature_names),
        "n_samples": em.n_samples,
        "reg_covar": em.reg_covar,
        "warnings": list(em.warnings),
        "prior": None,
    }
    if em.prior is not None:
        p = em.prior
        arrays["prior_mean"], arrays["prior_scale"] = p.mean, p.scale
        meta["prior"] = {"covariance_type": p.covariance_type, "shrinkage": p.shrinkage,
                         "dof": p.dof, "weight_concentration": p.weight_concentration}
    np.savez(directory / "em.npz", **{k: np.asarray(v) for k, v in arrays.items()})
    _write_json(directory / "em.json", meta)
    return ["em.json", "em.npz"]


def _write_bayes(result: BayesResult, directory: Path) -> list[str]:
    try:
        _datatree_for_netcdf(result.idata).to_netcdf(directory / "idata.nc", engine="h5netcdf")
    except ImportError as exc:  # h5netcdf >= 1.7 writes through h5py, an optional dependency
        raise ValueError(f"saving a BayesResult needs h5netcdf with h5py: {exc}") from None
    report = result.label_switching
    np.savez(directory / "label_switching.npz", permutations=np.asarray(report.permutations))
    meta = {
        "covariance_type": result.covariance_type,
        "priors": result.priors.to_dict(),
        "standardisation": {"center": result.standardisation.center.tolist(),
                            "scale": result.standardisation.scale.tolist()},
        "settings": result.settings,
        "label_switching": {"chains": list(report.chains), "n_draws": list(report.n_draws),
                            "n_permuted": list(report.n_permuted),
                            "fraction_permuted": report.fraction_permuted,
                            "n_iter": report.n_iter, "method": report.method},
    }
    _write_json(directory / "result.json", meta)
    return ["idata.nc", "label_switching.npz", "result.json"]


def _datatree_for_netcdf(tree: xr.DataTree) -> xr.DataTree:
    """A copy of ``tree`` that NetCDF can store: None in string variables, bool attributes."""
    groups = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        for name, var in ds.variables.items():
            if var.dtype == object and any(v is None for v in var.values.flat):
                values = np.array(["" if v is None else str(v) for v in var.values.flat],
                                  dtype=object).reshape(var.shape)
                ds[name] = var.copy(data=values)
                ds[name].attrs[_NONE_ATTR] = 1
        # NetCDF has no boolean attributes: store 0/1 and list the names to restore them.
        bools = [k for k, v in ds.attrs.items() if isinstance(v, bool | np.bool_)]
        ds.attrs = {k: int(v) if k in bools else v for k, v in ds.attrs.items()}
        if bools:
            ds.attrs[_BOOL_ATTRS] = bools
        groups[node.path] = ds
    return xr.DataTree.from_dict(groups)


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=_json_default, allow_nan=True) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in JSON")


# --------------------------------------------------------------------------------------------
# moving into place
# --------------------------------------------------------------------------------------------
def _make_parents(parent: Path) -> list[Path]:
    """Create missing parent directories; return those created (outermost first)."""
    missing = []
    p = parent
    while not p.exists():
        missing.append(p)
        p = p.parent
    created = []
    try:
        for directory in reversed(missing):
            directory.mkdir()
            created.append(directory)
    except OSError as exc:
        for directory in reversed(created):
            _rmdir_quietly(directory)
        raise ValueError(f"cannot create {parent}: {_reason(exc)}") from None
    return created


def _move_into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:  # appeared while we were writing
            raise ValueError(f"output directory {target} already exists and is not empty")
        backup = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, backup)
        try:
            os.rename(tmp, target)
        except OSError:
            os.rename(backup, target)  # put the old result back
            raise
        shutil.rmtree(backup, ignore_errors=True)
    else:
        # rename() replaces an empty directory atomically and fails on a non-empty one.
        os.rename(tmp, target)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _rmdir_quietly(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass


def _reason(exc: BaseException) -> str:
    return exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else str(exc)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def _read_em(directory: Path) -> EMResult:
    meta = _read_json(directory / "em.json")
    with np.load(directory / "em.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    prior = None
    if meta["prior"] is not None:
        prior = ConjugatePrior(mean=arrays.pop("prior_mean"), scale=arrays.pop("prior_scale"),
                               **meta["prior"])
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
    )


def _read_bayes(directory: Path) -> BayesResult:
    meta = _read_json(directory / "result.json")
    tree = xr.load_datatree(directory / "idata.nc", engine="h5netcdf")
    with np.load(directory / "label_switching.npz") as npz:
        permutations = npz["permutations"]
    ls = meta["label_switching"]
    report = LabelSwitchingReport(
        chains=tuple(ls["chains"]), n_draws=tuple(ls["n_draws"]),
        n_permuted=tuple(ls["n_permuted"]), fraction_permuted=ls["fraction_permuted"],
        n_iter=ls["n_iter"], permutations=permutations,
        method=ls.get("method", "distance"),  # results saved before the method was recorded
    )
    prior_fields = {f.name for f in fields(Priors)}
    return BayesResult(
        idata=_restore_datatree(tree),
        em=_read_em(directory),
        priors=Priors(**{k: v for k, v in meta["priors"].items() if k in prior_fields}),
        standardisation=Standardisation(
            center=np.array(meta["standardisation"]["center"], dtype=np.float64),
            scale=np.array(meta["standardisation"]["scale"], dtype=np.float64),
        ),
        covariance_type=meta["covariance_type"],
        label_switching=report,
        settings=meta["settings"],
    )


def _restore_datatree(tree: xr.DataTree) -> xr.DataTree:
    groups = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        for name in list(ds.variables):
            var = ds.variables[name]
            if var.attrs.get(_NONE_ATTR):
                values = np.array([None if v == "" else v for v in var.values.flat],
                                  dtype=object).reshape(var.shape)
                attrs = {k: v for k, v in var.attrs.items() if k != _NONE_ATTR}
                ds[name] = xr.Variable(var.dims, values, attrs)
        bools = np.atleast_1d(ds.attrs.pop(_BOOL_ATTRS, [])).tolist()
        for key in bools:
            ds.attrs[key] = bool(ds.attrs[key])
        groups[node.path] = ds
    return xr.DataTree.from_dict(groups)
