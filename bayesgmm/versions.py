"""Which software made a result or a report: the installed versions of Python and packages;
whether a package is a release whose internals were checked.

Where it sits: the vocabulary layer, below :mod:`bayesgmm._numba_cache` (standard library
only, nothing imported but package metadata and NumPy's build record, read once a process;
git, where bayesgmm runs from a checkout), so that every fit can record its software
(``EMResult.versions``, ``BayesResult.versions``) and an EM-only report list it without loading
ArviZ. :mod:`bayesgmm.result_files` records these versions in every saved result's manifest.
:func:`release_problem` is the one version check of the modules that use another package's
internals (:mod:`bayesgmm.pytensor_numba`, :mod:`bayesgmm.backends.nutpie_model`,
:mod:`bayesgmm._numba_cache` and, for a figure drawn into ``ax=``,
:mod:`bayesgmm.plots.diagnostics`).
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

__all__ = ["RESULT_PACKAGES", "SOURCE", "machine_record", "release_problem", "software_versions"]

# The packages a result depends on: its draws (pymc, pytensor, nutpie), the kernels' numbers
# (numba and its compiler llvmlite, numpy, scipy), its diagnostics (arviz-stats: R-hat, ESS;
# arviz-base; arviz, the meta-package), its saved format (xarray, h5netcdf) and the data as
# read (pandas; pyarrow for Parquet). QA112: pandas and llvmlite were not recorded.
RESULT_PACKAGES = ("bayesgmm", "pymc", "pytensor", "nutpie", "numba", "llvmlite", "numpy",
                   "scipy", "arviz", "arviz-base", "arviz-stats", "xarray", "h5netcdf",
                   "pandas", "pyarrow")
# The key of bayesgmm's source revision in a versions record (beside its version, which a
# checkout keeps unchanged over many commits: QA112, "0.1.0" on 1,050 of them).
SOURCE = "bayesgmm source"


def software_versions(packages: Iterable[str] = RESULT_PACKAGES) -> dict[str, str]:
    """Versions of Python and of ``packages`` (default: those a saved result depends on).

    Parameters
    ----------
    packages : iterable of str
        Distribution names, read from the installed metadata (nothing is imported).

    Returns
    -------
    dict
        ``{"python": ..., name: version}``; ``"not installed"`` for a package that is not;
        with bayesgmm, its source revision too (:data:`SOURCE`: :func:`_source_revision`).
    """
    found = {"python": platform.python_version(), **{name: _version(name) for name in packages}}
    if "bayesgmm" in found:
        found[SOURCE] = _source_revision()
    return found


def machine_record() -> str:
    """Where a fit ran, for the record (the same seed's draws can differ across platforms:
    floating-point libraries, SIMD the kernels are compiled for, thread counts): the OS
    release, the CPU model, the CPUs, Python, and the BLAS NumPy uses (QA112: "Linux
    x86_64, 2 CPUs" could not be rebuilt)."""
    import os

    return (f"{platform.platform()}, {_cpu_model() or platform.machine()}, {os.cpu_count()} "
            f"CPUs, Python {platform.python_version()}, NumPy BLAS {_blas() or 'unknown'}")


@functools.cache
def _cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo; the processor string elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


@functools.cache
def _blas() -> str:
    """The BLAS NumPy was built against (its name and version), or ''."""
    try:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '')} {blas.get('version', '')}".strip()
    except Exception:  # an old or unusual build: the record says unknown
        return ""


@functools.cache
def _source_revision() -> str:
    """The git commit of the bayesgmm being run, when it runs from a checkout (an editable
    install, a source tree), with "+ uncommitted changes" where its package files differ
    from that commit; "release" otherwise (an installed distribution: its version says it)."""
    import subprocess
    from pathlib import Path

    package = Path(__file__).resolve().parent
    try:  # tracked there: not an installed copy inside some other project's repository
        subprocess.run(["git", "-C", str(package), "ls-files", "--error-unmatch",
                        "__init__.py"], capture_output=True, timeout=5, check=True)
        commit = subprocess.run(["git", "-C", str(package), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "-C", str(package), "status", "--porcelain",
                                "--untracked-files=no", "--", "."],
                               capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):  # no git, not a checkout
        return "release"
    return (f"git {commit.stdout.strip()[:12]}"
            + (" + uncommitted changes" if dirty.stdout.strip() else ""))


def release_problem(package: str, checked: tuple[tuple[int, int], tuple[int, int]],
                    used_by: str) -> str:
    """Why ``package``'s internals may not be used ('' if they may): the version check of the
    modules that use another package's private API.

    Parameters
    ----------
    package : str
        The distribution's name.
    checked : ((int, int), (int, int))
        The first and last (major, minor) releases the internals were checked against.
    used_by : str
        What uses them, for the message ("native and pyfunc routes").

    Returns
    -------
    str
        A one-line reason naming the installed release and the checked ones; '' for a checked
        release.
    """
    try:
        release = version(package)
    except PackageNotFoundError:
        return f"{package} is not installed"
    try:
        major_minor = tuple(int(part) for part in release.split(".")[:2])
    except ValueError:
        major_minor = None
    if major_minor is None or not checked[0] <= major_minor <= checked[1]:
        first, last = (".".join(map(str, v)) for v in checked)
        return (f"{package} {release} is not a release bayesgmm's {used_by} were checked "
                f"against ({first} to {last})")
    return ""


@functools.cache  # read once a process: every EM fit records them (a sweep runs hundreds)
def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"
