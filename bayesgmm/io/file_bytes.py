"""What a data file's bytes are, before a table is read from them: compressed (gzip, bzip2,
xz, zip, zstd), text in an encoding other than UTF-8, or no text table at all (a workbook, a
Parquet file under a .csv name, UTF-16 without its byte-order mark); a file compressed or in
another encoding is read through a private plain UTF-8 copy, so that every reader of
:mod:`bayesgmm.io.text_files` reads one kind of file.

Where it sits: the files layer, below :mod:`bayesgmm.io.text_files`,
:mod:`bayesgmm.io.tables` and :mod:`bayesgmm.io.specs` (its users); imports
:mod:`bayesgmm.tempdirs` (its scratch copies' directory).
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..tempdirs import scratch_directory

__all__ = ["COMPRESSED", "plain_copy", "refuse_binary", "refuse_binary_bytes", "text_encoding"]

# Suffixes of compressed files: read through a plain copy (plain_copy).
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")
# The first bytes of files that are not text tables, and what to do instead. QA: each got
# "not UTF-8 ... iconv -f latin1", which would turn a workbook or a gzip stream into garbage.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook, say), not a text table: save the "
                    "sheet as CSV (UTF-8)"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook, not a text table: save the sheet as CSV "
                          "(UTF-8)"),
    (b"PAR1", "a Parquet file: name it .parquet"),
    (b"\xff\xfe", "UTF-16 text (Excel's \"Unicode Text\"): read it with --encoding utf-16 (a "
                  "spec's [data]: encoding = \"utf-16\"), or save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 text: read it with --encoding utf-16 (a spec's [data]: encoding = "
                  "\"utf-16\"), or save it as UTF-8"),
    (b"\x1f\x8b", "gzip-compressed: name it .csv.gz (or .tsv.gz), or decompress it (gunzip)"),
)



def text_encoding(encoding: str | None) -> str | None:
    """A text file's encoding as a user names it (``"cp1252"``, ``"latin-1"``,
    ``"utf-16"``), checked, as Python's codec names it; None where the file is read as UTF-8
    (the default, a byte-order mark allowed). QA115: German Excel's default CSV export is
    Windows-1252, and the only fix named was iconv, which a lab's Windows PC does not have."""
    if encoding is None:
        return None
    import codecs

    try:
        name = codecs.lookup(encoding).name
        "a,1\n".encode(name).decode(name)  # a codec of text (QA128: rot13, base64 passed)
    except (LookupError, TypeError, UnicodeError):
        hint = _WINDOWS_NAMES.get(str(encoding).strip().lower())
        raise ValueError(f"unknown text encoding {encoding!r}: give a codec's name, e.g. "
                         + (hint or "'cp1252' (Excel's on Windows in Western Europe), "
                                    "'latin-1' or 'utf-16'")) from None
    return None if name in ("utf-8", "utf-8-sig") else name


# What Windows' dialogs call encodings, and the codec names they mean (QA128 L2).
_WINDOWS_NAMES = {
    "ansi": "'cp1252' (what Windows calls ANSI in Western Europe; cp1250 in Central Europe, "
            "cp1251 for Cyrillic)",
    "unicode": "'utf-16' (what Windows calls Unicode)",
    "utf-8 with bom": "'utf-8', or leave the encoding out (UTF-8 is the default, a byte-order "
                      "mark allowed)",
}


def plain_copy(p: Path, encoding: str | None, path: Any, digest: str) -> Path:
    """``p``, compressed (by its name: gzip, bzip2, xz, zip, zstd) and/or a text file written
    in ``encoding`` (:func:`text_encoding`'s name; None: UTF-8), as a private plain UTF-8 copy
    (removed at exit) that the readers read as any other file; ``path``: the file as messages
    name it; ``digest``: its bytes' SHA-256, which keys the copy (QA127: a file edited within
    its size and time was read from an old copy). QA128: the readers' checks read a .csv.gz's
    compressed bytes as text (a valid file refused, naming binary garbage)."""
    return Path(_plain_copy(str(p), encoding, str(path), digest))


def _plain_copy(p: str, encoding: str | None, path: str, digest: str) -> str:
    """:func:`plain_copy`, once per file version (by its bytes) and encoding: a file read
    again unchanged reuses its copy, and a new version's copy replaces the old one (QA131
    M2: every version read stayed in the temp folder until the process exited). Without an
    encoding the file is decompressed as a stream, never whole in memory (QA131 M2: a
    .csv.gz's decompressed bytes held at once, +43% peak memory over pandas' own reading)."""

    key = (p, encoding)
    with _COPIES_LOCK:  # one copy per version, also when threads read the file at once
        known = _COPIES.get(key)  # (QA141 M1: four threads left three copies behind)
        if known is not None and known[0] == digest and Path(known[1]).is_file():
            return known[1]
        return _new_copy(key, p, encoding, path, digest, known)


