"""Reading data files (CSV, TSV, Parquet, the bundled data sets) into checked feature
columns, with their weights and labels columns and the missing-value policy.

Where it sits: the files layer; imports the input checks and :mod:`bayesgmm.io`'s
``sources``, ``columns``, ``numbers``, ``file_bytes`` and ``text_files``; imported by
:mod:`bayesgmm.io.specs` and the command line.
"""

from __future__ import annotations

import shlex
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_data, check_weight_total
from .._warn import IN_PACKAGE, warn
from .columns import (
    code_columns_hint,
    column_problem,
    index_hint,
    is_saved_index,
    labels_as_written,
    labels_hint,
    looks_like_row_ids,
    number_format_problem,
    read_row_ids,
    read_weights,
    reading_hint,
    second_header_hint,
)
from .file_bytes import COMPRESSED, plain_copy, text_encoding
from .numbers import with_thousands
from .sources import BUNDLED, STDIN, file_sha256, local_path
from .text_files import (
    cells_as_written,
    check_header,
    check_separator,
    columns_option,
    file_line,
    read_text_table,
    separator,
    text_format,
    thousands_separator,
)

__all__ = ["BUNDLED", "MISSING_POLICIES", "STDIN", "DataTable", "file_sha256", "read_data",
           "read_table"]

# Missing values (bayesgmm.observations' names): integrate out, drop the rows, or refuse.
MISSING_POLICIES = ("marginalise", "drop", "refuse")


@dataclass(frozen=True)
class DataTable:
    """A data file read for fitting: the features, and the columns that describe the rows.

    Attributes
    ----------
    features : DataFrame (N, D), float64
        The feature columns; NaN marks a missing value (only with ``missing="marginalise"``).
    sample_weight : ndarray (N,) or None
        The weights column (finite, non-negative, not all zero), or None without one.
    labels : Series (N,) or None
        The labels column as read (names or numbers; empty cells are NaN), or None; turn it
        into component indices with :func:`bayesgmm.observations.encode_labels`.
    missing : str
        The policy the file was read with.
    n_dropped : int
        Rows dropped because a feature was missing (``missing="drop"`` only).
    weights_column, labels_column : str or None
        The names of those columns in the file.
    index_column : str or None
        The column whose values name the rows (``features.index``, also the index of
        ``labels``), or None: the rows are then numbered 0, 1, ... in file order, the header
        line excluded (after ``missing="drop"``, among the rows kept).
    sha256 : str or None
        SHA-256 of the file's bytes as read (the record's fingerprint of the data: hashed
        when read, not when a result is saved, by which time the file may have changed).
    """

    features: pd.DataFrame
    sample_weight: np.ndarray | None = None
    labels: pd.Series | None = None
    missing: str = "marginalise"
    n_dropped: int = 0
    weights_column: str | None = None
    labels_column: str | None = None
    index_column: str | None = None
    sha256: str | None = None

    @property
    def n_missing_values(self) -> int:
        """Missing feature values (cells) in ``features``."""
        return int(self.features.isna().to_numpy().sum())

    @property
    def n_rows_with_missing(self) -> int:
        return int(self.features.isna().any(axis=1).sum())


def read_table(path: str | Path, columns: list[str] | None = None, *,
               dropna: bool = False, missing: str | None = None, sep: str | None = None,
               decimal: str | None = None, encoding: str | None = None,
               thousands: str | None = None) -> tuple[pd.DataFrame, int]:
    """Read a CSV (or Parquet) file into a numeric DataFrame.

    Parameters
    ----------
    path : str or Path
        As in :func:`read_data`.
    columns : list of str, optional
        Columns to keep (default: all).
    dropna : bool
        The same as ``missing="drop"`` (kept for existing callers).
    missing : {"marginalise", "drop", "refuse"}, optional
        Missing cells (empty, ``NA``, ``NaN``): kept as NaN for the fit to integrate out
        (the default), rows with any dropped, or refused.
    sep, decimal, encoding, thousands : str, optional
        As in :func:`read_data`.

    Returns
    -------
    (DataFrame, number of rows dropped); ValueError as :func:`read_data` raises it.
    """
    table = read_data(path, columns, missing=_missing_policy(missing, dropna), sep=sep,
                      decimal=decimal, encoding=encoding, thousands=thousands)
    return table.features, table.n_dropped


