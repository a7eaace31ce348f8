"""Result and report directories on disk: the atomic write, the manifest, the writers.

What a saved result is, file by file, and how it gets onto the disk: :func:`write_directory`
(the package's one atomic-write routine, used by :func:`save_files`, the reports and ``bayesgmm
select``), the manifest with every file's SHA-256 (:func:`write_manifest`, checked by
:func:`read_manifest`), and the writer of each file of a saved
:class:`~bayesgmm.em.EMResult` or :class:`~bayesgmm.posterior.BayesResult` (the layout is in
:mod:`bayesgmm.persistence`, whose readers check exactly what these write), and further files a
caller adds to a result, listed in its manifest (the command line's ``estimates.csv``, a
report written beside it: :func:`list_further_files`).

(Over 500 lines: the atomic write, the manifest that says what a later write may replace, and
the files they write are one contract, kept in one place.)

Where it sits: the files layer. It writes the result types from their attributes and never
imports them (not even for annotations: a result is typed ``Any`` here), so their ``save()``
methods call it directly: the result types import it, :mod:`bayesgmm.persistence` (which
restores them) imports it and them, and no import circle is left. Imports
:mod:`bayesgmm._validation`, :mod:`bayesgmm.paths` and :mod:`bayesgmm.versions`; xarray only
inside the NetCDF writer, so writing an EM result or a report loads neither xarray nor ArviZ.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ._validation import is_int
from .paths import (
    _OLD,
    _TMP,
    KINDS,
    LISTS_REPORTS,
    MANIFEST,
    _check_replaceable,
    _make_parents,
    _manifest_kind,
    _reason,
    _rmdir_quietly,
    _umask,
    check_same_kind,
    check_writable,
    clean_orphans,
    expand_home,
)
from .tempdirs import writer_tag
from .versions import software_versions

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["FORMAT_VERSION", "RESULT_FILES", "SavableResult", "changed_since_saved", "check_room",
           "check_saved", "draws_sha256", "list_further_files", "read_manifest", "save_files",
           "write_directory", "write_manifest"]

FORMAT_VERSION = 1
# The files of each saved kind (besides the manifest).
RESULT_FILES = {
    "EMResult": ("em.json", "em.npz"),
    "BayesResult": ("em.json", "em.npz", "idata.nc", "label_switching.npz", "result.json"),
}
# NetCDF cannot store None inside a string variable (nutpie's ``divergence_message`` is None
# for every non-divergent draw): such entries are written as "" and this attribute says so.
NONE_ATTR = "bayesgmm_none_as_empty_string"
BOOL_ATTRS = "bayesgmm_boolean_attributes"


class SavableResult:
    """Mixin of the result types: ``save(path)`` writes the files of ``SAVED_AS`` (a key of
    :data:`RESULT_FILES`, set by each type; a subclass saves as its base)."""

    SAVED_AS: ClassVar[str]

    def save(self, path: Any, overwrite: bool = False) -> Any:
        """Save to the directory ``path`` (the files of :data:`RESULT_FILES`: JSON, npz and,
        for a posterior, NetCDF); reload with ``bayesgmm.load``.

        The write is atomic and an existing result is only replaced with ``overwrite=True``;
        see :func:`bayesgmm.save`.

        Parameters
        ----------
        path : str or path-like
            The directory to create.
        overwrite : bool, default False
            Replace an earlier result of the same kind saved at ``path``.

        Returns
        -------
        Path
            The directory written, holding the result's files and ``manifest.json``.

        Raises
        ------
        ValueError
            ``path`` exists without ``overwrite``, or may not be replaced or written.
        """
        return save_files(self, path, self.SAVED_AS, overwrite=overwrite)


def save_files(result: Any, path: str | os.PathLike, kind: str, *,
               overwrite: bool = False, extra: Callable[[Path], None] | None = None,
               files: Mapping[str, Callable[[Path], None]] | None = None) -> Path:
    """Write ``result`` (an EMResult or a BayesResult, as ``kind``, a key of
    :data:`RESULT_FILES`, says) to the directory ``path`` through :func:`write_directory`;
    ``overwrite`` and ``extra`` are :func:`bayesgmm.save`'s. ``files``: further files of the
    result (the command line's ``estimates.csv``), name -> ``writer(file path)``, written with
    the result's own files and, unlike ``extra``'s, listed and checksummed in its manifest
    (optional: :func:`bayesgmm.load` needs only :data:`RESULT_FILES`)."""
    if kind not in RESULT_FILES:
        raise ValueError(f"unknown result kind {kind!r}; one of {sorted(RESULT_FILES)}")
    files = dict(files or {})
    taken = [n for n in files if n in (*RESULT_FILES[kind], MANIFEST) or Path(n).name != n
             or n in ("", ".", "..")]
    if taken:
        raise ValueError(f"cannot add {taken} to a saved {kind}: a further file needs a plain "
                         "name of its own")

    def write(directory: Path) -> None:
        _write(result, kind, directory, files)
        if extra is not None:
            extra(directory)
            list_further_files(directory)  # the report: bayesgmm's to replace later

    return write_directory(path, write, overwrite=overwrite, writes=kind)


def write_directory(path: str | os.PathLike, write: Callable[[Path], None], *,
                    overwrite: bool = False, kind: str | None = None,
                    writes: str | None = None) -> Path:
    """Create the directory ``path`` atomically, its files written by ``write``.

    ``write(tmp)`` fills a temporary sibling directory, which is then renamed into place, so a
    reader never sees half of it: an earlier directory is swapped for it in one step where
    Linux allows (``renameat2``), elsewhere by two renames between which the path briefly
    does not exist (:func:`bayesgmm.load` reads again when a replacement overtook its read).
    :func:`save`, the reports and ``bayesgmm select`` write
    through it: it is the package's one atomic-write routine. Temporary siblings that a killed
    earlier write left behind (``.NAME.tmp-PID@MACHINE-*``, ``.NAME.old-...`` of a process that no
    longer runs) are cleaned up first; a backup of an earlier result whose replacement was
    interrupted is put back in place rather than deleted.

    Parameters
    ----------
    path : str or path-like
        The directory to create. Missing parent directories are created.
    write : callable
        ``write(directory)`` writes the files into the (empty, temporary) directory.
    overwrite : bool, default False
        Replace an existing non-empty ``path``, which must then be a directory that bayesgmm
        wrote (its ``manifest.json`` names a known kind); without it, it is never touched.
    kind : str, optional
        Write a ``manifest.json`` of this kind (one of :data:`KINDS`) listing every file with
        its SHA-256, unless ``write`` wrote one itself.
    writes : str, optional
        What is written, a key of :data:`~bayesgmm.paths.REPLACES` (default: ``kind``, else
        the kind of the manifest ``write`` wrote): an existing output of another kind is
        refused, with or without ``overwrite`` (checked before ``write`` runs when known).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        ``path`` exists and ``overwrite`` is False, ``path`` is not something bayesgmm may
        replace (see :func:`check_writable`), holds another kind of output than ``writes``,
        or it cannot be written. Nothing is left behind on failure, whatever ``write`` raises.
    """
    target = expand_home(path)  # "~/fit": the home's, as pandas reads it, never ./~
    clean_orphans(target)  # first: an interrupted replacement's backup may be put back
    writes = writes or kind
    check_writable(target, overwrite=overwrite, writes=writes)
    created = _make_parents(target.parent)
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{_TMP}{writer_tag()}-",
                                    dir=target.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a result dir should not be
        write(tmp)
        if kind is not None and not (tmp / MANIFEST).exists():
            write_manifest(tmp, kind)
        # what this write produced, where the caller did not say: its manifest's kind
        _move_into_place(tmp, target, overwrite, writes or _manifest_kind(tmp))
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


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a saved result (kind, format version, software versions, files)."""
    return _check_manifest(expand_home(path))


def check_saved(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a saved directory, with a result's files checked as :func:`bayesgmm.load`
    checks them (there, regular files, unchanged since saved), without loading anything: a
    caller can refuse a changed or wrong directory before it says it is loading (QA)."""
    directory = expand_home(path)
    manifest = _check_manifest(directory)
    if manifest["kind"] in RESULT_FILES:
        _check_files(directory, manifest, RESULT_FILES[manifest["kind"]])
    return manifest


def changed_since_saved(directory: Path, manifest: Mapping[str, Any], name: str) -> bool:
    """Whether the file ``name`` of ``directory`` differs from the SHA-256 its ``manifest``
    holds (False where the manifest holds none, or the file is gone)."""
    expected = manifest.get("sha256", {}).get(name)
    path = directory / name
    return expected is not None and path.is_file() and _sha256(path) != expected


def write_manifest(directory: str | os.PathLike, kind: str) -> None:
    """Write ``manifest.json`` of ``kind`` listing every file under ``directory`` with its
    SHA-256 (for directories whose files are all bayesgmm's, such as a report)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
    directory = Path(directory)
    files = sorted(name for name in (p.relative_to(directory).as_posix() for p in
                                     directory.rglob("*") if p.is_file() and not p.is_symlink())
                   if name != MANIFEST)  # a saved fit's own below it is listed (select)
    _write_manifest(directory, kind, files)


def list_further_files(directory: Path, earlier: Mapping[str, Any] | None = None,
                       drop: Callable[[str], bool] = lambda name: False) -> None:
    """Rewrite ``directory``'s manifest to list (with its SHA-256) every file under it: the
    ``earlier`` manifest's entries (default: the directory's own), less those ``drop`` names,
    and every file not listed yet (a report written beside a result). What the manifest lists
    is what a later replacement may delete (:func:`bayesgmm.paths.check_writable`); the
    result's software versions and creation time are kept."""
    if earlier is None:
        earlier = _read_json(directory / MANIFEST)
    listed = [n for n in earlier.get("files", []) if n != MANIFEST and not drop(n)]
    sums = {n: v for n, v in earlier.get("sha256", {}).items() if n in listed}
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and not path.is_symlink() and name != MANIFEST and name not in sums:
            listed.append(name)
            sums[name] = _sha256(path)
    _write_json(directory / MANIFEST, {**earlier, "files": sorted({*listed, MANIFEST}),
                                       "sha256": dict(sorted(sums.items())),
                                       LISTS_REPORTS: True})


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
def _write(result: Any, kind: str, directory: Path,
           further: Mapping[str, Callable[[Path], None]]) -> None:
    files = _write_em(result if kind == "EMResult" else result.em, directory)
    if kind == "BayesResult":
        files += _write_bayes(result, directory)
    for name, writer in further.items():  # before the manifest, which lists them
        writer(directory / name)
        if (directory / name).exists():  # a writer may decline (the CLI's, on failure)
            files.append(name)
    # the software that made the fit, not the one saving it (a loaded result saved again
    # under a newer install keeps its own); the saving one where the fit recorded none
    _write_manifest(directory, kind, files, getattr(result, "versions", None))


def _write_manifest(directory: Path, kind: str, files: list[str],
                    versions: dict[str, str] | None = None) -> None:
    """``manifest.json``: what the directory is, the software that made it (``versions``,
    default the installed one), and the SHA-256 of each of its files."""
    manifest = {
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": dict(versions) if versions else software_versions(),
        "files": sorted(set(files) | {MANIFEST}),
        "sha256": {name: _sha256(directory / name) for name in sorted(files)},
        LISTS_REPORTS: True,  # a report written into it later is listed too
    }
    _write_json(directory / MANIFEST, manifest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_em(em: Any, directory: Path) -> list[str]:
    arrays = {"weights": em.weights, "means": em.means, "covariances": em.covariances,
              "precisions_cholesky": em.precisions_cholesky, "history": em.history}
    meta: dict[str, Any] = {
        "covariance_type": em.covariance_type,
        "log_likelihood": em.log_likelihood,
        "log_posterior": em.log_posterior,
        "n_iter": em.n_iter,
        "converged": em.converged,
        "feature_names": list(em.feature_names),
        "features_named": em.features_named,  # matched by name at prediction (QA124)
        "n_samples": em.n_samples,
        "reg_covar": em.reg_covar,
        "warnings": list(em.warnings),
        "prior": None,
        "noise_weight": em.noise_weight,
        # JSON has no -inf: null means no noise component
        "noise_log_density": em.noise_log_density if em.noise else None,
        "observations": em.observations,
        "settings": em.settings,  # how it was run (seed, restarts); null before it was kept
    }
    if em.noise_bounds is not None:
        arrays["noise_bounds"] = em.noise_bounds
    if em.candidates:  # the start search (fit_bayes): objectives here, parameters in the npz
        meta["candidates"] = [{"source": c.source, "log_posterior": c.log_posterior,
                               "log_likelihood": c.log_likelihood, "weights": list(c.weights)}
                              for c in em.candidates]
        arrays["candidate_means"] = np.stack([c.means for c in em.candidates])
        arrays["candidate_covariances"] = np.stack([c.covariances for c in em.candidates])
    if em.prior is not None:
        p = em.prior
        arrays["prior_mean"], arrays["prior_scale"] = p.mean, p.scale
        meta["prior"] = {"covariance_type": p.covariance_type, "shrinkage": p.shrinkage,
                         "dof": p.dof, "weight_concentration": p.weight_concentration}
    np.savez(directory / "em.npz", **{k: np.asarray(v) for k, v in arrays.items()})
    _write_json(directory / "em.json", meta)
    return ["em.json", "em.npz"]


def _write_bayes(result: Any, directory: Path) -> list[str]:
    tree = _datatree_for_netcdf(result.idata)
    _check_space(directory, sum(node.to_dataset().nbytes for node in tree.subtree))
    try:
        tree.to_netcdf(directory / "idata.nc", engine="h5netcdf")
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
        "sampler_settings": (None if result.sampler_settings is None
                             else result.sampler_settings.to_dict()),
        "thresholds": None if result.thresholds is None else result.thresholds.to_dict(),
        "label_switching": {"chains": list(report.chains), "n_draws": list(report.n_draws),
                            "n_permuted": list(report.n_permuted),
                            "fraction_permuted": report.fraction_permuted,
                            "n_iter": report.n_iter, "method": report.method,
                            "fixed_components": list(report.fixed_components)},
    }
    if result.observations_summary is not None:
        meta["observations_summary"] = result.observations_summary
    meta["draws_sha256"] = draws_sha256(result.idata)
    _write_json(directory / "result.json", meta)
    return ["idata.nc", "label_switching.npz", "result.json"]


def draws_sha256(idata: xr.DataTree) -> str:
    """The posterior draws' fingerprint: SHA-256 over each variable of the ``posterior``
    group, by name, of its name, dtype, shape and values (C order). Two runs with the same
    seed give the same one, where their files differ in creation times and timings (QA112:
    the natural audit, comparing two results' checksums, always failed)."""
    import hashlib

    digest = hashlib.sha256()
    posterior = idata["posterior"].to_dataset()
    for name in sorted(posterior.data_vars):
        values = np.ascontiguousarray(posterior[name].values)
        digest.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def _datatree_for_netcdf(tree: xr.DataTree) -> xr.DataTree:
    """A copy of ``tree`` that NetCDF can store: None in string variables, bool attributes."""
    import xarray as xr  # here: an EM result or a report is written without it

    groups = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        for name, var in ds.variables.items():
            if var.dtype == object and any(v is None for v in var.values.flat):
                values = np.array(["" if v is None else str(v) for v in var.values.flat],
                                  dtype=object).reshape(var.shape)
                ds[name] = var.copy(data=values)
                ds[name].attrs[NONE_ATTR] = 1
        # NetCDF has no boolean attributes: store 0/1 and list the names to restore them.
        bools = [k for k, v in ds.attrs.items() if isinstance(v, bool | np.bool_)]
        ds.attrs = {k: int(v) if k in bools else v for k, v in ds.attrs.items()}
        if bools:
            ds.attrs[BOOL_ATTRS] = bools
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
# Set by a caller's signal handler (the command line's SIGINT/SIGTERM): a write not yet in
# place then stops instead of publishing. The handler raises KeyboardInterrupt too, but one
# that lands in a callback Python runs for itself (a garbage collector's) is printed as
# "Exception ignored" and lost: QA, a `timeout` run went on and wrote its result, exit 0.
STOP_REQUESTED = threading.Event()


def _move_into_place(tmp: Path, target: Path, overwrite: bool, writes: str | None) -> None:
    if STOP_REQUESTED.is_set():
        raise KeyboardInterrupt
    if target.is_dir() and any(target.iterdir()):
        # again: it may have appeared or changed while we were writing
        check_same_kind(target, _check_replaceable(target), writes)
        if not overwrite:  # written by another run while this one ran (QA93: said bare)
            raise ValueError(f"output directory {target} was written by another run while "
                             "this one ran; this result was not saved there: choose another "
                             "output directory")
        if _exchange(tmp, target):
            # one step: a reader finds the old result or the new one at target, never no
            # directory (QA: 19 of 5,650 loads during overwrites failed between two renames)
            shutil.rmtree(tmp, ignore_errors=True)  # the old result, now at tmp's name
            return
        backup = target.with_name(f".{target.name}{_OLD}{writer_tag()}-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(target, backup)
        except FileNotFoundError:  # another writer moved it away meanwhile: ours goes in
            os.rename(tmp, target)
            return
        try:
            os.rename(tmp, target)
        except OSError:
            os.rename(backup, target)  # put the old result back
            raise
        shutil.rmtree(backup, ignore_errors=True)
    else:
        # rename() replaces an empty directory atomically and fails on a non-empty one: one
        # another writer put there meanwhile is then replaced as any other (review)
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not target.is_dir():
                raise
            _move_into_place(tmp, target, overwrite, writes)


def _check_space(directory: Path, needed: float, where: Path | None = None) -> None:
    """Refuse, before writing, a NetCDF file the filesystem has no room for: HDF5 writing
    into a full filesystem crashed the whole process (a segmentation fault, QA: a pipeline's
    full volume), where a full disk should be an error the caller can catch."""
    free = shutil.disk_usage(directory).free
    needed = 1.05 * needed + (1 << 20)  # the arrays, HDF5's overhead and the small files
    if free < needed:
        raise ValueError(f"not enough free space to save the result in "
                         f"{where or directory.parent}: it needs about {needed / 1e6:,.1f} MB, "
                         f"{free / 1e6:,.1f} MB are free; free some space or save it elsewhere")


def check_room(target: str | os.PathLike, needed: float) -> None:
    """:func:`_check_space` before a fit, for a result of at least ``needed`` bytes to be
    written at ``target`` (which may not exist yet: its nearest existing folder is asked;
    QA117 M1: a full disk was found after an hour of sampling)."""
    where = Path(target)
    existing = where
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    _check_space(existing, needed, where=where)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux's ``renameat2(RENAME_EXCHANGE)``, glibc 2.28+);
    False where the platform or the filesystem cannot (then two renames do it)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2  # <fcntl.h>, <linux/fs.h>
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    # not supported here; or the target went meanwhile (deleted, or another writer between
    # its two renames): the plain renames take it from there
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP, errno.ENOENT):
        return False
    raise OSError(code, os.strerror(code), str(b))


# --------------------------------------------------------------------------------------------
# checking what was written (shared with the readers in persistence)
# --------------------------------------------------------------------------------------------
class _Bad(Exception):
    """A problem with one file of a result; :func:`_reading` turns it into a ValueError."""


def _check_manifest(directory: Path) -> dict[str, Any]:
    manifest_path = directory / MANIFEST
    if manifest_path.is_symlink():
        raise ValueError(f"{manifest_path} is a symbolic link; a result holds its own files")
    if not manifest_path.is_file():
        raise ValueError(f"{directory} is not a saved bayesgmm result (no {MANIFEST})")
    with _reading(manifest_path):
        manifest = _read_json(manifest_path)
        _need(isinstance(manifest, dict), "is not a JSON object")
        _need(manifest.get("kind") in KINDS, f"names an unknown kind {manifest.get('kind')!r}")
        fmt = manifest.get("format_version")
        _need(is_int(fmt, 1),
              f"has a bad format_version {fmt!r}")
        files = manifest.get("files", [])
        _need(isinstance(files, list) and all(isinstance(f, str) for f in files),
              "'files' is not a list of names")
        sums = manifest.get("sha256", {})
        _need(isinstance(sums, dict) and all(isinstance(v, str) for v in sums.values()),
              "'sha256' is not a table of checksums")
    if fmt > FORMAT_VERSION:
        raise ValueError(
            f"{directory} was saved in format version {fmt}; this bayesgmm reads up to "
            f"{FORMAT_VERSION} (upgrade bayesgmm)"
        )
    return manifest


def _check_files(directory: Path, manifest: dict[str, Any], required: tuple[str, ...]) -> None:
    """Every file a result needs is there, a regular file of its own, unchanged since saved."""
    sums = manifest.get("sha256", {})
    for name in required:
        path = directory / name
        if path.is_symlink():
            raise ValueError(f"{path} is a symbolic link; a result directory holds its own files "
                             "(copy the file in instead)")
        if not path.is_file():
            raise ValueError(f"{path} is missing; the result in {directory} is incomplete")
        if sums and name not in sums:  # a manifest with checksums has one for each file
            raise ValueError(f"{MANIFEST} in {directory} has no SHA-256 for {name}, which "
                             "it lists for the result's other files: the result cannot be "
                             "trusted")
        if name in sums:
            with _reading(path):
                actual = _sha256(path)
            if actual != sums[name]:
                raise ValueError(f"{path} was changed after it was saved (its SHA-256 differs "
                                 f"from the one in {MANIFEST}); the result cannot be trusted")


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any failure while reading ``path`` becomes one ValueError naming it."""
    try:
        yield
    except _Bad as exc:
        raise ValueError(f"{path} is damaged: {exc}") from None
    except Exception as exc:  # untrusted bytes: whatever the parser raises, name the file
        raise ValueError(f"{path} is damaged or not a bayesgmm file ({_describe(exc)})") \
            from None


def _describe(exc: BaseException) -> str:
    text = _reason(exc)
    if "pickle" in text.lower():  # NumPy's hint to load it unsafely: never pass that on
        return "it is not a plain NumPy array archive"
    text = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _need(condition: bool, problem: str) -> None:
    if not condition:
        raise _Bad(problem)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
