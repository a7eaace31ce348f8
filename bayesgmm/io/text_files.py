"""A delimited text file (CSV, TSV) read as it was written: a header line that names the columns,
the separator the file uses, rows as wide as the header, and messages that name file lines;
and a list of column names as ``--columns`` reads them; the separator and decimal mark a user
names.

Where it sits: the files layer, below :mod:`bayesgmm.io.tables` and :mod:`bayesgmm.io.specs`
(its users); imports :mod:`bayesgmm.io.file_bytes`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._warn import recorded
from .file_bytes import COMPRESSED, refuse_binary

__all__ = ["DECIMAL_MARKS", "SEPARATORS", "THOUSANDS_SEPARATORS", "cells_as_written",
           "check_header", "check_separator", "columns_option", "file_line", "read_text_table",
           "separator", "text_format", "thousands_separator"]

# The separators a user may name (--sep, a spec's [data] sep), by character and by word (a
# tab is hard to type in a shell or a TOML file), and the decimal marks.
SEPARATORS = {",": ",", ";": ";", "\t": "\t", "|": "|", "comma": ",", "semicolon": ";",
              "tab": "\t", "\\t": "\t", "pipe": "|"}
DECIMAL_MARKS = (".", ",")
# The thousands separators a user may name (--thousands, a spec's [data] thousands): "4,304"
# as US and UK spreadsheets export it, "1.234,5" and "1 234,5" where the decimal mark is the
# comma, "1'234.5" in Switzerland
THOUSANDS_SEPARATORS = {",": ",", ".": ".", "'": "'", " ": " ", "space": " ", "comma": ",",
                        "point": ".", "apostrophe": "'"}


def text_format(sep: str | None, decimal: str | None) -> tuple[str | None, str]:
    """A text file's separator and decimal mark as a user names them (``sep``: None for the
    one the file's name implies, a character or ``"tab"``; ``decimal``: None or ``"."`` for
    the point, ``","`` for the comma), checked: QA106, an Excel export of a German locale
    (semicolons, decimal commas) could only be refused, with advice Excel cannot follow."""
    if sep is not None and sep not in SEPARATORS:
        raise ValueError(f"unknown separator {sep!r}: give one of ',', ';', '|' or tab (the "
                         "word 'tab', or '\\t')")
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise ValueError(f"unknown decimal mark {decimal!r}: give '.' or ','")
    return (None if sep is None else SEPARATORS[sep]), decimal or "."


def thousands_separator(thousands: str | None, decimal: str | None) -> str | None:
    """The thousands separator a user named (None: the numbers have none), checked against
    the decimal mark (``decimal``: None for the point): QA160 M1, "4,304" in a comma-separated
    file could only be refused, or read as 4.304 with --decimal ','."""
    if thousands is None:
        return None
    if thousands not in THOUSANDS_SEPARATORS:
        raise ValueError(f"unknown thousands separator {thousands!r}: give ',', '.', \"'\" "
                         "or 'space'")
    mark = THOUSANDS_SEPARATORS[thousands]
    if mark == (decimal or "."):
        # both ways of naming them: a spec's refusal spoke in flags (QA161 L2)
        raise ValueError(f"the thousands separator {mark!r} is the decimal mark too: '.' "
                         "thousands go with the decimal comma (1.234,5: --decimal ',' "
                         "--thousands '.'; a spec's [data]: decimal = \",\", thousands = "
                         "\".\"), ',' thousands with the point (1,234.5: --thousands ',')")
    return mark


def read_as_written(rows: str) -> str:
    """The options that read a semicolon-separated file as it is written, with decimal
    commas where its ``rows`` (some lines of it) show any."""
    comma = re.search(r"\d,\d", rows) is not None
    return ("--sep ';'" + (" --decimal ','" if comma else "")
            + " (a spec's [data]: sep = \";\"" + (", decimal = \",\"" if comma else "") + ")")


def separator(p: Path, sep: str | None = None) -> str:
    """The separator ``sep`` a user named, else the one a file's name implies: tabs for .tsv
    and .tab (compressed too: ``x.tsv.gz``; QA: told to "name it .tsv"), else commas."""
    if sep is not None:
        return sep
    suffix = Path(p.stem).suffix if p.suffix.lower() in COMPRESSED else p.suffix
    return "\t" if suffix.lower() in (".tsv", ".tab") else ","


def check_header(p: Path, sep: str, path: Any, named: list[str]) -> None:
    """The first line must name the columns, each once. pandas takes it as the header
    whatever it holds: a file without one would lose its first data row to the column names,
    and a name given twice would silently become 'a' and 'a.1'. A line of numbers is a header
    when the caller names some of them as columns (wavelengths, years); otherwise refused.
    A file that is no text table at all (a workbook, say) is refused first, named."""
    import csv

    refuse_binary(p, path)

    # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which hid "sep=" and "#"
    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f, delimiter=sep)
        first = next(reader, [])
        # the first line below it that is no comment (a header under comment lines)
        after = next((row for row in reader if not (row and row[0].startswith("#"))), [])
    names = [n.strip() for n in first]
    _refuse_preamble(names, after, sep, path)
    # a data row: numbers, perhaps with missing cells (empty, NA, inf), at least one number
    looks_like_data = (all(_is_number(n) or _is_missing_cell(n) for n in names)
                       and any(_is_number(n) for n in names))
    if names and looks_like_data and not set(named) & set(names):
        more = ", ..." if len(names) > 3 else ""
        example = ",".join(f"x{i + 1}" for i in range(min(len(names), 3))) + more.strip(" ")
        raise ValueError(f"the first line of {path} is numbers ({', '.join(names[:3])}{more}), "
                         "not column names: it would be read as the header and its row lost; "
                         f"add a header line naming the columns (e.g. {example}); if those "
                         "numbers are the names, name the columns you want (columns=, "
                         "--columns)")
    # unnamed columns are not named twice: Excel's trailing empty columns ("x,y,,"; QA:
    # refused as "[''] named more than once", even with --columns x,y)
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise ValueError(f"the header of {path} names column(s) {repeated} more than once: "
                         "give every column its own name")


def _refuse_preamble(first: list[str], second: list[str], sep: str, path: Any) -> None:
    """Lines above the header: Excel's separator hint ("sep=,") and comment lines ("# units:
    mm", read.table's comment.char) would be taken as the column names, and the file then
    refused for a reason it does not have (QA: "line 3 has 2 values but the lines before it
    have 1"). A header whose first name starts with '#' ("#id,x,y") and spans the data's
    columns, with numbers below it, is a header."""
    joined = sep.join(first)
    if re.fullmatch(r"sep=.?", joined.strip(), flags=re.IGNORECASE):
        raise ValueError(f"the first line of {path} is Excel's separator hint ({joined!r}), "
                         "not column names: remove that line, so that the first line names "
                         "the columns")
    # a header names columns; below it, numbers (QA review: a one-column file's comment has
    # as many fields as its header, "# units mm" above "x")
    header_like = second and not all(_is_number(v.strip()) or _is_missing_cell(v.strip())
                                     for v in second)
    if first and first[0].startswith("#") and (len(first) != len(second) or header_like):
        raise ValueError(f"the first line of {path} starts with '#' ({joined[:40]!r}): "
                         "comment lines are not read; remove the lines above the header, so "
                         "that the first line names the columns")


def read_text_table(p: Path, sep: str, path: Any, text_columns: Any = (),
                    decimal: str = ".") -> pd.DataFrame:
    """A CSV/TSV file as pandas reads it, with three guards.

    - ``index_col=False``: pandas takes a first column as the row index when the data rows
      have one field more than the header, so a file whose rows end in a separator
      ("1,2,") had every value shifted one column left, silently. Trailing empty fields are
      now dropped; a row with a real extra value is refused, naming its line.
    - ``skipinitialspace``: "x, y" and " NA" read as "x", "y" and a missing value.
    - A row with more fields than the header (pandas' "Error tokenizing data") is one line
      naming the file line and the fix.
    - A row with fewer fields than the header is refused, naming its line: pandas fills the
      last columns with missing values, but a value left out in the middle ("1,3" for
      "1,,3") has moved the rest one column left, which no later check can tell.

    ``text_columns``: columns read as text, as written (row IDs: "007" stays "007", where
    pandas' number would give 7 and break a join on the IDs, downstream QA). ``decimal``:
    the decimal mark of the file's numbers.
    """

    text = {str(c).strip() for c in text_columns if c}
    if _blank(p):  # QA: pandas' "No columns to parse from file", the file unnamed
        raise ValueError(f"{path} is empty: give a file whose first line names the columns "
                         "and each further line holds one row of values")
    with recorded() as caught:
        try:
            frame = pd.read_csv(p, sep=sep, index_col=False, skipinitialspace=True,
                                decimal=decimal)
        except pd.errors.ParserError as exc:
            _check_header_separator(p, sep, path)  # a ';' file's decimal commas split rows
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if not found:
                raise
            expected, record, saw = found.groups()
            line = _record_line(p, sep, int(record))
            raise ValueError(f"line {line} of {path} has {saw} values but the lines before it "
                             f"have {expected}: give every row one value per column (an empty "
                             "cell for a missing value)") from None
    row_names = False
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        _check_header_separator(p, sep, path)
        row_names = _r_row_names(p, sep)
        if row_names:  # R's write.table: its first field unnamed, as write.csv's "" column
            frame = pd.read_csv(p, sep=sep, index_col=0, skipinitialspace=True,
                                decimal=decimal).rename_axis(None).reset_index(
                                    names=R_ROW_NAMES)
        else:
            _refuse_ragged_rows(p, sep, path)
    if sep != ";":
        _refuse_semicolon_rows(p, path)
    if sep == "," and decimal == ".":
        _refuse_split_names(p, path)
    frame.columns = [str(c).strip() for c in frame.columns]
    # a header ending in a separator ("x,y,") names a last column pandas calls "Unnamed: 2";
    # empty, it is the separator's, not a column of the file's
    while frame.shape[1] > 1 and frame.columns[-1].startswith("Unnamed: ") \
            and frame.iloc[:, -1].isna().all():
        frame = frame.iloc[:, :-1]
    if frame.shape[1] > 1 and frame.iloc[:, -1].isna().any():  # where a short row shows
        _refuse_ragged_rows(p, sep, path, frame.shape[1])
    raw = cells_as_written(p, sep, text, len(frame), row_names=row_names)
    for column in raw.columns:
        frame[column] = raw[column]
    return frame


# What a first column without a header cell is called (pandas' name for write.csv's "")
R_ROW_NAMES = "Unnamed: 0"


def _r_row_names(p: Path, sep: str) -> bool:
    """Whether every data row has one field more than the header, its first and last fields
    filled: R's ``write.table`` with its defaults, whose header has no cell for the row names
    (``?read.table``: "the first column in the input is used for the row names"; QA138 H1:
    refused, the y value named as "extra", and the advice to remove it). A trailing separator
    ("1,2,") leaves the last field empty, and numbers written with decimal commas under a
    comma-separated header ("0,777") split in two: neither is this."""
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        rows = csv.reader(f, delimiter=sep)
        header = len(next(rows, []))
        seen = halves = 0
        names: set[str] = set()
        for fields in rows:
            if not any(v.strip() for v in fields):
                continue
            if len(fields) != header + 1 or not fields[0].strip() or not fields[-1].strip():
                return False
            name = fields[0].strip()
            if name in names or _is_number(name) and not re.fullmatch(r"[+-]?\d+", name):
                return False  # a row name is its own and no fraction (QA141 M2: a header
                # that lost a name over rows of three decimals read as row names)
            names.add(name)
            seen += 1
            halves += sep == "," and _comma_halves(fields, header)
    return seen > halves


def cells_as_written(p: Path, sep: str, columns: Any, n_rows: int, row_names: bool = False
                     ) -> pd.DataFrame:
    """The named columns' cells as the file writes them: text, with no cell read as missing
    (an empty cell is ""). pandas reads "NA", "None", "nan" or "null" as missing, which hid
    row IDs and label names so spelled (QA: the label "NA", North America, became unknown;
    the IDs "NA" and "None" were called empty). An empty frame when there are no such
    columns, or where the file's rows did not come out as ``n_rows``."""
    wanted = {str(c).strip() for c in columns if c}
    if not wanted:
        return pd.DataFrame()
    if row_names:  # R's write.table layout (:func:`_r_row_names`): the first field unnamed
        raw = pd.read_csv(p, sep=sep, index_col=0, skipinitialspace=True, dtype=str,
                          keep_default_na=False).rename_axis(None).reset_index(
                              names=R_ROW_NAMES)
        raw = raw[[c for c in raw.columns if str(c).strip() in wanted]]
    else:
        raw = pd.read_csv(p, sep=sep, index_col=False, skipinitialspace=True, dtype=str,
                          keep_default_na=False, usecols=lambda c: str(c).strip() in wanted)
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw if len(raw) == n_rows else pd.DataFrame()


def _blank(p: Path, head: int = 1 << 16) -> bool:
    """Whether the file ``p`` holds nothing but white space (its first ``head`` bytes, all of
    it: a large file is not read whole to say so)."""
    with p.open("rb") as stream:
        start = stream.read(head)
        return not start.strip() and not stream.read(1)


def _check_header_separator(p: Path, sep: str, path: Any) -> None:
    """The header line read as one field holding semicolons or tabs: the file's separator is
    not ``sep`` (see :func:`check_separator`)."""
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        first = next(csv.reader(f, delimiter=sep), [])
        rows = [line.rstrip("\r\n") for _, line in zip(range(20), f, strict=False)]
    if len(first) == 1:  # the rows, whole, as the one column (their decimal commas shown)
        check_separator(pd.DataFrame({first[0]: rows}), path, sep)


def _refuse_semicolon_rows(p: Path, path: Any, lines: int = 20) -> None:
    """A file whose header and first rows all hold the same number (>= 1) of semicolons was
    written with semicolons between values, whatever else splits it. QA106: a ';' file of
    decimal commas whose names held commas ("Größe, µm;Temp, °C") split on commas into as
    many fields on every line, and was fitted on the numbers' integer parts and decimals."""
    with open(p, encoding="utf-8-sig", errors="replace") as f:
        head = [re.sub(r'"[^"]*"', "", line)  # a quoted ';' is text (QA107)
                for _, line in zip(range(lines + 1), f, strict=False) if line.strip()]
    marks = head[0].count(";") if head else 0
    if marks and len(head) > 1 and all(line.count(";") == marks for line in head[1:]):
        raise ValueError(
            f"{path} looks semicolon-separated (its header {head[0].strip()!r} and every row "
            f"have {marks} ';'): read it as written with {read_as_written(''.join(head[1:]))}")


def _refuse_split_names(p: Path, path: Any, lines: int = 20) -> None:
    """A header of names and units ("Größe, µm": after each other comma a space and a unit)
    over rows of as many fields, each pair whole digits then digits ("0,777"): one column per
    pair, of numbers written with decimal commas, each split in two. QA107: read as two
    columns, the numbers' integer parts and decimals, and fitted. A header such as "x, y"
    over whole numbers is left as it is: its second names are no units."""
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        rows = [r for _, r in zip(range(lines + 1), csv.reader(f), strict=False) if r]
    if len(rows) < 2 or len(rows[0]) % 2 or not all(
            name.startswith(" ") and _is_unit(name) for name in rows[0][1::2]):
        return
    if all(_comma_halves(r, len(r) // 2) and len(r) == len(rows[0]) for r in rows[1:]):
        names = [f"{a.strip()},{b}" for a, b in zip(rows[0][::2], rows[0][1::2], strict=True)]
        raise ValueError(f"{path} looks like {len(names)} column(s) named {names} (a comma in "
                         f"each name) of numbers written with decimal commas "
                         f"({','.join(rows[1][:2])!r}): save it as CSV with '.' as the "
                         "decimal mark, and quote a name that holds a comma")


# Units written after a name and a comma ("mass, g"); or any with a sign such as µ, ° or %.
_UNITS = {"mm", "cm", "m", "km", "nm", "g", "kg", "mg", "s", "ms", "min", "h", "ml", "l",
          "mol", "mmol", "k", "pa", "kpa", "hz", "v", "mv", "w", "j", "ppm", "ppb"}


def _is_unit(name: str) -> bool:
    unit = name.strip()
    return (unit.lower() in _UNITS or any(c in unit for c in "µμ°%‰/")
            or (0 < len(unit) <= 6 and not unit.isascii()))


def _refuse_ragged_rows(p: Path, sep: str, path: Any, width: int | None = None) -> None:
    """A data row with more values than the header names columns (pandas would drop the
    extra values; empty extra fields, a trailing separator, pass) or, given ``width``, with
    fewer than the ``width`` columns (pandas would fill its last columns with missing values;
    blank lines pass): refused, naming the line where the row starts (a quoted field may span
    lines, so rows and lines are counted apart)."""
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        rows = csv.reader(f, delimiter=sep)
        header = len(next(rows, []))
        line = rows.line_num + 1
        for fields in rows:
            extra = [v for v in fields[header:] if v.strip()]
            if extra and sep == "," and _comma_halves(fields, header):
                raise ValueError(  # QA106: "name every column" for "0,777" under one name
                    f"line {line} of {path} has {len(fields)} values where the header names "
                    f"{header}: its numbers look written with decimal commas "
                    f"({','.join(fields[:2])!r}); write '.' as the decimal mark")
            if extra:
                raise ValueError(f"line {line} of {path} has {len(fields)} values but the "
                                 f"header names {header} columns (extra: {extra[0]!r}): name "
                                 "every column in the header line, or remove the extra values")
            if width is not None and len(fields) < width and any(v.strip() for v in fields):
                raise ValueError(
                    f"line {line} of {path} has {len(fields)} value(s) but the header "
                    f"names {width} columns, so its values may sit in the wrong columns: give "
                    "every row one value per column, with an empty cell for a missing value "
                    f"(e.g. {sep.join(['1', '', '3'][:width] + [''] * (width - 3))!r})")
            line = rows.line_num + 1


def _comma_halves(fields: list[str], header: int) -> bool:
    """Whether a row's ``fields`` are its ``header`` numbers each split at a decimal comma:
    twice as many, each pair whole digits then digits ("0", "777")."""
    return len(fields) == 2 * header and all(
        re.fullmatch(r"[+-]?\d+", a.strip()) and re.fullmatch(r"\d+", b.strip())
        for a, b in zip(fields[::2], fields[1::2], strict=True))


def _record_line(p: Path, sep: str, record: int) -> int:
    """The file line where CSV record ``record`` (from 1, the header's; pandas' parser errors
    count records) starts: a quoted field may span lines."""
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f, delimiter=sep)
        line = 1
        for _ in range(record - 1):
            if next(reader, None) is None:
                break
            line = reader.line_num + 1
    return line


def file_line(p: Path, sep: str, position: int) -> int | None:
    """The file line (from 1, the header's) of data row ``position`` (from 0): pandas skips
    blank lines, so row numbers and line numbers part where a file has them. Read only when a
    message names a row."""
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f, delimiter=sep)
        next(reader, None)
        seen = -1
        for fields in reader:
            if any(v.strip() for v in fields):
                seen += 1
                if seen == position:
                    return reader.line_num
    return None


def _is_number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


# Cells pandas reads as missing (its default na_values, the common ones), and infinities.
_MISSING_CELLS = {"", "na", "nan", "n/a", "null", "none", "<na>", "-nan", "inf", "-inf",
                  "+inf", "infinity", "-infinity"}


def _is_missing_cell(text: str) -> bool:
    return text.lower() in _MISSING_CELLS


def check_separator(frame: pd.DataFrame, path: Any, sep: str = ",") -> None:
    """A file read as one column whose header holds semicolons or tabs was written with
    another separator: say so, instead of calling the whole rows text."""
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    for mark, name in ((";", "semicolon"), ("\t", "tab"), (",", "comma")):
        if mark in header:
            # a name with a comma, of a CSV's (or a TSV's) one column, unless the rows split
            # on commas as the header does (review: "mass, g" over one column of numbers)
            rows = frame.iloc[:20, 0].dropna().astype(str)
            if mark == "," and (sep != "\t" or rows.empty or not all(
                    v.count(",") == header.count(",") for v in rows)):
                continue
            tsv = str(path).lower().endswith((".tsv", ".tab", ".tsv.gz", ".tab.gz"))
            if mark == ",":  # a .tsv of commas (QA: "unknown column(s) ['x', 'y']")
                raise ValueError(f"{path} looks comma-separated (its header is {header!r}), "
                                 + ("but its name says tabs: name it .csv" if tsv else
                                    "not tab-separated: leave --sep out (or give --sep ',')"))
            how = (read_as_written(" ".join(frame.iloc[:20, 0].dropna().astype(str)))
                   if mark == ";" else "--sep tab (a spec's [data]: sep = \"tab\")"
                   + ("" if tsv else ", or name it .tsv"))
            raise ValueError(f"{path} looks {name}-separated (its header is {header!r}): read "
                             f"it as written with {how}")


def columns_option(names: list[str]) -> str:
    """``names`` as ``--columns`` reads them: comma-separated, a name with a comma or a quote
    in CSV quotes."""
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(names)
    return out.getvalue()
