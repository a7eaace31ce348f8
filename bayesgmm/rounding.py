"""Undoing the rounding of measured values: uniform noise within half a recording step.

A measurement recorded to a step (lengths to 0.5 mm, waiting times to whole minutes) puts the
rows on a grid, and where several rows share a value a component's variance can shrink onto
them: the mixture's likelihood grows without bound there (QA89: one chain collapsed a
component onto the 13 rows at beak 12.5 mm, sd 2e-5, and the run failed its checks). Adding
uniform noise on (-step/2, +step/2) to each value (dequantisation) gives every value a place
inside the interval it was rounded from; a continuous mixture describes these data, and the
fit is that of one draw of the unrounded values. The verdict's advice names this cure where a
component collapses onto a rounded column; :func:`dequantise` applies it, seeded, and leaves
its record on the DataFrame it returns (``attrs``), which a fit keeps in its record of the
observations (:func:`recorded`) so that the report and the command line say so.

Where it sits: the data-in layer, beside :mod:`bayesgmm._validation` (which checks the data);
NumPy and pandas.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._scalars import check_random_state, draw_seed, is_int
from ._validation import check_data, whole_numbers

__all__ = ["ATTRS_KEY", "dequantise", "parse_steps", "recorded", "rounding_step",
           "rounding_steps"]

# A column needs more distinct values than this to be called rounded (fewer are a code or a
# rating: the advice names those as such).
MIN_ROUNDED_VALUES = 10
# Where a dequantised DataFrame keeps its record ({"steps": {column: step}, "random_state":
# seed}), which fits read (:func:`recorded`).
ATTRS_KEY = "bayesgmm.dequantised"
# Values this close, relative to their column's magnitude, are one value: float arithmetic's
# noise (16 units in the last place), not a recording step.
_FLOAT_NOISE = 16 * np.finfo(np.float64).eps
# A grid's step is this many times that noise at least: with a tolerance of a quarter of the
# step a gap is "a multiple" by chance one time in four, and ~300 gaps of a continuous column
# far from zero (1e12: float spacing 1e-4) were a grid of 0.0143.
_GRID_OVER_NOISE = 8


def rounding_step(values: np.ndarray) -> float | None:
    """The step a column's observed values were rounded to: the largest step of which every
    gap between its distinct values is a whole multiple (the smallest gap, or a tenth of it
    at most: sparse values rarely sit one step apart), where the column has more than
    :data:`MIN_ROUNDED_VALUES` distinct values and some of them are shared by several rows
    (without ties, rounding does no harm); None otherwise. NaN is ignored, and values that
    agree to float arithmetic's noise (:data:`_FLOAT_NOISE` of the column's magnitude) are
    one value (QA94: ``5.3 - 2.1`` and ``4.2 - 1.0`` differ by 4e-16, taken for the step)."""
    column = np.asarray(values, dtype=np.float64)
    column = column[np.isfinite(column)]
    distinct = _distinct(column)
    if distinct.size <= MIN_ROUNDED_VALUES or distinct.size == column.size:
        return None
    gaps, scale = np.diff(distinct), float(np.max(np.abs(distinct)))
    smallest = float(gaps.min())
    for parts in range(1, 11):
        # the shortest decimal first: 0.1, not 0.0999999999999659, nor at 1e12 the
        # 0.09997558594 that float spacing makes of a 0.1 gap there (QA94)
        for step in dict.fromkeys(float(f"{smallest / parts:.{digits}g}")
                                  for digits in range(1, 11)):
            # a thousand gaps first: most candidates fail there, cheaply
            if _gaps_on_grid(gaps[:1000], step, scale) and _gaps_on_grid(gaps, step, scale):
                return step
    return None


def _distinct(column: np.ndarray) -> np.ndarray:
    """The distinct finite values of ``column``, those within :data:`_FLOAT_NOISE` of its
    magnitude merged (float arithmetic's noise is no value of its own)."""
    distinct = np.unique(column[np.isfinite(column)])
    if distinct.size < 2:
        return distinct
    apart = np.diff(distinct) > _FLOAT_NOISE * float(np.max(np.abs(distinct)))
    return distinct[np.r_[True, apart]]  # the first of each run of near-equal values


def _on_grid(values: np.ndarray, step: float, distinct: np.ndarray | None = None) -> bool:
    """Whether a column's observed values lie on a grid of ``step``: every gap between its
    distinct values (:func:`_distinct`) a whole multiple of it, to 1e-6 of a step and
    :data:`_FLOAT_NOISE` of the column's magnitude (no tolerance relative to the multiple:
    QA94, ``np.allclose``'s let float noise pass for a grid)."""
    distinct = _distinct(np.asarray(values, dtype=np.float64)) if distinct is None else distinct
    if distinct.size < 2:
        return True
    return _gaps_on_grid(np.diff(distinct), step, float(np.max(np.abs(distinct))))


def _gaps_on_grid(gaps: np.ndarray, step: float, scale: float) -> bool:
    """Whether every gap is a whole multiple of ``step``, as :func:`_on_grid` says, for a
    column of magnitude ``scale``."""
    if step <= _GRID_OVER_NOISE * _FLOAT_NOISE * scale:
        return False
    return bool(np.all(np.abs(gaps - np.round(gaps / step) * step) <= 1e-6 * step
                       + _FLOAT_NOISE * scale))


def rounding_steps(X: Any, feature_names: Any = None) -> dict[str, float]:
    """The columns of ``X`` that look rounded, with their steps (:func:`rounding_step`).

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
        NaN marks a missing value.
    feature_names : sequence of str, optional
        One per column (default: a DataFrame's column names, else x0, x1, ...).

    Returns
    -------
    dict of str to float
        Column name to step, in column order; empty when no column looks rounded.

    Notes
    -----
    The step found is the coarsest decimal grid the values lie on (0.001, 0.5, 10), not a
    recording unit that is no decimal: Old Faithful's eruption times were timed in seconds
    (1/60 min) and written to three decimals, so the step found is 0.001, and dequantising
    spreads its tied values (eight rows at 1.867) over 0.001 rather than over a second
    (0.0167), and a step of 1/60 is refused, as the written values do not lie on its grid:
    such ties are separated by less than the unit they were recorded in, which may leave a
    component close to them nearly collapsed (QA165 L3).
    """
    Xv, names = check_data(X, feature_names=feature_names, allow_nan=True)
    steps = {name: rounding_step(Xv[:, j]) for j, name in enumerate(names)}
    return {name: step for name, step in steps.items() if step is not None}


def dequantise(X: Any, steps: str | float | Mapping[Any, float] = "auto", *,
               random_state: Any = 0) -> Any:
    """``X`` with uniform noise on (-step/2, +step/2) added to each value of its rounded
    columns, so that tied values no longer let a component collapse onto them.

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
        NaN (missing) stays NaN. Not changed: the result is a copy.
    steps : "auto", float or mapping of column to float, default "auto"
        ``"auto"``: the columns :func:`rounding_steps` finds, each with its own step; a
        float: every column, with that step; a mapping: the columns named (DataFrame names,
        or positions for an array) with their steps.
    random_state : int, numpy.random.Generator or SeedSequence, default 0
        Seeds the noise: the same data and seed give the same copy (None: a seed is drawn
        and recorded). A fit's conclusions should not hang on one copy; refit with another
        seed to see that they do not.

    Returns
    -------
    DataFrame, Series or ndarray
        A DataFrame (or Series) with ``X``'s index and names for one, else a float64 array
        of ``X``'s shape. A DataFrame or Series keeps what was done in ``attrs[ATTRS_KEY]``
        (the steps, the seed when it is an integer, and a digest of each column's values),
        which a fit records and its report states while those values are unchanged
        (:func:`recorded`).

    Raises
    ------
    ValueError
        A step that is not a finite number > 0, a column named that ``X`` does not have, a
        column whose values do not lie on a grid of its step (it was recorded to another), or
        ``"auto"`` on data with no rounded column (nothing to undo: fit ``X`` as it is).
    """
    Xv, names = check_data(X, allow_nan=True)
    chosen = _chosen_steps(Xv, names, steps)
    _check_on_grid(Xv, names, chosen)
    if random_state is None:  # drawn, and recorded: the copy can be made again
        random_state = draw_seed()
    rng = np.random.default_rng(check_random_state(random_state))
    out = Xv.copy()
    for j, step in chosen.items():
        out[:, j] += rng.uniform(-step / 2, step / 2, out.shape[0])
    if not isinstance(X, pd.DataFrame | pd.Series):
        return out.reshape(np.shape(X)) if np.ndim(X) == 1 else out
    if isinstance(X, pd.Series):
        result = pd.Series(out[:, 0], index=X.index, name=X.name)
    else:
        result = X.copy()
        result[list(X.columns)] = out
    result.attrs[ATTRS_KEY] = {
        "steps": {names[j]: step for j, step in chosen.items()},
        "random_state": int(random_state) if is_int(random_state, 0) else None,
        "digests": {names[j]: _digest(out[:, j]) for j in chosen},
    }
    return result


def _digest(column: np.ndarray) -> str:
    """A column's values, fingerprinted: its record holds only while they are unchanged."""
    return hashlib.sha256(np.ascontiguousarray(column, dtype=np.float64).tobytes()).hexdigest()


def parse_steps(text: str, option: str = "--dequantise") -> str | float | dict[str, float]:
    """A command line's steps: ``auto``, one number (every column), or ``COLUMN=STEP`` pairs
    separated by commas (``beak=0.5,depth=0.5``), as :func:`dequantise` takes them; a
    ValueError naming ``option`` otherwise."""
    text = text.strip()
    if text == "auto":
        return "auto"
    if "=" not in text:
        try:
            return _check_step(text, "every column")
        except ValueError:
            raise ValueError(f"{option} takes auto, a step (e.g. 0.5) or COLUMN=STEP pairs "
                             f"(e.g. length=0.5,width=0.1); got {text!r}") from None
    steps = {}
    # a comma ends a pair only after its step: a column's name may hold commas (QA94:
    # "mass, g=1" was split into "mass" and " g=1")
    for pair in re.findall(r"[^=]*=[^,]*(?:,|$)", text):
        column, _, step = pair.rstrip(",").rpartition("=")
        if not column.strip():
            raise ValueError(f"{option}: {pair!r} names no column; give COLUMN=STEP pairs "
                             "(e.g. length=0.5,width=0.1)")
        try:
            steps[column.strip()] = _check_step(step.strip(), column.strip())
        except ValueError as exc:
            raise ValueError(f"{option}: {exc}") from None
    return steps


def _chosen_steps(Xv: np.ndarray, names: tuple[str, ...], steps: Any) -> dict[int, float]:
    """Column position to step, from ``steps`` as :func:`dequantise` takes it."""
    if isinstance(steps, str):
        if steps != "auto":
            raise ValueError(f"steps must be 'auto', a number or a mapping of column to "
                             f"number; got {steps!r}")
        found = {j: rounding_step(Xv[:, j]) for j in range(Xv.shape[1])}
        chosen = {j: step for j, step in found.items() if step is not None}
        if not chosen:
            raise ValueError("no column looks rounded (more than "
                             f"{MIN_ROUNDED_VALUES} distinct values on a grid, some shared): "
                             "nothing to undo; fit the data as they are, or name the columns "
                             "and their steps, e.g. steps={'length': 0.5}")
        return chosen
    if isinstance(steps, Mapping):
        if not steps:
            raise ValueError("steps names no column: name the rounded columns with their "
                             "steps, e.g. {'length': 0.5}, or give 'auto'")
        chosen = {}
        for column, step in steps.items():
            if str(column) in names:
                j = names.index(str(column))
            elif isinstance(column, int | np.integer) and 0 <= column < len(names):
                j = int(column)
            else:
                raise ValueError(f"no column {column!r} to dequantise in the data; its "
                                 f"columns: {list(names)}")
            chosen[j] = _check_step(step, names[j])
        return chosen
    return {j: _check_step(steps, name) for j, name in enumerate(names)}


def _check_on_grid(Xv: np.ndarray, names: tuple[str, ...], chosen: dict[int, float]) -> None:
    """Refuse a step a column was not recorded to: noise of half that step would move its
    values out of the intervals they were rounded from (QA92: eruptions, recorded to 0.001,
    moved by up to 0.25 with a step of 0.5 for every column)."""
    for j, step in chosen.items():
        if not _on_grid(Xv[:, j], step):
            own = rounding_step(Xv[:, j])  # no guess where none is found (QA94: step / 10)
            raise ValueError(f"column {names[j]!r} is not recorded to {step:g} (its values do "
                             "not lie on a grid of that step"
                             + (f"; they lie on one of {own:g}): give each column its own "
                                f"step, e.g. {{{names[j]!r}: {own:g}}}, or leave it out"
                                if own is not None else
                                ", nor on any grid with tied values): leave it out"))


def _check_step(step: Any, name: str) -> float:
    try:
        value = float(step)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(step, bool) or not (0 < value < float("inf")):
        raise ValueError(f"the step of column {name!r} must be a finite number > 0 (the unit "
                         f"its values were recorded to, e.g. 0.5); got {step!r}")
    return value


def weights_against_jitter(weights: Any) -> str | None:
    """Why row weights and dequantised values do not go together, or None where they do
    (no weights, or each 0 or 1): a row of weight w stands for w tied values, which one
    jitter per row cannot tell apart (QA134 M2: "dequantised", 44 of 82 values still tied),
    and a weight that is no whole number is no count of values to spread (QA141 L2). One
    rule for the command line and the API (QA165 M1: the API took them)."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if np.all((w == 0) | (w == 1)):
        return None
    if not whole_numbers(w).all():
        return "a row's weight is no count of tied values to spread"  # where not whole
    return ("a row of weight w stands for w tied values, which one jitter per row cannot tell "
            "apart")


def carries_jitter(X: Any) -> bool:
    """``X`` (a DataFrame or Series) holds a column :func:`dequantise` jittered, whatever was
    done to its rows since (a subset, a new order: the record's digests then no longer match,
    and :func:`recorded` says nothing, but the values are still jittered; QA166 M2)."""
    record = X.attrs.get(ATTRS_KEY) if isinstance(X, pd.DataFrame | pd.Series) else None
    if not isinstance(record, dict) or not record.get("steps"):
        return False
    columns = [X.name] if isinstance(X, pd.Series) else list(X.columns)
    return any(str(c) in {str(n) for n in record["steps"]} for c in columns)


def recorded(X: Any) -> dict[str, Any] | None:
    """What :func:`dequantise` did to a DataFrame or Series ``X`` (its ``attrs`` record: the
    steps by column and the seed), for a fit's record of its observations: the columns of
    ``X`` whose values are still those it left (a subset of the rows, a rescaled or a rounded
    column is another data set, said no more); None when none is."""
    record = X.attrs.get(ATTRS_KEY) if isinstance(X, pd.DataFrame | pd.Series) else None
    if not isinstance(record, dict) or not record.get("steps"):
        return None
    # pandas hands attrs on through subsets, arithmetic, renames and rounding (QA94: a fit of
    # an untouched column, or of the values rounded back, "dequantised"): only the columns
    # there, with the values dequantise left, are said
    frame = X.to_frame() if isinstance(X, pd.Series) else X
    digests = record.get("digests") or {}
    steps = {str(name): float(step) for name, step in record["steps"].items()
             if name in frame.columns and digests.get(name) == _digest(
                 pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64,
                                                                        na_value=np.nan))}
    return {"steps": steps, "random_state": record.get("random_state")} if steps else None
