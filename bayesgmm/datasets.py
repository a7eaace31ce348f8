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
    """Old Faithful eruptions: 272 rows, columns ``eruptions`` and ``waiting`` (minutes)."""
    return pd.read_csv(data_path("old_faithful.csv"))


def load_galaxies() -> pd.DataFrame:
    """Velocities (km/s) of 82 galaxies in the Corona Borealis region: column ``velocity``."""
    return pd.read_csv(data_path("galaxies.csv"))
