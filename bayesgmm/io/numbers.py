"""A column's text cells read as the numbers they write: with a decimal comma, or with a
thousands separator between digit groups (commas, points, spaces, apostrophes), never where
a cell could be read two ways.

Where it sits: the files layer, below :mod:`bayesgmm.io.columns` and
:mod:`bayesgmm.io.tables` (its users); imports no package module.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["as_numbers", "with_thousands", "written_with_thousands"]


def as_numbers(column: pd.Series, decimal: str = ".") -> pd.Series:
    """The column's cells as numbers (NaN where a cell is none), read with ``decimal`` as the
    decimal mark: with ",", a text cell holding a point is no number, as ``read_csv(...,
    decimal=",")`` left it text (QA115: pandas' own reading, with points, named the good cells
    "1,5" and never the bad one, "#NV")."""
    if decimal != ",":
        return pd.to_numeric(column, errors="coerce")

    def one(value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            return np.nan if "." in text else text.replace(",", ".")
        return value

    return pd.to_numeric(column.map(one), errors="coerce")


def with_thousands(column: pd.Series, thousands: str, decimal: str = ".") -> pd.Series:
    """A text column of numbers written with the thousands separator ``thousands`` ("4,304",
    "1.234,5") as numbers: float64 where every cell is a number so written or a plain one;
    where some are not, those left as text beside the others' numbers, for
    :func:`column_problem` to name the first (QA161 M1: the first good cell was named, and
    its separators called the problem); the column as it was where no cell has the
    separator between digit groups (names, say). A separator counts only between groups of
    three digits after a first group of one to three not starting with 0: "4,30" is not
    430 (pandas' own ``thousands=`` drops the separator wherever it stands), nor "0,125"
    125 (QA161 M2: a decimal comma, as no formatter writes a leading 0 group)."""
    if not written_with_thousands(column, thousands, decimal).any():
        return column
    sep, grouped = _grouping(thousands, decimal)
    point = re.escape(decimal)
    plain = re.compile(rf"[+-]?(\d+({point}\d*)?|{point}\d+)([eE][+-]?\d+)?")
    present = column.notna()

    def one(value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if grouped.fullmatch(text):
            text = re.sub(sep, "", text)
        elif not plain.fullmatch(text):
            return value  # not a number so written: left as written, to be named
        return float(text.replace(decimal, "."))

    numbers = column.map(one)
    if numbers[present].map(lambda v: isinstance(v, str)).any():
        return numbers
    return pd.to_numeric(numbers, errors="raise").astype(np.float64)


def written_with_thousands(column: pd.Series, thousands: str, decimal: str = ".") -> pd.Series:
    """Per cell: text that is a number written with the thousands separator ``thousands``
    between its digit groups, as :func:`with_thousands` reads it."""
    if column.dtype.kind != "O":
        return pd.Series(False, index=column.index)
    grouped = _grouping(thousands, decimal)[1]
    return column.map(lambda v: isinstance(v, str) and bool(grouped.fullmatch(v.strip())))


def _grouping(thousands: str, decimal: str) -> tuple[str, re.Pattern]:
    """The separator's pattern (spaces: the plain, non-breaking and narrow non-breaking one;
    the apostrophe: the typewriter's and the typographic one, as Swiss typesetting writes
    it) and the pattern of a number written with it."""
    sep = {" ": "[ \u00a0\u202f]", "'": "['\u2019]"}.get(thousands, re.escape(thousands))
    return sep, re.compile(rf"[+-]?[1-9]\d{{0,2}}({sep}\d{{3}})+({re.escape(decimal)}\d*)?")
