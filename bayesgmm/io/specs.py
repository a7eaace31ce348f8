"""Declarative model specifications (TOML): the data, the model, its priors, the sampler
settings, the diagnostic thresholds and the output, read and checked in one place.

Where it sits: the files layer; imports :mod:`bayesgmm.io.tables` (and its text format
checks from :mod:`bayesgmm.io.text_files` and :mod:`bayesgmm.io.file_bytes`),
:mod:`bayesgmm.io.spec_template` (re-exported:
what ``bayesgmm spec`` writes), :mod:`bayesgmm.priors`,
:mod:`bayesgmm.rounding` (its steps' parser),
:mod:`bayesgmm.settings` and the input checks (no PyMC); imported by the command line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import COVARIANCE_TYPES, check_seed, is_number
from ..paths import expand_home
from ..priors import Priors
from ..rounding import parse_steps
from ..settings import (
    NUTPIE_BACKENDS,
    SAMPLERS,
    DiagnosticThresholds,
    FigureFiles,
    SamplerSettings,
)
from .file_bytes import text_encoding
from .spec_template import spec_template, write_spec_template
from .tables import MISSING_POLICIES, _missing_policy
from .text_files import text_format, thousands_separator

__all__ = ["ModelSpec", "RunSpec", "load_spec", "spec_template", "write_spec_template"]


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "data": {"path": str, "columns": list, "dropna": bool, "missing": str, "weights": str,
             "labels": str, "index": str, "noise": bool, "noise_volume": (int, float),
             "dequantise": (str, dict, int, float), "sep": str, "decimal": str,
             "encoding": str, "thousands": str},
    "model": {"n_components": int, "covariance_type": str, "ordered_means": bool},
    "priors": {name: (int, float) for name in Priors().to_dict()},
    "sampler": {"name": str, "draws": (int, str), "tune": int, "chains": int, "seed": int,
                # ints too: "target_accept = 1" is then refused by its range, not its type
                "target_accept": (int, float), "retry_target_accept": (int, float, bool),
                "cores": int,
                "nutpie_backend": str,
                "max_draws": int, "max_time": (int, float), "metric": str},
    "diagnostics": {name: (int, float) for name in DiagnosticThresholds().to_dict()},
    "output": {"directory": str, "report": bool, "dpi": int, "vector_formats": (list, str)},
}


def _sampler_setting(name: str) -> property:
    """A read-only attribute of a :class:`RunSpec` that is its ``sampler_settings.<name>``."""
    return property(lambda spec: getattr(spec.sampler_settings, name),
                    doc=f"``sampler_settings.{name}``.")


@dataclass(frozen=True)
class RunSpec:
    """A validated run specification: a TOML file that ``bayesgmm run`` executes.

    :func:`spec_template` (``bayesgmm spec``) writes one with every key, annotated; the
    repository's ``models/`` holds examples. (Not to be confused with
    :class:`bayesgmm.model.MixtureModelSpec`, the structure of one PyMC mixture model.)

    Attributes
    ----------
    sampler_settings : SamplerSettings
        From the ``[sampler]`` table; ``sampler``, ``draws``, ``tune``, ``chains`` and
        ``target_accept`` are also readable as attributes of the spec.
    thresholds : DiagnosticThresholds
        From the ``[diagnostics]`` table (defaults when it is absent).
    missing : {"marginalise", "drop", "refuse"}
        ``[data] missing`` (``dropna = true`` is ``"drop"``); ``dropna`` says whether it is
        ``"drop"``.
    weights, labels : str or None
        ``[data] weights`` / ``labels``: the columns of frequency weights and of known labels
        (neither is a feature).
    index : str or None
        ``[data] index``: a column of row IDs (not a feature) that names the rows in the
        hints and the report; without it rows are numbered 0, 1, ... in file order, header
        excluded.
    noise : bool
        ``[data] noise``: add a uniform noise component.
    noise_volume : float or None
        ``[data] noise_volume``: the noise density's volume (default: the data's bounding box).
    figure_files : FigureFiles
        ``[output] dpi`` and ``vector_formats``: how the report's figures are written.
    dequantise : str, float, dict or None
        ``[data] dequantise``: ``"auto"``, one step, or a table of column = step; the
        features get uniform noise within half a step (:func:`bayesgmm.dequantise`), seeded
        by the run's seed. None: the values as read.
    sep, decimal, encoding, thousands : str or None
        ``[data] sep`` / ``decimal`` / ``encoding`` / ``thousands``: the text file's separator
        (``","``, ``";"``, ``"|"``, ``"tab"``), decimal mark (``"."``, ``","``), encoding (a
        codec's name) and thousands separator (``","``, ``"."``, ``"'"``, ``"space"``); None:
        as :func:`bayesgmm.io.read_data` defaults them.
    source : bytes
        The specification's file as read: a result records it (and its SHA-256) as it was
        when the run began.
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
    missing: str = "marginalise"
    weights: str | None = None
    labels: str | None = None
    noise: bool = False
    noise_volume: float | None = None
    index: str | None = None
    figure_files: FigureFiles = field(default_factory=FigureFiles)
    dequantise: str | float | dict[str, float] | None = None
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    source: bytes = field(default=b"", repr=False)
    thousands: str | None = None

    # Attributes of the spec before SamplerSettings held them: still readable there.
    sampler = _sampler_setting("sampler")
    draws = _sampler_setting("draws")
    tune = _sampler_setting("tune")
    chains = _sampler_setting("chains")
    target_accept = _sampler_setting("target_accept")


# The name it had before ``RunSpec``: "model spec" now means only the PyMC model's structure.
ModelSpec = RunSpec


def load_spec(path: str | Path) -> RunSpec:
    """Read and validate a TOML run specification (data, model, priors, sampler, output).

    Relative data and output paths are relative to the specification file's directory.
    Unknown sections or keys, wrong types and bad values raise ``ValueError`` naming them.
    """
    p = expand_home(path)  # ~nouser stays: a directory of that name
    if p.is_dir():  # "not found" misled (specs QA: `bayesgmm run out`)
        raise ValueError(_directory_given(p, path))
    if not p.is_file():
        raise ValueError(f"model specification not found: {path}")
    try:
        # utf-8-sig: a byte-order mark (Windows Notepad's default) is not TOML's business
        source = p.read_bytes()  # kept as read: what ran, whatever the file becomes (QA114)
        raw = tomllib.loads(source.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
                         "save the specification as UTF-8") from None
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
        raise ValueError(f"{p}: [model] covariance_type must be one of {COVARIANCE_TYPES}; "
                         f"got {cov!r}")
    sampler = smp.get("name", "nutpie")
    if sampler not in SAMPLERS:
        raise ValueError(f"{p}: [sampler] name must be one of {SAMPLERS}; got {sampler!r}")
    if smp.get("nutpie_backend", "auto") not in NUTPIE_BACKENDS:
        raise ValueError(f"{p}: [sampler] nutpie_backend must be one of {NUTPIE_BACKENDS}")
    retry = smp.get("retry_target_accept")
    if retry is True:
        raise ValueError(f"{p}: [sampler] retry_target_accept must be a number in (0, 1) or false")
    if retry is False:  # TOML has no None: false turns the retry off
        smp = {**smp, "retry_target_accept": None}
    _check_auto_only(smp, p)
    try:
        settings = SamplerSettings(
            sampler=sampler, **{k: smp[k] for k in ("draws", "tune", "chains", "target_accept",
                                                    "retry_target_accept", "cores",
                                                    "nutpie_backend", "max_draws",
                                                    "max_time", "metric") if k in smp})
        settings.check_runnable()  # what the sampler cannot run: refused before the data
    except ValueError as exc:
        raise ValueError(f"{p}: [sampler] {_spec_words(str(exc))}") from None
    try:
        thresholds = DiagnosticThresholds.from_dict(raw.get("diagnostics"))
    except ValueError as exc:
        raise ValueError(f"{p}: [diagnostics] {exc}") from None
    check_seed(smp.get("seed"), f"{p}: [sampler] seed")
    try:
        priors = Priors(**{k: float(v) for k, v in raw.get("priors", {}).items()})
    except ValueError as exc:
        raise ValueError(f"{p}: [priors] {exc}") from None
    missing, noise_volume = _spec_observations(data, p)
    try:
        text_format(data.get("sep"), data.get("decimal"))
        thousands_separator(data.get("thousands"), data.get("decimal"))
        text_encoding(data.get("encoding"))
    except ValueError as exc:
        raise ValueError(f"{p}: [data] {exc}") from None
    shaping = [key for key in ("dpi", "vector_formats") if key in out]
    if shaping and out.get("report", True) is False:  # as the flags are (QA92: ignored here)
        raise ValueError(f"{p}: [output] {' and '.join(shaping)} shape the report's figures, "
                         "and report = false writes no report: set report = true, or remove "
                         f"{'them' if len(shaping) > 1 else 'it'}")
    try:
        figure_files = FigureFiles(out.get("dpi", 100), out.get("vector_formats", ()))
    except ValueError as exc:
        raise ValueError(f"{p}: [output] {exc}") from None
    base = p.parent
    data_file = os.path.expanduser(data["path"])  # "~/x.csv": the home's, not base/~
    if not data_file.startswith("bundled:") and not Path(data_file).is_absolute():
        data_file = str((base / data_file).resolve())
    if Path(data_file).is_dir():  # at once, naming the key (read_data would name the path)
        raise ValueError(f"{p}: [data] path {data['path']!r} is a directory ({data_file}), not "
                         "a data file: give a CSV/TSV/Parquet file")
    output = out.get("directory")
    output = None if output is None else os.path.expanduser(output)
    if output is not None and not Path(output).is_absolute():
        output = str((base / output).resolve())
    return RunSpec(
        path=p, data_path=data_file, columns=data.get("columns"),
        dropna=missing == "drop", n_components=mdl["n_components"],
        covariance_type=cov, ordered_means=mdl.get("ordered_means", False), priors=priors,
        sampler_settings=settings, seed=smp.get("seed"), output=output,
        report=out.get("report", True), thresholds=thresholds, raw=raw, missing=missing,
        weights=data.get("weights"), labels=data.get("labels"), noise=data.get("noise", False),
        noise_volume=noise_volume, index=data.get("index"), figure_files=figure_files,
        dequantise=_spec_dequantise(data.get("dequantise"), p), sep=data.get("sep"),
        decimal=data.get("decimal"), encoding=data.get("encoding"), source=source,
        thousands=data.get("thousands"),
    )


def _directory_given(p: Path, path: str | Path) -> str:
    """What to say when the specification named is a directory: a saved result's (report
    it), or one holding specifications (name one)."""
    if (p / "manifest.json").is_file():
        return (f"{path} is a saved result, not a model specification: `bayesgmm report "
                f"{path}` writes its report; `bayesgmm run` takes a .toml file")
    specs = sorted(q.name for q in p.glob("*.toml"))
    if specs:
        shown = ", ".join(specs[:5]) + (f" and {len(specs) - 5} more" if len(specs) > 5 else "")
        return (f"{path} is a directory: give one of its model specifications ({shown}), "
                f"e.g. `bayesgmm run {p / specs[0]}`")
    return f"{path} is a directory, not a model specification: give a .toml file"


def _spec_words(message: str) -> str:
    """An API message about sampler settings in the spec's words: ``tune=1`` is ``tune = 1``,
    ``sampler='pymc'`` is ``name = "pymc"``, ``draws='auto'`` is ``draws = "auto"``."""
    def key(match: re.Match) -> str:
        name = "name" if match[1] == "sampler" else match[1]
        value = f'"{match[3]}"' if match[2] else match[3]
        return f"{name} = {value}"

    return re.sub(r"\b(draws|tune|chains|sampler|max_draws|metric|nutpie_backend)=('?)([\w.]+)\2",
                  key, message)


def _check_auto_only(smp: dict[str, Any], path: Path) -> None:
    """Options that only a draws = "auto" run uses are refused beside a fixed number of
    draws, and a retry target below the first one is refused: set, they would be silently
    ignored."""
    if smp.get("draws", "auto") != "auto":
        given = [k for k in ("max_draws", "max_time") if k in smp]
        if given:
            verb = "bound" if len(given) > 1 else "bounds"
            raise ValueError(f"{path}: [sampler] {' and '.join(given)} {verb} draws = \"auto\"; "
                             f"with draws = {smp['draws']} the run draws exactly that many: "
                             "give one of the two")
    retry, target = smp.get("retry_target_accept"), smp.get("target_accept", 0.8)
    if is_number(retry) and retry <= target:
        raise ValueError(f"{path}: [sampler] retry_target_accept ({retry:g}) must be above "
                         f"target_accept ({target:g}): a retry after a divergence takes smaller "
                         "steps; or set it to false for no retry")


def _spec_observations(data: dict[str, Any], path: Path) -> tuple[str, float | None]:
    """``[data]``'s missing-value policy and noise volume, checked."""
    if data.get("missing", "marginalise") not in MISSING_POLICIES:
        raise ValueError(f"{path}: [data] missing must be one of "
                         f"{', '.join(map(repr, MISSING_POLICIES))}; got {data['missing']!r}")
    try:
        missing = _missing_policy(data.get("missing"), data.get("dropna", False))
    except ValueError:
        raise ValueError(f"{path}: [data] dropna = true means missing = \"drop\"; it "
                         f"contradicts missing = {data['missing']!r}: keep one of them") from None
    for key in ("weights", "labels", "index"):
        if key in data and not data[key].strip():
            raise ValueError(f"{path}: [data] {key} must name a column of the data file")
        if key in data and data[key] in data.get("columns", []):
            raise ValueError(f"{path}: [data] {key} column {data[key]!r} is not a feature: "
                             "leave it out of columns")
    volume = data.get("noise_volume")
    if volume is not None:
        if not data.get("noise", False):
            raise ValueError(f"{path}: [data] noise_volume needs noise = true")
        if not (np.isfinite(volume) and volume > 0):
            raise ValueError(f"{path}: [data] noise_volume must be a finite number > 0; got "
                             f"{volume!r}")
        volume = float(volume)
    return missing, volume


def _spec_dequantise(value: Any, path: Path) -> str | float | dict[str, float] | None:
    """``[data] dequantise``: "auto", one step, or a table of column = step, checked (the
    columns against the data when they are read)."""
    if value is None:
        return None
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"{path}: [data] dequantise is an empty table: name the rounded "
                             "columns with their steps, e.g. {{ length = 0.5 }}, or give "
                             '"auto"')
        for column, step in value.items():
            if isinstance(step, bool) or not (isinstance(step, int | float)
                                              and 0 < step < float("inf")):
                raise ValueError(f"{path}: [data] dequantise: the step of column {column!r} "
                                 f"must be a finite number > 0 (e.g. 0.5); got {step!r}")
        return {str(k): float(v) for k, v in value.items()}
    try:
        return parse_steps(str(value), "[data] dequantise")
    except ValueError:
        raise ValueError(f'{path}: [data] dequantise must be "auto", a step (e.g. 0.5) or a '
                         f"table of column = step; got {value!r}") from None


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
            if isinstance(value, bool) and not (expected is bool or (
                    isinstance(expected, tuple) and bool in expected)):
                ok = False  # a bool is an int to isinstance: only where a bool is meant
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
        if section == "data" and values.get("columns") == []:
            raise ValueError(f"{path}: [data] columns is empty: name the feature columns, or "
                             "leave the key out to use every column")
