"""The bundled reference data sets (see ``bayesgmm/data/README.md`` for their sources).

Where it sits: the data-in layer (imports nothing from bayesgmm); read by
:mod:`bayesgmm.io.tables` and the public ``load_galaxies`` and ``load_old_faithful``.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

__all__ = ["data_path", "load_galaxies", "load_old_faithful"]


def data_path(name: str) -> str:
    """Path of a bundled CSV file, e.g. ``data_path("old_faithful.csv")``."""
    return str(files("bayesgmm").joinpath("data", name))


def load_old_faithful() -> pd.DataFrame:
    """Old Faithful eruptions: 272 rows, columns ``eruptions`` and ``waiting`` (minutes).

    Returns
    -------
    DataFrame (272, 2)
    """
    return pd.read_csv(data_path("old_faithful.csv"))


def load_galaxies() -> pd.DataFrame:
    """Velocities (km/s) of 82 galaxies in the Corona Borealis region: column ``velocity``.

    R's ``MASS::galaxies`` as shipped, with its known typo: row 77 (R's 78th value) is 26690
    where the source has 26960. Analyses that correct it (mclust's, npmlreg's) give slightly
    different numbers; to compare with them, ``X.loc[77, "velocity"] = 26960`` first.

    Returns
    -------
    DataFrame (82, 1)
    """
    return pd.read_csv(data_path("galaxies.csv"))
