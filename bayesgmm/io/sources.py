"""Where a data file's bytes come from: a path, a bundled data set (``bundled:NAME``) or
standard input (``-``), and the fingerprint that a result records of them.

Where it sits: the files layer, below :mod:`bayesgmm.io.tables` (its only user); imports
:mod:`bayesgmm.datasets` and :mod:`bayesgmm.tempdirs` (standard input's scratch copy).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from ..datasets import data_path
from ..tempdirs import scratch_directory

__all__ = ["BUNDLED", "STDIN", "file_sha256", "local_path", "stdin_file"]

BUNDLED = {"old_faithful": "old_faithful.csv", "galaxies": "galaxies.csv"}

# The data file named "-" is standard input (a pipeline: `cut ... | bayesgmm em - -k 3`).
STDIN = "-"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a data file's bytes (``bundled:NAME`` too): its fingerprint in a result's
    record, to check a copy of the data against."""
    import hashlib

    digest = hashlib.sha256()
    with open(local_path(str(path)), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_path(path: str) -> str:
    """The file to read: a bundled data set's, standard input's copy, or ``path`` itself."""
    if path == STDIN:
        return stdin_file()
    if path.startswith("bundled:"):
        name = path.split(":", 1)[1]
        if name not in BUNDLED:
            raise ValueError(f"unknown bundled data set {name!r}; choose from {list(BUNDLED)}")
        return data_path(BUNDLED[name])
    return os.path.expanduser(path)  # "~/data.csv" as pandas reads it


@functools.cache
def stdin_file() -> str:
    """Standard input, read once into a private temporary file (removed at exit): the readers
    and the fingerprint read a data file by its path, some more than once. Once per process:
    a later ``read_data("-")`` reads the same table (standard input is spent by then). Its
    suffix says its format as a file's would: ``.parquet`` by Parquet's magic bytes,
    ``.csv.gz`` by gzip's, ``.tsv`` when the first line has tabs and no commas, else
    ``.csv``."""
    import atexit
    import shutil
    import sys

    stream = sys.stdin
    if stream is None or stream.isatty():  # reading would wait for typing, in silence
        raise ValueError("the data file '-' means standard input, but nothing is piped in: "
                         "pipe the table in (cat data.csv | bayesgmm ... -) or name a file")
    data = stream.buffer.read()
    if not data.strip():
        raise ValueError("standard input ('-') is empty: pipe a CSV, TSV or Parquet table in")
    first = data.split(b"\n", 1)[0]
    suffix = (".parquet" if data[:4] == b"PAR1" else
              ".csv.gz" if data[:2] == b"\x1f\x8b" else  # read through a plain copy (QA131)
              ".tsv" if b"\t" in first and b"," not in first else ".csv")
    folder = str(scratch_directory("stdin"))  # a killed run's left is swept (QA168 L2)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    target = Path(folder) / f"stdin{suffix}"
    target.write_bytes(data)
    return str(target)
