"""How numbers are printed, in the reports and on the console alike (standard library and NumPy).

One rule: by magnitude, to a few significant digits: ``20,830``, ``0.01235``,
``3.1 × 10⁻²⁶⁷``, never ``2.083e+04`` beside ``514.8``.

Where it sits: the vocabulary layer (imports nothing from bayesgmm); used by the report and
the command line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["NEGLIGIBLE", "duration_words", "format_count", "format_number", "interval_columns",
           "listed", "shown_as_str", "timing_parts"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


# A value below this fraction of its quantity's scale is rounding noise: printed as 0.
NEGLIGIBLE = 1e-10


def format_number(value: Any, digits: int = 4, scale: Any = None,
                  keep_zeros: bool = False, power: bool = False) -> str:
    """How the report prints a number: by its magnitude, to ``digits`` significant digits.

    Integers in full with thousands separators (``4,475,110``); other numbers in fixed
    notation with trailing zeros dropped (``20,830``, ``0.3521``, ``0.001235``); only very
    small or very large magnitudes as a power of ten (``3.122 × 10⁻²⁶⁷``). Booleans as yes/no,
    NaN as n/a. ``scale``: the size of the quantity the value belongs to (a column's largest
    value or sd): a value below :data:`NEGLIGIBLE` of it prints as 0 (the mean of a
    standardised column, zero up to rounding, printed "7.864 × 10⁻¹⁵"). ``keep_zeros``: keep
    the trailing zeros of fixed notation (``0.1440``): a column of point estimates printed to
    ``digits`` significant digits each, where "0.144" beside "0.2123" reads as less precise.
    ``power``: as a power of ten whatever the magnitude (a row whose other numbers are).
    """
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(x):
        return "n/a" if np.isnan(x) else ("∞" if x > 0 else "-∞")
    if x == 0 or (scale is not None and abs(x) < NEGLIGIBLE * abs(float(scale))):
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    if power or exponent < -4 or exponent >= 15:
        mantissa = f"{x / 10 ** exponent:.{digits - 1}f}"
        if abs(float(mantissa)) >= 10:  # rounding carried into the next power
            exponent += 1
            mantissa = f"{x / 10 ** exponent:.{digits - 1}f}"
        if not keep_zeros:  # QA88: "1.2 × 10⁻⁶" beside "3.384 × 10⁻⁷" in a kept-zeros table
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa} × {power_of_ten(exponent)}"
    decimals = max(0, digits - 1 - exponent)
    text = f"{x:,.{decimals}f}"
    if "." in text and not keep_zeros:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def needs_power(values: Any, scale: Any = None) -> bool:
    """Whether :func:`format_number` prints one of ``values`` as a power of ten (a row of
    them then reads best all so: "2.023 × 10⁻⁵" beside "0.0002028" read as two scales)."""
    x = np.abs(np.asarray(values, dtype=np.float64).ravel())
    floor = 0.0 if scale is None else NEGLIGIBLE * abs(float(scale))
    x = x[np.isfinite(x) & (x > 0) & (x >= floor)]
    exponent = np.floor(np.log10(x))
    return bool(np.any((exponent < -4) | (exponent >= 15)))


def power_of_ten(exponent: int) -> str:
    """10 to ``exponent`` as the report writes it: "10⁻⁶"."""
    return f"10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def format_apart(value: float, other: float, decimals: int = 1) -> tuple[str, str]:
    """Two numbers compared in one sentence, with thousands separators and ``decimals``
    decimals, or more until they print differently (at most 6 more): "-1,310.13, above the
    -1,310.14", not "-1,310.1, above the -1,310.1" (QA)."""
    for d in range(decimals, decimals + 7):
        a, b = f"{value:,.{d}f}", f"{other:,.{d}f}"
        if a != b:
            break
    return a, b


def format_count(value: Any) -> str:
    """A count that may be a sum of frequency weights: whole numbers in full with thousands
    separators (4,050,405, where ``:.6g`` printed "4.0504e+06" and lost the last digit), other
    values to six significant digits."""
    x = float(value)
    return format_number(int(x) if x.is_integer() else x, 6)


def interval_columns(interval: float) -> tuple[str, str]:
    """The names of an equal-tailed ``interval``'s bounds, as ArviZ's summary (and so
    ``summary()`` and ``estimates.csv``) names them: ``("eti94_lb", "eti94_ub")`` for 0.94
    (ArviZ truncates the percentage: 0.945 is ``eti94``). QA: ``compare_em`` called them
    ``lower``/``upper``, so a script joining its table to ``summary()`` matched no column."""
    percent = int(interval * 100)
    return f"eti{percent}_lb", f"eti{percent}_ub"


def listed(items: Iterable[Any]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``: items in a sentence (their ``str``).

    Parameters
    ----------
    items : iterable
        At least one item.

    Returns
    -------
    str
    """
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def per_chain(draws: int) -> str:
    """``"1 draw per chain"``, ``"1,355 draws per chain"`` (QA: "stopped at 1 draws")."""
    return f"{draws:,} draw{'' if draws == 1 else 's'} per chain"


# A fit's timing record (``result.settings["timing"]``) in words, in the order the steps ran.
_TIMING_WORDS = {"em_s": "EM", "start_s": "choosing the start", "compile_s": "compiling",
                 "sample_s": "sampling",
                 "postprocess_s": "relabelling and summaries", "total_s": "total"}


def duration_words(seconds: float) -> str:
    """A rough duration as a reader takes it in: "40 s", "3 min", "1.5 h" (one rule for the
    sampler's progress lines and its messages: QA119 L1, two rules said 100 s two ways)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def timing_parts(timing: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A fit's timing record as (step, seconds) in words, the steps in the order they ran
    ("EM", "0.6 s"), any other key by its name; a step not timed (NaN: PyMC's sampler
    compiles as it samples) left out. QA: the console printed the record's keys,
    "compile_s 0.1s, sample_s 1.2s"."""
    known = [k for k in _TIMING_WORDS if k in timing]
    keys = known + [k for k in timing if k not in _TIMING_WORDS]
    return [(_TIMING_WORDS.get(k, k.removesuffix("_s")), f"{float(timing[k]):,.1f} s")
            for k in keys if np.isfinite(float(timing[k]))]


def shown_as_str(obj: Any, printer: Any, cycle: bool) -> None:
    """IPython's ``_repr_pretty_`` for a result whose ``str()`` is its readable form: a
    notebook cell ending in it shows what ``print()`` shows (QA96: a verdict and a Methods
    paragraph showed as one line of 627 and 6,649 characters)."""
    printer.text(repr(obj) if cycle else str(obj))
