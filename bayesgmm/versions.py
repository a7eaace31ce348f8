"""Which software made a result or a report: the installed versions of Python and packages.

Where it sits: the data-in layer, beside :mod:`bayesgmm.paths` (standard library only, nothing
imported but package metadata, read once a process), so that every fit can record its software
(``EMResult.versions``, ``BayesResult.versions``) and an EM-only report list it without loading
ArviZ. :mod:`bayesgmm.result_files` records these versions in every saved result's manifest.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

__all__ = ["RESULT_PACKAGES", "software_versions"]

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


@functools.cache  # read once a process: every EM fit records them (a sweep runs hundreds)
def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"