def read_data(path: str | Path, columns: list[str] | None = None, *,
              missing: str = "marginalise", weights: str | None = None,
              labels: str | None = None, index: str | None = None, sep: str | None = None,
              decimal: str | None = None, encoding: str | None = None,
              thousands: str | None = None) -> DataTable:
    """Read a CSV (or Parquet) file: numeric features, and optional weights and labels columns.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt`` or ``.parquet``/``.pq``; ``bundled:NAME`` for a shipped data set
        (``old_faithful``, ``galaxies``).
    columns : list of str, optional
        Feature columns (default: every column but the weights and labels columns).
    missing : {"marginalise", "drop", "refuse"}, default "marginalise"
        Missing feature cells (empty, ``NA``, ``NaN``): kept as NaN (the fit integrates them
        out, assuming they are missing at random), rows with any dropped (counted in
        ``n_dropped``), or refused.
    weights : str, optional
        A column of frequency weights (not a feature).
    labels : str, optional
        A column of known labels, names or numbers; empty cells (and ``-1``) are unknown (not
        a feature).
    index : str, optional
        A column of row IDs (sample names, say; not a feature): the features' index, so that
        the fits, hints and reports name each row by it. Every row needs one, each its own.
        Without it the rows are numbered 0, 1, ... in file order, header excluded. A Parquet
        file's saved pandas index is a column by its name here (unused without ``index``:
        a warning says so).
    sep : str, optional
        A text file's separator: ``","``, ``";"``, ``"|"`` or a tab (``"\t"`` or ``"tab"``);
        default: tabs for ``.tsv``/``.tab`` files, commas for others.
    decimal : {".", ","}, optional
        A text file's decimal mark (default ``"."``): ``","`` reads an export of a locale
        that writes 3,5 (with ``sep=";"``, or quoted values).
    encoding : str, optional
        A text file's encoding, a codec's name (default UTF-8, a byte-order mark allowed):
        ``"cp1252"`` for Excel's CSV on Windows in Western Europe, ``"utf-16"`` for its
        "Unicode Text"; the fingerprint ``sha256`` is of the bytes as written.
    thousands : {",", ".", "'", " "}, optional
        A text file's thousands separator (default: none): ``","`` reads "4,304" (US, UK),
        ``"."`` with ``decimal=","`` "1.234,5"; only between groups of three digits ("4,30"
        is refused, by name); not in the index and labels columns (read as written).

    Returns
    -------
    DataTable

    Raises
    ------
    ValueError
        Missing file, unreadable file, unknown column, a column named twice (feature and
        weights, say), non-numeric column (named, with an example value and its row), boolean
        column, missing values under ``"refuse"``, a feature column with no values, an index
        column that is not there, has empty cells or names a row twice (the IDs named), a weight
        that is missing, negative or infinite (with its row), weights all zero, and anything
        :func:`bayesgmm._validation.check_data` refuses (infinite values, values too large for
        float64 arithmetic, no rows), so bad data fails before any fitting starts.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(MISSING_POLICIES)}; got "
                         f"{missing!r}" + ("; did you mean 'marginalise'?"
                                           if missing == "marginalize" else ""))
    # names compared composed (NFC): a header saved on macOS spells "längd" decomposed, and
    # the name typed was "unknown ... available: ['längd']" (QA)
    columns = None if columns is None else [_nfc(c) for c in columns]
    weights, labels, index = (None if c is None else _nfc(c) for c in (weights, labels, index))
    frame, p, path, sep, digest = _read_frame(
        path, [*(columns or []), *(c for c in (weights, labels, index) if c)], index, sep,
        decimal, encoding, thousands, labels)
    parquet, mark = sep is None, decimal or "."  # the mark the cells were read with
    if index is not None and index not in frame.columns:
        # an empty name is the header's empty cell (R's row names), which pandas names
        # "Unnamed: 0" (QA138 L1: --index '' refused, naming no such column)
        blank = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
        hint = (f" (its column with no name is {blank[0]!r}: --index {shlex.quote(blank[0])})"
                if not index.strip() and blank else "")
        raise ValueError(f"the index column {index!r} is not in {path}; its columns are "
                         f"{list(frame.columns)}{hint}")
    repeated = sorted({c for c in columns or [] if list(columns).count(c) > 1})
    if repeated:
        raise ValueError(f"column(s) {repeated} listed more than once: name each feature once")
    special = {"weights": weights, "labels": labels, "index": index}
    wanted = [c for c in [*(columns or []), *(v for v in special.values() if v)]]
    unknown = [c for c in wanted if c not in frame.columns]
    if unknown:
        raise ValueError(
            f"unknown column(s) {unknown} in {path}; available: {list(frame.columns)}"
        )
    roles = [(role, column) for role, column in special.items() if column]
    for i, (role, column) in enumerate(roles):
        for other, same in roles[i + 1:]:
            if column == same:
                raise ValueError(f"column {column!r} cannot be both the {role} and the {other} "
                                 "column")
    for role, column in special.items():
        if column and columns and column in columns:
            raise ValueError(f"column {column!r} is the {role} column, not a feature: leave it "
                             "out of the feature columns")
    ids: list[str] = []  # columns of consecutive whole numbers among the default features
    if not columns:
        columns = [c for c in frame.columns if c not in special.values()]
        if columns and is_saved_index(frame[columns[0]], columns[0]):
            what = "1, 2, ... (R row names" if frame[columns[0]].iloc[0] else \
                "0, 1, ... (a saved pandas index"
            warn(f"column {columns[0]!r} of {path} holds the row numbers {what}), not "
                          "data: it is left out (name it in the feature columns to fit it)",
                          UserWarning, skip_file_prefixes=IN_PACKAGE)
            columns = columns[1:]
        unnamed = [c for c in columns if not parquet and c.startswith("Unnamed: ")]
        if unnamed and len(unnamed) < len(columns):
            # QA62: R's row names of a filtered data frame (1, 3, 4, ...) have no header name
            # and were fitted as a feature; a measured column has a name
            # QA138 M2: the rows are then numbered by position, not by these names
            warn(f"column(s) {unnamed} of {path} have no name in the header (R's "
                 f"row names, say): left out, and the rows numbered by position; to "
                 f"name the rows by {'it' if len(unnamed) == 1 else 'the first'}, "
                 f"--index {shlex.quote(unnamed[0])} (index = \"{unnamed[0]}\" in "
                 "a spec's [data])", UserWarning, skip_file_prefixes=IN_PACKAGE)
            columns = [c for c in columns if c not in unnamed]
        ids = [c for c in columns if looks_like_row_ids(frame[c])]
        if ids:
            first = frame[ids[0]]
            warn(f"column {ids[0]!r} of {path} holds consecutive whole numbers "
                 f"({first.iloc[0]}, {first.iloc[1]}, ..., {first.iloc[-1]}), like row "
                 f"IDs, and is fitted as a feature: if it names the rows, make it the "
                 f"index column (--index {shlex.quote(str(ids[0]))}, or index = "
                 f"\"{ids[0]}\" in a spec's [data]), or leave it out (--columns)",
                 UserWarning, skip_file_prefixes=IN_PACKAGE)
        if not columns:
            raise ValueError(f"{path} has no feature columns besides the weights, labels and "
                             "index columns")
    label_values = None
    if labels:
        written = None if parquet else cells_as_written(p, sep, [labels], len(frame)).get(labels)
        label_values = labels_as_written(frame[labels].copy(), written, path)
    weight_column = frame[weights] if weights else None
    row_ids = read_row_ids(frame[index], path) if index else None

    def row(position: int) -> str:  # a row in a message: by its ID when the rows have IDs
        if row_ids is None:
            line = None if parquet else file_line(p, sep, position)
            return f"row {position}" + (f", line {line} of the file" if line else "")
        name = row_ids[position]
        return f"row {index}={getattr(name, 'item', lambda: name)()!r}"

    frame = frame[list(columns)]
    if len(frame) == 0:
        raise ValueError(f"{path} has no data rows (a header only?); give a file with a row "
                         "of numbers per observation under its header")
    grouping = thousands_separator(thousands, mark)
    problems = {c: column_problem(frame[c], row, mark, grouping) for c in frame.columns}
    non_numeric = {c: why for c, why in problems.items() if why}
    if non_numeric:
        raise ValueError(
            f"column(s) {list(non_numeric)} in {path} are not numeric: "
            + "; ".join(f"{c!r} {why}" for c, why in non_numeric.items())
            + ". Nothing is converted implicitly: "
            + "".join(f"{hint}, " for hint in [reading_hint(non_numeric, sep, decimal, frame,
                                                            grouping)] if hint)
            # the row IDs just warned of left out too (QA138 M1: "--columns id,x,y", run as
            # given, fitted the IDs)
            + "fix the file, or leave the column(s) out ("
            + f"{_leaving_out(frame, [*non_numeric, *ids])})"
            # QA62: "--index mass_g" suggested where --index id was given
            + (second_header_hint(frame, non_numeric, mark)
               or ((f"; {ids[0]!r} looks like the rows' IDs: --index {shlex.quote(ids[0])}"
                    if ids and index is None else "")
                   or (index_hint(frame, non_numeric) if index is None else ""))
               # both where both apply (QA138 L3: a factor column's hint lost to a date's)
               + (labels_hint(frame, non_numeric) if not labels else "")
               + (code_columns_hint(frame, [*non_numeric, *ids]) if not labels else ""))
        )
    frame = frame.astype(np.float64)
    sample_weight = read_weights(weight_column, path, row, mark) if weights else None
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise ValueError(f"column(s) {empty} of {path} have no values at all; leave them out "
                         f"of the feature columns ({_leaving_out(frame, empty)})")
    incomplete = frame.isna().any(axis=1)
    if incomplete.any() and missing == "refuse":
        raise ValueError(
            f"{int(incomplete.sum())} row(s) of {path} have missing values (first: "
            f"{row(int(np.flatnonzero(incomplete)[0]))}); integrate them out or drop the rows: "
            '--missing marginalise or drop (a spec\'s [data]: missing = "marginalise" or "drop")'
        )
    dropped = 0
    if missing == "drop":
        if incomplete.all():
            raise ValueError(f"every row of {path} has missing values; nothing is left to fit")
        keep = ~incomplete.to_numpy()
        dropped = int(incomplete.sum())
        frame = frame.loc[keep].reset_index(drop=True)
        if sample_weight is not None:
            sample_weight = sample_weight[keep]
        if label_values is not None:
            label_values = label_values.loc[keep].reset_index(drop=True)
        if row_ids is not None:
            row_ids = row_ids[keep]
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError(f"every weight in column {weights!r} of {path} is zero once the "
                             f"{dropped} row(s) with missing values are dropped")
    if sample_weight is not None:
        check_weight_total(sample_weight, f"the weights column {weights!r} of {path}")
    infinite = np.isinf(frame.to_numpy())
    if infinite.any():
        at, col = np.argwhere(infinite)[0]
        raise ValueError(f"column {frame.columns[col]!r} of {path} is infinite at {row(at)} "
                         f"({int(infinite.sum())} infinite value(s) in all): remove the "
                         "value(s), or leave the cell(s) empty to treat them as missing")
    try:  # everything else the fit would refuse (infinite or huge values, no rows), now;
        # a missing value is checked as a 0, which the checks pass, so row numbers stay right
        check_data(frame.fillna(0.0), name=str(path))
    except ValueError as exc:
        after = (f" (row numbers count the rows left after dropping {dropped} with missing "
                 "values)") if dropped else ""
        raise ValueError(f"{exc}{after}") from None
    if row_ids is not None:  # the rows' names, once every check by position is done
        frame.index = row_ids
        if label_values is not None:
            label_values.index = row_ids
    return DataTable(features=frame, sample_weight=sample_weight, labels=label_values,
                     missing=missing, n_dropped=dropped, weights_column=weights,
                     labels_column=labels, index_column=index, sha256=digest)


def _unused_index_note(frame: pd.DataFrame, path: str) -> None:
    """Say where a Parquet file's own named row index goes unused (QA64: memberships.csv
    numbered the rows 0, 1, ... while hints named them by the file's pandas index, silently)."""
    names = [n for n in frame.index.names if n is not None]
    if names and not isinstance(frame.index, pd.RangeIndex):
        option = " ".join(f"--index {shlex.quote(str(n))}" for n in names[:1])
        warn(f"{path} has a row index ({', '.join(map(repr, names))}) that is not "
             f"used: rows are numbered 0, 1, ... in file order; to name them by it, give "
             f"{option} (index = {str(names[0])!r} in a spec)", UserWarning,
             skip_file_prefixes=IN_PACKAGE)


