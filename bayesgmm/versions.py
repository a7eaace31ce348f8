"""Which software made a result or a report: the installed versions of Python and packages;
whether a package is a release whose internals were checked.

Where it sits: the data-in layer, beside :mod:`bayesgmm.paths` (standard library only, nothing
imported but package metadata, read once a process), so that every fit can record its software
(``EMResult.versions``, ``BayesResult.versions``) and an EM-only report list it without loading
ArviZ. :mod:`bayesgmm.result_files` records these versions in every saved result's manifest.
:func:`release_problem` is the version check of the two modules that use another package's
internals (:mod:`bayesgmm.pytensor_numba`, :mod:`bayesgmm.backends.nutpie_model`).
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

__all__ = ["RESULT_PACKAGES", "release_problem", "software_versions"]

# The packages a result depends on: its draws (pymc, pytensor, nutpie), the kernels' numbers
# (numba, numpy, scipy), its diagnostics (arviz-stats: R-hat, ESS; arviz-base; arviz, the
# meta-package) and its saved format (xarray, h5netcdf).
RESULT_PACKAGES = ("bayesgmm", "pymc", "pytensor", "nutpie", "numba", "numpy", "scipy",
                   "arviz", "arviz-base", "arviz-stats", "xarray", "h5netcdf")


def software_versions(packages: Iterable[str] = RESULT_PACKAGES) -> dict[str, str]:
    """Versions of Python and of ``packages`` (default: those a saved result depends on).

    Parameters
    ----------
    packages : iterable of str
        Distribution names, read from the installed metadata (nothing is imported).

    Returns
    -------
    dict
        ``{"python": ..., name: version}``; ``"not installed"`` for a package that is not.
    """
    return {"python": platform.python_version(), **{name: _version(name) for name in packages}}


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
