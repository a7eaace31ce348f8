"""One column of a data table judged: numeric or why not (with a hint: thousands separators,
row IDs, group names), a weights column, an index column of row IDs, a saved index or row
IDs among the features, and label cells that pandas read as missing.

Where it sits: the files layer, below :mod:`bayesgmm.io.tables` (its only user); imports
:mod:`bayesgmm._validation`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable

import numpy as np
import pandas as pd

from .._validation import check_sample_weight
from .._warn import IN_PACKAGE, warn
from .numbers import as_numbers, written_with_thousands

__all__ = ["column_problem", "index_hint", "is_saved_index", "labels_as_written", "labels_hint",
           "looks_like_row_ids", "number_format_problem", "read_weights",
           "read_row_ids", "reading_hint", "second_header_hint", "decimal_comma_cell"]


def is_saved_index(column: pd.Series, name: str) -> bool:
    """A leading unnamed column holding 0, 1, ..., N-1 (``DataFrame.to_csv``'s index unless
    told ``index=False``) or 1, ..., N (R's ``write.csv`` row names; QA: fitted)."""
    values = column.to_numpy()
    return (name.startswith("Unnamed: ") and values.dtype.kind in "iu" and len(values) > 0
            and values[0] in (0, 1) and np.array_equal(values, values[0] + np.arange(len(values))))


# Cells pandas reads as missing that can be a label's name.
_NAME_LIKE_MISSING = ("NA", "None")


def labels_as_written(parsed: pd.Series, written: pd.Series | None, path: str) -> pd.Series:
    """A labels column with its cells that pandas read as missing ("NA", "None", "null", ...)
    decided by the column's own convention for an unknown label, and said (QA: five rows
    labelled "NA", North America, became unknown in silence).

    In a column of names that marks its unknown rows with empty cells, such a cell is a
    name, kept as written. Where no cell is empty, "NA" is the column's unknown (R's
    ``write.csv`` writes a missing name so) and stays unknown. A column of numbers
    (component indices) with "NA" cells is R's too, and is read as before, in silence.
    ``written``: the cells as the file writes them (None: parsed values only, Parquet).
    """
    if written is None:
        return parsed
    text = written.astype(str).str.strip()
    # only the spellings a name can have (North America, a "None" group); "N/A", "null",
    # "#N/A" stay unknown, as marks of no value (review: "N/A" became a third group)
    read_missing = text.isin(_NAME_LIKE_MISSING).to_numpy() & parsed.isna().to_numpy()
    names = parsed.dropna()
    if not read_missing.any() or pd.to_numeric(names, errors="coerce").notna().all():
        return parsed
    spelled = ", ".join(repr(v) for v in sorted(set(text[read_missing])))
    count, column = int(read_missing.sum()), parsed.name
    if (text == "").any():
        warn(f"{count} cell(s) of the labels column {column!r} of {path} read "
             f"{spelled}: taken as label name(s), since the column marks its unknown "
             "rows with empty cells; leave those cells empty if they mean unknown",
             UserWarning, skip_file_prefixes=IN_PACKAGE)
        kept = parsed.astype(object).copy()
        kept[read_missing] = text[read_missing].to_numpy()
        return kept
    warn(f"{count} cell(s) of the labels column {column!r} of {path} read {spelled}: "
         "taken as unknown (the column has no empty cells, and R writes a missing "
         "name so); if it is a name (North America, sodium), rename it in the file "
         "and leave unknown rows empty", UserWarning, skip_file_prefixes=IN_PACKAGE)
    return parsed


def looks_like_row_ids(column: pd.Series) -> bool:
    """Whole numbers rising by exactly 1 from row to row (1000, 1001, ...): a patient or
    sample number, which a mixture would fit as an even spread (QA: fitted without a word)."""
    values = column.to_numpy()
    return (values.dtype.kind in "iu" and len(values) >= 10
            and bool(np.all(np.diff(values) == 1)))


def index_hint(frame: pd.DataFrame, non_numeric: dict[str, str]) -> str:
    """A hint when a refused text column looks like row IDs (one distinct value per row and
    mostly text: not numbers with a stray cell, nor numbers written with thousands separators,
    which have a hint of their own)."""
    ids = [c for c in non_numeric
           if frame[c].notna().all() and frame[c].nunique() == len(frame) > 1
           and not _thousands_separated(frame[c]).any()
           and decimal_comma_cell(frame[c].dropna()) is None  # numbers, written otherwise
           and pd.to_numeric(frame[c], errors="coerce").notna().mean() < 0.5]
    if not ids:
        return ""
    return (f"; if {ids[0]!r} names the rows, make it the index column (--index "
            f"{shlex.quote(str(ids[0]))}; index = \"{ids[0]}\" in a spec's [data])")


def reading_hint(problems: dict[str, str], sep: str | None, decimal: str | None,
                 frame: pd.DataFrame, thousands: str | None = None) -> str:
    """How to read a text file's numbers as written, when a column's problem is numbers
    written with decimal commas or thousands separators (``problems``: column -> why).
    Decimal commas where the file was read with decimal points; not where those columns
    write their other numbers with decimal points (QA158 L2: one "1,234" among 100,000
    values like 2.2687: read with --decimal ',' as advised, every other cell was refused).
    Numbers written with thousands separators get the option that reads them, where it
    reads some cells of every such column (any other cell it then refuses by name, never
    misreads); in a comma-separated file "4,304" is not offered as a
    decimal comma (QA160 M1: read so as advised, every income was 1,000 times too small);
    none where ``thousands`` was given."""
    if sep is None:
        return ""
    mark = decimal or "."
    grouped = [c for c, why in problems.items() if "thousands separator" in why]
    # a separator that reads some cells of each such column (the others it cannot read are
    # then refused by name, never misread)
    thousands = None if thousands else next(
        (t for t in (",", ".", " ", "'") if t != mark and grouped and all(
            written_with_thousands(frame[c], t, mark).any() for c in grouped)), None)
    words = {",": "','", ".": "'.'", " ": "space", "'": '"\'"'}
    hint = ("" if thousands is None else
            f"read the numbers as written with --thousands {words[thousands]} (a spec's "
            f"[data]: thousands = {json.dumps(thousands)})")
    commas = [c for c, why in problems.items() if "decimal comma" in why]
    if decimal == "," or not commas:
        return hint
    points = r"\s*[+\-]?\d*\.\d+([eE][+-]?\d+)?\s*"
    if all(frame[c].astype(str).str.fullmatch(points).any() for c in commas):
        return hint
    if sep == "," and any(frame[c].astype(str).str.strip().str.fullmatch(_US_THOUSANDS).any()
                          for c in commas):
        # quoted "4,304" in a comma-separated file, a US or UK export's, beside "4,30"
        # (QA161 H1: --decimal ',' as advised read 4.304): never offered as decimal commas
        return hint
    return (f"{hint}, or " if hint else "") + ("read the numbers as written with --decimal "
                                               "',' (a spec's [data]: decimal = \",\")")


def second_header_hint(frame: pd.DataFrame, non_numeric: dict[str, str],
                       decimal: str = ".") -> str:
    """A hint when every refused column's only text is its first row, the rest numbers: a
    second header line (units) under the names. QA106: told to check the separator and the
    decimal mark, or to leave the columns out."""
    if len(frame) < 2 or not non_numeric:
        return ""
    for c in non_numeric:
        column = frame[c].reset_index(drop=True)
        text = column.notna() & as_numbers(column, decimal).isna()
        if not text.iloc[0] or text.iloc[1:].any() \
                or re.fullmatch(_NUMBER_LIKE, str(column.iloc[0]).strip()):  # a number, however
            return ""                                                       # written: no units
    first = ", ".join(repr(str(frame[c].iloc[0])) for c in list(non_numeric)[:4])
    return (f"; its first row ({first}) looks like a second header line (units?): remove it, "
            "so that the header line alone names the columns")


def labels_hint(frame: pd.DataFrame, non_numeric: dict[str, str]) -> str:
    """A hint when a refused text column looks like group names (a few distinct text values,
    each on several rows): known labels are a column of their own, not a feature."""
    groups = [c for c in non_numeric
              if 1 < frame[c].nunique() <= min(20, len(frame) // 2)
              and pd.to_numeric(frame[c], errors="coerce").notna().mean() < 0.5]
    if not groups:
        return ""
    return (f"; if {groups[0]!r} holds known groups, give it as the labels column (--labels "
            f"{shlex.quote(str(groups[0]))}; labels = \"{groups[0]}\" in a spec's [data])")


def code_columns_hint(frame: pd.DataFrame, non_numeric: dict[str, str],
                      most: int = 10) -> str:
    """A question when a numeric column the refusal would keep holds only a few distinct
    whole numbers, each on several rows (group codes, a ground truth): QA158 L4, "leave the
    column(s) out (--columns fsc,ssc,cd4,cd8,truth)" fitted a label column of 5 codes as a
    feature. A count or a rating looks the same, so it is asked, not decided."""
    for c in frame.columns:
        if c in non_numeric:
            continue
        values = pd.to_numeric(frame[c], errors="coerce").dropna()
        distinct = values.unique()
        if (values.empty or not 1 < distinct.size <= most or len(values) < 5 * distinct.size
                or not np.all(distinct == np.round(distinct))):
            continue
        return (f"; {c!r} holds only {distinct.size} distinct whole numbers "
                f"({int(distinct.min())} to {int(distinct.max())}): if "
                "they code groups rather than measure something, leave it out too, or give it "
                f"as the labels column (--labels {shlex.quote(str(c))})")
    return ""


def read_weights(column: pd.Series, path: str, row: Callable[[int], str],
                 decimal: str = ".") -> np.ndarray:
    """A weights column as float64, or a ValueError naming the column, the value and its row."""
    name = column.name
    why = column_problem(column, row, decimal)
    if why:  # the fix too, where the reason names none (QA134 L2); a decimal comma's does
        fix = "" if "--" in why else (": give every row a number (0 leaves a row out), or name "
                                      "another column as the weights")
        raise ValueError(f"the weights column {name!r} of {path} is not numeric: it {why}{fix}")
    w = column.to_numpy(dtype=np.float64, na_value=np.nan)
    check_sample_weight(w, len(w), name=f"the weights column {name!r} of {path}", row=row)
    return w


def column_problem(column: pd.Series, row: Callable[[int], str] = "row {}".format,
                   decimal: str = ".", thousands: str | None = None) -> str | None:
    """Why a column read from a file is not usable as a numeric feature, or None.

    Integer and floating-point columns are numeric. pandas already parses numeric text as
    numbers, so a text column holds something that is not a number: name the first such value
    and its row (``row(position)``: by default ``row 3``, 0-based, not counting the header;
    with an index column the row's ID). Booleans (true/false columns) are refused
    as well: a Gaussian mixture over 0/1 flags is rarely what was meant, and converting them
    silently would hide that. ``decimal``: the file's decimal mark (:func:`as_numbers`);
    ``thousands``: the thousands separator it was read with (:func:`with_thousands`).
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
            at = int(flags.to_numpy().argmax())
            return f"has the boolean {column.iloc[at]!r} in {row(at)}"
    try:
        numeric = as_numbers(column, decimal)
    except (TypeError, ValueError):  # e.g. datetime columns from Parquet
        return f"has dtype {column.dtype}"
    bad = present & numeric.isna()
    if bad.any():
        at = int(bad.to_numpy().argmax())
        value = column.iloc[at]
        written = (_thousands_format(value, at, row, thousands, decimal) if thousands
                   else _number_format(column, bad, at, row, decimal))
        if written:
            return written
        # the other texts of a column of numbers with a few (not of a text column)
        stray = numeric.notna().sum() >= bad.sum()
        return f"has {value!r} in {row(at)}" + (_other_texts(column[bad], value) if stray
                                                 else "")
    if kind == "O" and present.any():  # a typed text column (Parquet) whose text is numbers
        at = int(present.to_numpy().argmax())
        return (f"holds numbers stored as text (dtype {column.dtype}), e.g. "
                f"{column.iloc[at]!r} in {row(at)}")
    return f"has dtype {column.dtype}"


def number_format_problem(column: pd.Series, row: Callable[[int], str] = "row {}".format,
                          decimal: str = ".", thousands: str | None = None) -> str | None:
    """Why a column of text is numbers written another way (decimal commas, thousands
    separators), as :func:`column_problem` says it; None when it is not (a text column, or
    numbers). A specification written for the file must not leave such a column out as
    text without a word (QA106: ``bayesgmm spec`` listed only the count column of a file
    of decimal commas, and ``run`` fitted it alone)."""
    if column.dtype.kind in "iufb":
        return None
    # a column mostly of numbers, however written (QA107: a survey's text column with one
    # answer "1,3" refused the whole file)
    cells = column.dropna().astype(str).str.strip()
    # missing-value codes and limits of detection ("n.d.", "<LOD", "<0,1") are no answers
    # (QA108: a column half "n.d." was left out as text again)
    cells = cells[~cells.str.lower().isin(_MISSING_CODES) & ~cells.str.startswith(("<", ">"))]
    if cells.empty or cells.str.fullmatch(_NUMBER_LIKE).mean() < 0.5:
        return None
    bad = column.notna() & as_numbers(column, decimal).isna()
    if not bad.any():
        return None
    at = int(bad.to_numpy().argmax())
    return (_thousands_format(column.iloc[at], at, row, thousands, decimal) if thousands
            else _number_format(column, bad, at, row, decimal))


def _thousands_format(value: object, at: int, row: Callable[[int], str], thousands: str,
                      decimal: str) -> str | None:
    """The words for a cell, number-like, that the thousands separator given cannot read
    (QA161 M1: "4,30" was called a decimal comma, "(1,234)" left unnamed), or None."""
    text = value.strip() if isinstance(value, str) else ""
    if not re.fullmatch(_NUMBER_LIKE, text):
        return None
    if "\u2212" in text:  # the minus, not the separator (QA166)
        return (f"has {value!r} in {row(at)}, written with a Unicode minus sign ('\u2212', "
                f"as some programs write it): write '-' ({text.replace(chr(0x2212), '-')})")
    tab = " (a tab is no thousands separator)" if "\t" in text else ""  # QA161 L3
    return (f"has {value!r} in {row(at)}, which the thousands separator {thousands!r} does "
            f"not read{tab}: it stands only between groups of three digits, after a first "
            f"group of one to three that does not start with 0 (12{thousands}345{decimal}6); "
            "write this cell so, or as a plain number")


# A number, however written: signs (a Unicode minus too), digits, separators (Swiss
# apostrophes too, QA161 L1: "1'234.5" was taken for a second header line), an exponent.
_NUMBER_LIKE = r"[+\-\u2212]?(?!['\u2019])[\d.,'\u2019\s\u00a0\u202f]*\d([eE][+-]?\d+)?"


def _number_format(column: pd.Series, bad: pd.Series, at: int,
                   row: Callable[[int], str], decimal: str = ".") -> str | None:
    """:func:`number_format_problem`'s words, given the cells that are not numbers (``bad``)
    and the first of them (``at``), read with ``decimal`` as the decimal mark."""
    if decimal == ",":
        return _comma_file_format(column, at, row)
    value = column.iloc[at]
    plain = value.strip().replace("\u2212", "-") if isinstance(value, str) else ""
    if "\u2212" in str(value) and pd.notna(pd.to_numeric(plain, errors="coerce")):  # QA106
        return (f"has {value!r} in {row(at)}, written with a Unicode minus sign ('\u2212', "
                f"as some instruments write it): write '-' ({plain})")
    if "\u2212" in str(value) and decimal_comma_cell(pd.Series([plain])) is not None:  # QA108
        return (f"has {value!r} in {row(at)}, written with a Unicode minus sign ('\u2212') "
                f"and a decimal comma: write '-' and '.' ({plain.replace(',', '.')})")
    if "\u2212" in str(value) and _thousands_separated(pd.Series([plain])).iloc[0]:  # QA166
        return (f"has {value!r} in {row(at)}, written with a Unicode minus sign ('\u2212') "
                "and thousands separators: write '-' and remove them ("
                f"{re.sub(r'[,\'\u2019\s\u00a0\u202f]', '', plain)})")
    comma = decimal_comma_cell(column[bad])
    if comma is not None:  # QA62: "3,5" got no word of decimal commas
        return (f"has {comma!r} in {row(int(np.flatnonzero(column == comma)[0]))}, a "
                "number written with a decimal comma: write '.' as the decimal mark ("
                f"{comma.strip().replace(',', '.')})")
    if _thousands_separated(column).iloc[at]:
        plain = re.sub(r"[,'\u2019\s\u00a0\u202f]", "", value.strip()).replace("\u2212", "-")
        if re.match(r"^[+-]?\d{1,3},\d{3}$", value.strip()):
            # QA62: "8,252" (8.252 g) was called thousands, and the advice scaled it 1000x
            return (f"has {value!r} in {row(at)}: {plain} with a thousands separator, or "
                    f"{value.strip().replace(',', '.')} with a decimal comma; write it "
                    "without the comma, with '.' as the decimal mark")
        return (f"has {value!r} in {row(at)}, a number written with thousands "
                f"separators: remove them (write {plain})")
    return None


# Numbers of a file of decimal commas written otherwise: with '.' or space thousands
# separators ("2.939,250", "2 939,250"), and with a decimal point ("8.5").
_COMMA_THOUSANDS = r"^[+-]?\d{1,3}([. \u00a0\u202f'\u2019]\d{3})+(,\d*)?$"
_POINT_DECIMAL = r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$"


def _comma_file_format(column: pd.Series, at: int, row: Callable[[int], str]) -> str | None:
    """The words for a cell of a file read with decimal commas that is a number written
    otherwise (QA115: "2.939,250" left a column out of a spec as text; "8.5" and "1.5" were
    "numbers stored as text"; a decimal comma was asked to be a point), or None."""
    value = column.iloc[at]
    text = value.strip() if isinstance(value, str) else ""
    plain = re.sub(r"[. \u00a0\u202f'\u2019]", "", text)
    if re.match(_COMMA_THOUSANDS, text) and re.match(_POINT_DECIMAL, text):  # "1.234"
        return (f"has {value!r} in {row(at)}: {plain} with a thousands separator, or "
                f"{text} with a decimal point, where --decimal ',' reads commas; write it "
                "without the separator, or, if the file writes points, leave --decimal out")
    if re.match(_COMMA_THOUSANDS, text):
        return (f"has {value!r} in {row(at)}, a number written with thousands separators: "
                f"remove them (write {plain})")
    if re.match(_POINT_DECIMAL, text):
        return (f"has {value!r} in {row(at)}, a number written with a decimal point, where "
                f"--decimal ',' reads commas: write {text.replace('.', ',')}, or, if the file "
                "writes points, leave --decimal out")
    return None


def decimal_comma_cell(cells: pd.Series) -> str | None:
    """The first cell that can only be a number with a decimal comma ("3,5", "1234,56"; not
    "1,234", which may be either), or None."""
    for value in cells:
        text = str(value).strip()
        # "0,777" is no thousands (QA106: offered as 0777 with a thousands separator)
        if re.match(r"^[+-]?\d+,\d+([eE][+-]?\d+)?$", text) and (
                not re.match(_THOUSANDS, text) or re.match(r"^[+-]?0,", text)):
            return str(value)  # an exponent too: "7,77E-01" (QA106)
    return None


# Texts in a column of numbers that commonly mark a missing value.
_MISSING_CODES = {"?", "-", "--", ".", "..", "*", "n.a.", "n.d.", "nd", "missing", "#n/a",
                  "#na", "#value!", "#div/0!", "na", "n/a", "nan", "null", "none",
                  # German Excel's #NV and lab codes (QA115)
                  "#nv", "n.b.", "k.a.", "#wert!"}


def _other_texts(cells: pd.Series, first: object) -> str:
    """The other texts in a column's non-numbers, a few (QA62: '?', '-' and '.' came one per
    rerun), and, when they look like missing-value codes, that an empty cell is read as
    missing."""
    written = list(dict.fromkeys(str(v) for v in cells))  # "NA  ": its spaces shown
    texts = [t.strip() for t in written]
    others = [t for t in written if t != str(first)]
    listed = (f" (and {', '.join(map(repr, others[:5]))}"
              + (f" and {len(others) - 5} more" if len(others) > 5 else "") + ")"
              if others else "")
    codes = all(t.lower() in _MISSING_CODES for t in texts)
    spaced = any(t != t.strip() and t.strip().lower() in ("na", "nan", "null", "none")
                 for t in written)
    return listed + ("; if these mark missing values, leave those cells empty (an empty cell "
                     # pandas' own markers too (QA160 L5: n/a, #N/A, null read so, unsaid)
                     "or NA (also NaN, n/a, #N/A, null) is read as missing"
                     + (", without spaces after it" if spaced else "")
                     + ")" if codes else "")


# A number with comma thousands separators: 1,125 or -12,345,678.9
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
# ... as a US or UK spreadsheet writes them (no leading 0 group)
_US_THOUSANDS = r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?"
# ... or with spaces (thin, non-breaking: "1 540.5", QA106: advised to make it the row IDs)
# or apostrophes (Swiss: "1'540.5", "1’540.5")
_SPACED_THOUSANDS = r"^[+-]?\d{1,3}([ \u00a0\u202f'\u2019]\d{3})+(\.\d*)?$"


def _thousands_separated(column: pd.Series) -> pd.Series:
    """Per cell: text that is a number written with comma or space thousands separators."""
    if column.dtype.kind != "O":
        return pd.Series(False, index=column.index)
    return column.map(lambda v: isinstance(v, str) and bool(
        re.match(_THOUSANDS, v.strip()) or re.match(_SPACED_THOUSANDS, v.strip())))


def read_row_ids(column: pd.Series, path: str) -> pd.Index:
    """An index column as the rows' names: every row one, each its own (named when not)."""
    name, column = column.name, column.reset_index(drop=True)  # rows by position
    empty = column.isna().to_numpy().copy()
    if column.dtype.kind == "O":
        empty |= column.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
        # "NA" among numbers is R's missing ID, not an ID named "NA" (QA138 L2: two NAs were
        # one ID named twice, one NA the ID "NA"); among names it may be one (North America)
        text = column.map(lambda v: str(v).strip() if isinstance(v, str) else "")
        na = (text == "NA").to_numpy()
        rest = ~na & ~empty
        if na.any() and rest.any() and pd.to_numeric(column[rest], errors="coerce").notna().all():
            empty |= na
    if empty.any():
        raise ValueError(f"the index column {name!r} of {path} has {int(empty.sum())} empty "
                         f"or missing (NA) cell(s) (first: row {int(np.flatnonzero(empty)[0])}; "
                         "rows count from 0, header excluded): every row needs its own ID")
    repeated = column[column.duplicated(keep=False)]
    if len(repeated):
        groups = repeated.groupby(repeated, sort=False).groups
        shown = "; ".join(f"{value!r} ({_some_rows(rows)})"
                          for value, rows in list(groups.items())[:5])
        more = f"; and {len(groups) - 5} more" if len(groups) > 5 else ""
        raise ValueError(f"the index column {name!r} of {path} names {len(groups)} ID(s) more "
                         f"than once: {shown}{more} (rows count from 0, header excluded): "
                         "every row needs its own ID")
    return pd.Index(column.to_numpy(), name=name)


def _some_rows(rows: pd.Index, shown: int = 3) -> str:
    """"rows 4, 9, 12" or, for many, "rows 4, 9, 12 and 497 more": one ID on every row
    listed each of them (QA: a 1,500-character line)."""
    rest = f" and {len(rows) - shown:,} more" if len(rows) > shown else ""
    return f"rows {', '.join(map(str, rows[:shown]))}{rest}"