def _stamp(p: Path) -> tuple[int, int, int]:
    """What changes when a file is written: its size, time and inode (a replaced file's);
    cheaper than hashing it again (QA120 L1)."""
    st = p.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def _read_frame(path: str | Path, wanted: list[str], index: str | None,
                sep: str | None = None, decimal: str | None = None,
                encoding: str | None = None, thousands: str | None = None,
                labels: str | None = None
                ) -> tuple[pd.DataFrame, Path, str, str | None, str]:
    """The file's table as pandas reads it (nothing checked but the reading and the header;
    ``thousands`` separators read but in the ``index`` and ``labels`` columns), the local
    file (in UTF-8), the file as messages name it, the text separator (None: Parquet) and
    the SHA-256 of the bytes read; the rest as :func:`read_data` takes them."""
    sep, decimal = text_format(sep, decimal)
    thousands = thousands_separator(thousands, decimal)
    encoding = text_encoding(encoding)
    p = Path(local_path(str(path)))
    # as messages name it (QA93: a bundled set was named by its site-packages file)
    path = ("standard input" if str(path) == STDIN else
            str(path) if str(path).startswith("bundled:") else str(p))
    if p.is_dir():  # "not found" misled (QA: `bayesgmm em /tmp`, a spec's path = ".")
        raise ValueError(f"{path} is a directory, not a data file: give a CSV/TSV/Parquet file")
    if p.exists() and not p.is_file():  # QA: /dev/null was "not found"
        raise ValueError(f"{path} is not a regular file (a device or a pipe): save the data to "
                         "a file, or pipe them to standard input ('-' as the data file)")
    if not p.is_file():
        raise ValueError(f"data file not found: {path}")
    parquet = p.suffix.lower() in (".parquet", ".pq")
    if parquet and (sep, encoding, thousands, decimal) != (None, None, None, "."):
        raise ValueError(f"{path} is a Parquet file, whose numbers are stored as numbers: the "
                         "separator, decimal mark, thousands separator and encoding are a "
                         "text file's; leave them out")
    source = p  # the user's file: its bytes fingerprinted, its changes watched
    digest, before = file_sha256(p), _stamp(p)  # the bytes about to be read; unchanged after?
    try:
        if encoding is not None or p.suffix.lower() in COMPRESSED:
            p = plain_copy(p, encoding, path, digest)
        # by the plain copy's name: a ZIP's member says tabs (t.zip holding t.tsv; QA131)
        sep = None if parquet else separator(p, sep)
        if not parquet:
            check_header(p, sep, path, wanted)
        frame = (pd.read_parquet(p) if parquet
                 else read_text_table(p, sep, path, [index], decimal))
    except ImportError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    except UnicodeDecodeError as exc:  # the codec's words named neither the file nor a fix
        byte = exc.object[exc.start]
        raise ValueError(f"{path} is not UTF-8 text ({exc.reason}: byte 0x{byte:02x} at "
                         f"position {exc.start}): give the encoding it was saved in, e.g. "
                         "--encoding cp1252 for Excel's CSV on Windows (a spec's [data]: "
                         "encoding = \"cp1252\"), or save it as CSV UTF-8") from None
    except ValueError:
        raise
    except Exception as exc:  # pandas raises many parser errors; name the file, keep it short
        raise ValueError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    if parquet and index and index not in frame.columns and index in frame.index.names:
        frame = frame.reset_index()  # a pandas index saved in the file: a column again
    elif parquet and not index:  # rows numbered in file order, as the docstring says
        _unused_index_note(frame, path)
        frame = frame.reset_index(drop=True)
    frame.columns = [_nfc(c) for c in frame.columns]
    twice = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if twice:  # review: the same name composed and decomposed was a traceback
        raise ValueError(f"the header of {path} names column(s) {twice} more than once (in "
                         "composed and decomposed Unicode): give every column its own name")
    check_separator(frame, path, sep or ",")
    if thousands is not None:  # not in the IDs or the labels: they are read as written
        frame = frame.apply(lambda c: c if c.name in (index, labels) else with_thousands(
            c, thousands, decimal))
    if _stamp(source) != before:  # QA117 H1: a file replaced mid-run was recorded as read
        raise ValueError(f"{path} changed while it was read (is another job writing it?): "
                         "run again once the file is complete")
    return frame, p, path, sep, digest