def _new_copy(key: tuple[str, str | None], p: str, encoding: str | None, path: str,
              digest: str, known: tuple[str, str] | None) -> str:
    """:func:`_plain_copy`'s copy of a version not copied yet, replacing ``known``."""
    import shutil

    folder = scratch_directory("text")  # a killed run's left is swept (QA168 L2)
    try:
        with _decompressed(Path(p), path) as (source, name):
            target = folder / name  # the suffix says tabs or commas, as the file's does
            if encoding is None:
                with open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            else:  # the checks of a named encoding read the whole text
                target.write_bytes(_decoded(source.read(), encoding, path).encode("utf-8"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if known is not None:
        shutil.rmtree(Path(known[1]).parent, ignore_errors=True)
    _COPIES[key] = (digest, str(target))
    return str(target)


# (file, encoding) -> (the version's SHA-256, its plain copy), removed at exit
_COPIES: dict[tuple[str, str | None], tuple[str, str]] = {}
_COPIES_LOCK = threading.Lock()


@atexit.register
def _remove_copies() -> None:
    import shutil

    for _, target in _COPIES.values():
        shutil.rmtree(Path(target).parent, ignore_errors=True)


@contextlib.contextmanager
def _decompressed(p: Path, path: str) -> Iterator[tuple[BinaryIO, str]]:
    """The file's bytes as a binary stream, decompressed where its name says so, and its name
    without the compression's suffix."""
    suffix = p.suffix.lower()
    if suffix not in COMPRESSED:
        with open(p, "rb") as plain:
            yield plain, p.name
        return
    import importlib

    try:
        with contextlib.ExitStack() as stack:
            if suffix == ".zip":
                import zipfile

                archive = stack.enter_context(zipfile.ZipFile(p))
                # not macOS Finder's resource entries (__MACOSX/, ._name; QA131)
                members = [m for m in archive.namelist() if not m.endswith("/")
                           and not m.startswith("__MACOSX/")
                           and not Path(m).name.startswith("._")]
                if len(members) != 1:
                    raise ValueError(f"{path} is a ZIP archive of {len(members)} files: give "
                                     "one file (a ZIP of one CSV, or the CSV itself)")
                # its own name says tabs or commas (t.zip holding t.tsv)
                stream, name = stack.enter_context(archive.open(members[0])), Path(
                    members[0]).name
            elif suffix == ".zst":
                raw = stack.enter_context(open(p, "rb"))
                stream, name = stack.enter_context(importlib.import_module(
                    "zstandard").ZstdDecompressor().stream_reader(raw)), p.stem
            else:
                module = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}[suffix]
                stream, name = stack.enter_context(
                    importlib.import_module(module).open(p, "rb")), p.stem
            yield stream, name
    except ImportError as exc:  # zstandard (optional), or a Python built without lzma
        raise ValueError(f"{path} needs the {exc.name} module to be read, which is not "
                         "installed: decompress it first") from None
    except Exception as exc:  # noqa: BLE001 - OSError, EOFError, zipfile.BadZipFile, the
        # zstd codec's own error: a file its name says is compressed and is not (QA141 L5)
        if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path} cannot be decompressed ({exc}): check the file, or "
                         "decompress it yourself") from None


def _decoded(data: bytes, encoding: str, path: str) -> str:
    """``data`` as text in ``encoding``. A file that is no text table is refused as such
    first (a workbook decodes as Windows-1252 too, into garbage), except by the UTF-16/32
    codecs it needs; so is UTF-8 text named as another encoding (QA128: a UTF-8 file read as
    cp1252 was fitted with its names garbled, 'KÃ¤lte', exit 0)."""
    if not encoding.startswith(("utf-16", "utf-32")):
        refuse_binary_bytes(data[:1 << 12], data[-4:], path)
        if not data.isascii():
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                pass
            else:
                sample = next(c for c in text if ord(c) > 127)
                raise ValueError(f"{path} is UTF-8 text (its bytes read as UTF-8, e.g. "
                                 f"{sample!r}), not {encoding}: leave the encoding out")
    try:
        text = data.decode(encoding)
    except UnicodeError as exc:
        where = (f": byte 0x{exc.object[exc.start]:02x} at position {exc.start}"
                 if isinstance(exc, UnicodeDecodeError) else "")
        raise ValueError(f"{path} is not {encoding} text ({getattr(exc, 'reason', exc)}"
                         f"{where}): give the encoding it was saved in") from None
    return text.removeprefix("\ufeff")


def refuse_binary(p: Path, path: Any) -> None:
    """One line naming what a file that is no text table is (:data:`_SIGNATURES`), and what
    to do, instead of a decoding error; a compressed file's name lets pandas open it."""
    if p.suffix.lower() in COMPRESSED:
        return
    with open(p, "rb") as f:
        start = f.read(1 << 12)
        f.seek(max(p.stat().st_size - 4, 0))
        tail = f.read(4)
    refuse_binary_bytes(start, tail, path)


def refuse_binary_bytes(start: bytes, tail: bytes, path: Any) -> None:
    """:func:`refuse_binary` on a file's first 4,096 and last 4 bytes."""
    head = start[:4]
    for magic, what in _SIGNATURES:
        # Parquet ends as it starts: a CSV whose first column is named PAR1... is a CSV
        if head.startswith(magic) and (magic != b"PAR1" or tail == magic):
            raise ValueError(f"{path} is {what}")
    odd, even = start[1::2], start[0::2]
    if len(start) >= 8 and max(odd.count(0), even.count(0)) > 0.9 * len(odd):
        # ASCII text in UTF-16 without a byte-order mark: every other byte 0 (review), the
        # high ones: second in little-endian order, first in big-endian (QA128 L1)
        order = "le" if odd.count(0) >= even.count(0) else "be"
        raise ValueError(f"{path} looks like UTF-16 text (without a byte-order mark): read it "
                         f"with --encoding utf-16-{order} (a spec's [data]: encoding = "
                         f"\"utf-16-{order}\"), or save it as UTF-8")
    if b"\x00" in start:  # QA: a binary file was "tab-separated (its header is '\x00...')"
        raise ValueError(f"{path} holds binary data (NUL bytes), not a text table: give a "
                         "CSV/TSV file (UTF-8) or a Parquet file")
