"""Reading data files and declarative model specifications (TOML)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._validation import COVARIANCE_TYPES, check_data, check_seed
from .datasets import data_path
from .priors import Priors
from .settings import NUTPIE_BACKENDS, SAMPLERS, DiagnosticThresholds, SamplerSettings

__all__ = ["ModelSpec", "RunSpec", "load_spec", "read_table"]

BUNDLED = {"old_faithful": "old_faithful.csv", "galaxies": "galaxies.csv"}


def read_table(path: str | Path, columns: list[str] | None = None, *,
               dropna: bool = False) -> tuple[pd.DataFrame, int]:
    """Read a CSV (or Parquet) file into a numeric DataFrame.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt`` or ``.parquet``/``.pq``; ``bundled:NAME`` for a shipped data set
        (``old_faithful``, ``galaxies``).
    columns : list of str, optional
        Columns to keep (default: all).
    dropna : bool
        Drop rows with missing values (otherwise they are an error).

    Returns
    -------
    (DataFrame, number of rows dropped)

    Raises
    ------
    ValueError
        Missing file, unreadable file, unknown column, non-numeric column (named, with an
        example value and its row), boolean column, missing values, and anything
        :func:`bayesgmm._validation.check_data` refuses (infinite values, values too large
        for float64 arithmetic, no rows), so bad data fails before any fitting starts.
    """
    path = _resolve_bundled(str(path))
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data file not found: {path}")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            frame = pd.read_csv(p)
    except ImportError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    except Exception as exc:  # pandas raises many parser errors; name the file, keep it short
        raise ValueError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    if columns:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ValueError(
                f"unknown column(s) {unknown} in {path}; available: {list(frame.columns)}"
            )
        frame = frame[list(columns)]
    if len(frame) == 0:
        raise ValueError(f"{path} has no data rows")
    problems = {c: _column_problem(frame[c]) for c in frame.columns}
    non_numeric = {c: why for c, why in problems.items() if why}
    if non_numeric:
        raise ValueError(
            f"column(s) {list(non_numeric)} in {path} are not numeric: "
            + "; ".join(f"{c!r} {why}" for c, why in non_numeric.items())
            + ". Nothing is converted implicitly: fix the file or select other columns"
        )
    frame = frame.astype(np.float64)
    missing = frame.isna().any(axis=1)
    if missing.any() and not dropna:
        raise ValueError(
            f"{int(missing.sum())} row(s) of {path} have missing values (first: row "
            f"{int(np.flatnonzero(missing)[0])}); use --dropna to drop them"
        )
    if missing.all():
        raise ValueError(f"every row of {path} has missing values; nothing is left to fit")
    frame = frame.loc[~missing].reset_index(drop=True)
    dropped = int(missing.sum())
    try:  # everything else the fit would refuse (infinite or huge values, no rows), now
        check_data(frame, name=str(path))
    except ValueError as exc:
        after = (f" (row numbers count the rows left after dropping {dropped} with missing "
                 "values)") if dropped else ""
        raise ValueError(f"{exc}{after}") from None
    return frame, dropped


def _column_problem(column: pd.Series) -> str | None:
    """Why a column read from a file is not usable as a numeric feature, or None.

    Integer and floating-point columns are numeric. pandas already parses numeric text as
    numbers, so a text column holds something that is not a number: name the first such value
    and its row (0-based, not counting the header). Booleans (true/false columns) are refused
    as well: a Gaussian mixture over 0/1 flags is rarely what was meant, and converting them
    silently would hide that.
    """
    kind = column.dtype.kind
    if kind in "iuf":
        return None
    if kind == "b":
        return "is boolean (true/false values)"
    present = column.notna()
    if kind == "O":  # object columns from Parquet or mixed CSV columns may hold booleans
        flags = present & column.map(lambda v: isinstance(v, bool | np.bool_))
        if flags.any():
            row = flags.idxmax()
            return f"has the boolean {column[row]!r} in row {row}"
    try:
        numeric = pd.to_numeric(column, errors="coerce")
    except (TypeError, ValueError):  # e.g. datetime columns from Parquet
        return f"has dtype {column.dtype}"
    bad = present & numeric.isna()
    if bad.any():
        row = bad.idxmax()
        return f"has {column[row]!r} in row {row}"
    if kind == "O" and present.any():  # a typed text column (Parquet) whose text is numbers
        row = present.idxmax()
        return (f"holds numbers stored as text (dtype {column.dtype}), e.g. {column[row]!r} in "
                f"row {row}")
    return f"has dtype {column.dtype}"


def _resolve_bundled(path: str) -> str:
    if path.startswith("bundled:"):
        name = path.split(":", 1)[1]
        if name not in BUNDLED:
            raise ValueError(f"unknown bundled data set {name!r}; choose from {list(BUNDLED)}")
        return data_path(BUNDLED[name])
    return path


# --------------------------------------------------------------------------------------------
# model specifications
# --------------------------------------------------------------------------------------------
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "data": {"path": str, "columns": list, "dropna": bool},
    "model": {"n_components": int, "covariance_type": str, "ordered_means": bool},
    "priors": {name: (int, float) for name in Priors().to_dict()},
    "sampler": {"name": str, "draws": (int, str), "tune": int, "chains": int, "seed": int,
                "target_accept": float, "cores": int, "nutpie_backend": str,
                "max_draws": int, "max_time": (int, float)},
    "diagnostics": {name: (int, float) for name in DiagnosticThresholds().to_dict()},
    "output": {"directory": str, "report": bool},
}


@dataclass(frozen=True)
class RunSpec:
    """A validated run specification: a TOML file that ``bayesgmm run`` executes.

    See ``models/README.md`` for the format. (Not to be confused with
    :class:`bayesgmm.model.MixtureModelSpec`, the structure of one PyMC mixture model.)

    Attributes
    ----------
    sampler_settings : SamplerSettings
        From the ``[sampler]`` table; ``sampler``, ``draws``, ``tune``, ``chains`` and
        ``target_accept`` are also readable as attributes of the spec.
    thresholds : DiagnosticThresholds
        From the ``[diagnostics]`` table (defaults when it is absent).
    """

    path: Path
    data_path: str
    columns: list[str] | None
    dropna: bool
    n_components: int
    covariance_type: str
    ordered_means: bool
    priors: Priors
    sampler_settings: SamplerSettings
    seed: int | None
    output: str | None
    report: bool
    thresholds: DiagnosticThresholds = field(default_factory=DiagnosticThresholds)
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def sampler(self) -> str:
        return self.sampler_settings.sampler

    @property
    def draws(self) -> int:
        return self.sampler_settings.draws

    @property
    def tune(self) -> int:
        return self.sampler_settings.tune

    @property
    def chains(self) -> int:
        return self.sampler_settings.chains

    @property
    def target_accept(self) -> float:
        return self.sampler_settings.target_accept


# The name it had before ``RunSpec``: "model spec" now means only the PyMC model's structure.
ModelSpec = RunSpec


def load_spec(path: str | Path) -> RunSpec:
    """Read and validate a TOML run specification (data, model, priors, sampler, output).

    Relative data and output paths are relative to the specification file's directory.
    Unknown sections or keys, wrong types and bad values raise ``ValueError`` naming them.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"model specification not found: {path}")
    try:
        raw = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None
    _check_schema(raw, p)
    data, mdl = raw.get("data", {}), raw.get("model", {})
    smp, out = raw.get("sampler", {}), raw.get("output", {})
    if "path" not in data:
        raise ValueError(f"{p}: [data] needs 'path'")
    if "n_components" not in mdl:
        raise ValueError(f"{p}: [model] needs 'n_components'")
    if mdl["n_components"] < 1:
        raise ValueError(f"{p}: [model] n_components must be >= 1")
    cov = mdl.get("covariance_type", "full")
    if cov not in COVARIANCE_TYPES:
        raise ValueError(f"{p}: [model] covariance_type must be one of {COVARIANCE_TYPES}")
    sampler = smp.get("name", "nutpie")
    if sampler not in SAMPLERS:
        raise ValueError(f"{p}: [sampler] name must be one of {SAMPLERS}")
    if smp.get("nutpie_backend", "auto") not in NUTPIE_BACKENDS:
        raise ValueError(f"{p}: [sampler] nutpie_backend must be one of {NUTPIE_BACKENDS}")
    try:
        settings = SamplerSettings(
            sampler=sampler, **{k: smp[k] for k in ("draws", "tune", "chains", "target_accept",
                                                    "cores", "nutpie_backend", "max_draws",
                                                    "max_time") if k in smp})
    except ValueError as exc:
        raise ValueError(f"{p}: [sampler] {exc}") from None
    try:
        thresholds = DiagnosticThresholds.from_dict(raw.get("diagnostics"))
    except ValueError as exc:
        raise ValueError(f"{p}: [diagnostics] {exc}") from None
    check_seed(smp.get("seed"), f"{p}: [sampler] seed")
    try:
        priors = Priors(**{k: float(v) for k, v in raw.get("priors", {}).items()})
    except ValueError as exc:
        raise ValueError(f"{p}: [priors] {exc}") from None
    base = p.parent
    data_file = data["path"]
    if not data_file.startswith("bundled:") and not Path(data_file).is_absolute():
        data_file = str((base / data_file).resolve())
    output = out.get("directory")
    if output is not None and not Path(output).is_absolute():
        output = str((base / output).resolve())
    return RunSpec(
        path=p, data_path=data_file, columns=data.get("columns"),
        dropna=data.get("dropna", False), n_components=mdl["n_components"],
        covariance_type=cov, ordered_means=mdl.get("ordered_means", False), priors=priors,
        sampler_settings=settings, seed=smp.get("seed"), output=output,
        report=out.get("report", True), thresholds=thresholds, raw=raw,
    )


def _check_schema(raw: dict[str, Any], path: Path) -> None:
    unknown = sorted(set(raw) - set(_SCHEMA))
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {unknown}; allowed: {sorted(_SCHEMA)}")
    for section, values in raw.items():
        if not isinstance(values, dict):
            raise ValueError(f"{path}: [{section}] must be a table")
        allowed = _SCHEMA[section]
        bad = sorted(set(values) - set(allowed))
        if bad:
            raise ValueError(
                f"{path}: unknown key(s) {bad} in [{section}]; allowed: {sorted(allowed)}"
            )
        for key, value in values.items():
            expected = allowed[key]
            if isinstance(value, bool) and expected is not bool:
                ok = False
            else:
                ok = isinstance(value, expected)
            if not ok:
                names = expected.__name__ if isinstance(expected, type) else \
                    " or ".join(t.__name__ for t in expected)
                raise ValueError(
                    f"{path}: [{section}] {key} must be {names}; got {value!r}"
                )
        if section == "data" and "columns" in values and \
                not all(isinstance(c, str) for c in values["columns"]):
            raise ValueError(f"{path}: [data] columns must be a list of strings")