def numeric_columns(path: str | Path, sep: str | None = None, decimal: str | None = None,
                    encoding: str | None = None, thousands: str | None = None
                    ) -> tuple[list[str], dict[str, str]]:
    """The columns of a data file that :func:`read_data` would fit by default (numbers, with
    empty cells), and the others with why not: ``"text"`` (names, codes, row IDs), ``"row
    numbers"`` (a saved pandas or R index, QA98: listed as a feature, it was fitted) or ``"no
    name"``. What a specification written for the file may list as features. ValueError as
    :func:`read_data` raises it for an unreadable file."""
    frame, _, _, read_sep, _ = _read_frame(path, [], None, sep, decimal, encoding, thousands)
    grouping = thousands_separator(thousands, decimal)
    left: dict[str, str] = {}
    if len(frame.columns) and is_saved_index(frame.iloc[:, 0], frame.columns[0]):
        left[frame.columns[0]] = "row numbers"
    for c in frame.columns:
        written = None if c in left else number_format_problem(
            frame[c], decimal=decimal or ".", thousands=grouping)
        if written:  # numbers the file writes otherwise: not text to leave out (QA106)
            hint = reading_hint({c: written}, read_sep, decimal, frame, grouping)
            raise ValueError(f"column {c!r} of {path} {written}. "
                             + (f"{hint[0].upper()}{hint[1:]}, or fix the file" if hint
                                else "Fix the file first"))
        if c not in left and column_problem(frame[c], decimal=decimal or ".",
                                            thousands=grouping):
            left[c] = "text"
        elif c not in left and read_sep is not None and str(c).startswith("Unnamed: "):
            left[c] = "no name"
    return [c for c in frame.columns if c not in left], left


def _missing_policy(missing: str | None, dropna: bool) -> str:
    """The policy from ``missing`` and the older ``dropna`` flag (an alias of "drop")."""
    if dropna:
        if missing not in (None, "drop"):
            raise ValueError(f"dropna (--dropna) means missing='drop'; it contradicts "
                             f"missing={missing!r}: give one of them")
        return "drop"
    return "marginalise" if missing is None else missing


def _leaving_out(frame: pd.DataFrame, left_out) -> str:
    """How to read only the other columns: the flag, and the spec's key."""
    kept = columns_option([c for c in frame.columns if c not in left_out])
    if not kept:  # QA62: "--columns A,B", a placeholder; QA107: beside a units row's hint
        return ("no column would be left: check the file's separator and decimal mark"
                if not second_header_hint(frame, left_out) else "no column would be left")
    return f"--columns {shlex.quote(kept)}; columns = [...] in a spec's [data]"


def _nfc(name: object) -> str:
    """A column name as text in Unicode's composed form (NFC)."""
    return unicodedata.normalize("NFC", str(name))
