"""A specification to edit: the shipped ``spec_template.toml`` (every key, its default and
what it means), filled in for a data file (its path, numeric columns, and how it is written),
and written atomically.

Where it sits: the files layer, beside :mod:`bayesgmm.io.specs` (which reads what this
writes, and re-exports it); imports :mod:`bayesgmm.io.tables` (the file's numeric columns)
and :mod:`bayesgmm.paths`; imported by the command line.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib import resources
from pathlib import Path

from ..paths import _umask
from .tables import numeric_columns

__all__ = ["spec_template", "write_spec_template"]

_TEMPLATE = "spec_template.toml"
_EXAMPLE_PATH = 'path = "bundled:old_faithful"     '
_EXAMPLE_COLUMNS = 'columns = ["eruptions", "waiting"] '
_EXAMPLE_SEP = '# sep = ";"                       '
_EXAMPLE_DECIMAL = '# decimal = ","                   '
_EXAMPLE_ENCODING = '# encoding = "cp1252"             '
_EXAMPLE_THOUSANDS = '# thousands = ","                 '


def spec_template(data: str | os.PathLike | None = None, *,
                  relative_to: str | os.PathLike | None = None, sep: str | None = None,
                  decimal: str | None = None, encoding: str | None = None,
                  thousands: str | None = None) -> str:
    """A specification with every key, its default and what it means: a start to edit.

    As shipped it fits the bundled Old Faithful data (``bayesgmm run`` runs it unchanged).

    Parameters
    ----------
    data : str or path-like, optional
        A data file (or ``bundled:NAME``): ``[data] path`` names it and ``columns`` lists its
        numeric columns; a comment names the others (row IDs or labels, say).
    relative_to : str or path-like, optional
        The directory the specification will be saved in: a relative ``path`` is written
        relative to it, as :func:`load_spec` reads it (default: the current directory).
    sep, decimal, encoding, thousands : str, optional
        The data file's separator, decimal mark, encoding and thousands separator (as
        :func:`bayesgmm.io.read_data` takes them): the file is read with them, and ``[data]``
        states them.

    Returns
    -------
    str
        TOML text that :func:`load_spec` accepts.

    Raises
    ------
    ValueError
        An unreadable data file, or one without a numeric column (as :func:`read_data` says).
    """
    text = resources.files(__package__).joinpath(_TEMPLATE).read_text(encoding="utf-8")
    if data is None:
        if any(v is not None for v in (sep, decimal, encoding, thousands)):
            raise ValueError("a separator, decimal mark, encoding or thousands separator is a "
                             "data file's: give "
                             "the file (--data FILE) it is for")
        return text
    data = os.fspath(data)
    if data == "-":
        raise ValueError("a specification names a data file, and standard input ('-') is "
                         "none: save the data to a file and give its path")
    numeric, other = numeric_columns(data, sep, decimal, encoding, thousands)
    if not numeric:
        raise ValueError(f"{data} has no numeric column ({', '.join(map(repr, other))} hold "
                         "text or row numbers): a mixture is fitted to numbers")
    named = data
    if not data.startswith("bundled:") and not Path(data).expanduser().is_absolute():
        try:
            named = os.path.relpath(Path(data).resolve(), Path(relative_to or ".").resolve())
        except ValueError:  # another drive (Windows): no relative path, the absolute one
            named = str(Path(data).resolve())
    path_line = f"path = {_toml_string(Path(named).as_posix() if named != data else data)}"
    columns_line = f"columns = [{', '.join(map(_toml_string, numeric))}]"
    # said where the user edits the columns: one of the others may be the rows' IDs or labels
    others = ("# not listed: " + ", ".join(f"{_toml_string(c)} ({why})" for c, why
                                           in other.items())
              + " (one may be the index or the labels column below)") if other else None
    text = _replace_line(text, _EXAMPLE_PATH, path_line.ljust(len(_EXAMPLE_PATH)))
    for key, value, example in (("sep", sep, _EXAMPLE_SEP), ("decimal", decimal,
                                                               _EXAMPLE_DECIMAL),
                                ("encoding", encoding, _EXAMPLE_ENCODING),
                                ("thousands", thousands, _EXAMPLE_THOUSANDS)):
        if value is not None:  # the file is read so: stated, no longer an example
            line = f"{key} = {_toml_string('tab' if value == chr(9) else value)}"
            text = _replace_line(text, example, line.ljust(len(example)))
    return _replace_line(text, _EXAMPLE_COLUMNS, columns_line.ljust(len(_EXAMPLE_COLUMNS)),
                         after=others)


def write_spec_template(path: str | os.PathLike, data: str | os.PathLike | None = None, *,
                        overwrite: bool = False, sep: str | None = None,
                        decimal: str | None = None, encoding: str | None = None,
                        thousands: str | None = None) -> Path:
    """Write :func:`spec_template` to the file ``path`` (all at once: a reader sees the old
    file or the new one) and return its path; an existing file is replaced only with
    ``overwrite``, and never the data file itself."""
    target = Path(os.path.expanduser(os.fspath(path)))
    if target.is_dir():
        raise ValueError(f"{path} is a directory: give the specification's file name, e.g. "
                         f"{target / 'model.toml'}")
    if data is not None and target.exists() and not os.fspath(data).startswith("bundled:") \
            and target.resolve() == Path(os.path.expanduser(os.fspath(data))).resolve():
        raise ValueError(f"{path} is the data file: give the specification another name")
    if target.is_symlink():  # replacing it would put a file where the user's link was
        raise ValueError(f"{path} is a symbolic link: give the file it points to, or another "
                         "name")
    if target.exists() and not overwrite:
        raise ValueError(f"{path} exists: give another file name, or --force to replace it")
    if not target.parent.is_dir():
        raise ValueError(f"no directory {target.parent}: create it first, or give another path")
    text = spec_template(data, relative_to=target.parent, sep=sep, decimal=decimal,
                         encoding=encoding, thousands=thousands)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # named by the file asked for, not the hidden temporary (QA117 L3)
        exc.filename = os.fspath(path)
        raise
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # mkstemp's is private (QA98: 0600): a new file's mode, or the one it replaces
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string (JSON's escapes are TOML's; TOML escapes DEL too,
    QA98)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _replace_line(text: str, start: str, line: str, after: str | None = None) -> str:
    """``text`` with its line that begins with ``start`` begun with ``line`` instead (its
    comment kept), and the line ``after`` below it."""
    head, found, rest = text.partition("\n" + start)
    if not found:
        raise RuntimeError(f"the shipped {_TEMPLATE} has no line {start.strip()!r}")
    end, newline, tail = rest.partition("\n")
    # a line longer than the example's runs into its comment: a space between (QA106)
    gap = "" if not end or line.endswith(" ") or end.startswith(" ") else " "
    return head + "\n" + line + gap + end + newline + (f"{after}\n" if after else "") + tail
